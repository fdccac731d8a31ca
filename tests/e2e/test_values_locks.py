"""Values by re-execution with threads blocked in C on one lock (issue 14): which of
several waiting threads obtains a semaphore is the kernel's choice while recording;
the replay must hand every lock to the thread the recording did (recorder/libc/locks.c),
or the values diverge ("the recording has an event of thread N next, which never came").

progs_values/locks_contend.py: consumers blocked in queue.SimpleQueue.get (C), a
threading.Lock and a Condition's wait (C) contended by many threads; it prints what
each consumer and collector received. Each recording is replayed from another
directory with the program gone, stopped in each consumer as it ends and at the
program's last line (late in the run), and `p` must show exactly what the recording
printed, without a divergence. Several
recordings, as each run's interleaving differs.
"""

import importlib.util
import os
import re
import unittest

import pyreader as pr
import rwtest
import test_values
import tracerewrite as tr

PROGS = test_values.PROGS
SEP = test_values.SEP


class LockOrder(rwtest.TestCase):
    record_elsewhere = test_values.Values.record_elsewhere
    replay_answers = test_values.Values.replay_answers

    def check_once(self, name):
        with open(os.path.join(PROGS, name)) as f:
            text = f.read()
        stop, = [n for n, t in enumerate(text.splitlines(), 1) if re.search(r"#\s*STOP\s*$", t)]
        rec, play_dir = self.record_elsewhere(name)
        values = [m.groups() for m in re.finditer(r"^([A-Za-z_]\w*)=(.*)$", rec.stdout, re.M)]
        self.assertEqual([v for v, _ in values], ["got", "took", "order"], rec.stdout)
        mine, = [n for n, t in enumerate(text.splitlines(), 1) if "got[name] = mine" in t]
        got_d, took_d = eval(values[0][1]), eval(values[1][1])
        # In each consumer thread as it ends (late in the run): its name and items.
        cmds = [f"break {mine}", f"break {stop}"]
        for _ in got_d:
            cmds += ["continue", "p (name, mine)", f"p {SEP!r}"]
        cmds += ["continue"]
        for var, _ in values:
            cmds += [f"p {var}", f"p {SEP!r}"]
        # Back a few steps (a new engine, run again from the start) and forwards again.
        cmds += ["rstep", "rstep", "continue"]
        for var, _ in values:
            cmds += [f"p {var}", f"p {SEP!r}"]
        got, why = self.replay_answers(play_dir, cmds)
        self.assertNotIn("diverged", why)
        n = len(got_d)
        self.assertEqual(sorted(got[:n]), sorted(repr(kv) for kv in got_d.items()), why)
        self.assertEqual(got[n:], [rep for _, rep in values] * 2, why)
        # Every consumer and collector took part, and every item went to one of each.
        self.assertEqual(sorted(i for v in got_d.values() for i in v), list(range(240)))
        self.assertEqual(sorted(i for v in took_d.values() for i in v), list(range(240)))
        return got_d

    def test_contended_locks_replay(self):
        for _ in range(3):
            self.check_once("locks_contend.py")

    def test_a_turn_that_never_comes_names_what_each_thread_waits_for(self):
        """A lock turn that never comes is a divergence, and its message says what
        every thread waiting inside a lock's wrapper waits for: its turn, the lock's
        release, or the run to reach a place. The trace is edited so that the thread
        blocked in `lock.acquire()` has the recording's acquisition 3 of that lock,
        which no thread makes (it made acquisition 1); the main thread, in `t.join()`,
        has its turn at the thread's end lock and waits for its release; the recorded
        order's next event is the blocked thread's."""
        prog = self.write("handoff.py", """\
import threading
import time

lock = threading.Lock()
lock.acquire()
got = []


def taker():
    lock.acquire()  # blocks in C until the main thread lets it go
    got.append("taken")


t = threading.Thread(target=taker)
t.start()
time.sleep(0.2)
lock.release()
t.join()
print(got)
""")
        trace = os.path.join(self.tmp, "h.rwd")
        rec = rwtest.run([rwtest.rewind_bin(), "record", "-o", trace, prog], cwd=self.tmp)
        self.assertEqual(rec.returncode, 0, rec.stderr[-2000:])
        frames, header = tr.load(trace)
        lock = None
        for fr in frames:
            if fr.type != pr.FRAME_INPUTS:
                continue
            fs = tr.fields(fr.payload)
            for f in fs:
                inp = tr.fields(f[2]) if f[0] == 1 else []
                d = {num: v for num, _, v in inp}
                # Thread 2's sem_wait (the key's second number 0): the blocking acquire.
                if d.get(1) == 2 and d.get(4) == 240 and d.get(8, b"")[8:9] == b"\0":
                    self.assertEqual(d[9], (1).to_bytes(4, "little"), d)
                    lock = int.from_bytes(d[8][:4], "little")
                    for g in inp:
                        if g[0] == 9:
                            g[2] = (3).to_bytes(4, "little")
                    f[2] = tr.encode(inp)
            fr.payload = tr.encode(fs)
        self.assertIsNotNone(lock, "no blocking acquisition of thread 2 in the trace")
        bad = os.path.join(self.tmp, "bad.rwd")
        tr.save(header, frames, bad)
        out = rwtest.run([rwtest.rewind_bin(), "replay", bad], cwd=self.tmp, timeout=120,
                         stdin="c\nquit\n")
        text = out.stdout + out.stderr
        self.assertIn(f"thread 2 waits for its turn at lock {lock:08x} (the recording's "
                      "acquisition 3, by sem_wait), but acquisition 1 of that lock never "
                      "came (the recording's next event (", text)
        # Each waiter's claim was let go after a second without progress, and said so.
        self.assertRegex(text, r"never came \(the recording's next event \(\d+\) is thread 2's; "
                               r"thread 1 has its turn \(acquisition \d+\) at lock [0-9a-f]{8} "
                               r"and waits for the lock's release; "
                               r"thread 1 let its claim on event \d+ go at event \d+, after a "
                               r"second without progress while it waited for the lock's release; "
                               r"thread 2 waits for its turn "
                               rf"\(acquisition 3\) at lock {lock:08x}; "
                               r"thread 2 let its claim on event \d+ go at event \d+, after a "
                               r"second without progress while it waited for its turn; "
                               r"(the GIL is free|thread \d holds the GIL)\)")

    @unittest.skipUnless(importlib.util.find_spec("test.test_queue"),
                         "CPython's test package (libpython3.11-testsuite) is not installed")
    def test_cpython_test_queue(self):
        """CPython's test_queue (hundreds of threads on SimpleQueue and Queue) replays to
        its last events, every event checked against the log on the way (before
        locks were ordered it diverged after some 400,000 events)."""
        trace = os.path.join(self.tmp, "q.rwd")
        rec = rwtest.run([rwtest.rewind_bin(), "record", "-o", trace, "-m", "unittest",
                          "test.test_queue.PySimpleQueueTest", "test.test_queue.CQueueTest"],
                         cwd=self.tmp, timeout=300)
        self.assertEqual(rec.returncode, 0, rec.stderr[-2000:])
        events = int(re.search(r"recorded ([\d,]+) events", rec.stderr).group(1).replace(",", ""))
        self.assertGreater(events, 1000000)
        late = events - 300
        out = rwtest.run([rwtest.rewind_bin(), "replay", trace], cwd=self.tmp, timeout=600,
                         stdin=f"goto {late}\np 6 * 7\nquit\n")
        self.assertNotIn("diverged", out.stdout + out.stderr, out.stdout[-3000:])
        self.assertIn("(rewind) 42\n", out.stdout, out.stdout[-3000:])


if __name__ == "__main__":
    unittest.main()

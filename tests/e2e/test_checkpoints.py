"""Checkpoints of the re-execution engine (issue 15): reverse commands with values
(rstep, rnext, rreturn, rcontinue to a breakpoint, goto backwards) at random positions
(fixed seed) give the same answers with checkpoints as with a replay from the start
(--checkpoints 0); a backward move resumes a checkpoint instead of starting a new
engine; the live checkpoint processes stay within the number and memory limits.

REWIND_ENGINE_LOG names a file where the engine writes one line per start, checkpoint
taken ("take POS PID"), handed the run ("resume POS PID TARGET") and dropped ("drop POS
PID"); REWIND_CHECKPOINT_EVERY fixes their spacing in events (otherwise it follows the
engine's speed), so that the runs below do not depend on the machine's load.
"""

import os
import random
import re
import select
import subprocess
import time
import unittest

import rwtest

PROG = '''\
import random

def step(state, i):
    x = state["acc"]
    x = (x * 31 + i + random.randrange(7)) % 1000003
    state["acc"] = x
    state["hist"].append(x % 97)
    if len(state["hist"]) > 50:
        del state["hist"][:10]
    return x

def block(state, n):
    total = 0
    for i in range(n):
        total += step(state, i)  # BREAK
    return total

def main():
    state = {"acc": 1, "hist": []}
    grand = 0
    for k in range(60):
        grand += block(state, 400)
    print(grand)

main()
'''

# Grows by about 1 MiB every 40 blocks: the checkpoints hold more the older they are.
MEMPROG = '''\
def block(keep, k):
    s = 0
    for i in range(300):
        s += i * k
    keep.append(bytearray(b"x" * 25000))
    return s

keep = []
t = 0
for k in range(1500):
    t += block(keep, k)
print(t, len(keep))
'''

# Threads in the middle of the run only: checkpoints before the first starts and after
# the last ends (a fork copies one thread), none while they run.
THREADPROG = '''\
import threading

def block(state, n):
    total = 0
    for i in range(n):
        x = (state["acc"] * 31 + i) % 1000003
        state["acc"] = x
        total += x
    return total

state = {"acc": 1}
grand = 0
for k in range(25):
    grand += block(state, 400)

lock = threading.Lock()
shared = []
def worker(w):
    mine = {"acc": w}
    for k in range(10):
        v = block(mine, 200)
        with lock:
            shared.append((w, v % 97))

threads = [threading.Thread(target=worker, args=(w,)) for w in range(3)]
for t in threads:
    t.start()
for t in threads:
    t.join()

for k in range(25):
    grand += block(state, 400)
print(grand, len(shared))
'''

# Writes one word on each of 4000 pages (a 16 MB list's slots) again and again: every
# checkpoint costs the run after it a copy of each of those pages.
HEAVYPROG = '''\
data = [0] * 2_000_000
for k in range(PASSES):
    for i in range(0, len(data), 512):
        data[i] = k
print(sum(data[::512]))
'''

# Every frame's int locals, in any function the stop is in.
SHOW = "p sorted((k, v) for k, v in locals().items() if type(v) is int)"


def log_lines(path):
    if not os.path.exists(path):
        return []
    with open(path) as f:
        return [line.split() for line in f if line.strip()]


def engine_pids(trace):
    """Live processes of engines (and their checkpoints) for trace: same command line;
    a zombie has none."""
    pids = []
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        try:
            with open(f"/proc/{name}/cmdline", "rb") as f:
                argv = f.read().split(b"\0")
        except OSError:
            continue
        if b"__engine" in argv and trace.encode() in argv:
            pids.append(int(name))
    return pids


def private_dirty(pid):
    try:
        with open(f"/proc/{pid}/smaps_rollup") as f:
            m = re.search(r"^Private_Dirty:\s+(\d+) kB", f.read(), re.M)
            return int(m.group(1)) * 1024 if m else 0
    except OSError:
        return 0


class Session:
    """`rewind replay` driven one command at a time (reads up to the next prompt)."""

    def __init__(self, argv, env):
        self.p = subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                  stderr=subprocess.STDOUT, env=rwtest.clean_env(env))
        self.read()

    def read(self, timeout=60):
        out = b""
        end = time.monotonic() + timeout
        while not out.endswith(b"(rewind) "):
            left = end - time.monotonic()
            if left <= 0 or not select.select([self.p.stdout], [], [], left)[0]:
                raise AssertionError("no prompt from rewind replay: " + out.decode())
            chunk = os.read(self.p.stdout.fileno(), 65536)
            if not chunk:
                raise AssertionError("rewind replay ended: " + out.decode())
            out += chunk
        return out.decode(errors="replace")

    def cmd(self, line):
        self.p.stdin.write(line.encode() + b"\n")
        self.p.stdin.flush()
        return self.read()

    def close(self):
        try:
            self.p.stdin.write(b"q\n")
            self.p.stdin.close()
        except OSError:
            pass
        self.p.wait(timeout=30)
        self.p.stdout.close()


def zygotes(log):
    """The pids of the stops' zygotes (server.c: each stop's first question forks one
    that forks again for every question) and of the copies they made: not
    checkpoints."""
    z = {int(e[1]) for e in log_lines(log) if e[0] == "zygote"}
    for pid in list(os.listdir("/proc")):
        if not pid.isdigit():
            continue
        try:
            with open(f"/proc/{pid}/stat") as f:
                ppid = int(f.read().rsplit(")", 1)[1].split()[1])
        except (OSError, ValueError, IndexError):
            continue
        if ppid in z:
            z.add(int(pid))
    return z


class TestCheckpoints(rwtest.TestCase):

    def record_prog(self, text, name="prog.py"):
        path = self.write(name, text)
        rec = self.record(path)
        self.assertEqual(rec.returncode, 0, rec.stderr)
        nevents = int(re.search(r"recorded ([\d,]+) events", rec.stderr).group(1)
                      .replace(",", ""))
        return rec.trace, nevents

    def replay(self, trace, cmds, log, *options, every=None):
        env = {"REWIND_ENGINE_LOG": log}
        if every:
            env["REWIND_CHECKPOINT_EVERY"] = str(every)
        proc = rwtest.run([rwtest.rewind_bin(), "replay", "--no-rc", *options, trace],
                          stdin="".join(c + "\n" for c in cmds) + "q\n", env=env,
                          timeout=240)
        self.assertEqual(proc.returncode, 0, proc.stderr)
        return proc.stdout

    def test_reverse_values_match_a_replay_from_the_start(self):
        trace, nevents = self.record_prog(PROG)
        line = PROG.splitlines().index(
            "        total += step(state, i)  # BREAK") + 1
        rnd = random.Random(15)
        cmds = [f"break prog.py:{line}", "disable 1"]
        for _ in range(6):
            pos = rnd.randrange(nevents // 10, nevents - 1000)
            cmds += [f"goto {pos}", SHOW, "rstep", SHOW, "rnext", SHOW, "rreturn", SHOW,
                     "enable 1", "rcontinue", SHOW, "disable 1",
                     f"goto {rnd.randrange(1000, pos)}", SHOW, "rstep", SHOW]
        on_log = os.path.join(self.tmp, "on.log")
        off_log = os.path.join(self.tmp, "off.log")
        on = self.replay(trace, cmds, on_log, "--checkpoints", "6", every=20000)
        off = self.replay(trace, cmds, off_log, "--checkpoints", "0")
        self.assertEqual(on, off)
        # Values were shown (not errors): 6 rounds of 6 questions.
        shown = re.findall(r"^(?:\(rewind\) )*\[\('", on, re.M)
        self.assertGreaterEqual(len(shown), 30, on[-3000:])
        self.assertNotIn("***", on)
        on_events = log_lines(on_log)
        starts = [e for e in on_events if e[0] == "start"]
        resumes = [e for e in on_events if e[0] == "resume"]
        self.assertEqual(len(starts), 1, on_events)  # never restarted
        self.assertGreaterEqual(len(resumes), 20, on_events)
        for e in resumes:  # a checkpoint at or before the target
            self.assertLessEqual(int(e[1]), int(e[3]))
        # Without checkpoints each backward move is a new engine from the start.
        off_events = log_lines(off_log)
        self.assertGreaterEqual(len([e for e in off_events if e[0] == "start"]), 20)
        self.assertFalse([e for e in off_events if e[0] in ("take", "resume")])

    def test_threads_take_checkpoints_where_one_runs(self):
        trace, nevents = self.record_prog(THREADPROG, "threads.py")
        spans = {}  # each worker's first and last event
        for e in rwtest.events(trace):
            if e.get("thread", 1) != 1 and "pos" in e:
                a, b = spans.get(e["thread"], (e["pos"], e["pos"]))
                spans[e["thread"]] = (min(a, e["pos"]), max(b, e["pos"]))
        self.assertEqual(len(spans), 3, spans)
        first = min(a for a, _ in spans.values())
        last = max(b for _, b in spans.values())
        self.assertTrue(20000 < first and last < nevents - 20000, (first, last, nevents))
        rnd = random.Random(3)
        show = "p (k, state['acc'], len(shared) if 'shared' in globals() else None)"
        cmds = []
        spots = ([rnd.randrange(1000, first) for _ in range(3)] +
                 [rnd.randrange(first, last) for _ in range(3)] +
                 [rnd.randrange(last, nevents - 100) for _ in range(3)])
        for pos in sorted(spots, reverse=True):  # each move goes back
            cmds += [f"goto {pos}", show, "where", "rstep", show]
        on_log = os.path.join(self.tmp, "on.log")
        off_log = os.path.join(self.tmp, "off.log")
        on = self.replay(trace, cmds, on_log, "--checkpoints", "20", every=5000)
        off = self.replay(trace, cmds, off_log, "--checkpoints", "0")
        self.assertEqual(on, off)
        self.assertNotIn("***", on)
        self.assertGreaterEqual(len(re.findall(r"^(?:\(rewind\) )*\(\d+, \d+, ", on, re.M)), 18,
                                on[-3000:])
        events = log_lines(on_log)
        taken = [int(e[1]) for e in events if e[0] == "take"]
        self.assertTrue([p for p in taken if p < first], events)
        self.assertTrue([p for p in taken if p > last], events)
        # None while a worker ran (a thread is started a few events before its first
        # one, and its state goes a few events after its last); between two workers
        # (one may end before the main thread starts the next) there may be some.
        self.assertFalse([p for p in taken for a, b in spans.values() if a + 50 < p < b - 50],
                         (events, spans))
        self.assertEqual(len([e for e in events if e[0] == "start"]), 1, events)
        self.assertGreaterEqual(len([e for e in events if e[0] == "resume"]), 8, events)

    def test_backward_move_resumes_a_checkpoint(self):
        trace, nevents = self.record_prog(PROG)
        log = os.path.join(self.tmp, "e.log")
        s = Session([rwtest.rewind_bin(), "replay", "--no-rc", trace],
                    {"REWIND_ENGINE_LOG": log, "REWIND_CHECKPOINT_EVERY": "30000"})
        try:
            far = nevents - 5000
            a = s.cmd(f"goto {far}") + s.cmd(SHOW)
            first = [e for e in log_lines(log) if e[0] == "start"]
            self.assertEqual(len(first), 1)
            engine = int(first[0][1])
            b = s.cmd("goto 100000") + s.cmd(SHOW)
            events = log_lines(log)
            self.assertEqual([e for e in events if e[0] == "start"], first)
            resume = [e for e in events if e[0] == "resume"]
            self.assertEqual(len(resume), 1, events)
            self.assertTrue(100000 <= int(resume[0][3]) < 100100, resume)
            self.assertLessEqual(int(resume[0][1]), 100000)
            # The first engine handed over and ended; the checkpoint serves now.
            self.assertNotIn(engine, engine_pids(trace))
            self.assertIn(int(resume[0][2]), engine_pids(trace))
            # And forwards again, to the same values as the first time.
            c = s.cmd(f"goto {far}") + s.cmd(SHOW)
            self.assertEqual(c.split("\n", 1)[1], a.split("\n", 1)[1])
            self.assertIn("[(", b)
        finally:
            s.close()

    def test_a_move_hands_over_hundreds_of_checkpoints(self):
        """More checkpoints than one message can pass (200 descriptors a message): a
        move back hands them all to the checkpoint that takes over, which can in turn
        hand the run to one of those that came in the last message."""
        trace, nevents = self.record_prog(PROG)
        log = os.path.join(self.tmp, "e.log")
        cmds = [f"goto {nevents - 100}", SHOW, "goto 40000", SHOW,
                f"goto {nevents - 20000}", SHOW]
        s = Session([rwtest.rewind_bin(), "replay", "--no-rc", "--checkpoints", "400",
                     "--checkpoint-memory", "0", trace],
                    {"REWIND_ENGINE_LOG": log, "REWIND_CHECKPOINT_EVERY": "3000"})
        try:
            out = [s.cmd(c) for c in cmds[:2]]
            taken = [e for e in log_lines(log) if e[0] == "take"]
            self.assertGreater(len(taken), 250)
            live = len(set(engine_pids(trace)) - zygotes(log))
            out += [s.cmd(c) for c in cmds[2:4]]
            out += [s.cmd(c) for c in cmds[4:]]
            events = log_lines(log)
            resumes = [e for e in events if e[0] == "resume"]
            self.assertEqual(len(resumes), 2, resumes)
            self.assertLessEqual(int(resumes[0][1]), 40000)
            # The second comes from a checkpoint the first got in its last message:
            # one of the newest, near the run's end.
            self.assertGreater(int(resumes[1][1]), nevents - 30000)
            self.assertEqual([e for e in events if e[0] == "start"][1:], [])
            # None was lost on the way: every handed-over socket still holds its copy
            # (each handover ends the engine and adds the resumed one's stand-in).
            for _ in range(100):
                now = len(set(engine_pids(trace)) - zygotes(log))
                if now >= live - 2:
                    break
                time.sleep(0.05)
            self.assertGreaterEqual(now, live - 2)
        finally:
            s.close()
        off = self.replay(trace, cmds, os.path.join(self.tmp, "off.log"),
                          "--checkpoints", "0")
        # Each command's answer, as a replay from the start gives it.
        off_answers = [a.strip() for a in off.split("(rewind) ")[1:1 + len(cmds)]]
        self.assertEqual([o.replace("(rewind) ", "").strip() for o in out], off_answers)
        for a in out[1::2]:
            self.assertIn("[(", a)

    def test_spacing_follows_what_a_checkpoint_costs(self):
        """The engine reads, at each periodic checkpoint, how many pages the run since
        the previous one copied (the previous copy's private memory) and stretches the
        spacing so that their faults stay under a tenth of the running time, between
        250 ms and 1 s ("spacing MS PAGES FAULT_US FORK_MS" lines). A program that
        rewrites 4000 pages between two checkpoints is seen copying them; the small
        loop of PROG copies a few hundred."""
        def spacings(text, name):
            trace, _ = self.record_prog(text, name)
            log = os.path.join(self.tmp, name + ".log")
            self.replay(trace, ["goto @end", "p 1+1"], log)
            lines = [e for e in log_lines(log) if e[0] == "spacing"]
            for e in lines:
                ms, pages, fault_us, fork_ms = map(float, e[1:5])
                self.assertGreater(fault_us, 0, e)
                want = (fork_ms + pages * fault_us / 1000) / 0.1
                want = min(max(want, 250), 1000)
                self.assertLessEqual(abs(ms - want), 2 + want * 0.01, e)
            return lines

        heavy = spacings(HEAVYPROG.replace("PASSES", "1500"), "heavy.py")
        # The first one counts the start's pages too; the next ones the loop's. A pass
        # of the loop rewrites 3,907 pages in about a millisecond, so a spacing holds
        # whole passes, unless a machine busy with other work leaves the replay off
        # its CPU for most of it (a run beside three other replay loops and a full
        # ctest saw intervals of 0 to 120 pages after the first ones): at least one.
        self.assertGreaterEqual(len(heavy), 2, heavy)
        self.assertGreaterEqual(max(float(e[2]) for e in heavy[1:]), 3500, heavy)
        light = spacings(PROG.replace("range(60)", "range(1500)"), "light.py")
        self.assertGreaterEqual(len(light), 2, light)
        self.assertTrue(all(float(e[2]) < 1500 for e in light[1:]), light)

    def test_live_checkpoints_stay_within_the_number(self):
        trace, nevents = self.record_prog(PROG)
        log = os.path.join(self.tmp, "e.log")
        s = Session([rwtest.rewind_bin(), "replay", "--no-rc", "--checkpoints", "3", trace],
                    {"REWIND_ENGINE_LOG": log, "REWIND_CHECKPOINT_EVERY": "10000"})
        rnd = random.Random(7)
        try:
            most = 0
            for k in range(8):
                s.cmd(f"goto {rnd.randrange(1000, nevents - 1000)}")
                s.cmd(SHOW)
                # The engine plus at most 3 checkpoints (a dropped one may take an
                # instant to go).
                for _ in range(100):
                    n = len(set(engine_pids(trace)) - zygotes(log))
                    if n <= 4:
                        break
                    time.sleep(0.05)
                self.assertLessEqual(n, 4)
                most = max(most, n)
            self.assertEqual(most, 4)  # it did keep 3
            events = log_lines(log)
            self.assertGreater(len([e for e in events if e[0] == "drop"]), 5)
        finally:
            s.close()
        for _ in range(100):  # none outlives the debugger
            if not engine_pids(trace):
                break
            time.sleep(0.05)
        self.assertEqual(engine_pids(trace), [])

    def test_default_limits_and_the_options(self):
        # By default: 2000 checkpoints holding 1024 MiB at most; the options set either.
        trace, nevents = self.record_prog(PROG)
        for extra, limits in (([], (2000, 1024)),
                              (["--checkpoints", "7", "--checkpoint-memory", "300"], (7, 300))):
            log = os.path.join(self.tmp, "d%d.log" % len(extra))
            s = Session([rwtest.rewind_bin(), "replay", "--no-rc"] + extra + [trace],
                        {"REWIND_ENGINE_LOG": log})
            try:
                s.cmd(f"goto {nevents // 2}")
                self.assertRegex(s.cmd(SHOW), r"\d")
            finally:
                s.close()
            start = [e for e in log_lines(log) if e[0] == "start"]
            self.assertEqual(len(start), 1, start)
            self.assertEqual((int(start[0][2]), int(start[0][3])), limits)

    def test_checkpoint_memory_stays_under_the_limit(self):
        trace, nevents = self.record_prog(MEMPROG, "mem.py")
        log = os.path.join(self.tmp, "e.log")
        limit = 12 << 20
        s = Session([rwtest.rewind_bin(), "replay", "--no-rc", "--checkpoints", "100",
                     "--checkpoint-memory", "12", trace],
                    {"REWIND_ENGINE_LOG": log, "REWIND_CHECKPOINT_EVERY": "20000"})
        try:
            for pos in (nevents // 3, nevents - 2000, nevents // 2, nevents - 500):
                s.cmd(f"goto {pos}")
                self.assertRegex(s.cmd("p len(keep)"), r"^\d+\n")
                events = log_lines(log)
                current = [int(e[1]) if e[0] == "start" else int(e[2])
                           for e in events if e[0] in ("start", "resume")][-1]
                # Counted as the engine answered the goto; the engine has done little
                # since (read the question, forked the evaluation). An engine that
                # handed over, or a dropped checkpoint, may take an instant to go.
                for _ in range(100):
                    held = sum(private_dirty(p) for p in engine_pids(trace)
                               if p != current and p not in zygotes(log))
                    if held < limit + (1 << 20):
                        break
                    time.sleep(0.05)
                self.assertLess(held, limit + (1 << 20), events)
            drops = [e for e in log_lines(log) if e[0] == "drop"]
            self.assertTrue(drops)
        finally:
            s.close()


if __name__ == "__main__":
    unittest.main()

"""Crashes, hangs and dumps (docs/crashes.md): each fault is recorded and checked for a
readable trace holding the right report, the same exit status as python3, and the
Python traceback that `python3 -X faulthandler` prints for the same crash.

Programs are in progs_crash/. Traces are read with pyreader (the independent reader of
docs/format.md), so these tests do not depend on rewind's own reader.
"""

import os
import re
import resource
import signal
import subprocess
import time
import unittest

import pyreader
import rwtest

PROGS = os.path.join(rwtest.HERE, "progs_crash")
WAIT_S = 60  # bound on waiting for something the recording must do; never a timing assert

# In a sanitizer build, ASan's own handlers for fatal signals come first (rewind would
# chain to them, and they exit 1), and LeakSanitizer reports libpython's by-design
# leaks: let the signals reach rewind and the default action, as in a plain build.
# Ignored by plain builds.
SAN_ENV = {"ASAN_OPTIONS": ":".join(filter(None, [
    os.environ.get("ASAN_OPTIONS", ""), "detect_leaks=0", "handle_segv=0", "handle_sigbus=0",
    "handle_sigfpe=0", "handle_sigill=0", "handle_abort=0"]))}


def without_idents(text):
    """faulthandler's text with thread idents (which differ between runs) blanked."""
    return re.sub(r"0x[0-9a-f]{16}", "0x...", text)


EVENTS = {"call", "line", "return", "exception", "c_call", "c_return", "c_exception"}


def count_events(tr):
    return sum(1 for r in tr.records() if r["kind"] in EVENTS)


def py_frames(thread):
    return [(f["filename"], f["line"], f["name"]) for f in thread["frames"]]


class Crash(rwtest.TestCase):
    def record(self, target, args=(), env=None, **kw):
        return super().record(target, args, env={**SAN_ENV, **(env or {})}, **kw)

    def prog(self, name):
        return self.copy(os.path.join(PROGS, name))

    def trace(self, rec):
        return pyreader.Trace(rec.trace)

    def only_report(self, tr, kind):
        self.assertEqual(len(tr.crashes), 1, tr.crashes)
        rep = tr.crashes[0]
        self.assertEqual(rep["kind"], kind)
        return rep

    def check_closed(self, tr, status, sig, reason):
        """The trace ends properly: footer read, END frame with the run's end."""
        self.assertIsNone(tr.recovered)
        self.assertIsNotNone(tr.end)
        self.assertEqual((tr.end["exit_status"], tr.end["term_signal"], tr.end["stop_reason"]),
                         (status, sig, reason))

    def check_code_ids(self, tr, rep):
        """Every frame with a code id names the CodeDef it refers to."""
        seen = 0
        for th in rep["threads"]:
            for f in th["frames"]:
                if f["code"]:
                    self.assertIn(f["code"], tr.codes)
                    self.assertEqual(tr.codes[f["code"]]["name"], f["name"])
                    seen += 1
        self.assertGreater(seen, 0)

    def same_as_faulthandler(self, prog, rep):
        """The report's text is what python3 -X faulthandler prints for this crash."""
        py = self.python(["-X", "faulthandler", prog])
        self.assertIn("Fatal Python error", py.stderr)
        start = py.stderr.index("Fatal Python error")
        self.assertEqual(without_idents(rep["text"]), without_idents(py.stderr[start:]))
        return py

    def raised_signal(self, name, sig):
        """Records prog name, killed by signal sig that it sends itself: rewind dies of sig
        as python3 does, with faulthandler's text as the one fatal_signal report of a
        trace closed properly. Returns the report."""
        prog = self.prog(name)
        rec = self.record(prog)
        tr = self.trace(rec)
        rep = self.only_report(tr, "fatal_signal")
        py = self.same_as_faulthandler(prog, rep)
        self.assertEqual(rec.returncode, -sig)
        self.assertEqual(rec.returncode, py.returncode)
        self.check_closed(tr, 128 + sig, sig, "signal")
        return rep

    def record_until_ready(self, name):
        """Starts recording prog name into trace.rwd, its stdin, stdout and stderr piped.
        Returns the process and the trace's path; the caller reads the program's "ready"."""
        trace = os.path.join(self.tmp, "trace.rwd")
        argv = [rwtest.rewind_bin(), "record", "-q", "-o", trace, self.prog(name)]
        proc = subprocess.Popen(argv, cwd=self.tmp, env=rwtest.clean_env(SAN_ENV),
                                stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, text=True)
        return proc, trace

    def test_segv_null_dereference(self):
        prog = self.prog("segv.py")
        rec = self.record(prog)
        py = self.same_as_faulthandler(prog, self.only_report(self.trace(rec), "fatal_signal"))
        self.assertEqual(rec.returncode, -signal.SIGSEGV)
        self.assertEqual(rec.returncode, py.returncode)
        self.assertEqual(rec.stdout, "about to crash\n")
        tr = self.trace(rec)
        rep = tr.crashes[0]
        self.check_closed(tr, 128 + signal.SIGSEGV, signal.SIGSEGV, "signal")
        self.assertEqual((rep["signal"], rep["signal_name"]), (signal.SIGSEGV, "SIGSEGV"))
        self.assertGreater(rep["si_code"], 0)  # a hardware fault
        self.assertEqual(rep["fault_addr"], 0)
        # Threads in faulthandler's order; the crashing one is current.
        current = [th for th in rep["threads"] if th["current"]]
        self.assertEqual(len(current), 1)
        self.assertEqual(current[0]["ident"], rep["thread_ident"])
        self.assertEqual(tr.threads[rep["thread"]]["ident"], rep["thread_ident"])
        names = [f[2] for f in py_frames(current[0])]
        self.assertEqual(names, ["string_at", "deref", "outer", "<module>"])
        self.assertEqual(py_frames(current[0])[1][1], 15)
        parked = [th for th in rep["threads"] if not th["current"]]
        self.assertEqual(len(parked), 1)
        self.assertIn("park", [f["name"] for f in parked[0]["frames"]])
        self.check_code_ids(tr, rep)
        # C stack from the faulting pc through the interpreter, and the code around pc.
        self.assertEqual(rep["c_frames"][0]["pc"], rep["pc"])
        syms = [f["symbol"] for f in rep["c_frames"]]
        self.assertIn("_PyEval_EvalFrameDefault", syms)
        self.assertTrue(any("libffi" in f["module"] for f in rep["c_frames"]))
        faulting = [i for i in rep["instructions"] if i["faulting"]]
        self.assertEqual(len(faulting), 1)
        self.assertEqual(faulting[0]["address"], rep["pc"])
        self.assertGreater(len(rep["instructions"]), 1)
        # The report sits after every event: the crash is the run's last moment.
        self.assertEqual(rep["pos"], tr.end["events"])

    def test_info_shows_report(self):
        prog = self.prog("segv.py")
        rec = self.record(prog)
        rep = self.trace(rec).crashes[0]
        out = rwtest.rewind("info", rec.trace).stdout
        head = (f"fatal signal at event {rep['pos']}: SIGSEGV (signal 11, si_code "
                f"{rep['si_code']}: a hardware fault)\n  fault address 0x0, pc 0x{rep['pc']:x}\n")
        self.assertIn(head + "\n" + rep["text"] + "\nC stack of thread 1", out)
        # libc's string functions are internal symbols (__strlen_evex...): not in the
        # loader's table, which is all a signal handler may read (docs/crashes.md).
        self.assertRegex(out, r"\n  #0   0x%016x in (\?\?|\S+\+0x[0-9a-f]+) \(/\S+libc\.so\.6\+0x"
                         % rep["pc"])
        self.assertIn(" in _PyEval_EvalFrameDefault+0x", out)
        marked = [line for line in out.splitlines() if line.startswith("  => ")]
        self.assertEqual(len(marked), 1)
        self.assertTrue(marked[0].startswith("  => 0x%016x  " % rep["pc"]), marked)
        js = rwtest.info(rec.trace)
        self.assertEqual(len(js["crashes"]), 1)
        c = js["crashes"][0]
        self.assertEqual((c["kind"], c["pos"], c["signal_name"], c["text"]),
                         ("fatal_signal", rep["pos"], "SIGSEGV", rep["text"]))
        self.assertEqual([f["func"] for f in c["threads"][1]["frames"]],
                         [f["name"] for f in rep["threads"][1]["frames"]])
        self.assertEqual(sum(i["faulting"] for i in c["instructions"]), 1)
        # A run without reports has an empty list.
        ok = self.record(self.write("ok.py", "print(1)\n"), trace="ok.rwd")
        self.assertEqual(rwtest.info(ok.trace)["crashes"], [])

    def test_replay_at_crash(self):
        prog = self.prog("segv.py")
        rec = self.record(prog)
        out = rwtest.run([rwtest.rewind_bin(), "replay", "--no-rc", "--at", "@crash", rec.trace],
                         stdin="where\n")
        self.assertEqual(out.returncode, 0, out.stderr)
        self.assertIn("Crash: SIGSEGV (a hardware fault at address 0x0) in thread 1", out.stdout)
        where = out.stdout.split("(rewind) ", 1)[1]
        frames = re.findall(r"^[ >] (\S+)\((\d+)\)(\S+)\(\)$", where, re.M)
        self.assertEqual([(os.path.basename(f), int(n), name) for f, n, name in frames],
                         [("segv.py", 25, "<module>"), ("segv.py", 19, "outer"),
                          ("segv.py", 15, "deref"), ("__init__.py", 519, "string_at")])
        self.assertIn("> /usr/lib/python3.11/ctypes/__init__.py(519)string_at()", where)
        # goto @crash from elsewhere lands there too; a run without a crash says so.
        out = rwtest.run([rwtest.rewind_bin(), "replay", "--no-rc", rec.trace],
                         stdin="goto @crash\nwhere\n")
        self.assertIn("Crash: SIGSEGV", out.stdout)
        ok = self.record(self.write("ok.py", "print(1)\n"), trace="ok.rwd")
        out = rwtest.run([rwtest.rewind_bin(), "replay", "--no-rc", "--at", "@crash", ok.trace])
        self.assertNotEqual(out.returncode, 0)
        self.assertIn("@crash: the run did not crash or time out", out.stderr)

    def test_stack_overflow_in_thread(self):
        prog = self.prog("overflow.py")
        rec = self.record(prog, options=["--no-allocations"])
        py = self.python(prog)
        self.assertEqual(rec.returncode, -signal.SIGSEGV)
        self.assertEqual(rec.returncode, py.returncode)
        tr = self.trace(rec)
        rep = self.only_report(tr, "fatal_signal")
        self.check_closed(tr, 128 + signal.SIGSEGV, signal.SIGSEGV, "signal")
        self.assertEqual(tr.threads[rep["thread"]]["name"], "nester")
        current = [th for th in rep["threads"] if th["current"]][0]
        self.assertEqual(current["ident"], rep["thread_ident"])
        self.assertIn((prog, 14, "nest"), py_frames(current))
        self.assertGreater(len(rep["c_frames"]), 50)  # deep in the C encoder

    def test_abort(self):
        rep = self.raised_signal("abort.py", signal.SIGABRT)
        self.assertEqual(rep["signal_name"], "SIGABRT")
        self.assertLessEqual(rep["si_code"], 0)  # raised by abort(), not a fault
        self.assertEqual(rep["note"], "the signal was sent (kill, raise, abort), not a hardware "
                                      "fault")
        self.assertEqual(rep["instructions"], [])  # no faulting instruction
        self.assertIn("abort", [f["symbol"] for f in rep["c_frames"]])
        current = [th for th in rep["threads"] if th["current"]][0]
        self.assertEqual(py_frames(current)[0][1:], (6, "give_up"))

    def test_raised_sigfpe(self):
        rep = self.raised_signal("fpe.py", signal.SIGFPE)
        self.assertEqual(rep["si_code"], 0)  # SI_USER: kill()
        self.assertEqual(rep["fault_addr"], 0)
        self.assertTrue(rep["text"].startswith("Fatal Python error: Floating point exception\n"))

    def test_timeout_infinite_loop(self):
        prog = self.prog("loop.py")
        rec = self.record(prog, options=["--timeout", "2"])
        self.assertEqual(rec.returncode, 124)
        self.assertEqual(rec.stdout, "spinning\n")
        self.assertEqual(rec.stderr, f"rewind: timeout after 2 s: stacks recorded in {rec.trace};"
                                     " exit status 124\n")
        tr = self.trace(rec)
        rep = self.only_report(tr, "timeout")
        self.check_closed(tr, 124, 0, "timeout")
        self.assertEqual(rep["timeout_ms"], 2000)
        self.assertTrue(rep["text"].startswith("Timeout (0:00:02)!\nThread 0x"), rep["text"])
        self.assertEqual(len(rep["threads"]), 1)
        self.assertFalse(rep["threads"][0]["current"])  # as faulthandler's watchdog says
        self.assertEqual([f[2] for f in py_frames(rep["threads"][0])], ["spin", "<module>"])
        self.assertIn(py_frames(rep["threads"][0])[0][1], (4, 5))
        self.assertEqual(rep["note"], "")
        self.assertGreater(len(rep["c_frames"]), 3)  # the main thread's own C stack
        self.assertIn("_PyEval_EvalFrameDefault", [f["symbol"] for f in rep["c_frames"]])
        self.check_code_ids(tr, rep)

    def test_timeout_deadlock(self):
        prog = self.prog("deadlock.py")
        rec = self.record(prog, options=["--timeout=2"])
        self.assertEqual(rec.returncode, 124)
        self.assertEqual(rec.stdout, "deadlocked\n")
        tr = self.trace(rec)
        rep = self.only_report(tr, "timeout")
        self.check_closed(tr, 124, 0, "timeout")
        by_name = {}
        for th in rep["threads"]:
            frames = py_frames(th)
            by_name[frames[-1][2] if frames[-1][2] != "_bootstrap" else frames[0][2]] = frames
        self.assertEqual(sorted(by_name), ["<module>", "one", "two"])
        self.assertEqual(by_name["one"][0][1:], (13, "one"))
        self.assertEqual(by_name["two"][0][1:], (20, "two"))
        self.assertEqual(by_name["<module>"][0][2], "_wait_for_tstate_lock")
        # The main thread is blocked in a lock with the GIL released, and still answers
        # with its C stack.
        self.assertEqual(rep["note"], "")
        self.assertIn("PyThread_acquire_lock_timed", [f["symbol"] for f in rep["c_frames"]])
        self.assertEqual(tr.threads[rep["thread"]]["is_main"], True)

    def test_report_names_every_thread(self):
        """Each thread of a report carries the ThreadDef id of its ident (the lock-free
        ident index the handlers read), and the thread that made the report too."""
        prog = self.prog("deadlock.py")
        rec = self.record(prog, options=["--timeout=2"])
        self.assertEqual(rec.returncode, 124)
        tr = self.trace(rec)
        rep = self.only_report(tr, "timeout")
        self.assertEqual(len(rep["threads"]), 3)
        names = set()
        for th in rep["threads"]:
            self.assertIn(th["thread"], tr.threads)
            self.assertEqual(tr.threads[th["thread"]]["ident"], th["ident"])
            names.add(tr.threads[th["thread"]]["name"])
        self.assertEqual(names, {"MainThread", "one", "two"})
        self.assertEqual(tr.threads[rep["thread"]]["ident"], rep["thread_ident"])

    def test_dump_signal_during_busy_loop(self):
        proc, trace = self.record_until_ready("busy.py")
        try:
            self.assertEqual(proc.stdout.readline(), "ready\n")
            for n in (1, 2):
                # Signals do not queue: one at a time. A signal that arrives while the
                # previous dump's handler is still finishing can coalesce with one
                # pending, so it is sent again until its dump shows. The second is sent
                # only once the program has run on after the first (a chunk written
                # after it), else both could report the same moment.
                if n == 2:
                    self.wait_for_progress(trace)
                self.wait_for_crashes(trace, n,
                                      resend=lambda: proc.send_signal(signal.SIGUSR1))
            out, err = proc.communicate("stop\n", timeout=WAIT_S)
        finally:
            proc.kill()
            proc.wait()
        self.assertEqual((proc.returncode, out, err), (0, "done\n", ""))
        tr = pyreader.Trace(trace)
        self.check_closed(tr, 0, 0, "exit")
        # Two dumps, or more when a resent signal was not in fact lost.
        self.assertGreaterEqual(len(tr.crashes), 2)
        self.assertEqual({r["kind"] for r in tr.crashes}, {"dump"})
        first, second = tr.crashes[0], tr.crashes[-1]
        self.assertLess(first["pos"], second["pos"])
        self.assertLess(second["pos"], tr.end["events"])
        for rep in tr.crashes:
            self.assertEqual(rep["signal_name"], "SIGUSR1")
            self.assertFalse(rep["text"].startswith("Fatal"))
            main = [th for th in rep["threads"] if "<module>" in [f[2] for f in py_frames(th)]]
            self.assertEqual(len(main), 1)
            self.assertIn("busy", [f[2] for f in py_frames(main[0])])
            self.assertGreater(len(rep["c_frames"]), 0)

    @staticmethod
    def frame_types(trace):
        """Frame types of a trace still being written, from frame headers alone
        (docs/format.md: 32-byte file header, then 24-byte frame headers: magic "RWFR",
        type byte, ..., u32 stored_len at offset 8): decoding the whole growing file
        on every poll took longer than the test's patience."""
        types = []
        with open(trace, "rb") as f:
            f.seek(32)
            while True:
                h = f.read(24)
                if len(h) < 24 or h[:4] != b"RWFR":
                    return types
                types.append(h[4])
                f.seek(int.from_bytes(h[8:12], "little"), os.SEEK_CUR)

    @classmethod
    def count_crash_frames(cls, trace):
        return cls.frame_types(trace).count(6)  # CRASH

    def wait_for_progress(self, trace):
        """Waits for a CHUNK frame (3) after the last CRASH frame (6)."""
        deadline = time.monotonic() + WAIT_S
        while time.monotonic() < deadline:
            types = self.frame_types(trace)
            if 6 in types and 3 in types[len(types) - types[::-1].index(6):]:
                return
            time.sleep(0.01)
        self.fail(f"no chunk after the last dump in {trace} within {WAIT_S} s")

    def wait_for_crashes(self, trace, n, resend=None):
        deadline = time.monotonic() + WAIT_S
        next_send = 0.0
        while time.monotonic() < deadline:
            if resend and time.monotonic() >= next_send:
                resend()
                next_send = time.monotonic() + 5.0
            try:
                if self.count_crash_frames(trace) >= n:
                    return
            except OSError:
                pass  # not created yet
            time.sleep(0.01)
        self.fail(f"no dump #{n} in {trace} within {WAIT_S} s")

    def test_dump_signal_none_keeps_default_action(self):
        prog = self.prog("usr1_default.py")
        rec = self.record(prog, options=["--dump-signal", "none"])
        py = self.python(prog)
        self.assertEqual(py.returncode, -signal.SIGUSR1)
        self.assertEqual(rec.returncode, py.returncode)
        self.assertEqual(rec.stdout, "")

    def test_dump_signal_sent_by_the_program_itself(self):
        # os.kill(os.getpid(), SIGUSR1) means what it means without rewind: the process
        # ends by the signal (the trace closed with the report of a terminating signal).
        prog = self.prog("usr1_self.py")
        py = self.python(prog)
        self.assertEqual(py.returncode, -signal.SIGUSR1)
        trace = os.path.join(self.tmp, "self.rwd")
        rec = self.record(prog, options=["-o", trace])
        self.assertEqual((rec.returncode, rec.stdout), (py.returncode, py.stdout))
        tr = pyreader.Trace(trace)
        self.check_closed(tr, 128 + signal.SIGUSR1, signal.SIGUSR1, "signal")
        self.assertEqual([r["kind"] for r in tr.crashes], ["terminated"])
        info = rwtest.rewind("info", trace).stdout
        self.assertIn("ended        signal SIGUSR1 (exit status 138)\n", info)

    def test_dump_signal_bad_value(self):
        for bad in ("SEGV", "KILL", "nope"):
            proc = rwtest.run([rwtest.rewind_bin(), "record", "--dump-signal", bad, "-c", "0"],
                              cwd=self.tmp)
            self.assertEqual(proc.returncode, 2, bad)
            self.assertIn("--dump-signal", proc.stderr)

    def test_sigkill_leaves_readable_prefix(self):
        proc, trace = self.record_until_ready("killed.py")
        try:
            self.assertEqual(proc.stdout.readline(), "ready\n")
            self.wait_for_crashes(trace, 1, resend=lambda: proc.send_signal(signal.SIGUSR1))
            proc.kill()
        finally:
            proc.wait()
            proc.stdin.close()
            proc.stdout.close()
            proc.stderr.close()
        self.assertEqual(proc.returncode, -signal.SIGKILL)
        tr = pyreader.Trace(trace)
        self.assertIsNotNone(tr.recovered)
        self.assertIsNone(tr.end)
        self.assertEqual([r["kind"] for r in tr.crashes], ["dump"])
        # Everything before the dump is there, and decodes.
        events = count_events(tr)
        self.assertGreaterEqual(events, tr.crashes[0]["pos"])
        self.assertGreater(tr.crashes[0]["pos"], 20000)  # the generator ran 20000 times
        info = rwtest.rewind("info", trace, check=False)
        self.assertIn("cut short", info.stdout + info.stderr)

    def test_file_size_limit(self):
        prog = self.prog("big.py")
        limit = 150000

        def small_files():
            resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))

        trace = os.path.join(self.tmp, "trace.rwd")
        proc = subprocess.run([rwtest.rewind_bin(), "record", "-o", trace, prog], cwd=self.tmp,
                              env=rwtest.clean_env(SAN_ENV), preexec_fn=small_files,
                              capture_output=True, text=True, timeout=rwtest.DEFAULT_TIMEOUT)
        py = self.python(prog)
        self.assertEqual((proc.returncode, proc.stdout), (py.returncode, py.stdout))
        self.assertRegex(proc.stderr, r"the trace is incomplete: writing the trace at byte \d+: "
                                      r"File too large; the trace holds the events before #\d+")
        self.assertIn("rewind: recorded", proc.stderr)
        self.assertLessEqual(os.path.getsize(trace), limit)
        tr = pyreader.Trace(trace)
        # Every frame in the file is whole: the scan stops only at the missing trailer.
        self.assertEqual(tr.recovered, "no valid trailer")
        self.assertGreater(len(tr.chunks()), 0)
        self.assertGreater(count_events(tr), 1000)

    def test_programs_own_faulthandler(self):
        prog = self.prog("own_faulthandler.py")
        rec = self.record(prog)
        py = self.python(prog)
        self.assertEqual(rec.returncode, py.returncode)
        self.assertEqual(rec.returncode, -signal.SIGSEGV)
        # The program's faulthandler ran first (it was enabled last) and printed what it
        # prints under python3.
        self.assertEqual(without_idents(rec.stderr), without_idents(py.stderr))
        self.assertIn("line 10 in deref", rec.stderr)
        tr = self.trace(rec)
        rep = self.only_report(tr, "fatal_signal")
        self.check_closed(tr, 128 + signal.SIGSEGV, signal.SIGSEGV, "signal")
        # faulthandler re-raised the signal into our handler: no fault address then.
        self.assertLessEqual(rep["si_code"], 0)
        self.assertEqual(without_idents(rep["text"]), without_idents(py.stderr))
        self.assertTrue(any(f["signal_frame"] for f in rep["c_frames"]))

    def test_survives_its_own_handler(self):
        prog = self.prog("survive.py")
        env = {"PYTHONPATH": os.path.join(PROGS, "site")}
        rec = self.record(prog, env=env)
        py = self.python(prog, env=env)
        self.assertEqual((py.returncode, py.stdout), (0, "handled 11\nsurvived\n"))
        self.assertEqual((rec.returncode, rec.stdout), (py.returncode, py.stdout))
        self.assertIn("the trace is incomplete: a fatal signal's report closed the trace, and "
                      "the program's own handler let it run on unrecorded", rec.stderr)
        tr = self.trace(rec)
        self.only_report(tr, "fatal_signal")
        self.check_closed(tr, 128 + signal.SIGSEGV, signal.SIGSEGV, "signal")

    def test_faulthandler_from_environment(self):
        prog = self.prog("segv.py")
        env = {"PYTHONFAULTHANDLER": "1"}
        rec = self.record(prog, env=env)
        py = self.python(prog, env=env)
        self.assertEqual(rec.returncode, py.returncode)
        # rewind's handler came last, runs first, then chains to faulthandler's.
        self.assertEqual(without_idents(rec.stderr), without_idents(py.stderr))
        self.assertIn("Fatal Python error: Segmentation fault", rec.stderr)
        tr = self.trace(rec)
        rep = self.only_report(tr, "fatal_signal")
        self.assertGreater(rep["si_code"], 0)
        self.assertEqual(without_idents(rep["text"]), without_idents(py.stderr))


if __name__ == "__main__":
    unittest.main()

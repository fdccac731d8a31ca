"""A program's own tracer is chained behind rewind's hooks, not fatal (docs/recording.md,
"Programs that set their own tracer").

Each test runs a program of progs_chain/ with python3 and under `rewind record`, and
checks two things:
  - the program sees what it sees without rewind: same output (its trace or profile
    function prints the events it got), same coverage.py report, same trace-module
    counts, same pdb transcript;
  - rewind recorded everything: no "lost" in the trace, and the events of the code that
    ran while the program's function was set are there (compared with what a full trace
    function saw, with python3 -m trace's counts, or with a recording of the same program
    run without its tracer).
"""

import os
import shutil
import unittest

import rwtest

PROGS = os.path.join(rwtest.HERE, "progs_chain")
FLOW = ("call", "line", "return", "exception")


def flow_events(trace, path, funcs=None):
    """(kind, func, line) of the call/line/return/exception events of file `path`,
    in order, optionally only those of the functions named in funcs."""
    out = []
    for e in rwtest.events(trace, "--kinds", ",".join(FLOW)):
        if e["file"] == path and (funcs is None or e["func"] in funcs):
            out.append((e["kind"], e["func"], e["line"]))
    return out


def by_thread(trace, path, funcs):
    """flow_events split by thread, as a list of per-thread lists in thread order."""
    threads = {}
    for e in rwtest.events(trace, "--kinds", ",".join(FLOW)):
        if e["file"] == path and e["func"] in funcs:
            threads.setdefault(e["thread"], []).append((e["kind"], e["func"], e["line"]))
    return [threads[t] for t in sorted(threads)]


class Chain(rwtest.TestCase):

    def prog(self, name):
        return self.copy(os.path.join(PROGS, name))

    def assert_whole(self, rec):
        """The recording ended normally and lost nothing."""
        self.assertTrue(os.path.exists(rec.trace), rec.stderr)
        self.assertNotIn("incomplete", rec.stderr)
        meta = rwtest.info(rec.trace)
        self.assertFalse(meta.get("lost"), meta.get("lost"))
        self.assertFalse(meta.get("cut_short"))
        return meta

    def same_run(self, name, args=(), stdin=None, env=None, options=()):
        """Runs name with python3 and under rewind; asserts the same stdout, stderr and
        exit status and a whole trace. Returns (path, recording)."""
        path = self.prog(name)
        plain = self.python(path, args, stdin=stdin, env=env)
        rec = self.record(path, args, stdin=stdin, env=env, options=("-q", *options))
        self.assertEqual(rec.stdout, plain.stdout)
        self.assertEqual(rec.stderr, plain.stderr)
        self.assertEqual(rec.returncode, plain.returncode)
        self.assert_whole(rec)
        return path, rec

    def test_custom_tracer_sees_what_cpython_gives(self):
        # The global function's result as f_trace, None from a local function, a swapped
        # local function, f_trace_lines = False, f_trace_opcodes, generators, exceptions,
        # gettrace/settrace round trips: the printed event list is CPython's.
        path, rec = self.same_run("custom_tracer.py")
        self.assertIn("('opcode', 'opcodes'", rec.stdout)
        self.assertIn("('other:line', 'swaps'", rec.stdout)
        self.assertIn("gettrace before: None", rec.stdout)
        # rewind keeps the lines of the frames whose f_trace_lines the program set False:
        # quiet() ran four times, three lines each.
        lines = [e for e in flow_events(rec.trace, path, {"quiet"}) if e[0] == "line"]
        self.assertEqual([l for _, _, l in lines], [55, 56, 57] * 4)

    def test_full_tracer_events_are_the_recorded_ones(self):
        # A trace function that follows every frame of the file gets exactly the events
        # rewind records for that file while it is set.
        path, rec = self.same_run("full_tracer.py")
        seen = []
        for line in rec.stdout.splitlines()[1:]:
            kind, func, lineno = line.split()
            seen.append((kind, func, int(lineno)))
        self.assertGreater(len(seen), 100)
        recorded = flow_events(rec.trace, path)
        with open(path) as f:
            src = f.read().splitlines()
        on = src.index("sys.settrace(full)") + 1
        off = src.index("sys.settrace(None)") + 1
        # The window: from the first event after sys.settrace(full) to settrace(None).
        start = recorded.index(seen[0], recorded.index(("line", "<module>", on)))
        self.assertEqual(recorded[start:start + len(seen)], seen)
        self.assertEqual(seen[-1], ("line", "<module>", off))  # its own last line

    def test_tracer_that_raises(self):
        # CPython removes a trace or profile function that raised, and the exception
        # comes out of the traced code; rewind records on, its stacks whole.
        path, rec = self.same_run("raising_tracer.py")
        self.assertIn("caught RuntimeError from the trace function", rec.stdout)
        self.assertIn("trace function now None", rec.stdout)
        self.assertIn("profile function now None", rec.stdout)
        calls = [e for e in flow_events(rec.trace, path, {"victim", "after"})]
        self.assertEqual(sum(1 for e in calls if e[:2] == ("call", "after")), 3)
        self.assertEqual(sum(1 for e in calls if e[0] == "call"),
                         sum(1 for e in calls if e[0] == "return"))
        # The c_call the profile function refused is closed by a c_exception.
        cev = [e for e in rwtest.events(rec.trace, "--kinds", "c_call,c_return,c_exception")
               if e["file"] == path and e["qualname"] == "len"]
        self.assertEqual([e["kind"] for e in cev], ["c_call", "c_exception"])
        stats = rwtest.rewind("stats", rec.trace).stdout
        self.assertIn("raising_tracer.py:12(after)", stats)

    def test_setprofile(self):
        # A profile function (c_call/c_return included), also set while a C call is in
        # progress: CPython gives no c_return for that call, nor does rewind.
        path, rec = self.same_run("profile_func.py")
        self.assertIn("('c_call', 'abs', 'leaf')", rec.stdout)
        self.assertEqual(len([e for e in flow_events(rec.trace, path, {"leaf"})
                              if e[0] == "call"]), 6)

    def test_threading_settrace_and_setprofile(self):
        path, rec = self.same_run("thread_tracer.py")
        self.assertIn("w2 trace [('call', 'worker'", rec.stdout)
        # Every thread's events, as in a recording of the program without its tracers.
        base = self.record(path, trace="base.rwd", env={"NO_TRACER": "1"}, options=("-q",))
        self.assert_whole(base)
        funcs = {"worker", "step"}
        self.assertEqual(by_thread(rec.trace, path, funcs), by_thread(base.trace, path, funcs))
        self.assertEqual(len(by_thread(rec.trace, path, funcs)), 4)

    def test_doctest_suite(self):
        # doctest saves sys.gettrace() (None) and restores it after every test; rewind's
        # recording goes on, and counts every line as the trace module does.
        self.prog("doctested.txt")
        path, rec = self.same_run("doctested.py")
        self.assertIn("testmod TestResults(failed=1, attempted=4)", rec.stdout)
        plain_dir = os.path.join(self.tmp, "plain-cover")
        ours_dir = os.path.join(self.tmp, "rewind-cover")
        rwtest.run([rwtest.python_bin(), "-c",
                    "import os, runpy, sys, trace\n"
                    "sys.path[0] = os.path.dirname(sys.argv[1])  # as python3 SCRIPT\n"
                    "t = trace.Trace(count=1, trace=0)\n"
                    "t.runfunc(runpy.run_path, sys.argv[1], run_name='__main__')\n"
                    "t.results().write_results(show_missing=True, coverdir=sys.argv[2])\n",
                    path, plain_dir], cwd=self.tmp, check=True)
        rwtest.rewind("coverage", "--count", "--missing", "-C", ours_dir, rec.trace)
        with open(os.path.join(plain_dir, "doctested.cover")) as f:
            plain_cover = f.read()
        with open(os.path.join(ours_dir, "doctested.cover")) as f:
            ours_cover = f.read()
        self.assertEqual(ours_cover, plain_cover)
        self.assertIn("   14:     return x * x", ours_cover)

    def test_pdb_set_trace_driven_by_stdin(self):
        commands = "p x\nn\ns\np v\nn\np w\nc\np x\nc\nc\n"
        path, rec = self.same_run("pdb_prog.py", stdin=commands)
        self.assertIn("(Pdb) 10\n", rec.stdout)
        self.assertIn("later [10, 30]", rec.stdout)
        # The same events as a recording where breakpoint() does nothing.
        base = self.record(path, trace="base.rwd", env={"PYTHONBREAKPOINT": "0"},
                           options=("-q",))
        self.assert_whole(base)
        self.assertEqual(flow_events(rec.trace, path), flow_events(base.trace, path))
        # Values still come back by re-execution, the program's pdb included.
        proc = rwtest.run([rwtest.rewind_bin(), "replay", "--values", "--at",
                           "pdb_prog.py:8", rec.trace], stdin="p v, w\nup\np x, y\nq\n",
                          timeout=120)
        if proc.returncode != 0 and "re-execut" in proc.stderr:
            self.skipTest("no re-execution engine: " + proc.stderr.strip())
        self.assertIn("(11, 110)", proc.stdout)
        self.assertIn("(10, 11)", proc.stdout)

    def test_coverage_run(self):
        # coverage.py (its C tracer by default, PyTracer with --timid): the report is the
        # one without rewind, and rewind's events are those of a plain recording.
        path = self.prog("cov_prog.py")
        base = self.record(path, trace="base.rwd", options=("-q",))
        self.assert_whole(base)
        funcs = {"branchy", "worker", "unused"}
        for extra in ((), ("--timid",)):
            with self.subTest(extra=extra):
                env = {"COVERAGE_FILE": os.path.join(self.tmp, ".coverage.plain")}
                run = ["-m", "coverage", "run", "--branch", *extra, path]
                plain = self.python(run, env=env)
                self.assertEqual(plain.returncode, 0, plain.stderr)
                report = [rwtest.python_bin(), "-m", "coverage", "report", "-m"]
                want = rwtest.run(report, cwd=self.tmp, env=env, check=True).stdout
                env = {"COVERAGE_FILE": os.path.join(self.tmp, ".coverage.rewind")}
                rec = self.record(run, env=env, options=("-q",))
                self.assertEqual(rec.returncode, 0, rec.stderr)
                self.assertEqual(rec.stdout, plain.stdout)
                self.assert_whole(rec)
                got = rwtest.run(report, cwd=self.tmp, env=env, check=True).stdout
                self.assertEqual(got, want)
                self.assertIn("cov_prog.py", got)
                self.assertEqual(by_thread(rec.trace, path, funcs),
                                 by_thread(base.trace, path, funcs))

    def test_trace_module(self):
        path = self.prog("full_tracer.py")
        # --count: the .cover files are the same (the program's own settrace ends the
        # trace module's counting in both runs, at the same place).
        outs = {}
        for who in ("plain", "rewind"):
            cover = os.path.join(self.tmp, who)
            args = ["-m", "trace", "--count", "--missing", "-C", cover, path]
            proc = (self.python(args) if who == "plain"
                    else self.record(args, options=("-q",)))
            self.assertEqual(proc.returncode, 0, proc.stderr)
            with open(os.path.join(cover, "full_tracer.cover")) as f:
                outs[who] = (proc.stdout, f.read())
        self.assertEqual(outs["rewind"], outs["plain"])
        # --trace prints every line it sees: the same listing.
        prog = self.write("small.py", "def f(n):\n    return n + 1\n\nprint(f(1), f(2))\n")
        plain = self.python(["-m", "trace", "--trace", prog])
        rec = self.record(["-m", "trace", "--trace", prog], options=("-q",))
        self.assertEqual(rec.stdout, plain.stdout)
        self.assertIn("small.py(2):     return n + 1", rec.stdout)
        self.assert_whole(rec)
        self.assertEqual(len([e for e in flow_events(rec.trace, prog, {"f"})
                              if e[0] == "call"]), 2)

    def test_cprofile(self):
        # cProfile sets its C profile function with _PyEval_SetProfile: chained too.
        prog = self.write("cp.py", "def fib(n):\n    return n if n < 2 else fib(n - 1) + "
                                   "fib(n - 2)\n\nprint(sorted(fib(i) for i in range(10)))\n")

        def table(text):
            rows = []
            on = False
            for line in text.splitlines():
                if "ncalls" in line:
                    on = True
                elif on and line.strip():
                    cols = line.split(None, 5)
                    rows.append((cols[0], cols[5]))
            return sorted(rows)

        plain = self.python(["-m", "cProfile", prog])
        rec = self.record(["-m", "cProfile", prog], options=("-q",))
        self.assertEqual(table(rec.stdout), table(plain.stdout))
        self.assertIn("cp.py:1(fib)", [name for _, name in table(rec.stdout)])
        self.assert_whole(rec)

    def test_without_lines_or_c_calls(self):
        # A slot rewind does not use is the program's alone, as in CPython.
        for opt in ("--no-lines", "--no-c-calls"):
            with self.subTest(opt=opt):
                path, rec = self.same_run("custom_tracer.py", options=(opt,))
                path, rec = self.same_run("profile_func.py", options=(opt,))


if __name__ == "__main__":
    unittest.main()

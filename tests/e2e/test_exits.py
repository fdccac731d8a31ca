"""Every way a program ends leaves a closed trace (issue: exit paths).

Each test runs the same program under python3 and under `rewind record`, checks that
rewind exits exactly as python3 did (status, stdout, stderr), that the trace is complete
(`rewind verify` passes, the END record is there) and says how the run ended, and that
the program's last line is in the trace.
"""

import os
import signal
import subprocess
import sys
import textwrap
import time
import unittest

import pyreader
import rwtest


def last_line_in(trace, path, thread=None):
    """The last LINE event of `path` in the trace (of one thread), as (line, position)."""
    last = None
    for ev in rwtest.events(trace, "--kinds", "line"):
        if ev["file"] == path and thread in (None, ev["thread"]):
            last = (ev["line"], ev["pos"])
    return last


class Exits(rwtest.TestCase):

    def same(self, target, args=(), stdin=None, prog_path=None):
        """Runs target under python3 and rewind; asserts the same status and output;
        returns (recording, info dict)."""
        want = self.python(target, args, stdin=stdin)
        rec = self.record(target, args, stdin=stdin, options=["-q"])
        self.assertEqual((rec.returncode, rec.stdout, rec.stderr),
                         (want.returncode, want.stdout, want.stderr))
        v = rwtest.rewind("verify", rec.trace, check=False)
        self.assertEqual(v.returncode, 0, v.stdout + v.stderr)
        return rec, rwtest.info(rec.trace)

    def check_end(self, info, status, reason):
        self.assertFalse(info["cut_short"], info)
        self.assertEqual((info["exit_status"], info["stop_reason"]), (status, reason))

    def prog(self, name, text):
        return self.write(name, textwrap.dedent(text))

    # ---- SystemExit, in every mode ------------------------------------------------

    def test_sys_exit_status(self):
        p = self.prog("ex.py", """\
            import sys
            print(42)
            sys.exit(3)
            """)
        rec, info = self.same(p)
        self.assertEqual(rec.returncode, 3)
        self.check_end(info, 3, "SystemExit")
        self.assertEqual(info["exit_message"], "")
        self.assertIn("ended        exit status 3 (SystemExit)\n",
                      rwtest.rewind("info", rec.trace).stdout)
        self.assertEqual(last_line_in(rec.trace, p)[0], 3)

    def test_exit_quit_and_raise_at_depth(self):
        cases = {
            "exit()": 0,
            "quit(4)": 4,
            "raise SystemExit('going away')": 1,
            "raise SystemExit(None)": 0,
            "sys.exit(300)": 300 & 0xFF,
        }
        for call, status in cases.items():
            with self.subTest(call=call):
                p = self.prog("deep.py", f"""\
                    import sys

                    def inner():
                        {call}

                    def outer():
                        try:
                            inner()
                        finally:
                            print("finally ran")

                    outer()
                    print("not reached")
                    """)
                rec, info = self.same(p)
                self.assertEqual(rec.returncode, status)
                self.check_end(info, status, "SystemExit" if status else info["stop_reason"])
                self.assertEqual(last_line_in(rec.trace, p)[0], 10)  # the finally clause

    def test_command_mode(self):
        rec, info = self.same(["-c", "import sys; print('c'); sys.exit('bye')"])
        self.assertEqual(rec.returncode, 1)
        self.assertIn("bye", rec.stderr)
        self.check_end(info, 1, "SystemExit")
        self.assertEqual(info["exit_message"], "bye")
        text = rwtest.rewind("info", rec.trace).stdout
        self.assertIn("ended        exit status 1 (SystemExit: bye)\n", text)

    def test_module_mode(self):
        self.prog("leave.py", "import sys\nprint('m')\nsys.exit(7)\n")
        rec, info = self.same(["-m", "leave"])
        self.assertEqual(rec.returncode, 7)
        self.check_end(info, 7, "SystemExit")

    def test_after_other_threads_ended(self):
        p = self.prog("thr.py", """\
            import sys, threading
            out = []
            ts = [threading.Thread(target=out.append, args=(i,)) for i in range(3)]
            for t in ts: t.start()
            for t in ts: t.join()
            print(sorted(out))
            sys.exit(2)
            """)
        rec, info = self.same(p)
        self.check_end(info, 2, "SystemExit")
        self.assertGreaterEqual(len(info["threads"]), 4)

    def test_a_thread_that_ends_as_python_exits(self):
        """A thread that ends frees its thread state after letting the GIL go, and
        threading's shutdown has seen it end before that: the main thread may be in
        Py_RunMain's last steps, where CPython puts the C library's allocator under RAW
        for a while, when the block (detalloc's) is freed. The knobs hold the thread
        there and keep the first such window open; the C library's free of it aborted
        the recording (munmap_chunk(): invalid pointer, status 134)."""
        p = self.prog("thr_end.py", """\
            import threading
            def work():
                global total
                total = sum(range(1000))
            threading.Thread(target=work).start()
            print("started")
            """)
        want = self.python(p)
        rec = self.record(p, options=["-q"],
                          env={"REWIND_TEST_THREAD_END_PAUSE_MS": "800",
                               "REWIND_TEST_DEFAULT_ALLOC_PAUSE_MS": "3000"})
        self.assertEqual((rec.returncode, rec.stdout, rec.stderr),
                         (want.returncode, want.stdout, want.stderr))
        v = rwtest.rewind("verify", rec.trace, check=False)
        self.assertEqual(v.returncode, 0, v.stdout + v.stderr)
        info = rwtest.info(rec.trace)
        self.check_end(info, 0, "exit")
        self.assertEqual(len(info["threads"]), 2)

    def test_sys_exit_in_a_thread_ends_only_the_thread(self):
        p = self.prog("thr_exit.py", """\
            import sys, threading
            t = threading.Thread(target=sys.exit, args=(5,))
            t.start(); t.join()
            print("main goes on")
            """)
        rec, info = self.same(p)
        self.check_end(info, 0, "exit")

    def test_unittest_main(self):
        p = self.prog("ut.py", """\
            import unittest

            class T(unittest.TestCase):
                def test_ok(self):
                    self.assertEqual(1 + 1, 2)

                def test_fails(self):
                    self.assertEqual(1 + 1, 3)

            unittest.main()
            """)
        want = self.python(p)
        rec = self.record(p, options=["-q"])
        self.assertEqual(rec.returncode, want.returncode)
        self.assertEqual(rec.returncode, 1)
        strip = lambda s: [l for l in s.splitlines() if not l.startswith("Ran ")]
        self.assertEqual(strip(rec.stderr), strip(want.stderr))
        info = rwtest.info(rec.trace)
        self.check_end(info, 1, "SystemExit")
        names = {e["qualname"] for e in rwtest.events(rec.trace, "--kinds", "call")}
        self.assertTrue({"T.test_ok", "T.test_fails"} <= names)

    def test_pytest_main(self):
        want = self.python(["-c", "import pytest"])
        if want.returncode:
            self.skipTest("pytest is not installed")
        self.prog("test_p.py", "def test_one():\n    assert 1 == 1\n")
        p = self.prog("runp.py", """\
            import sys, pytest
            sys.exit(pytest.main(["-q", "-p", "no:cacheprovider", "test_p.py"]))
            """)
        want = self.python(p)
        rec = self.record(p, options=["-q"])
        self.assertEqual(rec.returncode, want.returncode)
        self.assertEqual(rec.returncode, 0)
        self.assertIn("1 passed", rec.stdout)
        info = rwtest.info(rec.trace)
        self.assertFalse(info["cut_short"])
        self.assertEqual(info["exit_status"], 0)

    # ---- os._exit, C exit(), os.abort ----------------------------------------------

    def test_os_exit(self):
        p = self.prog("ox.py", """\
            import os, sys
            print("before", flush=True)
            def leave():
                os._exit(5)
            leave()
            """)
        rec, info = self.same(p)
        self.assertEqual(rec.returncode, 5)
        self.check_end(info, 5, "_exit")
        evs = rwtest.events(rec.trace)
        self.assertEqual((evs[-1]["kind"], evs[-1]["qualname"], evs[-1]["line"]),
                         ("c_call", "_exit", 4))

    def test_os_exit_from_a_thread(self):
        p = self.prog("ox_thr.py", """\
            import os, threading, time
            def bye():
                os._exit(6)
            threading.Thread(target=bye).start()
            time.sleep(30)
            """)
        rec, info = self.same(p)
        self.assertEqual(rec.returncode, 6)
        self.check_end(info, 6, "_exit")

    def test_c_exit(self):
        # A C extension's exit(): ctypes calls libc's exit, which is ours.
        p = self.prog("cexit.py", """\
            import ctypes
            print("x", flush=True)
            ctypes.CDLL(None).exit(9)
            """)
        rec, info = self.same(p)
        self.assertEqual(rec.returncode, 9)
        self.check_end(info, 9, "exit()")

    def test_os_abort(self):
        p = self.prog("ab.py", "import os\nprint('a', flush=True)\nos.abort()\n")
        want = self.python(p)
        rec = self.record(p, options=["-q"])
        self.assertEqual(rec.returncode, want.returncode)
        self.assertEqual(rec.returncode, -signal.SIGABRT)
        v = rwtest.rewind("verify", rec.trace, check=False)
        self.assertEqual(v.returncode, 0, v.stdout + v.stderr)
        end = rwtest.info(rec.trace)
        self.assertEqual((end["exit_status"], end["term_signal"]),
                         (128 + signal.SIGABRT, signal.SIGABRT))

    # ---- exec and children -----------------------------------------------------------

    def test_exec_of_python_is_followed(self):
        p = self.prog("ex_py.py", """\
            import os, sys
            print("parent", flush=True)
            os.execv(sys.executable, [sys.executable, "-c",
                     "import sys; print('new image', sys.argv[1:]); sys.exit(6)", "arg"])
            """)
        rec, info = self.same(p)
        self.assertEqual(rec.returncode, 6)
        self.check_end(info, 0, "exec")
        ex = info["exec"]
        self.assertEqual(ex["argv"][1:3], ["-c", "import sys; print('new image', sys.argv[1:]); sys.exit(6)"])
        self.assertEqual(ex["trace"], "trace.exec.rwd")
        child = rwtest.info(os.path.join(self.tmp, ex["trace"]))
        self.assertEqual((child["exit_status"], child["stop_reason"]), (6, "SystemExit"))
        self.assertEqual((child["started_by"], child["parent_pid"]), ("exec", info["pid"]))

    def test_exec_of_another_program(self):
        p = self.prog("ex_echo.py", """\
            import os
            print("parent", flush=True)
            os.execvp("echo", ["echo", "from", "echo"])
            """)
        rec, info = self.same(p)
        self.assertEqual(rec.stdout, "parent\nfrom echo\n")
        self.check_end(info, 0, "exec")
        self.assertTrue(info["exec"]["path"].endswith("/echo"), info["exec"])
        self.assertEqual(info["exec"]["trace"], "")
        self.assertEqual(info["exec"]["not_followed"], "not Python")

    def test_failed_exec_goes_on(self):
        p = self.prog("ex_fail.py", """\
            import os
            try:
                os.execv("/nonexistent/prog", ["prog"])
            except OSError as e:
                print("failed:", e.errno)
            """)
        rec, info = self.same(p)
        self.check_end(info, 0, "exit")

    def test_subprocess_python_is_followed(self):
        p = self.prog("sub.py", """\
            import subprocess, sys
            r = subprocess.run([sys.executable, "-c", "import sys; print('child'); sys.exit(4)"],
                               capture_output=True, text=True)
            print(repr(r.stdout), repr(r.stderr), r.returncode)
            r = subprocess.run(["true"])
            print(r.returncode)
            """)
        rec, info = self.same(p)
        self.assertIn("'child\\n' '' 4", rec.stdout)
        kids = [f for f in os.listdir(self.tmp) if f.startswith("trace.") and f != "trace.rwd"]
        self.assertEqual(len(kids), 1, kids)
        child = rwtest.info(os.path.join(self.tmp, kids[0]))
        self.assertEqual((child["exit_status"], child["started_by"], child["parent_pid"]),
                         (4, "subprocess", info["pid"]))
        self.assertEqual(kids[0], "trace.%d.rwd" % child["pid"])

    def test_subprocess_with_bundled_options_is_followed(self):
        # python3's short options bundle (-sm MODULE, -mMODULE, -Bsc CODE, -Xdev, a
        # missing script): CPython's test_cmd_line_script runs `python3 -sm pkg`, which
        # was taken for a script named after the module. Each child runs as under
        # python3 and is recorded; a missing script gets python3's message and status.
        self.write("pkg/__main__.py", "import sys\n"
                   "print('pkg', sys.argv[1:], sys.flags.no_user_site, "
                   "sys.flags.dont_write_bytecode, sys.flags.dev_mode)\n")
        p = self.prog("bundles.py", """\
            import subprocess, sys
            for args in (["-sm", "pkg", "a"], ["-mpkg", "b"], ["-Bsm", "pkg"],
                         ["-Bsc", "import sys; print('code', sys.argv[1:])", "c"],
                         ["-Xdev", "-sm", "pkg"], ["-W", "ignore", "-sSm", "pkg"],
                         ["no-such-script.py"]):
                r = subprocess.run([sys.executable] + args, capture_output=True, text=True)
                print(r.returncode, r.stdout.strip(), r.stderr.strip()[-120:])
            """)
        rec, info = self.same(p)
        self.assertIn("0 pkg ['a'] 1 ", rec.stdout)
        self.assertIn("can't open file", rec.stdout)
        kids = [f for f in os.listdir(self.tmp) if f.startswith("trace.") and f != "trace.rwd"]
        self.assertEqual(len(kids), 6, kids)

    def test_python_behind_a_script_env_or_link_is_followed(self):
        # A Python program started by another name than python3's: a script whose #!
        # line names the interpreter (directly, with an option, or through
        # /usr/bin/env), `env python3 ...`, and a link to the interpreter (as a
        # virtual environment's bin/python3). Each is recorded as python3 runs it; a
        # shell script is not Python.
        env_tool = self.write("tool_env.py", "#!/usr/bin/env python3\n"
                              "import sys\nprint('env tool', sys.argv[1:])\nsys.exit(5)\n")
        abs_tool = self.write("tool_abs.py", "#!%s -u\n"
                              "import sys\nprint('abs tool', sys.argv, "
                              "sys.flags.ignore_environment)\n" % os.path.realpath(sys.executable))
        sh_tool = self.write("tool.sh", "#!/bin/sh\necho shell tool\n")
        for t in (env_tool, abs_tool, sh_tool):
            os.chmod(t, 0o755)
        os.symlink(os.path.realpath(sys.executable), os.path.join(self.tmp, "py-link"))
        p = self.prog("behind.py", """\
            import os, subprocess, sys
            env = dict(os.environ, PATH="/usr/bin:/bin")
            for argv in (["./tool_env.py", "a", "b"], [os.path.abspath("tool_abs.py"), "c"],
                         ["/usr/bin/env", "python3", "-c", "print('via env')"],
                         ["./py-link", "-c", "import sys; print('link', sys.argv)"],
                         ["./tool.sh"]):
                r = subprocess.run(argv, capture_output=True, text=True, env=env)
                print(r.returncode, r.stdout.strip(), r.stderr.strip()[-200:])
            """)
        rec, info = self.same(p)
        self.assertIn("5 env tool ['a', 'b']", rec.stdout)
        self.assertIn("0 shell tool", rec.stdout)
        kids = {}
        for f in os.listdir(self.tmp):
            if f.startswith("trace.") and f != "trace.rwd":
                child = rwtest.info(os.path.join(self.tmp, f))
                self.assertEqual((child["started_by"], child["parent_pid"]),
                                 ("subprocess", info["pid"]), f)
                kids[child["command"]] = (child["argv"], child["exit_status"],
                                          child["python_executable"])
        link = os.path.join(self.tmp, "py-link")
        self.assertEqual(kids, {
            "python3 ./tool_env.py a b": (["./tool_env.py", "a", "b"], 5, "/usr/bin/python3"),
            "python3 -u %s c" % abs_tool: ([abs_tool, "c"], 0, os.path.realpath(sys.executable)),
            "python3 -c 'print('\\''via env'\\'')'": (["-c"], 0, "/usr/bin/python3"),
            "python3 -c 'import sys; print('\\''link'\\'', sys.argv)'": (["-c"], 0, link)})
        # A child's trace replays with values.
        env_trace = next(f for f in os.listdir(self.tmp)
                         if f.startswith("trace.") and f != "trace.rwd"
                         and rwtest.info(os.path.join(self.tmp, f))["exit_status"] == 5)
        r = subprocess.run([rwtest.rewind_bin(), "replay", "--no-rc",
                            os.path.join(self.tmp, env_trace)],
                           input="goto @main-end\np sys.argv[1:]\nq\n",
                           capture_output=True, text=True, timeout=120)
        self.assertIn("['a', 'b']", r.stdout, r.stdout + r.stderr)

    def test_no_follow(self):
        p = self.prog("sub_nf.py", """\
            import subprocess, sys
            subprocess.run([sys.executable, "-c", "pass"])
            """)
        rec = self.record(p, options=["-q", "--no-follow"])
        self.assertEqual(rec.returncode, 0)
        self.assertEqual(sorted(f for f in os.listdir(self.tmp) if f.endswith(".rwd")),
                         ["trace.rwd"])


    # ---- forked children -------------------------------------------------------------

    def children(self, info):
        return {c["pid"]: c for c in info["children"]}

    def test_os_fork_child_is_recorded(self):
        p = self.prog("forker.py", """\
            import os

            def square(n):
                return n * n

            def in_child():
                print("child", square(7), flush=True)
                return 3

            pid = os.fork()
            if pid == 0:
                os._exit(in_child())
            _, st = os.waitpid(pid, 0)
            print("parent saw", os.waitstatus_to_exitcode(st))
            """)
        rec, info = self.same(p)
        kids = self.children(info)
        self.assertEqual(len(kids), 1, info["children"])
        (pid, kid), = kids.items()
        self.assertEqual(os.path.basename(kid["trace"]), "trace.%d.rwd" % pid)
        self.assertEqual((kid["started_by"], kid["exit_status"], kid["stop_reason"]),
                         ("fork", 3, "_exit"))
        child = os.path.join(self.tmp, "trace.%d.rwd" % pid)
        v = rwtest.rewind("verify", child, check=False)
        self.assertEqual(v.returncode, 0, v.stdout + v.stderr)
        cinfo = rwtest.info(child)
        self.assertEqual((cinfo["pid"], cinfo["parent_pid"], cinfo["started_by"]),
                         (pid, info["pid"], "fork"))
        # The child's trace opens with the stack it was forked in, then runs on: its
        # lines are the child's branch only, and its frames resolve to the program.
        evs = [e for e in rwtest.events(child) if e["kind"] != "thread"]
        self.assertEqual((evs[0]["kind"], evs[0]["qualname"]), ("call", "<module>"))
        lines = [e["line"] for e in evs if e["kind"] == "line" and e["file"] == p]
        self.assertIn(12, lines)       # os._exit(in_child())
        self.assertIn(7, lines)        # print("child", ...) inside in_child
        self.assertNotIn(14, lines)    # the parent's branch
        calls = [e["qualname"] for e in evs if e["kind"] == "call"]
        self.assertIn("square", calls)
        # The parent lists the child in its END record with where it was forked.
        end = pyreader.Trace(rec.trace).end
        self.assertEqual([c["pid"] for c in end["children"]], [pid])
        # --child PID opens the child's trace from the parent's.
        self.assertEqual(rwtest.info(rec.trace, "--child", str(pid))["pid"], pid)
        r = rwtest.run([rwtest.rewind_bin(), "replay", rec.trace, "--child", str(pid)],
                       stdin="where\np n\nquit\n")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn("forker.py", r.stdout)
        self.assertIn("<module>()", r.stdout)
        # no values in a forked child's trace: said as such, with the parent's trace (it
        # said "recorded without input capture ... by this version of rewind")
        self.assertIn("is a forked child's trace, which starts in the middle of a program: "
                      "it cannot be re-executed on its own (the parent's trace, ", r.stdout)
        p2 = rwtest.rewind("info", rec.trace, "--child", "1", check=False)
        self.assertEqual(p2.returncode, 1)
        self.assertIn("no child with pid 1 (children: %d)" % pid, p2.stderr)

    def test_fork_in_a_thread_and_grandchildren(self):
        """A child forked from a thread ends when that thread does (no exit(): the
        C library ends the last thread's process); its own child is named from it."""
        p = self.prog("forker_thr.py", """\
            import os, threading, time

            stop = False
            def busy():
                while not stop:
                    time.sleep(0.001)
            t = threading.Thread(target=busy)
            t.start()

            def fork_in_thread():
                pid = os.fork()
                if pid == 0:
                    gp = os.fork()
                    if gp == 0:
                        print("grandchild", flush=True)
                        os._exit(7)
                    os.waitpid(gp, 0)
                    raise ValueError("child fails")
                os.waitpid(pid, 0)

            th = threading.Thread(target=fork_in_thread)
            th.start()
            th.join()
            stop = True
            t.join()
            print("parent done")
            """)
        rec, info = self.same(p)
        (kid,) = info["children"]
        self.assertEqual((kid["exit_status"], kid["stop_reason"]), (0, "exit"))
        child = kid["trace"]
        cinfo = rwtest.info(child)
        (grandkid,) = cinfo["children"]
        self.assertEqual(os.path.basename(grandkid["trace"]),
                         "trace.%d.%d.rwd" % (kid["pid"], grandkid["pid"]))
        self.assertEqual((grandkid["exit_status"], grandkid["stop_reason"]), (7, "_exit"))
        for t in (child, grandkid["trace"]):
            v = rwtest.rewind("verify", t, check=False)
            self.assertEqual(v.returncode, 0, v.stdout + v.stderr)
        excs = [e for e in rwtest.events(child, "--kinds", "exception")
                if e["text"] and "child fails" in e["text"]]
        self.assertTrue(excs)

    def test_multiprocessing_children(self):
        for method in ("fork", "forkserver", "spawn"):
            with self.subTest(method=method):
                sub = os.path.join(self.tmp, method)
                os.makedirs(sub)
                p = os.path.join(sub, "mp.py")
                with open(p, "w") as f:
                    f.write(textwrap.dedent(f"""\
                        import multiprocessing as mp

                        def work(n):
                            return n * n

                        if __name__ == "__main__":
                            ctx = mp.get_context({method!r})
                            with ctx.Pool(2) as pool:
                                print(pool.map(work, range(6)))
                        """))
                want = rwtest.python(p, cwd=sub)
                rec = rwtest.record(p, cwd=sub, options=["-q"])
                self.assertEqual((rec.returncode, rec.stdout, rec.stderr),
                                 (want.returncode, want.stdout, want.stderr))
                info = rwtest.info(rec.trace)
                traces = sorted(f for f in os.listdir(sub) if f.endswith(".rwd"))
                self.assertGreater(len(traces), 1, traces)
                # Every trace of the family is closed, and some child ran work().
                worked = False
                for t in traces:
                    path = os.path.join(sub, t)
                    v = rwtest.rewind("verify", path, check=False)
                    if v.returncode != 0:  # which process of the family, and how it went
                        i = rwtest.rewind("info", path, check=False)
                        self.fail(t + ": " + v.stdout + v.stderr + i.stdout + i.stderr)
                    calls = {e["qualname"] for e in rwtest.events(path, "--kinds", "call")}
                    worked |= t != "trace.rwd" and "work" in calls
                self.assertTrue(worked, traces)
                if method == "fork":
                    self.assertEqual(len(info["children"]), 2, info["children"])

    def test_no_follow_leaves_children_unrecorded(self):
        p = self.prog("forker_nf.py", """\
            import os
            pid = os.fork()
            if pid == 0:
                os._exit(0)
            os.waitpid(pid, 0)
            """)
        rec = self.record(p, options=["-q", "--no-follow"])
        self.assertEqual(rec.returncode, 0)
        self.assertEqual([f for f in os.listdir(self.tmp) if f.endswith(".rwd")], ["trace.rwd"])
        end = pyreader.Trace(rec.trace).end
        self.assertEqual([c["not_followed"] for c in end["children"]], ["--no-follow"])
        self.assertIn("not followed: --no-follow", rwtest.rewind("info", rec.trace).stdout)

    # ---- real code: CPython's own test modules ------------------------------------------

    def test_cpython_test_modules(self):
        """unittest.main() in -m mode, on CPython's own tests (Debian's
        libpython3.11-testsuite, installed by scripts/install-deps.sh): the same status
        and summary as python3, a verified trace that ends in SystemExit."""
        for mod in ("test.test_bisect", "test.test_fnmatch", "test.test_textwrap"):
            with self.subTest(mod=mod):
                want = self.python(["-m", mod])
                self.assertNotIn("No module named", want.stderr,
                                 "install libpython3.11-testsuite (scripts/install-deps.sh)")
                rec = self.record(["-m", mod], options=["-q", "--force"])
                self.assertEqual(rec.returncode, want.returncode, rec.stderr[-2000:])
                self.assertEqual(rec.stderr.splitlines()[-1], want.stderr.splitlines()[-1])
                v = rwtest.rewind("verify", rec.trace, check=False)
                self.assertEqual(v.returncode, 0, v.stdout + v.stderr)
                info = rwtest.info(rec.trace)
                self.assertEqual((info["exit_status"], info["stop_reason"]),
                                 (want.returncode, "SystemExit"))

    # ---- signals -------------------------------------------------------------------------

    SLEEPER = """\
        import signal, sys, threading, time
        signal.signal(signal.SIGINT, signal.default_int_handler)  # even if inherited ignored
        def worker():
            while True:
                time.sleep(0.01)
        threading.Thread(target=worker, daemon=True).start()
        def deep(n):
            if n == 0:
                print("ready", flush=True)
                time.sleep(60)
                return
            deep(n - 1)
        deep(3)
        """

    def killed(self, argv, sig):
        """Runs argv until it prints 'ready', sends sig; returns (status, stdout, stderr)."""
        import subprocess
        dfl = lambda: signal.signal(signal.SIGQUIT, signal.SIG_DFL)  # not a shell's SIG_IGN
        p = subprocess.Popen(argv, cwd=self.tmp, stdin=subprocess.DEVNULL, preexec_fn=dfl,
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                             env=rwtest.clean_env())
        import select
        if not select.select([p.stdout], [], [], 120)[0]:  # never "ready": fail, not hang
            p.kill()
            out, err = p.communicate()
            self.fail(f"{argv} printed nothing: {out!r} {err!r}")
        line = p.stdout.readline()
        self.assertEqual(line, "ready\n")
        p.send_signal(sig)
        out, err = p.communicate(timeout=120)
        return p.returncode, line + out, err

    def test_terminating_signals(self):
        p = self.prog("sleeper.py", self.SLEEPER)
        trace = os.path.join(self.tmp, "trace.rwd")
        for sig in (signal.SIGTERM, signal.SIGHUP, signal.SIGQUIT, signal.SIGINT):
            with self.subTest(sig=sig.name):
                want = self.killed([rwtest.python_bin(), p], sig)
                got = self.killed([rwtest.rewind_bin(), "record", "-q", "--force", "-o", trace, p],
                                  sig)
                # The signal may land on line 9 or 10 of deep(): the KeyboardInterrupt
                # traceback's last frame may differ between the two runs, nothing else.
                self.assertEqual(got[:2], want[:2])
                self.assertEqual(got[2].splitlines()[-1:], want[2].splitlines()[-1:])
                self.assertEqual(got[2].splitlines()[:5], want[2].splitlines()[:5])
                v = rwtest.rewind("verify", trace, check=False)
                self.assertEqual(v.returncode, 0, v.stdout + v.stderr)
                info = rwtest.info(trace)
                self.assertEqual((info["exit_status"], info["term_signal"], info["stop_reason"]),
                                 (128 + sig, sig, "signal"))
                # The main thread was in deep(0), printing "ready" or asleep: its last
                # line is in the trace (the signal may beat line 10's event).
                self.assertIn(last_line_in(trace, p, thread=1)[0], (9, 10))
                if sig != signal.SIGINT:
                    rep = info["crashes"][-1]
                    self.assertEqual((rep["kind"], rep["signal_name"]), ("terminated", sig.name))

    def test_terminated_during_start_up_leaves_a_whole_trace(self):
        # A pool's worker that gets SIGTERM while `rewind record` starts (Pool.__exit__
        # terminates workers that have not run yet): from the trace's file to the
        # handlers that close it, the signal used to kill the process with the file
        # half written ("holds no events", no end record; 19 of 102 runs here). SIGTERM
        # at 80 moments spread over a whole recording's time (measured first: 23 ms
        # here when idle, several times that on a busy machine): each trace left is
        # whole.
        p = self.prog("short.py", "x = sum(range(1000))\nprint(x)\n")
        trace = os.path.join(self.tmp, "t.rwd")
        env = rwtest.clean_env()
        began = time.monotonic()
        subprocess.run([rwtest.rewind_bin(), "record", "-q", "-o", trace, p], cwd=self.tmp,
                       env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                       check=True, timeout=rwtest.DEFAULT_TIMEOUT)
        whole = (time.monotonic() - began) * 1000
        left = 0
        for ms in (whole * n / 80 for n in range(81)):
            if os.path.exists(trace):
                os.remove(trace)
            proc = subprocess.Popen([rwtest.rewind_bin(), "record", "-q", "-o", trace, p],
                                    cwd=self.tmp, env=env, stdout=subprocess.DEVNULL,
                                    stderr=subprocess.DEVNULL)
            try:
                proc.wait(ms / 1000)
            except subprocess.TimeoutExpired:
                proc.send_signal(signal.SIGTERM)
                proc.wait(rwtest.DEFAULT_TIMEOUT)
            if os.path.exists(trace):
                left += 1
                v = rwtest.rewind("verify", trace, check=False)
                self.assertEqual(v.returncode, 0, f"SIGTERM after {ms} ms: {v.stdout}{v.stderr}")
        self.assertGreater(left, 0)


class Interpreter(rwtest.TestCase):
    """rewind links libpython: after python3.11 is updated, the installed standard
    library is not the one its interpreter goes with, and recording refuses."""

    def fake_home(self, touch):
        """A PYTHONHOME whose stdlib is the system's, but for os.py, copied (with a
        new time stamp when touch is set)."""
        import shutil
        home = os.path.join(self.tmp, "home")
        lib = os.path.join(home, "lib", "python3.11")
        os.makedirs(lib)
        src = "/usr/lib/python3.11"
        for name in os.listdir(src):
            if name != "os.py":
                os.symlink(os.path.join(src, name), os.path.join(lib, name))
        shutil.copy2(os.path.join(src, "os.py"), os.path.join(lib, "os.py"))
        if touch:
            os.utime(os.path.join(lib, "os.py"), (1e9, 1e9))
        return home

    def test_the_build_is_recorded(self):
        rec = self.record(["-c", "pass"], options=["-q"])
        info = rwtest.info(rec.trace)
        self.assertRegex(info["python_build"], r"stdlib \d+$")

    def test_same_build_records(self):
        home = self.fake_home(touch=False)
        rec = self.record(["-c", "import os; print(os.__file__)"], options=["-q"],
                          env={"PYTHONHOME": home})
        self.assertEqual(rec.returncode, 0, rec.stderr)
        self.assertTrue(rec.stdout.startswith(home), rec.stdout)

    def test_updated_stdlib_is_refused(self):
        if "stdlib 0" in rwtest.info(self.record(["-c", "pass"], options=["-q"]).trace)["python_build"]:
            self.skipTest("rewind links the shared libpython: nothing to check")
        home = self.fake_home(touch=True)
        rec = self.record(["-c", "print('ran')"], options=["-q"], env={"PYTHONHOME": home})
        self.assertEqual(rec.returncode, 1)
        self.assertEqual(rec.stdout, "")
        lines = rec.stderr.splitlines()
        self.assertEqual(len(lines), 1, rec.stderr)
        self.assertRegex(lines[0], r"^rewind record: python3.11 was updated after rewind was "
                                   r"built: rebuild rewind \(scripts/build.sh\) or add --force")
        self.assertIn(os.path.join(home, "lib", "python3.11"), lines[0])
        self.assertFalse(os.path.exists(rec.trace))
        rec = self.record(["-c", "print('ran')"], options=["-q", "--force"],
                          env={"PYTHONHOME": home})
        self.assertEqual((rec.returncode, rec.stdout), (0, "ran\n"))


if __name__ == "__main__":
    unittest.main()

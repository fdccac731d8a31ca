"""End-to-end tests of `rewind record`: the recorded program behaves as under python3,
and the trace holds what sys.settrace + sys.setprofile and tracemalloc see.

Traces are read with pyreader.py (the independent reader of docs/format.md), so these
tests also hold when `rewind events` is not built.
"""

import json
import os
import re
import signal
import subprocess
import sys
import time
import unittest

import pyreader
import rwtest

PROGS = os.path.join(rwtest.HERE, "progs")

# The reference: plain python3 runs the program under a Python trace function (call,
# line, return, exception) and a Python profile function (c_call, c_return,
# c_exception only), in every thread (threading.settrace/setprofile). Events are kept
# only when the frame they belong to is in the program's own file: the reference
# starts the program through runpy.run_path (whose frames, and threading's, are not in
# the file) while rewind starts it as python3 does, so only the program's own frames
# are comparable. C events belong to the Python frame that made the call.
REFERENCE = r'''
import json, os, runpy, sys, threading

prog = os.path.abspath(sys.argv[1])
out_path = sys.argv[2]
sys.argv = [sys.argv[1]] + sys.argv[3:]
sys.path[0] = os.path.dirname(prog)
events = []

def label(fn):
    # cProfile's name for a C function (Modules/_lsprof.c, normalizeUserObj).
    name = fn.__name__
    self = getattr(fn, "__self__", None)
    mod = getattr(fn, "__module__", None)
    if type(mod).__name__ == "module":
        mod = mod.__name__
    if self is None:
        if isinstance(mod, str) and mod != "builtins":
            return "<%s.%s>" % (mod, name)
        return "<%s>" % name
    for k in type(self).__mro__:
        if name in k.__dict__:
            return repr(k.__dict__[name])
    if isinstance(mod, str):
        return "<built-in method %s.%s>" % (mod, name)
    return "<built-in method %s>" % name

def type_name(t):
    mod = getattr(t, "__module__", "<unknown>")
    q = t.__qualname__
    return q if mod in ("builtins", "__main__") else "%s.%s" % (mod, q)

def rec(frame, event, arg):
    if frame.f_code.co_filename != prog:
        return
    if event.startswith("c_"):
        func, extra = label(arg), ""
    else:
        func, extra = frame.f_code.co_qualname, ""
    if event == "exception":
        extra = "%s: %s" % (type_name(arg[0]), arg[1])
    events.append([threading.current_thread().name, event, func, frame.f_lineno, extra])

def tracer(frame, event, arg):
    rec(frame, event, arg)
    return tracer

def profiler(frame, event, arg):
    if event.startswith("c_"):
        rec(frame, event, arg)

threading.settrace(tracer)
threading.setprofile(profiler)
sys.setprofile(profiler)
sys.settrace(tracer)
try:
    runpy.run_path(prog, run_name="__main__")
finally:
    sys.settrace(None)
    sys.setprofile(None)
    with open(out_path, "w") as f:
        json.dump(events, f)
'''


class Replay:
    """A trace read back with shadow stacks: per thread, the frames open at each
    record, so that every record can be given the file, function and line of the
    Python frame it belongs to."""

    def __init__(self, path):
        self.t = pyreader.Trace(path)
        self.records = list(self.t.records())

    def code_file(self, code):
        return self.t.files[self.t.codes[code]["file"]]["path"]

    def walk(self):
        """Yields (record, thread name, top Python frame) where the frame is a list
        [code, line] (None when the thread has no Python frame)."""
        stacks = {}
        for r in self.records:
            st = stacks.setdefault(r["thread"], [])
            k = r["kind"]
            if k == "call":
                st.append(["py", r["code"], r["line"]])
            elif k == "line":
                if st and st[-1][0] == "py":
                    st[-1][2] = r["line"]
            elif k == "c_call":
                st.append(["c", r["cfunc"], 0])
            top = next((f for f in reversed(st) if f[0] == "py"), None)
            name = self.t.threads[r["thread"]]["name"] if r["thread"] in self.t.threads else "?"
            yield r, name, (None if top is None else [top[1], top[2]])
            if k == "return" and st and st[-1][0] == "py":
                st.pop()
            elif k in ("c_return", "c_exception") and st and st[-1][0] == "c":
                st.pop()

    def program_events(self, prog):
        """The events of frames in file prog, as the reference tracer lists them."""
        out = []
        prog = os.path.abspath(prog)
        for r, thread, top in self.walk():
            k = r["kind"]
            if k not in ("call", "line", "return", "exception", "c_call", "c_return",
                         "c_exception") or top is None:
                continue
            if os.path.abspath(self.code_file(top[0])) != prog:
                continue
            if k.startswith("c_"):
                # c_call: the C frame was pushed on top; its caller is `top`.
                func = self.t.cfuncs[r["cfunc"]]["label"]
            else:
                func = self.t.codes[top[0]]["qualname"]
            extra = "%s: %s" % (r["name"], r["text"]) if k == "exception" else ""
            out.append([thread, k, func, top[1], extra])
        return out


def by_thread(events):
    """Events grouped per thread name: thread interleaving differs between runs."""
    out = {}
    for e in events:
        out.setdefault(e[0], []).append(e[1:])
    return out


class RecordTestCase(rwtest.TestCase):
    def prog(self, name):
        return self.copy(os.path.join(PROGS, name))

    def record_ok(self, target, args=(), **kw):
        rec = self.record(target, args, **kw)
        self.assertTrue(os.path.exists(rec.trace), rec.stderr)
        return rec


class TestEventsMatchSettrace(RecordTestCase):
    """The event sequence equals what sys.settrace + sys.setprofile see."""

    def check_program(self, name, args=()):
        prog = self.prog(name)
        ref_script = self.write("reference.py", REFERENCE)
        ref_out = os.path.join(self.tmp, "reference.json")
        ref = rwtest.run([rwtest.python_bin(), ref_script, prog, ref_out, *args], cwd=self.tmp)
        with open(ref_out) as f:
            expected = json.load(f)
        rec = self.record_ok(prog, args)
        self.assertEqual(rec.stdout, ref.stdout)
        got = Replay(rec.trace).program_events(prog)
        self.assertGreater(len(expected), 10)
        self.assertEqual(by_thread(got), by_thread(expected))
        return got

    def test_recursion(self):
        got = self.check_program("recursion.py")
        self.assertEqual(sum(1 for e in got if e[1] == "call" and e[2] == "fib"), 177)

    def test_generators(self):
        self.check_program("generators.py")

    def test_async(self):
        self.check_program("async_prog.py")

    def test_exceptions_caught(self):
        got = self.check_program("exceptions.py")
        self.assertIn(["MainThread", "exception", "fail", 7, "ValueError: bad value 42"], got)
        self.assertIn(["MainThread", "exception", "fail", 10, "KeyError: 'missing'"], got)

    def test_exception_uncaught(self):
        got = self.check_program("uncaught.py")
        self.assertIn(["MainThread", "exception", "inner", 2,
                       "ZeroDivisionError: division by zero"], got)

    def test_class_and_builtins(self):
        got = self.check_program("classes.py")
        labels = {e[2] for e in got if e[1] == "c_call"}
        self.assertIn("<method 'append' of 'list' objects>", labels)
        self.assertIn("<built-in method builtins.len>", labels)
        self.assertIn("<built-in method builtins.sorted>", labels)

    def test_threads(self):
        got = self.check_program("threads.py")
        self.assertEqual({e[0] for e in got}, {"MainThread", "worker-0", "worker-1", "worker-2"})


class TestDefinitions(RecordTestCase):
    """Definitions are interned once per process, whichever thread sees them first."""

    PROG = """\
import threading

def work(n):
    for i in range(n):
        try:
            raise ValueError(len([i]))
        except ValueError:
            pass
        sorted([2, 1])

threads = [threading.Thread(target=work, args=(50,)) for _ in range(3)]
for t in threads:
    t.start()
work(50)
for t in threads:
    t.join()
print("ok")
"""

    def test_each_definition_once(self):
        prog = self.write("defs_once.py", self.PROG)
        rec = self.record_ok(prog, options=["-q"])
        self.assertEqual(rec.stdout, "ok\n")
        t = pyreader.Trace(rec.trace)
        texts = [n["text"] for n in t.names.values()]
        self.assertEqual(len(texts), len(set(texts)), texts)
        self.assertIn("ValueError", texts)
        paths = [f["path"] for f in t.files.values()]
        self.assertEqual(len(paths), len(set(paths)), paths)
        self.assertEqual(sum(1 for p in paths if p.endswith("defs_once.py")), 1)
        labels = [c["label"] for c in t.cfuncs.values()]
        for label in ("<built-in method builtins.len>", "<built-in method builtins.sorted>"):
            self.assertEqual(labels.count(label), 1, labels)
        work = [c for c in t.codes.values() if c["qualname"] == "work"]
        self.assertEqual(len(work), 1)
        self.assertIn(work[0]["file"], t.files)
        self.assertEqual(len(t.threads), 4)


class TestBehavesLikePython(RecordTestCase):
    """Output and exit status are those of python3."""

    def same(self, name, args=(), stdin=None):
        prog = self.prog(name)
        want = self.python(prog, args, stdin=stdin)
        rec = self.record_ok(prog, args, stdin=stdin, options=["-q"])
        self.assertEqual(rec.stdout, want.stdout)
        self.assertEqual(rec.stderr, want.stderr)
        self.assertEqual(rec.returncode, want.returncode)
        return rec

    def test_normal(self):
        self.assertEqual(self.same("recursion.py").returncode, 0)

    def test_sys_exit(self):
        self.assertEqual(self.same("exit3.py").returncode, 3)

    def test_uncaught(self):
        rec = self.same("uncaught.py")
        self.assertEqual(rec.returncode, 1)
        self.assertIn("ZeroDivisionError: division by zero", rec.stderr)
        t = pyreader.Trace(rec.trace)
        self.assertEqual(t.end["exit_status"], 1)
        self.assertEqual(t.end["uncaught_type"], "ZeroDivisionError")
        self.assertEqual(t.end["uncaught_message"], "division by zero")
        tb = [(t.codes[e["code"]]["qualname"], e["line"]) for e in t.end["uncaught_traceback"]]
        self.assertEqual(tb, [("<module>", 10), ("outer", 7), ("inner", 2)])

    def test_uncaught_exception_in_a_thread_of_start_new_thread(self):
        # CPython reports it through sys.unraisablehook with the thread's function as
        # the object (its test_thread checks that): rewind's bootstrap, which runs
        # first in the thread, must not be the one named. The replay shows the
        # values the hook collected.
        # The program waits for the threads by polling _thread._count(), which counts
        # a thread until after the hook's report: a count that the replay reads
        # from the log (the thread's end is ordered by no event). Three runs: the
        # polls that timing decides differ between them.
        for run in range(3):
            rec = self.same("thread_uncaught.py")
            self.assertIn("Exception ignored in thread started by: <task raising KeyError>",
                          rec.stderr)
            self.assertIn("'<task raising ValueError>'", rec.stdout)
            proc = rwtest.run([rwtest.rewind_bin(), "replay", "--no-rc", rec.trace],
                              stdin="goto @main-end\np seen[0][1]\nq\n")
            self.assertIn("'<task raising ValueError>'", proc.stdout, proc.stderr)
            self.assertNotIn("diverge", proc.stdout + proc.stderr)

    def test_thread_objects_keep_their_attributes_inline(self):
        # rewind reads a Thread's name as it starts and as it ends; reading it through
        # the instance's __dict__ made that dict (64 bytes a plain run does not have,
        # visible to gc.get_referents), and made it in the new thread when the
        # scheduler first gave it the GIL, which moved the starter's next objects in a
        # replay (test_values test_addresses_with_threads_that_end). The names are
        # still the threads'.
        rec = self.same("thread_dict.py")
        self.assertIn("[False, False, False] ['worker-0', 'worker-1', 'worker-2']", rec.stdout)
        info = rwtest.run([rwtest.rewind_bin(), "info", rec.trace])
        for i in range(3):
            self.assertRegex(info.stdout, rf"t{i + 2} .* worker-{i}\n")

    def test_stdin_and_args(self):
        rec = self.same("stdin_echo.py", ["a", "b c"], stdin="hello\nworld\n")
        self.assertIn("olleh", rec.stdout)

    def test_pre_configuration_options(self):
        # -X dev and -X utf8 decide Python's pre-configuration, and -X
        # warn_default_encoding is read with them: a child started with them (CPython's
        # test_unicode and test_bytes run `python3 -X dev -c ...`, test_io and
        # test_subprocess `-X warn_default_encoding`, which rewind records) must get
        # them, as must `--python-flag`.
        code = ("import subprocess, sys\n"
                "print(sys.flags.dev_mode, sys.flags.utf8_mode)\n"
                "r = subprocess.run([sys.executable, '-X', 'dev', '-X', 'utf8', '-X',\n"
                "    'warn_default_encoding', '-c', 'import sys; f = sys.flags; '\n"
                "    'print(f.dev_mode, f.utf8_mode, f.warn_default_encoding)'],\n"
                "    capture_output=True, text=True)\n"
                "print(r.stdout.strip())\n")
        want = self.python(["-X", "dev", "-c", code])
        rec = self.record(["-c", code], options=["-q", "--python-flag", "-X",
                                                 "--python-flag", "dev"])
        self.assertEqual((rec.stdout, rec.returncode), (want.stdout, want.returncode))
        self.assertEqual(want.stdout, "True 0\nTrue 1 1\n")

    def test_no_site(self):
        # -S: os is not imported at start-up. rewind's own start-up made an empty os
        # module (and then failed in os.register_at_fork): CPython's test_cmd_line runs
        # `python3 -S -c ...` children. The modules loaded are python3's.
        code = "import sys\nprint(sorted(sys.modules))\nimport os\nprint(os.sep)\n"
        want = self.python(["-S", "-c", code])
        rec = self.record(["-c", code], options=["-q", "--python-flag", "-S"])
        self.assertEqual((rec.stdout, rec.returncode), (want.stdout, want.returncode),
                         rec.stderr)
        self.assertIn("'posix'", want.stdout)

    def test_interpreter_that_cannot_start(self):
        # A configuration python3 refuses at start-up (PYTHONTRACEMALLOC out of range):
        # its fatal error and the exception behind it, status 1, and no trace (CPython's
        # test_tracemalloc runs such children, which rewind records).
        env = {"PYTHONTRACEMALLOC": "1073741824"}
        want = self.python(["-c", "pass"], env=env)
        rec = self.record(["-c", "pass"], options=["-q"], env=env)
        self.assertEqual(rec.returncode, want.returncode)
        self.assertEqual(want.returncode, 1)
        self.assertIn("ValueError: the number of frames must be in range", want.stderr)
        self.assertEqual(rec.stderr.splitlines()[:3], want.stderr.splitlines()[:3])
        self.assertFalse(os.path.exists(rec.trace))

    def test_command_and_module(self):
        for target in (["-c", "import sys; print(sys.argv, sys.path[0] == '')"],
                       ["-m", "json.tool", "--help"]):
            want = self.python(target, ["x"] if target[0] == "-c" else [])
            rec = self.record(target, ["x"] if target[0] == "-c" else [], options=["-q"])
            self.assertEqual((rec.stdout, rec.stderr, rec.returncode),
                             (want.stdout, want.stderr, want.returncode))

    def test_unittest_module(self):
        suite = os.path.join(self.tmp, "suite")
        os.makedirs(suite)
        self.copy(os.path.join(PROGS, "suite", "test_small.py"), "suite/test_small.py")
        want = rwtest.python(["-m", "unittest", "-v", "test_small"], cwd=suite)
        rec = rwtest.record(["-m", "unittest", "-v", "test_small"], cwd=suite, options=["-q"])
        self.assertEqual(rec.returncode, want.returncode)
        self.assertEqual(rec.returncode, 0)
        strip = lambda s: [l for l in s.splitlines() if not l.startswith("Ran ")]
        self.assertEqual(strip(rec.stderr), strip(want.stderr))
        t = pyreader.Trace(rec.trace)
        names = {c["qualname"] for c in t.codes.values()}
        self.assertTrue({"Small.test_add", "Small.test_upper"} <= names)

    def test_pytest_module(self):
        suite = os.path.join(self.tmp, "suite")
        os.makedirs(suite)
        self.copy(os.path.join(PROGS, "suite", "test_small.py"), "suite/test_small.py")
        argv = ["-m", "pytest", "-q", "-p", "no:cacheprovider", "test_small.py"]
        want = rwtest.python(argv, cwd=suite)
        if "No module named pytest" in want.stderr:
            self.skipTest("pytest is not installed for " + rwtest.python_bin())
        rec = rwtest.record(argv, cwd=suite, options=["-q"])
        self.assertEqual(rec.returncode, want.returncode)
        self.assertIn("2 passed, 1 xfailed", rec.stdout)
        self.assertEqual(rec.stdout.split(" in ")[0], want.stdout.split(" in ")[0])

    def test_summary_line_and_default_name(self):
        prog = self.prog("recursion.py")
        for n in (1, 2):
            p = rwtest.run([rwtest.rewind_bin(), "record", prog], cwd=self.tmp)
            self.assertEqual(p.returncode, 0, p.stderr)
            self.assertRegex(p.stderr.splitlines()[-1],
                             r"^rewind: recorded [\d,]+ events, [\d,]+ allocations in "
                             r"[\d.]+ s \(writer thread [\d.]+ s CPU\) -> recursion-%d\.rwd "
                             r"\([\d.]+ [kM]?B\)$" % n)
        p = rwtest.run([rwtest.rewind_bin(), "record", "-o", "recursion-1.rwd", prog], cwd=self.tmp)
        self.assertEqual(p.returncode, 2)
        self.assertIn("already exists", p.stderr)

    def test_program_setting_its_own_trace_function(self):
        """A program that installs its own trace function (pdb, coverage) gets it chained
        behind rewind's hook (test_chain.py has the rest): nothing is lost, the calls made
        while it is set are recorded, and the program's function gets its events."""
        prog = self.write("own_trace.py", "import sys\n\ndef f(n):\n    return n + 1\n\n"
                          "seen = []\nf(1)\nsys.settrace(lambda fr, ev, a: seen.append(ev))\n"
                          "f(2)\nsys.settrace(None)\nprint('ok', seen)\n")
        rec = self.record(prog)
        self.assertEqual((rec.returncode, rec.stdout), (0, "ok ['call']\n"), rec.stderr)
        self.assertNotIn("incomplete", rec.stderr)
        self.assertEqual(pyreader.Trace(rec.trace).end["lost"], "")
        calls = [e for e in rwtest.events(rec.trace, "--kinds", "call") if e["func"] == "f"]
        self.assertEqual(len(calls), 2)

    def test_user_errors(self):
        cases = [(["record", "missing.py"], "missing.py"),
                 (["record", "--bogus", "x.py"], "unknown option"),
                 (["record"], "nothing to run"),
                 (["record", "-o", "/nonexistent/dir/t.rwd", "-c", "pass"], "/nonexistent/dir")]
        for argv, text in cases:
            p = rwtest.run([rwtest.rewind_bin(), *argv], cwd=self.tmp)
            self.assertNotEqual(p.returncode, 0, argv)
            self.assertIn(text, p.stderr, argv)
            self.assertEqual(len(p.stderr.strip().splitlines()) if argv != ["record"] else 1, 1,
                             p.stderr)


class TestMetadata(RecordTestCase):
    def test_env_redaction_and_seed(self):
        prog = self.prog("recursion.py")
        rec = self.record_ok(prog, env={"MY_API_TOKEN": "s3cret", "PLAIN_VAR": "visible",
                                        "PYTHONHASHSEED": "1234"},
                             options=["--redact", "plain_*"])
        m = pyreader.Trace(rec.trace).metadata
        env = {e["name"]: e for e in m["env"]}
        self.assertTrue(env["MY_API_TOKEN"]["redacted"])
        self.assertEqual(env["MY_API_TOKEN"].get("value", ""), "")
        self.assertTrue(env["PLAIN_VAR"]["redacted"])
        self.assertEqual(m["hash_seed"], 1234)
        self.assertEqual(m["run_kind"], "script")
        self.assertEqual(m["argv"], [prog])
        self.assertGreater(m["ns_per_tick"], 0)

    def test_clock_step(self):
        """The recorded clock leaves out the tick's low bits below 4 ns (docs/format.md,
        "Time"): a step of more than one tick is at most 4 ns, and one bit more would
        pass it."""
        m = pyreader.Trace(self.record_ok(self.prog("recursion.py")).trace).metadata
        shift = (m["options"] or {}).get("time_shift", 0)
        step = (1 << shift) * m["ns_per_tick"]
        if shift > 0:
            self.assertLessEqual(step, 4.0, (shift, m["ns_per_tick"]))
        if shift < 8:
            self.assertGreater(2 * step, 4.0, (shift, m["ns_per_tick"]))

    def test_command_in_info(self):
        """`rewind info` gives the command line that ran the program (sys.argv starts as
        ['-m', ...] or ['-c', ...] in such runs): run by a shell, it prints what the
        recorded run printed."""
        self.write("modx.py", "import sys\nprint('mod', sys.argv[1:])\n")
        cases = [(["-m", "modx"], ["a b", "it's"]),
                 (["-c", "import sys; print('code', sys.argv[1:])"], ["x", "$HOME"]),
                 ([os.path.join(self.tmp, "modx.py")], ["1", "2 3"])]
        for target, args in cases:
            with self.subTest(target=target):
                rec = self.record(target, args, options=["--python-flag", "-B"])
                self.assertEqual(rec.returncode, 0, rec.stderr)
                text = rwtest.rewind("info", rec.trace).stdout
                cmd = re.search(r"^command +(.*)$", text, re.M).group(1)
                self.assertTrue(cmd.startswith("python3 "), cmd)
                self.assertEqual(rwtest.info(rec.trace)["command"], cmd)
                shell = rwtest.run(["sh", "-c", rwtest.python_bin() + cmd[len("python3"):]],
                                   cwd=self.tmp)
                self.assertEqual(shell.stdout, rec.stdout)
                self.assertIn(repr(args), shell.stdout)


class TestAllocations(RecordTestCase):
    """Blocks allocated between two markers and still live at the second, attributed
    to the program's lines by the shadow stack, agree with tracemalloc(1) started at
    the first marker."""

    def test_against_tracemalloc(self):
        prog = self.prog("allocs.py")
        ref = self.python(prog, env={"ALLOCS_TRACEMALLOC": "1"})
        self.assertEqual(ref.returncode, 0, ref.stderr)
        want = {int(k): v for k, v in json.loads(ref.stdout).items()}
        rec = self.record_ok(prog)
        rp = Replay(rec.trace)
        live = {}
        started = False
        for r, _, top in rp.walk():
            k = r["kind"]
            if k == "call" and rp.t.codes[r["code"]]["name"] in ("start", "checkpoint"):
                if started:
                    break
                started = True
            if not started:
                continue
            if k.startswith("alloc_") and top is not None:
                live[r["addr"]] = (rp.code_file(top[0]), top[1], r["size"])
            elif k.startswith("alloc_"):
                live[r["addr"]] = (None, 0, r["size"])
            elif k.startswith("free_"):
                live.pop(r["addr"], None)
        got = {}
        for path, line, size in live.values():
            if path and os.path.abspath(path) == prog:
                c = got.setdefault(line, [0, 0])
                c[0] += 1
                c[1] += size
        # The two lines that hold the 10,000 points and their ints, and the list.
        for line in (16, 17):
            self.assertIn(line, want)
            self.assertEqual(got.get(line), want[line], f"line {line}")
        self.assertGreaterEqual(want[17][0], 10000)


LOOP = """
import sys
class P:
    __slots__ = ("x",)
    def __init__(self, x):
        self.x = x
total = 0
for i in range(int(sys.argv[1])):
    total += P(i).x & 3
print(total)
"""


def sanitized():
    out = subprocess.run(["ldd", rwtest.rewind_bin()], capture_output=True, text=True).stdout
    return "libasan" in out or "libubsan" in out


class TestMemoryBound(RecordTestCase):
    """A recording's own memory does not grow with the run's length (docs/recording.md,
    "Memory"): a run with 10 times the records peaks within the ring's bound (64 MiB of
    blocks, which a writer thread that falls behind may fill) of the shorter run, and
    both within 64 + 32 + 16 MiB of the untraced run; and its buffers are reused, not
    given back and touched again: the longer run takes about as many minor page faults
    as the shorter (issue 18). No timing in it."""

    def usage(self, argv):
        """(peak RSS in KB, minor page faults) of the run of argv."""
        p = subprocess.Popen(argv, cwd=self.tmp, stdout=subprocess.DEVNULL,
                             stderr=subprocess.PIPE, env=rwtest.clean_env())
        _, status, ru = os.wait4(p.pid, 0)
        err = p.stderr.read().decode(errors="replace")
        p.stderr.close()
        self.assertEqual(os.waitstatus_to_exitcode(status), 0, err)
        return ru.ru_maxrss, ru.ru_minflt

    @unittest.skipIf(sanitized(), "ASan's shadow memory and quarantine dominate the RSS")
    def test_peak_rss_does_not_grow_with_length(self):
        prog = self.write("loop.py", LOOP)
        untraced, _ = self.usage([rwtest.python_bin(), prog, "2000000"])
        peaks, faults = {}, {}
        for n in (200000, 2000000):  # about 1.2 M and 12 M records
            trace = os.path.join(self.tmp, f"loop{n}.rwd")
            peaks[n], faults[n] = self.usage([rwtest.rewind_bin(), "record", "-q", "-o",
                                              trace, prog, str(n)])
            self.assertGreater(rwtest.info(trace)["records"], 5 * n)
        self.assertLess(peaks[2000000], peaks[200000] + 64 * 1024, peaks)
        for n, kb in peaks.items():
            self.assertLess(kb, untraced + 112 * 1024, (n, kb, untraced))
        # 10.8 M more records are 170 MB of raw records: re-faulted blocks would be
        # 40,000 faults more. 256 is one 1 MiB block's worth (1,840 both, here).
        self.assertLess(faults[2000000], faults[200000] + 256, faults)


class TestKilled(RecordTestCase):
    def test_analyses_say_when_the_trace_is_damaged(self):
        """An analysis of a trace read only in part (here its trailer is cut off, so
        the index is lost and the frames are scanned) says so on stderr, and still
        answers from what it could read."""
        rec = self.record_ok(self.prog("recursion.py"))
        with open(rec.trace, "r+b") as f:
            f.truncate(os.path.getsize(rec.trace) - 16)
        for argv in (["stats"], ["coverage"], ["memory"], ["audit"], ["replay", "-x", "q"]):
            p = rwtest.run([rwtest.rewind_bin(), *argv, rec.trace], cwd=self.tmp, stdin="")
            # Issue 13: a damaged trace is a failure, whatever could be shown.
            self.assertEqual(p.returncode, 1, (argv, p.stderr))
            self.assertRegex(p.stderr, r"^rewind %s: \S+ is damaged: reading the first \d+ "
                             r"events \(.*\); 'rewind verify' says more\n" % argv[0], argv)
        full = self.record_ok(self.prog("recursion.py"), trace="whole.rwd")
        p = rwtest.run([rwtest.rewind_bin(), "stats", full.trace], cwd=self.tmp)
        self.assertNotIn("damaged", p.stderr)

    def test_sigkill_leaves_readable_trace(self):
        prog = self.prog("spin.py")
        trace = os.path.join(self.tmp, "killed.rwd")
        p = subprocess.Popen([rwtest.rewind_bin(), "record", "-o", trace, "--flush-ms", "50",
                              prog], cwd=self.tmp, stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, env=rwtest.clean_env())
        try:
            self.assertEqual(p.stdout.readline().strip(), b"ready")
            # Wait until at least one chunk is durable (the writer flushes every 50 ms).
            deadline = time.monotonic() + 60
            while time.monotonic() < deadline:
                t = pyreader.Trace(trace)
                if t.chunks():
                    break
                time.sleep(0.05)
        finally:
            p.send_signal(signal.SIGKILL)
            p.wait()
        self.assertEqual(p.returncode, -signal.SIGKILL)
        t = pyreader.Trace(trace)
        self.assertIsNone(t.end)
        self.assertIsNotNone(t.recovered)
        # The last chunk recovered, the one nearest the cut, reads in full (decoding
        # every chunk in Python took 25 s: the program runs on while the test waits).
        last = t.decode_chunk(pyreader.decode(pyreader.CHUNK, t.payload(t.chunks()[-1])))
        calls = [r for r in last if r["kind"] == "call" and
                 t.codes[r["code"]]["name"] == "step"]
        self.assertGreater(len(calls), 0)


if __name__ == "__main__":
    unittest.main()

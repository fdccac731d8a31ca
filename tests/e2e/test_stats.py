"""rewind stats against cProfile/pstats on the same deterministic programs.

By default `rewind stats` profiles what `python3 -m cProfile prog.py` profiles: the main
thread from the call of the script's <module> to its return, inside cProfile's
`{built-in method builtins.exec}` and followed by its `{method 'disable' of
'_lsprof.Profiler' objects}`, with the imports cProfile's run never makes (of the
modules cProfile has imported before it starts) left out, and the script keyed by the
path as given. So `rewind stats -o` is compared with `python3 -m cProfile -o`, run the
same way from the same directory, key by key: primitive and total call counts and
every caller with its counts (cProfile's longer sys.path modelled: docs/stats.md). The
one filter: a label holding an address (`<built-in method __new__ of type object at
0x9534a0>`) differs between any two processes, so the address is masked. --from/--to
windows are compared with the <module> window of the trace, minus cProfile's own
frames.
Times are only checked for sanity: they differ between two runs anyway.
"""

import keyword
import marshal
import os
import pstats
import re
import shutil
import unittest

import rwtest

PROGS = os.path.join(rwtest.HERE, "progs_stats")
CPYTHON_TESTS = "/usr/lib/python3.11/test"
ADDRESS = re.compile(r" at 0x[0-9a-f]+>$")

CPROFILE_OWN = {
    ("<string>", 1, "<module>"),
    ("~", 0, "<built-in method builtins.exec>"),
    ("~", 0, "<method 'disable' of '_lsprof.Profiler' objects>"),
}


def module_window(trace, script):
    """(from, to): the CALL of the script's <module> and the position after its RETURN
    (from `rewind events --json`, which names each frame's file and function)."""
    start = depth = None
    for rec in rwtest.events(trace):
        if rec["kind"] == "call" and start is None:
            if rec["func"] == "<module>" and os.path.basename(rec["file"] or "") == script:
                start, depth = rec["pos"], rec["depth"]
        elif rec["kind"] == "return" and start is not None and rec["depth"] == depth:
            return start, rec["pos"] + 1
    raise AssertionError(f"no complete <module> call of {script} in {trace}")


def without_cprofile_frames(stats):
    out = {}
    for func, (cc, nc, tt, ct, callers) in stats.items():
        if func in CPROFILE_OWN:
            continue
        out[func] = (cc, nc, tt, ct,
                     {k: v for k, v in callers.items() if k not in CPROFILE_OWN})
    return out


def counts(stats):
    """{label: (cc, nc, {caller: (nc, cc)})} of a pstats dict, addresses masked."""
    def norm(k):
        return (k[0], k[1], ADDRESS.sub(" at 0x?>", k[2]))
    return {norm(k): (cc, nc, {norm(c): tuple(v[:2]) for c, v in callers.items()})
            for k, (cc, nc, tt, ct, callers) in stats.items()}


class StatsTest(rwtest.TestCase):

    def cprofile_both(self, argv, cwd=None):
        """Records argv and runs it under python3 -m cProfile -o, both from cwd (default
        the test's directory); returns (recording, our counts, cProfile's counts)."""
        cwd = cwd or self.tmp
        rec = rwtest.record(argv, cwd=cwd, trace=os.path.join(self.tmp, "t.rwd"))
        self.assertEqual(rec.returncode, 0, rec.stderr)
        ours = os.path.join(self.tmp, "ours.prof")
        p = rwtest.rewind("stats", rec.trace, "-o", ours)
        self.assertEqual(p.stderr, "")
        theirs = os.path.join(self.tmp, "theirs.prof")
        ref = rwtest.run([rwtest.python_bin(), "-m", "cProfile", "-o", theirs, *argv],
                         cwd=cwd, check=True)
        self.assertEqual(rec.stdout, ref.stdout)
        return rec, counts(pstats.Stats(ours).stats), counts(pstats.Stats(theirs).stats)

    def assertSameCounts(self, ours, theirs):
        self.assertEqual(sorted(ours, key=str), sorted(theirs, key=str))
        for func in theirs:
            with self.subTest(func=func):
                self.assertEqual(ours[func][:2], theirs[func][:2])
                self.assertEqual(ours[func][2], theirs[func][2])

    def test_default_is_python3_m_cprofile(self):
        # Every key, count and caller, cProfile's own calls included.
        for name in ("mixed.py", "loop.py"):
            with self.subTest(prog=name):
                prog = self.copy(os.path.join(PROGS, name))
                rec, ours, theirs = self.cprofile_both([os.path.basename(prog)])
                self.assertSameCounts(ours, theirs)
                self.assertIn(("~", 0, "<built-in method builtins.exec>"), ours)
                self.assertIn((name, 1, "<module>"), ours)

    def test_import_time_code_and_relative_path(self):
        top = os.path.join(self.tmp, "top")
        shutil.copytree(os.path.join(PROGS, "imports"), top)
        helper = os.path.join(top, "sub", "helper.py")
        # The script's directory as cProfile puts it first in sys.path: relative, '.',
        # absolute and the working directory, absolute elsewhere.
        for argv, cwd, name in ((["sub/prog.py"], top, "sub/prog.py"),
                                (["./prog.py"], os.path.join(top, "sub"), "./prog.py"),
                                ([os.path.join(top, "sub", "prog.py")], os.path.join(top, "sub"),
                                 os.path.join(top, "sub", "prog.py")),
                                ([os.path.join(top, "sub", "prog.py")], self.tmp,
                                 os.path.join(top, "sub", "prog.py"))):
            with self.subTest(argv=argv, cwd=cwd):
                rec, ours, theirs = self.cprofile_both(argv, cwd=cwd)
                self.assertSameCounts(ours, theirs)
                files = {k[0] for k in ours}
                # The script as given, the module it imports by its absolute path (as
                # both runs name it), json loaded in the window, re not (cProfile has it).
                self.assertIn((name, 1, "<module>"), ours)
                fact = ours[(helper, 4, "fact")]
                self.assertNotEqual(fact[0], fact[1])  # recursive at import time
                self.assertTrue(any(f.endswith("/json/__init__.py") for f in files))
                self.assertFalse(any(k[0].endswith("/re/__init__.py") and k[2] == "<module>"
                                     for k in ours))

    def test_import_that_runs_the_program(self):
        top = os.path.join(self.tmp, "top")
        shutil.copytree(os.path.join(PROGS, "bigimport"), top)
        rec, ours, theirs = self.cprofile_both(["main.py"], cwd=top)
        self.assertSameCounts(ours, theirs)
        self.assertEqual(ours[(os.path.join(top, "app.py"), 7, "work")][1], 400)

    @unittest.skipUnless(os.path.exists(os.path.join(CPYTHON_TESTS, "test_fnmatch.py")),
                         "needs Debian's libpython3.11-testsuite")
    def test_cpython_test_modules(self):
        prog = self.copy(os.path.join(PROGS, "runtest.py"))
        for mod in ("test_fnmatch", "test_textwrap", "test_with"):
            with self.subTest(module=mod):
                rec, ours, theirs = self.cprofile_both([os.path.basename(prog), mod])
                self.assertGreater(len(theirs), 300)
                self.assertSameCounts(ours, theirs)

    def test_module_run_matches_cprofile_m(self):
        # `rewind record -m mpkg` against `python3 -m cProfile -m mpkg`: the window starts
        # at runpy's module lookup, so the package's import (its __init__, json, the
        # helper) is in it, and ends when _run_module_as_main returns, before the atexit
        # handler. runpy's own frames differ and are not made up: cProfile has
        # <string>:1(<module>) and run_module above _get_module_details and _run_code.
        shutil.copytree(os.path.join(rwtest.HERE, "progs_window", "mpkg"),
                        os.path.join(self.tmp, "mpkg"))
        rec, ours, theirs = self.cprofile_both(["-m", "mpkg"])
        runpy_frames = {("<string>", 1, "<module>")} | {
            k for k in theirs if k[0] == "<frozen runpy>" and k[2] == "run_module"}
        self.assertEqual(len(runpy_frames), 2, sorted(theirs, key=str))
        self.assertEqual(sorted(ours, key=str), sorted(set(theirs) - runpy_frames, key=str))
        exec_key = ("~", 0, "<built-in method builtins.exec>")
        for func in ours:
            with self.subTest(func=func):
                self.assertEqual(ours[func][:2], theirs[func][:2])
                # _get_module_details and _run_code: called by cProfile's exec in the
                # recording's window, by run_module under cProfile.
                want = {(exec_key if c in runpy_frames else c): v
                        for c, v in theirs[func][2].items()}
                self.assertEqual(ours[func][2], want)
        pkg = os.path.join(self.tmp, "mpkg")
        self.assertIn((os.path.join(pkg, "__init__.py"), 1, "<module>"), ours)
        self.assertTrue(any(k[0].endswith("/json/__init__.py") for k in ours))
        self.assertEqual(ours[(os.path.join(pkg, "helper.py"), 5, "fib")][:2], (1, 67))
        # the reload of keyword (loaded by runpy's imports, before the window) is in
        self.assertEqual(ours[(keyword.__file__, 1, "<module>")][:2], (1, 1))
        # the atexit handler's squares(3) is after the window
        self.assertEqual(ours[(os.path.join(pkg, "helper.py"), 1, "squares")][:2], (1, 1))
        self.assertNotIn((os.path.join(pkg, "__main__.py"), 9, "goodbye"), ours)
        self.assertNotIn((os.path.join(pkg, "__main__.py"), 9, "goodbye"), theirs)

    def test_cprofile_modules_table(self):
        # The modules profile.c leaves the loads of are those python3 -m cProfile has
        # in sys.modules when the script starts and the recorded run has not.
        prog = self.write("mods.py", "import sys\nprint(' '.join(sorted(sys.modules)))\n")
        rec = self.record(prog)
        self.assertEqual(rec.returncode, 0, rec.stderr)
        ref = rwtest.run([rwtest.python_bin(), "-m", "cProfile", "mods.py"], cwd=self.tmp,
                         check=True)
        want = set(ref.stdout.splitlines()[0].split()) - set(rec.stdout.split())
        with open(os.path.join(rwtest.TOP, "replayer", "analysis", "profile.c")) as f:
            src = f.read()
        table = src[src.index("cprofile-modules-begin"):src.index("cprofile-modules-end")]
        self.assertEqual(set(re.findall(r'"([^"]+)"', table)), want)

    def test_no_script_falls_back_to_the_whole_trace(self):
        rec = rwtest.record(["-c", "print(sorted([3, 1, 2]))"], cwd=self.tmp)
        self.assertEqual(rec.returncode, 0, rec.stderr)
        p = rwtest.rewind("stats", rec.trace, "-s", "name")
        self.assertIn("never ran in this trace", p.stderr)
        self.assertEqual(len(p.stderr.strip().splitlines()), 1)
        self.assertIn("{built-in method builtins.sorted}", p.stdout)

    def profile_both(self, name):
        """An explicit window: the trace's own <module> call, compared with cProfile's
        output minus cProfile's own frames."""
        prog = self.copy(os.path.join(PROGS, name))
        rec = self.record(prog)
        self.assertEqual(rec.returncode, 0, rec.stderr)
        lo, hi = module_window(rec.trace, name)
        ours = os.path.join(self.tmp, "ours.prof")
        rwtest.rewind("stats", rec.trace, "--from", lo, "--to", hi, "-o", ours)
        theirs = os.path.join(self.tmp, "theirs.prof")
        rwtest.run([rwtest.python_bin(), "-m", "cProfile", "-o", theirs, prog],
                   cwd=self.tmp, check=True)
        return rec, (lo, hi), ours, pstats.Stats(ours).stats, \
            without_cprofile_frames(pstats.Stats(theirs).stats)

    def compare(self, name):
        rec, window, ours_path, ours, theirs = self.profile_both(name)
        self.assertEqual(sorted(ours), sorted(theirs))
        for func in theirs:
            with self.subTest(func=func):
                occ, onc, ott, oct_, ocallers = ours[func]
                tcc, tnc, _, _, tcallers = theirs[func]
                self.assertEqual((occ, onc), (tcc, tnc))
                self.assertEqual(sorted(ocallers), sorted(tcallers))
                for caller in tcallers:
                    self.assertEqual(ocallers[caller][:2], tcallers[caller][:2], caller)
        return rec, window, ours_path, ours

    def test_mixed_program_matches_cprofile(self):
        rec, _, _, ours = self.compare("mixed.py")
        names = {f[2] for f in ours}
        # The features the program exercises are all there.
        for want in ("fib", "is_even", "is_odd", "squares", "push", "parse", "checked",
                     "<built-in method builtins.len>", "<built-in method builtins.sorted>",
                     "<method 'append' of 'list' objects>", "<genexpr>"):
            self.assertIn(want, names)
        fib = [v for k, v in ours.items() if k[2] == "fib"][0]
        self.assertNotEqual(fib[0], fib[1])  # recursive: primitive calls < calls

    def test_loop_program_matches_cprofile(self):
        self.compare("loop.py")

    def test_times_are_sane(self):
        rec, _, _, ours = self.compare("mixed.py")
        meta = rwtest.info(rec.trace)
        run_s = meta["duration_ns"] / 1e9
        total = 0.0
        for func, (cc, nc, tt, ct, callers) in ours.items():
            self.assertGreaterEqual(tt, 0.0, func)
            self.assertGreaterEqual(ct + 1e-9, tt, func)
            for c in callers.values():
                self.assertGreaterEqual(c[2], 0.0)
            total += tt
        self.assertGreater(total, 0.0)
        self.assertLessEqual(total, run_s)
        module = [v for k, v in ours.items() if k[2] == "<module>"][0]
        self.assertAlmostEqual(module[3], total, delta=1e-6 + total * 1e-6)

    def test_calibration_only_lowers_times(self):
        rec, window, ours_path, ours = self.compare("loop.py")
        raw = os.path.join(self.tmp, "raw.prof")
        rwtest.rewind("stats", rec.trace, "--from", window[0], "--to", window[1],
                      "--no-calibration", "-o", raw)
        raw_stats = pstats.Stats(raw).stats
        self.assertEqual(sorted(raw_stats), sorted(ours))
        for func, v in ours.items():
            self.assertEqual(v[:2], raw_stats[func][:2])
            self.assertLessEqual(v[2], raw_stats[func][2] + 1e-12)
            self.assertLessEqual(v[3], raw_stats[func][3] + 1e-12)

    def test_text_output_is_print_stats(self):
        rec, window, ours_path, _ = self.compare("mixed.py")
        w = ["--from", window[0], "--to", window[1]]
        cases = [([], ("cumulative",), ()), (["-s", "time"], ("time",), ()),
                 (["-s", "calls", "-s", "name"], ("calls", "name"), ()),
                 (["-s", "nfl"], ("nfl",), ()), (["-s", "stdname", "-n", "7"], ("stdname",), (7,)),
                 (["-s", "pcalls"], ("pcalls",), ()), (["-s", "line", "-n", "3"], ("line",), (3,)),
                 (["-s", "cumu"], ("cumulative",), ()), (["-s", "tot"], ("tottime",), ())]
        for args, keys, amount in cases:
            with self.subTest(args=args):
                got = rwtest.rewind("stats", rec.trace, *w, *args).stdout
                want = self.pstats_text(ours_path, keys, "print_stats", amount)
                self.assertEqual(got, want)
        for view in ("callers", "callees"):
            with self.subTest(view=view):
                got = rwtest.rewind("stats", rec.trace, *w, "--" + view, "-s", "time").stdout
                want = self.pstats_text(ours_path, ("time",), "print_" + view, ())
                self.assertEqual(got, want)
                got = rwtest.rewind("stats", rec.trace, *w, "--" + view, "-n", "4").stdout
                want = self.pstats_text(ours_path, ("cumulative",), "print_" + view, (4,))
                self.assertEqual(got, want)

    def pstats_text(self, path, keys, method, amount):
        code = ("import io, pstats, sys\n"
                "s = io.StringIO()\n"
                f"st = pstats.Stats({path!r}, stream=s).strip_dirs().sort_stats(*{keys!r})\n"
                f"st.{method}(*{amount!r})\n"
                "sys.stdout.write(s.getvalue())\n")
        out = rwtest.run([rwtest.python_bin(), "-c", code], check=True).stdout
        if method == "print_stats":
            # pstats loaded from a file prints the file's name first; cProfile does not.
            # (its modification time and path, then a blank line).
            first, blank, rest = out.split("\n", 2)
            self.assertTrue(first.endswith(path), first)
            self.assertEqual(blank, "")
            out = rest
        return out

    def test_marshal_file_is_plain_marshal(self):
        rec, window, ours_path, ours = self.compare("loop.py")
        with open(ours_path, "rb") as f:
            data = marshal.load(f)
        self.assertEqual(data, ours)

    def test_lines(self):
        prog = self.copy(os.path.join(PROGS, "loop.py"))
        rec = self.record(prog)
        out = rwtest.rewind("stats", rec.trace, "--lines").stdout
        rows = {}
        for line in out.splitlines():
            parts = line.split()
            if len(parts) == 4 and parts[3].startswith("loop.py:"):
                rows[int(parts[3].split(":")[1])] = int(parts[0])
        self.assertEqual(rows[6], 250)      # return x + 1: f runs 150 + 100 times
        self.assertEqual(rows[10], 100)     # return f(x) * 2
        self.assertEqual(rows[19], 151)     # for i in range(150)
        self.assertEqual(rows[20], 150)     # total += f(i)
        self.assertEqual(rows[15], 40)      # yield i
        for line in out.splitlines():
            parts = line.split()
            if len(parts) == 4 and parts[3].startswith("loop.py:"):
                self.assertGreaterEqual(float(parts[1]), 0.0)

    def test_window_and_thread_options(self):
        prog = self.copy(os.path.join(PROGS, "loop.py"))
        rec = self.record(prog)
        lo, hi = module_window(rec.trace, "loop.py")
        whole = rwtest.rewind("stats", rec.trace, "--from", lo, "--to", hi, "-s", "name").stdout
        one = rwtest.rewind("stats", rec.trace, "--from", lo, "--to", hi, "--thread", "1",
                            "-s", "name").stdout
        self.assertEqual(whole, one)
        empty = rwtest.rewind("stats", rec.trace, "--from", lo, "--to", lo).stdout
        self.assertTrue(empty.startswith("         0 function calls in 0.000 seconds"))

    def test_errors(self):
        prog = self.copy(os.path.join(PROGS, "loop.py"))
        rec = self.record(prog)
        cases = [
            (["stats"], 2, "missing the trace FILE"),
            (["stats", rec.trace, "--bogus"], 2, "unknown option --bogus"),
            (["stats", rec.trace, "-s", "c"], 2, "unknown sort key 'c'"),
            (["stats", rec.trace, "-n", "x"], 2, "-n needs a number"),
            (["stats", rec.trace, "--from", "nowhere"], 2, "--from nowhere"),
            (["stats", rec.trace, "--to", "@exception"], 1, "--to @exception"),
            (["stats", rec.trace, "--thread", "99"], 1, "no such thread"),
            (["stats", rec.trace, "--from", "20", "--to", "10"], 2, "window is empty"),
            (["stats", os.path.join(self.tmp, "missing.rwd")], 1, "missing.rwd"),
            (["stats", rec.trace, "-o", os.path.join(self.tmp, "no", "dir.prof")], 1,
             "cannot create"),
        ]
        for args, status, text in cases:
            with self.subTest(args=args):
                p = rwtest.rewind(*args, check=False)
                self.assertEqual(p.returncode, status, p.stderr)
                self.assertEqual(len(p.stderr.strip().splitlines()), 1, p.stderr)
                self.assertIn(text, p.stderr)
                self.assertTrue(p.stderr.startswith("rewind stats: "), p.stderr)
        p = rwtest.rewind("stats", "--help")
        self.assertIn("usage: rewind stats FILE", p.stdout)


if __name__ == "__main__":
    unittest.main()

"""rewind stats against cProfile/pstats on the same deterministic programs.

What is compared, and what is left out (the only filter, kept narrow):
  * Window. `python3 -m cProfile prog.py` profiles from inside cProfile's runctx: the
    program's `<module>` frame and everything it calls. A recording also holds the
    interpreter's start-up (sys.path hooks, zipimport, reading the script) and its
    shutdown. So rewind stats runs over exactly [CALL of the script's <module>, its
    RETURN], found with `rewind events --json`.
  * cProfile's own frames: `<string>:1(<module>)` (the runctx statement),
    `{built-in method builtins.exec}` and `{method 'disable' of '_lsprof.Profiler'
    objects}` are dropped from cProfile's side, and so is `<string>:1(<module>)` as a
    caller of the script's `<module>`. Nothing else: every function of the program
    and every builtin it calls must be on both sides with equal call counts,
    primitive call counts and callers (with equal per-caller counts).
Times are only checked for sanity: they differ between two runs anyway.
"""

import marshal
import os
import pstats
import unittest

import rwtest

PROGS = os.path.join(rwtest.HERE, "progs_stats")

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


class StatsTest(rwtest.TestCase):

    def profile_both(self, name):
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

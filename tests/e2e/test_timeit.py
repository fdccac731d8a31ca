"""rewind timeit: the number of calls equals the number of calls the program makes,
for plain functions, one called from another, and a generator (one call per resume,
as cProfile counts it); spellings of FUNCTION and errors."""

import os
import re
import unittest

import rwtest

PROGS = os.path.join(rwtest.HERE, "progs_stats")


class TimeitTest(rwtest.TestCase):

    def setUp(self):
        super().setUp()
        prog = self.copy(os.path.join(PROGS, "loop.py"))
        self.rec = self.record(prog)
        self.assertEqual(self.rec.returncode, 0, self.rec.stderr)

    def timeit(self, *args):
        return rwtest.rewind("timeit", self.rec.trace, *args).stdout

    def calls(self, out):
        m = re.match(r"\S+:(\d+)\((\S+)\): (\d+) calls?", out)
        self.assertTrue(m, out)
        return int(m.group(3))

    def test_call_counts(self):
        self.assertEqual(self.calls(self.timeit("f")), 250)
        self.assertEqual(self.calls(self.timeit("g")), 100)
        out = self.timeit("gen")
        self.assertEqual(self.calls(out), 41)
        self.assertIn("each resume is one call", out)

    def test_spellings(self):
        for spec in ("f", "loop.py:f", os.path.join(self.tmp, "loop.py") + ":f", "__main__.f",
                     "loop.f"):
            with self.subTest(spec=spec):
                out = self.timeit(spec)
                self.assertTrue(out.startswith(os.path.join(self.tmp, "loop.py") + ":5(f): 250 calls"),
                                out)

    def test_statistics_are_ordered(self):
        out = self.timeit("f", "--no-calibration")
        units = {"nsec": 1e-9, "usec": 1e-6, "msec": 1e-3, "sec": 1.0}
        vals = {}
        for name in ("best", "median", "mean", "worst"):
            m = re.search(rf"^  {name} +([0-9.e+-]+) (nsec|usec|msec|sec)", out, re.M)
            self.assertTrue(m, out)
            vals[name] = float(m.group(1)) * units[m.group(2)]
        self.assertLessEqual(vals["best"], vals["median"])
        self.assertLessEqual(vals["median"], vals["worst"])
        self.assertLessEqual(vals["best"], vals["mean"])
        self.assertLessEqual(vals["mean"], vals["worst"])
        pos = int(re.search(r"rewind replay \S+ --at (\d+)", out).group(1))
        self.assertGreater(pos, 0)

    def test_short_function_never_shows_zero(self):
        # f is `return x + 1`: a few tens of nanoseconds, of which calibration takes a
        # part. No statistic may read below the clock's resolution (never "0 nsec"),
        # and the resolution is printed.
        units = {"nsec": 1e-9, "usec": 1e-6, "msec": 1e-3, "sec": 1.0}
        for args in ((), ("--no-calibration",)):
            with self.subTest(args=args):
                out = self.timeit("f", *args)
                m = re.search(r"^  clock resolution ([0-9.e+-]+) (nsec|usec)", out, re.M)
                self.assertTrue(m, out)
                res = float(m.group(1)) * units[m.group(2)]
                self.assertGreater(res, 0)
                self.assertLess(res, 1e-6)
                for name in ("best", "median", "mean", "worst", "total"):
                    m = re.search(rf"^  {name} +(< )?([0-9.e+-]+) (nsec|usec|msec|sec)", out,
                                  re.M)
                    self.assertTrue(m, out)
                    value = float(m.group(2)) * units[m.group(3)]
                    self.assertGreater(value, 0, out)
                    if m.group(1):  # "< R": what the clock cannot tell from zero
                        self.assertAlmostEqual(value, res, delta=res * 0.01)
                        self.assertIn("took no longer than the clock resolution", out)
                    else:
                        self.assertGreaterEqual(value, res * 0.99, out)
                if args:
                    # Raw times: at least one tick of the clock each.
                    self.assertNotIn("< ", out)
                    self.assertIn("(raw times: no calibration)", out)
                else:
                    self.assertIn("recorder overhead subtracted", out)
                self.assertNotRegex(out, r"\b0 nsec")

    def test_window(self):
        # Everything before f's first call: no call of f in it.
        out = self.timeit("f")
        best_pos = int(re.search(r"best .* at position (\d+)", out).group(1))
        early = self.timeit("f", "--to", "1")
        self.assertEqual(self.calls(early), 0)
        late = self.timeit("f", "--from", best_pos)
        self.assertGreaterEqual(self.calls(late), 1)
        self.assertLessEqual(self.calls(late), 250)

    def test_errors(self):
        cases = [
            (["timeit", self.rec.trace], 2, "missing the FUNCTION"),
            (["timeit", self.rec.trace, "f", "--bogus"], 2, "unknown option --bogus"),
            (["timeit", self.rec.trace, "nosuch"], 1, "no function 'nosuch'"),
            (["timeit", self.rec.trace, "f", "--from", "zz"], 2, "--from zz"),
            (["timeit", os.path.join(self.tmp, "missing.rwd"), "f"], 1, "missing.rwd"),
        ]
        for args, status, text in cases:
            with self.subTest(args=args):
                p = rwtest.rewind(*args, check=False)
                self.assertEqual(p.returncode, status, p.stderr)
                self.assertEqual(len(p.stderr.strip().splitlines()), 1, p.stderr)
                self.assertIn(text, p.stderr)
        self.assertIn("usage: rewind timeit", rwtest.rewind("timeit", "--help").stdout)


if __name__ == "__main__":
    unittest.main()

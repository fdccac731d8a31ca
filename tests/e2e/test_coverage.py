"""rewind coverage against python3 -m trace on the same program.

The program (progs_cov/cov_main.py and its helper module) has branches, loops, a
function never called, docstrings, a class, a generator and a tab-indented line.
Its .cover files, summary rows, functions called and calling relationships must be
identical to trace's for the program's own files.
"""

import os
import re
import unittest

import rwtest

PROGS = os.path.join(rwtest.HERE, "progs_cov")


def read(path):
    with open(path) as f:
        return f.read()


class CoverageTest(rwtest.TestCase):
    def setUp(self):
        super().setUp()
        for name in ("cov_main.py", "cov_helper.py"):
            self.copy(os.path.join(PROGS, name))
        self.prog = os.path.join(self.tmp, "cov_main.py")
        self.rec = self.record(self.prog)
        self.assertEqual(self.rec.returncode, 0, self.rec.stderr)
        self.assertEqual(self.rec.stdout, self.python(self.prog).stdout)

    def trace(self, *opts):
        # An absolute program path makes trace's sys.path[0] the program's folder, as
        # in the recorded run, so module names agree.
        return rwtest.run([rwtest.python_bin(), "-m", "trace", *opts, self.prog],
                          cwd=self.tmp, check=True).stdout

    def own(self, text):
        return [l for l in text.splitlines() if self.tmp in l]

    def test_cover_files_match_trace(self):
        ours = os.path.join(self.tmp, "ours")
        theirs = os.path.join(self.tmp, "theirs")
        out = rwtest.rewind("coverage", self.rec.trace, "--count", "--missing", "--summary",
                            "--coverdir", ours).stdout
        ref = self.trace("--count", "--missing", "--summary", "--coverdir", theirs)
        for name in ("cov_main.cover", "cov_helper.cover"):
            self.assertEqual(read(os.path.join(ours, name)), read(os.path.join(theirs, name)),
                             name)
        # Sanity: the reference marks the never-called function and counts the loop.
        main_cover = read(os.path.join(ours, "cov_main.cover"))
        self.assertIn(">>>>>>     y = x * 2", main_cover)
        self.assertRegex(main_cover, r"\n   16:     for i in range\(1, 16\):")
        self.assertEqual(self.own(out), self.own(ref))
        self.assertEqual(len(self.own(out)), 2)
        self.assertTrue(out.startswith("lines   cov%   module   (path)\n"))

    def test_cover_without_missing(self):
        ours = os.path.join(self.tmp, "ours")
        theirs = os.path.join(self.tmp, "theirs")
        rwtest.rewind("coverage", self.rec.trace, "-c", "-C", ours)
        self.trace("--count", "-C", theirs)
        for name in ("cov_main.cover", "cov_helper.cover"):
            self.assertEqual(read(os.path.join(ours, name)),
                             read(os.path.join(theirs, name)), name)

    def test_listfuncs_and_trackcalls_match_trace(self):
        out = rwtest.rewind("coverage", self.rec.trace, "--listfuncs").stdout
        ref = self.trace("--listfuncs")
        self.assertIn("functions called:", out)
        self.assertEqual(self.own(out), self.own(ref))
        self.assertIn("funcname: Counter.bump", out)

        def block(text):
            m = re.search(r"\*\*\* %s \*\*\*\n(.*?)(?:\n\n|\Z)" % re.escape(self.prog), text, re.S)
            self.assertIsNotNone(m, text)
            return m.group(1)

        out = rwtest.rewind("coverage", self.rec.trace, "--trackcalls").stdout
        ref = self.trace("--trackcalls")
        self.assertEqual(block(out), block(ref))
        self.assertIn("cov_main.main -> cov_helper.scale", out)

    def test_ignore_module_and_dir(self):
        out = rwtest.rewind("coverage", self.rec.trace, "--summary",
                            "--ignore-module", "cov_helper, json").stdout
        self.assertEqual([l.split()[2] for l in self.own(out)], ["cov_main"])
        out = rwtest.rewind("coverage", self.rec.trace, "--summary",
                            "--ignore-dir", self.tmp + "/").stdout
        self.assertEqual(self.own(out), [])

    def test_lcov(self):
        info = os.path.join(self.tmp, "out.info")
        ours = os.path.join(self.tmp, "ours")
        rwtest.rewind("coverage", self.rec.trace, "--lcov", info, "-c", "-m", "-C", ours)
        recs = read(info).split("end_of_record\n")
        main = [r for r in recs if "SF:" + self.prog + "\n" in r]
        self.assertEqual(len(main), 1)
        da = dict(tuple(map(int, l[3:].split(","))) for l in main[0].splitlines()
                  if l.startswith("DA:"))
        cover = read(os.path.join(ours, "cov_main.cover")).splitlines()
        for n, line in enumerate(cover, 1):
            if line.startswith(">>>>>>"):
                self.assertEqual(da.get(n), 0, line)
            elif line[:5].strip():
                self.assertEqual(da.get(n), int(line[:5]), line)
            else:
                self.assertNotIn(n, da, line)
        self.assertIn("FNDA:0,never_called\n", main[0])
        self.assertIn("FNDA:15,branches\n", main[0])
        self.assertIn("LF:%d\n" % len(da), main[0])

    def test_range(self):
        out = rwtest.rewind("coverage", self.rec.trace, "--summary", "--to", "@start").stdout
        self.assertEqual(out, "")
        line = "%s:50" % self.prog  # `c = Counter()` in main
        out = rwtest.rewind("coverage", self.rec.trace, "--summary", "--from", line).stdout
        rows = {l.split()[2]: l for l in self.own(out)}
        self.assertIn("cov_main", rows)
        self.assertLess(int(rows["cov_main"].split()[0]), 39)

    def test_errors(self):
        cases = [
            (["coverage"], 2),
            (["coverage", self.rec.trace, "--bogus"], 2),
            (["coverage", self.rec.trace, "--coverdir"], 2),
            (["coverage", self.rec.trace, "--from", "nowhere"], 2),
            (["coverage", self.rec.trace, "--from", "@end", "--to", "@start"], 2),
            (["coverage", os.path.join(self.tmp, "missing.rwd")], 1),
        ]
        for args, status in cases:
            p = rwtest.rewind(*args, check=False)
            self.assertEqual(p.returncode, status, args)
            self.assertEqual(len(p.stderr.strip().splitlines()), 1, p.stderr)
            self.assertTrue(p.stderr.startswith("rewind coverage: "), p.stderr)
        p = rwtest.rewind("coverage", "--help")
        self.assertIn("--coverdir", p.stdout)


if __name__ == "__main__":
    unittest.main()

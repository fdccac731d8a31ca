"""rewind coverage against python3 -m trace on the same program.

The program (progs_cov/cov_main.py and its helper module) has branches, loops, a
function never called, docstrings, a class, a generator and a tab-indented line.
Its .cover files, summary rows, functions called and calling relationships must be
identical to trace's for the program's own files.
"""

import os
import re
import shutil
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


class CoverageWindowTest(rwtest.TestCase):
    """The default window is where trace counts: from the program's code's start (after
    runpy imported a -m module's package) to its return, before atexit handlers
    (progs_window: a script and a -m package with one, and a comment-only subpackage
    whose code runs on line 0)."""

    def trace_counts(self, *target):
        """trace's per-line counts of target, as `python3 -m trace --count` collects
        them: {(file, line): n}."""
        code = ("import json, runpy, sys, trace\n"
                "t = trace.Trace(count=1, trace=0)\n"
                "out, argv = sys.argv[1], sys.argv[2:]\n"
                "if argv[0] == '-m':\n"
                "    name, spec, code = runpy._get_module_details(argv[1])\n"
                "    g = {'__name__': '__main__', '__file__': code.co_filename,\n"
                "         '__package__': spec.parent, '__spec__': spec}\n"
                "else:\n"
                "    code = compile(open(argv[0]).read(), argv[0], 'exec')\n"
                "    g = {'__name__': '__main__', '__file__': argv[0]}\n"
                "t.runctx(code, g, g)\n"
                "json.dump([[f, l, n] for (f, l), n in t.results().counts.items()],\n"
                "          open(out, 'w'))\n")
        out = os.path.join(self.tmp, "ref.json")
        rwtest.run([rwtest.python_bin(), "-c", code, out, *target], cwd=self.tmp, check=True)
        import json
        with open(out) as f:
            return {(os.path.abspath(os.path.join(self.tmp, fn)), l): n
                    for fn, l, n in json.load(f)}

    def lcov_counts(self, trace, *opts):
        info = os.path.join(self.tmp, "out.info")
        rwtest.rewind("coverage", trace, "--lcov", info, *opts)
        counts, src = {}, None
        for line in read(info).splitlines():
            if line.startswith("SF:"):
                src = line[3:]
            elif line.startswith("DA:"):
                num, n = map(int, line[3:].split(","))
                if n:
                    counts[(src, num)] = n
        return counts

    def test_atexit_script(self):
        prog = self.copy(os.path.join(rwtest.HERE, "progs_window", "at_exit.py"))
        rec = self.record(prog)
        self.assertEqual(rec.returncode, 0, rec.stderr)
        self.assertEqual(rec.stdout, "90\nbye 5\n")
        ours = {k: v for k, v in self.lcov_counts(rec.trace).items() if k[0] == prog}
        theirs = {k: v for k, v in self.trace_counts("at_exit.py").items() if k[0] == prog}
        self.assertEqual(ours, theirs)
        self.assertNotIn((prog, 9), ours)  # goodbye's body: an atexit handler
        self.assertEqual(ours[(prog, 14)], 1)
        # .cover files as trace writes them
        rwtest.rewind("coverage", rec.trace, "-c", "-C", os.path.join(self.tmp, "ours"))
        rwtest.run([rwtest.python_bin(), "-m", "trace", "--count", "-C",
                    os.path.join(self.tmp, "theirs"), prog], cwd=self.tmp, check=True)
        self.assertEqual(read(os.path.join(self.tmp, "ours", "at_exit.cover")),
                         read(os.path.join(self.tmp, "theirs", "at_exit.cover")))
        # --to @end: the whole recording, the handler included
        whole = self.lcov_counts(rec.trace, "--to", "@end")
        self.assertEqual(whole[(prog, 9)], 1)
        self.assertGreater(whole[(prog, 5)], ours[(prog, 5)])  # work(5) in the handler
        # --from at @main-end and no --to: to @end, the handler alone
        after = {k: v for k, v in self.lcov_counts(rec.trace, "--from", "@main-end").items()
                 if k[0] == prog}
        self.assertEqual(after[(prog, 9)], 1)
        self.assertNotIn((prog, 14), after)

    def test_module_run_and_empty_package(self):
        shutil.copytree(os.path.join(rwtest.HERE, "progs_window", "mpkg"),
                        os.path.join(self.tmp, "mpkg"))
        rec = rwtest.record(["-m", "mpkg"], cwd=self.tmp)
        self.assertEqual(rec.returncode, 0, rec.stderr)
        self.assertEqual(rec.stdout, "285 21\ngoodbye 5\n")
        pkg = os.path.join(self.tmp, "mpkg")
        main, empty = os.path.join(pkg, "__main__.py"), os.path.join(pkg, "empty", "__init__.py")
        init, helper = os.path.join(pkg, "__init__.py"), os.path.join(pkg, "helper.py")
        theirs = self.trace_counts("-m", "mpkg")
        ours = self.lcov_counts(rec.trace)
        for f in (main, empty, init, helper):
            with self.subTest(file=f):
                self.assertEqual({k: v for k, v in ours.items() if k[0] == f},
                                 {k: v for k, v in theirs.items() if k[0] == f})
        self.assertEqual(ours[(empty, 0)], 1)  # the empty module's one LINE event
        self.assertEqual(ours[(main, 9)], 1)  # def goodbye
        self.assertNotIn((main, 10), ours)  # its body: an atexit handler
        # The package's import is runpy's, before the program's code, where trace
        # starts counting (@main-start); --from @start counts it too.
        self.assertNotIn((init, 3), ours)
        self.assertNotIn((helper, 1), ours)  # def squares
        self.assertIn((helper, 2), ours)  # squares(10)'s return
        whole = self.lcov_counts(rec.trace, "--from", "@start")
        self.assertEqual(whole[(init, 3)], 1)
        self.assertEqual(whole[(helper, 1)], 1)
        self.assertEqual(whole[(helper, 2)], ours[(helper, 2)])
        # trace writes a .cover file for the empty module, with no line marked
        rwtest.rewind("coverage", rec.trace, "-c", "-C", os.path.join(self.tmp, "ours"))
        rwtest.run([rwtest.python_bin(), "-m", "trace", "--count", "-C",
                    os.path.join(self.tmp, "theirs"), "--module", "mpkg"],
                   cwd=self.tmp, check=True)
        for name in ("mpkg.__main__.cover", "mpkg.empty.__init__.cover", "mpkg.helper.cover"):
            self.assertEqual(read(os.path.join(self.tmp, "ours", name)),
                             read(os.path.join(self.tmp, "theirs", name)), name)


if __name__ == "__main__":
    unittest.main()

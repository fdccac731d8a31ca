"""rewind tests: the tests of recorded runs of Debian's pytest and of unittest, compared
with what the runner itself reported in the same run (pytest's --junitxml file and -rA
summary, unittest's verbose lines); --test for replay (the stop is the test's first
line, or the failing line the runner's traceback names) and stats (call counts equal
cProfile's of the test function alone)."""

import ast
import json
import os
import re
import shutil
import subprocess
import unittest
import xml.etree.ElementTree as ET

import rwtest

PROGS = os.path.join(rwtest.HERE, "progs_tests")


def have_pytest():
    return subprocess.run([rwtest.python_bin(), "-c", "import pytest"],
                          capture_output=True).returncode == 0


def tests_json(trace, *extra):
    return json.loads(rwtest.rewind("tests", trace, "--json", *extra).stdout)


def first_line_of(path, qualname):
    """The first statement line of the function qualname in path (ast)."""
    with open(path, encoding="utf-8") as f:
        tree = ast.parse(f.read())
    scope = tree.body
    node = None
    for part in qualname.split("."):
        node = next(n for n in scope if isinstance(n, (ast.FunctionDef, ast.ClassDef))
                    and n.name == part)
        scope = node.body
    body = node.body
    if isinstance(body[0], ast.Expr) and isinstance(getattr(body[0], "value", None),
                                                    ast.Constant):
        body = body[1:]  # a docstring is not executed as a line
    return body[0].lineno


def junit_key(nodeid):
    """(classname, name) of a pytest node id as --junitxml writes them."""
    parts = nodeid.split("::")
    mod = parts[0][:-3].replace("/", ".") if parts[0].endswith(".py") else parts[0]
    return (".".join([mod] + parts[1:-1]), parts[-1])


def junit_results(xml, stdout):
    """{(classname, name): outcome} from pytest's own junit XML of a run, with xfail and
    xpass told apart by its -rA summary lines (junit calls an xpass a pass)."""
    xpass = {junit_key(i) for i in re.findall(r"^XPASS (\S+)", stdout, re.M)}
    res = {}
    for case in ET.parse(xml).getroot().iter("testcase"):
        key = (case.get("classname"), case.get("name"))
        kinds = {c.tag: c.get("type", "") for c in case}
        if "error" in kinds:
            out = "error"
        elif "failure" in kinds:
            out = "failed"
        elif "skipped" in kinds:
            out = "xfail" if kinds["skipped"] == "pytest.xfail" else "skipped"
        else:
            out = "xpass" if key in xpass else "passed"
        res[key] = out
    return res


def replay_stop(trace, *args):
    """(file, line) of the first stop of `rewind replay`."""
    out = rwtest.run([rwtest.rewind_bin(), "replay", trace, "--no-values", *args],
                     check=True).stdout
    m = re.search(r"^> (.*)\((\d+)\)", out, re.M)
    assert m, out
    return m.group(1), int(m.group(2))


@unittest.skipUnless(have_pytest(), "python3-pytest is not installed (scripts/install-deps.sh)")
class PytestRun(rwtest.TestCase):

    @classmethod
    def setUpClass(cls):
        cls.dir = rwtest.tempfile.mkdtemp(prefix="rewind-e2e-tests-")
        shutil.copy(os.path.join(PROGS, "test_pt_suite.py"), cls.dir)
        cls.xml = os.path.join(cls.dir, "junit.xml")
        cls.rec = rwtest.record(["-m", "pytest"], ["-p", "no:cacheprovider", "-rA",
                                                   "--junitxml", cls.xml, "test_pt_suite.py"],
                                cwd=cls.dir)
        cls.got = tests_json(cls.rec.trace)

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.dir, ignore_errors=True)

    def junit(self):
        return junit_results(self.xml, self.rec.stdout)

    def test_outcomes_equal_pytests_own(self):
        self.assertEqual(self.rec.returncode, 1, self.rec.stderr)
        self.assertTrue(self.got["exact_names"], self.got["note"])
        mine = {t["id"]: t["outcome"] for t in self.got["tests"]}
        self.assertEqual({junit_key(i): o for i, o in mine.items()}, self.junit())
        # in the order pytest ran them, as its -rA summary names them
        ran = re.findall(r"^(?:PASSED|FAILED|ERROR|XFAIL|XPASS) (\S+)", self.rec.stdout, re.M)
        ids = [t["id"] for t in self.got["tests"]]
        self.assertEqual(sorted(set(ran)), sorted(i for i in ids if mine[i] != "skipped"))
        self.assertIn("test_pt_suite.py::test_param[two]", ids)
        self.assertIn("test_pt_suite.py::TestClass::TestInner::test_nested[2]", ids)

    def test_ranges_are_ordered_and_disjoint(self):
        tests = self.got["tests"]
        for a, b in zip(tests, tests[1:]):
            self.assertLess(a["first"], a["last"])
            self.assertLess(a["last"], b["first"])
        for t in tests:
            if t["body"] is not None:
                self.assertTrue(t["first"] < t["body"] < t["last"], t)
            if t["failure"] is not None:
                self.assertTrue(t["first"] < t["failure"] < t["last"], t)

    def test_log_names_without_reexecution(self):
        log = tests_json(self.rec.trace, "--no-values")
        self.assertFalse(log["exact_names"])
        self.assertIn("parameters", log["note"])
        exact = {(t["first"], t["last"]): t for t in self.got["tests"]}
        for t in log["tests"]:
            other = exact[(t["first"], t["last"])]
            self.assertEqual(t["outcome"], other["outcome"])
            if "[" in other["id"]:  # numbered in run order
                self.assertRegex(t["id"], r"\[#\d+\]$")
                self.assertEqual(t["id"].split("[")[0], other["id"].split("[")[0])
            elif t["body"] is not None:
                self.assertEqual(t["id"], other["id"])
            else:  # its function never ran: the log cannot name it
                self.assertTrue(t["id"].startswith("?pytest#"), t)

    def failure_line(self, nodeid):
        """The line of the test file pytest's traceback ends at for nodeid."""
        root = ET.parse(self.xml).getroot()
        for case in root.iter("testcase"):
            if nodeid.split("::")[-1] == case.get("name"):
                for c in case:
                    if c.tag in ("failure", "error"):
                        return [int(n) for n in
                                re.findall(r"^test_pt_suite\.py:(\d+): ", c.text, re.M)][-1]
        raise AssertionError(nodeid)

    def test_replay_starts_at_the_first_line(self):
        path = os.path.join(self.dir, "test_pt_suite.py")
        for name, qual in (("test_pass", "test_pass"), ("test_param[two]", "test_param"),
                           ("TestClass::test_method", "TestClass.test_method")):
            with self.subTest(name=name):
                f, line = replay_stop(self.rec.trace, "--test", name)
                self.assertEqual((f, line), (path, first_line_of(path, qual)))

    def test_replay_at_failure(self):
        path = os.path.join(self.dir, "test_pt_suite.py")
        for name in ("test_pt_suite.py::test_fail", "test_param[five]", "test_fixture_error",
                     "TestClass::test_error"):
            with self.subTest(name=name):
                f, line = replay_stop(self.rec.trace, "--test", name + "@failure")
                self.assertEqual(f, path)
                self.assertEqual(line, self.failure_line(name))

    def test_stats_of_one_test(self):
        out = rwtest.rewind("stats", self.rec.trace, "--test", "test_fib").stdout
        rows = {m.group(2): m.group(1) for m in
                re.finditer(r"^\s*(\S+)\s+(?:\S+\s+){4}test_pt_suite\.py:\d+\((\w+)\)$", out,
                            re.M)}
        # cProfile of the test function alone
        code = ("import cProfile, pstats, test_pt_suite as m\n"
                "p = cProfile.Profile(); p.runcall(m.test_fib)\n"
                "for (f, l, n), (cc, nc, tt, ct, callers) in pstats.Stats(p).stats.items():\n"
                "    if f.endswith('test_pt_suite.py'):\n"
                "        print(n, nc if nc == cc else '%d/%d' % (nc, cc))\n")
        ref = dict(line.split() for line in
                   rwtest.run([rwtest.python_bin(), "-c", code], cwd=self.dir,
                              check=True).stdout.splitlines())
        self.assertEqual(rows, ref)

    def test_names_that_match_badly(self):
        p = rwtest.rewind("stats", self.rec.trace, "--test", "test_param", check=False)
        self.assertEqual(p.returncode, 2, p.stderr)
        self.assertRegex(p.stderr, r"^rewind stats: --test test_param: 3 tests match")
        self.assertEqual(len(p.stderr.strip().splitlines()), 1)
        p = rwtest.rewind("replay", self.rec.trace, "--test", "no_such_test", check=False)
        self.assertEqual(p.returncode, 1, p.stderr)
        self.assertIn("'rewind tests FILE' lists them", p.stderr)
        p = rwtest.rewind("replay", self.rec.trace, "--test", "test_pass@failure", check=False)
        self.assertEqual(p.returncode, 1)
        self.assertIn("passed", p.stderr)
        p = rwtest.rewind("coverage", self.rec.trace, "--test", "test_pass", "--from", "5",
                          check=False)
        self.assertEqual(p.returncode, 2)

    def test_coverage_and_memory_of_one_test(self):
        # the line counts of the test module equal trace's of the test function alone
        cov = os.path.join(self.dir, "cov")
        rwtest.rewind("coverage", self.rec.trace, "--test", "test_fib", "-c", "-C", cov)
        with open(os.path.join(cov, "test_pt_suite.cover"), encoding="utf-8") as f:
            mine = {n: int(m.group(1)) for n, line in enumerate(f, 1)
                    for m in [re.match(r"\s*(\d+):", line)] if m}
        code = ("import trace, test_pt_suite as m\n"
                "t = trace.Trace(count=1, trace=0); t.runfunc(m.test_fib)\n"
                "for (f, l), n in sorted(t.results().counts.items()):\n"
                "    if f.endswith('test_pt_suite.py'): print(l, n)\n")
        ref = {int(a): int(b) for a, b in
               (line.split() for line in rwtest.run([rwtest.python_bin(), "-c", code],
                                                    cwd=self.dir, check=True).stdout.splitlines())}
        self.assertEqual(mine, ref)
        mem = rwtest.rewind("memory", self.rec.trace, "--test", "test_fib").stdout
        t = next(t for t in self.got["tests"] if t["id"].endswith("::test_fib"))
        self.assertIn("Snapshot at position %d" % (t["last"] + 1), mem)
        self.assertIn("Compared to position %d" % t["first"], mem)


@unittest.skipUnless(have_pytest(), "python3-pytest is not installed (scripts/install-deps.sh)")
class PytestDoctest(rwtest.TestCase):

    def test_unittest_cases_in_a_subfolder(self):
        os.makedirs(os.path.join(self.tmp, "sub"))
        self.copy(os.path.join(PROGS, "test_pt_unittest.py"), "sub/test_pt_unittest.py")
        xml = os.path.join(self.tmp, "junit.xml")
        rec = self.record(["-m", "pytest"], ["-p", "no:cacheprovider", "-rA", "--junitxml",
                                             xml, "sub"])
        got = tests_json(rec.trace)
        self.assertTrue(got["exact_names"], got["note"])
        self.assertEqual({junit_key(t["id"]): t["outcome"] for t in got["tests"]},
                         junit_results(xml, rec.stdout))
        self.assertIn("sub/test_pt_unittest.py::test_num[2]", [t["id"] for t in got["tests"]])
        path = os.path.join(self.tmp, "sub", "test_pt_unittest.py")
        self.assertEqual(replay_stop(rec.trace, "--test", "U::test_a@failure"), (path, 9))
        self.assertEqual(replay_stop(rec.trace, "--test", "U::test_b"),
                         (path, first_line_of(path, "U.test_b")))

    def test_doctest_modules(self):
        self.copy(os.path.join(PROGS, "test_pt_doctest.py"))
        xml = os.path.join(self.tmp, "junit.xml")
        rec = self.record(["-m", "pytest"], ["-p", "no:cacheprovider", "--doctest-modules",
                                             "--junitxml", xml, "test_pt_doctest.py"])
        # doctest sets its own tracer (pdb's, to redirect stdout): chained, the recording
        # goes on to the end (issue 16, part 1).
        self.assertNotIn("sys.settrace", rec.stderr)
        self.assertEqual(rwtest.info(rec.trace)["exit_status"], 1)
        tests = tests_json(rec.trace)["tests"]
        got = {t["id"]: t["outcome"] for t in tests}
        self.assertEqual(got, {"test_pt_doctest.py::test_pt_doctest.square": "passed",
                               "test_pt_doctest.py::test_pt_doctest.cube": "failed",
                               "test_pt_doctest.py::test_plain": "passed"})
        self.assertEqual({junit_key(i): o for i, o in got.items()},
                         junit_results(xml, rec.stdout))
        # The examples ran inside the recording, in each doctest's range.
        cube = next(t for t in tests if t["id"].endswith(".cube"))
        evs = rwtest.events(rec.trace, "--kinds", "call", "--from", cube["first"],
                            "--to", cube["last"] + 1)
        self.assertIn("cube", [e["func"] for e in evs])
        self.assertIn("<module>", [e["func"] for e in evs if "doctest" in e["file"]])
        # A doctest whose output differed fails at the example that ran last: there,
        # `p` re-executes it and shows what it returned (8, where 9 was expected).
        self.assertEqual(replay_stop(rec.trace, "--test", "test_pt_doctest.cube@failure"),
                         ("<doctest test_pt_doctest.cube[0]>", 1))
        out = rwtest.run([rwtest.rewind_bin(), "replay", rec.trace, "--test",
                          "test_pt_doctest.cube@failure"], stdin="p cube(2)\nquit\n",
                         cwd=self.tmp).stdout
        self.assertIn("(rewind) 8\n", out)


class UnittestRun(rwtest.TestCase):

    VERDICT = {"ok": "passed", "FAIL": "failed", "ERROR": "error",
               "expected failure": "xfail", "unexpected success": "xpass"}

    def verbose(self, text):
        """{str(test): outcome} from unittest's verbose lines."""
        res = {}
        for m in re.finditer(r"^(\w+ \([\w.]+\)) \.\.\. (.*)$", text, re.M):
            name, verdict = m.group(1), m.group(2).strip()
            if not verdict:  # subtests follow on lines of their own
                sub = re.findall(r"^  " + re.escape(name) + r" \(.*\) \.\.\. (\w+)", text, re.M)
                res[name] = "failed" if "FAIL" in sub else "error" if sub else "passed"
            elif verdict.startswith("skipped"):
                res[name] = "skipped"
            else:
                res[name] = self.VERDICT[verdict]
        # class and module fixtures: only in the error list ("ERROR: setUpClass (m.C)")
        for m in re.finditer(r"^ERROR: ((?:setUp|tearDown)(?:Class|Module) \([\w.]+\))$",
                             text, re.M):
            res[m.group(1)] = "error"
        return res

    def check(self, rec, module):
        got = tests_json(rec.trace)
        self.assertTrue(got["exact_names"], got["note"])
        mine = {t["name"]: t["outcome"] for t in got["tests"]}
        ref = self.verbose(rec.stderr)
        self.assertEqual(len(ref), 20, rec.stderr)
        self.assertEqual(mine, ref)
        self.assertIn("setUpClass (%s.BrokenClass)" % module, mine)
        for t in got["tests"]:
            if t["fixture"]:
                continue
            self.assertEqual(t["name"], "%s (%s)" % (t["id"].rsplit(".", 1)[1], t["id"]))
            self.assertTrue(t["id"].startswith(module + "."), t)
        sub = next(t for t in got["tests"] if t["id"] == module + ".Basic.test_sub")
        self.assertEqual(sub["subtests_failed"], 2)
        return got

    def test_unittest_main(self):
        prog = self.copy(os.path.join(PROGS, "ut_suite.py"))
        rec = self.record(prog, ["-v"])
        self.assertEqual(rec.returncode, 1, rec.stderr)
        got = self.check(rec, "__main__")
        # replay --test: the first line of the method, and the line unittest's
        # traceback names for the failure
        path = os.path.join(self.tmp, "ut_suite.py")
        self.assertEqual(replay_stop(rec.trace, "--test", "Derived.test_fail"),
                         (path, first_line_of(path, "Basic.test_fail")))
        tb = rec.stderr.split("FAIL: test_fail (__main__.Basic.test_fail)")[1]
        line = int(re.search(r'File ".*ut_suite.py", line (\d+), in test_fail', tb).group(1))
        self.assertEqual(replay_stop(rec.trace, "--test", "__main__.Basic.test_fail@failure"),
                         (path, line))
        with open(path, encoding="utf-8") as f:
            src = f.read().splitlines()
        for test, text in (("test_never", 'raise OSError("no setup")'),
                           ("setUpClass (__main__.BrokenClass)", 'raise ValueError("no class")')):
            t = next(t for t in got["tests"] if t["id"].endswith(test))
            self.assertEqual(src[t["failure_line"] - 1].strip(), text)  # the raise
        # from the log alone: Basic's methods ran for Basic and Derived (numbered), the
        # skipped ones and BrokenSetUp's never ran
        log = tests_json(rec.trace, "--no-values")
        self.assertFalse(log["exact_names"])
        self.assertEqual([t["outcome"] for t in log["tests"]],
                         [t["outcome"] for t in got["tests"]])
        for t, other in zip(log["tests"], got["tests"]):
            if other["fixture"]:
                self.assertEqual(t["id"], other["id"])
            elif other["body"] is None:
                self.assertRegex(t["id"], r"^\?unittest#\d+$")
            else:
                self.assertRegex(t["id"], r"^__main__\.Basic\.test_\w+\[#[12]\]$")
                self.assertEqual(t["id"].split("[")[0].rsplit(".", 1)[1],
                                 other["id"].rsplit(".", 1)[1])

    def test_module_unittest(self):
        self.copy(os.path.join(PROGS, "ut_suite.py"))
        rec = self.record(["-m", "unittest"], ["-v", "ut_suite"])
        self.assertEqual(rec.returncode, 1, rec.stderr)
        self.check(rec, "ut_suite")
        # stats of one test: the test's calls of fib, as cProfile counts them alone
        out = rwtest.rewind("stats", rec.trace, "--test", "ut_suite.Basic.test_fib").stdout
        m = re.search(r"^\s*(\S+)\s+(?:\S+\s+){4}ut_suite\.py:\d+\(fib\)$", out, re.M)
        self.assertTrue(m, out)
        code = ("import cProfile, pstats, ut_suite as m\n"
                "p = cProfile.Profile(); p.runcall(m.Basic('test_fib').test_fib)\n"
                "print([('%d/%d' % (nc, cc) if nc != cc else str(nc)) for (f, l, n), "
                "(cc, nc, *_) in pstats.Stats(p).stats.items() if n == 'fib'][0])\n")
        ref = rwtest.run([rwtest.python_bin(), "-c", code], cwd=self.tmp, check=True)
        self.assertEqual(m.group(1), ref.stdout.strip())
        self.assertNotRegex(out, r"ut_suite\.py:\d+\(test_(ok|fail)\)")

    def test_discover_names_from_the_log(self):
        # the module a test comes from is the name unittest imported it by (the audit
        # event "import"), not its path: here tests.test_d under sub/
        self.write("sub/tests/__init__.py", "")
        self.copy(os.path.join(PROGS, "ut_suite.py"), "sub/tests/test_d.py")
        rec = self.record(["-m", "unittest"], ["discover", "-v", "-s", "sub", "-p", "test_*.py"])
        self.assertEqual(rec.returncode, 1, rec.stderr)
        ref = self.verbose(rec.stderr)
        log = tests_json(rec.trace, "--no-values")
        for t in log["tests"]:
            if "[#" in t["id"] or t["id"].startswith("?"):
                continue  # inherited methods and tests that never ran: not from the log
            self.assertIn(t["name"], ref)
            self.assertIn("(tests.test_d." if t["fixture"] else "tests.test_d.", t["id"])
        self.assertEqual({t["name"]: t["outcome"] for t in tests_json(rec.trace)["tests"]},
                         ref)

    INHERITED = '''import doctest, functools, unittest

def double(x):
    """
    >>> double(2)
    4
    """
    return 2 * x

class Mixin:
    def test_double(self):
        self.assertEqual(double(self.n), 2 * self.n)

def twice(f):
    @functools.wraps(f)
    def wrapper(self):
        f(self)
        f(self)
    return wrapper

class TestOne(Mixin, unittest.TestCase):
    n = 1

    @twice
    def test_wrapped(self):
        self.assertTrue(self.n)

class TestTwo(Mixin, unittest.TestCase):
    n = 2

def load_tests(loader, tests, ignore):
    tests.addTests(doctest.DocTestSuite())
    return tests
'''

    def test_package_module_with_a_doctest_suite(self):
        # As CPython's test_heapq under `-m unittest test.test_heapq`: a module of a
        # package not imported yet (two "import" audit events, the package's <module>
        # first) on PYTHONPATH outside the working directory, inherited test methods
        # a decorated method (the code that runs is the wrapper) and a doctest whose id
        # does not end with its method (runTest).
        self.write("lib/pk/__init__.py", "")
        self.write("lib/pk/test_inh.py", self.INHERITED)
        env = dict(os.environ, PYTHONPATH=os.path.join(self.tmp, "lib"))
        rec = self.record(["-m", "unittest"], ["-v", "pk.test_inh"], env=env)
        self.assertEqual(rec.returncode, 0, rec.stderr)
        # unittest's descriptions: "str ... ok", a doctest's on two lines (str, then
        # "Doctest: id ... ok")
        ref = re.findall(r"^(\S+ \([\w.]*\))(?:\nDoctest: \S+)? \.\.\. ok$", rec.stderr, re.M)
        self.assertEqual(len(ref), 4, rec.stderr)
        got = tests_json(rec.trace)
        self.assertTrue(got["exact_names"], got["note"])
        self.assertEqual([t["name"] for t in got["tests"]], ref)
        self.assertEqual([t["id"] for t in got["tests"]],
                         ["pk.test_inh.TestOne.test_double", "pk.test_inh.TestOne.test_wrapped",
                          "pk.test_inh.TestTwo.test_double", "pk.test_inh.double"])
        # --test of the doctest starts at its first example, as for pytest's doctest
        # items (it started in doctest.py's DocTestCase.runTest)
        self.assertEqual(replay_stop(rec.trace, "--test", "pk.test_inh.double"),
                         ("<doctest pk.test_inh.double[0]>", 1))
        lib = os.path.join(self.tmp, "lib", "pk", "test_inh.py")
        self.assertEqual(replay_stop(rec.trace, "--test", "TestOne.test_wrapped"),
                         (lib, first_line_of(lib, "twice.wrapper")))
        # from the log: the module by the name it was imported as, not by its path
        log = tests_json(rec.trace, "--no-values")
        self.assertEqual([t["id"] for t in log["tests"]],
                         ["pk.test_inh.Mixin.test_double[#1]",
                          "pk.test_inh.twice.<locals>.wrapper",
                          "pk.test_inh.Mixin.test_double[#2]", "doctest.DocTestCase.runTest"])

    def test_command_line(self):
        prog = self.write("plain.py", "print(1)\n")
        rec = self.record(prog)
        for argv, status in ((["--bogus", rec.trace], 2), ([], 2), ([rec.trace, "x"], 2),
                             ([rec.trace, "--json=1"], 2),
                             ([os.path.join(self.tmp, "missing.rwd")], 1)):
            with self.subTest(argv=argv):
                p = rwtest.rewind("tests", *argv, check=False)
                self.assertEqual(p.returncode, status, p.stderr)
                self.assertEqual(len(p.stderr.splitlines()), 1, p.stderr)
                self.assertTrue(p.stderr.startswith("rewind tests: "), p.stderr)
        p = rwtest.rewind("tests", "--help")
        self.assertTrue(p.stdout.startswith("usage: rewind tests"))
        for cmd in ("stats", "coverage", "memory", "replay"):
            with self.subTest(cmd=cmd):
                p = rwtest.rewind(cmd, rec.trace, "--test", "t", check=False)
                self.assertEqual(p.returncode, 1, p.stderr)
                self.assertIn("holds no pytest or unittest test", p.stderr)
                self.assertEqual(len(p.stderr.splitlines()), 1, p.stderr)

    def test_no_tests(self):
        prog = self.write("plain.py", "print(1)\n")
        rec = self.record(prog)
        p = rwtest.rewind("tests", rec.trace, check=False)
        self.assertEqual(p.returncode, 1)
        self.assertIn("holds no pytest or unittest test", p.stderr)
        self.assertEqual(tests_json(rec.trace)["tests"], [])


if __name__ == "__main__":
    unittest.main()

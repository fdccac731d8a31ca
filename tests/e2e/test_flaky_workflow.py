"""The workflow of docs/flaky-tests.md, end to end, on its two worked examples (issue 16).

Each test runs the doc's commands in order, as a user would, in a folder holding
examples/: `rewind record --until-fail N --keep all`, then the commands that its last
lines suggest (`rewind tests`, `rewind replay --test NAME@failure`, `rewind diff --test
NAME PASS FAIL`, copied from its output as a user would copy them), then `rewind stats
--test NAME`, and checks what each step must show: the failure kept with a passing run
beside it, the test listed as failed at its assertion, the replay at @failure showing
the bad value the assertion saw, the diff naming where the runs part (for the clock
example, the branch of RateLimiter.allow that starts a new window, with the clock read
before it; for the race, the assertion in the main thread: the workers' paths are the
same, only a value differs), and the test's profile.

The race runs under pytest without --chaos; the clock example as a script with --chaos,
whose first attempt usually fails, so that the search for a passing run to compare
with (without chaos) is exercised too. The doc says 50 attempts; the tests allow 200:
recorded, the race fails in about one attempt in 15 here, and two fresh-clone CI runs
had 50 passes in a row (test_until_fail's race and this one, 2026-12-07).
"""

import os
import re
import shlex
import shutil
import unittest

import rwtest

EXAMPLES = os.path.join(rwtest.TOP, "examples")


def have_pytest():
    return rwtest.run([rwtest.python_bin(), "-c", "import pytest"]).returncode == 0


class FlakyWorkflow(rwtest.TestCase):
    def setUp(self):
        super().setUp()
        os.makedirs(os.path.join(self.tmp, "examples"))
        for name in ("flaky_race.py", "flaky_time.py"):
            shutil.copy(os.path.join(EXAMPLES, name), os.path.join(self.tmp, "examples"))

    def rewind(self, args, stdin=None):
        return rwtest.run([rwtest.rewind_bin(), *args], cwd=self.tmp, stdin=stdin,
                          timeout=600)

    def until_fail(self, args):
        """Step 1: the failing attempt's output (stdout, then stderr), the failing
        trace, the passing one and the suggested commands ({"tests": argv, "replay":
        argv, "diff": argv}) from --until-fail's last lines."""
        proc = self.rewind(["record", "--until-fail", "200", "--keep", "all", "-o", "run.rwd",
                            *args])
        err = proc.stderr
        self.assertEqual(proc.returncode, 1, err[-3000:])  # the test runner's failure
        m = re.search(r"^rewind: attempt (\d+) of 200 failed(?:, chaos seed \d+)?; its trace: "
                      r"(run\.\d+\.rwd) \(", err, re.M)
        self.assertTrue(m, err[-3000:])
        fail = m.group(2)
        self.assertEqual(fail, f"run.{m.group(1)}.rwd")
        if "rewind: no attempt passed, so there is no run to compare with" in err:
            # The tool's documented outcome when the first attempt fails and the ten
            # more fail too: on a loaded machine the clock example fails in most runs
            # (docs/flaky-tests.md). The workflow needs a passing run to compare with.
            self.skipTest("no attempt passed on this (loaded) machine: nothing to compare")
        m = re.search(r"a passing run's: (run\.\d+\.rwd)$", err, re.M)
        self.assertTrue(m, err[-3000:])
        passing = m.group(1)
        self.assertEqual(rwtest.info(os.path.join(self.tmp, fail))["exit_status"], 1)
        self.assertEqual(rwtest.info(os.path.join(self.tmp, passing))["exit_status"], 0)
        lines = err.splitlines()
        at = next(i for i, l in enumerate(lines) if l.startswith("rewind: next: "))
        cmds = [lines[at][len("rewind: next: "):]] + [l.strip() for l in lines[at + 1:at + 3]]
        argvs = [shlex.split(c) for c in cmds]
        self.assertEqual([a[:2] for a in argvs],
                         [["rewind", "tests"], ["rewind", "replay"], ["rewind", "diff"]], cmds)
        return proc.stdout + err, fail, passing, {a[1]: a[2:] for a in argvs}

    def check_tests(self, argv, fail, test, failed_line, passed):
        """Step 2: the test listed as failed, at its assertion; the other passed."""
        proc = self.rewind(argv)
        self.assertEqual(proc.returncode, 0, proc.stderr)
        out = proc.stdout
        self.assertRegex(out, rf"(?m)^failed .*{re.escape(test)}")
        self.assertRegex(out, rf"(?m)^ +failed at \d+: \S*examples/{failed_line}$")
        self.assertRegex(out, rf"(?m)^passed .*{re.escape(passed)}")
        self.assertIn("2 tests: 1 passed, 1 failed", out)

    def replay_values(self, argv, exprs):
        """Step 3: `p EXPR` at the test's failure; (the stop line, the values)."""
        proc = self.rewind(argv, stdin="".join(f"p {e}\n" for e in exprs) + "quit\n")
        got = [l[len("(rewind) "):] for l in proc.stdout.splitlines()
               if l.startswith("(rewind) ") and l[len("(rewind) "):].strip()]
        self.assertEqual(len(got), len(exprs), proc.stdout[-2000:] + proc.stderr[-2000:])
        stop = re.search(r"^> (\S+)\((\d+)\)(\w+)\(\)$", proc.stdout, re.M)
        self.assertTrue(stop, proc.stdout[-2000:])
        return (os.path.basename(stop.group(1)), int(stop.group(2)), stop.group(3)), got

    def diff(self, argv):
        """Step 4: the diff's text, checked to say it compared the test alone."""
        proc = self.rewind(argv)
        self.assertEqual(proc.returncode, 1, proc.stdout[-2000:] + proc.stderr)
        self.assertRegex(proc.stdout, r"^\S+ and \S+ part in thread 1 \(MainThread\)")
        self.assertRegex(proc.stdout, r"(?m)^compared: \S+, events \d+\.\.\d+ of ")
        return proc.stdout

    @staticmethod
    def differs(out, trace):
        """The event that differs in trace's half of a diff, and its stack."""
        half = out.split(f"\n{trace}: event ", 1)[1]
        ev = half.split("  differs:\n", 1)[1].splitlines()[0].split()
        stack = half.split("stack (most recent call last):\n", 1)[1].split("  next events:")[0]
        return ev, stack

    def stats(self, fail, test):
        """Step 5: the test's profile."""
        proc = self.rewind(["stats", fail, "--test", test])
        self.assertEqual(proc.returncode, 0, proc.stderr)
        return proc.stdout

    @unittest.skipUnless(have_pytest(), "python3-pytest is not installed")
    def test_race_under_pytest(self):
        name = "examples/flaky_race.py::TestAccount::test_concurrent_deposits"
        err, fail, passing, cmds = self.until_fail(["-m", "pytest", "-p", "no:cacheprovider",
                                                    "examples/flaky_race.py"])
        bad = re.search(r"AssertionError: (\d+) != 10000", err)  # pytest's report, shown
        self.assertTrue(bad, err[-3000:])
        self.assertEqual(cmds["tests"], [fail])
        self.assertEqual(cmds["replay"], [fail, "--test", name + "@failure"])
        self.assertEqual(cmds["diff"], ["--test", name, passing, fail])

        self.check_tests(["tests"] + cmds["tests"], fail, name, "flaky_race.py:59",
                         "examples/flaky_race.py::TestAccount::test_single_deposit")

        stop, got = self.replay_values(["replay"] + cmds["replay"],
                                       ["account.balance", "2 * DEPOSITS"])
        self.assertEqual(stop, ("flaky_race.py", 59, "test_concurrent_deposits"))
        self.assertEqual(got, [bad.group(1), "10000"])

        # The runs part in the main thread, in the test: in t.start() or t.join() (lines
        # 56, 58), where whether a worker had started or ended yet is the scheduler's
        # doing, or at the latest in the assertion (line 59: the failing run builds its
        # message).
        out = self.diff(["diff"] + cmds["diff"])
        ev, stack = self.differs(out, fail)
        self.assertEqual(ev[2], "t1", out)
        self.assertRegex(stack, r"flaky_race\.py:5[5-9] TestAccount\.test_concurrent_deposits\n")
        # --json says which ranges were compared: the ones `rewind tests` lists.
        got = rwtest.parse_json_output(self.rewind(["diff", "--json"] + cmds["diff"]).stdout)
        self.assertEqual(got["test"]["id"], name)
        listed = []
        for trace in (passing, fail):
            tests = rwtest.parse_json_output(self.rewind(["tests", "--json", trace]).stdout)
            t = next(t for t in tests["tests"] if t["id"] == name)
            listed.append([t["first"], t["last"]])
        self.assertEqual(got["test"]["ranges"], listed)
        # A test that is not there, or @failure: one line, status 2.
        for spec in ("no_such_test", name + "@failure"):
            proc = self.rewind(["diff", "--test", spec, passing, fail])
            self.assertEqual(proc.returncode, 2, proc.stderr)
            self.assertRegex(proc.stderr, rf"^rewind diff: --test {re.escape(spec)}: .+\n$")
        # The workers took the same paths in both runs: only a value differs.
        for thread in ("2", "3"):
            proc = self.rewind(["diff", "--thread", thread] + cmds["diff"])
            self.assertEqual(proc.returncode, 0, proc.stdout[-3000:] + proc.stderr)
            self.assertRegex(proc.stdout, rf"^no difference in \d+ events of {re.escape(name)}$")

        prof = self.stats(fail, "test_concurrent_deposits")
        self.assertRegex(prof, r"(?m)^ *10000(/\d+)? .* flaky_race\.py:31\(deposit\)$")
        self.assertRegex(prof, r"(?m) flaky_race\.py:52\(test_concurrent_deposits\)$")

    def test_clock_as_a_script_with_chaos(self):
        name = "__main__.TestRateLimiter.test_limit_per_window"
        err, fail, passing, cmds = self.until_fail(["--chaos", "examples/flaky_time.py"])
        bad = re.search(r"request over the limit allowed: client \d+ request 5 allowed in "
                        r"window (\d+) \((\d)/5\)", err)  # unittest's report, shown
        self.assertTrue(bad, err[-3000:])
        self.assertNotEqual(rwtest.info(os.path.join(self.tmp, fail))["chaos_seed"], 0)
        self.assertEqual(cmds["replay"], [fail, "--test", name + "@failure"])
        self.assertEqual(cmds["diff"], ["--test", name, passing, fail])

        self.check_tests(["tests"] + cmds["tests"], fail, name, "flaky_time.py:61",
                         "test_refuses_after_limit_with_a_fixed_clock")

        stop, got = self.replay_values(["replay"] + cmds["replay"],
                                       ["extra", "limiter.current", "limiter.used"])
        self.assertEqual(stop, ("flaky_time.py", 61, "test_limit_per_window"))
        self.assertEqual(got, ["True", bad.group(1), bad.group(2)])

        # The failing run takes the branch that starts a new window (line 38) where the
        # passing run went on (line 40), just after a clock read.
        out = self.diff(["diff"] + cmds["diff"])
        ev_fail, stack = self.differs(out, fail)
        ev_pass, _ = self.differs(out, passing)
        self.assertEqual(ev_fail[1:], ["line", "t1", ev_fail[3], "allow"], out)
        self.assertTrue(ev_fail[3].endswith("examples/flaky_time.py:38"), out)
        self.assertTrue(ev_pass[3].endswith("examples/flaky_time.py:40"), out)
        self.assertIn("TestRateLimiter.test_limit_per_window", stack)
        inputs = out.split(f"\n{fail}: inputs of thread 1 before the difference", 1)[1]
        last = inputs.split("\n(")[0].strip().splitlines()[-1]
        self.assertIn("clock_gettime(clock 1)", last, out)

        prof = self.stats(fail, "test_limit_per_window")
        self.assertRegex(prof, r"(?m) flaky_time\.py:\d+\(allow\)$")
        self.assertRegex(prof, r"(?m) flaky_time\.py:54\(test_limit_per_window\)$")


if __name__ == "__main__":
    unittest.main()

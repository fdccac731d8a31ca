"""The command line of every subcommand: one parser, one exit-status policy (README.md,
"Exit status"). The same mistakes give the same status in every command, with one
line on stderr starting "rewind <command>:": 2 for the command line (unknown option,
missing or malformed value, misspelt position, --from after --to, missing or extra
argument), 1 for the trace (missing, not a trace, a position it does not have);
--help exits 0 with the usage on stdout. `rewind record` returns the program's own
status. And the spellings every command accepts (--opt=VALUE, -oVALUE, -o=VALUE,
unique prefixes, grouped flags, --, repeated options)."""

import os
import shutil
import tempfile
import unittest

import rwtest

PROG = """\
def f(n):
    return [n] * n

for i in range(5):
    f(i)
"""

# Per command: the arguments around the trace (before, after) that make a good command
# line, the option that takes a position ("" when none), and one that takes a number.
COMMANDS = {
    "info": ([], [], None, None),
    "verify": ([], [], None, None),
    "events": ([], [], "--from", ("--thread", "x")),
    "stats": ([], [], "--from", ("-n", "x")),
    "memory": ([], [], "--at", ("-n", "x")),
    "coverage": ([], [], "--from", None),
    "audit": ([], [], "--from", ("--thread", "x")),
    "export": ([], ["--format", "chrome", "-o", "{out}"], "--from", None),
    "timeit": ([], ["f"], "--from", None),
    "replay": (["--no-rc"], [], "--at", None),
}


class CliTest(unittest.TestCase):

    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp(prefix="rewind-e2e-")
        if not os.environ.get("REWIND_KEEP_TMP"):
            cls.addClassCleanup(shutil.rmtree, cls.tmp, ignore_errors=True)
        prog = os.path.join(cls.tmp, "prog.py")
        with open(prog, "w") as f:
            f.write(PROG)
        cls.prog = prog
        rec = rwtest.record(prog, cwd=cls.tmp)
        if rec.returncode != 0:
            raise AssertionError(rec.stderr)
        cls.trace = rec.trace
        cls.out = os.path.join(cls.tmp, "out.json")
        cls.missing = os.path.join(cls.tmp, "missing.rwd")

    def argv(self, cmd, *mistake, trace=None):
        before, after, _, _ = COMMANDS[cmd]
        after = [a.replace("{out}", self.out) for a in after]
        return [cmd, *before, self.trace if trace is None else trace, *after, *mistake]

    def check(self, argv, status):
        p = rwtest.rewind(*argv, check=False)
        self.assertEqual(p.returncode, status, (argv, p.stderr))
        lines = p.stderr.splitlines()
        self.assertEqual(len(lines), 1, (argv, p.stderr))
        self.assertTrue(lines[0].startswith("rewind %s: " % argv[0]), (argv, p.stderr))
        if status == 2:
            self.assertIn("see 'rewind %s --help'" % argv[0], lines[0])
        return lines[0]

    def test_good_command_lines(self):
        for cmd in COMMANDS:
            with self.subTest(cmd=cmd):
                p = rwtest.rewind(*self.argv(cmd), check=False)
                self.assertEqual(p.returncode, 0, (cmd, p.stderr))

    def test_help(self):
        for cmd in [*COMMANDS, "record"]:
            for flag in ("--help", "-h", "--he"):
                with self.subTest(cmd=cmd, flag=flag):
                    p = rwtest.rewind(cmd, flag, check=False)
                    self.assertEqual((p.returncode, p.stderr), (0, ""))
                    self.assertTrue(p.stdout.startswith("usage: rewind %s" % cmd), p.stdout)
                    self.assertIn("--help", p.stdout)

    def test_usage_mistakes(self):
        for cmd, (before, after, posopt, numopt) in COMMANDS.items():
            with self.subTest(cmd=cmd):
                self.check(self.argv(cmd, "--bogus"), 2)
                self.check(self.argv(cmd, "-Z"), 2)
                self.check(self.argv(cmd, "--help=1"), 2)
                self.check([cmd, *before, *[a.replace("{out}", self.out) for a in after
                                            if cmd != "timeit"]], 2)  # no FILE
                self.check(self.argv(cmd, "extra", "more"), 2)
                if posopt:
                    self.check(self.argv(cmd, posopt), 2)  # missing value
                    self.check(self.argv(cmd, posopt + "="), 2)  # empty value
                    self.check(self.argv(cmd, posopt, "@nowhere"), 2)
                    self.check(self.argv(cmd, posopt, "1.5parsecs"), 2)
                if numopt:
                    self.check(self.argv(cmd, *numopt), 2)
                    self.check(self.argv(cmd, numopt[0], "-1"), 2)

    def test_reversed_window(self):
        for cmd in ("events", "stats", "coverage", "audit", "export", "timeit"):
            with self.subTest(cmd=cmd):
                self.check(self.argv(cmd, "--from", "10", "--to", "5"), 2)

    def test_trace_problems(self):
        notatrace = os.path.join(self.tmp, "notatrace.rwd")
        with open(notatrace, "w") as f:
            f.write("not a trace\n")
        for cmd, (_, _, posopt, _) in COMMANDS.items():
            with self.subTest(cmd=cmd):
                self.assertIn("missing.rwd", self.check(self.argv(cmd, trace=self.missing), 1))
                self.check(self.argv(cmd, trace=notatrace), 1)
                if posopt:
                    self.check(self.argv(cmd, posopt, "99999999"), 1)  # past the end
                if posopt and cmd != "events":
                    self.check(self.argv(cmd, posopt, "@exception"), 1)  # none in this run
                    self.check(self.argv(cmd, posopt, "prog.py:99"), 1)  # never ran
        self.check(["timeit", self.trace, "nosuch"], 1)
        for cmd in ("stats", "memory", "audit"):
            self.check(self.argv(cmd, "--thread", "99"), 1)

    def test_record(self):
        # The program's own status is rewind's; rewind's usage mistakes are 2.
        out = os.path.join(self.tmp, "r.rwd")
        p = rwtest.run([rwtest.rewind_bin(), "record", "-q", "--force", "-o", out, "-c",
                        "import sys; sys.exit(3)"], cwd=self.tmp)
        self.assertEqual((p.returncode, p.stderr), (3, ""))
        for argv in (["record"], ["record", "--bogus", "x.py"], ["record", "-o"],
                     ["record", "-o", "", "x.py"], ["record", "--flush-ms", "x", "x.py"],
                     ["record", "--timeout", "0", "x.py"], ["record", "--dump-signal", "KILL",
                                                            "x.py"],
                     ["record", "-m", ""], ["record", "-c"], ["record", "--"],
                     ["record", "--keep-env=1", "x.py"]):
            with self.subTest(argv=argv):
                self.check(argv, 2)
        p = rwtest.run([rwtest.rewind_bin(), "record", "-o", out, self.prog], cwd=self.tmp)
        self.assertEqual(p.returncode, 2)  # exists, no --force
        self.assertIn("already exists", p.stderr)

    def test_record_spellings(self):
        # Options end at the target: what follows is the program's.
        code = "import sys; print(sys.argv[1:])"
        for opts in (["-q", "--force", "-o", "a.rwd"], ["-qo", "a.rwd", "--force"],
                     ["-qoa.rwd", "--fo"], ["--quiet", "--output=a.rwd", "--force"],
                     ["-q", "-o=a.rwd", "--force"]):
            with self.subTest(opts=opts):
                p = rwtest.run([rwtest.rewind_bin(), "record", *opts, "-c", code, "-q", "--x"],
                               cwd=self.tmp)
                self.assertEqual((p.returncode, p.stdout, p.stderr),
                                 (0, "['-q', '--x']\n", ""))
                self.assertTrue(os.path.exists(os.path.join(self.tmp, "a.rwd")))
        p = rwtest.run([rwtest.rewind_bin(), "record", "-q", "--force", "-o", "b.rwd", "--",
                        self.prog, "-h"], cwd=self.tmp)
        self.assertEqual((p.returncode, p.stderr), (0, ""))
        p = rwtest.run([rwtest.rewind_bin(), "record", "-q", "--force", "-o", "c.rwd",
                        "-cimport sys; print(sys.argv[1:])", "x"], cwd=self.tmp)
        self.assertEqual((p.returncode, p.stdout), (0, "['x']\n"), p.stderr)

    def same_output(self, cmd, *variants):
        outs = []
        for args in variants:
            p = rwtest.rewind(cmd, *args, check=False)
            self.assertEqual(p.returncode, 0, (args, p.stderr))
            outs.append(p.stdout)
        for args, out in zip(variants[1:], outs[1:]):
            self.assertEqual(out, outs[0], args)
        return outs[0]

    def test_spellings(self):
        t = self.trace
        self.same_output("stats", [t, "-n", "3"], [t, "-n3"], [t, "-n=3"], ["-n", "3", t],
                         [t, "-s", "cumulative", "-n", "3"], [t, "-n", "9", "-n", "3"],
                         ["-n3", "--", t])
        # A window (the events as recorded, not cProfile's view: docs/stats.md).
        self.same_output("stats", [t, "--from", "@start", "-n", "3"], [t, "--from=@start", "-n3"],
                         [t, "--fr", "@start", "-n", "3"])
        self.same_output("stats", [t, "-s", "calls", "-s", "name"],
                         [t, "--sort=calls", "--sort", "name"], [t, "-scalls", "-sname"])
        out = self.same_output("events", [t, "--from", "2", "--to", "5"],
                               [t, "--from=2", "--to=5"], [t, "--fr", "2", "--to", "5"],
                               [t, "--from", "1", "--from", "2", "--to", "5"],
                               ["--from", "2", "--to", "5", "--", t])
        self.assertEqual(len(out.splitlines()), 4)
        self.same_output("coverage", [t, "-sm"], [t, "-s", "-m"], [t, "--summary", "--missing"],
                         [t, "--sum", "--mis"])
        self.same_output("memory", [t, "--at", "@end", "-n", "2"], [t, "--at=@end", "--top=2"])
        self.check(["events", t, "--t", "5"], 2)  # ambiguous: --to, --thread
        self.check(["info", t, "--json=yes"], 2)  # a flag takes no value
        outs = []
        for args in (["-o", self.out], ["-o" + self.out], ["--output=" + self.out],
                     ["--out", self.out]):
            p = rwtest.rewind("export", t, "--format", "speedscope", *args, check=False)
            self.assertEqual(p.returncode, 0, p.stderr)
            with open(self.out) as f:
                outs.append(f.read())
        self.assertEqual(outs, [outs[0]] * 4)
        p = rwtest.rewind("replay", "--no-rc", "-x", "next", "-xnext", "--at=@start", t,
                          check=False)
        self.assertEqual(p.returncode, 0, p.stderr)


if __name__ == "__main__":
    unittest.main()

"""`rewind diff PASS FAIL`: where two recordings of one program part (docs/diff.md).

Each test records the programs of progs_diff/ twice and checks what the diff names:
the line each run took after a branch, the thread, the exception, the stacks, the
inputs consumed before (the random module's seed from getrandom), and the exit status
(0 the same, 1 different, 2 trouble), against the program's own output of each run.
"""

import json
import os
import re
import unittest

import pyreader
import rwtest

PROGS = os.path.join(rwtest.HERE, "progs_diff")


def marked_line(path, mark):
    """The line number of the line of path that holds the comment mark."""
    with open(path) as f:
        for n, line in enumerate(f, 1):
            if f"# {mark}" in line:
                return n
    raise AssertionError(f"{mark} not in {path}")


class Diff(rwtest.TestCase):
    def rec(self, name, trace, env=None):
        prog = self.copy(os.path.join(PROGS, name))
        rec = self.record(prog, trace=trace, env=env)
        self.assertEqual(rec.returncode, 0, rec.stderr)
        return prog, rec

    def diff(self, *args):
        return rwtest.rewind("diff", *args, check=False)

    def diff_json(self, *args):
        p = self.diff("--json", *args)
        self.assertIn(p.returncode, (0, 1), p.stderr)
        return p.returncode, json.loads(p.stdout)

    @staticmethod
    def differing(run):
        """The event that differs in one run of the JSON report, and its stack."""
        ev = [e["event"] for e in run["events"] if e.get("role") == "differs"]
        st = [e["frames"] for e in run["events"] if e.get("role") == "stack"]
        return (ev[0] if ev else None), (st[0] if st else None)

    def test_identical_runs(self):
        _, a = self.rec("det.py", "a.rwd")
        _, b = self.rec("det.py", "b.rwd")
        self.assertEqual(a.stdout, b.stdout)
        n = rwtest.info(a.trace)
        p = self.diff(a.trace, b.trace)
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertRegex(p.stdout, r"^no difference in \d+ events\n$")
        compared = int(p.stdout.split()[3])
        nev = len([e for e in rwtest.events(a.trace) if e["kind"] in
                   ("call", "line", "return", "exception", "c_call", "c_return",
                    "c_exception")])
        self.assertEqual(compared, nev)  # every event of the run was compared
        self.assertTrue(n)
        code, js = self.diff_json(a.trace, b.trace)
        self.assertEqual(code, 0)
        self.assertEqual(js["differ"], False)
        self.assertEqual(js["equal_events"], compared)

    def test_random_branch(self):
        """Records until two runs took different branches (each draw is a coin toss:
        20 runs all alike would be one chance in 2^19)."""
        prog = None
        runs = {}
        for i in range(20):
            prog, r = self.rec("branch.py", f"r{i}.rwd")
            runs.setdefault(r.stdout.strip(), r)
            if len(runs) == 2:
                break
        self.assertEqual(sorted(runs), ["high", "low"], "every run drew the same side")
        low, high = runs["low"], runs["high"]
        lines = {"low": marked_line(prog, "BRANCH-LOW"), "high": marked_line(prog, "BRANCH-HIGH")}
        p = self.diff("--inputs", "8", low.trace, high.trace)
        self.assertEqual(p.returncode, 1, p.stderr)
        out = p.stdout
        base = os.path.basename(prog)
        # the branch each run took, as the line after the `if`, with its stack
        self.assertRegex(out, rf"differs:\n +\d+ line +t1 \S*{base}:{lines['low']} choose")
        self.assertRegex(out, rf"differs:\n +\d+ line +t1 \S*{base}:{lines['high']} choose")
        self.assertIn("part in thread 1 (MainThread)", out)
        self.assertRegex(out, rf"stack \(most recent call last\):\n +\S*{base}:\d+ <module>\n"
                              rf" +\S*{base}:\d+ main\n +\S*{base}:{lines['low']} choose")
        # the random module's seed: a getrandom read, different in the two runs
        seeds = [l for l in out.splitlines() if "getrandom" in l and re.match(r"[* ~] #\d", l)]
        self.assertEqual(len(seeds), 2, out)
        # and it is the first input of the thread that differs: not a listing of the
        # folder (the other runs' traces) nor its times (the traces written there)
        first = out.split("first input of the thread that differs between the runs")[1]
        self.assertEqual(len(re.findall(r"\.rwd: #\d+ at event \d+: getrandom = 2496", first)),
                         2, out)
        self.assertTrue(all(l.startswith("* ") for l in seeds), seeds)
        data = [l.split("bytes ")[-1] for l in seeds]
        self.assertNotEqual(data[0], data[1])
        # JSON: the same, with the input data in hex
        code, js = self.diff_json(low.trace, high.trace)
        self.assertEqual(code, 1)
        got = []
        for run in js["runs"]:
            ev, stack = self.differing(run)
            self.assertEqual(ev["kind"], "line")
            self.assertEqual(stack[-1]["func"], "choose")
            self.assertEqual(stack[-1]["line"], ev["line"])
            got.append(ev["line"])
        self.assertEqual(got, [lines["low"], lines["high"]])
        rnd = [[i for i in side["last"] if i["call"] == "getrandom"] for side in js["inputs"]]
        self.assertTrue(rnd[0] and rnd[1], js["inputs"])
        self.assertNotEqual(rnd[0][-1]["data_hex"], rnd[1][-1]["data_hex"])
        self.assertEqual(rnd[0][-1]["data_len"], rnd[1][-1]["data_len"])

    def test_exception_in_one_run(self):
        prog, ok = self.rec("exc.py", "ok.rwd", env={"DIFF_VALUE": "7"})
        _, bad = self.rec("exc.py", "bad.rwd", env={"DIFF_VALUE": "x"})
        self.assertEqual((ok.stdout, bad.stdout), ("7\n", "-1\n"))
        parse = marked_line(prog, "PARSE")
        code, js = self.diff_json(ok.trace, bad.trace)
        self.assertEqual(code, 1)
        a, astack = self.differing(js["runs"][0])
        b, bstack = self.differing(js["runs"][1])
        self.assertEqual((a["kind"], a["line"]), ("return", parse))
        self.assertEqual((b["kind"], b["line"], b["name"]), ("exception", parse, "ValueError"))
        self.assertEqual([f["func"] for f in bstack], ["<module>", "main", "parse"])
        # where the return comes from is shown too
        self.assertEqual([(f["func"], f["line"]) for f in astack][-1], ("parse", parse))
        after = [e["event"] for e in js["runs"][1]["events"] if e["role"] == "after"]
        self.assertEqual(after[0]["line"], marked_line(prog, "PARSE") + 1)  # except ...:
        p = self.diff("--context", "2", ok.trace, bad.trace)
        self.assertEqual(p.returncode, 1)
        self.assertIn("ValueError: invalid literal for int()", p.stdout)
        self.assertEqual(p.stdout.count("next events:"), 2)

    def test_threads_interleaving(self):
        prog, a = self.rec("threads.py", "a.rwd", env={"DIFF_DELAY": "0"})
        _, b = self.rec("threads.py", "b.rwd", env={"DIFF_DELAY": "1.5"})
        self.assertEqual((a.stdout, b.stdout), ("saw it\n", "missed it\n"))
        p = self.diff(a.trace, b.trace)
        self.assertEqual(p.returncode, 1, p.stderr)
        self.assertRegex(p.stdout, r"part in thread 2\b")
        base = os.path.basename(prog)
        saw, missed = marked_line(prog, "WORKER-SAW"), marked_line(prog, "WORKER-MISSED")
        self.assertRegex(p.stdout, rf"differs:\n +\d+ line +t2 \S*{base}:{saw} worker")
        self.assertRegex(p.stdout, rf"differs:\n +\d+ line +t2 \S*{base}:{missed} worker")
        # the main thread took the same path in both runs
        q = self.diff("--thread", "1", a.trace, b.trace)
        self.assertEqual(q.returncode, 0, q.stdout + q.stderr)
        self.assertRegex(q.stdout, r"^no difference in \d+ events\n$")
        code, js = self.diff_json("--thread", "2", a.trace, b.trace)
        self.assertEqual(code, 1)
        self.assertEqual([r["thread"] for r in js["runs"]], [2, 2])
        self.assertEqual([r["input_stream"] for r in js["runs"]], [2, 2])
        q = self.diff("--thread", "9", a.trace, b.trace)
        self.assertEqual(q.returncode, 2)
        self.assertIn("no thread 9", q.stderr)

    def test_different_programs(self):
        _, a = self.rec("det.py", "a.rwd")
        _, b = self.rec("exc.py", "b.rwd", env={"DIFF_VALUE": "7"})
        p = self.diff(a.trace, b.trace)
        self.assertEqual(p.returncode, 2)
        self.assertEqual(p.stdout, "")
        self.assertEqual(len(p.stderr.splitlines()), 1, p.stderr)
        self.assertIn("different programs", p.stderr)
        self.assertIn("--force", p.stderr)
        q = self.diff("--force", a.trace, b.trace)
        self.assertEqual(q.returncode, 1, q.stderr)
        self.assertIn("part in thread 1", q.stdout)

    def test_damaged_and_bad_traces(self):
        _, a = self.rec("det.py", "a.rwd")
        _, b = self.rec("det.py", "b.rwd")
        # cut short, in its last chunk: the readable part is compared, never called
        # the whole
        with open(b.trace, "rb") as f:
            data = f.read()
        chunks = list(pyreader.Trace(b.trace).chunks())
        self.assertGreaterEqual(len(chunks), 2)
        cut = os.path.join(self.tmp, "cut.rwd")
        with open(cut, "wb") as f:
            f.write(data[: (chunks[-1].offset + chunks[-1].end) // 2])
        p = self.diff(a.trace, cut)
        self.assertIn(p.returncode, (1, 2), p.stdout + p.stderr)
        self.assertIn("cut.rwd is damaged", p.stderr)
        if p.returncode == 1:
            self.assertIn("has no more events here", p.stdout)
        else:
            self.assertIn("may still differ", p.stderr)
        # a flipped byte in the middle of a chunk
        bad = os.path.join(self.tmp, "flip.rwd")
        mid = bytearray(data)
        mid[len(mid) // 2] ^= 0xFF
        with open(bad, "wb") as f:
            f.write(mid)
        p = self.diff(a.trace, bad)
        self.assertIn(p.returncode, (1, 2))
        self.assertTrue(p.stderr.startswith("rewind diff: "), p.stderr)
        self.assertNotIn("Traceback", p.stderr)
        # not a trace, a missing file, a missing argument
        junk = self.write("junk.rwd", "hello\n")
        for args in ((a.trace, junk), (os.path.join(self.tmp, "nope.rwd"), a.trace)):
            p = self.diff(*args)
            self.assertEqual(p.returncode, 2, p.stderr)
            self.assertEqual(len(p.stderr.splitlines()), 1, p.stderr)
            self.assertTrue(p.stderr.startswith("rewind diff: "), p.stderr)
        p = self.diff(a.trace)
        self.assertEqual(p.returncode, 2)
        self.assertIn("missing", p.stderr)


if __name__ == "__main__":
    unittest.main()

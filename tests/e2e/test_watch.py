"""Watchpoints in `rewind replay`: `watch EXPR`, then `continue` and `rcontinue` stop
where a watched value changes, against brute force.

The program changes a global counter, a local of a function and a list appended to by
a callee at known lines (other lines leave them unchanged), and its functions return
(the watched frame goes: "<out of scope>"). Brute force: `p EXPR` in the watched frame
(`goto N`, `up` to it) at every Python event of the program; the frame's span (its
CALL to its RETURN) and depths come from `rewind events --json`. From positions picked
at random (seeded), `continue` must stop at the first Python event after the position
whose value differs, and `rcontinue` at the first one of the run of values just before
it, with the old and new values brute force gives; the same with `--checkpoints 0`.
A breakpoint that comes first wins; unwatch removes; without values `watch` says why
in one line. These tests need the re-execution engine: they are skipped, with its
reason, where `rewind replay --values` cannot start it (test_no_values runs anyway).
"""

import json
import os
import random
import re
import shutil
import tempfile
import unittest

import rwtest

PROG = '''\
count = 0
items = []


def add(x):
    y = x * 2
    items.append(y)
    return y


def work(n):
    total = 0
    for i in range(n):
        total += i
        if i % 2 == 0:
            add(i)
        z = total
    return total


def main():
    global count
    for k in range(3):
        count += 1
        w = work(k + 1)
        print("work", k, w, len(items))
    count += 10
    return count


main()
print("done", count)
'''

OUT = "<out of scope>"
PY_KINDS = ("call", "line", "return", "exception")

# (expression, the function of the watched frame, which call of it: 1 = the first)
WATCHES = [("count", "main", 1), ("total", "work", 3), ("len(items)", "work", 3)]


def chunks(stdout):
    """The transcript cut at the prompts: [the first stop, command 1's output, ...]."""
    return stdout.split("(rewind) ")


def when_pos(text):
    m = re.search(r"^event (\d+) of", text, re.M)
    return int(m.group(1)) if m else None


def changes(text):
    """The Watchpoint / Old value / New value triples a stop printed."""
    return re.findall(r"^Watchpoint (\d+): (.*)\nOld value = (.*)\nNew value = (.*)$", text,
                      re.M)


class Watch(unittest.TestCase):

    maxDiff = None
    MODULE = False  # recorded as `-m prog` (WatchModuleRun)

    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp(prefix="rewind-e2e-watch-")
        prog = os.path.join(cls.tmp, "prog.py")
        with open(prog, "w", encoding="utf-8") as f:
            f.write(PROG)
        rec = rwtest.record(["-m", "prog"] if cls.MODULE else prog, trace="prog.rwd",
                            cwd=cls.tmp, env={"PYTHONUNBUFFERED": "1"})
        cls.trace = rec.trace
        cls.rec_err = rec.stderr
        cls.events = []
        if os.path.exists(cls.trace):
            out = rwtest.rewind("events", cls.trace, "--json").stdout
            cls.events = [json.loads(l) for l in out.splitlines() if l.strip()]
        cls.brute = None

    @classmethod
    def tearDownClass(cls):
        if not os.environ.get("REWIND_KEEP_TMP"):
            shutil.rmtree(cls.tmp, ignore_errors=True)

    def replay(self, commands, *options):
        proc = rwtest.run([rwtest.rewind_bin(), "replay", "--no-rc", *options, self.trace],
                          cwd=self.tmp, stdin="".join(c + "\n" for c in commands))
        self.assertEqual(proc.returncode, 0, proc.stderr)
        out = chunks(proc.stdout)
        self.assertEqual(len(out), len(commands) + 1, proc.stdout)
        return out

    def need_engine(self):
        self.assertTrue(os.path.exists(self.trace), self.rec_err)
        proc = rwtest.run([rwtest.rewind_bin(), "replay", "--no-rc", "--values", self.trace],
                          cwd=self.tmp, stdin="q\n")
        if proc.returncode != 0:
            self.skipTest("no re-execution engine: " + proc.stderr.strip())

    # ---- the program's Python events and brute force ----

    def shown(self):
        """The Python events of the program (its <module> frame's first line to its
        RETURN) as (pos, kind, func, depth), and the depth of <module>."""
        py = [e for e in self.events if e["kind"] in PY_KINDS and e["thread"] == 1]
        call = next(e for e in py if e["kind"] == "call" and e["func"] == "<module>"
                    and e["file"].endswith("prog.py"))
        ret = next(e for e in py if e["kind"] == "return" and e["pos"] > call["pos"]
                   and e["depth"] == call["depth"])
        first = next(e for e in py if e["kind"] == "line" and e["pos"] > call["pos"])
        return [e for e in py if first["pos"] <= e["pos"] <= ret["pos"]], call["depth"]

    def span(self, func, nth):
        """The watched frame: (its CALL's position, its RETURN's, its depth)."""
        py = [e for e in self.events if e["kind"] in PY_KINDS and e["thread"] == 1]
        calls = [e for e in py if e["kind"] == "call" and e["func"] == func
                 and e["file"].endswith("prog.py")]
        c = calls[nth - 1]
        r = next(e for e in py if e["kind"] == "return" and e["pos"] > c["pos"]
                 and e["depth"] == c["depth"])
        return c["pos"], r["pos"], c["depth"]

    def brute_force(self):
        """{watch index: {pos: value}} over every shown position, by `p` in the frame."""
        if type(self).brute is not None:
            return type(self).brute
        shown, _ = self.shown()
        cmds, where = [], []
        values = {}
        for w, (expr, func, nth) in enumerate(WATCHES):
            c, r, depth = self.span(func, nth)
            values[w] = {}
            for e in shown:
                if not c <= e["pos"] <= r:
                    values[w][e["pos"]] = OUT
                    continue
                cmds.append("goto %d" % e["pos"])
                cmds += ["up"] * (e["depth"] - depth)
                cmds.append("p " + expr)
                where.append((w, e["pos"], len(cmds)))
        out = self.replay(cmds + ["q"])
        for w, pos, i in where:
            values[w][pos] = out[i].rstrip("\n")
        type(self).brute = values
        return values

    def expect_forward(self, vals, shown_pos, n):
        """Where continue from shown position n stops: (pos, old, new) or None."""
        i = shown_pos.index(n)
        for m in shown_pos[i + 1:]:
            if vals[m] != vals[n]:
                return m, vals[n], vals[m]
        return None

    def expect_backward(self, vals, shown_pos, n):
        """Where rcontinue from n stops: (pos, old, new), None for the start."""
        i = shown_pos.index(n)
        if i == 0:
            return None
        j = i - 1
        while j > 0 and vals[shown_pos[j - 1]] == vals[shown_pos[i - 1]]:
            j -= 1
        if j == 0:
            return None
        return shown_pos[j], vals[shown_pos[j - 1]], vals[shown_pos[j]]

    def set_watch(self, w):
        """The commands that set watchpoint w (in its frame, at its CALL) as number 1."""
        expr, func, nth = WATCHES[w]
        c, _, _ = self.span(func, nth)
        return ["goto %d" % c, "watch " + expr]

    def check_moves(self, w, *options):
        vals = self.brute_force()[w]
        shown, _ = self.shown()
        shown_pos = [e["pos"] for e in shown]
        c, r, _ = self.span(WATCHES[w][1], WATCHES[w][2])
        rnd = random.Random(1000 + w)
        inside = [p for p in shown_pos if c <= p <= r]
        starts = sorted(set(rnd.sample(shown_pos, 3) + rnd.sample(inside, 3) + [shown_pos[0],
                                                                                shown_pos[-1]]))
        cmds = self.set_watch(w)
        at = []
        for n in starts:
            cmds += ["goto %d" % n, "c", "when"]
            at.append(("c", n, len(cmds) - 1))
            cmds += ["goto %d" % n, "rc", "when"]
            at.append(("rc", n, len(cmds) - 1))
        out = self.replay(cmds + ["q"], *options)
        self.assertEqual(out[2].strip(), "Watchpoint 1: %s = %s" % (WATCHES[w][0], vals[c]),
                         out[2])
        stops = []
        for move, n, i in at:
            want = (self.expect_forward if move == "c" else self.expect_backward)(
                vals, shown_pos, n)
            got_pos = when_pos(out[i + 1])
            got = changes(out[i])
            if want is None:
                self.assertEqual(got, [], (move, n, out[i]))
                if move == "c":
                    self.assertIn("The program finished", out[i], (move, n))
                elif n != shown_pos[0]:
                    self.assertIn("back to the start of the program", out[i], (move, n))
            else:
                self.assertEqual((got_pos, got), (want[0], [("1", WATCHES[w][0], want[1],
                                                             want[2])]),
                                 (move, n, out[i]))
            stops.append((move, n, got_pos, got))
        return stops

    # ---- the tests ----

    def test_counter_global(self):
        self.need_engine()
        a = self.check_moves(0)
        self.assertEqual(a, self.check_moves(0, "--checkpoints", "0"))

    def test_local(self):
        self.need_engine()
        self.check_moves(1)

    def test_changed_in_callee(self):
        """len(items) watched in work() changes in add(): the stop is in add(), at the
        line after the append."""
        self.need_engine()
        self.check_moves(2)
        c, _, _ = self.span("work", 3)
        out = self.replay(self.set_watch(2) + ["c", "where", "q"])
        self.assertIn("Old value = ", out[3])
        self.assertRegex(out[3], r"prog\.py\(8\)add\(\)\n-> return y")
        self.assertIn("add()", out[4])

    def test_breakpoint_first(self):
        """A breakpoint hit before the change stops first, both ways; at the change
        itself the watch is said too."""
        self.need_engine()
        vals = self.brute_force()[0]
        shown, _ = self.shown()
        shown_pos = [e["pos"] for e in shown]
        line17 = [e["pos"] for e in self.events
                  if e["kind"] == "line" and e["line"] == 17 and e["thread"] == 1]
        line24 = [e["pos"] for e in self.events
                  if e["kind"] == "line" and e["line"] == 24 and e["thread"] == 1
                  and e["func"] == "main"]
        # From the first line 24 (count 0 -> 1 at the next event), a breakpoint at 17
        # comes after that change; from the line after, the next change of count is
        # after the next call of work, whose line 17 comes first.
        start = line24[0] + 1
        want_fwd = self.expect_forward(vals, shown_pos, start)
        bp = min(p for p in line17 if p > start)
        self.assertLess(bp, want_fwd[0])
        out = self.replay(self.set_watch(0) + ["b 17", "goto %d" % start, "c", "when",
                                                "c", "when", "q"])
        self.assertEqual(when_pos(out[6]), bp, out[5])
        self.assertEqual(changes(out[5]), [])
        second = min(p for p in line17 if p > bp)
        self.assertEqual(when_pos(out[8]), min(second, want_fwd[0]), out[7])
        # Backwards from the program's last line: whichever of the last hit of 17 and
        # the start of the last run of count's values is later stops rcontinue.
        end = shown_pos[-1]
        want_back = self.expect_backward(vals, shown_pos, end)
        last17 = max(line17)
        out = self.replay(self.set_watch(0) + ["b 17", "goto %d" % end, "rc", "when", "rc",
                                                "when", "q"])
        first_stop = max(want_back[0], last17)
        self.assertEqual(when_pos(out[6]), first_stop, out[5])
        self.assertEqual(bool(changes(out[5])), first_stop == want_back[0], out[5])
        if first_stop == want_back[0]:
            self.assertIn("Old value = %s" % want_back[1], out[5])

    def check_steps(self, w):
        """next, step, rnext, rstep with watchpoint w: each stops where a plain move of
        the same kind stops, unless the watched value changes on the way (brute force),
        which stops it at the change (forwards: the first position whose value differs
        from here; backwards: the first of the run of values just before here), with
        the Watchpoint lines; a change that shows at the plain stop itself is said
        there."""
        vals = self.brute_force()[w]
        shown, _ = self.shown()
        shown_pos = [e["pos"] for e in shown]
        c, r, _ = self.span(WATCHES[w][1], WATCHES[w][2])
        rnd = random.Random(2000 + w)
        inside = [p for p in shown_pos if c < p < r]
        starts = sorted(set(rnd.sample(inside, 8) + rnd.sample(shown_pos[1:-3], 2)))
        moves = ("next", "step", "rnext", "rstep")
        plain_cmds, cmds, at = [], self.set_watch(w), []
        for n in starts:
            for mv in moves:
                plain_cmds += ["goto %d" % n, mv, "when"]
                cmds += ["goto %d" % n, mv, "when"]
                at.append((mv, n, len(cmds) - 1, len(plain_cmds) - 1))
        plain = self.replay(plain_cmds + ["q"])
        out = self.replay(cmds + ["q"])
        seen = {"before": 0, "at": 0, "none": 0}
        for mv, n, i, j in at:
            to = when_pos(plain[j + 1])
            got_pos, got = when_pos(out[i + 1]), changes(out[i])
            if to is None or to not in shown_pos or n not in shown_pos:
                continue  # the plain move left the program (its end, its start)
            k = shown_pos.index(n)
            if mv in ("next", "step"):
                m = next((q for q in shown_pos[k + 1:] if q <= to and vals[q] != vals[n]),
                         None)
                want = None if m is None else (m, vals[n], vals[m])
            else:
                want = None
                if k > 0:
                    j0 = k - 1
                    while j0 > 0 and vals[shown_pos[j0 - 1]] == vals[shown_pos[k - 1]]:
                        j0 -= 1
                    if j0 > 0 and shown_pos[j0] > to:
                        want = (shown_pos[j0], vals[shown_pos[j0 - 1]], vals[shown_pos[j0]])
            if want is None:
                self.assertEqual((got_pos, got), (to, []), (mv, n, out[i]))
                seen["none"] += 1
            else:
                self.assertEqual((got_pos, got), (want[0], [("1", WATCHES[w][0], want[1],
                                                             want[2])]), (mv, n, out[i]))
                seen["before" if want[0] != to else "at"] += 1
        return seen

    def test_steps_stop_at_changes(self):
        self.need_engine()
        seen = self.check_steps(1)
        more = self.check_steps(2)
        # The runs above met all three cases: a change before the plain stop (next over
        # add() stops inside it for len(items)), at it, and none.
        for k in seen:
            self.assertGreater(seen[k] + more[k], 0, (seen, more))

    def test_unwatch_and_list(self):
        self.need_engine()
        vals = self.brute_force()[1]
        c, _, _ = self.span("work", 3)
        out = self.replay(self.set_watch(1) + ["watch", "watch count", "unwatch 1", "watch",
                                                "unwatch 9", "unwatch x", "unwatch 1",
                                                "unwatch", "watch", "unwatch", "c", "q"])
        self.assertRegex(out[3], r"^Num .*\n1   total  in work\(\) called at event %d, "
                                 r"thread 1: %s\n$" % (c, re.escape(vals[c])))
        self.assertRegex(out[4], r"^Watchpoint 2: count = ")
        self.assertEqual(out[5], "Deleted watchpoint 1\n")
        self.assertNotIn("total", out[6])
        self.assertIn("2   count  in work()", out[6])
        self.assertEqual(out[7], "*** Watchpoint number 9 out of range\n")
        self.assertEqual(out[8], "*** Non-numeric watchpoint number x\n")
        self.assertEqual(out[9], "*** Watchpoint 1 already deleted\n")
        self.assertEqual(out[10], "Deleted all watchpoints\n")
        self.assertEqual(out[11], "No watchpoints\n")
        self.assertEqual(out[12], "*** No watchpoints to delete\n")
        self.assertIn("The program finished", out[13])
        self.assertEqual(changes(out[13]), [])

    def test_raises_is_a_value(self):
        """An expression that raises has its exception line as its value."""
        self.need_engine()
        c, _, _ = self.span("work", 1)
        out = self.replay(["goto %d" % c, "watch total", "c", "q"])
        self.assertEqual(out[2], "Watchpoint 1: total = *** NameError: name 'total' is not "
                                 "defined\n")
        self.assertEqual(changes(out[3])[0][2:],
                         ("*** NameError: name 'total' is not defined", "0"))

    def test_no_values(self):
        """Without values watch says why in one line and sets nothing."""
        self.assertTrue(os.path.exists(self.trace), self.rec_err)
        out = self.replay(["watch count", "watch", "c", "q"], "--no-values")
        self.assertEqual(out[1], "*** watch: values are off: this replay was started with "
                                 "--no-values; the log shows: <module>() at %s:1\n"
                                 % os.path.join(os.path.realpath(self.tmp), "prog.py"))
        self.assertEqual(out[2], "No watchpoints\n")
        self.assertIn("The program finished", out[3])

    def test_help(self):
        self.assertTrue(os.path.exists(self.trace), self.rec_err)
        out = self.replay(["help watch", "help unwatch", "help", "q"], "--no-values")
        self.assertIn("watch [EXPR]", out[1])
        self.assertIn("out of scope", out[1])
        self.assertIn("unwatch [N ...]", out[2])
        self.assertIn("watch", out[3].split())
        self.assertIn("unwatch", out[3].split())


class WatchModuleRun(Watch):
    """The same program recorded as `python3 -m prog`: below its first frame the engine
    has runpy's frames, which the session does not show; a watched frame that is not
    the newest is still the one evaluated (it was not: a callee's locals were read)."""

    MODULE = True
    # the rest does not depend on how the program was started
    test_counter_global = test_breakpoint_first = test_steps_stop_at_changes = None
    test_unwatch_and_list = test_raises_is_a_value = test_no_values = test_help = None

    def test_values_as_in_the_script_run(self):
        """Brute force (`up` to the frame, `p`) gives the script run's values, event for
        event of the program's own."""
        self.need_engine()
        script = Watch("test_local")
        Watch.setUpClass()
        try:
            theirs = script.brute_force()
            their_shown = [e["pos"] for e in script.shown()[0]]
        finally:
            Watch.tearDownClass()
        ours = self.brute_force()
        shown = [e["pos"] for e in self.shown()[0]]
        self.assertEqual(len(shown), len(their_shown))
        for w in range(len(WATCHES)):
            self.assertEqual([ours[w][p] for p in shown],
                             [theirs[w][p] for p in their_shown], WATCHES[w])


if __name__ == "__main__":
    unittest.main()

"""The re-execution engine (rewind __engine, replayer/engine/client.h) driven through
its client by tests/tools/engine_drive: values at positions forwards and backwards,
pdb's texts for p, pp, whatis, args, retval, source and errors, a divergence injected
on purpose, and a replay from another directory with the program's files gone.

Positions come from `rewind events`, so the values are checked at the very events the
debugger would ask about."""

import os
import shutil
import subprocess
import unittest

import pyreader as pr
import rwtest
import tracerewrite

PROG = '''\
def f(n):
    total = 0
    for i in range(n):
        total += i * i
    return total

xs = [f(k) for k in range(5)]
names = {"b": 2, "a": 1}
print(xs, sorted(names))
'''


def drive_bin():
    path = os.environ.get("ENGINE_DRIVE") or os.path.join(rwtest.TOP, "build", "tests",
                                                          "engine_drive")
    if not os.access(path, os.X_OK):
        raise unittest.SkipTest(f"engine_drive not built at {path}")
    return path


def drive(trace, commands, cwd=None, timeout=120, env=None):
    """Runs engine_drive on trace with commands (lines); returns the replies, one per
    command: ("stopped", pos) | ("value", raised, text) | ("error", text). env: more
    variables for the engine."""
    env = rwtest.clean_env({"REWIND_ENGINE_EXE": rwtest.rewind_bin(), **(env or {})})
    proc = subprocess.run([drive_bin(), trace], input="".join(c + "\n" for c in commands),
                          capture_output=True, text=True, env=env, cwd=cwd, timeout=timeout)
    out = proc.stdout
    replies = []
    lines = out.split("\n")
    i = 0
    if lines and lines[0] == "open":
        i = 1
    else:
        raise AssertionError(f"the engine did not open: {out!r} {proc.stderr!r}")
    while i < len(lines):
        line = lines[i]
        i += 1
        if line.startswith("stopped "):
            replies.append(("stopped", int(line.split()[1])))
        elif line.startswith("value "):
            _, raised, n = line.split()
            n = int(n)
            rest = "\n".join(lines[i:])
            text = rest[:n]
            consumed = text.count("\n") + 1
            i += consumed
            replies.append(("value", int(raised), text))
        elif line.startswith("error "):
            text = line[len("error "):]
            if i < len(lines) and lines[i].startswith("report "):
                n = int(lines[i].split()[1])
                rest = "\n".join(lines[i + 1:])
                text = rest[:n]
                i += 1 + text.count("\n") + 1
            replies.append(("error", text))
        elif line:
            raise AssertionError(f"unexpected output {line!r} in {out!r}")
    return replies


class EngineTest(rwtest.TestCase):

    def setUp(self):
        super().setUp()
        drive_bin()
        self.prog = self.write("prog.py", PROG)
        rec = self.record(self.prog)
        self.assertEqual(rec.returncode, 0, rec.stderr)
        self.trace = rec.trace
        self.evs = rwtest.events(self.trace)

    def where(self, kind, line, func):
        return [e["pos"] for e in self.evs if e.get("kind") == kind and e.get("line") == line
                and e.get("func") == func]

    def test_values_forwards_and_backwards(self):
        # line 4 of f runs for k = 1..4 (i in range(k)): the values there, in order.
        at4 = self.where("line", 4, "f")
        self.assertEqual(len(at4), 0 + 1 + 2 + 3 + 4, self.evs[:5])
        rets = self.where("return", 5, "f")
        self.assertEqual(len(rets), 5)
        cmds = []
        expect = []
        seen = [(k, i) for k in range(5) for i in range(k)]
        for pos, (k, i) in zip(at4, seen):
            cmds += [f"goto {pos}", "p top (n, i, total)"]
            total = sum(j * j for j in range(i))
            expect += [("stopped", pos), ("value", 0, repr((k, i, total)))]
        # Backwards: the engine restarts and runs forward again.
        back = at4[2]
        cmds += [f"goto {back}", "p top i", "args top", "p 2 f.__name__"]
        expect += [("stopped", back), ("value", 0, repr(seen[2][1])),
                   ("value", 0, f"n = {seen[2][0]}"), ("value", 0, "'f'")]
        for k, pos in enumerate(rets):
            cmds += [f"goto {pos}", "retval top", "p top __return__"]
            r = repr(sum(j * j for j in range(k)))
            expect += [("stopped", pos), ("value", 0, r), ("value", 0, r)]
        self.assertEqual(drive(self.trace, cmds), expect)

    def test_values_in_the_middle_of_an_import(self):
        # Stopped in collections' body as the program imports it: pprint (a helper of
        # the evaluations) imports collections, half made there; values still come.
        import collections
        with open(collections.__file__) as f:
            line = f.read().splitlines().index(
                "from keyword import iskeyword as _iskeyword") + 1
        prog = self.write("imp.py", "import collections\nprint('done')\n")
        rec = self.record(prog, trace="imp.rwd")
        self.assertEqual(rec.returncode, 0, rec.stderr)
        out = rwtest.run([rwtest.rewind_bin(), "replay", "--no-rc", rec.trace], cwd=self.tmp,
                         stdin=f"break {collections.__file__}:{line}\ncontinue\np 1 + 1\n"
                               "pp {'a': [1]}\np __name__\nwhatis _sys\nquit\n")
        self.assertIn(f"collections/__init__.py({line})<module>()", out.stdout)
        self.assertIn("(rewind) 2\n(rewind) {'a': [1]}\n(rewind) 'collections'\n"
                      "(rewind) <class 'module'>\n", out.stdout)
        self.assertNotIn("***", out.stdout)

    def test_each_question_runs_in_a_fresh_copy(self):
        # The questions of one stop are answered by copies of one zygote (server.c):
        # what one question changes, or a copy that ends without an answer, is not seen
        # by the next.
        pos = self.where("line", 4, "f")[3]
        replies = drive(self.trace, [f"goto {pos}", "p top total", "p top total.__add__(1)",
                                     "exec top total = 99", "p top total",
                                     "p top __import__('os')._exit(0)", "p top (n, i)"])
        self.assertEqual(replies[0], ("stopped", pos))
        self.assertEqual(replies[1], ("value", 0, "0"))
        self.assertEqual(replies[2], ("value", 0, "1"))
        self.assertEqual(replies[4], ("value", 0, "0"), replies)
        self.assertEqual(replies[3][0], "value", replies)
        self.assertEqual(replies[5][0], "error", replies)
        self.assertIn("the evaluation ended without an answer", replies[5][1])
        self.assertEqual(replies[6], ("value", 0, "(3, 0)"), replies)

    def test_pdb_texts(self):
        at4 = self.where("line", 4, "f")
        pos = at4[-1]
        replies = drive(self.trace, [
            f"goto {pos}", "p top nope", "pp top {'k%d' % j: list(range(j)) for j in range(5)}",
            "whatis top f", "whatis top n", "whatis top int", "retval top",
            "source top f", "exec top print(n * 10); n = 1", "p top n", "truth top n > 3",
            "truth top n > 30", "exec top 1/0", "p 2 xs", "p 1 (k, n)", "p 0 n",
            "ibegin top", "iline top def g():", "iline top     return n + 1",
            "iline top ", "iline top print(g())", "iend top"])
        self.assertEqual(replies[0], ("stopped", pos))
        self.assertEqual(replies[1], ("value", 1, "NameError: name 'nope' is not defined"))
        import pprint
        self.assertEqual(replies[2], ("value", 0, pprint.pformat(
            {'k%d' % j: list(range(j)) for j in range(5)})))
        self.assertEqual(replies[3], ("value", 0, "Function f"))
        self.assertEqual(replies[4], ("value", 0, "<class 'int'>"))
        self.assertEqual(replies[5], ("value", 0, "Class builtins.int"))
        self.assertEqual(replies[6], ("value", 1, "Not yet returned!"))
        self.assertEqual(replies[7][:2], ("value", 0))
        self.assertEqual(replies[7][2].splitlines()[0], "  1  \tdef f(n):")
        self.assertEqual(len(replies[7][2].splitlines()), 5)
        self.assertEqual(replies[8], ("value", 0, "40\n"))
        self.assertEqual(replies[9], ("value", 0, "4"))  # a throwaway fork: unchanged
        self.assertEqual(replies[10], ("value", 0, "1"))
        self.assertEqual(replies[11], ("value", 0, "0"))
        self.assertEqual(replies[12], ("value", 1, "ZeroDivisionError: division by zero"))
        self.assertEqual(replies[13], ("value", 1, "NameError: name 'xs' is not defined"))
        # Frames from the newest: 0 f, 1 <listcomp>, 2 <module>.
        self.assertEqual(replies[14], ("value", 1, "NameError: name 'n' is not defined"))
        self.assertEqual(replies[15], ("value", 0, "4"))
        self.assertEqual(replies[16], ("value", 0, "*interactive*\n"))
        self.assertEqual(replies[17], ("value", 2, ""))
        self.assertEqual(replies[18], ("value", 2, ""))
        self.assertEqual(replies[19], ("value", 0, ""))
        self.assertEqual(replies[20], ("value", 0, "5\n"))
        self.assertEqual(replies[21], ("value", 0, "now exiting InteractiveConsole...\n"))

    def test_past_the_end_and_bad_frames(self):
        last = self.evs[-1]["pos"]
        replies = drive(self.trace, [f"goto {last + 100}", "goto 1", "p 99 1"])
        self.assertEqual(replies[0][0], "error")
        self.assertIn("the program ended after", replies[0][1])
        self.assertEqual(replies[1], ("stopped", 1))
        self.assertEqual(replies[2], ("value", 1, "no such frame"))


class DivergenceTest(rwtest.TestCase):

    def record_lines(self, code):
        """Records `-c code`; returns the recording's result and its line events in
        <string>."""
        rec = self.record(["-c", code])
        self.assertEqual(rec.returncode, 0, rec.stderr)
        return rec, [e for e in rwtest.events(rec.trace)
                     if e.get("kind") == "line" and e.get("file") == "<string>"]

    def with_program(self, trace, change):
        """A copy of trace whose -c program (Metadata field 17) is change(text)."""
        frames, header = tracerewrite.load(trace)
        for fr in frames:
            if fr.type == pr.FRAME_METADATA:
                fs = tracerewrite.fields(fr.payload)
                for f in fs:
                    if f[0] == 17:
                        f[2] = change(f[2])
                fr.payload = tracerewrite.encode(fs)
        bad = os.path.join(self.tmp, "bad.rwd")
        tracerewrite.save(header, frames, bad)
        return bad

    def test_changed_program_is_reported_at_its_position(self):
        code = "a = 1\nb = 2\nc = a + b\nd = c * 2\n"
        rec, lines = self.record_lines(code)
        self.assertEqual([e["line"] for e in lines], [1, 2, 3, 4], lines)
        # The -c program comes from the metadata: give the replay another one, as long
        # as the original (its allocations are the same size), whose third statement
        # is on line 4.
        other = b"a = 1\nb = 2\n\nc = a +b\nd = c * 2\n"
        self.assertEqual(len(other), len(code))
        bad = self.with_program(rec.trace, lambda text: other)
        pos = lines[2]["pos"]
        replies = drive(bad, [f"goto {lines[3]['pos']}", "p top a"])
        self.assertEqual(replies[0][0], "error", replies)
        report = replies[0][1]
        self.assertIn(f"the replay diverged from the recording at event {pos}:", report)
        self.assertIn("the recording has line <module> at <string>:3", report)
        self.assertIn("the replay line <module> at <string>:4", report)
        self.assertEqual(replies[1][0], "error")
        # A goto behind restarts, and the start agrees.
        replies = drive(bad, [f"goto {lines[1]['pos']}", "p top a"])
        self.assertEqual(replies, [("stopped", lines[1]["pos"]), ("value", 0, "1")])

    def test_a_divergence_after_whole_groups_is_found_at_its_position(self):
        # 6,000 line events agree before the change: the check compares them by the
        # fingerprints of their groups of 2048 events (format/fprint.h), then the
        # group with the change, once it ends, record by record, and names the same
        # event as a check that compares every record (a trace without fingerprints).
        code = "t = 0\nfor i in range(3000):\n    t += i\nc = t\nfor j in range(900):\n    d = j\n"
        rec, lines = self.record_lines(code)
        at = [e for e in lines if e["line"] == 4]
        self.assertEqual(len(at), 1, lines[-5:])
        pos = at[0]["pos"]
        self.assertGreater(pos, 2 * 2048)
        other = code.replace("c = t\n", "\nc= t\n").encode()
        self.assertEqual(len(other), len(code))
        bad = self.with_program(rec.trace, lambda text: other)
        for mode in ({}, {"REWIND_CHECK_BY_RECORD": "1"}):
            log = os.path.join(self.tmp, "engine.log")
            if os.path.exists(log):
                os.unlink(log)
            # Past the end of the group with the change: it ends and is compared.
            replies = drive(bad, [f"goto {pos + 1000}", "p top c"], env={"REWIND_ENGINE_LOG": log, **mode})
            self.assertEqual(replies[0][0], "error", (mode, replies))
            report = replies[0][1]
            self.assertIn(f"the replay diverged from the recording at event {pos}:", report)
            self.assertIn("the recording has line <module> at <string>:4", report)
            self.assertIn("the replay line <module> at <string>:5", report)
            with open(log) as f:
                checks = [ln.split() for ln in f if ln.startswith("check ")]
            self.assertEqual(len(checks), 1, checks)
            by_fp, by_record = int(checks[0][2]), int(checks[0][3])
            if mode:
                self.assertEqual((by_fp, by_record), (0, 0), checks)
            else:
                self.assertGreaterEqual(by_fp, 2, checks)
                self.assertEqual(by_record, 1, checks)
            # Before the change the runs agree, in either mode.
            replies = drive(bad, [f"goto {pos - 1}", "p top t"], env=mode)
            self.assertEqual(replies, [("stopped", pos - 1), ("value", 0, str(sum(range(3000))))])

    def test_a_divergence_in_the_last_events_is_found_at_the_end(self):
        # The change is in the run's last group of events, which no later event ends:
        # the check compares it when the program ends, and the end is then reported as
        # the divergence it is. Before, the engine took its own end-of-run getpid from
        # the log (the recorded pid, not its own), skipped that comparison and said
        # "the program ended".
        code = "t = 0\nfor i in range(3000):\n    t += i\nc = t\nd = c\n"
        rec, lines = self.record_lines(code)
        pos = [e for e in lines if e["line"] == 5][0]["pos"]
        other = code.replace("c = t\nd = c\n", "c = t\n\nd =c\n").encode()
        self.assertEqual(len(other), len(code))
        bad = self.with_program(rec.trace, lambda text: other)
        for mode in ({}, {"REWIND_CHECK_BY_RECORD": "1"}):
            replies = drive(bad, [f"goto {pos + 100}", "p top c"], env=mode)
            self.assertEqual(replies[0][0], "error", (mode, replies))
            self.assertIn(f"the replay diverged from the recording at event {pos}:", replies[0][1])
            self.assertIn("the recording has line <module> at <string>:5", replies[0][1])
        out = rwtest.run([rwtest.rewind_bin(), "replay", "--no-rc", bad], cwd=self.tmp,
                         stdin="goto @end\nnext\np 1\nquit\n")
        self.assertIn(f"the replay diverged from the recording at event {pos}:", out.stdout)

    def test_the_debugger_writes_the_whole_report_once(self):
        # The debugger's error line has room for the report's start only; the whole
        # report (with the inputs consumed before it) goes to stderr, once per report.
        code = "import os\na = os.getpid()\nb = 2\nc = a + b\nd = c * 2\n"
        rec, lines = self.record_lines(code)
        other = code.replace("c = a + b\n", "\nc = a +b\n").encode()
        self.assertEqual(len(other), len(code))
        bad = self.with_program(rec.trace, lambda text: other)
        out = rwtest.run([rwtest.rewind_bin(), "replay", "--no-rc", bad], cwd=self.tmp,
                         stdin=f"goto {lines[4]['pos']}\np a\np b\nquit\n")
        first = f"the replay diverged from the recording at event {lines[3]['pos']}:"
        self.assertIn("*** p: " + first, out.stdout)
        # One line on stdout: the report's first, then what the log shows there.
        said = [ln for ln in out.stdout.splitlines() if first in ln]
        self.assertTrue(said and "; the log shows: " in said[0], out.stdout)
        self.assertNotIn("the last inputs consumed", out.stdout)
        told = [ln for ln in out.stderr.splitlines() if first in ln]
        self.assertEqual(len(told), 1, out.stderr)
        self.assertTrue(told[0].startswith("rewind replay: "), out.stderr)
        self.assertIn("the last inputs consumed (oldest first):\n", out.stderr)
        self.assertRegex(out.stderr, r"\n  getpid = \d+ \(thread 1, input \d+, before event \d+\)\n")

    def test_another_call_is_named_with_the_replays_own_definitions(self):
        # The replay calls g where the recording called f: both runs number the code
        # they meet first alike, so the same id means f in the recording and g in the
        # replay; the report must name each side with its own definitions.
        code = "def f():\n    return 1\ndef g():\n    return 2\nx = f()\nprint(x)\n"
        rec = self.record(["-c", code])
        self.assertEqual(rec.returncode, 0, rec.stderr)
        evs = rwtest.events(rec.trace)
        calls = [e for e in evs if e.get("kind") == "call" and e.get("func") == "f"]
        self.assertEqual(len(calls), 1, [e for e in evs if e.get("kind") == "call"][:5])
        bad = self.with_program(rec.trace, lambda text: text.replace(b"x = f()", b"x = g()"))
        pos = calls[0]["pos"]
        replies = drive(bad, [f"goto {pos + 3}", "p x"])
        self.assertEqual(replies[0][0], "error", replies)
        report = replies[0][1]
        self.assertIn(f"the replay diverged from the recording at event {pos}:", report)
        self.assertIn("the recording has call f at <string>:1", report)
        self.assertIn("the replay call g at <string>:3", report)

    def with_metadata(self, trace, field, value):
        """A copy of trace (other.rwd) whose Metadata field number `field` holds value."""
        frames, header = tracerewrite.load(trace)
        found = False
        for fr in frames:
            if fr.type == pr.FRAME_METADATA:
                fs = tracerewrite.fields(fr.payload)
                for f in fs:
                    if f[0] == field:
                        f[2] = value
                        found = True
                fr.payload = tracerewrite.encode(fs)
        self.assertTrue(found, f"no Metadata field {field} in {trace}")
        other = os.path.join(self.tmp, "other.rwd")
        tracerewrite.save(header, frames, other)
        return other

    def test_another_python_build_is_refused(self):
        rec = self.record(["-c", "x = 1\n"])
        self.assertEqual(rec.returncode, 0, rec.stderr)
        other = self.with_metadata(rec.trace, 23, b"3.11.9-1, stdlib 1")  # python_build
        out = rwtest.run([rwtest.rewind_bin(), "replay", other], stdin="n\np x\nq\n")
        self.assertIn("was recorded with another Python build (3.11.9-1, stdlib 1)", out.stdout)
        self.assertEqual(out.returncode, 0, out.stderr)  # log-only commands still work

    def test_another_build_of_rewind_is_said_once(self):
        # The interpreter's static objects move with a rebuild of rewind: a replay by
        # another build works but says, once, that it may diverge where the program
        # orders objects by id(). The trace's own build replays without the note.
        rec = self.record(["-c", "x = 1\ny = 2\nz = x + y\n"])
        self.assertEqual(rec.returncode, 0, rec.stderr)
        mine = rwtest.info(rec.trace)["tool_build"]
        self.assertRegex(mine, r"^[0-9a-f]{16,64}$")
        cmds = "n\nn\np x\nn\np z\nrstep\np y\nq\n"
        same = rwtest.run([rwtest.rewind_bin(), "replay", rec.trace], stdin=cmds)
        self.assertNotIn("note:", same.stderr)
        other = self.with_metadata(rec.trace, 29,  # tool_build
                                   b"0123456789abcdef0123456789abcdef01234567")
        out = rwtest.run([rwtest.rewind_bin(), "replay", other], stdin=cmds)
        notes = [ln for ln in out.stderr.splitlines() if "another build of rewind" in ln]
        self.assertEqual(notes, ["rewind replay: note: %s was recorded by another build of rewind "
                                 "(build ID 0123456789ab, this one is %s): the interpreter's own "
                                 "objects are at other addresses here, so the replay can diverge "
                                 "where the program orders or hashes objects by id(); the rewind "
                                 "that recorded it replays it exactly" % (other, mine[:12])],
                         out.stderr)
        for value in ("1", "3", "2"):  # p x, p z, and p y after going back
            self.assertIn("(rewind) %s\n" % value, out.stdout)


class PortableTest(rwtest.TestCase):

    def test_command_from_another_directory(self):
        work = os.path.join(self.tmp, "work")
        os.mkdir(work)
        code = "import sys\nvals = [x ** 2 for x in range(6)]\nword = 'replay'\nn = len(vals)\n"
        rec = rwtest.record(["-c", code], cwd=work)
        self.assertEqual(rec.returncode, 0, rec.stderr)
        elsewhere = os.path.join(self.tmp, "elsewhere")
        os.mkdir(elsewhere)
        trace = shutil.copy(rec.trace, os.path.join(elsewhere, "copy.rwd"))
        shutil.rmtree(work)
        evs = rwtest.events(trace)
        at4 = [e["pos"] for e in evs if e.get("kind") == "line" and e.get("line") == 4
               and e.get("file") == "<string>"]
        replies = drive(trace, [f"goto {at4[0]}", "p top (vals, word)"], cwd=elsewhere)
        self.assertEqual(replies, [("stopped", at4[0]),
                                   ("value", 0, repr(([x ** 2 for x in range(6)], "replay")))])

    def test_script_with_sources_deleted(self):
        work = os.path.join(self.tmp, "work")
        os.mkdir(work)
        prog = os.path.join(work, "prog.py")
        with open(prog, "w") as f:
            f.write(PROG)
        rec = rwtest.record(prog, cwd=work)
        self.assertEqual(rec.returncode, 0, rec.stderr)
        elsewhere = os.path.join(self.tmp, "elsewhere")
        os.mkdir(elsewhere)
        trace = shutil.copy(rec.trace, os.path.join(elsewhere, "copy.rwd"))
        shutil.rmtree(work)
        evs = rwtest.events(trace)
        rets = [e["pos"] for e in evs if e.get("kind") == "return" and e.get("line") == 5]
        replies = drive(trace, [f"goto {rets[-1]}", "retval top"], cwd=elsewhere)
        self.assertEqual(replies, [("stopped", rets[-1]), ("value", 0, "14")])


if __name__ == "__main__":
    unittest.main()

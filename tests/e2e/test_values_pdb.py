"""Values in rewind replay against python3 -m pdb: p, pp, whatis, args, retval (and
"->value" on return lines), values in a traceback's frames, __exception__ and __return__
as pdb leaves them in a frame's locals (generators' resumptions too), display, commands lists, conditional breakpoints, up/down,
!stmt, unknown commands as statements, and source print what pdb prints.

Each comparison records a program of progs_values/ (with PYTHONUNBUFFERED=1 in both
runs, so that the program's prints are written where they happen and pdb's transcript
shows them there too), runs `rewind replay --values` with commands on stdin, runs
`python3 -m pdb PROG` with the same commands, and compares the outputs after these
normalisations only:

  - the prompt: pdb's "(Pdb) " is rewind's "(rewind) ";
  - where: pdb lists frames below the program (bdb.py's run(), "<string>(1)<module>()");
    the recording has none;
  - the end of the program: both transcripts are cut where the program ends.

The programs' pdb runs are deterministic (no input, clock, randomness or id()), and no
command changes the program's state (rewind evaluates in a throwaway fork: "!x = 1"
does not last, in pdb it does). These tests need the re-execution engine: they are
skipped, with the engine's reason, where `rewind replay --values` cannot start it.
"""

import os
import re
import unittest

import rwtest

PROGS = os.path.join(rwtest.HERE, "progs_values")
ENV = {"PYTHONUNBUFFERED": "1"}

PDB_ENDS = ("--Return--\n> <string>(1)<module>()", "The program finished and will be restarted")
OUR_END = "The program finished and the recording ends here"


def cut_at_end(text, markers):
    cut = min([text.find(m) for m in markers if m in text] or [-1])
    return text if cut < 0 else text[:cut]


def normalise_pdb(text):
    text = text.replace("(Pdb) ", "(rewind) ")
    text = re.sub(r"  \S*bdb\.py\(\d+\)run\(\)\n-> exec\(cmd, globals, locals\)\n", "", text)
    text = text.replace("  <string>(1)<module>()\n", "")
    return text


class ValuesPdb(rwtest.TestCase):

    def setUp(self):
        super().setUp()
        self.traces = {}

    def prog(self, name):
        path = os.path.join(self.tmp, name)
        if name not in self.traces:
            self.copy(os.path.join(PROGS, name))
            rec = self.record(path, trace=name + ".rwd", env=ENV)
            self.assertTrue(os.path.exists(rec.trace), rec.stderr)
            self.traces[name] = rec.trace
        return path, self.traces[name]

    def replay(self, name, commands, *options):
        _, trace = self.prog(name)
        return rwtest.run([rwtest.rewind_bin(), "replay", "--no-rc", *options, trace],
                          cwd=self.tmp, stdin="".join(c + "\n" for c in commands))

    def need_engine(self, name):
        proc = self.replay(name, ["q"], "--values")
        if proc.returncode != 0:
            self.skipTest("no re-execution engine: " + proc.stderr.strip())

    def pdb(self, name, commands):
        path, _ = self.prog(name)
        proc = rwtest.run([rwtest.python_bin(), "-m", "pdb", path], cwd=self.tmp,
                          stdin="".join(c + "\n" for c in commands),
                          env=dict(ENV, HOME=self.tmp))
        return normalise_pdb(proc.stdout)

    def same_as_pdb(self, name, commands):
        self.need_engine(name)
        commands = list(commands) + ["q"]
        proc = self.replay(name, commands, "--values")
        self.assertEqual(proc.returncode, 0, proc.stderr)
        ours = cut_at_end(proc.stdout, [OUR_END])
        theirs = cut_at_end(self.pdb(name, commands), PDB_ENDS)
        self.assertEqual(ours, theirs)

    # ---- compared with pdb ----

    def test_p_pp_whatis(self):
        self.same_as_pdb("shapes.py", [
            "b area", "c", "p w, h, rest, scale, opts", "pp data", "p data", "whatis data",
            "whatis area", "whatis Point", "whatis pts[0].norm", "whatis pts[0]", "p nothere",
            "p 1 +", "p word", "pp pts", "p", "c", "p total", "until 28", "n", "n", "p word",
            "p big", "pp big"])

    def test_args_retval_return_lines(self):
        self.same_as_pdb("shapes.py", [
            "b area", "c", "args", "retval", "n", "p result", "n", "retval", "p __return__",
            "where", "args", "s", "s", "s", "b 32", "c", "r", "retval", "w", "c"])

    def test_up_down(self):
        self.same_as_pdb("shapes.py", [
            "b 18", "c", "p self", "args", "where", "u", "p total, i", "p self", "d",
            "p self.x", "r", "u", "retval", "d", "retval"])

    def test_up_down_in_a_module_run(self):
        # `-m`: below the program's first frame the engine has runpy's frames, which
        # the session does not show; a frame picked with `up` is still the one pdb
        # evaluates in
        self.need_engine("shapes.py")
        rec = self.record(["-m", "shapes"], trace="m.rwd", env=ENV)
        self.assertEqual(rec.returncode, 0, rec.stderr)
        commands = ["b 18", "c", "p self", "args", "u", "p total, i", "p self", "args",
                    "p pts[0]", "d", "p self.x", "r", "u", "retval", "p i", "q"]
        ours = rwtest.run([rwtest.rewind_bin(), "replay", "--no-rc", "--values", rec.trace],
                          cwd=self.tmp, stdin="".join(c + "\n" for c in commands))
        self.assertEqual(ours.returncode, 0, ours.stderr)
        ref = rwtest.run([rwtest.python_bin(), "-m", "pdb", "-m", "shapes"], cwd=self.tmp,
                         stdin="".join(c + "\n" for c in commands), env=dict(ENV, HOME=self.tmp))
        self.assertIn("(Pdb) ", ref.stdout)
        self.assertEqual(cut_at_end(ours.stdout, [OUR_END]),
                         cut_at_end(normalise_pdb(ref.stdout), PDB_ENDS))

    def test_display(self):
        self.same_as_pdb("counter.py", [
            "display count", "display items", "display nothing", "display count + 1",
            "n", "n", "n", "n", "display", "b bump", "c", "display n", "display count",
            "n", "n", "n", "display", "c", "undisplay n", "c", "undisplay", "display",
            "undisplay nothing", "n", "n", "n", "n"])

    def test_commands_and_conditions(self):
        self.same_as_pdb("counter.py", [
            "b bump, n > 3", "c", "args", "p count, items", "commands 1", "p n * 10",
            "p count", "end", "c", "condition 1 n == 1", "c", "condition 1", "commands 1",
            "silent", "p n", "c", "end", "c", "tbreak 11, count > 100", "b"])

    def test_conditions_that_raise_and_ignore(self):
        self.same_as_pdb("counter.py", [
            "b 9, undefined_name > 1", "c", "c", "cl 1", "b 9, n % 2 == 0", "ignore 2 1",
            "c", "args", "c", "args", "b"])

    def test_statements(self):
        self.same_as_pdb("shapes.py", [
            "b area", "c", "!print(w * 2)", "scale + 1", "[v for v in opts]", "zz",
            "!raise ValueError('no')", "!import math; print(math.floor(2.5))", "(w, h)",
            "!result", "!for q in rest: print(q)", "n", "result", "! result"])

    def test_source(self):
        self.same_as_pdb("shapes.py", [
            "b 26", "c", "source area", "source Point", "source Point.norm", "source 3",
            "source nothere", "source pts[0].norm"])


    def test_traceback_frames(self):
        # next over a call that raised, then down into the traceback: values there are
        # the returned frame's own (pdb evaluates in its frame object's locals), and
        # __exception__ is in the locals of the frame of the exception stop.
        self.same_as_pdb("tbframes.py", [
            "b 7", "c", "n", "p sorted(locals())", "p __exception__", "d", "w", "p d",
            "p exc", "args", "p sorted(locals())", "whatis d", "d", "u", "p exc"])

    def test_return_after_exception(self):
        # A frame left by an exception: --Return-- with ->None and __return__ None; the
        # frame shows ->None again in where below the caller's exception stop, and its
        # values are reached there with down.
        self.same_as_pdb("tbframes.py", [
            "b risky", "c", "c", "n", "n", "p __exception__", "p sorted(locals())", "n",
            "p __return__", "retval", "n", "w", "d", "p n", "args", "u",
            "p __exception__"])


    def test_kept_in_later_stops(self):
        # pdb never takes __exception__ / __return__ out of a frame's locals: later
        # stops of the frame see them, and retval in a traceback's frame whose
        # --Return-- stop was made prints it.
        self.same_as_pdb("tbframes.py", [
            "b risky", "c", "c", "n", "n", "n", "p sorted(locals())", "p __exception__",
            "n", "w", "d", "retval", "p sorted(locals())", "u", "p sorted(locals())", "n",
            "p sorted(locals())", "p __exception__"])

    def test_generator_resumptions(self):
        # A generator's frame keeps the __return__ of its yield's --Return-- stop across
        # resumptions (stop lines and where show ->value); another generator of the same
        # code, made later, does not have it.
        self.same_as_pdb("tbgen.py", [
            "b count", "c", "s", "s", "s", "p __return__", "retval", "s", "s", "s", "s", "s",
            "w", "p sorted(locals())", "p __return__", "retval", "u", "p sorted(locals())",
            "d", "s", "s", "s", "s", "s", "w", "p __return__", "b 16", "c",
            "p sorted(locals())", "p __exception__", "n", "p sorted(locals())",
            "p __exception__"])


class ValuesWithoutEngine(rwtest.TestCase):
    """--no-values: the value commands say why in one line; the rest works."""

    def test_no_values(self):
        prog = self.copy(os.path.join(PROGS, "counter.py"))
        rec = self.record(prog, env=ENV)
        self.assertEqual(rec.returncode, 0, rec.stderr)
        proc = rwtest.run([rwtest.rewind_bin(), "replay", "--no-rc", "--no-values", rec.trace],
                          cwd=self.tmp, stdin="b bump, n > 3\nc\np n\nargs\n!print(1)\nzz\n"
                          "display n\nr\nretval\nwhere\nq\n")
        self.assertEqual(proc.returncode, 0, proc.stderr)
        why = "values are off: this replay was started with --no-values"
        out = proc.stdout
        self.assertIn("*** condition: %s; this breakpoint stops at every hit" % why, out)
        self.assertIn("*** p: %s; the log shows: bump() at %s:9\n" % (why, prog), out)
        self.assertIn("*** args: %s; the log shows the names:\nn\n" % why, out)
        self.assertIn("*** Python statements cannot run here: %s\n" % why, out)
        self.assertIn("*** Unknown command 'zz': as a Python statement it cannot run here: %s\n"
                      % why, out)
        self.assertIn("*** display: %s;" % why, out)
        self.assertIn("--Return--\n> %s(11)bump()\n-> return count\n" % prog, out)
        self.assertIn("*** retval: %s; the log shows: bump() returns at event" % why, out)


if __name__ == "__main__":
    unittest.main()

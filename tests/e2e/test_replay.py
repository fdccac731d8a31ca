"""rewind replay against python3 -m pdb: the same commands on the same program give
the same transcript, and the reverse commands are exact inverses of the forward ones.

Each comparison records a program of progs_replay/, runs `rewind replay` with commands
on stdin, runs `python3 -m pdb PROG` with the same commands, and compares the outputs
after these normalisations (and no others):

  - the prompt: pdb's "(Pdb) " is rewind's "(rewind) ";
  - where: pdb lists frames below the program (bdb.py's run() with its "-> exec(cmd,
    globals, locals)" line, and "<string>(1)<module>()"); the recording has none;
  - return values: at a --Return-- pdb prints "func()->VALUE", and so does rewind when
    it has values (test_values_pdb compares them): both are cut to "func()";
  - the end of the program: pdb steps into "<string>(1)<module>()" and restarts the
    program ("The program finished and will be restarted"); a recording ends. Both
    transcripts are cut where the program ends, after checking that it ends at the
    same command in both; the end message is checked on its own.
"""

import os
import re
import unittest

import rwtest

PROGS = os.path.join(rwtest.HERE, "progs_replay")


PDB_ENDS = ("--Return--\n> <string>(1)<module>()", "The program finished and will be restarted")
OUR_END = "The program finished and the recording ends here"


def cut_at_end(text, markers):
    """The transcript up to the first end-of-program marker, and whether one was found."""
    cut = min([text.find(m) for m in markers if m in text] or [-1])
    return (text, False) if cut < 0 else (text[:cut], True)


def normalise_pdb(text):
    text = text.replace("(Pdb) ", "(rewind) ")
    text = re.sub(r"  \S*bdb\.py\(\d+\)run\(\)\n-> exec\(cmd, globals, locals\)\n", "", text)
    text = text.replace("  <string>(1)<module>()\n", "")
    text = re.sub(r"(> \S+\(\d+\)\S+\(\))->.*$", r"\1", text, flags=re.M)
    return text


class Replay(rwtest.TestCase):

    def setUp(self):
        super().setUp()
        self.traces = {}

    def prog(self, name):
        path = os.path.join(self.tmp, name)
        if not os.path.exists(path):
            self.copy(os.path.join(PROGS, name))
            # the modules it imports: NAME_*.py beside it
            stem = name[:-3] + "_"
            for other in sorted(os.listdir(PROGS)):
                if other.startswith(stem) and other.endswith(".py"):
                    self.copy(os.path.join(PROGS, other))
        if name not in self.traces:
            rec = self.record(path, trace=name + ".rwd")
            self.assertTrue(os.path.exists(rec.trace), rec.stderr)
            self.traces[name] = rec.trace
        return path, self.traces[name]

    def replay(self, name, commands, *options):
        _, trace = self.prog(name)
        proc = rwtest.run([rwtest.rewind_bin(), "replay", "--no-rc", *options, trace],
                          cwd=self.tmp, stdin="".join(c + "\n" for c in commands))
        self.assertEqual(proc.returncode, 0, proc.stderr)
        return proc.stdout

    def pdb(self, name, commands):
        path, _ = self.prog(name)
        proc = rwtest.run([rwtest.python_bin(), "-m", "pdb", path], cwd=self.tmp,
                          stdin="".join(c + "\n" for c in commands),
                          env={"HOME": self.tmp})
        return normalise_pdb(proc.stdout)

    def same_as_pdb(self, name, commands):
        commands = list(commands) + ["q"]
        ours, ours_ended = cut_at_end(normalise_pdb(self.replay(name, commands)), [OUR_END])
        theirs, pdb_ended = cut_at_end(self.pdb(name, commands), PDB_ENDS)
        self.assertEqual(ours, theirs)
        self.assertEqual(ours_ended, pdb_ended)

    # ---- forward commands, compared with pdb ----

    def test_module_target(self):
        """A program recorded with -m starts at its module's first line and steps as
        `python3 -m pdb -m MODULE` does (runpy is frozen in 3.11: "<frozen runpy>")."""
        self.prog("funcs.py")
        rec = self.record(["-m", "funcs"], trace="mod.rwd")
        self.assertEqual(rec.returncode, 0, rec.stderr)
        commands = "".join(c + "\n" for c in ["w", "b fact", "c", "w", "n", "s", "w", "q"])
        ours = rwtest.run([rwtest.rewind_bin(), "replay", "--no-rc", rec.trace], cwd=self.tmp,
                          stdin=commands)
        self.assertEqual(ours.returncode, 0, ours.stderr)
        theirs = rwtest.run([rwtest.python_bin(), "-m", "pdb", "-m", "funcs"], cwd=self.tmp,
                            stdin=commands, env={"HOME": self.tmp})
        ours, ours_ended = cut_at_end(normalise_pdb(ours.stdout), [OUR_END])
        theirs, pdb_ended = cut_at_end(normalise_pdb(theirs.stdout), PDB_ENDS)
        self.assertIn("funcs.py(1)<module>()", ours)
        self.assertEqual(ours, theirs)
        self.assertEqual(ours_ended, pdb_ended)

    def test_step_into_functions_and_recursion(self):
        self.same_as_pdb("funcs.py", ["s"] * 30 + ["w"])

    def test_next_return_where_list(self):
        self.same_as_pdb("funcs.py", ["s", "s", "s", "s", "s", "w", "n", "n", "s", "s", "w",
                                      "u", "l", "d", "ll", "l", "l", "l 1,3", "l .", "l 5",
                                      "r", "n", "n", "n", "r", "w"])

    def test_generator(self):
        self.same_as_pdb("gen.py", ["s"] * 18 + ["w"])
        self.same_as_pdb("gen.py", ["s", "s", "s", "s", "s", "n", "n", "n", "n", "n", "n",
                                    "n", "n", "w"])
        self.same_as_pdb("gen.py", ["b 3", "c", "c", "w", "n", "n", "n", "b", "cl 1", "b"])

    def test_exceptions(self):
        self.same_as_pdb("exc.py", ["s"] * 33 + ["w"])
        self.same_as_pdb("uncaught.py", ["s"] * 11 + ["w", "s", "s"])

    def test_breakpoints(self):
        self.same_as_pdb("loop.py", [
            "b work", "c", "unt", "unt", "unt", "unt", "unt", "unt 7", "l", "l", "l 1,3",
            "l .", "b", "tbreak 11", "ignore 1 1", "ignore 1", "ignore 1 2", "b", "disable 1",
            "enable 1", "cl 1", "cl 5", "b 9", "b 3", "b", "u", "d", "d", "u x", "d 9",
            "u", "d -1"])
        self.same_as_pdb("funcs.py", ["b fact", "c", "c", "c", "w", "tbreak 3", "c", "b",
                                      "c", "b", "disable 1", "c", "w"])
        self.same_as_pdb("funcs.py", ["b funcs.py:8", "b %s:2" % os.path.join(self.tmp,
                                      "funcs.py"), "c", "c", "cl %s:8" %
                                      os.path.join(self.tmp, "funcs.py"), "c", "b", "c"])

    def test_breakpoints_on_relative_paths(self):
        """A file named by a path relative to the working directory ("../lib.py",
        "./main.py", "../sub/main.py") is found and named as pdb names it: bdb's canonic
        is os.path.abspath against the working directory, which for a replay is the
        recording's; clear takes the same paths."""
        self.write("lib.py", "def twice(x):\n    y = x * 2\n    return y\n")
        main = self.write("sub/main.py",
                          "import os, sys\n"
                          "sys.path.insert(0, os.path.dirname(os.path.dirname("
                          "os.path.abspath(__file__))))\n"
                          "import lib\n"
                          "total = lib.twice(1)\n"
                          "total += lib.twice(2)\n"
                          "print(total)\n")
        sub = os.path.dirname(main)
        rec = self.record(main, trace="rel.rwd", cwd=sub)
        self.assertEqual(rec.returncode, 0, rec.stderr)
        commands = "".join(c + "\n" for c in [
            "b ../lib.py:2", "b ./main.py:5", "b ../sub/main.py:6", "b ../nosuch.py:1",
            "b ../lib:3", "b", "c", "w", "c", "c", "cl ../lib.py:2", "cl ./main.py:9",
            "cl ../sub/main.py:5", "b", "c", "q"])
        ours = rwtest.run([rwtest.rewind_bin(), "replay", "--no-rc", rec.trace], cwd=sub,
                          stdin=commands)
        self.assertEqual(ours.returncode, 0, ours.stderr)
        theirs = rwtest.run([rwtest.python_bin(), "-m", "pdb", "main.py"], cwd=sub,
                            stdin=commands, env={"HOME": self.tmp})
        ours, ours_ended = cut_at_end(normalise_pdb(ours.stdout), [OUR_END])
        theirs, pdb_ended = cut_at_end(normalise_pdb(theirs.stdout), PDB_ENDS)
        self.assertIn("Breakpoint 1 at %s:2" % os.path.join(self.tmp, "lib.py"), ours)
        self.assertIn("Breakpoint 3 at %s:6" % main, ours)
        self.assertEqual(ours, theirs)
        self.assertEqual(ours_ended, pdb_ended)

    def test_bad_commands_and_arguments(self):
        self.same_as_pdb("funcs.py", [
            "b 4", "b 100", "b 19", "b nosuchfile.py:3", "b funcs.py:x", "unt x", "unt 1", "l x", "l 1,2,3", "disable x", "disable 99",
            "enable", "ignore", "ignore x", "cl 42", "condition", "help nosuch", "b 2",
            "cl 2", "cl 2", "cl funcs.py:2", "alias", "alias st step", "alias st", "st",
            "alias", "unalias st", "alias"])

    def test_help_texts(self):
        self.same_as_pdb("funcs.py", ["help where", "help list", "h up",
                                      "help tbreak", "help alias", "help ll"])

    def test_aliases_and_repeat(self):
        self.same_as_pdb("funcs.py", ["alias ss s ;; s", "s", "", "", "ss", "n", "", "w",
                                      "l", ""])

    def test_commands(self):
        # silent: only the list's output at each hit
        self.same_as_pdb("funcs.py", ["b add", "commands 1", "silent", "where", "end",
                                      "c", "c", "c", "c"])
        # a list ending with continue (as if followed by end): the stop is printed
        # after the list, then the program goes on, to its end
        self.same_as_pdb("funcs.py", ["b 3", "commands", "w", "c", "w", "c"])
        # "commands N" then "end" empties the list; a blank line after "end" repeats
        # "commands 1" (lastcmd), so the next lines are a list again
        self.same_as_pdb("funcs.py", ["b 3", "commands 1", "w", "end", "commands 1",
                                      "end", "c", "commands 1", "silent", "end", "", "bt",
                                      "end", "c", "c"])
        # while reading: aliases expand (and eat the rest of the line), ";;" splits,
        # "end" drops what is queued; blank, "!" and "(" lines are skipped; until
        # does not end a list (pdb 3.11) and does not move when the list runs
        self.same_as_pdb("loop.py", ["alias ww where", "b work",
                                     "commands 1 ;; silent ;; ww ;; end ;; w", "",
                                     "silent", "end", "c", "c"])
        self.same_as_pdb("loop.py", ["b 4", "commands", "unt", "u", "l", "!x = 1", "(x)",
                                     "?down", "d", "end", "c", "w", "c", "commands 1 ;; "
                                     "bt ;; n ;; w", "c", "w"])
        # a temporary breakpoint's list runs after "Deleted ..."; a list runs at the
        # next line stop when its breakpoint was hit before the list was set (bdb's
        # currentbp); quit ends the list and the session
        self.same_as_pdb("funcs.py", ["tbreak fact", "commands", "silent", "w", "end",
                                      "b 3", "c", "b", "c", "commands 2", "bt", "end", "n",
                                      "n", "s", "cl 2", "c"])
        self.same_as_pdb("funcs.py", ["b 3", "c", "commands 1", "bt", "end", "n", "n", "n",
                                      "c"])
        self.same_as_pdb("funcs.py", ["b 7", "commands", "silent", "u", "q", "c"])

    def test_commands_bad_numbers(self):
        self.same_as_pdb("funcs.py", [
            "commands", "commands 0", "commands x", "commands 1", "commands -1", "b 3",
            "commands 2", "commands -2", "commands -1", "w", "end", "commands 1.5",
            "commands 99999999999999999999999", "commands -99999999999999999999",
            "commands 1 2", "commands -0", "commands +1_0", "cl 1", "commands",
            "commands 1", "disable -5", "b 5", "disable -4", "enable 99999999999999999999"])

    # ---- issue 17: bdb's per-frame trace state, coroutines, tracebacks, ... ----

    def test_frames_entered_while_continuing_have_no_trace(self):
        """bdb gives no local trace function to a frame entered while continuing with no
        breakpoint in its file (dispatch_call): caller() has no line events for pdb
        afterwards, even when stepping returns into it; `step` at a --Return-- gives
        the caller its trace function back (set_step), `next` there does not."""
        lib = "tracestate_lib.py:2"
        self.same_as_pdb("tracestate.py", ["b " + lib, "c", "s", "n", "n", "n"])
        self.same_as_pdb("tracestate.py", ["b " + lib, "c", "s", "s", "n", "n", "w"])
        self.same_as_pdb("tracestate.py", ["b " + lib, "c", "n", "n", "c", "s", "n", "n",
                                           "n", "w"])
        # a breakpoint in the caller's file: frames of that file are traced
        self.same_as_pdb("tracestate.py", ["b " + lib, "b 12", "c", "s", "n", "n", "c",
                                           "s", "n", "n", "n"])
        # a breakpoint set later in the file of a frame without a trace function does
        # not stop that frame, only the frames entered after it was set
        self.same_as_pdb("tracestate.py", ["b " + lib, "c", "b tracestate.py:6", "c", "c",
                                           "w", "c"])
        # up, then next in a frame that has no trace function
        self.same_as_pdb("tracestate.py", ["b " + lib, "c", "c", "u", "n", "n"])
        # until and return from a frame entered while continuing
        self.same_as_pdb("tracestate.py", ["b " + lib, "c", "c", "unt", "unt", "r", "r"])

    def test_trace_state_backwards(self):
        """Reverse moves see the frames pdb sees: from the module's line that `next`
        reached, rstep goes back to f's --Return-- (caller() and again() have no events
        for pdb), and `next` from there comes back, as arriving forwards would."""
        path = os.path.join(self.tmp, "tracestate_lib.py")
        main = os.path.join(self.tmp, "tracestate.py")
        states = self.positions("tracestate.py", ["b tracestate_lib.py:2", "c", "c", "s",
                                                  "n", "rs", "n", "rs", "rs"])
        self.assertEqual(states[4][0], states[6][0])       # n, rs, n: back where it was
        self.assertEqual(states[5][0], states[3][0])       # rs: f's --Return--
        self.assertIn("> %s(2)f()" % path, states[5][1])
        self.assertIn("> %s(17)<module>()" % main, states[4][1])
        self.assertEqual(states[8][0], states[2][0])       # rs twice: f's line 2

    def test_coroutines(self):
        """A resumed coroutine is the same frame for next, until and return (pdb's
        stopframe); the StopIteration an awaited coroutine's return raises into its
        awaiter is "Internal StopIteration" where bdb stops at it."""
        self.same_as_pdb("coro.py", ["b 6", "c", "s", "s", "n", "n", "n", "n", "w", "n",
                                     "n", "n"])
        self.same_as_pdb("coro.py", ["b 6", "c", "unt", "unt", "unt", "w", "r", "r"])
        self.same_as_pdb("coro.py", ["b 7", "c", "r", "n", "n", "n", "s", "unt", "unt",
                                     "unt", "n"])

    def test_two_coroutines_suspended_at_one_line(self):
        """Two coroutines of one function, gathered, suspend at the same line in turn:
        next, until and return follow the stop frame's own object (the recording's
        GEN records name it), not the other's resume at that line. The program is the
        differential corpus' coro.py (ticker suspends at line 10)."""
        self.copy(os.path.join(rwtest.TOP, "tests", "differential", "progs", "coro.py"),
                  "twocoro.py")
        self.same_as_pdb("twocoro.py", ["b 10", "c", "unt", "n", "r", "p i", "p name"])
        self.same_as_pdb("twocoro.py", ["b 10", "c", "c", "n", "n", "p name, i", "n", "n",
                                        "p name, i, total"])
        self.same_as_pdb("twocoro.py", ["b 11", "c", "r", "p name", "n", "n", "p name"])

    def test_generator_return_into_for(self):
        self.same_as_pdb("genret.py", ["s"] * 15 + ["w"])
        self.same_as_pdb("genret.py", ["b 3", "c", "s", "s", "s", "n", "n"])
        # backwards: rstep from the internal StopIteration to gen's --Return--, step back
        states = self.positions("genret.py", ["b 3", "c", "s", "s", "rs", "s"])
        self.assertIn("(3)gen()", states[4][1])
        self.assertEqual(states[5], states[3])
        out = self.replay("genret.py", ["b 3", "c", "s", "s", "rs", "s"])
        self.assertEqual(out.count("Internal StopIteration: 5"), 2, out)

    def test_down_into_the_traceback(self):
        """At an exception that came up from callees, the stack goes on with the
        traceback's frames (pdb's get_stack(f, tb)): where lists them, down walks
        into them, list shows their source."""
        self.same_as_pdb("tbdown.py", ["b 13", "c", "n", "w", "d", "d", "l", "d", "u", "u",
                                       "u", "d", "n", "w", "n"])
        self.same_as_pdb("tbdown.py", ["b inner", "c", "n", "w", "n", "w", "d", "n", "w",
                                       "d", "d"])

    def test_list_in_a_frozen_module(self):
        """A frozen module has no source of its own ("<frozen posixpath>": the stop
        shows no source line); `list` reads its __file__, as pdb 3.11 does."""
        self.same_as_pdb("frozen.py", ["s", "s", "s", "l", "l", "w", "n", "l ."])

    def test_start_of_program(self):
        """Nothing before the program's first line: rstep and rnext there say so, and
        goto @start (or --at @start) comes back to it, as pdb's first stop."""
        path = os.path.join(self.tmp, "funcs.py")
        first = "> %s(1)<module>()\n-> def add(a, b):\n" % path
        out = self.replay("funcs.py", ["rs", "rn", "rr", "s", "s", "goto @start", "rs"])
        self.assertEqual(out.count("*** At the start of the program: nothing before this"),
                         4, out)
        self.assertNotIn("(0)", out)
        self.assertEqual(out.count(first), 2, out)
        self.assertTrue(self.replay("funcs.py", ["q"], "--at", "@start").startswith(first))

    def test_exceptions_own_and_all(self):
        """`exceptions` lists the program's own (not those of frozen modules, the import
        machinery, or the standard library); --all lists every one."""
        path = os.path.join(self.tmp, "exc.py")
        out = self.replay("exc.py", ["exceptions", "exceptions --all", "exceptions x"])
        own, every, bad = out.split("(rewind) ")[1:4]
        self.assertIn("Boom: too big: 5  %s:7 risky()" % path, own)
        self.assertIn("Boom: too big: 5  %s:13 careful()" % path, own)
        self.assertNotIn("<frozen", own)
        self.assertIn("more in the standard library and the import machinery", own)
        self.assertIn("<frozen ", every)
        mine = "  %s:" % path
        self.assertEqual([l for l in every.splitlines() if mine in l],
                         [l for l in own.splitlines() if mine in l])
        self.assertIn("*** Usage: exceptions [--all]", bad)

    # ---- rewind's own behaviour ----

    def test_help_commands(self):
        # pdb's text, then rewind's note
        ours = self.replay("funcs.py", ["help commands", "q"])
        theirs = self.pdb("funcs.py", ["help commands", "q"])
        note = ("        rewind: the list also runs when rcontinue stops at the breakpoint;\n"
                "        the reverse commands and goto also end a list.\n")
        self.assertIn(note, ours)
        self.assertEqual(ours.replace(note, ""), theirs)

    def test_commands_reverse(self):
        hit = (r"  \S+\(21\)<module>\(\)\n-> result = main\(\)\n  \S+\(\d+\)main\(\)\n"
               r"-> .*\n> \S+\(3\)add\(\)\n-> return c\n")
        fwd = self.replay("funcs.py", ["b 3", "commands", "silent", "bt", "end", "c", "c",
                                       "c", "c"]).replace("(rewind) ", "")
        hits = re.findall(hit, fwd)
        self.assertEqual(len(hits), 4, fwd)
        # at the fourth hit, a list that goes back: each rcontinue runs it again
        out = self.replay("funcs.py", ["b 3", "c", "c", "c", "c", "commands 1", "silent",
                                       "bt", "rc", "rc", "rc"])
        flat = out.replace("(rewind) ", "")
        self.assertEqual(re.findall(hit, flat), hits[2::-1], out)
        self.assertIn("(com) (com) (com) (rewind) ", out)
        self.assertIn("No breakpoint hit before this: back to the start of the program\n> "
                      "%s(1)<module>()\n-> def add(a, b):\n(rewind) *** At the start of the "
                      "program: nothing before this\n" % os.path.join(self.tmp, "funcs.py"),
                      out)
        # not silent: the list's output, then the stop
        out = self.replay("funcs.py", ["b 3", "c", "c", "commands", "bt", "end", "rc", "rs",
                                       "rc"]).replace("(rewind) ", "")
        self.assertIn(hits[0] + "> %s(3)add()\n-> return c\n" % os.path.join(self.tmp,
                                                                              "funcs.py"), out)
        # rstep does not run it, nor rcontinue's way back to the start
        self.assertEqual(len(re.findall(hit, out)), 1, out)

    def test_commands_scripting(self):
        _, trace = self.prog("funcs.py")
        path = os.path.join(self.tmp, "funcs.py")
        # a list begun in -x lines goes on on stdin, with the (com) prompt there
        proc = rwtest.run([rwtest.rewind_bin(), "replay", "--no-rc", "--no-values", "-x",
                           "b 3", "-x", "commands", "-x", "silent", trace], cwd=self.tmp,
                          stdin="p a\nend\nc\n")
        self.assertEqual(proc.returncode, 0, proc.stderr)
        self.assertEqual(proc.stdout, (
            "Breakpoint 1 at %s:3\n> %s(1)<module>()\n-> def add(a, b):\n(com) (com) "
            "(rewind) *** p: values are off: this replay was started with --no-values; the "
            "log shows: add() at %s:3\n(rewind) \n") % (path, path, path))
        # the end of input ends a list being read, then the session
        out = self.replay("funcs.py", ["b 3", "commands", "w"])
        self.assertTrue(out.endswith("(com) (com) (rewind) \n"), out)


    def test_end_of_program(self):
        out = self.replay("funcs.py", ["c", "c", "w"])
        self.assertIn("The program finished and the recording ends here (exit status 0)",
                      out)
        self.assertIn("--Return--\n> %s(21)<module>()" % os.path.join(self.tmp, "funcs.py"),
                      out)

    def test_values_say_what_the_log_knows(self):
        out = self.replay("funcs.py", ["b add", "c", "args", "p a", "retval", "!a = 3",
                                       "jump 3"], "--no-values")
        off = "values are off: this replay was started with --no-values"
        self.assertIn("*** args: %s; the log shows the names:\na\nb\n" % off, out)
        self.assertIn("*** p: %s; the log shows: add() at " % off, out)
        self.assertIn("*** Not yet returned!", out)
        top = self.replay("funcs.py", ["u", "d"])
        self.assertIn("(rewind) *** Oldest frame\n(rewind) *** Newest frame\n", top)
        self.assertIn("*** Python statements cannot run here: %s" % off, out)
        self.assertIn("*** jump: a recording cannot be changed", out)

    def test_postmortem(self):
        path, _ = self.prog("uncaught.py")
        out = self.replay("uncaught.py", ["w", "p d", "rstep", "rstep", "c"],
                          "--at", "@exception")
        self.assertIn("KeyError: 'missing'\nUncaught exception. Entering post mortem "
                      "debugging\n", out)
        self.assertIn("> %s(2)inner()\n-> return d[\"missing\"]\n(rewind)   %s(10)<module>()"
                      % (path, path), out)
        self.assertIn("uncaught KeyError: 'missing'", out)
        # rstep from the postmortem goes to the module's --Return--, then its exception
        self.assertIn("(rewind) --Return--\n> %s(10)<module>()" % path, out)
        self.assertIn("(rewind) KeyError: 'missing'\n> %s(10)<module>()" % path, out)

    def test_postmortem_output(self):
        """Going forward into the postmortem view shows what the program wrote before
        the exception, not sys.excepthook's traceback written after it (pdb catches the
        exception: the hook never runs; it prints the traceback itself)."""
        prog = self.write("late.py", "import sys\nprint('before', file=sys.stderr)\n"
                                     "print('out')\n{}['k']\n")
        rec = self.record(prog, trace="late.rwd")
        self.assertIn("Traceback", rec.stderr)
        proc = rwtest.run([rwtest.rewind_bin(), "replay", "--no-rc", rec.trace],
                          cwd=self.tmp, stdin="c\nq\n")
        self.assertEqual(proc.returncode, 0, proc.stderr)
        self.assertIn("Uncaught exception. Entering post mortem", proc.stdout)
        self.assertIn("out\n", proc.stdout)
        self.assertEqual(proc.stderr, "before\n")  # it had "Traceback ... line 4, in"

    def test_bad_start_positions(self):
        _, trace = self.prog("funcs.py")
        # A position this trace lacks is status 1, a misspelt one a usage error (2).
        for at, want, status in (("@exception", "no uncaught exception", 1),
                                 ("@crash", "crash record", 1), ("bogus", "FILE:LINE", 2),
                                 ("funcs.py:100", "", 1)):
            proc = rwtest.run([rwtest.rewind_bin(), "replay", "--no-rc", "--at", at, trace],
                              cwd=self.tmp)
            self.assertEqual(proc.returncode, status, at)
            self.assertIn(want, proc.stderr)
            self.assertEqual(proc.stderr.count("\n"), 1, proc.stderr)

    def test_scripting(self):
        _, trace = self.prog("funcs.py")
        self.write("cmds.txt", "# a comment\nb fact\n\nc\n")
        self.write(".rewindrc", "alias ww where\n")
        proc = rwtest.run([rwtest.rewind_bin(), "replay", "--no-values", "-x", "ww",
                           "--commands", "cmds.txt", "-x", "w", trace], cwd=self.tmp,
                          stdin="q\n",
                          env={"HOME": self.tmp})
        path = os.path.join(self.tmp, "funcs.py")
        # rc lines run as typed, without alias expansion, as pdb runs .pdbrc lines
        self.assertEqual(proc.stdout.splitlines()[:3], [
            "*** Unknown command 'ww': as a Python statement it cannot run here: values "
            "are off: this replay was started with --no-values",
            "Breakpoint 1 at %s:6" % path, "  %s(21)<module>()" % path])
        self.assertIn("> %s(7)fact()\n-> if n <= 1:\n(rewind) " % path, proc.stdout)

    # ---- reverse commands: exact inverses ----

    def positions(self, name, commands):
        """The (event, where) after each command: 'when' and 'where' after each."""
        cmds = []
        for c in commands:
            cmds += [c, "when", "w"]
        out = self.replay(name, cmds)
        chunks = out.split("(rewind) ")
        states = []
        for i in range(len(commands)):
            when = chunks[2 + 3 * i].strip()
            where = chunks[3 + 3 * i]
            states.append((when.split(",")[0], where))
        return states

    def test_step_rstep_inverse(self):
        fwd = ["s"] * 25
        states = self.positions("funcs.py", fwd + ["rs"] * 24)
        for k in range(24):
            self.assertEqual(states[24 + k], states[24 - k],
                             "rstep %d does not undo step" % (k + 1))

    def test_next_rnext_inverse(self):
        for name, steps in (("funcs.py", ["s"] * 5), ("loop.py", ["b work", "c"])):
            states = self.positions(name, steps + ["n", "n", "n", "n", "rn", "rn", "rn", "rn"])
            base = len(steps)
            self.assertEqual(states[base + 4], states[base + 2])
            self.assertEqual(states[base + 5], states[base + 1])
            self.assertEqual(states[base + 6], states[base + 0])
            self.assertEqual(states[base + 7], states[base - 1])

    def test_rcontinue_and_rreturn(self):
        path = os.path.join(self.tmp, "funcs.py")
        out = self.replay("funcs.py", ["b 3", "c", "when", "c", "when", "c", "rc", "when",
                                       "rc", "when", "rr", "w", "runtil", "rc"])
        whens = re.findall(r"event (\d+) of", out)
        self.assertEqual(whens[2], whens[1])     # the first rc: the previous hit
        self.assertEqual(whens[3], whens[0])     # then the one before
        self.assertIn("(rewind) --Call--\n> %s(1)add()\n-> def add(a, b):\n" % path, out)
        self.assertIn("No breakpoint hit before this: back to the start of the program", out)

    def test_runtil_goto_exceptions_threads(self):
        path = os.path.join(self.tmp, "exc.py")
        out = self.replay("exc.py", ["goto exc.py:7", "exceptions", "when", "thread",
                                     "thread 1", "goto 999999999", "goto nope", "goto @end",
                                     "events 1"])
        self.assertIn("> %s(7)risky()\n-> raise Boom(" % path, out.replace("(rewind) ", ""))
        self.assertIn("Boom: too big: 5  %s:7 risky()" % path, out)
        self.assertIn("* 1 MainThread", out)
        self.assertIn("*** ", out)

    def test_threads(self):
        path = os.path.join(self.tmp, "threads.py")
        out = self.replay("threads.py", ["thread", "b worker", "c", "when", "w", "n", "rn",
                                         "rc", "when", "thread 2", "when", "thread 1",
                                         "thread 7"])
        self.assertIn("* 1 MainThread", out)
        self.assertIn("  2 w1", out)
        # the breakpoint in the worker thread stops continue, viewing that thread
        self.assertIn("(rewind) > %s(5)worker()\n-> total = 0\n" % path, out)
        whens = re.findall(r"event (\d+) of \d+, [0-9.]+ s since the start, thread (\d+)", out)
        self.assertEqual(whens[0][1], "2")
        self.assertIn("threading.py(975)run()\n-> self._target(*self._args, **self._kwargs)\n"
                      "> %s(5)worker()" % path, out)
        # rcontinue: no earlier hit, back to the program's first line in the main thread
        self.assertIn("back to the start of the program\n> %s(1)<module>()" % path, out)
        self.assertEqual(whens[1][1], "1")
        self.assertIn("*** Invalid thread number (7)", out)

    def test_eof(self):
        out = self.replay("funcs.py", [])
        self.assertTrue(out.endswith("(rewind) \n"), out)


if __name__ == "__main__":
    unittest.main()

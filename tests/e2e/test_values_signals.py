"""Signals on replay (recorder/sigwrap.h, docs/reexecution.md "Signals"): programs
whose Python signal handlers ran where the kernel (a timer, a child's end) or the
program itself (os.kill, raise_signal, pthread_kill, KeyboardInterrupt from SIGINT)
made them run are recorded; `rewind replay` must show with `p` the values the recording
printed, forwards and after rcontinue, with no divergence, and the engine must send
no signal and arm no timer.
"""

import os
import re
import shutil
import subprocess
import tempfile
import unittest

import rwtest
import test_values

SEP = test_values.SEP


class Signals(rwtest.TestCase):
    record_elsewhere = test_values.Values.record_elsewhere
    replay_answers = test_values.Values.replay_answers
    replay_check = test_values.Values.replay_check

    def test_kill_raise_pthread_kill_to_self(self):
        self.replay_check("sig_kill.py")

    def test_interval_timer_loop_and_sleep(self):
        self.replay_check("sig_timer.py")

    def test_keyboard_interrupt_and_sigchld(self):
        self.replay_check("sig_int.py")

    def test_asyncio_signal_handler(self):
        self.replay_check("sig_asyncio.py")

    def test_signal_pending_at_an_audited_call(self):
        """SIGALRM is pending when os.kill raises its audit event: rewind's audit hook
        takes the arguments' repr, and PyObject_Repr checks signals. The handler must
        not run there (inside rewind's hook, out of sight and unlogged) but at
        os.kill's check after SIGUSR1's, as in a plain run; the replay agrees."""
        self.replay_check("sig_during_handler.py")
        prog = self.copy(os.path.join(test_values.PROGS, "sig_during_handler.py"))
        both = "['usr1', 'alarm', 'usr1', 'alarm', 'usr1', 'alarm', 'usr1', 'alarm']"
        plain = rwtest.python(prog)
        self.assertEqual(plain.returncode, 0, plain.stderr)
        self.assertIn(both, plain.stdout)
        rec = self.record(prog)
        self.assertEqual(rec.returncode, 0, rec.stderr)
        self.assertIn(both, rec.stdout)

    def test_signal_raised_by_another_thread(self):
        """The main thread runs the handler at its first check after it has the GIL
        back from the thread that raised the signal; the replay must wait for that
        place rather than pass the check first (each handler saw the loop's count)."""
        self.replay_check("sig_from_thread.py")

    def test_traced_thread_while_the_main_thread_cannot_take_its_signal(self):
        """The main thread waits on a buffered file's lock (a wait that goes on after
        EINTR) when its signal comes, and another thread holds the GIL and calls
        functions meanwhile: CPython 3.11's tracing made that thread spin at a call's
        first instruction, and the recording hung (plain python3 with
        threading.settrace hangs too; recorder/evalbreak.c). The recording must end,
        print what a plain run prints, and replay with the same values."""
        prog = self.copy(os.path.join(test_values.PROGS, "sig_while_main_waits.py"))
        rec = self.record(prog, timeout=60)
        self.assertEqual(rec.returncode, 0, rec.stderr)
        self.assertIn("b'b'", rec.stdout)
        self.assertIn("([10], ", rec.stdout)
        self.replay_check("sig_while_main_waits.py")

    def test_inputs_name_the_signals(self):
        """The trace holds a SIGNAL record per handler run, at its position."""
        prog = self.copy(os.path.join(test_values.PROGS, "sig_kill.py"))
        rec = self.record(prog)
        self.assertEqual(rec.returncode, 0, rec.stderr)
        out = rwtest.rewind("info", "--inputs", rec.trace).stdout
        # Three os.kill, a raise_signal, a pthread_kill; a handler run after each.
        self.assertRegex(out, r"\bkill 5\b", out)
        self.assertRegex(out, r"\bsignal 5\b", out)

    @unittest.skipUnless(shutil.which("strace"), "needs strace")
    def test_engine_sends_no_signal(self):
        """Under strace, the replay's engine makes no kill, tgkill, tkill,
        rt_sigqueueinfo, setitimer or alarm system call (the recording does)."""
        rec, play_dir = self.record_elsewhere("sig_timer.py")
        log = os.path.join(tempfile.mkdtemp(prefix="rwsig-"), "strace.log")
        self.addCleanup(shutil.rmtree, os.path.dirname(log), True)
        cmds = "break 38\ncontinue\np alarm_left\nquit\n"
        out = rwtest.run(["strace", "-f", "-qq", "-o", log, "-e",
                          "trace=kill,tgkill,tkill,rt_sigqueueinfo,rt_tgsigqueueinfo,"
                          "setitimer,alarm,timer_settime",
                          rwtest.rewind_bin(), "replay", "t.rwd"],
                         cwd=play_dir, stdin=cmds)
        self.assertIn("30", out.stdout, out.stdout + out.stderr)
        with open(log) as f:
            calls = [ln for ln in f.read().splitlines() if re.match(r"^\d+\s+\w+\(", ln)]
        # The debugger ends its engine with a kill of the engine's pid at quit, at most
        # (strace splits the line when another process's call comes in between).
        sent = [c for c in calls
                if not re.match(r"^\d+\s+kill\(\d+, SIGKILL(\)| <unfinished \.\.\.>)", c)]
        self.assertEqual(sent, [], "the replay sent a signal or armed a timer")


if __name__ == "__main__":
    unittest.main()

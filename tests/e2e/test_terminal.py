"""Text that comes from a trace never reaches the terminal as control characters
(issue 13, item 9; cli/term.h): a program whose file name, source lines, output,
exception messages, audit arguments and thread names hold escape sequences, a carriage
return, a C1 control and a bidi override is recorded, and every command's output is
free of raw controls (but \\n and \\t) and shows their escaped forms instead. JSON
output keeps json.h's escaping byte for byte. One command runs under a pty, the way a
terminal sees it, and replay there with readline.
"""

import os
import pty
import re
import select
import subprocess
import unittest

import rwtest

EVIL = "\x1b[31mred\x1b]0;title\x07 cr\r c1\x9b bidi\u202e end"

# The comment holds the controls as they are (no \r: Python would end the line there).
PROG = ("import sys, threading\n"
        "# comment: \x1b[31m \x1b]0;title\x07 c1\x9b bidi\u202e end\n"
        f"EVIL = {EVIL!r}\n"
        "def f(x):\n"
        "    return len(x)\n"
        "f(EVIL)\n"
        "t = threading.Thread(target=f, args=(EVIL,), name='thr' + EVIL)\n"
        "t.start()\n"
        "t.join()\n"
        "sys.audit('evil.event', EVIL)\n"
        "print(EVIL)\n"
        "raise ValueError(EVIL)\n")

NAME = "evil\x1b[31m\u202e.py"

C1 = re.compile(rb"\xc2[\x80-\x9f]")
BIDI = re.compile(rb"\xe2\x80[\xaa-\xae]|\xe2\x81[\xa6-\xa9]")


def raw_controls(data):
    """The raw control bytes and characters in data (bytes): C0 but \\n and \\t, DEL,
    C1 and bidi overrides in UTF-8."""
    bad = [bytes([b]) for b in data if (b < 0x20 and b not in (9, 10)) or b == 0x7f]
    return bad + C1.findall(data) + BIDI.findall(data)


class Terminal(rwtest.TestCase):

    def setUp(self):
        super().setUp()
        path = os.path.join(self.tmp, NAME)
        with open(path, "w", encoding="utf-8") as f:
            f.write(PROG)
        self.rec = self.record(path, options=["-q"])
        self.assertEqual(self.rec.returncode, 1, self.rec.stderr)  # the ValueError
        self.assertIn("ValueError", self.rec.stderr)

    def run_bytes(self, *args):
        p = subprocess.run([rwtest.rewind_bin(), *args], capture_output=True, timeout=120,
                           stdin=subprocess.DEVNULL, env=rwtest.clean_env(), cwd=self.tmp)
        return p.returncode, p.stdout + p.stderr

    def test_every_command_escapes(self):
        t = self.rec.trace
        runs = {
            "info": ["info", t],
            "events": ["events", t],
            "stats": ["stats", t],
            "coverage": ["coverage", t, "--summary"],
            "audit": ["audit", t, "--stack"],
            "timeit": ["timeit", t, NAME + ":f"],
            "replay": ["replay", "--no-rc", "-x", "list", "-x", "where", "-x", "p",
                       "-x", "continue", "-x", "where", "-x", "quit", t],
            "replay @exception": ["replay", "--no-rc", "--at", "@exception", "-x", "quit", t],
        }
        seen = b""
        for name, argv in runs.items():
            with self.subTest(cmd=name):
                rc, out = self.run_bytes(*argv)
                self.assertLess(rc, 2, out)
                self.assertEqual(raw_controls(out), [], out)
                self.assertIn(b"\\x1b[31m", out)  # the file name at least
                seen += out
        for escaped in (b"\\x1b[31mred", b"\\x1b]0;title\\x07", b"cr\\x0d", b"c1\\u009b",
                        b"bidi\\u202e", b"\\u202e.py"):
            self.assertIn(escaped, seen)

    def test_json_is_kept_byte_for_byte(self):
        for argv in (["events", self.rec.trace, "--json"], ["info", "--json", self.rec.trace]):
            rc, out = self.run_bytes(*argv)
            self.assertEqual(rc, 0, out)
            self.assertNotIn(b"\x1b", out)  # json.h: \u001b
            self.assertIn(b"\\u001b[31m", out)
            # json.h copies well-formed UTF-8 as it is: the filter is not on JSON.
            self.assertIn("\u202e".encode(), out)
        rc, out = self.run_bytes("audit", self.rec.trace, "--json")
        self.assertEqual(rc, 0, out)
        self.assertNotIn(b"\x1b", out)  # the arguments are reprs, escaped twice over

    def test_utf8_split_across_writes(self):
        # Every event line holds the path: "é" and "€" fall across buffer ends.
        path = self.write("\u00e9" * 40 + "\u20ac" * 7 + ".py",
                          "t = 0\nfor i in range(3000):\n    t += i\n")
        rec = self.record(path, options=["-q"], trace="split.rwd")
        rc, out = self.run_bytes("events", rec.trace)
        self.assertEqual(rc, 0, out[-300:])
        self.assertGreater(len(out), 65536)
        out.decode("utf-8")  # nothing escaped in the middle of a character
        self.assertNotIn(b"\\x", out)

    def pty_run(self, argv, send=b""):
        master, slave = pty.openpty()
        env = rwtest.clean_env({"TERM": "xterm"})
        p = subprocess.Popen([rwtest.rewind_bin(), *argv], stdin=slave, stdout=slave,
                             stderr=slave, env=env, cwd=self.tmp, close_fds=True)
        os.close(slave)
        if send:
            os.write(master, send)
        out = b""
        while True:
            r, _, _ = select.select([master], [], [], 60)
            if not r:
                break
            try:
                chunk = os.read(master, 65536)
            except OSError:  # EIO: the child closed the pty
                break
            if not chunk:
                break
            out += chunk
        os.close(master)
        p.wait(timeout=60)
        return p.returncode, out

    def test_under_a_pty(self):
        rc, out = self.pty_run(["events", self.rec.trace])
        self.assertEqual(rc, 0, out[-500:])
        # The pty turns each \n into \r\n; nothing else may be a control.
        self.assertEqual(raw_controls(out.replace(b"\r\n", b"\n")), [], out[-500:])
        self.assertIn(b"\\x1b[31m", out)

    def test_replay_under_a_pty(self):
        # readline talks to the terminal itself (unfiltered); what the debugger prints
        # from the trace is escaped.
        rc, out = self.pty_run(["replay", "--no-rc", "-x", "continue", self.rec.trace],
                               send=b"where\nlist 1\nquit\n")
        self.assertIn(rc, (0, 1), out[-500:])
        self.assertNotIn(b"\x1b[31m", out)
        self.assertNotIn(b"\x1b]0;", out)
        self.assertEqual(C1.findall(out) + BIDI.findall(out), [])
        self.assertIn(b"\\x1b[31m", out)
        self.assertIn(b"(rewind) ", out)


if __name__ == "__main__":
    unittest.main()

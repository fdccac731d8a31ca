"""A trace is often a stranger's file: damaged and hostile inputs get one clear error
line and a non-zero status at once, never a hang, a crash or a silent success
(issue: exit paths and hostile traces)."""

import os
import re
import socket
import stat
import struct
import subprocess
import unittest

import pyreader
import rwtest

READ_COMMANDS = [
    ["info"], ["info", "--json"], ["verify"], ["events"], ["events", "--json"], ["stats"],
    ["memory"], ["coverage"], ["audit"], ["export", "--format", "chrome", "-o", "-"], ["timeit", "f"],
    ["replay", "--commands", "/dev/null"],
]


def run_cmd(args, path, timeout=20):
    argv = [rwtest.rewind_bin(), args[0], path, *args[1:]]
    return subprocess.run(argv, capture_output=True, text=True, errors="replace",
                          timeout=timeout, stdin=subprocess.DEVNULL)


class NotATrace(rwtest.TestCase):

    def check_all(self, path, want_in_stderr):
        for args in READ_COMMANDS:
            with self.subTest(cmd=" ".join(args)):
                p = run_cmd(args, path)
                self.assertNotEqual(p.returncode, 0, p.stdout)
                self.assertLess(p.returncode, 128, p.stderr)  # no crash
                self.assertEqual(p.stdout, "")
                lines = p.stderr.splitlines()
                self.assertEqual(len(lines), 1, p.stderr)
                self.assertTrue(lines[0].startswith(f"rewind {args[0]}: "), lines[0])
                self.assertIn(want_in_stderr, lines[0])

    def test_fifo_does_not_hang(self):
        path = os.path.join(self.tmp, "pipe.rwd")
        os.mkfifo(path)
        self.check_all(path, "is a FIFO (named pipe)")

    def test_directory(self):
        self.check_all(self.tmp, "is a directory")

    def test_device(self):
        self.check_all("/dev/null", "is a device")

    def test_socket(self):
        path = os.path.join(self.tmp, "sock.rwd")
        s = socket.socket(socket.AF_UNIX)
        s.bind(path)
        self.addCleanup(s.close)
        self.check_all(path, "is a socket")

    def test_text_file(self):
        self.check_all(self.write("notes.txt", "just some text, long enough to have a header\n" * 3),
                       "not a rewind trace")

    def test_magic_with_a_garbage_header(self):
        path = os.path.join(self.tmp, "garbage.rwd")
        with open(path, "wb") as f:
            f.write(b"RWTRACE\0" + b"\x6a\xbb" + os.urandom(200))
        self.check_all(path, "not a rewind trace, or its header is damaged")

    def test_newer_version(self):
        rec = self.record(["-c", "pass"], options=["-q"])
        with open(rec.trace, "rb") as f:
            data = bytearray(f.read())
        data[8:10] = struct.pack("<H", 7)
        data[28:32] = struct.pack("<I", pyreader.crc32c(bytes(data[:28])))
        with open(rec.trace, "wb") as f:
            f.write(data)
        self.check_all(rec.trace, "format version 7, written by a newer rewind")


class DamagedChunk(rwtest.TestCase):
    """The index is intact, a chunk's payload is not: info used to exit 0."""

    def test_info_checks_every_chunk_crc(self):
        prog = self.write("busy.py", "t = 0\nfor i in range(300000):\n    t += i\nprint(t)\n")
        rec = self.record(prog, options=["-q"])
        tr = pyreader.Trace(rec.trace)
        chunks = [fr for fr in tr.frames if fr.type == 3]
        self.assertGreaterEqual(len(chunks), 2)
        victim = chunks[len(chunks) // 2]
        with open(rec.trace, "r+b") as f:
            f.seek(victim.offset + 24 + victim.stored_len // 2)
            b = f.read(1)
            f.seek(-1, os.SEEK_CUR)
            f.write(bytes([b[0] ^ 0x40]))
        p = run_cmd(["info"], rec.trace)
        self.assertEqual(p.returncode, 1, p.stderr)
        self.assertIn("is damaged", p.stderr)
        self.assertIn("bad CRC", p.stderr)
        self.assertRegex(p.stderr, r"the events from [1-9]\d* on cannot be read")
        self.assertIn("program", p.stdout)  # what could be read is still shown
        v = run_cmd(["verify"], rec.trace)
        self.assertEqual(v.returncode, 1)



class DamagedEveryCommand(rwtest.TestCase):
    """Every read command on a trace cut short, a trace with one flipped byte in a
    chunk's payload, and a trace with no events: status 1 and one line on stderr that
    says so and how much was read, whatever part of it could still be shown."""

    PROG = ("def f(i):\n    return i * 2\n\n"
            "t = 0\nfor i in range(300000):\n    t += f(i)\nprint(t)\n")

    def setUp(self):
        super().setUp()
        rec = self.record(self.write("busy.py", self.PROG), options=["-q"])
        self.assertEqual(rec.returncode, 0, rec.stderr)
        self.trace = rec.trace
        self.frames = pyreader.Trace(rec.trace).frames
        with open(rec.trace, "rb") as f:
            self.data = f.read()

    def variant(self, name, data):
        path = os.path.join(self.tmp, name + ".rwd")
        with open(path, "wb") as f:
            f.write(data)
        return path

    def check_all(self, path, pattern):
        for args in READ_COMMANDS:
            with self.subTest(cmd=" ".join(args)):
                p = run_cmd(args, path, timeout=60)
                self.assertEqual(p.returncode, 1, p.stderr)
                ours = [l for l in p.stderr.splitlines() if l.startswith(f"rewind {args[0]}: ")]
                self.assertTrue(ours, p.stderr)
                self.assertTrue(any(re.search(pattern, l) for l in ours), p.stderr)

    def test_cut_short(self):
        chunks = [fr for fr in self.frames if fr.type == 3]
        self.assertGreaterEqual(len(chunks), 4)
        victim = chunks[len(chunks) // 2]
        path = self.variant("cut", self.data[:victim.offset + 24 + victim.stored_len // 2])
        self.check_all(path, r"is damaged: (reading|showing) the first [1-9]\d* events|"
                             r"is damaged: the first [1-9]\d* events can be read")

    def test_flipped_byte_in_a_chunk(self):
        chunks = [fr for fr in self.frames if fr.type == 3]
        victim = chunks[len(chunks) // 2]
        data = bytearray(self.data)
        data[victim.offset + 24 + victim.stored_len // 2] ^= 0x40
        path = self.variant("flip", bytes(data))
        self.check_all(path, r"bad CRC.*(the first [1-9]\d* events are intact|"
                             r"the events from [1-9]\d* on cannot be read)|"
                             r"is damaged: the first [1-9]\d* events can be read")

    def test_no_events(self):
        first_chunk = next(fr for fr in self.frames if fr.type == 3)
        path = self.variant("zero", self.data[:first_chunk.offset])
        self.check_all(path, r"holds no events")


class HugeCounts(rwtest.TestCase):
    """Counts that a stranger's file can make up (2**62 events and records in an index
    entry, or in a chunk whose CRC is right): every read command answers within
    seconds, without a crash (an allocation by the count would end in one), and says
    the trace is damaged."""

    def test_made_up_counts(self):
        import tracerewrite
        prog = self.write("p.py", "def f(n):\n    return n\nfor i in range(3000):\n    f(i)\n")
        rec = self.record(prog, options=["-q"])
        frames, header = tracerewrite.load(rec.trace)
        chunk = next(f for f in frames if f.type == 3)
        huge = 1 << 62
        for where in ("index", "chunk"):
            with self.subTest(where=where):
                if where == "index":
                    saved = chunk.entry
                    chunk.entry = [[n, w, huge if n in (5, 6) else v] for n, w, v in chunk.entry]
                else:
                    saved = chunk.payload
                    fs = tracerewrite.fields(chunk.payload)
                    chunk.payload = tracerewrite.encode(
                        [[n, w, huge if n in (2, 3) else v] for n, w, v in fs])
                bad = os.path.join(self.tmp, f"huge-{where}.rwd")
                tracerewrite.save(header, frames, bad)
                if where == "index":
                    chunk.entry = saved
                else:
                    chunk.payload = saved
                for args in READ_COMMANDS:
                    p = run_cmd(args, bad, timeout=60)  # killed if it hangs
                    code, errtext = p.returncode, p.stderr
                    self.assertNotEqual(code, 0, (args, p.stdout[-500:]))
                    self.assertGreaterEqual(code, 0, (args, errtext[-2000:]))  # no signal
                    self.assertIn("rewind " + args[0] + ": ", errtext)



if __name__ == "__main__":
    unittest.main()

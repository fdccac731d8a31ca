"""`rewind info --inputs` says what a trace holds from outside the program (files read,
directories listed, environment, peers, children, stdin, clock and random reads, output),
decoding the records by docs/format.md's key conventions and never trusting a key that
does not follow them; the independent reader (pyreader.py, from docs/format.md) reads the
same records; a trace with INPUTS frames still reads for every other command, and a damaged
INPUTS frame gives the records before it and a failure status.

The INPUTS frames are added to a recorded trace with tracerewrite.py (the wrappers that
log real inputs are tested where they live), in a frame of their own before END, so that
records the recorder logs itself come first and take nothing away from these checks."""

import json
import os
import re
import struct
import unittest

import pyreader as pr
import rwtest
import tracerewrite as tr

OPEN, READ, CLOSE, OPENDIR, READDIR, CLOSEDIR = 1, 2, 18, 14, 16, 17
WRITE, CLOCK_GETTIME, GETRANDOM, STAT = 23, 80, 100, 6
RAND_BYTES = 125
SOCKET, CONNECT, ACCEPT, BIND, FORK, POSIX_SPAWN, EXECVE = 140, 142, 143, 144, 190, 191, 192
SYSTEM = 199
T = 99  # an input stream no real thread of the recording has


def key(*ints, s=b""):
    return b"".join(struct.pack("<q", v) for v in ints) + s


def rec(call, k=b"", result=0, data=b"", flags=0, err=0, seq=[0]):
    """An Input message (docs/format.md, "Inputs") as wire fields."""
    seq[0] += 1
    fs = [[1, 0, T], [2, 0, seq[0]], [3, 0, 5], [4, 0, call],
          [5, 0, ((result << 1) ^ (result >> 63)) & ((1 << 64) - 1)], [6, 0, err],
          [7, 0, flags], [8, 2, k], [9, 2, data]]
    return [1, 2, tr.encode(fs)]


def records():
    dirent = lambda name: struct.pack("<q", 77) + b"\x08" + name
    peer = struct.pack("<q", 16) + bytes(16) + b"10.1.2.3:5555"
    return [
        rec(OPEN, key(-100, 0, 0, s=b"/t/data.txt"), 3),
        rec(READ, key(3, 4096), 12, b"hello world\n"),
        rec(READ, key(3, 4096), 0),
        rec(CLOSE, key(3)),
        rec(OPEN, key(-100, 0, 0, s=b"/t/missing.txt"), -1, err=2),
        rec(OPEN, key(-100, 0, 0, s=b"/usr/lib/python3.11/os.py"), 4,
            flags=pr.INPUT_INSTALL),
        rec(READ, key(4, 65536), 5000, flags=pr.INPUT_INSTALL),
        rec(OPENDIR, key(s=b"/t/dir"), 1),
        rec(READDIR, key(1), 1, dirent(b"a.py")),
        rec(READDIR, key(1), 1, dirent(b"b.py")),
        rec(READDIR, key(1), 0),
        rec(CLOSEDIR, key(1)),
        rec(SOCKET, key(2, 1, 0), 5),
        rec(CONNECT, key(5, s=b"127.0.0.1:8080")),
        rec(READ, key(5, 100), 7, b"HTTP/1."),
        rec(BIND, key(6, s=b"[::1]:9000")),
        rec(ACCEPT, key(6, 0, 1), 7, peer),
        rec(FORK, b"", 4321),
        rec(FORK, b"", 4322, b"/bin/true true"),  # a vfork child that exec'd
        rec(SYSTEM, key(s=b"echo hi"), 0),
        rec(POSIX_SPAWN, key(s=b"/bin/ls ls -l /t")),
        rec(EXECVE, key(s=b"/no/such/prog"), -1, err=2),
        rec(READ, key(0, 1024), 6, b"typed\n"),
        rec(CLOCK_GETTIME, key(1), 0, struct.pack("<qq", 1, 2)),
        rec(CLOCK_GETTIME, key(0), 0, struct.pack("<qq", 1, 2)),
        rec(GETRANDOM, key(16, 0), 16, bytes(range(16))),
        rec(RAND_BYTES, key(1, 32, 0), 1, bytes(32), flags=16),
        rec(RAND_BYTES, key(0, 12, 0), 1, bytes(12), flags=16),
        rec(WRITE, key(1, 6), 6, b"hello\n"),
        rec(WRITE, key(2, 4), 4, b"err\n"),
        rec(STAT, key(s=b"/t"), 0, bytes(144)),
        # Not by the conventions: a path with a NUL, a key too short for its call.
        rec(CONNECT, key(8, s=b"evil\x00hidden")),
        rec(OPEN, b"\x01\x02\x03", 9),
    ]


class InfoInputsTest(rwtest.TestCase):
    def setUp(self):
        super().setUp()
        prog = self.write("p.py", "print('hi')\n")
        r = self.record(prog, env={"AWS_SECRET_ACCESS_KEY": "canary", "PLAIN_VAR": "x"})
        self.assertEqual(r.returncode, 0, r.stderr)
        self.frames, self.header = tr.load(r.trace)
        self.trace = self.tmp + "/inputs.rwd"
        self.save(tr.encode(records()))

    def save(self, payload, path=None):
        frames = list(self.frames)
        at = next(i for i, f in enumerate(frames) if f.type == pr.FRAME_END)
        frames.insert(at, tr.Frame(pr.FRAME_INPUTS, payload))
        tr.save(self.header, frames, path or self.trace)

    def ours(self, t):
        return [x for x in t.inputs() if x["thread"] == T]

    def test_json(self):
        out = json.loads(rwtest.rewind("info", "--inputs", "--json", self.trace).stdout)
        self.assertIsNone(out["damaged"])
        files = {f["path"]: f for f in out["files"]}
        self.assertEqual(files["/t/data.txt"]["bytes"], 12)
        self.assertEqual(files["/t/data.txt"]["opens"], 1)
        self.assertNotIn("/t/missing.txt", files)
        self.assertNotIn("/usr/lib/python3.11/os.py", files)
        self.assertGreaterEqual(out["failed_opens"], 1)
        self.assertGreaterEqual(out["installation"]["files"], 1)
        self.assertGreaterEqual(out["installation"]["bytes"], 5000)
        dirs = {d["path"]: d for d in out["directories"]}
        self.assertEqual(dirs["/t/dir"]["entries"], 2)
        self.assertIn("AWS_SECRET_ACCESS_KEY", out["environment"]["redacted"])
        self.assertNotIn("PLAIN_VAR", out["environment"]["redacted"])
        self.assertGreater(out["environment"]["count"], 1)
        peers = {p["address"]: p["how"] for p in out["peers"]}
        self.assertEqual(peers["127.0.0.1:8080"], ["connect"])
        self.assertEqual(peers["[::1]:9000"], ["bind"])
        self.assertEqual(peers["10.1.2.3:5555"], ["accept"])
        self.assertFalse(any("evil" in p or "hidden" in p for p in peers))
        self.assertGreaterEqual(out["network_bytes_received"], 7)
        self.assertIn(4321, out["forks"])
        self.assertIn("/bin/ls ls -l /t", out["spawns"])
        self.assertIn(4322, out["forks"])
        self.assertIn("/bin/true true", out["spawns"])
        self.assertIn("echo hi", out["spawns"])
        self.assertIn("/no/such/prog", out["failed_execs"])
        self.assertGreaterEqual(out["stdin_bytes"], 6)
        self.assertGreaterEqual(out["clock_reads"], 2)
        self.assertGreaterEqual(out["random_reads"], 1)
        self.assertGreaterEqual(out["random_bytes"], 16)
        self.assertEqual(out["tls_draws"], 2)
        self.assertEqual(out["tls_bytes"], 44)
        self.assertGreaterEqual(out["stdout_bytes"], 6)
        self.assertGreaterEqual(out["stderr_bytes"], 4)
        self.assertGreaterEqual(out["other_calls"]["stat"], 1)
        self.assertGreaterEqual(out["unreadable"], 2)
        self.assertEqual(out["records"], len(list(pr.Trace(self.trace).inputs())))

    def test_text(self):
        p = rwtest.rewind("info", "--inputs", self.trace)
        self.assertEqual(p.stderr, "")
        lines = p.stdout.splitlines()
        self.assertTrue(any(l.split() == ["12", "bytes", "/t/data.txt"] for l in lines), p.stdout)
        self.assertTrue(any(l.split() == ["2", "entries", "/t/dir"] for l in lines), p.stdout)
        self.assertIn("connected to  127.0.0.1:8080", p.stdout)
        self.assertIn("accepted from 10.1.2.3:5555", p.stdout)
        self.assertIn("command       /bin/ls ls -l /t", p.stdout)
        self.assertIn("pid 4321", p.stdout)
        self.assertIn("AWS_SECRET_ACCESS_KEY", p.stdout)
        self.assertNotIn("canary", p.stdout)
        self.assertNotIn("hidden", p.stdout)
        self.assertNotIn("os.py", p.stdout)  # installation files are counted, not listed
        self.assertIn("TLS            2 draws of OpenSSL's random bytes, 44 bytes", p.stdout)

    def test_pyreader_reads_the_same(self):
        got = self.ours(pr.Trace(self.trace))
        self.assertEqual(len(got), len(records()))
        self.assertEqual(got[0]["call"], OPEN)
        self.assertEqual(got[0]["key"][24:], b"/t/data.txt")
        self.assertEqual(got[1]["data"], b"hello world\n")
        self.assertEqual(got[4]["result"], -1)
        self.assertEqual(got[4]["err"], 2)
        self.assertEqual(got[6]["flags"], pr.INPUT_INSTALL)

    def test_other_commands_read_the_trace(self):
        plain = rwtest.info(self.trace)
        self.assertIsNone(plain["recovery"])
        self.assertEqual(plain["exit_status"], 0)
        rwtest.rewind("verify", self.trace)
        self.assertTrue(rwtest.events(self.trace))

    def test_damaged_frame(self):
        good = tr.encode(records()[:3])
        bad = good + bytes([0x0a, 0x7f, 0x01])  # a record longer than what is left
        path = self.tmp + "/bad.rwd"
        self.save(bad, path)
        p = rwtest.rewind("info", "--inputs", "--json", path, check=False)
        self.assertEqual(p.returncode, 1)
        self.assertIn("the inputs end early", p.stderr)
        out = json.loads(p.stdout)
        self.assertIn("malformed", out["damaged"])
        self.assertEqual({f["path"]: f["bytes"] for f in out["files"]}.get("/t/data.txt"), 12)

    def test_no_inputs(self):
        path = self.tmp + "/none.rwd"
        tr.save(self.header, self.frames, path)
        out = json.loads(rwtest.rewind("info", "--inputs", "--json", path).stdout)
        self.assertIsNone(out["damaged"])
        self.assertNotIn("/t/data.txt", [f["path"] for f in out["files"]])

    def test_reveals_and_inputs_exclusive(self):
        p = rwtest.rewind("info", "--inputs", "--reveals", self.trace, check=False)
        self.assertEqual(p.returncode, 2)


class CallNumbersDocTest(unittest.TestCase):
    def test_every_call_is_in_the_docs(self):
        """docs/format.md lists every call of format/inputs.h with its number and name."""
        top = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..")
        with open(os.path.join(top, "format", "inputs.h")) as f:
            calls = re.findall(r'X\((\w+), (\d+), "(\w+)"\)', f.read())
        with open(os.path.join(top, "docs", "format.md")) as f:
            doc = f.read()
        self.assertGreater(len(calls), 100)
        for _, num, name in calls:
            self.assertIn(f"{num} `{name}`", doc, "add it to docs/format.md, section 3.7")


if __name__ == "__main__":
    unittest.main()

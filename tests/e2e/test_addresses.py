"""End-to-end tests of repeatable object addresses (recorder/detalloc.h): two recordings
of the same program with the same inputs print the same id()s, the same iteration order
of a set of plain objects (their hash is their address) and the same reprs, even when
run from other working directories, through another path to rewind and with an
environment block of another size (the stack moves, Python's objects do not). Under
plain python3 with address-space randomisation the same prints differ from run to run,
which shows that the comparison can fail.

The environment and the hash seed are the program's inputs: a replay takes them from
the trace. Here both recordings get the same ones (PYTHONHASHSEED fixed; one variable
whose value differs in length but not in its allocator's size class: not one byte long,
which would be a cached bytes object instead of a new one; 2 and 7 characters, which stay
in one size class with -X dev's debug hooks too, whose 24 bytes more per block moved a
14-character value to the next one).
"""

import os
import re
import unittest

import rwtest

PROG = r'''
import sys

class P:
    pass

class Slotted:
    __slots__ = ("a",)

objs = [P() for _ in range(20)]
print("ids", [hex(id(o)) for o in objs[:4]])
print("set order", [objs.index(o) for o in set(objs)])
print("dict of objects", [objs.index(o) for o in dict.fromkeys(reversed(objs))])
print("repr", repr(object()), repr(P()))
print("slotted", hex(id(Slotted())))
big = bytes(100000)                # PyMem_RawMalloc (the RAW domain)
buf = bytearray(b"x" * 3000)       # PyObject_Malloc beyond 512 bytes: RAW too
print("large", hex(id(big)), hex(id(buf)))
lst = list(range(100000))          # realloc as it grows
print("list", hex(id(lst)))
print("hash", hash("abc"), hash(("abc", 1)))
print("functions", hex(id(lambda: 0)), hex(id(sys._getframe())))
'''

ADDR = re.compile(r"0x[0-9a-f]+")


def addresses(text):
    return ADDR.findall(text)


def in_detalloc(a):
    """In detalloc's high region (32 TiB), its arena region (33 TiB) or its low one
    (256 MiB to 1 GiB)."""
    a = int(a, 16)
    return a >> 40 in (0x20, 0x21) or 0x10000000 <= a < 0x40000000


class TestAddresses(rwtest.TestCase):
    def setUp(self):
        super().setUp()
        self.prog = self.write("prog/addresses.py", PROG)
        os.makedirs(os.path.join(self.tmp, "one"))
        deep = os.path.join(self.tmp, "two", "a" * 60, "b" * 60)
        os.makedirs(deep)
        self.deep = deep
        # rewind reached through a longer path: another stack layout at exec.
        self.link = os.path.join(deep, "rewind-through-a-link-with-a-long-name")
        os.symlink(rwtest.rewind_bin(), self.link)

    def record_in(self, cwd, name, rewind, pad, options=(), env=None):
        trace = os.path.join(self.tmp, name)
        argv = [rewind, "record", "-q", "--force", "-o", trace, *options, self.prog]
        e = {"PYTHONHASHSEED": "12345", "RW_TEST_PAD": pad}
        e.update(env or {})
        proc = rwtest.run(argv, cwd=cwd, env=e)
        self.assertEqual(proc.returncode, 0, proc.stderr)
        return proc.stdout

    def two_recordings(self, options=(), env=None):
        one = self.record_in(os.path.join(self.tmp, "one"), "one.rwd", rwtest.rewind_bin(),
                             "xy", options, env)
        two = self.record_in(self.deep, "two.rwd", self.link, "y" * 7, options, env)
        return one, two

    def test_two_recordings_print_the_same(self):
        one, two = self.two_recordings()
        self.assertGreaterEqual(len(addresses(one)), 10, one)
        self.assertEqual(one, two)
        # The objects live in detalloc's regions, not in the C library's heap.
        for a in addresses(one):
            self.assertTrue(in_detalloc(a), a)

    def test_debug_allocators_keep_addresses(self):
        # -X dev puts debug hooks over the RAW allocator (PYTHONMALLOC=debug); they
        # wrap detalloc, and PYTHONMALLOC=malloc makes every domain detalloc's.
        one, two = self.two_recordings(options=("--python-flag", "-X", "--python-flag", "dev"))
        self.assertEqual(one, two)
        one, two = self.two_recordings(env={"PYTHONMALLOC": "malloc"})
        self.assertEqual(one, two)
        for a in addresses(one):
            self.assertTrue(in_detalloc(a), a)

    def test_plain_python_differs(self):
        # Without rewind, randomisation moves the heap: the prints above can differ.
        with open("/proc/sys/kernel/randomize_va_space") as f:
            if f.read().strip() == "0":
                self.skipTest("address-space randomisation is off on this machine")
        env = {"PYTHONHASHSEED": "12345"}
        runs = set()
        for _ in range(3):
            proc = rwtest.run([rwtest.python_bin(), self.prog], cwd=self.tmp, env=env)
            self.assertEqual(proc.returncode, 0, proc.stderr)
            runs.add(tuple(addresses(proc.stdout)))
        self.assertGreater(len(runs), 1)

    def test_randomisation_off_for_the_program_only(self):
        # The recorded process runs without randomisation: its stack is where it was in
        # the other recording. A program it starts gets randomisation back, as under
        # python3. A kernel that refuses (a container's seccomp filter) leaves it on.
        if rwtest.run(["setarch", "-R", "true"]).returncode != 0:
            self.skipTest("the kernel refuses to turn randomisation off here")
        code = ("import subprocess\n"
                "def stack(maps):\n"
                "    return [l.split()[0] for l in maps.splitlines() if '[stack]' in l]\n"
                "print(stack(open('/proc/self/maps').read()))\n"
                "print(stack(subprocess.run(['cat', '/proc/self/maps'],"
                " capture_output=True, text=True).stdout))\n")
        prog = self.write("stack.py", code)
        outs = []
        for i in range(2):
            rec = self.record(prog, trace=f"s{i}.rwd", options=("-q", "--no-follow"))
            self.assertEqual(rec.returncode, 0, rec.stderr)
            outs.append(rec.stdout.splitlines())
        self.assertEqual(outs[0][0], outs[1][0])
        self.assertNotEqual(outs[0][1], outs[1][1])

if __name__ == "__main__":
    unittest.main()

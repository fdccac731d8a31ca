"""The replay engine's sandbox (docs/reexecution.md, "Sandbox"): a recorded program that,
in the part the engine re-executes, opens a file for writing and writes it, connects to a
socket, executes a program and unlinks a file through system calls that bypass rewind's C
library wrappers (ctypes' `syscall`, and machine code in an executable mapping for the
exec). Recording performs every one of them (checked on disk and on a listening socket).
Replaying with the sandbox (the default) touches nothing, and the value command that ran
into the call says which call it was and after which event; with --no-sandbox the same
replay performs it, which proves each check can fail.
"""

import os
import platform
import re
import select
import socket
import unittest

import rwtest

PROG = r'''
import ctypes, mmap, os, socket, sys

libc = ctypes.CDLL(None, use_errno=True)
raw = libc.syscall
raw.restype = ctypes.c_long
SYS_WRITE, SYS_CLOSE, SYS_SOCKET, SYS_CONNECT, SYS_SENDTO, SYS_SOCKETPAIR = 1, 3, 41, 42, 44, 53
SYS_OPENAT, SYS_UNLINKAT = 257, 263
AT_FDCWD = -100

# x86-64: clone(SIGCHLD) by hand; the child execve(path, argv, NULL)s and exits 127 if
# that fails; the parent returns wait4(pid, NULL, 0, NULL). No C library, no wrapper.
SPAWN = bytes([
    0x49, 0x89, 0xf8,                    # mov r8, rdi       (path)
    0x49, 0x89, 0xf1,                    # mov r9, rsi       (argv)
    0xb8, 0x38, 0, 0, 0,                 # mov eax, 56       (clone)
    0xbf, 0x11, 0, 0, 0,                 # mov edi, 17       (SIGCHLD)
    0x31, 0xf6,                          # xor esi, esi
    0x31, 0xd2,                          # xor edx, edx
    0x4d, 0x31, 0xd2,                    # xor r10, r10
    0x0f, 0x05,                          # syscall
    0x48, 0x85, 0xc0,                    # test rax, rax
    0x75, 0x1b,                          # jnz parent
    0x4c, 0x89, 0xc7,                    # mov rdi, r8
    0x4c, 0x89, 0xce,                    # mov rsi, r9
    0x31, 0xd2,                          # xor edx, edx
    0xb8, 0x3b, 0, 0, 0,                 # mov eax, 59       (execve)
    0x0f, 0x05,                          # syscall
    0xbf, 0x7f, 0, 0, 0,                 # mov edi, 127
    0xb8, 0x3c, 0, 0, 0,                 # mov eax, 60       (exit)
    0x0f, 0x05,                          # syscall
    0x48, 0x89, 0xc7,                    # parent: mov rdi, rax
    0x31, 0xf6,                          # xor esi, esi
    0x31, 0xd2,                          # xor edx, edx
    0x4d, 0x31, 0xd2,                    # xor r10, r10
    0xb8, 0x3d, 0, 0, 0,                 # mov eax, 61       (wait4)
    0x0f, 0x05,                          # syscall
    0xc3,                                # ret
])


def sockaddr(port):
    return (ctypes.c_ubyte * 16)(2, 0, port >> 8, port & 255, 127, 0, 0, 1)


def attack(what, target):
    if what == "open":
        fd = raw(SYS_OPENAT, AT_FDCWD, target.encode(),
                 os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
        n = raw(SYS_WRITE, fd, b"written\n", 8)
        raw(SYS_CLOSE, fd)
        return n
    if what == "unlink":
        return raw(SYS_UNLINKAT, AT_FDCWD, target.encode(), 0)
    if what == "connect":
        fd = raw(SYS_SOCKET, socket.AF_INET, socket.SOCK_STREAM, 0)
        r = raw(SYS_CONNECT, fd, sockaddr(int(target)), 16)
        raw(SYS_CLOSE, fd)
        return r
    if what == "connect-fd":
        s = socket.socket()              # through the wrapper: answered from the log
        r = raw(SYS_CONNECT, s.fileno(), sockaddr(int(target)), 16)
        s.close()
        return r
    if what == "datagram":
        # A socket pair needs no address; a datagram sent with one goes there.
        pair = (ctypes.c_int * 2)()
        raw(SYS_SOCKETPAIR, socket.AF_UNIX, socket.SOCK_DGRAM, 0, pair)
        addr = b"\x01\x00" + target.encode() + b"\x00"
        return raw(SYS_SENDTO, pair[0], b"hello", 5, 0, addr, len(addr))
    if what == "unlink-sigsys-blocked":
        import signal
        signal.pthread_sigmask(signal.SIG_BLOCK, [signal.SIGSYS])
        return raw(SYS_UNLINKAT, AT_FDCWD, target.encode(), 0)
    if what == "exec":
        code = mmap.mmap(-1, 4096, prot=mmap.PROT_READ | mmap.PROT_WRITE | mmap.PROT_EXEC)
        code.write(SPAWN)
        spawn = ctypes.CFUNCTYPE(ctypes.c_long, ctypes.c_char_p, ctypes.c_void_p)(
            ctypes.addressof(ctypes.c_char.from_buffer(code)))
        argv = (ctypes.c_char_p * 3)(b"/bin/touch", target.encode(), None)
        return spawn(b"/bin/touch", ctypes.cast(argv, ctypes.c_void_p))


def main():
    what, target = sys.argv[1], sys.argv[2]
    before = 41
    r = attack(what, target)
    after = r
    print(what, "done", r >= 0)


main()
'''

LINE_ATTACK = PROG.split("\n").index("    r = attack(what, target)") + 1
LINE_PRINT = PROG.split("\n").index('    print(what, "done", r >= 0)') + 1

BLOCKED = re.compile(r"^\*\*\* p: the replayed program tried (\w+) \(a system call the sandbox "
                     r"does not allow\) after event (\d+): the engine was stopped; "
                     r"--no-sandbox runs it without the sandbox; the log shows: main\(\) at "
                     r".*prog\.py:%d$" % LINE_PRINT, re.M)


@unittest.skipUnless(platform.machine() == "x86_64", "the program's system calls are x86-64's")
class SandboxTest(rwtest.TestCase):
    def setUp(self):
        super().setUp()
        self.prog = self.write("prog.py", PROG)

    def record_attack(self, what, target):
        rec = self.record(self.prog, [what, target])
        self.assertEqual(rec.returncode, 0, rec.stderr)
        self.assertEqual(rec.stdout, f"{what} done True\n")
        return rec

    def replay(self, trace, *cmds, sandbox=True):
        argv = ["replay", "--at", f"prog.py:{LINE_PRINT}"]
        if not sandbox:
            argv.append("--no-sandbox")
        for c in cmds:
            argv += ["-x", c]
        out = rwtest.run([rwtest.rewind_bin(), *argv, "-x", "q", trace], cwd=self.tmp)
        return out.stdout + out.stderr

    def assert_blocked(self, out, call):
        m = BLOCKED.search(out)
        self.assertIsNotNone(m, out)
        self.assertEqual(m.group(1), call, out)
        return int(m.group(2))

    def assert_in_attack(self, trace, pos):
        """The event a blocked call came after is one of attack()'s (its call included,
        its return not: the call was made in between)."""
        evs = [e for e in rwtest.events(trace) if e.get("func") == "attack"]
        call = [e["pos"] for e in evs if e["kind"] == "call"]
        ret = [e["pos"] for e in evs if e["kind"] == "return"]
        self.assertEqual((len(call), len(ret)), (1, 1), evs)
        self.assertTrue(call[0] <= pos < ret[0], (call, pos, ret))

    def test_open_and_write(self):
        path = os.path.join(self.tmp, "made.txt")
        rec = self.record_attack("open", path)
        with open(path) as f:
            self.assertEqual(f.read(), "written\n")   # the recording wrote it
        with open(path, "w") as f:
            f.write("mine\n")
        out = self.replay(rec.trace, "p after")
        self.assert_in_attack(rec.trace, self.assert_blocked(out, "openat"))
        with open(path) as f:
            self.assertEqual(f.read(), "mine\n")      # neither truncated nor written
        os.remove(path)
        out = self.replay(rec.trace, "p after")
        self.assert_blocked(out, "openat")
        self.assertFalse(os.path.exists(path))       # nor created
        out = self.replay(rec.trace, "p after", sandbox=False)
        self.assertIn("\n8\n", "\n" + out, out)      # write() returned 8
        with open(path) as f:
            self.assertEqual(f.read(), "written\n")

    def test_unlink(self):
        path = self.write("victim.txt", "victim\n")
        rec = self.record_attack("unlink", path)
        self.assertFalse(os.path.exists(path))
        self.write("victim.txt", "fresh\n")
        # Before the call values come as usual; the call stops the engine; the log-only
        # commands go on (where), and an evaluation that makes the call is stopped in its
        # fork while the engine goes on.
        out = self.replay(rec.trace, "p after", "where", "up", "p before")
        self.assert_in_attack(rec.trace, self.assert_blocked(out, "unlinkat"))
        self.assertIn(f"prog.py({LINE_PRINT})main()", out)
        with open(path) as f:
            self.assertEqual(f.read(), "fresh\n")
        out = rwtest.run([rwtest.rewind_bin(), "replay", "--at", f"prog.py:{LINE_ATTACK}",
                          "-x", "p before", "-x", f"p attack('unlink', {path!r})",
                          "-x", "p before + 1", "-x", "q", rec.trace], cwd=self.tmp)
        self.assertEqual(out.stdout.splitlines()[-3:],
                         ["41",
                          "*** the evaluation tried unlinkat, a system call the sandbox does "
                          "not allow: it was stopped (--no-sandbox runs it without the "
                          "sandbox)",
                          "42"], out.stdout + out.stderr)
        with open(path) as f:
            self.assertEqual(f.read(), "fresh\n")
        out = self.replay(rec.trace, "p after", sandbox=False)
        self.assertIn("\n0\n", "\n" + out, out)
        self.assertFalse(os.path.exists(path))
        self.assertIn("--no-sandbox", rwtest.rewind("replay", "--help").stdout)

    def test_unlink_with_sigsys_blocked(self):
        # The kernel then kills the engine with SIGSYS: no name, but still said.
        path = self.write("victim.txt", "victim\n")
        rec = self.record_attack("unlink-sigsys-blocked", path)
        self.assertFalse(os.path.exists(path))
        self.write("victim.txt", "fresh\n")
        out = self.replay(rec.trace, "p after")
        self.assertIn("*** p: the replayed program made a system call the sandbox does not "
                      "allow, with SIGSYS blocked (its name could not be reported): the "
                      "engine was stopped; --no-sandbox runs it without the sandbox", out)
        self.assertTrue(os.path.exists(path))

    def test_exec(self):
        path = os.path.join(self.tmp, "touched")
        rec = self.record_attack("exec", path)
        self.assertTrue(os.path.exists(path))        # /bin/touch ran
        os.remove(path)
        out = self.replay(rec.trace, "p after")
        self.assert_in_attack(rec.trace, self.assert_blocked(out, "execve"))
        self.assertFalse(os.path.exists(path))
        out = self.replay(rec.trace, "p after", sandbox=False)
        self.assertTrue(os.path.exists(path), out)

    def listener(self):
        srv = socket.socket()
        self.addCleanup(srv.close)
        srv.bind(("127.0.0.1", 0))
        srv.listen(8)
        return srv

    def accepted(self, srv):
        """How many connections are waiting on srv (each accepted and closed)."""
        n = 0
        while select.select([srv], [], [], 0)[0]:
            conn, _ = srv.accept()
            conn.close()
            n += 1
        return n

    def test_connect(self):
        srv = self.listener()
        port = str(srv.getsockname()[1])
        rec = self.record_attack("connect", port)
        self.assertEqual(self.accepted(srv), 1)       # the recording connected
        out = self.replay(rec.trace, "p after")
        # Its socket is not even made.
        self.assert_in_attack(rec.trace, self.assert_blocked(out, "socket"))
        self.assertEqual(self.accepted(srv), 0)
        out = self.replay(rec.trace, "p after", sandbox=False)
        self.assertIn("\n0\n", "\n" + out, out)
        self.assertEqual(self.accepted(srv), 1)

    def test_connect_descriptor_from_the_log(self):
        # The socket comes from the wrapper (answered from the log on replay, so there is
        # none): the connect itself is what the sandbox stops.
        srv = self.listener()
        rec = self.record_attack("connect-fd", str(srv.getsockname()[1]))
        self.assertEqual(self.accepted(srv), 1)
        out = self.replay(rec.trace, "p after")
        self.assert_in_attack(rec.trace, self.assert_blocked(out, "connect"))
        self.assertEqual(self.accepted(srv), 0)

    def test_datagram_to_an_address(self):
        # A datagram socket pair is refused (only connected types are made: an address
        # given to sendmsg, which the filter cannot read, would reach a named socket);
        # sendto is allowed on the engine's own sockets, never to an address.
        path = os.path.join(self.tmp, "d.sock")
        srv = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.addCleanup(srv.close)
        srv.bind(path)
        srv.setblocking(False)
        rec = self.record_attack("datagram", path)
        self.assertEqual(srv.recv(64), b"hello")
        out = self.replay(rec.trace, "p after")
        self.assert_in_attack(rec.trace, self.assert_blocked(out, "socketpair"))
        self.assertRaises(BlockingIOError, srv.recv, 64)
        out = self.replay(rec.trace, "p after", sandbox=False)
        self.assertIn("\n5\n", "\n" + out, out)
        self.assertEqual(srv.recv(64), b"hello")


class PrivateShmTest(rwtest.TestCase):
    def test_multiprocessing_locks_replay_in_the_sandbox(self):
        # sem_open makes its file in /dev/shm with glibc's own system calls (no wrapper
        # sees them): the sandbox gives the engine a private /dev/shm instead, so that a
        # program with multiprocessing's locks has its values.
        prog = self.write("mp.py", "import multiprocessing\n"
                                   "lock = multiprocessing.Lock()\n"
                                   "sem = multiprocessing.Semaphore(3)\n"
                                   "with lock:\n"
                                   "    sem.acquire()\n"
                                   "    a = sem.get_value()\n"
                                   "print(a)\n")
        rec = self.record(prog)
        self.assertEqual(rec.stdout, "2\n", rec.stderr)
        out = rwtest.run([rwtest.rewind_bin(), "replay", "--at", "mp.py:7", "-x", "p a",
                          "-x", "p sem.get_value(), lock.acquire(False)", "-x", "q", rec.trace],
                         cwd=self.tmp)
        self.assertEqual(out.stdout.splitlines(), ["2", "(2, True)"], out.stdout + out.stderr)


if __name__ == "__main__":
    unittest.main()

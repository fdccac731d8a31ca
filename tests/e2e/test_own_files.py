"""A recorded program does not see rewind's own files and descriptors (docs/recording.md,
"What the program sees").

rewind writes its trace (and its children's, and --until-fail's attempts') into the
current directory by default, which is often the directory the program lists: a test
runner collecting tests, importlib.metadata scanning sys.path[0], a program printing
its files. Without rewind those files do not exist, so listings of that directory leave
them out: the recorded run prints what a plain run prints, the replay serves the same
listing, and two attempts of `--until-fail` do not differ by the traces written between
them. Files of the user's that merely end in .rwd stay visible.

rewind's descriptors (the trace, the crash handler's) sit near the top of the descriptor
limit, so the program's own are numbered as without rewind, and a program that closes
every descriptor (a daemon, a test of os.closerange) does not close the trace.
"""

import os
import re
import time
import unittest

import rwtest

LISTER = """\
import glob, os, subprocess, sys

def show(who):
    print(who, sorted(os.listdir('.')), sorted(e.name for e in os.scandir('.')),
          sorted(glob.glob('*.rwd')), flush=True)

show('parent')
pid = os.fork()
if pid == 0:
    show('child')
    os._exit(0)
os.waitpid(pid, 0)
subprocess.run([sys.executable, '-c',
                'import os; print("sub", sorted(os.listdir(".")), flush=True)'])
show('after')
"""

# Fails on its third run: the count of runs is kept in a file of its own.
THIRD = """\
import os, sys
n = int(open('count').read()) + 1 if os.path.exists('count') else 1
open('count', 'w').write(str(n))
print(n, sorted(os.listdir('.')), flush=True)
sys.exit(3 if n == 3 else 0)
"""


class OwnTraces(rwtest.TestCase):
    def rewind_here(self, *args):
        return rwtest.run([rwtest.rewind_bin(), *args], cwd=self.tmp)

    def setUp(self):
        super().setUp()
        # The user's own files that end in .rwd: not a trace family of this run.
        for name in ("notes.rwd", "lister-1x.rwd", "lister.rwd.bak", "other-1.rwd"):
            self.write(name, "x")

    def test_listings_equal_a_plain_run(self):
        prog = self.write("lister.py", LISTER)
        plain = self.python(prog)
        self.assertEqual(plain.returncode, 0, plain.stderr)
        self.assertIn("other-1.rwd", plain.stdout)
        argv = [rwtest.rewind_bin(), "record", "-q", "lister.py"]
        rec = rwtest.run(argv, cwd=self.tmp)
        self.assertEqual(rec.returncode, 0, rec.stderr)
        # The default name, its forked child's and its subprocess's traces were all
        # in the directory while the program listed it.
        names = sorted(os.listdir(self.tmp))
        self.assertIn("lister-1.rwd", names)
        kids = [n for n in names if re.fullmatch(r"lister-1\.\d+\.rwd", n)]
        self.assertEqual(len(kids), 2, names)
        self.assertEqual(sorted(rec.stdout.splitlines()), sorted(plain.stdout.splitlines()))

        # The replay serves the listings the recording logged, and its output is the
        # recorded one.
        trace = os.path.join(self.tmp, "lister-1.rwd")
        out = rwtest.rewind("replay", "--values", "-x", "b 15", "-x", "c",
                            "-x", "p sorted(glob.glob('*.rwd'))", "-x", "c", trace).stdout
        self.assertIn("['lister-1x.rwd', 'notes.rwd', 'other-1.rwd']", out)
        self.assertNotIn("lister-1.rwd'", out)

    def test_a_named_trace_and_its_family(self):
        prog = self.write("lister.py", LISTER)
        plain = self.python(prog)
        rec = self.record(prog, trace="run.2.rwd", options=["-q"])
        self.assertEqual(rec.returncode, 0, rec.stderr)
        self.assertTrue(os.path.exists(os.path.join(self.tmp, "run.2.rwd")))
        self.assertEqual(sorted(rec.stdout.splitlines()), sorted(plain.stdout.splitlines()))

    def test_until_fail_attempts_see_the_same_directory(self):
        self.write("third.py", THIRD)
        argv = [rwtest.rewind_bin(), "record", "--until-fail", "5", "--keep", "all",
                "-o", "t.rwd", "third.py"]
        proc = rwtest.run(argv, cwd=self.tmp, timeout=300)
        self.assertEqual(proc.returncode, 3, proc.stderr)
        self.assertIn("rewind: attempt 3 of 5 failed", proc.stderr)
        # The failing attempt's output is shown: the traces of attempts 1 to 3 were
        # in the directory, and are not in its listing.
        listing = ["count", "lister-1x.rwd", "lister.rwd.bak", "notes.rwd",
                   "other-1.rwd", "third.py"]
        self.assertIn(f"3 {listing}", proc.stdout)
        self.assertEqual(sorted(n for n in os.listdir(self.tmp) if n.startswith("t.")),
                         ["t.1.rwd", "t.2.rwd", "t.3.rwd"])
        # Attempts 2 and 3 run the same events and end otherwise: the first input
        # that differs is the count read, not a listing nor the count file's times.
        diff = self.rewind_here("diff", "t.2.rwd", "t.3.rwd")
        self.assertEqual(diff.returncode, 1, diff.stdout + diff.stderr)
        self.assertRegex(diff.stdout, r"^no difference in \d+ events, but the runs ended "
                                      r"otherwise: t\.2\.rwd exit status 0, t\.3\.rwd exit "
                                      r"status 3\n")
        self.assertRegex(diff.stdout, r'  t\.2\.rwd: #\d+ at event \d+: read\(fd \d+\) = 1: '
                                      r'1 bytes "1"\n  t\.3\.rwd: #\d+ at event \d+: '
                                      r'read\(fd \d+\) = 1: 1 bytes "2"\n')
        js = rwtest.parse_json_output(
            self.rewind_here("diff", "--json", "t.2.rwd", "t.3.rwd").stdout)
        self.assertEqual(js["ends"], ["exit status 0", "exit status 3"])
        self.assertEqual([x["call"] for x in js["first_input_difference"]], ["read", "read"])
        # The same two runs' whole outcome equal: attempts 1 and 2 differ where the
        # count file is found (attempt 1 has none), as events.
        same = self.rewind_here("diff", "t.1.rwd", "t.2.rwd")
        self.assertEqual(same.returncode, 1, same.stdout)
        self.assertIn("part in thread 1", same.stdout)


CLOSER = """\
import os, sys

def work(n):
    return sum(i * i for i in range(n))

first = os.open('lister.rwd.bak', os.O_RDONLY)
r, w = os.pipe()
print('descriptors', first, r, w, flush=True)
high = os.dup2(first, 1015)  # above rewind's own: closed with the rest
os.closerange(3, 4096)
try:
    os.fstat(high)
    print('1015 still open', flush=True)
except OSError:
    print('1015 closed', flush=True)
for fd in range(3, 1100):
    try:
        os.close(fd)
    except OSError:
        pass
pid = os.fork()
if pid == 0:
    os.closerange(0, 65536)
    v = work(20000)
    os._exit(0 if v == 2666466670000 else 1)
_, status = os.waitpid(pid, 0)
total = work(30000)
print('done', status, total, flush=True)
"""


class OwnDescriptors(rwtest.TestCase):
    def test_numbers_and_closing_every_descriptor(self):
        self.write("lister.rwd.bak", "x")
        prog = self.write("closer.py", CLOSER)
        plain = self.python(prog)
        self.assertEqual(plain.returncode, 0, plain.stderr)
        rec = self.record(prog, options=["-q"])
        self.assertEqual(rec.returncode, 0, rec.stderr)
        # Numbered as without rewind (3, then the pipe's 4 and 5 in a run that
        # inherited nothing else), and the trace survived every close.
        self.assertEqual(rec.stdout, plain.stdout)
        self.assertEqual(rec.stderr, "")
        kids = [n for n in os.listdir(self.tmp) if re.fullmatch(r"trace\.\d+\.rwd", n)]
        self.assertEqual(len(kids), 1, os.listdir(self.tmp))
        for name in ("trace.rwd", kids[0]):
            ok = rwtest.rewind("verify", os.path.join(self.tmp, name), check=False)
            self.assertEqual(ok.returncode, 0, ok.stdout + ok.stderr)
            self.assertIn(": OK,", ok.stdout)
        # The replay takes the same path: the value after the closes is there.
        out = rwtest.rewind("replay", "--values", "-x", "b 28", "-x", "c",
                            "-x", "p total, status", rec.trace).stdout
        self.assertIn("(8999550005000, 0)", out)

    def test_the_program_sees_no_descriptor_of_rewind(self):
        # What the process has open, as a program looks (CPython's test_subprocess
        # fd_status.py fstats every number; others list /proc/self/fd or /dev/fd, or
        # ask fcntl): rewind's descriptors are not there, as without rewind.
        prog = self.write("fds.py", FDS)
        plain = self.python(prog)
        self.assertEqual(plain.returncode, 0, plain.stderr)
        rec = self.record(prog, options=["-q"])
        self.assertEqual((rec.stdout, rec.returncode), (plain.stdout, 0), rec.stderr)
        out = rwtest.rewind("replay", "--values", "-x", "goto @main-end", "-x",
                            "p listed == stat == fcntl_ok, stat", rec.trace).stdout
        self.assertIn("(True, " + plain.stdout.split(" ", 1)[1].strip() + ")", out)

    @unittest.skipUnless(hasattr(os, "geteuid") and os.geteuid() == 0, "needs root")
    def test_a_child_that_cannot_write_its_trace(self):
        # subprocess's user= (CPython's test_subprocess test_user): the child runs as
        # nobody, who cannot create its trace here. It runs unrecorded, as without
        # rewind, and says so on stderr, instead of failing.
        prog = self.write("asuser.py", ASUSER)
        plain = self.python(prog)
        self.assertEqual(plain.returncode, 0, plain.stderr)
        rec = self.record(prog, options=["-q"])
        self.assertEqual((rec.stdout, rec.returncode), (plain.stdout, 0), rec.stderr)
        self.assertIn("this child process runs unrecorded", rec.stderr)
        self.assertEqual(rec.stderr.count("\n"), 1, rec.stderr)


ASUSER = """\
import subprocess, sys
out = subprocess.check_output([sys.executable, "-c", "import os; print(os.getuid())"],
                              user=65534)
print("child uid", out.decode().strip())
"""


FDS = """\
import fcntl, os
listed = sorted(int(n) for n in os.listdir("/proc/self/fd"))
dev = sorted(int(n) for n in os.listdir("/dev/fd"))
stat = []
fcntl_ok = []
for fd in range(1024):
    try:
        os.fstat(fd)
        stat.append(fd)
    except OSError:
        pass
    try:
        fcntl.fcntl(fd, fcntl.F_GETFD)
        fcntl_ok.append(fd)
    except OSError:
        pass
# The listings include the descriptor of the listing itself (3, closed by now).
listed.remove(3)
dev.remove(3)
print(listed == dev == stat == fcntl_ok, stat)
"""


# The child's output goes elsewhere: the test reads the parent's to its end.
OUTLIVES = """\
import subprocess, sys
subprocess.Popen([sys.executable, '-c', 'import time; time.sleep({secs}); '
                  'open("child-done", "w").close()'],
                 stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
print('parent done', flush=True)
"""


FORKS = """\
import os, time
t0 = time.monotonic()
for i in range(8):
    pid = os.fork()
    if pid == 0:
        os._exit(3)
    os.waitpid(pid, 0)
print(round(time.monotonic() - t0))
"""


class OwnName(rwtest.TestCase):
    def test_the_process_is_named_as_python3_names_it(self):
        # The kernel's name of the process and of its threads (/proc comm: ps, top,
        # psutil's Process().name()) is the interpreter's file name, as under python3;
        # the build before showed "exe" (rewind executes itself through /proc/self/exe).
        self.write("name.py", "import threading\n"
                   "print(open('/proc/self/comm').read().strip())\n"
                   "t = threading.Thread(target=lambda: print(open('/proc/thread-self/comm')"
                   ".read().strip()))\nt.start(); t.join()\n")
        want = self.python("name.py")
        got = self.record("name.py", options=["-q"])
        self.assertEqual((got.returncode, got.stdout), (0, want.stdout), got.stderr)


class FamilyEnd(rwtest.TestCase):
    """The first `rewind record` returns when the traces of the programs it started
    are whole (docs/recording.md, "The end of a family")."""

    def test_only_the_first_recording_waits(self):
        """A forked child inherits both ends of the family pipe; it must not wait for
        its parent and siblings (it did: 5 s at each child's end, test_threading's
        test_is_alive_after_fork took 100 s). The bound is half of one wait per child:
        a child that waits cannot meet it, one that does not takes milliseconds."""
        self.write("forks.py", FORKS)
        rec = self.record("forks.py")
        self.assertEqual(rec.returncode, 0, rec.stderr)
        self.assertLess(int(rec.stdout), 8 * 5 / 2, rec.stdout)
        kids = [n for n in os.listdir(self.tmp) if re.fullmatch(r"trace\.\d+\.rwd", n)]
        self.assertEqual(len(kids), 8, os.listdir(self.tmp))

    def test_a_subprocess_that_outlives_its_parent(self):
        self.write("outlives.py", OUTLIVES.format(secs=1))
        rec = self.record("outlives.py")
        self.assertEqual(rec.returncode, 0, rec.stderr)
        self.assertNotIn("still run", rec.stderr)
        self.assertTrue(os.path.exists(os.path.join(self.tmp, "child-done")))
        kids = [n for n in os.listdir(self.tmp) if re.fullmatch(r"trace\.\d+\.rwd", n)]
        self.assertEqual(len(kids), 1, os.listdir(self.tmp))
        ok = rwtest.rewind("verify", os.path.join(self.tmp, kids[0]), check=False)
        self.assertEqual(ok.returncode, 0, ok.stdout + ok.stderr)

    def test_a_subprocess_that_runs_on_is_named(self):
        self.write("outlives.py", OUTLIVES.format(secs=8))
        rec = self.record("outlives.py")
        self.assertEqual(rec.returncode, 0, rec.stderr)
        self.assertIn("rewind: Python programs this run started still run after 5 s: their "
                      f"traces (rewind info {rec.trace} lists them) are whole when they end",
                      rec.stderr)
        self.assertFalse(os.path.exists(os.path.join(self.tmp, "child-done")))
        for _ in range(300):
            if os.path.exists(os.path.join(self.tmp, "child-done")):
                break
            time.sleep(0.05)
        kids = [n for n in os.listdir(self.tmp) if re.fullmatch(r"trace\.\d+\.rwd", n)]
        self.assertEqual(len(kids), 1, os.listdir(self.tmp))
        for _ in range(100):  # the child's recording closes its trace after its last line
            ok = rwtest.rewind("verify", os.path.join(self.tmp, kids[0]), check=False)
            if ok.returncode == 0:
                break
            time.sleep(0.05)
        self.assertEqual(ok.returncode, 0, ok.stdout + ok.stderr)


if __name__ == "__main__":
    unittest.main()

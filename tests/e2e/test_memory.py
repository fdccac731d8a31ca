"""rewind memory against tracemalloc on the same deterministic program.

progs_memory/allocs.py is run twice: under `python3 -X tracemalloc=25`, where it dumps
a snapshot taken at its line marked SNAPSHOT, and under `rewind record`, where
`rewind memory --at allocs.py:LINE` takes the snapshot at the same line. Both sides
are filtered with Filter(True, <program file>): tracemalloc's run traces interpreter
start-up and its own import machinery, which the recording (started just before user
code) does not, so only the program's own lines are comparable. Lines after the
marked one are left out (the tracemalloc run takes its snapshot while that line
runs; `--at` is the state before it).
"""

import collections
import os
import re
import unittest

import rwtest

PROGS = os.path.join(rwtest.HERE, "progs_memory")
STAT_RE = re.compile(r"^(.*):(\d+): size=(.*), count=(\d+)(?:, average=.*)?$")

# Blocks reused from free lists are recorded (docs/memory.md, "Fidelity"), so every
# line of allocs.py is exact, but for the list that take_snapshot() itself takes off
# the list free list (cause 5 there: one line may have one 56-byte block more). A
# class statement is exact too: the int made from the class's address has one digit
# on both sides (cause 4, fixed).
NOISE_BLOCKS = 0
NOISE_SIZE = 0


def plain(argv):
    """argv of a plain python3 run without address-space randomisation when the kernel
    allows it (setarch -R): with it, python3's brk heap starts anywhere in the first GiB
    after the executable, and about one run in a hundred puts a class above 2^30, where
    the int made from its address has two digits (32 bytes, not 28)."""
    if rwtest.run(["setarch", "-R", "true"]).returncode == 0:
        return ["setarch", "-R", *argv]
    return argv


def snapshot_line(path):
    with open(path) as f:
        for n, line in enumerate(f, 1):
            if "# SNAPSHOT" in line:
                return n
    raise AssertionError(f"{path}: no line marked SNAPSHOT")


def tracemalloc_stats(pickle_path, progfile, before_line, key="lineno", loader=None):
    """{(file, line): (size, count)} of a dumped snapshot, via tracemalloc itself."""
    code = (
        "import sys, tracemalloc\n"
        "s = tracemalloc.Snapshot.load(sys.argv[1])\n"
        "s = s.filter_traces([tracemalloc.Filter(True, sys.argv[2])])\n"
        "for st in s.statistics(sys.argv[3]):\n"
        "    f = st.traceback[0]\n"
        "    print(f.filename, f.lineno, st.size, st.count, str(st), sep='\\t')\n"
    )
    out = rwtest.run([rwtest.python_bin(), "-c", code, pickle_path, progfile, key],
                     check=True).stdout
    stats, lines = {}, []
    for row in out.splitlines():
        fname, lineno, size, count, text = row.split("\t")
        if int(lineno) < before_line:
            stats[(fname, int(lineno))] = (int(size), int(count))
            lines.append(text)
    return stats, lines


class MemoryVsTracemalloc(rwtest.TestCase):

    @classmethod
    def setUpClass(cls):
        import tempfile
        import shutil
        cls.dir = tempfile.mkdtemp(prefix="rewind-mem-")
        cls.addClassCleanup(shutil.rmtree, cls.dir, ignore_errors=True)
        cls.prog = os.path.join(cls.dir, "allocs.py")
        shutil.copyfile(os.path.join(PROGS, "allocs.py"), cls.prog)
        cls.line = snapshot_line(cls.prog)
        cls.tm_pickle = os.path.join(cls.dir, "tm.pickle")
        rwtest.run(plain([rwtest.python_bin(), "-X", "tracemalloc=25", cls.prog,
                          cls.tm_pickle]), cwd=cls.dir, check=True)
        cls.rec = rwtest.record(cls.prog, cwd=cls.dir)
        if cls.rec.returncode != 0:
            raise AssertionError(f"rewind record failed: {cls.rec.stderr}")

    def memory(self, *args, check=True):
        return rwtest.rewind("memory", self.rec.trace, *args, check=check)

    def our_stats(self, *extra):
        out = self.memory("--at", f"allocs.py:{self.line}", "--filter", self.prog,
                          "-n", "0", *extra).stdout
        stats, lines = {}, []
        for row in out.splitlines():
            m = STAT_RE.match(row)
            if m:
                lines.append(row)
        return out, lines

    def test_lineno_statistics_equal_tracemalloc(self):
        ours_pickle = os.path.join(self.dir, "ours.pickle")
        out, printed = self.our_stats("-o", ours_pickle)
        theirs, _ = tracemalloc_stats(self.tm_pickle, self.prog, self.line)
        ours, _ = tracemalloc_stats(ours_pickle, self.prog, self.line)
        self.assertEqual(set(ours), set(theirs), out)
        moved = 0
        with open(self.prog) as f:
            source = f.read().splitlines()
        for key in theirs:
            (ts, tc), (os_, oc) = theirs[key], ours[key]
            if (os_ - ts, oc - tc) == (SNAPSHOT_LIST, 1) and not moved:
                moved = 1
                continue
            self.assertLessEqual(abs(tc - oc), NOISE_BLOCKS, f"{key}: {theirs[key]} vs {ours[key]}")
            self.assertLessEqual(abs(ts - os_), NOISE_BLOCKS * NOISE_SIZE,
                                 f"{key}: {theirs[key]} vs {ours[key]}")
        # The big allocations are exact: 10,000 points, 2,000 dict entries, the
        # bytearrays of known sizes, the kept half.
        top = sorted(theirs, key=lambda k: -theirs[k][0])[:4]
        for key in top:
            self.assertAlmostEqual(ours[key][0], theirs[key][0], delta=SNAPSHOT_LIST, msg=key)
        big = [k for k in theirs if theirs[k][0] > 1_000_000]
        self.assertEqual(len(big), 2)  # the points and the bytearrays

    def test_pickle_loads_and_matches_printed_statistics(self):
        ours_pickle = os.path.join(self.dir, "ours2.pickle")
        out, printed = self.our_stats("-o", ours_pickle)
        _, loaded = tracemalloc_stats(ours_pickle, self.prog, 1 << 30)
        self.assertEqual(printed, loaded)
        self.assertIn("Traced memory: current", out)

    def test_bytearrays_exact(self):
        out = self.memory("--at", f"allocs.py:{self.line}", "--group-by", "traceback",
                          "-n", "0", "--filter", self.prog).stdout
        code = (
            "import sys, tracemalloc\n"
            "s = tracemalloc.Snapshot.load(sys.argv[1])\n"
            "print(sorted(t.size for t in s.traces if t.size in "
            "(101, 1001, 10001, 100001, 1000001) or t.size >= 100000))\n"
        )
        theirs = rwtest.run([rwtest.python_bin(), "-c", code, self.tm_pickle], check=True).stdout
        mine = os.path.join(self.dir, "b.pickle")
        self.memory("--at", f"allocs.py:{self.line}", "-o", mine)
        ours = rwtest.run([rwtest.python_bin(), "-c", code, mine], check=True).stdout
        self.assertEqual(ours, theirs)
        self.assertIn('  File "%s", line' % self.prog, out)

    def test_traceback_limit_and_total_nframe(self):
        code = (
            "import sys, tracemalloc\n"
            "s = tracemalloc.Snapshot.load(sys.argv[1])\n"
            "print(s.traceback_limit, max(len(t.traceback) for t in s.traces),\n"
            "      max(t.traceback.total_nframe for t in s.traces\n"
            "          if t.traceback[-1].filename == sys.argv[2]))\n"
        )
        mine = os.path.join(self.dir, "l.pickle")
        self.memory("--at", f"allocs.py:{self.line}", "-o", mine, "--filter", self.prog)
        ours = rwtest.run([rwtest.python_bin(), "-c", code, mine, self.prog], check=True).stdout
        self.assertEqual(ours.split()[:2], ["25", "25"])
        self.assertGreaterEqual(int(ours.split()[2]), 31)  # nested(30) + module
        self.memory("--at", f"allocs.py:{self.line}", "-o", mine, "--limit-frames", "3")
        ours = rwtest.run([rwtest.python_bin(), "-c", code, mine, self.prog], check=True).stdout
        self.assertEqual(ours.split()[:2], ["3", "3"])

    def test_compare_to(self):
        out = self.memory("--at", f"allocs.py:{self.line}", "--compare-to",
                          f"allocs.py:{self.line - 1}", "--filter", self.prog, "-n", "3").stdout
        rows = [r for r in out.splitlines() if " (+" in r or " (-" in r]
        self.assertTrue(rows, out)
        # deep = nested(30) ran between the two: 50 bytes objects of 97..146 bytes.
        self.assertRegex(rows[0], r"allocs\.py:\d+: size=6\d\d\d B \(\+6\d\d\d B\), "
                                  r"count=5\d \(\+5\d\), average=1\d\d B")

    def test_timeline_and_plot(self):
        svg = os.path.join(self.dir, "m.svg")
        out = self.memory("--timeline", "--plot", svg).stdout
        self.assertIn("Current traced memory over time", out)
        self.assertGreaterEqual(sum(1 for r in out.splitlines() if " |" in r), 15)
        with open(svg) as f:
            text = f.read()
        self.assertTrue(text.startswith("<?xml") and "<polyline" in text and
                        text.rstrip().endswith("</svg>"))

    def test_peak(self):
        out = self.memory("--at", "@peak").stdout
        m = re.search(r"current (\d+) B .*, peak (\d+) B", out)
        self.assertIsNotNone(m, out)
        self.assertEqual(m.group(1), m.group(2))  # the instant of the peak

    def test_bad_input(self):
        for args, status in ((["--at", "nowhere"], 2), (["--at", "999999999999"], 1),
                             (["--group-by", "size"], 2), (["--bogus"], 2),
                             (["--cumulative", "--group-by", "traceback"], 2),
                             (["--limit-frames", "0"], 2), (["--thread", "99"], 1),
                             (["--traced-since", "bogus"], 2),
                             (["--traced-since", "allocs.py:99999"], 1)):
            p = self.memory(*args, check=False)
            self.assertEqual(p.returncode, status, (args, p.stderr))
            self.assertEqual(len(p.stderr.strip().splitlines()), 1, (args, p.stderr))
            self.assertTrue(p.stderr.startswith("rewind memory: "), p.stderr)
        p = rwtest.rewind("memory", os.path.join(self.dir, "missing.rwd"), check=False)
        self.assertEqual(p.returncode, 1)
        p = rwtest.rewind("memory", "--help")
        self.assertIn("usage: rewind memory", p.stdout)


# ---- per-line equality with tracemalloc on real code (docs/memory.md, "Fidelity") ----

# The line of tracemalloc.take_snapshot() that makes the list of traces
# (_get_traces()): that list comes off the list free list when it has one, and
# tracemalloc then gives it take_snapshot's traceback, so one list that a program
# line had in the plain run moves to tracemalloc.py just as the snapshot is taken.
SNAPSHOT_LIST = 56


def snapshot_list_line():
    import inspect
    import tracemalloc
    src, first = inspect.getsourcelines(tracemalloc.take_snapshot)
    for i, text in enumerate(src):
        if "_get_traces()" in text:
            return tracemalloc.__file__, first + i
    raise AssertionError("tracemalloc.take_snapshot no longer calls _get_traces()")


def startup_files():
    """Files that python3 -X tracemalloc has traces of before a program's first line:
    their lines mix start-up blocks (which a recording, started just before user
    code, never sees) with the program's, so they are not compared."""
    code = ("import sys, tracemalloc\n"
            "s = tracemalloc.take_snapshot()\n"
            "print('\\n'.join(sorted({t.traceback[0].filename for t in s.traces})))\n")
    out = rwtest.run([rwtest.python_bin(), "-X", "tracemalloc=1", "-c", code],
                     check=True).stdout
    return set(out.splitlines()) | {"<unknown>", "<string>"}


def blocks_by_line(pickle_path):
    """{(file, line): {size: count}} of a snapshot, by the most recent frame."""
    code = (
        "import collections, json, sys, tracemalloc\n"
        "d = collections.defaultdict(collections.Counter)\n"
        "for t in tracemalloc.Snapshot.load(sys.argv[1]).traces:\n"
        "    f = t.traceback[-1]\n"
        "    d[f.filename + ':' + str(f.lineno)][t.size] += 1\n"
        "print(json.dumps(d))\n"
    )
    import collections
    import json
    out = rwtest.run([rwtest.python_bin(), "-c", code, pickle_path], check=True).stdout
    res = {}
    for key, sizes in json.loads(out).items():
        f, _, line = key.rpartition(":")
        res[(f, int(line))] = collections.Counter({int(k): v for k, v in sizes.items()})
    return res


def explained(tm, rw):
    """Why the blocks of one line differ, or None when nothing documented explains it.
    tm and rw are {size: count}."""
    only_tm, only_rw = tm - rw, rw - tm
    if not only_tm and not only_rw:
        return "equal"
    if not only_tm and only_rw == {SNAPSHOT_LIST: 1}:
        return "snapshot list"
    return None


class MemoryEqualsTracemallocOnRealCode(rwtest.TestCase):
    """Each program takes tracemalloc.take_snapshot() at its line marked SNAPSHOT when
    run as python3 -X tracemalloc=1; its recording (a run without tracemalloc) is asked
    for `rewind memory --at FILE:LINE` of that line, and the blocks of every line
    (size and count, by the most recent frame) must be equal, but for the documented
    causes in explained()."""

    @classmethod
    def setUpClass(cls):
        import shutil
        import tempfile
        cls.dir = tempfile.mkdtemp(prefix="rewind-memeq-")
        cls.addClassCleanup(shutil.rmtree, cls.dir, ignore_errors=True)
        cls.startup = startup_files()
        cls.snap_line = snapshot_list_line()

    def both(self, prog, *args, at=None):
        path = os.path.join(self.dir, prog)
        shutil_copy(os.path.join(PROGS, prog), path)
        line = snapshot_line(path)
        tm_pickle = os.path.join(self.dir, prog + ".tm.pickle")
        p = rwtest.run(plain([rwtest.python_bin(), "-X", "tracemalloc=1", path, *args,
                              tm_pickle]), cwd=self.dir)
        self.assertEqual(p.returncode, 0, p.stderr)
        rec = rwtest.record(path, [*args, "unused"], trace=prog + ".rwd", cwd=self.dir)
        self.assertEqual(rec.returncode, 0, rec.stderr)
        rw_pickle = os.path.join(self.dir, prog + ".rw.pickle")
        rwtest.rewind("memory", rec.trace, "--at", at or f"{prog}:{line}",
                      "--limit-frames", "1", "-o", rw_pickle, check=True)
        return path, rec, blocks_by_line(tm_pickle), blocks_by_line(rw_pickle)

    def check_lines(self, tm, rw, lines):
        why = {}
        for key in lines:
            why[key] = explained(tm.get(key, collections.Counter()),
                                 rw.get(key, collections.Counter()))
        bad = {k: (dict(tm.get(k, {})), dict(rw.get(k, {}))) for k, w in why.items() if not w}
        self.assertEqual(bad, {}, "lines whose blocks differ (tracemalloc, rewind)")
        moved = sum(1 for w in why.values() if w == "snapshot list")
        had = tm.get(self.snap_line, collections.Counter())[SNAPSHOT_LIST]
        self.assertLessEqual(moved, min(had, 1))
        return why

    def program_lines(self, path, tm, rw):
        lines = {k for k in set(tm) | set(rw) if k[0] == path}
        self.assertGreater(len(lines), 3)
        return lines

    def test_lru_cache_clear(self):
        path, rec, tm, rw = self.both("lru_clear.py")
        self.check_lines(tm, rw, self.program_lines(path, tm, rw))
        # The lists made after cache_clear() are on the list comprehension's line.
        with open(path) as f:
            line = next(n for n, t in enumerate(f, 1) if t.startswith("kept ="))
        self.assertEqual(tm[(path, line)], rw[(path, line)])

    def test_generator_expressions(self):
        path, rec, tm, rw = self.both("genexpr.py")
        why = self.check_lines(tm, rw, self.program_lines(path, tm, rw))
        self.assertEqual(set(why.values()), {"equal"})
        # The default position (the end of the main module's code, here right after
        # the marked line) gives the same blocks.
        default = os.path.join(self.dir, "default.pickle")
        out = rwtest.rewind("memory", rec.trace, "--limit-frames", "1", "-o", default,
                            check=True).stdout
        self.assertIn("(@main-end)", out)
        self.assertEqual({k: v for k, v in blocks_by_line(default).items() if k[0] == path},
                         {k: v for k, v in rw.items() if k[0] == path})

    def test_frame_objects_a_plain_run_makes(self):
        # Tracing mode's frame objects are not in the trace; the ones python3 makes
        # (sys._getframe, a traceback, the warnings module, PyFrame_New) are, where
        # python3 makes them (docs/memory.md, cause 3).
        path, rec, tm, rw = self.both("frames_made.py")
        why = self.check_lines(tm, rw, self.program_lines(path, tm, rw))
        self.assertLessEqual(set(why.values()), {"equal", "snapshot list"})
        with open(path) as f:
            src = [t.strip() for t in f]

        def blocks(text):
            return sum(tm[(path, src.index(text) + 1)].values())

        self.assertEqual(blocks("return sys._getframe()"), 30)
        self.assertEqual(blocks("return sys._getframe(1)"), 20)
        self.assertGreaterEqual(blocks("raise KeyError(n)"), 10)
        self.assertGreaterEqual(blocks("made = [new_frame(tstate(), here.__code__, globals(), "
                                       "None) for _ in range(15)]"), 15)

    def check_module(self, module, top=40):
        path, rec, tm, rw = self.both("run_unittest.py", module)
        comparable = {k for k in set(tm) | set(rw)
                      if k[0] not in self.startup and k != self.snap_line}
        biggest = sorted(comparable, key=lambda k: -sum(s * n for s, n in
                                                        tm.get(k, {}).items()))[:top]
        why = self.check_lines(tm, rw, biggest)
        # Most of the biggest lines are class statements (the int made from a class's
        # address included); the test module's own lines are among them.
        self.assertEqual(len(why), top)
        self.assertTrue(any(k[0].endswith(module.replace(".", "/") + ".py") for k in comparable))

    def test_cpython_test_bisect(self):
        self.check_module("test.test_bisect")

    def test_cpython_test_textwrap(self):
        self.check_module("test.test_textwrap")

    def test_cpython_test_shlex(self):
        self.check_module("test.test_shlex")


class TracedSincePosition(rwtest.TestCase):
    """`--traced-since FILE:LINE` against a plain run that calls tracemalloc.start() on
    that line (progs_memory/started_here.py): the blocks allocated before it, and their
    reuses off the free lists, stay untraced on both sides (docs/memory.md, "When
    tracemalloc started")."""

    def test_equal_to_a_run_that_starts_tracemalloc_there(self):
        import shutil
        import tempfile
        tmp = tempfile.mkdtemp(prefix="rewind-memsince-")
        self.addCleanup(shutil.rmtree, tmp, ignore_errors=True)
        path = os.path.join(tmp, "started_here.py")
        shutil_copy(os.path.join(PROGS, "started_here.py"), path)
        with open(path) as f:
            src = f.read().splitlines()
        start = next(n for n, t in enumerate(src, 1) if t.endswith("# START"))
        snap = snapshot_line(path)
        # The files each run leaves go elsewhere: the program's directory is listed by
        # its imports (importlib's FileFinder keeps the names), and must be the same.
        outdir = os.path.join(tmp, "out")
        os.mkdir(outdir)
        tm_pickle = os.path.join(outdir, "tm.pickle")
        rwtest.run(plain([rwtest.python_bin(), path, tm_pickle]), cwd=tmp, check=True)
        rec = rwtest.record(path, ["-"], trace=os.path.join(outdir, "since.rwd"), cwd=tmp)
        self.assertEqual(rec.returncode, 0, rec.stderr)

        def ours(since):
            out = os.path.join(outdir, f"rw-{since.replace(':', '_')}.pickle")
            rwtest.rewind("memory", rec.trace, "--at", f"started_here.py:{snap}",
                          "--traced-since", since, "--limit-frames", "1", "-o", out,
                          check=True)
            return blocks_by_line(out)

        tm, rw = blocks_by_line(tm_pickle), ours(f"started_here.py:{start}")
        differ = {k: (dict(tm.get(k, {})), dict(rw.get(k, {})))
                  for k in set(tm) | set(rw) if tm.get(k) != rw.get(k)}
        # Every line of the program: the lists, tuples, dicts and floats made before
        # START and reused after it are untraced on both sides.
        self.assertEqual({k: v for k, v in differ.items() if k[0] == path}, {})
        self.assertGreater(len([k for k in tm if k[0] == path]), 8)
        # Elsewhere (every file: importlib's lines, collections, functools), a few
        # small strings at most, on both sides of two or three lines (not
        # established: names that CPython's type attribute cache keeps alive, or
        # strings interned before; plain runs differ from each other at importlib's
        # FileFinder line too).
        self.assertLessEqual(len(differ), 4, differ)
        for k, (a, b) in differ.items():
            extra = collections.Counter(a) - collections.Counter(b)
            extra += collections.Counter(b) - collections.Counter(a)
            self.assertLessEqual(sum(extra.values()), 8, (k, a, b))
            self.assertTrue(all(size <= 160 for size in extra), (k, a, b))
        self.assertGreater(len(tm), 300)
        # From the program's start (its CALL, before START) the blocks made before
        # START count: the program's own line 14 is in it, and not in the plain run.
        early = next(n for n, t in enumerate(src, 1) if t.startswith("early = "))
        self.assertNotIn((path, early), tm)
        self.assertIn((path, early), ours("program"))
        p = rwtest.rewind("memory", rec.trace, "--traced-since", "nowhere.py:3", check=False)
        self.assertEqual(p.returncode, 1, p.stderr)
        self.assertEqual(len(p.stderr.strip().splitlines()), 1, p.stderr)
        self.assertIn("--traced-since", p.stderr)


class MainEndPosition(rwtest.TestCase):
    """The default position of `rewind memory` is @main-end: the main module's
    RETURN, before atexit handlers and finalisation (docs/memory.md, "Positions")."""

    def main_end(self, rec, path_suffix):
        evs = rwtest.events(rec.trace, "--kinds", "call,return", "--thread", "1")
        rets = [e for e in evs if e["kind"] == "return" and e["func"] == "<module>"
                and (e["file"] or "").endswith(path_suffix)]
        self.assertTrue(rets, evs[-5:])
        return rets[0]["pos"]

    def check(self, rec, path_suffix):
        self.assertEqual(rec.returncode, 0, rec.stderr)
        out = rwtest.rewind("memory", rec.trace, "-n", "1").stdout
        m = re.search(r"Snapshot at position (\d+) \(@main-end\)", out)
        self.assertIsNotNone(m, out)
        self.assertEqual(int(m.group(1)), self.main_end(rec, path_suffix))
        end = rwtest.rewind("memory", rec.trace, "--at", "@end", "-n", "1").stdout
        n = int(re.search(r"of (\d+) events", end).group(1))
        self.assertIn(f"Snapshot at position {n} (@end)", end)
        self.assertLess(int(m.group(1)), n)  # the atexit handler runs after it

    def test_script(self):
        prog = self.write("prog.py", "import atexit\natexit.register(lambda: [0] * 9)\n"
                                     "keep = [[i] for i in range(100)]\n")
        self.check(self.record(prog), "prog.py")

    def test_module(self):
        self.write("modmain.py", "import atexit\natexit.register(print, 'bye')\n"
                                 "keep = [[i] for i in range(100)]\n")
        self.check(self.record(["-m", "modmain"]), "modmain.py")

    def test_command(self):
        self.check(self.record(["-c", "import atexit; atexit.register(print, 1)\nx = 2"]),
                   "<string>")


def shutil_copy(src, dst):
    import shutil
    shutil.copyfile(src, dst)


def sanitized():
    """True when the rewind under test is an ASan build (its shadow memory makes RSS
    meaningless)."""
    with open(rwtest.rewind_bin(), "rb") as f:
        data = f.read()
    return b"__asan_init" in data or b"__ubsan_handle" in data


def max_rss_of(argv):
    """Maximum resident set size, in bytes, of argv run alone: measured in a fresh
    Python child so that RUSAGE_CHILDREN sees that one process only."""
    code = (
        "import resource, subprocess, sys\n"
        "p = subprocess.run(sys.argv[1:], stdout=subprocess.PIPE, stderr=subprocess.PIPE)\n"
        "sys.stdout.write(p.stdout.decode(errors='replace'))\n"
        "sys.stderr.write('MAXRSS %d %d\\n' % (p.returncode,\n"
        "                 resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss))\n"
    )
    p = rwtest.run([rwtest.python_bin(), "-c", code, *argv], check=True)
    m = re.search(r"MAXRSS (-?\d+) (\d+)", p.stderr)
    assert m, p.stderr
    return int(m.group(1)), int(m.group(2)) * 1024, p.stdout


class TracingModesFrameObjects(rwtest.TestCase):
    """Tracing mode's frame objects (one per call), line arrays and bound methods (one
    per call of a method descriptor) are not in the trace (feature "tracer-objects"):
    a fifth of a call-heavy program's records were theirs. Traces made before the
    feature are still read and replayed as recorded."""

    def kinds(self, trace):
        return rwtest.info(trace)["kind_counts"]

    def test_calls_make_no_allocation_records(self):
        counts = {}
        for n in (20, 3000):
            prog = self.write(f"calls{n}.py", "def f(x):\n    return x\n\nl = []\n"
                                              f"for x in [None] * {n}:\n    f(x)\n"
                                              "    l.append(x)\n    l.pop()\n")
            rec = self.record(prog)
            self.assertEqual(rec.returncode, 0, rec.stderr)
            counts[n] = self.kinds(rec.trace)
        self.assertEqual(counts[3000]["call"] - counts[20]["call"], 2980)
        # No object the program makes grows with n (the list's items do, PyMem), and
        # tracing mode's frame object for each call is left out.
        for kind in ("alloc_obj", "free_obj"):
            self.assertLess(counts[3000].get(kind, 0) - counts[20].get(kind, 0), 100, kind)
        env = dict(os.environ, REWIND_RECORD_WITHOUT="tracer-objects")
        old = self.record(os.path.join(self.tmp, "calls3000.py"), trace="old.rwd", env=env)
        self.assertEqual(old.returncode, 0, old.stderr)
        # Three per iteration before: f's frame object and the bound methods of
        # append and pop.
        self.assertGreater(self.kinds(old.trace)["alloc_obj"] - counts[3000]["alloc_obj"],
                           8900)

    def test_traces_with_and_without_the_feature(self):
        import pyreader
        prog = self.copy(os.path.join(PROGS, "frames_made.py"))
        with open(prog) as f:
            src = [t.strip() for t in f]
        at = "frames_made.py:%d" % (src.index("raise KeyError(n)") + 1)
        env = dict(os.environ, REWIND_RECORD_WITHOUT="tracer-objects")
        shown = {}
        for name, extra in (("new", {}), ("old", {"env": env})):
            rec = self.record(prog, ["unused"], trace=name + ".rwd", **extra)
            self.assertEqual(rec.returncode, 0, rec.stderr)
            features = pyreader.Trace(rec.trace).metadata.get("features") or []
            self.assertEqual("tracer-objects" in features, name == "new")
            # The replay makes (or leaves out) the same records as its recorder: the
            # divergence check compares allocations.
            proc = rwtest.run([rwtest.rewind_bin(), "replay", "--no-rc", rec.trace],
                              stdin="goto @main-end\np len(frames), len(made)\nq\n")
            self.assertIn("(rewind) (30, 15)", proc.stdout, proc.stdout + proc.stderr)
            self.assertNotIn("diverged", proc.stdout + proc.stderr)
            out = rwtest.rewind("memory", rec.trace, "--filter", "*/frames_made.py",
                                "-n", "0", check=True).stdout
            shown[name] = dict(re.findall(r"frames_made\.py:(\d+): (size=.*)", out))
        # Frame objects of frames that an exception passed through count in both (the
        # analysis brings back the ones an older trace has at the frame's CALL).
        line = at.split(":")[1]
        self.assertEqual(shown["new"][line], shown["old"][line])
        self.assertRegex(shown["new"][line], r"count=(\d\d+)")


class MemoryIsBoundedByLiveBlocks(rwtest.TestCase):
    """A read command's memory is bounded by what it must hold: for `rewind memory`,
    the blocks live at the position, at most 24 bytes each (docs/memory.md)."""

    LIVE = 2_000_000
    PER_BLOCK = 24
    # What the map's own growth may add beyond the baseline run's: a segment growing
    # (both copies), allocator rounding, the decoder's buffers at a later chunk.
    SLACK = 8 << 20

    def test_rss_of_two_million_live_blocks(self):
        if sanitized():
            self.skipTest("RSS means nothing under AddressSanitizer")
        prog = self.write("live.py", f"x = [object() for _ in range({self.LIVE})]\n"
                                     "y = len(x)\n")
        rec = self.record(prog)
        self.assertEqual(rec.returncode, 0, rec.stderr)
        rc, base, _ = max_rss_of([rwtest.rewind_bin(), "memory", rec.trace, "--at", "@start"])
        self.assertEqual(rc, 0)
        rc, rss, out = max_rss_of([rwtest.rewind_bin(), "memory", rec.trace,
                                   "--at", "live.py:2", "--compare-to", "@start"])
        self.assertEqual(rc, 0, out)
        blocks = int(re.search(r"Traces: (\d+) blocks", out).group(1))
        self.assertGreaterEqual(blocks, self.LIVE)
        bound = base + self.PER_BLOCK * blocks + self.SLACK
        self.assertLessEqual(rss, bound,
                             f"{rss >> 20} MiB for {blocks} live blocks "
                             f"({(rss - base) / blocks:.1f} B each over the "
                             f"{base >> 20} MiB baseline)")


if __name__ == "__main__":
    unittest.main()

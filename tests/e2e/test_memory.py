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

import os
import re
import unittest

import rwtest

PROGS = os.path.join(rwtest.HERE, "progs_memory")
STAT_RE = re.compile(r"^(.*):(\d+): size=(.*), count=(\d+)(?:, average=.*)?$")

# The recorded interpreter's free lists are not quite in the state python3's are
# (docs/memory.md, "Differences"): a list or dict header, or a class's small internal
# blocks, may be reused from a free list in one run and allocated in the other. Per
# line, at most this many blocks of at most this size each may differ; everything
# else must be equal.
NOISE_BLOCKS = 3
NOISE_SIZE = 112


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
        rwtest.run([rwtest.python_bin(), "-X", "tracemalloc=25", cls.prog, cls.tm_pickle],
                   cwd=cls.dir, check=True)
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
        for key in theirs:
            (ts, tc), (os_, oc) = theirs[key], ours[key]
            self.assertLessEqual(abs(tc - oc), NOISE_BLOCKS, f"{key}: {theirs[key]} vs {ours[key]}")
            self.assertLessEqual(abs(ts - os_), NOISE_BLOCKS * NOISE_SIZE,
                                 f"{key}: {theirs[key]} vs {ours[key]}")
        # The big allocations are exact: 10,000 points, 2,000 dict entries, the
        # bytearrays of known sizes, the kept half.
        top = sorted(theirs, key=lambda k: -theirs[k][0])[:4]
        for key in top:
            self.assertAlmostEqual(ours[key][0], theirs[key][0], delta=NOISE_SIZE, msg=key)
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
                             (["--limit-frames", "0"], 2), (["--thread", "99"], 1)):
            p = self.memory(*args, check=False)
            self.assertEqual(p.returncode, status, (args, p.stderr))
            self.assertEqual(len(p.stderr.strip().splitlines()), 1, (args, p.stderr))
            self.assertTrue(p.stderr.startswith("rewind memory: "), p.stderr)
        p = rwtest.rewind("memory", os.path.join(self.dir, "missing.rwd"), check=False)
        self.assertEqual(p.returncode, 1)
        p = rwtest.rewind("memory", "--help")
        self.assertIn("usage: rewind memory", p.stdout)


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

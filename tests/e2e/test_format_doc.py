"""docs/format.md is enough to read a trace: the independent reader pyreader.py, written
from it alone, must read what `rewind record` writes exactly as `rewind events --json`
reports it (count of records and events, and every field both print for each record)."""

import os
import shutil
import tempfile
import unittest

import pyreader
import rwtest

EVENT_KINDS = {"call", "line", "return", "exception", "c_call", "c_return", "c_exception"}

# Threads, generators, exceptions, audit events, allocations; over 262,144 records so
# the trace has several chunks whose keyframes hold non-empty stacks.
BUSY = '''\
import threading

def gen(n):
    for i in range(n):
        yield i * i

class Box:
    def __init__(self, v):
        self.v = [v] * 3

def work(n, out):
    total = 0
    for x in gen(n):
        try:
            if x % 7 == 0:
                raise ValueError(x)
            total += Box(x).v[0]
        except ValueError:
            total -= 1
    out.append(total)

out = []
threads = [threading.Thread(target=work, args=(2000, out)) for _ in range(2)]
for t in threads:
    t.start()
work(12000, out)
for t in threads:
    t.join()
with open(__file__) as f:
    print(len(f.read()) > 0, sorted(out))
'''


def view(rec, qualname):
    """The fields of a record that both readers give, by kind: position and thread
    always, the tick of events, the line, depth and function of calls and lines, size
    and address of allocations, type (or event) name and text of exceptions and audit
    events. qualname(rec) names the record's function."""
    kind = rec["kind"]
    v = {"kind": kind, "pos": rec["pos"], "thread": rec["thread"]}
    if kind in EVENT_KINDS:
        v["tick"] = rec["tick"]
    if kind in ("call", "line"):
        v.update(line=rec["line"], depth=rec["depth"], qualname=qualname(rec))
    if kind.startswith("alloc_"):
        v["size"] = rec["size"]
    if kind.startswith(("alloc_", "free_")):
        v["addr"] = rec["addr"]
    if kind in ("exception", "uncaught", "audit"):
        v.update(name=rec["name"], text=rec["text"])
    return v


class FormatDocTest(rwtest.TestCase):
    busy = None  # (folder, (trace, ours, theirs, trace path)): busy.py recorded once

    @classmethod
    def tearDownClass(cls):
        if cls.busy and not os.environ.get("REWIND_KEEP_TMP"):
            shutil.rmtree(cls.busy[0], ignore_errors=True)
        cls.busy = None

    def read_both(self, prog, options=()):
        rec = self.record(prog, options=options)
        self.assertEqual(rec.returncode, 0, rec.stderr)
        trace = pyreader.Trace(rec.trace)
        self.assertIsNone(trace.recovered)
        return trace, list(trace.records()), rwtest.events(rec.trace)

    def read_busy(self):
        """read_both of busy.py, recorded and read once for the tests that only read it
        (recording it and reading it in Python takes about 10 s each time); also its
        trace's path."""
        cls = type(self)
        if cls.busy is None:
            d = tempfile.mkdtemp(prefix="rewind-e2e-busy-")
            prog = os.path.join(d, "busy.py")
            with open(prog, "w", encoding="utf-8") as f:
                f.write(BUSY)
            rec = rwtest.record(prog, cwd=d)
            if rec.returncode != 0:
                shutil.rmtree(d, ignore_errors=True)
                self.fail(rec.stderr)
            trace = pyreader.Trace(rec.trace)
            cls.busy = (d, (trace, list(trace.records()), rwtest.events(rec.trace), rec.trace))
        self.assertIsNone(cls.busy[1][0].recovered)
        return cls.busy[1]

    def check_counts(self, trace, ours):
        end = trace.end
        self.assertEqual(len(ours), end["records"])
        self.assertEqual(sum(r["kind"] in EVENT_KINDS for r in ours), end["events"])
        counts = {}
        for r in ours:
            counts[r["kind"]] = counts.get(r["kind"], 0) + 1
        for value, name in pyreader.KIND_NAMES.items():
            expected = end["kind_counts"][value] if value < len(end["kind_counts"]) else 0
            self.assertEqual(counts.get(name, 0), expected, name)

    def check_same(self, trace, ours, theirs):
        self.assertEqual(len(ours), len(theirs))

        def our_qualname(r):
            return trace.codes[r["code"]]["qualname"] if r["code"] else None

        for i, (a, b) in enumerate(zip(ours, theirs)):
            a = view(a, our_qualname)
            b = view(b, lambda r: r["qualname"])
            if a != b:
                self.fail(f"record {i}: pyreader {a} != rewind events {b}")

    def test_bundled_example(self):
        prog = self.copy(os.path.join(rwtest.TOP, "examples", "orders.py"))
        trace, ours, theirs = self.read_both(prog)
        self.check_counts(trace, ours)
        self.check_same(trace, ours, theirs)
        # Definitions decode too: the example's own functions and its source text.
        qualnames = {c["qualname"] for c in trace.codes.values()}
        self.assertTrue({"Order.__init__", "read_rows", "totals_worker"} <= qualnames)
        files = [f for f in trace.files.values() if f["path"].endswith("orders.py")]
        self.assertEqual(len(files), 1)
        with open(prog, "rb") as f:
            self.assertEqual(files[0]["source"], f.read())
        self.assertEqual(trace.metadata["argv"][0][-9:], "orders.py")
        audits = {r["name"] for r in ours if r["kind"] == "audit"}
        self.assertIn("open", audits)
        self.assertEqual(sorted(t["name"] for t in trace.end["threads"]),
                         ["MainThread", "totals"])

    def test_timed_lines(self):
        prog = self.copy(os.path.join(rwtest.TOP, "examples", "orders.py"))
        trace, ours, theirs = self.read_both(prog, options=["--line-times"])
        self.assertTrue(trace.metadata["options"]["line_times"])
        self.check_counts(trace, ours)
        self.check_same(trace, ours, theirs)

    def test_several_chunks_and_threads(self):
        trace, ours, theirs, _ = self.read_busy()
        self.assertGreater(len(trace.chunks()), 1)
        self.check_counts(trace, ours)
        self.check_same(trace, ours, theirs)
        self.assertGreaterEqual(len({r["thread"] for r in ours}), 3)

    def test_line_filters(self):
        """Every chunk's index entry has a line filter that holds each (code, line) of
        its LINE events, and rules out most pairs the chunk never runs."""
        trace, _, _, _ = self.read_busy()
        self.assertEqual(len(trace.line_filters), len(trace.chunks()))
        has = pyreader.Trace.filter_may_have
        checked = 0
        for fr in trace.chunks():
            filt = trace.line_filters[fr.offset]
            lines = {(r["code"], r["line"]) for r in
                     trace.decode_chunk(pyreader.decode(pyreader.CHUNK, trace.payload(fr)))
                     if r["kind"] == "line"}
            if not lines:  # a chunk of the interpreter's finalisation: frees only
                continue
            checked += 1
            for code, line in lines:
                self.assertTrue(has(filt, code, line), (fr.offset, code, line))
            absent = [(code, line) for code in trace.codes for line in range(5000, 5020)]
            false_pos = sum(has(filt, code, line) for code, line in absent)
            self.assertLess(false_pos, len(absent) / 4, fr.offset)
        self.assertGreater(checked, 1)

    def test_fingerprints(self):
        """Every group of events has the fingerprint docs/format.md ("Fingerprints")
        defines, computed here from the records pyreader decodes, in the entry of the
        chunk where the group ends."""
        trace, ours, _, _ = self.read_busy()
        g = trace.fingerprint_group
        self.assertEqual(g, 2048)
        M = (1 << 64) - 1
        name_id = {v["text"]: k for k, v in trace.names.items()}

        def fmix(h):
            h ^= h >> 33
            h = (h * 0xff51afd7ed558ccd) & M
            h ^= h >> 33
            h = (h * 0xc4ceb9fe1a85ec53) & M
            return h ^ (h >> 33)

        def step(h, x):
            h ^= x
            return ((((h << 23) | (h >> 41)) & M) * 0xc2b2ae3d27d4eb4f) & M

        kinds = {v: k for k, v in pyreader.KIND_NAMES.items()}
        want, lanes, thread = [], [0x243f6a8885a308d3, 0x13198a2e03707344], 0
        for r in ours:
            kind = r["kind"]
            k = kinds[kind]
            if kind == "thread":
                thread = r["thread"]
                continue
            if kind in ("gen", "startup_reuse", "drop"):  # in no group
                continue
            if kind in ("call", "line", "return", "exception", "c_call", "c_return",
                        "c_exception"):
                v0 = k | thread << 8
            elif kind.startswith("alloc_"):
                v0 = k | r["size"] << 8
            else:
                v0 = k
            if kind == "call":
                v1 = r["code"] | r["line"] << 32
            elif kind == "line":
                v1 = r["line"]
            elif kind in ("exception", "uncaught", "audit"):
                v1 = name_id[r["name"]]
            elif kind == "c_call":
                v1 = r["cfunc"]
            elif kind.startswith(("alloc_", "free_")):
                v1 = r["addr"]
            else:
                v1 = 0
            mem = kind.startswith(("alloc_", "free_"))
            lanes[mem] = step(lanes[mem], ((v0 * 0x9e3779b97f4a7c15) & M) ^ v1)
            if kind in EVENT_KINDS and (r["pos"] + 1) % g == 0:
                want.append(fmix(lanes[0]) >> 32 | (fmix(lanes[1]) >> 32) << 32)
                lanes = [0x243f6a8885a308d3, 0x13198a2e03707344]
        got = []
        for fr in trace.chunks():
            got += trace.fingerprints.get(fr.offset, [])
        self.assertGreater(len(want), 3)
        self.assertEqual(len(got), len(want))
        self.assertEqual(got, want)

    def test_crash_report(self):
        prog = self.write("abort.py", "import os\n\ndef f():\n    os.abort()\n\nf()\n")
        # Under ASan, let SIGABRT reach rewind's handler rather than the sanitizer's.
        env = {"ASAN_OPTIONS": "detect_leaks=0:handle_abort=0"}
        rec = self.record(prog, env=env)
        self.assertEqual(rec.returncode, -6, rec.stderr)
        trace = pyreader.Trace(rec.trace)
        self.assertEqual(len(trace.crashes), 1)
        crash = trace.crashes[0]
        self.assertEqual((crash["kind"], crash["signal_name"]), ("fatal_signal", "SIGABRT"))
        self.assertEqual(crash["pos"], trace.end["events"])
        (current,) = [t for t in crash["threads"] if t["current"]]
        self.assertEqual([(f["name"], f["line"]) for f in current["frames"]],
                         [("f", 4), ("<module>", 6)])
        self.assertIn('File "%s", line 4 in f' % prog, crash["text"])

    def test_cut_trace_recovers_its_good_part(self):
        whole, _, _, path = self.read_busy()
        chunks = whole.chunks()
        self.assertGreater(len(chunks), 1)
        cut = os.path.join(self.tmp, "cut.rwd")
        with open(path, "rb") as src, open(cut, "wb") as dst:
            dst.write(src.read()[:chunks[1].end - 1])  # the second chunk loses a byte
        part = pyreader.Trace(cut)
        self.assertIsNotNone(part.recovered)
        self.assertEqual(len(part.chunks()), 1)
        first = pyreader.decode(pyreader.CHUNK, whole.payload(chunks[0]))
        self.assertEqual(sum(r["kind"] in EVENT_KINDS for r in part.records()),
                         first["event_count"])


if __name__ == "__main__":
    unittest.main()

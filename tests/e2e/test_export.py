"""rewind export: Chrome trace events and speedscope files are valid JSON, opens and
closes balance per thread, times never go back, and the program's calls are there."""

import json
import os
import re
import subprocess
import unittest

import pyreader
import rwtest

PROG = r'''
import threading


def leaf(n):
    return sorted(range(n))


def middle(n):
    return [leaf(i) for i in range(n)]


def worker():
    middle(4)


t = threading.Thread(target=worker, name="helper-thread")
t.start()
t.join()
middle(3)
'''


class ExportTest(rwtest.TestCase):
    def setUp(self):
        super().setUp()
        self.prog = self.write("prog.py", PROG)
        self.rec = self.record(self.prog)
        self.assertEqual(self.rec.returncode, 0, self.rec.stderr)

    def export(self, fmt, *opts):
        out = os.path.join(self.tmp, fmt + ".json")
        rwtest.rewind("export", self.rec.trace, "--format", fmt, "-o", out, *opts)
        with open(out) as f:
            return json.load(f)

    def check_chrome(self, doc):
        evs = doc["traceEvents"]
        stacks, last = {}, {}
        names = set()
        for e in evs:
            if e["ph"] == "M":
                continue
            key = (e["pid"], e["tid"])
            self.assertGreaterEqual(e["ts"], last.get(key, 0))
            last[key] = e["ts"]
            st = stacks.setdefault(key, [])
            if e["ph"] == "B":
                self.assertIn(e["cat"], ("python", "c"))
                st.append(e["name"])
                names.add(e["name"])
            else:
                self.assertEqual(e["ph"], "E")
                self.assertEqual(st.pop(), e["name"])
        self.assertTrue(all(not s for s in stacks.values()), stacks)
        tids = {e["tid"] for e in evs if e["ph"] != "M"}
        named = {e["tid"] for e in evs if e["ph"] == "M" and e["name"] == "thread_name"}
        self.assertEqual(tids, named)
        return names, tids, evs

    def test_chrome(self):
        names, tids, evs = self.check_chrome(self.export("chrome"))
        for want in ("leaf", "middle", "worker", "<module>"):
            self.assertIn(want, names)
        self.assertIn("<built-in method builtins.sorted>", names)
        self.assertGreaterEqual(len(tids), 2)
        leaf = [e for e in evs if e["ph"] == "B" and e["name"] == "leaf"]
        self.assertEqual(len(leaf), 3 + 4)
        self.assertEqual(leaf[0]["args"], {"file": self.prog, "line": 5})
        thread_names = [e["args"]["name"] for e in evs if e["name"] == "thread_name"]
        self.assertIn("helper-thread", thread_names)

    def test_chrome_range_inside_calls(self):
        # Start and stop in the middle of the run: still balanced.
        n = max(e["pos"] for e in rwtest.events(self.rec.trace))
        names, _, _ = self.check_chrome(self.export("chrome", "--from", str(n // 3),
                                                    "--to", str(2 * n // 3)))
        self.assertTrue(names)

    def test_speedscope(self):
        doc = self.export("speedscope")
        self.assertEqual(doc["$schema"], "https://www.speedscope.app/file-format-schema.json")
        frames = doc["shared"]["frames"]
        self.assertIn("middle", [f["name"] for f in frames])
        self.assertGreaterEqual(len(doc["profiles"]), 2)
        for p in doc["profiles"]:
            self.assertEqual(p["type"], "evented")
            st, at = [], p["startValue"]
            for e in p["events"]:
                self.assertGreaterEqual(e["at"], at)
                at = e["at"]
                self.assertLess(e["frame"], len(frames))
                if e["type"] == "O":
                    st.append(e["frame"])
                else:
                    self.assertEqual(e["type"], "C")
                    self.assertEqual(st.pop(), e["frame"])
            self.assertEqual(st, [])
            self.assertLessEqual(at, p["endValue"])

    def test_errors(self):
        out = os.path.join(self.tmp, "x.json")
        for args, status in [(["export", self.rec.trace, "-o", out], 2),
                             (["export", self.rec.trace, "--format", "svg", "-o", out], 2),
                             (["export", self.rec.trace, "--format", "chrome"], 2),
                             (["export", self.rec.trace, "--format", "chrome", "-o", out,
                               "--from", "@bogus"], 2),
                             (["export", self.prog, "--format", "chrome", "-o", out], 1)]:
            p = rwtest.rewind(*args, check=False)
            self.assertEqual(p.returncode, status, args)
            self.assertEqual(len(p.stderr.strip().splitlines()), 1, p.stderr)
            self.assertTrue(p.stderr.startswith("rewind export: "), p.stderr)

    # ---- bounded output ----------------------------------------------------------

    def export_limited(self, fmt, size, *opts):
        out = os.path.join(self.tmp, f"{fmt}-limited.out")
        p = rwtest.rewind("export", self.rec.trace, "--format", fmt, "-o", out,
                          "--max-size", size, *opts, check=False)
        with open(out, "rb") as f:
            return p, f.read()

    def check_stopped(self, p):
        self.assertEqual(p.returncode, 1, p.stderr)
        self.assertEqual(len(p.stderr.strip().splitlines()), 1, p.stderr)
        self.assertRegex(p.stderr, r"^rewind export: stopped at [\d.]+ (bytes|KiB|MiB|GiB) "
                                   r"at event \d+ of \d+: raise --max-size or narrow "
                                   r"--from/--to$")
        n, total = map(int, re.search(r"event (\d+) of (\d+)", p.stderr).groups())
        self.assertLess(n, total)

    def test_max_size_stops_with_valid_json(self):
        full = self.export("chrome")
        p, data = self.export_limited("chrome", "4K")
        self.check_stopped(p)
        doc = json.loads(data)
        names, _, evs = self.check_chrome(doc)  # balanced, named threads
        self.assertLess(len(evs), len(full["traceEvents"]))
        self.assertTrue(names)
        # The bound is checked before each event: over it by the closing part only.
        self.assertLess(len(data), 4096 + 4096)
        p, data = self.export_limited("speedscope", "2K")
        self.check_stopped(p)
        doc = json.loads(data)
        for prof in doc["profiles"]:
            opened = sum(e["type"] == "O" for e in prof["events"])
            self.assertEqual(2 * opened, len(prof["events"]))

    def test_max_size_values(self):
        full = self.export("chrome")
        for size in ("0", "1G", "2GiB", "500M", "64MB", "1048576", "1T"):
            p, data = self.export_limited("chrome", size)
            self.assertEqual(p.returncode, 0, (size, p.stderr))
            self.assertEqual(len(json.loads(data)["traceEvents"]), len(full["traceEvents"]))
        out = os.path.join(self.tmp, "x.json")
        for bad in ("", "-1", "1X", "K", "1.5G", "99999999999999999999", "20000000000T"):
            p = rwtest.rewind("export", self.rec.trace, "--format", "chrome", "-o", out,
                              "--max-size", bad, check=False)
            self.assertEqual(p.returncode, 2, (bad, p.stderr))
            self.assertTrue(p.stderr.startswith("rewind export: "), p.stderr)

    # ---- perfetto ---------------------------------------------------------------

    def perfetto(self, *opts):
        out = os.path.join(self.tmp, "trace.pftrace")
        rwtest.rewind("export", self.rec.trace, "--format", "perfetto", "-o", out, *opts)
        with open(out, "rb") as f:
            return f.read()

    def test_perfetto_matches_chrome(self):
        data = self.perfetto()
        tracks, evs = decode_perfetto(data)
        # Per thread, the same opens and closes with the same names and times as the
        # JSON export; slices nest.
        chrome = [e for e in self.export("chrome")["traceEvents"] if e["ph"] != "M"]
        want = {}
        for e in chrome:
            want.setdefault(e["tid"], []).append((e["ph"], e["name"], e["ts"]))
        got = {}
        for ts, typ, track, name in evs:
            tid = tracks[track]["tid"]
            stack = got.setdefault(tid, ([], []))
            if typ == 1:
                stack[0].append(name)
                stack[1].append(("B", name, ts / 1000))
            else:
                self.assertEqual(typ, 2)
                self.assertTrue(stack[0], "an end with no open slice")
                stack[1].append(("E", stack[0].pop(), ts / 1000))
        for tid, (st, _) in got.items():
            self.assertEqual(st, [], tid)
        self.assertEqual(sorted(got), sorted(want))
        for tid in want:
            seq = got[tid][1]
            self.assertEqual([x[:2] for x in seq], [x[:2] for x in want[tid]], tid)
            for (_, _, a), (_, _, b) in zip(seq, want[tid]):
                self.assertAlmostEqual(a, b, delta=0.002)
        names = {t["name"] for t in tracks.values() if "tid" in t}
        self.assertIn("helper-thread", names)
        self.assertLess(len(data), os.path.getsize(os.path.join(self.tmp, "chrome.json")) / 2)

    def test_perfetto_max_size(self):
        full = self.perfetto()
        p, data = self.export_limited("perfetto", "1K")
        self.check_stopped(p)
        tracks, evs = decode_perfetto(data)
        depth = {}
        for _, typ, track, _ in evs:
            depth[track] = depth.get(track, 0) + (1 if typ == 1 else -1)
            self.assertGreaterEqual(depth[track], 0)
        self.assertTrue(all(d == 0 for d in depth.values()), depth)
        self.assertLess(len(data), len(full))


# ---- an independent reader of Perfetto's protobuf trace --------------------------------
# Wire format only (no protobuf package offline): a message is (key varint, value)*,
# key = field << 3 | wire type; types 0 varint, 1 fixed64, 2 length-delimited, 5 fixed32.

def pb_fields(buf):
    """(field, wire type, value) of each field of a protobuf message (pyreader's reader,
    written from docs/format.md, serves Perfetto's messages as well)."""
    return list(pyreader.wire_fields(buf))


def pb_dict(buf):
    d = {}
    for f, _, v in pb_fields(buf):
        d.setdefault(f, []).append(v)
    return d


def decode_perfetto(data):
    """({track uuid: {name, tid, pid}}, [(ts ns, type, track uuid, name)]) of a Trace:
    TracePacket = Trace.1; in a packet timestamp 8, trusted_packet_sequence_id 10,
    track_event 11, interned_data 12, sequence_flags 13, track_descriptor 60."""
    tracks, evs, names, cats = {}, [], {}, {}
    cleared = False
    for field, wt, pkt in pb_fields(data):
        assert field == 1 and wt == 2, (field, wt)
        p = pb_dict(pkt)
        assert p.get(10) == [1], p  # one sequence
        flags = p.get(13, [0])[0]
        if flags & 1:
            cleared = True
        for idata in p.get(12, []):
            d = pb_dict(idata)
            for c in d.get(1, []):   # event_categories {iid 1, name 2}
                c = pb_dict(c)
                cats[c[1][0]] = c[2][0].decode()
            for n in d.get(2, []):   # event_names {iid 1, name 2}
                n = pb_dict(n)
                assert n[1][0] not in names, "iid interned twice"
                names[n[1][0]] = n[2][0].decode("utf-8")  # strict: protobuf strings
        for td in p.get(60, []):     # TrackDescriptor {uuid 1, name 2, process 3, thread 4}
            td = pb_dict(td)
            t = {}
            if 3 in td:
                pd = pb_dict(td[3][0])
                t = {"pid": pd[1][0], "name": pd.get(6, [b""])[0].decode()}
            if 4 in td:
                th = pb_dict(td[4][0])
                t = {"pid": th[1][0], "tid": th[2][0],
                     "name": th.get(5, [b""])[0].decode("utf-8")}
                assert td[5][0] in tracks  # parent_uuid: the process track
            tracks[td[1][0]] = t
        for te in p.get(11, []):     # TrackEvent {category_iids 3, type 9, name_iid 10,
            assert cleared and flags & 2  # track_uuid 11}
            te = pb_dict(te)
            typ, track = te[9][0], te[11][0]
            assert track in tracks and "tid" in tracks[track]
            name = None
            if typ == 1:
                name = names[te[10][0]]
                assert cats[te[3][0]] in ("python", "c")
            evs.append((p[8][0], typ, track, name))
    return tracks, evs


# A program whose strings are not all valid UTF-8 in the trace: the script's own name
# carries bytes that are no UTF-8 (a CESU-8 surrogate, 0xff, 0xf8), which the trace
# keeps as they were given on the command line, and its strings carry surrogates,
# NULs and control characters.
BAD_NAME = os.fsdecode(b"bad\xed\xa0\x80_\xff\xf8.py")
BAD_PROG = r"""
import threading

SRC = "def weird(n):\n    return n + 1\n"
ns = {}
exec(compile(SRC, "weird_\udcff_\ud800_\x01.py", "exec"), ns)
weird = ns["weird"]
weird.__code__ = weird.__code__.replace(co_name="w\udcfe\ud83d", co_qualname="q\udcfe")


def raiser():
    try:
        raise ValueError("bad \udcff bytes \ud800\udc00 nul \x00 ctl \x01\x1f tab\tend")
    except ValueError:
        pass


def work():
    weird(1)
    raiser()


t = threading.Thread(target=work, name="thr\udcff\ud800")
t.start()
t.join()
work()
"""


class InvalidUtf8Test(rwtest.TestCase):
    """Every JSON output is valid UTF-8 that Python's json module loads, whatever
    bytes the trace holds."""

    def setUp(self):
        super().setUp()
        self.prog = os.path.join(self.tmp, BAD_NAME)
        with open(self.prog, "w", encoding="utf-8") as f:
            f.write(BAD_PROG)
        self.rec = self.record(BAD_NAME)
        self.assertEqual(self.rec.returncode, 0, self.rec.stderr)

    def load(self, data, lines=False):
        text = data.decode("utf-8")  # strict: raises on any invalid byte
        if lines:
            return [json.loads(line) for line in text.splitlines()]
        return json.loads(text)

    def rewind_bytes(self, *args):
        p = subprocess.run([rwtest.rewind_bin(), *args], capture_output=True,
                           env=rwtest.clean_env(), timeout=rwtest.DEFAULT_TIMEOUT)
        self.assertEqual(p.returncode, 0, p.stderr)
        return p.stdout

    def test_export(self):
        for fmt in ("chrome", "speedscope"):
            out = os.path.join(self.tmp, fmt + ".json")
            rwtest.rewind("export", self.rec.trace, "--format", fmt, "-o", out)
            with open(out, "rb") as f:
                doc = self.load(f.read())
            text = json.dumps(doc, ensure_ascii=False)
            self.assertIn("bad\ufffd\ufffd\ufffd_\ufffd\ufffd.py", text, fmt)
            self.assertIn("work", text)
        doc = self.load(open(os.path.join(self.tmp, "chrome.json"), "rb").read())
        meta = [e for e in doc["traceEvents"] if e["ph"] == "M"]
        self.assertEqual(meta[0]["args"]["name"], "bad\ufffd\ufffd\ufffd_\ufffd\ufffd.py")

    def test_export_perfetto(self):
        """Protobuf strings must be UTF-8 too: decode_perfetto decodes them strictly."""
        out = os.path.join(self.tmp, "t.perfetto-trace")
        rwtest.rewind("export", self.rec.trace, "--format", "perfetto", "-o", out)
        with open(out, "rb") as f:
            tracks, evs = decode_perfetto(f.read())
        self.assertTrue(any(name == "work" or (name and name.endswith("work"))
                            for _, _, _, name in evs), evs[:5])

    def test_events_json(self):
        evs = self.load(self.rewind_bytes("events", self.rec.trace, "--json"), lines=True)
        exc = [e for e in evs if e["kind"] == "exception" and e["func"] == "raiser"]
        self.assertEqual(len(exc), 2)
        for e in exc:
            self.assertEqual(e["name"], "ValueError")
            self.assertTrue(e["text"].startswith("bad "), e["text"])
            self.assertTrue(e["text"].endswith("\tend"), e["text"])
        weird = [e for e in evs if e["kind"] == "call" and e["line"] == 1 and
                 e["file"].startswith("weird_")]
        self.assertEqual(len(weird), 2)

    def test_audit_json(self):
        evs = self.load(self.rewind_bytes("audit", self.rec.trace, "--json", "--stack"),
                        lines=True)
        self.assertTrue(any(e["event"] == "exec" for e in evs), evs[:3])
        self.assertTrue(any(f["function"] == "<module>" for e in evs for f in e["stack"]))


if __name__ == "__main__":
    unittest.main()

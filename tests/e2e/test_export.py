"""rewind export: Chrome trace events and speedscope files are valid JSON, opens and
closes balance per thread, times never go back, and the program's calls are there."""

import json
import os
import subprocess
import unittest

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

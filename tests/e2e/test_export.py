"""rewind export: Chrome trace events and speedscope files are valid JSON, opens and
closes balance per thread, times never go back, and the program's calls are there."""

import json
import os
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


if __name__ == "__main__":
    unittest.main()

"""rewind audit against a sys.addaudithook hook in plain python3.

The program marks its own part with sys.audit("prog.start") / sys.audit("prog.end");
between the marks, the names and order of the recorded audit events must be those a
hook installed in a plain python3 run sees (the reference runs the same program
through runpy, whose own events all come before the start mark).
"""

import json
import os
import unittest

import rwtest

PROG = r'''
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "lib"))
sys.audit("prog.start")


def work():
    with open(__file__) as f:
        f.readline()
    code = compile("y = 6 * 7", "<audit-test>", "exec")
    ns = {}
    exec(code, ns)
    import audit_helper
    audit_helper.ping()
    os.system("true")
    sys.audit("my.event", 1, "x")
    return ns["y"]


print(work())
sys.audit("prog.end")
'''

HELPER = "def ping():\n    return 'pong'\n"

REF = r'''
import runpy, sys, json
names = []
done = []
def hook(name, args):
    if done:
        return
    if name == "prog.end":
        done.append(1)
    if name == "my.event":
        names.append([name, repr(args)])
    else:
        names.append([name, None])
sys.addaudithook(hook)
try:
    runpy.run_path(sys.argv[1], run_name="__main__")
finally:
    done.append(1)
    with open(sys.argv[2], "w") as f:
        json.dump(list(names), f)
'''


def between_marks(names):
    start = names.index("prog.start")
    end = names.index("prog.end")
    return names[start:end + 1]


class AuditTest(rwtest.TestCase):
    def setUp(self):
        super().setUp()
        self.prog = self.write("prog.py", PROG)
        self.write("lib/audit_helper.py", HELPER)
        self.rec = self.record(self.prog)
        self.assertEqual(self.rec.returncode, 0, self.rec.stderr)
        self.assertEqual(self.rec.stdout, "42\n")

    def reference(self):
        ref = self.write("ref.py", REF)
        out = os.path.join(self.tmp, "ref.json")
        p = self.python(ref, [self.prog, out], timeout=60)
        self.assertEqual(p.returncode, 0, p.stderr)
        with open(out) as f:
            return json.load(f)

    def ours(self, *opts):
        out = rwtest.rewind("audit", self.rec.trace, "--json", *opts).stdout
        return [json.loads(l) for l in out.splitlines()]

    def test_names_and_order_match_a_hook(self):
        ref = self.reference()
        got = self.ours()
        self.assertEqual(between_marks([e["event"] for e in got]),
                         between_marks([n for n, _ in ref]))
        names = between_marks([e["event"] for e in got])
        for want in ("open", "compile", "exec", "import", "os.system", "my.event"):
            self.assertIn(want, names)
        mine = [e for e in got if e["event"] == "my.event"]
        self.assertEqual([e["args"] for e in mine], [a for n, a in ref if n == "my.event"])
        # Positions increase; every event is on the main thread.
        pos = [e["pos"] for e in got]
        self.assertEqual(pos, sorted(pos))
        self.assertEqual({e["thread"] for e in got}, {1})

    def test_match_and_stack(self):
        got = self.ours("--match", "my.*", "--match", "os.sys*", "--stack")
        self.assertEqual([e["event"] for e in got], ["os.system", "my.event"])
        for e in got:
            self.assertEqual([(f["file"], f["function"]) for f in e["stack"]],
                             [(self.prog, "<module>"), (self.prog, "work")])
        self.assertEqual(got[1]["stack"][-1]["line"], 18)
        text = rwtest.rewind("audit", self.rec.trace, "--match", "my.event", "--stack").stdout
        lines = text.splitlines()
        self.assertRegex(lines[0], r"^\d+ thread 1 my\.event \(1, 'x'\)$")
        self.assertEqual(lines[1:], ['  File "%s", line 22, in <module>' % self.prog,
                                     '  File "%s", line 18, in work' % self.prog])

    def test_range_and_thread(self):
        got = self.ours("--match", "my.event")
        pos = got[0]["pos"]
        self.assertEqual(self.ours("--match", "my.event", "--to", str(pos)), [])
        self.assertEqual(len(self.ours("--match", "my.event", "--from", str(pos))), 1)
        self.assertEqual(len(self.ours("--match", "my.event", "--thread", "1")), 1)

    def test_errors(self):
        for args, status in [(["audit"], 2), (["audit", self.rec.trace, "--nope"], 2),
                             (["audit", self.rec.trace, "--thread", "x"], 2),
                             (["audit", self.rec.trace, "--thread", "99"], 1),
                             (["audit", self.rec.trace, "--to", "12zz"], 2),
                             (["audit", self.prog], 1)]:
            p = rwtest.rewind(*args, check=False)
            self.assertEqual(p.returncode, status, args)
            self.assertEqual(len(p.stderr.strip().splitlines()), 1, p.stderr)
            self.assertTrue(p.stderr.startswith("rewind audit: "), p.stderr)
        self.assertIn("--match", rwtest.rewind("audit", "--help").stdout)


if __name__ == "__main__":
    unittest.main()

"""The cyclic GC runs where it runs in a plain python3 run (docs/memory.md, cause 3).

Automatic collections start when generation 0 has counted enough container
allocations. A recorded run must reach the program's first line with python3's counts
and collect after the same allocations, or cyclic garbage (and its __del__, weakref
callbacks and finalizers) lives longer or shorter on one side. The probe program reads
gc.get_count() and gc.get_stats() on its first line, then makes one cyclic object per
step while it calls functions (tracing mode's frame objects), catches exceptions
(frames an exception passes through; the exception events' tuples), calls
sys._getframe (an audited frame), runs a generator, and opens, compiles and execs
(audit events whose arguments CPython builds only because rewind's audit hook is
there). A gc.callbacks entry notes the step at which each collection starts.

python3 and `rewind record` must print the same: first-line counts and collection
points, for a script, a `-m` module and a `-c` command.
"""

import json
import os
import unittest

import rwtest

PROBE = '''\
import gc, sys
FIRST = {"count": gc.get_count(), "collections": [s["collections"] for s in gc.get_stats()]}
import json

step = -1
points = []


def on_gc(phase, info):
    if phase == "start":
        points.append([info["generation"], step])


class Node:
    pass


def leaf(k):
    return [k]


def raiser(k):
    raise KeyError(k)


def caller(k):
    try:
        raiser(k)
    except KeyError:
        return sys._getframe().f_lineno


def gen(n):
    yield from range(n)


gc.callbacks.append(on_gc)
for step in range(4000):
    a = Node()
    a.me = a
    del a
    kind = step % 8
    if kind == 1:
        leaf(step)
    elif kind == 3:
        caller(step)
    elif kind == 5:
        sum(gen(3))
    elif kind == 7 and step % 400 == 7:
        with open(__file__) as f:
            exec(compile("class C: pass", "<probe>", "exec"), {})
gc.callbacks.remove(on_gc)
print(json.dumps({"first": FIRST, "points": points}))
'''

# Calls of method descriptors: tracing mode makes a bound method for each, to hand to
# the profiler (CALL and CALL_FUNCTION_EX), which python3 does not. And what each
# collection frees: rewind's own start-up work must leave no cyclic garbage for the
# program's first collection (its lists and dicts would go onto the free lists).
METHODS = '''\
import gc
points = []
step = -1
keep = []
spare = []


def on_gc(phase, info):
    if phase == "start":
        points.append([info["generation"], step, len(keep), len(spare)])
    else:
        points.append(["collected", info["collected"]])


gc.callbacks.append(on_gc)
for step in range(3000):
    keep.append([step])
    if step % 3 == 0:
        list.append(*(spare, {step: step}))
gc.callbacks.remove(on_gc)
print(points)
'''

# Exceptions raised while another is handled, as os.environ[key] raises for a missing
# key: tracing mode packs a (type, value, traceback) tuple for each exception event,
# and when the 3-tuple free list is empty the next exception event takes the one the
# previous event put there.
EXCEPTIONS = '''\
import gc
points = []
step = -1
keep = []


class Env(dict):
    def __getitem__(self, key):
        try:
            return dict.__getitem__(self, key)
        except KeyError:
            raise KeyError(key) from None


env = Env()


def lookup(key):
    try:
        return env[key]
    except KeyError:
        return None


def on_gc(phase, info):
    if phase == "start":
        points.append([info["generation"], step])


gc.callbacks.append(on_gc)
for step in range(3000):
    keep.append(gc.get_count())
    lookup("missing")
gc.callbacks.remove(on_gc)
print(points)
'''


class GcRunsWherePython3RunsIt(rwtest.TestCase):

    def setUp(self):
        super().setUp()
        self.write("gc_probe.py", PROBE)
        self.write("probepkg/__init__.py", "")
        self.write("probepkg/gc_probe.py", PROBE)

    def compare(self, target):
        plain = self.python(target)
        self.assertEqual(plain.returncode, 0, plain.stderr)
        rec = self.record(target, options=["-q"])
        self.assertEqual(rec.returncode, 0, rec.stderr)
        want, got = json.loads(plain.stdout), json.loads(rec.stdout)
        # The probe must collect several times, or there is nothing to compare.
        self.assertGreaterEqual(len(want["points"]), 4, want)
        self.assertEqual(got["first"], want["first"], "generation counts on the first line")
        self.assertEqual(got["points"], want["points"],
                         "[generation, step] of each automatic collection")

    def test_script(self):
        self.compare("gc_probe.py")

    def test_module(self):
        self.compare(["-m", "probepkg.gc_probe"])

    def test_method_descriptor_calls(self):
        self.write("methods.py", METHODS)
        want = self.python("methods.py")
        self.assertEqual(want.returncode, 0, want.stderr)
        self.assertGreaterEqual(want.stdout.count("collected"), 4, want.stdout)
        for options in ([], ["--no-c-calls"], ["--no-lines", "--no-allocations"]):
            got = self.record("methods.py", options=["-q"] + options)
            self.assertEqual(got.returncode, 0, got.stderr)
            self.assertEqual(got.stdout, want.stdout, options)

    def test_exceptions_raised_while_handling_one(self):
        self.write("exceptions.py", EXCEPTIONS)
        want = self.python("exceptions.py")
        self.assertEqual(want.returncode, 0, want.stderr)
        self.assertGreaterEqual(want.stdout.count("["), 5, want.stdout)
        got = self.record("exceptions.py", options=["-q"])
        self.assertEqual(got.returncode, 0, got.stderr)
        self.assertEqual(got.stdout, want.stdout)

    def test_command(self):
        # __file__ is not set for -c: the probe opens itself by name.
        code = "__file__ = 'gc_probe.py'\nexec(open(__file__).read())"
        self.compare(["-c", code])

    def test_command_through_compile(self):
        # The probe's first compile() sets up the ast module's node types (about 700
        # container allocations) and a collection starts inside it.
        code = ("__file__ = 'gc_probe.py'\n"
                "exec(compile(open(__file__).read(), __file__, 'exec'))")
        self.compare(["-c", code])


if __name__ == "__main__":
    unittest.main()

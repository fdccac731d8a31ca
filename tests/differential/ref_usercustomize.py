"""The in-process part of ref_memory.py (see there), imported by site as usercustomize
at the end of python3's start-up: tracemalloc starts with the main module's code, the
snapshots are taken where asked, and written as JSON when the interpreter exits."""

import atexit
import builtins
import os
import sys
import _tracemalloc

_DIR = os.environ.pop("REWIND_REF_MEMORY_DIR")
_OUT = os.environ.pop("REWIND_REF_MEMORY_OUT")
_UNITTEST = os.environ.pop("REWIND_REF_MEMORY_UNITTEST", None)
# The program sees the sys.path and environment of a plain run.
if os.environ.get("PYTHONPATH") == _DIR:
    del os.environ["PYTHONPATH"]
while _DIR in sys.path:
    sys.path.remove(_DIR)
sys.path_importer_cache.pop(_DIR, None)

_snapshots = {}
_UNITTEST_MAIN = os.path.join(os.path.dirname(os.__file__), "unittest", "main.py")
_real_exit = sys.exit


def _start_with_program(frame, event, arg):
    """The one-shot trace function: tracing starts at the call event of the main
    module's frame (python3 compiled the script, or runpy imported the package, and
    the program's first line is next)."""
    if frame.f_code.co_name == "<module>" and frame.f_globals.get("__name__") == "__main__":
        sys.settrace(None)
        sys.modules.pop("usercustomize", None)   # a plain run has none (site's import
        _tracemalloc.start(1)                     # of it failed)


def _snapshot(label):
    """tracemalloc.take_snapshot()'s raw traces (the first time a label is asked)."""
    if label not in _snapshots:
        _snapshots[label] = _tracemalloc._get_traces()


def _exit_with_snapshot(status=None):
    """sys.exit in a unittest run: the call from unittest's runTests takes the snapshot."""
    traces = _tracemalloc._get_traces()   # before anything here allocates
    if "unittest" not in _snapshots and sys._getframe(1).f_code.co_filename == _UNITTEST_MAIN:
        _snapshots["unittest"] = traces
    del traces
    _real_exit(status)


def _write():
    """statistics('lineno') of each snapshot, without this file's own blocks."""
    here = _write.__code__.co_filename
    _tracemalloc.stop()
    result = {}
    for label, traces in _snapshots.items():
        stats = {}
        for _, size, traceback, *_ in traces:
            key = traceback[0] if traceback else ("<unknown>", 0)
            if key[0] == here:
                continue
            s, c = stats.get(key, (0, 0))
            stats[key] = (s + size, c + 1)
        result[str(label)] = [[f, line, s, c] for (f, line), (s, c) in stats.items()]
    import json
    with open(_OUT, "w") as fp:
        json.dump({"snapshots": result, "preimported": []}, fp)


atexit.register(_write)
# A plain run has imported neither: the program's own imports of them load them again
# (their state, the function registered here included, stays the interpreter's).
del sys.modules["atexit"], sys.modules["_tracemalloc"]
if _UNITTEST:
    sys.exit = _exit_with_snapshot
else:
    builtins.__rewind_snapshot__ = _snapshot
sys.settrace(_start_with_program)

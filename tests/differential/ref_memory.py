"""The reference for `rewind memory --at POS`: runs a program under tracemalloc and
takes snapshots where rewind is asked for the same position, then writes
Snapshot.statistics('lineno') of each as JSON: {"snapshots": {label: [[filename, line,
size, count], ...]}, "preimported": [files of the modules imported before the program]}.

    python3 ref_memory.py OUT.json LINES SCRIPT [ARGS...]
    python3 ref_memory.py OUT.json unittest -m MODULE [ARGS...]

LINES (a script): comma-separated line numbers of SCRIPT. Each is rewritten (same line,
so line numbers do not move) to call the snapshot first: `stmt` becomes
`__rewind_snapshot__(N); stmt`. Only the first run of each line takes one, as
`rewind memory --at SCRIPT:N` is the first time line N runs. The marked lines must be
simple statements.

unittest (a unittest run, -m unittest or a test module calling unittest.main()): one
snapshot, labelled "unittest", when unittest's runTests calls sys.exit at the end of the
tests: the end of the program's own code.

tracemalloc starts right before the program's code is compiled (rewind's recording
starts there too, so start-up allocations are untraced on both sides; for a unittest
run, before runpy is imported, which `python3 -m` does inside the recording), with one
frame
(the 'lineno' statistics use only the most recent frame). It is driven through
_tracemalloc, the C module under tracemalloc.py, so that this file imports nothing the
program might import itself; the statistics are Snapshot.statistics('lineno')'s
grouping (by the most recent frame) of the raw traces take_snapshot() reads.
"""

import sys
_START = set(sys.modules)     # before this file's own imports

import builtins  # noqa: E402
import os  # noqa: E402  (frozen, imported at start-up)
import types  # noqa: E402
import _tracemalloc  # noqa: E402  (built in: tracemalloc.py would import 9 modules)

before = []


def preimported():
    """Files of the modules this reference imported itself, before the program: the
    program's own imports of them allocate nothing here."""
    return sorted({getattr(m, "__file__", None) or "" for n, m in list(sys.modules.items())
                   if n not in _START} - {""})

snapshots = {}
COMPILE_LINE = 0     # set below: the line of main() that compiles the script


def take(label):
    """tracemalloc.take_snapshot()'s raw traces: (domain, size, traceback, total_nframe),
    the traceback most recent frame first."""
    if label not in snapshots:
        snapshots[label] = _tracemalloc._get_traces()


def write(out):
    """statistics('lineno') of each snapshot, without this file's own blocks, except that
    the blocks the compile of the script made count as "<unknown>:0", as they do under
    `python3 -X tracemalloc` (CPython compiles the script with no Python frame)."""
    here = sys._getframe().f_code.co_filename
    result = {}
    for label, traces in snapshots.items():
        stats = {}
        for _, trace_size, traceback, *_ in traces:
            key = traceback[0] if traceback else ("<unknown>", 0)
            if key == (here, COMPILE_LINE):
                key = ("<unknown>", 0)
            elif key[0] == here:
                continue
            size, count = stats.get(key, (0, 0))
            stats[key] = (size + trace_size, count + 1)
        result[str(label)] = [[f, line, size, count]
                              for (f, line), (size, count) in stats.items()]
    _tracemalloc.stop()
    import json
    with open(out, "w") as fp:
        json.dump({"snapshots": result, "preimported": before}, fp)


class SysWithSnapshotAtExit:
    """unittest.main's view of sys: sys.exit takes the snapshot first."""

    def __getattr__(self, name):
        return getattr(sys, name)

    def exit(self, status=None):
        take("unittest")
        sys.exit(status)


def main():
    global COMPILE_LINE
    out, lines, argv = sys.argv[1], sys.argv[2], sys.argv[3:]
    status = 0
    try:
        if lines == "unittest":
            # traced from before runpy's import: `python3 -m` imports runpy (and
            # importlib.util, contextlib, functools... with it) inside the recording
            before.extend(preimported())
            _tracemalloc.start(1)
            import runpy
            sys.argv = [argv[1], *argv[2:]]
            import unittest.main  # noqa: F401  (patched below through sys.modules)
            sys.modules["unittest.main"].sys = SysWithSnapshotAtExit()
            runpy.run_module(argv[1], run_name="__main__", alter_sys=True)
        else:
            progname = argv[0]
            marks = {int(n) for n in lines.split(",") if n}
            with open(progname) as fp:
                source = fp.read().splitlines(keepends=True)
            for n in marks:
                text = source[n - 1]
                body = text.lstrip()
                source[n - 1] = (text[:len(text) - len(body)] +
                                 "__rewind_snapshot__(%d); " % n + body)
            source = "".join(source)
            filename = os.path.abspath(progname)
            sys.argv = list(argv)
            sys.path[0] = os.path.dirname(filename)
            before.extend(preimported())
            _tracemalloc.start(1)
            COMPILE_LINE = sys._getframe().f_lineno + 1
            code = compile(source, filename, "exec")
            module = types.ModuleType("__main__")
            sys.modules["__main__"] = module
            globs = module.__dict__
            globs.update({"__file__": progname, "__builtins__": builtins,
                          "__cached__": None, "__rewind_snapshot__": take})
            exec(code, globs)
    except SystemExit as exc:
        status = exc.code
    except BaseException:  # the program's uncaught exception, printed as python3 does
        import traceback
        traceback.print_exc()
        status = 1
    write(out)
    sys.exit(status)


if __name__ == "__main__":
    main()

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
import _tracemalloc  # noqa: E402  (built in: tracemalloc.py would import 9 modules)

before = []


def preimported():
    """Files of the modules this reference imported itself, before the program: the
    program's own imports of them allocate nothing here."""
    return sorted({getattr(m, "__file__", None) or "" for n, m in list(sys.modules.items())
                   if n not in _START} - {""})

snapshots = {}
COMPILE_LINE = 0     # set below: the line of c_runner() that compiles and runs the script


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


def c_runner():
    """PyRun_FileExFlags over the source in memory (fmemopen), through ctypes: runs the
    script as `python3 SCRIPT` does (_PyRun_SimpleFileObject's pyrun_file), whose AST
    arena (8 KiB blocks) stays allocated while the script runs, and without what the
    builtin compile() adds: its first call sets up the ast module's 120 node types
    (PyAST_Check, about 200 KB) that a plain run makes only at the program's first
    compile() (the import of a module from source, say). ctypes and what it imports are
    taken out of sys.modules again, so that the program's own imports of them are
    traced."""
    mods = set(sys.modules)
    import ctypes
    libc = ctypes.CDLL(None)
    fmemopen = libc.fmemopen
    fmemopen.argtypes = (ctypes.c_char_p, ctypes.c_size_t, ctypes.c_char_p)
    fmemopen.restype = ctypes.c_void_p
    run = ctypes.pythonapi.PyRun_FileExFlags
    run.argtypes = (ctypes.c_void_p, ctypes.c_char_p, ctypes.c_int, ctypes.py_object,
                    ctypes.py_object, ctypes.c_int, ctypes.c_void_p)
    run.restype = ctypes.py_object
    for name in set(sys.modules) - mods:
        del sys.modules[name]

    def runner(source, filename, globs):
        global COMPILE_LINE
        fp = fmemopen(source, len(source), b"r")
        if not fp:
            raise OSError("fmemopen failed")
        COMPILE_LINE = sys._getframe().f_lineno + 1
        return run(fp, filename, 257, globs, globs, 1, None)   # Py_file_input, closeit
    return runner


def get_importer(path):
    """What python3's main does with the script's path before it runs it
    (pymain_get_importer, PyImport_GetImporter): look its importer up through
    sys.path_hooks and cache it (None: a script is not a directory or a zip file)."""
    if path in sys.path_importer_cache:
        return
    sys.path_importer_cache[path] = None
    for hook in sys.path_hooks:
        try:
            sys.path_importer_cache[path] = hook(path)
            return
        except ImportError:
            continue


class SysWithSnapshotAtExit:
    """unittest.main's view of sys: sys.exit takes the snapshot first."""

    def __getattr__(self, name):
        return getattr(sys, name)

    def exit(self, status=None):
        take("unittest")
        sys.exit(status)


def main():
    out, lines, argv = sys.argv[1], sys.argv[2], sys.argv[3:]
    status = 0
    try:
        if lines == "unittest":
            # traced from before runpy's import: `python3 -m` imports runpy (and
            # importlib.util, contextlib, functools... with it) inside the recording
            # The program runs in a __main__ of its own, as python3's (made at
            # start-up, with __builtins__ and __annotations__), not in this file's.
            module = type(sys)("__main__")
            module.__dict__.update({"__builtins__": builtins, "__annotations__": {}})
            sys.modules["__main__"] = module
            sys.argv = ["-m", *argv[2:]]   # as python3 -m has it before runpy's turn
            before.extend(preimported())
            _tracemalloc.start(1)
            import runpy
            import unittest.main  # noqa: F401  (patched below through sys.modules)
            sys.modules["unittest.main"].sys = SysWithSnapshotAtExit()
            # what `python3 -m` calls (pymain_run_module): runpy's frames and the
            # argv[0] it sets are python3's, where run_module makes a temporary
            # module and leaves sys.argv[0] to its caller
            runpy._run_module_as_main(argv[1])
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
            run_c = c_runner()
            source = source.encode()
            before.extend(preimported())
            _tracemalloc.start(1)
            get_importer(progname)
            # type(sys), not types.ModuleType: `types` is not imported at start-up, and
            # imported here it would be left out of the program's own imports of it
            # (runpy's, for `-m`: 24 KB of code objects at importlib's marshal.loads)
            module = type(sys)("__main__")
            sys.modules["__main__"] = module
            globs = module.__dict__
            globs.update({"__file__": progname, "__builtins__": builtins,
                          "__cached__": None, "__rewind_snapshot__": take})
            run_c(source, filename.encode(), globs)
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

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

tracemalloc starts with the program's code: at the call event of the main module's
frame (a one-shot trace function), as `tracemalloc.start()` on the program's first line
would, and as `rewind memory --traced-since program` takes it: after python3 compiled
the script, or after runpy imported a -m module's package. It traces one frame (the
'lineno' statistics use only the most recent frame). It is driven through
_tracemalloc, the C module under tracemalloc.py, so that this file imports nothing the
program might import itself; the statistics are Snapshot.statistics('lineno')'s
grouping (by the most recent frame) of the raw traces take_snapshot() reads.
"""

import sys
_START = set(sys.modules)     # before this file's own imports

import builtins  # noqa: E402
import marshal  # noqa: E402  (built in, imported at start-up)
import os  # noqa: E402  (frozen, imported at start-up)
import _tracemalloc  # noqa: E402  (built in: tracemalloc.py would import 9 modules)

before = []


def preimported():
    """Files of the modules this reference imported itself, before the program: the
    program's own imports of them allocate nothing here."""
    return sorted({getattr(m, "__file__", None) or "" for n, m in list(sys.modules.items())
                   if n not in _START} - {""})

snapshots = {}


def start_with_program(frame, event, arg):
    """The one-shot trace function: the first call event is the main module's frame
    (python3 compiles the script in C, and runpy's exec runs the module's code)."""
    sys.settrace(None)
    _tracemalloc.start(1)


def exec_with_program(code, globs, locs=None):
    """runpy's exec, in a `-m` run: tracemalloc starts with the module's frame."""
    sys.settrace(start_with_program)
    return exec(code, globs, locs)


def take(label):
    """tracemalloc.take_snapshot()'s raw traces: (domain, size, traceback, total_nframe),
    the traceback most recent frame first."""
    if label not in snapshots:
        snapshots[label] = _tracemalloc._get_traces()


def write(out):
    """statistics('lineno') of each snapshot, without this file's own blocks."""
    here = sys._getframe().f_code.co_filename
    result = {}
    for label, traces in snapshots.items():
        stats = {}
        for _, trace_size, traceback, *_ in traces:
            key = traceback[0] if traceback else ("<unknown>", 0)
            if key[0] == here:
                continue
            size, count = stats.get(key, (0, 0))
            stats[key] = (size + trace_size, count + 1)
        result[str(label)] = [[f, line, size, count]
                              for (f, line), (size, count) in stats.items()]
    _tracemalloc.stop()
    import json
    with open(out, "w") as fp:
        json.dump({"snapshots": result, "preimported": before}, fp)


def compiled(source, filename):
    """The script's code object, compiled in a child process and read back with
    marshal: this process never calls compile(), whose first call sets up the ast
    module's 120 node types (PyAST_Check, about 200 KB) that a plain run makes only at
    the program's first compile() (the import of a module from source, say), and
    imports nothing (ctypes, to call PyRun_FileExFlags as python3 does, added dozens of
    classes and other state a plain run does not have). python3 compiles the script
    before its first line, as here, before tracing starts."""
    rfd, wfd = os.pipe()
    pid = os.fork()
    if pid == 0:
        os.close(rfd)
        try:
            data = marshal.dumps(compile(source, filename, "exec", dont_inherit=True))
            while data:
                data = data[os.write(wfd, data):]
        except BaseException:  # a SyntaxError: said as python3 says it, then no code
            import traceback
            traceback.print_exc()
            os._exit(1)
        os._exit(0)
    os.close(wfd)
    chunks = []
    while True:
        chunk = os.read(rfd, 1 << 20)
        if not chunk:
            break
        chunks.append(chunk)
    os.close(rfd)
    os.waitpid(pid, 0)
    data = b"".join(chunks)
    del chunks
    if not data:
        raise SystemExit(f"ref_memory.py: could not compile {filename}")
    return marshal.loads(data)


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


UNITTEST_MAIN = os.path.join(os.path.dirname(os.__file__), "unittest", "main.py")
real_exit = sys.exit


def exit_with_snapshot(status=None):
    """sys.exit in a unittest run: the call from unittest's runTests takes the snapshot.
    No class of this file's (a class is one more subclass of object, whose table of
    subclasses then grows at another class statement of the program) and no import of
    unittest before the program (a test module run by -m imports it itself)."""
    traces = _tracemalloc._get_traces()   # before anything here allocates
    if "unittest" not in snapshots and sys._getframe(1).f_code.co_filename == UNITTEST_MAIN:
        snapshots["unittest"] = traces
    del traces
    real_exit(status)


def main():
    out, lines, argv = sys.argv[1], sys.argv[2], sys.argv[3:]
    status = 0
    try:
        if lines == "unittest":
            # Traced from the module's code on (exec_with_program), after runpy
            # imported its package, as `python3 -m` runs it. The program runs in a __main__ of its own, as python3's (made at
            # start-up, with __builtins__ and __annotations__), not in this file's.
            module = type(sys)("__main__")
            module.__dict__.update({"__builtins__": builtins, "__annotations__": {}})
            sys.modules["__main__"] = module
            sys.argv = ["-m", *argv[2:]]   # as python3 -m has it before runpy's turn
            before.extend(preimported())
            import runpy
            runpy.exec = exec_with_program   # _run_code's exec of the module's code
            sys.exit = exit_with_snapshot
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
            code = compiled(source, filename)
            before.extend(preimported())
            get_importer(progname)
            # type(sys), not types.ModuleType: `types` is not imported at start-up, and
            # imported here it would be left out of the program's own imports of it
            # (runpy's, for `-m`: 24 KB of code objects at importlib's marshal.loads)
            module = type(sys)("__main__")
            sys.modules["__main__"] = module
            globs = module.__dict__
            globs.update({"__annotations__": {}, "__builtins__": builtins,
                          "__file__": progname, "__cached__": None})
            builtins.__rewind_snapshot__ = take   # not a key of the program's globals
            sys.settrace(start_with_program)   # the next call event is the script's
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

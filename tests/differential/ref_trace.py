"""The reference for `rewind coverage`: runs a program under trace.Trace(count=1) as
`python3 -m trace --count` does (trace.main's code, without its file writing) and writes
the per-line counts as JSON: {"counts": [[filename, line, count], ...], "preimported":
[files of the modules imported before the program ran]}.

    python3 ref_trace.py OUT.json (SCRIPT | -m MODULE) [ARGS...]
"""

import sys
_START = set(sys.modules)     # before this file's own imports

import json  # noqa: E402
import os  # noqa: E402
import trace  # noqa: E402


def preimported():
    """Files of the modules this reference imported itself, before the program: the
    program's own imports of them run untraced here."""
    return sorted({getattr(m, "__file__", None) or "" for n, m in list(sys.modules.items())
                   if n not in _START} - {""})


def main():
    out, argv = sys.argv[1], sys.argv[2:]
    tracer = trace.Trace(count=1, trace=0)
    if argv[0] == "-m":
        import runpy
        module_name, spec, code = runpy._get_module_details(argv[1])
        sys.argv = [code.co_filename, *argv[2:]]
        globs = {"__name__": "__main__", "__file__": code.co_filename,
                 "__package__": spec.parent, "__loader__": spec.loader,
                 "__spec__": spec, "__cached__": None}
    else:
        progname = argv[0]
        sys.argv = list(argv)
        sys.path[0] = os.path.dirname(progname)
        with open(progname, "rb") as fp:
            code = compile(fp.read(), progname, "exec")
        globs = {"__file__": progname, "__name__": "__main__", "__package__": None,
                 "__cached__": None}
    status = 0
    before = preimported()
    try:
        tracer.runctx(code, globs, globs)
    except SystemExit as exc:
        status = exc.code
    except BaseException:  # the program's uncaught exception, printed as python3 does
        import traceback
        traceback.print_exc()
        status = 1
    counts = [[f, line, n] for (f, line), n in tracer.results().counts.items()]
    with open(out, "w") as fp:
        json.dump({"counts": counts, "preimported": before}, fp)
    sys.exit(status)


if __name__ == "__main__":
    main()

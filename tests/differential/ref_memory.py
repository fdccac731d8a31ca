"""The reference for `rewind memory --at POS --traced-since program`: runs a program as
a plain `python3` run with tracemalloc started with its code, takes snapshots where
rewind is asked for the same position, then writes Snapshot.statistics('lineno') of
each as JSON: {"snapshots": {label: [[filename, line, size, count], ...]},
"preimported": [files of the modules imported before the program]}.

    python3 ref_memory.py OUT.json LINES SCRIPT [ARGS...]
    python3 ref_memory.py OUT.json unittest -m MODULE [ARGS...]

LINES (a script): comma-separated line numbers of SCRIPT. For the run, each is rewritten
(same line, so line numbers do not move) to call the snapshot first: `stmt` becomes
`__rewind_snapshot__(N); stmt`; the file is put back afterwards (so SCRIPT must be a
copy that nothing else reads meanwhile: the corpus's are). Only the first run of
each line takes one, as `rewind memory --at SCRIPT:N` is the first time line N runs.
The marked lines must be simple statements.

unittest (a unittest run, -m unittest or a test module calling unittest.main()): one
snapshot, labelled "unittest", when unittest's runTests calls sys.exit at the end of the
tests: the end of the program's own code.

The program runs in a python3 of its own, `python3 SCRIPT` or `python3 -m MODULE`, as
without the reference: what python3 does before the program (its start-up, the
script's compile, runpy's imports) is a plain run's. The reference's part of that
process is ref_usercustomize.py, which site imports at the end of start-up (as
`usercustomize`, from a directory put on PYTHONPATH and taken off sys.path again): it
starts tracemalloc (one frame: the 'lineno' statistics use only the most recent one)
at the call event of the main module's frame, through a one-shot trace function, as
`tracemalloc.start()` on the program's first line would, and as `rewind memory
--traced-since program` takes it. It drives _tracemalloc, the C module under
tracemalloc.py (which would import 9 modules), and defines no class.
"""

import os
import py_compile
import shutil
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))


def main():
    out, lines, argv = sys.argv[1], sys.argv[2], sys.argv[3:]
    tmp = tempfile.mkdtemp(prefix="rewind-ref-memory-")
    script, original = None, None
    try:
        shutil.copy(os.path.join(HERE, "ref_usercustomize.py"),
                    os.path.join(tmp, "usercustomize.py"))
        # Compiled here: an import from source calls compile(), whose first call sets up
        # the ast module's node types (PyAST_Check: 120 classes, about 200 KB) that a
        # plain run makes only at the program's first compile() of its own.
        py_compile.compile(os.path.join(tmp, "usercustomize.py"), doraise=True)
        env = dict(os.environ, PYTHONPATH=tmp, REWIND_REF_MEMORY_OUT=os.path.abspath(out),
                   REWIND_REF_MEMORY_DIR=tmp)
        env.pop("PYTHONNOUSERSITE", None)
        if lines == "unittest":
            env["REWIND_REF_MEMORY_UNITTEST"] = "1"
        else:
            script = argv[0]
            with open(script) as fp:
                original = fp.read()
            source = original.splitlines(keepends=True)
            for n in {int(n) for n in lines.split(",") if n}:
                text = source[n - 1]
                body = text.lstrip()
                source[n - 1] = (text[:len(text) - len(body)] +
                                 "__rewind_snapshot__(%d); " % n + body)
            with open(script, "w") as fp:
                fp.write("".join(source))
        if os.path.exists(out):
            os.unlink(out)
        status = subprocess.run([sys.executable, *argv], env=env).returncode
    finally:
        if original is not None:
            with open(script, "w") as fp:
                fp.write(original)
        shutil.rmtree(tmp, ignore_errors=True)
    if not os.path.exists(out):
        sys.exit(f"ref_memory.py: no snapshots written (exit {status}): site did not import "
                 "usercustomize (python3 -s, or no user site?), or the program ended "
                 "without running exit functions (os._exit, a signal)")
    sys.exit(status)


if __name__ == "__main__":
    main()

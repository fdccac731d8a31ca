"""Helpers for rewind's end-to-end tests (tests/e2e/test_*.py).

ctest runs each test module as `python3 -m unittest -v test_x` in this directory, with
REWIND (the rewind binary under test) and REWIND_PYTHON (Debian's python3.11, the
interpreter rewind embeds) in the environment. Run by hand, the defaults are
../../build/rewind and /usr/bin/python3.

    class T(rwtest.TestCase):
        def test_it(self):
            prog = self.write("prog.py", "print(sum(range(3)))\\n")
            rec = self.record(prog)                  # rewind record -o ... prog.py
            self.assertEqual(rec.stdout, self.python(prog).stdout)
            evs = rwtest.events(rec.trace)           # rewind events --json
            meta = rwtest.info(rec.trace)            # rewind info --json

Only the standard library is used.
"""

import json
import os
import shutil
import signal
import subprocess
import tempfile
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
TOP = os.path.dirname(os.path.dirname(HERE))
DEFAULT_TIMEOUT = 300


def rewind_bin():
    """Path of the rewind binary under test: $REWIND, else build/rewind of this checkout."""
    path = os.environ.get("REWIND") or os.path.join(TOP, "build", "rewind")
    if not os.access(path, os.X_OK):
        raise RuntimeError(f"rewind binary not found at {path}: build it (scripts/build.sh) "
                           "or set REWIND")
    return path


def python_bin():
    """The interpreter to compare against: $REWIND_PYTHON, else /usr/bin/python3."""
    return os.environ.get("REWIND_PYTHON") or "/usr/bin/python3"


def clean_env(extra=None):
    """The environment for a child: ours minus variables that would change Python's
    behaviour between the recorded and the plain run, with PYTHONHASHSEED=0 unless
    set (so set and dict orders match between the two runs), plus `extra`."""
    env = dict(os.environ)
    for name in ("PYTHONTRACEMALLOC", "PYTHONSTARTUP", "PYTHONINSPECT", "PYTHONBREAKPOINT"):
        env.pop(name, None)
    env.setdefault("PYTHONHASHSEED", "0")
    env["PYTHONDONTWRITEBYTECODE"] = "1"
    if extra:
        env.update(extra)
    return env


def run(argv, cwd=None, stdin=None, env=None, timeout=DEFAULT_TIMEOUT, check=False,
        group=False):
    """Runs argv and returns its subprocess.CompletedProcess, stdout and stderr as text.
    stdin is a string fed to the process (None: no input, /dev/null). group: argv runs
    in a session of its own, and a timeout kills every process in it (argv under
    strace: killing strace alone leaves the debugger and its engine running, an engine
    that spins slowing every test after it)."""
    if not group:
        proc = subprocess.run(argv, cwd=cwd, env=clean_env(env), timeout=timeout,
                              input=stdin if stdin is not None else "",
                              capture_output=True, text=True, errors="replace")
    else:
        with subprocess.Popen(argv, cwd=cwd, env=clean_env(env), stdin=subprocess.PIPE,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                              errors="replace", start_new_session=True) as p:
            try:
                out, err = p.communicate(stdin if stdin is not None else "", timeout=timeout)
            except subprocess.TimeoutExpired:
                os.killpg(p.pid, signal.SIGKILL)
                p.communicate()
                raise
        proc = subprocess.CompletedProcess(argv, p.returncode, out, err)
    if check and proc.returncode != 0:
        raise AssertionError(f"{' '.join(map(str, argv))} exited {proc.returncode}\n"
                             f"stdout:\n{proc.stdout}\nstderr:\n{proc.stderr}")
    return proc


class Recording:
    """What `rewind record` left: the trace path and the recorded process's result."""

    def __init__(self, trace, proc):
        self.trace = trace
        self.proc = proc
        self.returncode = proc.returncode
        self.stdout = proc.stdout
        self.stderr = proc.stderr

    def __repr__(self):
        return f"Recording({self.trace!r}, returncode={self.returncode})"


def record(target, args=(), trace=None, options=(), cwd=None, stdin=None, env=None,
           timeout=DEFAULT_TIMEOUT):
    """Runs `rewind record -o TRACE [options] TARGET [args]` and returns a Recording.

    target is a script path, or a list such as ["-m", "unittest"] or ["-c", code].
    trace defaults to "trace.rwd" in cwd (or beside the script when cwd is None); an
    existing file of that name is removed first."""
    target = [target] if isinstance(target, str) else list(target)
    if cwd is None:
        cwd = os.path.dirname(os.path.abspath(target[0])) if target[0][:1] != "-" else os.getcwd()
    trace = os.path.join(cwd, trace or "trace.rwd")
    if os.path.exists(trace):
        os.remove(trace)
    argv = [rewind_bin(), "record", "-o", trace, *options, *target, *args]
    return Recording(trace, run(argv, cwd=cwd, stdin=stdin, env=env, timeout=timeout))


def python(target, args=(), cwd=None, stdin=None, env=None, timeout=DEFAULT_TIMEOUT):
    """Runs the plain interpreter on the same target as record() would."""
    target = [target] if isinstance(target, str) else list(target)
    if cwd is None:
        cwd = os.path.dirname(os.path.abspath(target[0])) if target[0][:1] != "-" else os.getcwd()
    return run([python_bin(), *target, *args], cwd=cwd, stdin=stdin, env=env, timeout=timeout)


def parse_json_output(text):
    """A JSON document, or JSON lines (one value per line), as a Python value: a list
    for JSON lines."""
    text = text.strip()
    if not text:
        return []
    try:
        return json.loads(text)
    except json.JSONDecodeError:
        return [json.loads(line) for line in text.splitlines() if line.strip()]


def rewind(*args, check=True, timeout=DEFAULT_TIMEOUT):
    """Runs `rewind ARGS...` and returns the CompletedProcess (check: fail on non-zero)."""
    return run([rewind_bin(), *map(str, args)], timeout=timeout, check=check)


def events(trace, *extra):
    """The records of a trace as `rewind events TRACE --json` prints them: a list of dicts."""
    out = parse_json_output(rewind("events", trace, "--json", *extra).stdout)
    if isinstance(out, dict):
        out = out.get("events", [])
    return out


def info(trace, *extra):
    """`rewind info --json TRACE` as a dict."""
    return parse_json_output(rewind("info", "--json", trace, *extra).stdout)


class TestCase(unittest.TestCase):
    """A TestCase with a scratch directory (self.tmp, removed after each test unless
    REWIND_KEEP_TMP is set) and the helpers above bound to it."""

    maxDiff = None

    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="rewind-e2e-")
        if not os.environ.get("REWIND_KEEP_TMP"):
            self.addCleanup(shutil.rmtree, self.tmp, ignore_errors=True)

    def write(self, name, text):
        """Writes text to self.tmp/name (creating folders) and returns its path."""
        path = os.path.join(self.tmp, name)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "w", encoding="utf-8") as f:
            f.write(text)
        return path

    def copy(self, src, name=None):
        """Copies a file (e.g. from tests/e2e/progs) into self.tmp; returns the copy's path."""
        dst = os.path.join(self.tmp, name or os.path.basename(src))
        shutil.copyfile(src, dst)
        return dst

    def record(self, target, args=(), **kw):
        kw.setdefault("cwd", self.tmp)
        return record(target, args, **kw)

    def python(self, target, args=(), **kw):
        kw.setdefault("cwd", self.tmp)
        return python(target, args, **kw)

"""The differential corpus: each program runs plainly under the standard tool and under
`rewind record` + the matching rewind command, and the two answers are compared.

Tools (one comparison each, per program):

  output    plain `python3 TARGET` vs `rewind record TARGET`: stdout, stderr (rewind's own
            "rewind: ..." / "rewind record: ..." lines removed, unittest's "Ran N tests in
            T s" time removed) and the exit status
  stats     `python3 -m cProfile -o ref.prof TARGET` vs `rewind stats T -o rw.prof` (its
            default window, which is cProfile's), both read with pstats: ncalls and
            primitive calls per (file, line, name) key as each file writes it; nothing
            is taken out of either side (only the addresses in C functions' labels,
            `... of type object at 0x9534a0>`, are masked: they are each binary's own)
  stats-keys  the same .prof files: the set of keys
  coverage  trace.Trace(count=1) (ref_trace.py, trace.main's code) vs
            `rewind coverage T --lcov`: per-line counts of every file trace counted, files
            compared by absolute path (trace names its outputs by module, not by the
            path given); files only rewind counted are reported, not compared, and so
            are frozen modules ("<frozen os>"), which rewind leaves out by design
  memory    tracemalloc (ref_memory.py) vs `rewind memory T --at POS -o snap.pickle`
            loaded with tracemalloc.Snapshot.load: size and count per (file, line) of
            statistics('lineno') at each position: the lines marked `# rewind-snapshot`
            (or listed in the corpus) of a script (`--at SCRIPT:LINE`), or the end of a
            unittest run (unittest's sys.exit in runTests, `--at unittest/main.py:LINE`)
  pdb       `python3 -m pdb TARGET` vs `rewind replay --no-rc T`, the same commands on
            stdin, transcripts normalised as tests/e2e/test_replay.py does (and pdb's
            `<string>(1)<module>()->None` frame in a `where` at the script's return)

Each comparison is "equal", "differs" (with how many keys and the first few, reference
value first) or "error" (a tool failed; its message). Files of the modules the trace
and tracemalloc references import themselves before the program runs (trace 39-63, the
memory reference only types.py) are left out of coverage and memory on both sides: there
the program's imports of them run before the reference looks. stats takes nothing out:
`rewind stats` models what cProfile's own imports change (docs/stats.md). Only the
standard library is used.
"""

import difflib
import json
import os
import pstats
import re
import shutil
import subprocess
import sys
import tracemalloc

HERE = os.path.dirname(os.path.abspath(__file__))
TOP = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(TOP, "tests", "e2e"))

import rwtest  # noqa: E402
from test_memory import plain  # noqa: E402
from test_replay import OUR_END, PDB_ENDS, cut_at_end, normalise_pdb  # noqa: E402

TOOLS = ("output", "stats", "stats-keys", "coverage", "memory", "pdb")
FIRST = 5            # differing keys shown per comparison
TIMEOUT = 900
PDB_TIMEOUT = 120    # a scripted session: seconds

TEST_DIR = os.path.join(os.path.dirname(shutil.__file__), "test")
UNITTEST_MAIN = os.path.join(os.path.dirname(shutil.__file__), "unittest", "main.py")


def unittest_exit_line():
    """The line of unittest's runTests that ends a run: `sys.exit(not self.result...)`."""
    with open(UNITTEST_MAIN) as fp:
        for n, line in enumerate(fp, 1):
            if "sys.exit(not self.result.wasSuccessful())" in line:
                return n
    raise RuntimeError(f"no sys.exit line in {UNITTEST_MAIN}")


class ToolError(Exception):
    pass


def load_corpus(path=os.path.join(HERE, "corpus.json")):
    with open(path) as fp:
        return json.load(fp)["programs"]


# ---- running ----

class Run:
    """One program of the corpus in its own working directory."""

    def __init__(self, entry, workdir):
        self.entry = entry
        self.name = entry["name"]
        self.dir = os.path.join(workdir, self.name)
        shutil.rmtree(self.dir, ignore_errors=True)
        os.makedirs(self.dir)
        for rel in [entry.get("script"), *entry.get("files", [])]:
            if rel:
                shutil.copy(os.path.join(TOP, rel), self.dir)
        if "script" in entry:
            self.script = os.path.basename(entry["script"])
            self.target = [self.script, *entry.get("args", [])]
        else:
            self.script = None
            self.target = ["-m", entry["module"], *entry.get("args", [])]
        self.trace = os.path.join(self.dir, "trace.rwd")
        self.recording = None
        self.cache = {}

    def run(self, argv, stdin=None, env=None, timeout=TIMEOUT):
        try:
            return rwtest.run(argv, cwd=self.dir, stdin=stdin, env=env, timeout=timeout)
        except subprocess.TimeoutExpired:
            raise ToolError(f"{' '.join(map(os.path.basename, argv[:2]))} "
                            f"{' '.join(argv[2:4])}... did not finish in {timeout} s")

    def python(self, *args, stdin=None, env=None, timeout=TIMEOUT, fixed_addresses=False):
        """fixed_addresses: without address-space randomisation when the kernel allows it
        (setarch -R): with it, python3's brk heap starts anywhere in the first GiB after
        the executable, and a few runs in a hundred put the classes above 2^30, where
        the int made from a class's address (its key in its base's tp_subclasses) has
        two digits: every class statement 4 bytes more (docs/fidelity.md, memory 9)."""
        argv = [rwtest.python_bin(), *args]
        return self.run(plain(argv) if fixed_addresses else argv, stdin=stdin, env=env,
                        timeout=timeout)

    def rewind(self, *args, stdin=None, check=True, timeout=TIMEOUT):
        proc = self.run([os.path.abspath(rwtest.rewind_bin()), *args], stdin=stdin, timeout=timeout)
        if check and proc.returncode != 0:
            raise ToolError(f"rewind {args[0]} exited {proc.returncode}: "
                            f"{last_line(proc.stderr)}")
        return proc

    def record(self):
        if self.recording is None:
            proc = self.run([os.path.abspath(rwtest.rewind_bin()), "record", "-o", self.trace, *self.target])
            if not os.path.exists(self.trace):
                raise ToolError(f"rewind record left no trace (exit {proc.returncode}): "
                                f"{last_line(proc.stderr)}")
            self.recording = proc
        return self.recording

    def path(self, name):
        return os.path.join(self.dir, name)

    def own_file(self, filename):
        """The program's own files: those of its folder (a script), CPython's test
        package (a test module)."""
        f = self.absfile(filename)
        return f.startswith(self.dir + os.sep) or f.startswith(TEST_DIR + os.sep)

    def absfile(self, filename):
        if filename.startswith("<") or filename == "~":
            return filename
        return os.path.normpath(os.path.join(self.dir, filename))


def last_line(text):
    lines = [line for line in text.strip().splitlines() if line.strip()]
    return lines[-1] if lines else "(no message)"


# ---- comparing ----

def result_equal(compared, **extra):
    return dict(status="equal", compared=compared, differing=0, **extra)


def compare_maps(ref, ours, fmt_key=str, own=None, **extra):
    """ref and ours map keys to values; a key missing on one side is None there. own(key):
    whether the key is in the program's own files (counted apart as own_differing)."""
    keys = sorted(set(ref) | set(ours), key=lambda k: tuple(map(str, k))
                  if isinstance(k, tuple) else (str(k),))
    diff = [k for k in keys if ref.get(k) != ours.get(k)]
    if not diff:
        return result_equal(len(keys), **extra)
    first = [f"{fmt_key(k)}: reference {ref.get(k)}, rewind {ours.get(k)}"
             for k in diff[:FIRST]]
    if own:
        extra["own_differing"] = sum(1 for k in diff if own(k))
        extra["own_first"] = [f"{fmt_key(k)}: reference {ref.get(k)}, rewind {ours.get(k)}"
                              for k in diff if own(k)][:FIRST]
    return dict(status="differs", compared=len(keys), differing=len(diff), first=first,
                only_reference=sum(1 for k in diff if k not in ours),
                only_rewind=sum(1 for k in diff if k not in ref), **extra)


def compare_texts(label, ref, ours):
    """The first differing lines of two texts, as 'label line N: reference ..., rewind ...'."""
    a, b = ref.splitlines(), ours.splitlines()
    out = []
    for tag, i1, i2, j1, j2 in difflib.SequenceMatcher(None, a, b, autojunk=False).get_opcodes():
        if tag != "equal":
            out.append(f"{label} line {i1 + 1}: reference {a[i1:i2][:3]!r}, rewind "
                       f"{b[j1:j2][:3]!r}")
    return out


REWIND_LINE = re.compile(r"^rewind( [a-z]+)?: .*\n?", re.M)
UNITTEST_TIME = re.compile(r"^(Ran \d+ tests?) in \d+\.\d+s$", re.M)
# pytest's summary: "1 failed, 6 passed in 0.08s" (-q), "=== 7 passed in 0.08s ==="
PYTEST_TIME = re.compile(r"^(=* ?\d+ (?:passed|failed|errors?|skipped|deselected|xfailed|"
                         r"xpassed|warnings?)\b.*) in \d+\.\d+s\b", re.M)


def normalise_output(text, ours):
    if ours:
        text = REWIND_LINE.sub("", text)
    return PYTEST_TIME.sub(r"\1", UNITTEST_TIME.sub(r"\1", text))


def tool_output(run):
    plain = run.python(*run.target)
    rec = run.record()
    diffs = []
    if plain.returncode != rec.returncode:
        diffs.append(f"exit status: reference {plain.returncode}, rewind {rec.returncode}")
    diffs += compare_texts("stdout", normalise_output(plain.stdout, False),
                           normalise_output(rec.stdout, True))
    diffs += compare_texts("stderr", normalise_output(plain.stderr, False),
                           normalise_output(rec.stderr, True))
    compared = 1 + len(plain.stdout.splitlines()) + len(plain.stderr.splitlines())
    if not diffs:
        return result_equal(compared, exit_status=plain.returncode)
    return dict(status="differs", compared=compared, differing=len(diffs),
                first=diffs[:FIRST], exit_status=plain.returncode)


ADDRESS = re.compile(r" at 0x[0-9a-f]+")


def prof_counts(path):
    """{(file, line, name): (ncalls, primcalls)} of a .prof file, keys as written but for
    the addresses in C functions' labels (`<built-in method __new__ of type object at
    0x9534a0>`): a static type's address is the binary's, python3's or rewind's."""
    out = {}
    for (f, line, name), v in pstats.Stats(path).stats.items():
        k = (f, line, ADDRESS.sub(" at 0x...", name))
        out[k] = tuple(a + b for a, b in zip(out.get(k, (0, 0)), (v[1], v[0])))
    return out


def fmt_func(key):
    return f"{key[0]}:{key[1]}({key[2]})"


def profiles(run):
    """(reference counts, rewind counts): `python3 -m cProfile -o ref.prof TARGET` and
    `rewind stats T -o rw.prof`, each as written, made once per program. Nothing is
    taken out of either: rewind's default window is cProfile's (docs/stats.md)."""
    if "profiles" not in run.cache:
        ref = run.python("-m", "cProfile", "-o", run.path("ref.prof"), *run.target)
        if not os.path.exists(run.path("ref.prof")):
            raise ToolError(f"cProfile wrote no profile (exit {ref.returncode}): "
                            f"{last_line(ref.stderr)}")
        run.record()
        run.rewind("stats", run.trace, "-o", run.path("rw.prof"))
        run.cache["profiles"] = (prof_counts(run.path("ref.prof")),
                                 prof_counts(run.path("rw.prof")))
    return run.cache["profiles"]


def tool_stats(run):
    """ncalls and primitive calls per function, keyed as each .prof file writes them."""
    ref, ours = profiles(run)
    return compare_maps(ref, ours, fmt_func, own=lambda k: run.own_file(k[0]))


def tool_stats_keys(run):
    """The .prof keys as written: (file name as cProfile spells it, line, name)."""
    ref, ours = profiles(run)
    return compare_maps(dict.fromkeys(ref, 1), dict.fromkeys(ours, 1), fmt_func,
                        own=lambda k: run.own_file(k[0]))


def parse_lcov(path, run):
    counts, source = {}, None
    with open(path) as fp:
        for line in fp:
            line = line.rstrip("\n")
            if line.startswith("SF:"):
                source = run.absfile(line[3:])
            elif line.startswith("DA:"):
                num, n = line[3:].split(",")[:2]
                if int(n):
                    counts[(source, int(num))] = int(n)
    return counts


def tool_coverage(run):
    out = run.path("ref_trace.json")
    ref = run.python(os.path.join(HERE, "ref_trace.py"), out, *run.target)
    if not os.path.exists(out):
        raise ToolError(f"trace reference failed (exit {ref.returncode}): "
                        f"{last_line(ref.stderr)}")
    skip = {os.path.join(HERE, "ref_trace.py"), os.path.abspath(
        os.path.join(os.path.dirname(pstats.__file__), "trace.py"))}
    with open(out) as fp:
        ref_json = json.load(fp)
    pre = {run.absfile(f) for f in ref_json["preimported"]}
    skip |= pre
    ref_counts = {(run.absfile(f), line): n for f, line, n in ref_json["counts"]
                  if run.absfile(f) not in skip}
    run.record()
    run.rewind("coverage", run.trace, "--lcov", run.path("rw.info"))
    ours_all = parse_lcov(run.path("rw.info"), run)
    # frozen modules ("<frozen os>"): trace counts them, rewind coverage leaves out every
    # file named <...> (docs/coverage.md); counted apart
    frozen = {k: v for k, v in ref_counts.items() if k[0].startswith("<")}
    ref_counts = {k: v for k, v in ref_counts.items() if k not in frozen}
    files = {f for f, _ in ref_counts}
    ours = {k: v for k, v in ours_all.items() if k[0] in files}
    extra = sorted({f for f, _ in ours_all} - files - skip)
    return compare_maps(ref_counts, ours, lambda k: f"{k[0]}:{k[1]}",
                        own=lambda k: run.own_file(k[0]), files=len(files),
                        rewind_only_files=len(extra), excluded_files=len(pre),
                        frozen_lines_reference=len(frozen))


def snapshot_lines(run):
    """The memory positions of a script: its lines marked `# rewind-snapshot`, or the
    corpus entry's "snapshots" list."""
    spec = run.entry.get("snapshots", "markers" if run.script else None)
    if spec == "unittest" or spec is None:
        return spec
    if spec == "markers":
        with open(run.path(run.script)) as fp:
            return [n for n, line in enumerate(fp, 1) if "# rewind-snapshot" in line]
    return list(spec)


def stats_of(snapshot, run):
    return {(run.absfile(s.traceback[0].filename), s.traceback[0].lineno): (s.size, s.count)
            for s in snapshot.statistics("lineno")}


def tool_memory(run):
    lines = snapshot_lines(run)
    if not lines:
        return dict(status="skip", compared=0, differing=0, message="no snapshot position")
    out = run.path("ref_memory.json")
    if lines == "unittest":
        ref = run.python(os.path.join(HERE, "ref_memory.py"), out, "unittest", *run.target,
                         fixed_addresses=True)
        positions = {"unittest": f"{UNITTEST_MAIN}:{unittest_exit_line()}"}
    else:
        ref = run.python(os.path.join(HERE, "ref_memory.py"), out,
                         ",".join(map(str, lines)), *run.target, fixed_addresses=True)
        positions = {str(n): f"{run.script}:{n}" for n in lines}
    if not os.path.exists(out):
        raise ToolError(f"tracemalloc reference failed (exit {ref.returncode}): "
                        f"{last_line(ref.stderr)}")
    with open(out) as fp:
        ref_json = json.load(fp)
    ref_stats = ref_json["snapshots"]
    skip = {run.absfile(f) for f in ref_json["preimported"]}
    run.record()
    ref_all, ours_all = {}, {}
    for label, pos in positions.items():
        if label not in ref_stats:
            raise ToolError(f"the reference never reached {pos}")
        pickle = run.path(f"rw-{label}.pickle")
        # ref_memory.py starts tracemalloc with the program, as tracemalloc.start() on
        # its first line would: the blocks start-up made stay untraced when reused.
        run.rewind("memory", run.trace, "--at", pos, "--traced-since", "program", "-o", pickle)
        ours = stats_of(tracemalloc.Snapshot.load(pickle), run)
        for k, v in ours.items():
            if k[0] not in skip:
                ours_all[(label, *k)] = v
        for f, line, size, count in ref_stats[label]:
            if run.absfile(f) not in skip:
                ref_all[(label, run.absfile(f), line)] = (size, count)
    result = compare_maps(ref_all, ours_all, lambda k: f"@{k[0]} {k[1]}:{k[2]}",
                          own=lambda k: run.own_file(k[1]), positions=len(positions), excluded_files=len(skip))
    result["size_reference"] = sum(v[0] for v in ref_all.values())
    result["size_rewind"] = sum(v[0] for v in ours_all.values())
    return result


# pdb's end of a program that raised SystemExit (unittest's runs, sys.exit(3))
PDB_EXIT = ("The program exited via sys.exit().",)
AUTO_SESSION = ["c", "w", "s", "n", "n", "s", "w", "p sorted(locals())"]


def first_test_line(dotted):
    """(file, line) of the first statement of the first test method of a test module or
    class given as unittest names it (test.test_x or test.test_x.Class)."""
    import ast
    import importlib.util
    parts = dotted.split(".")
    for n in range(len(parts), 0, -1):
        try:
            spec = importlib.util.find_spec(".".join(parts[:n]))
        except (ImportError, AttributeError, ValueError):
            spec = None
        if spec and spec.origin and spec.origin.endswith(".py"):
            break
    else:
        raise ToolError(f"no source file for {dotted}")
    rest = parts[n:]
    with open(spec.origin) as fp:
        tree = ast.parse(fp.read())
    for cls in tree.body:
        if not isinstance(cls, ast.ClassDef) or (rest and cls.name != rest[0]):
            continue
        for fn in cls.body:
            if isinstance(fn, ast.FunctionDef) and fn.name.startswith("test"):
                body = fn.body
                if (len(body) > 1 and isinstance(body[0], ast.Expr)
                        and isinstance(body[0].value, ast.Constant)):
                    body = body[1:]
                return spec.origin, body[0].lineno
    raise ToolError(f"no test method in {spec.origin}")


def pdb_sessions(run):
    """The entry's sessions; "auto": a breakpoint on the first statement of the first
    test method of the (first) test module named, then AUTO_SESSION."""
    sessions = run.entry.get("pdb") or []
    if sessions == "auto":
        module = run.entry["module"]
        path, line = first_test_line(run.entry["args"][0] if module == "unittest" else module)
        sessions = [[f"b {path}:{line}", *AUTO_SESSION]]
    return sessions


PDB_STRING_FRAME = re.compile(r"^(\(rewind\) )?  <string>\(1\)<module>\(\)->.*\n", re.M)


def normalise_transcript(text):
    """normalise_pdb (tests/e2e/test_replay.py) and, in a `where` at the script's return,
    pdb's `<string>(1)<module>()->None` frame: bdb's `exec(cmd, globals, locals)` runs
    the script from a `<string>` frame whose locals are the script's globals, so the
    `__return__` bdb stores there at the script's return shows on it too."""
    return PDB_STRING_FRAME.sub(r"\1", normalise_pdb(text))


def before_quit(text, commands):
    """The transcript up to the prompt that reads the final `q` (the prompt after the
    session's commands): what pdb does after it is not the session's (in a unittest run
    pdb's BdbQuit is a test error, and the run goes on to its end)."""
    at = -1
    for _ in range(commands + 1):
        at = text.find("(rewind) ", at + 1)
        if at < 0:
            return text
    return text[:at]


def tool_pdb(run):
    sessions = pdb_sessions(run)
    if not sessions:
        return dict(status="skip", compared=0, differing=0, message="no pdb session")
    run.record()
    diffs, commands = [], 0
    for i, session in enumerate(sessions, 1):
        cmds = "".join(c + "\n" for c in [*session, "q"])
        commands += len(session)
        theirs = run.python("-m", "pdb", *run.target, stdin=cmds, env={"HOME": run.dir},
                            timeout=PDB_TIMEOUT)
        ours = run.rewind("replay", "--no-rc", run.trace, stdin=cmds, timeout=PDB_TIMEOUT)
        t_text, t_end = cut_at_end(before_quit(normalise_transcript(theirs.stdout), len(session)),
                                   PDB_ENDS + PDB_EXIT)
        o_text, o_end = cut_at_end(before_quit(normalise_transcript(ours.stdout), len(session)), [OUR_END])
        d = compare_texts(f"session {i}", t_text, o_text)
        if t_end != o_end:
            d.append(f"session {i}: program end reached: reference {t_end}, rewind {o_end}")
        diffs += d
    if not diffs:
        return result_equal(len(sessions), commands=commands)
    return dict(status="differs", compared=len(sessions), differing=len(diffs),
                first=diffs[:FIRST], commands=commands)


TOOL_FUNCS = {"output": tool_output, "stats": tool_stats, "stats-keys": tool_stats_keys,
              "coverage": tool_coverage,
              "memory": tool_memory, "pdb": tool_pdb}


def run_entry(entry, workdir, tools=TOOLS):
    """{tool: result} for one corpus program."""
    run = Run(entry, workdir)
    results = {}
    for tool in tools:
        try:
            results[tool] = TOOL_FUNCS[tool](run)
        except ToolError as exc:
            results[tool] = dict(status="error", message=str(exc))
        except Exception as exc:  # a reference or parsing failure: say which
            results[tool] = dict(status="error", message=f"{type(exc).__name__}: {exc}")
    if run.recording is not None:
        warnings = [line for line in run.recording.stderr.splitlines()
                    if REWIND_LINE.match(line) and not line.startswith("rewind: recorded")]
        if warnings:
            results["record_warnings"] = warnings[:FIRST]
    return results


# ---- reporting ----

def cell(result):
    if result is None:
        return ""
    status = result["status"]
    if status == "differs":
        own = result.get("own_differing")
        return f"{result['differing']} differ" + ("" if own is None else f" ({own} own)")
    return status


def table(results, tools):
    names = list(results)
    width = max([len("program")] + [len(n) for n in names])
    cols = [max([len(t)] + [len(cell(r.get(t))) for r in results.values()]) for t in tools]
    lines = ["program".ljust(width) + "  " + "  ".join(t.ljust(w) for t, w in zip(tools, cols))]
    for name in names:
        lines.append(name.ljust(width) + "  " + "  ".join(
            cell(results[name].get(t)).ljust(w) for t, w in zip(tools, cols)))
    return "\n".join(line.rstrip() for line in lines)


def totals(results):
    """How much was compared: programs, functions (stats keys), lines (coverage keys),
    memory positions and (position, line) keys, pdb sessions and commands."""
    t = dict(programs=len(results), functions=0, lines=0, memory_positions=0,
             memory_lines=0, pdb_sessions=0, pdb_commands=0)
    for res in results.values():
        get = lambda tool: res.get(tool) if res.get(tool, {}).get("status") in (  # noqa
            "equal", "differs") else None
        if get("stats"):
            t["functions"] += get("stats")["compared"]
        if get("coverage"):
            t["lines"] += get("coverage")["compared"]
        if get("memory"):
            t["memory_positions"] += get("memory").get("positions", 0)
            t["memory_lines"] += get("memory")["compared"]
        if get("pdb"):
            t["pdb_sessions"] += get("pdb")["compared"]
            t["pdb_commands"] += get("pdb").get("commands", 0)
    return t


def check_expectations(results, expected):
    """Mismatches between results and expected.json ("equal", "differs: <cause>",
    "error: <cause>", "skip: <why>" per program and tool, or "varies: <cause>" for a
    cell that is equal in some runs and differs in others), one message each."""
    bad = []
    for name, res in results.items():
        for tool, r in res.items():
            if tool not in TOOLS:
                continue
            want = expected.get(name, {}).get(tool)
            if want is None:
                bad.append(f"{name} {tool}: {cell(r)}, and expected.json says nothing")
                continue
            want_status = want.split(":")[0].strip()
            if want_status == "varies" and r["status"] in ("equal", "differs"):
                continue
            if want_status != r["status"]:
                detail = "; ".join(r.get("first", [])[:2]) or r.get("message", "")
                bad.append(f"{name} {tool}: expected {want!r}, got {cell(r)}"
                           + (f" ({detail})" if detail else ""))
    return bad

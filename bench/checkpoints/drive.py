"""bench/checkpoints driver (run.sh): replays TRACE with values and times, at 30
random positions (fixed seed), goto / rstep / rnext / rcontinue (to a breakpoint) each
followed by `p`, after one forward run to the end (whose time gives the engine's
forward speed); sums the checkpoints' private dirty memory after each move. Prints
JSON."""
import json
import os
import random
import re
import select
import subprocess
import sys
import time


def log_lines(path):
    try:
        with open(path) as f:
            return [line.split() for line in f if line.strip()]
    except OSError:
        return []


def engine_pids(trace):
    pids = []
    for name in os.listdir("/proc"):
        if name.isdigit():
            try:
                with open(f"/proc/{name}/cmdline", "rb") as f:
                    argv = f.read().split(b"\0")
            except OSError:
                continue
            if b"__engine" in argv and trace.encode() in argv:
                pids.append(int(name))
    return pids


def private_dirty(pid):
    try:
        with open(f"/proc/{pid}/smaps_rollup") as f:
            m = re.search(r"^Private_Dirty:\s+(\d+) kB", f.read(), re.M)
            return int(m.group(1)) * 1024 if m else 0
    except OSError:
        return 0


class Session:
    def __init__(self, argv, env):
        self.p = subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                  stderr=subprocess.STDOUT, env=env)
        self.read()

    def read(self, timeout=900):
        out = b""
        end = time.monotonic() + timeout
        while not out.endswith(b"(rewind) "):
            left = end - time.monotonic()
            if left <= 0 or not select.select([self.p.stdout], [], [], left)[0]:
                raise SystemExit("drive.py: no prompt: " + out.decode()[-2000:])
            chunk = os.read(self.p.stdout.fileno(), 65536)
            if not chunk:
                raise SystemExit("drive.py: replay ended: " + out.decode()[-2000:])
            out += chunk
        return out.decode(errors="replace")

    def cmd(self, line):
        self.p.stdin.write(line.encode() + b"\n")
        self.p.stdin.flush()
        return self.read()

    def close(self):
        self.p.stdin.write(b"q\n")
        self.p.stdin.close()
        self.p.wait()


def main():
    rewind, trace, nevents, line, checkpoints = sys.argv[1:6]
    nevents, checkpoints = int(nevents), int(checkpoints)
    npos = int(os.environ.get("NPOS", "30"))
    log = trace + ".engine.log"
    if os.path.exists(log):
        os.remove(log)
    env = dict(os.environ, REWIND_ENGINE_LOG=log, PYTHONHASHSEED="0")
    s = Session([rewind, "replay", "--no-rc", "--checkpoints", str(checkpoints), trace], env)
    res = {"checkpoints": checkpoints, "moves": {}, "memory": []}
    s.cmd(f"break prog.py:{line}")
    s.cmd("disable 1")
    t = time.monotonic()
    out = s.cmd("goto @end") + s.cmd("p 1+1")
    res["to_end_s"] = time.monotonic() - t
    assert "\n2\n" in out or out.startswith("2\n") or "2\n(rewind)" in out, out[-500:]
    rnd = random.Random(15)
    moves = [("goto", None), ("rstep", None), ("rnext", None), ("rcontinue", "enable 1")]
    for k in range(npos):
        pos = rnd.randrange(nevents // 50, nevents - 2000)
        for name, before in moves:
            if before:
                s.cmd(before)
            command = f"goto {pos}" if name == "goto" else name
            t = time.monotonic()
            out = s.cmd(command) + s.cmd("p state['acc'] if 'state' in dir() else 0")
            dt = time.monotonic() - t
            if "***" in out:
                raise SystemExit(f"drive.py: {command}: {out[-500:]}")
            res["moves"].setdefault(name, []).append(dt)
            if before:
                s.cmd("disable 1")
        events = log_lines(log)
        cur = [int(e[1]) if e[0] == "start" else int(e[2])
               for e in events if e[0] in ("start", "resume")][-1]
        pids = engine_pids(trace)
        res["memory"].append({"n": len(pids) - 1,
                              "bytes": sum(private_dirty(p) for p in pids if p != cur),
                              "engine_rss_private": private_dirty(cur)})
    s.close()
    events = log_lines(log)
    res["starts"] = sum(1 for e in events if e[0] == "start")
    res["resumes"] = sum(1 for e in events if e[0] == "resume")
    res["taken"] = sum(1 for e in events if e[0] == "take")
    res["dropped"] = sum(1 for e in events if e[0] == "drop")
    json.dump(res, sys.stdout)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()

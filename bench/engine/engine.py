"""bench/engine/run.sh's body: times plain, record and replay (to @end with a value) of
each workload, interleaved, pinned to one vCPU and unpinned; min of the rounds."""
import os
import subprocess
import sys
import tempfile
import time

rewind, old, rounds, out_path = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]
workloads = sys.argv[5:]
top = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
wdir = os.path.join(top, "bench", "record", "workloads")
py = "/usr/bin/python3"
tmp = tempfile.mkdtemp(prefix="rewind-bench-engine-")
REPLAY_IN = "goto @end\np 1+1\nq\n"


def timed(cmd, pin, stdin=None):
    if pin:
        cmd = ["taskset", "-c", "0"] + cmd
    t0 = time.perf_counter()
    p = subprocess.run(cmd, input=stdin, capture_output=True, text=True, cwd=tmp)
    t = time.perf_counter() - t0
    if p.returncode != 0 and "replay" not in cmd:
        sys.exit(f"{' '.join(cmd)} failed: {p.stderr[-500:]}")
    return t, p


def main():
    rows = []
    for w in workloads:
        prog = os.path.join(wdir, w + ".py")
        trace = os.path.join(tmp, w + ".rwd")
        for pin in (1, 0):
            best = {}
            for r in range(rounds):
                runs = [("plain", [py, prog], None),
                        ("record", [rewind, "record", "-q", "--force", "-o", trace, prog], None),
                        ("replay", [rewind, "replay", trace], REPLAY_IN)]
                if old:
                    runs.append(("old replay", [old, "replay", trace], REPLAY_IN))
                for name, cmd, stdin in runs:
                    t, p = timed(cmd, pin, stdin)
                    if name.endswith("replay") and "(rewind) 2" not in p.stdout:
                        sys.exit(f"{name} of {w} showed no value:\n{p.stdout[-800:]}\n"
                                 f"{p.stderr[-800:]}")
                    best[name] = min(best.get(name, t), t)
            rows.append((w, "1 vCPU" if pin else "2 vCPUs", best))
            print(w, "pinned" if pin else "unpinned",
                  " ".join(f"{k}={v:.3f}" for k, v in best.items()), flush=True)
    lines = ["# rewind replay: the engine's speed", "",
             f"Made by `bench/engine/run.sh {rounds}` on "
             f"{time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())} ({os.cpu_count()} vCPUs; "
             f"load average before: {open('/proc/loadavg').read().split()[0]}).",
             f"rewind: `{rewind}`" + (f"; old: `{old}`" if old else "") + ".",
             "",
             "Seconds, min of the rounds (interleaved). replay: `rewind replay TRACE` with "
             "`goto @end`, `p 1+1`, `q` (the whole command: the front end's start and its "
             "damage pass, the engine's start, the re-execution to the last event, the value). "
             "Target: replay/plain at most record/plain.", ""]
    head = "| workload | cores | plain | record | replay | record/plain | replay/plain | replay/record |"
    if old:
        head += " old replay | old/new |"
    lines += [head, "|" + "---|" * (head.count("|") - 1)]
    for w, cores, b in rows:
        line = (f"| {w} | {cores} | {b['plain']:.3f} | {b['record']:.3f} | {b['replay']:.3f} | "
                f"{b['record'] / b['plain']:.2f} | {b['replay'] / b['plain']:.2f} | "
                f"{b['replay'] / b['record']:.2f} |")
        if old:
            line += f" {b['old replay']:.3f} | {b['old replay'] / b['replay']:.2f} |"
        lines.append(line)
    open(out_path, "w").write("\n".join(lines) + "\n")
    print("\n".join(lines))


main()

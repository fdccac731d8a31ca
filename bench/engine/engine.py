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


def timed(cmd, pin):
    if pin:
        cmd = ["taskset", "-c", "0"] + cmd
    t0 = time.perf_counter()
    p = subprocess.run(cmd, capture_output=True, text=True, cwd=tmp)
    t = time.perf_counter() - t0
    if p.returncode != 0:
        sys.exit(f"{' '.join(cmd)} failed: {p.stderr[-500:]}")
    return t


def timed_replay(cmd, pin):
    """(seconds to the value on stdout, seconds to the command's end)."""
    if pin:
        cmd = ["taskset", "-c", "0"] + cmd
    t0 = time.perf_counter()
    p = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE, cwd=tmp)
    p.stdin.write(REPLAY_IN.encode())
    p.stdin.close()
    out, at = b"", None
    while True:
        b = p.stdout.read1(65536)
        if not b:
            break
        out += b
        if at is None and b"(rewind) 2\n" in out:
            at = time.perf_counter() - t0
    err = p.stderr.read()
    p.wait()
    end = time.perf_counter() - t0
    if at is None:
        sys.exit(f"{' '.join(cmd)} showed no value:\n{out[-800:]!r}\n{err[-800:]!r}")
    return at, end


def main():
    rows = []
    for w in workloads:
        prog = os.path.join(wdir, w + ".py")
        trace = os.path.join(tmp, w + ".rwd")
        # The old build replays its own recording: another build's has other addresses,
        # and a replay whose allocations differ compares less (a note, not a
        # divergence), which made the old build look faster.
        old_trace = os.path.join(tmp, w + ".old.rwd")
        if old:
            subprocess.run([old, "record", "-q", "--force", "-o", old_trace, prog], cwd=tmp,
                           stdout=subprocess.DEVNULL, check=True)
        for pin in (1, 0):
            best = {}
            for r in range(rounds):
                for name, cmd in (("plain", [py, prog]),
                                  ("record", [rewind, "record", "-q", "--force", "-o", trace,
                                              prog])):
                    best[name] = min(best.get(name, 1e9), timed(cmd, pin))
                for name, cmd in (("replay", [rewind, "replay", trace]),
                                  ("no ckpt", [rewind, "replay", "--checkpoints", "0", trace]),
                                  ("old replay", [old, "replay", old_trace] if old else None)):
                    if not cmd:
                        continue
                    at, end = timed_replay(cmd, pin)
                    best[name] = min(best.get(name, 1e9), at)
                    best[name + " end"] = min(best.get(name + " end", 1e9), end)
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
             "`goto @end`, `p 1+1`, `q`, timed to the value on its output (the front end's "
             "start, the engine's start, the re-execution to the last event with its check "
             "against the log, the value); replay end: to the command's end (the front end's "
             "background damage pass over the whole trace, held back while the engine runs, "
             "finishes first); no ckpt: the same with `--checkpoints 0` (no snapshots taken "
             "on the way: what checkpoints cost the first run). "
             "Target: replay/plain at most record/plain.", ""]
    head = ("| workload | cores | plain | record | replay | replay end | record/plain | "
            "replay/plain | replay/record | end/record | no ckpt | no ckpt/record |")
    if old:
        head += " old replay | old/new |"
    lines += [head, "|" + "---|" * (head.count("|") - 1)]
    for w, cores, b in rows:
        line = (f"| {w} | {cores} | {b['plain']:.3f} | {b['record']:.3f} | {b['replay']:.3f} | "
                f"{b['replay end']:.3f} | {b['record'] / b['plain']:.2f} | "
                f"{b['replay'] / b['plain']:.2f} | {b['replay'] / b['record']:.2f} | "
                f"{b['replay end'] / b['record']:.2f} | {b['no ckpt']:.3f} | "
                f"{b['no ckpt'] / b['record']:.2f} |")
        if old:
            line += f" {b['old replay']:.3f} | {b['old replay'] / b['replay']:.2f} |"
        lines.append(line)
    open(out_path, "w").write("\n".join(lines) + "\n")
    print("\n".join(lines))


main()

"""Latency of rewind replay's navigation commands at random positions of a trace.

    python3 bench/replay/bench_replay.py TRACE [--rewind build/rewind] [--samples 20]
                                               [--break FILE:LINE] [--seed 1]

Drives one `rewind replay` session through pipes, the way a user at the prompt does:
for each sample, `goto` a random event, then runs one command and measures the time
from writing the command to reading the next "(rewind) " prompt (so the figure
includes decoding, searching, printing and the pipe). Prints min / median / p90 / max
per command in milliseconds. --break sets a breakpoint first, for continue and
rcontinue (without one they run to the end or start of the program).
"""

import argparse
import os
import random
import statistics
import subprocess
import sys
import time

PROMPT = b"(rewind) "


class Session:
    def __init__(self, rewind, trace):
        # --no-values: navigation alone (a --Return-- stop would otherwise ask the
        # re-execution engine for its value, which runs the program to that point)
        self.p = subprocess.Popen([rewind, "replay", "--no-rc", "--no-values", trace],
                                  stdin=subprocess.PIPE,
                                  stdout=subprocess.PIPE, bufsize=0)
        self.buf = b""
        self.read_prompt()

    def read_prompt(self):
        while not self.buf.endswith(PROMPT):
            chunk = os.read(self.p.stdout.fileno(), 65536)
            if not chunk:
                raise RuntimeError("rewind replay ended: " + self.buf[-500:].decode())
            self.buf += chunk
        out, self.buf = self.buf, b""
        return out

    def cpu(self):
        """CPU time of the session's main thread so far, in seconds (the background
        damage check runs in another thread): /proc's schedstat, in nanoseconds."""
        with open("/proc/%d/task/%d/schedstat" % (self.p.pid, self.p.pid)) as f:
            return int(f.read().split()[0]) / 1e9

    def cmd(self, line):
        c0 = self.cpu()
        t0 = time.perf_counter()
        self.p.stdin.write(line.encode() + b"\n")
        out = self.read_prompt()
        self.last_cpu = self.cpu() - c0
        return time.perf_counter() - t0, out.decode(errors="replace")

    def close(self):
        self.p.stdin.write(b"q\n")
        self.p.wait()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("trace")
    ap.add_argument("--rewind", default=os.path.join(os.path.dirname(__file__), "..", "..",
                                                     "build", "rewind"))
    ap.add_argument("--samples", type=int, default=20)
    ap.add_argument("--break", dest="brk")
    ap.add_argument("--seed", type=int, default=1)
    a = ap.parse_args()
    s = Session(a.rewind, a.trace)
    _, out = s.cmd("when")
    n = int(out.split(" of ")[1].split(",")[0])
    if a.brk:
        print(s.cmd("b " + a.brk)[1].strip().splitlines()[0])
    rng = random.Random(a.seed)
    cmds = ["step", "next", "return", "continue", "until", "rstep", "rnext", "rreturn",
            "rcontinue", "runtil", "where", "list"]
    if a.brk:
        # goto FILE:LINE: the first time the breakpoint's line ran (issue 17)
        cmds.append("goto " + os.path.basename(a.brk))
    times = {c: [] for c in cmds + ["goto"]}
    cpus = {c: [] for c in cmds + ["goto"]}
    for _ in range(a.samples):
        for c in cmds:
            t, _ = s.cmd("goto %d" % rng.randrange(n))
            times["goto"].append(t)
            cpus["goto"].append(s.last_cpu)
            t, _ = s.cmd(c)
            times[c].append(t)
            cpus[c].append(s.last_cpu)
    s.close()
    print("trace: %s, %d events, %d samples per command" % (a.trace, n, a.samples))
    for title, table in (("wall time", times), ("CPU time of the session's thread", cpus)):
        print("%-22s %8s %8s %8s %8s   (ms, %s)" % ("command", "min", "median", "p90", "max",
                                                    title))
        for c, ts in table.items():
            ts = sorted(x * 1000 for x in ts)
            p90 = ts[min(len(ts) - 1, int(len(ts) * 0.9))]
            print("%-22s %8.2f %8.2f %8.2f %8.2f" % (c, ts[0], statistics.median(ts), p90,
                                                     ts[-1]))


if __name__ == "__main__":
    sys.exit(main())

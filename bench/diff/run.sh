#!/bin/bash
# `rewind diff` throughput (issue 16): records a workload of bench/record/workloads twice
# (identical control flow: the diff reads both traces whole, its worst case), then times
# `rewind diff A B` pinned to one CPU (taskset -c 1) and unpinned, min of --rounds N
# runs (default 3), and prints events per second (the events of both traces over the
# wall time). For reference, `rewind events --kinds exception` on one trace (a scan that
# decodes every chunk and prints almost nothing) is timed the same way.
#   bench/diff/run.sh [--rounds N] [--workload calls.py] [--scale N] [--rewind PATH]
# --scale N runs the workload N times in one recording (default 1: calls.py gives
# about 42M events). Run on an idle machine from a release build (scripts/build.sh).
set -euo pipefail
cd "$(dirname "$0")/../.."
rounds=3
workload=calls.py
scale=1
rewind=./build/rewind
while [ $# -gt 0 ]; do
  case "$1" in
    --rounds) rounds=$2; shift 2 ;;
    --workload) workload=$2; shift 2 ;;
    --scale) scale=$2; shift 2 ;;
    --rewind) rewind=$2; shift 2 ;;
    -h|--help) sed -n '2,10p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "run.sh: unknown option $1" >&2; exit 2 ;;
  esac
done
py=/usr/bin/python3
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
W=$(cd bench/record/workloads && pwd)/$workload
cat > "$work/driver.py" <<PY
import runpy
for _ in range($scale):
    runpy.run_path("$W", run_name="__main__")
PY
export PYTHONHASHSEED=0
for t in a b; do
  "$rewind" record -q -o "$work/$t.rwd" "$work/driver.py" > /dev/null
done
ev() { "$rewind" info --json "$1" | "$py" -c 'import json,sys; print(json.load(sys.stdin)["events"])'; }
ea=$(ev "$work/a.rwd"); eb=$(ev "$work/b.rwd")
echo "workload $workload x$scale: $ea and $eb events, $(stat -c %s "$work/a.rwd") and $(stat -c %s "$work/b.rwd") bytes"
"$rewind" diff "$work/a.rwd" "$work/b.rwd" | head -3 || true

measure() { # prints the min wall and the min user+sys CPU time over the rounds: "wall cpu"
  "$py" - "$rounds" "$@" <<'PY'
import os, subprocess, sys, time
rounds = int(sys.argv[1]); cmd = sys.argv[2:]
best_w = best_c = None
for _ in range(rounds):
    t = time.perf_counter()
    p = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    _, status, ru = os.wait4(p.pid, 0)
    w = time.perf_counter() - t
    if os.waitstatus_to_exitcode(status) not in (0, 1):
        sys.exit(f"failed: {' '.join(cmd)}")
    c = ru.ru_utime + ru.ru_stime
    best_w = w if best_w is None else min(best_w, w)
    best_c = c if best_c is None else min(best_c, c)
print(f"{best_w:.3f} {best_c:.3f}")
PY
}
rate() { "$py" -c "import sys; print(f'{($1) / $2 / 1e6:.1f}')"; }
echo "load average: $(cut -d' ' -f1-3 /proc/loadavg) (wall times need an idle machine; CPU times less so)"
printf '%-38s %8s %8s %14s %14s\n' "command" "wall s" "cpu s" "M ev/s (wall)" "M ev/s (cpu)"
for pin in "taskset -c 1" ""; do
  label=${pin:+pinned}; label=${label:-unpinned}
  read -r w c < <(measure $pin "$rewind" diff "$work/a.rwd" "$work/b.rwd")
  printf '%-38s %8s %8s %14s %14s\n' "diff A B ($label)" "$w" "$c" "$(rate "$ea + $eb" "$w")" "$(rate "$ea + $eb" "$c")"
  read -r w c < <(measure $pin "$rewind" events --kinds exception "$work/a.rwd")
  printf '%-38s %8s %8s %14s %14s\n' "events --kinds exception A ($label)" "$w" "$c" "$(rate "$ea" "$w")" "$(rate "$ea" "$c")"
done

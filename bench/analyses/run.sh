#!/bin/bash
# Analysis throughput (issue 5): records bench/analyses/workload.py once (about 76M
# events), then times each analysis of the trace against re-running the program under
# the standard tool that defines it. Prints a Markdown table; min of --rounds N runs
# (default 3). Run on an idle machine from a release build (scripts/build.sh).
#   bench/analyses/run.sh [--rounds N] [--rewind PATH]
set -euo pipefail
cd "$(dirname "$0")/../.."
rounds=3
rewind=./build/rewind
while [ $# -gt 0 ]; do
  case "$1" in
    --rounds) rounds=$2; shift 2 ;;
    --rewind) rewind=$2; shift 2 ;;
    -h|--help) sed -n '2,6p' "$0"; exit 0 ;;
    *) echo "run.sh: unknown option $1" >&2; exit 2 ;;
  esac
done
py=/usr/bin/python3
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
W=bench/analyses/workload.py
export MALLOC_TRIM_THRESHOLD_=1000000000 MALLOC_MMAP_THRESHOLD_=33554432

"$rewind" record -q -o "$work/t.rwd" "$W" > /dev/null
events=$("$rewind" info --json "$work/t.rwd" | "$py" -c 'import json,sys; print(json.load(sys.stdin)["events"])')
size=$(stat -c %s "$work/t.rwd")

# min wall and min user+sys CPU over the rounds: "wall cpu"
measure() {
  "$py" - "$rounds" "$@" <<'PY'
import os, subprocess, sys, time
rounds = int(sys.argv[1]); cmd = sys.argv[2:]
best_w = best_c = None
for _ in range(rounds):
    t = time.perf_counter()
    p = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    _, status, ru = os.wait4(p.pid, 0)
    w = time.perf_counter() - t
    if os.waitstatus_to_exitcode(status) != 0:
        sys.exit(f"failed: {' '.join(cmd)}")
    c = ru.ru_utime + ru.ru_stime
    best_w = w if best_w is None else min(best_w, w)
    best_c = c if best_c is None else min(best_c, c)
print(f"{best_w:.2f} {best_c:.2f}")
PY
}

row() { # name, rewind cmd..., --, tool cmd...
  local name=$1; shift
  local ours=() tool=()
  while [ "$1" != "--" ]; do ours+=("$1"); shift; done; shift
  tool=("$@")
  read -r ow oc <<< "$(measure "${ours[@]}")"
  read -r tw tc <<< "$(measure "${tool[@]}")"
  "$py" -c "
e=$events; ow,oc,tw,tc=$ow,$oc,$tw,$tc
print(f'| {\"$name\"} | {ow:.2f} | {oc:.2f} | {e/oc/1e6:.1f} | {tw:.2f} | {tw/ow:.1f}x |')"
}

echo "Trace: $events events, $size bytes ($(( size * 100 / events ))/100 bytes per event); $rounds rounds, min."
echo
echo "| analysis | rewind wall (s) | rewind CPU (s) | M events/s per CPU-second | standard tool re-run, wall (s) | rewind faster by |"
echo "|---|---:|---:|---:|---:|---:|"
row "stats (vs python3 -m cProfile)" "$rewind" stats "$work/t.rwd" -- \
    "$py" -m cProfile -o "$work/p.prof" "$W"
row "coverage --count (vs python3 -m trace --count)" "$rewind" coverage "$work/t.rwd" --count --coverdir "$work/cov" -- \
    "$py" -m trace --count -C "$work/tcov" "$W"
row "memory --at @end (vs python3 -X tracemalloc=25)" "$rewind" memory "$work/t.rwd" --at @end -- \
    "$py" -X tracemalloc=25 "$W"

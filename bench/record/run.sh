#!/bin/bash
# Record-overhead benchmark (issue 4, "Measure"): times `rewind record` side by side with
# cProfile, a trivial Python settrace, trace --count, tracemalloc (1 and 25 frames),
# coverage.py's CTracer and the empty C trace/profile functions (alone, and all of
# rewind's hooks together), on the four baseline workloads, and writes
# bench/record/RESULTS.md (plus the raw results.json).
#
#   bench/record/run.sh [--rounds N] [--workloads calls.py,mix.py]
#   REWIND=path/to/rewind   (default: build/rewind, built by scripts/build.sh if missing)
#
# About 10 minutes with 3 rounds on an idle 2-core VM (13 on a busy one). Run it on an
# idle machine: other processes on the vCPUs show up as noise in every ratio.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
PY=/usr/bin/python3
rounds=3
workloads=calls.py,lines.py,allocs.py,mix.py
while [ $# -gt 0 ]; do
  case "$1" in
    --rounds) rounds=$2; shift 2 ;;
    --rounds=*) rounds=${1#*=}; shift ;;
    --workloads) workloads=$2; shift 2 ;;
    --workloads=*) workloads=${1#*=}; shift ;;
    -h|--help) sed -n '2,12p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "run.sh: unknown argument '$1' (try --help)" >&2; exit 2 ;;
  esac
done
T0=$(date +%s)
echo "== rewind and ctracer_floor (setup.sh)"
. "$here/setup.sh"

echo "== coverage.py tracer check"
covtmp=$(mktemp -d)
(cd "$here/workloads" && $PY -m coverage run --debug=sys --data-file="$covtmp/.coverage" \
   calls.py 2>&1) | grep -E '^ *tracer:' | grep -q CTracer \
  || { echo "run.sh: coverage.py is not using its CTracer (python3-coverage)" >&2; exit 1; }
rm -rf "$covtmp"

{
  echo "date:      $(date -u +%Y-%m-%dT%H:%M:%SZ)"
  echo "kernel:    $(uname -sr)"
  echo "cpu:       $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ //') x $(nproc) cores"
  echo "os:        Debian $(cat /etc/debian_version)"
  echo "python:    $($PY -c 'import sys; print(sys.executable, sys.version.split()[0])')"
  echo "rewind:    $("$REWIND" --version 2>&1) ($(git -C "$top" describe --always --dirty 2>/dev/null || echo '?'), $(grep -m1 CMAKE_BUILD_TYPE: "$(dirname "$REWIND")/CMakeCache.txt" 2>/dev/null | cut -d= -f2 || echo '?'))"
  echo "gcc:       $(gcc --version | head -1)"
  echo "coverage:  $($PY -m coverage --version | head -1)"
  echo "rounds:    $rounds"
} > "$here/env.txt"
cat "$here/env.txt"

echo "== timing ($rounds interleaved rounds)"
$PY "$here/bench.py" "$rounds" "$here/results.json" "$workloads"
$PY "$here/report.py" "$here/results.json"
echo "== done in $(( $(date +%s) - T0 )) s; see $here/RESULTS.md"

#!/bin/bash
# The replay engine's speed (issue 14): the time `rewind replay` takes to reach the
# last event of a run with a value shown (`goto @end`, `p 1+1`, `q`; timed to the value
# on its output, and to the command's end), against the untraced run and
# against `rewind record` of the same program, pinned to one vCPU and on two. The
# target: replay/plain at most record/plain. Min of interleaved rounds.
#
#   bench/engine/run.sh [ROUNDS] [WORKLOAD...]     (default: 5 rounds; calls lines
#                                                   allocs mix from bench/record/workloads)
#   REWIND=path/to/rewind   (default: build/rewind)
#   OLD=path/to/another/rewind   also time that build's replay of the same traces
#
# Writes bench/engine/RESULTS.md. Run it on an idle machine.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
PY=/usr/bin/python3
case "${1:-}" in -h|--help) sed -n '2,14p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;; esac
rounds=${1:-5}
shift || true
workloads=("$@")
[ ${#workloads[@]} -gt 0 ] || workloads=(calls lines allocs mix)
REWIND=${REWIND:-$top/build/rewind}
[ -x "$REWIND" ] || "$top/scripts/build.sh" >/dev/null
unset PYTHONTRACEMALLOC PYTHONPATH PYTHONHOME
exec "$PY" "$here/engine.py" "$REWIND" "${OLD:-}" "$rounds" "$here/RESULTS.md" "${workloads[@]}"

#!/bin/bash
# Two-minute recorder benchmark (issue 18): `rewind record` against its floor ('C empty,
# all hooks') on calls.py and mix.py, pinned to one vCPU and on two, 3 interleaved
# rounds; prints the ratios, the writer thread's CPU per record, bytes per event, page
# faults and peak RSS (bench/record/quick.py). The full benchmark is run.sh.
#
#   bench/record/quick.sh [ROUNDS]
#   REWIND=path/to/rewind   (default: build/rewind, built by scripts/build.sh if missing)
#
# Run it on an idle machine: other processes on the vCPUs show up in every ratio.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
PY=/usr/bin/python3
case "${1:-}" in -h|--help) sed -n '2,10p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;; esac
. "$here/setup.sh"
cd "$here" && $PY quick.py "${1:-3}"

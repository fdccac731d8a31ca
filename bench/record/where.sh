#!/bin/bash
# Where a recording's time goes (issue 18): perf's CPU profile of `rewind record` and of
# its floor ('C empty, all hooks'), pinned to one vCPU, by thread and by whose code
# (CPython, rewind's hooks, the encoder, zstd, libc, kernel), in seconds and ns per
# record, and the clock reads' estimated share (bench/record/where.py). About 1 minute.
#
#   bench/record/where.sh [calls.py,mix.py]
#   REWIND=path/to/rewind   (default: build/rewind; its build folder's libraries name
#                            rewind's own functions)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
PY=/usr/bin/python3
case "${1:-}" in -h|--help) sed -n '2,9p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;; esac
command -v perf >/dev/null || { echo "where.sh: needs perf (apt-get install linux-perf)" >&2; exit 1; }
. "$here/setup.sh"
cd "$here" && $PY where.py "${1:-calls.py,mix.py}"

#!/bin/sh
# The cost of `rewind record --until-fail N` per attempt, against running the program N
# times with python3 and against N separate `rewind record` calls (issue 16, "Measure").
# Every attempt passes (the programs always exit 0), so all N run.
#
#   bench/untilfail/run.sh [N] [ROUNDS]        (default 20 attempts, 5 rounds)
#
# Runs each way unpinned and pinned to one core (taskset -c 1), ROUNDS times, and prints
# the minimum wall time per attempt and the ratios. REWIND overrides the binary
# (default build/rewind). Run on a quiet machine; never a test.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
exec /usr/bin/python3 "$here/bench.py" "${REWIND:-$top/build/rewind}" "$top" "${1:-20}" "${2:-5}"

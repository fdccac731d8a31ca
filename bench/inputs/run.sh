#!/bin/bash
# Input capture's cost (issue 14, "Measure"): an I/O-heavy program run plainly, under a
# rewind without input capture (OLD, optional) and under this one (NEW): wall time (min
# of rounds), trace size, and the trace size the inputs add. Also the engine: time to
# reach the last line of each program with a value shown (`rewind replay` with `goto`
# and `p`), as a ratio to the untraced run.
#
#   bench/inputs/run.sh [--rounds N] [--old path/to/old/rewind]
#   REWIND=path/to/rewind (default build/rewind)
#
# About 3 minutes with 3 rounds. Run it on an idle machine.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
PY=/usr/bin/python3
rounds=3
old=""
while [ $# -gt 0 ]; do
  case "$1" in
    --rounds) rounds=$2; shift 2 ;;
    --old) old=$2; shift 2 ;;
    -h|--help) sed -n '2,11p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "run.sh: unknown argument '$1' (try --help)" >&2; exit 2 ;;
  esac
done
REWIND=${REWIND:-$top/build/rewind}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
echo "== data in $work"
head -c $((100 * 1024 * 1024)) /dev/urandom > "$work/big.bin"
$PY - "$work/tree" <<'PY'
import os, sys
root = sys.argv[1]
for d in range(100):
    p = os.path.join(root, "d%03d" % d)
    os.makedirs(p)
    for f in range(100):
        with open(os.path.join(p, "f%03d" % f), "w") as fh:
            fh.write("x" * (f + 1))
PY
cp "$here/io_read.py" "$here/io_tree.py" "$work/"
cd "$work"

best() { # best wall time in seconds of "$@" over $rounds rounds
  local b=""
  for _ in $(seq "$rounds"); do
    local t0 t1
    t0=$(date +%s.%N); "$@" >/dev/null 2>&1; t1=$(date +%s.%N)
    b=$(echo "$t0 $t1 ${b:-999999}" | awk '{d=$2-$1; print (d<$3)?d:$3}')
  done
  echo "$b"
}

printf "%-10s %10s %10s %10s %8s %12s %12s %10s\n" program plain_s old_s new_s new/old old_trace new_trace engine/plain
for prog in io_read io_tree; do
  arg=big.bin; [ $prog = io_tree ] && arg=tree
  plain=$(best $PY $prog.py $arg)
  olds="-"; ratio="-"; oldsize="-"
  if [ -n "$old" ]; then
    olds=$(best "$old" record -o old.rwd --force $prog.py $arg)
    oldsize=$(stat -c %s old.rwd)
  fi
  news=$(best "$REWIND" record -o new.rwd --force $prog.py $arg)
  newsize=$(stat -c %s new.rwd)
  [ -n "$old" ] && ratio=$(echo "$news $olds" | awk '{printf "%.3f", $1/$2}')
  # The engine: to the program's last event, with a value shown.
  last=$("$REWIND" info new.rwd --json | $PY -c 'import json,sys; print(json.load(sys.stdin)["events"]-1)')
  t0=$(date +%s.%N)
  printf 'goto %s\np 1+1\nq\n' "$last" | "$REWIND" replay new.rwd >/dev/null 2>&1 || true
  t1=$(date +%s.%N)
  eng=$(echo "$t0 $t1 $plain" | awk '{printf "%.2f", ($2-$1)/$3}')
  printf "%-10s %10.3f %10s %10.3f %8s %12s %12s %10s\n" $prog "$plain" "$olds" "$news" "$ratio" "$oldsize" "$newsize" "$eng"
done

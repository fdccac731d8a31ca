#!/bin/sh
# Latency of rewind replay's navigation commands on a 100-million-event trace (issue 6).
#
#   bench/replay/run.sh [--samples N] [--rewind PATH] [--trace PATH]
#
# Records bench/replay/workload.py once (about 15 s; kept at --trace for later runs),
# then runs bench_replay.py three times: with a breakpoint in rare() (line 12, run every
# ~6 M events), with one on the line of the busy loop that calls it (line 20: the frame
# is always live, the line rarely runs), and with none (continue runs to the end,
# rcontinue to the start). Writes the figures to bench/replay/RESULTS.md.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
samples=30
rewind="$top/build/rewind"
trace=/tmp/rewind-bench-replay.rwd
while [ $# -gt 0 ]; do
    case "$1" in
    --samples) samples=$2; shift 2 ;;
    --rewind) rewind=$2; shift 2 ;;
    --trace) trace=$2; shift 2 ;;
    *) echo "usage: $0 [--samples N] [--rewind PATH] [--trace PATH]" >&2; exit 2 ;;
    esac
done
py=/usr/bin/python3
if [ ! -f "$trace" ]; then
    echo "recording $here/workload.py into $trace ..." >&2
    "$rewind" record -q -o "$trace" "$here/workload.py"
fi
out="$here/RESULTS.md"
{
    echo "# rewind replay: command latency on a 100-million-event trace"
    echo
    echo "Made by \`bench/replay/run.sh --samples $samples\` on $(date -u '+%Y-%m-%d %H:%M UTC')"
    echo "($(nproc) cores; load average before: $(cut -d' ' -f1-3 /proc/loadavg))."
    echo "Each figure is the time from sending the command to the next prompt, after a"
    echo "\`goto\` to a random event; $samples samples per command."
    echo
    "$rewind" info "$trace" | grep -E '^(format|events) '
    for brk in "$here/workload.py:12" "$here/workload.py:20" ""; do
        echo
        if [ -n "$brk" ]; then
            echo "## breakpoint at workload.py:${brk##*:}"
            set -- --break "$brk"
        else
            echo "## no breakpoint"
            set --
        fi
        echo
        echo '```'
        "$py" "$here/bench_replay.py" "$trace" --rewind "$rewind" --samples "$samples" "$@" |
            grep -v '^Breakpoint'
        echo '```'
    done
} >"$out"
cat "$out"

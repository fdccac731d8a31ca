#!/bin/bash
# Checkpoints benchmark (issue 15, "Measure"): records a CPU-bound program that runs
# about S seconds untraced (the issue asks 60; default 15 for a contributor), replays
# it with values, runs the engine to the end once (its forward speed against the
# untraced run), then times goto, rstep, rnext and rcontinue (to a breakpoint), each
# followed by `p`, at 30 random positions (fixed seed): median and max; and the private
# dirty memory the checkpoints hold after each. Writes bench/checkpoints/RESULTS.md.
#
#   bench/checkpoints/run.sh [--seconds S] [--checkpoints N] [--positions N] [--pin CPU]
#                            [--no-base]
#   REWIND=path/to/rewind   (default: build/rewind)
#
# About 12 x S seconds plus the moves (7 x S with --no-base, which leaves out the forward
# run without checkpoints). --pin runs everything under taskset -c CPU.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
PY=/usr/bin/python3
REWIND=${REWIND:-$top/build/rewind}
seconds=15
checkpoints=2000
positions=30
pin=""
base=1
while [ $# -gt 0 ]; do
  case "$1" in
    --seconds) seconds=$2; shift 2 ;;
    --checkpoints) checkpoints=$2; shift 2 ;;
    --positions) positions=$2; shift 2 ;;
    --pin) pin=$2; shift 2 ;;
    --no-base) base=0; shift ;;
    -h|--help) sed -n '2,15p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "run.sh: unknown argument '$1' (try --help)" >&2; exit 2 ;;
  esac
done
[ -x "$REWIND" ] || { echo "run.sh: no rewind at $REWIND: build it (scripts/build.sh)" >&2; exit 1; }
run=()
[ -n "$pin" ] && run=(taskset -c "$pin")
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cp "$here/prog.py" "$work/"
cd "$work"
export PYTHONHASHSEED=0

now() { date +%s.%N; }
# Calibrate: rounds for about $seconds untraced. The interpreter's start-up is timed
# apart (10 rounds): with 200 rounds it was a third of the time, and a "60 s" program
# ran 40 s.
t0=$(now); "${run[@]}" $PY prog.py 10 >/dev/null; t1=$(now)
"${run[@]}" $PY prog.py 2010 >/dev/null; t2=$(now)
rounds=$($PY -c "print(max(10, int(2000 * $seconds / max(1e-3, ($t2 - $t1) - ($t1 - $t0)))))")
t0=$(now); "${run[@]}" $PY prog.py "$rounds" >/dev/null; t1=$(now)
untraced=$($PY -c "print($t1 - $t0)")
echo "== untraced: $rounds rounds in $untraced s"
t0=$(now); "${run[@]}" "$REWIND" record -o t.rwd prog.py "$rounds" >/dev/null 2>rec.txt; t1=$(now)
recorded=$($PY -c "print($t1 - $t0)")
nevents=$(grep -o 'recorded [0-9,]* events' rec.txt | tr -dc 0-9)
echo "== recorded: $nevents events in $recorded s"
line=$(grep -n '# BREAK' prog.py | cut -d: -f1)
NPOS=$positions "${run[@]}" $PY "$here/drive.py" "$REWIND" "$work/t.rwd" "$nevents" "$line" \
  "$checkpoints" > drive.json
# The same forward run without checkpoints: what they cost the engine going forwards.
if [ "$base" = 1 ]; then
  NPOS=0 "${run[@]}" $PY "$here/drive.py" "$REWIND" "$work/t.rwd" "$nevents" "$line" 0 > base.json
else
  echo '{}' > base.json
fi
$PY - "$untraced" "$recorded" "$nevents" "$seconds" "$pin" "$rounds" "$here/RESULTS.md" <<'PYEOF'
import json, statistics, sys, os, platform
untraced, recorded, nevents, seconds, pin, rounds, out = sys.argv[1:8]
untraced, recorded = float(untraced), float(recorded)
r = json.load(open("drive.json"))
base = json.load(open("base.json"))
mem = r["memory"]
lines = []
lines.append(f"## {'pinned to CPU ' + pin if pin else 'unpinned'}: {seconds} s program, "
             f"--checkpoints {r['checkpoints']}")
lines.append("")
lines.append(f"- program: bench/checkpoints/prog.py {rounds} rounds, {int(nevents):,} events; "
             f"untraced {untraced:.2f} s, recording {recorded:.2f} s ({recorded/untraced:.2f}x)")
lines.append(f"- engine forward: `goto @end` + `p` from the start in {r['to_end_s']:.2f} s, "
             f"**{r['to_end_s']/untraced:.2f}x the untraced run** "
             f"({int(nevents)/r['to_end_s']/1e6:.2f} M events/s)" +
             (f"; without checkpoints (--checkpoints 0) {base['to_end_s']:.2f} s "
              f"({base['to_end_s']/untraced:.2f}x)" if base else " (--no-base: not run "
              "without checkpoints)"))
lines.append("")
lines.append("| move (then `p`) | n | median | max | under 1 s |")
lines.append("|---|---|---|---|---|")
for name in ("goto", "rstep", "rnext", "rcontinue"):
    v = r["moves"].get(name, [])
    if v:
        lines.append(f"| {name} | {len(v)} | {statistics.median(v)*1000:.0f} ms | "
                     f"{max(v)*1000:.0f} ms | {sum(1 for x in v if x < 1)}/{len(v)} |")
lines.append("")
lines.append(f"- checkpoints: {r['taken']} taken, {r['dropped']} dropped, {r['resumes']} "
             f"resumed, {r['starts']} engine start(s)")
lines.append(f"- live checkpoints after each position: max {max(m['n'] for m in mem)}; "
             f"their private dirty memory: median "
             f"{statistics.median(m['bytes'] for m in mem)/2**20:.1f} MiB, max "
             f"{max(m['bytes'] for m in mem)/2**20:.1f} MiB "
             f"(the engine's own: {statistics.median(m['engine_rss_private'] for m in mem)/2**20:.1f} MiB)")
lines.append("")
text = "\n".join(lines) + "\n"
print(text)
head = ("# bench/checkpoints results\n\n"
        "bench/checkpoints/run.sh (issue 15): see run.sh's header for what is measured. "
        "Machine: " + platform.machine() + ", " + str(os.cpu_count()) + " vCPUs, shared "
        "with other jobs while it ran (figures are noisy: one run each).\n\n")
old = open(out).read() if os.path.exists(out) else head
if not old.startswith("# bench/checkpoints"):
    old = head
open(out, "w").write(old + text)
PYEOF

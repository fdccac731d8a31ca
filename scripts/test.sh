#!/bin/bash
# Runs every test of rewind, in three stages (docs/building.md):
#   1. release build (scripts/build.sh, build/): ctest -- unit (Check), fuzz corpora, e2e;
#   2. ASan+UBSan build (build-asan/): unit, fuzz corpora and e2e tests again;
#   3. libFuzzer (build-fuzz/, clang only): each tests/fuzz/fuzz_*.c for FUZZ_SECONDS.
# Stops at the first failing stage with a non-zero status. About 28 minutes on 2 cores.
#
#   --no-asan, --no-fuzz     skip stage 2 or 3
#   FUZZ_SECONDS=30          time per fuzz target (0 skips stage 3)
#   JOBS=2                   parallel ctest jobs
#   BUILD_DIR, ASAN_BUILD_DIR, FUZZ_BUILD_DIR   build directories (build, build-asan, build-fuzz)
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"

asan=1
fuzz=1
for arg in "$@"; do
  case "$arg" in
    --no-asan) asan=0 ;;
    --no-fuzz) fuzz=0 ;;
    -h|--help) sed -n '2,11p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "test.sh: unknown option '$arg' (try --help)" >&2; exit 2 ;;
  esac
done
jobs=${JOBS:-2}
fuzz_seconds=${FUZZ_SECONDS:-30}
build=${BUILD_DIR:-build}
build_asan=${ASAN_BUILD_DIR:-build-asan}
build_fuzz=${FUZZ_BUILD_DIR:-build-fuzz}
t_start=$(date +%s)
stage() { echo; echo "==== test.sh: $* ($(( $(date +%s) - t_start )) s)"; }

# Tests use Debian's interpreter (the one rewind embeds), never a pyenv/venv python3 from PATH.
unset PYTHONPATH PYTHONHOME PYTHONSTARTUP PYTHONTRACEMALLOC
export PYTHONDONTWRITEBYTECODE=1

stage "1/3 release build ($build/) and ctest"
BUILD_DIR=$build scripts/build.sh
(cd "$build" && ctest --output-on-failure -j "$jobs")

if [ "$asan" = 1 ]; then
  stage "2/3 ASan+UBSan build ($build_asan/) and ctest"
  # Debug keeps asserts on; -O1 keeps the recorded e2e programs from crawling.
  cmake -S . -B "$build_asan" -DCMAKE_BUILD_TYPE=Debug -DCMAKE_C_FLAGS_DEBUG="-g -O1" \
    -DREWIND_SANITIZE=ON
  cmake --build "$build_asan" -j "$(nproc)"
  export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
  # Unit tests and fuzz corpora: everything on, leaks included.
  (cd "$build_asan" && ASAN_OPTIONS=detect_leaks=1:abort_on_error=1:strict_string_checks=1 \
     ctest --output-on-failure -j "$jobs" -L 'unit|fuzz')
  # e2e: `rewind record` embeds libpython, which by design does not free everything it
  # allocated (interned strings, static types, module state kept until exit), so
  # LeakSanitizer would report libpython at every exit; our own leaks are caught by the
  # unit tests above, which drive the same format code without an interpreter.
  # One at a time: two sanitized interpreters on two cores starve the crash tests'
  # watchdogs and signal round trips (test_crash took 100-380 s at -j2 and missed its
  # timeout report; 24 s alone), and the whole stage is no slower serial.
  (cd "$build_asan" && ASAN_OPTIONS=detect_leaks=0:abort_on_error=1 \
     ctest --output-on-failure -j 1 -L e2e)
fi

targets=()
for src in tests/fuzz/fuzz_*.c; do
  [ -e "$src" ] && targets+=("$(basename "$src" .c)")
done
if [ "$fuzz" = 1 ] && [ "$fuzz_seconds" -gt 0 ] && [ ${#targets[@]} -gt 0 ]; then
  if command -v clang >/dev/null 2>&1; then
    stage "3/3 libFuzzer, ${fuzz_seconds} s per target ($build_fuzz/): ${targets[*]}"
    # fuzzer-no-link instruments the libraries too, so coverage guides the search into
    # the reader and codec and not only through the target's own file.
    CC=clang cmake -S . -B "$build_fuzz" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DREWIND_FUZZ=ON \
      -DREWIND_SANITIZE=ON -DCMAKE_C_FLAGS=-fsanitize=fuzzer-no-link
    cmake --build "$build_fuzz" -j "$(nproc)" --target "${targets[@]}"
    mkdir -p "$build_fuzz/artifacts"
    for t in "${targets[@]}"; do
      bin=$build_fuzz/tests/$t  # tests/CMakeLists.txt builds them in the tests/ subfolder
      [ -x "$bin" ] || bin=$build_fuzz/$t
      work=$(mktemp -d)
      seeds=tests/fuzz/corpus/$t
      [ -d "$seeds" ] || seeds=
      log=$build_fuzz/$t.log
      echo "-- $t (log: $log)"
      # First the seeds, each run six times over in one process with no quarantine: a
      # block freed in one run comes back in the next at once, so what a run leaves
      # behind meets the next (a stale record of a freed FILE failed the sanitizer's own
      # check that way, 1 fuzzing run in 5).
      if [ -n "$seeds" ] && ! ASAN_OPTIONS=detect_leaks=1:quarantine_size_mb=0 "$bin" \
           -runs=6 "$seeds"/* >"$log" 2>&1; then
        grep -vE '^(Executed|Running) ' "$log" | tail -n 60
        echo "test.sh: $t fails on its seeds run again" >&2
        exit 1
      fi
      # New inputs go to the scratch corpus (first directory), never into the source tree.
      # The log holds whatever the target prints (a CLI target prints an error per input):
      # only its summary, or its tail after a failure, goes to the terminal.
      if ASAN_OPTIONS=detect_leaks=1 "$bin" -max_total_time="$fuzz_seconds" \
           -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
           -artifact_prefix="$build_fuzz/artifacts/$t-" "$work" ${seeds:+"$seeds"} \
           >"$log" 2>&1; then
        grep -E '^(Done [0-9]+ runs|stat::(number_of_executed_units|new_units_added))' "$log"
        rm -rf "$work"
      else
        grep -vE '^#[0-9]+[[:space:]]+(NEW|REDUCE|pulse)|^"|^###### ' "$log" | tail -n 60
        echo "test.sh: $t found a failing input: see $build_fuzz/artifacts/" >&2
        rm -rf "$work"
        exit 1
      fi
    done
  else
    stage "3/3 libFuzzer skipped: clang is not installed (scripts/install-deps.sh installs it)"
  fi
fi

stage "all tests passed"

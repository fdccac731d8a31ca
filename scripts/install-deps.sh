#!/bin/bash
# Installs the Debian packages that rewind's build, tests and benchmarks need.
#
# Idempotent: when every package is already installed it does nothing (no apt-get at all).
# Works as root or through sudo, never asks a question (DEBIAN_FRONTEND=noninteractive), and
# runs `apt-get update` once, only when something is missing. Debian 12 (bookworm) or later.
set -euo pipefail

packages=(
  # build
  cmake make pkg-config gcc libc6-dev
  libzstd-dev libprotobuf-c-dev protobuf-c-compiler libcapstone-dev libunwind-dev
  python3-dev            # libpython3.11 + python-3.11-embed.pc, the interpreter rewind embeds
  libseccomp-dev         # the replay engine's sandbox (a seccomp filter)
  libreadline-dev        # line editing and history in `rewind replay` (optional in CMake)
  # tests
  check                  # Check unit-test framework
  clang libclang-rt-14-dev # libFuzzer and sanitizer runtimes for the fuzz targets
  python3 python3-pytest # end-to-end tests record `-m pytest` runs
  libpython3.11-testsuite  # CPython's own test modules, recorded by the e2e tests
  zstd                   # the CLI: tests/e2e/pyreader.py falls back to it
  strace                 # tests/e2e/test_values.py: a replay performs nothing
  python3-coverage       # tests/e2e/test_chain.py (coverage.py under rewind); bench/record
  python3-gi gir1.2-glib-2.0 # tests/e2e/test_values.py: a GLib main loop's clock reads
  # benchmarks (bench/record)
  hyperfine util-linux
)

missing=()
for p in "${packages[@]}"; do
  status=$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)
  [ "$status" = "install ok installed" ] || missing+=("$p")
done

if [ ${#missing[@]} -eq 0 ]; then
  echo "install-deps: all ${#packages[@]} packages are installed"
  exit 0
fi
echo "install-deps: installing ${missing[*]}"

if [ "$(id -u)" -eq 0 ]; then
  as_root=()
elif command -v sudo >/dev/null 2>&1; then
  # Without a terminal sudo must not wait for a password it can never get.
  if [ -t 0 ]; then as_root=(sudo); else as_root=(sudo -n); fi
else
  echo "install-deps: need root to install ${missing[*]}: run as root or install sudo" >&2
  exit 1
fi

apt=("${as_root[@]}" env DEBIAN_FRONTEND=noninteractive apt-get -q -y
     -o DPkg::Lock::Timeout=300)
"${apt[@]}" update
"${apt[@]}" install --no-install-recommends "${missing[@]}"
echo "install-deps: done"

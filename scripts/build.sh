#!/bin/bash
# Configures and builds rewind: RelWithDebInfo (-O2 -g), warnings as errors, in build/.
#
#   scripts/build.sh                 # ./build/rewind
#   BUILD_DIR=out scripts/build.sh   # another build directory
#   scripts/build.sh -DREWIND_SANITIZE=ON   # extra arguments go to cmake's configure step
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
build_dir=${BUILD_DIR:-build}

cmake -S . -B "$build_dir" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DREWIND_WERROR=ON "$@"
cmake --build "$build_dir" -j "$(nproc)"
echo "build: $top/$build_dir/rewind"

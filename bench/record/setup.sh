# Sourced by run.sh, quick.sh and where.sh (with $here, $top and $PY set): the rewind binary
# ($REWIND, built when missing) and the floor's extension module (ctracer_floor, in
# $RW_BENCH_MODDIR, removed at exit), then a line naming the build.
unset PYTHONTRACEMALLOC PYTHONPATH PYTHONHOME
export REWIND=${REWIND:-$top/build/rewind}
if [ ! -x "$REWIND" ]; then
  echo "== building rewind (scripts/build.sh)"
  "$top/scripts/build.sh" >/dev/null
fi
RW_BENCH_MODDIR=$(mktemp -d)
export RW_BENCH_MODDIR
trap 'rm -rf "$RW_BENCH_MODDIR"' EXIT
gcc -O2 -Wall -shared -fPIC $($PY-config --includes) "$here/ctracer_floor.c" \
    -o "$RW_BENCH_MODDIR/ctracer_floor$($PY-config --extension-suffix)"
echo "rewind: $("$REWIND" --version 2>&1) ($(git -C "$top" describe --always --dirty 2>/dev/null || echo '?'))"

"""Run a script under one in-process tracer:  python3 runwith.py MODE script.py [args]

MODE:
  none       no tracer (shows what this wrapper costs by itself)
  pytrace    sys.settrace(trivial Python tracer that returns itself)
  cfloor     ctracer_floor.start()          empty C trace function
  cprofile   ctracer_floor.start_profile()  empty C profile function
  cfull      ctracer_floor.start_full()     both, plus pass-through allocators

ctracer_floor is imported from $RW_BENCH_MODDIR (where run.sh built it), else from
this directory.
"""
import os
import runpy
import sys

here = os.path.dirname(os.path.abspath(__file__))


def _pytrace(frame, event, arg):
    return _pytrace


def main():
    mode, script = sys.argv[1], sys.argv[2]
    sys.argv = sys.argv[2:]
    sys.path[0] = os.path.dirname(os.path.abspath(script))
    sys.path.append(os.environ.get("RW_BENCH_MODDIR") or here)
    ct = None
    if mode in ("cfloor", "cprofile", "cfull"):
        import ctracer_floor as ct
    if mode == "none":
        pass
    elif mode == "pytrace":
        sys.settrace(_pytrace)
    elif mode == "cfloor":
        ct.start()
    elif mode == "cprofile":
        ct.start_profile()
    elif mode == "cfull":
        ct.start_full()
    else:
        raise SystemExit("runwith.py: unknown mode " + mode)
    try:
        runpy.run_path(script, run_name="__main__")
    finally:
        sys.settrace(None)
        if ct is not None:
            ct.stop()


if __name__ == "__main__":
    main()

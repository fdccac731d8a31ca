"""bench/untilfail/run.sh's measurements (see there)."""
import os
import shutil
import subprocess
import sys
import tempfile
import time

rewind, top, n, rounds = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
PY = "/usr/bin/python3"
tmp = tempfile.mkdtemp(prefix="rw-bench-uf-")
tiny = os.path.join(tmp, "tiny.py")
with open(tiny, "w") as f:
    f.write("print('ok')\n")
orders = os.path.join(top, "examples", "orders.py")
env = dict(os.environ, PYTHONHASHSEED="0", PYTHONDONTWRITEBYTECODE="1")


def clean():
    for name in os.listdir(tmp):
        if name.endswith(".rwd"):
            os.unlink(os.path.join(tmp, name))


def timed(argvs, pin):
    """Wall time of running argvs one after the other (stdout discarded)."""
    pre = ["taskset", "-c", "1"] if pin else []
    clean()
    t0 = time.perf_counter()
    for argv in argvs:
        r = subprocess.run(pre + argv, cwd=tmp, env=env, stdout=subprocess.DEVNULL,
                           stderr=subprocess.DEVNULL)
        if r.returncode != 0:
            sys.exit(f"{' '.join(argv)} exited {r.returncode}")
    return time.perf_counter() - t0


def ways(prog):
    return {
        "python3 x N": [[PY, prog]] * n,
        "rewind record x N": [[rewind, "record", "-q", "--force", "-o", "t.rwd", prog]] * n,
        "--until-fail N": [[rewind, "record", "-q", "--until-fail", str(n), "-o", "t.rwd",
                            prog]],
        "--until-fail N --keep all": [[rewind, "record", "-q", "--until-fail", str(n),
                                       "--keep", "all", "-o", "t.rwd", prog]],
        "--until-fail N --chaos": [[rewind, "record", "-q", "--until-fail", str(n),
                                    "--chaos", "-o", "t.rwd", prog]],
    }


print(f"rewind record --until-fail: {n} attempts, min of {rounds} rounds, ms per attempt")
for label, prog in (("tiny (print)", tiny), ("examples/orders.py", orders)):
    for pin in (False, True):
        best = {}
        for _ in range(rounds):
            for way, argvs in ways(prog).items():
                t = timed(argvs, pin) / n * 1000
                best[way] = min(best.get(way, t), t)
        base = best["rewind record x N"]
        print(f"\n{label}, {'pinned to cpu 1' if pin else 'unpinned'}:")
        for way, t in best.items():
            print(f"  {way:28s} {t:8.1f} ms   {t / best['python3 x N']:5.2f}x python3"
                  f"   {t / base:5.2f}x separate records")
shutil.rmtree(tmp, ignore_errors=True)

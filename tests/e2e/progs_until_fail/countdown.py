"""Fails on a chosen attempt: each run counts itself in ./count; run number FAIL_AT
(argv[1]) ends as argv[2] says: 'exit' (status 3), 'signal' (SIGTERM), 'hang'
(sleeps, for --timeout). Every run starts a Python subprocess first, which rewind
follows into a trace of its own."""
import os
import signal
import subprocess
import sys
import time

fail_at, how = int(sys.argv[1]), sys.argv[2]
n = int(open("count").read()) + 1 if os.path.exists("count") else 1
with open("count", "w") as f:
    f.write(str(n))
subprocess.run([sys.executable, "-c", "print('child of run', %d)" % n], check=True)
print("run", n)
print("run", n, "on stderr", file=sys.stderr)
if n == fail_at:
    if how == "exit":
        sys.exit(3)
    if how == "signal":
        os.kill(os.getpid(), signal.SIGTERM)
    if how == "hang":
        time.sleep(60)

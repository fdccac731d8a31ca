# Works, then waits to be killed. The test sends the dump signal first (a dump makes
# everything so far durable), then SIGKILL.
import sys


def work(n):
    return sum(i * i for i in range(n))


work(20000)
print("ready", flush=True)
sys.stdin.readline()

import sys


def step(i):
    return i * 2


print("ready", flush=True)
i = 0
while True:
    i = step(i) % 1000003

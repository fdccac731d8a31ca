"""bench/checkpoints workload: CPU-bound Python with a bit of everything an engine
replays (calls, lines, small allocations, dicts, randomness from the log). argv[1]:
rounds (run.sh calibrates it to the wanted untraced duration)."""
import random
import sys


def step(state, i):
    x = state["acc"]
    x = (x * 31 + i + random.randrange(7)) % 1000003
    state["acc"] = x
    state["hist"].append(x % 97)
    if len(state["hist"]) > 64:
        del state["hist"][:16]
    return x


def block(state, n):
    total = 0
    for i in range(n):
        total += step(state, i)  # BREAK
    return total


def main(rounds):
    state = {"acc": 1, "hist": []}
    grand = 0
    for k in range(rounds):
        grand += block(state, 500)
        state["k"] = k
    print(grand)


main(int(sys.argv[1]) if len(sys.argv) > 1 else 100)

# Branches on a random draw: random is seeded from os.urandom (a logged getrandom read),
# so two recordings take either branch.
import random


def choose():
    x = random.random()
    if x < 0.5:
        side = "low"  # BRANCH-LOW
    else:
        side = "high"  # BRANCH-HIGH
    return side


def main():
    print(choose())


main()

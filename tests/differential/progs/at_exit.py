"""A program that imports atexit itself (as logging, tempfile and concurrent.futures
do) and registers a function: python3 has not imported atexit before the program, and
neither may the recording seem to (the output says whether it is in sys.modules before
the import; cProfile counts the import's load), and the function registered still runs
at exit."""

import sys

print("atexit imported before the program:", "atexit" in sys.modules)

import atexit  # noqa: E402


def goodbye(name):
    print("goodbye from", name)


atexit.register(goodbye, "at_exit.py")
print("registered")  # rewind-snapshot

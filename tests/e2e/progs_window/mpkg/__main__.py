import atexit
import sys

import mpkg.empty
from mpkg import CONFIG
from mpkg.helper import fib, squares


def goodbye():
    total = squares(3)
    print("goodbye", total)


# A reload of a module runpy's own imports loaded before the program (and that
# python3 -m cProfile has loaded too): a load in both runs.
del sys.modules["keyword"]
import keyword  # noqa: E402

atexit.register(goodbye)
print(squares(CONFIG["n"]), fib(8))

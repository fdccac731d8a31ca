import atexit

import mpkg.empty
from mpkg import CONFIG
from mpkg.helper import fib, squares


def goodbye():
    total = squares(3)
    print("goodbye", total)


atexit.register(goodbye)
print(squares(CONFIG["n"]), fib(8))

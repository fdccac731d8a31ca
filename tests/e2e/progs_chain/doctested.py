"""A module tested by doctest.testmod and doctest.testfile, as a doctest-based suite
runs it. doctest saves sys.gettrace() and puts it back around every example run.

>>> square(4)
16
"""
import doctest
import os
import sys


def square(x):
    """
    >>> square(3)
    9
    >>> [square(i) for i in range(4)]
    [0, 1, 4, 9]
    """
    return x * x


def cube(x):
    """A failing example, so that the report is printed.

    >>> cube(2)
    9
    """
    y = square(x)
    return y * x


def after_doctest(n):
    return sum(cube(i) for i in range(n))


if __name__ == "__main__":
    print("testmod", doctest.testmod())
    here = os.path.dirname(os.path.abspath(__file__))
    print("testfile", doctest.testfile(os.path.join(here, "doctested.txt"),
                                       module_relative=False,
                                       globs={"square": square, "cube": cube}))
    print("trace function after doctest:", sys.gettrace())
    print("after", after_doctest(5))

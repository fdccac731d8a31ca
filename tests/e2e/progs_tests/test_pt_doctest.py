"""Doctests collected by pytest --doctest-modules, beside a plain test."""


def square(x):
    """
    >>> square(3)
    9
    """
    return x * x


def cube(x):
    """
    >>> cube(2)
    9
    """
    return x * x * x


def test_plain():
    assert square(2) == 4

"""Helper module imported by cov_main.py."""

FACTOR = 7


def scale(x):
	# a tab-indented function: .cover files expand tabs like trace does
	return x * FACTOR


def fail():
    raise ValueError("expected")


def unused_helper():
    return [
        1,
        2,
    ]

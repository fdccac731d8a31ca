"""A program that stops in pdb (breakpoint() calls pdb.set_trace()) three times and is
driven by commands on stdin. With PYTHONBREAKPOINT=0 breakpoint() does nothing: the run
to compare the recording with."""


def helper(v):
    w = v * 10
    return w


def compute(a):
    x = a * 2
    breakpoint()
    y = x + 1
    z = helper(y)
    return z


def later(n):
    return [compute(i) for i in range(n)]


print("result", compute(5))
print("later", later(2))
print("done")

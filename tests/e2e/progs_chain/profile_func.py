"""sys.setprofile with a profile function of our own: every event it gets, printed.
It is set at module level, and again from inside a key function that sorted() calls (a C
call in progress when the function is set: CPython gives no c_return for it)."""
import sys

seen = []


def prof(frame, event, arg):
    name = arg.__name__ if event.startswith("c_") else frame.f_code.co_name
    seen.append((event, name, frame.f_code.co_name))


def leaf(x):
    return abs(x) + len(str(x))


def key(v):
    if v == 2:
        sys.setprofile(prof)
    return -leaf(v)


sys.setprofile(prof)
print("getprofile is ours:", sys.getprofile() is prof)
total = sum(map(leaf, [-1, 2, -3]))
sys.setprofile(None)
order = sorted([1, 2, 3], key=key)
sys.setprofile(None)
print("getprofile after:", sys.getprofile())
print(total, order)
for item in seen:
    print(item)

"""sys.settrace with a tracer of our own: prints every (event, function, line) it gets.

Exercises what CPython's trampoline does with the trace function's results: the global
function's value for 'call' becomes the frame's local function, a local function
returning None on a line, f_trace_lines = False, f_trace_opcodes = True, a frame's
f_trace set by hand, gettrace/settrace round trips and sys.settrace(None).
"""
import sys

ME = __file__
seen = []


def note(frame, event):
    if frame.f_code.co_filename == ME:
        seen.append((event, frame.f_code.co_name, frame.f_lineno))


def local(frame, event, arg):
    note(frame, event)
    name = frame.f_code.co_name
    if name == "stops_locally" and event == "line":
        return None          # CPython 3.11 keeps f_trace: the frame is still traced
    if name == "swaps" and event == "line":
        return other         # the frame's local function becomes `other`
    return local


def other(frame, event, arg):
    note(frame, "other:" + event)
    return other


def global_trace(frame, event, arg):
    note(frame, event)
    name = frame.f_code.co_name
    if name == "untraced":
        return None          # no local function: only the 'call' is seen
    if name == "quiet":
        frame.f_trace_lines = False
        seen.append(("f_trace_lines", frame.f_trace_lines))
    if name == "opcodes":
        frame.f_trace_opcodes = True
    return local


def untraced(n):
    total = 0
    for i in range(n):
        total += i
    return total


def quiet(n):
    a = n + 1
    b = a * 2
    return b


def opcodes(n):
    return n * 3 + 1


def stops_locally():
    x = 1
    y = x + 1
    return y


def swaps():
    u = 1
    v = u + 1
    return v


def raises():
    try:
        raise KeyError("k")
    except KeyError:
        return "handled"


def gen():
    yield 1
    yield 2


def main():
    untraced(3)
    quiet(2)
    opcodes(4)
    stops_locally()
    swaps()
    raises()
    list(gen())


print("gettrace before:", sys.gettrace())
sys.settrace(global_trace)
print("gettrace is ours:", sys.gettrace() is global_trace)
main()
saved = sys.gettrace()
sys.settrace(None)
main()                       # not traced
sys.settrace(saved)
main()
sys.settrace(sys.gettrace())  # a round trip changes nothing
main()
sys.settrace(None)
print("gettrace after:", sys.gettrace())
for item in seen:
    print(item)
print(len(seen), "events")

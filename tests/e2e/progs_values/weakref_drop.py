"""A thread that lets the GIL go between a weak reference's death and its callback.

The popper thread pops objects that only a one-item list holds: the pop returns (the
last record of its run when the interpreter switches there), the value's deallocation
clears the weak reference to it, then calls the reference's callback. Traced, CPython
3.11 checks the eval breaker at the callback's first instruction, before its call event,
so a switch can come at either of two checks with no record between them: after the
pop's call, or in the callback, with the reference dead and its callback not run. The
watcher thread counts what it finds at each of its turns, which depends on where the
popper let the GIL go (test_weakref's deepcopy of a WeakValueDictionary diverged in
every replay before the recorder noted that place). At the line marked STOP, `p NAME`
shows the repr printed for NAME:
    p seen    -> the dict printed as seen=   (per place the popper ran: alive, dead
                                             before its callback, after it)
    p rounds  -> the int printed as rounds=
"""
import sys
import threading
import weakref

N = int(sys.argv[1]) if len(sys.argv) > 1 else 150000


class Value:
    pass


state = {"made": 0, "ran": 0, "ref": None}
seen = {}  # where the popper runs -> what the watcher found at its turns
done = False


def callback(ref):
    state["ran"] += 1


def popper():
    global done
    box = []
    for _ in range(N):
        v = Value()
        state["ref"] = weakref.ref(v, callback)
        state["made"] += 1
        box.append(v)
        del v
        box.pop()
    done = True


def watcher(counts):
    # No call in the loop: the thread lets the GIL go only at the loop's jump back,
    # so each pass sees one state of the popper's.
    last = None
    while not done:
        made, ran, ref = state["made"], state["ran"], state["ref"]
        here = (made, ran)
        if here == last or ref is None:
            continue
        last = here
        if ref.__callback__ is not None:  # cleared with the reference
            counts["alive"] += 1
        elif ran < made:
            counts["dead_before_callback"] += 1
        else:
            counts["after_callback"] += 1


# The popper in a thread of its own, then in the main thread (which comes to the
# check through another path).
for in_main in (False, True):
    done = False
    counts = seen["main" if in_main else "thread"] = dict.fromkeys(
        ("alive", "dead_before_callback", "after_callback"), 0)
    w = threading.Thread(target=watcher, args=(counts,))
    w.start()
    if in_main:
        popper()
    else:
        p = threading.Thread(target=popper)
        p.start()
        p.join()
    w.join()
rounds = sum(sum(c.values()) for c in seen.values())
print(f"seen={seen!r}")
print(f"rounds={rounds!r}")
finished = True  # STOP

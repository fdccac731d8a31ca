# Addresses beside faulthandler's watchdog: each dump_traceback_later starts a thread
# in C (PyThread_start_new_thread, as pytest's faulthandler_timeout does around every
# test), which frees the block it was started with when the kernel first runs it, while
# the main thread goes on allocating. Where that free came decided what the main
# thread's next small RAW blocks got, and the replay's came elsewhere. Marked lines
# print "RWVAL <line> <repr>".
import faulthandler
import sys

kept = []
for rnd in range(40):
    faulthandler.dump_traceback_later(30, exit=False)
    for i in range(200):
        kept.append({"k": i, rnd: [i] * (i % 7)})  # big dicts: RAW blocks of the main thread
        kept.append(bytearray(i * 40))
    faulthandler.cancel_dump_traceback_later()
    del kept[: len(kept) // 2]
ids = [id(o) % 1000003 for o in kept[-6:]]
print("RWVAL", sys._getframe().f_lineno, repr(ids))  # rw-value: ids
order = [kept.index(o) for o in sorted(kept[-40:], key=id)]
print("RWVAL", sys._getframe().f_lineno, repr(order))  # rw-value: order
print("RWVAL", sys._getframe().f_lineno, repr(len(kept)))  # rw-value: total

# The switch interval a program sets, read back while threads run: the engine holds
# CPython's own at an hour in a replay with threads (the GIL changes hands only at the
# recorded turns), and the program must still read the one it set.
# Marked lines print "RWVAL <line> <repr>".
import sys
import threading

sys.setswitchinterval(0.002)
done = []
t = threading.Thread(target=lambda: done.append(sum(range(20000))))
t.start()
first = sys.getswitchinterval()
print("RWVAL", sys._getframe().f_lineno, repr(first))  # rw-value: first
t.join()
sys.setswitchinterval(0.0125)
second = (sys.getswitchinterval(), done)
print("RWVAL", sys._getframe().f_lineno, repr(second))  # rw-value: second

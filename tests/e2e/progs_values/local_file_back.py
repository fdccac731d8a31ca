# A file of the Python installation that stays open while the replay goes back: the
# replay reads its local copy (not the log), through a descriptor that every fork of
# the engine shared with it, offset included. A checkpoint taken between the open and
# the first read, resumed after the engine had read on, read from the engine's offset:
# `first` showed the file's bytes 128 on (test_values
# test_a_local_file_read_again_from_a_checkpoint runs it with a checkpoint every 1,000
# events). Marked lines print "RWVAL <line> <repr>".
import os
import sys

path = os.path.join(os.path.dirname(os.__file__), "os.py")
f = open(path, "rb", buffering=0)  # each read a read(2) of its own
total = sum(i for i in range(20000))
first = f.read(64)
print("RWVAL", sys._getframe().f_lineno, repr(first[:20]))  # rw-value: first[:20]
total += sum(i for i in range(20000))
second = f.read(64)
f.close()
print("RWVAL", sys._getframe().f_lineno, repr((first[:20], second[:20])))  # rw-value: (first[:20], second[:20])

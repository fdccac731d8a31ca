# SIGSEGV sent to ourselves while a Python handler (from sitecustomize) is in place:
# the program survives, under python3 as under rewind.
import os
import signal

os.kill(os.getpid(), signal.SIGSEGV)
print("survived")

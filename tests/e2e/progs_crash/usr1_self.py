# The program sends the dump signal to itself after faulthandler's register and
# unregister (CPython's test_faulthandler test_unregister): without rewind SIGUSR1's
# default action ends the process, and so it must under `rewind record` too (the
# dump is for a signal from outside).
import faulthandler
import os
import signal
import sys

faulthandler.register(signal.SIGUSR1, file=sys.stderr)
faulthandler.unregister(signal.SIGUSR1)
print("sending", flush=True)
os.kill(os.getpid(), signal.SIGUSR1)
print("still here")

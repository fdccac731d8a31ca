# SIGUSR1 with its default action: the process dies of it.
import os
import signal

os.kill(os.getpid(), signal.SIGUSR1)
print("not reached")

# SIGFPE sent to ourselves: a raised signal (si_code SI_USER), not a hardware divide
# fault (si_code FPE_INTDIV), which pure Python cannot provoke without a C extension.
import os
import signal


def divide():
    os.kill(os.getpid(), signal.SIGFPE)


divide()

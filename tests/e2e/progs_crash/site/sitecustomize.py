# Imported by site while the interpreter starts, before rewind installs its handlers:
# a Python-level SIGSEGV handler (a C handler that only sets a flag and returns).
import signal

signal.signal(signal.SIGSEGV, lambda signum, frame: print("handled", signum, flush=True))

"""What a process asks of itself with prctl (recorder/libc/ident.c), through the C
library's prctl as C libraries call it: libcap's constructor probes the capability
bounding set so while an extension module that links it loads (python3-apt's apt_pkg).

Each value is printed once, as `name=repr(value)`; at the line marked STOP, `p NAME`
must show exactly that, with the engine's sandbox on (it allows no PR_CAPBSET_READ):
    p bound  -> the int printed as bound=   (PR_CAPBSET_READ of CAP_CHOWN)
    p last   -> the int printed as last=    (the highest capability the kernel knows,
                                             found as libcap finds it)
    p name   -> the bytes printed as name=  (PR_GET_NAME after PR_SET_NAME)
    p death  -> the int printed as death=   (PR_GET_PDEATHSIG into an int)
"""
import ctypes

libc = ctypes.CDLL(None, use_errno=True)
PR_GET_PDEATHSIG, PR_SET_NAME, PR_GET_NAME, PR_CAPBSET_READ = 2, 15, 16, 23
bound = libc.prctl(PR_CAPBSET_READ, 0, 0, 0, 0)
last = 0
while libc.prctl(PR_CAPBSET_READ, last + 1, 0, 0, 0) >= 0:
    last += 1
libc.prctl(PR_SET_NAME, b"rw-prctl", 0, 0, 0)
buf = ctypes.create_string_buffer(16)
libc.prctl(PR_GET_NAME, buf, 0, 0, 0)
name = buf.value
d = ctypes.c_int(-1)
libc.prctl(PR_GET_PDEATHSIG, ctypes.byref(d), 0, 0, 0)
death = d.value
print(f"bound={bound!r}")
print(f"last={last!r}")
print(f"name={name!r}")
print(f"death={death!r}")
done = True  # STOP

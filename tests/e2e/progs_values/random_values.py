"""State that depends on the system's randomness (recorder/libc/ident.c: getrandom and
syscall(SYS_getrandom), getentropy).

Each value is printed once, as `name=repr(value)`, on the recorded stdout. At the line
marked STOP, `p NAME` must show exactly the repr printed for NAME:
    p seed   -> the int printed as seed=     (os.urandom: getrandom)
    p r      -> the float printed as r=      (random.random() after random.seed(seed))
    p rs     -> the list printed as rs=      (random.sample, seeded the same way)
    p u      -> the UUID printed as u=       (uuid.uuid4(): os.urandom)
    p b      -> the bytes printed as b=      (os.urandom(16))
    p g      -> the bytes printed as g=      (os.getrandom(8): syscall(SYS_getrandom))
    p sr     -> the float printed as sr=     (random.SystemRandom().random())
    p tok    -> the str printed as tok=      (secrets.token_hex(8))
    p ent    -> the bytes printed as ent=    (the C library's getentropy, which makes
                the system call itself; OpenSSL seeds with it)
"""
import ctypes
import os
import random
import secrets
import uuid

seed = int.from_bytes(os.urandom(8), "little")
random.seed(seed)
r = random.random()
rs = random.sample(range(1000), 5)
u = uuid.uuid4()
b = os.urandom(16)
g = os.getrandom(8)
sr = random.SystemRandom().random()
tok = secrets.token_hex(8)
buf = ctypes.create_string_buffer(16)
assert ctypes.CDLL(None, use_errno=True).getentropy(buf, 16) == 0
ent = buf.raw
for name in ("seed", "r", "rs", "u", "b", "g", "sr", "tok", "ent"):
    print(f"{name}={globals()[name]!r}")
done = True  # STOP

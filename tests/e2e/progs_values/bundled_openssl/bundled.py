"""A library that bundles its own OpenSSL (as manylinux wheels do, libcrypto-<hash>.so.3)
next to the system's, which ssl loads: its calls of RAND_bytes_ex bind to rewind's
wrapper too, which must reach the bundled copy (recorder/libc/crypto.c)."""
import ctypes
import os
import ssl

lib = ctypes.CDLL(os.path.join(os.path.dirname(os.path.abspath(__file__)), "libcaller.so"))
buf = ctypes.create_string_buffer(8)
rc = lib.draw(buf, 8)
drawn = buf.raw.hex()
print(f"rc={rc!r}")
print(f"drawn={drawn!r}")
done = True  # STOP

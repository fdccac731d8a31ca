"""A mount table read with the C library's setmntent and getmntent (psutil's
disk_partitions() reads /proc/self/mounts so): the C library opens and reads it through
its own stdio, which no wrapper sees (recorder/libc/mntent.c). The table here is a file
of the program's, removed before its end, so that a replay that read it again would
find nothing.

Each value is printed once, as `name=repr(value)`; at the line marked STOP, `p NAME`
must show exactly that:
    p entries -> the list printed as entries=  (getmntent: fsname, dir, type, opts,
                                                freq, passno of each)
    p again   -> the list printed as again=    (getmntent_r into a buffer of ours)
    p ended   -> the int printed as ended=     (endmntent)
"""
import ctypes
import os
import tempfile


class Mntent(ctypes.Structure):
    _fields_ = [("fsname", ctypes.c_char_p), ("dir", ctypes.c_char_p),
                ("type", ctypes.c_char_p), ("opts", ctypes.c_char_p),
                ("freq", ctypes.c_int), ("passno", ctypes.c_int)]


libc = ctypes.CDLL(None, use_errno=True)
libc.setmntent.restype = ctypes.c_void_p
libc.setmntent.argtypes = [ctypes.c_char_p, ctypes.c_char_p]
libc.getmntent.restype = ctypes.POINTER(Mntent)
libc.getmntent.argtypes = [ctypes.c_void_p]
libc.getmntent_r.restype = ctypes.POINTER(Mntent)
libc.getmntent_r.argtypes = [ctypes.c_void_p, ctypes.POINTER(Mntent), ctypes.c_char_p,
                             ctypes.c_int]
libc.endmntent.argtypes = [ctypes.c_void_p]

fd, table = tempfile.mkstemp()
os.write(fd, b"/dev/vda1 / ext4 rw,relatime 0 1\nproc /proc proc rw 0 0\n"
             b"tmpfs /run tmpfs rw,nosuid,size=%d 0 0\n" % os.getpid())
os.close(fd)


def read_all(reentrant):
    f = libc.setmntent(table.encode(), b"r")
    out = []
    buf = ctypes.create_string_buffer(512)
    e = Mntent()
    while True:
        p = libc.getmntent_r(f, ctypes.byref(e), buf, 512) if reentrant else libc.getmntent(f)
        if not p:
            break
        m = p.contents
        out.append((m.fsname.decode(), m.dir.decode(), m.type.decode(), m.opts.decode(),
                    m.freq, m.passno))
    return out, libc.endmntent(f)


entries, _ = read_all(False)
again, ended = read_all(True)
os.unlink(table)
print(f"entries={entries!r}")
print(f"again={again!r}")
print(f"ended={ended!r}")
done = True  # STOP

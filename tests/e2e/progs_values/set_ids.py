"""The process's identity set (recorder/libc/ident.c, SETID): os.setgroups,
os.initgroups, os.setgid, os.setuid and the like are made when recording and not in a
replay (glibc makes every thread of the engine make them, and the sandbox stopped the
engine at the first), which answers with the recorded outcome: success as root,
PermissionError otherwise.

Each value is printed once, as `name=repr(value)`, on the recorded stdout. At the line
marked STOP, `p NAME` must show exactly the repr printed for NAME:
    p outcomes -> each call's outcome: None, or the errno it failed with
    p after    -> the groups afterwards
"""
import os
import pwd


def outcome(fn, *args):
    try:
        fn(*args)
        return None
    except OSError as e:
        return e.errno


uid, gid = os.getuid(), os.getgid()
outcomes = [outcome(os.setgroups, os.getgroups()),
            outcome(os.initgroups, pwd.getpwuid(uid).pw_name, gid),
            outcome(os.setgid, gid), outcome(os.setegid, gid), outcome(os.setuid, uid),
            outcome(os.seteuid, uid), outcome(os.setreuid, -1, uid),
            outcome(os.setregid, -1, gid), outcome(os.setresuid, -1, uid, -1),
            outcome(os.setresgid, -1, gid, -1)]
after = sorted(os.getgroups())
print(f"outcomes={outcomes!r}")
print(f"after={after!r}")
done = True  # STOP

"""The process's identity and scheduling set (recorder/libc/ident.c, SETID):
os.setgroups, os.initgroups, os.setgid, os.setuid and the like, os.setpgid and the
scheduler's setters are made when recording and not in a replay (glibc makes every
thread of the engine make the setxid calls, and the sandbox stopped the engine at the
first), which answers with the recorded outcome: success as root, PermissionError
otherwise. What is read around them (os.getsid, os.getpgid, os.getpgrp,
os.sched_getparam, os.sched_rr_get_interval) is the recording's. So are os.nice
(glibc's nice makes its getpriority and setpriority calls itself) and
socket.sethostname (set to the name it has).

Each value is printed once, as `name=repr(value)`, on the recorded stdout. At the line
marked STOP, `p NAME` must show exactly the repr printed for NAME:
    p outcomes -> each call's outcome: None, or the errno it failed with
    p after    -> the groups afterwards
    p sched    -> what the scheduler's queries and setters said
    p names    -> os.nice's answers and sethostname's outcome
"""
import os
import pwd
import socket


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
outcomes.append(outcome(os.setpgid, 0, os.getpgrp()))
sched = (os.getsid(0), os.getpgid(0), os.getpgrp(),
         outcome(os.sched_setaffinity, 0, os.sched_getaffinity(0)),
         outcome(os.sched_setscheduler, 0, os.SCHED_OTHER, os.sched_param(0)),
         outcome(os.sched_setparam, 0, os.sched_param(0)),
         os.sched_getparam(0).sched_priority, os.sched_rr_get_interval(0))
names = (os.nice(0), os.nice(1), os.nice(0),
         outcome(socket.sethostname, socket.gethostname()), socket.gethostname())
print(f"outcomes={outcomes!r}")
print(f"after={after!r}")
print(f"sched={sched!r}")
print(f"names={names!r}")
done = True  # STOP

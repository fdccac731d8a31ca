"""State that depends on who and where the program ran (recorder/libc/ident.c).

Each value is printed once, as `name=repr(value)`, on the recorded stdout. At the line
marked STOP, `p NAME` must show exactly the repr printed for NAME, on another machine,
as another user:
    p pid     -> the int printed as pid=       (os.getpid)
    p ppid    -> the int printed as ppid=      (os.getppid)
    p host    -> the str printed as host=      (socket.gethostname)
    p un      -> the uname_result printed as un=   (platform.uname(): uname)
    p uid     -> the int printed as uid=       (os.getuid)
    p user    -> the str printed as user=      (pwd.getpwuid(uid).pw_name: NSS)
    p group   -> the str printed as group=     (grp.getgrgid(os.getgid()).gr_name)
    p cpus    -> the int printed as cpus=      (os.cpu_count: sysconf)
    p aff     -> the int printed as aff=       (len(os.sched_getaffinity(0)))
    p tid     -> the int printed as tid=       (threading.get_native_id: syscall(SYS_gettid))
    p nofile  -> the tuple printed as nofile=  (resource.getrlimit: getrlimit64)
    p enc     -> the str printed as enc=       (locale.getpreferredencoding: nl_langinfo)
    p users   -> the int printed as users=     (len(pwd.getpwall()): setpwent, getpwent,
                                                endpwent; the first and last are not
                                                performed by a replay)
    p groups  -> the int printed as groups=    (len(grp.getgrall()), likewise)
    p node    -> the int printed as node=      (uuid.getnode(): libuuid's ioctls
                                                SIOCGIFCONF and SIOCGIFHWADDR)
"""
import grp
import locale
import os
import platform
import pwd
import resource
import socket
import threading
import uuid

pid = os.getpid()
ppid = os.getppid()
host = socket.gethostname()
un = platform.uname()
uid = os.getuid()
user = pwd.getpwuid(uid).pw_name
group = grp.getgrgid(os.getgid()).gr_name
cpus = os.cpu_count()
aff = len(os.sched_getaffinity(0))
tid = threading.get_native_id()
nofile = resource.getrlimit(resource.RLIMIT_NOFILE)
enc = locale.getpreferredencoding(False)
users = len(pwd.getpwall())
groups = len(grp.getgrall())
node = uuid.getnode()
for name in ("pid", "ppid", "host", "un", "uid", "user", "group", "cpus", "aff", "tid",
             "nofile", "enc", "users", "groups", "node"):
    print(f"{name}={globals()[name]!r}")
done = True  # STOP

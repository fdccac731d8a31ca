"""The system log (recorder/libc/syslog.c): the C library sends to /dev/log through
its own socket calls, which a replay must not make (its sandbox stopped the engine at
the socket before they were logged). The messages carry the run's pid, which a replay
does not send again.

Each value is printed once, as `name=repr(value)`; at the line marked STOP, `p NAME`
must show exactly that:
    p old    -> the int printed as old=   (setlogmask's previous mask)
    p again  -> the int printed as again= (the mask set just before)
    p sent   -> the int printed as sent=  (messages given to syslog)
"""
import os
import syslog

syslog.openlog("rwtest", syslog.LOG_PID, syslog.LOG_USER)
old = syslog.setlogmask(syslog.LOG_UPTO(syslog.LOG_INFO))
sent = 0
for i in range(3):
    syslog.syslog(syslog.LOG_INFO, f"rewind test message {i} from {os.getpid()}")
    sent += 1
again = syslog.setlogmask(old)
syslog.closelog()
print(f"old={old!r}")
print(f"again={again!r}")
print(f"sent={sent!r}")
done = True  # STOP

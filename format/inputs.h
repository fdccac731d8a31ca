/* Inputs: what the recorded process learned from outside, call by call (DESIGN.md,
 * "Nondeterministic inputs"). The recorder's C-library wrappers (recorder/libc/) log
 * one record per call they capture; the replay engine answers the same calls from
 * them, in the same order per thread, without performing them.
 *
 * A record is (thread, seq, position, call, result, errno, key, data, flags):
 *  - thread: the input stream (recorder/libc/input.h: 1 = the main thread, then the
 *    threads started through _thread in start order); seq counts that thread's records
 *    from 0.
 *  - position: events recorded before the call (the stream position at the time; a
 *    call made without the GIL is placed approximately).
 *  - call: what was called (enum rw_call below, stable numbers: they are in traces).
 *  - result/err: the return value (pointers as 0/1 or a length) and errno after it.
 *  - key: the arguments that identify the call (rw_in_key encoding: little-endian
 *    int64s, then optionally one NUL-free string at the end), compared on replay to
 *    find the first divergence.
 *  - data: the bytes the call produced (what read() filled in, a struct stat, ...),
 *    encoded as the wrapper documents for that call.
 *  - flags: RW_INPUT_F_*.
 *
 * In a trace the records are INPUTS frames (rewind.Inputs), in the order they were
 * logged. Owner of this header: format/ (inputs.c: the names; writer.c and reader.c:
 * the frames).
 */
#ifndef RW_INPUTS_H
#define RW_INPUTS_H

#include <stddef.h>
#include <stdint.h>

/* The calls, with their stable numbers and names. Families: files 1-79, time
 * 80-99, identity and system 100-139, network 140-179, readiness 180-189, processes
 * 190-219, output and signals 220-239, threads 240-249. Append only; never renumber. */
#define RW_CALLS(X)                                                                        \
    /* files and directories (recorder/libc/files.c) */                                    \
    X(OPEN, 1, "open")             /* open/open64/openat/openat64/creat */                 \
    X(READ, 2, "read")                                                                     \
    X(PREAD, 3, "pread")                                                                   \
    X(READV, 4, "readv")                                                                   \
    X(LSEEK, 5, "lseek")                                                                   \
    X(STAT, 6, "stat")                                                                     \
    X(LSTAT, 7, "lstat")                                                                   \
    X(FSTAT, 8, "fstat")                                                                   \
    X(FSTATAT, 9, "fstatat")                                                               \
    X(STATX, 10, "statx")                                                                  \
    X(ACCESS, 11, "access")        /* access/faccessat/eaccess */                          \
    X(GETCWD, 12, "getcwd")                                                                \
    X(READLINK, 13, "readlink")    /* readlink/readlinkat */                               \
    X(OPENDIR, 14, "opendir")                                                              \
    X(FDOPENDIR, 15, "fdopendir")                                                          \
    X(READDIR, 16, "readdir")                                                              \
    X(CLOSEDIR, 17, "closedir")                                                            \
    X(CLOSE, 18, "close")                                                                  \
    X(DUP, 19, "dup")              /* dup/dup2/dup3 */                                     \
    X(FCNTL, 20, "fcntl")                                                                  \
    X(IOCTL, 21, "ioctl")                                                                  \
    X(ISATTY, 22, "isatty")                                                                \
    X(WRITE, 23, "write")                                                                  \
    X(PWRITE, 24, "pwrite")                                                                \
    X(WRITEV, 25, "writev")                                                                \
    X(FSYNC, 26, "fsync")          /* fsync/fdatasync */                                   \
    X(FTRUNCATE, 27, "ftruncate")                                                          \
    X(UNLINK, 28, "unlink")        /* unlink/unlinkat */                                   \
    X(RENAME, 29, "rename")        /* rename/renameat/renameat2 */                         \
    X(MKDIR, 30, "mkdir")          /* mkdir/mkdirat */                                     \
    X(RMDIR, 31, "rmdir")                                                                  \
    X(CHMOD, 32, "chmod")          /* chmod/fchmod/fchmodat */                             \
    X(CHOWN, 33, "chown")          /* chown/lchown/fchown/fchownat */                      \
    X(UTIME, 34, "utimensat")      /* utimensat/futimens/utimes */                         \
    X(SYMLINK, 35, "symlink")      /* symlink/symlinkat */                                 \
    X(LINK, 36, "link")            /* link/linkat */                                       \
    X(TRUNCATE, 37, "truncate")                                                            \
    X(FOPEN, 38, "fopen")          /* fopen/fopen64/fdopen: data = the whole file read */  \
    X(FCLOSE, 39, "fclose")                                                                \
    X(GETDENTS, 40, "getdents64")  /* syscall(SYS_getdents64) */                           \
    X(COPY_FILE_RANGE, 41, "copy_file_range")                                              \
    X(SENDFILE, 42, "sendfile")                                                            \
    X(STATVFS, 43, "statvfs")      /* statvfs/fstatvfs */                                  \
    X(XATTR, 44, "getxattr")       /* getxattr/listxattr and l/f variants */               \
    X(REALPATH, 45, "realpath")                                                            \
    X(PIPE, 46, "pipe")            /* pipe/pipe2 */                                        \
    X(MMAP_FILE, 47, "mmap")       /* mmap of a file: data = the mapped bytes; also an     \
                                    * anonymous shared mapping (fd -1, no data) */         \
    X(UMASK, 48, "umask")                                                                  \
    X(CHDIR, 49, "chdir")          /* chdir/fchdir */                                      \
    X(FLOCK, 50, "flock")          /* flock/lockf */                                       \
    X(POSIX_FADVISE, 51, "posix_fadvise")                                                  \
    X(MKFIFO, 52, "mknod")         /* mkfifo/mknod and *at */                              \
    X(SPLICE, 53, "splice")        /* splice/tee: data = the two offsets after */          \
    X(MEMFD_CREATE, 54, "memfd_create") /* key: the name, flags; result: the fd */         \
    X(CHROOT, 55, "chroot")                                                                \
    X(TERMIOS, 56, "tcgetattr")    /* tcgetattr/tcsetattr/tcgetpgrp/...: key = fd, which,  \
                                    * argument; tcgetattr's data = the struct termios */     \
    X(FALLOCATE, 57, "fallocate")  /* posix_fallocate/fallocate: key = fd, mode (-1 for    \
                                    * posix_fallocate), offset, length */                    \
    X(SHARED_MEM, 58, "shared memory") /* what another process wrote to a followed shared \
                                    * mapping, before the call that may see it: data =     \
                                    * (u64 mapping's address, offset, length, bytes)...    \
                                    * (recorder/libc/shmem.c) */                            \
    X(SHARED_MAP, 59, "shared mapping") /* right after an mmap record: the new mapping    \
                                    * and an earlier one map one object: data = u64 new   \
                                    * mapping's address, its file offset, the earlier     \
                                    * one's address, its offset (recorder/libc/shmem.c) */ \
    X(MNTENT, 60, "getmntent")     /* setmntent/getmntent(_r)/endmntent: the table */     \
    /* time (recorder/libc/clock.c) */                                                     \
    X(CLOCK_GETTIME, 80, "clock_gettime")                                                  \
    X(GETTIMEOFDAY, 81, "gettimeofday")                                                    \
    X(TIME, 82, "time")                                                                    \
    X(TIMES, 83, "times")                                                                  \
    X(CLOCK, 84, "clock")                                                                  \
    X(GETRUSAGE, 85, "getrusage")                                                          \
    X(LOCALTIME, 86, "localtime")  /* localtime_r/localtime */                             \
    X(MKTIME, 87, "mktime")                                                                \
    X(TZSET, 88, "tzset")          /* data: tzname[2], timezone, daylight */               \
    X(SLEEP, 89, "nanosleep")      /* nanosleep/clock_nanosleep */                         \
    X(CLOCK_GETRES, 90, "clock_getres")                                                    \
    X(CLOCK_SETTIME, 91, "clock_settime") /* and settimeofday; not performed on replay */   \
    X(GETCPUCLOCKID, 92, "pthread_getcpuclockid") /* data: the clock id */                \
    /* identity and system (recorder/libc/ident.c) */                                      \
    X(GETRANDOM, 100, "getrandom") /* getrandom, syscall(SYS_getrandom), getentropy */  \
    X(GETPID, 101, "getpid")                                                               \
    X(GETPPID, 102, "getppid")                                                             \
    X(GETID, 103, "getuid")        /* key: which of uid/euid/gid/egid */                   \
    X(GETGROUPS, 104, "getgroups")                                                         \
    X(GETLOGIN, 105, "getlogin")                                                           \
    X(UNAME, 106, "uname")                                                                 \
    X(GETHOSTNAME, 107, "gethostname")                                                     \
    X(TTYNAME, 108, "ttyname")                                                             \
    X(CTERMID, 109, "ctermid")                                                             \
    X(GETPRIORITY, 110, "getpriority")                                                     \
    X(SCHED_GETAFFINITY, 111, "sched_getaffinity")                                         \
    X(SYSCONF, 112, "sysconf")                                                             \
    X(CONFSTR, 113, "confstr")                                                             \
    X(PATHCONF, 114, "pathconf")                                                           \
    X(GETRLIMIT, 115, "getrlimit")                                                         \
    X(GETLOADAVG, 116, "getloadavg")                                                       \
    X(GETTID, 117, "gettid")       /* syscall(SYS_gettid), gettid */                       \
    X(GETPW, 118, "getpwnam")      /* getpwuid/getpwnam (_r too): data = the entry */      \
    X(GETGR, 119, "getgrnam")      /* getgrgid/getgrnam (_r too) */                        \
    X(SETLOCALE, 120, "setlocale")                                                         \
    X(NL_LANGINFO, 121, "nl_langinfo")                                                     \
    X(SYSCALL, 122, "syscall")     /* syscall() of another number: key = the number */     \
    X(SCHED_GETSCHEDULER, 123, "sched_getscheduler")                                       \
    X(SETPRIORITY, 124, "setpriority") /* not performed on replay */                       \
    X(RAND_BYTES, 125, "RAND_bytes") /* OpenSSL's RAND_bytes_ex/RAND_priv_bytes_ex */       \
    X(RAND_STATUS, 126, "RAND_status") /* RAND_status/RAND_poll (recorder/libc/crypto.c) */ \
    X(SETID, 127, "setid") /* setuid and the like, setgroups, initgroups: not performed */  \
    X(PRCTL, 128, "prctl")         /* key: the option (and its value); not performed */    \
    /* network (recorder/libc/net.c) */                                                    \
    X(SOCKET, 140, "socket")                                                               \
    X(SOCKETPAIR, 141, "socketpair")                                                       \
    X(CONNECT, 142, "connect")                                                             \
    X(ACCEPT, 143, "accept")       /* accept/accept4: data = the peer address */           \
    X(BIND, 144, "bind")                                                                   \
    X(LISTEN, 145, "listen")                                                               \
    X(RECV, 146, "recv")           /* recv/recvfrom: data = bytes, then the address */     \
    X(RECVMSG, 147, "recvmsg")                                                             \
    X(SEND, 148, "send")           /* send/sendto */                                       \
    X(SENDMSG, 149, "sendmsg")                                                             \
    X(GETSOCKOPT, 150, "getsockopt")                                                       \
    X(SETSOCKOPT, 151, "setsockopt")                                                       \
    X(GETSOCKNAME, 152, "getsockname")                                                     \
    X(GETPEERNAME, 153, "getpeername")                                                     \
    X(SHUTDOWN, 154, "shutdown")                                                           \
    X(GETADDRINFO, 155, "getaddrinfo")                                                     \
    X(GETNAMEINFO, 156, "getnameinfo")                                                     \
    X(GETHOSTBY, 157, "gethostbyname")  /* gethostbyname_r/gethostbyaddr_r */              \
    X(GETSERVBY, 158, "getservbyname")  /* getservbyname/getservbyport */                  \
    X(GETPROTOBY, 159, "getprotobyname")                                                   \
    X(IF_NAMEINDEX, 160, "if_nameindex")                                                   \
    /* readiness (recorder/libc/net.c) */                                                  \
    X(POLL, 180, "poll")           /* poll/ppoll: data = the revents */                    \
    X(SELECT, 181, "select")       /* select/pselect: data = the three fd_sets */          \
    X(EPOLL_CREATE, 182, "epoll_create")                                                   \
    X(EPOLL_CTL, 183, "epoll_ctl")                                                         \
    X(EPOLL_WAIT, 184, "epoll_wait")                                                       \
    X(EVENTFD, 185, "eventfd")                                                             \
    /* processes (recorder/libc/proc.c, exits.c) */                                        \
    X(FORK, 190, "fork")           /* fork/vfork: result = the child's pid */              \
    X(POSIX_SPAWN, 191, "posix_spawn")                                                     \
    X(EXECVE, 192, "execve")       /* a failed exec */                                     \
    X(WAIT, 193, "waitpid")        /* waitpid/wait/wait3/wait4: data = status, rusage */   \
    X(WAITID, 194, "waitid")                                                               \
    X(KILL, 195, "kill")           /* kill/killpg/tgkill */                                \
    X(PIDFD_OPEN, 196, "pidfd_open")                                                       \
    X(PIDFD_SEND_SIGNAL, 197, "pidfd_send_signal")                                         \
    X(SIGACTION, 198, "sigaction")                                                         \
    X(SYSTEM, 199, "system")       /* key: the command; result: its status */              \
    X(FORKPTY, 200, "forkpty")     /* result: the child's pid; data: the master fd */      \
    X(OPENPTY, 201, "openpty")     /* data: the master and slave fds, the name */         \
    /* output and signals */                                                               \
    X(OUTPUT, 220, "output")       /* what fd 1 or 2 was given (no call of its own) */     \
    X(SIGNAL, 221, "signal")       /* Python signal handlers are about to run (key: the   \
                                    * signal; replay trips it there: recorder/sigwrap.h) */ \
    X(ITIMER, 222, "setitimer")    /* alarm/setitimer/getitimer (not armed on replay) */   \
    X(SIGWAIT, 223, "sigwait")     /* pause/sigwait/sigwaitinfo/sigtimedwait */            \
    X(SYSLOG, 224, "syslog")       /* openlog/syslog/closelog/setlogmask: not sent again */ \
    /* threads (recorder/libc/locks.c) */                                                  \
    X(SEM_WAIT, 240, "sem_wait")   /* sem_wait/trywait/timedwait/clockwait: key = the     \
                                    * lock's name and which; data = its turn number */   \
    X(SEM_SHARED, 241, "sem_wait (process-shared)") /* the same on a semaphore other    \
                                    * processes share (sem_open): key = which */        \
    X(SEM_GETVALUE, 242, "sem_getvalue") /* of a process-shared one: data = the value */ \
    X(SEM_POST, 243, "sem_post (process-shared)") /* of a process-shared one */     \
    X(THREAD_COUNT, 244, "_thread._count") /* result: the count (threadwrap.c) */

enum rw_call {
#define RW_CALL_ENUM(name, num, str) RW_CALL_##name = num,
    RW_CALLS(RW_CALL_ENUM)
#undef RW_CALL_ENUM
    RW_CALL_MAX = 255
};

/* Name of call ("open"), or NULL when the number is not one of ours. */
const char *rw_call_name(uint32_t call);

enum rw_input_flags {
    RW_INPUT_F_INSTALL = 1u << 0,   /* a file of the Python installation: its bytes are
                                     * not logged, replay reads the local copy */
    RW_INPUT_F_TRUNCATED = 1u << 1, /* data was cut (too big to log): replay diverges
                                     * if it needs it */
    RW_INPUT_F_SCRUBBED = 1u << 2,  /* a secret was replaced in data */
    RW_INPUT_F_EXTENTS = 1u << 3,   /* data holds extents (a file mapping with holes):
                                     * u64 count, count (u64 offset, u64 length) pairs,
                                     * then the extents' bytes in order; the rest is 0 */
    RW_INPUT_F_OPTIONAL = 1u << 4,  /* a replay that does not make this call here skips
                                     * the record (OpenSSL's draws on shared state, whose
                                     * thread is not ordered: recorder/libc/crypto.c) */
    RW_INPUT_F_STREAM = 1u << 5,    /* a stdio stream on a descriptor that is not a regular
                                     * file (fdopen of a pipe): its I/O is logged as the
                                     * descriptor's read, write, lseek and close calls
                                     * (recorder/libc/files_stdio.c) */
};

#define RW_INPUT_KEY_MAX 4352 /* 32 int64 and a PATH_MAX string */
/* Bytes of data one record keeps: the writer cuts more (RW_INPUT_F_TRUNCATED) so that
 * any record fits in one frame (RW_FRAME_MAX, container.h, less room for the rest). */
#define RW_INPUT_DATA_MAX ((256u << 20) - (64u << 10))

typedef struct rw_input {
    uint32_t thread;
    uint32_t call;
    uint64_t seq;
    uint64_t position;
    uint64_t started; /* events before the call began, when fewer than position; else 0 */
    int64_t result;
    int32_t err;
    uint32_t flags;
    const uint8_t *key;
    size_t key_len;
    const uint8_t *data;
    size_t data_len;
} rw_input;

/* Reading a trace's inputs, in the order they were logged (every thread's, mixed). */
typedef struct rw_reader rw_reader;
typedef struct rw_inputs_iter rw_inputs_iter;
#include "error.h"

/* Opens an iterator over r's INPUTS frames (r must outlive it). */
rw_code rw_inputs_iter_open(const rw_reader *r, rw_inputs_iter **out, rw_err *err);

/* The next record into *in: 1, or 0 at the end, or -1 with err set (a damaged frame:
 * the records before it were given). in's pointers stay valid until the next call. */
int rw_inputs_iter_next(rw_inputs_iter *it, rw_input *in, rw_err *err);

void rw_inputs_iter_free(rw_inputs_iter *it);

#endif

/* Following Python programs started by the recorded one into traces of their own
 * (follow.h). Everything is prepared by rw_follow_init; rw_follow_argv only reads it,
 * because it runs in vfork children, between fork and exec. */
#include "follow.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "libc/input.h"
#include "libc/libc.h"

/* Prepared once by rw_follow_init (main thread, before the program runs); read-only
 * afterwards. */
static struct follow {
    int on;
    char rewind_exe[PATH_MAX];     /* /proc/self/exe */
    char stem[PATH_MAX];           /* absolute trace path without ".rwd" */
    char parent_trace[PATH_MAX];   /* absolute trace path */
    char pids[24];                 /* this process's pid, as text */
    char *python_paths[8];         /* paths that name our interpreter */
    size_t npython;
    unsigned long py_dev, py_ino;  /* its file (any link to it is our interpreter too) */
    char *opts[RW_FOLLOW_EXTRA_ARGS]; /* options passed on to the child's record */
    size_t nopts;
    uint64_t chaos_seed;           /* this run's --chaos seed, 0 without chaos */
    /* The family pipe (follow.h): every recording of the run holds the write end while
     * it runs; the first one waits for the end of file on the read end. -1: none. */
    int family_r, family_w;
    long family_owner;             /* the pid that made the pipe: the one that waits */
    char family_s[16];             /* family_w as text, for --family-fd */
} fl = {.family_r = -1, .family_w = -1};

static void family_setup(const rw_record_opts *o, int family_r, int family_w);

static char *dup_or_null(const char *s)
{
    return s ? strdup(s) : NULL;
}

static int add_opt(const char *s)
{
    if (fl.nopts + 1 >= RW_FOLLOW_EXTRA_ARGS - 12)
        return 0;
    char *d = dup_or_null(s);
    if (!d)
        return -1;
    fl.opts[fl.nopts++] = d;
    return 1;
}

static void add_python_path(const char *p, const char *real)
{
    char r[PATH_MAX];
    if (fl.npython >= sizeof fl.python_paths / sizeof fl.python_paths[0])
        return;
    if (!realpath(p, r) || strcmp(r, real))
        return;
    for (size_t i = 0; i < fl.npython; i++)
        if (!strcmp(fl.python_paths[i], p))
            return;
    char *d = strdup(p);
    if (d)
        fl.python_paths[fl.npython++] = d;
}

rw_code rw_follow_init(const char *trace, const char *python, const rw_record_opts *o,
                       rw_err *err)
{
    int family_r = fl.family_r, family_w = fl.family_w; /* a forked child keeps them */
    long family_owner = fl.family_owner;
    memset(&fl, 0, sizeof fl);
    fl.family_r = fl.family_w = -1;
    fl.family_owner = family_owner;
    if (!o->follow)
        return RW_OK;
    family_setup(o, family_r, family_w);
    ssize_t n = readlink("/proc/self/exe", fl.rewind_exe, sizeof fl.rewind_exe - 1);
    if (n <= 0)
        return RW_OK; /* no /proc: nothing is followed (rw_follow_argv says so) */
    fl.rewind_exe[n] = '\0';
    char abs[PATH_MAX];
    if (trace[0] == '/') {
        snprintf(abs, sizeof abs, "%s", trace);
    } else {
        char cwd[PATH_MAX];
        if (!getcwd(cwd, sizeof cwd))
            return RW_OK;
        if ((size_t)snprintf(abs, sizeof abs, "%s/%s", cwd, trace) >= sizeof abs)
            return RW_OK;
    }
    snprintf(fl.parent_trace, sizeof fl.parent_trace, "%s", abs);
    size_t len = strlen(abs);
    if (len > 4 && !strcmp(abs + len - 4, ".rwd"))
        abs[len - 4] = '\0';
    snprintf(fl.stem, sizeof fl.stem, "%s", abs);
    snprintf(fl.pids, sizeof fl.pids, "%ld", (long)getpid());

    char real[PATH_MAX];
    if (!realpath(python, real))
        return RW_OK;
    static const char *const usual[] = {"/usr/bin/python3", "/usr/bin/python3.11",
                                        "/bin/python3", "/bin/python3.11",
                                        "/usr/local/bin/python3", "/usr/local/bin/python3.11"};
    add_python_path(python, real);
    add_python_path(real, real);
    struct stat st;
    if (stat(real, &st) == 0) {
        fl.py_dev = (unsigned long)st.st_dev;
        fl.py_ino = (unsigned long)st.st_ino;
    }
    for (size_t i = 0; i < sizeof usual / sizeof usual[0]; i++)
        add_python_path(usual[i], real);

    int ok = add_opt("-q") > 0 && add_opt("--force") > 0;
    if (ok && !o->lines)
        ok = add_opt("--no-lines") > 0;
    if (ok && !o->allocations)
        ok = add_opt("--no-allocations") > 0;
    if (ok && !o->c_calls)
        ok = add_opt("--no-c-calls") > 0;
    if (ok && o->line_times)
        ok = add_opt("--line-times") > 0;
    if (ok && o->keep_env)
        ok = add_opt("--keep-env") > 0;
    for (size_t i = 0; ok && i < o->nredact; i++)
        ok = add_opt("--redact") > 0 && add_opt(o->redact[i]) > 0;
    char num[32];
    if (ok && o->flush_ms >= 0) {
        snprintf(num, sizeof num, "%d", o->flush_ms);
        ok = add_opt("--flush-ms") > 0 && add_opt(num) > 0;
    }
    snprintf(num, sizeof num, "%d", o->dump_signal);
    if (ok)
        ok = add_opt("--dump-signal") > 0 && add_opt(o->dump_signal ? num : "none") > 0;
    if (!ok) {
        int full = fl.nopts + 1 >= RW_FOLLOW_EXTRA_ARGS - 12; /* else out of memory */
        for (size_t i = 0; i < fl.nopts; i++)
            free(fl.opts[i]);
        fl.nopts = 0;
        if (full)
            return rw_err_set(err, RW_EINVAL,
                              "too many --redact patterns to pass on to the Python programs "
                              "this one starts: give fewer, or --no-follow");
        return rw_err_set(err, RW_ENOMEM, "out of memory");
    }
    fl.chaos_seed = o->chaos_seed;
    fl.on = fl.npython > 0;
    return RW_OK;
}

/* Async-signal-safe string helpers for rw_follow_argv. */
static size_t put(char *dst, size_t at, size_t cap, const char *s)
{
    while (*s && at + 1 < cap)
        dst[at++] = *s++;
    dst[at < cap ? at : cap - 1] = '\0';
    return at;
}

static size_t put_long(char *dst, size_t at, size_t cap, long v)
{
    char tmp[24];
    size_t n = 0;
    unsigned long u = v < 0 ? (unsigned long)-v : (unsigned long)v;
    do {
        tmp[n++] = (char)('0' + u % 10);
        u /= 10;
    } while (u && n < sizeof tmp);
    if (v < 0 && at + 1 < cap)
        dst[at++] = '-';
    while (n && at + 1 < cap)
        dst[at++] = tmp[--n];
    dst[at < cap ? at : cap - 1] = '\0';
    return at;
}

/* A child's --chaos seed: derived from this run's and from what the child runs (how
 * and its argv), so that the same seed perturbs the same command's children alike in
 * another run; 1 to 2^53-1 as --chaos-seed takes it. */
static uint64_t child_seed(const char *how, char *const argv[])
{
    uint64_t h = fl.chaos_seed ^ 0xcbf29ce484222325ull; /* FNV-1a over how and argv */
    for (const char *c = how; *c; c++)
        h = (h ^ (uint8_t)*c) * 0x100000001b3ull;
    for (size_t i = 0; argv[i]; i++) {
        for (const char *c = argv[i]; *c; c++)
            h = (h ^ (uint8_t)*c) * 0x100000001b3ull;
        h = (h ^ 0xff) * 0x100000001b3ull;
    }
    h ^= h >> 30; /* splitmix64's finaliser */
    h *= 0xbf58476d1ce4e5b9ull;
    h ^= h >> 27;
    h *= 0x94d049bb133111ebull;
    h ^= h >> 31;
    h &= (1ull << 53) - 1;
    return h ? h : 1;
}

/* python3's short options that take no argument (3.11's getopt: "bBc:dEhiIJm:OPqRsStuvVW:x
 * X:?"), each as its own argument, for splitting a bundle such as -sm or -BEs. */
static const char *const short_flag[128] = {
    ['b'] = "-b", ['B'] = "-B", ['d'] = "-d", ['E'] = "-E", ['h'] = "-h", ['i'] = "-i",
    ['I'] = "-I", ['J'] = "-J", ['O'] = "-O", ['P'] = "-P", ['q'] = "-q", ['R'] = "-R",
    ['s'] = "-s", ['S'] = "-S", ['t'] = "-t", ['u'] = "-u", ['v'] = "-v", ['V'] = "-V",
    ['x'] = "-x", ['?'] = "-?",
};

/* The system's calls, not the C library's: these run in vfork children, where the
 * recorder's wrappers of open, read and stat must not log anything. */
static int raw_stat(const char *path, struct stat *st)
{
    return (int)syscall(SYS_newfstatat, AT_FDCWD, path, st, 0);
}

static int is_our_python(const char *path)
{
    if (!path)
        return 0;
    for (size_t i = 0; i < fl.npython; i++)
        if (!strcmp(path, fl.python_paths[i]))
            return 1;
    /* Another name of the same file: a virtual environment's bin/python3 (a symbolic
     * link), a link of the program's own. A copy is another file: not followed. */
    struct stat st;
    return fl.py_ino && raw_stat(path, &st) == 0 && S_ISREG(st.st_mode) &&
           (unsigned long)st.st_dev == fl.py_dev && (unsigned long)st.st_ino == fl.py_ino;
}

/* The value of PATH in envp (NULL: this process's environment), or the C library's
 * default. */
static const char *path_var(char *const envp[])
{
    extern char **environ;
    char *const *e = envp ? envp : environ;
    for (size_t i = 0; e && e[i]; i++)
        if (!strncmp(e[i], "PATH=", 5))
            return e[i] + 5;
    return "/bin:/usr/bin";
}

/* `env`'s search for a command word (as execvp): the first DIR/word of PATH that is
 * an executable file, written to out; 1 when it is our interpreter, else 0. */
static int env_finds_our_python(const char *word, char *const envp[], char *out, size_t cap)
{
    if (!*word)
        return 0;
    if (strchr(word, '/')) /* a path, not searched */
        return is_our_python(word) && put(out, 0, cap, word) + 1 < cap;
    const char *p = path_var(envp);
    while (1) {
        const char *end = strchr(p, ':');
        size_t n = end ? (size_t)(end - p) : strlen(p);
        size_t at = 0;
        if (n == 0) {
            at = put(out, 0, cap, "./");
        } else if (n + 1 < cap) {
            memcpy(out, p, n);
            out[n] = '\0';
            at = put(out, n, cap, "/");
        }
        at = put(out, at, cap, word);
        if (at + 1 < cap && syscall(SYS_faccessat, AT_FDCWD, out, X_OK) == 0) {
            struct stat st;
            if (raw_stat(out, &st) == 0 && S_ISREG(st.st_mode))
                return is_our_python(out);
        }
        if (!end)
            return 0;
        p = end + 1;
    }
}

/* The interpreter line of a script ("#!INTERP [ARG]"), as the kernel reads it: INTERP
 * and its one optional argument (the rest of the line) written to buf; 1 if there is
 * one. */
static int shebang(const char *path, char *buf, size_t cap, const char **interp,
                   const char **arg)
{
    int fd = (int)syscall(SYS_openat, AT_FDCWD, path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return 0;
    char line[256];
    long n = syscall(SYS_read, fd, line, sizeof line - 1);
    syscall(SYS_close, fd);
    if (n < 3 || line[0] != '#' || line[1] != '!')
        return 0;
    line[n] = '\0';
    char *nl = strchr(line, '\n');
    if (!nl)
        return 0; /* longer than the kernel's limit here: not followed */
    *nl = '\0';
    char *c = line + 2;
    while (*c == ' ' || *c == '\t')
        c++;
    char *i = c;
    while (*c && *c != ' ' && *c != '\t')
        c++;
    char *a = NULL;
    if (*c) {
        *c++ = '\0';
        while (*c == ' ' || *c == '\t')
            c++;
        char *e = c + strlen(c);
        while (e > c && (e[-1] == ' ' || e[-1] == '\t'))
            *--e = '\0';
        a = *c ? c : NULL;
    }
    if (!*i)
        return 0;
    size_t at = put(buf, 0, cap, i);
    if (at + 2 >= cap)
        return 0;
    *interp = buf;
    *arg = NULL;
    if (a) {
        size_t start = at + 1;
        size_t end = put(buf, start, cap, a);
        if (end + 1 >= cap)
            return 0;
        *arg = buf + start;
    }
    return 1;
}

/* A Python program started another way than by our interpreter's path: a script
 * whose interpreter line names it (directly, or `#!/usr/bin/env python3`), or
 * `env python3 ...` itself. Writes the argv python3 would get (the kernel's for a
 * script: interpreter, its argument, the script's path, the script's arguments) to
 * av (avcap entries; its strings live in store or in argv) and returns the
 * interpreter's path; NULL when path is not such a program. */
static const char *python_behind(const char *path, char *const argv[], char *const envp[],
                                 char *store, size_t scap, char **av, size_t avcap)
{
    size_t argc = 0;
    while (argv && argv[argc])
        argc++;
    if (argc + 3 > avcap)
        return NULL;
    const char *interp = NULL, *arg = NULL;
    size_t k = 0, from;
    const char *base = strrchr(path, '/');
    base = base ? base + 1 : path;
    if (!strcmp(base, "env") && argc >= 2 && argv[1][0] != '-' && !strchr(argv[1], '=')) {
        /* env python3 ARGS: python3 searched on PATH */
        if (!env_finds_our_python(argv[1], envp, store, scap))
            return NULL;
        interp = store;
        from = 2;
    } else {
        size_t half = scap / 2;
        if (!shebang(path, store, half, &interp, &arg))
            return NULL;
        if (!strcmp(interp, "/usr/bin/env") || !strcmp(interp, "/bin/env")) {
            /* #!/usr/bin/env python3: one word, no options */
            if (!arg || strchr(arg, ' ') || strchr(arg, '\t') || arg[0] == '-' ||
                !env_finds_our_python(arg, envp, store + half, scap - half))
                return NULL;
            interp = store + half;
            arg = NULL;
        } else if (!is_our_python(interp)) {
            return NULL;
        }
        from = 1;
    }
    av[k++] = (char *)interp;
    if (arg)
        av[k++] = (char *)arg;
    if (from == 1)
        av[k++] = (char *)path;
    for (size_t i = from; i < argc; i++)
        av[k++] = argv[i];
    av[k] = NULL;
    return interp;
}

const char *rw_follow_argv(const char *path, char *const argv[], char *const envp[],
                           const char *how, long pid, char *name, size_t cap, char **out,
                           size_t outcap, const char **why)
{
    *why = NULL;
    if (!fl.on)
        return NULL;
    size_t given = 0;
    while (argv && argv[given])
        given++;
    char *behind[given + 4];
    if (!is_our_python(path)) {
        /* The interpreter's path and argument go at the end of name: they must live
         * until the exec, as name does. */
        if (cap < 2 * RW_FOLLOW_STORE)
            return NULL;
        char *store = name + cap - RW_FOLLOW_STORE;
        const char *interp =
            python_behind(path, argv, envp, store, RW_FOLLOW_STORE, behind, given + 4);
        if (!interp)
            return NULL;
        cap -= RW_FOLLOW_STORE;
        path = interp;
        argv = behind;
    }
    if (!argv || !argv[0] || !argv[1]) {
        *why = "an interactive interpreter (no script) is not recorded";
        return NULL;
    }
    /* python3's own options before the program (multiprocessing's spawn passes -B,
     * -E, -X ... as the parent had them), handed on with --python-flag. Short options
     * bundle as python3's getopt takes them: `-sm MODULE`, `-Sc CODE`, `-mMODULE`,
     * `-Xdev`; a bundle is split into one flag each (short_flag). */
    const char *flags[64];
    size_t nflags = 0, first = 1;
    const char *mode = NULL, *prog = NULL; /* "-c"/"-m" and its argument, or a script */
    while (argv[first] && !prog) {
        const char *a = argv[first];
        if (a[0] != '-' || !a[1]) { /* the script, or "-" (standard input) */
            prog = a;
            break;
        }
        if (!strcmp(a, "--")) {
            prog = argv[++first];
            break;
        }
        if (nflags + 2 > sizeof flags / sizeof *flags) {
            *why = "too many options to follow";
            return NULL;
        }
        if ((a[1] == 'X' || a[1] == 'W') && a[2]) { /* -Xdev: one flag */
            flags[nflags++] = a;
            first++;
            continue;
        }
        if (!strcmp(a, "-X") || !strcmp(a, "-W")) {
            if (!argv[first + 1])
                break;
            flags[nflags++] = a;
            flags[nflags++] = argv[first + 1];
            first += 2;
            continue;
        }
        if (a[1] == '-') { /* --help, --version, --check-hash-based-pycs ...: as given */
            flags[nflags++] = a;
            first++;
            continue;
        }
        for (const char *c = a + 1; *c; c++) {
            if (*c == 'c' || *c == 'm') {
                mode = *c == 'c' ? "-c" : "-m";
                prog = c[1] ? c + 1 : argv[first + 1];
                if (!c[1])
                    first++;
                break;
            }
            const char *f = (unsigned char)*c < 128 ? short_flag[(unsigned char)*c] : NULL;
            if (!f || nflags + 1 > sizeof flags / sizeof *flags) {
                *why = "an option bundle rewind does not know";
                return NULL;
            }
            flags[nflags++] = f;
        }
        if (!prog)
            first++; /* a bundle of flags; else first is the program's argument (-sm M) or
                      * holds it (-mM) */
    }
    if (!prog || (!mode && !strcmp(prog, "-"))) {
        *why = mode ? "-c or -m without its argument"
                    : "an interactive interpreter or a program from standard input is "
                      "not recorded";
        return NULL;
    }
    size_t argc = 0;
    while (argv[argc])
        argc++;
    if (fl.nopts + 12 + 2 * argc + 1 > outcap) {
        *why = "too many arguments to follow";
        return NULL;
    }
    size_t at = put(name, 0, cap, fl.stem);
    at = put(name, at, cap, ".");
    if (!strcmp(how, "exec"))
        at = put(name, at, cap, "exec");
    else
        at = put_long(name, at, cap, pid);
    at = put(name, at, cap, ".rwd");
    if (at + 1 >= cap) {
        *why = "the trace name is too long";
        return NULL;
    }
    /* "--child-of HOW:PPID:PARENT" tells the new recording where it came from. */
    char *child_of = name + at + 1;
    size_t ccap = cap - at - 1;
    size_t c = put(child_of, 0, ccap, how);
    c = put(child_of, c, ccap, ":");
    c = put(child_of, c, ccap, fl.pids);
    c = put(child_of, c, ccap, ":");
    c = put(child_of, c, ccap, fl.parent_trace);
    if (c + 1 >= ccap) {
        *why = "the trace name is too long";
        return NULL;
    }
    /* --chaos reaches the children, each with a seed of its own. */
    char *seed = child_of + c + 1;
    size_t scap = ccap - c - 1;
    if (fl.chaos_seed) {
        uint64_t v = child_seed(how, argv);
        char tmp[24];
        size_t n = 0;
        do {
            tmp[n++] = (char)('0' + v % 10);
            v /= 10;
        } while (v && n < sizeof tmp);
        if (n + 1 >= scap) {
            *why = "the trace name is too long";
            return NULL;
        }
        for (size_t i = 0; i < n; i++)
            seed[i] = tmp[n - 1 - i];
        seed[n] = '\0';
    }
    size_t k = 0;
    out[k++] = fl.rewind_exe;
    out[k++] = (char *)"record";
    for (size_t i = 0; i < fl.nopts; i++)
        out[k++] = fl.opts[i];
    out[k++] = (char *)"--child-of";
    out[k++] = child_of;
    if (fl.family_s[0] && strcmp(how, "exec")) {
        /* The subprocess holds the family pipe while it records: it passes the exec
         * (the call is the system's: this may be a vfork child). */
        syscall(SYS_fcntl, fl.family_w, F_SETFD, 0);
        out[k++] = (char *)"--family-fd";
        out[k++] = fl.family_s;
    }
    if (fl.chaos_seed) {
        out[k++] = (char *)"--chaos-seed";
        out[k++] = seed;
    }
    out[k++] = (char *)"--python";
    out[k++] = (char *)path;
    for (size_t i = 0; i < nflags; i++) {
        out[k++] = (char *)"--python-flag";
        out[k++] = (char *)flags[i];
    }
    out[k++] = (char *)"-o";
    out[k++] = name;
    if (mode)
        out[k++] = (char *)mode;
    else if (prog[0] == '-')
        out[k++] = (char *)"--"; /* a script named like an option */
    out[k++] = (char *)prog;
    for (size_t i = first + 1; i < argc; i++)
        out[k++] = argv[i];
    out[k] = NULL;
    return fl.rewind_exe;
}

const char *rw_follow_base(const char *name)
{
    const char *slash = strrchr(name, '/');
    return slash ? slash + 1 : name;
}

void rw_follow_child_trace(long pid, char *name, size_t cap)
{
    size_t at = put(name, 0, cap, fl.stem[0] ? fl.stem : "rewind-child");
    at = put(name, at, cap, ".");
    at = put_long(name, at, cap, pid);
    put(name, at, cap, ".rwd");
}

/* ---- the family pipe ------------------------------------------------------------------ */

static int family_pipe(int fds[2])
{
    rw_in_pause(); /* the recorder's own pipe, not the program's input */
    int r = pipe2(fds, O_CLOEXEC);
    rw_in_resume();
    if (r != 0)
        return -1;
    fds[0] = rw_own_fd(fds[0]);
    fds[1] = rw_own_fd(fds[1]);
    return 0;
}

static void family_setup(const rw_record_opts *o, int family_r, int family_w)
{
    fl.family_r = family_r;
    fl.family_w = family_w;
    if (fl.family_w < 0 && o->family_fd >= 0) {
        fl.family_w = rw_own_fd(o->family_fd); /* a subprocess's: kept until it ends */
    } else if (fl.family_w < 0 && !o->engine &&
               (!o->child_of || !strncmp(o->child_of, "exec:", 5))) {
        int fds[2];
        if (family_pipe(fds) == 0) {
            fl.family_r = fds[0];
            fl.family_w = fds[1];
            fl.family_owner = (long)getpid();
        }
    }
    fl.family_s[0] = '\0';
    if (fl.family_w >= 0)
        snprintf(fl.family_s, sizeof fl.family_s, "%d", fl.family_w);
}

int rw_follow_wait_family(double timeout_s)
{
    /* Only the pipe's maker waits: a forked child inherits both ends, and the others'
     * write ends are its parent's and its siblings', which would keep it waiting. */
    if (fl.family_r < 0 || fl.family_w < 0 || fl.family_owner != (long)getpid())
        return 0;
    rw_own_fd_close(fl.family_w); /* the others' copies are what is waited for */
    fl.family_w = -1;
    fl.family_s[0] = '\0';
    struct timespec t0, now;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    rw_in_pause();
    int running = 1;
    struct pollfd first = {.fd = fl.family_r, .events = POLLIN};
    if (poll(&first, 1, 0) == 0) {
        /* Someone still records. It may be waiting for this process to let go of a
         * descriptor (a resource tracker reads its pipe to the end; a forkserver ends
         * when its parent's "alive" pipe closes), as it would when the process exits:
         * the program is over, so its descriptors go now, as exit would close them. */
        fflush(NULL);
        rw_own_fds_close_others();
    }
    for (;;) {
        clock_gettime(CLOCK_MONOTONIC, &now);
        double left = timeout_s - (double)(now.tv_sec - t0.tv_sec) -
                      (double)(now.tv_nsec - t0.tv_nsec) / 1e9;
        if (left <= 0)
            break;
        struct pollfd p = {.fd = fl.family_r, .events = POLLIN};
        int n = poll(&p, 1, (int)(left * 1000) + 1);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 || (p.revents & (POLLHUP | POLLERR | POLLNVAL))) {
            running = n < 0 ? 1 : 0;
            break;
        }
        char c;
        if (n > 0 && read(fl.family_r, &c, 1) == 0) { /* nobody writes: EOF is the end */
            running = 0;
            break;
        }
    }
    rw_in_resume();
    return running;
}

/* The tests of a recorded pytest or unittest run (tests.h): one scan that follows the
 * runner's own calls. docs/tests.md is the user's account of the rules below.
 *
 * pytest (7.x): a test is one call of _pytest.runner.runtestprotocol, from its CALL
 * to its RETURN. Inside it, each call_and_report is a phase, named by the line of
 * runtestprotocol that calls it (the one with "setup", "call" or "teardown"). A phase's
 * outcome is the last of the assignments that decide it to run: `outcome = "passed" |
 * "failed" | "skipped"` in TestReport.from_item_and_call (_pytest/reports.py), then
 * `rep.outcome = ...` in the xfail hook (_pytest/skipping.py pytest_runtest_makereport),
 * whose `rep.wasxfail = ...` marks an xfail or xpass. The test function is the Python
 * call made by pytest_pyfunc_call's `testfunction(**testargs)` line (or by unittest's
 * TestCase._callTestMethod, or the first code of a "<doctest ...>" file).
 *
 * unittest: a test is one call of unittest.case.TestCase.run (outside a pytest test);
 * its outcome is which of unittest.result.TestResult's addSuccess, addFailure,
 * addError, addSkip, addExpectedFailure, addUnexpectedSuccess it calls, and its
 * addSubTest's `errors = self.failures` / `errors = self.errors` lines for subtests.
 *
 * The failure: an exception propagates as an EXCEPTION event in a frame, its RETURN
 * right after (nothing else of that thread between), an EXCEPTION event in the caller,
 * and so on; such a run of events is one chain, started by the first EXCEPTION. The
 * failure is the deepest EXCEPTION of the chain in code that is neither the runner's
 * (_pytest, pluggy, unittest, contextlib) nor the standard library: the line of the
 * test (or of the user's code it called) that raised, as unittest's traceback shows
 * it. The runner re-raises and catches in its own code, so the chain taken is the
 * last one that reached user code before the runner recorded the failure. A pytest
 * doctest whose output differed has no such chain: its failure is the last LINE of a
 * "<doctest ...>" example before pytest caught DocTestFailure.
 */
#include "tests.h"

#include <assert.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "client.h"
#include "records.h"
#include "scan.h"
#include "source_text.h"

#define NONE RW_TESTS_NONE

const char *rw_test_outcome_name(rw_test_outcome o)
{
    static const char *const names[] = {"passed", "failed", "error", "skipped",
                                        "xfail",  "xpass",  "unknown"};
    return (unsigned)o < sizeof names / sizeof names[0] ? names[o] : "unknown";
}

/* ---- what each code object and line is to the runners ---------------------------- */

enum code_role {
    CR_NONE = 0,
    CR_PT_PROTOCOL,      /* _pytest/runner.py pytest_runtest_protocol */
    CR_PT_RUNTEST,       /* _pytest/runner.py runtestprotocol */
    CR_PT_CALL_REPORT,   /* _pytest/runner.py call_and_report */
    CR_PT_FROM_CALL,     /* _pytest/runner.py CallInfo.from_call */
    CR_PT_PYFUNC,        /* _pytest/python.py pytest_pyfunc_call */
    CR_PT_REPORT,        /* _pytest/reports.py TestReport.from_item_and_call */
    CR_PT_SKIPPING,      /* _pytest/skipping.py pytest_runtest_makereport */
    CR_PT_UT_ADD,        /* _pytest/unittest.py TestCaseFunction.addError, addFailure,
                            addExpectedFailure: a TestCase's exception handed to pytest */
    CR_UT_RUN,           /* unittest/case.py TestCase.run */
    CR_UT_CALLTEST,      /* unittest/case.py TestCase._callTestMethod */
    CR_UT_SUITE_RUN,     /* unittest/suite.py TestSuite.run */
    CR_UT_FIXTURE,       /* unittest/suite.py: the class and module fixture handlers */
    CR_UT_SUCCESS,       /* unittest/result.py TestResult.addSuccess ... */
    CR_UT_FAILURE,
    CR_UT_ERROR,
    CR_UT_SKIP,
    CR_UT_XFAIL,
    CR_UT_XPASS,
    CR_UT_SUBTEST,
    CR_DOCTEST,          /* code of a "<doctest NAME[N]>" file */
    CR_UT_DOCTEST_RUN,   /* doctest.py DocTestCase.runTest: a doctest run by unittest */
};

enum line_role {
    LR_NONE = 0,
    LR_SETUP, LR_CALL, LR_TEARDOWN, /* runtestprotocol's call_and_report lines */
    LR_BODY,                        /* pytest_pyfunc_call's testfunction(**testargs) */
    LR_PASSED, LR_FAILED, LR_SKIPPED, /* outcome assignments */
    LR_WASXFAIL,
    LR_SUB_FAIL, LR_SUB_ERROR,      /* TestResult.addSubTest */
};

static int ends_with(const char *s, const char *suffix)
{
    size_t n = strlen(s), m = strlen(suffix);
    return n >= m && !strcmp(s + n - m, suffix);
}

static int code_role(const rw_defs *d, uint32_t c)
{
    const char *path = rw_defs_code_path(d, c), *q = rw_defs_code_qualname(d, c);
    if (!path || !q)
        return CR_NONE;
    if (!strncmp(path, "<doctest ", 9))
        return CR_DOCTEST;
    if (ends_with(path, "/_pytest/runner.py")) {
        if (!strcmp(q, "pytest_runtest_protocol"))
            return CR_PT_PROTOCOL;
        if (!strcmp(q, "runtestprotocol"))
            return CR_PT_RUNTEST;
        if (!strcmp(q, "call_and_report"))
            return CR_PT_CALL_REPORT;
        if (!strcmp(q, "CallInfo.from_call"))
            return CR_PT_FROM_CALL;
    } else if (ends_with(path, "/_pytest/python.py")) {
        if (!strcmp(q, "pytest_pyfunc_call"))
            return CR_PT_PYFUNC;
    } else if (ends_with(path, "/_pytest/reports.py")) {
        if (!strcmp(q, "TestReport.from_item_and_call"))
            return CR_PT_REPORT;
    } else if (ends_with(path, "/_pytest/skipping.py")) {
        if (!strcmp(q, "pytest_runtest_makereport"))
            return CR_PT_SKIPPING;
    } else if (ends_with(path, "/_pytest/unittest.py")) {
        if (!strcmp(q, "TestCaseFunction.addError") ||
            !strcmp(q, "TestCaseFunction.addFailure") ||
            !strcmp(q, "TestCaseFunction.addExpectedFailure"))
            return CR_PT_UT_ADD;
    } else if (ends_with(path, "/unittest/case.py")) {
        if (!strcmp(q, "TestCase.run"))
            return CR_UT_RUN;
        if (!strcmp(q, "TestCase._callTestMethod"))
            return CR_UT_CALLTEST;
    } else if (ends_with(path, "/unittest/suite.py")) {
        if (!strcmp(q, "TestSuite.run"))
            return CR_UT_SUITE_RUN;
        if (!strcmp(q, "TestSuite._handleClassSetUp") ||
            !strcmp(q, "TestSuite._handleModuleFixture") ||
            !strcmp(q, "TestSuite._tearDownPreviousClass") ||
            !strcmp(q, "TestSuite._handleModuleTearDown"))
            return CR_UT_FIXTURE;
    } else if (ends_with(path, "/doctest.py")) {
        if (!strcmp(q, "DocTestCase.runTest"))
            return CR_UT_DOCTEST_RUN;
    } else if (ends_with(path, "/unittest/result.py")) {
        static const struct { const char *q; int role; } add[] = {
            {"TestResult.addSuccess", CR_UT_SUCCESS},
            {"TestResult.addFailure", CR_UT_FAILURE},
            {"TestResult.addError", CR_UT_ERROR},
            {"TestResult.addSkip", CR_UT_SKIP},
            {"TestResult.addExpectedFailure", CR_UT_XFAIL},
            {"TestResult.addUnexpectedSuccess", CR_UT_XPASS},
            {"TestResult.addSubTest", CR_UT_SUBTEST},
        };
        for (size_t i = 0; i < sizeof add / sizeof add[0]; i++)
            if (!strcmp(q, add[i].q))
                return add[i].role;
    }
    return CR_NONE;
}

/* Whether the frames of a file are the runner's or the standard library's (the
 * failure is looked for outside them). */
static int is_library_file(const char *path, const char *stdlib_dir, size_t stdlib_len)
{
    if (!path || !*path || path[0] == '<') /* <frozen ...>, <string>; <doctest> is user */
        return path && strncmp(path, "<doctest ", 9) != 0;
    if (strstr(path, "/_pytest/") || strstr(path, "/pluggy/") || strstr(path, "/unittest/") ||
        strstr(path, "-packages/py/") || ends_with(path, "/contextlib.py"))
        return 1;
    return stdlib_len && !strncmp(path, stdlib_dir, stdlib_len) &&
           !strstr(path + stdlib_len, "-packages/");
}

static int line_role_of(const char *s, size_t len)
{
    char buf[256];
    while (len && (*s == ' ' || *s == '\t'))
        s++, len--;
    if (len >= sizeof buf)
        len = sizeof buf - 1;
    memcpy(buf, s, len);
    buf[len] = '\0';
    if (strstr(buf, "call_and_report(")) {
        if (strstr(buf, "\"setup\""))
            return LR_SETUP;
        if (strstr(buf, "\"call\""))
            return LR_CALL;
        if (strstr(buf, "\"teardown\""))
            return LR_TEARDOWN;
    }
    if (strstr(buf, "testfunction(**testargs)"))
        return LR_BODY;
    if (!strncmp(buf, "outcome", 7) || !strncmp(buf, "rep.outcome", 11)) {
        if (strstr(buf, "= \"passed\""))
            return LR_PASSED;
        if (strstr(buf, "= \"failed\""))
            return LR_FAILED;
        if (strstr(buf, "= \"skipped\""))
            return LR_SKIPPED;
    }
    if (!strncmp(buf, "rep.wasxfail =", 14))
        return LR_WASXFAIL;
    if (!strncmp(buf, "errors = self.failures", 22))
        return LR_SUB_FAIL;
    if (!strncmp(buf, "errors = self.errors", 20))
        return LR_SUB_ERROR;
    return LR_NONE;
}

typedef struct linemap {
    uint8_t *role; /* by line number */
    uint32_t n;
} linemap;

/* ---- the scan's state ------------------------------------------------------------- */

/* An event's position and place. */
typedef struct where {
    uint64_t pos; /* NONE: nowhere */
    uint32_t code, line;
} where;

static const where NOWHERE = {NONE, 0, 0};

typedef struct tstate {
    /* exception chains */
    uint8_t prev_kind, prev_prop; /* last event of the thread; a propagating return */
    uint8_t have_prev;
    where chain_user;             /* the chain's deepest user EXCEPTION, or NOWHERE */
    where last_user;              /* the last chain_user set, or NOWHERE */
    where doctest_line;           /* the last LINE of a <doctest> example, or NOWHERE */
    /* pytest */
    size_t pt;                    /* index + 1 of the open pytest test; 0 none */
    uint32_t pt_depth;            /* its runtestprotocol frame's depth */
    uint64_t protocol;            /* last runner.pytest_runtest_protocol CALL */
    int phase;                    /* LR_SETUP, LR_CALL, LR_TEARDOWN; 0 outside */
    uint32_t phase_depth;
    int phase_out, phase_xfail;
    where phase_fail;
    int out[3], xfail[3];         /* per phase: LR_PASSED.. (0: did not run) */
    where fail[3];
    uint32_t body_depth;          /* waiting for the body's first line at this depth */
    uint32_t body_code;
    /* unittest */
    size_t ut;                    /* index + 1 of the open unittest test; 0 none */
    uint32_t ut_depth;
    int ut_first_bad;             /* CR_UT_FAILURE or CR_UT_ERROR: the first one */
    int ut_result;                /* the last of success/skip/xfail/xpass */
    where ut_fail;
    int ut_doctest;               /* its method is a doctest's runTest: the body is the
                                     first line of its examples */
    /* a unittest class or module fixture handler (suite.py) */
    uint32_t fx_depth;            /* its frame's depth; 0 none */
    uint64_t fx_first, fx_tick;
    int fx_kind;                  /* CR_UT_ERROR, CR_UT_SKIP: what it reported; 0 none */
    where fx_fail;
} tstate;

/* A thread's last "import" events, newest at (next - 1) % PENDING: an import of a.b.c
 * raises one for a.b.c and then, inside it, one for each parent not loaded yet, whose
 * <module> code runs first. */
#define PENDING 8
typedef struct pending {
    char name[PENDING][256];
    unsigned next;
} pending;

typedef struct scanner {
    const rw_reader *r;
    const rw_defs *d;
    uint8_t *role;        /* by code id */
    uint8_t *lib;         /* by code id: 1 for runner or standard library code */
    linemap *lines;       /* by file id */
    tstate *ts;           /* by thread id */
    uint32_t nthreads;
    uint32_t import_name; /* NameDef id of the "import" audit event; 0 none */
    char **modname;       /* by file id: the module its <module> code ran as, or NULL */
    pending *importing;   /* by thread id: the modules of its last "import" events */
    rw_tests *out;
} scanner;

static int line_role(const scanner *sc, uint32_t code, uint32_t line)
{
    uint32_t f = rw_defs_code_file(sc->d, code);
    if (f >= sc->d->nfiles || !sc->lines[f].role || line >= sc->lines[f].n)
        return LR_NONE;
    return sc->lines[f].role[line];
}

static rw_code build_lines(scanner *sc, uint32_t file, rw_err *err)
{
    if (sc->lines[file].role)
        return RW_OK;
    const char *text;
    size_t len;
    if (!rw_source_text_of_file(sc->d, file, &text, &len))
        return RW_OK;
    size_t n = rw_source_text_count(text, len, RW_SOURCE_TEXT_LF);
    uint8_t *role = calloc(n + 2, 1);
    if (!role)
        return rw_err_set(err, RW_ENOMEM, "out of memory");
    size_t off = 0, ln = 0;
    rw_source_text_line l;
    while (rw_source_text_next(text, len, RW_SOURCE_TEXT_LF, &off, &l))
        role[++ln] = (uint8_t)line_role_of(l.s, l.len);
    sc->lines[file].role = role;
    sc->lines[file].n = (uint32_t)(n + 1);
    return RW_OK;
}

static rw_code classify(scanner *sc, rw_err *err)
{
    const rw_defs *d = sc->d;
    uint32_t nc = d->ncodes ? d->ncodes : 1;
    sc->role = calloc(nc, 1);
    sc->lib = calloc(nc, 1);
    sc->lines = calloc(d->nfiles ? d->nfiles : 1, sizeof *sc->lines);
    sc->nthreads = d->nthreads ? d->nthreads : 1;
    sc->ts = calloc(sc->nthreads, sizeof *sc->ts);
    sc->modname = calloc(d->nfiles ? d->nfiles : 1, sizeof *sc->modname);
    sc->importing = calloc(sc->nthreads, sizeof *sc->importing);
    if (!sc->role || !sc->lib || !sc->lines || !sc->ts || !sc->modname || !sc->importing)
        return rw_err_set(err, RW_ENOMEM, "out of memory");
    /* The standard library's folder: where contextlib.py (always imported by the
     * runners) lies. */
    char stdlib[1024] = "";
    for (uint32_t f = 1; f < d->nfiles; f++) {
        const char *p = rw_defs_file_path(d, f);
        if (p && ends_with(p, "/contextlib.py") && strlen(p) < sizeof stdlib) {
            snprintf(stdlib, sizeof stdlib, "%.*s", (int)(strlen(p) - strlen("contextlib.py")),
                     p);
            break;
        }
    }
    size_t stdlib_len = strlen(stdlib);
    for (uint32_t n = 1; n < d->nnames; n++) {
        const char *t = rw_defs_name_text(d, n);
        if (t && !strcmp(t, "import")) {
            sc->import_name = n;
            break;
        }
    }
    for (uint32_t c = 1; c < d->ncodes; c++) {
        int role = code_role(d, c);
        sc->role[c] = (uint8_t)role;
        sc->lib[c] = (uint8_t)is_library_file(rw_defs_code_path(d, c), stdlib, stdlib_len);
        if (role == CR_PT_RUNTEST || role == CR_PT_PYFUNC || role == CR_PT_REPORT ||
            role == CR_PT_SKIPPING || role == CR_UT_SUBTEST) {
            uint32_t f = rw_defs_code_file(d, c);
            if (f && f < d->nfiles && build_lines(sc, f, err) != RW_OK)
                return err->code;
        }
    }
    return RW_OK;
}

static rw_test *new_test(scanner *sc, rw_test_runner runner, const rw_event *ev, rw_err *err)
{
    rw_tests *t = sc->out;
    if (t->n == t->cap) {
        size_t cap = t->cap ? t->cap * 2 : 64;
        rw_test *v = realloc(t->v, cap * sizeof *v);
        if (!v) {
            rw_err_set(err, RW_ENOMEM, "out of memory");
            return NULL;
        }
        t->v = v;
        t->cap = cap;
    }
    rw_test *x = &t->v[t->n++];
    memset(x, 0, sizeof *x);
    x->runner = runner;
    x->outcome = RW_TEST_UNKNOWN;
    x->first = ev->pos;
    x->last = NONE;
    x->body = NONE;
    x->failure = NONE;
    x->protocol = ev->pos;
    x->thread = ev->thread;
    x->duration_ns = rw_reader_tick_ns(sc->r, ev->tick);
    if (runner == RW_RUNNER_PYTEST)
        t->has_pytest = 1;
    else
        t->has_unittest = 1;
    return x;
}

static void close_test(scanner *sc, rw_test *x, const rw_event *ev)
{
    x->last = ev->pos;
    x->duration_ns = rw_reader_tick_ns(sc->r, ev->tick) - x->duration_ns;
    if (x->duration_ns < 0)
        x->duration_ns = 0;
}

static void set_failure(rw_test *x, where w)
{
    x->failure = w.pos;
    x->failure_code = w.code;
    x->failure_line = w.line;
}

/* pytest's words per phase -> the test's outcome (docs/tests.md). */
static void pytest_outcome(rw_test *x, const tstate *s)
{
    const int *o = s->out;
    const int *xf = s->xfail;
    if (o[0] == LR_FAILED) {
        x->outcome = RW_TEST_ERROR;
        set_failure(x, s->fail[0]);
        return;
    }
    if (o[0] == LR_SKIPPED) {
        x->outcome = xf[0] ? RW_TEST_XFAIL : RW_TEST_SKIPPED;
        return;
    }
    if (o[1] == LR_FAILED) {
        x->outcome = RW_TEST_FAILED;
        set_failure(x, s->fail[1]);
    } else if (o[1] == LR_SKIPPED) {
        x->outcome = xf[1] ? RW_TEST_XFAIL : RW_TEST_SKIPPED;
        if (xf[1])
            set_failure(x, s->fail[1]);
    } else if (o[1] == LR_PASSED) {
        x->outcome = xf[1] ? RW_TEST_XPASS : RW_TEST_PASSED;
    }
    if (o[2] == LR_FAILED && (x->outcome == RW_TEST_PASSED || x->outcome == RW_TEST_XPASS ||
                              x->outcome == RW_TEST_UNKNOWN)) {
        x->outcome = RW_TEST_ERROR; /* an error in teardown */
        set_failure(x, s->fail[2]);
    }
    if (!o[2] && o[1] != LR_FAILED)
        x->outcome = RW_TEST_UNKNOWN; /* the run ended before the teardown */
}

static void unittest_outcome(rw_test *x, const tstate *s)
{
    if (s->ut_first_bad) {
        x->outcome = s->ut_first_bad == CR_UT_FAILURE ? RW_TEST_FAILED : RW_TEST_ERROR;
        set_failure(x, s->ut_fail);
        return;
    }
    switch (s->ut_result) {
    case CR_UT_SUCCESS: x->outcome = RW_TEST_PASSED; break;
    case CR_UT_SKIP: x->outcome = RW_TEST_SKIPPED; break;
    case CR_UT_XFAIL: x->outcome = RW_TEST_XFAIL; set_failure(x, s->ut_fail); break;
    case CR_UT_XPASS: x->outcome = RW_TEST_XPASS; break;
    default: x->outcome = RW_TEST_UNKNOWN; break;
    }
}

/* The failure a runner records now: the last chain that reached user code, if it
 * started inside the test. */
static where failure_now(const tstate *s, uint64_t first)
{
    return s->last_user.pos != NONE && s->last_user.pos >= first ? s->last_user : NOWHERE;
}


/* The audit event "import" (raised by __import__, as unittest's loader imports a
 * module by name, and by importlib for each parent package not loaded yet) names a
 * module whose <module> code runs soon: its arguments' repr starts ('NAME', ... */
static void import_event(scanner *sc, const rw_event *ev)
{
    pending *pd = &sc->importing[ev->thread];
    char dst[sizeof pd->name[0]];
    if (!ev->text || ev->text_len < 3 || ev->text[0] != '(' || ev->text[1] != '\'')
        return;
    size_t i = 2, n = 0;
    while (i < ev->text_len && ev->text[i] != '\'' && n + 1 < sizeof dst) {
        char c = ev->text[i++];
        if (!(c == '.' || c == '_' || (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') ||
              (c >= 'A' && c <= 'Z')))
            return; /* not a plain dotted name */
        dst[n++] = c;
    }
    if (!n || i >= ev->text_len || ev->text[i] != '\'')
        return;
    dst[n] = '\0';
    memcpy(pd->name[pd->next++ % PENDING], dst, n + 1);
}

/* Whether the file at path is module mod's: its path without the extension (the
 * folder, for __init__) ends with mod's parts as folders ("/a/b" for a.b). */
static int path_is_module(const char *path, const char *mod)
{
    const char *base = strrchr(path, '/');
    if (!base)
        return 0;
    size_t end = (size_t)(base - path); /* the folder's end */
    if (strncmp(base + 1, "__init__.", 9)) /* else the folder is the module */
        end += 1 + strcspn(base + 1, ".");
    size_t len = strlen(mod);
    if (len >= end || path[end - len - 1] != '/')
        return 0;
    for (size_t k = 0; k < len; k++) {
        char want = mod[k] == '.' ? '/' : mod[k];
        if (path[end - len + k] != want)
            return 0;
    }
    return 1;
}

/* A <module> CALL: the module's name is the newest pending import that is it, or a
 * package of it that is (a parent imported on the way), by the file's path. The first
 * name a file gets stays. */
static void module_call(scanner *sc, const rw_event *ev)
{
    const rw_defs *d = sc->d;
    uint32_t code = ev->code;
    const char *name = rw_defs_code_name(d, code);
    uint32_t f = rw_defs_code_file(d, code);
    if (!name || strcmp(name, "<module>") || !f || f >= d->nfiles || sc->modname[f])
        return;
    const char *path = rw_defs_file_path(d, f);
    if (!path)
        return;
    const pending *pd = &sc->importing[ev->thread];
    unsigned have = pd->next < PENDING ? pd->next : PENDING;
    for (unsigned k = 1; k <= have; k++) {
        char mod[256];
        snprintf(mod, sizeof mod, "%s", pd->name[(pd->next - k) % PENDING]);
        for (;;) {
            if (path_is_module(path, mod)) {
                sc->modname[f] = strdup(mod); /* NULL when out of memory: the path rule */
                return;
            }
            char *dot = strrchr(mod, '.');
            if (!dot)
                break;
            *dot = '\0';
        }
    }
}

/* The frame that called the one ev is in (ev at depth d: the frame at d - 2 of its
 * thread's stack), or NULL. */
static const rw_frame *caller_of(rw_scan *scan, const rw_event *ev)
{
    const rw_stack *st = rw_scan_stack(scan, ev->thread);
    return st && ev->depth >= 2 && ev->depth <= st->depth ? &st->frames[ev->depth - 2] : NULL;
}

static rw_code on_event(scanner *sc, rw_scan *scan, const rw_event *ev, rw_err *err)
{
    if (ev->thread >= sc->nthreads)
        return RW_OK;
    if (ev->kind == RW_K_AUDIT) {
        if (ev->name && ev->name == sc->import_name)
            import_event(sc, ev);
        return RW_OK;
    }
    tstate *s = &sc->ts[ev->thread];
    uint32_t code = ev->code < sc->d->ncodes ? ev->code : 0;
    int role = 0;
    uint8_t prop = 0;

    switch (ev->kind) {
    case RW_K_EXCEPTION: {
        int cont = s->have_prev && s->prev_prop &&
                   (s->prev_kind == RW_K_RETURN || s->prev_kind == RW_K_C_EXCEPTION);
        if (!cont)
            s->chain_user = NOWHERE;
        if (s->chain_user.pos == NONE && code && !sc->lib[code]) {
            where w = {ev->pos, code, ev->line};
            s->chain_user = w;
            s->last_user = w;
        }
        if (code && sc->role[code] == CR_PT_FROM_CALL && s->pt && s->phase) {
            uint64_t first = sc->out->v[s->pt - 1].first;
            s->phase_fail = s->chain_user.pos != NONE ? s->chain_user : failure_now(s, first);
            /* A doctest whose output differed raised nothing in the program's code:
             * its failure is the example that ran last (pytest stops at it). */
            if (s->phase_fail.pos == NONE && s->doctest_line.pos != NONE &&
                s->doctest_line.pos >= first)
                s->phase_fail = s->doctest_line;
        }
        break;
    }
    case RW_K_RETURN:
        prop = s->have_prev && s->prev_kind == RW_K_EXCEPTION;
        break;
    case RW_K_C_EXCEPTION:
        prop = s->have_prev && s->prev_kind == RW_K_RETURN && s->prev_prop;
        break;
    case RW_K_CALL:
    case RW_K_LINE:
    case RW_K_C_CALL:
    case RW_K_C_RETURN:
        break;
    default:
        return RW_OK; /* annotations are not events of the thread */
    }
    s->prev_kind = ev->kind;
    s->prev_prop = prop;
    s->have_prev = 1;
    if (ev->kind >= RW_K_C_CALL || !code)
        return RW_OK;
    role = sc->role[code];
    if (ev->kind == RW_K_LINE && role == CR_DOCTEST) {
        where w = {ev->pos, code, ev->line};
        s->doctest_line = w;
    }

    if (ev->kind == RW_K_CALL) {
        if (sc->importing[ev->thread].next)
            module_call(sc, ev);
        /* ---- pytest ---- */
        if (role == CR_PT_PROTOCOL)
            s->protocol = ev->pos;
        if (role == CR_PT_RUNTEST && !s->pt) {
            rw_test *x = new_test(sc, RW_RUNNER_PYTEST, ev, err);
            if (!x)
                return err->code;
            if (s->protocol != NONE && s->protocol <= ev->pos)
                x->protocol = s->protocol;
            s->pt = sc->out->n;
            s->pt_depth = ev->depth;
            memset(s->out, 0, sizeof s->out);
            memset(s->xfail, 0, sizeof s->xfail);
            s->fail[0] = s->fail[1] = s->fail[2] = NOWHERE;
            s->phase = 0;
            s->body_depth = 0;
            return RW_OK;
        }
        if (s->pt) {
            rw_test *x = &sc->out->v[s->pt - 1];
            const rw_frame *caller = caller_of(scan, ev);
            if (role == CR_PT_UT_ADD && s->phase && s->phase_fail.pos == NONE)
                s->phase_fail = failure_now(s, x->first);
            if (role == CR_PT_CALL_REPORT && ev->depth == s->pt_depth + 1 && caller &&
                !caller->is_c) {
                int lr = line_role(sc, caller->code, caller->line);
                if (lr == LR_SETUP || lr == LR_CALL || lr == LR_TEARDOWN) {
                    s->phase = lr;
                    s->phase_depth = ev->depth;
                    s->phase_out = 0;
                    s->phase_xfail = 0;
                    s->phase_fail = NOWHERE;
                }
            } else if (x->body == NONE && !s->body_depth && s->phase == LR_CALL && caller &&
                       !caller->is_c && caller->code < sc->d->ncodes &&
                       ((sc->role[caller->code] == CR_PT_PYFUNC &&
                         line_role(sc, caller->code, caller->line) == LR_BODY) ||
                        sc->role[caller->code] == CR_UT_CALLTEST || role == CR_DOCTEST)) {
                s->body_depth = ev->depth;
                s->body_code = code;
                x->code = role == CR_DOCTEST ? 0 : code;
            }
            return RW_OK;
        }
        /* ---- unittest ---- */
        if (role == CR_UT_SUITE_RUN && sc->out->suite_pos == NONE)
            sc->out->suite_pos = ev->pos;
        if (role == CR_UT_FIXTURE && !s->ut && !s->fx_depth) {
            s->fx_depth = ev->depth;
            s->fx_first = ev->pos;
            s->fx_tick = ev->tick;
            s->fx_kind = 0;
            s->fx_fail = NOWHERE;
            return RW_OK;
        }
        if (s->fx_depth && !s->ut && (role == CR_UT_ERROR || role == CR_UT_FAILURE ||
                                      role == CR_UT_SKIP)) {
            if (!s->fx_kind || (s->fx_kind == CR_UT_SKIP && role != CR_UT_SKIP)) {
                s->fx_kind = role == CR_UT_SKIP ? CR_UT_SKIP : CR_UT_ERROR;
                s->fx_fail = failure_now(s, s->fx_first);
            }
            return RW_OK;
        }
        if (role == CR_UT_RUN && !s->ut) {
            if (!new_test(sc, RW_RUNNER_UNITTEST, ev, err))
                return err->code;
            s->ut = sc->out->n;
            s->ut_depth = ev->depth;
            s->ut_first_bad = 0;
            s->ut_result = 0;
            s->ut_fail = NOWHERE;
            s->ut_doctest = 0;
            s->body_depth = 0;
            return RW_OK;
        }
        if (s->ut) {
            rw_test *x = &sc->out->v[s->ut - 1];
            const rw_frame *caller = caller_of(scan, ev);
            if (x->body == NONE && !s->body_depth && caller && !caller->is_c &&
                caller->code < sc->d->ncodes && sc->role[caller->code] == CR_UT_CALLTEST) {
                s->body_depth = ev->depth;
                s->body_code = code;
                x->code = code;
                s->ut_doctest = role == CR_UT_DOCTEST_RUN;
            }
            switch (role) {
            case CR_UT_FAILURE:
            case CR_UT_ERROR:
                if (!s->ut_first_bad) {
                    s->ut_first_bad = role;
                    s->ut_fail = failure_now(s, x->first);
                }
                break;
            case CR_UT_XFAIL:
                s->ut_fail = failure_now(s, x->first);
                s->ut_result = role;
                break;
            case CR_UT_SUCCESS:
            case CR_UT_SKIP:
            case CR_UT_XPASS:
                s->ut_result = role;
                break;
            default:
                break;
            }
        }
        return RW_OK;
    }

    if (ev->kind == RW_K_LINE) {
        if (s->body_depth && ev->depth == s->body_depth && code == s->body_code) {
            rw_test *x = &sc->out->v[(s->pt ? s->pt : s->ut) - 1];
            if (x->body == NONE) {
                x->body = ev->pos;
                x->body_line = ev->line;
            }
            s->body_depth = 0;
        }
        if (s->pt && s->phase && (role == CR_PT_REPORT || role == CR_PT_SKIPPING)) {
            int lr = line_role(sc, code, ev->line);
            if (lr == LR_PASSED || lr == LR_FAILED || lr == LR_SKIPPED)
                s->phase_out = lr;
            else if (lr == LR_WASXFAIL && role == CR_PT_SKIPPING)
                s->phase_xfail = 1;
        }
        if (s->ut && s->ut_doctest && role == CR_DOCTEST) {
            /* where a doctest's own code starts, as for pytest's doctest items */
            rw_test *x = &sc->out->v[s->ut - 1];
            x->body = ev->pos;
            x->body_line = ev->line;
            s->ut_doctest = 0;
        }
        if (s->ut && role == CR_UT_SUBTEST) {
            int lr = line_role(sc, code, ev->line);
            if (lr == LR_SUB_FAIL || lr == LR_SUB_ERROR) {
                rw_test *x = &sc->out->v[s->ut - 1];
                x->subtests_failed++;
                if (!s->ut_first_bad) {
                    s->ut_first_bad = lr == LR_SUB_FAIL ? CR_UT_FAILURE : CR_UT_ERROR;
                    s->ut_fail = failure_now(s, x->first);
                }
            }
        }
        return RW_OK;
    }

    if (ev->kind == RW_K_RETURN) {
        if (s->body_depth && ev->depth <= s->body_depth)
            s->body_depth = 0; /* returned before any line */
        if (s->pt) {
            if (s->phase && ev->depth == s->phase_depth && role == CR_PT_CALL_REPORT) {
                int i = s->phase - LR_SETUP;
                s->out[i] = s->phase_out;
                s->xfail[i] = s->phase_xfail;
                s->fail[i] = s->phase_fail;
                s->phase = 0;
            } else if (ev->depth == s->pt_depth && role == CR_PT_RUNTEST) {
                rw_test *x = &sc->out->v[s->pt - 1];
                close_test(sc, x, ev);
                pytest_outcome(x, s);
                s->pt = 0;
                s->phase = 0;
            }
        } else if (s->fx_depth && !s->ut && ev->depth == s->fx_depth &&
                   role == CR_UT_FIXTURE) {
            s->fx_depth = 0;
            if (s->fx_kind) { /* unittest's "setUpClass (module.Class)" entry */
                rw_event start = *ev;
                start.pos = s->fx_first;
                start.tick = s->fx_tick;
                rw_test *x = new_test(sc, RW_RUNNER_UNITTEST, &start, err);
                if (!x)
                    return err->code;
                x->fixture = 1;
                x->fixture_code = s->fx_fail.code;
                close_test(sc, x, ev);
                if (s->fx_kind == CR_UT_SKIP) {
                    x->outcome = RW_TEST_SKIPPED;
                } else {
                    x->outcome = RW_TEST_ERROR;
                    set_failure(x, s->fx_fail);
                }
            }
        } else if (s->ut && ev->depth == s->ut_depth && role == CR_UT_RUN) {
            rw_test *x = &sc->out->v[s->ut - 1];
            close_test(sc, x, ev);
            unittest_outcome(x, s);
            s->ut = 0;
        }
    }
    return RW_OK;
}

static void free_scanner(scanner *sc)
{
    if (sc->lines)
        for (uint32_t f = 0; f < (sc->d->nfiles ? sc->d->nfiles : 1); f++)
            free(sc->lines[f].role);
    free(sc->lines);
    if (sc->modname)
        for (uint32_t f = 0; f < (sc->d->nfiles ? sc->d->nfiles : 1); f++)
            free(sc->modname[f]);
    free(sc->modname);
    free(sc->importing);
    free(sc->role);
    free(sc->lib);
    free(sc->ts);
}

/* ---- names from the log ----------------------------------------------------------- */

static char *dup_printf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static char *dup_printf(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n < 0)
        return NULL;
    char *s = malloc((size_t)n + 1);
    if (!s)
        return NULL;
    va_start(ap, fmt);
    vsnprintf(s, (size_t)n + 1, fmt, ap);
    va_end(ap);
    return s;
}

/* path relative to dir when it lies inside it, else path itself (borrowed). */
static const char *rel_to(const char *path, const char *dir)
{
    size_t n = dir ? strlen(dir) : 0;
    while (n > 1 && dir[n - 1] == '/')
        n--;
    if (n && !strncmp(path, dir, n) && path[n] == '/')
        return path + n + 1;
    return path;
}

/* The module a file was imported as, by the log's rule (docs/tests.md): __main__ for
 * the main script, else the name its import gave it (modname, by file id: the "import"
 * audit event), else its path relative to the working directory, dots for slashes,
 * without .py (and without a last __init__). */
static char *module_of(const rw_reader *r, char *const *modname, const char *path)
{
    const Rewind__Metadata *m = rw_reader_metadata(r);
    const char *cwd = m && m->cwd ? m->cwd : "";
    if (m && m->n_argv > 0 && m->argv[0] && m->argv[0][0] != '-') {
        char *main = rw_path_abspath(m->argv[0], cwd);
        int is_main = main && !strcmp(main, path);
        free(main);
        if (is_main)
            return dup_printf("__main__");
    }
    const rw_defs *d = rw_reader_defs(r);
    for (uint32_t f = 1; modname && f < d->nfiles; f++) {
        const char *p = rw_defs_file_path(d, f);
        if (modname[f] && p && !strcmp(p, path))
            return dup_printf("%s", modname[f]);
    }
    const char *rel = rel_to(path, cwd);
    char *s = dup_printf("%s", rel);
    if (!s)
        return NULL;
    size_t n = strlen(s);
    if (n > 3 && !strcmp(s + n - 3, ".py"))
        s[n -= 3] = '\0';
    if (n > 9 && !strcmp(s + n - 9, "/__init__"))
        s[n -= 9] = '\0';
    for (char *p = s; *p; p++)
        if (*p == '/')
            *p = '.';
    return s;
}

static rw_code log_names(const rw_reader *r, char *const *modname, rw_tests *t, rw_err *err)
{
    const rw_defs *d = rw_reader_defs(r);
    const Rewind__Metadata *m = rw_reader_metadata(r);
    const char *cwd = m && m->cwd ? m->cwd : "";
    /* How many tests each code is: more than one is a parametrised test (or a method
     * inherited by several classes), numbered [#1], [#2] ... */
    uint32_t nc = d->ncodes ? d->ncodes : 1;
    uint32_t *count = calloc(nc, sizeof *count), *seen = calloc(nc, sizeof *seen);
    if (!count || !seen) {
        free(count);
        free(seen);
        return rw_err_set(err, RW_ENOMEM, "out of memory");
    }
    for (size_t i = 0; i < t->n; i++)
        if (t->v[i].code < nc && !t->v[i].fixture)
            count[t->v[i].code]++;
    size_t unnamed = 0, numbered = 0;
    for (size_t i = 0; i < t->n; i++) {
        rw_test *x = &t->v[i];
        uint32_t c = x->code < nc ? x->code : 0;
        const char *path = c ? rw_defs_code_path(d, c) : NULL;
        const char *q = c ? rw_defs_code_qualname(d, c) : NULL;
        char *id = NULL;
        if (x->fixture) { /* "setUpClass (module.Class)", "setUpModule (module)" */
            uint32_t fc = x->fixture_code < nc ? x->fixture_code : 0;
            const char *fpath = fc ? rw_defs_code_path(d, fc) : NULL;
            const char *fq = fc ? rw_defs_code_qualname(d, fc) : NULL;
            char *mod = fpath ? module_of(r, modname, fpath) : NULL;
            const char *dot = fq ? strrchr(fq, '.') : NULL;
            if (!fq || !mod)
                id = dup_printf("?fixture#%zu", i + 1);
            else if (dot)
                id = dup_printf("%s (%s.%.*s)", dot + 1, mod, (int)(dot - fq), fq);
            else
                id = dup_printf("%s (%s)", fq, mod);
            free(mod);
            if (!id) {
                free(count);
                free(seen);
                return rw_err_set(err, RW_ENOMEM, "out of memory");
            }
            x->id = id;
            x->name = dup_printf("%s", id);
            continue;
        }
        if (!path || !q) {
            id = dup_printf("?%s#%zu", x->runner == RW_RUNNER_PYTEST ? "pytest" : "unittest",
                            i + 1);
            unnamed++;
        } else if (x->runner == RW_RUNNER_PYTEST) {
            char *cls = malloc(2 * strlen(q) + 1); /* "C.f" -> "C::f" */
            if (cls) {
                char *o = cls;
                for (const char *c2 = q; *c2; c2++)
                    if (*c2 == '.') {
                        *o++ = ':';
                        *o++ = ':';
                    } else {
                        *o++ = *c2;
                    }
                *o = '\0';
            }
            if (count[c] > 1) {
                id = dup_printf("%s::%s[#%u]", rel_to(path, cwd), cls ? cls : q, ++seen[c]);
                numbered++;
            } else {
                id = dup_printf("%s::%s", rel_to(path, cwd), cls ? cls : q);
            }
            free(cls);
        } else {
            char *mod = module_of(r, modname, path);
            if (count[c] > 1) { /* a method inherited by several classes, or run again */
                id = dup_printf("%s.%s[#%u]", mod ? mod : "?", q, ++seen[c]);
                numbered++;
            } else {
                id = dup_printf("%s.%s", mod ? mod : "?", q);
            }
            if (id) {
                const char *meth = strrchr(q, '.');
                x->name = dup_printf("%s (%s)", meth ? meth + 1 : q, id);
            }
            free(mod);
        }
        if (!id) {
            free(count);
            free(seen);
            return rw_err_set(err, RW_ENOMEM, "out of memory");
        }
        x->id = id;
        if (!x->name)
            x->name = dup_printf("%s", id);
        x->exact = 0;
    }
    free(count);
    free(seen);
    if (t->n)
        snprintf(t->note, sizeof t->note,
                 "names from the log, not asked of the runner (docs/tests.md): %zu whose "
                 "function never ran (?#N), %zu whose function ran as several tests "
                 "(parameters or inherited methods: [#N])", unnamed, numbered);
    return RW_OK;
}

rw_code rw_tests_scan(const rw_reader *r, rw_tests *out, rw_err *err)
{
    memset(out, 0, sizeof *out);
    out->suite_pos = NONE;
    scanner sc = {.r = r, .d = rw_reader_defs(r), .out = out};
    rw_code rc = classify(&sc, err);
    for (uint32_t i = 0; rc == RW_OK && i < sc.nthreads; i++) {
        sc.ts[i].protocol = NONE;
        sc.ts[i].chain_user = NOWHERE;
        sc.ts[i].last_user = NOWHERE;
        sc.ts[i].doctest_line = NOWHERE;
    }
    rw_scan *s = NULL;
    uint64_t last = 0; /* the last event read */
    if (rc == RW_OK && rw_reader_nchunks(r)) {
        rw_scan_opts so;
        rw_scan_opts_default(&so);
        so.decode = RW_DECODE_SKIP_ALLOCS;
        rc = rw_scan_open(r, &so, &s, err);
    }
    if (rc == RW_OK && s) {
        rw_event ev;
        int n;
        while ((n = rw_scan_next(s, &ev, err)) == 1) {
            last = ev.pos;
            if ((rc = on_event(&sc, s, &ev, err)) != RW_OK)
                break;
        }
        if (n < 0)
            rc = err->code;
    }
    rw_scan_close(s);
    /* Tests still open at the end: the run ended inside them. */
    for (size_t i = 0; i < out->n; i++)
        if (out->v[i].last == NONE) {
            out->v[i].last = last > out->v[i].first ? last : out->v[i].first;
            out->v[i].duration_ns = 0;
            out->v[i].outcome = RW_TEST_UNKNOWN;
        }
    /* A damaged chunk ends the scan: the tests before it stand (the last one open). */
    int damaged = rc == RW_ECORRUPT || rc == RW_EIO;
    if (rc == RW_OK || damaged) {
        rw_err e2;
        rw_code nrc = log_names(r, sc.modname, out, damaged ? &e2 : err);
        if (nrc != RW_OK) {
            if (damaged)
                *err = e2;
            rc = nrc;
            damaged = 0;
        }
    }
    free_scanner(&sc);
    if (rc != RW_OK && !damaged)
        rw_tests_free(out);
    return rc;
}

void rw_tests_free(rw_tests *t)
{
    for (size_t i = 0; i < t->n; i++) {
        free(t->v[i].id);
        free(t->v[i].name);
    }
    free(t->v);
    memset(t, 0, sizeof *t);
}

/* ---- names from the runner, by re-execution ----------------------------------------- */

/* An id of the unittest entries ends with the method's name (when the runner did not
 * give it). */
static const char *method_of(const char *id)
{
    const char *dot = strrchr(id, '.');
    return dot ? dot + 1 : id;
}

/* pytest: the item's name without its parameters ("test_y" for "p.py::C::test_y[1]"). */
static int same_function(const char *nodeid, const char *fname)
{
    const char *colon = strrchr(nodeid, ':');
    const char *name = colon ? colon + 1 : nodeid;
    size_t len = strcspn(name, "[");
    return strlen(fname) == len && !strncmp(name, fname, len);
}

static rw_code ask_lines(rw_engine *e, uint64_t pos, const char *stmt, char **out, rw_err *err)
{
    rw_code rc = rw_engine_goto(e, pos, err);
    if (rc != RW_OK)
        return rc;
    int raised = 0;
    rc = rw_engine_ask(e, RW_ENGINE_EXEC, UINT32_MAX, stmt, out, &raised, err);
    if (rc == RW_OK && raised) {
        rc = rw_err_set(err, RW_EPYTHON, "the runner could not be asked for its test ids: %s",
                        *out ? *out : "");
        free(*out);
        *out = NULL;
    }
    return rc;
}

static rw_code name_pytest(rw_engine *e, const rw_reader *r, rw_tests *t, rw_err *err)
{
    const rw_defs *d = rw_reader_defs(r);
    size_t k0 = 0;
    while (k0 < t->n && t->v[k0].runner != RW_RUNNER_PYTEST)
        k0++;
    if (k0 == t->n)
        return RW_OK;
    char *text = NULL;
    rw_code rc = ask_lines(e, t->v[k0].protocol,
                           "print('\\n'.join(i.nodeid for i in item.session.items))", &text, err);
    if (rc != RW_OK)
        return rc;
    /* The k-th test run is the k-th item (pytest_runtestloop runs session.items in
     * order; -x stops early). Checked by the function's name where it ran. */
    char *p = text;
    for (size_t i = k0; i < t->n; i++) {
        rw_test *x = &t->v[i];
        if (x->runner != RW_RUNNER_PYTEST)
            continue;
        if (!*p) {
            free(text);
            return rw_err_set(err, RW_ENOTFOUND, "the run has more tests than pytest collected");
        }
        char *nl = strchr(p, '\n');
        size_t len = nl ? (size_t)(nl - p) : strlen(p);
        char *id = malloc(len + 1);
        if (!id) {
            free(text);
            return rw_err_set(err, RW_ENOMEM, "out of memory");
        }
        memcpy(id, p, len);
        id[len] = '\0';
        p += len + (nl ? 1 : 0);
        const char *fname = x->code ? rw_defs_code_name(d, x->code) : NULL;
        if (fname && !same_function(id, fname)) {
            rc = rw_err_set(err, RW_ENOTFOUND,
                            "pytest's item %s does not run function %s at position %llu", id,
                            fname, (unsigned long long)x->first);
            free(id);
            free(text);
            return rc;
        }
        x->id = id; /* the caller kept the old one */
    }
    free(text);
    return RW_OK;
}

static rw_code name_unittest(rw_engine *e, const rw_reader *r, rw_tests *t, rw_err *err)
{
    const rw_defs *d = rw_reader_defs(r);
    size_t k0 = 0;
    while (k0 < t->n && (t->v[k0].runner != RW_RUNNER_UNITTEST || t->v[k0].fixture))
        k0++;
    if (k0 == t->n || t->suite_pos == NONE || t->suite_pos > t->v[k0].first)
        return k0 == t->n ? RW_OK
                          : rw_err_set(err, RW_ENOTFOUND, "no unittest suite runs the tests");
    char *text = NULL;
    rw_code rc = ask_lines(
        e, t->suite_pos,
        "_rw_f = lambda s, f: [x for c in s for x in (f(c, f) if hasattr(c, '__iter__') "
        "else [c])]; _rw_m = lambda m: getattr(getattr(getattr(m, '__func__', m), "
        "'__code__', None), 'co_name', None); _rw_r = lambda c, m=_rw_m: c.id() + '\\t' + "
        "str(c) + '\\t' + str(m(getattr(c, getattr(c, '_testMethodName', ''), None)) or "
        "getattr(c, '_testMethodName', '')); print('\\n'.join(map(_rw_r, _rw_f(self, _rw_f))))",
        &text, err);
    if (rc != RW_OK)
        return rc;
    /* The tests TestCase.run ran, in order, are the suite's in order, less the ones a
     * failed setUpClass skipped: matched by method name where the method ran. */
    char *p = text;
    char skip[512] = ""; /* "module.Class." or "module." whose set-up failed */
    for (size_t i = k0; i < t->n; i++) {
        rw_test *x = &t->v[i];
        if (x->runner == RW_RUNNER_UNITTEST && x->fixture) {
            /* its log name stands; a class or module whose set-up failed runs none
             * of its tests, which the suite still lists */
            const char *open = strchr(x->id, '(');
            size_t len = open ? strcspn(open + 1, ")") : 0;
            if (open && (!strncmp(x->id, "setUpClass ", 11) ||
                         !strncmp(x->id, "setUpModule ", 12)) && len + 2 < sizeof skip)
                snprintf(skip, sizeof skip, "%.*s.", (int)len, open + 1);
            continue;
        }
        if (x->runner != RW_RUNNER_UNITTEST)
            continue;
        const char *fname = x->code ? rw_defs_code_name(d, x->code) : NULL;
        char *id = NULL, *name = NULL;
        while (*p) {
            char *nl = strchr(p, '\n');
            size_t len = nl ? (size_t)(nl - p) : strlen(p);
            /* "ID\tSTR\tFUNCTION": the name of the code TestCase._callTestMethod calls
             * (runTest for a doctest's test, whose id does not end with it; the
             * wrapper of a decorated method) */
            char *tab = memchr(p, '\t', len);
            char *tab2 = tab ? memchr(tab + 1, '\t', len - (size_t)(tab + 1 - p)) : NULL;
            size_t name_end = tab2 ? (size_t)(tab2 - p) : len;
            char *line_id = tab ? strndup(p, (size_t)(tab - p)) : NULL;
            char *line_name = tab ? strndup(tab + 1, name_end - (size_t)(tab - p) - 1) : NULL;
            char method[256] = "";
            if (tab2 && len - name_end - 1 < sizeof method)
                snprintf(method, sizeof method, "%.*s", (int)(len - name_end - 1), tab2 + 1);
            p += len + (nl ? 1 : 0);
            if (!line_id || !line_name) {
                free(line_id);
                free(line_name);
                continue;
            }
            int skipped = skip[0] && !strncmp(line_id, skip, strlen(skip));
            if (!skipped &&
                (!fname || !strcmp(method[0] ? method : method_of(line_id), fname))) {
                id = line_id;
                name = line_name;
                break;
            }
            free(line_id);
            free(line_name);
        }
        if (!id) {
            free(text);
            return rw_err_set(err, RW_ENOTFOUND,
                              "the suite has no test for the one at position %llu",
                              (unsigned long long)x->first);
        }
        free(x->id);
        free(x->name);
        x->id = id;
        x->name = name;
    }
    free(text);
    return RW_OK;
}

rw_code rw_tests_name(const char *path, rw_tests *t, rw_err *err)
{
    if (!t->n)
        return RW_OK;
    rw_reader *r;
    rw_code rc = rw_reader_open(path, &r, err);
    if (rc != RW_OK)
        return rc;
    /* Keep the log's names until the engine gave every one. */
    size_t n = t->n;
    char **ids = malloc(n * sizeof *ids), **names = malloc(n * sizeof *names);
    if (!ids || !names) {
        free(ids);
        free(names);
        rw_reader_free(r);
        return rw_err_set(err, RW_ENOMEM, "out of memory");
    }
    for (size_t i = 0; i < n; i++) { /* a fixture's log name stands either way */
        ids[i] = t->v[i].fixture ? NULL : t->v[i].id;
        names[i] = t->v[i].fixture ? NULL : t->v[i].name;
        if (!t->v[i].fixture)
            t->v[i].id = t->v[i].name = NULL;
    }
    rw_engine *e = NULL;
    rc = rw_engine_open(path, &e, err);
    if (rc == RW_OK && t->has_pytest)
        rc = name_pytest(e, r, t, err);
    if (rc == RW_OK && t->has_unittest)
        rc = name_unittest(e, r, t, err);
    rw_engine_close(e);
    rw_reader_free(r);
    for (size_t i = 0; i < n; i++) {
        rw_test *x = &t->v[i];
        if (x->fixture) {
            x->exact = rc == RW_OK;
        } else if (rc == RW_OK) {
            if (x->runner == RW_RUNNER_PYTEST) {
                free(names[i]);
                x->name = strdup(x->id);
                free(ids[i]);
            } else {
                free(ids[i]);
                free(names[i]);
            }
            x->exact = 1;
        } else {
            free(x->id);
            free(x->name);
            x->id = ids[i];
            x->name = names[i];
        }
        if (!x->name || !x->id) {
            rc = rw_err_set(err, RW_ENOMEM, "out of memory");
            if (!x->name)
                x->name = strdup("?");
            if (!x->id)
                x->id = strdup("?");
        }
    }
    free(ids);
    free(names);
    if (rc == RW_OK)
        t->note[0] = '\0';
    else if (t->note[0] || rc != RW_ENOMEM) {
        char why[sizeof t->note + sizeof err->msg + 128];
        snprintf(why, sizeof why, "%s%snames from the log: the runner's ids could not be "
                 "asked by re-execution (%s)", t->note, t->note[0] ? "; " : "", err->msg);
        size_t len = strlen(why);
        if (len >= sizeof t->note)
            len = sizeof t->note - 1;
        memcpy(t->note, why, len);
        t->note[len] = '\0';
    }
    return rc;
}

/* ---- finding a test by name --------------------------------------------------------- */

rw_code rw_tests_find(const rw_tests *t, const char *spec, size_t *idx, rw_err *err)
{
    size_t hit = 0, nhit = 0;
    for (size_t i = 0; i < t->n; i++)
        if (!strcmp(t->v[i].id, spec) || !strcmp(t->v[i].name, spec)) {
            *idx = i;
            return RW_OK;
        }
    /* a suffix after a separator ("test_y[1-2]", "C::test_y", "C.test_y"), then any
     * substring */
    for (int pass = 0; pass < 2 && !nhit; pass++)
        for (size_t i = 0; i < t->n; i++) {
            const char *id = t->v[i].id;
            size_t n = strlen(id), m = strlen(spec);
            int ok;
            if (pass == 0)
                ok = m < n && !strcmp(id + n - m, spec) &&
                     (id[n - m - 1] == ':' || id[n - m - 1] == '.' || id[n - m - 1] == '/');
            else
                ok = strstr(id, spec) != NULL;
            if (ok) {
                if (!nhit)
                    hit = i;
                nhit++;
            }
        }
    if (nhit == 1) {
        *idx = hit;
        return RW_OK;
    }
    if (!nhit)
        return rw_err_set(err, RW_ENOTFOUND,
                          "no test of the %zu in this trace is named or contains '%s': "
                          "'rewind tests FILE' lists them", t->n, spec);
    return rw_err_set(err, RW_EINVAL,
                      "%zu tests match '%s' (the first is %s): give the whole id as "
                      "'rewind tests FILE' lists it", nhit, spec, t->v[hit].id);
}

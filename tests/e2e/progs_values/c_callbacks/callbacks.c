/* A C library with threads of its own that call back into Python (test_values'
 * test_callbacks_from_threads_of_a_c_library): run_in_threads starts `nthreads`
 * threads; each calls cb(thread, call) `ncalls` times, every call from a thread that
 * has no Python thread state (ctypes makes one for the call and drops it after), and
 * thread 0 also starts a thread of its own between two calls, which calls cb(-1, 0).
 * call_later(cb, ms): one thread sleeps ms milliseconds, then calls cb(0, 0) once; the
 * caller joins it (ask_and_end.py). */
#include <pthread.h>
#include <stdint.h>
#include <time.h>

typedef int (*callback)(int, int);

struct job {
    callback cb;
    int thread, ncalls;
};

static void *grandchild(void *p)
{
    struct job *j = p;
    j->cb(-1, 0);
    return NULL;
}

static void *worker(void *p)
{
    struct job *j = p;
    for (int i = 0; i < j->ncalls; i++) {
        j->cb(j->thread, i);
        if (j->thread == 0 && i == 0) {
            struct job g = {j->cb, -1, 1};
            pthread_t t;
            if (pthread_create(&t, NULL, grandchild, &g) == 0)
                pthread_join(t, NULL);
        }
    }
    return NULL;
}

int run_in_threads(int nthreads, int ncalls, callback cb)
{
    pthread_t t[16];
    struct job jobs[16];
    if (nthreads > 16)
        nthreads = 16;
    int started = 0;
    for (int i = 0; i < nthreads; i++) {
        jobs[i] = (struct job){cb, i, ncalls};
        if (pthread_create(&t[i], NULL, worker, &jobs[i]) != 0)
            break;
        started++;
    }
    for (int i = 0; i < started; i++)
        pthread_join(t[i], NULL);
    return started;
}

struct later {
    callback cb;
    int ms;
};

static void *sleeper(void *p)
{
    struct later *l = p;
    struct timespec t = {l->ms / 1000, (l->ms % 1000) * 1000000L};
    nanosleep(&t, NULL);
    l->cb(0, 0);
    return NULL;
}

int call_later(callback cb, int ms)
{
    struct later l = {cb, ms};
    pthread_t t;
    if (pthread_create(&t, NULL, sleeper, &l) != 0)
        return -1;
    pthread_join(t, NULL);
    return 0;
}

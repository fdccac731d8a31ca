/* test_values' test_a_raw_free_made_without_the_gil_in_a_tail: free_later(p, ms)
 * sleeps ms milliseconds, then frees p with PyMem_RawFree. ctypes calls it with the GIL
 * released, so the recorder puts the free in its side buffer, and the next thread to
 * take the GIL drains it into the stream. Built with cc by the test; PyMem_RawFree
 * comes from the process that loads it. */
#include <time.h>

void PyMem_RawFree(void *p);

void free_later(void *p, int ms)
{
    struct timespec t = {ms / 1000, (ms % 1000) * 1000000L};
    nanosleep(&t, NULL);
    PyMem_RawFree(p);
}

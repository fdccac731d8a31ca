/* The navigator (debugger/nav.h) was called the timeline; this name stays for
 * tests/unit/test_debugger.c, which includes it and must run unchanged. */
#ifndef RW_TIMELINE_H
#define RW_TIMELINE_H

#include "nav.h"

#endif

/* What a trace would disclose if it were shared (`rewind info --reveals`): the host,
 * user and working directory, the command line, the environment (kept, and redacted by
 * name), the source files embedded, and, from the audit events, the files the program
 * opened, the peers it contacted and the programs it ran; from the inputs, how many of
 * OpenSSL's draws of random bytes (its TLS keys) it holds. Nothing here prints.
 */
#ifndef RW_REVEALS_H
#define RW_REVEALS_H

#include <stddef.h>
#include <stdint.h>

#include "reader.h"

/* A set of distinct texts, in the order first seen, with how often each was seen. */
typedef struct rw_reveal_list {
    char **text;
    uint64_t *count;
    size_t n, cap;
    uint64_t total; /* occurrences, the distinct ones beyond the cap included */
} rw_reveal_list;

typedef struct rw_reveals {
    rw_reveal_list user;        /* USER, LOGNAME, HOME values, user names in paths */
    rw_reveal_list env_kept;    /* NAME of every variable kept with its value */
    rw_reveal_list env_redacted;/* NAME of every variable redacted by name */
    rw_reveal_list sources;     /* path of every file whose source is embedded */
    uint64_t source_bytes;
    rw_reveal_list opened;      /* `open` audit events: the path */
    rw_reveal_list peers;       /* socket.connect, socket.sendto, socket.getaddrinfo,
                                 * http.client.connect, ...: the address */
    rw_reveal_list programs;    /* subprocess.Popen, os.system, os.exec, os.spawn,
                                 * os.posix_spawn: the command */
    uint64_t exceptions;        /* exception messages recorded */
    uint64_t tls_draws;         /* OpenSSL's random bytes logged (input call RAND_bytes):
                                 * the run's TLS keys */
} rw_reveals;

/* Collects what r discloses into a new *out (caller frees with rw_reveals_free); the
 * lists keep at most `cap` distinct entries each (the totals count all). Errors: the
 * reader's, and RW_ENOMEM. */
rw_code rw_reveals_collect(const rw_reader *r, size_t cap, rw_reveals **out, rw_err *err);
void rw_reveals_free(rw_reveals *v);

#endif

/* Secrets: what a trace must not disclose when it is attached to a bug report.
 *
 * Environment variables whose names look secret are redacted in the metadata
 * (recorder.c); their values, and the passwords inside URLs anywhere in the
 * environment or the command line, are kept here so that they can be scrubbed from
 * every text the recorder writes later: exception messages, audit arguments, the
 * uncaught exception, argv, what an exec ran. Values after --password, --token and the
 * like on the command line are secrets too.
 *
 * rw_secrets_init runs once on the main thread before the program; rw_secrets_scrub
 * then only reads the table (any thread, GIL held or not; not async-signal-safe).
 */
#ifndef RW_SECRETS_H
#define RW_SECRETS_H

#include <stddef.h>

/* What a scrubbed secret becomes. */
#define RW_SECRETS_MARK "<redacted>"

/* 1 when the environment variable name (len bytes) is secret: it matches a default
 * pattern (rw_record_default_redact, unless keep_env) or one of the extra patterns. */
int rw_secrets_name_is_secret(const char *name, size_t len, int keep_env,
                              const char *const *extra, size_t nextra);

/* Collects the secrets of this run from env ("NAME=value" strings, NULL-ended) and
 * argv (the program's arguments): values of secret variables, URL passwords, values
 * of secret-looking options. Out of memory only makes the table shorter (and scrubbing
 * is then incomplete: the failure is reported by the caller's sticky error). */
void rw_secrets_init(char **env, int keep_env, const char *const *extra, size_t nextra,
                     int argc, char **argv);

/* Scrubs buf (len bytes, room for cap >= len + 1): every secret value becomes
 * RW_SECRETS_MARK, and so does the password of every "scheme://user:pass@" in it.
 * Returns the new length (<= cap - 1; the text is cut at cap - 1 and NUL-terminated). */
size_t rw_secrets_scrub(char *buf, size_t len, size_t cap);

/* 1 when argv[i] is the value of a secret option (argv[i-1] is "--password", ...), or
 * itself "--password=value"; then *keep is the length of the part to keep as is
 * ("--password=" or 0). */
int rw_secrets_arg_is_secret(char **argv, int i, size_t *keep);

/* argv[i] as a trace may keep it, into out (cap bytes): the value of a secret option
 * replaced by RW_SECRETS_MARK (its "--token=" kept), anything else scrubbed. argv[i-1]
 * must still be the original. Returns the length. */
size_t rw_secrets_scrub_arg(char *const *argv, int i, char *out, size_t cap);

#endif

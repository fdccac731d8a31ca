/* Shared memory that other processes write: followed mappings, their SHARED_MEM
 * records (shmem.c has the whole story). Owner: shmem.c; files.c calls it when the
 * program maps memory, input.c when an input is logged or taken.
 */
#ifndef RW_LIBC_SHMEM_H
#define RW_LIBC_SHMEM_H

#include <stddef.h>
#include <stdint.h>
#include <sys/stat.h>

#include "inputs.h"

/* Record: whether shared mappings are logged and followed (1; REWIND_RECORD_WITHOUT=
 * shared-memory makes it 0, as a recorder before them: tests). */
extern int rw_shm_logged;

/* How many mappings are followed now (a relaxed load: the wrappers' fast test). */
unsigned rw_shm_active(void);

/* Record: whether a mapping made with prot and flags of file fd, whose fstat is st
 * (NULL: anonymous memory), is followed (writable, shared, and anonymous, or on tmpfs,
 * or of an unlinked file). */
int rw_shm_follows(int prot, int flags, const struct stat *st, int fd);

/* Record: a new buffer holding the len bytes at addr (the mapping's first shadow), or
 * NULL when they cannot be read or are too many to follow. */
uint8_t *rw_shm_snapshot(const void *addr, size_t len);

/* Record: whether a mapping of len bytes can be followed at all (not more than all
 * that is followed). */
int rw_shm_snapshot_room(size_t len);

/* Follows the mapping at addr (len bytes), named rec in the records (its address in
 * the recording). Record: shadow (taken over: freed when not followed) holds its bytes
 * as logged; st: the file's fstat, mapped from offset off, or NULL for anonymous
 * memory (which only a fork shares: compared only after rw_shm_forked). When another
 * followed mapping maps the same file, a SHARED_MAP record says so (the mapping's mmap
 * record must come first). 0 when there is no room left. Replay: shadow and st are
 * NULL. */
int rw_shm_follow(void *addr, size_t len, uintptr_t rec, uint8_t *shadow,
                  const struct stat *st, int64_t off);

/* Record: the process made a child that shares its memory (fork, forkpty). */
void rw_shm_forked(void);

/* Record: a mapping that should be followed was not (too big, or too many): len of
 * its bytes are added to what the summary reports. */
void rw_shm_missed(size_t len);
uint64_t rw_shm_missed_bytes(void);

/* Record: whether a call's record (key: its key's bytes) is preceded by the mappings'
 * changes (calls that may see another process's work: not a read of a regular file),
 * and logging them (rw_in_put_flags calls both). */
int rw_shm_syncs_before(uint32_t call, const uint8_t *key, size_t key_len);
void rw_shm_sync(void);

/* In a fork child that goes on recording (rw_in_restart_child): only the calling
 * thread runs, and the followed mappings' lock may have been held by one that is gone.
 * The mappings stay followed: the child shares them with its parent. */
void rw_shm_restart_child(void);

/* Replay: writes a SHARED_MEM record's bytes into the followed mappings; 0 when the
 * record names a mapping or a range the replay does not have (a damaged trace). */
int rw_shm_apply(const rw_input *g);

/* Replay: a SHARED_MAP record: its two mappings become views of one object (a memfd)
 * as they were in the recording (a block attached twice by name: a write through one
 * shows in the other); 0 when the record names mappings or offsets the replay does not
 * have. */
int rw_shm_alias(const rw_input *g);

/* Replay, in a new copy of the engine (a checkpoint, an evaluation): the objects that
 * mappings share become the copy's own, so that what one process writes the other
 * does not see. Only the calling thread runs. */
void rw_shm_unshare(void);

/* Replay: whether any mapping shares an object with another (rw_shm_unshare has work):
 * then the process that goes on after a fork waits until the copy has its own, or
 * unshares itself, since a write of its would reach the copy's bytes before they are
 * copied. */
int rw_shm_grouped(void);

/* Replay: whether the trace logged anonymous shared mappings (Metadata.features:
 * "shared-memory"; a trace made before has no record of them). */
void rw_shm_anon_logged(int on);
int rw_shm_logs_anon(void);

#endif

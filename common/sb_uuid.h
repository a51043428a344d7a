/*
 * sb_uuid: random (version 4) UUIDs, the event ids of change events and the
 * ids of the registry's commands.
 *
 * sb_uuid4 asks the kernel for every id: right for the rare id.  A producer
 * names every event, so it keeps a generator (sb_uuid_gen_t) instead: 256
 * bits of state drawn once from the kernel, stepped by xoshiro256** (period
 * 2^256 - 1), giving ids of the same v4 layout (122 random bits) with no
 * system call.  The ids serve as idempotence keys: they must not collide,
 * they need not be unpredictable.  A generator is one thread's: each thread
 * (each producer worker) owns its own, seeded independently.
 */
#ifndef SB_UUID_H
#define SB_UUID_H

#include "sb_error.h"

/* Fills `out` (37 bytes) with a random UUID as lower-case text.  SB_ERR_IO
 * when the kernel gives no randomness. */
sb_err_t sb_uuid4(char out[37]);

typedef struct sb_uuid_gen_s sb_uuid_gen_t;

/* A new generator seeded from the kernel; *out is owned by the caller
 * (sb_uuid_gen_destroy).  SB_ERR_IO when the kernel gives no randomness,
 * SB_ERR_NOMEM. */
sb_err_t sb_uuid_gen_new(sb_uuid_gen_t **out, char *errstr, size_t errstr_size);
/* The next id, as sb_uuid4 writes it.  One thread at a time per generator. */
void sb_uuid_gen_next(sb_uuid_gen_t *gen, char out[37]);
void sb_uuid_gen_destroy(sb_uuid_gen_t *gen);

#endif

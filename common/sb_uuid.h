/*
 * sb_uuid: random (version 4) UUIDs, the event ids of change events and the
 * ids of the registry's commands.
 */
#ifndef SB_UUID_H
#define SB_UUID_H

#include "sb_error.h"

/* Fills `out` (37 bytes) with a random UUID as lower-case text.  SB_ERR_IO
 * when the kernel gives no randomness. */
sb_err_t sb_uuid4(char out[37]);

#endif

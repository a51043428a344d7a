/*
 * sb_avro_check: validates an Avro binary body against the schema tree
 * before avro-c reads it.
 *
 * avro-c 1.11 allocates the length a string or bytes value announces before
 * reading it, and leaks it when the body is shorter: a 6-byte poison record
 * could cost megabytes.  Its reader also recurses once per nested value and
 * creates the value of any union branch a body selects.  So a body is walked
 * against the schema first, allocating nothing, nesting at most
 * SB_AVRO_MAX_DEPTH levels (counted as sb_avro counts them, so whatever
 * sb_avro_encode writes passes), never entering a type without a finite
 * value, and only a well-formed body is handed to avro-c.
 */
#ifndef SB_AVRO_CHECK_H
#define SB_AVRO_CHECK_H

#include <stddef.h>

#include "sb_error.h"
#include "sb_schema.h"

/* SB_OK if the `len` bytes at `data` are exactly one value of type `root`;
 * else SB_ERR_INVALID and the reason in errstr ("Avro body does not match
 * the schema: ..."). */
sb_err_t sb_avro_check_body(const sb_node_t *root, const void *data, size_t len, char *errstr,
                            size_t errstr_size);

#endif

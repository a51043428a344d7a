/*
 * sb_avro_read: an Avro binary body to its JSON form (sb_avro.h's), in one
 * pass over the bytes, without avro-c's generic values in between: the
 * subscriber decodes every event, and building avro-c's value tree first
 * and the JSON from it cost as much again as the JSON itself.
 */
#ifndef SB_AVRO_READ_H
#define SB_AVRO_READ_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "sb_schema.h"

/* The value of type `root` in the `len` bytes at `data`, which
 * sb_avro_check_body has accepted (the bounds and depth it checks are
 * relied on, and checked again where cheap).  A new reference; NULL when
 * memory runs out or the value has no JSON form (a string that is not
 * UTF-8, a float that is not finite). */
/* Reads the zigzag varint (Avro int or long) at *p, not past `end`, into
 * *out and moves *p after it.  0, or -1 when it is truncated or longer than
 * 64 bits (*p then undefined). */
int sb_avro_read_long(const uint8_t **p, const uint8_t *end, int64_t *out);

json_t *sb_avro_read_json(const sb_node_t *root, const void *data, size_t len);

#endif

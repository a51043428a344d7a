/*
 * sb_wire: Confluent's wire format for Kafka keys and values:
 * byte 0 = 0x00 (magic), bytes 1..4 = schema id (big-endian), then the
 * Avro binary body.
 */
#ifndef SB_WIRE_H
#define SB_WIRE_H

#include <stddef.h>
#include <stdint.h>

#include "sb_buf.h"
#include "sb_error.h"

#define SB_WIRE_MAGIC 0x00
#define SB_WIRE_HEADER_SIZE 5

/* Appends the 5-byte header for `schema_id` to `out`. */
sb_err_t sb_wire_put_header(sb_buf_t *out, int32_t schema_id);

/* Splits a framed message.  *body points into `msg` (not copied).
 * Returns SB_ERR_WIRE with a reason if `msg` is not framed. */
sb_err_t sb_wire_parse(const void *msg, size_t len, int32_t *schema_id, const uint8_t **body,
                       size_t *body_len, char *errstr, size_t errstr_size);

#endif

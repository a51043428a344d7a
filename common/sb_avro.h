/*
 * sb_avro: the conversion between JSON values and Avro binary, driven by an
 * sb_schema tree, on avro-c.
 *
 * JSON form of values (what producers read and subscribers write):
 *   null, boolean, numbers and strings as themselves; enum as its symbol;
 *   bytes/fixed as a string of code points 0..255 (Avro's JSON encoding);
 *   a union as the plain value of its branch (the first branch it fits), or
 *   Avro's {"<branch type>": value} form; date as "YYYY-MM-DD" (or days as an
 *   integer); timestamp-millis as "YYYY-MM-DDTHH:MM:SS[.mmm]Z" (or millis).
 * A value that does not fit is refused with its path and the reason, e.g.
 * "after.reg_capital: expected a number, got string".
 *
 * Recursive schemas (see sb_schema.h) let a value nest without end, and
 * avro-c's reader and writer recurse once per level: a value (JSON to
 * encode, or Avro body to decode) is refused when it nests deeper than
 * SB_AVRO_MAX_DEPTH types, or (encoding) needs more than SB_AVRO_MAX_STEPS
 * conversion steps.  A value of a type without a finite value is refused
 * with the reason.
 *
 * A handle's encode/decode reuse one avro-c value: use a handle from one
 * thread at a time.
 */
#ifndef SB_AVRO_H
#define SB_AVRO_H

#include <avro.h>
#include <jansson.h>
#include <stddef.h>

#include "sb_buf.h"
#include "sb_error.h"
#include "sb_schema.h"

/* Types on the way from the root to a value, the root and unions included
 * (a linked list through ["null","Node"] takes two per element).  More than
 * SB_SCHEMA_MAX_DEPTH + 1, so every value of a non-recursive schema fits. */
#define SB_AVRO_MAX_DEPTH 128
/* Types converted for one value to encode, failed union attempts included:
 * a union tries its branches in turn, so a value that fits none of them
 * deep down could otherwise cost time exponential in its depth.  A row
 * that fits in a Kafka message takes far fewer. */
#define SB_AVRO_MAX_STEPS 4000000

/* Encodes `value` as Avro binary, appended to `out`. */
sb_err_t sb_avro_encode(sb_schema_t *schema, const json_t *value, sb_buf_t *out, char *errstr,
                        size_t errstr_size);
/* Decodes exactly `len` bytes of Avro binary.  On success *out is a new JSON
 * value the caller releases with json_decref. */
sb_err_t sb_avro_decode(sb_schema_t *schema, const void *data, size_t len, json_t **out, char *errstr,
                        size_t errstr_size);

#endif

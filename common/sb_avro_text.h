/*
 * sb_avro_text: JSON text straight to Avro binary, in one pass over the
 * text, driven by the sb_schema tree: the producer's fast path, with no
 * JSON tree, no avro-c value and no allocation once its scratch buffers
 * have grown.
 *
 * It is a fast path, not a second definition of the conversion: when it
 * accepts a value, the bytes are exactly those sb_avro_encode writes for the
 * value jansson parses from the same text (json_loadb with
 * JSON_REJECT_DUPLICATES); when the text is not valid JSON, does not fit the
 * schema, or takes a form it leaves to the reference path (Avro's
 * {"branch": value} union form, a member name with escapes, a missing field
 * whose default is not null, a union whose first likely branch does not
 * fit, a map of more than SB_AVRO_TEXT_MAX_MAP entries), it declines (-1)
 * and writes nothing the caller must keep.  The caller then runs the
 * reference path (jansson + sb_avro_encode), which accepts or names the
 * error: so accepting, refusing and every message stay those of sb_avro.
 *
 * Bounds: a value is declined when it nests deeper than
 * SB_AVRO_TEXT_MAX_LEVEL types (below sb_avro's SB_AVRO_MAX_DEPTH, counted
 * the same way) or needs more conversion steps than sb_avro allows.
 */
#ifndef SB_AVRO_TEXT_H
#define SB_AVRO_TEXT_H

#include <stddef.h>
#include <stdint.h>

#include "sb_avro.h"
#include "sb_buf.h"
#include "sb_error.h"
#include "sb_rules.h"
#include "sb_schema.h"

#define SB_AVRO_TEXT_MAX_LEVEL (SB_AVRO_MAX_DEPTH - 4)
#define SB_AVRO_TEXT_MAX_MAP 64

/* One thread's scratch: decoded strings, a record put back in schema order,
 * the fields of the records being read.  Not shared between threads. */
typedef struct sb_avro_text_s sb_avro_text_t;

/* *out is a new handle (sb_avro_text_destroy).  `max` bounds each scratch
 * buffer (a value larger than that is declined). */
sb_err_t sb_avro_text_new(size_t max, sb_avro_text_t **out, char *errstr, size_t errstr_size);
void sb_avro_text_destroy(sb_avro_text_t *t);

/* What a record read left for its caller, per field in record order. */
typedef struct {
        const char *text; /* the member's value as written (into the input), or NULL if absent */
        size_t text_len;
        size_t out_off;         /* where the field's encoding starts in `out` */
        sb_rules_value_t value; /* its kind and content, for sb_rules_check_field; a
                                 * string's bytes are in `out` at str_off (value.s is
                                 * NULL until sb_avro_text_resolve) */
        size_t str_off;
        int str_in_out; /* value.s is to be taken from out at str_off */
        int unknown;    /* a string (date, timestamp, bytes) with escapes: its
                         * content is not kept, value.s is NULL */
} sb_avro_text_field_t;

/* Reads the JSON object at *p (leading whitespace allowed; `end` bounds the
 * text) as a value of `record` and appends its Avro binary to `out`.
 * `level` is the number of types entered above the record (0 for a root),
 * `steps` counts conversion steps across the calls for one sb_avro value.
 * `fields` (sb_node_count(record) entries, or NULL) receives each field.
 * Returns 0 with *p just past the object, or -1: declined (out may hold
 * partial bytes past its old length: the caller truncates or resets). */
int sb_avro_text_record(sb_avro_text_t *t, const sb_node_t *record, const char **p, const char *end,
                        int level, size_t *steps, sb_buf_t *out, sb_avro_text_field_t *fields);

/* Points fields[i].value.s into `out` for the string fields (call once `out`
 * no longer grows). */
void sb_avro_text_resolve(sb_avro_text_field_t *fields, size_t n, const sb_buf_t *out);

/* Avro binary of a long (zigzag varint) and of a string, appended. */
sb_err_t sb_avro_text_put_long(sb_buf_t *out, int64_t v);
sb_err_t sb_avro_text_put_string(sb_buf_t *out, const char *s, size_t len);

#endif

/*
 * sb_envelope: the change event, shaped like Debezium's so that tools that
 * read Debezium events read ours.
 *
 *   record Envelope (namespace = topic) {
 *     union {null, Row} before; union {null, Row} after;
 *     enum sharebus.Op {c, u, d, r} op; long ts_ms;
 *     record sharebus.Source {string department; string system;
 *                             string dataset; long seq;} source;
 *     string event_id;
 *   }
 * Row is the dataset's row schema (schemas/datasets/<topic>.row.avsc).
 */
#ifndef SB_ENVELOPE_H
#define SB_ENVELOPE_H

#include <jansson.h>
#include <stdint.h>

#include "sb_error.h"
/* Not used here: sb_uuid4 lived in this header, and regd_cmdlog.c still
 * reaches it through this include.  Drop it once that file includes
 * sb_uuid.h itself. */
#include "sb_uuid.h"

typedef struct {
        char op;        /* 'c', 'u', 'd' or 'r' */
        json_t *before; /* borrowed; NULL or JSON null for none */
        json_t *after;  /* borrowed; NULL or JSON null for none */
        int64_t ts_ms;
        const char *department, *system, *dataset;
        int64_t seq;
        char event_id[37]; /* UUID text */
} sb_change_t;

/* Builds the envelope schema around `row_schema` (borrowed) for `topic`.
 * Returns a new JSON value (json_decref it) or NULL with errstr set. */
json_t *sb_envelope_schema(const json_t *row_schema, const char *topic, char *errstr, size_t errstr_size);

/* The envelope value of `change`, as JSON for sb_avro_encode.  Returns a new
 * reference or NULL on allocation failure. */
json_t *sb_envelope_value(const sb_change_t *change);

/* A decoded envelope as the subscriber reads it: every pointer borrowed
 * from the JSON value read, valid while that value lives. */
typedef struct {
        char op;              /* 'c', 'u', 'd' or 'r' */
        const json_t *before; /* an object, or NULL for none (null) */
        const json_t *after;  /* an object (always for c, u and r), or NULL */
        int64_t ts_ms;
        const char *department, *system, *dataset;
        int64_t seq;
        const char *event_id;
} sb_envelope_view_t;

/* Reads `value` (an envelope decoded by sb_avro_decode, borrowed) into
 * *out.  SB_ERR_INVALID with errstr naming the member when the value is not
 * a change envelope: not an object, op not one of c/u/d/r, before or after
 * neither an object nor null, no after for c/u/r, ts_ms, source (department,
 * system, dataset, seq) or event_id missing or of the wrong type. */
sb_err_t sb_envelope_read(const json_t *value, sb_envelope_view_t *out, char *errstr, size_t errstr_size);

#endif

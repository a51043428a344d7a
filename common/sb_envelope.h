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

/* Fills `out` (37 bytes) with a random (version 4) UUID. */
sb_err_t sb_uuid4(char out[37]);

/* Milliseconds since the epoch, now. */
int64_t sb_now_ms(void);

#endif

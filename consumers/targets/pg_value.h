/*
 * pg_value: how an Avro field becomes a PostgreSQL column of the
 * PostgreSQL target (target_pg.h), and how its JSON value (sb_avro.h's
 * form) becomes the text of a libpq parameter.
 *
 * Native types, so that the subscriber's own queries compare and sort as the
 * department meant: boolean, integer/bigint, real/double precision, text
 * (strings, enums, uuid, unions of several types), bytea (bytes, fixed),
 * date, timestamptz (timestamp-millis, timestamp-micros), numeric(p,s)
 * (decimal), jsonb (records, arrays, maps).  sb_schema knows only date and
 * timestamp-millis, so decimal and timestamp-micros are read from the
 * field's own JSON in the schema.
 */
#ifndef SB_PG_VALUE_H
#define SB_PG_VALUE_H

#include <jansson.h>
#include <stddef.h>

#include "sb_error.h"
#include "sb_schema.h"

typedef enum {
        PG_K_TEXT,
        PG_K_BOOL,
        PG_K_INT, /* integer and bigint */
        PG_K_FLOAT,
        PG_K_BYTES,
        PG_K_DATE,
        PG_K_TS_MS,
        PG_K_TS_US,
        PG_K_DECIMAL,
        PG_K_JSON,
} pg_kind_t;

typedef struct {
        pg_kind_t kind;
        int scale;        /* PG_K_DECIMAL: digits after the point */
        char sqltype[40]; /* e.g. "numeric(18,2)" */
} pg_column_t;

/* The column of field i of record `rec`. */
void pg_column_of(const sb_node_t *rec, size_t i, pg_column_t *out);

/* The parameter text of value `v` (NULL or absent: *out = NULL, SQL NULL)
 * for a column `c`; on success *out is NULL or a new string the caller
 * free()s.  SB_ERR_INVALID when the value cannot be such a column's (a code
 * point above 255 in bytes, a NUL in text), SB_ERR_NOMEM. */
sb_err_t pg_value_text(const pg_column_t *c, const json_t *v, char **out, char *errstr, size_t errstr_size);

#endif

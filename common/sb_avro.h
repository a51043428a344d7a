/*
 * sb_avro: an Avro schema handle and the conversion between JSON values and
 * Avro binary, on avro-c.
 *
 * avro-c 1.11 parses schemas and reads/writes the binary encoding but knows
 * no logical types, so sb_schema keeps its own tree of the schema (sb_node)
 * beside avro-c's, parsed from the same JSON.  The tree drives the JSON
 * conversion, carries logical types (date, timestamp-millis) and gives
 * callers a read-only view of records, fields and their properties.
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

typedef enum {
        SB_T_NULL,
        SB_T_BOOLEAN,
        SB_T_INT,
        SB_T_LONG,
        SB_T_FLOAT,
        SB_T_DOUBLE,
        SB_T_BYTES,
        SB_T_STRING,
        SB_T_RECORD,
        SB_T_ENUM,
        SB_T_ARRAY,
        SB_T_MAP,
        SB_T_UNION,
        SB_T_FIXED,
} sb_type_t;

typedef enum {
        SB_LOGICAL_NONE,
        SB_LOGICAL_DATE,             /* int: days since 1970-01-01 */
        SB_LOGICAL_TIMESTAMP_MILLIS, /* long: ms since the epoch, UTC */
} sb_logical_t;

typedef struct sb_schema_s sb_schema_t;
typedef struct sb_node_s sb_node_t;

/* Parses an Avro schema from JSON text.  On success *out is a new handle the
 * caller destroys with sb_schema_destroy. */
sb_err_t sb_schema_new(const char *json, size_t len, sb_schema_t **out, char *errstr, size_t errstr_size);
/* As sb_schema_new, reading the file at `path`. */
sb_err_t sb_schema_new_from_file(const char *path, sb_schema_t **out, char *errstr, size_t errstr_size);
void sb_schema_destroy(sb_schema_t *schema);

/* The schema as compact JSON with sorted keys: equal schemas give equal
 * text.  Owned by the handle. */
const char *sb_schema_json(const sb_schema_t *schema);
/* The parsed JSON document (borrowed; do not modify). */
const json_t *sb_schema_document(const sb_schema_t *schema);
const sb_node_t *sb_schema_root(const sb_schema_t *schema);

/* Encodes `value` as Avro binary, appended to `out`. */
sb_err_t sb_avro_encode(sb_schema_t *schema, const json_t *value, sb_buf_t *out, char *errstr,
                        size_t errstr_size);
/* Decodes exactly `len` bytes of Avro binary.  On success *out is a new JSON
 * value the caller releases with json_decref. */
sb_err_t sb_avro_decode(sb_schema_t *schema, const void *data, size_t len, json_t **out, char *errstr,
                        size_t errstr_size);

/* Read-only view of the schema tree.  Nodes are owned by their schema. */
sb_type_t sb_node_type(const sb_node_t *node);
sb_logical_t sb_node_logical(const sb_node_t *node);
const char *sb_node_name(const sb_node_t *node); /* fullname of named types */
/* The JSON object that defines a record, enum or fixed node (borrowed from
 * the schema's document: aliases, enum default, size), or NULL. */
const json_t *sb_node_json(const sb_node_t *node);
/* Fields of a record, branches of a union, symbols of an enum. */
size_t sb_node_count(const sb_node_t *node);
const char *sb_node_field_name(const sb_node_t *node, size_t i);
/* The field's JSON object in the schema (for properties such as doc). */
const json_t *sb_node_field_json(const sb_node_t *node, size_t i);
/* Type of field i, branch i, or (i = 0) the items of an array / values of
 * a map. */
const sb_node_t *sb_node_child(const sb_node_t *node, size_t i);
const char *sb_node_symbol(const sb_node_t *node, size_t i);
/* Index of the field `name` of a record, or -1. */
int sb_node_field_index(const sb_node_t *node, const char *name);
/* For a union of null and one other type, that type; otherwise the node. */
const sb_node_t *sb_node_unwrap_nullable(const sb_node_t *node);
const char *sb_type_name(sb_type_t type);
/* "object", "array", "string", "integer", "number", "boolean" or "null":
 * how error messages name a JSON value's kind. */
const char *sb_json_kind(const json_t *j);

/* Text forms of the logical types: "YYYY-MM-DD" (days since the epoch) and
 * "YYYY-MM-DDTHH:MM:SS.mmmZ" (ms since the epoch). */
void sb_format_date(int64_t days, char *out, size_t size);
void sb_format_timestamp_ms(int64_t ms, char *out, size_t size);

#endif

/*
 * sb_schema: an Avro schema handle and a read-only view of its type tree.
 *
 * avro-c 1.11 parses schemas and reads/writes the binary encoding but knows
 * no logical types, so sb_schema keeps its own tree of the schema (sb_node)
 * beside avro-c's, parsed from the same JSON.  The tree drives the JSON
 * conversion (sb_avro), carries logical types (date, timestamp-millis) and
 * gives callers a read-only view of records, fields and their properties.
 *
 * Recursive schemas.  A named type may refer to itself (or to a type that
 * refers back to it), as the Avro specification allows.  The tree keeps the
 * cycle: the reference is the node already defined, so a walk over the tree
 * must keep its own bound or visited set.  Each node is owned once by the
 * schema and freed once by sb_schema_destroy.
 *   - Through a union, array or map (a linked list
 *     {"type":"record","name":"Node","fields":[{"name":"next","type":["null","Node"]}]})
 *     the type has finite values and encodes and decodes like any other.
 *   - A record that contains itself only through required fields
 *     ({"type":"record","name":"Loop","fields":[{"name":"me","type":"Loop"}]})
 *     has no finite value.  Java's parser accepts it, and so does this one,
 *     so that the registry stores what other registries store; but such a
 *     type is never instantiated in avro-c (whose records create their
 *     fields eagerly and would recurse forever): sb_node_has_value says so,
 *     and sb_avro_encode/decode refuse a value of it with the reason, e.g.
 *     "record 'Loop' contains itself through field 'me' with no null, array
 *     or map on the way: it has no finite value".
 *   - The empty union [] (accepted by Java) is refused: avro-c's parser
 *     refuses it ("Union type must have at least one branch") and without
 *     avro-c's schema there is no binary encoding.
 *
 * Bounds.  The schema text is JSON parsed by jansson, which refuses nesting
 * deeper than its JSON_PARSER_MAX_DEPTH (2048 in Debian's 2.14), and types
 * may nest at most SB_SCHEMA_MAX_DEPTH levels (checked before avro-c or the
 * tree parser recurse over them), so a schema from the network cannot
 * exhaust the stack.
 */
#ifndef SB_SCHEMA_H
#define SB_SCHEMA_H

#include <avro.h>
#include <jansson.h>
#include <stddef.h>

#include "sb_error.h"

/* Types nested in types, the root being level 0: a record field's type,
 * a union's branch, an array's items and a map's values are one level
 * below their parent.  Real schemas stay far below. */
#define SB_SCHEMA_MAX_DEPTH 64

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

/* The handle's one reusable avro-c value of the root type, for sb_avro:
 * created at the first call (a registry that only stores schemas never
 * pays for it), owned by the handle.  Refuses (SB_ERR_SCHEMA, with the
 * reason) when the root type has no finite value.  One thread at a time. */
sb_err_t sb_schema_avro_value(sb_schema_t *schema, avro_value_t **out, char *errstr, size_t errstr_size);

/* Read-only view of the schema tree.  Nodes are owned by their schema; the
 * tree may contain cycles (see above). */
sb_type_t sb_node_type(const sb_node_t *node);
sb_logical_t sb_node_logical(const sb_node_t *node);
const char *sb_node_name(const sb_node_t *node); /* fullname of named types */
/* The JSON object that defines a record, enum or fixed node (borrowed from
 * the schema's document: aliases, enum default, size), or NULL. */
const json_t *sb_node_json(const sb_node_t *node);
/* Fields of a record, branches of a union, symbols of an enum. */
size_t sb_node_count(const sb_node_t *node);
const char *sb_node_field_name(const sb_node_t *node, size_t i);
/* 1 if field i of a record is named by the `len` bytes at `name` (which
 * need no NUL; a name holding one matches no field). */
int sb_node_field_is(const sb_node_t *node, size_t i, const char *name, size_t len);
/* The field's JSON object in the schema (for properties such as doc). */
const json_t *sb_node_field_json(const sb_node_t *node, size_t i);
/* Type of field i, branch i, or (i = 0) the items of an array / values of
 * a map. */
const sb_node_t *sb_node_child(const sb_node_t *node, size_t i);
const char *sb_node_symbol(const sb_node_t *node, size_t i);
/* Size in bytes of a fixed type (0 for other types). */
size_t sb_node_fixed_size(const sb_node_t *node);
/* 1 if the type has a finite value, 0 for a record that contains itself
 * through required fields only (or a union of such types). */
int sb_node_has_value(const sb_node_t *node);
/* Index of the field `name` of a record, or -1. */
int sb_node_field_index(const sb_node_t *node, const char *name);
/* For a union of null and one other type, that type; otherwise the node. */
const sb_node_t *sb_node_unwrap_nullable(const sb_node_t *node);
/* "null", "int", "record", ...: the Avro name of a type. */
const char *sb_schema_type_name(sb_type_t type);

#endif

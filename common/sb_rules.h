/*
 * sb_rules: a dataset's metadata and validation rules, carried as Avro
 * properties on its schemas, so that the registry is the one place that
 * says who owns a dataset, what its fields mean, which of them hold
 * personal data and which values are acceptable.  The registry keeps the
 * properties as written (they are part of the schema text) and serves them
 * as a metadata document (GET /subjects/{s}/metadata, the registry's
 * regd_metadata);
 * producers and subscribers compile the rules of the schemas they fetch
 * from the registry and check each record against them.
 *
 * Where the properties go (the row record <topic>.row.avsc and the key
 * record <topic>.key.avsc):
 *
 *   record:  "sharebus.owner": "market"     department owning the dataset
 *            "doc": "..."                   description of the dataset
 *   field:   "doc": "..."                   description of the field
 *            "sharebus.classification":     public | internal | sensitive |
 *                                           personal (internal when absent)
 *            "sharebus.rules": {            any of:
 *              "required": true             not null; a string not empty
 *              "pattern": "ERE"             POSIX extended regular expression
 *                                           that must match the whole string
 *              "enum": [v, ...]             the allowed values
 *              "min": n, "max": n           bounds (inclusive) of a number
 *              "minLength": n,              bounds (inclusive) of a string's
 *              "maxLength": n               length in characters (UTF-8)
 *              "checksum": "cn_uscc"        unified social credit code,
 *                                           GB 32100-2015 (sb_checks.h)
 *                        | "cn_resident_id" resident identity number,
 *                                           GB 11643-1999
 *            }
 *
 * Every rule but "required" applies only to a value that is not null.  A
 * field's type (or the non-null branch of a [null, T] union) decides which
 * rules it may carry: pattern, minLength, maxLength and checksum need a
 * string; min and max a number (int, long, float, double without a logical
 * type); enum a string, an Avro enum or a number, with allowed values of
 * the same kind.  sb_rules_new refuses anything else (an unknown rule or
 * classification, a bad regular expression, an unknown checksum, a rule on
 * a field it cannot apply to) with a message naming the field.
 *
 * Patterns are compiled once with regcomp(REG_EXTENDED | REG_NOSUB) as
 * ^(pattern)$, so they always match the whole value; they see bytes in the
 * program's locale (the C locale unless the program sets another).
 * Back-references are refused: the added group would renumber them.  A
 * fixed-length pattern of bracket classes and literals (sb_pattern.h's
 * subset, such as ^[0-9]{17}[0-9X]$) is then checked by sb_pattern
 * instead of regexec, with the same result.
 *
 * Values are the JSON form of sb_avro.h: a nullable field's value is its
 * plain value or Avro's {"branch": value}; a missing field counts as its
 * schema default, or null.  A reason names the path and the rule, e.g.
 * "after.uscc: check character is wrong (cn_uscc)",
 * "after.registered_capital: 12 is below the minimum 100".  The value is
 * quoted in the reason only when the field is public or internal: a
 * sensitive or personal value is written "the value (personal)", since
 * reasons go to logs and to dead-letter headers.
 */
#ifndef SB_RULES_H
#define SB_RULES_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "sb_avro.h"
#include "sb_error.h"

typedef enum {
        SB_CLASS_PUBLIC,
        SB_CLASS_INTERNAL, /* the default */
        SB_CLASS_SENSITIVE,
        SB_CLASS_PERSONAL,
} sb_class_t;

/* "public", "internal", "sensitive" or "personal" (static). */
const char *sb_class_name(sb_class_t cls);
/* Parses a classification name; 0 on success, -1 if unknown. */
int sb_class_parse(const char *name, sb_class_t *out);

/* The classification of field i of `record` (internal when the field has
 * none).  SB_ERR_SCHEMA with a reason if the property is not a known
 * classification. */
sb_err_t sb_field_class(const sb_node_t *record, size_t i, sb_class_t *out, char *errstr, size_t errstr_size);

/* The record a schema's metadata and rules describe: for a sharebus change
 * envelope (a record with fields before, after and op, after being a union
 * of null and a record), the row record; otherwise the top-level record.
 * NULL if the schema is not a record.  Borrowed from the schema. */
const sb_node_t *sb_rules_record(const sb_schema_t *schema);

typedef struct sb_rules_s sb_rules_t;

/* Compiles the rules of `record` (a record node, borrowed for the call: the
 * rules keep no reference to the schema).  On success *out is a new handle
 * the caller destroys with sb_rules_destroy; on failure *out is NULL and
 * errstr says which field and rule are wrong (SB_ERR_SCHEMA). */
sb_err_t sb_rules_new(const sb_node_t *record, sb_rules_t **out, char *errstr, size_t errstr_size);
void sb_rules_destroy(sb_rules_t *rules);

/* Checks `row` (a JSON object with the record's fields; NULL or JSON null
 * is nothing to check) against the rules.  `path_prefix` (e.g. "after",
 * "key"; NULL or "" for none) starts the path of the reason.  Returns SB_OK,
 * or SB_ERR_INVALID with the reason of the first field (in record order)
 * that breaks a rule.  Does not modify the rules: one handle may be used by
 * several threads at once. */
sb_err_t sb_rules_check(const sb_rules_t *rules, const json_t *row, const char *path_prefix, char *errstr,
                        size_t errstr_size);

/* One field's value read without jansson (the producer's encoder reads
 * change lines straight from text): its JSON kind and, for a string or a
 * number, its content.  A union's value is its plain value (not Avro's
 * {"branch": value} form). */
typedef enum {
        SB_RULES_ABSENT, /* the member is missing: the field's default applies */
        SB_RULES_NULL,
        SB_RULES_BOOLEAN,
        SB_RULES_INTEGER, /* i */
        SB_RULES_REAL,    /* d */
        SB_RULES_STRING,  /* s, len: the decoded bytes (UTF-8), not NUL-terminated */
        SB_RULES_OBJECT,
        SB_RULES_ARRAY,
} sb_rules_kind_t;

typedef struct {
        sb_rules_kind_t kind;
        const char *s; /* borrowed */
        size_t len;
        int64_t i;
        double d;
} sb_rules_value_t;

/* 1 if field i carries a rule to check (a field with none needs no value). */
int sb_rules_field_checked(const sb_rules_t *rules, size_t i);
/* Checks field i (in record order) holding `value`, as sb_rules_check
 * checks that field of a row: the same reasons, with `path_prefix`.  SB_OK
 * for a field without rules.  Thread-safe as sb_rules_check. */
sb_err_t sb_rules_check_field(const sb_rules_t *rules, size_t i, const sb_rules_value_t *value,
                              const char *path_prefix, char *errstr, size_t errstr_size);

/* The record's fields, in order, with their classifications. */
size_t sb_rules_count(const sb_rules_t *rules);
const char *sb_rules_field_name(const sb_rules_t *rules, size_t i); /* owned by the rules */
sb_class_t sb_rules_class(const sb_rules_t *rules, size_t i);
/* By field name; internal for a name the record does not have. */
sb_class_t sb_rules_class_of(const sb_rules_t *rules, const char *field);

#endif

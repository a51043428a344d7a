/*
 * regd_metadata: the dataset metadata document the registry serves at
 * GET /subjects/{s}/metadata, made from the sharebus properties of a
 * registered schema (sb_rules.h says where they go).  One level of the
 * schema is read (the record's own fields), so recursive schemas are no
 * concern here.
 */
#ifndef REGD_METADATA_H
#define REGD_METADATA_H

#include <jansson.h>
#include <stdint.h>

#include "sb_avro.h"

/* The metadata document of `schema` registered as version `version` of
 * `subject` (what GET /subjects/{s}/metadata serves):
 *   {"subject": s, "version": v, "record": fullname, "owner": o | null,
 *    "description": doc | null,
 *    "fields": [{"name": n, "type": avro type name ("string", "int",
 *                "enum", "record", ...), "logicalType": lt (only if any),
 *                "nullable": bool, "symbols": [...] (enums only),
 *                "doc": d | null, "classification": c,
 *                "rules": {...} (as written; {} if none)}, ...]}
 * describing sb_rules_record(schema) (sb_rules.h) ("record": null and no fields if the
 * schema is not a record).  A classification that is not a string is shown
 * as "internal"; an unknown one as written.  Returns a new reference
 * (json_decref it), or NULL if memory runs out. */
json_t *regd_metadata_json(const sb_schema_t *schema, const char *subject, int32_t version);

#endif

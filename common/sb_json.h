/*
 * sb_json: small helpers over jansson shared by the modules that check JSON
 * values against schemas and rules.
 */
#ifndef SB_JSON_H
#define SB_JSON_H

#include <jansson.h>

/* "object", "array", "string", "integer", "number", "boolean" or "null":
 * how error messages name a JSON value's kind. */
const char *sb_json_kind(const json_t *j);

#endif

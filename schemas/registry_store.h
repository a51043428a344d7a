/*
 * registry_store: the state of sharebus-registry: subjects, their ordered
 * versions, and the schemas those versions refer to by global id.
 *
 * This first store lives in memory; a later one keeps the same interface
 * and keeps its state in the compacted `_sharebus_schemas` topic, so the
 * HTTP layer talks only to these functions.
 *
 * Rules (as Confluent Schema Registry has them):
 *   - a schema is kept in canonical form: the text of sb_schema_json(), i.e.
 *     compact JSON with sorted keys; two texts with equal canonical forms
 *     are the same schema;
 *   - schema ids are global, start at 1 and are never reused; the same
 *     schema registered under two subjects has one id;
 *   - a subject's versions are numbered 1, 2, ...; registering a schema the
 *     subject already has returns that version instead of adding one.
 * No compatibility checking yet: every valid Avro schema is accepted.
 *
 * All functions are thread-safe.
 */
#ifndef SB_REGISTRY_STORE_H
#define SB_REGISTRY_STORE_H

#include <stddef.h>
#include <stdint.h>

#include "sb_error.h"

/* Asks sb_registry_store_get_version for the subject's newest version. */
#define SB_REGISTRY_LATEST (-1)

typedef struct sb_registry_store_s sb_registry_store_t;

/* One (subject, version) that uses a schema id. */
typedef struct {
        char *subject; /* owned by the array (see sb_registry_uses_free) */
        int32_t version;
} sb_registry_use_t;

/* Returns an empty store, or NULL with errstr set on failure. */
sb_registry_store_t *sb_registry_store_new(char *errstr, size_t errstr_size);
void sb_registry_store_destroy(sb_registry_store_t *st);

/* Registers the schema `text` (`len` bytes, not necessarily NUL-terminated)
 * under `subject` (any non-empty string; both are copied) and sets *id and
 * *version, new or existing.  Errors: SB_ERR_SCHEMA when the text is not a
 * valid Avro schema (errstr says why), SB_ERR_INVALID for an empty subject
 * or when ids or versions are exhausted, SB_ERR_NOMEM. */
sb_err_t sb_registry_store_register(sb_registry_store_t *st, const char *subject, const char *text,
                                    size_t len, int32_t *id, int32_t *version, char *errstr,
                                    size_t errstr_size);

/* Sets *text to a copy of the canonical text of schema `id`; the caller
 * frees it.  SB_ERR_NOT_FOUND for an unknown id. */
sb_err_t sb_registry_store_by_id(sb_registry_store_t *st, int32_t id, char **text, char *errstr,
                                 size_t errstr_size);

/* Sets *names to a new array of *count subject names in byte order (strcmp).
 * The caller frees it with sb_registry_strings_free.  An empty store gives
 * *names == NULL and *count == 0. */
sb_err_t sb_registry_store_subjects(sb_registry_store_t *st, char ***names, size_t *count, char *errstr,
                                    size_t errstr_size);
void sb_registry_strings_free(char **names, size_t count);

/* Sets *versions to a new array (caller frees with free()) of the *count
 * version numbers of `subject`, ascending.  SB_ERR_NOT_FOUND if the subject
 * does not exist. */
sb_err_t sb_registry_store_versions(sb_registry_store_t *st, const char *subject, int32_t **versions,
                                    size_t *count, char *errstr, size_t errstr_size);

/* Looks up `version` (>= 1, or SB_REGISTRY_LATEST) of `subject` and sets *id,
 * *version_out and *text (a copy of the canonical schema text the caller
 * frees).  SB_ERR_NOT_FOUND if the subject or the version does not exist;
 * *subject_found (may be NULL) then tells which: 1 if the subject exists. */
sb_err_t sb_registry_store_get_version(sb_registry_store_t *st, const char *subject, int32_t version,
                                       int32_t *id, int32_t *version_out, char **text, int *subject_found,
                                       char *errstr, size_t errstr_size);

/* Sets *uses to a new array of the *count (subject, version) pairs that
 * refer to schema `id`, ordered by subject; the caller frees it with
 * sb_registry_uses_free.  SB_ERR_NOT_FOUND for an unknown id. */
sb_err_t sb_registry_store_id_uses(sb_registry_store_t *st, int32_t id, sb_registry_use_t **uses,
                                   size_t *count, char *errstr, size_t errstr_size);
void sb_registry_uses_free(sb_registry_use_t *uses, size_t count);

#endif

/*
 * regd_store: the state of sharebus-registry, in memory: schemas by
 * global id, subjects with their versions, and the compatibility levels and
 * modes set globally or per subject.
 *
 * State changes only through regd_store_apply(), which applies one
 * command (a JSON object, see below) deterministically: its effect and its
 * result depend on nothing but the store's state and the command (no clock,
 * no randomness, nothing local to the instance), so every instance that
 * applies the same commands in the same order (regd_cmdlog.h) holds the
 * same ids, versions and settings.  The HTTP layer submits commands through
 * a regd_submitter_t (regd_submit.h) and reads with the
 * functions further down.
 *
 * Rules (as Confluent Schema Registry has them):
 *   - a schema is kept in canonical form, the text of sb_schema_json()
 *     (compact JSON, sorted keys); equal canonical forms are the same schema;
 *   - schema ids are global, start at 1 and are never reused, not even after
 *     a hard delete; the same schema under two subjects has one id; a new id
 *     is one more than the highest ever used (IMPORT may choose ids);
 *   - a subject's versions start at 1; a new version is one more than the
 *     highest the subject holds, soft-deleted ones included;
 *   - registering a schema the subject already holds (not deleted) returns
 *     its id without a new version; registering it again after a soft
 *     delete gives a new version with the same id (and, as Confluent,
 *     removes the soft-deleted versions of that id for good);
 *   - a registration must be compatible with the subject's non-deleted
 *     versions under its level: the subject's, else the global one, else
 *     BACKWARD (compat.h);
 *   - modes READWRITE (default), READONLY (writes to schemas refused) and
 *     IMPORT (only registrations that carry an id; no compatibility check).
 *
 * Commands (extra members, e.g. "op_id" or "principal", are ignored):
 *   {"type":"REGISTER","subject":s,"schema":text,"normalize":bool,
 *    "id":N?,"version":N?}        -> {"id":N}
 *   {"type":"DELETE_SUBJECT","subject":s,"permanent":bool}
 *                                 -> [versions deleted] (as "body", below)
 *   {"type":"DELETE_VERSION","subject":s,"version":N or -1 (latest),
 *    "permanent":bool}            -> N (as "body")
 *   {"type":"CONFIG","subject":s or null (global),"compatibility":level or
 *    null (delete)}               -> {"compatibility":L} or, deleted,
 *                                    {"compatibilityLevel":old}
 *   {"type":"MODE","subject":s or null,"mode":m or null (delete),
 *    "force":bool?}               -> {"mode":m} or, deleted, {"mode":old}
 * "id" and "version" of REGISTER are honoured in IMPORT mode only (an "id"
 * outside IMPORT is refused, as Confluent; a "version" must then be the next
 * one).  MODE "force" lets IMPORT be set on a subject that has versions.
 *
 * Results: a new JSON object holding the HTTP answer's body plus an "http"
 * member with its status, e.g. {"id":3,"http":200} or
 * {"error_code":40901,"message":"...","http":409}.  A body that is not an
 * object (an array, a number) is carried as member "body":
 * {"body":[1,2],"http":200}.  Refusals are results, not errors: the command
 * was applied, as a no-op, on every instance alike.
 *
 * All functions are thread-safe.
 */
#ifndef REGD_STORE_H
#define REGD_STORE_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "regd_compat.h"
#include "regd_submit.h"
#include "sb_avro.h"
#include "sb_error.h"

/* Asks for a subject's newest non-deleted version. */
#define REGD_LATEST (-1)

typedef struct regd_store_s regd_store_t;

/* Confluent's modes (those we support).  Values are part of the interface. */
typedef enum {
        REGD_READWRITE,
        REGD_READONLY,
        REGD_IMPORT,
} regd_mode_t;

/* Parses a mode name (case does not matter): 0 and *out set, or -1. */
int regd_mode_parse(const char *name, regd_mode_t *out);
/* The name of `mode` (static; "UNKNOWN" if out of range). */
const char *regd_mode_name(regd_mode_t mode);

/* One (subject, version) that uses a schema id. */
typedef struct {
        char *subject; /* owned by the array (see regd_uses_free) */
        int32_t version;
} regd_use_t;

/* One version of a subject, as the read functions fill it. */
typedef struct {
        int32_t id, version;
        int deleted; /* soft-deleted */
        char *text;  /* canonical schema text; the caller frees it */
} regd_version_t;

/* Sets *out to a new, empty store the caller destroys. */
sb_err_t regd_store_new(regd_store_t **out, char *errstr, size_t errstr_size);
void regd_store_destroy(regd_store_t *st);

/* ---- changing the state ---- */

/* Applies `command` (borrowed) and sets *result to a new object (see
 * above) the caller releases.  Returns SB_OK whenever the command was
 * applied, refusals included; SB_ERR_NOMEM (and *result NULL, or a 500
 * result) when memory ran out: the one outcome that is not deterministic.
 * A command that could not be applied leaves the state unchanged. */
sb_err_t regd_store_apply(regd_store_t *st, const json_t *command, json_t **result);

/* A submitter for memory mode: submit() is regd_store_apply() on
 * `st` (borrowed; it must outlive the submitter's use). */
regd_submitter_t regd_store_direct_submitter(regd_store_t *st);

/* ---- reading ---- */

/* Sets *names to a new array of *count subject names in byte order: those
 * with a non-deleted version (`deleted`: or a soft-deleted one) whose name
 * starts with `prefix` (NULL or "" for all).  Free with
 * regd_strings_free.  None gives *names == NULL, *count == 0. */
sb_err_t regd_store_subjects(regd_store_t *st, int deleted, const char *prefix, char ***names, size_t *count,
                             char *errstr, size_t errstr_size);
void regd_strings_free(char **names, size_t count);

/* Sets *versions to a new array (free()) of the *count version numbers of
 * `subject`, ascending, soft-deleted ones only if `deleted`.
 * SB_ERR_NOT_FOUND if there are none. */
sb_err_t regd_store_versions(regd_store_t *st, const char *subject, int deleted, int32_t **versions,
                             size_t *count, char *errstr, size_t errstr_size);

/* Looks up `version` (>= 1, or REGD_LATEST: the newest non-deleted)
 * of `subject`; a soft-deleted version only if `deleted`.  Fills *out (the
 * caller frees out->text).  SB_ERR_NOT_FOUND if there is no such version;
 * *subject_found (may be NULL) then says whether the subject has any
 * version (soft-deleted ones counting only if `deleted`). */
sb_err_t regd_store_get_version(regd_store_t *st, const char *subject, int32_t version, int deleted,
                                regd_version_t *out, int *subject_found, char *errstr, size_t errstr_size);

/* Finds the schema `text` (`len` bytes) among the versions of `subject`
 * (soft-deleted ones too if `deleted`), newest first, and fills *out.
 * SB_ERR_SCHEMA if the text is not a valid Avro schema (errstr says why);
 * SB_ERR_NOT_FOUND if it is not there (*subject_found as above). */
sb_err_t regd_store_lookup(regd_store_t *st, const char *subject, const char *text, size_t len, int deleted,
                           regd_version_t *out, int *subject_found, char *errstr, size_t errstr_size);

/* Sets *text to a copy (caller frees) of the canonical text of schema
 * `id`.  SB_ERR_NOT_FOUND for an id no version (soft-deleted or not) uses. */
sb_err_t regd_store_by_id(regd_store_t *st, int32_t id, char **text, char *errstr, size_t errstr_size);

/* Sets *uses to a new array of the *count (subject, version) pairs that use
 * schema `id` (soft-deleted ones only if `deleted`), ordered by subject
 * then version; free with regd_uses_free.  SB_ERR_NOT_FOUND as for
 * regd_store_by_id (an id whose uses are all soft-deleted gives an
 * empty array). */
sb_err_t regd_store_id_uses(regd_store_t *st, int32_t id, int deleted, regd_use_t **uses, size_t *count,
                            char *errstr, size_t errstr_size);
void regd_uses_free(regd_use_t *uses, size_t count);

/* The compatibility level of `subject` (NULL: the global one).  A subject
 * without its own level: SB_ERR_NOT_FOUND, or with `default_to_global` the
 * global level.  The global level defaults to BACKWARD. */
sb_err_t regd_store_config(regd_store_t *st, const char *subject, int default_to_global,
                           regd_compat_level_t *level, char *errstr, size_t errstr_size);

/* The mode of `subject` (NULL: global), as regd_store_config; the
 * global mode defaults to READWRITE. */
sb_err_t regd_store_mode(regd_store_t *st, const char *subject, int default_to_global, regd_mode_t *mode,
                         char *errstr, size_t errstr_size);

/* Tests the schema `text` against `subject` under the subject's level:
 * against `version` alone (>= 1, or REGD_LATEST), or with version 0
 * against every non-deleted version as registration would.  Sets
 * *compatible; appends one string per problem to `messages` (may be NULL),
 * each naming the version, the field and why, then the level used.  A
 * subject without versions is compatible.  SB_ERR_SCHEMA for an invalid
 * text, SB_ERR_NOT_FOUND for a version >= 1 that does not exist (or is
 * soft-deleted). */
sb_err_t regd_store_check(regd_store_t *st, const char *subject, int32_t version, const char *text,
                          size_t len, int *compatible, json_t *messages, char *errstr, size_t errstr_size);

/* Parses an Avro schema as sb_schema_new(), serialised with the store's
 * other uses of avro-c (which keeps its errors in one global buffer). */
sb_err_t regd_store_parse(regd_store_t *st, const char *text, size_t len, sb_schema_t **out, char *errstr,
                          size_t errstr_size);

/* Sets *state to a new JSON object holding the whole state (schemas,
 * subjects, versions, levels, modes, next id) in a fixed order: two stores
 * hold the same state exactly when their dumps are equal. */
sb_err_t regd_store_dump(regd_store_t *st, json_t **state);

/* A number that changes whenever a command is applied: an answer computed
 * after reading generation G is still right while the generation is G. */
uint64_t regd_store_generation(const regd_store_t *st);

#endif

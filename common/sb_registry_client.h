/*
 * sb_registry_client: a client of the Confluent Schema Registry REST API
 * (ours, sharebus-registry, or any compatible one), on libcurl + jansson,
 * with a cache so that a warm client never calls the registry per message.
 *
 * Caches: (subject, schema text) -> id after a registration, and id -> parsed
 * schema after a fetch.  Threads that miss on the same key at once share one
 * request.  Several base URLs may be given, comma-separated; a request that
 * cannot connect to one, or gets a 5xx answer, is tried on the next, and the
 * URL that answered is tried first next time.  All calls are thread-safe,
 * the set_* calls too (a request under way keeps the settings it started
 * with).
 */
#ifndef SB_REGISTRY_CLIENT_H
#define SB_REGISTRY_CLIENT_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "sb_avro.h"
#include "sb_error.h"

typedef struct sb_registry_client_s sb_registry_client_t;

/* A client of the registries at `urls` (comma- or space-separated, tried in
 * order; copied) into a new *out the caller destroys with
 * sb_registry_client_destroy.  On failure *out is NULL and errstr says why
 * (SB_ERR_CONFIG: no URL given). */
sb_err_t sb_registry_client_new(const char *urls, sb_registry_client_t **out, char *errstr,
                                size_t errstr_size);
void sb_registry_client_destroy(sb_registry_client_t *rc);

/* Registers `schema_json` under `subject` (or finds it, if already there) and
 * sets *id.  Cached: the same pair asks the registry once. */
sb_err_t sb_registry_register(sb_registry_client_t *rc, const char *subject, const char *schema_json,
                              int32_t *id, char *errstr, size_t errstr_size);

/* The schema with global id `id`.  *schema is owned by the client's cache and
 * lives as long as the client.  Returns SB_ERR_NOT_FOUND for an unknown id. */
sb_err_t sb_registry_schema_by_id(sb_registry_client_t *rc, int32_t id, sb_schema_t **schema, char *errstr,
                                  size_t errstr_size);

/* The global id of the latest schema version under `subject` into *id (not
 * cached: asked each call).  SB_ERR_NOT_FOUND when the subject has none. */
sb_err_t sb_registry_latest_id(sb_registry_client_t *rc, const char *subject, int32_t *id, char *errstr,
                               size_t errstr_size);

/* Basic authentication for every request (both copied; NULL user: none).
 * A user or password may also be written in a URL (http://user:pw@host). */
sb_err_t sb_registry_client_set_auth(sb_registry_client_t *rc, const char *user, const char *password,
                                     char *errstr, size_t errstr_size);

/* TLS for https:// URLs: `ca_file` (PEM) is trusted instead of the system's
 * authorities; `cert_file` and `key_file` (PEM) are the client certificate
 * and its key.  Each may be NULL or "" (not used); paths are copied and the
 * files are read at each connection.  The registry's certificate is always
 * verified, host name included. */
sb_err_t sb_registry_client_set_tls(sb_registry_client_t *rc, const char *ca_file, const char *cert_file,
                                    const char *key_file, char *errstr, size_t errstr_size);

/* GET `path` of the registry API (e.g. "/subjects"); on HTTP 200 *reply is
 * the parsed JSON body (a new reference the caller releases with
 * json_decref; bodies are bounded by SB_REGISTRY_MAX_BODY).  Any other
 * answer is an error naming the status and the registry's message
 * (SB_ERR_NOT_FOUND for 404, SB_ERR_REGISTRY otherwise). */
sb_err_t sb_registry_get(sb_registry_client_t *rc, const char *path, json_t **reply, char *errstr,
                         size_t errstr_size);

/* How many HTTP requests the client has made, one for each URL tried
 * (for tests and metrics). */
uint64_t sb_registry_client_requests(const sb_registry_client_t *rc);

#endif

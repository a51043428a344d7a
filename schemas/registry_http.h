/*
 * registry_http: the REST face of sharebus-registry, a subset of the
 * Confluent Schema Registry API on libmicrohttpd, so that Confluent's
 * serialisers, kcat, libserdes and our sb_registry_client all work with it.
 *
 *   GET  /                              {}
 *   POST /subjects/{s}/versions         {"schema": "...", "schemaType": "AVRO"} -> {"id": N}
 *   GET  /schemas/ids/{id}              {"schema": "..."}
 *   GET  /schemas/ids/{id}/versions     [{"subject": "s", "version": 1}, ...]
 *   GET  /subjects                      ["a", "b"] (sorted)
 *   GET  /subjects/{s}/versions         [1, 2]
 *   GET  /subjects/{s}/versions/{v}     {"subject", "version", "id", "schema"}; v may be "latest"
 *
 * Errors are Confluent's body {"error_code": N, "message": "..."}: 40401
 * subject, 40402 version, 40403 schema not found; 42201 invalid schema,
 * 42202 invalid version; 400 malformed JSON, 404 unknown path, 405 wrong
 * method, 413 body over 16 MiB, 415 unsupported request content type.
 * Every answer is `application/vnd.schemaregistry.v1+json`.  Subjects in
 * the path are percent-decoded, so "a%2Fb" is the subject "a/b".
 */
#ifndef SB_REGISTRY_HTTP_H
#define SB_REGISTRY_HTTP_H

#include <stddef.h>

#include "registry_store.h"
#include "sb_error.h"
#include "sb_log.h"

/* Largest request body accepted. */
#define SB_REGISTRY_MAX_BODY (16u * 1024 * 1024)
#define SB_REGISTRY_CONTENT_TYPE "application/vnd.schemaregistry.v1+json"

typedef struct sb_registry_http_s sb_registry_http_t;

/* Starts serving `store` on `host` (a numeric address or a name that
 * resolves to one; only that address is bound) and `port` (0 picks a free
 * one) with a pool of `threads` threads.  `store` and `log` are borrowed
 * and must outlive the server.  Returns NULL with errstr set on failure. */
sb_registry_http_t *sb_registry_http_new(sb_registry_store_t *store, sb_log_t *log, const char *host,
                                         unsigned port, unsigned threads, char *errstr, size_t errstr_size);
/* The port actually bound. */
unsigned sb_registry_http_port(const sb_registry_http_t *srv);
/* Stops the server (waits for requests under way) and frees it. */
void sb_registry_http_destroy(sb_registry_http_t *srv);

#endif

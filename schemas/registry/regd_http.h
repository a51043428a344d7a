/*
 * regd_http: the REST face of sharebus-registry, the Confluent Schema
 * Registry API for Avro on libmicrohttpd, so that Confluent's serialisers,
 * kcat, libserdes and our sb_registry_client all work with it.
 *
 * Reads go straight to the store; every change is a command handed to the
 * submitter (regd_submit.h), which applies it in the order all
 * instances agree on and returns its result.
 *
 *   GET  /                                   {}
 *   GET  /subjects                           ["a", "b"]  ?deleted=true ?subjectPrefix=p
 *   POST /subjects/{s}                       lookup: {"subject","version","id","schema"} ?deleted=true
 *   DELETE /subjects/{s}                     [1, 2] (versions deleted)  ?permanent=true
 *   GET  /subjects/{s}/versions              [1, 2]  ?deleted=true
 *   POST /subjects/{s}/versions              {"schema":"...","schemaType":"AVRO","id"?,"version"?}
 *                                            -> {"id": N}  ?normalize=true
 *   GET  /subjects/{s}/versions/{v}          {"subject","version","id","schema"}; v: N, latest, -1
 *   GET  /subjects/{s}/versions/{v}/schema   the schema text itself
 *   GET  /subjects/{s}/versions/{v}/referencedby  [] (no references here)
 *   DELETE /subjects/{s}/versions/{v}        N  ?permanent=true
 *   GET  /subjects/{s}/metadata              the dataset metadata of a version (latest, or ?version=)
 *   GET  /schemas/ids/{id}                   {"schema": "..."}
 *   GET  /schemas/ids/{id}/schema            the schema text itself
 *   GET  /schemas/ids/{id}/subjects          ["a"]  ?deleted=true
 *   GET  /schemas/ids/{id}/versions          [{"subject":"a","version":1}]  ?deleted=true
 *   GET  /schemas/types                      ["AVRO"]
 *   GET|PUT|DELETE /config[/{s}]             {"compatibilityLevel":"BACKWARD"}; PUT {"compatibility":"FULL"}
 *                                            ?defaultToGlobal=true
 *   GET|PUT|DELETE /mode[/{s}]               {"mode":"READWRITE"}; PUT {"mode":"IMPORT"} ?force=true
 *   POST /compatibility/subjects/{s}/versions[/{v}]  {"is_compatible":true} ?verbose=true adds "messages"
 *
 * Errors are Confluent's body {"error_code": N, "message": "..."}, every
 * code and message from one table (regd_error.h).  Before any handler:
 * a request line over 8 KiB is 414 and headers over 8 KiB are 431 (Jetty's
 * limits, in JSON; libmicrohttpd answers in HTML only past its 128 KiB
 * connection memory); a malformed percent-escape in the path ("%ZZ", "%2",
 * a trailing "%") is 400, as Jetty answers; then authorization (the route
 * table gives each route its access class, regd_authz.h decides).  A
 * registration is checked here before it becomes a command: a default
 * that does not fit its type is 42201 (regd_defaults.h), and a schema the
 * subject already holds is answered with its id without a command.  Every
 * answer is `application/vnd.schemaregistry.v1+json`.  Subjects in the
 * path are percent-decoded, so "a%2Fb" is the subject "a/b".
 */
#ifndef REGD_HTTP_H
#define REGD_HTTP_H

#include <stddef.h>

#include "regd_authz.h"
#include "regd_store.h"
#include "regd_submit.h"
#include "regd_tls.h"
#include "sb_error.h"
#include "sb_log.h"
#include "sb_schema.h"

/* Largest request body accepted: the upper bound of max_body_bytes. */
#define SB_REGISTRY_MAX_BODY (16u * 1024 * 1024)
#define REGD_CONTENT_TYPE "application/vnd.schemaregistry.v1+json"
/* Upper bound of max_connections (a descriptor and up to 128 KiB each). */
#define REGD_HTTP_MAX_CONNECTIONS 100000u

typedef struct regd_http_s regd_http_t;

/* What one instance takes from its clients; each is a setting of
 * regd_settings.c, named in the answer that refuses.  Past max_body_bytes
 * a request is 413 (announced or counted as it arrives; nothing more is
 * kept); a registration whose schema text is over max_schema_bytes or
 * nests types deeper than max_schema_depth (at most SB_SCHEMA_MAX_DEPTH)
 * is 422 42201.  At max_connections open (each thread of the pool takes
 * its share), a new connection waits in the listen queue until one closes
 * (an idle one after 60 s), and the log says so at most once a second; a
 * connection past max_connections_per_ip from one address (0: no such
 * limit) is closed as soon as it is accepted. */
typedef struct {
        size_t max_body_bytes;
        size_t max_schema_bytes;
        int max_schema_depth;
        unsigned max_connections;
        unsigned max_connections_per_ip;
} regd_http_limits_t;

/* Today's bounds: the settings' defaults. */
#define REGD_HTTP_LIMITS_DEFAULT                                                                             \
        { SB_REGISTRY_MAX_BODY, SB_REGISTRY_MAX_BODY, SB_SCHEMA_MAX_DEPTH, 1000, 0 }

/* Starts serving on `host` (a numeric address or a name that resolves to
 * one; only that address is bound) and `port` (0 picks a free one) with a
 * pool of `threads` threads, into a new *out the caller destroys.  Reads
 * come from `store`; changes go through `submitter` (copied; for memory
 * mode regd_store_direct_submitter).  `auth` NULL lets everyone do
 * everything; `tls` NULL serves plain HTTP.  `store`, what the submitter
 * refers to, `log`, `auth` and `tls` are borrowed and must outlive the
 * server.  On failure *out is NULL and errstr says why. */
sb_err_t regd_http_new(regd_store_t *store, regd_submitter_t submitter, sb_log_t *log,
                       const regd_authz_t *auth, const sb_tls_t *tls, const char *host, unsigned port,
                       unsigned threads, regd_http_t **out, char *errstr, size_t errstr_size);
/* As regd_http_new, with `limits` (copied; NULL: REGD_HTTP_LIMITS_DEFAULT).
 * A limit outside its setting's range is SB_ERR_CONFIG. */
sb_err_t regd_http_new_limited(regd_store_t *store, regd_submitter_t submitter, sb_log_t *log,
                               const regd_authz_t *auth, const sb_tls_t *tls, const char *host, unsigned port,
                               unsigned threads, const regd_http_limits_t *limits, regd_http_t **out,
                               char *errstr, size_t errstr_size);
/* The port actually bound. */
unsigned regd_http_port(const regd_http_t *srv);
/* Stops the server (waits for requests under way) and frees it. */
void regd_http_destroy(regd_http_t *srv);

/* Most path segments a route has. */
#define REGD_MAX_SEGMENTS 6

/* Who may make the request `method` `url` (the path as received, still
 * percent-encoded, with or without its query), from the route table; for
 * REGD_ACCESS_WRITE_SUBJECT the decoded subject is copied to `subject`
 * (subject_size bytes; one that does not fit makes the request OPERATOR).
 * A request no route serves is READ for GET, HEAD and OPTIONS and OPERATOR
 * otherwise.  This is what the server decides with; it is public for
 * tests and tools. */
regd_access_t regd_http_access(const char *method, const char *url, char *subject, size_t subject_size);

#endif

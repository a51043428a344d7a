/*
 * regd_http_int: what the registry's HTTP files share.  regd_http.c
 * runs the server, reads requests, routes them (its table lists every
 * route) and sends answers; the handlers live by area in
 * regd_routes_subjects.c, regd_routes_schemas.c and
 * regd_routes_config.c.  Nothing else includes this header.
 *
 * A handler gets the decoded path segments and the request body, and
 * returns a reply_t; it reads the store directly and changes it only with
 * rh_submit().  Helpers named rh_* are defined in regd_http.c.
 */
#ifndef REGD_HTTP_INT_H
#define REGD_HTTP_INT_H

#include <jansson.h>
#include <microhttpd.h>
#include <pthread.h>
#include <stdint.h>

#include "regd_error.h"
#include "regd_http.h"
#include "sb_buf.h"

/* Answers of POST /subjects/{s} (lookup) by (subject, deleted flag, body):
 * clients ask the same question again and again, and parsing the schema
 * and writing the answer are most of the cost.  An answer is served only
 * while the store's generation is the one it was computed under. */
#define SB_LOOKUP_CACHE_SIZE 256
typedef struct {
        uint64_t hash, generation;
        char *key; /* owned: subject, NUL, deleted flag, NUL, body */
        size_t key_len;
        char *reply; /* owned: the JSON answer */
} lookup_entry_t;

struct regd_http_s {
        struct MHD_Daemon *daemon;
        regd_store_t *store; /* borrowed */
        regd_submitter_t submitter;
        sb_log_t *log;            /* borrowed */
        const regd_authz_t *auth; /* borrowed; NULL: everyone may do everything */
        unsigned port;
        pthread_mutex_t err_lock; /* MHD may log from any of its threads */
        char last_error[256];     /* MHD's last message, for a failed start */
        regd_http_limits_t limits;
        unsigned connections;   /* open now (err_lock) */
        long long limit_logged; /* CLOCK_MONOTONIC s of the last max_connections warning (err_lock) */
        pthread_mutex_t cache_lock;
        lookup_entry_t lookups[SB_LOOKUP_CACHE_SIZE];
};

typedef struct {
        unsigned status;
        json_t *body; /* NULL (and no raw) after a failed allocation: answered 500 */
        char *raw;    /* if set, sent as is instead of body (owned) */
} reply_t;

/* One request, as handlers see it. */
typedef struct {
        regd_http_t *srv;
        struct MHD_Connection *conn;
        const char *method;
        char *const *seg; /* decoded path segments */
        int nseg;
        const sb_buf_t *body;
} call_t;

/* ---- helpers (regd_http.c) ---- */

/* The answer for error `e` of regd_error.h, with the arguments its entry
 * lists. */
reply_t rh_error(regd_error_t e, ...);
reply_t rh_json(unsigned status, json_t *body); /* steals body */
reply_t rh_raw(const char *text);               /* 200, a copy of text */
reply_t rh_store_error(const char *errstr);     /* 500 50001 */
reply_t rh_subject_not_found(const char *subject);
reply_t rh_invalid_version(const char *text);

/* A query argument, percent- and '+'-decoded into buf; NULL if absent or
 * undecodable (or too long). */
const char *rh_query(const call_t *c, const char *name, char *buf, size_t size);
/* A boolean query argument as JAX-RS reads it: "true" (any case) is true. */
int rh_query_bool(const call_t *c, const char *name);

/* Parses a version: N in [1, 2^31-1], "latest" or -1 (REGD_LATEST);
 * -1 on anything else. */
int rh_parse_version(const char *text, int32_t *out);

/* Reads the body as a JSON object into *doc (caller releases); 0, or -1
 * with *err the answer (415 content type, 400 malformed, 400 not an
 * object). */
int rh_body(const call_t *c, json_t **doc, reply_t *err);
/* As rh_body, for a body carrying a schema (register, lookup,
 * compatibility): also checks "schema", "schemaType" and "references". */
int rh_schema_body(const call_t *c, json_t **doc, reply_t *err);

/* Submits `cmd` (stolen) and turns its result into the answer. */
reply_t rh_submit(const call_t *c, json_t *cmd);

/* ---- limits (regd_http_limits.c) ---- */

/* SB_OK, or SB_ERR_CONFIG naming the first limit outside its setting's range. */
sb_err_t rh_limits_check(const regd_http_limits_t *l, char *errstr, size_t errstr_size);
/* Whether the schema text of a registration is within max_schema_bytes and
 * max_schema_depth: 0, or -1 with *r the 42201 answer naming the setting. */
int rh_schema_limits(const call_t *c, const char *text, size_t len, reply_t *r);
/* Logs a libmicrohttpd message (kept for a failed start's error). */
void rh_log_mhd(regd_http_t *srv, const char *msg);
/* MHD_OPTION_NOTIFY_CONNECTION (cls: the server): counts the connections
 * open, and logs reaching max_connections at most once a second. */
void rh_on_connection(void *cls, struct MHD_Connection *c, void **socket_context,
                      enum MHD_ConnectionNotificationCode code);

/* ---- handlers ---- */

typedef reply_t (*handler_t)(const call_t *c);

/* regd_routes_subjects.c */
reply_t rh_subjects_list(const call_t *c);
reply_t rh_subject_lookup(const call_t *c);
reply_t rh_subject_delete(const call_t *c);
reply_t rh_versions_list(const call_t *c);
reply_t rh_register(const call_t *c);
reply_t rh_version_get(const call_t *c);
reply_t rh_version_schema(const call_t *c);
reply_t rh_version_referencedby(const call_t *c);
reply_t rh_version_delete(const call_t *c);
reply_t rh_metadata(const call_t *c);

/* regd_routes_schemas.c */
reply_t rh_schema_by_id(const call_t *c);
reply_t rh_schema_raw_by_id(const call_t *c);
reply_t rh_schema_subjects(const call_t *c);
reply_t rh_schema_versions(const call_t *c);
reply_t rh_schema_types(const call_t *c);

/* regd_routes_config.c */
reply_t rh_config_get(const call_t *c);
reply_t rh_config_put(const call_t *c);
reply_t rh_config_delete(const call_t *c);
reply_t rh_mode_get(const call_t *c);
reply_t rh_mode_put(const call_t *c);
reply_t rh_mode_delete(const call_t *c);
reply_t rh_compat_version(const call_t *c);
reply_t rh_compat_all(const call_t *c);

#endif

/*
 * regd_http.c: the server (libmicrohttpd), reading requests, the route
 * table, the helpers handlers share, and sending answers.  The handlers are
 * in registry_routes_*.c.
 */
#include <errno.h>
#include <jansson.h>
#include <microhttpd.h>
#include <netdb.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>

#include "regd_http_int.h"
#include "regd_json.h"

/* The longest request line and the largest header block answered (Jetty's
 * defaults); libmicrohttpd's connection memory, which must hold both, is
 * set above them so that it is this layer that refuses, in JSON. */
#define REGD_HTTP_MAX_URI 8192u
#define REGD_HTTP_MAX_HEADERS 8192u
#define REGD_HTTP_CONNECTION_MEMORY (128u * 1024)

typedef struct {
        sb_buf_t body;
        size_t uri_len; /* the whole URI, query included */
        int started;    /* the first call (headers read) is done */
        int too_large;  /* body over max_body_bytes: discarded, 413 */
        int no_memory;
        int replied; /* answered before the body was read */
        char *path;  /* owned: the path, split in place into seg */
        char *seg[REGD_MAX_SEGMENTS];
        int nseg;                  /* -1: no route can match; -2: a malformed escape */
        const struct route *route; /* NULL: none for this method and path */
        int known;                 /* the path exists, maybe not for this method */
} request_t;

/* ---- answers ---- */

reply_t rh_json(unsigned status, json_t *body) { return (reply_t){status, body, NULL}; }

reply_t rh_error(regd_error_t e, ...) {
        va_list ap;
        va_start(ap, e);
        json_t *body = regd_error_vjson(e, 0, ap);
        va_end(ap);
        return rh_json(regd_error_status(e), body);
}

reply_t rh_raw(const char *text) {
        char *copy = strdup(text);
        return (reply_t){copy ? 200 : 500, NULL, copy};
}

reply_t rh_store_error(const char *errstr) { return rh_error(REGD_ERROR_STORE, errstr); }

reply_t rh_subject_not_found(const char *subject) { return rh_error(REGD_ERROR_SUBJECT_NOT_FOUND, subject); }

reply_t rh_invalid_version(const char *text) { return rh_error(REGD_ERROR_INVALID_VERSION, text); }

static enum MHD_Result send_reply(regd_http_t *srv, struct MHD_Connection *c, const char *method,
                                  const char *url, reply_t *r) {
        static const char oom[] = "{\"error_code\":50001,\"message\":\"out of memory\"}";
        char *text = r->raw ? r->raw : r->body ? json_dumps(r->body, JSON_COMPACT | JSON_ENCODE_ANY) : NULL;
        struct MHD_Response *resp;
        unsigned status = r->status;

        json_decref(r->body);
        r->body = NULL;
        r->raw = NULL;
        if (text) {
                resp = MHD_create_response_from_buffer(strlen(text), text, MHD_RESPMEM_MUST_FREE);
        } else {
                status = MHD_HTTP_INTERNAL_SERVER_ERROR;
                resp = MHD_create_response_from_buffer(sizeof(oom) - 1, (void *)oom, MHD_RESPMEM_PERSISTENT);
        }
        if (!resp) {
                free(text);
                return MHD_NO;
        }
        if (MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, REGD_CONTENT_TYPE) != MHD_YES ||
            (status == MHD_HTTP_UNAUTHORIZED &&
             MHD_add_response_header(resp, MHD_HTTP_HEADER_WWW_AUTHENTICATE, "Basic realm=\"sharebus\"") !=
                     MHD_YES)) {
                MHD_destroy_response(resp);
                return MHD_NO;
        }
        enum MHD_Result ret = MHD_queue_response(c, status, resp);
        MHD_destroy_response(resp);
        SB_LOG(srv->log, status >= 500 ? SB_LOG_WARN : SB_LOG_DEBUG, "%s %s -> %u", method, url, status);
        return ret;
}

/* ---- reading requests ---- */

const char *rh_query(const call_t *c, const char *name, char *buf, size_t size) {
        const char *v = MHD_lookup_connection_value(c->conn, MHD_GET_ARGUMENT_KIND, name);
        if (!v || strlen(v) >= size || regd_pct_decode(v, buf, 1))
                return NULL;
        return buf;
}

int rh_query_bool(const call_t *c, const char *name) {
        char buf[8];
        const char *v = rh_query(c, name, buf, sizeof(buf));
        return v && strcasecmp(v, "true") == 0;
}

int rh_parse_version(const char *s, int32_t *out) {
        char *end;
        if (strcmp(s, "latest") == 0) {
                *out = REGD_LATEST;
                return 0;
        }
        if (!((*s >= '0' && *s <= '9') || *s == '-'))
                return -1;
        errno = 0;
        long long v = strtoll(s, &end, 10);
        if (errno || *end || !(v >= 1 || v == -1) || v > INT32_MAX)
                return -1;
        *out = (int32_t)v;
        return 0;
}

/* Confluent accepts these request types; a body without one is taken as JSON. */
static int content_type_ok(const char *ct) {
        static const char *const ok[] = {"application/vnd.schemaregistry.v1+json",
                                         "application/vnd.schemaregistry+json", "application/json",
                                         "application/octet-stream"};
        size_t len = strcspn(ct, ";");
        while (*ct == ' ' || *ct == '\t')
                ct++, len--;
        while (len && (ct[len - 1] == ' ' || ct[len - 1] == '\t'))
                len--;
        for (size_t i = 0; i < sizeof(ok) / sizeof(*ok); i++)
                if (strlen(ok[i]) == len && strncasecmp(ct, ok[i], len) == 0)
                        return 1;
        return 0;
}

int rh_body(const call_t *c, json_t **doc, reply_t *err) {
        const char *ct = MHD_lookup_connection_value(c->conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_TYPE);
        json_error_t jerr;
        *doc = NULL;
        if (ct && *ct && !content_type_ok(ct)) {
                *err = rh_error(REGD_ERROR_MEDIA_TYPE);
                return -1;
        }
        /* Malformed JSON is 400 with error_code 400 and the parser's message,
         * as Confluent's rest-utils (JsonParseExceptionMapper) answers. */
        *doc = json_loadb(c->body->data ? (const char *)c->body->data : "", c->body->len, 0, &jerr);
        if (!*doc) {
                *err = rh_error(REGD_ERROR_MALFORMED_JSON, jerr.line, jerr.column, jerr.text);
                return -1;
        }
        if (!json_is_object(*doc)) {
                json_decref(*doc);
                *doc = NULL;
                *err = rh_error(REGD_ERROR_BAD_REQUEST, "Request body must be a JSON object");
                return -1;
        }
        return 0;
}

int rh_schema_body(const call_t *c, json_t **doc, reply_t *err) {
        if (rh_body(c, doc, err))
                return -1;
        /* A body that parses but carries no usable schema is 42201, as
         * Confluent answers a missing or empty schema. */
        json_t *schema = json_object_get(*doc, "schema");
        json_t *type = json_object_get(*doc, "schemaType");
        json_t *refs = json_object_get(*doc, "references");
        if (!json_is_string(schema) || json_string_length(schema) == 0)
                *err = rh_error(REGD_ERROR_INVALID_SCHEMA, "the request has no \"schema\" string");
        else if (type && !json_is_null(type) &&
                 !(json_is_string(type) && strcmp(json_string_value(type), "AVRO") == 0))
                *err = rh_error(REGD_ERROR_INVALID_SCHEMA_TYPE);
        else if (json_array_size(refs) > 0)
                *err = rh_error(REGD_ERROR_INVALID_SCHEMA, "schema references are not supported");
        else
                return 0;
        json_decref(*doc);
        *doc = NULL;
        return -1;
}

reply_t rh_submit(const call_t *c, json_t *cmd) {
        regd_http_t *srv = c->srv;
        json_t *result = NULL;
        char err[512] = "";

        if (!cmd)
                return rh_json(500, NULL);
        sb_err_t e = srv->submitter.submit(srv->submitter.opaque, cmd, &result, err, sizeof(err));
        const char *type = json_string_value(json_object_get(cmd, "type"));
        const char *subject = json_string_value(json_object_get(cmd, "subject"));
        if (e) {
                SB_LOG(srv->log, SB_LOG_ERROR, "%s%s%s%s not applied: %s", type, subject ? " '" : "",
                       subject ? subject : "", subject ? "'" : "", err);
                json_decref(cmd);
                json_decref(result);
                /* A submitter says a wait ran out in its message: sb_err_t has no timeout code. */
                if (e == SB_ERR_KAFKA && strstr(err, "timed out"))
                        return rh_error(REGD_ERROR_TIMEOUT, err);
                if (e == SB_ERR_KAFKA)
                        return rh_error(REGD_ERROR_FORWARDING, err);
                return rh_store_error(err);
        }
        json_int_t status = json_integer_value(json_object_get(result, "http"));
        if (!json_is_object(result) || status < 200 || status > 599) {
                json_decref(cmd);
                json_decref(result);
                return rh_store_error("the command gave no result");
        }
        json_object_del(result, "http");
        if (status == 200) {
                char *text = json_dumps(result, JSON_COMPACT | JSON_ENCODE_ANY);
                SB_LOG(srv->log, SB_LOG_INFO, "%s%s%s%s: %s", type, subject ? " '" : "",
                       subject ? subject : "", subject ? "'" : "", text ? text : "?");
                free(text);
        }
        json_decref(cmd);
        json_t *body = json_object_get(result, "body");
        if (body && json_object_size(result) == 1) {
                json_incref(body);
                json_decref(result);
                result = body;
        }
        return rh_json((unsigned)status, result);
}

/* ---- routing ---- */

static reply_t root(const call_t *c) {
        (void)c;
        return rh_json(200, json_object());
}

/* Every route: method, path ("*" standing for one segment), who may call
 * it (regd_authz.h; a WRITE_SUBJECT route's subject is its segment 1), and
 * the handler.  The one place that knows the routes. */
static const struct route {
        const char *method, *path;
        regd_access_t access;
        handler_t run;
} routes[] = {
        {"GET", "", REGD_ACCESS_READ, root},
        {"GET", "subjects", REGD_ACCESS_READ, rh_subjects_list},
        {"POST", "subjects/*", REGD_ACCESS_READ, rh_subject_lookup},
        {"DELETE", "subjects/*", REGD_ACCESS_WRITE_SUBJECT, rh_subject_delete},
        {"GET", "subjects/*/versions", REGD_ACCESS_READ, rh_versions_list},
        {"POST", "subjects/*/versions", REGD_ACCESS_WRITE_SUBJECT, rh_register},
        {"GET", "subjects/*/versions/*", REGD_ACCESS_READ, rh_version_get},
        {"DELETE", "subjects/*/versions/*", REGD_ACCESS_WRITE_SUBJECT, rh_version_delete},
        {"GET", "subjects/*/versions/*/schema", REGD_ACCESS_READ, rh_version_schema},
        {"GET", "subjects/*/versions/*/referencedby", REGD_ACCESS_READ, rh_version_referencedby},
        {"GET", "subjects/*/metadata", REGD_ACCESS_READ, rh_metadata},
        {"GET", "schemas/ids/*", REGD_ACCESS_READ, rh_schema_by_id},
        {"GET", "schemas/ids/*/schema", REGD_ACCESS_READ, rh_schema_raw_by_id},
        {"GET", "schemas/ids/*/subjects", REGD_ACCESS_READ, rh_schema_subjects},
        {"GET", "schemas/ids/*/versions", REGD_ACCESS_READ, rh_schema_versions},
        {"GET", "schemas/types", REGD_ACCESS_READ, rh_schema_types},
        {"GET", "config", REGD_ACCESS_READ, rh_config_get},
        {"PUT", "config", REGD_ACCESS_OPERATOR, rh_config_put},
        {"DELETE", "config", REGD_ACCESS_OPERATOR, rh_config_delete},
        {"GET", "config/*", REGD_ACCESS_READ, rh_config_get},
        {"PUT", "config/*", REGD_ACCESS_OPERATOR, rh_config_put},
        {"DELETE", "config/*", REGD_ACCESS_OPERATOR, rh_config_delete},
        {"GET", "mode", REGD_ACCESS_READ, rh_mode_get},
        {"PUT", "mode", REGD_ACCESS_OPERATOR, rh_mode_put},
        {"DELETE", "mode", REGD_ACCESS_OPERATOR, rh_mode_delete},
        {"GET", "mode/*", REGD_ACCESS_READ, rh_mode_get},
        {"PUT", "mode/*", REGD_ACCESS_OPERATOR, rh_mode_put},
        {"DELETE", "mode/*", REGD_ACCESS_OPERATOR, rh_mode_delete},
        {"POST", "compatibility/subjects/*/versions/*", REGD_ACCESS_READ, rh_compat_version},
        {"POST", "compatibility/subjects/*/versions", REGD_ACCESS_READ, rh_compat_all},
};

/* Splits `path` (no query string; changed in place) into at most
 * REGD_MAX_SEGMENTS decoded segments ("/" gives none, "/a/" two: "a" and
 * "").  Returns the count; -1 for a path no route can match (too many
 * segments, a NUL or bad UTF-8 once decoded); -2 for a malformed escape. */
static int split_path(char *path, char **seg) {
        int n = 0;
        char *p = path + (*path == '/');
        if (!*p)
                return 0;
        for (;;) {
                if (n == REGD_MAX_SEGMENTS)
                        return -1;
                seg[n++] = p;
                char *slash = strchr(p, '/');
                if (slash)
                        *slash = '\0';
                int d = regd_pct_decode(seg[n - 1], seg[n - 1], 0);
                if (d)
                        return d;
                if (!slash)
                        return n;
                p = slash + 1;
        }
}

static int path_matches(const char *pattern, char *const *seg, int n) {
        const char *p = pattern;
        int i = 0;
        if (!*p)
                return n == 0;
        for (;; i++) {
                size_t len = strcspn(p, "/");
                if (i >= n)
                        return 0;
                if (!(len == 1 && *p == '*') && (strlen(seg[i]) != len || strncmp(seg[i], p, len) != 0))
                        return 0;
                if (!p[len])
                        break;
                p += len + 1;
        }
        return i + 1 == n;
}

/* Finds the route of (method, already split path); *known says whether the
 * path exists for some method.  HEAD is GET without a body. */
static const struct route *find_route(const char *method, char *const *seg, int n, int *known) {
        *known = 0;
        if (strcmp(method, "HEAD") == 0)
                method = "GET";
        for (size_t i = 0; n >= 0 && i < sizeof(routes) / sizeof(*routes); i++) {
                if (!path_matches(routes[i].path, seg, n))
                        continue;
                *known = 1;
                if (strcmp(routes[i].method, method) == 0)
                        return &routes[i];
        }
        return NULL;
}

/* The access class of a request no route serves: reads are reads, any
 * other method is for operators, so a route added later is operator-only
 * until the table says otherwise. */
static regd_access_t unrouted_access(const char *method) {
        return strcmp(method, "GET") == 0 || strcmp(method, "HEAD") == 0 || strcmp(method, "OPTIONS") == 0
                       ? REGD_ACCESS_READ
                       : REGD_ACCESS_OPERATOR;
}

/* Splits and routes the request's path into req (on its first call). */
static void route_request(request_t *req, const char *method, const char *url) {
        if (!(req->path = strdup(url))) {
                req->nseg = -1;
                return;
        }
        req->nseg = split_path(req->path, req->seg);
        req->route = find_route(method, req->seg, req->nseg, &req->known);
}

regd_access_t regd_http_access(const char *method, const char *url, char *subject, size_t subject_size) {
        char *seg[REGD_MAX_SEGMENTS];
        int known;
        if (subject_size)
                subject[0] = '\0';
        if (!method || !url)
                return REGD_ACCESS_OPERATOR;
        char *path = strndup(url, strcspn(url, "?"));
        if (!path)
                return REGD_ACCESS_OPERATOR;
        int n = split_path(path, seg);
        const struct route *r = find_route(method, seg, n, &known);
        regd_access_t access = r ? r->access : n == -2 ? REGD_ACCESS_OPERATOR : unrouted_access(method);
        if (access == REGD_ACCESS_WRITE_SUBJECT) {
                if (strlen(seg[1]) < subject_size)
                        memcpy(subject, seg[1], strlen(seg[1]) + 1);
                else
                        access = REGD_ACCESS_OPERATOR;
        }
        free(path);
        return access;
}

/* Runs the routed request (after its body was read). */
static reply_t run_route(regd_http_t *srv, struct MHD_Connection *conn, const char *method,
                         const request_t *req) {
        if (!req->route)
                return req->known ? rh_error(REGD_ERROR_METHOD_NOT_ALLOWED) : rh_error(REGD_ERROR_NOT_FOUND);
        call_t c = {srv, conn, method, req->seg, req->nseg, &req->body};
        reply_t r = req->route->run(&c);
        if (!r.status)
                r.status = 500;
        /* The reply owns what it points to; none of it is in c. */
        return r; // cppcheck-suppress returnDanglingLifetime
}

/* Whether the request is refused (then *r is the answer: 401 or 403). */
static int refused(regd_http_t *srv, struct MHD_Connection *c, const char *method, const char *url,
                   const request_t *req, reply_t *r) {
        char cn[256], user[256], password[256], why[512], reason[1024];
        regd_authz_decision_t d;
        const char *header = MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_AUTHORIZATION);
        sb_err_t cert = regd_tls_cert_cn(c, cn, sizeof(cn), why, sizeof(why));
        sb_err_t basic = cert == SB_ERR_INVALID ? SB_ERR_NOT_FOUND
                                                : regd_authz_parse_basic(header, user, sizeof(user), password,
                                                                         sizeof(password), why, sizeof(why));
        regd_access_t access = req->route ? req->route->access : unrouted_access(method);
        const char *subject = access == REGD_ACCESS_WRITE_SUBJECT ? req->seg[1] : NULL;
        if (cert == SB_ERR_INVALID || basic == SB_ERR_INVALID) {
                d = REGD_AUTHZ_UNAUTHORIZED;
                snprintf(reason, sizeof(reason), "%s", why);
        } else {
                d = regd_authz_check(srv->auth, basic == SB_OK ? user : NULL,
                                     basic == SB_OK ? password : NULL, cert == SB_OK ? cn : NULL, access,
                                     subject, reason, sizeof(reason));
        }
        explicit_bzero(password, sizeof(password));
        if (d == REGD_AUTHZ_ALLOW) {
                SB_LOG(srv->log, SB_LOG_DEBUG, "%s %s: %s", method, url, reason);
                return 0;
        }
        SB_LOG(srv->log, SB_LOG_WARN, "%s %s refused (%d): %s", method, url, (int)d, reason);
        /* 401 says nothing of why (unknown user or wrong password); 403 goes
         * to a known principal and names the rule. */
        *r = d == REGD_AUTHZ_UNAUTHORIZED ? rh_error(REGD_ERROR_UNAUTHORIZED)
                                          : rh_error(REGD_ERROR_FORBIDDEN, reason);
        return 1;
}

static enum MHD_Result sum_header(void *cls, enum MHD_ValueKind kind, const char *key, const char *value) {
        size_t *total = cls;
        (void)kind;
        *total += strlen(key) + (value ? strlen(value) : 0) + 4; /* ": " and CRLF */
        return MHD_YES;
}

/* MHD calls this as soon as it has the request line, before the headers:
 * the request's state starts here, with the length of the whole URI (the
 * access handler sees the path without the query). */
static void *on_uri(void *cls, const char *uri, struct MHD_Connection *c) {
        const regd_http_t *srv = cls;
        request_t *req = calloc(1, sizeof(*req));
        (void)c;
        if (req) {
                sb_buf_init(&req->body, srv->limits.max_body_bytes);
                req->uri_len = strlen(uri);
        }
        return req; /* NULL: on_request tries again, and refuses if it cannot */
}

/* The first call for a request, once its headers are read: limits, the
 * route, authorization and an announced body size, each of which may
 * answer before the body is read.  Returns 1 if *r is the answer. */
static int first_call(regd_http_t *srv, struct MHD_Connection *c, const char *method, const char *url,
                      request_t *req, reply_t *r) {
        size_t headers = 0;
        MHD_get_connection_values(c, MHD_HEADER_KIND, sum_header, &headers);
        /* Jetty's limits (8 KiB), as Confluent's registry answers them;
         * libmicrohttpd's own answers (HTML) come only past its larger
         * connection memory limit. */
        if (req->uri_len > REGD_HTTP_MAX_URI) {
                *r = rh_error(REGD_ERROR_URI_TOO_LONG, (unsigned)REGD_HTTP_MAX_URI);
                return 1;
        }
        if (headers > REGD_HTTP_MAX_HEADERS) {
                *r = rh_error(REGD_ERROR_HEADERS_TOO_LARGE);
                return 1;
        }
        route_request(req, method, url);
        if (req->nseg == -2) {
                *r = rh_error(REGD_ERROR_BAD_ESCAPE);
                return 1;
        }
        if (!req->path) {
                *r = rh_json(500, NULL);
                return 1;
        }
        /* Before the body is read: a refused client uploads nothing. */
        if (srv->auth && refused(srv, c, method, url, req, r))
                return 1;
        /* Refuse an announced oversized body before it is sent. */
        const char *cl = MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_LENGTH);
        char *end;
        errno = 0;
        if (cl && (strtoull(cl, &end, 10) > srv->limits.max_body_bytes || errno == ERANGE)) {
                req->too_large = 1;
                *r = rh_error(REGD_ERROR_BODY_TOO_LARGE, (unsigned)srv->limits.max_body_bytes);
                return 1;
        }
        return 0;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *c, const char *url, const char *method,
                                  const char *version, const char *upload_data, size_t *upload_data_size,
                                  void **con_cls) {
        regd_http_t *srv = cls;
        request_t *req = *con_cls;
        reply_t r = {0, NULL, NULL};
        (void)version;

        if (!req) {
                if (!(req = on_uri(srv, url, c)))
                        return MHD_NO;
                *con_cls = req;
        }
        if (!req->started) {
                req->started = 1;
                if (first_call(srv, c, method, url, req, &r)) {
                        req->replied = 1;
                        return send_reply(srv, c, method, url, &r);
                }
                return MHD_YES;
        }
        if (*upload_data_size) {
                size_t len = *upload_data_size;
                *upload_data_size = 0;
                if (req->replied || req->too_large || req->no_memory)
                        return MHD_YES; /* discard the rest */
                if (len > srv->limits.max_body_bytes - req->body.len)
                        req->too_large = 1;
                else if (sb_buf_append(&req->body, upload_data, len))
                        req->no_memory = 1;
                return MHD_YES;
        }
        if (req->replied)
                return MHD_YES;
        req->replied = 1;
        if (req->too_large)
                r = rh_error(REGD_ERROR_BODY_TOO_LARGE, (unsigned)srv->limits.max_body_bytes);
        else if (req->no_memory)
                r = rh_json(500, NULL);
        else
                r = run_route(srv, c, method, req);
        return send_reply(srv, c, method, url, &r);
}

static void on_completed(void *cls, struct MHD_Connection *c, void **con_cls,
                         enum MHD_RequestTerminationCode toe) {
        request_t *req = *con_cls;
        (void)cls, (void)c, (void)toe;
        if (req) {
                sb_buf_free(&req->body);
                free(req->path);
                free(req);
                *con_cls = NULL;
        }
}

/* MHD would decode %2F to '/' before routing; segments are decoded after
 * the path is split instead, and query arguments by rh_query(). */
static size_t keep_escaped(void *cls, struct MHD_Connection *c, char *s) {
        (void)cls, (void)c;
        return strlen(s);
}

static void mhd_log(void *cls, const char *fmt, va_list ap) {
        char msg[256];
        vsnprintf(msg, sizeof(msg), fmt, ap);
        msg[strcspn(msg, "\n")] = '\0';
        rh_log_mhd(cls, msg);
}

/* Resolves host to its first IPv4 address, else its first IPv6 one. */
static int resolve(const char *host, unsigned port, struct sockaddr_storage *ss, char *errstr,
                   size_t errstr_size) {
        struct addrinfo hints, *res, *ai, *pick = NULL;
        memset(&hints, 0, sizeof(hints));
        hints.ai_socktype = SOCK_STREAM;
        int rc = getaddrinfo(host, NULL, &hints, &res);
        if (rc) {
                sb_seterr(SB_ERR_CONFIG, errstr, errstr_size, "listen_host '%s': %s", host, gai_strerror(rc));
                return -1;
        }
        for (ai = res; ai; ai = ai->ai_next)
                if ((ai->ai_family == AF_INET && (!pick || pick->ai_family != AF_INET)) ||
                    (ai->ai_family == AF_INET6 && !pick))
                        pick = ai;
        if (!pick) {
                freeaddrinfo(res);
                sb_seterr(SB_ERR_CONFIG, errstr, errstr_size, "listen_host '%s': no address", host);
                return -1;
        }
        memset(ss, 0, sizeof(*ss));
        memcpy(ss, pick->ai_addr, pick->ai_addrlen);
        if (pick->ai_family == AF_INET)
                ((struct sockaddr_in *)ss)->sin_port = htons((uint16_t)port);
        else
                ((struct sockaddr_in6 *)ss)->sin6_port = htons((uint16_t)port);
        freeaddrinfo(res);
        return 0;
}

sb_err_t regd_http_new(regd_store_t *store, regd_submitter_t submitter, sb_log_t *log,
                       const regd_authz_t *auth, const sb_tls_t *tls, const char *host, unsigned port,
                       unsigned threads, regd_http_t **out, char *errstr, size_t errstr_size) {
        return regd_http_new_limited(store, submitter, log, auth, tls, host, port, threads, NULL, out, errstr,
                                     errstr_size);
}

sb_err_t regd_http_new_limited(regd_store_t *store, regd_submitter_t submitter, sb_log_t *log,
                               const regd_authz_t *auth, const sb_tls_t *tls, const char *host, unsigned port,
                               unsigned threads, const regd_http_limits_t *limits, regd_http_t **out,
                               char *errstr, size_t errstr_size) {
        static const regd_http_limits_t defaults = REGD_HTTP_LIMITS_DEFAULT;
        const regd_http_limits_t *l = limits ? limits : &defaults;
        struct sockaddr_storage ss;
        regd_http_t *srv;

        *out = NULL;
        if (rh_limits_check(l, errstr, errstr_size))
                return SB_ERR_CONFIG;
        if (l->max_connections < threads) /* libmicrohttpd gives each thread its share */
                return sb_seterr(SB_ERR_CONFIG, errstr, errstr_size,
                                 "max_connections (%u) is below the thread count (%u)", l->max_connections,
                                 threads);

        if (port > 65535 || threads < 1) {
                return sb_seterr(SB_ERR_CONFIG, errstr, errstr_size, "bad port %u or thread count %u", port,
                                 threads);
        }
        if (!submitter.submit) {
                return sb_seterr(SB_ERR_CONFIG, errstr, errstr_size, "no submitter");
        }
        if (!host || !*host) {
                return sb_seterr(SB_ERR_CONFIG, errstr, errstr_size, "empty listen_host");
        }
        if (resolve(host, port, &ss, errstr, errstr_size))
                return SB_ERR_CONFIG;
        if (!(srv = calloc(1, sizeof(*srv))))
                return sb_seterr(SB_ERR_NOMEM, errstr, errstr_size, "out of memory");
        if (pthread_mutex_init(&srv->err_lock, NULL) || pthread_mutex_init(&srv->cache_lock, NULL)) {
                free(srv);
                return sb_seterr(SB_ERR_NOMEM, errstr, errstr_size, "cannot create a mutex");
        }
        srv->store = store;
        srv->submitter = submitter;
        srv->log = log;
        srv->auth = auth;
        srv->limits = *l;
        unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_AUTO | MHD_USE_ERROR_LOG;
        if (ss.ss_family == AF_INET6)
                flags |= MHD_USE_IPv6;
        /* MHD warns about a pool of one thread: that is its plain mode. */
        struct MHD_OptionItem pool[] = {
                {threads > 1 ? MHD_OPTION_THREAD_POOL_SIZE : MHD_OPTION_END, threads, NULL},
                {MHD_OPTION_END, 0, NULL},
        };
        struct MHD_OptionItem tls_options[SB_TLS_MHD_OPTIONS] = {{MHD_OPTION_END, 0, NULL}};
        if (tls) {
                sb_tls_mhd_options(tls, tls_options);
                flags |= MHD_USE_TLS;
        }
        srv->daemon = MHD_start_daemon(
                flags, (uint16_t)port, NULL, NULL, on_request, srv, MHD_OPTION_EXTERNAL_LOGGER, mhd_log,
                srv, /* first: see its doc */
                MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&ss, MHD_OPTION_ARRAY, pool, MHD_OPTION_ARRAY,
                tls_options, MHD_OPTION_NOTIFY_COMPLETED, on_completed, srv, MHD_OPTION_UNESCAPE_CALLBACK,
                keep_escaped, srv, MHD_OPTION_URI_LOG_CALLBACK, on_uri, srv,
                MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)REGD_HTTP_CONNECTION_MEMORY,
                MHD_OPTION_CONNECTION_TIMEOUT, (unsigned int)60, MHD_OPTION_NOTIFY_CONNECTION,
                rh_on_connection, srv, MHD_OPTION_CONNECTION_LIMIT, (unsigned int)l->max_connections,
                MHD_OPTION_PER_IP_CONNECTION_LIMIT, (unsigned int)l->max_connections_per_ip, MHD_OPTION_END);
        const union MHD_DaemonInfo *info =
                srv->daemon ? MHD_get_daemon_info(srv->daemon, MHD_DAEMON_INFO_BIND_PORT) : NULL;
        if (!info) {
                sb_seterr(SB_ERR_IO, errstr, errstr_size, "cannot listen on %s:%u: %s", host, port,
                          *srv->last_error ? srv->last_error : "libmicrohttpd failed");
                regd_http_destroy(srv);
                return SB_ERR_IO;
        }
        srv->port = info->port;
        *out = srv;
        return SB_OK;
}

unsigned regd_http_port(const regd_http_t *srv) { return srv->port; }

void regd_http_destroy(regd_http_t *srv) {
        if (!srv)
                return;
        if (srv->daemon)
                MHD_stop_daemon(srv->daemon);
        for (size_t i = 0; i < SB_LOOKUP_CACHE_SIZE; i++) {
                free(srv->lookups[i].key);
                free(srv->lookups[i].reply);
        }
        pthread_mutex_destroy(&srv->cache_lock);
        pthread_mutex_destroy(&srv->err_lock);
        free(srv);
}

/*
 * registry_http.c: the server (libmicrohttpd), reading requests, the route
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

typedef struct {
        sb_buf_t body;
        int too_large; /* body over SB_REGISTRY_MAX_BODY: discarded, 413 */
        int no_memory;
        int replied; /* answered before the body was read */
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

/* Every route: method and path, "*" standing for one segment. */
static const struct route {
        const char *method, *path;
        handler_t run;
} routes[] = {
        {"GET", "", root},
        {"GET", "subjects", rh_subjects_list},
        {"POST", "subjects/*", rh_subject_lookup},
        {"DELETE", "subjects/*", rh_subject_delete},
        {"GET", "subjects/*/versions", rh_versions_list},
        {"POST", "subjects/*/versions", rh_register},
        {"GET", "subjects/*/versions/*", rh_version_get},
        {"DELETE", "subjects/*/versions/*", rh_version_delete},
        {"GET", "subjects/*/versions/*/schema", rh_version_schema},
        {"GET", "subjects/*/versions/*/referencedby", rh_version_referencedby},
        {"GET", "subjects/*/metadata", rh_metadata},
        {"GET", "schemas/ids/*", rh_schema_by_id},
        {"GET", "schemas/ids/*/schema", rh_schema_raw_by_id},
        {"GET", "schemas/ids/*/subjects", rh_schema_subjects},
        {"GET", "schemas/ids/*/versions", rh_schema_versions},
        {"GET", "schemas/types", rh_schema_types},
        {"GET", "config", rh_config_get},
        {"PUT", "config", rh_config_put},
        {"DELETE", "config", rh_config_delete},
        {"GET", "config/*", rh_config_get},
        {"PUT", "config/*", rh_config_put},
        {"DELETE", "config/*", rh_config_delete},
        {"GET", "mode", rh_mode_get},
        {"PUT", "mode", rh_mode_put},
        {"DELETE", "mode", rh_mode_delete},
        {"GET", "mode/*", rh_mode_get},
        {"PUT", "mode/*", rh_mode_put},
        {"DELETE", "mode/*", rh_mode_delete},
        {"POST", "compatibility/subjects/*/versions/*", rh_compat_version},
        {"POST", "compatibility/subjects/*/versions", rh_compat_all},
};

#define MAX_SEGMENTS 6

/* Splits the path into at most MAX_SEGMENTS decoded segments ("/" gives
 * none); returns the count, or -1 for a path no route can match. */
static int split_path(char *path, char **seg) {
        int n = 0;
        char *p = path + (*path == '/');
        if (!*p)
                return 0;
        for (;;) {
                if (n == MAX_SEGMENTS)
                        return -1;
                seg[n++] = p;
                char *slash = strchr(p, '/');
                if (slash)
                        *slash = '\0';
                if (regd_pct_decode(seg[n - 1], seg[n - 1], 0))
                        return -1;
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

static reply_t route(regd_http_t *srv, struct MHD_Connection *conn, const char *method, const char *url,
                     const request_t *req) {
        char *path = strdup(url), *seg[MAX_SEGMENTS];
        int known = 0; /* the path exists, maybe not for this method */
        reply_t r = {0, NULL, NULL};

        if (!path)
                return rh_json(500, NULL);
        if (strcmp(method, "HEAD") == 0)
                method = "GET"; /* MHD sends no body */
        int n = split_path(path, seg);
        call_t c = {srv, conn, method, seg, n, &req->body};
        for (size_t i = 0; n >= 0 && i < sizeof(routes) / sizeof(*routes); i++) {
                if (!path_matches(routes[i].path, seg, n))
                        continue;
                known = 1;
                if (strcmp(routes[i].method, method) == 0) {
                        r = routes[i].run(&c);
                        if (!r.status)
                                r.status = 500;
                        break;
                }
        }
        free(path);
        /* The reply owns what it points to; none of it is in c. */
        if (r.status)
                return r; // cppcheck-suppress returnDanglingLifetime
        if (known)
                return rh_error(REGD_ERROR_METHOD_NOT_ALLOWED);
        return rh_error(REGD_ERROR_NOT_FOUND);
}

/* Whether the request is refused (then *r is the answer: 401 or 403). */
static int refused(regd_http_t *srv, struct MHD_Connection *c, const char *method, const char *url,
                   reply_t *r) {
        char cn[256], user[256], password[256], why[512], reason[1024];
        sb_auth_decision_t d;
        const char *header = MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_AUTHORIZATION);
        sb_err_t cert = regd_auth_cert_cn(c, cn, sizeof(cn), why, sizeof(why));
        sb_err_t basic = cert == SB_ERR_INVALID ? SB_ERR_NOT_FOUND
                                                : regd_auth_parse_basic(header, user, sizeof(user), password,
                                                                        sizeof(password), why, sizeof(why));
        if (cert == SB_ERR_INVALID || basic == SB_ERR_INVALID) {
                d = SB_AUTH_UNAUTHORIZED;
                snprintf(reason, sizeof(reason), "%s", why);
        } else {
                d = regd_auth_check(srv->auth, basic == SB_OK ? user : NULL, basic == SB_OK ? password : NULL,
                                    cert == SB_OK ? cn : NULL, method, url, reason, sizeof(reason));
        }
        explicit_bzero(password, sizeof(password));
        if (d == SB_AUTH_ALLOW) {
                SB_LOG(srv->log, SB_LOG_DEBUG, "%s %s: %s", method, url, reason);
                return 0;
        }
        SB_LOG(srv->log, SB_LOG_WARN, "%s %s refused (%d): %s", method, url, (int)d, reason);
        /* 401 says nothing of why (unknown user or wrong password); 403 goes
         * to a known principal and names the rule. */
        if (d == SB_AUTH_UNAUTHORIZED)
                *r = rh_error(REGD_ERROR_UNAUTHORIZED);
        else
                *r = rh_error(REGD_ERROR_FORBIDDEN, reason);
        return 1;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *c, const char *url, const char *method,
                                  const char *version, const char *upload_data, size_t *upload_data_size,
                                  void **con_cls) {
        regd_http_t *srv = cls;
        request_t *req = *con_cls;
        reply_t r = {0, NULL, NULL};
        (void)version;

        if (!req) {
                if (!(req = calloc(1, sizeof(*req))))
                        return MHD_NO;
                sb_buf_init(&req->body, SB_REGISTRY_MAX_BODY);
                *con_cls = req;
                /* Before the body is read: a refused client uploads nothing. */
                if (srv->auth && refused(srv, c, method, url, &r)) {
                        req->replied = 1;
                        return send_reply(srv, c, method, url, &r);
                }
                /* Refuse an announced oversized body before it is sent. */
                const char *cl =
                        MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_LENGTH);
                char *end;
                errno = 0;
                if (cl && (strtoull(cl, &end, 10) > SB_REGISTRY_MAX_BODY || errno == ERANGE)) {
                        req->too_large = req->replied = 1;
                        r = rh_error(REGD_ERROR_BODY_TOO_LARGE, SB_REGISTRY_MAX_BODY);
                        return send_reply(srv, c, method, url, &r);
                }
                return MHD_YES;
        }
        if (*upload_data_size) {
                size_t len = *upload_data_size;
                *upload_data_size = 0;
                if (req->replied || req->too_large || req->no_memory)
                        return MHD_YES; /* discard the rest */
                if (len > SB_REGISTRY_MAX_BODY - req->body.len)
                        req->too_large = 1;
                else if (sb_buf_append(&req->body, upload_data, len))
                        req->no_memory = 1;
                return MHD_YES;
        }
        if (req->replied)
                return MHD_YES;
        req->replied = 1;
        if (req->too_large)
                r = rh_error(REGD_ERROR_BODY_TOO_LARGE, SB_REGISTRY_MAX_BODY);
        else if (req->no_memory)
                r = rh_json(500, NULL);
        else
                r = route(srv, c, method, url, req);
        return send_reply(srv, c, method, url, &r);
}

static void on_completed(void *cls, struct MHD_Connection *c, void **con_cls,
                         enum MHD_RequestTerminationCode toe) {
        request_t *req = *con_cls;
        (void)cls, (void)c, (void)toe;
        if (req) {
                sb_buf_free(&req->body);
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
        regd_http_t *srv = cls;
        char msg[256];
        vsnprintf(msg, sizeof(msg), fmt, ap);
        msg[strcspn(msg, "\n")] = '\0';
        pthread_mutex_lock(&srv->err_lock);
        snprintf(srv->last_error, sizeof(srv->last_error), "%s", msg);
        pthread_mutex_unlock(&srv->err_lock);
        SB_LOG(srv->log, SB_LOG_WARN, "http: %s", msg);
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

regd_http_t *regd_http_new(regd_store_t *store, regd_submitter_t submitter, sb_log_t *log,
                           const regd_auth_t *auth, const regd_tls_t *tls, const char *host, unsigned port,
                           unsigned threads, char *errstr, size_t errstr_size) {
        struct sockaddr_storage ss;
        regd_http_t *srv;

        if (port > 65535 || threads < 1) {
                sb_seterr(SB_ERR_CONFIG, errstr, errstr_size, "bad port %u or thread count %u", port,
                          threads);
                return NULL;
        }
        if (!submitter.submit) {
                sb_seterr(SB_ERR_CONFIG, errstr, errstr_size, "no submitter");
                return NULL;
        }
        if (!host || !*host) {
                sb_seterr(SB_ERR_CONFIG, errstr, errstr_size, "empty listen_host");
                return NULL;
        }
        if (resolve(host, port, &ss, errstr, errstr_size))
                return NULL;
        if (!(srv = calloc(1, sizeof(*srv)))) {
                sb_seterr(SB_ERR_NOMEM, errstr, errstr_size, "out of memory");
                return NULL;
        }
        if (pthread_mutex_init(&srv->err_lock, NULL) || pthread_mutex_init(&srv->cache_lock, NULL)) {
                free(srv);
                sb_seterr(SB_ERR_NOMEM, errstr, errstr_size, "cannot create a mutex");
                return NULL;
        }
        srv->store = store;
        srv->submitter = submitter;
        srv->log = log;
        srv->auth = auth;
        unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_AUTO | MHD_USE_ERROR_LOG;
        if (ss.ss_family == AF_INET6)
                flags |= MHD_USE_IPv6;
        /* MHD warns about a pool of one thread: that is its plain mode. */
        struct MHD_OptionItem pool[] = {
                {threads > 1 ? MHD_OPTION_THREAD_POOL_SIZE : MHD_OPTION_END, threads, NULL},
                {MHD_OPTION_END, 0, NULL},
        };
        struct MHD_OptionItem tls_options[REGD_TLS_MHD_OPTIONS] = {{MHD_OPTION_END, 0, NULL}};
        if (tls) {
                regd_tls_mhd_options(tls, tls_options);
                flags |= MHD_USE_TLS;
        }
        srv->daemon = MHD_start_daemon(flags, (uint16_t)port, NULL, NULL, on_request, srv,
                                       MHD_OPTION_EXTERNAL_LOGGER, mhd_log, srv, /* first: see its doc */
                                       MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&ss, MHD_OPTION_ARRAY, pool,
                                       MHD_OPTION_ARRAY, tls_options, MHD_OPTION_NOTIFY_COMPLETED,
                                       on_completed, srv, MHD_OPTION_UNESCAPE_CALLBACK, keep_escaped, srv,
                                       MHD_OPTION_CONNECTION_TIMEOUT, (unsigned int)60, MHD_OPTION_END);
        const union MHD_DaemonInfo *info =
                srv->daemon ? MHD_get_daemon_info(srv->daemon, MHD_DAEMON_INFO_BIND_PORT) : NULL;
        if (!info) {
                sb_seterr(SB_ERR_IO, errstr, errstr_size, "cannot listen on %s:%u: %s", host, port,
                          *srv->last_error ? srv->last_error : "libmicrohttpd failed");
                regd_http_destroy(srv);
                return NULL;
        }
        srv->port = info->port;
        return srv;
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

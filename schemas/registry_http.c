#include "registry_http.h"

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

#include "sb_buf.h"

/* Confluent's error codes (io.confluent.kafka.schemaregistry.rest.exceptions
 * .Errors); plain HTTP statuses are used as codes where Confluent does so. */
enum {
        E_SUBJECT_NOT_FOUND = 40401,
        E_VERSION_NOT_FOUND = 40402,
        E_SCHEMA_NOT_FOUND = 40403,
        E_INVALID_SCHEMA = 42201,
        E_INVALID_VERSION = 42202,
        E_INVALID_SUBJECT = 42208,
        E_STORE = 50001,
};

struct sb_registry_http_s {
        struct MHD_Daemon *daemon;
        sb_registry_store_t *store; /* borrowed */
        sb_log_t *log;              /* borrowed */
        unsigned port;
        pthread_mutex_t err_lock; /* MHD may log from any of its threads */
        char last_error[256];     /* MHD's last message, for a failed start */
};

typedef struct {
        sb_buf_t body;
        int too_large; /* body over SB_REGISTRY_MAX_BODY: discarded, 413 */
        int no_memory;
        int replied; /* answered before the body was read */
} request_t;

typedef struct {
        unsigned status;
        json_t *body; /* NULL after a failed allocation: answered 500 */
} reply_t;

/* Length of the longest prefix of s that is well-formed UTF-8 (no overlong
 * forms, surrogates or code points past U+10FFFF: what jansson accepts). */
static size_t utf8_valid_prefix(const char *s) {
        const unsigned char *p = (const unsigned char *)s;
        size_t i = 0, n, k;
        unsigned long cp, min;
        while (p[i]) {
                unsigned char c = p[i];
                if (c < 0x80) {
                        i++;
                        continue;
                }
                if (c >= 0xC2 && c < 0xE0)
                        n = 2, cp = c & 0x1Fu, min = 0x80;
                else if (c >= 0xE0 && c < 0xF0)
                        n = 3, cp = c & 0x0Fu, min = 0x800;
                else if (c >= 0xF0 && c < 0xF5)
                        n = 4, cp = c & 0x07u, min = 0x10000;
                else
                        break;
                for (k = 1; k < n && (p[i + k] & 0xC0) == 0x80; k++) /* stops at the NUL */
                        cp = cp << 6 | (p[i + k] & 0x3Fu);
                if (k < n || cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
                        break;
                i += n;
        }
        return i;
}

static reply_t error_reply(unsigned status, int code, const char *fmt, ...)
        __attribute__((format(printf, 3, 4)));
static reply_t error_reply(unsigned status, int code, const char *fmt, ...) {
        char msg[1024];
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(msg, sizeof(msg), fmt, ap);
        va_end(ap);
        msg[utf8_valid_prefix(msg)] = '\0'; /* truncation may split a character */
        return (reply_t){status, json_pack("{s:i,s:s}", "error_code", code, "message", msg)};
}

static reply_t json_reply(unsigned status, json_t *body) { return (reply_t){status, body}; }

static enum MHD_Result send_reply(sb_registry_http_t *srv, struct MHD_Connection *c, const char *method,
                                  const char *url, reply_t *r) {
        static const char oom[] = "{\"error_code\":50001,\"message\":\"out of memory\"}";
        char *text = r->body ? json_dumps(r->body, JSON_COMPACT) : NULL;
        struct MHD_Response *resp;
        unsigned status = r->status;

        json_decref(r->body);
        r->body = NULL;
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
        if (MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, SB_REGISTRY_CONTENT_TYPE) !=
            MHD_YES) {
                MHD_destroy_response(resp);
                return MHD_NO;
        }
        enum MHD_Result ret = MHD_queue_response(c, status, resp);
        MHD_destroy_response(resp);
        SB_LOG(srv->log, status >= 500 ? SB_LOG_WARN : SB_LOG_DEBUG, "%s %s -> %u", method, url, status);
        return ret;
}

static int hexval(char ch) {
        if (ch >= '0' && ch <= '9')
                return ch - '0';
        ch = (char)(ch | 0x20);
        return ch >= 'a' && ch <= 'f' ? ch - 'a' + 10 : -1;
}

/* Decodes %HH escapes in place.  Returns -1 for a segment that holds a NUL
 * or is not UTF-8: no subject can have such a name. */
static int pct_decode(char *s) {
        char *w = s;
        int hi, lo;
        for (const char *p = s; *p;) {
                if (p[0] == '%' && (hi = hexval(p[1])) >= 0 && (lo = hexval(p[2])) >= 0) {
                        if (hi == 0 && lo == 0)
                                return -1;
                        *w++ = (char)(hi * 16 + lo);
                        p += 3;
                } else {
                        *w++ = *p++;
                }
        }
        *w = '\0';
        return s[utf8_valid_prefix(s)] == '\0' ? 0 : -1;
}

/* Parses a decimal in [1, INT32_MAX] (or -1, for versions) without signs
 * or spaces around it. */
static int parse_int32(const char *s, int allow_minus_one, int32_t *out) {
        char *end;
        if (!((*s >= '0' && *s <= '9') || (allow_minus_one && *s == '-')))
                return -1;
        errno = 0;
        long long v = strtoll(s, &end, 10);
        if (errno || *end || !(v >= 1 || (allow_minus_one && v == -1)) || v > INT32_MAX)
                return -1;
        *out = (int32_t)v;
        return 0;
}

/* Confluent accepts these request types; a body without one is taken as JSON. */
static int content_type_ok(const char *ct) {
        static const char *const ok[] = {"application/vnd.schemaregistry.v1+json",
                                         "application/vnd.schemaregistry+json", "application/json"};
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

static reply_t store_error(const char *err) {
        return error_reply(500, E_STORE, "Error in the backend data store: %s", err);
}

/* A JSON array of what add() makes of items 0..n-1; NULL if out of memory. */
static json_t *json_list(size_t n, json_t *(*add)(const void *items, size_t i), const void *items) {
        json_t *arr = json_array();
        for (size_t i = 0; arr && i < n; i++)
                if (json_array_append_new(arr, add(items, i))) {
                        json_decref(arr);
                        arr = NULL;
                }
        return arr;
}

static json_t *add_version(const void *items, size_t i) { return json_integer(((const int32_t *)items)[i]); }

static json_t *add_name(const void *items, size_t i) { return json_string(((char *const *)items)[i]); }

static json_t *add_use(const void *items, size_t i) {
        const sb_registry_use_t *u = &((const sb_registry_use_t *)items)[i];
        return json_pack("{s:s,s:i}", "subject", u->subject, "version", (int)u->version);
}

static reply_t do_register(sb_registry_http_t *srv, struct MHD_Connection *c, const char *subject,
                           const request_t *req) {
        const char *ct = MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_TYPE);
        char err[512];
        json_error_t jerr;
        int32_t id, version;
        reply_t r;

        if (ct && *ct && !content_type_ok(ct))
                return error_reply(415, 415, "HTTP 415 Unsupported Media Type");
        if (!*subject)
                return error_reply(422, E_INVALID_SUBJECT, "The specified subject is not valid.");
        /* Malformed JSON is 400 with error_code 400 and the parser's message,
         * as Confluent's rest-utils (JsonParseExceptionMapper) answers; a body
         * that parses but carries no usable schema is 42201, as Confluent
         * answers a missing or empty schema. */
        json_t *doc = json_loadb(req->body.data ? (const char *)req->body.data : "", req->body.len, 0, &jerr);
        if (!doc)
                return error_reply(400, 400, "Malformed JSON body: line %d column %d: %s", jerr.line,
                                   jerr.column, jerr.text);
        json_t *schema = json_object_get(doc, "schema");
        json_t *type = json_object_get(doc, "schemaType");
        json_t *refs = json_object_get(doc, "references");
        if (!json_is_object(doc)) {
                r = error_reply(400, 400, "Request body must be a JSON object");
        } else if (!json_is_string(schema) || json_string_length(schema) == 0) {
                r = error_reply(422, E_INVALID_SCHEMA,
                                "Invalid schema: the request has no \"schema\" string");
        } else if (type && !json_is_null(type) &&
                   !(json_is_string(type) && strcmp(json_string_value(type), "AVRO") == 0)) {
                r = error_reply(422, E_INVALID_SCHEMA,
                                "Invalid schema type: this registry accepts AVRO only");
        } else if (json_array_size(refs) > 0) {
                r = error_reply(422, E_INVALID_SCHEMA, "Invalid schema: schema references are not supported");
        } else {
                sb_err_t e = sb_registry_store_register(srv->store, subject, json_string_value(schema),
                                                        json_string_length(schema), &id, &version, err,
                                                        sizeof(err));
                if (e == SB_ERR_SCHEMA) {
                        r = error_reply(422, E_INVALID_SCHEMA, "Invalid schema: %s", err);
                } else if (e) {
                        r = store_error(err);
                } else {
                        SB_LOG(srv->log, SB_LOG_INFO, "subject '%s' version %d is schema id %d", subject,
                               (int)version, (int)id);
                        r = json_reply(200, json_pack("{s:i}", "id", (int)id));
                }
        }
        json_decref(doc);
        return r;
}

static reply_t do_get_version(sb_registry_http_t *srv, const char *subject, const char *vtext) {
        int32_t want, id, version;
        char *text, err[512];
        int subject_found;

        /* Confluent takes -1 for "latest" too. */
        if (strcmp(vtext, "latest") == 0)
                want = SB_REGISTRY_LATEST;
        else if (parse_int32(vtext, 1, &want))
                return error_reply(422, E_INVALID_VERSION,
                                   "The specified version '%s' is not a valid version id. "
                                   "Allowed values are between [1, 2^31-1] and the string "
                                   "\"latest\"",
                                   vtext);
        sb_err_t e = sb_registry_store_get_version(srv->store, subject, want, &id, &version, &text,
                                                   &subject_found, err, sizeof(err));
        if (e == SB_ERR_NOT_FOUND && !subject_found)
                return error_reply(404, E_SUBJECT_NOT_FOUND, "Subject '%s' not found.", subject);
        if (e == SB_ERR_NOT_FOUND)
                return error_reply(404, E_VERSION_NOT_FOUND, "Version %s not found.", vtext);
        if (e)
                return store_error(err);
        reply_t r = json_reply(200, json_pack("{s:s,s:i,s:i,s:s}", "subject", subject, "version",
                                              (int)version, "id", (int)id, "schema", text));
        free(text);
        return r;
}

static reply_t do_versions(sb_registry_http_t *srv, const char *subject) {
        int32_t *versions;
        size_t n;
        char err[512];
        sb_err_t e = sb_registry_store_versions(srv->store, subject, &versions, &n, err, sizeof(err));
        if (e == SB_ERR_NOT_FOUND)
                return error_reply(404, E_SUBJECT_NOT_FOUND, "Subject '%s' not found.", subject);
        if (e)
                return store_error(err);
        reply_t r = json_reply(200, json_list(n, add_version, versions));
        free(versions);
        return r;
}

static reply_t do_subjects(sb_registry_http_t *srv) {
        char **names, err[512];
        size_t n;
        if (sb_registry_store_subjects(srv->store, &names, &n, err, sizeof(err)))
                return store_error(err);
        reply_t r = json_reply(200, json_list(n, add_name, names));
        sb_registry_strings_free(names, n);
        return r;
}

/* GET /schemas/ids/{id} or, with `uses`, GET /schemas/ids/{id}/versions. */
static reply_t do_schema(sb_registry_http_t *srv, const char *idtext, int uses) {
        int32_t id;
        char *text = NULL, err[512];
        sb_registry_use_t *u = NULL;
        size_t n = 0;
        sb_err_t e;
        reply_t r;

        if (parse_int32(idtext, 0, &id))
                e = SB_ERR_NOT_FOUND;
        else if (uses)
                e = sb_registry_store_id_uses(srv->store, id, &u, &n, err, sizeof(err));
        else
                e = sb_registry_store_by_id(srv->store, id, &text, err, sizeof(err));
        if (e == SB_ERR_NOT_FOUND)
                return error_reply(404, E_SCHEMA_NOT_FOUND, "Schema %s not found", idtext);
        if (e)
                return store_error(err);
        if (uses)
                r = json_reply(200, json_list(n, add_use, u));
        else
                r = json_reply(200, json_pack("{s:s}", "schema", text));
        sb_registry_uses_free(u, n);
        free(text);
        return r;
}

#define MAX_SEGMENTS 4

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
                if (pct_decode(seg[n - 1]))
                        return -1;
                if (!slash)
                        return n;
                p = slash + 1;
        }
}

static reply_t route(sb_registry_http_t *srv, struct MHD_Connection *c, const char *method, const char *url,
                     const request_t *req) {
        int get = strcmp(method, "GET") == 0 || strcmp(method, "HEAD") == 0;
        int post = strcmp(method, "POST") == 0;
        char *path = strdup(url), *seg[MAX_SEGMENTS];
        int known = 0; /* the path exists, maybe not for this method */
        reply_t r = {0, NULL};

        if (!path)
                return json_reply(500, NULL);
        int n = split_path(path, seg);
        int versions =
                (n == 3 || n == 4) && strcmp(seg[0], "subjects") == 0 && strcmp(seg[2], "versions") == 0;
        int ids = (n == 3 || n == 4) && strcmp(seg[0], "schemas") == 0 && strcmp(seg[1], "ids") == 0 &&
                  (n == 3 || strcmp(seg[3], "versions") == 0);
        if (n == 0) {
                known = 1;
                if (get)
                        r = json_reply(200, json_object());
        } else if (n == 1 && strcmp(seg[0], "subjects") == 0) {
                known = 1;
                if (get)
                        r = do_subjects(srv);
        } else if (versions) {
                known = 1;
                if (n == 3 && get)
                        r = do_versions(srv, seg[1]);
                else if (n == 3 && post)
                        r = do_register(srv, c, seg[1], req);
                else if (n == 4 && get)
                        r = do_get_version(srv, seg[1], seg[3]);
        } else if (ids) {
                known = 1;
                if (get)
                        r = do_schema(srv, seg[2], n == 4);
        }
        free(path);
        if (r.status)
                return r;
        if (known)
                return error_reply(405, 405, "HTTP 405 Method Not Allowed");
        return error_reply(404, 404, "HTTP 404 Not Found");
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *c, const char *url, const char *method,
                                  const char *version, const char *upload_data, size_t *upload_data_size,
                                  void **con_cls) {
        sb_registry_http_t *srv = cls;
        request_t *req = *con_cls;
        reply_t r = {0, NULL};
        (void)version;

        if (!req) {
                if (!(req = calloc(1, sizeof(*req))))
                        return MHD_NO;
                sb_buf_init(&req->body, SB_REGISTRY_MAX_BODY);
                *con_cls = req;
                /* Refuse an announced oversized body before it is sent. */
                const char *cl =
                        MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_LENGTH);
                char *end;
                errno = 0;
                if (cl && (strtoull(cl, &end, 10) > SB_REGISTRY_MAX_BODY || errno == ERANGE)) {
                        req->too_large = req->replied = 1;
                        r = error_reply(413, 413, "Request body larger than %u bytes", SB_REGISTRY_MAX_BODY);
                        return send_reply(srv, c, method, url, &r);
                }
                return MHD_YES;
        }
        if (*upload_data_size) {
                size_t len = *upload_data_size;
                *upload_data_size = 0;
                if (req->too_large || req->no_memory)
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
                r = error_reply(413, 413, "Request body larger than %u bytes", SB_REGISTRY_MAX_BODY);
        else if (req->no_memory)
                r = json_reply(500, NULL);
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
 * the path is split instead.  (Query arguments are not used.) */
static size_t keep_escaped(void *cls, struct MHD_Connection *c, char *s) {
        (void)cls, (void)c;
        return strlen(s);
}

static void mhd_log(void *cls, const char *fmt, va_list ap) {
        sb_registry_http_t *srv = cls;
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

sb_registry_http_t *sb_registry_http_new(sb_registry_store_t *store, sb_log_t *log, const char *host,
                                         unsigned port, unsigned threads, char *errstr, size_t errstr_size) {
        struct sockaddr_storage ss;
        sb_registry_http_t *srv;

        if (port > 65535 || threads < 1) {
                sb_seterr(SB_ERR_CONFIG, errstr, errstr_size, "bad port %u or thread count %u", port,
                          threads);
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
        if (pthread_mutex_init(&srv->err_lock, NULL)) {
                free(srv);
                sb_seterr(SB_ERR_NOMEM, errstr, errstr_size, "cannot create a mutex");
                return NULL;
        }
        srv->store = store;
        srv->log = log;
        unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_AUTO | MHD_USE_ERROR_LOG;
        if (ss.ss_family == AF_INET6)
                flags |= MHD_USE_IPv6;
        /* MHD warns about a pool of one thread: that is its plain mode. */
        struct MHD_OptionItem pool[] = {
                {threads > 1 ? MHD_OPTION_THREAD_POOL_SIZE : MHD_OPTION_END, threads, NULL},
                {MHD_OPTION_END, 0, NULL},
        };
        srv->daemon = MHD_start_daemon(flags, (uint16_t)port, NULL, NULL, on_request, srv,
                                       MHD_OPTION_EXTERNAL_LOGGER, mhd_log, srv, /* first: see its doc */
                                       MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&ss, MHD_OPTION_ARRAY, pool,
                                       MHD_OPTION_NOTIFY_COMPLETED, on_completed, srv,
                                       MHD_OPTION_UNESCAPE_CALLBACK, keep_escaped, srv,
                                       MHD_OPTION_CONNECTION_TIMEOUT, (unsigned int)60, MHD_OPTION_END);
        const union MHD_DaemonInfo *info =
                srv->daemon ? MHD_get_daemon_info(srv->daemon, MHD_DAEMON_INFO_BIND_PORT) : NULL;
        if (!info) {
                sb_seterr(SB_ERR_IO, errstr, errstr_size, "cannot listen on %s:%u: %s", host, port,
                          *srv->last_error ? srv->last_error : "libmicrohttpd failed");
                sb_registry_http_destroy(srv);
                return NULL;
        }
        srv->port = info->port;
        return srv;
}

unsigned sb_registry_http_port(const sb_registry_http_t *srv) { return srv->port; }

void sb_registry_http_destroy(sb_registry_http_t *srv) {
        if (!srv)
                return;
        if (srv->daemon)
                MHD_stop_daemon(srv->daemon);
        pthread_mutex_destroy(&srv->err_lock);
        free(srv);
}

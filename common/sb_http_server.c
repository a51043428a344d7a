#include "sb_http_server.h"

#include <arpa/inet.h>
#include <errno.h>
#include <jansson.h>
#include <microhttpd.h>
#include <netdb.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/socket.h>

#include "sb_buf.h"

#define CONTENT_TYPE_METRICS "text/plain; version=0.0.4; charset=utf-8"
#define CONTENT_TYPE_JSON "application/json"
#define ALLOWED "GET, HEAD"

struct sb_http_server_s {
        struct MHD_Daemon *daemon;
        sb_metrics_t *metrics;
        sb_http_server_health_fn health;
        void *health_opaque;
        sb_log_t *log;
        unsigned port;
        sb_http_server_page_fn page;
        void *page_opaque;
        sb_http_server_metrics_fn more_metrics;
        void *more_metrics_opaque;
        /* libmicrohttpd's last complaint, for the error of a failed start;
         * its logger may run on its thread, hence the lock. */
        pthread_mutex_t err_lock;
        char last_error[256];
        /* Connections open and the limit (only the server's thread counts);
         * when the last warning that the limit was reached was logged. */
        unsigned connections, max_connections;
        time_t limit_logged;
        /* The TLS handle of a server made from a config (NULL for none or
         * the options' own): freed after the daemon stops. */
        sb_tls_t *own_tls;
};

/* A request's state, from its request line to its end. */
typedef struct {
        size_t uri_len; /* path and query: the access handler sees only the path */
        int headers_seen, replied;
} request_t;

typedef struct {
        unsigned status;
        const char *ctype;
        char *body; /* malloc()ed; NULL with len 0 for none */
        size_t len;
} reply_t;

/* `doc` (taken) as a compact JSON body, keys in the order written.  The
 * text comes from jansson's allocator, malloc() unless a program changes it
 * with json_set_alloc_funcs (none does), which MHD_RESPMEM_MUST_FREE's
 * free() matches. */
static reply_t json_reply(unsigned status, json_t *doc) {
        reply_t r = {status, CONTENT_TYPE_JSON, NULL, 0};
        r.body = doc ? json_dumps(doc, JSON_COMPACT | JSON_PRESERVE_ORDER) : NULL;
        json_decref(doc);
        if (r.body)
                r.len = strlen(r.body);
        else
                r.status = MHD_HTTP_INTERNAL_SERVER_ERROR; /* out of memory: an empty 500 */
        return r;
}

static reply_t error_reply(unsigned status, const char *text) {
        return json_reply(status, json_pack("{s:s}", "error", text));
}

static reply_t metrics_reply(sb_http_server_t *srv) {
        reply_t r = {MHD_HTTP_OK, CONTENT_TYPE_METRICS, NULL, 0};
        char err[256];
        sb_buf_t b;
        if (!srv->metrics && !srv->more_metrics)
                return r;
        sb_buf_init(&b, SB_HTTP_SERVER_MAX_METRICS_TEXT);
        if ((srv->metrics && sb_metrics_render(srv->metrics, &b, err, sizeof(err))) ||
            (srv->more_metrics && srv->more_metrics(srv->more_metrics_opaque, &b) &&
             snprintf(err, sizeof(err), "the program's metrics do not fit in %d bytes",
                      SB_HTTP_SERVER_MAX_METRICS_TEXT))) {
                sb_buf_free(&b);
                SB_LOG(srv->log, SB_LOG_ERROR, "http: GET /metrics: %s", err);
                return error_reply(MHD_HTTP_INTERNAL_SERVER_ERROR, err);
        }
        r.body = (char *)sb_buf_detach(&b, &r.len);
        return r;
}

/* The reason, made valid UTF-8 for the JSON (bytes that are not ASCII
 * become '?'), if jansson refuses it as it is. */
static reply_t unhealthy_reply(char *reason) {
        json_t *doc = json_pack("{s:s,s:s}", "status", "unhealthy", "reason", reason);
        if (!doc) {
                for (char *p = reason; *p; p++)
                        if ((unsigned char)*p >= 0x80)
                                *p = '?';
                doc = json_pack("{s:s,s:s}", "status", "unhealthy", "reason", reason);
        }
        return json_reply(MHD_HTTP_SERVICE_UNAVAILABLE, doc);
}

static reply_t health_reply(sb_http_server_t *srv) {
        char reason[SB_HTTP_SERVER_MAX_REASON] = "";
        if (!srv->health || srv->health(srv->health_opaque, reason, sizeof(reason)))
                return json_reply(MHD_HTTP_OK, json_pack("{s:s}", "status", "ok"));
        reason[sizeof(reason) - 1] = '\0';
        if (!*reason)
                snprintf(reason, sizeof(reason), "no reason given");
        return unhealthy_reply(reason);
}

static enum MHD_Result sum_header(void *cls, enum MHD_ValueKind kind, const char *key, const char *value) {
        size_t *total = cls;
        (void)kind;
        *total += strlen(key) + (value ? strlen(value) : 0) + 4; /* ": " and CRLF */
        return MHD_YES;
}

/* Whether the request has a body (or announces one): nothing here takes a
 * body, so any is refused from the headers, before it is read. */
static int has_body(struct MHD_Connection *c) {
        const char *cl = MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_LENGTH);
        if (MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_TRANSFER_ENCODING))
                return 1;
        return cl && strspn(cl, "0") != strlen(cl); /* "0" and "00" are no body */
}

/* The refusals decided from the request line and headers, which answer
 * before a body would be read (the connection then closes: what follows
 * is not read).  Returns 1 with *r set if the request is refused. */
static int refused(struct MHD_Connection *c, const request_t *req, reply_t *r) {
        size_t headers = 0;
        MHD_get_connection_values(c, MHD_HEADER_KIND, sum_header, &headers);
        if (req->uri_len > SB_HTTP_SERVER_MAX_URI)
                *r = error_reply(MHD_HTTP_URI_TOO_LONG, "URI too long");
        else if (headers > SB_HTTP_SERVER_MAX_HEADERS)
                *r = error_reply(MHD_HTTP_REQUEST_HEADER_FIELDS_TOO_LARGE, "request headers too large");
        else if (has_body(c))
                *r = error_reply(MHD_HTTP_CONTENT_TOO_LARGE, "request bodies are not accepted");
        else
                return 0;
        return 1;
}

/* The program's page at `url`, or 404. */
static reply_t page_reply(sb_http_server_t *srv, const char *url) {
        reply_t r = {0, CONTENT_TYPE_JSON, NULL, 0};
        sb_buf_t b;
        sb_buf_init(&b, SB_HTTP_SERVER_MAX_PAGE);
        r.status = srv->page(srv->page_opaque, url, &b, &r.ctype);
        if (r.status == 0) {
                sb_buf_free(&b);
                return error_reply(MHD_HTTP_NOT_FOUND, "not found");
        }
        r.body = (char *)sb_buf_detach(&b, &r.len);
        return r;
}

static reply_t route(sb_http_server_t *srv, const char *url, const char *method) {
        int metrics = strcmp(url, "/metrics") == 0, health = strcmp(url, "/healthz") == 0;
        if (!metrics && !health && !srv->page)
                return error_reply(MHD_HTTP_NOT_FOUND, "not found: try /metrics or /healthz");
        if (strcmp(method, MHD_HTTP_METHOD_GET) != 0 && strcmp(method, MHD_HTTP_METHOD_HEAD) != 0)
                return error_reply(MHD_HTTP_METHOD_NOT_ALLOWED, "method not allowed");
        return metrics ? metrics_reply(srv) : health ? health_reply(srv) : page_reply(srv, url);
}

static enum MHD_Result send_reply(struct MHD_Connection *c, reply_t *r) {
        struct MHD_Response *resp;
        if (r->body)
                resp = MHD_create_response_from_buffer(r->len, r->body, MHD_RESPMEM_MUST_FREE);
        else
                resp = MHD_create_response_from_buffer(0, (void *)"", MHD_RESPMEM_PERSISTENT);
        if (!resp) {
                free(r->body);
                return MHD_NO; /* closes the connection */
        }
        /* A scrape must see the value of now, never a cache's. */
        if (MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, r->ctype) != MHD_YES ||
            MHD_add_response_header(resp, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store") != MHD_YES ||
            (r->status == MHD_HTTP_METHOD_NOT_ALLOWED &&
             MHD_add_response_header(resp, MHD_HTTP_HEADER_ALLOW, ALLOWED) != MHD_YES)) {
                MHD_destroy_response(resp);
                return MHD_NO;
        }
        enum MHD_Result ret = MHD_queue_response(c, r->status, resp);
        MHD_destroy_response(resp);
        return ret;
}

/* Called with the request line, before the headers: the one place that
 * sees the whole URI, query included. */
static void *on_uri(void *cls, const char *uri, struct MHD_Connection *c) {
        request_t *req = calloc(1, sizeof(*req));
        (void)cls, (void)c;
        if (req)
                req->uri_len = strlen(uri);
        return req; /* NULL: on_request refuses the request */
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *c, const char *url, const char *method,
                                  const char *version, const char *upload_data, size_t *upload_data_size,
                                  void **con_cls) {
        sb_http_server_t *srv = cls;
        request_t *req = *con_cls;
        reply_t r;
        (void)version, (void)upload_data;
        if (!req)
                return MHD_NO; /* no memory for its state */
        if (!req->headers_seen) {
                /* The first call, with the headers.  A refusal goes now,
                 * before any body is read (and no 100 Continue invites
                 * one); an answer waits for the next call, when the request
                 * is complete, so that the connection can be kept alive. */
                req->headers_seen = 1;
                if (!refused(c, req, &r))
                        return MHD_YES;
        } else if (*upload_data_size || req->replied) {
                /* A body after a refusal: dropped, and libmicrohttpd
                 * closes the connection after the answer. */
                *upload_data_size = 0;
                return MHD_YES;
        } else {
                r = route(srv, url, method);
        }
        req->replied = 1;
        return send_reply(c, &r);
}

static void on_completed(void *cls, struct MHD_Connection *c, void **con_cls,
                         enum MHD_RequestTerminationCode toe) {
        (void)cls, (void)c, (void)toe;
        free(*con_cls);
        *con_cls = NULL;
}

static void mhd_log(void *cls, const char *fmt, va_list ap) {
        sb_http_server_t *srv = cls;
        char msg[256];
        vsnprintf(msg, sizeof(msg), fmt, ap);
        msg[strcspn(msg, "\n")] = '\0';
        pthread_mutex_lock(&srv->err_lock);
        snprintf(srv->last_error, sizeof(srv->last_error), "%s", msg);
        pthread_mutex_unlock(&srv->err_lock);
        SB_LOG(srv->log, SB_LOG_WARN, "http: %s", msg);
}

/* Counts connections; reaching the limit is logged at most once a minute
 * (the next ones wait in the listen queue until one closes). */
static void on_connection(void *cls, struct MHD_Connection *c, void **socket_context,
                          enum MHD_ConnectionNotificationCode code) {
        sb_http_server_t *srv = cls;
        (void)c, (void)socket_context;
        if (code == MHD_CONNECTION_NOTIFY_CLOSED) {
                srv->connections--;
                return;
        }
        time_t now = time(NULL);
        if (++srv->connections >= srv->max_connections && now >= srv->limit_logged + 60) {
                srv->limit_logged = now;
                SB_LOG(srv->log, SB_LOG_WARN,
                       "http: %u connections, at metrics_max_connections: new ones wait until one closes",
                       srv->connections);
        }
}

/* `host` to its first IPv4 address, else its first IPv6 one, with `port`. */
static sb_err_t resolve(const char *host, unsigned port, struct sockaddr_storage *ss, char *errstr,
                        size_t errstr_size) {
        struct addrinfo hints, *res, *pick = NULL;
        memset(&hints, 0, sizeof(hints));
        hints.ai_socktype = SOCK_STREAM;
        int rc = getaddrinfo(host, NULL, &hints, &res);
        if (rc) {
                sb_seterr(SB_ERR_CONFIG, errstr, errstr_size, "address '%s': %s", host, gai_strerror(rc));
                return SB_ERR_CONFIG;
        }
        for (const struct addrinfo *ai = res; ai; ai = ai->ai_next)
                if ((ai->ai_family == AF_INET && (!pick || pick->ai_family != AF_INET)) ||
                    (ai->ai_family == AF_INET6 && !pick))
                        pick = (struct addrinfo *)ai;
        if (!pick) {
                freeaddrinfo(res);
                sb_seterr(SB_ERR_CONFIG, errstr, errstr_size, "address '%s': no IPv4 or IPv6 address", host);
                return SB_ERR_CONFIG;
        }
        memset(ss, 0, sizeof(*ss));
        memcpy(ss, pick->ai_addr, pick->ai_addrlen);
        if (pick->ai_family == AF_INET)
                ((struct sockaddr_in *)ss)->sin_port = htons((uint16_t)port);
        else
                ((struct sockaddr_in6 *)ss)->sin6_port = htons((uint16_t)port);
        freeaddrinfo(res);
        return SB_OK;
}

sb_err_t sb_http_server_new(const sb_http_server_options_t *opts, sb_http_server_t **out, char *errstr,
                            size_t errstr_size) {
        struct sockaddr_storage ss;
        const char *host = opts->address && *opts->address ? opts->address : "127.0.0.1";
        sb_err_t err;
        *out = NULL;
        if (opts->port > 65535) {
                sb_seterr(SB_ERR_CONFIG, errstr, errstr_size, "port %u is above 65535", opts->port);
                return SB_ERR_CONFIG;
        }
        if ((err = resolve(host, opts->port, &ss, errstr, errstr_size)))
                return err;
        sb_http_server_t *srv = calloc(1, sizeof(*srv));
        if (!srv) {
                sb_seterr(SB_ERR_NOMEM, errstr, errstr_size, "out of memory");
                return SB_ERR_NOMEM;
        }
        if (pthread_mutex_init(&srv->err_lock, NULL)) {
                free(srv);
                {
                        sb_seterr(SB_ERR_NOMEM, errstr, errstr_size, "cannot create a mutex");
                        return SB_ERR_NOMEM;
                }
        }
        srv->metrics = opts->metrics;
        srv->health = opts->health;
        srv->page = opts->page;
        srv->page_opaque = opts->page_opaque;
        srv->more_metrics = opts->more_metrics;
        srv->more_metrics_opaque = opts->more_metrics_opaque;
        srv->health_opaque = opts->health_opaque;
        srv->log = opts->log;
        unsigned connections =
                opts->max_connections ? opts->max_connections : SB_HTTP_SERVER_DEFAULT_CONNECTIONS;
        unsigned timeout = opts->timeout_seconds ? opts->timeout_seconds : SB_HTTP_SERVER_DEFAULT_TIMEOUT;
        srv->max_connections = connections;
        /* One internal thread: the health and gauge callbacks never run
         * twice at once. */
        unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_AUTO | MHD_USE_ERROR_LOG;
        if (ss.ss_family == AF_INET6)
                flags |= MHD_USE_IPv6;
        struct MHD_OptionItem tls[SB_TLS_MHD_OPTIONS] = {{MHD_OPTION_END, 0, NULL}};
        if (opts->tls) {
                sb_tls_mhd_options(opts->tls, tls);
                /* A client CA would make libmicrohttpd ask for client
                 * certificates, which nothing here checks: left out. */
                for (size_t i = 0; i < SB_TLS_MHD_OPTIONS; i++)
                        if (tls[i].option == MHD_OPTION_HTTPS_MEM_TRUST)
                                tls[i] = (struct MHD_OptionItem){MHD_OPTION_END, 0, NULL};
                flags |= MHD_USE_TLS;
        }
        srv->daemon = MHD_start_daemon(
                flags, (uint16_t)opts->port, NULL, NULL, on_request, srv, MHD_OPTION_EXTERNAL_LOGGER, mhd_log,
                srv, /* first, so that it hears about the other options */
                MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&ss, MHD_OPTION_URI_LOG_CALLBACK, on_uri, srv,
                MHD_OPTION_NOTIFY_COMPLETED, on_completed, srv, MHD_OPTION_CONNECTION_MEMORY_LIMIT,
                (size_t)SB_HTTP_SERVER_CONNECTION_MEMORY, MHD_OPTION_CONNECTION_LIMIT, connections,
                MHD_OPTION_CONNECTION_TIMEOUT, timeout, MHD_OPTION_NOTIFY_CONNECTION, on_connection, srv,
                MHD_OPTION_ARRAY, tls, MHD_OPTION_END);
        const union MHD_DaemonInfo *info =
                srv->daemon ? MHD_get_daemon_info(srv->daemon, MHD_DAEMON_INFO_BIND_PORT) : NULL;
        if (!info) {
                pthread_mutex_lock(&srv->err_lock);
                sb_seterr(SB_ERR_IO, errstr, errstr_size, "cannot listen on %s port %u: %s", host, opts->port,
                          *srv->last_error ? srv->last_error : "libmicrohttpd failed");
                pthread_mutex_unlock(&srv->err_lock);
                sb_http_server_destroy(srv);
                return SB_ERR_IO;
        }
        srv->port = info->port;
        *out = srv;
        return SB_OK;
}

unsigned sb_http_server_port(const sb_http_server_t *srv) { return srv->port; }

void sb_http_server_destroy(sb_http_server_t *srv) {
        if (!srv)
                return;
        if (srv->daemon)
                MHD_stop_daemon(srv->daemon);
        sb_tls_destroy(srv->own_tls);
        pthread_mutex_destroy(&srv->err_lock);
        free(srv);
}

sb_err_t sb_http_server_parse_listen(const char *text, char *host, size_t host_size, unsigned *port,
                                     char *errstr, size_t errstr_size) {
        const char *colon, *h = text;
        size_t hlen;
        if (!text || !*text) {
                sb_seterr(SB_ERR_CONFIG, errstr, errstr_size, "empty: expected host:port");
                return SB_ERR_CONFIG;
        }
        if (text[0] == '[') {
                const char *close = strchr(text, ']');
                if (!close || close[1] != ':') {
                        sb_seterr(SB_ERR_CONFIG, errstr, errstr_size, "'%s' is not [ipv6-address]:port",
                                  text);
                        return SB_ERR_CONFIG;
                }
                h = text + 1;
                hlen = (size_t)(close - h);
                colon = close + 1;
        } else {
                colon = strrchr(text, ':');
                if (!colon) {
                        sb_seterr(SB_ERR_CONFIG, errstr, errstr_size,
                                  "'%s' has no port: expected host:port, such as 127.0.0.1:9464", text);
                        return SB_ERR_CONFIG;
                }
                if (memchr(text, ':', (size_t)(colon - text))) {
                        sb_seterr(SB_ERR_CONFIG, errstr, errstr_size,
                                  "'%s': write an IPv6 address in brackets, as [::1]:9464", text);
                        return SB_ERR_CONFIG;
                }
                hlen = (size_t)(colon - text);
        }
        if (hlen == 0) {
                sb_seterr(SB_ERR_CONFIG, errstr, errstr_size,
                          "'%s' has no host: name it, 127.0.0.1 for this machine only or 0.0.0.0 for "
                          "every interface",
                          text);
                return SB_ERR_CONFIG;
        }
        if (hlen >= host_size) {
                sb_seterr(SB_ERR_CONFIG, errstr, errstr_size, "'%s': the host is too long", text);
                return SB_ERR_CONFIG;
        }
        const char *digits = colon + 1;
        unsigned long p = 0;
        size_t n = strspn(digits, "0123456789");
        if (n == 0 || digits[n] != '\0' || n > 5 || (p = strtoul(digits, NULL, 10)) > 65535) {
                sb_seterr(SB_ERR_CONFIG, errstr, errstr_size, "'%s': the port must be 0 to 65535", text);
                return SB_ERR_CONFIG;
        }
        memcpy(host, h, hlen);
        host[hlen] = '\0';
        *port = (unsigned)p;
        return SB_OK;
}

sb_err_t sb_http_server_from_config(const sb_config_t *cfg, sb_metrics_t *metrics,
                                    sb_http_server_health_fn health, void *health_opaque, sb_log_t *log,
                                    sb_http_server_t **out, char *errstr, size_t errstr_size) {
        sb_http_server_options_t base = {
                .metrics = metrics, .health = health, .health_opaque = health_opaque, .log = log};
        return sb_http_server_from_config_with(cfg, &base, out, errstr, errstr_size);
}

/* The TLS of metrics_tls_cert_file and metrics_tls_key_file into *out
 * (NULL when neither is set, or the table has neither). */
static sb_err_t tls_from_config(const sb_config_t *cfg, sb_tls_t **out, char *errstr, size_t errstr_size) {
        const char *cert = sb_config_string(cfg, "metrics_tls_cert_file"),
                   *key = sb_config_string(cfg, "metrics_tls_key_file");
        int has_cert = cert && *cert, has_key = key && *key;
        char inner[512];
        *out = NULL;
        if (!has_cert && !has_key)
                return SB_OK;
        const sb_tls_files_t files = {.cert_file = cert,
                                      .key_file = key,
                                      .cert_setting = "metrics_tls_cert_file",
                                      .key_setting = "metrics_tls_key_file"};
        sb_err_t err = sb_tls_new(&files, out, inner, sizeof(inner));
        if (!err)
                return SB_OK;
        if (has_cert != has_key) { /* one without the other: the line of the one there */
                const char *set = has_cert ? "metrics_tls_cert_file" : "metrics_tls_key_file";
                int line = sb_config_line(cfg, set);
                char where[32] = "";
                if (line > 0)
                        snprintf(where, sizeof(where), ":%d", line);
                return sb_seterr(err, errstr, errstr_size, "%s%s: setting '%s': %s", sb_config_origin(cfg),
                                 where, set, inner);
        }
        return sb_seterr(err, errstr, errstr_size, "%s: %s", sb_config_origin(cfg), inner);
}

sb_err_t sb_http_server_from_config_with(const sb_config_t *cfg, const sb_http_server_options_t *base,
                                         sb_http_server_t **out, char *errstr, size_t errstr_size) {
        sb_log_t *log = base->log;
        const char *listen = sb_config_string(cfg, "metrics_listen");
        char where[64] = "", host[256], inner[512];
        unsigned port;
        sb_err_t err;
        sb_tls_t *tls = NULL;
        *out = NULL;
        if (!listen || !*listen) {
                const char *cert = sb_config_string(cfg, "metrics_tls_cert_file"),
                           *key = sb_config_string(cfg, "metrics_tls_key_file");
                if ((cert && *cert) || (key && *key))
                        SB_LOG(log, SB_LOG_WARN,
                               "%s: metrics_tls_cert_file and metrics_tls_key_file are "
                               "unused: metrics_listen is empty (no HTTP server)",
                               sb_config_origin(cfg));
                return SB_OK;
        }
        int line = sb_config_line(cfg, "metrics_listen");
        if (line > 0)
                snprintf(where, sizeof(where), ":%d", line);
        if (sb_http_server_parse_listen(listen, host, sizeof(host), &port, inner, sizeof(inner)))
                return sb_seterr(SB_ERR_CONFIG, errstr, errstr_size, "%s%s: setting 'metrics_listen': %s",
                                 sb_config_origin(cfg), where, inner);
        sb_http_server_options_t opts = *base;
        opts.address = host;
        opts.port = port;
        if (!opts.max_connections) /* 0 (the default) for a table without the setting */
                opts.max_connections = (unsigned)sb_config_int(cfg, "metrics_max_connections");
        if ((err = tls_from_config(cfg, &tls, errstr, errstr_size)))
                return err;
        if (tls)
                opts.tls = tls;
        if ((err = sb_http_server_new(&opts, out, inner, sizeof(inner)))) {
                sb_tls_destroy(tls);
                return sb_seterr(err, errstr, errstr_size, "%s%s: setting 'metrics_listen': %s",
                                 sb_config_origin(cfg), where, inner);
        }
        (*out)->own_tls = tls;
        /* Without TLS the line is as it always was (scripts read the port
         * off its end); with it, a URL. */
        SB_LOG(log, SB_LOG_INFO, "serving /metrics and /healthz on %s%s%s%s:%u", opts.tls ? "https://" : "",
               strchr(host, ':') ? "[" : "", host, strchr(host, ':') ? "]" : "", sb_http_server_port(*out));
        return SB_OK;
}

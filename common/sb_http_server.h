/*
 * sb_http_server: the small HTTP server of every sharebus daemon, for
 * operators and their monitoring: GET /metrics (an sb_metrics_t in the
 * Prometheus text format 0.0.4) and GET /healthz (200 {"status":"ok"} or
 * 503 {"status":"unhealthy","reason":"..."}, from a callback of the
 * program's).  HEAD works on both.  It runs one libmicrohttpd thread of its
 * own; the program's main loop never waits on it.
 *
 * A program may add pages of its own (GET and HEAD of other paths, through
 * the options' page callback: sharebus-lag's API and dashboard) and series
 * it renders itself to /metrics (more_metrics).
 *
 * Everything else is refused with a JSON body {"error":"..."}: another path
 * 404, another method 405 with "Allow: GET, HEAD", a request with a body 413
 * (nothing here takes one; refused from its headers, before it is read), a
 * URI longer than SB_HTTP_SERVER_MAX_URI 414, request headers longer than
 * SB_HTTP_SERVER_MAX_HEADERS 431.  Past those, libmicrohttpd's own limit
 * (SB_HTTP_SERVER_CONNECTION_MEMORY per connection) answers, without JSON.
 * At most max_connections are served at once (more wait in the listen
 * queue until one closes; reaching it is logged, at most once a minute),
 * and a connection idle for timeout_seconds is closed, so a slow or stuck
 * scraper cannot pile up.
 *
 * It listens on 127.0.0.1 unless told otherwise: the metrics name datasets
 * and departments, which is for the monitoring network, not the world.
 * Given a certificate and its key (the options' tls, sb_tls.h; settings
 * metrics_tls_cert_file and metrics_tls_key_file) it speaks HTTPS only: a
 * plain HTTP request fails its handshake and is closed unanswered.
 *
 * A program configures it with the settings of SB_METRICS_SETTINGS:
 * metrics_listen and SB_HTTP_SERVER_SETTINGS (metrics_max_connections,
 * metrics_tls_cert_file, metrics_tls_key_file), which a table with its own
 * metrics_listen row (sharebus-lag's) includes alone:
 *     metrics_listen = "127.0.0.1:9464";   # this machine only
 *     metrics_listen = "0.0.0.0:9464";     # every IPv4 interface
 *     metrics_listen = "[::1]:9464";       # IPv6 loopback
 *     metrics_listen = "127.0.0.1:0";      # a free port, logged at start (tests)
 *     metrics_listen = "";                 # (the default) no HTTP server
 * Off by default, because several daemons on one machine (a producer per
 * department) would otherwise fight over one default port; 9464 is the
 * port commonly used for a Prometheus exporter when none is assigned.
 */
#ifndef SB_HTTP_SERVER_H
#define SB_HTTP_SERVER_H

#include <stddef.h>

#include "sb_config.h"
#include "sb_error.h"
#include "sb_log.h"
#include "sb_metrics.h"
#include "sb_tls.h"

#define SB_HTTP_SERVER_MAX_URI 2048                        /* bytes of path and query: 414 past it */
#define SB_HTTP_SERVER_MAX_HEADERS 8192                    /* bytes of all request headers: 431 past it */
#define SB_HTTP_SERVER_CONNECTION_MEMORY (64 * 1024)       /* libmicrohttpd's per connection */
#define SB_HTTP_SERVER_MAX_METRICS_TEXT (16 * 1024 * 1024) /* a /metrics body: 500 past it */
#define SB_HTTP_SERVER_MAX_REASON 256                      /* bytes of a health reason, with its NUL */
#define SB_HTTP_SERVER_MAX_PAGE (16 * 1024 * 1024)         /* a page's body: 500 past it */
#define SB_HTTP_SERVER_DEFAULT_CONNECTIONS 16
#define SB_HTTP_SERVER_MAX_CONNECTIONS 1024 /* the upper bound of metrics_max_connections */
#define SB_HTTP_SERVER_DEFAULT_TIMEOUT 10   /* seconds */

/* The program's health.  Returns non-zero when healthy; else writes why
 * into `reason` (NUL-terminated, `reason_size` bytes, e.g. "kafka: all
 * brokers down for 30 s") and returns 0.  Called from the server's thread
 * for each /healthz request, one at a time, with the `health_opaque` of the
 * options: it must be quick and thread-safe against the program. */
typedef int (*sb_http_server_health_fn)(void *opaque, char *reason, size_t reason_size);

/* A program's own page (sharebus-lag's API and dashboard): called from the
 * server's thread for a GET or HEAD of any path but /metrics and /healthz
 * (`path` without the query), it appends the body to `body` (bounded by
 * SB_HTTP_SERVER_MAX_PAGE), sets *content_type (a static string) and
 * returns the HTTP status; 0 for "no such page" (404 with a JSON error).
 * It must be thread-safe against the program. */
typedef unsigned (*sb_http_server_page_fn)(void *opaque, const char *path, sb_buf_t *body,
                                           const char **content_type);
/* More of /metrics: appends Prometheus text after the set's (series a
 * program renders itself, more than an sb_metrics set holds).  SB_OK, or
 * an error that answers 500.  Same thread rules as the page callback. */
typedef sb_err_t (*sb_http_server_metrics_fn)(void *opaque, sb_buf_t *out);

typedef struct {
        /* Address to listen on: an IPv4 or IPv6 literal or a host name (its
         * first IPv4 address, else its first IPv6 one).  NULL or "" is
         * 127.0.0.1. */
        const char *address;
        /* 0 picks a free port; sb_http_server_port() tells which. */
        unsigned port;
        /* Rendered at each GET /metrics; not owned, must outlive the server.
         * NULL: /metrics answers an empty text. */
        sb_metrics_t *metrics;
        /* NULL: always healthy. */
        sb_http_server_health_fn health;
        void *health_opaque;
        /* Where libmicrohttpd's complaints go (warn); not owned, may be NULL. */
        sb_log_t *log;
        /* 0: SB_HTTP_SERVER_DEFAULT_CONNECTIONS, _DEFAULT_TIMEOUT. */
        unsigned max_connections;
        unsigned timeout_seconds;
        /* NULL: none (every other path 404). */
        sb_http_server_page_fn page;
        void *page_opaque;
        sb_http_server_metrics_fn more_metrics;
        void *more_metrics_opaque;
        /* NULL: plain HTTP.  Else HTTPS only, with its certificate and key
         * (a client CA in it is ignored: no client certificates are asked
         * for); not owned, must outlive the server. */
        const sb_tls_t *tls;
} sb_http_server_options_t;

typedef struct sb_http_server_s sb_http_server_t;

/* Starts a server with `opts` (copied; the pointers in it are not owned).
 * On success *out serves until sb_http_server_destroy.  Errors (*out NULL):
 * SB_ERR_CONFIG for a port above 65535 or an address that does not
 * resolve; SB_ERR_IO if it cannot listen (the port is taken, say, or this
 * libmicrohttpd has no TLS), errstr saying why; SB_ERR_NOMEM. */
sb_err_t sb_http_server_new(const sb_http_server_options_t *opts, sb_http_server_t **out, char *errstr,
                            size_t errstr_size);
/* The port it listens on (the real one when the options said 0). */
unsigned sb_http_server_port(const sb_http_server_t *srv);
/* Stops serving (connections in flight are closed) and frees the server;
 * after it returns no callback runs.  NULL is a no-op. */
void sb_http_server_destroy(sb_http_server_t *srv);

/* Splits "host:port" or "[v6-address]:port" into `host` (host_size bytes,
 * without the brackets) and *port (0 to 65535).  SB_ERR_CONFIG, errstr
 * saying what is wrong, for anything else, including ":9464" (name the
 * address: 127.0.0.1 or 0.0.0.0). */
sb_err_t sb_http_server_parse_listen(const char *text, char *host, size_t host_size, unsigned *port,
                                     char *errstr, size_t errstr_size);

/* Rows for a program's sb_setting_t table. */
/* clang-format off */
#define SB_METRICS_SETTINGS                                                                                  \
        {"metrics_listen", SB_SETTING_STRING, 0, "", 0, 0,                                                   \
         "host:port to serve Prometheus metrics (GET /metrics) and health (GET /healthz) on, e.g. "         \
         "127.0.0.1:9464 for this machine only, 0.0.0.0:9464 for every interface, [::1]:9464; port 0 "      \
         "picks a free one (logged at start); empty: no HTTP server"},                                     \
        SB_HTTP_SERVER_SETTINGS
#define SB_HTTP_SERVER_SETTINGS                                                                              \
        SB_HTTP_SERVER_CONNECTIONS_SETTING,                                                                  \
        SB_HTTP_SERVER_TLS_SETTINGS
#define SB_HTTP_SERVER_TLS_SETTINGS                                                                          \
        {"metrics_tls_cert_file", SB_SETTING_STRING, 0, "", 0, 0,                                            \
         "PEM certificate (chain) of the metrics_listen server; with metrics_tls_key_file it is served "    \
         "over HTTPS only; empty: plain HTTP"},                                                              \
        {"metrics_tls_key_file", SB_SETTING_STRING, 0, "", 0, 0,                                             \
         "PEM private key of metrics_tls_cert_file (not encrypted)"}
#define SB_HTTP_SERVER_CONNECTIONS_SETTING                                                                   \
        {"metrics_max_connections", SB_SETTING_INT, 0, "16", 1, 1024,                                        \
         "most connections to the metrics_listen server at once; more wait until one closes (an idle one "   \
         "is closed after 10 s), and reaching it is logged"}
/* clang-format on */

/* Starts the server of a program from `cfg` (loaded with a table holding
 * SB_METRICS_SETTINGS), serving `metrics` and `health` (as in the options;
 * not owned).  With metrics_listen empty, returns SB_OK and *out NULL (no
 * server; sb_http_server_destroy(NULL) is fine).  Else *out is a new
 * server, and the address it serves on is logged at info on `log`
 * ("https://host:port" with TLS).  With metrics_tls_cert_file and
 * metrics_tls_key_file it serves HTTPS; the server owns the sb_tls handle
 * it reads them into.  Errors (*out NULL): SB_ERR_CONFIG, errstr
 * "file:line: setting 'metrics_listen': ..." (exit 2), or "file: " and
 * sb_tls_new's error naming the TLS setting and file ("file:line: setting
 * 'metrics_tls_cert_file': TLS needs both ..." for one without the other);
 * SB_ERR_IO when it cannot listen, errstr naming the setting too;
 * SB_ERR_NOMEM. */
sb_err_t sb_http_server_from_config(const sb_config_t *cfg, sb_metrics_t *metrics,
                                    sb_http_server_health_fn health, void *health_opaque, sb_log_t *log,
                                    sb_http_server_t **out, char *errstr, size_t errstr_size);
/* The same with every option but the address and port (taken from
 * metrics_listen) from `base` (copied), and the TLS too when
 * metrics_tls_cert_file or metrics_tls_key_file is set: for a program with
 * pages or more metrics. */
sb_err_t sb_http_server_from_config_with(const sb_config_t *cfg, const sb_http_server_options_t *base,
                                         sb_http_server_t **out, char *errstr, size_t errstr_size);

#endif

/*
 * test_http_server: sb_http_server on 127.0.0.1 and a free port, fetched
 * with libcurl: /metrics and /healthz, HEAD, and every refusal (404, 405
 * with Allow, 413 for a body, 414, 431) with its JSON body; listening
 * errors; metrics_listen parsing and the server built from a config.
 */
#include <check.h>
#include <curl/curl.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "sb_buf.h"
#include "sb_config.h"
#include "sb_http_server.h"
#include "sb_metrics.h"
#include "testutil.h"

typedef struct {
        long status;
        char ctype[128];
        char allow[128];
        char cache[64];
        long content_length; /* -1 without the header */
        sb_buf_t body;
} reply_t;

/* What the health callback answers: healthy unless `reason` is set. */
typedef struct {
        const char *reason;
        int calls;
} health_t;

static sb_metrics_t *metrics;
static sb_metrics_counter_t *events;
static health_t health;
static sb_http_server_t *srv;

static int health_cb(void *opaque, char *reason, size_t size) {
        health_t *h = opaque;
        h->calls++;
        if (!h->reason)
                return 1;
        snprintf(reason, size, "%s", h->reason);
        return 0;
}

static void start_with(sb_http_server_options_t *opts) {
        TEST_CALL(sb_http_server_new(opts, &srv, TEST_ERR));
}

static void setup(void) {
        static const sb_metrics_label_t ds[] = {{"dataset", "market.business_license"}};
        TEST_CALL(sb_metrics_new(&metrics, TEST_ERR));
        TEST_CALL(sb_metrics_register_counter(metrics, "sharebus_events_total", "Events \"published\".", ds,
                                              1, &events, TEST_ERR));
        health = (health_t){NULL, 0};
        sb_http_server_options_t opts = {.metrics = metrics, .health = health_cb, .health_opaque = &health};
        start_with(&opts);
        ck_assert_uint_ne(sb_http_server_port(srv), 0);
}

static void teardown(void) {
        sb_http_server_destroy(srv);
        srv = NULL;
        sb_metrics_destroy(metrics);
        metrics = NULL;
}

static size_t on_body(char *p, size_t size, size_t n, void *arg) {
        return sb_buf_append(arg, p, size * n) ? 0 : size * n;
}

/* Copies the value of header `name` of `line` into out, if it is it. */
static void grab(const char *line, size_t len, const char *name, char *out, size_t size) {
        size_t n = strlen(name);
        if (len <= n || strncasecmp(line, name, n) != 0)
                return;
        const char *v = line + n;
        size_t vlen = len - n;
        while (vlen && (*v == ' '))
                v++, vlen--;
        while (vlen && (v[vlen - 1] == '\r' || v[vlen - 1] == '\n'))
                vlen--;
        snprintf(out, size, "%.*s", (int)vlen, v);
}

static size_t on_header(char *p, size_t size, size_t n, void *arg) {
        reply_t *r = arg;
        char cl[32] = "";
        grab(p, size * n, "Allow:", r->allow, sizeof(r->allow));
        grab(p, size * n, "Cache-Control:", r->cache, sizeof(r->cache));
        grab(p, size * n, "Content-Length:", cl, sizeof(cl));
        if (*cl)
                r->content_length = strtol(cl, NULL, 10);
        return size * n;
}

/* `method` `path` to the server; `extra` a request header line or NULL;
 * `body` sent with its length (or chunked, if `chunked`) unless NULL.
 * The caller sb_buf_frees r->body. */
static void fetch(unsigned port, const char *method, const char *path, const char *extra, const char *body,
                  int chunked, reply_t *r) {
        char url[4096];
        CURL *curl = curl_easy_init();
        struct curl_slist *headers = NULL;
        ck_assert_ptr_nonnull(curl);
        memset(r, 0, sizeof(*r));
        r->content_length = -1;
        sb_buf_init(&r->body, 1 << 20);
        snprintf(url, sizeof(url), "http://127.0.0.1:%u%s", port, path);
        headers = curl_slist_append(headers, "Expect:");
        if (extra)
                headers = curl_slist_append(headers, extra);
        if (chunked)
                headers = curl_slist_append(headers, "Transfer-Encoding: chunked");
        curl_easy_setopt(curl, CURLOPT_URL, url);
        curl_easy_setopt(curl, CURLOPT_HTTPHEADER, headers);
        if (strcmp(method, "HEAD") == 0)
                curl_easy_setopt(curl, CURLOPT_NOBODY, 1L);
        else
                curl_easy_setopt(curl, CURLOPT_CUSTOMREQUEST, method);
        if (body) {
                curl_easy_setopt(curl, CURLOPT_POSTFIELDS, body);
                if (!chunked)
                        curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)strlen(body));
        }
        curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, on_body);
        curl_easy_setopt(curl, CURLOPT_WRITEDATA, &r->body);
        curl_easy_setopt(curl, CURLOPT_HEADERFUNCTION, on_header);
        curl_easy_setopt(curl, CURLOPT_HEADERDATA, r);
        curl_easy_setopt(curl, CURLOPT_TIMEOUT, 30L);
        CURLcode rc = curl_easy_perform(curl);
        ck_assert_msg(rc == CURLE_OK, "%s %s: %s", method, path, curl_easy_strerror(rc));
        char *ct = NULL;
        curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &r->status);
        curl_easy_getinfo(curl, CURLINFO_CONTENT_TYPE, &ct);
        snprintf(r->ctype, sizeof(r->ctype), "%s", ct ? ct : "(none)");
        ck_assert_int_eq(sb_buf_append(&r->body, "", 0), SB_OK); /* never NULL */
        curl_slist_free_all(headers);
        curl_easy_cleanup(curl);
}

static void get(const char *method, const char *path, reply_t *r) {
        fetch(sb_http_server_port(srv), method, path, NULL, NULL, 0, r);
}

#define BODY(r) ((const char *)(r).body.data)

/* The answer must be `status` with JSON body `json`. */
static void assert_json(const reply_t *r, long status, const char *json) {
        ck_assert_msg(r->status == status, "status %ld, want %ld; body %s", r->status, status, BODY(*r));
        ck_assert_str_eq(r->ctype, "application/json");
        ck_assert_str_eq(BODY(*r), json);
}

START_TEST(test_metrics_body_and_content_type) {
        reply_t r;
        const char *want = "# HELP sharebus_events_total Events \"published\".\n"
                           "# TYPE sharebus_events_total counter\n"
                           "sharebus_events_total{dataset=\"market.business_license\"} %d\n";
        char text[512];
        for (int n = 0; n < 3; n++) {
                get("GET", "/metrics", &r);
                ck_assert_int_eq(r.status, 200);
                ck_assert_str_eq(r.ctype, "text/plain; version=0.0.4; charset=utf-8");
                ck_assert_str_eq(r.cache, "no-store");
                snprintf(text, sizeof(text), want, n * 5);
                ck_assert_str_eq(BODY(r), text);
                sb_buf_free(&r.body);
                sb_metrics_counter_add(events, 5);
        }
        /* A query does not change the path. */
        get("GET", "/metrics?name[]=x", &r);
        ck_assert_int_eq(r.status, 200);
        sb_buf_free(&r.body);
}
END_TEST

static double answer(void *opaque) { return *(const double *)opaque; }

START_TEST(test_metrics_callback_gauge_served) {
        double age = 12.5;
        reply_t r;
        TEST_CALL(sb_metrics_register_gauge_fn(metrics, "outbox_oldest_unsent_seconds", "Age.", NULL, 0,
                                               answer, &age, TEST_ERR));
        get("GET", "/metrics", &r);
        ck_assert_ptr_nonnull(strstr(BODY(r), "\noutbox_oldest_unsent_seconds 12.5\n"));
        sb_buf_free(&r.body);
        age = 0;
        get("GET", "/metrics", &r);
        ck_assert_ptr_nonnull(strstr(BODY(r), "\noutbox_oldest_unsent_seconds 0\n"));
        sb_buf_free(&r.body);
}
END_TEST

START_TEST(test_head_has_headers_without_body) {
        reply_t g, h;
        get("GET", "/metrics", &g);
        get("HEAD", "/metrics", &h);
        ck_assert_int_eq(h.status, 200);
        ck_assert_str_eq(h.ctype, "text/plain; version=0.0.4; charset=utf-8");
        ck_assert_uint_eq(h.body.len, 0);
        ck_assert_int_eq(h.content_length, (long)g.body.len);
        sb_buf_free(&g.body);
        sb_buf_free(&h.body);
        get("HEAD", "/healthz", &h);
        ck_assert_int_eq(h.status, 200);
        ck_assert_str_eq(h.ctype, "application/json");
        ck_assert_uint_eq(h.body.len, 0);
        ck_assert_int_eq(h.content_length, (long)strlen("{\"status\":\"ok\"}"));
        sb_buf_free(&h.body);
}
END_TEST

START_TEST(test_healthz_ok_and_unhealthy_with_reason) {
        reply_t r;
        get("GET", "/healthz", &r);
        assert_json(&r, 200, "{\"status\":\"ok\"}");
        ck_assert_str_eq(r.cache, "no-store");
        sb_buf_free(&r.body);
        health.reason = "kafka: all brokers \"down\" for 30 s";
        get("GET", "/healthz", &r);
        assert_json(&r, 503,
                    "{\"status\":\"unhealthy\",\"reason\":\"kafka: all brokers \\\"down\\\" for 30 s\"}");
        sb_buf_free(&r.body);
        health.reason = NULL;
        get("GET", "/healthz", &r);
        assert_json(&r, 200, "{\"status\":\"ok\"}");
        sb_buf_free(&r.body);
        ck_assert_int_eq(health.calls, 3);
}
END_TEST

START_TEST(test_healthz_reason_empty_long_or_not_utf8) {
        reply_t r;
        health.reason = "";
        get("GET", "/healthz", &r);
        assert_json(&r, 503, "{\"status\":\"unhealthy\",\"reason\":\"no reason given\"}");
        sb_buf_free(&r.body);
        health.reason = "db \xff\xfe gone";
        get("GET", "/healthz", &r);
        assert_json(&r, 503, "{\"status\":\"unhealthy\",\"reason\":\"db ?? gone\"}");
        sb_buf_free(&r.body);
        /* Cut to the buffer the server gives. */
        char *longer = malloc(1000);
        ck_assert_ptr_nonnull(longer);
        memset(longer, 'x', 999);
        longer[999] = '\0';
        health.reason = longer;
        get("GET", "/healthz", &r);
        ck_assert_int_eq(r.status, 503);
        char want[SB_HTTP_SERVER_MAX_REASON + 64];
        snprintf(want, sizeof(want), "{\"status\":\"unhealthy\",\"reason\":\"%.*s\"}",
                 SB_HTTP_SERVER_MAX_REASON - 1, longer);
        ck_assert_str_eq(BODY(r), want);
        sb_buf_free(&r.body);
        free(longer);
}
END_TEST

START_TEST(test_no_health_callback_is_healthy_and_no_metrics_is_empty) {
        sb_http_server_destroy(srv);
        sb_http_server_options_t opts = {.address = "127.0.0.1", .max_connections = 2, .timeout_seconds = 5};
        start_with(&opts);
        reply_t r;
        get("GET", "/healthz", &r);
        assert_json(&r, 200, "{\"status\":\"ok\"}");
        sb_buf_free(&r.body);
        get("GET", "/metrics", &r);
        ck_assert_int_eq(r.status, 200);
        ck_assert_str_eq(r.ctype, "text/plain; version=0.0.4; charset=utf-8");
        ck_assert_str_eq(BODY(r), "");
        sb_buf_free(&r.body);
}
END_TEST

/* Two scrapes on one curl handle: the second reuses the connection
 * (answers wait for the whole request, so keep-alive is possible). */
START_TEST(test_connection_is_kept_alive) {
        char url[64];
        sb_buf_t body;
        long connects = -1;
        CURL *curl = curl_easy_init();
        ck_assert_ptr_nonnull(curl);
        sb_buf_init(&body, 1 << 20);
        snprintf(url, sizeof(url), "http://127.0.0.1:%u/metrics", sb_http_server_port(srv));
        curl_easy_setopt(curl, CURLOPT_URL, url);
        curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, on_body);
        curl_easy_setopt(curl, CURLOPT_WRITEDATA, &body);
        curl_easy_setopt(curl, CURLOPT_TIMEOUT, 30L);
        for (int i = 0; i < 2; i++) {
                ck_assert_int_eq(curl_easy_perform(curl), CURLE_OK);
                curl_easy_getinfo(curl, CURLINFO_NUM_CONNECTS, &connects);
                ck_assert_int_eq(connects, i == 0 ? 1 : 0);
        }
        sb_buf_free(&body);
        curl_easy_cleanup(curl);
}
END_TEST

START_TEST(test_other_paths_are_404) {
        static const char *const paths[] = {"/",          "/metricsx", "/metrics/",
                                            "/healthz/x", "/Metrics",  "/x?y=1"};
        for (size_t i = 0; i < sizeof(paths) / sizeof(paths[0]); i++) {
                reply_t r;
                get("GET", paths[i], &r);
                assert_json(&r, 404, "{\"error\":\"not found: try /metrics or /healthz\"}");
                sb_buf_free(&r.body);
        }
        reply_t r;
        get("DELETE", "/nowhere", &r); /* the path first */
        ck_assert_int_eq(r.status, 404);
        sb_buf_free(&r.body);
}
END_TEST

/* A program's pages and its own part of /metrics. */
static unsigned page_cb(void *opaque, const char *path, sb_buf_t *body, const char **content_type) {
        int *calls = opaque;
        (*calls)++;
        if (strcmp(path, "/api/v1/groups") == 0) {
                *content_type = "application/json";
                return sb_buf_printf(body, "{\"groups\":[]}") ? 500 : 200;
        }
        if (strcmp(path, "/big") == 0) { /* the page's body is bounded */
                size_t n = 0;
                while (sb_buf_append(body, "xxxxxxxxxxxxxxxx", 16) == SB_OK)
                        n += 16;
                sb_buf_reset(body);
                *content_type = "application/json";
                sb_buf_printf(body, "{\"error\":\"%zu bytes at most\"}", n);
                return 500;
        }
        return 0;
}

static sb_err_t more_metrics_cb(void *opaque, sb_buf_t *out) {
        (void)opaque;
        return sb_buf_printf(
                out, "# TYPE sharebus_consumergroup_lag gauge\nsharebus_consumergroup_lag{group=\"g\"} 7\n");
}

START_TEST(test_program_pages_and_more_metrics) {
        int calls = 0;
        sb_http_server_t *own = NULL;
        sb_http_server_options_t opts = {.address = "127.0.0.1", .metrics = metrics};
        opts.page = page_cb;
        opts.page_opaque = &calls;
        opts.more_metrics = more_metrics_cb;
        TEST_CALL(sb_http_server_new(&opts, &own, TEST_ERR));
        unsigned port = sb_http_server_port(own);
        reply_t r;
        /* The query is not part of the path the page sees. */
        fetch(port, "GET", "/api/v1/groups?x=1", NULL, NULL, 0, &r);
        ck_assert_int_eq(r.status, 200);
        ck_assert_str_eq(r.ctype, "application/json");
        ck_assert_str_eq(BODY(r), "{\"groups\":[]}");
        sb_buf_free(&r.body);
        fetch(port, "GET", "/nothing", NULL, NULL, 0, &r);
        assert_json(&r, 404, "{\"error\":\"not found\"}");
        sb_buf_free(&r.body);
        fetch(port, "POST", "/api/v1/groups", NULL, NULL, 0, &r);
        ck_assert_int_eq(r.status, 405);
        sb_buf_free(&r.body);
        fetch(port, "GET", "/big", NULL, NULL, 0, &r);
        char want[64];
        snprintf(want, sizeof(want), "{\"error\":\"%d bytes at most\"}", SB_HTTP_SERVER_MAX_PAGE);
        assert_json(&r, 500, want);
        sb_buf_free(&r.body);
        ck_assert_int_eq(calls, 3); /* not for the refused method */
        /* /metrics: the set's series, then the program's. */
        sb_metrics_counter_add(events, 3);
        fetch(port, "GET", "/metrics", NULL, NULL, 0, &r);
        ck_assert_int_eq(r.status, 200);
        const char *set = strstr(BODY(r), "sharebus_events_total{dataset=\"market.business_license\"} 3\n");
        const char *more = strstr(BODY(r), "sharebus_consumergroup_lag{group=\"g\"} 7\n");
        ck_assert_msg(set && more && set < more, "%s", BODY(r));
        sb_buf_free(&r.body);
        /* /healthz is still the server's. */
        fetch(port, "GET", "/healthz", NULL, NULL, 0, &r);
        assert_json(&r, 200, "{\"status\":\"ok\"}");
        sb_buf_free(&r.body);
        sb_http_server_destroy(own);
}
END_TEST

START_TEST(test_other_methods_are_405_with_allow) {
        static const char *const methods[] = {"POST", "PUT", "DELETE", "PATCH", "OPTIONS"};
        for (size_t i = 0; i < sizeof(methods) / sizeof(methods[0]); i++) {
                for (int p = 0; p < 2; p++) {
                        reply_t r;
                        get(methods[i], p ? "/healthz" : "/metrics", &r);
                        assert_json(&r, 405, "{\"error\":\"method not allowed\"}");
                        ck_assert_str_eq(r.allow, "GET, HEAD");
                        sb_buf_free(&r.body);
                }
        }
        reply_t r;
        get("GET", "/metrics", &r);
        ck_assert_str_eq(r.allow, ""); /* only on a 405 */
        sb_buf_free(&r.body);
}
END_TEST

START_TEST(test_request_bodies_are_413) {
        static const struct {
                const char *method;
                int chunked;
        } cases[] = {{"POST", 0}, {"GET", 0}, {"POST", 1}, {"PUT", 0}};
        for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
                reply_t r;
                fetch(sb_http_server_port(srv), cases[i].method, "/metrics", NULL, "{\"reset\":true}",
                      cases[i].chunked, &r);
                assert_json(&r, 413, "{\"error\":\"request bodies are not accepted\"}");
                sb_buf_free(&r.body);
        }
        /* An empty body is none. */
        reply_t r;
        fetch(sb_http_server_port(srv), "GET", "/metrics", "Content-Length: 0", NULL, 0, &r);
        ck_assert_int_eq(r.status, 200);
        sb_buf_free(&r.body);
        /* The counter was not touched, the server still serves. */
        ck_assert_uint_eq(sb_metrics_counter_value(events), 0);
        get("GET", "/healthz", &r);
        ck_assert_int_eq(r.status, 200);
        sb_buf_free(&r.body);
}
END_TEST

START_TEST(test_oversized_headers_are_431_json) {
        size_t n = SB_HTTP_SERVER_MAX_HEADERS + 100;
        char *line = malloc(n + 16);
        ck_assert_ptr_nonnull(line);
        memcpy(line, "X-Big: ", 7);
        memset(line + 7, 'a', n);
        line[7 + n] = '\0';
        reply_t r;
        fetch(sb_http_server_port(srv), "GET", "/metrics", line, NULL, 0, &r);
        assert_json(&r, 431, "{\"error\":\"request headers too large\"}");
        sb_buf_free(&r.body);
        /* Just under the bound is served (curl adds Host, Accept: ~50 bytes). */
        line[7 + SB_HTTP_SERVER_MAX_HEADERS - 200] = '\0';
        fetch(sb_http_server_port(srv), "GET", "/metrics", line, NULL, 0, &r);
        ck_assert_int_eq(r.status, 200);
        sb_buf_free(&r.body);
        free(line);
}
END_TEST

START_TEST(test_headers_past_connection_memory_are_refused_by_mhd) {
        size_t n = SB_HTTP_SERVER_CONNECTION_MEMORY + 1000;
        char *line = malloc(n + 16);
        ck_assert_ptr_nonnull(line);
        memcpy(line, "X-Big: ", 7);
        memset(line + 7, 'a', n);
        line[7 + n] = '\0';
        reply_t r;
        fetch(sb_http_server_port(srv), "GET", "/metrics", line, NULL, 0, &r);
        ck_assert_msg(r.status == 431, "status %ld", r.status);
        sb_buf_free(&r.body);
        free(line);
        get("GET", "/healthz", &r);
        ck_assert_int_eq(r.status, 200);
        sb_buf_free(&r.body);
}
END_TEST

START_TEST(test_long_uri_is_414_json) {
        char path[SB_HTTP_SERVER_MAX_URI + 64];
        snprintf(path, sizeof(path), "/metrics?q=");
        size_t len = strlen(path);
        memset(path + len, 'q', SB_HTTP_SERVER_MAX_URI + 1 - len);
        path[SB_HTTP_SERVER_MAX_URI + 1] = '\0';
        reply_t r;
        get("GET", path, &r);
        assert_json(&r, 414, "{\"error\":\"URI too long\"}");
        sb_buf_free(&r.body);
        path[SB_HTTP_SERVER_MAX_URI] = '\0'; /* at the bound: served */
        get("GET", path, &r);
        ck_assert_int_eq(r.status, 200);
        sb_buf_free(&r.body);
}
END_TEST

START_TEST(test_listening_errors) {
        char err[512] = "";
        sb_http_server_t *other = (sb_http_server_t *)1;
        /* The fixture's port is taken. */
        sb_http_server_options_t opts = {.address = "127.0.0.1", .port = sb_http_server_port(srv)};
        ck_assert_int_eq(sb_http_server_new(&opts, &other, err, sizeof(err)), SB_ERR_IO);
        ck_assert_ptr_null(other);
        char want[128];
        snprintf(want, sizeof(want), "cannot listen on 127.0.0.1 port %u: ", sb_http_server_port(srv));
        ck_assert_msg(strncmp(err, want, strlen(want)) == 0, "error %s", err);
        opts.port = 65536;
        ck_assert_int_eq(sb_http_server_new(&opts, &other, err, sizeof(err)), SB_ERR_CONFIG);
        ck_assert_str_eq(err, "port 65536 is above 65535");
        opts.port = 0;
        opts.address = "no such host.invalid";
        ck_assert_int_eq(sb_http_server_new(&opts, &other, err, sizeof(err)), SB_ERR_CONFIG);
        ck_assert_msg(strncmp(err, "address 'no such host.invalid': ", 32) == 0, "error %s", err);
        ck_assert_ptr_null(other);
        /* Port 0 twice: two free ports. */
        opts.address = "localhost";
        TEST_CALL(sb_http_server_new(&opts, &other, TEST_ERR));
        ck_assert_uint_ne(sb_http_server_port(other), 0);
        ck_assert_uint_ne(sb_http_server_port(other), sb_http_server_port(srv));
        reply_t r;
        fetch(sb_http_server_port(other), "GET", "/healthz", NULL, NULL, 0, &r);
        ck_assert_int_eq(r.status, 200);
        sb_buf_free(&r.body);
        sb_http_server_destroy(other);
        sb_http_server_destroy(NULL);
}
END_TEST

START_TEST(test_parse_listen) {
        static const struct {
                const char *text, *host;
                unsigned port;
                const char *error;
        } cases[] = {
                {"127.0.0.1:9464", "127.0.0.1", 9464, NULL},
                {"0.0.0.0:0", "0.0.0.0", 0, NULL},
                {"localhost:65535", "localhost", 65535, NULL},
                {"[::1]:9464", "::1", 9464, NULL},
                {"[fe80::1%eth0]:1", "fe80::1%eth0", 1, NULL},
                {"", NULL, 0, "empty: expected host:port"},
                {"127.0.0.1", NULL, 0, "'127.0.0.1' has no port: expected host:port, such as 127.0.0.1:9464"},
                {":9464", NULL, 0,
                 "':9464' has no host: name it, 127.0.0.1 for this machine only or 0.0.0.0 for every "
                 "interface"},
                {"[]:9464", NULL, 0, "'[]:9464' has no host"},
                {"::1:9464", NULL, 0, "'::1:9464': write an IPv6 address in brackets, as [::1]:9464"},
                {"[::1]9464", NULL, 0, "'[::1]9464' is not [ipv6-address]:port"},
                {"[::1", NULL, 0, "'[::1' is not [ipv6-address]:port"},
                {"h:", NULL, 0, "'h:': the port must be 0 to 65535"},
                {"h:65536", NULL, 0, "'h:65536': the port must be 0 to 65535"},
                {"h:000009464", NULL, 0, "'h:000009464': the port must be 0 to 65535"},
                {"h:-1", NULL, 0, "'h:-1': the port must be 0 to 65535"},
                {"h:94x", NULL, 0, "'h:94x': the port must be 0 to 65535"},
                {"h: 94", NULL, 0, "'h: 94': the port must be 0 to 65535"},
        };
        for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
                char host[64] = "", err[256] = "";
                unsigned port = 7;
                sb_err_t rc = sb_http_server_parse_listen(cases[i].text, host, sizeof(host), &port, err,
                                                          sizeof(err));
                if (cases[i].error) {
                        ck_assert_msg(rc == SB_ERR_CONFIG, "case %zu: rc %d", i, rc);
                        ck_assert_msg(strncmp(err, cases[i].error, strlen(cases[i].error)) == 0,
                                      "case %zu: error '%s', want '%s'", i, err, cases[i].error);
                } else {
                        ck_assert_msg(rc == SB_OK, "case %zu: %s", i, err);
                        ck_assert_str_eq(host, cases[i].host);
                        ck_assert_uint_eq(port, cases[i].port);
                }
        }
        char small[4], err[256];
        unsigned port;
        ck_assert_int_eq(sb_http_server_parse_listen("abcd:1", small, sizeof(small), &port, err, sizeof(err)),
                         SB_ERR_CONFIG);
        ck_assert_str_eq(err, "'abcd:1': the host is too long");
}
END_TEST

static const sb_setting_t table[] = {SB_METRICS_SETTINGS};

static sb_config_t *config(const char *text) {
        sb_config_t *cfg;
        TEST_CALL(sb_config_load_string(text, "test.conf", table, sizeof(table) / sizeof(table[0]), &cfg,
                                        TEST_ERR));
        return cfg;
}

START_TEST(test_from_config) {
        sb_http_server_t *s = (sb_http_server_t *)1;
        sb_config_t *cfg = config("");
        TEST_CALL(sb_http_server_from_config(cfg, metrics, NULL, NULL, NULL, &s, TEST_ERR));
        ck_assert_ptr_null(s); /* off by default */
        sb_config_destroy(cfg);

        /* A free port, logged. */
        FILE *logf = tmpfile();
        ck_assert_ptr_nonnull(logf);
        sb_log_t *log;
        TEST_CALL(sb_log_new("test", SB_LOG_INFO, logf, &log, TEST_ERR));
        cfg = config("metrics_listen = \"127.0.0.1:0\";\n");
        TEST_CALL(sb_http_server_from_config(cfg, metrics, health_cb, &health, log, &s, TEST_ERR));
        ck_assert_ptr_nonnull(s);
        reply_t r;
        fetch(sb_http_server_port(s), "GET", "/metrics", NULL, NULL, 0, &r);
        ck_assert_int_eq(r.status, 200);
        ck_assert_ptr_nonnull(strstr(BODY(r), "sharebus_events_total{"));
        sb_buf_free(&r.body);
        health.reason = "starting";
        fetch(sb_http_server_port(s), "GET", "/healthz", NULL, NULL, 0, &r);
        assert_json(&r, 503, "{\"status\":\"unhealthy\",\"reason\":\"starting\"}");
        sb_buf_free(&r.body);
        char want[128], logged[1024] = "";
        snprintf(want, sizeof(want), "serving /metrics and /healthz on 127.0.0.1:%u\n",
                 sb_http_server_port(s));
        rewind(logf);
        size_t n = fread(logged, 1, sizeof(logged) - 1, logf);
        logged[n] = '\0';
        ck_assert_msg(strstr(logged, want), "log: %s", logged);
        sb_http_server_destroy(s);
        sb_config_destroy(cfg);
        sb_log_destroy(log);
        fclose(logf);
}
END_TEST

START_TEST(test_from_config_errors) {
        static const struct {
                const char *text;
                sb_err_t rc;
                const char *error;
        } cases[] = {
                {"\nmetrics_listen = \":9464\";\n", SB_ERR_CONFIG,
                 "test.conf:2: setting 'metrics_listen': ':9464' has no host"},
                {"metrics_listen = \"127.0.0.1\";\n", SB_ERR_CONFIG,
                 "test.conf:1: setting 'metrics_listen': '127.0.0.1' has no port"},
                {"metrics_listen = \"nowhere.invalid:9464\";\n", SB_ERR_CONFIG,
                 "test.conf:1: setting 'metrics_listen': address 'nowhere.invalid': "},
                {NULL, SB_ERR_IO, "test.conf:1: setting 'metrics_listen': cannot listen on 127.0.0.1 port "},
        };
        for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
                char text[128], err[512] = "";
                if (cases[i].text)
                        snprintf(text, sizeof(text), "%s", cases[i].text);
                else /* the fixture's port */
                        snprintf(text, sizeof(text), "metrics_listen = \"127.0.0.1:%u\";\n",
                                 sb_http_server_port(srv));
                sb_config_t *cfg = config(text);
                sb_http_server_t *s = (sb_http_server_t *)1;
                ck_assert_int_eq(
                        sb_http_server_from_config(cfg, metrics, NULL, NULL, NULL, &s, err, sizeof(err)),
                        cases[i].rc);
                ck_assert_ptr_null(s);
                ck_assert_msg(strncmp(err, cases[i].error, strlen(cases[i].error)) == 0,
                              "case %zu: error '%s', want '%s'", i, err, cases[i].error);
                sb_config_destroy(cfg);
        }
}
END_TEST

START_TEST(test_settings_row_is_a_string_defaulting_to_off) {
        ck_assert_str_eq(table[0].name, "metrics_listen");
        ck_assert_int_eq(table[0].type, SB_SETTING_STRING);
        ck_assert_int_eq(table[0].required, 0);
        ck_assert_str_eq(table[0].def, "");
}
END_TEST

int main(void) {
        curl_global_init(CURL_GLOBAL_DEFAULT);
        Suite *s = suite_create("http_server");
        TCase *tc = tcase_create("serve");
        tcase_add_checked_fixture(tc, setup, teardown);
        tcase_set_timeout(tc, 60);
        tcase_add_test(tc, test_metrics_body_and_content_type);
        tcase_add_test(tc, test_metrics_callback_gauge_served);
        tcase_add_test(tc, test_head_has_headers_without_body);
        tcase_add_test(tc, test_healthz_ok_and_unhealthy_with_reason);
        tcase_add_test(tc, test_healthz_reason_empty_long_or_not_utf8);
        tcase_add_test(tc, test_no_health_callback_is_healthy_and_no_metrics_is_empty);
        tcase_add_test(tc, test_connection_is_kept_alive);
        suite_add_tcase(s, tc);

        tc = tcase_create("refusals");
        tcase_add_checked_fixture(tc, setup, teardown);
        tcase_set_timeout(tc, 60);
        tcase_add_test(tc, test_other_paths_are_404);
        tcase_add_test(tc, test_other_methods_are_405_with_allow);
        tcase_add_test(tc, test_program_pages_and_more_metrics);
        tcase_add_test(tc, test_request_bodies_are_413);
        tcase_add_test(tc, test_oversized_headers_are_431_json);
        tcase_add_test(tc, test_headers_past_connection_memory_are_refused_by_mhd);
        tcase_add_test(tc, test_long_uri_is_414_json);
        suite_add_tcase(s, tc);

        tc = tcase_create("setup");
        tcase_add_checked_fixture(tc, setup, teardown);
        tcase_set_timeout(tc, 60);
        tcase_add_test(tc, test_listening_errors);
        tcase_add_test(tc, test_parse_listen);
        tcase_add_test(tc, test_from_config);
        tcase_add_test(tc, test_from_config_errors);
        tcase_add_test(tc, test_settings_row_is_a_string_defaulting_to_off);
        suite_add_tcase(s, tc);
        int rc = test_run_suite(s);
        curl_global_cleanup();
        return rc;
}

/*
 * test_registry_limits: the registry's limits taken from its settings
 * (regd_http_limits_t): a request body, the schema text and nesting of a
 * registration, connections at once and connections from one address.
 * Each is driven just past its limit and must get its answer naming the
 * setting, while a request at the limit and the requests after it are
 * served as before.
 */
#include <arpa/inet.h>
#include <check.h>
#include <curl/curl.h>
#include <jansson.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include "regd_http.h"
#include "regd_settings.h"
#include "sb_buf.h"
#include "testhttp.h"
#include "testutil.h"

static regd_http_t *start_limited(const regd_http_limits_t *l, unsigned threads, char *base, size_t size) {
        char errstr[512];
        regd_http_t *srv = NULL;
        ck_assert_msg(regd_http_new_limited(server.store, regd_store_direct_submitter(server.store),
                                            server.log, NULL, NULL, "127.0.0.1", 0, threads, l, &srv, errstr,
                                            sizeof(errstr)) == SB_OK,
                      "regd_http_new_limited: %s", errstr);
        snprintf(base, size, "http://127.0.0.1:%u", regd_http_port(srv));
        return srv;
}

/* A registration body {"schema": text}, as a new string the caller frees. */
static char *registration(const char *text) {
        json_t *doc = json_pack("{s:s}", "schema", text);
        char *body = json_dumps(doc, JSON_COMPACT);
        json_decref(doc);
        ck_assert_ptr_nonnull(body);
        return body;
}

/* Registers `text` under `subject`; the status, and the body in *out (freed by the caller). */
static long post_schema(const char *base, const char *subject, const char *text, response_t *out) {
        char path[256];
        char *body = registration(text);
        snprintf(path, sizeof(path), "/subjects/%s/versions", subject);
        http_to(base, "POST", path, V1, body, strlen(body), 0, out);
        free(body);
        return out->status;
}

static void assert_error(const response_t *r, long status, int code, const char *message) {
        const char *got = (const char *)r->body.data;
        char want[64];
        snprintf(want, sizeof(want), "\"error_code\":%d", code);
        ck_assert_msg(r->status == status, "status %ld, want %ld: %s", r->status, status, got);
        ck_assert_msg(strstr(got, want) && strstr(got, message), "body %s, want %s and %s", got, want,
                      message);
}

/* The defaults are today's bounds, and the settings' ranges end at them. */
START_TEST(defaults_are_the_compiled_bounds) {
        static const regd_http_limits_t d = REGD_HTTP_LIMITS_DEFAULT;
        ck_assert_uint_eq(d.max_body_bytes, SB_REGISTRY_MAX_BODY);
        ck_assert_int_eq(d.max_schema_depth, SB_SCHEMA_MAX_DEPTH);
        for (size_t i = 0; i < regd_settings_count; i++) {
                const sb_setting_t *s = &regd_settings[i];
                if (strcmp(s->name, "max_body_bytes") == 0 || strcmp(s->name, "max_schema_bytes") == 0)
                        ck_assert_int_eq(s->max, SB_REGISTRY_MAX_BODY);
                if (strcmp(s->name, "max_schema_depth") == 0)
                        ck_assert_int_eq(s->max, SB_SCHEMA_MAX_DEPTH);
        }
        regd_http_limits_t bad = d;
        regd_http_t *srv = NULL;
        char errstr[256];
        bad.max_schema_depth = SB_SCHEMA_MAX_DEPTH + 1;
        ck_assert_int_eq(regd_http_new_limited(server.store, regd_store_direct_submitter(server.store),
                                               server.log, NULL, NULL, "127.0.0.1", 0, 1, &bad, &srv, errstr,
                                               sizeof(errstr)),
                         SB_ERR_CONFIG);
        ck_assert_ptr_null(srv);
        ck_assert_msg(strstr(errstr, "max_schema_depth"), "%s", errstr);
        bad = d;
        bad.max_connections = 2;
        ck_assert_int_eq(regd_http_new_limited(server.store, regd_store_direct_submitter(server.store),
                                               server.log, NULL, NULL, "127.0.0.1", 0, 4, &bad, &srv, errstr,
                                               sizeof(errstr)),
                         SB_ERR_CONFIG);
        ck_assert_msg(strstr(errstr, "max_connections"), "%s", errstr);
}
END_TEST

START_TEST(body_over_max_body_bytes_is_413) {
        regd_http_limits_t l = REGD_HTTP_LIMITS_DEFAULT;
        char base[64];
        response_t r;
        l.max_body_bytes = 4096;
        regd_http_t *srv = start_limited(&l, 1, base, sizeof(base));
        /* A valid registration padded to exactly the limit is read and
         * served; one byte more is refused, announced or chunked. */
        char *body = malloc(4097);
        ck_assert_ptr_nonnull(body);
        memset(body, ' ', 4097);
        int n = snprintf(body, 4097, "%s", PRIM("int"));
        body[n] = ' '; /* padding to the end, not a C string */
        for (int chunked = 0; chunked <= 1; chunked++) {
                http_to(base, "POST", "/subjects/big/versions", V1, body, 4097, chunked, &r);
                assert_error(&r, 413, 413, "Request body larger than 4096 bytes (setting max_body_bytes)");
                sb_buf_free(&r.body);
        }
        http_to(base, "POST", "/subjects/big/versions", V1, body, 4096, 0, &r);
        ck_assert_msg(r.status == 200, "at the limit: %ld %s", r.status, (const char *)r.body.data);
        sb_buf_free(&r.body);
        http_to(base, "GET", "/subjects/big/versions", NULL, NULL, 0, 0, &r);
        ck_assert_str_eq((const char *)r.body.data, "[1]");
        sb_buf_free(&r.body);
        free(body);
        regd_http_destroy(srv);
}
END_TEST

START_TEST(schema_over_max_schema_bytes_is_42201) {
        regd_http_limits_t l = REGD_HTTP_LIMITS_DEFAULT;
        char base[64], text[128];
        response_t r;
        l.max_schema_bytes = 100;
        regd_http_t *srv = start_limited(&l, 1, base, sizeof(base));
        /* "int" with spaces: 101 bytes of schema text, then 100. */
        snprintf(text, sizeof(text), "%96s\"int\"", "");
        ck_assert_uint_eq(strlen(text), 101);
        post_schema(base, "text", text, &r);
        assert_error(&r, 422, 42201, "the schema text is 101 bytes, over 100 (setting max_schema_bytes)");
        sb_buf_free(&r.body);
        ck_assert_int_eq(post_schema(base, "text", text + 1, &r), 200);
        sb_buf_free(&r.body);
        regd_http_destroy(srv);
}
END_TEST

/* `levels` arrays around "int": the int is at level `levels`. */
static char *nested(int levels) {
        sb_buf_t b;
        sb_buf_init(&b, 1 << 20);
        for (int i = 0; i < levels; i++)
                ck_assert_int_eq(sb_buf_append(&b, "{\"type\":\"array\",\"items\":", 24), SB_OK);
        ck_assert_int_eq(sb_buf_append(&b, "\"int\"", 5), SB_OK);
        for (int i = 0; i < levels; i++)
                ck_assert_int_eq(sb_buf_append(&b, "}", 1), SB_OK);
        ck_assert_int_eq(sb_buf_append(&b, "", 1), SB_OK);
        return (char *)b.data;
}

START_TEST(schema_deeper_than_max_schema_depth_is_42201) {
        regd_http_limits_t l = REGD_HTTP_LIMITS_DEFAULT;
        char base[64];
        response_t r;
        l.max_schema_depth = 8;
        regd_http_t *srv = start_limited(&l, 1, base, sizeof(base));
        char *deep = nested(9), *ok = nested(8);
        post_schema(base, "deep", deep, &r);
        assert_error(&r, 422, 42201, "types nested deeper than 8 levels (setting max_schema_depth)");
        sb_buf_free(&r.body);
        ck_assert_int_eq(post_schema(base, "deep", ok, &r), 200);
        sb_buf_free(&r.body);
        free(deep);
        free(ok);
        regd_http_destroy(srv);
}
END_TEST

/* A TCP connection to the server on `port`, open and idle. */
static int connect_to(unsigned port) {
        struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
        struct timeval tv = {5, 0};
        int fd = socket(AF_INET, SOCK_STREAM, 0);
        ck_assert_int_ge(fd, 0);
        sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        ck_assert_int_eq(connect(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
        return fd;
}

/* Sends GET / on `fd` and reads: 1 if an HTTP 200 came back, 0 if the
 * server closed the connection without an answer. */
static int get_root(int fd) {
        static const char req[] = "GET / HTTP/1.1\r\nHost: x\r\n\r\n";
        char buf[512];
        if (send(fd, req, sizeof(req) - 1, MSG_NOSIGNAL) < 0)
                return 0;
        ssize_t n = recv(fd, buf, sizeof(buf) - 1, 0);
        if (n <= 0)
                return 0;
        buf[n] = '\0';
        ck_assert_msg(strncmp(buf, "HTTP/1.1 200", 12) == 0, "answer: %s", buf);
        return 1;
}

static int log_has(const char *text) {
        char line[1024];
        int seen = 0;
        fflush(server.log_file);
        rewind(server.log_file);
        while (fgets(line, sizeof(line), server.log_file))
                seen |= strstr(line, text) != NULL;
        fseek(server.log_file, 0, SEEK_END);
        return seen;
}

/* Holds `held` connections, each served; returns the fds. */
static void hold(unsigned port, int *fds, int held) {
        for (int i = 0; i < held; i++) {
                fds[i] = connect_to(port);
                ck_assert_msg(get_root(fds[i]), "connection %d not served", i + 1);
        }
}

/* At max_connections a new connection waits: it is served once one of the
 * others closes, and those still open go on being served. */
START_TEST(connection_past_max_connections_waits) {
        regd_http_limits_t l = REGD_HTTP_LIMITS_DEFAULT;
        char base[64], buf[512];
        int fds[3];
        static const char req[] = "GET / HTTP/1.1\r\nHost: x\r\n\r\n";
        struct timeval short_wait = {1, 0};
        l.max_connections = 3;
        regd_http_t *srv = start_limited(&l, 1, base, sizeof(base));
        hold(regd_http_port(srv), fds, 3);
        int extra = connect_to(regd_http_port(srv));
        setsockopt(extra, SOL_SOCKET, SO_RCVTIMEO, &short_wait, sizeof(short_wait));
        ck_assert_int_eq(send(extra, req, sizeof(req) - 1, MSG_NOSIGNAL), (ssize_t)(sizeof(req) - 1));
        ck_assert_msg(recv(extra, buf, sizeof(buf), 0) < 0, "a connection past the limit was served");
        ck_assert_msg(log_has("at max_connections (3): new ones wait"), "no log line naming max_connections");
        for (int i = 1; i < 3; i++)
                ck_assert_msg(get_root(fds[i]), "held connection %d lost", i + 1);
        close(fds[0]);
        struct timeval long_wait = {5, 0};
        setsockopt(extra, SOL_SOCKET, SO_RCVTIMEO, &long_wait, sizeof(long_wait));
        ssize_t n = recv(extra, buf, sizeof(buf) - 1, 0);
        ck_assert_msg(n > 12 && strncmp(buf, "HTTP/1.1 200", 12) == 0, "the waiting request was not served");
        close(extra);
        close(fds[1]);
        close(fds[2]);
        regd_http_destroy(srv);
}
END_TEST

/* Past max_connections_per_ip a connection is closed unanswered; the held
 * ones are served, and a new one once one of them is gone. */
START_TEST(connection_past_max_connections_per_ip_is_closed) {
        regd_http_limits_t l = REGD_HTTP_LIMITS_DEFAULT;
        char base[64];
        int fds[2];
        l.max_connections = 10;
        l.max_connections_per_ip = 2;
        regd_http_t *srv = start_limited(&l, 1, base, sizeof(base));
        unsigned port = regd_http_port(srv);
        hold(port, fds, 2);
        int extra = connect_to(port);
        ck_assert_msg(!get_root(extra), "a connection past the limit was served");
        close(extra);
        ck_assert_msg(get_root(fds[0]) && get_root(fds[1]), "a held connection was lost");
        close(fds[0]);
        int served = 0;
        for (int tries = 0; tries < 250 && !served; tries++) {
                struct timespec ts = {0, 20 * 1000 * 1000};
                nanosleep(&ts, NULL);
                int fd = connect_to(port);
                served = get_root(fd);
                close(fd);
        }
        ck_assert_msg(served, "no connection served after one was closed");
        close(fds[1]);
        regd_http_destroy(srv);
}
END_TEST

int main(void) {
        curl_global_init(CURL_GLOBAL_DEFAULT);
        Suite *s = suite_create("registry_limits");
        TCase *tc = tcase_create("http");
        tcase_add_checked_fixture(tc, server_start, server_stop);
        tcase_set_timeout(tc, 120);
        tcase_add_test(tc, defaults_are_the_compiled_bounds);
        tcase_add_test(tc, body_over_max_body_bytes_is_413);
        tcase_add_test(tc, schema_over_max_schema_bytes_is_42201);
        tcase_add_test(tc, schema_deeper_than_max_schema_depth_is_42201);
        tcase_add_test(tc, connection_past_max_connections_waits);
        tcase_add_test(tc, connection_past_max_connections_per_ip_is_closed);
        suite_add_tcase(s, tc);
        int rc = test_run_suite(s);
        curl_global_cleanup();
        return rc;
}

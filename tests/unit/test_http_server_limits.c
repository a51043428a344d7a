/*
 * test_http_server_limits: metrics_max_connections, the setting every
 * daemon's /metrics and /healthz server takes its connection limit from
 * (SB_HTTP_SERVER_CONNECTIONS_SETTING).  At the limit a new connection
 * waits, is served once another closes, and the log says the limit was
 * reached; the connections already open are served throughout.
 */
#include <arpa/inet.h>
#include <check.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include "sb_config.h"
#include "sb_http_server.h"
#include "sb_log.h"
#include "testutil.h"

static const sb_setting_t table[] = {SB_METRICS_SETTINGS};

static int connect_to(unsigned port, int wait_s) {
        struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
        struct timeval tv = {wait_s, 0};
        int fd = socket(AF_INET, SOCK_STREAM, 0);
        ck_assert_int_ge(fd, 0);
        sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        ck_assert_int_eq(connect(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
        return fd;
}

static void send_get(int fd) {
        static const char req[] = "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n";
        ck_assert_int_eq(send(fd, req, sizeof(req) - 1, MSG_NOSIGNAL), (ssize_t)(sizeof(req) - 1));
}

/* Whether an HTTP 200 arrives on `fd` within its receive timeout. */
static int answered(int fd) {
        char buf[512];
        ssize_t n = recv(fd, buf, sizeof(buf) - 1, 0);
        if (n <= 0)
                return 0;
        buf[n] = '\0';
        ck_assert_msg(strncmp(buf, "HTTP/1.1 200", 12) == 0, "answer: %s", buf);
        return 1;
}

static int log_has(FILE *f, const char *text) {
        char line[1024];
        int seen = 0;
        fflush(f);
        rewind(f);
        while (fgets(line, sizeof(line), f))
                seen |= strstr(line, text) != NULL;
        return seen;
}

START_TEST(test_connections_past_the_setting_wait) {
        FILE *logf = tmpfile();
        sb_log_t *log;
        sb_config_t *cfg;
        sb_http_server_t *s;
        int held[2];
        ck_assert_ptr_nonnull(logf);
        TEST_CALL(sb_log_new("test", SB_LOG_INFO, logf, &log, TEST_ERR));
        TEST_CALL(sb_config_load_string("metrics_listen = \"127.0.0.1:0\";\nmetrics_max_connections = 2;\n",
                                        "test.conf", table, sizeof(table) / sizeof(table[0]), &cfg,
                                        TEST_ERR));
        TEST_CALL(sb_http_server_from_config(cfg, NULL, NULL, NULL, log, &s, TEST_ERR));
        unsigned port = sb_http_server_port(s);
        for (int i = 0; i < 2; i++) {
                held[i] = connect_to(port, 5);
                send_get(held[i]);
                ck_assert_msg(answered(held[i]), "connection %d not served", i + 1);
        }
        int extra = connect_to(port, 1);
        send_get(extra);
        ck_assert_msg(!answered(extra), "a connection past metrics_max_connections was served");
        ck_assert_msg(log_has(logf, "2 connections, at metrics_max_connections"), "not logged");
        send_get(held[1]);
        ck_assert_msg(answered(held[1]), "a held connection was lost");
        close(held[0]);
        struct timeval tv = {5, 0};
        setsockopt(extra, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
        ck_assert_msg(answered(extra), "the waiting connection was not served once one closed");
        close(extra);
        close(held[1]);
        sb_http_server_destroy(s);
        sb_config_destroy(cfg);
        sb_log_destroy(log);
        fclose(logf);
}
END_TEST

START_TEST(test_setting_range_ends_at_the_bound) {
        sb_config_t *cfg = NULL;
        char err[512];
        ck_assert_int_eq(sb_config_load_string("metrics_max_connections = 1025;\n", "test.conf", table,
                                               sizeof(table) / sizeof(table[0]), &cfg, err, sizeof(err)),
                         SB_ERR_CONFIG);
        ck_assert_msg(strstr(err, "metrics_max_connections") && strstr(err, "is out of range"), "%s", err);
        ck_assert_int_eq(table[1].max, SB_HTTP_SERVER_MAX_CONNECTIONS);
        ck_assert_int_eq(atoi(table[1].def), SB_HTTP_SERVER_DEFAULT_CONNECTIONS);
}
END_TEST

int main(void) {
        Suite *s = suite_create("http_server_limits");
        TCase *tc = tcase_create("limits");
        tcase_set_timeout(tc, 60);
        tcase_add_test(tc, test_connections_past_the_setting_wait);
        tcase_add_test(tc, test_setting_range_ends_at_the_bound);
        suite_add_tcase(s, tc);
        return test_run_suite(s);
}

/*
 * test_http_server_tls: every daemon's /metrics and /healthz server over
 * HTTPS (metrics_tls_cert_file, metrics_tls_key_file), with certificates
 * made by GnuTLS at test time (testcerts.h) and libcurl verifying the
 * server against their CA; plain HTTP to the TLS port refused; the bad
 * configurations (one file without the other, files missing, empty, not
 * PEM, a key of another certificate) named; sb_tls on its own; and the
 * rows in every daemon's settings table.
 */
#include <arpa/inet.h>
#include <check.h>
#include <curl/curl.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include "lag/lag_settings.h"
#include "producer_settings.h"
#include "sb_buf.h"
#include "sb_config.h"
#include "sb_http_server.h"
#include "sb_log.h"
#include "sb_metrics.h"
#include "sb_tls.h"
#include "subscriber_settings.h"
#include "testcerts.h"
#include "testutil.h"

static const sb_setting_t table[] = {SB_METRICS_SETTINGS};

/* The certificates: a CA, a server certificate of it for 127.0.0.1, a
 * second server certificate (its key is "another key"), a CA nobody
 * signed with, and a file that is not PEM. */
static struct {
        char dir[64];
        test_cert_t ca, server, other, stranger_ca;
        char garbage[128], empty[128], encrypted[128]; /* encrypted: the server's key, with a password */
} pki;

static void pki_setup(void) {
        snprintf(pki.dir, sizeof(pki.dir), "/tmp/sharebus-http-tls-XXXXXX");
        ck_assert_ptr_nonnull(mkdtemp(pki.dir));
        test_cert_make(&pki.ca, TEST_CERT_CA, "sharebus test CA", NULL, -1, 30);
        test_cert_make(&pki.server, TEST_CERT_SERVER, "127.0.0.1", &pki.ca, -1, 30);
        test_cert_make(&pki.other, TEST_CERT_SERVER, "127.0.0.1", &pki.ca, -1, 30);
        test_cert_make(&pki.stranger_ca, TEST_CERT_CA, "sharebus test CA", NULL, -1, 30);
        test_cert_write(&pki.ca, pki.dir, "ca");
        test_cert_write(&pki.server, pki.dir, "server");
        test_cert_write(&pki.other, pki.dir, "other");
        test_cert_write(&pki.stranger_ca, pki.dir, "stranger-ca");
        snprintf(pki.garbage, sizeof(pki.garbage), "%s/garbage.pem", pki.dir);
        test_cert_write_file(pki.garbage, "not a certificate\n");
        snprintf(pki.empty, sizeof(pki.empty), "%s/empty.pem", pki.dir);
        test_cert_write_file(pki.empty, "");
        char pem[4096];
        size_t size = sizeof(pem) - 1;
        TEST_GNUTLS(gnutls_x509_privkey_export_pkcs8(pki.server.key, GNUTLS_X509_FMT_PEM, "secret",
                                                     GNUTLS_PKCS_PBES2_AES_256, pem, &size));
        pem[size] = '\0';
        snprintf(pki.encrypted, sizeof(pki.encrypted), "%s/encrypted.key", pki.dir);
        test_cert_write_file(pki.encrypted, pem);
}

static void pki_teardown(void) {
        test_cert_free(&pki.ca);
        test_cert_free(&pki.server);
        test_cert_free(&pki.other);
        test_cert_free(&pki.stranger_ca);
        remove(pki.garbage);
        remove(pki.empty);
        remove(pki.encrypted);
        rmdir(pki.dir);
}

static sb_config_t *config(const char *text) {
        sb_config_t *cfg;
        TEST_CALL(sb_config_load_string(text, "test.conf", table, sizeof(table) / sizeof(table[0]), &cfg,
                                        TEST_ERR));
        return cfg;
}

/* A config serving on a free port with `cert` and `key` (NULL: left out). */
static sb_config_t *tls_config(const char *cert, const char *key) {
        char text[1024];
        int n = snprintf(text, sizeof(text), "metrics_listen = \"127.0.0.1:0\";\n");
        if (cert)
                n += snprintf(text + n, sizeof(text) - (size_t)n, "metrics_tls_cert_file = \"%s\";\n", cert);
        if (key)
                n += snprintf(text + n, sizeof(text) - (size_t)n, "metrics_tls_key_file = \"%s\";\n", key);
        ck_assert_int_lt(n, (int)sizeof(text));
        return config(text);
}

typedef struct {
        CURLcode cc;
        long status;
        char error[CURL_ERROR_SIZE];
        sb_buf_t body;
} reply_t;

static size_t on_body(char *p, size_t size, size_t n, void *arg) {
        return sb_buf_append(arg, p, size * n) ? 0 : size * n;
}

/* GET scheme://127.0.0.1:port/path, verifying the server against `ca`
 * (NULL: the system's CAs).  The caller frees r->body. */
static void get(const char *scheme, unsigned port, const char *path, const char *ca, reply_t *r) {
        char url[256];
        CURL *curl = curl_easy_init();
        ck_assert_ptr_nonnull(curl);
        memset(r, 0, sizeof(*r));
        sb_buf_init(&r->body, 1 << 20);
        snprintf(url, sizeof(url), "%s://127.0.0.1:%u%s", scheme, port, path);
        curl_easy_setopt(curl, CURLOPT_URL, url);
        curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, on_body);
        curl_easy_setopt(curl, CURLOPT_WRITEDATA, &r->body);
        curl_easy_setopt(curl, CURLOPT_ERRORBUFFER, r->error);
        curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS, 10000L);
        curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
        curl_easy_setopt(curl, CURLOPT_SSL_VERIFYPEER, 1L);
        curl_easy_setopt(curl, CURLOPT_SSL_VERIFYHOST, 2L);
        if (ca)
                curl_easy_setopt(curl, CURLOPT_CAINFO, ca);
        r->cc = curl_easy_perform(curl);
        if (r->cc == CURLE_OK)
                curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &r->status);
        curl_easy_cleanup(curl);
        sb_buf_append(&r->body, "", 1);
}

#define BODY(r) ((const char *)(r).body.data)

static int unhealthy;
static int health_cb(void *opaque, char *reason, size_t size) {
        (void)opaque;
        if (!unhealthy)
                return 1;
        snprintf(reason, size, "kafka: all brokers down");
        return 0;
}

static char *log_text(FILE *f, char *buf, size_t size) {
        fflush(f);
        rewind(f);
        size_t n = fread(buf, 1, size - 1, f);
        buf[n] = '\0';
        return buf;
}

START_TEST(test_metrics_and_healthz_over_https) {
        sb_metrics_t *metrics;
        sb_metrics_counter_t *events;
        sb_log_t *log;
        sb_http_server_t *s = NULL;
        FILE *logf = tmpfile();
        reply_t r;
        ck_assert_ptr_nonnull(logf);
        TEST_CALL(sb_metrics_new(&metrics, TEST_ERR));
        TEST_CALL(sb_metrics_register_counter(metrics, "sharebus_events_total", "Events.", NULL, 0, &events,
                                              TEST_ERR));
        sb_metrics_counter_add(events, 7);
        TEST_CALL(sb_log_new("test", SB_LOG_INFO, logf, &log, TEST_ERR));
        sb_config_t *cfg = tls_config(pki.server.cert_path, pki.server.key_path);
        unhealthy = 0;
        TEST_CALL(sb_http_server_from_config(cfg, metrics, health_cb, NULL, log, &s, TEST_ERR));
        ck_assert_ptr_nonnull(s);
        unsigned port = sb_http_server_port(s);

        get("https", port, "/metrics", pki.ca.cert_path, &r);
        ck_assert_msg(r.cc == CURLE_OK, "GET /metrics over HTTPS: %s: %s", curl_easy_strerror(r.cc), r.error);
        ck_assert_int_eq(r.status, 200);
        ck_assert_msg(strstr(BODY(r), "sharebus_events_total 7") != NULL, "body: %s", BODY(r));
        sb_buf_free(&r.body);
        get("https", port, "/healthz", pki.ca.cert_path, &r);
        ck_assert_msg(r.cc == CURLE_OK, "GET /healthz: %s: %s", curl_easy_strerror(r.cc), r.error);
        ck_assert_int_eq(r.status, 200);
        ck_assert_str_eq(BODY(r), "{\"status\":\"ok\"}");
        sb_buf_free(&r.body);
        unhealthy = 1;
        get("https", port, "/healthz", pki.ca.cert_path, &r);
        ck_assert_int_eq(r.cc, CURLE_OK);
        ck_assert_int_eq(r.status, 503);
        ck_assert_str_eq(BODY(r), "{\"status\":\"unhealthy\",\"reason\":\"kafka: all brokers down\"}");
        sb_buf_free(&r.body);

        /* The client checks the server: a CA that did not sign it fails. */
        get("https", port, "/metrics", pki.stranger_ca.cert_path, &r);
        ck_assert_msg(r.cc == CURLE_PEER_FAILED_VERIFICATION, "an unknown CA gave %s: %s",
                      curl_easy_strerror(r.cc), r.error);
        ck_assert_int_eq(r.status, 0);
        sb_buf_free(&r.body);

        char want[128], logged[4096];
        snprintf(want, sizeof(want), "serving /metrics and /healthz on https://127.0.0.1:%u\n", port);
        ck_assert_msg(strstr(log_text(logf, logged, sizeof(logged)), want), "log: %s", logged);
        sb_http_server_destroy(s);
        sb_config_destroy(cfg);
        sb_log_destroy(log);
        sb_metrics_destroy(metrics);
        fclose(logf);
}
END_TEST

START_TEST(test_plain_http_to_the_tls_port_fails) {
        sb_http_server_t *s = NULL;
        reply_t r;
        sb_config_t *cfg = tls_config(pki.server.cert_path, pki.server.key_path);
        TEST_CALL(sb_http_server_from_config(cfg, NULL, NULL, NULL, NULL, &s, TEST_ERR));
        unsigned port = sb_http_server_port(s);

        get("http", port, "/healthz", NULL, &r);
        ck_assert_msg(r.cc != CURLE_OK && r.cc != CURLE_OPERATION_TIMEDOUT,
                      "plain HTTP to the TLS port gave %s (status %ld): %s", curl_easy_strerror(r.cc),
                      r.status, BODY(r));
        ck_assert_int_eq(r.status, 0);
        sb_buf_free(&r.body);

        /* The same by hand: whatever comes back is no HTTP answer. */
        struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
        struct timeval tv = {5, 0};
        static const char req[] = "GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n";
        char buf[256] = "";
        int fd = socket(AF_INET, SOCK_STREAM, 0);
        ck_assert_int_ge(fd, 0);
        sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        ck_assert_int_eq(connect(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
        ck_assert_int_eq(send(fd, req, sizeof(req) - 1, MSG_NOSIGNAL), (ssize_t)(sizeof(req) - 1));
        ssize_t n = recv(fd, buf, sizeof(buf) - 1, 0);
        ck_assert_msg(n < 5 || memcmp(buf, "HTTP/", 5) != 0, "a plain HTTP answer: %.*s", (int)n, buf);
        close(fd);

        /* and HTTPS is still served */
        get("https", port, "/healthz", pki.ca.cert_path, &r);
        ck_assert_msg(r.cc == CURLE_OK, "%s: %s", curl_easy_strerror(r.cc), r.error);
        ck_assert_int_eq(r.status, 200);
        sb_buf_free(&r.body);
        sb_http_server_destroy(s);
        sb_config_destroy(cfg);
}
END_TEST

START_TEST(test_cert_without_key_is_a_config_error) {
        static const char *const want[] = {
                "test.conf:2: setting 'metrics_tls_cert_file': TLS needs both metrics_tls_cert_file and "
                "metrics_tls_key_file",
                "test.conf:2: setting 'metrics_tls_key_file': TLS needs both metrics_tls_cert_file and "
                "metrics_tls_key_file",
        };
        for (int i = 0; i < 2; i++) {
                char err[1024] = "";
                sb_http_server_t *s = (sb_http_server_t *)1;
                sb_config_t *cfg = i == 0 ? tls_config(pki.server.cert_path, NULL)
                                          : tls_config(NULL, pki.server.key_path);
                ck_assert_int_eq(
                        sb_http_server_from_config(cfg, NULL, NULL, NULL, NULL, &s, err, sizeof(err)),
                        SB_ERR_CONFIG);
                ck_assert_ptr_null(s);
                ck_assert_str_eq(err, want[i]);
                sb_config_destroy(cfg);
        }
        /* Without metrics_listen there is no server, and nothing to check. */
        sb_http_server_t *s = (sb_http_server_t *)1;
        sb_config_t *cfg = config("metrics_tls_cert_file = \"/nonexistent.crt\";\n");
        TEST_CALL(sb_http_server_from_config(cfg, NULL, NULL, NULL, NULL, &s, TEST_ERR));
        ck_assert_ptr_null(s);
        sb_config_destroy(cfg);
}
END_TEST

START_TEST(test_wrong_files_are_named) {
        char swapped_cert[700], swapped_key[700], other_key[700], missing[700], garbage_cert[700],
                garbage_key[700], empty_cert[700], encrypted_key[700];
        snprintf(missing, sizeof(missing),
                 "test.conf: metrics_tls_cert_file /nonexistent.crt: No such file or directory");
        snprintf(garbage_cert, sizeof(garbage_cert),
                 "test.conf: metrics_tls_cert_file %s: not a PEM certificate", pki.garbage);
        snprintf(garbage_key, sizeof(garbage_key),
                 "test.conf: metrics_tls_key_file %s: not a PEM private key", pki.garbage);
        snprintf(encrypted_key, sizeof(encrypted_key),
                 "test.conf: metrics_tls_key_file %s: not a PEM private key (unencrypted)", pki.encrypted);
        snprintf(empty_cert, sizeof(empty_cert), "test.conf: metrics_tls_cert_file %s: empty file",
                 pki.empty);
        /* the two files the wrong way round: the certificate is named */
        snprintf(swapped_cert, sizeof(swapped_cert),
                 "test.conf: metrics_tls_cert_file %s: not a PEM certificate", pki.server.key_path);
        /* a certificate for a key file */
        snprintf(swapped_key, sizeof(swapped_key),
                 "test.conf: metrics_tls_key_file %s: not a PEM private key", pki.server.cert_path);
        /* another certificate's key: both named, and why */
        snprintf(other_key, sizeof(other_key),
                 "test.conf: metrics_tls_cert_file %s / metrics_tls_key_file %s: ", pki.server.cert_path,
                 pki.other.key_path);
        const struct {
                const char *cert, *key, *want, *also;
        } cases[] = {
                {"/nonexistent.crt", pki.server.key_path, missing, NULL},
                {pki.server.cert_path, "/nonexistent.key",
                 "test.conf: metrics_tls_key_file /nonexistent.key: ", "No such file"},
                {pki.garbage, pki.server.key_path, garbage_cert, NULL},
                {pki.server.cert_path, pki.garbage, garbage_key, NULL},
                {pki.server.cert_path, pki.encrypted, encrypted_key, NULL},
                {pki.empty, pki.server.key_path, empty_cert, NULL},
                {pki.server.key_path, pki.server.cert_path, swapped_cert, NULL},
                {pki.server.cert_path, pki.server.cert_path, swapped_key, NULL},
                {pki.server.cert_path, pki.other.key_path, other_key, "do not match"},
        };
        for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
                char err[1024] = "";
                sb_http_server_t *s = (sb_http_server_t *)1;
                sb_config_t *cfg = tls_config(cases[i].cert, cases[i].key);
                ck_assert_int_eq(
                        sb_http_server_from_config(cfg, NULL, NULL, NULL, NULL, &s, err, sizeof(err)),
                        SB_ERR_CONFIG);
                ck_assert_ptr_null(s);
                ck_assert_msg(strncmp(err, cases[i].want, strlen(cases[i].want)) == 0,
                              "case %zu: error '%s', want '%s...'", i, err, cases[i].want);
                ck_assert_msg(!cases[i].also || strstr(err, cases[i].also), "case %zu: '%s' without '%s'", i,
                              err, cases[i].also);
                sb_config_destroy(cfg);
        }
}
END_TEST

/* sb_tls itself: default names, the options with and without a client
 * CA, a client CA file that holds none; and a server from the options. */
START_TEST(test_sb_tls_alone) {
        char err[1024] = "";
        sb_tls_t *t = (sb_tls_t *)1;
        sb_tls_files_t f = {.cert_file = pki.server.cert_path};
        ck_assert_int_eq(sb_tls_new(&f, &t, err, sizeof(err)), SB_ERR_CONFIG);
        ck_assert_ptr_null(t);
        ck_assert_str_eq(err, "TLS needs both cert_file and key_file");

        struct MHD_OptionItem items[SB_TLS_MHD_OPTIONS];
        f.key_file = pki.server.key_path;
        TEST_CALL(sb_tls_new(&f, &t, TEST_ERR));
        sb_tls_mhd_options(t, items);
        ck_assert_int_eq(items[0].option, MHD_OPTION_HTTPS_MEM_KEY);
        ck_assert_str_eq(items[0].ptr_value, pki.server.key_pem);
        ck_assert_int_eq(items[1].option, MHD_OPTION_HTTPS_MEM_CERT);
        ck_assert_str_eq(items[1].ptr_value, pki.server.cert_pem);
        ck_assert_int_eq(items[2].option, MHD_OPTION_END);
        ck_assert_int_eq(items[3].option, MHD_OPTION_END);

        /* a server of the options' handle (not owned: destroyed after) */
        sb_http_server_options_t opts = {.tls = t};
        sb_http_server_t *s;
        reply_t r;
        TEST_CALL(sb_http_server_new(&opts, &s, TEST_ERR));
        get("https", sb_http_server_port(s), "/healthz", pki.ca.cert_path, &r);
        ck_assert_msg(r.cc == CURLE_OK, "%s: %s", curl_easy_strerror(r.cc), r.error);
        ck_assert_int_eq(r.status, 200);
        sb_buf_free(&r.body);
        sb_http_server_destroy(s);
        sb_tls_destroy(t);

        f.client_ca_file = pki.ca.cert_path;
        TEST_CALL(sb_tls_new(&f, &t, TEST_ERR));
        sb_tls_mhd_options(t, items);
        ck_assert_int_eq(items[2].option, MHD_OPTION_HTTPS_MEM_TRUST);
        ck_assert_int_eq(items[3].option, MHD_OPTION_END);
        sb_tls_destroy(t);
        sb_tls_destroy(NULL);

        f.client_ca_file = pki.garbage;
        f.client_ca_setting = "ca_setting";
        ck_assert_int_eq(sb_tls_new(&f, &t, err, sizeof(err)), SB_ERR_CONFIG);
        ck_assert_ptr_null(t);
        char want[300];
        snprintf(want, sizeof(want), "ca_setting %s: ", pki.garbage);
        ck_assert_msg(strncmp(err, want, strlen(want)) == 0, "%s", err);
}
END_TEST

/* A file past the 1 MiB bound is refused, not read whole. */
START_TEST(test_oversized_file_is_refused) {
        char path[128], err[1024] = "", want[300];
        sb_tls_t *t = (sb_tls_t *)1;
        snprintf(path, sizeof(path), "%s/big.pem", pki.dir);
        FILE *f = fopen(path, "w");
        ck_assert_ptr_nonnull(f);
        for (int i = 0; i < SB_TLS_MAX_PEM / 64 + 1; i++)
                fputs("aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\n", f);
        ck_assert_int_eq(fclose(f), 0);
        sb_tls_files_t files = {.cert_file = pki.server.cert_path,
                                .key_file = path,
                                .cert_setting = "metrics_tls_cert_file",
                                .key_setting = "metrics_tls_key_file"};
        ck_assert_int_eq(sb_tls_new(&files, &t, err, sizeof(err)), SB_ERR_CONFIG);
        ck_assert_ptr_null(t);
        snprintf(want, sizeof(want), "metrics_tls_key_file %s: larger than 1 MiB", path);
        ck_assert_str_eq(err, want);
        remove(path);
}
END_TEST

static int has_setting(const sb_setting_t *t, size_t n, const char *name) {
        for (size_t i = 0; i < n; i++)
                if (strcmp(t[i].name, name) == 0)
                        return 1;
        return 0;
}

START_TEST(test_every_daemon_has_the_settings) {
        const struct {
                const char *program;
                const sb_setting_t *table;
                size_t n;
        } daemons[] = {
                {"sharebus-producer", sb_producer_settings, sb_producer_settings_count},
                {"sharebus-subscriber", sb_subscriber_settings, sb_subscriber_settings_count},
                {"sharebus-lag", sb_lag_settings, sb_lag_settings_count},
        };
        static const char *const names[] = {"metrics_listen", "metrics_max_connections",
                                            "metrics_tls_cert_file", "metrics_tls_key_file"};
        for (size_t d = 0; d < sizeof(daemons) / sizeof(daemons[0]); d++)
                for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
                        ck_assert_msg(has_setting(daemons[d].table, daemons[d].n, names[i]), "%s has no %s",
                                      daemons[d].program, names[i]);
        ck_assert_str_eq(table[2].name, "metrics_tls_cert_file");
        ck_assert_str_eq(table[2].def, "");
        ck_assert_str_eq(table[3].name, "metrics_tls_key_file");
        ck_assert_str_eq(table[3].def, "");
}
END_TEST

int main(void) {
        curl_global_init(CURL_GLOBAL_ALL);
        Suite *s = suite_create("http_server_tls");
        TCase *tc = tcase_create("tls");
        tcase_add_checked_fixture(tc, pki_setup, pki_teardown);
        tcase_set_timeout(tc, 60);
        tcase_add_test(tc, test_metrics_and_healthz_over_https);
        tcase_add_test(tc, test_plain_http_to_the_tls_port_fails);
        tcase_add_test(tc, test_cert_without_key_is_a_config_error);
        tcase_add_test(tc, test_wrong_files_are_named);
        tcase_add_test(tc, test_sb_tls_alone);
        tcase_add_test(tc, test_oversized_file_is_refused);
        tcase_add_test(tc, test_every_daemon_has_the_settings);
        suite_add_tcase(s, tc);
        int rc = test_run_suite(s);
        curl_global_cleanup();
        return rc;
}

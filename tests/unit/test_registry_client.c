/*
 * test_registry_client: sb_registry_client against a tiny in-process
 * registry (libmicrohttpd on 127.0.0.1, canned answers, its own request
 * counters): the cache (a warm client never asks again), single flight
 * across threads, failover across URLs, errors, Basic auth and TLS with a
 * client certificate.
 */
#include <check.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "regd_tls.h"
#include "sb_registry_client.h"
#include "testcerts.h"
#include "testutil.h"

#define SCHEMA_TEXT                                                                                          \
        "{\"type\":\"record\",\"name\":\"K\",\"fields\":[{\"name\":\"uscc\",\"type\":\"string\"}]}"

typedef struct {
        struct MHD_Daemon *daemon;
        sb_tls_t *tls;
        unsigned port;
        unsigned fail_status;          /* answer everything with this, if set */
        unsigned delay_ms;             /* before each answer */
        const char *want_auth;         /* the Authorization value required, if set */
        int registers, fetches, total; /* requests seen (atomic) */
        pthread_mutex_t lock;
        char last_auth[256], last_cn[256];
} fake_t;

static enum MHD_Result answer(struct MHD_Connection *c, unsigned status, const char *body, int challenge) {
        struct MHD_Response *r =
                MHD_create_response_from_buffer(strlen(body), (void *)body, MHD_RESPMEM_MUST_COPY);
        MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, "application/vnd.schemaregistry.v1+json");
        if (challenge)
                MHD_add_response_header(r, MHD_HTTP_HEADER_WWW_AUTHENTICATE, "Basic realm=\"sharebus\"");
        enum MHD_Result ret = MHD_queue_response(c, status, r);
        MHD_destroy_response(r);
        return ret;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *c, const char *url, const char *method,
                                  const char *version, const char *upload_data, size_t *upload_data_size,
                                  void **con_cls) {
        fake_t *f = cls;
        char cn[256] = "", errstr[256];
        (void)version, (void)upload_data;
        if (!*con_cls) {
                *con_cls = f;
                return MHD_YES;
        }
        if (*upload_data_size) {
                *upload_data_size = 0;
                return MHD_YES;
        }
        __atomic_add_fetch(&f->total, 1, __ATOMIC_SEQ_CST);
        const char *auth = MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_AUTHORIZATION);
        regd_tls_cert_cn(c, cn, sizeof(cn), errstr, sizeof(errstr));
        pthread_mutex_lock(&f->lock);
        snprintf(f->last_auth, sizeof(f->last_auth), "%s", auth ? auth : "");
        snprintf(f->last_cn, sizeof(f->last_cn), "%s", cn);
        pthread_mutex_unlock(&f->lock);
        if (f->delay_ms) {
                struct timespec ts = {0, (long)f->delay_ms * 1000000L};
                nanosleep(&ts, NULL);
        }
        if (f->fail_status)
                return answer(c, f->fail_status, "{\"error_code\":50001,\"message\":\"store is down\"}", 0);
        if (f->want_auth && (!auth || strcmp(auth, f->want_auth) != 0))
                return answer(c, 401, "{\"error_code\":40101,\"message\":\"Unauthorized\"}", 1);

        int n = 0;
        char subject[128];
        if (strcmp(method, "POST") == 0 && sscanf(url, "/subjects/%127[^/]/versions%n", subject, &n) == 1 &&
            url[n] == '\0') {
                __atomic_add_fetch(&f->registers, 1, __ATOMIC_SEQ_CST);
                if (strcmp(subject, "market.refused-value") == 0)
                        return answer(c, 409,
                                      "{\"error_code\":409,\"message\":\"Schema being registered is "
                                      "incompatible with an earlier schema\"}",
                                      0);
                if (strcmp(subject, "market.other-value") == 0)
                        return answer(c, 200, "{\"id\":8}", 0);
                return answer(c, 200, "{\"id\":7}", 0);
        }
        if (strcmp(method, "GET") == 0 && strncmp(url, "/schemas/ids/", 13) == 0) {
                __atomic_add_fetch(&f->fetches, 1, __ATOMIC_SEQ_CST);
                if (strcmp(url + 13, "7") == 0 || strcmp(url + 13, "8") == 0)
                        return answer(c, 200,
                                      "{\"schema\":\"{\\\"type\\\":\\\"record\\\",\\\"name\\\":\\\"K\\\","
                                      "\\\"fields\\\":[{\\\"name\\\":\\\"uscc\\\",\\\"type\\\":"
                                      "\\\"string\\\"}]}\"}",
                                      0);
                if (strcmp(url + 13, "500") == 0)
                        return answer(c, 500, "{\"error_code\":50001,\"message\":\"Error in the backend\"}",
                                      0);
                if (strcmp(url + 13, "11") == 0)
                        return answer(c, 200,
                                      "{\"schema\":\"syntax = \\\"proto3\\\";\",\"schemaType\":\"PROTOBUF\"}",
                                      0);
                char body[128];
                snprintf(body, sizeof(body), "{\"error_code\":40403,\"message\":\"Schema %s not found\"}",
                         url + 13);
                return answer(c, 404, body, 0);
        }
        return answer(c, 404, "{\"error_code\":404,\"message\":\"HTTP 404 Not Found\"}", 0);
}

static void fake_start(fake_t *f, const test_cert_t *server, const char *client_ca_path) {
        struct MHD_OptionItem tls[SB_TLS_MHD_OPTIONS] = {{MHD_OPTION_END, 0, NULL}};
        unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_THREAD_PER_CONNECTION | MHD_USE_AUTO;
        char errstr[512] = "";
        struct sockaddr_in sin;

        memset(f, 0, sizeof(*f));
        pthread_mutex_init(&f->lock, NULL);
        if (server) {
                ck_assert_msg(regd_tls_new(server->cert_path, server->key_path, client_ca_path, &f->tls,
                                           errstr, sizeof(errstr)) == SB_OK,
                              "%s", errstr);
                sb_tls_mhd_options(f->tls, tls);
                flags |= MHD_USE_TLS;
        }
        memset(&sin, 0, sizeof(sin));
        sin.sin_family = AF_INET;
        sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        f->daemon = MHD_start_daemon(flags, 0, NULL, NULL, on_request, f, MHD_OPTION_SOCK_ADDR, &sin,
                                     MHD_OPTION_ARRAY, tls, MHD_OPTION_END);
        ck_assert_ptr_nonnull(f->daemon);
        f->port = MHD_get_daemon_info(f->daemon, MHD_DAEMON_INFO_BIND_PORT)->port;
}

static void fake_stop(fake_t *f) {
        MHD_stop_daemon(f->daemon);
        sb_tls_destroy(f->tls);
        pthread_mutex_destroy(&f->lock);
}

static int seen(int *counter) { return __atomic_load_n(counter, __ATOMIC_SEQ_CST); }

/* A port on which nothing listens: bound (so no one else takes it while
 * the test runs) but not listening, so a connection is refused. */
static int closed_port(unsigned *port) {
        struct sockaddr_in sin;
        socklen_t len = sizeof(sin);
        int fd = socket(AF_INET, SOCK_STREAM, 0);
        ck_assert_int_ge(fd, 0);
        memset(&sin, 0, sizeof(sin));
        sin.sin_family = AF_INET;
        sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        ck_assert_int_eq(bind(fd, (struct sockaddr *)&sin, sizeof(sin)), 0);
        ck_assert_int_eq(getsockname(fd, (struct sockaddr *)&sin, &len), 0);
        *port = ntohs(sin.sin_port);
        return fd;
}

static sb_registry_client_t *client_new(const char *urls) {
        char errstr[512] = "";
        sb_registry_client_t *rc = NULL;
        ck_assert_msg(sb_registry_client_new(urls, &rc, errstr, sizeof(errstr)) == SB_OK && rc,
                      "sb_registry_client_new(%s): %s", urls, errstr);
        return rc;
}

static sb_registry_client_t *client_for(const fake_t *f) {
        char url[128];
        snprintf(url, sizeof(url), "http://127.0.0.1:%u", f->port);
        return client_new(url);
}

START_TEST(register_cached) {
        fake_t f;
        int32_t id = 0;
        fake_start(&f, NULL, NULL);
        sb_registry_client_t *rc = client_for(&f);
        for (int i = 0; i < 1000; i++) {
                TEST_CALL(
                        sb_registry_register(rc, "market.business_license-key", SCHEMA_TEXT, &id, TEST_ERR));
                ck_assert_int_eq(id, 7);
        }
        ck_assert_uint_eq(sb_registry_client_requests(rc), 1);
        ck_assert_int_eq(seen(&f.registers), 1);
        ck_assert_int_eq(seen(&f.total), 1);
        /* another subject, or another schema, is another key */
        TEST_CALL(sb_registry_register(rc, "market.other-value", SCHEMA_TEXT, &id, TEST_ERR));
        ck_assert_int_eq(id, 8);
        TEST_CALL(sb_registry_register(rc, "market.business_license-key", "\"string\"", &id, TEST_ERR));
        for (int i = 0; i < 1000; i++) {
                TEST_CALL(sb_registry_register(rc, "market.other-value", SCHEMA_TEXT, &id, TEST_ERR));
                TEST_CALL(
                        sb_registry_register(rc, "market.business_license-key", "\"string\"", &id, TEST_ERR));
        }
        ck_assert_uint_eq(sb_registry_client_requests(rc), 3);
        ck_assert_int_eq(seen(&f.registers), 3);
        sb_registry_client_destroy(rc);
        fake_stop(&f);
}
END_TEST

START_TEST(schema_by_id_cached) {
        fake_t f;
        sb_schema_t *first = NULL, *s = NULL;
        fake_start(&f, NULL, NULL);
        sb_registry_client_t *rc = client_for(&f);
        TEST_CALL(sb_registry_schema_by_id(rc, 7, &first, TEST_ERR));
        ck_assert_ptr_nonnull(first);
        for (int i = 0; i < 1000; i++) {
                TEST_CALL(sb_registry_schema_by_id(rc, 7, &s, TEST_ERR));
                ck_assert_ptr_eq(s, first);
        }
        ck_assert_uint_eq(sb_registry_client_requests(rc), 1);
        ck_assert_int_eq(seen(&f.fetches), 1);
        ck_assert_int_eq(seen(&f.total), 1);
        sb_registry_client_destroy(rc);
        fake_stop(&f);
}
END_TEST

typedef struct {
        sb_registry_client_t *rc;
        pthread_barrier_t *start;
        int failures;
        sb_schema_t *schema;
} worker_t;

static void *hammer(void *arg) {
        worker_t *w = arg;
        char errstr[512];
        pthread_barrier_wait(w->start);
        for (int i = 0; i < 200; i++) {
                int32_t id = 0;
                sb_schema_t *s = NULL;
                if (sb_registry_register(w->rc, "market.business_license-key", SCHEMA_TEXT, &id, errstr,
                                         sizeof(errstr)) ||
                    id != 7)
                        w->failures++;
                if (sb_registry_schema_by_id(w->rc, 7, &s, errstr, sizeof(errstr)) ||
                    (w->schema && s != w->schema))
                        w->failures++;
                w->schema = s;
        }
        return NULL;
}

/* Starts `n` workers running `fn` on `rc` at once (a barrier) and joins
 * them; each must report no failure. */
static void run_workers(sb_registry_client_t *rc, void *(*fn)(void *), worker_t *w, int n) {
        pthread_t t[16];
        pthread_barrier_t start;
        ck_assert_int_le(n, 16);
        pthread_barrier_init(&start, NULL, (unsigned)n);
        for (int i = 0; i < n; i++) {
                w[i] = (worker_t){rc, &start, 0, NULL};
                ck_assert_int_eq(pthread_create(&t[i], NULL, fn, &w[i]), 0);
        }
        for (int i = 0; i < n; i++) {
                pthread_join(t[i], NULL);
                ck_assert_int_eq(w[i].failures, 0);
        }
        pthread_barrier_destroy(&start);
}

/* Eight threads miss at once on a slow registry: one request per key. */
START_TEST(threads_share_one_request) {
        enum { N = 8 };
        fake_t f;
        worker_t w[N];
        fake_start(&f, NULL, NULL);
        f.delay_ms = 300;
        sb_registry_client_t *rc = client_for(&f);
        run_workers(rc, hammer, w, N);
        for (int i = 0; i < N; i++)
                ck_assert_ptr_eq(w[i].schema, w[0].schema);
        ck_assert_uint_eq(sb_registry_client_requests(rc), 2);
        ck_assert_int_eq(seen(&f.registers), 1);
        ck_assert_int_eq(seen(&f.fetches), 1);
        sb_registry_client_destroy(rc);
        fake_stop(&f);
}
END_TEST

static void *fetch_missing(void *arg) {
        worker_t *w = arg;
        char errstr[512] = "";
        sb_schema_t *s = NULL;
        pthread_barrier_wait(w->start);
        if (sb_registry_schema_by_id(w->rc, 9, &s, errstr, sizeof(errstr)) != SB_ERR_NOT_FOUND ||
            !strstr(errstr, "Schema 9 not found"))
                w->failures++;
        return NULL;
}

/* Threads waiting on a request that fails get its error. */
START_TEST(threads_share_one_failure) {
        enum { N = 8 };
        fake_t f;
        worker_t w[N];
        fake_start(&f, NULL, NULL);
        f.delay_ms = 300;
        sb_registry_client_t *rc = client_for(&f);
        run_workers(rc, fetch_missing, w, N);
        /* they started together: at most a straggler asks again */
        ck_assert_int_le(seen(&f.fetches), 2);
        sb_registry_client_destroy(rc);
        fake_stop(&f);
}
END_TEST

START_TEST(failover_refused_connection) {
        fake_t f;
        unsigned dead;
        int32_t id = 0;
        sb_schema_t *s = NULL;
        char urls[256];
        int fd = closed_port(&dead);
        fake_start(&f, NULL, NULL);
        snprintf(urls, sizeof(urls), "http://127.0.0.1:%u, http://127.0.0.1:%u/", dead, f.port);
        sb_registry_client_t *rc = client_new(urls);
        TEST_CALL(sb_registry_register(rc, "market.business_license-key", SCHEMA_TEXT, &id, TEST_ERR));
        ck_assert_int_eq(id, 7);
        ck_assert_uint_eq(sb_registry_client_requests(rc), 2); /* the dead one, then the live one */
        ck_assert_int_eq(seen(&f.total), 1);
        /* the URL that answered is asked first from now on */
        TEST_CALL(sb_registry_schema_by_id(rc, 7, &s, TEST_ERR));
        ck_assert_uint_eq(sb_registry_client_requests(rc), 3);
        ck_assert_int_eq(seen(&f.total), 2);
        sb_registry_client_destroy(rc);
        fake_stop(&f);
        close(fd);
}
END_TEST

START_TEST(failover_server_error) {
        fake_t down, up;
        int32_t id = 0;
        char urls[256];
        fake_start(&down, NULL, NULL);
        fake_start(&up, NULL, NULL);
        down.fail_status = 503;
        snprintf(urls, sizeof(urls), "http://127.0.0.1:%u,http://127.0.0.1:%u", down.port, up.port);
        sb_registry_client_t *rc = client_new(urls);
        TEST_CALL(sb_registry_register(rc, "market.business_license-key", SCHEMA_TEXT, &id, TEST_ERR));
        ck_assert_int_eq(id, 7);
        ck_assert_int_eq(seen(&down.total), 1);
        ck_assert_int_eq(seen(&up.total), 1);
        sb_registry_client_destroy(rc);
        fake_stop(&down);
        fake_stop(&up);
}
END_TEST

START_TEST(all_urls_refused) {
        unsigned p1, p2;
        int fd1 = closed_port(&p1), fd2 = closed_port(&p2);
        char urls[256], errstr[1024] = "", want[128];
        int32_t id = 0;
        sb_schema_t *s = NULL;
        snprintf(urls, sizeof(urls), "http://127.0.0.1:%u,http://127.0.0.1:%u", p1, p2);
        sb_registry_client_t *rc = client_new(urls);
        ck_assert_int_eq(sb_registry_register(rc, "market.x-value", SCHEMA_TEXT, &id, errstr, sizeof(errstr)),
                         SB_ERR_REGISTRY);
        ck_assert_msg(strstr(errstr, "POST /subjects/market.x-value/versions: no schema registry answered") !=
                              NULL,
                      "%s", errstr);
        snprintf(want, sizeof(want), "http://127.0.0.1:%u/subjects/market.x-value/versions: ", p1);
        ck_assert_msg(strstr(errstr, want) != NULL, "%s lacks %s", errstr, want);
        snprintf(want, sizeof(want), "http://127.0.0.1:%u/subjects/market.x-value/versions: ", p2);
        ck_assert_msg(strstr(errstr, want) != NULL, "%s lacks %s", errstr, want);
        ck_assert_msg(strstr(errstr, "onnect") != NULL, "%s",
                      errstr); /* "Couldn't connect", "Connection refused" */
        ck_assert_uint_eq(sb_registry_client_requests(rc), 2);
        ck_assert_int_eq(sb_registry_schema_by_id(rc, 7, &s, errstr, sizeof(errstr)), SB_ERR_REGISTRY);
        ck_assert_msg(strstr(errstr, "GET /schemas/ids/7: no schema registry answered") != NULL, "%s",
                      errstr);
        /* a failure is not cached: the next call asks again */
        ck_assert_int_eq(sb_registry_schema_by_id(rc, 7, &s, errstr, sizeof(errstr)), SB_ERR_REGISTRY);
        ck_assert_uint_eq(sb_registry_client_requests(rc), 6);
        sb_registry_client_destroy(rc);
        close(fd1);
        close(fd2);
}
END_TEST

START_TEST(answers_that_are_errors) {
        fake_t f;
        char errstr[1024] = "";
        sb_schema_t *s = NULL;
        int32_t id = 0;
        fake_start(&f, NULL, NULL);
        sb_registry_client_t *rc = client_for(&f);
        ck_assert_int_eq(sb_registry_schema_by_id(rc, 9, &s, errstr, sizeof(errstr)), SB_ERR_NOT_FOUND);
        ck_assert_str_eq(errstr,
                         "fetch schema id 9: registry answered HTTP 404 (error 40403): Schema 9 not found");
        ck_assert_int_eq(sb_registry_schema_by_id(rc, 500, &s, errstr, sizeof(errstr)), SB_ERR_REGISTRY);
        ck_assert_str_eq(
                errstr,
                "fetch schema id 500: registry answered HTTP 500 (error 50001): Error in the backend");
        ck_assert_int_eq(sb_registry_schema_by_id(rc, 11, &s, errstr, sizeof(errstr)), SB_ERR_SCHEMA);
        ck_assert_str_eq(errstr, "schema id 11 is of type PROTOBUF, not Avro");
        ck_assert_int_eq(
                sb_registry_register(rc, "market.refused-value", SCHEMA_TEXT, &id, errstr, sizeof(errstr)),
                SB_ERR_REGISTRY);
        ck_assert_msg(strstr(errstr,
                             "register schema under subject 'market.refused-value': registry answered "
                             "HTTP 409 (error 409): Schema being registered is incompatible") != NULL,
                      "%s", errstr);
        f.fail_status = 502;
        ck_assert_int_eq(sb_registry_register(rc, "market.x-value", SCHEMA_TEXT, &id, errstr, sizeof(errstr)),
                         SB_ERR_REGISTRY);
        ck_assert_msg(strstr(errstr, "HTTP 502") != NULL, "%s", errstr);
        sb_registry_client_destroy(rc);
        fake_stop(&f);
}
END_TEST

START_TEST(basic_auth_sent) {
        fake_t f;
        char errstr[1024] = "";
        int32_t id = 0;
        fake_start(&f, NULL, NULL);
        f.want_auth = "Basic bWFya2V0Om1hcmtldC1wdw=="; /* market:market-pw */
        sb_registry_client_t *rc = client_for(&f);
        ck_assert_int_eq(sb_registry_register(rc, "market.x-value", SCHEMA_TEXT, &id, errstr, sizeof(errstr)),
                         SB_ERR_REGISTRY);
        ck_assert_msg(strstr(errstr, "HTTP 401 (error 40101): Unauthorized (check registry_user and "
                                     "registry_password)") != NULL,
                      "%s", errstr);
        ck_assert_str_eq(f.last_auth, "");
        TEST_CALL(sb_registry_client_set_auth(rc, "market", "wrong", TEST_ERR));
        ck_assert_int_eq(sb_registry_register(rc, "market.x-value", SCHEMA_TEXT, &id, errstr, sizeof(errstr)),
                         SB_ERR_REGISTRY);
        ck_assert_str_eq(f.last_auth, "Basic bWFya2V0Ondyb25n");
        TEST_CALL(sb_registry_client_set_auth(rc, "market", "market-pw", TEST_ERR));
        TEST_CALL(sb_registry_register(rc, "market.x-value", SCHEMA_TEXT, &id, TEST_ERR));
        ck_assert_int_eq(id, 7);
        ck_assert_str_eq(f.last_auth, f.want_auth);
        /* an empty password is sent as such; NULL user turns auth off */
        TEST_CALL(sb_registry_client_set_auth(rc, "market", NULL, TEST_ERR));
        TEST_CALL(sb_registry_client_set_auth(rc, "market", "", TEST_ERR));
        ck_assert_int_ne(sb_registry_register(rc, "market.y-value", SCHEMA_TEXT, &id, errstr, sizeof(errstr)),
                         SB_OK);
        ck_assert_str_eq(f.last_auth, "Basic bWFya2V0Og==");
        TEST_CALL(sb_registry_client_set_auth(rc, NULL, NULL, TEST_ERR));
        ck_assert_int_ne(sb_registry_register(rc, "market.y-value", SCHEMA_TEXT, &id, errstr, sizeof(errstr)),
                         SB_OK);
        ck_assert_str_eq(f.last_auth, "");
        ck_assert_int_eq(sb_registry_client_set_auth(rc, "a:b", "pw", errstr, sizeof(errstr)), SB_ERR_CONFIG);
        ck_assert_msg(strstr(errstr, "cannot hold ':'") != NULL, "%s", errstr);
        sb_registry_client_destroy(rc);
        fake_stop(&f);
}
END_TEST

START_TEST(tls_with_client_certificate) {
        fake_t f;
        test_cert_t ca, other_ca, server, client;
        char dir[64] = "/tmp/sharebus-tls-XXXXXX", url[128], errstr[1024] = "";
        int32_t id = 0;
        ck_assert_ptr_nonnull(mkdtemp(dir));
        test_cert_make(&ca, TEST_CERT_CA, "test CA", NULL, -1, 30);
        test_cert_make(&other_ca, TEST_CERT_CA, "other CA", NULL, -1, 30);
        test_cert_make(&server, TEST_CERT_SERVER, "127.0.0.1", &ca, -1, 30);
        test_cert_make(&client, TEST_CERT_CLIENT, "market", &ca, -1, 30);
        test_cert_write(&ca, dir, "ca");
        test_cert_write(&other_ca, dir, "other-ca");
        test_cert_write(&server, dir, "server");
        test_cert_write(&client, dir, "client");
        fake_start(&f, &server, ca.cert_path);
        snprintf(url, sizeof(url), "https://127.0.0.1:%u", f.port);

        /* the registry's certificate is checked: the system CAs do not know it */
        sb_registry_client_t *rc = client_new(url);
        ck_assert_int_eq(sb_registry_register(rc, "market.x-value", SCHEMA_TEXT, &id, errstr, sizeof(errstr)),
                         SB_ERR_REGISTRY);
        ck_assert_msg(strstr(errstr, "no schema registry answered") && strstr(errstr, "certificate"), "%s",
                      errstr);
        TEST_CALL(sb_registry_client_set_tls(rc, other_ca.cert_path, NULL, NULL, TEST_ERR));
        ck_assert_int_eq(sb_registry_register(rc, "market.x-value", SCHEMA_TEXT, &id, errstr, sizeof(errstr)),
                         SB_ERR_REGISTRY);
        ck_assert_int_eq(seen(&f.total), 0);

        /* the right CA, no client certificate */
        TEST_CALL(sb_registry_client_set_tls(rc, ca.cert_path, NULL, NULL, TEST_ERR));
        TEST_CALL(sb_registry_register(rc, "market.x-value", SCHEMA_TEXT, &id, TEST_ERR));
        ck_assert_str_eq(f.last_cn, "");
        /* with the client certificate, the server sees its CN */
        TEST_CALL(sb_registry_client_set_tls(rc, ca.cert_path, client.cert_path, client.key_path, TEST_ERR));
        TEST_CALL(sb_registry_client_set_auth(rc, "market", "market-pw", TEST_ERR));
        TEST_CALL(sb_registry_register(rc, "market.y-value", SCHEMA_TEXT, &id, TEST_ERR));
        ck_assert_str_eq(f.last_cn, "market");
        ck_assert_str_eq(f.last_auth, "Basic bWFya2V0Om1hcmtldC1wdw==");

        ck_assert_int_eq(sb_registry_client_set_tls(rc, NULL, NULL, client.key_path, errstr, sizeof(errstr)),
                         SB_ERR_CONFIG);
        ck_assert_msg(strstr(errstr, "without a certificate file") != NULL, "%s", errstr);
        /* a missing file is named when it is used */
        TEST_CALL(sb_registry_client_set_tls(rc, ca.cert_path, "/nonexistent.crt", NULL, TEST_ERR));
        ck_assert_int_eq(sb_registry_register(rc, "market.z-value", SCHEMA_TEXT, &id, errstr, sizeof(errstr)),
                         SB_ERR_REGISTRY);
        ck_assert_msg(strstr(errstr, "/nonexistent.crt") || strstr(errstr, "certificate"), "%s", errstr);

        sb_registry_client_destroy(rc);
        fake_stop(&f);
        test_cert_free(&ca);
        test_cert_free(&other_ca);
        test_cert_free(&server);
        test_cert_free(&client);
        rmdir(dir);
}
END_TEST

START_TEST(urls_parsed) {
        char errstr[256] = "";
        {
                sb_registry_client_t *none = (sb_registry_client_t *)1;
                ck_assert_int_eq(sb_registry_client_new("", &none, errstr, sizeof(errstr)), SB_ERR_CONFIG);
                ck_assert_ptr_null(none);
        }
        ck_assert_str_eq(errstr, "no schema registry URL given");
        {
                sb_registry_client_t *none = (sb_registry_client_t *)1;
                ck_assert_int_eq(sb_registry_client_new(" , ,", &none, errstr, sizeof(errstr)),
                                 SB_ERR_CONFIG);
                ck_assert_ptr_null(none);
        }
        {
                sb_registry_client_t *none = (sb_registry_client_t *)1;
                ck_assert_int_eq(sb_registry_client_new(NULL, &none, errstr, sizeof(errstr)), SB_ERR_CONFIG);
                ck_assert_ptr_null(none);
        }
}
END_TEST

int main(void) {
        Suite *s = suite_create("registry_client");
        TCase *tc = tcase_create("client");
        tcase_set_timeout(tc, 120);
        tcase_add_test(tc, register_cached);
        tcase_add_test(tc, schema_by_id_cached);
        tcase_add_test(tc, threads_share_one_request);
        tcase_add_test(tc, threads_share_one_failure);
        tcase_add_test(tc, failover_refused_connection);
        tcase_add_test(tc, failover_server_error);
        tcase_add_test(tc, all_urls_refused);
        tcase_add_test(tc, answers_that_are_errors);
        tcase_add_test(tc, basic_auth_sent);
        tcase_add_test(tc, tls_with_client_certificate);
        tcase_add_test(tc, urls_parsed);
        suite_add_tcase(s, tc);
        return test_run_suite(s);
}

/*
 * test_registry_tls: the registry's TLS glue end to end: libmicrohttpd
 * with regd_tls's options and regd_authz's decisions, and libcurl with
 * client certificates made by GnuTLS at test time; the TLS files checked
 * at start.  The decisions themselves are in test_registry_auth.
 */
#include <check.h>
#include <curl/curl.h>
#include <jansson.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "regd_authz.h"
#include "regd_http.h"
#include "regd_tls.h"
#include "testauth.h"
#include "testcerts.h"
#include "testutil.h"

#define A REGD_AUTHZ_ALLOW
#define U REGD_AUTHZ_UNAUTHORIZED
#define F REGD_AUTHZ_FORBIDDEN

/* ---- the calls under test, in the shape the tests use ---- */

static sb_tls_t *tls_load(const char *cert, const char *key, const char *ca, char *errstr,
                          size_t errstr_size) {
        sb_tls_t *t = NULL;
        sb_err_t err = regd_tls_new(cert, key, ca, &t, errstr, errstr_size);
        ck_assert((err == SB_OK) == (t != NULL));
        return t;
}

/* ---- TLS end to end: MHD with registry_auth's options, curl as client ---- */

typedef struct {
        struct MHD_Daemon *daemon;
        regd_authz_t *auth;
        sb_tls_t *tls;
        unsigned port;
} server_t;

/* What registry_http's on_request does with auth, in a few lines: the
 * decision and a Confluent-style error body. */
static enum MHD_Result on_request(void *cls, struct MHD_Connection *c, const char *url, const char *method,
                                  const char *version, const char *upload_data, size_t *upload_data_size,
                                  void **con_cls) {
        server_t *srv = cls;
        char cn[256], user[256], password[256], reason[512], errstr[256], body[1024];
        const char *who_cert = NULL, *who_user = NULL;
        regd_authz_decision_t d;
        (void)version, (void)upload_data;

        if (!*con_cls) {
                *con_cls = srv;
                return MHD_YES;
        }
        if (*upload_data_size) {
                *upload_data_size = 0;
                return MHD_YES;
        }
        sb_err_t cerr = regd_tls_cert_cn(c, cn, sizeof(cn), errstr, sizeof(errstr));
        sb_err_t berr = regd_authz_parse_basic(
                MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_AUTHORIZATION), user,
                sizeof(user), password, sizeof(password), reason, sizeof(reason));
        if (cerr == SB_OK)
                who_cert = cn;
        if (berr == SB_OK)
                who_user = user;
        if (cerr == SB_ERR_INVALID || berr == SB_ERR_INVALID) {
                d = REGD_AUTHZ_UNAUTHORIZED;
                if (cerr == SB_ERR_INVALID)
                        snprintf(reason, sizeof(reason), "%s", errstr);
        } else {
                d = decide(srv->auth, who_user, password, who_cert, method, url, reason, sizeof(reason));
        }
        json_t *j = d == REGD_AUTHZ_ALLOW
                            ? json_pack("{s:s,s:s}", "cn", who_cert ? who_cert : "", "reason", reason)
                            : json_pack("{s:i,s:s}", "error_code",
                                        d == REGD_AUTHZ_UNAUTHORIZED ? 40101 : 40301, "message", reason);
        char *text = json_dumps(j, JSON_COMPACT);
        json_decref(j);
        snprintf(body, sizeof(body), "%s", text ? text : "");
        free(text);
        struct MHD_Response *resp =
                MHD_create_response_from_buffer(strlen(body), body, MHD_RESPMEM_MUST_COPY);
        if (d == REGD_AUTHZ_UNAUTHORIZED)
                MHD_add_response_header(resp, MHD_HTTP_HEADER_WWW_AUTHENTICATE, "Basic realm=\"sharebus\"");
        enum MHD_Result r = MHD_queue_response(c, d == REGD_AUTHZ_ALLOW ? 200 : (unsigned)d, resp);
        MHD_destroy_response(resp);
        return r;
}

static size_t keep_escaped(void *cls, struct MHD_Connection *c, char *s) {
        (void)cls, (void)c;
        return strlen(s);
}

static void server_start(server_t *srv, const test_cert_t *server_cert, const test_cert_t *client_ca,
                         int reads_need_auth, const char *dir) {
        char errstr[512] = "";
        struct MHD_OptionItem tls[SB_TLS_MHD_OPTIONS];
        unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_AUTO;

        memset(srv, 0, sizeof(*srv));
        srv->auth = auth_new(reads_need_auth);
        tls[0] = (struct MHD_OptionItem){MHD_OPTION_END, 0, NULL};
        if (server_cert) {
                char ca_path[300] = "";
                if (client_ca) {
                        snprintf(ca_path, sizeof(ca_path), "%s/client-ca.crt", dir);
                        test_cert_write_file(ca_path, client_ca->cert_pem);
                }
                srv->tls = tls_load(server_cert->cert_path, server_cert->key_path, ca_path, errstr,
                                    sizeof(errstr));
                ck_assert_msg(srv->tls != NULL, "regd_tls_new: %s", errstr);
                sb_tls_mhd_options(srv->tls, tls);
                flags |= MHD_USE_TLS;
        }
        struct sockaddr_in sin;
        memset(&sin, 0, sizeof(sin));
        sin.sin_family = AF_INET;
        sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        srv->daemon = MHD_start_daemon(flags, 0, NULL, NULL, on_request, srv, MHD_OPTION_SOCK_ADDR, &sin,
                                       MHD_OPTION_ARRAY, tls, MHD_OPTION_UNESCAPE_CALLBACK, keep_escaped,
                                       NULL, MHD_OPTION_END);
        ck_assert_ptr_nonnull(srv->daemon);
        srv->port = MHD_get_daemon_info(srv->daemon, MHD_DAEMON_INFO_BIND_PORT)->port;
}

static void server_stop(server_t *srv) {
        MHD_stop_daemon(srv->daemon);
        regd_authz_destroy(srv->auth);
        sb_tls_destroy(srv->tls);
}

static size_t collect(char *data, size_t size, size_t nmemb, void *opaque) {
        char *buf = opaque;
        size_t have = strlen(buf), n = size * nmemb;
        if (have + n < 2048) {
                memcpy(buf + have, data, n);
                buf[have + n] = '\0';
        }
        return n;
}

static size_t collect_header(char *data, size_t size, size_t nmemb, void *opaque) {
        if (size * nmemb > 17 && strncasecmp(data, "WWW-Authenticate:", 17) == 0)
                *(int *)opaque = 1;
        return size * nmemb;
}

/* One request; returns the status (0 if the TLS or TCP part failed, with
 * curl's reason in body). */
static long call(const server_t *srv, int https, const char *method, const char *path, const char *ca,
                 const test_cert_t *client, const char *userpwd, char body[2048], int *www_authenticate) {
        char url[512];
        long status = 0;
        CURL *curl = curl_easy_init();
        ck_assert_ptr_nonnull(curl);
        snprintf(url, sizeof(url), "%s://127.0.0.1:%u%s", https ? "https" : "http", srv->port, path);
        body[0] = '\0';
        *www_authenticate = 0;
        curl_easy_setopt(curl, CURLOPT_URL, url);
        curl_easy_setopt(curl, CURLOPT_CUSTOMREQUEST, method);
        if (strcmp(method, "POST") == 0)
                curl_easy_setopt(curl, CURLOPT_POSTFIELDS, "{}");
        curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, collect);
        curl_easy_setopt(curl, CURLOPT_WRITEDATA, body);
        curl_easy_setopt(curl, CURLOPT_HEADERFUNCTION, collect_header);
        curl_easy_setopt(curl, CURLOPT_HEADERDATA, www_authenticate);
        curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS, 10000L);
        curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
        if (ca)
                curl_easy_setopt(curl, CURLOPT_CAINFO, ca);
        if (client) {
                curl_easy_setopt(curl, CURLOPT_SSLCERT, client->cert_path);
                curl_easy_setopt(curl, CURLOPT_SSLKEY, client->key_path);
        }
        if (userpwd) {
                curl_easy_setopt(curl, CURLOPT_HTTPAUTH, (long)CURLAUTH_BASIC);
                curl_easy_setopt(curl, CURLOPT_USERPWD, userpwd);
        }
        CURLcode cc = curl_easy_perform(curl);
        if (cc == CURLE_OK)
                curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &status);
        else
                snprintf(body, 2048, "%s", curl_easy_strerror(cc));
        curl_easy_cleanup(curl);
        return status;
}

typedef struct {
        char dir[64];
        test_cert_t ca, rogue_ca, server, market, ops, stranger, expired, server_purpose, no_purpose,
                rogue_ops;
} pki_t;

static void pki_make(pki_t *p) {
        snprintf(p->dir, sizeof(p->dir), "/tmp/sharebus-tls-XXXXXX");
        ck_assert_ptr_nonnull(mkdtemp(p->dir));
        test_cert_make(&p->ca, TEST_CERT_CA, "sharebus test CA", NULL, -1, 30);
        test_cert_make(&p->rogue_ca, TEST_CERT_CA, "sharebus test CA", NULL, -1, 30); /* same name */
        test_cert_make(&p->server, TEST_CERT_SERVER, "127.0.0.1", &p->ca, -1, 30);
        test_cert_make(&p->market, TEST_CERT_CLIENT, "cert-market", &p->ca, -1, 30);
        test_cert_make(&p->ops, TEST_CERT_CLIENT, "ops", &p->ca, -1, 30);
        test_cert_make(&p->stranger, TEST_CERT_CLIENT, "stranger", &p->ca, -1, 30);
        test_cert_make(&p->expired, TEST_CERT_CLIENT, "cert-market", &p->ca, -30, -1);
        test_cert_make(&p->server_purpose, TEST_CERT_SERVER, "cert-market", &p->ca, -1, 30);
        test_cert_make(&p->no_purpose, TEST_CERT_NO_PURPOSE, "cert-market", &p->ca, -1, 30);
        test_cert_make(&p->rogue_ops, TEST_CERT_CLIENT, "ops", &p->rogue_ca, -1, 30);
        test_cert_write(&p->ca, p->dir, "ca");
        test_cert_write(&p->server, p->dir, "server");
        test_cert_write(&p->market, p->dir, "market");
        test_cert_write(&p->ops, p->dir, "ops");
        test_cert_write(&p->stranger, p->dir, "stranger");
        test_cert_write(&p->expired, p->dir, "expired");
        test_cert_write(&p->server_purpose, p->dir, "server-purpose");
        test_cert_write(&p->no_purpose, p->dir, "no-purpose");
        test_cert_write(&p->rogue_ops, p->dir, "rogue-ops");
}

static void pki_free(pki_t *p) {
        test_cert_t *all[] = {&p->ca,         &p->rogue_ca,  &p->server,  &p->market,
                              &p->ops,        &p->stranger,  &p->expired, &p->server_purpose,
                              &p->no_purpose, &p->rogue_ops, NULL};
        for (test_cert_t **c = all; *c; c++)
                test_cert_free(*c);
        char path[128];
        snprintf(path, sizeof(path), "%s/client-ca.crt", p->dir);
        remove(path);
        rmdir(p->dir);
}

START_TEST(tls_client_certificates) {
        pki_t p = {.dir = ""};
        server_t srv;
        char body[2048];
        int www;
        const char *w = "/subjects/market.x-value/versions";
        pki_make(&p);
        server_start(&srv, &p.server, &p.ca, 1, p.dir);

        /* a certificate of the client CA: its CN is the principal */
        ck_assert_int_eq(call(&srv, 1, "POST", w, p.ca.cert_path, &p.market, NULL, body, &www), 200);
        ck_assert_msg(strstr(body, "\"cn\":\"cert-market\"") != NULL, "%s", body);
        ck_assert_int_eq(call(&srv, 1, "POST", "/subjects/tax.x-value/versions", p.ca.cert_path, &p.market,
                              NULL, body, &www),
                         403);
        ck_assert_msg(strstr(body, "\"error_code\":40301") != NULL, "%s", body);
        ck_assert_int_eq(call(&srv, 1, "PUT", "/config", p.ca.cert_path, &p.ops, NULL, body, &www), 200);
        /* no extended key usage at all is accepted too */
        ck_assert_int_eq(call(&srv, 1, "POST", w, p.ca.cert_path, &p.no_purpose, NULL, body, &www), 200);

        /* no certificate: Basic still works, nothing at all is 401 */
        ck_assert_int_eq(call(&srv, 1, "POST", w, p.ca.cert_path, NULL, NULL, body, &www), 401);
        ck_assert_int_eq(www, 1);
        ck_assert_msg(strstr(body, "\"error_code\":40101") != NULL, "%s", body);
        ck_assert_int_eq(call(&srv, 1, "POST", w, p.ca.cert_path, NULL, "market:market-pw", body, &www), 200);
        ck_assert_int_eq(call(&srv, 1, "POST", w, p.ca.cert_path, NULL, "market:bad", body, &www), 401);

        /* certificates that must not count */
        ck_assert_int_eq(call(&srv, 1, "PUT", "/config", p.ca.cert_path, &p.rogue_ops, NULL, body, &www),
                         401);
        ck_assert_msg(strstr(body, "does not verify") != NULL, "%s", body);
        ck_assert_int_eq(call(&srv, 1, "POST", w, p.ca.cert_path, &p.expired, NULL, body, &www), 401);
        ck_assert_msg(strstr(body, "does not verify") != NULL, "%s", body);
        ck_assert_int_eq(call(&srv, 1, "POST", w, p.ca.cert_path, &p.server_purpose, NULL, body, &www), 401);
        ck_assert_int_eq(call(&srv, 1, "GET", "/subjects", p.ca.cert_path, &p.stranger, NULL, body, &www),
                         401);
        ck_assert_msg(strstr(body, "not in the users file") != NULL, "%s", body);
        /* a certificate and a Basic user that disagree */
        ck_assert_int_eq(
                call(&srv, 1, "GET", "/subjects", p.ca.cert_path, &p.ops, "market:market-pw", body, &www),
                401);

        /* the client checks the server: an unknown CA fails the handshake */
        ck_assert_int_eq(call(&srv, 1, "GET", "/subjects", p.market.cert_path, NULL, NULL, body, &www), 0);
        server_stop(&srv);
        pki_free(&p);
}
END_TEST

START_TEST(tls_without_client_ca_and_plain_http) {
        pki_t p = {.dir = ""};
        server_t srv;
        char body[2048];
        int www;
        pki_make(&p);
        /* TLS without a client CA: no certificate is asked for */
        server_start(&srv, &p.server, NULL, 0, p.dir);
        ck_assert_int_eq(call(&srv, 1, "GET", "/subjects", p.ca.cert_path, &p.market, NULL, body, &www), 200);
        ck_assert_msg(strstr(body, "\"cn\":\"\"") != NULL, "%s", body);
        ck_assert_int_eq(call(&srv, 1, "PUT", "/config", p.ca.cert_path, &p.ops, NULL, body, &www), 401);
        server_stop(&srv);
        /* plain HTTP: no certificate, Basic works */
        server_start(&srv, NULL, NULL, 0, p.dir);
        ck_assert_int_eq(call(&srv, 0, "GET", "/subjects", NULL, NULL, NULL, body, &www), 200);
        ck_assert_int_eq(call(&srv, 0, "PUT", "/config", NULL, NULL, "ops:ops-pw", body, &www), 200);
        ck_assert_int_eq(call(&srv, 0, "PUT", "/config", NULL, NULL, "ops:nope", body, &www), 401);
        ck_assert_int_eq(www, 1);
        server_stop(&srv);
        pki_free(&p);
}
END_TEST

START_TEST(tls_files_checked) {
        pki_t p = {.dir = ""};
        char errstr[512] = "", garbage[300];
        pki_make(&p);
        snprintf(garbage, sizeof(garbage), "%s/garbage.pem", p.dir);
        test_cert_write_file(garbage, "not a certificate\n");

        sb_tls_t *t = tls_load(p.server.cert_path, p.server.key_path, p.ca.cert_path, errstr, sizeof(errstr));
        ck_assert_msg(t != NULL, "%s", errstr);
        struct MHD_OptionItem items[SB_TLS_MHD_OPTIONS];
        sb_tls_mhd_options(t, items);
        ck_assert_int_eq(items[0].option, MHD_OPTION_HTTPS_MEM_KEY);
        ck_assert_int_eq(items[1].option, MHD_OPTION_HTTPS_MEM_CERT);
        ck_assert_int_eq(items[2].option, MHD_OPTION_HTTPS_MEM_TRUST);
        ck_assert_int_eq(items[3].option, MHD_OPTION_END);
        sb_tls_destroy(t);

        ck_assert_ptr_null(tls_load("/nonexistent.crt", p.server.key_path, NULL, errstr, sizeof(errstr)));
        ck_assert_str_eq(errstr, "tls_cert_file /nonexistent.crt: No such file or directory");
        ck_assert_ptr_null(tls_load(p.server.cert_path, NULL, NULL, errstr, sizeof(errstr)));
        ck_assert_ptr_nonnull(strstr(errstr, "needs both"));
        /* a key that is not the certificate's */
        ck_assert_ptr_null(tls_load(p.server.cert_path, p.market.key_path, NULL, errstr, sizeof(errstr)));
        ck_assert_msg(strstr(errstr, "tls_key_file") != NULL, "%s", errstr);
        ck_assert_ptr_null(tls_load(garbage, p.server.key_path, NULL, errstr, sizeof(errstr)));
        ck_assert_msg(strstr(errstr, "tls_cert_file") != NULL, "%s", errstr);
        ck_assert_ptr_null(tls_load(p.server.cert_path, p.server.key_path, garbage, errstr, sizeof(errstr)));
        ck_assert_msg(strstr(errstr, "tls_client_ca_file") != NULL, "%s", errstr);
        remove(garbage);
        pki_free(&p);
}
END_TEST

int main(void) {
        curl_global_init(CURL_GLOBAL_ALL);
        Suite *s = suite_create("registry_tls");
        TCase *tc = tcase_create("tls");
        tcase_add_unchecked_fixture(tc, users_setup, users_teardown);
        tcase_set_timeout(tc, 120);
        tcase_add_test(tc, tls_client_certificates);
        tcase_add_test(tc, tls_without_client_ca_and_plain_http);
        tcase_add_test(tc, tls_files_checked);
        suite_add_tcase(s, tc);
        int rc = test_run_suite(s);
        curl_global_cleanup();
        return rc;
}

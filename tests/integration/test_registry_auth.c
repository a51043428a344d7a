/*
 * Integration: sharebus-registry with a users file, over real HTTP and with
 * the real programs.  Who may read and write what (department, operator and
 * reader principals made by sharebus-passwd), what a refused client is told
 * (401 with a Basic challenge, 403), that a refused request changes nothing,
 * and the producer's and subscriber's registry_* settings end to end:
 * credentials from a password file, a client certificate over HTTPS, and
 * configuration mistakes found at start (exit 2).
 */
#include <curl/curl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "harness.h"
#include "../unit/testcerts.h"

static h_env_t env;

typedef struct {
        pid_t pid;
        char url[160];
        char name[32];
        char log[600];
} registry_t;

/* Every registry of the suite shares this topic, as instances of one
 * registry would. */
static const char *schemas_topic = "_sharebus_schemas_auth";
static char users_file[600];
static registry_t open_reads;   /* users_file, reads_need_auth = false */
static registry_t closed_reads; /* users_file, reads_need_auth = true */

/* The principals of the users file, and their passwords. */
#define MARKET_USER "market-producer"
#define MARKET_PW "market secret 1"
#define TAX_USER "tax-producer"
#define TAX_PW "tax-secret-2"
#define OPS_USER "ops"
#define OPS_PW "ops-secret-3"
#define READER_USER "auditor"
#define READER_PW "auditor-secret-4"
#define CERT_USER "market-cert" /* certificate only */

/* Starts a registry of the suite's users file with `extra` settings; 0, or
 * -1 after printing why (usable before Check's runner as well as in a test). */
static int start_registry(registry_t *r, const char *name, const char *scheme, const char *extra) {
        char settings[2048];
        snprintf(r->name, sizeof(r->name), "%s", name);
        snprintf(r->log, sizeof(r->log), "%s/%s.log", env.dir, name);
        snprintf(settings, sizeof(settings),
                 "schemas_topic = \"%s\";\nusers_file = \"%s\";\nlog_level = \"debug\";\n%s", schemas_topic,
                 users_file, extra);
        return h_start_registry(&env, name, scheme, settings, NULL, &r->pid, r->url, sizeof(r->url));
}

static int stop_registry(registry_t *r) {
        if (r->pid <= 0)
                return 0;
        kill(r->pid, SIGTERM);
        int rc = h_wait(r->pid, 20000);
        r->pid = 0;
        return rc;
}

/* Appends a line for `name` to the users file (`password` NULL: certificate only). */
static int add_user(const char *name, const char *role, const char *department, const char *password) {
        char cmd[4096], bin[1200];
        snprintf(bin, sizeof(bin), "%s", h_bin(&env, "sharebus-passwd"));
        if (password)
                snprintf(cmd, sizeof(cmd), "printf '%%s\\n' '%s' | '%s' '%s' '%s' '%s' >> '%s'", password,
                         bin, name, role, department, users_file);
        else
                snprintf(cmd, sizeof(cmd), "'%s' --cert-only '%s' '%s' '%s' >> '%s'", bin, name, role,
                         department, users_file);
        if (system(cmd) != 0) {
                fprintf(stderr, "sharebus-passwd failed for %s\n", name);
                return -1;
        }
        return 0;
}

/* ---- HTTP ---- */

typedef struct {
        long status;
        json_t *body; /* NULL if the body is not JSON */
        char www_authenticate[256];
} reply_t;

/* One request, as `user` (NULL: anonymous); `out` gets the answer (free
 * with reply_clear).  Returns the HTTP status, 0 if there was none. */
static long http_as(const char *user, const char *password, const char *method, const registry_t *r,
                    const char *path, const char *body, reply_t *out) {
        char url[1024];
        h_reply_t rep;
        memset(out, 0, sizeof(*out));
        snprintf(url, sizeof(url), "%s%s", r->url, path);
        out->status = h_http(method, url, user, password, body, &rep);
        snprintf(out->www_authenticate, sizeof(out->www_authenticate), "%s", rep.www_authenticate);
        out->body = rep.text ? json_loads(rep.text, 0, NULL) : NULL;
        h_reply_free(&rep);
        return out->status;
}

static void reply_clear(reply_t *r) {
        json_decref(r->body);
        r->body = NULL;
}

static long error_code(const reply_t *r) {
        return (long)json_integer_value(json_object_get(r->body, "error_code"));
}

/* A record schema of its own for each `n`, as a registration body (caller frees). */
static char *schema_body(int n) {
        char text[256];
        snprintf(text, sizeof(text),
                 "{\"type\":\"record\",\"name\":\"R%d\",\"fields\":[{\"name\":\"f\",\"type\":\"string\"}]}",
                 n);
        json_t *body = json_pack("{s:s}", "schema", text);
        char *out = json_dumps(body, JSON_COMPACT);
        json_decref(body);
        return out;
}

/* Asserts the status, and for 401/403 the error code (and the challenge). */
static void expect(const char *user, const char *password, const char *method, const registry_t *r,
                   const char *path, const char *body, long status) {
        reply_t rep;
        long got = http_as(user, password, method, r, path, body, &rep);
        ck_assert_msg(got == status, "%s %s%s as %s: HTTP %ld, expected %ld (see %s)", method, r->url, path,
                      user ? user : "anonymous", got, status, r->log);
        if (status == 401) {
                ck_assert_int_eq(error_code(&rep), 40101);
                ck_assert_str_eq(rep.www_authenticate, "Basic realm=\"sharebus\"");
        } else if (status == 403) {
                ck_assert_int_eq(error_code(&rep), 40301);
                ck_assert_str_eq(rep.www_authenticate, "");
        }
        reply_clear(&rep);
}

/* Registers schema `n` under `subject` as `user`; returns the HTTP status. */
static long register_as(const char *user, const char *password, const registry_t *r, const char *subject,
                        int n, reply_t *rep) {
        char path[256];
        char *body = schema_body(n);
        snprintf(path, sizeof(path), "/subjects/%s/versions", subject);
        long status = http_as(user, password, "POST", r, path, body, rep);
        free(body);
        return status;
}

/* GET `path` as the operator; the body (new reference). */
static json_t *get_json(const registry_t *r, const char *path) {
        reply_t rep;
        ck_assert_int_eq(http_as(OPS_USER, OPS_PW, "GET", r, path, NULL, &rep), 200);
        ck_assert_ptr_nonnull(rep.body);
        return rep.body;
}

/* ---- who may do what ---- */

START_TEST(anonymous_clients_read_but_do_not_write) {
        reply_t rep;
        ck_assert_int_eq(http_as(NULL, NULL, "GET", &open_reads, "/subjects", NULL, &rep), 200);
        ck_assert(json_is_array(rep.body));
        reply_clear(&rep);
        long status = register_as(NULL, NULL, &open_reads, "market.x-value", 1, &rep);
        ck_assert_int_eq(status, 401);
        ck_assert_str_eq(rep.www_authenticate, "Basic realm=\"sharebus\"");
        ck_assert_int_eq(error_code(&rep), 40101);
        reply_clear(&rep);
}
END_TEST

START_TEST(a_department_writes_only_its_own_subjects) {
        reply_t rep;
        /* tax's credentials are good (it may write tax.*) but not for market.* */
        ck_assert_int_eq(register_as(TAX_USER, TAX_PW, &open_reads, "market.x-value", 2, &rep), 403);
        ck_assert_int_eq(error_code(&rep), 40301);
        reply_clear(&rep);
        ck_assert_int_eq(register_as(TAX_USER, TAX_PW, &open_reads, "tax.y-value", 2, &rep), 200);
        reply_clear(&rep);
        ck_assert_int_eq(register_as(MARKET_USER, MARKET_PW, &open_reads, "market.x-value", 2, &rep), 200);
        ck_assert_int_gt(json_integer_value(json_object_get(rep.body, "id")), 0);
        reply_clear(&rep);
        /* The global config is the operator's; so is any subject's. */
        expect(MARKET_USER, MARKET_PW, "PUT", &open_reads, "/config", "{\"compatibility\":\"NONE\"}", 403);
        expect(MARKET_USER, MARKET_PW, "PUT", &open_reads, "/config/market.x-value",
               "{\"compatibility\":\"FULL\"}", 403);
        expect(OPS_USER, OPS_PW, "PUT", &open_reads, "/config/market.x-value", "{\"compatibility\":\"FULL\"}",
               200);
        json_t *cfg = get_json(&open_reads, "/config/market.x-value");
        ck_assert_str_eq(json_string_value(json_object_get(cfg, "compatibilityLevel")), "FULL");
        json_decref(cfg);
        /* A reader reads, and nothing else. */
        expect(READER_USER, READER_PW, "GET", &open_reads, "/subjects/market.x-value/versions", NULL, 200);
        ck_assert_int_eq(register_as(READER_USER, READER_PW, &open_reads, "market.x-value", 3, &rep), 403);
        reply_clear(&rep);
}
END_TEST

START_TEST(a_refused_request_changes_nothing) {
        reply_t rep;
        ck_assert_int_eq(register_as(MARKET_USER, MARKET_PW, &open_reads, "market.keep-value", 10, &rep),
                         200);
        reply_clear(&rep);
        json_t *subjects = get_json(&open_reads, "/subjects");
        json_t *config = get_json(&open_reads, "/config");
        json_t *mode = get_json(&open_reads, "/mode");
        json_t *versions = get_json(&open_reads, "/subjects/market.keep-value/versions");

        char *body = schema_body(11);
        expect(NULL, NULL, "POST", &open_reads, "/subjects/market.keep-value/versions", body, 401);
        expect(MARKET_USER, "wrong", "POST", &open_reads, "/subjects/market.keep-value/versions", body, 401);
        expect(TAX_USER, TAX_PW, "POST", &open_reads, "/subjects/market.keep-value/versions", body, 403);
        expect(READER_USER, READER_PW, "POST", &open_reads, "/subjects/market.new-value/versions", body, 403);
        free(body);
        expect(TAX_USER, TAX_PW, "DELETE", &open_reads, "/subjects/market.keep-value", NULL, 403);
        expect(NULL, NULL, "DELETE", &open_reads, "/subjects/market.keep-value/versions/1", NULL, 401);
        expect(MARKET_USER, MARKET_PW, "PUT", &open_reads, "/config", "{\"compatibility\":\"NONE\"}", 403);
        expect(NULL, NULL, "PUT", &open_reads, "/config", "{\"compatibility\":\"NONE\"}", 401);
        expect(MARKET_USER, MARKET_PW, "PUT", &open_reads, "/mode", "{\"mode\":\"READONLY\"}", 403);
        expect(TAX_USER, TAX_PW, "DELETE", &open_reads, "/config", NULL, 403);

        json_t *after = get_json(&open_reads, "/subjects");
        ck_assert_msg(json_equal(subjects, after), "GET /subjects changed");
        json_decref(after);
        after = get_json(&open_reads, "/config");
        ck_assert_msg(json_equal(config, after), "GET /config changed");
        json_decref(after);
        after = get_json(&open_reads, "/mode");
        ck_assert_msg(json_equal(mode, after), "GET /mode changed");
        json_decref(after);
        after = get_json(&open_reads, "/subjects/market.keep-value/versions");
        ck_assert_msg(json_equal(versions, after), "the versions of market.keep-value changed");
        json_decref(after);
        json_decref(subjects);
        json_decref(config);
        json_decref(mode);
        json_decref(versions);
}
END_TEST

START_TEST(wrong_credentials_are_refused_even_for_open_reads) {
        reply_t rep;
        ck_assert_int_eq(register_as(MARKET_USER, "market secret", &open_reads, "market.x-value", 4, &rep),
                         401);
        ck_assert_int_eq(error_code(&rep), 40101);
        ck_assert_str_eq(rep.www_authenticate, "Basic realm=\"sharebus\"");
        reply_clear(&rep);
        expect("nobody", "x", "POST", &open_reads, "/subjects/market.x-value",
               "{\"schema\":\"\\\"string\\\"\"}", 401);
        /* A sent password is checked even where none is needed. */
        expect(MARKET_USER, "wrong", "GET", &open_reads, "/subjects", NULL, 401);
        expect("nobody", "x", "GET", &open_reads, "/subjects", NULL, 401);
}
END_TEST

START_TEST(reads_need_auth_refuses_anonymous_reads) {
        expect(NULL, NULL, "GET", &closed_reads, "/subjects", NULL, 401);
        expect(NULL, NULL, "GET", &closed_reads, "/config", NULL, 401);
        expect(READER_USER, "wrong", "GET", &closed_reads, "/subjects", NULL, 401);
        expect(READER_USER, READER_PW, "GET", &closed_reads, "/subjects", NULL, 200);
        expect(READER_USER, READER_PW, "GET", &closed_reads, "/config", NULL, 200);
        expect(MARKET_USER, MARKET_PW, "GET", &closed_reads, "/subjects", NULL, 200);
        reply_t rep;
        ck_assert_int_eq(register_as(READER_USER, READER_PW, &closed_reads, "market.x-value", 5, &rep), 403);
        reply_clear(&rep);
}
END_TEST

/* ---- the programs' registry_* settings ---- */

/* The subscribers' Kafka settings. */
#define SESSION "session_timeout_ms = 6000;"

START_TEST(department_producer_publishes_and_reader_subscriber_applies) {
        char lines[600], db[600], log[600], auth[1400];
        h_copy_dataset(&env, "market.business_license", "market.authtest");
        ck_assert_int_eq(h_create_topic(&env, "market.authtest", 2), 0);
        h_write_sample(&env, "market.business_license", "authtest.jsonl", 300, 100, 41, lines, sizeof(lines));
        /* Only the first line is the password. */
        snprintf(auth, sizeof(auth), "registry_user = \"%s\";\nregistry_password_file = \"%s\";", MARKET_USER,
                 h_write_file(&env, "market.password", "%s\nnot the password\n", MARKET_PW));
        snprintf(log, sizeof(log), "%s", h_path(&env, "producer-authtest.log"));
        ck_assert_int_eq(h_run_producer(&env, "market", "authtest", open_reads.url, lines, auth, log), 0);
        ck_assert_msg(h_file_contains(log, "300 events published"), "see %s", log);

        /* The subscriber reads from the registry that wants credentials for reads. */
        snprintf(auth, sizeof(auth),
                 "registry_user = \"%s\";\nregistry_password_file = \"%s\";\n"
                 "idle_exit_ms = 4000;",
                 READER_USER, h_write_file(&env, "reader.password", "%s\n", READER_PW));
        snprintf(db, sizeof(db), "%s", h_path(&env, "authtest.db"));
        snprintf(log, sizeof(log), "%s", h_path(&env, "subscriber-authtest.log"));
        pid_t pid = h_start_subscriber(&env, "authtest", "market.authtest", closed_reads.url, db, "debug",
                                       auth, SESSION, log);
        ck_assert_int_eq(h_wait(pid, 120000), 0);
        json_t *expected = h_expected_state(lines, "uscc");
        h_assert_table_equals(db, "market_authtest", "uscc", expected);
        json_decref(expected);
        ck_assert_int_eq(h_sqlite_int(db, "SELECT count(*) FROM sharebus_receipts"), 300);
}
END_TEST

START_TEST(another_departments_producer_is_refused) {
        char lines[600], log[600], auth[1400];
        h_copy_dataset(&env, "market.business_license", "market.authtest");
        h_write_sample(&env, "market.business_license", "refused.jsonl", 10, 10, 42, lines, sizeof(lines));
        snprintf(auth, sizeof(auth), "registry_user = \"%s\";\nregistry_password_file = \"%s\";", TAX_USER,
                 h_write_file(&env, "tax.password", "%s\n", TAX_PW));
        snprintf(log, sizeof(log), "%s", h_path(&env, "producer-refused.log"));
        ck_assert_int_eq(h_run_producer(&env, "market", "authtest", open_reads.url, lines, auth, log), 1);
        ck_assert_msg(h_file_contains(log, "cannot register the schemas of market.authtest"), "see %s", log);
        ck_assert_msg(h_file_contains(log, "HTTP 403 (error 40301): Forbidden"), "see %s", log);

        /* No credentials at all: 401, and the hint names the settings. */
        snprintf(log, sizeof(log), "%s", h_path(&env, "producer-anonymous.log"));
        ck_assert_int_eq(h_run_producer(&env, "market", "authtest", open_reads.url, lines, "", log), 1);
        ck_assert_msg(h_file_contains(log, "HTTP 401 (error 40101)"), "see %s", log);
        ck_assert_msg(h_file_contains(log, "check registry_user"), "see %s", log);
}
END_TEST

/* A subscriber the registry refuses does not take the events for poison:
 * it retries, applies nothing and dead-letters nothing. */
START_TEST(refused_subscriber_retries_and_dead_letters_nothing) {
        char db[600], log[600];
        snprintf(db, sizeof(db), "%s", h_path(&env, "anonymous.db"));
        snprintf(log, sizeof(log), "%s", h_path(&env, "subscriber-anonymous.log"));
        pid_t pid = h_start_subscriber(&env, "anonymous", "market.authtest", closed_reads.url, db, "debug",
                                       "retry_backoff_max_ms = 500;", SESSION, log);
        int seen = 0;
        for (int i = 0; i < 600 && !seen; i++) {
                h_sleep_ms(100);
                seen = h_file_contains(log, "will retry") && h_file_contains(log, "HTTP 401");
        }
        kill(pid, SIGTERM);
        int rc = h_wait(pid, 30000);
        ck_assert_msg(seen, "the subscriber did not retry after a 401 (see %s)", log);
        ck_assert_msg(rc == 0 || rc == 1, "exit code %d (see %s)", rc, log);
        ck_assert_msg(!h_file_contains(log, "to dead-letter topic"), "dead-lettered (see %s)", log);
        ck_assert_int_le(h_sqlite_int(db, "SELECT count(*) FROM sharebus_receipts"), 0);
}
END_TEST

/* Mistakes in the registry_* settings stop the programs at start, exit 2,
 * naming the setting. */
static const struct {
        int subscriber;
        const char *settings;
        const char *message;
} config_errors[] = {
        {0, "registry_user = \"u\";\nregistry_password_file = \"/nonexistent/pw\";",
         "setting 'registry_password_file': cannot read /nonexistent/pw"},
        {1, "registry_user = \"u\";\nregistry_password_file = \"/nonexistent/pw\";",
         "setting 'registry_password_file': cannot read /nonexistent/pw"},
        {0, "registry_user = \"u\";\nregistry_password_file = \"@DIR@/empty.password\";",
         "setting 'registry_password_file'"},
        {0, "registry_user = \"u\";", "setting 'registry_user' without 'registry_password_file'"},
        {1, "registry_password = \"x\";", "setting 'registry_password' without 'registry_user'"},
        {0,
         "registry_user = \"u\";\nregistry_password = \"x\";\nregistry_password_file = "
         "\"@DIR@/tax.password\";",
         "'registry_password' and 'registry_password_file'"},
        {0, "registry_ca_file = \"@DIR@/tax.password\";", "setting 'registry_ca_file'"},
        {1, "registry_ca_file = \"/nonexistent/ca.pem\";", "setting 'registry_ca_file': cannot read"},
        {0, "registry_key_file = \"@DIR@/tax.password\";", "setting 'registry_key_file' without"},
        {1, "registry_cert_file = \"@DIR@/tax.password\";", "setting 'registry_cert_file'"},
};

START_TEST(registry_setting_mistakes_are_config_errors) {
        char lines[600], log[600], settings[1400], name[64];
        const char *at = strstr(config_errors[_i].settings, "@DIR@");
        if (at)
                snprintf(settings, sizeof(settings), "%.*s%s%s", (int)(at - config_errors[_i].settings),
                         config_errors[_i].settings, env.dir, at + 5);
        else
                snprintf(settings, sizeof(settings), "%s", config_errors[_i].settings);
        h_write_file(&env, "empty.password", "\n");
        h_write_file(&env, "tax.password", "%s\n", TAX_PW);
        snprintf(name, sizeof(name), "config-error-%d", _i);
        snprintf(log, sizeof(log), "%s/%s.log", env.dir, name);
        int rc;
        if (config_errors[_i].subscriber) {
                char db[600];
                snprintf(db, sizeof(db), "%s/%s.db", env.dir, name);
                rc = h_wait(h_start_subscriber(&env, name, "market.authtest", open_reads.url, db, "debug",
                                               settings, SESSION, log),
                            30000);
        } else {
                h_copy_dataset(&env, "market.business_license", "market.authtest");
                h_write_sample(&env, "market.business_license", "config-error.jsonl", 1, 1, 43, lines,
                               sizeof(lines));
                rc = h_run_producer(&env, "market", "authtest", open_reads.url, lines, settings, log);
        }
        ck_assert_msg(rc == 2, "exit code %d, expected 2 (see %s)", rc, log);
        ck_assert_msg(h_file_contains(log, config_errors[_i].message), "'%s' not in %s",
                      config_errors[_i].message, log);
}
END_TEST

/* The registry over HTTPS, and a producer that logs in with a client
 * certificate (registry_ca_file, registry_cert_file, registry_key_file). */
START_TEST(client_certificate_over_https) {
        test_cert_t ca, server, client, stranger;
        char extra[2048], lines[600], log[600], auth[2048];
        test_cert_make(&ca, TEST_CERT_CA, "sharebus test CA", NULL, -1, 30);
        test_cert_make(&server, TEST_CERT_SERVER, "127.0.0.1", &ca, -1, 30);
        test_cert_make(&client, TEST_CERT_CLIENT, CERT_USER, &ca, -1, 30);
        test_cert_make(&stranger, TEST_CERT_CLIENT, CERT_USER, NULL, -1, 30); /* not signed by ca */
        /* Short enough for test_cert_t's paths. */
        char dir[128];
        ck_assert_int_lt(snprintf(dir, sizeof(dir), "%s/tls", env.dir), (int)sizeof(dir));
        ck_assert_int_eq(mkdir(dir, 0700), 0);
        test_cert_write(&ca, dir, "ca");
        test_cert_write(&server, dir, "server");
        test_cert_write(&client, dir, "client");
        test_cert_write(&stranger, dir, "stranger");
        snprintf(extra, sizeof(extra),
                 "tls_cert_file = \"%s\";\ntls_key_file = \"%s\";\ntls_client_ca_file = \"%s\";\n"
                 "reads_need_auth = true;",
                 server.cert_path, server.key_path, ca.cert_path);
        registry_t tls = {0};
        ck_assert_int_eq(start_registry(&tls, "registry-tls", "https", extra), 0);

        h_copy_dataset(&env, "market.business_license", "market.authtls");
        ck_assert_int_eq(h_create_topic(&env, "market.authtls", 1), 0);
        h_write_sample(&env, "market.business_license", "authtls.jsonl", 50, 20, 44, lines, sizeof(lines));
        snprintf(auth, sizeof(auth),
                 "registry_ca_file = \"%s\";\nregistry_cert_file = \"%s\";\nregistry_key_file = \"%s\";",
                 ca.cert_path, client.cert_path, client.key_path);
        snprintf(log, sizeof(log), "%s", h_path(&env, "producer-authtls.log"));
        ck_assert_int_eq(h_run_producer(&env, "market", "authtls", tls.url, lines, auth, log), 0);
        ck_assert_msg(h_file_contains(log, "50 events published"), "see %s", log);

        /* A certificate from another CA logs in as nobody: 401. */
        snprintf(auth, sizeof(auth),
                 "registry_ca_file = \"%s\";\nregistry_cert_file = \"%s\";\nregistry_key_file = \"%s\";",
                 ca.cert_path, stranger.cert_path, stranger.key_path);
        snprintf(log, sizeof(log), "%s", h_path(&env, "producer-stranger.log"));
        ck_assert_int_eq(h_run_producer(&env, "market", "authtls", tls.url, lines, auth, log), 1);
        ck_assert_msg(h_file_contains(log, "cannot register the schemas of market.authtls"), "see %s", log);
        ck_assert_msg(h_file_contains(log, "HTTP 401 (error 40101)"), "see %s", log);

        /* Without registry_ca_file the registry's certificate is not trusted. */
        snprintf(auth, sizeof(auth), "registry_cert_file = \"%s\";\nregistry_key_file = \"%s\";",
                 client.cert_path, client.key_path);
        snprintf(log, sizeof(log), "%s", h_path(&env, "producer-untrusted.log"));
        ck_assert_int_eq(h_run_producer(&env, "market", "authtls", tls.url, lines, auth, log), 1);
        ck_assert_msg(h_file_contains(log, "no schema registry answered"), "see %s", log);

        /* A certificate that does not match its key is found at start. */
        snprintf(auth, sizeof(auth),
                 "registry_ca_file = \"%s\";\nregistry_cert_file = \"%s\";\nregistry_key_file = \"%s\";",
                 ca.cert_path, client.cert_path, stranger.key_path);
        snprintf(log, sizeof(log), "%s", h_path(&env, "producer-mismatch.log"));
        ck_assert_int_eq(h_run_producer(&env, "market", "authtls", tls.url, lines, auth, log), 2);
        ck_assert_msg(h_file_contains(log, "settings 'registry_cert_file' and 'registry_key_file'"), "see %s",
                      log);

        ck_assert_int_eq(stop_registry(&tls), 0);
        test_cert_free(&ca);
        test_cert_free(&server);
        test_cert_free(&client);
        test_cert_free(&stranger);
}
END_TEST

static int make_users_file(void) {
        snprintf(users_file, sizeof(users_file), "%s",
                 h_write_file(&env, "users.txt", "# test principals\n"));
        return add_user(MARKET_USER, "department", "market", MARKET_PW) ||
                               add_user(TAX_USER, "department", "tax", TAX_PW) ||
                               add_user(OPS_USER, "operator", "", OPS_PW) ||
                               add_user(READER_USER, "reader", "", READER_PW) ||
                               add_user(CERT_USER, "department", "market", NULL)
                       ? -1
                       : 0;
}

int main(void) {
        curl_global_init(CURL_GLOBAL_DEFAULT);
        if (h_env_start(&env) != 0)
                return 1;
        int failed = 1;
        if (make_users_file() ||
            start_registry(&open_reads, "registry-open", "http", "reads_need_auth = false;") ||
            start_registry(&closed_reads, "registry-closed", "http", "reads_need_auth = true;"))
                goto out;
        Suite *s = suite_create("registry_auth");
        TCase *tc = tcase_create("http");
        tcase_set_timeout(tc, 120);
        tcase_add_test(tc, anonymous_clients_read_but_do_not_write);
        tcase_add_test(tc, a_department_writes_only_its_own_subjects);
        tcase_add_test(tc, a_refused_request_changes_nothing);
        tcase_add_test(tc, wrong_credentials_are_refused_even_for_open_reads);
        tcase_add_test(tc, reads_need_auth_refuses_anonymous_reads);
        suite_add_tcase(s, tc);
        tc = tcase_create("programs");
        tcase_set_timeout(tc, 300);
        tcase_add_test(tc, department_producer_publishes_and_reader_subscriber_applies);
        tcase_add_test(tc, another_departments_producer_is_refused);
        tcase_add_test(tc, refused_subscriber_retries_and_dead_letters_nothing);
        tcase_add_loop_test(tc, registry_setting_mistakes_are_config_errors, 0,
                            (int)(sizeof(config_errors) / sizeof(*config_errors)));
        tcase_add_test(tc, client_certificate_over_https);
        suite_add_tcase(s, tc);
        failed = h_run_suite(s);
        if (stop_registry(&open_reads) != 0 || stop_registry(&closed_reads) != 0) {
                fprintf(stderr, "a registry did not stop cleanly (see %s)\n", env.dir);
                failed++;
        }
out:
        stop_registry(&open_reads);
        stop_registry(&closed_reads);
        h_env_stop(&env);
        curl_global_cleanup();
        return failed ? 1 : 0;
}

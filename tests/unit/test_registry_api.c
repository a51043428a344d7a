/*
 * test_registry_api: the registry's HTTP API in-process (testhttp.h),
 * driven with libcurl: reading and registering, malformed requests and
 * unknown paths, the lookup cache, limits, logging, starting, and
 * concurrent registrations.  Settings, deletes and compatibility are in
 * test_registry_api_settings; the submitter, determinism and the request
 * checks added since in test_registry_api_checks.
 */
#include <check.h>
#include <curl/curl.h>
#include <jansson.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "regd_http.h"
#include "regd_store.h"
#include "sb_buf.h"
#include "testhttp.h"
#include "testutil.h"

/* ---- routes, as tables ---- */

/* Registering and reading: subjects, versions, ids. */
static const step_t basics[] = {
        {"GET", "/", NULL, NULL, 200, "{}", 0, NULL},
        {"HEAD", "/subjects", NULL, NULL, 200, "", 0, NULL},
        {"GET", "/subjects", NULL, NULL, 200, "[]", 0, NULL},
        {"GET", "/schemas/types", NULL, NULL, 200, "[\"AVRO\"]", 0, NULL},
        {"POST", "/subjects/a%2Fb/versions", V1, BODY(S1_JSTR), 200, "{\"id\":1}", 0, NULL},
        {"POST", "/subjects/a%2Fb/versions?normalize=true", "application/json",
         "{\"schema\":\"" S1_OTHER_JSTR "\",\"schemaType\":\"AVRO\"}", 200, "{\"id\":1}", 0, NULL},
        {"POST", "/subjects/c/versions", "application/vnd.schemaregistry+json; charset=utf-8", BODY(S1_JSTR),
         200, "{\"id\":1}", 0, NULL},
        {"PUT", "/config/c", NULL, "{\"compatibility\":\"NONE\"}", 200, "{\"compatibility\":\"NONE\"}", 0,
         NULL},
        {"POST", "/subjects/c/versions", "", PRIM("string"), 200, "{\"id\":2}", 0, NULL},
        {"GET", "/subjects", NULL, NULL, 200, "[\"a/b\",\"c\"]", 0, NULL},
        {"GET", "/subjects/a%2fb/versions", NULL, NULL, 200, "[1]", 0, NULL},
        {"GET", "/subjects/c/versions", NULL, NULL, 200, "[1,2]", 0, NULL},
        {"GET", "/subjects/c/versions/1", NULL, NULL, 200,
         "{\"subject\":\"c\",\"version\":1,\"id\":1,\"schema\":\"" S1_JSTR "\"}", 0, NULL},
        {"GET", "/subjects/c/versions/latest", NULL, NULL, 200,
         "{\"subject\":\"c\",\"version\":2,\"id\":2,\"schema\":\"\\\"string\\\"\"}", 0, NULL},
        {"GET", "/subjects/c/versions/-1", NULL, NULL, 200,
         "{\"subject\":\"c\",\"version\":2,\"id\":2,\"schema\":\"\\\"string\\\"\"}", 0, NULL},
        {"GET", "/subjects/a%2Fb/versions/1", NULL, NULL, 200,
         "{\"subject\":\"a/b\",\"version\":1,\"id\":1,\"schema\":\"" S1_JSTR "\"}", 0, NULL},
        {"GET", "/subjects/c/versions/1/schema", NULL, NULL, 200, S1_CANON, 0, NULL},
        {"GET", "/subjects/c/versions/latest/schema", NULL, NULL, 200, "\"string\"", 0, NULL},
        {"GET", "/subjects/c/versions/1/referencedby", NULL, NULL, 200, "[]", 0, NULL},
        {"GET", "/schemas/ids/1", NULL, NULL, 200, "{\"schema\":\"" S1_JSTR "\"}", 0, NULL},
        {"GET", "/schemas/ids/2", NULL, NULL, 200, "{\"schema\":\"\\\"string\\\"\"}", 0, NULL},
        {"GET", "/schemas/ids/1/schema", NULL, NULL, 200, S1_CANON, 0, NULL},
        {"GET", "/schemas/ids/1/versions", NULL, NULL, 200,
         "[{\"subject\":\"a/b\",\"version\":1},{\"subject\":\"c\",\"version\":1}]", 0, NULL},
        {"GET", "/schemas/ids/1/subjects", NULL, NULL, 200, "[\"a/b\",\"c\"]", 0, NULL},
        {"GET", "/subjects?subjectPrefix=a%2F", NULL, NULL, 200, "[\"a/b\"]", 0, NULL},
        {"GET", "/subjects?subjectPrefix=%3A%2A%3A", NULL, NULL, 200, "[\"a/b\",\"c\"]", 0, NULL},
        {"GET", "/subjects?subjectPrefix=x", NULL, NULL, 200, "[]", 0, NULL},
        /* lookup */
        {"POST", "/subjects/c", V1, BODY(S1_OTHER_JSTR), 200,
         "{\"subject\":\"c\",\"version\":1,\"id\":1,\"schema\":\"" S1_JSTR "\"}", 0, NULL},
        {"POST", "/subjects/c", V1, PRIM("bytes"), 404,
         "{\"error_code\":40403,\"message\":\"Schema not found\"}", 0, NULL},
        {"POST", "/subjects/x", V1, PRIM("int"), 404,
         "{\"error_code\":40401,\"message\":\"Subject 'x' not found.\"}", 0, NULL},
        {"POST", "/subjects/c", V1, "{\"schema\":\"{oops\"}", 422, NULL, 42201,
         "Invalid schema: schema is not JSON"},
        /* metadata (of the latest version, or ?version=) */
        {"GET", "/subjects/c/metadata", NULL, NULL, 200, "~{\"subject\":\"c\",\"version\":2,\"record\":null,",
         0, NULL},
        {"GET", "/subjects/c/metadata?version=1", NULL, NULL, 200,
         "~{\"subject\":\"c\",\"version\":1,\"record\":\"A\",", 0, NULL},
        {"GET", "/subjects/c/metadata?version=7", NULL, NULL, 404, NULL, 40402, "Version 7 not found."},
        {"GET", "/subjects/c/metadata?version=x", NULL, NULL, 422, NULL, 42202, "The specified version 'x'"},
        {"GET", "/subjects/x/metadata", NULL, NULL, 404, NULL, 40401, "Subject 'x' not found."},
        /* not found */
        {"GET", "/schemas/ids/3", NULL, NULL, 404,
         "{\"error_code\":40403,\"message\":\"Schema 3 not found\"}", 0, NULL},
        {"GET", "/schemas/ids/abc", NULL, NULL, 404, NULL, 40403, "Schema abc not found"},
        {"GET", "/schemas/ids/3/schema", NULL, NULL, 404, NULL, 40403, "Schema 3 not found"},
        {"GET", "/schemas/ids/3/versions", NULL, NULL, 404,
         "{\"error_code\":40403,\"message\":\"Schema not found\"}", 0, NULL},
        {"GET", "/schemas/ids/3/subjects", NULL, NULL, 404, NULL, 40403, "Schema not found"},
        {"GET", "/subjects/x/versions", NULL, NULL, 404,
         "{\"error_code\":40401,\"message\":\"Subject 'x' not found.\"}", 0, NULL},
        {"GET", "/subjects/x/versions/1", NULL, NULL, 404, NULL, 40401, "Subject 'x' not found."},
        {"GET", "/subjects/x/versions/latest", NULL, NULL, 404, NULL, 40401, "Subject 'x'"},
        {"GET", "/subjects/x/versions/1/schema", NULL, NULL, 404, NULL, 40401, "Subject 'x'"},
        {"GET", "/subjects/x/versions/1/referencedby", NULL, NULL, 404, NULL, 40401, "Subject 'x'"},
        {"GET", "/subjects/c/versions/3", NULL, NULL, 404,
         "{\"error_code\":40402,\"message\":\"Version 3 not found.\"}", 0, NULL},
        {"GET", "/subjects/c/versions/3/referencedby", NULL, NULL, 404, NULL, 40402, "Version 3 not found."},
        /* invalid versions */
        {"GET", "/subjects/c/versions/abc", NULL, NULL, 422,
         "{\"error_code\":42202,\"message\":\"The specified version 'abc' is not a valid "
         "version id. Allowed values are between [1, 2^31-1] and the string \\\"latest\\\"\"}",
         0, NULL},
        {"GET", "/subjects/c/versions/0", NULL, NULL, 422, NULL, 42202, "The specified version '0'"},
        {"GET", "/subjects/c/versions/-2", NULL, NULL, 422, NULL, 42202, "The specified"},
        {"GET", "/subjects/c/versions/2147483648", NULL, NULL, 422, NULL, 42202, "The specified"},
        {"GET", "/subjects/c/versions/1x", NULL, NULL, 422, NULL, 42202, "The specified"},
        {"GET", "/subjects/x/versions/abc", NULL, NULL, 422, NULL, 42202, "The specified"},
        {"GET", "/subjects/c/versions/abc/schema", NULL, NULL, 422, NULL, 42202, "The specified"},
        {"DELETE", "/subjects/c/versions/abc", NULL, NULL, 422, NULL, 42202, "The specified version 'abc'"},
};

/* Malformed requests, unknown paths and methods. */
static const step_t bad_requests[] = {
        {"POST", "/subjects/c/versions", V1, BODY(S1_JSTR), 200, "{\"id\":1}", 0, NULL},
        {"GET", "/nope", NULL, NULL, 404, "{\"error_code\":404,\"message\":\"HTTP 404 Not Found\"}", 0, NULL},
        {"GET", "/subjects/c/versions/1/schema/x", NULL, NULL, 404, NULL, 404, "HTTP 404"},
        {"GET", "/a/b/c/d/e/f/g", NULL, NULL, 404, NULL, 404, "HTTP 404"},
        {"GET", "/schemas/ids/1/other", NULL, NULL, 404, NULL, 404, "HTTP 404"},
        {"GET", "/subjects/%00/versions", NULL, NULL, 404, NULL, 404, "HTTP 404"},
        {"GET", "/subjects/%FF/versions", NULL, NULL, 404, NULL, 404, "HTTP 404"},
        {"DELETE", "/subjects", NULL, NULL, 405,
         "{\"error_code\":405,\"message\":\"HTTP 405 Method Not Allowed\"}", 0, NULL},
        {"GET", "/subjects/c", NULL, NULL, 405, NULL, 405, "HTTP 405"},
        {"PUT", "/subjects/c/versions", V1, "{}", 405, NULL, 405, "HTTP 405"},
        {"PATCH", "/subjects/c/versions/1", NULL, NULL, 405, NULL, 405, "HTTP 405"},
        {"POST", "/schemas/ids/1", V1, "{}", 405, NULL, 405, "HTTP 405"},
        {"DELETE", "/schemas/types", NULL, NULL, 405, NULL, 405, "HTTP 405"},
        {"POST", "/config", V1, "{}", 405, NULL, 405, "HTTP 405"},
        {"GET", "/compatibility/subjects/c/versions", NULL, NULL, 405, NULL, 405, "HTTP 405"},
        {"POST", "/", V1, "{}", 405, NULL, 405, "HTTP 405"},
        /* bad registrations */
        {"POST", "/subjects/c/versions", V1, "nope", 400, NULL, 400, "Malformed JSON"},
        {"POST", "/subjects/c/versions", V1, "", 400, NULL, 400, "Malformed JSON"},
        {"POST", "/subjects/c/versions", V1, "[]", 400, NULL, 400, "Request body must be"},
        {"POST", "/subjects/c/versions", V1, "{}", 422, NULL, 42201, "Invalid schema"},
        {"POST", "/subjects/c/versions", V1, "{\"schema\":1}", 422, NULL, 42201, "Invalid schema"},
        {"POST", "/subjects/c/versions", V1, "{\"schema\":\"{\\\"type\\\":\\\"recrd\\\"}\"}", 422, NULL,
         42201, "Invalid schema: invalid Avro schema: Unknown Avro \"type\": recrd"},
        {"POST", "/subjects/c/versions", V1, "{\"schema\":\"{oops\"}", 422, NULL, 42201,
         "Invalid schema: schema is not JSON"},
        {"POST", "/subjects/c/versions", V1, "{\"schema\":\"\\\"int\\\"\",\"schemaType\":\"JSON\"}", 422,
         NULL, 42201, "Invalid schema type"},
        {"POST", "/subjects/c/versions", V1,
         "{\"schema\":\"\\\"int\\\"\",\"references\":[{\"name\":\"x\",\"subject\":\"y\",\"version\":1}]}",
         422, NULL, 42201, "Invalid schema: schema references"},
        {"POST", "/subjects/c/versions", V1, "{\"schema\":\"\\\"int\\\"\",\"id\":\"7\"}", 422, NULL, 42201,
         "Invalid schema: \"id\""},
        {"POST", "/subjects/c/versions", V1, "{\"schema\":\"\\\"int\\\"\",\"version\":true}", 422, NULL,
         42202, "The specified version"},
        {"POST", "/subjects//versions", V1, PRIM("int"), 422, NULL, 42208,
         "The specified subject '' is not a valid."},
        {"POST", "/subjects/a%01b/versions", V1, PRIM("int"), 422, NULL, 42208, "The specified subject"},
        {"POST", "/subjects/c/versions", "text/plain", PRIM("int"), 415,
         "{\"error_code\":415,\"message\":\"HTTP 415 Unsupported Media Type\"}", 0, NULL},
        {"POST", "/subjects/c/versions", "application/x-www-form-urlencoded", PRIM("int"), 415, NULL, 415,
         "HTTP 415"},
        {"PUT", "/config", "text/plain", "{\"compatibility\":\"NONE\"}", 415, NULL, 415, "HTTP 415"},
        {"PUT", "/mode", V1, "{\"mode\":", 400, NULL, 400, "Malformed JSON"},
        /* refusals left the state as it was */
        {"GET", "/subjects", NULL, NULL, 200, "[\"c\"]", 0, NULL},
        {"GET", "/subjects/c/versions", NULL, NULL, 200, "[1]", 0, NULL},
        {"GET", "/config", NULL, NULL, 200, "{\"compatibilityLevel\":\"BACKWARD\"}", 0, NULL},
};

/* Lookups are answered from a cache while nothing changed: every change
 * must show at once in the next answer. */
static const step_t lookup_cache[] = {
        {"POST", "/subjects/lc/versions", V1, PRIM("int"), 200, "{\"id\":1}", 0, NULL},
        {"POST", "/subjects/lc", V1, PRIM("int"), 200,
         "{\"subject\":\"lc\",\"version\":1,\"id\":1,\"schema\":\"\\\"int\\\"\"}", 0, NULL},
        {"POST", "/subjects/lc", V1, PRIM("int"), 200,
         "{\"subject\":\"lc\",\"version\":1,\"id\":1,\"schema\":\"\\\"int\\\"\"}", 0, NULL},
        {"DELETE", "/subjects/lc/versions/1", NULL, NULL, 200, "1", 0, NULL},
        {"POST", "/subjects/lc", V1, PRIM("int"), 404, NULL, 40401, "Subject 'lc' not found."},
        {"POST", "/subjects/lc?deleted=true", V1, PRIM("int"), 200,
         "{\"subject\":\"lc\",\"version\":1,\"id\":1,\"schema\":\"\\\"int\\\"\"}", 0, NULL},
        {"POST", "/subjects/lc/versions", V1, PRIM("int"), 200, "{\"id\":1}", 0, NULL},
        {"POST", "/subjects/lc", V1, PRIM("int"), 200,
         "{\"subject\":\"lc\",\"version\":2,\"id\":1,\"schema\":\"\\\"int\\\"\"}", 0, NULL},
};

START_TEST(http_lookup_cache_follows_changes) { RUN_STEPS(lookup_cache); }
END_TEST

START_TEST(http_basics) { RUN_STEPS(basics); }
END_TEST

START_TEST(http_bad_requests) { RUN_STEPS(bad_requests); }
END_TEST

START_TEST(http_body_limit) {
        size_t len = SB_REGISTRY_MAX_BODY + 1;
        char *big = malloc(len);
        response_t r;
        ck_assert_ptr_nonnull(big);
        memset(big, ' ', len);
        for (int chunked = 0; chunked <= 1; chunked++) {
                http("POST", "/subjects/c/versions", V1, big, len, chunked, &r);
                ck_assert_msg(r.status == 413, "chunked %d: status %ld", chunked, r.status);
                ck_assert_str_eq(r.ctype, V1);
                ck_assert_ptr_nonnull(strstr((const char *)r.body.data, "\"error_code\":413"));
                ck_assert_ptr_nonnull(strstr((const char *)r.body.data, "Request body larger than"));
                sb_buf_free(&r.body);
        }
        /* Exactly the limit is read (and found to be no schema). */
        http("POST", "/subjects/c/versions", V1, big, len - 1, 0, &r);
        ck_assert_int_eq(r.status, 400);
        sb_buf_free(&r.body);
        free(big);
}
END_TEST

START_TEST(http_logs_requests) {
        response_t r;
        char line[512];
        int seen = 0, applied = 0;
        http("GET", "/subjects/nope/versions", NULL, NULL, 0, 0, &r);
        sb_buf_free(&r.body);
        http("POST", "/subjects/logged/versions", V1, PRIM("int"), strlen(PRIM("int")), 0, &r);
        sb_buf_free(&r.body);
        rewind(server.log_file);
        while (fgets(line, sizeof(line), server.log_file)) {
                seen |= strstr(line, "debug: GET /subjects/nope/versions -> 404") != NULL;
                applied |= strstr(line, "info: REGISTER 'logged': {\"id\":1}") != NULL;
        }
        ck_assert_msg(seen, "request not logged");
        ck_assert_msg(applied, "change not logged");
}
END_TEST

START_TEST(http_start_errors) {
        char errstr[512] = "";
        regd_submitter_t sub = regd_store_direct_submitter(server.store), none = {NULL, NULL};
        regd_http_t *srv = NULL;
        ck_assert_int_eq(regd_http_new(server.store, sub, server.log, NULL, NULL, "127.0.0.1",
                                       regd_http_port(server.srv), 1, &srv, errstr, sizeof(errstr)),
                         SB_ERR_IO);
        ck_assert_ptr_null(srv);
        ck_assert_msg(strstr(errstr, "cannot listen on 127.0.0.1:"), "errstr: %s", errstr);
        ck_assert_int_eq(regd_http_new(server.store, sub, server.log, NULL, NULL, "no-such-host.invalid", 0,
                                       1, &srv, errstr, sizeof(errstr)),
                         SB_ERR_CONFIG);
        ck_assert_ptr_null(srv);
        ck_assert_msg(strstr(errstr, "no-such-host.invalid"), "errstr: %s", errstr);
        ck_assert_int_eq(regd_http_new(server.store, none, server.log, NULL, NULL, "127.0.0.1", 0, 1, &srv,
                                       errstr, sizeof(errstr)),
                         SB_ERR_CONFIG);
        ck_assert_ptr_null(srv);
        /* One thread is a valid pool, and a second server is independent. */
        ck_assert_msg(regd_http_new(server.store, sub, server.log, NULL, NULL, "127.0.0.1", 0, 1, &srv,
                                    errstr, sizeof(errstr)) == SB_OK,
                      "%s", errstr);
        ck_assert_uint_ne(regd_http_port(srv), regd_http_port(server.srv));
        regd_http_destroy(srv);
}
END_TEST

static void *post_many(void *arg) {
        int t = (int)(intptr_t)arg;
        char body[128];
        response_t r;
        for (int i = 0; i < 10; i++) {
                snprintf(body, sizeof(body),
                         "{\"schema\":\"{\\\"type\\\":\\\"fixed\\\",\\\"name\\\":\\\"F\\\","
                         "\\\"size\\\":%d}\"}",
                         t * 10 + i + 1);
                http("POST", "/subjects/many/versions", V1, body, strlen(body), 0, &r);
                int ok = r.status == 200;
                sb_buf_free(&r.body);
                if (!ok)
                        return (void *)1;
        }
        return NULL;
}

START_TEST(http_concurrent) {
        static const char none[] = "{\"compatibility\":\"NONE\"}";
        pthread_t th[6];
        response_t r;
        http("PUT", "/config/many", V1, none, strlen(none), 0, &r);
        ck_assert_int_eq(r.status, 200);
        sb_buf_free(&r.body);
        for (intptr_t i = 0; i < 6; i++)
                ck_assert_int_eq(pthread_create(&th[i], NULL, post_many, (void *)i), 0);
        for (int i = 0; i < 6; i++) {
                void *res;
                pthread_join(th[i], &res);
                ck_assert_ptr_null(res);
        }
        http("GET", "/subjects/many/versions/latest", NULL, NULL, 0, 0, &r);
        ck_assert_int_eq(r.status, 200);
        ck_assert_ptr_nonnull(strstr((const char *)r.body.data, "\"version\":60,"));
        sb_buf_free(&r.body);
}
END_TEST

static Suite *registry_api_suite(void) {
        Suite *s = suite_create("registry_api");
        TCase *tc = tcase_create("http");
        tcase_add_checked_fixture(tc, server_start, server_stop);
        tcase_set_timeout(tc, 120);
        tcase_add_test(tc, http_basics);
        tcase_add_test(tc, http_lookup_cache_follows_changes);
        tcase_add_test(tc, http_bad_requests);
        tcase_add_test(tc, http_body_limit);
        tcase_add_test(tc, http_logs_requests);
        tcase_add_test(tc, http_start_errors);
        tcase_add_test(tc, http_concurrent);
        suite_add_tcase(s, tc);
        return s;
}

int main(void) {
        curl_global_init(CURL_GLOBAL_ALL);
        int rc = test_run_suite(registry_api_suite());
        curl_global_cleanup();
        return rc;
}

/*
 * test_registry: the registry's store, and its HTTP layer in-process
 * (sb_registry_http on 127.0.0.1, an ephemeral port, driven with libcurl).
 */
#include <check.h>
#include <curl/curl.h>
#include <jansson.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "registry_http.h"
#include "registry_store.h"
#include "sb_buf.h"
#include "testutil.h"

/* A record schema, the same with other key order and spacing, its canonical
 * text, and that text as a JSON string's contents. */
#define S1 "{\"type\":\"record\",\"name\":\"A\",\"fields\":[{\"name\":\"x\",\"type\":\"int\"}]}"
#define S1_OTHER                                                                                             \
        "{ \"name\": \"A\", \"fields\": [ {\"type\": \"int\", \"name\": \"x\"} ], \"type\": \"record\" }"
#define S1_CANON "{\"fields\":[{\"name\":\"x\",\"type\":\"int\"}],\"name\":\"A\",\"type\":\"record\"}"
#define S1_JSTR                                                                                              \
        "{\\\"fields\\\":[{\\\"name\\\":\\\"x\\\",\\\"type\\\":\\\"int\\\"}],\\\"name\\\":\\\"A\\\","        \
        "\\\"type\\\":\\\"record\\\"}"
#define S1_OTHER_JSTR                                                                                        \
        "{ \\\"name\\\": \\\"A\\\", \\\"fields\\\": [ {\\\"type\\\": \\\"int\\\", \\\"name\\\": \\\"x\\\"} " \
        "], \\\"type\\\": \\\"record\\\" }"

static sb_registry_store_t *new_store(void) {
        char errstr[256];
        sb_registry_store_t *st = sb_registry_store_new(errstr, sizeof(errstr));
        ck_assert_msg(st != NULL, "sb_registry_store_new: %s", errstr);
        return st;
}

static void reg(sb_registry_store_t *st, const char *subject, const char *text, int32_t want_id,
                int32_t want_version) {
        int32_t id = 0, version = 0;
        TEST_CALL(sb_registry_store_register(st, subject, text, strlen(text), &id, &version, TEST_ERR));
        ck_assert_msg(id == want_id && version == want_version,
                      "%s: got id %d version %d, want id %d version %d", subject, (int)id, (int)version,
                      (int)want_id, (int)want_version);
}

START_TEST(store_same_schema_same_id) {
        sb_registry_store_t *st = new_store();
        char *text = NULL;
        reg(st, "s-value", S1, 1, 1);
        reg(st, "s-value", S1, 1, 1);
        reg(st, "s-value", S1_OTHER, 1, 1); /* equal canonical forms */
        TEST_CALL(sb_registry_store_by_id(st, 1, &text, TEST_ERR));
        ck_assert_str_eq(text, S1_CANON);
        free(text);
        sb_registry_store_destroy(st);
}
END_TEST

START_TEST(store_subjects_share_ids) {
        sb_registry_store_t *st = new_store();
        char errstr[512] = "";
        sb_registry_use_t *uses;
        size_t n;
        reg(st, "b-value", S1, 1, 1);
        reg(st, "a-value", "\"string\"", 2, 1);
        reg(st, "a-value", S1_OTHER, 1, 2); /* same id, new version here */
        TEST_CALL(sb_registry_store_id_uses(st, 1, &uses, &n, TEST_ERR));
        ck_assert_uint_eq(n, 2);
        ck_assert_str_eq(uses[0].subject, "a-value");
        ck_assert_int_eq(uses[0].version, 2);
        ck_assert_str_eq(uses[1].subject, "b-value");
        ck_assert_int_eq(uses[1].version, 1);
        sb_registry_uses_free(uses, n);
        ck_assert_int_eq(sb_registry_store_id_uses(st, 3, &uses, &n, errstr, sizeof(errstr)),
                         SB_ERR_NOT_FOUND);
        sb_registry_store_destroy(st);
}
END_TEST

START_TEST(store_versions) {
        static const char *const schemas[] = {"\"int\"", "\"long\"", "\"string\"", S1};
        sb_registry_store_t *st = new_store();
        char errstr[512] = "", *text, **names;
        int32_t *versions, id, version;
        size_t n;
        int found;

        for (int i = 0; i < 4; i++)
                reg(st, "v", schemas[i], i + 1, i + 1);
        reg(st, "v", "\"long\"", 2, 2); /* an old version stays what it was */
        reg(st, "u", "\"long\"", 2, 1);
        TEST_CALL(sb_registry_store_versions(st, "v", &versions, &n, TEST_ERR));
        ck_assert_uint_eq(n, 4);
        for (size_t i = 0; i < n; i++)
                ck_assert_int_eq(versions[i], (int32_t)i + 1);
        free(versions);
        TEST_CALL(sb_registry_store_subjects(st, &names, &n, TEST_ERR));
        ck_assert_uint_eq(n, 2);
        ck_assert_str_eq(names[0], "u");
        ck_assert_str_eq(names[1], "v");
        sb_registry_strings_free(names, n);

        TEST_CALL(sb_registry_store_get_version(st, "v", SB_REGISTRY_LATEST, &id, &version, &text, &found,
                                                TEST_ERR));
        ck_assert_int_eq(id, 4);
        ck_assert_int_eq(version, 4);
        ck_assert_str_eq(text, S1_CANON);
        free(text);
        TEST_CALL(sb_registry_store_get_version(st, "v", 3, &id, &version, &text, &found, TEST_ERR));
        ck_assert_int_eq(id, 3);
        ck_assert_str_eq(text, "\"string\"");
        free(text);
        ck_assert_int_eq(sb_registry_store_get_version(st, "v", 5, &id, &version, &text, &found, errstr,
                                                       sizeof(errstr)),
                         SB_ERR_NOT_FOUND);
        ck_assert_int_eq(found, 1);
        ck_assert_int_eq(sb_registry_store_get_version(st, "w", 1, &id, &version, &text, &found, errstr,
                                                       sizeof(errstr)),
                         SB_ERR_NOT_FOUND);
        ck_assert_int_eq(found, 0);
        ck_assert_int_eq(sb_registry_store_versions(st, "w", &versions, &n, errstr, sizeof(errstr)),
                         SB_ERR_NOT_FOUND);
        sb_registry_store_destroy(st);
}
END_TEST

START_TEST(store_refuses_invalid) {
        static const struct {
                const char *text, *why; /* why: a part of the message */
        } cases[] = {
                {"{\"type\":\"recrd\",\"name\":\"A\"}", "recrd"},
                {"{\"type\":\"record\",\"name\":\"A\",\"fields\":[{\"name\":\"x\",\"type\":\"nope\"}]}",
                 "nope"},
                {"{not json", "not JSON"},
                {"", "not JSON"},
        };
        sb_registry_store_t *st = new_store();
        char errstr[512], **names;
        int32_t id, version;
        size_t n;
        for (size_t i = 0; i < sizeof(cases) / sizeof(*cases); i++) {
                errstr[0] = '\0';
                ck_assert_int_eq(sb_registry_store_register(st, "s", cases[i].text, strlen(cases[i].text),
                                                            &id, &version, errstr, sizeof(errstr)),
                                 SB_ERR_SCHEMA);
                ck_assert_msg(strstr(errstr, cases[i].why), "case %zu: '%s' does not say '%s'", i, errstr,
                              cases[i].why);
        }
        ck_assert_int_eq(
                sb_registry_store_register(st, "", "\"int\"", 5, &id, &version, errstr, sizeof(errstr)),
                SB_ERR_INVALID);
        /* Nothing was stored, and no id was spent. */
        TEST_CALL(sb_registry_store_subjects(st, &names, &n, TEST_ERR));
        ck_assert_uint_eq(n, 0);
        ck_assert_ptr_null(names);
        reg(st, "s", "\"int\"", 1, 1);
        sb_registry_store_destroy(st);
}
END_TEST

START_TEST(store_by_id_unknown) {
        sb_registry_store_t *st = new_store();
        char errstr[512] = "", *text = (char *)"x";
        static const int32_t ids[] = {0, -1, 1, 2, INT32_MAX};
        for (size_t i = 0; i < sizeof(ids) / sizeof(*ids); i++) {
                ck_assert_int_eq(sb_registry_store_by_id(st, ids[i], &text, errstr, sizeof(errstr)),
                                 SB_ERR_NOT_FOUND);
                ck_assert_ptr_null(text);
        }
        reg(st, "s", "\"int\"", 1, 1);
        ck_assert_int_eq(sb_registry_store_by_id(st, 2, &text, errstr, sizeof(errstr)), SB_ERR_NOT_FOUND);
        sb_registry_store_destroy(st);
}
END_TEST

/* Threads register the same and distinct schemas at once: ids stay
 * consistent (one per distinct schema) and no version is lost. */
#define N_THREADS 8
#define PER_THREAD 25

static void *register_many(void *arg) {
        sb_registry_store_t *st = arg;
        char text[64], errstr[256];
        int32_t id, version;
        for (int i = 0; i < PER_THREAD; i++) {
                snprintf(text, sizeof(text), "{\"type\":\"fixed\",\"name\":\"F\",\"size\":%d}", i + 1);
                if (sb_registry_store_register(st, "shared", text, strlen(text), &id, &version, errstr,
                                               sizeof(errstr)) ||
                    id < 1 || id > PER_THREAD)
                        return (void *)1;
        }
        return NULL;
}

START_TEST(store_threads) {
        sb_registry_store_t *st = new_store();
        pthread_t th[N_THREADS];
        int32_t *versions;
        size_t n;
        for (int i = 0; i < N_THREADS; i++)
                ck_assert_int_eq(pthread_create(&th[i], NULL, register_many, st), 0);
        for (int i = 0; i < N_THREADS; i++) {
                void *res;
                pthread_join(th[i], &res);
                ck_assert_ptr_null(res);
        }
        TEST_CALL(sb_registry_store_versions(st, "shared", &versions, &n, TEST_ERR));
        ck_assert_uint_eq(n, PER_THREAD);
        free(versions);
        sb_registry_store_destroy(st);
}
END_TEST

/* ---- HTTP ---- */

typedef struct {
        sb_registry_store_t *store;
        sb_log_t *log;
        FILE *log_file;
        sb_registry_http_t *srv;
        char base[64];
} server_t;

static server_t server;

static void server_start(void) {
        char errstr[512];
        server.store = new_store();
        server.log_file = tmpfile();
        ck_assert_ptr_nonnull(server.log_file);
        server.log = sb_log_new("test_registry", SB_LOG_DEBUG, server.log_file);
        ck_assert_ptr_nonnull(server.log);
        server.srv =
                sb_registry_http_new(server.store, server.log, "127.0.0.1", 0, 4, errstr, sizeof(errstr));
        ck_assert_msg(server.srv != NULL, "sb_registry_http_new: %s", errstr);
        ck_assert_uint_ne(sb_registry_http_port(server.srv), 0);
        snprintf(server.base, sizeof(server.base), "http://127.0.0.1:%u", sb_registry_http_port(server.srv));
}

static void server_stop(void) {
        sb_registry_http_destroy(server.srv);
        sb_registry_store_destroy(server.store);
        sb_log_destroy(server.log);
        fclose(server.log_file);
        memset(&server, 0, sizeof(server));
}

typedef struct {
        long status;
        char ctype[128];
        sb_buf_t body;
} response_t;

static size_t on_body(char *data, size_t size, size_t n, void *arg) {
        return sb_buf_append(arg, data, size * n) ? 0 : size * n;
}

typedef struct {
        const char *data;
        size_t left;
} upload_t;

static size_t on_read(char *out, size_t size, size_t n, void *arg) {
        upload_t *up = arg;
        size_t len = size * n < up->left ? size * n : up->left;
        memcpy(out, up->data, len);
        up->data += len;
        up->left -= len;
        return len;
}

/* Sends a request; `ctype` NULL sends no Content-Type.  The caller frees
 * resp->body with sb_buf_free. */
static void http(const char *method, const char *path, const char *ctype, const char *body, size_t body_len,
                 int chunked, response_t *resp) {
        char url[512], header[256];
        struct curl_slist *headers = NULL;
        CURL *curl = curl_easy_init();
        ck_assert_ptr_nonnull(curl);
        memset(resp, 0, sizeof(*resp));
        sb_buf_init(&resp->body, 1024 * 1024);
        snprintf(url, sizeof(url), "%s%s", server.base, path);
        /* "Content-Type:" alone stops curl adding its form type to a POST. */
        snprintf(header, sizeof(header), "Content-Type:%s%s", ctype ? " " : "", ctype ? ctype : "");
        headers = curl_slist_append(headers, header);
        if (chunked)
                headers = curl_slist_append(headers, "Transfer-Encoding: chunked");
        headers = curl_slist_append(headers, "Expect:");
        curl_easy_setopt(curl, CURLOPT_URL, url);
        curl_easy_setopt(curl, CURLOPT_CUSTOMREQUEST, method);
        curl_easy_setopt(curl, CURLOPT_HTTPHEADER, headers);
        upload_t up = {body, body_len};
        if (body && chunked) { /* no length known: curl sends chunks */
                curl_easy_setopt(curl, CURLOPT_POST, 1L);
                curl_easy_setopt(curl, CURLOPT_READFUNCTION, on_read);
                curl_easy_setopt(curl, CURLOPT_READDATA, &up);
        } else if (body) {
                curl_easy_setopt(curl, CURLOPT_POSTFIELDS, body);
                curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)body_len);
        }
        if (strcmp(method, "HEAD") == 0)
                curl_easy_setopt(curl, CURLOPT_NOBODY, 1L);
        curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, on_body);
        curl_easy_setopt(curl, CURLOPT_WRITEDATA, &resp->body);
        curl_easy_setopt(curl, CURLOPT_TIMEOUT, 30L);
        CURLcode rc = curl_easy_perform(curl);
        ck_assert_msg(rc == CURLE_OK, "%s %s: %s", method, path, curl_easy_strerror(rc));
        char *ct = NULL;
        curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &resp->status);
        curl_easy_getinfo(curl, CURLINFO_CONTENT_TYPE, &ct);
        snprintf(resp->ctype, sizeof(resp->ctype), "%s", ct ? ct : "(none)");
        ck_assert_int_eq(sb_buf_append(&resp->body, "", 0), SB_OK); /* never NULL */
        curl_slist_free_all(headers);
        curl_easy_cleanup(curl);
}

#define V1 "application/vnd.schemaregistry.v1+json"

/* Steps run in order on one server: each request, and what must come back.
 * `body` is the exact answer; or, if NULL, `code` is the answer's error_code
 * and `message` the start of its message. */
static const struct step {
        const char *method, *path, *ctype, *request;
        long status;
        const char *body;
        int code;
        const char *message;
} steps[] = {
        {"GET", "/", NULL, NULL, 200, "{}", 0, NULL},
        {"GET", "/subjects", NULL, NULL, 200, "[]", 0, NULL},
        {"POST", "/subjects/a%2Fb/versions", V1, "{\"schema\":\"" S1_JSTR "\"}", 200, "{\"id\":1}", 0, NULL},
        {"POST", "/subjects/a%2Fb/versions", "application/json",
         "{\"schema\":\"" S1_OTHER_JSTR "\",\"schemaType\":\"AVRO\"}", 200, "{\"id\":1}", 0, NULL},
        {"POST", "/subjects/c/versions", "application/vnd.schemaregistry+json; charset=utf-8",
         "{\"schema\":\"" S1_JSTR "\"}", 200, "{\"id\":1}", 0, NULL},
        {"POST", "/subjects/c/versions", NULL, "{\"schema\":\"\\\"string\\\"\"}", 200, "{\"id\":2}", 0, NULL},
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
        {"GET", "/schemas/ids/1", NULL, NULL, 200, "{\"schema\":\"" S1_JSTR "\"}", 0, NULL},
        {"GET", "/schemas/ids/2", NULL, NULL, 200, "{\"schema\":\"\\\"string\\\"\"}", 0, NULL},
        {"GET", "/schemas/ids/1/versions", NULL, NULL, 200,
         "[{\"subject\":\"a/b\",\"version\":1},{\"subject\":\"c\",\"version\":1}]", 0, NULL},
        {"HEAD", "/subjects", NULL, NULL, 200, "", 0, NULL},
        /* not found */
        {"GET", "/schemas/ids/3", NULL, NULL, 404,
         "{\"error_code\":40403,\"message\":\"Schema 3 not found\"}", 0, NULL},
        {"GET", "/schemas/ids/abc", NULL, NULL, 404, NULL, 40403, "Schema abc not found"},
        {"GET", "/schemas/ids/3/versions", NULL, NULL, 404, NULL, 40403, "Schema 3 not found"},
        {"GET", "/subjects/x/versions", NULL, NULL, 404,
         "{\"error_code\":40401,\"message\":\"Subject 'x' not found.\"}", 0, NULL},
        {"GET", "/subjects/x/versions/1", NULL, NULL, 404, NULL, 40401, "Subject 'x' not found."},
        {"GET", "/subjects/x/versions/latest", NULL, NULL, 404, NULL, 40401, "Subject 'x'"},
        {"GET", "/subjects/c/versions/3", NULL, NULL, 404,
         "{\"error_code\":40402,\"message\":\"Version 3 not found.\"}", 0, NULL},
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
        /* unknown paths and methods */
        {"GET", "/nope", NULL, NULL, 404, "{\"error_code\":404,\"message\":\"HTTP 404 Not Found\"}", 0, NULL},
        {"GET", "/subjects/c", NULL, NULL, 404, NULL, 404, "HTTP 404"},
        {"GET", "/subjects/c/versions/1/schema/x", NULL, NULL, 404, NULL, 404, "HTTP 404"},
        {"GET", "/schemas/ids/1/other", NULL, NULL, 404, NULL, 404, "HTTP 404"},
        {"GET", "/subjects/%00/versions", NULL, NULL, 404, NULL, 404, "HTTP 404"},
        {"GET", "/subjects/%FF/versions", NULL, NULL, 404, NULL, 404, "HTTP 404"},
        {"DELETE", "/subjects", NULL, NULL, 405,
         "{\"error_code\":405,\"message\":\"HTTP 405 Method Not Allowed\"}", 0, NULL},
        {"PUT", "/subjects/c/versions", V1, "{}", 405, NULL, 405, "HTTP 405"},
        {"DELETE", "/subjects/c/versions/1", NULL, NULL, 405, NULL, 405, "HTTP 405"},
        {"POST", "/schemas/ids/1", V1, "{}", 405, NULL, 405, "HTTP 405"},
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
        {"POST", "/subjects//versions", V1, "{\"schema\":\"\\\"int\\\"\"}", 422, NULL, 42208,
         "The specified subject is not valid."},
        {"POST", "/subjects/c/versions", "text/plain", "{\"schema\":\"\\\"int\\\"\"}", 415,
         "{\"error_code\":415,\"message\":\"HTTP 415 Unsupported Media Type\"}", 0, NULL},
        {"POST", "/subjects/c/versions", "application/x-www-form-urlencoded", "{\"schema\":\"\\\"int\\\"\"}",
         415, NULL, 415, "HTTP 415"},
        /* refusals left the state as it was */
        {"GET", "/subjects", NULL, NULL, 200, "[\"a/b\",\"c\"]", 0, NULL},
        {"GET", "/subjects/c/versions", NULL, NULL, 200, "[1,2]", 0, NULL},
};

START_TEST(http_routes) {
        for (size_t i = 0; i < sizeof(steps) / sizeof(*steps); i++) {
                const struct step *st = &steps[i];
                response_t r;
                char what[640];
                snprintf(what, sizeof(what), "step %zu: %s %s", i, st->method, st->path);
                http(st->method, st->path, st->ctype, st->request, st->request ? strlen(st->request) : 0, 0,
                     &r);
                const char *got = (const char *)r.body.data;
                ck_assert_msg(r.status == st->status, "%s: status %ld, want %ld; body %s", what, r.status,
                              st->status, got);
                ck_assert_msg(strcmp(r.ctype, V1) == 0, "%s: content type %s", what, r.ctype);
                if (st->body) {
                        ck_assert_msg(strcmp(got, st->body) == 0, "%s: body\n %s\nwant\n %s", what, got,
                                      st->body);
                } else {
                        json_error_t jerr;
                        json_t *doc = json_loads(got, 0, &jerr);
                        ck_assert_msg(doc != NULL, "%s: not JSON: %s", what, got);
                        json_int_t code = json_integer_value(json_object_get(doc, "error_code"));
                        const char *msg = json_string_value(json_object_get(doc, "message"));
                        ck_assert_msg(code == st->code && msg &&
                                              strncmp(msg, st->message, strlen(st->message)) == 0,
                                      "%s: got %s, want error_code %d, message '%s...'", what, got, st->code,
                                      st->message);
                        ck_assert_msg(json_object_size(doc) == 2, "%s: extra members: %s", what, got);
                        json_decref(doc);
                }
                sb_buf_free(&r.body);
        }
}
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
        int seen = 0;
        http("GET", "/subjects/nope/versions", NULL, NULL, 0, 0, &r);
        sb_buf_free(&r.body);
        rewind(server.log_file);
        while (fgets(line, sizeof(line), server.log_file))
                seen |= strstr(line, "debug: GET /subjects/nope/versions -> 404") != NULL;
        ck_assert_msg(seen, "request not logged");
}
END_TEST

START_TEST(http_start_errors) {
        char errstr[512] = "";
        sb_registry_http_t *srv;
        srv = sb_registry_http_new(server.store, server.log, "127.0.0.1", sb_registry_http_port(server.srv),
                                   1, errstr, sizeof(errstr));
        ck_assert_ptr_null(srv);
        ck_assert_msg(strstr(errstr, "cannot listen on 127.0.0.1:"), "errstr: %s", errstr);
        srv = sb_registry_http_new(server.store, server.log, "no-such-host.invalid", 0, 1, errstr,
                                   sizeof(errstr));
        ck_assert_ptr_null(srv);
        ck_assert_msg(strstr(errstr, "no-such-host.invalid"), "errstr: %s", errstr);
        /* One thread is a valid pool, and a second server is independent. */
        srv = sb_registry_http_new(server.store, server.log, "127.0.0.1", 0, 1, errstr, sizeof(errstr));
        ck_assert_msg(srv != NULL, "%s", errstr);
        ck_assert_uint_ne(sb_registry_http_port(srv), sb_registry_http_port(server.srv));
        sb_registry_http_destroy(srv);
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
        pthread_t th[6];
        response_t r;
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

static Suite *registry_suite(void) {
        Suite *s = suite_create("registry");
        TCase *store = tcase_create("store");
        tcase_add_test(store, store_same_schema_same_id);
        tcase_add_test(store, store_subjects_share_ids);
        tcase_add_test(store, store_versions);
        tcase_add_test(store, store_refuses_invalid);
        tcase_add_test(store, store_by_id_unknown);
        tcase_add_test(store, store_threads);
        suite_add_tcase(s, store);

        TCase *http_tc = tcase_create("http");
        tcase_add_checked_fixture(http_tc, server_start, server_stop);
        tcase_set_timeout(http_tc, 60);
        tcase_add_test(http_tc, http_routes);
        tcase_add_test(http_tc, http_body_limit);
        tcase_add_test(http_tc, http_logs_requests);
        tcase_add_test(http_tc, http_start_errors);
        tcase_add_test(http_tc, http_concurrent);
        suite_add_tcase(s, http_tc);
        return s;
}

int main(void) {
        curl_global_init(CURL_GLOBAL_ALL);
        int rc = test_run_suite(registry_suite());
        curl_global_cleanup();
        return rc;
}

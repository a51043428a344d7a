/*
 * test_registry_api: the registry's HTTP API in-process (sb_registry_http on
 * 127.0.0.1, an ephemeral port, with the store's direct submitter), driven
 * with libcurl: every route with its successes and Confluent's error codes
 * and bodies, the content type, soft and hard deletes, IMPORT and READONLY,
 * how submit() failures are answered, limits, and determinism: the same
 * commands applied to two stores give the same answer to every GET.
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
#include "testutil.h"

/* A record schema, the same with other key order and spacing, their texts
 * as a JSON string's contents, and the canonical text. */
#define S1_CANON "{\"fields\":[{\"name\":\"x\",\"type\":\"int\"}],\"name\":\"A\",\"type\":\"record\"}"
#define S1_JSTR                                                                                              \
        "{\\\"fields\\\":[{\\\"name\\\":\\\"x\\\",\\\"type\\\":\\\"int\\\"}],\\\"name\\\":\\\"A\\\","        \
        "\\\"type\\\":\\\"record\\\"}"
#define S1_OTHER_JSTR                                                                                        \
        "{ \\\"name\\\": \\\"A\\\", \\\"fields\\\": [ {\\\"type\\\": \\\"int\\\", \\\"name\\\": \\\"x\\\"} " \
        "], \\\"type\\\": \\\"record\\\" }"
/* S1 plus field b: without a default (breaks BACKWARD), with one. */
#define S2_NO_DEFAULT_JSTR                                                                                   \
        "{\\\"type\\\":\\\"record\\\",\\\"name\\\":\\\"A\\\",\\\"fields\\\":[{\\\"name\\\":\\\"x\\\","       \
        "\\\"type\\\":\\\"int\\\"},{\\\"name\\\":\\\"b\\\",\\\"type\\\":\\\"string\\\"}]}"
#define S2_DEFAULT_JSTR                                                                                      \
        "{\\\"type\\\":\\\"record\\\",\\\"name\\\":\\\"A\\\",\\\"fields\\\":[{\\\"name\\\":\\\"x\\\","       \
        "\\\"type\\\":\\\"int\\\"},{\\\"name\\\":\\\"b\\\",\\\"type\\\":\\\"string\\\",\\\"default\\\":"     \
        "\\\"\\\"}]}"
#define BODY(jstr) "{\"schema\":\"" jstr "\"}"
#define PRIM(name) "{\"schema\":\"\\\"" name "\\\"\"}"

/* ---- an in-process server ---- */

typedef struct {
        regd_store_t *store;
        sb_log_t *log;
        FILE *log_file;
        regd_http_t *srv;
        char base[64];
} server_t;

static server_t server;

static regd_store_t *new_store(void) {
        char errstr[256];
        regd_store_t *st = regd_store_new(errstr, sizeof(errstr));
        ck_assert_msg(st != NULL, "regd_store_new: %s", errstr);
        return st;
}

static regd_http_t *start(regd_store_t *st, regd_submitter_t sub, char *base, size_t size) {
        char errstr[512];
        regd_http_t *srv =
                regd_http_new(st, sub, server.log, NULL, NULL, "127.0.0.1", 0, 4, errstr, sizeof(errstr));
        ck_assert_msg(srv != NULL, "regd_http_new: %s", errstr);
        ck_assert_uint_ne(regd_http_port(srv), 0);
        snprintf(base, size, "http://127.0.0.1:%u", regd_http_port(srv));
        return srv;
}

static void server_start(void) {
        server.store = new_store();
        server.log_file = tmpfile();
        ck_assert_ptr_nonnull(server.log_file);
        server.log = sb_log_new("test_registry_api", SB_LOG_DEBUG, server.log_file);
        ck_assert_ptr_nonnull(server.log);
        server.srv = start(server.store, regd_store_direct_submitter(server.store), server.base,
                           sizeof(server.base));
}

static void server_stop(void) {
        regd_http_destroy(server.srv);
        regd_store_destroy(server.store);
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

/* Sends a request to `base`; `ctype` NULL sends no Content-Type.  The
 * caller frees resp->body with sb_buf_free. */
static void http_to(const char *base, const char *method, const char *path, const char *ctype,
                    const char *body, size_t body_len, int chunked, response_t *resp) {
        char url[512], header[256];
        struct curl_slist *headers = NULL;
        CURL *curl = curl_easy_init();
        ck_assert_ptr_nonnull(curl);
        memset(resp, 0, sizeof(*resp));
        sb_buf_init(&resp->body, 1024 * 1024);
        snprintf(url, sizeof(url), "%s%s", base, path);
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

static void http(const char *method, const char *path, const char *ctype, const char *body, size_t body_len,
                 int chunked, response_t *resp) {
        http_to(server.base, method, path, ctype, body, body_len, chunked, resp);
}

#define V1 "application/vnd.schemaregistry.v1+json"

/* One request and what must come back.  `body` is the exact answer ("~..."
 * its start: for documents another module shapes); or,
 * if NULL and `code` is not 0, `code` is the answer's error_code and
 * `message` the start of its message ("*..." : a part of it); with neither,
 * only the status is checked. */
typedef struct {
        const char *method, *path, *ctype, *request;
        long status;
        const char *body;
        int code;
        const char *message;
} step_t;

static void run_steps(const step_t *steps, size_t n) {
        for (size_t i = 0; i < n; i++) {
                const step_t *st = &steps[i];
                response_t r;
                char what[640];
                snprintf(what, sizeof(what), "step %zu: %s %s", i, st->method, st->path);
                http(st->method, st->path, st->ctype ? st->ctype : (st->request ? V1 : NULL), st->request,
                     st->request ? strlen(st->request) : 0, 0, &r);
                const char *got = (const char *)r.body.data;
                ck_assert_msg(r.status == st->status, "%s: status %ld, want %ld; body %s", what, r.status,
                              st->status, got);
                ck_assert_msg(strcmp(r.ctype, V1) == 0, "%s: content type %s", what, r.ctype);
                if (st->body && st->body[0] == '~') {
                        ck_assert_msg(strncmp(got, st->body + 1, strlen(st->body + 1)) == 0,
                                      "%s: body\n %s\ndoes not start with\n %s", what, got, st->body + 1);
                } else if (st->body) {
                        ck_assert_msg(strcmp(got, st->body) == 0, "%s: body\n %s\nwant\n %s", what, got,
                                      st->body);
                } else if (st->code) {
                        json_error_t jerr;
                        json_t *doc = json_loads(got, 0, &jerr);
                        ck_assert_msg(doc != NULL, "%s: not JSON: %s", what, got);
                        json_int_t code = json_integer_value(json_object_get(doc, "error_code"));
                        const char *msg = json_string_value(json_object_get(doc, "message"));
                        int part = st->message[0] == '*';
                        ck_assert_msg(code == st->code && msg &&
                                              (part ? strstr(msg, st->message + 1) != NULL
                                                    : strncmp(msg, st->message, strlen(st->message)) == 0),
                                      "%s: got %s, want error_code %d, message '%s...'", what, got, st->code,
                                      st->message);
                        ck_assert_msg(json_object_size(doc) == 2, "%s: extra members: %s", what, got);
                        json_decref(doc);
                }
                sb_buf_free(&r.body);
        }
}

#define RUN_STEPS(steps) run_steps((steps), sizeof(steps) / sizeof(*(steps)))

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

#define MSG_B_MISSING                                                                                        \
        "reading version 1 data with the new schema: reader field 'b' (record A) has no default and is "     \
        "missing in the writer"

/* Compatibility: refusals that say why, and the test-only routes. */
static const step_t compatibility[] = {
        {"POST", "/compatibility/subjects/t/versions/latest", V1, BODY(S1_JSTR), 200,
         "{\"is_compatible\":true}", 0, NULL},
        {"POST", "/compatibility/subjects/t/versions", V1, BODY(S1_JSTR), 200, "{\"is_compatible\":true}", 0,
         NULL},
        {"POST", "/compatibility/subjects/t/versions/1", V1, BODY(S1_JSTR), 404,
         "{\"error_code\":40402,\"message\":\"Version 1 not found.\"}", 0, NULL},
        {"POST", "/subjects/t/versions", V1, BODY(S1_JSTR), 200, "{\"id\":1}", 0, NULL},
        {"POST", "/subjects/t/versions", V1, BODY(S2_NO_DEFAULT_JSTR), 409,
         "{\"error_code\":40901,\"message\":\"Schema being registered is incompatible with an earlier schema "
         "for "
         "subject \\\"t\\\", details: [" MSG_B_MISSING ", {compatibility: 'BACKWARD'}]\"}",
         0, NULL},
        {"POST", "/compatibility/subjects/t/versions/latest", V1, BODY(S2_NO_DEFAULT_JSTR), 200,
         "{\"is_compatible\":false}", 0, NULL},
        {"POST", "/compatibility/subjects/t/versions/1?verbose=true", V1, BODY(S2_NO_DEFAULT_JSTR), 200,
         "{\"is_compatible\":false,\"messages\":[\"" MSG_B_MISSING "\",\"{compatibility: 'BACKWARD'}\"]}", 0,
         NULL},
        {"POST", "/compatibility/subjects/t/versions?verbose=true", V1, BODY(S2_DEFAULT_JSTR), 200,
         "{\"is_compatible\":true,\"messages\":[]}", 0, NULL},
        {"POST", "/compatibility/subjects/t/versions/abc", V1, BODY(S1_JSTR), 422, NULL, 42202,
         "The specified version 'abc'"},
        {"POST", "/compatibility/subjects/t/versions", V1, "{\"schema\":\"{oops\"}", 422, NULL, 42201,
         "Invalid schema: schema is not JSON"},
        {"POST", "/compatibility/subjects/t/versions?verbose=true", V1, "{\"schema\":\"{oops\"}", 200, NULL,
         0, NULL},
        {"POST", "/compatibility/subjects/t/versions", V1, "{}", 422, NULL, 42201, "Invalid schema"},
        {"POST", "/subjects/t/versions", V1, BODY(S2_DEFAULT_JSTR), 200, "{\"id\":2}", 0, NULL},
        {"GET", "/subjects/t/versions", NULL, NULL, 200, "[1,2]", 0, NULL},
        /* FULL_TRANSITIVE: every version, both ways */
        {"PUT", "/config/t", "application/json", "{\"compatibility\":\"full_transitive\"}", 200,
         "{\"compatibility\":\"FULL_TRANSITIVE\"}", 0, NULL},
        {"POST", "/compatibility/subjects/t/versions?verbose=true", V1, PRIM("string"), 200, NULL, 0, NULL},
        {"POST", "/subjects/t/versions", V1, PRIM("string"), 409, NULL, 40901,
         "*reading version 2 data with the new schema: writer type record A does not match reader type "
         "string"},
        {"POST", "/compatibility/subjects/t/versions/1", V1, BODY(S2_DEFAULT_JSTR), 200,
         "{\"is_compatible\":true}", 0, NULL},
};

/* Levels and modes, global and per subject. */
static const step_t settings[] = {
        {"GET", "/config", NULL, NULL, 200, "{\"compatibilityLevel\":\"BACKWARD\"}", 0, NULL},
        {"GET", "/mode", NULL, NULL, 200, "{\"mode\":\"READWRITE\"}", 0, NULL},
        {"PUT", "/config", NULL, "{\"compatibility\":\"FULL\"}", 200, "{\"compatibility\":\"FULL\"}", 0,
         NULL},
        {"GET", "/config", NULL, NULL, 200, "{\"compatibilityLevel\":\"FULL\"}", 0, NULL},
        {"GET", "/config/", NULL, NULL, 200, "{\"compatibilityLevel\":\"FULL\"}", 0, NULL},
        {"PUT", "/config", NULL, "{\"compatibility\":\"sideways\"}", 422,
         "{\"error_code\":42203,\"message\":\"Invalid compatibility level. Valid values are none, backward, "
         "forward, full, backward_transitive, forward_transitive, and full_transitive\"}",
         0, NULL},
        {"PUT", "/config/t", NULL, "{}", 422, NULL, 42203, "Invalid compatibility level."},
        {"GET", "/config/t", NULL, NULL, 404,
         "{\"error_code\":40408,\"message\":\"Subject 't' does not have subject-level compatibility "
         "configured\"}",
         0, NULL},
        {"GET", "/config/t?defaultToGlobal=true", NULL, NULL, 200, "{\"compatibilityLevel\":\"FULL\"}", 0,
         NULL},
        {"PUT", "/config/t", NULL, "{\"compatibility\":\"FORWARD_TRANSITIVE\"}", 200,
         "{\"compatibility\":\"FORWARD_TRANSITIVE\"}", 0, NULL},
        {"GET", "/config/t", NULL, NULL, 200, "{\"compatibilityLevel\":\"FORWARD_TRANSITIVE\"}", 0, NULL},
        {"DELETE", "/config/t", NULL, NULL, 200, "{\"compatibilityLevel\":\"FORWARD_TRANSITIVE\"}", 0, NULL},
        {"DELETE", "/config/t", NULL, NULL, 404,
         "{\"error_code\":40401,\"message\":\"Subject 't' not found.\"}", 0, NULL},
        {"DELETE", "/config", NULL, NULL, 200, "{\"compatibilityLevel\":\"FULL\"}", 0, NULL},
        {"GET", "/config", NULL, NULL, 200, "{\"compatibilityLevel\":\"BACKWARD\"}", 0, NULL},
        /* modes */
        {"GET", "/mode/t", NULL, NULL, 404,
         "{\"error_code\":40409,\"message\":\"Subject 't' does not have subject-level mode configured\"}", 0,
         NULL},
        {"GET", "/mode/t?defaultToGlobal=TRUE", NULL, NULL, 200, "{\"mode\":\"READWRITE\"}", 0, NULL},
        {"PUT", "/mode/t", NULL, "{\"mode\":\"sideways\"}", 422,
         "{\"error_code\":42204,\"message\":\"Invalid mode. Valid values are READWRITE, READONLY and "
         "IMPORT.\"}",
         0, NULL},
        {"PUT", "/mode/t", NULL, "{}", 422, NULL, 42204, "Invalid mode."},
        {"POST", "/subjects/t/versions", V1, BODY(S1_JSTR), 200, "{\"id\":1}", 0, NULL},
        {"PUT", "/mode/t", NULL, "{\"mode\":\"readonly\"}", 200, "{\"mode\":\"READONLY\"}", 0, NULL},
        {"GET", "/mode/t", NULL, NULL, 200, "{\"mode\":\"READONLY\"}", 0, NULL},
        {"POST", "/subjects/t/versions", V1, BODY(S2_DEFAULT_JSTR), 422,
         "{\"error_code\":42205,\"message\":\"Subject t in context . is in read-only mode\"}", 0, NULL},
        {"POST", "/subjects/t/versions", V1, BODY(S1_JSTR), 200, "{\"id\":1}", 0, NULL}, /* held: answered */
        {"DELETE", "/subjects/t/versions/1", NULL, NULL, 422, NULL, 42205,
         "Subject t in context . is in read-only"},
        {"DELETE", "/subjects/t", NULL, NULL, 422, NULL, 42205, "Subject t in context . is in read-only"},
        {"POST", "/subjects/u/versions", V1, BODY(S1_JSTR), 200, "{\"id\":1}", 0, NULL}, /* others can */
        {"DELETE", "/mode/t", NULL, NULL, 200, "{\"mode\":\"READONLY\"}", 0, NULL},
        {"DELETE", "/mode/t", NULL, NULL, 404, NULL, 40401, "Subject 't' not found."},
        {"PUT", "/mode", NULL, "{\"mode\":\"READONLY\"}", 200, "{\"mode\":\"READONLY\"}", 0, NULL},
        {"POST", "/subjects/v/versions", V1, BODY(S1_JSTR), 422, NULL, 42205,
         "Subject v in context . is in read-only"},
        {"DELETE", "/mode", NULL, NULL, 200, "{\"mode\":\"READONLY\"}", 0, NULL},
        {"GET", "/mode", NULL, NULL, 200, "{\"mode\":\"READWRITE\"}", 0, NULL},
        /* IMPORT */
        {"PUT", "/mode", NULL, "{\"mode\":\"IMPORT\"}", 422,
         "{\"error_code\":42205,\"message\":\"Cannot import since found existing subjects\"}", 0, NULL},
        {"PUT", "/mode/imp", NULL, "{\"mode\":\"IMPORT\"}", 200, "{\"mode\":\"IMPORT\"}", 0, NULL},
        {"POST", "/subjects/imp/versions", V1, "{\"schema\":\"\\\"float\\\"\",\"id\":42,\"version\":3}", 200,
         "{\"id\":42}", 0, NULL},
        {"POST", "/subjects/imp/versions", V1, "{\"schema\":\"\\\"bytes\\\"\",\"id\":42}", 422,
         "{\"error_code\":42205,\"message\":\"Overwrite new schema with id 42 in context . is not "
         "permitted.\"}",
         0, NULL},
        {"POST", "/subjects/imp/versions", V1, PRIM("bytes"), 422,
         "{\"error_code\":42205,\"message\":\"Subject imp in context . is not in read-write mode\"}", 0,
         NULL},
        {"GET", "/subjects/imp/versions", NULL, NULL, 200, "[3]", 0, NULL},
        {"GET", "/schemas/ids/42", NULL, NULL, 200, "{\"schema\":\"\\\"float\\\"\"}", 0, NULL},
        {"POST", "/subjects/u/versions", V1, "{\"schema\":\"\\\"bytes\\\"\",\"id\":77}", 422,
         "{\"error_code\":42205,\"message\":\"Subject u in context . is not in import mode\"}", 0, NULL},
        {"PUT", "/mode/u?force=true", NULL, "{\"mode\":\"IMPORT\"}", 200, "{\"mode\":\"IMPORT\"}", 0, NULL},
        {"POST", "/subjects/u/versions", V1, "{\"schema\":\"\\\"bytes\\\"\",\"id\":77}", 200, "{\"id\":77}",
         0, NULL},
        {"DELETE", "/mode/u", NULL, NULL, 200, "{\"mode\":\"IMPORT\"}", 0, NULL},
        {"PUT", "/config/u", NULL, "{\"compatibility\":\"NONE\"}", 200, "{\"compatibility\":\"NONE\"}", 0,
         NULL},
        {"POST", "/subjects/u/versions", V1, PRIM("boolean"), 200, "{\"id\":78}", 0,
         NULL}, /* after the highest */
        {"GET", "/subjects/u/versions", NULL, NULL, 200, "[1,2,3]", 0, NULL},
};

/* Soft deletes, then permanent ones. */
static const step_t deletes[] = {
        {"PUT", "/config", NULL, "{\"compatibility\":\"NONE\"}", 200, "{\"compatibility\":\"NONE\"}", 0,
         NULL},
        {"POST", "/subjects/d/versions", V1, PRIM("int"), 200, "{\"id\":1}", 0, NULL},
        {"POST", "/subjects/d/versions", V1, PRIM("long"), 200, "{\"id\":2}", 0, NULL},
        {"POST", "/subjects/d/versions", V1, PRIM("string"), 200, "{\"id\":3}", 0, NULL},
        {"POST", "/subjects/e/versions", V1, PRIM("int"), 200, "{\"id\":1}", 0, NULL},
        {"DELETE", "/subjects/d/versions/1?permanent=true", NULL, NULL, 404,
         "{\"error_code\":40407,\"message\":\"Subject 'd' Version 1 was not deleted first before being "
         "permanently "
         "deleted\"}",
         0, NULL},
        {"DELETE", "/subjects/d/versions/1", NULL, NULL, 200, "1", 0, NULL},
        {"DELETE", "/subjects/d/versions/1", NULL, NULL, 404,
         "{\"error_code\":40406,\"message\":\"Subject 'd' Version 1 was soft deleted.Set permanent=true to "
         "delete "
         "permanently\"}",
         0, NULL},
        {"DELETE", "/subjects/d/versions/9", NULL, NULL, 404, NULL, 40402, "Version 9 not found."},
        {"DELETE", "/subjects/x/versions/1", NULL, NULL, 404, NULL, 40401, "Subject 'x' not found."},
        {"GET", "/subjects/d/versions", NULL, NULL, 200, "[2,3]", 0, NULL},
        {"GET", "/subjects/d/versions?deleted=true", NULL, NULL, 200, "[1,2,3]", 0, NULL},
        {"GET", "/subjects/d/versions/1", NULL, NULL, 404, NULL, 40402, "Version 1 not found."},
        {"GET", "/subjects/d/versions/1?deleted=true", NULL, NULL, 200,
         "{\"subject\":\"d\",\"version\":1,\"id\":1,\"schema\":\"\\\"int\\\"\"}", 0, NULL},
        {"GET", "/subjects/d/versions/1/referencedby", NULL, NULL, 200, "[]", 0, NULL},
        {"GET", "/schemas/ids/1/versions", NULL, NULL, 200, "[{\"subject\":\"e\",\"version\":1}]", 0, NULL},
        {"GET", "/schemas/ids/1/versions?deleted=true", NULL, NULL, 200,
         "[{\"subject\":\"d\",\"version\":1},{\"subject\":\"e\",\"version\":1}]", 0, NULL},
        {"POST", "/subjects/d", V1, PRIM("int"), 404, NULL, 40403, "Schema not found"},
        {"POST", "/subjects/d?deleted=true", V1, PRIM("int"), 200,
         "{\"subject\":\"d\",\"version\":1,\"id\":1,\"schema\":\"\\\"int\\\"\"}", 0, NULL},
        {"DELETE", "/subjects/d/versions/latest", NULL, NULL, 200, "3", 0, NULL},
        {"DELETE", "/subjects/d?permanent=true", NULL, NULL, 404,
         "{\"error_code\":40405,\"message\":\"Subject 'd' was not deleted first before being permanently "
         "deleted\"}",
         0, NULL},
        {"DELETE", "/subjects/d", NULL, NULL, 200, "[2]", 0, NULL},
        {"DELETE", "/subjects/d", NULL, NULL, 404,
         "{\"error_code\":40404,\"message\":\"Subject 'd' was soft deleted.Set permanent=true to delete "
         "permanently\"}",
         0, NULL},
        {"GET", "/subjects", NULL, NULL, 200, "[\"e\"]", 0, NULL},
        {"GET", "/subjects?deleted=true", NULL, NULL, 200, "[\"d\",\"e\"]", 0, NULL},
        {"GET", "/subjects/d/versions", NULL, NULL, 404, NULL, 40401, "Subject 'd' not found."},
        {"GET", "/subjects/d/versions/2", NULL, NULL, 404, NULL, 40401, "Subject 'd' not found."},
        {"GET", "/schemas/ids/2", NULL, NULL, 200, "{\"schema\":\"\\\"long\\\"\"}", 0,
         NULL}, /* still decodable */
        {"GET", "/schemas/ids/2/subjects", NULL, NULL, 200, "[]", 0, NULL},
        {"GET", "/schemas/ids/2/subjects?deleted=true", NULL, NULL, 200, "[\"d\"]", 0, NULL},
        /* registering again after a soft delete: a new version, the same id */
        {"POST", "/subjects/d/versions", V1, PRIM("long"), 200, "{\"id\":2}", 0, NULL},
        {"GET", "/subjects/d/versions?deleted=true", NULL, NULL, 200, "[1,3,4]", 0, NULL},
        {"DELETE", "/subjects/d", NULL, NULL, 200, "[4]", 0, NULL},
        {"DELETE", "/subjects/d?permanent=true", NULL, NULL, 200, "[1,3,4]", 0, NULL},
        {"DELETE", "/subjects/d?permanent=true", NULL, NULL, 404, NULL, 40401, "Subject 'd' not found."},
        {"GET", "/subjects?deleted=true", NULL, NULL, 200, "[\"e\"]", 0, NULL},
        {"GET", "/schemas/ids/3", NULL, NULL, 404, NULL, 40403, "Schema 3 not found"},
        /* ids are never reused: a new schema after the hard delete gets 4 */
        {"POST", "/subjects/d/versions", V1, PRIM("double"), 200, "{\"id\":4}", 0, NULL},
        {"POST", "/subjects/d/versions", V1, PRIM("string"), 200, "{\"id\":3}", 0, NULL},
        {"GET", "/subjects/d/versions", NULL, NULL, 200, "[1,2]", 0, NULL},
        {"DELETE", "/subjects/e/versions/-1", NULL, NULL, 200, "1", 0, NULL},
        {"DELETE", "/subjects/e/versions/1?permanent=true", NULL, NULL, 200, "1", 0, NULL},
        {"GET", "/subjects/e/versions?deleted=true", NULL, NULL, 404, NULL, 40401, "Subject 'e' not found."},
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

START_TEST(http_compatibility) { RUN_STEPS(compatibility); }
END_TEST

START_TEST(http_settings) { RUN_STEPS(settings); }
END_TEST

START_TEST(http_deletes) { RUN_STEPS(deletes); }
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
        regd_http_t *srv;
        srv = regd_http_new(server.store, sub, server.log, NULL, NULL, "127.0.0.1",
                            regd_http_port(server.srv), 1, errstr, sizeof(errstr));
        ck_assert_ptr_null(srv);
        ck_assert_msg(strstr(errstr, "cannot listen on 127.0.0.1:"), "errstr: %s", errstr);
        srv = regd_http_new(server.store, sub, server.log, NULL, NULL, "no-such-host.invalid", 0, 1, errstr,
                            sizeof(errstr));
        ck_assert_ptr_null(srv);
        ck_assert_msg(strstr(errstr, "no-such-host.invalid"), "errstr: %s", errstr);
        srv = regd_http_new(server.store, none, server.log, NULL, NULL, "127.0.0.1", 0, 1, errstr,
                            sizeof(errstr));
        ck_assert_ptr_null(srv);
        /* One thread is a valid pool, and a second server is independent. */
        srv = regd_http_new(server.store, sub, server.log, NULL, NULL, "127.0.0.1", 0, 1, errstr,
                            sizeof(errstr));
        ck_assert_msg(srv != NULL, "%s", errstr);
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

/* ---- submit() failures ---- */

static struct {
        sb_err_t err;
        const char *msg;
        json_t *result; /* answered when err is SB_OK (a new reference each time) */
} fake;

static sb_err_t fake_submit(void *opaque, const json_t *command, json_t **result, char *errstr,
                            size_t errstr_size) {
        (void)opaque, (void)command;
        *result = NULL;
        if (fake.err)
                return sb_seterr(fake.err, errstr, errstr_size, "%s", fake.msg);
        *result = json_deep_copy(fake.result);
        return SB_OK;
}

START_TEST(http_submit_failures) {
        static const struct {
                const char *msg, *result;
                long status;
                const char *message;
                sb_err_t err;
                int code;
        } cases[] = {
                {"timed out waiting for _sharebus_schemas to apply the change", NULL, 500,
                 "Operation timed out: timed out waiting", SB_ERR_KAFKA, 50002},
                {"appending to _sharebus_schemas failed: Broker: Not enough in-sync replicas", NULL, 500,
                 "Error while writing to the registry log: appending", SB_ERR_KAFKA, 50003},
                {"out of memory", NULL, 500, "Error in the backend data store: out of memory", SB_ERR_NOMEM,
                 50001},
                {NULL, "{\"id\":1}", 500, "Error in the backend data store: the command gave no result",
                 SB_OK, 50001},
                {NULL, "{\"id\":1,\"http\":99}", 500, "Error in the backend data store", SB_OK, 50001},
                {NULL, "{\"body\":[3],\"http\":200}", 200, "[3]", SB_OK, 0},
                {NULL, "{\"error_code\":40901,\"message\":\"no\",\"http\":409}", 409, "no", SB_OK, 40901},
        };
        regd_submitter_t sub = {fake_submit, NULL};
        char base[64];
        regd_http_t *srv = start(server.store, sub, base, sizeof(base));
        for (size_t i = 0; i < sizeof(cases) / sizeof(*cases); i++) {
                response_t r;
                fake.err = cases[i].err;
                fake.msg = cases[i].msg;
                fake.result = cases[i].result ? json_loads(cases[i].result, 0, NULL) : NULL;
                http_to(base, "DELETE", "/subjects/s", NULL, NULL, 0, 0, &r);
                const char *got = (const char *)r.body.data;
                ck_assert_msg(r.status == cases[i].status, "case %zu: status %ld: %s", i, r.status, got);
                ck_assert_str_eq(r.ctype, V1);
                if (cases[i].code) {
                        json_t *doc = json_loads(got, 0, NULL);
                        const char *msg = json_string_value(json_object_get(doc, "message"));
                        ck_assert_msg(
                                json_integer_value(json_object_get(doc, "error_code")) == cases[i].code &&
                                        msg && strncmp(msg, cases[i].message, strlen(cases[i].message)) == 0,
                                "case %zu: %s", i, got);
                        json_decref(doc);
                } else {
                        ck_assert_str_eq(got, cases[i].message);
                }
                json_decref(fake.result);
                sb_buf_free(&r.body);
        }
        /* Reads do not go through the submitter. */
        response_t r;
        http_to(base, "GET", "/subjects", NULL, NULL, 0, 0, &r);
        ck_assert_int_eq(r.status, 200);
        sb_buf_free(&r.body);
        regd_http_destroy(srv);
}
END_TEST

/* ---- determinism ---- */

/* A fixed pseudo-random sequence (an LCG: the same on every machine). */
static uint32_t next_rand(uint32_t *state) {
        *state = *state * 1103515245u + 12345u;
        return (*state >> 16) & 0x7FFF;
}

static const char *const subjects[] = {"a-value", "b-value", "c-key", "d"};
#define N_SUBJECTS (sizeof(subjects) / sizeof(*subjects))

/* A command of a mixed sequence over a few subjects and schemas:
 * registrations (some incompatible, some with ids, some invalid), deletes
 * of every kind, levels, modes, and unknown commands. */
static json_t *mixed_command(uint32_t *rs) {
        static const char *const levels[] = {"NONE", "BACKWARD", "FORWARD", "FULL", "BACKWARD_TRANSITIVE",
                                             "BOGUS"};
        static const char *const modes[] = {"READWRITE", "READONLY", "IMPORT"};
        char text[160];
        const char *subject = subjects[next_rand(rs) % N_SUBJECTS];
        uint32_t kind = next_rand(rs) % 12, k = next_rand(rs);
        json_t *cmd;
        switch (kind) {
        case 0:
        case 1:
        case 2:
        case 3:
        case 4:
                snprintf(text, sizeof(text),
                         "{\"type\":\"record\",\"name\":\"R\",\"fields\":[{\"name\":\"f%u\",\"type\":\"int\"%"
                         "s}]}",
                         k % 5, k % 3 ? ",\"default\":0" : "");
                cmd = json_pack("{s:s,s:s,s:s,s:b,s:s}", "type", "REGISTER", "subject", subject, "schema",
                                text, "normalize", 0, "op_id", "ignored");
                if (k % 7 == 0)
                        json_object_set_new(cmd, "id", json_integer(200 + k % 4));
                return cmd;
        case 5:
                return json_pack("{s:s,s:s,s:i,s:b}", "type", "DELETE_VERSION", "subject", subject, "version",
                                 k % 4 ? (int)(k % 5) : -1, "permanent", k % 3 == 0);
        case 6:
                return json_pack("{s:s,s:s,s:b}", "type", "DELETE_SUBJECT", "subject", subject, "permanent",
                                 k % 2);
        case 7:
                return json_pack("{s:s,s:s?,s:s?}", "type", "CONFIG", "subject", k % 3 ? subject : NULL,
                                 "compatibility", k % 8 == 0 ? NULL : levels[k % 6]);
        case 8:
                return json_pack("{s:s,s:s?,s:s?,s:b}", "type", "MODE", "subject", k % 2 ? subject : NULL,
                                 "mode", k % 5 == 0 ? NULL : modes[k % 3], "force", k % 4 == 0);
        case 9:
                return json_pack("{s:s,s:s,s:s}", "type", "REGISTER", "subject", subject, "schema",
                                 k % 2 ? "\"string\""
                                       : "{\"type\":\"enum\",\"name\":\"E\",\"symbols\":[\"A\"]}");
        case 10: return json_pack("{s:s,s:s}", "type", k % 2 ? "FROB" : "REGISTER", "subject", subject);
        default:
                return json_pack("{s:s,s:s,s:s}", "type", "REGISTER", "subject", subject, "schema",
                                 "{\"type\":1}");
        }
}

/* GETs `path` on both servers; the answers must be equal. */
static void same_answer(const char *base_a, const char *base_b, const char *path, int *compared) {
        response_t ra, rb;
        http_to(base_a, "GET", path, NULL, NULL, 0, 0, &ra);
        http_to(base_b, "GET", path, NULL, NULL, 0, 0, &rb);
        ck_assert_msg(ra.status == rb.status && strcmp((char *)ra.body.data, (char *)rb.body.data) == 0,
                      "GET %s: %ld %s vs %ld %s", path, ra.status, (char *)ra.body.data, rb.status,
                      (char *)rb.body.data);
        ++*compared;
        sb_buf_free(&ra.body);
        sb_buf_free(&rb.body);
}

START_TEST(http_determinism) {
        regd_store_t *b = new_store();
        char base_b[64], path[256];
        regd_http_t *srv_b = start(b, regd_store_direct_submitter(b), base_b, sizeof(base_b));
        int statuses[600] = {0}, compared = 0;
        uint32_t rs = 20260101;
        for (int i = 0; i < 400; i++) {
                json_t *cmd = mixed_command(&rs), *ra = NULL, *rb = NULL;
                ck_assert_int_eq(regd_store_apply(server.store, cmd, &ra), SB_OK);
                ck_assert_int_eq(regd_store_apply(b, cmd, &rb), SB_OK);
                ck_assert_msg(json_equal(ra, rb), "command %d gave different results", i);
                statuses[json_integer_value(json_object_get(ra, "http")) % 600]++;
                json_decref(ra);
                json_decref(rb);
                json_decref(cmd);
                if (i % 50 != 49)
                        continue;
                /* Every GET, at a few points along the way. */
                static const char *const fixed[] = {"/subjects", "/subjects?deleted=true", "/config",
                                                    "/mode"};
                for (size_t k = 0; k < sizeof(fixed) / sizeof(*fixed); k++)
                        same_answer(server.base, base_b, fixed[k], &compared);
                for (size_t s = 0; s < N_SUBJECTS; s++) {
                        static const char *const per_subject[] = {
                                "/subjects/%s/versions", "/subjects/%s/versions?deleted=true",
                                "/subjects/%s/versions/latest", "/config/%s", "/mode/%s"};
                        for (size_t k = 0; k < sizeof(per_subject) / sizeof(*per_subject); k++) {
                                snprintf(path, sizeof(path), per_subject[k], subjects[s]);
                                same_answer(server.base, base_b, path, &compared);
                        }
                        for (int v = 1; v <= 12; v++) {
                                snprintf(path, sizeof(path), "/subjects/%s/versions/%d?deleted=true",
                                         subjects[s], v);
                                same_answer(server.base, base_b, path, &compared);
                        }
                }
                for (int id = 1; id <= 12; id++) {
                        snprintf(path, sizeof(path), "/schemas/ids/%d", id);
                        same_answer(server.base, base_b, path, &compared);
                        snprintf(path, sizeof(path), "/schemas/ids/%d/versions?deleted=true", id);
                        same_answer(server.base, base_b, path, &compared);
                }
                for (int id = 200; id <= 203; id++) {
                        snprintf(path, sizeof(path), "/schemas/ids/%d/versions?deleted=true", id);
                        same_answer(server.base, base_b, path, &compared);
                }
        }
        /* The mix exercised successes and every kind of refusal. */
        ck_assert_int_gt(statuses[200], 50);
        ck_assert_int_gt(statuses[404], 5);
        ck_assert_int_gt(statuses[409], 5);
        ck_assert_int_gt(statuses[422], 5);
        ck_assert_int_gt(statuses[500], 5);
        ck_assert_int_ge(compared, 800);
        json_t *da, *db;
        TEST_CALL(regd_store_dump(server.store, &da));
        TEST_CALL(regd_store_dump(b, &db));
        ck_assert_msg(json_equal(da, db), "states differ");
        ck_assert_int_gt(json_array_size(json_object_get(da, "schemas")), 5);
        json_decref(da);
        json_decref(db);
        regd_http_destroy(srv_b);
        regd_store_destroy(b);
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
        tcase_add_test(tc, http_compatibility);
        tcase_add_test(tc, http_settings);
        tcase_add_test(tc, http_deletes);
        tcase_add_test(tc, http_body_limit);
        tcase_add_test(tc, http_logs_requests);
        tcase_add_test(tc, http_start_errors);
        tcase_add_test(tc, http_concurrent);
        tcase_add_test(tc, http_submit_failures);
        tcase_add_test(tc, http_determinism);
        suite_add_tcase(s, tc);
        return s;
}

int main(void) {
        curl_global_init(CURL_GLOBAL_ALL);
        int rc = test_run_suite(registry_api_suite());
        curl_global_cleanup();
        return rc;
}

/*
 * test_registry_api_checks: the registry's HTTP API (testhttp.h): how
 * submit() failures are answered, determinism (the same commands applied
 * to two stores give the same answer to every GET), and the checks a
 * request goes through before any command: bad defaults, bad escapes,
 * oversized request lines and headers, and registrations the subject
 * already holds.
 */
#define _GNU_SOURCE /* strcasestr */
#include <check.h>
#include <curl/curl.h>
#include <jansson.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <unistd.h>

#include "regd_http.h"
#include "regd_store.h"
#include "sb_buf.h"
#include "testhttp.h"
#include "testutil.h"

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

/* ---- defaults that do not fit their types (Confluent's validateDefaults) ---- */

/* A record r with one field a of `type` and default `dflt` (in a JSON
 * string's contents: \" for "). */
#define DFLT(type, dflt)                                                                                     \
        "{\"schema\":\"{\\\"type\\\":\\\"record\\\",\\\"name\\\":\\\"r\\\",\\\"fields\\\":[{\\\"name\\\":"   \
        "\\\"a\\\",\\\"type\\\":" type ",\\\"default\\\":" dflt "}]}\"}"
#define Q(s) "\\\"" s "\\\""

static const step_t defaults[] = {
        {"PUT", "/config", NULL, "{\"compatibility\":\"NONE\"}", 200, NULL, 0, NULL},
        {"POST", "/subjects/d/versions", V1, DFLT(Q("int"), Q("x")), 422,
         "{\"error_code\":42201,\"message\":\"Invalid schema: field 'r.a': default \\\"x\\\" does not fit "
         "type "
         "int (expected an integer of 32 bits)\"}",
         0, NULL},
        {"POST", "/subjects/d/versions", V1, DFLT(Q("int"), "4294967296"), 422, NULL, 42201,
         "Invalid schema: field 'r.a': default 4294967296 does not fit type int"},
        {"POST", "/subjects/d/versions", V1, DFLT(Q("long"), "1.5"), 422, NULL, 42201,
         "Invalid schema: field"},
        {"POST", "/subjects/d/versions", V1, DFLT(Q("double"), Q("1")), 422, NULL, 42201, "Invalid schema"},
        {"POST", "/subjects/d/versions", V1, DFLT(Q("boolean"), "0"), 422, NULL, 42201, "Invalid schema"},
        {"POST", "/subjects/d/versions", V1, DFLT(Q("string"), "null"), 422, NULL, 42201, "Invalid schema"},
        {"POST", "/subjects/d/versions", V1, DFLT(Q("bytes"), "1"), 422, NULL, 42201, "Invalid schema"},
        {"POST", "/subjects/d/versions", V1, DFLT("[" Q("null") "," Q("string") "]", Q("s")), 422, NULL,
         42201, "*does not fit type null, the union's first branch (expected null)"},
        {"POST", "/subjects/d/versions", V1,
         DFLT("{" Q("type") ":" Q("enum") "," Q("name") ":" Q("E") "," Q("symbols") ":[" Q("A") "]}", Q("B")),
         422, NULL, 42201, "*expected one of the enum's symbols"},
        {"POST", "/subjects/d/versions", V1,
         DFLT("{" Q("type") ":" Q("array") "," Q("items") ":" Q("int") "}", "[1," Q("x") "]"), 422, NULL,
         42201, "*type array"},
        {"POST", "/subjects/d/versions", V1,
         DFLT("{" Q("type") ":" Q("map") "," Q("values") ":" Q("int") "}", "[]"), 422, NULL, 42201,
         "*expected an object"},
        {"POST", "/subjects/d/versions", V1,
         DFLT("{" Q("type") ":" Q("fixed") "," Q("name") ":" Q("F") "," Q("size") ":2}", Q("abc")), 422, NULL,
         42201, "*expected a string of 2 characters"},
        {"POST", "/subjects/d/versions", V1,
         DFLT("{" Q("type") ":" Q("int") "," Q("logicalType") ":" Q("date") "}", Q("2020-01-01")), 422, NULL,
         42201, "*expected an integer"},
        {"POST", "/subjects/d/versions", V1,
         DFLT("{" Q("type") ":" Q("record") "," Q("name") ":" Q("In") "," Q("fields") ":[{" Q("name") ":" Q(
                      "x") "," Q("type") ":" Q("int") "}]}",
              "{}"),
         422, NULL, 42201, "*member 'x' is missing"},
        /* nothing was registered */
        {"GET", "/subjects/d/versions", NULL, NULL, 404, NULL, 40401, "Subject 'd' not found."},
        /* defaults that fit */
        {"POST", "/subjects/d/versions", V1, DFLT(Q("int"), "-7"), 200, "{\"id\":1}", 0, NULL},
        {"POST", "/subjects/d/versions", V1, DFLT(Q("double"), "2"), 200, "{\"id\":2}", 0, NULL},
        {"POST", "/subjects/d/versions", V1, DFLT("[" Q("null") "," Q("string") "]", "null"), 200,
         "{\"id\":3}", 0, NULL},
        {"POST", "/subjects/d/versions", V1, DFLT("[" Q("string") "," Q("null") "]", Q("s")), 200,
         "{\"id\":4}", 0, NULL},
        {"POST", "/subjects/d/versions", V1,
         DFLT("{" Q("type") ":" Q("map") "," Q("values") ":{" Q("type") ":" Q("array") "," Q("items") ":" Q(
                      "long") "}}",
              "{" Q("k") ":[1,2]}"),
         200, "{\"id\":5}", 0, NULL},
        {"POST", "/subjects/d/versions", V1,
         DFLT("{" Q("type") ":" Q("fixed") "," Q("name") ":" Q("F") "," Q("size") ":2}", Q("\\\\u00ffa")),
         200, "{\"id\":6}", 0, NULL},
        {"POST", "/subjects/d/versions", V1,
         DFLT("{" Q("type") ":" Q("record") "," Q("name") ":" Q("In") "," Q("fields") ":[{" Q("name") ":" Q("x") "," Q(
                      "type") ":" Q("int") "},{" Q("name") ":" Q("y") "," Q("type") ":" Q("int") "," Q("defau"
                                                                                                       "lt") ":0}]}",
              "{" Q("x") ":1}"),
         200, "{\"id\":7}", 0, NULL},
        /* a recursive record's defaults: checked once, the walk ends */
        {"POST", "/subjects/d/versions", V1,
         "{\"schema\":\"{\\\"type\\\":\\\"record\\\",\\\"name\\\":\\\"Node\\\",\\\"fields\\\":[{\\\"name\\\":"
         "\\\"v\\\",\\\"type\\\":\\\"int\\\",\\\"default\\\":0},{\\\"name\\\":\\\"next\\\",\\\"type\\\":[\\\""
         "null\\\",\\\"Node\\\"],\\\"default\\\":null}]}\"}",
         200, "{\"id\":8}", 0, NULL},
        {"POST", "/subjects/d/versions", V1,
         "{\"schema\":\"{\\\"type\\\":\\\"record\\\",\\\"name\\\":\\\"Node\\\",\\\"fields\\\":[{\\\"name\\\":"
         "\\\"v\\\",\\\"type\\\":\\\"int\\\",\\\"default\\\":0},{\\\"name\\\":\\\"next\\\",\\\"type\\\":[\\\""
         "null\\\",\\\"Node\\\"],\\\"default\\\":{}}]}\"}",
         422, NULL, 42201, "Invalid schema: field 'Node.next': default {} does not fit type null"},
};

START_TEST(http_bad_defaults) { RUN_STEPS(defaults); }
END_TEST

/* ---- bad percent-encoding: 400, as Jetty answers ---- */

static const step_t escapes[] = {
        {"GET", "/subjects/%ZZ/versions", NULL, NULL, 400,
         "{\"error_code\":400,\"message\":\"HTTP 400 Bad Request: bad percent-encoding in the path (a '%' "
         "must "
         "be followed by two hexadecimal digits)\"}",
         0, NULL},
        {"GET", "/subjects/a%2/versions", NULL, NULL, 400, NULL, 400, "HTTP 400 Bad Request"},
        {"GET", "/subjects/a%", NULL, NULL, 400, NULL, 400, "HTTP 400 Bad Request"},
        {"POST", "/subjects/%zz/versions", V1, PRIM("int"), 400, NULL, 400, "HTTP 400 Bad Request"},
        {"DELETE", "/subjects/x%G1", NULL, NULL, 400, NULL, 400, "HTTP 400 Bad Request"},
        {"GET", "/nope/%", NULL, NULL, 400, NULL, 400, "HTTP 400 Bad Request"},
        /* good escapes still work, and nothing above was registered */
        {"POST", "/subjects/a%2Fb%20c/versions", V1, PRIM("int"), 200, "{\"id\":1}", 0, NULL},
        {"GET", "/subjects", NULL, NULL, 200, "[\"a/b c\"]", 0, NULL},
};

START_TEST(http_bad_escapes) { RUN_STEPS(escapes); }
END_TEST

/* ---- oversized request lines and headers: JSON, not libmicrohttpd's HTML ---- */

/* Sends `request` on a plain socket to the server and reads the answer
 * until the server closes; returns the status, the body into body[]. */
static int raw_request(const char *request, size_t len, char *body, size_t body_size, char *ctype,
                       size_t ctype_size) {
        struct sockaddr_in sa;
        int fd = socket(AF_INET, SOCK_STREAM, 0), status = 0;
        static char buf[65536];
        size_t got = 0;
        ck_assert_int_ge(fd, 0);
        memset(&sa, 0, sizeof(sa));
        sa.sin_family = AF_INET;
        sa.sin_port = htons((uint16_t)regd_http_port(server.srv));
        sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        ck_assert_int_eq(connect(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
        for (size_t off = 0; off < len;) {
                ssize_t n = send(fd, request + off, len - off, MSG_NOSIGNAL);
                if (n <= 0)
                        break; /* the server may answer and close before reading it all */
                off += (size_t)n;
        }
        for (ssize_t n; got < sizeof(buf) - 1 && (n = recv(fd, buf + got, sizeof(buf) - 1 - got, 0)) > 0;)
                got += (size_t)n;
        close(fd);
        buf[got] = 0;
        ck_assert_int_eq(sscanf(buf, "HTTP/1.1 %d", &status), 1);
        const char *ct = strcasestr(buf, "\r\nContent-Type: ");
        snprintf(ctype, ctype_size, "%.*s", ct ? (int)strcspn(ct + 16, "\r") : 0, ct ? ct + 16 : "");
        const char *b = strstr(buf, "\r\n\r\n");
        snprintf(body, body_size, "%s", b ? b + 4 : "");
        return status;
}

START_TEST(http_oversized_requests) {
        static const struct {
                size_t url_len, header_len;
                int status, code;
                const char *says; /* the start of the message */
        } cases[] = {
                {20 * 1024, 0, 414, 414, "HTTP 414 URI Too Long"},
                {9000, 0, 414, 414, "HTTP 414 URI Too Long"},
                {7000, 0, 404, 40401, "Subject '"},
                {0, 20 * 1024, 431, 431, "HTTP 431 Request Header Fields Too Large"},
                {0, 9000, 431, 431, "HTTP 431 Request Header Fields Too Large"},
                {0, 7000, 404, 40401, "Subject '"},
        };
        for (size_t i = 0; i < sizeof(cases) / sizeof(*cases); i++) {
                size_t size = cases[i].url_len + cases[i].header_len + 256;
                char *req = malloc(size), body[16384], ctype[128];
                ck_assert_ptr_nonnull(req);
                int len = snprintf(req, size, "GET /subjects/");
                for (size_t k = 0; k < cases[i].url_len; k++)
                        req[len++] = 'a';
                len += snprintf(req + len, size - (size_t)len, "/versions HTTP/1.1\r\nHost: x\r\nX-Big: ");
                for (size_t k = 0; k < cases[i].header_len; k++)
                        req[len++] = 'b';
                len += snprintf(req + len, size - (size_t)len, "\r\nConnection: close\r\n\r\n");
                int status = raw_request(req, (size_t)len, body, sizeof(body), ctype, sizeof(ctype));
                ck_assert_msg(status == cases[i].status, "case %zu: status %d: %.300s", i, status, body);
                ck_assert_msg(strcmp(ctype, V1) == 0, "case %zu: content type '%s'", i, ctype);
                json_t *doc = json_loads(body, 0, NULL);
                ck_assert_msg(doc != NULL, "case %zu: not JSON: %.300s", i, body);
                ck_assert_int_eq(json_integer_value(json_object_get(doc, "error_code")), cases[i].code);
                const char *message = json_string_value(json_object_get(doc, "message"));
                ck_assert_ptr_nonnull(message);
                ck_assert_msg(strncmp(message, cases[i].says, strlen(cases[i].says)) == 0,
                              "case %zu: message '%.300s'", i, message);
                json_decref(doc);
                free(req);
        }
}
END_TEST

/* ---- a registration the subject holds costs no command ---- */

typedef struct {
        regd_submitter_t inner;
        int count;
        pthread_mutex_t lock;
} counting_t;

static sb_err_t counting_submit(void *opaque, const json_t *command, json_t **result, char *errstr,
                                size_t errstr_size) {
        counting_t *c = opaque;
        pthread_mutex_lock(&c->lock);
        c->count++;
        pthread_mutex_unlock(&c->lock);
        return c->inner.submit(c->inner.opaque, command, result, errstr, errstr_size);
}

START_TEST(http_register_held_schema_submits_nothing) {
        static const step_t steps[] = {
                {"POST", "/subjects/s/versions", V1, BODY(S1_JSTR), 200, "{\"id\":1}", 0, NULL},
                {"POST", "/subjects/s/versions", V1, BODY(S1_JSTR), 200, "{\"id\":1}", 0, NULL},
                {"POST", "/subjects/s/versions", V1, BODY(S1_OTHER_JSTR), 200, "{\"id\":1}", 0, NULL},
                {"POST", "/subjects/s/versions", V1, "{\"schema\":\"" S1_JSTR "\",\"version\":1}", 200,
                 "{\"id\":1}", 0, NULL},
        };
        counting_t counter = {regd_store_direct_submitter(server.store), 0, PTHREAD_MUTEX_INITIALIZER};
        regd_submitter_t sub = {counting_submit, &counter};
        char base[64];
        regd_http_t *srv = start(server.store, sub, base, sizeof(base));
        regd_http_t *old = server.srv;
        server.srv = srv; /* run_steps talks to server.base */
        char old_base[64];
        memcpy(old_base, server.base, sizeof(old_base));
        memcpy(server.base, base, sizeof(base));
        RUN_STEPS(steps);
        ck_assert_int_eq(counter.count, 1);
        /* A new schema, an id asked for that differs, or a deleted version
         * still go through the log. */
        static const step_t more[] = {
                {"POST", "/subjects/s/versions", V1, BODY(S2_DEFAULT_JSTR), 200, "{\"id\":2}", 0, NULL},
                {"POST", "/subjects/s/versions", V1, "{\"schema\":\"" S1_JSTR "\",\"id\":9}", 422, NULL,
                 42205, "Subject s in context . is not in import mode"},
                {"DELETE", "/subjects/s/versions/1", NULL, NULL, 200, "1", 0, NULL},
                {"POST", "/subjects/s/versions", V1, BODY(S1_JSTR), 200, "{\"id\":1}", 0, NULL},
                {"POST", "/subjects/s/versions", V1, BODY(S1_JSTR), 200, "{\"id\":1}", 0, NULL},
        };
        RUN_STEPS(more);
        ck_assert_int_eq(counter.count, 5);
        memcpy(server.base, old_base, sizeof(old_base));
        server.srv = old;
        regd_http_destroy(srv);
}
END_TEST

static Suite *registry_api_checks_suite(void) {
        Suite *s = suite_create("registry_api_checks");
        TCase *tc = tcase_create("http");
        tcase_add_checked_fixture(tc, server_start, server_stop);
        tcase_set_timeout(tc, 120);
        tcase_add_test(tc, http_submit_failures);
        tcase_add_test(tc, http_determinism);
        tcase_add_test(tc, http_bad_defaults);
        tcase_add_test(tc, http_bad_escapes);
        tcase_add_test(tc, http_oversized_requests);
        tcase_add_test(tc, http_register_held_schema_submits_nothing);
        suite_add_tcase(s, tc);
        return s;
}

int main(void) {
        curl_global_init(CURL_GLOBAL_ALL);
        int rc = test_run_suite(registry_api_checks_suite());
        curl_global_cleanup();
        return rc;
}

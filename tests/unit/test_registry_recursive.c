/*
 * test_registry_recursive: the request that used to kill every registry
 * instance (a record that contains itself) and its relatives, sent to the
 * HTTP API of a registry on the memory store.  Each route that parses a
 * schema (register, look up, compatibility) must answer, and keep
 * answering afterwards; schemas and JSON nested beyond the bounds are
 * refused with 42201 instead of recursing.
 */
#include <check.h>
#include <curl/curl.h>
#include <stdlib.h>
#include <string.h>

#include "regd_http.h"
#include "sb_buf.h"
#include "testhttp.h"
#include "testutil.h"

/* {"type":"record","name":"Loop","fields":[{"name":"me","type":"Loop"}]} */
#define LOOP_JSTR                                                                                            \
        "{\\\"type\\\":\\\"record\\\",\\\"name\\\":\\\"Loop\\\",\\\"fields\\\":[{\\\"name\\\":\\\"me\\\","   \
        "\\\"type\\\":\\\"Loop\\\"}]}"
/* A linked list: Node {int v; union {null, Node} next;}, then the same with
 * a field added with a default (compatible) and v as a string (not). */
#define NODE_JSTR                                                                                            \
        "{\\\"type\\\":\\\"record\\\",\\\"name\\\":\\\"Node\\\",\\\"fields\\\":[{\\\"name\\\":\\\"v\\\","    \
        "\\\"type\\\":\\\"int\\\"},{\\\"name\\\":\\\"next\\\",\\\"type\\\":[\\\"null\\\",\\\"Node\\\"]}]}"
#define NODE2_JSTR                                                                                           \
        "{\\\"type\\\":\\\"record\\\",\\\"name\\\":\\\"Node\\\",\\\"fields\\\":[{\\\"name\\\":\\\"v\\\","    \
        "\\\"type\\\":\\\"int\\\"},{\\\"name\\\":\\\"next\\\",\\\"type\\\":[\\\"null\\\",\\\"Node\\\"]},"    \
        "{\\\"name\\\":\\\"w\\\",\\\"type\\\":\\\"long\\\",\\\"default\\\":0}]}"
#define NODE_BAD_JSTR                                                                                        \
        "{\\\"type\\\":\\\"record\\\",\\\"name\\\":\\\"Node\\\",\\\"fields\\\":[{\\\"name\\\":\\\"v\\\","    \
        "\\\"type\\\":\\\"string\\\"},{\\\"name\\\":\\\"next\\\",\\\"type\\\":[\\\"null\\\",\\\"Node\\\"]}]" \
        "}"

START_TEST(recursive_schemas_are_answered) {
        static const step_t steps[] = {
                /* Java's parser accepts Loop; so do we, on every route. */
                {"POST", "/compatibility/subjects/x-value/versions/latest", V1, BODY(LOOP_JSTR), 200,
                 "{\"is_compatible\":true}", 0, NULL},
                {"POST", "/subjects/x-value", V1, BODY(LOOP_JSTR), 404, NULL, 40401, ""},
                {"POST", "/subjects/x-value/versions", V1, BODY(LOOP_JSTR), 200, "{\"id\":1}", 0, NULL},
                {"POST", "/subjects/x-value/versions", V1, BODY(LOOP_JSTR), 200, "{\"id\":1}", 0, NULL},
                {"POST", "/subjects/x-value", V1, BODY(LOOP_JSTR), 200, "~{\"subject\":\"x-value\"", 0, NULL},
                {"POST", "/compatibility/subjects/x-value/versions/latest", V1, BODY(LOOP_JSTR), 200,
                 "{\"is_compatible\":true}", 0, NULL},
                {"GET", "/schemas/ids/1", NULL, NULL, 200, NULL, 0, NULL},
                /* A list evolves like any record. */
                {"POST", "/subjects/list-value/versions", V1, BODY(NODE_JSTR), 200, "{\"id\":2}", 0, NULL},
                {"POST", "/compatibility/subjects/list-value/versions/latest", V1, BODY(NODE2_JSTR), 200,
                 "{\"is_compatible\":true}", 0, NULL},
                {"POST", "/compatibility/subjects/list-value/versions/latest", V1, BODY(NODE_BAD_JSTR), 200,
                 "{\"is_compatible\":false}", 0, NULL},
                {"POST", "/subjects/list-value/versions", V1, BODY(NODE_BAD_JSTR), 409, NULL, 40901, "*v"},
                {"POST", "/subjects/list-value/versions", V1, BODY(NODE2_JSTR), 200, "{\"id\":3}", 0, NULL},
                /* Still serving. */
                {"GET", "/subjects", NULL, NULL, 200, "[\"list-value\",\"x-value\"]", 0, NULL},
        };
        RUN_STEPS(steps);
}
END_TEST

/* {"schema": "<`depth` nested arrays of int>"}: a schema nested beyond
 * SB_SCHEMA_MAX_DEPTH, well within the body size limit. */
static char *deep_array_body(int depth) {
        static const char open[] = "{\\\"type\\\":\\\"array\\\",\\\"items\\\":";
        size_t size = (size_t)depth * (sizeof(open) + 1) + 64;
        char *s = malloc(size);
        ck_assert_ptr_nonnull(s);
        size_t len = (size_t)snprintf(s, size, "{\"schema\":\"");
        for (int i = 0; i < depth; i++)
                len += (size_t)snprintf(s + len, size - len, "%s", open);
        len += (size_t)snprintf(s + len, size - len, "\\\"int\\\"");
        for (int i = 0; i < depth; i++)
                s[len++] = '}';
        snprintf(s + len, size - len, "\"}");
        return s;
}

/* A request body that is JSON nested `depth` levels deep. */
static char *deep_json_body(int depth) {
        char *s = malloc((size_t)depth * 2 + 32);
        ck_assert_ptr_nonnull(s);
        size_t len = (size_t)sprintf(s, "{\"schema\":");
        for (int i = 0; i < depth; i++)
                s[len++] = '[';
        for (int i = 0; i < depth; i++)
                s[len++] = ']';
        strcpy(s + len, "}");
        return s;
}

START_TEST(deep_schemas_are_refused) {
        static const char *const paths[] = {"/subjects/d-value/versions", "/subjects/d-value",
                                            "/compatibility/subjects/d-value/versions/latest"};
        char *schema = deep_array_body(10000), *json = deep_json_body(100000);
        for (size_t i = 0; i < sizeof(paths) / sizeof(*paths); i++) {
                response_t r;
                http("POST", paths[i], V1, schema, strlen(schema), 0, &r);
                const char *got = (const char *)r.body.data;
                ck_assert_msg(r.status == 422 && strstr(got, "\"error_code\":42201") &&
                                      strstr(got, "nested deeper than"),
                              "%s: %ld %s", paths[i], r.status, got);
                sb_buf_free(&r.body);
                http("POST", paths[i], V1, json, strlen(json), 0, &r);
                got = (const char *)r.body.data;
                ck_assert_msg(r.status >= 400 && r.status < 500 && strstr(got, "\"error_code\""),
                              "%s: %ld %s", paths[i], r.status, got);
                sb_buf_free(&r.body);
        }
        free(schema);
        free(json);
        static const step_t after[] = {
                {"GET", "/subjects", NULL, NULL, 200, "[]", 0, NULL},
                {"POST", "/subjects/d-value/versions", V1, BODY(S1_JSTR), 200, "{\"id\":1}", 0, NULL},
        };
        RUN_STEPS(after);
}
END_TEST

int main(void) {
        curl_global_init(CURL_GLOBAL_ALL);
        Suite *s = suite_create("registry_recursive");
        TCase *tc = tcase_create("http");
        tcase_add_checked_fixture(tc, server_start, server_stop);
        tcase_set_timeout(tc, 120);
        tcase_add_test(tc, recursive_schemas_are_answered);
        tcase_add_test(tc, deep_schemas_are_refused);
        suite_add_tcase(s, tc);
        int rc = test_run_suite(s);
        curl_global_cleanup();
        return rc;
}

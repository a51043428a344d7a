/*
 * test_registry: the registry's store: its commands (regd_store_apply)
 * and reads, without HTTP.  Compatibility refusals, soft and hard deletes,
 * IMPORT and READONLY modes, levels, unknown commands and threads.  The
 * HTTP API, and determinism (the same commands applied to two stores give
 * the same results, state and answers), are in test_registry_api.c.
 */
#include <check.h>
#include <jansson.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "regd_store.h"
#include "testutil.h"

/* A record schema, the same with other key order and spacing, and its
 * canonical text. */
#define S1 "{\"type\":\"record\",\"name\":\"A\",\"fields\":[{\"name\":\"x\",\"type\":\"int\"}]}"
#define S1_OTHER                                                                                             \
        "{ \"name\": \"A\", \"fields\": [ {\"type\": \"int\", \"name\": \"x\"} ], \"type\": \"record\" }"
#define S1_CANON "{\"fields\":[{\"name\":\"x\",\"type\":\"int\"}],\"name\":\"A\",\"type\":\"record\"}"
/* S1 plus a field b: without a default (breaks BACKWARD), with one (fine). */
#define S2_NO_DEFAULT                                                                                        \
        "{\"type\":\"record\",\"name\":\"A\",\"fields\":[{\"name\":\"x\",\"type\":\"int\"},{\"name\":\"b\"," \
        "\"type\":\"string\"}]}"
#define S2_DEFAULT                                                                                           \
        "{\"type\":\"record\",\"name\":\"A\",\"fields\":[{\"name\":\"x\",\"type\":\"int\"},{\"name\":\"b\"," \
        "\"type\":\"string\",\"default\":\"\"}]}"

/* A field c no version has, without a default. */
#define S3_NO_DEFAULT                                                                                        \
        "{\"type\":\"record\",\"name\":\"A\",\"fields\":[{\"name\":\"x\",\"type\":\"int\"},{\"name\":\"c\"," \
        "\"type\":\"string\"}]}"

static regd_store_t *new_store(void) {
        char errstr[256];
        regd_store_t *st = NULL;
        ck_assert_msg(regd_store_new(&st, errstr, sizeof(errstr)) == SB_OK, "regd_store_new: %s", errstr);
        return st;
}

/* Applies `cmd` (stolen) and returns the result, which must carry an "http". */
static json_t *run(regd_store_t *st, json_t *cmd) {
        json_t *result = NULL;
        ck_assert_ptr_nonnull(cmd);
        ck_assert_int_eq(regd_store_apply(st, cmd, &result), SB_OK);
        ck_assert_ptr_nonnull(result);
        ck_assert_msg(json_is_integer(json_object_get(result, "http")), "no http in result");
        json_decref(cmd);
        return result;
}

static json_t *register_cmd(const char *subject, const char *text) {
        return json_pack("{s:s,s:s,s:s,s:b}", "type", "REGISTER", "subject", subject, "schema", text,
                         "normalize", 0);
}

/* Registers and returns the id; the result must be a success. */
static int32_t reg(regd_store_t *st, const char *subject, const char *text) {
        json_t *r = run(st, register_cmd(subject, text));
        char *dump = json_dumps(r, JSON_COMPACT);
        ck_assert_msg(json_integer_value(json_object_get(r, "http")) == 200 && json_object_size(r) == 2,
                      "%s: %s", subject, dump);
        int32_t id = (int32_t)json_integer_value(json_object_get(r, "id"));
        free(dump);
        json_decref(r);
        return id;
}

/* Ends the message parts of refused(). */
#define END ((const char *)NULL)

/* Checks that `r` (released here) is the refusal (status, code) whose
 * message contains every `part` (up to END). */
static void refused(json_t *r, int status, int code, ...) {
        char *dump = json_dumps(r, JSON_COMPACT);
        const char *msg = json_string_value(json_object_get(r, "message"));
        ck_assert_msg(json_integer_value(json_object_get(r, "http")) == status &&
                              json_integer_value(json_object_get(r, "error_code")) == code && msg,
                      "want %d/%d, got %s", status, code, dump);
        va_list ap;
        va_start(ap, code);
        for (const char *part; (part = va_arg(ap, const char *));)
                ck_assert_msg(strstr(msg, part), "'%s' does not say '%s'", msg, part);
        va_end(ap);
        free(dump);
        json_decref(r);
}

/* Checks that `r` (released) is a success whose body, without "http", is `want`. */
static void succeeded(json_t *r, const char *want) {
        json_object_del(r, "http");
        json_t *body =
                json_object_size(r) == 1 && json_object_get(r, "body") ? json_object_get(r, "body") : r;
        char *got = json_dumps(body, JSON_COMPACT | JSON_ENCODE_ANY);
        ck_assert_msg(strcmp(got, want) == 0, "got %s, want %s", got, want);
        free(got);
        json_decref(r);
}

static json_t *config_cmd(const char *subject, const char *level) {
        return json_pack("{s:s,s:s?,s:s?}", "type", "CONFIG", "subject", subject, "compatibility", level);
}

static json_t *mode_cmd(const char *subject, const char *mode, int force) {
        return json_pack("{s:s,s:s?,s:s?,s:b}", "type", "MODE", "subject", subject, "mode", mode, "force",
                         force);
}

static json_t *delete_subject_cmd(const char *subject, int permanent) {
        return json_pack("{s:s,s:s,s:b}", "type", "DELETE_SUBJECT", "subject", subject, "permanent",
                         permanent);
}

static json_t *delete_version_cmd(const char *subject, int version, int permanent) {
        return json_pack("{s:s,s:s,s:i,s:b}", "type", "DELETE_VERSION", "subject", subject, "version",
                         version, "permanent", permanent);
}

/* The versions of a subject as "[1,2]" ("none" if it has none). */
static void versions_are(regd_store_t *st, const char *subject, int deleted, const char *want) {
        int32_t *v;
        size_t n;
        char got[256] = "none", errstr[256];
        if (regd_store_versions(st, subject, deleted, &v, &n, errstr, sizeof(errstr)) == SB_OK) {
                size_t len = (size_t)snprintf(got, sizeof(got), "[");
                for (size_t i = 0; i < n; i++)
                        len += (size_t)snprintf(got + len, sizeof(got) - len, "%s%d", i ? "," : "",
                                                (int)v[i]);
                snprintf(got + len, sizeof(got) - len, "]");
                free(v);
        }
        ck_assert_msg(strcmp(got, want) == 0, "%s versions (deleted %d): %s, want %s", subject, deleted, got,
                      want);
}

static void no_compat(regd_store_t *st) {
        succeeded(run(st, config_cmd(NULL, "NONE")), "{\"compatibility\":\"NONE\"}");
}

START_TEST(store_same_schema_same_id) {
        regd_store_t *st = new_store();
        char *text = NULL;
        ck_assert_int_eq(reg(st, "s-value", S1), 1);
        ck_assert_int_eq(reg(st, "s-value", S1), 1);
        ck_assert_int_eq(reg(st, "s-value", S1_OTHER), 1); /* equal canonical forms */
        versions_are(st, "s-value", 0, "[1]");
        TEST_CALL(regd_store_by_id(st, 1, &text, TEST_ERR));
        ck_assert_str_eq(text, S1_CANON);
        free(text);
        regd_store_destroy(st);
}
END_TEST

START_TEST(store_subjects_share_ids) {
        regd_store_t *st = new_store();
        char errstr[512] = "", **names;
        regd_use_t *uses;
        size_t n;
        no_compat(st);
        ck_assert_int_eq(reg(st, "b-value", S1), 1);
        ck_assert_int_eq(reg(st, "a-value", "\"string\""), 2);
        ck_assert_int_eq(reg(st, "a-value", S1_OTHER), 1); /* same id, new version here */
        versions_are(st, "a-value", 0, "[1,2]");
        TEST_CALL(regd_store_id_uses(st, 1, 0, &uses, &n, TEST_ERR));
        ck_assert_uint_eq(n, 2);
        ck_assert_str_eq(uses[0].subject, "a-value");
        ck_assert_int_eq(uses[0].version, 2);
        ck_assert_str_eq(uses[1].subject, "b-value");
        ck_assert_int_eq(uses[1].version, 1);
        regd_uses_free(uses, n);
        ck_assert_int_eq(regd_store_id_uses(st, 3, 0, &uses, &n, errstr, sizeof(errstr)), SB_ERR_NOT_FOUND);
        TEST_CALL(regd_store_subjects(st, 0, "a-", &names, &n, TEST_ERR));
        ck_assert_uint_eq(n, 1);
        ck_assert_str_eq(names[0], "a-value");
        regd_strings_free(names, n);
        TEST_CALL(regd_store_subjects(st, 0, "c", &names, &n, TEST_ERR));
        ck_assert_uint_eq(n, 0);
        ck_assert_ptr_null(names);
        regd_store_destroy(st);
}
END_TEST

START_TEST(store_versions) {
        static const char *const schemas[] = {"\"int\"", "\"long\"", "\"string\"", S1};
        regd_store_t *st = new_store();
        char errstr[512] = "", **names;
        regd_version_t v;
        size_t n;
        int found;

        no_compat(st);
        for (int i = 0; i < 4; i++)
                ck_assert_int_eq(reg(st, "v", schemas[i]), i + 1);
        ck_assert_int_eq(reg(st, "v", "\"long\""), 2); /* an old version stays what it was */
        ck_assert_int_eq(reg(st, "u", "\"long\""), 2);
        versions_are(st, "v", 0, "[1,2,3,4]");
        TEST_CALL(regd_store_subjects(st, 0, NULL, &names, &n, TEST_ERR));
        ck_assert_uint_eq(n, 2);
        ck_assert_str_eq(names[0], "u");
        ck_assert_str_eq(names[1], "v");
        regd_strings_free(names, n);

        TEST_CALL(regd_store_get_version(st, "v", REGD_LATEST, 0, &v, &found, TEST_ERR));
        ck_assert_int_eq(v.id, 4);
        ck_assert_int_eq(v.version, 4);
        ck_assert_str_eq(v.text, S1_CANON);
        free(v.text);
        TEST_CALL(regd_store_get_version(st, "v", 3, 0, &v, &found, TEST_ERR));
        ck_assert_int_eq(v.id, 3);
        ck_assert_str_eq(v.text, "\"string\"");
        free(v.text);
        ck_assert_int_eq(regd_store_get_version(st, "v", 5, 0, &v, &found, errstr, sizeof(errstr)),
                         SB_ERR_NOT_FOUND);
        ck_assert_int_eq(found, 1);
        ck_assert_int_eq(regd_store_get_version(st, "w", 1, 0, &v, &found, errstr, sizeof(errstr)),
                         SB_ERR_NOT_FOUND);
        ck_assert_int_eq(found, 0);
        versions_are(st, "w", 1, "none");

        /* Lookup: the version holding a schema, in any spelling. */
        TEST_CALL(regd_store_lookup(st, "v", S1_OTHER, strlen(S1_OTHER), 0, &v, &found, TEST_ERR));
        ck_assert_int_eq(v.version, 4);
        ck_assert_int_eq(v.id, 4);
        free(v.text);
        ck_assert_int_eq(regd_store_lookup(st, "u", S1, strlen(S1), 0, &v, &found, errstr, sizeof(errstr)),
                         SB_ERR_NOT_FOUND);
        ck_assert_int_eq(found, 1);
        ck_assert_int_eq(regd_store_lookup(st, "u", "{", 1, 0, &v, &found, errstr, sizeof(errstr)),
                         SB_ERR_SCHEMA);
        regd_store_destroy(st);
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
                {"", "no \"schema\""},
        };
        regd_store_t *st = new_store();
        char errstr[512], **names;
        size_t n;
        for (size_t i = 0; i < sizeof(cases) / sizeof(*cases); i++)
                refused(run(st, register_cmd("s", cases[i].text)), 422, 42201, "Invalid schema", cases[i].why,
                        END);
        refused(run(st, register_cmd("", "\"int\"")), 422, 42208, "The specified subject '' is not a valid.",
                END);
        refused(run(st, register_cmd("a\tb", "\"int\"")), 422, 42208, "is not a valid", END);
        refused(run(st, json_pack("{s:s,s:s}", "type", "REGISTER", "schema", "\"int\"")), 422, 42208, END);
        refused(run(st, json_pack("{s:s,s:s,s:s,s:s}", "type", "REGISTER", "subject", "s", "schema",
                                  "\"int\"", "id", "x")),
                422, 42201, "\"id\"", END);
        /* Nothing was stored, and no id was spent. */
        TEST_CALL(regd_store_subjects(st, 1, NULL, &names, &n, TEST_ERR));
        ck_assert_uint_eq(n, 0);
        ck_assert_ptr_null(names);
        ck_assert_int_eq(reg(st, "s", "\"int\""), 1);
        (void)errstr;
        regd_store_destroy(st);
}
END_TEST

START_TEST(store_by_id_unknown) {
        regd_store_t *st = new_store();
        char errstr[512] = "", *text = (char *)"x";
        static const int32_t ids[] = {0, -1, 1, 2, INT32_MAX};
        for (size_t i = 0; i < sizeof(ids) / sizeof(*ids); i++) {
                ck_assert_int_eq(regd_store_by_id(st, ids[i], &text, errstr, sizeof(errstr)),
                                 SB_ERR_NOT_FOUND);
                ck_assert_ptr_null(text);
        }
        ck_assert_int_eq(reg(st, "s", "\"int\""), 1);
        ck_assert_int_eq(regd_store_by_id(st, 2, &text, errstr, sizeof(errstr)), SB_ERR_NOT_FOUND);
        regd_store_destroy(st);
}
END_TEST

/* A refusal for incompatibility names the version, the field and why; the
 * state is unchanged; a compatible change passes. */
START_TEST(store_compat_refusal) {
        regd_store_t *st = new_store();
        int compatible = -1;
        json_t *messages = json_array();
        ck_assert_int_eq(reg(st, "t-value", S1), 1);
        refused(run(st, register_cmd("t-value", S2_NO_DEFAULT)), 409, 40901,
                "Schema being registered is incompatible with an earlier schema for subject \"t-value\", "
                "details: "
                "[reading version 1 data with the new schema: ",
                "field 'b'", "has no default", "{compatibility: 'BACKWARD'}]", END);
        versions_are(st, "t-value", 1, "[1]");
        ck_assert_int_eq(reg(st, "t-value", S2_DEFAULT), 2);
        /* FORWARD: the old schema must read new data; dropping x breaks that. */
        succeeded(run(st, config_cmd("t-value", "forward")), "{\"compatibility\":\"FORWARD\"}");
        refused(run(st, register_cmd("t-value", "{\"type\":\"record\",\"name\":\"A\",\"fields\":[]}")), 409,
                40901, "reading new-schema data with version 2: ", "'x'", "{compatibility: 'FORWARD'}", END);
        /* The check without registering, against one version or all. */
        TEST_CALL(regd_store_check(st, "t-value", REGD_LATEST, S2_NO_DEFAULT, strlen(S2_NO_DEFAULT),
                                   &compatible, messages, TEST_ERR));
        ck_assert_int_eq(compatible, 1); /* forward: version 2 reads b (it has a default) */
        succeeded(run(st, config_cmd("t-value", "BACKWARD_TRANSITIVE")),
                  "{\"compatibility\":\"BACKWARD_TRANSITIVE\"}");
        TEST_CALL(regd_store_check(st, "t-value", 0, S3_NO_DEFAULT, strlen(S3_NO_DEFAULT), &compatible,
                                   messages, TEST_ERR));
        ck_assert_int_eq(compatible, 0);
        ck_assert_uint_eq(json_array_size(messages), 3); /* versions 1 and 2, then the level */
        ck_assert_str_eq(json_string_value(json_array_get(messages, 2)),
                         "{compatibility: 'BACKWARD_TRANSITIVE'}");
        /* Soft-deleted versions do not count; messages keep real numbers. */
        succeeded(run(st, delete_version_cmd("t-value", 1, 0)), "1");
        json_array_clear(messages);
        TEST_CALL(regd_store_check(st, "t-value", 0, S3_NO_DEFAULT, strlen(S3_NO_DEFAULT), &compatible,
                                   messages, TEST_ERR));
        ck_assert_int_eq(compatible, 0);
        ck_assert_uint_eq(json_array_size(messages), 2);
        ck_assert_msg(strstr(json_string_value(json_array_get(messages, 0)), "reading version 2 data"), "%s",
                      json_string_value(json_array_get(messages, 0)));
        /* NONE accepts anything. */
        succeeded(run(st, config_cmd(NULL, "NONE")), "{\"compatibility\":\"NONE\"}");
        succeeded(run(st, config_cmd("t-value", NULL)), "{\"compatibilityLevel\":\"BACKWARD_TRANSITIVE\"}");
        ck_assert_int_eq(reg(st, "t-value", "\"bytes\""), 3);
        json_decref(messages);
        regd_store_destroy(st);
}
END_TEST

START_TEST(store_soft_hard_delete) {
        regd_store_t *st = new_store();
        char *text, errstr[256];
        regd_use_t *uses;
        size_t n;
        no_compat(st);
        ck_assert_int_eq(reg(st, "d", "\"int\""), 1);
        ck_assert_int_eq(reg(st, "d", "\"long\""), 2);
        ck_assert_int_eq(reg(st, "d", "\"string\""), 3);
        refused(run(st, delete_version_cmd("d", 1, 1)), 404, 40407,
                "Subject 'd' Version 1 was not deleted first before being permanently deleted", END);
        succeeded(run(st, delete_version_cmd("d", 1, 0)), "1");
        refused(run(st, delete_version_cmd("d", 1, 0)), 404, 40406,
                "Subject 'd' Version 1 was soft deleted.Set permanent=true to delete permanently", END);
        refused(run(st, delete_version_cmd("d", 9, 0)), 404, 40402, "Version 9 not found.", END);
        refused(run(st, delete_version_cmd("nope", 1, 0)), 404, 40401, "Subject 'nope' not found.", END);
        refused(run(st, json_pack("{s:s,s:s,s:i}", "type", "DELETE_VERSION", "subject", "d", "version", 0)),
                422, 42202, END);
        versions_are(st, "d", 0, "[2,3]");
        versions_are(st, "d", 1, "[1,2,3]");
        /* A soft-deleted version keeps its id readable. */
        TEST_CALL(regd_store_by_id(st, 1, &text, TEST_ERR));
        free(text);
        TEST_CALL(regd_store_id_uses(st, 1, 0, &uses, &n, TEST_ERR));
        ck_assert_uint_eq(n, 0);
        regd_uses_free(uses, n);
        /* "latest" is the newest non-deleted version. */
        succeeded(run(st, delete_version_cmd("d", -1, 0)), "3");
        versions_are(st, "d", 0, "[2]");
        refused(run(st, delete_subject_cmd("d", 1)), 404, 40405,
                "Subject 'd' was not deleted first before being permanently deleted", END);
        succeeded(run(st, delete_subject_cmd("d", 0)), "[2]");
        refused(run(st, delete_subject_cmd("d", 0)), 404, 40404,
                "Subject 'd' was soft deleted.Set permanent=true to delete permanently", END);
        versions_are(st, "d", 0, "none");
        /* Registering a soft-deleted schema again: a new version, the same
         * id, and the soft-deleted copy is gone (as Confluent). */
        ck_assert_int_eq(reg(st, "d", "\"long\""), 2);
        versions_are(st, "d", 1, "[1,3,4]");
        versions_are(st, "d", 0, "[4]");
        succeeded(run(st, delete_version_cmd("d", 4, 0)), "4");
        succeeded(run(st, delete_subject_cmd("d", 1)), "[1,3,4]");
        refused(run(st, delete_subject_cmd("d", 1)), 404, 40401, "Subject 'd' not found.", END);
        versions_are(st, "d", 1, "none");
        /* Gone for good, and ids are never reused: a new schema gets 4;
         * the old one, registered again, its old id. */
        ck_assert_int_eq(regd_store_by_id(st, 1, &text, errstr, sizeof(errstr)), SB_ERR_NOT_FOUND);
        ck_assert_int_eq(reg(st, "e", "\"double\""), 4);
        ck_assert_int_eq(reg(st, "e", "\"int\""), 1);
        versions_are(st, "e", 0, "[1,2]");
        /* A hard delete of the last version drops the subject's settings. */
        succeeded(run(st, config_cmd("e", "FULL")), "{\"compatibility\":\"FULL\"}");
        succeeded(run(st, delete_subject_cmd("e", 0)), "[1,2]");
        succeeded(run(st, delete_version_cmd("e", 1, 1)), "1");
        regd_compat_level_t level;
        TEST_CALL(regd_store_config(st, "e", 0, &level, TEST_ERR));
        succeeded(run(st, delete_version_cmd("e", 2, 1)), "2");
        ck_assert_int_eq(regd_store_config(st, "e", 0, &level, errstr, sizeof(errstr)), SB_ERR_NOT_FOUND);
        regd_store_destroy(st);
}
END_TEST

START_TEST(store_import_mode) {
        regd_store_t *st = new_store();
        json_t *cmd;
        regd_mode_t mode;
        ck_assert_int_eq(reg(st, "live", "\"int\""), 1);
        refused(run(st, mode_cmd(NULL, "IMPORT", 0)), 422, 42205,
                "Cannot import since found existing subjects", END);
        refused(run(st, mode_cmd(NULL, "EXPORT", 0)), 422, 42204, "Invalid mode.", END);
        /* A subject of its own may enter IMPORT while it is empty. */
        succeeded(run(st, mode_cmd("imp", "import", 0)), "{\"mode\":\"IMPORT\"}");
        TEST_CALL(regd_store_mode(st, "imp", 0, &mode, TEST_ERR));
        ck_assert_int_eq(mode, REGD_IMPORT);
        refused(run(st, register_cmd("imp", "\"string\"")), 422, 42205,
                "Subject imp in context . is not in read-write mode", END);
        cmd = register_cmd("imp", "\"string\"");
        json_object_set_new(cmd, "id", json_integer(100));
        json_object_set_new(cmd, "version", json_integer(7));
        succeeded(run(st, cmd), "{\"id\":100}");
        versions_are(st, "imp", 0, "[7]");
        /* The same id for another text is refused; no compatibility check. */
        cmd = register_cmd("imp", "\"bytes\"");
        json_object_set_new(cmd, "id", json_integer(100));
        refused(run(st, cmd), 422, 42205, "Overwrite new schema with id 100 in context . is not permitted.",
                END);
        cmd = register_cmd("imp", "\"bytes\"");
        json_object_set_new(cmd, "id", json_integer(5));
        succeeded(run(st, cmd), "{\"id\":5}");
        versions_are(st, "imp", 0, "[7,8]");
        /* Outside IMPORT, an id is refused; new ids follow the highest. */
        cmd = register_cmd("live", "\"long\"");
        json_object_set_new(cmd, "id", json_integer(50));
        refused(run(st, cmd), 422, 42205, "Subject live in context . is not in import mode", END);
        ck_assert_int_eq(reg(st, "live", "\"long\""), 101);
        cmd = register_cmd("live", "\"float\"");
        json_object_set_new(cmd, "version", json_integer(9));
        refused(run(st, cmd), 422, 42201, "Version is not one more than previous version", END);
        /* force enters IMPORT in spite of live subjects. */
        succeeded(run(st, mode_cmd(NULL, "IMPORT", 1)), "{\"mode\":\"IMPORT\"}");
        cmd = register_cmd("live", "{\"type\":\"fixed\",\"name\":\"F\",\"size\":3}");
        json_object_set_new(cmd, "id", json_integer(7));
        succeeded(run(st, cmd), "{\"id\":7}"); /* incompatible, but IMPORT does not check */
        succeeded(run(st, mode_cmd(NULL, NULL, 0)), "{\"mode\":\"IMPORT\"}");
        TEST_CALL(regd_store_mode(st, NULL, 0, &mode, TEST_ERR));
        ck_assert_int_eq(mode, REGD_READWRITE);
        ck_assert_int_eq(reg(st, "other", "\"boolean\""), 102);
        /* Entering IMPORT drops the soft-deleted versions of its scope. */
        succeeded(run(st, delete_subject_cmd("other", 0)), "[1]");
        succeeded(run(st, mode_cmd("other", "IMPORT", 0)), "{\"mode\":\"IMPORT\"}");
        versions_are(st, "other", 1, "none");
        regd_store_destroy(st);
}
END_TEST

START_TEST(store_readonly_mode) {
        regd_store_t *st = new_store();
        regd_mode_t mode;
        char errstr[256];
        no_compat(st);
        ck_assert_int_eq(reg(st, "ro", "\"int\""), 1);
        succeeded(run(st, mode_cmd("ro", "READONLY", 0)), "{\"mode\":\"READONLY\"}");
        refused(run(st, register_cmd("ro", "\"long\"")), 422, 42205,
                "Subject ro in context . is in read-only mode", END);
        ck_assert_int_eq(reg(st, "ro", "\"int\""), 1); /* a schema it holds: answered (as Confluent) */
        refused(run(st, delete_version_cmd("ro", 1, 0)), 422, 42205, "read-only", END);
        refused(run(st, delete_subject_cmd("ro", 0)), 422, 42205, "read-only", END);
        ck_assert_int_eq(reg(st, "rw", "\"long\""), 2); /* other subjects are not affected */
        /* Global READONLY; a subject's own mode wins. */
        succeeded(run(st, mode_cmd(NULL, "READONLY", 0)), "{\"mode\":\"READONLY\"}");
        refused(run(st, register_cmd("rw", "\"string\"")), 422, 42205,
                "Subject rw in context . is in read-only mode", END);
        succeeded(run(st, mode_cmd("rw", "READWRITE", 0)), "{\"mode\":\"READWRITE\"}");
        ck_assert_int_eq(reg(st, "rw", "\"string\""), 3);
        succeeded(run(st, mode_cmd("ro", NULL, 0)), "{\"mode\":\"READONLY\"}");
        refused(run(st, mode_cmd("ro", NULL, 0)), 404, 40401, "Subject 'ro' not found.", END);
        ck_assert_int_eq(regd_store_mode(st, "ro", 0, &mode, errstr, sizeof(errstr)), SB_ERR_NOT_FOUND);
        TEST_CALL(regd_store_mode(st, "ro", 1, &mode, TEST_ERR));
        ck_assert_int_eq(mode, REGD_READONLY);
        succeeded(run(st, mode_cmd(NULL, "READWRITE", 0)), "{\"mode\":\"READWRITE\"}");
        succeeded(run(st, delete_version_cmd("ro", 1, 0)), "1");
        regd_store_destroy(st);
}
END_TEST

START_TEST(store_config) {
        regd_store_t *st = new_store();
        regd_compat_level_t level;
        char errstr[256];
        TEST_CALL(regd_store_config(st, NULL, 0, &level, TEST_ERR));
        ck_assert_int_eq(level, REGD_COMPAT_BACKWARD);
        ck_assert_int_eq(regd_store_config(st, "s", 0, &level, errstr, sizeof(errstr)), SB_ERR_NOT_FOUND);
        refused(run(st, config_cmd(NULL, "SIDEWAYS")), 422, 42203,
                "Invalid compatibility level. Valid values are none, backward, forward, full, "
                "backward_transitive, "
                "forward_transitive, and full_transitive",
                END);
        refused(run(st, json_pack("{s:s,s:s}", "type", "CONFIG", "subject", "s")), 422, 42203, END);
        refused(run(st, config_cmd("", "FULL")), 422, 42208, END);
        /* A subject without versions may have a level. */
        succeeded(run(st, config_cmd("s", "full_transitive")), "{\"compatibility\":\"FULL_TRANSITIVE\"}");
        TEST_CALL(regd_store_config(st, "s", 0, &level, TEST_ERR));
        ck_assert_int_eq(level, REGD_COMPAT_FULL_TRANSITIVE);
        succeeded(run(st, config_cmd(NULL, "FORWARD")), "{\"compatibility\":\"FORWARD\"}");
        TEST_CALL(regd_store_config(st, "t", 1, &level, TEST_ERR));
        ck_assert_int_eq(level, REGD_COMPAT_FORWARD);
        succeeded(run(st, config_cmd("s", NULL)), "{\"compatibilityLevel\":\"FULL_TRANSITIVE\"}");
        refused(run(st, config_cmd("s", NULL)), 404, 40401, "Subject 's' not found.", END);
        succeeded(run(st, config_cmd(NULL, NULL)), "{\"compatibilityLevel\":\"FORWARD\"}");
        succeeded(run(st, config_cmd(NULL, NULL)), "{\"compatibilityLevel\":\"BACKWARD\"}");
        regd_store_destroy(st);
}
END_TEST

/* Unknown commands are refused as no-ops; extra members are ignored. */
START_TEST(store_unknown_commands) {
        regd_store_t *st = new_store();
        json_t *before, *after, *cmd;
        ck_assert_int_eq(reg(st, "s", "\"int\""), 1);
        TEST_CALL(regd_store_dump(st, &before));
        refused(run(st, json_pack("{s:s,s:s}", "type", "DROP_ALL", "subject", "s")), 500, 50001,
                "unknown command type 'DROP_ALL'", END);
        refused(run(st, json_pack("{s:s}", "subject", "s")), 500, 50001, "unknown command", END);
        refused(run(st, json_pack("[]")), 500, 50001, END);
        TEST_CALL(regd_store_dump(st, &after));
        ck_assert_msg(json_equal(before, after), "state changed");
        cmd = register_cmd("s", "\"long\"");
        json_object_set_new(cmd, "op_id", json_string("0f8e"));
        json_object_set_new(cmd, "principal", json_string("market"));
        succeeded(run(st, cmd), "{\"id\":2}"); /* long reads int data: BACKWARD holds */
        json_decref(before);
        json_decref(after);
        regd_store_destroy(st);
}
END_TEST

/* Threads register the same and distinct schemas at once: ids stay
 * consistent (one per distinct schema) and no version is lost. */
#define N_THREADS 8
#define PER_THREAD 25

static void *register_many(void *arg) {
        regd_store_t *st = arg;
        char text[64];
        for (int i = 0; i < PER_THREAD; i++) {
                snprintf(text, sizeof(text), "{\"type\":\"fixed\",\"name\":\"F\",\"size\":%d}", i + 1);
                json_t *cmd = register_cmd("shared", text), *result = NULL;
                int ok = cmd && regd_store_apply(st, cmd, &result) == SB_OK &&
                         json_integer_value(json_object_get(result, "http")) == 200;
                json_int_t id = json_integer_value(json_object_get(result, "id"));
                json_decref(cmd);
                json_decref(result);
                if (!ok || id < 1 || id > PER_THREAD)
                        return (void *)1;
        }
        return NULL;
}

START_TEST(store_threads) {
        regd_store_t *st = new_store();
        pthread_t th[N_THREADS];
        no_compat(st);
        for (int i = 0; i < N_THREADS; i++)
                ck_assert_int_eq(pthread_create(&th[i], NULL, register_many, st), 0);
        for (int i = 0; i < N_THREADS; i++) {
                void *res;
                pthread_join(th[i], &res);
                ck_assert_ptr_null(res);
        }
        int32_t *versions;
        size_t n;
        TEST_CALL(regd_store_versions(st, "shared", 0, &versions, &n, TEST_ERR));
        ck_assert_uint_eq(n, PER_THREAD);
        free(versions);
        regd_store_destroy(st);
}
END_TEST

static Suite *registry_suite(void) {
        Suite *s = suite_create("registry");
        TCase *store = tcase_create("store");
        tcase_set_timeout(store, 60);
        tcase_add_test(store, store_same_schema_same_id);
        tcase_add_test(store, store_subjects_share_ids);
        tcase_add_test(store, store_versions);
        tcase_add_test(store, store_refuses_invalid);
        tcase_add_test(store, store_by_id_unknown);
        tcase_add_test(store, store_compat_refusal);
        tcase_add_test(store, store_soft_hard_delete);
        tcase_add_test(store, store_import_mode);
        tcase_add_test(store, store_readonly_mode);
        tcase_add_test(store, store_config);
        tcase_add_test(store, store_unknown_commands);
        tcase_add_test(store, store_threads);
        suite_add_tcase(s, store);
        return s;
}

int main(void) { return test_run_suite(registry_suite()); }

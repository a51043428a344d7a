/*
 * test_registry_scale: the registry's store as a national registry uses
 * it: thousands of subjects found by name through deletes in any order,
 * listed in name order, one copy of each schema whatever the number of
 * subjects using it, and compatibility answered right for more schemas
 * than the cache of parsed schemas holds.
 */
#include <check.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "regd_store.h"
#include "testutil.h"

#define SHARED "{\"type\":\"record\",\"name\":\"Shared\",\"fields\":[{\"name\":\"x\",\"type\":\"int\"}]}"

static regd_store_t *new_store(void) {
        char errstr[256];
        regd_store_t *st = NULL;
        ck_assert_msg(regd_store_new(&st, errstr, sizeof(errstr)) == SB_OK, "regd_store_new: %s", errstr);
        return st;
}

/* Applies `cmd` (stolen); returns the HTTP status of the result. */
static long run(regd_store_t *st, json_t *cmd, int32_t *id) {
        json_t *result = NULL;
        ck_assert_ptr_nonnull(cmd);
        ck_assert_int_eq(regd_store_apply(st, cmd, &result), SB_OK);
        long status = (long)json_integer_value(json_object_get(result, "http"));
        if (id)
                *id = (int32_t)json_integer_value(json_object_get(result, "id"));
        json_decref(result);
        json_decref(cmd);
        return status;
}

static int32_t reg(regd_store_t *st, const char *subject, const char *text) {
        int32_t id = 0;
        long status = run(st,
                          json_pack("{s:s,s:s,s:s,s:b}", "type", "REGISTER", "subject", subject, "schema",
                                    text, "normalize", 0),
                          &id);
        ck_assert_msg(status == 200, "register %s: HTTP %ld", subject, status);
        return id;
}

static void delete_for_good(regd_store_t *st, const char *subject) {
        ck_assert_int_eq(
                run(st,
                    json_pack("{s:s,s:s,s:b}", "type", "DELETE_SUBJECT", "subject", subject, "permanent", 0),
                    NULL),
                200);
        ck_assert_int_eq(
                run(st,
                    json_pack("{s:s,s:s,s:b}", "type", "DELETE_SUBJECT", "subject", subject, "permanent", 1),
                    NULL),
                200);
}

static int held(regd_store_t *st, const char *subject) {
        regd_version_t v;
        char errstr[256];
        sb_err_t err = regd_store_get_version(st, subject, 1, 0, &v, NULL, errstr, sizeof(errstr));
        free(v.text);
        return err == SB_OK;
}

#define N_SUBJECTS 5000

START_TEST(subjects_are_found_through_deletes_in_any_order) {
        regd_store_t *st = new_store();
        char name[64];
        int32_t id = 0;
        for (int i = 0; i < N_SUBJECTS; i++) {
                snprintf(name, sizeof(name), "dept%d.ds%d-value", i % 7, i);
                int32_t got = reg(st, name, SHARED);
                ck_assert_int_eq(got, i ? id : got);
                id = got;
        }
        /* One copy of the schema for all of them. */
        json_t *state = NULL;
        ck_assert_int_eq(regd_store_dump(st, &state), SB_OK);
        ck_assert_uint_eq(json_array_size(json_object_get(state, "schemas")), 1);
        ck_assert_int_eq(json_integer_value(json_object_get(
                                 json_array_get(json_object_get(state, "schemas"), 0), "uses")),
                         N_SUBJECTS);
        json_decref(state);

        /* Every third subject goes, in a scattered order (a stride prime to N). */
        int gone[N_SUBJECTS] = {0};
        for (int k = 0, i = 0; k < N_SUBJECTS; k++, i = (i + 2741) % N_SUBJECTS) {
                if (i % 3)
                        continue;
                snprintf(name, sizeof(name), "dept%d.ds%d-value", i % 7, i);
                delete_for_good(st, name);
                gone[i] = 1;
        }
        size_t left = 0;
        for (int i = 0; i < N_SUBJECTS; i++) {
                snprintf(name, sizeof(name), "dept%d.ds%d-value", i % 7, i);
                ck_assert_msg(held(st, name) == !gone[i], "%s: held %d, deleted %d", name, held(st, name),
                              gone[i]);
                left += !gone[i];
        }

        /* Listed in name order, the deleted ones not at all. */
        char **names;
        size_t count;
        char errstr[256];
        ck_assert_int_eq(regd_store_subjects(st, 0, NULL, &names, &count, errstr, sizeof(errstr)), SB_OK);
        ck_assert_uint_eq(count, left);
        for (size_t i = 1; i < count; i++)
                ck_assert_msg(strcmp(names[i - 1], names[i]) < 0, "%s listed before %s", names[i - 1],
                              names[i]);
        regd_strings_free(names, count);
        ck_assert_int_eq(regd_store_subjects(st, 0, "dept3.", &names, &count, errstr, sizeof(errstr)), SB_OK);
        for (size_t i = 0; i < count; i++)
                ck_assert_msg(strncmp(names[i], "dept3.", 6) == 0, "%s listed for prefix dept3.", names[i]);
        ck_assert_uint_gt(count, 0);
        regd_strings_free(names, count);

        /* A deleted subject comes back as new: version 1, the same id. */
        ck_assert_int_eq(reg(st, "dept0.ds0-value", SHARED), id);
        ck_assert(held(st, "dept0.ds0-value"));
        regd_store_destroy(st);
}
END_TEST

/* A record with fields f0..f<n-1>, each but f0 with a default, so every
 * one is BACKWARD compatible with all before it. */
static char *growing(int n, const char *f0_type) {
        json_t *fields = json_array();
        json_array_append_new(fields, json_pack("{s:s,s:s}", "name", "f0", "type", f0_type));
        for (int i = 1; i < n; i++) {
                char name[16];
                snprintf(name, sizeof(name), "f%d", i);
                json_array_append_new(fields,
                                      json_pack("{s:s,s:s,s:i}", "name", name, "type", "int", "default", 0));
        }
        json_t *schema = json_pack("{s:s,s:s,s:o}", "type", "record", "name", "Grows", "fields", fields);
        char *text = json_dumps(schema, JSON_COMPACT);
        json_decref(schema);
        return text;
}

/* More versions than the parsed-schema cache holds (64), checked
 * transitively and one by one: evicted schemas are parsed again. */
START_TEST(compatibility_beyond_the_parsed_cache) {
        regd_store_t *st = new_store();
        ck_assert_int_eq(run(st,
                             json_pack("{s:s,s:s,s:s}", "type", "CONFIG", "subject", "grows-value",
                                       "compatibility", "BACKWARD_TRANSITIVE"),
                             NULL),
                         200);
        for (int n = 1; n <= 100; n++) {
                char *text = growing(n, "int");
                reg(st, "grows-value", text);
                free(text);
        }
        /* Fill the cache with other schemas. */
        for (int i = 0; i < 80; i++) {
                char subject[32], text[200];
                snprintf(subject, sizeof(subject), "other%d-value", i);
                snprintf(text, sizeof(text),
                         "{\"type\":\"record\",\"name\":\"O%d\",\"fields\":[{\"name\":\"x\",\"type\":\"int\"}"
                         "]}",
                         i);
                reg(st, subject, text);
        }
        char errstr[512];
        int compatible = -1;
        char *fine = growing(101, "int"), *broken = growing(101, "string");
        for (int32_t version = 1; version <= 100; version += 33) {
                json_t *messages = json_array();
                ck_assert_int_eq(regd_store_check(st, "grows-value", version, fine, strlen(fine), &compatible,
                                                  messages, errstr, sizeof(errstr)),
                                 SB_OK);
                ck_assert_int_eq(compatible, 1);
                ck_assert_int_eq(regd_store_check(st, "grows-value", version, broken, strlen(broken),
                                                  &compatible, messages, errstr, sizeof(errstr)),
                                 SB_OK);
                ck_assert_int_eq(compatible, 0);
                char *dump = json_dumps(messages, JSON_COMPACT);
                ck_assert_msg(strstr(dump, "f0"), "the refusal does not name f0: %s", dump);
                free(dump);
                json_decref(messages);
        }
        /* Registering the broken one is refused against every version. */
        long status = run(st,
                          json_pack("{s:s,s:s,s:s,s:b}", "type", "REGISTER", "subject", "grows-value",
                                    "schema", broken, "normalize", 0),
                          NULL);
        ck_assert_int_eq(status, 409);
        ck_assert_int_eq(reg(st, "grows-value", fine), 181); /* the refusal spent no id */
        free(fine);
        free(broken);
        regd_store_destroy(st);
}
END_TEST

int main(void) {
        Suite *s = suite_create("registry_scale");
        TCase *tc = tcase_create("scale");
        tcase_set_timeout(tc, 120);
        tcase_add_test(tc, subjects_are_found_through_deletes_in_any_order);
        tcase_add_test(tc, compatibility_beyond_the_parsed_cache);
        suite_add_tcase(s, tc);
        return test_run_suite(s);
}

/*
 * Unit tests of change_line (one change event per JSON line) and of the
 * sample generator's lines going through change_line and event_encoder.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "change_line.h"
#include "event_encoder.h"
#include "sample.h"
#include "sb_avro.h"
#include "dataset.h"
#include "sb_checks.h"
#include "sb_wire.h"
#include "testutil.h"

/* ---- lines that must be refused ---- */

static const struct {
        const char *line, *want;
} bad_lines[] = {
        /* Not JSON, or not an object. */
        {"", "not valid JSON"},
        {"not json", "not valid JSON at column"},
        {"{", "not valid JSON"},
        {"{\"op\":\"c\",}", "not valid JSON"},
        {"{\"op\":\"c\"} {\"op\":\"u\"}", "not valid JSON"},
        {"{\"op\":\"c\",\"op\":\"u\",\"key\":{\"id\":1},\"after\":{\"id\":1}}", "duplicate"},
        {"[]", "a change must be a JSON object"},
        {"[{\"op\":\"c\"}]", "a change must be a JSON object"},
        {"5", "a change must be a JSON object"},
        {"\"c\"", "a change must be a JSON object"},
        /* Unknown members, a typo included. */
        {"{\"op\":\"c\",\"key\":{\"id\":1},\"after\":{\"id\":1},\"extra\":1}", "unknown member 'extra'"},
        {"{\"op\":\"c\",\"key\":{\"id\":1},\"afer\":{\"id\":1}}", "unknown member 'afer'"},
        {"{\"Op\":\"c\",\"key\":{\"id\":1},\"after\":{\"id\":1}}", "unknown member 'Op'"},
        {"{\"op\":\"c\",\"key\":{\"id\":1},\"after\":{\"id\":1},\"ts\":1}", "unknown member 'ts'"},
        /* What an outbox source hands over for a row it refused: its reason. */
        {"{\"rejected_by_source\":\"row of 80306 bytes exceeds the 65536-byte bound\"}",
         "refused by its source (rejected_by_source): row of 80306 bytes exceeds the 65536-byte bound"},
        /* op. */
        {"{\"key\":{\"id\":1},\"after\":{\"id\":1}}", "\"op\" must be \"c\""},
        {"{\"op\":\"x\",\"key\":{\"id\":1},\"after\":{\"id\":1}}", "\"op\" must be"},
        {"{\"op\":\"C\",\"key\":{\"id\":1},\"after\":{\"id\":1}}", "\"op\" must be"},
        {"{\"op\":\"cu\",\"key\":{\"id\":1},\"after\":{\"id\":1}}", "\"op\" must be"},
        {"{\"op\":\"\",\"key\":{\"id\":1},\"after\":{\"id\":1}}", "\"op\" must be"},
        {"{\"op\":\"create\",\"key\":{\"id\":1},\"after\":{\"id\":1}}", "\"op\" must be"},
        {"{\"op\":1,\"key\":{\"id\":1},\"after\":{\"id\":1}}", "\"op\" must be"},
        {"{\"op\":null,\"key\":{\"id\":1},\"after\":{\"id\":1}}", "\"op\" must be"},
        {"{\"op\":[\"c\"],\"key\":{\"id\":1},\"after\":{\"id\":1}}", "\"op\" must be"},
        {"{\"op\":\"c\\u0000\",\"key\":{\"id\":1},\"after\":{\"id\":1}}", "not valid JSON"},
        /* key. */
        {"{\"op\":\"c\",\"after\":{\"id\":1}}", "\"key\" must be an object"},
        {"{\"op\":\"c\",\"key\":\"1\",\"after\":{\"id\":1}}", "\"key\" must be an object"},
        {"{\"op\":\"c\",\"key\":[1],\"after\":{\"id\":1}}", "\"key\" must be an object"},
        {"{\"op\":\"c\",\"key\":null,\"after\":{\"id\":1}}", "\"key\" must be an object"},
        {"{\"op\":\"d\",\"key\":1}", "\"key\" must be an object"},
        /* before / after types. */
        {"{\"op\":\"u\",\"key\":{\"id\":1},\"before\":\"x\",\"after\":{\"id\":1}}",
         "\"before\" and \"after\" must be objects or null"},
        {"{\"op\":\"u\",\"key\":{\"id\":1},\"before\":[],\"after\":{\"id\":1}}", "must be objects or null"},
        {"{\"op\":\"c\",\"key\":{\"id\":1},\"after\":5}", "must be objects or null"},
        {"{\"op\":\"c\",\"key\":{\"id\":1},\"after\":[{\"id\":1}]}", "must be objects or null"},
        {"{\"op\":\"d\",\"key\":{\"id\":1},\"before\":false}", "must be objects or null"},
        /* before / after presence per op. */
        {"{\"op\":\"c\",\"key\":{\"id\":1},\"before\":{\"id\":1},\"after\":{\"id\":1}}",
         "op \"c\" needs \"after\" and no \"before\""},
        {"{\"op\":\"c\",\"key\":{\"id\":1}}", "op \"c\" needs \"after\" and no \"before\""},
        {"{\"op\":\"c\",\"key\":{\"id\":1},\"after\":null}", "op \"c\" needs \"after\""},
        {"{\"op\":\"c\",\"key\":{\"id\":1},\"before\":{\"id\":1}}", "op \"c\" needs \"after\""},
        {"{\"op\":\"r\",\"key\":{\"id\":1},\"before\":{\"id\":1},\"after\":{\"id\":1}}",
         "op \"r\" needs \"after\" and no \"before\""},
        {"{\"op\":\"r\",\"key\":{\"id\":1}}", "op \"r\" needs \"after\""},
        {"{\"op\":\"u\",\"key\":{\"id\":1}}", "op \"u\" needs \"after\""},
        {"{\"op\":\"u\",\"key\":{\"id\":1},\"before\":{\"id\":1}}", "op \"u\" needs \"after\""},
        {"{\"op\":\"u\",\"key\":{\"id\":1},\"before\":{\"id\":1},\"after\":null}",
         "op \"u\" needs \"after\""},
        {"{\"op\":\"d\",\"key\":{\"id\":1},\"after\":{\"id\":1}}", "op \"d\" must not have \"after\""},
        {"{\"op\":\"d\",\"key\":{\"id\":1},\"before\":{\"id\":1},\"after\":{\"id\":1}}",
         "op \"d\" must not have \"after\""},
        /* Key fields that differ from the row. */
        {"{\"op\":\"c\",\"key\":{\"id\":1},\"after\":{\"id\":2}}",
         "key.id differs from the same field of the row"},
        {"{\"op\":\"c\",\"key\":{\"id\":\"1\"},\"after\":{\"id\":1}}", "key.id differs"},
        {"{\"op\":\"c\",\"key\":{\"id\":1,\"k2\":\"a\"},\"after\":{\"id\":1,\"k2\":\"b\"}}",
         "key.k2 differs"},
        {"{\"op\":\"u\",\"key\":{\"id\":1},\"before\":{\"id\":2},\"after\":{\"id\":1}}", "key.id differs"},
        {"{\"op\":\"u\",\"key\":{\"id\":1},\"before\":{\"id\":1},\"after\":{\"id\":3}}", "key.id differs"},
        {"{\"op\":\"d\",\"key\":{\"id\":\"a\"},\"before\":{\"id\":\"A\"}}", "key.id differs"},
        {"{\"op\":\"c\",\"key\":{\"id\":1},\"after\":{\"id\":null}}", "key.id differs"},
        /* ts_ms and seq. */
        {"{\"op\":\"d\",\"key\":{\"id\":1},\"ts_ms\":-1}", "\"ts_ms\" must be a non-negative integer"},
        {"{\"op\":\"d\",\"key\":{\"id\":1},\"ts_ms\":1.5}", "\"ts_ms\" must be a non-negative integer"},
        {"{\"op\":\"d\",\"key\":{\"id\":1},\"ts_ms\":1.0}", "\"ts_ms\" must be a non-negative integer"},
        {"{\"op\":\"d\",\"key\":{\"id\":1},\"ts_ms\":\"1700000000000\"}", "\"ts_ms\" must be"},
        {"{\"op\":\"d\",\"key\":{\"id\":1},\"ts_ms\":null}", "\"ts_ms\" must be"},
        {"{\"op\":\"d\",\"key\":{\"id\":1},\"ts_ms\":true}", "\"ts_ms\" must be"},
        {"{\"op\":\"d\",\"key\":{\"id\":1},\"ts_ms\":-9223372036854775808}", "\"ts_ms\" must be"},
        {"{\"op\":\"d\",\"key\":{\"id\":1},\"seq\":-1}", "\"seq\" must be a non-negative integer"},
        {"{\"op\":\"d\",\"key\":{\"id\":1},\"seq\":2.5}", "\"seq\" must be a non-negative integer"},
        {"{\"op\":\"d\",\"key\":{\"id\":1},\"seq\":\"3\"}", "\"seq\" must be"},
        {"{\"op\":\"d\",\"key\":{\"id\":1},\"seq\":[3]}", "\"seq\" must be"},
        {"{\"op\":\"d\",\"key\":{\"id\":1},\"ts_ms\":1,\"seq\":-5}", "\"seq\" must be"},
};
#define N_BAD_LINES (sizeof(bad_lines) / sizeof(*bad_lines))

START_TEST(test_bad_line_is_refused_with_reason) {
        sb_change_line_t cl;
        char err[512] = "";
        const char *line = bad_lines[_i].line;
        memset(&cl, 0x5a, sizeof(cl));
        sb_err_t rc = sb_change_line_parse(line, strlen(line), &cl, err, sizeof(err));
        ck_assert_msg(rc == SB_ERR_INVALID, "line %s: got %s, want SB_ERR_INVALID", line, sb_err2str(rc));
        ck_assert_msg(strstr(err, bad_lines[_i].want), "line %s: error '%s' does not say '%s'", line, err,
                      bad_lines[_i].want);
        /* Nothing is left to free, and clearing again is harmless. */
        ck_assert_ptr_null(cl.doc);
        ck_assert_ptr_null(cl.key);
        sb_change_line_clear(&cl);
}
END_TEST

START_TEST(test_line_length_is_respected) {
        /* Only `len` bytes are the line: what follows is not read. */
        static const char buf[] = "{\"op\":\"d\",\"key\":{\"id\":1}}GARBAGE";
        sb_change_line_t cl;
        size_t len = strlen("{\"op\":\"d\",\"key\":{\"id\":1}}");
        TEST_CALL(sb_change_line_parse(buf, len, &cl, TEST_ERR));
        ck_assert_int_eq(cl.op, 'd');
        sb_change_line_clear(&cl);
        char err[256] = "";
        ck_assert_int_eq(sb_change_line_parse(buf, len - 1, &cl, err, sizeof(err)), SB_ERR_INVALID);
        ck_assert_msg(strstr(err, "not valid JSON"), "error: %s", err);
}
END_TEST

/* A line of whitespace only is skipped like an empty one, never an error. */
START_TEST(test_blank_lines_are_recognised) {
        static const char *const blank[] = {"", "\n", " ", "\t", " \t \r\n", "\r\n", "\t\t\t\t"};
        static const char *const not_blank[] = {"x", " {}", "\t{\"op\":\"d\"}\n", "\v", "\f", " . "};
        for (size_t i = 0; i < sizeof(blank) / sizeof(*blank); i++)
                ck_assert_msg(sb_change_line_is_blank(blank[i], strlen(blank[i])), "blank %zu", i);
        for (size_t i = 0; i < sizeof(not_blank) / sizeof(*not_blank); i++)
                ck_assert_msg(!sb_change_line_is_blank(not_blank[i], strlen(not_blank[i])), "not blank %zu",
                              i);
        /* A NUL byte is content (a corrupt line), not whitespace. */
        ck_assert(!sb_change_line_is_blank(" \0 ", 3));
}
END_TEST

/* ---- lines that must be accepted ---- */

static const struct {
        const char *line;
        char op;
        int has_before, has_after;
        int64_t ts_ms, seq;
} good_lines[] = {
        {"{\"op\":\"c\",\"key\":{\"id\":1},\"after\":{\"id\":1,\"v\":\"x\"},\"ts_ms\":1700000000000,\"seq\":"
         "42}",
         'c', 0, 1, 1700000000000LL, 42},
        {"{\"op\":\"c\",\"key\":{\"id\":1},\"before\":null,\"after\":{\"id\":1}}", 'c', 0, 1, -1, -1},
        {"{\"op\":\"r\",\"key\":{\"id\":1},\"after\":{\"id\":1}}", 'r', 0, 1, -1, -1},
        {"{\"op\":\"u\",\"key\":{\"id\":1},\"before\":{\"id\":1,\"v\":1},\"after\":{\"id\":1,\"v\":2},"
         "\"seq\":0}",
         'u', 1, 1, -1, 0},
        {"{\"op\":\"u\",\"key\":{\"id\":1},\"after\":{\"id\":1}}", 'u', 0, 1, -1, -1},
        {"{\"op\":\"d\",\"key\":{\"id\":1},\"before\":{\"id\":1}}", 'd', 1, 0, -1, -1},
        {"{\"op\":\"d\",\"key\":{\"id\":1}}", 'd', 0, 0, -1, -1},
        {"{\"op\":\"d\",\"key\":{\"id\":1},\"after\":null,\"ts_ms\":0}", 'd', 0, 0, 0, -1},
        {"{\"op\":\"d\",\"key\":{\"id\":1},\"ts_ms\":9223372036854775807,\"seq\":9223372036854775807}", 'd',
         0, 0, INT64_MAX, INT64_MAX},
        /* Key fields absent from the row are left to the schema check. */
        {"{\"op\":\"c\",\"key\":{\"id\":1},\"after\":{\"v\":1}}", 'c', 0, 1, -1, -1},
        /* Key fields equal as JSON values, whatever their type. */
        {"{\"op\":\"c\",\"key\":{\"a\":\"x\",\"b\":[1,{\"c\":null}]},\"after\":{\"b\":[1,{\"c\":null}],\"a\":"
         "\"x\"}}",
         'c', 0, 1, -1, -1},
        {"{\"op\":\"c\",\"key\":{},\"after\":{}}", 'c', 0, 1, -1, -1},
        /* Members in any order, blanks around. */
        {"  { \"seq\" : 7 , \"after\" : { \"id\" : 1 } , \"key\" : { \"id\" : 1 } , \"op\" : \"c\" }\r\n",
         'c', 0, 1, -1, 7},
};
#define N_GOOD_LINES (sizeof(good_lines) / sizeof(*good_lines))

START_TEST(test_good_line_is_parsed) {
        sb_change_line_t cl;
        const char *line = good_lines[_i].line;
        TEST_CALL(sb_change_line_parse(line, strlen(line), &cl, TEST_ERR));
        ck_assert_ptr_nonnull(cl.doc);
        ck_assert_int_eq(cl.op, good_lines[_i].op);
        ck_assert(json_is_object(cl.key));
        ck_assert_ptr_eq(cl.key, json_object_get(cl.doc, "key"));
        if (good_lines[_i].has_before) {
                ck_assert(json_is_object(cl.before));
                ck_assert_ptr_eq(cl.before, json_object_get(cl.doc, "before"));
        } else {
                ck_assert_ptr_null(cl.before);
        }
        if (good_lines[_i].has_after) {
                ck_assert(json_is_object(cl.after));
                ck_assert_ptr_eq(cl.after, json_object_get(cl.doc, "after"));
        } else {
                ck_assert_ptr_null(cl.after);
        }
        ck_assert_int_eq(cl.ts_ms, good_lines[_i].ts_ms);
        ck_assert_int_eq(cl.seq, good_lines[_i].seq);
        sb_change_line_clear(&cl);
        ck_assert_ptr_null(cl.doc);
}
END_TEST

/* ---- the sample generator's lines ---- */

static const struct {
        const char *topic, *department, *key_field;
} sample_sets[] = {
        {"market.business_license", "market", "uscc"},
        {"civil.resident", "civil", "id_number"},
        {"tax.taxpayer", "tax", "taxpayer_id"},
};

START_TEST(test_sample_lines_parse_encode_and_decode) {
        enum { LINES = 1000, KEYS = 200 };
        char dir[4096];
        sb_dataset_t *ds = NULL;
        snprintf(dir, sizeof(dir), "%s", test_src_path("schemas/datasets"));
        TEST_CALL(sb_dataset_load(dir, sample_sets[_i].topic, &ds, TEST_ERR));
        sb_sample_t *s = NULL;
        TEST_CALL(sb_sample_new(sample_sets[_i].topic, 2024, KEYS, &s, TEST_ERR));
        ck_assert_ptr_nonnull(s);
        sb_event_encoder_t enc = {.dataset = ds,
                                  .key_schema_id = 101,
                                  .value_schema_id = 102,
                                  .department = sample_sets[_i].department,
                                  .system = "sample"};
        sb_buf_t kb, vb;
        sb_buf_init(&kb, 1 << 20);
        sb_buf_init(&vb, 1 << 20);
        json_t *state = json_object(); /* key id -> current row */
        int count[128] = {0};
        int64_t last_ts = -1;

        for (int n = 0; n < LINES; n++) {
                char *line = sb_sample_next(s);
                ck_assert_ptr_nonnull(line);
                ck_assert_ptr_null(strchr(line, '\n'));
                sb_change_line_t cl;
                char err[1024] = "";
                ck_assert_msg(sb_change_line_parse(line, strlen(line), &cl, err, sizeof(err)) == SB_OK,
                              "line %d %s: %s", n, line, err);
                count[(int)cl.op]++;
                /* The key's identifier carries a valid check char. */
                const char *id = json_string_value(json_object_get(cl.key, sample_sets[_i].key_field));
                ck_assert_ptr_nonnull(id);
                ck_assert_uint_eq(json_object_size(cl.key), 1);
                ck_assert_msg(_i == 1 ? sb_check_cn_resident_id(id) : sb_check_cn_uscc(id), "line %d: key %s",
                              n, id);
                /* Events follow each key's life: c first, then u or d. */
                json_t *prev = json_object_get(state, id);
                if (cl.op == 'c') {
                        ck_assert_msg(prev == NULL, "line %d: create of existing key %s", n, id);
                } else {
                        ck_assert_msg(prev != NULL, "line %d: %c of absent key %s", n, cl.op, id);
                        ck_assert_msg(cl.before && json_equal(cl.before, prev),
                                      "line %d: before is not the last after", n);
                }
                /* The clock moves forward. */
                ck_assert_int_gt(cl.ts_ms, last_ts);
                last_ts = cl.ts_ms;

                char event_id[37];
                ck_assert_msg(sb_event_encode(&enc, &cl, n, &kb, &vb, event_id, err, sizeof(err)) == SB_OK,
                              "line %d %s: %s", n, line, err);

                /* Back from the wire: the same rows. */
                int32_t id_k, id_v;
                const uint8_t *body;
                size_t body_len;
                json_t *key = NULL, *value = NULL;
                TEST_CALL(sb_wire_parse(kb.data, kb.len, &id_k, &body, &body_len, TEST_ERR));
                ck_assert_int_eq(id_k, 101);
                TEST_CALL(sb_avro_decode(sb_dataset_key_schema(ds), body, body_len, &key, TEST_ERR));
                ck_assert(json_equal(key, cl.key));
                TEST_CALL(sb_wire_parse(vb.data, vb.len, &id_v, &body, &body_len, TEST_ERR));
                ck_assert_int_eq(id_v, 102);
                TEST_CALL(sb_avro_decode(sb_dataset_value_schema(ds), body, body_len, &value, TEST_ERR));
                json_t *after = json_object_get(value, "after");
                if (cl.after)
                        ck_assert_msg(json_equal(after, cl.after),
                                      "line %d: after differs after the round trip", n);
                else
                        ck_assert(json_is_null(after));
                if (cl.before)
                        ck_assert(json_equal(json_object_get(value, "before"), cl.before));
                ck_assert_int_eq(json_integer_value(json_object_get(value, "ts_ms")), cl.ts_ms);
                ck_assert_str_eq(json_string_value(json_object_get(value, "event_id")), event_id);

                if (cl.after)
                        json_object_set(state, id, cl.after);
                else
                        json_object_del(state, id);
                json_decref(key);
                json_decref(value);
                sb_change_line_clear(&cl);
                free(line);
        }
        /* All three kinds of change happen; snapshot reads are not generated. */
        ck_assert_int_gt(count['c'], 0);
        ck_assert_int_gt(count['u'], 0);
        ck_assert_int_gt(count['d'], 0);
        ck_assert_int_eq(count['r'], 0);
        ck_assert_int_eq(count['c'] + count['u'] + count['d'], LINES);
        ck_assert_uint_le(json_object_size(state), KEYS);

        json_decref(state);
        sb_buf_free(&kb);
        sb_buf_free(&vb);
        sb_sample_destroy(s);
        sb_dataset_destroy(ds);
}
END_TEST

START_TEST(test_sample_is_deterministic_per_seed) {
        sb_sample_t *a = NULL;
        TEST_CALL(sb_sample_new(sample_sets[_i].topic, 99, 50, &a, TEST_ERR));
        sb_sample_t *b = NULL;
        TEST_CALL(sb_sample_new(sample_sets[_i].topic, 99, 50, &b, TEST_ERR));
        sb_sample_t *c = NULL;
        TEST_CALL(sb_sample_new(sample_sets[_i].topic, 100, 50, &c, TEST_ERR));
        int differs = 0;
        for (int n = 0; n < 100; n++) {
                char *x = sb_sample_next(a), *y = sb_sample_next(b), *z = sb_sample_next(c);
                ck_assert_str_eq(x, y);
                differs += strcmp(x, z) != 0;
                free(x);
                free(y);
                free(z);
        }
        ck_assert_int_gt(differs, 0);
        sb_sample_destroy(a);
        sb_sample_destroy(b);
        sb_sample_destroy(c);
}
END_TEST

int main(void) {
        Suite *s = suite_create("change_line");
        TCase *tc = tcase_create("parse");
        tcase_add_loop_test(tc, test_bad_line_is_refused_with_reason, 0, N_BAD_LINES);
        tcase_add_test(tc, test_line_length_is_respected);
        tcase_add_test(tc, test_blank_lines_are_recognised);
        tcase_add_loop_test(tc, test_good_line_is_parsed, 0, N_GOOD_LINES);
        suite_add_tcase(s, tc);

        tc = tcase_create("sample");
        tcase_set_timeout(tc, 120);
        tcase_add_loop_test(tc, test_sample_lines_parse_encode_and_decode, 0, 3);
        tcase_add_loop_test(tc, test_sample_is_deterministic_per_seed, 0, 3);
        suite_add_tcase(s, tc);
        return test_run_suite(s);
}

/*
 * Unit tests of sb_avro_decode and sb_avro_check: bodies that do not match the schema
 * (truncated, trailing bytes, garbage, lengths beyond the body).
 *
 * JSON in the tables is written with single quotes for readability; test_q2j()
 * turns them into double quotes before parsing.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sb_avro.h"
#include "sb_buf.h"
#include "testutil.h"

/* ---- decoding bad bodies ---- */

static const struct {
        const char *schema, *hex;
} decode_errors[] = {
        {"'int'", ""},                                  /* nothing to read */
        {"'int'", "80"},                                /* varint cut short */
        {"'long'", "ff ff ff ff ff ff ff ff ff ff ff"}, /* varint too long */
        {"'string'", "02 ff"},                          /* not UTF-8 */
        {"'string'", "04 c3 28"},                       /* not UTF-8 either */
        {"'string'", "01"},                             /* length -1 */
        {"'bytes'", "01"},
        {"'double'", "00 00 00"},
        {"'float'", "00"},
        {"{'type':'fixed','name':'F','size':4}", "61 62"},
        {"{'type':'enum','name':'E','symbols':['A','B']}", "04"}, /* index 2 of 2 */
        {"{'type':'enum','name':'E','symbols':['A','B']}", "01"}, /* index -1 */
        {"['null','int']", "04"},                                 /* branch 2 of 2 */
        {"['null','int']", "01"},                                 /* branch -1 */
        {"['null','int']", "02"},                                 /* branch 1 without its value */
        {"{'type':'array','items':'int'}", "04 02"},              /* 2 items announced, 1 given */
        {"{'type':'array','items':'int'}", "02 02"},              /* no end of blocks */
        {"{'type':'map','values':'int'}", "02 02 61"},            /* value missing */
        {"{'type':'record','name':'R','fields':[{'name':'a','type':'int'},{'name':'b','type':'string'}]}",
         "02"},
        /* Trailing bytes after a complete value. */
        {"'int'", "02 00"},
        {"'string'", "02 61 62"},
        {"'null'", "00"},
        {"{'type':'record','name':'R','fields':[{'name':'a','type':'int'}]}", "02 02 02"},
};
#define N_DECODE_ERRORS (sizeof(decode_errors) / sizeof(*decode_errors))

START_TEST(test_decode_refuses_bad_body) {
        sb_schema_t *s = test_schema_q(decode_errors[_i].schema);
        uint8_t body[64];
        size_t len = test_unhex(decode_errors[_i].hex, body, sizeof(body));
        char err[512] = "";
        json_t *out = (json_t *)1;
        sb_err_t rc = sb_avro_decode(s, body, len, &out, err, sizeof(err));
        char *got = NULL;
        if (rc == SB_OK)
                got = test_json_dump(out);
        ck_assert_msg(rc == SB_ERR_INVALID, "[%s] as %s: got %s (%s), want SB_ERR_INVALID",
                      decode_errors[_i].hex, decode_errors[_i].schema, sb_err2str(rc), got ? got : err);
        ck_assert_ptr_null(out);
        ck_assert_str_ne(err, "");
        sb_schema_destroy(s);
}
END_TEST

/* Every type but string, bytes and map (whose strings avro-c reads
 * unsafely: see the regressions case). */
static const char numeric_schema[] =
        "{'type':'record','name':'N','fields':[{'name':'i','type':'int'},{'name':'l','type':'long'},"
        "{'name':'d','type':'double'},{'name':'f','type':'float'},{'name':'b','type':'boolean'},"
        "{'name':'e','type':{'type':'enum','name':'E','symbols':['A','B','C']}},"
        "{'name':'u','type':['null','int','double']},{'name':'fx','type':{'type':'fixed','name':'F','size':3}"
        "},"
        "{'name':'arr','type':{'type':'array','items':'long'}},"
        "{'name':'dt','type':{'type':'int','logicalType':'date'}},"
        "{'name':'ts','type':{'type':'long','logicalType':'timestamp-millis'}}]}";
static const char numeric_value[] =
        "{'i':-5,'l':1099511627776,'d':0.125,'f':-1.5,'b':true,'e':'C','u':2.5,'fx':'xyz',"
        "'arr':[1,-2,300000],'dt':'1949-10-01','ts':'2000-02-29T00:00:00.001Z'}";

START_TEST(test_numeric_record_round_trips) {
        sb_schema_t *s = test_schema_q(numeric_schema);
        json_t *v = test_json_q(numeric_value);
        json_t *got = test_round_trip(s, v);
        test_assert_json_eq(got, v);
        json_decref(got);
        json_decref(v);
        sb_schema_destroy(s);
}
END_TEST

static void truncated_at_every_length_fails(const char *schema, const char *value, int wrap) {
        sb_schema_t *s = test_schema_q(schema);
        json_t *v = test_json_q(value);
        if (wrap)
                v = json_pack("{s:o}", "after", v);
        sb_buf_t buf;
        test_encode_ok(s, v, &buf);
        for (size_t len = 0; len < buf.len; len++) {
                char err[512] = "";
                json_t *out = NULL;
                sb_err_t rc = sb_avro_decode(s, buf.data, len, &out, err, sizeof(err));
                ck_assert_msg(rc == SB_ERR_INVALID, "%zu of %zu bytes decoded: %s", len, buf.len,
                              sb_err2str(rc));
                ck_assert_ptr_null(out);
        }
        sb_buf_free(&buf);
        json_decref(v);
        sb_schema_destroy(s);
}

START_TEST(test_decode_truncated_body_at_every_length_fails) {
        truncated_at_every_length_fails(numeric_schema, numeric_value, 0);
}
END_TEST

START_TEST(test_decode_trailing_byte_says_so) {
        sb_schema_t *s = test_schema_q(test_row_schema);
        json_t *row = test_json_q(test_row_value);
        json_t *v = json_pack("{s:o}", "after", row), *out = NULL;
        char err[512] = "";
        sb_buf_t buf;
        test_encode_ok(s, v, &buf);
        ck_assert_int_eq(sb_buf_append(&buf, "\0", 1), SB_OK);
        ck_assert_int_eq(sb_avro_decode(s, buf.data, buf.len, &out, err, sizeof(err)), SB_ERR_INVALID);
        ck_assert_msg(strstr(err, "1 bytes after the value"), "error: %s", err);
        ck_assert_ptr_null(out);
        sb_buf_free(&buf);
        json_decref(v);
        sb_schema_destroy(s);
}
END_TEST

/* Deterministic garbage against `schema`: every outcome must be SB_OK
 * with a value or SB_ERR_INVALID without one. */
static void garbage_never_crashes(const char *schema) {
        sb_schema_t *s = test_schema_q(schema);
        uint64_t x = 88172645463325252ULL;
        for (int round = 0; round < 2000; round++) {
                uint8_t body[48];
                size_t len = (size_t)(round % (int)sizeof(body));
                for (size_t i = 0; i < len; i++) {
                        x ^= x << 13;
                        x ^= x >> 7;
                        x ^= x << 17;
                        body[i] = (uint8_t)x;
                        /* Keep lengths small so avro-c does not allocate gigabytes. */
                        if (i % 4 == 0)
                                body[i] &= 0x3f;
                }
                json_t *out = NULL;
                char err[512] = "";
                sb_err_t rc = sb_avro_decode(s, body, len, &out, err, sizeof(err));
                ck_assert_msg(rc == SB_OK || rc == SB_ERR_INVALID, "round %d: %s", round, sb_err2str(rc));
                ck_assert_msg((rc == SB_OK) == (out != NULL), "round %d: rc %d out %p", round, rc,
                              (void *)out);
                json_decref(out);
        }
        sb_schema_destroy(s);
}

START_TEST(test_decode_random_garbage_never_crashes) { garbage_never_crashes(numeric_schema); }
END_TEST

START_TEST(test_decode_empty_body_of_null_and_empty_record) {
        static const char *const schemas[] = {"'null'", "{'type':'record','name':'Empty','fields':[]}"};
        static const char *const want[] = {"null", "{}"};
        sb_schema_t *s = test_schema_q(schemas[_i]);
        json_t *out = NULL, *w = test_json_q(want[_i]);
        TEST_CALL(sb_avro_decode(s, "", 0, &out, TEST_ERR));
        test_assert_json_eq(out, w);
        json_decref(w);
        json_decref(out);
        sb_schema_destroy(s);
}
END_TEST

/* ---- regressions ---- */

/* Bodies from the wire reach avro-c unchecked.  avro-c 1.11's read_string
 * and read_bytes trust the length prefix: they malloc the announced length
 * first, and leak that buffer when the body turns out shorter.  A
 * subscriber decoding a poison record must get SB_ERR_INVALID and nothing
 * else (LeakSanitizer fails these). */
static const struct {
        const char *schema, *hex;
} unsafe_bodies[] = {
        {"'string'", "04 61"}, /* 2 bytes announced, 1 given */
        {"'bytes'", "06 61"},
        {"{'type':'map','values':'int'}", "02 04 61"}, /* map key cut short */
        {"['null','string']", "02 80 80 80 08 61"},    /* 64 MiB announced, 1 given */
};

START_TEST(test_bug_decode_truncated_string_leaks_in_avro_c) {
        sb_schema_t *s = test_schema_q(unsafe_bodies[_i].schema);
        uint8_t body[16];
        size_t len = test_unhex(unsafe_bodies[_i].hex, body, sizeof(body));
        /* Copy to an exact-size heap block so ASan sees any overread. */
        uint8_t *exact = malloc(len ? len : 1);
        memcpy(exact, body, len);
        json_t *out = NULL;
        char err[512] = "";
        ck_assert_int_eq(sb_avro_decode(s, exact, len, &out, err, sizeof(err)), SB_ERR_INVALID);
        ck_assert_ptr_null(out);
        free(exact);
        sb_schema_destroy(s);
}
END_TEST

START_TEST(test_bug_decode_truncated_row_leaks_in_avro_c) {
        truncated_at_every_length_fails(test_row_schema, test_row_value, 1);
}
END_TEST

START_TEST(test_bug_decode_garbage_with_strings_is_unsafe) { garbage_never_crashes(test_row_schema); }
END_TEST

/* A double that is NaN or infinite decoded as JSON null, so a subscriber
 * stored an empty field for it; a float so was refused.  Both are refused
 * now, with the reason (found by tests/fuzz/fuzz_wire_avro: the null did
 * not encode again). */
static const char *const non_finite[][2] = {
        {"'double'", "00 00 00 00 00 00 f8 7f"}, /* NaN */
        {"'double'", "00 00 00 00 00 00 f0 ff"}, /* -inf */
        {"'float'", "00 00 80 7f"},              /* +inf */
        {"{'type':'record','name':'R','fields':[{'name':'d','type':'double'}]}", "00 00 00 00 00 00 f0 7f"},
        {"['null','double']", "02 00 00 00 00 00 00 f8 ff"},
};
#define N_NON_FINITE (sizeof(non_finite) / sizeof(*non_finite))

START_TEST(test_bug_non_finite_double_decoded_as_null) {
        sb_schema_t *s = test_schema_q(non_finite[_i][0]);
        uint8_t body[16];
        size_t len = test_unhex(non_finite[_i][1], body, sizeof(body));
        char err[512] = "";
        json_t *out = NULL;
        ck_assert_int_eq(sb_avro_decode(s, body, len, &out, err, sizeof(err)), SB_ERR_INVALID);
        ck_assert_ptr_null(out);
        ck_assert_str_eq(err, "Avro body holds a value the schema cannot express");
        sb_schema_destroy(s);
}
END_TEST

int main(void) {
        Suite *s = suite_create("avro_decode");
        TCase *tc = tcase_create("decode");
        tcase_set_timeout(tc, 60);
        tcase_add_loop_test(tc, test_decode_refuses_bad_body, 0, N_DECODE_ERRORS);
        tcase_add_test(tc, test_numeric_record_round_trips);
        tcase_add_test(tc, test_decode_truncated_body_at_every_length_fails);
        tcase_add_test(tc, test_decode_trailing_byte_says_so);
        tcase_add_test(tc, test_decode_random_garbage_never_crashes);
        tcase_add_loop_test(tc, test_decode_empty_body_of_null_and_empty_record, 0, 2);
        suite_add_tcase(s, tc);

        /* Bugs these tests found (short bodies that avro-c leaks or trusts). */
        tc = tcase_create("regressions");
        tcase_set_timeout(tc, 60);
        tcase_add_loop_test(tc, test_bug_decode_truncated_string_leaks_in_avro_c, 0,
                            sizeof(unsafe_bodies) / sizeof(*unsafe_bodies));
        tcase_add_test(tc, test_bug_decode_truncated_row_leaks_in_avro_c);
        tcase_add_test(tc, test_bug_decode_garbage_with_strings_is_unsafe);
        tcase_add_loop_test(tc, test_bug_non_finite_double_decoded_as_null, 0, N_NON_FINITE);
        suite_add_tcase(s, tc);
        return test_run_suite(s);
}

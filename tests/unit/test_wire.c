/* Unit tests of sb_wire: Confluent's 5-byte framing of keys and values. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sb_buf.h"
#include "sb_wire.h"
#include "testutil.h"

static const struct {
        int32_t id;
        uint8_t bytes[SB_WIRE_HEADER_SIZE];
} header_cases[] = {
        {0, {0x00, 0x00, 0x00, 0x00, 0x00}},          {1, {0x00, 0x00, 0x00, 0x00, 0x01}},
        {255, {0x00, 0x00, 0x00, 0x00, 0xff}},        {256, {0x00, 0x00, 0x00, 0x01, 0x00}},
        {65536, {0x00, 0x00, 0x01, 0x00, 0x00}},      {0x01020304, {0x00, 0x01, 0x02, 0x03, 0x04}},
        {0x7fffffff, {0x00, 0x7f, 0xff, 0xff, 0xff}},
};
#define N_HEADER_CASES (sizeof(header_cases) / sizeof(*header_cases))

START_TEST(test_header_bytes_are_magic_and_big_endian_id) {
        sb_buf_t buf;
        sb_buf_init(&buf, 64);
        ck_assert_int_eq(sb_wire_put_header(&buf, header_cases[_i].id), SB_OK);
        ck_assert_uint_eq(buf.len, SB_WIRE_HEADER_SIZE);
        ck_assert_mem_eq(buf.data, header_cases[_i].bytes, SB_WIRE_HEADER_SIZE);
        sb_buf_free(&buf);
}
END_TEST

START_TEST(test_header_appends_after_existing_bytes) {
        sb_buf_t buf;
        static const uint8_t want[] = {'x', 'y', 0x00, 0x00, 0x00, 0x01, 0x00};
        sb_buf_init(&buf, 64);
        ck_assert_int_eq(sb_buf_append(&buf, "xy", 2), SB_OK);
        ck_assert_int_eq(sb_wire_put_header(&buf, 256), SB_OK);
        ck_assert_uint_eq(buf.len, sizeof(want));
        ck_assert_mem_eq(buf.data, want, sizeof(want));
        sb_buf_free(&buf);
}
END_TEST

START_TEST(test_header_fails_when_buffer_cap_is_too_small) {
        sb_buf_t buf;
        sb_buf_init(&buf, 4);
        ck_assert_int_eq(sb_wire_put_header(&buf, 1), SB_ERR_NOMEM);
        sb_buf_free(&buf);
}
END_TEST

START_TEST(test_parse_round_trip_of_id_and_body) {
        static const char body[] = "\x02\x61 avro body";
        sb_buf_t buf;
        int32_t id = -1;
        const uint8_t *got_body = NULL;
        size_t got_len = 0;
        sb_buf_init(&buf, 1024);
        ck_assert_int_eq(sb_wire_put_header(&buf, header_cases[_i].id), SB_OK);
        ck_assert_int_eq(sb_buf_append(&buf, body, sizeof(body) - 1), SB_OK);
        TEST_CALL(sb_wire_parse(buf.data, buf.len, &id, &got_body, &got_len, TEST_ERR));
        ck_assert_int_eq(id, header_cases[_i].id);
        /* The body points into the message, not into a copy. */
        ck_assert_ptr_eq(got_body, buf.data + SB_WIRE_HEADER_SIZE);
        ck_assert_uint_eq(got_len, sizeof(body) - 1);
        ck_assert_mem_eq(got_body, body, got_len);
        sb_buf_free(&buf);
}
END_TEST

START_TEST(test_parse_header_only_gives_empty_body) {
        static const uint8_t msg[] = {0x00, 0x00, 0x00, 0x00, 0x2a};
        int32_t id = -1;
        const uint8_t *body = NULL;
        size_t body_len = 99;
        TEST_CALL(sb_wire_parse(msg, sizeof(msg), &id, &body, &body_len, TEST_ERR));
        ck_assert_int_eq(id, 42);
        ck_assert_uint_eq(body_len, 0);
        ck_assert_ptr_eq(body, msg + sizeof(msg));
}
END_TEST

START_TEST(test_parse_refuses_message_shorter_than_header) {
        /* _i is the length: 0..4 bytes are all too short. */
        static const uint8_t msg[] = {0x00, 0x00, 0x00, 0x00, 0x01};
        char err[256] = "";
        int32_t id = -1;
        const uint8_t *body = NULL;
        size_t body_len = 0;
        ck_assert_int_eq(sb_wire_parse(msg, (size_t)_i, &id, &body, &body_len, err, sizeof(err)),
                         SB_ERR_WIRE);
        ck_assert_msg(strstr(err, "shorter than the 5-byte header"), "error: %s", err);
        char want[32];
        snprintf(want, sizeof(want), "%d bytes", _i);
        ck_assert_msg(strstr(err, want), "error '%s' does not say '%s'", err, want);
}
END_TEST

START_TEST(test_parse_refuses_null_message) {
        char err[256] = "";
        int32_t id;
        const uint8_t *body;
        size_t body_len;
        ck_assert_int_eq(sb_wire_parse(NULL, 10, &id, &body, &body_len, err, sizeof(err)), SB_ERR_WIRE);
        ck_assert_str_ne(err, "");
}
END_TEST

static const uint8_t bad_magic[] = {0x01, 0x02, 0x7f, 0x80, 0xff};

START_TEST(test_parse_refuses_wrong_magic_byte) {
        uint8_t msg[] = {bad_magic[_i], 0x00, 0x00, 0x00, 0x01, 0x02};
        char err[256] = "", want[32];
        int32_t id;
        const uint8_t *body;
        size_t body_len;
        ck_assert_int_eq(sb_wire_parse(msg, sizeof(msg), &id, &body, &body_len, err, sizeof(err)),
                         SB_ERR_WIRE);
        snprintf(want, sizeof(want), "0x%02x", bad_magic[_i]);
        ck_assert_msg(strstr(err, "magic") && strstr(err, want), "error: %s", err);
}
END_TEST

START_TEST(test_parse_refuses_negative_schema_id) {
        static const uint8_t msgs[][6] = {
                {0x00, 0x80, 0x00, 0x00, 0x00, 0x00}, /* INT32_MIN */
                {0x00, 0xff, 0xff, 0xff, 0xff, 0x00}, /* -1 */
        };
        static const char *const want[] = {"-2147483648", "-1"};
        char err[256] = "";
        int32_t id;
        const uint8_t *body;
        size_t body_len;
        ck_assert_int_eq(sb_wire_parse(msgs[_i], sizeof(msgs[_i]), &id, &body, &body_len, err, sizeof(err)),
                         SB_ERR_WIRE);
        ck_assert_msg(strstr(err, "negative schema id") && strstr(err, want[_i]), "error: %s", err);
}
END_TEST

START_TEST(test_parse_accepts_null_errstr_on_error) {
        static const uint8_t msg[] = {0x05};
        int32_t id;
        const uint8_t *body;
        size_t body_len;
        ck_assert_int_eq(sb_wire_parse(msg, sizeof(msg), &id, &body, &body_len, NULL, 0), SB_ERR_WIRE);
}
END_TEST

int main(void) {
        Suite *s = suite_create("wire");
        TCase *tc = tcase_create("header");
        tcase_add_loop_test(tc, test_header_bytes_are_magic_and_big_endian_id, 0, N_HEADER_CASES);
        tcase_add_test(tc, test_header_appends_after_existing_bytes);
        tcase_add_test(tc, test_header_fails_when_buffer_cap_is_too_small);
        suite_add_tcase(s, tc);

        tc = tcase_create("parse");
        tcase_add_loop_test(tc, test_parse_round_trip_of_id_and_body, 0, N_HEADER_CASES);
        tcase_add_test(tc, test_parse_header_only_gives_empty_body);
        tcase_add_loop_test(tc, test_parse_refuses_message_shorter_than_header, 0, SB_WIRE_HEADER_SIZE);
        tcase_add_test(tc, test_parse_refuses_null_message);
        tcase_add_loop_test(tc, test_parse_refuses_wrong_magic_byte, 0, sizeof(bad_magic));
        tcase_add_loop_test(tc, test_parse_refuses_negative_schema_id, 0, 2);
        tcase_add_test(tc, test_parse_accepts_null_errstr_on_error);
        suite_add_tcase(s, tc);
        return test_run_suite(s);
}

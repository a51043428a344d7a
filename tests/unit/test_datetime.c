/*
 * Unit tests of sb_datetime and the date / timestamp-millis logical types through
 * sb_avro: text and numbers agree, parsing is strict, formatting total.
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
#include "sb_datetime.h"
#include "testutil.h"

/* ---- dates and timestamps ---- */

static const struct {
        const char *text;
        int64_t days;
} date_cases[] = {
        {"1970-01-01", 0},       {"1970-01-02", 1},       {"1969-12-31", -1},      {"1968-02-29", -672},
        {"2000-02-29", 11016},   {"2024-02-29", 19782},   {"2100-02-28", 47540},   {"2100-03-01", 47541},
        {"1900-02-28", -25509},  {"1900-03-01", -25508},  {"1600-02-29", -135081}, {"1949-10-01", -7397},
        {"0001-01-01", -719162}, {"9999-12-31", 2932896},
};
#define N_DATE_CASES (sizeof(date_cases) / sizeof(*date_cases))

/* A logical type's text form and its number agree both ways: `format`
 * gives `text` for `number`; the text encodes as that number (read back
 * with the plain schema) and decodes to the same text. */
static void assert_logical_agrees(const char *logical_schema, const char *plain_schema, const char *text,
                                  int64_t number, void (*format)(int64_t, char *, size_t)) {
        sb_schema_t *logical = test_schema_q(logical_schema);
        sb_schema_t *plain = test_schema_q(plain_schema);
        json_t *v = json_string(text), *raw = NULL, *back = NULL;
        char formatted[40];
        sb_buf_t buf;

        format(number, formatted, sizeof(formatted));
        ck_assert_str_eq(formatted, text);

        test_encode_ok(logical, v, &buf);
        TEST_CALL(sb_avro_decode(plain, buf.data, buf.len, &raw, TEST_ERR));
        ck_assert_msg(json_is_integer(raw) && json_integer_value(raw) == number,
                      "%s encoded as %" JSON_INTEGER_FORMAT ", want %lld", text, json_integer_value(raw),
                      (long long)number);
        TEST_CALL(sb_avro_decode(logical, buf.data, buf.len, &back, TEST_ERR));
        ck_assert_str_eq(json_string_value(back), text);
        json_decref(back);
        json_decref(raw);
        json_decref(v);
        sb_buf_free(&buf);
        sb_schema_destroy(plain);
        sb_schema_destroy(logical);
}

START_TEST(test_date_text_and_days_agree) {
        assert_logical_agrees("{'type':'int','logicalType':'date'}", "'int'", date_cases[_i].text,
                              date_cases[_i].days, sb_datetime_format_date);
}
END_TEST

static const struct {
        const char *text;
        int64_t ms;
} ts_cases[] = {
        {"1970-01-01T00:00:00.000Z", 0},
        {"1970-01-01T00:00:00.001Z", 1},
        {"1969-12-31T23:59:59.999Z", -1},
        {"2024-02-29T23:59:59.999Z", 1709251199999LL},
        {"1900-01-01T00:00:00.000Z", -2208988800000LL},
        {"1968-02-29T12:00:00.500Z", -58017599500LL},
        {"2038-01-19T03:14:08.000Z", 2147483648000LL},
        {"0001-01-01T00:00:00.000Z", -62135596800000LL},
};
#define N_TS_CASES (sizeof(ts_cases) / sizeof(*ts_cases))

START_TEST(test_timestamp_text_and_millis_agree) {
        assert_logical_agrees("{'type':'long','logicalType':'timestamp-millis'}", "'long'", ts_cases[_i].text,
                              ts_cases[_i].ms, sb_datetime_format_timestamp_ms);
}
END_TEST

START_TEST(test_format_date_every_day_of_400_years_round_trips) {
        /* Every day of a full Gregorian cycle, either side of the epoch:
         * text -> encode -> days must be consecutive. */
        sb_schema_t *date = test_schema_q("{'type':'int','logicalType':'date'}");
        sb_schema_t *plain = test_schema_q("'int'");
        for (int64_t d = -73048; d < 73049; d += 1) {
                char text[32];
                sb_buf_t buf;
                json_t *days = NULL;
                sb_datetime_format_date(d, text, sizeof(text));
                json_t *v = json_string(text);
                test_encode_ok(date, v, &buf);
                TEST_CALL(sb_avro_decode(plain, buf.data, buf.len, &days, TEST_ERR));
                ck_assert_msg(json_integer_value(days) == d, "day %lld formats as %s, parses as %lld",
                              (long long)d, text, (long long)json_integer_value(days));
                json_decref(days);
                json_decref(v);
                sb_buf_free(&buf);
        }
        sb_schema_destroy(plain);
        sb_schema_destroy(date);
}
END_TEST

/* ---- regressions: bugs found by these tests, each stating the behaviour the header promises ---- */

static const char *const lax_dates[] = {
        "'+024-01-01'", /* sign inside the 4-digit year */
        "'2024-01- 1'", /* blank inside the day */
        "'2024- 1-01'",
        "'2024-+1-01'",
};

START_TEST(test_bug_date_parser_accepts_non_digits) {
        sb_schema_t *s = test_schema_q("{'type':'int','logicalType':'date'}");
        json_t *v = test_json_q(lax_dates[_i]);
        test_assert_invalid(s, v, "(value)", "is not a date");
        json_decref(v);
        sb_schema_destroy(s);
}
END_TEST

static const char *const lax_timestamps[] = {
        "'2024-01-01T-1:00:00Z'", /* negative hour */
        "'2024-01-01T00:-1:00Z'", /* negative minute */
        "'2024-01-01T00:00:-1Z'", /* negative second */
        "'2024-01-01T 1:00:00Z'", /* blank in the hour */
        "'2024-01-01T+1:00:00Z'",
};

START_TEST(test_bug_timestamp_parser_accepts_negative_or_blank_fields) {
        sb_schema_t *s = test_schema_q("{'type':'long','logicalType':'timestamp-millis'}");
        json_t *v = test_json_q(lax_timestamps[_i]);
        test_assert_invalid(s, v, "(value)", "is not a UTC timestamp");
        json_decref(v);
        sb_schema_destroy(s);
}
END_TEST

START_TEST(test_bug_timestamp_near_int64_min_overflows) {
        /* sb_datetime_format_timestamp_ms negates ms: undefined for INT64_MIN (UBSan
         * stops here).  A decoded long can hold any value. */
        sb_schema_t *s = test_schema_q("{'type':'long','logicalType':'timestamp-millis'}");
        static const uint8_t min_body[] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01};
        json_t *out = NULL;
        char err[512] = "";
        sb_err_t rc = sb_avro_decode(s, min_body, sizeof(min_body), &out, err, sizeof(err));
        ck_assert(rc == SB_OK || rc == SB_ERR_INVALID);
        json_decref(out);
        sb_schema_destroy(s);
}
END_TEST

int main(void) {
        Suite *s = suite_create("datetime");
        TCase *tc = tcase_create("logical");
        tcase_set_timeout(tc, 120);
        tcase_add_loop_test(tc, test_date_text_and_days_agree, 0, N_DATE_CASES);
        tcase_add_loop_test(tc, test_timestamp_text_and_millis_agree, 0, N_TS_CASES);
        tcase_add_test(tc, test_format_date_every_day_of_400_years_round_trips);
        suite_add_tcase(s, tc);

        /* Bugs these tests found (strict dates, INT64_MIN). */
        tc = tcase_create("regressions");
        tcase_add_loop_test(tc, test_bug_date_parser_accepts_non_digits, 0,
                            sizeof(lax_dates) / sizeof(*lax_dates));
        tcase_add_loop_test(tc, test_bug_timestamp_parser_accepts_negative_or_blank_fields, 0,
                            sizeof(lax_timestamps) / sizeof(*lax_timestamps));
        tcase_add_test(tc, test_bug_timestamp_near_int64_min_overflows);
        suite_add_tcase(s, tc);
        return test_run_suite(s);
}

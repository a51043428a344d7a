/*
 * Unit tests of sb_avro: schema parsing, the JSON <-> Avro binary conversion,
 * logical types, error messages and the read-only schema tree.
 *
 * JSON in the tables is written with single quotes for readability; test_q2j()
 * turns them into double quotes before parsing.
 */
#include <glob.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "sb_avro.h"
#include "sb_buf.h"
#include "sb_datetime.h"
#include "testutil.h"

/* ---- helpers ---- */

static char *dump(const json_t *j) { return json_dumps(j, JSON_COMPACT | JSON_SORT_KEYS | JSON_ENCODE_ANY); }

/* Parses "02 61" into `out`; returns the length. */
static size_t unhex(const char *hex, uint8_t *out, size_t size) {
        size_t n = 0;
        unsigned v;
        int used;
        while (sscanf(hex, " %2x%n", &v, &used) == 1) {
                ck_assert_uint_lt(n, size);
                out[n++] = (uint8_t)v;
                hex += used;
        }
        return n;
}

static char *hexdump(const uint8_t *p, size_t n) {
        char *s = calloc(n * 3 + 1, 1);
        ck_assert_ptr_nonnull(s);
        for (size_t i = 0; i < n; i++)
                snprintf(s + i * 3, 4, "%02x%s", p[i], i + 1 < n ? " " : "");
        return s;
}

/* Encodes `value` with `schema`, fails the test on error. */
static void encode_ok(sb_schema_t *s, const json_t *value, sb_buf_t *out) {
        sb_buf_init(out, 1 << 20);
        TEST_CALL(sb_avro_encode(s, value, out, TEST_ERR));
}

/* Encodes and decodes `value`; returns the decoded JSON (caller decrefs). */
static json_t *round_trip(sb_schema_t *s, const json_t *value) {
        sb_buf_t buf;
        json_t *out = NULL;
        encode_ok(s, value, &buf);
        TEST_CALL(sb_avro_decode(s, buf.data, buf.len, &out, TEST_ERR));
        ck_assert_ptr_nonnull(out);
        sb_buf_free(&buf);
        return out;
}

static void assert_json_eq(const json_t *got, const json_t *want) {
        if (!json_equal(got, want)) {
                char *g = dump(got), *w = dump(want);
                ck_abort_msg("got %s, want %s", g, w);
        }
}

/* ---- known byte encodings ---- */

static const struct {
        const char *schema, *value, *hex;
} bytes_cases[] = {
        {"'null'", "null", ""},
        {"'boolean'", "true", "01"},
        {"'boolean'", "false", "00"},
        {"'int'", "0", "00"},
        {"'int'", "1", "02"},
        {"'int'", "-1", "01"},
        {"'int'", "63", "7e"},
        {"'int'", "64", "80 01"},
        {"'int'", "-64", "7f"},
        {"'int'", "-65", "81 01"},
        {"'int'", "2147483647", "fe ff ff ff 0f"},
        {"'int'", "-2147483648", "ff ff ff ff 0f"},
        {"'long'", "1", "02"},
        {"'long'", "9223372036854775807", "fe ff ff ff ff ff ff ff ff 01"},
        {"'long'", "-9223372036854775808", "ff ff ff ff ff ff ff ff ff 01"},
        {"'float'", "1.0", "00 00 80 3f"},
        {"'float'", "1", "00 00 80 3f"},
        {"'double'", "1.0", "00 00 00 00 00 00 f0 3f"},
        {"'double'", "-2.5", "00 00 00 00 00 00 04 c0"},
        {"'string'", "'a'", "02 61"},
        {"'string'", "''", "00"},
        {"'string'", "'\\u00e9'", "04 c3 a9"},
        {"'string'", "'a\\u0000b'", "06 61 00 62"},
        {"'bytes'", "'\\u00ff\\u0000a'", "06 ff 00 61"},
        {"'bytes'", "''", "00"},
        {"{'type':'fixed','name':'F','size':2}", "'a\\u0080'", "61 80"},
        {"{'type':'enum','name':'E','symbols':['A','B','C']}", "'A'", "00"},
        {"{'type':'enum','name':'E','symbols':['A','B','C']}", "'C'", "04"},
        {"{'type':'array','items':'int'}", "[]", "00"},
        {"{'type':'array','items':'int'}", "[1,2]", "04 02 04 00"},
        {"{'type':'map','values':'int'}", "{}", "00"},
        {"{'type':'map','values':'int'}", "{'a':1}", "02 02 61 02 00"},
        {"{'type':'record','name':'R','fields':[{'name':'a','type':'int'},{'name':'b','type':'string'}]}",
         "{'a':1,'b':'x'}", "02 02 78"},
        {"{'type':'record','name':'R','fields':[{'name':'a','type':'int'},{'name':'b','type':'string'}]}",
         "{'b':'x','a':1}", "02 02 78"},
        {"{'type':'record','name':'Empty','fields':[]}", "{}", ""},
        /* Unions: the branch index (zigzag varint) comes first. */
        {"['null','string']", "null", "00"},
        {"['null','string']", "'a'", "02 02 61"},
        {"['null','int','string']", "'x'", "04 02 78"},
        {"['null','int','string']", "7", "02 0e"},
        {"['int','long']", "5", "00 0a"},
        {"['int','long']", "4294967296", "02 80 80 80 80 20"},
        {"['int','long']", "{'long':5}", "02 0a"},
        {"['null','string',{'type':'enum','name':'E','namespace':'n','symbols':['A','B']}]", "'B'",
         "02 02 42"},
        {"['null','string',{'type':'enum','name':'E','namespace':'n','symbols':['A','B']}]", "{'n.E':'B'}",
         "04 02"},
        {"['null','string',{'type':'enum','name':'E','namespace':'n','symbols':['A','B']}]", "{'null':null}",
         "00"},
        {"['int','double']", "1.5", "02 00 00 00 00 00 00 f8 3f"},
        /* Logical types. */
        {"{'type':'int','logicalType':'date'}", "'1970-01-02'", "02"},
        {"{'type':'int','logicalType':'date'}", "'1969-12-31'", "01"},
        {"{'type':'int','logicalType':'date'}", "1", "02"},
        {"{'type':'long','logicalType':'timestamp-millis'}", "'1970-01-01T00:00:00.001Z'", "02"},
        {"{'type':'long','logicalType':'timestamp-millis'}", "'1969-12-31T23:59:59.999Z'", "01"},
        {"{'type':'long','logicalType':'timestamp-millis'}", "'1970-01-01T00:00:01Z'", "d0 0f"},
};
#define N_BYTES_CASES (sizeof(bytes_cases) / sizeof(*bytes_cases))

START_TEST(test_encode_gives_known_bytes) {
        sb_schema_t *s = test_schema_q(bytes_cases[_i].schema);
        json_t *v = test_json_q(bytes_cases[_i].value);
        uint8_t want[64];
        size_t want_len = unhex(bytes_cases[_i].hex, want, sizeof(want));
        sb_buf_t buf;
        encode_ok(s, v, &buf);
        char *got = hexdump(buf.data, buf.len);
        ck_assert_msg(buf.len == want_len && memcmp(buf.data, want, want_len) == 0,
                      "%s as %s: got [%s], want [%s]", bytes_cases[_i].value, bytes_cases[_i].schema, got,
                      bytes_cases[_i].hex);
        free(got);
        sb_buf_free(&buf);
        json_decref(v);
        sb_schema_destroy(s);
}
END_TEST

START_TEST(test_encode_appends_to_existing_buffer) {
        sb_schema_t *s = test_schema_q("'string'");
        json_t *v = test_json_q("'a'");
        sb_buf_t buf;
        static const uint8_t want[] = {0x00, 0x00, 0x00, 0x00, 0x07, 0x02, 0x61};
        sb_buf_init(&buf, 1024);
        ck_assert_int_eq(sb_buf_append(&buf, want, 5), SB_OK);
        TEST_CALL(sb_avro_encode(s, v, &buf, TEST_ERR));
        ck_assert_uint_eq(buf.len, sizeof(want));
        ck_assert_mem_eq(buf.data, want, sizeof(want));
        sb_buf_free(&buf);
        json_decref(v);
        sb_schema_destroy(s);
}
END_TEST

START_TEST(test_encode_reuses_handle_without_state_leaking_between_values) {
        /* The handle reuses one avro-c value: a second, shorter array must
         * not keep items of the first. */
        sb_schema_t *s = test_schema_q("{'type':'array','items':'int'}");
        json_t *a = test_json_q("[1,2,3]"), *b = test_json_q("[9]"), *out;
        sb_buf_t buf;
        encode_ok(s, a, &buf);
        sb_buf_free(&buf);
        encode_ok(s, b, &buf);
        static const uint8_t want[] = {0x02, 0x12, 0x00};
        ck_assert_uint_eq(buf.len, sizeof(want));
        ck_assert_mem_eq(buf.data, want, sizeof(want));
        TEST_CALL(sb_avro_decode(s, buf.data, buf.len, &out, TEST_ERR));
        assert_json_eq(out, b);
        json_decref(out);
        sb_buf_free(&buf);
        json_decref(a);
        json_decref(b);
        sb_schema_destroy(s);
}
END_TEST

/* ---- round trips ---- */

static const struct {
        const char *schema, *value, *want; /* want NULL: same as value */
} rt_cases[] = {
        {"'null'", "null", NULL},
        {"'boolean'", "true", NULL},
        {"'boolean'", "false", NULL},
        {"'int'", "0", NULL},
        {"'int'", "-1", NULL},
        {"'int'", "2147483647", NULL},
        {"'int'", "-2147483648", NULL},
        {"'long'", "0", NULL},
        {"'long'", "1099511627776", NULL},
        {"'long'", "9223372036854775807", NULL},
        {"'long'", "-9223372036854775808", NULL},
        {"'double'", "0.0", NULL},
        {"'double'", "1.5", NULL},
        {"'double'", "-2.25e100", NULL},
        {"'double'", "1e-300", NULL},
        {"'double'", "3", "3.0"},
        {"'float'", "1.5", NULL},
        {"'float'", "-0.25", NULL},
        {"'float'", "2", "2.0"},
        {"'string'", "''", NULL},
        {"'string'", "'a'", NULL},
        {"'string'", "'h\\u00e9llo \\u4e2d\\u6587'", NULL},
        {"'string'", "'a\\u0000b'", NULL},
        {"'bytes'", "''", NULL},
        {"'bytes'", "'\\u0000\\u0001\\u007f\\u0080\\u00ff'", NULL},
        {"{'type':'fixed','name':'F','size':3}", "'\\u00ffa\\u0000'", NULL},
        {"{'type':'enum','name':'E','symbols':['A','B']}", "'B'", NULL},
        {"{'type':'array','items':'string'}", "[]", NULL},
        {"{'type':'array','items':'string'}", "['a','','c']", NULL},
        {"{'type':'array','items':{'type':'array','items':'int'}}", "[[1],[],[2,3]]", NULL},
        {"{'type':'map','values':'long'}", "{}", NULL},
        {"{'type':'map','values':'long'}", "{'a':1,'b':-2}", NULL},
        {"{'type':'map','values':{'type':'array','items':'boolean'}}", "{'x':[true,false]}", NULL},
        {"{'type':'array','items':{'type':'map','values':'string'}}", "[{'k':'v'},{}]", NULL},
        /* Nested records and a named-type reference. */
        {"{'type':'record','name':'Outer','namespace':'ns','fields':["
         "{'name':'a','type':{'type':'record','name':'In','fields':[{'name':'x','type':'int'}]}},"
         "{'name':'b','type':'In'},{'name':'c','type':'ns.In'},{'name':'d','type':['null','In']}]}",
         "{'a':{'x':1},'b':{'x':2},'c':{'x':3},'d':{'x':4}}", NULL},
        /* A recursive type (a linked list) refers to itself by name. */
        {"{'type':'record','name':'Node','fields':[{'name':'v','type':'int'},"
         "{'name':'next','type':['null','Node']}]}",
         "{'v':1,'next':{'v':2,'next':{'v':3,'next':null}}}", NULL},
        /* An enum defined once and referred to by name in a namespace. */
        {"{'type':'record','name':'R','namespace':'a.b','fields':["
         "{'name':'e1','type':{'type':'enum','name':'Color','symbols':['RED','GREEN']}},"
         "{'name':'e2','type':'Color'},{'name':'e3','type':'a.b.Color'}]}",
         "{'e1':'RED','e2':'GREEN','e3':'RED'}", NULL},
        /* Defaults fill missing fields. */
        {"{'type':'record','name':'R','fields':[{'name':'a','type':['null','string'],'default':null},"
         "{'name':'b','type':'int','default':7},{'name':'c','type':'string','default':'dflt'}]}",
         "{}", "{'a':null,'b':7,'c':'dflt'}"},
        /* Unions: plain values pick the first branch they fit. */
        {"['null','int','string','double']", "null", NULL},
        {"['null','int','string','double']", "5", NULL},
        {"['null','int','string','double']", "'s'", NULL},
        {"['null','int','string','double']", "2.5", NULL},
        {"['int','long']", "4294967296", NULL},
        /* Avro's wrapped form is accepted and decodes to the plain value. */
        {"['null','int','string']", "{'int':5}", "5"},
        {"['null','int','string']", "{'string':'x'}", "'x'"},
        {"['null','int','string']", "{'null':null}", "null"},
        {"['null',{'type':'map','values':'int'}]", "{'map':{'a':1}}", "{'a':1}"},
        {"['null',{'type':'array','items':'int'}]", "{'array':[1]}", "[1]"},
        {"['null',{'type':'fixed','name':'F4','namespace':'n','size':4}]", "{'n.F4':'abcd'}", "'abcd'"},
        {"['null',{'type':'int','logicalType':'date'}]", "{'int':'2024-02-29'}", "'2024-02-29'"},
        {"['null',{'type':'int','logicalType':'date'}]", "'2024-02-29'", NULL},
        {"['null',{'type':'long','logicalType':'timestamp-millis'}]", "'2024-02-29T23:59:59.999Z'", NULL},
        /* A map with one entry is not taken for a wrapped union value. */
        {"['null',{'type':'map','values':'int'}]", "{'k':1}", NULL},
        /* Logical types in their other accepted forms come back canonical. */
        {"{'type':'int','logicalType':'date'}", "19782", "'2024-02-29'"},
        {"{'type':'int','logicalType':'date'}", "-1", "'1969-12-31'"},
        {"{'type':'long','logicalType':'timestamp-millis'}", "1704110400000", "'2024-01-01T12:00:00.000Z'"},
        {"{'type':'long','logicalType':'timestamp-millis'}", "'2024-01-01T12:00:00Z'",
         "'2024-01-01T12:00:00.000Z'"},
        {"{'type':'long','logicalType':'timestamp-millis'}", "'2024-01-01T12:00:00.5Z'",
         "'2024-01-01T12:00:00.500Z'"},
        {"{'type':'long','logicalType':'timestamp-millis'}", "'2024-01-01T12:00:00.12Z'",
         "'2024-01-01T12:00:00.120Z'"},
        {"{'type':'long','logicalType':'timestamp-millis'}", "'2024-01-01T12:00:00+00:00'",
         "'2024-01-01T12:00:00.000Z'"},
        /* An unknown logical type is ignored: the underlying type is used. */
        {"{'type':'string','logicalType':'uuid'}", "'0b5e5c7a-0000-4000-8000-000000000000'", NULL},
        {"{'type':'long','logicalType':'time-micros'}", "42", NULL},
};
#define N_RT_CASES (sizeof(rt_cases) / sizeof(*rt_cases))

START_TEST(test_round_trip_gives_equal_json) {
        sb_schema_t *s = test_schema_q(rt_cases[_i].schema);
        json_t *v = test_json_q(rt_cases[_i].value);
        json_t *want = test_json_q(rt_cases[_i].want ? rt_cases[_i].want : rt_cases[_i].value);
        json_t *got = round_trip(s, v);
        assert_json_eq(got, want);
        json_decref(got);
        json_decref(want);
        json_decref(v);
        sb_schema_destroy(s);
}
END_TEST

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

        encode_ok(logical, v, &buf);
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
                encode_ok(date, v, &buf);
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

/* ---- values that do not fit: SB_ERR_INVALID, naming the path and reason ---- */

/* An envelope-like record, so paths read as the producer's do. */
static const char row_schema[] =
        "{'type':'record','name':'Outer','namespace':'test','fields':["
        " {'name':'after','type':['null',{'type':'record','name':'Row','fields':["
        "  {'name':'s','type':'string'},"
        "  {'name':'i','type':'int'},"
        "  {'name':'l','type':'long'},"
        "  {'name':'d','type':'double'},"
        "  {'name':'f','type':'float'},"
        "  {'name':'b','type':'boolean'},"
        "  {'name':'ns','type':['null','string'],'default':null},"
        "  {'name':'e','type':{'type':'enum','name':'E','symbols':['A','B']}},"
        "  {'name':'dt','type':{'type':'int','logicalType':'date'}},"
        "  {'name':'ts','type':{'type':'long','logicalType':'timestamp-millis'}},"
        "  {'name':'by','type':'bytes'},"
        "  {'name':'fx','type':{'type':'fixed','name':'F','size':4}},"
        "  {'name':'arr','type':{'type':'array','items':'int'}},"
        "  {'name':'m','type':{'type':'map','values':'long'}},"
        "  {'name':'rec','type':{'type':'record','name':'Inner','fields':[{'name':'x','type':'int'}]}},"
        "  {'name':'ref','type':'Inner'},"
        "  {'name':'u','type':['null','int','string','E']},"
        "  {'name':'nn','type':['int','string']}"
        " ]}]}]}";

static const char row_value[] = "{'s':'x','i':1,'l':2,'d':1.5,'f':0.5,'b':true,'ns':null,'e':'A',"
                                "'dt':'2024-02-29','ts':'2024-02-29T12:34:56.789Z','by':'ab','fx':'abcd',"
                                "'arr':[1,2],'m':{'k':3},'rec':{'x':4},'ref':{'x':5},'u':7,'nn':8}";

START_TEST(test_full_row_round_trips) {
        sb_schema_t *s = test_schema_q(row_schema);
        json_t *row = test_json_q(row_value);
        json_t *v = json_pack("{s:O}", "after", row);
        json_t *got = round_trip(s, v);
        assert_json_eq(got, v);
        json_decref(got);
        json_decref(v);
        json_decref(row);
        sb_schema_destroy(s);
}
END_TEST

static const struct {
        const char *field; /* field of the row to set */
        const char *bad;   /* its value; NULL removes the field */
        const char *path;  /* NULL: "after.<field>" */
        const char *reason;
} field_errors[] = {
        {"s", "1", NULL, "expected a string, got integer"},
        {"s", "null", NULL, "expected a string, got null"},
        {"s", "['x']", NULL, "expected a string, got array"},
        {"s", "{'a':1}", NULL, "expected a string, got object"},
        {"i", "'1'", NULL, "expected an integer, got string"},
        {"i", "1.5", NULL, "expected an integer, got number"},
        {"i", "true", NULL, "expected an integer, got boolean"},
        {"i", "null", NULL, "expected an integer, got null"},
        {"i", "2147483648", NULL, "does not fit in an int"},
        {"i", "-2147483649", NULL, "does not fit in an int"},
        {"i", "9223372036854775807", NULL, "does not fit in an int"},
        {"l", "'2'", NULL, "expected an integer, got string"},
        {"l", "2.0", NULL, "expected an integer, got number"},
        {"l", "false", NULL, "expected an integer, got boolean"},
        {"d", "'1.5'", NULL, "expected a number, got string"},
        {"d", "null", NULL, "expected a number, got null"},
        {"d", "true", NULL, "expected a number, got boolean"},
        {"f", "'x'", NULL, "expected a number, got string"},
        {"f", "[]", NULL, "expected a number, got array"},
        {"b", "1", NULL, "expected true or false, got integer"},
        {"b", "'true'", NULL, "expected true or false, got string"},
        {"b", "null", NULL, "expected true or false, got null"},
        {"ns", "5", NULL, "expected a string, got integer"},
        {"ns", "{}", NULL, "got object"},
        {"ns", "false", NULL, "got boolean"},
        {"e", "'C'", NULL, "'C' is not a symbol of enum test.E"},
        {"e", "'a'", NULL, "'a' is not a symbol of enum test.E"},
        {"e", "''", NULL, "is not a symbol of enum test.E"},
        {"e", "0", NULL, "expected an enum symbol, got integer"},
        {"e", "null", NULL, "expected an enum symbol, got null"},
        {"dt", "'2024-02-30'", NULL, "'2024-02-30' is not a date YYYY-MM-DD"},
        {"dt", "'2023-02-29'", NULL, "is not a date"},
        {"dt", "'2100-02-29'", NULL, "is not a date"},
        {"dt", "'1900-02-29'", NULL, "is not a date"},
        {"dt", "'2024-13-01'", NULL, "is not a date"},
        {"dt", "'2024-00-10'", NULL, "is not a date"},
        {"dt", "'2024-04-31'", NULL, "is not a date"},
        {"dt", "'2024-01-00'", NULL, "is not a date"},
        {"dt", "'2024-01-32'", NULL, "is not a date"},
        {"dt", "'20240101'", NULL, "'20240101' is not a date"},
        {"dt", "'2024-1-1'", NULL, "'2024-1-1' is not a date"},
        {"dt", "'2024-01-1'", NULL, "is not a date"},
        {"dt", "'24-01-01'", NULL, "is not a date"},
        {"dt", "'2024-01--1'", NULL, "is not a date"},
        {"dt", "''", NULL, "is not a date"},
        {"dt", "'2024-01-01 '", NULL, "is not a date"},
        {"dt", "'2024-01-01T00:00:00Z'", NULL, "is not a date"},
        {"dt", "'2024/01/01'", NULL, "is not a date"},
        {"dt", "'yesterday'", NULL, "is not a date"},
        {"dt", "1.5", NULL, "expected a date \"YYYY-MM-DD\", got number"},
        {"dt", "true", NULL, "expected a date"},
        {"dt", "2147483648", NULL, "does not fit in an int"},
        {"ts", "'2024-01-01T00:00:00'", NULL, "is not a UTC timestamp"},
        {"ts", "'2024-01-01T00:00:00.000'", NULL, "is not a UTC timestamp"},
        {"ts", "'2024-01-01T24:00:00Z'", NULL, "is not a UTC timestamp"},
        {"ts", "'2024-01-01T99:00:00Z'", NULL, "is not a UTC timestamp"},
        {"ts", "'2024-01-01T23:60:00Z'", NULL, "is not a UTC timestamp"},
        {"ts", "'2024-01-01T23:59:61Z'", NULL, "is not a UTC timestamp"},
        {"ts", "'2024-01-01T1:00:00Z'", NULL, "is not a UTC timestamp"},
        {"ts", "'2024-01-01T00:00Z'", NULL, "is not a UTC timestamp"},
        {"ts", "'2024-01-01T00:00:00.Z'", NULL, "is not a UTC timestamp"},
        {"ts", "'2024-01-01T00:00:00+08:00'", NULL, "is not a UTC timestamp"},
        {"ts", "'2024-01-01T00:00:00z'", NULL, "is not a UTC timestamp"},
        {"ts", "'2024-01-01T00:00:00ZZ'", NULL, "is not a UTC timestamp"},
        {"ts", "'2024-02-30T00:00:00Z'", NULL, "is not a UTC timestamp"},
        {"ts", "'2024-01-01'", NULL, "is not a UTC timestamp"},
        {"ts", "'2024-01-01X00:00:00Z'", NULL, "is not a UTC timestamp"},
        {"ts", "''", NULL, "is not a UTC timestamp"},
        {"ts", "1.5", NULL, "expected a timestamp"},
        {"ts", "null", NULL, "expected a timestamp"},
        {"by", "5", NULL, "expected a string of bytes, got integer"},
        {"by", "'\\u0100'", NULL, "bytes must be code points 0..255"},
        {"by", "'ab\\u20ac'", NULL, "bytes must be code points 0..255"},
        {"by", "'\\ud83d\\ude00'", NULL, "bytes must be code points 0..255"},
        {"fx", "'abc'", NULL, "fixed test.F takes 4 bytes, got 3"},
        {"fx", "'abcde'", NULL, "fixed test.F takes 4 bytes, got 5"},
        {"fx", "''", NULL, "takes 4 bytes, got 0"},
        {"fx", "'ab\\u0100'", NULL, "bytes must be code points 0..255"},
        {"fx", "4", NULL, "expected a string of bytes, got integer"},
        {"arr", "5", NULL, "expected an array, got integer"},
        {"arr", "{'0':1}", NULL, "expected an array, got object"},
        {"arr", "[1,'x']", "after.arr[1]", "expected an integer, got string"},
        {"arr", "[1,2,3000000000]", "after.arr[2]", "does not fit in an int"},
        {"m", "[]", NULL, "expected an object (map), got array"},
        {"m", "{'k':'x'}", "after.m.k", "expected an integer, got string"},
        {"m", "{'a':1,'bad':null}", "after.m.bad", "expected an integer, got null"},
        {"rec", "5", NULL, "expected an object, got integer"},
        {"rec", "null", NULL, "expected an object, got null"},
        {"rec", "{'x':'y'}", "after.rec.x", "expected an integer, got string"},
        {"rec", "{}", "after.rec.x", "missing required field"},
        {"rec", "{'x':1,'y':2}", "after.rec.y", "unknown field"},
        {"ref", "{'x':'no'}", "after.ref.x", "expected an integer, got string"},
        {"ref", "[]", NULL, "expected an object, got array"},
        {"u", "1.5", NULL, "got number"},
        {"u", "[]", NULL, "got array"},
        {"u", "true", NULL, "got boolean"},
        {"u", "{'int':'x'}", NULL, "expected an integer, got string"},
        {"u", "{'test.E':'Z'}", NULL, "'Z' is not a symbol of enum test.E"},
        {"u", "{'long':5}", NULL, "got object"},
        {"nn", "null", NULL, "null is not allowed here"},
        {"nn", "1.5", NULL, "got number"},
        /* Missing required fields (no default) and unknown extra fields. */
        {"s", NULL, NULL, "missing required field"},
        {"dt", NULL, NULL, "missing required field"},
        {"nn", NULL, NULL, "missing required field"},
        {"zz", "1", "after.zz", "unknown field"},
        {"S", "'x'", "after.S", "unknown field (record test.Row"},
};
#define N_FIELD_ERRORS (sizeof(field_errors) / sizeof(*field_errors))

static void assert_invalid(sb_schema_t *s, const json_t *v, const char *path, const char *reason) {
        char err[512] = "";
        sb_buf_t buf;
        sb_buf_init(&buf, 1 << 20);
        sb_err_t rc = sb_avro_encode(s, v, &buf, err, sizeof(err));
        char *text = dump(v);
        ck_assert_msg(rc == SB_ERR_INVALID, "%s: got %s (%s), want SB_ERR_INVALID", text, sb_err2str(rc),
                      err);
        ck_assert_msg(strstr(err, path) != NULL, "%s: error '%s' does not name path '%s'", text, err, path);
        ck_assert_msg(strstr(err, reason) != NULL, "%s: error '%s' does not say '%s'", text, err, reason);
        free(text);
        sb_buf_free(&buf);
}

START_TEST(test_bad_field_value_is_refused_with_path_and_reason) {
        sb_schema_t *s = test_schema_q(row_schema);
        json_t *row = test_json_q(row_value);
        char path[64];
        if (field_errors[_i].bad)
                json_object_set_new(row, field_errors[_i].field, test_json_q(field_errors[_i].bad));
        else
                ck_assert_int_eq(json_object_del(row, field_errors[_i].field), 0);
        json_t *v = json_pack("{s:o}", "after", row);
        snprintf(path, sizeof(path), "after.%s", field_errors[_i].field);
        assert_invalid(s, v, field_errors[_i].path ? field_errors[_i].path : path, field_errors[_i].reason);
        json_decref(v);
        sb_schema_destroy(s);
}
END_TEST

START_TEST(test_error_names_path_first) {
        /* The message reads "<path>: <reason>", as the header documents. */
        sb_schema_t *s = test_schema_q(row_schema);
        json_t *row = test_json_q(row_value);
        char err[512] = "";
        sb_buf_t buf;
        json_object_set_new(row, "d", json_string("lots"));
        json_t *v = json_pack("{s:o}", "after", row);
        sb_buf_init(&buf, 1 << 20);
        ck_assert_int_eq(sb_avro_encode(s, v, &buf, err, sizeof(err)), SB_ERR_INVALID);
        ck_assert_str_eq(err, "after.d: expected a number, got string");
        sb_buf_free(&buf);
        json_decref(v);
        sb_schema_destroy(s);
}
END_TEST

static const struct {
        const char *schema, *value, *path, *reason;
} value_errors[] = {
        {"'int'", "'x'", "(value)", "expected an integer, got string"},
        {"'null'", "0", "(value)", "expected null, got integer"},
        {"['int','string']", "null", "(value)", "null is not allowed here"},
        {"{'type':'record','name':'R','fields':[{'name':'a','type':'int'}]}", "null", "(value)",
         "expected an object, got null"},
        {"{'type':'record','name':'R','fields':[{'name':'a','type':'int'}]}", "[1]", "(value)",
         "expected an object, got array"},
        {"{'type':'record','name':'R','fields':[{'name':'a','type':'int'}]}", "{'a':1,'b':2}", "b",
         "unknown field (record R"},
        {"{'type':'record','name':'R','fields':[{'name':'x','type':['int','string']}]}", "{'x':null}", "x",
         "null is not allowed here"},
        {"{'type':'array','items':{'type':'record','name':'R','fields':[{'name':'a','type':'int'}]}}",
         "[{'a':1},{'a':'no'}]", "[1].a", "expected an integer, got string"},
        {"{'type':'map','values':{'type':'array','items':'int'}}", "{'k':[1,'z']}", "k[1]",
         "expected an integer, got string"},
        {"{'type':'record','name':'A','fields':[{'name':'b','type':{'type':'record','name':'B','fields':["
         "{'name':'c','type':{'type':'record','name':'C','fields':[{'name':'d','type':'long'}]}}]}}]}",
         "{'b':{'c':{'d':'deep'}}}", "b.c.d", "expected an integer, got string"},
        {"{'type':'record','name':'Node','fields':[{'name':'v','type':'int'},"
         "{'name':'next','type':['null','Node']}]}",
         "{'v':1,'next':{'v':2,'next':{'v':'three','next':null}}}", "next.next.v",
         "expected an integer, got string"},
        {"{'type':'int','logicalType':'date'}", "'2024-02-30'", "(value)", "is not a date"},
        {"{'type':'fixed','name':'F','size':1}", "'\\u00ff\\u00ff'", "(value)", "takes 1 bytes, got 2"},
};
#define N_VALUE_ERRORS (sizeof(value_errors) / sizeof(*value_errors))

START_TEST(test_bad_value_is_refused_with_path_and_reason) {
        sb_schema_t *s = test_schema_q(value_errors[_i].schema);
        json_t *v = test_json_q(value_errors[_i].value);
        assert_invalid(s, v, value_errors[_i].path, value_errors[_i].reason);
        json_decref(v);
        sb_schema_destroy(s);
}
END_TEST

START_TEST(test_failed_encode_leaves_handle_usable) {
        sb_schema_t *s = test_schema_q(row_schema);
        json_t *row = test_json_q(row_value);
        json_t *good = json_pack("{s:o}", "after", json_deep_copy(row));
        json_object_set_new(row, "arr", test_json_q("[1,'x']"));
        json_t *bad = json_pack("{s:o}", "after", json_deep_copy(row));
        assert_invalid(s, bad, "after.arr[1]", "expected an integer");
        json_t *got = round_trip(s, good);
        assert_json_eq(got, good);
        /* The path of a later error is not polluted by the earlier one. */
        json_object_set_new(row, "arr", test_json_q("[1]"));
        json_object_set_new(row, "i", json_string("1"));
        json_t *bad2 = json_pack("{s:o}", "after", json_deep_copy(row));
        char err[512] = "";
        sb_buf_t buf;
        sb_buf_init(&buf, 1 << 20);
        ck_assert_int_eq(sb_avro_encode(s, bad2, &buf, err, sizeof(err)), SB_ERR_INVALID);
        ck_assert_str_eq(err, "after.i: expected an integer, got string");
        sb_buf_free(&buf);
        json_decref(bad2);
        json_decref(got);
        json_decref(bad);
        json_decref(good);
        json_decref(row);
        sb_schema_destroy(s);
}
END_TEST

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
        size_t len = unhex(decode_errors[_i].hex, body, sizeof(body));
        char err[512] = "";
        json_t *out = (json_t *)1;
        sb_err_t rc = sb_avro_decode(s, body, len, &out, err, sizeof(err));
        char *got = NULL;
        if (rc == SB_OK)
                got = dump(out);
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
        json_t *got = round_trip(s, v);
        assert_json_eq(got, v);
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
        encode_ok(s, v, &buf);
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
        sb_schema_t *s = test_schema_q(row_schema);
        json_t *row = test_json_q(row_value);
        json_t *v = json_pack("{s:o}", "after", row), *out = NULL;
        char err[512] = "";
        sb_buf_t buf;
        encode_ok(s, v, &buf);
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
        assert_json_eq(out, w);
        json_decref(w);
        json_decref(out);
        sb_schema_destroy(s);
}
END_TEST

/* ---- invalid schemas ---- */

static const char *const bad_schemas[] = {
        "",
        "not json",
        "{'type':",
        "{}",
        "42",
        "null",
        "'nosuch'",
        "{'type':'nosuch'}",
        "{'type':'record','name':'R'}",
        "{'type':'record','name':'R','fields':{}}",
        "{'type':'record','fields':[]}",
        "{'type':'record','name':'R','fields':[{'type':'int'}]}",
        "{'type':'record','name':'R','fields':[{'name':'a'}]}",
        "{'type':'record','name':'R','fields':[{'name':'a','type':'Undefined'}]}",
        "{'type':'enum','name':'E'}",
        "{'type':'enum','symbols':['A']}",
        "{'type':'fixed','name':'F'}",
        "{'type':'array'}",
        "{'type':'map'}",
};
#define N_BAD_SCHEMAS (sizeof(bad_schemas) / sizeof(*bad_schemas))

START_TEST(test_invalid_schema_is_refused_with_message) {
        char *t = test_q2j(bad_schemas[_i]);
        sb_schema_t *s = (sb_schema_t *)1;
        char err[512] = "";
        sb_err_t rc = sb_schema_new(t, strlen(t), &s, err, sizeof(err));
        ck_assert_msg(rc == SB_ERR_SCHEMA, "schema %s: got %s, want SB_ERR_SCHEMA", t, sb_err2str(rc));
        ck_assert_ptr_null(s);
        ck_assert_msg(strlen(err) > 5, "schema %s: no message", t);
        free(t);
}
END_TEST

START_TEST(test_schema_not_json_says_so) {
        sb_schema_t *s;
        char err[512] = "";
        ck_assert_int_eq(sb_schema_new("{\"type\":", 8, &s, err, sizeof(err)), SB_ERR_SCHEMA);
        ck_assert_msg(strstr(err, "not JSON"), "error: %s", err);
}
END_TEST

START_TEST(test_schema_unknown_type_names_it) {
        sb_schema_t *s;
        char err[512] = "";
        char *t = test_q2j("{'type':'record','name':'R','fields':[{'name':'a','type':'Nosuch'}]}");
        ck_assert_int_eq(sb_schema_new(t, strlen(t), &s, err, sizeof(err)), SB_ERR_SCHEMA);
        ck_assert_msg(strstr(err, "Nosuch"), "error: %s", err);
        free(t);
}
END_TEST

/* ---- canonical text ---- */

START_TEST(test_canonical_text_ignores_key_order_and_whitespace) {
        sb_schema_t *a = test_schema_q(
                "{'type':'record','name':'R','namespace':'n','fields':["
                "{'name':'a','type':'int'},{'name':'b','type':['null','string'],'default':null}]}");
        sb_schema_t *b = test_schema_q("  {\n  'fields' : [ { 'type' : 'int' , 'name' : 'a' } ,\n"
                                       "\t{'default':null, 'type':[ 'null', 'string' ], 'name':'b'} ],\n"
                                       " 'namespace':'n', 'name' : 'R', 'type':'record' }\n");
        sb_schema_t *c = test_schema_q(
                "{'type':'record','name':'R','namespace':'n','fields':["
                "{'name':'b','type':['null','string'],'default':null},{'name':'a','type':'int'}]}");
        ck_assert_str_eq(sb_schema_json(a), sb_schema_json(b));
        /* Field order is meaningful: it must change the text. */
        ck_assert_str_ne(sb_schema_json(a), sb_schema_json(c));
        /* Compact and sorted. */
        ck_assert_ptr_null(strchr(sb_schema_json(b), ' '));
        ck_assert_ptr_null(strchr(sb_schema_json(b), '\n'));
        ck_assert_str_eq(
                sb_schema_json(a),
                "{\"fields\":[{\"name\":\"a\",\"type\":\"int\"},{\"default\":null,\"name\":\"b\","
                "\"type\":[\"null\",\"string\"]}],\"name\":\"R\",\"namespace\":\"n\",\"type\":\"record\"}");
        sb_schema_destroy(a);
        sb_schema_destroy(b);
        sb_schema_destroy(c);
}
END_TEST

START_TEST(test_canonical_text_of_primitive) {
        sb_schema_t *a = test_schema_q(" 'string' ");
        ck_assert_str_eq(sb_schema_json(a), "\"string\"");
        sb_schema_destroy(a);
}
END_TEST

/* ---- the real dataset schemas ---- */

START_TEST(test_dataset_schema_files_load) {
        glob_t g;
        char pattern[4096];
        snprintf(pattern, sizeof(pattern), "%s", test_src_path("schemas/datasets/*.avsc"));
        ck_assert_int_eq(glob(pattern, 0, NULL, &g), 0);
        ck_assert_uint_ge(g.gl_pathc, 6);
        for (size_t i = 0; i < g.gl_pathc; i++) {
                sb_schema_t *s = NULL;
                TEST_CALL(sb_schema_new_from_file(g.gl_pathv[i], &s, TEST_ERR));
                const sb_node_t *root = sb_schema_root(s);
                ck_assert_int_eq(sb_node_type(root), SB_T_RECORD);
                ck_assert_uint_ge(sb_node_count(root), 1);
                ck_assert_ptr_nonnull(sb_node_name(root));
                /* The file's text and the canonical text parse to the same JSON. */
                json_t *canon = json_loads(sb_schema_json(s), JSON_DECODE_ANY, NULL);
                ck_assert_ptr_nonnull(canon);
                ck_assert(json_equal(canon, sb_schema_document(s)));
                json_decref(canon);
                /* Key schemas: every field is a string identifier. */
                if (strstr(g.gl_pathv[i], ".key.avsc"))
                        for (size_t f = 0; f < sb_node_count(root); f++)
                                ck_assert_int_eq(sb_node_type(sb_node_child(root, f)), SB_T_STRING);
                sb_schema_destroy(s);
        }
        globfree(&g);
}
END_TEST

START_TEST(test_market_row_schema_tree) {
        sb_schema_t *s = NULL;
        TEST_CALL(sb_schema_new_from_file(test_src_path("schemas/datasets/market.business_license.row.avsc"),
                                          &s, TEST_ERR));
        const sb_node_t *r = sb_schema_root(s);
        ck_assert_str_eq(sb_node_name(r), "market.business_license.Value");
        ck_assert_uint_eq(sb_node_count(r), 9);
        ck_assert_str_eq(sb_node_field_name(r, 0), "uscc");
        ck_assert_int_eq(sb_node_field_index(r, "uscc"), 0);
        ck_assert_int_eq(sb_node_field_index(r, "updated_at"), 8);
        ck_assert_int_eq(sb_node_field_index(r, "nosuch"), -1);
        ck_assert_ptr_null(sb_node_field_name(r, 9));
        ck_assert_ptr_null(sb_node_child(r, 9));

        const sb_node_t *cap = sb_node_child(r, (size_t)sb_node_field_index(r, "registered_capital"));
        ck_assert_int_eq(sb_node_type(cap), SB_T_DOUBLE);
        ck_assert_str_eq(
                json_string_value(json_object_get(
                        sb_node_field_json(r, (size_t)sb_node_field_index(r, "registered_capital")), "doc")),
                "Registered capital, in ten thousand yuan");

        const sb_node_t *scope = sb_node_child(r, (size_t)sb_node_field_index(r, "business_scope"));
        ck_assert_int_eq(sb_node_type(scope), SB_T_UNION);
        ck_assert_uint_eq(sb_node_count(scope), 2);
        ck_assert_int_eq(sb_node_type(sb_node_unwrap_nullable(scope)), SB_T_STRING);
        ck_assert_ptr_eq(sb_node_unwrap_nullable(cap), cap);

        const sb_node_t *status = sb_node_child(r, (size_t)sb_node_field_index(r, "status"));
        ck_assert_int_eq(sb_node_type(status), SB_T_ENUM);
        ck_assert_str_eq(sb_node_name(status), "market.business_license.LicenseStatus");
        ck_assert_uint_eq(sb_node_count(status), 4);
        ck_assert_str_eq(sb_node_symbol(status, 0), "ACTIVE");
        ck_assert_str_eq(sb_node_symbol(status, 3), "CANCELLED");
        ck_assert_ptr_null(sb_node_symbol(status, 4));

        const sb_node_t *est = sb_node_child(r, (size_t)sb_node_field_index(r, "established_on"));
        ck_assert_int_eq(sb_node_type(est), SB_T_INT);
        ck_assert_int_eq(sb_node_logical(est), SB_LOGICAL_DATE);
        const sb_node_t *upd = sb_node_child(r, (size_t)sb_node_field_index(r, "updated_at"));
        ck_assert_int_eq(sb_node_type(upd), SB_T_LONG);
        ck_assert_int_eq(sb_node_logical(upd), SB_LOGICAL_TIMESTAMP_MILLIS);
        ck_assert_int_eq(sb_node_logical(cap), SB_LOGICAL_NONE);
        sb_schema_destroy(s);
}
END_TEST

START_TEST(test_array_and_map_children) {
        sb_schema_t *s = test_schema_q("{'type':'record','name':'R','fields':["
                                       "{'name':'a','type':{'type':'array','items':'string'}},"
                                       "{'name':'m','type':{'type':'map','values':'double'}}]}");
        const sb_node_t *r = sb_schema_root(s);
        const sb_node_t *a = sb_node_child(r, 0), *m = sb_node_child(r, 1);
        ck_assert_int_eq(sb_node_type(a), SB_T_ARRAY);
        ck_assert_int_eq(sb_node_type(sb_node_child(a, 0)), SB_T_STRING);
        ck_assert_int_eq(sb_node_type(m), SB_T_MAP);
        ck_assert_int_eq(sb_node_type(sb_node_child(m, 0)), SB_T_DOUBLE);
        ck_assert_str_eq(sb_schema_type_name(SB_T_MAP), "map");
        ck_assert_str_eq(sb_schema_type_name(SB_T_FIXED), "fixed");
        ck_assert_str_eq(sb_schema_type_name(SB_T_NULL), "null");
        sb_schema_destroy(s);
}
END_TEST

START_TEST(test_schema_file_errors_name_the_path) {
        sb_schema_t *s = (sb_schema_t *)1;
        char err[512] = "";
        ck_assert_int_eq(sb_schema_new_from_file("/nonexistent/x.avsc", &s, err, sizeof(err)), SB_ERR_IO);
        ck_assert_ptr_null(s);
        ck_assert_msg(strstr(err, "/nonexistent/x.avsc"), "error: %s", err);
        const char *path = test_write_temp("{\"type\": \"record\", \"name\": \"R\"}", ".avsc");
        s = (sb_schema_t *)1;
        ck_assert_int_eq(sb_schema_new_from_file(path, &s, err, sizeof(err)), SB_ERR_SCHEMA);
        ck_assert_ptr_null(s);
        ck_assert_msg(strstr(err, path), "error: %s", err);
        unlink(path);
}
END_TEST

/* The sample datasets' rows, in the form producers write them. */
static const struct {
        const char *file, *row;
} sample_rows[] = {
        {"schemas/datasets/market.business_license.row.avsc",
         "{'uscc':'91350100M000100Y43','name':'Fuzhou Co.','legal_representative':'Lin',"
         "'registered_capital':1234.5,'business_scope':null,'status':'SUSPENDED',"
         "'established_on':'1996-02-29','address':'No. 1','updated_at':'2025-01-01T08:00:00.123Z'}"},
        {"schemas/datasets/civil.resident.row.avsc",
         "{'id_number':'11010519491231002X','name':'Wang Wei','gender':'FEMALE','birth_date':'1949-12-31',"
         "'phone':'13800000000','address':'Room 1','district_code':'110105','married':false,"
         "'updated_at':'1969-07-20T20:17:40.000Z'}"},
        {"schemas/datasets/tax.taxpayer.row.avsc",
         "{'taxpayer_id':'91350100M000100Y43','name':'T Ltd.','taxpayer_type':'SMALL_SCALE',"
         "'tax_authority':'Bureau','registered_on':'2000-02-29','credit_rating':'A','employee_count':12,"
         "'annual_revenue':null,'active':true,'updated_at':'2024-12-31T23:59:59.999Z'}"},
};

START_TEST(test_sample_dataset_row_round_trips) {
        sb_schema_t *s = NULL;
        TEST_CALL(sb_schema_new_from_file(test_src_path(sample_rows[_i].file), &s, TEST_ERR));
        json_t *row = test_json_q(sample_rows[_i].row);
        json_t *got = round_trip(s, row);
        assert_json_eq(got, row);
        json_decref(got);
        json_decref(row);
        sb_schema_destroy(s);
}
END_TEST

START_TEST(test_sample_dataset_named_error) {
        /* The header's own example: a string where a double belongs. */
        sb_schema_t *s = NULL;
        TEST_CALL(sb_schema_new_from_file(test_src_path(sample_rows[0].file), &s, TEST_ERR));
        json_t *row = test_json_q(sample_rows[0].row);
        json_object_set_new(row, "registered_capital", json_string("a lot"));
        char *row_schema_text = json_dumps(sb_schema_document(s), JSON_COMPACT);
        /* Wrap it the way the envelope does, so the path starts at "after". */
        size_t size = strlen(row_schema_text) + 128;
        char *outer = malloc(size);
        snprintf(outer, size,
                 "{\"type\":\"record\",\"name\":\"E\",\"fields\":[{\"name\":\"after\",\"type\":[\"null\",%s]}"
                 "]}",
                 row_schema_text);
        sb_schema_t *env = NULL;
        TEST_CALL(sb_schema_new(outer, strlen(outer), &env, TEST_ERR));
        json_t *v = json_pack("{s:o}", "after", row);
        assert_invalid(env, v, "after.registered_capital", "expected a number");
        json_decref(v);
        free(outer);
        free(row_schema_text);
        sb_schema_destroy(env);
        sb_schema_destroy(s);
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
        assert_invalid(s, v, "(value)", "is not a date");
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
        assert_invalid(s, v, "(value)", "is not a UTC timestamp");
        json_decref(v);
        sb_schema_destroy(s);
}
END_TEST

START_TEST(test_bug_float_out_of_range_is_accepted_but_cannot_be_decoded) {
        /* 1e39 does not fit in a float: encoding should refuse it; instead it
         * is written as +inf and the decoder then fails on it. */
        sb_schema_t *s = test_schema_q("'float'");
        json_t *v = json_real(1e39);
        assert_invalid(s, v, "(value)", "");
        json_decref(v);
        sb_schema_destroy(s);
}
END_TEST

START_TEST(test_bug_wrapped_union_form_refused_for_record_branch) {
        /* Avro's JSON form of a record branch: {"<fullname>": {...}}. */
        sb_schema_t *s = test_schema_q("['null',{'type':'record','name':'Rec','namespace':'n','fields':"
                                       "[{'name':'x','type':'int'}]}]");
        json_t *v = test_json_q("{'n.Rec':{'x':1}}"), *want = test_json_q("{'x':1}");
        json_t *got = round_trip(s, v);
        assert_json_eq(got, want);
        json_decref(got);
        json_decref(want);
        json_decref(v);
        sb_schema_destroy(s);
}
END_TEST

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
        size_t len = unhex(unsafe_bodies[_i].hex, body, sizeof(body));
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
        truncated_at_every_length_fails(row_schema, row_value, 1);
}
END_TEST

START_TEST(test_bug_decode_garbage_with_strings_is_unsafe) { garbage_never_crashes(row_schema); }
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

/* The Avro specification forbids these; avro-c 1.11 accepts them, so the
 * registry would hand out ids for schemas other clients refuse. */
static const char *const spec_invalid_schemas[] = {
        "['int','int']",                                  /* two branches of the same unnamed type */
        "['null',['int']]",                               /* a union directly inside a union */
        "{'type':'enum','name':'E','symbols':['A','A']}", /* duplicate symbol */
        "{'type':'record','name':'R','fields':[{'name':'a','type':'int'},{'name':'a','type':'long'}]}",
};

START_TEST(test_bug_spec_invalid_schema_is_accepted) {
        char *t = test_q2j(spec_invalid_schemas[_i]);
        sb_schema_t *s = NULL;
        char err[512] = "";
        sb_err_t rc = sb_schema_new(t, strlen(t), &s, err, sizeof(err));
        sb_schema_destroy(s);
        ck_assert_msg(rc == SB_ERR_SCHEMA, "schema %s: got %s, want SB_ERR_SCHEMA", t, sb_err2str(rc));
        free(t);
}
END_TEST

int main(void) {
        Suite *s = suite_create("avro");
        TCase *tc = tcase_create("encode");
        tcase_set_timeout(tc, 60);
        tcase_add_loop_test(tc, test_encode_gives_known_bytes, 0, N_BYTES_CASES);
        tcase_add_test(tc, test_encode_appends_to_existing_buffer);
        tcase_add_test(tc, test_encode_reuses_handle_without_state_leaking_between_values);
        tcase_add_loop_test(tc, test_round_trip_gives_equal_json, 0, N_RT_CASES);
        tcase_add_test(tc, test_full_row_round_trips);
        suite_add_tcase(s, tc);

        tc = tcase_create("logical");
        tcase_set_timeout(tc, 120);
        tcase_add_loop_test(tc, test_date_text_and_days_agree, 0, N_DATE_CASES);
        tcase_add_loop_test(tc, test_timestamp_text_and_millis_agree, 0, N_TS_CASES);
        tcase_add_test(tc, test_format_date_every_day_of_400_years_round_trips);
        suite_add_tcase(s, tc);

        tc = tcase_create("invalid_values");
        tcase_add_loop_test(tc, test_bad_field_value_is_refused_with_path_and_reason, 0, N_FIELD_ERRORS);
        tcase_add_test(tc, test_error_names_path_first);
        tcase_add_loop_test(tc, test_bad_value_is_refused_with_path_and_reason, 0, N_VALUE_ERRORS);
        tcase_add_test(tc, test_failed_encode_leaves_handle_usable);
        suite_add_tcase(s, tc);

        tc = tcase_create("decode");
        tcase_set_timeout(tc, 60);
        tcase_add_loop_test(tc, test_decode_refuses_bad_body, 0, N_DECODE_ERRORS);
        tcase_add_test(tc, test_numeric_record_round_trips);
        tcase_add_test(tc, test_decode_truncated_body_at_every_length_fails);
        tcase_add_test(tc, test_decode_trailing_byte_says_so);
        tcase_add_test(tc, test_decode_random_garbage_never_crashes);
        tcase_add_loop_test(tc, test_decode_empty_body_of_null_and_empty_record, 0, 2);
        suite_add_tcase(s, tc);

        tc = tcase_create("schema");
        tcase_add_loop_test(tc, test_invalid_schema_is_refused_with_message, 0, N_BAD_SCHEMAS);
        tcase_add_test(tc, test_schema_not_json_says_so);
        tcase_add_test(tc, test_schema_unknown_type_names_it);
        tcase_add_test(tc, test_canonical_text_ignores_key_order_and_whitespace);
        tcase_add_test(tc, test_canonical_text_of_primitive);
        tcase_add_test(tc, test_dataset_schema_files_load);
        tcase_add_test(tc, test_market_row_schema_tree);
        tcase_add_test(tc, test_array_and_map_children);
        tcase_add_test(tc, test_schema_file_errors_name_the_path);
        tcase_add_loop_test(tc, test_sample_dataset_row_round_trips, 0,
                            sizeof(sample_rows) / sizeof(*sample_rows));
        tcase_add_test(tc, test_sample_dataset_named_error);
        suite_add_tcase(s, tc);

        /* Bugs these tests found (strict dates, float range, wrapped record branches, short bodies...). */
        tc = tcase_create("regressions");
        tcase_add_loop_test(tc, test_bug_date_parser_accepts_non_digits, 0,
                            sizeof(lax_dates) / sizeof(*lax_dates));
        tcase_add_loop_test(tc, test_bug_timestamp_parser_accepts_negative_or_blank_fields, 0,
                            sizeof(lax_timestamps) / sizeof(*lax_timestamps));
        tcase_add_test(tc, test_bug_float_out_of_range_is_accepted_but_cannot_be_decoded);
        tcase_add_test(tc, test_bug_wrapped_union_form_refused_for_record_branch);
        tcase_add_loop_test(tc, test_bug_decode_truncated_string_leaks_in_avro_c, 0,
                            sizeof(unsafe_bodies) / sizeof(*unsafe_bodies));
        tcase_add_test(tc, test_bug_decode_truncated_row_leaks_in_avro_c);
        tcase_add_test(tc, test_bug_decode_garbage_with_strings_is_unsafe);
        tcase_add_test(tc, test_bug_timestamp_near_int64_min_overflows);
        tcase_add_loop_test(tc, test_bug_spec_invalid_schema_is_accepted, 0,
                            sizeof(spec_invalid_schemas) / sizeof(*spec_invalid_schemas));
        suite_add_tcase(s, tc);
        return test_run_suite(s);
}

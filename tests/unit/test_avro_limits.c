/*
 * test_avro_limits: what one Avro body may make the decoder build.  Items
 * that take no byte (nulls, empty records) are bounded for the whole body,
 * not per array: nested arrays could otherwise announce tens of millions of
 * nulls in a few hundred bytes (seconds of work and hundreds of MB for a
 * subscriber decoding one record).  Just under the bound decodes.
 */
#include <check.h>
#include <string.h>

#include "sb_avro.h"
#include "sb_schema.h"
#include "testutil.h"

#define NESTED "{\"type\":\"array\",\"items\":{\"type\":\"array\",\"items\":\"null\"}}"

/* An Avro varint (zigzag) of v into p; returns its length. */
static size_t put_long(unsigned char *p, long long v) {
        unsigned long long z = v < 0 ? ~((unsigned long long)v << 1) : (unsigned long long)v << 1;
        size_t n = 0;
        while (z >= 0x80) {
                p[n++] = (unsigned char)(z | 0x80);
                z >>= 7;
        }
        p[n++] = (unsigned char)z;
        return n;
}

/* An array of `k` arrays, the i-th of counts[i] nulls. */
static size_t body(unsigned char *b, const long long *counts, long long k) {
        size_t n = put_long(b, k);
        for (long long i = 0; i < k; i++) {
                n += put_long(b + n, counts[i]);
                b[n++] = 0;
        }
        b[n++] = 0;
        return n;
}

START_TEST(test_empty_items_are_bounded_per_body) {
        sb_schema_t *s;
        json_t *out = NULL;
        unsigned char b[512];
        char err[256];
        TEST_CALL(sb_schema_new(NESTED, strlen(NESTED), &s, TEST_ERR));
        /* 50 x 1,000,000 nulls in 202 bytes: refused before anything is built. */
        long long counts[50];
        for (int i = 0; i < 50; i++)
                counts[i] = 1000000;
        size_t n = body(b, counts, 50);
        ck_assert_uint_eq(n, 202);
        ck_assert_int_eq(sb_avro_decode(s, b, n, &out, err, sizeof(err)), SB_ERR_INVALID);
        ck_assert_ptr_null(out);
        ck_assert_msg(strstr(err, "more than 1048576 items of no bytes in one value"), "%s", err);
        /* 1,048,576 in all: the bound itself decodes; one more does not. */
        for (int i = 0; i < 5; i++)
                counts[i] = i < 4 ? 262144 : 1;
        n = body(b, counts, 4);
        TEST_CALL(sb_avro_decode(s, b, n, &out, TEST_ERR));
        ck_assert_uint_eq(json_array_size(out), 4);
        ck_assert_uint_eq(json_array_size(json_array_get(out, 3)), 262144);
        json_decref(out);
        out = NULL;
        n = body(b, counts, 5);
        ck_assert_int_eq(sb_avro_decode(s, b, n, &out, err, sizeof(err)), SB_ERR_INVALID);
        ck_assert_msg(strstr(err, "items of no bytes"), "%s", err);
        sb_schema_destroy(s);
}
END_TEST

int main(void) {
        Suite *s = suite_create("avro_limits");
        TCase *tc = tcase_create("limits");
        tcase_set_timeout(tc, 60);
        tcase_add_test(tc, test_empty_items_are_bounded_per_body);
        suite_add_tcase(s, tc);
        return test_run_suite(s);
}

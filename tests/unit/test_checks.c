/*
 * Unit tests of sb_checks: the check characters of the unified social
 * credit code (GB 32100-2015, mod 31) and the resident identity number
 * (GB 11643-1999, mod 11-2), and the sample generator's identifiers.
 *
 * The valid codes below were checked by hand against the standards'
 * algorithms (weighted sums, not this library), e.g. for 91350100M000100Y43:
 * sum of value*weight over the first 17 chars = 1640, 1640 mod 31 = 28,
 * 31 - 28 = 3 -> '3'.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sample.h"
#include "sb_checks.h"
#include "testutil.h"

static const char uscc_alphabet[] = "0123456789ABCDEFGHJKLMNPQRTUWXY";

static const char *const valid_uscc[] = {
        "91350100M000100Y43", /* the widely published sample */
        "91110000600037341L",
        "9144030071526726XG",
        "91310000775785552L",
};
#define N_VALID_USCC (sizeof(valid_uscc) / sizeof(*valid_uscc))

static const char *const valid_rid[] = {
        "11010519491231002X",                       /* the widely published sample (check char X) */
        "110101199003074477", "440524188001010014", /* the example of GB 11643-1999 */
};
#define N_VALID_RID (sizeof(valid_rid) / sizeof(*valid_rid))

/* ---- USCC ---- */

START_TEST(test_uscc_valid_codes_pass) {
        ck_assert_msg(sb_check_cn_uscc(valid_uscc[_i]), "%s refused", valid_uscc[_i]);
        ck_assert_int_eq(sb_check_cn_uscc_char(valid_uscc[_i]), valid_uscc[_i][17]);
}
END_TEST

START_TEST(test_uscc_check_char_by_hand) {
        /* A code of all '0' has sum 0, so its check char is '0'; '1' then
         * the rest '0' has sum 1, so 31 - 1 = 30 -> 'Y'. */
        ck_assert_int_eq(sb_check_cn_uscc_char("00000000000000000"), '0');
        ck_assert_int_eq(sb_check_cn_uscc_char("10000000000000000"), 'Y');
        /* Last position has weight 28: value 1 gives 31 - 28 = 3. */
        ck_assert_int_eq(sb_check_cn_uscc_char("00000000000000001"), '3');
        ck_assert(sb_check_cn_uscc("000000000000000000"));
        ck_assert(sb_check_cn_uscc("10000000000000000Y"));
}
END_TEST

START_TEST(test_uscc_every_single_char_change_is_detected) {
        /* A change at one position alters the weighted sum by
         * delta * weight, never 0 mod 31: every one must be caught. */
        const char *code = valid_uscc[_i];
        char c[19];
        int tried = 0;
        for (int pos = 0; pos < 18; pos++)
                for (int ch = 1; ch < 128; ch++) {
                        if (ch == code[pos])
                                continue;
                        memcpy(c, code, 19);
                        c[pos] = (char)ch;
                        ck_assert_msg(!sb_check_cn_uscc(c), "%s (from %s, position %d) accepted", c, code,
                                      pos);
                        tried++;
                }
        ck_assert_int_eq(tried, 18 * 126);
}
END_TEST

START_TEST(test_uscc_check_char_is_the_only_one) {
        const char *code = valid_uscc[_i];
        char c[19];
        int accepted = 0;
        memcpy(c, code, 19);
        for (const char *a = uscc_alphabet; *a; a++) {
                c[17] = *a;
                accepted += sb_check_cn_uscc(c);
        }
        ck_assert_int_eq(accepted, 1);
}
END_TEST

START_TEST(test_uscc_illegal_letters_are_refused) {
        /* I, O, Z, S and V are not in the alphabet, anywhere. */
        static const char bad[] = "IOZSV";
        for (int pos = 0; pos < 18; pos++)
                for (const char *b = bad; *b; b++) {
                        char c[19];
                        memcpy(c, valid_uscc[0], 19);
                        c[pos] = *b;
                        ck_assert_msg(!sb_check_cn_uscc(c), "%s accepted", c);
                        if (pos < 17)
                                ck_assert_int_eq(sb_check_cn_uscc_char(c), 0);
                }
}
END_TEST

/* Every byte in every position: the check character is the weighted sum
 * of the characters' places in the alphabet (GB 32100-2015), computed here
 * the plain way, or 0 for a byte not in it. */
START_TEST(test_uscc_every_byte_in_every_position) {
        static const char alphabet[] = "0123456789ABCDEFGHJKLMNPQRTUWXY";
        static const int weights[17] = {1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28};
        int refused = 0;
        for (int pos = 0; pos < 17; pos++)
                for (int b = 1; b < 256; b++) {
                        char c[19];
                        memcpy(c, valid_uscc[0], 19);
                        c[pos] = (char)b;
                        int sum = 0, ok = 1;
                        for (int i = 0; i < 17 && ok; i++) {
                                const char *at = strchr(alphabet, c[i]);
                                ok = at != NULL;
                                sum += ok ? (int)(at - alphabet) * weights[i] : 0;
                        }
                        char want = ok ? alphabet[(31 - sum % 31) % 31] : 0;
                        refused += !ok;
                        ck_assert_msg(sb_check_cn_uscc_char(c) == want, "byte %d at %d", b, pos);
                }
        ck_assert_int_eq(refused, 17 * (255 - 31));
}
END_TEST

static const char *const bad_uscc[] = {
        "",
        "9",
        "91350100M000100Y4",   /* 17 chars */
        "91350100M000100Y433", /* 19 chars */
        "91350100m000100y43",  /* lower case */
        "91350100M000100y43",
        " 91350100M000100Y4",
        "91350100M000100Y43 ",
        "91350100-000100Y43",
        "91350100M000100Y4\n",
};

START_TEST(test_uscc_malformed_codes_are_refused) {
        ck_assert_msg(!sb_check_cn_uscc(bad_uscc[_i]), "'%s' accepted", bad_uscc[_i]);
}
END_TEST

START_TEST(test_uscc_null_and_short_input) {
        ck_assert(!sb_check_cn_uscc(NULL));
        /* Shorter than 17: the char function stops at the NUL. */
        ck_assert_int_eq(sb_check_cn_uscc_char("9135"), 0);
        ck_assert_int_eq(sb_check_cn_uscc_char(""), 0);
        /* A NUL inside makes the length wrong. */
        ck_assert(!sb_check_cn_uscc("91350100\0"
                                    "000100Y43"));
}
END_TEST

/* ---- resident identity number ---- */

START_TEST(test_rid_valid_numbers_pass) {
        ck_assert_msg(sb_check_cn_resident_id(valid_rid[_i]), "%s refused", valid_rid[_i]);
        ck_assert_int_eq(sb_check_cn_resident_id_char(valid_rid[_i]), valid_rid[_i][17]);
}
END_TEST

START_TEST(test_rid_check_char_by_hand) {
        /* All zeros: sum 0 -> "10X98765432"[0] = '1'.  Weight of position
         * 0 is 7: '1' then zeros gives sum 7 -> '5'.  Sum 2 -> 'X':
         * position 6 has weight 2. */
        ck_assert_int_eq(sb_check_cn_resident_id_char("00000000000000000"), '1');
        ck_assert_int_eq(sb_check_cn_resident_id_char("10000000000000000"), '5');
        ck_assert_int_eq(sb_check_cn_resident_id_char("00000010000000000"), 'X');
        ck_assert(sb_check_cn_resident_id("000000000000000001"));
}
END_TEST

START_TEST(test_rid_every_single_char_change_is_detected) {
        const char *code = valid_rid[_i];
        char c[19];
        for (int pos = 0; pos < 18; pos++)
                for (int ch = 1; ch < 128; ch++) {
                        if (ch == code[pos])
                                continue;
                        memcpy(c, code, 19);
                        c[pos] = (char)ch;
                        ck_assert_msg(!sb_check_cn_resident_id(c), "%s (from %s, position %d) accepted", c,
                                      code, pos);
                }
}
END_TEST

START_TEST(test_rid_check_char_is_the_only_one) {
        static const char checks[] = "0123456789X";
        char c[19];
        int accepted = 0;
        memcpy(c, valid_rid[_i], 19);
        for (const char *a = checks; *a; a++) {
                c[17] = *a;
                accepted += sb_check_cn_resident_id(c);
        }
        ck_assert_int_eq(accepted, 1);
}
END_TEST

static const char *const bad_rid[] = {
        "",
        "11010519491231002",   /* 17 chars */
        "11010519491231002X0", /* 19 chars */
        "11010519491231002x",  /* lower case x */
        "1101051949123100X2",  /* X not last */
        "X10105194912310020",
        "110105194912310 2X",
        "11010519491231002Y",
        "110105194912310022", /* a wrong digit check char */
        "11010519491231002\xe2",
};

START_TEST(test_rid_malformed_numbers_are_refused) {
        ck_assert_msg(!sb_check_cn_resident_id(bad_rid[_i]), "'%s' accepted", bad_rid[_i]);
}
END_TEST

START_TEST(test_rid_null_and_short_input) {
        ck_assert(!sb_check_cn_resident_id(NULL));
        ck_assert_int_eq(sb_check_cn_resident_id_char("1101"), 0);
        ck_assert_int_eq(sb_check_cn_resident_id_char("1101051949123100X"), 0);
}
END_TEST

START_TEST(test_the_two_codes_are_not_interchangeable) {
        /* Each algorithm refuses the other's sample: 11010519491231002X
         * would need check char 'B' as a USCC; a USCC holds letters. */
        ck_assert(!sb_check_cn_uscc(valid_rid[0]));
        ck_assert(!sb_check_cn_resident_id(valid_uscc[0]));
}
END_TEST

/* ---- identifiers of the sample generator ---- */

static const char *const sample_topics[] = {"market.business_license", "civil.resident", "tax.taxpayer"};

static int cmp_id(const void *a, const void *b) { return strcmp(a, b); }

START_TEST(test_sample_identifiers_are_valid_and_distinct) {
        enum { N = 1000 };
        static const uint64_t seeds[] = {0, 1, 42, 0xffffffffffffffffULL};
        int resident = strcmp(sample_topics[_i], "civil.resident") == 0;
        char(*ids)[19] = calloc(N, sizeof(*ids));
        ck_assert_ptr_nonnull(ids);
        for (size_t k = 0; k < sizeof(seeds) / sizeof(*seeds); k++) {
                sb_sample_t *s = NULL;
                TEST_CALL(sb_sample_new(sample_topics[_i], seeds[k], N, &s, TEST_ERR));
                ck_assert_ptr_nonnull(s);
                for (size_t i = 0; i < N; i++) {
                        sb_sample_identifier(s, i, ids[i]);
                        ck_assert_uint_eq(strlen(ids[i]), 18);
                        if (resident)
                                ck_assert_msg(sb_check_cn_resident_id(ids[i]),
                                              "%s: key %zu seed %llu: %s invalid", sample_topics[_i], i,
                                              (unsigned long long)seeds[k], ids[i]);
                        else
                                ck_assert_msg(sb_check_cn_uscc(ids[i]), "%s: key %zu seed %llu: %s invalid",
                                              sample_topics[_i], i, (unsigned long long)seeds[k], ids[i]);
                }
                /* Keys must be distinct, or two records would share one. */
                qsort(ids, N, sizeof(*ids), cmp_id);
                for (size_t i = 1; i < N; i++)
                        ck_assert_msg(strcmp(ids[i - 1], ids[i]) != 0, "%s seed %llu: %s twice",
                                      sample_topics[_i], (unsigned long long)seeds[k], ids[i]);
                sb_sample_destroy(s);
        }
        free(ids);
}
END_TEST

START_TEST(test_sample_identifier_depends_on_seed_and_index_only) {
        sb_sample_t *a = NULL;
        TEST_CALL(sb_sample_new(sample_topics[_i], 7, 10, &a, TEST_ERR));
        sb_sample_t *b = NULL;
        TEST_CALL(sb_sample_new(sample_topics[_i], 7, 500, &b, TEST_ERR));
        ck_assert_ptr_nonnull(a);
        ck_assert_ptr_nonnull(b);
        /* Drawing events does not change the identifiers. */
        free(sb_sample_next(b));
        free(sb_sample_next(b));
        for (size_t i = 0; i < 10; i++) {
                char x[19], y[19];
                sb_sample_identifier(a, i, x);
                sb_sample_identifier(b, i, y);
                ck_assert_str_eq(x, y);
        }
        sb_sample_destroy(a);
        sb_sample_destroy(b);
}
END_TEST

START_TEST(test_sample_resident_ids_hold_real_birth_dates) {
        /* The generator derives birth_date from the id: it must be a date. */
        static const int mdays[] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
        sb_sample_t *s = NULL;
        TEST_CALL(sb_sample_new("civil.resident", 3, 1000, &s, TEST_ERR));
        ck_assert_ptr_nonnull(s);
        for (size_t i = 0; i < 1000; i++) {
                char id[19];
                int y, m, d;
                sb_sample_identifier(s, i, id);
                ck_assert_int_eq(sscanf(id + 6, "%4d%2d%2d", &y, &m, &d), 3);
                ck_assert_msg(y >= 1900 && y <= 2025 && m >= 1 && m <= 12 && d >= 1 && d <= mdays[m - 1],
                              "%s: birth date %d-%d-%d", id, y, m, d);
        }
        sb_sample_destroy(s);
}
END_TEST

START_TEST(test_sample_new_refuses_unknown_dataset_and_zero_keys) {
        sb_sample_t *s = (sb_sample_t *)1;
        char err[256];
        ck_assert_int_eq(sb_sample_new("nosuch.dataset", 1, 10, &s, err, sizeof(err)), SB_ERR_INVALID);
        ck_assert_ptr_null(s);
        ck_assert_msg(strstr(err, "unknown dataset 'nosuch.dataset'"), "%s", err);
        ck_assert_int_eq(sb_sample_new("civil.resident", 1, 0, &s, err, sizeof(err)), SB_ERR_INVALID);
        ck_assert_ptr_null(s);
}
END_TEST

int main(void) {
        Suite *s = suite_create("checks");
        TCase *tc = tcase_create("uscc");
        tcase_add_loop_test(tc, test_uscc_valid_codes_pass, 0, N_VALID_USCC);
        tcase_add_test(tc, test_uscc_check_char_by_hand);
        tcase_add_loop_test(tc, test_uscc_every_single_char_change_is_detected, 0, N_VALID_USCC);
        tcase_add_loop_test(tc, test_uscc_check_char_is_the_only_one, 0, N_VALID_USCC);
        tcase_add_test(tc, test_uscc_illegal_letters_are_refused);
        tcase_add_test(tc, test_uscc_every_byte_in_every_position);
        tcase_add_loop_test(tc, test_uscc_malformed_codes_are_refused, 0,
                            sizeof(bad_uscc) / sizeof(*bad_uscc));
        tcase_add_test(tc, test_uscc_null_and_short_input);
        suite_add_tcase(s, tc);

        tc = tcase_create("resident_id");
        tcase_add_loop_test(tc, test_rid_valid_numbers_pass, 0, N_VALID_RID);
        tcase_add_test(tc, test_rid_check_char_by_hand);
        tcase_add_loop_test(tc, test_rid_every_single_char_change_is_detected, 0, N_VALID_RID);
        tcase_add_loop_test(tc, test_rid_check_char_is_the_only_one, 0, N_VALID_RID);
        tcase_add_loop_test(tc, test_rid_malformed_numbers_are_refused, 0,
                            sizeof(bad_rid) / sizeof(*bad_rid));
        tcase_add_test(tc, test_rid_null_and_short_input);
        tcase_add_test(tc, test_the_two_codes_are_not_interchangeable);
        suite_add_tcase(s, tc);

        tc = tcase_create("sample");
        tcase_add_loop_test(tc, test_sample_identifiers_are_valid_and_distinct, 0, 3);
        tcase_add_loop_test(tc, test_sample_identifier_depends_on_seed_and_index_only, 0, 3);
        tcase_add_test(tc, test_sample_resident_ids_hold_real_birth_dates);
        tcase_add_test(tc, test_sample_new_refuses_unknown_dataset_and_zero_keys);
        suite_add_tcase(s, tc);
        return test_run_suite(s);
}

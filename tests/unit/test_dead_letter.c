/*
 * Unit tests of dead_letter's classes: every class has the name the
 * sharebus.error.class header carries, and each name reads back as its
 * class.
 */
#include <string.h>

#include "dead_letter.h"
#include "testutil.h"

START_TEST(test_class_names_round_trip) {
        static const char *const names[] = {"decode", "schema", "rule", "transform", "apply"};
        for (int i = 0; i < 5; i++) {
                sb_dl_class_t cls = SB_DL_APPLY;
                ck_assert_str_eq(sb_dl_class_name((sb_dl_class_t)i), names[i]);
                ck_assert_int_eq(sb_dl_class_parse(names[i], &cls), 0);
                ck_assert_int_eq(cls, i);
        }
        ck_assert_int_eq(SB_DL_DECODE, 0);
        ck_assert_int_eq(SB_DL_APPLY, 4);
        ck_assert_str_eq(sb_dl_class_name((sb_dl_class_t)99), "unknown");
        sb_dl_class_t cls = SB_DL_RULE;
        ck_assert_int_eq(sb_dl_class_parse("Decode", &cls), -1);
        ck_assert_int_eq(sb_dl_class_parse("", &cls), -1);
        ck_assert_int_eq(cls, SB_DL_RULE);
}
END_TEST

int main(void) {
        Suite *s = suite_create("dead_letter");
        TCase *tc = tcase_create("dead_letter");
        tcase_add_test(tc, test_class_names_round_trip);
        suite_add_tcase(s, tc);
        return test_run_suite(s);
}

/*
 * Unit tests of dead_letter's classes: every class has the name the
 * sharebus.error.class header carries, and each name reads back as its
 * class; and of dlq_replay's reading of a dead letter's source headers,
 * which must refuse, with the header's name, what it cannot use.
 */
#include <string.h>

#include "dead_letter.h"
#include "dlq_replay.h"
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

/* Headers from NULL-terminated name, value pairs (value NULL: a null header). */
static rd_kafka_headers_t *headers(const char *const *pairs) {
        rd_kafka_headers_t *h = rd_kafka_headers_new(8);
        for (size_t i = 0; pairs[i]; i += 2)
                rd_kafka_header_add(h, pairs[i], -1, pairs[i + 1], pairs[i + 1] ? -1 : 0);
        return h;
}

START_TEST(test_source_headers_read) {
        const char *const pairs[] = {"sharebus.source.topic",
                                     "market.license",
                                     "sharebus.source.partition",
                                     "2",
                                     "sharebus.source.offset",
                                     "9000000000",
                                     "sharebus.error.class",
                                     "rule",
                                     NULL};
        rd_kafka_headers_t *h = headers(pairs);
        sb_dlq_source_t src;
        TEST_CALL(sb_dlq_source_read(h, &src, TEST_ERR));
        ck_assert_str_eq(src.topic, "market.license");
        ck_assert_int_eq(src.partition, 2);
        ck_assert_int_eq(src.offset, 9000000000LL);
        ck_assert_int_eq(src.cls, SB_DL_RULE);
        ck_assert_int_eq(src.truncated, 0);
        rd_kafka_header_add(h, "sharebus.value.truncated", -1, "true", -1);
        TEST_CALL(sb_dlq_source_read(h, &src, TEST_ERR));
        ck_assert_int_eq(src.truncated, 1);
        rd_kafka_headers_destroy(h);
}
END_TEST

/* Each one lacks or spoils one header; `want` is in the reason. */
static const struct {
        const char *topic, *partition, *offset, *want;
} bad[] = {
        {NULL, "0", "1", "sharebus.source.topic"},     {"", "0", "1", "sharebus.source.topic"},
        {"t", NULL, "1", "sharebus.source.partition"}, {"t", "x", "1", "sharebus.source.partition"},
        {"t", "-1", "1", "sharebus.source.partition"}, {"t", "2147483648", "1", "sharebus.source.partition"},
        {"t", "0", NULL, "sharebus.source.offset"},    {"t", "0", "12a", "sharebus.source.offset"},
        {"t", "0", "", "sharebus.source.offset"},      {"t", "0", "-5", "sharebus.source.offset"},
};

START_TEST(test_source_headers_refused) {
        rd_kafka_headers_t *h = rd_kafka_headers_new(4);
        if (bad[_i].topic)
                rd_kafka_header_add(h, "sharebus.source.topic", -1, bad[_i].topic, -1);
        if (bad[_i].partition)
                rd_kafka_header_add(h, "sharebus.source.partition", -1, bad[_i].partition, -1);
        if (bad[_i].offset)
                rd_kafka_header_add(h, "sharebus.source.offset", -1, bad[_i].offset, -1);
        sb_dlq_source_t src;
        char err[256] = "";
        ck_assert_int_eq(sb_dlq_source_read(h, &src, err, sizeof(err)), SB_ERR_INVALID);
        ck_assert_msg(strstr(err, bad[_i].want), "case %d: %s", _i, err);
        rd_kafka_headers_destroy(h);
        /* No headers at all, and an unknown class read as decode. */
        ck_assert_int_eq(sb_dlq_source_read(NULL, &src, err, sizeof(err)), SB_ERR_INVALID);
        const char *const odd[] = {"sharebus.source.topic",
                                   "t",
                                   "sharebus.source.partition",
                                   "0",
                                   "sharebus.source.offset",
                                   "0",
                                   "sharebus.error.class",
                                   "weird",
                                   NULL};
        h = headers(odd);
        TEST_CALL(sb_dlq_source_read(h, &src, TEST_ERR));
        ck_assert_int_eq(src.cls, SB_DL_DECODE);
        rd_kafka_headers_destroy(h);
}
END_TEST

int main(void) {
        Suite *s = suite_create("dead_letter");
        TCase *tc = tcase_create("dead_letter");
        tcase_add_test(tc, test_class_names_round_trip);
        tcase_add_test(tc, test_source_headers_read);
        tcase_add_loop_test(tc, test_source_headers_refused, 0, (int)(sizeof(bad) / sizeof(*bad)));
        suite_add_tcase(s, tc);
        return test_run_suite(s);
}

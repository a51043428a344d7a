/*
 * Unit tests of progress: the pure formatting of the progress line and the
 * summary, and what goes to a stream that is not a terminal.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "progress.h"
#include "testutil.h"

static const struct {
        int64_t n;
        const char *want;
} bytes[] = {
        {-5, "0 B"},
        {0, "0 B"},
        {1023, "1023 B"},
        {1024, "1.00 KiB"},
        {1536, "1.50 KiB"},
        {10 * 1024, "10.0 KiB"},
        {1000 * 1024, "1000 KiB"},
        {5 * 1048576, "5.00 MiB"},
        {3LL << 30, "3.00 GiB"},
        {INT64_MAX, "8.00 EiB"},
};

START_TEST(test_bytes) {
        char buf[32];
        progress_format_bytes(bytes[_i].n, buf, sizeof(buf));
        ck_assert_str_eq(buf, bytes[_i].want);
}
END_TEST

static const struct {
        int64_t s;
        const char *want;
} durations[] = {
        {-1, "--"},     {0, "0s"},       {59, "59s"},     {60, "1m00s"},
        {185, "3m05s"}, {3600, "1h00m"}, {7620, "2h07m"}, {86400 * 4 + 3 * 3600, "4d03h"},
};

START_TEST(test_durations) {
        char buf[32];
        progress_format_duration(durations[_i].s, buf, sizeof(buf));
        ck_assert_str_eq(buf, durations[_i].want);
}
END_TEST

START_TEST(test_counts) {
        char buf[32];
        progress_format_count(0, buf, sizeof(buf));
        ck_assert_str_eq(buf, "0");
        progress_format_count(999, buf, sizeof(buf));
        ck_assert_str_eq(buf, "999");
        progress_format_count(1000, buf, sizeof(buf));
        ck_assert_str_eq(buf, "1,000");
        progress_format_count(1234567, buf, sizeof(buf));
        ck_assert_str_eq(buf, "1,234,567");
        progress_format_count(UINT64_MAX, buf, sizeof(buf));
        ck_assert_str_eq(buf, "18,446,744,073,709,551,615");
        /* A short buffer truncates, never overflows. */
        char small[4];
        progress_format_count(1234567, small, sizeof(small));
        ck_assert_str_eq(small, "1,2");
}
END_TEST

START_TEST(test_line_with_known_size) {
        progress_snapshot_t s = {.bytes_total = 4 << 20,
                                 .bytes_done = 1 << 20,
                                 .records = 12000,
                                 .rejected = 0,
                                 .elapsed_ms = 4000};
        char buf[256];
        int n = progress_format_line(&s, buf, sizeof(buf));
        ck_assert_int_eq(n, (int)strlen(buf));
        /* A quarter read in 4 s: 12 s left. */
        ck_assert_str_eq(
                buf,
                "[######------------------]  25.0%  1.00 MiB/4.00 MiB  12,000 records  3,000/s  ETA 12s");
        s.rejected = 3;
        s.bytes_done = 4 << 20;
        progress_format_line(&s, buf, sizeof(buf));
        ck_assert_str_eq(buf,
                         "[########################] 100.0%  4.00 MiB/4.00 MiB  12,000 records (3 rejected)  "
                         "3,000/s  ETA 0s");
        /* Nothing read yet, no time passed: no rate, no ETA. */
        progress_snapshot_t z = {.bytes_total = 100, .bytes_done = 0, .records = 0, .elapsed_ms = 0};
        progress_format_line(&z, buf, sizeof(buf));
        ck_assert_str_eq(buf, "[------------------------]   0.0%  0 B/100 B  0 records  0/s  ETA --");
        /* More read than the size (a file that grew): capped. */
        progress_snapshot_t o = {.bytes_total = 100, .bytes_done = 150, .records = 1, .elapsed_ms = 1000};
        progress_format_line(&o, buf, sizeof(buf));
        ck_assert_ptr_nonnull(strstr(buf, "100.0%"));
        for (const char *p = buf; *p; p++)
                ck_assert_msg((unsigned char)*p >= 0x20, "control character in %s", buf);
}
END_TEST

START_TEST(test_line_with_unknown_size) {
        progress_snapshot_t s = {.bytes_total = -1, .bytes_done = 2048, .records = 50, .elapsed_ms = 10000};
        char buf[256];
        progress_format_line(&s, buf, sizeof(buf));
        ck_assert_str_eq(buf, "50 records  5/s  2.00 KiB read");
        s.bytes_done = -1;
        progress_format_line(&s, buf, sizeof(buf));
        ck_assert_str_eq(buf, "50 records  5/s  ? read");
        /* Truncation is reported as snprintf does. */
        char small[8];
        ck_assert_int_gt(progress_format_line(&s, small, sizeof(small)), 7);
        ck_assert_uint_eq(strlen(small), 7);
}
END_TEST

START_TEST(test_summary) {
        progress_snapshot_t s = {.bytes_total = 4 << 20,
                                 .bytes_done = 4 << 20,
                                 .records = 12000,
                                 .rejected = 3,
                                 .elapsed_ms = 4500};
        char buf[256];
        progress_format_summary(&s, buf, sizeof(buf));
        ck_assert_str_eq(buf, "published 12,000 records (3 rejected) from 4.00 MiB in 4s, 2,666 records/s");
        s.rejected = 0;
        s.bytes_done = -1;
        progress_format_summary(&s, buf, sizeof(buf));
        ck_assert_str_eq(buf, "published 12,000 records in 4s, 2,666 records/s");
}
END_TEST

START_TEST(test_not_a_terminal_writes_one_summary_line) {
        char *text = NULL;
        size_t len = 0;
        FILE *f = open_memstream(&text, &len);
        ck_assert_ptr_nonnull(f);
        ck_assert_int_eq(progress_is_terminal(f), 0);
        progress_t *p = NULL;
        TEST_CALL(progress_new(f, 0, 1000, &p, TEST_ERR));
        source_stats_t st = {.backlog = -1, .oldest_age_ms = -1, .bytes_total = 100, .bytes_done = 10};
        for (int i = 0; i < 50; i++)
                progress_update(p, &st, (uint64_t)i, 0, 1000 + i * 1000);
        st.bytes_done = 100;
        progress_finish(p, &st, 50, 1, 3000);
        progress_destroy(p);
        fclose(f);
        ck_assert_str_eq(text, "published 50 records (1 rejected) from 100 B in 2s, 25 records/s\n");
        free(text);
}
END_TEST

START_TEST(test_terminal_redraws_at_most_every_interval) {
        char *text = NULL;
        size_t len = 0;
        FILE *f = open_memstream(&text, &len);
        ck_assert_ptr_nonnull(f);
        progress_t *p = NULL;
        TEST_CALL(progress_new(f, 1, 0, &p, TEST_ERR));
        source_stats_t st = {.backlog = -1, .oldest_age_ms = -1, .bytes_total = 1000, .bytes_done = 0};
        /* 1 s of updates every millisecond (a clock passed in, not read):
         * about 1000 / PROGRESS_REDRAW_MS redraws. */
        for (int t = 0; t <= 1000; t++) {
                st.bytes_done = t;
                progress_update(p, &st, (uint64_t)t, 0, t);
        }
        progress_finish(p, &st, 1000, 0, 1000);
        progress_destroy(p);
        fclose(f);
        int redraws = 0;
        for (const char *q = text; (q = strchr(q, '\r')); q++)
                redraws++;
        ck_assert_int_le(redraws, 1000 / PROGRESS_REDRAW_MS + 2);
        ck_assert_int_ge(redraws, 1000 / PROGRESS_REDRAW_MS);
        ck_assert_ptr_nonnull(strstr(text, "\033[K"));
        /* The last line is the final state, then the summary. */
        ck_assert_ptr_nonnull(strstr(text, "100.0%"));
        ck_assert_ptr_nonnull(strstr(text, "\npublished 1,000 records from 1000 B in 1s, 1,000 records/s\n"));
        free(text);
}
END_TEST

int main(void) {
        Suite *s = suite_create("progress");
        TCase *tc = tcase_create("format");
        tcase_add_loop_test(tc, test_bytes, 0, (int)(sizeof(bytes) / sizeof(*bytes)));
        tcase_add_loop_test(tc, test_durations, 0, (int)(sizeof(durations) / sizeof(*durations)));
        tcase_add_test(tc, test_counts);
        tcase_add_test(tc, test_line_with_known_size);
        tcase_add_test(tc, test_line_with_unknown_size);
        tcase_add_test(tc, test_summary);
        suite_add_tcase(s, tc);
        tc = tcase_create("output");
        tcase_add_test(tc, test_not_a_terminal_writes_one_summary_line);
        tcase_add_test(tc, test_terminal_redraws_at_most_every_interval);
        suite_add_tcase(s, tc);
        return test_run_suite(s);
}

/*
 * Unit tests of sharebus-lag's judgement (consumers/lag/): the window of
 * samples, the lag in seconds, and every status rule driven by synthetic
 * windows, with the sentences an operator reads.
 */
#include <stdio.h>
#include <string.h>

#include "lag/lag_status.h"
#include "lag/lag_window.h"
#include "testutil.h"

#define T0 1800000000000LL /* a wall-clock time, ms */
#define STEP 30000         /* the sampling interval of the windows below */

static lag_window_t *window(size_t capacity) {
        lag_window_t *w = NULL;
        TEST_CALL(lag_window_new(capacity, &w, TEST_ERR));
        return w;
}

/* Sample k (at T0 + k * STEP) with offsets committed and log_end. */
static void push(lag_window_t *w, int k, int64_t committed, int64_t log_end) {
        lag_sample_t s = {T0 + (int64_t)k * STEP, committed, log_end, 0};
        lag_window_push(w, &s);
}

static lag_verdict_t judge(const lag_window_t *w, int64_t now_ms) {
        lag_verdict_t v;
        lag_status_evaluate(w, "civil.resident", 2, now_ms, (int64_t)lag_window_capacity(w) * STEP, &v);
        return v;
}

START_TEST(test_window_is_a_ring_that_remembers_the_last_move) {
        lag_window_t *w = NULL;
        char err[128];
        ck_assert_int_eq(lag_window_new(0, &w, err, sizeof(err)), SB_ERR_INVALID);
        ck_assert_int_eq(lag_window_new(LAG_WINDOW_MAX + 1, &w, err, sizeof(err)), SB_ERR_INVALID);
        ck_assert_msg(strstr(err, "1 to 1000 samples"), "%s", err);
        w = window(3);
        ck_assert_int_eq(lag_window_last_moved_ms(w), -1);
        ck_assert_ptr_null(lag_window_last_good(w));
        push(w, 0, 10, 20);
        push(w, 1, 10, 25);
        ck_assert_int_eq(lag_window_last_moved_ms(w), T0);
        push(w, 2, 12, 30);
        push(w, 3, 12, 35); /* the first sample leaves the window */
        ck_assert_uint_eq(lag_window_count(w), 3);
        ck_assert_int_eq(lag_window_at(w, 0)->at_ms, T0 + STEP);
        ck_assert_int_eq(lag_window_at(w, 2)->log_end, 35);
        ck_assert_ptr_null(lag_window_at(w, 3));
        ck_assert_int_eq(lag_window_last_moved_ms(w), T0 + 2 * STEP);
        /* An error sample moves nothing and is not "good". */
        lag_sample_t bad = {T0 + 4 * STEP, 0, 0, 1};
        lag_window_push(w, &bad);
        ck_assert_int_eq(lag_window_last_good(w)->log_end, 35);
        ck_assert_int_eq(lag_window_last_moved_ms(w), T0 + 2 * STEP);
        /* The move is kept after the window forgot it. */
        push(w, 5, 12, 40);
        push(w, 6, 12, 45);
        ck_assert_int_eq(lag_window_last_moved_ms(w), T0 + 2 * STEP);
        ck_assert_int_eq(lag_window_lag(lag_window_at(w, 2)), 33);
        lag_sample_t ahead = {0, 50, 40, 0}; /* committed past the log end read earlier */
        ck_assert_int_eq(lag_window_lag(&ahead), 0);
        lag_window_destroy(w);
}
END_TEST

START_TEST(test_lag_seconds_interpolates_when_the_oldest_unread_change_came) {
        lag_window_t *w = window(10);
        ck_assert_double_eq(lag_window_lag_seconds(w, T0), -1);
        push(w, 0, 100, 100); /* nothing behind */
        ck_assert_double_eq(lag_window_lag_seconds(w, T0 + 5000), 0);
        push(w, 1, 100, 110); /* offset 100 written between T0 and T0 + STEP */
        push(w, 2, 100, 140);
        /* Offset 100 is the first of the 10 written in that step: 1/10 of it. */
        double got = lag_window_lag_seconds(w, T0 + 2 * STEP);
        ck_assert_double_eq_tol(got, (2.0 * STEP - STEP / 10.0) / 1000.0, 1e-9);
        /* Behind since before the window: its age, a lower bound. */
        lag_window_t *old = window(3);
        push(old, 0, 5, 50);
        push(old, 1, 6, 60);
        ck_assert_double_eq_tol(lag_window_lag_seconds(old, T0 + 3 * STEP), 3 * STEP / 1000.0, 1e-9);
        lag_window_destroy(old);
        lag_window_destroy(w);
}
END_TEST

START_TEST(test_ok_when_nothing_or_not_long_behind) {
        lag_window_t *w = window(4);
        lag_verdict_t v = judge(w, T0);
        ck_assert_int_eq(v.status, LAG_OK); /* no sample yet */
        ck_assert_int_eq(v.lag, -1);
        push(w, 0, 10, 10);
        push(w, 1, 10, 20); /* behind, but a sample of the window was not */
        push(w, 2, 15, 30);
        push(w, 3, 20, 40);
        v = judge(w, T0 + 3 * STEP);
        ck_assert_int_eq(v.status, LAG_OK);
        ck_assert_int_eq(v.lag, 20);
        ck_assert_str_eq(v.reason, "");
        /* Moving and the lag not only growing: OK. */
        push(w, 4, 35, 45);
        v = judge(w, T0 + 4 * STEP);
        ck_assert_int_eq(v.status, LAG_OK);
        lag_window_destroy(w);
}
END_TEST

START_TEST(test_warn_when_the_lag_only_grew) {
        lag_window_t *w = window(4);
        for (int k = 0; k < 4; k++)
                push(w, k, 1000 + 100 * k, 2000 + 300 * k); /* lag 1000, 1200, 1400, 1600 */
        lag_verdict_t v = judge(w, T0 + 3 * STEP);
        ck_assert_int_eq(v.status, LAG_WARN);
        ck_assert_str_eq(v.reason,
                         "partition 2 of civil.resident: falling behind: the lag grew from 1,000 to 1,600 in "
                         "1 min");
        /* Not before the window is full. */
        lag_window_t *young = window(5);
        for (int k = 0; k < 4; k++)
                push(young, k, 1000 + 100 * k, 2000 + 300 * k);
        ck_assert_int_eq(judge(young, T0 + 3 * STEP).status, LAG_OK);
        lag_window_destroy(young);
        lag_window_destroy(w);
}
END_TEST

START_TEST(test_rewind_when_the_committed_offset_went_back) {
        lag_window_t *w = window(4);
        push(w, 0, 500, 900);
        push(w, 1, 600, 900);
        push(w, 2, 200, 900);
        lag_verdict_t v = judge(w, T0 + 2 * STEP);
        ck_assert_int_eq(v.status, LAG_REWIND);
        ck_assert_str_eq(
                v.reason,
                "partition 2 of civil.resident: the committed offset went back from 600 to 200, 700 behind");
        lag_window_destroy(w);
}
END_TEST

START_TEST(test_stall_then_stop_when_the_committed_offset_does_not_move) {
        lag_window_t *w = window(4);
        push(w, 0, 5000, 17000);
        for (int k = 1; k < 4; k++)
                push(w, k, 7592, 20000); /* moved at sample 1, then no more */
        /* Full window, but sample 0 differs: moved within it. */
        ck_assert_int_eq(judge(w, T0 + 3 * STEP).status, LAG_OK);
        push(w, 4, 7592, 20000);
        lag_verdict_t v = judge(w, T0 + 4 * STEP);
        ck_assert_int_eq(v.status, LAG_STALL);
        ck_assert_str_eq(v.reason,
                         "partition 2 of civil.resident: the committed offset stayed at 7,592 for 1 min, "
                         "12,408 behind");
        /* Longer than the window (4 samples, 2 min) without a move: STOP. */
        v = judge(w, T0 + STEP + 4 * STEP + 1);
        ck_assert_int_eq(v.status, LAG_STOP);
        ck_assert_str_eq(v.reason, "partition 2 of civil.resident: no commit for 2 min, 12,408 behind");
        v = judge(w, T0 + STEP + 6 * 60000);
        ck_assert_str_eq(v.reason, "partition 2 of civil.resident: no commit for 6 min, 12,408 behind");
        ck_assert_int_eq(v.lag, 12408);
        ck_assert_double_gt(v.lag_seconds, 0);
        /* Caught up again: OK. */
        push(w, 12, 20000, 20000);
        ck_assert_int_eq(judge(w, T0 + 12 * STEP).status, LAG_OK);
        lag_window_destroy(w);
}
END_TEST

/* A group that has had nothing to read commits nothing: its still time
 * counts from when it fell behind, not from its last commit. */
START_TEST(test_still_counts_from_falling_behind) {
        lag_window_t *w = window(3);
        for (int k = 0; k < 20; k++)
                push(w, k, 100, 100); /* caught up for 20 samples, nothing committed */
        ck_assert_int_eq(lag_window_still_since_ms(w), -1);
        push(w, 20, 100, 150); /* new changes: behind from here */
        ck_assert_int_eq(lag_window_still_since_ms(w), T0 + 20 * STEP);
        ck_assert_int_eq(judge(w, T0 + 20 * STEP).status, LAG_OK);
        push(w, 21, 100, 150);
        push(w, 22, 100, 150);
        ck_assert_int_eq(judge(w, T0 + 22 * STEP).status, LAG_STALL);
        ck_assert_int_eq(judge(w, T0 + 23 * STEP + 1).status, LAG_STOP);
        lag_window_destroy(w);
}
END_TEST

START_TEST(test_err_when_the_last_sample_failed) {
        lag_window_t *w = window(4);
        push(w, 0, 10, 20);
        lag_sample_t bad = {T0 + STEP, 0, 0, 1};
        lag_window_push(w, &bad);
        lag_verdict_t v = judge(w, T0 + STEP);
        ck_assert_int_eq(v.status, LAG_ERR);
        ck_assert_str_eq(v.reason, "partition 2 of civil.resident: its offsets could not be read");
        ck_assert_int_eq(v.lag, 10); /* the last known */
        lag_window_destroy(w);
}
END_TEST

START_TEST(test_group_status_is_its_worst_partition) {
        ck_assert_int_eq(lag_status_worst(LAG_OK, LAG_WARN), LAG_WARN);
        ck_assert_int_eq(lag_status_worst(LAG_STOP, LAG_STALL), LAG_STOP);
        ck_assert_int_eq(lag_status_worst(LAG_ERR, LAG_STOP), LAG_ERR);
        ck_assert_int_eq(lag_status_worst(LAG_REWIND, LAG_WARN), LAG_REWIND);
        const char *names[] = {"OK", "WARN", "REWIND", "STALL", "STOP", "ERR"};
        for (int st = LAG_OK; st <= LAG_ERR; st++)
                ck_assert_str_eq(lag_status_name((lag_status_t)st), names[st]);
        ck_assert_str_eq(lag_status_name((lag_status_t)42), "ERR");
}
END_TEST

START_TEST(test_durations_and_counts_read_as_sentences) {
        char b[32];
        const struct {
                int64_t ms;
                const char *want;
        } d[] = {{-5, "0 s"},
                 {45999, "45 s"},
                 {360000, "6 min"},
                 {7500000, "2 h 5 min"},
                 {273600000, "3 d 4 h"}};
        for (size_t i = 0; i < sizeof(d) / sizeof(*d); i++) {
                lag_status_duration(d[i].ms, b, sizeof(b));
                ck_assert_str_eq(b, d[i].want);
        }
        const struct {
                int64_t n;
                const char *want;
        } c[] = {{0, "0"}, {999, "999"}, {1000, "1,000"}, {12408, "12,408"}, {-1234567, "-1,234,567"}};
        for (size_t i = 0; i < sizeof(c) / sizeof(*c); i++) {
                lag_status_count(c[i].n, b, sizeof(b));
                ck_assert_str_eq(b, c[i].want);
        }
        char small[4];
        lag_status_count(123456, small, sizeof(small)); /* cut, terminated */
        ck_assert_uint_lt(strlen(small), sizeof(small));
}
END_TEST

static Suite *suite(void) {
        Suite *s = suite_create("lag_status");
        TCase *tc = tcase_create("core");
        tcase_add_test(tc, test_window_is_a_ring_that_remembers_the_last_move);
        tcase_add_test(tc, test_lag_seconds_interpolates_when_the_oldest_unread_change_came);
        tcase_add_test(tc, test_ok_when_nothing_or_not_long_behind);
        tcase_add_test(tc, test_warn_when_the_lag_only_grew);
        tcase_add_test(tc, test_rewind_when_the_committed_offset_went_back);
        tcase_add_test(tc, test_stall_then_stop_when_the_committed_offset_does_not_move);
        tcase_add_test(tc, test_still_counts_from_falling_behind);
        tcase_add_test(tc, test_err_when_the_last_sample_failed);
        tcase_add_test(tc, test_group_status_is_its_worst_partition);
        tcase_add_test(tc, test_durations_and_counts_read_as_sentences);
        suite_add_tcase(s, tc);
        return s;
}

int main(void) { return test_run_suite(suite()); }

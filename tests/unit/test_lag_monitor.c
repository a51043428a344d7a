/*
 * Unit tests of lag_monitor (consumers/lag/lag_monitor.h): samples fed as
 * the sampler gives them, groups judged by their worst partition, status
 * changes logged and told once, partitions and groups forgotten after a
 * window unseen, and the Prometheus text.
 */
#include <stdio.h>
#include <string.h>

#include "lag/lag_monitor.h"
#include "testutil.h"

#define T0 1800000000000LL
#define STEP 1000

typedef struct {
        int calls;
        char last[512];
} changes_t;

static void on_change(void *opaque, const char *group, lag_status_t was, lag_status_t now,
                      const char *reason) {
        changes_t *c = opaque;
        c->calls++;
        snprintf(c->last, sizeof(c->last), "%s %s->%s %s", group, lag_status_name(was), lag_status_name(now),
                 reason);
}

/* One sample at T0 + k * STEP: group g1 on t [0] and [1], g2 on t [0]. */
static void sample(lag_monitor_t *m, int k, int64_t c0, int64_t c1, int64_t g2c, int64_t end) {
        lag_monitor_begin(m, T0 + (int64_t)k * STEP);
        lag_offsets_t o[] = {
                {"g1", "Stable", "t", 0, c0, end, NULL},
                {"g1", "Stable", "t", 1, c1, end, NULL},
                {"g2", "Empty", "t", 0, g2c, end, NULL},
        };
        for (size_t i = 0; i < 3; i++)
                ck_assert_int_eq(lag_monitor_add(m, &o[i]), SB_OK);
        lag_monitor_end(m);
}

START_TEST(test_groups_take_their_worst_partition_and_changes_are_told_once) {
        char err[256];
        lag_monitor_t *m = NULL;
        ck_assert_int_eq(lag_monitor_new(0, STEP, NULL, NULL, NULL, &m, err, sizeof(err)), SB_ERR_INVALID);
        changes_t c = {0};
        TEST_CALL(lag_monitor_new(3, STEP, NULL, on_change, &c, &m, TEST_ERR));
        ck_assert_uint_eq(lag_monitor_group_count(m), 0);
        /* g1 partition 0 keeps up, partition 1 is stuck; g2 caught up. */
        sample(m, 0, 10, 5, 10, 10);
        sample(m, 1, 20, 5, 20, 20);
        ck_assert_int_eq(c.calls, 0);
        sample(m, 2, 30, 5, 30, 30);
        ck_assert_uint_eq(lag_monitor_group_count(m), 2);
        const lag_group_view_t *g1 = lag_monitor_find(m, "g1");
        ck_assert_ptr_nonnull(g1);
        ck_assert_int_eq(g1->status, LAG_STALL);
        ck_assert_str_eq(g1->state, "Stable");
        ck_assert_uint_eq(g1->n_partitions, 2);
        ck_assert_int_eq(g1->partitions[0].verdict.status, LAG_OK);
        ck_assert_int_eq(g1->partitions[1].verdict.status, LAG_STALL);
        ck_assert_int_eq(g1->lag, 25);
        ck_assert_msg(strstr(g1->reason, "partition 1 of t: the committed offset stayed at 5"), "%s",
                      g1->reason);
        ck_assert_int_eq(c.calls, 1);
        ck_assert_msg(strstr(c.last, "g1 OK->STALL partition 1 of t"), "%s", c.last);
        ck_assert_int_eq(lag_monitor_find(m, "g2")->status, LAG_OK);
        ck_assert_ptr_null(lag_monitor_find(m, "nope"));
        /* The same status again: not told again; worse: told. */
        sample(m, 3, 40, 5, 40, 40);
        ck_assert_int_eq(c.calls, 1);
        sample(m, 5, 60, 5, 60, 60); /* no move of partition 1 for longer than the window */
        ck_assert_int_eq(lag_monitor_find(m, "g1")->status, LAG_STOP);
        ck_assert_int_eq(c.calls, 2);
        /* Caught up: back to OK, told. */
        sample(m, 6, 70, 70, 70, 70);
        ck_assert_int_eq(lag_monitor_find(m, "g1")->status, LAG_OK);
        ck_assert_int_eq(c.calls, 3);
        ck_assert_msg(strstr(c.last, "g1 STOP->OK"), "%s", c.last);
        lag_monitor_destroy(m);
}
END_TEST

START_TEST(test_errors_and_what_is_no_longer_there) {
        lag_monitor_t *m = NULL;
        TEST_CALL(lag_monitor_new(2, STEP, NULL, NULL, NULL, &m, TEST_ERR));
        sample(m, 0, 10, 10, 10, 10);
        /* g1's offsets cannot be read this time: ERR with the reason. */
        lag_monitor_begin(m, T0 + STEP);
        lag_offsets_t bad = {"g1", "Stable", NULL, -1, -1, -1, "Broker: Coordinator not available"};
        lag_offsets_t g2 = {"g2", "Empty", "t", 0, 10, 10, NULL};
        ck_assert_int_eq(lag_monitor_add(m, &bad), SB_OK);
        ck_assert_int_eq(lag_monitor_add(m, &g2), SB_OK);
        lag_monitor_end(m);
        const lag_group_view_t *g1 = lag_monitor_find(m, "g1");
        ck_assert_int_eq(g1->status, LAG_ERR);
        ck_assert_str_eq(g1->reason, "group g1: Broker: Coordinator not available");
        /* A log end that could not be read: that partition is ERR. */
        lag_monitor_begin(m, T0 + 2 * STEP);
        lag_offsets_t noend = {"g2", "Empty", "t", 0, 10, -1, "Broker: Leader not available"};
        ck_assert_int_eq(lag_monitor_add(m, &noend), SB_OK);
        lag_monitor_end(m);
        ck_assert_int_eq(lag_monitor_find(m, "g2")->status, LAG_ERR);
        ck_assert_ptr_nonnull(lag_monitor_find(m, "g1")); /* unseen once */
        /* g1 unseen for the whole window (2 samples): forgotten; so is a
         * partition of g2 that stopped coming. */
        lag_monitor_begin(m, T0 + 3 * STEP);
        lag_offsets_t other = {"g2", "Empty", "u", 3, 1, 1, NULL};
        ck_assert_int_eq(lag_monitor_add(m, &other), SB_OK);
        lag_monitor_end(m);
        ck_assert_ptr_null(lag_monitor_find(m, "g1"));
        ck_assert_uint_eq(lag_monitor_group_count(m), 1);
        lag_monitor_begin(m, T0 + 4 * STEP);
        ck_assert_int_eq(lag_monitor_add(m, &other), SB_OK);
        lag_monitor_end(m);
        const lag_group_view_t *v = lag_monitor_find(m, "g2");
        ck_assert_uint_eq(v->n_partitions, 1);
        ck_assert_str_eq(v->partitions[0].topic, "u");
        ck_assert_int_eq(v->status, LAG_OK);
        lag_monitor_destroy(m);
}
END_TEST

START_TEST(test_thresholds_make_a_group_warn) {
        lag_monitor_t *m = NULL;
        TEST_CALL(lag_monitor_new(3, STEP, NULL, NULL, NULL, &m, TEST_ERR));
        TEST_CALL(lag_monitor_set_threshold(m, "g1", 30, 0));
        TEST_CALL(lag_monitor_set_threshold(m, "g2", 0, 1.5));
        /* g1 20 behind on each partition (40 in all), moving; g2 behind
         * since the first sample. */
        sample(m, 0, 10, 10, 5, 30);
        const lag_group_view_t *g1 = lag_monitor_find(m, "g1");
        ck_assert_int_eq(g1->status, LAG_WARN);
        ck_assert_str_eq(g1->reason, "group g1: 40 behind, above its threshold of 30");
        ck_assert_int_eq(lag_monitor_find(m, "g2")->status, LAG_OK); /* just fell behind */
        sample(m, 2, 28, 28, 5, 30);
        ck_assert_int_eq(lag_monitor_find(m, "g1")->status, LAG_OK); /* 4 behind */
        const lag_group_view_t *g2 = lag_monitor_find(m, "g2");
        ck_assert_int_eq(g2->status, LAG_WARN);
        ck_assert_str_eq(g2->reason,
                         "group g2: its oldest unread change is 2 s old, above its threshold of 1 s");
        lag_monitor_destroy(m);
}
END_TEST

START_TEST(test_prometheus_text) {
        lag_monitor_t *m = NULL;
        TEST_CALL(lag_monitor_new(3, STEP, NULL, NULL, NULL, &m, TEST_ERR));
        lag_monitor_begin(m, T0);
        lag_offsets_t o[] = {{"sharebus.tax", "Stable", "civil.resident", 2, 7592, 20000, NULL},
                             {"we\"ird\\\n", "Empty", "t", 0, -1, 5, NULL}};
        for (size_t i = 0; i < 2; i++)
                ck_assert_int_eq(lag_monitor_add(m, &o[i]), SB_OK);
        lag_monitor_end(m);
        sb_buf_t b;
        sb_buf_init(&b, 1 << 20);
        ck_assert_int_eq(lag_monitor_render_metrics(m, &b), SB_OK);
        ck_assert_int_eq(sb_buf_append(&b, "", 1), SB_OK);
        const char *text = (const char *)b.data;
        const char *want[] = {
                "# TYPE sharebus_consumergroup_status gauge\n",
                "sharebus_consumergroup_status{group=\"sharebus.tax\"} 0\n",
                "sharebus_consumergroup_lag{group=\"sharebus.tax\",topic=\"civil.resident\",partition=\"2\"} "
                "12408\n",
                "sharebus_consumergroup_committed_offset{group=\"sharebus.tax\",topic=\"civil.resident\","
                "partition=\"2\"} 7592\n",
                "sharebus_consumergroup_log_end_offset{group=\"sharebus.tax\",topic=\"civil.resident\","
                "partition=\"2\"} 20000\n",
                "sharebus_consumergroup_partition_status{group=\"sharebus.tax\",topic=\"civil.resident\","
                "partition=\"2\"} 0\n",
                /* Label values escaped; nothing committed: lag from the start. */
                "sharebus_consumergroup_lag{group=\"we\\\"ird\\\\\\n\",topic=\"t\",partition=\"0\"} 5\n",
                "# TYPE sharebus_consumergroup_lag_seconds gauge\n",
        };
        for (size_t i = 0; i < sizeof(want) / sizeof(*want); i++)
                ck_assert_msg(strstr(text, want[i]), "missing %s in:\n%s", want[i], text);
        /* No committed offset: no committed series made up for it. */
        ck_assert_ptr_null(strstr(text, "sharebus_consumergroup_committed_offset{group=\"we"));
        sb_buf_t small;
        sb_buf_init(&small, 64);
        ck_assert_int_eq(lag_monitor_render_metrics(m, &small), SB_ERR_NOMEM);
        sb_buf_free(&small);
        sb_buf_free(&b);
        lag_monitor_destroy(m);
}
END_TEST

typedef struct {
        int n;
        char topic[32];
        int32_t partition;
        int64_t offset;
} asked_t;

static void on_ask(void *opaque, const char *topic, int32_t partition, int64_t offset) {
        asked_t *a = opaque;
        a->n++;
        snprintf(a->topic, sizeof(a->topic), "%s", topic);
        a->partition = partition;
        a->offset = offset;
}

/* A partition behind in every sample of its window: its age is a bound
 * until the record's own time is given, then exact; asked once per
 * committed offset. */
START_TEST(test_record_times_make_the_age_exact) {
        lag_monitor_t *m = NULL;
        TEST_CALL(lag_monitor_new(3, STEP, NULL, NULL, NULL, &m, TEST_ERR));
        asked_t a = {0};
        /* g1 partition 1 stuck at 5 of 30; partition 0 keeps up. */
        for (int k = 0; k < 3; k++)
                sample(m, k, 30, 5, 30, 30);
        ck_assert_uint_eq(lag_monitor_unknown_ages(m, 10, on_ask, &a), 1);
        ck_assert_int_eq(a.n, 1);
        ck_assert_str_eq(a.topic, "t");
        ck_assert_int_eq(a.partition, 1);
        ck_assert_int_eq(a.offset, 5);
        const lag_group_view_t *g1 = lag_monitor_find(m, "g1");
        ck_assert_double_eq_tol(g1->lag_seconds, 2 * STEP / 1000.0, 1e-9); /* the bound: 2 samples */
        /* The record at 5 was written an hour before the first sample. */
        lag_monitor_set_record_time(m, "t", 1, 5, T0 - 3600 * 1000);
        ck_assert_double_eq_tol(g1->lag_seconds, 3600 + 2 * STEP / 1000.0, 1e-9);
        ck_assert_double_eq_tol(g1->partitions[1].verdict.lag_seconds, 3600 + 2 * STEP / 1000.0, 1e-9);
        ck_assert_double_eq(g1->partitions[0].verdict.lag_seconds, 0);
        /* Kept, and not asked again while the offset stands. */
        sample(m, 3, 30, 5, 30, 30);
        g1 = lag_monitor_find(m, "g1");
        ck_assert_double_eq_tol(g1->lag_seconds, 3600 + 3 * STEP / 1000.0, 1e-9);
        ck_assert_uint_eq(lag_monitor_unknown_ages(m, 10, on_ask, &a), 0);
        /* Another offset's time is no answer for this one. */
        lag_monitor_set_record_time(m, "t", 1, 4, T0);
        ck_assert_double_eq_tol(lag_monitor_find(m, "g1")->lag_seconds, 3600 + 3 * STEP / 1000.0, 1e-9);
        /* Moved, still behind before the window: asked at the new offset. */
        sample(m, 4, 30, 6, 30, 30);
        a.n = 0;
        ck_assert_uint_eq(lag_monitor_unknown_ages(m, 10, on_ask, &a), 1);
        ck_assert_int_eq(a.offset, 6);
        ck_assert_uint_eq(lag_monitor_unknown_ages(m, 0, on_ask, &a), 0); /* the bound on asks */
        lag_monitor_destroy(m);
}
END_TEST

static Suite *suite(void) {
        Suite *s = suite_create("lag_monitor");
        TCase *tc = tcase_create("core");
        tcase_add_test(tc, test_groups_take_their_worst_partition_and_changes_are_told_once);
        tcase_add_test(tc, test_errors_and_what_is_no_longer_there);
        tcase_add_test(tc, test_thresholds_make_a_group_warn);
        tcase_add_test(tc, test_prometheus_text);
        tcase_add_test(tc, test_record_times_make_the_age_exact);
        suite_add_tcase(s, tc);
        return s;
}

int main(void) { return test_run_suite(suite()); }

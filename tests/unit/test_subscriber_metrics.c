/*
 * test_subscriber_metrics: the subscriber's series as they render: present
 * at 0 for each topic of the subscription, counting a committed batch once
 * however often it was tried, counters moved only by a sync, the age of
 * the newest event time committed, topics that come unannounced, and a
 * NULL handle.
 */
#include <check.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sb_buf.h"
#include "sb_clock.h"
#include "sb_metrics.h"
#include "subscriber_metrics.h"
#include "testutil.h"

static sb_metrics_t *set;
static sb_subscriber_metrics_t *sm;
static char *text; /* the last render */

static void setup(void) {
        TEST_CALL(sb_metrics_new(&set, TEST_ERR));
        TEST_CALL(sb_subscriber_metrics_new(set, " market.license,civil.resident ,", &sm, TEST_ERR));
}

static void teardown(void) {
        sb_subscriber_metrics_destroy(sm);
        sb_metrics_destroy(set);
        free(text);
        text = NULL;
        sm = NULL;
}

static void render(void) {
        sb_buf_t b;
        sb_buf_init(&b, 1 << 20);
        TEST_CALL(sb_metrics_render(set, &b, TEST_ERR));
        ck_assert_int_eq(sb_buf_append(&b, "", 1), SB_OK);
        free(text);
        text = strdup((const char *)b.data);
        sb_buf_free(&b);
}

/* The value of the sample `series` (name and labels as rendered) in the
 * last render; fails the test if it is absent. */
static double value(const char *series) {
        size_t n = strlen(series);
        for (const char *line = text; line && *line;
             line = strchr(line, '\n') ? strchr(line, '\n') + 1 : NULL)
                if (strncmp(line, series, n) == 0 && line[n] == ' ')
                        return strtod(line + n + 1, NULL);
        ck_abort_msg("no %s in:\n%s", series, text);
        return 0;
}

#define APPLIED(topic, op) "sharebus_subscriber_events_applied_total{topic=\"" topic "\",op=\"" op "\"}"
#define PER_TOPIC(name, topic) "sharebus_subscriber_" name "{topic=\"" topic "\"}"

START_TEST(test_every_series_at_zero_for_each_topic) {
        render();
        static const char *const topics[] = {"market.license", "civil.resident"};
        for (int i = 0; i < 2; i++) {
                char s[256];
                snprintf(s, sizeof(s), "sharebus_subscriber_events_consumed_total{topic=\"%s\"}", topics[i]);
                ck_assert_double_eq(value(s), 0);
                for (const char *op = "curd"; *op; op++) {
                        snprintf(s, sizeof(s),
                                 "sharebus_subscriber_events_applied_total{topic=\"%s\",op=\"%c\"}",
                                 topics[i], *op);
                        ck_assert_double_eq(value(s), 0);
                }
                snprintf(s, sizeof(s), "sharebus_subscriber_tombstones_skipped_total{topic=\"%s\"}",
                         topics[i]);
                ck_assert_double_eq(value(s), 0);
                snprintf(s, sizeof(s), "sharebus_subscriber_events_dead_lettered_total{topic=\"%s\"}",
                         topics[i]);
                ck_assert_double_eq(value(s), 0);
                snprintf(s, sizeof(s), "sharebus_subscriber_last_applied_age_seconds{topic=\"%s\"}",
                         topics[i]);
                ck_assert(isnan(value(s)));
        }
        ck_assert_double_eq(value("sharebus_subscriber_batches_total"), 0);
        ck_assert_double_eq(value("sharebus_subscriber_batch_retries_total"), 0);
        ck_assert_double_eq(value("sharebus_subscriber_batch_records_count"), 0);
        ck_assert_double_eq(value("sharebus_subscriber_apply_latency_seconds_count"), 0);
        ck_assert_ptr_nonnull(strstr(text, "# TYPE sharebus_subscriber_last_applied_age_seconds gauge\n"));
        ck_assert_ptr_nonnull(strstr(text, "# TYPE sharebus_subscriber_batch_records histogram\n"));
        /* The empty names of the list (the trailing comma) are no topic. */
        ck_assert_ptr_null(strstr(text, "topic=\"\""));
}
END_TEST

/* A batch tried twice (rolled back once) and committed counts once, and
 * only after the sync. */
START_TEST(test_a_retried_batch_counts_once_after_the_sync) {
        for (int i = 0; i < 7; i++)
                sb_subscriber_metrics_consumed(sm, "market.license");
        for (int attempt = 0; attempt < 2; attempt++) {
                sb_subscriber_metrics_begin(sm);
                sb_subscriber_metrics_applied(sm, "market.license", 'c', 1000);
                sb_subscriber_metrics_applied(sm, "market.license", 'c', 2000);
                sb_subscriber_metrics_applied(sm, "market.license", 'u', 3000);
                sb_subscriber_metrics_applied(sm, "market.license", 'r', 3000);
                sb_subscriber_metrics_applied(sm, "market.license", 'd', 4000);
                sb_subscriber_metrics_tombstone(sm, "market.license");
                sb_subscriber_metrics_dead_letter(sm, "market.license");
                if (attempt == 0)
                        sb_subscriber_metrics_retry(sm);
        }
        sb_subscriber_metrics_committed(sm, 7, 0.2);
        render();
        ck_assert_double_eq(value(PER_TOPIC("events_consumed_total", "market.license")), 0);
        ck_assert_double_eq(value(APPLIED("market.license", "c")), 0);
        /* Batch-level figures are not held back. */
        ck_assert_double_eq(value("sharebus_subscriber_batches_total"), 1);
        ck_assert_double_eq(value("sharebus_subscriber_batch_retries_total"), 1);

        sb_subscriber_metrics_sync(sm);
        render();
        ck_assert_double_eq(value(PER_TOPIC("events_consumed_total", "market.license")), 7);
        ck_assert_double_eq(value(APPLIED("market.license", "c")), 2);
        ck_assert_double_eq(value(APPLIED("market.license", "u")), 1);
        ck_assert_double_eq(value(APPLIED("market.license", "r")), 1);
        ck_assert_double_eq(value(APPLIED("market.license", "d")), 1);
        ck_assert_double_eq(value(PER_TOPIC("tombstones_skipped_total", "market.license")), 1);
        ck_assert_double_eq(value(PER_TOPIC("events_dead_lettered_total", "market.license")), 1);
        ck_assert_double_eq(value(APPLIED("civil.resident", "c")), 0);
        ck_assert_double_eq(value("sharebus_subscriber_batch_records_count"), 1);
        ck_assert_double_eq(value("sharebus_subscriber_batch_records_sum"), 7);
        ck_assert_double_eq(value("sharebus_subscriber_batch_records_bucket{le=\"5\"}"), 0);
        ck_assert_double_eq(value("sharebus_subscriber_batch_records_bucket{le=\"10\"}"), 1);
        ck_assert_double_eq(value("sharebus_subscriber_apply_latency_seconds_count"), 1);
        ck_assert_double_eq(value("sharebus_subscriber_apply_latency_seconds_bucket{le=\"0.1\"}"), 0);
        ck_assert_double_eq(value("sharebus_subscriber_apply_latency_seconds_bucket{le=\"0.25\"}"), 1);

        /* A second sync with nothing new adds nothing. */
        sb_subscriber_metrics_sync(sm);
        render();
        ck_assert_double_eq(value(APPLIED("market.license", "c")), 2);
}
END_TEST

/* A batch that is never committed (a stop while retrying) leaves no trace
 * in the totals when the next batch commits. */
START_TEST(test_an_abandoned_try_is_forgotten_by_the_next_batch) {
        sb_subscriber_metrics_begin(sm);
        sb_subscriber_metrics_applied(sm, "civil.resident", 'c', 5000);
        sb_subscriber_metrics_retry(sm);
        sb_subscriber_metrics_begin(sm);
        sb_subscriber_metrics_applied(sm, "civil.resident", 'u', 1000);
        sb_subscriber_metrics_committed(sm, 1, 0.01);
        sb_subscriber_metrics_sync(sm);
        render();
        ck_assert_double_eq(value(APPLIED("civil.resident", "c")), 0);
        ck_assert_double_eq(value(APPLIED("civil.resident", "u")), 1);
        ck_assert_double_eq(sb_subscriber_metrics_age(sm, "civil.resident", 3000), 2.0);
}
END_TEST

/* Each change committed is observed once, at its commit, as the commit's
 * time minus its event time; a try rolled back observes nothing. */
START_TEST(test_event_latency_per_change_at_the_commit) {
        int64_t now = sb_clock_now_ms();
        for (int attempt = 0; attempt < 2; attempt++) {
                sb_subscriber_metrics_begin(sm);
                sb_subscriber_metrics_applied(sm, "market.license", 'c', now - 3000);
                sb_subscriber_metrics_applied(sm, "civil.resident", 'u', now - 120000);
                if (attempt == 0)
                        sb_subscriber_metrics_retry(sm);
        }
        render();
        ck_assert_double_eq(value("sharebus_subscriber_event_latency_seconds_count"), 0);
        sb_subscriber_metrics_committed(sm, 2, 0.1);
        render();
        ck_assert_double_eq(value("sharebus_subscriber_event_latency_seconds_count"), 2);
        ck_assert_double_eq(value("sharebus_subscriber_event_latency_seconds_bucket{le=\"2.5\"}"), 0);
        ck_assert_double_eq(value("sharebus_subscriber_event_latency_seconds_bucket{le=\"5\"}"), 1);
        ck_assert_double_eq(value("sharebus_subscriber_event_latency_seconds_bucket{le=\"60\"}"), 1);
        ck_assert_double_eq(value("sharebus_subscriber_event_latency_seconds_bucket{le=\"300\"}"), 2);
        ck_assert_double_ge(value("sharebus_subscriber_event_latency_seconds_sum"), 123.0);
        /* The next batch starts from nothing. */
        sb_subscriber_metrics_begin(sm);
        sb_subscriber_metrics_committed(sm, 0, 0.1);
        render();
        ck_assert_double_eq(value("sharebus_subscriber_event_latency_seconds_count"), 2);
}
END_TEST

/* The age is now minus the newest event time committed: an older change
 * committed later does not move it back; nothing committed is NaN. */
START_TEST(test_age_of_the_newest_event_time_committed) {
        ck_assert(isnan(sb_subscriber_metrics_age(sm, "market.license", 0)));
        sb_subscriber_metrics_begin(sm);
        sb_subscriber_metrics_applied(sm, "market.license", 'c', 10000);
        sb_subscriber_metrics_applied(sm, "market.license", 'u', 40000);
        sb_subscriber_metrics_applied(sm, "market.license", 'u', 20000);
        ck_assert(isnan(sb_subscriber_metrics_age(sm, "market.license", 0))); /* not committed yet */
        sb_subscriber_metrics_committed(sm, 3, 0.5);
        ck_assert_double_eq(sb_subscriber_metrics_age(sm, "market.license", 41500), 1.5);
        sb_subscriber_metrics_begin(sm);
        sb_subscriber_metrics_applied(sm, "market.license", 'd', 30000);
        sb_subscriber_metrics_committed(sm, 1, 0.5);
        ck_assert_double_eq(sb_subscriber_metrics_age(sm, "market.license", 41500), 1.5);
        /* Tombstones and dead letters carry no event time. */
        sb_subscriber_metrics_begin(sm);
        sb_subscriber_metrics_tombstone(sm, "market.license");
        sb_subscriber_metrics_committed(sm, 1, 0.5);
        ck_assert_double_eq(sb_subscriber_metrics_age(sm, "market.license", 41500), 1.5);
        ck_assert(isnan(sb_subscriber_metrics_age(sm, "civil.resident", 41500)));
        ck_assert(isnan(sb_subscriber_metrics_age(sm, "no.such", 41500)));

        /* The gauge renders it against the wall clock. */
        int64_t now = sb_clock_now_ms();
        sb_subscriber_metrics_begin(sm);
        sb_subscriber_metrics_applied(sm, "civil.resident", 'c', now - 60000);
        sb_subscriber_metrics_committed(sm, 1, 0.5);
        render();
        double age = value(PER_TOPIC("last_applied_age_seconds", "civil.resident"));
        ck_assert_msg(age >= 60 && age < 70, "age %g", age);
}
END_TEST

/* A record of a topic not in the list (a pattern subscription) gets the
 * topic's series when it comes. */
START_TEST(test_a_topic_outside_the_list_is_added) {
        sb_subscriber_metrics_consumed(sm, "tax.taxpayer");
        sb_subscriber_metrics_begin(sm);
        sb_subscriber_metrics_applied(sm, "tax.taxpayer", 'c', 1000);
        sb_subscriber_metrics_committed(sm, 1, 0.001);
        sb_subscriber_metrics_sync(sm);
        render();
        ck_assert_double_eq(value(PER_TOPIC("events_consumed_total", "tax.taxpayer")), 1);
        ck_assert_double_eq(value(APPLIED("tax.taxpayer", "c")), 1);
        ck_assert_double_eq(value(APPLIED("market.license", "c")), 0);
        ck_assert_double_eq(sb_subscriber_metrics_age(sm, "tax.taxpayer", 2000), 1.0);
}
END_TEST

/* With the set full, a new topic's records go uncounted (and the topic is
 * not registered again for each of them); the others still count. */
START_TEST(test_a_topic_the_full_set_refuses_goes_uncounted) {
        for (size_t i = sb_metrics_count(set); i < SB_METRICS_MAX - 2; i++) {
                char name[64];
                sb_metrics_counter_t *c;
                snprintf(name, sizeof(name), "filler_%zu_total", i);
                TEST_CALL(sb_metrics_register_counter(set, name, "Filler.", NULL, 0, &c, TEST_ERR));
        }
        for (int i = 0; i < 3; i++)
                sb_subscriber_metrics_consumed(sm, "tax.taxpayer");
        sb_subscriber_metrics_consumed(sm, "market.license");
        sb_subscriber_metrics_begin(sm);
        sb_subscriber_metrics_applied(sm, "tax.taxpayer", 'c', 1000);
        sb_subscriber_metrics_committed(sm, 1, 0.001);
        sb_subscriber_metrics_sync(sm);
        ck_assert_uint_eq(sb_metrics_count(set), SB_METRICS_MAX);
        render();
        /* The two series that fitted count; the rest were refused. */
        ck_assert_double_eq(value(PER_TOPIC("events_consumed_total", "tax.taxpayer")), 3);
        ck_assert_double_eq(value(APPLIED("tax.taxpayer", "c")), 1);
        ck_assert_ptr_null(strstr(text, APPLIED("tax.taxpayer", "u")));
        ck_assert_double_eq(sb_subscriber_metrics_age(sm, "tax.taxpayer", 2000), 1.0); /* kept, not shown */
        ck_assert_ptr_null(strstr(text, PER_TOPIC("last_applied_age_seconds", "tax.taxpayer")));
        ck_assert_double_eq(value(PER_TOPIC("events_consumed_total", "market.license")), 1);
}
END_TEST

START_TEST(test_null_handle_is_a_no_op) {
        sb_subscriber_metrics_consumed(NULL, "t");
        sb_subscriber_metrics_begin(NULL);
        sb_subscriber_metrics_applied(NULL, "t", 'c', 1);
        sb_subscriber_metrics_tombstone(NULL, "t");
        sb_subscriber_metrics_dead_letter(NULL, "t");
        sb_subscriber_metrics_committed(NULL, 1, 1);
        sb_subscriber_metrics_retry(NULL);
        sb_subscriber_metrics_sync(NULL);
        ck_assert(isnan(sb_subscriber_metrics_age(NULL, "t", 1)));
        sb_subscriber_metrics_destroy(NULL);
}
END_TEST

/* Registering twice in one set is refused (the names are taken), with the
 * set's reason; nothing leaks. */
START_TEST(test_second_registration_is_refused) {
        sb_subscriber_metrics_t *again = NULL;
        char errstr[256] = "";
        ck_assert_int_eq(sb_subscriber_metrics_new(set, "market.license", &again, errstr, sizeof(errstr)),
                         SB_ERR_INVALID);
        ck_assert_ptr_null(again);
        ck_assert_ptr_nonnull(strstr(errstr, "sharebus_subscriber_batches_total"));
}
END_TEST

int main(void) {
        Suite *s = suite_create("subscriber_metrics");
        TCase *tc = tcase_create("subscriber_metrics");
        tcase_add_checked_fixture(tc, setup, teardown);
        tcase_add_test(tc, test_every_series_at_zero_for_each_topic);
        tcase_add_test(tc, test_a_retried_batch_counts_once_after_the_sync);
        tcase_add_test(tc, test_an_abandoned_try_is_forgotten_by_the_next_batch);
        tcase_add_test(tc, test_age_of_the_newest_event_time_committed);
        tcase_add_test(tc, test_event_latency_per_change_at_the_commit);
        tcase_add_test(tc, test_a_topic_outside_the_list_is_added);
        tcase_add_test(tc, test_a_topic_the_full_set_refuses_goes_uncounted);
        tcase_add_test(tc, test_null_handle_is_a_no_op);
        tcase_add_test(tc, test_second_registration_is_refused);
        suite_add_tcase(s, tc);
        return test_run_suite(s);
}

/*
 * Unit tests of fetch_nudge (consumers/fetch_nudge.h): when a nudge is
 * due, and that one is sent to librdkafka's mock cluster (its effect, a
 * subscriber that keeps fetching while it catches up, is what make bench
 * measures on the real broker: subscriber.sqlite and .postgresql).
 */
#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>
#include <stdio.h>
#include <string.h>

#include "fetch_nudge.h"
#include "sb_clock.h"
#include "testutil.h"

typedef struct {
        rd_kafka_t *owner; /* owns the mock cluster */
        rd_kafka_mock_cluster_t *mc;
        rd_kafka_t *consumer;
        fetch_nudge_t *fn;
} fx_t;

static rd_kafka_t *consumer_of(const char *bootstraps) {
        char errstr[512];
        rd_kafka_conf_t *conf = rd_kafka_conf_new();
        ck_assert_int_eq(rd_kafka_conf_set(conf, "bootstrap.servers", bootstraps, errstr, sizeof(errstr)),
                         RD_KAFKA_CONF_OK);
        ck_assert_int_eq(rd_kafka_conf_set(conf, "group.id", "nudged", errstr, sizeof(errstr)),
                         RD_KAFKA_CONF_OK);
        ck_assert_int_eq(rd_kafka_conf_set(conf, "log_level", "0", errstr, sizeof(errstr)), RD_KAFKA_CONF_OK);
        rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_CONSUMER, conf, errstr, sizeof(errstr));
        ck_assert_msg(rk != NULL, "%s", errstr);
        rd_kafka_poll_set_consumer(rk);
        return rk;
}

static void fx_open(fx_t *fx, size_t low_water, int min_interval_ms) {
        char errstr[512];
        memset(fx, 0, sizeof(*fx));
        rd_kafka_conf_t *conf = rd_kafka_conf_new();
        rd_kafka_conf_set(conf, "log_level", "0", NULL, 0);
        ck_assert_ptr_nonnull(fx->owner = rd_kafka_new(RD_KAFKA_PRODUCER, conf, errstr, sizeof(errstr)));
        ck_assert_ptr_nonnull(fx->mc = rd_kafka_mock_cluster_new(fx->owner, 1));
        ck_assert_int_eq(rd_kafka_mock_topic_create(fx->mc, "a.b", 2, 1), 0);
        fx->consumer = consumer_of(rd_kafka_mock_cluster_bootstraps(fx->mc));
        TEST_CALL(fetch_nudge_new(fx->consumer, low_water, min_interval_ms, &fx->fn, TEST_ERR));
}

static void fx_close(fx_t *fx) {
        fetch_nudge_destroy(fx->fn);
        rd_kafka_destroy(fx->consumer);
        rd_kafka_mock_cluster_destroy(fx->mc);
        rd_kafka_destroy(fx->owner);
}

START_TEST(test_due_only_after_a_full_batch_that_left_little_queued) {
        fx_t fx;
        fx_open(&fx, 1000, 20);
        int64_t now = sb_clock_mono_ms();
        ck_assert_int_eq(fetch_nudge_due(fx.fn, 1, 999, now), 1);
        ck_assert_int_eq(fetch_nudge_due(fx.fn, 1, 0, now), 1);
        /* Enough queued: the fetcher has not stopped for want of room. */
        ck_assert_int_eq(fetch_nudge_due(fx.fn, 1, 1000, now), 0);
        /* A partial batch: the subscriber keeps up, the fetcher waits at the
         * log end by itself. */
        ck_assert_int_eq(fetch_nudge_due(fx.fn, 0, 0, now), 0);
        fx_close(&fx);
}
END_TEST

START_TEST(test_nudges_are_sent_and_spaced) {
        fx_t fx;
        fx_open(&fx, 1000, 60000);
        rd_kafka_topic_partition_list_t *parts = rd_kafka_topic_partition_list_new(2);
        rd_kafka_topic_partition_list_add(parts, "a.b", 0)->offset = 17; /* not changed by a nudge */
        rd_kafka_topic_partition_list_add(parts, "a.b", 1);
        /* Nothing assigned, nothing to nudge. */
        ck_assert_int_eq(fetch_nudge_after_batch(fx.fn, 1, NULL), 0);
        ck_assert_int_eq(fetch_nudge_after_batch(fx.fn, 0, parts), 0);
        ck_assert_uint_eq(fetch_nudge_count(fx.fn), 0);
        /* The queue is empty (nothing consumed): due, and sent. */
        ck_assert_int_eq(fetch_nudge_after_batch(fx.fn, 1, parts), 1);
        ck_assert_uint_eq(fetch_nudge_count(fx.fn), 1);
        ck_assert_int_eq(parts->elems[0].offset, 17);
        /* Within min_interval_ms: not again. */
        ck_assert_int_eq(fetch_nudge_after_batch(fx.fn, 1, parts), 0);
        ck_assert_int_eq(fetch_nudge_due(fx.fn, 1, 0, sb_clock_mono_ms() + 60000), 1);
        ck_assert_uint_eq(fetch_nudge_count(fx.fn), 1);
        ck_assert_uint_eq(fetch_nudge_count(NULL), 0);
        ck_assert_int_eq(fetch_nudge_after_batch(NULL, 1, parts), 0);
        rd_kafka_topic_partition_list_destroy(parts);
        fx_close(&fx);
}
END_TEST

int main(void) {
        Suite *s = suite_create("fetch_nudge");
        TCase *tc = tcase_create("core");
        tcase_set_timeout(tc, 60);
        tcase_add_test(tc, test_due_only_after_a_full_batch_that_left_little_queued);
        tcase_add_test(tc, test_nudges_are_sent_and_spaced);
        suite_add_tcase(s, tc);
        return test_run_suite(s);
}

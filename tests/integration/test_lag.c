/*
 * Integration: sharebus-lag's sampling and judgement (consumers/lag/) on
 * the real broker.  A consumer group with committed offsets, sampled by
 * lag_sampler through the Admin API: its committed and log end offsets per
 * partition, the `groups` filter, a group without commits; then the
 * samples of a group that stops committing, judged by lag_status: behind
 * and moving (OK), stuck (STALL), then longer than the window (STOP).
 */
#include <librdkafka/rdkafka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "lag/lag_sampler.h"
#include "lag/lag_status.h"
#include "lag/lag_window.h"
#include "sb_clock.h"

static h_env_t env; /* the suite's broker and registry, set up by main */

/* Commits `offsets` (one per partition of `topic`, -1: none) for `group`,
 * as a consumer of the group would. */
static void commit(const char *group, const char *topic, const int64_t *offsets, int partitions) {
        char errstr[512];
        rd_kafka_conf_t *conf = rd_kafka_conf_new();
        rd_kafka_conf_set(conf, "bootstrap.servers", env.bootstrap, NULL, 0);
        rd_kafka_conf_set(conf, "group.id", group, NULL, 0);
        rd_kafka_conf_set(conf, "enable.auto.commit", "false", NULL, 0);
        rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_CONSUMER, conf, errstr, sizeof(errstr));
        ck_assert_msg(rk != NULL, "%s", errstr);
        rd_kafka_topic_partition_list_t *l = rd_kafka_topic_partition_list_new(partitions);
        for (int p = 0; p < partitions; p++)
                if (offsets[p] >= 0)
                        rd_kafka_topic_partition_list_add(l, topic, p)->offset = offsets[p];
        ck_assert_int_eq(rd_kafka_commit(rk, l, 0), RD_KAFKA_RESP_ERR_NO_ERROR);
        rd_kafka_topic_partition_list_destroy(l);
        rd_kafka_consumer_close(rk);
        rd_kafka_destroy(rk);
}

static void produce(const char *topic, int partition, int count) {
        for (int i = 0; i < count; i++) {
                char v[32];
                int n = snprintf(v, sizeof(v), "v%d", i);
                h_produce_raw_to(&env, topic, partition, "k", 1, v, (size_t)n);
        }
}

/* What one sample saw of one group. */
typedef struct {
        const char *group;
        int entries;
        int64_t committed[4], log_end[4];
        char state[32];
        char error[256];
} seen_t;

static void on_offsets(void *opaque, const lag_offsets_t *o) {
        seen_t *s = opaque;
        if (strcmp(o->group, s->group) != 0)
                return;
        s->entries++;
        snprintf(s->state, sizeof(s->state), "%s", o->state);
        if (o->error)
                snprintf(s->error, sizeof(s->error), "%s", o->error);
        if (o->topic && o->partition >= 0 && o->partition < 4) {
                s->committed[o->partition] = o->committed;
                s->log_end[o->partition] = o->log_end;
        }
}

static lag_sampler_t *sampler(const char *groups) {
        char err[512] = "";
        sb_config_t *cfg = NULL;
        char text[512];
        snprintf(text, sizeof(text), "kafka = { bootstrap_servers = \"%s\"; };", env.bootstrap);
        ck_assert_msg(sb_config_load_string(text, "lag.conf", NULL, 0, &cfg, err, sizeof(err)) == SB_OK, "%s",
                      err);
        lag_sampler_t *s = NULL;
        ck_assert_msg(lag_sampler_new(cfg, groups, 10000, NULL, &s, err, sizeof(err)) == SB_OK, "%s", err);
        sb_config_destroy(cfg);
        return s;
}

static seen_t sample(lag_sampler_t *s, const char *group) {
        char err[512] = "";
        seen_t seen;
        memset(&seen, 0, sizeof(seen));
        for (int p = 0; p < 4; p++)
                seen.committed[p] = seen.log_end[p] = -2;
        seen.group = group;
        ck_assert_msg(lag_sampler_sample(s, on_offsets, &seen, err, sizeof(err)) == SB_OK, "%s", err);
        return seen;
}

START_TEST(committed_and_log_end_offsets_per_partition) {
        ck_assert_int_eq(h_create_topic(&env, "lag.t", 2), 0);
        produce("lag.t", 0, 10);
        produce("lag.t", 1, 4);
        const int64_t offsets[2] = {3, -1}; /* partition 1: nothing committed */
        commit("lag.g1", "lag.t", offsets, 2);
        lag_sampler_t *all = sampler(NULL);
        seen_t s = sample(all, "lag.g1");
        ck_assert_msg(s.entries == 1 && !s.error[0], "%d entries, %s", s.entries, s.error);
        ck_assert_int_eq(s.committed[0], 3);
        ck_assert_int_eq(s.log_end[0], 10);
        ck_assert_str_eq(s.state, "Empty"); /* no member: the consumer closed */
        /* Another group: sampled with its own offsets. */
        const int64_t more[2] = {10, 4};
        commit("lag.g2", "lag.t", more, 2);
        s = sample(all, "lag.g2");
        ck_assert_int_eq(s.entries, 2);
        ck_assert_int_eq(s.committed[0], 10);
        ck_assert_int_eq(s.committed[1], 4);
        ck_assert_int_eq(s.log_end[1], 4);
        lag_sampler_destroy(all);
        /* Named groups only. */
        lag_sampler_t *one = sampler("lag.nope, lag.g2");
        ck_assert_int_eq(sample(one, "lag.g1").entries, 0);
        ck_assert_int_eq(sample(one, "lag.g2").entries, 2);
        lag_sampler_destroy(one);
}
END_TEST

/* Samples of a real group, through the window and the rules: it moves while
 * behind (OK), stops moving (STALL once the window is full of it), and
 * stays so for longer than the window (STOP). */
START_TEST(a_group_that_stops_committing_stalls_then_stops) {
        ck_assert_int_eq(h_create_topic(&env, "lag.s", 1), 0);
        produce("lag.s", 0, 40);
        lag_sampler_t *s = sampler("lag.gs");
        lag_window_t *w = NULL;
        char err[256];
        ck_assert_int_eq(lag_window_new(3, &w, err, sizeof(err)), SB_OK);
        const int64_t window_ms = 3 * 1000; /* 3 samples, as if 1 s apart */
        int64_t now = sb_clock_now_ms();
        const int64_t at[] = {5, 10, 20, 20, 20};
        lag_verdict_t v;
        for (int k = 0; k < 5; k++) {
                commit("lag.gs", "lag.s", &at[k], 1);
                seen_t seen = sample(s, "lag.gs");
                ck_assert_int_eq(seen.committed[0], at[k]);
                ck_assert_int_eq(seen.log_end[0], 40);
                lag_sample_t smp = {now + k * 1000, seen.committed[0], seen.log_end[0], 0};
                lag_window_push(w, &smp);
                lag_status_evaluate(w, "lag.s", 0, now + k * 1000, window_ms, &v);
                if (k < 4)
                        ck_assert_msg(v.status == LAG_OK, "sample %d: %s: %s", k, lag_status_name(v.status),
                                      v.reason);
        }
        ck_assert_msg(v.status == LAG_STALL, "%s: %s", lag_status_name(v.status), v.reason);
        ck_assert_msg(strstr(v.reason, "partition 0 of lag.s: the committed offset stayed at 20") &&
                              strstr(v.reason, "20 behind"),
                      "%s", v.reason);
        lag_status_evaluate(w, "lag.s", 0, now + 2000 + window_ms + 1, window_ms, &v);
        ck_assert_msg(v.status == LAG_STOP, "%s: %s", lag_status_name(v.status), v.reason);
        ck_assert_str_eq(v.reason, "partition 0 of lag.s: no commit for 3 s, 20 behind");
        lag_window_destroy(w);
        lag_sampler_destroy(s);
}
END_TEST

int main(void) {
        if (h_env_start(&env) != 0)
                return 1;
        Suite *s = suite_create("lag");
        TCase *tc = tcase_create("lag");
        tcase_set_timeout(tc, 180);
        tcase_add_test(tc, committed_and_log_end_offsets_per_partition);
        tcase_add_test(tc, a_group_that_stops_committing_stalls_then_stops);
        suite_add_tcase(s, tc);
        int failed = h_run_suite(s);
        h_env_stop(&env);
        return failed ? 1 : 0;
}

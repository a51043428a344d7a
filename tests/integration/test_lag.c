/*
 * Integration: sharebus-lag's sampling and judgement (consumers/lag/) on
 * the real broker.  A consumer group with committed offsets, sampled by
 * lag_sampler through the Admin API: its committed and log end offsets per
 * partition, the `groups` filter, a group without commits; then the
 * samples of a group that stops committing, judged by lag_status: behind
 * and moving (OK), stuck (STALL), then longer than the window (STOP); and
 * the sharebus-lag daemon watching a real subscriber that catches up (OK),
 * falls behind while its database is free only moments (WARN), is stuck
 * behind its locked database (STALL, then STOP) and recovers,
 * through its log, /api/v1/groups, /metrics and /healthz.  Last, the
 * data-sharing scorecard (a department's dataset with changes, a rejects
 * and a dead-letter topic, a silent dataset, the registry's versions) and
 * the dashboard, loaded in headless Chromium (Debian's), which must show
 * the groups, a lagging group's status, the chart and the scorecard.
 */
#include <curl/curl.h>
#include <jansson.h>
#include <librdkafka/rdkafka.h>
#include <microhttpd.h>
#include <pthread.h>
#include <signal.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

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

/* `count` records "v0", "v1"... (not Avro) to the partition, one
 * producer for them all. */
static void produce(const char *topic, int partition, int count) {
        char errstr[256];
        rd_kafka_conf_t *conf = rd_kafka_conf_new();
        rd_kafka_conf_set(conf, "bootstrap.servers", env.bootstrap, NULL, 0);
        rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, errstr, sizeof(errstr));
        ck_assert_msg(rk != NULL, "%s", errstr);
        for (int i = 0; i < count; i++) {
                char v[32];
                int n = snprintf(v, sizeof(v), "v%d", i);
                ck_assert_int_eq(
                        rd_kafka_producev(rk, RD_KAFKA_V_TOPIC(topic), RD_KAFKA_V_PARTITION(partition),
                                          RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY), RD_KAFKA_V_KEY("k", 1),
                                          RD_KAFKA_V_VALUE(v, (size_t)n), RD_KAFKA_V_END),
                        RD_KAFKA_RESP_ERR_NO_ERROR);
        }
        ck_assert_int_eq(rd_kafka_flush(rk, 30000), RD_KAFKA_RESP_ERR_NO_ERROR);
        rd_kafka_destroy(rk);
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

/* GET http://127.0.0.1:<port><path> as JSON (NULL if it did not parse);
 * *status set. */
static json_t *get_json(int port, const char *path, long *status) {
        char url[512];
        h_reply_t r;
        snprintf(url, sizeof(url), "http://127.0.0.1:%d%s", port, path);
        *status = h_http("GET", url, NULL, NULL, NULL, &r);
        json_t *doc = r.text ? json_loads(r.text, 0, NULL) : NULL;
        h_reply_free(&r);
        return doc;
}

/* Waits (up to 60 s) until `log` holds `needle`. */
static void wait_log(const char *log, const char *needle) {
        for (int i = 0; i < 600 && !h_file_contains(log, needle); i++)
                h_sleep_ms(100);
        ck_assert_msg(h_file_contains(log, needle), "%s never logged \"%s\"", log, needle);
}

/* The webhook's receiver: refuses the first `fail` POSTs (503), then keeps
 * each body's "previous->status" in `seen`. */
typedef struct {
        struct MHD_Daemon *d;
        pthread_mutex_t lock;
        int fail, posts;
        char seen[512];
        char url[64];
} hook_t;

static enum MHD_Result on_hook(void *cls, struct MHD_Connection *c, const char *url, const char *method,
                               const char *version, const char *data, size_t *size, void **con_cls) {
        hook_t *h = cls;
        (void)url, (void)method, (void)version;
        if (!*con_cls) {
                *con_cls = calloc(1, 2048);
                return *con_cls ? MHD_YES : MHD_NO;
        }
        char *buf = *con_cls;
        if (*size) {
                size_t have = strlen(buf), n = *size < 2047 - have ? *size : 2047 - have;
                memcpy(buf + have, data, n);
                *size = 0;
                return MHD_YES;
        }
        pthread_mutex_lock(&h->lock);
        unsigned status = h->posts++ < h->fail ? 503 : 200;
        json_t *doc = status == 200 ? json_loads(buf, 0, NULL) : NULL;
        if (doc) {
                size_t at = strlen(h->seen);
                snprintf(h->seen + at, sizeof(h->seen) - at, "%s->%s;",
                         json_string_value(json_object_get(doc, "previous")),
                         json_string_value(json_object_get(doc, "status")));
                json_decref(doc);
        }
        pthread_mutex_unlock(&h->lock);
        struct MHD_Response *resp = MHD_create_response_from_buffer(0, (void *)"", MHD_RESPMEM_PERSISTENT);
        enum MHD_Result ret = MHD_queue_response(c, status, resp);
        MHD_destroy_response(resp);
        return ret;
}

static void on_hook_done(void *cls, struct MHD_Connection *c, void **con_cls,
                         enum MHD_RequestTerminationCode toe) {
        (void)cls, (void)c, (void)toe;
        free(*con_cls);
        *con_cls = NULL;
}

static int hook_has(hook_t *h, const char *needle) {
        pthread_mutex_lock(&h->lock);
        int found = strstr(h->seen, needle) != NULL;
        pthread_mutex_unlock(&h->lock);
        return found;
}

static int retry_at_once(void *opaque, int tries) {
        (void)opaque;
        return tries < 10000000;
}

START_TEST(sharebus_lag_follows_a_subscriber_through_stall_and_stop) {
        char lines[600], log[600], db[600], lag_log[600];
        h_copy_dataset(&env, "market.business_license", "lagd.license");
        ck_assert_int_eq(h_create_topic(&env, "lagd.license", 1), 0);
        ck_assert_int_eq(h_create_topic(&env, "dlq.lagd", 1), 0);
        h_write_sample(&env, "market.business_license", "lagd-1.jsonl", 100, 40, 3, lines, sizeof(lines));
        snprintf(log, sizeof(log), "%s", h_path(&env, "producer-lagd.log"));
        ck_assert_int_eq(h_run_producer(&env, "lagd", "license", NULL, lines, NULL, log), 0);
        snprintf(lag_log, sizeof(lag_log), "%s", h_path(&env, "lag.log"));
        hook_t hook = {.fail = 2};
        pthread_mutex_init(&hook.lock, NULL);
        hook.d = MHD_start_daemon(MHD_USE_INTERNAL_POLLING_THREAD, 0, NULL, NULL, on_hook, &hook,
                                  MHD_OPTION_NOTIFY_COMPLETED, on_hook_done, NULL, MHD_OPTION_END);
        ck_assert_ptr_nonnull(hook.d);
        snprintf(hook.url, sizeof(hook.url), "http://127.0.0.1:%u/alerts",
                 MHD_get_daemon_info(hook.d, MHD_DAEMON_INFO_BIND_PORT)->port);
        const char *conf =
                h_write_file(&env, "lag.conf",
                             "groups = \"sharebus.lagd\";\ninterval_ms = 300;\nwindow = 5;\n"
                             "metrics_listen = \"127.0.0.1:0\";\nwebhook_url = \"%s\";\n"
                             "webhook_backoff_ms = 50;\nkafka = { bootstrap_servers = \"%s\"; };\n",
                             hook.url, env.bootstrap);
        pid_t lag = h_start_program(&env, "sharebus-lag", conf, lag_log);
        int port = h_logged_port(lag_log);
        ck_assert_int_gt(port, 0);

        /* The subscriber applies everything: the group is watched, OK. */
        snprintf(db, sizeof(db), "%s", h_path(&env, "lagd.db"));
        snprintf(log, sizeof(log), "%s", h_path(&env, "subscriber-lagd.log"));
        pid_t sub = h_start_subscriber(&env, "lagd", "lagd.license", NULL, db, "info", "batch_size = 20;",
                                       NULL, log);
        long status = 0;
        json_t *g = NULL;
        for (int i = 0; i < 600; i++) {
                json_decref(g);
                g = get_json(port, "/api/v1/groups/sharebus.lagd", &status);
                json_t *parts = g ? json_object_get(g, "partitions") : NULL;
                json_t *p0 = parts ? json_array_get(parts, 0) : NULL;
                if (p0 && json_integer_value(json_object_get(p0, "lag")) == 0 &&
                    json_integer_value(json_object_get(p0, "log_end")) > 0)
                        break;
                h_sleep_ms(100);
        }
        ck_assert_int_eq(status, 200);
        ck_assert_str_eq(json_string_value(json_object_get(g, "status")), "OK");
        json_decref(g);

        /* Its database free only a moment in every cycle while changes keep
         * coming: it commits, yet the lag grows at every sample: WARN. */
        sqlite3 *lock = NULL;
        ck_assert_int_eq(sqlite3_open(db, &lock), SQLITE_OK);
        /* Waiting for the lock without sleeping, so that it is taken back
         * right after the subscriber's next commit, not minutes later. */
        sqlite3_busy_handler(lock, retry_at_once, NULL);
        ck_assert_int_eq(sqlite3_exec(lock, "BEGIN IMMEDIATE", NULL, NULL, NULL), SQLITE_OK);
        const char *warn = "-> WARN: partition 0 of lagd.license: falling behind: the lag grew from";
        for (int i = 0; i < 100 && !h_file_contains(lag_log, warn); i++) {
                /* More than the moment lets through: not Avro, so dead
                 * letters, which are applied (their offsets) as any record. */
                produce("lagd.license", 0, 500);
                const char *q = "SELECT max(next_offset) FROM sharebus_offsets WHERE topic = 'lagd.license'";
                long long before = h_sqlite_int(db, q);
                ck_assert_int_eq(sqlite3_exec(lock, "ROLLBACK", NULL, NULL, NULL), SQLITE_OK);
                for (int k = 0; k < 2000 && h_sqlite_int(db, q) == before; k++)
                        h_sleep_ms(1);
                ck_assert_int_eq(sqlite3_exec(lock, "BEGIN IMMEDIATE", NULL, NULL, NULL), SQLITE_OK);
                h_sleep_ms(100);
        }
        wait_log(lag_log, warn);
        ck_assert_int_eq(sqlite3_exec(lock, "ROLLBACK", NULL, NULL, NULL), SQLITE_OK);

        /* Its database locked by another writer: the new changes wait,
         * the committed offset stands still while the lag is there. */
        ck_assert_int_eq(sqlite3_exec(lock, "BEGIN IMMEDIATE", NULL, NULL, NULL), SQLITE_OK);
        h_write_sample(&env, "market.business_license", "lagd-2.jsonl", 100, 40, 4, lines, sizeof(lines));
        snprintf(log, sizeof(log), "%s", h_path(&env, "producer-lagd-2.log"));
        ck_assert_int_eq(h_run_producer(&env, "lagd", "license", NULL, lines, NULL, log), 0);
        wait_log(lag_log, "-> STALL: partition 0 of lagd.license: the committed offset stayed at");
        wait_log(lag_log, "group sharebus.lagd: STALL -> STOP: partition 0 of lagd.license: no commit for");
        g = get_json(port, "/api/v1/groups/sharebus.lagd", &status);
        ck_assert_str_eq(json_string_value(json_object_get(g, "status")), "STOP");
        ck_assert_str_eq(json_string_value(json_object_get(g, "state")), "Stable"); /* alive, stuck */
        json_int_t behind = json_integer_value(json_object_get(g, "lag"));
        ck_assert_int_gt(behind, 0);
        ck_assert_msg(strstr(json_string_value(json_object_get(g, "reason")), "behind"), "%s",
                      json_string_value(json_object_get(g, "reason")));
        ck_assert_double_gt(json_real_value(json_object_get(g, "lag_seconds")), 0);
        json_decref(g);
        /* The list, /metrics and an unknown group. */
        g = get_json(port, "/api/v1/groups", &status);
        ck_assert_int_eq(status, 200);
        json_t *first = json_array_get(json_object_get(g, "groups"), 0);
        ck_assert_str_eq(json_string_value(json_object_get(first, "group")), "sharebus.lagd");
        ck_assert_int_eq(json_integer_value(json_object_get(first, "partitions")), 1);
        json_decref(g);
        g = get_json(port, "/api/v1/groups/nobody", &status);
        ck_assert_int_eq(status, 404);
        ck_assert_str_eq(json_string_value(json_object_get(g, "error")), "no such group: nobody");
        json_decref(g);
        char url[128], want[256];
        h_reply_t r;
        snprintf(url, sizeof(url), "http://127.0.0.1:%d/metrics", port);
        ck_assert_int_eq(h_http("GET", url, NULL, NULL, NULL, &r), 200);
        ck_assert_msg(strstr(r.text, "sharebus_consumergroup_status{group=\"sharebus.lagd\"} 4\n"), "%s",
                      r.text);
        snprintf(want, sizeof(want),
                 "sharebus_consumergroup_lag{group=\"sharebus.lagd\",topic=\"lagd.license\",partition=\"0\"} "
                 "%lld\n",
                 (long long)behind);
        ck_assert_msg(strstr(r.text, want), "%s in %s", want, r.text);
        ck_assert_msg(strstr(r.text, "sharebus_lag_samples_total "), "%s", r.text);
        h_reply_free(&r);
        snprintf(url, sizeof(url), "http://127.0.0.1:%d/healthz", port);
        ck_assert_int_eq(h_http("GET", url, NULL, NULL, NULL, &r), 200);
        h_reply_free(&r);

        /* The lock released: the subscriber catches up, the group is OK. */
        ck_assert_int_eq(sqlite3_exec(lock, "ROLLBACK", NULL, NULL, NULL), SQLITE_OK);
        sqlite3_close(lock);
        wait_log(lag_log, "group sharebus.lagd: STOP -> OK");
        /* The webhook got each change, in order, after refusing two tries. */
        for (int i = 0; i < 300 && !hook_has(&hook, "STOP->OK;"); i++)
                h_sleep_ms(100);
        ck_assert_msg(hook_has(&hook, "OK->WARN;") && hook_has(&hook, "->STALL;STALL->STOP;STOP->OK;") &&
                              strstr(hook.seen, "OK->WARN;") < strstr(hook.seen, "->STALL;"),
                      "webhook saw %s", hook.seen);
        ck_assert(h_file_contains(lag_log, "alert webhook: HTTP 503; trying again"));
        MHD_stop_daemon(hook.d);
        pthread_mutex_destroy(&hook.lock);
        kill(sub, SIGTERM);
        ck_assert_int_eq(h_wait(sub, 60000), 0);
        kill(lag, SIGTERM);
        ck_assert_int_eq(h_wait(lag, 30000), 0);
        ck_assert(h_file_contains(lag_log, "stopped"));
}
END_TEST

/* A bad setting stops the start with its file, line and name. */
START_TEST(sharebus_lag_refuses_a_bad_config) {
        static const char *const bad[][2] = {
                {"window = 1;\n", "lag-bad-0.conf:1: setting 'window'"},
                {"\nthresholds = ( { group = \"g\"; lags = 5; } );\n",
                 "lag-bad-1.conf:2: setting 'thresholds': unknown 'lags'"},
                {"thresholds = ( { lag = 5; } );\n",
                 "lag-bad-2.conf:1: setting 'thresholds': each needs group"},
                {"dashboard_dir = \"/nonexistent/dashboard\";\n",
                 "lag-bad-3.conf: setting 'dashboard_dir': dashboard file /nonexistent/dashboard/index.html: "
                 "No "
                 "such file or directory"},
        };
        for (int i = 0; i < 4; i++) {
                char name[32], log[700], bin[600], conf[600];
                snprintf(name, sizeof(name), "lag-bad-%d.conf", i);
                snprintf(conf, sizeof(conf), "%s", h_write_file(&env, name, "%s", bad[i][0]));
                snprintf(log, sizeof(log), "%s.log", conf);
                snprintf(bin, sizeof(bin), "%s", h_bin(&env, "sharebus-lag"));
                char *argv[] = {bin, "--config", conf, NULL};
                ck_assert_int_eq(h_run(argv, log, 30000), 2);
                ck_assert_msg(h_file_contains(log, bad[i][1]), "no \"%s\" in %s", bad[i][1], log);
        }
}
END_TEST

/* A member of array `list` whose `key` is the string `value`. */
static json_t *find_in(json_t *list, const char *key, const char *value) {
        size_t i;
        json_t *o;
        json_array_foreach(list, i, o) {
                const char *v = json_string_value(json_object_get(o, key));
                if (v && strcmp(v, value) == 0)
                        return o;
        }
        return NULL;
}

/* What lag_sampler_count_topics said of one topic. */
typedef struct {
        const char *topic;
        int found, partitions;
        int64_t hour, day, kept;
} counted_t;

static void on_count(void *opaque, const lag_topic_count_t *c) {
        counted_t *want = opaque;
        if (strcmp(c->topic, want->topic) != 0)
                return;
        ck_assert_msg(c->error == NULL, "%s: %s", c->topic, c->error);
        want->found++;
        want->partitions = c->partitions;
        want->hour = c->last_hour;
        want->day = c->last_day;
        want->kept = c->retained;
}

/* lag_sampler_count_topics: what a topic took in, from its offsets by
 * time; Kafka's own topics are left out. */
START_TEST(records_per_hour_and_day_of_every_topic) {
        ck_assert_int_eq(h_create_topic(&env, "lagc.counted", 2), 0);
        produce("lagc.counted", 0, 7);
        produce("lagc.counted", 1, 5);
        lag_sampler_t *s = sampler(NULL);
        counted_t got = {.topic = "lagc.counted"}, internal = {.topic = "__consumer_offsets"};
        char err[512] = "";
        ck_assert_msg(lag_sampler_count_topics(s, sb_clock_now_ms(), on_count, &got, err, sizeof(err)) ==
                              SB_OK,
                      "%s", err);
        ck_assert_int_eq(got.found, 1);
        ck_assert_int_eq(got.partitions, 2);
        ck_assert_int_eq(got.hour, 12);
        ck_assert_int_eq(got.day, 12);
        ck_assert_int_eq(got.kept, 12);
        /* Seen from two hours on, the records are older than an hour (but
         * not than a day). */
        got.found = 0;
        ck_assert(lag_sampler_count_topics(s, sb_clock_now_ms() + 2 * 3600 * 1000, on_count, &got, err,
                                           sizeof(err)) == SB_OK);
        ck_assert_int_eq(got.hour, 0);
        ck_assert_int_eq(got.day, 12);
        ck_assert(lag_sampler_count_topics(s, sb_clock_now_ms(), on_count, &internal, err, sizeof(err)) ==
                  SB_OK);
        ck_assert_int_eq(internal.found, 0);
        lag_sampler_destroy(s);
}
END_TEST

/* Runs headless Chromium on `url` with `args` (one string, split at
 * spaces), its output into `out`; returns its exit code. */
static int chromium(const char *args, const char *url, const char *out) {
        char cmd[3072], out_path[700], profile[700];
        /* (`out` may be h_path's buffer, which the next h_path overwrites.) */
        snprintf(out_path, sizeof(out_path), "%s", out);
        snprintf(profile, sizeof(profile), "%s", h_path(&env, "chromium-profile"));
        /* As root (the CI) Chromium needs --no-sandbox; its own profile
         * folder, so that runs do not share state. */
        snprintf(cmd, sizeof(cmd),
                 "chromium --headless --no-sandbox --disable-gpu --disable-dev-shm-usage --no-first-run "
                 "--user-data-dir='%s' %s '%s' > '%s' 2> '%s.stderr'",
                 profile, args, url, out_path, out_path);
        int rc = system(cmd);
        return WIFEXITED(rc) ? WEXITSTATUS(rc) : 128;
}

/* The scorecard and the dashboard of a small exchange: department scdept
 * publishes dataset scdept.permit (through the producer, so the registry
 * has its schema) and has rejects; scdept.silent has no change and no
 * subscriber; subscriber sharebus.scview read a part of scdept.permit and
 * stopped, with two dead letters. */
START_TEST(scorecard_and_dashboard_in_a_real_browser) {
        char lines[600], log[600], lag_log[600];
        h_copy_dataset(&env, "market.business_license", "scdept.permit");
        ck_assert_int_eq(h_create_topic(&env, "scdept.permit", 2), 0);
        ck_assert_int_eq(h_create_topic(&env, "scdept.silent", 1), 0);
        ck_assert_int_eq(h_create_topic(&env, "dlq.scview", 1), 0);
        int deletes = h_write_sample(&env, "market.business_license", "scdept.jsonl", 60, 30, 5, lines,
                                     sizeof(lines));
        snprintf(log, sizeof(log), "%s", h_path(&env, "producer-scdept.log"));
        ck_assert_int_eq(h_run_producer(&env, "scdept", "permit", NULL, lines, NULL, log), 0);
        produce("rejects.scdept", 0, 3);
        produce("dlq.scview", 0, 2);
        const int64_t at[2] = {1, 1};
        commit("sharebus.scview", "scdept.permit", at, 2);
        /* Behind since before sharebus-lag starts: the age of its oldest
         * unread change is read from that record's time, not bounded by
         * the samples. */
        int64_t published = sb_clock_now_ms();
        h_sleep_ms(3000);

        snprintf(lag_log, sizeof(lag_log), "%s", h_path(&env, "lag-sc.log"));
        const char *conf = h_write_file(&env, "lag-sc.conf",
                                        "interval_ms = 300;\nwindow = 3;\nscorecard_interval_ms = 1000;\n"
                                        "metrics_listen = \"127.0.0.1:0\";\nregistry_url = \"%s\";\n"
                                        "kafka = { bootstrap_servers = \"%s\"; };\n",
                                        env.registry_url, env.bootstrap);
        pid_t lag = h_start_program(&env, "sharebus-lag", conf, lag_log);
        int port = h_logged_port(lag_log);
        ck_assert_int_gt(port, 0);

        /* The scorecard, once it has counted after the commit. */
        long status = 0;
        json_t *sc = NULL, *ds = NULL;
        for (int i = 0; i < 300; i++) {
                json_decref(sc);
                sc = get_json(port, "/api/v1/scorecard", &status);
                json_t *dept = find_in(json_object_get(sc, "departments"), "department", "scdept");
                ds = find_in(json_object_get(dept, "datasets"), "topic", "scdept.permit");
                json_t *sub = find_in(json_object_get(ds, "subscribers"), "group", "sharebus.scview");
                if (sub && strcmp(json_string_value(json_object_get(sub, "status")), "STOP") == 0 &&
                    json_object_get(dept, "rejects") && !json_is_null(json_object_get(dept, "rejects")))
                        break;
                ds = NULL;
                h_sleep_ms(100);
        }
        ck_assert_int_eq(status, 200);
        ck_assert_msg(ds != NULL, "no scdept.permit read by sharebus.scview in the scorecard");
        json_t *dept = find_in(json_object_get(sc, "departments"), "department", "scdept");
        /* Every change and each delete's tombstone. */
        json_int_t records = 60 + deletes;
        ck_assert_int_eq(json_integer_value(json_object_get(ds, "changes_last_hour")), records);
        ck_assert_int_eq(json_integer_value(json_object_get(ds, "changes_last_day")), records);
        ck_assert_int_eq(json_integer_value(json_object_get(ds, "partitions")), 2);
        ck_assert_int_eq(json_integer_value(json_object_get(ds, "schema_version")), 1);
        json_t *sub = find_in(json_object_get(ds, "subscribers"), "group", "sharebus.scview");
        ck_assert_int_eq(json_integer_value(json_object_get(sub, "lag")), records - 2);
        double age = json_real_value(json_object_get(sub, "lag_seconds"));
        double at_least = (double)(sb_clock_now_ms() - published) / 1000.0 - 1.0;
        ck_assert_msg(age >= at_least, "sharebus.scview's oldest unread change is %.3f s old, not %.3f", age,
                      at_least);
        ck_assert_int_eq(json_integer_value(json_object_get(sub, "dead_letters_last_day")), 2);
        ck_assert_int_eq(json_integer_value(json_object_get(json_object_get(dept, "rejects"), "last_day")),
                         3);
        json_t *silent = find_in(json_object_get(dept, "datasets"), "topic", "scdept.silent");
        ck_assert_ptr_nonnull(silent);
        ck_assert_int_eq(json_integer_value(json_object_get(silent, "changes_last_day")), 0);
        ck_assert_int_eq(json_array_size(json_object_get(silent, "subscribers")), 0);
        ck_assert(json_is_null(json_object_get(silent, "schema_version")));
        ck_assert(find_in(json_object_get(sc, "dead_letters"), "topic", "dlq.scview"));
        ck_assert(json_is_null(json_object_get(json_object_get(sc, "registry"), "error")));
        ck_assert_int_ge(json_integer_value(
                                 json_object_get(json_object_get(sc, "totals"), "datasets_silent_last_day")),
                         1);
        json_decref(sc);
        json_t *hist = get_json(port, "/api/v1/history", &status);
        ck_assert_int_eq(status, 200);
        ck_assert_int_ge(json_array_size(json_object_get(hist, "t")), 3);
        ck_assert_ptr_nonnull(find_in(json_object_get(hist, "groups"), "group", "sharebus.scview"));
        json_decref(hist);

        /* The page in a real browser: the groups, the stopped one's status,
         * the chart (uPlot's canvas) and the scorecard, after its scripts
         * ran; then a screenshot, kept under the test's folder in build/. */
        char url[128], dom[600], shot_dir[1200], shot[1300], args[1400];
        snprintf(url, sizeof(url), "http://127.0.0.1:%d/", port);
        snprintf(dom, sizeof(dom), "%s", h_path(&env, "dashboard.html"));
        ck_assert_int_eq(chromium("--dump-dom --virtual-time-budget=8000", url, dom), 0);
        ck_assert_msg(h_file_contains(dom, "<tr data-group=\"sharebus.scview\" data-status=\"STOP\">"),
                      "no stopped sharebus.scview in %s", dom);
        ck_assert_msg(h_file_contains(dom, "class=\"status status-STOP\">STOP</span>"), "%s", dom);
        ck_assert_msg(h_file_contains(dom, "class=\"uplot"), "no chart in %s", dom);
        ck_assert_msg(h_file_contains(dom, "<canvas"), "no chart canvas in %s", dom);
        ck_assert_msg(h_file_contains(dom, "<tr data-dataset=\"scdept.permit\">"), "no scorecard row in %s",
                      dom);
        ck_assert_msg(h_file_contains(dom, "<div data-subscriber=\"sharebus.scview\">"), "%s", dom);
        ck_assert_msg(h_file_contains(dom, "no subscriber"), "scdept.silent not shown in %s", dom);
        snprintf(shot_dir, sizeof(shot_dir), "%s/build/tests/test_lag.out", env.src);
        mkdir(shot_dir, 0755);
        snprintf(shot, sizeof(shot), "%s/dashboard.png", shot_dir);
        remove(shot);
        snprintf(args, sizeof(args),
                 "--screenshot='%s' --window-size=1280,1400 --virtual-time-budget=8000 --hide-scrollbars",
                 shot);
        ck_assert_int_eq(chromium(args, url, h_path(&env, "screenshot.log")), 0);
        struct stat st;
        ck_assert_msg(stat(shot, &st) == 0 && st.st_size > 20000, "no screenshot %s", shot);
        fprintf(stderr, "dashboard screenshot: %s (%lld bytes)\n", shot, (long long)st.st_size);

        /* The dashboard's own files only: nothing else behind /dashboard/. */
        h_reply_t r;
        snprintf(url, sizeof(url), "http://127.0.0.1:%d/dashboard/uPlot.iife.min.js", port);
        ck_assert_int_eq(h_http("GET", url, NULL, NULL, NULL, &r), 200);
        ck_assert_msg(r.text && strstr(r.text, "uPlot"), "not uPlot");
        h_reply_free(&r);
        snprintf(url, sizeof(url), "http://127.0.0.1:%d/dashboard/..%%2f..%%2fbin%%2fsharebus-lag", port);
        ck_assert_int_eq(h_http("GET", url, NULL, NULL, NULL, &r), 404);
        h_reply_free(&r);
        kill(lag, SIGTERM);
        ck_assert_int_eq(h_wait(lag, 30000), 0);
}
END_TEST

int main(void) {
        curl_global_init(CURL_GLOBAL_DEFAULT);
        if (h_env_start(&env) != 0)
                return 1;
        Suite *s = suite_create("lag");
        TCase *tc = tcase_create("lag");
        tcase_set_timeout(tc, 180);
        tcase_add_test(tc, committed_and_log_end_offsets_per_partition);
        tcase_add_test(tc, a_group_that_stops_committing_stalls_then_stops);
        tcase_add_test(tc, sharebus_lag_follows_a_subscriber_through_stall_and_stop);
        tcase_add_test(tc, sharebus_lag_refuses_a_bad_config);
        tcase_add_test(tc, records_per_hour_and_day_of_every_topic);
        tcase_add_test(tc, scorecard_and_dashboard_in_a_real_browser);
        suite_add_tcase(s, tc);
        int failed = h_run_suite(s);
        h_env_stop(&env);
        curl_global_cleanup();
        return failed ? 1 : 0;
}

/*
 * Integration: sharebus-subscriber as operators see it, on a real broker
 * and a real sharebus-registry: /metrics against what two producers
 * published (per topic and op, tombstones, a dead letter, the batches and
 * their histograms, the age of the newest event time), and /healthz going
 * 503 with the reason while the SQLite target is locked by another
 * connection, back to 200 once it is released; history mode on the same
 * pipeline.
 */
#include <curl/curl.h>
#include <math.h>
#include <signal.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "harness.h"
#include "scrape.h"

static h_env_t env; /* the suite's broker and registry, set up by main */

typedef struct {
        int c, u, d;      /* changes by op */
        long long max_ts; /* newest ts_ms */
} ops_t;

/* What the change lines of `path` hold. */
static ops_t count_ops(const char *path) {
        ops_t o = {0, 0, 0, -1};
        FILE *f = fopen(path, "r");
        char line[16384];
        ck_assert_ptr_nonnull(f);
        while (fgets(line, sizeof(line), f)) {
                json_t *ev = json_loads(line, 0, NULL);
                ck_assert_ptr_nonnull(ev);
                const char *op = json_string_value(json_object_get(ev, "op"));
                ck_assert_ptr_nonnull(op);
                *(op[0] == 'c' ? &o.c : op[0] == 'u' ? &o.u : &o.d) += 1;
                long long ts = json_integer_value(json_object_get(ev, "ts_ms"));
                if (ts > o.max_ts)
                        o.max_ts = ts;
                json_decref(ev);
        }
        fclose(f);
        return o;
}

#define PER_TOPIC(name, topic) "sharebus_subscriber_" name "{topic=\"" topic "\"}"
#define APPLIED(topic, op) "sharebus_subscriber_events_applied_total{topic=\"" topic "\",op=\"" op "\"}"

static void assert_applied(const char *text, const char *c, const char *u, const char *r, const char *d,
                           const ops_t *o) {
        ck_assert_double_eq(scrape_metric(text, c), o->c);
        ck_assert_double_eq(scrape_metric(text, u), o->u);
        ck_assert_double_eq(scrape_metric(text, r), 0);
        ck_assert_double_eq(scrape_metric(text, d), o->d);
}

/* Two topics, one poison record: every counter says what was published,
 * each record lies in exactly one committed batch, the age is that of the
 * newest event time, /healthz is 200, SIGTERM stops it with exit 0. */
START_TEST(subscriber_metrics_count_what_was_applied) {
        char license[600], resident[600], db[600], log[600];
        h_copy_dataset(&env, "market.business_license", "subm.license");
        h_copy_dataset(&env, "civil.resident", "subm.resident");
        ck_assert_int_eq(h_create_topic(&env, "subm.license", 3), 0);
        ck_assert_int_eq(h_create_topic(&env, "subm.resident", 1), 0);
        ck_assert_int_eq(h_create_topic(&env, "dlq.subm", 1), 0);
        h_write_sample(&env, "market.business_license", "subm-license.jsonl", 300, 80, 5, license,
                       sizeof(license));
        h_write_sample(&env, "civil.resident", "subm-resident.jsonl", 200, 60, 6, resident, sizeof(resident));
        ops_t lic = count_ops(license), res = count_ops(resident);
        ck_assert_int_gt(lic.d, 0);
        snprintf(log, sizeof(log), "%s", h_path(&env, "producer-subm.log"));
        ck_assert_int_eq(h_run_producer(&env, "subm", "license", NULL, license, NULL, log), 0);
        ck_assert_int_eq(h_run_producer(&env, "subm", "resident", NULL, resident, NULL, log), 0);
        char key[] = "k", hello[] = "hello!"; /* not in the wire format: a dead letter */
        h_produce_raw(&env, "subm.license", key, 1, hello, 6);
        /* Each delete is followed by its tombstone. */
        double lic_records = 300 + lic.d + 1, res_records = 200 + res.d;

        snprintf(db, sizeof(db), "%s", h_path(&env, "subm.db"));
        snprintf(log, sizeof(log), "%s", h_path(&env, "subscriber-subm.log"));
        pid_t pid = h_start_subscriber(&env, "subm", "subm.license,subm.resident", NULL, db, NULL,
                                       "metrics_listen = \"127.0.0.1:0\";\nbatch_size = 64;",
                                       "session_timeout_ms = 6000;", log);
        ck_assert_int_gt(pid, 0);
        int port = h_logged_port(log);
        ck_assert_msg(port > 0, "no port in %s", log);

        char *text = scrape_until(port, "sharebus_subscriber_batch_records_sum", lic_records + res_records);
        ck_assert_double_eq(scrape_metric(text, "sharebus_subscriber_batch_records_sum"),
                            lic_records + res_records);
        /* The counters are brought up once per loop, just after the commit:
         * scrape again once they have caught up. */
        free(text);
        text = scrape_until(port, PER_TOPIC("events_consumed_total", "subm.resident"), res_records);
        free(text);
        text = scrape_until(port, PER_TOPIC("events_consumed_total", "subm.license"), lic_records);
        ck_assert_double_eq(scrape_metric(text, PER_TOPIC("events_consumed_total", "subm.license")),
                            lic_records);
        ck_assert_double_eq(scrape_metric(text, PER_TOPIC("events_consumed_total", "subm.resident")),
                            res_records);
        assert_applied(text, APPLIED("subm.license", "c"), APPLIED("subm.license", "u"),
                       APPLIED("subm.license", "r"), APPLIED("subm.license", "d"), &lic);
        assert_applied(text, APPLIED("subm.resident", "c"), APPLIED("subm.resident", "u"),
                       APPLIED("subm.resident", "r"), APPLIED("subm.resident", "d"), &res);
        ck_assert_double_eq(scrape_metric(text, PER_TOPIC("tombstones_skipped_total", "subm.license")),
                            lic.d);
        ck_assert_double_eq(scrape_metric(text, PER_TOPIC("tombstones_skipped_total", "subm.resident")),
                            res.d);
        ck_assert_double_eq(scrape_metric(text, PER_TOPIC("events_dead_lettered_total", "subm.license")), 1);
        ck_assert_double_eq(scrape_metric(text, PER_TOPIC("events_dead_lettered_total", "subm.resident")), 0);
        ck_assert_double_eq(scrape_metric(text, "sharebus_subscriber_batch_retries_total"), 0);

        /* One observation of each histogram per committed batch; at most 64
         * records in each, so at least ceil(total / 64) of them. */
        double batches = scrape_metric(text, "sharebus_subscriber_batches_total");
        ck_assert_double_ge(batches, ceil((lic_records + res_records) / 64));
        ck_assert_double_eq(scrape_metric(text, "sharebus_subscriber_batch_records_count"), batches);
        ck_assert_double_eq(scrape_metric(text, "sharebus_subscriber_batch_records_bucket{le=\"100\"}"),
                            batches);
        ck_assert_double_eq(scrape_metric(text, "sharebus_subscriber_apply_latency_seconds_count"), batches);
        ck_assert_double_eq(
                scrape_metric(text, "sharebus_subscriber_apply_latency_seconds_bucket{le=\"+Inf\"}"),
                batches);
        ck_assert_double_ge(scrape_metric(text, "sharebus_subscriber_apply_latency_seconds_sum"), 0);

        /* The age is of the event time: the sample's clock starts in 2025,
         * far from the time the records were produced. */
        double now = (double)time(NULL);
        double age_lic = scrape_metric(text, PER_TOPIC("last_applied_age_seconds", "subm.license"));
        double age_res = scrape_metric(text, PER_TOPIC("last_applied_age_seconds", "subm.resident"));
        ck_assert_msg(fabs(age_lic - (now - (double)lic.max_ts / 1000)) < 120, "license age %f, newest %lld",
                      age_lic, lic.max_ts);
        ck_assert_msg(fabs(age_res - (now - (double)res.max_ts / 1000)) < 120, "resident age %f, newest %lld",
                      age_res, res.max_ts);
        free(text);

        char body[512];
        ck_assert_int_eq(scrape_health_until(port, 200, body, sizeof(body)), 200);
        ck_assert_str_eq(body, "{\"status\":\"ok\"}");

        ck_assert_int_eq(kill(pid, SIGTERM), 0);
        ck_assert_int_eq(h_wait(pid, 60000), 0);
        char summary[256];
        snprintf(summary, sizeof(summary),
                 "stopped: %d upserts, %d deletes, %d tombstones skipped, 1 dead letters",
                 lic.c + lic.u + res.c + res.u, lic.d + res.d, lic.d + res.d);
        ck_assert_msg(h_file_contains(log, summary), "no '%s' in %s", summary, log);
}
END_TEST

/* Another connection holds the SQLite target's write lock: the batch
 * cannot begin, /healthz answers 503 with the reason and the retries are
 * counted; released, the batch commits and /healthz is 200 again. */
START_TEST(subscriber_health_follows_a_locked_target) {
        char lines[600], more[600], db[600], log[600], body[512];
        h_copy_dataset(&env, "market.business_license", "subh.license");
        ck_assert_int_eq(h_create_topic(&env, "subh.license", 1), 0);
        h_write_sample(&env, "market.business_license", "subh1.jsonl", 30, 20, 8, lines, sizeof(lines));
        h_write_sample(&env, "market.business_license", "subh2.jsonl", 20, 20, 9, more, sizeof(more));
        ops_t first = count_ops(lines), second = count_ops(more);
        snprintf(log, sizeof(log), "%s", h_path(&env, "producer-subh.log"));
        ck_assert_int_eq(h_run_producer(&env, "subh", "license", NULL, lines, NULL, log), 0);

        snprintf(db, sizeof(db), "%s", h_path(&env, "subh.db"));
        snprintf(log, sizeof(log), "%s", h_path(&env, "subscriber-subh.log"));
        pid_t pid = h_start_subscriber(&env, "subh", "subh.license", NULL, db, NULL,
                                       "metrics_listen = \"127.0.0.1:0\";\nretry_backoff_max_ms = 500;",
                                       "session_timeout_ms = 6000;", log);
        ck_assert_int_gt(pid, 0);
        int port = h_logged_port(log);
        ck_assert_msg(port > 0, "no port in %s", log);
        double applied_first = first.c + first.u + first.d;
        char *text = scrape_until(port, APPLIED("subh.license", "c"), first.c);
        ck_assert_double_eq(scrape_metric(text, APPLIED("subh.license", "c")), first.c);
        free(text);
        ck_assert_int_eq(scrape_health_until(port, 200, body, sizeof(body)), 200);

        /* A writer of our own takes the lock and keeps it. */
        sqlite3 *other = NULL;
        ck_assert_int_eq(sqlite3_open(db, &other), SQLITE_OK);
        ck_assert_int_eq(sqlite3_exec(other, "BEGIN EXCLUSIVE", NULL, NULL, NULL), SQLITE_OK);
        ck_assert_int_eq(
                h_run_producer(&env, "subh", "license", NULL, more, NULL, h_path(&env, "producer-subh.log")),
                0);
        /* The target waits 10 s for a lock before it gives up on a try. */
        long status = scrape_health_until(port, 503, body, sizeof(body));
        ck_assert_msg(status == 503, "healthz %ld %s while the target is locked", status, body);
        ck_assert_msg(strstr(body, "\"status\":\"unhealthy\"") &&
                              strstr(body, "the target database is failing, retrying a batch") &&
                              strstr(body, "database is locked"),
                      "healthz body %s", body);
        text = scrape_text(port);
        ck_assert_double_ge(scrape_metric(text, "sharebus_subscriber_batch_retries_total"), 1);
        /* Nothing of the new batch counted while it is not committed. */
        ck_assert_double_eq(scrape_metric(text, APPLIED("subh.license", "c")) +
                                    scrape_metric(text, APPLIED("subh.license", "u")) +
                                    scrape_metric(text, APPLIED("subh.license", "d")),
                            applied_first);
        free(text);

        ck_assert_int_eq(sqlite3_exec(other, "ROLLBACK", NULL, NULL, NULL), SQLITE_OK);
        ck_assert_int_eq(sqlite3_close(other), SQLITE_OK);
        status = scrape_health_until(port, 200, body, sizeof(body));
        ck_assert_msg(status == 200, "healthz %ld %s after the lock was released", status, body);
        double records = 30 + first.d + 20 + second.d; /* each delete has its tombstone */
        text = scrape_until(port, "sharebus_subscriber_batch_records_sum", records);
        ck_assert_double_eq(scrape_metric(text, "sharebus_subscriber_batch_records_sum"), records);
        free(text);
        text = scrape_until(port, PER_TOPIC("events_consumed_total", "subh.license"), records);
        ck_assert_double_eq(scrape_metric(text, APPLIED("subh.license", "c")) +
                                    scrape_metric(text, APPLIED("subh.license", "u")) +
                                    scrape_metric(text, APPLIED("subh.license", "d")),
                            applied_first + second.c + second.u + second.d);
        free(text);
        ck_assert_int_eq(kill(pid, SIGTERM), 0);
        ck_assert_int_eq(h_wait(pid, 60000), 0);
        ck_assert_int_eq(h_sqlite_int(db, "SELECT count(*) FROM sharebus_receipts"), 50);
}
END_TEST

/* mode = "history": every event of the topic once in <table>_history,
 * with its op and seq; each key's last event there is the key's state. */
START_TEST(subscriber_history_mode_keeps_every_event) {
        char lines[600], db[600], log[600];
        h_copy_dataset(&env, "market.business_license", "subhi.license");
        ck_assert_int_eq(h_create_topic(&env, "subhi.license", 2), 0);
        h_write_sample(&env, "market.business_license", "subhi.jsonl", 120, 25, 12, lines, sizeof(lines));
        ops_t o = count_ops(lines);
        ck_assert_int_gt(o.d, 0);
        ck_assert_int_eq(h_run_producer(&env, "subhi", "license", NULL, lines, NULL,
                                        h_path(&env, "producer-subhi.log")),
                         0);
        snprintf(db, sizeof(db), "%s", h_path(&env, "subhi.db"));
        snprintf(log, sizeof(log), "%s", h_path(&env, "subscriber-subhi.log"));
        pid_t pid = h_start_subscriber(&env, "subhi", "subhi.license", NULL, db, NULL,
                                       "mode = \"history\";\nidle_exit_ms = 3000;", NULL, log);
        ck_assert_int_gt(pid, 0);
        ck_assert_int_eq(h_wait(pid, 120000), 0);
        ck_assert_int_eq(h_sqlite_int(db, "SELECT count(*) FROM subhi_license_history"), 120);
        ck_assert_int_eq(
                h_sqlite_int(db, "SELECT count(DISTINCT sharebus_event_id) FROM subhi_license_history"), 120);
        ck_assert_int_eq(
                h_sqlite_int(db, "SELECT count(*) FROM subhi_license_history WHERE sharebus_op = 'd'"), o.d);
        ck_assert_int_eq(
                h_sqlite_int(db, "SELECT count(*) FROM subhi_license_history WHERE sharebus_op = 'u'"), o.u);
        ck_assert_int_eq(h_sqlite_int(db, "SELECT count(*) FROM sharebus_receipts"), 120);
        /* No state table in this mode. */
        ck_assert_int_eq(h_sqlite_int(db, "SELECT count(*) FROM sqlite_master WHERE name = 'subhi_license'"),
                         0);
        /* Each key's last event (the highest seq: its line number) against
         * the state the lines leave. */
        json_t *want = h_expected_state(lines, "uscc");
        sqlite3 *h = NULL;
        sqlite3_stmt *st = NULL;
        ck_assert_int_eq(sqlite3_open(db, &h), SQLITE_OK);
        ck_assert_int_eq(sqlite3_prepare_v2(h,
                                            "SELECT uscc, name, sharebus_op FROM subhi_license_history e "
                                            "WHERE sharebus_seq = (SELECT max(sharebus_seq) FROM "
                                            "subhi_license_history WHERE uscc = e.uscc)",
                                            -1, &st, NULL),
                         SQLITE_OK);
        size_t alive = 0, keys = 0;
        while (sqlite3_step(st) == SQLITE_ROW) {
                const char *uscc = (const char *)sqlite3_column_text(st, 0);
                const char *op = (const char *)sqlite3_column_text(st, 2);
                json_t *row = json_object_get(want, uscc);
                keys++;
                if (op[0] == 'd') {
                        ck_assert_msg(!row, "%s: deleted in the history, present in the lines", uscc);
                        continue;
                }
                ck_assert_msg(row, "%s: present in the history, deleted in the lines", uscc);
                ck_assert_str_eq((const char *)sqlite3_column_text(st, 1),
                                 json_string_value(json_object_get(row, "name")));
                alive++;
        }
        sqlite3_finalize(st);
        sqlite3_close(h);
        ck_assert_uint_eq(alive, json_object_size(want));
        /* Every key the lines name has a history. */
        json_t *named = json_object();
        FILE *f = fopen(lines, "r");
        char line[16384];
        ck_assert_ptr_nonnull(f);
        while (fgets(line, sizeof(line), f)) {
                json_t *ev = json_loads(line, 0, NULL);
                json_object_set_new(named,
                                    json_string_value(json_object_get(json_object_get(ev, "key"), "uscc")),
                                    json_true());
                json_decref(ev);
        }
        fclose(f);
        ck_assert_uint_eq(keys, json_object_size(named));
        json_decref(named);
        json_decref(want);
}
END_TEST

/* Waits up to 60 s for `sql` on db to give `want`; returns the last value. */
static long long sqlite_when(const char *db, const char *sql, long long want) {
        long long got = -1;
        for (int i = 0; i < 600 && (got = h_sqlite_int(db, sql)) != want; i++)
                h_sleep_ms(100);
        return got;
}

/* Adds a field `name` of type ["null","string"], default null, to the
 * record schema in the .avsc file at `path`: a compatible new version. */
static void add_nullable_field(const char *path, const char *name) {
        json_t *schema = json_load_file(path, 0, NULL);
        ck_assert_ptr_nonnull(schema);
        json_array_append_new(
                json_object_get(schema, "fields"),
                json_pack("{s:s, s:[s,s], s:n}", "name", name, "type", "null", "string", "default"));
        ck_assert_int_eq(json_dump_file(schema, path, JSON_INDENT(2)), 0);
        json_decref(schema);
}

/* Live schema evolution: a new row schema that adds a field (compatible:
 * it has a default) is registered by the department while the subscriber
 * runs; the subscriber adds the column and fills it, without a restart.
 * Then a key schema the table cannot take: dead-lettered, nothing stops. */
START_TEST(subscriber_takes_a_new_field_without_a_restart) {
        char first[600], second[600], db[600], log[600], avsc[700];
        h_copy_dataset(&env, "market.business_license", "subev.license");
        ck_assert_int_eq(h_create_topic(&env, "subev.license", 1), 0);
        ck_assert_int_eq(h_create_topic(&env, "dlq.subev", 1), 0);
        h_write_sample(&env, "market.business_license", "subev1.jsonl", 40, 15, 21, first, sizeof(first));
        ck_assert_int_eq(h_run_producer(&env, "subev", "license", NULL, first, NULL,
                                        h_path(&env, "producer-subev.log")),
                         0);
        snprintf(db, sizeof(db), "%s", h_path(&env, "subev.db"));
        snprintf(log, sizeof(log), "%s", h_path(&env, "subscriber-subev.log"));
        pid_t pid = h_start_subscriber(&env, "subev", "subev.license", NULL, db, NULL, NULL, NULL, log);
        ck_assert_int_gt(pid, 0);
        ck_assert_int_eq(sqlite_when(db, "SELECT count(*) FROM sharebus_receipts", 40), 40);
        ck_assert_int_eq(h_sqlite_int(db, "SELECT count(*) FROM pragma_table_info('subev_license') "
                                          "WHERE name = 'website'"),
                         0);

        /* Version 2 of the row: a nullable website, default null. */
        snprintf(avsc, sizeof(avsc), "%s", h_path(&env, "schemas/subev.license.row.avsc"));
        add_nullable_field(avsc, "website");
        /* Changes with the new field, written by a department on version 2. */
        h_write_sample(&env, "market.business_license", "subev2-plain.jsonl", 30, 15, 22, second,
                       sizeof(second));
        char with_site[700];
        snprintf(with_site, sizeof(with_site), "%s", h_path(&env, "subev2.jsonl"));
        FILE *in = fopen(second, "r"), *out = fopen(with_site, "w");
        ck_assert_ptr_nonnull(in);
        ck_assert_ptr_nonnull(out);
        char line[16384];
        int sites = 0;
        while (fgets(line, sizeof(line), in)) {
                char *after = strstr(line, "\"after\":{");
                if (after) {
                        after += strlen("\"after\":{");
                        fprintf(out, "%.*s\"website\":\"https://w%d.example\",%s", (int)(after - line), line,
                                sites++, after);
                } else {
                        fputs(line, out);
                }
        }
        fclose(in);
        fclose(out);
        ck_assert_int_gt(sites, 0);
        ck_assert_int_eq(h_run_producer(&env, "subev", "license", NULL, with_site, NULL,
                                        h_path(&env, "producer-subev.log")),
                         0);
        /* Every event applied (a dead letter has no receipt). */
        ck_assert_int_eq(sqlite_when(db, "SELECT count(*) FROM sharebus_receipts", 70), 70);
        ck_assert_int_eq(kill(pid, 0), 0); /* the same process: no restart */
        ck_assert_int_eq(h_sqlite_int(db, "SELECT count(*) FROM pragma_table_info('subev_license') "
                                          "WHERE name = 'website'"),
                         1);
        /* The rows last written by a version-2 change hold their website. */
        ck_assert_int_gt(
                h_sqlite_int(db, "SELECT count(*) FROM subev_license WHERE website LIKE 'https://w%'"), 0);

        /* A key schema with a field more: compatible for the registry, but
         * the table is keyed on the old key.  Dead-lettered with the reason
         * (class schema); the subscriber goes on. */
        char key_avsc[700];
        snprintf(key_avsc, sizeof(key_avsc), "%s", h_path(&env, "schemas/subev.license.key.avsc"));
        add_nullable_field(key_avsc, "branch");
        add_nullable_field(avsc, "branch"); /* a key field is a row field too */
        char one[700];
        snprintf(one, sizeof(one), "%s", h_path(&env, "subev3.jsonl"));
        in = fopen(first, "r");
        out = fopen(one, "w");
        ck_assert_ptr_nonnull(fgets(line, sizeof(line), in));
        fputs(line, out);
        fclose(in);
        fclose(out);
        ck_assert_int_eq(
                h_run_producer(&env, "subev", "license", NULL, one, NULL, h_path(&env, "producer-subev.log")),
                0);
        char *classes = h_read_headers(&env, "dlq.subev", "sharebus.error.class", 1);
        ck_assert_str_eq(classes, "schema\n");
        free(classes);
        char *reasons = h_read_headers(&env, "dlq.subev", "sharebus.error", 1);
        ck_assert_msg(strstr(reasons,
                             "table subev_license has the primary key (uscc), the key schema has (uscc, "
                             "branch): the target cannot take a changed key"),
                      "%s", reasons);
        free(reasons);
        ck_assert_int_eq(kill(pid, 0), 0);
        ck_assert_int_eq(h_sqlite_int(db, "SELECT count(*) FROM sharebus_receipts"), 70);
        ck_assert_int_eq(kill(pid, SIGTERM), 0);
        ck_assert_int_eq(h_wait(pid, 60000), 0);
}
END_TEST

int main(void) {
        curl_global_init(CURL_GLOBAL_DEFAULT);
        if (h_env_start(&env) != 0)
                return 1;
        Suite *s = suite_create("subscriber_ops");
        TCase *tc = tcase_create("ops");
        tcase_set_timeout(tc, 300);
        tcase_add_test(tc, subscriber_metrics_count_what_was_applied);
        tcase_add_test(tc, subscriber_health_follows_a_locked_target);
        tcase_add_test(tc, subscriber_history_mode_keeps_every_event);
        tcase_add_test(tc, subscriber_takes_a_new_field_without_a_restart);
        suite_add_tcase(s, tc);
        int failed = h_run_suite(s);
        h_env_stop(&env);
        curl_global_cleanup();
        return failed ? 1 : 0;
}

/*
 * Integration: dead letters you can act on.  Each dead letter says of which
 * class its failure is (decode, rule, apply, ...), where it came from and
 * when; after the cause is fixed, `sharebus-subscriber --replay-dlq` applies
 * what applies now exactly once and reports what still fails.  A real broker,
 * a real sharebus-registry and a SQLite target, as processes.
 */
#include <fcntl.h>
#include <librdkafka/rdkafka.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "dataset.h"
#include "harness.h"
#include "sb_buf.h"
#include "sb_clock.h"
#include "sb_envelope.h"
#include "sb_registry_client.h"
#include "sb_uuid.h"
#include "sb_wire.h"

static h_env_t env; /* the suite's broker and registry, set up by main */

/* A value schema id nobody registered (until a test imports it). */
#define UNKNOWN_ID 7777

/* Runs one SQL statement on db_path (creating the file); asserts it worked. */
static void sqlite_exec(const char *db_path, const char *sql) {
        sqlite3 *db = NULL;
        char *why = NULL;
        ck_assert_int_eq(sqlite3_open(db_path, &db), SQLITE_OK);
        ck_assert_msg(sqlite3_exec(db, sql, NULL, NULL, &why) == SQLITE_OK, "%s: %s", sql, why);
        sqlite3_close(db);
}

/* The dataset of `topic` (a copy of market.business_license), with its key
 * and value schemas registered into *key_id and *value_id.  The caller
 * destroys it. */
static sb_dataset_t *license_dataset(const char *topic, int32_t *key_id, int32_t *value_id) {
        char dir[700], errstr[512], subject[300];
        h_copy_dataset(&env, "market.business_license", topic);
        snprintf(dir, sizeof(dir), "%s/schemas", env.dir);
        sb_dataset_t *ds = NULL;
        ck_assert_msg(sb_dataset_load(dir, topic, &ds, errstr, sizeof(errstr)) == SB_OK, "%s", errstr);
        sb_registry_client_t *rc = NULL;
        ck_assert_int_eq(sb_registry_client_new(env.registry_url, &rc, errstr, sizeof(errstr)), SB_OK);
        snprintf(subject, sizeof(subject), "%s-key", topic);
        ck_assert_msg(sb_registry_register(rc, subject, sb_schema_json(sb_dataset_key_schema(ds)), key_id,
                                           errstr, sizeof(errstr)) == SB_OK,
                      "%s", errstr);
        snprintf(subject, sizeof(subject), "%s-value", topic);
        ck_assert_msg(sb_registry_register(rc, subject, sb_schema_json(sb_dataset_value_schema(ds)), value_id,
                                           errstr, sizeof(errstr)) == SB_OK,
                      "%s", errstr);
        sb_registry_client_destroy(rc);
        return ds;
}

/* Encodes one create of a business licence (name `name`, capital `capital`)
 * with key schema `key_id` and value schema `value_id` of `ds`, bypassing the
 * producer, into key and value. */
static void encode_license(sb_dataset_t *ds, int32_t key_id, int32_t value_id, const char *uscc,
                           const char *name, double capital, sb_buf_t *key, sb_buf_t *value) {
        char errstr[512];
        sb_buf_reset(key);
        sb_buf_reset(value);
        json_t *k = json_pack("{s:s}", "uscc", uscc);
        json_t *after = json_pack("{s:s, s:s, s:s, s:f, s:n, s:s, s:s, s:n, s:s}", "uscc", uscc, "name", name,
                                  "legal_representative", "Zhao", "registered_capital", capital,
                                  "business_scope", "status", "ACTIVE", "established_on", "2001-02-03",
                                  "address", "updated_at", "2025-01-01T00:00:00Z");
        sb_change_t change = {.op = 'c',
                              .after = after,
                              .ts_ms = sb_clock_now_ms(),
                              .department = "replay",
                              .system = "not-sharebus",
                              .dataset = "replay.license",
                              .seq = 1};
        ck_assert_int_eq(sb_uuid4(change.event_id), SB_OK);
        json_t *envelope = sb_envelope_value(&change);
        ck_assert_int_eq(sb_wire_put_header(key, key_id), SB_OK);
        ck_assert_int_eq(sb_wire_put_header(value, value_id), SB_OK);
        ck_assert_msg(sb_avro_encode(sb_dataset_key_schema(ds), k, key, errstr, sizeof(errstr)) == SB_OK,
                      "%s", errstr);
        ck_assert_msg(sb_avro_encode(sb_dataset_value_schema(ds), envelope, value, errstr, sizeof(errstr)) ==
                              SB_OK,
                      "%s", errstr);
        json_decref(envelope);
        json_decref(after);
        json_decref(k);
}

/* Produces one licence record to `topic` (encode_license). */
static void produce_license(sb_dataset_t *ds, const char *topic, int32_t key_id, int32_t value_id,
                            const char *uscc, const char *name, double capital) {
        sb_buf_t key, value;
        sb_buf_init(&key, 1 << 20);
        sb_buf_init(&value, 1 << 20);
        encode_license(ds, key_id, value_id, uscc, name, capital, &key, &value);
        h_produce_raw(&env, topic, key.data, key.len, value.data, value.len);
        sb_buf_free(&key);
        sb_buf_free(&value);
}

/* The lines of `text` as numbers, into out[n]; asserts there are n. */
static void numbers(const char *text, long long *out, int n) {
        int got = 0;
        for (const char *p = text; *p && got < n; got++) {
                char *end;
                out[got] = strtoll(p, &end, 10);
                ck_assert_msg(end != p && *end == '\n', "not a number a line: %s", text);
                p = end + 1;
        }
        ck_assert_msg(got == n, "%d numbers of %d in: %s", got, n, text);
}

/* A licence topic `topic` of one partition with records at offsets 0..4:
 * good, breaking a rule (negative capital), refused by the table (a trigger
 * of its own refuses the name "Refused Co."), naming an unknown value schema
 * id, good.  The subscriber `name` (table and receipts in db) ran over it;
 * before and after bracket the time of it all. */
static void dead_letter_three(const char *name, const char *topic, const char *db, int64_t *before,
                              int64_t *after) {
        char dlq[300], sql[1024], table[300], log[700], file[300];
        int32_t key_id, value_id;
        snprintf(dlq, sizeof(dlq), "dlq.%s", name);
        snprintf(table, sizeof(table), "%s", topic);
        for (char *p = table; *p; p++)
                if (*p == '.')
                        *p = '_';
        ck_assert_int_eq(h_create_topic(&env, topic, 1), 0);
        ck_assert_int_eq(h_create_topic(&env, dlq, 1), 0);
        sb_dataset_t *ds = license_dataset(topic, &key_id, &value_id);
        /* The subscriber adds the other columns to the table it finds. */
        snprintf(sql, sizeof(sql),
                 "CREATE TABLE %s (uscc TEXT NOT NULL PRIMARY KEY, name TEXT); "
                 "CREATE TRIGGER refuse BEFORE INSERT ON %s WHEN NEW.name = 'Refused Co.' "
                 "BEGIN SELECT RAISE(ABORT, 'this table refuses Refused Co.'); END",
                 table, table);
        sqlite_exec(db, sql);

        *before = sb_clock_now_ms();
        produce_license(ds, topic, key_id, value_id, "91350100M000100Y43", "Good Co.", 100.0);
        produce_license(ds, topic, key_id, value_id, "91110000600037341L", "Minus Co.", -3.0);
        produce_license(ds, topic, key_id, value_id, "9144030071526726XG", "Refused Co.", 5.0);
        produce_license(ds, topic, key_id, UNKNOWN_ID, "91310000775785552L", "Unknown Co.", 7.0);
        produce_license(ds, topic, key_id, value_id, "91350100M000100Y43", "Good Co. Ltd", 200.0);
        sb_dataset_destroy(ds);

        snprintf(file, sizeof(file), "subscriber-%s.log", name);
        snprintf(log, sizeof(log), "%s", h_path(&env, file));
        pid_t pid =
                h_start_subscriber(&env, name, topic, NULL, db, "debug", "idle_exit_ms = 4000;", NULL, log);
        ck_assert_int_eq(h_wait(pid, 60000), 0);
        *after = sb_clock_now_ms();
        snprintf(sql, sizeof(sql), "SELECT count(*) FROM %s", table);
        ck_assert_int_eq(h_sqlite_int(db, sql), 1);
        ck_assert_int_eq(h_sqlite_int(db, "SELECT count(*) FROM sharebus_receipts"), 2);
        ck_assert_int_eq(h_topic_count(&env, dlq, 1), 3);
}

START_TEST(dead_letters_say_class_source_and_time) {
        char db[600];
        int64_t before, after;
        long long ts[3], at[3];
        snprintf(db, sizeof(db), "%s", h_path(&env, "hdr.db"));
        dead_letter_three("hdr", "hdr.license", db, &before, &after);

        char *classes = h_read_headers(&env, "dlq.hdr", "sharebus.error.class", 3);
        ck_assert_str_eq(classes, "rule\napply\ndecode\n");
        free(classes);
        char *reasons = h_read_headers(&env, "dlq.hdr", "sharebus.error", 3);
        ck_assert_msg(strstr(reasons, "after.registered_capital: -3 is below the minimum 0\n") &&
                              strstr(reasons, "this table refuses Refused Co.") && strstr(reasons, "7777"),
                      "reasons: %s", reasons);
        free(reasons);
        char *topics = h_read_headers(&env, "dlq.hdr", "sharebus.source.topic", 3);
        ck_assert_str_eq(topics, "hdr.license\nhdr.license\nhdr.license\n");
        free(topics);
        char *parts = h_read_headers(&env, "dlq.hdr", "sharebus.source.partition", 3);
        ck_assert_str_eq(parts, "0\n0\n0\n");
        free(parts);
        char *offsets = h_read_headers(&env, "dlq.hdr", "sharebus.source.offset", 3);
        ck_assert_str_eq(offsets, "1\n2\n3\n");
        free(offsets);
        char *stamps = h_read_headers(&env, "dlq.hdr", "sharebus.source.timestamp", 3);
        char *dead = h_read_headers(&env, "dlq.hdr", "sharebus.dead_lettered_at", 3);
        numbers(stamps, ts, 3);
        numbers(dead, at, 3);
        for (int i = 0; i < 3; i++) {
                /* Produced in order, then dead-lettered by the one run. */
                ck_assert_msg(ts[i] >= before && ts[i] <= after && (i == 0 || ts[i] >= ts[i - 1]),
                              "source timestamps %s not within [%lld, %lld]", stamps, (long long)before,
                              (long long)after);
                ck_assert_msg(at[i] >= ts[i] && at[i] <= after, "dead-lettered at %s, source %s", dead,
                              stamps);
        }
        free(stamps);
        free(dead);
}
END_TEST

int main(void) {
        if (h_env_start(&env) != 0)
                return 1;
        Suite *s = suite_create("dlq_replay");
        TCase *tc = tcase_create("dlq_replay");
        tcase_set_timeout(tc, 300);
        tcase_add_test(tc, dead_letters_say_class_source_and_time);
        suite_add_tcase(s, tc);
        int failed = h_run_suite(s);
        h_env_stop(&env);
        return failed ? 1 : 0;
}

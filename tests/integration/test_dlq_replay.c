/*
 * Integration: dead letters you can act on.  Each dead letter says of which
 * class its failure is (decode, rule, apply, ...), where it came from and
 * when; after the cause is fixed, `sharebus-subscriber --replay-dlq` applies
 * what applies now exactly once and reports what still fails.  A real broker,
 * a real sharebus-registry and a SQLite target, as processes.
 */
#include <curl/curl.h>
#include <librdkafka/rdkafka.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dataset.h"
#include "harness.h"
#include "sb_buf.h"
#include "sb_clock.h"
#include "sb_envelope.h"
#include "sb_registry_client.h"
#include "sb_uuid.h"
#include "sb_wire.h"

static h_env_t env; /* the suite's broker and registry, set up by main */

/* Value schema ids nobody registered (until a test imports one). */
#define UNKNOWN_ID 7777
#define IMPORTED_ID 7778

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

/* Produces one licence record to `topic` (h_encode_license). */
static void produce_license(sb_dataset_t *ds, const char *topic, int32_t key_id, int32_t value_id,
                            const char *uscc, const char *name, double capital) {
        sb_buf_t key, value;
        sb_buf_init(&key, 1 << 20);
        sb_buf_init(&value, 1 << 20);
        h_encode_license(ds, key_id, value_id, "replay", uscc, name, capital, &key, &value);
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
 * id (`unknown_id`), good.  The subscriber `name` (table and receipts in db)
 * ran over it; before and after bracket the time of it all. */
static void dead_letter_three(const char *name, const char *topic, const char *db, int32_t unknown_id,
                              int64_t *before, int64_t *after) {
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
        produce_license(ds, topic, key_id, unknown_id, "91310000775785552L", "Unknown Co.", 7.0);
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
        dead_letter_three("hdr", "hdr.license", db, UNKNOWN_ID, &before, &after);

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

/* Writes the config of subscriber `name` of `topics` into `db` (receipts
 * as the default unless `extra` says otherwise); returns its path (static). */
static const char *replay_conf(const char *name, const char *topics, const char *db, const char *extra) {
        static char path[700];
        char file[300];
        snprintf(file, sizeof(file), "replay-%s.conf", name);
        snprintf(path, sizeof(path), "%s",
                 h_write_file(
                         &env, file,
                         "name = \"%s\";\ntopics = \"%s\";\nregistry_url = \"%s\";\n"
                         "sqlite_path = \"%s\";\nlog_level = \"debug\";\npersonal_policy = \"clear\";\n%s\n"
                         "kafka = { bootstrap_servers = \"%s\"; };\n",
                         name, topics, env.registry_url, db, extra ? extra : "", env.bootstrap));
        return path;
}

/* Runs sharebus-subscriber --config conf --replay-dlq, its stdout (the
 * report) to <dir>/<tag>.out and its stderr (the log) to <dir>/<tag>.log,
 * whose paths go to out[700] and log[700]; returns its exit code. */
static int run_replay(const char *conf, const char *tag, char *out, char *log) {
        char cmd[4096], file[300], bin[700];
        snprintf(file, sizeof(file), "%s.out", tag);
        snprintf(out, 700, "%s", h_path(&env, file));
        snprintf(file, sizeof(file), "%s.log", tag);
        snprintf(log, 700, "%s", h_path(&env, file));
        snprintf(bin, sizeof(bin), "%s", h_bin(&env, "sharebus-subscriber"));
        snprintf(cmd, sizeof(cmd), "exec %s --config %s --replay-dlq >%s 2>%s", bin, conf, out, log);
        char *argv[] = {"/bin/sh", "-c", cmd, NULL};
        return h_run(argv, h_path(&env, "sh.log"), 120000);
}

/* The content of file `path` (caller frees). */
static char *slurp(const char *path) {
        FILE *f = fopen(path, "r");
        ck_assert_msg(f != NULL, "cannot open %s", path);
        char *text = calloc(1, 1 << 16);
        ck_assert_ptr_nonnull(text);
        size_t n = fread(text, 1, (1 << 16) - 1, f);
        text[n] = 0;
        fclose(f);
        return text;
}

static int count_lines(const char *text) {
        int n = 0;
        for (const char *p = text; *p; p++)
                n += *p == '\n';
        return n;
}

/* Registers the value schema of `topic` again under subject `subject` with
 * schema id `id`, as a migration from another registry would (IMPORT mode). */
static void import_value_schema(const char *topic, const char *subject, int32_t id) {
        char dir[700], errstr[512], url[600];
        h_reply_t rep = {0};
        snprintf(dir, sizeof(dir), "%s/schemas", env.dir);
        sb_dataset_t *ds = NULL;
        ck_assert_msg(sb_dataset_load(dir, topic, &ds, errstr, sizeof(errstr)) == SB_OK, "%s", errstr);
        snprintf(url, sizeof(url), "%s/mode/%s", env.registry_url, subject);
        ck_assert_int_eq(h_http("PUT", url, NULL, NULL, "{\"mode\":\"IMPORT\"}", &rep), 200);
        h_reply_free(&rep);
        json_t *body =
                json_pack("{s:s, s:i}", "schema", sb_schema_json(sb_dataset_value_schema(ds)), "id", id);
        char *text = json_dumps(body, 0);
        snprintf(url, sizeof(url), "%s/subjects/%s/versions", env.registry_url, subject);
        long status = h_http("POST", url, NULL, NULL, text, &rep);
        ck_assert_msg(status == 200, "%s: %ld %s", url, status, rep.text ? rep.text : "");
        h_reply_free(&rep);
        free(text);
        json_decref(body);
        sb_dataset_destroy(ds);
}

START_TEST(replay_applies_the_fixed_once_and_reports_the_rest) {
        char db[600], out[700], log[700];
        int64_t before, after;
        snprintf(db, sizeof(db), "%s", h_path(&env, "fix.db"));
        dead_letter_three("fix", "fix.license", db, IMPORTED_ID, &before, &after);
        const char *conf = replay_conf("fix", "fix.license", db, NULL);

        /* Nothing fixed yet: all three still fail, nothing is applied. */
        ck_assert_int_eq(run_replay(conf, "fix-0", out, log), 3);
        char *report = slurp(out);
        ck_assert_msg(count_lines(report) == 3, "report: %s", report);
        ck_assert_msg(strstr(report, "fix.license [0] offset 1: rule: ") &&
                              strstr(report, "fix.license [0] offset 2: apply: ") &&
                              strstr(report, "fix.license [0] offset 3: decode: "),
                      "report: %s", report);
        free(report);
        ck_assert_int_eq(h_sqlite_int(db, "SELECT count(*) FROM sharebus_receipts"), 2);

        /* The fixes: the table takes the row, the schema id is registered. */
        sqlite_exec(db, "DROP TRIGGER refuse");
        import_value_schema("fix.license", "fix.imported-value", IMPORTED_ID);

        ck_assert_int_eq(run_replay(conf, "fix-1", out, log), 3);
        report = slurp(out);
        ck_assert_msg(count_lines(report) == 1 &&
                              strstr(report,
                                     "fix.license [0] offset 1: rule: after.registered_capital: -3 is "
                                     "below the minimum 0\n"),
                      "report: %s", report);
        free(report);
        ck_assert_msg(
                h_file_contains(log, "3 dead letters read, 2 applied, 0 applied before, 1 still failing"),
                "see %s", log);
        ck_assert_int_eq(h_sqlite_int(db, "SELECT count(*) FROM fix_license"), 3);
        ck_assert_int_eq(h_sqlite_int(db,
                                      "SELECT count(*) FROM fix_license WHERE uscc = '9144030071526726XG' "
                                      "AND name = 'Refused Co.' AND registered_capital = 5"),
                         1);
        ck_assert_int_eq(h_sqlite_int(db,
                                      "SELECT count(*) FROM fix_license WHERE uscc = '91310000775785552L' "
                                      "AND name = 'Unknown Co.'"),
                         1);
        /* Receipts name the original records. */
        ck_assert_int_eq(h_sqlite_int(db, "SELECT count(*) FROM sharebus_receipts"), 4);
        ck_assert_int_eq(h_sqlite_int(db,
                                      "SELECT count(*) FROM sharebus_receipts WHERE topic = 'fix.license' "
                                      "AND kafka_partition = 0 AND kafka_offset IN (2, 3)"),
                         2);
        ck_assert_int_eq(h_sqlite_int(db, "SELECT count(DISTINCT event_id) FROM sharebus_receipts"), 4);
        /* The live position is untouched; the replay's stops at the rule
         * failure, the first dead letter (offset 0 of dlq.fix). */
        ck_assert_int_eq(h_sqlite_int(db, "SELECT next_offset FROM sharebus_offsets WHERE consumer_group = "
                                          "'sharebus.fix' AND topic = 'fix.license'"),
                         5);
        ck_assert_int_eq(h_sqlite_int(db, "SELECT next_offset FROM sharebus_offsets WHERE consumer_group = "
                                          "'sharebus.fix.replay' AND topic = 'dlq.fix'"),
                         0);
        /* The dead letters stay where they are: nothing was dead-lettered again. */
        ck_assert_int_eq(h_topic_count(&env, "dlq.fix", 1), 3);

        /* Again: nothing is applied twice, the rule failure is still reported. */
        ck_assert_int_eq(run_replay(conf, "fix-2", out, log), 3);
        report = slurp(out);
        ck_assert_msg(count_lines(report) == 1 && strstr(report, "fix.license [0] offset 1: rule: "),
                      "report: %s", report);
        free(report);
        ck_assert_msg(
                h_file_contains(log, "3 dead letters read, 0 applied, 2 applied before, 1 still failing"),
                "see %s", log);
        ck_assert_int_eq(h_sqlite_int(db, "SELECT count(*) FROM sharebus_receipts"), 4);
        ck_assert_int_eq(h_sqlite_int(db, "SELECT count(*) FROM fix_license"), 3);
        ck_assert_int_eq(h_topic_count(&env, "dlq.fix", 1), 3);
}
END_TEST

/* Produces one record with headers (NULL-terminated name, value pairs) to
 * partition 0 of `topic`; asserts it was delivered. */
static void produce_with_headers(const char *topic, const void *key, size_t key_len, const void *value,
                                 size_t value_len, const char *const *headers) {
        char errstr[512];
        rd_kafka_conf_t *conf = rd_kafka_conf_new();
        rd_kafka_conf_set(conf, "bootstrap.servers", env.bootstrap, NULL, 0);
        rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, errstr, sizeof(errstr));
        ck_assert_msg(rk != NULL, "%s", errstr);
        rd_kafka_headers_t *hdrs = rd_kafka_headers_new(8);
        for (size_t i = 0; headers && headers[i]; i += 2)
                rd_kafka_header_add(hdrs, headers[i], -1, headers[i + 1], -1);
        rd_kafka_resp_err_t err = rd_kafka_producev(
                rk, RD_KAFKA_V_TOPIC(topic), RD_KAFKA_V_PARTITION(0), RD_KAFKA_V_KEY(key, key_len),
                RD_KAFKA_V_VALUE((void *)value, value_len), RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
                RD_KAFKA_V_HEADERS(hdrs), RD_KAFKA_V_END);
        ck_assert_msg(err == RD_KAFKA_RESP_ERR_NO_ERROR, "produce: %s", rd_kafka_err2str(err));
        ck_assert_int_eq(rd_kafka_flush(rk, 30000), RD_KAFKA_RESP_ERR_NO_ERROR);
        rd_kafka_destroy(rk);
}

/* Dead letters written by hand into dlq.odd: without headers, of another
 * topic, with a bad partition, truncated, and one good one twice. */
START_TEST(replay_reports_dead_letters_it_cannot_use) {
        char db[600], out[700], log[700];
        int32_t key_id, value_id;
        ck_assert_int_eq(h_create_topic(&env, "odd.license", 1), 0);
        ck_assert_int_eq(h_create_topic(&env, "dlq.odd", 1), 0);
        sb_dataset_t *ds = license_dataset("odd.license", &key_id, &value_id);
        sb_buf_t key, value;
        sb_buf_init(&key, 1 << 20);
        sb_buf_init(&value, 1 << 20);
        h_encode_license(ds, key_id, value_id, "replay", "91350100M000100Y43", "Odd Co.", 1.0, &key, &value);
        sb_dataset_destroy(ds);

        const char *const none[] = {NULL};
        const char *const foreign[] = {"sharebus.source.topic",
                                       "other.license",
                                       "sharebus.source.partition",
                                       "0",
                                       "sharebus.source.offset",
                                       "4",
                                       NULL};
        const char *const bad_partition[] = {"sharebus.source.topic",
                                             "odd.license",
                                             "sharebus.source.partition",
                                             "zero",
                                             "sharebus.source.offset",
                                             "5",
                                             NULL};
        const char *const truncated[] = {"sharebus.source.topic",
                                         "odd.license",
                                         "sharebus.source.partition",
                                         "0",
                                         "sharebus.source.offset",
                                         "6",
                                         "sharebus.error.class",
                                         "apply",
                                         "sharebus.value.truncated",
                                         "true",
                                         NULL};
        const char *const good[] = {"sharebus.source.topic",
                                    "odd.license",
                                    "sharebus.source.partition",
                                    "0",
                                    "sharebus.source.offset",
                                    "7",
                                    "sharebus.error.class",
                                    "apply",
                                    NULL};
        produce_with_headers("dlq.odd", key.data, key.len, value.data, value.len, none);          /* 0 */
        produce_with_headers("dlq.odd", key.data, key.len, value.data, value.len, foreign);       /* 1 */
        produce_with_headers("dlq.odd", key.data, key.len, value.data, value.len, bad_partition); /* 2 */
        produce_with_headers("dlq.odd", key.data, key.len, value.data, 10, truncated);            /* 3 */
        produce_with_headers("dlq.odd", key.data, key.len, value.data, value.len, good);          /* 4 */
        produce_with_headers("dlq.odd", key.data, key.len, value.data, value.len, good); /* 5: a copy */
        sb_buf_free(&key);
        sb_buf_free(&value);

        snprintf(db, sizeof(db), "%s", h_path(&env, "odd.db"));
        const char *conf = replay_conf("odd", "odd.license", db, NULL);
        ck_assert_int_eq(run_replay(conf, "odd-1", out, log), 3);
        char *report = slurp(out);
        ck_assert_msg(count_lines(report) == 4, "report: %s", report);
        ck_assert_msg(strstr(report, "dlq.odd [0] offset 0: decode: not a sharebus dead letter: no usable "
                                     "sharebus.source.topic header\n"),
                      "report: %s", report);
        ck_assert_msg(strstr(report, "other.license [0] offset 4: decode: other.license is not one of this "
                                     "subscriber's topics (odd.license)\n"),
                      "report: %s", report);
        ck_assert_msg(strstr(report, "dlq.odd [0] offset 2: decode: not a sharebus dead letter: no "
                                     "sharebus.source.partition header with a partition number\n"),
                      "report: %s", report);
        ck_assert_msg(strstr(report, "odd.license [0] offset 6: apply: the dead letter was truncated"),
                      "report: %s", report);
        free(report);
        ck_assert_msg(
                h_file_contains(log, "6 dead letters read, 1 applied, 1 applied before, 4 still failing"),
                "see %s", log);
        ck_assert_int_eq(h_sqlite_int(db, "SELECT count(*) FROM odd_license WHERE name = 'Odd Co.'"), 1);
        ck_assert_int_eq(h_sqlite_int(db,
                                      "SELECT count(*) FROM sharebus_receipts WHERE topic = 'odd.license' "
                                      "AND kafka_offset = 7"),
                         1);
        ck_assert_int_eq(h_sqlite_int(db, "SELECT count(*) FROM sharebus_receipts"), 1);

        /* Without receipts the replay cannot know what it applied: refused. */
        conf = replay_conf("odd", "odd.license", db, "receipts = false;");
        ck_assert_int_eq(run_replay(conf, "odd-2", out, log), 2);
        ck_assert(h_file_contains(log, "--replay-dlq needs receipts = true"));
        ck_assert_int_eq(h_sqlite_int(db, "SELECT count(*) FROM sharebus_receipts"), 1);
}
END_TEST

/* When every dead letter applies, the replay exits 0 and its position moves
 * to the end, so that the next replay reads nothing; no dead-letter topic at
 * all is nothing to replay. */
START_TEST(replay_of_all_fixed_moves_its_position_to_the_end) {
        char db[600], out[700], log[700];
        int32_t key_id, value_id;
        ck_assert_int_eq(h_create_topic(&env, "done.license", 1), 0);
        ck_assert_int_eq(h_create_topic(&env, "dlq.done", 1), 0);
        sb_dataset_t *ds = license_dataset("done.license", &key_id, &value_id);
        sb_buf_t key, value;
        sb_buf_init(&key, 1 << 20);
        sb_buf_init(&value, 1 << 20);
        const char *const good[] = {"sharebus.source.topic",
                                    "done.license",
                                    "sharebus.source.partition",
                                    "0",
                                    "sharebus.source.offset",
                                    "3",
                                    NULL};
        h_encode_license(ds, key_id, value_id, "replay", "91350100M000100Y43", "Done Co.", 1.0, &key, &value);
        produce_with_headers("dlq.done", key.data, key.len, value.data, value.len, good);
        h_encode_license(ds, key_id, value_id, "replay", "9144030071526726XG", "Also Done Co.", 2.0, &key,
                         &value);
        produce_with_headers("dlq.done", key.data, key.len, value.data, value.len, good);
        sb_buf_free(&key);
        sb_buf_free(&value);
        sb_dataset_destroy(ds);

        snprintf(db, sizeof(db), "%s", h_path(&env, "done.db"));
        const char *conf = replay_conf("done", "done.license", db, NULL);
        ck_assert_int_eq(run_replay(conf, "done-1", out, log), 0);
        char *report = slurp(out);
        ck_assert_str_eq(report, "");
        free(report);
        ck_assert_int_eq(h_sqlite_int(db, "SELECT count(*) FROM done_license"), 2);
        ck_assert_int_eq(h_sqlite_int(db, "SELECT next_offset FROM sharebus_offsets WHERE consumer_group = "
                                          "'sharebus.done.replay' AND topic = 'dlq.done'"),
                         2);
        ck_assert_int_eq(run_replay(conf, "done-2", out, log), 0);
        ck_assert_msg(h_file_contains(log, "0 dead letters read, 0 applied"), "see %s", log);
        ck_assert_int_eq(h_sqlite_int(db, "SELECT count(*) FROM sharebus_receipts"), 2);

        conf = replay_conf("nodlq", "done.license", h_path(&env, "nodlq.db"), NULL);
        ck_assert_int_eq(run_replay(conf, "nodlq", out, log), 0);
        ck_assert(h_file_contains(log, "no dead-letter topic dlq.nodlq: nothing to replay"));
}
END_TEST

int main(void) {
        if (h_env_start(&env) != 0)
                return 1;
        curl_global_init(CURL_GLOBAL_DEFAULT);
        Suite *s = suite_create("dlq_replay");
        TCase *tc = tcase_create("dlq_replay");
        tcase_set_timeout(tc, 300);
        tcase_add_test(tc, dead_letters_say_class_source_and_time);
        tcase_add_test(tc, replay_applies_the_fixed_once_and_reports_the_rest);
        tcase_add_test(tc, replay_reports_dead_letters_it_cannot_use);
        tcase_add_test(tc, replay_of_all_fixed_moves_its_position_to_the_end);
        suite_add_tcase(s, tc);
        int failed = h_run_suite(s);
        h_env_stop(&env);
        curl_global_cleanup();
        return failed ? 1 : 0;
}

/*
 * Integration: sharebus-producer killed with SIGKILL at random moments, ten
 * times in a row, and restarted each time, while it publishes an outbox
 * that an application keeps writing, or a large CSV file.  Afterwards a
 * subscriber's table must hold exactly the source's final state: nothing
 * acknowledged is lost, and what a crash published twice (at-least-once) is
 * absorbed because a restart resends a contiguous run of changes in their
 * order.  Each test reports how many duplicate events reached Kafka.
 *
 * The moments come from a seeded PRNG (SHAREBUS_CRASH_SEED overrides the
 * seed), so a failure can be replayed.  Nothing is timed: the tests wait
 * for conditions with generous bounds.
 */
#include <errno.h>
#include <inttypes.h>
#include <librdkafka/rdkafka.h>
#include <pthread.h>
#include <signal.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "sample.h"

static h_env_t env; /* the suite's broker and registry, set up by main */

#define CHANGES 20000 /* per test */
#define KEYS 3000     /* records the changes are spread over */
#define KILLS 10
#define PARTITIONS 3
#define SESSION "session_timeout_ms = 6000;"

/* ---- random moments ---- */

static uint64_t seed_of(uint64_t fallback) {
        const char *s = getenv("SHAREBUS_CRASH_SEED");
        return s && *s ? strtoull(s, NULL, 10) | 1 : fallback;
}

/* xorshift64: small, and the same sequence for the same seed. */
static uint64_t rng_next(uint64_t *x) {
        *x ^= *x << 13;
        *x ^= *x >> 7;
        *x ^= *x << 17;
        return *x;
}

/* A number in [lo, hi]. */
static int rng_range(uint64_t *x, int lo, int hi) {
        return lo + (int)(rng_next(x) % (uint64_t)(hi - lo + 1));
}

/* ---- watching the topic ---- */

/* One Kafka handle for the watermark queries of a test (a handle per query
 * would connect each time and make the kills coarse). */
static rd_kafka_t *watcher_new(void) {
        char errstr[256];
        rd_kafka_conf_t *conf = rd_kafka_conf_new();
        rd_kafka_conf_set(conf, "bootstrap.servers", env.bootstrap, NULL, 0);
        rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, errstr, sizeof(errstr));
        ck_assert_msg(rk != NULL, "watcher: %s", errstr);
        return rk;
}

/* Records in `topic` (high watermarks summed; nothing is deleted).  A
 * topic just made may be unknown to the handle's metadata for a moment. */
static long long topic_end(rd_kafka_t *rk, const char *topic) {
        long long total = 0;
        for (int p = 0; p < PARTITIONS; p++) {
                int64_t low, high;
                rd_kafka_resp_err_t err = rd_kafka_query_watermark_offsets(rk, topic, p, &low, &high, 30000);
                for (int i = 0; i < 300 && err == RD_KAFKA_RESP_ERR__UNKNOWN_PARTITION; i++) {
                        h_sleep_ms(100);
                        err = rd_kafka_query_watermark_offsets(rk, topic, p, &low, &high, 30000);
                }
                ck_assert_msg(!err, "watermarks of %s [%d]: %s", topic, p, rd_kafka_err2str(err));
                total += high;
        }
        return total;
}

/* ---- the producer's runs ---- */

/* Starts sharebus-producer with `conf`, logging to <dir>/<name>-<run>.log
 * (path into log[log_size]). */
static pid_t start_producer(const char *conf, const char *name, int run, char *log, size_t log_size) {
        char file[128];
        snprintf(file, sizeof(file), "%s-%02d.log", name, run);
        snprintf(log, log_size, "%s", h_path(&env, file));
        pid_t pid = h_start_program(&env, "sharebus-producer", conf, log);
        ck_assert_int_gt(pid, 0);
        return pid;
}

/* Kills run `run` with SIGKILL once `delay_ms` have passed and, when `grow`
 * > 0, the topic has grown by `grow` records since the run started; asserts
 * that the producer was still running then (it did not stop or fail on
 * its own).  The wait for growth is bounded generously (2 minutes). */
static void kill_run(pid_t pid, int run, const char *log, int delay_ms, rd_kafka_t *rk, const char *topic,
                     long long from, int grow) {
        h_sleep_ms(delay_ms);
        long long now = topic_end(rk, topic);
        for (int i = 0; i < 24000 && now < from + grow; i++) {
                h_sleep_ms(5);
                now = topic_end(rk, topic);
        }
        ck_assert_msg(now >= from + grow, "run %d: the topic did not grow by %d records (see %s)", run, grow,
                      log);
        kill(pid, SIGKILL);
        int rc = h_wait(pid, 30000);
        ck_assert_msg(rc == 128 + SIGKILL, "run %d: the producer ended with %d before it was killed (see %s)",
                      run, rc, log);
        fprintf(stderr, "  run %2d: killed after %4d ms, topic +%lld records\n", run, delay_ms, now - from);
}

/* What the subscriber ends with against the expected state of `lines`;
 * reports the duplicates among the topic's events. */
static void check_subscriber(const char *name, const char *topic, const char *table, const char *lines,
                             int changes, rd_kafka_t *rk) {
        char db[600], log[600], file[128];
        snprintf(file, sizeof(file), "%s.db", name);
        snprintf(db, sizeof(db), "%s", h_path(&env, file));
        snprintf(file, sizeof(file), "subscriber-%s.log", name);
        snprintf(log, sizeof(log), "%s", h_path(&env, file));
        pid_t pid = h_start_subscriber(&env, name, topic, NULL, db, NULL, "idle_exit_ms = 4000;", SESSION, log);
        ck_assert_msg(h_wait(pid, 300000) == 0, "the subscriber did not finish (see %s)", log);

        json_t *expected = h_expected_state(lines, "uscc");
        h_assert_table_equals(db, table, "uscc", expected);
        fprintf(stderr, "  final state: %zu records, as expected\n", json_object_size(expected));
        json_decref(expected);

        /* The subscriber consumed the whole topic, and took each event
         * (every record but the tombstones) once. */
        long long records = topic_end(rk, topic);
        ck_assert_int_eq(h_sqlite_int(db, "SELECT sum(next_offset) FROM sharebus_offsets"), records);
        long long events = h_sqlite_int(db, "SELECT count(*) FROM sharebus_receipts");
        ck_assert_int_eq(h_sqlite_int(db, "SELECT count(DISTINCT event_id) FROM sharebus_receipts"), events);
        ck_assert_int_ge(events, changes);
        fprintf(stderr, "  %s: %lld records in the topic, %lld events (+%lld tombstones) for %d changes: %lld "
                        "duplicate events absorbed\n",
                topic, records, events, records - events, changes, events - changes);
}

/* ---- 1. the SQLite outbox, written while the producer is killed ---- */

typedef struct {
        const char *db_path;
        const char *lines_path; /* the changes in commit order, as change lines */
        const char *dataset;
        uint64_t seed;
        int done; /* changes committed (atomic: the test reads it while it writes) */
        char error[512];
} writer_t;

static int writer_fail(writer_t *w, sqlite3 *db, const char *what) {
        snprintf(w->error, sizeof(w->error), "writer: %s: %s", what, db ? sqlite3_errmsg(db) : "?");
        return -1;
}

/* Binds `v` to parameter i as JSON text, or NULL for none or JSON null. */
static int bind_json(sqlite3_stmt *st, int i, const json_t *v) {
        if (!v || json_is_null(v))
                return sqlite3_bind_null(st, i);
        char *text = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY | JSON_REAL_PRECISION(17));
        if (!text)
                return SQLITE_NOMEM;
        return sqlite3_bind_text(st, i, text, -1, free);
}

/* The application: CHANGES sample changes into the outbox, in transactions
 * of 1 to 40 changes with short pauses, as its own connection in WAL mode
 * with a busy timeout (the producer's acks take the write lock too).  Each
 * committed transaction's changes are appended to lines_path. */
static void *writer_main(void *arg) {
        writer_t *w = arg;
        sqlite3 *db = NULL;
        sqlite3_stmt *ins = NULL;
        sb_sample_t *sample = NULL;
        FILE *out = NULL;
        char errstr[256];
        char *pending[40];
        int npending = 0;
        uint64_t x = w->seed;
        if (sqlite3_open_v2(w->db_path, &db, SQLITE_OPEN_READWRITE, NULL) != SQLITE_OK) {
                writer_fail(w, db, "open");
                goto done;
        }
        sqlite3_busy_timeout(db, 30000);
        if (sqlite3_exec(db, "PRAGMA journal_mode=WAL", NULL, NULL, NULL) != SQLITE_OK ||
            sqlite3_prepare_v2(db,
                               "INSERT INTO sharebus_outbox (dataset, op, \"key\", \"before\", \"after\", "
                               "changed_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                               -1, &ins, NULL) != SQLITE_OK) {
                writer_fail(w, db, "prepare");
                goto done;
        }
        if (sb_sample_new("market.business_license", w->seed, KEYS, &sample, errstr, sizeof(errstr))) {
                snprintf(w->error, sizeof(w->error), "writer: %s", errstr);
                goto done;
        }
        if (!(out = fopen(w->lines_path, "w"))) {
                snprintf(w->error, sizeof(w->error), "writer: %s: %s", w->lines_path, strerror(errno));
                goto done;
        }
        while (w->done < CHANGES) { /* only this thread writes it */
                int n = rng_range(&x, 1, 40);
                if (n > CHANGES - w->done)
                        n = CHANGES - w->done;
                if (sqlite3_exec(db, "BEGIN IMMEDIATE", NULL, NULL, NULL) != SQLITE_OK) {
                        writer_fail(w, db, "BEGIN");
                        goto done;
                }
                for (npending = 0; npending < n; npending++) {
                        char *line = sb_sample_next(sample);
                        json_t *ev = line ? json_loads(line, 0, NULL) : NULL;
                        pending[npending] = line;
                        if (!ev) {
                                snprintf(w->error, sizeof(w->error), "writer: sample line: %s",
                                         line ? line : "out of memory");
                                npending++;
                                goto done;
                        }
                        sqlite3_bind_text(ins, 1, w->dataset, -1, SQLITE_STATIC);
                        sqlite3_bind_text(ins, 2, json_string_value(json_object_get(ev, "op")), -1,
                                          SQLITE_TRANSIENT);
                        bind_json(ins, 3, json_object_get(ev, "key"));
                        bind_json(ins, 4, json_object_get(ev, "before"));
                        bind_json(ins, 5, json_object_get(ev, "after"));
                        sqlite3_bind_int64(ins, 6, json_integer_value(json_object_get(ev, "ts_ms")));
                        int rc = sqlite3_step(ins);
                        sqlite3_reset(ins);
                        sqlite3_clear_bindings(ins);
                        json_decref(ev);
                        if (rc != SQLITE_DONE) {
                                npending++;
                                writer_fail(w, db, "INSERT");
                                goto done;
                        }
                }
                if (sqlite3_exec(db, "COMMIT", NULL, NULL, NULL) != SQLITE_OK) {
                        writer_fail(w, db, "COMMIT");
                        goto done;
                }
                /* Committed: now they are part of the final state. */
                for (int i = 0; i < npending; i++) {
                        fprintf(out, "%s\n", pending[i]);
                        free(pending[i]);
                }
                npending = 0;
                __atomic_store_n(&w->done, w->done + n, __ATOMIC_RELAXED);
                h_sleep_ms(rng_range(&x, 0, 15));
        }
done:
        for (int i = 0; i < npending; i++)
                free(pending[i]);
        if (out && fclose(out) != 0 && !w->error[0])
                snprintf(w->error, sizeof(w->error), "writer: %s: %s", w->lines_path, strerror(errno));
        sb_sample_destroy(sample);
        sqlite3_finalize(ins);
        if (db && !sqlite3_get_autocommit(db))
                sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
        sqlite3_close(db);
        return NULL;
}

/* Creates the outbox in a new database from `sharebus-producer --print-ddl
 * sqlite`, as a department would. */
static void create_outbox(const char *conf, const char *db_path) {
        char ddl_path[600], bin[1200], conf_copy[700];
        snprintf(ddl_path, sizeof(ddl_path), "%s", h_path(&env, "outbox.sql"));
        snprintf(bin, sizeof(bin), "%s", h_bin(&env, "sharebus-producer"));
        snprintf(conf_copy, sizeof(conf_copy), "%s", conf);
        char *argv[] = {bin, "--config", conf_copy, "--print-ddl", "sqlite", NULL};
        ck_assert_int_eq(h_run(argv, ddl_path, 30000), 0);
        FILE *f = fopen(ddl_path, "r");
        ck_assert_ptr_nonnull(f);
        static char ddl[16384];
        size_t n = fread(ddl, 1, sizeof(ddl) - 1, f);
        fclose(f);
        ddl[n] = 0;
        ck_assert_msg(strstr(ddl, "CREATE TABLE"), "--print-ddl printed: %s", ddl);
        sqlite3 *db;
        ck_assert_int_eq(sqlite3_open(db_path, &db), SQLITE_OK);
        char *err = NULL;
        ck_assert_msg(sqlite3_exec(db, ddl, NULL, NULL, &err) == SQLITE_OK, "DDL: %s", err ? err : "?");
        sqlite3_close(db);
}

START_TEST(sqlite_outbox_survives_ten_sigkills) {
        const char *topic = "crashsql.license";
        char db_path[600], lines[600], conf[700], log[600], extra[1024];
        uint64_t rng = seed_of(0x5eed0001);
        h_copy_dataset(&env, "market.business_license", topic);
        ck_assert_int_eq(h_create_topic(&env, topic, PARTITIONS), 0);
        snprintf(db_path, sizeof(db_path), "%s", h_path(&env, "department.db"));
        snprintf(lines, sizeof(lines), "%s", h_path(&env, "outbox-changes.jsonl"));
        /* A short poll and ack interval: the producer is killed often. */
        snprintf(extra, sizeof(extra),
                 "source = \"sqlite\";\nsqlite_outbox_path = \"%s\";\noutbox_poll_ms = 20;\n"
                 "sqlite_busy_timeout_ms = 30000;",
                 db_path);
        snprintf(conf, sizeof(conf), "%s", h_producer_conf(&env, "crashsql", "license", NULL, "-", extra));
        create_outbox(conf, db_path);
        rd_kafka_t *rk = watcher_new();

        writer_t w = {.db_path = db_path, .lines_path = lines, .dataset = "license", .seed = rng_next(&rng)};
        pthread_t thread;
        ck_assert_int_eq(pthread_create(&thread, NULL, writer_main, &w), 0);
        fprintf(stderr, "sqlite outbox: %d changes over %d records, %d kills\n", CHANGES, KEYS, KILLS);
        for (int run = 1; run <= KILLS; run++) {
                long long from = topic_end(rk, topic);
                pid_t pid = start_producer(conf, "producer-sqlite", run, log, sizeof(log));
                /* Some kills land while it starts, most while it publishes. */
                int delay = rng_range(&rng, 0, 4) == 0 ? rng_range(&rng, 0, 300) : rng_range(&rng, 300, 1800);
                kill_run(pid, run, log, delay, rk, topic, from, 0);
                fprintf(stderr, "          the application has written %d of %d changes, %lld marked sent\n",
                        __atomic_load_n(&w.done, __ATOMIC_RELAXED), CHANGES,
                        h_sqlite_int(db_path, "SELECT count(*) FROM sharebus_outbox WHERE sent_at IS NOT NULL"));
        }
        ck_assert_int_eq(pthread_join(thread, NULL), 0);
        ck_assert_msg(!w.error[0], "%s", w.error);
        ck_assert_int_eq(w.done, CHANGES);
        ck_assert_int_eq(h_sqlite_int(db_path, "SELECT count(*) FROM sharebus_outbox"), CHANGES);

        /* The last run publishes what is left, then stops on SIGTERM. */
        pid_t pid = start_producer(conf, "producer-sqlite", KILLS + 1, log, sizeof(log));
        long long unsent = -1;
        for (int i = 0; i < 1200 && unsent != 0; i++) {
                h_sleep_ms(100);
                unsent = h_sqlite_int(db_path, "SELECT count(*) FROM sharebus_outbox WHERE sent_at IS NULL");
        }
        ck_assert_msg(unsent == 0, "%lld outbox rows still unsent (see %s)", unsent, log);
        kill(pid, SIGTERM);
        ck_assert_msg(h_wait(pid, 60000) == 0, "the last run did not stop cleanly (see %s)", log);
        check_subscriber("crashsql", topic, "crashsql_license", lines, CHANGES, rk);
        rd_kafka_destroy(rk);
}
END_TEST

/* ---- 2. a large CSV file, resumed from its checkpoint ---- */

static void csv_cell(FILE *f, const json_t *v) {
        if (!v || json_is_null(v))
                return; /* an empty unquoted cell: null */
        if (json_is_string(v)) {
                fputc('"', f);
                for (const char *p = json_string_value(v); *p; p++) {
                        if (*p == '"')
                                fputc('"', f); /* a quote is doubled */
                        fputc(*p, f);
                }
                fputc('"', f);
                return;
        }
        char *text = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY | JSON_REAL_PRECISION(17));
        ck_assert_ptr_nonnull(text);
        fputs(text, f);
        free(text);
}

/* Writes the change lines of `lines` as CSV with an op column (a d row
 * carries only the key); returns the number of rows. */
static int write_csv(const char *lines, const char *csv) {
        static const char *const cols[] = {"uscc",   "name",           "legal_representative",
                                           "registered_capital", "business_scope", "status",
                                           "established_on",     "address",        "updated_at"};
        const size_t ncols = sizeof(cols) / sizeof(*cols);
        FILE *in = fopen(lines, "r"), *out = fopen(csv, "w");
        ck_assert(in && out);
        fputs("op", out);
        for (size_t i = 0; i < ncols; i++)
                fprintf(out, ",%s", cols[i]);
        fputs("\r\n", out);
        char *line = NULL;
        size_t cap = 0;
        int rows = 0;
        while (getline(&line, &cap, in) > 0) {
                json_t *ev = json_loads(line, 0, NULL);
                ck_assert_ptr_nonnull(ev);
                const char *op = json_string_value(json_object_get(ev, "op"));
                const json_t *row = strcmp(op, "d") == 0 ? json_object_get(ev, "key") : json_object_get(ev, "after");
                fputs(op, out);
                for (size_t i = 0; i < ncols; i++) {
                        fputc(',', out);
                        csv_cell(out, json_object_get(row, cols[i]));
                }
                fputs("\r\n", out);
                json_decref(ev);
                rows++;
        }
        free(line);
        fclose(in);
        ck_assert_int_eq(fclose(out), 0);
        return rows;
}

/* The offset the checkpoint at `path` holds, 0 if there is none yet. */
static long long checkpoint_offset(const char *path) {
        json_error_t jerr;
        json_t *doc = json_load_file(path, 0, &jerr);
        if (!doc)
                return 0;
        json_t *off = json_object_get(doc, "offset");
        ck_assert_msg(json_is_integer(off), "checkpoint %s without an offset", path);
        long long v = json_integer_value(off);
        json_decref(doc);
        return v;
}

START_TEST(csv_file_survives_ten_sigkills) {
        const char *topic = "crashcsv.license";
        char lines[600], csv[600], conf[700], log[600], cp[700];
        uint64_t rng = seed_of(0x5eed0002);
        h_copy_dataset(&env, "market.business_license", topic);
        ck_assert_int_eq(h_create_topic(&env, topic, PARTITIONS), 0);
        int deletes = h_write_sample(&env, "market.business_license", "csv-changes.jsonl", CHANGES, KEYS,
                                     (int)(rng_next(&rng) & 0x7fffffff), lines, sizeof(lines));
        snprintf(csv, sizeof(csv), "%s", h_path(&env, "licenses.csv"));
        ck_assert_int_eq(write_csv(lines, csv), CHANGES);
        snprintf(cp, sizeof(cp), "%s.sharebus-checkpoint", csv);
        /* A checkpoint every 100 ms: the runs are short.  A file is read
         * as fast as Kafka takes it, which on a fast machine would finish
         * before a kill lands: at most 200 messages queued, sent every
         * 20 ms, keep a run to a few thousand records a second. */
        ck_assert_int_eq(h_create_topic(&env, "rejects.crashcsv", 1), 0);
        const char *file = h_write_file(
                &env, "producer-crashcsv.conf",
                "department = \"crashcsv\";\ndataset = \"license\";\nschema_dir = \"%s/schemas\";\n"
                "registry_url = \"%s\";\nsource = \"csv\";\ninput = \"%s\";\ncsv_op_column = \"op\";\n"
                "checkpoint_interval_ms = 100;\n"
                "kafka = { bootstrap_servers = \"%s\"; linger_ms = 20; queue_buffering_max_messages = 200; };\n",
                env.dir, env.registry_url, csv, env.bootstrap);
        ck_assert_ptr_nonnull(file);
        snprintf(conf, sizeof(conf), "%s", file);
        rd_kafka_t *rk = watcher_new();

        fprintf(stderr, "csv: %d rows (%d deletes) over %d records, %d kills\n", CHANGES, deletes, KEYS, KILLS);
        long long total = CHANGES + deletes, last_offset = 0;
        for (int run = 1; run <= KILLS; run++) {
                long long from = topic_end(rk, topic);
                pid_t pid = start_producer(conf, "producer-csv", run, log, sizeof(log));
                /* A kill while it starts (mode 0), once it has published
                 * part of the file (1, 2: at most 1/14 of it, so that ten
                 * runs never reach the end), or shortly after it wrote a
                 * checkpoint (3, 4; runs 5 and 10 always, so that some runs
                 * get further for any seed). */
                int mode = run % 5 == 0 ? 3 : rng_range(&rng, 0, 4);
                if (mode == 0) {
                        kill_run(pid, run, log, rng_range(&rng, 0, 300), rk, topic, from, 0);
                } else if (mode <= 2) {
                        kill_run(pid, run, log, rng_range(&rng, 0, 50), rk, topic, from,
                                 rng_range(&rng, 100, (int)(total / 14)));
                } else {
                        for (int i = 0; i < 12000 && checkpoint_offset(cp) <= last_offset; i++)
                                h_sleep_ms(10);
                        ck_assert_msg(checkpoint_offset(cp) > last_offset,
                                      "run %d wrote no checkpoint (see %s)", run, log);
                        kill_run(pid, run, log, rng_range(&rng, 0, 100), rk, topic, from, 0);
                }
                long long offset = checkpoint_offset(cp);
                ck_assert_msg(offset >= last_offset, "run %d: checkpoint went back from %lld to %lld", run,
                              last_offset, offset);
                fprintf(stderr, "          checkpoint at byte %lld\n", offset);
                if (mode > 0 && last_offset > 0)
                        ck_assert_msg(h_file_contains(log, "resuming after byte"),
                                      "run %d did not resume from the checkpoint (see %s)", run, log);
                last_offset = offset;
        }
        ck_assert_msg(last_offset > 0, "no checkpoint was written in %d runs", KILLS);
        /* The last run resumes, reads the file to its end and exits. */
        pid_t pid = start_producer(conf, "producer-csv", KILLS + 1, log, sizeof(log));
        ck_assert_msg(h_wait(pid, 300000) == 0, "the last run failed (see %s)", log);
        ck_assert(h_file_contains(log, "resuming after byte"));
        check_subscriber("crashcsv", topic, "crashcsv_license", lines, CHANGES, rk);
        rd_kafka_destroy(rk);
}
END_TEST

/* ---- 3. the PostgreSQL outbox ----
 * TODO: the same test with source = "postgresql" and a writer over libpq,
 * once tests/integration/pgserver.{c,h} (a throwaway PostgreSQL) is on
 * main. */

int main(void) {
        if (h_env_start(&env) != 0)
                return 1;
        Suite *s = suite_create("producer_crash");
        TCase *tc = tcase_create("producer_crash");
        tcase_set_timeout(tc, 600);
        tcase_add_test(tc, sqlite_outbox_survives_ten_sigkills);
        tcase_add_test(tc, csv_file_survives_ten_sigkills);
        suite_add_tcase(s, tc);
        int failed = h_run_suite(s);
        h_env_stop(&env);
        return failed ? 1 : 0;
}

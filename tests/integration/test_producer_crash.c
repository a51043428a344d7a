/*
 * Integration: sharebus-producer killed with SIGKILL at random moments, ten
 * times in a row, and restarted each time, while it publishes an outbox
 * that an application keeps writing (SQLite; PostgreSQL, from two
 * connections), or a large CSV file.  Afterwards a
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
#include <libpq-fe.h>
#include <librdkafka/rdkafka.h>
#include <pthread.h>
#include <signal.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "pgserver.h"
#include "sample.h"

static h_env_t env;    /* the suite's broker and registry, set up by main */
static pgserver_t *pg; /* the suite's PostgreSQL */

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
        pid_t pid =
                h_start_subscriber(&env, name, topic, NULL, db, NULL, "idle_exit_ms = 4000;", SESSION, log);
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
        fprintf(stderr,
                "  %s: %lld records in the topic, %lld events (+%lld tombstones) for %d changes: %lld "
                "duplicate events absorbed\n",
                topic, records, events, records - events, changes, events - changes);
}

/* ---- the application: a writer of outbox rows ---- */

/* A writer thread: CHANGES sample changes (the same sequence for the same
 * seed), of which it writes those whose key falls into its `part` of
 * `parts` (the keys split by their last character), into the outbox, in
 * transactions of 1 to 40 changes with short pauses.  Each committed
 * transaction's changes are appended to lines_path, so that file is the
 * part's changes in commit order.  Errors are kept in `error` (Check's
 * asserts belong to the test's thread). */
typedef struct writer_s writer_t;
struct writer_s {
        const char *lines_path;
        const char *dataset;
        uint64_t seed;
        /* The database: connect, then per transaction begin, insert..., commit. */
        int (*connect)(writer_t *w);
        int (*begin)(writer_t *w);
        int (*insert)(writer_t *w, const char *op, const json_t *key, const json_t *before,
                      const json_t *after, long long ts_ms);
        int (*commit)(writer_t *w);
        void (*disconnect)(writer_t *w);
        const char *target; /* SQLite file or libpq conninfo */
        void *db;
        void *stmt;
        int part, parts;
        int pause_max_ms;
        int done; /* changes committed (atomic: the test reads it while it writes) */
        char error[512];
};

/* `v` as JSON text (the caller frees it), NULL for none or JSON null. */
static char *json_text(const json_t *v) {
        if (!v || json_is_null(v))
                return NULL;
        return json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY | JSON_REAL_PRECISION(17));
}

static int in_part(const writer_t *w, const json_t *ev) {
        const char *k = json_string_value(json_object_get(json_object_get(ev, "key"), "uscc"));
        size_t n = k ? strlen(k) : 0;
        return n > 0 && (unsigned char)k[n - 1] % (unsigned)w->parts == (unsigned)w->part;
}

static void *writer_main(void *arg) {
        writer_t *w = arg;
        sb_sample_t *sample = NULL;
        FILE *out = NULL;
        char errstr[256];
        char *pending[40];
        int npending = 0, in_txn = 0;
        uint64_t x = w->seed ^ (uint64_t)(w->part + 1) * 0x9E3779B97F4A7C15ULL;
        if (w->connect(w))
                goto done;
        if (sb_sample_new("market.business_license", w->seed, KEYS, &sample, errstr, sizeof(errstr))) {
                snprintf(w->error, sizeof(w->error), "writer: %s", errstr);
                goto done;
        }
        if (!(out = fopen(w->lines_path, "w"))) {
                snprintf(w->error, sizeof(w->error), "writer: %s: %s", w->lines_path, strerror(errno));
                goto done;
        }
        int left = CHANGES; /* of the whole sequence, all parts */
        while (left > 0) {
                int n = rng_range(&x, 1, 40);
                if (w->begin(w))
                        goto done;
                in_txn = 1;
                while (npending < n && left > 0) {
                        char *line = sb_sample_next(sample);
                        json_t *ev = line ? json_loads(line, 0, NULL) : NULL;
                        left--;
                        if (!ev) {
                                snprintf(w->error, sizeof(w->error), "writer: sample line: %s",
                                         line ? line : "out of memory");
                                free(line);
                                goto done;
                        }
                        if (!in_part(w, ev)) {
                                free(line);
                                json_decref(ev);
                                continue;
                        }
                        pending[npending++] = line;
                        int rc = w->insert(w, json_string_value(json_object_get(ev, "op")),
                                           json_object_get(ev, "key"), json_object_get(ev, "before"),
                                           json_object_get(ev, "after"),
                                           (long long)json_integer_value(json_object_get(ev, "ts_ms")));
                        json_decref(ev);
                        if (rc)
                                goto done;
                }
                if (w->commit(w))
                        goto done;
                in_txn = 0;
                /* Committed: now they are part of the final state. */
                for (int i = 0; i < npending; i++) {
                        fprintf(out, "%s\n", pending[i]);
                        free(pending[i]);
                }
                __atomic_store_n(&w->done, w->done + npending, __ATOMIC_RELAXED);
                npending = 0;
                h_sleep_ms(rng_range(&x, 0, w->pause_max_ms));
        }
done:
        for (int i = 0; i < npending; i++)
                free(pending[i]);
        if (out && fclose(out) != 0 && !w->error[0])
                snprintf(w->error, sizeof(w->error), "writer: %s: %s", w->lines_path, strerror(errno));
        sb_sample_destroy(sample);
        if (w->db) {
                if (in_txn)
                        snprintf(w->error + strlen(w->error), sizeof(w->error) - strlen(w->error),
                                 " (transaction rolled back)");
                w->disconnect(w);
        }
        return NULL;
}

/* Runs `parts` writers to their end (into <dir>/<name>-<part>.jsonl) while
 * `kill_loop` kills and restarts the producer, then joins them, asserts
 * that they wrote everything and puts all their changes into lines[size]
 * (the parts' keys are disjoint, so one after the other gives the final
 * state). */
static void write_while(writer_t *proto, int parts, const char *name, char *lines, size_t size,
                        void (*kill_loop)(void *arg, writer_t *ws, int parts), void *arg) {
        writer_t ws[4];
        pthread_t threads[4];
        char paths[4][600];
        ck_assert_int_le(parts, 4);
        for (int i = 0; i < parts; i++) {
                char file[128];
                snprintf(file, sizeof(file), "%s-%d.jsonl", name, i);
                snprintf(paths[i], sizeof(paths[i]), "%s", h_path(&env, file));
                ws[i] = *proto;
                ws[i].lines_path = paths[i];
                ws[i].part = i;
                ws[i].parts = parts;
                ck_assert_int_eq(pthread_create(&threads[i], NULL, writer_main, &ws[i]), 0);
        }
        kill_loop(arg, ws, parts);
        int done = 0;
        for (int i = 0; i < parts; i++) {
                ck_assert_int_eq(pthread_join(threads[i], NULL), 0);
                ck_assert_msg(!ws[i].error[0], "%s", ws[i].error);
                done += ws[i].done;
        }
        ck_assert_int_eq(done, CHANGES);
        char file[128];
        snprintf(file, sizeof(file), "%s.jsonl", name);
        snprintf(lines, size, "%s", h_path(&env, file));
        FILE *all = fopen(lines, "w");
        ck_assert_ptr_nonnull(all);
        for (int i = 0; i < parts; i++) {
                FILE *f = fopen(paths[i], "r");
                char buf[65536];
                size_t n;
                ck_assert_ptr_nonnull(f);
                while ((n = fread(buf, 1, sizeof(buf), f)) > 0)
                        ck_assert_uint_eq(fwrite(buf, 1, n, all), n);
                fclose(f);
        }
        ck_assert_int_eq(fclose(all), 0);
}

static int writers_done(writer_t *ws, int parts) {
        int done = 0;
        for (int i = 0; i < parts; i++)
                done += __atomic_load_n(&ws[i].done, __ATOMIC_RELAXED);
        return done;
}

/* ---- 1. the SQLite outbox, written while the producer is killed ---- */

static int sqlite_fail(writer_t *w, const char *what) {
        snprintf(w->error, sizeof(w->error), "writer: %s: %s", what, w->db ? sqlite3_errmsg(w->db) : "?");
        return -1;
}

/* Its own connection in WAL mode with a busy timeout: the producer's acks
 * take the write lock too. */
static int sqlite_connect(writer_t *w) {
        sqlite3 *db = NULL;
        int rc = sqlite3_open_v2(w->target, &db, SQLITE_OPEN_READWRITE, NULL);
        w->db = db;
        if (rc != SQLITE_OK)
                return sqlite_fail(w, "open");
        sqlite3_busy_timeout(db, 30000);
        sqlite3_stmt *st = NULL;
        if (sqlite3_exec(db, "PRAGMA journal_mode=WAL", NULL, NULL, NULL) != SQLITE_OK ||
            sqlite3_prepare_v2(db,
                               "INSERT INTO sharebus_outbox (dataset, op, \"key\", \"before\", \"after\", "
                               "changed_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                               -1, &st, NULL) != SQLITE_OK)
                return sqlite_fail(w, "prepare");
        w->stmt = st;
        return 0;
}

static int sqlite_begin(writer_t *w) {
        return sqlite3_exec(w->db, "BEGIN IMMEDIATE", NULL, NULL, NULL) == SQLITE_OK
                       ? 0
                       : sqlite_fail(w, "BEGIN");
}

static int sqlite_insert(writer_t *w, const char *op, const json_t *key, const json_t *before,
                         const json_t *after, long long ts_ms) {
        sqlite3_stmt *st = w->stmt;
        sqlite3_bind_text(st, 1, w->dataset, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 2, op, -1, SQLITE_TRANSIENT);
        const json_t *v[3] = {key, before, after};
        for (int i = 0; i < 3; i++) {
                char *text = json_text(v[i]);
                if (text)
                        sqlite3_bind_text(st, 3 + i, text, -1, free);
                else
                        sqlite3_bind_null(st, 3 + i);
        }
        sqlite3_bind_int64(st, 6, ts_ms);
        int rc = sqlite3_step(st);
        sqlite3_reset(st);
        sqlite3_clear_bindings(st);
        return rc == SQLITE_DONE ? 0 : sqlite_fail(w, "INSERT");
}

static int sqlite_commit(writer_t *w) {
        return sqlite3_exec(w->db, "COMMIT", NULL, NULL, NULL) == SQLITE_OK ? 0 : sqlite_fail(w, "COMMIT");
}

static void sqlite_disconnect(writer_t *w) {
        sqlite3_finalize(w->stmt);
        if (!sqlite3_get_autocommit(w->db))
                sqlite3_exec(w->db, "ROLLBACK", NULL, NULL, NULL);
        sqlite3_close(w->db);
        w->db = NULL;
}

/* What `sharebus-producer --print-ddl KIND` prints for `conf` (the caller
 * frees it): the outbox as a department would create it. */
static char *print_ddl(const char *conf, const char *kind) {
        char ddl_path[600], bin[1200], conf_copy[700], kind_copy[32], file[64];
        snprintf(file, sizeof(file), "outbox-%s.sql", kind);
        snprintf(ddl_path, sizeof(ddl_path), "%s", h_path(&env, file));
        snprintf(bin, sizeof(bin), "%s", h_bin(&env, "sharebus-producer"));
        snprintf(conf_copy, sizeof(conf_copy), "%s", conf);
        snprintf(kind_copy, sizeof(kind_copy), "%s", kind);
        char *argv[] = {bin, "--config", conf_copy, "--print-ddl", kind_copy, NULL};
        ck_assert_int_eq(h_run(argv, ddl_path, 30000), 0);
        FILE *f = fopen(ddl_path, "r");
        ck_assert_ptr_nonnull(f);
        char *ddl = calloc(1, 65536);
        ck_assert_ptr_nonnull(ddl);
        size_t n = fread(ddl, 1, 65535, f);
        fclose(f);
        ck_assert_msg(n < 65535 && strstr(ddl, "CREATE TABLE"), "--print-ddl %s printed: %s", kind, ddl);
        return ddl;
}

/* An outbox test: the producer's config, the topic, and how the test
 * counts outbox rows (SQLite file or PostgreSQL connection). */
typedef struct {
        const char *name; /* for file names */
        const char *topic;
        const char *conf;
        rd_kafka_t *rk;
        uint64_t rng;
        long long (*count)(void *db, const char *sql);
        void *db;
        const char *sent_sql, *unsent_sql; /* counts of outbox rows sent and not */
} outbox_test_t;

/* Kills the producer KILLS times while the writers write. */
static void outbox_kills(void *arg, writer_t *ws, int parts) {
        outbox_test_t *t = arg;
        char log[600], file[128];
        snprintf(file, sizeof(file), "producer-%s", t->name);
        for (int run = 1; run <= KILLS; run++) {
                long long from = topic_end(t->rk, t->topic);
                pid_t pid = start_producer(t->conf, file, run, log, sizeof(log));
                /* Some kills land while it starts, most while it publishes. */
                int delay = rng_range(&t->rng, 0, 4) == 0 ? rng_range(&t->rng, 0, 300)
                                                          : rng_range(&t->rng, 300, 1800);
                kill_run(pid, run, log, delay, t->rk, t->topic, from, 0);
                fprintf(stderr, "          the application has written %d of %d changes, %lld marked sent\n",
                        writers_done(ws, parts), CHANGES, t->count(t->db, t->sent_sql));
        }
}

/* The writers fill the outbox while the producer is killed ten times; then
 * a last run publishes the rest and a subscriber must end with the final
 * state. */
static void outbox_test(outbox_test_t *t, writer_t *proto, int parts) {
        char lines[600], log[600], file[128];
        fprintf(stderr, "%s outbox: %d changes over %d records by %d writer(s), %d kills\n", t->name, CHANGES,
                KEYS, parts, KILLS);
        t->rk = watcher_new();
        write_while(proto, parts, t->name, lines, sizeof(lines), outbox_kills, t);
        ck_assert_int_eq(t->count(t->db, "SELECT count(*) FROM sharebus_outbox"), CHANGES);

        /* The last run publishes what is left, then stops on SIGTERM. */
        snprintf(file, sizeof(file), "producer-%s", t->name);
        pid_t pid = start_producer(t->conf, file, KILLS + 1, log, sizeof(log));
        long long unsent = -1;
        for (int i = 0; i < 1200 && unsent != 0; i++) {
                h_sleep_ms(100);
                unsent = t->count(t->db, t->unsent_sql);
        }
        ck_assert_msg(unsent == 0, "%lld outbox rows still unsent (see %s)", unsent, log);
        kill(pid, SIGTERM);
        ck_assert_msg(h_wait(pid, 60000) == 0, "the last run did not stop cleanly (see %s)", log);
        char table[128];
        snprintf(table, sizeof(table), "%s", t->topic);
        table[strcspn(table, ".")] = '_';
        check_subscriber(t->name, t->topic, table, lines, CHANGES, t->rk);
        rd_kafka_destroy(t->rk);
}

static long long sqlite_count(void *db, const char *sql) { return h_sqlite_int(db, sql); }

START_TEST(sqlite_outbox_survives_ten_sigkills) {
        char db_path[600], conf[700], extra[1024];
        outbox_test_t t = {.name = "sqlite",
                           .topic = "crashsql.license",
                           .rng = seed_of(0x5eed0001),
                           .count = sqlite_count,
                           /* SQLite records the last seq sent (source_sqlite.h). */
                           .sent_sql = "SELECT (SELECT count(*) FROM sharebus_outbox) - "
                                       "(SELECT count(*) FROM sharebus_outbox_unsent)",
                           .unsent_sql = "SELECT count(*) FROM sharebus_outbox_unsent"};
        h_copy_dataset(&env, "market.business_license", t.topic);
        ck_assert_int_eq(h_create_topic(&env, t.topic, PARTITIONS), 0);
        snprintf(db_path, sizeof(db_path), "%s", h_path(&env, "department.db"));
        /* A short poll: the producer is killed often. */
        snprintf(extra, sizeof(extra),
                 "source = \"sqlite\";\nsqlite_outbox_path = \"%s\";\noutbox_poll_ms = 20;\n"
                 "sqlite_busy_timeout_ms = 30000;",
                 db_path);
        snprintf(conf, sizeof(conf), "%s", h_producer_conf(&env, "crashsql", "license", NULL, "-", extra));
        t.conf = conf;
        t.db = db_path;
        char *ddl = print_ddl(conf, "sqlite");
        sqlite3 *db;
        char *err = NULL;
        ck_assert_int_eq(sqlite3_open(db_path, &db), SQLITE_OK);
        ck_assert_msg(sqlite3_exec(db, ddl, NULL, NULL, &err) == SQLITE_OK, "DDL: %s", err ? err : "?");
        sqlite3_close(db);
        free(ddl);
        /* SQLite has one writer at a time: one application thread. */
        writer_t proto = {.dataset = "license",
                          .seed = rng_next(&t.rng),
                          .pause_max_ms = 15,
                          .connect = sqlite_connect,
                          .begin = sqlite_begin,
                          .insert = sqlite_insert,
                          .commit = sqlite_commit,
                          .disconnect = sqlite_disconnect,
                          .target = db_path};
        outbox_test(&t, &proto, 1);
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
        static const char *const cols[] = {
                "uscc",           "name",   "legal_representative", "registered_capital",
                "business_scope", "status", "established_on",       "address",
                "updated_at"};
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
                const json_t *row =
                        strcmp(op, "d") == 0 ? json_object_get(ev, "key") : json_object_get(ev, "after");
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
         * 50 ms, keep a run under 4000 records a second, so that a run
         * killed within half a second of its first checkpoint (or after
         * 1/14 of the records) publishes less than a tenth of the file. */
        ck_assert_int_eq(h_create_topic(&env, "rejects.crashcsv", 1), 0);
        const char *file = h_write_file(
                &env, "producer-crashcsv.conf",
                "department = \"crashcsv\";\ndataset = \"license\";\nschema_dir = \"%s/schemas\";\n"
                "registry_url = \"%s\";\nsource = \"csv\";\ninput = \"%s\";\ncsv_op_column = \"op\";\n"
                "checkpoint_interval_ms = 100;\n"
                "kafka = { bootstrap_servers = \"%s\"; linger_ms = 50; queue_buffering_max_messages = 200; "
                "};\n",
                env.dir, env.registry_url, csv, env.bootstrap);
        ck_assert_ptr_nonnull(file);
        snprintf(conf, sizeof(conf), "%s", file);
        rd_kafka_t *rk = watcher_new();

        fprintf(stderr, "csv: %d rows (%d deletes) over %d records, %d kills\n", CHANGES, deletes, KEYS,
                KILLS);
        long long total = CHANGES + deletes, last_offset = 0;
        for (int run = 1; run <= KILLS; run++) {
                long long from = topic_end(rk, topic);
                pid_t pid = start_producer(conf, "producer-csv", run, log, sizeof(log));
                /* A kill while it starts (mode 0), once it has published
                 * part of the file (1, 2: at most 1/14 of the records), or
                 * shortly after it wrote a checkpoint (3, 4; runs 5 and 10
                 * always, so that runs get further for any seed).  Ten
                 * runs never reach the end of the file. */
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

/* ---- 3. the PostgreSQL outbox, written by two connections ---- */

static int pg_fail(writer_t *w, const char *what) {
        snprintf(w->error, sizeof(w->error), "writer: %s: %s", what, w->db ? PQerrorMessage(w->db) : "?");
        return -1;
}

static int pg_exec(writer_t *w, const char *sql) {
        PGresult *r = PQexec(w->db, sql);
        int ok = PQresultStatus(r) == PGRES_COMMAND_OK;
        PQclear(r);
        return ok ? 0 : pg_fail(w, sql);
}

static void pg_quiet(void *arg, const char *message) {
        (void)arg;
        (void)message;
}

static int pg_connect(writer_t *w) {
        w->db = PQconnectdb(w->target);
        if (PQstatus(w->db) != CONNECTION_OK)
                return pg_fail(w, "connect");
        PQsetNoticeProcessor(w->db, pg_quiet, NULL);
        return 0;
}

static int pg_begin(writer_t *w) { return pg_exec(w, "BEGIN"); }

static int pg_insert(writer_t *w, const char *op, const json_t *key, const json_t *before,
                     const json_t *after, long long ts_ms) {
        char ts[32];
        snprintf(ts, sizeof(ts), "%lld", ts_ms);
        char *json[3] = {json_text(key), json_text(before), json_text(after)};
        const char *values[6] = {w->dataset, op, json[0], json[1], json[2], ts};
        PGresult *r =
                PQexecParams(w->db,
                             "INSERT INTO sharebus_outbox (dataset, op, key, before, after, changed_at) "
                             "VALUES ($1, $2, $3::jsonb, $4::jsonb, $5::jsonb, "
                             "to_timestamp($6::bigint / 1000.0))",
                             6, NULL, values, NULL, NULL, 0);
        int ok = PQresultStatus(r) == PGRES_COMMAND_OK;
        PQclear(r);
        for (int i = 0; i < 3; i++)
                free(json[i]);
        return ok ? 0 : pg_fail(w, "INSERT");
}

static int pg_commit(writer_t *w) { return pg_exec(w, "COMMIT"); }

static void pg_disconnect(writer_t *w) {
        PQfinish(w->db);
        w->db = NULL;
}

static long long pg_count(void *db, const char *sql) {
        PGresult *r = PQexec(db, sql);
        long long v =
                PQresultStatus(r) == PGRES_TUPLES_OK && PQntuples(r) == 1 ? atoll(PQgetvalue(r, 0, 0)) : -1;
        PQclear(r);
        return v;
}

START_TEST(postgresql_outbox_survives_ten_sigkills) {
        char conninfo[256], conf[700], extra[1024], err[1024] = "";
        outbox_test_t t = {.name = "postgresql",
                           .topic = "crashpg.license",
                           .rng = seed_of(0x5eed0003),
                           .count = pg_count,
                           .sent_sql = "SELECT count(*) FROM sharebus_outbox WHERE sent_at IS NOT NULL",
                           .unsent_sql = "SELECT count(*) FROM sharebus_outbox WHERE sent_at IS NULL"};
        ck_assert_ptr_nonnull(pg);
        h_copy_dataset(&env, "market.business_license", t.topic);
        ck_assert_int_eq(h_create_topic(&env, t.topic, PARTITIONS), 0);
        ck_assert_msg(pgserver_create_db(pg, "crash", err, sizeof(err)) == SB_OK, "%s", err);
        pgserver_db_conninfo(pg, "crash", conninfo, sizeof(conninfo));
        snprintf(extra, sizeof(extra), "source = \"postgresql\";\npostgresql_conninfo = \"%s\";", conninfo);
        snprintf(conf, sizeof(conf), "%s", h_producer_conf(&env, "crashpg", "license", NULL, "-", extra));
        t.conf = conf;
        PGconn *c = PQconnectdb(conninfo);
        ck_assert_msg(PQstatus(c) == CONNECTION_OK, "%s", PQerrorMessage(c));
        PQsetNoticeProcessor(c, pg_quiet, NULL);
        t.db = c;
        char *ddl = print_ddl(conf, "postgresql");
        PGresult *r = PQexec(c, ddl);
        ck_assert_msg(PQresultStatus(r) == PGRES_COMMAND_OK, "DDL: %s", PQerrorMessage(c));
        PQclear(r);
        free(ddl);
        /* Two connections, each with its own keys, commit out of seq order:
         * the outbox's gaps fill in while the producer reads. */
        writer_t proto = {.dataset = "license",
                          .seed = rng_next(&t.rng),
                          .pause_max_ms = 20,
                          .connect = pg_connect,
                          .begin = pg_begin,
                          .insert = pg_insert,
                          .commit = pg_commit,
                          .disconnect = pg_disconnect,
                          .target = conninfo};
        outbox_test(&t, &proto, 2);
        PQfinish(c);
}
END_TEST

int main(void) {
        char err[1024] = "";
        if (pgserver_start(&pg, err, sizeof(err)) != SB_OK) {
                fprintf(stderr, "test_producer_crash: %s\n", err);
                return 1;
        }
        if (h_env_start(&env) != 0) {
                pgserver_stop_destroy(pg);
                return 1;
        }
        Suite *s = suite_create("producer_crash");
        TCase *tc = tcase_create("producer_crash");
        tcase_set_timeout(tc, 600);
        tcase_add_test(tc, sqlite_outbox_survives_ten_sigkills);
        tcase_add_test(tc, csv_file_survives_ten_sigkills);
        tcase_add_test(tc, postgresql_outbox_survives_ten_sigkills);
        suite_add_tcase(s, tc);
        int failed = h_run_suite(s);
        h_env_stop(&env);
        pgserver_stop_destroy(pg);
        return failed ? 1 : 0;
}

/*
 * Unit tests of the SQLite outbox source, on real SQLite files in a
 * temporary folder: order and dataset filter, ack and resume, pruning,
 * polling for rows of another connection, the printed DDL and triggers
 * (their change lines go through change_line and event_encoder with the
 * market.business_license schemas), the snapshot handover, bad settings and
 * rows the producer must reject.
 */
#include <pthread.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "change_line.h"
#include "dataset.h"
#include "event_encoder.h"
#include "producer_settings.h"
#include "sb_wire.h"
#include "sources/source.h"
#include "sources/source_sqlite.h"
#include "sources/sqlite_sql.h"
#include "testutil.h"

#define DATASET "business_license"
/* What the producer records as sent (source_sqlite.h): the dataset's mark,
 * and the rows after it through the view the DDL makes for people. */
#define MARK_SQL                                                                                             \
        "SELECT coalesce((SELECT max(seq) FROM sharebus_outbox_progress WHERE outbox_table = "               \
        "'sharebus_outbox' "                                                                                 \
        "AND dataset = '" DATASET "'), 0)"
#define UNSENT_SQL "SELECT count(*) FROM sharebus_outbox_unsent WHERE dataset = '" DATASET "'"
#define TOPIC "market.business_license"

static char dir[256];
static char db_path[512];

static void setup(void) {
        snprintf(dir, sizeof(dir), "/tmp/sharebus-sqlite-XXXXXX");
        ck_assert_ptr_nonnull(mkdtemp(dir));
        snprintf(db_path, sizeof(db_path), "%s/dept.db", dir);
}

static void teardown(void) {
        char p[600];
        static const char *const suffixes[] = {"", "-wal", "-shm", "-journal"};
        for (size_t i = 0; i < 4; i++) {
                snprintf(p, sizeof(p), "%s%s", db_path, suffixes[i]);
                unlink(p);
        }
        rmdir(dir);
}

static sqlite3 *db_open(void) {
        sqlite3 *db = NULL;
        ck_assert_int_eq(sqlite3_open(db_path, &db), SQLITE_OK);
        sqlite3_busy_timeout(db, 10000);
        return db;
}

static void db_exec(sqlite3 *db, const char *sql) {
        char *msg = NULL;
        int rc = sqlite3_exec(db, sql, NULL, NULL, &msg);
        ck_assert_msg(rc == SQLITE_OK, "%s: %s", sql, msg ? msg : "?");
        sqlite3_free(msg);
}

static long long db_int(sqlite3 *db, const char *sql) {
        sqlite3_stmt *st;
        ck_assert_msg(sqlite3_prepare_v2(db, sql, -1, &st, NULL) == SQLITE_OK, "%s: %s", sql,
                      sqlite3_errmsg(db));
        ck_assert_int_eq(sqlite3_step(st), SQLITE_ROW);
        long long v = sqlite3_column_int64(st, 0);
        sqlite3_finalize(st);
        return v;
}

/*
 * The reusable demo writer: one change into the outbox `table` of `db`, as
 * a department's application writes it (inside its own transaction when it
 * has one open).  before/after may be NULL.  Returns the row's seq.
 */
long long test_outbox_write(sqlite3 *db, const char *table, const char *dataset, const char *op,
                            const char *key, const char *before, const char *after);
long long test_outbox_write(sqlite3 *db, const char *table, const char *dataset, const char *op,
                            const char *key, const char *before, const char *after) {
        char sql[256];
        sqlite3_stmt *st;
        snprintf(sql, sizeof(sql),
                 "INSERT INTO \"%s\" (dataset, op, \"key\", \"before\", \"after\") VALUES (?,?,?,?,?)",
                 table);
        ck_assert_msg(sqlite3_prepare_v2(db, sql, -1, &st, NULL) == SQLITE_OK, "%s", sqlite3_errmsg(db));
        const char *v[5] = {dataset, op, key, before, after};
        for (int i = 0; i < 5; i++)
                if (v[i])
                        sqlite3_bind_text(st, i + 1, v[i], -1, SQLITE_TRANSIENT);
        ck_assert_msg(sqlite3_step(st) == SQLITE_DONE, "insert: %s", sqlite3_errmsg(db));
        sqlite3_finalize(st);
        return sqlite3_last_insert_rowid(db);
}

/* The outbox DDL (and triggers on `business` when not NULL) run in `db`. */
static void create_outbox(sqlite3 *db, const char *business, const sb_node_t *key, const sb_node_t *row) {
        char *text = NULL;
        size_t len = 0;
        FILE *f = open_memstream(&text, &len);
        ck_assert_ptr_nonnull(f);
        TEST_CALL(sqlite_sql_print_ddl(f, "sharebus_outbox", business, DATASET, key, row, TEST_ERR));
        fclose(f);
        db_exec(db, text);
        free(text);
}

static sb_config_t *config(const char *extra) {
        char text[2048];
        snprintf(text, sizeof(text),
                 "department = \"market\"; dataset = \"" DATASET
                 "\"; registry_url = \"http://127.0.0.1:1\";\n"
                 "source = \"sqlite\"; sqlite_outbox_path = \"%s\"; outbox_poll_ms = 10;\n%s",
                 db_path, extra ? extra : "");
        sb_config_t *cfg = NULL;
        TEST_CALL(sb_config_load_string(text, "test.conf", sb_producer_settings, sb_producer_settings_count,
                                        &cfg, TEST_ERR));
        return cfg;
}

static sb_log_t *quiet_log(void) {
        sb_log_t *log = NULL;
        TEST_CALL(sb_log_new("test_source_sqlite", SB_LOG_ERROR, NULL, &log, TEST_ERR));
        return log;
}

typedef struct {
        sb_config_t *cfg;
        sb_log_t *log;
        source_t *src;
        sb_dataset_t *ds;
        int drain; /* opened with --drain */
} fixture_t;

static void fx_open(fixture_t *fx, const char *extra, int snapshot) {
        fx->cfg = config(extra);
        fx->log = quiet_log();
        if (!fx->ds)
                TEST_CALL(sb_dataset_load(test_src_path("schemas/datasets"), TOPIC, &fx->ds, TEST_ERR));
        source_options_t opts = {.department = "market",
                                 .dataset = DATASET,
                                 .snapshot = snapshot,
                                 .drain = fx->drain,
                                 .key_record = sb_schema_root(sb_dataset_key_schema(fx->ds)),
                                 .row_record = sb_dataset_row(fx->ds)};
        TEST_CALL(source_new(fx->cfg, &opts, fx->log, &fx->src, TEST_ERR));
}

static void fx_close(fixture_t *fx) {
        source_destroy(fx->src);
        fx->src = NULL;
        sb_log_destroy(fx->log);
        sb_config_destroy(fx->cfg);
}

static void fx_free(fixture_t *fx) {
        fx_close(fx);
        sb_dataset_destroy(fx->ds);
}

static source_batch_t next_batch(fixture_t *fx, size_t max, int timeout_ms) {
        source_batch_t b;
        TEST_CALL(source_next(fx->src, max, timeout_ms, &b, TEST_ERR));
        return b;
}

static char *record_text(const source_record_t *r) {
        char *t = strndup(r->text, r->len);
        ck_assert_ptr_nonnull(t);
        return t;
}

static json_t *record_json(const source_record_t *r) {
        json_error_t e;
        json_t *j = json_loadb(r->text, r->len, 0, &e);
        ck_assert_msg(j != NULL, "%s: %.*s: %s", r->where, (int)r->len, r->text, e.text);
        return j;
}

#define KEY(n) "{\"uscc\":\"K" #n "\"}"
#define ROW(n) "{\"uscc\":\"K" #n "\",\"name\":\"n" #n "\"}"

/* ---- order, filter, ack, resume, prune ---- */

START_TEST(test_order_and_dataset_filter) {
        sqlite3 *db = db_open();
        create_outbox(db, NULL, NULL, NULL);
        long long s1 = test_outbox_write(db, "sharebus_outbox", DATASET, "c", KEY(1), NULL, ROW(1));
        test_outbox_write(db, "sharebus_outbox", "resident", "c", KEY(9), NULL, ROW(9));
        long long s2 = test_outbox_write(db, "sharebus_outbox", DATASET, "u", KEY(1), ROW(1), ROW(1));
        long long s3 = test_outbox_write(db, "sharebus_outbox", DATASET, "d", KEY(1), ROW(1), NULL);
        fixture_t fx = {0};
        fx_open(&fx, NULL, 0);
        source_batch_t b = next_batch(&fx, 100, 0);
        ck_assert_uint_eq(b.count, 3);
        long long want[3] = {s1, s2, s3};
        for (size_t i = 0; i < 3; i++) {
                ck_assert_uint_eq(b.records[i].position, (uint64_t)want[i]);
                char where[64];
                snprintf(where, sizeof(where), "outbox seq %lld", want[i]);
                ck_assert_str_eq(b.records[i].where, where);
        }
        long long ts = db_int(db, "SELECT changed_at FROM sharebus_outbox WHERE seq = 1");
        char want0[256];
        snprintf(want0, sizeof(want0),
                 "{\"op\":\"c\",\"key\":" KEY(1) ",\"before\":null,\"after\":" ROW(
                         1) ",\"ts_ms\":%lld,\"seq\":%lld}",
                 ts, s1);
        char *t = record_text(&b.records[0]);
        ck_assert_str_eq(t, want0);
        free(t);
        for (size_t i = 0; i < 3; i++) {
                sb_change_line_t cl;
                TEST_CALL(sb_change_line_parse(b.records[i].text, b.records[i].len, &cl, TEST_ERR));
                ck_assert_int_eq(cl.op, "cud"[i]);
                ck_assert_int_eq(cl.seq, want[i]);
                char q[128];
                snprintf(q, sizeof(q), "SELECT changed_at FROM sharebus_outbox WHERE seq = %lld", want[i]);
                ck_assert_int_eq(cl.ts_ms, db_int(db, q));
                sb_change_line_clear(&cl);
        }
        /* Nothing more, and small batches keep the order. */
        ck_assert_uint_eq(next_batch(&fx, 100, 0).count, 0);
        fx_close(&fx);
        fx_open(&fx, NULL, 0);
        for (size_t i = 0; i < 3; i++) {
                b = next_batch(&fx, 1, 0);
                ck_assert_uint_eq(b.count, 1);
                ck_assert_uint_eq(b.records[0].position, (uint64_t)want[i]);
        }
        fx_free(&fx);
        sqlite3_close(db);
}
END_TEST

START_TEST(test_ack_marks_sent_and_reopen_resumes) {
        sqlite3 *db = db_open();
        create_outbox(db, NULL, NULL, NULL);
        for (int i = 0; i < 5; i++)
                test_outbox_write(db, "sharebus_outbox", DATASET, "c", KEY(1), NULL, ROW(1));
        test_outbox_write(db, "sharebus_outbox", "other", "c", KEY(1), NULL, ROW(1));
        fixture_t fx = {0};
        fx_open(&fx, NULL, 0);
        source_batch_t b = next_batch(&fx, 100, 0);
        ck_assert_uint_eq(b.count, 5);
        /* Nothing is marked before the ack, and the rows are never written. */
        ck_assert_int_eq(db_int(db, MARK_SQL), 0);
        ck_assert_int_eq(db_int(db, UNSENT_SQL), 5);
        TEST_CALL(source_ack(fx.src, 3, TEST_ERR));
        ck_assert_int_eq(db_int(db, MARK_SQL), 3);
        ck_assert_int_eq(db_int(db, UNSENT_SQL), 2);
        /* Up to 6: every row of ours; the other dataset's row stays unsent. */
        TEST_CALL(source_ack(fx.src, 6, TEST_ERR));
        ck_assert_int_eq(db_int(db, MARK_SQL), 6);
        ck_assert_int_eq(db_int(db, UNSENT_SQL), 0);
        ck_assert_int_eq(db_int(db, "SELECT seq FROM sharebus_outbox_unsent"), 6);
        /* A late ack (an older producer's) never moves the mark back. */
        TEST_CALL(source_ack(fx.src, 2, TEST_ERR));
        ck_assert_int_eq(db_int(db, MARK_SQL), 6);
        fx_close(&fx);

        /* A crash after the ack of 3: rows 4 and 5 come again, 1-3 never. */
        db_exec(db, "UPDATE sharebus_outbox_progress SET seq = 3 WHERE dataset = '" DATASET "'");
        fx_open(&fx, NULL, 0);
        {
                source_stats_t st;
                source_stats(fx.src, &st);
                ck_assert_int_eq(st.backlog, 2);
                ck_assert_int_ge(st.oldest_age_ms, 0);
        }
        b = next_batch(&fx, 100, 0);
        ck_assert_uint_eq(b.count, 2);
        ck_assert_uint_eq(b.records[0].position, 4);
        ck_assert_uint_eq(b.records[1].position, 5);
        fx_free(&fx);
        sqlite3_close(db);
}
END_TEST

/* --drain: the rows there are handed over, then the source is finished
 * (the producer flushes, acknowledges and exits) instead of waiting. */
START_TEST(test_drain_finishes_once_nothing_is_unsent) {
        sqlite3 *db = db_open();
        create_outbox(db, NULL, NULL, NULL);
        fixture_t fx = {.drain = 1};
        fx_open(&fx, NULL, 0);
        source_batch_t b;
        char err[256];
        /* An empty outbox: finished at once, whatever the timeout. */
        ck_assert_int_eq(source_next(fx.src, 100, 60000, &b, err, sizeof(err)), SB_ERR_NOT_FOUND);
        ck_assert_uint_eq(b.count, 0);
        ck_assert_msg(strstr(err, "no unsent row (--drain)"), "%s", err);
        fx_close(&fx);
        for (int i = 0; i < 3; i++)
                test_outbox_write(db, "sharebus_outbox", DATASET, "c", KEY(1), NULL, ROW(1));
        test_outbox_write(db, "sharebus_outbox", "other", "c", KEY(2), NULL, ROW(2));
        fx_open(&fx, NULL, 0);
        b = next_batch(&fx, 2, 60000);
        ck_assert_uint_eq(b.count, 2);
        b = next_batch(&fx, 2, 60000);
        ck_assert_uint_eq(b.count, 1);
        ck_assert_uint_eq(b.records[0].position, 3);
        ck_assert_int_eq(source_next(fx.src, 100, 60000, &b, err, sizeof(err)), SB_ERR_NOT_FOUND);
        TEST_CALL(source_ack(fx.src, 3, TEST_ERR));
        ck_assert_int_eq(db_int(db, UNSENT_SQL), 0);
        fx_close(&fx);
        /* Without it, the same empty read is "nothing yet". */
        fx.drain = 0;
        fx_open(&fx, NULL, 0);
        ck_assert_uint_eq(next_batch(&fx, 100, 0).count, 0);
        fx_free(&fx);
        sqlite3_close(db);
}
END_TEST

START_TEST(test_prune_after_retention) {
        sqlite3 *db = db_open();
        create_outbox(db, NULL, NULL, NULL);
        for (int i = 0; i < 4; i++)
                test_outbox_write(db, "sharebus_outbox", DATASET, "c", KEY(1), NULL, ROW(1));
        test_outbox_write(db, "sharebus_outbox", "other", "c", KEY(1), NULL, ROW(1));
        /* Rows 1-2 were sent long ago; so was the other dataset's. */
        db_exec(db, "INSERT INTO sharebus_outbox_progress VALUES ('sharebus_outbox', '" DATASET
                    "', 2, 1000), ('sharebus_outbox', 'other', 5, 1000)");
        fixture_t fx = {0};
        fx_open(&fx, "outbox_retention_ms = 86400000;", 0);
        ck_assert_uint_eq(next_batch(&fx, 100, 0).count, 2);
        TEST_CALL(source_ack(fx.src, 3, TEST_ERR));
        /* 1 and 2 are past the retention, 3 is fresh, 4 unsent, 5 not ours. */
        ck_assert_int_eq(db_int(db, "SELECT count(*) FROM sharebus_outbox WHERE seq IN (1, 2)"), 0);
        ck_assert_int_eq(db_int(db, "SELECT count(*) FROM sharebus_outbox WHERE seq IN (3, 4, 5)"), 3);
        fx_close(&fx);

        /* Retention 0: sent rows go at once. */
        fx_open(&fx, "outbox_retention_ms = 0;", 0);
        ck_assert_uint_eq(next_batch(&fx, 100, 0).count, 1);
        TEST_CALL(source_ack(fx.src, 4, TEST_ERR));
        ck_assert_int_eq(db_int(db, "SELECT count(*) FROM sharebus_outbox WHERE dataset = '" DATASET "'"), 0);
        ck_assert_int_eq(db_int(db, "SELECT count(*) FROM sharebus_outbox"), 1);
        fx_free(&fx);
        sqlite3_close(db);
}
END_TEST

#define SEQS(table) "SELECT group_concat(seq, '') FROM (SELECT seq FROM " table " ORDER BY seq)"

/* The progress rows say what was sent when, one row per minute of sending:
 * a prune deletes the outbox rows sent before the retention and the
 * progress rows that only said so. */
START_TEST(test_progress_rows_per_minute_and_their_pruning) {
        sqlite3 *db = db_open();
        create_outbox(db, NULL, NULL, NULL);
        for (int i = 0; i < 6; i++)
                test_outbox_write(db, "sharebus_outbox", DATASET, "c", KEY(1), NULL, ROW(1));
        /* Rows up to 2, then up to 4, were sent long ago. */
        db_exec(db, "INSERT INTO sharebus_outbox_progress VALUES ('sharebus_outbox', '" DATASET
                    "', 2, 1000), ('sharebus_outbox', '" DATASET "', 4, 2000)");
        fixture_t fx = {0};
        fx_open(&fx, "outbox_retention_ms = 86400000;", 0);
        ck_assert_uint_eq(next_batch(&fx, 100, 0).count, 2);
        /* The latest progress row is old: a new one starts. */
        TEST_CALL(source_ack(fx.src, 5, TEST_ERR));
        ck_assert_int_eq(db_int(db, SEQS("sharebus_outbox")), 56);
        ck_assert_int_eq(db_int(db, SEQS("sharebus_outbox_progress")), 45);
        /* Within its minute the new row moves forward. */
        TEST_CALL(source_ack(fx.src, 6, TEST_ERR));
        ck_assert_int_eq(db_int(db, SEQS("sharebus_outbox_progress")), 46);
        ck_assert_int_eq(db_int(db, MARK_SQL), 6);
        ck_assert_int_eq(db_int(db, UNSENT_SQL), 0);
        fx_free(&fx);
        sqlite3_close(db);
}
END_TEST

/* ---- polling ---- */

typedef struct {
        int rows;
} writer_arg_t;

/* A second process's application: its own connection, a few rows, each
 * in a transaction with a business change. */
static void *writer_thread(void *p) {
        writer_arg_t *a = p;
        sqlite3 *db = NULL;
        if (sqlite3_open(db_path, &db) != SQLITE_OK)
                return NULL;
        sqlite3_busy_timeout(db, 10000);
        usleep(50 * 1000); /* let the reader start waiting (not required for the test to pass) */
        for (int i = 0; i < a->rows; i++) {
                sqlite3_exec(db, "BEGIN IMMEDIATE", NULL, NULL, NULL);
                sqlite3_exec(db,
                             "INSERT INTO sharebus_outbox (dataset, op, \"key\", \"after\") VALUES ('" DATASET
                             "', 'c', '{\"uscc\":\"W\"}', '{\"uscc\":\"W\"}')",
                             NULL, NULL, NULL);
                sqlite3_exec(db, "COMMIT", NULL, NULL, NULL);
        }
        sqlite3_close(db);
        return NULL;
}

START_TEST(test_poll_wakes_for_another_connection) {
        sqlite3 *db = db_open();
        create_outbox(db, NULL, NULL, NULL);
        fixture_t fx = {0};
        fx_open(&fx, NULL, 0);
        ck_assert_uint_eq(next_batch(&fx, 100, 0).count, 0);
        ck_assert_uint_eq(next_batch(&fx, 100, 20).count, 0);
        writer_arg_t arg = {.rows = 3};
        pthread_t th;
        ck_assert_int_eq(pthread_create(&th, NULL, writer_thread, &arg), 0);
        /* Waits (far less than the timeout) until the rows are there. */
        size_t got = 0;
        uint64_t last = 0;
        while (got < 3) {
                source_batch_t b = next_batch(&fx, 100, 600000);
                ck_assert_uint_gt(b.count, 0);
                for (size_t i = 0; i < b.count; i++) {
                        ck_assert_uint_gt(b.records[i].position, last);
                        last = b.records[i].position;
                }
                got += b.count;
        }
        pthread_join(th, NULL);
        ck_assert_uint_eq(got, 3);
        ck_assert_uint_eq(next_batch(&fx, 100, 0).count, 0);
        fx_free(&fx);
        sqlite3_close(db);
}
END_TEST

/* ---- DDL and triggers ---- */

static const char business_ddl[] =
        "CREATE TABLE market_business_license (uscc TEXT PRIMARY KEY, name TEXT NOT NULL,"
        " legal_representative TEXT, registered_capital REAL, business_scope TEXT,"
        " status TEXT, established_on TEXT, address TEXT, updated_at TEXT);";

static void insert_license(sqlite3 *db, const char *uscc, const char *name) {
        char sql[512];
        snprintf(sql, sizeof(sql),
                 "INSERT INTO market_business_license VALUES ('%s', '%s', 'Li Lei', 100, NULL, 'ACTIVE', "
                 "'2020-05-01', 'Beijing', '2024-05-01 10:00:00.250')",
                 uscc, name);
        db_exec(db, sql);
}

/* Parses and encodes the record as the producer does; returns the decoded
 * envelope value (caller decrefs). */
static json_t *encode_record(fixture_t *fx, const source_record_t *r) {
        sb_change_line_t cl;
        char err[1024] = "";
        ck_assert_msg(sb_change_line_parse(r->text, r->len, &cl, err, sizeof(err)) == SB_OK, "%s: %.*s: %s",
                      r->where, (int)r->len, r->text, err);
        sb_event_encoder_t enc = {.dataset = fx->ds,
                                  .key_schema_id = 1,
                                  .value_schema_id = 2,
                                  .department = "market",
                                  .system = "test"};
        sb_buf_t kb, vb;
        sb_buf_init(&kb, 1 << 20);
        sb_buf_init(&vb, 1 << 20);
        char event_id[37];
        ck_assert_msg(sb_event_encode(&enc, &cl, 1, &kb, &vb, event_id, err, sizeof(err)) == SB_OK,
                      "%s: %.*s: %s", r->where, (int)r->len, r->text, err);
        int32_t id;
        const uint8_t *body;
        size_t body_len;
        json_t *value = NULL;
        TEST_CALL(sb_wire_parse(vb.data, vb.len, &id, &body, &body_len, TEST_ERR));
        TEST_CALL(sb_avro_decode(sb_dataset_value_schema(fx->ds), body, body_len, &value, TEST_ERR));
        sb_buf_free(&kb);
        sb_buf_free(&vb);
        sb_change_line_clear(&cl);
        return value;
}

static const char *row_str(json_t *value, const char *side, const char *field) {
        return json_string_value(json_object_get(json_object_get(value, side), field));
}

START_TEST(test_triggers_fill_the_outbox) {
        sqlite3 *db = db_open();
        fixture_t fx = {0};
        TEST_CALL(sb_dataset_load(test_src_path("schemas/datasets"), TOPIC, &fx.ds, TEST_ERR));
        db_exec(db, business_ddl);
        create_outbox(db, "market_business_license", sb_schema_root(sb_dataset_key_schema(fx.ds)),
                      sb_dataset_row(fx.ds));
        /* The DDL may run again (IF NOT EXISTS). */
        create_outbox(db, "market_business_license", sb_schema_root(sb_dataset_key_schema(fx.ds)),
                      sb_dataset_row(fx.ds));
        insert_license(db, "A1", "Alpha");
        db_exec(db, "UPDATE market_business_license SET name = 'Alpha Ltd' WHERE uscc = 'A1'");
        db_exec(db, "UPDATE market_business_license SET uscc = 'B2' WHERE uscc = 'A1'");
        db_exec(db, "DELETE FROM market_business_license WHERE uscc = 'B2'");
        fx_open(&fx, NULL, 0);
        source_batch_t b = next_batch(&fx, 100, 0);
        ck_assert_uint_eq(b.count, 5);
        static const char ops[] = "cudcd";
        static const char *const keys[] = {"A1", "A1", "A1", "B2", "B2"};
        for (size_t i = 0; i < 5; i++) {
                json_t *v = encode_record(&fx, &b.records[i]);
                char op[2] = {ops[i], 0};
                ck_assert_str_eq(json_string_value(json_object_get(v, "op")), op);
                ck_assert_int_eq(json_integer_value(json_object_get(json_object_get(v, "source"), "seq")),
                                 (json_int_t)b.records[i].position);
                const char *side = ops[i] == 'd' ? "before" : "after";
                ck_assert_str_eq(row_str(v, side, "uscc"), keys[i]);
                ck_assert_str_eq(row_str(v, side, "established_on"), "2020-05-01");
                ck_assert_str_eq(row_str(v, side, "updated_at"), "2024-05-01T10:00:00.250Z");
                ck_assert_str_eq(row_str(v, side, "status"), "ACTIVE");
                ck_assert(json_is_null(json_object_get(json_object_get(v, side), "business_scope")));
                if (i == 1) {
                        ck_assert_str_eq(row_str(v, "before", "name"), "Alpha");
                        ck_assert_str_eq(row_str(v, "after", "name"), "Alpha Ltd");
                }
                json_decref(v);
        }
        fx_free(&fx);
        sqlite3_close(db);
}
END_TEST

START_TEST(test_print_ddl_refuses_bad_names) {
        char err[512];
        sb_dataset_t *ds = NULL;
        TEST_CALL(sb_dataset_load(test_src_path("schemas/datasets"), TOPIC, &ds, TEST_ERR));
        const sb_node_t *key = sb_schema_root(sb_dataset_key_schema(ds)), *row = sb_dataset_row(ds);
        ck_assert_int_eq(sqlite_sql_print_ddl(stdout, "bad name", NULL, NULL, NULL, NULL, err, sizeof(err)),
                         SB_ERR_CONFIG);
        ck_assert_msg(strstr(err, "'bad name'"), "%s", err);
        ck_assert_int_eq(sqlite_sql_print_ddl(stdout, "o", "t;drop", DATASET, key, row, err, sizeof(err)),
                         SB_ERR_CONFIG);
        ck_assert_msg(strstr(err, "'t;drop'"), "%s", err);
        ck_assert_int_eq(sqlite_sql_print_ddl(stdout, "o", "t", DATASET, NULL, row, err, sizeof(err)),
                         SB_ERR_SCHEMA);
        /* The key record must name row fields (the row as key: uscc is one). */
        ck_assert_int_eq(sqlite_sql_print_ddl(stdout, "o", "t", DATASET, row, key, err, sizeof(err)),
                         SB_ERR_SCHEMA);
        ck_assert_msg(strstr(err, "is not a field"), "%s", err);
        sb_dataset_destroy(ds);
}
END_TEST

/* ---- snapshot ---- */

START_TEST(test_snapshot_then_outbox_exactly_once) {
        sqlite3 *db = db_open();
        fixture_t fx = {0};
        TEST_CALL(sb_dataset_load(test_src_path("schemas/datasets"), TOPIC, &fx.ds, TEST_ERR));
        db_exec(db, business_ddl);
        create_outbox(db, "market_business_license", sb_schema_root(sb_dataset_key_schema(fx.ds)),
                      sb_dataset_row(fx.ds));
        insert_license(db, "A", "a");
        insert_license(db, "B", "b");
        insert_license(db, "C", "c");
        fx_open(&fx, "snapshot_table = \"market_business_license\";", 1);
        json_t *seen = json_object(); /* "op:key" -> count */
        source_batch_t b = next_batch(&fx, 1, 0);
        ck_assert_uint_eq(b.count, 1);
        ck_assert_uint_eq(b.records[0].position, 0);
        /* A change committed while the snapshot is read: not in it, in the
         * outbox after it. */
        insert_license(db, "D", "d");
        db_exec(db, "UPDATE market_business_license SET name = 'a2' WHERE uscc = 'A'");
        uint64_t last_pos = 0;
        int rounds = 0;
        for (;;) {
                for (size_t i = 0; i < b.count; i++) {
                        json_t *v = encode_record(&fx, &b.records[i]);
                        const char *op = json_string_value(json_object_get(v, "op"));
                        char k[64];
                        snprintf(k, sizeof(k), "%s:%s", op, row_str(v, "after", "uscc"));
                        json_object_set_new(seen, k,
                                            json_integer(json_integer_value(json_object_get(seen, k)) + 1));
                        if (op[0] == 'r') {
                                ck_assert_int_eq(json_integer_value(json_object_get(
                                                         json_object_get(v, "source"), "seq")),
                                                 3);
                                ck_assert_str_ne(row_str(v, "after", "name"), "a2");
                        }
                        if (b.records[i].position) {
                                ck_assert_uint_gt(b.records[i].position, last_pos);
                                last_pos = b.records[i].position;
                        }
                        json_decref(v);
                }
                if (b.count == 0 || ++rounds > 10)
                        break;
                b = next_batch(&fx, 1, 0);
        }
        char *dump = json_dumps(seen, JSON_SORT_KEYS | JSON_COMPACT);
        ck_assert_str_eq(dump, "{\"c:D\":1,\"r:A\":1,\"r:B\":1,\"r:C\":1,\"u:A\":1}");
        free(dump);
        json_decref(seen);
        /* The last snapshot row carried seq 3: acking it marks the outbox
         * rows the snapshot superseded. */
        TEST_CALL(source_ack(fx.src, 3, TEST_ERR));
        ck_assert_int_eq(db_int(db, UNSENT_SQL), 2);
        fx_close(&fx);
        /* Reopened without snapshot: the two rows after it, not the others. */
        fx_open(&fx, NULL, 0);
        b = next_batch(&fx, 100, 0);
        ck_assert_uint_eq(b.count, 2);
        ck_assert_uint_eq(b.records[0].position, 4);
        fx_free(&fx);
        sqlite3_close(db);
}
END_TEST

START_TEST(test_empty_snapshot_marks_superseded_rows) {
        sqlite3 *db = db_open();
        fixture_t fx = {0};
        TEST_CALL(sb_dataset_load(test_src_path("schemas/datasets"), TOPIC, &fx.ds, TEST_ERR));
        db_exec(db, business_ddl);
        create_outbox(db, "market_business_license", sb_schema_root(sb_dataset_key_schema(fx.ds)),
                      sb_dataset_row(fx.ds));
        insert_license(db, "A", "a");
        db_exec(db, "DELETE FROM market_business_license");
        fx_open(&fx, "snapshot_table = \"market_business_license\";", 1);
        ck_assert_uint_eq(next_batch(&fx, 100, 0).count, 0);
        ck_assert_int_eq(db_int(db, UNSENT_SQL), 0);
        ck_assert_int_eq(db_int(db, MARK_SQL), 2);
        insert_license(db, "B", "b");
        source_batch_t b = next_batch(&fx, 100, 0);
        ck_assert_uint_eq(b.count, 1);
        ck_assert_uint_eq(b.records[0].position, 3);
        fx_free(&fx);
        sqlite3_close(db);
}
END_TEST

/* Values of every kind the encoder reads, from SQLite's storage classes. */
START_TEST(test_snapshot_values_fit_the_encoder) {
        sqlite3 *db = db_open();
        create_outbox(db, NULL, NULL, NULL);
        db_exec(db,
                "CREATE TABLE t (id INTEGER PRIMARY KEY, ok INTEGER, maybe INTEGER, raw BLOB, d TEXT, di "
                "INTEGER,"
                " ts TEXT, tsi INTEGER, amount REAL, code INTEGER, tags TEXT, rec TEXT);"
                "INSERT INTO t VALUES (7, 1, NULL, x'01ff41', '2024-02-29', 19782, '2024-02-29T23:59:59Z',"
                " 1709251199000, 12, 42, '[\"a\",\"b\"]', '{\"x\":1}');"
                "INSERT INTO t VALUES (8, 0, 0, x'', '2024-03-01 12:00:00', 0, '1970-01-01 00:00:00.001', 0, "
                "0.5,"
                " 'x', '[]', '{\"x\":2}');");
        sb_schema_t *key =
                test_schema_q("{'type':'record','name':'K','fields':[{'name':'id','type':'long'}]}");
        sb_schema_t *row = test_schema_q(
                "{'type':'record','name':'R','fields':[{'name':'id','type':'long'},"
                "{'name':'ok','type':'boolean'},{'name':'maybe','type':['null','boolean']},"
                "{'name':'raw','type':'bytes'},"
                "{'name':'d','type':{'type':'int','logicalType':'date'}},"
                "{'name':'di','type':{'type':'int','logicalType':'date'}},"
                "{'name':'ts','type':{'type':'long','logicalType':'timestamp-millis'}},"
                "{'name':'tsi','type':{'type':'long','logicalType':'timestamp-millis'}},"
                "{'name':'amount','type':'double'},{'name':'code','type':'string'},"
                "{'name':'tags','type':{'type':'array','items':'string'}},"
                "{'name':'rec','type':{'type':'record','name':'X','fields':[{'name':'x','type':'int'}]}}]}");
        sb_config_t *cfg = config("snapshot_table = \"t\";");
        sb_log_t *log = quiet_log();
        source_options_t opts = {.department = "market",
                                 .dataset = DATASET,
                                 .snapshot = 1,
                                 .key_record = sb_schema_root(key),
                                 .row_record = sb_schema_root(row)};
        source_t *src = NULL;
        TEST_CALL(source_new(cfg, &opts, log, &src, TEST_ERR));
        source_batch_t b;
        TEST_CALL(source_next(src, 100, 0, &b, TEST_ERR));
        ck_assert_uint_eq(b.count, 2);
        static const char *const want[] = {
                "{'id':7,'ok':true,'maybe':null,'raw':'\\u0001\\u00ffA','d':'2024-02-29','di':'2024-02-29',"
                "'ts':'2024-02-29T23:59:59.000Z','tsi':'2024-02-29T23:59:59.000Z','amount':12.0,'code':'42',"
                "'tags':['a','b'],'rec':{'x':1}}",
                "{'id':8,'ok':false,'maybe':false,'raw':'','d':'2024-03-01','di':'1970-01-01',"
                "'ts':'1970-01-01T00:00:00.001Z','tsi':'1970-01-01T00:00:00.000Z','amount':0.5,'code':'x',"
                "'tags':[],'rec':{'x':2}}"};
        for (size_t i = 0; i < 2; i++) {
                json_t *line = record_json(&b.records[i]);
                json_t *after = json_object_get(line, "after");
                ck_assert_int_eq(json_integer_value(json_object_get(json_object_get(line, "key"), "id")),
                                 7 + (int)i);
                json_t *back = test_round_trip(row, after);
                json_t *w = test_json_q(want[i]);
                test_assert_json_eq(back, w);
                json_decref(w);
                json_decref(back);
                json_decref(line);
        }
        source_destroy(src);
        sb_log_destroy(log);
        sb_config_destroy(cfg);
        sb_schema_destroy(key);
        sb_schema_destroy(row);
        sqlite3_close(db);
}
END_TEST

/* More fields than one json_object call takes (127 arguments), through the
 * triggers and the snapshot. */
START_TEST(test_wide_rows) {
        enum { FIELDS = 130 };
        sb_buf_t schema, ddl, ins;
        sb_buf_init(&schema, 1 << 20);
        sb_buf_init(&ddl, 1 << 20);
        sb_buf_init(&ins, 1 << 20);
        ck_assert_int_eq(sb_buf_printf(&schema, "{\"type\":\"record\",\"name\":\"W\",\"fields\":["), SB_OK);
        ck_assert_int_eq(sb_buf_printf(&ddl, "CREATE TABLE w ("), SB_OK);
        ck_assert_int_eq(sb_buf_printf(&ins, "INSERT INTO w VALUES ("), SB_OK);
        for (int i = 0; i < FIELDS; i++) {
                const char *sep = i ? "," : "";
                ck_assert_int_eq(sb_buf_printf(&schema, "%s{\"name\":\"f%d\",\"type\":\"long\"}", sep, i),
                                 SB_OK);
                ck_assert_int_eq(sb_buf_printf(&ddl, "%sf%d INTEGER", sep, i), SB_OK);
                ck_assert_int_eq(sb_buf_printf(&ins, "%s%d", sep, i * 7), SB_OK);
        }
        ck_assert_int_eq(sb_buf_printf(&schema, "]}"), SB_OK);
        ck_assert_int_eq(sb_buf_printf(&ddl, ")"), SB_OK);
        ck_assert_int_eq(sb_buf_printf(&ins, ")"), SB_OK);
        sb_schema_t *row = NULL,
                    *key = test_schema_q(
                            "{'type':'record','name':'K','fields':[{'name':'f0','type':'long'}]}");
        TEST_CALL(sb_schema_new((const char *)schema.data, schema.len, &row, TEST_ERR));
        sqlite3 *db = db_open();
        db_exec(db, (const char *)ddl.data);
        char *text = NULL;
        size_t len = 0;
        FILE *f = open_memstream(&text, &len);
        ck_assert_ptr_nonnull(f);
        TEST_CALL(sqlite_sql_print_ddl(f, "sharebus_outbox", "w", DATASET, sb_schema_root(key),
                                       sb_schema_root(row), TEST_ERR));
        fclose(f);
        db_exec(db, text);
        free(text);
        db_exec(db, (const char *)ins.data);
        sb_config_t *cfg = config("snapshot_table = \"w\";");
        sb_log_t *log = quiet_log();
        source_options_t opts = {.department = "market",
                                 .dataset = DATASET,
                                 .snapshot = 1,
                                 .key_record = sb_schema_root(key),
                                 .row_record = sb_schema_root(row)};
        source_t *src = NULL;
        TEST_CALL(source_new(cfg, &opts, log, &src, TEST_ERR));
        /* The snapshot row (the trigger's create is before it), then the
         * trigger's update: the same row. */
        for (int round = 0; round < 2; round++) {
                source_batch_t b;
                if (round)
                        db_exec(db, "UPDATE w SET f0 = f0");
                TEST_CALL(source_next(src, 1, 0, &b, TEST_ERR));
                ck_assert_uint_eq(b.count, 1);
                json_t *line = record_json(&b.records[0]);
                ck_assert_str_eq(json_string_value(json_object_get(line, "op")), round ? "u" : "r");
                json_t *after = json_object_get(line, "after");
                ck_assert_uint_eq(json_object_size(after), FIELDS);
                for (int i = 0; i < FIELDS; i++) {
                        char name[16];
                        snprintf(name, sizeof(name), "f%d", i);
                        ck_assert_int_eq(json_integer_value(json_object_get(after, name)), i * 7);
                }
                json_t *back = test_round_trip(row, after);
                json_decref(back);
                json_decref(line);
        }
        source_destroy(src);
        sb_log_destroy(log);
        sb_config_destroy(cfg);
        sb_schema_destroy(key);
        sb_schema_destroy(row);
        sb_buf_free(&schema);
        sb_buf_free(&ddl);
        sb_buf_free(&ins);
        sqlite3_close(db);
}
END_TEST

/* A trigger whose table lacks a field's column fails the application's
 * statement: nothing wrong is published silently. */
START_TEST(test_trigger_on_a_table_without_a_field_fails_loudly) {
        sqlite3 *db = db_open();
        sb_dataset_t *ds = NULL;
        TEST_CALL(sb_dataset_load(test_src_path("schemas/datasets"), TOPIC, &ds, TEST_ERR));
        db_exec(db, "CREATE TABLE market_business_license (uscc TEXT PRIMARY KEY, name TEXT)");
        create_outbox(db, "market_business_license", sb_schema_root(sb_dataset_key_schema(ds)),
                      sb_dataset_row(ds));
        ck_assert_int_ne(
                sqlite3_exec(db, "INSERT INTO market_business_license VALUES ('A', 'a')", NULL, NULL, NULL),
                SQLITE_OK);
        ck_assert_msg(strstr(sqlite3_errmsg(db), "no such column"), "%s", sqlite3_errmsg(db));
        ck_assert_int_eq(db_int(db, "SELECT count(*) FROM market_business_license"), 0);
        ck_assert_int_eq(db_int(db, "SELECT count(*) FROM sharebus_outbox"), 0);
        sb_dataset_destroy(ds);
        sqlite3_close(db);
}
END_TEST

/* ---- bad settings ---- */

static sb_err_t open_err(const char *extra, int snapshot, char *err, size_t size) {
        sb_config_t *cfg = config(extra);
        sb_log_t *log = quiet_log();
        sb_dataset_t *ds = NULL;
        TEST_CALL(sb_dataset_load(test_src_path("schemas/datasets"), TOPIC, &ds, TEST_ERR));
        source_options_t opts = {.department = "market",
                                 .dataset = DATASET,
                                 .snapshot = snapshot,
                                 .key_record = sb_schema_root(sb_dataset_key_schema(ds)),
                                 .row_record = sb_dataset_row(ds)};
        source_t *src = NULL;
        sb_err_t rc = source_new(cfg, &opts, log, &src, err, size);
        ck_assert_msg(src == NULL, "opened with %s", extra ? extra : "(defaults)");
        sb_dataset_destroy(ds);
        sb_log_destroy(log);
        sb_config_destroy(cfg);
        return rc;
}

START_TEST(test_bad_settings_and_missing_tables) {
        char err[1024];
        /* No such file: not created. */
        ck_assert_int_eq(open_err(NULL, 0, err, sizeof(err)), SB_ERR_DB);
        ck_assert_msg(strstr(err, db_path) && strstr(err, "sqlite_outbox_path"), "%s", err);
        ck_assert_int_ne(access(db_path, F_OK), 0);
        /* A file that is no database. */
        FILE *f = fopen(db_path, "w");
        ck_assert_ptr_nonnull(f);
        fputs("this is not a database, not even close; it is long enough to have a header though...........",
              f);
        fclose(f);
        ck_assert_int_eq(open_err(NULL, 0, err, sizeof(err)), SB_ERR_DB);
        ck_assert_msg(strstr(err, db_path) && strstr(err, "not a database"), "%s", err);
        unlink(db_path);

        sqlite3 *db = db_open();
        db_exec(db, "CREATE TABLE other (x)");
        /* The outbox table is missing. */
        ck_assert_int_eq(open_err(NULL, 0, err, sizeof(err)), SB_ERR_DB);
        ck_assert_msg(strstr(err, "'sharebus_outbox'") && strstr(err, "no such table"), "%s", err);
        /* A table that is not an outbox. */
        ck_assert_int_eq(open_err("outbox_table = \"other\";", 0, err, sizeof(err)), SB_ERR_DB);
        ck_assert_msg(strstr(err, "'other'") && strstr(err, "no such column"), "%s", err);
        /* Not an identifier. */
        ck_assert_int_eq(open_err("outbox_table = \"x; DROP TABLE other\";", 0, err, sizeof(err)),
                         SB_ERR_CONFIG);
        ck_assert_msg(strstr(err, "test.conf:3") && strstr(err, "'x; DROP TABLE other'") &&
                              strstr(err, "is not an SQL identifier"),
                      "%s", err);
        ck_assert_int_eq(open_err("outbox_table = \"\";", 0, err, sizeof(err)), SB_ERR_CONFIG);
        create_outbox(db, NULL, NULL, NULL);
        /* Snapshot: the setting is needed, an identifier, an existing table
         * with the row's columns. */
        ck_assert_int_eq(open_err(NULL, 1, err, sizeof(err)), SB_ERR_CONFIG);
        ck_assert_msg(strstr(err, "snapshot_table"), "%s", err);
        ck_assert_int_eq(open_err("snapshot_table = \"a-b\";", 1, err, sizeof(err)), SB_ERR_CONFIG);
        ck_assert_msg(strstr(err, "'a-b'"), "%s", err);
        ck_assert_int_eq(open_err("snapshot_table = \"nope\";", 1, err, sizeof(err)), SB_ERR_DB);
        ck_assert_msg(strstr(err, "'nope'") && strstr(err, "no such table"), "%s", err);
        ck_assert_int_eq(open_err("snapshot_table = \"other\";", 1, err, sizeof(err)), SB_ERR_DB);
        ck_assert_msg(strstr(err, "'other'") && strstr(err, "no such column"), "%s", err);
        sqlite3_close(db);
        /* No path at all. */
        char text[512];
        snprintf(text, sizeof(text),
                 "department = \"market\"; dataset = \"" DATASET
                 "\"; registry_url = \"http://x\"; source = \"sqlite\";");
        sb_config_t *cfg = NULL;
        TEST_CALL(sb_config_load_string(text, "test.conf", sb_producer_settings, sb_producer_settings_count,
                                        &cfg, TEST_ERR));
        source_options_t opts = {.department = "market", .dataset = DATASET};
        source_t *src = NULL;
        ck_assert_int_eq(source_new(cfg, &opts, NULL, &src, err, sizeof(err)), SB_ERR_CONFIG);
        ck_assert_msg(strstr(err, "sqlite_outbox_path"), "%s", err);
        sb_config_destroy(cfg);
}
END_TEST

/* ---- rows the producer rejects ---- */

START_TEST(test_bad_rows_are_handed_over_for_rejection) {
        sqlite3 *db = db_open();
        /* A hand-made outbox without the constraints of the printed one. */
        db_exec(db, "CREATE TABLE sharebus_outbox (dataset TEXT, op TEXT, \"key\" TEXT, \"before\" TEXT, "
                    "\"after\" "
                    "TEXT, changed_at INTEGER, seq INTEGER PRIMARY KEY AUTOINCREMENT)");
        test_outbox_write(db, "sharebus_outbox", DATASET, "c", NULL, NULL, ROW(1));
        test_outbox_write(db, "sharebus_outbox", DATASET, "x\"y", KEY(1), NULL, ROW(1));
        test_outbox_write(db, "sharebus_outbox", DATASET, NULL, KEY(1), NULL, ROW(1));
        test_outbox_write(db, "sharebus_outbox", DATASET, "c", "{not json", NULL, ROW(1));
        db_exec(db, "UPDATE sharebus_outbox SET changed_at = 'yesterday' WHERE seq = 3");
        /* More than SOURCE_SQLITE_ROW_MAX bytes in one row. */
        db_exec(db, "INSERT INTO sharebus_outbox (dataset, op, \"key\", \"after\") VALUES ('" DATASET
                    "', 'c', '{}', "
                    "'{\"x\":\"' || replace(hex(zeroblob(8400000)), '00', 'ab') || '\"}')");
        test_outbox_write(db, "sharebus_outbox", DATASET, "c", "", NULL, ROW(2));
        test_outbox_write(db, "sharebus_outbox", DATASET, "c", KEY(2), NULL, ROW(2));
        fixture_t fx = {0};
        fx_open(&fx, NULL, 0);
        static const struct {
                const char *where, *parse_error;
        } want[] = {
                {"outbox seq 1: key is NULL", "\"key\" must be an object"},
                {"outbox seq 2: unknown op 'x\"y'", "\"op\" must be"},
                {"outbox seq 3: op is NULL", "\"op\" must be"},
                {"outbox seq 4", "not valid JSON"},
                {"outbox seq 5: row of 16800010 bytes exceeds the 16777216-byte bound (max_outbox_row_bytes)",
                 "rejected_by_source"},
                {"outbox seq 6: key is empty", "\"key\" must be an object"},
                {"outbox seq 7", NULL},
        };
        size_t got = 0;
        while (got < 7) {
                source_batch_t b = next_batch(&fx, 100, 0);
                ck_assert_uint_gt(b.count, 0);
                for (size_t i = 0; i < b.count; i++, got++) {
                        ck_assert_uint_eq(b.records[i].position, got + 1);
                        ck_assert_str_eq(b.records[i].where, want[got].where);
                        ck_assert_uint_le(b.records[i].len, SOURCE_SQLITE_ROW_MAX + 256);
                        sb_change_line_t cl;
                        char err[512] = "";
                        sb_err_t rc = sb_change_line_parse(b.records[i].text, b.records[i].len, &cl, err,
                                                           sizeof(err));
                        if (!want[got].parse_error) {
                                ck_assert_int_eq(rc, SB_OK);
                                sb_change_line_clear(&cl);
                        } else {
                                ck_assert_int_eq(rc, SB_ERR_INVALID);
                                ck_assert_msg(strstr(err, want[got].parse_error), "%s: %s",
                                              b.records[i].where, err);
                        }
                }
        }
        /* Kept as rejects and acknowledged: nothing stalls. */
        TEST_CALL(source_ack(fx.src, 7, TEST_ERR));
        ck_assert_int_eq(db_int(db, MARK_SQL), 7);
        ck_assert_uint_eq(next_batch(&fx, 100, 0).count, 0);
        fx_free(&fx);
        sqlite3_close(db);
}
END_TEST

/* max_outbox_row_bytes: a row one byte over is handed over as a reject
 * naming its size and the setting, one at the bound and the next ones as
 * changes. */
START_TEST(test_row_over_max_outbox_row_bytes_is_rejected) {
        sqlite3 *db = db_open();
        create_outbox(db, NULL, NULL, NULL);
        char after[1024];
        /* key + after: 13 + 988 bytes (one over), then 13 + 987 (at the bound). */
        snprintf(after, sizeof(after), "{\"uscc\":\"K1\",\"name\":\"%*s\"}", 1000 - 23 - 12, "x");
        ck_assert_uint_eq(strlen(after), 988);
        test_outbox_write(db, "sharebus_outbox", DATASET, "c", KEY(1), NULL, after);
        snprintf(after, sizeof(after), "{\"uscc\":\"K1\",\"name\":\"%*s\"}", 1000 - 23 - 13, "x");
        test_outbox_write(db, "sharebus_outbox", DATASET, "u", KEY(1), NULL, after);
        test_outbox_write(db, "sharebus_outbox", DATASET, "c", KEY(2), NULL, ROW(2));
        fixture_t fx = {0};
        fx_open(&fx, "max_outbox_row_bytes = 1000;", 0);
        source_batch_t b = next_batch(&fx, 100, 0);
        ck_assert_uint_eq(b.count, 3);
        ck_assert_str_eq(
                b.records[0].where,
                "outbox seq 1: row of 1001 bytes exceeds the 1000-byte bound (max_outbox_row_bytes)");
        ck_assert_str_eq(b.records[1].where, "outbox seq 2");
        ck_assert_str_eq(b.records[2].where, "outbox seq 3");
        for (size_t i = 0; i < 3; i++) {
                sb_change_line_t cl;
                char err[512] = "";
                sb_err_t rc =
                        sb_change_line_parse(b.records[i].text, b.records[i].len, &cl, err, sizeof(err));
                ck_assert_int_eq(rc, i == 0 ? SB_ERR_INVALID : SB_OK);
                if (rc == SB_OK)
                        sb_change_line_clear(&cl);
        }
        TEST_CALL(source_ack(fx.src, 3, TEST_ERR));
        ck_assert_int_eq(db_int(db, MARK_SQL), 3);
        fx_free(&fx);
        sqlite3_close(db);
}
END_TEST

static Suite *suite(void) {
        Suite *s = suite_create("source_sqlite");
        TCase *tc = tcase_create("outbox");
        tcase_add_checked_fixture(tc, setup, teardown);
        tcase_set_timeout(tc, 120);
        tcase_add_test(tc, test_order_and_dataset_filter);
        tcase_add_test(tc, test_ack_marks_sent_and_reopen_resumes);
        tcase_add_test(tc, test_drain_finishes_once_nothing_is_unsent);
        tcase_add_test(tc, test_prune_after_retention);
        tcase_add_test(tc, test_progress_rows_per_minute_and_their_pruning);
        tcase_add_test(tc, test_poll_wakes_for_another_connection);
        tcase_add_test(tc, test_triggers_fill_the_outbox);
        tcase_add_test(tc, test_print_ddl_refuses_bad_names);
        tcase_add_test(tc, test_snapshot_then_outbox_exactly_once);
        tcase_add_test(tc, test_empty_snapshot_marks_superseded_rows);
        tcase_add_test(tc, test_snapshot_values_fit_the_encoder);
        tcase_add_test(tc, test_wide_rows);
        tcase_add_test(tc, test_trigger_on_a_table_without_a_field_fails_loudly);
        tcase_add_test(tc, test_bad_settings_and_missing_tables);
        tcase_add_test(tc, test_bad_rows_are_handed_over_for_rejection);
        tcase_add_test(tc, test_row_over_max_outbox_row_bytes_is_rejected);
        suite_add_tcase(s, tc);
        return s;
}

int main(void) { return test_run_suite(suite()); }

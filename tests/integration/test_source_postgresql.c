/*
 * test_source_postgresql: the PostgreSQL outbox source against a real
 * server (pgserver, one per suite, a database per test): order, acks,
 * restarts, the outbox gap, NOTIFY wake-ups, pruning, a crashed server, bad
 * settings, the DDL and its triggers end to end through the change-line
 * parser and the Avro encoder, and a snapshot with a concurrent writer.
 */
#define _GNU_SOURCE
#include <check.h>
#include <jansson.h>
#include <libpq-fe.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "change_line.h"
#include "dataset.h"
#include "event_encoder.h"
#include "pgserver.h"
#include "producer_settings.h"
#include "sb_avro.h"
#include "sources/source.h"
#include "sources/pg_sql.h"
#include "sources/source_postgresql.h"

static pgserver_t *pg; /* the suite's server, started by main */

#define ERR err, sizeof(err)
#define LONG_WAIT_MS 60000 /* a bound, never the point of an assertion */

typedef struct {
        char db[64];
        char conninfo[256];
        PGconn *conn; /* the department's application */
        sb_dataset_t *ds;
        sb_log_t *log;
        char *log_text;
        size_t log_len;
        FILE *log_file;
        sb_config_t *cfg;
        source_t *src;
        int drain; /* sources opened with --drain */
} fix_t;

static void quiet(void *arg, const char *message) {
        (void)arg;
        (void)message;
}

static PGconn *app_connect(const fix_t *f) {
        PGconn *c = PQconnectdb(f->conninfo);
        ck_assert_msg(PQstatus(c) == CONNECTION_OK, "connect: %s", PQerrorMessage(c));
        PQsetNoticeProcessor(c, quiet, NULL);
        return c;
}

static void sql_ok(PGconn *c, const char *sql) {
        PGresult *r = PQexec(c, sql);
        ck_assert_msg(PQresultStatus(r) == PGRES_COMMAND_OK || PQresultStatus(r) == PGRES_TUPLES_OK, "%s: %s",
                      sql, PQerrorMessage(c));
        PQclear(r);
}

/* The single value of a query, as a number. */
static long long sql_num(PGconn *c, const char *sql) {
        PGresult *r = PQexec(c, sql);
        ck_assert_msg(PQresultStatus(r) == PGRES_TUPLES_OK && PQntuples(r) == 1, "%s: %s", sql,
                      PQerrorMessage(c));
        long long v = atoll(PQgetvalue(r, 0, 0));
        PQclear(r);
        return v;
}

static const sb_node_t *key_record(const fix_t *f) { return sb_schema_root(sb_dataset_key_schema(f->ds)); }

/* The outbox (and, with `business`, the trigger on it) from print_ddl. */
static void install_ddl(fix_t *f, const char *business) {
        char err[512] = "", *ddl = NULL;
        size_t len = 0;
        FILE *m = open_memstream(&ddl, &len);
        ck_assert_ptr_nonnull(m);
        ck_assert_msg(pg_sql_print_ddl(m, "sharebus_outbox", business, "business_license", key_record(f),
                                       ERR) == SB_OK,
                      "%s", err);
        fclose(m);
        sql_ok(f->conn, ddl);
        free(ddl);
}

static void fix_start(fix_t *f, const char *db) {
        memset(f, 0, sizeof(*f));
        char err[1024] = "";
        snprintf(f->db, sizeof(f->db), "%s", db);
        ck_assert_msg(pgserver_create_db(pg, db, ERR) == SB_OK, "%s", err);
        pgserver_db_conninfo(pg, db, f->conninfo, sizeof(f->conninfo));
        f->conn = app_connect(f);
        const char *src = getenv("SHAREBUS_SRC") ? getenv("SHAREBUS_SRC") : ".";
        char dir[1100];
        snprintf(dir, sizeof(dir), "%s/schemas/datasets", src);
        ck_assert_msg(sb_dataset_load(dir, "market.business_license", &f->ds, ERR) == SB_OK, "%s", err);
        f->log_file = open_memstream(&f->log_text, &f->log_len);
        ck_assert_ptr_nonnull(f->log_file);
        ck_assert_int_eq(sb_log_new("test", SB_LOG_DEBUG, f->log_file, &f->log, ERR), SB_OK);
}

static int log_has(fix_t *f, const char *needle) {
        fflush(f->log_file);
        return f->log_text && strstr(f->log_text, needle) != NULL;
}

/* Opens the source with the fixture's database and `extra` settings. */
static sb_err_t open_source(fix_t *f, const char *extra, int snapshot, char *err, size_t err_size) {
        char text[2048];
        snprintf(text, sizeof(text),
                 "department = \"market\";\ndataset = \"business_license\";\nregistry_url = "
                 "\"http://127.0.0.1:1\";\n"
                 "source = \"postgresql\";\npostgresql_conninfo = \"%s\";\n%s",
                 f->conninfo, extra ? extra : "");
        sb_config_destroy(f->cfg);
        f->cfg = NULL;
        sb_err_t e = sb_config_load_string(text, "test.conf", sb_producer_settings,
                                           sb_producer_settings_count, &f->cfg, err, err_size);
        if (e)
                return e;
        source_options_t opts = {.department = "market",
                                 .dataset = "business_license",
                                 .snapshot = snapshot,
                                 .drain = f->drain,
                                 .key_record = key_record(f),
                                 .row_record = sb_dataset_row(f->ds)};
        return source_new(f->cfg, &opts, f->log, &f->src, err, err_size);
}

static void close_source(fix_t *f) {
        source_destroy(f->src);
        f->src = NULL;
}

static void fix_stop(fix_t *f) {
        close_source(f);
        sb_config_destroy(f->cfg);
        PQfinish(f->conn);
        sb_dataset_destroy(f->ds);
        sb_log_destroy(f->log);
        fclose(f->log_file);
        free(f->log_text);
}

/* An outbox row written by the application itself. */
static void app_insert(PGconn *c, const char *uscc, const char *op) {
        char sql[1024];
        snprintf(sql, sizeof(sql),
                 "INSERT INTO sharebus_outbox (dataset, op, key, after) VALUES ('business_license', '%s', "
                 "'{\"uscc\":\"%s\"}', '{\"uscc\":\"%s\",\"name\":\"N\",\"legal_representative\":\"L\","
                 "\"registered_capital\":1.5,\"business_scope\":null,\"status\":\"ACTIVE\","
                 "\"established_on\":\"2020-01-02\",\"address\":null,\"updated_at\":\"2024-03-05T06:07:08."
                 "123Z\"}')",
                 op, uscc, uscc);
        sql_ok(c, sql);
}

typedef struct {
        size_t n;
        uint64_t pos[64];
        long long seq[64];
        char op[64];
        char uscc[64][40];
} got_t;

/* Reads one batch (waiting up to LONG_WAIT_MS for one), appending what came
 * to *g after checking each line parses. */
static size_t take(fix_t *f, got_t *g, size_t max, int timeout_ms) {
        char err[1024] = "";
        source_batch_t b;
        sb_err_t e = source_next(f->src, max, timeout_ms, &b, ERR);
        ck_assert_msg(e == SB_OK, "next: %s: %s", sb_err2str(e), err);
        for (size_t i = 0; i < b.count; i++) {
                sb_change_line_t cl;
                ck_assert_msg(sb_change_line_parse(b.records[i].text, b.records[i].len, &cl, ERR) == SB_OK,
                              "%s: %.*s: %s", b.records[i].where, (int)b.records[i].len, b.records[i].text,
                              err);
                ck_assert_uint_lt(g->n, 64);
                g->pos[g->n] = b.records[i].position;
                g->seq[g->n] = cl.seq;
                g->op[g->n] = cl.op;
                snprintf(g->uscc[g->n], sizeof(g->uscc[0]), "%s",
                         json_string_value(json_object_get(cl.key, "uscc")));
                ck_assert_int_gt(cl.ts_ms, 1600000000000LL);
                g->n++;
                sb_change_line_clear(&cl);
        }
        return b.count;
}

static void ack_ok(fix_t *f, uint64_t pos) {
        char err[1024] = "";
        sb_err_t e = source_ack(f->src, pos, ERR);
        ck_assert_msg(e == SB_OK, "ack %llu: %s", (unsigned long long)pos, err);
}

START_TEST(publishes_in_seq_order_and_marks_sent_on_ack) {
        fix_t f;
        fix_start(&f, "t_order");
        install_ddl(&f, NULL);
        const char *keys[] = {"K1", "K2", "K3", "K4", "K5"};
        for (int i = 0; i < 5; i++)
                app_insert(f.conn, keys[i], i == 4 ? "u" : "c");
        char err[1024] = "";
        ck_assert_msg(open_source(&f, NULL, 0, ERR) == SB_OK, "%s", err);
        got_t g = {0};
        ck_assert_uint_eq(take(&f, &g, 100, 0), 5);
        for (size_t i = 0; i < 5; i++) {
                ck_assert_str_eq(g.uscc[i], keys[i]);
                ck_assert_int_eq(g.seq[i], (long long)i + 1);
                if (i)
                        ck_assert_uint_gt(g.pos[i], g.pos[i - 1]);
        }
        ck_assert_int_eq(g.op[4], 'u');
        ck_assert_uint_eq(take(&f, &g, 100, 0), 0); /* handed over once */
        ck_assert_int_eq(sql_num(f.conn, "SELECT count(*) FROM sharebus_outbox WHERE sent_at IS NOT NULL"),
                         0);
        ack_ok(&f, g.pos[2]);
        ck_assert_int_eq(sql_num(f.conn, "SELECT count(*) FROM sharebus_outbox WHERE sent_at IS NOT NULL"),
                         3);
        ck_assert_int_eq(sql_num(f.conn, "SELECT max(seq) FROM sharebus_outbox WHERE sent_at IS NOT NULL"),
                         3);
        source_stats_t st;
        source_stats(f.src, &st);
        ck_assert_int_eq(st.backlog, 2);
        /* An ack past what was handed over is refused. */
        ck_assert_int_eq(source_ack(f.src, g.pos[4] + 1, ERR), SB_ERR_INVALID);

        /* A restarted producer resends the unacknowledged rows only. */
        close_source(&f);
        ck_assert_msg(open_source(&f, NULL, 0, ERR) == SB_OK, "%s", err);
        got_t g2 = {0};
        ck_assert_uint_eq(take(&f, &g2, 100, 0), 2);
        ck_assert_int_eq(g2.seq[0], 4);
        ck_assert_int_eq(g2.seq[1], 5);
        ack_ok(&f, g2.pos[1]);
        ck_assert_int_eq(sql_num(f.conn, "SELECT count(*) FROM sharebus_outbox WHERE sent_at IS NULL"), 0);
        close_source(&f);
        ck_assert_msg(open_source(&f, NULL, 0, ERR) == SB_OK, "%s", err);
        ck_assert_uint_eq(take(&f, &g2, 100, 0), 0);
        fix_stop(&f);
}
END_TEST

START_TEST(a_row_committed_after_a_higher_seq_is_still_published) {
        fix_t f;
        fix_start(&f, "t_gap");
        install_ddl(&f, NULL);
        PGconn *slow = app_connect(&f);
        sql_ok(slow, "BEGIN");
        app_insert(slow, "SLOW", "c");   /* takes seq 1, commits last */
        app_insert(f.conn, "FAST", "c"); /* seq 2, committed now */
        char err[1024] = "";
        ck_assert_msg(open_source(&f, NULL, 0, ERR) == SB_OK, "%s", err);
        got_t g = {0};
        ck_assert_uint_eq(take(&f, &g, 100, 0), 1);
        ck_assert_int_eq(g.seq[0], 2);
        sql_ok(slow, "COMMIT"); /* while seq 2 is still in flight */
        ck_assert_uint_eq(take(&f, &g, 100, LONG_WAIT_MS), 1);
        ck_assert_int_eq(g.seq[1], 1);
        ck_assert_str_eq(g.uscc[1], "SLOW");
        ck_assert_uint_gt(g.pos[1], g.pos[0]);
        ack_ok(&f, g.pos[1]);
        ck_assert_int_eq(sql_num(f.conn, "SELECT count(*) FROM sharebus_outbox WHERE sent_at IS NULL"), 0);
        ck_assert_uint_eq(take(&f, &g, 100, 0), 0);
        PQfinish(slow);
        fix_stop(&f);
}
END_TEST

START_TEST(an_unacked_row_between_acked_ones_is_not_marked) {
        fix_t f;
        fix_start(&f, "t_partial");
        install_ddl(&f, NULL);
        PGconn *slow = app_connect(&f);
        app_insert(f.conn, "A", "c"); /* seq 1 */
        sql_ok(slow, "BEGIN");
        app_insert(slow, "B", "c");   /* seq 2, late */
        app_insert(f.conn, "C", "c"); /* seq 3 */
        char err[1024] = "";
        ck_assert_msg(open_source(&f, NULL, 0, ERR) == SB_OK, "%s", err);
        got_t g = {0};
        ck_assert_uint_eq(take(&f, &g, 100, 0), 2);
        sql_ok(slow, "COMMIT");
        ack_ok(&f, g.pos[1]); /* seqs 1 and 3: seq 2 lies between them, unsent */
        ck_assert_int_eq(
                sql_num(f.conn, "SELECT count(*) FROM sharebus_outbox WHERE sent_at IS NULL AND seq = 2"), 1);
        ck_assert_uint_eq(take(&f, &g, 100, 0), 1);
        ck_assert_int_eq(g.seq[2], 2);
        PQfinish(slow);
        fix_stop(&f);
}
END_TEST

/* --drain: the committed rows are handed over, then the source is finished
 * instead of waiting for a notification. */
START_TEST(drain_finishes_once_nothing_is_unsent) {
        fix_t f;
        fix_start(&f, "t_drain");
        install_ddl(&f, NULL);
        f.drain = 1;
        char err[1024] = "";
        source_batch_t b;
        ck_assert_msg(open_source(&f, NULL, 0, ERR) == SB_OK, "%s", err);
        ck_assert_int_eq(source_next(f.src, 100, LONG_WAIT_MS, &b, ERR), SB_ERR_NOT_FOUND);
        ck_assert_msg(strstr(err, "no unsent row (--drain)"), "%s", err);
        close_source(&f);
        for (int i = 0; i < 3; i++)
                app_insert(f.conn, i == 1 ? "K2" : "K1", "c");
        ck_assert_msg(open_source(&f, NULL, 0, ERR) == SB_OK, "%s", err);
        got_t g = {0};
        ck_assert_uint_eq(take(&f, &g, 2, LONG_WAIT_MS), 2);
        ck_assert_uint_eq(take(&f, &g, 2, LONG_WAIT_MS), 1);
        ck_assert_int_eq(source_next(f.src, 100, LONG_WAIT_MS, &b, ERR), SB_ERR_NOT_FOUND);
        ack_ok(&f, g.pos[2]);
        ck_assert_int_eq(sql_num(f.conn, "SELECT count(*) FROM sharebus_outbox WHERE sent_at IS NULL"), 0);
        close_source(&f);
        /* Without it, an empty read is "nothing yet". */
        f.drain = 0;
        ck_assert_msg(open_source(&f, NULL, 0, ERR) == SB_OK, "%s", err);
        ck_assert_uint_eq(take(&f, &g, 100, 0), 0);
        fix_stop(&f);
}
END_TEST

START_TEST(a_notification_wakes_a_waiting_next) {
        fix_t f;
        fix_start(&f, "t_notify");
        install_ddl(&f, NULL);
        char err[1024] = "";
        ck_assert_msg(open_source(&f, NULL, 0, ERR) == SB_OK, "%s", err);
        got_t g = {0};
        ck_assert_uint_eq(take(&f, &g, 100, 0), 0);
        pid_t child = fork();
        ck_assert_int_ge(child, 0);
        if (child == 0) {
                /* The writer commits while the source waits. */
                usleep(300 * 1000);
                PGconn *c = PQconnectdb(f.conninfo);
                PGresult *r = PQexec(c, "INSERT INTO sharebus_outbox (dataset, op, key, after) VALUES "
                                        "('business_license', 'c', '{\"uscc\":\"W\"}', '{\"uscc\":\"W\"}')");
                int ok = PQresultStatus(r) == PGRES_COMMAND_OK;
                PQclear(r);
                PQfinish(c);
                _exit(ok ? 0 : 1);
        }
        /* Returns with the row long before LONG_WAIT_MS; without the wake-up
         * it would return nothing at the end of it. */
        ck_assert_uint_eq(take(&f, &g, 100, LONG_WAIT_MS), 1);
        ck_assert_str_eq(g.uscc[0], "W");
        int status;
        waitpid(child, &status, 0);
        ck_assert_int_eq(WEXITSTATUS(status), 0);
        /* A notification for another dataset's row wakes the source, which
         * finds nothing of its own and reports nothing, without error. */
        sql_ok(f.conn,
               "INSERT INTO sharebus_outbox (dataset, op, key, after) VALUES ('other', 'c', '{}', '{}')");
        ck_assert_uint_eq(take(&f, &g, 100, 200), 0);
        fix_stop(&f);
}
END_TEST

START_TEST(sent_rows_are_pruned_after_the_retention) {
        fix_t f;
        fix_start(&f, "t_prune");
        install_ddl(&f, NULL);
        app_insert(f.conn, "A", "c");
        app_insert(f.conn, "B", "c");
        char err[1024] = "";
        ck_assert_msg(open_source(&f, "outbox_retention_ms = 3600000;\n", 0, ERR) == SB_OK, "%s", err);
        got_t g = {0};
        ck_assert_uint_eq(take(&f, &g, 100, 0), 2);
        /* Row A was sent long ago (as far as the table says). */
        sql_ok(f.conn, "UPDATE sharebus_outbox SET sent_at = now() - interval '2 hours' WHERE seq = 1");
        ack_ok(&f, g.pos[1]);
        ck_assert_int_eq(sql_num(f.conn, "SELECT count(*) FROM sharebus_outbox"), 1); /* B: sent just now */
        ck_assert_int_eq(sql_num(f.conn, "SELECT seq FROM sharebus_outbox WHERE sent_at IS NOT NULL"), 2);
        close_source(&f);

        /* Retention 0: gone with the ack; unsent rows are never pruned. */
        app_insert(f.conn, "C", "c");
        app_insert(f.conn, "D", "c");
        ck_assert_msg(open_source(&f, "outbox_retention_ms = 0;\n", 0, ERR) == SB_OK, "%s", err);
        got_t g2 = {0};
        ck_assert_uint_eq(take(&f, &g2, 100, 0), 2);
        ack_ok(&f, g2.pos[0]);
        ck_assert_int_eq(sql_num(f.conn, "SELECT count(*) FROM sharebus_outbox"), 1);
        ck_assert_int_eq(sql_num(f.conn, "SELECT seq FROM sharebus_outbox"), 4);
        fix_stop(&f);
}
END_TEST

START_TEST(reconnects_after_the_server_crashed_and_loses_nothing) {
        fix_t f;
        fix_start(&f, "t_crash");
        install_ddl(&f, NULL);
        for (int i = 0; i < 3; i++)
                app_insert(f.conn, i == 0 ? "A" : i == 1 ? "B" : "C", "c");
        char err[1024] = "";
        ck_assert_msg(open_source(&f, NULL, 0, ERR) == SB_OK, "%s", err);
        got_t g = {0};
        ck_assert_uint_eq(take(&f, &g, 100, 0), 3);
        ack_ok(&f, g.pos[0]);
        ck_assert_msg(pgserver_crash(pg, ERR) == SB_OK, "%s", err);
        /* The delivery of B is acknowledged while the server is down. */
        sb_err_t e = source_ack(f.src, g.pos[1], ERR);
        ck_assert_int_eq(e, SB_ERR_DB);
        ck_assert_msg(strstr(err, "postgresql:"), "%s", err);
        ck_assert_int_ne(source_next(f.src, 100, 0, &(source_batch_t){0}, ERR), SB_OK);
        ck_assert(log_has(&f, "lost the connection"));
        ck_assert_msg(pgserver_restart(pg, ERR) == SB_OK, "%s", err);
        PQfinish(f.conn);
        f.conn = app_connect(&f);
        /* What A's ack committed survived the crash. */
        ck_assert_int_eq(sql_num(f.conn, "SELECT count(*) FROM sharebus_outbox WHERE sent_at IS NOT NULL"),
                         1);
        app_insert(f.conn, "D", "c");
        /* The producer retries next(); the source reconnects, writes B's
         * pending mark, and hands over D only (C is still in flight). */
        source_batch_t b = {0};
        for (int attempt = 0; attempt < 10; attempt++)
                if ((e = source_next(f.src, 100, LONG_WAIT_MS, &b, ERR)) == SB_OK && b.count)
                        break;
        ck_assert_msg(e == SB_OK, "%s", err);
        ck_assert_uint_eq(b.count, 1);
        sb_change_line_t cl;
        ck_assert_int_eq(sb_change_line_parse(b.records[0].text, b.records[0].len, &cl, ERR), SB_OK);
        ck_assert_str_eq(json_string_value(json_object_get(cl.key, "uscc")), "D");
        sb_change_line_clear(&cl);
        ck_assert(log_has(&f, "reconnected to database 't_crash'"));
        ck_assert_int_eq(sql_num(f.conn, "SELECT count(*) FROM sharebus_outbox WHERE sent_at IS NOT NULL"),
                         2);
        ck_assert_uint_gt(b.records[0].position, g.pos[2]);
        uint64_t last = b.records[0].position;
        ack_ok(&f, last);
        ck_assert_int_eq(sql_num(f.conn, "SELECT count(*) FROM sharebus_outbox WHERE sent_at IS NULL"), 0);
        fix_stop(&f);
}
END_TEST

/* Rows an application wrote into an outbox without the printed DDL's
 * constraints: each is handed over in its turn with its seq, for the
 * producer to reject (the change-line parser names what is wrong), and the
 * rows after it still come; acknowledged, all are marked sent, so a bad
 * row never stalls the outbox. */
START_TEST(bad_rows_are_handed_over_for_rejection) {
        fix_t f;
        fix_start(&f, "t_badrows");
        sql_ok(f.conn, "CREATE TABLE sharebus_outbox (seq bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, "
                       "dataset text, op text, key jsonb, before jsonb, after jsonb, "
                       "changed_at timestamptz NOT NULL DEFAULT now(), sent_at timestamptz)");
        sql_ok(f.conn, "INSERT INTO sharebus_outbox (dataset, op, key, after) VALUES "
                       "('business_license', 'c', NULL, '{\"uscc\":\"K1\"}'), "
                       "('business_license', 'xy', '{\"uscc\":\"K2\"}', '{\"uscc\":\"K2\"}'), "
                       "('business_license', 'c', '[\"K3\"]', '{\"uscc\":\"K3\"}'), "
                       "('business_license', 'c', '{\"uscc\":\"K4\"}', '\"K4\"')");
        app_insert(f.conn, "K5", "c");
        char err[1024] = "";
        ck_assert_msg(open_source(&f, NULL, 0, ERR) == SB_OK, "%s", err);
        static const char *const want[] = {"\"key\" must be an object", "\"op\" must be",
                                           "\"key\" must be an object", "must be objects or null", NULL};
        source_batch_t b;
        ck_assert_msg(source_next(f.src, 100, LONG_WAIT_MS, &b, ERR) == SB_OK, "%s", err);
        ck_assert_uint_eq(b.count, 5);
        uint64_t last = 0;
        for (size_t i = 0; i < b.count; i++) {
                char where[64];
                snprintf(where, sizeof(where), "sharebus_outbox seq %zu", i + 1);
                ck_assert_str_eq(b.records[i].where, where);
                sb_change_line_t cl;
                sb_err_t e = sb_change_line_parse(b.records[i].text, b.records[i].len, &cl, ERR);
                if (want[i]) {
                        ck_assert_msg(e == SB_ERR_INVALID && strstr(err, want[i]), "%s: %.*s: %s", where,
                                      (int)b.records[i].len, b.records[i].text, err);
                } else {
                        ck_assert_msg(e == SB_OK, "%s: %s", where, err);
                        sb_change_line_clear(&cl);
                }
                last = b.records[i].position;
        }
        ack_ok(&f, last);
        ck_assert_int_eq(sql_num(f.conn, "SELECT count(*) FROM sharebus_outbox WHERE sent_at IS NULL"), 0);
        fix_stop(&f);
}
END_TEST

/* max_outbox_row_bytes: a row over it is measured by the server and never
 * sent; it is handed over as a reject with its size and the setting, and
 * the next row as a change. */
START_TEST(oversized_row_is_rejected_unread) {
        fix_t f;
        fix_start(&f, "t_bigrow");
        sql_ok(f.conn, "CREATE TABLE sharebus_outbox (seq bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, "
                       "dataset text, op text, key jsonb, before jsonb, after jsonb, "
                       "changed_at timestamptz NOT NULL DEFAULT now(), sent_at timestamptz)");
        sql_ok(f.conn,
               "INSERT INTO sharebus_outbox (dataset, op, key, after) VALUES ('business_license', 'c', "
               "'{\"uscc\":\"K1\"}', json_build_object('uscc', 'K1', 'name', repeat('x', 2000000)))");
        app_insert(f.conn, "K2", "c");
        char err[1024] = "";
        ck_assert_msg(open_source(&f, "max_outbox_row_bytes = 1000;\n", 0, ERR) == SB_OK, "%s", err);
        source_batch_t b;
        ck_assert_msg(source_next(f.src, 100, LONG_WAIT_MS, &b, ERR) == SB_OK, "%s", err);
        ck_assert_uint_eq(b.count, 2);
        ck_assert_msg(
                strncmp(b.records[0].where, "sharebus_outbox seq 1: row of 20000", 35) == 0 &&
                        strstr(b.records[0].where, "exceeds the 1000-byte bound (max_outbox_row_bytes)"),
                "%s", b.records[0].where);
        ck_assert_uint_lt(b.records[0].len, 200);
        sb_change_line_t cl;
        ck_assert_int_eq(sb_change_line_parse(b.records[0].text, b.records[0].len, &cl, ERR), SB_ERR_INVALID);
        ck_assert_msg(strstr(err, "rejected_by_source"), "%s", err);
        ck_assert_str_eq(b.records[1].where, "sharebus_outbox seq 2");
        ck_assert_msg(sb_change_line_parse(b.records[1].text, b.records[1].len, &cl, ERR) == SB_OK, "%s",
                      err);
        sb_change_line_clear(&cl);
        ack_ok(&f, b.records[1].position);
        ck_assert_int_eq(sql_num(f.conn, "SELECT count(*) FROM sharebus_outbox WHERE sent_at IS NULL"), 0);
        fix_stop(&f);
}
END_TEST

START_TEST(bad_settings_are_refused_clearly) {
        fix_t f;
        fix_start(&f, "t_bad");
        char err[1024] = "";
        /* No outbox yet. */
        ck_assert_int_eq(open_source(&f, NULL, 0, ERR), SB_ERR_CONFIG);
        ck_assert_msg(strstr(err, "outbox table 'sharebus_outbox' does not exist") &&
                              strstr(err, "--print-ddl"),
                      "%s", err);
        install_ddl(&f, NULL);
        ck_assert_int_eq(open_source(&f, "outbox_table = \"Outbox; DROP TABLE x\";\n", 0, ERR),
                         SB_ERR_CONFIG);
        ck_assert_msg(strstr(err, "test.conf:6: setting 'outbox_table'") &&
                              strstr(err, "not a plain SQL identifier"),
                      "%s", err);
        ck_assert_int_eq(open_source(&f, "outbox_table = \"a.b.c\";\n", 0, ERR), SB_ERR_CONFIG);
        ck_assert_int_eq(open_source(&f, "outbox_table = \"other_outbox\";\n", 0, ERR), SB_ERR_CONFIG);
        ck_assert_msg(strstr(err, "'other_outbox' does not exist in database 't_bad'"), "%s", err);
        ck_assert_int_eq(open_source(&f, NULL, 1, ERR), SB_ERR_CONFIG);
        ck_assert_msg(strstr(err, "snapshot_table"), "%s", err);
        ck_assert_int_eq(open_source(&f, "snapshot_table = \"nope\";\n", 1, ERR), SB_ERR_CONFIG);
        ck_assert_msg(strstr(err, "snapshot_table 'nope' does not exist"), "%s", err);

        sql_ok(f.conn, "CREATE TABLE keyless (id int)");
        ck_assert_int_eq(open_source(&f, "snapshot_table = \"keyless\";\n", 1, ERR), SB_ERR_CONFIG);
        ck_assert_msg(strstr(err, "snapshot_table 'keyless' has no column 'uscc'"), "%s", err);

        /* A server nobody listens on. */
        char keep[256];
        snprintf(keep, sizeof(keep), "%s", f.conninfo);
        snprintf(f.conninfo, sizeof(f.conninfo),
                 "host=127.0.0.1 port=1 dbname=x user=sharebus connect_timeout=5");
        ck_assert_int_eq(open_source(&f, NULL, 0, ERR), SB_ERR_DB);
        ck_assert_msg(strstr(err, "cannot connect (postgresql_conninfo)"), "%s", err);
        snprintf(f.conninfo, sizeof(f.conninfo), "nonsense_option=1");
        ck_assert_int_eq(open_source(&f, NULL, 0, ERR), SB_ERR_DB);
        ck_assert_msg(strstr(err, "nonsense_option"), "%s", err);
        snprintf(f.conninfo, sizeof(f.conninfo), "%s", keep);
        /* No conninfo at all. */
        char text[512];
        snprintf(text, sizeof(text),
                 "department = \"market\";\ndataset = \"business_license\";\n"
                 "registry_url = \"http://x\";\nsource = \"postgresql\";\n");
        sb_config_t *cfg = NULL;
        ck_assert_int_eq(sb_config_load_string(text, "bare.conf", sb_producer_settings,
                                               sb_producer_settings_count, &cfg, ERR),
                         SB_OK);
        source_options_t opts = {.department = "market", .dataset = "business_license"};
        source_t *src = NULL;
        ck_assert_int_eq(source_new(cfg, &opts, f.log, &src, ERR), SB_ERR_CONFIG);
        ck_assert_msg(strstr(err, "'postgresql_conninfo' is required"), "%s", err);
        sb_config_destroy(cfg);

        /* print_ddl refuses names it would have to quote. */
        FILE *devnull = fopen("/dev/null", "w");
        ck_assert_int_eq(pg_sql_print_ddl(devnull, "Bad\"name", NULL, NULL, NULL, ERR), SB_ERR_CONFIG);
        ck_assert_int_eq(pg_sql_print_ddl(devnull, "ok", "t; DROP", "ds", key_record(&f), ERR),
                         SB_ERR_CONFIG);
        ck_assert_int_eq(pg_sql_print_ddl(devnull, "ok", "t", "d's", key_record(&f), ERR), SB_ERR_CONFIG);
        ck_assert_int_eq(pg_sql_print_ddl(devnull, "ok", "t", "ds", NULL, ERR), SB_ERR_CONFIG);
        fclose(devnull);
        fix_stop(&f);
}
END_TEST

static const char business_ddl[] =
        "CREATE TABLE business_license (uscc text PRIMARY KEY, name text NOT NULL, "
        "legal_representative text NOT NULL, registered_capital numeric(18,2) NOT NULL, "
        "business_scope text, status text NOT NULL, established_on date NOT NULL, "
        "address text, updated_at timestamptz NOT NULL)";

static void business_insert(PGconn *c, const char *uscc, const char *name) {
        char sql[1024];
        snprintf(sql, sizeof(sql),
                 "INSERT INTO business_license VALUES ('%s', '%s', 'Li Lei', 120.50, NULL, 'ACTIVE', "
                 "'2019-12-31', "
                 "'1 Road', '2024-03-05 14:07:08.123456+08')",
                 uscc, name);
        sql_ok(c, sql);
}

/* Every record of the batch parses and encodes with the dataset's schemas;
 * the decoded values are appended to *decoded as text. */
static void encode_all(fix_t *f, const source_batch_t *b, sb_buf_t *decoded) {
        char err[1024] = "", event_id[37];
        sb_event_encoder_t enc = {.dataset = f->ds,
                                  .key_schema_id = 1,
                                  .value_schema_id = 2,
                                  .department = "market",
                                  .system = "test"};
        sb_buf_t key, value;
        sb_buf_init(&key, 1 << 20);
        sb_buf_init(&value, 1 << 20);
        for (size_t i = 0; i < b->count; i++) {
                sb_change_line_t cl;
                ck_assert_msg(sb_change_line_parse(b->records[i].text, b->records[i].len, &cl, ERR) == SB_OK,
                              "%.*s: %s", (int)b->records[i].len, b->records[i].text, err);
                ck_assert_msg(sb_event_encode(&enc, &cl, 0, &key, &value, event_id, ERR) == SB_OK, "%.*s: %s",
                              (int)b->records[i].len, b->records[i].text, err);
                json_t *v = NULL;
                ck_assert_msg(sb_avro_decode(sb_dataset_value_schema(f->ds), value.data + 5, value.len - 5,
                                             &v, ERR) == SB_OK,
                              "%s", err);
                char *text = json_dumps(v, JSON_COMPACT | JSON_SORT_KEYS);
                sb_buf_printf(decoded, "%s\n", text);
                free(text);
                json_decref(v);
                sb_change_line_clear(&cl);
        }
        sb_buf_free(&key);
        sb_buf_free(&value);
}

START_TEST(trigger_rows_are_valid_change_events) {
        fix_t f;
        fix_start(&f, "t_trigger");
        sql_ok(f.conn, business_ddl);
        install_ddl(&f, "business_license");
        business_insert(f.conn, "91350100M000100Y43", "Alpha");
        sql_ok(f.conn, "UPDATE business_license SET name = 'Alpha Two', business_scope = 'tea' WHERE uscc = "
                       "'91350100M000100Y43'");
        sql_ok(f.conn,
               "UPDATE business_license SET uscc = '91350100M000100Y51' WHERE uscc = '91350100M000100Y43'");
        sql_ok(f.conn, "DELETE FROM business_license");
        char err[1024] = "";
        ck_assert_msg(open_source(&f, NULL, 0, ERR) == SB_OK, "%s", err);
        source_batch_t b;
        ck_assert_int_eq(source_next(f.src, 100, 0, &b, ERR), SB_OK);
        ck_assert_uint_eq(b.count, 5);
        const char ops[] = "cudcd";
        for (size_t i = 0; i < 5; i++) {
                sb_change_line_t cl;
                ck_assert_int_eq(sb_change_line_parse(b.records[i].text, b.records[i].len, &cl, ERR), SB_OK);
                ck_assert_msg(cl.op == ops[i], "record %zu: %.*s", i, (int)b.records[i].len,
                              b.records[i].text);
                sb_change_line_clear(&cl);
        }
        sb_buf_t decoded;
        sb_buf_init(&decoded, 1 << 20);
        encode_all(&f, &b, &decoded);
        const char *d = (const char *)decoded.data;
        /* 14:07:08.123 at +08 is 06:07:08.123 UTC; the date stays a date. */
        ck_assert_msg(strstr(d, "2024-03-05T06:07:08.123Z"), "%s", d);
        ck_assert_msg(strstr(d, "2019-12-31"), "%s", d);
        ck_assert_msg(strstr(d, "Alpha Two") && strstr(d, "tea") && strstr(d, "120.5"), "%s", d);
        ck_assert_msg(strstr(d, "91350100M000100Y51"), "%s", d);
        sb_buf_free(&decoded);

        /* timestamp without time zone is read as UTC. */
        sql_ok(f.conn, "CREATE TABLE plain_ts (uscc text PRIMARY KEY, at timestamp)");
        char *ddl = NULL;
        size_t len = 0;
        FILE *m = open_memstream(&ddl, &len);
        ck_assert_int_eq(pg_sql_print_ddl(m, "sharebus_outbox", "plain_ts", "plain", key_record(&f), ERR),
                         SB_OK);
        fclose(m);
        sql_ok(f.conn, ddl);
        free(ddl);
        sql_ok(f.conn, "SET TimeZone = 'Asia/Shanghai'");
        sql_ok(f.conn, "INSERT INTO plain_ts VALUES ('K', '2024-03-05 14:07:08.5'), ('N', NULL)");
        PGresult *r =
                PQexec(f.conn, "SELECT after ->> 'at', after -> 'at' FROM sharebus_outbox WHERE dataset = "
                               "'plain' ORDER BY seq");
        ck_assert_int_eq(PQntuples(r), 2);
        ck_assert_str_eq(PQgetvalue(r, 0, 0), "2024-03-05T14:07:08.500Z");
        ck_assert_str_eq(PQgetvalue(r, 1, 1), "null");
        PQclear(r);
        fix_stop(&f);
}
END_TEST

START_TEST(snapshot_with_a_concurrent_writer_loses_and_doubles_nothing) {
        fix_t f;
        fix_start(&f, "t_snapshot");
        sql_ok(f.conn, business_ddl);
        install_ddl(&f, "business_license");
        business_insert(f.conn, "91350100M000100Y43", "A");
        business_insert(f.conn, "91350100M000100Y51", "B");
        sql_ok(f.conn, "UPDATE sharebus_outbox SET sent_at = now() WHERE seq = 1"); /* A's create went out */
        /* A transaction in progress when the snapshot is taken. */
        PGconn *open_txn = app_connect(&f);
        sql_ok(open_txn, "BEGIN");
        sql_ok(open_txn, "UPDATE business_license SET name = 'A changed' WHERE uscc = '91350100M000100Y43'");
        char err[1024] = "";
        ck_assert_msg(open_source(&f, "snapshot_table = \"business_license\";\n", 1, ERR) == SB_OK, "%s",
                      err);
        source_batch_t b;
        sb_buf_t decoded;
        sb_buf_init(&decoded, 1 << 20);
        ck_assert_int_eq(source_next(f.src, 1, 0, &b, ERR), SB_OK); /* takes the snapshot */
        ck_assert_uint_eq(b.count, 1);
        ck_assert_uint_eq(b.records[0].position, 0);
        encode_all(&f, &b, &decoded);
        /* Committed after the snapshot was taken: the open transaction and a
         * new row. */
        sql_ok(open_txn, "COMMIT");
        business_insert(f.conn, "91350100M000100Y6X", "C");
        char snapshot_names[64] = "";
        {
                sb_change_line_t cl;
                ck_assert_int_eq(sb_change_line_parse(b.records[0].text, b.records[0].len, &cl, ERR), SB_OK);
                ck_assert_int_eq(cl.op, 'r');
                snprintf(snapshot_names, sizeof(snapshot_names), "%s",
                         json_string_value(json_object_get(cl.after, "name")));
                sb_change_line_clear(&cl);
        }
        size_t snapshot_rows = 1, outbox_rows = 0;
        uint64_t last = 0;
        char seen_ops[16] = "";
        for (int i = 0; i < 20; i++) {
                ck_assert_int_eq(source_next(f.src, 1, 0, &b, ERR), SB_OK);
                if (b.count == 0)
                        break;
                encode_all(&f, &b, &decoded);
                sb_change_line_t cl;
                ck_assert_int_eq(sb_change_line_parse(b.records[0].text, b.records[0].len, &cl, ERR), SB_OK);
                if (b.records[0].position == 0) {
                        ck_assert_int_eq(outbox_rows, 0); /* the snapshot comes first */
                        ck_assert_int_eq(cl.op, 'r');
                        snapshot_rows++;
                        strncat(snapshot_names, json_string_value(json_object_get(cl.after, "name")),
                                sizeof(snapshot_names) - strlen(snapshot_names) - 1);
                } else {
                        ck_assert_uint_gt(b.records[0].position, last);
                        last = b.records[0].position;
                        seen_ops[outbox_rows++] = cl.op;
                }
                sb_change_line_clear(&cl);
        }
        const char *d = (const char *)decoded.data;
        ck_assert_uint_eq(snapshot_rows, 2);    /* A (as before the open transaction) and B */
        ck_assert_str_eq(snapshot_names, "AB"); /* A as before the open transaction; no C */
        /* The outbox after it: A's update and C's create, not B's create
         * (covered by the snapshot) nor A's (sent before). */
        ck_assert_uint_eq(outbox_rows, 2);
        ck_assert_str_eq(seen_ops, "uc");
        ck_assert_msg(strstr(d, "A changed"), "%s", d);
        ack_ok(&f, last);
        /* B's create was covered by the snapshot: marked with the first ack. */
        ck_assert_int_eq(sql_num(f.conn, "SELECT count(*) FROM sharebus_outbox WHERE sent_at IS NULL"), 0);
        ck_assert(log_has(&f, "snapshot of business_license done: 2 rows"));
        sb_buf_free(&decoded);
        PQfinish(open_txn);
        fix_stop(&f);
}
END_TEST

START_TEST(a_snapshot_cut_by_a_crash_starts_again) {
        fix_t f;
        fix_start(&f, "t_snapcrash");
        sql_ok(f.conn, business_ddl);
        install_ddl(&f, "business_license");
        business_insert(f.conn, "91350100M000100Y43", "A");
        business_insert(f.conn, "91350100M000100Y51", "B");
        business_insert(f.conn, "91350100M000100Y6X", "C");
        char err[1024] = "";
        ck_assert_msg(open_source(&f, "snapshot_table = \"business_license\";\n", 1, ERR) == SB_OK, "%s",
                      err);
        source_batch_t b;
        ck_assert_int_eq(source_next(f.src, 1, 0, &b, ERR), SB_OK);
        ck_assert_uint_eq(b.count, 1);
        ck_assert_msg(pgserver_crash(pg, ERR) == SB_OK, "%s", err);
        ck_assert_int_eq(source_next(f.src, 1, 0, &b, ERR), SB_ERR_DB);
        ck_assert(log_has(&f, "snapshot of business_license was interrupted after 1 rows"));
        ck_assert_msg(pgserver_restart(pg, ERR) == SB_OK, "%s", err);
        PQfinish(f.conn);
        f.conn = app_connect(&f);
        /* Read again from the start: all three rows; the outbox rows they
         * cover are not published. */
        char names[16] = "";
        sb_err_t e = SB_OK;
        for (int i = 0; i < 20; i++) {
                if ((e = source_next(f.src, 10, 0, &b, ERR)) != SB_OK)
                        continue; /* the producer retries */
                if (b.count == 0)
                        break;
                for (size_t k = 0; k < b.count; k++) {
                        sb_change_line_t cl;
                        ck_assert_int_eq(sb_change_line_parse(b.records[k].text, b.records[k].len, &cl, ERR),
                                         SB_OK);
                        ck_assert_int_eq(cl.op, 'r');
                        ck_assert_uint_eq(b.records[k].position, 0);
                        strncat(names, json_string_value(json_object_get(cl.after, "name")),
                                sizeof(names) - strlen(names) - 1);
                        sb_change_line_clear(&cl);
                }
        }
        ck_assert_msg(e == SB_OK, "%s", err);
        ck_assert_str_eq(names, "ABC");
        business_insert(f.conn, "91350100M000100Y78", "D");
        ck_assert_int_eq(source_next(f.src, 10, LONG_WAIT_MS, &b, ERR), SB_OK);
        ck_assert_uint_eq(b.count, 1);
        ck_assert_ptr_nonnull(strstr(b.records[0].text, "\"D\""));
        ack_ok(&f, b.records[0].position);
        ck_assert_int_eq(sql_num(f.conn, "SELECT count(*) FROM sharebus_outbox WHERE sent_at IS NULL"), 0);
        fix_stop(&f);
}
END_TEST

/* max_outbox_row_bytes bounds the snapshot's rows too: one over it is a
 * reject naming its size, measured by the server; the other rows go on. */
START_TEST(oversized_snapshot_row_is_rejected_unread) {
        fix_t f;
        fix_start(&f, "t_bigsnap");
        sql_ok(f.conn, business_ddl);
        install_ddl(&f, "business_license");
        business_insert(f.conn, "91350100M000100Y43", "A");
        business_insert(f.conn, "91350100M000100Y51", "B");
        sql_ok(f.conn,
               "UPDATE business_license SET name = repeat('x', 100000) WHERE uscc = '91350100M000100Y51'");
        char err[1024] = "";
        ck_assert_msg(open_source(&f,
                                  "snapshot_table = \"business_license\";\nmax_outbox_row_bytes = 1000;\n", 1,
                                  ERR) == SB_OK,
                      "%s", err);
        source_batch_t b;
        ck_assert_int_eq(source_next(f.src, 10, 0, &b, ERR), SB_OK);
        ck_assert_uint_eq(b.count, 2);
        int rejected = 0, good = 0;
        for (size_t i = 0; i < b.count; i++) {
                sb_change_line_t cl;
                if (strstr(b.records[i].where, "exceeds the 1000-byte bound (max_outbox_row_bytes)")) {
                        rejected++;
                        ck_assert_uint_lt(b.records[i].len, 200);
                        ck_assert_int_eq(sb_change_line_parse(b.records[i].text, b.records[i].len, &cl, ERR),
                                         SB_ERR_INVALID);
                } else {
                        good++;
                        ck_assert_msg(sb_change_line_parse(b.records[i].text, b.records[i].len, &cl, ERR) ==
                                              SB_OK,
                                      "%s: %s", b.records[i].where, err);
                        sb_change_line_clear(&cl);
                }
        }
        ck_assert_int_eq(rejected, 1);
        ck_assert_int_eq(good, 1);
        fix_stop(&f);
}
END_TEST

int main(void) {
        char err[1024] = "";
        if (pgserver_start(&pg, err, sizeof(err)) != SB_OK) {
                fprintf(stderr, "test_source_postgresql: %s\n", err);
                return 1;
        }
        Suite *s = suite_create("source_postgresql");
        TCase *tc = tcase_create("source_postgresql");
        tcase_set_timeout(tc, 180);
        tcase_add_test(tc, publishes_in_seq_order_and_marks_sent_on_ack);
        tcase_add_test(tc, a_row_committed_after_a_higher_seq_is_still_published);
        tcase_add_test(tc, an_unacked_row_between_acked_ones_is_not_marked);
        tcase_add_test(tc, drain_finishes_once_nothing_is_unsent);
        tcase_add_test(tc, a_notification_wakes_a_waiting_next);
        tcase_add_test(tc, sent_rows_are_pruned_after_the_retention);
        tcase_add_test(tc, reconnects_after_the_server_crashed_and_loses_nothing);
        tcase_add_test(tc, bad_settings_are_refused_clearly);
        tcase_add_test(tc, bad_rows_are_handed_over_for_rejection);
        tcase_add_test(tc, oversized_row_is_rejected_unread);
        tcase_add_test(tc, oversized_snapshot_row_is_rejected_unread);
        tcase_add_test(tc, trigger_rows_are_valid_change_events);
        tcase_add_test(tc, snapshot_with_a_concurrent_writer_loses_and_doubles_nothing);
        tcase_add_test(tc, a_snapshot_cut_by_a_crash_starts_again);
        suite_add_tcase(s, tc);
        SRunner *sr = srunner_create(s);
        srunner_run_all(sr, CK_NORMAL);
        int failed = srunner_ntests_failed(sr);
        srunner_free(sr);
        pgserver_stop_destroy(pg);
        return failed ? 1 : 0;
}

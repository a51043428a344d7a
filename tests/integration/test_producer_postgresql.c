/*
 * test_producer_postgresql: sharebus-producer with source = "postgresql",
 * end to end: a business table with the printed trigger, the real producer
 * process, the suite's Kafka and registry.  Rows reach the topic and are
 * marked sent; rows committed while it runs are woken up and published; a
 * producer killed with SIGKILL and started again loses nothing.
 */
#include <check.h>
#include <libpq-fe.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dataset.h"
#include "harness.h"
#include "pgserver.h"
#include "sb_checks.h"
#include "sources/pg_sql.h"
#include "sources/source_postgresql.h"

static h_env_t env;    /* the suite's broker and registry, set up by main */
static pgserver_t *pg; /* the suite's PostgreSQL */

#define ERR err, sizeof(err)

static void quiet(void *arg, const char *message) {
        (void)arg;
        (void)message;
}

static void sql_ok(PGconn *c, const char *sql) {
        PGresult *r = PQexec(c, sql);
        ck_assert_msg(PQresultStatus(r) == PGRES_COMMAND_OK || PQresultStatus(r) == PGRES_TUPLES_OK, "%s: %s",
                      sql, PQerrorMessage(c));
        PQclear(r);
}

static long long sql_num(PGconn *c, const char *sql) {
        PGresult *r = PQexec(c, sql);
        ck_assert_msg(PQresultStatus(r) == PGRES_TUPLES_OK && PQntuples(r) == 1, "%s: %s", sql,
                      PQerrorMessage(c));
        long long v = atoll(PQgetvalue(r, 0, 0));
        PQclear(r);
        return v;
}

/* A valid unified social credit code for number i. */
static void uscc(int i, char out[19]) {
        snprintf(out, 19, "91350100M%08d", i);
        out[17] = sb_check_cn_uscc_char(out);
        out[18] = 0;
}

static void insert_licenses(PGconn *c, int from, int to) {
        for (int i = from; i < to; i++) {
                char code[19], sql[512];
                uscc(i, code);
                snprintf(sql, sizeof(sql),
                         "INSERT INTO business_license VALUES ('%s', 'Firm %d', 'Li Lei', %d.25, NULL, "
                         "'ACTIVE', "
                         "'2019-12-31', NULL, now())",
                         code, i, i);
                sql_ok(c, sql);
        }
}

/* A database with the business table, the outbox and its trigger for
 * dataset market.<dataset>; returns the application's connection. */
static PGconn *setup_db(const char *db, const char *dataset, char *conninfo, size_t size) {
        char err[1024] = "";
        ck_assert_msg(pgserver_create_db(pg, db, ERR) == SB_OK, "%s", err);
        pgserver_db_conninfo(pg, db, conninfo, size);
        PGconn *c = PQconnectdb(conninfo);
        ck_assert_msg(PQstatus(c) == CONNECTION_OK, "%s", PQerrorMessage(c));
        PQsetNoticeProcessor(c, quiet, NULL);
        sql_ok(c, "CREATE TABLE business_license (uscc text PRIMARY KEY, name text NOT NULL, "
                  "legal_representative text NOT NULL, registered_capital numeric(18,2) NOT NULL, "
                  "business_scope text, status text NOT NULL, established_on date NOT NULL, address text, "
                  "updated_at timestamptz NOT NULL)");
        char topic[128];
        snprintf(topic, sizeof(topic), "market.%s", dataset);
        h_copy_dataset(&env, "market.business_license", topic);
        ck_assert_int_eq(h_create_topic(&env, topic, 1), 0);
        sb_dataset_t *ds = NULL;
        ck_assert_msg(sb_dataset_load(h_path(&env, "schemas"), topic, &ds, ERR) == SB_OK, "%s", err);
        char *ddl = NULL;
        size_t len = 0;
        FILE *m = open_memstream(&ddl, &len);
        ck_assert_int_eq(pg_sql_print_ddl(m, "sharebus_outbox", "business_license", dataset,
                                          sb_schema_root(sb_dataset_key_schema(ds)), ERR),
                         SB_OK);
        fclose(m);
        sql_ok(c, ddl);
        free(ddl);
        sb_dataset_destroy(ds);
        return c;
}

/* Waits (up to 2 minutes, a bound only) until no row is unsent. */
static void wait_all_sent(PGconn *c, pid_t producer, const char *log) {
        for (int i = 0; i < 1200; i++) {
                if (sql_num(c, "SELECT count(*) FROM sharebus_outbox WHERE sent_at IS NULL") == 0)
                        return;
                ck_assert_msg(kill(producer, 0) == 0, "the producer exited; see %s", log);
                h_sleep_ms(100);
        }
        ck_abort_msg("rows still unsent after 2 minutes; see %s", log);
}

static const char *producer_conf(const char *dataset, const char *conninfo) {
        char extra[512];
        snprintf(extra, sizeof(extra),
                 "source = \"postgresql\";\npostgresql_conninfo = \"%s\";\nlog_level = \"debug\";", conninfo);
        return h_producer_conf(&env, "market", dataset, NULL, "-", extra);
}

START_TEST(outbox_rows_reach_the_topic_and_are_marked_sent) {
        char conninfo[256];
        PGconn *c = setup_db("e2e_flow", "pgflow", conninfo, sizeof(conninfo));
        insert_licenses(c, 1, 21);
        sql_ok(c, "UPDATE business_license SET name = name || ' Ltd' WHERE registered_capital < 6");
        sql_ok(c, "DELETE FROM business_license WHERE registered_capital > 19");
        /* 20 creates, 5 updates, 2 deletes with their tombstones */
        const char *log = h_path(&env, "producer-pgflow.log");
        char log_copy[700];
        snprintf(log_copy, sizeof(log_copy), "%s", log);
        pid_t pid = h_start_program(&env, "sharebus-producer", producer_conf("pgflow", conninfo), log_copy);
        wait_all_sent(c, pid, log_copy);
        ck_assert_int_eq(h_topic_count(&env, "market.pgflow", 1), 29);
        /* Committed while the producer waits on its notification. */
        insert_licenses(c, 100, 103);
        wait_all_sent(c, pid, log_copy);
        ck_assert_int_eq(h_topic_count(&env, "market.pgflow", 1), 32);
        ck_assert_int_eq(sql_num(c, "SELECT count(*) FROM sharebus_outbox WHERE sent_at IS NOT NULL"), 30);
        kill(pid, SIGTERM);
        ck_assert_int_ge(h_wait(pid, 60000), 0);
        ck_assert(h_file_contains(log_copy, "postgresql: reading outbox sharebus_outbox"));
        PQfinish(c);
}
END_TEST

START_TEST(a_killed_producer_loses_nothing) {
        char conninfo[256];
        PGconn *c = setup_db("e2e_kill", "pgkill", conninfo, sizeof(conninfo));
        insert_licenses(c, 1, 301);
        const char *conf = producer_conf("pgkill", conninfo);
        char conf_copy[700], log_copy[700];
        snprintf(conf_copy, sizeof(conf_copy), "%s", conf);
        snprintf(log_copy, sizeof(log_copy), "%s", h_path(&env, "producer-pgkill.log"));
        pid_t pid = h_start_program(&env, "sharebus-producer", conf_copy, log_copy);
        /* Killed once some rows are sent (or at once if it is slow to start). */
        for (int i = 0; i < 300; i++) {
                if (sql_num(c, "SELECT count(*) FROM sharebus_outbox WHERE sent_at IS NOT NULL") > 0)
                        break;
                h_sleep_ms(20);
        }
        kill(pid, SIGKILL);
        h_wait(pid, 10000);
        long long sent_before = sql_num(c, "SELECT count(*) FROM sharebus_outbox WHERE sent_at IS NOT NULL");
        pid = h_start_program(&env, "sharebus-producer", conf_copy, log_copy);
        wait_all_sent(c, pid, log_copy);
        kill(pid, SIGTERM);
        h_wait(pid, 60000);
        /* Every row is on the topic; a row sent before the kill is not sent
         * again (only rows in flight at the kill may be repeated). */
        long long on_topic = h_topic_count(&env, "market.pgkill", 1);
        ck_assert_int_ge(on_topic, 300);
        ck_assert_int_le(on_topic, 300 + (300 - sent_before));
        PQfinish(c);
}
END_TEST

int main(void) {
        char err[1024] = "";
        if (pgserver_start(&pg, ERR) != SB_OK) {
                fprintf(stderr, "test_producer_postgresql: %s\n", err);
                return 1;
        }
        if (h_env_start(&env) != 0) {
                pgserver_stop_destroy(pg);
                return 1;
        }
        Suite *s = suite_create("producer_postgresql");
        TCase *tc = tcase_create("producer_postgresql");
        tcase_set_timeout(tc, 300);
        tcase_add_test(tc, outbox_rows_reach_the_topic_and_are_marked_sent);
        tcase_add_test(tc, a_killed_producer_loses_nothing);
        suite_add_tcase(s, tc);
        int failed = h_run_suite(s);
        h_env_stop(&env);
        pgserver_stop_destroy(pg);
        return failed ? 1 : 0;
}

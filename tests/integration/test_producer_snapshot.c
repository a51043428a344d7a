/*
 * Integration: `sharebus-producer --snapshot` on a SQLite outbox.  A
 * department's business table already holds rows when it starts sharing:
 * the snapshot publishes them as op=r events, then the producer goes on
 * with the outbox (filled by the triggers --print-ddl printed) from where
 * the snapshot was taken, and a subscriber ends with exactly the table.
 * A second run without --snapshot publishes nothing again.
 */
#include <signal.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "sb_checks.h"

static h_env_t env;

static void exec_ok(sqlite3 *db, const char *sql) {
        char *err = NULL;
        int rc = sqlite3_exec(db, sql, NULL, NULL, &err);
        ck_assert_msg(rc == SQLITE_OK, "%s: %s", sql, err ? err : "");
        sqlite3_free(err);
}

/* A valid unified social credit code for number i. */
static void uscc(int i, char out[19]) {
        snprintf(out, 19, "91350100M%08d", i);
        out[17] = sb_check_cn_uscc_char(out);
        out[18] = 0;
}

static void insert_license(sqlite3 *db, int i) {
        char code[19], sql[512];
        uscc(i, code);
        snprintf(sql, sizeof(sql),
                 "INSERT INTO business_license VALUES ('%s', 'Firm %d', 'Li Lei', %d.5, NULL, 'ACTIVE', "
                 "'2020-01-02', NULL, '2025-01-01T00:00:00.000Z')",
                 code, i, i);
        exec_ok(db, sql);
}

static long long count(const char *db_path, const char *sql) { return h_sqlite_int(db_path, sql); }

START_TEST(snapshot_then_outbox_gives_the_table_exactly) {
        h_copy_dataset(&env, "market.business_license", "snap.license");
        ck_assert_int_eq(h_create_topic(&env, "snap.license", 2), 0);
        char dept_db[600], conf[700], ddl[700], log[700], sub_db[600];
        snprintf(dept_db, sizeof(dept_db), "%s", h_path(&env, "department.db"));
        snprintf(log, sizeof(log), "%s", h_path(&env, "producer-snap.log"));
        char extra[1024];
        snprintf(
                extra, sizeof(extra),
                "source = \"sqlite\";\nsqlite_outbox_path = \"%s\";\nsnapshot_table = \"business_license\";\n"
                "outbox_poll_ms = 20;",
                dept_db);
        snprintf(conf, sizeof(conf), "%s", h_producer_conf(&env, "snap", "license", NULL, "-", extra));

        /* The business table and its rows from before sharing began. */
        sqlite3 *db;
        ck_assert_int_eq(sqlite3_open(dept_db, &db), SQLITE_OK);
        exec_ok(db, "CREATE TABLE business_license (uscc TEXT PRIMARY KEY, name TEXT, legal_representative "
                    "TEXT, registered_capital REAL, business_scope TEXT, status TEXT, established_on TEXT, "
                    "address TEXT, updated_at TEXT)");
        for (int i = 1; i <= 10; i++)
                insert_license(db, i);
        /* The outbox and its triggers, as the producer prints them. */
        snprintf(ddl, sizeof(ddl), "%s", h_path(&env, "outbox.sql"));
        char bin[1200];
        snprintf(bin, sizeof(bin), "%s", h_bin(&env, "sharebus-producer"));
        char *argv[] = {bin, "--config", conf, "--print-ddl", "sqlite", "--table", "business_license", NULL};
        ck_assert_int_eq(h_wait(h_spawn(argv, ddl), 30000), 0);
        FILE *f = fopen(ddl, "r");
        ck_assert_ptr_nonnull(f);
        static char sql[1 << 16];
        size_t n = fread(sql, 1, sizeof(sql) - 1, f);
        sql[n] = 0;
        fclose(f);
        exec_ok(db, sql);
        /* Changes made before the snapshot: in the outbox, and in the table
         * the snapshot reads, so the snapshot covers them (published once). */
        insert_license(db, 11);
        exec_ok(db, "UPDATE business_license SET name = 'Early Rename' WHERE name = 'Firm 1'");

        char snapshot_flag[] = "--snapshot";
        char *run_argv[] = {bin, "--config", conf, snapshot_flag, NULL};
        pid_t pid = h_spawn(run_argv, log);
        /* Counted once the producer runs (the topic is known to the brokers). */
        for (int i = 0; i < 600 && !h_file_contains(log, "snapshot of business_license:"); i++)
                h_sleep_ms(100);
        for (int i = 0; i < 600 && h_topic_count(&env, "snap.license", 2) < 11; i++)
                h_sleep_ms(100);
        ck_assert_int_eq(h_topic_count(&env, "snap.license", 2), 11);
        /* Changes after the snapshot come from the outbox. */
        insert_license(db, 12);
        insert_license(db, 13);
        exec_ok(db, "UPDATE business_license SET name = 'Renamed Firm' WHERE name = 'Firm 2'");
        exec_ok(db, "DELETE FROM business_license WHERE name = 'Firm 3'");
        for (int i = 0; i < 600 && count(dept_db, "SELECT count(*) FROM sharebus_outbox_unsent"); i++)
                h_sleep_ms(100);
        ck_assert_int_eq(count(dept_db, "SELECT count(*) FROM sharebus_outbox_unsent"), 0);
        kill(pid, SIGTERM);
        ck_assert_int_eq(h_wait(pid, 60000), 0);
        /* 11 snapshot rows (op r), 2 creates, 1 update, 1 delete and its
         * tombstone: the 2 changes before the snapshot are not sent again. */
        ck_assert_int_eq(h_topic_count(&env, "snap.license", 2), 16);
        ck_assert(h_file_contains(log, "0 rejected"));

        /* Without --snapshot, a second run publishes only the new change;
         * with --drain it exits by itself once the outbox is sent. */
        insert_license(db, 14);
        char drain_flag[] = "--drain";
        char *drain_argv[] = {bin, "--config", conf, drain_flag, NULL};
        char drain_log[700];
        snprintf(drain_log, sizeof(drain_log), "%s", h_path(&env, "producer-drain.log"));
        ck_assert_int_eq(h_wait(h_spawn(drain_argv, drain_log), 120000), 0);
        ck_assert_int_eq(count(dept_db, "SELECT count(*) FROM sharebus_outbox_unsent"), 0);
        ck_assert_int_eq(h_topic_count(&env, "snap.license", 2), 17);
        ck_assert(h_file_contains(drain_log, "1 records read: 1 events published"));

        /* A subscriber ends with exactly the department's table. */
        snprintf(sub_db, sizeof(sub_db), "%s", h_path(&env, "snap-sub.db"));
        pid = h_start_subscriber(&env, "snap", "snap.license", NULL, sub_db, "info", "idle_exit_ms = 4000;",
                                 NULL, h_path(&env, "subscriber-snap.log"));
        ck_assert_int_eq(h_wait(pid, 120000), 0);
        ck_assert_int_eq(count(sub_db, "SELECT count(*) FROM snap_license"), 13);
        ck_assert_int_eq(count(sub_db, "SELECT count(*) FROM snap_license WHERE name = 'Renamed Firm'"), 1);
        ck_assert_int_eq(count(sub_db, "SELECT count(*) FROM snap_license WHERE name = 'Early Rename'"), 1);
        ck_assert_int_eq(
                count(sub_db, "SELECT count(*) FROM snap_license WHERE name IN ('Firm 2', 'Firm 3')"), 0);
        sqlite3_close(db);
}
END_TEST

int main(void) {
        if (h_env_start(&env) != 0)
                return 1;
        Suite *s = suite_create("producer_snapshot");
        TCase *tc = tcase_create("snapshot");
        tcase_set_timeout(tc, 300);
        tcase_add_test(tc, snapshot_then_outbox_gives_the_table_exactly);
        suite_add_tcase(s, tc);
        int failed = h_run_suite(s);
        h_env_stop(&env);
        return failed ? 1 : 0;
}

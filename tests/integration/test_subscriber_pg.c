/*
 * test_subscriber_pg: sharebus-subscriber with target = "postgresql", end
 * to end: changes produced to the suite's Kafka and registry, applied by the
 * real subscriber process to a throwaway PostgreSQL (pgserver.h); the table
 * then holds exactly the published state, each event has one receipt and
 * the stored offsets are past every record.
 */
#include <check.h>
#include <libpq-fe.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "pgserver.h"
#include "pgtable.h"

static h_env_t env;    /* the suite's broker and registry, set up by main */
static pgserver_t *pg; /* the suite's PostgreSQL */

#define ERR err, sizeof(err)

START_TEST(a_produced_dataset_reaches_the_postgresql_table) {
        char err[1024] = "", lines[600], log[600], conninfo[256], extra[512];
        ck_assert_msg(pgserver_create_db(pg, "e2e_subscriber", ERR) == SB_OK, "%s", err);
        pgserver_db_conninfo(pg, "e2e_subscriber", conninfo, sizeof(conninfo));
        h_copy_dataset(&env, "market.business_license", "pgsub.business_license");
        ck_assert_int_eq(h_create_topic(&env, "pgsub.business_license", 3), 0);
        int deletes = h_write_sample(&env, "market.business_license", "license.jsonl", 1000, 300, 11, lines,
                                     sizeof(lines));
        ck_assert_int_gt(deletes, 0);
        snprintf(log, sizeof(log), "%s", h_path(&env, "producer-license.log"));
        ck_assert_int_eq(h_run_producer(&env, "pgsub", "business_license", NULL, lines, NULL, log), 0);

        snprintf(extra, sizeof(extra),
                 "target = \"postgresql\";\npostgresql_conninfo = \"%s\";\nidle_exit_ms = 4000;\nbatch_size "
                 "= 200;",
                 conninfo);
        snprintf(log, sizeof(log), "%s", h_path(&env, "subscriber-pg.log"));
        pid_t pid =
                h_start_subscriber(&env, "pgsub", "pgsub.business_license", NULL, h_path(&env, "unused.db"),
                                   "debug", extra, "session_timeout_ms = 6000;", log);
        ck_assert_msg(h_wait(pid, 120000) == 0, "the subscriber failed; see %s", log);

        PGconn *c = PQconnectdb(conninfo);
        ck_assert_msg(PQstatus(c) == CONNECTION_OK, "%s", PQerrorMessage(c));
        PQclear(PQexec(c, "SET TimeZone = 'UTC'"));
        json_t *expected = h_expected_state(lines, "uscc");
        pgtable_assert_equals(c, "pgsub_business_license", "uscc", expected);
        json_decref(expected);
        ck_assert_int_eq(pgtable_num(c, "SELECT count(*) FROM sharebus_receipts"), 1000);
        ck_assert_int_eq(pgtable_num(c, "SELECT count(DISTINCT event_id) FROM sharebus_receipts"), 1000);
        ck_assert_int_eq(pgtable_num(c, "SELECT sum(next_offset) FROM sharebus_offsets"), 1000 + deletes);
        ck_assert_int_eq(pgtable_num(c, "SELECT count(*) FROM sharebus_columns WHERE table_name = "
                                        "'pgsub_business_license' AND classification = 'personal'"),
                         1);
        PQfinish(c);
}
END_TEST

int main(void) {
        char err[1024] = "";
        if (pgserver_start(&pg, ERR) != SB_OK) {
                fprintf(stderr, "test_subscriber_pg: %s\n", err);
                return 1;
        }
        if (h_env_start(&env) != 0) {
                pgserver_stop_destroy(pg);
                return 1;
        }
        Suite *s = suite_create("subscriber_pg");
        TCase *tc = tcase_create("subscriber_pg");
        tcase_set_timeout(tc, 300);
        tcase_add_test(tc, a_produced_dataset_reaches_the_postgresql_table);
        suite_add_tcase(s, tc);
        int failed = h_run_suite(s);
        h_env_stop(&env);
        pgserver_stop_destroy(pg);
        return failed ? 1 : 0;
}

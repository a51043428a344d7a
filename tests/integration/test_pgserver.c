/*
 * test_pgserver: the throwaway PostgreSQL of the integration suites starts,
 * gives one database per test, survives a crash with what it committed,
 * and leaves nothing behind.
 */
#include <check.h>
#include <libpq-fe.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "pgserver.h"

static pgserver_t *pg; /* the suite's server, started by main */

static void quiet(void *arg, const char *message) {
        (void)arg;
        (void)message;
}

static PGconn *connect_db(const char *name) {
        char ci[256];
        PGconn *c = PQconnectdb(pgserver_db_conninfo(pg, name, ci, sizeof(ci)));
        ck_assert_msg(PQstatus(c) == CONNECTION_OK, "connect %s: %s", ci, PQerrorMessage(c));
        PQsetNoticeProcessor(c, quiet, NULL); /* "terminating connection due to immediate shutdown" */
        return c;
}

static void exec_ok(PGconn *c, const char *sql) {
        PGresult *r = PQexec(c, sql);
        ck_assert_msg(PQresultStatus(r) == PGRES_COMMAND_OK || PQresultStatus(r) == PGRES_TUPLES_OK, "%s: %s",
                      sql, PQerrorMessage(c));
        PQclear(r);
}

START_TEST(create_db_gives_an_empty_database_each_time) {
        char err[1024] = "";
        ck_assert_msg(pgserver_create_db(pg, "smoke", err, sizeof(err)) == SB_OK, "%s", err);
        PGconn *c = connect_db("smoke");
        exec_ok(c, "CREATE TABLE t (x int)");
        PQfinish(c);
        ck_assert_msg(pgserver_create_db(pg, "smoke", err, sizeof(err)) == SB_OK, "%s", err);
        c = connect_db("smoke");
        PGresult *r = PQexec(c, "SELECT count(*) FROM pg_class WHERE relname = 't'");
        ck_assert_str_eq(PQgetvalue(r, 0, 0), "0");
        PQclear(r);
        PQfinish(c);
        ck_assert_int_eq(pgserver_create_db(pg, "Bad; name", err, sizeof(err)), SB_ERR_INVALID);
        ck_assert_ptr_nonnull(strstr(err, "not a plain database name"));
}
END_TEST

START_TEST(committed_rows_survive_a_crash) {
        char err[1024] = "";
        ck_assert_msg(pgserver_create_db(pg, "crash", err, sizeof(err)) == SB_OK, "%s", err);
        PGconn *c = connect_db("crash");
        exec_ok(c, "CREATE TABLE t (x int)");
        exec_ok(c, "INSERT INTO t VALUES (1), (2)");
        ck_assert_msg(pgserver_crash(pg, err, sizeof(err)) == SB_OK, "%s", err);
        PGresult *r = PQexec(c, "SELECT 1");
        ck_assert_int_ne(PQresultStatus(r), PGRES_TUPLES_OK); /* the connection was cut */
        PQclear(r);
        PQfinish(c);
        ck_assert_msg(pgserver_restart(pg, err, sizeof(err)) == SB_OK, "%s", err);
        c = connect_db("crash");
        r = PQexec(c, "SELECT sum(x) FROM t");
        ck_assert_int_eq(PQresultStatus(r), PGRES_TUPLES_OK);
        ck_assert_str_eq(PQgetvalue(r, 0, 0), "3");
        PQclear(r);
        PQfinish(c);
}
END_TEST

START_TEST(stop_destroy_removes_the_folder) {
        char err[1024] = "";
        pgserver_t *other = NULL;
        ck_assert_msg(pgserver_start(&other, err, sizeof(err)) == SB_OK, "%s", err);
        char dir[256];
        snprintf(dir, sizeof(dir), "%s", pgserver_dir(other));
        ck_assert_str_ne(pgserver_conninfo(other), pgserver_conninfo(pg)); /* its own port */
        pgserver_stop_destroy(other);
        struct stat st;
        ck_assert_int_ne(stat(dir, &st), 0);
}
END_TEST

int main(void) {
        char err[1024] = "";
        if (pgserver_start(&pg, err, sizeof(err)) != SB_OK) {
                fprintf(stderr, "test_pgserver: %s\n", err);
                return 1;
        }
        Suite *s = suite_create("pgserver");
        TCase *tc = tcase_create("pgserver");
        tcase_set_timeout(tc, 120);
        tcase_add_test(tc, create_db_gives_an_empty_database_each_time);
        tcase_add_test(tc, committed_rows_survive_a_crash);
        tcase_add_test(tc, stop_destroy_removes_the_folder);
        suite_add_tcase(s, tc);
        SRunner *sr = srunner_create(s);
        srunner_run_all(sr, CK_NORMAL);
        int failed = srunner_ntests_failed(sr);
        srunner_free(sr);
        pgserver_stop_destroy(pg);
        return failed ? 1 : 0;
}

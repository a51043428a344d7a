/*
 * Unit tests of the SQLite target: table names through the target
 * interface, and schema evolution that adds columns: rows already in the
 * table read the new field's default, not NULL; receipts looked up by
 * event id, inside the transaction and after it, never after a rollback;
 * history tables (every event once, in order, evolving like the others);
 * instances of a group opening one new file at the same moment.
 */
#include <sqlite3.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "target.h"
#include "testutil.h"

static sb_target_t *open_target(char *path, size_t size) {
        snprintf(path, size, "%s", test_write_temp("", ".db"));
        unlink(path);
        sb_target_t *t = NULL;
        TEST_CALL(sb_target_sqlite_open(path, &t, TEST_ERR));
        return t;
}

/* The text of one value of one row: "NULL", a number or the text. */
static void query_text(const char *path, const char *sql, char *out, size_t size) {
        sqlite3 *db;
        sqlite3_stmt *st;
        ck_assert_int_eq(sqlite3_open(path, &db), SQLITE_OK);
        ck_assert_msg(sqlite3_prepare_v2(db, sql, -1, &st, NULL) == SQLITE_OK, "%s: %s", sql,
                      sqlite3_errmsg(db));
        ck_assert_int_eq(sqlite3_step(st), SQLITE_ROW);
        const unsigned char *t = sqlite3_column_text(st, 0);
        snprintf(out, size, "%s", t ? (const char *)t : "NULL");
        sqlite3_finalize(st);
        sqlite3_close(db);
}

START_TEST(test_table_name_through_the_interface) {
        char path[4096], table[16];
        sb_target_t *t = open_target(path, sizeof(path));
        TEST_CALL(t->ops->table_name(t, "mkt.bus-lic", table, sizeof(table), TEST_ERR));
        ck_assert_str_eq(table, "mkt_bus_lic");
        char big[64];
        TEST_CALL(t->ops->table_name(t, "civil.resident", big, sizeof(big), TEST_ERR));
        ck_assert_str_eq(big, "civil_resident");
        char err[256] = "";
        ck_assert_int_eq(
                t->ops->table_name(t, "a.much_longer_topic_name", table, sizeof(table), err, sizeof(err)),
                SB_ERR_INVALID);
        ck_assert_msg(strstr(err, "longer than 15 bytes"), "%s", err);
        t->ops->destroy(t);
        unlink(path);
}
END_TEST

static const char *const key_q = "{'type':'record','name':'K','fields':[{'name':'id','type':'long'}]}";
static const char *const v1_q = "{'type':'record','name':'R','fields':[{'name':'id','type':'long'},"
                                "{'name':'name','type':'string'}]}";
/* v2 adds fields of every kind of default, and one without. */
static const char *const v2_q =
        "{'type':'record','name':'R','fields':[{'name':'id','type':'long'},{'name':'name','type':'string'},"
        "{'name':'score','type':'int','default':7},"
        "{'name':'ratio','type':'double','default':0.5},"
        "{'name':'active','type':'boolean','default':true},"
        "{'name':'label','type':'string','default':'it\\u0027s'},"
        "{'name':'level','type':{'type':'enum','name':'L','symbols':['LOW','HIGH']},'default':'LOW'},"
        "{'name':'since','type':{'type':'int','logicalType':'date'},'default':0},"
        "{'name':'at','type':{'type':'long','logicalType':'timestamp-millis'},'default':86400000},"
        "{'name':'tags','type':{'type':'array','items':'string'},'default':['a','b']},"
        "{'name':'note','type':['null','string'],'default':null}]}";

START_TEST(test_added_columns_take_the_default_in_old_rows) {
        char path[4096], got[256];
        sb_target_t *t = open_target(path, sizeof(path));
        sb_schema_t *key = test_schema_q(key_q), *v1 = test_schema_q(v1_q), *v2 = test_schema_q(v2_q);
        const sb_node_t *k = sb_schema_root(key);
        json_t *old = test_json_q("{'id':1,'name':'old'}");
        TEST_CALL(t->ops->begin(t, TEST_ERR));
        TEST_CALL(t->ops->ensure_table(t, "evo", k, sb_schema_root(v1), TEST_ERR));
        TEST_CALL(t->ops->upsert(t, "evo", k, sb_schema_root(v1), old, TEST_ERR));
        TEST_CALL(t->ops->commit(t, TEST_ERR));
        TEST_CALL(t->ops->begin(t, TEST_ERR));
        TEST_CALL(t->ops->ensure_table(t, "evo", k, sb_schema_root(v2), TEST_ERR));
        TEST_CALL(t->ops->commit(t, TEST_ERR));
        static const struct {
                const char *column, *want;
        } want[] = {
                {"score", "7"},
                {"ratio", "0.5"},
                {"active", "1"},
                {"label", "it's"},
                {"level", "LOW"},
                {"since", "1970-01-01"},
                {"at", "1970-01-02T00:00:00.000Z"},
                {"tags", "[\"a\",\"b\"]"},
                {"note", "NULL"},
        };
        for (size_t i = 0; i < sizeof(want) / sizeof(*want); i++) {
                char sql[256];
                snprintf(sql, sizeof(sql), "SELECT \"%s\" FROM evo WHERE id = 1", want[i].column);
                query_text(path, sql, got, sizeof(got));
                ck_assert_msg(strcmp(got, want[i].want) == 0, "old row's %s: got %s, want %s", want[i].column,
                              got, want[i].want);
        }
        /* A new row written with the new schema keeps its own values. */
        json_t *row = test_json_q("{'id':2,'name':'new','score':1,'ratio':2.0,'active':false,'label':'x',"
                                  "'level':'HIGH','since':'2000-01-01','at':'2000-01-01T00:00:00.000Z',"
                                  "'tags':[],'note':'n'}");
        TEST_CALL(t->ops->begin(t, TEST_ERR));
        TEST_CALL(t->ops->upsert(t, "evo", k, sb_schema_root(v2), row, TEST_ERR));
        TEST_CALL(t->ops->commit(t, TEST_ERR));
        query_text(path, "SELECT score || '/' || level || '/' || note FROM evo WHERE id = 2", got,
                   sizeof(got));
        ck_assert_str_eq(got, "1/HIGH/n");
        json_decref(row);
        json_decref(old);
        sb_schema_destroy(key);
        sb_schema_destroy(v1);
        sb_schema_destroy(v2);
        t->ops->destroy(t);
        unlink(path);
}
END_TEST

/* History mode: every event a row, in its order; an event id twice is
 * one row; a newer schema's field becomes a column there too. */
START_TEST(test_history_appends_every_event_once) {
        char path[4096], got[256];
        sb_target_t *t = open_target(path, sizeof(path));
        sb_schema_t *key = test_schema_q(key_q), *v1 = test_schema_q(v1_q), *v2 = test_schema_q(v2_q);
        const sb_node_t *k = sb_schema_root(key);
        json_t *a = test_json_q("{'id':1,'name':'first'}"), *b = test_json_q("{'id':1,'name':'second'}");
        json_t *c = test_json_q("{'id':1,'name':'third','score':9}"), *kv = test_json_q("{'id':1}");
        const sb_target_event_t events[] = {{'c', 1000, 1, "e-1"},
                                            {'u', 2000, 2, "e-2"},
                                            {'u', 2000, 2, "e-2"}, /* the same event again */
                                            {'d', 3000, 3, "e-3"},
                                            {'c', 4000, 4, "e-4"}};
        TEST_CALL(t->ops->begin(t, TEST_ERR));
        TEST_CALL(t->ops->ensure_history(t, "evo_history", k, sb_schema_root(v1), TEST_ERR));
        TEST_CALL(t->ops->append(t, "evo_history", sb_schema_root(v1), a, &events[0], TEST_ERR));
        TEST_CALL(t->ops->append(t, "evo_history", sb_schema_root(v1), b, &events[1], TEST_ERR));
        TEST_CALL(t->ops->append(t, "evo_history", sb_schema_root(v1), a, &events[2], TEST_ERR));
        TEST_CALL(t->ops->append(t, "evo_history", sb_schema_root(v1), kv, &events[3], TEST_ERR));
        TEST_CALL(t->ops->ensure_history(t, "evo_history", k, sb_schema_root(v2), TEST_ERR));
        TEST_CALL(t->ops->append(t, "evo_history", sb_schema_root(v2), c, &events[4], TEST_ERR));
        TEST_CALL(t->ops->commit(t, TEST_ERR));
        query_text(
                path,
                "SELECT group_concat(sharebus_op || ':' || sharebus_event_id || ':' || sharebus_ts_ms || ':' "
                "|| sharebus_seq || ':' || id || ':' || coalesce(name, '-') || ':' || score, ' ') "
                "FROM (SELECT * FROM evo_history ORDER BY id, sharebus_seq)",
                got, sizeof(got));
        /* The delete keeps its key; the rows before the new field read its default. */
        ck_assert_str_eq(got, "c:e-1:1000:1:1:first:7 u:e-2:2000:2:1:second:7 d:e-3:3000:3:1:-:7 "
                              "c:e-4:4000:4:1:third:9");
        query_text(path, "SELECT count(*) FROM sqlite_master WHERE name = 'evo_history_key'", got,
                   sizeof(got));
        ck_assert_str_eq(got, "1");
        json_decref(a);
        json_decref(b);
        json_decref(c);
        json_decref(kv);
        sb_schema_destroy(key);
        sb_schema_destroy(v1);
        sb_schema_destroy(v2);
        t->ops->destroy(t);
        unlink(path);
}
END_TEST

/* A key schema that changed cannot be taken by the table keyed on the old
 * one: refused for good (the record is dead-lettered), not retried. */
START_TEST(test_a_changed_key_is_refused_with_both_keys_named) {
        char path[4096], err[512] = "";
        sb_target_t *t = open_target(path, sizeof(path));
        sb_schema_t *key = test_schema_q(key_q), *v1 = test_schema_q(v1_q);
        sb_schema_t *key2 = test_schema_q("{'type':'record','name':'K','fields':[{'name':'id','type':'long'},"
                                          "{'name':'name','type':'string','default':''}]}");
        TEST_CALL(t->ops->begin(t, TEST_ERR));
        TEST_CALL(t->ops->ensure_table(t, "keyed", sb_schema_root(key), sb_schema_root(v1), TEST_ERR));
        ck_assert_int_eq(
                t->ops->ensure_table(t, "keyed", sb_schema_root(key2), sb_schema_root(v1), err, sizeof(err)),
                SB_ERR_INVALID);
        ck_assert_str_eq(err,
                         "table keyed has the primary key (id), the key schema has (id, name): the target "
                         "cannot take a changed key");
        /* The same key again is fine. */
        TEST_CALL(t->ops->ensure_table(t, "keyed", sb_schema_root(key), sb_schema_root(v1), TEST_ERR));
        TEST_CALL(t->ops->commit(t, TEST_ERR));
        sb_schema_destroy(key);
        sb_schema_destroy(key2);
        sb_schema_destroy(v1);
        t->ops->destroy(t);
        unlink(path);
}
END_TEST

START_TEST(test_has_receipt_sees_committed_and_own_receipts_only) {
        char path[4096];
        int found = -1;
        sb_target_t *t = open_target(path, sizeof(path));
        const char *a = "6f1c2a8e-0000-4000-8000-000000000001", *b = "6f1c2a8e-0000-4000-8000-000000000002";
        TEST_CALL(t->ops->has_receipt(t, "x.y", 0, 5, a, &found, TEST_ERR));
        ck_assert_int_eq(found, 0);
        TEST_CALL(t->ops->begin(t, TEST_ERR));
        TEST_CALL(t->ops->record_receipt(t, "x.y", 0, 5, a, "c", TEST_ERR));
        TEST_CALL(t->ops->has_receipt(t, "x.y", 0, 5, a, &found, TEST_ERR));
        ck_assert_int_eq(found, 1); /* a batch sees its own */
        TEST_CALL(t->ops->commit(t, TEST_ERR));
        TEST_CALL(t->ops->begin(t, TEST_ERR));
        TEST_CALL(t->ops->record_receipt(t, "x.y", 0, 6, b, "u", TEST_ERR));
        t->ops->rollback(t);
        TEST_CALL(t->ops->has_receipt(t, "x.y", 0, 5, a, &found, TEST_ERR));
        ck_assert_int_eq(found, 1);
        TEST_CALL(t->ops->has_receipt(t, "x.y", 0, 6, b, &found, TEST_ERR));
        ck_assert_int_eq(found, 0);
        /* Another event at a's position, or a at another: not a's receipt. */
        TEST_CALL(t->ops->has_receipt(t, "x.y", 0, 5, b, &found, TEST_ERR));
        ck_assert_int_eq(found, 0);
        TEST_CALL(t->ops->has_receipt(t, "x.y", 1, 5, a, &found, TEST_ERR));
        ck_assert_int_eq(found, 0);
        t->ops->destroy(t);
        unlink(path);
}
END_TEST

/* Instances of one group start together on a new file: each open must
 * succeed, although turning the file to WAL is refused at once (not after
 * the busy timeout) to all but one of them.  Three processes at a time,
 * let go together by closing a pipe, fifty times. */
START_TEST(test_instances_open_one_new_file_together) {
        char path[4096];
        snprintf(path, sizeof(path), "%s", test_write_temp("", ".db"));
        for (int round = 0; round < 50; round++) {
                int go[2];
                pid_t kids[3];
                char wal[4200];
                unlink(path);
                snprintf(wal, sizeof(wal), "%s-wal", path);
                unlink(wal);
                snprintf(wal, sizeof(wal), "%s-shm", path);
                unlink(wal);
                ck_assert_int_eq(pipe(go), 0);
                for (int k = 0; k < 3; k++) {
                        kids[k] = fork();
                        ck_assert_int_ge(kids[k], 0);
                        if (kids[k] == 0) {
                                char c, errstr[512];
                                sb_target_t *t = NULL;
                                close(go[1]);
                                (void)!read(go[0], &c, 1); /* EOF: go */
                                sb_err_t err = sb_target_sqlite_open(path, &t, errstr, sizeof(errstr));
                                if (err)
                                        fprintf(stderr, "round %d: %s\n", round, errstr);
                                else
                                        t->ops->destroy(t);
                                _exit(err ? 1 : 0);
                        }
                }
                close(go[0]);
                close(go[1]);
                for (int k = 0; k < 3; k++) {
                        int status = 0;
                        ck_assert_int_eq(waitpid(kids[k], &status, 0), kids[k]);
                        ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0,
                                      "round %d: an open of the new file failed", round);
                }
        }
        unlink(path);
}
END_TEST

int main(void) {
        Suite *s = suite_create("target_sqlite");
        TCase *tc = tcase_create("target_sqlite");
        tcase_add_test(tc, test_table_name_through_the_interface);
        tcase_add_test(tc, test_added_columns_take_the_default_in_old_rows);
        tcase_add_test(tc, test_has_receipt_sees_committed_and_own_receipts_only);
        tcase_add_test(tc, test_history_appends_every_event_once);
        tcase_add_test(tc, test_a_changed_key_is_refused_with_both_keys_named);
        tcase_add_test(tc, test_instances_open_one_new_file_together);
        suite_add_tcase(s, tc);
        return test_run_suite(s);
}

/*
 * Integration: the subscriber's transforms on a real broker and registry.
 * civil.resident published by the producer reaches the subscriber's table
 * filtered (district prefix), masked, hashed (HMAC-SHA256 with the key
 * file, checked here with GnuTLS), renamed, dropped and with a constant
 * column; a row that an update moves out of the filter leaves the table;
 * sharebus_columns says each column's policy and source field; on SQLite
 * and on the suite's PostgreSQL (a loop test, _i = 0 and 1).  A step the
 * registry's latest schema does not allow stops the start (exit 2, naming
 * the field and the config line); schemas the policy cannot take (a
 * personal key, no hash key) dead-letter every event with class transform.
 */
#include <gnutls/crypto.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "pgserver.h"
#include "pgtable.h"

static h_env_t env;    /* the suite's broker and registry, set up by main */
static pgserver_t *pg; /* the suite's PostgreSQL, set up by main */

/* Where the loop test's subscriber writes: a SQLite file, or a database
 * of the suite's PostgreSQL. */
typedef struct {
        char db[600];   /* SQLite: the file */
        PGconn *conn;   /* PostgreSQL: a connection of the test's */
        char conf[800]; /* the subscriber's config lines naming it */
} target_t;

static void target_open(target_t *t, int on_pg, const char *name) {
        memset(t, 0, sizeof(*t));
        char file[64];
        snprintf(file, sizeof(file), "%s.db", name);
        snprintf(t->db, sizeof(t->db), "%s", h_path(&env, file));
        if (!on_pg)
                return;
        char err[512] = "", conninfo[512];
        ck_assert_msg(pgserver_create_db(pg, name, err, sizeof(err)) == SB_OK, "%s", err);
        pgserver_db_conninfo(pg, name, conninfo, sizeof(conninfo));
        snprintf(t->conf, sizeof(t->conf), "target = \"postgresql\";\npostgresql_conninfo = \"%s\";\n",
                 conninfo);
        t->conn = PQconnectdb(conninfo);
        ck_assert_msg(PQstatus(t->conn) == CONNECTION_OK, "%s", PQerrorMessage(t->conn));
}

/* The integer one query gives. */
static long long target_num(const target_t *t, const char *sql) {
        return t->conn ? pgtable_num(t->conn, sql) : h_sqlite_int(t->db, sql);
}

#define HASH_KEY "transforms-integration-key-0001"

static void hmac_hex(const char *text, char out[65]) {
        unsigned char d[32];
        ck_assert_int_eq(
                gnutls_hmac_fast(GNUTLS_MAC_SHA256, HASH_KEY, strlen(HASH_KEY), text, strlen(text), d), 0);
        for (int i = 0; i < 32; i++)
                snprintf(out + 2 * i, 3, "%02x", d[i]);
}

/* Appends to the change lines at `path` an update of the last row of a key
 * in district 1101.. that moves it to 330106; returns that key (static). */
static const char *move_one_out(const char *path) {
        static char moved[64];
        json_t *state = h_expected_state(path, "id_number");
        const char *id;
        json_t *row, *pick = NULL;
        json_object_foreach(state, id, row) {
                if (strncmp(json_string_value(json_object_get(row, "district_code")), "1101", 4) == 0) {
                        snprintf(moved, sizeof(moved), "%s", id);
                        pick = row;
                        break;
                }
        }
        ck_assert_ptr_nonnull(pick);
        json_t *after = json_deep_copy(pick);
        json_object_set_new(after, "district_code", json_string("330106"));
        json_t *ev = json_pack("{s:s, s:{s:s}, s:O, s:o, s:I}", "op", "u", "key", "id_number", moved,
                               "before", pick, "after", after, "ts_ms", (json_int_t)1900000000000);
        char *line = json_dumps(ev, JSON_COMPACT);
        FILE *f = fopen(path, "a");
        ck_assert_ptr_nonnull(f);
        fprintf(f, "%s\n", line);
        fclose(f);
        free(line);
        json_decref(ev);
        json_decref(state);
        return moved;
}

static const char *const datasets_conf =
        "hash_key_file = \"%s\";\n"
        "datasets = ( { topic = \"tfm.resident\"; table = \"resident\"; clear = [\"name\"];\n"
        "  steps = ( { filter = \"district_code\"; prefix = \"1101\"; },\n"
        "            { mask = \"phone\"; keep_first = 3; keep_last = 4; },\n"
        "            { hash = \"id_number\"; },\n"
        "            { rename = \"name\"; to = \"full_name\"; },\n"
        "            { drop = \"married\"; },\n"
        "            { constant = \"source_department\"; value = \"civil\"; } ); } );";

static char *masked_like(const char *s, int first, int last) {
        size_t n = strlen(s);
        char *m = strdup(s);
        for (size_t i = (size_t)first; i + (size_t)last < n; i++)
                m[i] = '*';
        return m;
}

START_TEST(transforms_shape_the_rows) {
        char lines[600], log[600], extra[2048], name[16], moved[64];
        target_t t;
        snprintf(name, sizeof(name), "%s", _i ? "tfmpg" : "tfm");
        target_open(&t, _i, name);
        snprintf(lines, sizeof(lines), "%s", h_path(&env, "tfm-resident.jsonl"));
        if (_i == 0) {
                h_copy_dataset(&env, "civil.resident", "tfm.resident");
                ck_assert_int_eq(h_create_topic(&env, "tfm.resident", 2), 0);
                h_write_sample(&env, "civil.resident", "tfm-resident.jsonl", 300, 80, 7, lines,
                               sizeof(lines));
                snprintf(moved, sizeof(moved), "%s", move_one_out(lines));
                h_write_file(&env, "tfm-moved.txt", "%s", moved);
                snprintf(log, sizeof(log), "%s", h_path(&env, "producer-tfm.log"));
                ck_assert_int_eq(h_run_producer(&env, "tfm", "resident", NULL, lines, NULL, log), 0);
        } else { /* the same records, published by the first run */
                FILE *f = fopen(h_path(&env, "tfm-moved.txt"), "r");
                ck_assert_ptr_nonnull(f);
                ck_assert_ptr_nonnull(fgets(moved, sizeof(moved), f));
                fclose(f);
        }
        char dlq[32];
        snprintf(dlq, sizeof(dlq), "dlq.%s", name);
        ck_assert_int_eq(h_create_topic(&env, dlq, 1), 0);

        snprintf(log, sizeof(log), "%s", h_path(&env, _i ? "subscriber-tfmpg.log" : "subscriber-tfm.log"));
        snprintf(extra, sizeof(extra), datasets_conf, h_write_file(&env, "tfm.key", HASH_KEY "\n"));
        /* personal_policy is the default, mask: gender, birth_date and
         * address, personal and decided by no step, are masked whole. */
        strcat(extra, "\npersonal_policy = \"mask\";\nidle_exit_ms = 3000;\n");
        strcat(extra, t.conf);
        pid_t pid = h_start_subscriber(&env, name, "tfm.resident", NULL, t.db, NULL, extra, NULL, log);
        ck_assert_int_eq(h_wait(pid, 120000), 0);

        json_t *state = h_expected_state(lines, "id_number");
        const char *id;
        json_t *row;
        int in_filter = 0;
        json_object_foreach(state, id, row) {
                if (strncmp(json_string_value(json_object_get(row, "district_code")), "1101", 4) != 0)
                        continue;
                in_filter++;
                char hashed[65], sql[1024];
                hmac_hex(id, hashed);
                snprintf(sql, sizeof(sql),
                         "SELECT count(*) FROM resident WHERE id_number = '%s' AND full_name = '%s' "
                         "AND source_department = 'civil' AND district_code = '%s'",
                         hashed, json_string_value(json_object_get(row, "name")),
                         json_string_value(json_object_get(row, "district_code")));
                ck_assert_msg(target_num(&t, sql) == 1, "%s", sql);
                const char *phone = json_string_value(json_object_get(row, "phone"));
                char *want = phone ? masked_like(phone, 3, 4) : NULL;
                snprintf(sql, sizeof(sql), "SELECT count(*) FROM resident WHERE id_number = '%s' AND %s%s%s",
                         hashed, want ? "phone = '" : "phone IS NULL", want ? want : "", want ? "'" : "");
                ck_assert_msg(target_num(&t, sql) == 1, "%s", sql);
                free(want);
                want = masked_like(json_string_value(json_object_get(row, "address")), 0, 0);
                snprintf(sql, sizeof(sql),
                         "SELECT count(*) FROM resident WHERE id_number = '%s' AND address = '%s' "
                         "AND birth_date = '**********' AND gender NOT IN ('MALE', 'FEMALE')",
                         hashed, want);
                ck_assert_msg(target_num(&t, sql) == 1, "%s", sql);
                free(want);
        }
        ck_assert_int_gt(in_filter, 3);
        ck_assert_int_eq(target_num(&t, "SELECT count(*) FROM resident"), in_filter);
        char moved_hash[65], sql[512];
        hmac_hex(moved, moved_hash);
        snprintf(sql, sizeof(sql), "SELECT count(*) FROM resident WHERE id_number = '%s'", moved_hash);
        ck_assert_int_eq(target_num(&t, sql), 0); /* moved out of the filter: removed */
        ck_assert_int_eq(
                target_num(&t, _i ? "SELECT count(*) FROM information_schema.columns WHERE "
                                    "table_name = 'resident' AND column_name = 'married'"
                                  : "SELECT count(*) FROM pragma_table_info('resident') WHERE name = "
                                    "'married'"),
                0);
        json_decref(state);

        /* Each column's policy and source field, for the subscriber's team. */
        static const char *const policies[][3] = {
                {"id_number", "hashed", "id_number"},
                {"full_name", "clear", "name"},
                {"phone", "masked", "phone"},
                {"address", "masked", "address"},
                {"birth_date", "masked", "birth_date"},
                {"district_code", "clear", "district_code"},
                {"source_department", "constant", NULL},
        };
        for (size_t i = 0; i < sizeof(policies) / sizeof(*policies); i++) {
                snprintf(sql, sizeof(sql),
                         "SELECT count(*) FROM sharebus_columns WHERE table_name = 'resident' AND "
                         "column_name = '%s' "
                         "AND policy = '%s' AND source_field %s%s%s",
                         policies[i][0], policies[i][1], policies[i][2] ? "= '" : "IS NULL",
                         policies[i][2] ? policies[i][2] : "", policies[i][2] ? "'" : "");
                ck_assert_msg(target_num(&t, sql) == 1, "%s", sql);
        }
        /* Every event got one receipt, or was filtered out (counted). */
        ck_assert_int_gt(target_num(&t, "SELECT count(*) FROM sharebus_receipts"), in_filter);
        ck_assert_msg(h_file_contains(log, "filtered out by the transforms"), "%s", log);
        ck_assert_int_eq(h_topic_count(&env, dlq, 1), 0);
        if (t.conn)
                PQfinish(t.conn);
}
END_TEST

/* The schemas are in the registry (the test above published them): a step
 * naming a field they lack stops the start. */
START_TEST(transforms_checked_against_the_registry_at_start) {
        char db[600], log[600];
        h_copy_dataset(&env, "civil.resident", "tfc.resident");
        ck_assert_int_eq(h_create_topic(&env, "tfc.resident", 1), 0);
        char lines[600];
        h_write_sample(&env, "civil.resident", "tfc-resident.jsonl", 5, 5, 3, lines, sizeof(lines));
        snprintf(log, sizeof(log), "%s", h_path(&env, "producer-tfc.log"));
        ck_assert_int_eq(h_run_producer(&env, "tfc", "resident", NULL, lines, NULL, log), 0);
        snprintf(db, sizeof(db), "%s", h_path(&env, "tfc.db"));
        snprintf(log, sizeof(log), "%s", h_path(&env, "subscriber-tfc.log"));
        pid_t pid = h_start_subscriber(&env, "tfc", "tfc.resident", NULL, db, NULL,
                                       "datasets = ( { topic = \"tfc.resident\";\n"
                                       "steps = ( { mask = \"fone\"; } ); } );",
                                       NULL, log);
        ck_assert_int_eq(h_wait(pid, 60000), 2);
        ck_assert_msg(h_file_contains(log, "subscriber-tfc.conf:7") &&
                              h_file_contains(log, "no field 'fone'") &&
                              h_file_contains(log, "latest schemas of tfc.resident"),
                      "see %s", log);
}
END_TEST

/* Schemas that arrive after the start and that the policy cannot take: a
 * personal key with no hash key.  Every event is a dead letter of class
 * transform, none is lost, none applied. */
START_TEST(transform_errors_dead_letter) {
        char db[600], log[600], lines[600];
        h_copy_dataset(&env, "civil.resident", "tfd.resident");
        ck_assert_int_eq(h_create_topic(&env, "tfd.resident", 1), 0);
        ck_assert_int_eq(h_create_topic(&env, "dlq.tfd", 1), 0);
        snprintf(db, sizeof(db), "%s", h_path(&env, "tfd.db"));
        snprintf(log, sizeof(log), "%s", h_path(&env, "subscriber-tfd.log"));
        pid_t pid = h_start_subscriber(&env, "tfd", "tfd.resident", NULL, db, NULL,
                                       "personal_policy = \"mask\";\nidle_exit_ms = 4000;", NULL, log);
        int deletes =
                h_write_sample(&env, "civil.resident", "tfd-resident.jsonl", 40, 20, 4, lines, sizeof(lines));
        char plog[600];
        snprintf(plog, sizeof(plog), "%s", h_path(&env, "producer-tfd.log"));
        ck_assert_int_eq(h_run_producer(&env, "tfd", "resident", NULL, lines, NULL, plog), 0);
        ck_assert_int_eq(h_wait(pid, 120000), 0);
        ck_assert_msg(h_file_contains(log, "not checked at start"), "see %s", log);
        char *classes = h_read_headers(&env, "dlq.tfd", "sharebus.error.class", 40);
        int n = 0;
        for (const char *p = classes; (p = strstr(p, "transform\n")); p++)
                n++;
        ck_assert_int_eq(n, 40);
        free(classes);
        ck_assert_int_eq(h_topic_count(&env, "tfd.resident", 1), 40 + deletes);
        ck_assert_int_eq(h_sqlite_int(db, "SELECT count(*) FROM sharebus_receipts"), 0);
        char *errors = h_read_headers(&env, "dlq.tfd", "sharebus.error", 1);
        ck_assert_msg(strstr(errors, "hash_key_file") && strstr(errors, "id_number"), "%s", errors);
        free(errors);
}
END_TEST

int main(void) {
        char err[1024] = "";
        if (pgserver_start(&pg, err, sizeof(err)) != SB_OK) {
                fprintf(stderr, "test_subscriber_transforms: %s\n", err);
                return 1;
        }
        if (h_env_start(&env) != 0) {
                pgserver_stop_destroy(pg);
                return 1;
        }
        Suite *s = suite_create("subscriber_transforms");
        TCase *tc = tcase_create("transforms");
        tcase_set_timeout(tc, 300);
        tcase_add_loop_test(tc, transforms_shape_the_rows, 0, 2);
        tcase_add_test(tc, transforms_checked_against_the_registry_at_start);
        tcase_add_test(tc, transform_errors_dead_letter);
        suite_add_tcase(s, tc);
        int failed = h_run_suite(s);
        h_env_stop(&env);
        pgserver_stop_destroy(pg);
        return failed ? 1 : 0;
}

/*
 * Integration: the datasets' rules (sb_rules.h) as the registry holds them,
 * enforced at both ends on a real broker and a real sharebus-registry.  The
 * producer names the lines that break a rule and publishes the others; a
 * record that bypassed the producer and breaks a rule is dead-lettered by
 * the subscriber with the rule as the reason; the subscriber's database
 * says which of its columns hold personal data.
 */
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "dataset.h"
#include "sb_clock.h"
#include "sb_envelope.h"
#include "sb_uuid.h"
#include "sb_registry_client.h"
#include "sb_wire.h"

static h_env_t env; /* the suite's broker and registry, set up by main */

/* Runs a subscriber of `topics` into `db` until it has been idle for 4 s;
 * returns its exit code. */
static int run_subscriber(const char *name, const char *topics, const char *db) {
        char file[256], log[700];
        snprintf(file, sizeof(file), "subscriber-%s.log", name);
        snprintf(log, sizeof(log), "%s", h_path(&env, file));
        return h_wait(
                h_start_subscriber(&env, name, topics, NULL, db, "debug", "idle_exit_ms = 4000;", NULL, log),
                60000);
}

/* Runs one text-valued SQL query on db_path; "" when there is no row
 * (caller frees). */
static char *sqlite_text(const char *db_path, const char *sql) {
        sqlite3 *db = NULL;
        sqlite3_stmt *st = NULL;
        char *out = NULL;
        ck_assert_int_eq(sqlite3_open_v2(db_path, &db, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
        ck_assert_msg(sqlite3_prepare_v2(db, sql, -1, &st, NULL) == SQLITE_OK, "%s: %s", sql,
                      sqlite3_errmsg(db));
        if (sqlite3_step(st) == SQLITE_ROW && sqlite3_column_text(st, 0))
                out = strdup((const char *)sqlite3_column_text(st, 0));
        sqlite3_finalize(st);
        sqlite3_close(db);
        return out ? out : strdup("");
}

/* Appends `s` to the NUL-terminated text in buf. */
static void append(char *buf, size_t size, const char *s) {
        size_t len = strlen(buf);
        ck_assert_uint_lt(len + strlen(s), size);
        snprintf(buf + len, size - len, "%s", s);
}

/* ---- the producer ---- */

static const char license_row[] = "\"name\":\"Fuzhou Co.\",\"registered_capital\":%s,\"business_scope\":null,"
                                  "\"status\":\"ACTIVE\",\"established_on\":\"1996-02-29\",\"address\":null,"
                                  "\"updated_at\":\"2025-01-01T00:00:00Z\"";

/* One create of a business licence with the given uscc, representative and
 * capital, as a JSON line (static buffer). */
static const char *license_line(const char *uscc, const char *representative, const char *capital) {
        static char line[1024];
        char row[600];
        snprintf(row, sizeof(row), license_row, capital);
        snprintf(line, sizeof(line),
                 "{\"op\":\"c\",\"key\":{\"uscc\":\"%s\"},\"after\":{\"uscc\":\"%s\","
                 "\"legal_representative\":\"%s\",%s}}\n",
                 uscc, uscc, representative, row);
        return line;
}

START_TEST(producer_names_lines_breaking_rules_and_publishes_the_others) {
        char lines[600], log[600], db[600], text[8192] = "";
        h_copy_dataset(&env, "market.business_license", "rules.license");
        ck_assert_int_eq(h_create_topic(&env, "rules.license", 1), 0);
        append(text, sizeof(text), license_line("91350100M000100Y43", "Lin", "1234.5"));
        append(text, sizeof(text), license_line("91350100M000100Y44", "Lin", "1234.5")); /* bad check char */
        append(text, sizeof(text), license_line("91110000600037341L", "Lin", "-5")); /* negative capital */
        append(text, sizeof(text), license_line("91110000600037341L", "", "10"));    /* no representative */
        append(text, sizeof(text),
               license_line("9144030071526726XG", "Chen", "0")); /* capital 0 is allowed */
        append(text, sizeof(text),
               license_line("91350100M00010OY43", "Lin", "1234.5")); /* 'O' is not in the alphabet */
        snprintf(lines, sizeof(lines), "%s", h_write_file(&env, "rules.jsonl", "%s", text));
        snprintf(log, sizeof(log), "%s", h_path(&env, "producer-rules.log"));
        ck_assert_int_eq(h_run_producer(&env, "rules", "license", NULL, lines, NULL, log), 1);
        ck_assert(h_file_contains(
                log, "rules.jsonl:2: not published: key.uscc: check character is wrong (cn_uscc)"));
        ck_assert(h_file_contains(
                log, "rules.jsonl:3: not published: after.registered_capital: -5 is below the minimum 0"));
        ck_assert(h_file_contains(
                log, "rules.jsonl:4: not published: after.legal_representative: required, got an "
                     "empty string"));
        ck_assert(h_file_contains(
                log, "rules.jsonl:6: not published: key.uscc: '91350100M00010OY43' does not "
                     "match the pattern ^[0-9A-HJ-NPQRTUWXY]{2}[0-9]{6}[0-9A-HJ-NPQRTUWXY]{10}$"));
        ck_assert(h_file_contains(
                log, "6 records read: 2 events published to rules.license (+0 tombstones), 4 rejected to "
                     "rejects.rules"));
        /* Kept in the rejects topic, each naming its field and rule. */
        char *fields = h_read_headers(&env, "rejects.rules", "sharebus.field", 4);
        char *rules = h_read_headers(&env, "rejects.rules", "sharebus.rule", 4);
        ck_assert_str_eq(fields,
                         "key.uscc\nafter.registered_capital\nafter.legal_representative\nkey.uscc\n");
        ck_assert_str_eq(rules, "cn_uscc\nminimum\nrequired\npattern\n");
        free(fields);
        free(rules);

        snprintf(db, sizeof(db), "%s", h_path(&env, "rules-license.db"));
        ck_assert_int_eq(run_subscriber("rules-license", "rules.license", db), 0);
        ck_assert_int_eq(h_sqlite_int(db, "SELECT count(*) FROM rules_license"), 2);
        ck_assert_int_eq(h_sqlite_int(db, "SELECT count(*) FROM rules_license WHERE uscc IN "
                                          "('91350100M000100Y43', '9144030071526726XG')"),
                         2);
}
END_TEST

static const char resident_row[] =
        "\"name\":\"%s\",\"gender\":\"FEMALE\",\"birth_date\":\"1949-12-31\",\"phone\":%s,"
        "\"address\":\"Room "
        "1\",\"district_code\":\"%s\",\"married\":null,\"updated_at\":\"2025-01-01T00:00:00Z\"";

static const char *resident_line(const char *id, const char *name, const char *phone, const char *district) {
        static char line[1024];
        char row[600];
        snprintf(row, sizeof(row), resident_row, name, phone, district);
        snprintf(line, sizeof(line),
                 "{\"op\":\"c\",\"key\":{\"id_number\":\"%s\"},\"after\":{\"id_number\":\"%s\",%s}}\n", id,
                 id, row);
        return line;
}

START_TEST(producer_refuses_resident_personal_fields_without_showing_them) {
        char lines[600], log[600], text[8192] = "";
        h_copy_dataset(&env, "civil.resident", "rules.resident");
        ck_assert_int_eq(h_create_topic(&env, "rules.resident", 1), 0);
        append(text, sizeof(text),
               resident_line("11010519491231002X", "Wang Wei", "\"13800000000\"", "110105"));
        append(text, sizeof(text),
               resident_line("110101199003074478", "Li Min", "null", "110101")); /* check char */
        append(text, sizeof(text),
               resident_line("110101199003074477", "Li Min", "\"2385550123\"", "110101"));     /* phone */
        append(text, sizeof(text), resident_line("110101199003074477", "", "null", "110101")); /* name */
        append(text, sizeof(text),
               resident_line("110101199003074477", "Li Min", "null", "11010")); /* district */
        append(text, sizeof(text),
               resident_line("110101199003074477", "Li Min", "{\"string\":\"13912345678\"}", "110101"));
        snprintf(lines, sizeof(lines), "%s", h_write_file(&env, "resident.jsonl", "%s", text));
        snprintf(log, sizeof(log), "%s", h_path(&env, "producer-resident.log"));
        ck_assert_int_eq(h_run_producer(&env, "rules", "resident", NULL, lines, NULL, log), 1);
        ck_assert(h_file_contains(
                log,
                "resident.jsonl:2: not published: key.id_number: check character is wrong (cn_resident_id)"));
        ck_assert(h_file_contains(log,
                                  "resident.jsonl:3: not published: after.phone: the value (personal) does "
                                  "not match the pattern ^1[3-9][0-9]{9}$"));
        ck_assert(h_file_contains(
                log, "resident.jsonl:4: not published: after.name: required, got an empty string"));
        ck_assert(h_file_contains(
                log,
                "resident.jsonl:5: not published: after.district_code: '11010' does not match the pattern "
                "^[0-9]{6}$"));
        /* Personal values never reach the log. */
        ck_assert(!h_file_contains(log, "2385550123"));
        ck_assert(!h_file_contains(log, "110101199003074478"));
        ck_assert(h_file_contains(log, "2 events published to rules.resident"));
}
END_TEST

/* ---- the subscriber ---- */

START_TEST(subscriber_dead_letters_records_breaking_rules) {
        char dir[700], errstr[512], db[600];
        h_copy_dataset(&env, "market.business_license", "rawrules.license");
        ck_assert_int_eq(h_create_topic(&env, "rawrules.license", 1), 0);
        ck_assert_int_eq(h_create_topic(&env, "dlq.rawrules", 1), 0);
        snprintf(dir, sizeof(dir), "%s/schemas", env.dir);
        sb_dataset_t *ds = NULL;
        ck_assert_msg(sb_dataset_load(dir, "rawrules.license", &ds, errstr, sizeof(errstr)) == SB_OK, "%s",
                      errstr);
        sb_registry_client_t *rc = NULL;
        ck_assert_int_eq(sb_registry_client_new(env.registry_url, &rc, errstr, sizeof(errstr)), SB_OK);
        ck_assert_msg(rc != NULL, "%s", errstr);
        int32_t key_id = 0, value_id = 0;
        ck_assert_msg(sb_registry_register(rc, "rawrules.license-key",
                                           sb_schema_json(sb_dataset_key_schema(ds)), &key_id, errstr,
                                           sizeof(errstr)) == SB_OK,
                      "%s", errstr);
        ck_assert_msg(sb_registry_register(rc, "rawrules.license-value",
                                           sb_schema_json(sb_dataset_value_schema(ds)), &value_id, errstr,
                                           sizeof(errstr)) == SB_OK,
                      "%s", errstr);

        sb_buf_t key, value;
        sb_buf_init(&key, 1 << 20);
        sb_buf_init(&value, 1 << 20);
        h_encode_license(ds, key_id, value_id, "rawrules", "91350100M000100Y43", "Raw Co.", 100.0, &key,
                         &value); /* offset 0: good */
        h_produce_raw(&env, "rawrules.license", key.data, key.len, value.data, value.len);
        h_encode_license(ds, key_id, value_id, "rawrules", "91350100M000100Y44", "Raw Co.", 100.0, &key,
                         &value); /* 1: bad uscc */
        h_produce_raw(&env, "rawrules.license", key.data, key.len, value.data, value.len);
        h_encode_license(ds, key_id, value_id, "rawrules", "91110000600037341L", "Raw Co.", -3.0, &key,
                         &value); /* 2: negative capital */
        h_produce_raw(&env, "rawrules.license", key.data, key.len, value.data, value.len);
        h_encode_license(ds, key_id, value_id, "rawrules", "9144030071526726XG", "Raw Co.", 0.5, &key,
                         &value); /* 3: good */
        h_produce_raw(&env, "rawrules.license", key.data, key.len, value.data, value.len);
        sb_buf_free(&key);
        sb_buf_free(&value);
        sb_registry_client_destroy(rc);
        sb_dataset_destroy(ds);

        snprintf(db, sizeof(db), "%s", h_path(&env, "rawrules.db"));
        ck_assert_int_eq(run_subscriber("rawrules", "rawrules.license", db), 0);
        char *reasons = h_read_headers(&env, "dlq.rawrules", "sharebus.error", 2);
        ck_assert_msg(strstr(reasons, "after.uscc: check character is wrong (cn_uscc)\n"), "reasons: %s",
                      reasons);
        ck_assert_msg(strstr(reasons, "after.registered_capital: -3 is below the minimum 0\n"), "reasons: %s",
                      reasons);
        free(reasons);
        char *offsets = h_read_headers(&env, "dlq.rawrules", "sharebus.source.offset", 2);
        ck_assert_msg(strstr(offsets, "1\n") && strstr(offsets, "2\n"), "offsets: %s", offsets);
        free(offsets);
        /* The good records around them are applied, and the stream moved on. */
        ck_assert_int_eq(h_sqlite_int(db, "SELECT count(*) FROM rawrules_license"), 2);
        ck_assert_int_eq(h_sqlite_int(db, "SELECT count(*) FROM rawrules_license WHERE uscc IN "
                                          "('91350100M000100Y43', '9144030071526726XG')"),
                         2);
        ck_assert_int_eq(
                h_sqlite_int(db, "SELECT next_offset FROM sharebus_offsets WHERE topic = 'rawrules.license'"),
                4);
        ck_assert(h_file_contains(h_path(&env, "subscriber-rawrules.log"), "2 dead letters"));
}
END_TEST

START_TEST(subscriber_records_which_columns_are_personal) {
        char lines[600], db[600];
        h_copy_dataset(&env, "civil.resident", "columns.resident");
        h_copy_dataset(&env, "market.business_license", "columns.license");
        ck_assert_int_eq(h_create_topic(&env, "columns.resident", 1), 0);
        ck_assert_int_eq(h_create_topic(&env, "columns.license", 1), 0);
        static const char *const topics[][2] = {{"civil.resident", "resident"},
                                                {"market.business_license", "license"}};
        for (int t = 0; t < 2; t++) {
                char name[64];
                snprintf(name, sizeof(name), "columns-%s.jsonl", topics[t][1]);
                h_write_sample(&env, topics[t][0], name, 50, 20, 5, lines, sizeof(lines));
                ck_assert_int_eq(h_run_producer(&env, "columns", topics[t][1], NULL, lines, NULL,
                                                h_path(&env, "producer-columns.log")),
                                 0);
        }
        snprintf(db, sizeof(db), "%s", h_path(&env, "columns.db"));
        ck_assert_int_eq(run_subscriber("columns", "columns.resident,columns.license", db), 0);
        char *personal =
                sqlite_text(db, "SELECT group_concat(column_name, ',') FROM (SELECT column_name FROM "
                                "sharebus_columns WHERE table_name = 'columns_resident' AND "
                                "classification = 'personal' ORDER BY column_name)");
        ck_assert_str_eq(personal, "address,birth_date,gender,id_number,name,phone");
        free(personal);
        personal = sqlite_text(db, "SELECT group_concat(table_name || '.' || column_name, ',') FROM "
                                   "sharebus_columns WHERE table_name = 'columns_license' AND "
                                   "classification = 'personal'");
        ck_assert_str_eq(personal, "columns_license.legal_representative");
        free(personal);
        /* Every column of both tables is listed, with a classification. */
        ck_assert_int_eq(h_sqlite_int(db, "SELECT count(*) FROM sharebus_columns"), 18);
        char *c = sqlite_text(db, "SELECT classification FROM sharebus_columns WHERE table_name = "
                                  "'columns_resident' AND column_name = 'married'");
        ck_assert_str_eq(c, "sensitive");
        free(c);
        c = sqlite_text(db, "SELECT classification FROM sharebus_columns WHERE table_name = "
                            "'columns_license' AND column_name = 'updated_at'");
        ck_assert_str_eq(c, "internal");
        free(c);
}
END_TEST

int main(void) {
        if (h_env_start(&env) != 0)
                return 1;
        Suite *s = suite_create("rules");
        TCase *tc = tcase_create("rules");
        tcase_set_timeout(tc, 300);
        tcase_add_test(tc, producer_names_lines_breaking_rules_and_publishes_the_others);
        tcase_add_test(tc, producer_refuses_resident_personal_fields_without_showing_them);
        tcase_add_test(tc, subscriber_dead_letters_records_breaking_rules);
        tcase_add_test(tc, subscriber_records_which_columns_are_personal);
        suite_add_tcase(s, tc);
        int failed = h_run_suite(s);
        h_env_stop(&env);
        return failed ? 1 : 0;
}

#include "pgtable.h"

#include <check.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "sb_datetime.h"

long long pgtable_num(PGconn *c, const char *sql) {
        PGresult *r = PQexec(c, sql);
        ck_assert_msg(PQresultStatus(r) == PGRES_TUPLES_OK && PQntuples(r) == 1, "%s: %s", sql,
                      PQerrorMessage(c));
        long long v = strtoll(PQgetvalue(r, 0, 0), NULL, 10);
        PQclear(r);
        return v;
}

/* A column's value as PostgreSQL's to_jsonb gives it against the value of
 * the change lines: the same JSON, or the same instant, or the same number. */
static int same_value(const json_t *want, const json_t *have) {
        int64_t a, b;
        if (json_equal(want, have))
                return 1;
        if (json_is_number(want) && json_is_number(have))
                return json_number_value(want) == json_number_value(have);
        return json_is_string(want) && json_is_string(have) &&
               sb_datetime_parse_timestamp_ms(json_string_value(want), json_string_length(want), &a) &&
               sb_datetime_parse_timestamp_ms(json_string_value(have), json_string_length(have), &b) &&
               a == b;
}

void pgtable_assert_equals(PGconn *c, const char *table, const char *key_field, const json_t *expected) {
        char sql[256];
        snprintf(sql, sizeof(sql), "SELECT to_jsonb(t)::text FROM \"%s\" t", table);
        PGresult *r = PQexec(c, sql);
        ck_assert_msg(PQresultStatus(r) == PGRES_TUPLES_OK, "%s: %s", sql, PQerrorMessage(c));
        ck_assert_msg((size_t)PQntuples(r) == json_object_size(expected),
                      "table %s has %d rows, expected %zu", table, PQntuples(r), json_object_size(expected));
        for (int i = 0; i < PQntuples(r); i++) {
                json_t *have = json_loads(PQgetvalue(r, i, 0), 0, NULL);
                ck_assert_ptr_nonnull(have);
                const char *key = json_string_value(json_object_get(have, key_field));
                const json_t *want = key ? json_object_get(expected, key) : NULL;
                ck_assert_msg(want != NULL, "%s: unexpected row %s", table, PQgetvalue(r, i, 0));
                ck_assert_int_eq(json_object_size(have), json_object_size(want));
                const char *col;
                json_t *v;
                json_object_foreach(have, col, v) {
                        const json_t *w = json_object_get(want, col);
                        ck_assert_msg(w && same_value(w, v), "%s[%s].%s: expected %s, got %s", table, key,
                                      col, w ? json_dumps(w, JSON_ENCODE_ANY) : "(absent)",
                                      json_dumps(v, JSON_ENCODE_ANY));
                }
                json_decref(have);
        }
        PQclear(r);
}

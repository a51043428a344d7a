/*
 * test_target_pg: the PostgreSQL target (consumers/targets/target_pg.h)
 * driven through its ops on a throwaway server (pgserver.h), one database
 * per test, checked with libpq: rows, native types, offsets, receipts,
 * rollback, schema evolution, history, a batch with a refused row, a
 * crash of the server and names over PostgreSQL's limit.
 */
#include <check.h>
#include <libpq-fe.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "pgserver.h"
#include "sb_schema.h"
#include "targets/target_pg.h"

static pgserver_t *pg; /* the suite's PostgreSQL, set up by main */

#define ERR err, sizeof(err)
#define OK(call) ck_assert_msg((call) == SB_OK, "%s: %s", #call, err)

static const char *key_json =
        "{\"type\":\"record\",\"name\":\"K\",\"fields\":[{\"name\":\"id\",\"type\":\"int\"}]}";
static const char *row_json =
        "{\"type\":\"record\",\"name\":\"R\",\"fields\":["
        "{\"name\":\"id\",\"type\":\"int\"},"
        "{\"name\":\"name\",\"type\":[\"null\",\"string\"],\"default\":null,"
        "\"sharebus.classification\":\"personal\",\"sharebus.policy\":\"mask\",\"sharebus.source\":\"nm\"},"
        "{\"name\":\"active\",\"type\":[\"null\",\"boolean\"],\"default\":null},"
        "{\"name\":\"born\",\"type\":[\"null\",{\"type\":\"int\",\"logicalType\":\"date\"}],\"default\":null}"
        ","
        "{\"name\":\"seen\",\"type\":[\"null\",{\"type\":\"long\",\"logicalType\":\"timestamp-millis\"}],"
        "\"default\":null},"
        "{\"name\":\"seen_us\",\"type\":[\"null\",{\"type\":\"long\",\"logicalType\":\"timestamp-micros\"}],"
        "\"default\":null},"
        "{\"name\":\"amount\",\"type\":[\"null\",{\"type\":\"bytes\",\"logicalType\":\"decimal\","
        "\"precision\":10,\"scale\":2}],\"default\":null},"
        "{\"name\":\"blob\",\"type\":[\"null\",\"bytes\"],\"default\":null},"
        "{\"name\":\"score\",\"type\":[\"null\",\"double\"],\"default\":null},"
        "{\"name\":\"tags\",\"type\":[\"null\",{\"type\":\"array\",\"items\":\"string\"}],\"default\":null}]"
        "}";

typedef struct {
        char conninfo[256];
        sb_target_t *t;
        PGconn *c;
        sb_schema_t *key, *row;
} fx_t;

static sb_schema_t *schema(const char *json) {
        char err[512] = "";
        sb_schema_t *s = NULL;
        OK(sb_schema_new(json, strlen(json), &s, ERR));
        return s;
}

static void fx_open(fx_t *f, const char *db) {
        char err[1024] = "";
        memset(f, 0, sizeof(*f));
        OK(pgserver_create_db(pg, db, ERR));
        pgserver_db_conninfo(pg, db, f->conninfo, sizeof(f->conninfo));
        OK(sb_target_pg_open(f->conninfo, &f->t, ERR));
        f->c = PQconnectdb(f->conninfo);
        ck_assert_msg(PQstatus(f->c) == CONNECTION_OK, "%s", PQerrorMessage(f->c));
        f->key = schema(key_json);
        f->row = schema(row_json);
}

static void fx_close(fx_t *f) {
        f->t->ops->destroy(f->t);
        PQfinish(f->c);
        sb_schema_destroy(f->key);
        sb_schema_destroy(f->row);
}

#define K(f) sb_schema_root((f)->key)
#define R(f) sb_schema_root((f)->row)

/* One value of a query, as text ("NULL" for NULL); static buffer. */
static const char *q(PGconn *c, const char *sql) {
        static char out[1024];
        PGresult *r = PQexec(c, sql);
        ck_assert_msg(PQresultStatus(r) == PGRES_TUPLES_OK && PQntuples(r) == 1, "%s: %s", sql,
                      PQerrorMessage(c));
        snprintf(out, sizeof(out), "%s", PQgetisnull(r, 0, 0) ? "NULL" : PQgetvalue(r, 0, 0));
        PQclear(r);
        return out;
}

static sb_err_t upsert(fx_t *f, const char *table, const char *row, char *err, size_t size) {
        json_t *v = json_loads(row, JSON_ALLOW_NUL, NULL);
        ck_assert_ptr_nonnull(v);
        sb_err_t e = f->t->ops->upsert(f->t, table, K(f), R(f), v, err, size);
        json_decref(v);
        return e;
}

START_TEST(rows_are_created_updated_and_deleted) {
        char err[1024] = "";
        fx_t f;
        fx_open(&f, "t_crud");
        OK(f.t->ops->begin(f.t, ERR));
        OK(f.t->ops->ensure_table(f.t, "people", K(&f), R(&f), ERR));
        OK(f.t->ops->record_columns(f.t, "people", R(&f), ERR));
        OK(upsert(&f, "people", "{\"id\":1,\"name\":\"Ann\"}", ERR));
        OK(upsert(&f, "people", "{\"id\":2,\"name\":\"Bob\"}", ERR));
        OK(upsert(&f, "people", "{\"id\":1,\"name\":\"Anna\"}", ERR)); /* the same key in one batch */
        OK(f.t->ops->commit(f.t, ERR));
        ck_assert_str_eq(q(f.c, "SELECT count(*) FROM people"), "2");
        ck_assert_str_eq(q(f.c, "SELECT name FROM people WHERE id = 1"), "Anna");
        OK(f.t->ops->begin(f.t, ERR));
        OK(upsert(&f, "people", "{\"id\":2,\"name\":\"Bobby\"}", ERR));
        json_t *k = json_pack("{si}", "id", 1);
        OK(f.t->ops->remove(f.t, "people", K(&f), R(&f), k, ERR));
        json_decref(k);
        OK(f.t->ops->commit(f.t, ERR));
        ck_assert_str_eq(q(f.c, "SELECT string_agg(id || '=' || name, ',') FROM people"), "2=Bobby");
        ck_assert_str_eq(q(f.c, "SELECT classification || '/' || policy || '/' || source_field FROM "
                                "sharebus_columns WHERE table_name = 'people' AND column_name = 'name'"),
                         "personal/mask/nm");
        ck_assert_str_eq(q(f.c, "SELECT policy || '/' || source_field FROM sharebus_columns WHERE "
                                "table_name = 'people' AND column_name = 'active'"),
                         "clear/active");
        fx_close(&f);
}
END_TEST

static void remove_id(fx_t *f, int id) {
        char err[1024] = "";
        json_t *k = json_pack("{si}", "id", id);
        OK(f->t->ops->remove(f->t, "people", K(f), R(f), k, ERR));
        json_decref(k);
}

/* Deletes are buffered with the upserts and sent first: within one batch,
 * every order of upserts and deletes of a key ends as applied one by one. */
START_TEST(deletes_and_upserts_of_one_key_in_a_batch_end_in_order) {
        char err[1024] = "";
        fx_t f;
        fx_open(&f, "t_order");
        OK(f.t->ops->begin(f.t, ERR));
        OK(f.t->ops->ensure_table(f.t, "people", K(&f), R(&f), ERR));
        for (int id = 1; id <= 5; id++) {
                char row[64];
                snprintf(row, sizeof(row), "{\"id\":%d,\"name\":\"old%d\",\"active\":true}", id, id);
                OK(upsert(&f, "people", row, ERR));
        }
        OK(f.t->ops->commit(f.t, ERR));
        OK(f.t->ops->begin(f.t, ERR));
        OK(upsert(&f, "people", "{\"id\":1,\"name\":\"new1\"}", ERR)); /* upsert, delete: gone */
        remove_id(&f, 1);
        remove_id(&f, 2); /* delete, upsert: the new row, none of the old values */
        OK(upsert(&f, "people", "{\"id\":2,\"name\":\"new2\"}", ERR));
        OK(upsert(&f, "people", "{\"id\":3,\"name\":\"new3\"}", ERR)); /* upsert, delete, upsert */
        remove_id(&f, 3);
        OK(upsert(&f, "people", "{\"id\":3,\"name\":\"newer3\"}", ERR));
        remove_id(&f, 4); /* delete, upsert, delete: gone */
        OK(upsert(&f, "people", "{\"id\":4,\"name\":\"new4\"}", ERR));
        remove_id(&f, 4);
        remove_id(&f, 9); /* a key that is not there */
        OK(upsert(&f, "people", "{\"id\":6,\"name\":\"new6\"}", ERR));
        OK(f.t->ops->commit(f.t, ERR));
        ck_assert_str_eq(q(f.c, "SELECT string_agg(id || '=' || name || '/' || coalesce(active::text, '-'), "
                                "',' ORDER BY id) FROM people"),
                         "2=new2/-,3=newer3/-,5=old5/true,6=new6/-");
        /* A rolled back batch leaves nothing buffered for the next. */
        OK(f.t->ops->begin(f.t, ERR));
        remove_id(&f, 5);
        f.t->ops->rollback(f.t);
        OK(f.t->ops->begin(f.t, ERR));
        OK(f.t->ops->commit(f.t, ERR));
        ck_assert_str_eq(q(f.c, "SELECT name FROM people WHERE id = 5"), "old5");
        fx_close(&f);
}
END_TEST

START_TEST(native_types_round_trip) {
        char err[1024] = "";
        fx_t f;
        fx_open(&f, "t_types");
        OK(f.t->ops->begin(f.t, ERR));
        OK(f.t->ops->ensure_table(f.t, "typed", K(&f), R(&f), ERR));
        /* amount: -12345 unscaled (0xCF 0xC7) is -123.45; blob: 00 ff 41. */
        OK(upsert(&f, "typed",
                  "{\"id\":1,\"name\":\"x\",\"active\":true,\"born\":\"1999-12-31\","
                  "\"seen\":\"2024-02-29T12:34:56.789Z\",\"seen_us\":1700000000123456,"
                  "\"amount\":\"\\u00cf\\u00c7\",\"blob\":\"\\u0000\\u00ffA\",\"score\":0.5,"
                  "\"tags\":[\"a\",\"b\"]}",
                  ERR));
        OK(upsert(&f, "typed", "{\"id\":2,\"born\":10957,\"seen\":0,\"amount\":\"\\u0001\"}", ERR));
        OK(f.t->ops->commit(f.t, ERR));
        ck_assert_str_eq(q(f.c, "SELECT string_agg(format_type(atttypid, atttypmod), ',' ORDER BY attnum) "
                                "FROM pg_attribute WHERE attrelid = 'typed'::regclass AND attnum > 0"),
                         "integer,text,boolean,date,timestamp with time zone,timestamp with time zone,"
                         "numeric(10,2),bytea,double precision,jsonb");
        ck_assert_str_eq(
                q(f.c, "SELECT concat_ws('|', active, born, seen AT TIME ZONE 'UTC', "
                       "seen_us AT TIME ZONE 'UTC', amount, encode(blob, 'hex'), score, tags->>1) "
                       "FROM typed WHERE id = 1"),
                "t|1999-12-31|2024-02-29 12:34:56.789|2023-11-14 22:13:20.123456|-123.45|00ff41|0.5|b");
        ck_assert_str_eq(q(f.c, "SELECT concat_ws('|', born, seen AT TIME ZONE 'UTC', amount, name IS NULL, "
                                "active IS NULL, blob IS NULL) FROM typed WHERE id = 2"),
                         "2000-01-01|1970-01-01 00:00:00|0.01|t|t|t");
        fx_close(&f);
}
END_TEST

START_TEST(offsets_are_stored_and_reloaded) {
        char err[1024] = "";
        fx_t f;
        int64_t next = 0;
        fx_open(&f, "t_offsets");
        OK(f.t->ops->load_offset(f.t, "g", "a.b", 0, &next, ERR));
        ck_assert_int_eq(next, -1);
        OK(f.t->ops->begin(f.t, ERR));
        OK(f.t->ops->store_offset(f.t, "g", "a.b", 0, 42, ERR));
        OK(f.t->ops->store_offset(f.t, "g", "a.b", 1, 7, ERR));
        OK(f.t->ops->commit(f.t, ERR));
        OK(f.t->ops->begin(f.t, ERR));
        OK(f.t->ops->store_offset(f.t, "g", "a.b", 0, 43, ERR));
        OK(f.t->ops->commit(f.t, ERR));
        f.t->ops->destroy(f.t); /* a new start reads what the last one stored */
        OK(sb_target_pg_open(f.conninfo, &f.t, ERR));
        OK(f.t->ops->load_offset(f.t, "g", "a.b", 0, &next, ERR));
        ck_assert_int_eq(next, 43);
        OK(f.t->ops->load_offset(f.t, "g", "a.b", 1, &next, ERR));
        ck_assert_int_eq(next, 7);
        OK(f.t->ops->load_offset(f.t, "other", "a.b", 1, &next, ERR));
        ck_assert_int_eq(next, -1);
        fx_close(&f);
}
END_TEST

START_TEST(receipts_are_seen_in_the_transaction_and_after) {
        char err[1024] = "";
        fx_t f;
        int found = -1;
        fx_open(&f, "t_receipts");
        OK(f.t->ops->begin(f.t, ERR));
        OK(f.t->ops->record_receipt(f.t, "a.b", 0, 5, "ev-1", "c", ERR));
        OK(f.t->ops->has_receipt(f.t, "a.b", 0, 5, "ev-1", &found, ERR));
        ck_assert_int_eq(found, 1);
        OK(f.t->ops->has_receipt(f.t, "a.b", 0, 6, "ev-2", &found, ERR));
        ck_assert_int_eq(found, 0);
        for (int i = 0; i < 1200; i++) { /* more than one batch of receipts */
                char id[32];
                snprintf(id, sizeof(id), "bulk-%d", i);
                OK(f.t->ops->record_receipt(f.t, "a.b", 1, i, id, "u", ERR));
        }
        OK(f.t->ops->commit(f.t, ERR));
        OK(f.t->ops->has_receipt(f.t, "a.b", 0, 5, "ev-1", &found, ERR));
        ck_assert_int_eq(found, 1);
        ck_assert_str_eq(q(f.c, "SELECT count(*) FROM sharebus_receipts"), "1201");
        ck_assert_str_eq(q(f.c, "SELECT concat_ws('|', topic, kafka_partition, kafka_offset, op) FROM "
                                "sharebus_receipts WHERE event_id = 'ev-1'"),
                         "a.b|0|5|c");
        fx_close(&f);
}
END_TEST

START_TEST(rollback_leaves_nothing) {
        char err[1024] = "";
        fx_t f;
        int64_t next = 0;
        fx_open(&f, "t_rollback");
        OK(f.t->ops->begin(f.t, ERR));
        OK(f.t->ops->ensure_table(f.t, "people", K(&f), R(&f), ERR));
        OK(f.t->ops->commit(f.t, ERR));
        OK(f.t->ops->begin(f.t, ERR));
        OK(upsert(&f, "people", "{\"id\":1,\"name\":\"Ann\"}", ERR));
        OK(f.t->ops->record_receipt(f.t, "a.b", 0, 5, "ev-1", "c", ERR));
        OK(f.t->ops->store_offset(f.t, "g", "a.b", 0, 6, ERR));
        f.t->ops->rollback(f.t);
        ck_assert_str_eq(q(f.c, "SELECT count(*) FROM people"), "0");
        ck_assert_str_eq(q(f.c, "SELECT count(*) FROM sharebus_receipts"), "0");
        OK(f.t->ops->load_offset(f.t, "g", "a.b", 0, &next, ERR));
        ck_assert_int_eq(next, -1);
        /* Nothing buffered survives into the next transaction either. */
        OK(f.t->ops->begin(f.t, ERR));
        OK(f.t->ops->commit(f.t, ERR));
        ck_assert_str_eq(q(f.c, "SELECT count(*) FROM people"), "0");
        fx_close(&f);
}
END_TEST

START_TEST(a_newer_row_schema_adds_a_column_with_its_default) {
        char err[1024] = "";
        fx_t f;
        fx_open(&f, "t_evolve");
        OK(f.t->ops->begin(f.t, ERR));
        OK(f.t->ops->ensure_table(f.t, "people", K(&f), R(&f), ERR));
        OK(upsert(&f, "people", "{\"id\":1,\"name\":\"Ann\"}", ERR));
        OK(f.t->ops->commit(f.t, ERR));
        sb_schema_t *v2 =
                schema("{\"type\":\"record\",\"name\":\"R\",\"fields\":[{\"name\":\"id\",\"type\":\"int\"},"
                       "{\"name\":\"name\",\"type\":[\"null\",\"string\"],\"default\":null},"
                       "{\"name\":\"level\",\"type\":\"int\",\"default\":7},"
                       "{\"name\":\"since\",\"type\":{\"type\":\"int\",\"logicalType\":\"date\"},"
                       "\"default\":0}]}");
        OK(f.t->ops->begin(f.t, ERR));
        OK(f.t->ops->ensure_table(f.t, "people", K(&f), sb_schema_root(v2), ERR));
        json_t *v = json_pack("{si,ss,si}", "id", 2, "name", "Bob", "level", 3);
        OK(f.t->ops->upsert(f.t, "people", K(&f), sb_schema_root(v2), v, ERR));
        json_decref(v);
        OK(f.t->ops->commit(f.t, ERR));
        ck_assert_str_eq(q(f.c, "SELECT level || '/' || since FROM people WHERE id = 1"), "7/1970-01-01");
        ck_assert_str_eq(q(f.c, "SELECT level FROM people WHERE id = 2"), "3");
        /* A changed key is refused and the transaction goes on. */
        sb_schema_t *k2 =
                schema("{\"type\":\"record\",\"name\":\"K\",\"fields\":[{\"name\":\"id\",\"type\":\"int\"},"
                       "{\"name\":\"name\",\"type\":\"string\"}]}");
        OK(f.t->ops->begin(f.t, ERR));
        ck_assert_int_eq(f.t->ops->ensure_table(f.t, "people", sb_schema_root(k2), R(&f), ERR),
                         SB_ERR_INVALID);
        ck_assert_ptr_nonnull(strstr(err, "primary key"));
        OK(upsert(&f, "people", "{\"id\":3,\"name\":\"Cy\"}", ERR));
        OK(f.t->ops->commit(f.t, ERR));
        ck_assert_str_eq(q(f.c, "SELECT count(*) FROM people"), "3");
        sb_schema_destroy(v2);
        sb_schema_destroy(k2);
        fx_close(&f);
}
END_TEST

static sb_err_t append(fx_t *f, const char *id, char op, int64_t seq, const char *row, char *err,
                       size_t size) {
        json_t *v = json_loads(row, JSON_ALLOW_NUL, NULL);
        sb_target_event_t ev = {op, 1700000000000 + seq, seq, id};
        sb_err_t e = f->t->ops->append(f->t, "people_history", R(f), v, &ev, err, size);
        json_decref(v);
        return e;
}

START_TEST(history_appends_each_event_once) {
        char err[1024] = "";
        fx_t f;
        fx_open(&f, "t_history");
        OK(f.t->ops->begin(f.t, ERR));
        OK(f.t->ops->ensure_history(f.t, "people_history", K(&f), R(&f), ERR));
        OK(append(&f, "e1", 'c', 1, "{\"id\":1,\"name\":\"Ann\"}", ERR));
        OK(append(&f, "e2", 'u', 2, "{\"id\":1,\"name\":\"Anna\"}", ERR));
        OK(append(&f, "e1", 'c', 1, "{\"id\":1,\"name\":\"again\"}", ERR)); /* same batch */
        OK(f.t->ops->commit(f.t, ERR));
        OK(f.t->ops->begin(f.t, ERR));
        OK(append(&f, "e2", 'u', 2, "{\"id\":1,\"name\":\"replayed\"}", ERR));
        OK(append(&f, "e3", 'd', 3, "{\"id\":1}", ERR));
        OK(f.t->ops->commit(f.t, ERR));
        ck_assert_str_eq(q(f.c,
                           "SELECT string_agg(sharebus_op || coalesce(name, '-'), ',' ORDER BY sharebus_seq) "
                           "FROM people_history"),
                         "cAnn,uAnna,d-");
        ck_assert_str_eq(q(f.c, "SELECT count(*) FROM pg_indexes WHERE indexname = 'people_history_key'"),
                         "1");
        fx_close(&f);
}
END_TEST

START_TEST(a_refused_row_of_a_batch_is_refused_alone_on_the_retry) {
        char err[1024] = "";
        fx_t f;
        fx_open(&f, "t_refused");
        OK(f.t->ops->begin(f.t, ERR));
        OK(f.t->ops->ensure_table(f.t, "people", K(&f), R(&f), ERR));
        OK(f.t->ops->commit(f.t, ERR));
        /* 10 ** 9 needs 12 digits, numeric(10,2) holds 10: 22003. */
        const char *rows[] = {"{\"id\":1}", "{\"id\":2}",
                              "{\"id\":3,\"score\":1,\"amount\":\"\\u0017Hv\\u00e8\\u0000\"}", "{\"id\":4}",
                              "{\"id\":5}"};
        OK(f.t->ops->begin(f.t, ERR));
        for (int i = 0; i < 5; i++)
                OK(upsert(&f, "people", rows[i], ERR));
        ck_assert_int_eq(f.t->ops->commit(f.t, ERR), SB_ERR_DB);
        ck_assert_msg(strstr(err, "row by row") && strstr(err, "22003"), "%s", err);
        f.t->ops->rollback(f.t);
        /* The subscriber's retry: the same rows, the bad one refused alone. */
        OK(f.t->ops->begin(f.t, ERR));
        for (int i = 0; i < 5; i++) {
                sb_err_t e = upsert(&f, "people", rows[i], ERR);
                ck_assert_msg(e == (i == 2 ? SB_ERR_INVALID : SB_OK), "row %d: %s", i, err);
        }
        OK(f.t->ops->record_receipt(f.t, "a.b", 0, 1, "ev-1", "c", ERR));
        OK(f.t->ops->commit(f.t, ERR));
        ck_assert_str_eq(q(f.c, "SELECT string_agg(id::text, ',' ORDER BY id) FROM people"), "1,2,4,5");
        /* Batched again after that commit: the row waits for the commit. */
        OK(f.t->ops->begin(f.t, ERR));
        OK(upsert(&f, "people", rows[2], ERR));
        ck_assert_int_eq(f.t->ops->commit(f.t, ERR), SB_ERR_DB);
        f.t->ops->rollback(f.t);
        /* A NOT NULL violation of a key is refused as well: 23502. */
        OK(f.t->ops->begin(f.t, ERR));
        ck_assert_int_eq(upsert(&f, "people", "{\"name\":\"nobody\"}", ERR), SB_ERR_INVALID);
        ck_assert_msg(strstr(err, "23502"), "%s", err);
        OK(upsert(&f, "people", "{\"id\":6}", ERR));
        OK(f.t->ops->commit(f.t, ERR));
        ck_assert_str_eq(q(f.c, "SELECT count(*) FROM people"), "5");
        fx_close(&f);
}
END_TEST

/* Batches of several hundred changes: their rows go to the server in
 * pipelined statements while more are added (prepared once at the usual
 * size) and are read back at the commit.  The result is still the changes
 * applied one by one, a refused row among them is still refused alone on
 * the retry, and statements prepared in a rolled back transaction are not
 * counted on after it. */
START_TEST(large_batches_end_as_applied_one_by_one) {
        char err[1024] = "";
        fx_t f;
        fx_open(&f, "t_large");
        OK(f.t->ops->begin(f.t, ERR));
        OK(f.t->ops->ensure_table(f.t, "people", K(&f), R(&f), ERR));
        OK(f.t->ops->commit(f.t, ERR));
        /* What one by one gives: want[id] the name, "" for no row. */
        static char want[401][16];
        memset(want, 0, sizeof(want));
        int receipts = 0;
        OK(f.t->ops->begin(f.t, ERR));
        for (int id = 1; id <= 400; id++) {
                char row[64];
                snprintf(row, sizeof(row), "{\"id\":%d,\"name\":\"a%d\"}", id, id);
                OK(upsert(&f, "people", row, ERR));
                snprintf(want[id], sizeof(want[id]), "a%d", id);
                if (id % 7 == 0) { /* deleted after its upsert */
                        remove_id(&f, id);
                        want[id][0] = 0;
                }
                if (id % 11 == 0) { /* and upserted again */
                        snprintf(row, sizeof(row), "{\"id\":%d,\"name\":\"b%d\"}", id, id);
                        OK(upsert(&f, "people", row, ERR));
                        snprintf(want[id], sizeof(want[id]), "b%d", id);
                }
                if (id > 3 && id % 13 == 0) { /* an earlier key deleted late */
                        remove_id(&f, id - 3);
                        want[id - 3][0] = 0;
                }
                char ev[32];
                snprintf(ev, sizeof(ev), "ev-%d", id);
                OK(f.t->ops->record_receipt(f.t, "a.b", 0, id, ev, "c", ERR));
                receipts++;
        }
        OK(f.t->ops->store_offset(f.t, "g", "a.b", 0, 401, ERR));
        OK(f.t->ops->commit(f.t, ERR));
        PGresult *all = PQexec(f.c, "SELECT id, name FROM people ORDER BY id");
        ck_assert_int_eq(PQresultStatus(all), PGRES_TUPLES_OK);
        int at = 0;
        for (int id = 1; id <= 400; id++) {
                if (!want[id][0])
                        continue;
                ck_assert_msg(at < PQntuples(all), "row %d missing", id);
                ck_assert_int_eq(atoi(PQgetvalue(all, at, 0)), id);
                ck_assert_str_eq(PQgetvalue(all, at, 1), want[id]);
                at++;
        }
        ck_assert_int_eq(PQntuples(all), at);
        PQclear(all);
        ck_assert_int_eq(atoi(q(f.c, "SELECT count(*) FROM sharebus_receipts")), receipts);
        ck_assert_str_eq(q(f.c, "SELECT next_offset FROM sharebus_offsets"), "401");

        /* 300 upserts, the 180th refused by the server (numeric overflow,
         * 22003): the commit fails, the retry goes row by row. */
        for (int pass = 0; pass < 2; pass++) {
                OK(f.t->ops->begin(f.t, ERR));
                for (int id = 1; id <= 300; id++) {
                        char row[96];
                        if (id == 180)
                                snprintf(row, sizeof(row),
                                         "{\"id\":%d,\"amount\":\"\\u0017Hv\\u00e8\\u0000\"}", id);
                        else
                                snprintf(row, sizeof(row), "{\"id\":%d,\"name\":\"c%d\"}", id, id);
                        sb_err_t e = upsert(&f, "people", row, ERR);
                        ck_assert_msg(e == (pass == 1 && id == 180 ? SB_ERR_INVALID : SB_OK),
                                      "pass %d id %d: %s", pass, id, err);
                }
                if (pass == 0) {
                        ck_assert_int_eq(f.t->ops->commit(f.t, ERR), SB_ERR_DB);
                        ck_assert_msg(strstr(err, "row by row") && strstr(err, "22003"), "%s", err);
                        f.t->ops->rollback(f.t);
                        ck_assert_str_eq(q(f.c, "SELECT count(*) FROM people WHERE name LIKE 'c%'"), "0");
                } else {
                        OK(f.t->ops->commit(f.t, ERR));
                }
        }
        ck_assert_str_eq(q(f.c, "SELECT count(*) FROM people WHERE name LIKE 'c%'"), "299");
        /* The refused change left the row as it was. */
        ck_assert_str_eq(q(f.c, "SELECT name FROM people WHERE id = 180"), "a180");

        /* Batched again, after the rollback and the row by row commit. */
        OK(f.t->ops->begin(f.t, ERR));
        for (int id = 1; id <= 300; id++) {
                char row[64];
                snprintf(row, sizeof(row), "{\"id\":%d,\"name\":\"d%d\"}", id, id);
                OK(upsert(&f, "people", row, ERR));
        }
        OK(f.t->ops->commit(f.t, ERR));
        ck_assert_str_eq(q(f.c, "SELECT count(*) FROM people WHERE name LIKE 'd%'"), "300");
        fx_close(&f);
}
END_TEST

START_TEST(a_crashed_server_is_reconnected_at_the_next_begin) {
        char err[1024] = "";
        fx_t f;
        int64_t next = 0;
        fx_open(&f, "t_crash");
        OK(f.t->ops->begin(f.t, ERR));
        OK(f.t->ops->ensure_table(f.t, "people", K(&f), R(&f), ERR));
        OK(upsert(&f, "people", "{\"id\":1}", ERR));
        OK(f.t->ops->store_offset(f.t, "g", "a.b", 0, 2, ERR));
        OK(f.t->ops->commit(f.t, ERR));
        OK(f.t->ops->begin(f.t, ERR));
        OK(upsert(&f, "people", "{\"id\":2}", ERR));
        OK(pgserver_crash(pg, ERR));
        ck_assert_int_eq(f.t->ops->commit(f.t, ERR), SB_ERR_DB);
        f.t->ops->rollback(f.t);
        ck_assert_int_eq(f.t->ops->begin(f.t, ERR), SB_ERR_DB); /* still down */
        ck_assert_int_eq(f.t->ops->load_offset(f.t, "g", "a.b", 0, &next, ERR), SB_ERR_DB);
        OK(pgserver_restart(pg, ERR));
        OK(f.t->ops->load_offset(f.t, "g", "a.b", 0, &next, ERR));
        ck_assert_int_eq(next, 2);
        OK(f.t->ops->begin(f.t, ERR));
        OK(upsert(&f, "people", "{\"id\":2}", ERR));
        OK(f.t->ops->commit(f.t, ERR));
        /* A connection lost in a transaction is not made again in it: the
         * rest of the batch must not commit on its own. */
        OK(f.t->ops->begin(f.t, ERR));
        OK(upsert(&f, "people", "{\"id\":3}", ERR));
        OK(pgserver_crash(pg, ERR));
        OK(pgserver_restart(pg, ERR));
        ck_assert_int_eq(f.t->ops->load_offset(f.t, "g", "a.b", 0, &next, ERR), SB_ERR_DB);
        ck_assert_int_eq(f.t->ops->commit(f.t, ERR), SB_ERR_DB);
        f.t->ops->rollback(f.t);
        OK(f.t->ops->begin(f.t, ERR));
        OK(f.t->ops->commit(f.t, ERR));
        PQreset(f.c);
        ck_assert_str_eq(q(f.c, "SELECT count(*) FROM people"), "2");
        fx_close(&f);
}
END_TEST

START_TEST(names_over_63_bytes_are_refused) {
        char err[1024] = "", table[256], topic[80];
        fx_t f;
        fx_open(&f, "t_names");
        memset(topic, 'a', 64);
        topic[64] = 0;
        ck_assert_int_eq(f.t->ops->table_name(f.t, topic, table, sizeof(table), ERR), SB_ERR_INVALID);
        ck_assert_ptr_nonnull(strstr(err, "63"));
        topic[63] = 0;
        OK(f.t->ops->table_name(f.t, topic, table, sizeof(table), ERR));
        OK(f.t->ops->table_name(f.t, "market.business-license", table, sizeof(table), ERR));
        ck_assert_str_eq(table, "market_business_license");
        char json[512];
        snprintf(json, sizeof(json),
                 "{\"type\":\"record\",\"name\":\"R\",\"fields\":[{\"name\":\"id\",\"type\":\"int\"},"
                 "{\"name\":\"%s\",\"type\":\"int\"}]}",
                 topic); /* 63 bytes: fits */
        sb_schema_t *ok = schema(json);
        memset(topic, 'b', 64);
        snprintf(json, sizeof(json),
                 "{\"type\":\"record\",\"name\":\"R\",\"fields\":[{\"name\":\"id\",\"type\":\"int\"},"
                 "{\"name\":\"%s\",\"type\":\"int\"}]}",
                 topic);
        sb_schema_t *long_col = schema(json);
        OK(f.t->ops->begin(f.t, ERR));
        OK(f.t->ops->ensure_table(f.t, "wide", K(&f), sb_schema_root(ok), ERR));
        ck_assert_int_eq(f.t->ops->ensure_table(f.t, "wide2", K(&f), sb_schema_root(long_col), ERR),
                         SB_ERR_INVALID);
        memset(table, 'c', 64);
        table[64] = 0;
        ck_assert_int_eq(f.t->ops->ensure_history(f.t, table, K(&f), R(&f), ERR), SB_ERR_INVALID);
        table[63] = 0; /* fits; its index name is made to fit */
        OK(f.t->ops->ensure_history(f.t, table, K(&f), R(&f), ERR));
        OK(f.t->ops->commit(f.t, ERR));
        sb_schema_destroy(ok);
        sb_schema_destroy(long_col);
        fx_close(&f);
}
END_TEST

int main(void) {
        char err[1024] = "";
        if (pgserver_start(&pg, ERR) != SB_OK) {
                fprintf(stderr, "test_target_pg: %s\n", err);
                return 1;
        }
        Suite *s = suite_create("target_pg");
        TCase *tc = tcase_create("target_pg");
        tcase_set_timeout(tc, 120);
        tcase_add_test(tc, rows_are_created_updated_and_deleted);
        tcase_add_test(tc, deletes_and_upserts_of_one_key_in_a_batch_end_in_order);
        tcase_add_test(tc, native_types_round_trip);
        tcase_add_test(tc, offsets_are_stored_and_reloaded);
        tcase_add_test(tc, receipts_are_seen_in_the_transaction_and_after);
        tcase_add_test(tc, rollback_leaves_nothing);
        tcase_add_test(tc, a_newer_row_schema_adds_a_column_with_its_default);
        tcase_add_test(tc, history_appends_each_event_once);
        tcase_add_test(tc, a_refused_row_of_a_batch_is_refused_alone_on_the_retry);
        tcase_add_test(tc, large_batches_end_as_applied_one_by_one);
        tcase_add_test(tc, names_over_63_bytes_are_refused);
        tcase_add_test(tc, a_crashed_server_is_reconnected_at_the_next_begin);
        suite_add_tcase(s, tc);
        int failed = h_run_suite(s);
        pgserver_stop_destroy(pg);
        return failed ? 1 : 0;
}

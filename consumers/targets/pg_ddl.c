#include "targets/pg_ddl.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sb_buf.h"
#include "target.h"
#include "targets/pg_conn.h"
#include "targets/pg_value.h"

/* The quoted name of `table` as text, for a $1::regclass parameter. */
static sb_err_t quoted(const char *table, sb_buf_t *b) {
        sb_buf_reset(b);
        return pg_quote_ident(b, table);
}

/* SB_ERR_INVALID, naming both, unless the primary key of `table` is the key
 * record's fields in order: a table keyed on an old key schema cannot take
 * a changed one. */
static sb_err_t check_primary_key(PGconn *conn, const char *table, const sb_node_t *key, char *errstr,
                                  size_t errstr_size) {
        sb_buf_t name, have, want;
        sb_buf_init(&name, 4096);
        sb_buf_init(&have, 1 << 16);
        sb_buf_init(&want, 1 << 16);
        PGresult *r = NULL;
        const char *p[1];
        sb_err_t err = quoted(table, &name);
        p[0] = (const char *)name.data;
        if (!err)
                err = pg_conn_run(
                        conn,
                        "SELECT a.attname FROM pg_index i JOIN pg_attribute a ON a.attrelid = i.indrelid "
                        "AND a.attnum = ANY (i.indkey) WHERE i.indrelid = $1::regclass AND i.indisprimary "
                        "ORDER BY array_position(i.indkey::int2[], a.attnum)",
                        1, p, &r, "read the primary key", errstr, errstr_size);
        if (!err) {
                int n = PQntuples(r), same = (size_t)n == sb_node_count(key);
                for (int i = 0; i < n; i++) {
                        same &= same && strcmp(PQgetvalue(r, i, 0), sb_node_field_name(key, (size_t)i)) == 0;
                        sb_buf_printf(&have, "%s%s", i ? ", " : "", PQgetvalue(r, i, 0));
                }
                if (!same) {
                        pg_put_names(&want, key, ", ");
                        err = sb_seterr(SB_ERR_INVALID, errstr, errstr_size,
                                        "table %s has the primary key (%s), the key schema has (%s): the "
                                        "target cannot take a changed key",
                                        table, have.data ? (const char *)have.data : "",
                                        want.data ? (const char *)want.data : "");
                }
        }
        PQclear(r);
        sb_buf_free(&name);
        sb_buf_free(&have);
        sb_buf_free(&want);
        return err;
}

/* Appends " DEFAULT <literal>" for field i's Avro default, as a row's value
 * of it is sent (pg_value_text); nothing for a null or absent default. */
static sb_err_t append_default(PGconn *conn, sb_buf_t *sql, const sb_node_t *row, size_t i, char *errstr,
                               size_t errstr_size) {
        pg_column_t col;
        char *text = NULL;
        pg_column_of(row, i, &col);
        sb_err_t err = pg_value_text(&col, json_object_get(sb_node_field_json(row, i), "default"), &text,
                                     errstr, errstr_size);
        if (err || !text)
                return err;
        char *lit = PQescapeLiteral(conn, text, strlen(text));
        free(text);
        if (!lit)
                return pg_conn_err(conn, NULL, "quote a default", errstr, errstr_size);
        err = sb_buf_printf(sql, " DEFAULT %s", lit);
        PQfreemem(lit);
        return err ? sb_seterr(err, errstr, errstr_size, "out of memory") : SB_OK;
}

/* Adds to `table` the columns of the row's fields it does not have (a
 * newer row schema may add fields); `sql` is scratch. */
static sb_err_t add_missing_columns(PGconn *conn, const char *table, const sb_node_t *row, sb_buf_t *sql,
                                    char *errstr, size_t errstr_size) {
        PGresult *r = NULL;
        sb_err_t err = quoted(table, sql);
        const char *p[1] = {(const char *)sql->data};
        if (!err)
                err = pg_conn_run(
                        conn,
                        "SELECT attname FROM pg_attribute WHERE attrelid = $1::regclass AND attnum > 0 AND "
                        "NOT attisdropped",
                        1, p, &r, "read the columns", errstr, errstr_size);
        for (size_t i = 0; !err && i < sb_node_count(row); i++) {
                const char *name = sb_node_field_name(row, i);
                int have = 0;
                for (int k = 0; !have && k < PQntuples(r); k++)
                        have = strcmp(PQgetvalue(r, k, 0), name) == 0;
                if (have)
                        continue;
                pg_column_t col;
                pg_column_of(row, i, &col);
                sb_buf_reset(sql);
                sb_buf_append(sql, "ALTER TABLE ", 12);
                pg_quote_ident(sql, table);
                sb_buf_append(sql, " ADD COLUMN ", 12);
                pg_quote_ident(sql, name);
                /* Rows already there get the default, as a reader of the new
                 * schema sees them; PostgreSQL 11+ stores it without a
                 * rewrite of the table. */
                if ((err = sb_buf_printf(sql, " %s", col.sqltype)))
                        err = sb_seterr(err, errstr, errstr_size, "out of memory");
                if (!err)
                        err = append_default(conn, sql, row, i, errstr, errstr_size);
                if (!err)
                        err = pg_conn_run(conn, (const char *)sql->data, 0, NULL, NULL, "add a column",
                                          errstr, errstr_size);
        }
        PQclear(r);
        return err;
}

/* SB_ERR_INVALID unless the table's and the fields' names fit. */
static sb_err_t check_names(const char *table, const sb_node_t *row, char *errstr, size_t errstr_size) {
        sb_err_t err = pg_check_ident(table, "table name", errstr, errstr_size);
        for (size_t i = 0; !err && i < sb_node_count(row); i++)
                err = pg_check_ident(sb_node_field_name(row, i), "column name", errstr, errstr_size);
        return err;
}

/* CREATE TABLE `create_sql`, then the work both kinds of table share, in a
 * savepoint: a refused DDL leaves the transaction usable. */
static sb_err_t ensure(PGconn *conn, const char *table, const sb_node_t *key, const sb_node_t *row,
                       sb_buf_t *sql, char *errstr, size_t errstr_size) {
        sb_err_t err = pg_conn_sp_open(conn, errstr, errstr_size);
        if (err)
                return err;
        err = pg_conn_run(conn, SB_PG_DDL_LOCK, 0, NULL, NULL, "lock for DDL", errstr, errstr_size);
        if (!err)
                err = pg_conn_run(conn, (const char *)sql->data, 0, NULL, NULL, "create table", errstr,
                                  errstr_size);
        if (!err && key)
                err = check_primary_key(conn, table, key, errstr, errstr_size);
        if (!err)
                err = add_missing_columns(conn, table, row, sql, errstr, errstr_size);
        return pg_conn_sp_close(conn, err, errstr, errstr_size);
}

sb_err_t pg_ddl_ensure_table(PGconn *conn, const char *table, const sb_node_t *key, const sb_node_t *row,
                             char *errstr, size_t errstr_size) {
        sb_err_t err = check_names(table, row, errstr, errstr_size);
        if (err)
                return err;
        sb_buf_t sql;
        sb_buf_init(&sql, 1 << 20);
        sb_buf_append(&sql, "CREATE TABLE IF NOT EXISTS ", 27);
        pg_quote_ident(&sql, table);
        sb_buf_append(&sql, " (", 2);
        for (size_t i = 0; i < sb_node_count(row); i++) {
                pg_column_t col;
                pg_column_of(row, i, &col);
                pg_quote_ident(&sql, sb_node_field_name(row, i));
                sb_buf_printf(&sql, " %s%s, ", col.sqltype,
                              sb_node_field_index(key, sb_node_field_name(row, i)) >= 0 ? " NOT NULL" : "");
        }
        sb_buf_append(&sql, "PRIMARY KEY (", 13);
        pg_put_names(&sql, key, ", ");
        if (sb_buf_append(&sql, "))", 2))
                err = sb_seterr(SB_ERR_NOMEM, errstr, errstr_size, "out of memory");
        if (!err)
                err = ensure(conn, table, key, row, &sql, errstr, errstr_size);
        sb_buf_free(&sql);
        return err;
}

sb_err_t pg_ddl_ensure_history(PGconn *conn, const char *table, const sb_node_t *key, const sb_node_t *row,
                               char *errstr, size_t errstr_size) {
        sb_err_t err = check_names(table, row, errstr, errstr_size);
        if (err)
                return err;
        sb_buf_t sql;
        sb_buf_init(&sql, 1 << 20);
        sb_buf_append(&sql, "CREATE TABLE IF NOT EXISTS ", 27);
        pg_quote_ident(&sql, table);
        /* One row per event: its id is the key, so an event is there once. */
        sb_buf_printf(&sql, " (\"sharebus_event_id\" text PRIMARY KEY, \"sharebus_op\" text NOT NULL, "
                            "\"sharebus_ts_ms\" bigint NOT NULL, \"sharebus_seq\" bigint NOT NULL");
        for (size_t i = 0; i < sb_node_count(row); i++) {
                pg_column_t col;
                pg_column_of(row, i, &col);
                sb_buf_append(&sql, ", ", 2);
                pg_quote_ident(&sql, sb_node_field_name(row, i));
                sb_buf_printf(&sql, " %s", col.sqltype);
        }
        /* A record's history in order: by its key, then the change's seq.
         * The index name must fit too: a long table's is cut and made
         * unique again by a hash of the whole name. */
        char index[SB_PG_MAX_IDENT + 1];
        if (strlen(table) + 4 <= SB_PG_MAX_IDENT) {
                snprintf(index, sizeof(index), "%s_key", table);
        } else {
                uint32_t h = 2166136261u;
                for (const char *p = table; *p; p++)
                        h = (h ^ (unsigned char)*p) * 16777619u;
                snprintf(index, sizeof(index), "%.50s_%08x_key", table, h);
        }
        sb_buf_append(&sql, "); CREATE INDEX IF NOT EXISTS ", 30);
        pg_quote_ident(&sql, index);
        sb_buf_append(&sql, " ON ", 4);
        pg_quote_ident(&sql, table);
        sb_buf_append(&sql, " (", 2);
        pg_put_names(&sql, key, ", ");
        if (sb_buf_append(&sql, ", \"sharebus_seq\")", 17))
                err = sb_seterr(SB_ERR_NOMEM, errstr, errstr_size, "out of memory");
        if (!err)
                err = ensure(conn, table, NULL, row, &sql, errstr, errstr_size);
        sb_buf_free(&sql);
        return err;
}

sb_err_t pg_ddl_ensure_sharebus_tables(PGconn *conn, char *errstr, size_t errstr_size) {
        return pg_conn_run(
                conn,
                "BEGIN; " SB_PG_DDL_LOCK "; "
                "CREATE TABLE IF NOT EXISTS sharebus_offsets (consumer_group text NOT NULL, topic text NOT "
                "NULL, "
                "kafka_partition integer NOT NULL, next_offset bigint NOT NULL, "
                "updated_at timestamptz NOT NULL DEFAULT now(), "
                "PRIMARY KEY (consumer_group, topic, kafka_partition)); "
                /* No unique key on purpose: an event applied twice would show. */
                "CREATE TABLE IF NOT EXISTS sharebus_receipts (topic text NOT NULL, "
                "kafka_partition integer NOT NULL, kafka_offset bigint NOT NULL, event_id text NOT NULL, "
                "op text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now()); "
                /* By position, where receipts only ever append (target.h). */
                "DROP INDEX IF EXISTS sharebus_receipts_event; "
                "CREATE INDEX IF NOT EXISTS sharebus_receipts_at ON sharebus_receipts "
                "(topic, kafka_partition, kafka_offset); "
                /* Which columns hold personal data (sb_rules.h), under which
                 * policy, from which source field. */
                "CREATE TABLE IF NOT EXISTS sharebus_columns (table_name text NOT NULL, "
                "column_name text NOT NULL, classification text NOT NULL, policy text NOT NULL, "
                "source_field text, PRIMARY KEY (table_name, column_name)); COMMIT",
                0, NULL, NULL, "create the sharebus tables", errstr, errstr_size);
}

sb_err_t pg_ddl_record_columns(PGconn *conn, const char *table, const sb_node_t *row, char *errstr,
                               size_t errstr_size) {
        sb_err_t err = pg_conn_sp_open(conn, errstr, errstr_size);
        for (size_t i = 0; !err && i < sb_node_count(row); i++) {
                const char *column = sb_node_field_name(row, i), *policy = NULL, *source = NULL;
                sb_class_t cls = SB_CLASS_INTERNAL;
                err = sb_target_column_meta(row, i, &cls, &policy, &source, errstr, errstr_size);
                const char *p[5] = {table, column, sb_class_name(cls), policy, source};
                if (!err)
                        err = pg_conn_run(
                                conn,
                                "INSERT INTO sharebus_columns (table_name, column_name, classification, "
                                "policy, source_field) VALUES ($1, $2, $3, $4, $5) "
                                "ON CONFLICT (table_name, column_name) DO UPDATE SET "
                                "classification = EXCLUDED.classification, policy = EXCLUDED.policy, "
                                "source_field = EXCLUDED.source_field",
                                5, p, NULL, "record columns", errstr, errstr_size);
        }
        return pg_conn_sp_close(conn, err, errstr, errstr_size);
}

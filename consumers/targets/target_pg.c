#include "targets/target_pg.h"

#include <libpq-fe.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sb_buf.h"
#include "sb_rules.h"
#include "targets/pg_batch.h"
#include "targets/pg_value.h"

/* The statements of one (table, row schema): its rows' batch (an upsert, or
 * a history table's append) and, for a state table, the delete. */
typedef struct stmt_s {
        char *table;
        const sb_node_t *row; /* the schema node the statements were built for */
        int history;
        pg_column_t *cols; /* of the row's fields */
        pg_column_t *key_cols;
        size_t n_key;
        pg_batch_t *batch;
        char *remove_sql;
        struct stmt_s *next;
} stmt_t;

typedef struct {
        sb_target_t base;
        PGconn *conn;
        /* Set when a batch was refused for its data: the transactions until
         * one commits apply row by row, each in a savepoint. */
        int row_by_row;
        stmt_t *stmts;
        stmt_t *pending; /* the statement whose batch holds rows, or NULL */
        pg_batch_t *receipts;
} pg_target_t;

static const char *const history_columns[] = {"sharebus_event_id", "sharebus_op", "sharebus_ts_ms",
                                              "sharebus_seq"};
#define HISTORY_COLUMNS (sizeof(history_columns) / sizeof(*history_columns))

static void quiet_notice(void *arg, const char *message) {
        (void)arg;
        (void)message;
}

/* SQLSTATEs that say the data is what PostgreSQL refuses, so that a retry
 * would be refused again: data exceptions (22: out of range, bad date, bad
 * text for the type), integrity violations (23: NOT NULL, CHECK, UNIQUE),
 * and those of 42 a schema's names or types cause (not a privilege or our
 * own syntax, which are the database's to fix).  Index rows too large
 * (54000) come from a value too. */
static int data_error(const char *state) {
        static const char *const data42[] = {"42804", "42846", "42P18", "42622", "42939",
                                             "42701", "42P16", "42611", "54000"};
        if (!state)
                return 0;
        if (strncmp(state, "22", 2) == 0 || strncmp(state, "23", 2) == 0)
                return 1;
        for (size_t i = 0; i < sizeof(data42) / sizeof(*data42); i++)
                if (strcmp(state, data42[i]) == 0)
                        return 1;
        return 0;
}

/* The error of result r (NULL: libpq had no memory, or the connection's). */
static sb_err_t pg_err(pg_target_t *t, const PGresult *r, const char *what, char *errstr, size_t errstr_size) {
        const char *state = r ? PQresultErrorField(r, PG_DIAG_SQLSTATE) : NULL;
        const char *msg = r && *PQresultErrorMessage(r) ? PQresultErrorMessage(r) : PQerrorMessage(t->conn);
        int len = (int)strcspn(msg, "\n");
        sb_err_t err = PQstatus(t->conn) == CONNECTION_OK && data_error(state) ? SB_ERR_INVALID : SB_ERR_DB;
        return sb_seterr(err, errstr, errstr_size, "postgresql: %s: %.*s%s%s%s", what, len, msg,
                         state ? " (SQLSTATE " : "", state ? state : "", state ? ")" : "");
}

static int result_ok(const PGresult *r) {
        return PQresultStatus(r) == PGRES_COMMAND_OK || PQresultStatus(r) == PGRES_TUPLES_OK;
}

/* Runs `sql` with n text parameters (params NULL: PQexec, which also takes
 * several statements).  On success *out (if not NULL) is the result, the
 * caller's to PQclear. */
static sb_err_t run(pg_target_t *t, const char *sql, int n, const char *const *params, PGresult **out,
                    const char *what, char *errstr, size_t errstr_size) {
        PGresult *r = params ? PQexecParams(t->conn, sql, n, NULL, params, NULL, NULL, 0) : PQexec(t->conn, sql);
        sb_err_t err = r && result_ok(r) ? SB_OK : pg_err(t, r, what, errstr, errstr_size);
        if (!err && out)
                *out = r;
        else
                PQclear(r);
        return err;
}

/* A data error of a statement run outside a savepoint: the transaction is
 * lost, the subscriber must roll back and retry, and its retry goes row by
 * row so that only the refused row is dead-lettered. */
static sb_err_t refused(pg_target_t *t, sb_err_t err, char *errstr, size_t errstr_size) {
        if (err != SB_ERR_INVALID)
                return err;
        t->row_by_row = 1;
        char why[768];
        snprintf(why, sizeof(why), "%s", errstr ? errstr : "");
        return sb_seterr(SB_ERR_DB, errstr, errstr_size,
                         "a row of the batch was refused (%s); the batch will be applied row by row", why);
}

static sb_err_t sp_open(pg_target_t *t, char *errstr, size_t errstr_size) {
        sb_err_t err = run(t, "SAVEPOINT sharebus_sp", 0, NULL, NULL, "savepoint", errstr, errstr_size);
        return err == SB_ERR_INVALID ? SB_ERR_DB : err;
}

/* Ends the savepoint of sp_open after its work ended with `err`: a refused
 * row or DDL (SB_ERR_INVALID) is undone alone and the transaction goes on. */
static sb_err_t sp_close(pg_target_t *t, sb_err_t err, char *errstr, size_t errstr_size) {
        char ignored[256];
        if (err == SB_ERR_INVALID &&
            run(t, "ROLLBACK TO SAVEPOINT sharebus_sp; RELEASE SAVEPOINT sharebus_sp", 0, NULL, NULL,
                "rollback to savepoint", ignored, sizeof(ignored)))
                return sb_seterr(SB_ERR_DB, errstr, errstr_size, "%s", ignored);
        if (err)
                return err;
        err = run(t, "RELEASE SAVEPOINT sharebus_sp", 0, NULL, NULL, "release savepoint", errstr, errstr_size);
        return err == SB_ERR_INVALID ? SB_ERR_DB : err;
}

static sb_err_t send_batch(pg_target_t *t, pg_batch_t *b, const char *what, char *errstr, size_t errstr_size) {
        if (!pg_batch_rows(b))
                return SB_OK;
        PGresult *r = pg_batch_exec(b, t->conn);
        sb_err_t err = r && result_ok(r) ? SB_OK : pg_err(t, r, what, errstr, errstr_size);
        PQclear(r);
        pg_batch_clear(b);
        return err;
}

/* Sends what is buffered: before a statement that must see it, and at
 * commit. */
static sb_err_t flush(pg_target_t *t, char *errstr, size_t errstr_size) {
        sb_err_t err = SB_OK;
        if (t->pending)
                err = send_batch(t, t->pending->batch, t->pending->history ? "append" : "upsert", errstr,
                                 errstr_size);
        t->pending = NULL;
        if (!err)
                err = send_batch(t, t->receipts, "record receipts", errstr, errstr_size);
        pg_batch_clear(t->receipts);
        return refused(t, err, errstr, errstr_size);
}

static void drop_buffers(pg_target_t *t) {
        for (stmt_t *s = t->stmts; s; s = s->next)
                pg_batch_clear(s->batch);
        pg_batch_clear(t->receipts);
        t->pending = NULL;
}

/* Connects again after a lost connection; nothing else is kept on the
 * server (no prepared statements), so the new one is ready. */
static sb_err_t connected(pg_target_t *t, char *errstr, size_t errstr_size) {
        if (PQstatus(t->conn) == CONNECTION_OK)
                return SB_OK;
        PQreset(t->conn);
        if (PQstatus(t->conn) != CONNECTION_OK)
                return pg_err(t, NULL, "cannot connect again", errstr, errstr_size);
        PQsetNoticeProcessor(t->conn, quiet_notice, NULL);
        return SB_OK;
}

static sb_err_t pg_begin(sb_target_t *bt, char *errstr, size_t errstr_size) {
        pg_target_t *t = (pg_target_t *)bt;
        drop_buffers(t);
        sb_err_t err = connected(t, errstr, errstr_size);
        if (!err && PQtransactionStatus(t->conn) != PQTRANS_IDLE)
                PQclear(PQexec(t->conn, "ROLLBACK"));
        if (!err)
                err = run(t, "BEGIN", 0, NULL, NULL, "begin", errstr, errstr_size);
        return err ? SB_ERR_DB : SB_OK;
}

static sb_err_t pg_commit(sb_target_t *bt, char *errstr, size_t errstr_size) {
        pg_target_t *t = (pg_target_t *)bt;
        sb_err_t err = flush(t, errstr, errstr_size);
        if (err)
                return err;
        PGresult *r = PQexec(t->conn, "COMMIT");
        /* COMMIT of a transaction that failed answers ROLLBACK, no error. */
        if (!r || !result_ok(r))
                err = (pg_err(t, r, "commit", errstr, errstr_size), SB_ERR_DB);
        else if (strcmp(PQcmdStatus(r), "COMMIT") != 0)
                err = sb_seterr(SB_ERR_DB, errstr, errstr_size, "postgresql: commit: the transaction was rolled back");
        PQclear(r);
        if (!err)
                t->row_by_row = 0;
        return err;
}

static void pg_rollback(sb_target_t *bt) {
        pg_target_t *t = (pg_target_t *)bt;
        drop_buffers(t);
        if (PQstatus(t->conn) == CONNECTION_OK && PQtransactionStatus(t->conn) != PQTRANS_IDLE)
                PQclear(PQexec(t->conn, "ROLLBACK"));
}

static sb_err_t check_ident(const char *name, const char *what, char *errstr, size_t errstr_size) {
        if (strlen(name) <= SB_PG_MAX_IDENT)
                return SB_OK;
        return sb_seterr(SB_ERR_INVALID, errstr, errstr_size,
                         "%s '%.64s...' is longer than PostgreSQL's %d-byte identifier limit", what, name,
                         SB_PG_MAX_IDENT);
}

static sb_err_t pg_table_name(sb_target_t *bt, const char *topic, char *out, size_t size, char *errstr,
                              size_t errstr_size) {
        (void)bt;
        sb_err_t err = check_ident(topic, "the table name of topic", errstr, errstr_size);
        if (err)
                return err;
        if (snprintf(out, size, "%s", topic) >= (int)size)
                return sb_seterr(SB_ERR_INVALID, errstr, errstr_size,
                                 "topic '%.64s...' gives a table name longer than %zu bytes", topic, size - 1);
        for (char *p = out; *p; p++)
                if (*p == '.' || *p == '-')
                        *p = '_';
        return SB_OK;
}

/* Appends "name" quoted as an SQL identifier. */
static sb_err_t quote_ident(sb_buf_t *b, const char *name) {
        sb_err_t err = sb_buf_append(b, "\"", 1);
        for (const char *p = name; !err && *p; p++)
                err = *p == '"' ? sb_buf_append(b, "\"\"", 2) : sb_buf_append(b, p, 1);
        return err ? err : sb_buf_append(b, "\"", 1);
}

/* Appends the field names of `rec` quoted, each after `sep` but the first. */
static sb_err_t put_names(sb_buf_t *b, const sb_node_t *rec, const char *sep) {
        sb_err_t err = SB_OK;
        for (size_t i = 0; !err && i < sb_node_count(rec); i++)
                if (!(err = i ? sb_buf_printf(b, "%s", sep) : SB_OK))
                        err = quote_ident(b, sb_node_field_name(rec, i));
        return err;
}

/* The quoted name of `table` as text, for a $1::regclass parameter. */
static sb_err_t quoted(const char *table, sb_buf_t *b) {
        sb_buf_reset(b);
        return quote_ident(b, table);
}

/* SB_ERR_INVALID, naming both, unless the primary key of `table` is the key
 * record's fields in order: a table keyed on an old key schema cannot take
 * a changed one. */
static sb_err_t check_primary_key(pg_target_t *t, const char *table, const sb_node_t *key, char *errstr,
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
                err = run(t,
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
                        put_names(&want, key, ", ");
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
static sb_err_t append_default(pg_target_t *t, sb_buf_t *sql, const sb_node_t *row, size_t i, char *errstr,
                               size_t errstr_size) {
        pg_column_t col;
        char *text = NULL;
        pg_column_of(row, i, &col);
        sb_err_t err = pg_value_text(&col, json_object_get(sb_node_field_json(row, i), "default"), &text,
                                     errstr, errstr_size);
        if (err || !text)
                return err;
        char *lit = PQescapeLiteral(t->conn, text, strlen(text));
        free(text);
        if (!lit)
                return pg_err(t, NULL, "quote a default", errstr, errstr_size);
        err = sb_buf_printf(sql, " DEFAULT %s", lit);
        PQfreemem(lit);
        return err ? sb_seterr(err, errstr, errstr_size, "out of memory") : SB_OK;
}

/* Adds to `table` the columns of the row's fields it does not have (a
 * newer row schema may add fields); `sql` is scratch. */
static sb_err_t add_missing_columns(pg_target_t *t, const char *table, const sb_node_t *row, sb_buf_t *sql,
                                    char *errstr, size_t errstr_size) {
        PGresult *r = NULL;
        sb_err_t err = quoted(table, sql);
        const char *p[1] = {(const char *)sql->data};
        if (!err)
                err = run(t,
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
                quote_ident(sql, table);
                sb_buf_append(sql, " ADD COLUMN ", 12);
                quote_ident(sql, name);
                /* Rows already there get the default, as a reader of the new
                 * schema sees them; PostgreSQL 11+ stores it without a
                 * rewrite of the table. */
                if ((err = sb_buf_printf(sql, " %s", col.sqltype)))
                        err = sb_seterr(err, errstr, errstr_size, "out of memory");
                if (!err)
                        err = append_default(t, sql, row, i, errstr, errstr_size);
                if (!err)
                        err = run(t, (const char *)sql->data, 0, NULL, NULL, "add a column", errstr, errstr_size);
        }
        PQclear(r);
        return err;
}

/* SB_ERR_INVALID unless the table's and the fields' names fit. */
static sb_err_t check_names(const char *table, const sb_node_t *row, char *errstr, size_t errstr_size) {
        sb_err_t err = check_ident(table, "table name", errstr, errstr_size);
        for (size_t i = 0; !err && i < sb_node_count(row); i++)
                err = check_ident(sb_node_field_name(row, i), "column name", errstr, errstr_size);
        return err;
}

/* CREATE TABLE `create_sql`, then the work both kinds of table share, in a
 * savepoint: a refused DDL leaves the transaction usable. */
static sb_err_t ensure(pg_target_t *t, const char *table, const sb_node_t *key, const sb_node_t *row,
                       sb_buf_t *sql, char *errstr, size_t errstr_size) {
        sb_err_t err = sp_open(t, errstr, errstr_size);
        if (err)
                return err;
        err = run(t, (const char *)sql->data, 0, NULL, NULL, "create table", errstr, errstr_size);
        if (!err && key)
                err = check_primary_key(t, table, key, errstr, errstr_size);
        if (!err)
                err = add_missing_columns(t, table, row, sql, errstr, errstr_size);
        return sp_close(t, err, errstr, errstr_size);
}

static sb_err_t pg_ensure_table(sb_target_t *bt, const char *table, const sb_node_t *key, const sb_node_t *row,
                                char *errstr, size_t errstr_size) {
        pg_target_t *t = (pg_target_t *)bt;
        sb_err_t err = check_names(table, row, errstr, errstr_size);
        if (err || (err = flush(t, errstr, errstr_size)))
                return err;
        sb_buf_t sql;
        sb_buf_init(&sql, 1 << 20);
        sb_buf_append(&sql, "CREATE TABLE IF NOT EXISTS ", 27);
        quote_ident(&sql, table);
        sb_buf_append(&sql, " (", 2);
        for (size_t i = 0; i < sb_node_count(row); i++) {
                pg_column_t col;
                pg_column_of(row, i, &col);
                quote_ident(&sql, sb_node_field_name(row, i));
                sb_buf_printf(&sql, " %s%s, ", col.sqltype,
                              sb_node_field_index(key, sb_node_field_name(row, i)) >= 0 ? " NOT NULL" : "");
        }
        sb_buf_append(&sql, "PRIMARY KEY (", 13);
        put_names(&sql, key, ", ");
        if (sb_buf_append(&sql, "))", 2))
                err = sb_seterr(SB_ERR_NOMEM, errstr, errstr_size, "out of memory");
        if (!err)
                err = ensure(t, table, key, row, &sql, errstr, errstr_size);
        sb_buf_free(&sql);
        return err;
}

static sb_err_t pg_ensure_history(sb_target_t *bt, const char *table, const sb_node_t *key,
                                  const sb_node_t *row, char *errstr, size_t errstr_size) {
        pg_target_t *t = (pg_target_t *)bt;
        sb_err_t err = check_names(table, row, errstr, errstr_size);
        if (err || (err = flush(t, errstr, errstr_size)))
                return err;
        sb_buf_t sql;
        sb_buf_init(&sql, 1 << 20);
        sb_buf_append(&sql, "CREATE TABLE IF NOT EXISTS ", 27);
        quote_ident(&sql, table);
        /* One row per event: its id is the key, so an event is there once. */
        sb_buf_printf(&sql, " (\"sharebus_event_id\" text PRIMARY KEY, \"sharebus_op\" text NOT NULL, "
                            "\"sharebus_ts_ms\" bigint NOT NULL, \"sharebus_seq\" bigint NOT NULL");
        for (size_t i = 0; i < sb_node_count(row); i++) {
                pg_column_t col;
                pg_column_of(row, i, &col);
                sb_buf_append(&sql, ", ", 2);
                quote_ident(&sql, sb_node_field_name(row, i));
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
        quote_ident(&sql, index);
        sb_buf_append(&sql, " ON ", 4);
        quote_ident(&sql, table);
        sb_buf_append(&sql, " (", 2);
        put_names(&sql, key, ", ");
        if (sb_buf_append(&sql, ", \"sharebus_seq\")", 17))
                err = sb_seterr(SB_ERR_NOMEM, errstr, errstr_size, "out of memory");
        if (!err)
                err = ensure(t, table, NULL, row, &sql, errstr, errstr_size);
        sb_buf_free(&sql);
        return err;
}

static void stmt_free(stmt_t *s) {
        pg_batch_destroy(s->batch);
        free(s->cols);
        free(s->key_cols);
        free(s->remove_sql);
        free(s->table);
        free(s);
}

/* Builds the statements of (table, row schema): for a state table the
 * upsert "INSERT .. ON CONFLICT (key) DO UPDATE" and the delete; for a
 * history table the append "INSERT .. ON CONFLICT (event id) DO NOTHING". */
static sb_err_t stmt_build(stmt_t *s, const sb_node_t *key, const sb_node_t *row) {
        size_t n = sb_node_count(row), first = s->history ? HISTORY_COLUMNS : 0;
        size_t *keys = calloc(key ? sb_node_count(key) + 1 : 1, sizeof(*keys)), n_keys = 0;
        sb_buf_t head, tail;
        sb_buf_init(&head, 1 << 20);
        sb_buf_init(&tail, 1 << 20);
        s->cols = calloc(n ? n : 1, sizeof(*s->cols));
        s->n_key = key ? sb_node_count(key) : 0;
        s->key_cols = calloc(s->n_key ? s->n_key : 1, sizeof(*s->key_cols));
        if (!s->cols || !s->key_cols || !keys) {
                free(keys);
                return SB_ERR_NOMEM;
        }
        for (size_t i = 0; i < n; i++)
                pg_column_of(row, i, &s->cols[i]);
        sb_buf_append(&head, "INSERT INTO ", 12);
        quote_ident(&head, s->table);
        sb_buf_append(&head, " (", 2);
        for (size_t i = 0; i < first; i++)
                sb_buf_printf(&head, "\"%s\", ", history_columns[i]);
        put_names(&head, row, ", ");
        sb_buf_append(&head, ")", 1);
        if (s->history) {
                /* Applied once per event, as the offsets make sure; a
                 * replay of a dead letter already applied leaves it too. */
                sb_buf_printf(&tail, " ON CONFLICT (\"sharebus_event_id\") DO NOTHING");
        } else {
                for (size_t i = 0; i < s->n_key; i++) {
                        int at = sb_node_field_index(row, sb_node_field_name(key, i));
                        pg_column_of(key, i, &s->key_cols[i]);
                        if (at >= 0)
                                keys[n_keys++] = (size_t)at;
                }
                sb_buf_append(&tail, " ON CONFLICT (", 14);
                put_names(&tail, key, ", ");
                sb_buf_append(&tail, ") DO UPDATE SET ", 16);
                for (size_t i = 0; i < n; i++) {
                        sb_buf_printf(&tail, "%s", i ? ", " : "");
                        quote_ident(&tail, sb_node_field_name(row, i));
                        sb_buf_append(&tail, " = EXCLUDED.", 12);
                        quote_ident(&tail, sb_node_field_name(row, i));
                }
        }
        sb_err_t err = head.data && tail.data ? pg_batch_new((const char *)head.data, (const char *)tail.data,
                                                             first + n, keys, n_keys, &s->batch)
                                              : SB_ERR_NOMEM;
        if (!err && !s->history) {
                sb_buf_reset(&head);
                sb_buf_append(&head, "DELETE FROM ", 12);
                quote_ident(&head, s->table);
                sb_buf_append(&head, " WHERE ", 7);
                for (size_t i = 0; i < s->n_key; i++) {
                        sb_buf_printf(&head, "%s", i ? " AND " : "");
                        quote_ident(&head, sb_node_field_name(key, i));
                        sb_buf_printf(&head, " = $%zu", i + 1);
                }
                s->remove_sql = (char *)sb_buf_detach(&head, NULL);
                err = s->remove_sql ? SB_OK : SB_ERR_NOMEM;
        }
        sb_buf_free(&head);
        sb_buf_free(&tail);
        free(keys);
        return err;
}

static stmt_t *get_stmt(pg_target_t *t, const char *table, const sb_node_t *key, const sb_node_t *row,
                        int history, char *errstr, size_t errstr_size) {
        for (stmt_t *s = t->stmts; s; s = s->next)
                if (s->row == row && s->history == history && strcmp(s->table, table) == 0)
                        return s;
        stmt_t *s = calloc(1, sizeof(*s));
        if (!s || !(s->table = strdup(table)) || (s->row = row, s->history = history, stmt_build(s, key, row))) {
                if (s)
                        stmt_free(s);
                sb_seterr(SB_ERR_NOMEM, errstr, errstr_size, "out of memory");
                return NULL;
        }
        s->next = t->stmts;
        t->stmts = s;
        return s;
}

/* Converts rec's fields in `values` (absent ones NULL) into vals[]. */
static sb_err_t convert(const pg_column_t *cols, const sb_node_t *rec, const json_t *values, char **vals,
                        char *errstr, size_t errstr_size) {
        for (size_t i = 0; i < sb_node_count(rec); i++) {
                const char *name = sb_node_field_name(rec, i);
                char why[512];
                sb_err_t err = pg_value_text(&cols[i], json_object_get(values, name), &vals[i], why, sizeof(why));
                if (err)
                        return sb_seterr(err, errstr, errstr_size, "field %s: %s", name, why);
        }
        return SB_OK;
}

static void free_vals(char **vals, size_t n) {
        for (size_t i = 0; vals && i < n; i++)
                free(vals[i]);
        free(vals);
}

/* Buffers a row of s (vals, n strings and the array, taken over): sent
 * with the others of its statement, or at once in a savepoint while row by
 * row. */
static sb_err_t add_row(pg_target_t *t, stmt_t *s, char **vals, size_t n, char *errstr, size_t errstr_size) {
        sb_err_t err = SB_OK;
        if ((t->pending && t->pending != s) || pg_batch_full(s->batch))
                err = flush(t, errstr, errstr_size);
        if (err) {
                free_vals(vals, n);
                return err;
        }
        err = pg_batch_add(s->batch, vals);
        free(vals);
        if (err)
                return sb_seterr(err, errstr, errstr_size, "out of memory");
        if (!t->row_by_row) {
                t->pending = s;
                return SB_OK;
        }
        if ((err = sp_open(t, errstr, errstr_size))) {
                pg_batch_clear(s->batch);
                return err;
        }
        err = send_batch(t, s->batch, s->history ? "append" : "upsert", errstr, errstr_size);
        return sp_close(t, err, errstr, errstr_size);
}

static sb_err_t pg_upsert(sb_target_t *bt, const char *table, const sb_node_t *key, const sb_node_t *row,
                          const json_t *values, char *errstr, size_t errstr_size) {
        pg_target_t *t = (pg_target_t *)bt;
        stmt_t *s = get_stmt(t, table, key, row, 0, errstr, errstr_size);
        size_t n = sb_node_count(row);
        char **vals = s ? calloc(n ? n : 1, sizeof(*vals)) : NULL;
        if (!vals)
                return s ? sb_seterr(SB_ERR_NOMEM, errstr, errstr_size, "out of memory") : SB_ERR_NOMEM;
        /* A value that cannot be the column's is refused before PostgreSQL
         * sees it: the transaction is not touched. */
        sb_err_t err = convert(s->cols, row, values, vals, errstr, errstr_size);
        if (err) {
                free_vals(vals, n);
                return err;
        }
        return add_row(t, s, vals, n, errstr, errstr_size);
}

static sb_err_t pg_remove(sb_target_t *bt, const char *table, const sb_node_t *key, const sb_node_t *row,
                          const json_t *key_values, char *errstr, size_t errstr_size) {
        pg_target_t *t = (pg_target_t *)bt;
        stmt_t *s = get_stmt(t, table, key, row, 0, errstr, errstr_size);
        if (!s)
                return SB_ERR_NOMEM;
        char **vals = calloc(s->n_key ? s->n_key : 1, sizeof(*vals));
        if (!vals)
                return sb_seterr(SB_ERR_NOMEM, errstr, errstr_size, "out of memory");
        sb_err_t err = convert(s->key_cols, key, key_values, vals, errstr, errstr_size);
        /* The rows buffered before the delete go first, as they came. */
        if (!err)
                err = flush(t, errstr, errstr_size);
        if (!err && t->row_by_row) {
                if (!(err = sp_open(t, errstr, errstr_size))) {
                        err = run(t, s->remove_sql, (int)s->n_key, (const char *const *)vals, NULL, "delete",
                                  errstr, errstr_size);
                        err = sp_close(t, err, errstr, errstr_size);
                }
        } else if (!err) {
                err = refused(t,
                              run(t, s->remove_sql, (int)s->n_key, (const char *const *)vals, NULL, "delete",
                                  errstr, errstr_size),
                              errstr, errstr_size);
        }
        free_vals(vals, s->n_key);
        return err;
}

static sb_err_t pg_append(sb_target_t *bt, const char *table, const sb_node_t *row, const json_t *values,
                          const sb_target_event_t *ev, char *errstr, size_t errstr_size) {
        pg_target_t *t = (pg_target_t *)bt;
        stmt_t *s = get_stmt(t, table, NULL, row, 1, errstr, errstr_size);
        size_t n = HISTORY_COLUMNS + sb_node_count(row);
        char **vals = s ? calloc(n, sizeof(*vals)) : NULL;
        if (!vals)
                return s ? sb_seterr(SB_ERR_NOMEM, errstr, errstr_size, "out of memory") : SB_ERR_NOMEM;
        char op[2] = {ev->op, 0}, ts[24], seq[24];
        snprintf(ts, sizeof(ts), "%lld", (long long)ev->ts_ms);
        snprintf(seq, sizeof(seq), "%lld", (long long)ev->seq);
        vals[0] = strdup(ev->event_id);
        vals[1] = strdup(op);
        vals[2] = strdup(ts);
        vals[3] = strdup(seq);
        sb_err_t err = !vals[0] || !vals[1] || !vals[2] || !vals[3]
                               ? sb_seterr(SB_ERR_NOMEM, errstr, errstr_size, "out of memory")
                               : convert(s->cols, row, values, vals + HISTORY_COLUMNS, errstr, errstr_size);
        if (err) {
                free_vals(vals, n);
                return err;
        }
        return add_row(t, s, vals, n, errstr, errstr_size);
}

/* A string property of field i, or `def` when it has none; NULL when it is
 * there but not a string. */
static const char *field_prop(const sb_node_t *row, size_t i, const char *name, const char *def) {
        const json_t *v = json_object_get(sb_node_field_json(row, i), name);
        return !v ? def : json_string_value(v);
}

static sb_err_t pg_record_columns(sb_target_t *bt, const char *table, const sb_node_t *row, char *errstr,
                                  size_t errstr_size) {
        pg_target_t *t = (pg_target_t *)bt;
        sb_err_t err = sp_open(t, errstr, errstr_size);
        for (size_t i = 0; !err && i < sb_node_count(row); i++) {
                const char *column = sb_node_field_name(row, i);
                const char *policy = field_prop(row, i, "sharebus.policy", "clear");
                const char *source = field_prop(row, i, "sharebus.source", column);
                sb_class_t cls = SB_CLASS_INTERNAL;
                char why[512];
                /* A classification the rules do not know is refused as the
                 * rules are; the column is then not recorded as harmless. */
                if (sb_field_class(row, i, &cls, why, sizeof(why)))
                        err = sb_seterr(SB_ERR_INVALID, errstr, errstr_size, "%s", why);
                else if (!policy || !source)
                        err = sb_seterr(SB_ERR_INVALID, errstr, errstr_size, "field %s: %s is not a string",
                                        column, policy ? "sharebus.source" : "sharebus.policy");
                const char *p[5] = {table, column, sb_class_name(cls), policy, source};
                if (!err)
                        err = run(t,
                                  "INSERT INTO sharebus_columns (table_name, column_name, classification, "
                                  "policy, source_field) VALUES ($1, $2, $3, $4, $5) "
                                  "ON CONFLICT (table_name, column_name) DO UPDATE SET "
                                  "classification = EXCLUDED.classification, policy = EXCLUDED.policy, "
                                  "source_field = EXCLUDED.source_field",
                                  5, p, NULL, "record columns", errstr, errstr_size);
        }
        return sp_close(t, err, errstr, errstr_size);
}

static sb_err_t pg_load_offset(sb_target_t *bt, const char *group, const char *topic, int32_t partition,
                               int64_t *next, char *errstr, size_t errstr_size) {
        pg_target_t *t = (pg_target_t *)bt;
        char part[16];
        snprintf(part, sizeof(part), "%d", (int)partition);
        const char *p[3] = {group, topic, part};
        PGresult *r = NULL;
        *next = -1;
        /* Called on each assignment, outside the batches' transactions: the
         * first place to find the server back. */
        sb_err_t err = PQtransactionStatus(t->conn) == PQTRANS_IDLE || PQstatus(t->conn) != CONNECTION_OK
                               ? connected(t, errstr, errstr_size)
                               : SB_OK;
        if (!err)
                err = run(t,
                          "SELECT next_offset FROM sharebus_offsets WHERE consumer_group = $1 AND topic = $2 "
                          "AND kafka_partition = $3",
                          3, p, &r, "load offset", errstr, errstr_size);
        if (!err && PQntuples(r) == 1)
                *next = strtoll(PQgetvalue(r, 0, 0), NULL, 10);
        PQclear(r);
        return err ? SB_ERR_DB : SB_OK;
}

static sb_err_t pg_store_offset(sb_target_t *bt, const char *group, const char *topic, int32_t partition,
                                int64_t next, char *errstr, size_t errstr_size) {
        pg_target_t *t = (pg_target_t *)bt;
        char part[16], off[24];
        snprintf(part, sizeof(part), "%d", (int)partition);
        snprintf(off, sizeof(off), "%lld", (long long)next);
        const char *p[4] = {group, topic, part, off};
        sb_err_t err = run(t,
                           "INSERT INTO sharebus_offsets (consumer_group, topic, kafka_partition, next_offset) "
                           "VALUES ($1, $2, $3, $4) ON CONFLICT (consumer_group, topic, kafka_partition) DO "
                           "UPDATE SET next_offset = EXCLUDED.next_offset, updated_at = now()",
                           4, p, NULL, "store offset", errstr, errstr_size);
        return err == SB_ERR_INVALID ? SB_ERR_DB : err;
}

static sb_err_t pg_record_receipt(sb_target_t *bt, const char *topic, int32_t partition, int64_t offset,
                                  const char *event_id, const char *op, char *errstr, size_t errstr_size) {
        pg_target_t *t = (pg_target_t *)bt;
        char part[16], off[24];
        snprintf(part, sizeof(part), "%d", (int)partition);
        snprintf(off, sizeof(off), "%lld", (long long)offset);
        sb_err_t err = pg_batch_full(t->receipts) ? flush(t, errstr, errstr_size) : SB_OK;
        char *vals[5] = {strdup(topic), strdup(part), strdup(off), strdup(event_id), strdup(op)};
        if (!err && (!vals[0] || !vals[1] || !vals[2] || !vals[3] || !vals[4]))
                err = sb_seterr(SB_ERR_NOMEM, errstr, errstr_size, "out of memory");
        if (err) {
                for (size_t i = 0; i < 5; i++)
                        free(vals[i]);
                return err;
        }
        return pg_batch_add(t->receipts, vals) ? sb_seterr(SB_ERR_NOMEM, errstr, errstr_size, "out of memory")
                                               : SB_OK;
}

static sb_err_t pg_has_receipt(sb_target_t *bt, const char *event_id, int *found, char *errstr,
                               size_t errstr_size) {
        pg_target_t *t = (pg_target_t *)bt;
        const char *p[1] = {event_id};
        PGresult *r = NULL;
        *found = 0;
        sb_err_t err = flush(t, errstr, errstr_size);
        /* By the event_id index. */
        if (!err)
                err = run(t, "SELECT 1 FROM sharebus_receipts WHERE event_id = $1 LIMIT 1", 1, p, &r,
                          "look up receipt", errstr, errstr_size);
        if (!err)
                *found = PQntuples(r) > 0;
        PQclear(r);
        return err == SB_ERR_INVALID ? SB_ERR_DB : err;
}

static void pg_destroy(sb_target_t *bt) {
        pg_target_t *t = (pg_target_t *)bt;
        if (!t)
                return;
        while (t->stmts) {
                stmt_t *n = t->stmts->next;
                stmt_free(t->stmts);
                t->stmts = n;
        }
        pg_batch_destroy(t->receipts);
        PQfinish(t->conn);
        free(t);
}

static const sb_target_ops_t pg_ops = {
        .kind = "postgresql",
        .begin = pg_begin,
        .commit = pg_commit,
        .rollback = pg_rollback,
        .table_name = pg_table_name,
        .ensure_table = pg_ensure_table,
        .record_columns = pg_record_columns,
        .upsert = pg_upsert,
        .remove = pg_remove,
        .ensure_history = pg_ensure_history,
        .append = pg_append,
        .load_offset = pg_load_offset,
        .store_offset = pg_store_offset,
        .record_receipt = pg_record_receipt,
        .has_receipt = pg_has_receipt,
        .destroy = pg_destroy,
};

sb_err_t sb_target_pg_open(const char *conninfo, sb_target_t **out, char *errstr, size_t errstr_size) {
        pg_target_t *t = calloc(1, sizeof(*t));
        *out = NULL;
        if (!t)
                return sb_seterr(SB_ERR_NOMEM, errstr, errstr_size, "out of memory");
        t->base.ops = &pg_ops;
        t->conn = PQconnectdb(conninfo ? conninfo : "");
        if (PQstatus(t->conn) != CONNECTION_OK) {
                sb_err_t err = pg_err(t, NULL, "cannot connect (postgresql_conninfo)", errstr, errstr_size);
                pg_destroy(&t->base);
                return err;
        }
        PQsetNoticeProcessor(t->conn, quiet_notice, NULL);
        sb_err_t err = run(
                t,
                "CREATE TABLE IF NOT EXISTS sharebus_offsets (consumer_group text NOT NULL, topic text NOT NULL, "
                "kafka_partition integer NOT NULL, next_offset bigint NOT NULL, "
                "updated_at timestamptz NOT NULL DEFAULT now(), "
                "PRIMARY KEY (consumer_group, topic, kafka_partition)); "
                /* No unique key on purpose: an event applied twice would show. */
                "CREATE TABLE IF NOT EXISTS sharebus_receipts (topic text NOT NULL, "
                "kafka_partition integer NOT NULL, kafka_offset bigint NOT NULL, event_id text NOT NULL, "
                "op text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now()); "
                "CREATE INDEX IF NOT EXISTS sharebus_receipts_event ON sharebus_receipts (event_id); "
                /* Which columns hold personal data (sb_rules.h), under which
                 * policy, from which source field. */
                "CREATE TABLE IF NOT EXISTS sharebus_columns (table_name text NOT NULL, "
                "column_name text NOT NULL, classification text NOT NULL, policy text NOT NULL, "
                "source_field text NOT NULL, PRIMARY KEY (table_name, column_name))",
                0, NULL, NULL, "create the sharebus tables", errstr, errstr_size);
        if (!err && pg_batch_new("INSERT INTO sharebus_receipts (topic, kafka_partition, kafka_offset, event_id, op)",
                                 "", 5, NULL, 0, &t->receipts))
                err = sb_seterr(SB_ERR_NOMEM, errstr, errstr_size, "out of memory");
        if (err) {
                pg_destroy(&t->base);
                return err == SB_ERR_INVALID ? SB_ERR_DB : err;
        }
        *out = &t->base;
        return SB_OK;
}

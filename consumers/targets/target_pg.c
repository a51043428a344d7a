#include "targets/target_pg.h"

#include <libpq-fe.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sb_buf.h"
#include "sb_rules.h"
#include "targets/pg_batch.h"
#include "targets/pg_conn.h"
#include "targets/pg_pipe.h"
#include "targets/pg_ddl.h"
#include "targets/pg_value.h"

/* The statements of one (table, row schema): its rows' batch (an upsert, or
 * a history table's append) and, for a state table, the deletes: a batch
 * of keys sent before the upserts (a key deleted after its upsert was
 * buffered drops that upsert), and the one-key delete of row by row. */
typedef struct stmt_s {
        char *table;
        const sb_node_t *row; /* the schema node the statements were built for */
        int history;
        pg_column_t *cols; /* of the row's fields */
        pg_column_t *key_cols;
        size_t n_key;
        pg_batch_t *batch;
        pg_batch_t *removes;
        char *remove_sql;
        struct stmt_s *next;
} stmt_t;

typedef struct {
        sb_target_t base;
        PGconn *conn;
        /* Set when a batch was refused for its data: the transactions until
         * one commits apply row by row, each in a savepoint. */
        int row_by_row;
        /* Between a BEGIN and its COMMIT or ROLLBACK: a connection lost in
         * it is not made again until then, or the rest of the batch would
         * run, and commit, on its own. */
        int in_txn;
        stmt_t *stmts;
        stmt_t *pending; /* the statement whose batch holds rows, or NULL */
        pg_batch_t *receipts;
        pg_pipe_t pipe; /* what is sent in pipeline mode, not yet answered */
        /* Counts connections, and failed transactions that prepared a
         * statement: one prepared before may be gone (pg_batch_send). */
        unsigned gen;
        int prepared_in_txn;
} pg_target_t;

/* Rows of a statement's batch sent as soon as they are there (outside row
 * by row): PostgreSQL applies them while the subscriber decodes the next
 * ones, instead of the two taking turns at each commit. */
#define PG_ASYNC_ROWS 100

static const char *const history_columns[] = {"sharebus_event_id", "sharebus_op", "sharebus_ts_ms",
                                              "sharebus_seq"};
#define HISTORY_COLUMNS (sizeof(history_columns) / sizeof(*history_columns))

static void quiet_notice(void *arg, const char *message) {
        (void)arg;
        (void)message;
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

/* The pipeline's answers (pg_pipe_settle). */
static sb_err_t settle(pg_target_t *t, PGresult **last, char *errstr, size_t errstr_size) {
        return pg_pipe_settle(&t->pipe, last, errstr, errstr_size);
}

/* Prepared statements of older connections are gone (pg_batch_send). */
static unsigned conn_gen(const pg_target_t *t) { return t->gen + t->pipe.resets; }

static sb_err_t send_batch(pg_target_t *t, pg_batch_t *b, const char *what, char *errstr,
                           size_t errstr_size) {
        if (!pg_batch_rows(b))
                return SB_OK;
        sb_err_t err = SB_OK;
        if (t->row_by_row) {
                /* Each row in its savepoint: its answer decides. */
                PGresult *r = NULL;
                if (!(err = settle(t, NULL, errstr, errstr_size))) {
                        r = pg_batch_exec(b, t->conn);
                        err = r && pg_result_ok(r) ? SB_OK
                                                   : pg_conn_err(t->conn, r, what, errstr, errstr_size);
                }
                PQclear(r);
        } else {
                int sent = 0;
                if (!(err = pg_pipe_open(&t->pipe, 2, errstr, errstr_size)))
                        err = pg_pipe_sent(&t->pipe, sent = pg_batch_send(b, t->conn, conn_gen(t)), what,
                                           errstr, errstr_size);
                t->prepared_in_txn |= sent == 2;
        }
        pg_batch_clear(b);
        return err;
}

/* Sends what is buffered: before a statement that must see it, and at
 * commit. */
static sb_err_t flush(pg_target_t *t, char *errstr, size_t errstr_size) {
        sb_err_t err = SB_OK;
        /* The deletes first: a key upserted after its delete stays in the
         * upserts, one upserted before it was dropped from them. */
        if (t->pending && t->pending->removes)
                err = send_batch(t, t->pending->removes, "delete", errstr, errstr_size);
        if (t->pending && !err)
                err = send_batch(t, t->pending->batch, t->pending->history ? "append" : "upsert", errstr,
                                 errstr_size);
        t->pending = NULL;
        if (!err)
                err = send_batch(t, t->receipts, "record receipts", errstr, errstr_size);
        pg_batch_clear(t->receipts);
        return refused(t, err, errstr, errstr_size);
}

/* The rows of the pending statement alone, PG_ASYNC_ROWS at a time; the
 * receipts go on their own (they need no order with the rows). */
static sb_err_t flush_rows(pg_target_t *t, char *errstr, size_t errstr_size) {
        sb_err_t err = SB_OK;
        if (t->pending && t->pending->removes)
                err = send_batch(t, t->pending->removes, "delete", errstr, errstr_size);
        if (t->pending && !err)
                err = send_batch(t, t->pending->batch, t->pending->history ? "append" : "upsert", errstr,
                                 errstr_size);
        t->pending = NULL;
        return refused(t, err, errstr, errstr_size);
}

/* Sends what is buffered and reads every answer: before a statement of
 * its own (which must see the rows, and cannot run in pipeline mode). */
static sb_err_t flush_all(pg_target_t *t, char *errstr, size_t errstr_size) {
        char why[1024];
        sb_err_t err = flush(t, errstr, errstr_size);
        sb_err_t settled = settle(t, NULL, why, sizeof(why));
        if (err)
                return err;
        if (settled)
                sb_seterr(settled, errstr, errstr_size, "%s", why);
        return refused(t, settled, errstr, errstr_size);
}

static void drop_buffers(pg_target_t *t) {
        for (stmt_t *s = t->stmts; s; s = s->next) {
                pg_batch_clear(s->batch);
                if (s->removes)
                        pg_batch_clear(s->removes);
        }
        pg_batch_clear(t->receipts);
        t->pending = NULL;
}

/* Connects again after a lost connection; the statements prepared on the
 * old one are prepared again (t->gen). */
static sb_err_t connected(pg_target_t *t, char *errstr, size_t errstr_size) {
        if (PQstatus(t->conn) == CONNECTION_OK)
                return SB_OK;
        if (t->in_txn)
                return sb_seterr(SB_ERR_DB, errstr, errstr_size,
                                 "postgresql: the connection was lost in a transaction");
        PQreset(t->conn);
        t->gen++; /* its prepared statements are gone */
        if (PQstatus(t->conn) != CONNECTION_OK)
                return pg_conn_err(t->conn, NULL, "cannot connect again", errstr, errstr_size);
        PQsetNoticeProcessor(t->conn, quiet_notice, NULL);
        return SB_OK;
}

static sb_err_t pg_begin(sb_target_t *bt, char *errstr, size_t errstr_size) {
        pg_target_t *t = (pg_target_t *)bt;
        char ignored[256];
        drop_buffers(t);
        settle(t, NULL, ignored, sizeof(ignored)); /* (nothing is in flight after a commit or rollback) */
        t->in_txn = 0;
        sb_err_t err = connected(t, errstr, errstr_size);
        if (!err && PQtransactionStatus(t->conn) != PQTRANS_IDLE)
                PQclear(PQexec(t->conn, "ROLLBACK"));
        /* Its answer comes with the first statement's that needs one. */
        if (!err)
                err = pg_pipe_send(&t->pipe, "BEGIN", 0, NULL, "begin", errstr, errstr_size);
        t->in_txn = !err;
        return err ? SB_ERR_DB : SB_OK;
}

static sb_err_t pg_commit(sb_target_t *bt, char *errstr, size_t errstr_size) {
        pg_target_t *t = (pg_target_t *)bt;
        if (!t->in_txn)
                return sb_seterr(SB_ERR_DB, errstr, errstr_size,
                                 "postgresql: commit: no transaction to commit");
        /* The last rows, the offsets and the COMMIT in one round trip. */
        sb_err_t err = flush(t, errstr, errstr_size);
        if (!err)
                err = pg_pipe_send(&t->pipe, "COMMIT", 0, NULL, "commit", errstr, errstr_size);
        PGresult *r = NULL;
        char why[1024];
        sb_err_t settled = settle(t, &r, why, sizeof(why));
        t->in_txn = 0;
        if (!err && settled)
                err = refused(t, sb_seterr(settled, errstr, errstr_size, "%s", why), errstr, errstr_size);
        /* COMMIT of a transaction that failed answers ROLLBACK, no error. */
        else if (!err && (!r || strcmp(PQcmdStatus(r), "COMMIT") != 0))
                err = sb_seterr(SB_ERR_DB, errstr, errstr_size,
                                "postgresql: commit: the transaction was rolled back");
        PQclear(r);
        if (!err)
                t->row_by_row = t->prepared_in_txn = 0;
        return err;
}

static void pg_rollback(sb_target_t *bt) {
        pg_target_t *t = (pg_target_t *)bt;
        char ignored[256];
        drop_buffers(t);
        settle(t, NULL, ignored, sizeof(ignored)); /* rolled back whatever they said */
        t->in_txn = 0;
        /* A statement prepared in it may not exist (its Parse skipped after
         * an error); under a new name it is prepared again. */
        if (t->prepared_in_txn)
                t->gen++;
        t->prepared_in_txn = 0;
        if (PQstatus(t->conn) == CONNECTION_OK && PQtransactionStatus(t->conn) != PQTRANS_IDLE)
                PQclear(PQexec(t->conn, "ROLLBACK"));
}

static sb_err_t pg_table_name(sb_target_t *bt, const char *topic, char *out, size_t size, char *errstr,
                              size_t errstr_size) {
        (void)bt;
        sb_err_t err = pg_check_ident(topic, "the table name of topic", errstr, errstr_size);
        if (err)
                return err;
        if (snprintf(out, size, "%s", topic) >= (int)size)
                return sb_seterr(SB_ERR_INVALID, errstr, errstr_size,
                                 "topic '%.64s...' gives a table name longer than %zu bytes", topic,
                                 size - 1);
        for (char *p = out; *p; p++)
                if (*p == '.' || *p == '-')
                        *p = '_';
        return SB_OK;
}

static sb_err_t pg_ensure_table(sb_target_t *bt, const char *table, const sb_node_t *key,
                                const sb_node_t *row, char *errstr, size_t errstr_size) {
        pg_target_t *t = (pg_target_t *)bt;
        sb_err_t err = flush_all(t, errstr, errstr_size);
        return err ? err : pg_ddl_ensure_table(t->conn, table, key, row, errstr, errstr_size);
}

static sb_err_t pg_ensure_history(sb_target_t *bt, const char *table, const sb_node_t *key,
                                  const sb_node_t *row, char *errstr, size_t errstr_size) {
        pg_target_t *t = (pg_target_t *)bt;
        sb_err_t err = flush_all(t, errstr, errstr_size);
        return err ? err : pg_ddl_ensure_history(t->conn, table, key, row, errstr, errstr_size);
}

static void stmt_free(stmt_t *s) {
        pg_batch_destroy(s->batch);
        pg_batch_destroy(s->removes);
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
        pg_quote_ident(&head, s->table);
        sb_buf_append(&head, " (", 2);
        for (size_t i = 0; i < first; i++)
                sb_buf_printf(&head, "\"%s\", ", history_columns[i]);
        pg_put_names(&head, row, ", ");
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
                pg_put_names(&tail, key, ", ");
                sb_buf_append(&tail, ") DO UPDATE SET ", 16);
                for (size_t i = 0; i < n; i++) {
                        sb_buf_printf(&tail, "%s", i ? ", " : "");
                        pg_quote_ident(&tail, sb_node_field_name(row, i));
                        sb_buf_append(&tail, " = EXCLUDED.", 12);
                        pg_quote_ident(&tail, sb_node_field_name(row, i));
                }
        }
        sb_err_t err = head.data && tail.data ? pg_batch_new((const char *)head.data, (const char *)tail.data,
                                                             first + n, keys, n_keys, &s->batch)
                                              : SB_ERR_NOMEM;
        if (!err)
                pg_batch_prepare_size(s->batch, PG_ASYNC_ROWS);
        if (!err && !s->history) {
                sb_buf_reset(&head);
                sb_buf_append(&head, "DELETE FROM ", 12);
                pg_quote_ident(&head, s->table);
                sb_buf_append(&head, " WHERE ", 7);
                for (size_t i = 0; i < s->n_key; i++) {
                        sb_buf_printf(&head, "%s", i ? " AND " : "");
                        pg_quote_ident(&head, sb_node_field_name(key, i));
                        sb_buf_printf(&head, " = $%zu", i + 1);
                }
                s->remove_sql = (char *)sb_buf_detach(&head, NULL);
                err = s->remove_sql ? SB_OK : SB_ERR_NOMEM;
        }
        /* The keys of a batch joined on: "DELETE FROM t AS sharebus_d USING
         * (VALUES ($1::type, ..), ..) AS sharebus_v (k, ..) WHERE
         * sharebus_d.k = sharebus_v.k AND ..".  Only when the row holds
         * every key field, so that a delete can find the upsert it drops. */
        if (!err && !s->history && s->n_key && n_keys == s->n_key) {
                size_t *all = calloc(s->n_key, sizeof(*all));
                sb_buf_reset(&head);
                sb_buf_reset(&tail);
                sb_buf_append(&head, "DELETE FROM ", 12);
                pg_quote_ident(&head, s->table);
                sb_buf_append(&head, " AS sharebus_d USING (", 22);
                sb_buf_append(&tail, ") AS sharebus_v (", 17);
                pg_put_names(&tail, key, ", ");
                sb_buf_append(&tail, ") WHERE ", 8);
                for (size_t i = 0; i < s->n_key; i++) {
                        const char *name = sb_node_field_name(key, i);
                        sb_buf_printf(&tail, "%ssharebus_d.", i ? " AND " : "");
                        pg_quote_ident(&tail, name);
                        sb_buf_append(&tail, " = sharebus_v.", 14);
                        pg_quote_ident(&tail, name);
                }
                for (size_t i = 0; all && i < s->n_key; i++)
                        all[i] = i;
                err = all && head.data && tail.data
                              ? pg_batch_new((const char *)head.data, (const char *)tail.data, s->n_key, all,
                                             s->n_key, &s->removes)
                              : SB_ERR_NOMEM;
                for (size_t i = 0; !err && i < s->n_key; i++)
                        err = pg_batch_cast(s->removes, i, s->key_cols[i].sqltype);
                free(all);
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
        if (!s || !(s->table = strdup(table)) ||
            (s->row = row, s->history = history, stmt_build(s, key, row))) {
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
                sb_err_t err =
                        pg_value_text(&cols[i], json_object_get(values, name), &vals[i], why, sizeof(why));
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
                return pg_batch_rows(s->batch) >= PG_ASYNC_ROWS ? flush_rows(t, errstr, errstr_size) : SB_OK;
        }
        if ((err = settle(t, NULL, errstr, errstr_size)) ||
            (err = pg_conn_sp_open(t->conn, errstr, errstr_size))) {
                pg_batch_clear(s->batch);
                return err;
        }
        err = send_batch(t, s->batch, s->history ? "append" : "upsert", errstr, errstr_size);
        return pg_conn_sp_close(t->conn, err, errstr, errstr_size);
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
        if (!err && !t->row_by_row && s->removes) {
                /* Buffered with the upserts of its statement (flush). */
                if ((t->pending && t->pending != s) || pg_batch_full(s->removes))
                        err = flush(t, errstr, errstr_size);
                if (!err) {
                        pg_batch_drop_key(s->batch, vals);
                        err = pg_batch_add(s->removes, vals);
                        free(vals);
                        t->pending = s;
                        return err ? sb_seterr(err, errstr, errstr_size, "out of memory") : SB_OK;
                }
        }
        /* The rows buffered before the delete go first, as they came. */
        if (!err)
                err = flush_all(t, errstr, errstr_size);
        if (!err && t->row_by_row) {
                if (!(err = pg_conn_sp_open(t->conn, errstr, errstr_size))) {
                        err = pg_conn_run(t->conn, s->remove_sql, (int)s->n_key, (const char *const *)vals,
                                          NULL, "delete", errstr, errstr_size);
                        err = pg_conn_sp_close(t->conn, err, errstr, errstr_size);
                }
        } else if (!err) {
                err = refused(t,
                              pg_conn_run(t->conn, s->remove_sql, (int)s->n_key, (const char *const *)vals,
                                          NULL, "delete", errstr, errstr_size),
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
static sb_err_t pg_record_columns(sb_target_t *bt, const char *table, const sb_node_t *row, char *errstr,
                                  size_t errstr_size) {
        pg_target_t *t = (pg_target_t *)bt;
        sb_err_t err = flush_all(t, errstr, errstr_size);
        return err ? err : pg_ddl_record_columns(t->conn, table, row, errstr, errstr_size);
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
         * first place to find the server back.  Also at the start of each
         * batch's transaction (the subscriber's fence against an instance
         * that lost the partition while it was frozen): FOR UPDATE makes the
         * second of two such transactions wait for the first to end and then
         * read what it stored, as SQLite's single writer does. */
        sb_err_t err = flush(t, errstr, errstr_size);
        if (!err && !t->pipe.n)
                err = connected(t, errstr, errstr_size);
        /* In the pipeline: a batch's BEGIN and its first offset in one
         * round trip. */
        if (!err)
                err = pg_pipe_send(
                        &t->pipe,
                        "SELECT next_offset FROM sharebus_offsets WHERE consumer_group = $1 AND topic = "
                        "$2 AND kafka_partition = $3 FOR UPDATE",
                        3, p, "load offset", errstr, errstr_size);
        if (!err)
                err = settle(t, &r, errstr, errstr_size);
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
        /* Sent with the batch's last rows and its COMMIT (pg_commit). */
        sb_err_t err = flush(t, errstr, errstr_size);
        if (!err)
                err = pg_pipe_send(&t->pipe,
                                   "INSERT INTO sharebus_offsets (consumer_group, topic, kafka_partition, "
                                   "next_offset) VALUES ($1, $2, $3, $4) ON CONFLICT (consumer_group, topic, "
                                   "kafka_partition) DO UPDATE SET next_offset = EXCLUDED.next_offset, "
                                   "updated_at = now()",
                                   4, p, "store offset", errstr, errstr_size);
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
        if (pg_batch_add(t->receipts, vals))
                return sb_seterr(SB_ERR_NOMEM, errstr, errstr_size, "out of memory");
        return !t->row_by_row && pg_batch_rows(t->receipts) >= PG_ASYNC_ROWS
                       ? refused(t, send_batch(t, t->receipts, "record receipts", errstr, errstr_size),
                                 errstr, errstr_size)
                       : SB_OK;
}

static sb_err_t pg_has_receipt(sb_target_t *bt, const char *topic, int32_t partition, int64_t offset,
                               const char *event_id, int *found, char *errstr, size_t errstr_size) {
        pg_target_t *t = (pg_target_t *)bt;
        char part[16], off[32];
        snprintf(part, sizeof(part), "%d", (int)partition);
        snprintf(off, sizeof(off), "%lld", (long long)offset);
        const char *p[4] = {topic, part, off, event_id};
        PGresult *r = NULL;
        *found = 0;
        sb_err_t err = flush_all(t, errstr, errstr_size);
        /* By the position index (target.h). */
        if (!err)
                err = pg_conn_run(t->conn,
                                  "SELECT 1 FROM sharebus_receipts WHERE topic = $1 AND kafka_partition = $2 "
                                  "AND kafka_offset = $3 AND event_id = $4 LIMIT 1",
                                  4, p, &r, "look up receipt", errstr, errstr_size);
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
        t->pipe.conn = t->conn;
        if (PQstatus(t->conn) != CONNECTION_OK) {
                sb_err_t err = pg_conn_err(t->conn, NULL, "cannot connect (postgresql_conninfo)", errstr,
                                           errstr_size);
                pg_destroy(&t->base);
                return err;
        }
        PQsetNoticeProcessor(t->conn, quiet_notice, NULL);
        sb_err_t err = pg_ddl_ensure_sharebus_tables(t->conn, errstr, errstr_size);
        if (!err &&
            pg_batch_new("INSERT INTO sharebus_receipts (topic, kafka_partition, kafka_offset, event_id, op)",
                         "", 5, NULL, 0, &t->receipts))
                err = sb_seterr(SB_ERR_NOMEM, errstr, errstr_size, "out of memory");
        if (!err)
                pg_batch_prepare_size(t->receipts, PG_ASYNC_ROWS);
        if (err) {
                pg_destroy(&t->base);
                return err == SB_ERR_INVALID ? SB_ERR_DB : err;
        }
        *out = &t->base;
        return SB_OK;
}

/*
 * pg_batch: rows of one INSERT statement buffered and sent as one
 * multi-row statement, for the PostgreSQL target (target_pg.h): a round
 * trip per 500 rows instead of one per row.
 *
 * A batch is `head` ("INSERT INTO t (a, b)"), the buffered rows as text
 * parameters, and `tail` (" ON CONFLICT ..."): pg_batch_exec sends
 * head VALUES ($1, $2), ($3, $4) tail.  Rows per statement are bounded by
 * PG_BATCH_MAX_ROWS and by PostgreSQL's 65535 parameters.
 *
 * With key columns, a row whose key is already buffered replaces that row:
 * the later change wins, as applied one by one, and PostgreSQL refuses an
 * ON CONFLICT DO UPDATE that touches one row twice in a statement.  A row
 * can also be dropped by its key (a delete that came after it).
 */
#ifndef SB_PG_BATCH_H
#define SB_PG_BATCH_H

#include <libpq-fe.h>
#include <stddef.h>

#include "sb_error.h"

#define PG_BATCH_MAX_ROWS 500

typedef struct pg_batch_s pg_batch_t;

/* A batch of rows of `ncols` (>= 1) values; `key_cols` (n_key indexes into
 * a row, copied; n_key 0: no replacing) say which make the key.  head and
 * tail are copied.  *out is a new batch the caller destroys. */
sb_err_t pg_batch_new(const char *head, const char *tail, size_t ncols, const size_t *key_cols, size_t n_key,
                      pg_batch_t **out);
void pg_batch_destroy(pg_batch_t *b);

/* Adds a row: `values` holds ncols strings or NULLs (SQL NULL), all taken
 * over by the batch (freed by it, whatever the result).  SB_ERR_NOMEM
 * only.  Call pg_batch_full first: a full batch takes no row. */
sb_err_t pg_batch_add(pg_batch_t *b, char **values);
/* Rows to be sent (a row dropped is not one). */
size_t pg_batch_rows(const pg_batch_t *b);
/* No room for a row of a new key (a dropped row still holds its place). */
int pg_batch_full(const pg_batch_t *b);
/* Takes the buffered row of the key `key_values` (n_key strings in the
 * order of key_cols, borrowed) out of the batch: a delete of that key came
 * after it.  1 if there was one; 0 if not, or for a batch without key. */
int pg_batch_drop_key(pg_batch_t *b, char *const *key_values);
/* Casts column `col`'s parameters to SQL type `type` (copied): where
 * PostgreSQL cannot infer a type, as in a VALUES list joined on.
 * SB_ERR_NOMEM, or SB_ERR_INVALID for a column out of range. */
sb_err_t pg_batch_cast(pg_batch_t *b, size_t col, const char *type);

/* Sends the buffered rows as one statement; the result is the caller's to
 * PQclear (NULL when memory ran out).  The rows stay until pg_batch_clear. */
PGresult *pg_batch_exec(pg_batch_t *b, PGconn *conn);
/* The same sent without waiting for the result (libpq's pipeline mode,
 * which the caller entered).  A statement of the size pg_batch_prepare_size
 * set runs prepared, prepared first on connection generation `gen` (the
 * caller's count of connections and failed transactions: after either, a
 * statement is prepared again under a new name).  Returns the statements
 * queued (2: the prepare and the statement, each with its own result; 1),
 * 0 when libpq refused or memory ran out (PQerrorMessage says why).  The
 * parameters are copied into libpq's buffer: the rows may be cleared at
 * once. */
int pg_batch_send(pg_batch_t *b, PGconn *conn, unsigned gen);
/* Statements of exactly `rows` rows (the size a caller sends its batches
 * at) are prepared once and reused: no parse and plan each time. */
void pg_batch_prepare_size(pg_batch_t *b, size_t rows);
/* Drops the buffered rows. */
void pg_batch_clear(pg_batch_t *b);

#endif

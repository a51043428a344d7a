/*
 * pg_conn: what the PostgreSQL target's modules share about a libpq
 * connection: running a statement with text parameters, telling a refused
 * row from a database that is not working (target.h's two error classes),
 * savepoints, and quoted identifiers.
 */
#ifndef SB_PG_CONN_H
#define SB_PG_CONN_H

#include <libpq-fe.h>
#include <stddef.h>

#include "sb_buf.h"
#include "sb_error.h"
#include "sb_schema.h"

/* PostgreSQL's longest identifier (NAMEDATALEN - 1), in bytes. */
#define SB_PG_MAX_IDENT 63

/* Serialises the DDL of subscribers sharing a database (an advisory lock
 * held to the end of the transaction): two CREATE TABLE IF NOT EXISTS of one
 * name at the same time would otherwise fail on PostgreSQL's catalog
 * (duplicate key in pg_type), as two instances starting together do. */
#define SB_PG_DDL_LOCK "SELECT pg_advisory_xact_lock(1936220530)"

/* SB_ERR_INVALID when PostgreSQL refused result r for its data (SQLSTATE
 * 22, 23, the data's part of 42, 54000) on a working connection, else
 * SB_ERR_DB; errstr names `what`, the message and the SQLSTATE.  r NULL:
 * the connection's message. */
sb_err_t pg_conn_err(PGconn *conn, const PGresult *r, const char *what, char *errstr, size_t errstr_size);
int pg_result_ok(const PGresult *r);
/* Runs `sql` with n text parameters (params NULL: PQexec, which also takes
 * several statements).  On success *out (if out is not NULL) is the
 * result, the caller's to PQclear. */
sb_err_t pg_conn_run(PGconn *conn, const char *sql, int n, const char *const *params, PGresult **out,
                     const char *what, char *errstr, size_t errstr_size);
/* A savepoint around work that PostgreSQL may refuse: pg_conn_sp_close
 * after the work ended with `err` undoes a refused (SB_ERR_INVALID) work
 * alone, so the transaction stays usable, and returns err. */
sb_err_t pg_conn_sp_open(PGconn *conn, char *errstr, size_t errstr_size);
sb_err_t pg_conn_sp_close(PGconn *conn, sb_err_t err, char *errstr, size_t errstr_size);

/* SB_ERR_INVALID ("<what> '...' is longer than ...") unless `name` fits in
 * SB_PG_MAX_IDENT bytes: PostgreSQL would cut it short without a word. */
sb_err_t pg_check_ident(const char *name, const char *what, char *errstr, size_t errstr_size);
/* Appends "name" quoted as an SQL identifier. */
sb_err_t pg_quote_ident(sb_buf_t *b, const char *name);
/* Appends the field names of record `rec` quoted, `sep` between them. */
sb_err_t pg_put_names(sb_buf_t *b, const sb_node_t *rec, const char *sep);

#endif

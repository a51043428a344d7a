/*
 * pg_ddl: the tables of the PostgreSQL target (target_pg.h): created from
 * the key and row records with native types (pg_value.h), given the
 * columns a newer row schema adds (with the field's default for the rows
 * already there), and checked against a changed key.
 *
 * Each call runs in a savepoint: DDL refused for the schema's sake
 * (SB_ERR_INVALID) leaves the transaction usable, as the subscriber
 * dead-letters the record and goes on.
 */
#ifndef SB_PG_DDL_H
#define SB_PG_DDL_H

#include <libpq-fe.h>
#include <stddef.h>

#include "sb_error.h"
#include "sb_schema.h"

/* target.h's ensure_table and ensure_history, on `conn` in a transaction.
 * Nodes are borrowed for the call. */
/* The target's own tables (sharebus_offsets, sharebus_receipts and its
 * position index, sharebus_columns), under the DDL lock, in a transaction
 * of its own. */
sb_err_t pg_ddl_ensure_sharebus_tables(PGconn *conn, char *errstr, size_t errstr_size);
/* What sharebus_columns says of each column of `row` in `table`: its
 * classification, policy and source field (target.h), in a savepoint. */
sb_err_t pg_ddl_record_columns(PGconn *conn, const char *table, const sb_node_t *row, char *errstr,
                               size_t errstr_size);
sb_err_t pg_ddl_ensure_table(PGconn *conn, const char *table, const sb_node_t *key, const sb_node_t *row,
                             char *errstr, size_t errstr_size);
sb_err_t pg_ddl_ensure_history(PGconn *conn, const char *table, const sb_node_t *key, const sb_node_t *row,
                               char *errstr, size_t errstr_size);

#endif

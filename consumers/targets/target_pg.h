/*
 * target_pg: the PostgreSQL target (target.h), on libpq.
 *
 * Same guarantees as SQLite: the rows, receipts and offsets of a batch are
 * one transaction.  Tables get native column types (pg_value.h).  Upserts of
 * one table, history appends and receipts are buffered and sent as
 * multi-row statements (pg_batch.h), before any statement that must see
 * them and at commit.
 *
 * A failed statement loses a PostgreSQL transaction, while the subscriber
 * dead-letters a refused row and goes on in the same transaction.  So a
 * buffered statement that PostgreSQL refuses for its data (SQLSTATE classes
 * 22 and 23, the data's part of 42) gives SB_ERR_DB ("the batch will be
 * applied row by row"), and the next transaction, the subscriber's retry,
 * applies each row at once inside a savepoint: the refused row alone gets
 * SB_ERR_INVALID and the transaction stays usable.  Batching resumes after
 * that transaction commits.  Table and column DDL always runs in a
 * savepoint, for the same reason.
 *
 * A lost connection (or the server's 08, 57, 40 classes) is SB_ERR_DB; the
 * next begin, or load_offset outside a transaction, connects again, so the
 * subscriber's retries recover once PostgreSQL is back.
 *
 * Identifiers are quoted; a table or column name over PostgreSQL's 63
 * bytes is SB_ERR_INVALID (PostgreSQL would cut it short silently).
 */
#ifndef SB_TARGET_PG_H
#define SB_TARGET_PG_H

#include <stddef.h>

#include "sb_error.h"
#include "target.h"
#include "targets/pg_conn.h" /* SB_PG_MAX_IDENT */

/* Connects with libpq connection string `conninfo` (not kept in errors:
 * it may hold a password) and creates sharebus_offsets, sharebus_receipts
 * and sharebus_columns if absent.  *out is a new target the caller destroys
 * with out->ops->destroy. */
sb_err_t sb_target_pg_open(const char *conninfo, sb_target_t **out, char *errstr, size_t errstr_size);

#endif

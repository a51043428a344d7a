/*
 * sqlite_sql: the SQL text of the SQLite outbox source (source_sqlite.h):
 * checked identifiers, the json_object expression of a record read from
 * the columns named after its fields (also what a snapshot selects), and
 * the outbox's DDL and triggers that --print-ddl sqlite prints.  Separate
 * from the source's reading and acknowledging, which run SQL this builds.
 */
#ifndef SB_PRODUCERS_SQLITE_SQL_H
#define SB_PRODUCERS_SQLITE_SQL_H

#include <stdio.h>

#include "sb_buf.h"
#include "sb_error.h"
#include "sb_schema.h"

/* Names put into SQL text (table and column names) are at most this long. */
#define SQLITE_SQL_IDENT_MAX 128

/* 1 if `s` is a plain SQL identifier ([A-Za-z_][A-Za-z0-9_]*, bounded). */
int sqlite_sql_ident_valid(const char *s);
/* Appends to `b` a json_object over the fields of record `rec`, each read
 * from the column `prefix`"field" and converted to what the schema expects. */
sb_err_t sqlite_sql_object_expr(sb_buf_t *b, const sb_node_t *rec, const char *prefix);
/* SB_OK if `rec` is a record whose field names are identifiers; else
 * SB_ERR_SCHEMA naming `what` (key, row). */
sb_err_t sqlite_sql_check_record(const sb_node_t *rec, const char *what, char *errstr, size_t errstr_size);

/* The table where the producer records, per outbox table and dataset, the
 * seq up to which Kafka has every row, one row per minute of sending
 * (source_sqlite.h). */
#define SQLITE_SQL_PROGRESS_TABLE "sharebus_outbox_progress"
/* Appends the CREATE TABLE IF NOT EXISTS of SQLITE_SQL_PROGRESS_TABLE. */
sb_err_t sqlite_sql_progress_ddl(sb_buf_t *b);

/* Prints to `out` the SQL that creates the outbox `outbox_table` (PRAGMA
 * journal_mode, table, index, the progress table and a view `outbox_table`_unsent
 * of the rows not yet sent; IF NOT EXISTS so it may be run again) and,
 * when `business_table` is not NULL, triggers AFTER INSERT, UPDATE and
 * DELETE on it that write each change of the table into the outbox as
 * dataset `dataset`: key = json_object of the key record's fields, before /
 * after = json_object of the row record's fields of OLD / NEW (column names
 * are field names), values converted as for a snapshot.  An update that
 * changes the key is written as a delete of the old key and a create of the
 * new one.  So a department can start publishing without changing its
 * application.  All arguments are borrowed; key_record and row_record may
 * be NULL without a business table.  SB_ERR_CONFIG when a name is not an
 * SQL identifier ([A-Za-z_][A-Za-z0-9_]*, at most 64 characters),
 * SB_ERR_SCHEMA when a record is missing or is not a record. */
sb_err_t sqlite_sql_print_ddl(FILE *out, const char *outbox_table, const char *business_table,
                              const char *dataset, const sb_node_t *key_record, const sb_node_t *row_record,
                              char *errstr, size_t errstr_size);

#endif

/*
 * pg_sql: the SQL text of the PostgreSQL outbox source
 * (source_postgresql.h): which names may be written into SQL as they are,
 * sets of seqs as int8multirange text, and the outbox's DDL, NOTIFY trigger and the row trigger of a business
 * table that --print-ddl postgresql prints.
 */
#ifndef SB_PRODUCERS_PG_SQL_H
#define SB_PRODUCERS_PG_SQL_H

#include <libpq-fe.h>
#include <stdint.h>
#include <stdio.h>

#include "sb_buf.h"
#include "sb_error.h"
#include "sb_schema.h"

/* 1 if `s` is `name` or `schema.name`, each an unquoted lower-case SQL
 * identifier of at most 63 characters: written into SQL as it is, it folds
 * to itself. */
int pg_sql_ident_ok(const char *s);
/* The table's name without its schema (a pointer into s). */
const char *pg_sql_ident_base(const char *s);
/* 1 if `s` is an Avro name ([A-Za-z_][A-Za-z0-9_]*): safe inside '...' and
 * "..." as it is. */
int pg_sql_avro_name_ok(const char *s);

/* A range of outbox seqs, both ends inclusive. */
typedef struct {
        int64_t lo, hi;
} pg_sql_range_t;

/* Writes into `out` (reset first) the int8multirange text of the `n`
 * ranges of `v` (sorted here, in place): "{[1,4),[7,8)}", overlapping and
 * adjacent ranges merged so the text stays short; NUL-terminated for libpq.
 * SB_ERR_NOMEM when it outgrows out's bound. */
sb_err_t pg_sql_multirange(pg_sql_range_t *v, size_t n, sb_buf_t *out);

/* Writes into `q` the DECLARE of the snapshot's cursor over `table`: one
 * change line per row (op r, the key from key_record's fields, after the
 * row as to_jsonb with timestamp columns as Avro text, ts_ms `ts` and seq
 * `max_seq`, both SQL expressions).  `columns` is the table's columns
 * (attname, is-a-timestamp "t"/"f") from pg_attribute.  A second column
 * holds the reason when a line is longer than `max_row` bytes: then the
 * line is {"rejected_by_source": reason}.  SB_ERR_CONFIG naming the column
 * when a key field is not a column of the table. */
sb_err_t pg_sql_snapshot_cursor(sb_buf_t *q, const char *table, const sb_node_t *key_record,
                                const PGresult *columns, const char *ts, const char *max_seq,
                                long long max_row, char *errstr, size_t errstr_size);

/* Prints to `out` the SQL that creates `outbox_table` (with its indexes and
 * NOTIFY trigger) and, when `business_table` is not NULL, a row trigger on
 * it that writes each insert, update and delete of the table to the outbox
 * as `dataset`, with the key built from the fields of `key_record` (a
 * record node, borrowed) and before/after as the Avro JSON described above
 * (timestamp and timestamptz columns in UTC with milliseconds; timestamp
 * without time zone is read as UTC).  An update that changes the key is
 * written as a delete of the old key and a create of the new.  The table's
 * columns must be the dataset's row fields (the encoder refuses others).
 * SB_ERR_CONFIG when a name is not a plain identifier. */
sb_err_t pg_sql_print_ddl(FILE *out, const char *outbox_table, const char *business_table,
                          const char *dataset, const sb_node_t *key_record, char *errstr, size_t errstr_size);

/* The query that reads unsent outbox rows of `table` (a valid identifier)
 * into `sql`: parameters $1 the dataset, $2 the seqs handed over already
 * (int8multirange), $3 the most rows, $4 max_outbox_row_bytes; columns seq,
 * ts_ms, the change line, and the reason when the row's JSON texts (key,
 * before and after) are longer than $4: then the line is
 * {"rejected_by_source": reason}, measured in the server, the row never sent. */
void pg_sql_outbox_read(char *sql, size_t size, const char *table);

#endif

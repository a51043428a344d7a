/*
 * upsert_raw_pg: the PostgreSQL subscriber's baseline for `make bench`, the
 * database itself, as upsert_raw.h is SQLite's.  The changes of a JSON-lines
 * file are decoded into memory first (not timed); then, timed, they are
 * applied to a new table made LIKE the subscriber's (same column types and
 * primary key) the plain fast way: one prepared INSERT .. ON CONFLICT DO
 * UPDATE per create/update/read and one prepared DELETE per delete, text
 * parameters, sent in libpq's pipeline mode with `batch` changes per
 * transaction and one round trip per transaction.  No offsets, no receipts,
 * no decoding, no Kafka.
 */
#ifndef SB_BENCH_UPSERT_RAW_PG_H
#define SB_BENCH_UPSERT_RAW_PG_H

/* Applies the changes of `lines_path` to table `table` (dropped and made
 * again LIKE `like_table`) of the database `conninfo` names, in
 * transactions of `batch` changes.  Prints "<events/s> <events>" to stdout;
 * 0 on success, 1 with a message on stderr otherwise. */
int upsert_raw_pg(const char *lines_path, const char *conninfo, const char *like_table, const char *table,
                  long batch);

#endif

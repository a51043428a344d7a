/*
 * upsert_raw: the subscriber's fair baseline for `make bench`, the database
 * itself.  The changes of a JSON-lines file (sharebus-sample's) are decoded
 * into memory first (not timed); then, timed, they are applied to a fresh
 * SQLite table the plain way: one prepared INSERT .. ON CONFLICT DO UPDATE
 * per create/update/read and one prepared DELETE per delete, `batch` changes
 * per transaction, in WAL mode with synchronous=FULL as the subscriber's
 * target runs.  No offsets, no receipts, no decoding, no Kafka: what the
 * subscriber does beyond this is its own cost.
 */
#ifndef SB_BENCH_UPSERT_RAW_H
#define SB_BENCH_UPSERT_RAW_H

/* Applies the changes of `lines_path` (JSON lines; the row's columns are the
 * members of the first `after`, the key's those of the first `key`) to a
 * new database at `db_path` in transactions of `batch` changes.  Prints
 * "<events/s> <events>" to stdout; 0 on success, 1 with a message on
 * stderr otherwise. */
int upsert_raw(const char *lines_path, const char *db_path, long batch);

#endif

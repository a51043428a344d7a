/*
 * sqlite_progress: what the SQLite outbox source has sent, per outbox table
 * and dataset, in SQLITE_SQL_PROGRESS_TABLE (source_sqlite.h), and the
 * pruning of the rows sent longer ago than the retention.
 *
 * SQLite's seq order is commit order, so "sent" is one number: every row of
 * the dataset up to the mark is in Kafka.  The table keeps one row per
 * minute of sending (the latest row moves forward within its minute; a new
 * run starts its own), so it also says what was sent by when, which is what
 * pruning needs.
 */
#ifndef SB_PRODUCERS_SQLITE_PROGRESS_H
#define SB_PRODUCERS_SQLITE_PROGRESS_H

#include <sqlite3.h>
#include <stdint.h>

#include "sb_error.h"

typedef struct sqlite_progress_s sqlite_progress_t;

/* Creates the progress table if missing, prepares its statements on `db`
 * and reads the dataset's mark.  db, path (for messages), table and dataset
 * are borrowed and must outlive the handle; rows sent `retention_ms` ago
 * or more are pruned.  *out is destroyed with sqlite_progress_destroy
 * (before db is closed).  SB_ERR_DB with errstr on failure. */
sb_err_t sqlite_progress_new(sqlite3 *db, const char *path, const char *table, const char *dataset,
                             long long retention_ms, sqlite_progress_t **out, char *errstr,
                             size_t errstr_size);
void sqlite_progress_destroy(sqlite_progress_t *p);

/* The mark: every row of the dataset up to it is sent (0: none yet). */
uint64_t sqlite_progress_mark(const sqlite_progress_t *p);

/* Records that every row up to `position` is in Kafka.  A position at or
 * below the mark (a late ack of an older producer) changes nothing. */
sb_err_t sqlite_progress_record(sqlite_progress_t *p, uint64_t position, char *errstr, size_t errstr_size);

/* When a prune is due (at the first call, then at most every minute, or a
 * tenth of the retention), deletes the rows sent at least the retention
 * ago, at most 10,000 of them, and the progress rows below
 * them.  *deleted = outbox rows deleted.  Returns SQLITE_DONE, or the
 * SQLite result of the statement that failed (the prune is then due
 * again at the next call). */
int sqlite_progress_prune(sqlite_progress_t *p, int *deleted);

#endif

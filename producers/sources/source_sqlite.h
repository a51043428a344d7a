/*
 * source_sqlite: change lines from a transactional outbox table in a SQLite
 * database, the embedded default database of a department (`source =
 * "sqlite"`).
 *
 * The outbox.  The department's application inserts one row per change into
 * the outbox in the same transaction as the business change itself, so a
 * change is in the outbox if and only if it committed:
 *
 *   PRAGMA journal_mode = WAL;   -- the writer and the producer share the file
 *   CREATE TABLE sharebus_outbox (
 *     dataset    TEXT NOT NULL,                  -- the topic's second part
 *     op         TEXT NOT NULL CHECK (op IN ('c','u','d','r')),
 *     "key"      TEXT NOT NULL,                  -- JSON object: the primary key
 *     "before"   TEXT,                           -- JSON object or NULL
 *     "after"    TEXT,                           -- JSON object or NULL
 *     changed_at INTEGER NOT NULL                -- ms since the epoch
 *                DEFAULT (CAST((julianday('now') - 2440587.5) * 86400000.0 AS INTEGER)),
 *     seq        INTEGER PRIMARY KEY AUTOINCREMENT
 *   );
 *   CREATE INDEX sharebus_outbox_dataset ON sharebus_outbox (dataset, seq);
 *   CREATE TABLE sharebus_outbox_progress (outbox_table, dataset, seq, sent_at, PRIMARY KEY (..));
 *   CREATE VIEW sharebus_outbox_unsent AS ...   -- the rows after their dataset's progress seq
 *
 * (`sharebus-producer --print-ddl sqlite` prints it, sqlite_sql_print_ddl (sqlite_sql.h)
 * below, with triggers that fill it from a business table.)
 *
 * Order.  SQLite serialises writers: one write transaction at a time holds
 * the database, and AUTOINCREMENT hands out seq values above every value
 * ever used, so seq order is commit order and a row never appears behind
 * a seq the producer has already read.  PostgreSQL's outbox has to cope with
 * a sequence value taken by a transaction that commits after a later one
 * (a gap that fills in later); here there is no such gap.
 *
 * What the producer gets.  The unsent rows of its dataset (setting
 * `dataset`), in seq order, each as the change line
 *   {"op":<op>,"key":<key>,"before":<before>,"after":<after>,"ts_ms":<changed_at>,"seq":<seq>}
 * made by concatenating the stored JSON texts (no JSON tree is built: the
 * producer parses the line once); position = seq.  ack(p) records p as the
 * dataset's progress seq (never lower than it was: a late ack of an older
 * producer does not move it back); a reopened source hands over every row
 * after it again.  Because seq order is commit order, "sent" is that one
 * number: no outbox row is ever updated, where setting a sent_at per row
 * rewrote every row (and its index entries) once more, about 5 us of SQLite
 * work per row, more than publishing it.  The progress table keeps one row
 * per minute of sending (the latest row moves forward within its minute), so
 * it says what was sent by when: rows sent `outbox_retention_ms` ago or more
 * are deleted (at most 10,000 a time: sqlite_progress.h), with the progress rows
 * below them, by the producer that sent them: producers of other datasets
 * sharing the table keep theirs.
 *
 * Rows the producer must reject are still handed over, so that they are
 * kept as rejects and acknowledged rather than stalling the outbox: a NULL
 * key ("key":null), an op other than c/u/d/r (the op as a JSON string), a
 * changed_at that is no integer ("ts_ms":null), and a row whose JSON texts
 * exceed max_outbox_row_bytes (at most SOURCE_SQLITE_ROW_MAX; a line the
 * parser refuses as having the member "rejected_by_source"; SQLite reads
 * the row once to measure it); the record's `where` says why ("outbox
 * seq 42: key is NULL").  Stored JSON that is malformed is the parser's to
 * refuse, with its own reason.
 *
 * Waiting.  SQLite has no notification across processes: when no row is
 * there, next() sleeps `outbox_poll_ms` between reads, up to its timeout,
 * and reads the table only when PRAGMA data_version says another connection
 * committed since the last empty read.  `sqlite_busy_timeout_ms` lets the
 * producer wait for the application's write lock (for ack) instead of
 * failing at once.
 *
 * Snapshot (--snapshot, setting `snapshot_table`).  One read transaction
 * takes the outbox's max(seq) S and reads every row of the business table;
 * each row becomes {"op":"r","key":{key fields},"after":{row fields},
 * "ts_ms":<snapshot start>,"seq":S}, and the outbox then continues with the
 * rows after S.  In WAL mode a read transaction sees one committed state of
 * the whole file, and the application writes its business rows and their
 * outbox rows in one transaction: the changes up to S are exactly those in
 * the snapshot, those after S exactly those not in it, so nothing is lost or
 * doubled.  Snapshot rows carry position 0 except the last, which carries S:
 * once it is delivered (the producer acks S), the unsent rows up to S, which
 * the snapshot superseded, are marked sent; an empty snapshot marks them at
 * once.  Column values are turned into the JSON the Avro encoder expects
 * (sb_avro.c): 0/1 into booleans for boolean fields, SQLite date and time
 * texts ("2024-05-01", "2024-05-01 10:00:00") into "YYYY-MM-DD" and ms since
 * the epoch for date and timestamp-millis fields, BLOBs into the Avro JSON
 * form of bytes (one character per byte), JSON texts into JSON for record,
 * array and map fields, numbers into text for string and enum fields.  The
 * read transaction is held until the last row is handed over: in WAL mode
 * writers go on and the WAL grows until then; in rollback-journal mode the
 * application cannot commit until the snapshot is read (consistent, but it
 * waits), which is one more reason for WAL.
 */
#ifndef SB_PRODUCERS_SOURCE_SQLITE_H
#define SB_PRODUCERS_SOURCE_SQLITE_H

#include <stdio.h>

#include "sources/source.h"

/* Bound on the JSON texts of one row (key + before + after, or a snapshot
 * row's key + after) handed over as a change line: the upper bound and
 * default of max_outbox_row_bytes. */
#define SOURCE_SQLITE_ROW_MAX (16u * 1024 * 1024)

extern const source_ops_t source_sqlite_ops;

#endif

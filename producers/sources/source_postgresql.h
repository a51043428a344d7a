/*
 * source_postgresql: change lines from a transactional outbox in a
 * department's PostgreSQL database (PostgreSQL 14 or later: the source uses
 * int8multirange).
 *
 * The department's application (or a trigger, see print_ddl below) writes
 * one outbox row per change, in the same transaction as the business change,
 * so a change is in the outbox exactly when it is committed:
 *
 *   CREATE TABLE sharebus_outbox (
 *     seq        bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
 *     dataset    text NOT NULL,              -- e.g. 'business_license'
 *     op         char(1) NOT NULL CHECK (op IN ('c', 'u', 'd', 'r')),
 *     key        jsonb NOT NULL,             -- {"uscc": "..."}
 *     before     jsonb,                      -- row before (u, d), or NULL
 *     after      jsonb,                      -- row after (c, u, r), or NULL
 *     changed_at timestamptz NOT NULL DEFAULT now(),
 *     sent_at    timestamptz                 -- set by the producer once delivered
 *   );
 *   CREATE INDEX sharebus_outbox_unsent ON sharebus_outbox (dataset, seq) WHERE sent_at IS NULL;
 *   CREATE INDEX sharebus_outbox_sent ON sharebus_outbox (dataset, sent_at) WHERE sent_at IS NOT NULL;
 *   + a statement trigger that runs pg_notify('sharebus_outbox', '') after inserts.
 *
 * `sharebus-producer --print-ddl postgresql` prints all of it
 * (pg_sql_print_ddl in pg_sql.h).  Values in before/after/key are the Avro
 * JSON of the dataset (sb_avro.h): dates "YYYY-MM-DD", timestamps
 * "YYYY-MM-DDTHH:MM:SS.mmmZ" (UTC), enums their symbol, numbers as JSON
 * numbers.
 *
 * Settings: postgresql_conninfo (libpq), outbox_table (default
 * sharebus_outbox, an unquoted lower-case identifier, optionally
 * schema.table), outbox_retention_ms (sent rows older than this are
 * deleted), snapshot_table (for --snapshot).  Only rows whose dataset is the
 * producer's dataset are read, so one outbox may serve several producers.
 *
 * Each row becomes {"op":..,"key":..,"before":..,"after":..,"ts_ms":
 * <changed_at in ms>,"seq":<seq>}, handed over in seq order, marked sent
 * (sent_at = now()) only when the producer acknowledges it; sent rows are
 * deleted once older than outbox_retention_ms (checked after an ack, at
 * most once a minute, every time when the retention is 0).
 *
 * The outbox gap.  seq is taken at insert, but transactions commit in their
 * own order: seq 7 may become visible after seq 8 was read.  So the source
 * does not read "after the last seq": it reads every unsent row it has not
 * handed over yet (the unsent-rows index makes that cheap), lowest seq
 * first, and a late row is published when it appears, never skipped.
 * Positions are therefore not seqs but the ordinal of the hand-over (1, 2,
 * 3, ... since open), mapped to the seq each covers; ack(p) marks sent the
 * rows of ordinals <= p, by seq.  For one key the seqs still follow the
 * commit order as long as the outbox row is written after the business row
 * was changed (the row lock orders the transactions), which the trigger
 * does.  Rows handed over are kept (at most PGSRC_HANDED_MAX) until acked;
 * when that many wait, next() hands over nothing until acks come.
 *
 * Waiting.  The source LISTENs on the outbox's channel (its table name) and,
 * when no row is unsent, waits on the connection's socket with poll() for a
 * notification, up to next()'s timeout: no polling of the table.
 *
 * Lost connection (the server restarted, the network broke): the source
 * logs it, reconnects at the next call (logging that too), and goes on.
 * Rows handed over but not acknowledged stay with the producer, which still
 * acknowledges them: their marks are written after the reconnection (an
 * ack that failed is retried by every later ack and next()).  An unacked
 * row whose producer died is read again by the next producer: at-least-once.
 *
 * Snapshot (--snapshot; setting snapshot_table).  One REPEATABLE READ, READ
 * ONLY transaction: its snapshot (taken at its first query) reads the
 * business table's rows (op=r, key from the dataset's key fields, after =
 * the row as JSON, position 0) and the seqs of the unsent outbox rows
 * visible in the same snapshot.  "Taken at the start of the snapshot" is
 * PostgreSQL's snapshot: the transactions committed when it was taken.  A
 * transaction still in progress then is invisible in both the business
 * table and the outbox, and since it writes both atomically its change
 * comes later, from the outbox; a committed one is in the business rows, so
 * its unsent outbox rows (the seqs read) are not published again: they are
 * marked sent with the first ack after the snapshot.  So every change is
 * in exactly one of the two, without locking the table or waiting for the
 * open transactions.  Snapshot rows carry "ts_ms" of the snapshot and
 * "seq" of the highest outbox seq it saw.  A connection lost during the
 * snapshot starts it again (rows may come twice; at-least-once).
 */
#ifndef SB_PRODUCERS_SOURCE_POSTGRESQL_H
#define SB_PRODUCERS_SOURCE_POSTGRESQL_H

#include <stdio.h>

#include "sb_error.h"
#include "sb_schema.h"
#include "sources/source.h"

/* Rows handed over and waiting for their ack, at most. */
#define PGSRC_HANDED_MAX 100000

extern const source_ops_t source_postgresql_ops;

#endif

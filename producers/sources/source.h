/*
 * source: where a producer's change events come from, behind one small
 * interface so that a new kind of source is one file (source_<kind>.c with
 * its source_<kind>.h exporting one `const source_ops_t source_<kind>_ops`).
 *
 * Every source hands over changes as change lines (change_line.h: the JSON
 * object a department writes into a JSON-lines file), whatever it reads:
 * a CSV row, an outbox row or a snapshot row is turned into that text, so
 * the producer has one parser and one encoder for all of them.
 *
 * Positions.  Each record carries a position, strictly increasing within
 * one source (a byte offset, an outbox sequence, ...).  The producer calls
 * ack(p) once every record up to and including position p is delivered to
 * Kafka (or kept as a reject); the source makes that durable (a checkpoint
 * file, rows marked sent) so that a restarted producer resumes after p and
 * never publishes an acknowledged record again.  Records after p may be
 * handed over again after a crash: at-least-once, the subscribers absorb
 * duplicates by event id and sequence.  Position 0 means "nothing to
 * acknowledge" (a snapshot row, which a restarted snapshot reads again).
 *
 * Life cycle: open -> next ... ack ... -> close.  One thread calls them.
 */
#ifndef SB_PRODUCERS_SOURCE_H
#define SB_PRODUCERS_SOURCE_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "sb_config.h"
#include "sb_error.h"
#include "sb_log.h"
#include "sb_schema.h"

struct source_ops_s;

/* What the producer tells a source when it opens it (all borrowed, valid
 * until close). */
typedef struct {
        const char *department; /* the topic's first part */
        const char *dataset;    /* the topic's second part */
        /* --snapshot: first the current rows of the business table (setting
         * `snapshot_table`) as op=r change lines, then the outbox from the
         * position taken at the start of the snapshot, so that nothing in
         * between is lost or doubled.  Sources without a table refuse it. */
        int snapshot;
        /* --drain: a source that waits for more (an outbox, a watched
         * directory) is finished instead (SB_ERR_NOT_FOUND) once a read finds
         * nothing new, so that the producer publishes what is there and
         * exits: a run from cron, a catch-up, a measurement. */
        int drain;
        /* The dataset's key and row records (sb_schema.h): field names and
         * types, for sources that build change lines from columns. */
        const sb_node_t *key_record;
        const sb_node_t *row_record;
        /* For tests: a source of the test's own, opened instead of the one
         * the `source` setting names (and reopenable); NULL in programs. */
        const struct source_ops_s *ops;
} source_options_t;

typedef struct {
        const char *text; /* one change line, not NUL-terminated necessarily; borrowed */
        size_t len;
        uint64_t position; /* see above; 0 = nothing to acknowledge */
        /* The record's number in its source (a file's line number), the
         * change's seq when its line has none; 0: the position is. */
        int64_t number;
        char where[128]; /* for messages and reject headers: "changes.jsonl:12", "outbox seq 42" */
} source_record_t;

typedef struct {
        source_record_t *records; /* owned by the source, valid until the next next() or close() */
        size_t count;
} source_batch_t;

/* What a source tells the producer's metrics (any field -1 when unknown). */
typedef struct {
        int64_t backlog;       /* records not yet acknowledged (outbox: unsent rows) */
        int64_t oldest_age_ms; /* age of the oldest unacknowledged record */
        int64_t bytes_total;   /* size of the input when known (file), for progress */
        int64_t bytes_done;    /* how far the source has read */
} source_stats_t;

typedef struct source_ops_s {
        const char *name; /* the value of the `source` setting that selects it */
        /* Opens the source from the producer's settings.  On success
         * *state is the source's. */
        sb_err_t (*open)(const sb_config_t *cfg, const source_options_t *opts, sb_log_t *log, void **state,
                         char *errstr, size_t errstr_size);
        /* Fills *out with up to `max` records.  Waits at most `timeout_ms`
         * for one (0: do not wait); returns SB_OK with count 0 when none came.
         * Returns SB_ERR_NOT_FOUND when the source is finished for good (a
         * file read to its end, not watched; with opts->drain, nothing new):
         * the producer then drains and exits.  Any other error is logged by the producer, which retries. */
        sb_err_t (*next)(void *state, size_t max, int timeout_ms, source_batch_t *out, char *errstr,
                         size_t errstr_size);
        /* Makes "everything up to `position` is done" durable. */
        sb_err_t (*ack)(void *state, uint64_t position, char *errstr, size_t errstr_size);
        /* Optional (may be NULL). */
        void (*stats)(void *state, source_stats_t *out);
        void (*close)(void *state);
} source_ops_t;

typedef struct source_s source_t;

/* Opens the source the `source` setting names.  On success *out is a new
 * handle the caller closes with source_destroy.  SB_ERR_CONFIG names the
 * setting (file:line) when the kind is unknown or its settings are wrong. */
sb_err_t source_new(const sb_config_t *cfg, const source_options_t *opts, sb_log_t *log, source_t **out,
                    char *errstr, size_t errstr_size);
void source_destroy(source_t *src);

sb_err_t source_next(source_t *src, size_t max, int timeout_ms, source_batch_t *out, char *errstr,
                     size_t errstr_size);
sb_err_t source_ack(source_t *src, uint64_t position, char *errstr, size_t errstr_size);
/* Fills *out (all -1 when the source keeps no statistics). */
void source_stats(source_t *src, source_stats_t *out);
const char *source_name(const source_t *src);
/* 1 if the source can be opened again to resume after its last
 * acknowledged position (0 for standard input). */
int source_reopenable(const source_t *src);

/* `--print-ddl KIND [--table TABLE]`: prints to `out` the outbox table of
 * source KIND (sqlite, postgresql) as cfg names it and, with `table`,
 * triggers on that business table that fill it.  SB_ERR_CONFIG for a kind
 * without an outbox. */
sb_err_t source_print_ddl(const char *kind, FILE *out, const sb_config_t *cfg, const char *table,
                          const source_options_t *opts, char *errstr, size_t errstr_size);

/* The kinds compiled in, NULL-terminated, for the `source` setting's check. */
extern const char *const source_kinds[];

#endif

/*
 * subscriber_metrics: what sharebus-subscriber tells Prometheus (through
 * sb_metrics, served by sb_http_server), kept the way the subscriber
 * works: a batch is tried, maybe rolled back and tried again, and only a
 * committed batch counts.
 *
 * Per topic (label topic):
 *   sharebus_subscriber_events_consumed_total        records polled
 *   sharebus_subscriber_events_applied_total{op}     changes committed, op c/u/r (upserts) or d (deletes)
 *   sharebus_subscriber_tombstones_skipped_total
 *   sharebus_subscriber_events_dead_lettered_total
 *   sharebus_subscriber_last_applied_age_seconds     now minus the event time (envelope ts_ms) of the
 *                                                    newest change committed; NaN before the first
 * For the whole subscriber:
 *   sharebus_subscriber_batches_total                transactions committed
 *   sharebus_subscriber_batch_retries_total          batches rolled back, to be tried again
 *   sharebus_subscriber_fetch_nudges_total           fetchers woken while catching up (fetch_nudge.h)
 *   sharebus_subscriber_batch_records                histogram: records per committed transaction
 *   sharebus_subscriber_apply_latency_seconds        histogram: first poll of a batch to its commit
 *   sharebus_subscriber_event_latency_seconds        histogram, one observation per change committed:
 *                                                    its commit's time minus its event time (ts_ms):
 *                                                    source to target, or the lag of a backlog
 *
 * The topics of the subscription are registered at start, so their series
 * exist (at 0) before the first record; a record of another topic (a
 * regular-expression subscription) registers its topic when it comes.
 *
 * All calls but the gauge's callback are made by the subscriber's thread.
 * The counters are atomics another thread (the HTTP server's) reads, so the
 * tallies are plain integers brought into them by sb_subscriber_metrics_sync,
 * once per loop of the subscriber, not once per record.  A NULL
 * sb_subscriber_metrics_t (a subscriber run without metrics) makes every
 * call a no-op.
 */
#ifndef SB_SUBSCRIBER_METRICS_H
#define SB_SUBSCRIBER_METRICS_H

#include <stddef.h>
#include <stdint.h>

#include "sb_error.h"
#include "sb_metrics.h"

typedef struct sb_subscriber_metrics_s sb_subscriber_metrics_t;

/* Registers the subscriber's metrics in `set` (borrowed: it must outlive
 * the metrics, and no scrape may run after sb_subscriber_metrics_destroy)
 * for the comma-separated `topics` (copied).  *out is a new handle the
 * caller destroys.  SB_ERR_INVALID when sb_metrics refuses a series (a topic
 * name too long for a label, too many series), SB_ERR_NOMEM; errstr says
 * why. */
sb_err_t sb_subscriber_metrics_new(sb_metrics_t *set, const char *topics, sb_subscriber_metrics_t **out,
                                   char *errstr, size_t errstr_size);
/* Frees the handle (not the set, whose series stay registered).  NULL is a
 * no-op. */
void sb_subscriber_metrics_destroy(sb_subscriber_metrics_t *sm);

/* One record polled from `topic`. */
void sb_subscriber_metrics_consumed(sb_subscriber_metrics_t *sm, const char *topic);

/* A batch is (again) being applied: what an earlier try of it tallied is
 * forgotten. */
void sb_subscriber_metrics_begin(sb_subscriber_metrics_t *sm);
/* In the batch being applied: a change of `topic` with envelope op `op`
 * (c, u, r or d) and event time `ts_ms` (ms since the epoch) applied; a
 * tombstone skipped; a record dead-lettered. */
void sb_subscriber_metrics_applied(sb_subscriber_metrics_t *sm, const char *topic, char op, int64_t ts_ms);
void sb_subscriber_metrics_tombstone(sb_subscriber_metrics_t *sm, const char *topic);
/* A change the transforms left out (tf_chain.h). */
void sb_subscriber_metrics_filtered(sb_subscriber_metrics_t *sm, const char *topic);
void sb_subscriber_metrics_dead_letter(sb_subscriber_metrics_t *sm, const char *topic);
/* The batch committed: `records` records in the transaction, `seconds`
 * since its first record was polled.  Its tallies become totals (seen by
 * the next sync) and its newest event time per topic the topic's age. */
void sb_subscriber_metrics_committed(sb_subscriber_metrics_t *sm, size_t records, double seconds);
/* The batch was rolled back, to be tried again. */
void sb_subscriber_metrics_retry(sb_subscriber_metrics_t *sm);
/* The partition leaders' fetchers were nudged (fetch_nudge.h). */
void sb_subscriber_metrics_nudged(sb_subscriber_metrics_t *sm);

/* Brings the counters up to the totals. */
void sb_subscriber_metrics_sync(sb_subscriber_metrics_t *sm);

/* The value of the age gauge of `topic` at wall-clock time `now_ms`: NaN
 * when nothing of it was committed yet or the topic is unknown. */
double sb_subscriber_metrics_age(const sb_subscriber_metrics_t *sm, const char *topic, int64_t now_ms);

#endif

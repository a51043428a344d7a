/*
 * fetch_nudge: keeps librdkafka's fetcher going while a subscriber catches
 * up with a small prefetch queue.
 *
 * Why.  librdkafka before 2.2 (Debian's is 2.0.2) stops fetching once the
 * consumer's local queue passes queued.max.messages.kbytes, and looks again
 * only when the partition leader's broker thread next wakes: up to a second
 * later when nothing else wakes it (librdkafka issue #2879; 2.2 added
 * fetch.queue.backoff.ms).  The subscriber keeps that queue small (4 MiB)
 * to keep its memory small, and applies it in a fraction of that second: it
 * then sat idle most of a catch-up (23k events/s against 59k with a 64 MiB
 * queue).
 *
 * What.  After a full batch (a backlog: the queue was not emptied by
 * waiting) that left fewer than `low_water` records queued, one ListOffsets
 * request for the assigned partitions goes to their leaders
 * (rd_kafka_offsets_for_times, latest offsets): it wakes their broker
 * threads, which then fetch again while the rest of the queue is applied.
 * The answer is not needed; it is waited for at most NUDGE_WAIT_MS (a
 * leader may hold the request behind a fetch that waits at the log end).
 * At most one nudge per `min_interval_ms`.  A subscriber that keeps up
 * (partial batches) never nudges.
 *
 * One thread (the subscriber's) calls everything.
 */
#ifndef SB_FETCH_NUDGE_H
#define SB_FETCH_NUDGE_H

#include <librdkafka/rdkafka.h>
#include <stddef.h>
#include <stdint.h>

#include "sb_error.h"

typedef struct fetch_nudge_s fetch_nudge_t;

/* A nudger for consumer `rk` (borrowed; its consumer queue must be set up,
 * rd_kafka_poll_set_consumer).  *out is a new handle the caller destroys
 * before rk.  SB_ERR_NOMEM. */
sb_err_t fetch_nudge_new(rd_kafka_t *rk, size_t low_water, int min_interval_ms, fetch_nudge_t **out,
                         char *errstr, size_t errstr_size);
void fetch_nudge_destroy(fetch_nudge_t *fn);

/* The decision alone: 1 if a batch that was `batch_full`, leaving `queued`
 * records in the local queue at monotonic `now_ms`, calls for a nudge. */
int fetch_nudge_due(const fetch_nudge_t *fn, int batch_full, size_t queued, int64_t now_ms);

/* After a committed batch: nudges the leaders of `assigned` (borrowed; NULL
 * or empty: nothing to nudge) when fetch_nudge_due says so.  Returns 1 if
 * it nudged. */
int fetch_nudge_after_batch(fetch_nudge_t *fn, int batch_full,
                            const rd_kafka_topic_partition_list_t *assigned);

/* Nudges sent so far. */
uint64_t fetch_nudge_count(const fetch_nudge_t *fn);

#endif

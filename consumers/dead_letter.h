/*
 * dead_letter: the subscriber's dead-letter topic (`dlq.<name>`).
 *
 * A record that can never be applied is produced here with its key, value
 * and headers, plus headers that say why (`sharebus.error`) and where it
 * came from (`sharebus.source.topic`, `.partition`, `.offset`,
 * `sharebus.subscriber`).
 *
 * Always recorded: a dead letter that would not fit the producer's
 * message.max.bytes (or that the broker refused as too large) keeps its
 * headers and reason and as much of key and value as fits; the headers
 * `sharebus.value.truncated` / `sharebus.key.truncated` ("true") and
 * `sharebus.value.size` / `sharebus.key.size` (the original length in bytes)
 * say so, and the source headers point at the original, still in its topic.
 *
 * Once per source offset: the module remembers, per partition, the offsets
 * whose dead letters this process has had delivered, until the target holds
 * an offset past them (sb_dead_letter_forget).  A batch that is rolled back
 * and retried therefore skips the dead letters already delivered.  After a
 * crash between the delivery and the target's commit the records are read
 * again and dead-lettered a second time: such copies carry the same
 * sharebus.source.* headers, which identify them.
 */
#ifndef SB_DEAD_LETTER_H
#define SB_DEAD_LETTER_H

#include <librdkafka/rdkafka.h>
#include <stdint.h>

#include "sb_config.h"
#include "sb_error.h"
#include "sb_log.h"

typedef struct sb_dead_letter_s sb_dead_letter_t;

/* Creates the dead-letter producer for `topic` (copied), reaching the
 * cluster of cfg's `kafka` group (consumer-only properties left out),
 * idempotent with acks=all.  `subscriber` (copied) fills the
 * sharebus.subscriber header; `log` is borrowed.  SB_ERR_CONFIG for a
 * property librdkafka refuses. */
sb_err_t sb_dead_letter_new(const sb_config_t *cfg, const char *topic, const char *subscriber, sb_log_t *log,
                            sb_dead_letter_t **out, char *errstr, size_t errstr_size);
/* Waits up to 10 s for dead letters still queued, then frees everything. */
void sb_dead_letter_destroy(sb_dead_letter_t *dl);

const char *sb_dead_letter_topic(const sb_dead_letter_t *dl);

/* 1 if this process already had the dead letter of topic/partition/offset
 * delivered (and not yet forgotten). */
int sb_dead_letter_delivered(const sb_dead_letter_t *dl, const char *topic, int32_t partition,
                             int64_t offset);

/* Queues the dead letter of `m` (borrowed, copied) with `reason`.  Delivery
 * is known after sb_dead_letter_flush.  SB_ERR_NOMEM, or SB_ERR_KAFKA if the
 * producer refused it for a reason other than its size. */
sb_err_t sb_dead_letter_send(sb_dead_letter_t *dl, const rd_kafka_message_t *m, const char *reason,
                             char *errstr, size_t errstr_size);

/* Waits up to `timeout_ms` for the delivery of every queued dead letter.
 * SB_OK if all were delivered; else SB_ERR_KAFKA (those that were delivered
 * are remembered, so a retry sends only the others; one refused as too
 * large is sent smaller next time). */
sb_err_t sb_dead_letter_flush(sb_dead_letter_t *dl, int timeout_ms, char *errstr, size_t errstr_size);

/* Forgets the delivered offsets of topic/partition below `next`: the target
 * committed past them, so they are never read again by this process. */
void sb_dead_letter_forget(sb_dead_letter_t *dl, const char *topic, int32_t partition, int64_t next);

/* Serves delivery reports without waiting. */
void sb_dead_letter_poll(sb_dead_letter_t *dl);

#endif

/*
 * dead_letter: the subscriber's dead-letter topic (`dlq.<name>`).
 *
 * A record that can never be applied is produced here with its key, value
 * and headers, plus headers that say why (`sharebus.error`, and
 * `sharebus.error.class`: one of sb_dl_class_name's names), where it came
 * from (`sharebus.source.topic`, `.partition`, `.offset`, `.timestamp`: the
 * record's Kafka timestamp in ms since the epoch, left out when the record
 * has none), who refused it (`sharebus.subscriber`) and when
 * (`sharebus.dead_lettered_at`, ms since the epoch).
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

/* Why a record was dead-lettered, by the stage that refused it: what to fix
 * before a replay (dlq_replay.h). */
typedef enum {
        SB_DL_DECODE,    /* not Confluent framing, unknown schema id, body not of its schema, no key,
                          * not a change envelope: fix the producer or register the schema */
        SB_DL_SCHEMA,    /* the target cannot take the schema (a change its table cannot follow) */
        SB_DL_RULE,      /* a validation rule of the registry fails */
        SB_DL_TRANSFORM, /* a transform the schema does not allow (a field it lacks, a type), or no hash key
                          */
        SB_DL_APPLY,     /* the database refuses the row (constraint, type) */
} sb_dl_class_t;

/* "decode", "schema", "rule", "transform", "apply" (static); "unknown" for a
 * value outside the enum. */
const char *sb_dl_class_name(sb_dl_class_t cls);
/* The class named `name` into *out: 0, or -1 for an unknown name. */
int sb_dl_class_parse(const char *name, sb_dl_class_t *out);

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

/* Queues the dead letter of `m` (borrowed, copied) with `reason` of class
 * `cls`, stamped with the time now.  Delivery
 * is known after sb_dead_letter_flush.  SB_ERR_NOMEM, or SB_ERR_KAFKA if the
 * producer refused it for a reason other than its size. */
sb_err_t sb_dead_letter_send(sb_dead_letter_t *dl, const rd_kafka_message_t *m, sb_dl_class_t cls,
                             const char *reason, char *errstr, size_t errstr_size);

/* Waits up to `timeout_ms` for the delivery of every queued dead letter.
 * SB_OK if all were delivered; else SB_ERR_KAFKA (those that were delivered
 * are remembered, so a retry sends only the others; one refused as too
 * large is sent smaller next time). */
sb_err_t sb_dead_letter_flush(sb_dead_letter_t *dl, int timeout_ms, char *errstr, size_t errstr_size);

/* Why the broker's ACLs refused a dead letter (TOPIC_AUTHORIZATION_FAILED:
 * this subscriber's principal may not write the topic), NULL while none
 * was: no retry can deliver it.  Owned by dl. */
const char *sb_dead_letter_denied(const sb_dead_letter_t *dl);

/* Forgets the delivered offsets of topic/partition below `next`: the target
 * committed past them, so they are never read again by this process. */
void sb_dead_letter_forget(sb_dead_letter_t *dl, const char *topic, int32_t partition, int64_t next);

/* Serves delivery reports without waiting. */
void sb_dead_letter_poll(sb_dead_letter_t *dl);

#endif

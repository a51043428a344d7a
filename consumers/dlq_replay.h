/*
 * dlq_replay: `sharebus-subscriber --replay-dlq`, the dead letters of the
 * subscriber's dead-letter topic applied again after their cause was fixed
 * (a schema registered, a table changed, a rule relaxed).
 *
 * What it reads: the dead-letter topic from the replay's position up to its
 * end as it is when the replay starts (the high watermark of each
 * partition: dead letters written meanwhile wait for the next replay).  The
 * position, per partition, is the first dead letter not yet resolved; it is
 * stored in the target (sharebus_offsets, group `sharebus.<name>.replay`)
 * in the transaction of the rows, as the live subscriber stores its own,
 * and then committed to Kafka for that group so that lag tools show what is
 * left.  The live offsets of the dataset topics are never touched.
 *
 * What it does with each: the source topic, partition and offset come from
 * its sharebus.source.* headers, and its key and value (the original's) go
 * through the live subscriber's own decode, rule and apply path
 * (subscriber_apply.h) for that topic, in target transactions of up to
 * batch_size dead letters, with receipts naming the original record.
 * Exactly once: an event that has a receipt already (applied by an earlier
 * replay, or by the live subscriber after a crash copied its dead letter)
 * is counted as already applied and not applied again; so the replay needs
 * `receipts = true`.
 *
 * What still fails is not dead-lettered again (that would loop): it is
 * reported on `report` (stdout), one line per dead letter
 *
 *   <source topic> [<partition>] offset <offset>: <class>: <reason>
 *
 * and left in place for the next replay: the position stops at the first
 * one of each partition (those after it that were applied are skipped next
 * time by their receipts).  A dead letter the replay cannot use is reported
 * likewise, with class decode and its own coordinates when it has no
 * source: one without sharebus.source.topic/.partition/.offset, one of a
 * topic that is not in `topics`, one whose key or value was truncated
 * (sharebus.*.truncated: the original is still at its source offset).
 *
 * Not guarded: a replayed change is applied as of now; if a later change of
 * the same key was applied since, the replay overwrites it.
 */
#ifndef SB_DLQ_REPLAY_H
#define SB_DLQ_REPLAY_H

#include <librdkafka/rdkafka.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>

#include "dead_letter.h"
#include "sb_config.h"
#include "sb_log.h"
#include "sb_registry_client.h"
#include "subscriber.h"
#include "target.h"

typedef struct {
        uint64_t read;    /* dead letters read */
        uint64_t applied; /* applied now (upserts, deletes, tombstones) */
        uint64_t already; /* applied before: skipped */
        uint64_t failed;  /* reported: still failing, or not usable */
} sb_dlq_replay_stats_t;

/* Where a dead letter came from and why, from its headers. */
typedef struct {
        char topic[256];
        int32_t partition;
        int64_t offset;
        sb_dl_class_t cls; /* SB_DL_DECODE when the header is absent or unknown */
        int truncated;     /* key or value shortened to fit the dead-letter topic */
} sb_dlq_source_t;

/* Reads the sharebus.source.* headers of a dead letter (hdrs borrowed, may
 * be NULL) into *out.  SB_ERR_INVALID, errstr saying which header is
 * missing or malformed. */
sb_err_t sb_dlq_source_read(const rd_kafka_headers_t *hdrs, sb_dlq_source_t *out, char *errstr,
                            size_t errstr_size);

/* Replays the dead letters of conf->dlq_topic as described above, for the
 * subscriber conf describes (name, topics, batch_size, poll_timeout_ms,
 * receipts), reaching Kafka with cfg's `kafka` group.  cfg, target,
 * registry, log and report are borrowed.  Fills *stats.  SB_OK when every
 * dead letter was handled (stats->failed says how many still fail);
 * SB_ERR_CONFIG when receipts are off; SB_ERR_KAFKA, SB_ERR_DB,
 * SB_ERR_REGISTRY or SB_ERR_NOMEM when it stopped early (the batch being
 * applied is rolled back, the position stays where it was committed); when
 * *stop is set it commits what it handled and returns SB_ERR_KAFKA
 * ("stopped before the end").  A missing dead-letter topic is nothing to
 * replay: SB_OK. */
sb_err_t sb_dlq_replay_run(const sb_subscriber_conf_t *conf, const sb_config_t *cfg, sb_target_t *target,
                           sb_registry_client_t *registry, sb_log_t *log, FILE *report,
                           volatile sig_atomic_t *stop, sb_dlq_replay_stats_t *stats, char *errstr,
                           size_t errstr_size);

#endif

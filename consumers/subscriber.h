/*
 * subscriber: the consume-transform-apply loop of sharebus-subscriber.
 *
 * Consumes the dataset topics as group `sharebus.<name>`, decodes key and
 * envelope by schema id (registry client, cached), and applies each change
 * to the target: create/update/read -> upsert of `after`, delete -> delete by
 * key; tombstones are skipped.  A batch of changes and the next offsets of
 * its partitions are written in one target transaction; on assignment each
 * partition resumes from the offset stored in the target (from the start if
 * none).  Offsets are then committed to Kafka asynchronously so lag tools
 * see progress.
 *
 * A record that can never be applied (not in the wire format, unknown schema
 * id, body that does not match its schema, not a change envelope, a row the
 * database refuses) is produced to the dead-letter topic with headers saying
 * why and at which stage (sb_dl_class_t), before its offset is committed (dead_letter.h: always recorded,
 * truncated if too large; once per source offset however often a batch is
 * retried).  A registry or database that is down
 * is retried with backoff; nothing is skipped, and /healthz says why
 * meanwhile.
 */
#ifndef SB_SUBSCRIBER_H
#define SB_SUBSCRIBER_H

#include <signal.h>
#include <stdint.h>

#include "sb_config.h"
#include "sb_log.h"
#include "sb_metrics.h"
#include "sb_registry_client.h"
#include "target.h"
#include "transforms/tf_chain.h"

typedef struct {
        const char *name;      /* subscriber name; group sharebus.<name> */
        const char *topics;    /* comma-separated */
        const char *dlq_topic; /* dead-letter topic */
        int batch_size;
        int poll_timeout_ms;
        int idle_exit_ms; /* 0: run until stopped */
        int retry_backoff_max_ms;
        int receipts; /* record each applied event in the target */
        int history;  /* append every event to <table>_history instead of keeping the current rows */
        const tf_config_t *transforms; /* the datasets' transforms; NULL: rows as published */
        /* A key or value longer is dead-lettered (class decode) undecoded;
         * 0: SB_SUBSCRIBER_DEFAULT_RECORD_BYTES. */
        size_t max_record_bytes;
} sb_subscriber_conf_t;

/* The default and the upper bound of the max_record_bytes setting. */
#define SB_SUBSCRIBER_DEFAULT_RECORD_BYTES (16u * 1024 * 1024)
#define SB_SUBSCRIBER_MAX_RECORD_BYTES (256u * 1024 * 1024)

typedef struct {
        uint64_t applied, deleted, tombstones, dead_lettered, filtered, batches, retries;
} sb_subscriber_stats_t;

typedef struct sb_subscriber_s sb_subscriber_t;

/* Creates the subscriber into *out (destroy it with sb_subscriber_destroy).
 * `cfg` supplies the kafka passthrough; conf's strings, target, registry
 * and log are borrowed and must outlive it.  Its metrics
 * (subscriber_metrics.h) are registered in `metrics` (borrowed; must
 * outlive the subscriber) unless it is NULL.  SB_ERR_CONFIG for a bad kafka
 * property, SB_ERR_KAFKA, SB_ERR_INVALID when the metrics cannot be
 * registered, SB_ERR_NOMEM; errstr says why. */
sb_err_t sb_subscriber_new(const sb_subscriber_conf_t *conf, const sb_config_t *cfg, sb_target_t *target,
                           sb_registry_client_t *registry, sb_metrics_t *metrics, sb_log_t *log,
                           sb_subscriber_t **out, char *errstr, size_t errstr_size);
/* Runs until *stop is set (or idle_exit_ms of idleness), then closes the
 * consumer.  Returns SB_OK on a clean stop. */
sb_err_t sb_subscriber_run(sb_subscriber_t *sub, volatile sig_atomic_t *stop, char *errstr,
                           size_t errstr_size);
const sb_subscriber_stats_t *sb_subscriber_stats(const sb_subscriber_t *sub);
/* For /healthz (sb_http_server_health_fn; `sub` is the subscriber): 1 while
 * consuming normally; 0, with the reason, while a batch or the stored
 * offsets cannot be applied or read (the target database or the registry
 * failing) and are retried, until the next batch commits. */
int sb_subscriber_healthy(void *sub, char *reason, size_t reason_size);
void sb_subscriber_destroy(sb_subscriber_t *sub);

#endif

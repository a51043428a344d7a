/*
 * producer: the publish loop of sharebus-producer, from a source
 * (sources/source.h) to the dataset topic.
 *
 * Reads the source in batches, encodes each change line into key and
 * Confluent-framed envelope (event_encoder.h) and produces it keyed by the
 * record's key (murmur2, as Java clients partition: per-key order),
 * idempotently with acks=all; a delete is followed by the tombstone of its
 * key.  A record that cannot be published goes to the rejects topic
 * instead (rejects.h) and is counted.  Positions are acknowledged to the
 * source only up to the first record whose delivery is not yet reported:
 * nothing is acknowledged before it is in Kafka.
 *
 * Kafka trouble: a failed delivery, or a fatal error of the idempotent
 * producer (librdkafka 2.0.2 has idempotence bugs around leader changes),
 * rewinds: the Kafka producer and the source are destroyed and made again,
 * and the source resumes after the last acknowledged position, so nothing
 * is lost; what was in flight may reach Kafka twice (subscribers absorb
 * duplicates).  Standard input cannot be read again: there a failed
 * delivery ends the run with an error.
 *
 * A full librdkafka queue, or more records in flight than the window
 * holds, makes the loop wait for delivery reports (back-pressure).
 */
#ifndef SB_PRODUCERS_PRODUCER_H
#define SB_PRODUCERS_PRODUCER_H

#include <librdkafka/rdkafka.h>
#include <signal.h>
#include <stdint.h>

#include "event_encoder.h"
#include "sb_config.h"
#include "sb_log.h"
#include "sb_metrics.h"
#include "sources/source.h"

/* Records in flight (handed over by the source, not all delivered) at
 * most: a power of two.  It bounds what librdkafka holds (each message
 * with its copy and headers, some 700 bytes for a typical event): 8192
 * keeps the producer within its 32 MiB however fast the source is, and is
 * still some 50 ms of sending at full speed, plenty for acks=all. */
#define SB_PRODUCER_WINDOW 8192

typedef struct {
        const char *department;    /* borrowed, all strings */
        const char *topic;         /* <department>.<dataset> */
        const char *rejects_topic; /* rejects.<department> */
        int batch_max;             /* records per source read */
        int idle_wait_ms;          /* how long a read waits when nothing is in flight */
        int ack_interval_ms;       /* at most this long between acknowledgements */
        int flush_timeout_ms;      /* at the end, for outstanding delivery reports */
        int retry_backoff_max_ms;  /* between rewinds and source retries */
        int progress;              /* 1: a progress bar on stderr (a terminal) */
} sb_producer_conf_t;

typedef struct {
        uint64_t read;       /* records handed over by the source */
        uint64_t published;  /* change events produced (tombstones not counted) */
        uint64_t tombstones; /* tombstones produced after deletes */
        uint64_t rejected;   /* records kept in the rejects topic instead */
        uint64_t delivered;  /* messages whose delivery report succeeded */
        uint64_t failed;     /* messages whose delivery report failed */
        uint64_t rewinds;    /* Kafka producer and source made again */
} sb_producer_stats_t;

typedef struct sb_producer_s sb_producer_t;

/* Creates the producer into *out: opens the source (cfg's `source` and its
 * settings, `src_opts`), creates the Kafka producer (cfg's kafka group)
 * and checks that both topics exist.  conf's strings, cfg, enc and log are
 * borrowed and must outlive the producer.  Its metrics (sb_producer_metrics)
 * are registered in `metrics` (borrowed) if not NULL.  SB_ERR_CONFIG for
 * bad settings, SB_ERR_KAFKA when Kafka does not answer or a topic is
 * missing; errstr says why. */
sb_err_t sb_producer_new(const sb_producer_conf_t *conf, const sb_config_t *cfg,
                         const source_options_t *src_opts, const sb_event_encoder_t *enc,
                         sb_metrics_t *metrics, sb_log_t *log, sb_producer_t **out, char *errstr,
                         size_t errstr_size);
/* Publishes until the source is finished (a file read to its end) or *stop
 * is set, then waits up to flush_timeout_ms for outstanding deliveries and
 * acknowledges what was delivered.  SB_OK when everything handed over was
 * delivered (as an event or a reject). */
sb_err_t sb_producer_run(sb_producer_t *p, volatile sig_atomic_t *stop, char *errstr, size_t errstr_size);
const sb_producer_stats_t *sb_producer_stats(const sb_producer_t *p);
/* 1 if healthy; else 0 with the reason (for /healthz). */
int sb_producer_healthy(void *p, char *reason, size_t reason_size);
/* For tests: the Kafka producer of the moment (made again at each rewind;
 * borrowed), e.g. for rd_kafka_test_fatal_error. */
rd_kafka_t *sb_producer_kafka(sb_producer_t *p);
void sb_producer_destroy(sb_producer_t *p);

#endif

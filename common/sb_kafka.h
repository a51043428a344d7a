/*
 * sb_kafka: glue between a program's configuration and librdkafka.
 *
 * Builds an rd_kafka_conf_t from the `kafka` group of a config, reporting a
 * property librdkafka refuses with the file and line it came from, and routes
 * librdkafka's logs into sb_log.  The handle's opaque must be an
 * sb_kafka_opaque_t so the log callback finds the logger.
 */
#ifndef SB_KAFKA_H
#define SB_KAFKA_H

#include <librdkafka/rdkafka.h>
#include <signal.h>

#include "sb_config.h"
#include "sb_error.h"
#include "sb_log.h"

typedef struct {
        sb_log_t *log; /* borrowed */
        void *app;     /* the program's own state, for its callbacks */
} sb_kafka_opaque_t;

/* The first librdkafka whose SCRAM login Kafka 4.x brokers accept. */
#define SB_KAFKA_SCRAM_FIXED_VERSION 0x020601ff

/* Sets *out to a new conf (the caller owns it until rd_kafka_new takes it)
 * with `defaults` (NULL-terminated name/value pairs, applied first so the
 * file wins), then every property of cfg's `kafka` group (cfg may be NULL),
 * and the opaque and log callback set.  SB_ERR_CONFIG with errstr naming
 * file:line and property when librdkafka refuses one.  Warns through the
 * opaque's log when the config asks for a SCRAM login this librdkafka
 * cannot make to a Kafka 4.x broker (SB_KAFKA_SCRAM_FIXED_VERSION). */
sb_err_t sb_kafka_conf_new(const sb_config_t *cfg, const char *const *defaults, sb_kafka_opaque_t *opaque,
                           rd_kafka_conf_t **out, char *errstr, size_t errstr_size);

/* Produces one message to `topic` (partitioner's choice), key and value
 * copied.  While librdkafka's queue is full it serves delivery reports
 * (rd_kafka_poll, 100 ms) and tries again, so a burst waits instead of
 * failing.  `headers` (may be NULL) pass to librdkafka on success; on any
 * other result they stay the caller's to destroy.  `msg_opaque` reaches the
 * delivery report callback as the message's _private.  When `stop` (may be
 * NULL) is set while it waits, it gives up with RD_KAFKA_RESP_ERR__QUEUE_FULL,
 * so a stop is served even while Kafka is away. */
rd_kafka_resp_err_t sb_kafka_produce(rd_kafka_t *rk, const char *topic, const void *key, size_t key_len,
                                     const void *value, size_t value_len, rd_kafka_headers_t *headers,
                                     void *msg_opaque, const volatile sig_atomic_t *stop);

/* Asks the cluster for `topic` (waiting at most timeout_ms) and sets
 * *partitions to its partition count.  Returns librdkafka's error:
 * RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART when the topic does not exist,
 * another code when the cluster did not answer; *partitions 0 then. */
rd_kafka_resp_err_t sb_kafka_topic_partitions(rd_kafka_t *rk, const char *topic, int timeout_ms,
                                              int *partitions);

/* Waits until the cluster answers a metadata request or `timeout_ms` passes. */
sb_err_t sb_kafka_wait_ready(rd_kafka_t *rk, int timeout_ms, char *errstr, size_t errstr_size);

#endif

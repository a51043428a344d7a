/*
 * lag_sampler: one sample of the consumer groups' committed offsets and of
 * their partitions' log end offsets, through librdkafka's Admin API as
 * 2.0.2 has it: ListConsumerGroups, then ListConsumerGroupOffsets (one
 * group a call; all the calls in flight at once), then the log end offsets
 * of every partition met, by rd_kafka_offsets_for_times at "latest" (one
 * ListOffsets request per leader).
 *
 * Bounds: at most LAG_SAMPLER_MAX_GROUPS groups and LAG_SAMPLER_MAX_PARTITIONS
 * (group, partition) pairs a sample; past them a sample fails with the
 * reason, rather than growing without end on a huge or hostile cluster.
 *
 * One thread calls it; each sample waits at most about 3 x timeout_ms.
 */
#ifndef SB_LAG_SAMPLER_H
#define SB_LAG_SAMPLER_H

#include <stddef.h>
#include <stdint.h>

#include "sb_config.h"
#include "sb_error.h"
#include "sb_log.h"

#define LAG_SAMPLER_MAX_GROUPS 10000
#define LAG_SAMPLER_MAX_PARTITIONS 100000

/* One partition of one group, as a sample saw it (all borrowed for the
 * callback's duration). */
typedef struct {
        const char *group;
        const char *state; /* the group's: "Stable", "Empty", "PreparingRebalance", ... */
        const char *topic;
        int32_t partition;
        int64_t committed; /* the next offset the group reads; -1 none committed */
        int64_t log_end;   /* the partition's next offset to be written; -1 unknown */
        const char *error; /* NULL, or why the offsets are unknown */
} lag_offsets_t;

typedef void (*lag_sampler_cb)(void *opaque, const lag_offsets_t *o);

#define LAG_SAMPLER_MAX_TOPICS 10000

/* How many records one topic took in, as its offsets tell (borrowed for
 * the callback's duration).  Counts are of records, tombstones included,
 * by the records' timestamps; -1 when unknown (then error says why). */
typedef struct {
        const char *topic;
        int partitions;
        int64_t last_hour; /* appended in the hour before now */
        int64_t last_day;  /* in the 24 hours before now */
        int64_t retained;  /* from the earliest kept to the log end */
        const char *error;
} lag_topic_count_t;

typedef void (*lag_sampler_topic_cb)(void *opaque, const lag_topic_count_t *c);

typedef struct lag_sampler_s lag_sampler_t;

/* A sampler with the `kafka` settings of cfg (bootstrap servers, TLS...),
 * for the comma-separated `groups` (copied; NULL or "": every consumer
 * group, simple ones, which assign partitions and commit without joining,
 * included).  *out is a new sampler the caller destroys.
 * SB_ERR_CONFIG (a kafka property refused), SB_ERR_KAFKA, SB_ERR_NOMEM. */
sb_err_t lag_sampler_new(const sb_config_t *cfg, const char *groups, int timeout_ms, sb_log_t *log,
                         lag_sampler_t **out, char *errstr, size_t errstr_size);
void lag_sampler_destroy(lag_sampler_t *s);

/* Takes a sample: calls cb once per (group, topic, partition) with its
 * offsets.  A group whose offsets cannot be read is reported as one entry
 * with topic NULL and its error.  SB_ERR_KAFKA when the groups cannot be
 * listed at all, SB_ERR_INVALID past a bound; errstr says why. */
sb_err_t lag_sampler_sample(lag_sampler_t *s, lag_sampler_cb cb, void *opaque, char *errstr,
                            size_t errstr_size);

/* Counts every topic of the cluster but Kafka's own (__*): one metadata
 * request, then the offsets at now_ms - 1 h, now_ms - 24 h, the earliest
 * and the log end of every partition (four ListOffsets rounds, one request
 * per leader each).  Calls cb once per topic.  SB_ERR_KAFKA when the
 * metadata cannot be had, SB_ERR_INVALID past LAG_SAMPLER_MAX_TOPICS or
 * LAG_SAMPLER_MAX_PARTITIONS partitions. */
sb_err_t lag_sampler_count_topics(lag_sampler_t *s, int64_t now_ms, lag_sampler_topic_cb cb, void *opaque,
                                  char *errstr, size_t errstr_size);

/* One record whose time is asked for: the one at `offset` of the
 * partition (or the first after it, when that one is gone). */
typedef struct {
        const char *topic; /* borrowed */
        int32_t partition;
        int64_t offset;
        int64_t ts_ms; /* out: the record's timestamp, -1 when it did not come */
} lag_record_time_t;

#define LAG_SAMPLER_MAX_RECORD_TIMES 1000

/* Reads the timestamp of each asked record (at most
 * LAG_SAMPLER_MAX_RECORD_TIMES a call): each partition is read from that
 * offset by the sampler's consumer (the legacy consumer, which needs no
 * group), one record kept (small fetches: a record and its batch, not the
 * backlog), then stopped; waits at most timeout_ms.  A partition asked at
 * two offsets is read at the first only.  SB_ERR_INVALID past the bound,
 * SB_ERR_NOMEM. */
sb_err_t lag_sampler_record_times(lag_sampler_t *s, lag_record_time_t *asks, size_t n, char *errstr,
                                  size_t errstr_size);

#endif

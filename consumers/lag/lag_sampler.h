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

#endif

/*
 * lag_monitor: what sharebus-lag knows of every watched consumer group:
 * per (group, topic, partition) a window of samples (lag_window.h) and its
 * verdict (lag_status.h), per group the worst of its partitions'.  A sample
 * is fed in as begin, add (one lag_sampler entry each), end; at end every
 * partition is judged, a group whose status changed is logged (and told to
 * the change callback: the alerts), and a partition not seen for a whole
 * window is forgotten (its group moved off it, or the topic is gone).
 *
 * It renders itself as Prometheus text (one family a metric, a series per
 * group or partition), since a cluster's partitions are more series than a
 * fixed sb_metrics set takes.
 *
 * One thread (the sampler's) calls everything but the readers; a program
 * that reads from another thread (HTTP) holds its own lock around both.
 */
#ifndef SB_LAG_MONITOR_H
#define SB_LAG_MONITOR_H

#include <stddef.h>
#include <stdint.h>

#include "lag/lag_sampler.h"
#include "lag/lag_status.h"
#include "lag/lag_window.h"
#include "sb_buf.h"
#include "sb_error.h"
#include "sb_log.h"

/* A group's status changed from `was` to `now`; `reason` is the worst
 * partition's sentence ("" when OK).  Called at lag_monitor_end. */
typedef void (*lag_monitor_change_fn)(void *opaque, const char *group, lag_status_t was, lag_status_t now,
                                      const char *reason);

typedef struct {
        const char *topic;
        int32_t partition;
        const lag_window_t *window;
        lag_verdict_t verdict;
} lag_partition_view_t;

typedef struct {
        const char *name;
        const char *state; /* the group's, as last sampled ("Stable", "Empty", ...) */
        lag_status_t status;
        char reason[LAG_REASON_MAX]; /* the worst partition's sentence, or the group's error */
        int64_t lag;                 /* summed over its partitions */
        double lag_seconds;          /* the largest of its partitions' */
        size_t n_partitions;
        const lag_partition_view_t *partitions;
} lag_group_view_t;

typedef struct lag_monitor_s lag_monitor_t;

/* A monitor keeping `window` (1..LAG_WINDOW_MAX) samples a partition, one
 * every `interval_ms`.  log and on_change may be NULL.  *out is a new
 * monitor the caller destroys.  SB_ERR_INVALID, SB_ERR_NOMEM. */
sb_err_t lag_monitor_new(size_t window, int64_t interval_ms, sb_log_t *log, lag_monitor_change_fn on_change,
                         void *opaque, lag_monitor_t **out, char *errstr, size_t errstr_size);
void lag_monitor_destroy(lag_monitor_t *m);

/* A group's own thresholds (copied name; 0: none): a group not worse than
 * OK is WARN while it is more than `max_lag` messages behind, or its
 * oldest unread change is older than `max_lag_seconds`.  SB_ERR_NOMEM. */
sb_err_t lag_monitor_set_threshold(lag_monitor_t *m, const char *group, int64_t max_lag,
                                   double max_lag_seconds);

void lag_monitor_begin(lag_monitor_t *m, int64_t now_ms);
/* One entry of the sample (copied).  SB_ERR_NOMEM only. */
sb_err_t lag_monitor_add(lag_monitor_t *m, const lag_offsets_t *o);
void lag_monitor_end(lag_monitor_t *m);

/* The age of a partition's oldest unread change is only a lower bound when
 * it was behind in every sample of the window; the record's own timestamp
 * tells it.  lag_monitor_unknown_ages calls `ask` (at most `max` times,
 * after lag_monitor_end) with each such partition and its committed
 * offset whose record time is not known yet, and returns how many;
 * lag_monitor_set_record_time gives the time of the record at `offset`:
 * every group whose committed offset there is `offset` takes now - ts_ms as
 * its age, from then on until it moves. */
typedef void (*lag_monitor_ask_fn)(void *opaque, const char *topic, int32_t partition, int64_t offset);
size_t lag_monitor_unknown_ages(const lag_monitor_t *m, size_t max, lag_monitor_ask_fn ask, void *opaque);
void lag_monitor_set_record_time(lag_monitor_t *m, const char *topic, int32_t partition, int64_t offset,
                                 int64_t ts_ms);

/* The groups, in the order first seen; valid until the next begin. */
size_t lag_monitor_group_count(const lag_monitor_t *m);
const lag_group_view_t *lag_monitor_group(const lag_monitor_t *m, size_t i);
/* NULL when not watched. */
const lag_group_view_t *lag_monitor_find(const lag_monitor_t *m, const char *group);

/* Appends the metrics to `out`:
 *   sharebus_consumergroup_status{group}                 0 OK .. 5 ERR (lag_status_t)
 *   sharebus_consumergroup_lag{group,topic,partition}    messages behind
 *   sharebus_consumergroup_lag_seconds{...}              age of the oldest unconsumed change
 *   sharebus_consumergroup_committed_offset{...}, sharebus_consumergroup_log_end_offset{...}
 *   sharebus_consumergroup_partition_status{...}
 * SB_ERR_NOMEM when `out` would grow past its max. */
sb_err_t lag_monitor_render_metrics(const lag_monitor_t *m, sb_buf_t *out);

#endif

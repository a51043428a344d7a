/*
 * lag_history: the recent past of every watched group's lag, for the
 * dashboard's chart: at each sample the time, and per group its lag in
 * messages and in seconds, in a ring of `capacity` samples.  A group met
 * later than others has no points (-1) for the samples before; a group not
 * in any kept sample is forgotten.
 *
 * Memory is bounded: capacity x (groups watched) x 16 bytes.
 * One thread records, others read; the caller locks (as lag_monitor).
 */
#ifndef SB_LAG_HISTORY_H
#define SB_LAG_HISTORY_H

#include <stddef.h>
#include <stdint.h>

#include "lag/lag_monitor.h"
#include "sb_buf.h"
#include "sb_error.h"

#define LAG_HISTORY_MAX 100000

typedef struct lag_history_s lag_history_t;

/* A history of the last `capacity` (2..LAG_HISTORY_MAX) samples into a new
 * *out the caller destroys.  SB_ERR_INVALID, SB_ERR_NOMEM. */
sb_err_t lag_history_new(size_t capacity, lag_history_t **out, char *errstr, size_t errstr_size);
void lag_history_destroy(lag_history_t *h);

/* Records the monitor's groups as of the sample at `now_ms` (after
 * lag_monitor_end).  SB_ERR_NOMEM: a new group could not be added (the
 * others are recorded). */
sb_err_t lag_history_record(lag_history_t *h, const lag_monitor_t *m, int64_t now_ms);

/* Samples kept (at most capacity), and how many groups. */
size_t lag_history_samples(const lag_history_t *h);
size_t lag_history_groups(const lag_history_t *h);

/* Appends the history as JSON, columns as a chart takes them:
 *   {"t":[s,...], "groups":[{"group":"..","lag":[n|null,..],"lag_seconds":[x|null,..]},..]}
 * times in Unix seconds, oldest first.  SB_ERR_NOMEM. */
sb_err_t lag_history_render(const lag_history_t *h, sb_buf_t *out);

#endif

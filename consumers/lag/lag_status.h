/*
 * lag_status: a partition's status from its window (lag_window.h), by
 * Burrow's rules, and the sentence an operator reads:
 *
 *   OK      nothing behind, or some sample in the window had nothing behind
 *           (not behind long enough to judge), or none of the rules below;
 *   WARN    the committed offset moves but the lag only grew, sample after
 *           sample, over a full window;
 *   REWIND  the committed offset went backwards between two samples;
 *   STALL   the committed offset did not move over a full window while
 *           behind (the consumer may still be there, stuck);
 *   STOP    no commit (no movement) for longer than the window while
 *           behind (counted from the later of the last move and the
 *           moment it fell behind: with nothing to read, nothing is
 *           committed);
 *   ERR     the last sample could not be read.
 *
 * The statuses are ordered by severity, so a group's status is the largest
 * of its partitions' (lag_status_worst).
 */
#ifndef SB_LAG_STATUS_H
#define SB_LAG_STATUS_H

#include <stddef.h>
#include <stdint.h>

#include "lag/lag_window.h"

typedef enum { LAG_OK, LAG_WARN, LAG_REWIND, LAG_STALL, LAG_STOP, LAG_ERR } lag_status_t;

#define LAG_REASON_MAX 320

typedef struct {
        lag_status_t status;
        int64_t lag;                 /* messages behind at the newest good sample; -1 unknown */
        double lag_seconds;          /* lag_window_lag_seconds; -1 unknown */
        char reason[LAG_REASON_MAX]; /* a sentence naming the partition; "" when OK */
} lag_verdict_t;

/* "OK", "WARN", "REWIND", "STALL", "STOP", "ERR". */
const char *lag_status_name(lag_status_t st);
lag_status_t lag_status_worst(lag_status_t a, lag_status_t b);

/* Judges window `w` of partition `partition` of `topic` at `now_ms`;
 * `window_ms` is the time the window stands for (its samples times the
 * sampling interval).  Fills *out. */
void lag_status_evaluate(const lag_window_t *w, const char *topic, int32_t partition, int64_t now_ms,
                         int64_t window_ms, lag_verdict_t *out);

/* "45 s", "6 min", "2 h 5 min", "3 d 4 h", into out. */
void lag_status_duration(int64_t ms, char *out, size_t size);
/* 12408 -> "12,408". */
void lag_status_count(int64_t n, char *out, size_t size);

#endif

/*
 * lag_window: what sharebus-lag remembers of one partition of one consumer
 * group: the last samples (committed offset, log end offset, when), a
 * sliding window of fixed capacity, and when the committed offset last
 * moved (kept beyond the window: "no commit for longer than the window" is
 * read from it).  lag_status.h judges a window by Burrow's rules.
 *
 * One thread (the sampler's) pushes and reads; the window is its own.
 */
#ifndef SB_LAG_WINDOW_H
#define SB_LAG_WINDOW_H

#include <stddef.h>
#include <stdint.h>

#include "sb_error.h"

/* At most this many samples a window (the `window` setting's bound). */
#define LAG_WINDOW_MAX 1000

typedef struct {
        int64_t at_ms;     /* wall-clock time of the sample, ms since the epoch */
        int64_t committed; /* the group's committed offset: the next record it will read */
        int64_t log_end;   /* the partition's log end offset (next offset to be written) */
        int error;         /* 1: the offsets could not be read at this sample (the others unset) */
} lag_sample_t;

typedef struct lag_window_s lag_window_t;

/* A window of up to `capacity` (1..LAG_WINDOW_MAX) samples.  *out is a new
 * window the caller destroys.  SB_ERR_INVALID for a capacity out of range,
 * SB_ERR_NOMEM. */
sb_err_t lag_window_new(size_t capacity, lag_window_t **out, char *errstr, size_t errstr_size);
void lag_window_destroy(lag_window_t *w);

/* Adds a sample (copied), dropping the oldest when full.  Samples come in
 * time order; an error sample keeps the last good offsets' movement time. */
void lag_window_push(lag_window_t *w, const lag_sample_t *s);

size_t lag_window_count(const lag_window_t *w);
size_t lag_window_capacity(const lag_window_t *w);
/* Sample i, 0 the oldest; NULL past the count. */
const lag_sample_t *lag_window_at(const lag_window_t *w, size_t i);
/* The newest sample that is not an error, NULL if none. */
const lag_sample_t *lag_window_last_good(const lag_window_t *w);
/* When the committed offset was first seen at its present value (the
 * first sample's time if it never moved); -1 before any good sample. */
int64_t lag_window_last_moved_ms(const lag_window_t *w);

/* Since when the group has been behind without its committed offset
 * moving: the later of the last move and the first sample of the present
 * run of samples behind (a group with nothing to read commits nothing, and
 * is not "not committing"); -1 when not behind. */
int64_t lag_window_still_since_ms(const lag_window_t *w);

/* Messages behind in sample s: log end minus committed, never negative. */
int64_t lag_window_lag(const lag_sample_t *s);

/* How old, at `now_ms`, the oldest change the group has not consumed is,
 * in seconds: when the log end offset passed the committed offset of the
 * newest good sample, interpolated between the two samples around it.  0
 * when nothing is behind; when the log end was past it in every sample,
 * the age of the oldest sample or of the present run of samples behind,
 * whichever is older (a lower bound: the caller may know better, from the
 * record's own timestamp).  -1 without a good sample. */
double lag_window_lag_seconds(const lag_window_t *w, int64_t now_ms);

/* 1 when lag_window_lag_seconds is only a lower bound. */
int lag_window_age_is_bound(const lag_window_t *w, int64_t now_ms);

#endif

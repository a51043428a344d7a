#include "lag/lag_window.h"

#include <stdlib.h>

struct lag_window_s {
        lag_sample_t *ring;
        size_t capacity, count, head; /* head: index of the oldest */
        int64_t last_moved_ms;
        int64_t moved_at_offset; /* the committed offset last_moved_ms is for */
        int64_t behind_since_ms; /* the first good sample of the present run of samples behind; -1 none */
        int have_good;
};

sb_err_t lag_window_new(size_t capacity, lag_window_t **out, char *errstr, size_t errstr_size) {
        *out = NULL;
        if (capacity < 1 || capacity > LAG_WINDOW_MAX)
                return sb_seterr(SB_ERR_INVALID, errstr, errstr_size,
                                 "a window holds 1 to %d samples, not %zu", LAG_WINDOW_MAX, capacity);
        lag_window_t *w = calloc(1, sizeof(*w));
        if (!w || !(w->ring = calloc(capacity, sizeof(*w->ring)))) {
                free(w);
                return sb_seterr(SB_ERR_NOMEM, errstr, errstr_size, "out of memory for a lag window");
        }
        w->capacity = capacity;
        w->last_moved_ms = -1;
        w->behind_since_ms = -1;
        *out = w;
        return SB_OK;
}

void lag_window_destroy(lag_window_t *w) {
        if (!w)
                return;
        free(w->ring);
        free(w);
}

void lag_window_push(lag_window_t *w, const lag_sample_t *s) {
        if (!s->error && (!w->have_good || s->committed != w->moved_at_offset)) {
                w->last_moved_ms = s->at_ms;
                w->moved_at_offset = s->committed;
                w->have_good = 1;
        }
        if (!s->error && lag_window_lag(s) == 0)
                w->behind_since_ms = -1;
        else if (!s->error && w->behind_since_ms < 0)
                w->behind_since_ms = s->at_ms;
        if (w->count < w->capacity) {
                w->ring[(w->head + w->count) % w->capacity] = *s;
                w->count++;
        } else {
                w->ring[w->head] = *s;
                w->head = (w->head + 1) % w->capacity;
        }
}

size_t lag_window_count(const lag_window_t *w) { return w->count; }

size_t lag_window_capacity(const lag_window_t *w) { return w->capacity; }

const lag_sample_t *lag_window_at(const lag_window_t *w, size_t i) {
        return i < w->count ? &w->ring[(w->head + i) % w->capacity] : NULL;
}

const lag_sample_t *lag_window_last_good(const lag_window_t *w) {
        for (size_t i = w->count; i-- > 0;) {
                const lag_sample_t *s = lag_window_at(w, i);
                if (!s->error)
                        return s;
        }
        return NULL;
}

int64_t lag_window_last_moved_ms(const lag_window_t *w) { return w->last_moved_ms; }

int64_t lag_window_still_since_ms(const lag_window_t *w) {
        if (w->behind_since_ms < 0)
                return -1;
        return w->behind_since_ms > w->last_moved_ms ? w->behind_since_ms : w->last_moved_ms;
}

int64_t lag_window_lag(const lag_sample_t *s) {
        int64_t committed = s->committed > 0 ? s->committed : 0;
        return s->log_end > committed ? s->log_end - committed : 0;
}

/* The age as lag_window_lag_seconds tells it; *bound set to 1 when it is
 * only a lower bound (behind in every sample of the window). */
static double age_of_oldest(const lag_window_t *w, int64_t now_ms, int *bound) {
        *bound = 0;
        const lag_sample_t *last = lag_window_last_good(w);
        if (!last)
                return -1;
        if (lag_window_lag(last) == 0)
                return 0;
        /* The oldest unconsumed record is at offset `committed`: written
         * when the log end went from <= committed to > committed. */
        int64_t target = last->committed > 0 ? last->committed : 0;
        const lag_sample_t *after = NULL;
        for (size_t i = w->count; i-- > 0;) {
                const lag_sample_t *s = lag_window_at(w, i);
                if (s->error)
                        continue;
                if (s->log_end <= target) {
                        if (!after) /* (cannot be: the newest has the log end past it) */
                                return 0;
                        double span = (double)(after->log_end - s->log_end);
                        double part = span > 0 ? (double)(target - s->log_end + 1) / span : 1;
                        double at = (double)s->at_ms + part * (double)(after->at_ms - s->at_ms);
                        return at < (double)now_ms ? ((double)now_ms - at) / 1000.0 : 0;
                }
                after = s;
        }
        /* Behind since before the window: at least as old as it, and as
         * the run of samples behind. */
        *bound = 1;
        int64_t since = after ? after->at_ms : now_ms;
        if (w->behind_since_ms >= 0 && w->behind_since_ms < since)
                since = w->behind_since_ms;
        return since < now_ms ? (double)(now_ms - since) / 1000.0 : 0;
}

double lag_window_lag_seconds(const lag_window_t *w, int64_t now_ms) {
        int bound;
        return age_of_oldest(w, now_ms, &bound);
}

int lag_window_age_is_bound(const lag_window_t *w, int64_t now_ms) {
        int bound;
        (void)age_of_oldest(w, now_ms, &bound);
        return bound;
}

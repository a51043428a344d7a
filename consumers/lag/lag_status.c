#include "lag/lag_status.h"

#include <inttypes.h>
#include <stdio.h>

const char *lag_status_name(lag_status_t st) {
        static const char *const names[] = {"OK", "WARN", "REWIND", "STALL", "STOP", "ERR"};
        return st >= LAG_OK && st <= LAG_ERR ? names[st] : "ERR";
}

lag_status_t lag_status_worst(lag_status_t a, lag_status_t b) { return a > b ? a : b; }

void lag_status_duration(int64_t ms, char *out, size_t size) {
        int64_t s = ms > 0 ? ms / 1000 : 0;
        if (s < 60)
                snprintf(out, size, "%" PRId64 " s", s);
        else if (s < 3600)
                snprintf(out, size, "%" PRId64 " min", s / 60);
        else if (s < 86400)
                snprintf(out, size, "%" PRId64 " h %" PRId64 " min", s / 3600, s % 3600 / 60);
        else
                snprintf(out, size, "%" PRId64 " d %" PRId64 " h", s / 86400, s % 86400 / 3600);
}

void lag_status_count(int64_t n, char *out, size_t size) {
        char digits[32];
        int len = snprintf(digits, sizeof(digits), "%" PRId64, n < 0 ? -n : n);
        size_t at = 0;
        if (n < 0 && at + 1 < size)
                out[at++] = '-';
        for (int i = 0; i < len && at + 1 < size; i++) {
                if (i > 0 && (len - i) % 3 == 0 && at + 2 < size)
                        out[at++] = ',';
                out[at++] = digits[i];
        }
        if (size)
                out[at < size ? at : size - 1] = '\0';
}

static void set(lag_verdict_t *out, lag_status_t st, const char *topic, int32_t partition, const char *what) {
        out->status = st;
        snprintf(out->reason, sizeof(out->reason), "partition %d of %s: %s", (int)partition, topic, what);
}

void lag_status_evaluate(const lag_window_t *w, const char *topic, int32_t partition, int64_t now_ms,
                         int64_t window_ms, lag_verdict_t *out) {
        size_t n = lag_window_count(w);
        const lag_sample_t *newest = n ? lag_window_at(w, n - 1) : NULL;
        const lag_sample_t *good = lag_window_last_good(w);
        char what[256], behind[32], took[32];
        out->status = LAG_OK;
        out->reason[0] = '\0';
        out->lag = good ? lag_window_lag(good) : -1;
        out->lag_seconds = lag_window_lag_seconds(w, now_ms);
        if (newest && newest->error) {
                set(out, LAG_ERR, topic, partition, "its offsets could not be read");
                return;
        }
        if (!good || out->lag == 0)
                return;
        lag_status_count(out->lag, behind, sizeof(behind));
        /* Any sample with nothing behind: not behind long enough to judge. */
        for (size_t i = 0; i < n; i++)
                if (!lag_window_at(w, i)->error && lag_window_lag(lag_window_at(w, i)) == 0)
                        return;
        const lag_sample_t *prev = NULL;
        for (size_t i = 0; i < n; i++) {
                const lag_sample_t *s = lag_window_at(w, i);
                if (s->error)
                        continue;
                if (prev && s->committed < prev->committed) {
                        char from[32], to[32];
                        lag_status_count(prev->committed, from, sizeof(from));
                        lag_status_count(s->committed, to, sizeof(to));
                        snprintf(what, sizeof(what),
                                 "the committed offset went back from %s to %s, %s behind", from, to, behind);
                        set(out, LAG_REWIND, topic, partition, what);
                        return;
                }
                prev = s;
        }
        int64_t since = lag_window_still_since_ms(w);
        int64_t still = since >= 0 ? now_ms - since : 0;
        if (still > window_ms) {
                lag_status_duration(still, took, sizeof(took));
                snprintf(what, sizeof(what), "no commit for %s, %s behind", took, behind);
                set(out, LAG_STOP, topic, partition, what);
                return;
        }
        if (n < lag_window_capacity(w))
                return; /* a window not yet full says nothing more */
        int moved = 0, grew = 1, goods = 0;
        int64_t first_lag = -1, last_lag = -1, first_at = 0;
        prev = NULL;
        for (size_t i = 0; i < n; i++) {
                const lag_sample_t *s = lag_window_at(w, i);
                if (s->error)
                        continue;
                if (prev) {
                        moved |= s->committed != prev->committed;
                        grew &= lag_window_lag(s) > lag_window_lag(prev);
                } else {
                        first_lag = lag_window_lag(s);
                        first_at = s->at_ms;
                }
                last_lag = lag_window_lag(s);
                prev = s;
                goods++;
        }
        if (goods < 2)
                return;
        lag_status_duration(good->at_ms - first_at, took, sizeof(took));
        if (!moved) {
                char at[32];
                lag_status_count(good->committed, at, sizeof(at));
                snprintf(what, sizeof(what), "the committed offset stayed at %s for %s, %s behind", at, took,
                         behind);
                set(out, LAG_STALL, topic, partition, what);
        } else if (grew) {
                char from[32];
                lag_status_count(first_lag, from, sizeof(from));
                lag_status_count(last_lag, behind, sizeof(behind));
                snprintf(what, sizeof(what), "falling behind: the lag grew from %s to %s in %s", from, behind,
                         took);
                set(out, LAG_WARN, topic, partition, what);
        }
}

/*
 * sb_metrics: a daemon's Prometheus metrics (counters, gauges, histograms)
 * and their text exposition (format 0.0.4), which sb_http_server serves on
 * GET /metrics.  Every sharebus daemon keeps one set, built at start.
 *
 * A metric is registered once, with its name, help text and a fixed set of
 * label pairs; the registration returns a handle the set owns, and the hot
 * path updates it with C11 atomics only (no lock, no allocation), from any
 * number of threads.  Several registrations may share a name with other
 * label values (dataset="market.business_license", dataset="civil.resident"):
 * they render as one family under one # HELP / # TYPE block, so they must
 * agree on type and help.  A gauge may instead be computed when the set is
 * rendered, by a callback (an outbox's backlog, the age of its oldest unsent
 * row), so that nothing has to keep it up to date.
 *
 * Registration and rendering take the set's lock; updates never do.  A set
 * holds at most SB_METRICS_MAX series (one per registration), a histogram at
 * most SB_METRICS_MAX_BUCKETS bounds, a metric at most SB_METRICS_MAX_LABELS
 * labels: more is refused with SB_ERR_INVALID, as is a name that is not
 * [a-zA-Z_:][a-zA-Z0-9_:]* or a label name that is not [a-zA-Z_][a-zA-Z0-9_]*
 * (nor "__"-prefixed, reserved by Prometheus).
 *
 * Numbers render without exponent when they are integers below 2^63 (a
 * counter of 12345678901 is "12345678901", not "1.2345678901e+10"), else in
 * the shortest form that reads back to the same double; NaN, +Inf, -Inf as
 * Prometheus spells them.
 */
#ifndef SB_METRICS_H
#define SB_METRICS_H

#include <stddef.h>
#include <stdint.h>

#include "sb_buf.h"
#include "sb_error.h"

#define SB_METRICS_MAX 1024       /* series per set */
#define SB_METRICS_MAX_LABELS 8   /* label pairs per series */
#define SB_METRICS_MAX_BUCKETS 32 /* bounds per histogram, +Inf not counted */
#define SB_METRICS_MAX_NAME 128   /* bytes of a metric or label name */
#define SB_METRICS_MAX_TEXT 1024  /* bytes of a help text or label value */

typedef struct sb_metrics_s sb_metrics_t;
typedef struct sb_metrics_counter_s sb_metrics_counter_t;
typedef struct sb_metrics_gauge_s sb_metrics_gauge_t;
typedef struct sb_metrics_histogram_s sb_metrics_histogram_t;

/* One label pair; both strings are copied at registration. */
typedef struct {
        const char *name;
        const char *value;
} sb_metrics_label_t;

/* A gauge computed at render time.  Called with the registration's opaque
 * pointer, from the thread that renders (sb_http_server's), under the set's
 * lock: it must not call back into the set, and should be quick (it delays
 * the scrape).  May return NaN for "unknown". */
typedef double (*sb_metrics_gauge_fn)(void *opaque);

/* A new, empty set into *out (the caller sb_metrics_destroys it).  Fails
 * only with SB_ERR_NOMEM (*out NULL). */
sb_err_t sb_metrics_new(sb_metrics_t **out, char *errstr, size_t errstr_size);
/* Frees the set and every handle it returned; NULL is a no-op.  No thread
 * may update a handle of the set, nor render it, any more. */
void sb_metrics_destroy(sb_metrics_t *m);

/* Registering.  `name` and `help` (non-empty) and the `n_labels` pairs of
 * `labels` (NULL when 0) are copied.  On success *out is a handle owned by
 * the set, valid until sb_metrics_destroy.  Errors, with errstr naming the
 * metric and why (*out NULL, the set unchanged):
 *   SB_ERR_INVALID: a bad or too long name, label name, help text or label
 *     value; a name already registered as another type or with other help;
 *     the same name and label values registered twice; the same label name
 *     twice; a name that would clash with a histogram's _bucket, _sum or
 *     _count series; the set already holds SB_METRICS_MAX series;
 *   SB_ERR_NOMEM. */

/* A counter: a count that only goes up, from 0.  Prometheus expects its
 * name to end in _total. */
sb_err_t sb_metrics_register_counter(sb_metrics_t *m, const char *name, const char *help,
                                     const sb_metrics_label_t *labels, size_t n_labels,
                                     sb_metrics_counter_t **out, char *errstr, size_t errstr_size);
/* A gauge: a value that goes up and down, from 0. */
sb_err_t sb_metrics_register_gauge(sb_metrics_t *m, const char *name, const char *help,
                                   const sb_metrics_label_t *labels, size_t n_labels,
                                   sb_metrics_gauge_t **out, char *errstr, size_t errstr_size);
/* A gauge whose value is fn(opaque) at each render (fn not NULL; opaque is
 * not owned and must outlive the set, or the scrapes).  It has no handle:
 * sb_metrics_gauge_set does not apply to it. */
sb_err_t sb_metrics_register_gauge_fn(sb_metrics_t *m, const char *name, const char *help,
                                      const sb_metrics_label_t *labels, size_t n_labels,
                                      sb_metrics_gauge_fn fn, void *opaque, char *errstr, size_t errstr_size);
/* A histogram with the `n_bounds` upper bounds of `bounds` (copied; finite,
 * strictly increasing, 1 to SB_METRICS_MAX_BUCKETS of them; the +Inf bucket
 * is added).  It renders as Prometheus expects: cumulative name_bucket
 * series with an le label (so no label of its own may be called "le"),
 * name_sum and name_count.  E.g. seconds {0.001, 0.01, 0.1, 1, 10}. */
sb_err_t sb_metrics_register_histogram(sb_metrics_t *m, const char *name, const char *help,
                                       const sb_metrics_label_t *labels, size_t n_labels,
                                       const double *bounds, size_t n_bounds, sb_metrics_histogram_t **out,
                                       char *errstr, size_t errstr_size);

/* Updating: lock-free and safe from any thread.  A NULL handle (a program
 * run without metrics) is a no-op. */
void sb_metrics_counter_add(sb_metrics_counter_t *c, uint64_t n);
void sb_metrics_counter_inc(sb_metrics_counter_t *c);
void sb_metrics_gauge_set(sb_metrics_gauge_t *g, double v);
void sb_metrics_gauge_add(sb_metrics_gauge_t *g, double delta); /* delta < 0 lowers it */
/* Counts `v` in the first bucket whose bound is >= v (the +Inf one if none,
 * or if v is NaN) and adds it to the sum. */
void sb_metrics_histogram_observe(sb_metrics_histogram_t *h, double v);

/* Current values (for tests and for a program's own status line). */
uint64_t sb_metrics_counter_value(const sb_metrics_counter_t *c);
double sb_metrics_gauge_value(const sb_metrics_gauge_t *g);
uint64_t sb_metrics_histogram_count(const sb_metrics_histogram_t *h);
double sb_metrics_histogram_sum(const sb_metrics_histogram_t *h);

/* Appends the whole set to `out` in the text exposition format 0.0.4:
 * families in the order their names were first registered, series in
 * registration order (labels in the order given), each family "# HELP
 * name text", "# TYPE name type" and its samples, one a line, each
 * "\n"-terminated; no timestamps.  Help text escapes
 * backslash and newline; label values backslash, double quote and newline.
 * A histogram's _count equals its +Inf bucket even while other threads
 * observe (its sum may lag by the observations in flight).  Returns SB_OK;
 * SB_ERR_NOMEM if `out` would grow past its max (out then holds a part:
 * reset it before reuse). */
sb_err_t sb_metrics_render(sb_metrics_t *m, sb_buf_t *out, char *errstr, size_t errstr_size);

/* Number of series in the set. */
size_t sb_metrics_count(sb_metrics_t *m);

#endif

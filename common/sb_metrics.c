#include "sb_metrics.h"

#include <inttypes.h>
#include <math.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef enum { KIND_COUNTER, KIND_GAUGE, KIND_HISTOGRAM } kind_t;

static const char *const kind_names[] = {"counter", "gauge", "histogram"};

struct sb_metrics_counter_s {
        _Atomic uint64_t value;
};

/* A double kept as its bits, so that set is one store and add one CAS loop. */
struct sb_metrics_gauge_s {
        _Atomic uint64_t bits;
};

struct sb_metrics_histogram_s {
        size_t n_bounds;
        double *bounds;
        /* Per bucket, not cumulative (an observation touches one counter);
         * n_bounds + 1 of them, the last one +Inf's.  The total count is
         * their sum, so that _count always equals the +Inf bucket. */
        _Atomic uint64_t *counts;
        _Atomic uint64_t sum_bits;
};

typedef struct family_s family_t;

typedef struct {
        family_t *family;
        size_t n_labels;
        char **label_names, **label_values;
        char *labels; /* rendered: a="x",b="y" (escaped), "" without labels */
        sb_metrics_gauge_fn fn;
        void *opaque;
        struct sb_metrics_counter_s counter;
        struct sb_metrics_gauge_s gauge;
        struct sb_metrics_histogram_s histogram;
} series_t;

struct family_s {
        char *name, *help;
        kind_t kind;
        size_t n_series, cap_series;
        series_t **series;
};

struct sb_metrics_s {
        /* Held by registration and render only: updates go straight to a
         * series' atomics. */
        pthread_mutex_t lock;
        size_t n_families, n_series;
        family_t *families[SB_METRICS_MAX];
};

static uint64_t bits_of(double v) {
        uint64_t b;
        memcpy(&b, &v, sizeof(b));
        return b;
}

static double double_of(uint64_t b) {
        double v;
        memcpy(&v, &b, sizeof(v));
        return v;
}

sb_err_t sb_metrics_new(sb_metrics_t **out, char *errstr, size_t errstr_size) {
        sb_metrics_t *m = calloc(1, sizeof(*m));
        *out = NULL;
        if (!m)
                return sb_seterr(SB_ERR_NOMEM, errstr, errstr_size, "out of memory");
        if (pthread_mutex_init(&m->lock, NULL)) {
                free(m);
                return sb_seterr(SB_ERR_NOMEM, errstr, errstr_size, "cannot create a mutex");
        }
        *out = m;
        return SB_OK;
}

static void series_free(series_t *s) {
        if (!s)
                return;
        for (size_t i = 0; i < s->n_labels; i++) {
                free(s->label_names[i]);
                free(s->label_values[i]);
        }
        free(s->label_names);
        free(s->label_values);
        free(s->labels);
        free(s->histogram.bounds);
        free((void *)s->histogram.counts);
        free(s);
}

static void family_free(family_t *f) {
        if (!f)
                return;
        for (size_t i = 0; i < f->n_series; i++)
                series_free(f->series[i]);
        free(f->series);
        free(f->name);
        free(f->help);
        free(f);
}

void sb_metrics_destroy(sb_metrics_t *m) {
        if (!m)
                return;
        for (size_t i = 0; i < m->n_families; i++)
                family_free(m->families[i]);
        pthread_mutex_destroy(&m->lock);
        free(m);
}

/* ---- checks ---- */

static int is_alpha_(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_'; }
static int is_digit(char c) { return c >= '0' && c <= '9'; }

/* [a-zA-Z_:][a-zA-Z0-9_:]* for a metric (colon allowed), the same without
 * the colon for a label. */
static int valid_name(const char *s, int colon) {
        if (!s || !*s || strlen(s) > SB_METRICS_MAX_NAME)
                return 0;
        if (!is_alpha_(s[0]) && !(colon && s[0] == ':'))
                return 0;
        for (const char *p = s + 1; *p; p++)
                if (!is_alpha_(*p) && !is_digit(*p) && !(colon && *p == ':'))
                        return 0;
        return 1;
}

/* The exposition format is UTF-8; a value that is not would make the whole
 * scrape unreadable to some parsers.  Overlong forms and surrogates pass:
 * parsers take them, and the point is only to keep stray bytes out. */
static int valid_utf8(const char *s) {
        const unsigned char *p = (const unsigned char *)s;
        while (*p) {
                size_t n = *p < 0x80             ? 0
                           : (*p & 0xE0) == 0xC0 ? 1
                           : (*p & 0xF0) == 0xE0 ? 2
                           : (*p & 0xF8) == 0xF0 ? 3
                                                 : 4;
                if (n == 4)
                        return 0;
                p++;
                for (size_t i = 0; i < n; i++, p++)
                        if ((*p & 0xC0) != 0x80)
                                return 0;
        }
        return 1;
}

static int ends_with(const char *s, const char *suffix) {
        size_t a = strlen(s), b = strlen(suffix);
        return a > b && strcmp(s + a - b, suffix) == 0;
}

static family_t *find_family(const sb_metrics_t *m, const char *name, size_t len) {
        for (size_t i = 0; i < m->n_families; i++)
                if (strlen(m->families[i]->name) == len && strncmp(m->families[i]->name, name, len) == 0)
                        return m->families[i];
        return NULL;
}

static const char *const histogram_suffixes[] = {"_bucket", "_sum", "_count"};

/* A histogram's samples are name_bucket, name_sum and name_count: no other
 * family may be called so, either way round. */
static sb_err_t check_clash(const sb_metrics_t *m, const char *name, kind_t kind, char *errstr,
                            size_t errstr_size) {
        for (size_t i = 0; i < 3; i++) {
                const char *suffix = histogram_suffixes[i];
                if (ends_with(name, suffix)) {
                        const family_t *f = find_family(m, name, strlen(name) - strlen(suffix));
                        if (f && f->kind == KIND_HISTOGRAM)
                                return sb_seterr(SB_ERR_INVALID, errstr, errstr_size,
                                                 "metric '%s': clashes with the %s series of histogram '%s'",
                                                 name, suffix, f->name);
                }
                if (kind == KIND_HISTOGRAM) {
                        char full[SB_METRICS_MAX_NAME + 16];
                        snprintf(full, sizeof(full), "%s%s", name, suffix);
                        if (find_family(m, full, strlen(full)))
                                return sb_seterr(SB_ERR_INVALID, errstr, errstr_size,
                                                 "histogram '%s': its %s series clashes with metric '%s'",
                                                 name, suffix, full);
                }
        }
        return SB_OK;
}

static sb_err_t check_labels(const char *name, kind_t kind, const sb_metrics_label_t *labels, size_t n,
                             char *errstr, size_t errstr_size) {
        if (n > SB_METRICS_MAX_LABELS)
                return sb_seterr(SB_ERR_INVALID, errstr, errstr_size,
                                 "metric '%s': %zu labels, at most %d are allowed", name, n,
                                 SB_METRICS_MAX_LABELS);
        if (n && !labels)
                return sb_seterr(SB_ERR_INVALID, errstr, errstr_size, "metric '%s': no labels array", name);
        for (size_t i = 0; i < n; i++) {
                const char *ln = labels[i].name, *lv = labels[i].value;
                if (!valid_name(ln, 0))
                        return sb_seterr(SB_ERR_INVALID, errstr, errstr_size,
                                         "metric '%s': label name '%s' is not [a-zA-Z_][a-zA-Z0-9_]* of at "
                                         "most %d bytes",
                                         name, ln ? ln : "(null)", SB_METRICS_MAX_NAME);
                if (ln[0] == '_' && ln[1] == '_')
                        return sb_seterr(SB_ERR_INVALID, errstr, errstr_size,
                                         "metric '%s': label name '%s': names starting with __ are reserved",
                                         name, ln);
                if (kind == KIND_HISTOGRAM && strcmp(ln, "le") == 0)
                        return sb_seterr(SB_ERR_INVALID, errstr, errstr_size,
                                         "histogram '%s': label name 'le' is its buckets' own", name);
                if (!lv || strlen(lv) > SB_METRICS_MAX_TEXT || !valid_utf8(lv))
                        return sb_seterr(
                                SB_ERR_INVALID, errstr, errstr_size,
                                "metric '%s': label '%s': the value must be UTF-8 of at most %d bytes", name,
                                ln, SB_METRICS_MAX_TEXT);
                for (size_t j = 0; j < i; j++)
                        if (strcmp(labels[j].name, ln) == 0)
                                return sb_seterr(SB_ERR_INVALID, errstr, errstr_size,
                                                 "metric '%s': label '%s' given twice", name, ln);
        }
        return SB_OK;
}

/* Same labels, in any order. */
static int same_labels(const series_t *s, const sb_metrics_label_t *labels, size_t n) {
        if (s->n_labels != n)
                return 0;
        for (size_t i = 0; i < n; i++) {
                size_t j = 0;
                while (j < n && strcmp(s->label_names[j], labels[i].name) != 0)
                        j++;
                if (j == n || strcmp(s->label_values[j], labels[i].value) != 0)
                        return 0;
        }
        return 1;
}

static sb_err_t check_bounds(const char *name, const double *bounds, size_t n, char *errstr,
                             size_t errstr_size) {
        if (n < 1 || n > SB_METRICS_MAX_BUCKETS || !bounds)
                return sb_seterr(SB_ERR_INVALID, errstr, errstr_size,
                                 "histogram '%s': %zu bucket bounds, it needs 1 to %d", name, bounds ? n : 0,
                                 SB_METRICS_MAX_BUCKETS);
        for (size_t i = 0; i < n; i++) {
                if (!isfinite(bounds[i]))
                        return sb_seterr(SB_ERR_INVALID, errstr, errstr_size,
                                         "histogram '%s': bucket bound %zu is not finite (+Inf is added)",
                                         name, i);
                if (i && !(bounds[i] > bounds[i - 1]))
                        return sb_seterr(
                                SB_ERR_INVALID, errstr, errstr_size,
                                "histogram '%s': bucket bounds must increase (bound %zu: %g after %g)", name,
                                i, bounds[i], bounds[i - 1]);
        }
        return SB_OK;
}

/* ---- text ---- */

/* Appends `s` escaped: backslash and newline always, the double quote in
 * label values (help text keeps it, as the format says). */
static sb_err_t put_escaped(sb_buf_t *b, const char *s, int quote) {
        const char *run = s;
        sb_err_t err = SB_OK;
        for (const char *p = s; *p && !err; p++) {
                const char *esc = *p == '\\'           ? "\\\\"
                                  : *p == '\n'         ? "\\n"
                                  : quote && *p == '"' ? "\\\""
                                                       : NULL;
                if (!esc)
                        continue;
                err = sb_buf_append(b, run, (size_t)(p - run));
                if (!err)
                        err = sb_buf_append(b, esc, 2);
                run = p + 1;
        }
        return err ? err : sb_buf_append(b, run, strlen(run));
}

/* Integers (below 2^63) without exponent or fraction; anything else in the
 * shortest %g form that reads back as the same double. */
static void format_double(char *out, size_t size, double v) {
        if (isnan(v)) {
                snprintf(out, size, "NaN");
        } else if (isinf(v)) {
                snprintf(out, size, "%s", v > 0 ? "+Inf" : "-Inf");
        } else if (v == 0) {
                snprintf(out, size, "0"); /* not "-0" */
        } else if (v == floor(v) && fabs(v) < 9223372036854775808.0) {
                snprintf(out, size, "%.0f", v);
        } else {
                for (int prec = 1; prec <= 17; prec++) {
                        snprintf(out, size, "%.*g", prec, v);
                        if (strtod(out, NULL) == v)
                                break;
                }
        }
}

static sb_err_t render_labels(series_t *s, char *errstr, size_t errstr_size) {
        sb_buf_t b;
        sb_err_t err = SB_OK;
        sb_buf_init(&b, (size_t)SB_METRICS_MAX_LABELS * (SB_METRICS_MAX_NAME + 2 * SB_METRICS_MAX_TEXT + 4));
        for (size_t i = 0; i < s->n_labels && !err; i++) {
                err = sb_buf_printf(&b, "%s%s=\"", i ? "," : "", s->label_names[i]);
                if (!err)
                        err = put_escaped(&b, s->label_values[i], 1);
                if (!err)
                        err = sb_buf_append(&b, "\"", 1);
        }
        if (!err)
                err = sb_buf_append(&b, "", 0); /* never NULL, NUL-terminated */
        if (err) {
                sb_buf_free(&b);
                return sb_seterr(SB_ERR_NOMEM, errstr, errstr_size, "out of memory");
        }
        s->labels = (char *)sb_buf_detach(&b, NULL);
        return SB_OK;
}

/* ---- registration ---- */

static series_t *series_new(const sb_metrics_label_t *labels, size_t n) {
        series_t *s = calloc(1, sizeof(*s));
        if (!s)
                return NULL;
        if (n) {
                s->label_names = calloc(n, sizeof(char *));
                s->label_values = calloc(n, sizeof(char *));
                if (!s->label_names || !s->label_values) {
                        series_free(s);
                        return NULL;
                }
        }
        for (size_t i = 0; i < n; i++) {
                s->n_labels = i + 1; /* so that series_free frees what is copied */
                s->label_names[i] = strdup(labels[i].name);
                s->label_values[i] = strdup(labels[i].value);
                if (!s->label_names[i] || !s->label_values[i]) {
                        series_free(s);
                        return NULL;
                }
        }
        atomic_init(&s->counter.value, 0);
        atomic_init(&s->gauge.bits, bits_of(0.0));
        atomic_init(&s->histogram.sum_bits, bits_of(0.0));
        return s;
}

static sb_err_t histogram_init(series_t *s, const double *bounds, size_t n) {
        struct sb_metrics_histogram_s *h = &s->histogram;
        h->bounds = malloc(n * sizeof(double));
        h->counts = malloc((n + 1) * sizeof(*h->counts));
        if (!h->bounds || !h->counts)
                return SB_ERR_NOMEM;
        memcpy(h->bounds, bounds, n * sizeof(double));
        for (size_t i = 0; i <= n; i++)
                atomic_init(&h->counts[i], 0);
        h->n_bounds = n;
        return SB_OK;
}

/* Finds or makes the family `name` and adds `s` to it; on failure `s` is
 * not taken. */
static sb_err_t add_series(sb_metrics_t *m, const char *name, const char *help, kind_t kind, series_t *s,
                           char *errstr, size_t errstr_size) {
        family_t *f = find_family(m, name, strlen(name));
        if (m->n_series >= SB_METRICS_MAX)
                return sb_seterr(SB_ERR_INVALID, errstr, errstr_size,
                                 "metric '%s': the set already holds %d series, the most it may", name,
                                 SB_METRICS_MAX);
        if (f) {
                if (f->kind != kind)
                        return sb_seterr(SB_ERR_INVALID, errstr, errstr_size,
                                         "metric '%s': already registered as a %s, not a %s", name,
                                         kind_names[f->kind], kind_names[kind]);
                if (strcmp(f->help, help) != 0)
                        return sb_seterr(SB_ERR_INVALID, errstr, errstr_size,
                                         "metric '%s': already registered with other help text", name);
                for (size_t i = 0; i < f->n_series; i++) {
                        const series_t *o = f->series[i];
                        sb_metrics_label_t tmp[SB_METRICS_MAX_LABELS];
                        for (size_t j = 0; j < s->n_labels; j++)
                                tmp[j] = (sb_metrics_label_t){s->label_names[j], s->label_values[j]};
                        if (same_labels(o, tmp, s->n_labels))
                                return sb_seterr(SB_ERR_INVALID, errstr, errstr_size,
                                                 "metric '%s'{%s}: already registered with these labels",
                                                 name, s->labels);
                }
        } else {
                sb_err_t err = check_clash(m, name, kind, errstr, errstr_size);
                if (err)
                        return err;
                f = calloc(1, sizeof(*f));
                if (!f)
                        return sb_seterr(SB_ERR_NOMEM, errstr, errstr_size, "out of memory");
                f->name = strdup(name);
                f->help = strdup(help);
                f->kind = kind;
                if (!f->name || !f->help) {
                        family_free(f);
                        return sb_seterr(SB_ERR_NOMEM, errstr, errstr_size, "out of memory");
                }
                /* n_families < SB_METRICS_MAX: each family has a series. */
                m->families[m->n_families++] = f;
        }
        if (f->n_series == f->cap_series) {
                size_t cap = f->cap_series ? 2 * f->cap_series : 4;
                series_t **grown = realloc(f->series, cap * sizeof(series_t *));
                if (!grown) {
                        if (f->n_series == 0) { /* just made: undo */
                                m->n_families--;
                                family_free(f);
                        }
                        return sb_seterr(SB_ERR_NOMEM, errstr, errstr_size, "out of memory");
                }
                f->series = grown;
                f->cap_series = cap;
        }
        s->family = f;
        f->series[f->n_series++] = s;
        m->n_series++;
        return SB_OK;
}

static sb_err_t do_register(sb_metrics_t *m, const char *name, const char *help, kind_t kind,
                            const sb_metrics_label_t *labels, size_t n_labels, const double *bounds,
                            size_t n_bounds, sb_metrics_gauge_fn fn, void *opaque, series_t **out,
                            char *errstr, size_t errstr_size) {
        sb_err_t err;
        *out = NULL;
        if (!valid_name(name, 1))
                return sb_seterr(SB_ERR_INVALID, errstr, errstr_size,
                                 "metric name '%s' is not [a-zA-Z_:][a-zA-Z0-9_:]* of at most %d bytes",
                                 name ? name : "(null)", SB_METRICS_MAX_NAME);
        if (!help || !*help || strlen(help) > SB_METRICS_MAX_TEXT || !valid_utf8(help))
                return sb_seterr(SB_ERR_INVALID, errstr, errstr_size,
                                 "metric '%s': the help text must be UTF-8 of 1 to %d bytes", name,
                                 SB_METRICS_MAX_TEXT);
        if ((err = check_labels(name, kind, labels, n_labels, errstr, errstr_size)))
                return err;
        if (kind == KIND_HISTOGRAM && (err = check_bounds(name, bounds, n_bounds, errstr, errstr_size)))
                return err;
        series_t *s = series_new(labels, n_labels);
        if (!s)
                return sb_seterr(SB_ERR_NOMEM, errstr, errstr_size, "out of memory");
        s->fn = fn;
        s->opaque = opaque;
        if (kind == KIND_HISTOGRAM && histogram_init(s, bounds, n_bounds)) {
                series_free(s);
                return sb_seterr(SB_ERR_NOMEM, errstr, errstr_size, "out of memory");
        }
        if ((err = render_labels(s, errstr, errstr_size))) {
                series_free(s);
                return err;
        }
        pthread_mutex_lock(&m->lock);
        err = add_series(m, name, help, kind, s, errstr, errstr_size);
        pthread_mutex_unlock(&m->lock);
        if (err) {
                series_free(s);
                return err;
        }
        *out = s;
        return SB_OK;
}

sb_err_t sb_metrics_register_counter(sb_metrics_t *m, const char *name, const char *help,
                                     const sb_metrics_label_t *labels, size_t n_labels,
                                     sb_metrics_counter_t **out, char *errstr, size_t errstr_size) {
        series_t *s;
        sb_err_t err = do_register(m, name, help, KIND_COUNTER, labels, n_labels, NULL, 0, NULL, NULL, &s,
                                   errstr, errstr_size);
        *out = err ? NULL : &s->counter;
        return err;
}

sb_err_t sb_metrics_register_gauge(sb_metrics_t *m, const char *name, const char *help,
                                   const sb_metrics_label_t *labels, size_t n_labels,
                                   sb_metrics_gauge_t **out, char *errstr, size_t errstr_size) {
        series_t *s;
        sb_err_t err = do_register(m, name, help, KIND_GAUGE, labels, n_labels, NULL, 0, NULL, NULL, &s,
                                   errstr, errstr_size);
        *out = err ? NULL : &s->gauge;
        return err;
}

sb_err_t sb_metrics_register_gauge_fn(sb_metrics_t *m, const char *name, const char *help,
                                      const sb_metrics_label_t *labels, size_t n_labels,
                                      sb_metrics_gauge_fn fn, void *opaque, char *errstr,
                                      size_t errstr_size) {
        series_t *s;
        if (!fn)
                return sb_seterr(SB_ERR_INVALID, errstr, errstr_size, "metric '%s': no callback",
                                 name ? name : "(null)");
        return do_register(m, name, help, KIND_GAUGE, labels, n_labels, NULL, 0, fn, opaque, &s, errstr,
                           errstr_size);
}

sb_err_t sb_metrics_register_histogram(sb_metrics_t *m, const char *name, const char *help,
                                       const sb_metrics_label_t *labels, size_t n_labels,
                                       const double *bounds, size_t n_bounds, sb_metrics_histogram_t **out,
                                       char *errstr, size_t errstr_size) {
        series_t *s;
        sb_err_t err = do_register(m, name, help, KIND_HISTOGRAM, labels, n_labels, bounds, n_bounds, NULL,
                                   NULL, &s, errstr, errstr_size);
        *out = err ? NULL : &s->histogram;
        return err;
}

/* ---- updates ---- */

void sb_metrics_counter_add(sb_metrics_counter_t *c, uint64_t n) {
        if (c)
                atomic_fetch_add_explicit(&c->value, n, memory_order_relaxed);
}

void sb_metrics_counter_inc(sb_metrics_counter_t *c) { sb_metrics_counter_add(c, 1); }

void sb_metrics_gauge_set(sb_metrics_gauge_t *g, double v) {
        if (g)
                atomic_store_explicit(&g->bits, bits_of(v), memory_order_relaxed);
}

static void add_double(_Atomic uint64_t *bits, double delta) {
        uint64_t old = atomic_load_explicit(bits, memory_order_relaxed);
        /* On failure `old` is reloaded; retry with the new value. */
        while (!atomic_compare_exchange_weak_explicit(bits, &old, bits_of(double_of(old) + delta),
                                                      memory_order_relaxed, memory_order_relaxed))
                ;
}

void sb_metrics_gauge_add(sb_metrics_gauge_t *g, double delta) {
        if (g)
                add_double(&g->bits, delta);
}

void sb_metrics_histogram_observe(sb_metrics_histogram_t *h, double v) {
        /* Binary search for the first bound >= v; NaN compares false and
         * lands in +Inf. */
        if (!h)
                return;
        size_t lo = 0, hi = h->n_bounds;
        while (lo < hi) {
                size_t mid = lo + (hi - lo) / 2;
                if (v <= h->bounds[mid])
                        hi = mid;
                else
                        lo = mid + 1;
        }
        if (isnan(v))
                lo = h->n_bounds;
        atomic_fetch_add_explicit(&h->counts[lo], 1, memory_order_relaxed);
        add_double(&h->sum_bits, v);
}

uint64_t sb_metrics_counter_value(const sb_metrics_counter_t *c) {
        return atomic_load_explicit(&c->value, memory_order_relaxed);
}

double sb_metrics_gauge_value(const sb_metrics_gauge_t *g) {
        return double_of(atomic_load_explicit(&g->bits, memory_order_relaxed));
}

uint64_t sb_metrics_histogram_count(const sb_metrics_histogram_t *h) {
        uint64_t n = 0;
        for (size_t i = 0; i <= h->n_bounds; i++)
                n += atomic_load_explicit(&h->counts[i], memory_order_relaxed);
        return n;
}

double sb_metrics_histogram_sum(const sb_metrics_histogram_t *h) {
        return double_of(atomic_load_explicit(&h->sum_bits, memory_order_relaxed));
}

/* ---- render ---- */

/* name{labels} value\n, or name value\n; `extra` (le="...") joins the
 * series' own labels. */
static sb_err_t put_sample(sb_buf_t *b, const char *name, const char *suffix, const char *labels,
                           const char *extra, const char *num) {
        int braces = *labels || *extra;
        return sb_buf_printf(b, "%s%s%s%s%s%s%s %s\n", name, suffix, braces ? "{" : "", labels,
                             *labels && *extra ? "," : "", extra, braces ? "}" : "", num);
}

static sb_err_t put_histogram(sb_buf_t *b, const family_t *f, const series_t *s) {
        const struct sb_metrics_histogram_s *h = &s->histogram;
        uint64_t cumulative = 0;
        sb_err_t err = SB_OK;
        char le[80], num[64];
        for (size_t i = 0; i <= h->n_bounds && !err; i++) {
                cumulative += atomic_load_explicit(&h->counts[i], memory_order_relaxed);
                if (i < h->n_bounds)
                        format_double(num, sizeof(num), h->bounds[i]);
                else
                        snprintf(num, sizeof(num), "+Inf");
                snprintf(le, sizeof(le), "le=\"%s\"", num);
                snprintf(num, sizeof(num), "%" PRIu64, cumulative);
                err = put_sample(b, f->name, "_bucket", s->labels, le, num);
        }
        format_double(num, sizeof(num), sb_metrics_histogram_sum(h));
        if (!err)
                err = put_sample(b, f->name, "_sum", s->labels, "", num);
        snprintf(num, sizeof(num), "%" PRIu64, cumulative);
        if (!err)
                err = put_sample(b, f->name, "_count", s->labels, "", num);
        return err;
}

static sb_err_t put_family(sb_buf_t *b, const family_t *f) {
        char num[64];
        sb_err_t err = sb_buf_printf(b, "# HELP %s ", f->name);
        if (!err)
                err = put_escaped(b, f->help, 0);
        if (!err)
                err = sb_buf_printf(b, "\n# TYPE %s %s\n", f->name, kind_names[f->kind]);
        for (size_t i = 0; i < f->n_series && !err; i++) {
                const series_t *s = f->series[i];
                switch (f->kind) {
                case KIND_COUNTER:
                        /* As an integer: a double would round past 2^53. */
                        snprintf(num, sizeof(num), "%" PRIu64, sb_metrics_counter_value(&s->counter));
                        err = put_sample(b, f->name, "", s->labels, "", num);
                        break;
                case KIND_GAUGE:
                        format_double(num, sizeof(num),
                                      s->fn ? s->fn(s->opaque) : sb_metrics_gauge_value(&s->gauge));
                        err = put_sample(b, f->name, "", s->labels, "", num);
                        break;
                case KIND_HISTOGRAM: err = put_histogram(b, f, s); break;
                }
        }
        return err;
}

sb_err_t sb_metrics_render(sb_metrics_t *m, sb_buf_t *out, char *errstr, size_t errstr_size) {
        sb_err_t err = SB_OK;
        pthread_mutex_lock(&m->lock);
        for (size_t i = 0; i < m->n_families && !err; i++)
                err = put_family(out, m->families[i]);
        pthread_mutex_unlock(&m->lock);
        if (err)
                return sb_seterr(err, errstr, errstr_size, "metrics text longer than %zu bytes", out->max);
        return SB_OK;
}

size_t sb_metrics_count(sb_metrics_t *m) {
        pthread_mutex_lock(&m->lock);
        size_t n = m->n_series;
        pthread_mutex_unlock(&m->lock);
        return n;
}

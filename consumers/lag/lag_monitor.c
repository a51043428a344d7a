#include "lag/lag_monitor.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
        char *topic;
        int32_t partition;
        lag_window_t *window;
        lag_verdict_t verdict;
        uint64_t seen;        /* the number of the last sample it was in */
        int64_t known_offset; /* the record at this offset was written at known_ms; -1 none */
        int64_t known_ms;
} part_t;

typedef struct {
        char *name;
        char state[32];
        part_t *parts;
        size_t n_parts, cap_parts;
        lag_partition_view_t *views; /* n_parts of them, rebuilt at each end */
        char error[256];             /* the group's own error in this sample, "" none */
        uint64_t seen;
        lag_group_view_t view;
} group_t;

typedef struct {
        char *group;
        int64_t max_lag;
        double max_lag_seconds;
} threshold_t;

struct lag_monitor_s {
        threshold_t *thresholds;
        size_t n_thresholds;
        size_t window;
        int64_t interval_ms;
        sb_log_t *log;
        lag_monitor_change_fn on_change;
        void *opaque;
        group_t *groups;
        size_t n_groups, cap_groups;
        int64_t now_ms;
        uint64_t sample;
};

sb_err_t lag_monitor_new(size_t window, int64_t interval_ms, sb_log_t *log, lag_monitor_change_fn on_change,
                         void *opaque, lag_monitor_t **out, char *errstr, size_t errstr_size) {
        *out = NULL;
        if (window < 1 || window > LAG_WINDOW_MAX || interval_ms <= 0)
                return sb_seterr(SB_ERR_INVALID, errstr, errstr_size,
                                 "a window of 1 to %d samples and an interval above 0 ms, not %zu and %lld",
                                 LAG_WINDOW_MAX, window, (long long)interval_ms);
        lag_monitor_t *m = calloc(1, sizeof(*m));
        if (!m)
                return sb_seterr(SB_ERR_NOMEM, errstr, errstr_size, "out of memory");
        m->window = window;
        m->interval_ms = interval_ms;
        m->log = log;
        m->on_change = on_change;
        m->opaque = opaque;
        *out = m;
        return SB_OK;
}

static void part_free(part_t *p) {
        free(p->topic);
        lag_window_destroy(p->window);
}

static void group_free(group_t *g) {
        for (size_t i = 0; i < g->n_parts; i++)
                part_free(&g->parts[i]);
        free(g->parts);
        free(g->views);
        free(g->name);
}

void lag_monitor_destroy(lag_monitor_t *m) {
        if (!m)
                return;
        for (size_t i = 0; i < m->n_thresholds; i++)
                free(m->thresholds[i].group);
        free(m->thresholds);
        for (size_t i = 0; i < m->n_groups; i++)
                group_free(&m->groups[i]);
        free(m->groups);
        free(m);
}

sb_err_t lag_monitor_set_threshold(lag_monitor_t *m, const char *group, int64_t max_lag,
                                   double max_lag_seconds) {
        threshold_t *t = realloc(m->thresholds, (m->n_thresholds + 1) * sizeof(*t));
        if (!t)
                return SB_ERR_NOMEM;
        m->thresholds = t;
        if (!(t[m->n_thresholds].group = strdup(group)))
                return SB_ERR_NOMEM;
        t[m->n_thresholds].max_lag = max_lag;
        t[m->n_thresholds].max_lag_seconds = max_lag_seconds;
        m->n_thresholds++;
        return SB_OK;
}

/* A group over its threshold is at least WARN. */
static void apply_threshold(const lag_monitor_t *m, lag_group_view_t *v) {
        for (size_t i = 0; i < m->n_thresholds && v->status < LAG_WARN; i++) {
                const threshold_t *t = &m->thresholds[i];
                if (strcmp(t->group, v->name) != 0)
                        continue;
                char have[32], limit[32];
                if (t->max_lag > 0 && v->lag > t->max_lag) {
                        lag_status_count(v->lag, have, sizeof(have));
                        lag_status_count(t->max_lag, limit, sizeof(limit));
                        snprintf(v->reason, sizeof(v->reason),
                                 "group %.100s: %s behind, above its threshold of %s", v->name, have, limit);
                        v->status = LAG_WARN;
                } else if (t->max_lag_seconds > 0 && v->lag_seconds > t->max_lag_seconds) {
                        lag_status_duration((int64_t)(v->lag_seconds * 1000), have, sizeof(have));
                        lag_status_duration((int64_t)(t->max_lag_seconds * 1000), limit, sizeof(limit));
                        snprintf(
                                v->reason, sizeof(v->reason),
                                "group %.100s: its oldest unread change is %s old, above its threshold of %s",
                                v->name, have, limit);
                        v->status = LAG_WARN;
                }
        }
}

void lag_monitor_begin(lag_monitor_t *m, int64_t now_ms) {
        m->now_ms = now_ms;
        m->sample++;
        for (size_t i = 0; i < m->n_groups; i++)
                m->groups[i].error[0] = '\0';
}

/* Grows *arr (of *cap elements of `size`) to hold one more; 0 when memory ran out. */
static int grow(void **arr, size_t *cap, size_t n, size_t size) {
        if (n < *cap)
                return 1;
        size_t want = *cap ? 2 * *cap : 8;
        void *p = realloc(*arr, want * size);
        if (!p)
                return 0;
        memset((char *)p + *cap * size, 0, (want - *cap) * size);
        *arr = p;
        *cap = want;
        return 1;
}

static group_t *find_group(const lag_monitor_t *m, const char *name) {
        for (size_t i = 0; i < m->n_groups; i++)
                if (strcmp(m->groups[i].name, name) == 0)
                        return &m->groups[i];
        return NULL;
}

sb_err_t lag_monitor_add(lag_monitor_t *m, const lag_offsets_t *o) {
        group_t *g = find_group(m, o->group);
        if (!g) {
                if (!grow((void **)&m->groups, &m->cap_groups, m->n_groups, sizeof(*m->groups)))
                        return SB_ERR_NOMEM;
                g = &m->groups[m->n_groups];
                memset(g, 0, sizeof(*g));
                if (!(g->name = strdup(o->group)))
                        return SB_ERR_NOMEM;
                m->n_groups++;
        }
        g->seen = m->sample;
        snprintf(g->state, sizeof(g->state), "%s", o->state ? o->state : "");
        if (!o->topic) {
                snprintf(g->error, sizeof(g->error), "%s",
                         o->error ? o->error : "its offsets could not be read");
                return SB_OK;
        }
        part_t *p = NULL;
        for (size_t i = 0; i < g->n_parts && !p; i++)
                if (g->parts[i].partition == o->partition && strcmp(g->parts[i].topic, o->topic) == 0)
                        p = &g->parts[i];
        if (!p) {
                if (!grow((void **)&g->parts, &g->cap_parts, g->n_parts, sizeof(*g->parts)))
                        return SB_ERR_NOMEM;
                p = &g->parts[g->n_parts];
                memset(p, 0, sizeof(*p));
                char why[128];
                if (!(p->topic = strdup(o->topic)) ||
                    lag_window_new(m->window, &p->window, why, sizeof(why))) {
                        free(p->topic);
                        return SB_ERR_NOMEM;
                }
                p->partition = o->partition;
                p->known_offset = -1;
                g->n_parts++;
        }
        lag_sample_t s = {m->now_ms, o->committed, o->log_end, o->error != NULL || o->log_end < 0};
        lag_window_push(p->window, &s);
        p->seen = m->sample;
        return SB_OK;
}

/* The oldest unread record's own time, when known, is its age. */
static void exact_age(part_t *p, int64_t now_ms) {
        const lag_sample_t *last = lag_window_last_good(p->window);
        if (last && p->verdict.lag > 0 && p->known_offset >= 0 && p->known_offset == last->committed)
                p->verdict.lag_seconds = p->known_ms < now_ms ? (double)(now_ms - p->known_ms) / 1000.0 : 0;
}

/* Judges group g; returns its new status. */
static lag_status_t judge(lag_monitor_t *m, group_t *g) {
        /* Forget the partitions not seen for a whole window. */
        size_t kept = 0;
        for (size_t i = 0; i < g->n_parts; i++) {
                if (m->sample - g->parts[i].seen >= m->window)
                        part_free(&g->parts[i]);
                else
                        g->parts[kept++] = g->parts[i];
        }
        g->n_parts = kept;
        lag_partition_view_t *views = realloc(g->views, (kept ? kept : 1) * sizeof(*views));
        if (views)
                g->views = views;
        lag_group_view_t *v = &g->view;
        v->name = g->name;
        v->state = g->state;
        v->status = LAG_OK;
        v->reason[0] = '\0';
        v->lag = 0;
        v->lag_seconds = 0;
        v->n_partitions = views ? kept : 0;
        v->partitions = g->views;
        for (size_t i = 0; i < kept; i++) {
                part_t *p = &g->parts[i];
                lag_status_evaluate(p->window, p->topic, p->partition, m->now_ms,
                                    (int64_t)m->window * m->interval_ms, &p->verdict);
                exact_age(p, m->now_ms);
                if (views)
                        views[i] = (lag_partition_view_t){p->topic, p->partition, p->window, p->verdict};
                if (p->verdict.status > v->status ||
                    (v->status == LAG_OK && !v->reason[0] && p->verdict.reason[0])) {
                        v->status = p->verdict.status;
                        snprintf(v->reason, sizeof(v->reason), "%s", p->verdict.reason);
                }
                if (p->verdict.lag > 0)
                        v->lag += p->verdict.lag;
                if (p->verdict.lag_seconds > v->lag_seconds)
                        v->lag_seconds = p->verdict.lag_seconds;
        }
        apply_threshold(m, v);
        if (g->error[0]) {
                v->status = LAG_ERR;
                snprintf(v->reason, sizeof(v->reason), "group %.100s: %.200s", g->name, g->error);
        }
        return v->status;
}

void lag_monitor_end(lag_monitor_t *m) {
        size_t kept = 0;
        for (size_t i = 0; i < m->n_groups; i++) {
                group_t *g = &m->groups[i];
                if (m->sample - g->seen >= m->window) { /* gone from the cluster */
                        SB_LOG(m->log, SB_LOG_INFO, "group %s: not seen for %zu samples, no longer watched",
                               g->name, m->window);
                        group_free(g);
                        continue;
                }
                /* A new group counts as OK before: only trouble is news. */
                lag_status_t was = g->view.name ? g->view.status : LAG_OK;
                lag_status_t now = judge(m, g);
                if (now != was) {
                        SB_LOG(m->log, now > was ? SB_LOG_WARN : SB_LOG_INFO, "group %s: %s -> %s%s%s",
                               g->name, lag_status_name(was), lag_status_name(now),
                               g->view.reason[0] ? ": " : "", g->view.reason);
                        if (m->on_change)
                                m->on_change(m->opaque, g->name, was, now, g->view.reason);
                }
                m->groups[kept++] = *g;
        }
        m->n_groups = kept;
        /* The views point into the groups, which may have moved. */
        for (size_t i = 0; i < m->n_groups; i++) {
                m->groups[i].view.name = m->groups[i].name;
                m->groups[i].view.state = m->groups[i].state;
                m->groups[i].view.partitions = m->groups[i].views;
        }
}

size_t lag_monitor_unknown_ages(const lag_monitor_t *m, size_t max, lag_monitor_ask_fn ask, void *opaque) {
        size_t n = 0;
        for (size_t i = 0; i < m->n_groups && n < max; i++) {
                const group_t *g = &m->groups[i];
                for (size_t k = 0; k < g->n_parts && n < max; k++) {
                        const part_t *p = &g->parts[k];
                        const lag_sample_t *last = lag_window_last_good(p->window);
                        if (!last || p->verdict.lag <= 0 || last->committed < 0 ||
                            p->known_offset == last->committed ||
                            !lag_window_age_is_bound(p->window, m->now_ms))
                                continue;
                        ask(opaque, p->topic, p->partition, last->committed);
                        n++;
                }
        }
        return n;
}

void lag_monitor_set_record_time(lag_monitor_t *m, const char *topic, int32_t partition, int64_t offset,
                                 int64_t ts_ms) {
        for (size_t i = 0; i < m->n_groups; i++) {
                group_t *g = &m->groups[i];
                int changed = 0;
                for (size_t k = 0; k < g->n_parts; k++) {
                        part_t *p = &g->parts[k];
                        const lag_sample_t *last = lag_window_last_good(p->window);
                        if (p->partition != partition || !last || last->committed != offset ||
                            strcmp(p->topic, topic) != 0)
                                continue;
                        p->known_offset = offset;
                        p->known_ms = ts_ms;
                        exact_age(p, m->now_ms);
                        if (k < g->view.n_partitions)
                                g->views[k].verdict.lag_seconds = p->verdict.lag_seconds;
                        changed = 1;
                }
                /* The group's age is its oldest partition's. */
                for (size_t k = 0; changed && k < g->view.n_partitions; k++)
                        if (k == 0 || g->views[k].verdict.lag_seconds > g->view.lag_seconds)
                                g->view.lag_seconds = g->views[k].verdict.lag_seconds;
        }
}

size_t lag_monitor_group_count(const lag_monitor_t *m) { return m->n_groups; }

const lag_group_view_t *lag_monitor_group(const lag_monitor_t *m, size_t i) {
        return i < m->n_groups && m->groups[i].view.name ? &m->groups[i].view : NULL;
}

const lag_group_view_t *lag_monitor_find(const lag_monitor_t *m, const char *group) {
        const group_t *g = find_group(m, group);
        return g && g->view.name ? &g->view : NULL;
}

/* Appends `s` as a label value: backslash, double quote and newline escaped. */
static sb_err_t put_label(sb_buf_t *out, const char *s) {
        sb_err_t err = SB_OK;
        for (; *s && !err; s++)
                err = *s == '\\'   ? sb_buf_append(out, "\\\\", 2)
                      : *s == '"'  ? sb_buf_append(out, "\\\"", 2)
                      : *s == '\n' ? sb_buf_append(out, "\\n", 2)
                                   : sb_buf_append(out, s, 1);
        return err;
}

typedef enum { M_LAG, M_SECONDS, M_COMMITTED, M_END, M_STATUS } part_metric_t;

static sb_err_t render_part_family(const lag_monitor_t *m, sb_buf_t *out, const char *name, const char *help,
                                   part_metric_t which) {
        sb_err_t err = sb_buf_printf(out, "# HELP %s %s\n# TYPE %s gauge\n", name, help, name);
        for (size_t i = 0; !err && i < m->n_groups; i++) {
                const lag_group_view_t *g = &m->groups[i].view;
                for (size_t k = 0; !err && g->name && k < g->n_partitions; k++) {
                        const lag_partition_view_t *p = &g->partitions[k];
                        const lag_sample_t *last = lag_window_last_good(p->window);
                        double v = which == M_LAG         ? (double)p->verdict.lag
                                   : which == M_SECONDS   ? p->verdict.lag_seconds
                                   : which == M_STATUS    ? (double)p->verdict.status
                                   : !last                ? -1
                                   : which == M_COMMITTED ? (double)last->committed
                                                          : (double)last->log_end;
                        if (which != M_STATUS && v < 0)
                                continue; /* unknown: no sample rather than a made-up one */
                        err = sb_buf_printf(out, "%s{group=\"", name);
                        if (!err)
                                err = put_label(out, g->name);
                        if (!err)
                                err = sb_buf_printf(out, "\",topic=\"");
                        if (!err)
                                err = put_label(out, p->topic);
                        if (!err)
                                err = sb_buf_printf(out, "\",partition=\"%d\"} %.17g\n", (int)p->partition,
                                                    v);
                }
        }
        return err;
}

sb_err_t lag_monitor_render_metrics(const lag_monitor_t *m, sb_buf_t *out) {
        sb_err_t err =
                sb_buf_printf(out, "# HELP sharebus_consumergroup_status Status of the consumer group by "
                                   "Burrow's rules: 0 OK, 1 WARN, 2 REWIND, 3 STALL, 4 STOP, 5 ERR\n"
                                   "# TYPE sharebus_consumergroup_status gauge\n");
        for (size_t i = 0; !err && i < m->n_groups; i++) {
                const lag_group_view_t *g = &m->groups[i].view;
                if (!g->name)
                        continue;
                err = sb_buf_printf(out, "sharebus_consumergroup_status{group=\"");
                if (!err)
                        err = put_label(out, g->name);
                if (!err)
                        err = sb_buf_printf(out, "\"} %d\n", (int)g->status);
        }
        if (!err)
                err = render_part_family(
                        m, out, "sharebus_consumergroup_lag",
                        "Messages the group is behind on the partition (log end offset minus "
                        "committed offset)",
                        M_LAG);
        if (!err)
                err = render_part_family(
                        m, out, "sharebus_consumergroup_lag_seconds",
                        "Age of the oldest change the group has not consumed on the partition", M_SECONDS);
        if (!err)
                err = render_part_family(m, out, "sharebus_consumergroup_committed_offset",
                                         "The group's committed offset on the partition", M_COMMITTED);
        if (!err)
                err = render_part_family(m, out, "sharebus_consumergroup_log_end_offset",
                                         "The partition's log end offset", M_END);
        if (!err)
                err = render_part_family(
                        m, out, "sharebus_consumergroup_partition_status",
                        "Status of the partition for the group (as sharebus_consumergroup_status)", M_STATUS);
        return err;
}

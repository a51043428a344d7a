#include "lag/lag_history.h"

#include <jansson.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
        char *name;
        int64_t *lag;  /* capacity slots, -1: not in that sample */
        double *secs;  /* capacity slots, -1: unknown */
        uint64_t last; /* the number of the last sample it was in */
} series_t;

struct lag_history_s {
        size_t capacity;
        int64_t *t_ms; /* capacity slots */
        size_t count;  /* samples kept */
        size_t next;   /* the slot the next sample takes */
        uint64_t sample;
        series_t *series;
        size_t n_series, cap_series;
};

sb_err_t lag_history_new(size_t capacity, lag_history_t **out, char *errstr, size_t errstr_size) {
        *out = NULL;
        if (capacity < 2 || capacity > LAG_HISTORY_MAX)
                return sb_seterr(SB_ERR_INVALID, errstr, errstr_size, "a history of 2 to %d samples, not %zu",
                                 LAG_HISTORY_MAX, capacity);
        lag_history_t *h = calloc(1, sizeof(*h));
        if (!h || !(h->t_ms = calloc(capacity, sizeof(*h->t_ms)))) {
                free(h);
                return sb_seterr(SB_ERR_NOMEM, errstr, errstr_size, "out of memory");
        }
        h->capacity = capacity;
        *out = h;
        return SB_OK;
}

static void series_free(series_t *s) {
        free(s->name);
        free(s->lag);
        free(s->secs);
}

void lag_history_destroy(lag_history_t *h) {
        if (!h)
                return;
        for (size_t i = 0; i < h->n_series; i++)
                series_free(&h->series[i]);
        free(h->series);
        free(h->t_ms);
        free(h);
}

static series_t *series_find(lag_history_t *h, const char *name) {
        for (size_t i = 0; i < h->n_series; i++)
                if (strcmp(h->series[i].name, name) == 0)
                        return &h->series[i];
        return NULL;
}

static series_t *series_add(lag_history_t *h, const char *name) {
        if (h->n_series == h->cap_series) {
                size_t cap = h->cap_series ? 2 * h->cap_series : 16;
                series_t *p = realloc(h->series, cap * sizeof(*p));
                if (!p)
                        return NULL;
                h->series = p;
                h->cap_series = cap;
        }
        series_t s = {.name = strdup(name),
                      .lag = malloc(h->capacity * sizeof(int64_t)),
                      .secs = malloc(h->capacity * sizeof(double)),
                      .last = 0};
        if (!s.name || !s.lag || !s.secs) {
                series_free(&s);
                return NULL;
        }
        for (size_t i = 0; i < h->capacity; i++) {
                s.lag[i] = -1;
                s.secs[i] = -1;
        }
        h->series[h->n_series] = s;
        return &h->series[h->n_series++];
}

sb_err_t lag_history_record(lag_history_t *h, const lag_monitor_t *m, int64_t now_ms) {
        sb_err_t err = SB_OK;
        size_t slot = h->next;
        h->sample++;
        h->t_ms[slot] = now_ms;
        h->next = (slot + 1) % h->capacity;
        if (h->count < h->capacity)
                h->count++;
        for (size_t i = 0; i < h->n_series; i++) {
                h->series[i].lag[slot] = -1;
                h->series[i].secs[slot] = -1;
        }
        for (size_t i = 0; i < lag_monitor_group_count(m); i++) {
                const lag_group_view_t *g = lag_monitor_group(m, i);
                series_t *s = series_find(h, g->name);
                if (!s && !(s = series_add(h, g->name))) {
                        err = SB_ERR_NOMEM;
                        continue;
                }
                s->lag[slot] = g->lag;
                s->secs[slot] = g->lag_seconds;
                s->last = h->sample;
        }
        /* A group in none of the kept samples is forgotten. */
        size_t kept = 0;
        for (size_t i = 0; i < h->n_series; i++) {
                if (h->sample - h->series[i].last >= h->count)
                        series_free(&h->series[i]);
                else
                        h->series[kept++] = h->series[i];
        }
        h->n_series = kept;
        return err;
}

size_t lag_history_samples(const lag_history_t *h) { return h->count; }
size_t lag_history_groups(const lag_history_t *h) { return h->n_series; }

sb_err_t lag_history_render(const lag_history_t *h, sb_buf_t *out) {
        json_t *doc = json_object(), *t = json_array(), *groups = json_array();
        int bad = !doc || !t || !groups || json_object_set(doc, "t", t) ||
                  json_object_set(doc, "groups", groups);
        size_t first = (h->next + h->capacity - h->count) % h->capacity;
        for (size_t k = 0; !bad && k < h->count; k++)
                bad = json_array_append_new(t,
                                            json_real((double)h->t_ms[(first + k) % h->capacity] / 1000.0));
        for (size_t i = 0; !bad && i < h->n_series; i++) {
                const series_t *s = &h->series[i];
                json_t *lag = json_array(), *secs = json_array();
                json_t *g = json_pack("{s:s, s:o, s:o}", "group", s->name, "lag", lag, "lag_seconds", secs);
                /* (A name that is not UTF-8 cannot be JSON: left out.) */
                if (!g)
                        continue;
                for (size_t k = 0; !bad && k < h->count; k++) {
                        size_t at = (first + k) % h->capacity;
                        bad = json_array_append_new(lag, s->lag[at] < 0
                                                                 ? json_null()
                                                                 : json_integer((json_int_t)s->lag[at])) ||
                              json_array_append_new(secs,
                                                    s->secs[at] < 0 ? json_null() : json_real(s->secs[at]));
                }
                bad = bad || json_array_append_new(groups, g);
        }
        char *text = bad ? NULL : json_dumps(doc, JSON_COMPACT | JSON_PRESERVE_ORDER);
        json_decref(t);
        json_decref(groups);
        json_decref(doc);
        sb_err_t err = text ? sb_buf_append(out, text, strlen(text)) : SB_ERR_NOMEM;
        free(text);
        return err;
}

#include "lag/lag_scorecard.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
        char *topic;
        int partitions;
        int64_t last_hour, last_day, retained; /* -1 unknown */
        char *error;                           /* NULL: none */
} count_t;

typedef struct {
        char *topic; /* of a <topic>-value subject */
        int version;
} subject_t;

struct lag_scorecard_s {
        int64_t now_ms;
        count_t *counts;
        size_t n_counts, cap_counts;
        subject_t *subjects;
        size_t n_subjects;
        int registry_read; /* 0: no registry configured */
        char registry_error[512];
        int nomem;
};

sb_err_t lag_scorecard_new(int64_t now_ms, lag_scorecard_t **out, char *errstr, size_t errstr_size) {
        *out = calloc(1, sizeof(**out));
        if (!*out)
                return sb_seterr(SB_ERR_NOMEM, errstr, errstr_size, "out of memory");
        (*out)->now_ms = now_ms;
        return SB_OK;
}

void lag_scorecard_destroy(lag_scorecard_t *sc) {
        if (!sc)
                return;
        for (size_t i = 0; i < sc->n_counts; i++) {
                free(sc->counts[i].topic);
                free(sc->counts[i].error);
        }
        for (size_t i = 0; i < sc->n_subjects; i++)
                free(sc->subjects[i].topic);
        free(sc->counts);
        free(sc->subjects);
        free(sc);
}

int lag_scorecard_failed(const lag_scorecard_t *sc) { return sc->nomem; }

void lag_scorecard_add_topic(void *opaque, const lag_topic_count_t *c) {
        lag_scorecard_t *sc = opaque;
        if (sc->n_counts == sc->cap_counts) {
                size_t cap = sc->cap_counts ? 2 * sc->cap_counts : 64;
                count_t *p = realloc(sc->counts, cap * sizeof(*p));
                if (!p) {
                        sc->nomem = 1;
                        return;
                }
                sc->counts = p;
                sc->cap_counts = cap;
        }
        count_t n = {.topic = strdup(c->topic),
                     .partitions = c->partitions,
                     .last_hour = c->last_hour,
                     .last_day = c->last_day,
                     .retained = c->retained,
                     .error = c->error ? strdup(c->error) : NULL};
        if (!n.topic || (c->error && !n.error)) {
                free(n.topic);
                free(n.error);
                sc->nomem = 1;
                return;
        }
        sc->counts[sc->n_counts++] = n;
}

/* 1 if `topic` names a dataset: <department>.<dataset>, not a topic of
 * sharebus's own (dead letters, rejects, the registry's). */
static int is_dataset(const char *topic) {
        const char *dot = strchr(topic, '.');
        return dot && dot > topic && dot[1] && topic[0] != '_' && strncmp(topic, "dlq.", 4) != 0 &&
               strncmp(topic, "rejects.", 8) != 0;
}

void lag_scorecard_read_registry(lag_scorecard_t *sc, sb_registry_client_t *rc) {
        if (!rc)
                return;
        sc->registry_read = 1;
        json_t *list = NULL;
        if (sb_registry_get(rc, "/subjects", &list, sc->registry_error, sizeof(sc->registry_error)))
                return;
        if (!json_is_array(list) || json_array_size(list) > LAG_SCORECARD_MAX_SUBJECTS) {
                snprintf(sc->registry_error, sizeof(sc->registry_error),
                         "GET /subjects: not a list of at most %d subjects", LAG_SCORECARD_MAX_SUBJECTS);
                json_decref(list);
                return;
        }
        if (!(sc->subjects = calloc(json_array_size(list) + 1, sizeof(*sc->subjects)))) {
                sc->nomem = 1;
                json_decref(list);
                return;
        }
        size_t i;
        json_t *v;
        json_array_foreach(list, i, v) {
                const char *name = json_string_value(v);
                size_t len = name ? strlen(name) : 0;
                if (len < 7 || len > 255 || strcmp(name + len - 6, "-value") != 0)
                        continue;
                char topic[256], path[600];
                snprintf(topic, sizeof(topic), "%.*s", (int)(len - 6), name);
                if (!is_dataset(topic))
                        continue;
                /* (Subject names of datasets need no escaping: [a-z0-9_.-].) */
                snprintf(path, sizeof(path), "/subjects/%s/versions/latest", name);
                json_t *latest = NULL;
                if (sb_registry_get(rc, path, &latest, sc->registry_error, sizeof(sc->registry_error)))
                        continue;
                subject_t *s = &sc->subjects[sc->n_subjects];
                s->version = (int)json_integer_value(json_object_get(latest, "version"));
                json_decref(latest);
                if (!(s->topic = strdup(topic))) {
                        sc->nomem = 1;
                        break;
                }
                sc->n_subjects++;
        }
        json_decref(list);
}

/* ---- rendering ---- */

static json_t *count_or_null(int64_t n) { return n < 0 ? json_null() : json_integer((json_int_t)n); }
static json_t *real_or_null(double v) { return v < 0 ? json_null() : json_real(v); }

static const count_t *find_count(const lag_scorecard_t *sc, const char *topic) {
        for (size_t i = 0; i < sc->n_counts; i++)
                if (strcmp(sc->counts[i].topic, topic) == 0)
                        return &sc->counts[i];
        return NULL;
}

static json_t *counts_json(const count_t *c) {
        return json_pack("{s:s, s:o, s:o, s:o}", "topic", c->topic, "last_hour", count_or_null(c->last_hour),
                         "last_day", count_or_null(c->last_day), "kept", count_or_null(c->retained));
}

/* The groups of `m` reading `topic`: lag summed over its partitions,
 * freshness the oldest unread change, status the worst partition's. */
static json_t *subscribers_json(const lag_scorecard_t *sc, const lag_monitor_t *m, const char *topic) {
        json_t *list = json_array();
        for (size_t i = 0; list && i < lag_monitor_group_count(m); i++) {
                const lag_group_view_t *g = lag_monitor_group(m, i);
                int64_t lag = 0;
                double secs = -1;
                lag_status_t worst = LAG_OK;
                size_t n = 0;
                for (size_t k = 0; k < g->n_partitions; k++) {
                        const lag_partition_view_t *p = &g->partitions[k];
                        if (strcmp(p->topic, topic) != 0)
                                continue;
                        n++;
                        lag += p->verdict.lag > 0 ? p->verdict.lag : 0;
                        secs = p->verdict.lag_seconds > secs ? p->verdict.lag_seconds : secs;
                        worst = p->verdict.status > worst ? p->verdict.status : worst;
                }
                if (!n)
                        continue;
                /* Dead letters of group sharebus.<name> go to dlq.<name>. */
                char dlq[300];
                const count_t *dead = NULL;
                if (strncmp(g->name, "sharebus.", 9) == 0) {
                        snprintf(dlq, sizeof(dlq), "dlq.%.280s", g->name + 9);
                        dead = find_count(sc, dlq);
                }
                json_t *o = json_pack("{s:s, s:s, s:I, s:o, s:o}", "group", g->name, "status",
                                      lag_status_name(worst), "lag", (json_int_t)lag, "lag_seconds",
                                      real_or_null(secs), "dead_letters_last_day",
                                      dead ? count_or_null(dead->last_day) : json_null());
                if (o && json_array_append_new(list, o)) {
                        json_decref(list);
                        return NULL;
                }
        }
        return list;
}

static int subject_version(const lag_scorecard_t *sc, const char *topic) {
        for (size_t i = 0; i < sc->n_subjects; i++)
                if (strcmp(sc->subjects[i].topic, topic) == 0)
                        return sc->subjects[i].version;
        return 0;
}

/* The department's entry of `departments`, made if new. */
static json_t *department(json_t *departments, const char *topic) {
        char name[256];
        snprintf(name, sizeof(name), "%.*s", (int)(strchr(topic, '.') - topic), topic);
        size_t i;
        json_t *d;
        json_array_foreach(departments, i, d) {
                if (strcmp(json_string_value(json_object_get(d, "department")), name) == 0)
                        return d;
        }
        d = json_pack("{s:s, s:I, s:[], s:n}", "department", name, "changes_last_day", (json_int_t)0,
                      "datasets", "rejects");
        return d && !json_array_append_new(departments, d) ? d : NULL;
}

/* Adds n to the integer member `key` of `o`. */
static void bump(json_t *o, const char *key, int64_t n) {
        json_int_t was = json_integer_value(json_object_get(o, key));
        json_object_set_new(o, key, json_integer(was + (json_int_t)n));
}

static int add_dataset(const lag_scorecard_t *sc, const lag_monitor_t *m, json_t *departments,
                       const char *topic, const count_t *c, json_t *totals) {
        json_t *d = department(departments, topic);
        json_t *subs = subscribers_json(sc, m, topic);
        int version = subject_version(sc, topic);
        if (!d || !subs) {
                json_decref(subs);
                return -1;
        }
        size_t n_subs = json_array_size(subs);
        json_t *o = json_pack(
                "{s:s, s:s, s:i, s:o, s:o, s:o, s:o, s:o, s:o}", "dataset", strchr(topic, '.') + 1, "topic",
                topic, "partitions", c ? c->partitions : 0, "schema_version",
                version > 0 ? json_integer(version) : json_null(), "changes_last_hour",
                count_or_null(c ? c->last_hour : -1), "changes_last_day", count_or_null(c ? c->last_day : -1),
                "records_kept", count_or_null(c ? c->retained : -1), "error",
                c ? (c->error ? json_string(c->error) : json_null()) : json_string("no such topic in Kafka"),
                "subscribers", subs);
        if (!o || json_array_append_new(json_object_get(d, "datasets"), o))
                return -1;
        int64_t day = c && c->last_day > 0 ? c->last_day : 0;
        bump(d, "changes_last_day", day);
        bump(totals, "datasets", 1);
        bump(totals, "changes_last_day", day);
        bump(totals, "datasets_without_subscribers", n_subs == 0);
        bump(totals, "datasets_silent_last_day", day == 0 && !(c && c->error));
        return 0;
}

static int by_topic(const void *a, const void *b) {
        return strcmp(((const count_t *)a)->topic, ((const count_t *)b)->topic);
}

sb_err_t lag_scorecard_render(const lag_scorecard_t *sc, const lag_monitor_t *m, sb_buf_t *out) {
        json_t *doc;
        if (!sc) {
                doc = json_pack("{s:n, s:s}", "counted_at", "error", "not counted yet");
        } else {
                json_t *departments = json_array(), *dead = json_array();
                json_t *totals = json_pack("{s:i, s:i, s:i, s:i}", "datasets", 0, "changes_last_day", 0,
                                           "datasets_without_subscribers", 0, "datasets_silent_last_day", 0);
                int bad = !departments || !dead || !totals;
                /* Sorted by topic, so departments and datasets read in order. */
                count_t *sorted = sc->n_counts ? malloc(sc->n_counts * sizeof(*sorted)) : NULL;
                if (sc->n_counts && !sorted)
                        bad = 1;
                else if (sorted)
                        memcpy(sorted, sc->counts, sc->n_counts * sizeof(*sorted));
                if (sorted)
                        qsort(sorted, sc->n_counts, sizeof(*sorted), by_topic);
                for (size_t i = 0; !bad && i < sc->n_counts; i++) {
                        const count_t *c = &sorted[i];
                        if (is_dataset(c->topic))
                                bad = add_dataset(sc, m, departments, c->topic, c, totals);
                        else if (strncmp(c->topic, "dlq.", 4) == 0)
                                bad = json_array_append_new(dead, counts_json(c));
                }
                /* Datasets the registry knows but Kafka has no topic for. */
                for (size_t i = 0; !bad && i < sc->n_subjects; i++)
                        if (!find_count(sc, sc->subjects[i].topic))
                                bad = add_dataset(sc, m, departments, sc->subjects[i].topic, NULL, totals);
                for (size_t i = 0; !bad && i < sc->n_counts; i++) {
                        const count_t *c = &sorted[i];
                        if (strncmp(c->topic, "rejects.", 8) != 0)
                                continue;
                        char probe[300];
                        snprintf(probe, sizeof(probe), "%.280s.", c->topic + 8);
                        json_t *d = department(departments, probe);
                        bad = !d || json_object_set_new(d, "rejects", counts_json(c));
                }
                free(sorted);
                json_t *registry = !sc->registry_read
                                           ? json_pack("{s:b, s:n}", "configured", 0, "error")
                                           : json_pack("{s:b, s:o}", "configured", 1, "error",
                                                       sc->registry_error[0] ? json_string(sc->registry_error)
                                                                             : json_null());
                doc = bad ? NULL
                          : json_pack("{s:I, s:o, s:o, s:o, s:o}", "counted_at", (json_int_t)sc->now_ms,
                                      "totals", totals, "departments", departments, "dead_letters", dead,
                                      "registry", registry);
                if (bad) {
                        json_decref(departments);
                        json_decref(dead);
                        json_decref(totals);
                        json_decref(registry);
                }
        }
        char *text = doc ? json_dumps(doc, JSON_COMPACT | JSON_PRESERVE_ORDER) : NULL;
        json_decref(doc);
        sb_err_t err = text ? sb_buf_append(out, text, strlen(text)) : SB_ERR_NOMEM;
        free(text);
        return err;
}

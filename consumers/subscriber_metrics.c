#include "subscriber_metrics.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sb_clock.h"

/* The tallies of a topic, by what happened to a record. */
enum { CONSUMED, OP_C, OP_U, OP_R, OP_D, TOMBSTONE, DEAD_LETTER, FILTERED, N_KINDS };

typedef struct topic_s {
        char *name;
        uint64_t total[N_KINDS];   /* committed (CONSUMED: polled) */
        uint64_t counted[N_KINDS]; /* what the counters hold of total */
        uint64_t batch[N_KINDS];   /* in the batch being applied */
        int64_t batch_ts_ms;       /* newest event time in that batch, -1 none */
        /* Newest event time committed, -1 none: written by the subscriber's
         * thread, read by the gauge's callback in the HTTP server's. */
        int64_t last_ts_ms;
        sb_metrics_counter_t *counter[N_KINDS];
        struct topic_s *next;
} topic_t;

struct sb_subscriber_metrics_s {
        sb_metrics_t *set;
        /* A list, not an array: each topic is the opaque of its gauge's
         * callback and must not move when another is added. */
        topic_t *topics;
        sb_metrics_counter_t *batches, *retries, *nudges;
        sb_metrics_histogram_t *batch_records, *latency, *event_latency;
        /* The event times of the changes in the batch being applied, kept
         * (and reused from batch to batch) until its commit says how long
         * each took. */
        int64_t *batch_ts;
        size_t n_batch_ts, cap_batch_ts;
};

static double age_at(const topic_t *t, int64_t now_ms) {
        int64_t last = __atomic_load_n(&t->last_ts_ms, __ATOMIC_ACQUIRE);
        /* Not clamped at 0: an event time ahead of this machine's clock
         * shows as a negative age, which says what is wrong. */
        return last < 0 ? NAN : (double)(now_ms - last) / 1000.0;
}

static double age_now(void *opaque) { return age_at(opaque, sb_clock_now_ms()); }

static void topic_free(topic_t *t) {
        if (t)
                free(t->name);
        free(t);
}

/* Registers the series of topic `name` (len bytes) and prepends it to the
 * list, into *out.  When the set refuses a series the topic is listed all
 * the same, counting into what was registered, so that it is not tried
 * again for each record; the gauge is registered last, so a topic whose
 * registration failed is nobody's opaque.  *out NULL only without memory. */
static sb_err_t add_topic(sb_subscriber_metrics_t *sm, const char *name, size_t len, topic_t **out,
                          char *errstr, size_t errstr_size) {
        static const char *const ops[] = {[OP_C] = "c", [OP_U] = "u", [OP_R] = "r", [OP_D] = "d"};
        topic_t *t = calloc(1, sizeof(*t));
        *out = NULL;
        if (!t || !(t->name = strndup(name, len))) {
                free(t);
                return sb_seterr(SB_ERR_NOMEM, errstr, errstr_size, "out of memory");
        }
        t->batch_ts_ms = t->last_ts_ms = -1;
        sb_metrics_label_t labels[2] = {{"topic", t->name}, {"op", NULL}};
        sb_err_t err = sb_metrics_register_counter(
                sm->set, "sharebus_subscriber_events_consumed_total",
                "Records polled from the topic (a batch dropped at a revocation is polled again)", labels, 1,
                &t->counter[CONSUMED], errstr, errstr_size);
        for (int k = OP_C; !err && k <= OP_D; k++) {
                labels[1].value = ops[k];
                err = sb_metrics_register_counter(sm->set, "sharebus_subscriber_events_applied_total",
                                                  "Changes applied to the target and committed, by envelope "
                                                  "op (c, u, r: upserts; d: deletes)",
                                                  labels, 2, &t->counter[k], errstr, errstr_size);
        }
        if (!err)
                err = sb_metrics_register_counter(sm->set, "sharebus_subscriber_tombstones_skipped_total",
                                                  "Tombstones (null values) passed over and committed",
                                                  labels, 1, &t->counter[TOMBSTONE], errstr, errstr_size);
        if (!err)
                err = sb_metrics_register_counter(
                        sm->set, "sharebus_subscriber_events_dead_lettered_total",
                        "Records that can never be applied, sent to the dead-letter topic and committed",
                        labels, 1, &t->counter[DEAD_LETTER], errstr, errstr_size);
        if (!err)
                err = sb_metrics_register_counter(sm->set, "sharebus_subscriber_events_filtered_total",
                                                  "Changes the subscriber's transforms left out (a filter or "
                                                  "an ops step) and committed",
                                                  labels, 1, &t->counter[FILTERED], errstr, errstr_size);
        if (!err)
                err = sb_metrics_register_gauge_fn(
                        sm->set, "sharebus_subscriber_last_applied_age_seconds",
                        "Now minus the event time (envelope ts_ms) of the newest change of the topic "
                        "committed; NaN before the first",
                        labels, 1, age_now, t, errstr, errstr_size);
        t->next = sm->topics;
        sm->topics = t;
        *out = t;
        return err;
}

sb_err_t sb_subscriber_metrics_new(sb_metrics_t *set, const char *topics, sb_subscriber_metrics_t **out,
                                   char *errstr, size_t errstr_size) {
        static const double record_bounds[] = {1,   2,    5,    10,   25,    50,    100,   250,
                                               500, 1000, 2500, 5000, 10000, 25000, 50000, 100000};
        static const double latency_bounds[] = {0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25,
                                                0.5,   1,      2.5,   5,    10,    30,   60,  300};
        static const double event_bounds[] = {0.005, 0.01, 0.02, 0.03, 0.05, 0.075, 0.1, 0.15, 0.25, 0.5,
                                              1,     2.5,  5,    10,   30,   60,    300, 900,  3600};
        *out = NULL;
        sb_subscriber_metrics_t *sm = calloc(1, sizeof(*sm));
        if (!sm)
                return sb_seterr(SB_ERR_NOMEM, errstr, errstr_size, "out of memory");
        sm->set = set;
        sb_err_t err;
        if ((err = sb_metrics_register_counter(set, "sharebus_subscriber_batches_total",
                                               "Batches applied and committed in one transaction each", NULL,
                                               0, &sm->batches, errstr, errstr_size)) ||
            (err = sb_metrics_register_counter(
                     set, "sharebus_subscriber_batch_retries_total",
                     "Batches rolled back to be tried again (the database, the registry or Kafka failing)",
                     NULL, 0, &sm->retries, errstr, errstr_size)) ||
            (err = sb_metrics_register_counter(
                     set, "sharebus_subscriber_fetch_nudges_total",
                     "Wake-ups sent to the partition leaders' fetchers while catching up (fetch_nudge.h)",
                     NULL, 0, &sm->nudges, errstr, errstr_size)) ||
            (err = sb_metrics_register_histogram(set, "sharebus_subscriber_batch_records",
                                                 "Records per committed transaction", NULL, 0, record_bounds,
                                                 sizeof(record_bounds) / sizeof(*record_bounds),
                                                 &sm->batch_records, errstr, errstr_size)) ||
            (err = sb_metrics_register_histogram(
                     set, "sharebus_subscriber_apply_latency_seconds",
                     "From the first poll of a batch to its commit, retries included", NULL, 0,
                     latency_bounds, sizeof(latency_bounds) / sizeof(*latency_bounds), &sm->latency, errstr,
                     errstr_size)) ||
            (err = sb_metrics_register_histogram(
                     set, "sharebus_subscriber_event_latency_seconds",
                     "From a change's time at its source (envelope ts_ms) to the commit that applied it",
                     NULL, 0, event_bounds, sizeof(event_bounds) / sizeof(*event_bounds), &sm->event_latency,
                     errstr, errstr_size)))
                goto fail;
        /* The subscription's own names, as sb_subscriber_run splits them. */
        for (const char *p = topics; p && *p;) {
                size_t skip = strspn(p, ", "), len = strcspn(p + skip, ", ");
                topic_t *t;
                if (len && (err = add_topic(sm, p + skip, len, &t, errstr, errstr_size)))
                        goto fail;
                p += skip + len;
        }
        *out = sm;
        return SB_OK;
fail:
        sb_subscriber_metrics_destroy(sm);
        return err;
}

void sb_subscriber_metrics_destroy(sb_subscriber_metrics_t *sm) {
        if (!sm)
                return;
        while (sm->topics) {
                topic_t *n = sm->topics->next;
                topic_free(sm->topics);
                sm->topics = n;
        }
        free(sm->batch_ts);
        free(sm);
}

static topic_t *find(const sb_subscriber_metrics_t *sm, const char *topic) {
        for (topic_t *t = sm->topics; t; t = t->next)
                if (strcmp(t->name, topic) == 0)
                        return t;
        return NULL;
}

/* The topic's tallies, registering it if it is new; NULL without memory.
 * Series the set refuses go uncounted: metrics never stop the subscriber. */
static topic_t *topic_of(sb_subscriber_metrics_t *sm, const char *topic) {
        topic_t *t = find(sm, topic);
        char why[256];
        if (!t)
                add_topic(sm, topic, strlen(topic), &t, why, sizeof(why));
        return t;
}

void sb_subscriber_metrics_consumed(sb_subscriber_metrics_t *sm, const char *topic) {
        topic_t *t = sm ? topic_of(sm, topic) : NULL;
        if (t)
                t->total[CONSUMED]++;
}

void sb_subscriber_metrics_begin(sb_subscriber_metrics_t *sm) {
        if (sm)
                sm->n_batch_ts = 0;
        for (topic_t *t = sm ? sm->topics : NULL; t; t = t->next) {
                memset(t->batch, 0, sizeof(t->batch));
                t->batch_ts_ms = -1;
        }
}

void sb_subscriber_metrics_applied(sb_subscriber_metrics_t *sm, const char *topic, char op, int64_t ts_ms) {
        topic_t *t = sm ? topic_of(sm, topic) : NULL;
        if (!t)
                return;
        t->batch[op == 'c' ? OP_C : op == 'u' ? OP_U : op == 'r' ? OP_R : OP_D]++;
        if (ts_ms > t->batch_ts_ms)
                t->batch_ts_ms = ts_ms;
        if (sm->n_batch_ts == sm->cap_batch_ts) {
                size_t cap = sm->cap_batch_ts ? sm->cap_batch_ts * 2 : 512;
                int64_t *grown = realloc(sm->batch_ts, cap * sizeof(*grown));
                if (!grown)
                        return; /* that change's latency goes unobserved */
                sm->batch_ts = grown;
                sm->cap_batch_ts = cap;
        }
        sm->batch_ts[sm->n_batch_ts++] = ts_ms;
}

void sb_subscriber_metrics_tombstone(sb_subscriber_metrics_t *sm, const char *topic) {
        topic_t *t = sm ? topic_of(sm, topic) : NULL;
        if (t)
                t->batch[TOMBSTONE]++;
}

void sb_subscriber_metrics_filtered(sb_subscriber_metrics_t *sm, const char *topic) {
        topic_t *t = sm ? topic_of(sm, topic) : NULL;
        if (t)
                t->batch[FILTERED]++;
}

void sb_subscriber_metrics_dead_letter(sb_subscriber_metrics_t *sm, const char *topic) {
        topic_t *t = sm ? topic_of(sm, topic) : NULL;
        if (t)
                t->batch[DEAD_LETTER]++;
}

void sb_subscriber_metrics_committed(sb_subscriber_metrics_t *sm, size_t records, double seconds) {
        if (!sm)
                return;
        for (topic_t *t = sm->topics; t; t = t->next) {
                for (int k = OP_C; k < N_KINDS; k++)
                        t->total[k] += t->batch[k];
                /* The newest event time, not the last in offset order: with
                 * several partitions a batch may end on an older change of a
                 * slower one, and the age would jump back and forth. */
                if (t->batch_ts_ms > t->last_ts_ms)
                        __atomic_store_n(&t->last_ts_ms, t->batch_ts_ms, __ATOMIC_RELEASE);
                memset(t->batch, 0, sizeof(t->batch));
                t->batch_ts_ms = -1;
        }
        sb_metrics_counter_inc(sm->batches);
        sb_metrics_histogram_observe(sm->batch_records, (double)records);
        sb_metrics_histogram_observe(sm->latency, seconds);
        /* A clock behind the source's gives a negative latency: counted in
         * the first bucket, with the true (negative) sum. */
        int64_t now = sb_clock_now_ms();
        for (size_t i = 0; i < sm->n_batch_ts; i++)
                sb_metrics_histogram_observe(sm->event_latency, (double)(now - sm->batch_ts[i]) / 1000.0);
        sm->n_batch_ts = 0;
}

void sb_subscriber_metrics_retry(sb_subscriber_metrics_t *sm) {
        if (sm)
                sb_metrics_counter_inc(sm->retries);
}

void sb_subscriber_metrics_nudged(sb_subscriber_metrics_t *sm) {
        if (sm)
                sb_metrics_counter_inc(sm->nudges);
}

void sb_subscriber_metrics_sync(sb_subscriber_metrics_t *sm) {
        for (topic_t *t = sm ? sm->topics : NULL; t; t = t->next)
                for (int k = 0; k < N_KINDS; k++)
                        if (t->total[k] != t->counted[k]) {
                                sb_metrics_counter_add(t->counter[k], t->total[k] - t->counted[k]);
                                t->counted[k] = t->total[k];
                        }
}

double sb_subscriber_metrics_age(const sb_subscriber_metrics_t *sm, const char *topic, int64_t now_ms) {
        const topic_t *t = sm ? find(sm, topic) : NULL;
        return t ? age_at(t, now_ms) : NAN;
}

#include "producer.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "encode_stage.h"
#include "progress.h"
#include "rejects.h"
#include "sb_clock.h"
#include "sb_kafka.h"

#define WINDOW SB_PRODUCER_WINDOW
/* The outbox gauges (backlog, oldest unsent row) are read from the source
 * at most this often: counting the unsent rows of a large outbox costs
 * more than publishing a thousand of them, and a scrape every 15 s needs
 * no fresher figure. */
#define STATS_EVERY_MS 1000

static const char *const kafka_defaults[] = {
        "enable.idempotence", "true", "acks", "all",
        /* Java clients' partitioner, so a key lands where theirs would. */
        "partitioner", "murmur2_random", "linger.ms", "5",
        /* librdkafka's queue is bounded by our window anyway; this keeps
         * its memory (and ours) to a few MiB. */
        "queue.buffering.max.messages", "50000", "queue.buffering.max.kbytes", "8192", NULL};

typedef struct {
        uint64_t ordinal;  /* which record the slot holds now */
        uint64_t position; /* its source position (0: nothing to acknowledge) */
        int64_t queued_ms; /* monotonic time it was produced, for the latency histogram */
        int pending;       /* messages not yet reported */
        int failed;
} slot_t;

struct sb_producer_s {
        sb_producer_conf_t conf;
        const sb_config_t *cfg;
        source_options_t src_opts;
        const sb_event_encoder_t *enc;
        sb_log_t *log;
        sb_kafka_opaque_t opaque;
        const volatile sig_atomic_t *stop; /* the run's, while it runs */
        rd_kafka_t *rk;
        source_t *src;
        encode_stage_t *stage;
        slot_t *window;
        uint64_t head, tail; /* ordinals: [head, tail) are in flight */
        uint64_t ack_pending, acked;
        int64_t last_ack_ms;
        int64_t last_stats_ms;  /* monotonic time of the last source_stats for the gauges */
        int must_rewind;        /* a delivery failed, or the producer hit a fatal error */
        int fatal;              /* the Kafka producer must be made again */
        volatile int unhealthy; /* read by /healthz from the server's thread */
        char unhealthy_why[256];
        sb_buf_t value; /* a reject's */
        size_t department_len;
        sb_producer_stats_t stats;
        sb_producer_stats_t counted; /* what the metrics' counters hold of stats */
        int64_t now_ms;              /* monotonic, read once per batch and per poll */
        struct {
                sb_metrics_counter_t *read, *published, *rejected, *delivered, *failed, *rewinds;
                sb_metrics_histogram_t *latency;
                sb_metrics_gauge_t *backlog, *oldest_age;
        } m;
};

static void set_unhealthy(sb_producer_t *p, const char *why) {
        snprintf(p->unhealthy_why, sizeof(p->unhealthy_why), "%.200s", why);
        __atomic_store_n(&p->unhealthy, 1, __ATOMIC_RELEASE);
}

/* Kafka's answer when the principal lacks the ACL for what it asked. */
static int is_denied(rd_kafka_resp_err_t err) {
        return err == RD_KAFKA_RESP_ERR_TOPIC_AUTHORIZATION_FAILED ||
               err == RD_KAFKA_RESP_ERR_CLUSTER_AUTHORIZATION_FAILED;
}

/* What a refusal of the broker's ACLs says, into out[size]: `what` is
 * "topic X" or "the cluster". */
static void denied_text(const sb_producer_t *p, const char *what, rd_kafka_resp_err_t err, char *out,
                        size_t size) {
        snprintf(out, size,
                 "%.300s: not authorized (%s): the principal this producer logs in as may not write it; "
                 "department %.64s writes only %.64s.* and rejects.%.64s (the principals of "
                 "broker-config/topics.conf, applied by sharebus-topics)",
                 what, rd_kafka_err2name(err), p->conf.department, p->conf.department, p->conf.department);
}

static void on_delivery(rd_kafka_t *rk, const rd_kafka_message_t *msg, void *opaque) {
        sb_producer_t *p = ((sb_kafka_opaque_t *)opaque)->app;
        uint64_t ordinal = (uint64_t)(uintptr_t)msg->_private;
        slot_t *s = &p->window[ordinal & (WINDOW - 1)];
        (void)rk;
        if (s->ordinal != ordinal || ordinal < p->head || ordinal >= p->tail)
                return; /* from before a rewind */
        if (msg->err) {
                p->stats.failed++;
                if (!s->failed && !p->must_rewind && is_denied(msg->err)) {
                        /* Resent like any failure (the ACLs may be mended meanwhile), said plainly. */
                        char what[300], text[768];
                        snprintf(what, sizeof(what), "topic %s", rd_kafka_topic_name(msg->rkt));
                        denied_text(p, what, msg->err, text, sizeof(text));
                        SB_LOG(p->log, SB_LOG_ERROR, "delivery failed: %s", text);
                        set_unhealthy(p, text);
                } else if (!s->failed && !p->must_rewind) {
                        SB_LOG(p->log, SB_LOG_ERROR, "delivery to %s failed: %s",
                               rd_kafka_topic_name(msg->rkt), rd_kafka_err2str(msg->err));
                }
                s->failed = 1;
                p->must_rewind = 1;
                return;
        }
        p->stats.delivered++;
        /* The clock as of the poll serving this report: one reading per
         * poll, not one per message. */
        if (--s->pending == 0 && p->m.latency)
                sb_metrics_histogram_observe(
                        p->m.latency,
                        (double)(p->now_ms > s->queued_ms ? p->now_ms - s->queued_ms : 0) / 1000.0);
}

static void on_error(rd_kafka_t *rk, int err, const char *reason, void *opaque) {
        sb_producer_t *p = ((sb_kafka_opaque_t *)opaque)->app;
        char fatal[512];
        rd_kafka_resp_err_t code = err == RD_KAFKA_RESP_ERR__FATAL
                                           ? rd_kafka_fatal_error(rk, fatal, sizeof(fatal))
                                           : RD_KAFKA_RESP_ERR_NO_ERROR;
        if (code) {
                char text[768];
                if (is_denied(code)) /* the idempotent producer's InitProducerId: no IDEMPOTENT_WRITE */
                        denied_text(p, "the cluster (IDEMPOTENT_WRITE)", code, text, sizeof(text));
                else
                        snprintf(text, sizeof(text), "%s", fatal);
                SB_LOG(p->log, SB_LOG_ERROR, "Kafka producer: fatal error: %s: making it again", text);
                p->fatal = p->must_rewind = 1;
        } else {
                SB_LOG(p->log, SB_LOG_WARN, "Kafka: %s", reason);
        }
}

static sb_err_t kafka_new(sb_producer_t *p, char *errstr, size_t errstr_size) {
        rd_kafka_conf_t *conf = NULL;
        sb_err_t err = sb_kafka_conf_new(p->cfg, kafka_defaults, &p->opaque, &conf, errstr, errstr_size);
        if (err)
                return err;
        rd_kafka_conf_set_dr_msg_cb(conf, on_delivery);
        rd_kafka_conf_set_error_cb(conf, on_error);
        char kerr[512];
        if (!(p->rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, kerr, sizeof(kerr)))) {
                rd_kafka_conf_destroy(conf);
                return sb_seterr(SB_ERR_KAFKA, errstr, errstr_size, "cannot create the Kafka producer: %s",
                                 kerr);
        }
        return SB_OK;
}

/* SB_OK if `topic` exists on the cluster.  A topic created a moment ago
 * may not be known to every broker yet: asked again for a few seconds. */
static sb_err_t topic_exists(const sb_producer_t *p, const char *topic, char *errstr, size_t errstr_size) {
        rd_kafka_resp_err_t err = RD_KAFKA_RESP_ERR_NO_ERROR;
        for (int attempt = 0; attempt < 10; attempt++) {
                if (attempt)
                        sb_clock_sleep_ms(500);
                int partitions;
                err = sb_kafka_topic_partitions(p->rk, topic, 15000, &partitions);
                if (err != RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART &&
                    err != RD_KAFKA_RESP_ERR_LEADER_NOT_AVAILABLE)
                        break;
        }
        if (err == RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART)
                return sb_seterr(
                        SB_ERR_KAFKA, errstr, errstr_size,
                        "topic %s does not exist: create it first (declare it in broker-config/topics.conf, "
                        "then sharebus-topics apply)",
                        topic);
        if (is_denied(err)) {
                char what[300];
                snprintf(what, sizeof(what), "topic %s", topic);
                denied_text(p, what, err, errstr, errstr_size);
                return SB_ERR_KAFKA;
        }
        if (err)
                return sb_seterr(SB_ERR_KAFKA, errstr, errstr_size, "cannot read the metadata of %s: %s",
                                 topic, rd_kafka_err2str(err));
        return SB_OK;
}

static sb_err_t register_metrics(sb_producer_t *p, sb_metrics_t *m, char *errstr, size_t errstr_size) {
        static const double latency_bounds[] = {0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1,
                                                0.25,  0.5,    1,     2.5,  5,     10};
        sb_metrics_label_t label = {"dataset", p->conf.topic};
        sb_err_t err;
        if ((err = sb_metrics_register_counter(m, "sharebus_producer_records_read_total",
                                               "Records handed over by the source", &label, 1, &p->m.read,
                                               errstr, errstr_size)) ||
            (err = sb_metrics_register_counter(m, "sharebus_producer_events_published_total",
                                               "Change events produced to the dataset topic", &label, 1,
                                               &p->m.published, errstr, errstr_size)) ||
            (err = sb_metrics_register_counter(m, "sharebus_producer_records_rejected_total",
                                               "Records kept in the rejects topic instead", &label, 1,
                                               &p->m.rejected, errstr, errstr_size)) ||
            (err = sb_metrics_register_counter(m, "sharebus_producer_messages_delivered_total",
                                               "Messages whose delivery Kafka acknowledged", &label, 1,
                                               &p->m.delivered, errstr, errstr_size)) ||
            (err = sb_metrics_register_counter(m, "sharebus_producer_delivery_failures_total",
                                               "Messages whose delivery failed (then resent)", &label, 1,
                                               &p->m.failed, errstr, errstr_size)) ||
            (err = sb_metrics_register_counter(m, "sharebus_producer_rewinds_total",
                                               "Times the Kafka producer and the source were made again",
                                               &label, 1, &p->m.rewinds, errstr, errstr_size)) ||
            (err = sb_metrics_register_histogram(
                     m, "sharebus_producer_delivery_latency_seconds", "From produce to acknowledged delivery",
                     &label, 1, latency_bounds, sizeof(latency_bounds) / sizeof(*latency_bounds),
                     &p->m.latency, errstr, errstr_size)) ||
            (err = sb_metrics_register_gauge(
                     m, "sharebus_producer_source_backlog",
                     "Records of the source not yet acknowledged (outbox: unsent rows)", &label, 1,
                     &p->m.backlog, errstr, errstr_size)) ||
            (err = sb_metrics_register_gauge(m, "sharebus_producer_source_oldest_age_seconds",
                                             "Age of the oldest unacknowledged record of the source", &label,
                                             1, &p->m.oldest_age, errstr, errstr_size)))
                return err;
        return SB_OK;
}

sb_err_t sb_producer_new(const sb_producer_conf_t *conf, const sb_config_t *cfg,
                         const source_options_t *src_opts, const sb_event_encoder_t *enc,
                         sb_metrics_t *metrics, sb_log_t *log, sb_producer_t **out, char *errstr,
                         size_t errstr_size) {
        sb_producer_t *p = calloc(1, sizeof(*p));
        if (!p || !(p->window = calloc(WINDOW, sizeof(*p->window)))) {
                free(p);
                return sb_seterr(SB_ERR_NOMEM, errstr, errstr_size, "out of memory");
        }
        p->conf = *conf;
        p->department_len = strlen(conf->department);
        p->cfg = cfg;
        p->src_opts = *src_opts;
        p->enc = enc;
        p->log = log;
        p->opaque = (sb_kafka_opaque_t){.log = log, .app = p};
        sb_buf_init(&p->value, 64 * 1024 * 1024);
        sb_err_t err = SB_OK;
        if ((metrics && (err = register_metrics(p, metrics, errstr, errstr_size))) ||
            (err = encode_stage_new(enc, (size_t)conf->batch_max, &p->stage, errstr, errstr_size)) ||
            (err = source_new(cfg, &p->src_opts, log, &p->src, errstr, errstr_size)) ||
            (err = kafka_new(p, errstr, errstr_size)) ||
            (err = topic_exists(p, conf->topic, errstr, errstr_size)) ||
            (err = topic_exists(p, conf->rejects_topic, errstr, errstr_size))) {
                sb_producer_destroy(p);
                return err;
        }
        p->last_ack_ms = sb_clock_mono_ms();
        *out = p;
        return SB_OK;
}

void sb_producer_destroy(sb_producer_t *p) {
        if (!p)
                return;
        if (p->rk)
                rd_kafka_destroy(p->rk);
        source_destroy(p->src);
        encode_stage_destroy(p->stage);
        sb_buf_free(&p->value);
        free(p->window);
        free(p);
}

const sb_producer_stats_t *sb_producer_stats(const sb_producer_t *p) { return &p->stats; }

rd_kafka_t *sb_producer_kafka(sb_producer_t *p) { return p->rk; }

int sb_producer_healthy(void *opaque, char *reason, size_t reason_size) {
        sb_producer_t *p = opaque;
        if (!__atomic_load_n(&p->unhealthy, __ATOMIC_ACQUIRE))
                return 1;
        snprintf(reason, reason_size, "%s", p->unhealthy_why);
        return 0;
}

/* Moves the head past delivered records and acknowledges their positions
 * to the source, at most every ack_interval_ms unless `force`. */
/* Brings the metrics' counters up to the stats (once per loop, not per
 * record: the counters are atomics another thread reads). */
static void count(sb_producer_t *p) {
        const sb_producer_stats_t *st = &p->stats;
        sb_producer_stats_t *c = &p->counted;
        sb_metrics_counter_add(p->m.read, st->read - c->read);
        sb_metrics_counter_add(p->m.published, st->published - c->published);
        sb_metrics_counter_add(p->m.rejected, st->rejected - c->rejected);
        sb_metrics_counter_add(p->m.delivered, st->delivered - c->delivered);
        sb_metrics_counter_add(p->m.failed, st->failed - c->failed);
        sb_metrics_counter_add(p->m.rewinds, st->rewinds - c->rewinds);
        *c = *st;
}

static sb_err_t advance(sb_producer_t *p, int force, char *errstr, size_t errstr_size) {
        count(p);
        while (p->head < p->tail) {
                const slot_t *s = &p->window[p->head & (WINDOW - 1)];
                if (s->pending || s->failed)
                        break;
                if (s->position)
                        p->ack_pending = s->position;
                p->head++;
        }
        int64_t now = sb_clock_mono_ms();
        /* Everything handed over is delivered: acknowledge now, not at the
         * next interval (an idle producer's outbox shows its rows sent). */
        if (p->head == p->tail)
                force = 1;
        if (p->ack_pending <= p->acked || (!force && now - p->last_ack_ms < p->conf.ack_interval_ms))
                return SB_OK;
        sb_err_t err = source_ack(p->src, p->ack_pending, errstr, errstr_size);
        if (err)
                return err;
        p->acked = p->ack_pending;
        p->last_ack_ms = now;
        return SB_OK;
}

/* Sets the outbox gauges from the source, at most every STATS_EVERY_MS
 * unless `force`. */
static void refresh_gauges(sb_producer_t *p, int force) {
        int64_t now = sb_clock_mono_ms();
        if (!(p->m.backlog || p->m.oldest_age) || (!force && now - p->last_stats_ms < STATS_EVERY_MS))
                return;
        p->last_stats_ms = now;
        source_stats_t st;
        source_stats(p->src, &st);
        if (p->m.backlog && st.backlog >= 0)
                sb_metrics_gauge_set(p->m.backlog, (double)st.backlog);
        if (p->m.oldest_age && st.oldest_age_ms >= 0)
                sb_metrics_gauge_set(p->m.oldest_age, (double)st.oldest_age_ms / 1000.0);
}

/* Produces one message for slot s; a NULL value is a tombstone. */
static rd_kafka_resp_err_t produce(sb_producer_t *p, const char *topic, const void *key, size_t key_len,
                                   const void *value, size_t value_len, rd_kafka_headers_t *hdrs, slot_t *s) {
        rd_kafka_resp_err_t err = sb_kafka_produce(p->rk, topic, key, key_len, value, value_len, hdrs,
                                                   (void *)(uintptr_t)s->ordinal, p->stop);
        if (err)
                rd_kafka_headers_destroy(hdrs);
        else
                s->pending++;
        return err;
}

static rd_kafka_headers_t *event_headers(const sb_producer_t *p, const char *event_id) {
        rd_kafka_headers_t *h = rd_kafka_headers_new(2);
        if (h) {
                static const char department[] = "sharebus.department", id[] = "sharebus.event_id";
                /* Lengths given: librdkafka would strlen all four, for every message. */
                rd_kafka_header_add(h, department, sizeof(department) - 1, p->conf.department,
                                    (ssize_t)p->department_len);
                rd_kafka_header_add(h, id, sizeof(id) - 1, event_id, 36);
        }
        return h;
}

/* Keeps record e of batch b in the rejects topic, for `reason`. */
static rd_kafka_resp_err_t reject(sb_producer_t *p, const encoded_batch_t *b, const encoded_record_t *e,
                                  const char *reason, slot_t *s) {
        const char *where = encoded_str(b, e->where_off);
        rejects_record_t rr = {p->conf.topic, p->conf.department, where, e->position, reason};
        rd_kafka_headers_t *hdrs = NULL;
        char errstr[256];
        SB_LOG(p->log, SB_LOG_WARN, "%s: not published: %s (kept in %s)", where, reason,
               p->conf.rejects_topic);
        if (rejects_build(&rr, encoded_str(b, e->text_off), e->text_len,
                          sb_schema_root(sb_dataset_key_schema(p->enc->dataset)),
                          sb_dataset_row(p->enc->dataset), &hdrs, &p->value, errstr, sizeof(errstr)))
                return RD_KAFKA_RESP_ERR__FAIL; /* out of memory */
        rd_kafka_resp_err_t err =
                produce(p, p->conf.rejects_topic, p->conf.topic, strlen(p->conf.topic),
                        p->value.len ? (const void *)p->value.data : "", p->value.len, hdrs, s);
        if (!err) {
                p->stats.rejected++;
        }
        return err;
}

/* Produces encoded record e of batch b (or its reject) into a new slot. */
static void publish(sb_producer_t *p, const encoded_batch_t *b, const encoded_record_t *e) {
        slot_t *s = &p->window[p->tail & (WINDOW - 1)];
        *s = (slot_t){.ordinal = p->tail, .position = e->position, .queued_ms = p->now_ms};
        p->tail++;
        p->stats.read++;
        rd_kafka_resp_err_t err = RD_KAFKA_RESP_ERR_NO_ERROR;
        char too_large[128];
        if (e->nomem) {
                SB_LOG(p->log, SB_LOG_ERROR, "out of memory encoding a record at position %llu",
                       (unsigned long long)e->position);
                s->failed = 1;
                p->must_rewind = 1;
                return;
        }
        const char *reason = e->bad ? encoded_str(b, e->reason_off) : NULL;
        if (!reason) {
                const void *key = b->bytes.data + e->key_off;
                err = produce(p, p->conf.topic, key, e->key_len, b->bytes.data + e->value_off, e->value_len,
                              event_headers(p, e->event_id), s);
                if (err == RD_KAFKA_RESP_ERR_MSG_SIZE_TOO_LARGE) {
                        snprintf(too_large, sizeof(too_large),
                                 "the event is %zu bytes, more than the producer's message.max.bytes",
                                 e->value_len);
                        reason = too_large;
                } else if (!err) {
                        p->stats.published++;
                        if (e->op == 'd' && !(err = produce(p, p->conf.topic, key, e->key_len, NULL, 0,
                                                            event_headers(p, e->event_id), s)))
                                p->stats.tombstones++;
                }
        }
        if (reason)
                err = reject(p, b, e, reason, s);
        if (err) {
                SB_LOG(p->log, SB_LOG_ERROR, "%s: cannot produce: %s", encoded_str(b, e->where_off),
                       rd_kafka_err2str(err));
                s->failed = 1;
                p->must_rewind = 1;
        }
}

/* Makes the Kafka producer and the source again after a failure; the
 * source resumes after its last acknowledged position. */
static sb_err_t rewind_all(sb_producer_t *p, int *backoff_ms, char *errstr, size_t errstr_size) {
        if (!source_reopenable(p->src))
                return sb_seterr(
                        SB_ERR_KAFKA, errstr, errstr_size,
                        "a delivery failed and %s cannot be read again: stopped after %llu acknowledged "
                        "records",
                        source_name(p->src), (unsigned long long)p->stats.delivered);
        set_unhealthy(p, "a delivery failed: resending from the last acknowledged position");
        SB_LOG(p->log, SB_LOG_WARN, "resending from the last acknowledged position of the %s source",
               source_name(p->src));
        /* What is still queued goes (it will be read again); reports of
         * what is in flight are awaited, so none arrives after the reset. */
        rd_kafka_purge(p->rk, RD_KAFKA_PURGE_F_QUEUE);
        p->now_ms = sb_clock_mono_ms();
        rd_kafka_flush(p->rk, p->conf.flush_timeout_ms);
        /* Acknowledge what was delivered before the failure. */
        advance(p, 1, errstr, errstr_size);
        rd_kafka_destroy(p->rk);
        p->rk = NULL;
        source_destroy(p->src);
        p->src = NULL;
        p->head = p->tail;
        p->must_rewind = p->fatal = 0;
        p->stats.rewinds++;
        sb_clock_sleep_ms(*backoff_ms);
        *backoff_ms = *backoff_ms * 2 > p->conf.retry_backoff_max_ms ? p->conf.retry_backoff_max_ms
                                                                     : *backoff_ms * 2;
        sb_err_t err;
        if ((err = kafka_new(p, errstr, errstr_size)) ||
            (err = source_new(p->cfg, &p->src_opts, p->log, &p->src, errstr, errstr_size)))
                return err;
        p->acked = p->ack_pending = 0; /* positions start again with the new source */
        return SB_OK;
}

/* Redraws the progress bar (a terminal only) at most every 100 ms. */
static void show_progress(sb_producer_t *p, progress_t *bar, int64_t *last_ms, int final) {
        int64_t now = sb_clock_mono_ms();
        if (!bar || (!final && now - *last_ms < 100))
                return;
        *last_ms = now;
        source_stats_t st;
        source_stats(p->src, &st);
        if (final)
                progress_finish(bar, &st, p->stats.published, p->stats.rejected, now);
        else
                progress_update(bar, &st, p->stats.published, p->stats.rejected, now);
}

sb_err_t sb_producer_run(sb_producer_t *p, volatile sig_atomic_t *stop, char *errstr, size_t errstr_size) {
        int finished = 0, backoff_ms = 100, source_backoff_ms = 100;
        sb_err_t err = SB_OK;
        char why[1024];
        progress_t *bar = NULL;
        int64_t drawn_ms = 0;
        p->stop = stop;
        /* Off a terminal the closing log line is the summary. */
        if (progress_is_terminal(stderr) &&
            progress_new(stderr, 1, sb_clock_mono_ms(), &bar, why, sizeof(why)))
                bar = NULL;
        /* Each turn: the source's next batch is read while the stage's thread
         * encodes the one before, which is then produced while the stage
         * encodes the new one. */
        while (!*stop && !(finished && p->head == p->tail && !encode_stage_busy(p->stage))) {
                if (p->must_rewind) {
                        encode_stage_wait(p->stage); /* dropped: read again after the rewind */
                        if ((err = rewind_all(p, &backoff_ms, errstr, errstr_size))) {
                                progress_destroy(bar);
                                return err;
                        }
                        finished = 0;
                        continue;
                }
                /* Room in the window for what is in flight, what is being
                 * encoded and a new batch. */
                size_t encoding = encode_stage_busy(p->stage);
                int reading =
                        !finished && p->tail - p->head + encoding + (uint64_t)p->conf.batch_max <= WINDOW;
                source_batch_t batch = {NULL, 0};
                if (reading) {
                        err = source_next(p->src, (size_t)p->conf.batch_max,
                                          p->head == p->tail && !encoding ? p->conf.idle_wait_ms : 0, &batch,
                                          why, sizeof(why));
                        if (err == SB_ERR_NOT_FOUND) {
                                finished = 1;
                        } else if (err) {
                                SB_LOG(p->log, SB_LOG_ERROR, "reading the %s source: %s (retrying)",
                                       source_name(p->src), why);
                                set_unhealthy(p, why);
                                sb_clock_sleep_ms(source_backoff_ms);
                                source_backoff_ms = source_backoff_ms * 2 > p->conf.retry_backoff_max_ms
                                                            ? p->conf.retry_backoff_max_ms
                                                            : source_backoff_ms * 2;
                        } else {
                                source_backoff_ms = 100;
                        }
                        if (err)
                                batch.count = 0;
                }
                const encoded_batch_t *ready = encode_stage_wait(p->stage);
                if (batch.count && encode_stage_start(p->stage, &batch) != SB_OK) {
                        SB_LOG(p->log, SB_LOG_ERROR, "out of memory for a batch of %zu records", batch.count);
                        p->must_rewind = 1;
                }
                p->now_ms = sb_clock_mono_ms();
                for (size_t i = 0; ready && i < ready->count && !p->must_rewind; i++)
                        publish(p, ready, &ready->records[i]);
                /* Waits when the window is full or the source is done (up to
                 * 50 ms), or when the source had nothing new and nothing was
                 * produced (5 ms: a source is not asked in a busy loop while
                 * deliveries are awaited); a delivery report ends the wait. */
                int idle = reading && !batch.count && !ready; /* (then the stage is idle too) */
                rd_kafka_poll(p->rk, !reading ? 50 : idle ? 5 : 0);
                if (advance(p, 0, why, sizeof(why)) != SB_OK) {
                        SB_LOG(p->log, SB_LOG_ERROR, "acknowledging to the %s source: %s",
                               source_name(p->src), why);
                        set_unhealthy(p, why);
                }
                refresh_gauges(p, 0);
                if (!p->must_rewind && p->head == p->tail) {
                        backoff_ms = 100;
                        __atomic_store_n(&p->unhealthy, 0, __ATOMIC_RELEASE);
                }
                show_progress(p, bar, &drawn_ms, 0);
        }
        /* Finished or stopped: wait for what is in flight, acknowledge it. */
        int64_t deadline = sb_clock_mono_ms() + p->conf.flush_timeout_ms;
        /* (Up to the first record that failed: nothing after it can be
         * acknowledged in this run.) */
        while (p->head < p->tail && !p->window[p->head & (WINDOW - 1)].failed &&
               sb_clock_mono_ms() < deadline) {
                p->now_ms = sb_clock_mono_ms();
                rd_kafka_poll(p->rk, 100);
                advance(p, 0, why, sizeof(why));
        }
        err = advance(p, 1, why, sizeof(why));
        refresh_gauges(p, 1);
        show_progress(p, bar, &drawn_ms, 1);
        progress_destroy(bar);
        if (err)
                return sb_seterr(err, errstr, errstr_size, "acknowledging to the %s source: %s",
                                 source_name(p->src), why);
        if (p->head < p->tail)
                return sb_seterr(
                        SB_ERR_KAFKA, errstr, errstr_size,
                        "%llu records not delivered (after flush_timeout_ms or a failed delivery); they "
                        "are sent again at the next start",
                        (unsigned long long)(p->tail - p->head));
        return SB_OK;
}

#include "regd_cmdlog.h"

#include <librdkafka/rdkafka.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "sb_envelope.h"
#include "sb_kafka.h"

#define SUBMIT_TIMEOUT_MS 30000

/* A submission waiting for its record to be applied. */
typedef struct waiter_s {
        char op_id[37];
        int done;
        sb_err_t err;
        char errstr[256];
        json_t *result;
        struct waiter_s *next;
} waiter_t;

struct regd_cmdlog_s {
        regd_store_t *store;
        sb_log_t *log;
        char *topic;
        rd_kafka_t *producer;
        rd_kafka_t *consumer;
        sb_kafka_opaque_t opaque;
        pthread_t reader;
        int reader_started;
        pthread_mutex_t lock;
        pthread_cond_t changed;
        waiter_t *waiters;
        int64_t applied; /* offset of the last applied record */
        volatile int stop;
};

static void deadline_in(struct timespec *ts, int ms) {
        clock_gettime(CLOCK_REALTIME, ts);
        ts->tv_sec += ms / 1000;
        ts->tv_nsec += (long)(ms % 1000) * 1000000L;
        if (ts->tv_nsec >= 1000000000L) {
                ts->tv_sec++;
                ts->tv_nsec -= 1000000000L;
        }
}

/* Applies one record and wakes the submitter waiting for it, if any. */
static void apply_record(regd_cmdlog_t *rl, const rd_kafka_message_t *m) {
        json_t *cmd = m->payload ? json_loadb(m->payload, m->len, 0, NULL) : NULL;
        json_t *result = NULL;
        if (!json_is_object(cmd)) {
                /* Not ours (or a tombstone): skip it, on every instance alike. */
                SB_LOG(rl->log, SB_LOG_WARN, "%s offset %lld is not a registry command: skipped", rl->topic,
                       (long long)m->offset);
        } else if (regd_store_apply(rl->store, cmd, &result) != SB_OK) {
                SB_LOG(rl->log, SB_LOG_ERROR, "%s offset %lld could not be applied", rl->topic,
                       (long long)m->offset);
        }
        const char *op_id = json_string_value(json_object_get(cmd, "op_id"));
        pthread_mutex_lock(&rl->lock);
        rl->applied = m->offset;
        for (waiter_t *w = rl->waiters; op_id && w; w = w->next)
                if (!w->done && strcmp(w->op_id, op_id) == 0) {
                        w->result = result;
                        result = NULL;
                        w->err = w->result ? SB_OK : SB_ERR_INVALID;
                        if (!w->result)
                                snprintf(w->errstr, sizeof(w->errstr), "command could not be applied");
                        w->done = 1;
                }
        pthread_cond_broadcast(&rl->changed);
        pthread_mutex_unlock(&rl->lock);
        json_decref(result);
        json_decref(cmd);
}

static void *reader_main(void *arg) {
        regd_cmdlog_t *rl = arg;
        while (!rl->stop) {
                rd_kafka_message_t *m = rd_kafka_consumer_poll(rl->consumer, 100);
                if (!m)
                        continue;
                if (m->err) {
                        if (m->err != RD_KAFKA_RESP_ERR__PARTITION_EOF)
                                SB_LOG(rl->log, SB_LOG_WARN, "reading %s: %s", rl->topic,
                                       rd_kafka_message_errstr(m));
                } else {
                        apply_record(rl, m);
                }
                rd_kafka_message_destroy(m);
        }
        return NULL;
}

static void on_delivery(rd_kafka_t *rk, const rd_kafka_message_t *m, void *opaque) {
        regd_cmdlog_t *rl = ((sb_kafka_opaque_t *)opaque)->app;
        waiter_t *target = m->_private;
        (void)rk;
        if (!m->err)
                return; /* the reader completes the waiter when it applies the record */
        pthread_mutex_lock(&rl->lock);
        for (waiter_t *w = rl->waiters; w; w = w->next)
                if (w == target && !w->done) {
                        w->err = SB_ERR_KAFKA;
                        snprintf(w->errstr, sizeof(w->errstr), "appending to %s failed: %s", rl->topic,
                                 rd_kafka_err2str(m->err));
                        w->done = 1;
                }
        pthread_cond_broadcast(&rl->changed);
        pthread_mutex_unlock(&rl->lock);
}

static sb_err_t log_submit(void *opaque, const json_t *command, json_t **result, char *errstr,
                           size_t errstr_size) {
        regd_cmdlog_t *rl = opaque;
        waiter_t w;
        memset(&w, 0, sizeof(w));
        *result = NULL;
        if (sb_uuid4(w.op_id))
                return sb_seterr(SB_ERR_IO, errstr, errstr_size, "no randomness for an op id");
        json_t *rec = json_deep_copy(command);
        char *text = NULL;
        if (!rec || json_object_set_new(rec, "op_id", json_string(w.op_id)) ||
            !(text = json_dumps(rec, JSON_COMPACT | JSON_SORT_KEYS))) {
                json_decref(rec);
                return sb_seterr(SB_ERR_NOMEM, errstr, errstr_size, "out of memory");
        }
        json_decref(rec);

        pthread_mutex_lock(&rl->lock);
        w.next = rl->waiters;
        rl->waiters = &w;
        pthread_mutex_unlock(&rl->lock);

        rd_kafka_resp_err_t kerr;
        while ((kerr = rd_kafka_producev(rl->producer, RD_KAFKA_V_TOPIC(rl->topic), RD_KAFKA_V_PARTITION(0),
                                         RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
                                         RD_KAFKA_V_KEY(w.op_id, strlen(w.op_id)),
                                         RD_KAFKA_V_VALUE(text, strlen(text)), RD_KAFKA_V_OPAQUE(&w),
                                         RD_KAFKA_V_END)) == RD_KAFKA_RESP_ERR__QUEUE_FULL)
                rd_kafka_poll(rl->producer, 10);
        free(text);
        struct timespec deadline;
        deadline_in(&deadline, SUBMIT_TIMEOUT_MS);
        pthread_mutex_lock(&rl->lock);
        if (kerr) {
                w.err = SB_ERR_KAFKA;
                snprintf(w.errstr, sizeof(w.errstr), "appending to %s failed: %s", rl->topic,
                         rd_kafka_err2str(kerr));
                w.done = 1;
        }
        while (!w.done) {
                /* Delivery reports are served here, by whichever submitter waits. */
                pthread_mutex_unlock(&rl->lock);
                rd_kafka_poll(rl->producer, 10);
                pthread_mutex_lock(&rl->lock);
                struct timespec now;
                clock_gettime(CLOCK_REALTIME, &now);
                if (!w.done && (now.tv_sec > deadline.tv_sec ||
                                (now.tv_sec == deadline.tv_sec && now.tv_nsec >= deadline.tv_nsec))) {
                        w.err = SB_ERR_KAFKA;
                        snprintf(w.errstr, sizeof(w.errstr), "timed out waiting for %s to apply the change",
                                 rl->topic);
                        break;
                }
                if (!w.done) {
                        struct timespec soon;
                        deadline_in(&soon, 10);
                        pthread_cond_timedwait(&rl->changed, &rl->lock, &soon);
                }
        }
        for (waiter_t **pp = &rl->waiters; *pp; pp = &(*pp)->next)
                if (*pp == &w) {
                        *pp = w.next;
                        break;
                }
        pthread_mutex_unlock(&rl->lock);
        if (w.err) {
                json_decref(w.result);
                return sb_seterr(w.err, errstr, errstr_size, "%s", w.errstr);
        }
        *result = w.result;
        return SB_OK;
}

regd_submitter_t regd_cmdlog_submitter(regd_cmdlog_t *rl) {
        regd_submitter_t s = {log_submit, rl};
        return s;
}

int64_t regd_cmdlog_applied_offset(regd_cmdlog_t *rl) {
        pthread_mutex_lock(&rl->lock);
        int64_t v = rl->applied;
        pthread_mutex_unlock(&rl->lock);
        return v;
}

/* Creates the topic unless it exists. */
static sb_err_t ensure_topic(regd_cmdlog_t *rl, int replication_factor, int timeout_ms, char *errstr,
                             size_t errstr_size) {
        char err[256];
        rd_kafka_NewTopic_t *nt = rd_kafka_NewTopic_new(rl->topic, 1, replication_factor, err, sizeof(err));
        if (!nt)
                return sb_seterr(SB_ERR_CONFIG, errstr, errstr_size, "topic %s: %s", rl->topic, err);
        rd_kafka_NewTopic_set_config(nt, "cleanup.policy", "compact");
        rd_kafka_queue_t *q = rd_kafka_queue_new(rl->producer);
        rd_kafka_AdminOptions_t *opts =
                rd_kafka_AdminOptions_new(rl->producer, RD_KAFKA_ADMIN_OP_CREATETOPICS);
        rd_kafka_AdminOptions_set_operation_timeout(opts, timeout_ms, NULL, 0);
        rd_kafka_AdminOptions_set_request_timeout(opts, timeout_ms, NULL, 0);
        rd_kafka_CreateTopics(rl->producer, &nt, 1, opts, q);
        rd_kafka_event_t *ev = rd_kafka_queue_poll(q, timeout_ms + 1000);
        sb_err_t result = SB_OK;
        if (!ev) {
                result = sb_seterr(SB_ERR_KAFKA, errstr, errstr_size,
                                   "creating topic %s: no answer from Kafka", rl->topic);
        } else {
                const rd_kafka_CreateTopics_result_t *res = rd_kafka_event_CreateTopics_result(ev);
                size_t n = 0;
                const rd_kafka_topic_result_t **tr =
                        res ? rd_kafka_CreateTopics_result_topics(res, &n) : NULL;
                rd_kafka_resp_err_t e = rd_kafka_event_error(ev);
                if (!e && tr && n == 1)
                        e = rd_kafka_topic_result_error(tr[0]);
                if (e && e != RD_KAFKA_RESP_ERR_TOPIC_ALREADY_EXISTS)
                        result = sb_seterr(SB_ERR_KAFKA, errstr, errstr_size, "creating topic %s: %s",
                                           rl->topic, rd_kafka_err2str(e));
                else if (!e)
                        SB_LOG(rl->log, SB_LOG_INFO, "created topic %s (compacted, 1 partition)", rl->topic);
                rd_kafka_event_destroy(ev);
        }
        rd_kafka_AdminOptions_destroy(opts);
        rd_kafka_queue_destroy(q);
        rd_kafka_NewTopic_destroy(nt);
        return result;
}

sb_err_t regd_cmdlog_new(regd_store_t *store, const sb_config_t *cfg, const char *topic,
                         int replication_factor, int timeout_ms, sb_log_t *log, regd_cmdlog_t **out,
                         char *errstr, size_t errstr_size) {
        regd_cmdlog_t *rl = calloc(1, sizeof(*rl));
        char group[64], uuid[37];
        sb_err_t err;
        *out = NULL;
        if (!rl || !(rl->topic = strdup(topic))) {
                free(rl);
                return sb_seterr(SB_ERR_NOMEM, errstr, errstr_size, "out of memory");
        }
        rl->store = store;
        rl->log = log;
        rl->applied = -1;
        rl->opaque.log = log;
        rl->opaque.app = rl;
        pthread_mutex_init(&rl->lock, NULL);
        pthread_cond_init(&rl->changed, NULL);

        static const char *const producer_defaults[] = {"enable.idempotence", "true", "acks", "all",
                                                        "linger.ms",          "0",    NULL};
        rd_kafka_conf_t *pc = NULL, *cc = NULL;
        err = sb_kafka_conf_new(cfg, producer_defaults, &rl->opaque, &pc, errstr, errstr_size);
        if (err) {
                regd_cmdlog_destroy(rl);
                return err;
        }
        rd_kafka_conf_set_dr_msg_cb(pc, on_delivery);
        if (!(rl->producer = rd_kafka_new(RD_KAFKA_PRODUCER, pc, errstr, errstr_size))) {
                rd_kafka_conf_destroy(pc);
                regd_cmdlog_destroy(rl);
                return SB_ERR_KAFKA;
        }
        if ((err = ensure_topic(rl, replication_factor, timeout_ms, errstr, errstr_size))) {
                regd_cmdlog_destroy(rl);
                return err;
        }
        /* The reader commits nothing: every start replays the whole log. */
        sb_uuid4(uuid);
        snprintf(group, sizeof(group), "sharebus-registry-%.8s", uuid);
        const char *const consumer_defaults[] = {
                "group.id", group, "enable.auto.commit", "false", "enable.partition.eof", "false", NULL};
        if (sb_kafka_conf_new(NULL, consumer_defaults, &rl->opaque, &cc, errstr, errstr_size))
                cc = NULL;
        for (size_t i = 0; cc && cfg && i < sb_config_kafka_count(cfg); i++) {
                const char *name = sb_config_kafka_name(cfg, i);
                /* The producer-only properties stay with the producer. */
                int producer_only = strcmp(name, "enable.idempotence") == 0 || strcmp(name, "acks") == 0 ||
                                    strncmp(name, "linger", 6) == 0;
                if (!producer_only)
                        rd_kafka_conf_set(cc, name, sb_config_kafka_value(cfg, i), NULL, 0);
        }
        if (!cc || !(rl->consumer = rd_kafka_new(RD_KAFKA_CONSUMER, cc, errstr, errstr_size))) {
                if (cc)
                        rd_kafka_conf_destroy(cc);
                regd_cmdlog_destroy(rl);
                return SB_ERR_KAFKA;
        }
        rd_kafka_topic_partition_list_t *parts = rd_kafka_topic_partition_list_new(1);
        rd_kafka_topic_partition_list_add(parts, topic, 0)->offset = RD_KAFKA_OFFSET_BEGINNING;
        rd_kafka_assign(rl->consumer, parts);
        rd_kafka_topic_partition_list_destroy(parts);

        /* A topic just created takes a moment to be known to every broker:
         * ask for its end until it answers or the start-up time is spent. */
        int64_t low = 0, high = 0;
        rd_kafka_resp_err_t kerr;
        struct timespec until;
        deadline_in(&until, timeout_ms);
        for (;;) {
                kerr = rd_kafka_query_watermark_offsets(rl->consumer, topic, 0, &low, &high, 5000);
                struct timespec now;
                clock_gettime(CLOCK_REALTIME, &now);
                if (!kerr || now.tv_sec > until.tv_sec)
                        break;
                struct timespec pause = {0, 200 * 1000 * 1000};
                nanosleep(&pause, NULL);
        }
        if (kerr) {
                regd_cmdlog_destroy(rl);
                return sb_seterr(SB_ERR_KAFKA, errstr, errstr_size, "reading the end of %s: %s", topic,
                                 rd_kafka_err2str(kerr));
        }
        if (pthread_create(&rl->reader, NULL, reader_main, rl)) {
                regd_cmdlog_destroy(rl);
                return sb_seterr(SB_ERR_NOMEM, errstr, errstr_size, "cannot start the reader thread");
        }
        rl->reader_started = 1;
        /* Serve nothing before the state is rebuilt up to the end of the log. */
        struct timespec deadline;
        deadline_in(&deadline, timeout_ms);
        pthread_mutex_lock(&rl->lock);
        while (rl->applied < high - 1)
                if (pthread_cond_timedwait(&rl->changed, &rl->lock, &deadline)) {
                        pthread_mutex_unlock(&rl->lock);
                        regd_cmdlog_destroy(rl);
                        return sb_seterr(SB_ERR_KAFKA, errstr, errstr_size,
                                         "timed out replaying %s up to offset %lld", topic, (long long)high);
                }
        pthread_mutex_unlock(&rl->lock);
        SB_LOG(log, SB_LOG_INFO, "state rebuilt from %s: %lld records (offsets %lld..%lld)", topic,
               (long long)(high - low), (long long)low, (long long)high - 1);
        *out = rl;
        return SB_OK;
}

void regd_cmdlog_destroy(regd_cmdlog_t *rl) {
        if (!rl)
                return;
        rl->stop = 1;
        if (rl->reader_started)
                pthread_join(rl->reader, NULL);
        if (rl->consumer) {
                rd_kafka_consumer_close(rl->consumer);
                rd_kafka_destroy(rl->consumer);
        }
        if (rl->producer) {
                rd_kafka_flush(rl->producer, 5000);
                rd_kafka_destroy(rl->producer);
        }
        pthread_cond_destroy(&rl->changed);
        pthread_mutex_destroy(&rl->lock);
        free(rl->topic);
        free(rl);
}

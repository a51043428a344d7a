#include "dead_letter.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sb_clock.h"
#include "sb_kafka.h"

/* Room left in a dead letter for librdkafka's own framing of the record. */
#define RECORD_OVERHEAD 512
/* The source's own headers are kept only while they leave room for the
 * rest: at most this fraction (1/n) of the size limit. */
#define ORIG_HEADERS_SHARE 4

/* The dead letters of one source partition: offsets delivered, and how many
 * are still in flight (room for them is reserved in `done` before they are
 * sent, so that the delivery report never needs to allocate).  Entries live
 * as long as the module, so that a delivery report can point at one. */
typedef struct dl_part_s {
        char *topic;
        int32_t partition;
        int64_t *done;
        size_t n_done, cap, in_flight;
        struct dl_part_s *next;
} dl_part_t;

struct sb_dead_letter_s {
        char *topic;
        char *subscriber;
        sb_log_t *log;
        rd_kafka_t *rk;
        sb_kafka_opaque_t opaque;
        long long limit;  /* bytes a dead letter may take (message.max.bytes, halved on refusal) */
        int failed;       /* deliveries failed since the last flush */
        char denied[640]; /* the ACLs' refusal, "" while none */
        dl_part_t *parts;
};

static const char *const class_names[] = {"decode", "schema", "rule", "transform", "apply"};

const char *sb_dl_class_name(sb_dl_class_t cls) {
        return (size_t)cls < sizeof(class_names) / sizeof(*class_names) ? class_names[cls] : "unknown";
}

int sb_dl_class_parse(const char *name, sb_dl_class_t *out) {
        for (size_t i = 0; i < sizeof(class_names) / sizeof(*class_names); i++)
                if (strcmp(name, class_names[i]) == 0) {
                        *out = (sb_dl_class_t)i;
                        return 0;
                }
        return -1;
}

static dl_part_t *find_part(const sb_dead_letter_t *dl, const char *topic, int32_t partition) {
        for (dl_part_t *p = dl->parts; p; p = p->next)
                if (p->partition == partition && strcmp(p->topic, topic) == 0)
                        return p;
        return NULL;
}

/* The part of topic/partition with room for one more dead letter in
 * flight; NULL when out of memory. */
static dl_part_t *reserve(sb_dead_letter_t *dl, const char *topic, int32_t partition) {
        dl_part_t *p = find_part(dl, topic, partition);
        if (!p) {
                if (!(p = calloc(1, sizeof(*p))) || !(p->topic = strdup(topic))) {
                        free(p);
                        return NULL;
                }
                p->partition = partition;
                p->next = dl->parts;
                dl->parts = p;
        }
        if (p->n_done + p->in_flight + 1 > p->cap) {
                size_t cap = p->cap ? p->cap * 2 : 16;
                int64_t *done = realloc(p->done, cap * sizeof(*done));
                if (!done)
                        return NULL;
                p->done = done;
                p->cap = cap;
        }
        return p;
}

static int64_t header_int(const rd_kafka_message_t *m, const char *name) {
        rd_kafka_headers_t *hdrs = NULL;
        const void *v;
        size_t len;
        char text[32];
        if (rd_kafka_message_headers(m, &hdrs) || !hdrs || rd_kafka_header_get_last(hdrs, name, &v, &len) ||
            !v || len == 0 || len >= sizeof(text))
                return -1;
        memcpy(text, v, len);
        text[len] = 0;
        char *end;
        long long n = strtoll(text, &end, 10);
        return *end ? -1 : n;
}

static void on_delivery(rd_kafka_t *rk, const rd_kafka_message_t *m, void *opaque) {
        sb_dead_letter_t *dl = ((sb_kafka_opaque_t *)opaque)->app;
        dl_part_t *p = m->_private;
        (void)rk;
        if (p && p->in_flight)
                p->in_flight--;
        if (!m->err) {
                int64_t offset = header_int(m, "sharebus.source.offset");
                if (p && offset >= 0 && p->n_done < p->cap)
                        p->done[p->n_done++] = offset;
                return;
        }
        dl->failed++;
        if (m->err == RD_KAFKA_RESP_ERR_MSG_SIZE_TOO_LARGE ||
            m->err == RD_KAFKA_RESP_ERR_RECORD_LIST_TOO_LARGE) {
                /* The topic takes less than the producer: send less next time. */
                dl->limit /= 2;
        }
        if ((m->err == RD_KAFKA_RESP_ERR_TOPIC_AUTHORIZATION_FAILED ||
             m->err == RD_KAFKA_RESP_ERR_CLUSTER_AUTHORIZATION_FAILED) &&
            !dl->denied[0])
                snprintf(dl->denied, sizeof(dl->denied),
                         "dead-letter topic %.249s: not authorized (%s): subscriber %.64s's principal may "
                         "not write it; a subscriber writes only its own dlq.<name> (the principals of "
                         "broker-config/topics.conf, applied by sharebus-topics)",
                         dl->topic, rd_kafka_err2name(m->err), dl->subscriber);
        SB_LOG(dl->log, SB_LOG_ERROR, "dead-letter delivery to %s failed: %s", dl->topic,
               rd_kafka_err2str(m->err));
}

const char *sb_dead_letter_denied(const sb_dead_letter_t *dl) { return dl->denied[0] ? dl->denied : NULL; }

static size_t headers_size(const rd_kafka_headers_t *hdrs) {
        const char *name;
        const void *v;
        size_t len, total = 0;
        for (size_t i = 0; !rd_kafka_header_get_all(hdrs, i, &name, &v, &len); i++)
                total += strlen(name) + len + 16; /* + varint lengths and the like */
        return total;
}

static void add_num(rd_kafka_headers_t *hdrs, const char *name, long long n) {
        char num[32];
        snprintf(num, sizeof(num), "%lld", n);
        rd_kafka_header_add(hdrs, name, -1, num, -1);
}

/* The headers of the dead letter of `m` within `limit` bytes, and how much
 * of key and value fit beside them (*key_keep, *value_keep).  NULL when
 * out of memory. */
static rd_kafka_headers_t *dead_letter_headers(const sb_dead_letter_t *dl, const rd_kafka_message_t *m,
                                               sb_dl_class_t cls, const char *reason, int64_t now,
                                               long long limit, size_t *key_keep, size_t *value_keep) {
        rd_kafka_headers_t *orig = NULL, *hdrs = NULL;
        int dropped = 0;
        if (rd_kafka_message_headers(m, &orig) == RD_KAFKA_RESP_ERR_NO_ERROR && orig) {
                if ((long long)headers_size(orig) <= limit / ORIG_HEADERS_SHARE)
                        hdrs = rd_kafka_headers_copy(orig);
                else
                        dropped = 1;
        }
        if (!hdrs && !(hdrs = rd_kafka_headers_new(16)))
                return NULL;
        if (dropped)
                rd_kafka_header_add(hdrs, "sharebus.headers.dropped", -1, "true", -1);
        rd_kafka_header_add(hdrs, "sharebus.error", -1, reason, -1);
        rd_kafka_header_add(hdrs, "sharebus.error.class", -1, sb_dl_class_name(cls), -1);
        rd_kafka_header_add(hdrs, "sharebus.source.topic", -1, rd_kafka_topic_name(m->rkt), -1);
        add_num(hdrs, "sharebus.source.partition", m->partition);
        add_num(hdrs, "sharebus.source.offset", (long long)m->offset);
        int64_t ts = rd_kafka_message_timestamp(m, NULL);
        if (ts >= 0) /* -1: a record of a client too old to stamp it */
                add_num(hdrs, "sharebus.source.timestamp", (long long)ts);
        rd_kafka_header_add(hdrs, "sharebus.subscriber", -1, dl->subscriber, -1);
        add_num(hdrs, "sharebus.dead_lettered_at", (long long)now);
        /* Room for the truncation headers too, whether or not they come. */
        long long budget = limit - (long long)headers_size(hdrs) - RECORD_OVERHEAD - 128;
        if (budget < 0)
                budget = 0;
        *key_keep = m->key_len < (size_t)budget ? m->key_len : (size_t)budget;
        budget -= (long long)*key_keep;
        *value_keep = m->len < (size_t)budget ? m->len : (size_t)budget;
        if (*key_keep < m->key_len) {
                rd_kafka_header_add(hdrs, "sharebus.key.truncated", -1, "true", -1);
                add_num(hdrs, "sharebus.key.size", (long long)m->key_len);
        }
        if (*value_keep < m->len) {
                rd_kafka_header_add(hdrs, "sharebus.value.truncated", -1, "true", -1);
                add_num(hdrs, "sharebus.value.size", (long long)m->len);
        }
        return hdrs;
}

sb_err_t sb_dead_letter_send(sb_dead_letter_t *dl, const rd_kafka_message_t *m, sb_dl_class_t cls,
                             const char *reason, char *errstr, size_t errstr_size) {
        dl_part_t *p = reserve(dl, rd_kafka_topic_name(m->rkt), m->partition);
        int64_t now = sb_clock_now_ms();
        if (!p)
                return sb_seterr(SB_ERR_NOMEM, errstr, errstr_size, "dead letter: out of memory");
        for (;;) {
                size_t key_keep, value_keep;
                rd_kafka_headers_t *hdrs =
                        dead_letter_headers(dl, m, cls, reason, now, dl->limit, &key_keep, &value_keep);
                if (!hdrs)
                        return sb_seterr(SB_ERR_NOMEM, errstr, errstr_size, "dead letter: out of memory");
                if (key_keep < m->key_len || value_keep < m->len)
                        SB_LOG(dl->log, SB_LOG_WARN,
                               "dead letter of %s [%d] offset %lld truncated to fit %lld bytes (key %zu of "
                               "%zu, value %zu of %zu bytes)",
                               rd_kafka_topic_name(m->rkt), m->partition, (long long)m->offset, dl->limit,
                               key_keep, m->key_len, value_keep, m->len);
                rd_kafka_resp_err_t err = sb_kafka_produce(dl->rk, dl->topic, m->key, key_keep, m->payload,
                                                           value_keep, hdrs, p, NULL);
                if (!err) {
                        p->in_flight++;
                        return SB_OK;
                }
                rd_kafka_headers_destroy(hdrs);
                /* Our estimate of librdkafka's framing was short: shrink. */
                if (err == RD_KAFKA_RESP_ERR_MSG_SIZE_TOO_LARGE && (key_keep || value_keep)) {
                        dl->limit /= 2;
                        continue;
                }
                return sb_seterr(SB_ERR_KAFKA, errstr, errstr_size, "dead-letter produce to %s: %s",
                                 dl->topic, rd_kafka_err2str(err));
        }
}

sb_err_t sb_dead_letter_flush(sb_dead_letter_t *dl, int timeout_ms, char *errstr, size_t errstr_size) {
        rd_kafka_flush(dl->rk, timeout_ms);
        int failed = dl->failed, queued = rd_kafka_outq_len(dl->rk);
        dl->failed = 0;
        if (failed || queued > 0)
                return sb_seterr(SB_ERR_KAFKA, errstr, errstr_size,
                                 "dead-letter topic %s did not take the records (%d failed, %d queued)",
                                 dl->topic, failed, queued);
        return SB_OK;
}

int sb_dead_letter_delivered(const sb_dead_letter_t *dl, const char *topic, int32_t partition,
                             int64_t offset) {
        const dl_part_t *p = find_part(dl, topic, partition);
        for (size_t i = 0; p && i < p->n_done; i++)
                if (p->done[i] == offset)
                        return 1;
        return 0;
}

void sb_dead_letter_forget(sb_dead_letter_t *dl, const char *topic, int32_t partition, int64_t next) {
        dl_part_t *p = find_part(dl, topic, partition);
        size_t kept = 0;
        for (size_t i = 0; p && i < p->n_done; i++)
                if (p->done[i] >= next)
                        p->done[kept++] = p->done[i];
        if (p)
                p->n_done = kept;
}

void sb_dead_letter_poll(sb_dead_letter_t *dl) { rd_kafka_poll(dl->rk, 0); }

const char *sb_dead_letter_topic(const sb_dead_letter_t *dl) { return dl->topic; }

sb_err_t sb_dead_letter_new(const sb_config_t *cfg, const char *topic, const char *subscriber, sb_log_t *log,
                            sb_dead_letter_t **out, char *errstr, size_t errstr_size) {
        static const char *const defaults[] = {"enable.idempotence", "true", "acks", "all", NULL};
        /* The kafka group is the consumer's; these names are for it alone. */
        static const char *const consumer_only[] = {
                "group.", "enable.auto.",     "auto.",      "isolation.", "session.", "max.poll",
                "fetch.", "partition.assign", "heartbeat.", "queued.",    NULL};
        sb_dead_letter_t *dl = calloc(1, sizeof(*dl));
        *out = NULL;
        if (!dl || !(dl->topic = strdup(topic)) || !(dl->subscriber = strdup(subscriber))) {
                sb_dead_letter_destroy(dl);
                return sb_seterr(SB_ERR_NOMEM, errstr, errstr_size, "out of memory");
        }
        dl->log = log;
        dl->opaque.log = log;
        dl->opaque.app = dl;
        rd_kafka_conf_t *conf = NULL;
        sb_err_t err = sb_kafka_conf_new(NULL, defaults, &dl->opaque, &conf, errstr, errstr_size);
        if (err) {
                sb_dead_letter_destroy(dl);
                return err;
        }
        for (size_t i = 0; i < sb_config_kafka_count(cfg); i++) {
                const char *name = sb_config_kafka_name(cfg, i);
                int skip = 0;
                for (size_t k = 0; consumer_only[k]; k++)
                        skip |= strncmp(name, consumer_only[k], strlen(consumer_only[k])) == 0;
                /* Refusals were reported by the consumer's conf already. */
                if (!skip)
                        rd_kafka_conf_set(conf, name, sb_config_kafka_value(cfg, i), NULL, 0);
        }
        char max[32];
        size_t max_len = sizeof(max);
        dl->limit = rd_kafka_conf_get(conf, "message.max.bytes", max, &max_len) == RD_KAFKA_CONF_OK
                            ? strtoll(max, NULL, 10)
                            : 1000000;
        rd_kafka_conf_set_dr_msg_cb(conf, on_delivery);
        if (!(dl->rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, errstr, errstr_size))) {
                rd_kafka_conf_destroy(conf);
                sb_dead_letter_destroy(dl);
                return SB_ERR_KAFKA;
        }
        *out = dl;
        return SB_OK;
}

void sb_dead_letter_destroy(sb_dead_letter_t *dl) {
        if (!dl)
                return;
        if (dl->rk) {
                rd_kafka_flush(dl->rk, 10000);
                rd_kafka_destroy(dl->rk);
        }
        while (dl->parts) {
                dl_part_t *n = dl->parts->next;
                free(dl->parts->done);
                free(dl->parts->topic);
                free(dl->parts);
                dl->parts = n;
        }
        free(dl->topic);
        free(dl->subscriber);
        free(dl);
}

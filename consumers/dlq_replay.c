#include "dlq_replay.h"

#include <stdlib.h>
#include <string.h>

#include "sb_clock.h"
#include "sb_kafka.h"
#include "subscriber_apply.h"

/* How long the dead-letter topic may send nothing before its end is
 * reached: longer means the cluster is not answering. */
#define STALL_MS 60000

/* One partition of the dead-letter topic. */
typedef struct {
        int64_t end;      /* the high watermark at start: read up to here */
        int64_t stored;   /* the position the target holds (-1: none) */
        int64_t resolved; /* past what was applied, up to the first that still fails */
        int blocked;      /* a dead letter of this partition still fails */
        int done;
} part_t;

typedef struct {
        const sb_subscriber_conf_t *conf;
        sb_target_t *target;
        sb_subscriber_t *applier;
        sb_log_t *log;
        FILE *report;
        rd_kafka_t *rk;
        sb_kafka_opaque_t opaque;
        char group[300];
        part_t *parts;
        int n_parts, remaining;
        int in_txn;
        sb_dlq_replay_stats_t *stats;
} replay_t;

/* The text of header `name` into out[size]: 0, or -1 when it is absent,
 * null or does not fit. */
static int header_text(const rd_kafka_headers_t *hdrs, const char *name, char *out, size_t size) {
        const void *v;
        size_t len;
        if (!hdrs || rd_kafka_header_get_last(hdrs, name, &v, &len) || !v || len >= size)
                return -1;
        memcpy(out, v, len);
        out[len] = 0;
        return 0;
}

/* Header `name` as a number in [0, max] into *out: 0, or -1. */
static int header_number(const rd_kafka_headers_t *hdrs, const char *name, long long max, long long *out) {
        char text[32], *end;
        if (header_text(hdrs, name, text, sizeof(text)) || !*text || *text == '-' || *text == '+')
                return -1;
        long long n = strtoll(text, &end, 10);
        if (*end || n > max)
                return -1;
        *out = n;
        return 0;
}

sb_err_t sb_dlq_source_read(const rd_kafka_headers_t *hdrs, sb_dlq_source_t *out, char *errstr,
                            size_t errstr_size) {
        long long partition, offset;
        char text[32];
        memset(out, 0, sizeof(*out));
        out->cls = SB_DL_DECODE;
        if (header_text(hdrs, "sharebus.source.topic", out->topic, sizeof(out->topic)) || !*out->topic)
                return sb_seterr(SB_ERR_INVALID, errstr, errstr_size,
                                 "no usable sharebus.source.topic header");
        if (header_number(hdrs, "sharebus.source.partition", INT32_MAX, &partition))
                return sb_seterr(SB_ERR_INVALID, errstr, errstr_size,
                                 "no sharebus.source.partition header with a partition number");
        if (header_number(hdrs, "sharebus.source.offset", INT64_MAX, &offset))
                return sb_seterr(SB_ERR_INVALID, errstr, errstr_size,
                                 "no sharebus.source.offset header with an offset");
        out->partition = (int32_t)partition;
        out->offset = offset;
        /* Older dead letters have no class: decode is as good a guess as any. */
        if (!header_text(hdrs, "sharebus.error.class", text, sizeof(text)))
                sb_dl_class_parse(text, &out->cls);
        out->truncated = (!header_text(hdrs, "sharebus.value.truncated", text, sizeof(text)) &&
                          strcmp(text, "true") == 0) ||
                         (!header_text(hdrs, "sharebus.key.truncated", text, sizeof(text)) &&
                          strcmp(text, "true") == 0);
        return SB_OK;
}

/* 1 if `topic` is one of the comma-separated `topics`. */
static int is_one_of(const char *topics, const char *topic) {
        size_t len = strlen(topic);
        for (const char *p = topics; *p;) {
                p += strspn(p, ", ");
                size_t n = strcspn(p, ", ");
                if (n == len && n && memcmp(p, topic, n) == 0)
                        return 1;
                p += n;
        }
        return 0;
}

static void report(replay_t *r, const char *topic, int32_t partition, int64_t offset, sb_dl_class_t cls,
                   const char *reason) {
        fprintf(r->report, "%s [%d] offset %lld: %s: %s\n", topic, partition, (long long)offset,
                sb_dl_class_name(cls), reason);
        fflush(r->report);
        r->stats->failed++;
}

/* Applies (or reports) the dead letter `m` of partition p in the open
 * transaction.  An error other than the dead letter's own: the transaction
 * must be rolled back. */
static sb_err_t replay_one(replay_t *r, part_t *p, const rd_kafka_message_t *m, char *errstr,
                           size_t errstr_size) {
        rd_kafka_headers_t *hdrs = NULL;
        sb_dlq_source_t src;
        char why[1024], more[1300];
        int resolved = 0;
        r->stats->read++;
        if (rd_kafka_message_headers(m, &hdrs))
                hdrs = NULL;
        if (sb_dlq_source_read(hdrs, &src, why, sizeof(why))) {
                snprintf(more, sizeof(more), "not a sharebus dead letter: %s", why);
                report(r, r->conf->dlq_topic, m->partition, m->offset, SB_DL_DECODE, more);
        } else if (!is_one_of(r->conf->topics, src.topic)) {
                snprintf(more, sizeof(more), "%s is not one of this subscriber's topics (%s)", src.topic,
                         r->conf->topics);
                report(r, src.topic, src.partition, src.offset, SB_DL_DECODE, more);
        } else if (src.truncated) {
                report(r, src.topic, src.partition, src.offset, src.cls,
                       "the dead letter was truncated to fit the dead-letter topic: replay the original "
                       "from its source offset");
        } else {
                const sb_apply_record_t rec = {src.topic,  src.partition, src.offset, m->key,
                                               m->key_len, m->payload,    m->len};
                sb_apply_counts_t counts = {0};
                sb_dl_class_t cls = SB_DL_DECODE;
                sb_err_t err = sb_subscriber_apply_once(r->applier, &rec, &counts, &cls, why, sizeof(why));
                if (err == SB_ERR_INVALID) {
                        report(r, src.topic, src.partition, src.offset, cls, why);
                } else if (err) {
                        return sb_seterr(err, errstr, errstr_size,
                                         "%s [%d] offset %lld (dead letter %s [%d] offset %lld): %s",
                                         src.topic, src.partition, (long long)src.offset, r->conf->dlq_topic,
                                         m->partition, (long long)m->offset, why);
                } else {
                        resolved = 1;
                        if (counts.already)
                                r->stats->already++;
                        else
                                r->stats->applied++;
                        SB_LOG(r->log, SB_LOG_DEBUG, "%s [%d] offset %lld %s", src.topic, src.partition,
                               (long long)src.offset, counts.already ? "applied before: skipped" : "applied");
                }
        }
        if (!resolved)
                p->blocked = 1;
        else if (!p->blocked)
                p->resolved = m->offset + 1;
        return SB_OK;
}

/* Stores the positions that moved in the open transaction and commits it,
 * then tells Kafka (for lag tools; the target's copy is the one read). */
static sb_err_t commit_batch(replay_t *r, char *errstr, size_t errstr_size) {
        sb_err_t err = SB_OK;
        if (!r->in_txn)
                return SB_OK;
        for (int i = 0; i < r->n_parts && !err; i++)
                if (r->parts[i].resolved != r->parts[i].stored)
                        err = r->target->ops->store_offset(r->target, r->group, r->conf->dlq_topic, i,
                                                           r->parts[i].resolved, errstr, errstr_size);
        if (!err)
                err = r->target->ops->commit(r->target, errstr, errstr_size);
        r->in_txn = 0;
        if (err) {
                r->target->ops->rollback(r->target);
                sb_subscriber_rolled_back(r->applier);
                return err;
        }
        rd_kafka_topic_partition_list_t *offsets = rd_kafka_topic_partition_list_new(r->n_parts);
        for (int i = 0; i < r->n_parts; i++)
                if (r->parts[i].resolved != r->parts[i].stored) {
                        rd_kafka_topic_partition_list_add(offsets, r->conf->dlq_topic, i)->offset =
                                r->parts[i].resolved;
                        r->parts[i].stored = r->parts[i].resolved;
                }
        rd_kafka_resp_err_t kerr =
                offsets->cnt ? rd_kafka_commit(r->rk, offsets, 0) : RD_KAFKA_RESP_ERR_NO_ERROR;
        if (kerr)
                SB_LOG(r->log, SB_LOG_WARN, "replay position not committed to Kafka (the target has it): %s",
                       rd_kafka_err2str(kerr));
        rd_kafka_topic_partition_list_destroy(offsets);
        return SB_OK;
}

/* The partitions of the dead-letter topic, each from its stored position
 * to its high watermark, into r->parts and *assign (the caller's). */
static sb_err_t plan(replay_t *r, rd_kafka_topic_partition_list_t *assign, char *errstr, size_t errstr_size) {
        for (int i = 0; i < r->n_parts; i++) {
                part_t *p = &r->parts[i];
                int64_t lo, hi, next = -1;
                rd_kafka_resp_err_t kerr =
                        rd_kafka_query_watermark_offsets(r->rk, r->conf->dlq_topic, i, &lo, &hi, 10000);
                if (kerr)
                        return sb_seterr(SB_ERR_KAFKA, errstr, errstr_size, "end of %s [%d]: %s",
                                         r->conf->dlq_topic, i, rd_kafka_err2str(kerr));
                sb_err_t err = r->target->ops->load_offset(r->target, r->group, r->conf->dlq_topic, i, &next,
                                                           errstr, errstr_size);
                if (err)
                        return err;
                /* Below the low watermark: those dead letters are gone. */
                p->stored = next;
                p->resolved = next > lo ? next : lo;
                p->end = hi;
                p->done = p->resolved >= hi;
                if (!p->done) {
                        rd_kafka_topic_partition_list_add(assign, r->conf->dlq_topic, i)->offset =
                                p->resolved;
                        r->remaining++;
                }
                SB_LOG(r->log, SB_LOG_INFO, "%s [%d]: replaying offsets %lld to %lld", r->conf->dlq_topic, i,
                       (long long)p->resolved, (long long)hi - 1);
        }
        return SB_OK;
}

static void finish(replay_t *r, part_t *p) {
        if (!p->done) {
                p->done = 1;
                r->remaining--;
        }
}

/* Reads to the planned ends, applying in batches. */
static sb_err_t replay_all(replay_t *r, volatile sig_atomic_t *stop, char *errstr, size_t errstr_size) {
        int64_t last = sb_clock_mono_ms();
        int in_batch = 0;
        sb_err_t err;
        while (r->remaining > 0 && !*stop) {
                rd_kafka_message_t *m = rd_kafka_consumer_poll(r->rk, r->conf->poll_timeout_ms);
                if (!m) {
                        if ((err = commit_batch(r, errstr, errstr_size)))
                                return err;
                        in_batch = 0;
                        if (sb_clock_mono_ms() - last > STALL_MS)
                                return sb_seterr(SB_ERR_KAFKA, errstr, errstr_size,
                                                 "%s sent nothing for %d s before its end",
                                                 r->conf->dlq_topic, STALL_MS / 1000);
                        continue;
                }
                part_t *p = m->partition >= 0 && m->partition < r->n_parts ? &r->parts[m->partition] : NULL;
                if (m->err) {
                        char fatal[256];
                        if (m->err == RD_KAFKA_RESP_ERR__PARTITION_EOF && p && m->offset >= p->end)
                                finish(r, p);
                        else if (m->err != RD_KAFKA_RESP_ERR__PARTITION_EOF)
                                SB_LOG(r->log, SB_LOG_WARN, "consumer: %s", rd_kafka_message_errstr(m));
                        rd_kafka_message_destroy(m);
                        if (rd_kafka_fatal_error(r->rk, fatal, sizeof(fatal)))
                                return sb_seterr(SB_ERR_KAFKA, errstr, errstr_size, "fatal: %s", fatal);
                        continue;
                }
                last = sb_clock_mono_ms();
                if (!p || p->done || m->offset >= p->end) {
                        rd_kafka_message_destroy(m); /* written after the replay started */
                        continue;
                }
                err = SB_OK;
                if (!r->in_txn && !(err = r->target->ops->begin(r->target, errstr, errstr_size)))
                        r->in_txn = 1;
                if (!err)
                        err = replay_one(r, p, m, errstr, errstr_size);
                if (m->offset + 1 >= p->end)
                        finish(r, p);
                rd_kafka_message_destroy(m);
                if (err)
                        return err;
                if ((++in_batch >= r->conf->batch_size || r->remaining == 0) &&
                    (err = commit_batch(r, errstr, errstr_size)))
                        return err;
                if (!r->in_txn)
                        in_batch = 0;
        }
        if ((err = commit_batch(r, errstr, errstr_size)))
                return err;
        if (r->remaining > 0)
                return sb_seterr(SB_ERR_KAFKA, errstr, errstr_size, "stopped before the end of %s",
                                 r->conf->dlq_topic);
        return SB_OK;
}

sb_err_t sb_dlq_replay_run(const sb_subscriber_conf_t *conf, const sb_config_t *cfg, sb_target_t *target,
                           sb_registry_client_t *registry, sb_log_t *log, FILE *report_to,
                           volatile sig_atomic_t *stop, sb_dlq_replay_stats_t *stats, char *errstr,
                           size_t errstr_size) {
        replay_t r = {.conf = conf, .target = target, .log = log, .report = report_to, .stats = stats};
        rd_kafka_topic_partition_list_t *assign = NULL;
        rd_kafka_conf_t *kc = NULL;
        sb_err_t err;
        memset(stats, 0, sizeof(*stats));
        if (!conf->receipts)
                return sb_seterr(SB_ERR_CONFIG, errstr, errstr_size,
                                 "--replay-dlq needs receipts = true: the receipts are how it applies "
                                 "each event once");
        snprintf(r.group, sizeof(r.group), "sharebus.%s.replay", conf->name);
        r.opaque.log = log;
        r.opaque.app = &r;
        const char *const defaults[] = {"group.id",
                                        r.group,
                                        "enable.auto.commit",
                                        "false",
                                        "enable.auto.offset.store",
                                        "false",
                                        "auto.offset.reset",
                                        "earliest",
                                        "isolation.level",
                                        "read_committed",
                                        "enable.partition.eof",
                                        "true",
                                        NULL};
        if ((err = sb_subscriber_applier_new(conf, target, registry, log, &r.applier, errstr, errstr_size)) ||
            (err = sb_kafka_conf_new(cfg, defaults, &r.opaque, &kc, errstr, errstr_size)))
                goto out;
        if (!(r.rk = rd_kafka_new(RD_KAFKA_CONSUMER, kc, errstr, errstr_size))) {
                rd_kafka_conf_destroy(kc);
                err = SB_ERR_KAFKA;
                goto out;
        }
        rd_kafka_poll_set_consumer(r.rk);
        rd_kafka_resp_err_t kerr = sb_kafka_topic_partitions(r.rk, conf->dlq_topic, 10000, &r.n_parts);
        if (kerr == RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART) {
                SB_LOG(log, SB_LOG_INFO, "no dead-letter topic %s: nothing to replay", conf->dlq_topic);
                goto out;
        }
        if (kerr) {
                err = sb_seterr(SB_ERR_KAFKA, errstr, errstr_size, "dead-letter topic %s: %s",
                                conf->dlq_topic, rd_kafka_err2str(kerr));
                goto out;
        }
        if (!(r.parts = calloc((size_t)r.n_parts, sizeof(*r.parts))) ||
            !(assign = rd_kafka_topic_partition_list_new(r.n_parts))) {
                err = sb_seterr(SB_ERR_NOMEM, errstr, errstr_size, "out of memory");
                goto out;
        }
        if ((err = plan(&r, assign, errstr, errstr_size)))
                goto out;
        if (r.remaining && (kerr = rd_kafka_assign(r.rk, assign))) {
                err = sb_seterr(SB_ERR_KAFKA, errstr, errstr_size, "assign %s: %s", conf->dlq_topic,
                                rd_kafka_err2str(kerr));
                goto out;
        }
        err = replay_all(&r, stop, errstr, errstr_size);
out:
        if (r.in_txn) {
                target->ops->rollback(target);
                sb_subscriber_rolled_back(r.applier);
        }
        SB_LOG(log, SB_LOG_INFO,
               "replay of %s as %s: %llu dead letters read, %llu applied, %llu applied before, %llu still "
               "failing",
               conf->dlq_topic, r.group, (unsigned long long)stats->read, (unsigned long long)stats->applied,
               (unsigned long long)stats->already, (unsigned long long)stats->failed);
        if (assign)
                rd_kafka_topic_partition_list_destroy(assign);
        if (r.rk) {
                rd_kafka_consumer_close(r.rk);
                rd_kafka_destroy(r.rk);
        }
        sb_subscriber_destroy(r.applier);
        free(r.parts);
        return err;
}

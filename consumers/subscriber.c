#include "subscriber.h"
#include "subscriber_apply.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "dead_letter.h"
#include "fetch_nudge.h"
#include "sb_clock.h"
#include "sb_envelope.h"
#include "sb_kafka.h"
#include "row_shape.h"
#include "sb_rules.h"
#include "sb_wire.h"
#include "subscriber_metrics.h"

typedef struct {
        char *topic;
        int32_t partition;
        int64_t next;    /* next offset committed in the target */
        int64_t pending; /* next offset within the batch being applied */
} tp_state_t;

struct sb_subscriber_s {
        sb_subscriber_conf_t conf;
        char group[300];
        sb_target_t *target;
        sb_registry_client_t *registry;
        sb_log_t *log;
        rd_kafka_t *rk;
        sb_dead_letter_t *dlq;
        sb_kafka_opaque_t opaque;
        rd_kafka_message_t **batch;
        size_t n_batch;
        tp_state_t *tps;
        size_t n_tps;
        rd_kafka_topic_partition_list_t *assigned; /* a copy of the assignment, for the nudger */
        fetch_nudge_t *nudge;
        row_shapes_t *shapes;
        /* An error a callback met that the run loop must return (out of
         * memory in a rebalance): never a record skipped instead. */
        sb_err_t failed;
        char failure[512];
        volatile sig_atomic_t *stop;
        int64_t last_activity; /* monotonic ms of the last record or assignment */
        int64_t batch_started; /* monotonic ms the first record of the batch was polled */
        sb_subscriber_stats_t stats;
        sb_subscriber_metrics_t *metrics; /* NULL: run without metrics */
        /* Read by /healthz from the HTTP server's thread: the reason is
         * longer than one atomic store, hence the lock. */
        pthread_mutex_t health_lock;
        int unhealthy;
        char unhealthy_why[512]; /* /healthz cuts it to SB_HTTP_SERVER_MAX_REASON */
};

/* /healthz says 503 with `why` until set_healthy: while a batch, or the
 * offsets of an assignment, cannot be read or written and are retried. */
static void set_unhealthy(sb_subscriber_t *sub, const char *what, const char *why) {
        pthread_mutex_lock(&sub->health_lock);
        snprintf(sub->unhealthy_why, sizeof(sub->unhealthy_why), "%s: %.300s", what, why);
        sub->unhealthy = 1;
        pthread_mutex_unlock(&sub->health_lock);
}

static void set_healthy(sb_subscriber_t *sub) {
        pthread_mutex_lock(&sub->health_lock);
        sub->unhealthy = 0;
        pthread_mutex_unlock(&sub->health_lock);
}

int sb_subscriber_healthy(void *opaque, char *reason, size_t reason_size) {
        sb_subscriber_t *sub = opaque;
        pthread_mutex_lock(&sub->health_lock);
        int unhealthy = sub->unhealthy;
        if (unhealthy)
                snprintf(reason, reason_size, "%s", sub->unhealthy_why);
        pthread_mutex_unlock(&sub->health_lock);
        return !unhealthy;
}

static tp_state_t *find_tp(sb_subscriber_t *sub, const char *topic, int32_t partition) {
        for (size_t i = 0; i < sub->n_tps; i++)
                if (sub->tps[i].partition == partition && strcmp(sub->tps[i].topic, topic) == 0)
                        return &sub->tps[i];
        return NULL;
}

static void clear_tps(sb_subscriber_t *sub) {
        if (sub->assigned)
                rd_kafka_topic_partition_list_destroy(sub->assigned);
        sub->assigned = NULL;
        for (size_t i = 0; i < sub->n_tps; i++)
                free(sub->tps[i].topic);
        free(sub->tps);
        sub->tps = NULL;
        sub->n_tps = 0;
}

static void drop_batch(sb_subscriber_t *sub) {
        for (size_t i = 0; i < sub->n_batch; i++)
                rd_kafka_message_destroy(sub->batch[i]);
        sub->n_batch = 0;
}

/* ---- decoding and applying one record ---- */

/* Decodes a framed key or value.  Errors that no retry can fix come back as
 * SB_ERR_INVALID. */
static sb_err_t decode(sb_subscriber_t *sub, const char *what, const void *data, size_t len,
                       sb_schema_t **schema, int32_t *id, json_t **out, char *errstr, size_t errstr_size) {
        const uint8_t *body;
        size_t body_len;
        char inner[512];
        sb_err_t err = sb_wire_parse(data, len, id, &body, &body_len, inner, sizeof(inner));
        if (!err)
                err = sb_registry_schema_by_id(sub->registry, *id, schema, inner, sizeof(inner));
        if (!err)
                err = sb_avro_decode(*schema, body, body_len, out, inner, sizeof(inner));
        if (err == SB_ERR_REGISTRY || err == SB_ERR_NOMEM)
                return sb_seterr(err, errstr, errstr_size, "%s: %s", what, inner);
        if (err)
                return sb_seterr(SB_ERR_INVALID, errstr, errstr_size, "%s: %s", what, inner);
        return SB_OK;
}

typedef sb_apply_counts_t batch_counts_t;

/* Checks event `ev` (decoded with value schema `value_id`) against the
 * published row's rules, transforms it and writes it to the shape's table:
 * an upsert, a removal (a delete, or a row outside the filter), or in
 * history mode an appended event.  An event the transforms skip (an op not
 * taken; in history mode a row outside the filter) is only counted. */
static sb_err_t apply_event(sb_subscriber_t *sub, const sb_apply_record_t *m, row_shape_t *shape,
                            int32_t value_id, const sb_envelope_view_t *ev, json_t *key, batch_counts_t *bc,
                            sb_dl_class_t *cls, char *errstr, size_t errstr_size) {
        sb_target_t *t = sub->target;
        sb_err_t err;
        *cls = SB_DL_RULE;
        if (ev->op != 'd' && shape->rules_error)
                return sb_seterr(SB_ERR_INVALID, errstr, errstr_size, "value schema id %d: rules: %s",
                                 value_id, shape->rules_error);
        if (ev->op != 'd' && (err = sb_rules_check(shape->rules, ev->after, "after", errstr, errstr_size)))
                return err;
        /* The decoded event is ours: the steps change it in place. */
        tf_event_t te = {ev->op, (json_t *)ev->after, (json_t *)ev->before, key};
        tf_verdict_t verdict = shape->chain ? tf_chain_apply(shape->chain, &te) : TF_KEEP;
        if (verdict == TF_NOMEM)
                return sb_seterr(SB_ERR_NOMEM, errstr, errstr_size, "out of memory in the transforms");
        if (verdict == TF_SKIP || (verdict == TF_OUT && sub->conf.history)) {
                bc->filtered++;
                sb_subscriber_metrics_filtered(sub->metrics, m->topic);
                return SB_OK;
        }
        *cls = SB_DL_SCHEMA;
        if ((err = row_shapes_ensure(sub->shapes, shape, errstr, errstr_size)))
                return err;
        *cls = SB_DL_APPLY;
        if (sub->conf.history) {
                /* A delete keeps what was deleted: its before image, or its key. */
                const json_t *values = ev->op != 'd' ? te.after : te.before ? te.before : key;
                sb_target_event_t he = {ev->op, ev->ts_ms, ev->seq, ev->event_id};
                err = t->ops->append(t, shape->table, shape->row, values, &he, errstr, errstr_size);
                *(ev->op == 'd' ? &bc->deleted : &bc->applied) += !err;
        } else if (ev->op == 'd' || verdict == TF_OUT) {
                /* A row that moves out of the filter leaves the table. */
                err = t->ops->remove(t, shape->table, shape->key, shape->row, key, errstr, errstr_size);
                *(ev->op == 'd' ? &bc->deleted : &bc->filtered) += !err;
                if (!err && verdict == TF_OUT)
                        sb_subscriber_metrics_filtered(sub->metrics, m->topic);
        } else {
                err = t->ops->upsert(t, shape->table, shape->key, shape->row, te.after, errstr, errstr_size);
                bc->applied += !err;
        }
        if (!err && sub->conf.receipts) {
                char op[2] = {ev->op, 0};
                err = t->ops->record_receipt(t, m->topic, m->partition, m->offset, ev->event_id, op, errstr,
                                             errstr_size);
        }
        if (!err && verdict == TF_KEEP)
                sb_subscriber_metrics_applied(sub->metrics, m->topic, ev->op, ev->ts_ms);
        return err;
}

/* Decodes, checks and applies record `m`; with `once`, an event that has a
 * receipt already is counted in bc->already instead.  SB_ERR_INVALID (never
 * applicable) comes with *cls, the stage that refused it. */
static sb_err_t apply_record(sb_subscriber_t *sub, const sb_apply_record_t *m, int once, batch_counts_t *bc,
                             sb_dl_class_t *cls, char *errstr, size_t errstr_size) {
        sb_schema_t *key_schema = NULL, *value_schema = NULL;
        int32_t key_id, value_id;
        json_t *key = NULL, *env = NULL;
        sb_envelope_view_t ev;
        row_shape_t *shape;
        sb_err_t err;

        *cls = SB_DL_DECODE;
        if (!m->key)
                return sb_seterr(SB_ERR_INVALID, errstr, errstr_size, "record has no key");
        /* Before anything is decoded: a hostile size costs no allocation. */
        size_t max =
                sub->conf.max_record_bytes ? sub->conf.max_record_bytes : SB_SUBSCRIBER_DEFAULT_RECORD_BYTES;
        if (m->key_len > max || (m->value && m->value_len > max))
                return sb_seterr(SB_ERR_INVALID, errstr, errstr_size,
                                 "%s is %zu bytes, over max_record_bytes (%zu): not decoded",
                                 m->key_len > max ? "key" : "value",
                                 m->key_len > max ? m->key_len : m->value_len, max);
        if ((err = decode(sub, "key", m->key, m->key_len, &key_schema, &key_id, &key, errstr, errstr_size)))
                return err;
        if (!m->value) {
                bc->tombstones++;
                sb_subscriber_metrics_tombstone(sub->metrics, m->topic);
                json_decref(key);
                return SB_OK;
        }
        if ((err = decode(sub, "value", m->value, m->value_len, &value_schema, &value_id, &env, errstr,
                          errstr_size))) {
                json_decref(key);
                return err;
        }
        const sb_node_t *root = sb_schema_root(value_schema);
        const sb_node_t *key_node = sb_schema_root(key_schema);
        int after_idx = sb_node_field_index(root, "after");
        const sb_node_t *row =
                after_idx >= 0 ? sb_node_unwrap_nullable(sb_node_child(root, (size_t)after_idx)) : NULL;
        if (!row || sb_node_type(row) != SB_T_RECORD || sb_node_type(key_node) != SB_T_RECORD) {
                err = sb_seterr(SB_ERR_INVALID, errstr, errstr_size,
                                "value (schema id %d) is not a sharebus change envelope with op and after",
                                value_id);
                goto done;
        }
        if ((err = sb_envelope_read(env, &ev, errstr, errstr_size)))
                goto done;
        int seen = 0;
        if (once && ((err = sub->target->ops->has_receipt(sub->target, m->topic, m->partition, m->offset,
                                                          ev.event_id, &seen, errstr, errstr_size)) ||
                     seen)) {
                bc->already += seen;
                goto done;
        }
        if (!(err = row_shapes_get(sub->shapes, m->topic, key_id, value_id, key_node, row, &shape, cls,
                                   errstr, errstr_size)))
                err = apply_event(sub, m, shape, value_id, &ev, key, bc, cls, errstr, errstr_size);
done:
        json_decref(key);
        json_decref(env);
        return err;
}

static sb_err_t apply_one(sb_subscriber_t *sub, const rd_kafka_message_t *m, batch_counts_t *bc,
                          sb_dl_class_t *cls, char *errstr, size_t errstr_size) {
        const sb_apply_record_t r = {
                rd_kafka_topic_name(m->rkt), m->partition, m->offset, m->key, m->key_len, m->payload, m->len};
        return apply_record(sub, &r, 0, bc, cls, errstr, errstr_size);
}

/* In the batch's transaction: an instance evicted while paused may not yet
 * know its partitions moved; it goes on from the offsets the new owner
 * stored instead of applying (and writing back) older records again. */
static sb_err_t catch_up_stored(sb_subscriber_t *sub, char *errstr, size_t errstr_size) {
        for (size_t i = 0; i < sub->n_tps; i++) {
                tp_state_t *tp = &sub->tps[i];
                int64_t stored = -1;
                sb_err_t err = sub->target->ops->load_offset(sub->target, sub->group, tp->topic,
                                                             tp->partition, &stored, errstr, errstr_size);
                if (err)
                        return err;
                if (stored > tp->next) {
                        SB_LOG(sub->log, SB_LOG_WARN, "%s [%d]: applied up to %lld by another instance",
                               tp->topic, tp->partition, (long long)stored);
                        tp->next = tp->pending = stored;
                }
        }
        return SB_OK;
}

/* Applies the batch in one transaction.  SB_OK: applied and committed.
 * Any other error: rolled back, the batch is kept for a retry. */
static sb_err_t apply_batch(sb_subscriber_t *sub, char *errstr, size_t errstr_size) {
        batch_counts_t bc = {0};
        char reason[1024];
        sb_err_t err;
        sb_dl_class_t cls;
        size_t n_dlq = 0, n_records = 0;

        sb_subscriber_metrics_begin(sub->metrics);
        for (size_t i = 0; i < sub->n_tps; i++)
                sub->tps[i].pending = sub->tps[i].next;
        if ((err = sub->target->ops->begin(sub->target, errstr, errstr_size)))
                return err;
        if ((err = catch_up_stored(sub, errstr, errstr_size)))
                goto fail;
        for (size_t i = 0; i < sub->n_batch; i++) {
                const rd_kafka_message_t *m = sub->batch[i];
                tp_state_t *tp = find_tp(sub, rd_kafka_topic_name(m->rkt), m->partition);
                if (!tp || m->offset < tp->pending)
                        continue; /* revoked, or already applied */
                err = apply_one(sub, m, &bc, &cls, reason, sizeof(reason));
                if (err == SB_ERR_INVALID && sb_dead_letter_delivered(sub->dlq, rd_kafka_topic_name(m->rkt),
                                                                      m->partition, m->offset)) {
                        err = SB_OK; /* dead-lettered by an earlier try of this batch */
                        bc.dead_lettered++;
                        sb_subscriber_metrics_dead_letter(sub->metrics, rd_kafka_topic_name(m->rkt));
                } else if (err == SB_ERR_INVALID) {
                        SB_LOG(sub->log, SB_LOG_WARN, "%s [%d] offset %lld to dead-letter topic %s: %s: %s",
                               rd_kafka_topic_name(m->rkt), m->partition, (long long)m->offset,
                               sub->conf.dlq_topic, sb_dl_class_name(cls), reason);
                        err = sb_dead_letter_send(sub->dlq, m, cls, reason, errstr, errstr_size);
                        n_dlq++;
                        bc.dead_lettered++;
                        sb_subscriber_metrics_dead_letter(sub->metrics, rd_kafka_topic_name(m->rkt));
                } else if (err) {
                        sb_seterr(err, errstr, errstr_size, "%s [%d] offset %lld: %s",
                                  rd_kafka_topic_name(m->rkt), m->partition, (long long)m->offset, reason);
                }
                if (err)
                        goto fail;
                tp->pending = m->offset + 1;
                n_records++;
        }
        for (size_t i = 0; i < sub->n_tps; i++) {
                tp_state_t *tp = &sub->tps[i];
                if (tp->pending != tp->next &&
                    (err = sub->target->ops->store_offset(sub->target, sub->group, tp->topic, tp->partition,
                                                          tp->pending, errstr, errstr_size)))
                        goto fail;
        }
        /* Dead letters must be safe in Kafka before their offsets are. */
        if (n_dlq && (err = sb_dead_letter_flush(sub->dlq, 30000, errstr, errstr_size)))
                goto fail;
        if ((err = sub->target->ops->commit(sub->target, errstr, errstr_size)))
                goto fail;

        rd_kafka_topic_partition_list_t *offsets = rd_kafka_topic_partition_list_new((int)sub->n_tps);
        for (size_t i = 0; i < sub->n_tps; i++) {
                tp_state_t *tp = &sub->tps[i];
                if (tp->pending != tp->next)
                        rd_kafka_topic_partition_list_add(offsets, tp->topic, tp->partition)->offset =
                                tp->pending;
                tp->next = tp->pending;
                sb_dead_letter_forget(sub->dlq, tp->topic, tp->partition, tp->next);
        }
        if (offsets->cnt > 0)
                rd_kafka_commit(sub->rk, offsets, 1);
        rd_kafka_topic_partition_list_destroy(offsets);
        sub->stats.applied += bc.applied;
        sub->stats.deleted += bc.deleted;
        sub->stats.tombstones += bc.tombstones;
        sub->stats.filtered += bc.filtered;
        /* Counted whichever try of the batch sent them. */
        sub->stats.dead_lettered += bc.dead_lettered;
        sub->stats.batches++;
        int64_t took = sb_clock_mono_ms() - sub->batch_started;
        sb_subscriber_metrics_committed(sub->metrics, n_records, (double)(took > 0 ? took : 0) / 1000.0);
        SB_LOG(sub->log, SB_LOG_DEBUG, "batch of %zu applied: %llu upserts, %llu deletes, %llu dead letters",
               sub->n_batch, (unsigned long long)bc.applied, (unsigned long long)bc.deleted,
               (unsigned long long)bc.dead_lettered);
        drop_batch(sub);
        return SB_OK;
fail:
        sub->target->ops->rollback(sub->target);
        row_shapes_forget_ensured(sub->shapes);
        return err;
}

/* Applies the batch, retrying with backoff while the registry, the database
 * or Kafka is unavailable; gives up only when asked to stop. */
static sb_err_t flush_batch(sb_subscriber_t *sub, int retry) {
        char errstr[1024];
        int backoff = 100;
        while (sub->n_batch > 0) {
                sb_err_t err = apply_batch(sub, errstr, sizeof(errstr));
                if (!err) {
                        set_healthy(sub);
                        return SB_OK;
                }
                sub->stats.retries++;
                sb_subscriber_metrics_retry(sub->metrics);
                set_unhealthy(sub,
                              err == SB_ERR_DB         ? "the target database is failing, retrying a batch"
                              : err == SB_ERR_REGISTRY ? "the schema registry is failing, retrying a batch"
                                                       : "a batch cannot be applied, retrying",
                              errstr);
                const char *denied = sb_dead_letter_denied(sub->dlq);
                if (denied) {
                        /* The ACLs refuse it every time: stop, nothing committed. */
                        sub->failed =
                                sb_seterr(SB_ERR_KAFKA, sub->failure, sizeof(sub->failure), "%s", denied);
                        drop_batch(sub);
                        return err;
                }
                SB_LOG(sub->log, SB_LOG_WARN, "batch not applied (%s), %s: %s", sb_err2str(err),
                       retry && !*sub->stop ? "will retry" : "giving up for now", errstr);
                if (!retry || *sub->stop) {
                        drop_batch(sub); /* not committed: read again from the target's offsets */
                        return err;
                }
                for (int waited = 0; waited < backoff && !*sub->stop; waited += 50)
                        sb_clock_sleep_ms(50);
                backoff = backoff * 2 > sub->conf.retry_backoff_max_ms ? sub->conf.retry_backoff_max_ms
                                                                       : backoff * 2;
        }
        return SB_OK;
}

/* ---- rebalancing ---- */

/* The state of each assigned partition, resuming at the offset stored in
 * the target.  NULL (with sub->failed set) when memory ran out, or when the
 * target could not say where to resume before a stop was asked for: then
 * nothing may be read, as reading from the beginning would apply records
 * twice. */
static tp_state_t *assigned_state(sb_subscriber_t *sub, rd_kafka_topic_partition_list_t *parts) {
        char errstr[512];
        tp_state_t *tps = calloc((size_t)parts->cnt + 1, sizeof(*tps));
        if (!tps) {
                sub->failed = sb_seterr(SB_ERR_NOMEM, sub->failure, sizeof(sub->failure),
                                        "out of memory for the assigned partitions");
                return NULL;
        }
        for (int i = 0; i < parts->cnt; i++) {
                rd_kafka_topic_partition_t *p = &parts->elems[i];
                int64_t next = -1;
                int backoff = 100;
                sb_err_t err;
                while ((err = sub->target->ops->load_offset(sub->target, sub->group, p->topic, p->partition,
                                                            &next, errstr, sizeof(errstr))) &&
                       !*sub->stop) {
                        SB_LOG(sub->log, SB_LOG_WARN, "cannot read stored offset, retrying: %s", errstr);
                        set_unhealthy(sub, "the target database is failing, retrying the stored offsets",
                                      errstr);
                        sb_clock_sleep_ms(backoff);
                        backoff = backoff < 5000 ? backoff * 2 : backoff;
                }
                if (!err && backoff > 100)
                        set_healthy(sub);
                if (err)
                        sub->failed =
                                sb_seterr(err, sub->failure, sizeof(sub->failure),
                                          "stored offset of %s [%d]: %s", p->topic, p->partition, errstr);
                else if (!(tps[i].topic = strdup(p->topic)))
                        sub->failed = sb_seterr(SB_ERR_NOMEM, sub->failure, sizeof(sub->failure),
                                                "out of memory for the assigned partitions");
                if (sub->failed) {
                        for (int k = 0; k <= i; k++)
                                free(tps[k].topic);
                        free(tps);
                        return NULL;
                }
                p->offset = next >= 0 ? next : RD_KAFKA_OFFSET_BEGINNING;
                tps[i].partition = p->partition;
                tps[i].next = tps[i].pending = next >= 0 ? next : 0;
                SB_LOG(sub->log, SB_LOG_INFO, "assigned %s [%d], resuming at %s %lld", p->topic, p->partition,
                       next >= 0 ? "stored offset" : "the beginning", (long long)(next >= 0 ? next : 0));
        }
        return tps;
}

static void on_rebalance(rd_kafka_t *rk, rd_kafka_resp_err_t err, rd_kafka_topic_partition_list_t *parts,
                         void *opaque) {
        sb_subscriber_t *sub = ((sb_kafka_opaque_t *)opaque)->app;
        if (err == RD_KAFKA_RESP_ERR__ASSIGN_PARTITIONS) {
                tp_state_t *tps = assigned_state(sub, parts);
                clear_tps(sub);
                sub->last_activity = sb_clock_mono_ms();
                sub->tps = tps;
                sub->n_tps = tps ? (size_t)parts->cnt : 0;
                /* Without a copy the nudger only stays quiet. */
                sub->assigned = tps ? rd_kafka_topic_partition_list_copy(parts) : NULL;
                /* Without their state the partitions are not read at all;
                 * the run loop stops with sub->failed. */
                rd_kafka_assign(rk, tps ? parts : NULL);
        } else {
                flush_batch(sub, 0);
                drop_batch(sub);
                clear_tps(sub);
                SB_LOG(sub->log, SB_LOG_INFO, "partitions revoked (%s)", rd_kafka_err2name(err));
                rd_kafka_assign(rk, NULL);
        }
}

/* ---- lifecycle ---- */

sb_err_t sb_subscriber_new(const sb_subscriber_conf_t *conf, const sb_config_t *cfg, sb_target_t *target,
                           sb_registry_client_t *registry, sb_metrics_t *metrics, sb_log_t *log,
                           sb_subscriber_t **out, char *errstr, size_t errstr_size) {
        sb_subscriber_t *sub = calloc(1, sizeof(*sub));
        sb_err_t err;
        *out = NULL;
        if (!sub || !(sub->batch = calloc((size_t)conf->batch_size, sizeof(rd_kafka_message_t *)))) {
                free(sub);
                return sb_seterr(SB_ERR_NOMEM, errstr, errstr_size, "out of memory");
        }
        pthread_mutex_init(&sub->health_lock, NULL);
        sub->conf = *conf;
        sub->target = target;
        sub->registry = registry;
        sub->log = log;
        sub->opaque.log = log;
        sub->opaque.app = sub;
        snprintf(sub->group, sizeof(sub->group), "sharebus.%s", conf->name);
        const char *const consumer_defaults[] = {"group.id", sub->group, "enable.auto.commit", "false",
                                                 "enable.auto.offset.store", "false", "auto.offset.reset",
                                                 "earliest", "isolation.level", "read_committed",
                                                 /* A batch is at most batch_size records: 1 MiB
                                                  * of prefetch (some 4,000 events), refilled in
                                                  * time by the nudges (fetch_nudge.h), keeps it
                                                  * fed; more only costs memory (16 MiB held the
                                                  * RSS at 74 MiB, 4 MiB at 39, 1 MiB at 25). */
                                                 "queued.max.messages.kbytes", "1024", NULL};

        rd_kafka_conf_t *kc = NULL;
        if (metrics &&
            (err = sb_subscriber_metrics_new(metrics, conf->topics, &sub->metrics, errstr, errstr_size)))
                goto fail;
        if ((err = sb_kafka_conf_new(cfg, consumer_defaults, &sub->opaque, &kc, errstr, errstr_size)))
                goto fail;
        rd_kafka_conf_set_rebalance_cb(kc, on_rebalance);
        if (!(sub->rk = rd_kafka_new(RD_KAFKA_CONSUMER, kc, errstr, errstr_size))) {
                rd_kafka_conf_destroy(kc);
                err = SB_ERR_KAFKA;
                goto fail;
        }
        if ((err = sb_dead_letter_new(cfg, conf->dlq_topic, conf->name, log, &sub->dlq, errstr,
                                      errstr_size)) ||
            (err = row_shapes_new(target, conf->transforms, conf->history, &sub->shapes, errstr,
                                  errstr_size)))
                goto fail;
        rd_kafka_poll_set_consumer(sub->rk);
        /* Nudged when a full batch leaves fewer than two batches queued:
         * the fetch then arrives while they are applied. */
        if ((err = fetch_nudge_new(sub->rk, 2 * (size_t)conf->batch_size, 20, &sub->nudge, errstr,
                                   errstr_size)))
                goto fail;
        *out = sub;
        return SB_OK;
fail:
        sb_subscriber_destroy(sub);
        return err;
}

sb_err_t sb_subscriber_run(sb_subscriber_t *sub, volatile sig_atomic_t *stop, char *errstr,
                           size_t errstr_size) {
        rd_kafka_topic_partition_list_t *topics = rd_kafka_topic_partition_list_new(4);
        char *copy = strdup(sub->conf.topics), *save = NULL;
        sb_err_t result = SB_OK;
        sub->stop = stop;
        if (!copy) {
                rd_kafka_topic_partition_list_destroy(topics);
                return sb_seterr(SB_ERR_NOMEM, errstr, errstr_size, "out of memory");
        }
        for (char *t = strtok_r(copy, ", ", &save); t; t = strtok_r(NULL, ", ", &save))
                rd_kafka_topic_partition_list_add(topics, t, RD_KAFKA_PARTITION_UA);
        free(copy);
        rd_kafka_resp_err_t kerr = rd_kafka_subscribe(sub->rk, topics);
        rd_kafka_topic_partition_list_destroy(topics);
        if (kerr)
                return sb_seterr(SB_ERR_KAFKA, errstr, errstr_size, "subscribe: %s", rd_kafka_err2str(kerr));
        SB_LOG(sub->log, SB_LOG_INFO, "subscribed to %s as group %s, dead letters to %s", sub->conf.topics,
               sub->group, sub->conf.dlq_topic);

        sub->last_activity = sb_clock_mono_ms();
        while (!*stop) {
                int timeout = sub->n_batch ? 0 : sub->conf.poll_timeout_ms;
                rd_kafka_message_t *m = rd_kafka_consumer_poll(sub->rk, timeout);
                if (m && (m->err == RD_KAFKA_RESP_ERR_TOPIC_AUTHORIZATION_FAILED ||
                          m->err == RD_KAFKA_RESP_ERR_GROUP_AUTHORIZATION_FAILED)) {
                        /* Not a passing failure: the broker's ACLs say no until they change. */
                        result = sb_seterr(SB_ERR_KAFKA, errstr, errstr_size,
                                           "%s: not authorized (%s): subscriber %s (group %s) may read only "
                                           "the topics its principal's reads name, with groups "
                                           "sharebus.<name> (the principals of broker-config/topics.conf, "
                                           "applied by sharebus-topics)",
                                           rd_kafka_message_errstr(m), rd_kafka_err2name(m->err),
                                           sub->conf.name, sub->group);
                        rd_kafka_message_destroy(m);
                        break;
                }
                if (m && m->err) {
                        if (m->err != RD_KAFKA_RESP_ERR__PARTITION_EOF)
                                SB_LOG(sub->log, SB_LOG_WARN, "consumer: %s", rd_kafka_message_errstr(m));
                        rd_kafka_message_destroy(m);
                        char fatal[256];
                        if (rd_kafka_fatal_error(sub->rk, fatal, sizeof(fatal))) {
                                result = sb_seterr(SB_ERR_KAFKA, errstr, errstr_size, "fatal: %s", fatal);
                                break;
                        }
                        continue;
                }
                if (m) {
                        sub->last_activity = sb_clock_mono_ms();
                        if (sub->n_batch == 0)
                                sub->batch_started = sub->last_activity;
                        sub->batch[sub->n_batch++] = m;
                        sb_subscriber_metrics_consumed(sub->metrics, rd_kafka_topic_name(m->rkt));
                        if (sub->n_batch < (size_t)sub->conf.batch_size)
                                continue;
                }
                if (sub->failed) {
                        result = sb_seterr(sub->failed, errstr, errstr_size, "%s", sub->failure);
                        break;
                }
                if (sub->n_batch) {
                        int full = sub->n_batch == (size_t)sub->conf.batch_size;
                        flush_batch(sub, 1);
                        if (fetch_nudge_after_batch(sub->nudge, full, sub->assigned))
                                sb_subscriber_metrics_nudged(sub->metrics);
                }
                /* Once per batch (or idle poll), not per record. */
                sb_subscriber_metrics_sync(sub->metrics);
                sb_dead_letter_poll(sub->dlq);
                /* Idle only counts while partitions are assigned: a group still
                 * waiting for a departed member's partitions is not done. */
                if (sub->conf.idle_exit_ms > 0 && sub->n_tps > 0 &&
                    sb_clock_mono_ms() - sub->last_activity >= sub->conf.idle_exit_ms) {
                        SB_LOG(sub->log, SB_LOG_INFO, "idle for %d ms: stopping", sub->conf.idle_exit_ms);
                        break;
                }
        }
        if (sub->n_batch)
                flush_batch(sub, 0);
        rd_kafka_consumer_close(sub->rk);
        sb_subscriber_metrics_sync(sub->metrics);
        char why[256];
        if (sb_dead_letter_flush(sub->dlq, 10000, why, sizeof(why)))
                SB_LOG(sub->log, SB_LOG_ERROR, "at stop: %s", why);
        SB_LOG(sub->log, SB_LOG_INFO,
               "stopped: %llu upserts, %llu deletes, %llu tombstones skipped, %llu dead letters, %llu "
               "batches, %llu filtered out by the transforms",
               (unsigned long long)sub->stats.applied, (unsigned long long)sub->stats.deleted,
               (unsigned long long)sub->stats.tombstones, (unsigned long long)sub->stats.dead_lettered,
               (unsigned long long)sub->stats.batches, (unsigned long long)sub->stats.filtered);
        return result;
}

const sb_subscriber_stats_t *sb_subscriber_stats(const sb_subscriber_t *sub) { return &sub->stats; }

void sb_subscriber_destroy(sb_subscriber_t *sub) {
        if (!sub)
                return;
        drop_batch(sub);
        fetch_nudge_destroy(sub->nudge); /* before the consumer it holds a queue of */
        if (sub->rk)
                rd_kafka_destroy(sub->rk);
        sb_dead_letter_destroy(sub->dlq);
        clear_tps(sub);
        row_shapes_destroy(sub->shapes);
        sb_subscriber_metrics_destroy(sub->metrics);
        pthread_mutex_destroy(&sub->health_lock);
        free(sub->batch);
        free(sub);
}

/* ---- the apply path for others (subscriber_apply.h) ---- */

sb_err_t sb_subscriber_applier_new(const sb_subscriber_conf_t *conf, sb_target_t *target,
                                   sb_registry_client_t *registry, sb_log_t *log, sb_subscriber_t **out,
                                   char *errstr, size_t errstr_size) {
        sb_subscriber_t *sub = calloc(1, sizeof(*sub));
        *out = NULL;
        if (!sub || !(sub->batch = calloc(1, sizeof(rd_kafka_message_t *)))) {
                free(sub);
                return sb_seterr(SB_ERR_NOMEM, errstr, errstr_size, "out of memory");
        }
        sub->conf = *conf;
        sub->target = target;
        sub->registry = registry;
        sub->log = log;
        snprintf(sub->group, sizeof(sub->group), "sharebus.%s", conf->name);
        sb_err_t err =
                row_shapes_new(target, conf->transforms, conf->history, &sub->shapes, errstr, errstr_size);
        if (err) {
                sb_subscriber_destroy(sub);
                return err;
        }
        *out = sub;
        return SB_OK;
}

sb_err_t sb_subscriber_apply_once(sb_subscriber_t *sub, const sb_apply_record_t *rec,
                                  sb_apply_counts_t *counts, sb_dl_class_t *cls, char *errstr,
                                  size_t errstr_size) {
        return apply_record(sub, rec, 1, counts, cls, errstr, errstr_size);
}

void sb_subscriber_rolled_back(sb_subscriber_t *sub) { row_shapes_forget_ensured(sub->shapes); }

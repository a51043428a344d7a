#include "topics/topics_admin.h"

#include <librdkafka/rdkafka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sb_clock.h"
#include "sb_kafka.h"
#include "topics/topics_admin_int.h"

#define BATCH TOPICS_ADMIN_BATCH

sb_err_t topics_admin_new(const sb_config_t *cfg, const char *bootstrap, int timeout_ms, sb_log_t *log,
                          topics_admin_t **out, char *errstr, size_t errstr_size) {
        rd_kafka_conf_t *conf = NULL;
        char err[512];
        sb_err_t e;
        *out = NULL;
        topics_admin_t *a = calloc(1, sizeof(*a));
        if (!a)
                return sb_seterr(SB_ERR_NOMEM, errstr, errstr_size, "out of memory");
        a->log = log;
        a->timeout_ms = timeout_ms;
        a->opaque.log = log;
        if ((e = sb_kafka_conf_new(cfg, NULL, &a->opaque, &conf, errstr, errstr_size)))
                goto fail;
        if (bootstrap && *bootstrap &&
            rd_kafka_conf_set(conf, "bootstrap.servers", bootstrap, err, sizeof(err)) != RD_KAFKA_CONF_OK) {
                e = sb_seterr(SB_ERR_CONFIG, errstr, errstr_size, "--bootstrap-servers %s: %s", bootstrap,
                              err);
                goto fail;
        }
        size_t size = sizeof(a->bootstrap);
        if (rd_kafka_conf_get(conf, "bootstrap.servers", a->bootstrap, &size) != RD_KAFKA_CONF_OK ||
            !a->bootstrap[0]) {
                e = sb_seterr(
                        SB_ERR_CONFIG, errstr, errstr_size,
                        "%s: no broker to ask: set kafka = { bootstrap_servers = \"host:port\"; }; or give "
                        "--bootstrap-servers",
                        sb_config_origin(cfg));
                goto fail;
        }
        if (!(a->rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, err, sizeof(err)))) {
                e = sb_seterr(SB_ERR_KAFKA, errstr, errstr_size, "cannot make a Kafka client: %s", err);
                goto fail;
        }
        conf = NULL; /* rd_kafka_new took it */
        if (!(a->q = rd_kafka_queue_new(a->rk))) {
                e = sb_seterr(SB_ERR_NOMEM, errstr, errstr_size, "out of memory");
                goto fail;
        }
        *out = a;
        return SB_OK;
fail:
        if (conf)
                rd_kafka_conf_destroy(conf);
        topics_admin_destroy(a);
        return e;
}

void topics_admin_destroy(topics_admin_t *a) {
        if (!a)
                return;
        if (a->q)
                rd_kafka_queue_destroy(a->q);
        if (a->rk)
                rd_kafka_destroy(a->rk);
        free(a);
}

const char *topics_admin_bootstrap(const topics_admin_t *a) { return a->bootstrap; }

rd_kafka_AdminOptions_t *topics_admin_options(topics_admin_t *a, rd_kafka_admin_op_t op, int validate) {
        char err[256];
        rd_kafka_AdminOptions_t *o = rd_kafka_AdminOptions_new(a->rk, op);
        if (!o)
                return NULL;
        int ok = rd_kafka_AdminOptions_set_request_timeout(o, a->timeout_ms, err, sizeof(err)) == 0;
        if (ok && (op == RD_KAFKA_ADMIN_OP_CREATETOPICS || op == RD_KAFKA_ADMIN_OP_DELETETOPICS ||
                   op == RD_KAFKA_ADMIN_OP_CREATEPARTITIONS))
                ok = rd_kafka_AdminOptions_set_operation_timeout(o, a->timeout_ms, err, sizeof(err)) == 0;
        if (ok && validate)
                ok = rd_kafka_AdminOptions_set_validate_only(o, 1, err, sizeof(err)) == 0;
        if (!ok) {
                SB_LOG(a->log, SB_LOG_ERROR, "admin options: %s", err);
                rd_kafka_AdminOptions_destroy(o);
                return NULL;
        }
        return o;
}

rd_kafka_event_t *topics_admin_result(topics_admin_t *a, rd_kafka_event_type_t type, const char *what,
                                      rd_kafka_resp_err_t *code, char *errstr, size_t errstr_size) {
        int64_t deadline = sb_clock_mono_ms() + a->timeout_ms + 5000;
        for (;;) {
                int64_t left = deadline - sb_clock_mono_ms();
                rd_kafka_event_t *ev = left > 0 ? rd_kafka_queue_poll(a->q, (int)left) : NULL;
                if (code)
                        *code = ev ? rd_kafka_event_error(ev) : RD_KAFKA_RESP_ERR__TIMED_OUT;
                if (!ev) {
                        sb_seterr(SB_ERR_KAFKA, errstr, errstr_size, "%s at %s: no answer within %d ms", what,
                                  a->bootstrap, a->timeout_ms);
                        return NULL;
                }
                if (rd_kafka_event_type(ev) != type) {
                        rd_kafka_event_destroy(ev); /* a stray error or log event: not ours */
                        continue;
                }
                if (rd_kafka_event_error(ev)) {
                        sb_seterr(SB_ERR_KAFKA, errstr, errstr_size, "%s at %s: %s", what, a->bootstrap,
                                  rd_kafka_event_error_string(ev));
                        rd_kafka_event_destroy(ev);
                        return NULL;
                }
                return ev;
        }
}

/* ---- describe ---- */

static sb_err_t read_metadata(topics_admin_t *a, topics_set_t *set, char *errstr, size_t errstr_size) {
        const struct rd_kafka_metadata *md = NULL;
        rd_kafka_resp_err_t err = rd_kafka_metadata(a->rk, 1, NULL, &md, a->timeout_ms);
        if (err)
                return sb_seterr(SB_ERR_KAFKA, errstr, errstr_size, "the cluster at %s did not answer: %s",
                                 a->bootstrap, rd_kafka_err2str(err));
        sb_err_t e = SB_OK;
        for (int i = 0; !e && i < md->topic_cnt; i++) {
                const struct rd_kafka_metadata_topic *t = &md->topics[i];
                if (t->err == RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART)
                        continue; /* on its way out */
                int rf = 0;
                for (int p = 0; p < t->partition_cnt; p++)
                        if (t->partitions[p].replica_cnt > rf)
                                rf = t->partitions[p].replica_cnt;
                e = topics_set_add(set, t->topic, t->partition_cnt, rf, 0, NULL, errstr, errstr_size);
        }
        rd_kafka_metadata_destroy(md);
        return e;
}

/* The dynamic configs of the `n` topics of `set` at `idx`, one request. */
static sb_err_t describe_configs(topics_admin_t *a, topics_set_t *set, const size_t *idx, size_t n,
                                 char *errstr, size_t errstr_size) {
        rd_kafka_ConfigResource_t *res[BATCH];
        for (size_t i = 0; i < n; i++)
                if (!(res[i] = rd_kafka_ConfigResource_new(RD_KAFKA_RESOURCE_TOPIC,
                                                           topics_set_at(set, idx[i])->name))) {
                        rd_kafka_ConfigResource_destroy_array(res, i);
                        return sb_seterr(SB_ERR_NOMEM, errstr, errstr_size, "out of memory");
                }
        rd_kafka_AdminOptions_t *o = topics_admin_options(a, RD_KAFKA_ADMIN_OP_DESCRIBECONFIGS, 0);
        rd_kafka_DescribeConfigs(a->rk, res, n, o, a->q);
        rd_kafka_ConfigResource_destroy_array(res, n);
        if (o)
                rd_kafka_AdminOptions_destroy(o);
        rd_kafka_event_t *ev = topics_admin_result(a, RD_KAFKA_EVENT_DESCRIBECONFIGS_RESULT,
                                                   "DescribeConfigs", NULL, errstr, errstr_size);
        if (!ev)
                return SB_ERR_KAFKA;
        size_t cnt;
        const rd_kafka_ConfigResource_t **rr =
                rd_kafka_DescribeConfigs_result_resources(rd_kafka_event_DescribeConfigs_result(ev), &cnt);
        sb_err_t e = SB_OK;
        for (size_t r = 0; !e && r < cnt; r++) {
                const char *name = rd_kafka_ConfigResource_name(rr[r]);
                rd_kafka_resp_err_t err = rd_kafka_ConfigResource_error(rr[r]);
                if (err == RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART)
                        continue; /* deleted since the metadata came */
                if (err) {
                        e = sb_seterr(SB_ERR_KAFKA, errstr, errstr_size, "DescribeConfigs of topic %s: %s",
                                      name, rd_kafka_ConfigResource_error_string(rr[r]));
                        break;
                }
                size_t k = 0;
                while (k < n && strcmp(topics_set_at(set, idx[k])->name, name) != 0)
                        k++;
                if (k == n)
                        continue; /* not asked for */
                size_t m;
                const rd_kafka_ConfigEntry_t **ce = rd_kafka_ConfigResource_configs(rr[r], &m);
                for (size_t j = 0; !e && j < m; j++) {
                        const char *v = rd_kafka_ConfigEntry_value(ce[j]);
                        if (rd_kafka_ConfigEntry_source(ce[j]) == RD_KAFKA_CONFIG_SOURCE_DYNAMIC_TOPIC_CONFIG)
                                e = topics_set_add_config(set, idx[k], rd_kafka_ConfigEntry_name(ce[j]),
                                                          v ? v : "", 0, errstr, errstr_size);
                }
        }
        rd_kafka_event_destroy(ev);
        return e;
}

sb_err_t topics_admin_describe(topics_admin_t *a, const topics_set_t *want, topics_set_t **out, char *errstr,
                               size_t errstr_size) {
        topics_set_t *set;
        size_t idx[BATCH], n = 0;
        sb_err_t e;
        *out = NULL;
        if ((e = topics_set_new(&set, errstr, errstr_size)))
                return e;
        if ((e = read_metadata(a, set, errstr, errstr_size)))
                goto fail;
        topics_set_sort(set, NULL, NULL); /* the metadata names a topic once */
        for (size_t i = 0; i < topics_set_count(set); i++) {
                if (want && !topics_set_find(want, topics_set_at(set, i)->name))
                        continue;
                idx[n++] = i;
                if (n == BATCH) {
                        if ((e = describe_configs(a, set, idx, n, errstr, errstr_size)))
                                goto fail;
                        n = 0;
                }
        }
        if (n && (e = describe_configs(a, set, idx, n, errstr, errstr_size)))
                goto fail;
        *out = set;
        return SB_OK;
fail:
        topics_set_destroy(set);
        return e;
}

/* ---- apply ---- */

/* Logs the broker's refusal of `c` and keeps the first in errstr. */
static void refused(topics_admin_t *a, const topics_change_t *c, const char *origin, const char *what,
                    const char *why, int *failures, char *errstr, size_t errstr_size) {
        char where[300] = "";
        if (c->want && c->want->line)
                snprintf(where, sizeof(where), "%s:%d: ", origin, c->want->line);
        /* The first goes to errstr (the caller reports it), the others to the log. */
        if (!(*failures)++)
                sb_seterr(SB_ERR_KAFKA, errstr, errstr_size, "%stopic %s: the broker refused %s: %s", where,
                          c->topic, what, why);
        else
                SB_LOG(a->log, SB_LOG_ERROR, "%stopic %s: the broker refused %s: %s", where, c->topic, what,
                       why);
}

/* The change in `v` of topic `name`. */
static const topics_change_t *find(const topics_change_t *const *v, size_t n, const char *name) {
        for (size_t i = 0; i < n; i++)
                if (strcmp(v[i]->topic, name) == 0)
                        return v[i];
        return NULL;
}

typedef enum { STEP_DELETE, STEP_CREATE, STEP_PARTITIONS, STEP_CONFIGS } step_t;

static const char *const step_names[] = {"DeleteTopics", "CreateTopics", "CreatePartitions", "AlterConfigs"};

/* Sends step `s` for the `n` (<= BATCH) changes of `v`, validate_only or
 * for real.  Counts refusals in *failures; topics a recreate could not
 * create yet (the deletion still under way) go to again/n_again. */
static sb_err_t send_step(topics_admin_t *a, step_t s, const topics_change_t *const *v, size_t n,
                          int validate, const char *origin, int *failures, const topics_change_t **again,
                          size_t *n_again, char *errstr, size_t errstr_size) {
        static const rd_kafka_admin_op_t ops[] = {
                RD_KAFKA_ADMIN_OP_DELETETOPICS, RD_KAFKA_ADMIN_OP_CREATETOPICS,
                RD_KAFKA_ADMIN_OP_CREATEPARTITIONS, RD_KAFKA_ADMIN_OP_ALTERCONFIGS};
        static const rd_kafka_event_type_t types[] = {
                RD_KAFKA_EVENT_DELETETOPICS_RESULT, RD_KAFKA_EVENT_CREATETOPICS_RESULT,
                RD_KAFKA_EVENT_CREATEPARTITIONS_RESULT, RD_KAFKA_EVENT_ALTERCONFIGS_RESULT};
        void *items[BATCH];
        char err[512];
        size_t made = 0;
        sb_err_t e = SB_OK;
        for (; made < n; made++) {
                const topics_change_t *c = v[made];
                switch (s) {
                case STEP_DELETE: items[made] = rd_kafka_DeleteTopic_new(c->topic); break;
                case STEP_CREATE: {
                        rd_kafka_NewTopic_t *nt = rd_kafka_NewTopic_new(
                                c->topic, c->want->partitions, c->want->replication_factor, err, sizeof(err));
                        for (size_t k = 0; nt && k < c->want->n_configs; k++)
                                if (rd_kafka_NewTopic_set_config(nt, c->want->configs[k].name,
                                                                 c->want->configs[k].value)) {
                                        rd_kafka_NewTopic_destroy(nt);
                                        nt = NULL;
                                        snprintf(err, sizeof(err), "config %s", c->want->configs[k].name);
                                }
                        items[made] = nt;
                        break;
                }
                case STEP_PARTITIONS:
                        items[made] = rd_kafka_NewPartitions_new(c->topic, (size_t)c->want->partitions, err,
                                                                 sizeof(err));
                        break;
                case STEP_CONFIGS: {
                        rd_kafka_ConfigResource_t *r =
                                rd_kafka_ConfigResource_new(RD_KAFKA_RESOURCE_TOPIC, c->topic);
                        /* The whole declared set: AlterConfigs resets what it is not sent. */
                        for (size_t k = 0; r && k < c->want->n_configs; k++)
                                if (rd_kafka_ConfigResource_set_config(r, c->want->configs[k].name,
                                                                       c->want->configs[k].value)) {
                                        rd_kafka_ConfigResource_destroy(r);
                                        r = NULL;
                                }
                        items[made] = r;
                        break;
                }
                }
                if (!items[made]) {
                        e = sb_seterr(SB_ERR_INVALID, errstr, errstr_size, "topic %s: %s", c->topic, err);
                        break;
                }
        }
        rd_kafka_AdminOptions_t *o = e ? NULL : topics_admin_options(a, ops[s], validate);
        if (!e && !o)
                e = sb_seterr(SB_ERR_NOMEM, errstr, errstr_size, "cannot set the request's options");
        if (!e) {
                switch (s) {
                case STEP_DELETE:
                        rd_kafka_DeleteTopics(a->rk, (rd_kafka_DeleteTopic_t **)items, n, o, a->q);
                        break;
                case STEP_CREATE:
                        rd_kafka_CreateTopics(a->rk, (rd_kafka_NewTopic_t **)items, n, o, a->q);
                        break;
                case STEP_PARTITIONS:
                        rd_kafka_CreatePartitions(a->rk, (rd_kafka_NewPartitions_t **)items, n, o, a->q);
                        break;
                case STEP_CONFIGS:
                        rd_kafka_AlterConfigs(a->rk, (rd_kafka_ConfigResource_t **)items, n, o, a->q);
                        break;
                }
        }
        if (o)
                rd_kafka_AdminOptions_destroy(o);
        for (size_t i = 0; i < made; i++) {
                switch (s) {
                case STEP_DELETE: rd_kafka_DeleteTopic_destroy(items[i]); break;
                case STEP_CREATE: rd_kafka_NewTopic_destroy(items[i]); break;
                case STEP_PARTITIONS: rd_kafka_NewPartitions_destroy(items[i]); break;
                case STEP_CONFIGS: rd_kafka_ConfigResource_destroy(items[i]); break;
                }
        }
        if (e)
                return e;
        rd_kafka_event_t *ev = topics_admin_result(a, types[s], step_names[s], NULL, errstr, errstr_size);
        if (!ev)
                return SB_ERR_KAFKA;
        size_t cnt = 0;
        if (s == STEP_CONFIGS) {
                const rd_kafka_ConfigResource_t **rr =
                        rd_kafka_AlterConfigs_result_resources(rd_kafka_event_AlterConfigs_result(ev), &cnt);
                for (size_t i = 0; i < cnt; i++) {
                        const topics_change_t *c = find(v, n, rd_kafka_ConfigResource_name(rr[i]));
                        if (c && rd_kafka_ConfigResource_error(rr[i]))
                                refused(a, c, origin, step_names[s],
                                        rd_kafka_ConfigResource_error_string(rr[i]), failures, errstr,
                                        errstr_size);
                }
        } else {
                const rd_kafka_topic_result_t **tr =
                        s == STEP_DELETE ? rd_kafka_DeleteTopics_result_topics(
                                                   rd_kafka_event_DeleteTopics_result(ev), &cnt)
                        : s == STEP_CREATE ? rd_kafka_CreateTopics_result_topics(
                                                     rd_kafka_event_CreateTopics_result(ev), &cnt)
                                           : rd_kafka_CreatePartitions_result_topics(
                                                     rd_kafka_event_CreatePartitions_result(ev), &cnt);
                for (size_t i = 0; i < cnt; i++) {
                        const topics_change_t *c = find(v, n, rd_kafka_topic_result_name(tr[i]));
                        rd_kafka_resp_err_t err_code = rd_kafka_topic_result_error(tr[i]);
                        const char *why = rd_kafka_topic_result_error_string(tr[i]);
                        if (!c || !err_code ||
                            (s == STEP_DELETE && err_code == RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART))
                                continue;
                        if (s == STEP_CREATE && !validate && c->op == TOPICS_OP_RECREATE &&
                            err_code == RD_KAFKA_RESP_ERR_TOPIC_ALREADY_EXISTS && again)
                                again[(*n_again)++] = c;
                        else
                                refused(a, c, origin, step_names[s], why ? why : rd_kafka_err2str(err_code),
                                        failures, errstr, errstr_size);
                }
        }
        rd_kafka_event_destroy(ev);
        return SB_OK;
}

/* Step `s` for every change of `plan` that needs it, BATCH at a time. */
static sb_err_t step(topics_admin_t *a, const topics_plan_t *plan, step_t s, int validate, const char *origin,
                     int *failures, char *errstr, size_t errstr_size) {
        const topics_change_t *v[BATCH], *again[BATCH];
        size_t n = 0, total = topics_plan_count(plan);
        sb_err_t e;
        for (size_t i = 0; i <= total; i++) {
                const topics_change_t *c = topics_plan_at(plan, i);
                int wanted =
                        c &&
                        ((s == STEP_DELETE && (c->op == TOPICS_OP_DELETE || c->op == TOPICS_OP_RECREATE)) ||
                         (s == STEP_CREATE &&
                          (c->op == TOPICS_OP_CREATE || (c->op == TOPICS_OP_RECREATE && !validate))) ||
                         (s == STEP_PARTITIONS && c->op == TOPICS_OP_UPDATE && c->add_partitions) ||
                         (s == STEP_CONFIGS && c->op == TOPICS_OP_UPDATE && c->n_configs));
                if (wanted) {
                        v[n++] = c;
                        if (!validate)
                                SB_LOG(a->log, SB_LOG_INFO, "%s %s", step_names[s], c->topic);
                }
                if (n == 0 || (n < BATCH && i < total))
                        continue;
                /* A topic deleted a moment ago may still be on its way out:
                 * its creation is tried again until the timeout. */
                int64_t deadline = sb_clock_mono_ms() + a->timeout_ms;
                for (;;) {
                        size_t n_again = 0;
                        if ((e = send_step(a, s, v, n, validate, origin, failures, again, &n_again, errstr,
                                           errstr_size)))
                                return e;
                        if (!n_again)
                                break;
                        if (sb_clock_mono_ms() > deadline) {
                                for (size_t k = 0; k < n_again; k++)
                                        refused(a, again[k], origin, step_names[s],
                                                "the topic deleted a moment ago is still there", failures,
                                                errstr, errstr_size);
                                break;
                        }
                        sb_clock_sleep_ms(300);
                        memcpy(v, again, n_again * sizeof(const topics_change_t *));
                        n = n_again;
                }
                n = 0;
        }
        return SB_OK;
}

/* Waits until the cluster no longer lists a topic `plan` deletes. */
static sb_err_t wait_deleted(topics_admin_t *a, const topics_plan_t *plan, char *errstr, size_t errstr_size) {
        int64_t deadline = sb_clock_mono_ms() + a->timeout_ms;
        for (;;) {
                topics_set_t *now;
                sb_err_t e = topics_set_new(&now, errstr, errstr_size);
                if (e || (e = read_metadata(a, now, errstr, errstr_size))) {
                        topics_set_destroy(now);
                        return e;
                }
                const char *left = NULL;
                for (size_t i = 0; !left && i < topics_plan_count(plan); i++) {
                        const topics_change_t *c = topics_plan_at(plan, i);
                        if ((c->op == TOPICS_OP_DELETE || c->op == TOPICS_OP_RECREATE) &&
                            topics_set_find(now, c->topic))
                                left = c->topic;
                }
                char name[TOPICS_NAME_MAX + 1];
                snprintf(name, sizeof(name), "%s", left ? left : "");
                topics_set_destroy(now);
                if (!left)
                        return SB_OK;
                if (sb_clock_mono_ms() > deadline)
                        return sb_seterr(SB_ERR_KAFKA, errstr, errstr_size,
                                         "topic %s is still listed %d ms after it was deleted", name,
                                         a->timeout_ms);
                sb_clock_sleep_ms(200);
        }
}

sb_err_t topics_admin_apply(topics_admin_t *a, const topics_plan_t *plan, const char *origin, char *errstr,
                            size_t errstr_size) {
        int failures = 0;
        sb_err_t e;
        if (topics_plan_tally(plan, TOPICS_OP_REFUSED))
                return sb_seterr(SB_ERR_INVALID, errstr, errstr_size,
                                 "the plan holds %zu refused changes: nothing is applied",
                                 topics_plan_tally(plan, TOPICS_OP_REFUSED));
        /* First the broker's opinion of every value, changing nothing. */
        for (step_t s = STEP_CREATE; s <= STEP_CONFIGS; s++)
                if ((e = step(a, plan, s, 1, origin, &failures, errstr, errstr_size)))
                        return e;
        if (failures)
                return SB_ERR_KAFKA; /* each logged, the first in errstr */
        if ((e = step(a, plan, STEP_DELETE, 0, origin, &failures, errstr, errstr_size)) ||
            (!failures && (e = wait_deleted(a, plan, errstr, errstr_size))))
                return e;
        for (step_t s = STEP_CREATE; !failures && s <= STEP_CONFIGS; s++)
                if ((e = step(a, plan, s, 0, origin, &failures, errstr, errstr_size)))
                        return e;
        return failures ? SB_ERR_KAFKA : SB_OK;
}

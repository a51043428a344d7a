#include "lag/lag_sampler.h"

#include <librdkafka/rdkafka.h>
#include <stdlib.h>
#include <string.h>

#include "sb_clock.h"
#include "sb_kafka.h"

struct lag_sampler_s {
        rd_kafka_t *rk;
        rd_kafka_queue_t *queue;
        char *groups; /* owned; NULL: all */
        int timeout_ms;
        sb_log_t *log;
        sb_kafka_opaque_t opaque;
};

sb_err_t lag_sampler_new(const sb_config_t *cfg, const char *groups, int timeout_ms, sb_log_t *log,
                         lag_sampler_t **out, char *errstr, size_t errstr_size) {
        lag_sampler_t *s = calloc(1, sizeof(*s));
        rd_kafka_conf_t *kc = NULL;
        sb_err_t err;
        *out = NULL;
        if (!s || (groups && *groups && !(s->groups = strdup(groups)))) {
                free(s);
                return sb_seterr(SB_ERR_NOMEM, errstr, errstr_size, "out of memory");
        }
        s->timeout_ms = timeout_ms;
        s->log = log;
        s->opaque.log = log;
        s->opaque.app = s;
        /* No group of its own: it only asks. */
        if ((err = sb_kafka_conf_new(cfg, NULL, &s->opaque, &kc, errstr, errstr_size))) {
                lag_sampler_destroy(s);
                return err;
        }
        /* Its consumer reads one record a partition for its time
         * (lag_sampler_record_times): small fetches, and a small queue. */
        if (rd_kafka_conf_set(kc, "fetch.message.max.bytes", "1024", errstr, errstr_size) ||
            rd_kafka_conf_set(kc, "queued.max.messages.kbytes", "64", errstr, errstr_size) ||
            rd_kafka_conf_set(kc, "enable.auto.commit", "false", errstr, errstr_size)) {
                rd_kafka_conf_destroy(kc);
                lag_sampler_destroy(s);
                return SB_ERR_CONFIG;
        }
        if (!(s->rk = rd_kafka_new(RD_KAFKA_CONSUMER, kc, errstr, errstr_size))) {
                rd_kafka_conf_destroy(kc);
                lag_sampler_destroy(s);
                return SB_ERR_KAFKA;
        }
        if (!(s->queue = rd_kafka_queue_new(s->rk))) {
                lag_sampler_destroy(s);
                return sb_seterr(SB_ERR_NOMEM, errstr, errstr_size, "out of memory");
        }
        *out = s;
        return SB_OK;
}

void lag_sampler_destroy(lag_sampler_t *s) {
        if (!s)
                return;
        if (s->queue)
                rd_kafka_queue_destroy(s->queue);
        if (s->rk)
                rd_kafka_destroy(s->rk);
        free(s->groups);
        free(s);
}

/* 1 if group `id` is one of the configured ones (all when none are). */
static int wanted(const lag_sampler_t *s, const char *id) {
        if (!s->groups)
                return 1;
        size_t n = strlen(id);
        for (const char *p = s->groups; *p;) {
                while (*p == ',' || *p == ' ')
                        p++;
                size_t len = strcspn(p, ", ");
                if (len == n && strncmp(p, id, n) == 0)
                        return 1;
                p += len;
        }
        return 0;
}

typedef struct {
        char *id;
        const char *state;
        rd_kafka_topic_partition_list_t *parts; /* committed offsets; NULL with error */
        char error[256];
} group_t;

static void groups_free(group_t *g, size_t n) {
        for (size_t i = 0; i < n; i++) {
                free(g[i].id);
                if (g[i].parts)
                        rd_kafka_topic_partition_list_destroy(g[i].parts);
        }
        free(g);
}

/* Waits for the result event of type `type`; NULL after the timeout. */
static rd_kafka_event_t *wait_result(lag_sampler_t *s, rd_kafka_event_type_t type) {
        for (int waited = 0; waited <= s->timeout_ms + 1000; waited += 100) {
                rd_kafka_event_t *ev = rd_kafka_queue_poll(s->queue, 100);
                if (ev && rd_kafka_event_type(ev) == type)
                        return ev;
                if (ev)
                        rd_kafka_event_destroy(ev);
        }
        return NULL;
}

static sb_err_t list_groups(lag_sampler_t *s, group_t **out, size_t *n_out, char *errstr,
                            size_t errstr_size) {
        char why[512];
        rd_kafka_AdminOptions_t *o = rd_kafka_AdminOptions_new(s->rk, RD_KAFKA_ADMIN_OP_LISTCONSUMERGROUPS);
        rd_kafka_AdminOptions_set_request_timeout(o, s->timeout_ms, why, sizeof(why));
        rd_kafka_ListConsumerGroups(s->rk, o, s->queue);
        rd_kafka_AdminOptions_destroy(o);
        rd_kafka_event_t *ev = wait_result(s, RD_KAFKA_EVENT_LISTCONSUMERGROUPS_RESULT);
        *out = NULL;
        *n_out = 0;
        if (!ev)
                return sb_seterr(SB_ERR_KAFKA, errstr, errstr_size, "listing the consumer groups: timed out");
        if (rd_kafka_event_error(ev)) {
                sb_err_t err = sb_seterr(SB_ERR_KAFKA, errstr, errstr_size, "listing the consumer groups: %s",
                                         rd_kafka_event_error_string(ev));
                rd_kafka_event_destroy(ev);
                return err;
        }
        const rd_kafka_ListConsumerGroups_result_t *res = rd_kafka_event_ListConsumerGroups_result(ev);
        size_t cnt = 0, n = 0;
        const rd_kafka_ConsumerGroupListing_t **gl = rd_kafka_ListConsumerGroups_result_valid(res, &cnt);
        size_t watched = 0;
        for (size_t i = 0; i < cnt; i++)
                watched += (size_t)wanted(s, rd_kafka_ConsumerGroupListing_group_id(gl[i]));
        if (watched > LAG_SAMPLER_MAX_GROUPS) {
                rd_kafka_event_destroy(ev);
                return sb_seterr(SB_ERR_INVALID, errstr, errstr_size,
                                 "%zu consumer groups: more than the %d a sample takes; name the groups to "
                                 "watch (setting groups)",
                                 watched, LAG_SAMPLER_MAX_GROUPS);
        }
        group_t *g = calloc(watched ? watched : 1, sizeof(*g));
        if (!g) {
                rd_kafka_event_destroy(ev);
                return sb_seterr(SB_ERR_NOMEM, errstr, errstr_size, "out of memory");
        }
        for (size_t i = 0; i < cnt; i++) {
                const char *id = rd_kafka_ConsumerGroupListing_group_id(gl[i]);
                if (!wanted(s, id))
                        continue;
                if (!(g[n].id = strdup(id))) {
                        groups_free(g, n);
                        rd_kafka_event_destroy(ev);
                        return sb_seterr(SB_ERR_NOMEM, errstr, errstr_size, "out of memory");
                }
                g[n++].state = rd_kafka_consumer_group_state_name(rd_kafka_ConsumerGroupListing_state(gl[i]));
        }
        rd_kafka_event_destroy(ev);
        *out = g;
        *n_out = n;
        return SB_OK;
}

/* The committed offsets of every group, all asked at once. */
static void group_offsets(lag_sampler_t *s, group_t *g, size_t n) {
        char why[512];
        for (size_t i = 0; i < n; i++) {
                rd_kafka_ListConsumerGroupOffsets_t *req =
                        rd_kafka_ListConsumerGroupOffsets_new(g[i].id, NULL);
                rd_kafka_AdminOptions_t *o =
                        rd_kafka_AdminOptions_new(s->rk, RD_KAFKA_ADMIN_OP_LISTCONSUMERGROUPOFFSETS);
                rd_kafka_AdminOptions_set_request_timeout(o, s->timeout_ms, why, sizeof(why));
                rd_kafka_AdminOptions_set_opaque(o, &g[i]); /* which group a failed answer is of */
                rd_kafka_ListConsumerGroupOffsets(s->rk, &req, 1, o, s->queue);
                rd_kafka_AdminOptions_destroy(o);
                rd_kafka_ListConsumerGroupOffsets_destroy(req);
                snprintf(g[i].error, sizeof(g[i].error), "its committed offsets did not come in time");
        }
        for (size_t got = 0; got < n; got++) {
                rd_kafka_event_t *ev = wait_result(s, RD_KAFKA_EVENT_LISTCONSUMERGROUPOFFSETS_RESULT);
                if (!ev)
                        break;
                const rd_kafka_ListConsumerGroupOffsets_result_t *res =
                        rd_kafka_event_ListConsumerGroupOffsets_result(ev);
                size_t cnt = 0;
                const rd_kafka_group_result_t **gr =
                        res ? rd_kafka_ListConsumerGroupOffsets_result_groups(res, &cnt) : NULL;
                for (size_t k = 0; k < cnt; k++) {
                        const char *name = rd_kafka_group_result_name(gr[k]);
                        for (size_t i = 0; i < n; i++) {
                                if (strcmp(g[i].id, name) != 0)
                                        continue;
                                const rd_kafka_error_t *e = rd_kafka_group_result_error(gr[k]);
                                const rd_kafka_topic_partition_list_t *p =
                                        rd_kafka_group_result_partitions(gr[k]);
                                if (e)
                                        snprintf(g[i].error, sizeof(g[i].error), "%s",
                                                 rd_kafka_error_string(e));
                                else if (p && (g[i].parts = rd_kafka_topic_partition_list_copy(p)))
                                        g[i].error[0] = '\0';
                        }
                }
                group_t *asked = rd_kafka_event_opaque(ev);
                if (!cnt && rd_kafka_event_error(ev) && asked >= g && asked < g + n)
                        snprintf(asked->error, sizeof(asked->error), "%s", rd_kafka_event_error_string(ev));
                rd_kafka_event_destroy(ev);
        }
}

sb_err_t lag_sampler_sample(lag_sampler_t *s, lag_sampler_cb cb, void *opaque, char *errstr,
                            size_t errstr_size) {
        group_t *g;
        size_t n;
        sb_err_t err = list_groups(s, &g, &n, errstr, errstr_size);
        if (err)
                return err;
        group_offsets(s, g, n);
        /* The log end offsets of every partition met, in one call. */
        size_t pairs = 0;
        for (size_t i = 0; i < n; i++)
                pairs += g[i].parts ? (size_t)g[i].parts->cnt : 0;
        if (pairs > LAG_SAMPLER_MAX_PARTITIONS) {
                groups_free(g, n);
                return sb_seterr(SB_ERR_INVALID, errstr, errstr_size,
                                 "%zu partitions of groups: more than the %d a sample takes; name the groups "
                                 "to watch (setting groups)",
                                 pairs, LAG_SAMPLER_MAX_PARTITIONS);
        }
        rd_kafka_topic_partition_list_t *ends = rd_kafka_topic_partition_list_new((int)(pairs ? pairs : 1));
        for (size_t i = 0; i < n; i++)
                for (int k = 0; g[i].parts && k < g[i].parts->cnt; k++) {
                        const rd_kafka_topic_partition_t *p = &g[i].parts->elems[k];
                        if (!rd_kafka_topic_partition_list_find(ends, p->topic, p->partition))
                                rd_kafka_topic_partition_list_add(ends, p->topic, p->partition)->offset =
                                        RD_KAFKA_OFFSET_END;
                }
        rd_kafka_resp_err_t kerr = ends->cnt ? rd_kafka_offsets_for_times(s->rk, ends, s->timeout_ms)
                                             : RD_KAFKA_RESP_ERR_NO_ERROR;
        for (size_t i = 0; i < n; i++) {
                lag_offsets_t o = {g[i].id, g[i].state, NULL, -1, -1, -1, g[i].error[0] ? g[i].error : NULL};
                if (!g[i].parts) {
                        cb(opaque, &o);
                        continue;
                }
                for (int k = 0; k < g[i].parts->cnt; k++) {
                        const rd_kafka_topic_partition_t *p = &g[i].parts->elems[k];
                        const rd_kafka_topic_partition_t *e =
                                rd_kafka_topic_partition_list_find(ends, p->topic, p->partition);
                        o.topic = p->topic;
                        o.partition = p->partition;
                        o.committed = p->offset >= 0 ? p->offset : -1;
                        o.error = p->err ? rd_kafka_err2str(p->err) : NULL;
                        o.log_end = -1;
                        if (kerr)
                                o.error = rd_kafka_err2str(kerr);
                        else if (e && e->err)
                                o.error = rd_kafka_err2str(e->err);
                        else if (e)
                                o.log_end = e->offset;
                        cb(opaque, &o);
                }
        }
        rd_kafka_topic_partition_list_destroy(ends);
        groups_free(g, n);
        return SB_OK;
}

/* The offsets of every partition of `parts` at `when` (a timestamp, or
 * RD_KAFKA_OFFSET_END), into a new list the caller destroys. */
static rd_kafka_resp_err_t offsets_at(lag_sampler_t *s, const rd_kafka_topic_partition_list_t *parts,
                                      int64_t when, rd_kafka_topic_partition_list_t **out) {
        *out = rd_kafka_topic_partition_list_copy(parts);
        for (int i = 0; i < (*out)->cnt; i++)
                (*out)->elems[i].offset = when;
        return rd_kafka_offsets_for_times(s->rk, *out, s->timeout_ms);
}

/* Records between the offset for a time and the log end: none when no
 * record is that recent (librdkafka answers -1, the end). */
static int64_t appended_since(const rd_kafka_topic_partition_t *at, const rd_kafka_topic_partition_t *end) {
        if (at->err || end->err || end->offset < 0)
                return -1;
        return at->offset < 0 ? 0 : end->offset - at->offset;
}

sb_err_t lag_sampler_count_topics(lag_sampler_t *s, int64_t now_ms, lag_sampler_topic_cb cb, void *opaque,
                                  char *errstr, size_t errstr_size) {
        const struct rd_kafka_metadata *md = NULL;
        rd_kafka_resp_err_t kerr = rd_kafka_metadata(s->rk, 1, NULL, &md, s->timeout_ms);
        if (kerr)
                return sb_seterr(SB_ERR_KAFKA, errstr, errstr_size, "listing the topics: %s",
                                 rd_kafka_err2str(kerr));
        size_t pairs = 0;
        for (int t = 0; t < md->topic_cnt; t++)
                pairs += (size_t)md->topics[t].partition_cnt;
        if (md->topic_cnt > LAG_SAMPLER_MAX_TOPICS || pairs > LAG_SAMPLER_MAX_PARTITIONS) {
                int n = md->topic_cnt;
                rd_kafka_metadata_destroy(md);
                return sb_seterr(SB_ERR_INVALID, errstr, errstr_size,
                                 "%d topics, %zu partitions: more than the %d and %d a count takes", n, pairs,
                                 LAG_SAMPLER_MAX_TOPICS, LAG_SAMPLER_MAX_PARTITIONS);
        }
        rd_kafka_topic_partition_list_t *parts = rd_kafka_topic_partition_list_new((int)(pairs ? pairs : 1));
        for (int t = 0; t < md->topic_cnt; t++) {
                const rd_kafka_metadata_topic_t *mt = &md->topics[t];
                if (mt->err || strncmp(mt->topic, "__", 2) == 0)
                        continue;
                for (int p = 0; p < mt->partition_cnt; p++)
                        rd_kafka_topic_partition_list_add(parts, mt->topic, mt->partitions[p].id);
        }
        /* The rounds: [0] the end, [1] an hour ago, [2] a day ago, [3] the
         * earliest (the first record at or after time 0). */
        const int64_t when[4] = {RD_KAFKA_OFFSET_END, now_ms - 3600 * 1000, now_ms - 24 * 3600 * 1000, 0};
        rd_kafka_topic_partition_list_t *at[4] = {NULL};
        rd_kafka_resp_err_t round_err = RD_KAFKA_RESP_ERR_NO_ERROR;
        for (int r = 0; r < 4 && parts->cnt; r++) {
                rd_kafka_resp_err_t e = offsets_at(s, parts, when[r], &at[r]);
                if (e && !round_err)
                        round_err = e;
        }
        /* The copies keep the order of `parts`: entry k of each is the
         * k-th partition added above. */
        int k = 0;
        for (int t = 0; t < md->topic_cnt; t++) {
                const rd_kafka_metadata_topic_t *mt = &md->topics[t];
                if (strncmp(mt->topic, "__", 2) == 0)
                        continue;
                lag_topic_count_t c = {.topic = mt->topic,
                                       .partitions = mt->partition_cnt,
                                       .last_hour = 0,
                                       .last_day = 0,
                                       .retained = 0,
                                       .error = NULL};
                if (mt->err) {
                        c.error = rd_kafka_err2str(mt->err);
                } else if (round_err) {
                        c.error = rd_kafka_err2str(round_err);
                        k += mt->partition_cnt;
                }
                for (int p = 0; !c.error && p < mt->partition_cnt; p++, k++) {
                        if (!at[0] || !at[1] || !at[2] || !at[3] || k >= at[0]->cnt)
                                break; /* (cannot be: every partition was asked) */
                        const rd_kafka_topic_partition_t *end = &at[0]->elems[k];
                        int64_t hour = appended_since(&at[1]->elems[k], end);
                        int64_t day = appended_since(&at[2]->elems[k], end);
                        int64_t kept = appended_since(&at[3]->elems[k], end);
                        if (hour < 0 || day < 0 || kept < 0) {
                                c.error = end->err ? rd_kafka_err2str(end->err)
                                                   : "a partition's offsets are unknown";
                                k += mt->partition_cnt - p;
                                break;
                        }
                        c.last_hour += hour;
                        c.last_day += day;
                        c.retained += kept;
                }
                if (c.error)
                        c.last_hour = c.last_day = c.retained = -1;
                cb(opaque, &c);
        }
        for (int r = 0; r < 4; r++)
                if (at[r])
                        rd_kafka_topic_partition_list_destroy(at[r]);
        rd_kafka_topic_partition_list_destroy(parts);
        rd_kafka_metadata_destroy(md);
        return SB_OK;
}

/* The partitions being read for their records' times: the legacy
 * consumer (rd_kafka_consume_start_queue), which reads a partition from an
 * offset without a consumer group, all into one queue. */
typedef struct {
        rd_kafka_topic_t *rkt;
        lag_record_time_t *ask; /* NULL: answered */
        int started;
} reading_t;

sb_err_t lag_sampler_record_times(lag_sampler_t *s, lag_record_time_t *asks, size_t n, char *errstr,
                                  size_t errstr_size) {
        if (n > LAG_SAMPLER_MAX_RECORD_TIMES)
                return sb_seterr(SB_ERR_INVALID, errstr, errstr_size, "%zu record times asked, more than %d",
                                 n, LAG_SAMPLER_MAX_RECORD_TIMES);
        reading_t *r = calloc(n ? n : 1, sizeof(*r));
        rd_kafka_queue_t *q = rd_kafka_queue_new(s->rk);
        if (!r || !q) {
                free(r);
                if (q)
                        rd_kafka_queue_destroy(q);
                return sb_seterr(SB_ERR_NOMEM, errstr, errstr_size, "out of memory");
        }
        size_t waiting = 0;
        for (size_t i = 0; i < n; i++) {
                asks[i].ts_ms = -1;
                int twice = 0; /* a partition is read from one offset at a time */
                for (size_t k = 0; k < i && !twice; k++)
                        twice = r[k].started && asks[k].partition == asks[i].partition &&
                                strcmp(asks[k].topic, asks[i].topic) == 0;
                if (twice || !(r[i].rkt = rd_kafka_topic_new(s->rk, asks[i].topic, NULL)))
                        continue;
                if (rd_kafka_consume_start_queue(r[i].rkt, asks[i].partition, asks[i].offset, q) == 0) {
                        r[i].started = 1;
                        r[i].ask = &asks[i];
                        waiting++;
                }
        }
        int64_t deadline = sb_clock_mono_ms() + s->timeout_ms;
        while (waiting && sb_clock_mono_ms() < deadline) {
                rd_kafka_message_t *msg = rd_kafka_consume_queue(q, 100);
                if (!msg)
                        continue;
                for (size_t i = 0; !msg->err && i < n; i++) {
                        lag_record_time_t *ask = r[i].ask;
                        if (!ask || msg->rkt != r[i].rkt || msg->partition != ask->partition ||
                            msg->offset < ask->offset)
                                continue;
                        ask->ts_ms = rd_kafka_message_timestamp(msg, NULL); /* -1: the record has none */
                        r[i].ask = NULL; /* answered: the rest of its batch is not needed */
                        waiting--;
                        break;
                }
                rd_kafka_message_destroy(msg);
        }
        for (size_t i = 0; i < n; i++) {
                if (r[i].started)
                        rd_kafka_consume_stop(r[i].rkt, asks[i].partition);
                if (r[i].rkt)
                        rd_kafka_topic_destroy(r[i].rkt);
        }
        rd_kafka_queue_destroy(q);
        free(r);
        return SB_OK;
}

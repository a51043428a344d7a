#include "cluster.h"

#include <check.h>
#include <jansson.h>
#include <librdkafka/rdkafka.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "dataset.h"
#include "sb_wire.h"

static char cluster_dir[600]; /* the cluster's folder (cluster-start.sh DIR) */
static char src_dir[1024];    /* the source tree, for the scripts */
static char start_log[700];   /* where the scripts' output goes */
static int external;          /* SHAREBUS_CLUSTER_DIR: not ours to start or stop */

static void print_tail(const char *path) {
        char cmd[1200];
        snprintf(cmd, sizeof(cmd), "tail -n 40 '%s' 1>&2", path);
        if (system(cmd) != 0)
                fprintf(stderr, "(no %s)\n", path);
}

static int run_script(const char *script, const char *nodes) {
        char cmd[3000];
        snprintf(cmd, sizeof(cmd), "'%s/broker-config/%s' '%s' %s >/dev/null 2>>'%s'", src_dir, script,
                 cluster_dir, nodes ? nodes : "", start_log);
        return system(cmd) == 0 ? 0 : -1;
}

int cl_env_start(h_env_t *env) {
        const char *src = getenv("SHAREBUS_SRC"), *given = getenv("SHAREBUS_CLUSTER_DIR");
        char path[700];
        memset(env, 0, sizeof(*env));
        snprintf(env->src, sizeof(env->src), "%s", src && *src ? src : ".");
        snprintf(src_dir, sizeof(src_dir), "%s", env->src);
        snprintf(env->dir, sizeof(env->dir), "/tmp/sharebus-cluster-XXXXXX");
        if (!mkdtemp(env->dir)) {
                perror("mkdtemp");
                return -1;
        }
        snprintf(start_log, sizeof(start_log), "%s/cluster-start.log", env->dir);
        external = given && *given;
        snprintf(cluster_dir, sizeof(cluster_dir), "%s%s", external ? given : env->dir,
                 external ? "" : "/cluster");
        if (!external && run_script("cluster-start.sh", NULL) != 0) {
                fprintf(stderr, "cluster: the cluster did not start:\n");
                print_tail(start_log);
                return -1;
        }
        snprintf(path, sizeof(path), "%s/bootstrap", cluster_dir);
        FILE *f = fopen(path, "r");
        int ok = f && fgets(env->bootstrap, sizeof(env->bootstrap), f);
        if (f)
                fclose(f);
        if (!ok) {
                fprintf(stderr, "cluster: no %s\n", path);
                return -1;
        }
        env->bootstrap[strcspn(env->bootstrap, "\r\n")] = 0;
        env->replication_factor = 3;
        if (h_start_registry(env, "registry", "http", "log_level = \"info\";\ntopic_replication_factor = 3;",
                             NULL, &env->registry_pid, env->registry_url, sizeof(env->registry_url)) != 0)
                return -1;
        fprintf(stderr, "cluster: Kafka at %s (%s), registry at %s, files in %s\n", env->bootstrap,
                cluster_dir, env->registry_url, env->dir);
        return 0;
}

void cl_env_stop(h_env_t *env) {
        char cmd[1200];
        if (env->registry_pid > 0) {
                kill(env->registry_pid, SIGTERM);
                h_wait(env->registry_pid, 10000);
        }
        if (!external && run_script("cluster-stop.sh", NULL) != 0)
                fprintf(stderr, "cluster: cluster-stop.sh failed\n");
        if (!getenv("SHAREBUS_KEEP_TEST_DIR")) {
                snprintf(cmd, sizeof(cmd), "rm -rf '%s'", env->dir);
                if (system(cmd) != 0)
                        fprintf(stderr, "cluster: could not remove %s\n", env->dir);
        }
}

pid_t cl_node_pid(int node) {
        char path[700];
        long pid = 0;
        snprintf(path, sizeof(path), "%s/node%d/kafka.pid", cluster_dir, node);
        FILE *f = fopen(path, "r");
        if (f && fscanf(f, "%ld", &pid) != 1)
                pid = 0;
        if (f)
                fclose(f);
        return (pid_t)pid;
}

void cl_node_signal(int node, int sig) {
        pid_t pid = cl_node_pid(node);
        ck_assert_msg(pid > 0 && kill(pid, sig) == 0, "node %d (pid %ld) is not running", node, (long)pid);
}

static int timed_script(const char *script, const char *nodes) {
        time_t t0 = time(NULL);
        if (run_script(script, nodes) != 0) {
                print_tail(start_log);
                ck_abort_msg("%s %s failed (see %s)", script, nodes ? nodes : "", start_log);
        }
        return (int)(time(NULL) - t0);
}

int cl_start_nodes(const char *nodes) { return timed_script("cluster-start.sh", nodes); }

int cl_stop_nodes(const char *nodes) { return timed_script("cluster-stop.sh", nodes); }

/* A handle for metadata requests, quiet about the brokers that are away. */
static rd_kafka_t *quiet_handle(const h_env_t *env) {
        char errstr[256];
        rd_kafka_conf_t *conf = rd_kafka_conf_new();
        rd_kafka_conf_set(conf, "bootstrap.servers", env->bootstrap, NULL, 0);
        rd_kafka_conf_set(conf, "log_level", "0", NULL, 0);
        rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, errstr, sizeof(errstr));
        ck_assert_msg(rk != NULL, "%s", errstr);
        return rk;
}

/* Metadata of `topic` (caller frees it with rd_kafka_metadata_destroy),
 * or NULL. */
static const struct rd_kafka_metadata_partition *
partition_of(rd_kafka_t *rk, const char *topic, int partition, const struct rd_kafka_metadata **md) {
        rd_kafka_topic_t *rkt = rd_kafka_topic_new(rk, topic, NULL);
        *md = NULL;
        if (rd_kafka_metadata(rk, 0, rkt, md, 5000) != RD_KAFKA_RESP_ERR_NO_ERROR)
                *md = NULL;
        rd_kafka_topic_destroy(rkt);
        if (!*md || (*md)->topic_cnt != 1 || (*md)->topics[0].err)
                return NULL;
        for (int i = 0; i < (*md)->topics[0].partition_cnt; i++)
                if ((*md)->topics[0].partitions[i].id == partition)
                        return &(*md)->topics[0].partitions[i];
        return NULL;
}

int cl_leader(const h_env_t *env, const char *topic, int partition, int timeout_ms) {
        rd_kafka_t *rk = quiet_handle(env);
        int leader = -1;
        for (int waited = 0; leader < 0 && waited <= timeout_ms; waited += 200) {
                const struct rd_kafka_metadata *md;
                const struct rd_kafka_metadata_partition *p = partition_of(rk, topic, partition, &md);
                if (p && !p->err)
                        leader = p->leader;
                if (md)
                        rd_kafka_metadata_destroy(md);
                if (leader < 0)
                        h_sleep_ms(200);
        }
        rd_kafka_destroy(rk);
        return leader;
}

int cl_isr_count(const h_env_t *env, const char *topic, int partition) {
        rd_kafka_t *rk = quiet_handle(env);
        const struct rd_kafka_metadata *md;
        const struct rd_kafka_metadata_partition *p = partition_of(rk, topic, partition, &md);
        int n = p ? p->isr_cnt : -1;
        if (md)
                rd_kafka_metadata_destroy(md);
        rd_kafka_destroy(rk);
        return n;
}

int cl_coordinator(const h_env_t *env, const char *group) {
        rd_kafka_t *rk = quiet_handle(env);
        const struct rd_kafka_group_list *gl = NULL;
        int id = -1;
        if (rd_kafka_list_groups(rk, group, &gl, 10000) == RD_KAFKA_RESP_ERR_NO_ERROR && gl->group_cnt > 0)
                id = gl->groups[0].broker.id;
        if (gl)
                rd_kafka_group_list_destroy(gl);
        rd_kafka_destroy(rk);
        return id;
}

/* ---- the audit ---- */

/* Where the event with seq `seq` was first seen ("p:offset"), per seq. */
typedef struct {
        json_t *ids;     /* event id -> "partition:offset" */
        char **seq_at;   /* [seq] -> "partition:offset" of its first event, or NULL */
        long long seqs;  /* entries of seq_at: 1..changes */
        long long extra; /* events of seqs beyond `changes` (the writer's last rows) */
} audit_state_t;

static void audit_event(const char *topic, audit_state_t *st, sb_schema_t *value_schema,
                        const rd_kafka_message_t *m, cl_audit_t *out) {
        char at[64], errstr[256];
        snprintf(at, sizeof(at), "%d:%lld", (int)m->partition, (long long)m->offset);
        rd_kafka_headers_t *hdrs;
        const void *v;
        size_t vlen;
        if (!rd_kafka_message_headers(m, &hdrs) &&
            !rd_kafka_header_get_last(hdrs, "sharebus.event_id", &v, &vlen) && vlen < 64) {
                char id[64];
                snprintf(id, sizeof(id), "%.*s", (int)vlen, (const char *)v);
                const char *before = json_string_value(json_object_get(st->ids, id));
                if (before) {
                        out->same_id++;
                        fprintf(stderr, "  DUPLICATE: %s [%s] and [%s] are one event (%s)\n", topic, before,
                                at, id);
                } else {
                        json_object_set_new(st->ids, id, json_string(at));
                }
        }
        int32_t schema_id;
        const uint8_t *body;
        size_t body_len;
        json_t *ev = NULL;
        ck_assert_msg(
                sb_wire_parse(m->payload, m->len, &schema_id, &body, &body_len, errstr, sizeof(errstr)) ==
                                SB_OK &&
                        sb_avro_decode(value_schema, body, body_len, &ev, errstr, sizeof(errstr)) == SB_OK,
                "%s [%s]: %s", topic, at, errstr);
        long long seq = (long long)json_integer_value(json_object_get(json_object_get(ev, "source"), "seq"));
        json_decref(ev);
        if (seq < 1 || seq > st->seqs) {
                st->extra++;
        } else if (st->seq_at[seq - 1]) {
                out->resent++;
        } else {
                st->seq_at[seq - 1] = strdup(at);
                ck_assert_ptr_nonnull(st->seq_at[seq - 1]);
        }
}

void cl_audit_topic(const h_env_t *env, const char *topic, int partitions, long long changes,
                    cl_audit_t *out) {
        char errstr[256], schema_dir[600];
        sb_dataset_t *ds = NULL;
        memset(out, 0, sizeof(*out));
        snprintf(schema_dir, sizeof(schema_dir), "%s/schemas", env->dir);
        ck_assert_msg(sb_dataset_load(schema_dir, topic, &ds, errstr, sizeof(errstr)) == SB_OK, "%s", errstr);
        rd_kafka_conf_t *conf = rd_kafka_conf_new();
        rd_kafka_conf_set(conf, "bootstrap.servers", env->bootstrap, NULL, 0);
        rd_kafka_conf_set(conf, "group.id", "cluster-audit", NULL, 0);
        rd_kafka_conf_set(conf, "enable.auto.commit", "false", NULL, 0);
        rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_CONSUMER, conf, errstr, sizeof(errstr));
        ck_assert_msg(rk != NULL, "%s", errstr);
        rd_kafka_topic_partition_list_t *tl = rd_kafka_topic_partition_list_new(partitions);
        int64_t high[32], next[32];
        ck_assert_int_le(partitions, 32);
        for (int p = 0; p < partitions; p++) {
                int64_t low;
                rd_kafka_resp_err_t err =
                        rd_kafka_query_watermark_offsets(rk, topic, p, &low, &high[p], 30000);
                ck_assert_msg(!err, "watermarks of %s [%d]: %s", topic, p, rd_kafka_err2str(err));
                ck_assert_msg(low == 0, "%s [%d] starts at %lld: records were deleted", topic, p,
                              (long long)low);
                out->records += high[p];
                next[p] = 0;
                rd_kafka_topic_partition_list_add(tl, topic, p)->offset = RD_KAFKA_OFFSET_BEGINNING;
        }
        ck_assert_int_eq(rd_kafka_assign(rk, tl), 0);
        rd_kafka_topic_partition_list_destroy(tl);
        audit_state_t st = {
                .ids = json_object(), .seq_at = calloc((size_t)changes + 1, sizeof(char *)), .seqs = changes};
        ck_assert_ptr_nonnull(st.seq_at);
        int left = partitions;
        for (int p = 0; p < partitions; p++)
                left -= high[p] == 0;
        for (int waited = 0; left > 0 && waited < 120000;) {
                rd_kafka_message_t *m = rd_kafka_consumer_poll(rk, 100);
                if (!m) {
                        waited += 100;
                        continue;
                }
                int p = m->partition;
                if (!m->err && p >= 0 && p < partitions && m->offset >= next[p]) {
                        if (m->payload) {
                                out->events++;
                                audit_event(topic, &st, sb_dataset_value_schema(ds), m, out);
                        } else {
                                out->tombstones++;
                        }
                        next[p] = m->offset + 1;
                        left -= next[p] == high[p];
                }
                rd_kafka_message_destroy(m);
        }
        ck_assert_msg(left == 0, "%s: %d partitions not read to their end in 2 minutes", topic, left);
        for (long long s = 0; s < changes; s++) {
                if (!st.seq_at[s] && out->missing++ < 20)
                        fprintf(stderr, "  MISSING: no event of %s carries outbox seq %lld\n", topic, s + 1);
                free(st.seq_at[s]);
        }
        if (st.extra)
                fprintf(stderr, "  (%lld events of seqs beyond %lld)\n", st.extra, changes);
        free(st.seq_at);
        json_decref(st.ids);
        rd_kafka_consumer_close(rk);
        rd_kafka_destroy(rk);
        sb_dataset_destroy(ds);
}

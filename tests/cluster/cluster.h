/*
 * cluster: the harness (tests/integration/harness.h) on a three-broker
 * KRaft cluster (broker-config/cluster-start.sh) instead of one broker,
 * and what a fault test needs besides: each node's pid, the node leading a
 * partition or coordinating a group (from metadata), a node killed, paused,
 * stopped or restarted, and an audit of a topic's records.
 */
#ifndef SB_CLUSTER_H
#define SB_CLUSTER_H

#include <sys/types.h>

#include "harness.h"

/* Starts the cluster in <new temp folder>/cluster, then a registry on it
 * (its `_sharebus_schemas` with replication factor 3), and sets
 * env->replication_factor to 3.  With SHAREBUS_CLUSTER_DIR set, the
 * cluster already started in that folder is used (and left running by
 * cl_env_stop).  Before Check's runner; 0, or -1 after printing why. */
int cl_env_start(h_env_t *env);
/* Stops the registry and the cluster (unless it was SHAREBUS_CLUSTER_DIR's)
 * and removes the folder unless SHAREBUS_KEEP_TEST_DIR is set. */
void cl_env_stop(h_env_t *env);

/* The pid of node `node` (1..3, also its broker id) from its kafka.pid; 0
 * if there is none. */
pid_t cl_node_pid(int node);

/* Sends `sig` to node `node`; asserts it was running. */
void cl_node_signal(int node, int sig);

/* Runs cluster-start.sh (nodes NULL: every node not running; else e.g.
 * "2") or cluster-stop.sh (nodes NULL: all three) and asserts it
 * succeeded; returns the seconds it took. */
int cl_start_nodes(const char *nodes);
int cl_stop_nodes(const char *nodes);

/* The broker id leading `partition` of `topic`, from a metadata request
 * (retried up to `timeout_ms` while there is none); -1 if none came. */
int cl_leader(const h_env_t *env, const char *topic, int partition, int timeout_ms);

/* The broker id coordinating consumer group `group`; -1 if unknown. */
int cl_coordinator(const h_env_t *env, const char *group);

/* How many in-sync replicas `partition` of `topic` has; -1 on error. */
int cl_isr_count(const h_env_t *env, const char *topic, int partition);

/* What a topic holds, read from its beginning to its high watermarks. */
typedef struct {
        long long records;    /* high watermarks summed */
        long long tombstones; /* records with a null value */
        long long events;     /* the others: each a change event */
        long long same_id;    /* events whose sharebus.event_id an earlier record had */
        long long missing;    /* outbox seqs 1..changes no event carries */
        long long resent;     /* events of a seq an earlier event carried already */
} cl_audit_t;

/* Reads every record of `topic` (`partitions` partitions; its schemas in
 * <dir>/schemas) and fills *out, decoding each event's source.seq, which
 * should cover the outbox's seqs 1..changes.  Each event whose event id
 * came before, and each missing seq, is printed with what it concerns
 * (topic, partition, offsets).  Asserts that the whole topic was read. */
void cl_audit_topic(const h_env_t *env, const char *topic, int partitions, long long changes,
                    cl_audit_t *out);

#endif

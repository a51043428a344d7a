/*
 * topics_acl: the principals broker-config/topics.conf declares, the ACL
 * bindings each one's role derives, and the difference between those and
 * the bindings a broker holds, as `sharebus-topics plan` prints it and
 * `apply` makes it.
 *
 * Pure: no broker, no librdkafka (its enums have the same values as the
 * codes here, Kafka's own: topics_admin.c passes them through), so every
 * rule is tested from data (tests/unit/test_topics_acl.c).  The file is
 * the whole truth about ACLs: a binding on the broker that no principal
 * derives is deleted by apply, whoever made it (a binding of a kind this
 * librdkafka cannot name, a resource type or operation it does not know,
 * cannot be deleted and is listed as kept).
 *
 * Every derived binding is ALLOW, host "*", principal "User:<name>".  The
 * roles (what each program of the exchange asks the broker, read from its
 * sources):
 * - department D (sharebus-producer): topics prefixed "D." WRITE,
 *   DESCRIBE; topic "rejects.D" WRITE, READ, DESCRIBE (--list-rejects
 *   reads it back with group "sharebus-rejects-list": READ on that group);
 *   the cluster IDEMPOTENT_WRITE (the producer is idempotent; brokers
 *   before 2.8 want it).
 * - subscriber S (sharebus-subscriber): each topic of `reads` READ,
 *   DESCRIBE; "dlq.S" WRITE (dead letters), READ and DESCRIBE
 *   (--replay-dlq); groups "sharebus.S" and "sharebus.S.replay" READ; the
 *   cluster IDEMPOTENT_WRITE (its dead-letter producer is idempotent).
 * - registry R (sharebus-registry, storage = "kafka"): topic
 *   "_sharebus_schemas" READ, WRITE, DESCRIBE and CREATE (it creates the
 *   topic if missing), not ALL: it never deletes or reconfigures it;
 *   groups prefixed "sharebus-registry-" READ (a group of its own each
 *   start); the cluster IDEMPOTENT_WRITE.
 * - operator (sharebus-lag): every topic ("*") DESCRIBE (metadata,
 *   ListOffsets) and READ (it reads the record at a group's committed
 *   offset for the lag in seconds); every group DESCRIBE (OffsetFetch);
 *   the cluster DESCRIBE (ListGroups).
 */
#ifndef SB_TOPICS_ACL_H
#define SB_TOPICS_ACL_H

#include <stddef.h>
#include <stdio.h>

#include "sb_error.h"

/* Bounds: principals a file declares, topics one subscriber reads,
 * bindings a set holds (the file's or the broker's: more is refused
 * rather than half-read). */
#define TOPICS_PRINCIPALS_MAX 1000
#define TOPICS_READS_MAX 1000
#define TOPICS_ACL_SET_MAX 100000
/* A principal's name: a lower-case letter, then up to 63 of a-z, 0-9,
 * '_' and '-' (broker-config/pki.sh makes certificates and passwords for
 * such names; no '.', so that department "a"'s prefix "a." is nobody
 * else's). */
#define TOPICS_PRINCIPAL_NAME_MAX 64

/* Kafka's codes, as the protocol (and librdkafka's enums) have them. */
typedef enum {
        TOPICS_ACL_RESOURCE_UNKNOWN = 0,
        TOPICS_ACL_TOPIC = 2,
        TOPICS_ACL_GROUP = 3,
        TOPICS_ACL_CLUSTER = 4, /* librdkafka 2.0.2 calls it RD_KAFKA_RESOURCE_BROKER */
} topics_acl_resource_t;

typedef enum {
        TOPICS_ACL_PATTERN_UNKNOWN = 0,
        TOPICS_ACL_LITERAL = 3,
        TOPICS_ACL_PREFIXED = 4,
} topics_acl_pattern_t;

typedef enum {
        TOPICS_ACL_OP_UNKNOWN = 0,
        TOPICS_ACL_ALL = 2,
        TOPICS_ACL_READ = 3,
        TOPICS_ACL_WRITE = 4,
        TOPICS_ACL_CREATE = 5,
        TOPICS_ACL_DELETE = 6,
        TOPICS_ACL_ALTER = 7,
        TOPICS_ACL_DESCRIBE = 8,
        TOPICS_ACL_CLUSTER_ACTION = 9,
        TOPICS_ACL_DESCRIBE_CONFIGS = 10,
        TOPICS_ACL_ALTER_CONFIGS = 11,
        TOPICS_ACL_IDEMPOTENT_WRITE = 12,
} topics_acl_op_t;

typedef enum {
        TOPICS_ACL_PERMISSION_UNKNOWN = 0,
        TOPICS_ACL_DENY = 2,
        TOPICS_ACL_ALLOW = 3,
} topics_acl_permission_t;

/* The one name of the cluster resource. */
#define TOPICS_ACL_CLUSTER_NAME "kafka-cluster"

/* One ACL binding.  In a set, the strings are the set's. */
typedef struct {
        topics_acl_resource_t resource;
        const char *name; /* the topic, group or prefix; "kafka-cluster"; "*" is every one */
        topics_acl_pattern_t pattern;
        const char *principal; /* "User:market" */
        const char *host;      /* "*": any */
        topics_acl_op_t operation;
        topics_acl_permission_t permission;
        int line; /* of the principal in the file it derives from; 0 for the broker's */
} topics_acl_t;

typedef enum {
        TOPICS_ROLE_DEPARTMENT,
        TOPICS_ROLE_SUBSCRIBER,
        TOPICS_ROLE_REGISTRY,
        TOPICS_ROLE_OPERATOR,
} topics_role_t;

/* 0 and *out set for "department", "subscriber", "registry", "operator";
 * -1 for another word. */
int topics_acl_role_parse(const char *text, topics_role_t *out);
const char *topics_acl_role_name(topics_role_t role);

/* 0 if `name` is a principal's name as TOPICS_PRINCIPAL_NAME_MAX says; else
 * -1 and `why` says what is wrong. */
int topics_acl_principal_check(const char *name, char *why, size_t why_size);

/* The names of Kafka's codes ("TOPIC", "PREFIXED", "READ", "ALLOW"), "UNKNOWN"
 * for another value. */
const char *topics_acl_resource_name(topics_acl_resource_t r);
const char *topics_acl_pattern_name(topics_acl_pattern_t p);
const char *topics_acl_op_name(topics_acl_op_t op);
const char *topics_acl_permission_name(topics_acl_permission_t p);

/* 1 if every field of `b` is one librdkafka can send (a binding the broker
 * holds of a kind it does not know is not). */
int topics_acl_known(const topics_acl_t *b);

/* Writes `b` for people into out[size]: `User:market: WRITE on topics
 * prefixed "market."`, `User:demo: READ on topic "tax.taxpayer"`,
 * `User:market: IDEMPOTENT_WRITE on the cluster`; DENY and a host other
 * than "*" are said. */
void topics_acl_text(const topics_acl_t *b, char *out, size_t size);

/* ---- a set of bindings ---- */

typedef struct topics_acl_set_s topics_acl_set_t;

/* A new empty set into *out, which the caller destroys.  SB_ERR_NOMEM. */
sb_err_t topics_acl_set_new(topics_acl_set_t **out, char *errstr, size_t errstr_size);
void topics_acl_set_destroy(topics_acl_set_t *s);
/* Adds a copy of `b` (its strings copied).  A binding equal to one the set
 * holds (line aside) is not added again.  SB_ERR_INVALID past
 * TOPICS_ACL_SET_MAX or for a NULL string; SB_ERR_NOMEM. */
sb_err_t topics_acl_set_add(topics_acl_set_t *s, const topics_acl_t *b, char *errstr, size_t errstr_size);
size_t topics_acl_set_count(const topics_acl_set_t *s);
/* Binding i, in the set's order (by principal, then resource, pattern,
 * name, operation, permission, host); NULL past the count.  Owned by the
 * set, valid until its next change. */
const topics_acl_t *topics_acl_set_at(const topics_acl_set_t *s, size_t i);
/* 1 if the set holds a binding equal to `b` (line aside). */
int topics_acl_set_has(const topics_acl_set_t *s, const topics_acl_t *b);

/* Adds to `s` the bindings principal `name` of `role` needs (see the
 * header's comment); `reads` (n_reads) are a subscriber's topics, ignored
 * for the other roles.  Each binding gets `line`.  SB_ERR_INVALID for a
 * bad name or a full set, SB_ERR_NOMEM. */
sb_err_t topics_acl_derive(topics_acl_set_t *s, const char *name, topics_role_t role,
                           const char *const *reads, size_t n_reads, int line, char *errstr,
                           size_t errstr_size);

/* ---- the plan ---- */

typedef struct topics_acl_plan_s topics_acl_plan_t;

/* Compares `want` (derived from the file) with `have` (the broker's).
 * Both are borrowed and must outlive the plan, which points into them and
 * must not change meanwhile.  *out is a new plan the caller destroys.
 * SB_ERR_NOMEM. */
sb_err_t topics_acl_plan_new(const topics_acl_set_t *want, const topics_acl_set_t *have,
                             topics_acl_plan_t **out, char *errstr, size_t errstr_size);
void topics_acl_plan_destroy(topics_acl_plan_t *p);

/* The bindings to create (derived, not on the broker), to delete (on the
 * broker, not derived), and kept (on the broker, not derived, of a kind
 * topics_acl_known refuses: apply cannot name them to delete them). */
size_t topics_acl_plan_adds(const topics_acl_plan_t *p);
const topics_acl_t *topics_acl_plan_add_at(const topics_acl_plan_t *p, size_t i);
size_t topics_acl_plan_deletes(const topics_acl_plan_t *p);
const topics_acl_t *topics_acl_plan_delete_at(const topics_acl_plan_t *p, size_t i);
size_t topics_acl_plan_kept(const topics_acl_plan_t *p);
const topics_acl_t *topics_acl_plan_kept_at(const topics_acl_plan_t *p, size_t i);
/* Derived bindings the broker holds. */
size_t topics_acl_plan_in_sync(const topics_acl_plan_t *p);
/* Adds plus deletes: what apply would do. */
size_t topics_acl_plan_pending(const topics_acl_plan_t *p);

/* Writes the plan for people: a line per binding to add (+) and to delete
 * (-, "not derived from the file"), the kept ones (!), and a summary
 * line. */
void topics_acl_plan_print(const topics_acl_plan_t *p, FILE *out);

#endif

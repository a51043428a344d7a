/*
 * topics_admin: sharebus-topics' side of the broker, through librdkafka's
 * Admin API as Debian's librdkafka 2.0.2 has it.  That version has no
 * DescribeTopics and no IncrementalAlterConfigs, so:
 * - partitions and replication factor are read from the cluster's metadata;
 * - a topic's own configs are those DescribeConfigs reports with source
 *   DYNAMIC_TOPIC_CONFIG (the others are the broker's defaults);
 * - configs are changed with the legacy AlterConfigs, which replaces the
 *   whole set of a topic's dynamic configs: it is sent the full declared
 *   set, and a config left out of it goes back to the broker's default.
 *
 * ACLs (topics_admin_acl.c): DescribeAcls, CreateAcls and DeleteAcls,
 * which that version has.  Its DescribeAcls drops the error code of the
 * whole answer, so a broker without an authorizer (SECURITY_DISABLED)
 * would look like one holding no ACLs: the broker's authorizer.class.name
 * (DescribeConfigs) tells them apart.
 *
 * One handle, one client (a producer-type rd_kafka_t: an Admin client
 * needs no group), used by one thread.
 */
#ifndef SB_TOPICS_ADMIN_H
#define SB_TOPICS_ADMIN_H

#include <stddef.h>

#include "sb_config.h"
#include "sb_log.h"
#include "topics/topics_acl.h"
#include "topics/topics_plan.h"
#include "topics/topics_set.h"

typedef struct topics_admin_s topics_admin_t;

/* A client of the cluster that `cfg`'s `kafka` group names, its
 * bootstrap.servers replaced by `bootstrap` unless that is NULL or empty
 * (the command line's --bootstrap-servers).  Every request waits at most
 * `timeout_ms`.  `cfg` and `log` are borrowed and outlive the handle.
 * *out is a new handle the caller destroys.  SB_ERR_CONFIG naming
 * file:line for a kafka property librdkafka refuses, or when no bootstrap
 * servers are given at all; SB_ERR_KAFKA, SB_ERR_NOMEM. */
sb_err_t topics_admin_new(const sb_config_t *cfg, const char *bootstrap, int timeout_ms, sb_log_t *log,
                          topics_admin_t **out, char *errstr, size_t errstr_size);
void topics_admin_destroy(topics_admin_t *a);

/* The bootstrap servers the client uses (owned by the handle). */
const char *topics_admin_bootstrap(const topics_admin_t *a);

/* What the broker holds: every topic with its partitions and replication
 * factor, and the dynamic configs of each topic `want` declares (NULL:
 * of every topic; the configs of a topic nobody declared never matter).
 * *out is a new set, sorted, that the caller destroys.  SB_ERR_KAFKA when
 * the cluster does not answer or refuses, SB_ERR_NOMEM. */
sb_err_t topics_admin_describe(topics_admin_t *a, const topics_set_t *want, topics_set_t **out, char *errstr,
                               size_t errstr_size);

/* Makes the pending changes of `plan` (which must not hold a refused
 * change: SB_ERR_INVALID then, nothing done).  Every create, partitions
 * and configs request is first sent with validate_only, so that a value
 * the broker refuses fails the run before anything is changed.  Then, in
 * order: topics deleted (DELETE, and RECREATE's first half, waiting until
 * the cluster no longer lists them), created (CREATE, RECREATE), given
 * partitions, given their configs.  Each step is logged at info.
 * `origin` (the file's name) prefixes the line of a declaration the
 * broker refused.  SB_ERR_KAFKA with errstr naming the first topic refused
 * (the others are logged); the changes made before it stay made. */
sb_err_t topics_admin_apply(topics_admin_t *a, const topics_plan_t *plan, const char *origin, char *errstr,
                            size_t errstr_size);

/* The ACL bindings the broker holds (DescribeAcls of every binding), into
 * a new set *out that the caller destroys.  When the broker has no
 * authorizer (its authorizer.class.name is empty, or DescribeAcls answers
 * SECURITY_DISABLED) *no_authorizer is set to 1, *out is NULL and SB_OK
 * is returned.  SB_ERR_KAFKA when the broker does not answer or refuses
 * (CLUSTER_AUTHORIZATION_FAILED: the client is not allowed to see ACLs),
 * SB_ERR_NOMEM. */
sb_err_t topics_admin_describe_acls(topics_admin_t *a, topics_acl_set_t **out, int *no_authorizer,
                                    char *errstr, size_t errstr_size);

/* Makes the ACL plan: creates its bindings to add (CreateAcls), then
 * deletes its bindings to delete (DeleteAcls, a filter matching exactly
 * that binding each), creates first so that a principal never goes
 * without what both the old and the new file grant it.  Each binding is
 * logged at info.  SB_ERR_KAFKA with errstr naming the first binding the
 * broker refused (the others are logged); what was done before stays
 * done. */
sb_err_t topics_admin_apply_acls(topics_admin_t *a, const topics_acl_plan_t *plan, char *errstr,
                                 size_t errstr_size);

#endif

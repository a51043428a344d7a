/* The ACL half of topics_admin.h. */
#include <librdkafka/rdkafka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "topics/topics_admin.h"
#include "topics/topics_admin_int.h"

/* topics_acl.h's codes are Kafka's, which librdkafka's enums are too. */
_Static_assert((int)TOPICS_ACL_TOPIC == (int)RD_KAFKA_RESOURCE_TOPIC, "resource codes");
_Static_assert((int)TOPICS_ACL_GROUP == (int)RD_KAFKA_RESOURCE_GROUP, "resource codes");
_Static_assert((int)TOPICS_ACL_CLUSTER == (int)RD_KAFKA_RESOURCE_BROKER, "resource codes");
_Static_assert((int)TOPICS_ACL_LITERAL == (int)RD_KAFKA_RESOURCE_PATTERN_LITERAL, "pattern codes");
_Static_assert((int)TOPICS_ACL_PREFIXED == (int)RD_KAFKA_RESOURCE_PATTERN_PREFIXED, "pattern codes");
_Static_assert((int)TOPICS_ACL_READ == (int)RD_KAFKA_ACL_OPERATION_READ, "operation codes");
_Static_assert((int)TOPICS_ACL_IDEMPOTENT_WRITE == (int)RD_KAFKA_ACL_OPERATION_IDEMPOTENT_WRITE,
               "operation codes");
_Static_assert((int)TOPICS_ACL_ALLOW == (int)RD_KAFKA_ACL_PERMISSION_TYPE_ALLOW, "permission codes");
_Static_assert((int)TOPICS_ACL_DENY == (int)RD_KAFKA_ACL_PERMISSION_TYPE_DENY, "permission codes");

#define BATCH TOPICS_ADMIN_BATCH

/* 1 in *none when the broker says it has no authorizer (its
 * authorizer.class.name is empty).  A broker that will not say (its
 * configs not visible to this client) is taken to have one: DescribeAcls
 * tells then. */
static sb_err_t authorizer_of(topics_admin_t *a, int *none, char *errstr, size_t errstr_size) {
        const struct rd_kafka_metadata *md = NULL;
        char id[32], why[512];
        *none = 0;
        rd_kafka_resp_err_t err = rd_kafka_metadata(a->rk, 0, NULL, &md, a->timeout_ms);
        if (err)
                return sb_seterr(SB_ERR_KAFKA, errstr, errstr_size, "the cluster at %s did not answer: %s",
                                 a->bootstrap, rd_kafka_err2str(err));
        int n = md->broker_cnt;
        if (n > 0)
                snprintf(id, sizeof(id), "%d", (int)md->brokers[0].id);
        rd_kafka_metadata_destroy(md);
        if (n <= 0)
                return sb_seterr(SB_ERR_KAFKA, errstr, errstr_size, "the cluster at %s lists no broker",
                                 a->bootstrap);
        rd_kafka_ConfigResource_t *res = rd_kafka_ConfigResource_new(RD_KAFKA_RESOURCE_BROKER, id);
        rd_kafka_AdminOptions_t *o = topics_admin_options(a, RD_KAFKA_ADMIN_OP_DESCRIBECONFIGS, 0);
        if (!res || !o) {
                if (res)
                        rd_kafka_ConfigResource_destroy(res);
                if (o)
                        rd_kafka_AdminOptions_destroy(o);
                return sb_seterr(SB_ERR_NOMEM, errstr, errstr_size, "out of memory");
        }
        rd_kafka_DescribeConfigs(a->rk, &res, 1, o, a->q);
        rd_kafka_ConfigResource_destroy(res);
        rd_kafka_AdminOptions_destroy(o);
        rd_kafka_event_t *ev = topics_admin_result(a, RD_KAFKA_EVENT_DESCRIBECONFIGS_RESULT,
                                                   "DescribeConfigs of the broker", NULL, why, sizeof(why));
        if (!ev) {
                SB_LOG(a->log, SB_LOG_DEBUG, "%s: asking DescribeAcls instead", why);
                return SB_OK;
        }
        size_t cnt = 0, m = 0;
        const rd_kafka_ConfigResource_t **rr =
                rd_kafka_DescribeConfigs_result_resources(rd_kafka_event_DescribeConfigs_result(ev), &cnt);
        if (cnt == 1 && !rd_kafka_ConfigResource_error(rr[0])) {
                const rd_kafka_ConfigEntry_t **ce = rd_kafka_ConfigResource_configs(rr[0], &m);
                for (size_t i = 0; i < m; i++)
                        if (strcmp(rd_kafka_ConfigEntry_name(ce[i]), "authorizer.class.name") == 0) {
                                const char *v = rd_kafka_ConfigEntry_value(ce[i]);
                                *none = !v || !*v;
                                SB_LOG(a->log, SB_LOG_DEBUG, "broker %s: authorizer.class.name = %s", id,
                                       v ? v : "");
                        }
        } else if (cnt == 1) {
                SB_LOG(a->log, SB_LOG_DEBUG, "DescribeConfigs of broker %s: %s: asking DescribeAcls instead",
                       id, rd_kafka_ConfigResource_error_string(rr[0]));
        }
        rd_kafka_event_destroy(ev);
        return SB_OK;
}

sb_err_t topics_admin_describe_acls(topics_admin_t *a, topics_acl_set_t **out, int *no_authorizer,
                                    char *errstr, size_t errstr_size) {
        char err[512];
        sb_err_t e;
        *out = NULL;
        if ((e = authorizer_of(a, no_authorizer, errstr, errstr_size)) || *no_authorizer)
                return e;
        rd_kafka_AclBindingFilter_t *any = rd_kafka_AclBindingFilter_new(
                RD_KAFKA_RESOURCE_ANY, NULL, RD_KAFKA_RESOURCE_PATTERN_ANY, NULL, NULL,
                RD_KAFKA_ACL_OPERATION_ANY, RD_KAFKA_ACL_PERMISSION_TYPE_ANY, err, sizeof(err));
        rd_kafka_AdminOptions_t *o = topics_admin_options(a, RD_KAFKA_ADMIN_OP_DESCRIBEACLS, 0);
        if (!any || !o) {
                if (any)
                        rd_kafka_AclBinding_destroy(any);
                if (o)
                        rd_kafka_AdminOptions_destroy(o);
                return sb_seterr(SB_ERR_NOMEM, errstr, errstr_size, "cannot make the DescribeAcls request");
        }
        rd_kafka_DescribeAcls(a->rk, any, o, a->q);
        rd_kafka_AclBinding_destroy(any);
        rd_kafka_AdminOptions_destroy(o);
        rd_kafka_resp_err_t code;
        rd_kafka_event_t *ev = topics_admin_result(a, RD_KAFKA_EVENT_DESCRIBEACLS_RESULT, "DescribeAcls",
                                                   &code, errstr, errstr_size);
        if (!ev && code == RD_KAFKA_RESP_ERR_SECURITY_DISABLED) {
                *no_authorizer = 1;
                return SB_OK;
        }
        if (!ev)
                return SB_ERR_KAFKA;
        topics_acl_set_t *set;
        if ((e = topics_acl_set_new(&set, errstr, errstr_size))) {
                rd_kafka_event_destroy(ev);
                return e;
        }
        size_t cnt = 0;
        const rd_kafka_AclBinding_t **acls =
                rd_kafka_DescribeAcls_result_acls(rd_kafka_event_DescribeAcls_result(ev), &cnt);
        for (size_t i = 0; !e && i < cnt; i++) {
                const char *name = rd_kafka_AclBinding_name(acls[i]),
                           *principal = rd_kafka_AclBinding_principal(acls[i]),
                           *host = rd_kafka_AclBinding_host(acls[i]);
                /* A code librdkafka does not know comes as UNKNOWN (0): kept
                 * so, topics_acl_known then refuses to name it. */
                topics_acl_t b = {
                        .resource = (topics_acl_resource_t)rd_kafka_AclBinding_restype(acls[i]),
                        .name = name ? name : "",
                        .pattern = (topics_acl_pattern_t)rd_kafka_AclBinding_resource_pattern_type(acls[i]),
                        .principal = principal ? principal : "",
                        .host = host ? host : "",
                        .operation = (topics_acl_op_t)rd_kafka_AclBinding_operation(acls[i]),
                        .permission = (topics_acl_permission_t)rd_kafka_AclBinding_permission_type(acls[i]),
                        .line = 0};
                e = topics_acl_set_add(set, &b, errstr, errstr_size);
        }
        rd_kafka_event_destroy(ev);
        if (e) {
                topics_acl_set_destroy(set);
                return e;
        }
        *out = set;
        return SB_OK;
}

/* Logs the broker's refusal of `b` and keeps the first in errstr. */
static void refused(topics_admin_t *a, const topics_acl_t *b, const char *what, const char *why,
                    int *failures, char *errstr, size_t errstr_size) {
        char text[1200];
        topics_acl_text(b, text, sizeof(text));
        if (!(*failures)++)
                sb_seterr(SB_ERR_KAFKA, errstr, errstr_size, "ACL %s: the broker refused %s: %s", text, what,
                          why);
        else
                SB_LOG(a->log, SB_LOG_ERROR, "ACL %s: the broker refused %s: %s", text, what, why);
}

/* One CreateAcls (create) or DeleteAcls request for the `n` (<= BATCH)
 * bindings of `v`; refusals counted in *failures. */
static sb_err_t send_acls(topics_admin_t *a, int create, const topics_acl_t *const *v, size_t n,
                          int *failures, char *errstr, size_t errstr_size) {
        rd_kafka_AclBinding_t *items[BATCH];
        char err[512], text[1200];
        size_t made = 0;
        sb_err_t e = SB_OK;
        for (; made < n; made++) {
                const topics_acl_t *b = v[made];
                rd_kafka_AclBinding_t *(*make)(
                        rd_kafka_ResourceType_t, const char *, rd_kafka_ResourcePatternType_t, const char *,
                        const char *, rd_kafka_AclOperation_t, rd_kafka_AclPermissionType_t, char *, size_t) =
                        create ? rd_kafka_AclBinding_new : rd_kafka_AclBindingFilter_new;
                items[made] = make((rd_kafka_ResourceType_t)b->resource, b->name,
                                   (rd_kafka_ResourcePatternType_t)b->pattern, b->principal, b->host,
                                   (rd_kafka_AclOperation_t)b->operation,
                                   (rd_kafka_AclPermissionType_t)b->permission, err, sizeof(err));
                if (!items[made]) {
                        topics_acl_text(b, text, sizeof(text));
                        e = sb_seterr(SB_ERR_INVALID, errstr, errstr_size, "ACL %s: %s", text, err);
                        break;
                }
                SB_LOG(a->log, SB_LOG_INFO, "%s %s", create ? "CreateAcls" : "DeleteAcls",
                       (topics_acl_text(b, text, sizeof(text)), text));
        }
        rd_kafka_AdminOptions_t *o =
                e ? NULL
                  : topics_admin_options(
                            a, create ? RD_KAFKA_ADMIN_OP_CREATEACLS : RD_KAFKA_ADMIN_OP_DELETEACLS, 0);
        if (!e && !o)
                e = sb_seterr(SB_ERR_NOMEM, errstr, errstr_size, "cannot set the request's options");
        if (!e && create)
                rd_kafka_CreateAcls(a->rk, items, n, o, a->q);
        else if (!e)
                rd_kafka_DeleteAcls(a->rk, items, n, o, a->q);
        if (o)
                rd_kafka_AdminOptions_destroy(o);
        rd_kafka_AclBinding_destroy_array(items, made);
        if (e)
                return e;
        const char *what = create ? "CreateAcls" : "DeleteAcls";
        rd_kafka_event_t *ev = topics_admin_result(
                a, create ? RD_KAFKA_EVENT_CREATEACLS_RESULT : RD_KAFKA_EVENT_DELETEACLS_RESULT, what, NULL,
                errstr, errstr_size);
        if (!ev)
                return SB_ERR_KAFKA;
        size_t cnt = 0;
        if (create) {
                const rd_kafka_acl_result_t **r =
                        rd_kafka_CreateAcls_result_acls(rd_kafka_event_CreateAcls_result(ev), &cnt);
                for (size_t i = 0; i < cnt && i < n; i++)
                        if (rd_kafka_acl_result_error(r[i]))
                                refused(a, v[i], what, rd_kafka_error_string(rd_kafka_acl_result_error(r[i])),
                                        failures, errstr, errstr_size);
        } else {
                const rd_kafka_DeleteAcls_result_response_t **r =
                        rd_kafka_DeleteAcls_result_responses(rd_kafka_event_DeleteAcls_result(ev), &cnt);
                for (size_t i = 0; i < cnt && i < n; i++) {
                        const rd_kafka_error_t *re = rd_kafka_DeleteAcls_result_response_error(r[i]);
                        if (re)
                                refused(a, v[i], what, rd_kafka_error_string(re), failures, errstr,
                                        errstr_size);
                }
        }
        if (cnt < n)
                refused(a, v[cnt], what, "no answer for it", failures, errstr, errstr_size);
        rd_kafka_event_destroy(ev);
        return SB_OK;
}

sb_err_t topics_admin_apply_acls(topics_admin_t *a, const topics_acl_plan_t *plan, char *errstr,
                                 size_t errstr_size) {
        const topics_acl_t *v[BATCH];
        int failures = 0;
        for (int create = 1; create >= 0 && !failures; create--) {
                size_t total = create ? topics_acl_plan_adds(plan) : topics_acl_plan_deletes(plan), n = 0;
                for (size_t i = 0; i < total; i++) {
                        v[n++] =
                                create ? topics_acl_plan_add_at(plan, i) : topics_acl_plan_delete_at(plan, i);
                        if (n < BATCH && i + 1 < total)
                                continue;
                        sb_err_t e = send_acls(a, create, v, n, &failures, errstr, errstr_size);
                        if (e)
                                return e;
                        n = 0;
                }
        }
        return failures ? SB_ERR_KAFKA : SB_OK;
}

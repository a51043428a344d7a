/*
 * sharebus-topics: the broker's topics, principals and ACLs as code.
 *
 *   sharebus-topics plan  --config broker-config/topics.conf [--allow-delete]
 *   sharebus-topics apply --config broker-config/topics.conf [--allow-delete]
 *        [--bootstrap-servers HOST:PORT,...] [--replication-factor N] [--require-acls]
 *
 * Reads the declaration (topics/topics_file.h), asks the broker what it
 * holds (topics/topics_admin.h), prints the difference (topics/
 * topics_plan.h, and topics/topics_acl.h for the ACLs the file's
 * principals derive) and, for apply, makes it, then reads the broker again
 * until it shows every declared topic and derived ACL as declared.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sb_cli.h"
#include "sb_clock.h"
#include "sb_log.h"
#include "topics/topics_admin.h"
#include "topics/topics_file.h"
#include "topics/topics_plan.h"

/* The broker's view after `apply`: describes and compares again (the
 * broker applies a config change a moment after it answered) until
 * nothing is pending or `timeout_ms` passed.  *plan is replaced by the
 * last comparison. */
static sb_err_t verify(topics_admin_t *admin, const topics_set_t *want, const topics_plan_options_t *opts,
                       int timeout_ms, topics_set_t **have, topics_plan_t **plan, char *errstr,
                       size_t errstr_size) {
        int64_t deadline = sb_clock_mono_ms() + timeout_ms;
        for (;;) {
                topics_plan_destroy(*plan);
                topics_set_destroy(*have);
                *plan = NULL;
                *have = NULL;
                sb_err_t e = topics_admin_describe(admin, want, have, errstr, errstr_size);
                if (e || (e = topics_plan_new(want, *have, opts, plan, errstr, errstr_size)))
                        return e;
                if (!topics_plan_pending(*plan) && !topics_plan_tally(*plan, TOPICS_OP_REFUSED))
                        return SB_OK;
                if (sb_clock_mono_ms() > deadline)
                        return sb_seterr(
                                SB_ERR_KAFKA, errstr, errstr_size,
                                "the broker accepted every change but does not show them all after %d ms",
                                timeout_ms);
                sb_clock_sleep_ms(200);
        }
}

/* The ACL side of a run: what the file's principals derive (want NULL:
 * the file declares none, ACLs are left alone), what the broker holds, and
 * the plan between them. */
typedef struct {
        topics_acl_set_t *want, *have;
        topics_acl_plan_t *plan;
        size_t principals;
        int no_authorizer;
} acls_t;

static void acls_clear(acls_t *x) {
        topics_acl_plan_destroy(x->plan);
        topics_acl_set_destroy(x->have);
        x->plan = NULL;
        x->have = NULL;
}

/* The broker's ACLs and the plan to the file's, into x. */
static sb_err_t acls_compare(topics_admin_t *admin, acls_t *x, char *errstr, size_t errstr_size) {
        acls_clear(x);
        sb_err_t e = topics_admin_describe_acls(admin, &x->have, &x->no_authorizer, errstr, errstr_size);
        if (e || x->no_authorizer)
                return e;
        return topics_acl_plan_new(x->want, x->have, &x->plan, errstr, errstr_size);
}

/* As verify, for the ACLs: the broker shows an ACL change a moment after
 * it answered. */
static sb_err_t verify_acls(topics_admin_t *admin, acls_t *x, int timeout_ms, char *errstr,
                            size_t errstr_size) {
        int64_t deadline = sb_clock_mono_ms() + timeout_ms;
        for (;;) {
                sb_err_t e = acls_compare(admin, x, errstr, errstr_size);
                if (e)
                        return e;
                if (x->no_authorizer)
                        return sb_seterr(SB_ERR_KAFKA, errstr, errstr_size,
                                         "the broker no longer says it has an authorizer");
                if (!topics_acl_plan_pending(x->plan))
                        return SB_OK;
                if (sb_clock_mono_ms() > deadline)
                        return sb_seterr(SB_ERR_KAFKA, errstr, errstr_size,
                                         "the broker accepted every ACL change but does not show them all "
                                         "after %d ms",
                                         timeout_ms);
                sb_clock_sleep_ms(200);
        }
}

/* The ACL part of the printed plan. */
static void acls_print(const acls_t *x, FILE *out) {
        if (!x->want)
                return;
        if (x->no_authorizer) {
                fprintf(out,
                        "the broker has no authorizer: principals and ACLs not applied (%zu principals "
                        "declared; --require-acls makes this an error)\n",
                        x->principals);
                return;
        }
        fprintf(out, "principals: %zu declared, %zu ACL bindings derived; the broker holds %zu\n",
                x->principals, topics_acl_set_count(x->want), topics_acl_set_count(x->have));
        topics_acl_plan_print(x->plan, out);
}

int main(int argc, char **argv) {
        const char *plan_flag = NULL, *apply_flag = NULL, *allow_delete = NULL, *bootstrap = NULL,
                   *replication = NULL, *require_acls = NULL;
        /* The two commands are options without dashes, so that sb_cli
         * reads them in any place and lists them in --help. */
        const sb_option_t options[] = {
                {.name = "plan",
                 .help = "print what differs between the file and the broker (topics, and the ACLs its "
                         "principals derive); exit 0 in sync, 3 changes pending, 4 a change refused",
                 .value = &plan_flag},
                {.name = "apply",
                 .help = "make only what differs (CreateTopics, CreatePartitions, AlterConfigs, CreateAcls, "
                         "DeleteAcls), then wait until the broker shows it; exit 0 done, 4 a change refused "
                         "(nothing changed)",
                 .value = &apply_flag},
                {.name = "--allow-delete",
                 .help = "also delete topics on the broker that the file does not declare (never __*), and "
                         "delete and create again a topic declared with fewer partitions: their records are "
                         "lost",
                 .value = &allow_delete},
                {.name = "--bootstrap-servers",
                 .arg = "HOST:PORT,...",
                 .help = "the brokers to ask, instead of the file's kafka.bootstrap_servers",
                 .value = &bootstrap},
                {.name = "--require-acls",
                 .help = "when the file declares principals and the broker has no authorizer, fail (exit 1, "
                         "nothing changed) instead of making the topics and saying the ACLs were not applied",
                 .value = &require_acls},
                {.name = "--replication-factor",
                 .arg = "N",
                 .help = "replication factor of every topic, instead of the file's (1 on a single-node "
                         "broker)",
                 .value = &replication},
        };
        const sb_program_t prog = {
                .name = "sharebus-topics",
                .summary =
                        "Topics as code: compares the topics a file declares (partitions, replication "
                        "factor, configs), and the ACLs its principals derive, with the broker's (plan) and "
                        "makes only what differs (apply). Exit codes: "
                        "0 in sync or applied, 1 the broker failed or refused, 2 bad usage or configuration, "
                        "3 plan: changes pending, 4 a change refused (fewer partitions without "
                        "--allow-delete, "
                        "another replication factor).",
                .settings = sb_topics_settings,
                .n_settings = sb_topics_settings_count,
                .options = options,
                .n_options = sizeof(options) / sizeof(*options),
        };
        sb_config_t *cfg;
        sb_log_t *log;
        int rc = sb_cli_start(&prog, argc, argv, &cfg, &log);
        if (rc != SB_CLI_CONTINUE)
                return rc;
        char errstr[1024];
        topics_set_t *want = NULL, *have = NULL;
        topics_plan_t *plan = NULL;
        topics_admin_t *admin = NULL;
        acls_t acls = {0};
        const topics_plan_options_t opts = {.allow_delete = allow_delete != NULL};
        int rf = 0, timeout_ms = (int)sb_config_int(cfg, "request_timeout_ms");
        sb_err_t err;
        rc = TOPICS_EXIT_USAGE;
        if (!plan_flag == !apply_flag) {
                fprintf(stderr, "%s: say plan or apply (see --help)\n", prog.name);
                goto done;
        }
        if (replication) {
                char *end;
                long v = strtol(replication, &end, 10);
                if (*end || end == replication || v < 1 || v > TOPICS_REPLICATION_MAX) {
                        fprintf(stderr, "%s: --replication-factor %s: an integer in 1..%d\n", prog.name,
                                replication, TOPICS_REPLICATION_MAX);
                        goto done;
                }
                rf = (int)v;
        }
        if ((err = topics_file_read(cfg, rf, &want, errstr, sizeof(errstr))) ||
            (err = topics_file_read_principals(cfg, want, &acls.want, &acls.principals, errstr,
                                               sizeof(errstr))) ||
            (err = topics_admin_new(cfg, bootstrap, timeout_ms, log, &admin, errstr, sizeof(errstr))) ||
            (err = topics_admin_describe(admin, want, &have, errstr, sizeof(errstr))) ||
            (err = topics_plan_new(want, have, &opts, &plan, errstr, sizeof(errstr))) ||
            (acls.want && (err = acls_compare(admin, &acls, errstr, sizeof(errstr))))) {
                SB_LOG(log, SB_LOG_ERROR, "%s", errstr);
                rc = err == SB_ERR_CONFIG ? TOPICS_EXIT_USAGE : TOPICS_EXIT_RUNTIME;
                goto done;
        }
        if (acls.want && acls.no_authorizer && require_acls) {
                SB_LOG(log, SB_LOG_ERROR,
                       "the broker at %s has no authorizer: the %zu principals declared and their ACLs "
                       "cannot be applied (--require-acls): nothing changed",
                       topics_admin_bootstrap(admin), acls.principals);
                rc = TOPICS_EXIT_RUNTIME;
                goto done;
        }
        printf("%s: %zu topics declared, %s at %s%s\n", plan_flag ? "plan" : "apply", topics_set_count(want),
               sb_config_origin(cfg), topics_admin_bootstrap(admin),
               opts.allow_delete ? " (--allow-delete)" : "");
        topics_plan_print(plan, stdout);
        acls_print(&acls, stdout);
        rc = topics_plan_exit_code(plan);
        if (rc == TOPICS_EXIT_IN_SYNC && acls.plan && topics_acl_plan_pending(acls.plan))
                rc = TOPICS_EXIT_PENDING;
        if (plan_flag || rc == TOPICS_EXIT_IN_SYNC)
                goto done;
        if (rc == TOPICS_EXIT_REFUSED) {
                printf("apply: refused: nothing changed on the broker\n");
                goto done;
        }
        fflush(stdout); /* the plan before the log lines of its steps */
        if ((topics_plan_pending(plan) &&
             ((err = topics_admin_apply(admin, plan, sb_config_origin(cfg), errstr, sizeof(errstr))) ||
              (err = verify(admin, want, &opts, timeout_ms, &have, &plan, errstr, sizeof(errstr))))) ||
            (acls.plan && topics_acl_plan_pending(acls.plan) &&
             ((err = topics_admin_apply_acls(admin, acls.plan, errstr, sizeof(errstr))) ||
              (err = verify_acls(admin, &acls, timeout_ms, errstr, sizeof(errstr)))))) {
                SB_LOG(log, SB_LOG_ERROR, "%s", errstr);
                printf("apply: failed (%s); what was changed before stays changed: plan shows what is left\n",
                       err == SB_ERR_KAFKA ? "the broker refused or did not answer" : sb_err2str(err));
                rc = TOPICS_EXIT_RUNTIME;
                goto done;
        }
        printf("apply: done; the broker shows the %zu declared topics as declared", topics_set_count(want));
        if (acls.plan)
                printf(" and the %zu ACL bindings of the %zu principals as derived",
                       topics_acl_set_count(acls.want), acls.principals);
        else if (acls.want)
                printf(" (the broker has no authorizer: principals and ACLs not applied)");
        printf("\n");
        rc = TOPICS_EXIT_IN_SYNC;
done:
        acls_clear(&acls);
        topics_acl_set_destroy(acls.want);
        topics_plan_destroy(plan);
        topics_set_destroy(have);
        topics_set_destroy(want);
        topics_admin_destroy(admin);
        sb_log_destroy(log);
        sb_config_destroy(cfg);
        return rc;
}

/*
 * sharebus-subscriber: applies the change events of one or more dataset
 * topics to a subscriber's own database (subscriber.h says how), and serves
 * /metrics and /healthz (subscriber_metrics.h, sb_http_server.h).
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <librdkafka/rdkafka.h>

#include "dlq_replay.h"
#include "row_shape.h"
#include "sb_cli.h"
#include "sb_config.h"
#include "sb_http_server.h"
#include "subscriber_settings.h"
#include "sb_log.h"
#include "sb_metrics.h"
#include "sb_registry_client.h"
#include "sb_registry_settings.h"
#include "subscriber.h"
#include "target.h"
#include "targets/target_pg.h"

static volatile sig_atomic_t stop_requested;

static void on_signal(int sig) {
        (void)sig;
        stop_requested = 1;
}

/* The datasets' transforms, checked against the latest schemas the
 * registry has (a step the data standard does not allow stops the start). */
static sb_err_t start_transforms(const sb_config_t *cfg, sb_registry_client_t *registry, sb_log_t *log,
                                 tf_config_t **out, char *errstr, size_t errstr_size) {
        int unchecked = 0;
        sb_err_t err = tf_config_new(cfg, out, errstr, errstr_size);
        if (!err)
                err = row_shapes_check_latest(*out, registry, sb_config_string(cfg, "topics"), &unchecked,
                                              errstr, errstr_size);
        if (!err && unchecked)
                SB_LOG(log, SB_LOG_WARN,
                       "transforms of %d topic(s) not checked at start (checked on their first event): %s",
                       unchecked, errstr);
        return err;
}

int main(int argc, char **argv) {
        const char *replay_dlq = NULL;
        const sb_option_t options[] = {
                {"--replay-dlq", NULL,
                 "apply the dead letters of the dead-letter topic again (each once), print those that "
                 "still fail, then exit: 0 all applied, 3 some still fail, 1 error",
                 &replay_dlq},
        };
        const sb_program_t prog = {"sharebus-subscriber",
                                   "Consumes dataset topics, decodes the change events and applies them to "
                                   "the subscriber's database, exactly once.",
                                   sb_subscriber_settings,
                                   sb_subscriber_settings_count,
                                   options,
                                   sizeof(options) / sizeof(*options)};
        sb_config_t *cfg;
        sb_log_t *log;
        int rc = sb_cli_start(&prog, argc, argv, &cfg, &log);
        if (rc != SB_CLI_CONTINUE)
                return rc;
        char errstr[1024];
        if (sb_subscriber_settings_check(cfg, errstr, sizeof(errstr))) {
                fprintf(stderr, "sharebus-subscriber: %s\n", errstr);
                sb_log_destroy(log);
                sb_config_destroy(cfg);
                return 2;
        }
        char dlq[512];
        const char *name = sb_config_string(cfg, "name");
        const char *dlq_setting = sb_config_string(cfg, "dlq_topic");
        snprintf(dlq, sizeof(dlq), "%s%s", *dlq_setting ? "" : "dlq.", *dlq_setting ? dlq_setting : name);
        sb_subscriber_conf_t conf = {
                .name = name,
                .topics = sb_config_string(cfg, "topics"),
                .dlq_topic = dlq,
                .batch_size = (int)sb_config_int(cfg, "batch_size"),
                .poll_timeout_ms = (int)sb_config_int(cfg, "poll_timeout_ms"),
                .idle_exit_ms = (int)sb_config_int(cfg, "idle_exit_ms"),
                .retry_backoff_max_ms = (int)sb_config_int(cfg, "retry_backoff_max_ms"),
                .receipts = sb_config_bool(cfg, "receipts"),
                .history = strcmp(sb_config_string(cfg, "mode"), "history") == 0,
                .max_record_bytes = (size_t)sb_config_int(cfg, "max_record_bytes"),
        };
        sb_target_t *target = NULL;
        tf_config_t *transforms = NULL;
        sb_registry_client_t *registry = NULL;
        sb_subscriber_t *sub = NULL;
        sb_metrics_t *metrics = NULL;
        sb_http_server_t *http = NULL;
        rc = 1;
        sb_err_t err;

        /* Registry settings are checked (files read) before the database is opened. */
        if ((err = sb_registry_settings_client_new(cfg, &registry, errstr, sizeof(errstr)))) {
                SB_LOG(log, SB_LOG_ERROR, "%s", errstr);
                rc = err == SB_ERR_CONFIG ? 2 : 1;
                goto done;
        }
        if ((err = start_transforms(cfg, registry, log, &transforms, errstr, sizeof(errstr)))) {
                SB_LOG(log, SB_LOG_ERROR, "%s", errstr);
                rc = err == SB_ERR_CONFIG ? 2 : 1;
                goto done;
        }
        conf.transforms = transforms;
        /* The kind is one of these two: sb_subscriber_settings_check said so. */
        if (strcmp(sb_config_string(cfg, "target"), "postgresql") == 0
                    ? sb_target_pg_open(sb_config_string(cfg, "postgresql_conninfo"), &target, errstr,
                                        sizeof(errstr))
                    : sb_target_sqlite_open(sb_config_string(cfg, "sqlite_path"), &target, errstr,
                                            sizeof(errstr))) {
                SB_LOG(log, SB_LOG_ERROR, "%s", errstr);
                goto done;
        }
        if (replay_dlq) { /* dlq_replay.h: a SIGINT mid-way rolls back its batch with the process */
                sb_dlq_replay_stats_t st;
                err = sb_dlq_replay_run(&conf, cfg, target, registry, log, stdout, &stop_requested, &st,
                                        errstr, sizeof(errstr));
                if (err)
                        SB_LOG(log, SB_LOG_ERROR, "%s", errstr);
                rc = err == SB_ERR_CONFIG ? 2 : err ? 1 : st.failed ? 3 : 0;
                goto done;
        }
        if (sb_metrics_new(&metrics, errstr, sizeof(errstr))) {
                SB_LOG(log, SB_LOG_ERROR, "%s", errstr);
                goto done;
        }
        if ((err = sb_subscriber_new(&conf, cfg, target, registry, metrics, log, &sub, errstr,
                                     sizeof(errstr)))) {
                SB_LOG(log, SB_LOG_ERROR, "%s", errstr);
                rc = err == SB_ERR_CONFIG ? 2 : 1;
                goto done;
        }
        if ((err = sb_http_server_from_config(cfg, metrics, sb_subscriber_healthy, sub, log, &http, errstr,
                                              sizeof(errstr)))) {
                SB_LOG(log, SB_LOG_ERROR, "%s", errstr);
                rc = err == SB_ERR_CONFIG ? 2 : 1;
                goto done;
        }
        struct sigaction sa;
        memset(&sa, 0, sizeof(sa));
        sa.sa_handler = on_signal;
        sigaction(SIGINT, &sa, NULL);
        sigaction(SIGTERM, &sa, NULL);
        if (sb_subscriber_run(sub, &stop_requested, errstr, sizeof(errstr)) == SB_OK)
                rc = 0;
        else
                SB_LOG(log, SB_LOG_ERROR, "%s", errstr);
done:
        /* The server first: no scrape may read the subscriber's series or
         * health once it is gone. */
        sb_http_server_destroy(http);
        sb_subscriber_destroy(sub);
        sb_metrics_destroy(metrics);
        sb_registry_client_destroy(registry);
        tf_config_destroy(transforms);
        if (target)
                target->ops->destroy(target);
        sb_log_destroy(log);
        sb_config_destroy(cfg);
        return rc;
}

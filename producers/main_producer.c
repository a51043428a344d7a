/*
 * sharebus-producer: publishes a department's change events to its dataset
 * topic from a source (sources/source.h: JSON lines, CSV, or an outbox in
 * SQLite or PostgreSQL), the pipeline being producer.h.  main reads the
 * command line and the configuration, registers the dataset's schemas and
 * reads their rules back from the registry, serves /metrics and /healthz,
 * and runs the pipeline until the source is finished or SIGTERM.
 *
 * Exit status: 0 when every record was published and delivered, 1 when a
 * record was rejected (kept in rejects.<department>) or not delivered, 2
 * for bad usage or configuration.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dataset.h"
#include "event_encoder.h"
#include "producer.h"
#include "producer_settings.h"
#include "rejects.h"
#include "sb_cli.h"
#include "sb_config.h"
#include "sb_http_server.h"
#include "sb_log.h"
#include "sb_metrics.h"
#include "sb_registry_client.h"
#include "sb_registry_settings.h"
#include "sources/source.h"

static volatile sig_atomic_t stop_requested;

static void on_signal(int sig) {
        (void)sig;
        stop_requested = 1;
}

/* Registers the dataset's key and value schemas and reads their rules
 * back (the data standard is what the registry holds). */
static int register_dataset(sb_registry_client_t *registry, const char *topic, sb_event_encoder_t *enc,
                            sb_log_t *log) {
        char subject[600], errstr[1024];
        snprintf(subject, sizeof(subject), "%s-key", topic);
        if (sb_registry_register(registry, subject, sb_schema_json(sb_dataset_key_schema(enc->dataset)),
                                 &enc->key_schema_id, errstr, sizeof(errstr)) == SB_OK) {
                snprintf(subject, sizeof(subject), "%s-value", topic);
                sb_registry_register(registry, subject, sb_schema_json(sb_dataset_value_schema(enc->dataset)),
                                     &enc->value_schema_id, errstr, sizeof(errstr));
        }
        if (!enc->key_schema_id || !enc->value_schema_id) {
                SB_LOG(log, SB_LOG_ERROR, "cannot register the schemas of %s: %s", topic, errstr);
                return 1;
        }
        sb_err_t err = sb_event_encoder_fetch_rules(enc, registry, errstr, sizeof(errstr));
        if (err) {
                SB_LOG(log, SB_LOG_ERROR, "cannot use the rules of %s: %s", topic, errstr);
                return err == SB_ERR_SCHEMA ? 2 : 1;
        }
        SB_LOG(log, SB_LOG_INFO, "publishing to %s (key schema id %d, value schema id %d)", topic,
               enc->key_schema_id, enc->value_schema_id);
        return 0;
}

int main(int argc, char **argv) {
        const char *snapshot = NULL, *drain = NULL, *print_ddl = NULL, *table = NULL, *list_rejects = NULL;
        const sb_option_t options[] = {
                {"--snapshot", NULL,
                 "publish the current rows of snapshot_table as op=r events first, then the outbox from "
                 "there",
                 &snapshot},
                {"--drain", NULL,
                 "exit once everything is published: an outbox with no unsent row, a watched directory "
                 "with no new file (as a file does at its end)",
                 &drain},
                {"--print-ddl", "sqlite|postgresql",
                 "print the outbox table's DDL (and triggers, with --table)", &print_ddl},
                {"--table", "TABLE", "with --print-ddl: triggers on TABLE that fill the outbox", &table},
                {"--rejects", NULL, "list the records kept in rejects.<department>, then exit",
                 &list_rejects},
        };
        const sb_program_t prog = {
                "sharebus-producer",
                "Publishes a department's changes (JSON lines, CSV, or an outbox table) to "
                "Kafka as Avro change events.",
                sb_producer_settings,
                sb_producer_settings_count,
                options,
                sizeof(options) / sizeof(*options)};
        /* From the start: a SIGTERM while starting up stops cleanly too. */
        struct sigaction sa;
        memset(&sa, 0, sizeof(sa));
        sa.sa_handler = on_signal;
        sigaction(SIGINT, &sa, NULL);
        sigaction(SIGTERM, &sa, NULL);
        sb_config_t *cfg;
        sb_log_t *log;
        int rc = sb_cli_start(&prog, argc, argv, &cfg, &log);
        if (rc != SB_CLI_CONTINUE)
                return rc;
        char errstr[1024], topic[512], rejects_topic[512];
        const char *department = sb_config_string(cfg, "department");
        const char *dataset = sb_config_string(cfg, "dataset");
        snprintf(topic, sizeof(topic), "%s.%s", department, dataset);
        const char *rejects_setting = sb_config_string(cfg, "rejects_topic");
        snprintf(rejects_topic, sizeof(rejects_topic), "%s%s", *rejects_setting ? "" : "rejects.",
                 *rejects_setting ? rejects_setting : department);

        sb_dataset_t *ds = NULL;
        sb_registry_client_t *registry = NULL;
        sb_metrics_t *metrics = NULL;
        sb_http_server_t *http = NULL;
        sb_producer_t *producer = NULL;
        sb_event_encoder_t enc = {.department = department, .system = sb_config_string(cfg, "system")};

        if (sb_dataset_load(sb_config_string(cfg, "schema_dir"), topic, &ds, errstr, sizeof(errstr))) {
                SB_LOG(log, SB_LOG_ERROR, "%s: %s", sb_config_origin(cfg), errstr);
                rc = 2;
                goto done;
        }
        enc.dataset = ds;
        source_options_t src_opts = {.department = department,
                                     .dataset = dataset,
                                     .snapshot = snapshot != NULL,
                                     .drain = drain != NULL,
                                     .key_record = sb_schema_root(sb_dataset_key_schema(ds)),
                                     .row_record = sb_dataset_row(ds)};
        if (print_ddl) {
                sb_err_t err =
                        source_print_ddl(print_ddl, stdout, cfg, table, &src_opts, errstr, sizeof(errstr));
                if (err)
                        fprintf(stderr, "sharebus-producer: %s\n", errstr);
                rc = err ? 2 : 0;
                goto done;
        }
        if (list_rejects) {
                size_t count = 0;
                sb_err_t err = rejects_list(cfg, rejects_topic, stdout, log, &count, errstr, sizeof(errstr));
                if (err)
                        SB_LOG(log, SB_LOG_ERROR, "%s", errstr);
                else
                        printf("%zu rejects in %s\n", count, rejects_topic);
                rc = err ? 1 : 0;
                goto done;
        }
        /* Registry settings are checked (files read) before Kafka is touched. */
        sb_err_t reg_err = sb_registry_settings_client_new(cfg, &registry, errstr, sizeof(errstr));
        if (reg_err) {
                SB_LOG(log, SB_LOG_ERROR, "%s", errstr);
                rc = reg_err == SB_ERR_CONFIG ? 2 : 1;
                goto done;
        }
        if ((rc = register_dataset(registry, topic, &enc, log)))
                goto done;
        rc = 1;
        if (sb_metrics_new(&metrics, errstr, sizeof(errstr))) {
                SB_LOG(log, SB_LOG_ERROR, "%s", errstr);
                goto done;
        }
        sb_producer_conf_t conf = {
                .department = department,
                .topic = topic,
                .rejects_topic = rejects_topic,
                .batch_max = (int)sb_config_int(cfg, "batch_size"),
                .idle_wait_ms = (int)sb_config_int(cfg, "poll_timeout_ms"),
                .ack_interval_ms = (int)sb_config_int(cfg, "ack_interval_ms"),
                .flush_timeout_ms = (int)sb_config_int(cfg, "flush_timeout_ms"),
                .retry_backoff_max_ms = (int)sb_config_int(cfg, "retry_backoff_max_ms"),
        };
        sb_err_t err =
                sb_producer_new(&conf, cfg, &src_opts, &enc, metrics, log, &producer, errstr, sizeof(errstr));
        if (err) {
                SB_LOG(log, SB_LOG_ERROR, "%s", errstr);
                rc = err == SB_ERR_CONFIG ? 2 : 1;
                goto done;
        }
        if ((err = sb_http_server_from_config(cfg, metrics, sb_producer_healthy, producer, log, &http, errstr,
                                              sizeof(errstr)))) {
                SB_LOG(log, SB_LOG_ERROR, "%s", errstr);
                rc = err == SB_ERR_CONFIG ? 2 : 1;
                goto done;
        }
        err = sb_producer_run(producer, &stop_requested, errstr, sizeof(errstr));
        if (err)
                SB_LOG(log, SB_LOG_ERROR, "%s", errstr);
        const sb_producer_stats_t *st = sb_producer_stats(producer);
        SB_LOG(log, SB_LOG_INFO,
               "%llu records read: %llu events published to %s (+%llu tombstones), %llu rejected to %s, "
               "%llu messages delivered, %llu failed, %llu rewinds%s",
               (unsigned long long)st->read, (unsigned long long)st->published, topic,
               (unsigned long long)st->tombstones, (unsigned long long)st->rejected, rejects_topic,
               (unsigned long long)st->delivered, (unsigned long long)st->failed,
               (unsigned long long)st->rewinds, stop_requested ? " (stopped)" : "");
        rc = err || st->rejected ? 1 : 0;
done:
        sb_http_server_destroy(http);
        sb_producer_destroy(producer);
        sb_metrics_destroy(metrics);
        sb_event_encoder_clear(&enc);
        sb_registry_client_destroy(registry);
        sb_dataset_destroy(ds);
        sb_log_destroy(log);
        sb_config_destroy(cfg);
        return rc;
}

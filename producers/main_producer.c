/*
 * sharebus-producer: publishes a department's change events to its dataset
 * topic.  Reads JSON lines (change_line.h) from a file or stdin, registers
 * the schemas with the registry, checks each line against the dataset's
 * schemas and against the rules of the schemas as the registry holds them
 * (sb_rules.h), and produces key and envelope in the Confluent wire format,
 * idempotently with acks=all.  A delete is followed by a tombstone for its
 * key.  Exits 0 only if every line was valid and every event was delivered.
 */
#include <errno.h>
#include <stdint.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "change_line.h"
#include "event_encoder.h"
#include "sb_cli.h"
#include "sb_config.h"
#include "producer_settings.h"
#include "dataset.h"
#include "sb_kafka.h"
#include "sb_log.h"
#include "sb_registry_client.h"
#include "sb_registry_settings.h"

static const char *const kafka_defaults[] = {
        "enable.idempotence", "true", "acks", "all",
        /* Java clients' partitioner, so a key lands where theirs would. */
        "partitioner", "murmur2_random", "linger.ms", "5", NULL};

static volatile sig_atomic_t stop_requested;

static void on_signal(int sig) {
        (void)sig;
        stop_requested = 1;
}

typedef struct {
        sb_log_t *log;
        unsigned long delivered, failed;
} producer_state_t;

static void on_delivery(rd_kafka_t *rk, const rd_kafka_message_t *m, void *opaque) {
        producer_state_t *st = ((sb_kafka_opaque_t *)opaque)->app;
        (void)rk;
        if (m->err) {
                st->failed++;
                SB_LOG(st->log, SB_LOG_ERROR, "input line %ld: delivery failed: %s",
                       (long)(intptr_t)m->_private, rd_kafka_err2str(m->err));
        } else {
                st->delivered++;
        }
}

/* A null `value` produces the tombstone of `key`. */
static rd_kafka_resp_err_t produce(rd_kafka_t *rk, const char *topic, const sb_buf_t *key,
                                   const sb_buf_t *value, const char *department, const char *event_id,
                                   long line) {
        rd_kafka_headers_t *hdrs = rd_kafka_headers_new(2);
        if (!hdrs)
                return RD_KAFKA_RESP_ERR__FAIL; /* librdkafka aborts first, in practice */
        rd_kafka_header_add(hdrs, "sharebus.department", -1, department, -1);
        rd_kafka_header_add(hdrs, "sharebus.event_id", -1, event_id, -1);
        rd_kafka_resp_err_t err = sb_kafka_produce(rk, topic, key->data, key->len, value ? value->data : NULL,
                                                   value ? value->len : 0, hdrs, (void *)(intptr_t)line);
        if (err)
                rd_kafka_headers_destroy(hdrs);
        return err;
}

int main(int argc, char **argv) {
        const sb_program_t prog = {
                "sharebus-producer",
                "Publishes a department's change events (JSON lines) to Kafka as Avro change events.",
                sb_producer_settings, sb_producer_settings_count};
        sb_config_t *cfg;
        sb_log_t *log;
        int rc = sb_cli_start(&prog, argc, argv, &cfg, &log);
        if (rc != SB_CLI_CONTINUE)
                return rc;
        rc = 1;
        char errstr[1024];
        const char *config_path = sb_config_origin(cfg);
        char topic[512];
        const char *department = sb_config_string(cfg, "department");
        snprintf(topic, sizeof(topic), "%s.%s", department, sb_config_string(cfg, "dataset"));

        sb_dataset_t *ds = NULL;
        sb_registry_client_t *registry = NULL;
        rd_kafka_t *rk = NULL;
        FILE *in = NULL;
        producer_state_t st = {.log = log};
        sb_kafka_opaque_t opaque = {.log = log, .app = &st};
        sb_buf_t key, value;
        sb_buf_init(&key, 64 * 1024 * 1024);
        sb_buf_init(&value, 64 * 1024 * 1024);
        char *line = NULL;
        size_t line_cap = 0;
        sb_event_worker_t *worker = NULL;
        sb_event_encoder_t enc = {.department = department, .system = sb_config_string(cfg, "system")};

        if (sb_dataset_load(sb_config_string(cfg, "schema_dir"), topic, &ds, errstr, sizeof(errstr))) {
                SB_LOG(log, SB_LOG_ERROR, "%s: %s", config_path, errstr);
                rc = 2;
                goto done;
        }
        /* Registry settings are checked (files read) before Kafka is touched. */
        sb_err_t reg_err = sb_registry_settings_client_new(cfg, &registry, errstr, sizeof(errstr));
        if (reg_err) {
                SB_LOG(log, SB_LOG_ERROR, "%s", errstr);
                rc = reg_err == SB_ERR_CONFIG ? 2 : 1;
                goto done;
        }
        rd_kafka_conf_t *conf = sb_kafka_conf_new(cfg, kafka_defaults, &opaque, errstr, sizeof(errstr));
        if (!conf) {
                SB_LOG(log, SB_LOG_ERROR, "%s", errstr);
                rc = 2;
                goto done;
        }
        rd_kafka_conf_set_dr_msg_cb(conf, on_delivery);
        if (!(rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, errstr, sizeof(errstr)))) {
                rd_kafka_conf_destroy(conf);
                SB_LOG(log, SB_LOG_ERROR, "cannot create the Kafka producer: %s", errstr);
                goto done;
        }
        enc.dataset = ds;
        char subject[600];
        snprintf(subject, sizeof(subject), "%s-key", topic);
        if (sb_registry_register(registry, subject, sb_schema_json(sb_dataset_key_schema(ds)),
                                 &enc.key_schema_id, errstr, sizeof(errstr)) == SB_OK) {
                snprintf(subject, sizeof(subject), "%s-value", topic);
                sb_registry_register(registry, subject, sb_schema_json(sb_dataset_value_schema(ds)),
                                     &enc.value_schema_id, errstr, sizeof(errstr));
        }
        if (!enc.key_schema_id || !enc.value_schema_id) {
                SB_LOG(log, SB_LOG_ERROR, "cannot register the schemas of %s: %s", topic, errstr);
                goto done;
        }
        /* The rules are the registry's: what was registered, read back. */
        sb_err_t rules_err = sb_event_encoder_fetch_rules(&enc, registry, errstr, sizeof(errstr));
        if (rules_err) {
                SB_LOG(log, SB_LOG_ERROR, "cannot use the rules of %s: %s", topic, errstr);
                rc = rules_err == SB_ERR_SCHEMA ? 2 : 1;
                goto done;
        }
        if (sb_event_worker_new(&enc, &worker, errstr, sizeof(errstr))) {
                SB_LOG(log, SB_LOG_ERROR, "%s", errstr);
                goto done;
        }
        SB_LOG(log, SB_LOG_INFO, "publishing to %s (key schema id %d, value schema id %d)", topic,
               enc.key_schema_id, enc.value_schema_id);

        const char *input = sb_config_string(cfg, "input");
        in = strcmp(input, "-") == 0 ? stdin : fopen(input, "r");
        if (!in) {
                SB_LOG(log, SB_LOG_ERROR, "%s: %s", input, strerror(errno));
                goto done;
        }
        struct sigaction sa;
        memset(&sa, 0, sizeof(sa));
        sa.sa_handler = on_signal;
        sigaction(SIGINT, &sa, NULL);
        sigaction(SIGTERM, &sa, NULL);

        unsigned long lines = 0, invalid = 0, events = 0, tombstones = 0, produce_failed = 0;
        ssize_t n;
        while (!stop_requested && (n = getline(&line, &line_cap, in)) >= 0) {
                char event_id[37], op;
                lines++;
                if (sb_change_line_is_blank(line, (size_t)n))
                        continue;
                while (n > 0 && (line[n - 1] == '\n' || line[n - 1] == '\r' || line[n - 1] == ' '))
                        line[--n] = 0;
                sb_err_t bad = sb_event_encode_text(worker, line, (size_t)n, (int64_t)lines, &key, &value,
                                                    event_id, &op, errstr, sizeof(errstr));
                if (bad) {
                        invalid++;
                        SB_LOG(log, SB_LOG_ERROR, "%s:%lu: not published: %s",
                               strcmp(input, "-") ? input : "stdin", lines, errstr);
                        continue;
                }
                rd_kafka_resp_err_t err = produce(rk, topic, &key, &value, department, event_id, (long)lines);
                if (!err && op == 'd') {
                        err = produce(rk, topic, &key, NULL, department, event_id, (long)lines);
                        tombstones += !err;
                }
                if (err) {
                        produce_failed++;
                        SB_LOG(log, SB_LOG_ERROR, "line %lu: cannot produce: %s", lines,
                               rd_kafka_err2str(err));
                        continue;
                }
                events++;
                rd_kafka_poll(rk, 0);
        }
        if (ferror(in))
                SB_LOG(log, SB_LOG_ERROR, "%s: read error: %s", input, strerror(errno));

        long long flush_ms = sb_config_int(cfg, "flush_timeout_ms");
        while (rd_kafka_outq_len(rk) > 0 && flush_ms > 0) {
                rd_kafka_flush(rk, 500);
                flush_ms -= 500;
        }
        int queued = rd_kafka_outq_len(rk);
        if (queued > 0)
                SB_LOG(log, SB_LOG_ERROR, "%d messages still undelivered after flush_timeout_ms", queued);
        SB_LOG(log, SB_LOG_INFO,
               "%lu lines read: %lu events published to %s (+%lu tombstones), %lu invalid, "
               "%lu delivered, %lu failed%s",
               lines, events, topic, tombstones, invalid, st.delivered,
               st.failed + produce_failed + (unsigned long)queued, stop_requested ? " (interrupted)" : "");
        rc = (invalid || st.failed || produce_failed || queued || stop_requested || ferror(in)) ? 1 : 0;
done:
        if (in && in != stdin)
                fclose(in);
        free(line);
        sb_buf_free(&key);
        sb_buf_free(&value);
        if (rk)
                rd_kafka_destroy(rk);
        sb_event_worker_destroy(worker);
        sb_event_encoder_clear(&enc);
        sb_registry_client_destroy(registry);
        sb_dataset_destroy(ds);
        sb_log_destroy(log);
        sb_config_destroy(cfg);
        return rc;
}

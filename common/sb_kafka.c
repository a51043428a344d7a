#include "sb_kafka.h"

#include <stdio.h>
#include <string.h>

static void log_cb(const rd_kafka_t *rk, int level, const char *fac, const char *buf) {
        sb_kafka_opaque_t *op = rd_kafka_opaque(rk);
        if (op && op->log)
                sb_log_syslog(op->log, level, fac, buf);
}

/* librdkafka before 2.6.1 appends the client nonce twice in its SCRAM
 * client-final-message (librdkafka#4895); Kafka 4.x checks the nonce as
 * RFC 5802 says and answers "invalid credentials" to a right password.  The
 * login fails at every connection, far from the config that caused it, so
 * it is said once here, where the config is read. */
static void warn_old_scram(rd_kafka_conf_t *conf, const sb_kafka_opaque_t *opaque) {
        char mech[64];
        size_t len = sizeof(mech);
        if (!opaque || !opaque->log || rd_kafka_version() >= SB_KAFKA_SCRAM_FIXED_VERSION ||
            rd_kafka_conf_get(conf, "sasl.mechanisms", mech, &len) != RD_KAFKA_CONF_OK ||
            strncmp(mech, "SCRAM-", 6) != 0)
                return;
        char proto[32];
        len = sizeof(proto);
        if (rd_kafka_conf_get(conf, "security.protocol", proto, &len) != RD_KAFKA_CONF_OK ||
            strncmp(proto, "sasl_", 5) != 0)
                return;
        sb_log_write(opaque->log, SB_LOG_WARN,
                     "kafka: sasl.mechanism %s with librdkafka %s: Kafka 4.x brokers refuse its SCRAM login "
                     "as invalid credentials (fixed in librdkafka 2.6.1); with such a broker log in with a "
                     "TLS client certificate (security_protocol = \"SSL\", README \"Security\")",
                     mech, rd_kafka_version_str());
}

sb_err_t sb_kafka_conf_new(const sb_config_t *cfg, const char *const *defaults, sb_kafka_opaque_t *opaque,
                           rd_kafka_conf_t **out, char *errstr, size_t errstr_size) {
        rd_kafka_conf_t *conf = rd_kafka_conf_new();
        if (!conf)
                return sb_seterr(SB_ERR_NOMEM, errstr, errstr_size, "out of memory");
        char err[512];
        for (size_t i = 0; defaults && defaults[i]; i += 2)
                if (rd_kafka_conf_set(conf, defaults[i], defaults[i + 1], err, sizeof(err)) !=
                    RD_KAFKA_CONF_OK) {
                        rd_kafka_conf_destroy(conf);
                        return sb_seterr(SB_ERR_CONFIG, errstr, errstr_size, "built-in kafka property %s: %s",
                                         defaults[i], err);
                }
        for (size_t i = 0; cfg && i < sb_config_kafka_count(cfg); i++) {
                const char *name = sb_config_kafka_name(cfg, i);
                if (rd_kafka_conf_set(conf, name, sb_config_kafka_value(cfg, i), err, sizeof(err)) !=
                    RD_KAFKA_CONF_OK) {
                        rd_kafka_conf_destroy(conf);
                        return sb_seterr(SB_ERR_CONFIG, errstr, errstr_size, "%s:%d: setting 'kafka.%s': %s",
                                         sb_config_origin(cfg), sb_config_kafka_line(cfg, i), name, err);
                }
        }
        warn_old_scram(conf, opaque);
        rd_kafka_conf_set_opaque(conf, opaque);
        rd_kafka_conf_set_log_cb(conf, log_cb);
        *out = conf;
        return SB_OK;
}

rd_kafka_resp_err_t sb_kafka_produce(rd_kafka_t *rk, const char *topic, const void *key, size_t key_len,
                                     const void *value, size_t value_len, rd_kafka_headers_t *headers,
                                     void *msg_opaque, const volatile sig_atomic_t *stop) {
        for (;;) {
                /* producev takes the headers only when it returns no error. */
                rd_kafka_resp_err_t err =
                        headers ? rd_kafka_producev(rk, RD_KAFKA_V_TOPIC(topic),
                                                    RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
                                                    RD_KAFKA_V_KEY((void *)key, key_len),
                                                    RD_KAFKA_V_VALUE((void *)value, value_len),
                                                    RD_KAFKA_V_HEADERS(headers),
                                                    RD_KAFKA_V_OPAQUE(msg_opaque), RD_KAFKA_V_END)
                                : rd_kafka_producev(rk, RD_KAFKA_V_TOPIC(topic),
                                                    RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
                                                    RD_KAFKA_V_KEY((void *)key, key_len),
                                                    RD_KAFKA_V_VALUE((void *)value, value_len),
                                                    RD_KAFKA_V_OPAQUE(msg_opaque), RD_KAFKA_V_END);
                if (err != RD_KAFKA_RESP_ERR__QUEUE_FULL || (stop && *stop))
                        return err;
                rd_kafka_poll(rk, 100);
        }
}

sb_err_t sb_kafka_wait_ready(rd_kafka_t *rk, int timeout_ms, char *errstr, size_t errstr_size) {
        const struct rd_kafka_metadata *md = NULL;
        rd_kafka_resp_err_t err = rd_kafka_metadata(rk, 0, NULL, &md, timeout_ms);
        if (err)
                return sb_seterr(SB_ERR_KAFKA, errstr, errstr_size, "Kafka cluster not reachable: %s",
                                 rd_kafka_err2str(err));
        rd_kafka_metadata_destroy(md);
        return SB_OK;
}

rd_kafka_resp_err_t sb_kafka_topic_partitions(rd_kafka_t *rk, const char *topic, int timeout_ms,
                                              int *partitions) {
        *partitions = 0;
        rd_kafka_topic_t *rkt = rd_kafka_topic_new(rk, topic, NULL);
        const struct rd_kafka_metadata *md = NULL;
        rd_kafka_resp_err_t err =
                rkt ? rd_kafka_metadata(rk, 0, rkt, &md, timeout_ms) : RD_KAFKA_RESP_ERR__FAIL;
        if (!err && (md->topic_cnt != 1 || md->topics[0].err))
                err = md->topic_cnt ? md->topics[0].err : RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART;
        else if (!err)
                *partitions = md->topics[0].partition_cnt;
        if (md)
                rd_kafka_metadata_destroy(md);
        if (rkt)
                rd_kafka_topic_destroy(rkt);
        return err;
}

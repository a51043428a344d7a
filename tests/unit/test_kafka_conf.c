/*
 * sb_kafka_conf_new: the `kafka` group of a config into librdkafka, and
 * the warning for a SCRAM login this librdkafka cannot make to Kafka 4.x.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sb_config.h"
#include "sb_kafka.h"
#include "sb_log.h"
#include "testutil.h"

/* What sb_kafka_conf_new logs for a config text; *err its result.  The
 * caller frees the text. */
static char *logged_for(const char *text, sb_err_t *err) {
        char errstr[512];
        sb_config_t *cfg = NULL;
        ck_assert_msg(sb_config_load_string(text, "test.conf", NULL, 0, &cfg, errstr, sizeof(errstr)) ==
                              SB_OK,
                      "%s", errstr);
        char *out = NULL;
        size_t out_len = 0;
        FILE *f = open_memstream(&out, &out_len);
        ck_assert_ptr_nonnull(f);
        sb_log_t *log = NULL;
        ck_assert_int_eq(sb_log_new("test", SB_LOG_INFO, f, &log, errstr, sizeof(errstr)), SB_OK);
        sb_kafka_opaque_t opaque = {.log = log};
        rd_kafka_conf_t *conf = NULL;
        *err = sb_kafka_conf_new(cfg, NULL, &opaque, &conf, errstr, sizeof(errstr));
        if (conf)
                rd_kafka_conf_destroy(conf);
        sb_log_destroy(log);
        fclose(f);
        sb_config_destroy(cfg);
        return out;
}

START_TEST(scram_with_old_librdkafka_is_warned) {
        sb_err_t err;
        char *text =
                logged_for("kafka = { security_protocol = \"SASL_SSL\"; sasl_mechanism = \"SCRAM-SHA-512\";"
                           " sasl_username = \"market\"; sasl_password = \"x\"; };",
                           &err);
        ck_assert_int_eq(err, SB_OK);
        if (rd_kafka_version() < SB_KAFKA_SCRAM_FIXED_VERSION)
                ck_assert_msg(strstr(text, "Kafka 4.x brokers refuse its SCRAM login") &&
                                      strstr(text, "SCRAM-SHA-512") && strstr(text, rd_kafka_version_str()) &&
                                      strstr(text, "security_protocol = \"SSL\""),
                              "no warning in: %s", text);
        else
                ck_assert_str_eq(text, "");
        free(text);
}
END_TEST

START_TEST(tls_client_certificate_and_plaintext_are_not_warned) {
        const char *texts[] = {
                "kafka = { security_protocol = \"SSL\"; ssl_ca_location = \"/dev/null\"; };",
                "kafka = { bootstrap_servers = \"127.0.0.1:9092\"; };",
                /* SASL/PLAIN works with every librdkafka. */
                "kafka = { security_protocol = \"SASL_SSL\"; sasl_mechanism = \"PLAIN\"; };",
        };
        for (size_t i = 0; i < sizeof(texts) / sizeof(*texts); i++) {
                sb_err_t err;
                char *text = logged_for(texts[i], &err);
                ck_assert_int_eq(err, SB_OK);
                ck_assert_msg(strcmp(text, "") == 0, "%s logged: %s", texts[i], text);
                free(text);
        }
}
END_TEST

START_TEST(refused_property_names_file_and_line) {
        sb_err_t err;
        char errstr[512];
        sb_config_t *cfg = NULL;
        ck_assert_int_eq(sb_config_load_string("kafka = {\n security_protocol = \"TLS\"; };", "x.conf", NULL,
                                               0, &cfg, errstr, sizeof(errstr)),
                         SB_OK);
        sb_kafka_opaque_t opaque = {0};
        rd_kafka_conf_t *conf = NULL;
        err = sb_kafka_conf_new(cfg, NULL, &opaque, &conf, errstr, sizeof(errstr));
        ck_assert_int_eq(err, SB_ERR_CONFIG);
        ck_assert_ptr_null(conf);
        ck_assert_msg(strstr(errstr, "x.conf:2: setting 'kafka.security.protocol'"), "%s", errstr);
        sb_config_destroy(cfg);
}
END_TEST

int main(void) {
        Suite *s = suite_create("kafka_conf");
        TCase *tc = tcase_create("kafka_conf");
        tcase_add_test(tc, scram_with_old_librdkafka_is_warned);
        tcase_add_test(tc, tls_client_certificate_and_plaintext_are_not_warned);
        tcase_add_test(tc, refused_property_names_file_and_line);
        suite_add_tcase(s, tc);
        return test_run_suite(s);
}

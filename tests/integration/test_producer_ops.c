/*
 * Integration: sharebus-producer as operators see it, on a real broker and
 * a real sharebus-registry: /metrics and /healthz of a run that never ends
 * by itself (a watched directory) and its SIGTERM, `--rejects`, and the
 * refusal to start without the rejects topic.
 */
#include <curl/curl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "harness.h"

static h_env_t env; /* the suite's broker and registry, set up by main */

/* The value of `metric`{dataset="<dataset>"} in the text of /metrics, -1 if
 * absent. */
static double metric_value(const char *text, const char *metric, const char *dataset) {
        char prefix[512];
        snprintf(prefix, sizeof(prefix), "%s{dataset=\"%s\"} ", metric, dataset);
        for (const char *line = text; line && *line;
             line = strchr(line, '\n') ? strchr(line, '\n') + 1 : NULL)
                if (strncmp(line, prefix, strlen(prefix)) == 0)
                        return strtod(line + strlen(prefix), NULL);
        return -1;
}

/* GET /metrics until `metric` reaches `want` (60 s at most); returns the
 * last text (caller frees). */
static char *metrics_when(int port, const char *metric, const char *dataset, double want) {
        char url[128];
        snprintf(url, sizeof(url), "http://127.0.0.1:%d/metrics", port);
        for (int i = 0; i < 600; i++) {
                h_reply_t r = {0};
                ck_assert_int_eq(h_http("GET", url, NULL, NULL, NULL, &r), 200);
                if (metric_value(r.text, metric, dataset) >= want || i == 599) {
                        char *text = r.text;
                        r.text = NULL;
                        return text;
                }
                h_reply_free(&r);
                h_sleep_ms(100);
        }
        return NULL;
}

/* A watched directory: the producer publishes what comes, serves its
 * metrics, is healthy, and on SIGTERM flushes, says what it did and
 * exits 0. */
START_TEST(producer_metrics_health_and_sigterm) {
        char sample[600], dir[600], file[700], log[600], input[700];
        h_copy_dataset(&env, "market.business_license", "opsm.license");
        ck_assert_int_eq(h_create_topic(&env, "opsm.license", 3), 0);
        snprintf(dir, sizeof(dir), "%s", h_path(&env, "opsm-in"));
        ck_assert_int_eq(mkdir(dir, 0700), 0);
        int deletes = h_write_sample(&env, "market.business_license", "opsm.jsonl.tmp", 400, 60, 7, sample,
                                     sizeof(sample));
        snprintf(file, sizeof(file), "%s/0001.jsonl", dir);
        ck_assert_int_eq(rename(sample, file), 0);
        snprintf(log, sizeof(log), "%s", h_path(&env, "producer-opsm.log"));
        snprintf(input, sizeof(input), "%s", dir);
        const char *conf = h_producer_conf(&env, "opsm", "license", NULL, input,
                                           "metrics_listen = \"127.0.0.1:0\";\nack_interval_ms = 50;");
        pid_t pid = h_start_program(&env, "sharebus-producer", conf, log);
        ck_assert_int_gt(pid, 0);
        int port = h_logged_port(log);
        ck_assert_msg(port > 0, "no port in %s", log);

        /* Everything delivered: the counters say what was published. */
        char *text = metrics_when(port, "sharebus_producer_messages_delivered_total", "opsm.license",
                                  400 + deletes);
        ck_assert_ptr_nonnull(text);
        ck_assert_double_eq(metric_value(text, "sharebus_producer_records_read_total", "opsm.license"), 400);
        ck_assert_double_eq(metric_value(text, "sharebus_producer_events_published_total", "opsm.license"),
                            400);
        ck_assert_double_eq(metric_value(text, "sharebus_producer_records_rejected_total", "opsm.license"),
                            0);
        ck_assert_double_eq(metric_value(text, "sharebus_producer_messages_delivered_total", "opsm.license"),
                            400 + deletes);
        ck_assert_double_eq(metric_value(text, "sharebus_producer_delivery_failures_total", "opsm.license"),
                            0);
        ck_assert_double_eq(metric_value(text, "sharebus_producer_rewinds_total", "opsm.license"), 0);
        ck_assert_ptr_nonnull(strstr(text, "sharebus_producer_delivery_latency_seconds_count{dataset=\"opsm."
                                           "license\"} "));
        free(text);
        ck_assert_int_eq(h_topic_count(&env, "opsm.license", 3), 400 + deletes);

        char url[128];
        h_reply_t r = {0};
        snprintf(url, sizeof(url), "http://127.0.0.1:%d/healthz", port);
        ck_assert_int_eq(h_http("GET", url, NULL, NULL, NULL, &r), 200);
        h_reply_free(&r);

        /* The run never ends by itself: SIGTERM ends it. */
        ck_assert_int_eq(kill(pid, SIGTERM), 0);
        ck_assert_int_eq(h_wait(pid, 60000), 0);
        char summary[512];
        snprintf(summary, sizeof(summary),
                 "400 records read: 400 events published to opsm.license (+%d tombstones), 0 rejected to "
                 "rejects.opsm, %d messages delivered, 0 failed, 0 rewinds (stopped)",
                 deletes, 400 + deletes);
        ck_assert_msg(h_file_contains(log, summary), "no '%s' in %s", summary, log);
}
END_TEST

/* SIGTERM while records are in flight: what is handed over is flushed
 * and delivered before the exit. */
START_TEST(producer_sigterm_flushes_what_is_in_flight) {
        char sample[600], dir[600], file[700], log[600], input[700];
        h_copy_dataset(&env, "market.business_license", "opsf.license");
        ck_assert_int_eq(h_create_topic(&env, "opsf.license", 1), 0);
        snprintf(dir, sizeof(dir), "%s", h_path(&env, "opsf-in"));
        ck_assert_int_eq(mkdir(dir, 0700), 0);
        h_write_sample(&env, "market.business_license", "opsf.jsonl.tmp", 20000, 500, 3, sample,
                       sizeof(sample));
        snprintf(file, sizeof(file), "%s/0001.jsonl", dir);
        ck_assert_int_eq(rename(sample, file), 0);
        snprintf(log, sizeof(log), "%s", h_path(&env, "producer-opsf.log"));
        snprintf(input, sizeof(input), "%s", dir);
        /* Small batches: the signal comes while the file is being read. */
        const char *conf = h_producer_conf(&env, "opsf", "license", NULL, input,
                                           "metrics_listen = \"127.0.0.1:0\";\nbatch_size = 64;");
        pid_t pid = h_start_program(&env, "sharebus-producer", conf, log);
        ck_assert_int_gt(pid, 0);
        int port = h_logged_port(log);
        ck_assert_msg(port > 0, "no port in %s", log);
        char *text = metrics_when(port, "sharebus_producer_records_read_total", "opsf.license", 1);
        free(text);
        ck_assert_int_eq(kill(pid, SIGTERM), 0);
        ck_assert_int_eq(h_wait(pid, 90000), 0);
        /* What the summary says was delivered is in the topic, and each
         * record read was delivered. */
        FILE *f = fopen(log, "r");
        ck_assert_ptr_nonnull(f);
        char line[2048];
        unsigned long long read = 0, published = 0, tombstones = 0, delivered = 0;
        int found = 0;
        while (fgets(line, sizeof(line), f)) {
                const char *at = strstr(line, " records read: ");
                if (!at)
                        continue;
                while (at > line && at[-1] >= '0' && at[-1] <= '9')
                        at--;
                found = sscanf(at,
                               "%llu records read: %llu events published to opsf.license (+%llu tombstones), "
                               "0 "
                               "rejected to rejects.opsf, %llu messages delivered, 0 failed",
                               &read, &published, &tombstones, &delivered) == 4;
        }
        fclose(f);
        ck_assert_msg(found, "no summary in %s", log);
        ck_assert(h_file_contains(log, "(stopped)"));
        ck_assert_uint_eq(published, read);
        ck_assert_uint_eq(delivered, published + tombstones);
        ck_assert_uint_le(read, 20000);
        ck_assert_int_eq(h_topic_count(&env, "opsf.license", 1), (long long)delivered);
}
END_TEST

static const char license_row[] =
        "\"name\":\"Ops Co.\",\"legal_representative\":\"Lin\",\"registered_capital\":%s,"
        "\"business_scope\":null,\"status\":\"ACTIVE\",\"established_on\":\"1996-02-29\","
        "\"address\":null,\"updated_at\":\"2025-01-01T00:00:00Z\"";

static const char *license_line(const char *uscc, const char *capital) {
        static char line[1024];
        char row[600];
        snprintf(row, sizeof(row), license_row, capital);
        snprintf(line, sizeof(line),
                 "{\"op\":\"c\",\"key\":{\"uscc\":\"%s\"},\"after\":{\"uscc\":\"%s\",%s}}\n", uscc, uscc,
                 row);
        return line;
}

/* `--rejects` lists the rejects of a run, one line each with its field and
 * rule, then their count, and exits 0. */
START_TEST(producer_lists_rejects) {
        char text[4096] = "", lines[600], log[600], listing[600];
        h_copy_dataset(&env, "market.business_license", "opsr.license");
        ck_assert_int_eq(h_create_topic(&env, "opsr.license", 1), 0);
        strcat(text, license_line("91350100M000100Y43", "1234.5"));
        strcat(text, license_line("91350100M000100Y44", "1234.5")); /* bad check character */
        strcat(text, license_line("91110000600037341L", "-5"));     /* negative capital */
        strcat(text, "not a change line\n");
        snprintf(lines, sizeof(lines), "%s", h_write_file(&env, "opsr.jsonl", "%s", text));
        snprintf(log, sizeof(log), "%s", h_path(&env, "producer-opsr.log"));
        ck_assert_int_eq(h_run_producer(&env, "opsr", "license", NULL, lines, NULL, log), 1);

        snprintf(listing, sizeof(listing), "%s", h_path(&env, "producer-opsr-rejects.log"));
        char bin[1200], conf[700];
        snprintf(bin, sizeof(bin), "%s", h_bin(&env, "sharebus-producer"));
        snprintf(conf, sizeof(conf), "%s", h_producer_conf(&env, "opsr", "license", NULL, lines, NULL));
        char *argv[] = {bin, "--config", conf, "--rejects", NULL};
        ck_assert_int_eq(h_run(argv, listing, 60000), 0);
        ck_assert(h_file_contains(listing, "opsr.jsonl:2 field=key.uscc rule=cn_uscc: key.uscc: "
                                           "check character is wrong (cn_uscc)\n"));
        ck_assert(h_file_contains(listing,
                                  "opsr.jsonl:3 field=after.registered_capital "
                                  "rule=minimum: after.registered_capital: -5 is below the minimum 0\n"));
        ck_assert(h_file_contains(listing, "opsr.jsonl:4 field=- rule=change_line: not valid JSON"));
        ck_assert(h_file_contains(listing, "Z opsr.license /")); /* time, dataset, source */
        ck_assert(h_file_contains(listing, "3 rejects in rejects.opsr\n"));
        ck_assert(!h_file_contains(listing, "opsr.jsonl:1 "));
}
END_TEST

/* Without its rejects topic the producer does not start: it says which
 * topic and what to do, exits 1 and publishes nothing. */
START_TEST(producer_refuses_to_start_without_rejects_topic) {
        char lines[600], log[600];
        h_copy_dataset(&env, "market.business_license", "opsx.license");
        ck_assert_int_eq(h_create_topic(&env, "opsx.license", 1), 0);
        snprintf(lines, sizeof(lines), "%s",
                 h_write_file(&env, "opsx.jsonl", "%s", license_line("91350100M000100Y43", "1")));
        snprintf(log, sizeof(log), "%s", h_path(&env, "producer-opsx.log"));
        ck_assert_int_eq(h_run_producer(&env, "opsx", "license", NULL, lines,
                                        "rejects_topic = \"rejects.absent\";", log),
                         1);
        ck_assert(h_file_contains(log,
                                  "topic rejects.absent does not exist: create it first "
                                  "(declare it in broker-config/topics.conf, then sharebus-topics apply)"));
        ck_assert_int_eq(h_topic_count(&env, "opsx.license", 1), 0);
}
END_TEST

int main(void) {
        curl_global_init(CURL_GLOBAL_DEFAULT);
        if (h_env_start(&env) != 0)
                return 1;
        Suite *s = suite_create("producer_ops");
        TCase *tc = tcase_create("ops");
        tcase_set_timeout(tc, 300);
        tcase_add_test(tc, producer_metrics_health_and_sigterm);
        tcase_add_test(tc, producer_sigterm_flushes_what_is_in_flight);
        tcase_add_test(tc, producer_lists_rejects);
        tcase_add_test(tc, producer_refuses_to_start_without_rejects_topic);
        suite_add_tcase(s, tc);
        int failed = h_run_suite(s);
        h_env_stop(&env);
        curl_global_cleanup();
        return failed ? 1 : 0;
}

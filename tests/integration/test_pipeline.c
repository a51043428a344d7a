/*
 * Integration: one change travels from a department to a subscriber through
 * a real Kafka broker and a real sharebus-registry, as processes.
 */
#include <librdkafka/rdkafka.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "harness.h"
#include "sample.h"

static h_env_t env; /* the suite's broker and registry, set up by main */

/* Copies the schemas of sample dataset `from` to <dir>/schemas/<to>.*.avsc,
 * so each test has a topic of its own. */
static void copy_dataset(const char *from, const char *to) {
        char cmd[4096];
        snprintf(cmd, sizeof(cmd),
                 "mkdir -p '%s/schemas' && cp '%s/schemas/datasets/%s.key.avsc' '%s/schemas/%s.key.avsc' && "
                 "cp '%s/schemas/datasets/%s.row.avsc' '%s/schemas/%s.row.avsc'",
                 env.dir, env.src, from, env.dir, to, env.src, from, env.dir, to);
        ck_assert_int_eq(system(cmd), 0);
}

/* Writes `count` sample changes over `keys` records of dataset `sample` to
 * <dir>/<name>; returns the number of deletes (each adds a tombstone). */
static int write_sample(const char *sample, const char *name, int count, int keys, int seed, char *path,
                        size_t size) {
        snprintf(path, size, "%s/%s", env.dir, name);
        FILE *f = fopen(path, "w");
        ck_assert_ptr_nonnull(f);
        sb_sample_t *s = sb_sample_new(sample, (uint64_t)seed, (size_t)keys);
        ck_assert_ptr_nonnull(s);
        int deletes = 0;
        for (int i = 0; i < count; i++) {
                char *line = sb_sample_next(s);
                ck_assert_ptr_nonnull(line);
                deletes += strncmp(line, "{\"op\":\"d\"", 9) == 0;
                fprintf(f, "%s\n", line);
                free(line);
        }
        sb_sample_destroy(s);
        fclose(f);
        return deletes;
}

static int run_producer(const char *department, const char *dataset, const char *input, const char *log) {
        char name[256], conf[700];
        snprintf(name, sizeof(name), "producer-%s.%s.conf", department, dataset);
        snprintf(conf, sizeof(conf), "%s",
                 h_write_file(&env, name,
                              "department = \"%s\";\ndataset = \"%s\";\nschema_dir = \"%s/schemas\";\n"
                              "registry_url = \"%s\";\ninput = \"%s\";\n"
                              "kafka = { bootstrap_servers = \"%s\"; };\n",
                              department, dataset, env.dir, env.registry_url, input, env.bootstrap));
        char bin[1200];
        snprintf(bin, sizeof(bin), "%s", h_bin(&env, "sharebus-producer"));
        char *argv[] = {bin, "--config", conf, NULL};
        return h_run(argv, log, 120000);
}

/* Starts a subscriber; `extra` is appended to its config. */
static pid_t start_subscriber_kafka(const char *name, const char *topics, const char *db, const char *extra,
                                    const char *kafka_extra, const char *log) {
        char file[256], conf[700];
        snprintf(file, sizeof(file), "subscriber-%s.conf", name);
        snprintf(conf, sizeof(conf), "%s",
                 h_write_file(&env, file,
                              "name = \"%s\";\ntopics = \"%s\";\nregistry_url = \"%s\";\n"
                              "sqlite_path = \"%s\";\nlog_level = \"debug\";\n%s\n"
                              "kafka = { bootstrap_servers = \"%s\"; session_timeout_ms = 6000; %s };\n",
                              name, topics, env.registry_url, db, extra, env.bootstrap, kafka_extra));
        char bin[1200];
        snprintf(bin, sizeof(bin), "%s", h_bin(&env, "sharebus-subscriber"));
        char *argv[] = {bin, "--config", conf, NULL};
        return h_spawn(argv, log);
}

static pid_t start_subscriber(const char *name, const char *topics, const char *db, const char *extra,
                              const char *log) {
        return start_subscriber_kafka(name, topics, db, extra, "", log);
}

static char *path_in_dir(const char *name) {
        static char path[600];
        snprintf(path, sizeof(path), "%s/%s", env.dir, name);
        return path;
}

START_TEST(thousand_changes_arrive_exactly) {
        char lines[600], db[600], log[600];
        copy_dataset("market.business_license", "market.business_license");
        ck_assert_int_eq(h_create_topic(&env, "market.business_license", 3), 0);
        int deletes =
                write_sample("market.business_license", "license.jsonl", 1000, 300, 11, lines, sizeof(lines));
        ck_assert_int_gt(deletes, 0);
        snprintf(log, sizeof(log), "%s", path_in_dir("producer-license.log"));
        ck_assert_int_eq(run_producer("market", "business_license", lines, log), 0);
        ck_assert(h_file_contains(log, "1000 events published"));

        snprintf(db, sizeof(db), "%s", path_in_dir("license.db"));
        snprintf(log, sizeof(log), "%s", path_in_dir("subscriber-license.log"));
        pid_t pid = start_subscriber("license", "market.business_license", db, "idle_exit_ms = 4000;", log);
        ck_assert_int_eq(h_wait(pid, 120000), 0);

        json_t *expected = h_expected_state(lines, "uscc");
        h_assert_table_equals(db, "market_business_license", "uscc", expected);
        json_decref(expected);
        ck_assert_int_eq(h_sqlite_int(db, "SELECT count(*) FROM sharebus_receipts"), 1000);
        ck_assert_int_eq(h_sqlite_int(db, "SELECT count(DISTINCT event_id) FROM sharebus_receipts"), 1000);
        ck_assert_int_eq(h_sqlite_int(db, "SELECT sum(next_offset) FROM sharebus_offsets"), 1000 + deletes);
}
END_TEST

/* Static membership: a restarted subscriber takes its partitions back at
 * once instead of waiting for the killed one's session to time out. */
#define KILL_KAFKA "group_instance_id = \"kill-1\";"

START_TEST(sigkill_mid_stream_loses_and_repeats_nothing) {
        char lines[600], db[600], log[600];
        copy_dataset("civil.resident", "killtest.resident");
        ck_assert_int_eq(h_create_topic(&env, "killtest.resident", 3), 0);
        int deletes = write_sample("civil.resident", "resident.jsonl", 1000, 300, 22, lines, sizeof(lines));
        ck_assert_int_eq(run_producer("killtest", "resident", lines, path_in_dir("producer-kill.log")), 0);
        long long total = 1000 + deletes;

        snprintf(db, sizeof(db), "%s", path_in_dir("kill.db"));
        snprintf(log, sizeof(log), "%s", path_in_dir("subscriber-kill.log"));
        long long last = 0;
        for (int round = 1; round <= 3; round++) {
                /* One record per transaction makes the stream slow enough to
                 * be killed in the middle of it. */
                pid_t pid = start_subscriber_kafka("kill", "killtest.resident", db, "batch_size = 1;",
                                                   KILL_KAFKA, log);
                long long target = total * round / 4, done = 0;
                for (int i = 0; i < 6000 && done < target; i++) {
                        h_sleep_ms(5);
                        done = h_sqlite_int(db, "SELECT coalesce(sum(next_offset), 0) FROM sharebus_offsets");
                }
                kill(pid, SIGKILL);
                ck_assert_int_eq(h_wait(pid, 10000), 128 + SIGKILL);
                done = h_sqlite_int(db, "SELECT coalesce(sum(next_offset), 0) FROM sharebus_offsets");
                fprintf(stderr, "kill round %d: killed at %lld of %lld records\n", round, done, total);
                ck_assert_msg(done >= target && done < total,
                              "round %d: not killed mid-stream (%lld of %lld applied)", round, done, total);
                ck_assert_int_ge(done, last);
                last = done;
        }
        /* The last run goes to the end of the stream and stops on SIGTERM. */
        pid_t pid =
                start_subscriber_kafka("kill", "killtest.resident", db, "batch_size = 50;", KILL_KAFKA, log);
        long long done = 0;
        for (int i = 0; i < 1200 && done < total; i++) {
                h_sleep_ms(100);
                done = h_sqlite_int(db, "SELECT coalesce(sum(next_offset), 0) FROM sharebus_offsets");
        }
        kill(pid, SIGTERM);
        ck_assert_int_eq(h_wait(pid, 30000), 0);
        json_t *expected = h_expected_state(lines, "id_number");
        h_assert_table_equals(db, "killtest_resident", "id_number", expected);
        json_decref(expected);
        /* Every event applied once: as many receipts as events, none twice. */
        ck_assert_int_eq(h_sqlite_int(db, "SELECT count(*) FROM sharebus_receipts"), 1000);
        ck_assert_int_eq(h_sqlite_int(db, "SELECT count(DISTINCT event_id) FROM sharebus_receipts"), 1000);
        ck_assert_int_eq(h_sqlite_int(db, "SELECT sum(next_offset) FROM sharebus_offsets"), total);
}
END_TEST

START_TEST(invalid_lines_are_named_and_valid_ones_published) {
        char db[600], log[600];
        copy_dataset("tax.taxpayer", "badlines.taxpayer");
        ck_assert_int_eq(h_create_topic(&env, "badlines.taxpayer", 1), 0);
        const char *row = "\"name\":\"A Ltd\",\"taxpayer_type\":\"GENERAL\",\"tax_authority\":\"X\","
                          "\"registered_on\":\"2020-01-02\",\"employee_count\":3,\"active\":true,"
                          "\"updated_at\":\"2025-01-01T00:00:00Z\"";
        char input[600];
        snprintf(input, sizeof(input), "%s",
                 h_write_file(&env, "bad.jsonl",
                              "{\"op\":\"c\",\"key\":{\"taxpayer_id\":\"91350100M000100Y43\"},\"after\":{"
                              "\"taxpayer_id\":"
                              "\"91350100M000100Y43\",%s}}\n"
                              "{\"op\":\"c\",\"key\":{\"taxpayer_id\":\"T2\"},\"after\":{\"taxpayer_id\":"
                              "\"T2\",%s,\"employee_count\":\"many\"}}\n"
                              "this is not json\n"
                              "{\"op\":\"x\",\"key\":{\"taxpayer_id\":\"T3\"}}\n"
                              "{\"op\":\"c\",\"key\":{\"taxpayer_id\":\"T4\"},\"after\":{\"taxpayer_id\":"
                              "\"T4\",%s,\"colour\":\"red\"}}\n"
                              "{\"op\":\"c\",\"key\":{\"taxpayer_id\":\"91310000775785552L\"},\"after\":{"
                              "\"taxpayer_id\":"
                              "\"91310000775785552L\",%s}}\n",
                              row, row, row, row));
        /* T2 has employee_count twice: JSON with duplicate keys is refused too. */
        snprintf(log, sizeof(log), "%s", path_in_dir("producer-bad.log"));
        ck_assert_int_eq(run_producer("badlines", "taxpayer", input, log), 1);
        ck_assert(h_file_contains(
                log, "bad.jsonl:2: not published: not valid JSON at column 240: duplicate object key"));
        ck_assert(h_file_contains(log, "bad.jsonl:3: not published: not valid JSON"));
        ck_assert(h_file_contains(log, "bad.jsonl:4: not published: \"op\" must be"));
        ck_assert(h_file_contains(log, "bad.jsonl:5: not published: after.colour: unknown field"));
        ck_assert(h_file_contains(log, "2 events published"));

        snprintf(db, sizeof(db), "%s", path_in_dir("bad.db"));
        pid_t pid = start_subscriber("bad", "badlines.taxpayer", db, "idle_exit_ms = 4000;",
                                     path_in_dir("subscriber-bad.log"));
        ck_assert_int_eq(h_wait(pid, 60000), 0);
        ck_assert_int_eq(h_sqlite_int(db, "SELECT count(*) FROM badlines_taxpayer"), 2);
        ck_assert_int_eq(h_sqlite_int(db, "SELECT count(*) FROM badlines_taxpayer WHERE taxpayer_id IN "
                                          "('91350100M000100Y43','91310000775785552L')"),
                         2);
}
END_TEST

/* Produces raw bytes to a topic, as a misbehaving client could. */
static void produce_raw(const char *topic, void *key, size_t key_len, void *value, size_t value_len) {
        char errstr[256];
        rd_kafka_conf_t *conf = rd_kafka_conf_new();
        rd_kafka_conf_set(conf, "bootstrap.servers", env.bootstrap, NULL, 0);
        rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, errstr, sizeof(errstr));
        ck_assert_ptr_nonnull(rk);
        ck_assert_int_eq(rd_kafka_producev(rk, RD_KAFKA_V_TOPIC(topic),
                                           RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
                                           RD_KAFKA_V_KEY(key, key_len), RD_KAFKA_V_VALUE(value, value_len),
                                           RD_KAFKA_V_END),
                         0);
        ck_assert_int_eq(rd_kafka_flush(rk, 30000), 0);
        rd_kafka_destroy(rk);
}

/* Reads every record of `topic` and returns the values of header `name`,
 * newline-separated (caller frees). */
static char *read_headers(const char *topic, const char *name, int expect) {
        char errstr[256];
        rd_kafka_conf_t *conf = rd_kafka_conf_new();
        rd_kafka_conf_set(conf, "bootstrap.servers", env.bootstrap, NULL, 0);
        char group[300];
        snprintf(group, sizeof(group), "harness-reader.%s.%s", topic, name);
        rd_kafka_conf_set(conf, "group.id", group, NULL, 0);
        rd_kafka_conf_set(conf, "auto.offset.reset", "earliest", NULL, 0);
        rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_CONSUMER, conf, errstr, sizeof(errstr));
        ck_assert_ptr_nonnull(rk);
        rd_kafka_topic_partition_list_t *tl = rd_kafka_topic_partition_list_new(1);
        rd_kafka_topic_partition_list_add(tl, topic, RD_KAFKA_PARTITION_UA);
        rd_kafka_subscribe(rk, tl);
        rd_kafka_topic_partition_list_destroy(tl);
        size_t cap = 8192, len = 0;
        char *out = calloc(1, cap);
        for (int i = 0, got = 0; i < 300 && got < expect; i++) {
                rd_kafka_message_t *m = rd_kafka_consumer_poll(rk, 100);
                if (!m)
                        continue;
                rd_kafka_headers_t *hdrs;
                const void *v;
                size_t vlen;
                if (!m->err && !rd_kafka_message_headers(m, &hdrs) &&
                    !rd_kafka_header_get_last(hdrs, name, &v, &vlen)) {
                        len += (size_t)snprintf(out + len, cap - len, "%.*s\n", (int)vlen, (const char *)v);
                        got++;
                }
                rd_kafka_message_destroy(m);
        }
        rd_kafka_consumer_close(rk);
        rd_kafka_destroy(rk);
        return out;
}

START_TEST(poison_records_go_to_the_dead_letter_topic) {
        char lines[600], db[600];
        copy_dataset("market.business_license", "poison.license");
        ck_assert_int_eq(h_create_topic(&env, "poison.license", 1), 0);
        ck_assert_int_eq(h_create_topic(&env, "dlq.poison", 1), 0);
        write_sample("market.business_license", "poison1.jsonl", 20, 10, 33, lines, sizeof(lines));
        ck_assert_int_eq(run_producer("poison", "license", lines, path_in_dir("producer-poison.log")), 0);
        /* Three records no subscriber can apply, between good ones. */
        unsigned char no_magic[] = {'h', 'e', 'l', 'l', 'o', '!'};
        unsigned char unknown_id[] = {0, 0, 0, 0x27, 0x0f, 2, 'a'};
        char k1[] = "k1", x[] = "x";
        produce_raw("poison.license", k1, 2, no_magic, sizeof(no_magic));
        produce_raw("poison.license", unknown_id, sizeof(unknown_id), unknown_id, sizeof(unknown_id));
        produce_raw("poison.license", NULL, 0, x, 1);
        char more[600];
        write_sample("market.business_license", "poison2.jsonl", 20, 10, 34, more, sizeof(more));
        ck_assert_int_eq(run_producer("poison", "license", more, path_in_dir("producer-poison.log")), 0);

        snprintf(db, sizeof(db), "%s", path_in_dir("poison.db"));
        pid_t pid = start_subscriber("poison", "poison.license", db, "idle_exit_ms = 4000;",
                                     path_in_dir("subscriber-poison.log"));
        ck_assert_int_eq(h_wait(pid, 60000), 0);
        char *reasons = read_headers("dlq.poison", "sharebus.error", 3);
        ck_assert_msg(strstr(reasons, "key: message of 2 bytes is shorter than the 5-byte header"),
                      "reasons: %s", reasons);
        ck_assert_msg(strstr(reasons, "schema id 9999"), "reasons: %s", reasons);
        ck_assert_msg(strstr(reasons, "record has no key"), "reasons: %s", reasons);
        free(reasons);
        char *offsets = read_headers("dlq.poison", "sharebus.source.offset", 3);
        /* The three poison records sit at offsets 20, 21 and 22. */
        ck_assert_msg(strstr(offsets, "20\n") && strstr(offsets, "21\n") && strstr(offsets, "22\n"),
                      "offsets: %s", offsets);
        free(offsets);
        /* The good records around the poison ones are applied. */
        ck_assert_int_eq(h_sqlite_int(db, "SELECT count(*) FROM sharebus_receipts"), 40);
        long long end =
                h_sqlite_int(db, "SELECT next_offset FROM sharebus_offsets WHERE topic = 'poison.license'");
        ck_assert_int_ge(end, 43);
}
END_TEST

START_TEST(producer_fails_clearly_without_registry) {
        char lines[600], log[600], conf[700];
        copy_dataset("market.business_license", "noreg.license");
        write_sample("market.business_license", "noreg.jsonl", 5, 5, 1, lines, sizeof(lines));
        snprintf(
                conf, sizeof(conf), "%s",
                h_write_file(&env, "noreg.conf",
                             "department = \"noreg\";\ndataset = \"license\";\nschema_dir = \"%s/schemas\";\n"
                             "registry_url = \"http://127.0.0.1:1\";\ninput = \"%s\";\n"
                             "kafka = { bootstrap_servers = \"%s\"; };\n",
                             env.dir, lines, env.bootstrap));
        snprintf(log, sizeof(log), "%s", path_in_dir("producer-noreg.log"));
        char bin[1200];
        snprintf(bin, sizeof(bin), "%s", h_bin(&env, "sharebus-producer"));
        char *argv[] = {bin, "--config", conf, NULL};
        ck_assert_int_eq(h_run(argv, log, 60000), 1);
        ck_assert(h_file_contains(log, "cannot register the schemas of noreg.license"));
}
END_TEST

int main(void) {
        if (h_env_start(&env) != 0)
                return 1;
        Suite *s = suite_create("pipeline");
        TCase *tc = tcase_create("pipeline");
        tcase_set_timeout(tc, 300);
        tcase_add_test(tc, thousand_changes_arrive_exactly);
        tcase_add_test(tc, sigkill_mid_stream_loses_and_repeats_nothing);
        tcase_add_test(tc, invalid_lines_are_named_and_valid_ones_published);
        tcase_add_test(tc, poison_records_go_to_the_dead_letter_topic);
        tcase_add_test(tc, producer_fails_clearly_without_registry);
        suite_add_tcase(s, tc);
        SRunner *sr = srunner_create(s);
        srunner_run_all(sr, CK_NORMAL);
        int failed = srunner_ntests_failed(sr);
        srunner_free(sr);
        h_env_stop(&env);
        return failed ? 1 : 0;
}

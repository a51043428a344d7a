/*
 * Integration: one change travels from a department to a subscriber through
 * a real Kafka broker and a real sharebus-registry, as processes.
 */
#include <curl/curl.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"

static h_env_t env; /* the suite's broker and registry, set up by main */

/* The subscribers' Kafka settings: a short session, and static membership
 * for the one that is killed, so that a restarted subscriber takes its
 * partitions back at once instead of waiting for the killed one's session to
 * time out. */
#define SESSION "session_timeout_ms = 6000;"
#define KILL_KAFKA SESSION " group_instance_id = \"kill-1\";"

/* Starts a subscriber with debug logs; `extra` is appended to its config. */
static pid_t start_subscriber(const char *name, const char *topics, const char *db, const char *extra,
                              const char *kafka_extra, const char *log) {
        return h_start_subscriber(&env, name, topics, NULL, db, "debug", extra, kafka_extra, log);
}

START_TEST(thousand_changes_arrive_exactly) {
        char lines[600], db[600], log[600];
        h_copy_dataset(&env, "market.business_license", "market.business_license");
        ck_assert_int_eq(h_create_topic(&env, "market.business_license", 3), 0);
        int deletes = h_write_sample(&env, "market.business_license", "license.jsonl", 1000, 300, 11, lines,
                                     sizeof(lines));
        ck_assert_int_gt(deletes, 0);
        snprintf(log, sizeof(log), "%s", h_path(&env, "producer-license.log"));
        ck_assert_int_eq(h_run_producer(&env, "market", "business_license", NULL, lines, NULL, log), 0);
        ck_assert(h_file_contains(log, "1000 events published"));

        snprintf(db, sizeof(db), "%s", h_path(&env, "license.db"));
        snprintf(log, sizeof(log), "%s", h_path(&env, "subscriber-license.log"));
        pid_t pid = start_subscriber("license", "market.business_license", db, "idle_exit_ms = 4000;",
                                     SESSION, log);
        ck_assert_int_eq(h_wait(pid, 120000), 0);

        json_t *expected = h_expected_state(lines, "uscc");
        h_assert_table_equals(db, "market_business_license", "uscc", expected);
        json_decref(expected);
        ck_assert_int_eq(h_sqlite_int(db, "SELECT count(*) FROM sharebus_receipts"), 1000);
        ck_assert_int_eq(h_sqlite_int(db, "SELECT count(DISTINCT event_id) FROM sharebus_receipts"), 1000);
        ck_assert_int_eq(h_sqlite_int(db, "SELECT sum(next_offset) FROM sharebus_offsets"), 1000 + deletes);
}
END_TEST

START_TEST(sigkill_mid_stream_loses_and_repeats_nothing) {
        char lines[600], db[600], log[600];
        h_copy_dataset(&env, "civil.resident", "killtest.resident");
        ck_assert_int_eq(h_create_topic(&env, "killtest.resident", 3), 0);
        int deletes =
                h_write_sample(&env, "civil.resident", "resident.jsonl", 1000, 300, 22, lines, sizeof(lines));
        ck_assert_int_eq(h_run_producer(&env, "killtest", "resident", NULL, lines, NULL,
                                        h_path(&env, "producer-kill.log")),
                         0);
        long long total = 1000 + deletes;

        snprintf(db, sizeof(db), "%s", h_path(&env, "kill.db"));
        snprintf(log, sizeof(log), "%s", h_path(&env, "subscriber-kill.log"));
        long long last = 0;
        for (int round = 1; round <= 3; round++) {
                /* One record per transaction makes the stream slow enough to
                 * be killed in the middle of it. */
                pid_t pid =
                        start_subscriber("kill", "killtest.resident", db, "batch_size = 1;", KILL_KAFKA, log);
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
        pid_t pid = start_subscriber("kill", "killtest.resident", db, "batch_size = 50;", KILL_KAFKA, log);
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
        h_copy_dataset(&env, "tax.taxpayer", "badlines.taxpayer");
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
                              "\"91310000775785552L\",%s}}\n"
                              "\n \t \r\n\t\n",
                              row, row, row, row));
        /* T2 has employee_count twice: JSON with duplicate keys is refused too. */
        snprintf(log, sizeof(log), "%s", h_path(&env, "producer-bad.log"));
        ck_assert_int_eq(h_run_producer(&env, "badlines", "taxpayer", NULL, input, NULL, log), 1);
        ck_assert(h_file_contains(
                log, "bad.jsonl:2: not published: not valid JSON at column 240: duplicate object key"));
        ck_assert(h_file_contains(log, "bad.jsonl:3: not published: not valid JSON"));
        ck_assert(h_file_contains(log, "bad.jsonl:4: not published: \"op\" must be"));
        ck_assert(h_file_contains(log, "bad.jsonl:5: not published: after.colour: unknown field"));
        ck_assert(h_file_contains(log, "2 events published"));
        /* The blank lines 7 to 9, whitespace only or not, are skipped. */
        ck_assert(h_file_contains(log, "4 rejected to rejects.badlines"));
        /* The four are kept in the rejects topic, with where and why. */
        char *where = h_read_headers(&env, "rejects.badlines", "sharebus.source", 4);
        char *rules = h_read_headers(&env, "rejects.badlines", "sharebus.rule", 4);
        char *fields = h_read_headers(&env, "rejects.badlines", "sharebus.field", 1);
        ck_assert_msg(strstr(where, "bad.jsonl:2\n") && strstr(where, "bad.jsonl:3\n") &&
                              strstr(where, "bad.jsonl:4\n") && strstr(where, "bad.jsonl:5\n"),
                      "rejects from %s", where);
        ck_assert_str_eq(rules, "change_line\nchange_line\nchange_line\nschema\n");
        ck_assert_str_eq(fields, "after.colour\n");
        free(where);
        free(rules);
        free(fields);
        ck_assert(!h_file_contains(log, "bad.jsonl:8:") && !h_file_contains(log, "bad.jsonl:9:"));

        snprintf(db, sizeof(db), "%s", h_path(&env, "bad.db"));
        pid_t pid = start_subscriber("bad", "badlines.taxpayer", db, "idle_exit_ms = 4000;", SESSION,
                                     h_path(&env, "subscriber-bad.log"));
        ck_assert_int_eq(h_wait(pid, 60000), 0);
        ck_assert_int_eq(h_sqlite_int(db, "SELECT count(*) FROM badlines_taxpayer"), 2);
        ck_assert_int_eq(h_sqlite_int(db, "SELECT count(*) FROM badlines_taxpayer WHERE taxpayer_id IN "
                                          "('91350100M000100Y43','91310000775785552L')"),
                         2);
}
END_TEST

START_TEST(poison_records_go_to_the_dead_letter_topic) {
        char lines[600], db[600];
        h_copy_dataset(&env, "market.business_license", "poison.license");
        ck_assert_int_eq(h_create_topic(&env, "poison.license", 1), 0);
        ck_assert_int_eq(h_create_topic(&env, "dlq.poison", 1), 0);
        h_write_sample(&env, "market.business_license", "poison1.jsonl", 20, 10, 33, lines, sizeof(lines));
        ck_assert_int_eq(h_run_producer(&env, "poison", "license", NULL, lines, NULL,
                                        h_path(&env, "producer-poison.log")),
                         0);
        /* Three records no subscriber can apply, between good ones. */
        unsigned char no_magic[] = {'h', 'e', 'l', 'l', 'o', '!'};
        unsigned char unknown_id[] = {0, 0, 0, 0x27, 0x0f, 2, 'a'};
        char k1[] = "k1", x[] = "x";
        h_produce_raw(&env, "poison.license", k1, 2, no_magic, sizeof(no_magic));
        h_produce_raw(&env, "poison.license", unknown_id, sizeof(unknown_id), unknown_id, sizeof(unknown_id));
        h_produce_raw(&env, "poison.license", NULL, 0, x, 1);
        char more[600];
        h_write_sample(&env, "market.business_license", "poison2.jsonl", 20, 10, 34, more, sizeof(more));
        ck_assert_int_eq(h_run_producer(&env, "poison", "license", NULL, more, NULL,
                                        h_path(&env, "producer-poison.log")),
                         0);

        snprintf(db, sizeof(db), "%s", h_path(&env, "poison.db"));
        pid_t pid = start_subscriber("poison", "poison.license", db, "idle_exit_ms = 4000;", SESSION,
                                     h_path(&env, "subscriber-poison.log"));
        ck_assert_int_eq(h_wait(pid, 60000), 0);
        char *reasons = h_read_headers(&env, "dlq.poison", "sharebus.error", 3);
        ck_assert_msg(strstr(reasons, "key: message of 2 bytes is shorter than the 5-byte header"),
                      "reasons: %s", reasons);
        ck_assert_msg(strstr(reasons, "schema id 9999"), "reasons: %s", reasons);
        ck_assert_msg(strstr(reasons, "record has no key"), "reasons: %s", reasons);
        free(reasons);
        char *offsets = h_read_headers(&env, "dlq.poison", "sharebus.source.offset", 3);
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

/* The id the registry gave the latest schema of `subject`. */
static int32_t schema_id(const char *subject) {
        char url[512];
        h_reply_t rep = {0};
        snprintf(url, sizeof(url), "%s/subjects/%s/versions/latest", env.registry_url, subject);
        ck_assert_int_eq(h_http("GET", url, NULL, NULL, NULL, &rep), 200);
        json_t *doc = json_loads(rep.text, 0, NULL);
        ck_assert_msg(json_is_integer(json_object_get(doc, "id")), "%s: %s", url, rep.text);
        int32_t id = (int32_t)json_integer_value(json_object_get(doc, "id"));
        json_decref(doc);
        h_reply_free(&rep);
        return id;
}

static void put_frame(unsigned char *at, int32_t id) {
        at[0] = 0;
        for (int i = 0; i < 4; i++)
                at[1 + i] = (unsigned char)((uint32_t)id >> (24 - 8 * i));
}

/* Writes lines [from, to) of the file `in` to `out`. */
static void copy_lines(const char *in, const char *out, int from, int to) {
        FILE *f = fopen(in, "r"), *g = fopen(out, "w");
        char line[8192];
        ck_assert(f && g);
        for (int n = 0; fgets(line, sizeof(line), f); n++)
                if (n >= from && n < to)
                        fputs(line, g);
        fclose(f);
        ck_assert_int_eq(fclose(g), 0);
}

START_TEST(record_too_big_for_the_dead_letter_topic_stalls_nothing) {
        char lines[600], first[600], second[600], db[600], log[600];
        h_copy_dataset(&env, "market.business_license", "big.license");
        ck_assert_int_eq(h_create_topic(&env, "big.license", 2), 0);
        ck_assert_int_eq(h_create_topic(&env, "dlq.big", 1), 0);
        int deletes = h_write_sample(&env, "market.business_license", "big.jsonl", 40, 12, 55, lines,
                                     sizeof(lines));
        snprintf(first, sizeof(first), "%s", h_path(&env, "big1.jsonl"));
        snprintf(second, sizeof(second), "%s", h_path(&env, "big2.jsonl"));
        copy_lines(lines, first, 0, 20);
        copy_lines(lines, second, 20, 40);
        snprintf(log, sizeof(log), "%s", h_path(&env, "producer-big.log"));
        ck_assert_int_eq(h_run_producer(&env, "big", "license", NULL, first, NULL, log), 0);

        /* A small poison record on partition 1, then the big one on 0: a
         * valid key, the registered value schema id, 1,030,005 bytes in all,
         * more than librdkafka's default message.max.bytes (1,000,000) of
         * the dead-letter producer. */
        char k1[] = "k1", hello[] = "hello!";
        h_produce_raw_to(&env, "big.license", 1, k1, 2, hello, 6);
        const char uscc[] = "91350100M000100Y43";
        unsigned char key[5 + 1 + sizeof(uscc)];
        put_frame(key, schema_id("big.license-key"));
        key[5] = (unsigned char)(2 * (sizeof(uscc) - 1)); /* zigzag length */
        memcpy(key + 6, uscc, sizeof(uscc) - 1);
        size_t big_len = 1030005;
        unsigned char *big = malloc(big_len);
        ck_assert_ptr_nonnull(big);
        put_frame(big, schema_id("big.license-value"));
        uint64_t x = 88172645463325252ULL; /* xorshift64: random, and the same every run */
        for (size_t i = 5; i < big_len; i++) {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                big[i] = (unsigned char)x;
        }
        h_produce_raw_to(&env, "big.license", 0, key, 5 + 1 + sizeof(uscc) - 1, big, big_len);
        free(big);
        h_produce_raw_to(&env, "big.license", 0, NULL, 0, hello, 6);
        ck_assert_int_eq(h_run_producer(&env, "big", "license", NULL, second, NULL, log), 0);

        snprintf(db, sizeof(db), "%s", h_path(&env, "big.db"));
        snprintf(log, sizeof(log), "%s", h_path(&env, "subscriber-big.log"));
        pid_t pid = start_subscriber("big", "big.license", db, "idle_exit_ms = 4000;", SESSION, log);
        /* Before the fix it retries the batch forever: h_wait kills it. */
        ck_assert_msg(h_wait(pid, 120000) == 0, "the subscriber did not finish (see %s)", log);

        json_t *expected = h_expected_state(lines, "uscc");
        h_assert_table_equals(db, "big_license", "uscc", expected);
        json_decref(expected);
        ck_assert_int_eq(h_sqlite_int(db, "SELECT count(*) FROM sharebus_receipts"), 40);
        ck_assert_int_eq(h_sqlite_int(db, "SELECT sum(next_offset) FROM sharebus_offsets"), 40 + deletes + 3);

        /* Three dead letters, each once. */
        ck_assert_int_eq(h_topic_count(&env, "dlq.big", 1), 3);
        char *where = h_read_headers(&env, "dlq.big", "sharebus.source.partition", 3);
        char *offsets = h_read_headers(&env, "dlq.big", "sharebus.source.offset", 3);
        char *reasons = h_read_headers(&env, "dlq.big", "sharebus.error", 3);
        char *truncated = h_read_headers(&env, "dlq.big", "sharebus.value.truncated", 1);
        char *size = h_read_headers(&env, "dlq.big", "sharebus.value.size", 1);
        ck_assert_msg(strstr(where, "0\n") && strstr(where, "1\n"), "partitions: %s", where);
        ck_assert_msg(strstr(reasons, "value: ") && strstr(reasons, "record has no key") &&
                              strstr(reasons, "key: message of 2 bytes"),
                      "reasons: %s", reasons);
        ck_assert_str_eq(truncated, "true\n");
        ck_assert_str_eq(size, "1030005\n");
        fprintf(stderr, "dead letters: partitions %s offsets %s", where, offsets);
        free(where);
        free(offsets);
        free(reasons);
        free(truncated);
        free(size);
        ck_assert(h_file_contains(log, "truncated to fit"));
}
END_TEST

/* The schema that used to crash every program parsing it, registered by
 * anyone and named by a record's value: the subscriber dead-letters the
 * record with the reason and applies the rest. */
START_TEST(record_of_a_recursive_schema_is_dead_lettered) {
        char lines[600], db[600], log[600], url[512];
        h_copy_dataset(&env, "market.business_license", "loop.license");
        ck_assert_int_eq(h_create_topic(&env, "loop.license", 1), 0);
        ck_assert_int_eq(h_create_topic(&env, "dlq.loop", 1), 0);
        h_write_sample(&env, "market.business_license", "loop.jsonl", 20, 10, 71, lines, sizeof(lines));
        snprintf(log, sizeof(log), "%s", h_path(&env, "producer-loop.log"));
        ck_assert_int_eq(h_run_producer(&env, "loop", "license", NULL, lines, NULL, log), 0);

        h_reply_t rep = {0};
        snprintf(url, sizeof(url), "%s/subjects/loop.other-value/versions", env.registry_url);
        ck_assert_int_eq(h_http("POST", url, NULL, NULL,
                                "{\"schema\":\"{\\\"type\\\":\\\"record\\\",\\\"name\\\":"
                                "\\\"Loop\\\",\\\"fields\\\":[{\\\"name\\\":\\\"me\\\","
                                "\\\"type\\\":\\\"Loop\\\"}]}\"}",
                                &rep),
                         200);
        h_reply_free(&rep);
        const char uscc[] = "91350100M000100Y43";
        unsigned char key[5 + 1 + sizeof(uscc)], value[5 + 4] = {0};
        put_frame(key, schema_id("loop.license-key"));
        key[5] = (unsigned char)(2 * (sizeof(uscc) - 1));
        memcpy(key + 6, uscc, sizeof(uscc) - 1);
        put_frame(value, schema_id("loop.other-value"));
        h_produce_raw(&env, "loop.license", key, 5 + 1 + sizeof(uscc) - 1, value, sizeof(value));
        char more[600];
        h_write_sample(&env, "market.business_license", "loop2.jsonl", 20, 10, 72, more, sizeof(more));
        ck_assert_int_eq(h_run_producer(&env, "loop", "license", NULL, more, NULL, log), 0);

        snprintf(db, sizeof(db), "%s", h_path(&env, "loop.db"));
        snprintf(log, sizeof(log), "%s", h_path(&env, "subscriber-loop.log"));
        pid_t pid = start_subscriber("loop", "loop.license", db, "idle_exit_ms = 4000;", SESSION, log);
        ck_assert_msg(h_wait(pid, 60000) == 0, "the subscriber did not finish (see %s)", log);
        char *reasons = h_read_headers(&env, "dlq.loop", "sharebus.error", 1);
        ck_assert_msg(strstr(reasons, "no finite value"), "reasons: %s", reasons);
        free(reasons);
        ck_assert_int_eq(h_topic_count(&env, "dlq.loop", 1), 1);
        ck_assert_int_eq(h_sqlite_int(db, "SELECT count(*) FROM sharebus_receipts"), 40);
}
END_TEST

/* max_record_bytes: a value over it is dead-lettered (class decode, the
 * size and the setting) without being decoded, and the rest applied. */
START_TEST(record_over_max_record_bytes_is_dead_lettered_undecoded) {
        char lines[600], more[600], db[600], log[600];
        h_copy_dataset(&env, "market.business_license", "lim.license");
        ck_assert_int_eq(h_create_topic(&env, "lim.license", 1), 0);
        ck_assert_int_eq(h_create_topic(&env, "dlq.lim", 1), 0);
        h_write_sample(&env, "market.business_license", "lim.jsonl", 20, 10, 81, lines, sizeof(lines));
        snprintf(log, sizeof(log), "%s", h_path(&env, "producer-lim.log"));
        ck_assert_int_eq(h_run_producer(&env, "lim", "license", NULL, lines, NULL, log), 0);
        const char uscc[] = "91350100M000100Y43";
        unsigned char key[5 + 1 + sizeof(uscc)], value[5000];
        put_frame(key, schema_id("lim.license-key"));
        key[5] = (unsigned char)(2 * (sizeof(uscc) - 1));
        memcpy(key + 6, uscc, sizeof(uscc) - 1);
        memset(value, 0x55, sizeof(value));
        put_frame(value, schema_id("lim.license-value"));
        h_produce_raw(&env, "lim.license", key, 5 + 1 + sizeof(uscc) - 1, value, sizeof(value));
        h_write_sample(&env, "market.business_license", "lim2.jsonl", 20, 10, 82, more, sizeof(more));
        ck_assert_int_eq(h_run_producer(&env, "lim", "license", NULL, more, NULL, log), 0);

        snprintf(db, sizeof(db), "%s", h_path(&env, "lim.db"));
        snprintf(log, sizeof(log), "%s", h_path(&env, "subscriber-lim.log"));
        pid_t pid = start_subscriber("lim", "lim.license", db,
                                     "idle_exit_ms = 4000; max_record_bytes = 4096;", SESSION, log);
        ck_assert_msg(h_wait(pid, 60000) == 0, "the subscriber did not finish (see %s)", log);
        char *reasons = h_read_headers(&env, "dlq.lim", "sharebus.error", 1);
        char *classes = h_read_headers(&env, "dlq.lim", "sharebus.error.class", 1);
        ck_assert_msg(strstr(reasons, "value is 5000 bytes, over max_record_bytes (4096): not decoded"),
                      "reasons: %s", reasons);
        ck_assert_str_eq(classes, "decode\n");
        free(reasons);
        free(classes);
        ck_assert_int_eq(h_topic_count(&env, "dlq.lim", 1), 1);
        ck_assert_int_eq(h_sqlite_int(db, "SELECT count(*) FROM sharebus_receipts"), 40);
}
END_TEST

START_TEST(producer_fails_clearly_without_registry) {
        char lines[600], log[600];
        h_copy_dataset(&env, "market.business_license", "noreg.license");
        h_write_sample(&env, "market.business_license", "noreg.jsonl", 5, 5, 1, lines, sizeof(lines));
        const char *conf = h_producer_conf(&env, "noreg", "license", "http://127.0.0.1:1", lines, NULL);
        snprintf(log, sizeof(log), "%s", h_path(&env, "producer-noreg.log"));
        ck_assert_int_eq(h_wait(h_start_program(&env, "sharebus-producer", conf, log), 60000), 1);
        ck_assert(h_file_contains(log, "cannot register the schemas of noreg.license"));
}
END_TEST

int main(void) {
        if (h_env_start(&env) != 0)
                return 1;
        curl_global_init(CURL_GLOBAL_DEFAULT);
        Suite *s = suite_create("pipeline");
        TCase *tc = tcase_create("pipeline");
        tcase_set_timeout(tc, 300);
        tcase_add_test(tc, thousand_changes_arrive_exactly);
        tcase_add_test(tc, sigkill_mid_stream_loses_and_repeats_nothing);
        tcase_add_test(tc, invalid_lines_are_named_and_valid_ones_published);
        tcase_add_test(tc, poison_records_go_to_the_dead_letter_topic);
        tcase_add_test(tc, producer_fails_clearly_without_registry);
        tcase_add_test(tc, record_of_a_recursive_schema_is_dead_lettered);
        suite_add_tcase(s, tc);
        TCase *big = tcase_create("big");
        tcase_set_timeout(big, 300);
        tcase_add_test(big, record_too_big_for_the_dead_letter_topic_stalls_nothing);
        tcase_add_test(big, record_over_max_record_bytes_is_dead_lettered_undecoded);
        suite_add_tcase(s, big);
        int failed = h_run_suite(s);
        h_env_stop(&env);
        curl_global_cleanup();
        return failed ? 1 : 0;
}

/*
 * Integration: sharebus-topics (broker-config/) against the real broker.
 * plan on a fresh declaration shows the creates and exits 3; apply creates
 * the topics with their partitions and configs (checked here through
 * librdkafka's metadata and DescribeConfigs, not through the program's own
 * code); a second apply changes nothing and plan exits 0; a longer
 * retention and more partitions are applied; fewer partitions, another
 * replication factor and a topic left out of the file are refused or kept
 * without --allow-delete (nothing changes on the broker), and done with
 * it; a bad file exits 2 naming file:line; the shipped
 * broker-config/topics.conf applies and is then in sync; principals on
 * this broker, which has no authorizer, are said not applied (the topics
 * are), and --require-acls makes that an error (tests/integration/
 * test_acl.c has a broker with one).
 */
#include <librdkafka/rdkafka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"

static h_env_t env; /* the suite's broker and registry, set up by main */

/* An Admin client of the suite's broker (the caller destroys it). */
static rd_kafka_t *client(void) {
        char errstr[512];
        rd_kafka_conf_t *conf = rd_kafka_conf_new();
        rd_kafka_conf_set(conf, "bootstrap.servers", env.bootstrap, NULL, 0);
        rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, errstr, sizeof(errstr));
        ck_assert_msg(rk != NULL, "%s", errstr);
        return rk;
}

/* Partitions of `topic` from the cluster's metadata; -1 when it has none
 * such.  *rf (may be NULL) gets its replication factor. */
static int partitions_of(const char *topic, int *rf) {
        rd_kafka_t *rk = client();
        const struct rd_kafka_metadata *md = NULL;
        ck_assert_int_eq(rd_kafka_metadata(rk, 1, NULL, &md, 10000), RD_KAFKA_RESP_ERR_NO_ERROR);
        int n = -1;
        for (int i = 0; i < md->topic_cnt; i++)
                if (strcmp(md->topics[i].topic, topic) == 0 && !md->topics[i].err) {
                        n = md->topics[i].partition_cnt;
                        if (rf)
                                *rf = n ? md->topics[i].partitions[0].replica_cnt : 0;
                }
        rd_kafka_metadata_destroy(md);
        rd_kafka_destroy(rk);
        return n;
}

/* The value of config `name` of `topic` as DescribeConfigs reports it,
 * into `out`; returns 1 when the topic sets it itself (a dynamic topic
 * config), 0 when the broker's default applies. */
static int config_of(const char *topic, const char *name, char *out, size_t size) {
        rd_kafka_t *rk = client();
        rd_kafka_queue_t *q = rd_kafka_queue_new(rk);
        rd_kafka_ConfigResource_t *r = rd_kafka_ConfigResource_new(RD_KAFKA_RESOURCE_TOPIC, topic);
        rd_kafka_DescribeConfigs(rk, &r, 1, NULL, q);
        rd_kafka_event_t *ev = rd_kafka_queue_poll(q, 15000);
        ck_assert_ptr_nonnull(ev);
        ck_assert_msg(!rd_kafka_event_error(ev), "%s", rd_kafka_event_error_string(ev));
        size_t n, m;
        const rd_kafka_ConfigResource_t **rr =
                rd_kafka_DescribeConfigs_result_resources(rd_kafka_event_DescribeConfigs_result(ev), &n);
        ck_assert_uint_eq(n, 1);
        ck_assert_msg(!rd_kafka_ConfigResource_error(rr[0]), "%s",
                      rd_kafka_ConfigResource_error_string(rr[0]));
        const rd_kafka_ConfigEntry_t **ce = rd_kafka_ConfigResource_configs(rr[0], &m);
        int own = -1;
        for (size_t i = 0; i < m; i++)
                if (strcmp(rd_kafka_ConfigEntry_name(ce[i]), name) == 0) {
                        const char *v = rd_kafka_ConfigEntry_value(ce[i]);
                        snprintf(out, size, "%s", v ? v : "");
                        own = rd_kafka_ConfigEntry_source(ce[i]) ==
                              RD_KAFKA_CONFIG_SOURCE_DYNAMIC_TOPIC_CONFIG;
                }
        ck_assert_msg(own >= 0, "topic %s has no config %s", topic, name);
        rd_kafka_event_destroy(ev);
        rd_kafka_ConfigResource_destroy(r);
        rd_kafka_queue_destroy(q);
        rd_kafka_destroy(rk);
        return own;
}

static void assert_config(const char *topic, const char *name, const char *want) {
        char got[256];
        ck_assert_msg(config_of(topic, name, got, sizeof(got)) == 1, "%s %s is not the topic's own", topic,
                      name);
        ck_assert_msg(strcmp(got, want) == 0, "%s %s = %s, expected %s", topic, name, got, want);
}

/* Runs `sharebus-topics VERB --config CONF --bootstrap-servers <the
 * suite's> [EXTRA]` with its output in a new file <dir>/<log>; returns
 * its exit code. */
static int topics(const char *verb, const char *conf, const char *extra, const char *log) {
        char bin[1200], conf_copy[600], log_path[600];
        snprintf(bin, sizeof(bin), "%s", h_bin(&env, "sharebus-topics"));
        snprintf(conf_copy, sizeof(conf_copy), "%s", conf);
        snprintf(log_path, sizeof(log_path), "%s", h_path(&env, log));
        remove(log_path);
        char *argv[] = {bin,           (char *)verb,  "--config", conf_copy, "--bootstrap-servers",
                        env.bootstrap, (char *)extra, NULL};
        int rc = h_run(argv, log_path, 120000);
        char cmd[1400];
        snprintf(cmd, sizeof(cmd), "sed 's/^/    %s: /' '%s' >&2", log, log_path);
        if (system(cmd) != 0)
                fprintf(stderr, "(no %s)\n", log_path);
        return rc;
}

#define ASSERT_LOGGED(log, text)                                                                             \
        ck_assert_msg(h_file_contains(h_path(&env, (log)), (text)), "no \"%s\" in %s", (text), (log))

/* The declaration the first tests start from, as file <dir>/<name>. */
static const char *declare(const char *name, int a_partitions, const char *a_retention) {
        return h_write_file(&env, name,
                            "# a kafka group that names no broker: --bootstrap-servers replaces it\n"
                            "kafka = { bootstrap_servers = \"127.0.0.1:1\"; };\n"
                            "partitions = 2;\n"
                            "topics = (\n"
                            "  { name = \"tt.a\"; partitions = %d;\n"
                            "    configs = { retention_ms = %s; min_insync_replicas = 1; }; },\n"
                            "  { name = \"tt.b\"; configs = ( (\"cleanup.policy\", \"compact\") ); }\n"
                            ");\n",
                            a_partitions, a_retention);
}

START_TEST(plan_shows_what_apply_creates_then_both_are_in_sync) {
        char conf[600];
        snprintf(conf, sizeof(conf), "%s", declare("t1.conf", 3, "3600000"));
        ck_assert_int_eq(topics("plan", conf, NULL, "plan1.log"), 3);
        ASSERT_LOGGED("plan1.log", "  + tt.a: create, 3 partitions, replication factor 1\n");
        ASSERT_LOGGED("plan1.log", "      + retention.ms = 3600000\n");
        ASSERT_LOGGED("plan1.log", "  + tt.b: create, 2 partitions, replication factor 1\n");
        ASSERT_LOGGED("plan1.log", "Plan: 2 to create, 0 to update");
        ck_assert_int_eq(partitions_of("tt.a", NULL), -1); /* plan changed nothing */

        ck_assert_int_eq(topics("apply", conf, NULL, "apply1.log"), 0);
        ASSERT_LOGGED("apply1.log", "apply: done");
        int rf = 0;
        ck_assert_int_eq(partitions_of("tt.a", &rf), 3);
        ck_assert_int_eq(rf, 1);
        ck_assert_int_eq(partitions_of("tt.b", NULL), 2);
        assert_config("tt.a", "retention.ms", "3600000");
        assert_config("tt.a", "min.insync.replicas", "1");
        assert_config("tt.b", "cleanup.policy", "compact");
        char v[256];
        ck_assert_int_eq(config_of("tt.b", "retention.ms", v, sizeof(v)), 0); /* the broker's default */

        /* Idempotent: nothing more to do, and plan says so. */
        ck_assert_int_eq(topics("apply", conf, NULL, "apply2.log"), 0);
        ASSERT_LOGGED("apply2.log", "In sync: 2 declared topics as declared on the broker");
        ck_assert(!h_file_contains(h_path(&env, "apply2.log"), "CreateTopics"));
        ck_assert_int_eq(topics("plan", conf, NULL, "plan2.log"), 0);
        ASSERT_LOGGED("plan2.log", "In sync: 2 declared topics");
}
END_TEST

START_TEST(a_longer_retention_and_more_partitions_are_applied) {
        char conf[600];
        snprintf(conf, sizeof(conf), "%s", declare("t2.conf", 5, "7200000"));
        ck_assert_int_eq(topics("plan", conf, NULL, "plan3.log"), 3);
        ASSERT_LOGGED("plan3.log", "  ~ tt.a: update\n");
        ASSERT_LOGGED("plan3.log", "      ~ partitions = 3 -> 5");
        ASSERT_LOGGED("plan3.log", "      ~ retention.ms = 3600000 -> 7200000\n");
        ck_assert_int_eq(topics("apply", conf, NULL, "apply3.log"), 0);
        ck_assert_int_eq(partitions_of("tt.a", NULL), 5);
        assert_config("tt.a", "retention.ms", "7200000");
        assert_config("tt.a", "min.insync.replicas", "1"); /* the whole set was sent: still there */
        assert_config("tt.b", "cleanup.policy", "compact");
        ck_assert_int_eq(topics("plan", conf, NULL, "plan4.log"), 0);

        /* A config left out of the file goes back to the broker's default. */
        const char *less =
                h_write_file(&env, "t2b.conf",
                             "partitions = 2;\n"
                             "topics = ( { name = \"tt.a\"; partitions = 5; configs = { retention_ms = "
                             "7200000; }; },\n"
                             "  { name = \"tt.b\"; configs = { cleanup_policy = \"compact\"; }; } );\n");
        snprintf(conf, sizeof(conf), "%s", less);
        ck_assert_int_eq(topics("plan", conf, NULL, "plan5.log"), 3);
        ASSERT_LOGGED("plan5.log",
                      "      - min.insync.replicas = 1 (not declared: back to the broker's default)");
        ck_assert_int_eq(topics("apply", conf, NULL, "apply5.log"), 0);
        char v[256];
        ck_assert_int_eq(config_of("tt.a", "min.insync.replicas", v, sizeof(v)), 0);
        assert_config("tt.a", "retention.ms", "7200000");
}
END_TEST

START_TEST(destructive_changes_are_refused_without_allow_delete) {
        /* Fewer partitions: refused, nothing changed (not even the
         * retention declared with it). */
        const char *path =
                h_write_file(&env, "t3.conf",
                             "topics = ( { name = \"tt.a\"; partitions = 2; configs = { retention_ms = "
                             "60000; }; },\n"
                             "  { name = \"tt.b\"; partitions = 2; configs = { cleanup_policy = "
                             "\"compact\"; }; } );\n");
        char conf[600];
        snprintf(conf, sizeof(conf), "%s", path);
        ck_assert_int_eq(topics("plan", conf, NULL, "plan6.log"), 4);
        ASSERT_LOGGED("plan6.log",
                      "partitions = 5 on the broker, 2 declared: Kafka cannot remove partitions");
        ck_assert_int_eq(topics("apply", conf, NULL, "apply6.log"), 4);
        ASSERT_LOGGED("apply6.log", "apply: refused: nothing changed on the broker");
        ck_assert_int_eq(partitions_of("tt.a", NULL), 5);
        assert_config("tt.a", "retention.ms", "7200000");

        /* Another replication factor: refused with --allow-delete too. */
        const char *rf3 =
                h_write_file(&env, "t4.conf",
                             "replication_factor = 3;\n"
                             "topics = ( { name = \"tt.a\"; partitions = 5; configs = { retention_ms = "
                             "7200000; }; } );\n");
        snprintf(conf, sizeof(conf), "%s", rf3);
        ck_assert_int_eq(topics("apply", conf, "--allow-delete", "apply7.log"), 4);
        ASSERT_LOGGED("apply7.log", "replication factor = 1 on the broker, 3 declared: changing it takes a "
                                    "partition reassignment");
        /* The same file on a single node, with the command line's factor. */
        char bin[1200], log[600];
        snprintf(bin, sizeof(bin), "%s", h_bin(&env, "sharebus-topics"));
        snprintf(log, sizeof(log), "%s", h_path(&env, "plan8.log"));
        char *argv[] = {bin,        "plan", "--replication-factor", "1",
                        "--config", conf,   "--bootstrap-servers",  env.bootstrap,
                        NULL};
        ck_assert_int_eq(h_run(argv, log, 60000), 0); /* tt.b is kept: a partial file is in sync */
        ck_assert(h_file_contains(log, "kept (on the broker, not declared; --allow-delete deletes them):"));
        ck_assert(h_file_contains(log, " tt.b"));

        /* A partial file is safe to apply: tt.b stays. */
        ck_assert_int_eq(topics("apply", conf, "--replication-factor", "apply8.log"), 2); /* no N */
        snprintf(log, sizeof(log), "%s", h_path(&env, "apply9.log"));
        argv[1] = "apply";
        ck_assert_int_eq(h_run(argv, log, 60000), 0);
        ck_assert_int_eq(partitions_of("tt.b", NULL), 2);
}
END_TEST

START_TEST(allow_delete_recreates_and_deletes) {
        /* The suite's broker holds tt.a, tt.b and the registry's
         * _sharebus_schemas (and Kafka's own __* topics, never touched). */
        const char *path =
                h_write_file(&env, "t5.conf",
                             "topics = (\n"
                             "  { name = \"_sharebus_schemas\"; partitions = 1; configs = { "
                             "cleanup_policy = \"compact\"; }; },\n"
                             "  { name = \"tt.a\"; partitions = 2; configs = { retention_ms = 60000; }; }\n"
                             ");\n");
        char conf[600];
        snprintf(conf, sizeof(conf), "%s", path);
        ck_assert_int_eq(topics("plan", conf, "--allow-delete", "plan10.log"), 3);
        ASSERT_LOGGED("plan10.log",
                      "  -/+ tt.a: DELETE AND CREATE AGAIN, 5 partitions on the broker, 2 declared: "
                      "EVERY RECORD OF THE TOPIC IS LOST");
        ASSERT_LOGGED("plan10.log", "  - tt.b: DELETE (on the broker, 2 partitions, not declared)");
        ASSERT_LOGGED("plan10.log",
                      "Plan: 0 to create, 0 to update, 1 to delete and create again, 1 to delete; "
                      "1 in sync");
        h_produce_raw(&env, "tt.a", "k", 1, "v", 1);
        ck_assert_int_eq(topics("apply", conf, "--allow-delete", "apply10.log"), 0);
        ck_assert_int_eq(partitions_of("tt.a", NULL), 2);
        ck_assert_int_eq(partitions_of("tt.b", NULL), -1);
        ck_assert_int_eq(h_topic_count(&env, "tt.a", 2), 0); /* a new topic: the record is gone */
        assert_config("tt.a", "retention.ms", "60000");
        assert_config("_sharebus_schemas", "cleanup.policy", "compact");
        ck_assert_int_eq(topics("plan", conf, "--allow-delete", "plan11.log"), 0);
}
END_TEST

START_TEST(a_bad_file_exits_2_naming_file_and_line) {
        const char *path = h_write_file(&env, "bad.conf",
                                        "topics = (\n"
                                        "  { name = \"tt.ok\"; },\n"
                                        "  { name = \"tt.bad\"; partitons = 3; }\n"
                                        ");\n");
        char conf[600], want[700];
        snprintf(conf, sizeof(conf), "%s", path);
        ck_assert_int_eq(topics("plan", conf, NULL, "bad1.log"), 2);
        snprintf(want, sizeof(want), "%s:3: setting 'topics': unknown 'partitons'", conf);
        ASSERT_LOGGED("bad1.log", want);
        ck_assert_int_eq(topics("apply", conf, NULL, "bad2.log"), 2);
        ck_assert_int_eq(partitions_of("tt.ok", NULL), -1);
        path = h_write_file(&env, "bad2.conf", "topics = (\n { name = \"tt.x\"; partitions = 0; }\n);\n");
        snprintf(conf, sizeof(conf), "%s", path);
        ck_assert_int_eq(topics("apply", conf, NULL, "bad3.log"), 2);
        snprintf(want, sizeof(want), "%s:2: setting 'topics': partitions is an integer in 1..10000", conf);
        ASSERT_LOGGED("bad3.log", want);
        /* No command, or both. */
        ck_assert_int_eq(topics("--allow-delete", conf, NULL, "bad4.log"), 2);
        ASSERT_LOGGED("bad4.log", "say plan or apply");
}
END_TEST

/* The file the demo and the benchmark use, on a broker at another port. */
START_TEST(the_shipped_topics_conf_applies_and_is_then_in_sync) {
        char conf[1200];
        snprintf(conf, sizeof(conf), "%s/broker-config/topics.conf", env.src);
        ck_assert_int_eq(topics("apply", conf, NULL, "shipped1.log"), 0);
        ck_assert_int_eq(partitions_of("market.business_license", NULL), 3);
        ck_assert_int_eq(partitions_of("rejects.tax", NULL), 1);
        assert_config("_sharebus_schemas", "cleanup.policy", "compact");
        assert_config("dlq.demo", "retention.ms", "2592000000");
        ck_assert_int_eq(topics("plan", conf, NULL, "shipped2.log"), 0);
        ASSERT_LOGGED("shipped2.log", "the broker has no authorizer: principals and ACLs not applied (7 "
                                      "principals declared");
}
END_TEST

START_TEST(principals_without_an_authorizer_are_said_not_applied) {
        const char *path =
                h_write_file(&env, "acl.conf",
                             "topics = ( { name = \"tt.acl\"; partitions = 1; } );\n"
                             "principals = (\n"
                             "  { name = \"tt\"; role = \"department\"; },\n"
                             "  { name = \"reader\"; role = \"subscriber\"; reads = [ \"tt.acl\" ]; }\n"
                             ");\n");
        char conf[600];
        snprintf(conf, sizeof(conf), "%s", path);
        /* --require-acls: an error, before anything is changed. */
        ck_assert_int_eq(topics("apply", conf, "--require-acls", "acl1.log"), 1);
        ASSERT_LOGGED("acl1.log", "has no authorizer: the 2 principals declared and their ACLs cannot be "
                                  "applied (--require-acls): nothing changed");
        ck_assert_int_eq(partitions_of("tt.acl", NULL), -1);
        /* Without it: the topics alone, and said so. */
        ck_assert_int_eq(topics("plan", conf, NULL, "acl2.log"), 3);
        ASSERT_LOGGED("acl2.log",
                      "the broker has no authorizer: principals and ACLs not applied (2 principals "
                      "declared; --require-acls makes this an error)");
        ASSERT_LOGGED("acl2.log", "  + tt.acl: create");
        ck_assert_int_eq(topics("apply", conf, NULL, "acl3.log"), 0);
        ASSERT_LOGGED("acl3.log",
                      "apply: done; the broker shows the 1 declared topics as declared (the broker "
                      "has no authorizer: principals and ACLs not applied)");
        ck_assert_int_eq(partitions_of("tt.acl", NULL), 1);
        ck_assert_int_eq(topics("plan", conf, NULL, "acl4.log"), 0);
        ASSERT_LOGGED("acl4.log", "the broker has no authorizer");
}
END_TEST

int main(void) {
        if (h_env_start(&env) != 0)
                return 1;
        Suite *s = suite_create("topics");
        TCase *tc = tcase_create("topics");
        tcase_set_timeout(tc, 240);
        /* In this order: each starts from what the one before left. */
        tcase_add_test(tc, plan_shows_what_apply_creates_then_both_are_in_sync);
        tcase_add_test(tc, a_longer_retention_and_more_partitions_are_applied);
        tcase_add_test(tc, destructive_changes_are_refused_without_allow_delete);
        tcase_add_test(tc, allow_delete_recreates_and_deletes);
        tcase_add_test(tc, a_bad_file_exits_2_naming_file_and_line);
        tcase_add_test(tc, the_shipped_topics_conf_applies_and_is_then_in_sync);
        tcase_add_test(tc, principals_without_an_authorizer_are_said_not_applied);
        suite_add_tcase(s, tc);
        int failed = h_run_suite(s);
        h_env_stop(&env);
        return failed ? 1 : 0;
}

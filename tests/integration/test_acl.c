/*
 * Integration: principals and ACLs (sharebus-topics' `principals`) on a
 * secured broker: broker-config/pki.sh makes the CA and a certificate per
 * principal, broker-config/kafka-start.sh --secure runs Kafka with mTLS
 * (the principal is the certificate's CN), StandardAuthorizer and no
 * access without an ACL; `sharebus-topics apply` runs as the super user
 * admin.  Every program here logs in as its own principal with its
 * certificate (the `kafka` group's passthrough of the NAME.ssl.kafka.conf
 * lines pki.sh writes), and the broker's state is checked as admin with
 * librdkafka, not through the code under test:
 * - plan shows the bindings to add, apply makes them, plan is then in sync;
 *   a binding on the broker the file does not derive is listed and deleted;
 * - the registry (principal registry) creates _sharebus_schemas itself;
 * - department market publishes its own dataset; publishing civil's
 *   (department = "civil" with market's certificate) is refused, naming the
 *   topic and TOPIC_AUTHORIZATION_FAILED, and the topic stays empty;
 * - subscriber demo reads the datasets granted; a dataset not granted, or a
 *   group not its own, is refused by name; subscriber demo_pg writing
 *   demo's dead-letter topic is refused and dlq.demo stays as it was, its
 *   own dlq.demo_pg takes the dead letter;
 * - the operator lists groups, their committed offsets and the topics'
 *   ends, and may not write.
 */
#include <librdkafka/rdkafka.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "harness.h"

static h_env_t env; /* the suite's secured broker and its registry, set up by main */
static char pki[700];
static int plan0_rc = -1, apply_rc = -1; /* of the first plan and apply, run by main */

/* The passthrough lines of principal `name` (pki.sh's NAME.ssl.kafka.conf,
 * comments dropped) into out[size]; 0, or -1 when the file cannot be read. */
static int kafka_lines(const char *name, char *out, size_t size) {
        char path[800], line[1024];
        snprintf(path, sizeof(path), "%s/%s.ssl.kafka.conf", pki, name);
        FILE *f = fopen(path, "r");
        size_t len = 0;
        if (!f)
                return -1;
        out[0] = '\0';
        while (fgets(line, sizeof(line), f)) {
                line[strcspn(line, "\r\n")] = '\0';
                if (line[0] != '#' && line[0] && len < size)
                        len += (size_t)snprintf(out + len, size - len, " %s", line);
        }
        fclose(f);
        return 0;
}

/* The configuration of a client logging in as `name` with its certificate. */
static rd_kafka_conf_t *conf_as(const char *name) {
        char errstr[512], path[800];
        rd_kafka_conf_t *conf = rd_kafka_conf_new();
        ck_assert_int_eq(rd_kafka_conf_set(conf, "bootstrap.servers", env.bootstrap, errstr, sizeof(errstr)),
                         0);
        ck_assert_int_eq(rd_kafka_conf_set(conf, "security.protocol", "SSL", errstr, sizeof(errstr)), 0);
        snprintf(path, sizeof(path), "%s/ca.crt", pki);
        ck_assert_int_eq(rd_kafka_conf_set(conf, "ssl.ca.location", path, errstr, sizeof(errstr)), 0);
        snprintf(path, sizeof(path), "%s/%s.crt", pki, name);
        ck_assert_int_eq(rd_kafka_conf_set(conf, "ssl.certificate.location", path, errstr, sizeof(errstr)),
                         0);
        snprintf(path, sizeof(path), "%s/%s.key", pki, name);
        ck_assert_int_eq(rd_kafka_conf_set(conf, "ssl.key.location", path, errstr, sizeof(errstr)), 0);
        return conf;
}

/* A client of the broker logging in as `name` (a producer-type handle,
 * which the Admin API takes too); the caller destroys it. */
static rd_kafka_t *client_as(const char *name) {
        char errstr[512];
        rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf_as(name), errstr, sizeof(errstr));
        ck_assert_msg(rk != NULL, "%s", errstr);
        return rk;
}

/* Records `topic` holds, asked as admin (sum of high minus low watermarks). */
static long long records_in(const char *topic) {
        rd_kafka_t *rk = client_as("admin");
        rd_kafka_topic_t *rkt = rd_kafka_topic_new(rk, topic, NULL);
        const struct rd_kafka_metadata *md = NULL;
        ck_assert_int_eq(rd_kafka_metadata(rk, 0, rkt, &md, 15000), RD_KAFKA_RESP_ERR_NO_ERROR);
        ck_assert_msg(md->topic_cnt == 1 && !md->topics[0].err, "topic %s: %s", topic,
                      rd_kafka_err2str(md->topics[0].err));
        long long total = 0;
        for (int p = 0; p < md->topics[0].partition_cnt; p++) {
                int64_t low, high;
                rd_kafka_resp_err_t err = rd_kafka_query_watermark_offsets(rk, topic, p, &low, &high, 15000);
                ck_assert_msg(!err, "watermarks of %s [%d]: %s", topic, p, rd_kafka_err2str(err));
                total += high - low;
        }
        rd_kafka_metadata_destroy(md);
        rd_kafka_topic_destroy(rkt);
        rd_kafka_destroy(rk);
        return total;
}

/* Bindings of `principal` on the broker, asked as admin with DescribeAcls. */
static size_t bindings_of(const char *principal) {
        char errstr[512];
        rd_kafka_t *rk = client_as("admin");
        rd_kafka_queue_t *q = rd_kafka_queue_new(rk);
        rd_kafka_AclBindingFilter_t *f = rd_kafka_AclBindingFilter_new(
                RD_KAFKA_RESOURCE_ANY, NULL, RD_KAFKA_RESOURCE_PATTERN_ANY, principal, NULL,
                RD_KAFKA_ACL_OPERATION_ANY, RD_KAFKA_ACL_PERMISSION_TYPE_ANY, errstr, sizeof(errstr));
        ck_assert_msg(f != NULL, "%s", errstr);
        rd_kafka_DescribeAcls(rk, f, NULL, q);
        rd_kafka_event_t *ev = rd_kafka_queue_poll(q, 30000);
        ck_assert_ptr_nonnull(ev);
        ck_assert_msg(!rd_kafka_event_error(ev), "%s", rd_kafka_event_error_string(ev));
        size_t n = 0;
        rd_kafka_DescribeAcls_result_acls(rd_kafka_event_DescribeAcls_result(ev), &n);
        rd_kafka_event_destroy(ev);
        rd_kafka_AclBinding_destroy(f);
        rd_kafka_queue_destroy(q);
        rd_kafka_destroy(rk);
        return n;
}

/* Runs `sharebus-topics VERB --config <dir>/topics.conf` (as admin: the
 * file's kafka group) with its output in a new file <dir>/<log>; returns
 * its exit code.  Usable before Check's runner. */
static int topics(const char *verb, const char *log) {
        char bin[1200], conf[700], log_path[700];
        snprintf(bin, sizeof(bin), "%s", h_bin(&env, "sharebus-topics"));
        snprintf(conf, sizeof(conf), "%s", h_path(&env, "topics.conf"));
        snprintf(log_path, sizeof(log_path), "%s", h_path(&env, log));
        remove(log_path);
        char *argv[] = {bin, (char *)verb, "--config", conf, "--require-acls", NULL};
        int rc = h_run(argv, log_path, 120000);
        char cmd[1600];
        snprintf(cmd, sizeof(cmd), "sed 's/^/    %s: /' '%s' >&2", log, log_path);
        if (system(cmd) != 0)
                fprintf(stderr, "(no %s)\n", log_path);
        return rc;
}

#define ASSERT_LOGGED(log, text)                                                                             \
        ck_assert_msg(h_file_contains(h_path(&env, (log)), (text)), "no \"%s\" in %s", (text), (log))
#define ASSERT_NOT_LOGGED(log, text)                                                                         \
        ck_assert_msg(!h_file_contains(h_path(&env, (log)), (text)), "\"%s\" in %s", (text), (log))

/* The declaration: the datasets and dead letters, not _sharebus_schemas
 * (the registry creates it, with its CREATE); demo reads two of the three
 * datasets, demo_pg one. */
static int write_topics_conf(void) {
        char admin[2048];
        if (kafka_lines("admin", admin, sizeof(admin)))
                return -1;
        return h_write_file(
                       &env, "topics.conf",
                       "kafka = { bootstrap_servers = \"%s\";%s };\n"
                       "partitions = 1;\n"
                       "topics = (\n"
                       "  { name = \"market.business_license\"; partitions = 2; },\n"
                       "  { name = \"civil.resident\"; },\n"
                       "  { name = \"tax.taxpayer\"; },\n"
                       "  { name = \"rejects.market\"; }, { name = \"rejects.civil\"; },\n"
                       "  { name = \"dlq.demo\"; }, { name = \"dlq.demo_pg\"; }\n"
                       ");\n"
                       "principals = (\n"
                       "  { name = \"market\"; role = \"department\"; },\n"
                       "  { name = \"civil\"; role = \"department\"; },\n"
                       "  { name = \"demo\"; role = \"subscriber\";\n"
                       "    reads = [ \"market.business_license\", \"civil.resident\" ]; },\n"
                       "  { name = \"demo_pg\"; role = \"subscriber\"; reads = [ \"market.business_license\" "
                       "]; },\n"
                       "  { name = \"registry\"; role = \"registry\"; },\n"
                       "  { name = \"operator\"; role = \"operator\"; }\n"
                       ");\n",
                       env.bootstrap, admin)
                       ? 0
                       : -1;
}

/* Starts the registry as principal registry, storing in the broker; 0 or
 * -1 after printing why.  Usable before Check's runner. */
static int start_registry(void) {
        char lines[2048];
        if (kafka_lines("registry", lines, sizeof(lines)))
                return -1;
        return h_start_registry(&env, "registry", "http", "log_level = \"info\";", lines, &env.registry_pid,
                                env.registry_url, sizeof(env.registry_url));
}

/* Runs sharebus-producer logging in as `principal` for <department>.<dataset>
 * with the change lines of `input`; output in <dir>/<log>; its exit code. */
static int run_producer(const char *principal, const char *department, const char *dataset, const char *input,
                        const char *log) {
        char lines[2048], name[256], conf[700];
        ck_assert_int_eq(kafka_lines(principal, lines, sizeof(lines)), 0);
        snprintf(name, sizeof(name), "producer-%s-%s.%s.conf", principal, department, dataset);
        snprintf(conf, sizeof(conf), "%s",
                 h_write_file(&env, name,
                              "department = \"%s\";\ndataset = \"%s\";\nschema_dir = \"%s/schemas\";\n"
                              "registry_url = \"%s\";\ninput = \"%s\";\n"
                              "kafka = { bootstrap_servers = \"%s\";%s };\n",
                              department, dataset, env.dir, env.registry_url, input, env.bootstrap, lines));
        char log_path[700];
        snprintf(log_path, sizeof(log_path), "%s", h_path(&env, log));
        return h_wait(h_start_program(&env, "sharebus-producer", conf, log_path), 120000);
}

/* Runs sharebus-subscriber `name` logging in as `principal`, reading
 * `topics` into SQLite <dir>/<name>.db until idle for 5 s (or refused);
 * output in <dir>/<log>; its exit code. */
static int run_subscriber(const char *principal, const char *name, const char *topics_list, const char *extra,
                          const char *log) {
        char lines[2048], db[700], log_path[700], settings[1024];
        ck_assert_int_eq(kafka_lines(principal, lines, sizeof(lines)), 0);
        snprintf(db, sizeof(db), "%s/%s.db", env.dir, name);
        snprintf(log_path, sizeof(log_path), "%s", h_path(&env, log));
        snprintf(settings, sizeof(settings), "idle_exit_ms = 5000;\n%s", extra ? extra : "");
        return h_wait(h_start_subscriber(&env, name, topics_list, NULL, db, NULL, settings, lines, log_path),
                      120000);
}

START_TEST(plan_shows_the_acls_apply_makes_them_then_in_sync) {
        /* main ran plan, then apply, before the registry started. */
        ck_assert_int_eq(plan0_rc, 3);
        ASSERT_LOGGED("plan0.log", "principals: 6 declared, 42 ACL bindings derived; the broker holds 0");
        ASSERT_LOGGED("plan0.log", "  + acl User:market: WRITE on topics prefixed \"market.\"");
        ASSERT_LOGGED("plan0.log", "  + acl User:demo: READ on topic \"civil.resident\"");
        ASSERT_LOGGED("plan0.log", "  + acl User:operator: DESCRIBE on every group (\"*\")");
        ASSERT_LOGGED("plan0.log", "ACLs: 42 to add, 0 to delete");
        ck_assert_int_eq(apply_rc, 0);
        ASSERT_LOGGED("apply.log", "and the 42 ACL bindings of the 6 principals as derived");
        /* As the broker itself lists them. */
        ck_assert_uint_eq(bindings_of("User:market"), 7);
        ck_assert_uint_eq(bindings_of("User:demo"), 2 * 2 + 3 + 2 + 1);
        ck_assert_uint_eq(bindings_of("User:operator"), 4);
        ck_assert_int_eq(topics("plan", "plan1.log"), 0);
        ASSERT_LOGGED("plan1.log", "ACLs in sync: 42 bindings as derived from the principals.");
        ASSERT_NOT_LOGGED("plan1.log", "  + acl");
        /* The registry made its topic (not declared: kept). */
        ASSERT_LOGGED("plan1.log", "kept (on the broker, not declared; --allow-delete deletes them): "
                                   "_sharebus_schemas");
}
END_TEST

START_TEST(a_binding_the_file_does_not_derive_is_deleted) {
        char errstr[512];
        rd_kafka_t *rk = client_as("admin");
        rd_kafka_queue_t *q = rd_kafka_queue_new(rk);
        rd_kafka_AclBinding_t *b = rd_kafka_AclBinding_new(
                RD_KAFKA_RESOURCE_TOPIC, "market.business_license", RD_KAFKA_RESOURCE_PATTERN_LITERAL,
                "User:intruder", "*", RD_KAFKA_ACL_OPERATION_READ, RD_KAFKA_ACL_PERMISSION_TYPE_ALLOW, errstr,
                sizeof(errstr));
        ck_assert_msg(b != NULL, "%s", errstr);
        rd_kafka_CreateAcls(rk, &b, 1, NULL, q);
        rd_kafka_event_t *ev = rd_kafka_queue_poll(q, 30000);
        ck_assert_ptr_nonnull(ev);
        size_t n = 0;
        const rd_kafka_acl_result_t **r =
                rd_kafka_CreateAcls_result_acls(rd_kafka_event_CreateAcls_result(ev), &n);
        ck_assert_uint_eq(n, 1);
        ck_assert_ptr_null(rd_kafka_acl_result_error(r[0]));
        rd_kafka_event_destroy(ev);
        rd_kafka_AclBinding_destroy(b);
        rd_kafka_queue_destroy(q);
        rd_kafka_destroy(rk);
        for (int i = 0; i < 50 && bindings_of("User:intruder") != 1; i++)
                h_sleep_ms(100);
        ck_assert_uint_eq(bindings_of("User:intruder"), 1);

        ck_assert_int_eq(topics("plan", "intruder1.log"), 3);
        ASSERT_LOGGED("intruder1.log",
                      "  - acl User:intruder: READ on topic \"market.business_license\" (on the "
                      "broker, not derived from the file: deleted)");
        ASSERT_LOGGED("intruder1.log", "ACLs: 0 to add, 1 to delete");
        ck_assert_int_eq(topics("apply", "intruder2.log"), 0);
        ck_assert_uint_eq(bindings_of("User:intruder"), 0);
        ck_assert_uint_eq(bindings_of("User:market"), 7);
        ck_assert_int_eq(topics("plan", "intruder3.log"), 0);
}
END_TEST

/* Rows a table should hold after the change lines of <dir>/<name>. */
static long long rows_of(const char *name, const char *key_field) {
        json_t *state = h_expected_state(h_path(&env, name), key_field);
        long long n = (long long)json_object_size(state);
        json_decref(state);
        return n;
}

START_TEST(a_department_publishes_its_own_dataset) {
        char input[600];
        int deletes = h_write_sample(&env, "market.business_license", "market.jsonl", 40, 30, 11, input,
                                     sizeof(input));
        ck_assert_int_eq(run_producer("market", "market", "business_license", input, "market-own.log"), 0);
        ck_assert_int_eq(records_in("market.business_license"),
                         40 + deletes); /* a tombstone after a delete */
}
END_TEST

START_TEST(a_department_publishing_another_departments_dataset_is_refused) {
        char input[600];
        int deletes = h_write_sample(&env, "civil.resident", "civil.jsonl", 10, 10, 12, input, sizeof(input));
        /* Market's certificate, civil's topic. */
        ck_assert_int_eq(run_producer("market", "civil", "resident", input, "market-as-civil.log"), 1);
        ASSERT_LOGGED("market-as-civil.log",
                      "topic civil.resident: not authorized (TOPIC_AUTHORIZATION_FAILED)");
        ASSERT_LOGGED("market-as-civil.log", "department civil writes only civil.* and rejects.civil");
        ASSERT_LOGGED("market-as-civil.log", "the principal this producer logs in as may not write it");
        ck_assert_int_eq(records_in("civil.resident"), 0);
        /* Civil's own certificate may. */
        ck_assert_int_eq(run_producer("civil", "civil", "resident", input, "civil-own.log"), 0);
        ck_assert_int_eq(records_in("civil.resident"), 10 + deletes);
}
END_TEST

START_TEST(a_subscriber_reads_the_datasets_granted) {
        /* Not Confluent-framed: a dead letter, into demo's own dlq.demo. */
        rd_kafka_t *rk = client_as("admin");
        ck_assert_int_eq(rd_kafka_producev(rk, RD_KAFKA_V_TOPIC("market.business_license"),
                                           RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY), RD_KAFKA_V_KEY("k", 1),
                                           RD_KAFKA_V_VALUE("hello!", 6), RD_KAFKA_V_END),
                         0);
        ck_assert_int_eq(rd_kafka_flush(rk, 30000), 0);
        rd_kafka_destroy(rk);
        ck_assert_int_eq(run_subscriber("demo", "demo", "market.business_license,civil.resident", NULL,
                                        "demo-read.log"),
                         0);
        char db[700];
        snprintf(db, sizeof(db), "%s/demo.db", env.dir);
        ck_assert_int_eq(h_sqlite_int(db, "SELECT count(*) FROM market_business_license"),
                         rows_of("market.jsonl", "uscc"));
        ck_assert_int_eq(h_sqlite_int(db, "SELECT count(*) FROM civil_resident"),
                         rows_of("civil.jsonl", "id_number"));
        ck_assert_int_eq(records_in("dlq.demo"), 1);
}
END_TEST

START_TEST(a_subscriber_reading_a_dataset_not_granted_is_refused) {
        ck_assert_int_eq(run_subscriber("demo", "demo", "tax.taxpayer", NULL, "demo-tax.log"), 1);
        ASSERT_LOGGED("demo-tax.log", "tax.taxpayer");
        ASSERT_LOGGED("demo-tax.log", "not authorized (TOPIC_AUTHORIZATION_FAILED): subscriber demo (group "
                                      "sharebus.demo) may read only");
        ASSERT_LOGGED("demo-tax.log", "the topics its principal's reads name");
        /* Another name is another group, which is not demo's. */
        ck_assert_int_eq(run_subscriber("demo", "spy", "market.business_license", NULL, "demo-as-spy.log"),
                         1);
        ASSERT_LOGGED("demo-as-spy.log", "not authorized (GROUP_AUTHORIZATION_FAILED): subscriber spy (group "
                                         "sharebus.spy)");
        char db[700];
        snprintf(db, sizeof(db), "%s/spy.db", env.dir);
        ck_assert_int_le(h_sqlite_int(db, "SELECT count(*) FROM market_business_license"), 0);
}
END_TEST

START_TEST(a_subscriber_writing_another_subscribers_dead_letters_is_refused) {
        long long before = records_in("dlq.demo");
        ck_assert_int_eq(run_subscriber("demo_pg", "demo_pg", "market.business_license",
                                        "dlq_topic = \"dlq.demo\";", "demo_pg-dlq-demo.log"),
                         1);
        ASSERT_LOGGED("demo_pg-dlq-demo.log",
                      "dead-letter topic dlq.demo: not authorized "
                      "(TOPIC_AUTHORIZATION_FAILED): subscriber demo_pg's principal may not "
                      "write it");
        ASSERT_LOGGED("demo_pg-dlq-demo.log", "a subscriber writes only its own dlq.<name>");
        ck_assert_int_eq(records_in("dlq.demo"), before);
        /* Its own dead-letter topic takes it, and the batch goes through. */
        ck_assert_int_eq(
                run_subscriber("demo_pg", "demo_pg", "market.business_license", NULL, "demo_pg-own.log"), 0);
        ck_assert_int_eq(records_in("dlq.demo_pg"), 1);
        char db[700];
        snprintf(db, sizeof(db), "%s/demo_pg.db", env.dir);
        ck_assert_int_eq(h_sqlite_int(db, "SELECT count(*) FROM market_business_license"),
                         rows_of("market.jsonl", "uscc"));
}
END_TEST

/* Keeps a delivery's error in the opaque's rd_kafka_resp_err_t. */
static void on_delivery(rd_kafka_t *rk, const rd_kafka_message_t *m, void *opaque) {
        (void)rk;
        *(rd_kafka_resp_err_t *)opaque = m->err;
}

START_TEST(the_operator_describes_groups_and_topics_and_writes_nothing) {
        rd_kafka_t *rk = client_as("operator");
        rd_kafka_queue_t *q = rd_kafka_queue_new(rk);
        /* ListGroups (CLUSTER DESCRIBE). */
        rd_kafka_ListConsumerGroups(rk, NULL, q);
        rd_kafka_event_t *ev = rd_kafka_queue_poll(q, 30000);
        ck_assert_ptr_nonnull(ev);
        ck_assert_msg(!rd_kafka_event_error(ev), "%s", rd_kafka_event_error_string(ev));
        size_t n = 0, errors = 0;
        const rd_kafka_ListConsumerGroups_result_t *lr = rd_kafka_event_ListConsumerGroups_result(ev);
        const rd_kafka_ConsumerGroupListing_t **gl = rd_kafka_ListConsumerGroups_result_valid(lr, &n);
        rd_kafka_ListConsumerGroups_result_errors(lr, &errors);
        int seen = 0;
        for (size_t i = 0; i < n; i++)
                seen |= strcmp(rd_kafka_ConsumerGroupListing_group_id(gl[i]), "sharebus.demo") == 0;
        ck_assert_msg(seen, "sharebus.demo not among the %zu groups listed", n);
        ck_assert_uint_eq(errors, 0);
        rd_kafka_event_destroy(ev);
        /* OffsetFetch (GROUP DESCRIBE, TOPIC DESCRIBE). */
        rd_kafka_ListConsumerGroupOffsets_t *req =
                rd_kafka_ListConsumerGroupOffsets_new("sharebus.demo", NULL);
        rd_kafka_ListConsumerGroupOffsets(rk, &req, 1, NULL, q);
        rd_kafka_ListConsumerGroupOffsets_destroy(req);
        ev = rd_kafka_queue_poll(q, 30000);
        ck_assert_ptr_nonnull(ev);
        ck_assert_msg(!rd_kafka_event_error(ev), "%s", rd_kafka_event_error_string(ev));
        const rd_kafka_group_result_t **gr = rd_kafka_ListConsumerGroupOffsets_result_groups(
                rd_kafka_event_ListConsumerGroupOffsets_result(ev), &n);
        ck_assert_uint_eq(n, 1);
        ck_assert_msg(!rd_kafka_group_result_error(gr[0]), "%s",
                      rd_kafka_error_string(rd_kafka_group_result_error(gr[0])));
        const rd_kafka_topic_partition_list_t *parts = rd_kafka_group_result_partitions(gr[0]);
        int64_t committed = 0;
        for (int i = 0; parts && i < parts->cnt; i++)
                if (strcmp(parts->elems[i].topic, "market.business_license") == 0 &&
                    parts->elems[i].offset > 0)
                        committed += parts->elems[i].offset;
        ck_assert_int_eq(committed,
                         records_in("market.business_license")); /* every record, the dead letter too */
        rd_kafka_event_destroy(ev);
        /* ListOffsets (TOPIC DESCRIBE). */
        int64_t low, high;
        ck_assert_int_eq(rd_kafka_query_watermark_offsets(rk, "civil.resident", 0, &low, &high, 15000),
                         RD_KAFKA_RESP_ERR_NO_ERROR);
        long long civil = records_in("civil.resident");
        ck_assert_int_eq(high - low, civil);
        rd_kafka_queue_destroy(q);
        rd_kafka_destroy(rk);

        /* A write: the broker refuses it (DESCRIBE granted, WRITE not). */
        char errstr[512];
        rd_kafka_resp_err_t delivered = RD_KAFKA_RESP_ERR__TIMED_OUT;
        rd_kafka_conf_t *conf = conf_as("operator");
        rd_kafka_conf_set(conf, "message.timeout.ms", "20000", NULL, 0);
        rd_kafka_conf_set_dr_msg_cb(conf, on_delivery);
        rd_kafka_conf_set_opaque(conf, &delivered);
        rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, errstr, sizeof(errstr));
        ck_assert_msg(rk != NULL, "%s", errstr);
        ck_assert_int_eq(rd_kafka_producev(rk, RD_KAFKA_V_TOPIC("civil.resident"),
                                           RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY), RD_KAFKA_V_VALUE("x", 1),
                                           RD_KAFKA_V_END),
                         0);
        ck_assert_int_eq(rd_kafka_flush(rk, 30000), 0);
        rd_kafka_destroy(rk);
        ck_assert_msg(delivered == RD_KAFKA_RESP_ERR_TOPIC_AUTHORIZATION_FAILED, "the operator's write: %s",
                      rd_kafka_err2name(delivered));
        ck_assert_int_eq(records_in("civil.resident"), civil);
}
END_TEST

/* SCRAM-SHA-512 on the SASL_SSL listener, with a client of today (Confluent's
 * Python client, librdkafka 2.16; the programs' 2.0.2 cannot, README
 * "Security"): the same principal, the same ACLs as its certificate. */
START_TEST(a_department_logging_in_with_scram_gets_the_same_acls) {
        char cmd[4096], python[600] = "", line[256];
        snprintf(cmd, sizeof(cmd), "'%s/tests/interop/venv.sh'", env.src);
        FILE *p = popen(cmd, "r");
        ck_assert_ptr_nonnull(p);
        if (!fgets(python, sizeof(python), p))
                python[0] = 0;
        ck_assert_msg(pclose(p) == 0 && python[0],
                      "tests/interop/venv.sh failed (see .cache/venv-install.log)");
        python[strcspn(python, "\r\n")] = 0;
        long long market = records_in("market.business_license"), civil = records_in("civil.resident");
        snprintf(cmd, sizeof(cmd),
                 "'%s' '%s/tests/interop/scram_login.py' \"$(cat '%s/kafka/bootstrap.scram')\" '%s/ca.crt' "
                 "market "
                 "'%s/market.password' market.business_license civil.resident 2>'%s/scram.log'",
                 python, env.src, env.dir, pki, pki, env.dir);
        p = popen(cmd, "r");
        ck_assert_ptr_nonnull(p);
        char out[1024] = "";
        while (fgets(line, sizeof(line), p))
                strncat(out, line, sizeof(out) - strlen(out) - 1);
        ck_assert_msg(pclose(p) == 0, "scram_login.py failed: %s (see scram.log)", out);
        ck_assert_msg(strstr(out, "allowed market.business_license NO_ERROR\n"), "%s", out);
        ck_assert_msg(strstr(out, "refused civil.resident TOPIC_AUTHORIZATION_FAILED\n"), "%s", out);
        ck_assert_msg(strstr(out, "wrong-password _AUTHENTICATION\n"), "%s", out);
        ck_assert_int_eq(records_in("market.business_license"), market + 1);
        ck_assert_int_eq(records_in("civil.resident"), civil);
}
END_TEST

int main(void) {
        char cmd[8192], path[800];
        const char *src = getenv("SHAREBUS_SRC");
        memset(&env, 0, sizeof(env));
        snprintf(env.src, sizeof(env.src), "%s", src && *src ? src : ".");
        snprintf(env.dir, sizeof(env.dir), "/tmp/sharebus-it-XXXXXX");
        if (!mkdtemp(env.dir)) {
                perror("mkdtemp");
                return 1;
        }
        snprintf(pki, sizeof(pki), "%s/pki", env.dir);
        snprintf(cmd, sizeof(cmd),
                 "'%s/broker-config/pki.sh' '%s' market civil demo demo_pg registry operator >/dev/null "
                 "2>'%s/pki.log' && "
                 "'%s/broker-config/kafka-start.sh' --secure '%s' '%s/kafka' > '%s/bootstrap' 2> "
                 "'%s/kafka-start.log'",
                 env.src, pki, env.dir, env.src, pki, env.dir, env.dir, env.dir);
        if (system(cmd) != 0) {
                fprintf(stderr, "test_acl: the PKI or the secured Kafka did not start:\n");
                snprintf(cmd, sizeof(cmd), "tail -n 30 '%s/pki.log' '%s/kafka-start.log' >&2", env.dir,
                         env.dir);
                if (system(cmd) != 0)
                        fprintf(stderr, "(no logs)\n");
                return 1;
        }
        snprintf(path, sizeof(path), "%s/bootstrap", env.dir);
        FILE *f = fopen(path, "r");
        if (!f || !fgets(env.bootstrap, sizeof(env.bootstrap), f)) {
                fprintf(stderr, "test_acl: no bootstrap address in %s\n", path);
                if (f)
                        fclose(f);
                h_env_stop(&env);
                return 1;
        }
        fclose(f);
        env.bootstrap[strcspn(env.bootstrap, "\r\n")] = 0;
        fprintf(stderr, "test_acl: secured Kafka at %s, files in %s\n", env.bootstrap, env.dir);
        snprintf(cmd, sizeof(cmd),
                 "mkdir -p '%s/schemas' && cp '%s'/schemas/datasets/market.business_license.*.avsc "
                 "'%s'/schemas/datasets/civil.resident.*.avsc '%s/schemas/'",
                 env.dir, env.src, env.src, env.dir);
        int rc = 1;
        if (system(cmd) == 0 && write_topics_conf() == 0) {
                plan0_rc = topics("plan", "plan0.log");
                apply_rc = topics("apply", "apply.log");
                if (apply_rc == 0 && start_registry() == 0) {
                        Suite *s = suite_create("acl");
                        TCase *tc = tcase_create("acl");
                        tcase_set_timeout(tc, 300);
                        /* In this order: each starts from what the one before left. */
                        tcase_add_test(tc, plan_shows_the_acls_apply_makes_them_then_in_sync);
                        tcase_add_test(tc, a_binding_the_file_does_not_derive_is_deleted);
                        tcase_add_test(tc, a_department_publishes_its_own_dataset);
                        tcase_add_test(tc, a_department_publishing_another_departments_dataset_is_refused);
                        tcase_add_test(tc, a_subscriber_reads_the_datasets_granted);
                        tcase_add_test(tc, a_subscriber_reading_a_dataset_not_granted_is_refused);
                        tcase_add_test(tc, a_subscriber_writing_another_subscribers_dead_letters_is_refused);
                        tcase_add_test(tc, the_operator_describes_groups_and_topics_and_writes_nothing);
                        tcase_add_test(tc, a_department_logging_in_with_scram_gets_the_same_acls);
                        suite_add_tcase(s, tc);
                        rc = h_run_suite(s) ? 1 : 0;
                } else {
                        fprintf(stderr, "test_acl: apply exited %d, or the registry did not start\n",
                                apply_rc);
                }
        }
        h_env_stop(&env);
        return rc;
}

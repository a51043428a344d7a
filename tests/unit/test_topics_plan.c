/*
 * Unit tests of sharebus-topics' parts that need no broker
 * (broker-config/topics/): the topics set and its bounds, the declaration
 * read from topics.conf with every mistake named by file and line, and
 * the plan: the rules of topics_plan.h driven from declared and broker
 * sets described as data, and the printed plan.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sb_config.h"
#include "testutil.h"
#include "topics/topics_file.h"
#include "topics/topics_plan.h"
#include "topics/topics_set.h"

/* Adds topic `name` to `s` with `configs`, "name=value name=value" ("" for
 * none). */
static void add(topics_set_t *s, const char *name, int partitions, int rf, const char *configs) {
        size_t index;
        TEST_CALL(topics_set_add(s, name, partitions, rf, 0, &index, TEST_ERR));
        for (const char *p = configs; *p;) {
                const char *eq = strchr(p, '='), *end = strchr(p, ' ');
                if (!end)
                        end = p + strlen(p);
                ck_assert_ptr_nonnull(eq);
                char k[128], v[128];
                snprintf(k, sizeof(k), "%.*s", (int)(eq - p), p);
                snprintf(v, sizeof(v), "%.*s", (int)(end - eq - 1), eq + 1);
                TEST_CALL(topics_set_add_config(s, index, k, v, 0, TEST_ERR));
                p = *end ? end + 1 : end;
        }
}

static topics_set_t *empty(void) {
        topics_set_t *s = NULL;
        TEST_CALL(topics_set_new(&s, TEST_ERR));
        return s;
}

static topics_plan_t *plan_of(const topics_set_t *want, const topics_set_t *have, int allow_delete) {
        topics_plan_t *p = NULL;
        topics_plan_options_t opts = {.allow_delete = allow_delete};
        TEST_CALL(topics_plan_new(want, have, &opts, &p, TEST_ERR));
        return p;
}

/* The printed plan (caller frees). */
static char *printed(const topics_plan_t *p) {
        char *text = NULL;
        size_t len = 0;
        FILE *f = open_memstream(&text, &len);
        ck_assert_ptr_nonnull(f);
        topics_plan_print(p, f);
        fclose(f);
        return text;
}

#define ASSERT_HAS(text, needle)                                                                             \
        ck_assert_msg(strstr((text), (needle)) != NULL, "no \"%s\" in:\n%s", (needle), (text))

START_TEST(test_set_checks_names_and_bounds) {
        char why[256], err[512];
        ck_assert_int_eq(topics_name_check("civil.resident", why, sizeof(why)), 0);
        ck_assert_int_eq(topics_name_check("dlq.demo_pg-2", why, sizeof(why)), 0);
        const char *bad[] = {"", ".", "..", "a b", "x/y", "ünicode"};
        for (size_t i = 0; i < sizeof(bad) / sizeof(*bad); i++)
                ck_assert_msg(topics_name_check(bad[i], why, sizeof(why)) == -1, "'%s' accepted", bad[i]);
        char longest[TOPICS_NAME_MAX + 2];
        memset(longest, 'a', sizeof(longest));
        longest[TOPICS_NAME_MAX] = 0;
        ck_assert_int_eq(topics_name_check(longest, why, sizeof(why)), 0);
        longest[TOPICS_NAME_MAX] = 'a';
        longest[TOPICS_NAME_MAX + 1] = 0;
        ck_assert_int_eq(topics_name_check(longest, why, sizeof(why)), -1);
        ASSERT_HAS(why, "1 to 249 characters");

        topics_set_t *s = empty();
        size_t i;
        ck_assert_int_eq(topics_set_add(s, "a b", 1, 1, 0, &i, err, sizeof(err)), SB_ERR_INVALID);
        ck_assert_int_eq(topics_set_add(s, "ok", -1, 1, 0, &i, err, sizeof(err)), SB_ERR_INVALID);
        TEST_CALL(topics_set_add(s, "ok", 1, 1, 0, &i, TEST_ERR));
        TEST_CALL(topics_set_add_config(s, i, "retention.ms", "1000", 3, TEST_ERR));
        ck_assert_int_eq(topics_set_add_config(s, i, "retention.ms", "2000", 4, err, sizeof(err)),
                         SB_ERR_INVALID);
        ASSERT_HAS(err, "declared twice (first at line 3)");
        ck_assert_int_eq(topics_set_add_config(s, i, "no spaces", "1", 4, err, sizeof(err)), SB_ERR_INVALID);
        char *huge = malloc(TOPICS_CONFIG_VALUE_MAX + 2);
        memset(huge, '1', TOPICS_CONFIG_VALUE_MAX + 1);
        huge[TOPICS_CONFIG_VALUE_MAX + 1] = 0;
        ck_assert_int_eq(topics_set_add_config(s, i, "x.y", huge, 4, err, sizeof(err)), SB_ERR_INVALID);
        free(huge);
        for (int k = 1; k < TOPICS_CONFIGS_MAX; k++) {
                char name[32];
                snprintf(name, sizeof(name), "c%02d", k);
                TEST_CALL(topics_set_add_config(s, i, name, "v", 5, TEST_ERR));
        }
        ck_assert_int_eq(topics_set_add_config(s, i, "one.more", "v", 6, err, sizeof(err)), SB_ERR_INVALID);
        ASSERT_HAS(err, "more than 64 configs");
        /* Configs are kept by name, whatever the order they came in. */
        const topics_topic_t *t = topics_set_at(s, 0);
        for (size_t k = 1; k < t->n_configs; k++)
                ck_assert_int_lt(strcmp(t->configs[k - 1].name, t->configs[k].name), 0);
        ck_assert_str_eq(topics_config_get(t, "retention.ms"), "1000");
        ck_assert_ptr_null(topics_config_get(t, "absent"));
        /* Twice the same topic: found by the sort, with both lines. */
        TEST_CALL(topics_set_add(s, "b", 1, 1, 9, NULL, TEST_ERR));
        TEST_CALL(topics_set_add(s, "ok", 2, 1, 7, NULL, TEST_ERR));
        const topics_topic_t *first = NULL, *second = NULL;
        ck_assert_int_eq(topics_set_sort(s, &first, &second), -1);
        ck_assert_str_eq(first->name, "ok");
        ck_assert_int_eq(first->line, 0);
        ck_assert_int_eq(second->line, 7);
        topics_set_destroy(s);
}
END_TEST

START_TEST(test_in_sync_is_exit_0) {
        topics_set_t *want = empty(), *have = empty();
        add(want, "civil.resident", 3, 1, "retention.ms=1000");
        add(have, "civil.resident", 3, 1, "retention.ms=1000");
        topics_plan_t *p = plan_of(want, have, 0);
        ck_assert_uint_eq(topics_plan_count(p), 0);
        ck_assert_uint_eq(topics_plan_in_sync(p), 1);
        ck_assert_int_eq(topics_plan_exit_code(p), TOPICS_EXIT_IN_SYNC);
        char *text = printed(p);
        ASSERT_HAS(text, "In sync: 1 declared topics");
        free(text);
        topics_plan_destroy(p);
        topics_set_destroy(want);
        topics_set_destroy(have);
}
END_TEST

START_TEST(test_a_topic_the_broker_lacks_is_created) {
        topics_set_t *want = empty(), *have = empty();
        add(want, "market.business_license", 6, 3, "min.insync.replicas=2 retention.ms=604800000");
        topics_plan_t *p = plan_of(want, have, 0);
        ck_assert_uint_eq(topics_plan_count(p), 1);
        const topics_change_t *c = topics_plan_at(p, 0);
        ck_assert_int_eq(c->op, TOPICS_OP_CREATE);
        ck_assert_ptr_null(c->have);
        ck_assert_int_eq(c->want->partitions, 6);
        ck_assert_int_eq(topics_plan_exit_code(p), TOPICS_EXIT_PENDING);
        char *text = printed(p);
        ASSERT_HAS(text, "  + market.business_license: create, 6 partitions, replication factor 3\n");
        ASSERT_HAS(text, "      + min.insync.replicas = 2\n");
        ASSERT_HAS(text, "      + retention.ms = 604800000\n");
        ASSERT_HAS(text, "Plan: 1 to create, 0 to update");
        free(text);
        topics_plan_destroy(p);
        topics_set_destroy(want);
        topics_set_destroy(have);
}
END_TEST

START_TEST(test_more_partitions_are_added) {
        topics_set_t *want = empty(), *have = empty();
        add(want, "tax.taxpayer", 6, 1, "");
        add(have, "tax.taxpayer", 3, 1, "");
        topics_plan_t *p = plan_of(want, have, 0);
        const topics_change_t *c = topics_plan_find(p, "tax.taxpayer");
        ck_assert_ptr_nonnull(c);
        ck_assert_int_eq(c->op, TOPICS_OP_UPDATE);
        ck_assert(c->add_partitions);
        ck_assert_uint_eq(c->n_configs, 0);
        ck_assert_int_eq(topics_plan_exit_code(p), TOPICS_EXIT_PENDING);
        char *text = printed(p);
        ASSERT_HAS(text, "  ~ tax.taxpayer: update\n      ~ partitions = 3 -> 6");
        free(text);
        topics_plan_destroy(p);
        topics_set_destroy(want);
        topics_set_destroy(have);
}
END_TEST

START_TEST(test_fewer_partitions_are_refused_or_recreated) {
        topics_set_t *want = empty(), *have = empty();
        add(want, "civil.resident", 2, 1, "retention.ms=1000");
        add(want, "tax.taxpayer", 6, 1, ""); /* pending as well: not applied while one is refused */
        add(have, "civil.resident", 4, 1, "");
        add(have, "tax.taxpayer", 3, 1, "");
        topics_plan_t *p = plan_of(want, have, 0);
        const topics_change_t *c = topics_plan_find(p, "civil.resident");
        ck_assert_int_eq(c->op, TOPICS_OP_REFUSED);
        ck_assert(c->fewer_partitions);
        ck_assert(!c->replication_differs);
        ck_assert_uint_eq(topics_plan_tally(p, TOPICS_OP_REFUSED), 1);
        ck_assert_int_eq(topics_plan_exit_code(p), TOPICS_EXIT_REFUSED);
        char *text = printed(p);
        ASSERT_HAS(text, "  ! civil.resident: refused\n");
        ASSERT_HAS(
                text,
                "partitions = 4 on the broker, 2 declared: Kafka cannot remove partitions; --allow-delete");
        ASSERT_HAS(text, "1 refused");
        free(text);
        topics_plan_destroy(p);

        p = plan_of(want, have, 1);
        c = topics_plan_find(p, "civil.resident");
        ck_assert_int_eq(c->op, TOPICS_OP_RECREATE);
        ck_assert(c->fewer_partitions);
        ck_assert_int_eq(topics_plan_exit_code(p), TOPICS_EXIT_PENDING);
        ck_assert_uint_eq(topics_plan_pending(p), 2);
        text = printed(p);
        ASSERT_HAS(text,
                   "  -/+ civil.resident: DELETE AND CREATE AGAIN, 4 partitions on the broker, 2 declared: "
                   "EVERY RECORD OF THE TOPIC IS LOST");
        ASSERT_HAS(text, "      + retention.ms = 1000\n"); /* created with its configs */
        free(text);
        topics_plan_destroy(p);
        topics_set_destroy(want);
        topics_set_destroy(have);
}
END_TEST

START_TEST(test_configs_are_set_changed_and_reset) {
        topics_set_t *want = empty(), *have = empty();
        add(want, "dlq.demo", 1, 1, "cleanup.policy=compact retention.ms=2592000000");
        add(have, "dlq.demo", 1, 1, "retention.ms=604800000 segment.bytes=1048576");
        topics_plan_t *p = plan_of(want, have, 0);
        const topics_change_t *c = topics_plan_find(p, "dlq.demo");
        ck_assert_int_eq(c->op, TOPICS_OP_UPDATE);
        ck_assert(!c->add_partitions);
        ck_assert_uint_eq(c->n_configs, 3);
        /* By name: cleanup.policy added, retention.ms changed, segment.bytes reset. */
        ck_assert_int_eq(c->configs[0].op, TOPICS_CONFIG_ADD);
        ck_assert_str_eq(c->configs[0].name, "cleanup.policy");
        ck_assert_ptr_null(c->configs[0].from);
        ck_assert_int_eq(c->configs[1].op, TOPICS_CONFIG_CHANGE);
        ck_assert_str_eq(c->configs[1].from, "604800000");
        ck_assert_str_eq(c->configs[1].to, "2592000000");
        ck_assert_int_eq(c->configs[2].op, TOPICS_CONFIG_RESET);
        ck_assert_str_eq(c->configs[2].name, "segment.bytes");
        ck_assert_ptr_null(c->configs[2].to);
        char *text = printed(p);
        ASSERT_HAS(text, "      + cleanup.policy = compact\n");
        ASSERT_HAS(text, "      ~ retention.ms = 604800000 -> 2592000000\n");
        ASSERT_HAS(text, "      - segment.bytes = 1048576 (not declared: back to the broker's default)\n");
        free(text);
        topics_plan_destroy(p);
        topics_set_destroy(want);
        topics_set_destroy(have);

        /* Every config reset: the topic declares none. */
        want = empty();
        have = empty();
        add(want, "x", 1, 1, "");
        add(have, "x", 1, 1, "retention.ms=5");
        p = plan_of(want, have, 0);
        c = topics_plan_find(p, "x");
        ck_assert_int_eq(c->op, TOPICS_OP_UPDATE);
        ck_assert_uint_eq(c->n_configs, 1);
        ck_assert_int_eq(c->configs[0].op, TOPICS_CONFIG_RESET);
        topics_plan_destroy(p);
        topics_set_destroy(want);
        topics_set_destroy(have);
}
END_TEST

START_TEST(test_undeclared_topics_are_kept_or_deleted_internal_never) {
        topics_set_t *want = empty(), *have = empty();
        add(want, "civil.resident", 3, 1, "");
        add(have, "civil.resident", 3, 1, "");
        add(have, "old.topic", 2, 1, "retention.ms=1");
        add(have, "__consumer_offsets", 50, 1, "");
        add(have, "__transaction_state", 50, 1, "");
        topics_plan_t *p = plan_of(want, have, 0);
        ck_assert_uint_eq(topics_plan_count(p), 1);
        ck_assert_int_eq(topics_plan_find(p, "old.topic")->op, TOPICS_OP_KEEP);
        ck_assert_ptr_null(topics_plan_find(p, "__consumer_offsets"));
        ck_assert_uint_eq(topics_plan_pending(p), 0);
        ck_assert_int_eq(topics_plan_exit_code(p), TOPICS_EXIT_IN_SYNC); /* a partial file is safe */
        char *text = printed(p);
        ASSERT_HAS(text, "kept (on the broker, not declared; --allow-delete deletes them): old.topic\n");
        ASSERT_HAS(text, "1 undeclared kept; 2 internal (__*) left alone.");
        free(text);
        topics_plan_destroy(p);

        p = plan_of(want, have, 1);
        ck_assert_uint_eq(topics_plan_count(p), 1);
        ck_assert_int_eq(topics_plan_find(p, "old.topic")->op, TOPICS_OP_DELETE);
        ck_assert_ptr_null(topics_plan_find(p, "__consumer_offsets"));
        ck_assert_int_eq(topics_plan_exit_code(p), TOPICS_EXIT_PENDING);
        text = printed(p);
        ASSERT_HAS(text, "  - old.topic: DELETE (on the broker, 2 partitions, not declared): EVERY RECORD");
        free(text);
        topics_plan_destroy(p);
        topics_set_destroy(want);
        topics_set_destroy(have);
}
END_TEST

START_TEST(test_many_kept_topics_are_counted) {
        topics_set_t *want = empty(), *have = empty();
        for (int i = 0; i < 30; i++) {
                char name[32];
                snprintf(name, sizeof(name), "t%02d", i);
                add(have, name, 1, 1, "");
        }
        topics_plan_t *p = plan_of(want, have, 0);
        char *text = printed(p);
        ASSERT_HAS(text, ": t00, t01,");
        ASSERT_HAS(text, "t19 and 10 more\n");
        free(text);
        topics_plan_destroy(p);
        topics_set_destroy(want);
        topics_set_destroy(have);
}
END_TEST

START_TEST(test_another_replication_factor_is_refused) {
        topics_set_t *want = empty(), *have = empty();
        add(want, "civil.resident", 3, 3, "");
        add(have, "civil.resident", 3, 1, "");
        for (int allow = 0; allow <= 1; allow++) {
                topics_plan_t *p = plan_of(want, have, allow);
                const topics_change_t *c = topics_plan_find(p, "civil.resident");
                ck_assert_int_eq(c->op, TOPICS_OP_REFUSED);
                ck_assert(c->replication_differs);
                ck_assert_int_eq(topics_plan_exit_code(p), TOPICS_EXIT_REFUSED);
                char *text = printed(p);
                ASSERT_HAS(text,
                           "replication factor = 1 on the broker, 3 declared: changing it takes a partition "
                           "reassignment");
                free(text);
                topics_plan_destroy(p);
        }
        topics_set_destroy(want);
        topics_set_destroy(have);
}
END_TEST

/* ---- the declaration ---- */

/* Reads `text` as file "t.conf"; returns the error (errstr into err). */
static sb_err_t read_text(const char *text, int rf_override, topics_set_t **out, char *err, size_t size) {
        sb_config_t *cfg = NULL;
        *out = NULL;
        sb_err_t e = sb_config_load_string(text, "t.conf", sb_topics_settings, sb_topics_settings_count, &cfg,
                                           err, size);
        if (!e)
                e = topics_file_read(cfg, rf_override, out, err, size);
        sb_config_destroy(cfg);
        return e;
}

START_TEST(test_file_declares_topics_with_defaults_and_configs) {
        topics_set_t *s;
        char err[1024];
        const char *text = "partitions = 4;\nreplication_factor = 2;\n"
                           "topics = (\n"
                           "  { name = \"b.two\"; },\n"
                           "  { name = \"a.one\"; partitions = 6; replication_factor = 3;\n"
                           "    configs = { retention_ms = 604800000; cleanup_policy = \"compact\";\n"
                           "                unclean_leader_election_enable = false; "
                           "min_cleanable_dirty_ratio = 0.5; }; },\n"
                           "  { name = \"c.three\"; configs = ( (\"retention.ms\", \"-1\"), "
                           "(\"max.message.bytes\", 2097152) ); }\n"
                           ");\n";
        ck_assert_msg(read_text(text, 0, &s, err, sizeof(err)) == SB_OK, "%s", err);
        ck_assert_uint_eq(topics_set_count(s), 3);
        const topics_topic_t *a = topics_set_at(s, 0), *b = topics_set_find(s, "b.two"),
                             *c = topics_set_find(s, "c.three");
        ck_assert_str_eq(a->name, "a.one"); /* sorted by name */
        ck_assert_int_eq(a->partitions, 6);
        ck_assert_int_eq(a->replication_factor, 3);
        ck_assert_int_eq(a->line, 5);
        ck_assert_str_eq(topics_config_get(a, "retention.ms"), "604800000");
        ck_assert_str_eq(topics_config_get(a, "cleanup.policy"), "compact");
        ck_assert_str_eq(topics_config_get(a, "unclean.leader.election.enable"), "false");
        ck_assert_str_eq(topics_config_get(a, "min.cleanable.dirty.ratio"), "0.5");
        ck_assert_int_eq(b->partitions, 4);
        ck_assert_int_eq(b->replication_factor, 2);
        ck_assert_uint_eq(b->n_configs, 0);
        ck_assert_str_eq(topics_config_get(c, "retention.ms"), "-1");
        ck_assert_str_eq(topics_config_get(c, "max.message.bytes"), "2097152");
        topics_set_destroy(s);

        /* --replication-factor replaces every topic's. */
        ck_assert_msg(read_text(text, 1, &s, err, sizeof(err)) == SB_OK, "%s", err);
        for (size_t i = 0; i < topics_set_count(s); i++)
                ck_assert_int_eq(topics_set_at(s, i)->replication_factor, 1);
        topics_set_destroy(s);
}
END_TEST

START_TEST(test_bad_files_are_named_by_file_and_line) {
        static const struct {
                const char *text;
                const char *want; /* in the error */
        } cases[] = {
                {"topics = 3;\n", "t.conf:1: setting 'topics': expected a group"},
                {"topics = { name = \"x\"; };\n", "t.conf:1: setting 'topics': a list of topics"},
                {"partitions = 3;\n", "missing required setting 'topics'"},
                {"partitions = 0;\ntopics = ();\n",
                 "t.conf:1: setting 'partitions': 0 is out of range 1..10000"},
                {"topics = (\n  { name = \"x\"; partitons = 3; }\n);\n",
                 "t.conf:2: setting 'topics': unknown 'partitons' (name, partitions, replication_factor, "
                 "configs)"},
                {"topics = (\n\n  { partitions = 3; }\n);\n",
                 "t.conf:3: setting 'topics': each topic needs name"},
                {"topics = ( { name = \"x\"; partitions = 10001; } );\n",
                 "t.conf:1: setting 'topics': partitions is an integer in 1..10000"},
                {"topics = ( { name = \"x\"; partitions = \"3\"; } );\n", "partitions is an integer"},
                {"topics = ( { name = \"x\"; replication_factor = 33; } );\n",
                 "replication_factor is an integer in 1..32"},
                {"topics = ( { name = \"a b\"; } );\n", "t.conf:1: setting 'topics': 'a b' holds ' '"},
                {"topics = ( { name = \"__consumer_offsets\"; } );\n", "Kafka's internal topics"},
                {"topics = (\n { name = \"x\"; },\n { name = \"y\"; },\n { name = \"x\"; }\n);\n",
                 "t.conf:4: setting 'topics': topic x is declared twice (first at line 2)"},
                {"topics = (\n { name = \"x\";\n   configs = ( (\"retention.ms\", \"1\"), (\"retention.ms\", "
                 "\"2\") ); }\n);\n",
                 "t.conf:2: setting 'topics': topic x: config retention.ms is declared twice"},
                {"topics = ( { name = \"x\"; configs = ( (\"retention.ms\") ); } );\n",
                 "each entry of a configs list is"},
                {"topics = ( { name = \"x\"; configs = \"retention.ms=1\"; } );\n", "configs is a group"},
                {"topics = ( { name = \"x\"; configs = { retention_ms = [1, 2]; }; } );\n",
                 "config retention.ms: a value is a string, a number or true/false"},
                {"topics = (\n { name = \"x\"; configs = { min_insync_replicas = 2; }; }\n);\n",
                 "t.conf:2: setting 'topics': topic x: min.insync.replicas 2 is above the replication factor "
                 "1"},
                {"topics = ( \"x\" );\n", "each topic is a group"},
                {"topics = (\n { name = = \"x\"; }\n);\n", "t.conf:2: syntax error"},
        };
        for (size_t i = 0; i < sizeof(cases) / sizeof(*cases); i++) {
                topics_set_t *s;
                char err[1024] = "";
                sb_err_t e = read_text(cases[i].text, 0, &s, err, sizeof(err));
                ck_assert_msg(e == SB_ERR_CONFIG, "case %zu accepted: %s", i, cases[i].text);
                ck_assert_ptr_null(s);
                ck_assert_msg(strstr(err, cases[i].want), "case %zu: \"%s\" not in \"%s\"", i, cases[i].want,
                              err);
        }
}
END_TEST

START_TEST(test_file_bounds) {
        /* More than TOPICS_FILE_MAX topics, and more than TOPICS_CONFIGS_MAX configs. */
        size_t cap = (size_t)(TOPICS_FILE_MAX + 1) * 32 + 64;
        char *text = malloc(cap);
        size_t len = (size_t)snprintf(text, cap, "topics = (");
        for (int i = 0; i <= TOPICS_FILE_MAX; i++)
                len += (size_t)snprintf(text + len, cap - len, "%s{name=\"t%d\";}", i ? "," : "", i);
        snprintf(text + len, cap - len, ");\n");
        topics_set_t *s;
        char err[1024];
        ck_assert_int_eq(read_text(text, 0, &s, err, sizeof(err)), SB_ERR_CONFIG);
        ASSERT_HAS(err, "t.conf:1: setting 'topics': more than 10000 topics");
        len = (size_t)snprintf(text, cap, "topics = ( { name = \"x\"; configs = {");
        for (int i = 0; i <= TOPICS_CONFIGS_MAX; i++)
                len += (size_t)snprintf(text + len, cap - len, " c%d = 1;", i);
        snprintf(text + len, cap - len, " }; } );\n");
        ck_assert_int_eq(read_text(text, 0, &s, err, sizeof(err)), SB_ERR_CONFIG);
        ASSERT_HAS(err, "t.conf:1: setting 'topics': topic x: more than 64 configs");
        free(text);
}
END_TEST

START_TEST(test_integers_beyond_32_bits_are_caught) {
        static const struct {
                const char *text;
                int line; /* 0: accepted */
        } cases[] = {
                {"a = 2592000000;\n", 1},
                {"a = 2592000000L;\n", 0},
                {"a = \"2592000000\";\n", 0},
                {"a = \"x\\\" 99999999999\";\n", 0},
                {"# 99999999999\na = 1;\n", 0},
                {"// 99999999999\n", 0},
                {"/* 99999999999\n */ b = 1;\n", 0},
                {"x = 2147483647;\n", 0},
                {"x = 2147483648;\n", 1},
                {"x = -2147483648;\n", 0},
                {"x = -2147483649;\n", 1},
                {"x = 1.5e10;\n", 0},
                {"x = 10000000000.0;\n", 0},
                {"x = 0x7FFFFFFF;\n", 0},
                {"x = 0x7F\ny = 12345678901;\n", 2},
                {"c99999999999 = 1;\n", 0},
                {"\n/* two\nlines */\ntopics = ( { name = \"t\"; configs = { retention_ms = 12345678901; }; "
                 "} );\n",
                 4},
        };
        for (size_t i = 0; i < sizeof(cases) / sizeof(*cases); i++) {
                char err[512] = "", want[32];
                sb_err_t e = sb_config_check_integers(cases[i].text, "t.conf", err, sizeof(err));
                if (!cases[i].line) {
                        ck_assert_msg(e == SB_OK, "case %zu refused: %s", i, err);
                        continue;
                }
                ck_assert_msg(e == SB_ERR_CONFIG, "case %zu accepted: %s", i, cases[i].text);
                snprintf(want, sizeof(want), "t.conf:%d: ", cases[i].line);
                ck_assert_msg(strstr(err, want) && strstr(err, "does not fit 32 bits"), "case %zu: %s", i,
                              err);
        }
        /* Through a file, as sharebus-topics loads it (sb_config_load checks
         * every configuration file so). */
        sb_config_t *cfg = NULL;
        char err[512];
        const char *path = test_write_temp(
                "topics = (\n { name = \"t\"; configs = { retention_ms = 2592000000; }; }\n);\n", ".conf");
        ck_assert_int_eq(
                sb_config_load(path, sb_topics_settings, sb_topics_settings_count, &cfg, err, sizeof(err)),
                SB_ERR_CONFIG);
        ck_assert_ptr_null(cfg);
        ASSERT_HAS(
                err,
                ":2: 2592000000 does not fit 32 bits, which libconfig would cut silently: write 2592000000L");
        remove(path);
}
END_TEST

/* The file the demo and the tests start from declares the exchange's
 * topics: the datasets', the registry's, dead letters and rejects. */
START_TEST(test_the_shipped_file_declares_the_exchanges_topics) {
        sb_config_t *cfg = NULL;
        topics_set_t *s = NULL;
        TEST_CALL(sb_config_load(test_src_path("broker-config/topics.conf"), sb_topics_settings,
                                 sb_topics_settings_count, &cfg, TEST_ERR));
        TEST_CALL(topics_file_read(cfg, 0, &s, TEST_ERR));
        static const char *const names[] = {"market.business_license", "civil.resident", "tax.taxpayer",
                                            "_sharebus_schemas",       "dlq.demo",       "dlq.demo_pg",
                                            "rejects.market",          "rejects.civil",  "rejects.tax"};
        for (size_t i = 0; i < sizeof(names) / sizeof(*names); i++)
                ck_assert_msg(topics_set_find(s, names[i]) != NULL, "%s not declared", names[i]);
        const topics_topic_t *schemas = topics_set_find(s, "_sharebus_schemas");
        ck_assert_str_eq(topics_config_get(schemas, "cleanup.policy"), "compact");
        ck_assert_int_eq(schemas->partitions, 1);
        for (size_t i = 0; i < topics_set_count(s); i++)
                ck_assert_int_eq(topics_set_at(s, i)->replication_factor,
                                 1); /* the local broker is one node */
        ck_assert_str_eq(sb_config_kafka_get(cfg, "bootstrap.servers"), "127.0.0.1:9092");
        topics_set_destroy(s);
        sb_config_destroy(cfg);
}
END_TEST

static Suite *suite(void) {
        Suite *s = suite_create("topics_plan");
        TCase *tc = tcase_create("core");
        tcase_add_test(tc, test_set_checks_names_and_bounds);
        tcase_add_test(tc, test_in_sync_is_exit_0);
        tcase_add_test(tc, test_a_topic_the_broker_lacks_is_created);
        tcase_add_test(tc, test_more_partitions_are_added);
        tcase_add_test(tc, test_fewer_partitions_are_refused_or_recreated);
        tcase_add_test(tc, test_configs_are_set_changed_and_reset);
        tcase_add_test(tc, test_undeclared_topics_are_kept_or_deleted_internal_never);
        tcase_add_test(tc, test_many_kept_topics_are_counted);
        tcase_add_test(tc, test_another_replication_factor_is_refused);
        tcase_add_test(tc, test_file_declares_topics_with_defaults_and_configs);
        tcase_add_test(tc, test_bad_files_are_named_by_file_and_line);
        tcase_add_test(tc, test_file_bounds);
        tcase_add_test(tc, test_integers_beyond_32_bits_are_caught);
        tcase_add_test(tc, test_the_shipped_file_declares_the_exchanges_topics);
        suite_add_tcase(s, tc);
        return s;
}

int main(void) { return test_run_suite(suite()); }

/*
 * Unit tests of sharebus-topics' principals and ACLs, no broker
 * (broker-config/topics/topics_acl.h, topics_file.h): the bindings each
 * role derives, binding by binding; the set's order, duplicates and
 * bounds; the plan between a derived set and a broker's (adds, deletes of
 * whatever the file does not derive, bindings of unknown kinds kept) and
 * its printed form; the `principals` list read from a file, every mistake
 * named by file and line; and the shipped topics.conf's principals.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sb_config.h"
#include "testutil.h"
#include "topics/topics_acl.h"
#include "topics/topics_file.h"
#include "topics/topics_set.h"

#define ASSERT_HAS(text, needle)                                                                             \
        ck_assert_msg(strstr((text), (needle)) != NULL, "no \"%s\" in:\n%s", (needle), (text))
#define ASSERT_HAS_NOT(text, needle)                                                                         \
        ck_assert_msg(strstr((text), (needle)) == NULL, "\"%s\" in:\n%s", (needle), (text))

static topics_acl_set_t *empty(void) {
        topics_acl_set_t *s = NULL;
        TEST_CALL(topics_acl_set_new(&s, TEST_ERR));
        return s;
}

/* An ALLOW binding from any host. */
static topics_acl_t allow(const char *principal, topics_acl_resource_t r, topics_acl_pattern_t p,
                          const char *name, topics_acl_op_t op) {
        return (topics_acl_t){.resource = r,
                              .name = name,
                              .pattern = p,
                              .principal = principal,
                              .host = "*",
                              .operation = op,
                              .permission = TOPICS_ACL_ALLOW};
}

static void put(topics_acl_set_t *s, topics_acl_t b) { TEST_CALL(topics_acl_set_add(s, &b, TEST_ERR)); }

static int has(const topics_acl_set_t *s, const char *principal, topics_acl_resource_t r,
               topics_acl_pattern_t p, const char *name, topics_acl_op_t op) {
        topics_acl_t b = allow(principal, r, p, name, op);
        return topics_acl_set_has(s, &b);
}

/* Every binding of `s`, one per line as topics_acl_text writes it (caller
 * frees). */
static char *texts(const topics_acl_set_t *s) {
        char *out = NULL, line[1300];
        size_t len = 0;
        FILE *f = open_memstream(&out, &len);
        ck_assert_ptr_nonnull(f);
        for (size_t i = 0; i < topics_acl_set_count(s); i++) {
                topics_acl_text(topics_acl_set_at(s, i), line, sizeof(line));
                fprintf(f, "%s\n", line);
        }
        fclose(f);
        return out;
}

static char *printed(const topics_acl_plan_t *p) {
        char *text = NULL;
        size_t len = 0;
        FILE *f = open_memstream(&text, &len);
        ck_assert_ptr_nonnull(f);
        topics_acl_plan_print(p, f);
        fclose(f);
        return text;
}

#define T TOPICS_ACL_TOPIC
#define G TOPICS_ACL_GROUP
#define C TOPICS_ACL_CLUSTER
#define LIT TOPICS_ACL_LITERAL
#define PRE TOPICS_ACL_PREFIXED

START_TEST(test_a_department_writes_its_own_topics_only) {
        topics_acl_set_t *s = empty();
        TEST_CALL(topics_acl_derive(s, "market", TOPICS_ROLE_DEPARTMENT, NULL, 0, 7, TEST_ERR));
        const char *u = "User:market";
        ck_assert_uint_eq(topics_acl_set_count(s), 7);
        ck_assert(has(s, u, T, PRE, "market.", TOPICS_ACL_WRITE));
        ck_assert(has(s, u, T, PRE, "market.", TOPICS_ACL_DESCRIBE));
        ck_assert(has(s, u, T, LIT, "rejects.market", TOPICS_ACL_WRITE));
        ck_assert(has(s, u, T, LIT, "rejects.market", TOPICS_ACL_READ));
        ck_assert(has(s, u, T, LIT, "rejects.market", TOPICS_ACL_DESCRIBE));
        ck_assert(has(s, u, G, LIT, "sharebus-rejects-list", TOPICS_ACL_READ));
        ck_assert(has(s, u, C, LIT, "kafka-cluster", TOPICS_ACL_IDEMPOTENT_WRITE));
        /* Not a prefix "market" (it would take "marketing.x"), never READ of its datasets. */
        ck_assert(!has(s, u, T, PRE, "market", TOPICS_ACL_WRITE));
        ck_assert(!has(s, u, T, PRE, "market.", TOPICS_ACL_READ));
        for (size_t i = 0; i < topics_acl_set_count(s); i++) {
                const topics_acl_t *b = topics_acl_set_at(s, i);
                ck_assert_str_eq(b->principal, u);
                ck_assert_str_eq(b->host, "*");
                ck_assert_int_eq(b->permission, TOPICS_ACL_ALLOW);
                ck_assert_int_eq(b->line, 7);
                ck_assert(topics_acl_known(b));
        }
        topics_acl_set_destroy(s);
}
END_TEST

START_TEST(test_a_subscriber_reads_what_it_names_and_its_dead_letters) {
        topics_acl_set_t *s = empty();
        const char *reads[] = {"civil.resident", "tax.taxpayer"};
        TEST_CALL(topics_acl_derive(s, "demo_pg", TOPICS_ROLE_SUBSCRIBER, reads, 2, 3, TEST_ERR));
        const char *u = "User:demo_pg";
        ck_assert_uint_eq(topics_acl_set_count(s), 2 * 2 + 3 + 2 + 1);
        for (size_t i = 0; i < 2; i++) {
                ck_assert(has(s, u, T, LIT, reads[i], TOPICS_ACL_READ));
                ck_assert(has(s, u, T, LIT, reads[i], TOPICS_ACL_DESCRIBE));
                ck_assert(!has(s, u, T, LIT, reads[i], TOPICS_ACL_WRITE));
        }
        ck_assert(!has(s, u, T, LIT, "market.business_license", TOPICS_ACL_READ));
        ck_assert(has(s, u, T, LIT, "dlq.demo_pg", TOPICS_ACL_WRITE));
        ck_assert(has(s, u, T, LIT, "dlq.demo_pg", TOPICS_ACL_READ));
        ck_assert(has(s, u, T, LIT, "dlq.demo_pg", TOPICS_ACL_DESCRIBE));
        ck_assert(has(s, u, G, LIT, "sharebus.demo_pg", TOPICS_ACL_READ));
        ck_assert(has(s, u, G, LIT, "sharebus.demo_pg.replay", TOPICS_ACL_READ));
        ck_assert(has(s, u, C, LIT, "kafka-cluster", TOPICS_ACL_IDEMPOTENT_WRITE));
        /* Literal, never a prefix: "dlq.demo" must not reach "dlq.demo_pg". */
        ck_assert(!has(s, u, T, PRE, "dlq.demo_pg", TOPICS_ACL_WRITE));
        topics_acl_set_destroy(s);
}
END_TEST

START_TEST(test_the_registry_and_the_operator) {
        topics_acl_set_t *s = empty();
        TEST_CALL(topics_acl_derive(s, "registry", TOPICS_ROLE_REGISTRY, NULL, 0, 1, TEST_ERR));
        const char *r = "User:registry";
        ck_assert_uint_eq(topics_acl_set_count(s), 6);
        static const topics_acl_op_t ops[] = {TOPICS_ACL_READ, TOPICS_ACL_WRITE, TOPICS_ACL_DESCRIBE,
                                              TOPICS_ACL_CREATE};
        for (size_t i = 0; i < sizeof(ops) / sizeof(*ops); i++)
                ck_assert(has(s, r, T, LIT, "_sharebus_schemas", ops[i]));
        ck_assert(!has(s, r, T, LIT, "_sharebus_schemas", TOPICS_ACL_ALL));
        ck_assert(!has(s, r, T, LIT, "_sharebus_schemas", TOPICS_ACL_DELETE));
        ck_assert(has(s, r, G, PRE, "sharebus-registry-", TOPICS_ACL_READ));
        ck_assert(has(s, r, C, LIT, "kafka-cluster", TOPICS_ACL_IDEMPOTENT_WRITE));

        /* The operator, in the same set: each principal's own. */
        TEST_CALL(topics_acl_derive(s, "operator", TOPICS_ROLE_OPERATOR, NULL, 0, 2, TEST_ERR));
        const char *o = "User:operator";
        ck_assert_uint_eq(topics_acl_set_count(s), 6 + 4);
        ck_assert(has(s, o, T, LIT, "*", TOPICS_ACL_DESCRIBE));
        ck_assert(has(s, o, T, LIT, "*", TOPICS_ACL_READ));
        ck_assert(has(s, o, G, LIT, "*", TOPICS_ACL_DESCRIBE));
        ck_assert(has(s, o, C, LIT, "kafka-cluster", TOPICS_ACL_DESCRIBE));
        ck_assert(!has(s, o, T, LIT, "*", TOPICS_ACL_WRITE));
        ck_assert(!has(s, o, G, LIT, "*", TOPICS_ACL_READ)); /* it joins no group, commits nothing */

        /* Ordered by principal: the operator's first. */
        ck_assert_str_eq(topics_acl_set_at(s, 0)->principal, o);
        ck_assert_str_eq(topics_acl_set_at(s, 9)->principal, r);
        char err[512];
        ck_assert_int_eq(topics_acl_derive(s, "Bad.Name", TOPICS_ROLE_OPERATOR, NULL, 0, 1, err, sizeof(err)),
                         SB_ERR_INVALID);
        ck_assert_int_eq(topics_acl_derive(s, "x", (topics_role_t)99, NULL, 0, 1, err, sizeof(err)),
                         SB_ERR_INVALID);
        ASSERT_HAS(err, "unknown role");
        ck_assert_uint_eq(topics_acl_set_count(s), 10);
        topics_acl_set_destroy(s);
}
END_TEST

START_TEST(test_names_and_roles) {
        char why[256];
        const char *good[] = {"market", "demo_pg", "a", "dept-7",
                              "x0123456789012345678901234567890123456789012345678901234567890ab"};
        for (size_t i = 0; i < sizeof(good) / sizeof(*good); i++)
                ck_assert_msg(topics_acl_principal_check(good[i], why, sizeof(why)) == 0, "%s: %s", good[i],
                              why);
        const char *bad[] = {
                "",    "Market",  "7up",
                "a.b", "a b",     "a:b",
                "_x",  "ünicode", "x01234567890123456789012345678901234567890123456789012345678901234"};
        for (size_t i = 0; i < sizeof(bad) / sizeof(*bad); i++)
                ck_assert_msg(topics_acl_principal_check(bad[i], why, sizeof(why)) == -1, "'%s' accepted",
                              bad[i]);
        topics_acl_principal_check("a.b", why, sizeof(why));
        ASSERT_HAS(why, "holds '.'");
        topics_role_t r;
        ck_assert_int_eq(topics_acl_role_parse("subscriber", &r), 0);
        ck_assert_int_eq(r, TOPICS_ROLE_SUBSCRIBER);
        ck_assert_int_eq(topics_acl_role_parse("operator", &r), 0);
        ck_assert_int_eq(r, TOPICS_ROLE_OPERATOR);
        ck_assert_int_eq(topics_acl_role_parse("Department", &r), -1);
        ck_assert_int_eq(topics_acl_role_parse("admin", &r), -1);
        ck_assert_str_eq(topics_acl_role_name(TOPICS_ROLE_REGISTRY), "registry");
}
END_TEST

START_TEST(test_bindings_in_words) {
        static const struct {
                topics_acl_t b;
                const char *want;
        } cases[] = {
                {{T, "market.", PRE, "User:market", "*", TOPICS_ACL_WRITE, TOPICS_ACL_ALLOW, 0},
                 "User:market: WRITE on topics prefixed \"market.\""},
                {{T, "civil.resident", LIT, "User:demo", "*", TOPICS_ACL_READ, TOPICS_ACL_ALLOW, 0},
                 "User:demo: READ on topic \"civil.resident\""},
                {{T, "*", LIT, "User:operator", "*", TOPICS_ACL_DESCRIBE, TOPICS_ACL_ALLOW, 0},
                 "User:operator: DESCRIBE on every topic (\"*\")"},
                {{G, "sharebus-registry-", PRE, "User:registry", "*", TOPICS_ACL_READ, TOPICS_ACL_ALLOW, 0},
                 "User:registry: READ on groups prefixed \"sharebus-registry-\""},
                {{C, "kafka-cluster", LIT, "User:tax", "*", TOPICS_ACL_IDEMPOTENT_WRITE, TOPICS_ACL_ALLOW, 0},
                 "User:tax: IDEMPOTENT_WRITE on the cluster"},
                {{T, "x", LIT, "User:x", "10.0.0.1", TOPICS_ACL_WRITE, TOPICS_ACL_DENY, 0},
                 "User:x: DENY WRITE on topic \"x\" from host 10.0.0.1"},
                {{TOPICS_ACL_RESOURCE_UNKNOWN, "tx-1", LIT, "User:connect", "*", TOPICS_ACL_OP_UNKNOWN,
                  TOPICS_ACL_ALLOW, 0},
                 "User:connect: UNKNOWN on UNKNOWN LITERAL \"tx-1\""},
        };
        char text[1300];
        for (size_t i = 0; i < sizeof(cases) / sizeof(*cases); i++) {
                topics_acl_text(&cases[i].b, text, sizeof(text));
                ck_assert_msg(strcmp(text, cases[i].want) == 0, "case %zu: \"%s\", expected \"%s\"", i, text,
                              cases[i].want);
        }
        ck_assert(topics_acl_known(&cases[5].b));
        ck_assert(!topics_acl_known(&cases[6].b));
}
END_TEST

START_TEST(test_the_set_orders_drops_twins_and_has_bounds) {
        topics_acl_set_t *s = empty();
        topics_acl_t b = allow("User:b", T, LIT, "t", TOPICS_ACL_READ);
        b.line = 9;
        put(s, b);
        put(s, allow("User:a", T, LIT, "t", TOPICS_ACL_WRITE));
        b.line = 4;
        put(s, b); /* the same binding again, an earlier line */
        ck_assert_uint_eq(topics_acl_set_count(s), 2);
        ck_assert_str_eq(topics_acl_set_at(s, 0)->principal, "User:a");
        ck_assert_int_eq(topics_acl_set_at(s, 1)->line, 4);
        ck_assert_ptr_null(topics_acl_set_at(s, 2));
        /* Another host or permission is another binding. */
        topics_acl_t other = b;
        other.host = "10.0.0.1";
        put(s, other);
        other.host = "*";
        other.permission = TOPICS_ACL_DENY;
        put(s, other);
        ck_assert_uint_eq(topics_acl_set_count(s), 4);
        char err[512];
        topics_acl_t no_name = b;
        no_name.name = NULL;
        ck_assert_int_eq(topics_acl_set_add(s, &no_name, err, sizeof(err)), SB_ERR_INVALID);
        topics_acl_set_destroy(s);

        /* TOPICS_ACL_SET_MAX different bindings fit, one more does not (twins do not count). */
        s = empty();
        char name[32];
        for (int i = 0; i < TOPICS_ACL_SET_MAX; i++) {
                snprintf(name, sizeof(name), "t%d", i);
                put(s, allow("User:a", T, LIT, name, TOPICS_ACL_READ));
        }
        put(s, allow("User:a", T, LIT, "t0", TOPICS_ACL_READ));
        ck_assert_uint_eq(topics_acl_set_count(s), TOPICS_ACL_SET_MAX);
        topics_acl_t more = allow("User:a", T, LIT, "one.more", TOPICS_ACL_READ);
        ck_assert_int_eq(topics_acl_set_add(s, &more, err, sizeof(err)), SB_ERR_INVALID);
        ASSERT_HAS(err, "more than 100000 ACL bindings");
        topics_acl_set_destroy(s);
}
END_TEST

START_TEST(test_the_plan_adds_what_is_missing_and_deletes_what_is_not_derived) {
        topics_acl_set_t *want = empty(), *have = empty();
        TEST_CALL(topics_acl_derive(want, "civil", TOPICS_ROLE_DEPARTMENT, NULL, 0, 12, TEST_ERR));
        /* The broker: five of civil's seven, a binding of a principal the file
         * does not know, a DENY, civil's WRITE from one host only, and one of a
         * kind librdkafka cannot name. */
        for (size_t i = 0; i < 5; i++)
                put(have, *topics_acl_set_at(want, i));
        put(have, allow("User:gone", G, LIT, "sharebus.gone", TOPICS_ACL_READ));
        topics_acl_t deny = allow("User:civil", T, LIT, "tax.taxpayer", TOPICS_ACL_READ);
        deny.permission = TOPICS_ACL_DENY;
        put(have, deny);
        topics_acl_t host = allow("User:civil", T, PRE, "civil.", TOPICS_ACL_WRITE);
        host.host = "10.1.2.3";
        put(have, host);
        topics_acl_t odd = allow("User:connect", TOPICS_ACL_RESOURCE_UNKNOWN, LIT, "tx", TOPICS_ACL_WRITE);
        put(have, odd);

        topics_acl_plan_t *p = NULL;
        TEST_CALL(topics_acl_plan_new(want, have, &p, TEST_ERR));
        ck_assert_uint_eq(topics_acl_plan_in_sync(p), 5);
        ck_assert_uint_eq(topics_acl_plan_adds(p), 2);
        ck_assert_uint_eq(topics_acl_plan_deletes(p), 3);
        ck_assert_uint_eq(topics_acl_plan_kept(p), 1);
        ck_assert_uint_eq(topics_acl_plan_pending(p), 5);
        for (size_t i = 0; i < topics_acl_plan_adds(p); i++) {
                ck_assert(topics_acl_set_has(want, topics_acl_plan_add_at(p, i)));
                ck_assert(!topics_acl_set_has(have, topics_acl_plan_add_at(p, i)));
        }
        for (size_t i = 0; i < topics_acl_plan_deletes(p); i++)
                ck_assert(!topics_acl_set_has(want, topics_acl_plan_delete_at(p, i)));
        ck_assert_str_eq(topics_acl_plan_kept_at(p, 0)->principal, "User:connect");
        ck_assert_ptr_null(topics_acl_plan_add_at(p, 2));
        char *text = printed(p);
        ASSERT_HAS(text,
                   "  - acl User:gone: READ on group \"sharebus.gone\" (on the broker, not derived from "
                   "the file: deleted)\n");
        ASSERT_HAS(text, "  - acl User:civil: DENY READ on topic \"tax.taxpayer\" (on the broker");
        ASSERT_HAS(text,
                   "  - acl User:civil: WRITE on topics prefixed \"civil.\" from host 10.1.2.3 (on the");
        ASSERT_HAS(text, "  ! acl User:connect: WRITE on UNKNOWN LITERAL \"tx\": not derived from the file, "
                         "but of a kind librdkafka cannot name: kept");
        ASSERT_HAS(text, "ACLs: 2 to add, 3 to delete (the file is the whole truth: a binding it does not "
                         "derive is deleted); 5 in sync; 1 that cannot be deleted kept.\n");
        /* The two adds are the ones missing from the first five. */
        for (size_t i = 5; i < 7; i++) {
                char line[1300], want_line[1400];
                topics_acl_text(topics_acl_set_at(want, i), line, sizeof(line));
                snprintf(want_line, sizeof(want_line), "  + acl %s\n", line);
                ASSERT_HAS(text, want_line);
        }
        free(text);
        topics_acl_plan_destroy(p);

        /* After apply: the broker holds exactly the derived set (and the odd one). */
        topics_acl_set_destroy(have);
        have = empty();
        for (size_t i = topics_acl_set_count(want); i-- > 0;)
                put(have, *topics_acl_set_at(want, i)); /* in another order */
        put(have, odd);
        TEST_CALL(topics_acl_plan_new(want, have, &p, TEST_ERR));
        ck_assert_uint_eq(topics_acl_plan_pending(p), 0);
        ck_assert_uint_eq(topics_acl_plan_in_sync(p), 7);
        text = printed(p);
        ASSERT_HAS(text, "ACLs in sync: 7 bindings as derived from the principals; 1 that cannot be deleted "
                         "kept.\n");
        ASSERT_HAS_NOT(text, "  + ");
        free(text);
        topics_acl_plan_destroy(p);

        /* An empty declaration deletes every binding it can name. */
        topics_acl_set_t *none = empty();
        TEST_CALL(topics_acl_plan_new(none, have, &p, TEST_ERR));
        ck_assert_uint_eq(topics_acl_plan_deletes(p), 7);
        ck_assert_uint_eq(topics_acl_plan_adds(p), 0);
        topics_acl_plan_destroy(p);
        topics_acl_set_destroy(none);
        topics_acl_set_destroy(want);
        topics_acl_set_destroy(have);
}
END_TEST

/* ---- the declaration ---- */

/* Reads `text` as file "t.conf": its topics, then its principals. */
static sb_err_t read_text(const char *text, topics_acl_set_t **out, size_t *n, char *err, size_t size) {
        sb_config_t *cfg = NULL;
        topics_set_t *topics = NULL;
        *out = NULL;
        sb_err_t e = sb_config_load_string(text, "t.conf", sb_topics_settings, sb_topics_settings_count, &cfg,
                                           err, size);
        if (!e)
                e = topics_file_read(cfg, 0, &topics, err, size);
        if (!e)
                e = topics_file_read_principals(cfg, topics, out, n, err, size);
        topics_set_destroy(topics);
        sb_config_destroy(cfg);
        return e;
}

static const char topics_part[] =
        "topics = ( { name = \"civil.resident\"; }, { name = \"tax.taxpayer\"; } );\n";

START_TEST(test_the_file_declares_principals) {
        char text[2048], err[1024];
        snprintf(text, sizeof(text),
                 "%s"
                 "principals = (\n"
                 "  { name = \"civil\"; role = \"department\"; },\n"
                 "  { name = \"demo\"; role = \"subscriber\";\n"
                 "    reads = [ \"civil.resident\", \"tax.taxpayer\" ]; },\n"
                 "  { name = \"ops\"; role = \"operator\"; },\n"
                 "  { name = \"reg\"; role = \"registry\"; },\n"
                 "  { name = \"two\"; role = \"subscriber\"; reads = ( \"tax.taxpayer\" ); }\n"
                 ");\n",
                 topics_part);
        topics_acl_set_t *s = NULL;
        size_t n = 0;
        ck_assert_msg(read_text(text, &s, &n, err, sizeof(err)) == SB_OK, "%s", err);
        ck_assert_uint_eq(n, 5);
        ck_assert_uint_eq(topics_acl_set_count(s), 7 + 10 + 4 + 6 + 8);
        ck_assert(has(s, "User:demo", T, LIT, "tax.taxpayer", TOPICS_ACL_READ));
        ck_assert(has(s, "User:two", T, LIT, "tax.taxpayer", TOPICS_ACL_READ));
        ck_assert(!has(s, "User:two", T, LIT, "civil.resident", TOPICS_ACL_READ));
        ck_assert(has(s, "User:reg", G, PRE, "sharebus-registry-", TOPICS_ACL_READ));
        /* Each binding carries its principal's line. */
        for (size_t i = 0; i < topics_acl_set_count(s); i++) {
                const topics_acl_t *b = topics_acl_set_at(s, i);
                int want = strcmp(b->principal, "User:civil") == 0  ? 3
                           : strcmp(b->principal, "User:demo") == 0 ? 4
                           : strcmp(b->principal, "User:ops") == 0  ? 6
                           : strcmp(b->principal, "User:reg") == 0  ? 7
                                                                    : 8;
                ck_assert_msg(b->line == want, "%s at line %d, expected %d", b->principal, b->line, want);
        }
        char *all = texts(s);
        ASSERT_HAS(all, "User:civil: WRITE on topics prefixed \"civil.\"\n");
        free(all);
        topics_acl_set_destroy(s);

        /* No principals: ACLs are not looked at; an empty list: none. */
        ck_assert_msg(read_text(topics_part, &s, &n, err, sizeof(err)) == SB_OK, "%s", err);
        ck_assert_ptr_null(s);
        ck_assert_uint_eq(n, 0);
        snprintf(text, sizeof(text), "%sprincipals = ();\n", topics_part);
        ck_assert_msg(read_text(text, &s, &n, err, sizeof(err)) == SB_OK, "%s", err);
        ck_assert_ptr_nonnull(s);
        ck_assert_uint_eq(topics_acl_set_count(s), 0);
        topics_acl_set_destroy(s);
}
END_TEST

START_TEST(test_bad_principals_are_named_by_file_and_line) {
        static const struct {
                const char *principals; /* after topics_part (line 1) */
                const char *want;       /* in the error */
        } cases[] = {
                {"principals = 3;\n", "t.conf:2: setting 'principals': expected a group"},
                {"principals = { name = \"x\"; };\n", "t.conf:2: setting 'principals': a list of principals"},
                {"principals = (\n  { name = \"tax\"; role = \"auditor\"; }\n);\n",
                 "t.conf:3: setting 'principals': principal tax: unknown role 'auditor' (department, "
                 "subscriber, registry, operator)"},
                {"principals = (\n  { name = \"tax\"; }\n);\n",
                 "t.conf:3: setting 'principals': principal tax needs role = \"department\""},
                {"principals = (\n\n  { role = \"operator\"; }\n);\n",
                 "t.conf:4: setting 'principals': each principal needs name"},
                {"principals = (\n  { name = \"tax\"; role = \"department\"; group = \"x\"; }\n);\n",
                 "t.conf:3: setting 'principals': unknown 'group' (name, role, reads)"},
                {"principals = (\n  { name = \"Tax.Office\"; role = \"department\"; }\n);\n",
                 "t.conf:3: setting 'principals': principal 'Tax.Office': a name starts with a lower-case"},
                {"principals = (\n  { name = \"tax.office\"; role = \"department\"; }\n);\n",
                 "principal 'tax.office' holds '.'"},
                {"principals = (\n  { name = \"demo\"; role = \"subscriber\";\n    reads = [ "
                 "\"civil.resident\", \"health.patient\" ]; }\n);\n",
                 "t.conf:3: setting 'principals': principal demo: reads 'health.patient', "
                 "a topic the file does not declare"},
                {"principals = (\n  { name = \"demo\"; role = \"subscriber\"; }\n);\n",
                 "t.conf:3: setting 'principals': principal demo: a subscriber needs reads = ["},
                {"principals = ( { name = \"demo\"; role = \"subscriber\"; reads = []; } );\n",
                 "a subscriber needs reads"},
                {"principals = ( { name = \"demo\"; role = \"subscriber\"; reads = \"civil.resident\"; } "
                 ");\n",
                 "a subscriber needs reads"},
                {"principals = ( { name = \"demo\"; role = \"subscriber\"; reads = [ 1 ]; } );\n",
                 "each of reads is a topic's name in quotes"},
                {"principals = ( { name = \"d\"; role = \"subscriber\";\n reads = [ \"tax.taxpayer\", "
                 "\"tax.taxpayer\" ]; } );\n",
                 "t.conf:2: setting 'principals': principal d: reads 'tax.taxpayer' twice"},
                {"principals = (\n  { name = \"tax\"; role = \"department\"; reads = [ \"civil.resident\" "
                 "]; }\n);\n",
                 "t.conf:3: setting 'principals': principal tax: reads is for a subscriber, not a "
                 "department"},
                {"principals = (\n  { name = \"tax\"; role = \"department\"; },\n  { name = \"civil\"; role "
                 "= \"department\"; },\n  { name = \"tax\"; role = \"operator\"; }\n);\n",
                 "t.conf:5: setting 'principals': principal tax is declared twice (first at line 3)"},
                {"principals = ( \"tax\" );\n", "each principal is a group"},
        };
        for (size_t i = 0; i < sizeof(cases) / sizeof(*cases); i++) {
                char text[2048], err[1024] = "";
                snprintf(text, sizeof(text), "%s%s", topics_part, cases[i].principals);
                topics_acl_set_t *s = NULL;
                size_t n = 99;
                sb_err_t e = read_text(text, &s, &n, err, sizeof(err));
                ck_assert_msg(e == SB_ERR_CONFIG, "case %zu accepted: %s", i, cases[i].principals);
                ck_assert_ptr_null(s);
                ck_assert_msg(strstr(err, cases[i].want), "case %zu: \"%s\" not in \"%s\"", i, cases[i].want,
                              err);
        }
}
END_TEST

START_TEST(test_principal_bounds) {
        /* TOPICS_PRINCIPALS_MAX + 1 operators, and one subscriber with
         * TOPICS_READS_MAX + 1 reads. */
        size_t cap = (size_t)(TOPICS_READS_MAX + 2) * 48 + 4096;
        char *text = malloc(cap), err[1024];
        size_t len = (size_t)snprintf(text, cap, "%sprincipals = (", topics_part);
        for (int i = 0; i <= TOPICS_PRINCIPALS_MAX; i++)
                len += (size_t)snprintf(text + len, cap - len, "%s{name=\"p%d\";role=\"operator\";}",
                                        i ? "," : "", i);
        snprintf(text + len, cap - len, ");\n");
        topics_acl_set_t *s = NULL;
        size_t n;
        ck_assert_int_eq(read_text(text, &s, &n, err, sizeof(err)), SB_ERR_CONFIG);
        ASSERT_HAS(err, "t.conf:2: setting 'principals': more than 1000 principals");
        /* Exactly the bound is fine. */
        len = (size_t)snprintf(text, cap, "%sprincipals = (", topics_part);
        for (int i = 0; i < TOPICS_PRINCIPALS_MAX; i++)
                len += (size_t)snprintf(text + len, cap - len, "%s{name=\"p%d\";role=\"operator\";}",
                                        i ? "," : "", i);
        snprintf(text + len, cap - len, ");\n");
        ck_assert_msg(read_text(text, &s, &n, err, sizeof(err)) == SB_OK, "%s", err);
        ck_assert_uint_eq(n, TOPICS_PRINCIPALS_MAX);
        ck_assert_uint_eq(topics_acl_set_count(s), 4 * TOPICS_PRINCIPALS_MAX);
        topics_acl_set_destroy(s);
        len = (size_t)snprintf(text, cap, "%sprincipals = ( { name = \"d\"; role = \"subscriber\"; reads = [",
                               topics_part);
        for (int i = 0; i <= TOPICS_READS_MAX; i++)
                len += (size_t)snprintf(text + len, cap - len, "%s\"tax.taxpayer\"", i ? "," : "");
        snprintf(text + len, cap - len, "]; } );\n");
        ck_assert_int_eq(read_text(text, &s, &n, err, sizeof(err)), SB_ERR_CONFIG);
        ASSERT_HAS(err, "principal d: reads more than 1000 topics");
        free(text);
}
END_TEST

/* The file the demo and the secured tests start from: every program's
 * principal, the subscribers reading the three datasets. */
START_TEST(test_the_shipped_file_declares_the_exchanges_principals) {
        sb_config_t *cfg = NULL;
        topics_set_t *topics = NULL;
        topics_acl_set_t *s = NULL;
        size_t n = 0;
        TEST_CALL(sb_config_load(test_src_path("broker-config/topics.conf"), sb_topics_settings,
                                 sb_topics_settings_count, &cfg, TEST_ERR));
        TEST_CALL(topics_file_read(cfg, 0, &topics, TEST_ERR));
        TEST_CALL(topics_file_read_principals(cfg, topics, &s, &n, TEST_ERR));
        ck_assert_ptr_nonnull(s);
        ck_assert_uint_eq(n, 7);
        static const char *const departments[] = {"market", "civil", "tax"};
        char principal[64], prefix[64], rejects[64];
        for (size_t i = 0; i < 3; i++) {
                snprintf(principal, sizeof(principal), "User:%s", departments[i]);
                snprintf(prefix, sizeof(prefix), "%s.", departments[i]);
                snprintf(rejects, sizeof(rejects), "rejects.%s", departments[i]);
                ck_assert(has(s, principal, T, PRE, prefix, TOPICS_ACL_WRITE));
                ck_assert_msg(topics_set_find(topics, rejects), "%s not declared", rejects);
        }
        static const char *const datasets[] = {"market.business_license", "civil.resident", "tax.taxpayer"};
        for (size_t i = 0; i < 3; i++) {
                ck_assert(has(s, "User:demo", T, LIT, datasets[i], TOPICS_ACL_READ));
                ck_assert(has(s, "User:demo_pg", T, LIT, datasets[i], TOPICS_ACL_READ));
        }
        ck_assert(topics_set_find(topics, "dlq.demo") && topics_set_find(topics, "dlq.demo_pg"));
        ck_assert(has(s, "User:registry", T, LIT, "_sharebus_schemas", TOPICS_ACL_WRITE));
        ck_assert(has(s, "User:operator", G, LIT, "*", TOPICS_ACL_DESCRIBE));
        ck_assert_uint_eq(topics_acl_set_count(s), 3 * 7 + 2 * 12 + 6 + 4);
        topics_acl_set_destroy(s);
        topics_set_destroy(topics);
        sb_config_destroy(cfg);
}
END_TEST

static Suite *suite(void) {
        Suite *s = suite_create("topics_acl");
        TCase *tc = tcase_create("core");
        tcase_set_timeout(tc, 60);
        tcase_add_test(tc, test_a_department_writes_its_own_topics_only);
        tcase_add_test(tc, test_a_subscriber_reads_what_it_names_and_its_dead_letters);
        tcase_add_test(tc, test_the_registry_and_the_operator);
        tcase_add_test(tc, test_names_and_roles);
        tcase_add_test(tc, test_bindings_in_words);
        tcase_add_test(tc, test_the_set_orders_drops_twins_and_has_bounds);
        tcase_add_test(tc, test_the_plan_adds_what_is_missing_and_deletes_what_is_not_derived);
        tcase_add_test(tc, test_the_file_declares_principals);
        tcase_add_test(tc, test_bad_principals_are_named_by_file_and_line);
        tcase_add_test(tc, test_principal_bounds);
        tcase_add_test(tc, test_the_shipped_file_declares_the_exchanges_principals);
        suite_add_tcase(s, tc);
        return s;
}

int main(void) { return test_run_suite(suite()); }

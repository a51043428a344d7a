/*
 * Unit tests of the subscriber's transforms (consumers/transforms): each
 * step kind bound to a schema and applied to events, the personal_policy
 * for fields nobody decided about, the columns the target is given (with
 * their policy and source field), and the configuration errors, each naming
 * the field and the config line.
 */
#include <stdio.h>
#include <string.h>

#include "subscriber_settings.h"
#include "testutil.h"
#include "transforms/tf_chain.h"

static const char *const key_q =
        "{'type':'record','name':'Key','namespace':'civil','fields':["
        "{'name':'id_number','type':'string','sharebus.classification':'personal'}]}";
static const char *const row_q =
        "{'type':'record','name':'Value','namespace':'civil','fields':["
        "{'name':'id_number','type':'string','sharebus.classification':'personal'},"
        "{'name':'name','type':'string','sharebus.classification':'personal'},"
        "{'name':'phone','type':['null','string'],'default':null,'sharebus.classification':'personal'},"
        "{'name':'district_code','type':'string','sharebus.classification':'internal'},"
        "{'name':'married','type':['null','boolean'],'default':null,'sharebus.classification':'sensitive'},"
        "{'name':'capital','type':'double','sharebus.classification':'public'},"
        "{'name':'status','type':{'type':'enum','name':'Status','symbols':['ACTIVE','GONE']}}]}";
static const char *const row_json_q =
        "{'id_number':'110101199003071234','name':'\xe5\xbc\xa0\xe4\xb8\x89\xe4\xb8\xb0',"
        "'phone':'13912345678','district_code':'370102','married':true,"
        "'capital':1500.5,'status':'ACTIVE'}";
/* HMAC-SHA256 under KEY, computed with Python's hmac module. */
#define KEY "sharebus-test-key-0123456789"
#define ID_HASH "0281227173a68e53979c5da40e2849d7c8b65ffd56c03f393a3ad1bf966fd030"
#define PHONE_HASH "c39dc42043e29ba0fc136e7db7819c03ff3b0c4ebcd81ba73dacf6b550e4eaef"

typedef struct {
        sb_config_t *cfg;
        tf_config_t *tc;
        sb_schema_t *key, *row;
        tf_chain_t *chain;
        json_t *after, *before, *keyv;
} fix_t;

/* The config text after the required settings (line 4 on), with `%s` as
 * the hash key file's path. */
static const char *conf_text(const char *body) {
        static char text[8192];
        static char keyfile[4096];
        snprintf(keyfile, sizeof(keyfile), "%s", test_write_temp(KEY "\n", ".key"));
        char with_key[6144];
        snprintf(with_key, sizeof(with_key), body, keyfile);
        snprintf(text, sizeof(text),
                 "name = \"t\";\ntopics = \"civil.resident, other\";\nregistry_url = \"http://x\";\n%s",
                 with_key);
        return text;
}

/* Loads the config; the transforms' error (or SB_OK) is returned with errstr. */
static sb_err_t load(fix_t *f, const char *body, char *err, size_t err_size) {
        memset(f, 0, sizeof(*f));
        TEST_CALL(sb_config_load_string(conf_text(body), "t.conf", sb_subscriber_settings,
                                        sb_subscriber_settings_count, &f->cfg, TEST_ERR));
        return tf_config_new(f->cfg, &f->tc, err, err_size);
}

static sb_err_t bind(fix_t *f, const char *topic, char *err, size_t err_size) {
        f->key = test_schema_q(key_q);
        f->row = test_schema_q(row_q);
        return tf_chain_bind(f->tc, topic, sb_schema_root(f->key), sb_schema_root(f->row), &f->chain, err,
                             err_size);
}

static void setup_ok(fix_t *f, const char *body) {
        char err[1024] = "";
        ck_assert_msg(load(f, body, err, sizeof(err)) == SB_OK, "%s", err);
        ck_assert_msg(bind(f, "civil.resident", err, sizeof(err)) == SB_OK, "%s", err);
        f->after = test_json_q(row_json_q);
        f->keyv = test_json_q("{'id_number':'110101199003071234'}");
}

static tf_verdict_t run(fix_t *f, char op) {
        tf_event_t ev = {op, op == 'd' ? NULL : f->after, f->before, f->keyv};
        return tf_chain_apply(f->chain, &ev);
}

static void fix_free(fix_t *f) {
        tf_chain_destroy(f->chain);
        tf_config_destroy(f->tc);
        sb_config_destroy(f->cfg);
        sb_schema_destroy(f->key);
        sb_schema_destroy(f->row);
        json_decref(f->after);
        json_decref(f->before);
        json_decref(f->keyv);
}

static const char *str(const json_t *obj, const char *name) {
        return json_string_value(json_object_get(obj, name));
}

/* The field of the target's row record named `name`, or NULL. */
static const json_t *column(const fix_t *f, const char *name) {
        const sb_node_t *row = tf_chain_row(f->chain);
        int i = sb_node_field_index(row, name);
        return i < 0 ? NULL : sb_node_field_json(row, (size_t)i);
}

START_TEST(test_filter_prefix_moves_rows_out) {
        fix_t f;
        setup_ok(&f, "personal_policy = \"clear\";\ndatasets = ( { topic = \"civil.resident\";\n"
                     "steps = ( { filter = \"district_code\"; prefix = \"3701\"; } ); } );\n");
        ck_assert_int_eq(run(&f, 'c'), TF_KEEP);
        json_object_set_new(f.after, "district_code", json_string("370202"));
        ck_assert_int_eq(run(&f, 'u'), TF_OUT);
        json_object_set_new(f.after, "district_code", json_null());
        ck_assert_int_eq(run(&f, 'u'), TF_OUT); /* null is outside every filter */
        fix_free(&f);
}
END_TEST

START_TEST(test_filter_equals_in_and_range) {
        static const struct {
                const char *step;
                int keep; /* for capital 1500.5, status ACTIVE */
        } cases[] = {
                {"{ filter = \"status\"; equals = \"ACTIVE\"; }", 1},
                {"{ filter = \"status\"; equals = \"GONE\"; }", 0},
                {"{ filter = \"status\"; in = [\"GONE\", \"ACTIVE\"]; }", 1},
                {"{ filter = \"status\"; in = [\"GONE\"]; }", 0},
                {"{ filter = \"capital\"; min = 1000; max = 5000; }", 1},
                {"{ filter = \"capital\"; min = 1500.5; }", 1},
                {"{ filter = \"capital\"; max = 1500; }", 0},
                {"{ filter = \"capital\"; min = 2000.0; }", 0},
        };
        for (size_t i = 0; i < sizeof(cases) / sizeof(*cases); i++) {
                char body[1024];
                snprintf(body, sizeof(body),
                         "personal_policy = \"clear\";\ndatasets = ( { topic = \"civil.resident\"; steps = ( "
                         "%s ); } );\n",
                         cases[i].step);
                fix_t f;
                setup_ok(&f, body);
                ck_assert_msg(run(&f, 'c') == (cases[i].keep ? TF_KEEP : TF_OUT), "%s", cases[i].step);
                fix_free(&f);
        }
}
END_TEST

START_TEST(test_row_out_of_filter_still_gets_its_key_shaped) {
        fix_t f;
        setup_ok(&f,
                 "personal_policy = \"clear\";\nhash_key_file = \"%s\";\n"
                 "datasets = ( { topic = \"civil.resident\";\n"
                 "steps = ( { filter = \"district_code\"; prefix = \"44\"; }, { hash = \"id_number\"; },\n"
                 "{ rename = \"id_number\"; to = \"pid\"; } ); } );\n");
        ck_assert_int_eq(run(&f, 'u'), TF_OUT);
        /* The row to remove is found by its key as the table holds it. */
        ck_assert_str_eq(str(f.keyv, "pid"), ID_HASH);
        fix_free(&f);
        setup_ok(&f,
                 "personal_policy = \"clear\";\ndatasets = ( { topic = \"civil.resident\";\n"
                 "steps = ( { filter = \"district_code\"; prefix = \"44\"; }, { ops = [\"c\"]; } ); } );\n");
        ck_assert_int_eq(run(&f, 'u'), TF_SKIP); /* an op not taken is not even removed */
        ck_assert_int_eq(run(&f, 'c'), TF_OUT);
        fix_free(&f);
}
END_TEST

START_TEST(test_ops_filter_skips_ops_not_taken) {
        fix_t f;
        setup_ok(&f, "personal_policy = \"clear\";\ndatasets = ( { topic = \"civil.resident\";\n"
                     "steps = ( { ops = [\"c\", \"r\"]; } ); } );\n");
        ck_assert_int_eq(run(&f, 'c'), TF_KEEP);
        ck_assert_int_eq(run(&f, 'r'), TF_KEEP);
        ck_assert_int_eq(run(&f, 'u'), TF_SKIP);
        ck_assert_int_eq(run(&f, 'd'), TF_SKIP);
        fix_free(&f);
}
END_TEST

START_TEST(test_rename_drop_constant_shape_the_columns) {
        fix_t f;
        setup_ok(&f, "personal_policy = \"clear\";\ndatasets = ( { topic = \"civil.resident\"; table = "
                     "\"resident\";\n"
                     "steps = ( { rename = \"id_number\"; to = \"citizen_id\"; }, { drop = \"married\"; },\n"
                     "{ constant = \"source_department\"; value = \"civil\"; },\n"
                     "{ rename = \"citizen_id\"; to = \"person\"; } ); } );\n");
        ck_assert_str_eq(tf_config_table(f.tc, "civil.resident"), "resident");
        ck_assert_ptr_null(tf_config_table(f.tc, "other"));
        ck_assert_int_eq(run(&f, 'u'), TF_KEEP);
        ck_assert_str_eq(str(f.after, "person"), "110101199003071234");
        ck_assert_ptr_null(json_object_get(f.after, "id_number"));
        ck_assert_ptr_null(json_object_get(f.after, "married"));
        ck_assert_str_eq(str(f.after, "source_department"), "civil");
        ck_assert_str_eq(str(f.keyv, "person"), "110101199003071234"); /* deletes find the row */
        /* The target's records: the key follows the rename. */
        ck_assert_int_eq(sb_node_field_index(tf_chain_key(f.chain), "person"), 0);
        ck_assert_ptr_null(column(&f, "married"));
        ck_assert_str_eq(str(column(&f, "person"), "sharebus.source"), "id_number");
        ck_assert_str_eq(str(column(&f, "source_department"), "sharebus.policy"), "constant");
        ck_assert_ptr_null(json_object_get(column(&f, "source_department"), "sharebus.source"));
        fix_free(&f);
}
END_TEST

START_TEST(test_mask_keeps_first_and_last_characters) {
        fix_t f;
        setup_ok(&f, "personal_policy = \"clear\";\ndatasets = ( { topic = \"civil.resident\";\n"
                     "steps = ( { mask = \"phone\"; keep_first = 3; keep_last = 4; },\n"
                     "{ mask = \"name\"; keep_first = 1; } ); } );\n");
        f.before = test_json_q("{'phone':'13800000000','name':'x'}");
        ck_assert_int_eq(run(&f, 'u'), TF_KEEP);
        ck_assert_str_eq(str(f.after, "phone"), "139****5678");
        ck_assert_str_eq(str(f.before, "phone"), "138****0000"); /* the before image too */
        /* Characters, not bytes: three CJK characters keep the first. */
        ck_assert_str_eq(str(f.after, "name"), "\xe5\xbc\xa0**");
        ck_assert_str_eq(str(column(&f, "phone"), "sharebus.policy"), "masked");
        json_object_set_new(f.after, "phone", json_null());
        ck_assert_int_eq(run(&f, 'u'), TF_KEEP);
        ck_assert(json_is_null(json_object_get(f.after, "phone"))); /* null stays null */
        fix_free(&f);
}
END_TEST

START_TEST(test_hash_is_hmac_sha256_of_the_key_file) {
        fix_t f;
        setup_ok(&f, "personal_policy = \"clear\";\nhash_key_file = \"%s\";\n"
                     "datasets = ( { topic = \"civil.resident\";\n"
                     "steps = ( { hash = \"id_number\"; }, { hash = \"phone\"; } ); } );\n");
        ck_assert_int_eq(run(&f, 'c'), TF_KEEP);
        ck_assert_str_eq(str(f.after, "id_number"), ID_HASH);
        ck_assert_str_eq(str(f.keyv, "id_number"),
                         ID_HASH); /* the key hashes the same: joins and deletes work */
        ck_assert_str_eq(str(f.after, "phone"), PHONE_HASH);
        ck_assert_str_eq(str(column(&f, "id_number"), "sharebus.policy"), "hashed");
        fix_free(&f);
}
END_TEST

START_TEST(test_default_policy_masks_what_nobody_decided) {
        fix_t f;
        setup_ok(&f, "hash_key_file = \"%s\";\ndatasets = ( { topic = \"civil.resident\"; clear = "
                     "[\"name\"]; } );\n");
        ck_assert_int_eq(run(&f, 'c'), TF_KEEP);
        ck_assert_str_eq(str(f.after, "id_number"), ID_HASH); /* a personal key: hashed */
        ck_assert_str_eq(str(f.after, "name"), "\xe5\xbc\xa0\xe4\xb8\x89\xe4\xb8\xb0"); /* kept in clear */
        ck_assert_str_eq(str(f.after, "phone"), "***********");                         /* masked whole */
        ck_assert(json_is_null(json_object_get(f.after, "married"))); /* sensitive, not a string */
        ck_assert_str_eq(str(f.after, "district_code"), "370102");    /* internal: untouched */
        ck_assert_str_eq(str(column(&f, "name"), "sharebus.policy"), "clear");
        ck_assert_str_eq(str(column(&f, "phone"), "sharebus.policy"), "masked");
        ck_assert_str_eq(str(column(&f, "married"), "sharebus.policy"), "redacted");
        ck_assert_str_eq(str(column(&f, "id_number"), "sharebus.policy"), "hashed");
        fix_free(&f);
}
END_TEST

START_TEST(test_hash_policy_and_clear_policy) {
        fix_t f;
        setup_ok(&f, "personal_policy = \"hash\";\nhash_key_file = \"%s\";\n");
        ck_assert_int_eq(run(&f, 'c'), TF_KEEP); /* a topic the config does not name gets the policy */
        ck_assert_str_eq(str(f.after, "phone"), PHONE_HASH);
        ck_assert_int_eq((int)strlen(str(f.after, "name")), 64);
        fix_free(&f);
        setup_ok(&f, "personal_policy = \"clear\";\n");
        ck_assert(tf_chain_is_identity(f.chain));
        ck_assert_str_eq(str(column(&f, "phone"), "sharebus.policy"), "clear");
        fix_free(&f);
}
END_TEST

/* Errors at bind: the schema does not allow the step. */
START_TEST(test_bind_errors_name_field_and_line) {
        static const struct {
                const char *body, *want1, *want2;
        } cases[] = {
                {"personal_policy = \"clear\";\ndatasets = ( { topic = \"civil.resident\";\n"
                 "steps = ( { mask = \"fone\"; } ); } );\n",
                 "t.conf:6", "fone"},
                {"personal_policy = \"clear\";\ndatasets = ( { topic = \"civil.resident\";\n"
                 "steps = (\n{ mask = \"capital\"; } ); } );\n",
                 "t.conf:7", "capital"},
                {"personal_policy = \"clear\";\ndatasets = ( { topic = \"civil.resident\";\n"
                 "steps = ( { drop = \"id_number\"; } ); } );\n",
                 "t.conf:6", "key"},
                {"personal_policy = \"clear\";\ndatasets = ( { topic = \"civil.resident\";\n"
                 "steps = ( { drop = \"phone\"; }, { mask = \"phone\"; } ); } );\n",
                 "t.conf:6", "phone"},
                {"personal_policy = \"clear\";\ndatasets = ( { topic = \"civil.resident\";\n"
                 "steps = ( { rename = \"name\"; to = \"phone\"; } ); } );\n",
                 "t.conf:6", "exists"},
                {"personal_policy = \"clear\";\ndatasets = ( { topic = \"civil.resident\"; clear = "
                 "[\"nope\"]; } );\n",
                 "t.conf:5", "nope"},
                {"personal_policy = \"clear\";\ndatasets = ( { topic = \"civil.resident\";\n"
                 "steps = ( { hash = \"phone\"; } ); } );\n",
                 "hash_key_file", "phone"},
                /* mask policy, personal key, no key file */
                {"datasets = ( { topic = \"civil.resident\"; } );\n", "hash_key_file", "id_number"},
        };
        for (size_t i = 0; i < sizeof(cases) / sizeof(*cases); i++) {
                fix_t f;
                char err[1024] = "";
                sb_err_t e = load(&f, cases[i].body, err, sizeof(err));
                if (!e)
                        e = bind(&f, "civil.resident", err, sizeof(err));
                ck_assert_msg(e == SB_ERR_INVALID || e == SB_ERR_CONFIG, "case %zu: %d %s", i, e, err);
                ck_assert_msg(strstr(err, cases[i].want1) && strstr(err, cases[i].want2), "case %zu: %s", i,
                              err);
                ck_assert_ptr_null(f.chain);
                fix_free(&f);
        }
}
END_TEST

/* Errors at parse: the config's own shape. */
START_TEST(test_config_errors_name_the_line) {
        static const struct {
                const char *body, *want;
        } cases[] = {
                {"datasets = ( { topic = \"civil.resident\";\nsteps = ( { explode = \"x\"; } ); } );\n",
                 "t.conf:5"},
                {"datasets = ( { topic = \"tax.payer\"; } );\n", "not in 'topics'"},
                {"datasets = ( { topic = \"other\"; },\n{ topic = \"other\"; } );\n", "twice"},
                {"datasets = ( { topic = \"other\"; colour = 1; } );\n", "colour"},
                {"datasets = ( { table = \"x\"; } );\n", "topic"},
                {"datasets = ( { topic = \"other\";\nsteps = ( { mask = \"a\"; keep_first = -1; } ); } );\n",
                 "keep_first"},
                {"datasets = ( { topic = \"other\";\nsteps = ( { filter = \"a\"; } ); } );\n", "t.conf:5"},
                {"datasets = ( { topic = \"other\";\nsteps = ( { ops = [\"x\"]; } ); } );\n", "t.conf:5"},
                {"datasets = ( { topic = \"other\";\nsteps = ( { rename = \"a\"; to = \"sharebus_x\"; } ); } "
                 ");\n",
                 "sharebus_"},
                {"datasets = ( { topic = \"other\";\nsteps = ( { constant = \"c\"; } ); } );\n", "t.conf:5"},
                {"datasets = { topic = \"other\"; };\n", "list"},
                {"hash_key_file = \"/nonexistent/key\";\n", "/nonexistent/key"},
        };
        for (size_t i = 0; i < sizeof(cases) / sizeof(*cases); i++) {
                fix_t f;
                char err[1024] = "";
                ck_assert_int_eq(load(&f, cases[i].body, err, sizeof(err)), SB_ERR_CONFIG);
                ck_assert_msg(strstr(err, cases[i].want), "case %zu: %s", i, err);
                ck_assert_ptr_null(f.tc);
                fix_free(&f);
        }
}
END_TEST

START_TEST(test_short_hash_key_is_refused) {
        fix_t f;
        char err[1024] = "", body[4200];
        snprintf(body, sizeof(body), "hash_key_file = \"%s\";\n", test_write_temp("short\n", ".key"));
        memset(&f, 0, sizeof(f));
        TEST_CALL(sb_config_load_string(conf_text(body), "t.conf", sb_subscriber_settings,
                                        sb_subscriber_settings_count, &f.cfg, TEST_ERR));
        ck_assert_int_eq(tf_config_new(f.cfg, &f.tc, err, sizeof(err)), SB_ERR_CONFIG);
        ck_assert_msg(strstr(err, "16 to 4096 bytes") && strstr(err, "t.conf:4"), "%s", err);
        fix_free(&f);
}
END_TEST

int main(void) {
        Suite *s = suite_create("transforms");
        TCase *tc = tcase_create("steps");
        tcase_add_test(tc, test_filter_prefix_moves_rows_out);
        tcase_add_test(tc, test_filter_equals_in_and_range);
        tcase_add_test(tc, test_ops_filter_skips_ops_not_taken);
        tcase_add_test(tc, test_row_out_of_filter_still_gets_its_key_shaped);
        tcase_add_test(tc, test_rename_drop_constant_shape_the_columns);
        tcase_add_test(tc, test_mask_keeps_first_and_last_characters);
        tcase_add_test(tc, test_hash_is_hmac_sha256_of_the_key_file);
        tcase_add_test(tc, test_default_policy_masks_what_nobody_decided);
        tcase_add_test(tc, test_hash_policy_and_clear_policy);
        tcase_add_test(tc, test_bind_errors_name_field_and_line);
        tcase_add_test(tc, test_config_errors_name_the_line);
        tcase_add_test(tc, test_short_hash_key_is_refused);
        suite_add_tcase(s, tc);
        return test_run_suite(s);
}

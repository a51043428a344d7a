/*
 * Unit tests of sb_schema: parsing and refusing schemas, canonical text, the
 * read-only tree, and the real dataset schemas.
 *
 * JSON in the tables is written with single quotes for readability; test_q2j()
 * turns them into double quotes before parsing.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <glob.h>
#include <unistd.h>

#include "sb_avro.h"
#include "sb_buf.h"
#include "testutil.h"

/* ---- invalid schemas ---- */

static const char *const bad_schemas[] = {
        "",
        "not json",
        "{'type':",
        "{}",
        "42",
        "null",
        "'nosuch'",
        "{'type':'nosuch'}",
        "{'type':'record','name':'R'}",
        "{'type':'record','name':'R','fields':{}}",
        "{'type':'record','fields':[]}",
        "{'type':'record','name':'R','fields':[{'type':'int'}]}",
        "{'type':'record','name':'R','fields':[{'name':'a'}]}",
        "{'type':'record','name':'R','fields':[{'name':'a','type':'Undefined'}]}",
        "{'type':'enum','name':'E'}",
        "{'type':'enum','symbols':['A']}",
        "{'type':'fixed','name':'F'}",
        "{'type':'array'}",
        "{'type':'map'}",
};
#define N_BAD_SCHEMAS (sizeof(bad_schemas) / sizeof(*bad_schemas))

START_TEST(test_invalid_schema_is_refused_with_message) {
        char *t = test_q2j(bad_schemas[_i]);
        sb_schema_t *s = (sb_schema_t *)1;
        char err[512] = "";
        sb_err_t rc = sb_schema_new(t, strlen(t), &s, err, sizeof(err));
        ck_assert_msg(rc == SB_ERR_SCHEMA, "schema %s: got %s, want SB_ERR_SCHEMA", t, sb_err2str(rc));
        ck_assert_ptr_null(s);
        ck_assert_msg(strlen(err) > 5, "schema %s: no message", t);
        free(t);
}
END_TEST

/* A named type defined twice: refused before avro-c, whose parser leaks
 * what it built on that error (found by tests/fuzz/fuzz_schema; the suite
 * runs under LeakSanitizer, so the leak would fail it). */
static const struct {
        const char *schema, *name;
} twice_defined[] = {
        {"{'type':'record','name':'A','fields':[{'name':'a','type':{'type':'record','name':'A','fields':[]}}]"
         "}",
         "A"},
        {"{'type':'record','name':'R','namespace':'n','fields':[{'name':'a','type':{'type':'enum','name':'E',"
         "'symbols':['X']}},{'name':'b','type':{'type':'enum','name':'n.E','symbols':['X']}}]}",
         "n.E"},
        {"['int',{'type':'fixed','name':'F','size':1},{'type':'fixed','name':'F','size':2}]", "F"},
        {"{'type':'array','items':{'type':'map','values':['null',{'type':'record','name':'B','fields':[{'"
         "name':"
         "'x','type':{'type':'record','name':'B','fields':[]}}]}]}}",
         "B"},
};
#define N_TWICE_DEFINED (sizeof(twice_defined) / sizeof(*twice_defined))

START_TEST(test_type_defined_twice_is_refused) {
        char *t = test_q2j(twice_defined[_i].schema), want[128];
        sb_schema_t *s = (sb_schema_t *)1;
        char err[512] = "";
        ck_assert_int_eq(sb_schema_new(t, strlen(t), &s, err, sizeof(err)), SB_ERR_SCHEMA);
        ck_assert_ptr_null(s);
        snprintf(want, sizeof(want), "invalid Avro schema: type '%s' is defined twice",
                 twice_defined[_i].name);
        ck_assert_str_eq(err, want);
        free(t);
}
END_TEST

/* The same name in two namespaces is two types. */
START_TEST(test_same_name_in_two_namespaces_is_accepted) {
        sb_schema_t *s =
                test_schema_q("{'type':'record','name':'A','fields':[{'name':'a','type':{'type':'fixed',"
                              "'name':'F','namespace':'x','size':1}},{'name':'b','type':{'type':'fixed',"
                              "'name':'F','namespace':'y','size':1}}]}");
        sb_schema_destroy(s);
}
END_TEST

START_TEST(test_schema_not_json_says_so) {
        sb_schema_t *s;
        char err[512] = "";
        ck_assert_int_eq(sb_schema_new("{\"type\":", 8, &s, err, sizeof(err)), SB_ERR_SCHEMA);
        ck_assert_msg(strstr(err, "not JSON"), "error: %s", err);
}
END_TEST

START_TEST(test_schema_unknown_type_names_it) {
        sb_schema_t *s;
        char err[512] = "";
        char *t = test_q2j("{'type':'record','name':'R','fields':[{'name':'a','type':'Nosuch'}]}");
        ck_assert_int_eq(sb_schema_new(t, strlen(t), &s, err, sizeof(err)), SB_ERR_SCHEMA);
        ck_assert_msg(strstr(err, "Nosuch"), "error: %s", err);
        free(t);
}
END_TEST

/* ---- canonical text ---- */

START_TEST(test_canonical_text_ignores_key_order_and_whitespace) {
        sb_schema_t *a = test_schema_q(
                "{'type':'record','name':'R','namespace':'n','fields':["
                "{'name':'a','type':'int'},{'name':'b','type':['null','string'],'default':null}]}");
        sb_schema_t *b = test_schema_q("  {\n  'fields' : [ { 'type' : 'int' , 'name' : 'a' } ,\n"
                                       "\t{'default':null, 'type':[ 'null', 'string' ], 'name':'b'} ],\n"
                                       " 'namespace':'n', 'name' : 'R', 'type':'record' }\n");
        sb_schema_t *c = test_schema_q(
                "{'type':'record','name':'R','namespace':'n','fields':["
                "{'name':'b','type':['null','string'],'default':null},{'name':'a','type':'int'}]}");
        ck_assert_str_eq(sb_schema_json(a), sb_schema_json(b));
        /* Field order is meaningful: it must change the text. */
        ck_assert_str_ne(sb_schema_json(a), sb_schema_json(c));
        /* Compact and sorted. */
        ck_assert_ptr_null(strchr(sb_schema_json(b), ' '));
        ck_assert_ptr_null(strchr(sb_schema_json(b), '\n'));
        ck_assert_str_eq(
                sb_schema_json(a),
                "{\"fields\":[{\"name\":\"a\",\"type\":\"int\"},{\"default\":null,\"name\":\"b\","
                "\"type\":[\"null\",\"string\"]}],\"name\":\"R\",\"namespace\":\"n\",\"type\":\"record\"}");
        sb_schema_destroy(a);
        sb_schema_destroy(b);
        sb_schema_destroy(c);
}
END_TEST

START_TEST(test_canonical_text_of_primitive) {
        sb_schema_t *a = test_schema_q(" 'string' ");
        ck_assert_str_eq(sb_schema_json(a), "\"string\"");
        sb_schema_destroy(a);
}
END_TEST

/* ---- the real dataset schemas ---- */

START_TEST(test_dataset_schema_files_load) {
        glob_t g;
        char pattern[4096];
        snprintf(pattern, sizeof(pattern), "%s", test_src_path("schemas/datasets/*.avsc"));
        ck_assert_int_eq(glob(pattern, 0, NULL, &g), 0);
        ck_assert_uint_ge(g.gl_pathc, 6);
        for (size_t i = 0; i < g.gl_pathc; i++) {
                sb_schema_t *s = NULL;
                TEST_CALL(sb_schema_new_from_file(g.gl_pathv[i], &s, TEST_ERR));
                const sb_node_t *root = sb_schema_root(s);
                ck_assert_int_eq(sb_node_type(root), SB_T_RECORD);
                ck_assert_uint_ge(sb_node_count(root), 1);
                ck_assert_ptr_nonnull(sb_node_name(root));
                /* The file's text and the canonical text parse to the same JSON. */
                json_t *canon = json_loads(sb_schema_json(s), JSON_DECODE_ANY, NULL);
                ck_assert_ptr_nonnull(canon);
                ck_assert(json_equal(canon, sb_schema_document(s)));
                json_decref(canon);
                /* Key schemas: every field is a string identifier. */
                if (strstr(g.gl_pathv[i], ".key.avsc"))
                        for (size_t f = 0; f < sb_node_count(root); f++)
                                ck_assert_int_eq(sb_node_type(sb_node_child(root, f)), SB_T_STRING);
                sb_schema_destroy(s);
        }
        globfree(&g);
}
END_TEST

START_TEST(test_market_row_schema_tree) {
        sb_schema_t *s = NULL;
        TEST_CALL(sb_schema_new_from_file(test_src_path("schemas/datasets/market.business_license.row.avsc"),
                                          &s, TEST_ERR));
        const sb_node_t *r = sb_schema_root(s);
        ck_assert_str_eq(sb_node_name(r), "market.business_license.Value");
        ck_assert_uint_eq(sb_node_count(r), 9);
        ck_assert_str_eq(sb_node_field_name(r, 0), "uscc");
        ck_assert_int_eq(sb_node_field_index(r, "uscc"), 0);
        ck_assert_int_eq(sb_node_field_index(r, "updated_at"), 8);
        ck_assert_int_eq(sb_node_field_index(r, "nosuch"), -1);
        ck_assert_ptr_null(sb_node_field_name(r, 9));
        ck_assert_ptr_null(sb_node_child(r, 9));

        const sb_node_t *cap = sb_node_child(r, (size_t)sb_node_field_index(r, "registered_capital"));
        ck_assert_int_eq(sb_node_type(cap), SB_T_DOUBLE);
        ck_assert_str_eq(
                json_string_value(json_object_get(
                        sb_node_field_json(r, (size_t)sb_node_field_index(r, "registered_capital")), "doc")),
                "Registered capital, in ten thousand yuan");

        const sb_node_t *scope = sb_node_child(r, (size_t)sb_node_field_index(r, "business_scope"));
        ck_assert_int_eq(sb_node_type(scope), SB_T_UNION);
        ck_assert_uint_eq(sb_node_count(scope), 2);
        ck_assert_int_eq(sb_node_type(sb_node_unwrap_nullable(scope)), SB_T_STRING);
        ck_assert_ptr_eq(sb_node_unwrap_nullable(cap), cap);

        const sb_node_t *status = sb_node_child(r, (size_t)sb_node_field_index(r, "status"));
        ck_assert_int_eq(sb_node_type(status), SB_T_ENUM);
        ck_assert_str_eq(sb_node_name(status), "market.business_license.LicenseStatus");
        ck_assert_uint_eq(sb_node_count(status), 4);
        ck_assert_str_eq(sb_node_symbol(status, 0), "ACTIVE");
        ck_assert_str_eq(sb_node_symbol(status, 3), "CANCELLED");
        ck_assert_ptr_null(sb_node_symbol(status, 4));

        const sb_node_t *est = sb_node_child(r, (size_t)sb_node_field_index(r, "established_on"));
        ck_assert_int_eq(sb_node_type(est), SB_T_INT);
        ck_assert_int_eq(sb_node_logical(est), SB_LOGICAL_DATE);
        const sb_node_t *upd = sb_node_child(r, (size_t)sb_node_field_index(r, "updated_at"));
        ck_assert_int_eq(sb_node_type(upd), SB_T_LONG);
        ck_assert_int_eq(sb_node_logical(upd), SB_LOGICAL_TIMESTAMP_MILLIS);
        ck_assert_int_eq(sb_node_logical(cap), SB_LOGICAL_NONE);
        sb_schema_destroy(s);
}
END_TEST

START_TEST(test_array_and_map_children) {
        sb_schema_t *s = test_schema_q("{'type':'record','name':'R','fields':["
                                       "{'name':'a','type':{'type':'array','items':'string'}},"
                                       "{'name':'m','type':{'type':'map','values':'double'}}]}");
        const sb_node_t *r = sb_schema_root(s);
        const sb_node_t *a = sb_node_child(r, 0), *m = sb_node_child(r, 1);
        ck_assert_int_eq(sb_node_type(a), SB_T_ARRAY);
        ck_assert_int_eq(sb_node_type(sb_node_child(a, 0)), SB_T_STRING);
        ck_assert_int_eq(sb_node_type(m), SB_T_MAP);
        ck_assert_int_eq(sb_node_type(sb_node_child(m, 0)), SB_T_DOUBLE);
        ck_assert_str_eq(sb_schema_type_name(SB_T_MAP), "map");
        ck_assert_str_eq(sb_schema_type_name(SB_T_FIXED), "fixed");
        ck_assert_str_eq(sb_schema_type_name(SB_T_NULL), "null");
        sb_schema_destroy(s);
}
END_TEST

START_TEST(test_schema_file_errors_name_the_path) {
        sb_schema_t *s = (sb_schema_t *)1;
        char err[512] = "";
        ck_assert_int_eq(sb_schema_new_from_file("/nonexistent/x.avsc", &s, err, sizeof(err)), SB_ERR_IO);
        ck_assert_ptr_null(s);
        ck_assert_msg(strstr(err, "/nonexistent/x.avsc"), "error: %s", err);
        const char *path = test_write_temp("{\"type\": \"record\", \"name\": \"R\"}", ".avsc");
        s = (sb_schema_t *)1;
        ck_assert_int_eq(sb_schema_new_from_file(path, &s, err, sizeof(err)), SB_ERR_SCHEMA);
        ck_assert_ptr_null(s);
        ck_assert_msg(strstr(err, path), "error: %s", err);
        unlink(path);
}
END_TEST

/* The sample datasets' rows, in the form producers write them. */
static const struct {
        const char *file, *row;
} sample_rows[] = {
        {"schemas/datasets/market.business_license.row.avsc",
         "{'uscc':'91350100M000100Y43','name':'Fuzhou Co.','legal_representative':'Lin',"
         "'registered_capital':1234.5,'business_scope':null,'status':'SUSPENDED',"
         "'established_on':'1996-02-29','address':'No. 1','updated_at':'2025-01-01T08:00:00.123Z'}"},
        {"schemas/datasets/civil.resident.row.avsc",
         "{'id_number':'11010519491231002X','name':'Wang Wei','gender':'FEMALE','birth_date':'1949-12-31',"
         "'phone':'13800000000','address':'Room 1','district_code':'110105','married':false,"
         "'updated_at':'1969-07-20T20:17:40.000Z'}"},
        {"schemas/datasets/tax.taxpayer.row.avsc",
         "{'taxpayer_id':'91350100M000100Y43','name':'T Ltd.','taxpayer_type':'SMALL_SCALE',"
         "'tax_authority':'Bureau','registered_on':'2000-02-29','credit_rating':'A','employee_count':12,"
         "'annual_revenue':null,'active':true,'updated_at':'2024-12-31T23:59:59.999Z'}"},
};

START_TEST(test_sample_dataset_row_round_trips) {
        sb_schema_t *s = NULL;
        TEST_CALL(sb_schema_new_from_file(test_src_path(sample_rows[_i].file), &s, TEST_ERR));
        json_t *row = test_json_q(sample_rows[_i].row);
        json_t *got = test_round_trip(s, row);
        test_assert_json_eq(got, row);
        json_decref(got);
        json_decref(row);
        sb_schema_destroy(s);
}
END_TEST

START_TEST(test_sample_dataset_named_error) {
        /* The header's own example: a string where a double belongs. */
        sb_schema_t *s = NULL;
        TEST_CALL(sb_schema_new_from_file(test_src_path(sample_rows[0].file), &s, TEST_ERR));
        json_t *row = test_json_q(sample_rows[0].row);
        json_object_set_new(row, "registered_capital", json_string("a lot"));
        char *row_schema_text = json_dumps(sb_schema_document(s), JSON_COMPACT);
        /* Wrap it the way the envelope does, so the path starts at "after". */
        size_t size = strlen(row_schema_text) + 128;
        char *outer = malloc(size);
        snprintf(outer, size,
                 "{\"type\":\"record\",\"name\":\"E\",\"fields\":[{\"name\":\"after\",\"type\":[\"null\",%s]}"
                 "]}",
                 row_schema_text);
        sb_schema_t *env = NULL;
        TEST_CALL(sb_schema_new(outer, strlen(outer), &env, TEST_ERR));
        json_t *v = json_pack("{s:o}", "after", row);
        test_assert_invalid(env, v, "after.registered_capital", "expected a number");
        json_decref(v);
        free(outer);
        free(row_schema_text);
        sb_schema_destroy(env);
        sb_schema_destroy(s);
}
END_TEST

/* ---- regressions ---- */

/* The Avro specification forbids these; avro-c 1.11 accepts them, so the
 * registry would hand out ids for schemas other clients refuse. */
static const char *const spec_invalid_schemas[] = {
        "['int','int']",                                  /* two branches of the same unnamed type */
        "['null',['int']]",                               /* a union directly inside a union */
        "{'type':'enum','name':'E','symbols':['A','A']}", /* duplicate symbol */
        "{'type':'record','name':'R','fields':[{'name':'a','type':'int'},{'name':'a','type':'long'}]}",
};

START_TEST(test_bug_spec_invalid_schema_is_accepted) {
        char *t = test_q2j(spec_invalid_schemas[_i]);
        sb_schema_t *s = NULL;
        char err[512] = "";
        sb_err_t rc = sb_schema_new(t, strlen(t), &s, err, sizeof(err));
        sb_schema_destroy(s);
        ck_assert_msg(rc == SB_ERR_SCHEMA, "schema %s: got %s, want SB_ERR_SCHEMA", t, sb_err2str(rc));
        free(t);
}
END_TEST

int main(void) {
        Suite *s = suite_create("schema");
        TCase *tc = tcase_create("schema");
        tcase_add_loop_test(tc, test_invalid_schema_is_refused_with_message, 0, N_BAD_SCHEMAS);
        tcase_add_loop_test(tc, test_type_defined_twice_is_refused, 0, N_TWICE_DEFINED);
        tcase_add_test(tc, test_same_name_in_two_namespaces_is_accepted);
        tcase_add_test(tc, test_schema_not_json_says_so);
        tcase_add_test(tc, test_schema_unknown_type_names_it);
        tcase_add_test(tc, test_canonical_text_ignores_key_order_and_whitespace);
        tcase_add_test(tc, test_canonical_text_of_primitive);
        tcase_add_test(tc, test_dataset_schema_files_load);
        tcase_add_test(tc, test_market_row_schema_tree);
        tcase_add_test(tc, test_array_and_map_children);
        tcase_add_test(tc, test_schema_file_errors_name_the_path);
        tcase_add_loop_test(tc, test_sample_dataset_row_round_trips, 0,
                            sizeof(sample_rows) / sizeof(*sample_rows));
        tcase_add_test(tc, test_sample_dataset_named_error);
        suite_add_tcase(s, tc);

        /* Bugs these tests found (schemas the specification forbids). */
        tc = tcase_create("regressions");
        tcase_add_loop_test(tc, test_bug_spec_invalid_schema_is_accepted, 0,
                            sizeof(spec_invalid_schemas) / sizeof(*spec_invalid_schemas));
        suite_add_tcase(s, tc);
        return test_run_suite(s);
}

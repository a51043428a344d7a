/*
 * Unit tests of recursive schemas and of the bounds on nesting: a schema
 * that refers to itself parses into a cyclic tree; values of it encode and
 * decode when finite; a type without a finite value is never instantiated
 * in avro-c; and schemas, JSON values and Avro bodies nested deeper than
 * the limits are refused with a message, never overflowing the stack.
 *
 * JSON in the tables is written with single quotes for readability; test_q2j()
 * turns them into double quotes before parsing.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sb_avro.h"
#include "sb_buf.h"
#include "sb_schema.h"
#include "testutil.h"

#define LIST_SCHEMA "{'type':'record','name':'Node','fields':[{'name':'next','type':['null','Node']}]}"
#define LOOP_SCHEMA "{'type':'record','name':'Loop','fields':[{'name':'me','type':'Loop'}]}"

/* ---- helpers ---- */

/* `n` copies of `open` (a printf format: %zu is the level, which keeps
 * record names apart), then `inner`, then `n` copies of `close` (caller
 * frees). */
static char *nest(const char *open, const char *inner, const char *close, size_t n) {
        sb_buf_t b;
        sb_buf_init(&b, SIZE_MAX / 2);
        for (size_t i = 0; i < n; i++)
                ck_assert_int_eq(sb_buf_printf(&b, open, i), SB_OK);
        ck_assert_int_eq(sb_buf_append(&b, inner, strlen(inner) + 1), SB_OK);
        b.len--;
        for (size_t i = 0; i < n; i++)
                ck_assert_int_eq(sb_buf_append(&b, close, strlen(close)), SB_OK);
        ck_assert_int_eq(sb_buf_append(&b, "", 1), SB_OK);
        return (char *)b.data;
}

/* {"next": {"next": ... null}} with `n` records, built and freed without
 * recursion: jansson's own free would recurse once per level. */
static json_t *list_value(size_t n) {
        json_t *v = json_null();
        for (size_t i = 0; i < n; i++) {
                json_t *o = json_object();
                ck_assert_ptr_nonnull(o);
                ck_assert_int_eq(json_object_set_new(o, "next", v), 0);
                v = o;
        }
        return v;
}

static void list_free(json_t *v) {
        while (json_is_object(v)) {
                json_t *next = json_incref(json_object_get(v, "next"));
                json_decref(v);
                v = next;
        }
        json_decref(v);
}

/* The Avro body of a list of `n` >= 1 records, `n` bytes: each record's
 * union takes branch 1 (Node), the last one's branch 0 (null). */
static uint8_t *list_body(size_t n) {
        uint8_t *body = malloc(n);
        ck_assert_ptr_nonnull(body);
        memset(body, 0x02, n - 1);
        body[n - 1] = 0x00;
        return body;
}

static sb_schema_t *schema_text(const char *text, sb_err_t want, char *err, size_t err_size) {
        sb_schema_t *s = (sb_schema_t *)1;
        sb_err_t rc = sb_schema_new(text, strlen(text), &s, err, err_size);
        ck_assert_msg(rc == want, "%.80s...: got %s (%s), want %s", text, sb_err2str(rc), err,
                      sb_err2str(want));
        if (want != SB_OK)
                ck_assert_ptr_null(s);
        return s;
}

/* ---- recursion through a union, array or map ---- */

START_TEST(test_self_reference_through_union_is_a_cycle_in_the_tree) {
        sb_schema_t *s = test_schema_q(LIST_SCHEMA);
        const sb_node_t *root = sb_schema_root(s);
        const sb_node_t *next = sb_node_child(root, 0);
        ck_assert_int_eq(sb_node_type(next), SB_T_UNION);
        ck_assert_ptr_eq(sb_node_unwrap_nullable(next), root);
        ck_assert_int_eq(sb_node_has_value(root), 1);
        ck_assert_str_eq(sb_schema_json(s),
                         "{\"fields\":[{\"name\":\"next\",\"type\":[\"null\",\"Node\"]}],\"name\":\"Node\","
                         "\"type\":\"record\"}");
        sb_schema_destroy(s);
}
END_TEST

START_TEST(test_linked_list_three_deep_round_trips) {
        sb_schema_t *s = test_schema_q(LIST_SCHEMA);
        json_t *v = test_json_q("{'next':{'next':{'next':null}}}");
        sb_buf_t buf;
        test_encode_ok(s, v, &buf);
        char *hex = test_hexdump(buf.data, buf.len);
        ck_assert_str_eq(hex, "02 02 00");
        json_t *got = test_round_trip(s, v);
        test_assert_json_eq(got, v);
        free(hex);
        sb_buf_free(&buf);
        json_decref(got);
        json_decref(v);
        sb_schema_destroy(s);
}
END_TEST

static const struct {
        const char *schema, *value;
} recursive_values[] = {
        {"{'type':'record','name':'Tree','fields':[{'name':'n','type':'int'},"
         "{'name':'kids','type':{'type':'array','items':'Tree'}}]}",
         "{'n':1,'kids':[{'n':2,'kids':[]},{'n':3,'kids':[{'n':4,'kids':[]}]}]}"},
        {"{'type':'record','name':'Dir','namespace':'fs','fields':[{'name':'entries','type':{'type':'map',"
         "'values':'fs.Dir'}}]}",
         "{'entries':{'a':{'entries':{}},'b':{'entries':{'c':{'entries':{}}}}}}"},
        /* Mutual recursion: A holds an optional B, B an array of A. */
        {"{'type':'record','name':'A','fields':[{'name':'b','type':['null',{'type':'record','name':'B',"
         "'fields':[{'name':'as','type':{'type':'array','items':'A'}}]}]}]}",
         "{'b':{'as':[{'b':null},{'b':{'as':[]}}]}}"},
};

START_TEST(test_recursion_through_array_map_and_mutual_round_trips) {
        sb_schema_t *s = test_schema_q(recursive_values[_i].schema);
        json_t *v = test_json_q(recursive_values[_i].value);
        json_t *got = test_round_trip(s, v);
        test_assert_json_eq(got, v);
        json_decref(got);
        json_decref(v);
        sb_schema_destroy(s);
}
END_TEST

/* ---- a record that contains itself through required fields ---- */

static const struct {
        const char *schema, *why;
} no_value[] = {
        {LOOP_SCHEMA,
         "record 'Loop' contains itself through field 'me' with no null, array or map on the way: "
         "it has no finite value"},
        {"{'type':'record','name':'A','fields':[{'name':'x','type':'int'},{'name':'b','type':{'type':'record'"
         ","
         "'name':'B','fields':[{'name':'a','type':'A'}]}}]}",
         "record 'A' contains itself through field 'b'"},
        /* A union whose only branch is the record itself is no way out. */
        {"{'type':'record','name':'W','fields':[{'name':'w','type':['W']}]}",
         "record 'W' contains itself through field 'w'"},
};

START_TEST(test_record_containing_itself_parses_but_refuses_values) {
        sb_schema_t *s = test_schema_q(no_value[_i].schema);
        ck_assert_int_eq(sb_node_has_value(sb_schema_root(s)), 0);
        json_t *v = test_json_q("{}");
        sb_buf_t buf;
        char err[512] = "";
        sb_buf_init(&buf, 1 << 20);
        ck_assert_int_eq(sb_avro_encode(s, v, &buf, err, sizeof(err)), SB_ERR_SCHEMA);
        ck_assert_msg(strstr(err, no_value[_i].why), "error: %s", err);
        ck_assert_uint_eq(buf.len, 0);
        json_t *out = NULL;
        err[0] = 0;
        ck_assert_int_eq(sb_avro_decode(s, "\x02\x02", 2, &out, err, sizeof(err)), SB_ERR_SCHEMA);
        ck_assert_msg(strstr(err, no_value[_i].why), "error: %s", err);
        ck_assert_ptr_null(out);
        sb_buf_free(&buf);
        json_decref(v);
        sb_schema_destroy(s);
}
END_TEST

START_TEST(test_record_containing_itself_is_a_cycle_freed_once) {
        sb_schema_t *s = test_schema_q(LOOP_SCHEMA);
        const sb_node_t *root = sb_schema_root(s);
        ck_assert_ptr_eq(sb_node_child(root, 0), root);
        ck_assert_str_eq(sb_node_field_name(root, 0), "me");
        sb_schema_destroy(s); /* ASan: no double free, LeakSanitizer: no leak */
}
END_TEST

#define OPT_LOOP                                                                                             \
        "{'type':'record','name':'R','fields':[{'name':'x','type':['null',{'type':'record','name':'Loop',"   \
        "'fields':[{'name':'me','type':'Loop'}]}]},{'name':'l','type':{'type':'array','items':'Loop'}},"     \
        "{'name':'m','type':{'type':'map','values':'Loop'}}]}"

START_TEST(test_branch_or_items_without_value_are_never_entered) {
        sb_schema_t *s = test_schema_q(OPT_LOOP);
        ck_assert_int_eq(sb_node_has_value(sb_schema_root(s)), 1);
        json_t *ok = test_json_q("{'x':null,'l':[],'m':{}}");
        json_t *got = test_round_trip(s, ok);
        test_assert_json_eq(got, ok);
        static const struct {
                const char *value, *path, *reason;
        } bad[] = {
                {"{'x':{'me':{}},'l':[],'m':{}}", "x", "expected a value of the union's types"},
                {"{'x':{'Loop':{'me':{}}},'l':[],'m':{}}", "x", "type Loop has no finite value"},
                {"{'x':null,'l':[{}],'m':{}}", "l", "the items' type has no finite value"},
                {"{'x':null,'l':[],'m':{'k':{}}}", "m", "the values' type has no finite value"},
        };
        for (size_t i = 0; i < sizeof(bad) / sizeof(*bad); i++) {
                json_t *v = test_json_q(bad[i].value);
                test_assert_invalid(s, v, bad[i].path, bad[i].reason);
                json_decref(v);
        }
        /* Bodies selecting the Loop branch, or holding one Loop item. */
        static const char *const bodies[] = {"02", "00 02", "00 00 02 02 6b"};
        for (size_t i = 0; i < sizeof(bodies) / sizeof(*bodies); i++) {
                uint8_t body[16];
                size_t len = test_unhex(bodies[i], body, sizeof(body));
                json_t *out = NULL;
                char err[512] = "";
                ck_assert_int_eq(sb_avro_decode(s, body, len, &out, err, sizeof(err)), SB_ERR_INVALID);
                ck_assert_msg(strstr(err, "has no finite value"), "body %s: %s", bodies[i], err);
                ck_assert_ptr_null(out);
        }
        json_decref(got);
        json_decref(ok);
        sb_schema_destroy(s);
}
END_TEST

/* Java accepts [], avro-c's parser does not: refused with a message. */
static const char *const empty_unions[] = {
        "[]",
        "{'type':'record','name':'R','fields':[{'name':'a','type':[]}]}",
        "{'type':'array','items':[]}",
};

START_TEST(test_empty_union_is_refused_with_message) {
        char *t = test_q2j(empty_unions[_i]);
        char err[512] = "";
        schema_text(t, SB_ERR_SCHEMA, err, sizeof(err));
        ck_assert_msg(strstr(err, "Union type must have at least one branch"), "error: %s", err);
        free(t);
}
END_TEST

/* ---- nesting bounds ---- */

static const struct {
        const char *open, *close;
} nesters[] = {
        {"{\"type\":\"array\",\"items\":", "}"},
        {"{\"type\":\"map\",\"values\":", "}"},
        {"{\"type\":\"record\",\"name\":\"R%zu\",\"fields\":[{\"name\":\"f\",\"type\":", "}]}"},
        {"[\"null\",{\"type\":\"array\",\"items\":", "}]"},
};
#define N_NESTERS (sizeof(nesters) / sizeof(*nesters))

START_TEST(test_schema_nested_to_the_limit_parses_and_one_more_does_not) {
        char err[512] = "";
        /* The union nester takes two levels per step. */
        size_t levels = _i == 3 ? SB_SCHEMA_MAX_DEPTH / 2 : SB_SCHEMA_MAX_DEPTH;
        char *t = nest(nesters[_i].open, "\"int\"", nesters[_i].close, levels);
        sb_schema_t *s = schema_text(t, SB_OK, err, sizeof(err));
        sb_schema_destroy(s);
        free(t);
        t = nest(nesters[_i].open, "\"int\"", nesters[_i].close, levels + 1);
        schema_text(t, SB_ERR_SCHEMA, err, sizeof(err));
        ck_assert_msg(strstr(err, "types nested deeper than 64 levels"), "error: %s", err);
        free(t);
}
END_TEST

/* Far beyond the limit: refused by jansson's depth limit (2048) or ours,
 * never by a crash of a recursive parser. */
START_TEST(test_schema_nested_thousands_deep_is_refused) {
        static const size_t depths[] = {1000, 10000};
        for (size_t d = 0; d < 2; d++) {
                char err[512] = "";
                char *t = nest(nesters[_i].open, "\"int\"", nesters[_i].close, depths[d]);
                schema_text(t, SB_ERR_SCHEMA, err, sizeof(err));
                ck_assert_msg(strstr(err, "types nested deeper than 64 levels") ||
                                      strstr(err, "JSON nested deeper than 2048 levels"),
                              "%zu levels: %s", depths[d], err);
                free(t);
        }
}
END_TEST

START_TEST(test_jansson_bounds_json_nesting) {
        /* sb_schema_new and the producers rely on this bound: every JSON
         * document they parse is at most 2048 levels deep. */
        json_error_t e;
        char *t = nest("[", "", "]", 2048);
        json_t *j = json_loads(t, 0, &e);
        ck_assert_ptr_nonnull(j);
        json_decref(j);
        free(t);
        t = nest("[", "", "]", 2049);
        ck_assert_ptr_null(json_loads(t, 0, &e));
        ck_assert_msg(strstr(e.text, "depth"), "error: %s", e.text);
        free(t);
}
END_TEST

START_TEST(test_values_of_a_schema_at_the_limit_round_trip) {
        /* 64 nested arrays: the value [[...[1]...]] takes 65 levels of types. */
        char *t = nest("{\"type\":\"array\",\"items\":", "\"int\"", "}", SB_SCHEMA_MAX_DEPTH);
        char *vt = nest("[", "1", "]", SB_SCHEMA_MAX_DEPTH);
        sb_schema_t *s;
        TEST_CALL(sb_schema_new(t, strlen(t), &s, TEST_ERR));
        json_error_t e;
        json_t *v = json_loads(vt, 0, &e);
        ck_assert_ptr_nonnull(v);
        json_t *got = test_round_trip(s, v);
        test_assert_json_eq(got, v);
        json_decref(got);
        json_decref(v);
        sb_schema_destroy(s);
        free(vt);
        free(t);
}
END_TEST

/* A list of k records takes 2k + 1 levels of types (record and union each,
 * then null): 63 fit in SB_AVRO_MAX_DEPTH = 128, 64 do not, in either
 * direction. */
START_TEST(test_list_at_the_depth_limit_encodes_and_one_more_does_not) {
        ck_assert_int_eq(SB_AVRO_MAX_DEPTH, 128);
        sb_schema_t *s = test_schema_q(LIST_SCHEMA);
        json_t *v = list_value(63), *out = NULL;
        sb_buf_t buf;
        test_encode_ok(s, v, &buf);
        ck_assert_uint_eq(buf.len, 63);
        TEST_CALL(sb_avro_decode(s, buf.data, buf.len, &out, TEST_ERR));
        ck_assert(json_equal(out, v));
        list_free(out);
        list_free(v);
        sb_buf_free(&buf);

        v = list_value(64);
        test_assert_invalid(s, v, "next.next", "value nested deeper than 128 levels of types");
        list_free(v);
        uint8_t *body = list_body(64);
        char err[512] = "";
        ck_assert_int_eq(sb_avro_decode(s, body, 64, &out, err, sizeof(err)), SB_ERR_INVALID);
        ck_assert_msg(strstr(err, "value nested deeper than 128 levels of types"), "error: %s", err);
        free(body);
        sb_schema_destroy(s);
}
END_TEST

START_TEST(test_json_value_100000_deep_is_refused) {
        sb_schema_t *s = test_schema_q(LIST_SCHEMA);
        json_t *v = list_value(100000);
        sb_buf_t buf;
        char err[512] = "";
        /* Not test_assert_invalid: dumping the value would recurse in jansson. */
        sb_buf_init(&buf, 1 << 20);
        ck_assert_int_eq(sb_avro_encode(s, v, &buf, err, sizeof(err)), SB_ERR_INVALID);
        ck_assert_msg(strstr(err, "value nested deeper than 128 levels of types"), "error: %s", err);
        ck_assert_msg(strncmp(err, "next.next.next", 14) == 0, "error: %s", err);
        sb_buf_free(&buf);
        list_free(v);
        /* The handle's avro-c value holds the partial list: still usable. */
        json_t *small = test_json_q("{'next':{'next':null}}");
        json_t *got = test_round_trip(s, small);
        test_assert_json_eq(got, small);
        json_decref(got);
        json_decref(small);
        sb_schema_destroy(s);
}
END_TEST

START_TEST(test_avro_body_claiming_100000_deep_list_is_refused) {
        sb_schema_t *s = test_schema_q(LIST_SCHEMA);
        uint8_t *body = list_body(100000);
        json_t *out = NULL;
        char err[512] = "";
        ck_assert_int_eq(sb_avro_decode(s, body, 100000, &out, err, sizeof(err)), SB_ERR_INVALID);
        ck_assert_msg(strstr(err, "value nested deeper than 128 levels of types"), "error: %s", err);
        ck_assert_ptr_null(out);
        free(body);
        sb_schema_destroy(s);
}
END_TEST

/* Two record branches of one union at every level: a union tries its
 * branches in turn, so without care each level doubles the work. */
#define TWO_BRANCHES                                                                                         \
        "{'type':'record','name':'A','fields':[{'name':'x','type':['null','A',{'type':'record','name':'B',"  \
        "'fields':[{'name':'x','type':['null','A','B']},{'name':'v','type':'int'}]}]},{'name':'v','type':'"  \
        "int'},"                                                                                             \
        "{'name':'a','type':'int'}]}"

/* {"x": {"x": ... {"x": null, "v": leaf} ..., "v": 1}, "v": 1, "a": 0}
 * with `n` records: the top one an A, the others Bs (no "a"). */
static json_t *two_branch_value(size_t n, json_t *leaf) {
        json_t *v = json_null();
        for (size_t i = 0; i < n; i++) {
                json_t *o = json_object();
                ck_assert_ptr_nonnull(o);
                ck_assert_int_eq(json_object_set_new(o, "x", v), 0);
                ck_assert_int_eq(json_object_set_new(o, "v", i == 0 ? json_incref(leaf) : json_integer(1)),
                                 0);
                v = o;
        }
        ck_assert_int_eq(json_object_set_new(v, "a", json_integer(0)), 0);
        return v;
}

static void two_branch_free(json_t *v) {
        while (json_is_object(v)) {
                json_t *next = json_incref(json_object_get(v, "x"));
                json_decref(v);
                v = next;
        }
        json_decref(v);
}

START_TEST(test_union_of_two_records_deep_value_is_linear) {
        sb_schema_t *s = test_schema_q(TWO_BRANCHES);
        /* 60 levels fit (2 types each); each level rules out branch A at a
         * glance (no member "a"), so the work is linear. */
        json_t *leaf = json_integer(7);
        json_t *v = two_branch_value(60, leaf), *out = NULL;
        sb_buf_t buf;
        test_encode_ok(s, v, &buf);
        TEST_CALL(sb_avro_decode(s, buf.data, buf.len, &out, TEST_ERR));
        ck_assert(json_equal(out, v));
        sb_buf_free(&buf);
        two_branch_free(out);
        two_branch_free(v);
        json_decref(leaf);
        sb_schema_destroy(s);
}
END_TEST

START_TEST(test_union_of_two_records_100000_deep_fails_fast) {
        sb_schema_t *s = test_schema_q(TWO_BRANCHES);
        json_t *leaf = json_integer(7);
        json_t *v = two_branch_value(100000, leaf);
        sb_buf_t buf;
        char err[512] = "";
        sb_buf_init(&buf, 1 << 20);
        ck_assert_int_eq(sb_avro_encode(s, v, &buf, err, sizeof(err)), SB_ERR_INVALID);
        ck_assert_msg(strstr(err, "value nested deeper than 128 levels of types"), "error: %s", err);
        sb_buf_free(&buf);
        two_branch_free(v);
        json_decref(leaf);
        sb_schema_destroy(s);
}
END_TEST

START_TEST(test_union_retries_are_bounded) {
        /* Both branches look right at every level and both fail only at the
         * bottom (a string for an int): 2^40 attempts without the bound. */
        sb_schema_t *s =
                test_schema_q("{'type':'record','name':'A','fields':[{'name':'x','type':['null','A',"
                              "{'type':'record','name':'B','fields':[{'name':'x','type':['null','A','B']},"
                              "{'name':'v','type':'int'}]}]},{'name':'v','type':'int'}]}");
        json_t *leaf = json_string("not an int");
        json_t *v = two_branch_value(40, leaf);
        json_object_del(v, "a");
        sb_buf_t buf;
        char err[512] = "";
        sb_buf_init(&buf, 1 << 20);
        ck_assert_int_eq(sb_avro_encode(s, v, &buf, err, sizeof(err)), SB_ERR_INVALID);
        ck_assert_msg(strstr(err, "conversion steps"), "error: %s", err);
        sb_buf_free(&buf);
        two_branch_free(v);
        json_decref(leaf);
        sb_schema_destroy(s);
}
END_TEST

int main(void) {
        Suite *s = suite_create("schema_recursive");
        TCase *tc = tcase_create("recursive");
        tcase_add_test(tc, test_self_reference_through_union_is_a_cycle_in_the_tree);
        tcase_add_test(tc, test_linked_list_three_deep_round_trips);
        tcase_add_loop_test(tc, test_recursion_through_array_map_and_mutual_round_trips, 0,
                            sizeof(recursive_values) / sizeof(*recursive_values));
        tcase_add_loop_test(tc, test_record_containing_itself_parses_but_refuses_values, 0,
                            sizeof(no_value) / sizeof(*no_value));
        tcase_add_test(tc, test_record_containing_itself_is_a_cycle_freed_once);
        tcase_add_test(tc, test_branch_or_items_without_value_are_never_entered);
        tcase_add_loop_test(tc, test_empty_union_is_refused_with_message, 0,
                            sizeof(empty_unions) / sizeof(*empty_unions));
        suite_add_tcase(s, tc);

        tc = tcase_create("bounds");
        tcase_set_timeout(tc, 60);
        tcase_add_loop_test(tc, test_schema_nested_to_the_limit_parses_and_one_more_does_not, 0, N_NESTERS);
        tcase_add_loop_test(tc, test_schema_nested_thousands_deep_is_refused, 0, N_NESTERS);
        tcase_add_test(tc, test_jansson_bounds_json_nesting);
        tcase_add_test(tc, test_values_of_a_schema_at_the_limit_round_trip);
        tcase_add_test(tc, test_list_at_the_depth_limit_encodes_and_one_more_does_not);
        tcase_add_test(tc, test_json_value_100000_deep_is_refused);
        tcase_add_test(tc, test_avro_body_claiming_100000_deep_list_is_refused);
        tcase_add_test(tc, test_union_of_two_records_deep_value_is_linear);
        tcase_add_test(tc, test_union_of_two_records_100000_deep_fails_fast);
        tcase_add_test(tc, test_union_retries_are_bounded);
        suite_add_tcase(s, tc);
        return test_run_suite(s);
}

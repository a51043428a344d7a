/*
 * Unit tests of sb_envelope_read, the subscriber's view of a decoded change
 * envelope: every member read, and a clear error for a value that is not an
 * envelope.  Test data is written with ' for " (test_json_q).
 */
#include <string.h>

#include "dataset.h"
#include "sb_avro.h"
#include "sb_envelope.h"
#include "testutil.h"

#define SOURCE "'source':{'department':'market','system':'crm','dataset':'market.x','seq':7}"
#define TAIL "'ts_ms':1700000000123," SOURCE ",'event_id':'e-1'"

START_TEST(test_read_gives_every_member) {
        json_t *v = test_json_q("{'before':{'id':1,'n':'a'},'after':{'id':1,'n':'b'},'op':'u'," TAIL "}");
        sb_envelope_view_t ev;
        TEST_CALL(sb_envelope_read(v, &ev, TEST_ERR));
        ck_assert_int_eq(ev.op, 'u');
        ck_assert_str_eq(json_string_value(json_object_get(ev.before, "n")), "a");
        ck_assert_str_eq(json_string_value(json_object_get(ev.after, "n")), "b");
        ck_assert_int_eq(ev.ts_ms, 1700000000123LL);
        ck_assert_str_eq(ev.department, "market");
        ck_assert_str_eq(ev.system, "crm");
        ck_assert_str_eq(ev.dataset, "market.x");
        ck_assert_int_eq(ev.seq, 7);
        ck_assert_str_eq(ev.event_id, "e-1");
        json_decref(v);
}
END_TEST

START_TEST(test_read_null_rows_are_null_pointers) {
        json_t *v = test_json_q("{'before':{'id':1},'after':null,'op':'d'," TAIL "}");
        sb_envelope_view_t ev;
        TEST_CALL(sb_envelope_read(v, &ev, TEST_ERR));
        ck_assert_int_eq(ev.op, 'd');
        ck_assert_ptr_nonnull(ev.before);
        ck_assert_ptr_null(ev.after);
        json_decref(v);
        v = test_json_q("{'before':null,'after':{'id':2},'op':'c'," TAIL "}");
        TEST_CALL(sb_envelope_read(v, &ev, TEST_ERR));
        ck_assert_ptr_null(ev.before);
        ck_assert_int_eq(json_integer_value(json_object_get(ev.after, "id")), 2);
        json_decref(v);
}
END_TEST

static const struct {
        const char *value, *says;
} not_envelopes[] = {
        {"[1,2]", "not a change envelope: the value is array, not a record"},
        {"'text'", "not a change envelope: the value is string"},
        {"{'before':null,'after':{'id':1}," TAIL "}", "'op' must be one of c, u, d, r"},
        {"{'before':null,'after':{'id':1},'op':'x'," TAIL "}", "'op' must be one of c, u, d, r"},
        {"{'before':null,'after':{'id':1},'op':'cu'," TAIL "}", "'op' must be one of c, u, d, r"},
        {"{'before':null,'after':{'id':1},'op':3," TAIL "}", "'op' must be one of c, u, d, r"},
        {"{'before':null,'after':null,'op':'c'," TAIL "}", "op 'c' without after"},
        {"{'before':null,'op':'u'," TAIL "}", "op 'u' without after"},
        {"{'before':null,'after':[1],'op':'r'," TAIL "}", "'after' must be an object or null, not array"},
        {"{'before':7,'after':{'id':1},'op':'c'," TAIL "}",
         "'before' must be an object or null, not integer"},
        {"{'after':{'id':1},'op':'c','ts_ms':'now'," SOURCE ",'event_id':'e'}", "'ts_ms' must be an integer"},
        {"{'after':{'id':1},'op':'c','ts_ms':1,'event_id':'e'}", "'source' must be a record"},
        {"{'after':{'id':1},'op':'c','ts_ms':1,'source':{'system':'s','dataset':'d','seq':1},'event_id':'e'}",
         "'source.department' must be a string"},
        {"{'after':{'id':1},'op':'c','ts_ms':1,'source':{'department':'m','system':'s','dataset':'d'},"
         "'event_id':'e'}",
         "'source.seq' must be an integer"},
        {"{'after':{'id':1},'op':'c','ts_ms':1," SOURCE "}", "'event_id' must be a string"},
        {"{'after':{'id':1},'op':'c','ts_ms':1," SOURCE ",'event_id':null}", "'event_id' must be a string"},
};
#define N_NOT_ENVELOPES (sizeof(not_envelopes) / sizeof(*not_envelopes))

START_TEST(test_not_an_envelope_is_refused_clearly) {
        json_t *v = test_json_q(not_envelopes[_i].value);
        sb_envelope_view_t ev;
        char err[512] = "";
        ck_assert_int_eq(sb_envelope_read(v, &ev, err, sizeof(err)), SB_ERR_INVALID);
        ck_assert_msg(strstr(err, not_envelopes[_i].says), "%s: '%s' lacks '%s'", not_envelopes[_i].value,
                      err, not_envelopes[_i].says);
        json_decref(v);
}
END_TEST

/* What sb_envelope_value writes and Avro carries, sb_envelope_read reads. */
START_TEST(test_read_what_the_producer_encodes) {
        sb_dataset_t *ds = NULL;
        TEST_CALL(sb_dataset_load(test_src_path("schemas/datasets"), "tax.taxpayer", &ds, TEST_ERR));
        json_t *after =
                test_json_q("{'taxpayer_id':'91350100M000100Y43','name':'T','taxpayer_type':'GENERAL',"
                            "'tax_authority':'B','registered_on':'2000-02-29','credit_rating':null,"
                            "'employee_count':1,'annual_revenue':null,'active':true,"
                            "'updated_at':'2025-01-01T00:00:00.000Z'}");
        sb_change_t c = {.op = 'r',
                         .after = after,
                         .ts_ms = 42,
                         .department = "tax",
                         .system = "s",
                         .dataset = "tax.taxpayer",
                         .seq = 9,
                         .event_id = "0b9e0c1e-0000-4000-8000-000000000001"};
        json_t *value = sb_envelope_value(&c);
        ck_assert_ptr_nonnull(value);
        sb_buf_t buf;
        sb_buf_init(&buf, 1 << 20);
        TEST_CALL(sb_avro_encode(sb_dataset_value_schema(ds), value, &buf, TEST_ERR));
        json_t *decoded = NULL;
        TEST_CALL(sb_avro_decode(sb_dataset_value_schema(ds), buf.data, buf.len, &decoded, TEST_ERR));
        sb_envelope_view_t ev;
        TEST_CALL(sb_envelope_read(decoded, &ev, TEST_ERR));
        ck_assert_int_eq(ev.op, 'r');
        ck_assert_ptr_null(ev.before);
        ck_assert_str_eq(json_string_value(json_object_get(ev.after, "taxpayer_id")), "91350100M000100Y43");
        ck_assert_int_eq(ev.ts_ms, 42);
        ck_assert_int_eq(ev.seq, 9);
        ck_assert_str_eq(ev.dataset, "tax.taxpayer");
        ck_assert_str_eq(ev.event_id, c.event_id);
        json_decref(decoded);
        json_decref(value);
        json_decref(after);
        sb_buf_free(&buf);
        sb_dataset_destroy(ds);
}
END_TEST

int main(void) {
        Suite *s = suite_create("envelope_read");
        TCase *tc = tcase_create("envelope_read");
        tcase_add_test(tc, test_read_gives_every_member);
        tcase_add_test(tc, test_read_null_rows_are_null_pointers);
        tcase_add_loop_test(tc, test_not_an_envelope_is_refused_clearly, 0, N_NOT_ENVELOPES);
        tcase_add_test(tc, test_read_what_the_producer_encodes);
        suite_add_tcase(s, tc);
        return test_run_suite(s);
}

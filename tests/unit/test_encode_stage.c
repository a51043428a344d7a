/*
 * Unit tests of encode_stage, the producer's encoding thread: a batch comes
 * back with every record encoded as sb_event_encode_text encodes it on the
 * caller's thread (same key, same value up to the event id, same op), in
 * the batch's order; a record that cannot be published comes back with the
 * reason, its text and place (a source's own error as its reason); the
 * stage works on its own copy of a batch (the source reads on); a batch
 * stays valid while the next one is encoded; a batch larger than the stage
 * was made for still fits.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dataset.h"
#include "encode_stage.h"
#include "event_encoder.h"
#include "sample.h"
#include "sb_rules.h"
#include "sources/json_text.h"
#include "testutil.h"

typedef struct {
        sb_dataset_t *ds;
        sb_event_encoder_t enc;
        sb_event_worker_t *w; /* the reference: the same encoder on this thread */
        sb_buf_t k, v;
        char **lines;
        source_record_t *records;
        size_t n;
} fixture_t;

static void fixture_open(fixture_t *fx, size_t n) {
        memset(fx, 0, sizeof(*fx));
        TEST_CALL(sb_dataset_load(test_src_path("schemas/datasets"), "market.business_license", &fx->ds,
                                  TEST_ERR));
        fx->enc = (sb_event_encoder_t){.dataset = fx->ds,
                                       .key_schema_id = 3,
                                       .value_schema_id = 4,
                                       .department = "market",
                                       .system = "t"};
        TEST_CALL(sb_rules_new(sb_schema_root(sb_dataset_key_schema(fx->ds)), &fx->enc.key_rules, TEST_ERR));
        TEST_CALL(sb_rules_new(sb_dataset_row(fx->ds), &fx->enc.row_rules, TEST_ERR));
        TEST_CALL(sb_event_worker_new(&fx->enc, &fx->w, TEST_ERR));
        sb_buf_init(&fx->k, 1 << 20);
        sb_buf_init(&fx->v, 1 << 20);
        sb_sample_t *s = NULL;
        TEST_CALL(sb_sample_new("market.business_license", 7, 40, &s, TEST_ERR));
        fx->n = n;
        fx->lines = calloc(n, sizeof(*fx->lines));
        fx->records = calloc(n, sizeof(*fx->records));
        for (size_t i = 0; i < n; i++) {
                fx->lines[i] = sb_sample_next(s);
                ck_assert_ptr_nonnull(fx->lines[i]);
                fx->records[i] = (source_record_t){.text = fx->lines[i],
                                                   .len = strlen(fx->lines[i]),
                                                   .position = 100 + i,
                                                   .number = (int64_t)i + 1};
                snprintf(fx->records[i].where, sizeof(fx->records[i].where), "changes.jsonl:%zu", i + 1);
        }
        sb_sample_destroy(s);
}

static void fixture_close(fixture_t *fx) {
        for (size_t i = 0; i < fx->n; i++)
                free(fx->lines[i]);
        free(fx->lines);
        free(fx->records);
        sb_buf_free(&fx->k);
        sb_buf_free(&fx->v);
        sb_event_worker_destroy(fx->w);
        sb_event_encoder_clear(&fx->enc);
        sb_dataset_destroy(fx->ds);
}

/* Checks that encoded record e is what the reference encodes for r. */
static void check_record(fixture_t *fx, const encoded_batch_t *b, const encoded_record_t *e,
                         const source_record_t *r) {
        char id[37], op = 0, err[1024];
        int64_t seq = r->number > 0 ? r->number : (int64_t)r->position;
        sb_err_t rc =
                sb_event_encode_text(fx->w, r->text, r->len, seq, &fx->k, &fx->v, id, &op, err, sizeof(err));
        ck_assert_uint_eq(e->position, r->position);
        ck_assert_str_eq(encoded_str(b, e->where_off), r->where);
        ck_assert_int_eq(e->nomem, 0);
        if (rc) {
                ck_assert_int_eq(e->bad, 1);
                ck_assert_str_eq(encoded_str(b, e->reason_off), err);
                ck_assert_uint_eq(e->text_len, r->len);
                ck_assert_int_eq(memcmp(encoded_str(b, e->text_off), r->text, r->len), 0);
                return;
        }
        ck_assert_int_eq(e->bad, 0);
        ck_assert_int_eq(e->op, op);
        ck_assert_uint_eq(e->key_len, fx->k.len);
        ck_assert_int_eq(memcmp(b->bytes.data + e->key_off, fx->k.data, fx->k.len), 0);
        /* The same value but the event id (its last 36 bytes), which is the record's own. */
        ck_assert_uint_eq(e->value_len, fx->v.len);
        ck_assert_int_eq(memcmp(b->bytes.data + e->value_off, fx->v.data, fx->v.len - 36), 0);
        ck_assert_int_eq(memcmp(b->bytes.data + e->value_off + e->value_len - 36, e->event_id, 36), 0);
        ck_assert_str_ne(e->event_id, id);
}

START_TEST(test_a_batch_comes_back_encoded_in_order) {
        fixture_t fx;
        fixture_open(&fx, 200);
        encode_stage_t *st = NULL;
        TEST_CALL(encode_stage_new(&fx.enc, 200, &st, TEST_ERR));
        ck_assert_ptr_null(encode_stage_wait(st)); /* nothing started */
        source_batch_t batch = {fx.records, fx.n};
        ck_assert_int_eq(encode_stage_start(st, &batch), SB_OK);
        ck_assert_uint_eq(encode_stage_busy(st), fx.n);
        const encoded_batch_t *b = encode_stage_wait(st);
        ck_assert_uint_eq(encode_stage_busy(st), 0);
        ck_assert_ptr_nonnull(b);
        ck_assert_uint_eq(b->count, fx.n);
        for (size_t i = 0; i < fx.n; i++)
                check_record(&fx, b, &b->records[i], &fx.records[i]);
        encode_stage_destroy(st);
        fixture_close(&fx);
}
END_TEST

START_TEST(test_bad_records_come_back_with_reason_text_and_place) {
        fixture_t fx;
        fixture_open(&fx, 4);
        /* Not JSON; a key whose uscc differs from its row's; a source's own error. */
        static const char not_json[] = "{\"op\":\"c\",";
        char *broken = strdup(fx.lines[1]);
        char *uscc = strstr(broken, "\"uscc\":\"");
        ck_assert_ptr_nonnull(uscc);
        uscc[8 + 17] = uscc[8 + 17] == '0' ? '1' : '0';
        sb_buf_t source_error;
        sb_buf_init(&source_error, 4096);
        TEST_CALL(json_text_error_line(&source_error, "row 7: the after column is not JSON"));
        fx.records[0].text = not_json;
        fx.records[0].len = strlen(not_json);
        fx.records[1].text = broken;
        fx.records[1].len = strlen(broken);
        fx.records[3].text = (const char *)source_error.data;
        fx.records[3].len = source_error.len;
        encode_stage_t *st = NULL;
        TEST_CALL(encode_stage_new(&fx.enc, 4, &st, TEST_ERR));
        source_batch_t batch = {fx.records, fx.n};
        ck_assert_int_eq(encode_stage_start(st, &batch), SB_OK);
        const encoded_batch_t *b = encode_stage_wait(st);
        for (size_t i = 0; i < 3; i++)
                check_record(&fx, b, &b->records[i], &fx.records[i]);
        ck_assert_int_eq(b->records[0].bad, 1);
        ck_assert_int_eq(b->records[1].bad, 1);
        ck_assert_str_eq(encoded_str(b, b->records[1].reason_off),
                         "key.uscc differs from the same field of the row");
        ck_assert_int_eq(b->records[2].bad, 0);
        /* The source's reason, not "unknown member". */
        ck_assert_int_eq(b->records[3].bad, 1);
        ck_assert_str_eq(encoded_str(b, b->records[3].reason_off), "row 7: the after column is not JSON");
        encode_stage_destroy(st);
        sb_buf_free(&source_error);
        free(broken);
        fixture_close(&fx);
}
END_TEST

START_TEST(test_batches_are_copied_and_stay_valid_while_the_next_is_encoded) {
        fixture_t fx;
        fixture_open(&fx, 60);
        encode_stage_t *st = NULL;
        /* Made for 10 a batch: 30 must fit as well. */
        TEST_CALL(encode_stage_new(&fx.enc, 10, &st, TEST_ERR));
        source_batch_t first = {fx.records, 30}, second = {fx.records + 30, 30};
        source_record_t original[30];
        memcpy(original, fx.records, sizeof(original));
        ck_assert_int_eq(encode_stage_start(st, &first), SB_OK);
        /* The source reads on at once: its records change under the stage. */
        for (size_t i = 0; i < 30; i++) {
                fx.records[i].text = "{\"op\":\"x\"}";
                fx.records[i].len = 10;
                snprintf(fx.records[i].where, sizeof(fx.records[i].where), "elsewhere");
        }
        const encoded_batch_t *a = encode_stage_wait(st);
        size_t a_len = a->bytes.len;
        uint8_t *a_copy = malloc(a_len);
        memcpy(a_copy, a->bytes.data, a_len);
        ck_assert_int_eq(encode_stage_start(st, &second), SB_OK);
        /* While the second is encoded (and after), the first is as it was. */
        ck_assert_uint_eq(a->count, 30);
        ck_assert_int_eq(memcmp(a->bytes.data, a_copy, a_len), 0);
        const encoded_batch_t *b = encode_stage_wait(st);
        ck_assert_ptr_ne(a, b);
        ck_assert_int_eq(memcmp(a->bytes.data, a_copy, a_len), 0);
        for (size_t i = 0; i < 30; i++) {
                check_record(&fx, a, &a->records[i], &original[i]);
                check_record(&fx, b, &b->records[i], &fx.records[30 + i]);
        }
        free(a_copy);
        /* Destroyed while a batch is being encoded: waits for it. */
        ck_assert_int_eq(encode_stage_start(st, &first), SB_OK);
        encode_stage_destroy(st);
        fixture_close(&fx);
}
END_TEST

int main(void) {
        Suite *s = suite_create("encode_stage");
        TCase *tc = tcase_create("core");
        tcase_set_timeout(tc, 60);
        tcase_add_test(tc, test_a_batch_comes_back_encoded_in_order);
        tcase_add_test(tc, test_bad_records_come_back_with_reason_text_and_place);
        tcase_add_test(tc, test_batches_are_copied_and_stay_valid_while_the_next_is_encoded);
        suite_add_tcase(s, tc);
        SRunner *sr = srunner_create(s);
        srunner_run_all(sr, CK_NORMAL);
        int failed = srunner_ntests_failed(sr);
        srunner_free(sr);
        return failed ? 1 : 0;
}

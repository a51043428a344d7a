/*
 * Unit tests of sb_envelope and sb_dataset: the sample datasets load, the
 * envelope schema has Debezium's shape, and change events go through
 * sb_event_encode, sb_wire_parse and sb_avro_decode unchanged.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "change_line.h"
#include "event_encoder.h"
#include "sb_avro.h"
#include "dataset.h"
#include "sb_clock.h"
#include "sb_envelope.h"
#include "sb_uuid.h"
#include "sb_wire.h"
#include "testutil.h"

/* ---- the three sample datasets, with a key field and two full rows ---- */

static const struct {
        const char *topic, *department, *key_field, *row_name;
        size_t n_row_fields;
        const char *row1, *row2;
} datasets[] = {
        {"market.business_license", "market", "uscc", "market.business_license.Value", 9,
         "{\"uscc\":\"91350100M000100Y43\",\"name\":\"Fuzhou Co.\",\"legal_representative\":\"Lin\","
         "\"registered_capital\":1234.5,\"business_scope\":null,\"status\":\"ACTIVE\","
         "\"established_on\":\"1996-02-29\",\"address\":\"No. "
         "1\",\"updated_at\":\"2025-01-01T08:00:00.123Z\"}",
         "{\"uscc\":\"91350100M000100Y43\",\"name\":\"Fuzhou Co.\",\"legal_representative\":\"Chen\","
         "\"registered_capital\":2000.0,\"business_scope\":\"Trading\",\"status\":\"REVOKED\","
         "\"established_on\":\"1996-02-29\",\"address\":null,\"updated_at\":\"2025-01-02T00:00:00.000Z\"}"},
        {"civil.resident", "civil", "id_number", "civil.resident.Value", 9,
         "{\"id_number\":\"11010519491231002X\",\"name\":\"Wang Wei\",\"gender\":\"FEMALE\","
         "\"birth_date\":\"1949-12-31\",\"phone\":\"13800000000\",\"address\":\"Room 1\","
         "\"district_code\":\"110105\",\"married\":false,\"updated_at\":\"1969-07-20T20:17:40.000Z\"}",
         "{\"id_number\":\"11010519491231002X\",\"name\":\"Wang Wei\",\"gender\":\"FEMALE\","
         "\"birth_date\":\"1949-12-31\",\"phone\":null,\"address\":\"Room 2\","
         "\"district_code\":\"110105\",\"married\":true,\"updated_at\":\"2024-02-29T12:00:00.000Z\"}"},
        {"tax.taxpayer", "tax", "taxpayer_id", "tax.taxpayer.Value", 10,
         "{\"taxpayer_id\":\"91350100M000100Y43\",\"name\":\"T Ltd.\",\"taxpayer_type\":\"SMALL_SCALE\","
         "\"tax_authority\":\"Bureau\",\"registered_on\":\"2000-02-29\",\"credit_rating\":\"A\","
         "\"employee_count\":12,\"annual_revenue\":null,\"active\":true,"
         "\"updated_at\":\"2024-12-31T23:59:59.999Z\"}",
         "{\"taxpayer_id\":\"91350100M000100Y43\",\"name\":\"T Ltd.\",\"taxpayer_type\":\"GENERAL\","
         "\"tax_authority\":\"Bureau\",\"registered_on\":\"2000-02-29\",\"credit_rating\":null,"
         "\"employee_count\":13,\"annual_revenue\":98765.25,\"active\":false,"
         "\"updated_at\":\"2025-01-01T00:00:00.000Z\"}"},
};
#define N_DATASETS (sizeof(datasets) / sizeof(*datasets))

static sb_dataset_t *load_dataset(const char *topic) {
        sb_dataset_t *ds = NULL;
        char dir[4096];
        snprintf(dir, sizeof(dir), "%s", test_src_path("schemas/datasets"));
        TEST_CALL(sb_dataset_load(dir, topic, &ds, TEST_ERR));
        ck_assert_ptr_nonnull(ds);
        return ds;
}

static json_t *parse(const char *text) {
        json_error_t e;
        json_t *j = json_loads(text, 0, &e);
        ck_assert_msg(j != NULL, "test JSON does not parse: %s: %s", e.text, text);
        return j;
}

static void assert_json_eq(const json_t *got, const json_t *want) {
        if (!json_equal(got, want)) {
                char *g = json_dumps(got, JSON_COMPACT | JSON_SORT_KEYS | JSON_ENCODE_ANY);
                char *w = json_dumps(want, JSON_COMPACT | JSON_SORT_KEYS | JSON_ENCODE_ANY);
                ck_abort_msg("got %s, want %s", g, w);
        }
}

static int is_uuid4(const char *s) {
        if (strlen(s) != 36)
                return 0;
        for (int i = 0; i < 36; i++) {
                if (i == 8 || i == 13 || i == 18 || i == 23) {
                        if (s[i] != '-')
                                return 0;
                } else if (!isxdigit((unsigned char)s[i]) || isupper((unsigned char)s[i])) {
                        return 0;
                }
        }
        return s[14] == '4' && strchr("89ab", s[19]) != NULL;
}

/* ---- loading ---- */

START_TEST(test_dataset_loads_with_key_and_row) {
        sb_dataset_t *ds = load_dataset(datasets[_i].topic);
        ck_assert_str_eq(sb_dataset_topic(ds), datasets[_i].topic);

        const sb_node_t *key = sb_schema_root(sb_dataset_key_schema(ds));
        ck_assert_int_eq(sb_node_type(key), SB_T_RECORD);
        ck_assert_uint_eq(sb_node_count(key), 1);
        ck_assert_str_eq(sb_node_field_name(key, 0), datasets[_i].key_field);

        const sb_node_t *row = sb_dataset_row(ds);
        ck_assert_int_eq(sb_node_type(row), SB_T_RECORD);
        ck_assert_str_eq(sb_node_name(row), datasets[_i].row_name);
        ck_assert_uint_eq(sb_node_count(row), datasets[_i].n_row_fields);
        int k = sb_node_field_index(row, datasets[_i].key_field);
        ck_assert_int_ge(k, 0);
        ck_assert_int_eq(sb_node_type(sb_node_child(row, (size_t)k)), SB_T_STRING);
        sb_dataset_destroy(ds);
}
END_TEST

START_TEST(test_envelope_schema_has_debezium_shape) {
        static const char *const fields[] = {"before", "after", "op", "ts_ms", "source", "event_id"};
        static const char *const source_fields[] = {"department", "system", "dataset", "seq"};
        static const sb_type_t source_types[] = {SB_T_STRING, SB_T_STRING, SB_T_STRING, SB_T_LONG};
        sb_dataset_t *ds = load_dataset(datasets[_i].topic);
        const sb_node_t *env = sb_schema_root(sb_dataset_value_schema(ds));
        char name[256];

        ck_assert_int_eq(sb_node_type(env), SB_T_RECORD);
        snprintf(name, sizeof(name), "%s.Envelope", datasets[_i].topic);
        ck_assert_str_eq(sb_node_name(env), name);
        ck_assert_uint_eq(sb_node_count(env), 6);
        for (size_t i = 0; i < 6; i++)
                ck_assert_str_eq(sb_node_field_name(env, i), fields[i]);

        /* before and after: union {null, Row}, default null, the same Row. */
        for (size_t i = 0; i < 2; i++) {
                const sb_node_t *u = sb_node_child(env, i);
                ck_assert_int_eq(sb_node_type(u), SB_T_UNION);
                ck_assert_uint_eq(sb_node_count(u), 2);
                ck_assert_int_eq(sb_node_type(sb_node_child(u, 0)), SB_T_NULL);
                ck_assert_ptr_eq(sb_node_child(u, 1), sb_dataset_row(ds));
                const json_t *dflt = json_object_get(sb_node_field_json(env, i), "default");
                ck_assert(dflt != NULL && json_is_null(dflt));
        }

        const sb_node_t *op = sb_node_child(env, 2);
        ck_assert_int_eq(sb_node_type(op), SB_T_ENUM);
        ck_assert_str_eq(sb_node_name(op), "sharebus.Op");
        ck_assert_uint_eq(sb_node_count(op), 4);
        ck_assert_str_eq(sb_node_symbol(op, 0), "c");
        ck_assert_str_eq(sb_node_symbol(op, 1), "u");
        ck_assert_str_eq(sb_node_symbol(op, 2), "d");
        ck_assert_str_eq(sb_node_symbol(op, 3), "r");

        ck_assert_int_eq(sb_node_type(sb_node_child(env, 3)), SB_T_LONG);

        const sb_node_t *src = sb_node_child(env, 4);
        ck_assert_int_eq(sb_node_type(src), SB_T_RECORD);
        ck_assert_str_eq(sb_node_name(src), "sharebus.Source");
        ck_assert_uint_eq(sb_node_count(src), 4);
        for (size_t i = 0; i < 4; i++) {
                ck_assert_str_eq(sb_node_field_name(src, i), source_fields[i]);
                ck_assert_int_eq(sb_node_type(sb_node_child(src, i)), source_types[i]);
        }
        ck_assert_int_eq(sb_node_type(sb_node_child(env, 5)), SB_T_STRING);
        sb_dataset_destroy(ds);
}
END_TEST

START_TEST(test_envelope_schema_keeps_row_schema_document) {
        /* The row inside the envelope is the .row.avsc document itself, so
         * docs and defaults reach the registry. */
        sb_dataset_t *ds = load_dataset(datasets[_i].topic);
        char path[4096];
        size_t len;
        snprintf(path, sizeof(path), "%s/%s.row.avsc", test_src_path("schemas/datasets"), datasets[_i].topic);
        char *text = test_read_file(path, &len);
        json_t *row_doc = parse(text);
        const json_t *env = sb_schema_document(sb_dataset_value_schema(ds));
        const json_t *before_type =
                json_object_get(json_array_get(json_object_get(env, "fields"), 0), "type");
        assert_json_eq(json_array_get(before_type, 1), row_doc);
        json_decref(row_doc);
        free(text);
        sb_dataset_destroy(ds);
}
END_TEST

START_TEST(test_envelope_schema_refuses_non_record_row) {
        static const char *const rows[] = {
                "\"string\"",
                "{\"type\":\"enum\",\"name\":\"E\",\"symbols\":[\"A\"]}",
                "{\"type\":\"record\",\"fields\":[]}",
                "[\"null\",\"string\"]",
        };
        for (size_t i = 0; i < sizeof(rows) / sizeof(*rows); i++) {
                json_t *row = json_loads(rows[i], JSON_DECODE_ANY, NULL);
                char err[256] = "";
                ck_assert_ptr_nonnull(row);
                json_t *env = sb_envelope_schema(row, "a.b", err, sizeof(err));
                ck_assert_msg(env == NULL, "row %s was accepted", rows[i]);
                ck_assert_msg(strstr(err, "named Avro record"), "row %s: error '%s'", rows[i], err);
                json_decref(row);
        }
}
END_TEST

START_TEST(test_envelope_value_shape) {
        json_t *row = parse(datasets[0].row1);
        sb_change_t c = {.op = 'd',
                         .before = row,
                         .after = NULL,
                         .ts_ms = 1700000000123LL,
                         .department = "market",
                         .system = "sys",
                         .dataset = "market.business_license",
                         .seq = 42,
                         .event_id = "00000000-0000-4000-8000-000000000000"};
        json_t *v = sb_envelope_value(&c);
        char *text = json_dumps(v, JSON_COMPACT | JSON_SORT_KEYS);
        size_t n = strlen("{\"after\":null,\"before\":");
        ck_assert_msg(strncmp(text, "{\"after\":null,\"before\":", n) == 0, "%s", text);
        ck_assert_ptr_eq(json_object_get(v, "before"), row); /* referenced, not copied */
        ck_assert_str_eq(json_string_value(json_object_get(v, "op")), "d");
        ck_assert_int_eq(json_integer_value(json_object_get(v, "ts_ms")), 1700000000123LL);
        json_t *src = json_object_get(v, "source");
        ck_assert_str_eq(json_string_value(json_object_get(src, "department")), "market");
        ck_assert_str_eq(json_string_value(json_object_get(src, "system")), "sys");
        ck_assert_str_eq(json_string_value(json_object_get(src, "dataset")), "market.business_license");
        ck_assert_int_eq(json_integer_value(json_object_get(src, "seq")), 42);
        ck_assert_str_eq(json_string_value(json_object_get(v, "event_id")), c.event_id);
        free(text);
        json_decref(v);
        /* A JSON null counts as none, like NULL. */
        c.op = 'c';
        c.before = json_null();
        c.after = row;
        v = sb_envelope_value(&c);
        ck_assert(json_is_null(json_object_get(v, "before")));
        ck_assert_ptr_eq(json_object_get(v, "after"), row);
        json_decref(v);
        json_decref(row);
}
END_TEST

/* ---- change events through the encoder and back ---- */

typedef struct {
        json_t *key, *value;
        int32_t key_id, value_id;
} decoded_t;

static void decode_event(sb_dataset_t *ds, const sb_buf_t *key, const sb_buf_t *value, decoded_t *out) {
        const uint8_t *body;
        size_t body_len;
        TEST_CALL(sb_wire_parse(key->data, key->len, &out->key_id, &body, &body_len, TEST_ERR));
        TEST_CALL(sb_avro_decode(sb_dataset_key_schema(ds), body, body_len, &out->key, TEST_ERR));
        TEST_CALL(sb_wire_parse(value->data, value->len, &out->value_id, &body, &body_len, TEST_ERR));
        TEST_CALL(sb_avro_decode(sb_dataset_value_schema(ds), body, body_len, &out->value, TEST_ERR));
}

static const char ops[] = {'c', 'u', 'd', 'r'};

START_TEST(test_event_round_trips_every_field) {
        /* _i: dataset * 4 + op */
        size_t d = (size_t)_i / 4;
        char op = ops[_i % 4];
        sb_dataset_t *ds = load_dataset(datasets[d].topic);
        json_t *row1 = parse(datasets[d].row1), *row2 = parse(datasets[d].row2);
        json_t *key = json_pack("{s:O}", datasets[d].key_field, json_object_get(row1, datasets[d].key_field));
        json_t *before = op == 'u' || op == 'd' ? row1 : NULL;
        json_t *after = op == 'u' ? row2 : op == 'd' ? NULL : row1;
        json_t *line = json_pack("{s:s%, s:O, s:O?, s:O?, s:I, s:I}", "op", &op, (size_t)1, "key", key,
                                 "before", before, "after", after, "ts_ms", (json_int_t)1735689600123LL,
                                 "seq", (json_int_t)1000 + _i);
        char *text = json_dumps(line, JSON_COMPACT);
        sb_change_line_t cl;
        TEST_CALL(sb_change_line_parse(text, strlen(text), &cl, TEST_ERR));

        sb_event_encoder_t enc = {.dataset = ds,
                                  .key_schema_id = 7,
                                  .value_schema_id = 0x01020304,
                                  .department = datasets[d].department,
                                  .system = "unit-test"};
        sb_buf_t kb, vb;
        char event_id[37] = "";
        sb_buf_init(&kb, 1 << 20);
        sb_buf_init(&vb, 1 << 20);
        TEST_CALL(sb_event_encode(&enc, &cl, 99, &kb, &vb, event_id, TEST_ERR));
        ck_assert_msg(is_uuid4(event_id), "event id '%s' is not a v4 UUID", event_id);

        decoded_t ev;
        decode_event(ds, &kb, &vb, &ev);
        ck_assert_int_eq(ev.key_id, 7);
        ck_assert_int_eq(ev.value_id, 0x01020304);
        assert_json_eq(ev.key, key);

        json_t *v = ev.value;
        ck_assert_uint_eq(json_object_size(v), 6);
        if (before)
                assert_json_eq(json_object_get(v, "before"), before);
        else
                ck_assert(json_is_null(json_object_get(v, "before")));
        if (after)
                assert_json_eq(json_object_get(v, "after"), after);
        else
                ck_assert(json_is_null(json_object_get(v, "after")));
        char op_text[2] = {op, 0};
        ck_assert_str_eq(json_string_value(json_object_get(v, "op")), op_text);
        ck_assert_int_eq(json_integer_value(json_object_get(v, "ts_ms")), 1735689600123LL);
        json_t *src = json_object_get(v, "source");
        ck_assert_str_eq(json_string_value(json_object_get(src, "department")), datasets[d].department);
        ck_assert_str_eq(json_string_value(json_object_get(src, "system")), "unit-test");
        ck_assert_str_eq(json_string_value(json_object_get(src, "dataset")), datasets[d].topic);
        ck_assert_int_eq(json_integer_value(json_object_get(src, "seq")), 1000 + _i);
        /* The id in the event is the one returned for the message header. */
        ck_assert_str_eq(json_string_value(json_object_get(v, "event_id")), event_id);

        json_decref(ev.key);
        json_decref(ev.value);
        sb_buf_free(&kb);
        sb_buf_free(&vb);
        sb_change_line_clear(&cl);
        free(text);
        json_decref(line);
        json_decref(key);
        json_decref(row1);
        json_decref(row2);
        sb_dataset_destroy(ds);
}
END_TEST

START_TEST(test_event_defaults_ts_ms_to_now_and_seq_to_default) {
        sb_dataset_t *ds = load_dataset(datasets[0].topic);
        char *line = NULL;
        json_t *row = parse(datasets[0].row1);
        json_t *j = json_pack("{s:s, s:{s:s}, s:O}", "op", "c", "key", "uscc", "91350100M000100Y43", "after",
                              row);
        line = json_dumps(j, JSON_COMPACT);
        sb_change_line_t cl;
        TEST_CALL(sb_change_line_parse(line, strlen(line), &cl, TEST_ERR));
        ck_assert_int_eq(cl.ts_ms, -1);
        ck_assert_int_eq(cl.seq, -1);
        sb_event_encoder_t enc = {.dataset = ds,
                                  .key_schema_id = 1,
                                  .value_schema_id = 2,
                                  .department = "market",
                                  .system = "s"};
        sb_buf_t kb, vb;
        char id[37];
        sb_buf_init(&kb, 1 << 20);
        sb_buf_init(&vb, 1 << 20);
        int64_t t0 = sb_clock_now_ms();
        TEST_CALL(sb_event_encode(&enc, &cl, 12345, &kb, &vb, id, TEST_ERR));
        int64_t t1 = sb_clock_now_ms();
        decoded_t ev;
        decode_event(ds, &kb, &vb, &ev);
        json_int_t ts = json_integer_value(json_object_get(ev.value, "ts_ms"));
        ck_assert_int_ge(ts, t0);
        ck_assert_int_le(ts, t1);
        ck_assert_int_eq(json_integer_value(json_object_get(json_object_get(ev.value, "source"), "seq")),
                         12345);
        json_decref(ev.key);
        json_decref(ev.value);

        /* The buffers are reset, not appended to, by a second encode. */
        char id2[37];
        TEST_CALL(sb_event_encode(&enc, &cl, 12346, &kb, &vb, id2, TEST_ERR));
        decode_event(ds, &kb, &vb, &ev);
        ck_assert_str_ne(id, id2);
        ck_assert_str_eq(json_string_value(json_object_get(ev.value, "event_id")), id2);
        json_decref(ev.key);
        json_decref(ev.value);

        sb_buf_free(&kb);
        sb_buf_free(&vb);
        sb_change_line_clear(&cl);
        free(line);
        json_decref(j);
        json_decref(row);
        sb_dataset_destroy(ds);
}
END_TEST

/* Lines that parse but do not fit the dataset: the encoder names the field. */
static const struct {
        const char *line, *want;
} encode_errors[] = {
        /* A key field missing from the row. */
        {"{\"op\":\"c\",\"key\":{\"uscc\":\"91350100M000100Y43\"},\"after\":{\"name\":\"N\",\"legal_"
         "representative\":\"L\","
         "\"registered_capital\":1.0,\"status\":\"ACTIVE\",\"established_on\":\"2020-01-01\","
         "\"updated_at\":\"2020-01-01T00:00:00Z\"}}",
         "after.uscc: missing required field"},
        /* A key without its field, and a key with an extra one. */
        {"{\"op\":\"d\",\"key\":{}}", "key.uscc: missing required field"},
        {"{\"op\":\"d\",\"key\":{\"uscc\":\"91350100M000100Y43\",\"x\":1}}", "key."},
        {"{\"op\":\"d\",\"key\":{\"uscc\":5}}", "key.uscc: expected a string, got integer"},
        /* The header's example. */
        {"{\"op\":\"c\",\"key\":{\"uscc\":\"91350100M000100Y43\"},\"after\":{\"uscc\":\"91350100M000100Y43\","
         "\"name\":\"N\",\"legal_representative\":\"L\",\"registered_capital\":\"lots\",\"status\":"
         "\"ACTIVE\","
         "\"established_on\":\"2020-01-01\",\"updated_at\":\"2020-01-01T00:00:00Z\"}}",
         "after.registered_capital: expected a number, got string"},
        {"{\"op\":\"u\",\"key\":{\"uscc\":\"91350100M000100Y43\"},\"before\":{\"uscc\":"
         "\"91350100M000100Y43\"},"
         "\"after\":{\"uscc\":\"91350100M000100Y43\",\"name\":\"N\",\"legal_representative\":\"L\","
         "\"registered_capital\":1,\"status\":\"ACTIVE\",\"established_on\":\"2020-01-01\","
         "\"updated_at\":\"2020-01-01T00:00:00Z\"}}",
         "before.name: missing required field"},
        {"{\"op\":\"c\",\"key\":{\"uscc\":\"91350100M000100Y43\"},\"after\":{\"uscc\":\"91350100M000100Y43\","
         "\"name\":\"N\",\"legal_representative\":\"L\",\"registered_capital\":1,\"status\":\"OPEN\","
         "\"established_on\":\"2020-01-01\",\"updated_at\":\"2020-01-01T00:00:00Z\"}}",
         "after.status: 'OPEN' is not a symbol of enum market.business_license.LicenseStatus"},
        {"{\"op\":\"c\",\"key\":{\"uscc\":\"91350100M000100Y43\"},\"after\":{\"uscc\":\"91350100M000100Y43\","
         "\"name\":\"N\",\"legal_representative\":\"L\",\"registered_capital\":1,\"status\":\"ACTIVE\","
         "\"established_on\":\"2020-02-30\",\"updated_at\":\"2020-01-01T00:00:00Z\"}}",
         "after.established_on: '2020-02-30' is not a date"},
};
#define N_ENCODE_ERRORS (sizeof(encode_errors) / sizeof(*encode_errors))

START_TEST(test_event_not_fitting_dataset_names_field) {
        sb_dataset_t *ds = load_dataset(datasets[0].topic);
        const char *line = encode_errors[_i].line;
        sb_change_line_t cl;
        TEST_CALL(sb_change_line_parse(line, strlen(line), &cl, TEST_ERR));
        sb_event_encoder_t enc = {.dataset = ds,
                                  .key_schema_id = 1,
                                  .value_schema_id = 2,
                                  .department = "market",
                                  .system = "s"};
        sb_buf_t kb, vb;
        char id[37], err[512] = "";
        sb_buf_init(&kb, 1 << 20);
        sb_buf_init(&vb, 1 << 20);
        ck_assert_int_eq(sb_event_encode(&enc, &cl, 1, &kb, &vb, id, err, sizeof(err)), SB_ERR_INVALID);
        ck_assert_msg(strstr(err, encode_errors[_i].want), "error '%s' does not say '%s'", err,
                      encode_errors[_i].want);
        sb_buf_free(&kb);
        sb_buf_free(&vb);
        sb_change_line_clear(&cl);
        sb_dataset_destroy(ds);
}
END_TEST

/* ---- UUIDs and the clock ---- */

START_TEST(test_uuid4_format) {
        char id[37];
        memset(id, 'z', sizeof(id));
        ck_assert_int_eq(sb_uuid4(id), SB_OK);
        ck_assert_msg(is_uuid4(id), "'%s' is not a v4 UUID", id);
}
END_TEST

static int cmp_str(const void *a, const void *b) { return strcmp(a, b); }

START_TEST(test_uuid4_1000_are_distinct_and_well_formed) {
        enum { N = 1000 };
        char(*ids)[37] = calloc(N, sizeof(*ids));
        ck_assert_ptr_nonnull(ids);
        int nibble_seen[16] = {0};
        for (int i = 0; i < N; i++) {
                ck_assert_int_eq(sb_uuid4(ids[i]), SB_OK);
                ck_assert_msg(is_uuid4(ids[i]), "'%s' is not a v4 UUID", ids[i]);
                nibble_seen[strchr("0123456789abcdef", ids[i][0]) - "0123456789abcdef"] = 1;
        }
        qsort(ids, N, sizeof(*ids), cmp_str);
        for (int i = 1; i < N; i++)
                ck_assert_msg(strcmp(ids[i - 1], ids[i]) != 0, "duplicate UUID %s", ids[i]);
        /* Random bits really vary: over 1000 ids every first hex digit shows up. */
        for (int i = 0; i < 16; i++)
                ck_assert_msg(nibble_seen[i], "first digit %x never seen", i);
        free(ids);
}
END_TEST

/* Bracketed by clock_gettime, not time(): glibc's time() reads the coarse
 * clock, which can still show the previous second a few ms after
 * CLOCK_REALTIME has moved on (a clean-clone run failed that way). */
static int64_t realtime_ms(void) {
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

START_TEST(test_now_ms_is_wall_clock) {
        int64_t before = realtime_ms();
        int64_t now = sb_clock_now_ms();
        int64_t after = realtime_ms();
        ck_assert_int_ge(now, before);
        ck_assert_int_le(now, after);
}
END_TEST

/* ---- dataset errors ---- */

static const char *const good_topics[] = {"market.business_license", "a.b", "civil.resident-2", "x1.y_2.z-3",
                                          "0.9"};
static const char *const bad_topics[] = {
        "",
        "nodot",
        ".dataset",
        "department.",
        "Market.license",
        "market.License",
        "market license",
        "market/license",
        "../etc.passwd",
        "market.lic\xc3\xa9",
        "market.lic*",
        "market.lic\n",
};

START_TEST(test_topic_valid_accepts_good_names) {
        ck_assert_msg(sb_dataset_topic_valid(good_topics[_i]), "'%s' refused", good_topics[_i]);
}
END_TEST

START_TEST(test_bad_topic_is_refused_with_its_name) {
        sb_dataset_t *ds = (sb_dataset_t *)1;
        char err[512] = "";
        ck_assert_msg(!sb_dataset_topic_valid(bad_topics[_i]), "'%s' accepted", bad_topics[_i]);
        ck_assert_int_eq(
                sb_dataset_load(test_src_path("schemas/datasets"), bad_topics[_i], &ds, err, sizeof(err)),
                SB_ERR_CONFIG);
        ck_assert_ptr_null(ds);
        char want[128];
        snprintf(want, sizeof(want), "'%s' is not a dataset topic name", bad_topics[_i]);
        ck_assert_msg(strstr(err, want), "error: %s", err);
}
END_TEST

START_TEST(test_topic_length_limit) {
        char topic[256];
        memset(topic, 'a', sizeof(topic));
        topic[1] = '.';
        topic[200] = 0;
        ck_assert(sb_dataset_topic_valid(topic));
        topic[200] = 'a';
        topic[201] = 0;
        ck_assert(!sb_dataset_topic_valid(topic));
}
END_TEST

/* A scratch schema directory; files are removed by cleanup_dir. */
static char scratch[64];

static void make_dir(void) {
        snprintf(scratch, sizeof(scratch), "/tmp/sharebus-ds-XXXXXX");
        ck_assert_ptr_nonnull(mkdtemp(scratch));
}

static void put_file(const char *name, const char *text) {
        char path[256];
        snprintf(path, sizeof(path), "%s/%s", scratch, name);
        FILE *f = fopen(path, "w");
        ck_assert_ptr_nonnull(f);
        fputs(text, f);
        fclose(f);
}

static void cleanup_dir(void) {
        static const char *const names[] = {"a.b.key.avsc", "a.b.row.avsc"};
        char path[256];
        for (size_t i = 0; i < 2; i++) {
                snprintf(path, sizeof(path), "%s/%s", scratch, names[i]);
                unlink(path);
        }
        rmdir(scratch);
}

static const char key_ok[] =
        "{\"type\":\"record\",\"name\":\"Key\",\"fields\":[{\"name\":\"id\",\"type\":\"string\"}]}";
static const char row_ok[] = "{\"type\":\"record\",\"name\":\"Row\",\"namespace\":\"a.b\",\"fields\":[{"
                             "\"name\":\"id\",\"type\":\"string\"},"
                             "{\"name\":\"v\",\"type\":\"int\"}]}";

static const struct {
        const char *key, *row; /* NULL: file absent */
        sb_err_t err;
        const char *want; /* in the message, besides the directory */
} dir_cases[] = {
        {NULL, NULL, SB_ERR_IO, "a.b.key.avsc"},
        {key_ok, NULL, SB_ERR_IO, "a.b.row.avsc"},
        {"{\"type\":\"record\"", row_ok, SB_ERR_SCHEMA, "a.b.key.avsc"},
        {key_ok, "not json", SB_ERR_SCHEMA, "a.b.row.avsc"},
        {"\"string\"", row_ok, SB_ERR_SCHEMA, "the key schema must be a record"},
        {key_ok, "\"string\"", SB_ERR_SCHEMA, "named Avro record"},
        {"{\"type\":\"record\",\"name\":\"Key\",\"fields\":[{\"name\":\"nosuch\",\"type\":\"string\"}]}",
         row_ok, SB_ERR_SCHEMA, "key field 'nosuch' must also be a row field"},
        {"{\"type\":\"record\",\"name\":\"Key\",\"fields\":[{\"name\":\"v\",\"type\":\"string\"}]}", row_ok,
         SB_ERR_SCHEMA, "key field 'v' must also be a row field of the same type"},
};
#define N_DIR_CASES (sizeof(dir_cases) / sizeof(*dir_cases))

START_TEST(test_bad_schema_dir_gives_clear_error) {
        sb_dataset_t *ds = (sb_dataset_t *)1;
        char err[1024] = "";
        make_dir();
        if (dir_cases[_i].key)
                put_file("a.b.key.avsc", dir_cases[_i].key);
        if (dir_cases[_i].row)
                put_file("a.b.row.avsc", dir_cases[_i].row);
        sb_err_t rc = sb_dataset_load(scratch, "a.b", &ds, err, sizeof(err));
        cleanup_dir();
        ck_assert_msg(rc == dir_cases[_i].err, "got %s (%s)", sb_err2str(rc), err);
        ck_assert_ptr_null(ds);
        ck_assert_msg(strstr(err, dir_cases[_i].want), "error '%s' does not say '%s'", err,
                      dir_cases[_i].want);
        if (dir_cases[_i].err == SB_ERR_IO)
                ck_assert_msg(strstr(err, scratch), "error '%s' does not name the directory", err);
}
END_TEST

START_TEST(test_minimal_dataset_dir_loads) {
        sb_dataset_t *ds = NULL;
        make_dir();
        put_file("a.b.key.avsc", key_ok);
        put_file("a.b.row.avsc", row_ok);
        char err[1024] = "";
        sb_err_t rc = sb_dataset_load(scratch, "a.b", &ds, err, sizeof(err));
        cleanup_dir();
        ck_assert_msg(rc == SB_OK, "%s", err);
        ck_assert_str_eq(sb_node_name(sb_dataset_row(ds)), "a.b.Row");
        ck_assert_str_eq(sb_node_name(sb_schema_root(sb_dataset_value_schema(ds))), "a.b.Envelope");
        sb_dataset_destroy(ds);
}
END_TEST

START_TEST(test_missing_dataset_in_real_dir) {
        sb_dataset_t *ds = (sb_dataset_t *)1;
        char err[1024] = "";
        ck_assert_int_eq(
                sb_dataset_load(test_src_path("schemas/datasets"), "nosuch.dataset", &ds, err, sizeof(err)),
                SB_ERR_IO);
        ck_assert_ptr_null(ds);
        ck_assert_msg(strstr(err, "nosuch.dataset.key.avsc"), "error: %s", err);
}
END_TEST

int main(void) {
        Suite *s = suite_create("envelope");
        TCase *tc = tcase_create("dataset");
        tcase_add_loop_test(tc, test_dataset_loads_with_key_and_row, 0, N_DATASETS);
        tcase_add_loop_test(tc, test_envelope_schema_has_debezium_shape, 0, N_DATASETS);
        tcase_add_loop_test(tc, test_envelope_schema_keeps_row_schema_document, 0, N_DATASETS);
        tcase_add_test(tc, test_envelope_schema_refuses_non_record_row);
        tcase_add_test(tc, test_envelope_value_shape);
        suite_add_tcase(s, tc);

        tc = tcase_create("events");
        tcase_add_loop_test(tc, test_event_round_trips_every_field, 0, N_DATASETS * 4);
        tcase_add_test(tc, test_event_defaults_ts_ms_to_now_and_seq_to_default);
        tcase_add_loop_test(tc, test_event_not_fitting_dataset_names_field, 0, N_ENCODE_ERRORS);
        suite_add_tcase(s, tc);

        tc = tcase_create("uuid");
        tcase_add_test(tc, test_uuid4_format);
        tcase_add_test(tc, test_uuid4_1000_are_distinct_and_well_formed);
        tcase_add_test(tc, test_now_ms_is_wall_clock);
        suite_add_tcase(s, tc);

        tc = tcase_create("errors");
        tcase_add_loop_test(tc, test_topic_valid_accepts_good_names, 0,
                            sizeof(good_topics) / sizeof(*good_topics));
        tcase_add_loop_test(tc, test_bad_topic_is_refused_with_its_name, 0,
                            sizeof(bad_topics) / sizeof(*bad_topics));
        tcase_add_test(tc, test_topic_length_limit);
        tcase_add_loop_test(tc, test_bad_schema_dir_gives_clear_error, 0, N_DIR_CASES);
        tcase_add_test(tc, test_minimal_dataset_dir_loads);
        tcase_add_test(tc, test_missing_dataset_in_real_dir);
        suite_add_tcase(s, tc);
        return test_run_suite(s);
}

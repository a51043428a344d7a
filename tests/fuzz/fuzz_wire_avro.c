/*
 * fuzz_wire_avro: a Kafka key or value as the subscriber decodes it:
 * Confluent framing (sb_wire_parse), then the Avro body against the schema
 * the frame's id names (sb_avro_decode: sb_avro_check_body, then
 * sb_avro_read_json), then, for an envelope, sb_envelope_read.
 *
 * The input is the whole message.  The schema id picks one of the schemas
 * below (id modulo their count), as the registry would hand it to the
 * subscriber: every dataset's key and value schemas, the edge dataset
 * (tests/fuzz/data: every kind of type, a recursive record) and a few
 * schemas that stress the decoder's bounds (deep recursion, a record
 * without a finite value, nested arrays and maps).
 *
 * Invariants beyond "no crash, no leak": a decoded value encodes again
 * (sb_avro_encode accepts what sb_avro_decode gives) and decodes to the
 * same JSON; the exceptions are a map key holding a NUL, which Avro
 * allows and avro-c cannot write (sb_avro_encode refuses it by name), and
 * dates and timestamps outside the years 0000-9999 (sb_datetime.h); and
 * numbers compare at float precision (same_value).
 */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dataset.h"
#include "fuzzutil.h"
#include "sb_avro.h"
#include "sb_buf.h"
#include "sb_envelope.h"
#include "sb_wire.h"

static const char *const datasets[][2] = {
        {"schemas/datasets", "market.business_license"},
        {"schemas/datasets", "civil.resident"},
        {"schemas/datasets", "tax.taxpayer"},
        {"tests/fuzz/data", "t.edge"},
};
#define N_DATASETS (sizeof(datasets) / sizeof(*datasets))

/* Schemas no dataset has: where the decoder's bounds matter. */
static const char *const extra_schemas[] = {
        "{\"type\":\"record\",\"name\":\"Node\",\"fields\":[{\"name\":\"v\",\"type\":\"int\"},"
        "{\"name\":\"next\",\"type\":[\"null\",\"Node\"]}]}",
        "{\"type\":\"record\",\"name\":\"Loop\",\"fields\":[{\"name\":\"me\",\"type\":\"Loop\"}]}",
        "{\"type\":\"record\",\"name\":\"Tree\",\"fields\":[{\"name\":\"kids\",\"type\":{\"type\":\"array\","
        "\"items\":\"Tree\"}},{\"name\":\"tags\",\"type\":{\"type\":\"map\",\"values\":\"Tree\"}}]}",
        "{\"type\":\"array\",\"items\":{\"type\":\"map\",\"values\":{\"type\":\"array\",\"items\":[\"null\","
        "\"boolean\",\"int\",\"long\",\"float\",\"double\",\"bytes\",\"string\"]}}}",
        "[\"null\",{\"type\":\"fixed\",\"name\":\"F\",\"size\":16},{\"type\":\"enum\",\"name\":\"E\","
        "\"symbols\":[\"A\",\"B\",\"C\"]},{\"type\":\"int\",\"logicalType\":\"date\"},{\"type\":\"long\","
        "\"logicalType\":\"timestamp-millis\"}]",
};
#define N_EXTRA (sizeof(extra_schemas) / sizeof(*extra_schemas))
#define N_SCHEMAS (2 * N_DATASETS + N_EXTRA)

static sb_dataset_t *loaded[N_DATASETS]; /* kept for the process: schemas points into them */
static sb_schema_t *schemas[N_SCHEMAS];
static int is_envelope[N_SCHEMAS];

/* At exit, so that LeakSanitizer sees avro-c's values freed (it cannot
 * follow every pointer avro-c keeps into them). */
static void unload(void) {
        for (size_t i = 0; i < N_DATASETS; i++)
                sb_dataset_destroy(loaded[i]);
        for (size_t i = 2 * N_DATASETS; i < N_SCHEMAS; i++)
                sb_schema_destroy(schemas[i]);
}

int LLVMFuzzerInitialize(int *argc, char ***argv) {
        (void)argc, (void)argv;
        size_t n = 0;
        atexit(unload);
        for (size_t i = 0; i < N_DATASETS; i++) {
                sb_dataset_t *ds = loaded[i] = fuzz_dataset(datasets[i][0], datasets[i][1]);
                schemas[n++] = sb_dataset_key_schema(ds);
                is_envelope[n] = 1;
                schemas[n++] = sb_dataset_value_schema(ds);
        }
        for (size_t i = 0; i < N_EXTRA; i++)
                schemas[n++] = fuzz_schema(extra_schemas[i]);
        return 0;
}

/* json_equal, but numbers compare at float precision: a plain number in a
 * union goes to the first numeric branch it fits (sb_avro.h), so a double
 * read from ["float","double"] comes back as that float. */
static int same_value(const json_t *a, const json_t *b) {
        if (json_is_number(a) && json_is_number(b))
                return (float)json_number_value(a) == (float)json_number_value(b);
        if (json_is_array(a) && json_is_array(b) && json_array_size(a) == json_array_size(b)) {
                for (size_t i = 0; i < json_array_size(a); i++)
                        if (!same_value(json_array_get(a, i), json_array_get(b, i)))
                                return 0;
                return 1;
        }
        if (json_is_object(a) && json_is_object(b) && json_object_size(a) == json_object_size(b)) {
                const char *key;
                size_t key_len;
                json_t *v;
                json_object_keylen_foreach((json_t *)a, key, key_len, v) {
                        if (!same_value(v, json_object_getn(b, key, key_len)))
                                return 0;
                }
                return 1;
        }
        return json_equal(a, b);
}

/* 1 if v holds a date or timestamp text with a year outside 0000-9999
 * (a sign, or more than four digits), which sb_datetime formats but does
 * not parse (sb_datetime.h). */
static int wide_year(const json_t *v) {
        if (json_is_string(v)) {
                const char *s = json_string_value(v);
                size_t digits = strspn(s + (*s == '-'), "0123456789");
                return digits && s[(*s == '-') + digits] == '-' && (*s == '-' || digits > 4);
        }
        size_t i;
        const char *key;
        json_t *item;
        json_array_foreach(v, i, item) {
                if (wide_year(item))
                        return 1;
        }
        json_object_foreach((json_t *)v, key, item) {
                if (wide_year(item))
                        return 1;
        }
        return 0;
}

/* decode(encode(v)) must be v again. */
static void check_round_trip(sb_schema_t *s, const json_t *v) {
        char err[1024] = "";
        sb_buf_t again;
        json_t *back = NULL;
        sb_buf_init(&again, 64u << 20);
        if (sb_avro_encode(s, v, &again, err, sizeof(err))) {
                /* What decode gives and encode refuses, by design: a map key
                 * with a NUL (sb_avro.c), and a date or timestamp before year
                 * 0 or after 9999. */
                if (strstr(err, "map key holds a NUL character") || wide_year(v)) {
                        sb_buf_free(&again);
                        return;
                }
                char *text = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);
                fuzz_fail("a decoded value does not encode again: %s: %s", err, text ? text : "?");
        }
        if (sb_avro_decode(s, again.data, again.len, &back, err, sizeof(err)))
                fuzz_fail("a re-encoded value does not decode: %s", err);
        if (!same_value(back, v)) {
                char *a = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);
                char *b = json_dumps(back, JSON_COMPACT | JSON_ENCODE_ANY);
                fuzz_fail("decode(encode(v)) != v: %s vs %s", a ? a : "?", b ? b : "?");
        }
        json_decref(back);
        sb_buf_free(&again);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        char err[1024];
        int32_t id;
        const uint8_t *body;
        size_t body_len;
        json_t *v = NULL;

        if (sb_wire_parse(data, size, &id, &body, &body_len, err, sizeof(err)))
                return 0;
        if (body_len > size || body != data + SB_WIRE_HEADER_SIZE || id < 0)
                fuzz_fail("sb_wire_parse: body %p+%zu outside a %zu-byte message, id %d", (const void *)body,
                          body_len, size, id);
        size_t k = (size_t)id % N_SCHEMAS;
        sb_err_t rc = sb_avro_decode(schemas[k], body, body_len, &v, err, sizeof(err));
        if (rc) {
                if (v)
                        fuzz_fail("sb_avro_decode failed (%s) but set a value", err);
                if (!*err)
                        fuzz_fail("sb_avro_decode failed without a reason");
                return 0;
        }
        if (!v)
                fuzz_fail("sb_avro_decode succeeded without a value");
        if (is_envelope[k]) {
                sb_envelope_view_t ev;
                if (sb_envelope_read(v, &ev, err, sizeof(err)) == SB_OK &&
                    !(ev.op == 'c' || ev.op == 'u' || ev.op == 'd' || ev.op == 'r'))
                        fuzz_fail("sb_envelope_read accepted op '%c'", ev.op);
        }
        check_round_trip(schemas[k], v);
        json_decref(v);
        return 0;
}

/*
 * fuzz_change_line: one line of a JSON-lines change file as the producer
 * reads it: sb_change_line_parse (jansson), and sb_event_encode_text, the
 * producer's one-pass path from the text straight to Avro, which falls
 * back to jansson and sb_event_encode for what it declines.
 *
 * event_encoder.h promises that both ways give the same bytes and the same
 * errors with the same messages; the target holds them to it on two
 * datasets (market.business_license with its rules and check characters,
 * and the edge dataset of tests/fuzz/data with every kind of type): the
 * same result code and message, the same key, and values that decode to
 * the same envelope but for the event id (drawn per call) and a ts_ms the
 * line leaves to the clock.
 */
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "change_line.h"
#include "dataset.h"
#include "event_encoder.h"
#include "fuzzutil.h"
#include "sb_avro.h"
#include "sb_rules.h"
#include "sb_schema.h"
#include "sb_wire.h"

#define N_SETS 2
#define BUF_MAX (4u << 20)

typedef struct {
        sb_dataset_t *ds;
        sb_event_encoder_t enc;
        sb_event_worker_t *worker;
} set_t;

static set_t sets[N_SETS];

static void set_open(set_t *s, const char *dir, const char *topic, const char *department) {
        char err[512];
        s->ds = fuzz_dataset(dir, topic);
        s->enc = (sb_event_encoder_t){.dataset = s->ds,
                                      .key_schema_id = 7,
                                      .value_schema_id = 8,
                                      .department = department,
                                      .system = "fuzz"};
        if (sb_rules_new(sb_schema_root(sb_dataset_key_schema(s->ds)), &s->enc.key_rules, err, sizeof(err)) ||
            sb_rules_new(sb_dataset_row(s->ds), &s->enc.row_rules, err, sizeof(err)) ||
            sb_event_worker_new(&s->enc, &s->worker, err, sizeof(err)))
                fuzz_fail("%s: %s", topic, err);
}

/* At exit, so that LeakSanitizer sees avro-c's values freed (it cannot
 * follow every pointer avro-c keeps into them). */
static void unload(void) {
        for (size_t i = 0; i < N_SETS; i++) {
                sb_event_worker_destroy(sets[i].worker);
                sb_event_encoder_clear(&sets[i].enc);
                sb_dataset_destroy(sets[i].ds);
        }
}

int LLVMFuzzerInitialize(int *argc, char ***argv) {
        (void)argc, (void)argv;
        atexit(unload);
        set_open(&sets[0], "schemas/datasets", "market.business_license", "market");
        set_open(&sets[1], "tests/fuzz/data", "t.edge", "t");
        return 0;
}

/* The value's envelope without what may differ between two encodings. */
static json_t *envelope_of(const set_t *s, const sb_buf_t *value, int keep_ts) {
        char err[1024];
        json_t *v = NULL;
        if (value->len < SB_WIRE_HEADER_SIZE ||
            sb_avro_decode(sb_dataset_value_schema(s->ds), value->data + SB_WIRE_HEADER_SIZE,
                           value->len - SB_WIRE_HEADER_SIZE, &v, err, sizeof(err)))
                fuzz_fail("an encoded value does not decode: %s", value->len < 5 ? "too short" : err);
        json_object_del(v, "event_id");
        if (!keep_ts)
                json_object_del(v, "ts_ms");
        return v;
}

static void compare(const set_t *s, const char *line, size_t len, const sb_change_line_t *cl,
                    sb_err_t parse_rc, const char *parse_err) {
        char terr[1024] = "", rerr[1024] = "", tid[37], rid[37], op = 0;
        sb_buf_t tk, tv, rk, rv;
        sb_buf_init(&tk, BUF_MAX);
        sb_buf_init(&tv, BUF_MAX);
        sb_buf_init(&rk, BUF_MAX);
        sb_buf_init(&rv, BUF_MAX);
        sb_err_t trc = sb_event_encode_text(s->worker, line, len, 1, &tk, &tv, tid, &op, terr, sizeof(terr));
        sb_err_t rrc = parse_rc;
        if (parse_rc == SB_OK)
                rrc = sb_event_encode(&s->enc, cl, 1, &rk, &rv, rid, rerr, sizeof(rerr));
        else
                memcpy(rerr, parse_err, strlen(parse_err) + 1);
        if (trc != rrc || (trc && strcmp(terr, rerr) != 0))
                fuzz_fail("%s: text path %d (%s), reference path %d (%s)", sb_dataset_topic(s->ds), (int)trc,
                          terr, (int)rrc, rerr);
        if (trc == SB_OK) {
                if (op != cl->op)
                        fuzz_fail("text path op '%c', line op '%c'", op, cl->op);
                if (tk.len != rk.len || memcmp(tk.data, rk.data, tk.len) != 0)
                        fuzz_fail("%s: the two paths wrote different keys", sb_dataset_topic(s->ds));
                json_t *a = envelope_of(s, &tv, cl->ts_ms >= 0), *b = envelope_of(s, &rv, cl->ts_ms >= 0);
                if (!json_equal(a, b)) {
                        char *ta = json_dumps(a, JSON_COMPACT), *tb = json_dumps(b, JSON_COMPACT);
                        fuzz_fail("%s: the two paths wrote different values: %s vs %s",
                                  sb_dataset_topic(s->ds), ta ? ta : "?", tb ? tb : "?");
                }
                json_decref(a);
                json_decref(b);
        }
        sb_buf_free(&tk);
        sb_buf_free(&tv);
        sb_buf_free(&rk);
        sb_buf_free(&rv);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        /* As the producer hands lines over: no newline, blank ones skipped. */
        const char *line = (const char *)data;
        if (memchr(data, '\n', size) || sb_change_line_is_blank(line, size))
                return 0;
        char err[1024] = "";
        sb_change_line_t cl;
        memset(&cl, 0, sizeof(cl));
        sb_err_t rc = sb_change_line_parse(line, size, &cl, err, sizeof(err));
        if (rc == SB_OK && !(cl.doc && cl.key && strchr("cudr", cl.op) && cl.op))
                fuzz_fail("sb_change_line_parse accepted a line without doc, key or op");
        if (rc != SB_OK && !*err)
                fuzz_fail("sb_change_line_parse refused a line without a reason");
        for (size_t i = 0; i < N_SETS; i++)
                compare(&sets[i], line, size, &cl, rc, err);
        if (rc == SB_OK)
                sb_change_line_clear(&cl);
        return 0;
}

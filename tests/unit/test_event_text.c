/*
 * Unit tests of sb_event_encode_text, the producer's per-event path: for
 * every line, valid or not, it must give what the reference path gives
 * (sb_change_line_parse + sb_event_encode over jansson and sb_avro): the
 * same error and message, or the same key bytes and the same value bytes
 * (but the event id), and take its fast path for the lines written the
 * usual way.  Also the event id generator (sb_uuid_gen_t).
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "change_line.h"
#include "dataset.h"
#include "event_encoder.h"
#include "sample.h"
#include "sb_clock.h"
#include "sb_rules.h"
#include "sb_uuid.h"
#include "testutil.h"

/* ---- the edge dataset: every kind of type ---- */

static const char *const edge_key = "{'type':'record','name':'Key','namespace':'t.edge','fields':["
                                    "{'name':'id','type':'long','sharebus.rules':{'min':1}}]}";
static const char *const edge_row =
        "{'type':'record','name':'Row','namespace':'t.edge','fields':["
        "{'name':'id','type':'long','sharebus.rules':{'min':1}},"
        "{'name':'i','type':'int','default':0},"
        "{'name':'d','type':'double','default':0,'sharebus.rules':{'max':1e300}},"
        "{'name':'f','type':'float','default':0},"
        "{'name':'b','type':'boolean','default':false},"
        "{'name':'s','type':'string','default':'','sharebus.classification':'public',"
        " 'sharebus.rules':{'maxLength':40,'pattern':'[^X]*'}},"
        "{'name':'ns','type':['null','string'],'default':null,'sharebus.rules':{'minLength':1}},"
        "{'name':'e','type':{'type':'enum','name':'Color','symbols':['RED','GREEN','BLUE']},'default':'RED',"
        " 'sharebus.rules':{'enum':['RED','GREEN']}},"
        "{'name':'dt','type':['null',{'type':'int','logicalType':'date'}],'default':null},"
        "{'name':'ts','type':['null',{'type':'long','logicalType':'timestamp-millis'}],'default':null},"
        "{'name':'arr','type':{'type':'array','items':'int'},'default':[]},"
        "{'name':'m','type':{'type':'map','values':'string'},'default':{}},"
        "{'name':'rec','type':['null',{'type':'record','name':'Inner','fields':["
        "  "
        "{'name':'x','type':'int'},{'name':'next','type':['null','Inner'],'default':null}]}],'default':null},"
        "{'name':'by','type':['null','bytes'],'default':null},"
        "{'name':'fx','type':['null',{'type':'fixed','name':'F4','size':4}],'default':null},"
        "{'name':'u','type':['null','int','string','double'],'default':null}]}";

/* The row's members as the base line writes them, in schema order. */
static const char *const edge_fields[][2] = {
        {"id", "1"},
        {"i", "7"},
        {"d", "2.5"},
        {"f", "1.5"},
        {"b", "true"},
        {"s", "\"plain\""},
        {"ns", "null"},
        {"e", "\"GREEN\""},
        {"dt", "\"2024-02-29\""},
        {"ts", "\"2025-01-01T00:00:00.123Z\""},
        {"arr", "[1,2,3]"},
        {"m", "{\"a\":\"x\"}"},
        {"rec", "{\"x\":1}"},
        {"by", "\"ab\""},
        {"fx", "\"abcd\""},
        {"u", "5"},
};
#define N_EDGE (sizeof(edge_fields) / sizeof(*edge_fields))

static void write_file(const char *path, const char *text) {
        char *json = test_q2j(text);
        FILE *f = fopen(path, "w");
        ck_assert_ptr_nonnull(f);
        fputs(json, f);
        fclose(f);
        free(json);
}

typedef struct {
        char dir[256];
        sb_dataset_t *ds;
        sb_event_encoder_t enc;
        sb_event_worker_t *w;
        sb_buf_t rk, rv, tk, tv;
} fixture_t;

static void fixture_open(fixture_t *fx, const char *schema_dir, const char *topic, const char *department) {
        memset(fx, 0, sizeof(*fx));
        if (!schema_dir) {
                char path[512];
                snprintf(fx->dir, sizeof(fx->dir), "/tmp/sb-event-text-XXXXXX");
                ck_assert_ptr_nonnull(mkdtemp(fx->dir));
                snprintf(path, sizeof(path), "%s/t.edge.key.avsc", fx->dir);
                write_file(path, edge_key);
                snprintf(path, sizeof(path), "%s/t.edge.row.avsc", fx->dir);
                write_file(path, edge_row);
                schema_dir = fx->dir;
        }
        TEST_CALL(sb_dataset_load(schema_dir, topic, &fx->ds, TEST_ERR));
        fx->enc = (sb_event_encoder_t){.dataset = fx->ds,
                                       .key_schema_id = 7,
                                       .value_schema_id = 8,
                                       .department = department,
                                       .system = "tests"};
        TEST_CALL(sb_rules_new(sb_schema_root(sb_dataset_key_schema(fx->ds)), &fx->enc.key_rules, TEST_ERR));
        TEST_CALL(sb_rules_new(sb_dataset_row(fx->ds), &fx->enc.row_rules, TEST_ERR));
        TEST_CALL(sb_event_worker_new(&fx->enc, &fx->w, TEST_ERR));
        sb_buf_init(&fx->rk, 1 << 20);
        sb_buf_init(&fx->rv, 1 << 20);
        sb_buf_init(&fx->tk, 1 << 20);
        sb_buf_init(&fx->tv, 1 << 20);
}

static void fixture_close(fixture_t *fx) {
        sb_event_worker_destroy(fx->w);
        sb_event_encoder_clear(&fx->enc);
        sb_dataset_destroy(fx->ds);
        sb_buf_free(&fx->rk);
        sb_buf_free(&fx->rv);
        sb_buf_free(&fx->tk);
        sb_buf_free(&fx->tv);
        if (fx->dir[0]) {
                char path[512];
                snprintf(path, sizeof(path), "%s/t.edge.key.avsc", fx->dir);
                unlink(path);
                snprintf(path, sizeof(path), "%s/t.edge.row.avsc", fx->dir);
                unlink(path);
                rmdir(fx->dir);
        }
}

enum { ANY_PATH = -1, REFERENCE_PATH = 0, FAST_PATH = 1 };

/* Runs `line` through both paths and checks they agree; returns the
 * result.  `path` says which path the text encoder must take. */
static sb_err_t compare(fixture_t *fx, const char *line, size_t len, int64_t seq, int path, char *err_out,
                        size_t err_size) {
        char rerr[1024] = "", terr[1024] = "", rid[37], tid[37] = "", op = 0;
        sb_change_line_t cl;
        sb_err_t rrc = sb_change_line_parse(line, len, &cl, rerr, sizeof(rerr));
        char rop = rrc ? 0 : cl.op;
        if (!rrc) {
                rrc = sb_event_encode(&fx->enc, &cl, seq, &fx->rk, &fx->rv, rid, rerr, sizeof(rerr));
                sb_change_line_clear(&cl);
        }
        uint64_t fast0, ref0, fast1, ref1;
        sb_event_worker_counts(fx->w, &fast0, &ref0);
        sb_err_t trc =
                sb_event_encode_text(fx->w, line, len, seq, &fx->tk, &fx->tv, tid, &op, terr, sizeof(terr));
        sb_event_worker_counts(fx->w, &fast1, &ref1);
        ck_assert_msg(trc == rrc, "%.*s: text path %s (%s), reference %s (%s)", (int)len, line,
                      sb_err2str(trc), terr, sb_err2str(rrc), rerr);
        if (rrc) {
                ck_assert_msg(strcmp(terr, rerr) == 0, "%.*s: text path says '%s', reference '%s'", (int)len,
                              line, terr, rerr);
                ck_assert_uint_eq(fast1, fast0); /* an invalid line is never taken by the fast path */
        } else {
                ck_assert_int_eq(op, rop);
                ck_assert_msg(fx->tk.len == fx->rk.len && memcmp(fx->tk.data, fx->rk.data, fx->rk.len) == 0,
                              "%.*s: keys differ:\n text %s\n  ref %s", (int)len, line,
                              test_hexdump(fx->tk.data, fx->tk.len), test_hexdump(fx->rk.data, fx->rk.len));
                /* The value ends with the event id (36 characters). */
                ck_assert_uint_ge(fx->rv.len, 37);
                ck_assert_msg(fx->tv.len == fx->rv.len &&
                                      memcmp(fx->tv.data, fx->rv.data, fx->rv.len - 36) == 0,
                              "%.*s: values differ:\n text %s\n  ref %s", (int)len, line,
                              test_hexdump(fx->tv.data, fx->tv.len), test_hexdump(fx->rv.data, fx->rv.len));
                ck_assert_int_eq(memcmp(fx->tv.data + fx->tv.len - 36, tid, 36), 0);
                ck_assert_uint_eq(strlen(tid), 36);
        }
        if (path == FAST_PATH)
                ck_assert_msg(fast1 == fast0 + 1, "%.*s: not on the fast path", (int)len, line);
        if (path == REFERENCE_PATH)
                ck_assert_msg(ref1 == ref0 + 1, "%.*s: not on the reference path", (int)len, line);
        if (err_out)
                snprintf(err_out, err_size, "%s", rerr);
        return rrc;
}

static sb_err_t compare_str(fixture_t *fx, const char *line, int path, char *err_out, size_t err_size) {
        return compare(fx, line, strlen(line), 42, path, err_out, err_size);
}

/* The base line with member `name` of the row written as `json` (NULL:
 * left out), the key written as `key`. */
static char *edge_line(const char *name, const char *json) {
        char *line = malloc(1 << 16);
        size_t n = (size_t)snprintf(line, 1 << 16, "{\"op\":\"c\",\"key\":{\"id\":1},\"after\":{");
        int first = 1;
        for (size_t i = 0; i < N_EDGE; i++) {
                const char *v = strcmp(edge_fields[i][0], name) == 0 ? json : edge_fields[i][1];
                if (!v)
                        continue;
                n += (size_t)snprintf(line + n, (1 << 16) - n, "%s\"%s\":%s", first ? "" : ",",
                                      edge_fields[i][0], v);
                first = 0;
        }
        snprintf(line + n, (1 << 16) - n, "},\"ts_ms\":5,\"seq\":3}");
        return line;
}

/* ---- values of every type: the same bytes ---- */

static const struct {
        const char *field, *json;
        int path;
} edge_values[] = {
        {"", "", FAST_PATH}, /* the base line */
        /* strings: escapes, \uXXXX, surrogate pairs, raw UTF-8 */
        {"s", "\"tab\\t nl\\n q\\\" sl\\/ bs\\\\ \\b\\f\\r\"", FAST_PATH},
        {"s", "\"\\u00e9\\u4e2d\\ud83d\\ude00\\u0041\"", FAST_PATH},
        {"s", "\"\xc3\xa9\xe4\xb8\xad\xf0\x9f\x98\x80\"", FAST_PATH},
        {"s", "\"\"", FAST_PATH},
        {"s", "\"\\ud83d\"", REFERENCE_PATH},        /* lone high surrogate */
        {"s", "\"\\ude00\"", REFERENCE_PATH},        /* lone low surrogate */
        {"s", "\"\\ud83d\\u0041\"", REFERENCE_PATH}, /* high surrogate, then no low one */
        {"s", "\"a\\u0000b\"", REFERENCE_PATH},
        {"s", "\"\\x\"", REFERENCE_PATH},
        {"s", "\"\\u12G4\"", REFERENCE_PATH},
        {"s", "\"\xc3\x28\"", REFERENCE_PATH},         /* bad continuation */
        {"s", "\"\xc0\xaf\"", REFERENCE_PATH},         /* overlong */
        {"s", "\"\xe0\x80\xaf\"", REFERENCE_PATH},     /* overlong, 3 bytes */
        {"s", "\"\xed\xa0\x80\"", REFERENCE_PATH},     /* a surrogate in UTF-8 */
        {"s", "\"\xf4\x90\x80\x80\"", REFERENCE_PATH}, /* past U+10FFFF */
        {"s", "\"\xff\"", REFERENCE_PATH},
        {"s", "\"a\x01\"", REFERENCE_PATH}, /* a control character */
        {"s", "\"a\tb\"", REFERENCE_PATH},
        {"s", "\"unterminated", REFERENCE_PATH},
        {"s", "12", REFERENCE_PATH},
        {"s", "\"a long string that breaks the maxLength rule of forty\"", REFERENCE_PATH},
        {"s", "\"X marks the pattern\"", REFERENCE_PATH},
        {"s", NULL, REFERENCE_PATH}, /* a default that is not null: left to the reference */
        /* ints and longs at their limits */
        {"i", "2147483647", FAST_PATH},
        {"i", "-2147483648", FAST_PATH},
        {"i", "-0", FAST_PATH},
        {"i", "0", FAST_PATH},
        {"i", "2147483648", REFERENCE_PATH},
        {"i", "-2147483649", REFERENCE_PATH},
        {"i", "1.0", REFERENCE_PATH},
        {"i", "1e2", REFERENCE_PATH},
        {"i", "01", REFERENCE_PATH},
        {"i", "+1", REFERENCE_PATH},
        {"i", "-", REFERENCE_PATH},
        {"i", "\"1\"", REFERENCE_PATH},
        {"id", "9223372036854775807", ANY_PATH}, /* the key says 1: refused by both */
        /* doubles and floats */
        {"d", "0.1", FAST_PATH},
        {"d", "-0.0", FAST_PATH},
        {"d", "-0", FAST_PATH},
        {"d", "3", FAST_PATH},
        {"d", "-9223372036854775808", FAST_PATH},
        {"d", "1e300", FAST_PATH},
        {"d", "1.7976931348623157e308", REFERENCE_PATH}, /* above the max rule */
        {"d", "4.9e-324", FAST_PATH},
        {"d", "2.2250738585072014e-308", FAST_PATH},
        {"d", "0.30000000000000004", FAST_PATH},
        {"d", "123456789012345678901234567890", REFERENCE_PATH}, /* too big an integer for jansson */
        {"d", "123456789012345678901234567890.5", FAST_PATH},
        {"d", "9007199254740993.0", FAST_PATH},
        {"d", "1E-400", FAST_PATH},
        {"d", "2.5E+3", FAST_PATH},
        {"d", "1e400", REFERENCE_PATH},
        {"d", "1.", REFERENCE_PATH},
        {"d", ".5", REFERENCE_PATH},
        {"d", "1e", REFERENCE_PATH},
        {"d", "NaN", REFERENCE_PATH},
        {"f", "3.4028234663852886e38", FAST_PATH},
        {"f", "1e-50", FAST_PATH},
        {"f", "0.1", FAST_PATH},
        {"f", "1e39", REFERENCE_PATH},
        {"b", "false", FAST_PATH},
        {"b", "tru", REFERENCE_PATH},
        {"b", "null", REFERENCE_PATH},
        /* nullable: null, the plain value, Avro's branch form */
        {"ns", "\"x\"", FAST_PATH},
        {"ns", NULL, FAST_PATH},
        {"ns", "{\"string\":\"x\"}", REFERENCE_PATH},
        {"ns", "\"\"", REFERENCE_PATH}, /* minLength 1 */
        {"ns", "7", REFERENCE_PATH},
        /* enums */
        {"e", "\"RED\"", FAST_PATH},
        {"e", "\"\\u0052ED\"", FAST_PATH},
        {"e", "\"BLUE\"", REFERENCE_PATH}, /* a symbol the rules do not allow */
        {"e", "\"PURPLE\"", REFERENCE_PATH},
        {"e", "\"REDX\"", REFERENCE_PATH},
        {"e", "\"RE\"", REFERENCE_PATH},
        /* dates and timestamps, as text or as numbers */
        {"dt", "19000", FAST_PATH},
        {"dt", "null", FAST_PATH},
        {"dt", "\"1970-01-01\"", FAST_PATH},
        {"dt", "\"2023-02-29\"", REFERENCE_PATH},
        {"dt", "\"2024-1-01\"", REFERENCE_PATH},
        {"ts", "1735689600000", FAST_PATH},
        {"ts", "\"2025-01-01 00:00:00+00:00\"", FAST_PATH},
        {"ts", "\"2025-01-01T00:00:00.123456789Z\"", FAST_PATH},
        {"ts", "\"2025-01-01T00:00:00\"", REFERENCE_PATH},
        {"ts", "-5", FAST_PATH},
        /* arrays and maps */
        {"arr", "[]", FAST_PATH},
        {"arr", "[ 1 , -2 ,3 ]", FAST_PATH},
        {"arr",
         "[0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24,25,26,27,28,29,30,31,32,33,34,"
         "35,36,37,38,39,40,41,42,43,44,45,46,47,48,49,50,51,52,53,54,55,56,57,58,59,60,61,62,63,64,65,66,67,"
         "68,69]",
         FAST_PATH},
        {"arr", "[1,\"x\"]", REFERENCE_PATH},
        {"arr", "[1,]", REFERENCE_PATH},
        {"arr", "[1 2]", REFERENCE_PATH},
        {"arr", "{}", REFERENCE_PATH},
        {"m", "{}", FAST_PATH},
        {"m", "{\"a\":\"x\",\"b\":\"y\",\"\\u00e9\":\"z\"}", FAST_PATH},
        {"m", "{\"b\":\"y\",\"a\":\"x\"}", FAST_PATH},
        {"m", "{\"a\":\"x\",\"a\":\"y\"}", REFERENCE_PATH},
        {"m", "{\"a\":\"x\",\"\\u0061\":\"y\"}", REFERENCE_PATH},
        {"m", "{\"a\":1}", REFERENCE_PATH},
        /* nested and recursive records, members in any order */
        {"rec", "{\"x\":1,\"next\":{\"x\":2,\"next\":{\"x\":3}}}", FAST_PATH},
        {"rec", "{\"next\":{\"next\":null,\"x\":2},\"x\":1}", FAST_PATH},
        {"rec", "{\"x\":1,\"y\":2}", REFERENCE_PATH},
        {"rec", "{\"next\":null}", REFERENCE_PATH},
        {"rec", "{\"Inner\":{\"x\":1}}", REFERENCE_PATH},
        {"rec", "{\"t.edge.Inner\":{\"x\":1}}", REFERENCE_PATH},
        {"rec", "{\"x\":1,\"x\":1}", REFERENCE_PATH},
        /* bytes and fixed: code points 0..255 */
        {"by", "\"\\u00ff\\u0080a\"", FAST_PATH},
        {"by", "\"\xc3\xbf\"", FAST_PATH},
        {"by", "\"\\u0100\"", REFERENCE_PATH},
        {"fx", "\"ab\\u00e9d\"", FAST_PATH},
        {"fx", "\"abc\"", REFERENCE_PATH},
        {"fx", "\"abcde\"", REFERENCE_PATH},
        /* a union of several types: the first branch that fits */
        {"u", "\"x\"", FAST_PATH},
        {"u", "2.5", FAST_PATH},
        {"u", "-7", FAST_PATH},
        {"u", "4294967296", REFERENCE_PATH}, /* too big for int: the double, chosen by the reference */
        {"u", "true", REFERENCE_PATH},
        {"u", "{\"int\":3}", REFERENCE_PATH},
        {"u", "[]", REFERENCE_PATH},
};

START_TEST(test_every_type_gives_the_reference_bytes) {
        fixture_t fx;
        fixture_open(&fx, NULL, "t.edge", "tests");
        for (size_t i = 0; i < sizeof(edge_values) / sizeof(*edge_values); i++) {
                char *line = edge_line(edge_values[i].field, edge_values[i].json);
                compare_str(&fx, line, edge_values[i].path, NULL, 0);
                free(line);
        }
        fixture_close(&fx);
}
END_TEST

/* ---- the line around the rows ---- */

static const struct {
        const char *line;
        int path;
        const char *want; /* the reference's error, or NULL for a valid line */
} envelope_lines[] = {
        {"{\"op\":\"c\",\"key\":{\"id\":1},\"after\":{\"id\":1,\"s\":\"a\"},\"ts_ms\":5}", REFERENCE_PATH,
         NULL},
        {" {\"seq\":9, \"ts_ms\" : 5 ,\"after\":{\"id\":1},\"key\":{\"id\":1},\"op\":\"c\"}\t\r\n ", ANY_PATH,
         NULL},
        {"{\"op\":\"u\",\"key\":{\"id\":2},\"before\":null,\"after\":{\"id\":2},\"ts_ms\":5}", ANY_PATH,
         NULL},
        {"{\"op\":\"d\",\"key\":{\"id\":2},\"before\":{\"id\":2},\"ts_ms\":5}", ANY_PATH, NULL},
        {"{\"op\":\"d\",\"key\":{\"id\":2},\"after\":null,\"ts_ms\":5}", ANY_PATH, NULL},
        {"{\"op\":\"r\",\"key\":{\"id\":2},\"after\":{\"id\":2},\"ts_ms\":0,\"seq\":0}", ANY_PATH, NULL},
        {"{\"op\":\"c\",\"key\":{\"id\":2},\"after\":{\"id\":2},\"ts_ms\":5,\"seq\":-0}", ANY_PATH, NULL},
        {"{\"op\":\"c\",\"key\":{},\"after\":{\"id\":2},\"ts_ms\":5}", REFERENCE_PATH,
         "key.id: missing required field"},
        {"{\"op\":\"c\",\"key\":{\"id\":1},\"after\":{\"id\":2},\"ts_ms\":5}", REFERENCE_PATH,
         "key.id differs from the same field of the row"},
        {"{\"op\":\"c\",\"key\":{\"id\":1},\"after\":{\"id\":1.0},\"ts_ms\":5}", REFERENCE_PATH,
         "key.id differs from the same field of the row"},
        {"{\"op\":\"c\",\"key\":{\"id\":0},\"after\":{\"id\":0},\"ts_ms\":5}", REFERENCE_PATH,
         "key.id: 0 is below the minimum 1"},
        {"{\"op\":\"c\",\"key\":{\"id\":1},\"before\":{\"id\":1},\"after\":{\"id\":1}}", REFERENCE_PATH,
         "op \"c\" needs \"after\" and no \"before\""},
        {"{\"op\":\"u\",\"key\":{\"id\":1}}", REFERENCE_PATH, "op \"u\" needs \"after\""},
        {"{\"op\":\"d\",\"key\":{\"id\":1},\"after\":{\"id\":1}}", REFERENCE_PATH,
         "op \"d\" must not have \"after\""},
        {"{\"op\":\"x\",\"key\":{\"id\":1},\"after\":{\"id\":1}}", REFERENCE_PATH, "\"op\" must be"},
        {"{\"op\":\"cu\",\"key\":{\"id\":1},\"after\":{\"id\":1}}", REFERENCE_PATH, "\"op\" must be"},
        {"{\"op\":\"\\u0063\",\"key\":{\"id\":1},\"after\":{\"id\":1},\"ts_ms\":5}", REFERENCE_PATH, NULL},
        {"{\"key\":{\"id\":1},\"after\":{\"id\":1}}", REFERENCE_PATH, "\"op\" must be"},
        {"{\"op\":\"c\",\"after\":{\"id\":1}}", REFERENCE_PATH, "\"key\" must be an object"},
        {"{\"op\":\"c\",\"key\":null,\"after\":{\"id\":1}}", REFERENCE_PATH, "\"key\" must be an object"},
        {"{\"op\":\"c\",\"key\":{\"id\":1},\"after\":[1]}", REFERENCE_PATH, "must be objects or null"},
        {"{\"op\":\"c\",\"key\":{\"id\":1},\"after\":{\"id\":1},\"ts_ms\":-1}", REFERENCE_PATH,
         "\"ts_ms\" must be a non-negative integer"},
        {"{\"op\":\"c\",\"key\":{\"id\":1},\"after\":{\"id\":1},\"seq\":1.5}", REFERENCE_PATH,
         "\"seq\" must be a non-negative integer"},
        {"{\"op\":\"c\",\"key\":{\"id\":1},\"after\":{\"id\":1},\"extra\":1}", REFERENCE_PATH,
         "unknown member 'extra'"},
        {"{\"op\":\"c\",\"op\":\"c\",\"key\":{\"id\":1},\"after\":{\"id\":1}}", REFERENCE_PATH, "duplicate"},
        {"{\"op\":\"c\",\"key\":{\"id\":1},\"after\":{\"id\":1}} x", REFERENCE_PATH, "not valid JSON"},
        {"{\"op\":\"c\",\"key\":{\"id\":1},\"after\":{\"id\":1},}", REFERENCE_PATH, "not valid JSON"},
        {"{\"op\":\"c\",\"key\":{\"id\":1},\"after\":{\"id\":1}", REFERENCE_PATH, "not valid JSON"},
        {"{\"op\":\"c\",\"key\":{\"id\":1},\"after\":{\"id\":1,\"zz\":1}}", REFERENCE_PATH,
         "after.zz: unknown field"},
        {"{\"op\":\"c\",\"key\":{\"id\":1},\"af\\u0074er\":{\"id\":1},\"ts_ms\":5}", REFERENCE_PATH, NULL},
        {"{}", REFERENCE_PATH, "\"op\" must be"},
        {"[]", REFERENCE_PATH, "a change must be a JSON object"},
        {"", REFERENCE_PATH, "not valid JSON"},
        {"nul", REFERENCE_PATH, "not valid JSON"},
};

START_TEST(test_the_envelope_gives_the_reference_result) {
        fixture_t fx;
        fixture_open(&fx, NULL, "t.edge", "tests");
        for (size_t i = 0; i < sizeof(envelope_lines) / sizeof(*envelope_lines); i++) {
                char err[1024];
                sb_err_t rc =
                        compare_str(&fx, envelope_lines[i].line, envelope_lines[i].path, err, sizeof(err));
                if (envelope_lines[i].want)
                        ck_assert_msg(rc == SB_ERR_INVALID && strstr(err, envelope_lines[i].want),
                                      "%s: '%s', want '%s'", envelope_lines[i].line, err,
                                      envelope_lines[i].want);
                else
                        ck_assert_msg(rc == SB_OK, "%s: %s", envelope_lines[i].line, err);
        }
        fixture_close(&fx);
}
END_TEST

START_TEST(test_missing_ts_ms_is_now_and_missing_seq_the_default) {
        fixture_t fx;
        fixture_open(&fx, NULL, "t.edge", "tests");
        const char *line =
                "{\"op\":\"c\",\"key\":{\"id\":1},\"after\":{\"id\":1,\"i\":0,\"d\":0,\"f\":0,\"b\":false,"
                "\"s\":\"\",\"e\":\"RED\",\"arr\":[],\"m\":{}}}";
        char id[37], op, err[256];
        int64_t t0 = sb_clock_now_ms();
        TEST_CALL(sb_event_encode_text(fx.w, line, strlen(line), 77, &fx.tk, &fx.tv, id, &op, TEST_ERR));
        int64_t t1 = sb_clock_now_ms();
        json_t *v = NULL;
        TEST_CALL(
                sb_avro_decode(sb_dataset_value_schema(fx.ds), fx.tv.data + 5, fx.tv.len - 5, &v, TEST_ERR));
        json_int_t ts = json_integer_value(json_object_get(v, "ts_ms"));
        ck_assert_int_ge(ts, t0);
        ck_assert_int_le(ts, t1);
        ck_assert_int_eq(json_integer_value(json_object_get(json_object_get(v, "source"), "seq")), 77);
        ck_assert_str_eq(json_string_value(json_object_get(v, "event_id")), id);
        ck_assert_int_eq(op, 'c');
        json_decref(v);
        uint64_t fast, ref;
        sb_event_worker_counts(fx.w, &fast, &ref);
        ck_assert_uint_eq(fast, 1);
        (void)err;
        fixture_close(&fx);
}
END_TEST

/* A record put back in schema order into buffers that had not been
 * written yet (data still NULL) did pointer arithmetic on NULL, which
 * UBSan reports (found by tests/fuzz/fuzz_change_line). */
START_TEST(test_bug_reorder_into_an_unused_buffer) {
        fixture_t fx;
        fixture_open(&fx, NULL, "t.edge", "tests");
        const char *line = "{\"before\":{}}";
        char id[37], op, err[256];
        ck_assert_ptr_null(fx.tv.data);
        ck_assert_int_eq(
                sb_event_encode_text(fx.w, line, strlen(line), 1, &fx.tk, &fx.tv, id, &op, err, sizeof(err)),
                SB_ERR_INVALID);
        fixture_close(&fx);
}
END_TEST

/* Nesting is bounded as sb_avro bounds it: both refuse, the text path
 * without recursing past its own bound. */
START_TEST(test_deep_nesting_is_refused_as_by_the_reference) {
        fixture_t fx;
        fixture_open(&fx, NULL, "t.edge", "tests");
        for (int depth = 10; depth <= 200; depth += 190) {
                size_t cap = 64 + (size_t)depth * 24;
                char *rec = malloc(cap);
                size_t n = 0;
                for (int i = 0; i < depth; i++)
                        n += (size_t)snprintf(rec + n, cap - n, "{\"x\":%d,\"next\":", i);
                n += (size_t)snprintf(rec + n, cap - n, "null");
                for (int i = 0; i < depth; i++)
                        rec[n++] = '}';
                rec[n] = 0;
                char *line = edge_line("rec", rec);
                sb_err_t rc = compare_str(&fx, line, depth < 50 ? FAST_PATH : REFERENCE_PATH, NULL, 0);
                ck_assert_int_eq(rc, depth < 50 ? SB_OK : SB_ERR_INVALID);
                free(line);
                free(rec);
        }
        /* Deeper than jansson goes, in a place no schema reads. */
        size_t cap = 3000 * 2 + 200;
        char *line = malloc(cap);
        size_t n = (size_t)snprintf(line, cap,
                                    "{\"op\":\"c\",\"key\":{\"id\":1},\"after\":{\"id\":1,\"m\":{\"a\":");
        for (int i = 0; i < 3000; i++)
                line[n++] = '[';
        for (int i = 0; i < 3000; i++)
                line[n++] = ']';
        snprintf(line + n, cap - n, "}}}");
        compare_str(&fx, line, REFERENCE_PATH, NULL, 0);
        free(line);
        fixture_close(&fx);
}
END_TEST

/* ---- the sample datasets ---- */

static const struct {
        const char *topic, *department;
} sample_sets[] = {
        {"market.business_license", "market"},
        {"civil.resident", "civil"},
        {"tax.taxpayer", "tax"},
};

START_TEST(test_sample_lines_take_the_fast_path_with_the_same_bytes) {
        fixture_t fx;
        fixture_open(&fx, test_src_path("schemas/datasets"), sample_sets[_i].topic,
                     sample_sets[_i].department);
        sb_sample_t *s = NULL;
        TEST_CALL(sb_sample_new(sample_sets[_i].topic, 5, 300, &s, TEST_ERR));
        for (int n = 0; n < 2000; n++) {
                char *line = sb_sample_next(s);
                ck_assert_ptr_nonnull(line);
                ck_assert_int_eq(compare(&fx, line, strlen(line), n, FAST_PATH, NULL, 0), SB_OK);
                free(line);
        }
        sb_sample_destroy(s);
        fixture_close(&fx);
}
END_TEST

/* A rule broken on the fast path is named as the reference names it. */
START_TEST(test_rule_errors_read_as_the_readme_shows) {
        fixture_t fx;
        fixture_open(&fx, test_src_path("schemas/datasets"), "market.business_license", "market");
        sb_sample_t *s = NULL;
        TEST_CALL(sb_sample_new("market.business_license", 5, 10, &s, TEST_ERR));
        char *line = sb_sample_next(s);
        /* Break the check character of the uscc, in the key and the row alike. */
        char *k = strstr(line, "\"uscc\":\"");
        ck_assert_ptr_nonnull(k);
        char code[19];
        memcpy(code, k + 8, 18);
        code[18] = 0;
        char broken[19];
        memcpy(broken, code, 19);
        broken[17] = broken[17] == '0' ? '1' : '0';
        for (char *at = line; (at = strstr(at, code)) != NULL; at += 18)
                memcpy(at, broken, 18);
        char err[1024];
        ck_assert_int_eq(compare_str(&fx, line, REFERENCE_PATH, err, sizeof(err)), SB_ERR_INVALID);
        ck_assert_str_eq(err, "key.uscc: check character is wrong (cn_uscc)");
        free(line);
        sb_sample_destroy(s);
        fixture_close(&fx);
}
END_TEST

/* Lines broken at random: whatever the reference says, the text path says. */
START_TEST(test_mutated_lines_give_the_reference_result) {
        fixture_t fx;
        fixture_open(&fx, NULL, "t.edge", "tests");
        static const char alphabet[] = "{}[],:\"\\ 0123456789.eE-+ntfulrsaX\x01\xc3\xa9\xff\xed\xa0";
        uint64_t rng = 0x9E3779B97F4A7C15ULL;
        char *base = edge_line("", "");
        size_t base_len = strlen(base);
        char *buf = malloc(base_len * 2 + 16);
        int ok = 0, bad = 0;
        for (int iter = 0; iter < 6000; iter++) {
                memcpy(buf, base, base_len + 1);
                size_t len = base_len;
                int edits = 1 + (int)(iter % 3);
                for (int e = 0; e < edits; e++) {
                        rng ^= rng << 13;
                        rng ^= rng >> 7;
                        rng ^= rng << 17;
                        size_t at = (size_t)(rng % len);
                        char ch = alphabet[(rng >> 32) % (sizeof(alphabet) - 1)];
                        switch ((rng >> 48) % 3) {
                        case 0: buf[at] = ch; break;
                        case 1:
                                memmove(buf + at, buf + at + 1, len - at - 1);
                                len--;
                                break;
                        default:
                                memmove(buf + at + 1, buf + at, len - at);
                                buf[at] = ch;
                                len++;
                        }
                }
                if (compare(&fx, buf, len, iter, ANY_PATH, NULL, 0) == SB_OK)
                        ok++;
                else
                        bad++;
        }
        /* Both kinds were seen, so both were compared. */
        ck_assert_int_gt(ok, 100);
        ck_assert_int_gt(bad, 100);
        free(buf);
        free(base);
        fixture_close(&fx);
}
END_TEST

/* The scanner reads strings eight bytes at a time: a byte that ends the
 * plain run (quote, backslash, control, UTF-8 or not) at any place in and
 * around a word, in a string value and in a member name, gives what the
 * reference gives. */
START_TEST(test_a_special_byte_anywhere_in_a_string_gives_the_reference_result) {
        static const struct {
                const char *bytes;
                int path;
        } specials[] = {
                {"\\n", FAST_PATH},       {"\\u00e9", FAST_PATH},
                {"\\\"", FAST_PATH},      {"\xc3\xa9", FAST_PATH},
                {"\x7f", FAST_PATH},      {"\x01", REFERENCE_PATH},
                {"\xff", REFERENCE_PATH}, {"\xc3", REFERENCE_PATH},
                {"\"", REFERENCE_PATH}, /* the string ends early */
        };
        fixture_t fx;
        fixture_open(&fx, NULL, "t.edge", "tests");
        int compared = 0;
        for (size_t k = 0; k < sizeof(specials) / sizeof(*specials); k++)
                for (size_t at = 0; at <= 20; at++) {
                        char value[64];
                        snprintf(value, sizeof(value), "\"%.*s%s%.*s\"", (int)at,
                                 "abcdefghijklmnopqrstuvwxyz", specials[k].bytes, (int)(20 - at),
                                 "ABCDEFGHIJKLMNOPQRSTUVWXYZ");
                        char *line = edge_line("s", value);
                        compare_str(&fx, line, specials[k].path, NULL, 0); /* asserts */
                        free(line);
                        compared++;
                }
        ck_assert_int_eq(compared, 9 * 21);
        fixture_close(&fx);
}
END_TEST

/* ---- threads ---- */

typedef struct {
        const sb_event_encoder_t *enc;
        char **lines;
        size_t n;
        sb_buf_t *want_keys;
        int failures;
} thread_arg_t;

static void *encode_all(void *p) {
        thread_arg_t *a = p;
        sb_event_worker_t *w = NULL;
        char err[512];
        if (sb_event_worker_new(a->enc, &w, err, sizeof(err))) {
                a->failures++;
                return NULL;
        }
        sb_buf_t k, v;
        sb_buf_init(&k, 1 << 20);
        sb_buf_init(&v, 1 << 20);
        for (int round = 0; round < 3; round++)
                for (size_t i = 0; i < a->n; i++) {
                        char id[37], op;
                        if (sb_event_encode_text(w, a->lines[i], strlen(a->lines[i]), 1, &k, &v, id, &op, err,
                                                 sizeof(err)) ||
                            k.len != a->want_keys[i].len || memcmp(k.data, a->want_keys[i].data, k.len) != 0)
                                a->failures++;
                }
        sb_buf_free(&k);
        sb_buf_free(&v);
        sb_event_worker_destroy(w);
        return NULL;
}

START_TEST(test_workers_encode_in_parallel) {
        enum { LINES = 300, THREADS = 4 };
        fixture_t fx;
        fixture_open(&fx, test_src_path("schemas/datasets"), "market.business_license", "market");
        sb_sample_t *s = NULL;
        TEST_CALL(sb_sample_new("market.business_license", 11, 50, &s, TEST_ERR));
        char *lines[LINES];
        sb_buf_t want[LINES];
        for (int i = 0; i < LINES; i++) {
                char id[37], op;
                lines[i] = sb_sample_next(s);
                sb_buf_init(&want[i], 1 << 20);
                /* Every other line takes the reference path: a member name with
                 * an escape. */
                if (i % 2) {
                        size_t n = strlen(lines[i]);
                        char *alt = malloc(n + 32);
                        ck_assert_ptr_nonnull(alt);
                        snprintf(alt, n + 32, "{\"s\\u0065q\":1,%s", lines[i] + 1);
                        free(lines[i]);
                        lines[i] = alt;
                }
                TEST_CALL(sb_event_encode_text(fx.w, lines[i], strlen(lines[i]), 1, &want[i], &fx.tv, id, &op,
                                               TEST_ERR));
        }
        pthread_t t[THREADS];
        thread_arg_t args[THREADS];
        for (int i = 0; i < THREADS; i++) {
                args[i] = (thread_arg_t){.enc = &fx.enc, .lines = lines, .n = LINES, .want_keys = want};
                ck_assert_int_eq(pthread_create(&t[i], NULL, encode_all, &args[i]), 0);
        }
        for (int i = 0; i < THREADS; i++) {
                pthread_join(t[i], NULL);
                ck_assert_int_eq(args[i].failures, 0);
        }
        for (int i = 0; i < LINES; i++) {
                free(lines[i]);
                sb_buf_free(&want[i]);
        }
        sb_sample_destroy(s);
        fixture_close(&fx);
}
END_TEST

/* ---- event ids ---- */

START_TEST(test_generated_ids_are_v4_and_distinct) {
        sb_uuid_gen_t *a = NULL, *b = NULL;
        TEST_CALL(sb_uuid_gen_new(&a, TEST_ERR));
        TEST_CALL(sb_uuid_gen_new(&b, TEST_ERR));
        enum { N = 5000 };
        char(*ids)[37] = malloc(sizeof(*ids) * 2 * N);
        for (int i = 0; i < 2 * N; i++) {
                sb_uuid_gen_next(i < N ? a : b, ids[i]);
                ck_assert_uint_eq(strlen(ids[i]), 36);
                for (int c = 0; c < 36; c++)
                        ck_assert_msg(c == 8 || c == 13 || c == 18 || c == 23
                                              ? ids[i][c] == '-'
                                              : strchr("0123456789abcdef", ids[i][c]) != NULL,
                                      "%s", ids[i]);
                ck_assert_int_eq(ids[i][14], '4');
                ck_assert_ptr_nonnull(strchr("89ab", ids[i][19]));
        }
        /* No two alike, within a generator or across two. */
        qsort(ids, 2 * N, sizeof(*ids), (int (*)(const void *, const void *))strcmp);
        for (int i = 1; i < 2 * N; i++)
                ck_assert_str_ne(ids[i - 1], ids[i]);
        free(ids);
        sb_uuid_gen_destroy(a);
        sb_uuid_gen_destroy(b);
}
END_TEST

int main(void) {
        Suite *s = suite_create("event_text");
        TCase *tc = tcase_create("core");
        tcase_set_timeout(tc, 120);
        tcase_add_test(tc, test_every_type_gives_the_reference_bytes);
        tcase_add_test(tc, test_the_envelope_gives_the_reference_result);
        tcase_add_test(tc, test_missing_ts_ms_is_now_and_missing_seq_the_default);
        tcase_add_test(tc, test_bug_reorder_into_an_unused_buffer);
        tcase_add_test(tc, test_deep_nesting_is_refused_as_by_the_reference);
        tcase_add_loop_test(tc, test_sample_lines_take_the_fast_path_with_the_same_bytes, 0,
                            sizeof(sample_sets) / sizeof(*sample_sets));
        tcase_add_test(tc, test_rule_errors_read_as_the_readme_shows);
        tcase_add_test(tc, test_mutated_lines_give_the_reference_result);
        tcase_add_test(tc, test_a_special_byte_anywhere_in_a_string_gives_the_reference_result);
        tcase_add_test(tc, test_workers_encode_in_parallel);
        tcase_add_test(tc, test_generated_ids_are_v4_and_distinct);
        suite_add_tcase(s, tc);
        SRunner *sr = srunner_create(s);
        srunner_run_all(sr, CK_NORMAL);
        int failed = srunner_ntests_failed(sr);
        srunner_free(sr);
        return failed ? 1 : 0;
}

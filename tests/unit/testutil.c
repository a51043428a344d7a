#include "testutil.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

const char *test_src_path(const char *rel) {
        static char path[4096];
        const char *root = getenv("SHAREBUS_SRC");
        snprintf(path, sizeof(path), "%s/%s", root && *root ? root : ".", rel);
        return path;
}

char *test_read_file(const char *path, size_t *len) {
        FILE *f = fopen(path, "rb");
        ck_assert_msg(f != NULL, "cannot open %s: %s", path, strerror(errno));
        fseek(f, 0, SEEK_END);
        long size = ftell(f);
        fseek(f, 0, SEEK_SET);
        char *buf = malloc((size_t)size + 1);
        ck_assert_ptr_nonnull(buf);
        size_t got = fread(buf, 1, (size_t)size, f);
        fclose(f);
        ck_assert_uint_eq(got, (size_t)size);
        buf[size] = 0;
        if (len)
                *len = (size_t)size;
        return buf;
}

const char *test_write_temp(const char *text, const char *suffix) {
        static char path[256];
        snprintf(path, sizeof(path), "/tmp/sharebus-test-XXXXXX%s", suffix);
        int fd = mkstemps(path, (int)strlen(suffix));
        ck_assert_msg(fd >= 0, "mkstemps: %s", strerror(errno));
        size_t len = strlen(text);
        ck_assert_int_eq(write(fd, text, len), (ssize_t)len);
        close(fd);
        return path;
}

char *test_q2j(const char *s) {
        char *c = strdup(s);
        ck_assert_ptr_nonnull(c);
        for (char *p = c; *p; p++)
                if (*p == '\'')
                        *p = '"';
        return c;
}

json_t *test_json_q(const char *text) {
        char *t = test_q2j(text);
        json_error_t e;
        json_t *j = json_loads(t, JSON_DECODE_ANY | JSON_ALLOW_NUL, &e);
        ck_assert_msg(j != NULL, "test JSON %s does not parse: %s", t, e.text);
        free(t);
        return j;
}

sb_schema_t *test_schema_q(const char *text) {
        char *t = test_q2j(text);
        sb_schema_t *s = NULL;
        TEST_CALL(sb_schema_new(t, strlen(t), &s, TEST_ERR));
        ck_assert_ptr_nonnull(s);
        free(t);
        return s;
}

int test_run_suite(Suite *s) {
        SRunner *sr = srunner_create(s);
        srunner_run_all(sr, CK_NORMAL);
        int failed = srunner_ntests_failed(sr);
        srunner_free(sr);
        return failed == 0 ? 0 : 1;
}

/* ---- Avro suites ---- */

char *test_json_dump(const json_t *j) {
        return json_dumps(j, JSON_COMPACT | JSON_SORT_KEYS | JSON_ENCODE_ANY);
}

/* Parses "02 61" into `out`; returns the length. */
size_t test_unhex(const char *hex, uint8_t *out, size_t size) {
        size_t n = 0;
        unsigned v;
        int used;
        while (sscanf(hex, " %2x%n", &v, &used) == 1) {
                ck_assert_uint_lt(n, size);
                out[n++] = (uint8_t)v;
                hex += used;
        }
        return n;
}

char *test_hexdump(const uint8_t *p, size_t n) {
        char *s = calloc(n * 3 + 1, 1);
        ck_assert_ptr_nonnull(s);
        for (size_t i = 0; i < n; i++)
                snprintf(s + i * 3, 4, "%02x%s", p[i], i + 1 < n ? " " : "");
        return s;
}

/* Encodes `value` with `schema`, fails the test on error. */
void test_encode_ok(sb_schema_t *s, const json_t *value, sb_buf_t *out) {
        sb_buf_init(out, 1 << 20);
        TEST_CALL(sb_avro_encode(s, value, out, TEST_ERR));
}

/* Encodes and decodes `value`; returns the decoded JSON (caller decrefs). */
json_t *test_round_trip(sb_schema_t *s, const json_t *value) {
        sb_buf_t buf;
        json_t *out = NULL;
        test_encode_ok(s, value, &buf);
        TEST_CALL(sb_avro_decode(s, buf.data, buf.len, &out, TEST_ERR));
        ck_assert_ptr_nonnull(out);
        sb_buf_free(&buf);
        return out;
}

void test_assert_json_eq(const json_t *got, const json_t *want) {
        if (!json_equal(got, want)) {
                char *g = test_json_dump(got), *w = test_json_dump(want);
                ck_abort_msg("got %s, want %s", g, w);
        }
}

/* An envelope-like record, so paths read as the producer's do. */
const char test_row_schema[] =
        "{'type':'record','name':'Outer','namespace':'test','fields':["
        " {'name':'after','type':['null',{'type':'record','name':'Row','fields':["
        "  {'name':'s','type':'string'},"
        "  {'name':'i','type':'int'},"
        "  {'name':'l','type':'long'},"
        "  {'name':'d','type':'double'},"
        "  {'name':'f','type':'float'},"
        "  {'name':'b','type':'boolean'},"
        "  {'name':'ns','type':['null','string'],'default':null},"
        "  {'name':'e','type':{'type':'enum','name':'E','symbols':['A','B']}},"
        "  {'name':'dt','type':{'type':'int','logicalType':'date'}},"
        "  {'name':'ts','type':{'type':'long','logicalType':'timestamp-millis'}},"
        "  {'name':'by','type':'bytes'},"
        "  {'name':'fx','type':{'type':'fixed','name':'F','size':4}},"
        "  {'name':'arr','type':{'type':'array','items':'int'}},"
        "  {'name':'m','type':{'type':'map','values':'long'}},"
        "  {'name':'rec','type':{'type':'record','name':'Inner','fields':[{'name':'x','type':'int'}]}},"
        "  {'name':'ref','type':'Inner'},"
        "  {'name':'u','type':['null','int','string','E']},"
        "  {'name':'nn','type':['int','string']}"
        " ]}]}]}";

const char test_row_value[] = "{'s':'x','i':1,'l':2,'d':1.5,'f':0.5,'b':true,'ns':null,'e':'A',"
                              "'dt':'2024-02-29','ts':'2024-02-29T12:34:56.789Z','by':'ab','fx':'abcd',"
                              "'arr':[1,2],'m':{'k':3},'rec':{'x':4},'ref':{'x':5},'u':7,'nn':8}";

void test_assert_invalid(sb_schema_t *s, const json_t *v, const char *path, const char *reason) {
        char err[512] = "";
        sb_buf_t buf;
        sb_buf_init(&buf, 1 << 20);
        sb_err_t rc = sb_avro_encode(s, v, &buf, err, sizeof(err));
        char *text = test_json_dump(v);
        ck_assert_msg(rc == SB_ERR_INVALID, "%s: got %s (%s), want SB_ERR_INVALID", text, sb_err2str(rc),
                      err);
        ck_assert_msg(strstr(err, path) != NULL, "%s: error '%s' does not name path '%s'", text, err, path);
        ck_assert_msg(strstr(err, reason) != NULL, "%s: error '%s' does not say '%s'", text, err, reason);
        free(text);
        sb_buf_free(&buf);
}

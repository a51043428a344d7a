/*
 * testutil: helpers shared by the unit suites.
 *
 * TEST_CALL(call) runs a libsharebus call that takes (errstr, errstr_size)
 * as its last two arguments through the macro's own buffer, and fails the
 * test with the stringified call and the error text if it does not return
 * SB_OK:   TEST_CALL(sb_schema_new(text, len, &schema, TEST_ERR));
 */
#ifndef SB_TESTUTIL_H
#define SB_TESTUTIL_H

#include <check.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "sb_avro.h"
#include "sb_buf.h"
#include "sb_error.h"

#define TEST_ERR test_errstr, sizeof(test_errstr)
#define TEST_CALL(call)                                                                                      \
        do {                                                                                                 \
                char test_errstr[1024] = "";                                                                 \
                sb_err_t test_rc = (call);                                                                   \
                ck_assert_msg(test_rc == SB_OK, "%s failed: %s: %s", #call, sb_err2str(test_rc),             \
                              test_errstr);                                                                  \
        } while (0)

/* Path of a file of the source tree: $SHAREBUS_SRC/rel (or ./rel).  Returns
 * a static buffer overwritten by the next call. */
const char *test_src_path(const char *rel);

/* Reads a whole file; the caller frees the result.  Fails the test if the
 * file cannot be read.  *len (if not NULL) gets the size. */
char *test_read_file(const char *path, size_t *len);

/* Writes `text` to a new temporary file and returns its path (static
 * buffer, overwritten by the next call).  `suffix` e.g. ".conf". */
const char *test_write_temp(const char *text, const char *suffix);

/* Test data is written with ' for " so it reads well in C strings.
 * test_q2j: a copy of `s` with every ' turned into " (caller frees).
 * test_json_q: that text parsed (any JSON value; caller json_decrefs).
 * test_schema_q: that text as an Avro schema (caller sb_schema_destroys).
 * Each fails the test if the text does not parse. */
char *test_q2j(const char *s);
json_t *test_json_q(const char *text);
sb_schema_t *test_schema_q(const char *text);

/* Helpers of the Avro suites. */
/* Compact JSON with sorted keys (caller frees). */
char *test_json_dump(const json_t *j);
/* Parses hex such as "02 61" into `out`; returns the length. */
size_t test_unhex(const char *hex, uint8_t *out, size_t size);
/* "02 61" for those bytes (caller frees). */
char *test_hexdump(const uint8_t *p, size_t n);
/* Encodes `value` into a new buffer `out` (caller sb_buf_frees); fails the
 * test on error. */
void test_encode_ok(sb_schema_t *s, const json_t *value, sb_buf_t *out);
/* Encodes and decodes `value`; returns the decoded JSON (caller decrefs). */
json_t *test_round_trip(sb_schema_t *s, const json_t *value);
void test_assert_json_eq(const json_t *got, const json_t *want);
/* Encoding `v` fails with SB_ERR_INVALID and an error naming `path` and
 * containing `reason`. */
void test_assert_invalid(sb_schema_t *s, const json_t *v, const char *path, const char *reason);
/* An envelope-like record {after: null | Row} with a field of every kind,
 * and a value of Row for it (quoted with '). */
extern const char test_row_schema[];
extern const char test_row_value[];

/* Runs a suite with Check's runner and returns the process exit code. */
int test_run_suite(Suite *s);

#endif

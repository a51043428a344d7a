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

/* Runs a suite with Check's runner and returns the process exit code. */
int test_run_suite(Suite *s);

#endif

/*
 * registry_json: small JSON helpers shared by the registry's store
 * (command results) and its HTTP layer (answers): Confluent's error body,
 * and the UTF-8 check that keeps a cut message a valid JSON string.
 */
#ifndef REGD_JSON_H
#define REGD_JSON_H

#include <jansson.h>
#include <stddef.h>

/* Returns a new {"error_code":code,"message":...} with, if `status` is not
 * 0, an "http":status member; NULL if out of memory.  The message is cut at
 * 1 KiB, to valid UTF-8. */
json_t *regd_error_json(int status, int code, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* Length of the longest prefix of s that is well-formed UTF-8 (no overlong
 * forms, surrogates or code points past U+10FFFF: what jansson accepts). */
size_t regd_utf8_prefix(const char *s);

/* Decodes %HH escapes (and, with `plus`, '+' as a space) from `s` into
 * `out` (which may be s; it needs strlen(s) + 1 bytes).  A malformed
 * escape stays as it is.  Returns -1 for a text that holds a NUL or is not
 * UTF-8 (no subject can be such), else 0.  The HTTP layer and the
 * authorization decode paths with this one function, so they agree. */
int regd_pct_decode(const char *s, char *out, int plus);

#endif

/*
 * regd_json: small text helpers shared by the registry's store (command
 * results), its HTTP layer and its authorization: the UTF-8 check that
 * keeps a cut message a valid JSON string, and percent-decoding.
 */
#ifndef REGD_JSON_H
#define REGD_JSON_H

#include <jansson.h>
#include <stddef.h>

/* Length of the longest prefix of s that is well-formed UTF-8 (no overlong
 * forms, surrogates or code points past U+10FFFF: what jansson accepts). */
size_t regd_utf8_prefix(const char *s);

/* Decodes %HH escapes (and, with `plus`, '+' as a space) from `s` into
 * `out` (which may be s; it needs strlen(s) + 1 bytes).  Returns 0; -2 for
 * a malformed escape ("%ZZ", "%2", a '%' at the end: Jetty's 400); -1 for a
 * text that holds a NUL or is not UTF-8 (no subject can be such).  The HTTP layer and the
 * authorization decode paths with this one function, so they agree. */
int regd_pct_decode(const char *s, char *out, int plus);

#endif

/*
 * registry_json: small JSON helpers shared by the registry's store
 * (command results) and its HTTP layer (answers): Confluent's error body,
 * and the UTF-8 check that keeps a cut message a valid JSON string.
 */
#ifndef SB_REGISTRY_JSON_H
#define SB_REGISTRY_JSON_H

#include <jansson.h>
#include <stddef.h>

/* Returns a new {"error_code":code,"message":...} with, if `status` is not
 * 0, an "http":status member; NULL if out of memory.  The message is cut at
 * 1 KiB, to valid UTF-8. */
json_t *sb_registry_error_json(int status, int code, const char *fmt, ...)
        __attribute__((format(printf, 3, 4)));

/* Length of the longest prefix of s that is well-formed UTF-8 (no overlong
 * forms, surrogates or code points past U+10FFFF: what jansson accepts). */
size_t sb_registry_utf8_prefix(const char *s);

#endif

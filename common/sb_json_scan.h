/*
 * sb_json_scan: the JSON text lexing primitives of the fast paths
 * (sb_avro_text, the producer's envelope reader): whitespace, literals,
 * strings (escapes, UTF-8), numbers, member names, read straight from the
 * text with no allocation and no JSON tree.
 *
 * They accept exactly what jansson's lexer accepts, and read it as jansson
 * does; anything else, and anything odd, they decline (-1) without naming
 * an error: the caller then runs its reference path (jansson), which
 * accepts or names the error.
 *
 * Bounds: every function reads only between *p and `end`, never past `end`
 * and never needing a NUL terminator; nothing is allocated and nothing is
 * kept: results point into the caller's text (valid while it is).
 * Each function returns 0 and moves *p past what it read, or -1 (declined,
 * *p may have moved).
 */
#ifndef SB_JSON_SCAN_H
#define SB_JSON_SCAN_H

#include <stddef.h>
#include <stdint.h>

/* A scanned string: its raw bytes point into the caller's text. */
typedef struct {
        const char *raw; /* between the quotes */
        size_t raw_len;
        size_t len; /* decoded */
        int escapes;
} sb_json_scan_str_t;

/* A scanned number: an integer unless it has a fraction or an exponent. */
typedef struct {
        int is_int;
        int64_t i;
        double d;
} sb_json_scan_num_t;

/* Skips JSON whitespace; returns the next byte, or -1 at the end. */
int sb_json_scan_ws_skip(const char **p, const char *end);
/* Inline for the usual case, compact JSON: no whitespace to skip. */
static inline int sb_json_scan_ws(const char **p, const char *end) {
        if (*p < end && (unsigned char)**p > ' ')
                return (unsigned char)**p;
        return sb_json_scan_ws_skip(p, end);
}
/* The `len` bytes of `word` at *p (no whitespace skipped). */
int sb_json_scan_literal(const char **p, const char *end, const char *word, size_t len);
/* The literal null (leading whitespace skipped). */
int sb_json_scan_null(const char **p, const char *end);
/* Scans the string at *p (at its opening quote): validates it (escapes,
 * UTF-8 as RFC 3629) and measures its decoded length into s. */
int sb_json_scan_string(const char **p, const char *end, sb_json_scan_str_t *s);
/* Writes the decoded bytes of a scanned string (s->len of them: the caller
 * provides that much room at o). */
void sb_json_scan_decode(const sb_json_scan_str_t *s, unsigned char *o);
/* A string without escapes (its raw bytes, validated UTF-8). */
int sb_json_scan_plain_string(const char **p, const char *end, const char **s, size_t *len);
/* A member name without escapes (validated), then ':'. */
int sb_json_scan_name(const char **p, const char *end, const char **name, size_t *len);
/* A JSON number at *p (no whitespace skipped) as jansson reads it: an
 * integer (strtoll) unless it has a fraction or an exponent, then a real
 * (strtod).  Declines what jansson refuses (leading zeros, overflow). */
int sb_json_scan_number(const char **p, const char *end, sb_json_scan_num_t *n);
/* An integer (no fraction or exponent) that fits in 64 bits. */
int sb_json_scan_integer(const char **p, const char *end, int64_t *v);

#endif

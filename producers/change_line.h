/*
 * change_line: one change event as a department writes it, one JSON object
 * per line (JSON Lines):
 *
 *   {"op":"c|u|d|r", "key":{...}, "before":{...}|null, "after":{...}|null,
 *    "ts_ms": 1700000000000 (optional, default now),
 *    "seq": 42 (optional, default the line number)}
 *
 * c and r need `after` and no `before`; u needs `after`; d needs no `after`.
 * Key fields present in before/after must equal the key.  Schema fit is
 * checked later, by the Avro encoder.
 */
#ifndef SB_CHANGE_LINE_H
#define SB_CHANGE_LINE_H

#include <jansson.h>
#include <stdint.h>

#include "sb_error.h"

typedef struct {
        json_t *doc; /* owned: the whole parsed line */
        char op;
        json_t *key;    /* borrowed from doc */
        json_t *before; /* borrowed from doc, or NULL */
        json_t *after;  /* borrowed from doc, or NULL */
        int64_t ts_ms;  /* -1 if not given */
        int64_t seq;    /* -1 if not given */
} sb_change_line_t;

/* Parses one line.  On success the caller calls sb_change_line_clear. */
sb_err_t sb_change_line_parse(const char *line, size_t len, sb_change_line_t *out, char *errstr,
                              size_t errstr_size);
void sb_change_line_clear(sb_change_line_t *cl);

/* 1 if the line holds nothing but JSON whitespace (space, tab, CR, LF), or
 * nothing at all: such a line is skipped, not an error. */
int sb_change_line_is_blank(const char *line, size_t len);

#endif

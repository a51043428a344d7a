/*
 * json_text: JSON text written directly into a buffer, for sources that
 * turn rows into change lines without building a JSON tree per row.
 *
 * A record a source cannot turn into a change line (a line or row over the
 * size bound, a CSV row with a stray quote, a cell that is not UTF-8) is
 * still handed to the producer, as the line json_text_error_line writes:
 *   {"source_error":"<reason>"}
 * change_line refuses it ("unknown member 'source_error'"), so the producer
 * rejects the record like any other bad line and counts it, and the reject
 * keeps the text, which says what was wrong.  Nothing is dropped silently.
 */
#ifndef SB_PRODUCERS_JSON_TEXT_H
#define SB_PRODUCERS_JSON_TEXT_H

#include <stddef.h>

#include "sb_buf.h"
#include "sb_error.h"

/* The member of an error line. */
#define JSON_TEXT_ERROR_MEMBER "source_error"

/* Appends `s` (`len` bytes) as a JSON string, quotes included.
 * SB_ERR_INVALID (nothing appended) if it is not valid UTF-8 or holds a
 * NUL; SB_ERR_NOMEM if the buffer is full. */
sb_err_t json_text_string(sb_buf_t *out, const char *s, size_t len);

/* Resets `out` and writes the error line for `reason` (at most its first
 * 1000 bytes, invalid UTF-8 replaced by '?'). */
sb_err_t json_text_error_line(sb_buf_t *out, const char *reason);

/* 1 if the `len` bytes at `s` are valid UTF-8 without NUL. */
int json_text_valid_utf8(const char *s, size_t len);

#endif

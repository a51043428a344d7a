/*
 * sb_datetime: the text forms of Avro's date and timestamp-millis logical
 * types, in the proleptic Gregorian calendar, UTC.
 *
 *   date:             "YYYY-MM-DD"               <-> days since 1970-01-01
 *   timestamp-millis: "YYYY-MM-DDTHH:MM:SS[.mmm]Z" <-> ms since the epoch
 *
 * Parsing is strict (exactly four year digits, two for each other field, no
 * signs or blanks, real calendar days) so that a value is never silently
 * read as another; formatting covers every int64 input.
 */
#ifndef SB_DATETIME_H
#define SB_DATETIME_H

#include <stddef.h>
#include <stdint.h>

/* Parses exactly the `len` bytes at `s` as "YYYY-MM-DD".  Returns 1 and sets
 * *days, or 0 if the text is not such a date. */
int sb_datetime_parse_date(const char *s, size_t len, int64_t *days);
/* Parses exactly `len` bytes as "YYYY-MM-DDTHH:MM:SS[.fff]Z" (a blank for
 * the T and +00:00 for the Z are accepted; digits past milliseconds are
 * dropped).  Returns 1 and sets *ms, or 0. */
int sb_datetime_parse_timestamp_ms(const char *s, size_t len, int64_t *ms);

/* "YYYY-MM-DD" (days since the epoch) and "YYYY-MM-DDTHH:MM:SS.mmmZ" (ms
 * since the epoch) into `out` (32 bytes are always enough). */
void sb_datetime_format_date(int64_t days, char *out, size_t size);
void sb_datetime_format_timestamp_ms(int64_t ms, char *out, size_t size);

#endif

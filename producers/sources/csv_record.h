/*
 * csv_record: reads one RFC 4180 record from a stream, for source_csv.
 * Fields are separated by a one-byte delimiter, records end with LF or
 * CRLF; a field in double quotes may hold the delimiter, CR, LF and doubled
 * quotes ("" for one ").  The reader only splits bytes into fields: what
 * the fields mean (columns, types) is source_csv's.
 *
 * Bounds: a record of at most `max_bytes` bytes as read (quotes and line
 * end included) and CSV_RECORD_MAX_FIELDS fields; past either, the record
 * is bad.  A bad record is still read to its end (quotes still count) and
 * its fields are dropped, so the next read starts at the next record.
 */
#ifndef SB_PRODUCERS_CSV_RECORD_H
#define SB_PRODUCERS_CSV_RECORD_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "sb_error.h"

/* Fields of one record, at most. */
#define CSV_RECORD_MAX_FIELDS 1024

typedef struct csv_record_s csv_record_t;

typedef enum { CSV_RECORD_OK, CSV_RECORD_EOF, CSV_RECORD_BAD } csv_record_status_t;

/* A reader for records separated by `delim` of at most `max_bytes` bytes.
 * *out is the caller's, freed with csv_record_destroy. */
sb_err_t csv_record_new(char delim, size_t max_bytes, csv_record_t **out, char *errstr, size_t errstr_size);
/* Frees r and its fields; NULL is fine. */
void csv_record_destroy(csv_record_t *r);

/* Reads one record from f, replacing the previous one.  *consumed is the
 * bytes read; *line is incremented for every LF read (inside quotes too).
 * CSV_RECORD_EOF when f had no byte left (nothing read; check ferror);
 * CSV_RECORD_BAD with the reason in `why` (no fields kept). */
csv_record_status_t csv_record_read(csv_record_t *r, FILE *f, unsigned long *line, uint64_t *consumed,
                                    char *why, size_t why_size);

/* The fields of the record last read (CSV_RECORD_OK). */
size_t csv_record_count(const csv_record_t *r);
/* Field i, NUL-terminated after csv_record_len(r, i) bytes (it may hold a
 * NUL before); r's, valid until the next read. */
const char *csv_record_cell(const csv_record_t *r, size_t i);
size_t csv_record_len(const csv_record_t *r, size_t i);
/* 1 if field i was in quotes ("" is a quoted empty field, not an empty one). */
int csv_record_quoted(const csv_record_t *r, size_t i);
/* 1 if the record is an empty line (one empty unquoted field). */
int csv_record_blank(const csv_record_t *r);

#endif

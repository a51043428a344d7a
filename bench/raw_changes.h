/*
 * raw_changes: the changes of a JSON-lines file (sharebus-sample's) decoded
 * into memory for the subscriber's baselines (upsert_raw.h): each change's
 * op and the values of its row (the after image; for a delete the key), in
 * the column order of the first change.  Read before the timing starts.
 */
#ifndef SB_BENCH_RAW_CHANGES_H
#define SB_BENCH_RAW_CHANGES_H

#include <jansson.h>
#include <stddef.h>

/* Columns per row, and the line length read, are bounded: a file that
 * breaks them is not sharebus-sample's. */
#define RAW_COLUMNS_MAX 256
#define RAW_LINE_MAX (1 << 20)

typedef struct {
        enum { RAW_NULL, RAW_INT, RAW_REAL, RAW_TEXT } kind;
        long long i;
        double d;
        char *s; /* owned */
        size_t len;
} raw_val_t;

typedef struct {
        char op;
        raw_val_t *vals; /* owned: the row's columns, or the key's for a delete */
} raw_change_t;

typedef struct {
        const char *cols[RAW_COLUMNS_MAX]; /* borrowed from the first line's document */
        size_t ncols;
        const char *keys[RAW_COLUMNS_MAX];
        size_t nkeys;
        json_t *first; /* owned: the document the names come from */
        raw_change_t *changes;
        size_t n, cap;
} raw_set_t;

/* Reads the changes of `lines_path` into *set (zeroed first; the caller
 * frees it with raw_changes_free, also on failure).  0, or -1 with a
 * message on stderr naming `who`. */
int raw_changes_read(const char *lines_path, const char *who, raw_set_t *set);
void raw_changes_free(raw_set_t *set);

/* Seconds of a monotonic clock. */
double raw_now_s(void);

#endif

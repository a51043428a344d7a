/*
 * progress: how far a run of sharebus-producer has come, on standard error.
 *
 * On a terminal, one line redrawn in place (at most every
 * PROGRESS_REDRAW_MS): a bar with the share of the input read when its size
 * is known (source_stats bytes_total / bytes_done), the records published
 * and rejected, the rate and the time left.  Anywhere else (a log file,
 * systemd's journal) nothing while running, and one summary line at the
 * end, so that logs stay free of control characters.
 *
 * The formatting functions are pure, so they are tested without a terminal.
 */
#ifndef SB_PRODUCERS_PROGRESS_H
#define SB_PRODUCERS_PROGRESS_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "sb_error.h"
#include "sources/source.h"

#define PROGRESS_REDRAW_MS 100
#define PROGRESS_BAR_WIDTH 24

typedef struct progress_s progress_t;

typedef struct {
        int64_t bytes_total; /* -1 when unknown */
        int64_t bytes_done;  /* -1 when unknown */
        uint64_t records;    /* published */
        uint64_t rejected;
        int64_t elapsed_ms;
} progress_snapshot_t;

/* A progress display writing to `out` (not owned), as a terminal when
 * `terminal` is 1 (progress_is_terminal tells), starting at `now_ms`
 * (monotonic).  *p is new; the caller frees it with progress_destroy. */
sb_err_t progress_new(FILE *out, int terminal, int64_t now_ms, progress_t **p, char *errstr,
                      size_t errstr_size);
void progress_destroy(progress_t *p);
/* 1 if `f` is a terminal. */
int progress_is_terminal(FILE *f);

/* Redraws the line when on a terminal and PROGRESS_REDRAW_MS have passed
 * since the last redraw. */
void progress_update(progress_t *p, const source_stats_t *st, uint64_t records, uint64_t rejected,
                     int64_t now_ms);
/* The last figures: on a terminal the final line and a newline, elsewhere
 * the summary line. */
void progress_finish(progress_t *p, const source_stats_t *st, uint64_t records, uint64_t rejected,
                     int64_t now_ms);

/* "0 B", "999 B", "1.5 KiB", "12.0 MiB", "3.25 GiB" (binary units). */
void progress_format_bytes(int64_t n, char *buf, size_t size);
/* "12s", "3m05s", "2h07m", "4d03h"; "--" for a negative or unknown time. */
void progress_format_duration(int64_t seconds, char *buf, size_t size);
/* "1234567" as "1,234,567". */
void progress_format_count(uint64_t n, char *buf, size_t size);
/* The terminal line (no control characters), e.g.
 *   "[##########--------------]  41.7%  1.0 MiB/2.4 MiB  12,000 records  3,000/s  ETA 5s"
 * or, the size unknown, "12,000 records  3,000/s  1.0 MiB read".  Returns
 * the length, as snprintf. */
int progress_format_line(const progress_snapshot_t *s, char *buf, size_t size);
/* The summary line, e.g. "published 12,000 records (3 rejected) from 2.4 MiB
 * in 4s, 3,000 records/s". */
int progress_format_summary(const progress_snapshot_t *s, char *buf, size_t size);

#endif

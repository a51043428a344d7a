/*
 * lag_dashboard: the web page sharebus-lag serves at / (no CDN: every file
 * comes from the daemon).  The page's files (index.html, dashboard.js,
 * dashboard.css, and uPlot's uPlot.iife.min.js and uPlot.min.css, which the
 * set-up fetches from npm) are read once at start from a folder, by
 * default <program's folder>/../share/sharebus/dashboard: build/share/...
 * in the source tree, PREFIX/share/... once installed.  Only those names
 * are served, so no request reaches another file.
 */
#ifndef SB_LAG_DASHBOARD_H
#define SB_LAG_DASHBOARD_H

#include <stddef.h>

#include "sb_buf.h"
#include "sb_error.h"

#define LAG_DASHBOARD_MAX_FILE (4 * 1024 * 1024)

typedef struct lag_dashboard_s lag_dashboard_t;

/* The dashboard of the files in `dir` (NULL or "": the default folder) into
 * a new *out the caller destroys.  SB_ERR_NOT_FOUND when a file is missing
 * or unreadable, SB_ERR_INVALID when one is larger than
 * LAG_DASHBOARD_MAX_FILE; errstr names the file. */
sb_err_t lag_dashboard_new(const char *dir, lag_dashboard_t **out, char *errstr, size_t errstr_size);
void lag_dashboard_destroy(lag_dashboard_t *d);

/* The folder the files were read from. */
const char *lag_dashboard_dir(const lag_dashboard_t *d);

/* Answers GET `path` ("/" or "/dashboard/<file>"): appends the file to
 * body, sets *content_type and returns 200; 0 for any other path. */
unsigned lag_dashboard_answer(const lag_dashboard_t *d, const char *path, sb_buf_t *body,
                              const char **content_type);

#endif

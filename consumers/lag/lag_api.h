/*
 * lag_api: sharebus-lag's pages: the JSON answers from a monitor
 * (lag_monitor.h), its history (lag_history.h) and the scorecard
 * (lag_scorecard.h), and the dashboard (lag_dashboard.h) at /:
 *
 *   /api/v1/groups           {"groups":[{"group","status","reason","state","lag",
 *                             "lag_seconds","partitions"}, ...]}  (partitions: a count)
 *   /api/v1/groups/<group>   {"group",...,"partitions":[{"topic","partition","status",
 *                             "reason","lag","lag_seconds","committed","log_end"}, ...]}
 *   /api/v1/history          the groups' lag over the kept samples (lag_history_render)
 *   /api/v1/scorecard        the data-sharing scorecard (lag_scorecard_render)
 *
 * lag_seconds is null when unknown, as committed and log_end are.
 */
#ifndef SB_LAG_API_H
#define SB_LAG_API_H

#include "lag/lag_dashboard.h"
#include "lag/lag_history.h"
#include "lag/lag_monitor.h"
#include "lag/lag_scorecard.h"
#include "sb_buf.h"

/* What the pages are made of (all borrowed; history, scorecard and
 * dashboard may be NULL: none yet, or none configured). */
typedef struct {
        const lag_monitor_t *monitor;
        const lag_history_t *history;
        const lag_scorecard_t *scorecard;
        const lag_dashboard_t *dashboard;
        const char *no_dashboard; /* why there is none, for the 404 of / */
} lag_api_sources_t;

/* Appends the answer for `path` to `body` and sets *content_type; returns
 * the HTTP status (200, 404 with {"error":...} for a group not watched or
 * no dashboard, 0 for a path that is none of these, 500 when out of
 * memory). */
unsigned lag_api_answer(const lag_api_sources_t *src, const char *path, sb_buf_t *body,
                        const char **content_type);

#endif

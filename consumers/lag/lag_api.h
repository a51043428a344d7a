/*
 * lag_api: sharebus-lag's JSON answers, from a monitor (lag_monitor.h):
 *
 *   /api/v1/groups           {"groups":[{"group","status","reason","state","lag",
 *                             "lag_seconds","partitions"}, ...]}  (partitions: a count)
 *   /api/v1/groups/<group>   {"group",...,"partitions":[{"topic","partition","status",
 *                             "reason","lag","lag_seconds","committed","log_end"}, ...]}
 *
 * lag_seconds is null when unknown, as committed and log_end are.
 */
#ifndef SB_LAG_API_H
#define SB_LAG_API_H

#include "lag/lag_monitor.h"
#include "sb_buf.h"

/* Appends the answer for `path` to `body`; returns the HTTP status (200,
 * 404 with {"error":...} for a group not watched, 0 for a path that is not
 * the API's, 500 when out of memory). */
unsigned lag_api_answer(const lag_monitor_t *m, const char *path, sb_buf_t *body);

#endif

/*
 * lag_alert: tells a webhook of each change of a group's status, as an
 * HTTP POST of a JSON body:
 *
 *   {"group":"sharebus.tax","status":"STALL","previous":"OK",
 *    "reason":"partition 2 of civil.resident: ...","lag":12408,
 *    "lag_seconds":251.3,"time":"2026-12-07T15:53:41.670Z"}
 *
 * from a thread of its own, so that a slow or failing receiver never holds
 * up the sampling: a POST answered with anything but 2xx (or not at all
 * within timeout_ms) is tried again after backoff_ms, doubling up to
 * LAG_ALERT_BACKOFF_MAX_MS, `retries` more times; then it is given up and
 * logged.  At most LAG_ALERT_QUEUE changes wait; past that the oldest is
 * dropped (and logged).
 */
#ifndef SB_LAG_ALERT_H
#define SB_LAG_ALERT_H

#include <stddef.h>
#include <stdint.h>

#include "lag/lag_status.h"
#include "sb_error.h"
#include "sb_log.h"

#define LAG_ALERT_QUEUE 1000
#define LAG_ALERT_BACKOFF_MAX_MS 30000

typedef struct lag_alert_s lag_alert_t;

/* A sender to `url` (copied; http or https).  *out is a new sender the
 * caller destroys; its thread runs until then.  SB_ERR_NOMEM, SB_ERR_IO
 * (no thread). */
sb_err_t lag_alert_new(const char *url, int retries, int backoff_ms, int timeout_ms, sb_log_t *log,
                       lag_alert_t **out, char *errstr, size_t errstr_size);
/* Stops the thread (a POST under way ends within timeout_ms) and frees the
 * sender; what still waits is dropped, and logged.  NULL is a no-op. */
void lag_alert_destroy(lag_alert_t *a);

/* Queues the change of `group` from `was` to `now` (strings copied). */
void lag_alert_notify(lag_alert_t *a, const char *group, lag_status_t was, lag_status_t now,
                      const char *reason, int64_t lag, double lag_seconds, int64_t at_ms);

/* Changes delivered (2xx), and given up after every try. */
uint64_t lag_alert_delivered(lag_alert_t *a);
uint64_t lag_alert_given_up(lag_alert_t *a);

#endif

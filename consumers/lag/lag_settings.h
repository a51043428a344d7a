/*
 * lag_settings: the one table of sharebus-lag's settings (--help,
 * --help-markdown for the README, config checking).
 */
#ifndef SB_LAG_SETTINGS_H
#define SB_LAG_SETTINGS_H

#include <stddef.h>

#include "lag/lag_monitor.h"
#include "sb_config.h"

extern const sb_setting_t sb_lag_settings[];
extern const size_t sb_lag_settings_count;

/* Gives monitor `m` the groups' thresholds of setting `thresholds`.
 * SB_ERR_CONFIG naming file:line for a malformed one, SB_ERR_NOMEM. */
sb_err_t lag_settings_thresholds(const sb_config_t *cfg, lag_monitor_t *m, char *errstr, size_t errstr_size);

#endif

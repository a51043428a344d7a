/*
 * lag_settings: the one table of sharebus-lag's settings (--help,
 * --help-markdown for the README, config checking).
 */
#ifndef SB_LAG_SETTINGS_H
#define SB_LAG_SETTINGS_H

#include <stddef.h>

#include "sb_config.h"

extern const sb_setting_t sb_lag_settings[];
extern const size_t sb_lag_settings_count;

#endif

/*
 * subscriber_settings: the one table of sharebus-subscriber's settings.  --help,
 * --help-markdown (the README's configuration reference), config checking
 * and the tests of the example configs all read it.
 */
#ifndef SB_SUBSCRIBER_SETTINGS_H
#define SB_SUBSCRIBER_SETTINGS_H

#include <stddef.h>

#include "sb_config.h"

extern const sb_setting_t sb_subscriber_settings[];
extern const size_t sb_subscriber_settings_count;

/* Checks the values the table cannot: `target` is a kind this build has.
 * SB_ERR_CONFIG with errstr naming file:line and the setting. */
sb_err_t sb_subscriber_settings_check(const sb_config_t *cfg, char *errstr, size_t errstr_size);

#endif

/*
 * regd_settings: the one table of sharebus-registry's settings.  --help,
 * --help-markdown (the README's configuration reference), config checking
 * and the tests of the example configs all read it.
 */
#ifndef REGD_SETTINGS_H
#define REGD_SETTINGS_H

#include <stddef.h>

#include "sb_config.h"

extern const sb_setting_t regd_settings[];
extern const size_t regd_settings_count;

#endif

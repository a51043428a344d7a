/*
 * registry_settings: the one table of sharebus-registry's settings.  --help,
 * --help-markdown (the README's configuration reference), config checking
 * and the tests of the example configs all read it.
 */
#ifndef SB_REGISTRY_SETTINGS_H
#define SB_REGISTRY_SETTINGS_H

#include <stddef.h>

#include "sb_config.h"

extern const sb_setting_t sb_registry_settings[];
extern const size_t sb_registry_settings_count;

#endif

/*
 * sb_registry_settings: how a program logs in to the schema registry, for
 * every program that is a registry client (sharebus-producer,
 * sharebus-subscriber).  The rows of their settings tables come from one
 * macro and one function applies the settings to a client, so the two
 * programs cannot drift apart in names, help or checks.
 *
 * The password is best kept out of the config: registry_password_file names
 * a file whose first line is the password, which can then have stricter
 * permissions than the config and be mounted as a secret.  Files named by
 * the settings are checked when the program starts (readable; a password in
 * it; TLS files that parse as PEM and a key that matches its certificate),
 * so a mistake is a config error at start, not a failed request later.
 */
#ifndef SB_REGISTRY_SETTINGS_H
#define SB_REGISTRY_SETTINGS_H

#include <stddef.h>

#include "sb_config.h"
#include "sb_error.h"
#include "sb_registry_client.h"

/* Rows for a program's sb_setting_t table (each program lists them after
 * its registry_url). */
/* clang-format off */
#define SB_REGISTRY_CLIENT_SETTINGS                                                                          \
        {"registry_user", SB_SETTING_STRING, 0, "", 0, 0,                                                    \
         "user name for HTTP Basic authentication to the registry (a principal of its users_file); "         \
         "empty: anonymous"},                                                                                \
        {"registry_password", SB_SETTING_STRING, 0, "", 0, 0,                                                \
         "password of registry_user; registry_password_file is preferred, so that the secret need not "      \
         "sit in this file"},                                                                                \
        {"registry_password_file", SB_SETTING_STRING, 0, "", 0, 0,                                           \
         "file whose first line is the password of registry_user (instead of registry_password)"},           \
        {"registry_ca_file", SB_SETTING_STRING, 0, "", 0, 0,                                                 \
         "PEM CA certificates trusted for an https:// registry instead of the system's"},                    \
        {"registry_cert_file", SB_SETTING_STRING, 0, "", 0, 0,                                               \
         "PEM client certificate for an https:// registry; its subject CN is the principal it logs in as"},  \
        {"registry_key_file", SB_SETTING_STRING, 0, "", 0, 0,                                                \
         "PEM private key (not encrypted) of registry_cert_file; empty: the key is in registry_cert_file"}
/* clang-format on */

/* Applies the registry_* settings of `cfg` (a config loaded with a table
 * holding SB_REGISTRY_CLIENT_SETTINGS) to `rc` with
 * sb_registry_client_set_auth and sb_registry_client_set_tls, after checking
 * the files they name.  Returns SB_OK; SB_ERR_CONFIG with errstr naming the
 * config file, the setting and why (exit 2); SB_ERR_NOMEM.  The password is
 * copied into `rc`; no copy of it is left elsewhere. */
sb_err_t sb_registry_settings_apply(sb_registry_client_t *rc, const sb_config_t *cfg, char *errstr,
                                    size_t errstr_size);

/* Builds the registry client of a program from `cfg`: registry_url, then
 * the registry_* settings as sb_registry_settings_apply applies them.
 * On success *out is a new client (sb_registry_client_destroy).  Errors:
 * SB_ERR_CONFIG with errstr naming the config file and setting (exit 2),
 * SB_ERR_NOMEM. */
sb_err_t sb_registry_settings_client_new(const sb_config_t *cfg, sb_registry_client_t **out, char *errstr,
                                         size_t errstr_size);

#endif

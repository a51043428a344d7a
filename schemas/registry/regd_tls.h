/*
 * regd_tls: sharebus-registry's TLS: the daemon's certificate and key and
 * the CA its clients' certificates must chain to, read and checked by
 * sb_tls under the registry's setting names (tls_cert_file, tls_key_file,
 * tls_client_ca_file), and the verified client certificate's CN, which
 * names a principal (regd_users.h) without a password.
 */
#ifndef REGD_TLS_H
#define REGD_TLS_H

#include <stddef.h>

#include "sb_error.h"
#include "sb_tls.h"

struct MHD_Connection;
struct MHD_OptionItem;

/* The registry's TLS is an sb_tls handle. */
typedef sb_tls_t regd_tls_t;

/* sb_tls_new with the registry's setting names: reads the PEM files (each
 * at most 1 MiB) into a new *out the caller destroys, checking that the
 * key fits the certificate.  `client_ca_file` may be NULL or "": no client
 * certificates are asked for.  *out NULL and errstr naming the setting and
 * the file on failure. */
sb_err_t regd_tls_new(const char *cert_file, const char *key_file, const char *client_ca_file,
                      regd_tls_t **out, char *errstr, size_t errstr_size);
/* Frees `t`, wiping the key (sb_tls_destroy).  NULL is a no-op. */
void regd_tls_destroy(regd_tls_t *t);

/* Fills items[] (room for REGD_TLS_MHD_OPTIONS entries, the last one
 * MHD_OPTION_END) for MHD_OPTION_ARRAY (sb_tls_mhd_options); the daemon
 * also needs MHD_USE_TLS in its flags.  The items point into `t`, which
 * must outlive the daemon. */
#define REGD_TLS_MHD_OPTIONS SB_TLS_MHD_OPTIONS
void regd_tls_mhd_options(const regd_tls_t *t, struct MHD_OptionItem *items);

/* The subject CN of the connection's client certificate, checked against
 * the daemon's client CA (MHD_OPTION_HTTPS_MEM_TRUST), its validity dates
 * and, if it has one, its extended key usage (TLS client).  Returns SB_OK;
 * SB_ERR_NOT_FOUND when the connection is not TLS or sent no certificate;
 * SB_ERR_INVALID with the reason when the certificate does not verify or
 * has no single CN (answer 401). */
sb_err_t regd_tls_cert_cn(struct MHD_Connection *c, char *cn, size_t cn_size, char *errstr,
                          size_t errstr_size);

#endif

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

/* sb_tls_new with the registry's setting names: reads the PEM files (each
 * at most 1 MiB) into a new *out the caller destroys with sb_tls_destroy
 * (the daemon's MHD options: sb_tls_mhd_options), checking that the key
 * fits the certificate.  `client_ca_file` may be NULL or "": no client
 * certificates are asked for.  *out NULL and errstr naming the setting and
 * the file on failure. */
sb_err_t regd_tls_new(const char *cert_file, const char *key_file, const char *client_ca_file, sb_tls_t **out,
                      char *errstr, size_t errstr_size);

/* The subject CN of the connection's client certificate, checked against
 * the daemon's client CA (MHD_OPTION_HTTPS_MEM_TRUST), its validity dates
 * and, if it has one, its extended key usage (TLS client).  Returns SB_OK;
 * SB_ERR_NOT_FOUND when the connection is not TLS or sent no certificate;
 * SB_ERR_INVALID with the reason when the certificate does not verify or
 * has no single CN (answer 401). */
sb_err_t regd_tls_cert_cn(struct MHD_Connection *c, char *cn, size_t cn_size, char *errstr,
                          size_t errstr_size);

#endif

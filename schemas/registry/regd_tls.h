/*
 * regd_tls: sharebus-registry's TLS: the daemon's certificate and key, the
 * CA its clients' certificates must chain to, and the verified client
 * certificate's CN, which names a principal (regd_users.h) without a
 * password.
 */
#ifndef REGD_TLS_H
#define REGD_TLS_H

#include <stddef.h>

#include "sb_error.h"

struct MHD_Connection;
struct MHD_OptionItem;

typedef struct regd_tls_s regd_tls_t;

/* Reads the PEM files (each at most 1 MiB) into a new *out the caller
 * destroys, checking that the key fits the certificate.  `client_ca_file`
 * may be NULL or "": no client certificates are asked for.  *out NULL and
 * errstr naming the file on failure. */
sb_err_t regd_tls_new(const char *cert_file, const char *key_file, const char *client_ca_file,
                      regd_tls_t **out, char *errstr, size_t errstr_size);
/* Frees `t`, wiping the key. */
void regd_tls_destroy(regd_tls_t *t);

/* Fills items[] (room for REGD_TLS_MHD_OPTIONS entries, the last one
 * MHD_OPTION_END) for MHD_OPTION_ARRAY; the daemon also needs MHD_USE_TLS in
 * its flags.  The items point into `t`, which must outlive the daemon. */
#define REGD_TLS_MHD_OPTIONS 4
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

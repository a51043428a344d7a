/*
 * sb_tls: a daemon's TLS server identity for libmicrohttpd (GnuTLS): its
 * certificate (chain) and private key, and optionally the CA that client
 * certificates must chain to, read from PEM files and checked once, at
 * start, so that a bad file is named by the setting it came from rather
 * than found as a failed listen.  sb_http_server (every daemon's /metrics
 * and /healthz, setting metrics_tls_cert_file) and sharebus-registry
 * (regd_tls: tls_cert_file, and the client certificate's CN) serve HTTPS
 * through it.
 *
 * The handle holds the PEM text, which libmicrohttpd's options point into;
 * the key's copy is wiped when the handle is destroyed.
 */
#ifndef SB_TLS_H
#define SB_TLS_H

#include <stddef.h>

#include "sb_error.h"

struct MHD_OptionItem;

#define SB_TLS_MAX_PEM (1024 * 1024) /* bytes of one PEM file */

/* The files, and the names of the settings they came from, which every
 * error message uses ("tls_cert_file", "metrics_tls_cert_file"); a NULL
 * name is "cert_file", "key_file" or "client_ca_file".  The strings are
 * read during sb_tls_new only (not kept). */
typedef struct {
        const char *cert_file;      /* PEM certificate, then its chain */
        const char *key_file;       /* PEM private key of cert_file, not encrypted */
        const char *client_ca_file; /* PEM CA certificates; NULL or "": no client certificates asked */
        const char *cert_setting, *key_setting, *client_ca_setting;
} sb_tls_files_t;

typedef struct sb_tls_s sb_tls_t;

/* Reads the files (each at most SB_TLS_MAX_PEM bytes) into a new *out, which
 * the caller owns and frees with sb_tls_destroy, after checking that the
 * certificate and the key are PEM, that the key is the certificate's, and
 * that the client CA file holds at least one certificate.  Errors (*out
 * NULL): SB_ERR_CONFIG, errstr naming the setting and the file, e.g.
 * "tls_cert_file /x.crt: No such file or directory", or, for a certificate
 * without its key or a key without its certificate, "TLS needs both
 * tls_cert_file and tls_key_file"; SB_ERR_NOMEM. */
sb_err_t sb_tls_new(const sb_tls_files_t *files, sb_tls_t **out, char *errstr, size_t errstr_size);
/* Frees `t`, wiping its copy of the key.  NULL is a no-op. */
void sb_tls_destroy(sb_tls_t *t);

/* Fills items[] (room for SB_TLS_MHD_OPTIONS entries, the unused ones
 * MHD_OPTION_END) for MHD_OPTION_ARRAY; the daemon also needs MHD_USE_TLS in
 * its flags.  The items point into `t`, which must outlive the daemon. */
#define SB_TLS_MHD_OPTIONS 4
void sb_tls_mhd_options(const sb_tls_t *t, struct MHD_OptionItem *items);

#endif

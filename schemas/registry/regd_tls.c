#include "regd_tls.h"

#include <errno.h>
#include <gnutls/gnutls.h>
#include <gnutls/x509.h>
#include <microhttpd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_PEM (1024 * 1024)

sb_err_t regd_tls_cert_cn(struct MHD_Connection *c, char *cn, size_t cn_size, char *errstr,
                          size_t errstr_size) {
        const union MHD_ConnectionInfo *ci = MHD_get_connection_info(c, MHD_CONNECTION_INFO_GNUTLS_SESSION);
        unsigned int n = 0, status = 0;
        gnutls_x509_crt_t crt = NULL;
        sb_err_t err = SB_OK;

        if (cn_size)
                cn[0] = '\0';
        if (!ci || !ci->tls_session)
                return sb_seterr(SB_ERR_NOT_FOUND, errstr, errstr_size, "not a TLS connection");
        gnutls_session_t s = (gnutls_session_t)ci->tls_session;
        const gnutls_datum_t *certs = gnutls_certificate_get_peers(s, &n);
        if (!certs || n == 0)
                return sb_seterr(SB_ERR_NOT_FOUND, errstr, errstr_size, "no client certificate");
        if (gnutls_certificate_type_get(s) != GNUTLS_CRT_X509)
                return sb_seterr(SB_ERR_INVALID, errstr, errstr_size, "client certificate is not X.509");
        /* MHD only asks for the certificate (GNUTLS_CERT_REQUEST): checking
         * it against the trusted client CA is ours to do. */
        gnutls_typed_vdata_st purpose = {GNUTLS_DT_KEY_PURPOSE_OID, (unsigned char *)GNUTLS_KP_TLS_WWW_CLIENT,
                                         0};
        int r = gnutls_certificate_verify_peers(s, &purpose, 1, &status);
        if (r < 0)
                return sb_seterr(SB_ERR_INVALID, errstr, errstr_size, "client certificate: %s",
                                 gnutls_strerror(r));
        if (status) {
                gnutls_datum_t out = {NULL, 0};
                r = gnutls_certificate_verification_status_print(status, GNUTLS_CRT_X509, &out, 0);
                sb_seterr(SB_ERR_INVALID, errstr, errstr_size, "client certificate does not verify: %s",
                          r == 0 && out.data ? (const char *)out.data : "untrusted");
                gnutls_free(out.data);
                return SB_ERR_INVALID;
        }
        if ((r = gnutls_x509_crt_init(&crt)) < 0 ||
            (r = gnutls_x509_crt_import(crt, &certs[0], GNUTLS_X509_FMT_DER)) < 0) {
                gnutls_x509_crt_deinit(crt);
                return sb_seterr(SB_ERR_INVALID, errstr, errstr_size, "client certificate: %s",
                                 gnutls_strerror(r));
        }
        char extra[8];
        size_t size = cn_size, extra_size = sizeof(extra);
        r = gnutls_x509_crt_get_dn_by_oid(crt, GNUTLS_OID_X520_COMMON_NAME, 0, 0, cn, &size);
        if (r < 0 || size == 0 || strlen(cn) != size)
                err = sb_seterr(SB_ERR_INVALID, errstr, errstr_size, "client certificate: %s",
                                r == GNUTLS_E_SHORT_MEMORY_BUFFER ? "CN too long"
                                : r < 0                           ? "no CN in the subject"
                                                                  : "empty or binary CN");
        else if (gnutls_x509_crt_get_dn_by_oid(crt, GNUTLS_OID_X520_COMMON_NAME, 1, 0, extra, &extra_size) !=
                 GNUTLS_E_REQUESTED_DATA_NOT_AVAILABLE)
                err = sb_seterr(SB_ERR_INVALID, errstr, errstr_size, "client certificate has several CNs");
        gnutls_x509_crt_deinit(crt);
        if (err && cn_size)
                cn[0] = '\0';
        return err;
}

struct regd_tls_s {
        char *cert, *key, *ca; /* PEM text; ca NULL for none */
};

static sb_err_t read_pem(const char *what, const char *path, char **out, char *errstr, size_t errstr_size) {
        FILE *f = fopen(path, "rb");
        char *buf = NULL;
        size_t len = 0;
        *out = NULL;
        if (!f) {
                sb_seterr(SB_ERR_CONFIG, errstr, errstr_size, "%s %s: %s", what, path, strerror(errno));
                return SB_ERR_CONFIG;
        }
        if (!(buf = malloc(MAX_PEM + 1))) {
                fclose(f);
                sb_seterr(SB_ERR_NOMEM, errstr, errstr_size, "out of memory");
                return SB_ERR_NOMEM;
        }
        len = fread(buf, 1, MAX_PEM + 1, f);
        int bad = ferror(f);
        fclose(f);
        if (bad || len > MAX_PEM || len == 0) {
                free(buf);
                sb_seterr(SB_ERR_CONFIG, errstr, errstr_size, "%s %s: %s", what, path,
                          bad   ? "read error"
                          : len ? "larger than 1 MiB"
                                : "empty file");
                return SB_ERR_CONFIG;
        }
        buf[len] = '\0';
        *out = buf;
        return SB_OK;
}

sb_err_t regd_tls_new(const char *cert_file, const char *key_file, const char *client_ca_file,
                      regd_tls_t **out, char *errstr, size_t errstr_size) {
        regd_tls_t *t = calloc(1, sizeof(*t));
        gnutls_certificate_credentials_t cred = NULL;
        int r;

        sb_err_t err = SB_ERR_CONFIG;
        *out = NULL;
        if (!t)
                return sb_seterr(SB_ERR_NOMEM, errstr, errstr_size, "out of memory");
        if (!cert_file || !*cert_file || !key_file || !*key_file) {
                sb_seterr(SB_ERR_CONFIG, errstr, errstr_size,
                          "TLS needs both tls_cert_file and tls_key_file");
                goto fail;
        }
        if ((err = read_pem("tls_cert_file", cert_file, &t->cert, errstr, errstr_size)) ||
            (err = read_pem("tls_key_file", key_file, &t->key, errstr, errstr_size)) ||
            (client_ca_file && *client_ca_file &&
             (err = read_pem("tls_client_ca_file", client_ca_file, &t->ca, errstr, errstr_size))))
                goto fail;
        err = SB_ERR_CONFIG;
        /* Checked here so that a bad file is named, not a failed start. */
        if ((r = gnutls_certificate_allocate_credentials(&cred)) < 0) {
                err = sb_seterr(SB_ERR_NOMEM, errstr, errstr_size, "gnutls: %s", gnutls_strerror(r));
                goto fail;
        }
        gnutls_datum_t c = {(unsigned char *)t->cert, (unsigned int)strlen(t->cert)};
        gnutls_datum_t k = {(unsigned char *)t->key, (unsigned int)strlen(t->key)};
        if ((r = gnutls_certificate_set_x509_key_mem(cred, &c, &k, GNUTLS_X509_FMT_PEM)) < 0) {
                sb_seterr(SB_ERR_CONFIG, errstr, errstr_size, "tls_cert_file %s / tls_key_file %s: %s",
                          cert_file, key_file, gnutls_strerror(r));
                goto fail;
        }
        if (t->ca) {
                gnutls_datum_t ca = {(unsigned char *)t->ca, (unsigned int)strlen(t->ca)};
                if ((r = gnutls_certificate_set_x509_trust_mem(cred, &ca, GNUTLS_X509_FMT_PEM)) <= 0) {
                        sb_seterr(SB_ERR_CONFIG, errstr, errstr_size, "tls_client_ca_file %s: %s",
                                  client_ca_file, r < 0 ? gnutls_strerror(r) : "no certificate in it");
                        goto fail;
                }
        }
        gnutls_certificate_free_credentials(cred);
        *out = t;
        return SB_OK;
fail:
        if (cred)
                gnutls_certificate_free_credentials(cred);
        regd_tls_destroy(t);
        return err;
}

void regd_tls_destroy(regd_tls_t *t) {
        if (!t)
                return;
        free(t->cert);
        if (t->key)
                explicit_bzero(t->key, strlen(t->key));
        free(t->key);
        free(t->ca);
        free(t);
}

void regd_tls_mhd_options(const regd_tls_t *t, struct MHD_OptionItem *items) {
        size_t i = 0;
        items[i++] = (struct MHD_OptionItem){MHD_OPTION_HTTPS_MEM_KEY, 0, t->key};
        items[i++] = (struct MHD_OptionItem){MHD_OPTION_HTTPS_MEM_CERT, 0, t->cert};
        if (t->ca)
                items[i++] = (struct MHD_OptionItem){MHD_OPTION_HTTPS_MEM_TRUST, 0, t->ca};
        while (i < REGD_TLS_MHD_OPTIONS)
                items[i++] = (struct MHD_OptionItem){MHD_OPTION_END, 0, NULL};
}

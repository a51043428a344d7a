#include "regd_tls.h"

#include <gnutls/gnutls.h>
#include <gnutls/x509.h>
#include <microhttpd.h>
#include <string.h>

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

sb_err_t regd_tls_new(const char *cert_file, const char *key_file, const char *client_ca_file, sb_tls_t **out,
                      char *errstr, size_t errstr_size) {
        const sb_tls_files_t files = {
                .cert_file = cert_file,
                .key_file = key_file,
                .client_ca_file = client_ca_file,
                .cert_setting = "tls_cert_file",
                .key_setting = "tls_key_file",
                .client_ca_setting = "tls_client_ca_file",
        };
        return sb_tls_new(&files, out, errstr, errstr_size);
}

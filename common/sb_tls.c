#include "sb_tls.h"

#include <errno.h>
#include <gnutls/gnutls.h>
#include <gnutls/x509.h>
#include <microhttpd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct sb_tls_s {
        char *cert, *key, *ca; /* PEM text, NUL-terminated; ca NULL for none */
};

static const char *or_default(const char *name, const char *def) { return name && *name ? name : def; }

/* The file at `path` into a new *out (NUL-terminated, exactly its size),
 * named `what` in errors.  The bytes read are wiped from the reading
 * buffer, for they may be a key. */
static sb_err_t read_pem(const char *what, const char *path, char **out, char *errstr, size_t errstr_size) {
        FILE *f = fopen(path, "rb");
        char *buf = NULL;
        size_t len = 0;
        *out = NULL;
        /* Each error returns its code as a constant, not sb_seterr's value,
         * so that the analyzers see *out set exactly when SB_OK. */
        if (!f) {
                sb_seterr(SB_ERR_CONFIG, errstr, errstr_size, "%s %s: %s", what, path, strerror(errno));
                return SB_ERR_CONFIG;
        }
        if (!(buf = malloc(SB_TLS_MAX_PEM + 1))) {
                fclose(f);
                sb_seterr(SB_ERR_NOMEM, errstr, errstr_size, "out of memory");
                return SB_ERR_NOMEM;
        }
        errno = 0;
        len = fread(buf, 1, SB_TLS_MAX_PEM + 1, f);
        int bad = ferror(f) ? (errno ? errno : EIO) : 0;
        fclose(f);
        sb_err_t err = SB_OK;
        if (bad || len > SB_TLS_MAX_PEM || len == 0) {
                sb_seterr(SB_ERR_CONFIG, errstr, errstr_size, "%s %s: %s", what, path,
                          bad   ? strerror(bad)
                          : len ? "larger than 1 MiB"
                                : "empty file");
                err = SB_ERR_CONFIG;
        } else if (!(*out = malloc(len + 1))) {
                sb_seterr(SB_ERR_NOMEM, errstr, errstr_size, "out of memory");
                err = SB_ERR_NOMEM;
        } else {
                memcpy(*out, buf, len);
                (*out)[len] = '\0';
        }
        explicit_bzero(buf, len > SB_TLS_MAX_PEM ? SB_TLS_MAX_PEM + 1 : len);
        free(buf);
        return err;
}

static gnutls_datum_t datum(const char *pem) {
        return (gnutls_datum_t){(unsigned char *)pem, (unsigned int)strlen(pem)};
}

/* Each file alone first, so that the error names the one that is wrong;
 * then the pair, which GnuTLS checks for a key that is not the
 * certificate's. */
static sb_err_t check(const sb_tls_t *t, const sb_tls_files_t *f, const char *cert_name, const char *key_name,
                      const char *ca_name, char *errstr, size_t errstr_size) {
        gnutls_datum_t c = datum(t->cert), k = datum(t->key);
        gnutls_x509_crt_t *crts = NULL;
        gnutls_x509_privkey_t key = NULL;
        gnutls_certificate_credentials_t cred = NULL;
        unsigned n = 0;
        int r = gnutls_x509_crt_list_import2(&crts, &n, &c, GNUTLS_X509_FMT_PEM, 0);
        if (r >= 0) {
                for (unsigned i = 0; i < n; i++)
                        gnutls_x509_crt_deinit(crts[i]);
                gnutls_free(crts);
        }
        if (r < 0 || n == 0)
                return sb_seterr(SB_ERR_CONFIG, errstr, errstr_size, "%s %s: not a PEM certificate: %s",
                                 cert_name, f->cert_file, r < 0 ? gnutls_strerror(r) : "none in it");
        if ((r = gnutls_x509_privkey_init(&key)) < 0)
                return sb_seterr(SB_ERR_NOMEM, errstr, errstr_size, "gnutls: %s", gnutls_strerror(r));
        r = gnutls_x509_privkey_import2(key, &k, GNUTLS_X509_FMT_PEM, NULL, 0);
        gnutls_x509_privkey_deinit(key);
        if (r < 0)
                return sb_seterr(SB_ERR_CONFIG, errstr, errstr_size,
                                 "%s %s: not a PEM private key (unencrypted): %s", key_name, f->key_file,
                                 gnutls_strerror(r));
        if ((r = gnutls_certificate_allocate_credentials(&cred)) < 0)
                return sb_seterr(SB_ERR_NOMEM, errstr, errstr_size, "gnutls: %s", gnutls_strerror(r));
        sb_err_t err = SB_OK;
        if ((r = gnutls_certificate_set_x509_key_mem(cred, &c, &k, GNUTLS_X509_FMT_PEM)) < 0) {
                err = sb_seterr(SB_ERR_CONFIG, errstr, errstr_size, "%s %s / %s %s: %s", cert_name,
                                f->cert_file, key_name, f->key_file, gnutls_strerror(r));
        } else if (t->ca) {
                gnutls_datum_t ca = datum(t->ca);
                if ((r = gnutls_certificate_set_x509_trust_mem(cred, &ca, GNUTLS_X509_FMT_PEM)) <= 0)
                        err = sb_seterr(SB_ERR_CONFIG, errstr, errstr_size, "%s %s: %s", ca_name,
                                        f->client_ca_file,
                                        r < 0 ? gnutls_strerror(r) : "no certificate in it");
        }
        gnutls_certificate_free_credentials(cred);
        return err;
}

sb_err_t sb_tls_new(const sb_tls_files_t *files, sb_tls_t **out, char *errstr, size_t errstr_size) {
        const char *cert_name = or_default(files->cert_setting, "cert_file"),
                   *key_name = or_default(files->key_setting, "key_file"),
                   *ca_name = or_default(files->client_ca_setting, "client_ca_file");
        const char *ca_file = files->client_ca_file;
        sb_err_t err;
        *out = NULL;
        if (!files->cert_file || !*files->cert_file || !files->key_file || !*files->key_file)
                return sb_seterr(SB_ERR_CONFIG, errstr, errstr_size, "TLS needs both %s and %s", cert_name,
                                 key_name);
        sb_tls_t *t = calloc(1, sizeof(*t));
        if (!t)
                return sb_seterr(SB_ERR_NOMEM, errstr, errstr_size, "out of memory");
        if ((err = read_pem(cert_name, files->cert_file, &t->cert, errstr, errstr_size)) ||
            (err = read_pem(key_name, files->key_file, &t->key, errstr, errstr_size)) ||
            (ca_file && *ca_file && (err = read_pem(ca_name, ca_file, &t->ca, errstr, errstr_size))) ||
            (err = check(t, files, cert_name, key_name, ca_name, errstr, errstr_size))) {
                sb_tls_destroy(t);
                return err;
        }
        *out = t;
        return SB_OK;
}

void sb_tls_destroy(sb_tls_t *t) {
        if (!t)
                return;
        free(t->cert);
        if (t->key)
                explicit_bzero(t->key, strlen(t->key));
        free(t->key);
        free(t->ca);
        free(t);
}

void sb_tls_mhd_options(const sb_tls_t *t, struct MHD_OptionItem *items) {
        size_t i = 0;
        items[i++] = (struct MHD_OptionItem){MHD_OPTION_HTTPS_MEM_KEY, 0, t->key};
        items[i++] = (struct MHD_OptionItem){MHD_OPTION_HTTPS_MEM_CERT, 0, t->cert};
        if (t->ca)
                items[i++] = (struct MHD_OptionItem){MHD_OPTION_HTTPS_MEM_TRUST, 0, t->ca};
        while (i < SB_TLS_MHD_OPTIONS)
                items[i++] = (struct MHD_OptionItem){MHD_OPTION_END, 0, NULL};
}

/*
 * testcerts: X.509 certificates made at test time with GnuTLS, for the
 * suites that run TLS in-process (test_registry_auth, test_registry_client):
 * no openssl or certtool binary, no files kept in the tree.
 *
 * test_cert_make() makes an ECDSA P-256 key and a certificate for it, signed
 * by `issuer` (NULL: self-signed).  test_cert_write() writes its PEM files
 * under a temporary directory and returns their paths.
 */
#ifndef SB_TESTCERTS_H
#define SB_TESTCERTS_H

#include <arpa/inet.h>
#include <check.h>
#include <gnutls/gnutls.h>
#include <gnutls/x509.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

typedef enum { TEST_CERT_CA, TEST_CERT_SERVER, TEST_CERT_CLIENT, TEST_CERT_NO_PURPOSE } test_cert_kind_t;

typedef struct {
        gnutls_x509_privkey_t key;
        gnutls_x509_crt_t crt;
        char key_pem[4096], cert_pem[8192];
        char key_path[256], cert_path[256];
} test_cert_t;

#define TEST_GNUTLS(call)                                                                                    \
        do {                                                                                                 \
                int test_gnutls_rc = (call);                                                                 \
                ck_assert_msg(test_gnutls_rc >= 0, "%s: %s", #call, gnutls_strerror(test_gnutls_rc));        \
        } while (0)

/* `days_from`/`days_to`: validity relative to now (e.g. -1, 30; an expired
 * certificate: -30, -1).  A server certificate is for 127.0.0.1. */
static inline void test_cert_make(test_cert_t *c, test_cert_kind_t kind, const char *cn,
                                  const test_cert_t *issuer, int days_from, int days_to) {
        static unsigned serial = 1;
        unsigned char sn[4], keyid[64], ip[4];
        size_t keyid_size = sizeof(keyid), size;
        time_t now = time(NULL);

        memset(c, 0, sizeof(*c));
        TEST_GNUTLS(gnutls_x509_privkey_init(&c->key));
        TEST_GNUTLS(gnutls_x509_privkey_generate(c->key, GNUTLS_PK_ECDSA,
                                                 GNUTLS_CURVE_TO_BITS(GNUTLS_ECC_CURVE_SECP256R1), 0));
        TEST_GNUTLS(gnutls_x509_crt_init(&c->crt));
        TEST_GNUTLS(gnutls_x509_crt_set_version(c->crt, 3));
        serial++;
        sn[0] = 0x10, sn[1] = (unsigned char)(serial >> 16), sn[2] = (unsigned char)(serial >> 8),
        sn[3] = (unsigned char)serial;
        TEST_GNUTLS(gnutls_x509_crt_set_serial(c->crt, sn, sizeof(sn)));
        TEST_GNUTLS(gnutls_x509_crt_set_activation_time(c->crt, now + (time_t)days_from * 86400));
        TEST_GNUTLS(gnutls_x509_crt_set_expiration_time(c->crt, now + (time_t)days_to * 86400));
        TEST_GNUTLS(gnutls_x509_crt_set_dn_by_oid(c->crt, GNUTLS_OID_X520_COMMON_NAME, 0, cn,
                                                  (unsigned)strlen(cn)));
        TEST_GNUTLS(gnutls_x509_crt_set_key(c->crt, c->key));
        TEST_GNUTLS(gnutls_x509_crt_set_basic_constraints(c->crt, kind == TEST_CERT_CA, -1));
        TEST_GNUTLS(gnutls_x509_crt_set_key_usage(
                c->crt, kind == TEST_CERT_CA ? GNUTLS_KEY_KEY_CERT_SIGN | GNUTLS_KEY_CRL_SIGN
                                             : GNUTLS_KEY_DIGITAL_SIGNATURE));
        if (kind == TEST_CERT_SERVER) {
                TEST_GNUTLS(gnutls_x509_crt_set_key_purpose_oid(c->crt, GNUTLS_KP_TLS_WWW_SERVER, 0));
                ck_assert_int_eq(inet_pton(AF_INET, "127.0.0.1", ip), 1);
                TEST_GNUTLS(gnutls_x509_crt_set_subject_alt_name(c->crt, GNUTLS_SAN_IPADDRESS, ip, sizeof(ip),
                                                                 GNUTLS_FSAN_APPEND));
        } else if (kind == TEST_CERT_CLIENT) {
                TEST_GNUTLS(gnutls_x509_crt_set_key_purpose_oid(c->crt, GNUTLS_KP_TLS_WWW_CLIENT, 0));
        }
        TEST_GNUTLS(gnutls_x509_crt_get_key_id(c->crt, 0, keyid, &keyid_size));
        TEST_GNUTLS(gnutls_x509_crt_set_subject_key_id(c->crt, keyid, keyid_size));
        if (issuer) {
                keyid_size = sizeof(keyid);
                TEST_GNUTLS(gnutls_x509_crt_get_subject_key_id(issuer->crt, keyid, &keyid_size, NULL));
                TEST_GNUTLS(gnutls_x509_crt_set_authority_key_id(c->crt, keyid, keyid_size));
        }
        TEST_GNUTLS(gnutls_x509_crt_sign2(c->crt, issuer ? issuer->crt : c->crt,
                                          issuer ? issuer->key : c->key, GNUTLS_DIG_SHA256, 0));
        size = sizeof(c->cert_pem) - 1;
        TEST_GNUTLS(gnutls_x509_crt_export(c->crt, GNUTLS_X509_FMT_PEM, c->cert_pem, &size));
        c->cert_pem[size] = '\0';
        size = sizeof(c->key_pem) - 1;
        TEST_GNUTLS(gnutls_x509_privkey_export_pkcs8(c->key, GNUTLS_X509_FMT_PEM, NULL, GNUTLS_PKCS_PLAIN,
                                                     c->key_pem, &size));
        c->key_pem[size] = '\0';
}

static inline void test_cert_write_file(const char *path, const char *text) {
        FILE *f = fopen(path, "w");
        ck_assert_msg(f != NULL, "cannot write %s", path);
        ck_assert_int_eq(fputs(text, f) >= 0, 1);
        ck_assert_int_eq(fclose(f), 0);
}

/* Writes <dir>/<name>.crt and <dir>/<name>.key. */
static inline void test_cert_write(test_cert_t *c, const char *dir, const char *name) {
        snprintf(c->cert_path, sizeof(c->cert_path), "%s/%s.crt", dir, name);
        snprintf(c->key_path, sizeof(c->key_path), "%s/%s.key", dir, name);
        test_cert_write_file(c->cert_path, c->cert_pem);
        test_cert_write_file(c->key_path, c->key_pem);
}

static inline void test_cert_free(test_cert_t *c) {
        if (c->cert_path[0])
                remove(c->cert_path);
        if (c->key_path[0])
                remove(c->key_path);
        gnutls_x509_crt_deinit(c->crt);
        gnutls_x509_privkey_deinit(c->key);
        memset(c, 0, sizeof(*c));
}

#endif

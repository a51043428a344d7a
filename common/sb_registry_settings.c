#include "sb_registry_settings.h"

#include <errno.h>
#include <fcntl.h>
#include <gnutls/gnutls.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

/* As sharebus-passwd: longer is refused rather than cut. */
#define SB_MAX_PASSWORD 1024

/* Reads the first line of `path` into buf (without the line end).  With
 * read(2), not stdio, so no copy of the secret stays in a FILE buffer. */
static sb_err_t read_password_file(const char *origin, const char *path, char *buf, size_t size, char *errstr,
                                   size_t errstr_size) {
        int fd = open(path, O_RDONLY | O_CLOEXEC);
        if (fd < 0)
                return sb_seterr(SB_ERR_CONFIG, errstr, errstr_size,
                                 "%s: setting 'registry_password_file': cannot read %s: %s", origin, path,
                                 strerror(errno));
        size_t len = 0;
        const char *why = NULL;
        for (;;) {
                ssize_t n = read(fd, buf + len, size - 1 - len);
                if (n < 0 && errno == EINTR)
                        continue;
                if (n < 0) {
                        why = strerror(errno);
                        break;
                }
                const char *end = memchr(buf + len, '\n', (size_t)n);
                len += (size_t)n;
                if (end) {
                        len = (size_t)(end - buf);
                        break;
                }
                if (n == 0)
                        break;
                if (len == size - 1) {
                        why = "the first line is longer than the longest password allowed";
                        break;
                }
        }
        close(fd);
        while (len && buf[len - 1] == '\r')
                len--;
        buf[len] = '\0';
        if (!why && len == 0)
                why = "the first line is empty: it must hold the password";
        if (why) {
                explicit_bzero(buf, size);
                return sb_seterr(SB_ERR_CONFIG, errstr, errstr_size,
                                 "%s: setting 'registry_password_file': %s: %s", origin, path, why);
        }
        /* Lines after the first are ignored (a comment, say); their bytes
         * must not linger in buf. */
        explicit_bzero(buf + len, size - len);
        return SB_OK;
}

static sb_err_t configure_auth(sb_registry_client_t *rc, const sb_config_t *cfg, char *errstr,
                               size_t errstr_size) {
        const char *origin = sb_config_origin(cfg);
        const char *user = sb_config_string(cfg, "registry_user");
        const char *password = sb_config_string(cfg, "registry_password");
        const char *password_file = sb_config_string(cfg, "registry_password_file");
        char from_file[SB_MAX_PASSWORD + 2];
        if (*password && *password_file)
                return sb_seterr(SB_ERR_CONFIG, errstr, errstr_size,
                                 "%s: settings 'registry_password' and 'registry_password_file': set one, "
                                 "not both",
                                 origin);
        if (!*user) {
                if (*password || *password_file)
                        return sb_seterr(SB_ERR_CONFIG, errstr, errstr_size,
                                         "%s: setting '%s' without 'registry_user'", origin,
                                         *password ? "registry_password" : "registry_password_file");
                return SB_OK; /* anonymous, or credentials in registry_url */
        }
        if (!*password && !*password_file)
                return sb_seterr(SB_ERR_CONFIG, errstr, errstr_size,
                                 "%s: setting 'registry_user' without 'registry_password_file' or "
                                 "'registry_password'",
                                 origin);
        if (*password_file) {
                sb_err_t err = read_password_file(origin, password_file, from_file, sizeof(from_file), errstr,
                                                  errstr_size);
                if (err)
                        return err;
                password = from_file;
        }
        char inner[512];
        sb_err_t err = sb_registry_client_set_auth(rc, user, password, inner, sizeof(inner));
        if (password == from_file)
                explicit_bzero(from_file, sizeof(from_file));
        if (err == SB_ERR_CONFIG)
                return sb_seterr(err, errstr, errstr_size, "%s: setting 'registry_user': %s", origin, inner);
        return err ? sb_seterr(err, errstr, errstr_size, "%s", inner) : SB_OK;
}

static sb_err_t check_readable(const char *origin, const char *setting, const char *path, char *errstr,
                               size_t errstr_size) {
        int fd = open(path, O_RDONLY | O_CLOEXEC);
        if (fd < 0)
                return sb_seterr(SB_ERR_CONFIG, errstr, errstr_size, "%s: setting '%s': cannot read %s: %s",
                                 origin, setting, path, strerror(errno));
        close(fd);
        return SB_OK;
}

/* Parses the TLS files as the connection will need them, so that a wrong
 * file is found at start, not at the first https request. */
static sb_err_t check_tls_files(const char *origin, const char *ca, const char *cert, const char *key,
                                char *errstr, size_t errstr_size) {
        gnutls_certificate_credentials_t cred;
        sb_err_t err = SB_OK;
        if (gnutls_certificate_allocate_credentials(&cred) < 0)
                return sb_seterr(SB_ERR_NOMEM, errstr, errstr_size, "out of memory");
        if (*ca) {
                int n = gnutls_certificate_set_x509_trust_file(cred, ca, GNUTLS_X509_FMT_PEM);
                if (n <= 0)
                        err = sb_seterr(SB_ERR_CONFIG, errstr, errstr_size,
                                        "%s: setting 'registry_ca_file': %s: %s", origin, ca,
                                        n < 0 ? gnutls_strerror(n) : "no PEM certificate in it");
        }
        if (!err && *cert) {
                int r = gnutls_certificate_set_x509_key_file(cred, cert, *key ? key : cert,
                                                             GNUTLS_X509_FMT_PEM);
                if (r < 0 && *key)
                        err = sb_seterr(
                                SB_ERR_CONFIG, errstr, errstr_size,
                                "%s: settings 'registry_cert_file' and 'registry_key_file': %s and %s: %s",
                                origin, cert, key, gnutls_strerror(r));
                else if (r < 0)
                        err = sb_seterr(SB_ERR_CONFIG, errstr, errstr_size,
                                        "%s: setting 'registry_cert_file': %s: %s (without registry_key_file "
                                        "the key must be in the same file)",
                                        origin, cert, gnutls_strerror(r));
        }
        gnutls_certificate_free_credentials(cred);
        return err;
}

static sb_err_t configure_tls(sb_registry_client_t *rc, const sb_config_t *cfg, char *errstr,
                              size_t errstr_size) {
        const char *origin = sb_config_origin(cfg);
        static const char *const names[] = {"registry_ca_file", "registry_cert_file", "registry_key_file"};
        const char *files[3];
        sb_err_t err;
        for (size_t i = 0; i < 3; i++) {
                files[i] = sb_config_string(cfg, names[i]);
                if (*files[i] && (err = check_readable(origin, names[i], files[i], errstr, errstr_size)))
                        return err;
        }
        if (*files[2] && !*files[1])
                return sb_seterr(SB_ERR_CONFIG, errstr, errstr_size,
                                 "%s: setting 'registry_key_file' without 'registry_cert_file'", origin);
        if (!*files[0] && !*files[1])
                return SB_OK;
        if ((err = check_tls_files(origin, files[0], files[1], files[2], errstr, errstr_size)))
                return err;
        char inner[512];
        if ((err = sb_registry_client_set_tls(rc, files[0], files[1], files[2], inner, sizeof(inner))))
                return sb_seterr(err, errstr, errstr_size, "%s: %s", origin, inner);
        return SB_OK;
}

sb_err_t sb_registry_settings_apply(sb_registry_client_t *rc, const sb_config_t *cfg, char *errstr,
                                    size_t errstr_size) {
        sb_err_t err = configure_auth(rc, cfg, errstr, errstr_size);
        return err ? err : configure_tls(rc, cfg, errstr, errstr_size);
}

sb_err_t sb_registry_settings_client_new(const sb_config_t *cfg, sb_registry_client_t **out, char *errstr,
                                         size_t errstr_size) {
        char inner[512];
        *out = NULL;
        sb_registry_client_t *rc = NULL;
        if (sb_registry_client_new(sb_config_string(cfg, "registry_url"), &rc, inner, sizeof(inner)))
                return sb_seterr(SB_ERR_CONFIG, errstr, errstr_size, "%s: setting 'registry_url': %s",
                                 sb_config_origin(cfg), inner);
        sb_err_t err = sb_registry_settings_apply(rc, cfg, errstr, errstr_size);
        if (err) {
                sb_registry_client_destroy(rc);
                return err;
        }
        *out = rc;
        return SB_OK;
}

#include "regd_authz.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

struct regd_authz_s {
        regd_users_t *users;
        int reads_need_auth;
};

sb_err_t regd_authz_new(const char *users_file, int reads_need_auth, regd_authz_t **out, char *errstr,
                        size_t errstr_size) {
        regd_authz_t *a = calloc(1, sizeof(*a));
        *out = NULL;
        if (!a)
                return sb_seterr(SB_ERR_NOMEM, errstr, errstr_size, "out of memory");
        sb_err_t err = regd_users_new(users_file, &a->users, errstr, errstr_size);
        if (err) {
                free(a);
                return err;
        }
        a->reads_need_auth = reads_need_auth;
        *out = a;
        return SB_OK;
}

void regd_authz_destroy(regd_authz_t *a) {
        if (!a)
                return;
        regd_users_destroy(a->users);
        free(a);
}

size_t regd_authz_count(const regd_authz_t *a) { return a ? regd_users_count(a->users) : 0; }

/* ---- the decision ---- */

/* Whether `subject` is one of department `dep`'s: "<dep>." and more. */
static int owns(const char *dep, const char *subject) {
        size_t n = strlen(dep);
        return strncmp(subject, dep, n) == 0 && subject[n] == '.' && subject[n + 1] != '\0';
}

regd_authz_decision_t regd_authz_check(const regd_authz_t *a, const char *user, const char *password,
                                       const char *cert_principal, regd_access_t cls, const char *subject,
                                       char *reason, size_t reason_size) {
        char who[300];
        const regd_principal_t *p = NULL;
        static const char *const class_names[] = {"read", "write", "admin request (config, mode)"};

        if (!reason_size)
                reason = NULL;
        if (!a) {
                if (reason)
                        snprintf(reason, reason_size, "authorization is off");
                return REGD_AUTHZ_ALLOW;
        }
        if ((unsigned)cls > REGD_ACCESS_OPERATOR || (cls == REGD_ACCESS_WRITE_SUBJECT && !subject))
                cls = REGD_ACCESS_OPERATOR; /* what is not understood is for operators */
        if (user) {
                p = regd_users_find(a->users, user);
                if (!regd_users_verify(a->users, p, password)) {
                        if (reason)
                                snprintf(reason, reason_size, "user '%.128s': %s", user,
                                         !p         ? "unknown user"
                                         : !p->hash ? "certificate-only user sent a password"
                                                    : "wrong password");
                        return REGD_AUTHZ_UNAUTHORIZED;
                }
                if (cert_principal && strcmp(cert_principal, user) != 0) {
                        if (reason)
                                snprintf(reason, reason_size,
                                         "user '%.128s': client certificate is for '%.128s', another "
                                         "principal",
                                         user, cert_principal);
                        return REGD_AUTHZ_UNAUTHORIZED;
                }
        } else if (cert_principal) {
                if (!(p = regd_users_find(a->users, cert_principal))) {
                        if (reason)
                                snprintf(reason, reason_size,
                                         "client certificate CN '%.128s' is not in the users file",
                                         cert_principal);
                        return REGD_AUTHZ_UNAUTHORIZED;
                }
        }
        if (!p) {
                if (cls == REGD_ACCESS_READ && !a->reads_need_auth) {
                        if (reason)
                                snprintf(reason, reason_size, "anonymous: read allowed");
                        return REGD_AUTHZ_ALLOW;
                }
                if (reason)
                        snprintf(reason, reason_size, "anonymous: %s needs credentials", class_names[cls]);
                return REGD_AUTHZ_UNAUTHORIZED;
        }

        if (p->role == REGD_ROLE_DEPARTMENT)
                snprintf(who, sizeof(who), "user '%s' (department %s)", p->name, p->department);
        else
                snprintf(who, sizeof(who), "user '%s' (%s)", p->name, regd_users_role_name(p->role));
        int allow = p->role == REGD_ROLE_OPERATOR || cls == REGD_ACCESS_READ ||
                    (cls == REGD_ACCESS_WRITE_SUBJECT && p->role == REGD_ROLE_DEPARTMENT &&
                     owns(p->department, subject));
        if (reason) {
                if (cls == REGD_ACCESS_WRITE_SUBJECT)
                        snprintf(reason, reason_size, "%s: write of subject '%.512s' %s", who, subject,
                                 allow ? "allowed"
                                 : p->role == REGD_ROLE_DEPARTMENT
                                         ? "refused: not a subject of its department"
                                         : "refused: role reader");
                else
                        snprintf(reason, reason_size, "%s: %s %s", who, class_names[cls],
                                 allow ? "allowed" : "refused: operators only");
        }
        return allow ? REGD_AUTHZ_ALLOW : REGD_AUTHZ_FORBIDDEN;
}

/* ---- Basic credentials ---- */

static int b64val(char ch) {
        if (ch >= 'A' && ch <= 'Z')
                return ch - 'A';
        if (ch >= 'a' && ch <= 'z')
                return ch - 'a' + 26;
        if (ch >= '0' && ch <= '9')
                return ch - '0' + 52;
        if (ch == '+')
                return 62;
        if (ch == '/')
                return 63;
        return -1;
}

/* Strict base64 (padded, standard alphabet) of in[0..len) into out; returns
 * the decoded length or -1. */
static long b64_decode(const char *in, size_t len, unsigned char *out, size_t out_size) {
        size_t o = 0;
        if (len == 0 || len % 4)
                return -1;
        for (size_t i = 0; i < len; i += 4) {
                int v[4], pad = 0;
                for (int k = 0; k < 4; k++) {
                        if (in[i + k] == '=' && i + 4 == len && k >= 2) {
                                v[k] = 0;
                                pad++;
                        } else if (pad || (v[k] = b64val(in[i + k])) < 0) {
                                return -1;
                        }
                }
                unsigned long bits = (unsigned long)v[0] << 18 | (unsigned long)v[1] << 12 |
                                     (unsigned long)v[2] << 6 | (unsigned long)v[3];
                size_t take = 3 - (size_t)pad;
                if (o + take > out_size)
                        return -1;
                for (size_t k = 0; k < take; k++)
                        out[o++] = (unsigned char)(bits >> (16 - 8 * k));
        }
        return (long)o;
}

sb_err_t regd_authz_parse_basic(const char *value, char *user, size_t user_size, char *password,
                                size_t password_size, char *errstr, size_t errstr_size) {
        unsigned char buf[1024];
        if (user_size)
                user[0] = '\0';
        if (password_size)
                password[0] = '\0';
        if (!value)
                return sb_seterr(SB_ERR_NOT_FOUND, errstr, errstr_size, "no Authorization header");
        if (strncasecmp(value, "Basic", 5) != 0 || (value[5] != ' ' && value[5] != '\t'))
                return sb_seterr(SB_ERR_INVALID, errstr, errstr_size,
                                 "Authorization header: only the Basic scheme is accepted");
        const char *tok = value + 5 + strspn(value + 5, " \t");
        size_t len = strcspn(tok, " \t");
        if (tok[len + strspn(tok + len, " \t")] != '\0')
                return sb_seterr(SB_ERR_INVALID, errstr, errstr_size,
                                 "Authorization header: junk after the credentials");
        long n = b64_decode(tok, len, buf, sizeof(buf) - 1);
        if (n < 0)
                return sb_seterr(SB_ERR_INVALID, errstr, errstr_size,
                                 "Authorization header: credentials are not base64 (or too long)");
        buf[n] = '\0';
        for (long i = 0; i < n; i++)
                if (buf[i] < 0x20 || buf[i] == 0x7f)
                        return sb_seterr(SB_ERR_INVALID, errstr, errstr_size,
                                         "Authorization header: control character in the credentials");
        char *colon = strchr((char *)buf, ':');
        if (!colon || colon == (char *)buf) {
                explicit_bzero(buf, sizeof(buf));
                return sb_seterr(SB_ERR_INVALID, errstr, errstr_size, "Authorization header: %s",
                                 colon ? "empty user name" : "no ':' between user and password");
        }
        *colon = '\0';
        size_t ulen = strlen((char *)buf), plen = strlen(colon + 1);
        if (ulen >= user_size || plen >= password_size) {
                explicit_bzero(buf, sizeof(buf));
                return sb_seterr(SB_ERR_INVALID, errstr, errstr_size,
                                 "Authorization header: user or password too long");
        }
        memcpy(user, buf, ulen + 1);
        memcpy(password, colon + 1, plen + 1);
        explicit_bzero(buf, sizeof(buf));
        return SB_OK;
}

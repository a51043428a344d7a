#include "regd_auth.h"
#include "regd_json.h"

#include <crypt.h>
#include <errno.h>
#include <gnutls/gnutls.h>
#include <gnutls/x509.h>
#include <microhttpd.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/random.h>

#define MAX_LINE 4096
#define MAX_NAME 128
#define MAX_DEPARTMENT 64
#define MAX_URL 4096
#define MAX_PEM (1024 * 1024)

typedef enum { ROLE_DEPARTMENT, ROLE_OPERATOR, ROLE_READER } role_t;

static const char *const role_names[] = {"department", "operator", "reader"};

typedef struct {
        char *name;
        role_t role;
        char *department; /* ROLE_DEPARTMENT only, else NULL */
        char *hash;       /* NULL: certificate only */
        int line;
} principal_t;

struct regd_auth_s {
        principal_t *users; /* sorted by name */
        size_t n;
        int reads_need_auth;
        /* Verified against for an unknown user, so that it costs the time
         * of a wrong password of the file's first password user. */
        char dummy[CRYPT_OUTPUT_SIZE];
};

/* ---- users file ---- */

static int name_ok(const char *s) {
        size_t n = strlen(s);
        if (n == 0 || n > MAX_NAME)
                return 0;
        for (; *s; s++)
                if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') || (*s >= '0' && *s <= '9') ||
                      strchr("._@+-", *s)))
                        return 0;
        return 1;
}

/* A department is the first part of its topics' names, so no dot. */
static int department_ok(const char *s) {
        size_t n = strlen(s);
        if (n == 0 || n > MAX_DEPARTMENT)
                return 0;
        for (; *s; s++)
                if (!((*s >= 'a' && *s <= 'z') || (*s >= '0' && *s <= '9') || *s == '_' || *s == '-'))
                        return 0;
        return 1;
}

static int role_parse(const char *s) {
        for (size_t i = 0; i < sizeof(role_names) / sizeof(*role_names); i++)
                if (strcmp(s, role_names[i]) == 0)
                        return (int)i;
        return -1;
}

/* The methods crypt(3) offers that are still fit for passwords, and how
 * many characters of hash follow the setting's last '$' (0: fixed total
 * length instead, bcrypt's 60). */
static const struct {
        const char *prefix;
        size_t hash_len;
} methods[] = {{"$y$", 43}, {"$gy$", 43}, {"$7$", 43}, {"$6$", 86}, {"$2b$", 0}};

static int ascii64(char ch) {
        return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
               ch == '.' || ch == '/';
}

/* Checks that `hash` is a whole crypt(3) hash of an accepted method. */
static int hash_check(const char *hash, char *why, size_t why_size) {
        size_t i, len = strlen(hash);
        for (i = 0; i < sizeof(methods) / sizeof(*methods); i++)
                if (strncmp(hash, methods[i].prefix, strlen(methods[i].prefix)) == 0)
                        break;
        if (i == sizeof(methods) / sizeof(*methods)) {
                snprintf(why, why_size,
                         "hash is not of a method accepted here (yescrypt $y$, gost-yescrypt $gy$, "
                         "scrypt $7$, SHA-512-crypt $6$, bcrypt $2b$): make it with sharebus-passwd");
                return -1;
        }
        if (crypt_checksalt(hash) != CRYPT_SALT_OK) {
                snprintf(why, why_size, "hash has a malformed or weak setting");
                return -1;
        }
        const char *tail = strrchr(hash, '$') + 1;
        size_t tail_len = strlen(tail), want = methods[i].hash_len;
        int bad = want ? tail_len != want : len != 60;
        for (const char *p = tail; *p; p++)
                bad |= !ascii64(*p);
        if (bad) {
                snprintf(why, why_size, "hash is truncated or malformed");
                return -1;
        }
        return 0;
}

static void principal_free(principal_t *p) {
        free(p->name);
        free(p->department);
        free(p->hash);
}

/* Parses one users-file line (no newline) into *p; on failure writes why. */
static int parse_line(char *line, principal_t *p, char *why, size_t why_size) {
        char *f[4];
        int n = 0;
        memset(p, 0, sizeof(*p));
        f[n++] = line;
        for (char *s = line; *s && n < 4; s++)
                if (*s == ':') {
                        *s = '\0';
                        f[n++] = s + 1;
                }
        if (n != 4) {
                snprintf(why, why_size, "expected name:role:department:hash, found %d field%s", n,
                         n == 1 ? "" : "s");
                return -1;
        }
        int role = role_parse(f[1]);
        if (!name_ok(f[0])) {
                snprintf(why, why_size, "bad name '%.*s' (1-%d of A-Z a-z 0-9 . _ @ + -)", MAX_NAME, f[0],
                         MAX_NAME);
                return -1;
        }
        if (role < 0) {
                snprintf(why, why_size, "user '%s': unknown role '%.32s' (department, operator or reader)",
                         f[0], f[1]);
                return -1;
        }
        if (role == ROLE_DEPARTMENT && !department_ok(f[2])) {
                snprintf(why, why_size,
                         "user '%s': role department needs a department (1-%d of a-z 0-9 _ -), "
                         "found '%.*s'",
                         f[0], MAX_DEPARTMENT, MAX_DEPARTMENT, f[2]);
                return -1;
        }
        if (role != ROLE_DEPARTMENT && *f[2]) {
                snprintf(why, why_size, "user '%s': role %s takes no department (found '%.*s')", f[0],
                         role_names[role], MAX_DEPARTMENT, f[2]);
                return -1;
        }
        if (strcmp(f[3], "-") != 0) {
                char inner[200];
                if (hash_check(f[3], inner, sizeof(inner))) {
                        snprintf(why, why_size, "user '%s': %s", f[0], inner);
                        return -1;
                }
        }
        p->role = (role_t)role;
        p->name = strdup(f[0]);
        p->department = role == ROLE_DEPARTMENT ? strdup(f[2]) : NULL;
        p->hash = strcmp(f[3], "-") != 0 ? strdup(f[3]) : NULL;
        if (!p->name || (role == ROLE_DEPARTMENT && !p->department) || (strcmp(f[3], "-") != 0 && !p->hash)) {
                principal_free(p);
                snprintf(why, why_size, "out of memory");
                return -1;
        }
        return 0;
}

static int by_name(const void *x, const void *y) {
        return strcmp(((const principal_t *)x)->name, ((const principal_t *)y)->name);
}

static const principal_t *find(const regd_auth_t *a, const char *name) {
        principal_t key = {0};
        key.name = (char *)name;
        return a->n ? bsearch(&key, a->users, a->n, sizeof(*a->users), by_name) : NULL;
}

static sb_err_t load(regd_auth_t *a, const char *path, char *errstr, size_t errstr_size) {
        FILE *f = fopen(path, "r");
        char *line = NULL, why[512];
        size_t cap = 0, room = 0;
        ssize_t len;
        int lineno = 0;
        sb_err_t err = SB_OK;

        if (!f)
                return sb_seterr(SB_ERR_CONFIG, errstr, errstr_size, "users file %s: %s", path,
                                 strerror(errno));
        while ((len = getline(&line, &cap, f)) >= 0) {
                lineno++;
                if ((size_t)len > MAX_LINE) {
                        err = sb_seterr(SB_ERR_CONFIG, errstr, errstr_size,
                                        "%s:%d: line longer than %d bytes", path, lineno, MAX_LINE);
                        break;
                }
                while (len > 0 && (line[len - 1] == '\n' || line[len - 1] == '\r'))
                        line[--len] = '\0';
                if ((size_t)len != strlen(line)) {
                        err = sb_seterr(SB_ERR_CONFIG, errstr, errstr_size, "%s:%d: NUL byte in line", path,
                                        lineno);
                        break;
                }
                const char *s = line + strspn(line, " \t");
                if (*s == '\0' || *s == '#')
                        continue;
                if (s != line || line[len - 1] == ' ' || line[len - 1] == '\t') {
                        err = sb_seterr(SB_ERR_CONFIG, errstr, errstr_size,
                                        "%s:%d: spaces around the entry are not allowed", path, lineno);
                        break;
                }
                if (a->n == room) {
                        size_t want = room ? room * 2 : 16;
                        principal_t *u = realloc(a->users, want * sizeof(*u));
                        if (!u) {
                                err = sb_seterr(SB_ERR_NOMEM, errstr, errstr_size, "out of memory");
                                break;
                        }
                        a->users = u;
                        room = want;
                }
                if (parse_line(line, &a->users[a->n], why, sizeof(why))) {
                        err = sb_seterr(SB_ERR_CONFIG, errstr, errstr_size, "%s:%d: %s", path, lineno, why);
                        break;
                }
                a->users[a->n++].line = lineno;
        }
        if (!err && ferror(f))
                err = sb_seterr(SB_ERR_IO, errstr, errstr_size, "users file %s: read error", path);
        free(line);
        fclose(f);
        if (err)
                return err;
        /* Stable for equal names: the later line is named as the duplicate. */
        for (size_t i = 1; i < a->n; i++)
                for (size_t j = i; j > 0 && by_name(&a->users[j - 1], &a->users[j]) > 0; j--) {
                        principal_t t = a->users[j];
                        a->users[j] = a->users[j - 1];
                        a->users[j - 1] = t;
                }
        for (size_t i = 1; i < a->n; i++)
                if (strcmp(a->users[i - 1].name, a->users[i].name) == 0) {
                        int first = a->users[i - 1].line, again = a->users[i].line;
                        return sb_seterr(SB_ERR_CONFIG, errstr, errstr_size,
                                         "%s:%d: duplicate user '%s' (first on line %d)", path,
                                         first > again ? first : again, a->users[i].name,
                                         first < again ? first : again);
                }
        return SB_OK;
}

static int fill_random(void *buf, size_t len) {
        unsigned char *p = buf;
        while (len) {
                ssize_t got = getrandom(p, len, 0);
                if (got < 0 && errno == EINTR)
                        continue;
                if (got <= 0)
                        return -1;
                p += got;
                len -= (size_t)got;
        }
        return 0;
}

/* crypt_r into out (CRYPT_OUTPUT_SIZE); returns 0, or -1 if crypt failed. */
static int hash_with(const char *password, const char *setting, char *out) {
        struct crypt_data *d = calloc(1, sizeof(*d));
        int rc = -1;
        if (!d)
                return -1;
        const char *h = crypt_r(password, setting, d);
        if (h && h[0] != '*' && strlen(h) < CRYPT_OUTPUT_SIZE) {
                memcpy(out, h, strlen(h) + 1);
                rc = 0;
        }
        explicit_bzero(d, sizeof(*d));
        free(d);
        return rc;
}

/* Equal strings, in a time that depends on the lengths only. */
static int equal_ct(const char *x, const char *y) {
        size_t lx = strlen(x), ly = strlen(y);
        volatile unsigned char diff = lx != ly;
        for (size_t i = 0; i < lx && i < ly; i++)
                diff |= (unsigned char)(x[i] ^ y[i]);
        return diff == 0;
}

static int verify(const char *password, const char *hash) {
        char out[CRYPT_OUTPUT_SIZE];
        int ok = hash_with(password, hash, out) == 0 && equal_ct(out, hash);
        explicit_bzero(out, sizeof(out));
        return ok;
}

regd_auth_t *regd_auth_new(const char *users_file, int reads_need_auth, char *errstr, size_t errstr_size) {
        regd_auth_t *a = calloc(1, sizeof(*a));
        unsigned char noise[24];
        char setting[CRYPT_GENSALT_OUTPUT_SIZE], phrase[sizeof(noise) * 2 + 1];

        if (!a) {
                sb_seterr(SB_ERR_NOMEM, errstr, errstr_size, "out of memory");
                return NULL;
        }
        a->reads_need_auth = reads_need_auth;
        if (!users_file || !*users_file) {
                sb_seterr(SB_ERR_CONFIG, errstr, errstr_size, "no users file given");
                goto fail;
        }
        if (load(a, users_file, errstr, errstr_size))
                goto fail;
        const char *model = "$y$";
        for (size_t i = 0; i < a->n; i++)
                if (a->users[i].hash) {
                        model = a->users[i].hash;
                        break;
                }
        /* The dummy takes the setting (method, cost, salt) of the model and a
         * random phrase, so no password matches it. */
        if (fill_random(noise, sizeof(noise))) {
                sb_seterr(SB_ERR_IO, errstr, errstr_size, "getrandom: %s", strerror(errno));
                goto fail;
        }
        for (size_t i = 0; i < sizeof(noise); i++)
                snprintf(phrase + 2 * i, 3, "%02x", noise[i]);
        if (strcmp(model, "$y$") == 0) {
                if (!crypt_gensalt_rn("$y$", 0, (const char *)noise, sizeof(noise), setting, sizeof(setting)))
                        goto no_hash;
                model = setting;
        }
        if (hash_with(phrase, model, a->dummy))
                goto no_hash;
        return a;
no_hash:
        sb_seterr(SB_ERR_CONFIG, errstr, errstr_size, "users file %s: crypt(3) cannot make a hash",
                  users_file);
fail:
        regd_auth_destroy(a);
        return NULL;
}

void regd_auth_destroy(regd_auth_t *a) {
        if (!a)
                return;
        for (size_t i = 0; i < a->n; i++)
                principal_free(&a->users[i]);
        free(a->users);
        free(a);
}

size_t regd_auth_count(const regd_auth_t *a) { return a ? a->n : 0; }

/* ---- classification and decision ---- */

#define MAX_SEGMENTS 6

sb_auth_class_t regd_auth_classify(const char *method, const char *url, char *subject, size_t subject_size) {
        char path[MAX_URL], *seg[MAX_SEGMENTS];
        int n = 0;

        if (subject_size)
                subject[0] = '\0';
        if (!method || !url)
                return SB_AUTH_ADMIN;
        if (strcmp(method, "GET") == 0 || strcmp(method, "HEAD") == 0 || strcmp(method, "OPTIONS") == 0)
                return SB_AUTH_READ;
        size_t len = strcspn(url, "?");
        if (len >= sizeof(path))
                return SB_AUTH_ADMIN;
        memcpy(path, url, len);
        path[len] = '\0';
        char *p = path + (*path == '/');
        /* As registry_http splits: "/" has no segment, "/a/" two ("a", ""). */
        while (*p) {
                if (n == MAX_SEGMENTS)
                        return SB_AUTH_ADMIN;
                seg[n++] = p;
                char *slash = strchr(p, '/');
                if (!slash)
                        break;
                *slash = '\0';
                p = slash + 1;
                if (!*p) {
                        if (n == MAX_SEGMENTS)
                                return SB_AUTH_ADMIN;
                        seg[n++] = p;
                }
        }
        for (int i = 0; i < n; i++)
                if (regd_pct_decode(seg[i], seg[i], 0))
                        return SB_AUTH_ADMIN;
        int subjects = n >= 2 && strcmp(seg[0], "subjects") == 0;
        int write = 0;
        if (strcmp(method, "POST") == 0) {
                if ((subjects && n == 2) || (n >= 1 && strcmp(seg[0], "compatibility") == 0))
                        return SB_AUTH_READ;
                write = subjects && n == 3 && strcmp(seg[2], "versions") == 0;
        } else if (strcmp(method, "DELETE") == 0) {
                write = subjects && (n == 2 || (n == 4 && strcmp(seg[2], "versions") == 0));
        }
        if (!write || strlen(seg[1]) >= subject_size)
                return SB_AUTH_ADMIN;
        memcpy(subject, seg[1], strlen(seg[1]) + 1);
        return SB_AUTH_WRITE;
}

/* Whether `subject` is one of department `dep`'s: "<dep>." and more. */
static int owns(const char *dep, const char *subject) {
        size_t n = strlen(dep);
        return strncmp(subject, dep, n) == 0 && subject[n] == '.' && subject[n + 1] != '\0';
}

sb_auth_decision_t regd_auth_check(const regd_auth_t *a, const char *user, const char *password,
                                   const char *cert_principal, const char *method, const char *url,
                                   char *reason, size_t reason_size) {
        char subject[1024], who[300];
        const principal_t *p = NULL;
        static const char *const class_names[] = {"read", "write", "admin request (config, mode)"};

        if (!reason_size)
                reason = NULL;
        if (!a) {
                if (reason)
                        snprintf(reason, reason_size, "authorization is off");
                return SB_AUTH_ALLOW;
        }
        sb_auth_class_t cls = regd_auth_classify(method, url, subject, sizeof(subject));
        if (user) {
                p = find(a, user);
                /* Always one hash, so that an unknown user answers as slowly
                 * as a wrong password. */
                int ok = verify(password ? password : "", p && p->hash ? p->hash : a->dummy);
                if (!p || !p->hash || !ok) {
                        if (reason)
                                snprintf(reason, reason_size, "user '%.128s': %s", user,
                                         !p         ? "unknown user"
                                         : !p->hash ? "certificate-only user sent a password"
                                                    : "wrong password");
                        return SB_AUTH_UNAUTHORIZED;
                }
                if (cert_principal && strcmp(cert_principal, user) != 0) {
                        if (reason)
                                snprintf(reason, reason_size,
                                         "user '%.128s': client certificate is for '%.128s', another "
                                         "principal",
                                         user, cert_principal);
                        return SB_AUTH_UNAUTHORIZED;
                }
        } else if (cert_principal) {
                if (!(p = find(a, cert_principal))) {
                        if (reason)
                                snprintf(reason, reason_size,
                                         "client certificate CN '%.128s' is not in the users file",
                                         cert_principal);
                        return SB_AUTH_UNAUTHORIZED;
                }
        }
        if (!p) {
                if (cls == SB_AUTH_READ && !a->reads_need_auth) {
                        if (reason)
                                snprintf(reason, reason_size, "anonymous: read allowed");
                        return SB_AUTH_ALLOW;
                }
                if (reason)
                        snprintf(reason, reason_size, "anonymous: %s needs credentials", class_names[cls]);
                return SB_AUTH_UNAUTHORIZED;
        }

        if (p->role == ROLE_DEPARTMENT)
                snprintf(who, sizeof(who), "user '%s' (department %s)", p->name, p->department);
        else
                snprintf(who, sizeof(who), "user '%s' (%s)", p->name, role_names[p->role]);
        int allow = p->role == ROLE_OPERATOR || cls == SB_AUTH_READ ||
                    (cls == SB_AUTH_WRITE && p->role == ROLE_DEPARTMENT && owns(p->department, subject));
        if (reason) {
                if (cls == SB_AUTH_WRITE)
                        snprintf(reason, reason_size, "%s: write of subject '%.512s' %s", who, subject,
                                 allow                        ? "allowed"
                                 : p->role == ROLE_DEPARTMENT ? "refused: not a subject of its department"
                                                              : "refused: role reader");
                else
                        snprintf(reason, reason_size, "%s: %s %s", who, class_names[cls],
                                 allow ? "allowed" : "refused: operators only");
        }
        return allow ? SB_AUTH_ALLOW : SB_AUTH_FORBIDDEN;
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

sb_err_t regd_auth_parse_basic(const char *value, char *user, size_t user_size, char *password,
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

/* ---- sharebus-passwd ---- */

sb_err_t regd_auth_make_line(const char *name, const char *role, const char *department, const char *password,
                             const char *method, char *line, size_t line_size, char *errstr,
                             size_t errstr_size) {
        char setting[CRYPT_GENSALT_OUTPUT_SIZE], hash[CRYPT_OUTPUT_SIZE], why[512], copy[MAX_LINE];
        unsigned char salt[16];
        const char *prefix;
        principal_t p;

        /* Each field alone first: a colon in one would shift the others. */
        if (!name || !name_ok(name))
                return sb_seterr(SB_ERR_INVALID, errstr, errstr_size,
                                 "bad name '%.*s' (1-%d of A-Z a-z 0-9 . _ @ + -)", MAX_NAME,
                                 name ? name : "", MAX_NAME);
        if (!role || role_parse(role) < 0)
                return sb_seterr(SB_ERR_INVALID, errstr, errstr_size,
                                 "unknown role '%.32s' (department, operator or reader)", role ? role : "");
        if (department && *department && !department_ok(department))
                return sb_seterr(SB_ERR_INVALID, errstr, errstr_size,
                                 "bad department '%.*s' (1-%d of a-z 0-9 _ -)", MAX_DEPARTMENT, department,
                                 MAX_DEPARTMENT);
        if (!method || strcmp(method, "yescrypt") == 0)
                prefix = "$y$";
        else if (strcmp(method, "sha512") == 0)
                prefix = "$6$";
        else
                return sb_seterr(SB_ERR_INVALID, errstr, errstr_size,
                                 "unknown hash method '%s' (yescrypt or sha512)", method);
        if (!password) {
                snprintf(hash, sizeof(hash), "-");
        } else {
                if (fill_random(salt, sizeof(salt)))
                        return sb_seterr(SB_ERR_IO, errstr, errstr_size, "getrandom: %s", strerror(errno));
                if (!crypt_gensalt_rn(prefix, 0, (const char *)salt, sizeof(salt), setting,
                                      sizeof(setting)) ||
                    hash_with(password, setting, hash))
                        return sb_seterr(SB_ERR_INVALID, errstr, errstr_size,
                                         "crypt(3) cannot make a %s hash here", method ? method : "yescrypt");
        }
        int len = snprintf(line, line_size, "%s:%s:%s:%s", name, role, department ? department : "", hash);
        explicit_bzero(hash, sizeof(hash));
        if (len < 0 || (size_t)len >= line_size || (size_t)len >= sizeof(copy))
                return sb_seterr(SB_ERR_INVALID, errstr, errstr_size, "line too long");
        memcpy(copy, line, (size_t)len + 1);
        if (parse_line(copy, &p, why, sizeof(why))) {
                line[0] = '\0';
                return sb_seterr(SB_ERR_INVALID, errstr, errstr_size, "%s", why);
        }
        principal_free(&p);
        return SB_OK;
}

/* ---- libmicrohttpd and GnuTLS ---- */

sb_err_t regd_auth_cert_cn(struct MHD_Connection *c, char *cn, size_t cn_size, char *errstr,
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

regd_tls_t *regd_tls_new(const char *cert_file, const char *key_file, const char *client_ca_file,
                         char *errstr, size_t errstr_size) {
        regd_tls_t *t = calloc(1, sizeof(*t));
        gnutls_certificate_credentials_t cred = NULL;
        int r;

        if (!t) {
                sb_seterr(SB_ERR_NOMEM, errstr, errstr_size, "out of memory");
                return NULL;
        }
        if (!cert_file || !*cert_file || !key_file || !*key_file) {
                sb_seterr(SB_ERR_CONFIG, errstr, errstr_size,
                          "TLS needs both tls_cert_file and tls_key_file");
                goto fail;
        }
        if (read_pem("tls_cert_file", cert_file, &t->cert, errstr, errstr_size) ||
            read_pem("tls_key_file", key_file, &t->key, errstr, errstr_size) ||
            (client_ca_file && *client_ca_file &&
             read_pem("tls_client_ca_file", client_ca_file, &t->ca, errstr, errstr_size)))
                goto fail;
        /* Checked here so that a bad file is named, not a failed start. */
        if ((r = gnutls_certificate_allocate_credentials(&cred)) < 0) {
                sb_seterr(SB_ERR_NOMEM, errstr, errstr_size, "gnutls: %s", gnutls_strerror(r));
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
        return t;
fail:
        if (cred)
                gnutls_certificate_free_credentials(cred);
        regd_tls_destroy(t);
        return NULL;
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

#include "regd_users.h"

#include <crypt.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#define MAX_LINE 4096
#define MAX_NAME 128
#define MAX_DEPARTMENT 64

static const char *const role_names[] = {"department", "operator", "reader"};

struct regd_users_s {
        regd_principal_t *users; /* sorted by name */
        size_t n;
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

static void principal_free(regd_principal_t *p) {
        free(p->name);
        free(p->department);
        free(p->hash);
}

/* Parses one users-file line (no newline) into *p; on failure writes why. */
static int parse_line(char *line, regd_principal_t *p, char *why, size_t why_size) {
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
        if (role == REGD_ROLE_DEPARTMENT && !department_ok(f[2])) {
                snprintf(why, why_size,
                         "user '%s': role department needs a department (1-%d of a-z 0-9 _ -), "
                         "found '%.*s'",
                         f[0], MAX_DEPARTMENT, MAX_DEPARTMENT, f[2]);
                return -1;
        }
        if (role != REGD_ROLE_DEPARTMENT && *f[2]) {
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
        p->role = (regd_role_t)role;
        p->name = strdup(f[0]);
        p->department = role == REGD_ROLE_DEPARTMENT ? strdup(f[2]) : NULL;
        p->hash = strcmp(f[3], "-") != 0 ? strdup(f[3]) : NULL;
        if (!p->name || (role == REGD_ROLE_DEPARTMENT && !p->department) ||
            (strcmp(f[3], "-") != 0 && !p->hash)) {
                principal_free(p);
                snprintf(why, why_size, "out of memory");
                return -1;
        }
        return 0;
}

static int by_name(const void *x, const void *y) {
        return strcmp(((const regd_principal_t *)x)->name, ((const regd_principal_t *)y)->name);
}

static const regd_principal_t *find(const regd_users_t *a, const char *name) {
        regd_principal_t key = {0};
        key.name = (char *)name;
        return a->n ? bsearch(&key, a->users, a->n, sizeof(*a->users), by_name) : NULL;
}

static sb_err_t load(regd_users_t *a, const char *path, char *errstr, size_t errstr_size) {
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
                        regd_principal_t *u = realloc(a->users, want * sizeof(*u));
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
                        regd_principal_t t = a->users[j];
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

sb_err_t regd_users_new(const char *users_file, regd_users_t **out, char *errstr, size_t errstr_size) {
        regd_users_t *a = calloc(1, sizeof(*a));
        unsigned char noise[24];
        char setting[CRYPT_GENSALT_OUTPUT_SIZE], phrase[sizeof(noise) * 2 + 1];
        sb_err_t err;

        *out = NULL;
        if (!a)
                return sb_seterr(SB_ERR_NOMEM, errstr, errstr_size, "out of memory");
        if (!users_file || !*users_file) {
                err = sb_seterr(SB_ERR_CONFIG, errstr, errstr_size, "no users file given");
                goto fail;
        }
        if ((err = load(a, users_file, errstr, errstr_size)))
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
                err = sb_seterr(SB_ERR_IO, errstr, errstr_size, "getrandom: %s", strerror(errno));
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
        *out = a;
        return SB_OK;
no_hash:
        err = sb_seterr(SB_ERR_CONFIG, errstr, errstr_size, "users file %s: crypt(3) cannot make a hash",
                        users_file);
fail:
        regd_users_destroy(a);
        return err;
}

void regd_users_destroy(regd_users_t *a) {
        if (!a)
                return;
        for (size_t i = 0; i < a->n; i++)
                principal_free(&a->users[i]);
        free(a->users);
        free(a);
}

size_t regd_users_count(const regd_users_t *a) { return a ? a->n : 0; }

const regd_principal_t *regd_users_find(const regd_users_t *a, const char *name) { return find(a, name); }

int regd_users_verify(const regd_users_t *a, const regd_principal_t *p, const char *password) {
        /* Always one hash, so that an unknown user answers as slowly as a
         * wrong password. */
        int ok = verify(password ? password : "", p && p->hash ? p->hash : a->dummy);
        return ok && p && p->hash;
}

const char *regd_users_role_name(regd_role_t role) {
        return (size_t)role < sizeof(role_names) / sizeof(*role_names) ? role_names[role] : "unknown";
}
sb_err_t regd_users_make_line(const char *name, const char *role, const char *department,
                              const char *password, const char *method, char *line, size_t line_size,
                              char *errstr, size_t errstr_size) {
        char setting[CRYPT_GENSALT_OUTPUT_SIZE], hash[CRYPT_OUTPUT_SIZE], why[512], copy[MAX_LINE];
        unsigned char salt[16];
        const char *prefix;
        regd_principal_t p;

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

/*
 * regd_users: sharebus-registry's principals, from a users file, one per
 * line:
 *
 *     name:role:department:hash
 *
 * `role` is `department` (reads; writes only the subjects of its own topics,
 * i.e. subjects that start with "<department>."), `operator` (everything:
 * reads, any subject, config and mode) or `reader` (reads only).  The
 * department field is set for role `department` and empty for the others.
 * `hash` is a salted crypt(3) hash made by sharebus-passwd: yescrypt ($y$,
 * the default), gost-yescrypt ($gy$), scrypt ($7$), SHA-512-crypt ($6$) or
 * bcrypt ($2b$); weaker methods are refused.  A hash of `-` admits the
 * principal only by a client certificate whose subject CN is its name.
 * `#` starts a comment line; blank lines are skipped; a malformed line, an
 * unknown role or a duplicate name refuses the whole file with file:line.
 *
 * What a principal may do is regd_authz's to decide.
 */
#ifndef REGD_USERS_H
#define REGD_USERS_H

#include <stddef.h>

#include "sb_error.h"

typedef enum { REGD_ROLE_DEPARTMENT, REGD_ROLE_OPERATOR, REGD_ROLE_READER } regd_role_t;

/* One line of the file.  Owned by the regd_users_t it came from. */
typedef struct {
        char *name;
        regd_role_t role;
        char *department; /* REGD_ROLE_DEPARTMENT only, else NULL */
        char *hash;       /* NULL: certificate only */
        int line;
} regd_principal_t;

typedef struct regd_users_s regd_users_t;

/* Loads `users_file` (a path; read once, not watched) into a new *out the
 * caller destroys.  On failure *out is NULL and errstr says why
 * ("users.txt:7: ..."). */
sb_err_t regd_users_new(const char *users_file, regd_users_t **out, char *errstr, size_t errstr_size);
void regd_users_destroy(regd_users_t *u);
/* How many principals the file holds (0 for NULL). */
size_t regd_users_count(const regd_users_t *u);
/* The principal called `name`, or NULL (borrowed from `u`). */
const regd_principal_t *regd_users_find(const regd_users_t *u, const char *name);
/* Whether `password` is `p`'s (p NULL or certificate-only: never).  Costs
 * one hash whatever p is, so that an unknown user answers as slowly as a
 * wrong password. */
int regd_users_verify(const regd_users_t *u, const regd_principal_t *p, const char *password);
/* "department", "operator" or "reader" (static). */
const char *regd_users_role_name(regd_role_t role);

/* A users-file line for `name` with a new hash of `password` (`password`
 * NULL: certificate only, hash "-").  `method` is "yescrypt" (NULL means
 * this), or "sha512"; the salt comes from getrandom(2).  The line is checked
 * as regd_users_new would check it.  Written without a newline. */
sb_err_t regd_users_make_line(const char *name, const char *role, const char *department,
                              const char *password, const char *method, char *line, size_t line_size,
                              char *errstr, size_t errstr_size);

#endif

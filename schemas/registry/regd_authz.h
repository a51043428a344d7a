/*
 * regd_authz: who may do what on sharebus-registry.
 *
 * The HTTP layer's route table (regd_http.c) gives every request an access
 * class and, for a write, its subject; this module only decides, given the
 * credentials, the class and the subject:
 *   READ           reads, lookups, compatibility tests: anyone, anonymous
 *                  clients too unless `reads_need_auth`;
 *   WRITE_SUBJECT  register or delete under one subject: operators, and
 *                  role department for subjects "<department>.<more>";
 *   OPERATOR       config and mode changes, and any request no route
 *                  classifies: operators only.
 * Credentials that are sent are always checked, even for an open read: a
 * wrong password is 401, never silently anonymous.  Bad or missing
 * credentials where they are needed: 401; a known principal asking beyond
 * its role: 403.  Principals come from the users file (regd_users.h).
 */
#ifndef REGD_AUTHZ_H
#define REGD_AUTHZ_H

#include <stddef.h>

#include "regd_users.h"
#include "sb_error.h"

typedef enum {
        REGD_ACCESS_READ = 0,
        REGD_ACCESS_WRITE_SUBJECT = 1,
        REGD_ACCESS_OPERATOR = 2,
} regd_access_t;

typedef enum {
        REGD_AUTHZ_ALLOW = 0,
        REGD_AUTHZ_UNAUTHORIZED = 401, /* no or bad credentials where they are needed */
        REGD_AUTHZ_FORBIDDEN = 403,    /* a known principal, not allowed this */
} regd_authz_decision_t;

typedef struct regd_authz_s regd_authz_t;

/* Loads `users_file` (regd_users_new) into a new *out the caller destroys;
 * *out NULL and errstr set on failure. */
sb_err_t regd_authz_new(const char *users_file, int reads_need_auth, regd_authz_t **out, char *errstr,
                        size_t errstr_size);
void regd_authz_destroy(regd_authz_t *a);
/* How many principals the users file holds. */
size_t regd_authz_count(const regd_authz_t *a);

/* Decides one request of class `access` (on `subject`, required for
 * WRITE_SUBJECT; a WRITE_SUBJECT without one, or an unknown class, is taken
 * as OPERATOR).  `user`/`password` are the Basic credentials (user NULL
 * when the request has none), `cert_principal` the CN of a verified client
 * certificate (NULL when none).  With both, they must name the same
 * principal.  `reason` gets a line for the log that names the principal
 * and why (also for ALLOW); it is not meant for the client, since it tells
 * an unknown user from a wrong password.  An unknown user costs as much
 * time as a wrong password.  `a` NULL (no users file configured) allows
 * everything.  Thread-safe: `a` is read-only after regd_authz_new. */
regd_authz_decision_t regd_authz_check(const regd_authz_t *a, const char *user, const char *password,
                                       const char *cert_principal, regd_access_t access, const char *subject,
                                       char *reason, size_t reason_size);

/* Parses an Authorization header value "Basic <base64(user:password)>" into
 * the caller's buffers.  Returns SB_OK; SB_ERR_NOT_FOUND if `value` is NULL
 * (no header); SB_ERR_INVALID for another scheme, bad base64, no colon, an
 * empty user, control characters or a value too long for the buffers. */
sb_err_t regd_authz_parse_basic(const char *value, char *user, size_t user_size, char *password,
                                size_t password_size, char *errstr, size_t errstr_size);

#endif

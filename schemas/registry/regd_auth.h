/*
 * registry_auth: who may do what on sharebus-registry.
 *
 * Principals come from a users file, one per line:
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
 * Requests fall in three classes (regd_auth_classify):
 *   read   GET/HEAD/OPTIONS of anything, POST /subjects/{s} (lookup), POST
 *          /compatibility/... (test only);
 *   write  POST /subjects/{s}/versions, DELETE /subjects/{s},
 *          DELETE /subjects/{s}/versions/{v}: of subject s;
 *   admin  everything else: PUT/DELETE /config[/{s}], PUT/DELETE /mode[/{s}]
 *          and any unknown write, so a route added later is operator-only
 *          until it is classified here.
 * Reads are open to anonymous clients unless `reads_need_auth`.  Credentials
 * that are sent are always checked, even for an open read: a wrong password
 * is 401, never silently anonymous.  Bad or missing credentials where they
 * are needed: 401; a known principal asking beyond its role: 403.
 *
 * The decision (regd_auth_check) needs no HTTP server, so it is unit
 * tested as a table.  The libmicrohttpd glue is at the end: Basic header
 * parsing, the verified client certificate's CN, and the TLS options.
 */
#ifndef REGD_AUTH_H
#define REGD_AUTH_H

#include <stddef.h>

#include "sb_error.h"

struct MHD_Connection;
struct MHD_OptionItem;

typedef struct regd_auth_s regd_auth_t;

typedef enum {
        SB_AUTH_ALLOW = 0,
        SB_AUTH_UNAUTHORIZED = 401, /* no or bad credentials where they are needed */
        SB_AUTH_FORBIDDEN = 403,    /* a known principal, not allowed this */
} sb_auth_decision_t;

typedef enum {
        SB_AUTH_READ = 0,
        SB_AUTH_WRITE = 1, /* changes one subject (regd_auth_classify sets it) */
        SB_AUTH_ADMIN = 2,
} sb_auth_class_t;

/* Loads `users_file` (a path; read once, not watched).  Returns NULL with
 * errstr set ("users.txt:7: ...") if it cannot be read or any line is
 * malformed.  The caller destroys the result. */
regd_auth_t *regd_auth_new(const char *users_file, int reads_need_auth, char *errstr, size_t errstr_size);
void regd_auth_destroy(regd_auth_t *a);
/* How many principals the file holds. */
size_t regd_auth_count(const regd_auth_t *a);

/* Classifies a request.  `url` is the path as received, still
 * percent-encoded (what registry_http's on_request gets, since it keeps
 * escapes), without the query string.  For SB_AUTH_WRITE the decoded subject
 * is copied to `subject` (which must hold subject_size bytes; a subject that
 * does not fit, or a segment that does not decode, makes the request admin). */
sb_auth_class_t regd_auth_classify(const char *method, const char *url, char *subject, size_t subject_size);

/* Decides one request.  `user`/`password` are the Basic credentials (user
 * NULL when the request has none), `cert_principal` the CN of a verified
 * client certificate (NULL when none).  With both, they must name the same
 * principal.  `reason` gets a line for the log that names the principal and
 * why (also for ALLOW); it is not meant for the client, since it tells an
 * unknown user from a wrong password.  An unknown user costs as much time as
 * a wrong password.  `a` NULL (no users file configured) allows everything.
 * Thread-safe: `a` is read-only after regd_auth_new. */
sb_auth_decision_t regd_auth_check(const regd_auth_t *a, const char *user, const char *password,
                                   const char *cert_principal, const char *method, const char *url,
                                   char *reason, size_t reason_size);

/* Parses an Authorization header value "Basic <base64(user:password)>" into
 * the caller's buffers.  Returns SB_OK; SB_ERR_NOT_FOUND if `value` is NULL
 * (no header); SB_ERR_INVALID for another scheme, bad base64, no colon, an
 * empty user, control characters or a value too long for the buffers. */
sb_err_t regd_auth_parse_basic(const char *value, char *user, size_t user_size, char *password,
                               size_t password_size, char *errstr, size_t errstr_size);

/* A users-file line for `name` with a new hash of `password` (`password`
 * NULL: certificate only, hash "-").  `method` is "yescrypt" (NULL means
 * this), or "sha512"; the salt comes from getrandom(2).  The line is checked
 * as regd_auth_new would check it.  Written without a newline. */
sb_err_t regd_auth_make_line(const char *name, const char *role, const char *department, const char *password,
                             const char *method, char *line, size_t line_size, char *errstr,
                             size_t errstr_size);

/* The subject CN of the connection's client certificate, checked against
 * the daemon's client CA (MHD_OPTION_HTTPS_MEM_TRUST), its validity dates
 * and, if it has one, its extended key usage (TLS client).  Returns SB_OK;
 * SB_ERR_NOT_FOUND when the connection is not TLS or sent no certificate;
 * SB_ERR_INVALID with the reason when the certificate does not verify or
 * has no single CN (answer 401). */
sb_err_t regd_auth_cert_cn(struct MHD_Connection *c, char *cn, size_t cn_size, char *errstr,
                           size_t errstr_size);

/* TLS material for the daemon, read from PEM files.  `client_ca_file` may
 * be NULL or "": no client certificates are asked for. */
typedef struct regd_tls_s regd_tls_t;

regd_tls_t *regd_tls_new(const char *cert_file, const char *key_file, const char *client_ca_file,
                         char *errstr, size_t errstr_size);
void regd_tls_destroy(regd_tls_t *t);

/* Fills items[] (room for REGD_TLS_MHD_OPTIONS entries, the last one
 * MHD_OPTION_END) for MHD_OPTION_ARRAY; the daemon also needs MHD_USE_TLS in
 * its flags.  The items point into `t`, which must outlive the daemon. */
#define REGD_TLS_MHD_OPTIONS 4
void regd_tls_mhd_options(const regd_tls_t *t, struct MHD_OptionItem *items);

#endif

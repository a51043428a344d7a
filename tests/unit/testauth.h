/*
 * testauth: what the registry's authorization suites (test_registry_auth,
 * test_registry_tls) share: a users file of seven principals written once
 * before the tests fork, the authorizer loaded from it, and the decision
 * the server makes for a request (the route table's access class, then
 * regd_authz_check).
 */
#ifndef SB_TESTAUTH_H
#define SB_TESTAUTH_H

#include <stddef.h>

#include "regd_authz.h"

/* The users file users_setup wrote. */
extern char users_path[256];

/* regd_authz_new in the shape the tests use: the authorizer, or NULL with
 * errstr set; the caller destroys it. */
regd_authz_t *authz_load(const char *path, int reads_need_auth, char *errstr, size_t errstr_size);
/* What the server decides for (credentials, method, url). */
regd_authz_decision_t decide(const regd_authz_t *a, const char *user, const char *password, const char *cert,
                             const char *method, const char *url, char *reason, size_t reason_size);
/* Unchecked fixture: writes the users file, once, before the tests fork. */
void users_setup(void);
void users_teardown(void);
/* The authorizer of the users file, checked to hold every principal. */
regd_authz_t *auth_new(int reads_need_auth);

#endif

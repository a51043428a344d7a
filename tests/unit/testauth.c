/* testauth: see testauth.h. */
#include "testauth.h"

#include <check.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "regd_http.h"
#include "regd_users.h"
#include "testutil.h"

regd_authz_t *authz_load(const char *path, int reads_need_auth, char *errstr, size_t errstr_size) {
        regd_authz_t *a = NULL;
        sb_err_t err = regd_authz_new(path, reads_need_auth, &a, errstr, errstr_size);
        ck_assert((err == SB_OK) == (a != NULL));
        return a;
}

/* What the server decides: the route table's access class and subject
 * (regd_http_access), then regd_authz_check. */
regd_authz_decision_t decide(const regd_authz_t *a, const char *user, const char *password, const char *cert,
                             const char *method, const char *url, char *reason, size_t reason_size) {
        char subject[1024];
        regd_access_t access = regd_http_access(method, url, subject, sizeof(subject));
        return regd_authz_check(a, user, password, cert, access,
                                access == REGD_ACCESS_WRITE_SUBJECT ? subject : NULL, reason, reason_size);
}

/* ---- the users file every decision test reads ---- */

static const struct {
        const char *name, *role, *department, *password, *method;
} users[] = {
        {"market", "department", "market", "market-pw", "sha512"},
        {"marketing", "department", "marketing", "marketing-pw", "sha512"},
        {"tax", "department", "tax", "tax-pw", "sha512"},
        {"ops", "operator", "", "ops-pw", "sha512"},
        {"viewer", "reader", "", "viewer-pw", "sha512"},
        {"cert-market", "department", "market", NULL, NULL},
        {"civil", "department", "civil", "civil-pw", "yescrypt"},
};

char users_path[256];

/* Unchecked fixture: runs once, before the tests fork. */
void users_setup(void) {
        char text[8192] = "# sharebus-registry users (test)\n\n";
        for (size_t i = 0; i < sizeof(users) / sizeof(*users); i++) {
                char line[1024];
                TEST_CALL(regd_users_make_line(users[i].name, users[i].role, users[i].department,
                                               users[i].password, users[i].method, line, sizeof(line),
                                               TEST_ERR));
                strncat(text, line, sizeof(text) - strlen(text) - 2);
                strcat(text, i % 2 ? "\r\n" : "\n"); /* CRLF lines are fine too */
        }
        snprintf(users_path, sizeof(users_path), "%s", test_write_temp(text, ".users"));
}

void users_teardown(void) { unlink(users_path); }

regd_authz_t *auth_new(int reads_need_auth) {
        char errstr[512] = "";
        regd_authz_t *a = authz_load(users_path, reads_need_auth, errstr, sizeof(errstr));
        ck_assert_msg(a != NULL, "regd_auth_new: %s", errstr);
        ck_assert_uint_eq(regd_authz_count(a), sizeof(users) / sizeof(*users));
        return a;
}

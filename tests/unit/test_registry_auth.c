/*
 * test_registry_auth: the registry's authorization.  Decisions as tables
 * (role x method x path, credentials, reads open or not), the users file
 * and its errors, Basic header parsing and sharebus-passwd's lines.  The
 * access class of each request comes from the HTTP layer's route table
 * (regd_http_access).  The TLS glue is in test_registry_tls.
 */
#include <check.h>
#include <curl/curl.h>
#include <jansson.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "regd_authz.h"
#include "regd_http.h"
#include "regd_tls.h"
#include "testauth.h"
#include "testcerts.h"
#include "testutil.h"

#define A REGD_AUTHZ_ALLOW
#define U REGD_AUTHZ_UNAUTHORIZED
#define F REGD_AUTHZ_FORBIDDEN

/* ---- the calls under test, in the shape the tests use ---- */

/* ---- classification ---- */

static const struct {
        const char *method, *url;
        regd_access_t cls;
        const char *subject;
} classes[] = {
        {"GET", "/", REGD_ACCESS_READ, ""},
        {"GET", "/subjects", REGD_ACCESS_READ, ""},
        {"GET", "/subjects/market.x-value/versions/latest", REGD_ACCESS_READ, ""},
        {"GET", "/schemas/ids/1", REGD_ACCESS_READ, ""},
        {"GET", "/config", REGD_ACCESS_READ, ""},
        {"GET", "/anything/at/all/even/very/deep/paths", REGD_ACCESS_READ, ""},
        {"HEAD", "/subjects", REGD_ACCESS_READ, ""},
        {"OPTIONS", "/subjects", REGD_ACCESS_READ, ""},
        {"POST", "/subjects/market.x-value", REGD_ACCESS_READ, ""}, /* lookup */
        {"POST", "/compatibility/subjects/market.x-value/versions/latest", REGD_ACCESS_READ, ""},
        {"POST", "/compatibility/subjects/market.x-value/versions", REGD_ACCESS_READ, ""},
        {"POST", "/subjects/market.x-value/versions", REGD_ACCESS_WRITE_SUBJECT, "market.x-value"},
        {"POST", "subjects/market.x-value/versions", REGD_ACCESS_WRITE_SUBJECT, "market.x-value"},
        {"POST", "/subjects/market.x-value/versions?normalize=true", REGD_ACCESS_WRITE_SUBJECT,
         "market.x-value"},
        {"POST", "/subjects/a%2Fb/versions", REGD_ACCESS_WRITE_SUBJECT, "a/b"},
        {"POST", "/subjects/market%2ex-value/versions", REGD_ACCESS_WRITE_SUBJECT, "market.x-value"},
        {"POST", "/subjects/%zz/versions", REGD_ACCESS_OPERATOR, ""}, /* answered 400 */
        {"POST", "/subjects//versions", REGD_ACCESS_WRITE_SUBJECT, ""},
        {"DELETE", "/subjects/market.x-value", REGD_ACCESS_WRITE_SUBJECT, "market.x-value"},
        {"DELETE", "/subjects/market.x-value/versions/3", REGD_ACCESS_WRITE_SUBJECT, "market.x-value"},
        {"DELETE", "/subjects/market.x-value/versions/latest", REGD_ACCESS_WRITE_SUBJECT, "market.x-value"},
        {"POST", "/subjects/a%00b/versions", REGD_ACCESS_OPERATOR, ""}, /* no subject holds a NUL */
        {"POST", "/subjects/market.x-value/versions/", REGD_ACCESS_OPERATOR, ""},
        {"POST", "/subjects/market.x-value/versions/1", REGD_ACCESS_OPERATOR, ""},
        {"DELETE", "/subjects/market.x-value/versions", REGD_ACCESS_OPERATOR, ""},
        {"DELETE", "/subjects", REGD_ACCESS_OPERATOR, ""},
        {"PUT", "/subjects/market.x-value/versions", REGD_ACCESS_OPERATOR, ""},
        {"PATCH", "/subjects/market.x-value/versions", REGD_ACCESS_OPERATOR, ""},
        {"get", "/subjects", REGD_ACCESS_OPERATOR, ""}, /* methods are case-sensitive */
        {"PUT", "/config", REGD_ACCESS_OPERATOR, ""},
        {"PUT", "/config/market.x-value", REGD_ACCESS_OPERATOR, ""},
        {"DELETE", "/config", REGD_ACCESS_OPERATOR, ""},
        {"DELETE", "/config/market.x-value", REGD_ACCESS_OPERATOR, ""},
        {"PUT", "/mode", REGD_ACCESS_OPERATOR, ""},
        {"PUT", "/mode/market.x-value", REGD_ACCESS_OPERATOR, ""},
        {"DELETE", "/mode/market.x-value", REGD_ACCESS_OPERATOR, ""},
        {"POST", "/", REGD_ACCESS_OPERATOR, ""},
        {"POST", "/something/new", REGD_ACCESS_OPERATOR, ""},
        {"POST", "/a/b/c/d/e/f/g/h", REGD_ACCESS_OPERATOR, ""},
};

START_TEST(classify_table) {
        for (size_t i = 0; i < sizeof(classes) / sizeof(*classes); i++) {
                char subject[256];
                regd_access_t got =
                        regd_http_access(classes[i].method, classes[i].url, subject, sizeof(subject));
                ck_assert_msg(got == classes[i].cls, "%s %s: class %d, want %d", classes[i].method,
                              classes[i].url, (int)got, (int)classes[i].cls);
                ck_assert_msg(strcmp(subject, classes[i].subject) == 0, "%s %s: subject '%s', want '%s'",
                              classes[i].method, classes[i].url, subject, classes[i].subject);
        }
}
END_TEST

START_TEST(classify_subject_too_long) {
        char url[600], subject[16];
        snprintf(url, sizeof(url), "/subjects/market.%0400d-value/versions", 0);
        ck_assert_int_eq(regd_http_access("POST", url, subject, sizeof(subject)), REGD_ACCESS_OPERATOR);
        ck_assert_str_eq(subject, "");
        ck_assert_int_eq(regd_http_access(NULL, "/", subject, sizeof(subject)), REGD_ACCESS_OPERATOR);
        ck_assert_int_eq(regd_http_access("GET", NULL, subject, sizeof(subject)), REGD_ACCESS_OPERATOR);
}
END_TEST

/* ---- decisions ---- */

typedef struct {
        int reads_need_auth;
        regd_authz_decision_t want;
        const char *user, *password, *cert, *method, *url;
} decision_t;

#define ROW(rna, user, password, cert, method, url, want)                                                    \
        { rna, want, user, password, cert, method, url }

static const decision_t decisions[] = {
        /* anonymous, reads open */
        ROW(0, NULL, NULL, NULL, "GET", "/", A),
        ROW(0, NULL, NULL, NULL, "GET", "/subjects", A),
        ROW(0, NULL, NULL, NULL, "GET", "/schemas/ids/1", A),
        ROW(0, NULL, NULL, NULL, "HEAD", "/subjects/market.x-value/versions", A),
        ROW(0, NULL, NULL, NULL, "POST", "/subjects/market.x-value", A),
        ROW(0, NULL, NULL, NULL, "POST", "/compatibility/subjects/market.x-value/versions/latest", A),
        ROW(0, NULL, NULL, NULL, "POST", "/subjects/market.x-value/versions", U),
        ROW(0, NULL, NULL, NULL, "DELETE", "/subjects/market.x-value", U),
        ROW(0, NULL, NULL, NULL, "DELETE", "/subjects/market.x-value/versions/1", U),
        ROW(0, NULL, NULL, NULL, "PUT", "/config", U),
        ROW(0, NULL, NULL, NULL, "PUT", "/mode", U),
        ROW(0, NULL, NULL, NULL, "DELETE", "/config/market.x-value", U),
        ROW(0, NULL, NULL, NULL, "POST", "/unknown", U),
        /* anonymous, reads need credentials */
        ROW(1, NULL, NULL, NULL, "GET", "/", U),
        ROW(1, NULL, NULL, NULL, "GET", "/schemas/ids/1", U),
        ROW(1, NULL, NULL, NULL, "POST", "/subjects/market.x-value", U),
        ROW(1, NULL, NULL, NULL, "POST", "/subjects/market.x-value/versions", U),
        /* a department: reads, and writes its own subjects only */
        ROW(1, "market", "market-pw", NULL, "GET", "/subjects", A),
        ROW(1, "market", "market-pw", NULL, "GET", "/subjects/tax.taxpayer-value/versions/latest", A),
        ROW(1, "market", "market-pw", NULL, "POST", "/subjects/tax.taxpayer-value", A),
        ROW(1, "market", "market-pw", NULL, "POST", "/compatibility/subjects/tax.taxpayer-value/versions", A),
        ROW(1, "market", "market-pw", NULL, "POST", "/subjects/market.business_license-value/versions", A),
        ROW(1, "market", "market-pw", NULL, "POST", "/subjects/market.business_license-key/versions", A),
        ROW(1, "market", "market-pw", NULL, "POST", "/subjects/market%2Ebusiness_license-key/versions", A),
        ROW(1, "market", "market-pw", NULL, "POST", "/subjects/marketing.x-value/versions", F),
        ROW(1, "market", "market-pw", NULL, "POST", "/subjects/market/versions", F),
        ROW(1, "market", "market-pw", NULL, "POST", "/subjects/market./versions", F),
        ROW(1, "market", "market-pw", NULL, "POST", "/subjects/market-value/versions", F),
        ROW(1, "market", "market-pw", NULL, "POST", "/subjects/Market.x-value/versions", F),
        ROW(1, "market", "market-pw", NULL, "POST", "/subjects/xmarket.x-value/versions", F),
        ROW(1, "market", "market-pw", NULL, "POST", "/subjects/.market.x-value/versions", F),
        ROW(1, "market", "market-pw", NULL, "POST", "/subjects/tax.taxpayer-value/versions", F),
        ROW(1, "market", "market-pw", NULL, "POST", "/subjects/tax.x%2F..%2Fmarket.y-value/versions", F),
        ROW(1, "market", "market-pw", NULL, "POST", "/subjects//versions", F),
        ROW(1, "market", "market-pw", NULL, "POST", "/subjects/market.x-value/versions/", F),
        ROW(1, "market", "market-pw", NULL, "POST", "/subjects/market.x%00-value/versions", F),
        ROW(1, "market", "market-pw", NULL, "DELETE", "/subjects/market.x-value", A),
        ROW(1, "market", "market-pw", NULL, "DELETE", "/subjects/market.x-value/versions/2", A),
        ROW(1, "market", "market-pw", NULL, "DELETE", "/subjects/tax.x-value/versions/2", F),
        ROW(1, "market", "market-pw", NULL, "DELETE", "/subjects/marketing.x-value", F),
        ROW(1, "market", "market-pw", NULL, "PUT", "/config", F),
        ROW(1, "market", "market-pw", NULL, "PUT", "/config/market.x-value", F),
        ROW(1, "market", "market-pw", NULL, "DELETE", "/config/market.x-value", F),
        ROW(1, "market", "market-pw", NULL, "PUT", "/mode", F),
        ROW(1, "market", "market-pw", NULL, "PUT", "/mode/market.x-value", F),
        ROW(1, "market", "market-pw", NULL, "POST", "/unknown", F),
        ROW(1, "market", "market-pw", NULL, "PATCH", "/subjects/market.x-value/versions", F),
        ROW(0, "marketing", "marketing-pw", NULL, "POST", "/subjects/marketing.x-value/versions", A),
        ROW(0, "marketing", "marketing-pw", NULL, "POST", "/subjects/market.x-value/versions", F),
        ROW(0, "tax", "tax-pw", NULL, "POST", "/subjects/tax.taxpayer-key/versions", A),
        ROW(0, "tax", "tax-pw", NULL, "POST", "/subjects/market.business_license-key/versions", F),
        ROW(0, "civil", "civil-pw", NULL, "POST", "/subjects/civil.resident-value/versions",
            A), /* yescrypt */
        ROW(0, "civil", "civil-pw", NULL, "POST", "/subjects/tax.taxpayer-value/versions", F),
        /* the operator may do everything */
        ROW(1, "ops", "ops-pw", NULL, "GET", "/subjects", A),
        ROW(1, "ops", "ops-pw", NULL, "POST", "/subjects/tax.taxpayer-value/versions", A),
        ROW(1, "ops", "ops-pw", NULL, "DELETE", "/subjects/tax.taxpayer-value", A),
        ROW(1, "ops", "ops-pw", NULL, "DELETE", "/subjects/tax.taxpayer-value/versions/1", A),
        ROW(1, "ops", "ops-pw", NULL, "PUT", "/config", A),
        ROW(1, "ops", "ops-pw", NULL, "PUT", "/config/tax.taxpayer-value", A),
        ROW(1, "ops", "ops-pw", NULL, "DELETE", "/config/tax.taxpayer-value", A),
        ROW(1, "ops", "ops-pw", NULL, "PUT", "/mode", A),
        ROW(1, "ops", "ops-pw", NULL, "PUT", "/mode/tax.taxpayer-value", A),
        ROW(1, "ops", "ops-pw", NULL, "POST", "/unknown", A),
        /* a reader reads only */
        ROW(1, "viewer", "viewer-pw", NULL, "GET", "/subjects", A),
        ROW(1, "viewer", "viewer-pw", NULL, "POST", "/subjects/market.x-value", A),
        ROW(1, "viewer", "viewer-pw", NULL, "POST", "/subjects/market.x-value/versions", F),
        ROW(1, "viewer", "viewer-pw", NULL, "DELETE", "/subjects/market.x-value", F),
        ROW(1, "viewer", "viewer-pw", NULL, "PUT", "/config", F),
        /* bad credentials are 401 wherever they are sent, open reads too */
        ROW(0, "market", "wrong", NULL, "GET", "/subjects", U),
        ROW(1, "market", "wrong", NULL, "GET", "/subjects", U),
        ROW(0, "market", "wrong", NULL, "POST", "/subjects/market.x-value/versions", U),
        ROW(0, "market", "", NULL, "POST", "/subjects/market.x-value/versions", U),
        ROW(0, "market", NULL, NULL, "POST", "/subjects/market.x-value/versions", U),
        ROW(0, "market", "market-pw ", NULL, "POST", "/subjects/market.x-value/versions", U),
        ROW(0, "market", "marketing-pw", NULL, "POST", "/subjects/market.x-value/versions", U),
        ROW(0, "Market", "market-pw", NULL, "POST", "/subjects/market.x-value/versions", U),
        ROW(0, "nobody", "market-pw", NULL, "GET", "/subjects", U),
        ROW(0, "nobody", "x", NULL, "PUT", "/config", U),
        ROW(0, "", "", NULL, "GET", "/subjects", U),
        ROW(1, "ops", "market-pw", NULL, "PUT", "/config", U),
        /* client certificates: the CN is the principal */
        ROW(1, NULL, NULL, "cert-market", "GET", "/subjects", A),
        ROW(1, NULL, NULL, "cert-market", "POST", "/subjects/market.x-value/versions", A),
        ROW(1, NULL, NULL, "cert-market", "POST", "/subjects/tax.x-value/versions", F),
        ROW(1, NULL, NULL, "cert-market", "PUT", "/config", F),
        ROW(1, NULL, NULL, "ops", "PUT", "/config", A),
        ROW(0, NULL, NULL, "stranger", "GET", "/subjects", U),
        ROW(0, NULL, NULL, "stranger", "POST", "/subjects/market.x-value/versions", U),
        ROW(0, "cert-market", "", "cert-market", "GET", "/subjects", U), /* certificate only: no password */
        ROW(0, "cert-market", "-", NULL, "GET", "/subjects", U),
        ROW(1, "market", "market-pw", "market", "POST", "/subjects/market.x-value/versions", A),
        ROW(1, "market", "market-pw", "ops", "PUT", "/config", U), /* two principals: refused */
        ROW(1, "market", "market-pw", "cert-market", "GET", "/subjects", U),
};

START_TEST(decision_table) {
        regd_authz_t *open = auth_new(0), *closed = auth_new(1);
        for (size_t i = 0; i < sizeof(decisions) / sizeof(*decisions); i++) {
                const decision_t *d = &decisions[i];
                char reason[512] = "";
                regd_authz_decision_t got = decide(d->reads_need_auth ? closed : open, d->user, d->password,
                                                   d->cert, d->method, d->url, reason, sizeof(reason));
                ck_assert_msg(got == d->want,
                              "row %zu: %s %s by %s/%s (reads_need_auth=%d): %d, want %d (%s)", i, d->method,
                              d->url, d->user ? d->user : "-", d->cert ? d->cert : "-", d->reads_need_auth,
                              (int)got, (int)d->want, reason);
                ck_assert_msg(*reason, "row %zu: no reason", i);
        }
        regd_authz_destroy(open);
        regd_authz_destroy(closed);
}
END_TEST

/* Without credentials the answer depends on the class and the setting
 * only: the same whatever the users file holds or the path names. */
START_TEST(missing_credentials_constant) {
        regd_authz_t *open = auth_new(0), *closed = auth_new(1);
        for (size_t i = 0; i < sizeof(classes) / sizeof(*classes); i++) {
                char reason[512], subject[256];
                regd_access_t cls =
                        regd_http_access(classes[i].method, classes[i].url, subject, sizeof(subject));
                regd_authz_decision_t want_open = cls == REGD_ACCESS_READ ? A : U;
                ck_assert_int_eq(decide(open, NULL, NULL, NULL, classes[i].method, classes[i].url, reason,
                                        sizeof(reason)),
                                 want_open);
                ck_assert_int_eq(decide(closed, NULL, NULL, NULL, classes[i].method, classes[i].url, reason,
                                        sizeof(reason)),
                                 U);
                /* a password without a user is no credential */
                ck_assert_int_eq(decide(open, NULL, "ops-pw", NULL, classes[i].method, classes[i].url, reason,
                                        sizeof(reason)),
                                 want_open);
        }
        regd_authz_destroy(open);
        regd_authz_destroy(closed);
}
END_TEST

START_TEST(reasons_for_the_log) {
        regd_authz_t *a = auth_new(1);
        char reason[512];
        const char *w = "/subjects/tax.x-value/versions";
        ck_assert_int_eq(decide(a, "nobody", "x", NULL, "POST", w, reason, sizeof(reason)), U);
        ck_assert_ptr_nonnull(strstr(reason, "'nobody'"));
        ck_assert_ptr_nonnull(strstr(reason, "unknown user"));
        ck_assert_int_eq(decide(a, "market", "x", NULL, "POST", w, reason, sizeof(reason)), U);
        ck_assert_ptr_nonnull(strstr(reason, "wrong password"));
        ck_assert_int_eq(decide(a, "market", "market-pw", NULL, "POST", w, reason, sizeof(reason)), F);
        ck_assert_ptr_nonnull(strstr(reason, "department market"));
        ck_assert_ptr_nonnull(strstr(reason, "'tax.x-value'"));
        ck_assert_int_eq(decide(a, "viewer", "viewer-pw", NULL, "PUT", "/config", reason, sizeof(reason)), F);
        ck_assert_ptr_nonnull(strstr(reason, "operators only"));
        ck_assert_int_eq(decide(a, NULL, NULL, NULL, "GET", "/", reason, sizeof(reason)), U);
        ck_assert_ptr_nonnull(strstr(reason, "anonymous"));
        /* a tiny or absent buffer is fine */
        ck_assert_int_eq(decide(a, NULL, NULL, NULL, "GET", "/", reason, 1), U);
        ck_assert_str_eq(reason, "");
        ck_assert_int_eq(decide(a, NULL, NULL, NULL, "GET", "/", NULL, 0), U);
        /* no users file configured: authorization is off */
        ck_assert_int_eq(decide(NULL, NULL, NULL, NULL, "PUT", "/config", reason, sizeof(reason)), A);
        regd_authz_destroy(a);
}
END_TEST

static double seconds(void) {
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* An unknown user costs a hash too, so that timing does not tell which
 * names exist.  (Loose bound: the point is "a hash", not equal times.) */
START_TEST(unknown_user_costs_a_hash) {
        regd_authz_t *a = auth_new(0);
        double wrong = 1e9, unknown = 1e9;
        for (int i = 0; i < 5; i++) {
                double t0 = seconds();
                decide(a, "civil", "nope", NULL, "GET", "/", NULL, 0);
                double t1 = seconds();
                decide(a, "nobody", "nope", NULL, "GET", "/", NULL, 0);
                double t2 = seconds();
                wrong = t1 - t0 < wrong ? t1 - t0 : wrong;
                unknown = t2 - t1 < unknown ? t2 - t1 : unknown;
        }
        /* The file's first password user (by name) is "civil" (yescrypt): the
         * dummy takes its setting. */
        ck_assert_msg(unknown > wrong / 4, "unknown user %.6fs, wrong password %.6fs", unknown, wrong);
        regd_authz_destroy(a);
}
END_TEST

/* ---- the users file ---- */

static const struct {
        const char *text, *error;
} bad_files[] = {
        {"market:department:market\n", ":1: expected name:role:department:hash, found 3 fields"},
        {"# comment\n\nmarket\n", ":3: expected name:role:department:hash, found 1 field"},
        {"ops:admin::-\n", ":1: user 'ops': unknown role 'admin'"},
        {"a:reader::-\nb:department::-\n", ":2: user 'b': role department needs a department"},
        {"b:department:Market:-\n", ":1: user 'b': role department needs a department"},
        {"b:department:mar.ket:-\n", ":1: user 'b': role department needs a department"},
        {"ops:operator:market:-\n", ":1: user 'ops': role operator takes no department"},
        {"viewer:reader:tax:-\n", ":1: user 'viewer': role reader takes no department"},
        {"al ice:reader::-\n", ":1: bad name 'al ice'"},
        {":reader::-\n", ":1: bad name ''"},
        {"a:reader::secret\n", ":1: user 'a': hash is not of a method accepted here"},
        {"a:reader::\n", ":1: user 'a': hash is not of a method accepted here"},
        {"a:reader::$1$abcdefgh$ABCDEFGHIJKLMNOPQRSTUV\n", ":1: user 'a': hash is not of a method"},
        {"a:reader::$5$abcdefgh$ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopq\n", "hash is not of a method"},
        {"a:reader::$6$salt$tooshort\n", ":1: user 'a': hash is truncated or malformed"},
        {"a:reader::$y$j9T$salt\n", ":1: user 'a': hash is truncated or malformed"},
        {"a:reader::$6$sa!t$ABC\n", ":1: user 'a': hash has a malformed or weak setting"},
        {"a:reader::-:x\n", ":1: user 'a': hash is not of a method"},
        {"a:reader::-\nb:reader::-\na:operator::-\n", ":3: duplicate user 'a' (first on line 1)"},
        {" a:reader::-\n", ":1: spaces around the entry are not allowed"},
        {"a:reader::- \n", ":1: spaces around the entry are not allowed"},
};

START_TEST(users_file_errors) {
        for (size_t i = 0; i < sizeof(bad_files) / sizeof(*bad_files); i++) {
                char errstr[512] = "", want[512];
                const char *path = test_write_temp(bad_files[i].text, ".users");
                regd_authz_t *a = authz_load(path, 0, errstr, sizeof(errstr));
                ck_assert_msg(a == NULL, "%zu: accepted %s", i, bad_files[i].text);
                snprintf(want, sizeof(want), "%s%s", bad_files[i].error[0] == ':' ? path : "",
                         bad_files[i].error);
                ck_assert_msg(strstr(errstr, want) != NULL, "%zu: error '%s' lacks '%s'", i, errstr, want);
                unlink(path);
        }
        char errstr[512] = "";
        ck_assert_ptr_null(authz_load("/nonexistent/users", 0, errstr, sizeof(errstr)));
        ck_assert_str_eq(errstr, "users file /nonexistent/users: No such file or directory");
        ck_assert_ptr_null(authz_load("", 0, errstr, sizeof(errstr)));
        ck_assert_str_eq(errstr, "no users file given");
}
END_TEST

START_TEST(users_file_long_line) {
        char text[6000], errstr[512] = "";
        memset(text, 'a', sizeof(text) - 2);
        text[sizeof(text) - 2] = '\n';
        text[sizeof(text) - 1] = '\0';
        const char *path = test_write_temp(text, ".users");
        ck_assert_ptr_null(authz_load(path, 0, errstr, sizeof(errstr)));
        ck_assert_ptr_nonnull(strstr(errstr, ":1: line longer than"));
        unlink(path);
}
END_TEST

START_TEST(users_file_comments_and_empty) {
        char errstr[512] = "";
        const char *path = test_write_temp("# nobody yet\n\n   \n\t# indented comment\n", ".users");
        regd_authz_t *a = authz_load(path, 0, errstr, sizeof(errstr));
        ck_assert_msg(a != NULL, "%s", errstr);
        ck_assert_uint_eq(regd_authz_count(a), 0);
        ck_assert_int_eq(decide(a, NULL, NULL, NULL, "GET", "/subjects", NULL, 0), A);
        ck_assert_int_eq(decide(a, "ops", "ops-pw", NULL, "GET", "/subjects", NULL, 0), U);
        regd_authz_destroy(a);
        unlink(path);
}
END_TEST

/* ---- sharebus-passwd lines ---- */

START_TEST(make_line_round_trip) {
        char line[1024], text[1100], errstr[512] = "";
        TEST_CALL(regd_users_make_line("svc.tax", "department", "tax", "pä:ss wörd", NULL, line, sizeof(line),
                                       TEST_ERR));
        ck_assert_msg(strncmp(line, "svc.tax:department:tax:$y$", 26) == 0, "%s", line);
        snprintf(text, sizeof(text), "%s\n", line);
        const char *path = test_write_temp(text, ".users");
        regd_authz_t *a = authz_load(path, 1, errstr, sizeof(errstr));
        ck_assert_msg(a != NULL, "%s", errstr);
        const char *w = "/subjects/tax.taxpayer-value/versions";
        ck_assert_int_eq(decide(a, "svc.tax", "pä:ss wörd", NULL, "POST", w, NULL, 0), A);
        ck_assert_int_eq(decide(a, "svc.tax", "pä:ss wörd!", NULL, "POST", w, NULL, 0), U);
        regd_authz_destroy(a);
        unlink(path);

        /* two hashes of one password differ: the salt is random */
        char again[1024];
        TEST_CALL(regd_users_make_line("o", "operator", "", "pw", "sha512", line, sizeof(line), TEST_ERR));
        TEST_CALL(
                regd_users_make_line("o", "operator", NULL, "pw", "sha512", again, sizeof(again), TEST_ERR));
        ck_assert_msg(strncmp(line, "o:operator::$6$", 15) == 0, "%s", line);
        ck_assert_str_ne(line, again);
        TEST_CALL(regd_users_make_line("c", "reader", "", NULL, NULL, line, sizeof(line), TEST_ERR));
        ck_assert_str_eq(line, "c:reader::-");
}
END_TEST

static const struct {
        const char *name, *role, *department, *method, *error;
} bad_lines[] = {
        {"a:b", "reader", "", NULL, "bad name 'a:b'"},
        {"", "reader", "", NULL, "bad name ''"},
        {"a", "admin", "", NULL, "unknown role 'admin'"},
        {"a", "reader:x", "", NULL, "unknown role"},
        {"a", "department", "", NULL, "role department needs a department"},
        {"a", "department", "tax:x", NULL, "bad department 'tax:x'"},
        {"a", "department", "tax\n", NULL, "bad department"},
        {"a", "operator", "tax", NULL, "role operator takes no department"},
        {"a", "reader", "", "md5", "unknown hash method 'md5'"},
};

START_TEST(make_line_refuses) {
        for (size_t i = 0; i < sizeof(bad_lines) / sizeof(*bad_lines); i++) {
                char line[1024] = "x", errstr[512] = "";
                sb_err_t err = regd_users_make_line(bad_lines[i].name, bad_lines[i].role,
                                                    bad_lines[i].department, "pw", bad_lines[i].method, line,
                                                    sizeof(line), errstr, sizeof(errstr));
                ck_assert_msg(err == SB_ERR_INVALID, "%zu: %s", i, sb_err2str(err));
                ck_assert_msg(strstr(errstr, bad_lines[i].error) != NULL, "%zu: '%s' lacks '%s'", i, errstr,
                              bad_lines[i].error);
        }
        char small[20], errstr[256];
        ck_assert_int_eq(regd_users_make_line("a", "reader", "", "pw", NULL, small, sizeof(small), errstr,
                                              sizeof(errstr)),
                         SB_ERR_INVALID);
}
END_TEST

/* ---- Basic credentials ---- */

static const struct {
        const char *value;
        sb_err_t err;
        const char *user, *password;
} basics[] = {
        {"Basic YWxpY2U6c2VjcmV0", SB_OK, "alice", "secret"},
        {"basic   YWxpY2U6c2VjcmV0  ", SB_OK, "alice", "secret"},
        {"BASIC\tYWxpY2U6c2VjcmV0", SB_OK, "alice", "secret"},
        {"Basic YWxpY2U6", SB_OK, "alice", ""},                             /* alice: */
        {"Basic YWxpY2U6c2VjcmV0OmV4dHJh", SB_OK, "alice", "secret:extra"}, /* alice:secret:extra */
        {"Basic asO2cmc6cMOk", SB_OK, "j\xc3\xb6rg", "p\xc3\xa4"},          /* UTF-8 */
        {"Basic YTpi", SB_OK, "a", "b"},
        {NULL, SB_ERR_NOT_FOUND, "", ""},
        {"", SB_ERR_INVALID, "", ""},
        {"Basic", SB_ERR_INVALID, "", ""},
        {"Basic ", SB_ERR_INVALID, "", ""},
        {"BasicYWxpY2U6c2VjcmV0", SB_ERR_INVALID, "", ""},
        {"Bearer YWxpY2U6c2VjcmV0", SB_ERR_INVALID, "", ""},
        {"Digest username=\"alice\"", SB_ERR_INVALID, "", ""},
        {"Basic OnNlY3JldA==", SB_ERR_INVALID, "", ""},          /* ":secret": no user */
        {"Basic YWxpY2U=", SB_ERR_INVALID, "", ""},              /* "alice": no colon */
        {"Basic YWxpY2U6c2VjcmV0=", SB_ERR_INVALID, "", ""},     /* length not a multiple of 4 */
        {"Basic YWxpY2U6c2VjcmV", SB_ERR_INVALID, "", ""},       /* unpadded */
        {"Basic YWxp!2U6c2VjcmV0", SB_ERR_INVALID, "", ""},      /* not base64 */
        {"Basic YW=pY2U6c2VjcmV0", SB_ERR_INVALID, "", ""},      /* padding inside */
        {"Basic YWxpY2U6c2Vjcm===", SB_ERR_INVALID, "", ""},     /* three pads */
        {"Basic YWxpY2U6c2VjcmV0 YWxp", SB_ERR_INVALID, "", ""}, /* two tokens */
        {"Basic YWxpY2U6c2VjcmV0,x", SB_ERR_INVALID, "", ""},    /* junk */
        {"Basic YWwBaWNlOnB3", SB_ERR_INVALID, "", ""},          /* "al\x01ice:pw" */
        {"Basic YWxpY2U6cABh", SB_ERR_INVALID, "", ""},          /* "alice:p\0a" */
        {"Basic YWxpY2U6cHcK", SB_ERR_INVALID, "", ""},          /* "alice:pw\n" */
        {"Basic YWxpY2U6cH9h", SB_ERR_INVALID, "", ""},          /* DEL */
};

START_TEST(basic_header_table) {
        for (size_t i = 0; i < sizeof(basics) / sizeof(*basics); i++) {
                char user[64] = "junk", password[64] = "junk", errstr[256] = "";
                sb_err_t err = regd_authz_parse_basic(basics[i].value, user, sizeof(user), password,
                                                      sizeof(password), errstr, sizeof(errstr));
                ck_assert_msg(err == basics[i].err, "%zu '%s': %s (%s), want %s", i,
                              basics[i].value ? basics[i].value : "(null)", sb_err2str(err), errstr,
                              sb_err2str(basics[i].err));
                ck_assert_msg(strcmp(user, basics[i].user) == 0 && strcmp(password, basics[i].password) == 0,
                              "%zu: got '%s'/'%s'", i, user, password);
                if (err)
                        ck_assert_msg(*errstr, "%zu: no message", i);
        }
}
END_TEST

START_TEST(basic_header_limits) {
        char user[4], password[4], errstr[256], value[3000];
        /* "alice:pw" does not fit a 4-byte user buffer */
        ck_assert_int_eq(regd_authz_parse_basic("Basic YWxpY2U6cHc=", user, sizeof(user), password,
                                                sizeof(password), errstr, sizeof(errstr)),
                         SB_ERR_INVALID);
        ck_assert_str_eq(user, "");
        ck_assert_str_eq(password, "");
        ck_assert_int_eq(regd_authz_parse_basic("Basic YTpi", user, sizeof(user), password, sizeof(password),
                                                errstr, sizeof(errstr)),
                         SB_OK);
        /* a token that would decode to more than 1 KiB */
        size_t n = snprintf(value, sizeof(value), "Basic ");
        memset(value + n, 'Q', 2000);
        value[n + 2000] = '\0';
        char big_user[2048], big_password[2048];
        ck_assert_int_eq(regd_authz_parse_basic(value, big_user, sizeof(big_user), big_password,
                                                sizeof(big_password), errstr, sizeof(errstr)),
                         SB_ERR_INVALID);
}
END_TEST

int main(void) {
        Suite *s = suite_create("registry_auth");
        TCase *tc = tcase_create("decisions");
        tcase_add_unchecked_fixture(tc, users_setup, users_teardown);
        tcase_set_timeout(tc, 120);
        tcase_add_test(tc, classify_table);
        tcase_add_test(tc, classify_subject_too_long);
        tcase_add_test(tc, decision_table);
        tcase_add_test(tc, missing_credentials_constant);
        tcase_add_test(tc, reasons_for_the_log);
        tcase_add_test(tc, unknown_user_costs_a_hash);
        tcase_add_test(tc, users_file_errors);
        tcase_add_test(tc, users_file_long_line);
        tcase_add_test(tc, users_file_comments_and_empty);
        tcase_add_test(tc, make_line_round_trip);
        tcase_add_test(tc, make_line_refuses);
        tcase_add_test(tc, basic_header_table);
        tcase_add_test(tc, basic_header_limits);
        suite_add_tcase(s, tc);
        return test_run_suite(s);
}

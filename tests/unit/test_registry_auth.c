/*
 * test_registry_auth: the registry's authorization.  Decisions as tables
 * (role x method x path, credentials, reads open or not), the users file
 * and its errors, Basic header parsing, sharebus-passwd's lines, and the
 * TLS glue end to end: libmicrohttpd with the options of registry_auth and
 * libcurl with client certificates made by GnuTLS at test time.
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

#include "regd_auth.h"
#include "testcerts.h"
#include "testutil.h"

#define A SB_AUTH_ALLOW
#define U SB_AUTH_UNAUTHORIZED
#define F SB_AUTH_FORBIDDEN

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

static char users_path[256];

/* Unchecked fixture: runs once, before the tests fork. */
static void users_setup(void) {
        char text[8192] = "# sharebus-registry users (test)\n\n";
        for (size_t i = 0; i < sizeof(users) / sizeof(*users); i++) {
                char line[1024];
                TEST_CALL(regd_auth_make_line(users[i].name, users[i].role, users[i].department,
                                              users[i].password, users[i].method, line, sizeof(line),
                                              TEST_ERR));
                strncat(text, line, sizeof(text) - strlen(text) - 2);
                strcat(text, i % 2 ? "\r\n" : "\n"); /* CRLF lines are fine too */
        }
        snprintf(users_path, sizeof(users_path), "%s", test_write_temp(text, ".users"));
}

static void users_teardown(void) { unlink(users_path); }

static regd_auth_t *auth_new(int reads_need_auth) {
        char errstr[512] = "";
        regd_auth_t *a = regd_auth_new(users_path, reads_need_auth, errstr, sizeof(errstr));
        ck_assert_msg(a != NULL, "regd_auth_new: %s", errstr);
        ck_assert_uint_eq(regd_auth_count(a), sizeof(users) / sizeof(*users));
        return a;
}

/* ---- classification ---- */

static const struct {
        const char *method, *url;
        sb_auth_class_t cls;
        const char *subject;
} classes[] = {
        {"GET", "/", SB_AUTH_READ, ""},
        {"GET", "/subjects", SB_AUTH_READ, ""},
        {"GET", "/subjects/market.x-value/versions/latest", SB_AUTH_READ, ""},
        {"GET", "/schemas/ids/1", SB_AUTH_READ, ""},
        {"GET", "/config", SB_AUTH_READ, ""},
        {"GET", "/anything/at/all/even/very/deep/paths", SB_AUTH_READ, ""},
        {"HEAD", "/subjects", SB_AUTH_READ, ""},
        {"OPTIONS", "/subjects", SB_AUTH_READ, ""},
        {"POST", "/subjects/market.x-value", SB_AUTH_READ, ""}, /* lookup */
        {"POST", "/compatibility/subjects/market.x-value/versions/latest", SB_AUTH_READ, ""},
        {"POST", "/compatibility/subjects/market.x-value/versions", SB_AUTH_READ, ""},
        {"POST", "/subjects/market.x-value/versions", SB_AUTH_WRITE, "market.x-value"},
        {"POST", "subjects/market.x-value/versions", SB_AUTH_WRITE, "market.x-value"},
        {"POST", "/subjects/market.x-value/versions?normalize=true", SB_AUTH_WRITE, "market.x-value"},
        {"POST", "/subjects/a%2Fb/versions", SB_AUTH_WRITE, "a/b"},
        {"POST", "/subjects/market%2ex-value/versions", SB_AUTH_WRITE, "market.x-value"},
        {"POST", "/subjects/%zz/versions", SB_AUTH_WRITE, "%zz"},
        {"POST", "/subjects//versions", SB_AUTH_WRITE, ""},
        {"DELETE", "/subjects/market.x-value", SB_AUTH_WRITE, "market.x-value"},
        {"DELETE", "/subjects/market.x-value/versions/3", SB_AUTH_WRITE, "market.x-value"},
        {"DELETE", "/subjects/market.x-value/versions/latest", SB_AUTH_WRITE, "market.x-value"},
        {"POST", "/subjects/a%00b/versions", SB_AUTH_ADMIN, ""}, /* no subject holds a NUL */
        {"POST", "/subjects/market.x-value/versions/", SB_AUTH_ADMIN, ""},
        {"POST", "/subjects/market.x-value/versions/1", SB_AUTH_ADMIN, ""},
        {"DELETE", "/subjects/market.x-value/versions", SB_AUTH_ADMIN, ""},
        {"DELETE", "/subjects", SB_AUTH_ADMIN, ""},
        {"PUT", "/subjects/market.x-value/versions", SB_AUTH_ADMIN, ""},
        {"PATCH", "/subjects/market.x-value/versions", SB_AUTH_ADMIN, ""},
        {"get", "/subjects", SB_AUTH_ADMIN, ""}, /* methods are case-sensitive */
        {"PUT", "/config", SB_AUTH_ADMIN, ""},
        {"PUT", "/config/market.x-value", SB_AUTH_ADMIN, ""},
        {"DELETE", "/config", SB_AUTH_ADMIN, ""},
        {"DELETE", "/config/market.x-value", SB_AUTH_ADMIN, ""},
        {"PUT", "/mode", SB_AUTH_ADMIN, ""},
        {"PUT", "/mode/market.x-value", SB_AUTH_ADMIN, ""},
        {"DELETE", "/mode/market.x-value", SB_AUTH_ADMIN, ""},
        {"POST", "/", SB_AUTH_ADMIN, ""},
        {"POST", "/something/new", SB_AUTH_ADMIN, ""},
        {"POST", "/a/b/c/d/e/f/g/h", SB_AUTH_ADMIN, ""},
};

START_TEST(classify_table) {
        for (size_t i = 0; i < sizeof(classes) / sizeof(*classes); i++) {
                char subject[256];
                sb_auth_class_t got =
                        regd_auth_classify(classes[i].method, classes[i].url, subject, sizeof(subject));
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
        ck_assert_int_eq(regd_auth_classify("POST", url, subject, sizeof(subject)), SB_AUTH_ADMIN);
        ck_assert_str_eq(subject, "");
        ck_assert_int_eq(regd_auth_classify(NULL, "/", subject, sizeof(subject)), SB_AUTH_ADMIN);
        ck_assert_int_eq(regd_auth_classify("GET", NULL, subject, sizeof(subject)), SB_AUTH_ADMIN);
}
END_TEST

/* ---- decisions ---- */

typedef struct {
        int reads_need_auth;
        sb_auth_decision_t want;
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
        regd_auth_t *open = auth_new(0), *closed = auth_new(1);
        for (size_t i = 0; i < sizeof(decisions) / sizeof(*decisions); i++) {
                const decision_t *d = &decisions[i];
                char reason[512] = "";
                sb_auth_decision_t got =
                        regd_auth_check(d->reads_need_auth ? closed : open, d->user, d->password, d->cert,
                                        d->method, d->url, reason, sizeof(reason));
                ck_assert_msg(got == d->want,
                              "row %zu: %s %s by %s/%s (reads_need_auth=%d): %d, want %d (%s)", i, d->method,
                              d->url, d->user ? d->user : "-", d->cert ? d->cert : "-", d->reads_need_auth,
                              (int)got, (int)d->want, reason);
                ck_assert_msg(*reason, "row %zu: no reason", i);
        }
        regd_auth_destroy(open);
        regd_auth_destroy(closed);
}
END_TEST

/* Without credentials the answer depends on the class and the setting
 * only: the same whatever the users file holds or the path names. */
START_TEST(missing_credentials_constant) {
        regd_auth_t *open = auth_new(0), *closed = auth_new(1);
        for (size_t i = 0; i < sizeof(classes) / sizeof(*classes); i++) {
                char reason[512], subject[256];
                sb_auth_class_t cls =
                        regd_auth_classify(classes[i].method, classes[i].url, subject, sizeof(subject));
                sb_auth_decision_t want_open = cls == SB_AUTH_READ ? A : U;
                ck_assert_int_eq(regd_auth_check(open, NULL, NULL, NULL, classes[i].method, classes[i].url,
                                                 reason, sizeof(reason)),
                                 want_open);
                ck_assert_int_eq(regd_auth_check(closed, NULL, NULL, NULL, classes[i].method, classes[i].url,
                                                 reason, sizeof(reason)),
                                 U);
                /* a password without a user is no credential */
                ck_assert_int_eq(regd_auth_check(open, NULL, "ops-pw", NULL, classes[i].method,
                                                 classes[i].url, reason, sizeof(reason)),
                                 want_open);
        }
        regd_auth_destroy(open);
        regd_auth_destroy(closed);
}
END_TEST

START_TEST(reasons_for_the_log) {
        regd_auth_t *a = auth_new(1);
        char reason[512];
        const char *w = "/subjects/tax.x-value/versions";
        ck_assert_int_eq(regd_auth_check(a, "nobody", "x", NULL, "POST", w, reason, sizeof(reason)), U);
        ck_assert_ptr_nonnull(strstr(reason, "'nobody'"));
        ck_assert_ptr_nonnull(strstr(reason, "unknown user"));
        ck_assert_int_eq(regd_auth_check(a, "market", "x", NULL, "POST", w, reason, sizeof(reason)), U);
        ck_assert_ptr_nonnull(strstr(reason, "wrong password"));
        ck_assert_int_eq(regd_auth_check(a, "market", "market-pw", NULL, "POST", w, reason, sizeof(reason)),
                         F);
        ck_assert_ptr_nonnull(strstr(reason, "department market"));
        ck_assert_ptr_nonnull(strstr(reason, "'tax.x-value'"));
        ck_assert_int_eq(
                regd_auth_check(a, "viewer", "viewer-pw", NULL, "PUT", "/config", reason, sizeof(reason)), F);
        ck_assert_ptr_nonnull(strstr(reason, "operators only"));
        ck_assert_int_eq(regd_auth_check(a, NULL, NULL, NULL, "GET", "/", reason, sizeof(reason)), U);
        ck_assert_ptr_nonnull(strstr(reason, "anonymous"));
        /* a tiny or absent buffer is fine */
        ck_assert_int_eq(regd_auth_check(a, NULL, NULL, NULL, "GET", "/", reason, 1), U);
        ck_assert_str_eq(reason, "");
        ck_assert_int_eq(regd_auth_check(a, NULL, NULL, NULL, "GET", "/", NULL, 0), U);
        /* no users file configured: authorization is off */
        ck_assert_int_eq(regd_auth_check(NULL, NULL, NULL, NULL, "PUT", "/config", reason, sizeof(reason)),
                         A);
        regd_auth_destroy(a);
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
        regd_auth_t *a = auth_new(0);
        double wrong = 1e9, unknown = 1e9;
        for (int i = 0; i < 5; i++) {
                double t0 = seconds();
                regd_auth_check(a, "civil", "nope", NULL, "GET", "/", NULL, 0);
                double t1 = seconds();
                regd_auth_check(a, "nobody", "nope", NULL, "GET", "/", NULL, 0);
                double t2 = seconds();
                wrong = t1 - t0 < wrong ? t1 - t0 : wrong;
                unknown = t2 - t1 < unknown ? t2 - t1 : unknown;
        }
        /* The file's first password user (by name) is "civil" (yescrypt): the
         * dummy takes its setting. */
        ck_assert_msg(unknown > wrong / 4, "unknown user %.6fs, wrong password %.6fs", unknown, wrong);
        regd_auth_destroy(a);
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
                regd_auth_t *a = regd_auth_new(path, 0, errstr, sizeof(errstr));
                ck_assert_msg(a == NULL, "%zu: accepted %s", i, bad_files[i].text);
                snprintf(want, sizeof(want), "%s%s", bad_files[i].error[0] == ':' ? path : "",
                         bad_files[i].error);
                ck_assert_msg(strstr(errstr, want) != NULL, "%zu: error '%s' lacks '%s'", i, errstr, want);
                unlink(path);
        }
        char errstr[512] = "";
        ck_assert_ptr_null(regd_auth_new("/nonexistent/users", 0, errstr, sizeof(errstr)));
        ck_assert_str_eq(errstr, "users file /nonexistent/users: No such file or directory");
        ck_assert_ptr_null(regd_auth_new("", 0, errstr, sizeof(errstr)));
        ck_assert_str_eq(errstr, "no users file given");
}
END_TEST

START_TEST(users_file_long_line) {
        char text[6000], errstr[512] = "";
        memset(text, 'a', sizeof(text) - 2);
        text[sizeof(text) - 2] = '\n';
        text[sizeof(text) - 1] = '\0';
        const char *path = test_write_temp(text, ".users");
        ck_assert_ptr_null(regd_auth_new(path, 0, errstr, sizeof(errstr)));
        ck_assert_ptr_nonnull(strstr(errstr, ":1: line longer than"));
        unlink(path);
}
END_TEST

START_TEST(users_file_comments_and_empty) {
        char errstr[512] = "";
        const char *path = test_write_temp("# nobody yet\n\n   \n\t# indented comment\n", ".users");
        regd_auth_t *a = regd_auth_new(path, 0, errstr, sizeof(errstr));
        ck_assert_msg(a != NULL, "%s", errstr);
        ck_assert_uint_eq(regd_auth_count(a), 0);
        ck_assert_int_eq(regd_auth_check(a, NULL, NULL, NULL, "GET", "/subjects", NULL, 0), A);
        ck_assert_int_eq(regd_auth_check(a, "ops", "ops-pw", NULL, "GET", "/subjects", NULL, 0), U);
        regd_auth_destroy(a);
        unlink(path);
}
END_TEST

/* ---- sharebus-passwd lines ---- */

START_TEST(make_line_round_trip) {
        char line[1024], text[1100], errstr[512] = "";
        TEST_CALL(regd_auth_make_line("svc.tax", "department", "tax", "pä:ss wörd", NULL, line, sizeof(line),
                                      TEST_ERR));
        ck_assert_msg(strncmp(line, "svc.tax:department:tax:$y$", 26) == 0, "%s", line);
        snprintf(text, sizeof(text), "%s\n", line);
        const char *path = test_write_temp(text, ".users");
        regd_auth_t *a = regd_auth_new(path, 1, errstr, sizeof(errstr));
        ck_assert_msg(a != NULL, "%s", errstr);
        const char *w = "/subjects/tax.taxpayer-value/versions";
        ck_assert_int_eq(regd_auth_check(a, "svc.tax", "pä:ss wörd", NULL, "POST", w, NULL, 0), A);
        ck_assert_int_eq(regd_auth_check(a, "svc.tax", "pä:ss wörd!", NULL, "POST", w, NULL, 0), U);
        regd_auth_destroy(a);
        unlink(path);

        /* two hashes of one password differ: the salt is random */
        char again[1024];
        TEST_CALL(regd_auth_make_line("o", "operator", "", "pw", "sha512", line, sizeof(line), TEST_ERR));
        TEST_CALL(regd_auth_make_line("o", "operator", NULL, "pw", "sha512", again, sizeof(again), TEST_ERR));
        ck_assert_msg(strncmp(line, "o:operator::$6$", 15) == 0, "%s", line);
        ck_assert_str_ne(line, again);
        TEST_CALL(regd_auth_make_line("c", "reader", "", NULL, NULL, line, sizeof(line), TEST_ERR));
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
                sb_err_t err = regd_auth_make_line(bad_lines[i].name, bad_lines[i].role,
                                                   bad_lines[i].department, "pw", bad_lines[i].method, line,
                                                   sizeof(line), errstr, sizeof(errstr));
                ck_assert_msg(err == SB_ERR_INVALID, "%zu: %s", i, sb_err2str(err));
                ck_assert_msg(strstr(errstr, bad_lines[i].error) != NULL, "%zu: '%s' lacks '%s'", i, errstr,
                              bad_lines[i].error);
        }
        char small[20], errstr[256];
        ck_assert_int_eq(regd_auth_make_line("a", "reader", "", "pw", NULL, small, sizeof(small), errstr,
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
                sb_err_t err = regd_auth_parse_basic(basics[i].value, user, sizeof(user), password,
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
        ck_assert_int_eq(regd_auth_parse_basic("Basic YWxpY2U6cHc=", user, sizeof(user), password,
                                               sizeof(password), errstr, sizeof(errstr)),
                         SB_ERR_INVALID);
        ck_assert_str_eq(user, "");
        ck_assert_str_eq(password, "");
        ck_assert_int_eq(regd_auth_parse_basic("Basic YTpi", user, sizeof(user), password, sizeof(password),
                                               errstr, sizeof(errstr)),
                         SB_OK);
        /* a token that would decode to more than 1 KiB */
        size_t n = snprintf(value, sizeof(value), "Basic ");
        memset(value + n, 'Q', 2000);
        value[n + 2000] = '\0';
        char big_user[2048], big_password[2048];
        ck_assert_int_eq(regd_auth_parse_basic(value, big_user, sizeof(big_user), big_password,
                                               sizeof(big_password), errstr, sizeof(errstr)),
                         SB_ERR_INVALID);
}
END_TEST

/* ---- TLS end to end: MHD with registry_auth's options, curl as client ---- */

typedef struct {
        struct MHD_Daemon *daemon;
        regd_auth_t *auth;
        regd_tls_t *tls;
        unsigned port;
} server_t;

/* What registry_http's on_request does with auth, in a few lines: the
 * decision and a Confluent-style error body. */
static enum MHD_Result on_request(void *cls, struct MHD_Connection *c, const char *url, const char *method,
                                  const char *version, const char *upload_data, size_t *upload_data_size,
                                  void **con_cls) {
        server_t *srv = cls;
        char cn[256], user[256], password[256], reason[512], errstr[256], body[1024];
        const char *who_cert = NULL, *who_user = NULL;
        sb_auth_decision_t d;
        (void)version, (void)upload_data;

        if (!*con_cls) {
                *con_cls = srv;
                return MHD_YES;
        }
        if (*upload_data_size) {
                *upload_data_size = 0;
                return MHD_YES;
        }
        sb_err_t cerr = regd_auth_cert_cn(c, cn, sizeof(cn), errstr, sizeof(errstr));
        sb_err_t berr = regd_auth_parse_basic(
                MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_AUTHORIZATION), user,
                sizeof(user), password, sizeof(password), reason, sizeof(reason));
        if (cerr == SB_OK)
                who_cert = cn;
        if (berr == SB_OK)
                who_user = user;
        if (cerr == SB_ERR_INVALID || berr == SB_ERR_INVALID) {
                d = SB_AUTH_UNAUTHORIZED;
                if (cerr == SB_ERR_INVALID)
                        snprintf(reason, sizeof(reason), "%s", errstr);
        } else {
                d = regd_auth_check(srv->auth, who_user, password, who_cert, method, url, reason,
                                    sizeof(reason));
        }
        json_t *j = d == SB_AUTH_ALLOW
                            ? json_pack("{s:s,s:s}", "cn", who_cert ? who_cert : "", "reason", reason)
                            : json_pack("{s:i,s:s}", "error_code", d == SB_AUTH_UNAUTHORIZED ? 40101 : 40301,
                                        "message", reason);
        char *text = json_dumps(j, JSON_COMPACT);
        json_decref(j);
        snprintf(body, sizeof(body), "%s", text ? text : "");
        free(text);
        struct MHD_Response *resp =
                MHD_create_response_from_buffer(strlen(body), body, MHD_RESPMEM_MUST_COPY);
        if (d == SB_AUTH_UNAUTHORIZED)
                MHD_add_response_header(resp, MHD_HTTP_HEADER_WWW_AUTHENTICATE, "Basic realm=\"sharebus\"");
        enum MHD_Result r = MHD_queue_response(c, d == SB_AUTH_ALLOW ? 200 : (unsigned)d, resp);
        MHD_destroy_response(resp);
        return r;
}

static size_t keep_escaped(void *cls, struct MHD_Connection *c, char *s) {
        (void)cls, (void)c;
        return strlen(s);
}

static void server_start(server_t *srv, const test_cert_t *server_cert, const test_cert_t *client_ca,
                         int reads_need_auth, const char *dir) {
        char errstr[512] = "";
        struct MHD_OptionItem tls[REGD_TLS_MHD_OPTIONS];
        unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_AUTO;

        memset(srv, 0, sizeof(*srv));
        srv->auth = auth_new(reads_need_auth);
        tls[0] = (struct MHD_OptionItem){MHD_OPTION_END, 0, NULL};
        if (server_cert) {
                char ca_path[300] = "";
                if (client_ca) {
                        snprintf(ca_path, sizeof(ca_path), "%s/client-ca.crt", dir);
                        test_cert_write_file(ca_path, client_ca->cert_pem);
                }
                srv->tls = regd_tls_new(server_cert->cert_path, server_cert->key_path, ca_path, errstr,
                                        sizeof(errstr));
                ck_assert_msg(srv->tls != NULL, "regd_tls_new: %s", errstr);
                regd_tls_mhd_options(srv->tls, tls);
                flags |= MHD_USE_TLS;
        }
        struct sockaddr_in sin;
        memset(&sin, 0, sizeof(sin));
        sin.sin_family = AF_INET;
        sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        srv->daemon = MHD_start_daemon(flags, 0, NULL, NULL, on_request, srv, MHD_OPTION_SOCK_ADDR, &sin,
                                       MHD_OPTION_ARRAY, tls, MHD_OPTION_UNESCAPE_CALLBACK, keep_escaped,
                                       NULL, MHD_OPTION_END);
        ck_assert_ptr_nonnull(srv->daemon);
        srv->port = MHD_get_daemon_info(srv->daemon, MHD_DAEMON_INFO_BIND_PORT)->port;
}

static void server_stop(server_t *srv) {
        MHD_stop_daemon(srv->daemon);
        regd_auth_destroy(srv->auth);
        regd_tls_destroy(srv->tls);
}

static size_t collect(char *data, size_t size, size_t nmemb, void *opaque) {
        char *buf = opaque;
        size_t have = strlen(buf), n = size * nmemb;
        if (have + n < 2048) {
                memcpy(buf + have, data, n);
                buf[have + n] = '\0';
        }
        return n;
}

static size_t collect_header(char *data, size_t size, size_t nmemb, void *opaque) {
        if (size * nmemb > 17 && strncasecmp(data, "WWW-Authenticate:", 17) == 0)
                *(int *)opaque = 1;
        return size * nmemb;
}

/* One request; returns the status (0 if the TLS or TCP part failed, with
 * curl's reason in body). */
static long call(const server_t *srv, int https, const char *method, const char *path, const char *ca,
                 const test_cert_t *client, const char *userpwd, char body[2048], int *www_authenticate) {
        char url[512];
        long status = 0;
        CURL *curl = curl_easy_init();
        ck_assert_ptr_nonnull(curl);
        snprintf(url, sizeof(url), "%s://127.0.0.1:%u%s", https ? "https" : "http", srv->port, path);
        body[0] = '\0';
        *www_authenticate = 0;
        curl_easy_setopt(curl, CURLOPT_URL, url);
        curl_easy_setopt(curl, CURLOPT_CUSTOMREQUEST, method);
        if (strcmp(method, "POST") == 0)
                curl_easy_setopt(curl, CURLOPT_POSTFIELDS, "{}");
        curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, collect);
        curl_easy_setopt(curl, CURLOPT_WRITEDATA, body);
        curl_easy_setopt(curl, CURLOPT_HEADERFUNCTION, collect_header);
        curl_easy_setopt(curl, CURLOPT_HEADERDATA, www_authenticate);
        curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS, 10000L);
        curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
        if (ca)
                curl_easy_setopt(curl, CURLOPT_CAINFO, ca);
        if (client) {
                curl_easy_setopt(curl, CURLOPT_SSLCERT, client->cert_path);
                curl_easy_setopt(curl, CURLOPT_SSLKEY, client->key_path);
        }
        if (userpwd) {
                curl_easy_setopt(curl, CURLOPT_HTTPAUTH, (long)CURLAUTH_BASIC);
                curl_easy_setopt(curl, CURLOPT_USERPWD, userpwd);
        }
        CURLcode cc = curl_easy_perform(curl);
        if (cc == CURLE_OK)
                curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &status);
        else
                snprintf(body, 2048, "%s", curl_easy_strerror(cc));
        curl_easy_cleanup(curl);
        return status;
}

typedef struct {
        char dir[64];
        test_cert_t ca, rogue_ca, server, market, ops, stranger, expired, server_purpose, no_purpose,
                rogue_ops;
} pki_t;

static void pki_make(pki_t *p) {
        snprintf(p->dir, sizeof(p->dir), "/tmp/sharebus-tls-XXXXXX");
        ck_assert_ptr_nonnull(mkdtemp(p->dir));
        test_cert_make(&p->ca, TEST_CERT_CA, "sharebus test CA", NULL, -1, 30);
        test_cert_make(&p->rogue_ca, TEST_CERT_CA, "sharebus test CA", NULL, -1, 30); /* same name */
        test_cert_make(&p->server, TEST_CERT_SERVER, "127.0.0.1", &p->ca, -1, 30);
        test_cert_make(&p->market, TEST_CERT_CLIENT, "cert-market", &p->ca, -1, 30);
        test_cert_make(&p->ops, TEST_CERT_CLIENT, "ops", &p->ca, -1, 30);
        test_cert_make(&p->stranger, TEST_CERT_CLIENT, "stranger", &p->ca, -1, 30);
        test_cert_make(&p->expired, TEST_CERT_CLIENT, "cert-market", &p->ca, -30, -1);
        test_cert_make(&p->server_purpose, TEST_CERT_SERVER, "cert-market", &p->ca, -1, 30);
        test_cert_make(&p->no_purpose, TEST_CERT_NO_PURPOSE, "cert-market", &p->ca, -1, 30);
        test_cert_make(&p->rogue_ops, TEST_CERT_CLIENT, "ops", &p->rogue_ca, -1, 30);
        test_cert_write(&p->ca, p->dir, "ca");
        test_cert_write(&p->server, p->dir, "server");
        test_cert_write(&p->market, p->dir, "market");
        test_cert_write(&p->ops, p->dir, "ops");
        test_cert_write(&p->stranger, p->dir, "stranger");
        test_cert_write(&p->expired, p->dir, "expired");
        test_cert_write(&p->server_purpose, p->dir, "server-purpose");
        test_cert_write(&p->no_purpose, p->dir, "no-purpose");
        test_cert_write(&p->rogue_ops, p->dir, "rogue-ops");
}

static void pki_free(pki_t *p) {
        test_cert_t *all[] = {&p->ca,         &p->rogue_ca,  &p->server,  &p->market,
                              &p->ops,        &p->stranger,  &p->expired, &p->server_purpose,
                              &p->no_purpose, &p->rogue_ops, NULL};
        for (test_cert_t **c = all; *c; c++)
                test_cert_free(*c);
        char path[128];
        snprintf(path, sizeof(path), "%s/client-ca.crt", p->dir);
        remove(path);
        rmdir(p->dir);
}

START_TEST(tls_client_certificates) {
        pki_t p = {.dir = ""};
        server_t srv;
        char body[2048];
        int www;
        const char *w = "/subjects/market.x-value/versions";
        pki_make(&p);
        server_start(&srv, &p.server, &p.ca, 1, p.dir);

        /* a certificate of the client CA: its CN is the principal */
        ck_assert_int_eq(call(&srv, 1, "POST", w, p.ca.cert_path, &p.market, NULL, body, &www), 200);
        ck_assert_msg(strstr(body, "\"cn\":\"cert-market\"") != NULL, "%s", body);
        ck_assert_int_eq(call(&srv, 1, "POST", "/subjects/tax.x-value/versions", p.ca.cert_path, &p.market,
                              NULL, body, &www),
                         403);
        ck_assert_msg(strstr(body, "\"error_code\":40301") != NULL, "%s", body);
        ck_assert_int_eq(call(&srv, 1, "PUT", "/config", p.ca.cert_path, &p.ops, NULL, body, &www), 200);
        /* no extended key usage at all is accepted too */
        ck_assert_int_eq(call(&srv, 1, "POST", w, p.ca.cert_path, &p.no_purpose, NULL, body, &www), 200);

        /* no certificate: Basic still works, nothing at all is 401 */
        ck_assert_int_eq(call(&srv, 1, "POST", w, p.ca.cert_path, NULL, NULL, body, &www), 401);
        ck_assert_int_eq(www, 1);
        ck_assert_msg(strstr(body, "\"error_code\":40101") != NULL, "%s", body);
        ck_assert_int_eq(call(&srv, 1, "POST", w, p.ca.cert_path, NULL, "market:market-pw", body, &www), 200);
        ck_assert_int_eq(call(&srv, 1, "POST", w, p.ca.cert_path, NULL, "market:bad", body, &www), 401);

        /* certificates that must not count */
        ck_assert_int_eq(call(&srv, 1, "PUT", "/config", p.ca.cert_path, &p.rogue_ops, NULL, body, &www),
                         401);
        ck_assert_msg(strstr(body, "does not verify") != NULL, "%s", body);
        ck_assert_int_eq(call(&srv, 1, "POST", w, p.ca.cert_path, &p.expired, NULL, body, &www), 401);
        ck_assert_msg(strstr(body, "does not verify") != NULL, "%s", body);
        ck_assert_int_eq(call(&srv, 1, "POST", w, p.ca.cert_path, &p.server_purpose, NULL, body, &www), 401);
        ck_assert_int_eq(call(&srv, 1, "GET", "/subjects", p.ca.cert_path, &p.stranger, NULL, body, &www),
                         401);
        ck_assert_msg(strstr(body, "not in the users file") != NULL, "%s", body);
        /* a certificate and a Basic user that disagree */
        ck_assert_int_eq(
                call(&srv, 1, "GET", "/subjects", p.ca.cert_path, &p.ops, "market:market-pw", body, &www),
                401);

        /* the client checks the server: an unknown CA fails the handshake */
        ck_assert_int_eq(call(&srv, 1, "GET", "/subjects", p.market.cert_path, NULL, NULL, body, &www), 0);
        server_stop(&srv);
        pki_free(&p);
}
END_TEST

START_TEST(tls_without_client_ca_and_plain_http) {
        pki_t p = {.dir = ""};
        server_t srv;
        char body[2048];
        int www;
        pki_make(&p);
        /* TLS without a client CA: no certificate is asked for */
        server_start(&srv, &p.server, NULL, 0, p.dir);
        ck_assert_int_eq(call(&srv, 1, "GET", "/subjects", p.ca.cert_path, &p.market, NULL, body, &www), 200);
        ck_assert_msg(strstr(body, "\"cn\":\"\"") != NULL, "%s", body);
        ck_assert_int_eq(call(&srv, 1, "PUT", "/config", p.ca.cert_path, &p.ops, NULL, body, &www), 401);
        server_stop(&srv);
        /* plain HTTP: no certificate, Basic works */
        server_start(&srv, NULL, NULL, 0, p.dir);
        ck_assert_int_eq(call(&srv, 0, "GET", "/subjects", NULL, NULL, NULL, body, &www), 200);
        ck_assert_int_eq(call(&srv, 0, "PUT", "/config", NULL, NULL, "ops:ops-pw", body, &www), 200);
        ck_assert_int_eq(call(&srv, 0, "PUT", "/config", NULL, NULL, "ops:nope", body, &www), 401);
        ck_assert_int_eq(www, 1);
        server_stop(&srv);
        pki_free(&p);
}
END_TEST

START_TEST(tls_files_checked) {
        pki_t p = {.dir = ""};
        char errstr[512] = "", garbage[300];
        pki_make(&p);
        snprintf(garbage, sizeof(garbage), "%s/garbage.pem", p.dir);
        test_cert_write_file(garbage, "not a certificate\n");

        regd_tls_t *t =
                regd_tls_new(p.server.cert_path, p.server.key_path, p.ca.cert_path, errstr, sizeof(errstr));
        ck_assert_msg(t != NULL, "%s", errstr);
        struct MHD_OptionItem items[REGD_TLS_MHD_OPTIONS];
        regd_tls_mhd_options(t, items);
        ck_assert_int_eq(items[0].option, MHD_OPTION_HTTPS_MEM_KEY);
        ck_assert_int_eq(items[1].option, MHD_OPTION_HTTPS_MEM_CERT);
        ck_assert_int_eq(items[2].option, MHD_OPTION_HTTPS_MEM_TRUST);
        ck_assert_int_eq(items[3].option, MHD_OPTION_END);
        regd_tls_destroy(t);

        ck_assert_ptr_null(regd_tls_new("/nonexistent.crt", p.server.key_path, NULL, errstr, sizeof(errstr)));
        ck_assert_str_eq(errstr, "tls_cert_file /nonexistent.crt: No such file or directory");
        ck_assert_ptr_null(regd_tls_new(p.server.cert_path, NULL, NULL, errstr, sizeof(errstr)));
        ck_assert_ptr_nonnull(strstr(errstr, "needs both"));
        /* a key that is not the certificate's */
        ck_assert_ptr_null(regd_tls_new(p.server.cert_path, p.market.key_path, NULL, errstr, sizeof(errstr)));
        ck_assert_msg(strstr(errstr, "tls_key_file") != NULL, "%s", errstr);
        ck_assert_ptr_null(regd_tls_new(garbage, p.server.key_path, NULL, errstr, sizeof(errstr)));
        ck_assert_msg(strstr(errstr, "tls_cert_file") != NULL, "%s", errstr);
        ck_assert_ptr_null(
                regd_tls_new(p.server.cert_path, p.server.key_path, garbage, errstr, sizeof(errstr)));
        ck_assert_msg(strstr(errstr, "tls_client_ca_file") != NULL, "%s", errstr);
        remove(garbage);
        pki_free(&p);
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
        tcase_add_test(tc, tls_client_certificates);
        tcase_add_test(tc, tls_without_client_ca_and_plain_http);
        tcase_add_test(tc, tls_files_checked);
        suite_add_tcase(s, tc);
        return test_run_suite(s);
}

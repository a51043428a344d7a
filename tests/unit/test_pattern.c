/*
 * Unit tests of sb_pattern: which patterns are in its subset, a
 * differential test against regexec (the oracle) on many subjects per
 * pattern, the locale gate, and sb_rules giving the same results and
 * reasons through it as through regexec.
 */
#include <locale.h>
#include <regex.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sb_pattern.h"
#include "sb_rules.h"
#include "testutil.h"

/* 1 if `pattern` compiles to a matcher. */
static int in_subset(const char *pattern) {
        sb_pattern_t *p = NULL;
        TEST_CALL(sb_pattern_new(pattern, &p, TEST_ERR));
        sb_pattern_destroy(p);
        return p != NULL;
}

START_TEST(test_subset) {
        static const char *const in[] = {
                "^[0-9A-HJ-NPQRTUWXY]{2}[0-9]{6}[0-9A-HJ-NPQRTUWXY]{10}$",
                "^[0-9]{17}[0-9X]$",
                "^1[3-9][0-9]{9}$",
                "^[0-9]{6}$",
                "abc",
                "",
                "^",
                "$",
                "^$",
                "a\\.b",
                "\\*\\{\\}\\|\\\\",
                "[]a-]",
                "[-a]",
                "[]-]",
                "a{0}",
                "a{255}",
                "a{007}",
                "[ -~]",
        };
        static const char *const out[] = {
                "a.b",         "a*",      "a+",      "a?",          "[^0-9]",     "(ab){2}",   "a|b",
                "[[:digit:]]", "\\d",     "\\w",     "\\1",         "[0-9]{2,3}", "[0-9]{2,}", "[0-9]{,3}",
                "a{}",         "a{256}",  "a{0255}", "a{2}{3}",     "{2}",        "^{2}",      "a^b",
                "a$b",         "^^a",     "a$$",     "caf\xc3\xa9", "[\xc3\xa9]", "a\tb",      "\\<a",
                "a\\>",        "\\`a",    "a\\'",    "a\\",         "[a",         "a]",        "[]",
                "[z-a]",       "[a-c-e]", "[--a]",   "[a--]",       "[]-a]",      "[\\.]",     "[a[b]",
                "[[.a.]]",     "[[=a=]]", "a{2",     "a}",
        };
        for (size_t i = 0; i < sizeof(in) / sizeof(*in); i++)
                ck_assert_msg(in_subset(in[i]), "%s should be in the subset", in[i]);
        for (size_t i = 0; i < sizeof(out) / sizeof(*out); i++)
                ck_assert_msg(!in_subset(out[i]), "%s should be outside the subset", out[i]);

        /* The bound on the pattern's length. */
        char longest[SB_PATTERN_MAX_LEN + 2];
        memset(longest, 'a', SB_PATTERN_MAX_LEN);
        longest[SB_PATTERN_MAX_LEN] = 0;
        ck_assert(in_subset(longest));
        longest[SB_PATTERN_MAX_LEN] = 'a';
        longest[SB_PATTERN_MAX_LEN + 1] = 0;
        ck_assert(!in_subset(longest));
}
END_TEST

START_TEST(test_locale_gate) {
        /* A thread locale, even C, is not looked into: declined. */
        locale_t c = newlocale(LC_ALL_MASK, "C", (locale_t)0);
        ck_assert_ptr_nonnull(c);
        uselocale(c);
        ck_assert(!in_subset("^[0-9]{6}$"));
        uselocale(LC_GLOBAL_LOCALE);
        freelocale(c);
        ck_assert(in_subset("^[0-9]{6}$"));
        /* Any other global locale (C.UTF-8 where installed): declined. */
        if (setlocale(LC_ALL, "C.UTF-8")) {
                ck_assert(!in_subset("^[0-9]{6}$"));
                setlocale(LC_ALL, "C");
        }
        ck_assert(in_subset("^[0-9]{6}$"));
}
END_TEST

/* ---- differential: sb_pattern against regexec ---- */

typedef struct {
        uint64_t s;
} rng_t;

static uint64_t rng_next(rng_t *r) {
        r->s ^= r->s << 13;
        r->s ^= r->s >> 7;
        r->s ^= r->s << 17;
        return r->s;
}
static size_t rng_below(rng_t *r, size_t n) { return n ? (size_t)(rng_next(r) % n) : 0; }

/* Each pattern with one subject it matches: the subjects it generates are
 * derived from that one through regexec, not through sb_pattern's reading
 * of the pattern. */
static const struct {
        const char *pattern, *seed;
} diff_cases[] = {
        {"^[0-9A-HJ-NPQRTUWXY]{2}[0-9]{6}[0-9A-HJ-NPQRTUWXY]{10}$", "91350100M000100Y43"},
        {"^[0-9]{17}[0-9X]$", "11010519491231002X"},
        {"^1[3-9][0-9]{9}$", "13800000000"},
        {"^[0-9]{6}$", "110105"},
        {"ab-c", "ab-c"},
        {"v\\.[0-9]{1}\\.x", "v.1.x"},
        {"[]a-]{3}", "]a-"},
        {"[-a-c]z", "-z"},
        {"[]-]", "-"},
        {"x{0}y[0-9]{0}z", "yz"},
        {"a{01}b{010}", "abbbbbbbbbb"},
        {"\\*\\+\\?\\(\\)\\[\\]\\{\\}\\|\\^\\$\\\\\\.", "*+?()[]{}|^$\\."},
        {"\\!\\\"\\#\\%\\&\\,\\-\\/\\:\\;\\=\\@\\_\\~", "!\"#%&,-/:;=@_~"},
        {"[ -~]{4}", "a b~"},
        {"[!-/:-@]{2}#", "!@#"},
        {"^[A-Z]$", "Q"},
        {"a{255}", NULL}, /* seed: 255 a */
        {"", ""},
        {"^$", ""},
};

typedef struct {
        regex_t re;
        sb_pattern_t *p;
        long matches, misses; /* by sb_pattern; regexec agrees on each */
} diff_t;

/* regexec as sb_rules has always used it: on a NUL-terminated copy, a
 * subject holding a NUL never matching. */
static int oracle(const diff_t *d, const char *s, size_t len) {
        if (memchr(s, 0, len))
                return 0;
        char *z = malloc(len + 1);
        ck_assert_ptr_nonnull(z);
        memcpy(z, s, len);
        z[len] = 0;
        int m = regexec(&d->re, z, 0, NULL, 0) == 0;
        free(z);
        return m;
}

/* Compares the two on one subject, held in a buffer of exactly `len`
 * bytes so that ASan sees a read past its end. */
static void compare(diff_t *d, const char *pattern, const char *s, size_t len) {
        char *exact = malloc(len ? len : 1);
        ck_assert_ptr_nonnull(exact);
        memcpy(exact, s, len);
        int got = sb_pattern_match(d->p, exact, len), want = oracle(d, s, len);
        free(exact);
        if (got != want) {
                char *hex = test_hexdump((const uint8_t *)s, len);
                ck_abort_msg("pattern %s on [%s]: sb_pattern %d, regexec %d", pattern, hex, got, want);
        }
        *(got ? &d->matches : &d->misses) += 1;
}

START_TEST(test_agrees_with_regexec) {
        const char *pattern = diff_cases[_i].pattern;
        char seed[256] = "";
        if (diff_cases[_i].seed)
                snprintf(seed, sizeof(seed), "%s", diff_cases[_i].seed);
        else
                memset(seed, 'a', 255);
        size_t n = strlen(seed);
        diff_t d = {.matches = 0};
        char anchored[300];
        snprintf(anchored, sizeof(anchored), "^(%s)$", pattern);
        ck_assert_int_eq(regcomp(&d.re, anchored, REG_EXTENDED | REG_NOSUB), 0);
        TEST_CALL(sb_pattern_new(pattern, &d.p, TEST_ERR));
        ck_assert_msg(d.p != NULL, "%s should be in the subset", pattern);
        ck_assert_msg(oracle(&d, seed, n), "the seed of %s does not match it", pattern);

        /* Every byte at every position of the seed; what regexec accepts
         * there is the position's class. */
        char allowed[256][256];
        int nallowed[256] = {0};
        char s[600];
        for (size_t i = 0; i < n; i++)
                for (int c = 0; c < 256; c++) {
                        memcpy(s, seed, sizeof(seed));
                        s[i] = (char)c;
                        compare(&d, pattern, s, n);
                        if (oracle(&d, s, n))
                                allowed[i][nallowed[i]++] = (char)c;
                }

        /* Subjects drawn from those classes, and mutations of each. */
        rng_t r = {0x9E3779B97F4A7C15ull ^ (uint64_t)_i};
        for (int round = 0; round < 2000; round++) {
                for (size_t i = 0; i < n; i++)
                        s[i] = allowed[i][rng_below(&r, (size_t)nallowed[i])];
                compare(&d, pattern, s, n);
                size_t at = rng_below(&r, n + 1), len = n;
                char t[600];
                switch (round % 7) {
                case 0: /* one byte changed */
                        if (n)
                                s[rng_below(&r, n)] = (char)rng_below(&r, 256);
                        break;
                case 1: /* one byte inserted */
                case 2: /* a NUL inserted */
                case 3: /* a byte >= 0x80 inserted */
                        memcpy(t, s, at);
                        t[at] = round % 7 == 1   ? (char)rng_below(&r, 256)
                                : round % 7 == 2 ? 0
                                                 : (char)(0x80 + rng_below(&r, 128));
                        memcpy(t + at + 1, s + at, n - at);
                        memcpy(s, t, n + 1);
                        len = n + 1;
                        break;
                case 4: /* one byte deleted */
                        if (n) {
                                at = rng_below(&r, n);
                                memmove(s + at, s + at + 1, n - at - 1);
                                len = n - 1;
                        }
                        break;
                case 5: /* a byte replaced by NUL or a byte >= 0x80 */
                        if (n)
                                s[rng_below(&r, n)] =
                                        rng_below(&r, 2) ? 0 : (char)(0x80 + rng_below(&r, 128));
                        break;
                default: /* the subject doubled */
                        memcpy(s + n, s, n);
                        len = 2 * n;
                        break;
                }
                compare(&d, pattern, s, len);
        }
        compare(&d, pattern, "", 0);

        /* Neither side may pass by always saying the same. */
        ck_assert_msg(d.matches > 0 && d.misses > 0, "%s: %ld matches, %ld misses", pattern, d.matches,
                      d.misses);
        sb_pattern_destroy(d.p);
        regfree(&d.re);
}
END_TEST

/* ---- sb_rules through sb_pattern ---- */

static const char uscc_schema[] =
        "{'type':'record','name':'L','namespace':'m','fields':["
        "{'name':'uscc','type':'string','sharebus.rules':{'required':true,"
        "'pattern':'^[0-9A-HJ-NPQRTUWXY]{2}[0-9]{6}[0-9A-HJ-NPQRTUWXY]{10}$'}},"
        "{'name':'code','type':['null','string'],'default':null,'sharebus.classification':'personal',"
        "'sharebus.rules':{'pattern':'^[0-9]{6}$'}}]}";

START_TEST(test_rules_same_as_regexec) {
        sb_schema_t *s = test_schema_q(uscc_schema);
        sb_rules_t *fast = NULL, *slow = NULL;
        TEST_CALL(sb_rules_new(sb_schema_root(s), &fast, TEST_ERR));
        /* Compiled under a thread locale, the rules fall back to regexec:
         * that is how they checked every pattern before sb_pattern. */
        locale_t c = newlocale(LC_ALL_MASK, "C", (locale_t)0);
        ck_assert_ptr_nonnull(c);
        uselocale(c);
        TEST_CALL(sb_rules_new(sb_schema_root(s), &slow, TEST_ERR));
        uselocale(LC_GLOBAL_LOCALE);
        freelocale(c);

        static const struct {
                const char *uscc, *code;
                const char *reason; /* NULL: passes */
        } cases[] = {
                {"91350100M000100Y43", "110105", NULL},
                {"91350100M000100Y43", NULL, NULL},
                {"91350100I000100Y43", "110105",
                 "after.uscc: '91350100I000100Y43' does not match the pattern "
                 "^[0-9A-HJ-NPQRTUWXY]{2}[0-9]{6}[0-9A-HJ-NPQRTUWXY]{10}$"},
                {"91350100M000100Y4", "110105",
                 "after.uscc: '91350100M000100Y4' does not match the pattern "
                 "^[0-9A-HJ-NPQRTUWXY]{2}[0-9]{6}[0-9A-HJ-NPQRTUWXY]{10}$"},
                {"", "110105", "after.uscc: required, got an empty string"},
                {"91350100M000100Y43", "11010a",
                 "after.code: the value (personal) does not match the pattern ^[0-9]{6}$"},
                {"91350100M000100Y43", "1101050",
                 "after.code: the value (personal) does not match the pattern ^[0-9]{6}$"},
        };
        for (size_t i = 0; i < sizeof(cases) / sizeof(*cases); i++) {
                json_t *row = json_pack("{s:s}", "uscc", cases[i].uscc);
                if (cases[i].code)
                        json_object_set_new(row, "code", json_string(cases[i].code));
                char e1[512] = "", e2[512] = "";
                sb_err_t r1 = sb_rules_check(fast, row, "after", e1, sizeof(e1));
                sb_err_t r2 = sb_rules_check(slow, row, "after", e2, sizeof(e2));
                ck_assert_int_eq(r1, r2);
                ck_assert_str_eq(e1, e2);
                ck_assert_int_eq(r1, cases[i].reason ? SB_ERR_INVALID : SB_OK);
                if (cases[i].reason)
                        ck_assert_str_eq(e1, cases[i].reason);
                json_decref(row);
        }

        /* A value read from text: not NUL-terminated where it ends, or
         * holding a NUL. */
        static const char text[] = "91350100M000100Y43X\0"
                                   "91350100\0M00100Y43";
        const size_t offsets[] = {0, 20};
        for (size_t i = 0; i < 2; i++) {
                sb_rules_value_t v = {.kind = SB_RULES_STRING, .s = text + offsets[i], .len = 18};
                char e1[512] = "", e2[512] = "";
                sb_err_t r1 = sb_rules_check_field(fast, 0, &v, "key", e1, sizeof(e1));
                sb_err_t r2 = sb_rules_check_field(slow, 0, &v, "key", e2, sizeof(e2));
                ck_assert_int_eq(r1, r2);
                ck_assert_str_eq(e1, e2);
                ck_assert_int_eq(r1, i == 0 ? SB_OK : SB_ERR_INVALID);
                if (i == 1)
                        ck_assert_str_eq(e1, "key.uscc: '91350100?M00100Y43' does not match the pattern "
                                             "^[0-9A-HJ-NPQRTUWXY]{2}[0-9]{6}[0-9A-HJ-NPQRTUWXY]{10}$");
        }
        sb_rules_destroy(fast);
        sb_rules_destroy(slow);
        sb_schema_destroy(s);
}
END_TEST

int main(void) {
        Suite *s = suite_create("pattern");
        TCase *tc = tcase_create("subset");
        tcase_add_test(tc, test_subset);
        tcase_add_test(tc, test_locale_gate);
        suite_add_tcase(s, tc);

        tc = tcase_create("differential");
        tcase_set_timeout(tc, 60);
        tcase_add_loop_test(tc, test_agrees_with_regexec, 0, sizeof(diff_cases) / sizeof(*diff_cases));
        suite_add_tcase(s, tc);

        tc = tcase_create("rules");
        tcase_add_test(tc, test_rules_same_as_regexec);
        suite_add_tcase(s, tc);
        return test_run_suite(s);
}

/*
 * sb_man: the troff escaping of the tables' texts, and that the manual page
 * holds every setting and option with its type, range and default.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sb_man.h"
#include "testutil.h"

/* What sb_man_escape writes for `text` (caller frees). */
static char *escaped(const char *text, int line_start) {
        char *out = NULL;
        size_t len = 0;
        FILE *f = open_memstream(&out, &len);
        ck_assert_ptr_nonnull(f);
        sb_man_escape(f, text, line_start);
        fclose(f);
        return out;
}

START_TEST(test_escape) {
        static const struct {
                const char *text;
                int line_start;
                const char *want;
        } cases[] = {
                {"plain text", 1, "plain text"},
                {"--replay-dlq", 0, "\\-\\-replay\\-dlq"},
                {"back\\slash \\fB", 0, "back\\eslash \\efB"},
                {".starts a line", 1, "\\&.starts a line"},
                {".not at the start", 0, ".not at the start"},
                {"'quote", 1, "\\&'quote"},
                {" space", 1, "\\& space"},
                {"a.b 'c'", 1, "a.b 'c'"},
                {"one\n.two\n'three\nfour", 0, "one\n\\&.two\n\\&'three\nfour"},
                {"tab\there\x01", 0, "tab here "},
                {"\tat the start", 1, "\\& at the start"},
                {"caf\xc3\xa9", 0, "caf\\[u00E9]"},
                {"\xe4\xb8\xad\xe6\x96\x87", 0, "\\[u4E2D]\\[u6587]"},
                {"\xf0\x9f\x98\x80", 0, "\\[u1F600]"},
                {"\xff", 0, "?"},
                {"\xc0\xaf", 0, "??"},           /* overlong '/' */
                {"\xed\xa0\x80", 0, "???"},      /* a surrogate */
                {"\xe4\xb8", 0, "??"},           /* cut short */
                {"\xf4\x90\x80\x80", 0, "????"}, /* above U+10FFFF */
                {"", 1, ""},
        };
        for (size_t i = 0; i < sizeof(cases) / sizeof(*cases); i++) {
                char *got = escaped(cases[i].text, cases[i].line_start);
                ck_assert_msg(strcmp(got, cases[i].want) == 0, "case %zu: got '%s', want '%s'", i, got,
                              cases[i].want);
                free(got);
        }
}
END_TEST

static const sb_setting_t settings[] = {
        {"name", SB_SETTING_STRING, 1, NULL, 0, 0, ".starts with a dot, has a back\\slash and -dashes"},
        {"batch_size", SB_SETTING_INT, 0, "500", 1, 100000, "records per transaction"},
        {"offset_base", SB_SETTING_INT, 0, "-1", -1, 10, "'quoted first"},
        {"receipts", SB_SETTING_BOOL, 0, "true", 0, 0, "keep receipts"},
        {"label", SB_SETTING_STRING, 0, "", 0, 0, "empty default"},
        {"datasets", SB_SETTING_TREE, 0, NULL, 0, 0, "per topic:\n.steps"},
        {"log_level", SB_SETTING_STRING, 0, "info", 0, 0, "error, warn, info or debug"},
};
#define N_SETTINGS (sizeof(settings) / sizeof(*settings))
static const char *flag_value, *ddl_value;
static const sb_option_t options[] = {
        {"--snapshot", NULL, "publish the table first", &flag_value},
        {"--print-ddl", "sqlite|postgresql", "print the outbox DDL", &ddl_value},
};
static const sb_program_t prog = {
        "sharebus-test", "Tests a thing.  More about it.", settings, N_SETTINGS, options, 2};

/* The page of `p` (caller frees). */
static char *page_of(const sb_program_t *p, const char *const *synopsis) {
        char *out = NULL;
        size_t len = 0;
        FILE *f = open_memstream(&out, &len);
        ck_assert_ptr_nonnull(f);
        sb_man_print(f, p, synopsis);
        fclose(f);
        return out;
}

/* Fails unless every line of `page` that troff would read as a request is
 * one the page means: a text of the tables that begins with '.' or '\''
 * would be another. */
static void assert_only_our_requests(const char *page) {
        static const char *const requests[] = {".\\\" ", ".TH ",  ".SH ", ".TP", ".PP", ".B ", ".br",
                                               ".nh",    ".ad l", ".RS",  ".RE", ".nf", ".fi"};
        for (const char *line = page; *line; line = strchr(line, '\n') ? strchr(line, '\n') + 1 : "") {
                if (*line != '.' && *line != '\'')
                        continue;
                size_t n = strcspn(line, "\n"), known = 0;
                for (size_t i = 0; i < sizeof(requests) / sizeof(*requests); i++) {
                        size_t rl = strlen(requests[i]);
                        if (strncmp(line, requests[i], rl) == 0 && (requests[i][rl - 1] == ' ' || n == rl))
                                known = 1;
                }
                ck_assert_msg(known, "a request the page does not mean: '%.*s'", (int)n, line);
        }
}

START_TEST(test_page_has_every_setting_and_option) {
        static const char *const wants[] = {
                ".TH \"SHAREBUS\\-TEST\" 1 ",
                ".SH NAME\nsharebus\\-test \\- Tests a thing\n",
                ".SH SYNOPSIS\n\\fBsharebus\\-test\\fR \\fB\\-\\-config\\fR \\fIFILE\\fR "
                "[\\fB\\-\\-snapshot\\fR] "
                "[\\fB\\-\\-print\\-ddl\\fR \\fIsqlite|postgresql\\fR]\n",
                "\\fB\\-\\-help\\-man\\fR",
                ".SH DESCRIPTION\nTests a thing.  More about it.\n",
                ".SH OPTIONS\n",
                ".TP\n\\fB\\-c\\fR \\fIFILE\\fR, \\fB\\-\\-config\\fR \\fIFILE\\fR\n",
                ".TP\n\\fB\\-\\-snapshot\\fR\npublish the table first\n",
                ".TP\n\\fB\\-\\-print\\-ddl\\fR \\fIsqlite|postgresql\\fR\nprint the outbox DDL\n",
                ".TP\n\\fB\\-\\-help\\-markdown\\fR\n",
                ".TP\n\\fB\\-V\\fR, \\fB\\-\\-version\\fR\n",
                ".SH CONFIGURATION\n",
                /* each setting as --help shows it: type, range, required or default, help */
                ".TP\n\\fBname\\fR (\\fIstring\\fR, required)\n"
                "\\&.starts with a dot, has a back\\eslash and \\-dashes\n",
                ".TP\n\\fBbatch_size\\fR (\\fIinteger\\fR, 1..100000, default: \\fB500\\fR)\nrecords per "
                "transaction\n",
                ".TP\n\\fBoffset_base\\fR (\\fIinteger\\fR, \\-1..10, default: \\fB\\-1\\fR)\n\\&'quoted "
                "first\n",
                ".TP\n\\fBreceipts\\fR (\\fIboolean\\fR, default: \\fBtrue\\fR)\nkeep receipts\n",
                ".TP\n\\fBlabel\\fR (\\fIstring\\fR, default: \\fB\"\"\\fR)\nempty default\n",
                ".TP\n\\fBdatasets\\fR (\\fIlist\\fR)\nper topic:\n\\&.steps\n",
                ".TP\n\\fBlog_level\\fR (\\fIstring\\fR, default: \\fBinfo\\fR)\nerror, warn, info or "
                "debug\n",
                ".TP\n\\fBkafka\\fR (\\fIgroup\\fR)\n",
                ".SH \"EXIT STATUS\"\n.TP\n.B 0\n",
                ".TP\n.B 2\nBad usage or a bad configuration",
                ".SH FILES\n",
                ".SH \"SEE ALSO\"\n\\fBsharebus\\-lag\\fR(1),\n",
        };
        char *page = page_of(&prog, NULL);
        for (size_t i = 0; i < sizeof(wants) / sizeof(*wants); i++)
                ck_assert_msg(strstr(page, wants[i]), "case %zu: the page lacks\n%s\n---\n%s", i, wants[i],
                              page);
        /* Each setting once, in the table's order. */
        const char *at = page;
        for (size_t i = 0; i < N_SETTINGS; i++) {
                char head[64];
                snprintf(head, sizeof(head), ".TP\n\\fB%s\\fR (", settings[i].name);
                const char *p = strstr(at, head);
                ck_assert_msg(p, "setting %s missing or out of order", settings[i].name);
                at = p + 1;
                ck_assert_msg(!strstr(at, head), "setting %s twice", settings[i].name);
        }
        /* Not a daemon with a unit: no unit named. */
        ck_assert_msg(!strstr(page, "@.service"), "%s", page);
        assert_only_our_requests(page);
        free(page);
}
END_TEST

START_TEST(test_daemon_page_names_its_unit) {
        sb_program_t daemon = prog;
        daemon.name = "sharebus-subscriber";
        char *page = page_of(&daemon, NULL);
        static const char *const wants[] = {
                "\\fI/etc/sharebus/subscriber/\\fR\\fBNAME\\fR\\fI.conf\\fR\n",
                "\\fBsharebus\\-subscriber\\fR\\fB@.service\\fR",
                "\\fBsystemctl enable \\-\\-now sharebus\\-subscriber@\\fR\\fINAME\\fR",
                "\\fIPREFIX\\fB/share/sharebus/examples/subscriber.conf\\fR",
                "\\fBsystemd.exec\\fR(5)",
        };
        for (size_t i = 0; i < sizeof(wants) / sizeof(*wants); i++)
                ck_assert_msg(strstr(page, wants[i]), "case %zu: the page lacks '%s':\n%s", i, wants[i],
                              page);
        /* SEE ALSO names the others, not itself. */
        ck_assert_msg(!strstr(page, "\\fBsharebus\\-subscriber\\fR(1)"), "%s", page);
        ck_assert_msg(strstr(page, "\\fBsharebus\\-producer\\fR(1)"), "%s", page);
        assert_only_our_requests(page);
        free(page);
}
END_TEST

START_TEST(test_page_of_a_program_without_config) {
        static const char *const synopsis[] = {"--dataset TOPIC [--count N]", "--cert-only NAME < password",
                                               NULL};
        static const sb_option_t tool_options[] = {
                {"--dataset", "TOPIC", "the dataset", NULL},
                {"--count", "N", "how many", NULL},
        };
        const sb_program_t tool = {"sharebus-tool", "Does one thing.", NULL, 0, tool_options, 2};
        char *page = page_of(&tool, synopsis);
        static const char *const wants[] = {
                ".SH SYNOPSIS\n\\fBsharebus\\-tool\\fR \\fB\\-\\-dataset\\fR \\fITOPIC\\fR "
                "[\\fB\\-\\-count\\fR "
                "\\fIN\\fR]\n.br\n\\fBsharebus\\-tool\\fR \\fB\\-\\-cert\\-only\\fR \\fINAME\\fR < "
                "password\n.br\n"
                "\\fBsharebus\\-tool\\fR \\fB\\-\\-help\\fR | \\fB\\-\\-help\\-man\\fR | "
                "\\fB\\-\\-version\\fR\n",
                ".TP\n\\fB\\-\\-dataset\\fR \\fITOPIC\\fR\nthe dataset\n",
                ".TP\n\\fB\\-\\-help\\fR\nPrint the usage, then exit.\n",
                ".TP\n\\fB\\-\\-version\\fR\n",
                ".TP\n.B 2\nBad usage, reported on standard error.\n",
        };
        for (size_t i = 0; i < sizeof(wants) / sizeof(*wants); i++)
                ck_assert_msg(strstr(page, wants[i]), "case %zu: the page lacks '%s':\n%s", i, wants[i],
                              page);
        static const char *const absent[] = {".SH CONFIGURATION", ".SH FILES", "\\-\\-config",
                                             "\\-\\-help\\-markdown", "\\fB\\-h\\fR"};
        for (size_t i = 0; i < sizeof(absent) / sizeof(*absent); i++)
                ck_assert_msg(!strstr(page, absent[i]), "the page has '%s':\n%s", absent[i], page);
        assert_only_our_requests(page);
        free(page);
}
END_TEST

int main(void) {
        Suite *s = suite_create("man");
        TCase *tc = tcase_create("man");
        tcase_add_test(tc, test_escape);
        tcase_add_test(tc, test_page_has_every_setting_and_option);
        tcase_add_test(tc, test_daemon_page_names_its_unit);
        tcase_add_test(tc, test_page_of_a_program_without_config);
        suite_add_tcase(s, tc);
        return test_run_suite(s);
}

/*
 * sb_cli: the shared command line of the programs: exit codes, and that a
 * bad configuration is named on stderr.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "sb_cli.h"
#include "testutil.h"

static const sb_setting_t settings[] = {
        {"name", SB_SETTING_STRING, 1, NULL, 0, 0, "a required name"},
        {"log_level", SB_SETTING_STRING, 0, "info", 0, 0, "error, warn, info or debug"},
};
static const sb_program_t prog = {"sharebus-test", "A test program.", settings, 2, NULL, 0};

/* The same program with options of its own. */
static const char *snapshot_value, *ddl_value;
static const sb_option_t options[] = {
        {"--snapshot", NULL, "publish the table first", &snapshot_value},
        {"--print-ddl", "sqlite|postgresql", "print the outbox DDL", &ddl_value},
};
static const sb_program_t prog_with_options = {"sharebus-test", "A test program.", settings, 2, options, 2};

/* Runs sb_cli_start of `p` with stdout and stderr captured into *out
 * (caller frees). */
static int run_program(const sb_program_t *p, const char *const *args, int argc, char **out,
                       sb_config_t **cfg, sb_log_t **log) {
        char *argv[8];
        for (int i = 0; i < argc; i++)
                argv[i] = (char *)args[i];
        fflush(stdout);
        fflush(stderr);
        FILE *tmp = tmpfile();
        ck_assert_ptr_nonnull(tmp);
        int saved_out = dup(1), saved_err = dup(2);
        dup2(fileno(tmp), 1);
        dup2(fileno(tmp), 2);
        int rc = sb_cli_start(p, argc, argv, cfg, log);
        fflush(stdout);
        fflush(stderr);
        dup2(saved_out, 1);
        dup2(saved_err, 2);
        close(saved_out);
        close(saved_err);
        long size = ftell(tmp);
        rewind(tmp);
        *out = calloc(1, (size_t)size + 1);
        ck_assert_int_eq(fread(*out, 1, (size_t)size, tmp), (size_t)size);
        fclose(tmp);
        return rc;
}

static int run(const char *const *args, int argc, char **out, sb_config_t **cfg, sb_log_t **log) {
        return run_program(&prog, args, argc, out, cfg, log);
}

START_TEST(test_help_version_and_usage_errors) {
        static const struct {
                const char *args[4];
                int argc, rc;
                const char *says;
        } cases[] = {
                {{"p", "--help"}, 2, 0, "a required name"},
                {{"p", "--help-markdown"}, 2, 0, "| `name` | string | required |"},
                {{"p", "--help-man"}, 2, 0, "\\fBname\\fR (\\fIstring\\fR, required)\na required name\n"},
                {{"p", "--version"}, 2, 0, "sharebus-test "},
                {{"p", "--bogus"}, 2, 2, "unknown argument '--bogus'"},
                {{"p"}, 1, 2, "--config FILE is required"},
                {{"p", "--config"}, 2, 2, "unknown argument '--config'"},
                {{"p", "--config", "/nonexistent/x.conf"}, 3, 2, "/nonexistent/x.conf: cannot read"},
        };
        for (size_t i = 0; i < sizeof(cases) / sizeof(*cases); i++) {
                sb_config_t *cfg;
                sb_log_t *log;
                char *out;
                int rc = run(cases[i].args, cases[i].argc, &out, &cfg, &log);
                ck_assert_msg(rc == cases[i].rc, "case %zu: rc %d, want %d", i, rc, cases[i].rc);
                ck_assert_msg(strstr(out, cases[i].says), "case %zu: output '%s' lacks '%s'", i, out,
                              cases[i].says);
                ck_assert_ptr_null(cfg);
                ck_assert_ptr_null(log);
                free(out);
        }
}
END_TEST

START_TEST(test_config_is_loaded_and_checked) {
        static const struct {
                const char *text;
                int rc;
                const char *says;
        } cases[] = {
                {"name = \"x\";\n", SB_CLI_CONTINUE, ""},
                {"name = \"x\";\nlog_level = \"loud\";\n", 2,
                 ":2: setting 'log_level': 'loud' is not one of error, warn, info, debug"},
                {"log_level = \"info\";\n", 2, "missing required setting 'name'"},
                {"name = \"x\";\ncolour = 1;\n", 2, ":2: unknown setting 'colour'"},
        };
        for (size_t i = 0; i < sizeof(cases) / sizeof(*cases); i++) {
                char path[256];
                snprintf(path, sizeof(path), "%s", test_write_temp(cases[i].text, ".conf"));
                const char *args[] = {"p", "--config", path};
                sb_config_t *cfg;
                sb_log_t *log;
                char *out;
                int rc = run(args, 3, &out, &cfg, &log);
                ck_assert_msg(rc == cases[i].rc, "case %zu: rc %d: %s", i, rc, out);
                ck_assert_msg(strstr(out, cases[i].says), "case %zu: '%s' lacks '%s'", i, out, cases[i].says);
                if (rc == SB_CLI_CONTINUE) {
                        ck_assert_str_eq(sb_config_string(cfg, "name"), "x");
                        ck_assert(sb_log_enabled(log, SB_LOG_INFO) && !sb_log_enabled(log, SB_LOG_DEBUG));
                        sb_log_destroy(log);
                        sb_config_destroy(cfg);
                } else {
                        ck_assert_ptr_null(cfg);
                        ck_assert_ptr_null(log);
                }
                free(out);
                unlink(path);
        }
}
END_TEST

START_TEST(test_program_options) {
        char path[256], *out;
        sb_config_t *cfg;
        sb_log_t *log;
        snprintf(path, sizeof(path), "%s", test_write_temp("name = \"x\";\n", ".conf"));
        const char *both[] = {"p", "--snapshot", "--config", path, "--print-ddl", "sqlite"};
        snapshot_value = ddl_value = NULL;
        ck_assert_int_eq(run_program(&prog_with_options, both, 6, &out, &cfg, &log), SB_CLI_CONTINUE);
        ck_assert_str_eq(snapshot_value, "1");
        ck_assert_str_eq(ddl_value, "sqlite");
        sb_log_destroy(log);
        sb_config_destroy(cfg);
        free(out);
        /* Absent options leave their variables alone. */
        const char *none[] = {"p", "--config", path};
        snapshot_value = ddl_value = NULL;
        ck_assert_int_eq(run_program(&prog_with_options, none, 3, &out, &cfg, &log), SB_CLI_CONTINUE);
        ck_assert_ptr_null(snapshot_value);
        ck_assert_ptr_null(ddl_value);
        sb_log_destroy(log);
        sb_config_destroy(cfg);
        free(out);
        /* An option without its argument is bad usage; a program without
         * options does not take them. */
        const char *missing[] = {"p", "--config", path, "--print-ddl"};
        ck_assert_int_eq(run_program(&prog_with_options, missing, 4, &out, &cfg, &log), 2);
        ck_assert_msg(strstr(out, "unknown argument '--print-ddl'"), "%s", out);
        free(out);
        const char *other[] = {"p", "--config", path, "--snapshot"};
        ck_assert_int_eq(run(other, 4, &out, &cfg, &log), 2);
        free(out);
        /* --help lists them. */
        const char *help[] = {"p", "--help"};
        ck_assert_int_eq(run_program(&prog_with_options, help, 2, &out, &cfg, &log), 0);
        ck_assert_msg(strstr(out, "--print-ddl sqlite|postgresql") && strstr(out, "publish the table first"),
                      "%s", out);
        free(out);
        unlink(path);
}
END_TEST

int main(void) {
        Suite *s = suite_create("cli");
        TCase *tc = tcase_create("cli");
        tcase_add_test(tc, test_help_version_and_usage_errors);
        tcase_add_test(tc, test_config_is_loaded_and_checked);
        tcase_add_test(tc, test_program_options);
        suite_add_tcase(s, tc);
        return test_run_suite(s);
}

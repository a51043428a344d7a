/*
 * Unit tests of sb_config: a settings table checked against libconfig
 * files, the kafka pass-through group, --help and Markdown output; and the
 * example configuration files the project ships are valid libconfig.
 */
#include <glob.h>
#include <libconfig.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lag/lag_settings.h"
#include "producer_settings.h"
#include "regd_settings.h"
#include "sb_config.h"
#include "subscriber_settings.h"
#include "testutil.h"

static const sb_setting_t table[] = {
        {"name", SB_SETTING_STRING, 1, NULL, 0, 0, "what the instance is called"},
        {"mode", SB_SETTING_STRING, 0, "fast", 0, 0, "fast or slow"},
        {"count", SB_SETTING_INT, 0, "10", 1, 100, "how many"},
        {"big", SB_SETTING_INT, 0, "0", -5000000000LL, 5000000000LL, "a 64-bit number"},
        {"verbose", SB_SETTING_BOOL, 0, "false", 0, 0, "say more"},
        {"enabled", SB_SETTING_BOOL, 0, "true", 0, 0, "do it at all"},
        {"optional", SB_SETTING_STRING, 0, NULL, 0, 0, "unset unless given"},
        {"empty_default", SB_SETTING_STRING, 0, "", 0, 0, "empty unless given"},
};
#define N_TABLE (sizeof(table) / sizeof(*table))

static sb_config_t *load_ok(const char *text) {
        sb_config_t *cfg = NULL;
        TEST_CALL(sb_config_load_string(text, "t.conf", table, N_TABLE, &cfg, TEST_ERR));
        ck_assert_ptr_nonnull(cfg);
        return cfg;
}

/* ---- values and defaults ---- */

START_TEST(test_defaults_apply_when_not_set) {
        sb_config_t *cfg = load_ok("name = \"x\";\n");
        ck_assert_str_eq(sb_config_string(cfg, "name"), "x");
        ck_assert_str_eq(sb_config_string(cfg, "mode"), "fast");
        ck_assert_int_eq(sb_config_int(cfg, "count"), 10);
        ck_assert_int_eq(sb_config_int(cfg, "big"), 0);
        ck_assert_int_eq(sb_config_bool(cfg, "verbose"), 0);
        ck_assert_int_eq(sb_config_bool(cfg, "enabled"), 1);
        ck_assert_ptr_null(sb_config_string(cfg, "optional"));
        ck_assert_int_eq(sb_config_int(cfg, "optional"), 0);
        ck_assert_int_eq(sb_config_bool(cfg, "optional"), 0);
        ck_assert_str_eq(sb_config_string(cfg, "empty_default"), "");
        ck_assert_str_eq(sb_config_origin(cfg), "t.conf");
        ck_assert_uint_eq(sb_config_kafka_count(cfg), 0);
        ck_assert_ptr_null(sb_config_kafka_get(cfg, "bootstrap.servers"));
        /* Names outside the table have no value. */
        ck_assert_ptr_null(sb_config_string(cfg, "nosuch"));
        ck_assert_int_eq(sb_config_int(cfg, "nosuch"), 0);
        sb_config_destroy(cfg);
}
END_TEST

START_TEST(test_values_override_defaults) {
        sb_config_t *cfg = load_ok("# comment\n"
                                   "name = \"inst-1\";\n"
                                   "mode : \"slow\";  // other syntax\n"
                                   "count = 100;\n"
                                   "big = -4999999999L;\n"
                                   "verbose = true;\n"
                                   "enabled = false;\n"
                                   "optional = \"given\";\n"
                                   "empty_default = \"now set\";\n");
        ck_assert_str_eq(sb_config_string(cfg, "name"), "inst-1");
        ck_assert_str_eq(sb_config_string(cfg, "mode"), "slow");
        ck_assert_int_eq(sb_config_int(cfg, "count"), 100);
        ck_assert_int_eq(sb_config_int(cfg, "big"), -4999999999LL);
        ck_assert_int_eq(sb_config_bool(cfg, "verbose"), 1);
        ck_assert_int_eq(sb_config_bool(cfg, "enabled"), 0);
        ck_assert_str_eq(sb_config_string(cfg, "optional"), "given");
        ck_assert_str_eq(sb_config_string(cfg, "empty_default"), "now set");
        sb_config_destroy(cfg);
}
END_TEST

static const struct {
        const char *text;
        const char *name;
        long long want;
} int_cases[] = {
        {"name=\"x\"; count = 1;", "count", 1},
        {"name=\"x\"; count = 100;", "count", 100},
        {"name=\"x\"; count = 0x10;", "count", 16},
        {"name=\"x\"; count = 50L;", "count", 50},
        {"name=\"x\"; big = 5000000000L;", "big", 5000000000LL},
        {"name=\"x\"; big = -5000000000L;", "big", -5000000000LL},
        {"name=\"x\"; big = -1;", "big", -1},
};

START_TEST(test_int_values_in_range_are_accepted) {
        sb_config_t *cfg = load_ok(int_cases[_i].text);
        ck_assert_int_eq(sb_config_int(cfg, int_cases[_i].name), int_cases[_i].want);
        sb_config_destroy(cfg);
}
END_TEST

START_TEST(test_empty_string_is_fine_for_optional_setting) {
        sb_config_t *cfg = load_ok("name = \"x\"; optional = \"\";");
        ck_assert_str_eq(sb_config_string(cfg, "optional"), "");
        sb_config_destroy(cfg);
}
END_TEST

/* ---- errors: each names file, line and setting ---- */

static const struct {
        const char *text;
        const char *want[3]; /* all must be in the message */
} error_cases[] = {
        {"name = \"x\";\ncount = 0;\n", {"t.conf:2: setting 'count': 0 is out of range 1..100"}},
        {"name = \"x\";\ncount = 101;\n", {"t.conf:2: setting 'count': 101 is out of range 1..100"}},
        {"name = \"x\";\n\ncount = -1;\n", {"t.conf:3: setting 'count'", "out of range"}},
        {"name = \"x\";\nbig = 5000000001L;\n", {"t.conf:2: setting 'big'", "5000000001 is out of range"}},
        {"name = \"x\";\ncount = 99999999999L;\n", {"t.conf:2: setting 'count'", "out of range"}},
        {"name = \"x\";\ncount = \"10\";\n", {"t.conf:2: setting 'count': expected an integer"}},
        {"name = \"x\";\ncount = 1.5;\n", {"t.conf:2: setting 'count': expected an integer"}},
        {"name = \"x\";\ncount = true;\n", {"t.conf:2: setting 'count': expected an integer"}},
        {"name = \"x\";\ncount = [1];\n", {"t.conf:2: setting 'count': expected an integer"}},
        {"name = 5;\n", {"t.conf:1: setting 'name': expected a string in double quotes"}},
        {"name = true;\n", {"t.conf:1: setting 'name': expected a string"}},
        {"name = 1.0;\n", {"t.conf:1: setting 'name': expected a string"}},
        {"name = [\"a\"];\n", {"t.conf:1: setting 'name': expected a string"}},
        {"name = { a = 1; };\n", {"t.conf:1: setting 'name': expected a string"}},
        {"name = \"\";\n", {"t.conf:1: setting 'name': must not be empty"}},
        {"name = \"x\";\nverbose = 1;\n", {"t.conf:2: setting 'verbose': expected true or false"}},
        {"name = \"x\";\nverbose = \"true\";\n", {"t.conf:2: setting 'verbose': expected true or false"}},
        {"name = \"x\";\nenabled = 0;\n", {"t.conf:2: setting 'enabled'", "expected true or false"}},
        /* Unknown settings, a typo included. */
        {"name = \"x\";\nnosuch = 1;\n", {"t.conf:2: unknown setting 'nosuch'"}},
        {"name = \"x\";\n\n\ncout = 5;\n", {"t.conf:4: unknown setting 'cout'"}},
        {"Name = \"x\";\n", {"t.conf:1: unknown setting 'Name'"}},
        {"name = \"x\";\ngroup = { count = 5; };\n", {"t.conf:2: unknown setting 'group'"}},
        /* Missing required setting. */
        {"count = 5;\n", {"t.conf", "missing required setting 'name'", "what the instance is called"}},
        {"", {"t.conf", "missing required setting 'name'"}},
        /* libconfig syntax errors carry the line. */
        {"name = \"x\";\ncount = ;\n", {"t.conf:2:", "syntax error"}},
        {"name = \"x\";\n\n\ncount = = 3;\n", {"t.conf:4:"}},
        {"name = \"x;\n", {"t.conf:", "syntax error"}},
        {"name = \"x\";\ncount = 5;\ncount = 6;\n", {"t.conf:3:", "duplicate"}},
        {"name = \"x\";\n}\n", {"t.conf:2:"}},
        /* The kafka group or list. */
        {"name = \"x\";\nkafka = 5;\n", {"t.conf:2: setting 'kafka': expected a group"}},
        {"name = \"x\";\nkafka = \"bootstrap.servers=x\";\n",
         {"t.conf:2: setting 'kafka'", "expected a group"}},
        {"name = \"x\";\nkafka = [\"a\", \"b\"];\n", {"t.conf:2: setting 'kafka'", "expected a group"}},
        {"name = \"x\";\nkafka = ( \"a\" );\n", {"t.conf:2: setting 'kafka'", "(\"name\", value)"}},
        {"name = \"x\";\nkafka = (\n  (\"a\", \"1\"),\n  (\"b\")\n);\n",
         {"t.conf:4: setting 'kafka'", "each list entry must be (\"name\", value)"}},
        {"name = \"x\";\nkafka = ( (1, \"b\") );\n", {"t.conf:2: setting 'kafka'", "(\"name\", value)"}},
        {"name = \"x\";\nkafka = ( (\"a\", \"b\", \"c\") );\n",
         {"t.conf:2: setting 'kafka'", "(\"name\", value)"}},
        {"name = \"x\";\nkafka = ( (\"a\", (\"b\")) );\n",
         {"t.conf:2: setting 'kafka.a'", "value must be a string, number or boolean"}},
        {"name = \"x\";\nkafka = {\n  linger_ms = 5;\n  sub_group = { a = 1; };\n};\n",
         {"t.conf:4: setting 'kafka.sub.group'", "value must be a string, number or boolean"}},
        {"name = \"x\";\nkafka = { bootstrap_servers = [\"a\", \"b\"]; };\n",
         {"t.conf:2: setting 'kafka.bootstrap.servers'", "value must be"}},
};
#define N_ERROR_CASES (sizeof(error_cases) / sizeof(*error_cases))

START_TEST(test_bad_config_names_file_line_and_setting) {
        sb_config_t *cfg = (sb_config_t *)1;
        char err[1024] = "";
        sb_err_t rc =
                sb_config_load_string(error_cases[_i].text, "t.conf", table, N_TABLE, &cfg, err, sizeof(err));
        ck_assert_msg(rc == SB_ERR_CONFIG, "config [%s]: got %s, want SB_ERR_CONFIG", error_cases[_i].text,
                      sb_err2str(rc));
        ck_assert_ptr_null(cfg);
        for (int k = 0; k < 3 && error_cases[_i].want[k]; k++)
                ck_assert_msg(strstr(err, error_cases[_i].want[k]),
                              "config [%s]: error '%s' does not say '%s'", error_cases[_i].text, err,
                              error_cases[_i].want[k]);
}
END_TEST

START_TEST(test_required_setting_with_default_is_not_missing) {
        static const sb_setting_t t[] = {
                {"host", SB_SETTING_STRING, 1, "localhost", 0, 0, "host"},
                {"port", SB_SETTING_INT, 1, NULL, 1, 65535, "port"},
        };
        sb_config_t *cfg = NULL;
        char err[512] = "";
        ck_assert_int_eq(sb_config_load_string("", "r.conf", t, 2, &cfg, err, sizeof(err)), SB_ERR_CONFIG);
        ck_assert_msg(strstr(err, "missing required setting 'port'"), "error: %s", err);
        TEST_CALL(sb_config_load_string("port = 80;", "r.conf", t, 2, &cfg, TEST_ERR));
        ck_assert_str_eq(sb_config_string(cfg, "host"), "localhost");
        ck_assert_int_eq(sb_config_int(cfg, "port"), 80);
        sb_config_destroy(cfg);
}
END_TEST

START_TEST(test_empty_table_refuses_any_setting) {
        sb_config_t *cfg = NULL;
        char err[512] = "";
        TEST_CALL(sb_config_load_string("kafka = { acks = \"all\"; };", "e.conf", NULL, 0, &cfg, TEST_ERR));
        ck_assert_str_eq(sb_config_kafka_get(cfg, "acks"), "all");
        sb_config_destroy(cfg);
        cfg = NULL;
        ck_assert_int_eq(sb_config_load_string("x = 1;", "e.conf", NULL, 0, &cfg, err, sizeof(err)),
                         SB_ERR_CONFIG);
        ck_assert_msg(strstr(err, "e.conf:1: unknown setting 'x'"), "error: %s", err);
        ck_assert_ptr_null(cfg);
}
END_TEST

/* ---- files ---- */

START_TEST(test_load_from_file) {
        const char *path = test_write_temp("name = \"from-file\";\ncount = 42;\n"
                                           "kafka = { bootstrap_servers = \"h:9092\"; };\n",
                                           ".conf");
        char saved[256];
        snprintf(saved, sizeof(saved), "%s", path);
        sb_config_t *cfg = NULL;
        TEST_CALL(sb_config_load(saved, table, N_TABLE, &cfg, TEST_ERR));
        ck_assert_str_eq(sb_config_origin(cfg), saved);
        ck_assert_str_eq(sb_config_string(cfg, "name"), "from-file");
        ck_assert_int_eq(sb_config_int(cfg, "count"), 42);
        ck_assert_str_eq(sb_config_kafka_get(cfg, "bootstrap.servers"), "h:9092");
        ck_assert_int_eq(sb_config_kafka_line(cfg, 0), 3);
        sb_config_destroy(cfg);
        unlink(saved);
}
END_TEST

/* libconfig 1.5 would cut an integer beyond 32 bits written without L
 * into another number inside the range: refused with the file and line,
 * from a file and from a string alike; with L it is the number it says. */
START_TEST(test_integer_beyond_32_bits_without_l_is_refused) {
        const char *path = test_write_temp(
                "name = \"x\";\n# 99999999999 in a comment is fine\nbig = 4999999999;\n", ".conf");
        char saved[256], want[400], err[1024] = "";
        snprintf(saved, sizeof(saved), "%s", path);
        sb_config_t *cfg = (sb_config_t *)1;
        ck_assert_int_eq(sb_config_load(saved, table, N_TABLE, &cfg, err, sizeof(err)), SB_ERR_CONFIG);
        ck_assert_ptr_null(cfg);
        snprintf(want, sizeof(want),
                 "%s:3: 4999999999 does not fit 32 bits, which libconfig would cut silently", saved);
        ck_assert_msg(strstr(err, want), "error '%s' does not say '%s'", err, want);
        unlink(saved);
        ck_assert_int_eq(sb_config_load_string("name = \"x\";\ncount = 10;\nbig = -4999999999;", "s.conf",
                                               table, N_TABLE, &cfg, err, sizeof(err)),
                         SB_ERR_CONFIG);
        ck_assert_msg(strstr(err, "s.conf:3: 4999999999 does not fit 32 bits"), "%s", err);
        cfg = load_ok("name = \"x\"; big = 4999999999L; mode = \"9999999999\";");
        ck_assert_int_eq(sb_config_int(cfg, "big"), 4999999999LL);
        sb_config_destroy(cfg);
}
END_TEST

START_TEST(test_file_error_names_the_path_and_line) {
        const char *path = test_write_temp("name = \"x\";\n# two\n# three\ncount = 1000;\n", ".conf");
        char saved[256], want[300];
        snprintf(saved, sizeof(saved), "%s", path);
        sb_config_t *cfg = (sb_config_t *)1;
        char err[1024] = "";
        ck_assert_int_eq(sb_config_load(saved, table, N_TABLE, &cfg, err, sizeof(err)), SB_ERR_CONFIG);
        ck_assert_ptr_null(cfg);
        snprintf(want, sizeof(want), "%s:4: setting 'count'", saved);
        ck_assert_msg(strstr(err, want), "error '%s' does not say '%s'", err, want);
        unlink(saved);

        path = test_write_temp("name = \"x\";\ncount = 5\n;;\n", ".conf");
        snprintf(saved, sizeof(saved), "%s", path);
        ck_assert_int_eq(sb_config_load(saved, table, N_TABLE, &cfg, err, sizeof(err)), SB_ERR_CONFIG);
        snprintf(want, sizeof(want), "%s:3:", saved);
        ck_assert_msg(strstr(err, want), "error '%s' does not say '%s'", err, want);
        unlink(saved);
}
END_TEST

START_TEST(test_unreadable_file_is_reported) {
        static const char *const paths[] = {"/nonexistent/dir/sharebus.conf",
                                            "/tmp/sharebus-no-such-file.conf"};
        sb_config_t *cfg = (sb_config_t *)1;
        char err[1024] = "";
        ck_assert_int_eq(sb_config_load(paths[_i], table, N_TABLE, &cfg, err, sizeof(err)), SB_ERR_CONFIG);
        ck_assert_ptr_null(cfg);
        ck_assert_msg(strstr(err, paths[_i]) && strstr(err, "cannot read configuration file"), "error: %s",
                      err);
        ck_assert_msg(strstr(err, "No such file or directory"), "error: %s", err);
}
END_TEST

START_TEST(test_directory_as_config_file_is_refused) {
        sb_config_t *cfg = (sb_config_t *)1;
        char err[1024] = "";
        ck_assert_int_eq(sb_config_load("/tmp", table, N_TABLE, &cfg, err, sizeof(err)), SB_ERR_CONFIG);
        ck_assert_ptr_null(cfg);
        ck_assert_msg(strstr(err, "/tmp"), "error: %s", err);
}
END_TEST

/* ---- the kafka pass-through ---- */

START_TEST(test_kafka_group_names_and_values_become_text) {
        static const struct {
                const char *name, *value;
                int line;
        } want[] = {
                {"bootstrap.servers", "127.0.0.1:9092", 3},
                {"enable.idempotence", "true", 4},
                {"linger.ms", "5", 5},
                {"message.max.bytes", "5000000000", 6},
                {"batch.num.messages", "16", 7},
                {"sticky.partitioning.ratio", "0.5", 8},
                {"enable.gapless.guarantee", "false", 9},
                {"client.id", "", 10},
                {"compression-codec", "lz4", 11},
        };
        sb_config_t *cfg = load_ok("name = \"x\";\n"
                                   "kafka = {\n"
                                   "  bootstrap_servers = \"127.0.0.1:9092\";\n"
                                   "  enable_idempotence = true;\n"
                                   "  linger_ms = 5;\n"
                                   "  message_max_bytes = 5000000000L;\n"
                                   "  batch_num_messages = 0x10;\n"
                                   "  sticky_partitioning_ratio = 0.5;\n"
                                   "  enable_gapless_guarantee = false;\n"
                                   "  client_id = \"\";\n"
                                   "  compression-codec = \"lz4\";\n"
                                   "};\n");
        ck_assert_uint_eq(sb_config_kafka_count(cfg), sizeof(want) / sizeof(*want));
        for (size_t i = 0; i < sizeof(want) / sizeof(*want); i++) {
                ck_assert_str_eq(sb_config_kafka_name(cfg, i), want[i].name);
                ck_assert_str_eq(sb_config_kafka_value(cfg, i), want[i].value);
                ck_assert_int_eq(sb_config_kafka_line(cfg, i), want[i].line);
                ck_assert_str_eq(sb_config_kafka_get(cfg, want[i].name), want[i].value);
        }
        /* Only dotted names are looked up. */
        ck_assert_ptr_null(sb_config_kafka_get(cfg, "bootstrap_servers"));
        ck_assert_ptr_null(sb_config_kafka_get(cfg, "acks"));
        sb_config_destroy(cfg);
}
END_TEST

START_TEST(test_kafka_list_keeps_names_as_written) {
        sb_config_t *cfg = load_ok("name = \"x\";\n"
                                   "kafka = (\n"
                                   "  (\"sasl.kerberos.service_name\", \"kafka\"),\n"
                                   "  (\"linger.ms\", 5),\n"
                                   "  (\"enable.idempotence\", true),\n"
                                   "  (\"big\", 5000000000L),\n"
                                   "  [\"ssl.endpoint.identification.algorithm\", \"none\"]\n"
                                   ");\n");
        static const char *const names[] = {"sasl.kerberos.service_name", "linger.ms", "enable.idempotence",
                                            "big", "ssl.endpoint.identification.algorithm"};
        static const char *const values[] = {"kafka", "5", "true", "5000000000", "none"};
        ck_assert_uint_eq(sb_config_kafka_count(cfg), 5);
        for (size_t i = 0; i < 5; i++) {
                ck_assert_str_eq(sb_config_kafka_name(cfg, i), names[i]);
                ck_assert_str_eq(sb_config_kafka_value(cfg, i), values[i]);
                ck_assert_int_eq(sb_config_kafka_line(cfg, i), 3 + (int)i);
        }
        ck_assert_str_eq(sb_config_kafka_get(cfg, "sasl.kerberos.service_name"), "kafka");
        sb_config_destroy(cfg);
}
END_TEST

START_TEST(test_kafka_later_value_of_same_name_wins) {
        sb_config_t *cfg = load_ok("name = \"x\";\nkafka = ( (\"acks\", \"1\"), (\"acks\", \"all\") );\n");
        ck_assert_uint_eq(sb_config_kafka_count(cfg), 2);
        ck_assert_str_eq(sb_config_kafka_get(cfg, "acks"), "all");
        sb_config_destroy(cfg);
}
END_TEST

START_TEST(test_kafka_empty_group_and_list) {
        static const char *const texts[] = {"name = \"x\"; kafka = {};", "name = \"x\"; kafka = ();"};
        sb_config_t *cfg = load_ok(texts[_i]);
        ck_assert_uint_eq(sb_config_kafka_count(cfg), 0);
        sb_config_destroy(cfg);
}
END_TEST

/* ---- --help and Markdown ---- */

static char *capture_help(int markdown) {
        char *text = NULL;
        size_t len = 0;
        FILE *f = open_memstream(&text, &len);
        ck_assert_ptr_nonnull(f);
        if (markdown)
                sb_settings_print_markdown(f, table, N_TABLE);
        else
                sb_settings_print_help(f, "sharebus-thing", "Does a thing.", table, N_TABLE);
        fclose(f);
        ck_assert_ptr_nonnull(text);
        return text;
}

/* The line of `text` that mentions setting `name` first, copied to `line`. */
static int line_of(const char *text, const char *name, int markdown, char *line, size_t size) {
        char key[64];
        snprintf(key, sizeof(key), markdown ? "| `%s` |" : "  %s ", name);
        const char *p = strstr(text, key);
        if (!p)
                return 0;
        const char *end = strchr(p, '\n');
        snprintf(line, size, "%.*s", (int)(end ? end - p : (long)strlen(p)), p);
        return 1;
}

START_TEST(test_help_lists_every_setting_with_default) {
        char *text = capture_help(0);
        char line[512];
        ck_assert_msg(strstr(text, "Usage: sharebus-thing --config FILE"), "%s", text);
        ck_assert_msg(strstr(text, "sharebus-thing --help | --version"), "%s", text);
        ck_assert_msg(strstr(text, "Does a thing."), "%s", text);
        for (size_t i = 0; i < N_TABLE; i++) {
                ck_assert_msg(line_of(text, table[i].name, 0, line, sizeof(line)), "no line for %s in:\n%s",
                              table[i].name, text);
                ck_assert_msg(strstr(line, table[i].help), "line '%s' lacks the help", line);
                char want[128];
                if (table[i].def)
                        snprintf(want, sizeof(want), "(default: %s)", *table[i].def ? table[i].def : "\"\"");
                else
                        snprintf(want, sizeof(want), "%s", table[i].required ? "(required)" : "");
                ck_assert_msg(strstr(line, want), "line '%s' lacks '%s'", line, want);
                if (!table[i].def && !table[i].required)
                        ck_assert_msg(!strstr(line, "default") && !strstr(line, "required"), "line '%s'",
                                      line);
                if (table[i].type == SB_SETTING_INT) {
                        snprintf(want, sizeof(want), "[%lld..%lld]", table[i].min, table[i].max);
                        ck_assert_msg(strstr(line, want), "line '%s' lacks '%s'", line, want);
                }
        }
        ck_assert_msg(line_of(text, "kafka", 0, line, sizeof(line)) && strstr(line, "librdkafka"), "%s",
                      text);
        ck_assert_msg(strstr(text, "exit") || strstr(text, "Exit"), "%s", text);
        free(text);
}
END_TEST

START_TEST(test_markdown_lists_every_setting_with_default) {
        char *text = capture_help(1);
        char line[512], want[128];
        ck_assert_msg(strncmp(text, "| setting | type | default | description |\n|---|---|---|---|\n", 61) ==
                              0,
                      "%s", text);
        for (size_t i = 0; i < N_TABLE; i++) {
                ck_assert_msg(line_of(text, table[i].name, 1, line, sizeof(line)), "no row for %s in:\n%s",
                              table[i].name, text);
                ck_assert_msg(strstr(line, table[i].help), "row '%s' lacks the help", line);
                if (table[i].def)
                        snprintf(want, sizeof(want), "| `%s` |", *table[i].def ? table[i].def : "\"\"");
                else
                        snprintf(want, sizeof(want), "| %s |", table[i].required ? "required" : "unset");
                ck_assert_msg(strstr(line, want), "row '%s' lacks '%s'", line, want);
                if (table[i].type == SB_SETTING_INT) {
                        snprintf(want, sizeof(want), "integer %lld..%lld", table[i].min, table[i].max);
                        ck_assert_msg(strstr(line, want), "row '%s' lacks '%s'", line, want);
                }
                /* Every row has the table's four columns. */
                int bars = 0;
                for (const char *p = line; *p; p++)
                        bars += *p == '|';
                ck_assert_msg(bars == 5, "row '%s' has %d bars", line, bars);
        }
        ck_assert_msg(line_of(text, "kafka", 1, line, sizeof(line)), "%s", text);
        free(text);
}
END_TEST

/* ---- the shipped example files ---- */

START_TEST(test_example_config_files_are_valid_libconfig) {
        static const char *const patterns[] = {"producers/examples/*.conf", "consumers/examples/*.conf",
                                               "schemas/registry/examples/*.conf",
                                               "broker-config/examples/*.conf"};
        size_t found = 0;
        for (size_t p = 0; p < sizeof(patterns) / sizeof(*patterns); p++) {
                glob_t g;
                char pattern[4096];
                snprintf(pattern, sizeof(pattern), "%s", test_src_path(patterns[p]));
                if (glob(pattern, 0, NULL, &g) != 0)
                        continue;
                for (size_t i = 0; i < g.gl_pathc; i++) {
                        config_t lc;
                        config_init(&lc);
                        int ok = config_read_file(&lc, g.gl_pathv[i]);
                        ck_assert_msg(ok == CONFIG_TRUE, "%s:%d: %s", g.gl_pathv[i], config_error_line(&lc),
                                      config_error_text(&lc));
                        /* Every example sets something. */
                        ck_assert_msg(config_setting_length(config_root_setting(&lc)) > 0, "%s is empty",
                                      g.gl_pathv[i]);
                        /* kafka, where present, is a group or a list of pairs. */
                        config_setting_t *k = config_lookup(&lc, "kafka");
                        ck_assert_msg(!k || config_setting_is_group(k) || config_setting_is_list(k),
                                      "%s: kafka is neither a group nor a list", g.gl_pathv[i]);
                        config_destroy(&lc);
                        found++;
                }
                globfree(&g);
        }
        ck_assert_msg(found >= 1, "no example .conf files under %s", test_src_path(""));
}
END_TEST

/* Each example loads against its program's own table of settings, so a
 * renamed or removed setting cannot linger in an example. */
static const struct {
        const char *file;
        const sb_setting_t *table;
        const size_t *count;
        const char *a_setting; /* a setting the example sets */
        const char *value;
} examples[] = {
        {"producers/examples/producer.conf", sb_producer_settings, &sb_producer_settings_count, "department",
         "market"},
        {"consumers/examples/subscriber.conf", sb_subscriber_settings, &sb_subscriber_settings_count, "name",
         "tax-office"},
        {"schemas/registry/examples/registry.conf", regd_settings, &regd_settings_count, "listen_host",
         "127.0.0.1"},
        {"consumers/examples/lag.conf", sb_lag_settings, &sb_lag_settings_count, "metrics_listen",
         "127.0.0.1:9470"},
};

START_TEST(test_example_configs_load_against_their_programs_settings) {
        sb_config_t *cfg = NULL;
        TEST_CALL(sb_config_load(test_src_path(examples[_i].file), examples[_i].table, *examples[_i].count,
                                 &cfg, TEST_ERR));
        ck_assert_str_eq(sb_config_string(cfg, examples[_i].a_setting), examples[_i].value);
        sb_config_destroy(cfg);
}
END_TEST

/* ---- enumerated values: file:line and the setting, for every program ---- */

static const struct {
        const sb_setting_t *table;
        const size_t *n;
        const char *text, *name;
        const char *const choices[5]; /* NULL-terminated */
        const char *says;             /* NULL: accepted */
} choice_cases[] = {
        {sb_subscriber_settings,
         &sb_subscriber_settings_count,
         "name = \"s\";\ntopics = \"a.b\";\nregistry_url = \"http://x\";\nlog_level = \"loud\";\n",
         "log_level",
         {"error", "warn", "info", "debug"},
         "sub.conf:4: setting 'log_level': 'loud' is not one of error, warn, info, debug"},
        {sb_subscriber_settings,
         &sb_subscriber_settings_count,
         "name = \"s\";\ntopics = \"a.b\";\nregistry_url = \"http://x\";\nlog_level = \"debug\";\n",
         "log_level",
         {"error", "warn", "info", "debug"},
         NULL},
        {regd_settings,
         &regd_settings_count,
         "listen_port = 0;\nstorage = \"disk\";\n",
         "storage",
         {"kafka", "memory"},
         "sub.conf:2: setting 'storage': 'disk' is not one of kafka, memory"},
        {regd_settings, &regd_settings_count, "listen_port = 0;\n", "storage", {"kafka", "memory"}, NULL},
        /* A bad default has no line: the file did not set it. */
        {regd_settings,
         &regd_settings_count,
         "listen_port = 0;\n",
         "storage",
         {"memory"},
         "sub.conf: setting 'storage': 'kafka' is not one of memory"},
};
#define N_CHOICE_CASES (sizeof(choice_cases) / sizeof(*choice_cases))

START_TEST(test_bad_choice_names_file_line_and_setting) {
        sb_config_t *cfg = NULL;
        char err[512] = "";
        TEST_CALL(sb_config_load_string(choice_cases[_i].text, "sub.conf", choice_cases[_i].table,
                                        *choice_cases[_i].n, &cfg, TEST_ERR));
        sb_err_t rc = sb_config_check_choice(cfg, choice_cases[_i].name, choice_cases[_i].choices, err,
                                             sizeof(err));
        if (choice_cases[_i].says) {
                ck_assert_int_eq(rc, SB_ERR_CONFIG);
                ck_assert_str_eq(err, choice_cases[_i].says);
        } else {
                ck_assert_msg(rc == SB_OK, "%s", err);
        }
        sb_config_destroy(cfg);
}
END_TEST

/* A list setting (the subscriber's datasets) is bounded in depth and in
 * values, named by file and line, so that no config file can make the
 * loader recurse or allocate without end. */
START_TEST(test_list_setting_too_deep_or_too_large_is_refused) {
        static const char head[] = "name = \"s\";\ntopics = \"a.b\";\nregistry_url = \"http://x\";\n";
        sb_config_t *cfg = NULL;
        char err[512] = "";
        size_t cap = sizeof(head) + 2 * (SB_CONFIG_TREE_NODES + 1) + 64;
        char *text = malloc(cap);
        ck_assert_ptr_nonnull(text);
        /* Within the bound: loaded. */
        snprintf(text, cap, "%sdatasets = ( ( ( 1 ) ) );\n", head);
        TEST_CALL(sb_config_load_string(text, "sub.conf", sb_subscriber_settings,
                                        sb_subscriber_settings_count, &cfg, TEST_ERR));
        sb_config_destroy(cfg);
        /* Twenty lists deep. */
        size_t len = (size_t)snprintf(text, cap, "%sdatasets = ", head);
        for (int i = 0; i < 20; i++)
                text[len++] = '(';
        text[len++] = '1';
        for (int i = 0; i < 20; i++)
                text[len++] = ')';
        snprintf(text + len, cap - len, ";\n");
        ck_assert_int_eq(sb_config_load_string(text, "sub.conf", sb_subscriber_settings,
                                               sb_subscriber_settings_count, &cfg, err, sizeof(err)),
                         SB_ERR_CONFIG);
        ck_assert_ptr_null(cfg);
        ck_assert_msg(strstr(err, "sub.conf:4: more than 8 levels or 100000 values"), "error: %s", err);
        /* One value more than the bound, flat. */
        len = (size_t)snprintf(text, cap, "%sdatasets = (", head);
        for (int i = 0; i <= SB_CONFIG_TREE_NODES; i++) {
                text[len++] = i ? ',' : ' ';
                text[len++] = '1';
        }
        snprintf(text + len, cap - len, ");\n");
        ck_assert_int_eq(sb_config_load_string(text, "sub.conf", sb_subscriber_settings,
                                               sb_subscriber_settings_count, &cfg, err, sizeof(err)),
                         SB_ERR_CONFIG);
        ck_assert_msg(strstr(err, "sub.conf:4: more than 8 levels or 100000 values"), "error: %s", err);
        free(text);
}
END_TEST

START_TEST(test_subscriber_target_must_be_known_with_line) {
        sb_config_t *cfg = NULL;
        char err[512] = "";
        TEST_CALL(sb_config_load_string("name = \"s\";\ntopics = \"a.b\";\nregistry_url = \"http://x\";\n"
                                        "target = \"oracle\";\n",
                                        "sub.conf", sb_subscriber_settings, sb_subscriber_settings_count,
                                        &cfg, TEST_ERR));
        ck_assert_int_eq(sb_subscriber_settings_check(cfg, err, sizeof(err)), SB_ERR_CONFIG);
        ck_assert_str_eq(err, "sub.conf:4: setting 'target': 'oracle' is not one of sqlite, postgresql");
        ck_assert_int_eq(sb_config_line(cfg, "target"), 4);
        ck_assert_int_eq(sb_config_line(cfg, "sqlite_path"), 0);
        sb_config_destroy(cfg);
        TEST_CALL(sb_config_load_string("name = \"s\";\ntopics = \"a.b\";\nregistry_url = \"http://x\";\n",
                                        "sub.conf", sb_subscriber_settings, sb_subscriber_settings_count,
                                        &cfg, TEST_ERR));
        TEST_CALL(sb_subscriber_settings_check(cfg, TEST_ERR));
        ck_assert_str_eq(sb_config_string(cfg, "mode"), "state");
        sb_config_destroy(cfg);
        /* The mode likewise: state or history. */
        TEST_CALL(sb_config_load_string("name = \"s\";\ntopics = \"a.b\";\nregistry_url = \"http://x\";\n"
                                        "mode = \"both\";\n",
                                        "sub.conf", sb_subscriber_settings, sb_subscriber_settings_count,
                                        &cfg, TEST_ERR));
        ck_assert_int_eq(sb_subscriber_settings_check(cfg, err, sizeof(err)), SB_ERR_CONFIG);
        ck_assert_str_eq(err, "sub.conf:4: setting 'mode': 'both' is not one of state, history");
        sb_config_destroy(cfg);
        TEST_CALL(sb_config_load_string("name = \"s\";\ntopics = \"a.b\";\nregistry_url = \"http://x\";\n"
                                        "mode = \"history\";\n",
                                        "sub.conf", sb_subscriber_settings, sb_subscriber_settings_count,
                                        &cfg, TEST_ERR));
        TEST_CALL(sb_subscriber_settings_check(cfg, TEST_ERR));
        sb_config_destroy(cfg);
        /* PostgreSQL needs its connection string, said before anything starts. */
        TEST_CALL(sb_config_load_string("name = \"s\";\ntopics = \"a.b\";\nregistry_url = \"http://x\";\n"
                                        "target = \"postgresql\";\n",
                                        "sub.conf", sb_subscriber_settings, sb_subscriber_settings_count,
                                        &cfg, TEST_ERR));
        ck_assert_int_eq(sb_subscriber_settings_check(cfg, err, sizeof(err)), SB_ERR_CONFIG);
        ck_assert_str_eq(err,
                         "sub.conf: setting 'postgresql_conninfo' is required with target = \"postgresql\"");
        sb_config_destroy(cfg);
        TEST_CALL(sb_config_load_string("name = \"s\";\ntopics = \"a.b\";\nregistry_url = \"http://x\";\n"
                                        "target = \"postgresql\";\npostgresql_conninfo = \"dbname=x\";\n",
                                        "sub.conf", sb_subscriber_settings, sb_subscriber_settings_count,
                                        &cfg, TEST_ERR));
        TEST_CALL(sb_subscriber_settings_check(cfg, TEST_ERR));
        sb_config_destroy(cfg);
}
END_TEST

int main(void) {
        Suite *s = suite_create("config");
        TCase *tc = tcase_create("values");
        tcase_add_test(tc, test_defaults_apply_when_not_set);
        tcase_add_test(tc, test_values_override_defaults);
        tcase_add_loop_test(tc, test_int_values_in_range_are_accepted, 0,
                            sizeof(int_cases) / sizeof(*int_cases));
        tcase_add_test(tc, test_empty_string_is_fine_for_optional_setting);
        tcase_add_test(tc, test_required_setting_with_default_is_not_missing);
        tcase_add_test(tc, test_empty_table_refuses_any_setting);
        suite_add_tcase(s, tc);

        tc = tcase_create("errors");
        tcase_add_loop_test(tc, test_bad_config_names_file_line_and_setting, 0, N_ERROR_CASES);
        tcase_add_loop_test(tc, test_bad_choice_names_file_line_and_setting, 0, N_CHOICE_CASES);
        tcase_add_test(tc, test_subscriber_target_must_be_known_with_line);
        tcase_add_test(tc, test_list_setting_too_deep_or_too_large_is_refused);
        tcase_add_test(tc, test_load_from_file);
        tcase_add_test(tc, test_file_error_names_the_path_and_line);
        tcase_add_test(tc, test_integer_beyond_32_bits_without_l_is_refused);
        tcase_add_loop_test(tc, test_unreadable_file_is_reported, 0, 2);
        tcase_add_test(tc, test_directory_as_config_file_is_refused);
        suite_add_tcase(s, tc);

        tc = tcase_create("kafka");
        tcase_add_test(tc, test_kafka_group_names_and_values_become_text);
        tcase_add_test(tc, test_kafka_list_keeps_names_as_written);
        tcase_add_test(tc, test_kafka_later_value_of_same_name_wins);
        tcase_add_loop_test(tc, test_kafka_empty_group_and_list, 0, 2);
        suite_add_tcase(s, tc);

        tc = tcase_create("help");
        tcase_add_test(tc, test_help_lists_every_setting_with_default);
        tcase_add_test(tc, test_markdown_lists_every_setting_with_default);
        tcase_add_test(tc, test_example_config_files_are_valid_libconfig);
        tcase_add_loop_test(tc, test_example_configs_load_against_their_programs_settings, 0,
                            (int)(sizeof(examples) / sizeof(*examples)));
        suite_add_tcase(s, tc);
        return test_run_suite(s);
}

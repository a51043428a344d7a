#include "sb_cli.h"

#include <librdkafka/rdkafka.h>
#include <stdio.h>
#include <string.h>

#include "sb_man.h"

#ifndef SB_VERSION
#define SB_VERSION "unknown"
#endif

static void usage(const sb_program_t *prog, FILE *out) {
        sb_settings_print_help(out, prog->name, prog->summary, prog->settings, prog->n_settings);
        if (prog->n_options)
                fprintf(out, "\nOptions (with --config):\n");
        for (size_t i = 0; i < prog->n_options; i++) {
                const sb_option_t *o = &prog->options[i];
                char head[96];
                snprintf(head, sizeof(head), "%s%s%s", o->name, o->arg ? " " : "", o->arg ? o->arg : "");
                fprintf(out, "  %-32s %s\n", head, o->help);
        }
}

/* The option of `prog` named `arg`, or NULL. */
static const sb_option_t *option(const sb_program_t *prog, const char *arg) {
        for (size_t i = 0; i < prog->n_options; i++)
                if (strcmp(prog->options[i].name, arg) == 0)
                        return &prog->options[i];
        return NULL;
}

int sb_cli_start(const sb_program_t *prog, int argc, char **argv, sb_config_t **cfg, sb_log_t **log) {
        const char *config_path = NULL;
        char errstr[1024];
        *cfg = NULL;
        *log = NULL;
        for (int i = 1; i < argc; i++) {
                if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
                        usage(prog, stdout);
                        return 0;
                } else if (strcmp(argv[i], "--help-markdown") == 0) {
                        sb_settings_print_markdown(stdout, prog->settings, prog->n_settings);
                        return 0;
                } else if (strcmp(argv[i], "--help-man") == 0) {
                        sb_man_print(stdout, prog, NULL);
                        return 0;
                } else if (strcmp(argv[i], "--version") == 0 || strcmp(argv[i], "-V") == 0) {
                        printf("%s %s (librdkafka %s)\n", prog->name, SB_VERSION, rd_kafka_version_str());
                        return 0;
                } else if ((strcmp(argv[i], "--config") == 0 || strcmp(argv[i], "-c") == 0) && i + 1 < argc) {
                        config_path = argv[++i];
                } else if (option(prog, argv[i]) && (!option(prog, argv[i])->arg || i + 1 < argc)) {
                        const sb_option_t *o = option(prog, argv[i]);
                        *o->value = o->arg ? argv[++i] : "1";
                } else {
                        fprintf(stderr, "%s: unknown argument '%s'\n", prog->name, argv[i]);
                        usage(prog, stderr);
                        return 2;
                }
        }
        if (!config_path) {
                fprintf(stderr, "%s: --config FILE is required\n", prog->name);
                usage(prog, stderr);
                return 2;
        }
        if (sb_config_load(config_path, prog->settings, prog->n_settings, cfg, errstr, sizeof(errstr))) {
                fprintf(stderr, "%s: %s\n", prog->name, errstr);
                return 2;
        }
        static const char *const levels[] = {"error", "warn", "info", "debug", NULL};
        int level = sb_log_level_parse(sb_config_string(*cfg, "log_level"));
        if (level < 0) {
                sb_config_check_choice(*cfg, "log_level", levels, errstr, sizeof(errstr));
                fprintf(stderr, "%s: %s\n", prog->name, errstr);
                sb_config_destroy(*cfg);
                *cfg = NULL;
                return 2;
        }
        if (sb_log_new(prog->name, (sb_log_level_t)level, stderr, log, errstr, sizeof(errstr))) {
                fprintf(stderr, "%s: %s\n", prog->name, errstr);
                sb_config_destroy(*cfg);
                *cfg = NULL;
                return 1;
        }
        return SB_CLI_CONTINUE;
}

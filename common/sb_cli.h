/*
 * sb_cli: the command line every sharebus program shares.
 *
 *   PROGRAM --config FILE [program options]
 *   PROGRAM --help | --help-markdown | --help-man | --version
 *
 * A program may add options of its own (sb_option_t), each writing its
 * value to a variable of the caller's.
 * --help, --help-markdown and --help-man (its manual page, sb_man) print the
 * program's table of settings (so they never disagree with the configuration
 * it accepts); --config loads and checks the file against that table and
 * makes the logger from its `log_level` setting.  Bad usage or a bad
 * configuration is reported on stderr, naming the file, line and setting,
 * and means exit code 2.
 */
#ifndef SB_CLI_H
#define SB_CLI_H

#include <stddef.h>

#include "sb_config.h"
#include "sb_log.h"

typedef struct {
        const char *name; /* "--snapshot" */
        const char *arg;  /* name of its argument for --help ("sqlite|postgresql"), NULL for a flag */
        const char *help;
        const char **value; /* set to the argument, or to "1" for a flag; left alone when absent */
} sb_option_t;

typedef struct {
        const char *name;    /* e.g. "sharebus-producer" */
        const char *summary; /* one sentence for --help */
        const sb_setting_t *settings;
        size_t n_settings;
        const sb_option_t *options; /* may be NULL */
        size_t n_options;
} sb_program_t;

#define SB_CLI_CONTINUE (-1)

/* Parses argv.  Returns SB_CLI_CONTINUE with *cfg and *log set (the caller
 * destroys both) when the program should run, else the exit code: 0 after
 * --help, --help-markdown, --help-man or --version, 2 for bad usage or
 * configuration. */
int sb_cli_start(const sb_program_t *prog, int argc, char **argv, sb_config_t **cfg, sb_log_t **log);

#endif

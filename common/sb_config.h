/*
 * sb_config: a program's settings, loaded from a libconfig file and checked
 * against the program's declarative table of settings.
 *
 * The same table gives `--help` and the README's configuration reference
 * (sb_settings_print_help / sb_settings_print_markdown), so the three never
 * disagree.  The `kafka` group is passed through to librdkafka untouched but
 * for the name: libconfig names cannot hold dots, so underscores stand for
 * dots (`bootstrap_servers` -> `bootstrap.servers`).  `kafka` may instead be a
 * list of ("name", "value") pairs, for a name that holds an underscore.
 */
#ifndef SB_CONFIG_H
#define SB_CONFIG_H

#include <jansson.h>
#include <stdio.h>

#include "sb_error.h"

typedef enum {
        SB_SETTING_STRING,
        SB_SETTING_INT,
        SB_SETTING_BOOL,
        /* A group or list of groups (libconfig), for settings with a
         * structure, such as the subscriber's per-dataset transforms: read
         * with sb_config_tree. */
        SB_SETTING_TREE,
} sb_setting_type_t;

typedef struct {
        const char *name;
        sb_setting_type_t type;
        int required;
        const char *def;    /* default as text, NULL for none */
        long long min, max; /* for SB_SETTING_INT */
        const char *help;
} sb_setting_t;

typedef struct sb_config_s sb_config_t;

/* Loads and checks `path` against `table` (not copied: it must outlive the
 * config).  On success *out is a new config the caller destroys.  On failure
 * returns SB_ERR_CONFIG and errstr names the file, the line and the setting. */
#define SB_CONFIG_MAX_FILE (16 * 1024 * 1024) /* bytes of a configuration file */

/* Debian's libconfig (1.5) cuts an integer beyond 32 bits without a word
 * (outbox_retention_ms = 31536000000; becomes 1471228928), so the loaders
 * first look for one in the text: SB_ERR_CONFIG naming `origin`:line unless
 * it is written 31536000000L (libconfig's 64-bit form) or as a string.
 * Comments and strings are skipped. */
sb_err_t sb_config_check_integers(const char *text, const char *origin, char *errstr, size_t errstr_size);

sb_err_t sb_config_load(const char *path, const sb_setting_t *table, size_t n_settings, sb_config_t **out,
                        char *errstr, size_t errstr_size);
/* As sb_config_load, from text in memory; `origin` names it in errors. */
sb_err_t sb_config_load_string(const char *text, const char *origin, const sb_setting_t *table,
                               size_t n_settings, sb_config_t **out, char *errstr, size_t errstr_size);
void sb_config_destroy(sb_config_t *cfg);

/* Value of a setting of the table, or its default; NULL (or 0) when neither.
 * Returned strings are owned by the config. */
const char *sb_config_string(const sb_config_t *cfg, const char *name);
long long sb_config_int(const sb_config_t *cfg, const char *name);
int sb_config_bool(const sb_config_t *cfg, const char *name);
/* A SB_SETTING_TREE setting as JSON (owned by the config; NULL when not
 * set): a libconfig group is an object whose member "@line" is its line in
 * the file (a name libconfig cannot hold), a list or array is an array,
 * scalars are strings, integers, reals and booleans.  At most
 * SB_CONFIG_TREE_DEPTH levels deep and SB_CONFIG_TREE_NODES values, or the
 * load fails naming the line. */
#define SB_CONFIG_TREE_DEPTH 8
#define SB_CONFIG_TREE_NODES 100000
const json_t *sb_config_tree(const sb_config_t *cfg, const char *name);
/* The "@line" of group `g` of a tree, 0 when it has none. */
int sb_config_tree_line(const json_t *g);
/* Path of the file the config came from (owned by the config). */
const char *sb_config_origin(const sb_config_t *cfg);
/* Line of the file where setting `name` was set; 0 when it was not (its
 * default applies) or it is not in the table. */
int sb_config_line(const sb_config_t *cfg, const char *name);
/* SB_OK if setting `name` is one of `choices` (NULL-terminated); else
 * SB_ERR_CONFIG with errstr "file:line: setting 'name': 'value' is not one
 * of a, b" (no line when the default is what is wrong). */
sb_err_t sb_config_check_choice(const sb_config_t *cfg, const char *name, const char *const *choices,
                                char *errstr, size_t errstr_size);

/* librdkafka properties from the `kafka` group, in file order, names with
 * dots.  Strings are owned by the config. */
size_t sb_config_kafka_count(const sb_config_t *cfg);
const char *sb_config_kafka_name(const sb_config_t *cfg, size_t i);
const char *sb_config_kafka_value(const sb_config_t *cfg, size_t i);
int sb_config_kafka_line(const sb_config_t *cfg, size_t i);
/* Value of kafka property `name` (dotted), or NULL. */
const char *sb_config_kafka_get(const sb_config_t *cfg, const char *name);

/* The name of a setting type as --help shows it ("string", "integer",
 * "boolean", "list"); a static string. */
const char *sb_setting_type_name(sb_setting_type_t t);
/* Prints `--help` text for the table. */
void sb_settings_print_help(FILE *out, const char *program, const char *summary, const sb_setting_t *table,
                            size_t n_settings);
/* Prints the table as a Markdown table for the README. */
void sb_settings_print_markdown(FILE *out, const sb_setting_t *table, size_t n_settings);

#endif

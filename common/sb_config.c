#include "sb_config.h"

#include <errno.h>
#include <inttypes.h>
#include <libconfig.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
        char *name;
        char *value;
        int line;
} sb_kv_t;

struct sb_config_s {
        char *origin;
        const sb_setting_t *table;
        size_t n_settings;
        char **values;  /* one per table entry, NULL if not set in the file */
        int *lines;     /* one per table entry: where it was set, 0 if not */
        json_t **trees; /* one per table entry: SB_SETTING_TREE values, else NULL */
        sb_kv_t *kafka;
        size_t n_kafka;
};

static const sb_setting_t *find_setting(const sb_setting_t *table, size_t n, const char *name, size_t *idx) {
        for (size_t i = 0; i < n; i++)
                if (strcmp(table[i].name, name) == 0) {
                        if (idx)
                                *idx = i;
                        return &table[i];
                }
        return NULL;
}

/* Renders a scalar libconfig setting as text; NULL if not a scalar. */
static char *scalar_text(const config_setting_t *s) {
        char tmp[64];
        switch (config_setting_type(s)) {
        case CONFIG_TYPE_STRING: return strdup(config_setting_get_string(s));
        case CONFIG_TYPE_INT: snprintf(tmp, sizeof(tmp), "%d", config_setting_get_int(s)); return strdup(tmp);
        case CONFIG_TYPE_INT64:
                snprintf(tmp, sizeof(tmp), "%lld", (long long)config_setting_get_int64(s));
                return strdup(tmp);
        case CONFIG_TYPE_FLOAT:
                snprintf(tmp, sizeof(tmp), "%g", config_setting_get_float(s));
                return strdup(tmp);
        case CONFIG_TYPE_BOOL: return strdup(config_setting_get_bool(s) ? "true" : "false");
        default: return NULL;
        }
}

static sb_err_t add_kafka(sb_config_t *cfg, const char *name, char *value, int line) {
        sb_kv_t *kv = realloc(cfg->kafka, (cfg->n_kafka + 1) * sizeof(*kv));
        if (!kv) {
                free(value);
                return SB_ERR_NOMEM;
        }
        cfg->kafka = kv;
        kv = &cfg->kafka[cfg->n_kafka];
        kv->name = strdup(name);
        kv->value = value;
        kv->line = line;
        if (!kv->name) {
                free(value);
                return SB_ERR_NOMEM;
        }
        cfg->n_kafka++;
        return SB_OK;
}

static sb_err_t load_kafka(sb_config_t *cfg, const config_setting_t *group, char *errstr,
                           size_t errstr_size) {
        int n = config_setting_length(group);
        int is_list = config_setting_is_list(group);
        for (int i = 0; i < n; i++) {
                const config_setting_t *s = config_setting_get_elem(group, (unsigned)i);
                int line = config_setting_source_line(s);
                char name[256];
                char *value;
                if (is_list) {
                        const config_setting_t *k, *v;
                        if (config_setting_length(s) != 2 || !(k = config_setting_get_elem(s, 0)) ||
                            config_setting_type(k) != CONFIG_TYPE_STRING ||
                            !(v = config_setting_get_elem(s, 1)))
                                return sb_seterr(
                                        SB_ERR_CONFIG, errstr, errstr_size,
                                        "%s:%d: setting 'kafka': each list entry must be (\"name\", value)",
                                        cfg->origin, line);
                        snprintf(name, sizeof(name), "%s", config_setting_get_string(k));
                        value = scalar_text(v);
                } else {
                        snprintf(name, sizeof(name), "%s", config_setting_name(s));
                        for (char *p = name; *p; p++)
                                if (*p == '_')
                                        *p = '.';
                        value = scalar_text(s);
                }
                if (!value)
                        return sb_seterr(
                                SB_ERR_CONFIG, errstr, errstr_size,
                                "%s:%d: setting 'kafka.%s': value must be a string, number or boolean",
                                cfg->origin, line, name);
                if (add_kafka(cfg, name, value, line))
                        return sb_seterr(SB_ERR_NOMEM, errstr, errstr_size, "out of memory");
        }
        return SB_OK;
}

/* Converts libconfig setting `s` into JSON (sb_config_tree says how), at
 * depth `depth`, counting values in *nodes.  NULL: too deep, too many or
 * out of memory, with errstr set. */
static json_t *tree_of(const sb_config_t *cfg, const config_setting_t *s, int depth, size_t *nodes,
                       char *errstr, size_t errstr_size) {
        int line = config_setting_source_line(s);
        if (depth > SB_CONFIG_TREE_DEPTH || ++*nodes > SB_CONFIG_TREE_NODES) {
                sb_seterr(SB_ERR_CONFIG, errstr, errstr_size, "%s:%d: more than %d levels or %d values",
                          cfg->origin, line, SB_CONFIG_TREE_DEPTH, SB_CONFIG_TREE_NODES);
                return NULL;
        }
        json_t *out;
        switch (config_setting_type(s)) {
        case CONFIG_TYPE_STRING: out = json_string(config_setting_get_string(s)); break;
        case CONFIG_TYPE_INT: out = json_integer(config_setting_get_int(s)); break;
        case CONFIG_TYPE_INT64: out = json_integer(config_setting_get_int64(s)); break;
        case CONFIG_TYPE_FLOAT: out = json_real(config_setting_get_float(s)); break;
        case CONFIG_TYPE_BOOL: out = json_boolean(config_setting_get_bool(s)); break;
        default: {
                int group = config_setting_is_group(s);
                out = group ? json_object() : json_array();
                if (out && group)
                        json_object_set_new(out, "@line", json_integer(line));
                for (int i = 0; out && i < config_setting_length(s); i++) {
                        const config_setting_t *e = config_setting_get_elem(s, (unsigned)i);
                        json_t *v = tree_of(cfg, e, depth + 1, nodes, errstr, errstr_size);
                        if (!v || (group ? json_object_set_new(out, config_setting_name(e), v)
                                         : json_array_append_new(out, v))) {
                                json_decref(out);
                                return NULL; /* errstr set below if it was memory */
                        }
                }
        }
        }
        if (!out && !*errstr)
                sb_seterr(SB_ERR_NOMEM, errstr, errstr_size, "out of memory");
        return out;
}

static sb_err_t check_value(const sb_config_t *cfg, const sb_setting_t *st, const config_setting_t *s,
                            char *errstr, size_t errstr_size) {
        int line = config_setting_source_line(s);
        int type = config_setting_type(s);
        switch (st->type) {
        case SB_SETTING_STRING:
                if (type != CONFIG_TYPE_STRING)
                        return sb_seterr(SB_ERR_CONFIG, errstr, errstr_size,
                                         "%s:%d: setting '%s': expected a string in double quotes",
                                         cfg->origin, line, st->name);
                if (st->required && !*config_setting_get_string(s))
                        return sb_seterr(SB_ERR_CONFIG, errstr, errstr_size,
                                         "%s:%d: setting '%s': must not be empty", cfg->origin, line,
                                         st->name);
                break;
        case SB_SETTING_INT: {
                if (type != CONFIG_TYPE_INT && type != CONFIG_TYPE_INT64)
                        return sb_seterr(SB_ERR_CONFIG, errstr, errstr_size,
                                         "%s:%d: setting '%s': expected an integer", cfg->origin, line,
                                         st->name);
                long long v = config_setting_get_int64(s);
                if (type == CONFIG_TYPE_INT)
                        v = config_setting_get_int(s);
                if (v < st->min || v > st->max)
                        return sb_seterr(SB_ERR_CONFIG, errstr, errstr_size,
                                         "%s:%d: setting '%s': %lld is out of range %lld..%lld", cfg->origin,
                                         line, st->name, v, st->min, st->max);
                break;
        }
        case SB_SETTING_BOOL:
                if (type != CONFIG_TYPE_BOOL)
                        return sb_seterr(SB_ERR_CONFIG, errstr, errstr_size,
                                         "%s:%d: setting '%s': expected true or false", cfg->origin, line,
                                         st->name);
                break;
        case SB_SETTING_TREE:
                if (!config_setting_is_aggregate(s))
                        return sb_seterr(SB_ERR_CONFIG, errstr, errstr_size,
                                         "%s:%d: setting '%s': expected a group { ... } or a list ( ... )",
                                         cfg->origin, line, st->name);
                break;
        }
        return SB_OK;
}

static sb_err_t load_config(config_t *lc, sb_config_t *cfg, char *errstr, size_t errstr_size) {
        config_setting_t *root = config_root_setting(lc);
        int n = config_setting_length(root);
        for (int i = 0; i < n; i++) {
                const config_setting_t *s = config_setting_get_elem(root, (unsigned)i);
                const char *name = config_setting_name(s);
                size_t idx;
                sb_err_t err;
                if (strcmp(name, "kafka") == 0) {
                        if (!config_setting_is_group(s) && !config_setting_is_list(s))
                                return sb_seterr(SB_ERR_CONFIG, errstr, errstr_size,
                                                 "%s:%d: setting 'kafka': expected a group { name = value; } "
                                                 "or a list of (\"name\", value) pairs",
                                                 cfg->origin, config_setting_source_line(s));
                        if ((err = load_kafka(cfg, s, errstr, errstr_size)))
                                return err;
                        continue;
                }
                const sb_setting_t *st = find_setting(cfg->table, cfg->n_settings, name, &idx);
                if (!st)
                        return sb_seterr(SB_ERR_CONFIG, errstr, errstr_size,
                                         "%s:%d: unknown setting '%s' (see --help for the settings)",
                                         cfg->origin, config_setting_source_line(s), name);
                if ((err = check_value(cfg, st, s, errstr, errstr_size)))
                        return err;
                if (st->type == SB_SETTING_TREE) {
                        size_t nodes = 0;
                        *errstr = 0;
                        json_decref(cfg->trees[idx]);
                        if (!(cfg->trees[idx] = tree_of(cfg, s, 1, &nodes, errstr, errstr_size)))
                                return *errstr ? SB_ERR_CONFIG : SB_ERR_NOMEM;
                        cfg->lines[idx] = config_setting_source_line(s);
                        continue;
                }
                free(cfg->values[idx]);
                cfg->values[idx] = scalar_text(s);
                cfg->lines[idx] = config_setting_source_line(s);
                if (!cfg->values[idx])
                        return sb_seterr(SB_ERR_NOMEM, errstr, errstr_size, "out of memory");
        }
        for (size_t i = 0; i < cfg->n_settings; i++)
                if (cfg->table[i].required && !cfg->values[i] && !cfg->trees[i] && !cfg->table[i].def)
                        return sb_seterr(SB_ERR_CONFIG, errstr, errstr_size,
                                         "%s: missing required setting '%s' (%s)", cfg->origin,
                                         cfg->table[i].name, cfg->table[i].help);
        return SB_OK;
}

/* The whole of file `path` (at most SB_CONFIG_MAX_FILE bytes), NUL
 * terminated, into a new buffer the caller frees; NULL when it cannot be
 * read or is larger. */
static char *read_text(const char *path, size_t *len) {
        FILE *f = fopen(path, "rb");
        char *text = f ? malloc(SB_CONFIG_MAX_FILE + 1) : NULL;
        size_t n = text ? fread(text, 1, SB_CONFIG_MAX_FILE + 1, f) : 0;
        int failed = !text || ferror(f) || n > SB_CONFIG_MAX_FILE;
        if (f)
                fclose(f);
        if (failed) {
                free(text);
                return NULL;
        }
        text[n] = '\0';
        *len = n;
        return text;
}

static sb_err_t config_load_any(const char *path, const char *text, const char *origin,
                                const sb_setting_t *table, size_t n_settings, sb_config_t **out, char *errstr,
                                size_t errstr_size) {
        config_t lc;
        sb_err_t err;
        sb_config_t *cfg = calloc(1, sizeof(*cfg));
        *out = NULL;
        if (!cfg)
                return sb_seterr(SB_ERR_NOMEM, errstr, errstr_size, "out of memory");
        cfg->origin = strdup(origin);
        cfg->table = table;
        cfg->n_settings = n_settings;
        cfg->values = calloc(n_settings ? n_settings : 1, sizeof(char *));
        cfg->lines = calloc(n_settings ? n_settings : 1, sizeof(int));
        cfg->trees = calloc(n_settings ? n_settings : 1, sizeof(json_t *));
        if (!cfg->origin || !cfg->values || !cfg->lines || !cfg->trees) {
                sb_config_destroy(cfg);
                return sb_seterr(SB_ERR_NOMEM, errstr, errstr_size, "out of memory");
        }
        config_init(&lc);
        int ok = path ? config_read_file(&lc, path) : config_read_string(&lc, text);
        if (ok != CONFIG_TRUE) {
                if (config_error_type(&lc) == CONFIG_ERR_FILE_IO)
                        err = sb_seterr(SB_ERR_CONFIG, errstr, errstr_size,
                                        "%s: cannot read configuration file: %s", origin, strerror(errno));
                else
                        err = sb_seterr(SB_ERR_CONFIG, errstr, errstr_size, "%s:%d: %s", origin,
                                        config_error_line(&lc), config_error_text(&lc));
        } else {
                /* The file's text again, for what libconfig would not say. */
                size_t len = 0;
                char *file = path ? read_text(path, &len) : NULL;
                if (path && !file)
                        err = sb_seterr(SB_ERR_CONFIG, errstr, errstr_size,
                                        "%s: cannot read configuration file, or larger than %d MiB", origin,
                                        SB_CONFIG_MAX_FILE >> 20);
                else
                        err = sb_config_check_integers(path ? file : text, origin, errstr, errstr_size);
                free(file);
                if (!err)
                        err = load_config(&lc, cfg, errstr, errstr_size);
        }
        config_destroy(&lc);
        if (err) {
                sb_config_destroy(cfg);
                return err;
        }
        *out = cfg;
        return SB_OK;
}

/* Whether c may be part of a libconfig name or a number's fraction (a
 * digit after one starts no number); '-' too, unless it follows no name. */
static int name_char(int c) {
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
               c == '-' || c == '*' || c == '.';
}

/* Whether the digit at p starts a number: not inside a name ("c12") or a
 * fraction ("1.25"); after a minus sign that follows no name ("= -12"). */
static int starts_number(const char *text, const char *p) {
        if (p == text || !name_char((unsigned char)p[-1]))
                return 1;
        return p[-1] == '-' && (p - 1 == text || !name_char((unsigned char)p[-2]));
}

sb_err_t sb_config_check_integers(const char *text, const char *origin, char *errstr, size_t errstr_size) {
        int line = 1;
        for (const char *p = text; *p; p++) {
                if (*p == '\n') {
                        line++;
                } else if (*p == '"') { /* a string: skipped, escapes included */
                        for (p++; *p && *p != '"'; p++) {
                                if (*p == '\\' && p[1])
                                        p++;
                                else if (*p == '\n')
                                        line++;
                        }
                        if (!*p)
                                break;
                } else if (*p == '#' || (*p == '/' && p[1] == '/')) {
                        while (p[1] && p[1] != '\n')
                                p++;
                } else if (*p == '/' && p[1] == '*') {
                        for (p += 2; *p && !(*p == '*' && p[1] == '/'); p++)
                                line += *p == '\n';
                        if (!*p)
                                break;
                        p++;
                } else if (*p >= '0' && *p <= '9' && starts_number(text, p)) {
                        const char *start = p;
                        if (p[0] == '0' && (p[1] == 'x' || p[1] == 'X')) {
                                for (p += 2; (*p >= '0' && *p <= '9') || (*p >= 'a' && *p <= 'f') ||
                                             (*p >= 'A' && *p <= 'F');
                                     p++)
                                        ;
                                p--; /* at its last digit, as below */
                        } else {
                                while (p[1] >= '0' && p[1] <= '9')
                                        p++;
                                if (p[1] != '.' && p[1] != 'e' && p[1] != 'E' && p[1] != 'L' &&
                                    (p - start > 9 ||
                                     strtoll(start, NULL, 10) >
                                             2147483647LL + (start > text && start[-1] == '-')))
                                        return sb_seterr(SB_ERR_CONFIG, errstr, errstr_size,
                                                         "%s:%d: %.*s does not fit 32 bits, which libconfig "
                                                         "would cut silently: write %.*sL, or \"%.*s\"",
                                                         origin, line, (int)(p - start + 1), start,
                                                         (int)(p - start + 1), start, (int)(p - start + 1),
                                                         start);
                        }
                        while (p[1] && name_char((unsigned char)p[1]))
                                p++;
                }
        }
        return SB_OK;
}

sb_err_t sb_config_load(const char *path, const sb_setting_t *table, size_t n_settings, sb_config_t **out,
                        char *errstr, size_t errstr_size) {
        return config_load_any(path, NULL, path, table, n_settings, out, errstr, errstr_size);
}

sb_err_t sb_config_load_string(const char *text, const char *origin, const sb_setting_t *table,
                               size_t n_settings, sb_config_t **out, char *errstr, size_t errstr_size) {
        return config_load_any(NULL, text, origin, table, n_settings, out, errstr, errstr_size);
}

void sb_config_destroy(sb_config_t *cfg) {
        if (!cfg)
                return;
        if (cfg->values)
                for (size_t i = 0; i < cfg->n_settings; i++)
                        free(cfg->values[i]);
        if (cfg->trees)
                for (size_t i = 0; i < cfg->n_settings; i++)
                        json_decref(cfg->trees[i]);
        free(cfg->trees);
        for (size_t i = 0; i < cfg->n_kafka; i++) {
                free(cfg->kafka[i].name);
                free(cfg->kafka[i].value);
        }
        free(cfg->kafka);
        free(cfg->values);
        free(cfg->lines);
        free(cfg->origin);
        free(cfg);
}

const char *sb_config_string(const sb_config_t *cfg, const char *name) {
        size_t idx;
        const sb_setting_t *st = find_setting(cfg->table, cfg->n_settings, name, &idx);
        if (!st)
                return NULL;
        return cfg->values[idx] ? cfg->values[idx] : st->def;
}

long long sb_config_int(const sb_config_t *cfg, const char *name) {
        const char *v = sb_config_string(cfg, name);
        return v ? strtoll(v, NULL, 10) : 0;
}

int sb_config_bool(const sb_config_t *cfg, const char *name) {
        const char *v = sb_config_string(cfg, name);
        return v && strcmp(v, "true") == 0;
}

const json_t *sb_config_tree(const sb_config_t *cfg, const char *name) {
        size_t idx;
        return find_setting(cfg->table, cfg->n_settings, name, &idx) ? cfg->trees[idx] : NULL;
}

int sb_config_tree_line(const json_t *g) { return (int)json_integer_value(json_object_get(g, "@line")); }

const char *sb_config_origin(const sb_config_t *cfg) { return cfg->origin; }

int sb_config_line(const sb_config_t *cfg, const char *name) {
        size_t idx;
        return find_setting(cfg->table, cfg->n_settings, name, &idx) ? cfg->lines[idx] : 0;
}

sb_err_t sb_config_check_choice(const sb_config_t *cfg, const char *name, const char *const *choices,
                                char *errstr, size_t errstr_size) {
        const char *value = sb_config_string(cfg, name);
        char where[64] = "", list[256] = "";
        size_t len = 0;
        for (size_t i = 0; choices[i]; i++) {
                if (value && strcmp(value, choices[i]) == 0)
                        return SB_OK;
                int n = snprintf(list + len, sizeof(list) - len, "%s%s", i ? ", " : "", choices[i]);
                len = n < 0 || (size_t)n >= sizeof(list) - len ? sizeof(list) - 1 : len + (size_t)n;
        }
        int line = sb_config_line(cfg, name);
        if (line > 0)
                snprintf(where, sizeof(where), ":%d", line);
        return sb_seterr(SB_ERR_CONFIG, errstr, errstr_size, "%s%s: setting '%s': '%s' is not one of %s",
                         cfg->origin, where, name, value ? value : "", list);
}
size_t sb_config_kafka_count(const sb_config_t *cfg) { return cfg->n_kafka; }
const char *sb_config_kafka_name(const sb_config_t *cfg, size_t i) { return cfg->kafka[i].name; }
const char *sb_config_kafka_value(const sb_config_t *cfg, size_t i) { return cfg->kafka[i].value; }
int sb_config_kafka_line(const sb_config_t *cfg, size_t i) { return cfg->kafka[i].line; }

const char *sb_config_kafka_get(const sb_config_t *cfg, const char *name) {
        for (size_t i = cfg->n_kafka; i-- > 0;)
                if (strcmp(cfg->kafka[i].name, name) == 0)
                        return cfg->kafka[i].value;
        return NULL;
}

const char *sb_setting_type_name(sb_setting_type_t t) {
        switch (t) {
        case SB_SETTING_STRING: return "string";
        case SB_SETTING_INT: return "integer";
        case SB_SETTING_BOOL: return "boolean";
        case SB_SETTING_TREE: return "list";
        }
        return "?";
}

void sb_settings_print_help(FILE *out, const char *program, const char *summary, const sb_setting_t *table,
                            size_t n) {
        fprintf(out,
                "Usage: %s --config FILE\n       %s --help | --version\n\n%s\n\n"
                "Settings of the configuration file (libconfig syntax, name = value;):\n",
                program, program, summary);
        for (size_t i = 0; i < n; i++) {
                const sb_setting_t *s = &table[i];
                fprintf(out, "  %-22s %-8s %s", s->name, sb_setting_type_name(s->type), s->help);
                if (s->type == SB_SETTING_INT)
                        fprintf(out, " [%lld..%lld]", s->min, s->max);
                if (s->required && !s->def)
                        fprintf(out, " (required)");
                else if (s->def)
                        fprintf(out, " (default: %s)", *s->def ? s->def : "\"\"");
                fputc('\n', out);
        }
        fprintf(out,
                "  %-22s %-8s librdkafka properties, '_' standing for '.': "
                "kafka = { bootstrap_servers = \"127.0.0.1:9092\"; };\n"
                "%-33s or a list of (\"name\", \"value\") pairs\n\n"
                "Exit codes: 0 success, 1 runtime failure, 2 bad usage or configuration.\n",
                "kafka", "group", "");
}

/* Markdown text: < > | would be read as HTML or as a column break. */
static void print_md_text(FILE *out, const char *text) {
        for (const char *p = text; *p; p++) {
                if (*p == '<')
                        fputs("&lt;", out);
                else if (*p == '>')
                        fputs("&gt;", out);
                else if (*p == '|')
                        fputs("\\|", out);
                else
                        fputc(*p, out);
        }
}

void sb_settings_print_markdown(FILE *out, const sb_setting_t *table, size_t n) {
        fprintf(out, "| setting | type | default | description |\n|---|---|---|---|\n");
        for (size_t i = 0; i < n; i++) {
                const sb_setting_t *s = &table[i];
                fprintf(out, "| `%s` | %s", s->name, sb_setting_type_name(s->type));
                if (s->type == SB_SETTING_INT)
                        fprintf(out, " %lld..%lld", s->min, s->max);
                if (s->def)
                        fprintf(out, " | `%s` | ", *s->def ? s->def : "\"\"");
                else
                        fprintf(out, " | %s | ", s->required ? "required" : "unset");
                print_md_text(out, s->help);
                fprintf(out, " |\n");
        }
        fprintf(out, "| `kafka` | group | | librdkafka properties passed through, `_` standing for `.` (or a "
                     "list of `(\"name\", \"value\")` pairs) |\n");
}

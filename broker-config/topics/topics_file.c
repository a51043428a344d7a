#include "topics/topics_file.h"

#include <jansson.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const sb_setting_t sb_topics_settings[] = {
        {.name = "topics",
         .type = SB_SETTING_TREE,
         .required = 1,
         .help = "the topics, a list of groups: ( { name = \"civil.resident\"; partitions = 6; "
                 "replication_factor = 3; configs = { retention_ms = 604800000; cleanup_policy = \"delete\"; "
                 "}; "
                 "} ); partitions and replication_factor may be left out (the settings below apply); configs "
                 "is the whole set of the topic's own configs (one not declared is reset to the broker's "
                 "default), '_' standing for '.', or a list of (\"name\", \"value\") pairs"},
        {.name = "principals",
         .type = SB_SETTING_TREE,
         .help = "the principals and their roles, from which the ACLs are derived: ( { name = \"market\"; "
                 "role = \"department\"; }, { name = \"demo\"; role = \"subscriber\"; reads = [ "
                 "\"civil.resident\" ]; }, { name = \"registry\"; role = \"registry\"; }, { name = "
                 "\"operator\"; role = \"operator\"; } ); the whole truth: a binding on the broker that no "
                 "principal derives is deleted by apply; left out, ACLs are not looked at"},
        {.name = "partitions",
         .type = SB_SETTING_INT,
         .def = "3",
         .min = 1,
         .max = TOPICS_PARTITIONS_MAX,
         .help = "partitions of a topic that does not say"},
        {.name = "replication_factor",
         .type = SB_SETTING_INT,
         .def = "1",
         .min = 1,
         .max = TOPICS_REPLICATION_MAX,
         .help = "replicas of each partition of a topic that does not say (1 on the single-node local "
                 "broker); --replication-factor N on the command line replaces every topic's"},
        {.name = "request_timeout_ms",
         .type = SB_SETTING_INT,
         .def = "30000",
         .min = 100,
         .max = 600000,
         .help = "how long one Admin API request may take, and how long apply waits for the broker to show "
                 "what it changed"},
        {.name = "log_level", .type = SB_SETTING_STRING, .def = "info", .help = "error, warn, info or debug"},
};

const size_t sb_topics_settings_count = sizeof(sb_topics_settings) / sizeof(*sb_topics_settings);

/* What reading one file needs at hand. */
typedef struct {
        const char *origin;
        const char *setting; /* "setting 'topics'" or "setting 'principals'", as errors name it */
        topics_set_t *set;
        char *errstr;
        size_t errstr_size;
} reader_t;

/* SB_ERR_CONFIG with errstr "file:line: setting 'topics': <fmt...>" (or 'principals'). */
static sb_err_t bad(const reader_t *r, int line, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static sb_err_t bad(const reader_t *r, int line, const char *fmt, ...) {
        char what[768];
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(what, sizeof(what), fmt, ap);
        va_end(ap);
        return sb_seterr(SB_ERR_CONFIG, r->errstr, r->errstr_size, "%s:%d: %s: %s", r->origin, line,
                         r->setting, what);
}

/* A config value as Kafka's text; 0, or -1 when `v` is not a scalar. */
static int value_text(const json_t *v, char *out, size_t size) {
        if (json_is_string(v))
                snprintf(out, size, "%s", json_string_value(v));
        else if (json_is_integer(v))
                snprintf(out, size, "%lld", (long long)json_integer_value(v));
        else if (json_is_real(v))
                snprintf(out, size, "%.15g", json_real_value(v));
        else if (json_is_boolean(v))
                snprintf(out, size, "%s", json_is_true(v) ? "true" : "false");
        else
                return -1;
        return 0;
}

static sb_err_t add_config(const reader_t *r, size_t index, const char *topic, const char *name,
                           const json_t *v, int line) {
        char value[TOPICS_CONFIG_VALUE_MAX + 2], err[512];
        if (value_text(v, value, sizeof(value)))
                return bad(r, line, "topic %s: config %s: a value is a string, a number or true/false", topic,
                           name);
        sb_err_t e = topics_set_add_config(r->set, index, name, value, line, err, sizeof(err));
        if (e == SB_ERR_INVALID)
                return bad(r, line, "%s", err);
        return e ? sb_seterr(e, r->errstr, r->errstr_size, "%s", err) : SB_OK;
}

static sb_err_t read_configs(const reader_t *r, size_t index, const char *topic, const json_t *configs,
                             int line) {
        const char *key;
        const json_t *v;
        size_t i;
        if (json_is_object(configs)) {
                int at = sb_config_tree_line(configs);
                json_object_foreach((json_t *)configs, key, v) {
                        char name[TOPICS_CONFIG_NAME_MAX + 2];
                        sb_err_t e;
                        if (strcmp(key, "@line") == 0)
                                continue;
                        snprintf(name, sizeof(name), "%s", key);
                        for (char *p = name; *p; p++)
                                if (*p == '_')
                                        *p = '.';
                        if ((e = add_config(r, index, topic, name, v, at)))
                                return e;
                }
                return SB_OK;
        }
        if (!json_is_array(configs))
                return bad(r, line,
                           "topic %s: configs is a group { name = value; } or a list of (\"name\", value)",
                           topic);
        json_array_foreach(configs, i, v) {
                const json_t *name = json_array_get(v, 0);
                sb_err_t e;
                if (!json_is_array(v) || json_array_size(v) != 2 || !json_is_string(name))
                        return bad(r, line, "topic %s: each entry of a configs list is (\"name\", value)",
                                   topic);
                if ((e = add_config(r, index, topic, json_string_value(name), json_array_get(v, 1), line)))
                        return e;
        }
        return SB_OK;
}

/* An integer field of a topic's group: *out untouched when absent. */
static sb_err_t int_field(const reader_t *r, const json_t *g, const char *field, long long max, int line,
                          int *out) {
        const json_t *v = json_object_get(g, field);
        if (!v)
                return SB_OK;
        if (!json_is_integer(v) || json_integer_value(v) < 1 || json_integer_value(v) > max)
                return bad(r, line, "%s is an integer in 1..%lld", field, max);
        *out = (int)json_integer_value(v);
        return SB_OK;
}

/* min.insync.replicas above the replication factor would refuse every
 * acks=all write (the producer's): caught here rather than at the first
 * record. */
static sb_err_t check_min_isr(const reader_t *r, const topics_topic_t *t, int overridden) {
        const char *v = topics_config_get(t, "min.insync.replicas");
        char *end;
        long isr = v ? strtol(v, &end, 10) : 0;
        if (!v || *end || isr <= t->replication_factor)
                return SB_OK;
        return bad(r, t->line,
                   "topic %s: min.insync.replicas %s is above the replication factor %d%s: every acks=all "
                   "write would be refused",
                   t->name, v, t->replication_factor, overridden ? " (--replication-factor)" : "");
}

/* SB_OK if every member of group `g` is one of fields[n] (NULL-terminated
 * list, "@line" always allowed); else names the first other one and the
 * fields a group may have ("unknown 'x' (name, role, reads)"). */
static sb_err_t only_fields(const reader_t *r, const json_t *g, const char *const *fields, int line) {
        const char *key;
        const json_t *v;
        json_object_foreach((json_t *)g, key, v) {
                size_t k = 0;
                while (fields[k] && strcmp(key, fields[k]) != 0)
                        k++;
                if (fields[k] || strcmp(key, "@line") == 0)
                        continue;
                char list[256] = "";
                for (k = 0; fields[k]; k++)
                        snprintf(list + strlen(list), sizeof(list) - strlen(list), "%s%s", k ? ", " : "",
                                 fields[k]);
                return bad(r, line, "unknown '%s' (%s)", key, list);
        }
        return SB_OK;
}

static sb_err_t read_topic(const reader_t *r, const json_t *g, int def_partitions, int def_rf,
                           int rf_override, int list_line) {
        static const char *const fields[] = {"name", "partitions", "replication_factor", "configs", NULL};
        int line = json_is_object(g) ? sb_config_tree_line(g) : list_line;
        sb_err_t e;
        if (!json_is_object(g))
                return bad(r, line, "each topic is a group { name = \"...\"; ... }");
        if ((e = only_fields(r, g, fields, line)))
                return e;
        const json_t *name = json_object_get(g, "name");
        if (!json_is_string(name))
                return bad(r, line, "each topic needs name = \"...\"");
        const char *topic = json_string_value(name);
        char why[256];
        if (topics_name_check(topic, why, sizeof(why)))
                return bad(r, line, "%s", why);
        if (strncmp(topic, "__", 2) == 0)
                return bad(r, line, "%s: names starting with __ are Kafka's internal topics", topic);
        int partitions = def_partitions, rf = def_rf;
        if ((e = int_field(r, g, "partitions", TOPICS_PARTITIONS_MAX, line, &partitions)) ||
            (e = int_field(r, g, "replication_factor", TOPICS_REPLICATION_MAX, line, &rf)))
                return e;
        if (rf_override > 0)
                rf = rf_override;
        size_t index;
        char err[512];
        if ((e = topics_set_add(r->set, topic, partitions, rf, line, &index, err, sizeof(err))))
                return e == SB_ERR_INVALID ? bad(r, line, "%s", err)
                                           : sb_seterr(e, r->errstr, r->errstr_size, "%s", err);
        const json_t *configs = json_object_get(g, "configs");
        if (configs && (e = read_configs(r, index, topic, configs, line)))
                return e;
        return check_min_isr(r, topics_set_at(r->set, index), rf_override > 0);
}

sb_err_t topics_file_read(const sb_config_t *cfg, int replication_override, topics_set_t **out, char *errstr,
                          size_t errstr_size) {
        reader_t r = {.origin = sb_config_origin(cfg),
                      .setting = "setting 'topics'",
                      .errstr = errstr,
                      .errstr_size = errstr_size};
        const json_t *list = sb_config_tree(cfg, "topics");
        int list_line = sb_config_line(cfg, "topics");
        sb_err_t e;
        size_t i;
        const json_t *g;
        *out = NULL;
        if (!json_is_array(list))
                return bad(&r, list_line, "a list of topics, ( { name = \"...\"; }, ... )");
        if (json_array_size(list) > TOPICS_FILE_MAX)
                return bad(&r, list_line, "more than %d topics", TOPICS_FILE_MAX);
        if ((e = topics_set_new(&r.set, errstr, errstr_size)))
                return e;
        int partitions = (int)sb_config_int(cfg, "partitions"),
            rf = (int)sb_config_int(cfg, "replication_factor");
        json_array_foreach(list, i, g) {
                if ((e = read_topic(&r, g, partitions, rf, replication_override, list_line))) {
                        topics_set_destroy(r.set);
                        return e;
                }
        }
        const topics_topic_t *first, *second;
        if (topics_set_sort(r.set, &first, &second)) {
                e = bad(&r, second->line, "topic %s is declared twice (first at line %d)", first->name,
                        first->line);
                topics_set_destroy(r.set);
                return e;
        }
        *out = r.set;
        return SB_OK;
}

/* ---- principals ---- */

/* A subscriber's `reads` (checked against the declared topics) into
 * reads[*n] (pointers into the tree). */
static sb_err_t read_reads(const reader_t *r, const char *name, const json_t *list,
                           const topics_set_t *topics, int line, const char **reads, size_t *n) {
        const json_t *v;
        size_t i;
        *n = 0;
        if (!json_is_array(list) || json_array_size(list) == 0)
                return bad(r, line,
                           "principal %s: a subscriber needs reads = [ \"<topic>\", ... ], the datasets it "
                           "reads",
                           name);
        if (json_array_size(list) > TOPICS_READS_MAX)
                return bad(r, line, "principal %s: reads more than %d topics", name, TOPICS_READS_MAX);
        json_array_foreach(list, i, v) {
                if (!json_is_string(v))
                        return bad(r, line, "principal %s: each of reads is a topic's name in quotes", name);
                const char *topic = json_string_value(v);
                if (!topics_set_find(topics, topic))
                        return bad(r, line,
                                   "principal %s: reads '%.249s', a topic the file does not declare (declare "
                                   "it in topics)",
                                   name, topic);
                for (size_t k = 0; k < *n; k++)
                        if (strcmp(reads[k], topic) == 0)
                                return bad(r, line, "principal %s: reads '%.249s' twice", name, topic);
                reads[(*n)++] = topic;
        }
        return SB_OK;
}

static sb_err_t read_principal(const reader_t *r, const json_t *g, const topics_set_t *topics, int list_line,
                               topics_acl_set_t *acls, const char **reads) {
        static const char *const fields[] = {"name", "role", "reads", NULL};
        int line = json_is_object(g) ? sb_config_tree_line(g) : list_line;
        sb_err_t e;
        if (!json_is_object(g))
                return bad(r, line, "each principal is a group { name = \"...\"; role = \"...\"; }");
        if ((e = only_fields(r, g, fields, line)))
                return e;
        const json_t *name = json_object_get(g, "name"), *role = json_object_get(g, "role");
        if (!json_is_string(name))
                return bad(r, line, "each principal needs name = \"...\"");
        const char *who = json_string_value(name);
        char why[256];
        if (topics_acl_principal_check(who, why, sizeof(why)))
                return bad(r, line, "%s", why);
        topics_role_t rl;
        if (!json_is_string(role))
                return bad(r, line,
                           "principal %s needs role = \"department\", \"subscriber\", \"registry\" or "
                           "\"operator\"",
                           who);
        if (topics_acl_role_parse(json_string_value(role), &rl))
                return bad(r, line,
                           "principal %s: unknown role '%.64s' (department, subscriber, registry, operator)",
                           who, json_string_value(role));
        const json_t *list = json_object_get(g, "reads");
        size_t n_reads = 0;
        if (rl == TOPICS_ROLE_SUBSCRIBER) {
                if ((e = read_reads(r, who, list, topics, line, reads, &n_reads)))
                        return e;
        } else if (list) {
                return bad(r, line, "principal %s: reads is for a subscriber, not a %s", who,
                           topics_acl_role_name(rl));
        }
        char err[512];
        if ((e = topics_acl_derive(acls, who, rl, reads, n_reads, line, err, sizeof(err))))
                return e == SB_ERR_INVALID ? bad(r, line, "%s", err)
                                           : sb_seterr(e, r->errstr, r->errstr_size, "%s", err);
        return SB_OK;
}

sb_err_t topics_file_read_principals(const sb_config_t *cfg, const topics_set_t *topics,
                                     topics_acl_set_t **out, size_t *n_principals, char *errstr,
                                     size_t errstr_size) {
        reader_t r = {.origin = sb_config_origin(cfg),
                      .setting = "setting 'principals'",
                      .errstr = errstr,
                      .errstr_size = errstr_size};
        const json_t *list = sb_config_tree(cfg, "principals"), *g;
        int list_line = sb_config_line(cfg, "principals");
        size_t i, n;
        sb_err_t e = SB_OK;
        *out = NULL;
        *n_principals = 0;
        if (!list)
                return SB_OK; /* not declared: ACLs are left alone */
        if (!json_is_array(list))
                return bad(&r, list_line,
                           "a list of principals, ( { name = \"...\"; role = \"...\"; }, ... )");
        n = json_array_size(list);
        if (n > TOPICS_PRINCIPALS_MAX)
                return bad(&r, list_line, "more than %d principals", TOPICS_PRINCIPALS_MAX);
        const char **reads = malloc(TOPICS_READS_MAX * sizeof(*reads));
        topics_acl_set_t *acls = NULL;
        if (!reads || (e = topics_acl_set_new(&acls, errstr, errstr_size))) {
                free(reads);
                return e ? e : sb_seterr(SB_ERR_NOMEM, errstr, errstr_size, "out of memory");
        }
        json_array_foreach(list, i, g) {
                /* The same name twice would merge two roles without a word. */
                const char *name = json_string_value(json_object_get(g, "name"));
                for (size_t k = 0; name && k < i && !e; k++) {
                        const json_t *other = json_array_get(list, k);
                        const char *seen = json_string_value(json_object_get(other, "name"));
                        if (seen && strcmp(seen, name) == 0)
                                e = bad(&r, sb_config_tree_line(g),
                                        "principal %.64s is declared twice (first at line %d)", name,
                                        sb_config_tree_line(other));
                }
                if (e || (e = read_principal(&r, g, topics, list_line, acls, reads)))
                        break;
        }
        free(reads);
        if (e) {
                topics_acl_set_destroy(acls);
                return e;
        }
        *out = acls;
        *n_principals = n;
        return SB_OK;
}

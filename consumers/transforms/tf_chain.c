/*
 * tf_chain: parsing the datasets' chains, binding them to schemas and
 * running them over events (tf_chain.h).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sb_rules.h"
#include "transforms/tf_step.h"

/* A hash key longer than this is not a key but a mistake (a wrong file). */
#define HASH_KEY_MAX 4096
#define HASH_KEY_MIN 16

static const tf_kind_t *const kinds[] = {&tf_filter_kind, &tf_ops_kind,      &tf_rename_kind,
                                         &tf_drop_kind,   &tf_mask_kind,     &tf_hash_kind,
                                         &tf_redact_kind, &tf_constant_kind, NULL};

typedef struct {
        const tf_kind_t *kind;
        void *params;
        int line;
} step_t;

typedef struct {
        char *topic;
        char *table;   /* NULL: the target's name for the topic */
        json_t *clear; /* array of field names, or NULL */
        step_t *steps;
        size_t n_steps;
        int line;
} dataset_t;

typedef enum { POLICY_MASK, POLICY_HASH, POLICY_CLEAR } policy_t;

struct tf_config_s {
        const char *origin;
        dataset_t *datasets;
        size_t n_datasets;
        policy_t policy;
        unsigned char hash_key[HASH_KEY_MAX];
        tf_context_t ctx;
        dataset_t none; /* the chain of a topic the config does not name */
};

typedef struct {
        const tf_kind_t *kind;
        void *bound;
        void *own_params; /* a default policy's params, owned by the chain */
} bound_step_t;

struct tf_chain_s {
        sb_schema_t *key, *row;
        bound_step_t *steps;
        size_t n_steps;
};

static void dataset_free(dataset_t *d) {
        for (size_t i = 0; i < d->n_steps; i++)
                d->steps[i].kind->free_params(d->steps[i].params);
        free(d->steps);
        free(d->topic);
        free(d->table);
        json_decref(d->clear);
}

void tf_config_destroy(tf_config_t *tc) {
        if (!tc)
                return;
        for (size_t i = 0; i < tc->n_datasets; i++)
                dataset_free(&tc->datasets[i]);
        free(tc->datasets);
        free(tc);
}

static int topic_listed(const char *topics, const char *topic) {
        size_t len = strlen(topic);
        for (const char *p = topics; (p = strstr(p, topic)); p += len) {
                int starts = p == topics || p[-1] == ',' || p[-1] == ' ';
                int ends = p[len] == 0 || p[len] == ',' || p[len] == ' ';
                if (starts && ends)
                        return 1;
        }
        return 0;
}

static sb_err_t parse_step(tf_config_t *tc, const json_t *conf, step_t *step, char *errstr,
                           size_t errstr_size) {
        char inner[512];
        step->line = sb_config_tree_line(conf);
        if (!json_is_object(conf))
                return sb_seterr(SB_ERR_CONFIG, errstr, errstr_size,
                                 "%s: each step is a group { kind = field; ... }", tc->origin);
        for (size_t k = 0; kinds[k]; k++)
                if (json_object_get(conf, kinds[k]->name)) {
                        step->kind = kinds[k];
                        sb_err_t err = kinds[k]->parse(conf, &tc->ctx, &step->params, inner, sizeof(inner));
                        return err ? sb_seterr(err, errstr, errstr_size, "%s:%d: %s", tc->origin, step->line,
                                               inner)
                                   : SB_OK;
                }
        return sb_seterr(
                SB_ERR_CONFIG, errstr, errstr_size,
                "%s:%d: a step names its kind: filter, ops, rename, drop, mask, hash, redact or constant",
                tc->origin, step->line);
}

static sb_err_t parse_dataset(tf_config_t *tc, const json_t *g, const char *topics, dataset_t *d,
                              char *errstr, size_t errstr_size) {
        static const char *const allowed[] = {"topic", "table", "clear", "steps", NULL};
        char inner[512];
        const char *topic;
        d->line = sb_config_tree_line(g);
        if (!json_is_object(g))
                return sb_seterr(SB_ERR_CONFIG, errstr, errstr_size,
                                 "%s: setting 'datasets': a list of groups ( { topic = ...; }, ... )",
                                 tc->origin);
        sb_err_t err = tf_conf_only(g, allowed, inner, sizeof(inner));
        if (!err)
                err = tf_conf_string(g, "topic", &topic, inner, sizeof(inner));
        if (err)
                return sb_seterr(err, errstr, errstr_size, "%s:%d: dataset: %s", tc->origin, d->line, inner);
        if (!topic_listed(topics, topic))
                return sb_seterr(SB_ERR_CONFIG, errstr, errstr_size,
                                 "%s:%d: dataset %s is not in 'topics' (%s)", tc->origin, d->line, topic,
                                 topics);
        if (!(d->topic = strdup(topic)))
                return sb_seterr(SB_ERR_NOMEM, errstr, errstr_size, "out of memory");
        const json_t *table = json_object_get(g, "table"), *clear = json_object_get(g, "clear"),
                     *steps = json_object_get(g, "steps");
        if (table &&
            (!json_is_string(table) || !*json_string_value(table) || json_string_length(table) > 200))
                return sb_seterr(SB_ERR_CONFIG, errstr, errstr_size,
                                 "%s:%d: dataset %s: 'table' must be a name of 1 to 200 bytes", tc->origin,
                                 d->line, topic);
        if (table && !(d->table = strdup(json_string_value(table))))
                return sb_seterr(SB_ERR_NOMEM, errstr, errstr_size, "out of memory");
        for (size_t i = 0; clear && i < (json_is_array(clear) ? json_array_size(clear) : 1); i++)
                if (!json_is_array(clear) || !json_is_string(json_array_get(clear, i)))
                        return sb_seterr(SB_ERR_CONFIG, errstr, errstr_size,
                                         "%s:%d: dataset %s: 'clear' is a list of field names [\"a\", \"b\"]",
                                         tc->origin, d->line, topic);
        d->clear = json_incref((json_t *)clear);
        if (steps && !json_is_array(steps))
                return sb_seterr(SB_ERR_CONFIG, errstr, errstr_size,
                                 "%s:%d: dataset %s: 'steps' is a list ( ... )", tc->origin, d->line, topic);
        size_t n = json_array_size(steps);
        if (n && !(d->steps = calloc(n, sizeof(*d->steps))))
                return sb_seterr(SB_ERR_NOMEM, errstr, errstr_size, "out of memory");
        for (size_t i = 0; i < n; i++, d->n_steps++)
                if ((err = parse_step(tc, json_array_get(steps, i), &d->steps[i], errstr, errstr_size)))
                        return err;
        return SB_OK;
}

static sb_err_t read_hash_key(tf_config_t *tc, const sb_config_t *cfg, char *errstr, size_t errstr_size) {
        const char *path = sb_config_string(cfg, "hash_key_file");
        if (!path || !*path)
                return SB_OK;
        FILE *f = fopen(path, "rb");
        if (!f)
                return sb_seterr(SB_ERR_CONFIG, errstr, errstr_size, "%s:%d: hash_key_file %s: %s",
                                 tc->origin, sb_config_line(cfg, "hash_key_file"), path, strerror(errno));
        size_t len = fread(tc->hash_key, 1, sizeof(tc->hash_key), f);
        int more = fgetc(f) != EOF;
        fclose(f);
        while (len > 0 && (tc->hash_key[len - 1] == '\n' || tc->hash_key[len - 1] == '\r'))
                len--;
        if (more || len < HASH_KEY_MIN)
                return sb_seterr(
                        SB_ERR_CONFIG, errstr, errstr_size,
                        "%s:%d: hash_key_file %s: a key is %d to %d bytes (e.g. openssl rand -hex 32)",
                        tc->origin, sb_config_line(cfg, "hash_key_file"), path, HASH_KEY_MIN, HASH_KEY_MAX);
        tc->ctx.hash_key = tc->hash_key;
        tc->ctx.hash_key_len = len;
        return SB_OK;
}

sb_err_t tf_config_new(const sb_config_t *cfg, tf_config_t **out, char *errstr, size_t errstr_size) {
        tf_config_t *tc = calloc(1, sizeof(*tc));
        *out = NULL;
        if (!tc)
                return sb_seterr(SB_ERR_NOMEM, errstr, errstr_size, "out of memory");
        tc->origin = sb_config_origin(cfg);
        const char *policy = sb_config_string(cfg, "personal_policy");
        tc->policy = !policy || strcmp(policy, "mask") == 0 ? POLICY_MASK
                     : strcmp(policy, "hash") == 0          ? POLICY_HASH
                                                            : POLICY_CLEAR;
        sb_err_t err = read_hash_key(tc, cfg, errstr, errstr_size);
        const json_t *list = sb_config_tree(cfg, "datasets");
        if (!err && list && !json_is_array(list))
                err = sb_seterr(SB_ERR_CONFIG, errstr, errstr_size,
                                "%s:%d: setting 'datasets': a list of groups ( { topic = ...; }, ... )",
                                tc->origin, sb_config_line(cfg, "datasets"));
        size_t n = json_array_size(list);
        if (!err && n && !(tc->datasets = calloc(n, sizeof(*tc->datasets))))
                err = sb_seterr(SB_ERR_NOMEM, errstr, errstr_size, "out of memory");
        for (size_t i = 0; !err && i < n; i++, tc->n_datasets++) {
                err = parse_dataset(tc, json_array_get(list, i), sb_config_string(cfg, "topics"),
                                    &tc->datasets[i], errstr, errstr_size);
                for (size_t k = 0; !err && k < i; k++)
                        if (tc->datasets[k].topic && tc->datasets[i].topic &&
                            strcmp(tc->datasets[k].topic, tc->datasets[i].topic) == 0)
                                err = sb_seterr(SB_ERR_CONFIG, errstr, errstr_size,
                                                "%s:%d: dataset %s is configured twice (first at line %d)",
                                                tc->origin, tc->datasets[i].line, tc->datasets[i].topic,
                                                tc->datasets[k].line);
        }
        if (err) { /* n_datasets counts the one that failed: it may hold memory */
                tf_config_destroy(tc);
                return err;
        }
        *out = tc;
        return SB_OK;
}

static const dataset_t *dataset_of(const tf_config_t *tc, const char *topic) {
        for (size_t i = 0; i < tc->n_datasets; i++)
                if (strcmp(tc->datasets[i].topic, topic) == 0)
                        return &tc->datasets[i];
        return &tc->none;
}

const char *tf_config_table(const tf_config_t *tc, const char *topic) { return dataset_of(tc, topic)->table; }

/* ---- binding ---- */

static tf_value_kind_t kind_of(const sb_node_t *type) {
        switch (sb_node_type(type)) {
        case SB_T_STRING:
        case SB_T_ENUM: return TF_V_STRING;
        case SB_T_INT:
        case SB_T_LONG: return sb_node_logical(type) == SB_LOGICAL_NONE ? TF_V_NUMBER : TF_V_STRING;
        case SB_T_FLOAT:
        case SB_T_DOUBLE: return TF_V_NUMBER;
        case SB_T_BOOLEAN: return TF_V_BOOL;
        default: return TF_V_OTHER;
        }
}

static void columns_free(tf_columns_t *cols) {
        for (size_t i = 0; i < cols->n; i++)
                json_decref(cols->cols[i].field);
        free(cols->cols);
}

static sb_err_t columns_of(const sb_node_t *key, const sb_node_t *row, tf_columns_t *cols, char *errstr,
                           size_t errstr_size) {
        for (size_t i = 0; i < sb_node_count(row); i++) {
                const sb_node_t *type = sb_node_child(row, i), *inner = sb_node_unwrap_nullable(type);
                json_t *field = json_deep_copy(sb_node_field_json(row, i));
                tf_column_t *col;
                if (!field || tf_columns_add(cols, field, &col))
                        return sb_seterr(SB_ERR_NOMEM, errstr, errstr_size, "out of memory");
                json_object_del(field, "sharebus.rules"); /* checked on the published row already */
                col->source = sb_node_field_name(row, i);
                col->key_pos = sb_node_field_index(key, col->source);
                col->nullable = inner != type;
                col->kind = kind_of(inner);
                sb_err_t err = sb_field_class(row, i, &col->cls, errstr, errstr_size);
                if (err)
                        return err;
        }
        for (size_t i = 0; i < sb_node_count(key); i++)
                if (!tf_columns_find(cols, sb_node_field_name(key, i)))
                        return sb_seterr(SB_ERR_INVALID, errstr, errstr_size,
                                         "key field %s is not a field of the row",
                                         sb_node_field_name(key, i));
        return SB_OK;
}

static sb_err_t add_step(tf_chain_t *ch, const tf_kind_t *kind, void *params, void *own, tf_columns_t *cols,
                         char *errstr, size_t errstr_size) {
        bound_step_t *grown = realloc(ch->steps, (ch->n_steps + 1) * sizeof(*grown));
        if (!grown) {
                if (own)
                        kind->free_params(own);
                return sb_seterr(SB_ERR_NOMEM, errstr, errstr_size, "out of memory");
        }
        ch->steps = grown;
        bound_step_t *s = &ch->steps[ch->n_steps];
        s->kind = kind;
        s->own_params = own;
        s->bound = NULL;
        sb_err_t err = kind->bind(params, cols, &s->bound, errstr, errstr_size);
        if (err) {
                if (own)
                        kind->free_params(own);
                return err;
        }
        ch->n_steps++;
        return SB_OK;
}

/* The personal_policy's step for an undecided personal or sensitive column. */
static sb_err_t default_step(const tf_config_t *tc, tf_chain_t *ch, tf_columns_t *cols, tf_column_t *col,
                             const char *topic, char *errstr, size_t errstr_size) {
        const char *name = tf_column_name(col);
        const tf_kind_t *kind = &tf_redact_kind;
        if (col->key_pos >= 0 || (tc->policy == POLICY_HASH && col->kind != TF_V_OTHER))
                kind = &tf_hash_kind;
        else if (col->kind == TF_V_STRING)
                kind = &tf_mask_kind;
        if (kind == &tf_hash_kind && !tc->ctx.hash_key)
                return sb_seterr(
                        SB_ERR_INVALID, errstr, errstr_size,
                        "%s: field %s is %s%s and personal_policy is %s: set hash_key_file so that it is "
                        "hashed, or keep it in clear (the dataset's clear list)",
                        topic, name, sb_class_name(col->cls), col->key_pos >= 0 ? " and in the key" : "",
                        tc->policy == POLICY_HASH ? "hash" : "mask");
        json_t *conf = json_pack("{s:s}", kind->name, name);
        void *params = NULL;
        char inner[512] = "out of memory";
        sb_err_t err = conf ? kind->parse(conf, &tc->ctx, &params, inner, sizeof(inner)) : SB_ERR_NOMEM;
        json_decref(conf);
        if (err)
                return sb_seterr(err, errstr, errstr_size, "%s: default policy for %s: %s", topic, name,
                                 inner);
        return add_step(ch, kind, params, params, cols, errstr, errstr_size);
}

static sb_err_t make_record(const sb_node_t *like, const char *suffix, json_t *fields, sb_schema_t **out,
                            char *errstr, size_t errstr_size) {
        char name[512];
        snprintf(name, sizeof(name), "%s%s", sb_node_name(like) ? sb_node_name(like) : "Row", suffix);
        json_t *doc = json_pack("{s:s, s:s, s:o}", "type", "record", "name", name, "fields", fields);
        char *text = doc ? json_dumps(doc, JSON_COMPACT) : NULL;
        json_decref(doc);
        if (!text)
                return sb_seterr(SB_ERR_NOMEM, errstr, errstr_size, "out of memory");
        char inner[512];
        sb_err_t err = sb_schema_new(text, strlen(text), out, inner, sizeof(inner));
        free(text);
        return err == SB_ERR_NOMEM ? sb_seterr(err, errstr, errstr_size, "out of memory")
               : err ? sb_seterr(SB_ERR_INVALID, errstr, errstr_size, "the target's columns: %s", inner)
                     : SB_OK;
}

static sb_err_t make_records(tf_chain_t *ch, const sb_node_t *key, const sb_node_t *row, tf_columns_t *cols,
                             char *errstr, size_t errstr_size) {
        json_t *row_fields = json_array(), *key_fields = json_array();
        for (size_t k = 0; key_fields && k < sb_node_count(key); k++)
                json_array_append_new(key_fields, json_null());
        for (size_t i = 0; row_fields && i < cols->n; i++) {
                tf_column_t *c = &cols->cols[i];
                json_object_set_new(c->field, "sharebus.policy", json_string(c->policy));
                if (c->source)
                        json_object_set_new(c->field, "sharebus.source", json_string(c->source));
                json_array_append(row_fields, c->field);
                if (key_fields && c->key_pos >= 0)
                        json_array_set(key_fields, (size_t)c->key_pos, c->field);
        }
        if (!row_fields || !key_fields) {
                json_decref(row_fields);
                json_decref(key_fields);
                return sb_seterr(SB_ERR_NOMEM, errstr, errstr_size, "out of memory");
        }
        sb_err_t err = make_record(row, "", row_fields, &ch->row, errstr, errstr_size);
        if (err) {
                json_decref(key_fields);
                return err;
        }
        return make_record(key, "", key_fields, &ch->key, errstr, errstr_size);
}

sb_err_t tf_chain_bind(const tf_config_t *tc, const char *topic, const sb_node_t *key, const sb_node_t *row,
                       tf_chain_t **out, char *errstr, size_t errstr_size) {
        const dataset_t *d = dataset_of(tc, topic);
        tf_columns_t cols = {0};
        char inner[768];
        tf_chain_t *ch = calloc(1, sizeof(*ch));
        *out = NULL;
        if (!ch)
                return sb_seterr(SB_ERR_NOMEM, errstr, errstr_size, "out of memory");
        sb_err_t err = columns_of(key, row, &cols, errstr, errstr_size);
        for (size_t i = 0; !err && i < json_array_size(d->clear); i++) {
                const char *name = json_string_value(json_array_get(d->clear, i));
                tf_column_t *col = tf_columns_find(&cols, name);
                if (!col)
                        err = sb_seterr(SB_ERR_INVALID, errstr, errstr_size,
                                        "%s:%d: dataset %s: clear: no field '%s'", tc->origin, d->line, topic,
                                        name);
                else
                        col->decided = 1;
        }
        for (size_t i = 0; !err && i < d->n_steps; i++) {
                const step_t *s = &d->steps[i];
                if ((err = add_step(ch, s->kind, s->params, NULL, &cols, inner, sizeof(inner))))
                        sb_seterr(err, errstr, errstr_size, "%s:%d: dataset %s: %s", tc->origin, s->line,
                                  topic, inner);
        }
        for (size_t i = 0; !err && tc->policy != POLICY_CLEAR && i < cols.n; i++) {
                tf_column_t *c = &cols.cols[i];
                if (!c->decided && c->source && (c->cls == SB_CLASS_PERSONAL || c->cls == SB_CLASS_SENSITIVE))
                        err = default_step(tc, ch, &cols, c, topic, errstr, errstr_size);
        }
        if (!err)
                err = make_records(ch, key, row, &cols, errstr, errstr_size);
        columns_free(&cols);
        if (err) {
                tf_chain_destroy(ch);
                return err;
        }
        *out = ch;
        return SB_OK;
}

const sb_node_t *tf_chain_key(const tf_chain_t *ch) { return sb_schema_root(ch->key); }
const sb_node_t *tf_chain_row(const tf_chain_t *ch) { return sb_schema_root(ch->row); }
int tf_chain_is_identity(const tf_chain_t *ch) { return ch->n_steps == 0; }

tf_verdict_t tf_chain_apply(const tf_chain_t *ch, tf_event_t *ev) {
        tf_verdict_t verdict = TF_KEEP;
        for (size_t i = 0; i < ch->n_steps; i++) {
                /* A row out of the filter still goes through the steps after
                 * it: its key must be hashed and renamed to find the row to
                 * remove. */
                tf_verdict_t v = ch->steps[i].kind->apply(ch->steps[i].bound, ev);
                if (v == TF_NOMEM || v == TF_SKIP)
                        return v;
                if (v == TF_OUT)
                        verdict = TF_OUT;
        }
        return verdict;
}

void tf_chain_destroy(tf_chain_t *ch) {
        if (!ch)
                return;
        for (size_t i = 0; i < ch->n_steps; i++) {
                free(ch->steps[i].bound);
                if (ch->steps[i].own_params)
                        ch->steps[i].kind->free_params(ch->steps[i].own_params);
        }
        free(ch->steps);
        sb_schema_destroy(ch->key);
        sb_schema_destroy(ch->row);
        free(ch);
}

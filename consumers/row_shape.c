/*
 * row_shape: the per-schema state of the subscriber's rows (row_shape.h).
 */
#include "row_shape.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct entry_s {
        row_shape_t shape;
        char *topic;
        int32_t key_id, value_id;
        tf_chain_t *chain;
        sb_rules_t *rules;
        char *rules_error;
        char *error; /* the shape cannot be made: why */
        sb_dl_class_t error_cls;
        struct entry_s *next;
} entry_t;

struct row_shapes_s {
        sb_target_t *target;
        const tf_config_t *tc;
        int history;
        entry_t *entries;
};

sb_err_t row_shapes_new(sb_target_t *target, const tf_config_t *tc, int history, row_shapes_t **out,
                        char *errstr, size_t errstr_size) {
        if (!(*out = calloc(1, sizeof(**out))))
                return sb_seterr(SB_ERR_NOMEM, errstr, errstr_size, "out of memory");
        (*out)->target = target;
        (*out)->tc = tc;
        (*out)->history = history;
        return SB_OK;
}

static void entry_free(entry_t *e) {
        tf_chain_destroy(e->chain);
        sb_rules_destroy(e->rules);
        free(e->rules_error);
        free(e->error);
        free(e->topic);
        free(e);
}

void row_shapes_destroy(row_shapes_t *rs) {
        if (!rs)
                return;
        while (rs->entries) {
                entry_t *next = rs->entries->next;
                entry_free(rs->entries);
                rs->entries = next;
        }
        free(rs);
}

/* The table of the shape: the dataset's configured name or the topic, as
 * the target names it, with the history suffix. */
static sb_err_t name_table(row_shapes_t *rs, entry_t *e, char *errstr, size_t errstr_size) {
        const char *configured = rs->tc ? tf_config_table(rs->tc, e->topic) : NULL;
        char *table = e->shape.table;
        sb_err_t err = rs->target->ops->table_name(rs->target, configured ? configured : e->topic, table,
                                                   sizeof(e->shape.table), errstr, errstr_size);
        if (err || !rs->history)
                return err;
        size_t len = strlen(table);
        if (len + sizeof("_history") > sizeof(e->shape.table))
                return sb_seterr(SB_ERR_INVALID, errstr, errstr_size, "table name %s_history is too long",
                                 table);
        memcpy(table + len, "_history", sizeof("_history"));
        return SB_OK;
}

/* Fills e from the schemas; an error that is the schemas' (not memory) is
 * kept in e->error. */
static sb_err_t make_shape(row_shapes_t *rs, entry_t *e, const sb_node_t *key, const sb_node_t *row) {
        char why[1024] = "";
        sb_err_t err = sb_rules_new(row, &e->rules, why, sizeof(why));
        if (err == SB_ERR_NOMEM)
                return err;
        if (err && !(e->rules_error = strdup(why)))
                return SB_ERR_NOMEM;
        e->shape.rules = e->rules;
        e->shape.rules_error = e->rules_error;
        e->shape.key = key;
        e->shape.row = row;
        e->error_cls = SB_DL_TRANSFORM;
        err = rs->tc ? tf_chain_bind(rs->tc, e->topic, key, row, &e->chain, why, sizeof(why)) : SB_OK;
        if (!err && e->chain) {
                e->shape.key = tf_chain_key(e->chain);
                e->shape.row = tf_chain_row(e->chain);
                e->shape.chain = tf_chain_is_identity(e->chain) ? NULL : e->chain;
        }
        if (!err) {
                e->error_cls = SB_DL_SCHEMA;
                err = name_table(rs, e, why, sizeof(why));
        }
        if (err == SB_ERR_NOMEM)
                return err;
        if (err && !(e->error = strdup(why)))
                return SB_ERR_NOMEM;
        return SB_OK;
}

sb_err_t row_shapes_get(row_shapes_t *rs, const char *topic, int32_t key_id, int32_t value_id,
                        const sb_node_t *key, const sb_node_t *row, row_shape_t **out, sb_dl_class_t *cls,
                        char *errstr, size_t errstr_size) {
        entry_t *e = rs->entries;
        while (e && (e->key_id != key_id || e->value_id != value_id || strcmp(e->topic, topic) != 0))
                e = e->next;
        if (!e) {
                if (!(e = calloc(1, sizeof(*e))) || !(e->topic = strdup(topic)) ||
                    make_shape(rs, e, key, row)) {
                        if (e)
                                entry_free(e);
                        return sb_seterr(SB_ERR_NOMEM, errstr, errstr_size, "out of memory");
                }
                e->key_id = key_id;
                e->value_id = value_id;
                e->next = rs->entries;
                rs->entries = e;
        }
        if (e->error) {
                *cls = e->error_cls;
                return sb_seterr(SB_ERR_INVALID, errstr, errstr_size, "schema ids %d/%d: %s", key_id,
                                 value_id, e->error);
        }
        *out = &e->shape;
        return SB_OK;
}

sb_err_t row_shapes_ensure(row_shapes_t *rs, row_shape_t *shape, char *errstr, size_t errstr_size) {
        if (shape->ensured)
                return SB_OK;
        sb_target_t *t = rs->target;
        sb_err_t err =
                rs->history
                        ? t->ops->ensure_history(t, shape->table, shape->key, shape->row, errstr, errstr_size)
                        : t->ops->ensure_table(t, shape->table, shape->key, shape->row, errstr, errstr_size);
        if (!err && t->ops->record_columns)
                err = t->ops->record_columns(t, shape->table, shape->row, errstr, errstr_size);
        shape->ensured = !err;
        return err;
}

void row_shapes_forget_ensured(row_shapes_t *rs) {
        for (entry_t *e = rs->entries; e; e = e->next)
                e->shape.ensured = 0;
}

/* The row record of a change envelope (its "after"), or NULL. */
static const sb_node_t *envelope_row(const sb_node_t *root) {
        int i = sb_node_field_index(root, "after");
        const sb_node_t *row = i >= 0 ? sb_node_unwrap_nullable(sb_node_child(root, (size_t)i)) : NULL;
        return row && sb_node_type(row) == SB_T_RECORD ? row : NULL;
}

static sb_err_t latest(sb_registry_client_t *registry, const char *topic, const char *suffix,
                       const sb_node_t **root, char *errstr, size_t errstr_size) {
        char subject[600];
        int32_t id;
        sb_schema_t *schema;
        snprintf(subject, sizeof(subject), "%.500s-%s", topic, suffix);
        sb_err_t err = sb_registry_latest_id(registry, subject, &id, errstr, errstr_size);
        if (!err)
                err = sb_registry_schema_by_id(registry, id, &schema, errstr, errstr_size);
        if (!err)
                *root = sb_schema_root(schema);
        return err;
}

sb_err_t row_shapes_check_latest(const tf_config_t *tc, sb_registry_client_t *registry, const char *topics,
                                 int *unchecked, char *errstr, size_t errstr_size) {
        char topic[512], why[1024];
        *unchecked = 0;
        for (const char *p = topics; *p;) {
                size_t len = strcspn(p, ", ");
                if (len > 0 && len < sizeof(topic)) {
                        memcpy(topic, p, len);
                        topic[len] = 0;
                        const sb_node_t *key = NULL, *value = NULL, *row;
                        sb_err_t err = latest(registry, topic, "key", &key, why, sizeof(why));
                        if (!err)
                                err = latest(registry, topic, "value", &value, why, sizeof(why));
                        if (err == SB_ERR_NOMEM)
                                return sb_seterr(err, errstr, errstr_size, "out of memory");
                        if (!err && (row = envelope_row(value)) && sb_node_type(key) == SB_T_RECORD) {
                                tf_chain_t *ch = NULL;
                                err = tf_chain_bind(tc, topic, key, row, &ch, why, sizeof(why));
                                tf_chain_destroy(ch);
                                if (err)
                                        return sb_seterr(err == SB_ERR_NOMEM ? err : SB_ERR_CONFIG, errstr,
                                                         errstr_size, "%s (the latest schemas of %s)", why,
                                                         topic);
                        } else if (err) {
                                (*unchecked)++;
                                sb_seterr(err, errstr, errstr_size, "%s", why);
                        }
                }
                p += len;
                p += strspn(p, ", ");
        }
        return SB_OK;
}

/*
 * tf_columns: the column list of a bound chain and the helpers every step
 * kind shares (tf_step.h).
 */
#include <stdlib.h>
#include <string.h>

#include "sb_buf.h"
#include "transforms/tf_step.h"

const char *tf_column_name(const tf_column_t *col) {
        return json_string_value(json_object_get(col->field, "name"));
}

tf_column_t *tf_columns_find(tf_columns_t *cols, const char *name) {
        for (size_t i = 0; i < cols->n; i++)
                if (strcmp(tf_column_name(&cols->cols[i]), name) == 0)
                        return &cols->cols[i];
        return NULL;
}

sb_err_t tf_column_rename(tf_column_t *col, const char *name) {
        return json_object_set_new(col->field, "name", json_string(name)) ? SB_ERR_NOMEM : SB_OK;
}

sb_err_t tf_column_make_string(tf_column_t *col) {
        json_t *type = col->nullable ? json_pack("[ss]", "null", "string") : json_string("string");
        if (!type || json_object_set_new(col->field, "type", type))
                return SB_ERR_NOMEM;
        json_object_del(col->field, "default");
        if (col->nullable && json_object_set_new(col->field, "default", json_null()))
                return SB_ERR_NOMEM;
        col->kind = TF_V_STRING;
        return SB_OK;
}

void tf_columns_remove(tf_columns_t *cols, tf_column_t *col) {
        size_t i = (size_t)(col - cols->cols);
        json_decref(col->field);
        memmove(&cols->cols[i], &cols->cols[i + 1], (cols->n - i - 1) * sizeof(*col));
        cols->n--;
}

sb_err_t tf_columns_add(tf_columns_t *cols, json_t *field, tf_column_t **out) {
        if (cols->n == cols->cap) {
                size_t cap = cols->cap ? cols->cap * 2 : 16;
                tf_column_t *grown = realloc(cols->cols, cap * sizeof(*grown));
                if (!grown) {
                        json_decref(field);
                        return SB_ERR_NOMEM;
                }
                cols->cols = grown;
                cols->cap = cap;
        }
        tf_column_t *c = &cols->cols[cols->n++];
        memset(c, 0, sizeof(*c));
        c->field = field;
        c->key_pos = -1;
        c->policy = "clear";
        *out = c;
        return SB_OK;
}

static int map_one(json_t *obj, const char *name, json_t *(*fn)(const json_t *, const void *),
                   const void *opaque) {
        json_t *v = obj ? json_object_get(obj, name) : NULL;
        if (!v)
                return 0;
        json_t *nv = fn(v, opaque);
        return !nv || json_object_set_new(obj, name, nv) ? -1 : 0;
}

tf_verdict_t tf_event_map(tf_event_t *ev, const char *name, int in_key,
                          json_t *(*fn)(const json_t *, const void *), const void *opaque) {
        if (map_one(ev->after, name, fn, opaque) || map_one(ev->before, name, fn, opaque) ||
            (in_key && map_one(ev->key, name, fn, opaque)))
                return TF_NOMEM;
        return TF_KEEP;
}

sb_err_t tf_conf_string(const json_t *conf, const char *name, const char **out, char *errstr,
                        size_t errstr_size) {
        const json_t *v = json_object_get(conf, name);
        if (!json_is_string(v) || !*json_string_value(v))
                return sb_seterr(SB_ERR_CONFIG, errstr, errstr_size, "'%s' must be a non-empty string", name);
        *out = json_string_value(v);
        return SB_OK;
}

sb_err_t tf_conf_only(const json_t *conf, const char *const *allowed, char *errstr, size_t errstr_size) {
        const char *member;
        json_t *v;
        json_object_foreach((json_t *)conf, member, v) {
                int known = strcmp(member, "@line") == 0;
                for (size_t i = 0; !known && allowed[i]; i++)
                        known = strcmp(member, allowed[i]) == 0;
                if (!known)
                        return sb_seterr(SB_ERR_CONFIG, errstr, errstr_size,
                                         "unknown setting '%s' in a %s step", member, allowed[0]);
        }
        return SB_OK;
}

sb_err_t tf_parse_field_only(const json_t *conf, const char *kind, void **params, char *errstr,
                             size_t errstr_size) {
        const char *const allowed[] = {kind, NULL};
        const char *field = NULL;
        sb_err_t err = tf_conf_only(conf, allowed, errstr, errstr_size);
        if (!err)
                err = tf_conf_string(conf, kind, &field, errstr, errstr_size);
        if (err)
                return err;
        tf_field_params_t *p = calloc(1, sizeof(*p));
        if (!p || !field || !(p->field = strdup(field))) {
                free(p);
                return sb_seterr(SB_ERR_NOMEM, errstr, errstr_size, "out of memory");
        }
        *params = p;
        return SB_OK;
}

void tf_free_field_params(void *params) {
        tf_field_params_t *p = params;
        if (p)
                free(p->field);
        free(p);
}

sb_err_t tf_find_column(tf_columns_t *cols, const char *step, const char *name, tf_column_t **out,
                        char *errstr, size_t errstr_size) {
        if ((*out = tf_columns_find(cols, name)))
                return SB_OK;
        sb_buf_t have;
        sb_buf_init(&have, 4096);
        for (size_t i = 0; i < cols->n; i++)
                sb_buf_printf(&have, "%s%s", i ? ", " : "", tf_column_name(&cols->cols[i]));
        sb_err_t err =
                sb_seterr(SB_ERR_INVALID, errstr, errstr_size, "%s: no field '%s' (the columns are: %s)",
                          step, name, have.data ? (const char *)have.data : "none");
        sb_buf_free(&have);
        return err;
}

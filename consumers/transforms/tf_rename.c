/*
 * tf_rename: { rename = "field"; to = "column"; }: the field's column gets
 * another name (in the key too, when it is a key field).
 */
#include <stdlib.h>
#include <string.h>

#include "transforms/tf_step.h"

typedef struct {
        char *from, *to;
} rename_params_t;

typedef struct {
        const rename_params_t *p;
        int in_key;
} rename_bound_t;

static void rename_free(void *params) {
        rename_params_t *p = params;
        if (p) {
                free(p->from);
                free(p->to);
        }
        free(p);
}

static sb_err_t rename_parse(const json_t *conf, const tf_context_t *ctx, void **params, char *errstr,
                             size_t errstr_size) {
        static const char *const allowed[] = {"rename", "to", NULL};
        const char *from, *to;
        (void)ctx;
        sb_err_t err = tf_conf_only(conf, allowed, errstr, errstr_size);
        if (!err)
                err = tf_conf_string(conf, "rename", &from, errstr, errstr_size);
        if (!err)
                err = tf_conf_string(conf, "to", &to, errstr, errstr_size);
        if (err)
                return err;
        if (strncmp(to, "sharebus_", 9) == 0)
                return sb_seterr(SB_ERR_CONFIG, errstr, errstr_size,
                                 "rename %s: the names sharebus_* are the subscriber's own", from);
        rename_params_t *p = calloc(1, sizeof(*p));
        if (!p || !(p->from = strdup(from)) || !(p->to = strdup(to))) {
                rename_free(p);
                return sb_seterr(SB_ERR_NOMEM, errstr, errstr_size, "out of memory");
        }
        *params = p;
        return SB_OK;
}

static sb_err_t rename_bind(const void *params, tf_columns_t *cols, void **bound, char *errstr,
                            size_t errstr_size) {
        const rename_params_t *p = params;
        tf_column_t *col;
        sb_err_t err = tf_find_column(cols, "rename", p->from, &col, errstr, errstr_size);
        if (err)
                return err;
        if (strcmp(p->from, p->to) != 0 && tf_columns_find(cols, p->to))
                return sb_seterr(SB_ERR_INVALID, errstr, errstr_size,
                                 "rename %s: a column '%s' exists already", p->from, p->to);
        rename_bound_t *b = calloc(1, sizeof(*b));
        if (!b || tf_column_rename(col, p->to)) {
                free(b);
                return sb_seterr(SB_ERR_NOMEM, errstr, errstr_size, "out of memory");
        }
        b->p = p;
        b->in_key = col->key_pos >= 0;
        *bound = b;
        return SB_OK;
}

static int move(json_t *obj, const char *from, const char *to) {
        json_t *v = obj ? json_object_get(obj, from) : NULL;
        if (!v)
                return 0;
        json_incref(v);
        json_object_del(obj, from);
        return json_object_set_new(obj, to, v);
}

static tf_verdict_t rename_apply(const void *bound, tf_event_t *ev) {
        const rename_bound_t *b = bound;
        if (move(ev->after, b->p->from, b->p->to) || move(ev->before, b->p->from, b->p->to) ||
            (b->in_key && move(ev->key, b->p->from, b->p->to)))
                return TF_NOMEM;
        return TF_KEEP;
}

const tf_kind_t tf_rename_kind = {"rename", rename_parse, rename_bind, rename_apply, rename_free};

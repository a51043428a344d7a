/*
 * tf_constant: { constant = "source_department"; value = "civil"; }: a
 * column the published rows do not have, holding the same value in every
 * row (a string, integer, real or boolean).
 */
#include <stdlib.h>
#include <string.h>

#include "transforms/tf_step.h"

typedef struct {
        char *column;
        json_t *value;
} constant_params_t;

typedef struct {
        const constant_params_t *p;
} constant_bound_t;

static void constant_free(void *params) {
        constant_params_t *p = params;
        if (p) {
                free(p->column);
                json_decref(p->value);
        }
        free(p);
}

static sb_err_t constant_parse(const json_t *conf, const tf_context_t *ctx, void **params, char *errstr,
                               size_t errstr_size) {
        static const char *const allowed[] = {"constant", "value", NULL};
        const char *column;
        (void)ctx;
        sb_err_t err = tf_conf_only(conf, allowed, errstr, errstr_size);
        if (!err)
                err = tf_conf_string(conf, "constant", &column, errstr, errstr_size);
        if (err)
                return err;
        json_t *v = json_object_get(conf, "value");
        if (!json_is_string(v) && !json_is_number(v) && !json_is_boolean(v))
                return sb_seterr(SB_ERR_CONFIG, errstr, errstr_size,
                                 "constant %s: 'value' must be a string, number or boolean", column);
        if (strncmp(column, "sharebus_", 9) == 0)
                return sb_seterr(SB_ERR_CONFIG, errstr, errstr_size,
                                 "constant %s: the names sharebus_* are the subscriber's own", column);
        constant_params_t *p = calloc(1, sizeof(*p));
        if (!p || !(p->column = strdup(column))) {
                free(p);
                return sb_seterr(SB_ERR_NOMEM, errstr, errstr_size, "out of memory");
        }
        p->value = json_incref(v);
        *params = p;
        return SB_OK;
}

static sb_err_t constant_bind(const void *params, tf_columns_t *cols, void **bound, char *errstr,
                              size_t errstr_size) {
        const constant_params_t *p = params;
        if (tf_columns_find(cols, p->column))
                return sb_seterr(SB_ERR_INVALID, errstr, errstr_size,
                                 "constant %s: a column '%s' exists already", p->column, p->column);
        const char *type = json_is_string(p->value)    ? "string"
                           : json_is_integer(p->value) ? "long"
                           : json_is_real(p->value)    ? "double"
                                                       : "boolean";
        json_t *field = json_pack("{s:s, s:s, s:O}", "name", p->column, "type", type, "default", p->value);
        constant_bound_t *b = malloc(sizeof(*b));
        tf_column_t *col;
        if (!field || !b) {
                json_decref(field);
                free(b);
                return sb_seterr(SB_ERR_NOMEM, errstr, errstr_size, "out of memory");
        }
        if (tf_columns_add(cols, field, &col)) { /* it freed field */
                free(b);
                return sb_seterr(SB_ERR_NOMEM, errstr, errstr_size, "out of memory");
        }
        col->kind = json_is_string(p->value)    ? TF_V_STRING
                    : json_is_boolean(p->value) ? TF_V_BOOL
                                                : TF_V_NUMBER;
        col->cls = SB_CLASS_INTERNAL;
        col->policy = "constant";
        col->decided = 1;
        b->p = p;
        *bound = b;
        return SB_OK;
}

static tf_verdict_t constant_apply(const void *bound, tf_event_t *ev) {
        const constant_params_t *p = ((const constant_bound_t *)bound)->p;
        if ((ev->after && json_object_set(ev->after, p->column, p->value)) ||
            (ev->before && json_object_set(ev->before, p->column, p->value)))
                return TF_NOMEM;
        return TF_KEEP;
}

const tf_kind_t tf_constant_kind = {"constant", constant_parse, constant_bind, constant_apply, constant_free};

/*
 * tf_filter: the rows a subscriber takes, by the value of one field:
 *   { filter = "district_code"; prefix = "3701"; }
 *   { filter = "status"; equals = "ACTIVE"; }
 *   { filter = "status"; in = ["ACTIVE", "SUSPENDED"]; }
 *   { filter = "registered_capital"; min = 1000; max = 5000; }  (inclusive;
 *     either bound may be left out; strings compare byte by byte, so dates
 *     and timestamps compare in time order)
 * A row outside the filter is TF_OUT: the subscriber removes it if it had
 * it (an update that moved the row out) and does not apply it.  A null
 * value is outside every filter.  A delete without a before image is kept
 * unless the field is in its key: nothing says where the row was.
 */
#include <stdlib.h>
#include <string.h>

#include "transforms/tf_step.h"

typedef enum { F_EQUALS, F_IN, F_PREFIX, F_RANGE } filter_op_t;

typedef struct {
        char *field;
        filter_op_t op;
        json_t *values; /* equals: the value; in: the array; prefix: the string; range: [min|null, max|null]
                         */
} filter_params_t;

typedef struct {
        const filter_params_t *p;
        int in_key;
} filter_bound_t;

static void filter_free(void *params) {
        filter_params_t *p = params;
        if (p) {
                free(p->field);
                json_decref(p->values);
        }
        free(p);
}

static int is_scalar(const json_t *v) { return json_is_string(v) || json_is_number(v) || json_is_boolean(v); }

static sb_err_t filter_parse(const json_t *conf, const tf_context_t *ctx, void **params, char *errstr,
                             size_t errstr_size) {
        static const char *const allowed[] = {"filter", "equals", "in", "prefix", "min", "max", NULL};
        const char *field;
        (void)ctx;
        sb_err_t err = tf_conf_only(conf, allowed, errstr, errstr_size);
        if (!err)
                err = tf_conf_string(conf, "filter", &field, errstr, errstr_size);
        if (err)
                return err;
        const json_t *eq = json_object_get(conf, "equals"), *in = json_object_get(conf, "in"),
                     *prefix = json_object_get(conf, "prefix"), *min = json_object_get(conf, "min"),
                     *max = json_object_get(conf, "max");
        int ways = !!eq + !!in + !!prefix + !!(min || max);
        if (ways != 1)
                return sb_seterr(SB_ERR_CONFIG, errstr, errstr_size,
                                 "filter %s: give exactly one of equals, in, prefix, or min and/or max",
                                 field);
        if ((eq && !is_scalar(eq)) || (prefix && !json_is_string(prefix)) || (min && !is_scalar(min)) ||
            (max && !is_scalar(max)) || (in && (!json_is_array(in) || json_array_size(in) == 0)))
                return sb_seterr(SB_ERR_CONFIG, errstr, errstr_size,
                                 "filter %s: equals, min and max take a value, prefix a string, in a list",
                                 field);
        for (size_t i = 0; in && i < json_array_size(in); i++)
                if (!is_scalar(json_array_get(in, i)))
                        return sb_seterr(SB_ERR_CONFIG, errstr, errstr_size,
                                         "filter %s: the list of in must hold values", field);
        filter_params_t *p = calloc(1, sizeof(*p));
        if (!p || !(p->field = strdup(field))) {
                free(p);
                return sb_seterr(SB_ERR_NOMEM, errstr, errstr_size, "out of memory");
        }
        p->op = eq ? F_EQUALS : in ? F_IN : prefix ? F_PREFIX : F_RANGE;
        p->values = eq       ? json_incref((json_t *)eq)
                    : in     ? json_incref((json_t *)in)
                    : prefix ? json_incref((json_t *)prefix)
                             : json_pack("[OO]", min ? min : json_null(), max ? max : json_null());
        if (!p->values) {
                filter_free(p);
                return sb_seterr(SB_ERR_NOMEM, errstr, errstr_size, "out of memory");
        }
        *params = p;
        return SB_OK;
}

static int fits_kind(const json_t *v, tf_value_kind_t kind) {
        return json_is_null(v) || (kind == TF_V_STRING && json_is_string(v)) ||
               (kind == TF_V_NUMBER && json_is_number(v)) || (kind == TF_V_BOOL && json_is_boolean(v));
}

static sb_err_t filter_bind(const void *params, tf_columns_t *cols, void **bound, char *errstr,
                            size_t errstr_size) {
        const filter_params_t *p = params;
        tf_column_t *col;
        sb_err_t err = tf_find_column(cols, "filter", p->field, &col, errstr, errstr_size);
        if (err)
                return err;
        static const char *const kinds[] = {"a string", "a number", "a boolean",
                                            "neither string, number nor boolean"};
        if (col->kind == TF_V_OTHER || (p->op == F_PREFIX && col->kind != TF_V_STRING) ||
            (p->op == F_RANGE && col->kind == TF_V_BOOL))
                return sb_seterr(SB_ERR_INVALID, errstr, errstr_size, "filter %s: not allowed on %s field",
                                 p->field, kinds[col->kind]);
        const json_t *vals = p->values;
        for (size_t i = 0; i < (json_is_array(vals) ? json_array_size(vals) : 1); i++)
                if (!fits_kind(json_is_array(vals) ? json_array_get(vals, i) : vals, col->kind))
                        return sb_seterr(SB_ERR_INVALID, errstr, errstr_size,
                                         "filter %s: the field is %s, the filter's value is not", p->field,
                                         kinds[col->kind]);
        filter_bound_t *b = calloc(1, sizeof(*b));
        if (!b)
                return sb_seterr(SB_ERR_NOMEM, errstr, errstr_size, "out of memory");
        b->p = p;
        b->in_key = col->key_pos >= 0;
        *bound = b;
        return SB_OK;
}

/* <0, 0, >0 as a < b; both of one kind (strings byte-wise, numbers). */
static int compare(const json_t *a, const json_t *b) {
        if (json_is_string(a))
                return strcmp(json_string_value(a), json_string_value(b));
        double x = json_number_value(a), y = json_number_value(b);
        return x < y ? -1 : x > y;
}

static int same(const json_t *a, const json_t *b) {
        if (json_is_number(a) && json_is_number(b))
                return json_number_value(a) == json_number_value(b);
        return json_equal((json_t *)a, (json_t *)b);
}

static int passes(const filter_params_t *p, const json_t *v) {
        if (!v || json_is_null(v))
                return 0;
        switch (p->op) {
        case F_EQUALS: return same(v, p->values);
        case F_IN:
                for (size_t i = 0; i < json_array_size(p->values); i++)
                        if (same(v, json_array_get(p->values, i)))
                                return 1;
                return 0;
        case F_PREFIX:
                return json_is_string(v) && strncmp(json_string_value(v), json_string_value(p->values),
                                                    json_string_length(p->values)) == 0;
        case F_RANGE: {
                const json_t *min = json_array_get(p->values, 0), *max = json_array_get(p->values, 1);
                if ((json_is_string(v) != json_is_string(json_is_null(min) ? max : min)))
                        return 0;
                return (json_is_null(min) || compare(v, min) >= 0) &&
                       (json_is_null(max) || compare(v, max) <= 0);
        }
        }
        return 0;
}

static tf_verdict_t filter_apply(const void *bound, tf_event_t *ev) {
        const filter_bound_t *b = bound;
        const json_t *row = ev->after ? ev->after : ev->before ? ev->before : b->in_key ? ev->key : NULL;
        if (!row)
                return TF_KEEP;
        return passes(b->p, json_object_get(row, b->p->field)) ? TF_KEEP : TF_OUT;
}

const tf_kind_t tf_filter_kind = {"filter", filter_parse, filter_bind, filter_apply, filter_free};

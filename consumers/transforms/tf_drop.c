/*
 * tf_drop: { drop = "field"; }: the field has no column in the target.  A
 * key field cannot be dropped: the rows would lose their identity.
 */
#include <stdlib.h>

#include "transforms/tf_step.h"

static sb_err_t drop_parse(const json_t *conf, const tf_context_t *ctx, void **params, char *errstr,
                           size_t errstr_size) {
        (void)ctx;
        return tf_parse_field_only(conf, "drop", params, errstr, errstr_size);
}

static sb_err_t drop_bind(const void *params, tf_columns_t *cols, void **bound, char *errstr,
                          size_t errstr_size) {
        const tf_field_params_t *p = params;
        tf_column_t *col;
        sb_err_t err = tf_find_column(cols, "drop", p->field, &col, errstr, errstr_size);
        if (err)
                return err;
        if (col->key_pos >= 0)
                return sb_seterr(SB_ERR_INVALID, errstr, errstr_size,
                                 "drop %s: a key field cannot be dropped (hash it instead)", p->field);
        const char **b = malloc(sizeof(*b));
        if (!b)
                return sb_seterr(SB_ERR_NOMEM, errstr, errstr_size, "out of memory");
        *b = p->field;
        tf_columns_remove(cols, col);
        *bound = b;
        return SB_OK;
}

static tf_verdict_t drop_apply(const void *bound, tf_event_t *ev) {
        const char *name = *(const char *const *)bound;
        if (ev->after)
                json_object_del(ev->after, name);
        if (ev->before)
                json_object_del(ev->before, name);
        return TF_KEEP;
}

const tf_kind_t tf_drop_kind = {"drop", drop_parse, drop_bind, drop_apply, tf_free_field_params};

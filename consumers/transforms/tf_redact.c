/*
 * tf_redact: { redact = "field"; }: the column stays, its values are NULL:
 * for a personal field that is neither a string to mask nor wanted hashed.
 * Not for key fields.
 */
#include <stdlib.h>

#include "transforms/tf_step.h"

static sb_err_t redact_parse(const json_t *conf, const tf_context_t *ctx, void **params, char *errstr,
                             size_t errstr_size) {
        (void)ctx;
        return tf_parse_field_only(conf, "redact", params, errstr, errstr_size);
}

static sb_err_t redact_bind(const void *params, tf_columns_t *cols, void **bound, char *errstr,
                            size_t errstr_size) {
        const tf_field_params_t *p = params;
        tf_column_t *col;
        sb_err_t err = tf_find_column(cols, "redact", p->field, &col, errstr, errstr_size);
        if (err)
                return err;
        if (col->key_pos >= 0)
                return sb_seterr(SB_ERR_INVALID, errstr, errstr_size,
                                 "redact %s: a key field cannot be redacted: hash it", p->field);
        json_t *type = json_object_get(col->field, "type");
        json_t *nullable;
        if (col->nullable)
                nullable = json_incref(type);
        else if (json_is_array(type) && (nullable = json_deep_copy(type))) /* a union: null joins it */
                json_array_insert_new(nullable, 0, json_string("null"));
        else
                nullable = json_pack("[sO]", "null", type);
        const char **b = malloc(sizeof(*b));
        if (!b || !nullable) {
                free(b);
                json_decref(nullable);
                return sb_seterr(SB_ERR_NOMEM, errstr, errstr_size, "out of memory");
        }
        if (json_object_set_new(col->field, "type", nullable) ||
            json_object_set_new(col->field, "default", json_null())) {
                free(b);
                return sb_seterr(SB_ERR_NOMEM, errstr, errstr_size, "out of memory");
        }
        col->nullable = 1;
        col->policy = "redacted";
        col->decided = 1;
        *b = p->field;
        *bound = b;
        return SB_OK;
}

static json_t *null_value(const json_t *v, const void *opaque) {
        (void)v;
        (void)opaque;
        return json_null();
}

static tf_verdict_t redact_apply(const void *bound, tf_event_t *ev) {
        return tf_event_map(ev, *(const char *const *)bound, 0, null_value, NULL);
}

const tf_kind_t tf_redact_kind = {"redact", redact_parse, redact_bind, redact_apply, tf_free_field_params};

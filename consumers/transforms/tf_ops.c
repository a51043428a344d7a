/*
 * tf_ops: { ops = ["c", "u", "r"]; }: the ops (create, update, delete,
 * read) this subscriber takes; others are skipped, as if not published.  A
 * subscriber that keeps what was deleted elsewhere leaves out "d".
 */
#include <stdlib.h>
#include <string.h>

#include "transforms/tf_step.h"

typedef struct {
        char ops[5]; /* NUL-terminated set of c, u, d, r */
} ops_params_t;

static sb_err_t ops_parse(const json_t *conf, const tf_context_t *ctx, void **params, char *errstr,
                          size_t errstr_size) {
        static const char *const allowed[] = {"ops", NULL};
        (void)ctx;
        sb_err_t err = tf_conf_only(conf, allowed, errstr, errstr_size);
        if (err)
                return err;
        const json_t *list = json_object_get(conf, "ops");
        ops_params_t *p = calloc(1, sizeof(*p));
        if (!p)
                return sb_seterr(SB_ERR_NOMEM, errstr, errstr_size, "out of memory");
        size_t n = 0;
        for (size_t i = 0; json_is_array(list) && i < json_array_size(list); i++) {
                const char *op = json_string_value(json_array_get(list, i));
                if (!op || strlen(op) != 1 || !strchr("cudr", *op) || strchr(p->ops, *op)) {
                        free(p);
                        return sb_seterr(SB_ERR_CONFIG, errstr, errstr_size,
                                         "ops: each entry must be one of \"c\", \"u\", \"d\", \"r\", once");
                }
                p->ops[n++] = *op;
        }
        if (n == 0) {
                free(p);
                return sb_seterr(SB_ERR_CONFIG, errstr, errstr_size,
                                 "ops: a list of the ops to take, e.g. [\"c\", \"u\", \"r\"]");
        }
        *params = p;
        return SB_OK;
}

typedef struct {
        const ops_params_t *p;
} ops_bound_t;

static sb_err_t ops_bind(const void *params, tf_columns_t *cols, void **bound, char *errstr,
                         size_t errstr_size) {
        (void)cols;
        ops_bound_t *b = malloc(sizeof(*b));
        if (!b)
                return sb_seterr(SB_ERR_NOMEM, errstr, errstr_size, "out of memory");
        b->p = params;
        *bound = b;
        return SB_OK;
}

static tf_verdict_t ops_apply(const void *bound, tf_event_t *ev) {
        const ops_params_t *p = ((const ops_bound_t *)bound)->p;
        return strchr(p->ops, ev->op) ? TF_KEEP : TF_SKIP;
}

const tf_kind_t tf_ops_kind = {"ops", ops_parse, ops_bind, ops_apply, free};

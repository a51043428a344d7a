/*
 * tf_mask: { mask = "field"; keep_first = 3; keep_last = 4; }: every
 * character of a string but the first N and the last M becomes '*'
 * (characters, not bytes: UTF-8 aware), so "13912345678" -> "139****5678".
 * Defaults keep nothing.  Only for string and enum fields, never key fields
 * (masked keys would collide: hash those).
 */
#include <stdlib.h>
#include <string.h>

#include "transforms/tf_step.h"

/* A masked string longer than this keeps its length only up to here: the
 * bound on what one value costs. */
#define MASK_MAX_CHARS 65536

typedef struct {
        char *field;
        int keep_first, keep_last;
} mask_params_t;

typedef struct {
        const mask_params_t *p;
} mask_bound_t;

static void mask_free(void *params) {
        mask_params_t *p = params;
        if (p)
                free(p->field);
        free(p);
}

static sb_err_t keep_count(const json_t *conf, const char *name, int *out, char *errstr, size_t errstr_size) {
        const json_t *v = json_object_get(conf, name);
        *out = 0;
        if (!v)
                return SB_OK;
        if (!json_is_integer(v) || json_integer_value(v) < 0 || json_integer_value(v) > 1000)
                return sb_seterr(SB_ERR_CONFIG, errstr, errstr_size, "'%s' must be an integer 0..1000", name);
        *out = (int)json_integer_value(v);
        return SB_OK;
}

static sb_err_t mask_parse(const json_t *conf, const tf_context_t *ctx, void **params, char *errstr,
                           size_t errstr_size) {
        static const char *const allowed[] = {"mask", "keep_first", "keep_last", NULL};
        const char *field;
        int first, last;
        (void)ctx;
        sb_err_t err = tf_conf_only(conf, allowed, errstr, errstr_size);
        if (!err)
                err = tf_conf_string(conf, "mask", &field, errstr, errstr_size);
        if (!err)
                err = keep_count(conf, "keep_first", &first, errstr, errstr_size);
        if (!err)
                err = keep_count(conf, "keep_last", &last, errstr, errstr_size);
        if (err)
                return err;
        mask_params_t *p = calloc(1, sizeof(*p));
        if (!p || !(p->field = strdup(field))) {
                free(p);
                return sb_seterr(SB_ERR_NOMEM, errstr, errstr_size, "out of memory");
        }
        p->keep_first = first;
        p->keep_last = last;
        *params = p;
        return SB_OK;
}

static sb_err_t mask_bind(const void *params, tf_columns_t *cols, void **bound, char *errstr,
                          size_t errstr_size) {
        const mask_params_t *p = params;
        tf_column_t *col;
        sb_err_t err = tf_find_column(cols, "mask", p->field, &col, errstr, errstr_size);
        if (err)
                return err;
        if (col->key_pos >= 0)
                return sb_seterr(SB_ERR_INVALID, errstr, errstr_size,
                                 "mask %s: a key field cannot be masked (masked keys collide): hash it",
                                 p->field);
        if (col->kind != TF_V_STRING)
                return sb_seterr(SB_ERR_INVALID, errstr, errstr_size,
                                 "mask %s: only strings can be masked (hash or redact it)", p->field);
        mask_bound_t *b = calloc(1, sizeof(*b));
        if (!b || tf_column_make_string(col)) {
                free(b);
                return sb_seterr(SB_ERR_NOMEM, errstr, errstr_size, "out of memory");
        }
        col->policy = "masked";
        col->decided = 1;
        b->p = p;
        *bound = b;
        return SB_OK;
}

/* Bytes of the first n characters of s[len] (UTF-8: continuation bytes
 * are 10xxxxxx). */
static size_t char_bytes(const char *s, size_t len, size_t n) {
        size_t i = 0;
        while (i < len && n > 0) {
                i++;
                while (i < len && ((unsigned char)s[i] & 0xC0) == 0x80)
                        i++;
                n--;
        }
        return i;
}

static size_t char_count(const char *s, size_t len) {
        size_t n = 0;
        for (size_t i = 0; i < len; i++)
                n += ((unsigned char)s[i] & 0xC0) != 0x80;
        return n;
}

static json_t *masked(const json_t *v, const void *opaque) {
        const mask_params_t *p = opaque;
        if (!json_is_string(v))
                return json_incref((json_t *)v); /* null stays null */
        const char *s = json_string_value(v);
        size_t len = json_string_length(v), chars = char_count(s, len);
        size_t first = (size_t)p->keep_first, last = (size_t)p->keep_last;
        if (first + last >= chars) /* too short to hide anything by keeping both ends: hide all */
                first = last = 0;
        size_t head = char_bytes(s, len, first);
        size_t tail_start = char_bytes(s, len, chars - last);
        size_t stars = chars - first - last;
        if (stars > MASK_MAX_CHARS)
                stars = MASK_MAX_CHARS;
        size_t out_len = head + stars + (len - tail_start);
        char *out = malloc(out_len + 1);
        if (!out)
                return NULL;
        memcpy(out, s, head);
        memset(out + head, '*', stars);
        memcpy(out + head + stars, s + tail_start, len - tail_start);
        out[out_len] = 0;
        json_t *r = json_stringn_nocheck(out, out_len);
        free(out);
        return r;
}

static tf_verdict_t mask_apply(const void *bound, tf_event_t *ev) {
        const mask_bound_t *b = bound;
        return tf_event_map(ev, b->p->field, 0, masked, b->p);
}

const tf_kind_t tf_mask_kind = {"mask", mask_parse, mask_bind, mask_apply, mask_free};

/*
 * tf_hash: { hash = "field"; }: the value becomes the lowercase hex
 * HMAC-SHA256 of its text under the subscriber's key (hash_key_file): the
 * same ID hashes the same way in every table and every subscriber sharing
 * the key, so joins on a hashed ID still work, while the ID itself cannot
 * be recovered without the key.  Allowed on scalar fields, key fields
 * included (the key hashes too, so deletes still find their row).
 */
#include <gnutls/crypto.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "transforms/tf_step.h"

typedef struct {
        char *field;
        const tf_context_t *ctx;
} hash_params_t;

typedef struct {
        const hash_params_t *p;
        int in_key;
} hash_bound_t;

static void hash_free(void *params) {
        hash_params_t *p = params;
        if (p)
                free(p->field);
        free(p);
}

static sb_err_t hash_parse(const json_t *conf, const tf_context_t *ctx, void **params, char *errstr,
                           size_t errstr_size) {
        static const char *const allowed[] = {"hash", NULL};
        const char *field;
        sb_err_t err = tf_conf_only(conf, allowed, errstr, errstr_size);
        if (!err)
                err = tf_conf_string(conf, "hash", &field, errstr, errstr_size);
        if (err)
                return err;
        if (!ctx->hash_key)
                return sb_seterr(SB_ERR_CONFIG, errstr, errstr_size,
                                 "hash %s: set hash_key_file, the key the values are hashed with", field);
        hash_params_t *p = calloc(1, sizeof(*p));
        if (!p || !(p->field = strdup(field))) {
                free(p);
                return sb_seterr(SB_ERR_NOMEM, errstr, errstr_size, "out of memory");
        }
        p->ctx = ctx;
        *params = p;
        return SB_OK;
}

static sb_err_t hash_bind(const void *params, tf_columns_t *cols, void **bound, char *errstr,
                          size_t errstr_size) {
        const hash_params_t *p = params;
        tf_column_t *col;
        sb_err_t err = tf_find_column(cols, "hash", p->field, &col, errstr, errstr_size);
        if (err)
                return err;
        if (col->kind == TF_V_OTHER)
                return sb_seterr(SB_ERR_INVALID, errstr, errstr_size,
                                 "hash %s: only strings, numbers and booleans can be hashed", p->field);
        hash_bound_t *b = calloc(1, sizeof(*b));
        if (!b || tf_column_make_string(col)) {
                free(b);
                return sb_seterr(SB_ERR_NOMEM, errstr, errstr_size, "out of memory");
        }
        col->policy = "hashed";
        col->decided = 1;
        b->p = p;
        b->in_key = col->key_pos >= 0;
        *bound = b;
        return SB_OK;
}

static json_t *hashed(const json_t *v, const void *opaque) {
        const hash_params_t *p = opaque;
        char text[64];
        const char *s = text;
        size_t len;
        switch (json_typeof(v)) {
        case JSON_STRING:
                s = json_string_value(v);
                len = json_string_length(v);
                break;
        case JSON_INTEGER:
                len = (size_t)snprintf(text, sizeof(text), "%lld", (long long)json_integer_value(v));
                break;
        case JSON_REAL: len = (size_t)snprintf(text, sizeof(text), "%.17g", json_real_value(v)); break;
        case JSON_TRUE:
        case JSON_FALSE:
                len = (size_t)snprintf(text, sizeof(text), "%s", json_is_true(v) ? "true" : "false");
                break;
        default: return json_incref((json_t *)v); /* null stays null */
        }
        unsigned char digest[32];
        if (gnutls_hmac_fast(GNUTLS_MAC_SHA256, p->ctx->hash_key, p->ctx->hash_key_len, s, len, digest) != 0)
                return NULL;
        char hex[65];
        static const char digits[] = "0123456789abcdef";
        for (size_t i = 0; i < sizeof(digest); i++) {
                hex[2 * i] = digits[digest[i] >> 4];
                hex[2 * i + 1] = digits[digest[i] & 15];
        }
        return json_stringn_nocheck(hex, 64);
}

static tf_verdict_t hash_apply(const void *bound, tf_event_t *ev) {
        const hash_bound_t *b = bound;
        return tf_event_map(ev, b->p->field, b->in_key, hashed, b->p);
}

const tf_kind_t tf_hash_kind = {"hash", hash_parse, hash_bind, hash_apply, hash_free};

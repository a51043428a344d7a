#include "targets/pg_batch.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "sb_buf.h"

/* libpq counts parameters in a 16-bit field: $1 .. $65535. */
#define PG_MAX_PARAMS 65535

struct pg_batch_s {
        char *head, *tail;
        size_t ncols, max_rows, rows, live;
        size_t *key_cols, n_key;
        char **casts;           /* per column: NULL, or the type its parameter is cast to */
        char **values;          /* rows * ncols, row after row: the parameter array */
        unsigned char *dropped; /* per row: taken out by pg_batch_drop_key */
        char **keys;            /* per row: its key as one string (n_key > 0) */
        size_t *slots;          /* open addressing over keys: row + 1, 0 free */
        size_t n_slots;         /* a power of two, at least twice max_rows */
        /* pg_batch_send: a statement of exactly prep_rows rows (none
         * dropped) runs prepared, as prep_name, once prepared in prep_gen. */
        size_t prep_rows;
        int prepared;
        unsigned prep_gen;
        char prep_name[64];
};

sb_err_t pg_batch_new(const char *head, const char *tail, size_t ncols, const size_t *key_cols, size_t n_key,
                      pg_batch_t **out) {
        pg_batch_t *b = calloc(1, sizeof(*b));
        *out = NULL;
        if (!b)
                return SB_ERR_NOMEM;
        b->ncols = ncols;
        b->max_rows = PG_MAX_PARAMS / ncols < PG_BATCH_MAX_ROWS ? PG_MAX_PARAMS / ncols : PG_BATCH_MAX_ROWS;
        b->n_key = n_key;
        for (b->n_slots = 4; b->n_slots < 2 * b->max_rows; b->n_slots *= 2)
                ;
        b->head = strdup(head);
        b->tail = strdup(tail);
        b->values = calloc(b->max_rows * ncols, sizeof(*b->values));
        b->key_cols = calloc(n_key ? n_key : 1, sizeof(*b->key_cols));
        b->keys = calloc(b->max_rows, sizeof(*b->keys));
        b->slots = calloc(b->n_slots, sizeof(*b->slots));
        b->casts = calloc(ncols, sizeof(*b->casts));
        b->dropped = calloc(b->max_rows, 1);
        if (!b->head || !b->tail || !b->values || !b->key_cols || !b->keys || !b->slots || !b->casts ||
            !b->dropped) {
                pg_batch_destroy(b);
                return SB_ERR_NOMEM;
        }
        if (n_key)
                memcpy(b->key_cols, key_cols, n_key * sizeof(*key_cols));
        *out = b;
        return SB_OK;
}

void pg_batch_clear(pg_batch_t *b) {
        for (size_t i = 0; i < b->rows * b->ncols; i++) {
                free(b->values[i]);
                b->values[i] = NULL;
        }
        for (size_t i = 0; i < b->rows; i++) {
                free(b->keys[i]);
                b->keys[i] = NULL;
        }
        memset(b->slots, 0, b->n_slots * sizeof(*b->slots));
        memset(b->dropped, 0, b->max_rows);
        b->rows = b->live = 0;
}

void pg_batch_destroy(pg_batch_t *b) {
        if (!b)
                return;
        if (b->values && b->keys && b->slots && b->dropped)
                pg_batch_clear(b);
        free(b->head);
        free(b->tail);
        free(b->values);
        free(b->key_cols);
        free(b->keys);
        free(b->slots);
        for (size_t i = 0; b->casts && i < b->ncols; i++)
                free(b->casts[i]);
        free(b->casts);
        free(b->dropped);
        free(b);
}

sb_err_t pg_batch_cast(pg_batch_t *b, size_t col, const char *type) {
        if (col >= b->ncols)
                return SB_ERR_INVALID;
        free(b->casts[col]);
        return (b->casts[col] = strdup(type)) ? SB_OK : SB_ERR_NOMEM;
}

size_t pg_batch_rows(const pg_batch_t *b) { return b->live; }

int pg_batch_full(const pg_batch_t *b) { return b->rows >= b->max_rows; }

/* The key columns of a row as one string, each NULL or <length>:<text>, so
 * that no two keys give the same string.  `values` is a row, or (by_key)
 * the key's n_key values in key order. */
static char *key_string(const pg_batch_t *b, char *const *values, int by_key) {
        sb_buf_t k;
        sb_buf_init(&k, SIZE_MAX / 2);
        sb_err_t err = sb_buf_printf(&k, "%s", ""); /* a key of no columns is "" */
        for (size_t i = 0; !err && i < b->n_key; i++) {
                const char *v = values[by_key ? i : b->key_cols[i]];
                err = v ? sb_buf_printf(&k, "%zu:%s", strlen(v), v) : sb_buf_printf(&k, "N");
        }
        if (err) {
                sb_buf_free(&k);
                return NULL;
        }
        return (char *)sb_buf_detach(&k, NULL);
}

static size_t hash(const char *s) {
        uint64_t h = 1469598103934665603ULL; /* FNV-1a */
        for (; *s; s++)
                h = (h ^ (unsigned char)*s) * 1099511628211ULL;
        return (size_t)h;
}

sb_err_t pg_batch_add(pg_batch_t *b, char **values) {
        char *key = NULL;
        if (b->rows >= b->max_rows || (b->n_key && !(key = key_string(b, values, 0)))) {
                for (size_t i = 0; i < b->ncols; i++)
                        free(values[i]);
                return SB_ERR_NOMEM;
        }
        size_t row = b->rows;
        if (key) {
                size_t s = hash(key) & (b->n_slots - 1);
                while (b->slots[s] && strcmp(b->keys[b->slots[s] - 1], key) != 0)
                        s = (s + 1) & (b->n_slots - 1);
                if (b->slots[s]) { /* the same key again: this row replaces that one */
                        row = b->slots[s] - 1;
                        free(key);
                        for (size_t i = 0; i < b->ncols; i++)
                                free(b->values[row * b->ncols + i]);
                        if (b->dropped[row]) {
                                b->dropped[row] = 0;
                                b->live++;
                        }
                } else {
                        b->slots[s] = row + 1;
                        b->keys[row] = key;
                }
        }
        memcpy(b->values + row * b->ncols, values, b->ncols * sizeof(*values));
        if (row == b->rows) {
                b->rows++;
                b->live++;
        }
        return SB_OK;
}

int pg_batch_drop_key(pg_batch_t *b, char *const *key_values) {
        char *key = b->n_key ? key_string(b, key_values, 1) : NULL;
        if (!key)
                return 0;
        size_t s = hash(key) & (b->n_slots - 1);
        while (b->slots[s] && strcmp(b->keys[b->slots[s] - 1], key) != 0)
                s = (s + 1) & (b->n_slots - 1);
        free(key);
        size_t row = b->slots[s] ? b->slots[s] - 1 : 0;
        if (!b->slots[s] || b->dropped[row])
                return 0;
        /* The row keeps its place (and its slot) until a row of that key
         * comes again or the batch is cleared; it is not sent. */
        b->dropped[row] = 1;
        b->live--;
        for (size_t i = 0; i < b->ncols; i++) {
                free(b->values[row * b->ncols + i]);
                b->values[row * b->ncols + i] = NULL;
        }
        return 1;
}

/* The statement text and parameters of the buffered rows: *params is
 * b->values or an array the caller frees (when rows were dropped). */
static sb_err_t build(pg_batch_t *b, sb_buf_t *sql, const char ***params_out, int *n_params) {
        /* The parameters of the rows sent: all of them unless some were
         * dropped. */
        const char **params = b->live == b->rows
                                      ? (const char **)b->values
                                      : malloc((b->live ? b->live : 1) * b->ncols * sizeof(*params));
        sb_err_t err = params ? sb_buf_printf(sql, "%s VALUES ", b->head) : SB_ERR_NOMEM;
        size_t p = 1;
        for (size_t r = 0; !err && r < b->rows; r++) {
                if (b->dropped[r])
                        continue;
                err = sb_buf_append(sql, p > 1 ? ", (" : "(", p > 1 ? 3 : 1);
                for (size_t c = 0; !err && c < b->ncols; c++, p++) {
                        params[p - 1] = b->values[r * b->ncols + c];
                        err = sb_buf_printf(sql, "%s$%zu%s%s", c ? ", " : "", p, b->casts[c] ? "::" : "",
                                            b->casts[c] ? b->casts[c] : "");
                }
                if (!err)
                        err = sb_buf_append(sql, ")", 1);
        }
        if (!err)
                err = sb_buf_printf(sql, "%s", b->tail);
        if (err && params && params != (const char **)b->values)
                free((void *)params);
        *params_out = err ? NULL : params;
        *n_params = (int)(p - 1);
        return err;
}

PGresult *pg_batch_exec(pg_batch_t *b, PGconn *conn) {
        sb_buf_t sql;
        sb_buf_init(&sql, SIZE_MAX / 2);
        const char **params;
        int n;
        PGresult *r = NULL;
        if (build(b, &sql, &params, &n) == SB_OK) {
                r = PQexecParams(conn, (const char *)sql.data, n, NULL, params, NULL, NULL, 0);
                if (params != (const char **)b->values)
                        free((void *)params);
        }
        sb_buf_free(&sql);
        return r;
}

void pg_batch_prepare_size(pg_batch_t *b, size_t rows) { b->prep_rows = rows <= b->max_rows ? rows : 0; }

int pg_batch_send(pg_batch_t *b, PGconn *conn, unsigned gen) {
        sb_buf_t sql;
        sb_buf_init(&sql, SIZE_MAX / 2);
        const char **params;
        int n, sent = 0;
        int prepared = b->prep_rows && b->live == b->prep_rows && b->rows == b->prep_rows;
        if (build(b, &sql, &params, &n) == SB_OK) {
                if (!prepared) {
                        sent = PQsendQueryParams(conn, (const char *)sql.data, n, NULL, params, NULL, NULL,
                                                 0);
                } else {
                        if (!b->prepared || b->prep_gen != gen) {
                                /* A name of this generation: one prepared in a
                                 * transaction that failed may or may not exist. */
                                snprintf(b->prep_name, sizeof(b->prep_name), "sb_%p_%u", (void *)b, gen);
                                sent = PQsendPrepare(conn, b->prep_name, (const char *)sql.data, n, NULL);
                                b->prepared = sent;
                                b->prep_gen = gen;
                        }
                        if (b->prepared && PQsendQueryPrepared(conn, b->prep_name, n, params, NULL, NULL, 0))
                                sent++;
                        else
                                sent = 0;
                }
                if (params != (const char **)b->values)
                        free((void *)params);
        }
        sb_buf_free(&sql);
        return sent;
}

#include "targets/pg_batch.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "sb_buf.h"

/* libpq counts parameters in a 16-bit field: $1 .. $65535. */
#define PG_MAX_PARAMS 65535

struct pg_batch_s {
        char *head, *tail;
        size_t ncols, max_rows, rows;
        size_t *key_cols, n_key;
        char **values;  /* rows * ncols, row after row: the parameter array */
        char **keys;    /* per row: its key as one string (n_key > 0) */
        size_t *slots;  /* open addressing over keys: row + 1, 0 free */
        size_t n_slots; /* a power of two, at least twice max_rows */
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
        if (!b->head || !b->tail || !b->values || !b->key_cols || !b->keys || !b->slots) {
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
        b->rows = 0;
}

void pg_batch_destroy(pg_batch_t *b) {
        if (!b)
                return;
        if (b->values && b->keys && b->slots)
                pg_batch_clear(b);
        free(b->head);
        free(b->tail);
        free(b->values);
        free(b->key_cols);
        free(b->keys);
        free(b->slots);
        free(b);
}

size_t pg_batch_rows(const pg_batch_t *b) { return b->rows; }

int pg_batch_full(const pg_batch_t *b) { return b->rows >= b->max_rows; }

/* The key columns of a row as one string, each NULL or <length>:<text>, so
 * that no two keys give the same string. */
static char *key_string(const pg_batch_t *b, char **values) {
        sb_buf_t k;
        sb_buf_init(&k, SIZE_MAX / 2);
        sb_err_t err = sb_buf_printf(&k, "%s", ""); /* a key of no columns is "" */
        for (size_t i = 0; !err && i < b->n_key; i++) {
                const char *v = values[b->key_cols[i]];
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
        if (b->rows >= b->max_rows || (b->n_key && !(key = key_string(b, values)))) {
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
                } else {
                        b->slots[s] = row + 1;
                        b->keys[row] = key;
                }
        }
        memcpy(b->values + row * b->ncols, values, b->ncols * sizeof(*values));
        if (row == b->rows)
                b->rows++;
        return SB_OK;
}

PGresult *pg_batch_exec(pg_batch_t *b, PGconn *conn) {
        sb_buf_t sql;
        sb_buf_init(&sql, SIZE_MAX / 2);
        sb_err_t err = sb_buf_printf(&sql, "%s VALUES ", b->head);
        for (size_t r = 0, p = 1; !err && r < b->rows; r++) {
                err = sb_buf_append(&sql, r ? ", (" : "(", r ? 3 : 1);
                for (size_t c = 0; !err && c < b->ncols; c++, p++)
                        err = sb_buf_printf(&sql, c ? ", $%zu" : "$%zu", p);
                if (!err)
                        err = sb_buf_append(&sql, ")", 1);
        }
        if (!err)
                err = sb_buf_printf(&sql, "%s", b->tail);
        PGresult *r = NULL;
        if (!err)
                r = PQexecParams(conn, (const char *)sql.data, (int)(b->rows * b->ncols), NULL,
                                 (const char *const *)b->values, NULL, NULL, 0);
        sb_buf_free(&sql);
        return r;
}

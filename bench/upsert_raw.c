#include "upsert_raw.h"

#include <jansson.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "change_line.h"

/* Columns per row, and the line length read, are bounded: a file that
 * breaks them is not sharebus-sample's. */
#define RAW_COLUMNS_MAX 256
#define RAW_LINE_MAX (1 << 20)

typedef struct {
        enum { RAW_NULL, RAW_INT, RAW_REAL, RAW_TEXT } kind;
        long long i;
        double d;
        char *s; /* owned */
        size_t len;
} raw_val_t;

typedef struct {
        char op;
        raw_val_t *vals; /* owned: the row's columns, or the key's for a delete */
} raw_change_t;

typedef struct {
        const char *cols[RAW_COLUMNS_MAX]; /* borrowed from the first line's document */
        size_t ncols;
        const char *keys[RAW_COLUMNS_MAX];
        size_t nkeys;
        json_t *first; /* owned: the document the names come from */
        raw_change_t *changes;
        size_t n, cap;
} raw_set_t;

static double now_s(void) {
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int to_val(const json_t *v, raw_val_t *out) {
        memset(out, 0, sizeof(*out));
        if (!v || json_is_null(v))
                return 0;
        if (json_is_integer(v) || json_is_boolean(v)) {
                out->kind = RAW_INT;
                out->i = json_is_boolean(v) ? json_is_true(v) : json_integer_value(v);
        } else if (json_is_real(v)) {
                out->kind = RAW_REAL;
                out->d = json_real_value(v);
        } else {
                out->kind = RAW_TEXT;
                out->s = json_is_string(v) ? strdup(json_string_value(v)) : json_dumps(v, JSON_COMPACT);
                if (!out->s)
                        return -1;
                out->len = strlen(out->s);
        }
        return 0;
}

/* Decodes one line into set->changes (the first line also names the
 * columns).  -1 on a line that is no change or does not fit. */
static int add_line(raw_set_t *set, const char *line, size_t len) {
        sb_change_line_t cl;
        char err[256];
        if (sb_change_line_parse(line, len, &cl, err, sizeof(err))) {
                fprintf(stderr, "bench_tool: upsert-raw: %s\n", err);
                return -1;
        }
        if (!set->first && cl.after && json_object_size(cl.after) <= RAW_COLUMNS_MAX &&
            json_object_size(cl.key) <= RAW_COLUMNS_MAX) {
                set->first = json_incref(cl.doc);
                for (void *it = json_object_iter(cl.after); it; it = json_object_iter_next(cl.after, it))
                        set->cols[set->ncols++] = json_object_iter_key(it);
                for (void *it = json_object_iter(cl.key); it; it = json_object_iter_next(cl.key, it))
                        set->keys[set->nkeys++] = json_object_iter_key(it);
        }
        int rc = -1;
        if (!set->first) {
                fprintf(stderr, "bench_tool: upsert-raw: the first change must have an after image\n");
                goto out;
        }
        if (set->n == set->cap) {
                size_t cap = set->cap ? set->cap * 2 : 1024;
                raw_change_t *grown = realloc(set->changes, cap * sizeof(*grown));
                if (!grown)
                        goto out;
                set->changes = grown;
                set->cap = cap;
        }
        raw_change_t *c = &set->changes[set->n];
        int del = cl.op == 'd';
        size_t n = del ? set->nkeys : set->ncols;
        if (!(c->vals = calloc(n, sizeof(*c->vals))))
                goto out;
        c->op = cl.op;
        set->n++;
        for (size_t i = 0; i < n; i++)
                if (to_val(json_object_get(del ? cl.key : cl.after, del ? set->keys[i] : set->cols[i]),
                           &c->vals[i]))
                        goto out;
        rc = 0;
out:
        sb_change_line_clear(&cl);
        return rc;
}

static int bind_all(sqlite3_stmt *st, const raw_val_t *vals, size_t n) {
        int rc = SQLITE_OK;
        for (size_t i = 0; i < n && rc == SQLITE_OK; i++) {
                const raw_val_t *v = &vals[i];
                int at = (int)i + 1;
                rc = v->kind == RAW_INT    ? sqlite3_bind_int64(st, at, v->i)
                     : v->kind == RAW_REAL ? sqlite3_bind_double(st, at, v->d)
                     : v->kind == RAW_TEXT ? sqlite3_bind_text(st, at, v->s, (int)v->len, SQLITE_STATIC)
                                           : sqlite3_bind_null(st, at);
        }
        return rc;
}

/* Appends to sql (of `size`) with a bound; -1 when it does not fit. */
static int add(char *sql, size_t size, const char *a, const char *b, const char *c) {
        size_t at = strlen(sql);
        int n = snprintf(sql + at, size - at, "%s%s%s", a, b, c);
        return n < 0 || (size_t)n >= size - at ? -1 : 0;
}

static int apply_all(const raw_set_t *set, sqlite3 *db, long batch, double *secs) {
        static char create[64 * 1024], upsert[64 * 1024], del[16 * 1024];
        snprintf(create, sizeof(create), "CREATE TABLE t (");
        snprintf(upsert, sizeof(upsert), "INSERT INTO t VALUES (");
        snprintf(del, sizeof(del), "DELETE FROM t WHERE ");
        int bad = 0;
        for (size_t i = 0; i < set->ncols; i++) {
                bad |= add(create, sizeof(create), "\"", set->cols[i], "\", ");
                bad |= add(upsert, sizeof(upsert), i ? ", ?" : "?", "", "");
        }
        bad |= add(create, sizeof(create), "PRIMARY KEY (", "", "");
        bad |= add(upsert, sizeof(upsert), ") ON CONFLICT (", "", "");
        for (size_t i = 0; i < set->nkeys; i++) {
                bad |= add(create, sizeof(create), i ? ", \"" : "\"", set->keys[i], "\"");
                bad |= add(upsert, sizeof(upsert), i ? ", \"" : "\"", set->keys[i], "\"");
                char param[32];
                snprintf(param, sizeof(param), "\" = ?%zu", i + 1);
                bad |= add(del, sizeof(del), i ? " AND \"" : "\"", set->keys[i], param);
        }
        bad |= add(create, sizeof(create), "))", "", "");
        bad |= add(upsert, sizeof(upsert), ") DO UPDATE SET ", "", "");
        for (size_t i = 0; i < set->ncols; i++) {
                bad |= add(upsert, sizeof(upsert), i ? ", \"" : "\"", set->cols[i], "\" = excluded.\"");
                bad |= add(upsert, sizeof(upsert), set->cols[i], "\"", "");
        }
        sqlite3_stmt *up = NULL, *rm = NULL;
        if (bad || sqlite3_exec(db, create, NULL, NULL, NULL) != SQLITE_OK ||
            sqlite3_prepare_v2(db, upsert, -1, &up, NULL) != SQLITE_OK ||
            sqlite3_prepare_v2(db, del, -1, &rm, NULL) != SQLITE_OK) {
                fprintf(stderr, "bench_tool: upsert-raw: %s\n",
                        bad ? "statement too long" : sqlite3_errmsg(db));
                sqlite3_finalize(up);
                return -1;
        }
        int rc = SQLITE_OK;
        double start = now_s();
        for (size_t i = 0; i < set->n && rc == SQLITE_OK; i++) {
                if (i % (size_t)batch == 0 && (rc = sqlite3_exec(db, "BEGIN IMMEDIATE", NULL, NULL, NULL)))
                        break;
                const raw_change_t *c = &set->changes[i];
                sqlite3_stmt *st = c->op == 'd' ? rm : up;
                if ((rc = bind_all(st, c->vals, c->op == 'd' ? set->nkeys : set->ncols)) == SQLITE_OK)
                        rc = sqlite3_step(st) == SQLITE_DONE ? SQLITE_OK : sqlite3_errcode(db);
                sqlite3_reset(st);
                if (rc == SQLITE_OK && ((i + 1) % (size_t)batch == 0 || i + 1 == set->n))
                        rc = sqlite3_exec(db, "COMMIT", NULL, NULL, NULL);
        }
        *secs = now_s() - start;
        if (rc != SQLITE_OK)
                fprintf(stderr, "bench_tool: upsert-raw: %s\n", sqlite3_errmsg(db));
        sqlite3_finalize(up);
        sqlite3_finalize(rm);
        return rc == SQLITE_OK ? 0 : -1;
}

static void set_free(raw_set_t *set) {
        for (size_t i = 0; i < set->n; i++) {
                size_t n = set->changes[i].op == 'd' ? set->nkeys : set->ncols;
                for (size_t k = 0; k < n; k++)
                        free(set->changes[i].vals[k].s);
                free(set->changes[i].vals);
        }
        free(set->changes);
        json_decref(set->first);
}

int upsert_raw(const char *lines_path, const char *db_path, long batch) {
        raw_set_t set = {0};
        FILE *f = fopen(lines_path, "r");
        char *line = malloc(RAW_LINE_MAX);
        int rc = 1;
        if (!f || !line) {
                fprintf(stderr, "bench_tool: upsert-raw: cannot read %s\n", lines_path);
                goto done;
        }
        while (fgets(line, RAW_LINE_MAX, f))
                if (!sb_change_line_is_blank(line, strlen(line)) && add_line(&set, line, strlen(line)))
                        goto done;
        sqlite3 *db = NULL;
        double secs = 0;
        if (sqlite3_open(db_path, &db) != SQLITE_OK ||
            sqlite3_exec(db, "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL", NULL, NULL, NULL) !=
                    SQLITE_OK) {
                fprintf(stderr, "bench_tool: upsert-raw: %s: %s\n", db_path, db ? sqlite3_errmsg(db) : "?");
                sqlite3_close(db);
                goto done;
        }
        if (set.n && apply_all(&set, db, batch, &secs) == 0) {
                printf("%.0f %zu\n", (double)set.n / secs, set.n);
                rc = 0;
        }
        sqlite3_close(db);
done:
        if (f)
                fclose(f);
        free(line);
        set_free(&set);
        return rc;
}

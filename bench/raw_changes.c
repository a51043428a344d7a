#include "raw_changes.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "change_line.h"

double raw_now_s(void) {
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
static int add_line(raw_set_t *set, const char *line, size_t len, const char *who) {
        sb_change_line_t cl;
        char err[256];
        if (sb_change_line_parse(line, len, &cl, err, sizeof(err))) {
                fprintf(stderr, "bench_tool: %s: %s\n", who, err);
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
                fprintf(stderr, "bench_tool: %s: the first change must have an after image\n", who);
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

void raw_changes_free(raw_set_t *set) {
        for (size_t i = 0; i < set->n; i++) {
                size_t n = set->changes[i].op == 'd' ? set->nkeys : set->ncols;
                for (size_t k = 0; k < n; k++)
                        free(set->changes[i].vals[k].s);
                free(set->changes[i].vals);
        }
        free(set->changes);
        json_decref(set->first);
}

int raw_changes_read(const char *lines_path, const char *who, raw_set_t *set) {
        memset(set, 0, sizeof(*set));
        FILE *f = fopen(lines_path, "r");
        char *line = malloc(RAW_LINE_MAX);
        int rc = -1;
        if (!f || !line) {
                fprintf(stderr, "bench_tool: %s: cannot read %s\n", who, lines_path);
                goto done;
        }
        rc = 0;
        while (rc == 0 && fgets(line, RAW_LINE_MAX, f))
                if (!sb_change_line_is_blank(line, strlen(line)))
                        rc = add_line(set, line, strlen(line), who);
        if (rc == 0 && set->n == 0) {
                fprintf(stderr, "bench_tool: %s: no changes in %s\n", who, lines_path);
                rc = -1;
        }
done:
        if (f)
                fclose(f);
        free(line);
        return rc;
}

/*
 * regd_compat: Avro schema compatibility (see regd_compat.h for the rules).
 *
 * One recursive walk over a (writer, reader) pair of schema nodes.  It does
 * not stop at the first problem: like Avro's SchemaCompatibility it reports
 * every one it finds, so that a refused registration lists all that must be
 * fixed.  Union branches of the reader are tried "quietly": a failed try is
 * not a problem, only the absence of any branch that reads the writer is.
 */
#include "regd_compat.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* A pair of records being checked or found compatible.  Recursive types
 * (a linked list's `next`) bring the walk back to a pair it is inside of:
 * that pair is taken as compatible for now, as Avro does, since any problem
 * in it is reported by the outer visit. */
typedef struct {
        const sb_node_t *w, *r;
} pair_t;

typedef struct {
        pair_t *v;
        size_t n, cap;
} pairs_t;

typedef struct {
        const sb_schema_t *ws, *rs;
        pairs_t open;   /* being checked further up, or found compatible under them */
        pairs_t bad;    /* found incompatible: that holds whatever was assumed */
        int quiet;      /* > 0 while trying reader union branches */
        int depth;      /* nesting of check() */
        int too_deep;   /* the depth bound was hit (reported once) */
        char path[512]; /* field path of the current node */
        size_t path_len;
        char at[600]; /* "field 'path': " or "" */
        size_t problems;
        char *why; /* first problem, for regd_compat_can_read */
        size_t why_size;
        json_t *messages;   /* every problem, for regd_compat_check */
        const char *prefix; /* put before each message */
} ctx_t;

static const char *level_names[] = {"NONE",           "BACKWARD",           "BACKWARD_TRANSITIVE",
                                    "FORWARD",        "FORWARD_TRANSITIVE", "FULL",
                                    "FULL_TRANSITIVE"};
#define N_LEVELS (sizeof(level_names) / sizeof(*level_names))

int regd_compat_level_parse(const char *name, regd_compat_level_t *out) {
        for (size_t i = 0; name && i < N_LEVELS; i++)
                if (strcasecmp(name, level_names[i]) == 0) {
                        *out = (regd_compat_level_t)i;
                        return 0;
                }
        return -1;
}

const char *regd_compat_level_name(regd_compat_level_t level) {
        return (size_t)level < N_LEVELS ? level_names[level] : "UNKNOWN";
}

/* ---- reporting ---- */

static void report(ctx_t *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void report(ctx_t *c, const char *fmt, ...) {
        char msg[1024];
        va_list ap;
        if (c->quiet)
                return;
        va_start(ap, fmt);
        vsnprintf(msg, sizeof(msg), fmt, ap);
        va_end(ap);
        if (c->problems++ == 0 && c->why && c->why_size)
                snprintf(c->why, c->why_size, "%s", msg);
        if (c->messages) {
                char full[1400];
                snprintf(full, sizeof(full), "%s%s", c->prefix ? c->prefix : "", msg);
                json_array_append_new(c->messages, json_string(full));
        }
}

/* Where the current node is, as a message prefix. */
static const char *at(ctx_t *c) {
        if (c->path_len)
                snprintf(c->at, sizeof(c->at), "field '%s': ", c->path);
        else
                c->at[0] = '\0';
        return c->at;
}

/* Appends to the path; returns the length to restore with path_pop. */
static size_t path_push(ctx_t *c, const char *sep, const char *name) {
        size_t mark = c->path_len;
        snprintf(c->path + mark, sizeof(c->path) - mark, "%s%s", mark ? sep : "", name);
        c->path_len = strlen(c->path);
        return mark;
}

static void path_pop(ctx_t *c, size_t mark) {
        c->path_len = mark;
        c->path[mark] = '\0';
}

/* "int", "int (date)", "record t.R", "union [null, string]". */
static void describe(const sb_node_t *n, char *out, size_t size) {
        sb_type_t t = sb_node_type(n);
        if (t == SB_T_RECORD || t == SB_T_ENUM || t == SB_T_FIXED) {
                snprintf(out, size, "%s %s", sb_schema_type_name(t), sb_node_name(n));
        } else if (t == SB_T_UNION) {
                size_t len = (size_t)snprintf(out, size, "union [");
                for (size_t i = 0; i < sb_node_count(n) && len < size; i++) {
                        char b[256];
                        describe(sb_node_child(n, i), b, sizeof(b));
                        len += (size_t)snprintf(out + len, size - len, "%s%s", i ? ", " : "", b);
                }
                if (len < size)
                        snprintf(out + len, size - len, "]");
        } else {
                sb_logical_t l = sb_node_logical(n);
                snprintf(out, size, "%s%s", sb_schema_type_name(t),
                         l == SB_LOGICAL_DATE               ? " (date)"
                         : l == SB_LOGICAL_TIMESTAMP_MILLIS ? " (timestamp-millis)"
                                                            : "");
        }
}

/* The JSON object defining a named type (its aliases, enum default and
 * fixed size live there).  sb_avro keeps it on the node, so no walk over
 * the document is needed (and none can loop on a recursive type). */
static const json_t *named_json(const sb_node_t *n) { return sb_node_json(n); }

static const char *unqualified(const char *fullname) {
        const char *dot = strrchr(fullname, '.');
        return dot ? dot + 1 : fullname;
}

/* Avro's rule: equal unqualified names, or a reader alias naming the writer's
 * fullname.  An alias without a dot is in the reader's namespace. */
static int names_match(ctx_t *c, const sb_node_t *w, const sb_node_t *r) {
        const char *wn = sb_node_name(w), *rn = sb_node_name(r);
        size_t ns_len = (size_t)(unqualified(rn) - rn); /* namespace plus its dot */
        if (strcmp(unqualified(wn), unqualified(rn)) == 0)
                return 1;
        const json_t *aliases = json_object_get(named_json(r), "aliases");
        for (size_t i = 0; i < json_array_size(aliases); i++) {
                const char *a = json_string_value(json_array_get(aliases, i));
                if (!a)
                        continue;
                if (strchr(a, '.') ? strcmp(a, wn) == 0
                                   : strncmp(wn, rn, ns_len) == 0 && strcmp(wn + ns_len, a) == 0)
                        return 1;
        }
        char wd[300], rd[300];
        describe(w, wd, sizeof(wd));
        describe(r, rd, sizeof(rd));
        report(c, "%swriter %s does not match reader %s: the names differ and no reader alias names %s",
               at(c), wd, rd, wn);
        return 0;
}

/* ---- the walk ---- */

static int check(ctx_t *c, const sb_node_t *w, const sb_node_t *r);

static int promotes(sb_type_t from, sb_type_t to) {
        switch (to) {
        case SB_T_LONG: return from == SB_T_INT;
        case SB_T_FLOAT: return from == SB_T_INT || from == SB_T_LONG;
        case SB_T_DOUBLE: return from == SB_T_INT || from == SB_T_LONG || from == SB_T_FLOAT;
        case SB_T_BYTES: return from == SB_T_STRING;
        case SB_T_STRING: return from == SB_T_BYTES;
        default: return 0;
        }
}

/* Types among which Avro has promotions: saying "cannot be promoted" helps
 * there; for null, boolean and complex types "does not match" is plainer. */
static int promotable_kind(sb_type_t t) { return t >= SB_T_INT && t <= SB_T_STRING; }

static int check_enum(ctx_t *c, const sb_node_t *w, const sb_node_t *r) {
        if (!names_match(c, w, r))
                return 0;
        /* A reader default stands in for any symbol the reader lacks; Avro only
         * honours a default that is one of the reader's own symbols. */
        const char *dflt = json_string_value(json_object_get(named_json(r), "default"));
        int has_default = 0, ok = 1;
        for (size_t i = 0; dflt && i < sb_node_count(r); i++)
                has_default |= strcmp(dflt, sb_node_symbol(r, i)) == 0;
        for (size_t i = 0; i < sb_node_count(w) && !has_default; i++) {
                const char *sym = sb_node_symbol(w, i);
                size_t k = 0;
                while (k < sb_node_count(r) && strcmp(sym, sb_node_symbol(r, k)) != 0)
                        k++;
                if (k == sb_node_count(r)) {
                        report(c,
                               "%senum %s: writer symbol '%s' is not in the reader and the reader has no "
                               "default",
                               at(c), sb_node_name(r), sym);
                        ok = 0;
                }
        }
        return ok;
}

static int check_fixed(ctx_t *c, const sb_node_t *w, const sb_node_t *r) {
        if (!names_match(c, w, r))
                return 0;
        json_int_t ws = json_integer_value(json_object_get(named_json(w), "size"));
        json_int_t rs = json_integer_value(json_object_get(named_json(r), "size"));
        if (ws == rs)
                return 1;
        report(c,
               "%sfixed %s: writer size %" JSON_INTEGER_FORMAT
               " differs from reader size %" JSON_INTEGER_FORMAT,
               at(c), sb_node_name(r), ws, rs);
        return 0;
}

static int check_fields(ctx_t *c, const sb_node_t *w, const sb_node_t *r) {
        int ok = 1;
        for (size_t i = 0; i < sb_node_count(r); i++) {
                const char *name = sb_node_field_name(r, i);
                const json_t *fj = sb_node_field_json(r, i);
                int wi = sb_node_field_index(w, name);
                /* A renamed field keeps its data when the reader lists the old
                 * name among the field's aliases. */
                const json_t *aliases = json_object_get(fj, "aliases");
                for (size_t k = 0; wi < 0 && k < json_array_size(aliases); k++) {
                        const char *a = json_string_value(json_array_get(aliases, k));
                        if (a)
                                wi = sb_node_field_index(w, a);
                }
                size_t mark = path_push(c, ".", name);
                if (wi >= 0) {
                        ok &= check(c, sb_node_child(w, (size_t)wi), sb_node_child(r, i));
                } else if (!json_object_get(fj, "default")) { /* "default": null is a default */
                        report(c, "reader field '%s' (record %s) has no default and is missing in the writer",
                               c->path, sb_node_name(r));
                        ok = 0;
                }
                path_pop(c, mark);
        }
        return ok;
}

static int pairs_has(const pairs_t *p, const sb_node_t *w, const sb_node_t *r) {
        for (size_t i = 0; i < p->n; i++)
                if (p->v[i].w == w && p->v[i].r == r)
                        return 1;
        return 0;
}

static int pairs_add(pairs_t *p, const sb_node_t *w, const sb_node_t *r) {
        if (p->n == p->cap) {
                size_t cap = p->cap ? 2 * p->cap : 16;
                pair_t *v = realloc(p->v, cap * sizeof(*v));
                if (!v)
                        return -1;
                p->v = v;
                p->cap = cap;
        }
        p->v[p->n++] = (pair_t){w, r};
        return 0;
}

static int check_record(ctx_t *c, const sb_node_t *w, const sb_node_t *r) {
        if (!names_match(c, w, r))
                return 0;
        if (pairs_has(&c->open, w, r))
                return 1; /* being checked further up, or already found compatible */
        /* A failure found while assuming pairs further up compatible is a
         * failure still (assuming more can only hide problems), so a quiet
         * try need not walk it again; a loud visit walks it to report. */
        if (c->quiet && pairs_has(&c->bad, w, r))
                return 0;
        size_t mine = c->open.n;
        if (pairs_add(&c->open, w, r)) {
                report(c, "%sout of memory while checking record %s", at(c), sb_node_name(r));
                return 0;
        }
        int ok = check_fields(c, w, r);
        /* On failure forget this pair and every pair entered below it: they
         * may have been judged on the assumption that this one was fine, and
         * a later (quiet) visit must not reuse that verdict. */
        if (!ok) {
                c->open.n = mine;
                if (!pairs_has(&c->bad, w, r))
                        (void)pairs_add(&c->bad, w, r); /* a lost memo only costs time */
        }
        return ok;
}

/* The reader branch whose failure explains why `w` fits no branch of the
 * reader union `r`: the branch of the same named type (by unqualified name)
 * or the same kind of complex type, else the only branch that is not null;
 * NULL if there is no such one branch. */
static const sb_node_t *explaining_branch(const sb_node_t *w, const sb_node_t *r) {
        sb_type_t wt = sb_node_type(w);
        const sb_node_t *only = NULL;
        size_t non_null = 0;
        for (size_t i = 0; i < sb_node_count(r); i++) {
                const sb_node_t *b = sb_node_child(r, i);
                sb_type_t bt = sb_node_type(b);
                if (bt == wt && (wt == SB_T_RECORD || wt == SB_T_ENUM || wt == SB_T_FIXED) &&
                    strcmp(unqualified(sb_node_name(b)), unqualified(sb_node_name(w))) == 0)
                        return b;
                if (bt == wt && (wt == SB_T_ARRAY || wt == SB_T_MAP))
                        return b; /* a union holds one array and one map at most */
                if (bt != SB_T_NULL) {
                        only = b;
                        non_null++;
                }
        }
        return non_null == 1 ? only : NULL;
}

/* Deeper than this many nested types, the walk stops and says so: a stack
 * of bounded size whatever the input.  Recursive types do not count: a pair
 * of records being checked is not entered again. */
#define MAX_DEPTH 128

static int check_at_depth(ctx_t *c, const sb_node_t *w, const sb_node_t *r) {
        sb_type_t wt = sb_node_type(w), rt = sb_node_type(r);
        char wd[600], rd[600];

        if (wt == SB_T_UNION) {
                /* The writer may have written any branch: each must be readable. */
                int ok = 1;
                for (size_t i = 0; i < sb_node_count(w); i++)
                        ok &= check(c, sb_node_child(w, i), r);
                return ok;
        }
        if (rt == SB_T_UNION) {
                int found = 0;
                c->quiet++;
                for (size_t i = 0; !found && i < sb_node_count(r); i++)
                        found = check(c, w, sb_node_child(r, i));
                c->quiet--;
                if (found || c->quiet)
                        return found;
                /* Say why the branch meant for this writer type fails, down
                 * to the field; only without such a branch the union itself. */
                const sb_node_t *b = explaining_branch(w, r);
                if (b && !check(c, w, b))
                        return 0;
                describe(w, wd, sizeof(wd));
                describe(r, rd, sizeof(rd));
                report(c, "%swriter type %s is not readable by any branch of the reader %s", at(c), wd, rd);
                return 0;
        }
        if (wt != rt) {
                if (promotes(wt, rt))
                        return 1;
                describe(w, wd, sizeof(wd));
                describe(r, rd, sizeof(rd));
                report(c, "%swriter type %s %s reader type %s", at(c), wd,
                       promotable_kind(wt) && promotable_kind(rt) ? "cannot be promoted to"
                                                                  : "does not match",
                       rd);
                return 0;
        }
        switch (rt) {
        case SB_T_ARRAY:
        case SB_T_MAP: {
                size_t mark = path_push(c, "", rt == SB_T_ARRAY ? "[]" : "{}");
                int ok = check(c, sb_node_child(w, 0), sb_node_child(r, 0));
                path_pop(c, mark);
                return ok;
        }
        case SB_T_ENUM: return check_enum(c, w, r);
        case SB_T_FIXED: return check_fixed(c, w, r);
        case SB_T_RECORD: return check_record(c, w, r);
        default: return 1; /* same primitive; logical types do not matter */
        }
}

static int check(ctx_t *c, const sb_node_t *w, const sb_node_t *r) {
        if (c->depth >= MAX_DEPTH) {
                if (!c->too_deep && !c->quiet) { /* said once, not per branch */
                        report(c, "%sschemas nested deeper than %d levels are not checked", at(c), MAX_DEPTH);
                        c->too_deep = 1;
                }
                return 0;
        }
        c->depth++;
        int ok = check_at_depth(c, w, r);
        c->depth--;
        return ok;
}

static int run(ctx_t *c, const sb_schema_t *writer, const sb_schema_t *reader) {
        c->ws = writer;
        c->rs = reader;
        int ok = check(c, sb_schema_root(writer), sb_schema_root(reader));
        free(c->open.v);
        free(c->bad.v);
        c->open = c->bad = (pairs_t){NULL, 0, 0};
        return ok;
}

int regd_compat_can_read(const sb_schema_t *writer, const sb_schema_t *reader, char *why, size_t why_size) {
        ctx_t c = {0};
        c.why = why;
        c.why_size = why_size;
        if (why && why_size)
                why[0] = '\0';
        int ok = run(&c, writer, reader);
        if (!ok && why && why_size && c.problems > 1) {
                size_t len = strlen(why);
                snprintf(why + len, why_size - len, "; and %zu more problem%s", c.problems - 1,
                         c.problems > 2 ? "s" : "");
        }
        return ok;
}

int regd_compat_check(regd_compat_level_t level, const sb_schema_t *candidate,
                      const sb_schema_t *const *existing, size_t n_existing, json_t *messages) {
        int backward = level == REGD_COMPAT_BACKWARD || level == REGD_COMPAT_BACKWARD_TRANSITIVE ||
                       level == REGD_COMPAT_FULL || level == REGD_COMPAT_FULL_TRANSITIVE;
        int forward = level == REGD_COMPAT_FORWARD || level == REGD_COMPAT_FORWARD_TRANSITIVE ||
                      level == REGD_COMPAT_FULL || level == REGD_COMPAT_FULL_TRANSITIVE;
        int transitive = level == REGD_COMPAT_BACKWARD_TRANSITIVE ||
                         level == REGD_COMPAT_FORWARD_TRANSITIVE || level == REGD_COMPAT_FULL_TRANSITIVE;
        int ok = 1;
        char prefix[128];
        if (n_existing == 0)
                return 1;
        for (size_t i = transitive ? 0 : n_existing - 1; i < n_existing; i++) {
                ctx_t c = {0};
                c.messages = messages;
                c.prefix = prefix;
                if (backward) {
                        snprintf(prefix, sizeof(prefix),
                                 "reading version %zu data with the new schema: ", i + 1);
                        ok &= run(&c, existing[i], candidate);
                }
                if (forward) {
                        snprintf(prefix, sizeof(prefix), "reading new-schema data with version %zu: ", i + 1);
                        ok &= run(&c, candidate, existing[i]);
                }
        }
        return ok;
}

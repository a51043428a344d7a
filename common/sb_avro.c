#include "sb_avro.h"

#include <errno.h>
#include <float.h>
#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

struct sb_node_s {
        sb_type_t type;
        sb_logical_t logical;
        char *name;           /* fullname of record/enum/fixed */
        size_t n;             /* fields, branches or symbols */
        char **names;         /* field names or enum symbols */
        sb_node_t **children; /* field types, union branches, items/values */
        json_t **field_json;  /* borrowed from the document */
        json_t *json;         /* defining object of a named type, borrowed */
        size_t fixed_size;
        sb_node_t *next_alloc;
};

struct sb_schema_s {
        json_t *doc;
        char *canonical;
        sb_node_t *root;
        sb_node_t *allocs; /* every node, for destroy */
        avro_schema_t avro;
        avro_value_iface_t *iface;
        avro_value_t value;
        int has_value;
};

static const char *type_names[] = {"null",   "boolean", "int",  "long",  "float", "double", "bytes",
                                   "string", "record",  "enum", "array", "map",   "union",  "fixed"};

const char *sb_type_name(sb_type_t type) { return type_names[type]; }

/* ---- parsing the schema tree ---- */

typedef struct {
        sb_schema_t *schema;
        char *errstr;
        size_t errstr_size;
} parse_ctx_t;

static sb_node_t *node_new(parse_ctx_t *ctx, sb_type_t type) {
        sb_node_t *n = calloc(1, sizeof(*n));
        if (!n)
                return NULL;
        n->type = type;
        n->next_alloc = ctx->schema->allocs;
        ctx->schema->allocs = n;
        return n;
}

static void node_free(sb_node_t *n) {
        if (n->names)
                for (size_t i = 0; i < n->n; i++)
                        free(n->names[i]);
        free(n->names);
        free(n->children);
        free(n->field_json);
        free(n->name);
        free(n);
}

static int primitive_type(const char *s, sb_type_t *t) {
        for (int i = SB_T_NULL; i <= SB_T_STRING; i++)
                if (strcmp(s, type_names[i]) == 0) {
                        *t = (sb_type_t)i;
                        return 1;
                }
        return 0;
}

static sb_node_t *find_named(parse_ctx_t *ctx, const char *name, const char *ns) {
        char full[512];
        if (!strchr(name, '.') && ns && *ns) {
                snprintf(full, sizeof(full), "%s.%s", ns, name);
                for (sb_node_t *n = ctx->schema->allocs; n; n = n->next_alloc)
                        if (n->name && strcmp(n->name, full) == 0)
                                return n;
        }
        for (sb_node_t *n = ctx->schema->allocs; n; n = n->next_alloc)
                if (n->name && strcmp(n->name, name) == 0)
                        return n;
        return NULL;
}

static sb_node_t *parse_node(parse_ctx_t *ctx, json_t *j, const char *ns);

static sb_node_t *parse_fail(parse_ctx_t *ctx, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static sb_node_t *parse_fail(parse_ctx_t *ctx, const char *fmt, ...) {
        char msg[256];
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(msg, sizeof(msg), fmt, ap);
        va_end(ap);
        sb_seterr(SB_ERR_SCHEMA, ctx->errstr, ctx->errstr_size, "%s", msg);
        return NULL;
}

static int set_fullname(sb_node_t *n, json_t *j, const char *ns, char *ns_out, size_t ns_out_size) {
        n->json = j;
        const char *name = json_string_value(json_object_get(j, "name"));
        const char *own_ns = json_string_value(json_object_get(j, "namespace"));
        char full[512];
        if (!name)
                return -1;
        /* A dotted name is already full; else the own namespace, else the
         * enclosing one, applies. */
        const char *space = strchr(name, '.') ? NULL : own_ns && *own_ns ? own_ns : ns;
        if (space && *space)
                snprintf(full, sizeof(full), "%s.%s", space, name);
        else
                snprintf(full, sizeof(full), "%s", name);
        n->name = strdup(full);
        /* The namespace of names inside is the one of this fullname. */
        const char *dot = strrchr(full, '.');
        snprintf(ns_out, ns_out_size, "%.*s", dot ? (int)(dot - full) : 0, full);
        return n->name ? 0 : -1;
}

static sb_node_t *parse_object(parse_ctx_t *ctx, json_t *j, const char *ns) {
        json_t *tj = json_object_get(j, "type");
        const char *type = json_string_value(tj);
        char inner_ns[512];
        sb_type_t prim;
        sb_node_t *n;

        if (!type) {
                if (tj && (json_is_object(tj) || json_is_array(tj)))
                        return parse_node(ctx, tj, ns);
                return parse_fail(ctx, "schema object without a \"type\"");
        }
        if (primitive_type(type, &prim)) {
                n = node_new(ctx, prim);
                if (!n)
                        return parse_fail(ctx, "out of memory");
                const char *lt = json_string_value(json_object_get(j, "logicalType"));
                if (lt && prim == SB_T_INT && strcmp(lt, "date") == 0)
                        n->logical = SB_LOGICAL_DATE;
                else if (lt && prim == SB_T_LONG && strcmp(lt, "timestamp-millis") == 0)
                        n->logical = SB_LOGICAL_TIMESTAMP_MILLIS;
                return n;
        }
        if (strcmp(type, "record") == 0 || strcmp(type, "error") == 0) {
                json_t *fields = json_object_get(j, "fields");
                if (!json_is_array(fields))
                        return parse_fail(ctx, "record without a \"fields\" array");
                n = node_new(ctx, SB_T_RECORD);
                if (!n || set_fullname(n, j, ns, inner_ns, sizeof(inner_ns)))
                        return parse_fail(ctx, "record without a name");
                n->n = json_array_size(fields);
                n->names = calloc(n->n + 1, sizeof(char *));
                n->children = calloc(n->n + 1, sizeof(sb_node_t *));
                n->field_json = calloc(n->n + 1, sizeof(json_t *));
                if (!n->names || !n->children || !n->field_json)
                        return parse_fail(ctx, "out of memory");
                for (size_t i = 0; i < n->n; i++) {
                        json_t *f = json_array_get(fields, i);
                        const char *fname = json_string_value(json_object_get(f, "name"));
                        if (!fname)
                                return parse_fail(ctx, "field without a name in record %s", n->name);
                        n->names[i] = strdup(fname);
                        n->field_json[i] = f;
                        if (!n->names[i])
                                return parse_fail(ctx, "out of memory");
                        for (size_t k = 0; k < i; k++)
                                if (strcmp(n->names[k], fname) == 0)
                                        return parse_fail(ctx, "record %s has two fields named '%s'", n->name,
                                                          fname);
                        n->children[i] = parse_node(ctx, json_object_get(f, "type"), inner_ns);
                        if (!n->children[i])
                                return NULL;
                }
                return n;
        }
        if (strcmp(type, "enum") == 0) {
                json_t *syms = json_object_get(j, "symbols");
                if (!json_is_array(syms))
                        return parse_fail(ctx, "enum without \"symbols\"");
                n = node_new(ctx, SB_T_ENUM);
                if (!n || set_fullname(n, j, ns, inner_ns, sizeof(inner_ns)))
                        return parse_fail(ctx, "enum without a name");
                n->n = json_array_size(syms);
                n->names = calloc(n->n + 1, sizeof(char *));
                if (!n->names)
                        return parse_fail(ctx, "out of memory");
                for (size_t i = 0; i < n->n; i++) {
                        const char *s = json_string_value(json_array_get(syms, i));
                        if (!s || !(n->names[i] = strdup(s)))
                                return parse_fail(ctx, "bad symbol in enum %s", n->name);
                        for (size_t k = 0; k < i; k++)
                                if (strcmp(n->names[k], s) == 0)
                                        return parse_fail(ctx, "enum %s lists a symbol twice", n->name);
                }
                return n;
        }
        if (strcmp(type, "fixed") == 0) {
                n = node_new(ctx, SB_T_FIXED);
                if (!n || set_fullname(n, j, ns, inner_ns, sizeof(inner_ns)))
                        return parse_fail(ctx, "fixed without a name");
                n->fixed_size = (size_t)json_integer_value(json_object_get(j, "size"));
                return n;
        }
        if (strcmp(type, "array") == 0 || strcmp(type, "map") == 0) {
                int is_array = type[0] == 'a';
                n = node_new(ctx, is_array ? SB_T_ARRAY : SB_T_MAP);
                if (!n || !(n->children = calloc(1, sizeof(sb_node_t *))))
                        return parse_fail(ctx, "out of memory");
                n->n = 1;
                n->children[0] = parse_node(ctx, json_object_get(j, is_array ? "items" : "values"), ns);
                return n->children[0] ? n : NULL;
        }
        /* {"type": "SomeNamedType"} */
        n = find_named(ctx, type, ns);
        return n ? n : parse_fail(ctx, "unknown type \"%s\"", type);
}

static sb_node_t *parse_node(parse_ctx_t *ctx, json_t *j, const char *ns) {
        sb_type_t prim;
        if (json_is_string(j)) {
                const char *s = json_string_value(j);
                if (primitive_type(s, &prim)) {
                        sb_node_t *n = node_new(ctx, prim);
                        return n ? n : parse_fail(ctx, "out of memory");
                }
                sb_node_t *n = find_named(ctx, s, ns);
                return n ? n : parse_fail(ctx, "unknown type \"%s\"", s);
        }
        if (json_is_object(j))
                return parse_object(ctx, j, ns);
        if (json_is_array(j)) {
                sb_node_t *n = node_new(ctx, SB_T_UNION);
                if (!n)
                        return parse_fail(ctx, "out of memory");
                n->n = json_array_size(j);
                n->children = calloc(n->n + 1, sizeof(sb_node_t *));
                if (!n->children)
                        return parse_fail(ctx, "out of memory");
                for (size_t i = 0; i < n->n; i++) {
                        sb_node_t *b = parse_node(ctx, json_array_get(j, i), ns);
                        if (!(n->children[i] = b))
                                return NULL;
                        /* The spec: no union directly in a union, and no two
                         * branches of the same type (or same name). */
                        if (b->type == SB_T_UNION)
                                return parse_fail(ctx, "a union may not contain a union");
                        for (size_t k = 0; k < i; k++) {
                                const sb_node_t *o = n->children[k];
                                if (o->type == b->type && (!b->name || strcmp(o->name, b->name) == 0))
                                        return parse_fail(ctx, "a union lists type %s twice",
                                                          b->name ? b->name : type_names[b->type]);
                        }
                }
                return n;
        }
        return parse_fail(ctx, "a type must be a string, object or array");
}

sb_err_t sb_schema_new(const char *json, size_t len, sb_schema_t **out, char *errstr, size_t errstr_size) {
        json_error_t jerr;
        sb_schema_t *s = calloc(1, sizeof(*s));
        *out = NULL;
        if (!s)
                return sb_seterr(SB_ERR_NOMEM, errstr, errstr_size, "out of memory");
        s->doc = json_loadb(json, len, JSON_DECODE_ANY, &jerr);
        if (!s->doc) {
                sb_schema_destroy(s);
                return sb_seterr(SB_ERR_SCHEMA, errstr, errstr_size, "schema is not JSON: line %d: %s",
                                 jerr.line, jerr.text);
        }
        /* avro-c validates the schema as Avro defines it. */
        if (avro_schema_from_json_length(json, len, &s->avro)) {
                sb_seterr(SB_ERR_SCHEMA, errstr, errstr_size, "invalid Avro schema: %s", avro_strerror());
                s->avro = NULL;
                sb_schema_destroy(s);
                return SB_ERR_SCHEMA;
        }
        parse_ctx_t ctx = {s, errstr, errstr_size};
        s->root = parse_node(&ctx, s->doc, "");
        s->canonical = json_dumps(s->doc, JSON_COMPACT | JSON_SORT_KEYS | JSON_ENCODE_ANY);
        s->iface = avro_generic_class_from_schema(s->avro);
        if (!s->root || !s->canonical || !s->iface) {
                sb_err_t err = s->root ? sb_seterr(SB_ERR_SCHEMA, errstr, errstr_size,
                                                   "cannot use schema: %s", avro_strerror())
                                       : SB_ERR_SCHEMA;
                sb_schema_destroy(s);
                return err;
        }
        if (avro_generic_value_new(s->iface, &s->value)) {
                sb_schema_destroy(s);
                return sb_seterr(SB_ERR_NOMEM, errstr, errstr_size, "out of memory");
        }
        s->has_value = 1;
        *out = s;
        return SB_OK;
}

sb_err_t sb_schema_new_from_file(const char *path, sb_schema_t **out, char *errstr, size_t errstr_size) {
        FILE *f = fopen(path, "rb");
        sb_buf_t buf;
        char chunk[4096];
        size_t n;
        *out = NULL;
        if (!f)
                return sb_seterr(SB_ERR_IO, errstr, errstr_size, "%s: %s", path, strerror(errno));
        sb_buf_init(&buf, 16 * 1024 * 1024);
        while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0)
                if (sb_buf_append(&buf, chunk, n)) {
                        fclose(f);
                        sb_buf_free(&buf);
                        return sb_seterr(SB_ERR_NOMEM, errstr, errstr_size, "%s: too large", path);
                }
        fclose(f);
        char inner[512];
        sb_err_t err = sb_schema_new((const char *)buf.data, buf.len, out, inner, sizeof(inner));
        if (err)
                sb_seterr(err, errstr, errstr_size, "%s: %s", path, inner);
        sb_buf_free(&buf);
        return err;
}

void sb_schema_destroy(sb_schema_t *s) {
        if (!s)
                return;
        if (s->has_value)
                avro_value_decref(&s->value);
        if (s->iface)
                avro_value_iface_decref(s->iface);
        if (s->avro)
                avro_schema_decref(s->avro);
        while (s->allocs) {
                sb_node_t *next = s->allocs->next_alloc;
                node_free(s->allocs);
                s->allocs = next;
        }
        free(s->canonical);
        json_decref(s->doc);
        free(s);
}

const char *sb_schema_json(const sb_schema_t *s) { return s->canonical; }
const json_t *sb_schema_document(const sb_schema_t *s) { return s->doc; }
const sb_node_t *sb_schema_root(const sb_schema_t *s) { return s->root; }

sb_type_t sb_node_type(const sb_node_t *n) { return n->type; }
sb_logical_t sb_node_logical(const sb_node_t *n) { return n->logical; }
const json_t *sb_node_json(const sb_node_t *n) { return n->json; }
const char *sb_node_name(const sb_node_t *n) { return n->name; }
size_t sb_node_count(const sb_node_t *n) { return n->n; }
const char *sb_node_field_name(const sb_node_t *n, size_t i) {
        return n->type == SB_T_RECORD && i < n->n ? n->names[i] : NULL;
}
const json_t *sb_node_field_json(const sb_node_t *n, size_t i) {
        return n->type == SB_T_RECORD && i < n->n ? n->field_json[i] : NULL;
}
const sb_node_t *sb_node_child(const sb_node_t *n, size_t i) {
        return n->children && i < n->n ? n->children[i] : NULL;
}
const char *sb_node_symbol(const sb_node_t *n, size_t i) {
        return n->type == SB_T_ENUM && i < n->n ? n->names[i] : NULL;
}
int sb_node_field_index(const sb_node_t *n, const char *name) {
        if (n->type != SB_T_RECORD)
                return -1;
        for (size_t i = 0; i < n->n; i++)
                if (strcmp(n->names[i], name) == 0)
                        return (int)i;
        return -1;
}
const sb_node_t *sb_node_unwrap_nullable(const sb_node_t *n) {
        if (n->type == SB_T_UNION && n->n == 2) {
                if (n->children[0]->type == SB_T_NULL)
                        return n->children[1];
                if (n->children[1]->type == SB_T_NULL)
                        return n->children[0];
        }
        return n;
}

/* ---- dates ---- */

/* Days from 1970-01-01 to y-m-d in the proleptic Gregorian calendar. */
static int64_t days_from_civil(int64_t y, unsigned m, unsigned d) {
        y -= m <= 2;
        const int64_t era = (y >= 0 ? y : y - 399) / 400;
        const unsigned yoe = (unsigned)(y - era * 400);
        const unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
        const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
        return era * 146097 + (int64_t)doe - 719468;
}

static void civil_from_days(int64_t z, int64_t *y, unsigned *m, unsigned *d) {
        z += 719468;
        const int64_t era = (z >= 0 ? z : z - 146096) / 146097;
        const unsigned doe = (unsigned)(z - era * 146097);
        const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
        const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
        const unsigned mp = (5 * doy + 2) / 153;
        *d = doy - (153 * mp + 2) / 5 + 1;
        *m = mp < 10 ? mp + 3 : mp - 9;
        *y = (int64_t)yoe + era * 400 + (*m <= 2);
}

static int days_in_month(int64_t y, unsigned m) {
        static const int dm[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
        int leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
        return m == 2 && leap ? 29 : dm[m - 1];
}

/* Parses "YYYY-MM-DD"; returns the number of characters used, 0 if bad. */
/* Reads exactly `n` decimal digits (no sign, no blanks). */
static int digits(const char *s, int n, int *out) {
        int v = 0;
        for (int i = 0; i < n; i++) {
                if (s[i] < '0' || s[i] > '9')
                        return 0;
                v = v * 10 + (s[i] - '0');
        }
        *out = v;
        return 1;
}

/* Parses "YYYY-MM-DD"; returns the number of characters used, 0 if bad. */
static int parse_date(const char *s, int64_t *days) {
        int y, m, d;
        if (!digits(s, 4, &y) || s[4] != '-' || !digits(s + 5, 2, &m) || s[7] != '-' ||
            !digits(s + 8, 2, &d) || m < 1 || m > 12 || d < 1 || d > days_in_month(y, (unsigned)m))
                return 0;
        *days = days_from_civil(y, (unsigned)m, (unsigned)d);
        return 10;
}

/* Parses "YYYY-MM-DDTHH:MM:SS[.fff]Z" (or +00:00) into ms since the epoch. */
static int parse_timestamp(const char *s, int64_t *ms) {
        int64_t days;
        int hh, mm, ss, frac = 0;
        if (!parse_date(s, &days) || (s[10] != 'T' && s[10] != ' '))
                return 0;
        s += 11;
        if (!digits(s, 2, &hh) || s[2] != ':' || !digits(s + 3, 2, &mm) || s[5] != ':' ||
            !digits(s + 6, 2, &ss) || hh > 23 || mm > 59 || ss > 60)
                return 0;
        s += 8;
        if (*s == '.') {
                int n = 0;
                for (s++; *s >= '0' && *s <= '9'; s++, n++)
                        if (n < 3)
                                frac = frac * 10 + (*s - '0');
                if (n == 0)
                        return 0;
                for (; n < 3; n++)
                        frac *= 10;
        }
        if (strcmp(s, "Z") != 0 && strcmp(s, "+00:00") != 0)
                return 0;
        *ms = ((days * 24 + hh) * 60 + mm) * 60000LL + ss * 1000LL + frac;
        return 1;
}

void sb_format_date(int64_t days, char *out, size_t size) {
        int64_t y;
        unsigned m, d;
        civil_from_days(days, &y, &m, &d);
        snprintf(out, size, "%04" PRId64 "-%02u-%02u", y, m, d);
}

void sb_format_timestamp_ms(int64_t ms, char *out, size_t size) {
        /* Floor division without negating: INT64_MIN must not overflow. */
        int64_t days = ms / 86400000, rem = ms % 86400000;
        if (rem < 0) {
                days--;
                rem += 86400000;
        }
        char date[32];
        sb_format_date(days, date, sizeof(date));
        snprintf(out, size, "%sT%02d:%02d:%02d.%03dZ", date, (int)(rem / 3600000), (int)(rem / 60000 % 60),
                 (int)(rem / 1000 % 60), (int)(rem % 1000));
}

/* ---- JSON -> Avro ---- */

/* The path of the value being converted ("after.address" or "lines[3].qty"),
 * kept as a stack of segments and only rendered into text on an error: the
 * happy path formats nothing. */
#define SB_PATH_DEPTH 64
typedef struct {
        const char *name; /* field or map key; NULL for an array index */
        size_t index;
} path_seg_t;

typedef struct {
        path_seg_t seg[SB_PATH_DEPTH];
        int depth;
        char *errstr;
        size_t errstr_size;
} conv_ctx_t;

static void path_push(conv_ctx_t *c, const char *name, size_t index) {
        if (c->depth < SB_PATH_DEPTH)
                c->seg[c->depth] = (path_seg_t){name, index};
        c->depth++;
}

static void path_render(const conv_ctx_t *c, char *out, size_t size) {
        size_t len = 0;
        out[0] = 0;
        for (int i = 0; i < c->depth && i < SB_PATH_DEPTH && len < size; i++) {
                int n = c->seg[i].name ? snprintf(out + len, size - len, "%s%s", i ? "." : "", c->seg[i].name)
                                       : snprintf(out + len, size - len, "[%zu]", c->seg[i].index);
                len += n > 0 ? (size_t)n : 0;
        }
        if (!out[0])
                snprintf(out, size, "(value)");
}

const char *sb_json_kind(const json_t *j) {
        switch (json_typeof(j)) {
        case JSON_OBJECT: return "object";
        case JSON_ARRAY: return "array";
        case JSON_STRING: return "string";
        case JSON_INTEGER: return "integer";
        case JSON_REAL: return "number";
        case JSON_TRUE:
        case JSON_FALSE: return "boolean";
        case JSON_NULL: return "null";
        }
        return "?";
}

static sb_err_t conv_fail(conv_ctx_t *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static sb_err_t conv_fail(conv_ctx_t *c, const char *fmt, ...) {
        char msg[256];
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(msg, sizeof(msg), fmt, ap);
        va_end(ap);
        char path[256];
        path_render(c, path, sizeof(path));
        return sb_seterr(SB_ERR_INVALID, c->errstr, c->errstr_size, "%s: %s", path, msg);
}

static sb_err_t expect(conv_ctx_t *c, const char *what, const json_t *j) {
        return conv_fail(c, "expected %s, got %s", what, sb_json_kind(j));
}

/* Decodes a JSON string of code points 0..255 into bytes. */
static sb_err_t latin1_bytes(conv_ctx_t *c, const json_t *j, sb_buf_t *out) {
        const unsigned char *s = (const unsigned char *)json_string_value(j);
        size_t len = json_string_length(j);
        for (size_t i = 0; i < len; i++) {
                unsigned char b = s[i];
                if (b >= 0x80) {
                        if ((b & 0xE0) != 0xC0 || i + 1 >= len || b > 0xC3)
                                return conv_fail(c, "bytes must be code points 0..255");
                        b = (unsigned char)(((b & 0x1F) << 6) | (s[++i] & 0x3F));
                }
                if (sb_buf_append(out, &b, 1))
                        return conv_fail(c, "out of memory");
        }
        return SB_OK;
}

static sb_err_t to_avro(conv_ctx_t *c, const sb_node_t *n, const json_t *j, avro_value_t *v);

static sb_err_t record_to_avro(conv_ctx_t *c, const sb_node_t *n, const json_t *j, avro_value_t *v) {
        if (!json_is_object(j))
                return expect(c, "an object", j);
        size_t present = 0;
        for (size_t i = 0; i < n->n; i++) {
                avro_value_t child;
                const json_t *fv = json_object_get(j, n->names[i]);
                present += fv != NULL;
                if (!fv)
                        fv = json_object_get(n->field_json[i], "default");
                path_push(c, n->names[i], 0);
                if (!fv)
                        return conv_fail(c, "missing required field");
                if (avro_value_get_by_index(v, i, &child, NULL))
                        return conv_fail(c, "%s", avro_strerror());
                sb_err_t err = to_avro(c, n->children[i], fv, &child);
                if (err)
                        return err;
                c->depth--;
        }
        /* More members than fields found: one of them is no field. */
        if (json_object_size(j) > present) {
                const char *key;
                json_t *val;
                json_object_foreach((json_t *)j, key, val) {
                        if (sb_node_field_index(n, key) < 0) {
                                path_push(c, key, 0);
                                return conv_fail(c, "unknown field (record %s has no such field)", n->name);
                        }
                }
        }
        return SB_OK;
}

static sb_err_t union_to_avro(conv_ctx_t *c, const sb_node_t *n, const json_t *j, avro_value_t *v) {
        avro_value_t branch;
        char first_err[512] = "";
        /* The plain value first: the first branch it fits, as Avro's
         * resolution picks a branch. */
        for (size_t i = 0; i < n->n; i++) {
                const sb_node_t *b = n->children[i];
                if ((b->type == SB_T_NULL) != json_is_null(j))
                        continue;
                if (avro_value_set_branch(v, (int)i, &branch) || avro_value_reset(&branch))
                        return conv_fail(c, "%s", avro_strerror());
                char *saved = c->errstr;
                size_t saved_size = c->errstr_size;
                char err_here[512] = "";
                c->errstr = err_here;
                c->errstr_size = sizeof(err_here);
                int depth = c->depth;
                sb_err_t err = to_avro(c, b, j, &branch);
                c->errstr = saved;
                c->errstr_size = saved_size;
                c->depth = depth;
                if (!err)
                        return SB_OK;
                if (!first_err[0])
                        snprintf(first_err, sizeof(first_err), "%s", err_here);
        }
        /* Avro's own JSON form: {"branch type name": value}. */
        if (json_is_object(j) && json_object_size(j) == 1) {
                const char *key = json_object_iter_key(json_object_iter((json_t *)j));
                for (size_t i = 0; i < n->n; i++) {
                        const sb_node_t *b = n->children[i];
                        const char *bname = b->name ? b->name : type_names[b->type];
                        if (strcmp(key, bname) == 0) {
                                /* Setting the branch a failed attempt left keeps its
                                 * partial value: clear it. */
                                if (avro_value_set_branch(v, (int)i, &branch) || avro_value_reset(&branch))
                                        return conv_fail(c, "%s", avro_strerror());
                                return to_avro(c, b, json_object_get(j, key), &branch);
                        }
                }
        }
        if (first_err[0])
                return sb_seterr(SB_ERR_INVALID, c->errstr, c->errstr_size, "%s", first_err);
        return json_is_null(j) ? conv_fail(c, "null is not allowed here")
                               : expect(c, "a value of the union's types", j);
}

static sb_err_t to_avro(conv_ctx_t *c, const sb_node_t *n, const json_t *j, avro_value_t *v) {
        int rc = 0;
        switch (n->type) {
        case SB_T_NULL:
                if (!json_is_null(j))
                        return expect(c, "null", j);
                rc = avro_value_set_null(v);
                break;
        case SB_T_BOOLEAN:
                if (!json_is_boolean(j))
                        return expect(c, "true or false", j);
                rc = avro_value_set_boolean(v, json_is_true(j));
                break;
        case SB_T_INT: {
                int64_t days;
                if (n->logical == SB_LOGICAL_DATE && json_is_string(j)) {
                        if (!parse_date(json_string_value(j), &days) || json_string_length(j) != 10)
                                return conv_fail(c, "'%s' is not a date YYYY-MM-DD", json_string_value(j));
                        rc = avro_value_set_int(v, (int32_t)days);
                        break;
                }
                if (!json_is_integer(j))
                        return expect(
                                c, n->logical == SB_LOGICAL_DATE ? "a date \"YYYY-MM-DD\"" : "an integer", j);
                json_int_t x = json_integer_value(j);
                if (x < INT32_MIN || x > INT32_MAX)
                        return conv_fail(c, "%" JSON_INTEGER_FORMAT " does not fit in an int (32 bits)", x);
                rc = avro_value_set_int(v, (int32_t)x);
                break;
        }
        case SB_T_LONG: {
                int64_t ms;
                if (n->logical == SB_LOGICAL_TIMESTAMP_MILLIS && json_is_string(j)) {
                        if (!parse_timestamp(json_string_value(j), &ms))
                                return conv_fail(c, "'%s' is not a UTC timestamp YYYY-MM-DDTHH:MM:SS[.mmm]Z",
                                                 json_string_value(j));
                        rc = avro_value_set_long(v, ms);
                        break;
                }
                if (!json_is_integer(j))
                        return expect(c,
                                      n->logical == SB_LOGICAL_TIMESTAMP_MILLIS
                                              ? "a timestamp \"YYYY-MM-DDTHH:MM:SSZ\""
                                              : "an integer",
                                      j);
                rc = avro_value_set_long(v, json_integer_value(j));
                break;
        }
        case SB_T_FLOAT:
        case SB_T_DOUBLE:
                if (!json_is_number(j))
                        return expect(c, "a number", j);
                if (n->type == SB_T_FLOAT && fabs(json_number_value(j)) > FLT_MAX)
                        return conv_fail(c, "%g does not fit in a float (32 bits)", json_number_value(j));
                rc = n->type == SB_T_FLOAT ? avro_value_set_float(v, (float)json_number_value(j))
                                           : avro_value_set_double(v, json_number_value(j));
                break;
        case SB_T_STRING:
                if (!json_is_string(j))
                        return expect(c, "a string", j);
                {
                        /* Lend the JSON string to avro-c instead of copying it: the
                         * JSON value outlives the write of this datum. */
                        avro_wrapped_buffer_t wb;
                        rc = avro_wrapped_buffer_new(&wb, json_string_value(j), json_string_length(j) + 1);
                        if (!rc)
                                rc = avro_value_give_string_len(v, &wb);
                }
                break;
        case SB_T_BYTES:
        case SB_T_FIXED: {
                sb_buf_t b;
                if (!json_is_string(j))
                        return expect(c, "a string of bytes", j);
                sb_buf_init(&b, SIZE_MAX / 2);
                sb_err_t err = latin1_bytes(c, j, &b);
                if (!err && n->type == SB_T_FIXED && b.len != n->fixed_size)
                        err = conv_fail(c, "fixed %s takes %zu bytes, got %zu", n->name, n->fixed_size,
                                        b.len);
                if (!err)
                        rc = n->type == SB_T_FIXED
                                     ? avro_value_set_fixed(v, b.data ? b.data : (void *)"", b.len)
                                     : avro_value_set_bytes(v, b.data ? b.data : (void *)"", b.len);
                sb_buf_free(&b);
                if (err)
                        return err;
                break;
        }
        case SB_T_ENUM:
                if (!json_is_string(j))
                        return expect(c, "an enum symbol", j);
                for (size_t i = 0; i < n->n; i++)
                        if (strcmp(n->names[i], json_string_value(j)) == 0)
                                return avro_value_set_enum(v, (int)i) ? conv_fail(c, "%s", avro_strerror())
                                                                      : SB_OK;
                return conv_fail(c, "'%s' is not a symbol of enum %s", json_string_value(j), n->name);
        case SB_T_RECORD: return record_to_avro(c, n, j, v);
        case SB_T_UNION: return union_to_avro(c, n, j, v);
        case SB_T_ARRAY: {
                size_t i;
                json_t *item;
                if (!json_is_array(j))
                        return expect(c, "an array", j);
                json_array_foreach((json_t *)j, i, item) {
                        avro_value_t child;
                        path_push(c, NULL, i);
                        if (avro_value_append(v, &child, NULL))
                                return conv_fail(c, "%s", avro_strerror());
                        sb_err_t err = to_avro(c, n->children[0], item, &child);
                        if (err)
                                return err;
                        c->depth--;
                }
                break;
        }
        case SB_T_MAP: {
                const char *key;
                json_t *item;
                if (!json_is_object(j))
                        return expect(c, "an object (map)", j);
                json_object_foreach((json_t *)j, key, item) {
                        avro_value_t child;
                        path_push(c, key, 0);
                        if (avro_value_add(v, key, &child, NULL, NULL))
                                return conv_fail(c, "%s", avro_strerror());
                        sb_err_t err = to_avro(c, n->children[0], item, &child);
                        if (err)
                                return err;
                        c->depth--;
                }
                break;
        }
        }
        return rc ? conv_fail(c, "%s", avro_strerror()) : SB_OK;
}

sb_err_t sb_avro_encode(sb_schema_t *s, const json_t *value, sb_buf_t *out, char *errstr,
                        size_t errstr_size) {
        conv_ctx_t c = {.errstr = errstr, .errstr_size = errstr_size};
        size_t size;
        avro_value_reset(&s->value);
        sb_err_t err = to_avro(&c, s->root, value, &s->value);
        if (err)
                return err;
        if (avro_value_sizeof(&s->value, &size))
                return sb_seterr(SB_ERR_SCHEMA, errstr, errstr_size, "%s", avro_strerror());
        uint8_t *dest;
        if (sb_buf_extend(out, size, &dest))
                return sb_seterr(SB_ERR_NOMEM, errstr, errstr_size, "out of memory");
        avro_writer_t w = avro_writer_memory((const char *)dest, (int64_t)size);
        if (!w)
                return sb_seterr(SB_ERR_NOMEM, errstr, errstr_size, "out of memory");
        int rc = avro_value_write(w, &s->value);
        avro_writer_free(w);
        if (rc)
                return sb_seterr(SB_ERR_SCHEMA, errstr, errstr_size, "avro write: %s", avro_strerror());
        return SB_OK;
}

/* ---- Avro -> JSON ---- */

static json_t *from_avro(conv_ctx_t *c, const sb_node_t *n, avro_value_t *v) {
        char tmp[64];
        switch (n->type) {
        case SB_T_NULL: return json_null();
        case SB_T_BOOLEAN: {
                int b = 0;
                avro_value_get_boolean(v, &b);
                return json_boolean(b);
        }
        case SB_T_INT: {
                int32_t x = 0;
                avro_value_get_int(v, &x);
                if (n->logical == SB_LOGICAL_DATE) {
                        sb_format_date(x, tmp, sizeof(tmp));
                        return json_string(tmp);
                }
                return json_integer(x);
        }
        case SB_T_LONG: {
                int64_t x = 0;
                avro_value_get_long(v, &x);
                if (n->logical == SB_LOGICAL_TIMESTAMP_MILLIS) {
                        sb_format_timestamp_ms(x, tmp, sizeof(tmp));
                        return json_string(tmp);
                }
                return json_integer(x);
        }
        case SB_T_FLOAT: {
                float x = 0;
                avro_value_get_float(v, &x);
                return json_real(x);
        }
        case SB_T_DOUBLE: {
                double x = 0;
                avro_value_get_double(v, &x);
                return isfinite(x) ? json_real(x) : json_null();
        }
        case SB_T_STRING: {
                const char *s = NULL;
                size_t size = 0;
                avro_value_get_string(v, &s, &size);
                return json_stringn(s ? s : "", size ? size - 1 : 0);
        }
        case SB_T_BYTES:
        case SB_T_FIXED: {
                const void *p = NULL;
                size_t size = 0;
                sb_buf_t b;
                if (n->type == SB_T_FIXED)
                        avro_value_get_fixed(v, &p, &size);
                else
                        avro_value_get_bytes(v, &p, &size);
                sb_buf_init(&b, SIZE_MAX / 2);
                for (size_t i = 0; i < size; i++) {
                        unsigned char ch = ((const unsigned char *)p)[i];
                        unsigned char u[2] = {(unsigned char)(0xC0 | (ch >> 6)),
                                              (unsigned char)(0x80 | (ch & 0x3F))};
                        if (ch < 0x80 ? sb_buf_append(&b, &ch, 1) : sb_buf_append(&b, u, 2)) {
                                sb_buf_free(&b);
                                return NULL;
                        }
                }
                json_t *r = json_stringn(b.data ? (const char *)b.data : "", b.len);
                sb_buf_free(&b);
                return r;
        }
        case SB_T_ENUM: {
                int idx = 0;
                avro_value_get_enum(v, &idx);
                return idx >= 0 && (size_t)idx < n->n ? json_string(n->names[idx]) : NULL;
        }
        case SB_T_RECORD: {
                json_t *o = json_object();
                for (size_t i = 0; o && i < n->n; i++) {
                        avro_value_t child;
                        json_t *cj;
                        if (avro_value_get_by_index(v, i, &child, NULL) ||
                            !(cj = from_avro(c, n->children[i], &child)) ||
                            json_object_set_new(o, n->names[i], cj)) {
                                json_decref(o);
                                return NULL;
                        }
                }
                return o;
        }
        case SB_T_UNION: {
                int disc = 0;
                avro_value_t branch;
                if (avro_value_get_discriminant(v, &disc) || disc < 0 || (size_t)disc >= n->n ||
                    avro_value_get_current_branch(v, &branch))
                        return NULL;
                return from_avro(c, n->children[disc], &branch);
        }
        case SB_T_ARRAY: {
                size_t size = 0;
                json_t *a = json_array();
                avro_value_get_size(v, &size);
                for (size_t i = 0; a && i < size; i++) {
                        avro_value_t child;
                        json_t *cj;
                        if (avro_value_get_by_index(v, i, &child, NULL) ||
                            !(cj = from_avro(c, n->children[0], &child)) || json_array_append_new(a, cj)) {
                                json_decref(a);
                                return NULL;
                        }
                }
                return a;
        }
        case SB_T_MAP: {
                size_t size = 0;
                json_t *o = json_object();
                avro_value_get_size(v, &size);
                for (size_t i = 0; o && i < size; i++) {
                        avro_value_t child;
                        const char *key = NULL;
                        json_t *cj;
                        if (avro_value_get_by_index(v, i, &child, &key) ||
                            !(cj = from_avro(c, n->children[0], &child)) || json_object_set_new(o, key, cj)) {
                                json_decref(o);
                                return NULL;
                        }
                }
                return o;
        }
        }
        return NULL;
}

/* ---- checking Avro binary before avro-c reads it ---- */

/* avro-c 1.11 allocates the length a string or bytes value announces before
 * reading it, and leaks it when the body is shorter: a 6-byte poison record
 * could cost megabytes.  So a body is walked against the schema first,
 * allocating nothing, and only a well-formed one is handed to avro-c. */
static int read_varint(const uint8_t **p, const uint8_t *end, int64_t *out) {
        uint64_t v = 0;
        for (int shift = 0; *p < end && shift < 64; shift += 7) {
                uint8_t b = *(*p)++;
                v |= (uint64_t)(b & 0x7f) << shift;
                if (!(b & 0x80)) {
                        *out = (int64_t)(v >> 1) ^ -(int64_t)(v & 1);
                        return 1;
                }
        }
        return 0;
}

static int min_width(const sb_node_t *n) {
        return n->type == SB_T_NULL || (n->type == SB_T_RECORD && n->n == 0) ||
                               (n->type == SB_T_FIXED && n->fixed_size == 0)
                       ? 0
                       : 1;
}

static const char *check_binary(const sb_node_t *n, const uint8_t **p, const uint8_t *end, int depth) {
        int64_t x;
        const char *why;
        if (depth > 256)
                return "value nested too deep";
        switch (n->type) {
        case SB_T_NULL: return NULL;
        case SB_T_BOOLEAN:
                if (*p >= end || **p > 1)
                        return "bad boolean";
                (*p)++;
                return NULL;
        case SB_T_INT:
        case SB_T_LONG:
        case SB_T_ENUM:
                if (!read_varint(p, end, &x))
                        return "truncated or overlong number";
                if (n->type == SB_T_INT && (x < INT32_MIN || x > INT32_MAX))
                        return "int out of range";
                if (n->type == SB_T_ENUM && (x < 0 || (size_t)x >= n->n))
                        return "enum index out of range";
                return NULL;
        case SB_T_FLOAT:
        case SB_T_DOUBLE: {
                size_t w = n->type == SB_T_FLOAT ? 4 : 8;
                if ((size_t)(end - *p) < w)
                        return "truncated number";
                *p += w;
                return NULL;
        }
        case SB_T_BYTES:
        case SB_T_STRING:
                if (!read_varint(p, end, &x) || x < 0 || x > end - *p)
                        return "string or bytes length beyond the body";
                *p += x;
                return NULL;
        case SB_T_FIXED:
                if ((size_t)(end - *p) < n->fixed_size)
                        return "truncated fixed";
                *p += n->fixed_size;
                return NULL;
        case SB_T_RECORD:
                for (size_t i = 0; i < n->n; i++)
                        if ((why = check_binary(n->children[i], p, end, depth + 1)))
                                return why;
                return NULL;
        case SB_T_UNION:
                if (!read_varint(p, end, &x) || x < 0 || (size_t)x >= n->n)
                        return "union branch index out of range";
                return check_binary(n->children[x], p, end, depth + 1);
        case SB_T_ARRAY:
        case SB_T_MAP: {
                int64_t items = 0,
                        cap = min_width(n->children[0]) || n->type == SB_T_MAP ? end - *p : 1 << 20;
                for (;;) {
                        int64_t count, block_size;
                        if (!read_varint(p, end, &count))
                                return "truncated block count";
                        if (count == 0)
                                return NULL;
                        if (count < 0) {
                                if (count == INT64_MIN || !read_varint(p, end, &block_size) || block_size < 0)
                                        return "bad block size";
                                count = -count;
                        }
                        if (count > cap - items)
                                return "more items than the body can hold";
                        items += count;
                        for (int64_t i = 0; i < count; i++) {
                                if (n->type == SB_T_MAP) {
                                        if (!read_varint(p, end, &x) || x < 0 || x > end - *p)
                                                return "map key length beyond the body";
                                        *p += x;
                                }
                                if ((why = check_binary(n->children[0], p, end, depth + 1)))
                                        return why;
                        }
                }
        }
        }
        return "unknown type";
}

sb_err_t sb_avro_decode(sb_schema_t *s, const void *data, size_t len, json_t **out, char *errstr,
                        size_t errstr_size) {
        conv_ctx_t c = {.errstr = errstr, .errstr_size = errstr_size};
        *out = NULL;
        const uint8_t *p = data, *end = p + len;
        const char *why = check_binary(s->root, &p, end, 0);
        if (why)
                return sb_seterr(SB_ERR_INVALID, errstr, errstr_size,
                                 "Avro body does not match the schema: %s", why);
        if (p != end)
                return sb_seterr(SB_ERR_INVALID, errstr, errstr_size,
                                 "Avro body has %zu bytes after the value", (size_t)(end - p));
        avro_value_reset(&s->value);
        avro_reader_t r = avro_reader_memory((const char *)data, (int64_t)len);
        if (!r)
                return sb_seterr(SB_ERR_NOMEM, errstr, errstr_size, "out of memory");
        int rc = avro_value_read(r, &s->value);
        avro_reader_free(r);
        if (rc)
                return sb_seterr(SB_ERR_INVALID, errstr, errstr_size,
                                 "Avro body does not match the schema: %s", avro_strerror());
        *out = from_avro(&c, s->root, &s->value);
        if (!*out)
                return sb_seterr(SB_ERR_INVALID, errstr, errstr_size,
                                 "Avro body holds a value the schema cannot express");
        return SB_OK;
}

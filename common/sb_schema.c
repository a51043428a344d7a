#include "sb_schema.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sb_buf.h"

struct sb_node_s {
        sb_type_t type;
        sb_logical_t logical;
        int has_value;        /* a finite value of this type exists */
        char *name;           /* fullname of record/enum/fixed */
        size_t n;             /* fields, branches or symbols */
        char **names;         /* field names or enum symbols */
        size_t *name_lens;    /* strlen of each field name (records) */
        sb_node_t **children; /* field types, union branches, items/values */
        json_t **field_json;  /* borrowed from the document */
        json_t *json;         /* defining object of a named type, borrowed */
        size_t fixed_size;
        size_t walk_field; /* explain_no_value: the field taken, + 1 */
};

struct sb_schema_s {
        json_t *doc;
        char *canonical;
        sb_node_t *root;
        /* Every node once, in the order of definition: the tree may share
         * nodes and contain cycles, so it is freed from here. */
        sb_node_t **nodes;
        size_t n_nodes, cap_nodes;
        char no_value[256]; /* why the root has no finite value, or "" */
        avro_schema_t avro;
        avro_value_iface_t *iface;
        avro_value_t value;
        int has_value;
};

static const char *sb_type_names[] = {"null",   "boolean", "int",  "long",  "float", "double", "bytes",
                                      "string", "record",  "enum", "array", "map",   "union",  "fixed"};

const char *sb_schema_type_name(sb_type_t type) { return sb_type_names[type]; }

/* ---- parsing the schema tree ---- */

typedef struct {
        sb_schema_t *schema;
        char *errstr;
        size_t errstr_size;
} parse_ctx_t;

static sb_node_t *node_new(parse_ctx_t *ctx, sb_type_t type) {
        sb_schema_t *s = ctx->schema;
        if (s->n_nodes == s->cap_nodes) {
                size_t cap = s->cap_nodes ? 2 * s->cap_nodes : 16;
                sb_node_t **grown = realloc(s->nodes, cap * sizeof(sb_node_t *));
                if (!grown)
                        return NULL;
                s->nodes = grown;
                s->cap_nodes = cap;
        }
        sb_node_t *n = calloc(1, sizeof(*n));
        if (!n)
                return NULL;
        n->type = type;
        s->nodes[s->n_nodes++] = n;
        return n;
}

static void node_free(sb_node_t *n) {
        if (n->names)
                for (size_t i = 0; i < n->n; i++)
                        free(n->names[i]);
        free(n->names);
        free(n->name_lens);
        free(n->children);
        free(n->field_json);
        free(n->name);
        free(n);
}

static int primitive_type(const char *s, sb_type_t *t) {
        for (int i = SB_T_NULL; i <= SB_T_STRING; i++)
                if (strcmp(s, sb_type_names[i]) == 0) {
                        *t = (sb_type_t)i;
                        return 1;
                }
        return 0;
}

/* The named type `name` defined so far (the latest definition wins), or
 * NULL.  A record's own name is defined before its fields are parsed, so a
 * reference to it from inside is the record node itself: a cycle. */
static sb_node_t *find_named(parse_ctx_t *ctx, const char *name, const char *ns) {
        const sb_schema_t *s = ctx->schema;
        char full[512];
        if (!strchr(name, '.') && ns && *ns) {
                snprintf(full, sizeof(full), "%s.%s", ns, name);
                for (size_t i = s->n_nodes; i-- > 0;)
                        if (s->nodes[i]->name && strcmp(s->nodes[i]->name, full) == 0)
                                return s->nodes[i];
        }
        for (size_t i = s->n_nodes; i-- > 0;)
                if (s->nodes[i]->name && strcmp(s->nodes[i]->name, name) == 0)
                        return s->nodes[i];
        return NULL;
}

static sb_node_t *parse_node(parse_ctx_t *ctx, json_t *j, const char *ns, int depth);

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

static sb_node_t *parse_object(parse_ctx_t *ctx, json_t *j, const char *ns, int depth) {
        json_t *tj = json_object_get(j, "type");
        const char *type = json_string_value(tj);
        char inner_ns[512];
        sb_type_t prim;
        sb_node_t *n;

        if (!type) {
                if (tj && (json_is_object(tj) || json_is_array(tj)))
                        return parse_node(ctx, tj, ns, depth + 1);
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
                n->name_lens = calloc(n->n + 1, sizeof(size_t));
                n->children = calloc(n->n + 1, sizeof(sb_node_t *));
                n->field_json = calloc(n->n + 1, sizeof(json_t *));
                if (!n->names || !n->name_lens || !n->children || !n->field_json)
                        return parse_fail(ctx, "out of memory");
                for (size_t i = 0; i < n->n; i++) {
                        json_t *f = json_array_get(fields, i);
                        const char *fname = json_string_value(json_object_get(f, "name"));
                        if (!fname)
                                return parse_fail(ctx, "field without a name in record %s", n->name);
                        n->names[i] = strdup(fname);
                        n->name_lens[i] = strlen(fname);
                        n->field_json[i] = f;
                        if (!n->names[i])
                                return parse_fail(ctx, "out of memory");
                        for (size_t k = 0; k < i; k++)
                                if (strcmp(n->names[k], fname) == 0)
                                        return parse_fail(ctx, "record %s has two fields named '%s'", n->name,
                                                          fname);
                        n->children[i] = parse_node(ctx, json_object_get(f, "type"), inner_ns, depth + 1);
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
                n->children[0] =
                        parse_node(ctx, json_object_get(j, is_array ? "items" : "values"), ns, depth + 1);
                return n->children[0] ? n : NULL;
        }
        /* {"type": "SomeNamedType"} */
        n = find_named(ctx, type, ns);
        return n ? n : parse_fail(ctx, "unknown type \"%s\"", type);
}

static sb_node_t *parse_node(parse_ctx_t *ctx, json_t *j, const char *ns, int depth) {
        sb_type_t prim;
        if (depth > SB_SCHEMA_MAX_DEPTH)
                return parse_fail(ctx, "types nested deeper than %d levels", SB_SCHEMA_MAX_DEPTH);
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
                return parse_object(ctx, j, ns, depth);
        if (json_is_array(j)) {
                sb_node_t *n = node_new(ctx, SB_T_UNION);
                if (!n)
                        return parse_fail(ctx, "out of memory");
                n->n = json_array_size(j);
                n->children = calloc(n->n + 1, sizeof(sb_node_t *));
                if (!n->children)
                        return parse_fail(ctx, "out of memory");
                for (size_t i = 0; i < n->n; i++) {
                        sb_node_t *b = parse_node(ctx, json_array_get(j, i), ns, depth + 1);
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
                                                          b->name ? b->name : sb_type_names[b->type]);
                        }
                }
                return n;
        }
        return parse_fail(ctx, "a type must be a string, object or array");
}

/* avro-c's parser recurses once per nested type through the members it
 * reads (a union's branches, a record's fields' types, items, values; and
 * parse_node also a "type" that is an object or array), and jansson allows
 * 2048 levels of JSON: check the nesting before either parser runs. */
static int type_depth_ok(const json_t *j, int depth) {
        if (depth > SB_SCHEMA_MAX_DEPTH)
                return 0;
        if (json_is_array(j)) {
                for (size_t i = 0; i < json_array_size(j); i++)
                        if (!type_depth_ok(json_array_get(j, i), depth + 1))
                                return 0;
                return 1;
        }
        if (!json_is_object(j))
                return 1;
        const json_t *t = json_object_get(j, "type"), *fields = json_object_get(j, "fields");
        if ((json_is_object(t) || json_is_array(t)) && !type_depth_ok(t, depth + 1))
                return 0;
        for (size_t i = 0; i < json_array_size(fields); i++)
                if (!type_depth_ok(json_object_get(json_array_get(fields, i), "type"), depth + 1))
                        return 0;
        return type_depth_ok(json_object_get(j, "items"), depth + 1) &&
               type_depth_ok(json_object_get(j, "values"), depth + 1);
}

/* The fullname a named type's definition `j` gets inside namespace `ns`
 * (as set_fullname computes it) into `out`; 0, or -1 without a name. */
static int definition_name(const json_t *j, const char *ns, char *out, size_t size, char *inner,
                           size_t isize) {
        const char *name = json_string_value(json_object_get(j, "name"));
        const char *own_ns = json_string_value(json_object_get(j, "namespace"));
        if (!name)
                return -1;
        const char *space = strchr(name, '.') ? NULL : own_ns && *own_ns ? own_ns : ns;
        snprintf(out, size, "%s%s%s", space && *space ? space : "", space && *space ? "." : "", name);
        const char *dot = strrchr(out, '.');
        snprintf(inner, isize, "%.*s", dot ? (int)(dot - out) : 0, out);
        return 0;
}

/* Whether no named type is defined twice, walking the types as
 * type_depth_ok does (after it: the nesting is bounded) and collecting the
 * fullnames defined in `seen`.  avro-c refuses a second definition too
 * ("Cannot save record schema"), but leaks the types it built on the way,
 * so a registry fed such schemas would grow; it must never see one.
 * `dup` gets the name defined twice. */
static int names_unique(const json_t *j, const char *ns, json_t *seen, char *dup, size_t dup_size) {
        if (json_is_array(j)) {
                for (size_t i = 0; i < json_array_size(j); i++)
                        if (!names_unique(json_array_get(j, i), ns, seen, dup, dup_size))
                                return 0;
                return 1;
        }
        if (!json_is_object(j))
                return 1;
        const json_t *t = json_object_get(j, "type"), *fields = json_object_get(j, "fields");
        const char *type = json_string_value(t);
        char full[512], inner[512];
        snprintf(inner, sizeof(inner), "%s", ns);
        if (type &&
            (!strcmp(type, "record") || !strcmp(type, "error") || !strcmp(type, "enum") ||
             !strcmp(type, "fixed")) &&
            definition_name(j, ns, full, sizeof(full), inner, sizeof(inner)) == 0) {
                if (json_object_get(seen, full)) {
                        snprintf(dup, dup_size, "%s", full);
                        return 0;
                }
                if (json_object_set_new(seen, full, json_true()))
                        return 1; /* out of memory: avro-c fails as well, or parses */
        }
        if ((json_is_object(t) || json_is_array(t)) && !names_unique(t, ns, seen, dup, dup_size))
                return 0;
        for (size_t i = 0; json_is_array(fields) && i < json_array_size(fields); i++)
                if (!names_unique(json_object_get(json_array_get(fields, i), "type"), inner, seen, dup,
                                  dup_size))
                        return 0;
        return names_unique(json_object_get(j, "items"), ns, seen, dup, dup_size) &&
               names_unique(json_object_get(j, "values"), ns, seen, dup, dup_size);
}

/* Which types have a finite value: the least fixed point of "primitives,
 * enums, fixed, arrays and maps (empty) do; a record does when all its
 * fields do; a union when one of its branches does".  Passes over the node
 * list in the order of definition instead of a walk over the tree, which
 * may be cyclic: a reference is to a type defined earlier, so each pass
 * settles at least one more level of inline nesting, and nesting is
 * bounded by SB_SCHEMA_MAX_DEPTH. */
static void mark_has_value(sb_schema_t *s) {
        for (int changed = 1; changed;) {
                changed = 0;
                for (size_t k = 0; k < s->n_nodes; k++) {
                        sb_node_t *n = s->nodes[k];
                        int v = n->type != SB_T_RECORD && n->type != SB_T_UNION;
                        if (n->has_value)
                                continue;
                        if (n->type == SB_T_RECORD) {
                                v = 1;
                                for (size_t i = 0; i < n->n && v; i++)
                                        v = n->children[i]->has_value;
                        }
                        for (size_t i = 0; n->type == SB_T_UNION && i < n->n && !v; i++)
                                v = n->children[i]->has_value;
                        if (v)
                                n->has_value = changed = 1;
                }
        }
}

/* Why the root type has no finite value, naming the cycle: from the root,
 * follow a field without a value (a union's branches all lack one) until a
 * record comes round again.  Each record is entered at most once. */
static void explain_no_value(sb_schema_t *s) {
        sb_node_t *n = s->root;
        for (size_t steps = 0; steps <= s->n_nodes; steps++) {
                if (n->type == SB_T_UNION) {
                        if (n->n == 0)
                                break;
                        n = n->children[0];
                        continue;
                }
                if (n->type != SB_T_RECORD)
                        break;
                if (n->walk_field) {
                        snprintf(s->no_value, sizeof(s->no_value),
                                 "record '%s' contains itself through field '%s' with no null, array or map "
                                 "on "
                                 "the way: it has no finite value",
                                 n->name, n->names[n->walk_field - 1]);
                        return;
                }
                size_t i = 0;
                while (i < n->n && n->children[i]->has_value)
                        i++;
                if (i == n->n)
                        break;
                n->walk_field = i + 1;
                n = n->children[i];
        }
        snprintf(s->no_value, sizeof(s->no_value), "the schema's type has no finite value");
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
                if (json_error_code(&jerr) == json_error_stack_overflow)
                        return sb_seterr(SB_ERR_SCHEMA, errstr, errstr_size,
                                         "invalid Avro schema: JSON nested deeper than %d levels",
                                         JSON_PARSER_MAX_DEPTH);
                return sb_seterr(SB_ERR_SCHEMA, errstr, errstr_size, "schema is not JSON: line %d: %s",
                                 jerr.line, jerr.text);
        }
        if (!type_depth_ok(s->doc, 0)) {
                sb_schema_destroy(s);
                return sb_seterr(SB_ERR_SCHEMA, errstr, errstr_size,
                                 "invalid Avro schema: types nested deeper than %d levels",
                                 SB_SCHEMA_MAX_DEPTH);
        }
        json_t *seen = json_object();
        char dup[512] = "";
        int unique = !seen || names_unique(s->doc, "", seen, dup, sizeof(dup));
        json_decref(seen);
        if (!unique) {
                sb_schema_destroy(s);
                return sb_seterr(SB_ERR_SCHEMA, errstr, errstr_size,
                                 "invalid Avro schema: type '%s' is defined twice", dup);
        }
        /* avro-c validates the schema as Avro defines it. */
        if (avro_schema_from_json_length(json, len, &s->avro)) {
                sb_seterr(SB_ERR_SCHEMA, errstr, errstr_size, "invalid Avro schema: %s", avro_strerror());
                s->avro = NULL;
                sb_schema_destroy(s);
                return SB_ERR_SCHEMA;
        }
        parse_ctx_t ctx = {s, errstr, errstr_size};
        s->root = parse_node(&ctx, s->doc, "", 0);
        s->canonical = json_dumps(s->doc, JSON_COMPACT | JSON_SORT_KEYS | JSON_ENCODE_ANY);
        /* avro-c's classes memoize named types, so building them terminates
         * on recursive schemas; only values are created eagerly (see
         * sb_schema_avro_value). */
        s->iface = avro_generic_class_from_schema(s->avro);
        if (!s->root || !s->canonical || !s->iface) {
                sb_err_t err = s->root ? sb_seterr(SB_ERR_SCHEMA, errstr, errstr_size,
                                                   "cannot use schema: %s", avro_strerror())
                                       : SB_ERR_SCHEMA;
                sb_schema_destroy(s);
                return err;
        }
        mark_has_value(s);
        if (!s->root->has_value)
                explain_no_value(s);
        *out = s;
        return SB_OK;
}

sb_err_t sb_schema_avro_value(sb_schema_t *s, avro_value_t **out, char *errstr, size_t errstr_size) {
        *out = NULL;
        /* A record's avro-c value creates its fields' values at once, so a
         * type without a finite value would recurse until the stack ends. */
        if (!s->root->has_value)
                return sb_seterr(SB_ERR_SCHEMA, errstr, errstr_size, "%s", s->no_value);
        if (!s->has_value) {
                if (avro_generic_value_new(s->iface, &s->value))
                        return sb_seterr(SB_ERR_NOMEM, errstr, errstr_size, "cannot create an Avro value: %s",
                                         avro_strerror());
                s->has_value = 1;
        }
        *out = &s->value;
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
        for (size_t i = 0; i < s->n_nodes; i++)
                node_free(s->nodes[i]);
        free(s->nodes);
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
size_t sb_node_fixed_size(const sb_node_t *n) { return n->type == SB_T_FIXED ? n->fixed_size : 0; }
int sb_node_has_value(const sb_node_t *n) { return n->has_value; }
const char *sb_node_field_name(const sb_node_t *n, size_t i) {
        return n->type == SB_T_RECORD && i < n->n ? n->names[i] : NULL;
}
int sb_node_field_is(const sb_node_t *n, size_t i, const char *name, size_t len) {
        return n->type == SB_T_RECORD && i < n->n && n->name_lens[i] == len &&
               memcmp(n->names[i], name, len) == 0;
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

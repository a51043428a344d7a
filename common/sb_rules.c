#include "sb_rules.h"

#include <math.h>
#include <regex.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "sb_checks.h"
#include "sb_json.h"
#include "sb_pattern.h"

static const char *const class_names[] = {"public", "internal", "sensitive", "personal"};

const char *sb_class_name(sb_class_t cls) {
        return (unsigned)cls < sizeof(class_names) / sizeof(*class_names) ? class_names[cls] : "internal";
}

int sb_class_parse(const char *name, sb_class_t *out) {
        for (size_t i = 0; name && i < sizeof(class_names) / sizeof(*class_names); i++)
                if (strcmp(name, class_names[i]) == 0) {
                        *out = (sb_class_t)i;
                        return 0;
                }
        return -1;
}

sb_err_t sb_field_class(const sb_node_t *record, size_t i, sb_class_t *out, char *errstr,
                        size_t errstr_size) {
        const json_t *c = json_object_get(sb_node_field_json(record, i), "sharebus.classification");
        *out = SB_CLASS_INTERNAL;
        if (!c)
                return SB_OK;
        if (!json_is_string(c) || sb_class_parse(json_string_value(c), out))
                return sb_seterr(SB_ERR_SCHEMA, errstr, errstr_size,
                                 "%s.%s: sharebus.classification: unknown classification %s%s%s (public, "
                                 "internal, sensitive or personal)",
                                 sb_node_name(record), sb_node_field_name(record, i),
                                 json_is_string(c) ? "'" : "",
                                 json_is_string(c) ? json_string_value(c) : "(not a string)",
                                 json_is_string(c) ? "'" : "");
        return SB_OK;
}

const sb_node_t *sb_rules_record(const sb_schema_t *schema) {
        const sb_node_t *root = sb_schema_root(schema);
        if (!root || sb_node_type(root) != SB_T_RECORD)
                return NULL;
        int before = sb_node_field_index(root, "before"), after = sb_node_field_index(root, "after");
        if (before >= 0 && after >= 0 && sb_node_field_index(root, "op") >= 0) {
                const sb_node_t *a = sb_node_child(root, (size_t)after);
                const sb_node_t *row = sb_node_unwrap_nullable(a);
                if (sb_node_type(a) == SB_T_UNION && row != a && sb_node_type(row) == SB_T_RECORD)
                        return row;
        }
        return root;
}

/* ---- compiling ---- */

enum { CHECKSUM_NONE, CHECKSUM_USCC, CHECKSUM_RESIDENT_ID };
static const char *const checksum_names[] = {"", "cn_uscc", "cn_resident_id"};

typedef struct {
        char *name;
        sb_class_t cls;
        sb_type_t type; /* of the value: the non-null branch of a nullable union */
        sb_logical_t logical;
        char *branch;  /* that branch's name in Avro's {"branch": v} form, if a union */
        json_t *def;   /* the field's default (owned), or NULL */
        int has_rules; /* a rule other than classification */
        int required;
        char *pattern;      /* as written, or NULL */
        regex_t re;         /* compiled ^(pattern)$, if pattern */
        sb_pattern_t *fast; /* the same without regexec, if the pattern allows (owned), or NULL */
        json_t *enum_vals;  /* owned array, or NULL */
        json_t *min, *max;  /* owned numbers, or NULL */
        long long min_len;  /* -1: none */
        long long max_len;  /* -1: none */
        int checksum;
} field_rules_t;

struct sb_rules_s {
        size_t n;
        field_rules_t *fields;
};

static void field_clear(field_rules_t *f) {
        free(f->name);
        free(f->branch);
        json_decref(f->def);
        if (f->pattern)
                regfree(&f->re);
        free(f->pattern);
        sb_pattern_destroy(f->fast);
        json_decref(f->enum_vals);
        json_decref(f->min);
        json_decref(f->max);
}

void sb_rules_destroy(sb_rules_t *r) {
        if (!r)
                return;
        for (size_t i = 0; i < r->n; i++)
                field_clear(&r->fields[i]);
        free(r->fields);
        free(r);
}

static const char *type_desc(const field_rules_t *f) {
        if (f->logical == SB_LOGICAL_DATE)
                return "date";
        if (f->logical == SB_LOGICAL_TIMESTAMP_MILLIS)
                return "timestamp-millis";
        return sb_schema_type_name(f->type);
}

static int is_numeric(sb_type_t t) {
        return t == SB_T_INT || t == SB_T_LONG || t == SB_T_FLOAT || t == SB_T_DOUBLE;
}

/* The non-negative integer value of a length rule, or -1. */
static long long length_value(const json_t *v) {
        if (json_is_integer(v) && json_integer_value(v) >= 0)
                return (long long)json_integer_value(v);
        if (json_is_real(v) && json_real_value(v) >= 0 && json_real_value(v) <= 1e15 &&
            floor(json_real_value(v)) == json_real_value(v))
                return (long long)json_real_value(v);
        return -1;
}

/* Error of field f of record rec: "<record>.<field>: sharebus.rules: ...". */
#define RULE_FAIL(...)                                                                                       \
        do {                                                                                                 \
                char msg_[400];                                                                              \
                snprintf(msg_, sizeof(msg_), __VA_ARGS__);                                                   \
                return sb_seterr(SB_ERR_SCHEMA, errstr, errstr_size, "%s.%s: sharebus.rules: %s",            \
                                 sb_node_name(rec), f->name, msg_);                                          \
        } while (0)

static sb_err_t compile_pattern(const sb_node_t *rec, field_rules_t *f, const char *pattern, char *errstr,
                                size_t errstr_size) {
        for (const char *p = pattern; *p; p++)
                if (*p == '\\' && p[1]) {
                        if (p[1] >= '1' && p[1] <= '9')
                                RULE_FAIL("pattern '%s': back-references are not supported", pattern);
                        p++;
                }
        size_t len = strlen(pattern);
        char *anchored = malloc(len + 5);
        if (!anchored)
                return sb_seterr(SB_ERR_NOMEM, errstr, errstr_size, "out of memory");
        snprintf(anchored, len + 5, "^(%s)$", pattern);
        int rc = regcomp(&f->re, anchored, REG_EXTENDED | REG_NOSUB);
        free(anchored);
        if (rc != 0) {
                char why[200];
                regerror(rc, &f->re, why, sizeof(why));
                RULE_FAIL("pattern '%s' is not a POSIX extended regular expression: %s", pattern, why);
        }
        if (!(f->pattern = strdup(pattern))) {
                regfree(&f->re);
                return sb_seterr(SB_ERR_NOMEM, errstr, errstr_size, "out of memory");
        }
        /* regcomp above still validates the pattern and words its errors;
         * a fixed-length pattern is then matched without it. */
        return sb_pattern_new(pattern, &f->fast, errstr, errstr_size);
}

static sb_err_t compile_rule(const sb_node_t *rec, const sb_node_t *type, field_rules_t *f, const char *name,
                             const json_t *v, char *errstr, size_t errstr_size) {
        int is_string = f->type == SB_T_STRING;
        if (strcmp(name, "required") == 0) {
                if (!json_is_boolean(v))
                        RULE_FAIL("required must be true or false");
                f->required = json_is_true(v);
        } else if (strcmp(name, "pattern") == 0) {
                if (!json_is_string(v))
                        RULE_FAIL("pattern must be a string");
                if (!is_string)
                        RULE_FAIL("pattern applies to strings, not to %s", type_desc(f));
                if (f->pattern)
                        RULE_FAIL("pattern given twice");
                return compile_pattern(rec, f, json_string_value(v), errstr, errstr_size);
        } else if (strcmp(name, "enum") == 0) {
                size_t i;
                const json_t *e;
                int numeric = is_numeric(f->type);
                if (!is_string && f->type != SB_T_ENUM && !numeric)
                        RULE_FAIL("enum applies to strings, enums and numbers, not to %s", type_desc(f));
                if (!json_is_array(v) || json_array_size(v) == 0)
                        RULE_FAIL("enum must be a non-empty array of the allowed values");
                json_array_foreach(v, i, e) {
                        if (numeric ? !json_is_number(e) : !json_is_string(e))
                                RULE_FAIL("enum value %zu must be a %s", i, numeric ? "number" : "string");
                        if (f->type == SB_T_ENUM) {
                                size_t k = 0;
                                while (k < sb_node_count(type) &&
                                       strcmp(sb_node_symbol(type, k), json_string_value(e)) != 0)
                                        k++;
                                if (k == sb_node_count(type))
                                        RULE_FAIL("enum value '%s' is not a symbol of %s",
                                                  json_string_value(e), sb_node_name(type));
                        }
                }
                json_decref(f->enum_vals);
                if (!(f->enum_vals = json_deep_copy(v)))
                        return sb_seterr(SB_ERR_NOMEM, errstr, errstr_size, "out of memory");
        } else if (strcmp(name, "min") == 0 || strcmp(name, "max") == 0) {
                if (!json_is_number(v))
                        RULE_FAIL("%s must be a number", name);
                if (!is_numeric(f->type) || f->logical != SB_LOGICAL_NONE)
                        RULE_FAIL("%s applies to numbers, not to %s", name, type_desc(f));
                json_t **slot = name[1] == 'i' ? &f->min : &f->max;
                json_decref(*slot);
                if (!(*slot = json_deep_copy(v)))
                        return sb_seterr(SB_ERR_NOMEM, errstr, errstr_size, "out of memory");
        } else if (strcmp(name, "minLength") == 0 || strcmp(name, "maxLength") == 0) {
                long long n = length_value(v);
                if (n < 0)
                        RULE_FAIL("%s must be a non-negative integer", name);
                if (!is_string)
                        RULE_FAIL("%s applies to strings, not to %s", name, type_desc(f));
                *(name[1] == 'i' ? &f->min_len : &f->max_len) = n;
        } else if (strcmp(name, "checksum") == 0) {
                const char *s = json_string_value(v);
                f->checksum = CHECKSUM_NONE;
                for (int k = CHECKSUM_USCC; s && k <= CHECKSUM_RESIDENT_ID; k++)
                        if (strcmp(s, checksum_names[k]) == 0)
                                f->checksum = k;
                if (f->checksum == CHECKSUM_NONE)
                        RULE_FAIL("unknown checksum %s%s%s (cn_uscc or cn_resident_id)", s ? "'" : "",
                                  s ? s : "(not a string)", s ? "'" : "");
                if (!is_string)
                        RULE_FAIL("checksum applies to strings, not to %s", type_desc(f));
        } else {
                RULE_FAIL("unknown rule '%s' (required, pattern, enum, min, max, minLength, maxLength, "
                          "checksum)",
                          name);
        }
        return SB_OK;
}

static sb_err_t compile_field(const sb_node_t *rec, size_t i, field_rules_t *f, char *errstr,
                              size_t errstr_size) {
        const json_t *fj = sb_node_field_json(rec, i);
        const sb_node_t *t = sb_node_child(rec, i);
        const sb_node_t *u = sb_node_unwrap_nullable(t);
        const json_t *rules = json_object_get(fj, "sharebus.rules"), *def = json_object_get(fj, "default");
        const char *name;
        const json_t *v;
        sb_err_t err;

        f->min_len = f->max_len = -1;
        if (!(f->name = strdup(sb_node_field_name(rec, i))))
                return sb_seterr(SB_ERR_NOMEM, errstr, errstr_size, "out of memory");
        f->type = sb_node_type(u);
        f->logical = sb_node_logical(u);
        if (u != t && !(f->branch = strdup(sb_node_name(u) ? sb_node_name(u) : sb_schema_type_name(f->type))))
                return sb_seterr(SB_ERR_NOMEM, errstr, errstr_size, "out of memory");
        if (def && !(f->def = json_deep_copy(def)))
                return sb_seterr(SB_ERR_NOMEM, errstr, errstr_size, "out of memory");
        if ((err = sb_field_class(rec, i, &f->cls, errstr, errstr_size)))
                return err;
        if (!rules)
                return SB_OK;
        if (!json_is_object(rules))
                RULE_FAIL("must be an object of rules");
        json_object_foreach((json_t *)rules, name, v) {
                if ((err = compile_rule(rec, u, f, name, v, errstr, errstr_size)))
                        return err;
        }
        if (f->min && f->max && json_number_value(f->min) > json_number_value(f->max))
                RULE_FAIL("min is above max");
        if (f->min_len >= 0 && f->max_len >= 0 && f->min_len > f->max_len)
                RULE_FAIL("minLength is above maxLength");
        f->has_rules = f->required || f->pattern || f->enum_vals || f->min || f->max || f->min_len >= 0 ||
                       f->max_len >= 0 || f->checksum;
        return SB_OK;
}

sb_err_t sb_rules_new(const sb_node_t *record, sb_rules_t **out, char *errstr, size_t errstr_size) {
        *out = NULL;
        if (!record || sb_node_type(record) != SB_T_RECORD)
                return sb_seterr(SB_ERR_SCHEMA, errstr, errstr_size, "rules are carried by a record");
        const json_t *owner = json_object_get(sb_node_json(record), "sharebus.owner");
        if (owner && !json_is_string(owner))
                return sb_seterr(SB_ERR_SCHEMA, errstr, errstr_size, "%s: sharebus.owner must be a string",
                                 sb_node_name(record));
        sb_rules_t *r = calloc(1, sizeof(*r));
        if (!r || !(r->fields = calloc(sb_node_count(record) + 1, sizeof(*r->fields)))) {
                free(r);
                return sb_seterr(SB_ERR_NOMEM, errstr, errstr_size, "out of memory");
        }
        for (size_t i = 0; i < sb_node_count(record); i++) {
                r->n = i + 1; /* field i is cleared by destroy, even half-compiled */
                sb_err_t err = compile_field(record, i, &r->fields[i], errstr, errstr_size);
                if (err) {
                        sb_rules_destroy(r);
                        return err;
                }
        }
        r->n = sb_node_count(record);
        *out = r;
        return SB_OK;
}

size_t sb_rules_count(const sb_rules_t *r) { return r->n; }
const char *sb_rules_field_name(const sb_rules_t *r, size_t i) { return i < r->n ? r->fields[i].name : NULL; }
sb_class_t sb_rules_class(const sb_rules_t *r, size_t i) {
        return i < r->n ? r->fields[i].cls : SB_CLASS_INTERNAL;
}
sb_class_t sb_rules_class_of(const sb_rules_t *r, const char *field) {
        for (size_t i = 0; i < r->n; i++)
                if (strcmp(r->fields[i].name, field) == 0)
                        return r->fields[i].cls;
        return SB_CLASS_INTERNAL;
}

/* ---- checking ---- */

/* A value as the checks see it: its JSON kind and, for a string or a number,
 * its content.  Both entry points (a jansson row, sb_rules_check; a value
 * read straight from text, sb_rules_check_field) come down to it, so they
 * say the same things about the same value. */
static const char *const kind_names[] = {
        [SB_RULES_ABSENT] = "null",     [SB_RULES_NULL] = "null",   [SB_RULES_BOOLEAN] = "boolean",
        [SB_RULES_INTEGER] = "integer", [SB_RULES_REAL] = "number", [SB_RULES_STRING] = "string",
        [SB_RULES_OBJECT] = "object",   [SB_RULES_ARRAY] = "array",
};

static sb_rules_value_t value_of_json(const json_t *v) {
        sb_rules_value_t r = {.kind = SB_RULES_ABSENT};
        switch (v ? json_typeof(v) : JSON_NULL) {
        case JSON_NULL: r.kind = v ? SB_RULES_NULL : SB_RULES_ABSENT; break;
        case JSON_TRUE:
        case JSON_FALSE: r.kind = SB_RULES_BOOLEAN; break;
        case JSON_INTEGER:
                r.kind = SB_RULES_INTEGER;
                r.i = json_integer_value(v);
                break;
        case JSON_REAL:
                r.kind = SB_RULES_REAL;
                r.d = json_real_value(v);
                break;
        case JSON_STRING:
                r.kind = SB_RULES_STRING;
                r.s = json_string_value(v);
                r.len = json_string_length(v);
                break;
        case JSON_OBJECT: r.kind = SB_RULES_OBJECT; break;
        case JSON_ARRAY: r.kind = SB_RULES_ARRAY; break;
        }
        return r;
}

static int is_number(const sb_rules_value_t *v) {
        return v->kind == SB_RULES_INTEGER || v->kind == SB_RULES_REAL;
}
static double number_of(const sb_rules_value_t *v) {
        return v->kind == SB_RULES_INTEGER ? (double)v->i : v->d;
}

/* Characters of UTF-8 text: every byte but a continuation byte (10xxxxxx)
 * starts one.  Eight bytes at a time (minLength and maxLength are checked
 * on most string fields of every event). */
static size_t utf8_chars(const char *s, size_t len) {
        size_t n = 0, i = 0;
        for (; i + 8 <= len; i += 8) {
                uint64_t w;
                memcpy(&w, s + i, 8);
                /* A byte's top bit set here when its top bits are 10. */
                uint64_t continuation = w & ~(w << 1) & 0x8080808080808080u;
                n += 8 - (size_t)__builtin_popcountll(continuation);
        }
        for (; i < len; i++)
                n += ((unsigned char)s[i] & 0xC0) != 0x80;
        return n;
}

/* A number as written in JSON, without spurious digits. */
static void format_number(const sb_rules_value_t *v, char *out, size_t size) {
        if (v->kind == SB_RULES_INTEGER) {
                snprintf(out, size, "%lld", (long long)v->i);
                return;
        }
        double x = v->d;
        snprintf(out, size, "%.15g", x);
        if (strtod(out, NULL) != x)
                snprintf(out, size, "%.17g", x);
}

/* How a reason names the value: quoted (at most 60 characters, control
 * characters as '?') for public and internal fields, withheld otherwise.
 * Returns `out`.  Only called on the way to a reason, never for a value
 * that passes. */
static const char *describe(const field_rules_t *f, const sb_rules_value_t *v, char *out, size_t size) {
        enum { MAX_CHARS = 60 };
        if (f->cls == SB_CLASS_SENSITIVE || f->cls == SB_CLASS_PERSONAL) {
                snprintf(out, size, "the value (%s)", sb_class_name(f->cls));
                return out;
        }
        if (v->kind != SB_RULES_STRING) {
                format_number(v, out, size);
                return out;
        }
        const char *s = v->s;
        size_t len = v->len, o = 0, chars = 0, i;
        if (size < 8)
                return "";
        out[o++] = '\'';
        for (i = 0; i < len && o + 6 < size; i++) {
                unsigned char c = (unsigned char)s[i];
                if ((c & 0xC0) != 0x80 && ++chars > MAX_CHARS)
                        break;
                out[o++] = c < 0x20 || c == 0x7F ? '?' : (char)c;
        }
        /* Never end inside a multi-byte character. */
        while (i < len && o > 1 && ((unsigned char)s[i] & 0xC0) == 0x80) {
                o--;
                i--;
        }
        if (i < len) {
                memcpy(out + o, "...", 3);
                o += 3;
        }
        out[o++] = '\'';
        out[o] = 0;
        return out;
}

static int numbers_equal(const sb_rules_value_t *a, const json_t *b) {
        if (a->kind == SB_RULES_INTEGER && json_is_integer(b))
                return a->i == json_integer_value(b);
        return number_of(a) == json_number_value(b);
}

static int strings_equal(const sb_rules_value_t *a, const json_t *b) {
        return json_string_length(b) == a->len && memcmp(json_string_value(b), a->s, a->len) == 0;
}

/* <0, 0, >0 as a is below, equal to or above b. */
static int numbers_cmp(const sb_rules_value_t *a, const json_t *b) {
        if (a->kind == SB_RULES_INTEGER && json_is_integer(b))
                return (a->i > json_integer_value(b)) - (a->i < json_integer_value(b));
        double x = number_of(a), y = json_number_value(b);
        return (x > y) - (x < y);
}

/* The field's value in `row`: its default when absent, unwrapped from
 * Avro's {"branch": value} union form.  NULL for none. */
static const json_t *field_value(const field_rules_t *f, const json_t *row) {
        const json_t *v = row ? json_object_get(row, f->name) : NULL;
        if (!v)
                v = f->def;
        if (f->branch && json_is_object(v) && json_object_size(v) == 1) {
                void *it = json_object_iter((json_t *)v);
                const char *k = json_object_iter_key(it);
                if (strcmp(k, f->branch) == 0 || strcmp(k, "null") == 0)
                        v = json_object_iter_value(it);
        }
        return v;
}

/* The reason a field breaks a rule, "<prefix>.<field>: <why>": the path is
 * only formatted on the way to a reason, never for a value that passes. */
static sb_err_t fail(const field_rules_t *f, const char *prefix, char *errstr, size_t errstr_size,
                     const char *fmt, ...) __attribute__((format(printf, 5, 6)));
static sb_err_t fail(const field_rules_t *f, const char *prefix, char *errstr, size_t errstr_size,
                     const char *fmt, ...) {
        char path[512], msg[1024];
        va_list ap;
        snprintf(path, sizeof(path), "%s%s%s", prefix, *prefix ? "." : "", f->name);
        va_start(ap, fmt);
        vsnprintf(msg, sizeof(msg), fmt, ap);
        va_end(ap);
        return sb_seterr(SB_ERR_INVALID, errstr, errstr_size, "%s: %s", path, msg);
}

static sb_err_t check_checksum(const field_rules_t *f, const sb_rules_value_t *v, const char *prefix,
                               char *errstr, size_t errstr_size) {
        const char *s = v->s;
        size_t len = v->len;
        char what[256];
        const char *name = checksum_names[f->checksum];
        if (utf8_chars(s, len) != 18)
                return fail(f, prefix, errstr, errstr_size, "%s is not 18 characters long (%s)",
                            describe(f, v, what, sizeof(what)), name);
        char c = len != 18 || memchr(s, 0, 18)  ? 0
                 : f->checksum == CHECKSUM_USCC ? sb_check_cn_uscc_char(s)
                                                : sb_check_cn_resident_id_char(s);
        if (!c)
                return fail(f, prefix, errstr, errstr_size, "%s has a character that cannot be in %s (%s)",
                            describe(f, v, what, sizeof(what)),
                            f->checksum == CHECKSUM_USCC ? "a unified social credit code"
                                                         : "a resident identity number",
                            name);
        if (c != s[17])
                return fail(f, prefix, errstr, errstr_size, "check character is wrong (%s)", name);
        return SB_OK;
}

/* 1 if the `len` bytes at `s` match f's regular expression, 0 if not, -1
 * if out of memory.  regexec needs a NUL-terminated string and stops at a
 * NUL: a string holding one cannot match.  A value read from text is not
 * terminated where it ends: it is matched through a copy. */
static int regex_matches(const field_rules_t *f, const char *s, size_t len) {
        char local[256];
        if (memchr(s, 0, len))
                return 0;
        char *subject = len < sizeof(local) ? local : malloc(len + 1);
        if (!subject)
                return -1;
        memcpy(subject, s, len);
        subject[len] = 0;
        int matched = regexec(&f->re, subject, 0, NULL, 0) == 0;
        if (subject != local)
                free(subject);
        return matched;
}

static sb_err_t check_field(const field_rules_t *f, const sb_rules_value_t *v, const char *prefix,
                            char *errstr, size_t errstr_size) {
        char what[256], bound[64];
        if (v->kind == SB_RULES_ABSENT || v->kind == SB_RULES_NULL)
                return f->required ? fail(f, prefix, errstr, errstr_size, "required") : SB_OK;
        int stringy = f->type == SB_T_STRING || f->type == SB_T_ENUM;
        if (stringy && v->kind != SB_RULES_STRING)
                return fail(f, prefix, errstr, errstr_size, "expected a string, got %s", kind_names[v->kind]);
        if (is_numeric(f->type) && f->logical == SB_LOGICAL_NONE && !is_number(v))
                return fail(f, prefix, errstr, errstr_size, "expected a number, got %s", kind_names[v->kind]);
        if (!stringy && !(is_numeric(f->type) && f->logical == SB_LOGICAL_NONE))
                return SB_OK; /* only required applies */
        const char *s = stringy ? v->s : NULL;
        size_t len = stringy ? v->len : 0;
        if (f->required && stringy && len == 0)
                return fail(f, prefix, errstr, errstr_size, "required, got an empty string");
        if (f->enum_vals) {
                size_t i;
                const json_t *e;
                int found = 0;
                json_array_foreach(f->enum_vals, i, e) {
                        found |= stringy ? strings_equal(v, e) : numbers_equal(v, e);
                }
                if (!found)
                        return fail(f, prefix, errstr, errstr_size, "%s is not one of the allowed values",
                                    describe(f, v, what, sizeof(what)));
        }
        if (f->min && numbers_cmp(v, f->min) < 0) {
                sb_rules_value_t b = value_of_json(f->min);
                format_number(&b, bound, sizeof(bound));
                return fail(f, prefix, errstr, errstr_size, "%s is below the minimum %s",
                            describe(f, v, what, sizeof(what)), bound);
        }
        if (f->max && numbers_cmp(v, f->max) > 0) {
                sb_rules_value_t b = value_of_json(f->max);
                format_number(&b, bound, sizeof(bound));
                return fail(f, prefix, errstr, errstr_size, "%s is above the maximum %s",
                            describe(f, v, what, sizeof(what)), bound);
        }
        if (!s)
                return SB_OK;
        size_t chars = f->min_len >= 0 || f->max_len >= 0 ? utf8_chars(s, len) : 0;
        if (f->min_len >= 0 && chars < (unsigned long long)f->min_len)
                return fail(f, prefix, errstr, errstr_size,
                            "%s has length %zu, below the minimum length %lld",
                            describe(f, v, what, sizeof(what)), chars, f->min_len);
        if (f->max_len >= 0 && chars > (unsigned long long)f->max_len)
                return fail(f, prefix, errstr, errstr_size,
                            "%s has length %zu, above the maximum length %lld",
                            describe(f, v, what, sizeof(what)), chars, f->max_len);
        if (f->pattern) {
                int matched = f->fast ? sb_pattern_match(f->fast, s, len) : regex_matches(f, s, len);
                if (matched < 0)
                        return sb_seterr(SB_ERR_NOMEM, errstr, errstr_size, "out of memory");
                if (!matched)
                        return fail(f, prefix, errstr, errstr_size, "%s does not match the pattern %s",
                                    describe(f, v, what, sizeof(what)), f->pattern);
        }
        if (f->checksum)
                return check_checksum(f, v, prefix, errstr, errstr_size);
        return SB_OK;
}

sb_err_t sb_rules_check(const sb_rules_t *r, const json_t *row, const char *prefix, char *errstr,
                        size_t errstr_size) {
        if (!prefix)
                prefix = "";
        if (!row || json_is_null(row))
                return SB_OK;
        if (!json_is_object(row))
                return sb_seterr(SB_ERR_INVALID, errstr, errstr_size, "%s: expected an object, got %s",
                                 *prefix ? prefix : "(value)", sb_json_kind(row));
        for (size_t i = 0; i < r->n; i++) {
                const field_rules_t *f = &r->fields[i];
                if (!f->has_rules)
                        continue;
                sb_rules_value_t v = value_of_json(field_value(f, row));
                sb_err_t err = check_field(f, &v, prefix, errstr, errstr_size);
                if (err)
                        return err;
        }
        return SB_OK;
}

int sb_rules_field_checked(const sb_rules_t *r, size_t i) { return i < r->n && r->fields[i].has_rules; }

sb_err_t sb_rules_check_field(const sb_rules_t *r, size_t i, const sb_rules_value_t *value,
                              const char *prefix, char *errstr, size_t errstr_size) {
        if (i >= r->n || !r->fields[i].has_rules)
                return SB_OK;
        const field_rules_t *f = &r->fields[i];
        if (!prefix)
                prefix = "";
        if (value->kind == SB_RULES_ABSENT) {
                sb_rules_value_t def = value_of_json(field_value(f, NULL));
                return check_field(f, &def, prefix, errstr, errstr_size);
        }
        return check_field(f, value, prefix, errstr, errstr_size);
}

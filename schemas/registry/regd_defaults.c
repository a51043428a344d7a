#include "regd_defaults.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "regd_json.h"

typedef struct {
        const sb_node_t **seen; /* records whose fields were checked */
        size_t n_seen, cap_seen;
        char *errstr;
        size_t errstr_size;
} walk_t;

/* Characters of a UTF-8 string (Avro's JSON bytes are code points). */
static size_t chars(const char *s) {
        size_t n = 0;
        for (; *s; s++)
                n += ((unsigned char)*s & 0xC0) != 0x80;
        return n;
}

/* Why `v` does not fit `t` (NULL if it does), into why[]. */
static const char *misfit(const sb_node_t *t, const json_t *v, int depth, char *why, size_t why_size) {
        if (depth > REGD_DEFAULTS_MAX_DEPTH)
                return "nested too deep";
        switch (sb_node_type(t)) {
        case SB_T_NULL: return json_is_null(v) ? NULL : "expected null";
        case SB_T_BOOLEAN: return json_is_boolean(v) ? NULL : "expected true or false";
        case SB_T_INT:
                return json_is_integer(v) && json_integer_value(v) >= INT32_MIN &&
                                       json_integer_value(v) <= INT32_MAX
                               ? NULL
                               : "expected an integer of 32 bits";
        case SB_T_LONG: return json_is_integer(v) ? NULL : "expected an integer";
        case SB_T_FLOAT:
        case SB_T_DOUBLE: return json_is_number(v) ? NULL : "expected a number";
        case SB_T_BYTES:
        case SB_T_STRING: return json_is_string(v) ? NULL : "expected a string";
        case SB_T_FIXED: {
                json_int_t size = json_integer_value(json_object_get(sb_node_json(t), "size"));
                if (!json_is_string(v))
                        return "expected a string";
                if ((json_int_t)chars(json_string_value(v)) != size) {
                        snprintf(why, why_size, "expected a string of %" JSON_INTEGER_FORMAT " characters",
                                 size);
                        return why;
                }
                return NULL;
        }
        case SB_T_ENUM:
                for (size_t i = 0; json_is_string(v) && i < sb_node_count(t); i++)
                        if (strcmp(json_string_value(v), sb_node_symbol(t, i)) == 0)
                                return NULL;
                return "expected one of the enum's symbols";
        case SB_T_ARRAY:
                if (!json_is_array(v))
                        return "expected an array";
                for (size_t i = 0; i < json_array_size(v); i++) {
                        const char *m =
                                misfit(sb_node_child(t, 0), json_array_get(v, i), depth + 1, why, why_size);
                        if (m)
                                return m;
                }
                return NULL;
        case SB_T_MAP: {
                const char *key;
                const json_t *item;
                if (!json_is_object(v))
                        return "expected an object";
                json_object_foreach((json_t *)v, key, item) {
                        const char *m = misfit(sb_node_child(t, 0), item, depth + 1, why, why_size);
                        if (m)
                                return m;
                }
                return NULL;
        }
        case SB_T_UNION: /* Avro: a union's default is of its first branch */
                return sb_node_count(t) ? misfit(sb_node_child(t, 0), v, depth + 1, why, why_size)
                                        : "the union has no branch";
        case SB_T_RECORD:
                if (!json_is_object(v))
                        return "expected an object";
                for (size_t i = 0; i < sb_node_count(t); i++) {
                        const json_t *member = json_object_get(v, sb_node_field_name(t, i));
                        if (!member) {
                                if (json_object_get(sb_node_field_json(t, i), "default"))
                                        continue;
                                snprintf(why, why_size, "member '%.128s' is missing",
                                         sb_node_field_name(t, i));
                                return why;
                        }
                        const char *m = misfit(sb_node_child(t, i), member, depth + 1, why, why_size);
                        if (m)
                                return m;
                }
                return NULL;
        }
        return "unknown type";
}

static sb_err_t walk(walk_t *w, const sb_node_t *n, int depth);

static sb_err_t check_record(walk_t *w, const sb_node_t *r, int depth) {
        for (size_t i = 0; i < w->n_seen; i++)
                if (w->seen[i] == r)
                        return SB_OK; /* checked, or being checked further up */
        if (w->n_seen == w->cap_seen) {
                size_t cap = w->cap_seen ? 2 * w->cap_seen : 16;
                const sb_node_t **p = realloc(w->seen, cap * sizeof(const sb_node_t *));
                if (!p)
                        return sb_seterr(SB_ERR_NOMEM, w->errstr, w->errstr_size, "out of memory");
                w->seen = p;
                w->cap_seen = cap;
        }
        w->seen[w->n_seen++] = r;
        for (size_t i = 0; i < sb_node_count(r); i++) {
                const json_t *dflt = json_object_get(sb_node_field_json(r, i), "default");
                char why[256];
                const char *m = dflt ? misfit(sb_node_child(r, i), dflt, 0, why, sizeof(why)) : NULL;
                if (m) {
                        char *text = json_dumps(dflt, JSON_COMPACT | JSON_ENCODE_ANY);
                        char type[64];
                        const sb_node_t *t = sb_node_child(r, i);
                        snprintf(type, sizeof(type), "%s",
                                 sb_node_type(t) == SB_T_UNION && sb_node_count(t)
                                         ? sb_schema_type_name(sb_node_type(sb_node_child(t, 0)))
                                         : sb_schema_type_name(sb_node_type(t)));
                        if (text)
                                text[regd_utf8_prefix(text)] = '\0';
                        sb_seterr(SB_ERR_SCHEMA, w->errstr, w->errstr_size,
                                  "field '%s.%s': default %.200s does not fit type %s%s (%s)",
                                  sb_node_name(r), sb_node_field_name(r, i), text ? text : "?", type,
                                  sb_node_type(t) == SB_T_UNION ? ", the union's first branch" : "", m);
                        free(text);
                        return SB_ERR_SCHEMA;
                }
                sb_err_t err = walk(w, sb_node_child(r, i), depth + 1);
                if (err)
                        return err;
        }
        return SB_OK;
}

static sb_err_t walk(walk_t *w, const sb_node_t *n, int depth) {
        if (depth > REGD_DEFAULTS_MAX_DEPTH)
                return sb_seterr(SB_ERR_SCHEMA, w->errstr, w->errstr_size,
                                 "types nested deeper than %d levels", REGD_DEFAULTS_MAX_DEPTH);
        switch (sb_node_type(n)) {
        case SB_T_RECORD: return check_record(w, n, depth);
        case SB_T_ARRAY:
        case SB_T_MAP:
        case SB_T_UNION:
                for (size_t i = 0; i < (sb_node_type(n) == SB_T_UNION ? sb_node_count(n) : 1); i++) {
                        sb_err_t err = walk(w, sb_node_child(n, i), depth + 1);
                        if (err)
                                return err;
                }
                return SB_OK;
        default: return SB_OK;
        }
}

sb_err_t regd_defaults_check(const sb_schema_t *schema, char *errstr, size_t errstr_size) {
        walk_t w = {NULL, 0, 0, errstr, errstr_size};
        sb_err_t err = walk(&w, sb_schema_root(schema), 0);
        free(w.seen);
        return err;
}

#include "sb_avro.h"

#include <float.h>
#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sb_avro_check.h"
#include "sb_avro_read.h"
#include "sb_datetime.h"
#include "sb_json.h"

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
        int depth;    /* path segments */
        int level;    /* types entered, for SB_AVRO_MAX_DEPTH */
        size_t steps; /* types converted, for SB_AVRO_MAX_STEPS */
        int final;    /* a bound was hit: no other union branch can help */
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
        for (size_t i = 0; i < sb_node_count(n); i++) {
                avro_value_t child;
                const json_t *fv = json_object_get(j, sb_node_field_name(n, i));
                present += fv != NULL;
                if (!fv)
                        fv = json_object_get(sb_node_field_json(n, i), "default");
                path_push(c, sb_node_field_name(n, i), 0);
                if (!fv)
                        return conv_fail(c, "missing required field");
                if (avro_value_get_by_index(v, i, &child, NULL))
                        return conv_fail(c, "%s", avro_strerror());
                sb_err_t err = to_avro(c, sb_node_child(n, i), fv, &child);
                if (err)
                        return err;
                c->depth--;
        }
        /* More members than fields found: one of them is no field. */
        if (json_object_size(j) > present) {
                const char *key;
                size_t key_len;
                json_t *val;
                /* A name holding a NUL (a decoded map key may) is no field
                 * either, though its C string may be one's name. */
                json_object_keylen_foreach((json_t *)j, key, key_len, val) {
                        if (strlen(key) != key_len || sb_node_field_index(n, key) < 0) {
                                path_push(c, key, 0);
                                return conv_fail(c, "unknown field (record %s has no such field)",
                                                 sb_node_name(n));
                        }
                }
        }
        return SB_OK;
}

/* 0 if `j` cannot be a value of `n` judging by its kind and, for a record,
 * its member names alone; 1 if it may be.  Lets a union skip a branch
 * without converting the whole value first. */
static int may_fit(const sb_node_t *n, const json_t *j) {
        switch (sb_node_type(n)) {
        case SB_T_NULL: return json_is_null(j);
        case SB_T_BOOLEAN: return json_is_boolean(j);
        case SB_T_INT:
        case SB_T_LONG:
                return json_is_integer(j) || (sb_node_logical(n) != SB_LOGICAL_NONE && json_is_string(j));
        case SB_T_FLOAT:
        case SB_T_DOUBLE: return json_is_number(j);
        case SB_T_BYTES:
        case SB_T_STRING:
        case SB_T_ENUM:
        case SB_T_FIXED: return json_is_string(j);
        case SB_T_ARRAY: return json_is_array(j);
        case SB_T_MAP: return json_is_object(j);
        case SB_T_UNION: return 1;
        case SB_T_RECORD: break;
        }
        if (!json_is_object(j))
                return 0;
        size_t present = 0;
        for (size_t i = 0; i < sb_node_count(n); i++) {
                int has = json_object_get(j, sb_node_field_name(n, i)) != NULL;
                if (!has && !json_object_get(sb_node_field_json(n, i), "default"))
                        return 0;
                present += (size_t)has;
        }
        return present == json_object_size(j);
}

static sb_err_t union_to_avro(conv_ctx_t *c, const sb_node_t *n, const json_t *j, avro_value_t *v) {
        avro_value_t branch;
        char first_err[512] = "";
        size_t skipped = SIZE_MAX; /* the first branch may_fit ruled out */
        /* The plain value first: the first branch it fits, as Avro's
         * resolution picks a branch. */
        for (size_t i = 0; i < sb_node_count(n); i++) {
                const sb_node_t *b = sb_node_child(n, i);
                /* Selecting a branch creates its avro-c value, which for a
                 * type without a finite value never ends. */
                if ((sb_node_type(b) == SB_T_NULL) != json_is_null(j) || !sb_node_has_value(b))
                        continue;
                if (!may_fit(b, j)) {
                        if (skipped == SIZE_MAX)
                                skipped = i;
                        continue;
                }
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
                /* Trying the next branch would hit the same bound, and
                 * retrying at every level of a deep value doubles the work
                 * per level. */
                if (c->final)
                        return sb_seterr(err, c->errstr, c->errstr_size, "%s", err_here);
                if (!first_err[0])
                        snprintf(first_err, sizeof(first_err), "%s", err_here);
        }
        /* Avro's own JSON form: {"branch type name": value}. */
        if (json_is_object(j) && json_object_size(j) == 1) {
                const char *key = json_object_iter_key(json_object_iter((json_t *)j));
                for (size_t i = 0; i < sb_node_count(n); i++) {
                        const sb_node_t *b = sb_node_child(n, i);
                        const char *bname =
                                sb_node_name(b) ? sb_node_name(b) : sb_schema_type_name(sb_node_type(b));
                        if (strcmp(key, bname) == 0) {
                                if (!sb_node_has_value(b))
                                        return conv_fail(c, "type %s has no finite value", bname);
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
        /* Only branches ruled out at a glance: converting the first of them
         * names what is wrong inside it ("after.x: missing required field"). */
        if (skipped != SIZE_MAX) {
                if (avro_value_set_branch(v, (int)skipped, &branch) || avro_value_reset(&branch))
                        return conv_fail(c, "%s", avro_strerror());
                return to_avro(c, sb_node_child(n, skipped), j, &branch);
        }
        return json_is_null(j) ? conv_fail(c, "null is not allowed here")
                               : expect(c, "a value of the union's types", j);
}

static sb_err_t to_avro_node(conv_ctx_t *c, const sb_node_t *n, const json_t *j, avro_value_t *v) {
        int rc = 0;
        switch (sb_node_type(n)) {
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
                if (sb_node_logical(n) == SB_LOGICAL_DATE && json_is_string(j)) {
                        if (!sb_datetime_parse_date(json_string_value(j), json_string_length(j), &days))
                                return conv_fail(c, "'%s' is not a date YYYY-MM-DD", json_string_value(j));
                        rc = avro_value_set_int(v, (int32_t)days);
                        break;
                }
                if (!json_is_integer(j))
                        return expect(c,
                                      sb_node_logical(n) == SB_LOGICAL_DATE ? "a date \"YYYY-MM-DD\""
                                                                            : "an integer",
                                      j);
                json_int_t x = json_integer_value(j);
                if (x < INT32_MIN || x > INT32_MAX)
                        return conv_fail(c, "%" JSON_INTEGER_FORMAT " does not fit in an int (32 bits)", x);
                rc = avro_value_set_int(v, (int32_t)x);
                break;
        }
        case SB_T_LONG: {
                int64_t ms;
                if (sb_node_logical(n) == SB_LOGICAL_TIMESTAMP_MILLIS && json_is_string(j)) {
                        if (!sb_datetime_parse_timestamp_ms(json_string_value(j), json_string_length(j), &ms))
                                return conv_fail(c, "'%s' is not a UTC timestamp YYYY-MM-DDTHH:MM:SS[.mmm]Z",
                                                 json_string_value(j));
                        rc = avro_value_set_long(v, ms);
                        break;
                }
                if (!json_is_integer(j))
                        return expect(c,
                                      sb_node_logical(n) == SB_LOGICAL_TIMESTAMP_MILLIS
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
                if (sb_node_type(n) == SB_T_FLOAT && fabs(json_number_value(j)) > FLT_MAX)
                        return conv_fail(c, "%g does not fit in a float (32 bits)", json_number_value(j));
                rc = sb_node_type(n) == SB_T_FLOAT ? avro_value_set_float(v, (float)json_number_value(j))
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
                if (!err && sb_node_type(n) == SB_T_FIXED && b.len != sb_node_fixed_size(n))
                        err = conv_fail(c, "fixed %s takes %zu bytes, got %zu", sb_node_name(n),
                                        sb_node_fixed_size(n), b.len);
                if (!err)
                        rc = sb_node_type(n) == SB_T_FIXED
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
                for (size_t i = 0; i < sb_node_count(n); i++)
                        if (strcmp(sb_node_symbol(n, i), json_string_value(j)) == 0)
                                return avro_value_set_enum(v, (int)i) ? conv_fail(c, "%s", avro_strerror())
                                                                      : SB_OK;
                return conv_fail(c, "'%s' is not a symbol of enum %s", json_string_value(j), sb_node_name(n));
        case SB_T_RECORD: return record_to_avro(c, n, j, v);
        case SB_T_UNION: return union_to_avro(c, n, j, v);
        case SB_T_ARRAY: {
                size_t i;
                json_t *item;
                if (!json_is_array(j))
                        return expect(c, "an array", j);
                if (json_array_size(j) && !sb_node_has_value(sb_node_child(n, 0)))
                        return conv_fail(c, "the items' type has no finite value: only [] fits");
                json_array_foreach((json_t *)j, i, item) {
                        avro_value_t child;
                        path_push(c, NULL, i);
                        if (avro_value_append(v, &child, NULL))
                                return conv_fail(c, "%s", avro_strerror());
                        sb_err_t err = to_avro(c, sb_node_child(n, 0), item, &child);
                        if (err)
                                return err;
                        c->depth--;
                }
                break;
        }
        case SB_T_MAP: {
                const char *key;
                size_t key_len;
                json_t *item;
                if (!json_is_object(j))
                        return expect(c, "an object (map)", j);
                if (json_object_size(j) && !sb_node_has_value(sb_node_child(n, 0)))
                        return conv_fail(c, "the values' type has no finite value: only {} fits");
                json_object_keylen_foreach((json_t *)j, key, key_len, item) {
                        avro_value_t child;
                        path_push(c, key, 0);
                        /* avro-c takes a map key as a C string: one with a
                         * NUL (Avro allows it; sb_avro_decode keeps it)
                         * would be cut, and two keys could become one. */
                        if (strlen(key) != key_len)
                                return conv_fail(c, "map key holds a NUL character (U+0000), which the Avro "
                                                    "library cannot write");
                        if (avro_value_add(v, key, &child, NULL, NULL))
                                return conv_fail(c, "%s", avro_strerror());
                        sb_err_t err = to_avro(c, sb_node_child(n, 0), item, &child);
                        if (err)
                                return err;
                        c->depth--;
                }
                break;
        }
        }
        return rc ? conv_fail(c, "%s", avro_strerror()) : SB_OK;
}

/* The one entry of the recursion, so the bound holds on every path (also
 * for a field's default, which is JSON of any depth too). */
static sb_err_t to_avro(conv_ctx_t *c, const sb_node_t *n, const json_t *j, avro_value_t *v) {
        if (c->level >= SB_AVRO_MAX_DEPTH) {
                c->final = 1;
                return conv_fail(c, "value nested deeper than %d levels of types", SB_AVRO_MAX_DEPTH);
        }
        if (++c->steps > SB_AVRO_MAX_STEPS) {
                c->final = 1;
                return conv_fail(c,
                                 "value needs more than %d conversion steps (too many union branches tried)",
                                 SB_AVRO_MAX_STEPS);
        }
        c->level++;
        sb_err_t err = to_avro_node(c, n, j, v);
        c->level--;
        return err;
}

sb_err_t sb_avro_encode(sb_schema_t *s, const json_t *value, sb_buf_t *out, char *errstr,
                        size_t errstr_size) {
        conv_ctx_t c = {.errstr = errstr, .errstr_size = errstr_size};
        size_t size;
        avro_value_t *v;
        sb_err_t err = sb_schema_avro_value(s, &v, errstr, errstr_size);
        if (err)
                return err;
        avro_value_reset(v);
        if ((err = to_avro(&c, sb_schema_root(s), value, v)))
                return err;
        if (avro_value_sizeof(v, &size))
                return sb_seterr(SB_ERR_SCHEMA, errstr, errstr_size, "%s", avro_strerror());
        uint8_t *dest;
        if (sb_buf_extend(out, size, &dest))
                return sb_seterr(SB_ERR_NOMEM, errstr, errstr_size, "out of memory");
        avro_writer_t w = avro_writer_memory((const char *)dest, (int64_t)size);
        if (!w)
                return sb_seterr(SB_ERR_NOMEM, errstr, errstr_size, "out of memory");
        int rc = avro_value_write(w, v);
        avro_writer_free(w);
        if (rc)
                return sb_seterr(SB_ERR_SCHEMA, errstr, errstr_size, "avro write: %s", avro_strerror());
        return SB_OK;
}

/* ---- Avro -> JSON ---- */

sb_err_t sb_avro_decode(sb_schema_t *s, const void *data, size_t len, json_t **out, char *errstr,
                        size_t errstr_size) {
        *out = NULL;
        if (!sb_node_has_value(sb_schema_root(s))) {
                avro_value_t *none; /* refused as for encoding, with the schema's reason */
                return sb_schema_avro_value(s, &none, errstr, errstr_size);
        }
        sb_err_t err = sb_avro_check_body(sb_schema_root(s), data, len, errstr, errstr_size);
        if (err)
                return err;
        /* The check bounded every length and the nesting: one pass builds
         * the JSON (sb_avro_read.h), without avro-c's value in between. */
        if (!(*out = sb_avro_read_json(sb_schema_root(s), data, len)))
                return sb_seterr(SB_ERR_INVALID, errstr, errstr_size,
                                 "Avro body holds a value the schema cannot express");
        return SB_OK;
}

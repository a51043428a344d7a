#include "sb_avro_check.h"

#include <stdint.h>

#include "sb_avro.h"
#include "sb_avro_read.h"

#define STR_(x) #x
#define STR(x) STR_(x)

/* 0 for the types whose value may take no byte at all. */
static int min_width(const sb_node_t *n) {
        sb_type_t t = sb_node_type(n);
        return t == SB_T_NULL || (t == SB_T_RECORD && sb_node_count(n) == 0) ||
                               (t == SB_T_FIXED && sb_node_fixed_size(n) == 0)
                       ? 0
                       : 1;
}

/* Items that take no byte (nulls, empty records) one body may hold, all
 * its arrays together: a per-array bound alone let 200 bytes of nested
 * arrays announce 50 million nulls (400 MB of JSON to decode). */
#define EMPTY_ITEMS_MAX 1048576

/* *empty: how many more items that take no byte the body may hold. */
static const char *check_binary(const sb_node_t *n, const uint8_t **p, const uint8_t *end, int depth,
                                int64_t *empty) {
        int64_t x;
        const char *why;
        if (depth > SB_AVRO_MAX_DEPTH)
                return "value nested deeper than " STR(SB_AVRO_MAX_DEPTH) " levels of types";
        switch (sb_node_type(n)) {
        case SB_T_NULL: return NULL;
        case SB_T_BOOLEAN:
                if (*p >= end || **p > 1)
                        return "bad boolean";
                (*p)++;
                return NULL;
        case SB_T_INT:
        case SB_T_LONG:
        case SB_T_ENUM:
                if (sb_avro_read_long(p, end, &x))
                        return "truncated or overlong number";
                if (sb_node_type(n) == SB_T_INT && (x < INT32_MIN || x > INT32_MAX))
                        return "int out of range";
                if (sb_node_type(n) == SB_T_ENUM && (x < 0 || (size_t)x >= sb_node_count(n)))
                        return "enum index out of range";
                return NULL;
        case SB_T_FLOAT:
        case SB_T_DOUBLE: {
                size_t w = sb_node_type(n) == SB_T_FLOAT ? 4 : 8;
                if ((size_t)(end - *p) < w)
                        return "truncated number";
                *p += w;
                return NULL;
        }
        case SB_T_BYTES:
        case SB_T_STRING:
                if (sb_avro_read_long(p, end, &x) || x < 0 || x > end - *p)
                        return "string or bytes length beyond the body";
                *p += x;
                return NULL;
        case SB_T_FIXED:
                if ((size_t)(end - *p) < sb_node_fixed_size(n))
                        return "truncated fixed";
                *p += sb_node_fixed_size(n);
                return NULL;
        case SB_T_RECORD:
                for (size_t i = 0; i < sb_node_count(n); i++)
                        if ((why = check_binary(sb_node_child(n, i), p, end, depth + 1, empty)))
                                return why;
                return NULL;
        case SB_T_UNION:
                if (sb_avro_read_long(p, end, &x) || x < 0 || (size_t)x >= sb_node_count(n))
                        return "union branch index out of range";
                /* avro-c would create the branch's value, which for a type
                 * without a finite value never ends. */
                if (!sb_node_has_value(sb_node_child(n, (size_t)x)))
                        return "union branch of a type that has no finite value";
                return check_binary(sb_node_child(n, (size_t)x), p, end, depth + 1, empty);
        case SB_T_ARRAY:
        case SB_T_MAP: {
                const sb_node_t *item = sb_node_child(n, 0);
                int is_map = sb_node_type(n) == SB_T_MAP;
                int zero = !min_width(item) && !is_map;
                int64_t items = 0, cap = zero ? *empty : end - *p;
                for (;;) {
                        int64_t count, block_size;
                        if (sb_avro_read_long(p, end, &count))
                                return "truncated block count";
                        if (count == 0)
                                return NULL;
                        if (count < 0) {
                                if (count == INT64_MIN || sb_avro_read_long(p, end, &block_size) ||
                                    block_size < 0)
                                        return "bad block size";
                                count = -count;
                        }
                        if (!sb_node_has_value(item))
                                return "items of a type that has no finite value";
                        if (count > cap - items)
                                return zero ? "more than " STR(
                                                      EMPTY_ITEMS_MAX) " items of no bytes in one value"
                                            : "more items than the body can hold";
                        items += count;
                        if (zero)
                                *empty -= count; /* such items hold no arrays: cap stays right */
                        for (int64_t i = 0; i < count; i++) {
                                if (is_map) {
                                        if (sb_avro_read_long(p, end, &x) || x < 0 || x > end - *p)
                                                return "map key length beyond the body";
                                        *p += x;
                                }
                                if ((why = check_binary(item, p, end, depth + 1, empty)))
                                        return why;
                        }
                }
        }
        }
        return "unknown type";
}

sb_err_t sb_avro_check_body(const sb_node_t *root, const void *data, size_t len, char *errstr,
                            size_t errstr_size) {
        const uint8_t *p = data, *end = p + len;
        int64_t empty = EMPTY_ITEMS_MAX;
        const char *why = check_binary(root, &p, end, 1, &empty);
        if (why)
                return sb_seterr(SB_ERR_INVALID, errstr, errstr_size,
                                 "Avro body does not match the schema: %s", why);
        if (p != end)
                return sb_seterr(SB_ERR_INVALID, errstr, errstr_size,
                                 "Avro body has %zu bytes after the value", (size_t)(end - p));
        return SB_OK;
}

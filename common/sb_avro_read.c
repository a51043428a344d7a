#include "sb_avro_read.h"

#include <math.h>
#include <stdint.h>
#include <string.h>

#include "sb_avro.h"
#include "sb_buf.h"
#include "sb_datetime.h"

typedef struct {
        const uint8_t *p, *end;
} reader_t;

int sb_avro_read_long(const uint8_t **p, const uint8_t *end, int64_t *out) {
        uint64_t v = 0;
        for (int shift = 0; *p < end && shift < 64; shift += 7) {
                uint8_t b = *(*p)++;
                v |= (uint64_t)(b & 0x7f) << shift;
                if (!(b & 0x80)) {
                        *out = (int64_t)(v >> 1) ^ -(int64_t)(v & 1);
                        return 0;
                }
        }
        return -1;
}

static int read_long(reader_t *r, int64_t *out) { return sb_avro_read_long(&r->p, r->end, out); }

/* A length (of a string, bytes or map key) that the body holds. */
static int read_len(reader_t *r, size_t *out) {
        int64_t n;
        if (read_long(r, &n) || n < 0 || n > r->end - r->p)
                return -1;
        *out = (size_t)n;
        return 0;
}

static int read_fixed(reader_t *r, void *out, size_t n) {
        if ((size_t)(r->end - r->p) < n)
                return -1;
        memcpy(out, r->p, n);
        r->p += n;
        return 0;
}

/* Bytes as a string of the code points 0..255 (sb_avro.h). */
static json_t *bytes_json(const uint8_t *p, size_t n) {
        sb_buf_t b;
        sb_buf_init(&b, SIZE_MAX / 2);
        for (size_t i = 0; i < n; i++) {
                unsigned char ch = p[i];
                unsigned char u[2] = {(unsigned char)(0xC0 | (ch >> 6)), (unsigned char)(0x80 | (ch & 0x3F))};
                if (ch < 0x80 ? sb_buf_append(&b, &ch, 1) : sb_buf_append(&b, u, 2)) {
                        sb_buf_free(&b);
                        return NULL;
                }
        }
        json_t *j = json_stringn(b.data ? (const char *)b.data : "", b.len);
        sb_buf_free(&b);
        return j;
}

static json_t *read_value(reader_t *r, const sb_node_t *n, int depth);

/* Arrays and maps: blocks of items until a count of 0. */
static json_t *read_items(reader_t *r, const sb_node_t *n, int depth) {
        int is_map = sb_node_type(n) == SB_T_MAP;
        json_t *out = is_map ? json_object() : json_array();
        for (int64_t count = 1; out;) {
                int64_t block_size;
                if (read_long(r, &count) || (count < 0 && (count == INT64_MIN || read_long(r, &block_size))))
                        break;
                if (count == 0)
                        return out;
                for (int64_t i = count < 0 ? count : -count; i < 0; i++) {
                        const char *key = NULL;
                        size_t key_len = 0;
                        if (is_map) {
                                if (read_len(r, &key_len))
                                        goto fail;
                                key = (const char *)r->p;
                                r->p += key_len;
                        }
                        json_t *item = read_value(r, sb_node_child(n, 0), depth + 1);
                        if (!item || (is_map ? json_object_setn_new(out, key, key_len, item)
                                             : json_array_append_new(out, item)))
                                goto fail;
                }
        }
fail:
        json_decref(out);
        return NULL;
}

static json_t *read_value(reader_t *r, const sb_node_t *n, int depth) {
        char tmp[64];
        int64_t x;
        size_t len;
        if (depth > SB_AVRO_MAX_DEPTH)
                return NULL;
        switch (sb_node_type(n)) {
        case SB_T_NULL: return json_null();
        case SB_T_BOOLEAN: return r->p < r->end ? json_boolean(*r->p++) : NULL;
        case SB_T_INT:
        case SB_T_LONG:
                if (read_long(r, &x))
                        return NULL;
                if (sb_node_logical(n) == SB_LOGICAL_DATE && sb_node_type(n) == SB_T_INT) {
                        sb_datetime_format_date(x, tmp, sizeof(tmp));
                        return json_string(tmp);
                }
                if (sb_node_logical(n) == SB_LOGICAL_TIMESTAMP_MILLIS && sb_node_type(n) == SB_T_LONG) {
                        sb_datetime_format_timestamp_ms(x, tmp, sizeof(tmp));
                        return json_string(tmp);
                }
                return json_integer(x);
        case SB_T_FLOAT: {
                float f;
                return read_fixed(r, &f, sizeof(f)) ? NULL : json_real(f);
        }
        case SB_T_DOUBLE: {
                double d;
                if (read_fixed(r, &d, sizeof(d)))
                        return NULL;
                /* NaN and the infinities have no JSON form: refused, as a
                 * float's (json_real gives NULL), not turned into null, which
                 * a subscriber would store as if the field were empty. */
                return isfinite(d) ? json_real(d) : NULL;
        }
        case SB_T_STRING:
        case SB_T_BYTES: {
                if (read_len(r, &len))
                        return NULL;
                const uint8_t *s = r->p;
                r->p += len;
                return sb_node_type(n) == SB_T_STRING ? json_stringn((const char *)s, len)
                                                      : bytes_json(s, len);
        }
        case SB_T_FIXED:
                len = sb_node_fixed_size(n);
                if ((size_t)(r->end - r->p) < len)
                        return NULL;
                r->p += len;
                return bytes_json(r->p - len, len);
        case SB_T_ENUM:
                return read_long(r, &x) || x < 0 || (size_t)x >= sb_node_count(n)
                               ? NULL
                               : json_string(sb_node_symbol(n, (size_t)x));
        case SB_T_RECORD: {
                json_t *o = json_object();
                for (size_t i = 0; o && i < sb_node_count(n); i++) {
                        json_t *v = read_value(r, sb_node_child(n, i), depth + 1);
                        if (!v || json_object_set_new_nocheck(o, sb_node_field_name(n, i), v)) {
                                json_decref(o);
                                return NULL;
                        }
                }
                return o;
        }
        case SB_T_UNION:
                if (read_long(r, &x) || x < 0 || (size_t)x >= sb_node_count(n))
                        return NULL;
                return read_value(r, sb_node_child(n, (size_t)x), depth + 1);
        case SB_T_ARRAY:
        case SB_T_MAP: return read_items(r, n, depth);
        }
        return NULL;
}

json_t *sb_avro_read_json(const sb_node_t *root, const void *data, size_t len) {
        reader_t r = {data, (const uint8_t *)data + len};
        return read_value(&r, root, 1);
}

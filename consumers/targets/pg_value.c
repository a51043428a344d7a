#include "targets/pg_value.h"

#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sb_datetime.h"

/* The JSON of a field's type with a nullable union's null left out: where
 * the logical types sb_schema does not know are written. */
static const json_t *field_type_json(const sb_node_t *rec, size_t i) {
        const json_t *t = json_object_get(sb_node_field_json(rec, i), "type");
        if (json_is_array(t)) {
                const json_t *other = NULL;
                size_t k;
                json_t *b;
                json_array_foreach(t, k, b) {
                        if (!(json_is_string(b) && strcmp(json_string_value(b), "null") == 0))
                                other = other ? NULL : b;
                }
                t = json_array_size(t) == 2 ? other : NULL;
        }
        return t;
}

void pg_column_of(const sb_node_t *rec, size_t i, pg_column_t *out) {
        const sb_node_t *n = sb_node_unwrap_nullable(sb_node_child(rec, i));
        const json_t *tj = field_type_json(rec, i);
        const char *lt = json_string_value(json_object_get(tj, "logicalType"));
        memset(out, 0, sizeof(*out));
        out->kind = PG_K_TEXT;
        snprintf(out->sqltype, sizeof(out->sqltype), "text");
        switch (sb_node_type(n)) {
        case SB_T_BOOLEAN:
                out->kind = PG_K_BOOL;
                snprintf(out->sqltype, sizeof(out->sqltype), "boolean");
                break;
        case SB_T_INT:
                out->kind = sb_node_logical(n) == SB_LOGICAL_DATE ? PG_K_DATE : PG_K_INT;
                snprintf(out->sqltype, sizeof(out->sqltype), "%s",
                         out->kind == PG_K_DATE ? "date" : "integer");
                break;
        case SB_T_LONG:
                out->kind = sb_node_logical(n) == SB_LOGICAL_TIMESTAMP_MILLIS ? PG_K_TS_MS
                            : lt && strcmp(lt, "timestamp-micros") == 0       ? PG_K_TS_US
                                                                              : PG_K_INT;
                snprintf(out->sqltype, sizeof(out->sqltype), "%s",
                         out->kind == PG_K_INT ? "bigint" : "timestamptz");
                break;
        case SB_T_FLOAT:
        case SB_T_DOUBLE:
                out->kind = PG_K_FLOAT;
                snprintf(out->sqltype, sizeof(out->sqltype), "%s",
                         sb_node_type(n) == SB_T_FLOAT ? "real" : "double precision");
                break;
        case SB_T_BYTES:
        case SB_T_FIXED: {
                json_int_t precision = json_integer_value(json_object_get(tj, "precision"));
                json_int_t scale = json_integer_value(json_object_get(tj, "scale"));
                out->kind = PG_K_BYTES;
                snprintf(out->sqltype, sizeof(out->sqltype), "bytea");
                /* PostgreSQL's numeric takes precision 1..1000; outside, the
                 * value is kept as the bytes it is rather than refused. */
                if (lt && strcmp(lt, "decimal") == 0 && precision >= 1 && precision <= 1000 && scale >= 0 &&
                    scale <= precision) {
                        out->kind = PG_K_DECIMAL;
                        out->scale = (int)scale;
                        snprintf(out->sqltype, sizeof(out->sqltype), "numeric(%d,%d)", (int)precision,
                                 (int)scale);
                }
                break;
        }
        case SB_T_RECORD:
        case SB_T_ARRAY:
        case SB_T_MAP:
                out->kind = PG_K_JSON;
                snprintf(out->sqltype, sizeof(out->sqltype), "jsonb");
                break;
        default: break; /* strings, enums, unions of several types */
        }
}

/* The bytes of Avro's JSON form of bytes (code points 0..255 in UTF-8) into
 * a new buffer *out of *len bytes. */
static sb_err_t code_points(const json_t *v, unsigned char **out, size_t *len, char *errstr,
                            size_t errstr_size) {
        const unsigned char *s = (const unsigned char *)json_string_value(v);
        size_t n = json_string_length(v), k = 0;
        unsigned char *b = malloc(n + 1);
        if (!b)
                return sb_seterr(SB_ERR_NOMEM, errstr, errstr_size, "out of memory");
        for (size_t i = 0; i < n; i++) {
                if (s[i] < 0x80)
                        b[k++] = s[i];
                else if ((s[i] == 0xc2 || s[i] == 0xc3) && i + 1 < n && (s[i + 1] & 0xc0) == 0x80) {
                        b[k++] = (unsigned char)(((s[i] & 0x1f) << 6) | (s[i + 1] & 0x3f));
                        i++;
                } else {
                        free(b);
                        return sb_seterr(SB_ERR_INVALID, errstr, errstr_size,
                                         "bytes value holds a character above U+00FF");
                }
        }
        *out = b;
        *len = k;
        return SB_OK;
}

static sb_err_t bytea_text(const json_t *v, char **out, char *errstr, size_t errstr_size) {
        unsigned char *b = NULL;
        size_t n = 0;
        sb_err_t err = code_points(v, &b, &n, errstr, errstr_size);
        if (err)
                return err;
        char *t = malloc(2 * n + 3);
        if (!t) {
                free(b);
                return sb_seterr(SB_ERR_NOMEM, errstr, errstr_size, "out of memory");
        }
        memcpy(t, "\\x", 2);
        for (size_t i = 0; i < n; i++)
                snprintf(t + 2 + 2 * i, 3, "%02x", b[i]);
        t[2 + 2 * n] = 0;
        free(b);
        *out = t;
        return SB_OK;
}

/* Avro's decimal: the unscaled value as big-endian two's complement. */
static sb_err_t decimal_text(const json_t *v, int scale, char **out, char *errstr, size_t errstr_size) {
        unsigned char *b = NULL;
        size_t n = 0;
        sb_err_t err = code_points(v, &b, &n, errstr, errstr_size);
        if (err)
                return err;
        int neg = n > 0 && (b[0] & 0x80);
        if (neg) { /* the magnitude: invert and add one */
                int carry = 1;
                for (size_t i = n; i-- > 0;) {
                        int x = (unsigned char)~b[i] + carry;
                        b[i] = (unsigned char)x;
                        carry = x >> 8;
                }
        }
        /* Each byte gives at most three digits; room for sign, point, zeros. */
        size_t cap = 3 * n + (size_t)scale + 4;
        char *digits = malloc(cap), *t = malloc(cap + 1);
        size_t nd = 0;
        if (!digits || !t) {
                free(b);
                free(digits);
                free(t);
                return sb_seterr(SB_ERR_NOMEM, errstr, errstr_size, "out of memory");
        }
        for (size_t start = 0; start < n;) { /* long division by ten, least digit first */
                unsigned rem = 0;
                for (size_t i = start; i < n; i++) {
                        unsigned cur = (rem << 8) | b[i];
                        b[i] = (unsigned char)(cur / 10);
                        rem = cur % 10;
                }
                digits[nd++] = (char)('0' + rem);
                while (start < n && b[start] == 0)
                        start++;
        }
        while (nd <= (size_t)scale) /* at least one digit before the point */
                digits[nd++] = '0';
        size_t k = 0;
        if (neg)
                t[k++] = '-';
        for (size_t i = nd; i-- > 0;) {
                t[k++] = digits[i];
                if (i == (size_t)scale && scale > 0)
                        t[k++] = '.';
        }
        t[k] = 0;
        free(b);
        free(digits);
        *out = t;
        return SB_OK;
}

static sb_err_t micros_text(json_int_t us, char **out, char *errstr, size_t errstr_size) {
        char text[48];
        json_int_t sec = us / 1000000, frac = us % 1000000;
        if (frac < 0) {
                frac += 1000000;
                sec--;
        }
        sb_datetime_format_timestamp_ms(sec * 1000, text, sizeof(text));
        char *dot = strrchr(text, '.');
        if (dot)
                snprintf(dot, sizeof(text) - (size_t)(dot - text), ".%06" PRId64 "Z", (int64_t)frac);
        return (*out = strdup(text)) ? SB_OK : sb_seterr(SB_ERR_NOMEM, errstr, errstr_size, "out of memory");
}

sb_err_t pg_value_text(const pg_column_t *c, const json_t *v, char **out, char *errstr, size_t errstr_size) {
        char text[64];
        *out = NULL;
        if (!v || json_is_null(v))
                return SB_OK;
        if (json_is_string(v) && c->kind != PG_K_JSON) {
                if (c->kind == PG_K_BYTES)
                        return bytea_text(v, out, errstr, errstr_size);
                if (c->kind == PG_K_DECIMAL)
                        return decimal_text(v, c->scale, out, errstr, errstr_size);
                /* libpq's parameters end at a NUL, PostgreSQL's text cannot
                 * hold one: refused rather than cut short. */
                if (strlen(json_string_value(v)) != json_string_length(v))
                        return sb_seterr(SB_ERR_INVALID, errstr, errstr_size,
                                         "text value holds a NUL character, which PostgreSQL cannot store");
                *out = strdup(json_string_value(v));
        } else if (json_is_integer(v)) {
                json_int_t i = json_integer_value(v);
                if (c->kind == PG_K_TS_US)
                        return micros_text(i, out, errstr, errstr_size);
                if (c->kind == PG_K_DATE)
                        sb_datetime_format_date(i, text, sizeof(text));
                else if (c->kind == PG_K_TS_MS)
                        sb_datetime_format_timestamp_ms(i, text, sizeof(text));
                else
                        snprintf(text, sizeof(text), "%" JSON_INTEGER_FORMAT, i);
                *out = strdup(text);
        } else if (json_is_real(v) && c->kind != PG_K_JSON) {
                snprintf(text, sizeof(text), "%.17g", json_real_value(v));
                *out = strdup(text);
        } else if (json_is_boolean(v) && c->kind != PG_K_JSON) {
                *out = strdup(json_is_true(v) ? "true" : "false");
        } else { /* records, arrays, maps; any value in a jsonb column */
                *out = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);
        }
        return *out ? SB_OK : sb_seterr(SB_ERR_NOMEM, errstr, errstr_size, "out of memory");
}

#include "sb_avro_text.h"

#include <float.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "sb_datetime.h"
#include "sb_json_scan.h"

/* Every "return -1" below is a decline: the reference path (jansson, then
 * sb_avro) decides and names the error.  So this file only has to be
 * right about what it accepts, and it accepts only what jansson parses and
 * sb_avro encodes, writing the same bytes. */

typedef struct {
        const char *text;
        size_t text_len;
        size_t beg, end; /* the field's bytes in out, as read (before reordering) */
        int seen;
} span_t;

struct sb_avro_text_s {
        sb_buf_t tmp;     /* a string decoded for interpretation (enum, date, bytes, map key) */
        sb_buf_t reorder; /* a record's bytes while put back in schema order */
        span_t *spans;    /* a stack: the fields of the records being read */
        size_t spans_cap, spans_top;
        size_t max;
};

sb_err_t sb_avro_text_new(size_t max, sb_avro_text_t **out, char *errstr, size_t errstr_size) {
        sb_avro_text_t *t = calloc(1, sizeof(*t));
        *out = NULL;
        if (!t)
                return sb_seterr(SB_ERR_NOMEM, errstr, errstr_size, "out of memory");
        sb_buf_init(&t->tmp, max);
        sb_buf_init(&t->reorder, max);
        t->max = max;
        *out = t;
        return SB_OK;
}

void sb_avro_text_destroy(sb_avro_text_t *t) {
        if (!t)
                return;
        sb_buf_free(&t->tmp);
        sb_buf_free(&t->reorder);
        free(t->spans);
        free(t);
}

/* ---- writing ---- */

sb_err_t sb_avro_text_put_long(sb_buf_t *out, int64_t v) {
        uint8_t b[10];
        size_t n = 0;
        uint64_t z = ((uint64_t)v << 1) ^ (v < 0 ? UINT64_MAX : 0); /* zigzag */
        while (z >= 0x80) {
                b[n++] = (uint8_t)(z | 0x80);
                z >>= 7;
        }
        b[n++] = (uint8_t)z;
        return sb_buf_append(out, b, n);
}

sb_err_t sb_avro_text_put_string(sb_buf_t *out, const char *s, size_t len) {
        return sb_avro_text_put_long(out, (int64_t)len) || sb_buf_append(out, s, len) ? SB_ERR_NOMEM : SB_OK;
}

/* avro-c writes floats and doubles as their IEEE bits, little-endian. */
static int put_double(sb_buf_t *out, double d) {
        uint64_t u;
        uint8_t b[8];
        memcpy(&u, &d, 8);
        for (int i = 0; i < 8; i++)
                b[i] = (uint8_t)(u >> (8 * i));
        return sb_buf_append(out, b, 8) ? -1 : 0;
}

static int put_float(sb_buf_t *out, float f) {
        uint32_t u;
        uint8_t b[4];
        memcpy(&u, &f, 4);
        for (int i = 0; i < 4; i++)
                b[i] = (uint8_t)(u >> (8 * i));
        return sb_buf_append(out, b, 4) ? -1 : 0;
}

/* The decoded string: its raw bytes when it has no escapes, else decoded
 * into the scratch buffer (valid until the next use of it). */
static int string_bytes(sb_avro_text_t *t, const sb_json_scan_str_t *s, const char **bytes) {
        if (!s->escapes) {
                *bytes = s->raw;
                return 0;
        }
        uint8_t *at;
        sb_buf_reset(&t->tmp);
        if (sb_buf_extend(&t->tmp, s->len, &at))
                return -1;
        sb_json_scan_decode(s, at);
        *bytes = (const char *)t->tmp.data;
        return 0;
}

/* ---- schema-guided reading ---- */

typedef struct {
        sb_avro_text_t *t;
        const char *end;
        size_t *steps;
} ctx_t;

static int value(ctx_t *c, const sb_node_t *n, const char **p, int level, sb_buf_t *out,
                 sb_avro_text_field_t *f);

/* After a member or an item: ',' (1), the closing `close` (0), else -1. */
static int next_or_close(const char **p, const char *end, char close) {
        int ch = sb_json_scan_ws(p, end);
        if (ch == ',') {
                (*p)++;
                return 1;
        }
        if (ch == close) {
                (*p)++;
                return 0;
        }
        return -1;
}

/* The JSON kind at the next byte, as may_fit in sb_avro.c tells branches
 * apart. */
enum { K_NULL, K_BOOL, K_INT, K_REAL, K_STRING, K_OBJECT, K_ARRAY, K_BAD };

static int kind_at(const char *p, const char *end) {
        switch (*p) {
        case 'n': return K_NULL;
        case 't':
        case 'f': return K_BOOL;
        case '"': return K_STRING;
        case '{': return K_OBJECT;
        case '[': return K_ARRAY;
        default: break;
        }
        if (*p != '-' && (*p < '0' || *p > '9'))
                return K_BAD;
        for (const char *q = p + 1; q < end; q++) {
                if (*q == '.' || *q == 'e' || *q == 'E')
                        return K_REAL;
                if (!(*q >= '0' && *q <= '9'))
                        break;
        }
        return K_INT;
}

/* 1 if a value of kind k may be of type b: what sb_avro's may_fit says, or
 * more (a record is only told by its braces here; that it fits is then
 * seen by reading it, and a record that reads fits may_fit too).  So the
 * first branch this picks and reads is the branch sb_avro picks. */
static int may_be(const sb_node_t *b, int k) {
        switch (sb_node_type(b)) {
        case SB_T_NULL: return k == K_NULL;
        case SB_T_BOOLEAN: return k == K_BOOL;
        case SB_T_INT:
        case SB_T_LONG: return k == K_INT || (sb_node_logical(b) != SB_LOGICAL_NONE && k == K_STRING);
        case SB_T_FLOAT:
        case SB_T_DOUBLE: return k == K_INT || k == K_REAL;
        case SB_T_BYTES:
        case SB_T_STRING:
        case SB_T_ENUM:
        case SB_T_FIXED: return k == K_STRING;
        case SB_T_ARRAY: return k == K_ARRAY;
        case SB_T_MAP:
        case SB_T_RECORD: return k == K_OBJECT;
        case SB_T_UNION: return 1;
        }
        return 0;
}

static int union_value(ctx_t *c, const sb_node_t *n, const char **p, int level, sb_buf_t *out,
                       sb_avro_text_field_t *f) {
        int k = kind_at(*p, c->end);
        for (size_t i = 0; i < sb_node_count(n); i++) {
                const sb_node_t *b = sb_node_child(n, i);
                /* As sb_avro: null only in the null branch, never a branch
                 * without a finite value. */
                if ((sb_node_type(b) == SB_T_NULL) != (k == K_NULL) || !sb_node_has_value(b) || !may_be(b, k))
                        continue;
                if (sb_avro_text_put_long(out, (int64_t)i))
                        return -1;
                return value(c, b, p, level + 1, out, f);
        }
        return -1;
}

/* Bytes and fixed: a string of code points 0..255, as latin1_bytes. */
static int bytes_value(ctx_t *c, const sb_node_t *n, const char **p, sb_buf_t *out) {
        sb_json_scan_str_t s;
        const char *b;
        if (sb_json_scan_string(p, c->end, &s) || string_bytes(c->t, &s, &b))
                return -1;
        size_t count = 0;
        for (size_t i = 0; i < s.len; i++, count++)
                if ((unsigned char)b[i] >= 0x80) {
                        if (((unsigned char)b[i] & 0xE0) != 0xC0 || i + 1 >= s.len ||
                            (unsigned char)b[i] > 0xC3)
                                return -1;
                        i++;
                }
        if (sb_node_type(n) == SB_T_FIXED ? count != sb_node_fixed_size(n)
                                          : sb_avro_text_put_long(out, (int64_t)count) != 0)
                return -1;
        for (size_t i = 0; i < s.len; i++) {
                unsigned char ch = (unsigned char)b[i];
                if (ch >= 0x80) {
                        ch = (unsigned char)(((ch & 0x1F) << 6) | ((unsigned char)b[i + 1] & 0x3F));
                        i++;
                }
                if (sb_buf_append(out, &ch, 1))
                        return -1;
        }
        return 0;
}

/* An array or map: avro-c writes one block (its count, the items) and the
 * closing 0, or only the 0 when empty.  The count is known at the end: a
 * one-byte place is kept for it and the items moved when it needs more. */
static int block_value(ctx_t *c, const sb_node_t *n, const char **p, int level, sb_buf_t *out) {
        int is_map = sb_node_type(n) == SB_T_MAP;
        const sb_node_t *item = sb_node_child(n, 0);
        size_t at = out->len, count = 0;
        size_t keys[SB_AVRO_TEXT_MAX_MAP]; /* a map's keys in out, for duplicates */
        size_t key_lens[SB_AVRO_TEXT_MAX_MAP];
        (*p)++;
        if (sb_buf_append(out, "", 1))
                return -1;
        int more = sb_json_scan_ws(p, c->end) == (is_map ? '}' : ']') ? 0 : 1;
        if (!more)
                (*p)++;
        while (more) {
                if (!sb_node_has_value(item))
                        return -1; /* only the empty one fits */
                if (is_map) {
                        sb_json_scan_str_t s;
                        if (count >= SB_AVRO_TEXT_MAX_MAP || sb_json_scan_ws(p, c->end) != '"' ||
                            sb_json_scan_string(p, c->end, &s) || sb_json_scan_ws(p, c->end) != ':' ||
                            sb_avro_text_put_long(out, (int64_t)s.len))
                                return -1;
                        (*p)++;
                        uint8_t *kb;
                        if (sb_buf_extend(out, s.len, &kb))
                                return -1;
                        sb_json_scan_decode(&s, kb);
                        keys[count] = (size_t)(kb - out->data);
                        key_lens[count] = s.len;
                        for (size_t i = 0; i < count; i++)
                                if (key_lens[i] == s.len && memcmp(out->data + keys[i], kb, s.len) == 0)
                                        return -1; /* jansson refuses duplicates */
                }
                if (value(c, item, p, level + 1, out, NULL) < 0 ||
                    (more = next_or_close(p, c->end, is_map ? '}' : ']')) < 0)
                        return -1;
                count++;
        }
        if (!count)
                return 0; /* the 0 already written */
        uint8_t varint[10];
        size_t vn = 0;
        uint64_t z = (uint64_t)count << 1;
        while (z >= 0x80) {
                varint[vn++] = (uint8_t)(z | 0x80);
                z >>= 7;
        }
        varint[vn++] = (uint8_t)z;
        uint8_t *tail;
        if (vn > 1 && sb_buf_extend(out, vn - 1, &tail))
                return -1;
        memmove(out->data + at + vn, out->data + at + 1, out->len - (at + vn));
        memcpy(out->data + at, varint, vn);
        return sb_buf_append(out, "", 1) ? -1 : 0;
}

/* Missing field i: sb_avro writes its default.  Here only a null default
 * of a type null or of a union with a null branch; any other, decline. */
static int put_default(const sb_node_t *rec, size_t i, sb_buf_t *out, size_t *steps) {
        const json_t *def = json_object_get(sb_node_field_json(rec, i), "default");
        const sb_node_t *t = sb_node_child(rec, i);
        if (!json_is_null(def))
                return -1;
        if (sb_node_type(t) == SB_T_NULL) {
                (*steps)++;
                return 0;
        }
        if (sb_node_type(t) != SB_T_UNION)
                return -1;
        for (size_t b = 0; b < sb_node_count(t); b++)
                if (sb_node_type(sb_node_child(t, b)) == SB_T_NULL) {
                        *steps += 2;
                        return sb_avro_text_put_long(out, (int64_t)b) ? -1 : 0;
                }
        return -1;
}

static int record_value(ctx_t *c, const sb_node_t *n, const char **p, int level, sb_buf_t *out,
                        sb_avro_text_field_t *fields) {
        sb_avro_text_t *t = c->t;
        size_t nf = sb_node_count(n), base = t->spans_top, start = out->len, next = 0;
        int in_order = 1, rc = -1;
        if (sb_json_scan_ws(p, c->end) != '{')
                return -1;
        (*p)++;
        if (t->spans_cap - t->spans_top < nf) {
                size_t cap = t->spans_cap ? t->spans_cap : 16;
                while (cap - t->spans_top < nf)
                        cap *= 2;
                span_t *grown = realloc(t->spans, cap * sizeof(*grown));
                if (!grown)
                        return -1;
                t->spans = grown;
                t->spans_cap = cap;
        }
        span_t *sp = t->spans + base;
        memset(sp, 0, nf * sizeof(*sp));
        t->spans_top += nf;
        int more = sb_json_scan_ws(p, c->end) == '}' ? 0 : 1;
        if (!more)
                (*p)++;
        while (more) {
                const char *name;
                size_t len, i;
                if (sb_json_scan_name(p, c->end, &name, &len))
                        goto done;
                /* The expected field first: members mostly come in order. */
                for (i = next; i < nf + next; i++)
                        if (sb_node_field_is(n, i % nf, name, len))
                                break;
                if (i == nf + next)
                        goto done; /* no such field (or the name has a NUL) */
                i %= nf;
                if (sp[i].seen)
                        goto done; /* jansson refuses duplicates */
                in_order &= i == next;
                sb_json_scan_ws(p, c->end);
                sp[i].seen = 1;
                sp[i].text = *p;
                sp[i].beg = out->len;
                if (fields)
                        memset(&fields[i], 0, sizeof(fields[i]));
                if (value(c, sb_node_child(n, i), p, level + 1, out, fields ? &fields[i] : NULL))
                        goto done;
                sp = t->spans + base; /* a nested record may have moved the stack */
                sp[i].end = out->len;
                sp[i].text_len = (size_t)(*p - sp[i].text);
                next = i + 1 < nf ? i + 1 : 0;
                if ((more = next_or_close(p, c->end, '}')) < 0)
                        goto done;
        }
        int complete = 1;
        for (size_t i = 0; i < nf; i++)
                complete &= sp[i].seen;
        if (!in_order || !complete) {
                /* Put the fields back in schema order, defaults in the gaps. */
                size_t len = out->len - start;
                sb_buf_reset(&t->reorder);
                /* Nothing written yet may mean no buffer at all (data NULL):
                 * no pointer arithmetic on it then, which is undefined. */
                if (len && sb_buf_append(&t->reorder, out->data + start, len))
                        goto done;
                out->len = start;
                for (size_t i = 0; i < nf; i++) {
                        size_t at = out->len;
                        if (!sp[i].seen) {
                                if (put_default(n, i, out, c->steps))
                                        goto done;
                        } else if (sp[i].end > sp[i].beg &&
                                   sb_buf_append(out, t->reorder.data + (sp[i].beg - start),
                                                 sp[i].end - sp[i].beg)) {
                                goto done;
                        }
                        if (fields && sp[i].seen)
                                fields[i].str_off = fields[i].str_off - sp[i].beg + at;
                        sp[i].beg = at;
                }
        }
        if (fields)
                for (size_t i = 0; i < nf; i++) {
                        if (!sp[i].seen) {
                                memset(&fields[i], 0, sizeof(fields[i]));
                                fields[i].value.kind = SB_RULES_ABSENT;
                        }
                        fields[i].text = sp[i].text;
                        fields[i].text_len = sp[i].text_len;
                        fields[i].out_off = sp[i].beg;
                }
        rc = 0;
done:
        t->spans_top = base;
        return rc;
}

/* The rules see a string as JSON has it: its raw text when it has no
 * escapes (stable, in the input); with escapes, its content is not kept. */
static int set_string_view(sb_avro_text_field_t *f, const sb_json_scan_str_t *s) {
        f->value.kind = SB_RULES_STRING;
        f->value.s = s->escapes ? NULL : s->raw;
        f->value.len = s->escapes ? 0 : s->raw_len;
        f->unknown = s->escapes;
        return 0;
}

static int value(ctx_t *c, const sb_node_t *n, const char **p, int level, sb_buf_t *out,
                 sb_avro_text_field_t *f) {
        sb_json_scan_num_t num;
        sb_json_scan_str_t s;
        const char *b;
        int64_t x;
        /* sb_avro's bounds: the same count of types and steps, a margin below. */
        if (level >= SB_AVRO_TEXT_MAX_LEVEL || ++*c->steps > SB_AVRO_MAX_STEPS - 64 || !sb_node_has_value(n))
                return -1;
        int ch = sb_json_scan_ws(p, c->end);
        if (ch < 0)
                return -1;
        switch (sb_node_type(n)) {
        case SB_T_NULL:
                if (sb_json_scan_literal(p, c->end, "null", 4))
                        return -1;
                if (f)
                        f->value.kind = SB_RULES_NULL;
                return 0;
        case SB_T_BOOLEAN: {
                int t = ch == 't';
                if (t ? sb_json_scan_literal(p, c->end, "true", 4)
                      : sb_json_scan_literal(p, c->end, "false", 5))
                        return -1;
                if (f)
                        f->value.kind = SB_RULES_BOOLEAN;
                return sb_buf_append(out, t ? "\1" : "", 1) ? -1 : 0;
        }
        case SB_T_INT:
        case SB_T_LONG: {
                int is_int = sb_node_type(n) == SB_T_INT;
                sb_logical_t lt = sb_node_logical(n);
                if (ch == '"') {
                        int ok;
                        if ((is_int ? lt != SB_LOGICAL_DATE : lt != SB_LOGICAL_TIMESTAMP_MILLIS) ||
                            sb_json_scan_string(p, c->end, &s) || string_bytes(c->t, &s, &b))
                                return -1;
                        ok = is_int ? sb_datetime_parse_date(b, s.len, &x)
                                    : sb_datetime_parse_timestamp_ms(b, s.len, &x);
                        if (!ok)
                                return -1;
                        if (f && set_string_view(f, &s))
                                return -1;
                } else {
                        if (sb_json_scan_number(p, c->end, &num) || !num.is_int)
                                return -1;
                        x = num.i;
                        if (is_int && (x < INT32_MIN || x > INT32_MAX))
                                return -1;
                        if (f) {
                                f->value.kind = SB_RULES_INTEGER;
                                f->value.i = x;
                        }
                }
                return sb_avro_text_put_long(out, is_int ? (int32_t)x : x) ? -1 : 0;
        }
        case SB_T_FLOAT:
        case SB_T_DOUBLE: {
                if (sb_json_scan_number(p, c->end, &num))
                        return -1;
                double d = num.is_int ? (double)num.i : num.d;
                if (f) {
                        f->value.kind = num.is_int ? SB_RULES_INTEGER : SB_RULES_REAL;
                        f->value.i = num.i;
                        f->value.d = num.d;
                }
                if (sb_node_type(n) == SB_T_FLOAT)
                        return fabs(d) > FLT_MAX ? -1 : put_float(out, (float)d);
                return put_double(out, d);
        }
        case SB_T_STRING: {
                uint8_t *at;
                if (ch != '"' || sb_json_scan_string(p, c->end, &s) ||
                    sb_avro_text_put_long(out, (int64_t)s.len) || sb_buf_extend(out, s.len, &at))
                        return -1;
                sb_json_scan_decode(&s, at);
                if (f) {
                        f->value.kind = SB_RULES_STRING;
                        f->value.len = s.len;
                        f->str_off = (size_t)(at - out->data);
                        f->str_in_out = 1;
                }
                return 0;
        }
        case SB_T_BYTES:
        case SB_T_FIXED:
                if (ch != '"')
                        return -1;
                const char *str_at = *p;
                if (bytes_value(c, n, p, out))
                        return -1;
                if (f) {
                        sb_json_scan_string(&str_at, c->end, &s);
                        return set_string_view(f, &s);
                }
                return 0;
        case SB_T_ENUM:
                if (ch != '"' || sb_json_scan_string(p, c->end, &s) || string_bytes(c->t, &s, &b))
                        return -1;
                for (size_t i = 0; i < sb_node_count(n); i++) {
                        const char *sym = sb_node_symbol(n, i);
                        if (strncmp(sym, b, s.len) == 0 && sym[s.len] == 0 && !memchr(b, 0, s.len)) {
                                if (f) {
                                        f->value.kind = SB_RULES_STRING;
                                        f->value.s = sym;
                                        f->value.len = s.len;
                                }
                                return sb_avro_text_put_long(out, (int64_t)i) ? -1 : 0;
                        }
                }
                return -1;
        case SB_T_RECORD:
                if (f)
                        f->value.kind = SB_RULES_OBJECT;
                return record_value(c, n, p, level, out, NULL);
        case SB_T_UNION: return union_value(c, n, p, level, out, f);
        case SB_T_ARRAY:
        case SB_T_MAP:
                if (ch != (sb_node_type(n) == SB_T_MAP ? '{' : '['))
                        return -1;
                if (f)
                        f->value.kind = sb_node_type(n) == SB_T_MAP ? SB_RULES_OBJECT : SB_RULES_ARRAY;
                return block_value(c, n, p, level, out);
        }
        return -1;
}

int sb_avro_text_record(sb_avro_text_t *t, const sb_node_t *record, const char **p, const char *end,
                        int level, size_t *steps, sb_buf_t *out, sb_avro_text_field_t *fields) {
        ctx_t c = {.t = t, .end = end, .steps = steps};
        if (sb_node_type(record) != SB_T_RECORD || level >= SB_AVRO_TEXT_MAX_LEVEL ||
            ++*steps > SB_AVRO_MAX_STEPS - 64 || !sb_node_has_value(record))
                return -1;
        return record_value(&c, record, p, level, out, fields);
}

void sb_avro_text_resolve(sb_avro_text_field_t *fields, size_t n, const sb_buf_t *out) {
        for (size_t i = 0; i < n; i++)
                if (fields[i].str_in_out && fields[i].value.kind == SB_RULES_STRING)
                        fields[i].value.s = (const char *)out->data + fields[i].str_off;
}

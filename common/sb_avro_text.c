#include "sb_avro_text.h"

#include <errno.h>
#include <float.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "sb_datetime.h"

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

/* ---- lexing, as jansson's lexer accepts ---- */

int sb_avro_text_ws(const char **p, const char *end) {
        const char *q = *p;
        while (q < end && (*q == ' ' || *q == '\t' || *q == '\n' || *q == '\r'))
                q++;
        *p = q;
        return q < end ? (unsigned char)*q : -1;
}

static int literal(const char **p, const char *end, const char *word, size_t len) {
        if ((size_t)(end - *p) < len || memcmp(*p, word, len) != 0)
                return -1;
        *p += len;
        return 0;
}

int sb_avro_text_null(const char **p, const char *end) {
        sb_avro_text_ws(p, end);
        return literal(p, end, "null", 4);
}

static int hex4(const char *s, unsigned *out) {
        unsigned v = 0;
        for (int i = 0; i < 4; i++) {
                char c = s[i];
                v <<= 4;
                if (c >= '0' && c <= '9')
                        v |= (unsigned)(c - '0');
                else if (c >= 'a' && c <= 'f')
                        v |= (unsigned)(c - 'a' + 10);
                else if (c >= 'A' && c <= 'F')
                        v |= (unsigned)(c - 'A' + 10);
                else
                        return -1;
        }
        *out = v;
        return 0;
}

/* Length of the well-formed UTF-8 sequence at s (RFC 3629: no overlong
 * forms, no surrogates, nothing past U+10FFFF, as jansson checks), or 0. */
static size_t utf8_seq(const unsigned char *s, const unsigned char *end) {
        unsigned c = s[0];
        size_t n;
        unsigned cp;
        if (c >= 0xC2 && c <= 0xDF) {
                n = 2;
                cp = c & 0x1F;
        } else if (c >= 0xE0 && c <= 0xEF) {
                n = 3;
                cp = c & 0x0F;
        } else if (c >= 0xF0 && c <= 0xF4) {
                n = 4;
                cp = c & 0x07;
        } else {
                return 0;
        }
        if ((size_t)(end - s) < n)
                return 0;
        for (size_t i = 1; i < n; i++) {
                if ((s[i] & 0xC0) != 0x80)
                        return 0;
                cp = (cp << 6) | (s[i] & 0x3F);
        }
        if ((n == 3 && cp < 0x800) || (n == 4 && (cp < 0x10000 || cp > 0x10FFFF)) ||
            (cp >= 0xD800 && cp <= 0xDFFF))
                return 0;
        return n;
}

typedef struct {
        const char *raw; /* between the quotes */
        size_t raw_len;
        size_t len; /* decoded */
        int escapes;
} jstr_t;

/* Scans the string at *p (at its opening quote): validates it and measures
 * its decoded length. */
static int scan_string(const char **p, const char *end, jstr_t *s) {
        const unsigned char *q = (const unsigned char *)*p + 1, *e = (const unsigned char *)end;
        size_t len = 0;
        s->escapes = 0;
        s->raw = (const char *)q;
        for (;;) {
                /* The plain run first: most strings are nothing else. */
                const unsigned char *run = q;
                while (q < e && *q >= 0x20 && *q < 0x80 && *q != '"' && *q != '\\')
                        q++;
                len += (size_t)(q - run);
                if (q >= e)
                        return -1;
                unsigned char c = *q;
                if (c == '"')
                        break;
                if (c < 0x20)
                        return -1;
                if (c >= 0x80) {
                        size_t n = utf8_seq(q, e);
                        if (!n)
                                return -1;
                        q += n;
                        len += n;
                        continue;
                }
                /* An escape. */
                s->escapes = 1;
                if (e - q < 2)
                        return -1;
                c = q[1];
                if (c == 'u') {
                        unsigned cp, lo;
                        if (e - q < 6 || hex4((const char *)q + 2, &cp))
                                return -1;
                        q += 6;
                        if (cp == 0 || (cp >= 0xDC00 && cp <= 0xDFFF))
                                return -1; /* jansson: \u0000 needs JSON_ALLOW_NUL; a lone low surrogate */
                        if (cp >= 0xD800 && cp <= 0xDBFF) {
                                if (e - q < 6 || q[0] != '\\' || q[1] != 'u' ||
                                    hex4((const char *)q + 2, &lo) || lo < 0xDC00 || lo > 0xDFFF)
                                        return -1;
                                q += 6;
                                len += 4;
                        } else {
                                len += cp < 0x80 ? 1 : cp < 0x800 ? 2 : 3;
                        }
                        continue;
                }
                if (!strchr("\"\\/bfnrt", c) || c == 0)
                        return -1;
                q += 2;
                len++;
        }
        s->raw_len = (size_t)(q - (const unsigned char *)s->raw);
        s->len = len;
        *p = (const char *)q + 1;
        return 0;
}

static size_t put_utf8(unsigned cp, unsigned char *o) {
        if (cp < 0x80) {
                o[0] = (unsigned char)cp;
                return 1;
        }
        if (cp < 0x800) {
                o[0] = (unsigned char)(0xC0 | (cp >> 6));
                o[1] = (unsigned char)(0x80 | (cp & 0x3F));
                return 2;
        }
        if (cp < 0x10000) {
                o[0] = (unsigned char)(0xE0 | (cp >> 12));
                o[1] = (unsigned char)(0x80 | ((cp >> 6) & 0x3F));
                o[2] = (unsigned char)(0x80 | (cp & 0x3F));
                return 3;
        }
        o[0] = (unsigned char)(0xF0 | (cp >> 18));
        o[1] = (unsigned char)(0x80 | ((cp >> 12) & 0x3F));
        o[2] = (unsigned char)(0x80 | ((cp >> 6) & 0x3F));
        o[3] = (unsigned char)(0x80 | (cp & 0x3F));
        return 4;
}

/* Writes the decoded bytes of a scanned string (s->len of them) to o. */
static void decode_string(const jstr_t *s, unsigned char *o) {
        const char *q = s->raw, *e = s->raw + s->raw_len;
        if (!s->escapes) {
                memcpy(o, q, s->raw_len);
                return;
        }
        while (q < e) {
                if (*q != '\\') {
                        *o++ = (unsigned char)*q++;
                        continue;
                }
                char c = q[1];
                if (c == 'u') {
                        unsigned cp = 0, lo = 0xDC00; /* scan_string validated them */
                        hex4(q + 2, &cp);
                        q += 6;
                        if (cp >= 0xD800 && cp <= 0xDBFF) {
                                hex4(q + 2, &lo);
                                q += 6;
                                cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
                        }
                        o += put_utf8(cp, o);
                        continue;
                }
                static const char from[] = "\"\\/bfnrt", to[] = "\"\\/\b\f\n\r\t";
                *o++ = (unsigned char)to[strchr(from, c) - from];
                q += 2;
        }
}

/* The decoded string: its raw bytes when it has no escapes, else decoded
 * into the scratch buffer (valid until the next use of it). */
static int string_bytes(sb_avro_text_t *t, const jstr_t *s, const char **bytes) {
        if (!s->escapes) {
                *bytes = s->raw;
                return 0;
        }
        uint8_t *at;
        sb_buf_reset(&t->tmp);
        if (sb_buf_extend(&t->tmp, s->len, &at))
                return -1;
        decode_string(s, at);
        *bytes = (const char *)t->tmp.data;
        return 0;
}

int sb_avro_text_plain_string(const char **p, const char *end, const char **s, size_t *len) {
        jstr_t js;
        if (sb_avro_text_ws(p, end) != '"' || scan_string(p, end, &js) || js.escapes)
                return -1;
        *s = js.raw;
        *len = js.raw_len;
        return 0;
}

int sb_avro_text_name(const char **p, const char *end, const char **name, size_t *len) {
        if (sb_avro_text_plain_string(p, end, name, len) || sb_avro_text_ws(p, end) != ':')
                return -1;
        (*p)++;
        return 0;
}

typedef struct {
        int is_int;
        int64_t i;
        double d;
} jnum_t;

static const double pow10_exact[] = {1e0,  1e1,  1e2,  1e3,  1e4,  1e5,  1e6,  1e7,  1e8,  1e9,  1e10, 1e11,
                                     1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22};

/* A JSON number as jansson reads it: an integer (strtoll) unless it has a
 * fraction or an exponent, then a real (strtod).  Declines what jansson
 * refuses (leading zeros, overflow) and anything odd. */
static int scan_number(const char **p, const char *end, jnum_t *n) {
        const char *q = *p, *start = *p;
        int neg = 0;
        if (q < end && *q == '-') {
                neg = 1;
                q++;
        }
        if (q >= end)
                return -1;
        const char *digits = q;
        if (*q == '0') {
                q++;
                if (q < end && *q >= '0' && *q <= '9')
                        return -1;
        } else if (*q >= '1' && *q <= '9') {
                while (q < end && *q >= '0' && *q <= '9')
                        q++;
        } else {
                return -1;
        }
        const char *int_end = q;
        if (q >= end || (*q != '.' && *q != 'e' && *q != 'E')) {
                uint64_t v = 0;
                for (const char *d = digits; d < int_end; d++) {
                        unsigned dig = (unsigned)(*d - '0');
                        if (v > (UINT64_MAX - dig) / 10)
                                return -1;
                        v = v * 10 + dig;
                }
                if (v > (neg ? (uint64_t)INT64_MAX + 1 : (uint64_t)INT64_MAX))
                        return -1; /* jansson: "too big integer" */
                n->is_int = 1;
                n->i = neg ? (int64_t)(0 - v) : (int64_t)v;
                *p = q;
                return 0;
        }
        const char *frac = NULL, *frac_end = NULL;
        long exp = 0;
        if (*q == '.') {
                frac = ++q;
                while (q < end && *q >= '0' && *q <= '9')
                        q++;
                if (q == frac)
                        return -1;
                frac_end = q;
        }
        if (q < end && (*q == 'e' || *q == 'E')) {
                int eneg = 0;
                q++;
                if (q < end && (*q == '+' || *q == '-'))
                        eneg = *q++ == '-';
                const char *ed = q;
                while (q < end && *q >= '0' && *q <= '9') {
                        if (exp < 100000)
                                exp = exp * 10 + (*q - '0');
                        q++;
                }
                if (q == ed)
                        return -1;
                if (eneg)
                        exp = -exp;
        }
        n->is_int = 0;
        /* Clinger's fast path: a mantissa of at most 2^53 and a power of ten
         * that doubles hold exactly give the correctly rounded value in one
         * operation, which is what glibc's strtod returns. */
        uint64_t m = 0;
        int sig = 0;
        for (const char *d = digits; d < int_end; d++)
                if (sig || *d != '0') {
                        m = m * 10 + (uint64_t)(*d - '0');
                        sig++;
                        if (sig > 18)
                                goto slow;
                }
        for (const char *d = frac; d && d < frac_end; d++) {
                exp--;
                if (sig || *d != '0') {
                        m = m * 10 + (uint64_t)(*d - '0');
                        sig++;
                        if (sig > 18)
                                goto slow;
                }
        }
        if (m == 0) {
                n->d = neg ? -0.0 : 0.0;
                *p = q;
                return 0;
        }
        if (m <= (1ULL << 53) && exp >= -22 && exp <= 22) {
                double d = (double)m;
                d = exp < 0 ? d / pow10_exact[-exp] : d * pow10_exact[exp];
                n->d = neg ? -d : d;
                *p = q;
                return 0;
        }
slow:;
        char buf[80];
        size_t len = (size_t)(q - start);
        if (len >= sizeof(buf))
                return -1;
        memcpy(buf, start, len);
        buf[len] = 0;
        char *stop;
        errno = 0;
        double d = strtod(buf, &stop);
        if (stop != buf + len || ((d == HUGE_VAL || d == -HUGE_VAL) && errno == ERANGE))
                return -1; /* another locale's decimal point; jansson: "real number overflow" */
        n->d = d;
        *p = q;
        return 0;
}

int sb_avro_text_integer(const char **p, const char *end, int64_t *v) {
        jnum_t n;
        if (sb_avro_text_ws(p, end) < 0 || scan_number(p, end, &n) || !n.is_int)
                return -1;
        *v = n.i;
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
        int ch = sb_avro_text_ws(p, end);
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
        jstr_t s;
        const char *b;
        if (scan_string(p, c->end, &s) || string_bytes(c->t, &s, &b))
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
        int more = sb_avro_text_ws(p, c->end) == (is_map ? '}' : ']') ? 0 : 1;
        if (!more)
                (*p)++;
        while (more) {
                if (!sb_node_has_value(item))
                        return -1; /* only the empty one fits */
                if (is_map) {
                        jstr_t s;
                        if (count >= SB_AVRO_TEXT_MAX_MAP || sb_avro_text_ws(p, c->end) != '"' ||
                            scan_string(p, c->end, &s) || sb_avro_text_ws(p, c->end) != ':' ||
                            sb_avro_text_put_long(out, (int64_t)s.len))
                                return -1;
                        (*p)++;
                        uint8_t *kb;
                        if (sb_buf_extend(out, s.len, &kb))
                                return -1;
                        decode_string(&s, kb);
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
        if (sb_avro_text_ws(p, c->end) != '{')
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
        int more = sb_avro_text_ws(p, c->end) == '}' ? 0 : 1;
        if (!more)
                (*p)++;
        while (more) {
                const char *name;
                size_t len, i;
                if (sb_avro_text_name(p, c->end, &name, &len))
                        goto done;
                /* The expected field first: members mostly come in order. */
                for (i = next; i < nf + next; i++) {
                        const char *fname = sb_node_field_name(n, i % nf);
                        if (strncmp(fname, name, len) == 0 && fname[len] == 0)
                                break;
                }
                if (i == nf + next)
                        goto done; /* no such field (or the name has a NUL) */
                i %= nf;
                if (sp[i].seen)
                        goto done; /* jansson refuses duplicates */
                in_order &= i == next;
                sb_avro_text_ws(p, c->end);
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
                if (sb_buf_append(&t->reorder, out->data + start, len))
                        goto done;
                out->len = start;
                for (size_t i = 0; i < nf; i++) {
                        size_t at = out->len;
                        if (!sp[i].seen) {
                                if (put_default(n, i, out, c->steps))
                                        goto done;
                        } else if (sb_buf_append(out, t->reorder.data + (sp[i].beg - start),
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
static int set_string_view(sb_avro_text_field_t *f, const jstr_t *s) {
        f->value.kind = SB_RULES_STRING;
        f->value.s = s->escapes ? NULL : s->raw;
        f->value.len = s->escapes ? 0 : s->raw_len;
        f->unknown = s->escapes;
        return 0;
}

static int value(ctx_t *c, const sb_node_t *n, const char **p, int level, sb_buf_t *out,
                 sb_avro_text_field_t *f) {
        jnum_t num;
        jstr_t s;
        const char *b;
        int64_t x;
        /* sb_avro's bounds: the same count of types and steps, a margin below. */
        if (level >= SB_AVRO_TEXT_MAX_LEVEL || ++*c->steps > SB_AVRO_MAX_STEPS - 64 || !sb_node_has_value(n))
                return -1;
        int ch = sb_avro_text_ws(p, c->end);
        if (ch < 0)
                return -1;
        switch (sb_node_type(n)) {
        case SB_T_NULL:
                if (literal(p, c->end, "null", 4))
                        return -1;
                if (f)
                        f->value.kind = SB_RULES_NULL;
                return 0;
        case SB_T_BOOLEAN: {
                int t = ch == 't';
                if (t ? literal(p, c->end, "true", 4) : literal(p, c->end, "false", 5))
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
                            scan_string(p, c->end, &s) || string_bytes(c->t, &s, &b))
                                return -1;
                        ok = is_int ? sb_datetime_parse_date(b, s.len, &x)
                                    : sb_datetime_parse_timestamp_ms(b, s.len, &x);
                        if (!ok)
                                return -1;
                        if (f && set_string_view(f, &s))
                                return -1;
                } else {
                        if (scan_number(p, c->end, &num) || !num.is_int)
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
                if (scan_number(p, c->end, &num))
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
                if (ch != '"' || scan_string(p, c->end, &s) || sb_avro_text_put_long(out, (int64_t)s.len) ||
                    sb_buf_extend(out, s.len, &at))
                        return -1;
                decode_string(&s, at);
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
                        scan_string(&str_at, c->end, &s);
                        return set_string_view(f, &s);
                }
                return 0;
        case SB_T_ENUM:
                if (ch != '"' || scan_string(p, c->end, &s) || string_bytes(c->t, &s, &b))
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

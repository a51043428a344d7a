#include "sb_json_scan.h"

#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* Lexing, as jansson's lexer accepts: every "return -1" is a decline, the
 * caller's reference path (jansson) decides and names the error. */

int sb_json_scan_ws_skip(const char **p, const char *end) {
        const char *q = *p;
        while (q < end && (*q == ' ' || *q == '\t' || *q == '\n' || *q == '\r'))
                q++;
        *p = q;
        return q < end ? (unsigned char)*q : -1;
}

int sb_json_scan_literal(const char **p, const char *end, const char *word, size_t len) {
        if ((size_t)(end - *p) < len || memcmp(*p, word, len) != 0)
                return -1;
        *p += len;
        return 0;
}

int sb_json_scan_null(const char **p, const char *end) {
        sb_json_scan_ws(p, end);
        return sb_json_scan_literal(p, end, "null", 4);
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

/* 1 for the bytes a string's plain run is made of: printable ASCII but
 * the quote and the backslash (one load per byte, not four compares). */
static const unsigned char plain_byte[256] = {
        0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
        1, 1, 0, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
        1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 1, 1, 1,
        1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
        0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
        0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
        0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
        0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
};

/* The end of the plain run at q: eight bytes at a time (a word-at-a-time
 * test: no byte below 0x20, none with the high bit, no quote, no
 * backslash), the last few byte by byte.  Strings are most of a change
 * line's bytes. */
static const unsigned char *plain_run(const unsigned char *q, const unsigned char *e) {
        const uint64_t ones = 0x0101010101010101u, highs = 0x8080808080808080u;
        while (e - q >= 8) {
                uint64_t w;
                memcpy(&w, q, 8);
                /* The classic "has a zero byte" and "has a byte less than n"
                 * tests (exact for "any"): a byte below 0x20, the quote or the
                 * backslash (zero after the xor), or a byte with its high bit. */
                uint64_t quote = w ^ (ones * '"'), backslash = w ^ (ones * '\\');
                uint64_t bad = ((w - ones * 0x20) & ~w) | ((quote - ones) & ~quote) |
                               ((backslash - ones) & ~backslash) | w;
                bad &= highs;
#if defined(__GNUC__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
                /* The lowest flagged byte is exact (a false flag only ever
                 * sits above a true one): the first byte that is not plain. */
                if (bad)
                        return q + (__builtin_ctzll(bad) >> 3);
#else
                if (bad)
                        break;
#endif
                q += 8;
        }
        while (q < e && plain_byte[*q])
                q++;
        return q;
}

/* Scans the string at *p (at its opening quote): validates it and measures
 * its decoded length. */
int sb_json_scan_string(const char **p, const char *end, sb_json_scan_str_t *s) {
        const unsigned char *q = (const unsigned char *)*p + 1, *e = (const unsigned char *)end;
        size_t len = 0;
        s->escapes = 0;
        s->raw = (const char *)q;
        for (;;) {
                /* The plain run first: most strings are nothing else. */
                const unsigned char *run = q;
                q = plain_run(q, e);
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
void sb_json_scan_decode(const sb_json_scan_str_t *s, unsigned char *o) {
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
                        unsigned cp = 0, lo = 0xDC00; /* sb_json_scan_string validated them */
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

int sb_json_scan_plain_string(const char **p, const char *end, const char **s, size_t *len) {
        sb_json_scan_str_t js;
        if (sb_json_scan_ws(p, end) != '"' || sb_json_scan_string(p, end, &js) || js.escapes)
                return -1;
        *s = js.raw;
        *len = js.raw_len;
        return 0;
}

int sb_json_scan_name(const char **p, const char *end, const char **name, size_t *len) {
        if (sb_json_scan_plain_string(p, end, name, len) || sb_json_scan_ws(p, end) != ':')
                return -1;
        (*p)++;
        return 0;
}

static const double pow10_exact[] = {1e0,  1e1,  1e2,  1e3,  1e4,  1e5,  1e6,  1e7,  1e8,  1e9,  1e10, 1e11,
                                     1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22};

/* A JSON number as jansson reads it: an integer (strtoll) unless it has a
 * fraction or an exponent, then a real (strtod).  Declines what jansson
 * refuses (leading zeros, overflow) and anything odd. */
int sb_json_scan_number(const char **p, const char *end, sb_json_scan_num_t *n) {
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

int sb_json_scan_integer(const char **p, const char *end, int64_t *v) {
        sb_json_scan_num_t n;
        if (sb_json_scan_ws(p, end) < 0 || sb_json_scan_number(p, end, &n) || !n.is_int)
                return -1;
        *v = n.i;
        return 0;
}

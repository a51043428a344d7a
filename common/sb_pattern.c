#include "sb_pattern.h"

#include <locale.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* One element: a class of bytes, repeated `count` times.  Only ASCII bytes
 * can be in a class, so 128 bits hold it. */
typedef struct {
        uint64_t bits[2];
        unsigned count;
} pattern_elem_t;

struct sb_pattern_s {
        size_t total; /* the length of every matching subject */
        size_t n;
        pattern_elem_t elems[]; /* n of them */
};

static void class_add(pattern_elem_t *e, unsigned char c) { e->bits[c >> 6] |= (uint64_t)1 << (c & 63); }

static int is_printable(unsigned char c) { return c >= 0x20 && c < 0x7F; }

static int is_punct(unsigned char c) {
        return (c >= '!' && c <= '/') || (c >= ':' && c <= '@') || (c >= '[' && c <= '`') ||
               (c >= '{' && c <= '~');
}

/* A character that may stand for itself inside brackets: [ may open [: :]
 * and its kin, and \ is a literal there that readers take for an escape. */
static int is_bracket_char(unsigned char c) { return is_printable(c) && c != '[' && c != '\\'; }

/* Parses the inside of a bracket expression, `p` just after its [, into
 * `e`.  Returns the position after its ], or NULL if outside the subset. */
static const char *parse_bracket(const char *p, pattern_elem_t *e) {
        if (*p == '^')
                return NULL;
        for (int first = 1;; first = 0) {
                unsigned char c = (unsigned char)*p;
                if (c == ']' && !first)
                        return p + 1;
                if (!is_bracket_char(c)) /* the pattern's NUL too: an unterminated bracket */
                        return NULL;
                if (p[1] == '-' && p[2] != ']') {
                        unsigned char hi = (unsigned char)p[2];
                        /* A range from or to - or ], or reversed, is
                         * declined rather than reasoned about. */
                        if (c == '-' || c == ']' || !is_bracket_char(hi) || hi == '-' || hi < c)
                                return NULL;
                        for (unsigned k = c; k <= hi; k++)
                                class_add(e, (unsigned char)k);
                        p += 3;
                        continue;
                }
                if (c == '-' && !first && p[1] != ']')
                        return NULL; /* a - in the middle, as in [a-c-e] */
                class_add(e, c);
                p++;
        }
}

/* Parses one element at `s` into `e` (its class, not its count).  Returns
 * the position after it, or NULL if outside the subset. */
static const char *parse_element(const char *s, pattern_elem_t *e) {
        unsigned char c = (unsigned char)*s;
        if (c == '[')
                return parse_bracket(s + 1, e);
        if (c == '\\') {
                unsigned char d = (unsigned char)s[1];
                /* glibc reads \< \> \` \' as anchors; other punctuation
                 * after a backslash is itself. */
                if (!is_punct(d) || strchr("<>`'", d))
                        return NULL;
                class_add(e, d);
                return s + 2;
        }
        if (!is_printable(c) || strchr(".[]()*+?{}|^$\\", c))
                return NULL;
        class_add(e, c);
        return s + 1;
}

/* Parses {n} at `s` (its {).  Returns the position after it, or NULL if
 * it is not a fixed count within bounds. */
static const char *parse_count(const char *s, unsigned *count) {
        unsigned n = 0;
        int digits = 0;
        for (s++; *s >= '0' && *s <= '9'; s++) {
                if (++digits > 3)
                        return NULL;
                n = n * 10 + (unsigned)(*s - '0');
        }
        if (digits == 0 || *s != '}' || n > SB_PATTERN_MAX_COUNT)
                return NULL;
        *count = n;
        return s + 1;
}

/* Fills `p` (zeroed, with room for an element per byte of the pattern).
 * 1 if the whole pattern is in the subset. */
static int compile(const char *s, sb_pattern_t *p) {
        if (*s == '^')
                s++;
        while (*s && !(*s == '$' && !s[1])) {
                pattern_elem_t *e = &p->elems[p->n];
                s = parse_element(s, e);
                if (!s)
                        return 0;
                e->count = 1;
                if (*s == '{')
                        s = parse_count(s, &e->count);
                if (!s)
                        return 0;
                p->total += e->count;
                p->n++;
        }
        return 1;
}

/* regcomp reads a pattern in the calling thread's locale: the byte
 * meaning above is its meaning only in C or POSIX.  A thread with its own
 * locale (uselocale) is not looked into. */
static int locale_is_bytes(void) {
        if (uselocale((locale_t)0) != LC_GLOBAL_LOCALE)
                return 0;
        const int categories[] = {LC_CTYPE, LC_COLLATE};
        for (size_t i = 0; i < sizeof(categories) / sizeof(*categories); i++) {
                const char *name = setlocale(categories[i], NULL);
                if (!name || (strcmp(name, "C") != 0 && strcmp(name, "POSIX") != 0))
                        return 0;
        }
        return 1;
}

sb_err_t sb_pattern_new(const char *pattern, sb_pattern_t **out, char *errstr, size_t errstr_size) {
        *out = NULL;
        size_t len = strnlen(pattern, SB_PATTERN_MAX_LEN + 1);
        if (len > SB_PATTERN_MAX_LEN || !locale_is_bytes())
                return SB_OK;
        /* Each element takes at least one byte of the pattern. */
        sb_pattern_t *p = calloc(1, sizeof(*p) + len * sizeof(p->elems[0]));
        if (!p)
                return sb_seterr(SB_ERR_NOMEM, errstr, errstr_size, "out of memory");
        if (!compile(pattern, p)) {
                free(p);
                return SB_OK;
        }
        *out = p;
        return SB_OK;
}

void sb_pattern_destroy(sb_pattern_t *p) { free(p); }

int sb_pattern_match(const sb_pattern_t *p, const char *s, size_t len) {
        if (len != p->total)
                return 0;
        const unsigned char *b = (const unsigned char *)s;
        for (size_t i = 0; i < p->n; i++) {
                const pattern_elem_t *e = &p->elems[i];
                for (unsigned k = 0; k < e->count; k++) {
                        unsigned char c = *b++;
                        if (c >= 0x80 || !((e->bits[c >> 6] >> (c & 63)) & 1))
                                return 0;
                }
        }
        return 1;
}

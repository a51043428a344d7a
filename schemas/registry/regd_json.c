#include "regd_json.h"

size_t regd_utf8_prefix(const char *s) {
        const unsigned char *p = (const unsigned char *)s;
        size_t i = 0, n, k;
        unsigned long cp, min;
        while (p[i]) {
                unsigned char c = p[i];
                if (c < 0x80) {
                        i++;
                        continue;
                }
                if (c >= 0xC2 && c < 0xE0)
                        n = 2, cp = c & 0x1Fu, min = 0x80;
                else if (c >= 0xE0 && c < 0xF0)
                        n = 3, cp = c & 0x0Fu, min = 0x800;
                else if (c >= 0xF0 && c < 0xF5)
                        n = 4, cp = c & 0x07u, min = 0x10000;
                else
                        break;
                for (k = 1; k < n && (p[i + k] & 0xC0) == 0x80; k++) /* stops at the NUL */
                        cp = cp << 6 | (p[i + k] & 0x3Fu);
                if (k < n || cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
                        break;
                i += n;
        }
        return i;
}

static int hexval(char ch) {
        if (ch >= '0' && ch <= '9')
                return ch - '0';
        ch = (char)(ch | 0x20);
        return ch >= 'a' && ch <= 'f' ? ch - 'a' + 10 : -1;
}

int regd_pct_decode(const char *s, char *out, int plus) {
        char *w = out;
        int hi, lo;
        for (const char *p = s; *p;) {
                if (p[0] == '%') {
                        /* hexval('\0') is -1: a cut escape stops here. */
                        if ((hi = hexval(p[1])) < 0 || (lo = hexval(p[2])) < 0)
                                return -2;
                        if (hi == 0 && lo == 0)
                                return -1;
                        *w++ = (char)(hi * 16 + lo);
                        p += 3;
                } else {
                        *w++ = plus && *p == '+' ? ' ' : *p;
                        p++;
                }
        }
        *w = '\0';
        return out[regd_utf8_prefix(out)] == '\0' ? 0 : -1;
}

#include "sources/json_text.h"

#include <stdint.h>
#include <string.h>

int json_text_valid_utf8(const char *s, size_t len) {
        const unsigned char *p = (const unsigned char *)s, *end = p + len;
        while (p < end) {
                unsigned c = *p;
                size_t n;
                uint32_t cp;
                if (c == 0)
                        return 0;
                if (c < 0x80) {
                        p++;
                        continue;
                }
                if (c >= 0xc2 && c <= 0xdf) {
                        n = 1;
                        cp = c & 0x1f;
                } else if (c >= 0xe0 && c <= 0xef) {
                        n = 2;
                        cp = c & 0x0f;
                } else if (c >= 0xf0 && c <= 0xf4) {
                        n = 3;
                        cp = c & 0x07;
                } else
                        return 0;
                if ((size_t)(end - p) <= n)
                        return 0;
                for (size_t i = 1; i <= n; i++) {
                        if ((p[i] & 0xc0) != 0x80)
                                return 0;
                        cp = (cp << 6) | (p[i] & 0x3f);
                }
                /* Overlong forms, surrogates and code points past U+10FFFF. */
                if ((n == 2 && cp < 0x800) || (n == 3 && cp < 0x10000) || cp > 0x10ffff ||
                    (cp >= 0xd800 && cp <= 0xdfff))
                        return 0;
                p += n + 1;
        }
        return 1;
}

sb_err_t json_text_string(sb_buf_t *out, const char *s, size_t len) {
        if (!json_text_valid_utf8(s, len))
                return SB_ERR_INVALID;
        static const char hex[] = "0123456789abcdef";
        size_t start = out->len;
        sb_err_t err = sb_buf_append(out, "\"", 1);
        size_t run = 0; /* bytes at s[i - run, i) that need no escape */
        for (size_t i = 0; !err && i <= len; i++) {
                unsigned char c = i < len ? (unsigned char)s[i] : 0;
                if (i < len && c >= 0x20 && c != '"' && c != '\\') {
                        run++;
                        continue;
                }
                if (run)
                        err = sb_buf_append(out, s + i - run, run);
                run = 0;
                if (err || i == len)
                        break;
                char esc[6] = {'\\', 0, 0, 0, 0, 0};
                size_t n = 2;
                switch (c) {
                case '"': esc[1] = '"'; break;
                case '\\': esc[1] = '\\'; break;
                case '\n': esc[1] = 'n'; break;
                case '\r': esc[1] = 'r'; break;
                case '\t': esc[1] = 't'; break;
                default:
                        esc[1] = 'u';
                        esc[2] = '0';
                        esc[3] = '0';
                        esc[4] = hex[c >> 4];
                        esc[5] = hex[c & 15];
                        n = 6;
                }
                err = sb_buf_append(out, esc, n);
        }
        if (!err)
                err = sb_buf_append(out, "\"", 1);
        if (err)
                out->len = start;
        return err;
}

sb_err_t json_text_error_line(sb_buf_t *out, const char *reason) {
        char clean[1001];
        size_t n = strlen(reason);
        if (n > 1000)
                n = 1000;
        memcpy(clean, reason, n);
        clean[n] = '\0';
        /* The reason may quote input that is not UTF-8 (or cut a character
         * in two): then every non-ASCII byte becomes '?'. */
        if (!json_text_valid_utf8(clean, n))
                for (size_t i = 0; i < n; i++)
                        if ((unsigned char)clean[i] >= 0x80)
                                clean[i] = '?';
        sb_buf_reset(out);
        sb_err_t err =
                sb_buf_append(out, "{\"" JSON_TEXT_ERROR_MEMBER "\":", sizeof(JSON_TEXT_ERROR_MEMBER) + 3);
        if (!err)
                err = json_text_string(out, clean, n);
        if (!err)
                err = sb_buf_append(out, "}", 1);
        return err;
}

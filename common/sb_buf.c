#include "sb_buf.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void sb_buf_init(sb_buf_t *buf, size_t max) {
        buf->data = NULL;
        buf->len = 0;
        buf->cap = 0;
        buf->max = max;
}

void sb_buf_free(sb_buf_t *buf) {
        free(buf->data);
        buf->data = NULL;
        buf->len = buf->cap = 0;
}

void sb_buf_reset(sb_buf_t *buf) {
        buf->len = 0;
        if (buf->data)
                buf->data[0] = 0;
}

static sb_err_t sb_buf_reserve(sb_buf_t *buf, size_t extra) {
        size_t need = buf->len + extra + 1; /* room for the NUL */
        if (need < buf->len || need > buf->max + 1)
                return SB_ERR_NOMEM;
        if (need <= buf->cap)
                return SB_OK;
        size_t cap = buf->cap ? buf->cap : 64;
        while (cap < need)
                cap *= 2;
        if (cap > buf->max + 1)
                cap = buf->max + 1;
        uint8_t *p = realloc(buf->data, cap);
        if (!p)
                return SB_ERR_NOMEM;
        buf->data = p;
        buf->cap = cap;
        return SB_OK;
}

sb_err_t sb_buf_append_grow(sb_buf_t *buf, const void *data, size_t len) {
        sb_err_t err = sb_buf_reserve(buf, len);
        if (err)
                return err;
        if (len)
                memcpy(buf->data + buf->len, data, len);
        buf->len += len;
        buf->data[buf->len] = 0;
        return SB_OK;
}

sb_err_t sb_buf_extend(sb_buf_t *buf, size_t len, uint8_t **at) {
        sb_err_t err = sb_buf_reserve(buf, len);
        if (err)
                return err;
        *at = buf->data + buf->len;
        memset(*at, 0, len + 1);
        buf->len += len;
        return SB_OK;
}

sb_err_t sb_buf_printf(sb_buf_t *buf, const char *fmt, ...) {
        va_list ap;
        va_start(ap, fmt);
        int n = vsnprintf(NULL, 0, fmt, ap);
        va_end(ap);
        if (n < 0)
                return SB_ERR_INVALID;
        sb_err_t err = sb_buf_reserve(buf, (size_t)n);
        if (err)
                return err;
        va_start(ap, fmt);
        vsnprintf((char *)buf->data + buf->len, (size_t)n + 1, fmt, ap);
        va_end(ap);
        buf->len += (size_t)n;
        return SB_OK;
}

uint8_t *sb_buf_detach(sb_buf_t *buf, size_t *len) {
        uint8_t *p = buf->data;
        if (len)
                *len = buf->len;
        buf->data = NULL;
        buf->len = buf->cap = 0;
        return p;
}

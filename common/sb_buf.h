/*
 * sb_buf: a growable byte buffer with a size cap (after curl's dynbuf).
 * Used for Avro bodies, wire frames and HTTP bodies.
 */
#ifndef SB_BUF_H
#define SB_BUF_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "sb_error.h"

typedef struct {
        uint8_t *data; /* owned; NUL-terminated past `len` for text use */
        size_t len;
        size_t cap;
        size_t max; /* growth beyond this fails with SB_ERR_NOMEM */
} sb_buf_t;

/* Initialises an empty buffer that may grow to `max` bytes. */
void sb_buf_init(sb_buf_t *buf, size_t max);
/* Frees the buffer's memory and empties it; the struct may be reused. */
void sb_buf_free(sb_buf_t *buf);
void sb_buf_reset(sb_buf_t *buf);
sb_err_t sb_buf_append_grow(sb_buf_t *buf, const void *data, size_t len);
/* Appends `len` bytes.  Inline for the common case, a few bytes into room
 * the buffer already has: encoders append field by field. */
static inline sb_err_t sb_buf_append(sb_buf_t *buf, const void *data, size_t len) {
        if (len >= buf->cap - buf->len) /* cap > len whenever data is set: room for the NUL */
                return sb_buf_append_grow(buf, data, len);
        if (len)
                memcpy(buf->data + buf->len, data, len);
        buf->len += len;
        buf->data[buf->len] = 0;
        return SB_OK;
}
/* Grows the buffer by `len` zeroed bytes and points *at to them (valid
 * until the next call that grows the buffer). */
sb_err_t sb_buf_extend(sb_buf_t *buf, size_t len, uint8_t **at);
sb_err_t sb_buf_printf(sb_buf_t *buf, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Hands the data to the caller (free() it) and empties the buffer. */
uint8_t *sb_buf_detach(sb_buf_t *buf, size_t *len);

#endif

/*
 * sb_buf: a growable byte buffer with a size cap (after curl's dynbuf).
 * Used for Avro bodies, wire frames and HTTP bodies.
 */
#ifndef SB_BUF_H
#define SB_BUF_H

#include <stddef.h>
#include <stdint.h>

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
sb_err_t sb_buf_append(sb_buf_t *buf, const void *data, size_t len);
/* Grows the buffer by `len` zeroed bytes and points *at to them (valid
 * until the next call that grows the buffer). */
sb_err_t sb_buf_extend(sb_buf_t *buf, size_t len, uint8_t **at);
sb_err_t sb_buf_printf(sb_buf_t *buf, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Hands the data to the caller (free() it) and empties the buffer. */
uint8_t *sb_buf_detach(sb_buf_t *buf, size_t *len);

#endif

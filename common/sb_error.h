/*
 * sb_error: the one error convention of libsharebus.
 *
 * Every fallible function returns an sb_err_t and, where it can say more,
 * fills a caller-supplied `char *errstr, size_t errstr_size` with a
 * human-readable reason.  Codes are part of the interface: never renumber.
 */
#ifndef SB_ERROR_H
#define SB_ERROR_H

#include <stddef.h>

typedef enum {
        SB_OK = 0,
        SB_ERR_INVALID = 1,   /* input does not fit (bad JSON, value vs schema) */
        SB_ERR_CONFIG = 2,    /* bad configuration file or setting */
        SB_ERR_IO = 3,        /* file or socket I/O failed */
        SB_ERR_NOMEM = 4,     /* allocation failed */
        SB_ERR_SCHEMA = 5,    /* schema cannot be parsed or used */
        SB_ERR_REGISTRY = 6,  /* schema registry request failed */
        SB_ERR_KAFKA = 7,     /* Kafka client error */
        SB_ERR_DB = 8,        /* target database error */
        SB_ERR_NOT_FOUND = 9, /* the thing asked for does not exist */
        SB_ERR_WIRE = 10,     /* bytes are not in the Confluent wire format */
} sb_err_t;

/* Returns a static, never-NULL description of `err`. */
const char *sb_err2str(sb_err_t err);

/* Formats into errstr (if not NULL) and returns `err`: lets callers write
 * `return sb_seterr(SB_ERR_IO, errstr, errstr_size, "open %s: %s", ...)`. */
sb_err_t sb_seterr(sb_err_t err, char *errstr, size_t errstr_size, const char *fmt, ...)
        __attribute__((format(printf, 4, 5)));

#endif

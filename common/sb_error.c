#include "sb_error.h"

#include <stdarg.h>
#include <stdio.h>

const char *sb_err2str(sb_err_t err) {
        switch (err) {
        case SB_OK: return "success";
        case SB_ERR_INVALID: return "invalid input";
        case SB_ERR_CONFIG: return "configuration error";
        case SB_ERR_IO: return "I/O error";
        case SB_ERR_NOMEM: return "out of memory";
        case SB_ERR_SCHEMA: return "schema error";
        case SB_ERR_REGISTRY: return "schema registry error";
        case SB_ERR_KAFKA: return "Kafka error";
        case SB_ERR_DB: return "database error";
        case SB_ERR_NOT_FOUND: return "not found";
        case SB_ERR_WIRE: return "not in the Confluent wire format";
        }
        return "unknown error";
}

sb_err_t sb_seterr(sb_err_t err, char *errstr, size_t errstr_size, const char *fmt, ...) {
        if (errstr && errstr_size > 0) {
                va_list ap;
                va_start(ap, fmt);
                vsnprintf(errstr, errstr_size, fmt, ap);
                va_end(ap);
        }
        return err;
}

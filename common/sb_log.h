/*
 * sb_log: levelled logging to a FILE (stderr by default).
 *
 * A logger is a small handle owned by main and passed to the components that
 * log.  SB_LOG tests the level before formatting anything, so a disabled
 * level costs one comparison.  librdkafka's log callback is routed here by
 * sb_kafka (rd_kafka_conf_set_opaque + sb_log_rdkafka_cb).
 */
#ifndef SB_LOG_H
#define SB_LOG_H

#include <stdio.h>

#include "sb_error.h"

typedef enum {
        SB_LOG_ERROR = 0,
        SB_LOG_WARN = 1,
        SB_LOG_INFO = 2,
        SB_LOG_DEBUG = 3,
} sb_log_level_t;

typedef struct sb_log_s sb_log_t;

/* A logger writing to `out` (not owned; NULL means stderr) with the given
 * program name (copied) and threshold, into a new *log the caller destroys
 * with sb_log_destroy.  Fails only for want of memory (*log NULL). */
sb_err_t sb_log_new(const char *program, sb_log_level_t level, FILE *out, sb_log_t **log, char *errstr,
                    size_t errstr_size);
void sb_log_destroy(sb_log_t *log);

/* Parses "error", "warn", "info", "debug"; returns -1 if unknown. */
int sb_log_level_parse(const char *name);
void sb_log_set_level(sb_log_t *log, sb_log_level_t level);
int sb_log_enabled(const sb_log_t *log, sb_log_level_t level);

void sb_log_write(sb_log_t *log, sb_log_level_t level, const char *fmt, ...)
        __attribute__((format(printf, 3, 4)));

/* Maps a syslog level (librdkafka's) to ours and logs "rdkafka: fac: msg". */
void sb_log_syslog(sb_log_t *log, int syslog_level, const char *facility, const char *msg);

#define SB_LOG(log, level, ...)                                                                              \
        do {                                                                                                 \
                if (sb_log_enabled((log), (level)))                                                          \
                        sb_log_write((log), (level), __VA_ARGS__);                                           \
        } while (0)

#endif

#include "sb_log.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>

struct sb_log_s {
        char program[64];
        sb_log_level_t level;
        FILE *out;
};

static const char *level_names[] = {"error", "warn", "info", "debug"};

sb_err_t sb_log_new(const char *program, sb_log_level_t level, FILE *out, sb_log_t **logp, char *errstr,
                    size_t errstr_size) {
        sb_log_t *log = calloc(1, sizeof(*log));
        *logp = NULL;
        if (!log)
                return sb_seterr(SB_ERR_NOMEM, errstr, errstr_size, "out of memory");
        snprintf(log->program, sizeof(log->program), "%s", program ? program : "sharebus");
        log->level = level;
        log->out = out ? out : stderr;
        *logp = log;
        return SB_OK;
}

void sb_log_destroy(sb_log_t *log) { free(log); }

int sb_log_level_parse(const char *name) {
        for (size_t i = 0; i < sizeof(level_names) / sizeof(*level_names); i++)
                if (name && strcmp(name, level_names[i]) == 0)
                        return (int)i;
        return -1;
}

void sb_log_set_level(sb_log_t *log, sb_log_level_t level) { log->level = level; }

int sb_log_enabled(const sb_log_t *log, sb_log_level_t level) { return log && level <= log->level; }

void sb_log_write(sb_log_t *log, sb_log_level_t level, const char *fmt, ...) {
        char when[32];
        struct timeval tv;
        struct tm tm;
        va_list ap;

        if (!log)
                return;
        gettimeofday(&tv, NULL);
        gmtime_r(&tv.tv_sec, &tm);
        strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%S", &tm);
        /* One fprintf per line keeps lines whole when threads log at once. */
        char msg[2048];
        va_start(ap, fmt);
        vsnprintf(msg, sizeof(msg), fmt, ap);
        va_end(ap);
        fprintf(log->out, "%s.%03dZ %s %s: %s\n", when, (int)(tv.tv_usec / 1000), log->program,
                level_names[level], msg);
        fflush(log->out);
}

void sb_log_syslog(sb_log_t *log, int syslog_level, const char *facility, const char *msg) {
        sb_log_level_t level;
        if (syslog_level <= 3)
                level = SB_LOG_ERROR;
        else if (syslog_level == 4)
                level = SB_LOG_WARN;
        else if (syslog_level <= 6)
                level = SB_LOG_INFO;
        else
                level = SB_LOG_DEBUG;
        SB_LOG(log, level, "rdkafka: %s: %s", facility, msg);
}

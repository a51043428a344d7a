#include "fuzzutil.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const char *fuzz_path(const char *rel) {
        static char path[4096];
        const char *src = getenv("SHAREBUS_SRC");
        snprintf(path, sizeof(path), "%s/%s", src && *src ? src : ".", rel);
        return path;
}

sb_dataset_t *fuzz_dataset(const char *dir, const char *topic) {
        char err[512];
        sb_dataset_t *ds = NULL;
        if (sb_dataset_load(fuzz_path(dir), topic, &ds, err, sizeof(err)))
                fuzz_fail("dataset %s in %s: %s (run from the top of the tree or set SHAREBUS_SRC)", topic,
                          dir, err);
        return ds;
}

sb_schema_t *fuzz_schema(const char *json) {
        char err[512];
        sb_schema_t *s = NULL;
        if (sb_schema_new(json, strlen(json), &s, err, sizeof(err)))
                fuzz_fail("schema %s: %s", json, err);
        return s;
}

sb_log_t *fuzz_log(void) {
        static sb_log_t *log;
        char err[256];
        if (!log) {
                FILE *null = fopen("/dev/null", "w");
                if (!null || sb_log_new("fuzz", SB_LOG_ERROR, null, &log, err, sizeof(err)))
                        fuzz_fail("logger: %s", null ? err : "cannot open /dev/null");
        }
        return log;
}

char *fuzz_strndup(const uint8_t *data, size_t size) {
        char *s = malloc(size + 1);
        if (!s)
                fuzz_fail("out of memory for %zu bytes", size);
        if (size)
                memcpy(s, data, size);
        s[size] = '\0';
        return s;
}

void fuzz_fail(const char *fmt, ...) {
        va_list ap;
        va_start(ap, fmt);
        fputs("fuzz: invariant broken: ", stderr);
        vfprintf(stderr, fmt, ap);
        fputc('\n', stderr);
        va_end(ap);
        abort();
}

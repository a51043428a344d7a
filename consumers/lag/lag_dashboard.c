#include "lag/lag_dashboard.h"

#include <errno.h>
#include <libgen.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const struct {
        const char *name;
        const char *content_type;
} FILES[] = {
        {"index.html", "text/html; charset=utf-8"},   {"dashboard.js", "text/javascript; charset=utf-8"},
        {"dashboard.css", "text/css; charset=utf-8"}, {"uPlot.iife.min.js", "text/javascript; charset=utf-8"},
        {"uPlot.min.css", "text/css; charset=utf-8"},
};
#define N_FILES (sizeof(FILES) / sizeof(*FILES))

struct lag_dashboard_s {
        char dir[PATH_MAX];
        char *data[N_FILES];
        size_t len[N_FILES];
};

/* <folder of the running program>/../share/sharebus/dashboard */
static sb_err_t default_dir(char *out, size_t size, char *errstr, size_t errstr_size) {
        char exe[PATH_MAX];
        ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
        if (n <= 0)
                return sb_seterr(SB_ERR_NOT_FOUND, errstr, errstr_size,
                                 "cannot tell the program's folder (/proc/self/exe): %s; set dashboard_dir",
                                 strerror(errno));
        exe[n] = '\0';
        snprintf(out, size, "%s/../share/sharebus/dashboard", dirname(exe));
        return SB_OK;
}

static sb_err_t read_file(const char *path, char **data, size_t *len, char *errstr, size_t errstr_size) {
        FILE *f = fopen(path, "rb");
        if (!f)
                return sb_seterr(SB_ERR_NOT_FOUND, errstr, errstr_size, "dashboard file %s: %s", path,
                                 strerror(errno));
        char *buf = malloc(LAG_DASHBOARD_MAX_FILE + 1);
        size_t n = buf ? fread(buf, 1, LAG_DASHBOARD_MAX_FILE + 1, f) : 0;
        int failed = buf ? ferror(f) : 1;
        fclose(f);
        if (failed || n > LAG_DASHBOARD_MAX_FILE) {
                free(buf);
                return sb_seterr(failed ? SB_ERR_NOT_FOUND : SB_ERR_INVALID, errstr, errstr_size,
                                 "dashboard file %s: %s", path,
                                 failed ? "cannot be read" : "larger than the 4 MiB a file may have");
        }
        char *fitted = realloc(buf, n ? n : 1); /* (the read took the largest size) */
        if (fitted)
                buf = fitted;
        *data = buf;
        *len = n;
        return SB_OK;
}

sb_err_t lag_dashboard_new(const char *dir, lag_dashboard_t **out, char *errstr, size_t errstr_size) {
        *out = NULL;
        lag_dashboard_t *d = calloc(1, sizeof(*d));
        if (!d)
                return sb_seterr(SB_ERR_NOMEM, errstr, errstr_size, "out of memory");
        sb_err_t err = SB_OK;
        if (dir && *dir)
                snprintf(d->dir, sizeof(d->dir), "%s", dir);
        else
                err = default_dir(d->dir, sizeof(d->dir), errstr, errstr_size);
        for (size_t i = 0; !err && i < N_FILES; i++) {
                char path[PATH_MAX + 64];
                snprintf(path, sizeof(path), "%s/%s", d->dir, FILES[i].name);
                err = read_file(path, &d->data[i], &d->len[i], errstr, errstr_size);
        }
        if (err) {
                lag_dashboard_destroy(d);
                return err;
        }
        *out = d;
        return SB_OK;
}

void lag_dashboard_destroy(lag_dashboard_t *d) {
        if (!d)
                return;
        for (size_t i = 0; i < N_FILES; i++)
                free(d->data[i]);
        free(d);
}

const char *lag_dashboard_dir(const lag_dashboard_t *d) { return d->dir; }

unsigned lag_dashboard_answer(const lag_dashboard_t *d, const char *path, sb_buf_t *body,
                              const char **content_type) {
        const char *name = NULL;
        if (strcmp(path, "/") == 0 || strcmp(path, "/dashboard") == 0 || strcmp(path, "/dashboard/") == 0)
                name = "index.html";
        else if (strncmp(path, "/dashboard/", 11) == 0)
                name = path + 11;
        for (size_t i = 0; name && i < N_FILES; i++) {
                if (strcmp(name, FILES[i].name) != 0)
                        continue;
                *content_type = FILES[i].content_type;
                return sb_buf_append(body, d->data[i], d->len[i]) ? 500 : 200;
        }
        return 0;
}

#include "sources/source_jsonl.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "change_line.h"

/* Lines handed over per next(): their text stays in `lines` until then. */
#define JSONL_BATCH_MAX 1024

typedef struct {
        FILE *in;
        const char *path; /* borrowed from the config */
        char *lines[JSONL_BATCH_MAX];
        size_t caps[JSONL_BATCH_MAX];
        source_record_t records[JSONL_BATCH_MAX];
        uint64_t offset;
        unsigned long line_no;
} jsonl_t;

static sb_err_t jsonl_open(const sb_config_t *cfg, const source_options_t *opts, sb_log_t *log, void **state,
                           char *errstr, size_t errstr_size) {
        if (opts->snapshot)
                return sb_seterr(SB_ERR_CONFIG, errstr, errstr_size,
                                 "--snapshot needs a database source (sqlite or postgresql), not jsonl");
        (void)log;
        const char *path = sb_config_string(cfg, "input");
        jsonl_t *j = calloc(1, sizeof(*j));
        if (!j)
                return sb_seterr(SB_ERR_NOMEM, errstr, errstr_size, "out of memory");
        j->path = strcmp(path, "-") ? path : "stdin";
        j->in = strcmp(path, "-") == 0 ? stdin : fopen(path, "r");
        if (!j->in) {
                free(j);
                return sb_seterr(SB_ERR_IO, errstr, errstr_size, "%s: %s", path, strerror(errno));
        }
        *state = j;
        return SB_OK;
}

static sb_err_t jsonl_next(void *state, size_t max, int timeout_ms, source_batch_t *out, char *errstr,
                           size_t errstr_size) {
        jsonl_t *j = state;
        (void)timeout_ms;
        if (max > JSONL_BATCH_MAX)
                max = JSONL_BATCH_MAX;
        size_t n = 0;
        while (n < max) {
                ssize_t len = getline(&j->lines[n], &j->caps[n], j->in);
                if (len < 0)
                        break;
                j->offset += (uint64_t)len;
                j->line_no++;
                if (sb_change_line_is_blank(j->lines[n], (size_t)len))
                        continue;
                while (len > 0 && (j->lines[n][len - 1] == '\n' || j->lines[n][len - 1] == '\r'))
                        len--;
                source_record_t *r = &j->records[n];
                r->text = j->lines[n];
                r->len = (size_t)len;
                r->position = j->offset;
                snprintf(r->where, sizeof(r->where), "%s:%lu", j->path, j->line_no);
                n++;
        }
        out->records = j->records;
        out->count = n;
        if (n == 0 && ferror(j->in))
                return sb_seterr(SB_ERR_IO, errstr, errstr_size, "%s: read error: %s", j->path,
                                 strerror(errno));
        if (n == 0 && feof(j->in))
                return sb_seterr(SB_ERR_NOT_FOUND, errstr, errstr_size, "%s: end of input", j->path);
        return SB_OK;
}

static sb_err_t jsonl_ack(void *state, uint64_t position, char *errstr, size_t errstr_size) {
        (void)state;
        (void)position;
        (void)errstr;
        (void)errstr_size;
        return SB_OK;
}

static void jsonl_close(void *state) {
        jsonl_t *j = state;
        if (j->in && j->in != stdin)
                fclose(j->in);
        for (size_t i = 0; i < JSONL_BATCH_MAX; i++)
                free(j->lines[i]);
        free(j);
}

const source_ops_t source_jsonl_ops = {
        .name = "jsonl",
        .open = jsonl_open,
        .next = jsonl_next,
        .ack = jsonl_ack,
        .stats = NULL,
        .close = jsonl_close,
};

#include "sources/source_jsonl.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "change_line.h"
#include "sources/file_input.h"
#include "sources/json_text.h"

/* Lines handed over per next(), and the bytes of text after which a batch
 * ends early: their text stays in `text` until the next call. */
#define JSONL_BATCH_MAX 1024
#define JSONL_BATCH_BYTES (16u << 20)

typedef struct {
        file_input_t *in;
        size_t max_line;
        sb_buf_t line;
        /* Read ahead of the lines, for a regular file (which never blocks):
         * a block at a time, lines found with memchr, instead of a call
         * per byte.  Pipes and terminals are read a byte at a time, so a
         * line is handed over as soon as it is there. */
        FILE *ahead_of;
        int ahead_ok;
        size_t ahead_at, ahead_end;
        char ahead[64 * 1024];
        sb_buf_t text;  /* the batch's lines, one after the other */
        sb_buf_t error; /* an error line being built */
        source_record_t records[JSONL_BATCH_MAX];
        size_t starts[JSONL_BATCH_MAX];
        uint64_t off; /* bytes of the current file read */
        unsigned long line_no;
} jsonl_t;

static void jsonl_close(void *state) {
        jsonl_t *j = state;
        if (!j)
                return;
        file_input_destroy(j->in);
        sb_buf_free(&j->line);
        sb_buf_free(&j->text);
        sb_buf_free(&j->error);
        free(j);
}

static sb_err_t jsonl_open(const sb_config_t *cfg, const source_options_t *opts, sb_log_t *log, void **state,
                           char *errstr, size_t errstr_size) {
        if (opts->snapshot)
                return sb_seterr(SB_ERR_CONFIG, errstr, errstr_size,
                                 "--snapshot needs a database source (sqlite or postgresql), not jsonl");
        jsonl_t *j = calloc(1, sizeof(*j));
        if (!j)
                return sb_seterr(SB_ERR_NOMEM, errstr, errstr_size, "out of memory");
        long long max_line = sb_config_int(cfg, "max_line_bytes");
        j->max_line = max_line > 0 ? (size_t)max_line : 4u << 20;
        sb_buf_init(&j->line, j->max_line);
        sb_buf_init(&j->text, JSONL_BATCH_BYTES + j->max_line + 4096);
        sb_buf_init(&j->error, 4096);
        file_input_options_t fo;
        file_input_options_from_config(cfg, ".jsonl", &fo);
        fo.drain = opts->drain;
        sb_err_t err = file_input_new(&fo, log, &j->in, errstr, errstr_size);
        if (err) {
                jsonl_close(j);
                return err;
        }
        *state = j;
        return SB_OK;
}

/* read_line, a byte at a time (pipes, terminals). */
static int read_line_bytes(jsonl_t *j, FILE *f, uint64_t *consumed, int *too_long) {
        char chunk[4096];
        size_t n = 0;
        int c = EOF;
        while ((c = getc_unlocked(f)) != EOF) {
                (*consumed)++;
                if (c == '\n')
                        break;
                chunk[n++] = (char)c;
                if (n == sizeof(chunk)) {
                        if (!*too_long && sb_buf_append(&j->line, chunk, n))
                                *too_long = 1;
                        n = 0;
                }
        }
        if (n && !*too_long && sb_buf_append(&j->line, chunk, n))
                *too_long = 1;
        return *consumed > 0;
}

/* Reads one line (its newline included in *consumed, not in j->line) into
 * j->line, keeping at most max_line bytes; *too_long when there were more.
 * Returns 0 at the end of the file with nothing read. */
static int read_line(jsonl_t *j, FILE *f, uint64_t *consumed, int *too_long) {
        sb_buf_reset(&j->line);
        *consumed = 0;
        *too_long = 0;
        if (j->ahead_of != f) {
                struct stat st;
                j->ahead_of = f;
                j->ahead_ok = fstat(fileno(f), &st) == 0 && S_ISREG(st.st_mode);
                j->ahead_at = j->ahead_end = 0;
        }
        if (!j->ahead_ok)
                return read_line_bytes(j, f, consumed, too_long);
        for (;;) {
                if (j->ahead_at == j->ahead_end) {
                        j->ahead_at = 0;
                        j->ahead_end = fread(j->ahead, 1, sizeof(j->ahead), f);
                        if (j->ahead_end == 0)
                                return *consumed > 0; /* a last line without its newline counts */
                }
                const char *at = j->ahead + j->ahead_at;
                size_t avail = j->ahead_end - j->ahead_at;
                const char *nl = memchr(at, '\n', avail);
                size_t take = nl ? (size_t)(nl - at) : avail;
                if (!*too_long && take && sb_buf_append(&j->line, at, take))
                        *too_long = 1;
                *consumed += take + (nl != NULL);
                j->ahead_at += take + (nl != NULL);
                if (nl)
                        return 1;
        }
}

static sb_err_t jsonl_next(void *state, size_t max, int timeout_ms, source_batch_t *out, char *errstr,
                           size_t errstr_size) {
        jsonl_t *j = state;
        if (max > JSONL_BATCH_MAX)
                max = JSONL_BATCH_MAX;
        sb_buf_reset(&j->text);
        size_t n = 0;
        sb_err_t err = SB_OK;
        while (n < max && j->text.len < JSONL_BATCH_BYTES) {
                file_input_file_t cur;
                /* Wait only while the batch is empty. */
                if ((err = file_input_current(j->in, n ? 0 : timeout_ms, &cur, errstr, errstr_size)) ||
                    !cur.f)
                        break;
                if (cur.fresh) {
                        j->ahead_of = NULL; /* a new file: nothing read ahead of it */
                        j->off = cur.resume;
                        j->line_no = 0;
                        if (cur.resume &&
                            (err = file_input_skip(cur.f, cur.resume, &j->line_no, errstr, errstr_size)))
                                break;
                }
                uint64_t used = 0;
                int too_long = 0;
                if (!read_line(j, cur.f, &used, &too_long)) {
                        if (ferror(cur.f)) {
                                err = sb_seterr(SB_ERR_IO, errstr, errstr_size, "%s: read error", cur.name);
                                break;
                        }
                        file_input_end(j->in, j->off);
                        continue;
                }
                j->off += used;
                j->line_no++;
                const char *text = j->line.data ? (const char *)j->line.data : "";
                size_t len = j->line.len;
                if (!too_long && sb_change_line_is_blank(text, len))
                        continue;
                source_record_t *r = &j->records[n];
                snprintf(r->where, sizeof(r->where), "%s:%lu", cur.name, j->line_no);
                r->number = (int64_t)j->line_no;
                char why[256] = "";
                if (file_input_position(j->in, j->off, &r->position, why, sizeof(why)) == SB_OK && too_long)
                        snprintf(why, sizeof(why), "line longer than %zu bytes (max_line_bytes)",
                                 j->max_line);
                if (why[0]) {
                        char reason[512];
                        snprintf(reason, sizeof(reason), "%s: %s", r->where, why);
                        if ((err = json_text_error_line(&j->error, reason)))
                                break;
                        text = (const char *)j->error.data;
                        len = j->error.len;
                }
                while (len > 0 && text[len - 1] == '\r')
                        len--;
                j->starts[n] = j->text.len;
                if ((err = sb_buf_append(&j->text, text, len))) {
                        err = sb_seterr(err, errstr, errstr_size, "out of memory");
                        break;
                }
                r->len = len;
                n++;
        }
        for (size_t i = 0; i < n; i++)
                j->records[i].text = (const char *)j->text.data + j->starts[i];
        out->records = j->records;
        out->count = n;
        /* Records read before an error are handed over; the error comes back
         * at the next call. */
        return n > 0 ? SB_OK : err;
}

static sb_err_t jsonl_ack(void *state, uint64_t position, char *errstr, size_t errstr_size) {
        jsonl_t *j = state;
        return file_input_ack(j->in, position, errstr, errstr_size);
}

static void jsonl_stats(void *state, source_stats_t *out) {
        jsonl_t *j = state;
        file_input_stats(j->in, out);
}

const source_ops_t source_jsonl_ops = {
        .name = "jsonl",
        .open = jsonl_open,
        .next = jsonl_next,
        .ack = jsonl_ack,
        .stats = jsonl_stats,
        .close = jsonl_close,
};

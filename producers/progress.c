#include "progress.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

struct progress_s {
        FILE *out;
        int terminal;
        int64_t start_ms;
        int64_t last_draw_ms;
        int drawn;
};

sb_err_t progress_new(FILE *out, int terminal, int64_t now_ms, progress_t **p, char *errstr,
                      size_t errstr_size) {
        progress_t *pr = calloc(1, sizeof(*pr));
        if (!pr)
                return sb_seterr(SB_ERR_NOMEM, errstr, errstr_size, "out of memory");
        pr->out = out;
        pr->terminal = terminal;
        pr->start_ms = now_ms;
        pr->last_draw_ms = now_ms - PROGRESS_REDRAW_MS;
        *p = pr;
        return SB_OK;
}

void progress_destroy(progress_t *p) { free(p); }

int progress_is_terminal(FILE *f) { return isatty(fileno(f)); }

void progress_format_bytes(int64_t n, char *buf, size_t size) {
        static const char *const units[] = {"B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB"};
        if (n < 1024) {
                snprintf(buf, size, "%lld B", (long long)(n < 0 ? 0 : n));
                return;
        }
        double v = (double)n;
        size_t u = 0;
        while (v >= 1024 && u + 1 < sizeof(units) / sizeof(*units)) {
                v /= 1024;
                u++;
        }
        snprintf(buf, size, "%.*f %s", v < 10 ? 2 : v < 100 ? 1 : 0, v, units[u]);
}

void progress_format_duration(int64_t s, char *buf, size_t size) {
        if (s < 0)
                snprintf(buf, size, "--");
        else if (s < 60)
                snprintf(buf, size, "%llds", (long long)s);
        else if (s < 3600)
                snprintf(buf, size, "%lldm%02llds", (long long)(s / 60), (long long)(s % 60));
        else if (s < 86400)
                snprintf(buf, size, "%lldh%02lldm", (long long)(s / 3600), (long long)(s % 3600 / 60));
        else
                snprintf(buf, size, "%lldd%02lldh", (long long)(s / 86400), (long long)(s % 86400 / 3600));
}

void progress_format_count(uint64_t n, char *buf, size_t size) {
        char digits[32];
        int len = snprintf(digits, sizeof(digits), "%llu", (unsigned long long)n);
        char tmp[48];
        size_t o = 0;
        for (int i = 0; i < len; i++) {
                if (i > 0 && (len - i) % 3 == 0)
                        tmp[o++] = ',';
                tmp[o++] = digits[i];
        }
        tmp[o] = '\0';
        snprintf(buf, size, "%s", tmp);
}

/* Records per second so far (0 before any time has passed). */
static uint64_t rate(const progress_snapshot_t *s) {
        return s->elapsed_ms > 0 ? (uint64_t)((double)s->records * 1000.0 / (double)s->elapsed_ms) : 0;
}

int progress_format_line(const progress_snapshot_t *s, char *buf, size_t size) {
        char recs[32], per_s[32], done[32], total[32], eta[32], rej[48] = "";
        progress_format_count(s->records, recs, sizeof(recs));
        progress_format_count(rate(s), per_s, sizeof(per_s));
        progress_format_bytes(s->bytes_done, done, sizeof(done));
        if (s->rejected) {
                char r[32];
                progress_format_count(s->rejected, r, sizeof(r));
                snprintf(rej, sizeof(rej), " (%s rejected)", r);
        }
        if (s->bytes_total <= 0 || s->bytes_done < 0)
                return snprintf(buf, size, "%s records%s  %s/s  %s read", recs, rej, per_s,
                                s->bytes_done >= 0 ? done : "?");
        int64_t d = s->bytes_done > s->bytes_total ? s->bytes_total : s->bytes_done;
        double frac = (double)d / (double)s->bytes_total;
        char bar[PROGRESS_BAR_WIDTH + 1];
        int fill = (int)(frac * PROGRESS_BAR_WIDTH);
        for (int i = 0; i < PROGRESS_BAR_WIDTH; i++)
                bar[i] = i < fill ? '#' : '-';
        bar[PROGRESS_BAR_WIDTH] = '\0';
        progress_format_bytes(s->bytes_total, total, sizeof(total));
        /* Time left from the byte rate so far: records vary in size less
         * over a file than from one second to the next. */
        int64_t left = -1;
        if (d > 0 && s->elapsed_ms > 0)
                left = (int64_t)((double)(s->bytes_total - d) * (double)s->elapsed_ms / (double)d / 1000.0 +
                                 0.5);
        progress_format_duration(left, eta, sizeof(eta));
        return snprintf(buf, size, "[%s] %5.1f%%  %s/%s  %s records%s  %s/s  ETA %s", bar, frac * 100.0, done,
                        total, recs, rej, per_s, eta);
}

int progress_format_summary(const progress_snapshot_t *s, char *buf, size_t size) {
        char recs[32], per_s[32], bytes[48] = "", took[32], rej[48] = "";
        progress_format_count(s->records, recs, sizeof(recs));
        progress_format_count(rate(s), per_s, sizeof(per_s));
        progress_format_duration(s->elapsed_ms / 1000, took, sizeof(took));
        if (s->bytes_done >= 0) {
                char b[32];
                progress_format_bytes(s->bytes_done, b, sizeof(b));
                snprintf(bytes, sizeof(bytes), " from %s", b);
        }
        if (s->rejected) {
                char r[32];
                progress_format_count(s->rejected, r, sizeof(r));
                snprintf(rej, sizeof(rej), " (%s rejected)", r);
        }
        return snprintf(buf, size, "published %s records%s%s in %s, %s records/s", recs, rej, bytes, took,
                        per_s);
}

static void snapshot(const progress_t *p, const source_stats_t *st, uint64_t records, uint64_t rejected,
                     int64_t now_ms, progress_snapshot_t *s) {
        s->bytes_total = st ? st->bytes_total : -1;
        s->bytes_done = st ? st->bytes_done : -1;
        s->records = records;
        s->rejected = rejected;
        s->elapsed_ms = now_ms - p->start_ms;
}

static void draw(progress_t *p, const progress_snapshot_t *s) {
        char line[256];
        progress_format_line(s, line, sizeof(line));
        /* \r back to the start, \033[K clears what a longer line left. */
        fprintf(p->out, "\r%s\033[K", line);
        fflush(p->out);
        p->drawn = 1;
}

void progress_update(progress_t *p, const source_stats_t *st, uint64_t records, uint64_t rejected,
                     int64_t now_ms) {
        if (!p->terminal || now_ms - p->last_draw_ms < PROGRESS_REDRAW_MS)
                return;
        progress_snapshot_t s;
        snapshot(p, st, records, rejected, now_ms, &s);
        draw(p, &s);
        p->last_draw_ms = now_ms;
}

void progress_finish(progress_t *p, const source_stats_t *st, uint64_t records, uint64_t rejected,
                     int64_t now_ms) {
        progress_snapshot_t s;
        snapshot(p, st, records, rejected, now_ms, &s);
        if (p->terminal) {
                draw(p, &s);
                fputc('\n', p->out);
        }
        char line[256];
        progress_format_summary(&s, line, sizeof(line));
        fprintf(p->out, "%s\n", line);
        fflush(p->out);
}

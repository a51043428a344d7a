#include "sources/file_input.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <unistd.h>

#include "sb_clock.h"
#include "sources/checkpoint.h"

#define OFFSET_MASK ((UINT64_C(1) << FILE_INPUT_OFFSET_BITS) - 1)
/* A directory is scanned again at least this often even when inotify says
 * nothing (inotify does not see changes made over NFS, for one). */
#define RESCAN_MS 1000

typedef struct {
        uint64_t ordinal;
        char *name; /* in the directory; owned */
        checkpoint_identity_t id;
        int ended;
        uint64_t end;
} pending_t;

struct file_input_s {
        sb_log_t *log;
        char *input;   /* owned copy */
        char *suffix;  /* owned copy */
        char *cp_path; /* owned; NULL: no checkpoint */
        int interval_ms;
        int is_stdin, directory;
        int drain; /* --drain: a directory with no new file is finished */

        /* The current file. */
        FILE *f;
        int fresh, ended, finished;
        uint64_t resume;
        uint64_t ordinal; /* directory: of the current file */
        checkpoint_identity_t id;
        char display[2 * CHECKPOINT_NAME_MAX + 2];

        /* Directory: the last name opened (candidates sort after it), and
         * before the first file the file the checkpoint was in. */
        char last_opened[CHECKPOINT_NAME_MAX];
        char resume_name[CHECKPOINT_NAME_MAX];
        pending_t pend[FILE_INPUT_MAX_PENDING];
        size_t npend;
        int inotify_fd;

        checkpoint_state_t loaded; /* as read at open */
        int loaded_found;
        checkpoint_state_t acked; /* what the next write records */
        int dirty;
        int64_t last_write_ms;
        uint64_t last_given, last_acked;

        int64_t bytes_total;
        uint64_t bytes_before; /* of the files read completely */
        uint64_t bytes_done;   /* of the current file */
};

static int has_suffix(const char *name, const char *suffix) {
        size_t n = strlen(name), s = strlen(suffix);
        return n > s && strcmp(name + n - s, suffix) == 0;
}

static int is_candidate(const file_input_t *fi, const char *name) {
        return name[0] != '.' && has_suffix(name, fi->suffix) && strlen(name) < CHECKPOINT_NAME_MAX;
}

void file_input_options_from_config(const sb_config_t *cfg, const char *suffix, file_input_options_t *out) {
        memset(out, 0, sizeof(*out));
        out->input = sb_config_string(cfg, "input");
        out->checkpoint_file = sb_config_string(cfg, "checkpoint_file");
        out->checkpoint_interval_ms = (int)sb_config_int(cfg, "checkpoint_interval_ms");
        out->suffix = suffix;
}

/* The default checkpoint path: beside the input, named after it. */
static char *default_checkpoint(const char *input) {
        size_t n = strlen(input);
        while (n > 1 && input[n - 1] == '/')
                n--;
        const char *ext = ".sharebus-checkpoint";
        size_t size = n + strlen(ext) + 1;
        char *p = malloc(size);
        if (p)
                snprintf(p, size, "%.*s%s", (int)n, input, ext);
        return p;
}

static sb_err_t load_checkpoint(file_input_t *fi, char *errstr, size_t errstr_size) {
        int found = 0;
        sb_err_t err = checkpoint_read(fi->cp_path, &fi->loaded, &found, errstr, errstr_size);
        if (err || !found)
                return err;
        fi->loaded_found = 1;
        if (fi->loaded.directory != fi->directory)
                return sb_seterr(SB_ERR_CONFIG, errstr, errstr_size,
                                 "checkpoint file %s was written for a %s, but input %s is a %s: remove the "
                                 "checkpoint file or set checkpoint_file to another file",
                                 fi->cp_path, fi->loaded.directory ? "directory" : "file", fi->input,
                                 fi->directory ? "directory" : "file");
        fi->acked = fi->loaded;
        return SB_OK;
}

sb_err_t file_input_new(const file_input_options_t *o, sb_log_t *log, file_input_t **out, char *errstr,
                        size_t errstr_size) {
        const char *input = o->input ? o->input : "-";
        const char *cp = o->checkpoint_file;
        int no_cp = cp && strcmp(cp, "none") == 0;
        int default_cp = !cp || !*cp;
        file_input_t *fi = calloc(1, sizeof(*fi));
        if (!fi)
                return sb_seterr(SB_ERR_NOMEM, errstr, errstr_size, "out of memory");
        fi->log = log;
        fi->inotify_fd = -1;
        fi->bytes_total = -1;
        fi->interval_ms = o->checkpoint_interval_ms;
        fi->drain = o->drain;
        fi->is_stdin = strcmp(input, "-") == 0;
        fi->input = strdup(input);
        fi->suffix = strdup(o->suffix ? o->suffix : "");
        sb_err_t err = SB_OK;
        if (!fi->input || !fi->suffix) {
                err = sb_seterr(SB_ERR_NOMEM, errstr, errstr_size, "out of memory");
                goto fail;
        }
        struct stat st;
        int regular = 0;
        if (!fi->is_stdin) {
                if (stat(input, &st) != 0) {
                        err = sb_seterr(SB_ERR_IO, errstr, errstr_size, "input %s: %s", input,
                                        strerror(errno));
                        goto fail;
                }
                fi->directory = S_ISDIR(st.st_mode);
                regular = S_ISREG(st.st_mode);
        }
        if (fi->is_stdin || (!regular && !fi->directory)) {
                /* A pipe cannot be read again from an offset. */
                if (!no_cp && !default_cp) {
                        err = sb_seterr(SB_ERR_CONFIG, errstr, errstr_size,
                                        "checkpoint_file needs a file or a directory as input, not %s: "
                                        "remove the setting or name a file in `input`",
                                        fi->is_stdin ? "standard input" : input);
                        goto fail;
                }
        } else if (!no_cp) {
                fi->cp_path = default_cp ? default_checkpoint(input) : strdup(cp);
                if (!fi->cp_path) {
                        err = sb_seterr(SB_ERR_NOMEM, errstr, errstr_size, "out of memory");
                        goto fail;
                }
                if ((err = load_checkpoint(fi, errstr, errstr_size)))
                        goto fail;
        }
        fi->acked.directory = fi->directory;
        if (fi->directory) {
                snprintf(fi->last_opened, sizeof(fi->last_opened), "%s", fi->acked.done);
                snprintf(fi->resume_name, sizeof(fi->resume_name), "%s", fi->acked.file);
                fi->inotify_fd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
                if (fi->inotify_fd >= 0 &&
                    inotify_add_watch(fi->inotify_fd, input, IN_MOVED_TO | IN_CLOSE_WRITE | IN_CREATE) < 0) {
                        close(fi->inotify_fd);
                        fi->inotify_fd = -1;
                }
                if (fi->inotify_fd < 0)
                        SB_LOG(log, SB_LOG_INFO, "input %s: no inotify (%s), scanning every %d ms", input,
                               strerror(errno), RESCAN_MS);
        } else if (fi->is_stdin) {
                fi->f = stdin;
                fi->fresh = 1;
                snprintf(fi->display, sizeof(fi->display), "stdin");
        } else {
                FILE *f = fopen(input, "rb");
                if (!f) {
                        err = sb_seterr(SB_ERR_IO, errstr, errstr_size, "input %s: %s", input,
                                        strerror(errno));
                        goto fail;
                }
                fi->f = f;
                fi->fresh = 1;
                snprintf(fi->display, sizeof(fi->display), "%s", input);
                if (fstat(fileno(f), &st) == 0 && S_ISREG(st.st_mode))
                        fi->bytes_total = st.st_size;
                if (fi->cp_path) {
                        if ((err = checkpoint_identify(fileno(f), &fi->id, errstr, errstr_size)))
                                goto fail;
                        int same = 0;
                        if (fi->loaded.file[0] &&
                            (err = checkpoint_identity_matches(fileno(f), &fi->loaded.id, fi->loaded.offset,
                                                               &same, errstr, errstr_size)))
                                goto fail;
                        if (same) {
                                fi->resume = fi->loaded.offset;
                                fi->id = fi->loaded.id;
                                SB_LOG(log, SB_LOG_INFO, "%s: resuming after byte %llu (checkpoint %s)",
                                       input, (unsigned long long)fi->resume, fi->cp_path);
                        } else if (fi->loaded.file[0]) {
                                SB_LOG(log, SB_LOG_WARN,
                                       "%s: not the file checkpoint %s was taken on (replaced, rewritten or "
                                       "truncated): reading it from its start",
                                       input, fi->cp_path);
                                snprintf(fi->acked.file, sizeof(fi->acked.file), "%s", input);
                                fi->acked.id = fi->id;
                                fi->acked.offset = 0;
                                fi->dirty = 1;
                        }
                        fi->bytes_done = fi->resume;
                }
        }
        /* A checkpoint that cannot be written should stop the start, not
         * the first acknowledgement after records were published. */
        if (fi->cp_path && (!fi->loaded_found || fi->dirty)) {
                fi->dirty = 1;
                char why[1024];
                if ((err = file_input_flush(fi, why, sizeof(why)))) {
                        sb_seterr(err, errstr, errstr_size,
                                  "%s (set checkpoint_file to a file the producer may write, or to \"none\")",
                                  why);
                        goto fail;
                }
        }
        fi->last_write_ms = sb_clock_mono_ms();
        *out = fi;
        return SB_OK;
fail:
        fi->dirty = 0; /* nothing was acknowledged */
        file_input_destroy(fi);
        return err;
}

static void close_current(file_input_t *fi) {
        if (fi->f && fi->f != stdin)
                fclose(fi->f);
        fi->f = NULL;
}

void file_input_destroy(file_input_t *fi) {
        if (!fi)
                return;
        char err[512];
        if (file_input_flush(fi, err, sizeof(err)))
                SB_LOG(fi->log, SB_LOG_ERROR, "%s", err);
        close_current(fi);
        for (size_t i = 0; i < fi->npend; i++)
                free(fi->pend[i].name);
        if (fi->inotify_fd >= 0)
                close(fi->inotify_fd);
        free(fi->input);
        free(fi->suffix);
        free(fi->cp_path);
        free(fi);
}

sb_err_t file_input_flush(file_input_t *fi, char *errstr, size_t errstr_size) {
        if (!fi->cp_path || !fi->dirty)
                return SB_OK;
        sb_err_t err = checkpoint_write(fi->cp_path, &fi->acked, errstr, errstr_size);
        if (err)
                return err;
        fi->dirty = 0;
        fi->last_write_ms = sb_clock_mono_ms();
        return SB_OK;
}

/* ---- directories ---- */

/* The first candidate after the last name opened, into `best` ("" when none). */
static sb_err_t scan(file_input_t *fi, char *best, size_t best_size, char *errstr, size_t errstr_size) {
        DIR *d = opendir(fi->input);
        best[0] = '\0';
        if (!d)
                return sb_seterr(SB_ERR_IO, errstr, errstr_size, "input %s: %s", fi->input, strerror(errno));
        const struct dirent *e;
        while ((e = readdir(d))) {
                const char *n = e->d_name;
                if (!is_candidate(fi, n) || strcmp(n, fi->last_opened) <= 0)
                        continue;
                if (fi->resume_name[0] && strcmp(n, fi->resume_name) < 0)
                        continue;
                if (!best[0] || strcmp(n, best) < 0)
                        snprintf(best, best_size, "%s", n);
        }
        closedir(d);
        return SB_OK;
}

/* Waits for inotify to report a change (or the rescan interval); warns of
 * files that arrive too late to be read in name order. */
static void wait_for_change(file_input_t *fi, int timeout_ms) {
        if (timeout_ms > RESCAN_MS)
                timeout_ms = RESCAN_MS;
        if (timeout_ms <= 0)
                return;
        if (fi->inotify_fd < 0) {
                sb_clock_sleep_ms(timeout_ms);
                return;
        }
        struct pollfd p = {.fd = fi->inotify_fd, .events = POLLIN};
        if (poll(&p, 1, timeout_ms) <= 0)
                return;
        char buf[16384] __attribute__((aligned(__alignof__(struct inotify_event))));
        ssize_t n;
        while ((n = read(fi->inotify_fd, buf, sizeof(buf))) > 0) {
                for (char *at = buf; at < buf + n;) {
                        const struct inotify_event *ev = (const struct inotify_event *)at;
                        if (ev->len && is_candidate(fi, ev->name) && strcmp(ev->name, fi->last_opened) < 0)
                                SB_LOG(fi->log, SB_LOG_WARN,
                                       "input %s: %s is not read: it sorts before %s, which was read "
                                       "already (files are read once, in name order)",
                                       fi->input, ev->name, fi->last_opened);
                        at += sizeof(*ev) + ev->len;
                }
        }
}

static sb_err_t open_in_dir(file_input_t *fi, const char *name, int *opened, char *errstr,
                            size_t errstr_size) {
        char path[2 * CHECKPOINT_NAME_MAX + 2];
        snprintf(path, sizeof(path), "%s/%s", fi->input, name);
        *opened = 0;
        FILE *f = fopen(path, "rb");
        if (!f && errno == ENOENT)
                return SB_OK; /* gone since the scan */
        if (!f)
                return sb_seterr(SB_ERR_IO, errstr, errstr_size, "%s: %s", path, strerror(errno));
        struct stat st;
        checkpoint_identity_t id;
        sb_err_t err = SB_OK;
        if (fstat(fileno(f), &st) != 0)
                err = sb_seterr(SB_ERR_IO, errstr, errstr_size, "%s: %s", path, strerror(errno));
        else if (!S_ISREG(st.st_mode)) {
                SB_LOG(fi->log, SB_LOG_WARN, "%s: not a regular file, not read", path);
                snprintf(fi->last_opened, sizeof(fi->last_opened), "%s", name);
                fclose(f);
                return SB_OK;
        } else
                err = checkpoint_identify(fileno(f), &id, errstr, errstr_size);
        if (err) {
                fclose(f);
                return err;
        }
        pending_t *p = &fi->pend[fi->npend];
        p->name = strdup(name);
        if (!p->name) {
                fclose(f);
                return sb_seterr(SB_ERR_NOMEM, errstr, errstr_size, "out of memory");
        }
        fi->resume = 0;
        if (fi->resume_name[0] && strcmp(name, fi->resume_name) == 0) {
                int same = 0;
                if ((err = checkpoint_identity_matches(fileno(f), &fi->loaded.id, fi->loaded.offset, &same,
                                                       errstr, errstr_size))) {
                        free(p->name);
                        fclose(f);
                        return err;
                }
                if (same) {
                        fi->resume = fi->loaded.offset;
                        id = fi->loaded.id;
                        SB_LOG(fi->log, SB_LOG_INFO, "%s: resuming after byte %llu (checkpoint %s)", path,
                               (unsigned long long)fi->resume, fi->cp_path);
                } else
                        SB_LOG(fi->log, SB_LOG_WARN,
                               "%s: not the file checkpoint %s was taken on (replaced, rewritten or "
                               "truncated): reading it from its start",
                               path, fi->cp_path);
        }
        fi->resume_name[0] = '\0';
        fi->ordinal++;
        p->ordinal = fi->ordinal;
        p->id = id;
        p->ended = 0;
        p->end = 0;
        fi->npend++;
        fi->f = f;
        fi->fresh = 1;
        fi->ended = 0;
        fi->id = id;
        fi->bytes_done = fi->resume;
        snprintf(fi->display, sizeof(fi->display), "%s", path);
        snprintf(fi->last_opened, sizeof(fi->last_opened), "%s", name);
        *opened = 1;
        return SB_OK;
}

static sb_err_t next_in_dir(file_input_t *fi, int timeout_ms, char *errstr, size_t errstr_size) {
        if (fi->npend >= FILE_INPUT_MAX_PENDING)
                return SB_OK; /* wait for acknowledgements */
        for (int round = 0; round < 2; round++) {
                char name[CHECKPOINT_NAME_MAX];
                for (;;) {
                        sb_err_t err = scan(fi, name, sizeof(name), errstr, errstr_size);
                        if (err)
                                return err;
                        if (!name[0])
                                break;
                        int opened = 0;
                        if ((err = open_in_dir(fi, name, &opened, errstr, errstr_size)))
                                return err;
                        if (opened)
                                return SB_OK;
                }
                if (fi->resume_name[0]) {
                        /* The file of the checkpoint is gone: go on after it. */
                        SB_LOG(fi->log, SB_LOG_WARN, "input %s: %s, named in checkpoint %s, is gone",
                               fi->input, fi->resume_name, fi->cp_path);
                        snprintf(fi->last_opened, sizeof(fi->last_opened), "%s", fi->resume_name);
                        fi->resume_name[0] = '\0';
                        continue;
                }
                if (round == 0)
                        wait_for_change(fi, fi->drain ? 0 : timeout_ms);
        }
        return SB_OK;
}

sb_err_t file_input_current(file_input_t *fi, int timeout_ms, file_input_file_t *out, char *errstr,
                            size_t errstr_size) {
        memset(out, 0, sizeof(*out));
        if (!fi->directory && fi->finished)
                return sb_seterr(SB_ERR_NOT_FOUND, errstr, errstr_size, "%s: end of input", fi->display);
        if (fi->directory && !fi->f) {
                sb_err_t err = next_in_dir(fi, timeout_ms, errstr, errstr_size);
                if (err)
                        return err;
        }
        if (!fi->f && fi->drain && fi->npend < FILE_INPUT_MAX_PENDING)
                return sb_seterr(SB_ERR_NOT_FOUND, errstr, errstr_size, "%s: no new file (--drain)",
                                 fi->input);
        if (!fi->f)
                return SB_OK;
        out->f = fi->f;
        out->name = fi->display;
        out->resume = fi->resume;
        out->fresh = fi->fresh;
        fi->fresh = 0;
        return SB_OK;
}

sb_err_t file_input_position(file_input_t *fi, uint64_t offset, uint64_t *position, char *errstr,
                             size_t errstr_size) {
        fi->bytes_done = offset;
        if (!fi->directory) {
                *position = offset;
        } else {
                if (offset > OFFSET_MASK)
                        return sb_seterr(
                                SB_ERR_INVALID, errstr, errstr_size,
                                "%s: larger than %llu bytes, the most a file of a directory may hold",
                                fi->display, (unsigned long long)OFFSET_MASK);
                *position = (fi->ordinal << FILE_INPUT_OFFSET_BITS) | offset;
        }
        if (*position > fi->last_given)
                fi->last_given = *position;
        return SB_OK;
}

/* Directory: the pending files up to index `upto` (excluded) are done. */
static void pop_done(file_input_t *fi, size_t upto) {
        if (upto == 0)
                return;
        snprintf(fi->acked.done, sizeof(fi->acked.done), "%s", fi->pend[upto - 1].name);
        fi->acked.file[0] = '\0';
        fi->acked.offset = 0;
        memset(&fi->acked.id, 0, sizeof(fi->acked.id));
        for (size_t i = 0; i < upto; i++)
                free(fi->pend[i].name);
        memmove(fi->pend, fi->pend + upto, (fi->npend - upto) * sizeof(*fi->pend));
        fi->npend -= upto;
        fi->dirty = 1;
}

void file_input_end(file_input_t *fi, uint64_t end) {
        fi->bytes_done = end;
        if (!fi->directory) {
                fi->finished = 1;
                return;
        }
        fi->bytes_before += end;
        fi->bytes_done = 0;
        if (fi->npend > 0) {
                pending_t *p = &fi->pend[fi->npend - 1];
                p->ended = 1;
                p->end = end;
        }
        close_current(fi);
        /* Nothing handed over is unacknowledged: the files read so far are
         * done, whether they held records or not. */
        if (fi->last_given <= fi->last_acked)
                pop_done(fi, fi->npend);
}

sb_err_t file_input_ack(file_input_t *fi, uint64_t position, char *errstr, size_t errstr_size) {
        if (position <= fi->last_acked)
                return SB_OK;
        fi->last_acked = position;
        int complete = 0;
        if (!fi->directory) {
                snprintf(fi->acked.file, sizeof(fi->acked.file), "%s", fi->input);
                fi->acked.id = fi->id;
                fi->acked.offset = position;
                fi->dirty = 1;
                complete = fi->finished && position >= fi->last_given;
        } else {
                uint64_t ord = position >> FILE_INPUT_OFFSET_BITS, off = position & OFFSET_MASK;
                size_t i = 0;
                while (i < fi->npend && fi->pend[i].ordinal < ord)
                        i++;
                if (i < fi->npend && fi->pend[i].ordinal == ord && fi->pend[i].ended &&
                    off >= fi->pend[i].end)
                        i++;
                pop_done(fi, i);
                if (fi->npend > 0 && fi->pend[0].ordinal == ord) {
                        snprintf(fi->acked.file, sizeof(fi->acked.file), "%s", fi->pend[0].name);
                        fi->acked.id = fi->pend[0].id;
                        fi->acked.offset = off;
                        fi->dirty = 1;
                }
        }
        if (!fi->cp_path)
                return SB_OK;
        if (complete || sb_clock_mono_ms() - fi->last_write_ms >= fi->interval_ms)
                return file_input_flush(fi, errstr, errstr_size);
        return SB_OK;
}

void file_input_stats(file_input_t *fi, source_stats_t *out) {
        out->bytes_total = fi->directory ? -1 : fi->bytes_total;
        out->bytes_done = (int64_t)(fi->bytes_before + fi->bytes_done);
}

int file_input_is_directory(const file_input_t *fi) { return fi->directory; }

const char *file_input_checkpoint_path(const file_input_t *fi) { return fi->cp_path; }

sb_err_t file_input_skip(FILE *f, uint64_t n, unsigned long *newlines, char *errstr, size_t errstr_size) {
        char buf[65536];
        while (n > 0) {
                size_t want = n < sizeof(buf) ? (size_t)n : sizeof(buf);
                size_t got = fread(buf, 1, want, f);
                for (const char *p = buf; (p = memchr(p, '\n', (size_t)(buf + got - p))); p++)
                        (*newlines)++;
                if (got < want)
                        return sb_seterr(SB_ERR_IO, errstr, errstr_size,
                                         "%s while skipping to the checkpoint",
                                         ferror(f) ? strerror(errno) : "file shorter than the checkpoint");
                n -= got;
        }
        return SB_OK;
}

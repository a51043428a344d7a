#include "sources/checkpoint.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define CHECKPOINT_VERSION 1

static uint64_t fnv1a(const unsigned char *p, size_t n) {
        uint64_t h = 0xcbf29ce484222325ULL;
        for (size_t i = 0; i < n; i++) {
                h ^= p[i];
                h *= 0x100000001b3ULL;
        }
        return h;
}

/* Hashes the first `len` bytes of `fd` into *hash; *got is how many bytes
 * the file had (fewer than `len` when it is shorter now). */
static sb_err_t hash_head(int fd, size_t len, uint64_t *hash, size_t *got, char *errstr, size_t errstr_size) {
        unsigned char buf[CHECKPOINT_HEAD_BYTES];
        size_t n = 0;
        while (n < len) {
                ssize_t r = pread(fd, buf + n, len - n, (off_t)n);
                if (r < 0 && errno == EINTR)
                        continue;
                if (r < 0)
                        return sb_seterr(SB_ERR_IO, errstr, errstr_size, "read: %s", strerror(errno));
                if (r == 0)
                        break;
                n += (size_t)r;
        }
        *hash = fnv1a(buf, n);
        *got = n;
        return SB_OK;
}

sb_err_t checkpoint_identify(int fd, checkpoint_identity_t *out, char *errstr, size_t errstr_size) {
        struct stat st;
        memset(out, 0, sizeof(*out));
        if (fstat(fd, &st) != 0)
                return sb_seterr(SB_ERR_IO, errstr, errstr_size, "fstat: %s", strerror(errno));
        size_t want = st.st_size < CHECKPOINT_HEAD_BYTES ? (size_t)st.st_size : CHECKPOINT_HEAD_BYTES;
        size_t got = 0;
        sb_err_t err = hash_head(fd, want, &out->head_hash, &got, errstr, errstr_size);
        if (err)
                return err;
        out->dev = (uint64_t)st.st_dev;
        out->ino = (uint64_t)st.st_ino;
        out->size = (uint64_t)st.st_size;
        out->head_len = (uint32_t)got;
        return SB_OK;
}

sb_err_t checkpoint_identity_matches(int fd, const checkpoint_identity_t *id, uint64_t offset, int *same,
                                     char *errstr, size_t errstr_size) {
        struct stat st;
        *same = 0;
        if (fstat(fd, &st) != 0)
                return sb_seterr(SB_ERR_IO, errstr, errstr_size, "fstat: %s", strerror(errno));
        if ((uint64_t)st.st_dev != id->dev || (uint64_t)st.st_ino != id->ino ||
            (uint64_t)st.st_size < offset || (uint64_t)st.st_size < id->head_len ||
            id->head_len > CHECKPOINT_HEAD_BYTES)
                return SB_OK;
        uint64_t h = 0;
        size_t got = 0;
        sb_err_t err = hash_head(fd, id->head_len, &h, &got, errstr, errstr_size);
        if (err)
                return err;
        *same = got == id->head_len && h == id->head_hash;
        return SB_OK;
}

/* ---- reading ---- */

static sb_err_t corrupt(const char *path, char *errstr, size_t errstr_size, const char *why) {
        return sb_seterr(SB_ERR_INVALID, errstr, errstr_size,
                         "checkpoint file %s is corrupt (%s); it says how far the input was published: "
                         "restore it, or remove it to publish the input again from its start "
                         "(subscribers absorb the duplicates), or set checkpoint_file to another file",
                         path, why);
}

static int get_u64(const json_t *o, const char *name, uint64_t *out) {
        const json_t *v = json_object_get(o, name);
        if (!json_is_integer(v) || json_integer_value(v) < 0)
                return 0;
        *out = (uint64_t)json_integer_value(v);
        return 1;
}

static int get_name(const json_t *o, const char *name, char *out) {
        const json_t *v = json_object_get(o, name);
        if (!json_is_string(v) || json_string_length(v) >= CHECKPOINT_NAME_MAX ||
            strlen(json_string_value(v)) != json_string_length(v))
                return 0;
        memcpy(out, json_string_value(v), json_string_length(v) + 1);
        return 1;
}

static sb_err_t parse(const char *path, const char *text, size_t len, checkpoint_state_t *out, char *errstr,
                      size_t errstr_size) {
        json_error_t jerr;
        json_t *doc = json_loadb(text, len, JSON_REJECT_DUPLICATES, &jerr);
        if (!doc)
                return corrupt(path, errstr, errstr_size, "not valid JSON");
        const char *why = NULL;
        uint64_t version = 0, directory = 0, head_len = 0;
        const json_t *hash = json_object_get(doc, "head_hash");
        char *end = NULL;
        if (!json_is_object(doc))
                why = "not a JSON object";
        else if (!get_u64(doc, "version", &version) || version != CHECKPOINT_VERSION)
                why = "unknown version";
        else if (!get_u64(doc, "directory", &directory) || directory > 1)
                why = "bad 'directory'";
        else if (!get_name(doc, "done", out->done) || !get_name(doc, "file", out->file))
                why = "bad 'done' or 'file'";
        else if (!get_u64(doc, "dev", &out->id.dev) || !get_u64(doc, "ino", &out->id.ino) ||
                 !get_u64(doc, "size", &out->id.size) || !get_u64(doc, "offset", &out->offset) ||
                 !get_u64(doc, "head_len", &head_len) || head_len > CHECKPOINT_HEAD_BYTES)
                why = "bad file identity or offset";
        else if (!json_is_string(hash) || json_string_length(hash) != 16 ||
                 (out->id.head_hash = strtoull(json_string_value(hash), &end, 16), *end != '\0'))
                why = "bad 'head_hash'";
        json_decref(doc);
        if (why)
                return corrupt(path, errstr, errstr_size, why);
        out->directory = (int)directory;
        out->id.head_len = (uint32_t)head_len;
        return SB_OK;
}

sb_err_t checkpoint_read(const char *path, checkpoint_state_t *out, int *found, char *errstr,
                         size_t errstr_size) {
        memset(out, 0, sizeof(*out));
        *found = 0;
        FILE *f = fopen(path, "rb");
        if (!f && errno == ENOENT)
                return SB_OK;
        if (!f)
                return sb_seterr(SB_ERR_IO, errstr, errstr_size, "checkpoint file %s: %s", path,
                                 strerror(errno));
        /* One byte more than allowed tells a too large file from a full one. */
        char *buf = malloc(CHECKPOINT_MAX_BYTES + 1);
        if (!buf) {
                fclose(f);
                return sb_seterr(SB_ERR_NOMEM, errstr, errstr_size, "out of memory");
        }
        size_t n = fread(buf, 1, CHECKPOINT_MAX_BYTES + 1, f);
        int bad_read = ferror(f);
        fclose(f);
        sb_err_t err;
        if (bad_read)
                err = sb_seterr(SB_ERR_IO, errstr, errstr_size, "checkpoint file %s: read error", path);
        else if (n > CHECKPOINT_MAX_BYTES)
                err = corrupt(path, errstr, errstr_size, "larger than any checkpoint");
        else if (n == 0)
                err = corrupt(path, errstr, errstr_size, "empty");
        else
                err = parse(path, buf, n, out, errstr, errstr_size);
        free(buf);
        if (err) {
                memset(out, 0, sizeof(*out));
                return err;
        }
        *found = 1;
        return SB_OK;
}

/* ---- writing ---- */

static sb_err_t write_all(int fd, const char *p, size_t n) {
        while (n > 0) {
                ssize_t w = write(fd, p, n);
                if (w < 0 && errno == EINTR)
                        continue;
                if (w < 0)
                        return SB_ERR_IO;
                p += w;
                n -= (size_t)w;
        }
        return SB_OK;
}

/* fsync of the directory holding `path`, so that the rename is durable. */
static int sync_dir_of(const char *path) {
        char dir[CHECKPOINT_NAME_MAX];
        const char *slash = strrchr(path, '/');
        if (!slash)
                snprintf(dir, sizeof(dir), ".");
        else if (slash == path)
                snprintf(dir, sizeof(dir), "/");
        else
                snprintf(dir, sizeof(dir), "%.*s", (int)(slash - path), path);
        int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (fd < 0)
                return -1;
        int rc = fsync(fd);
        close(fd);
        return rc;
}

sb_err_t checkpoint_write(const char *path, const checkpoint_state_t *st, char *errstr, size_t errstr_size) {
        char hash[17];
        snprintf(hash, sizeof(hash), "%016" PRIx64, st->id.head_hash);
        json_t *doc = json_pack("{s:i, s:i, s:s, s:s, s:I, s:I, s:I, s:i, s:s, s:I}", "version",
                                CHECKPOINT_VERSION, "directory", st->directory ? 1 : 0, "done", st->done,
                                "file", st->file, "dev", (json_int_t)st->id.dev, "ino",
                                (json_int_t)st->id.ino, "size", (json_int_t)st->id.size, "head_len",
                                (int)st->id.head_len, "head_hash", hash, "offset", (json_int_t)st->offset);
        char *text = doc ? json_dumps(doc, JSON_COMPACT) : NULL;
        json_decref(doc);
        if (!text)
                return sb_seterr(SB_ERR_NOMEM, errstr, errstr_size, "checkpoint %s: out of memory", path);
        char tmp[CHECKPOINT_NAME_MAX + 16];
        if ((size_t)snprintf(tmp, sizeof(tmp), "%s.tmp", path) >= sizeof(tmp)) {
                free(text);
                return sb_seterr(SB_ERR_IO, errstr, errstr_size, "checkpoint %s: path too long", path);
        }
        /* Each step either succeeds or names itself in the error. */
        const char *step = NULL;
        int renamed = 0;
        int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
        if (fd < 0)
                step = "open";
        else if (write_all(fd, text, strlen(text)) || write_all(fd, "\n", 1))
                step = "write";
        else if (fsync(fd) != 0)
                step = "fsync";
        int saved = errno;
        if (fd >= 0 && close(fd) != 0 && !step) {
                step = "close";
                saved = errno;
        }
        if (!step && rename(tmp, path) != 0) {
                step = "rename";
                saved = errno;
        } else if (!step) {
                renamed = 1;
                if (sync_dir_of(path) != 0) {
                        step = "fsync of its directory";
                        saved = errno;
                }
        }
        free(text);
        if (step) {
                if (!renamed)
                        unlink(tmp);
                return sb_seterr(SB_ERR_IO, errstr, errstr_size, "checkpoint %s: %s: %s", path, step,
                                 strerror(saved));
        }
        return SB_OK;
}

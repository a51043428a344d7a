/*
 * checkpoint: the durable "how far did we get" of a file source, so that a
 * restarted producer resumes after the last acknowledged record and never
 * publishes it again.
 *
 * It holds the identity of the file being read (device, inode, a hash of
 * its first bytes and its size when first seen) and the byte offset just
 * past the last acknowledged record; for a watched directory also the name
 * of the last file read completely (files are read in name order, so every
 * name up to that one is done).  The identity tells a file that was
 * replaced at the same path (new inode), rewritten in place (other first
 * bytes) or truncated (shorter than the offset) from the file the
 * checkpoint was taken on: such a file is read from its start.
 *
 * The file is a small JSON object, written atomically (a temporary file
 * beside it, fsync, rename over it, fsync of the directory), so a crash
 * leaves the old checkpoint or the new one, never a torn one.  Reading
 * refuses a file larger than CHECKPOINT_MAX_BYTES or one that is not such
 * an object, naming the file and what to do.
 */
#ifndef SB_PRODUCERS_CHECKPOINT_H
#define SB_PRODUCERS_CHECKPOINT_H

#include <stddef.h>
#include <stdint.h>

#include "sb_error.h"

/* Bytes of a file's start hashed into its identity. */
#define CHECKPOINT_HEAD_BYTES 4096
/* A name (a path, or a file name in a directory) kept in a checkpoint. */
#define CHECKPOINT_NAME_MAX 4096
/* Largest checkpoint file read back: two names and a few numbers. */
#define CHECKPOINT_MAX_BYTES (3 * CHECKPOINT_NAME_MAX + 1024)

typedef struct {
        uint64_t dev, ino;
        uint64_t size;      /* when the identity was taken */
        uint32_t head_len;  /* bytes hashed: min(size, CHECKPOINT_HEAD_BYTES) */
        uint64_t head_hash; /* FNV-1a 64 of those bytes */
} checkpoint_identity_t;

typedef struct {
        int directory;                  /* 1: the input is a watched directory */
        char done[CHECKPOINT_NAME_MAX]; /* directory: last file read completely, "" for none */
        char file[CHECKPOINT_NAME_MAX]; /* file being read ("" for none): a path, or a name in the directory
                                         */
        checkpoint_identity_t id;       /* of `file` */
        uint64_t offset;                /* bytes of `file` acknowledged */
} checkpoint_state_t;

/* Takes the identity of the open file `fd` (reads its first bytes with
 * pread, so the file offset does not move). */
sb_err_t checkpoint_identify(int fd, checkpoint_identity_t *out, char *errstr, size_t errstr_size);

/* Sets *same to 1 if the open file `fd` is the file `id` was taken on and
 * still holds at least `offset` bytes: same device and inode, and its
 * first id->head_len bytes hash the same. */
sb_err_t checkpoint_identity_matches(int fd, const checkpoint_identity_t *id, uint64_t offset, int *same,
                                     char *errstr, size_t errstr_size);

/* Reads the checkpoint at `path` into *out.  *found is 0 (and *out zeroed)
 * when there is no such file.  SB_ERR_INVALID, naming the file, when it is
 * corrupt or too large. */
sb_err_t checkpoint_read(const char *path, checkpoint_state_t *out, int *found, char *errstr,
                         size_t errstr_size);

/* Replaces the checkpoint at `path` with `st`, atomically and durably. */
sb_err_t checkpoint_write(const char *path, const checkpoint_state_t *st, char *errstr, size_t errstr_size);

#endif

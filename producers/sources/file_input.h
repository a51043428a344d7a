/*
 * file_input: what the file sources (jsonl, csv) share: which file to read
 * next, where to resume in it, and the checkpoint that makes
 * acknowledgements durable (checkpoint.h).  The sources only split bytes
 * into records.
 *
 * `input` is one of
 *   - "-": standard input; no checkpoint, read once;
 *   - a file: read once, resumed from the checkpoint;
 *   - a directory: watched for good.  Every file whose name ends in the
 *     source's suffix (".jsonl", ".csv") and does not start with "." is
 *     read once, in name (strcmp) order.  A writer must write the file
 *     under another name (x.jsonl.tmp, .x.jsonl) and rename it into its
 *     final name when complete: rename is atomic, so a file is never seen
 *     half written.  A file that appears with a name that sorts before one
 *     already read is not read (it is logged when inotify reports it):
 *     name files so that they sort in the order they are made (a time
 *     stamp first).  Read files are left in place; move them away once the
 *     checkpoint has passed them to keep the directory scan short.
 *
 * Positions.  For a file or standard input, the byte offset just past the
 * record.  For a directory, (ordinal << FILE_INPUT_OFFSET_BITS) | offset,
 * where the ordinal counts the files opened by this run from 1, so that
 * positions keep increasing from one file to the next; a file larger than
 * 2^FILE_INPUT_OFFSET_BITS bytes (1 TiB) is refused.
 *
 * The checkpoint (setting `checkpoint_file`; default `<input>.sharebus-
 * checkpoint` beside the file or directory, none for standard input,
 * "none" to do without) is written at most every `checkpoint_interval_ms`
 * when acknowledgements come, at once when the acknowledgement covers all
 * of a file that is not watched, and at close.  The trade-off: a crash
 * loses at most that interval of acknowledgements, whose records are
 * published again after the restart (at-least-once), and a producer
 * acknowledging every batch does not pay an fsync per batch.
 */
#ifndef SB_PRODUCERS_FILE_INPUT_H
#define SB_PRODUCERS_FILE_INPUT_H

#include <stdint.h>
#include <stdio.h>

#include "sb_config.h"
#include "sb_error.h"
#include "sb_log.h"
#include "sources/source.h"

#define FILE_INPUT_OFFSET_BITS 40
/* Files of a directory opened but not yet acknowledged to their end: once
 * so many are open, no further file is opened until acknowledgements come. */
#define FILE_INPUT_MAX_PENDING 1024

typedef struct file_input_s file_input_t;

typedef struct {
        const char *input;           /* path, or "-" */
        const char *checkpoint_file; /* NULL or "": the default; "none": no checkpoint */
        const char *suffix;          /* of the files of a directory: ".jsonl" */
        int checkpoint_interval_ms;
        int drain; /* source_options_t's: a directory with no new file is finished */
} file_input_options_t;

/* The file to read, as file_input_current returns it (all borrowed). */
typedef struct {
        FILE *f;          /* NULL when no file is ready (a directory with no new file) */
        const char *name; /* for messages: the path, "stdin", or "dir/name" */
        uint64_t resume;  /* bytes of it already acknowledged: continue after them */
        int fresh;        /* 1 the first time this file is returned */
} file_input_file_t;

/* Opens the input and reads its checkpoint.  Options are copied.  SB_ERR_CONFIG
 * when the input or the checkpoint setting cannot work (a checkpoint for
 * standard input); SB_ERR_INVALID when the checkpoint file is corrupt;
 * SB_ERR_IO when the input cannot be opened. */
sb_err_t file_input_new(const file_input_options_t *opts, sb_log_t *log, file_input_t **out, char *errstr,
                        size_t errstr_size);
/* Writes the checkpoint (if any acknowledgement is not written yet) and
 * frees everything. */
void file_input_destroy(file_input_t *fi);

/* The file to read from.  For a directory with no new file, waits at most
 * timeout_ms for one (*out->f NULL when none came).  SB_ERR_NOT_FOUND when
 * a file or standard input has been read to its end (file_input_end). */
sb_err_t file_input_current(file_input_t *fi, int timeout_ms, file_input_file_t *out, char *errstr,
                            size_t errstr_size);
/* The position of the record that ends `offset` bytes into the current
 * file; SB_ERR_INVALID when the offset does not fit (see above). */
sb_err_t file_input_position(file_input_t *fi, uint64_t offset, uint64_t *position, char *errstr,
                             size_t errstr_size);
/* The current file has been read to its end, `end` bytes. */
void file_input_end(file_input_t *fi, uint64_t end);
/* Records "done up to position" and writes the checkpoint when due. */
sb_err_t file_input_ack(file_input_t *fi, uint64_t position, char *errstr, size_t errstr_size);
/* Writes the checkpoint now if an acknowledgement is not written yet. */
sb_err_t file_input_flush(file_input_t *fi, char *errstr, size_t errstr_size);
void file_input_stats(file_input_t *fi, source_stats_t *out);
/* 1 if the input is a watched directory. */
int file_input_is_directory(const file_input_t *fi);
/* The checkpoint's path, or NULL when there is none. */
const char *file_input_checkpoint_path(const file_input_t *fi);

/* Reads and drops `n` bytes of `f`, counting the newlines in them into
 * *newlines (for line numbers after a resume). */
sb_err_t file_input_skip(FILE *f, uint64_t n, unsigned long *newlines, char *errstr, size_t errstr_size);

/* Fills the options from the settings the file sources share (input,
 * checkpoint_file, checkpoint_interval_ms); the strings stay the config's. */
void file_input_options_from_config(const sb_config_t *cfg, const char *suffix, file_input_options_t *out);

#endif

/*
 * fuzzutil: what the libFuzzer targets of tests/fuzz share: where the
 * source tree is (the targets load the datasets' schemas from it once), a
 * quiet logger, and the one way a target reports a broken invariant: a
 * message and abort(), so that libFuzzer keeps the input as a crash.
 *
 * A target is one fuzz_<name>.c with LLVMFuzzerTestOneInput; make builds
 * it with clang's libFuzzer, ASan and UBSan into build/fuzz/bin/ (README,
 * "Tests").  Every target leaves no state behind between inputs, so that a
 * crash replays from its input alone.
 */
#ifndef SB_FUZZUTIL_H
#define SB_FUZZUTIL_H

#include <stddef.h>
#include <stdint.h>

#include "dataset.h"
#include "sb_log.h"
#include "sb_schema.h"

/* libFuzzer's entry points, declared for -Wmissing-prototypes and lint. */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv);

/* `rel` under the source tree: $SHAREBUS_SRC, else the current directory
 * (make runs the targets from the top of the tree).  A static buffer,
 * overwritten by the next call. */
const char *fuzz_path(const char *rel);

/* The dataset `topic` from `dir` (relative to the tree), or abort(): the
 * targets cannot run without it.  The caller keeps it for the process. */
sb_dataset_t *fuzz_dataset(const char *dir, const char *topic);

/* An Avro schema from text, or abort(). */
sb_schema_t *fuzz_schema(const char *json);

/* A logger that drops everything below errors, to /dev/null. */
sb_log_t *fuzz_log(void);

/* A NUL-terminated copy of the input (free()), or abort() when memory
 * runs out (libFuzzer's -rss_limit_mb stops a real runaway first). */
char *fuzz_strndup(const uint8_t *data, size_t size);

/* Reports a broken invariant and aborts. */
void fuzz_fail(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));

#endif

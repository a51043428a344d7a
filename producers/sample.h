/*
 * sample: deterministic sample change events for the three sample datasets
 * (market.business_license, civil.resident, tax.taxpayer), with identifiers
 * that carry valid check characters.  Used by `make demo`, the tests and the
 * benchmarks.  The same seed gives the same sequence.
 */
#ifndef SB_SAMPLE_H
#define SB_SAMPLE_H

#include <stddef.h>
#include <stdint.h>

#include "sb_error.h"

typedef struct sb_sample_s sb_sample_t;

/* Creates into *out a generator of changes to `n_keys` records of dataset
 * `topic` (destroy it with sb_sample_destroy).  SB_ERR_INVALID for an
 * unknown dataset or no keys, SB_ERR_NOMEM; errstr says why. */
sb_err_t sb_sample_new(const char *topic, uint64_t seed, size_t n_keys, sb_sample_t **out, char *errstr,
                       size_t errstr_size);
void sb_sample_destroy(sb_sample_t *s);

/* The next change as one JSON line without newline (change_line.h format):
 * a create for a key that does not exist, else an update (80%) or a delete.
 * The caller frees the string.  NULL on allocation failure. */
char *sb_sample_next(sb_sample_t *s);

/* The i-th key's identifier (valid check char), written into out (19 bytes). */
void sb_sample_identifier(const sb_sample_t *s, size_t i, char out[19]);

#endif

/*
 * regd_store_int: the inside of regd_store, shared by its two halves:
 * regd_store.c (data structures and reads) and regd_apply.c (the
 * commands).  Nothing outside those files includes this header.
 *
 * Memory: a national registry holds ~100,000 subjects, so per subject it
 * keeps only its name, its versions (12 bytes each) and its settings, and
 * per distinct schema only its canonical text, once, whatever the number
 * of subjects and versions that use it.  Parsed schemas (several KB each,
 * needed only for compatibility checks) live in a small cache of the most
 * recently used, rebuilt from the text on demand.
 *
 * Every helper here expects the store's lock held, except
 * regd_canonicalise() and regd_hash().
 */
#ifndef REGD_STORE_INT_H
#define REGD_STORE_INT_H

#include <pthread.h>
#include <stdint.h>

#include "regd_json.h"
#include "regd_store.h"

typedef struct {
        int32_t id;
        char *text; /* canonical form, owned */
        uint64_t hash;
        uint32_t uses; /* versions, soft-deleted ones too, that use it */
} schema_t;

typedef struct {
        int32_t version, id;
        int deleted;
} version_t;

typedef struct {
        char *name;   /* owned */
        version_t *v; /* ascending by version */
        size_t n, cap;
        int has_level, has_mode;
        regd_compat_level_t level;
        regd_mode_t mode;
} subject_t;

/* Canonical forms of recently seen request texts: clients send the same
 * schema text again and again (every lookup), and parsing it is the slow
 * part.  The canonical form depends only on the text, so a cached one is
 * always right. */
#define SB_CANON_CACHE_SIZE 1024
typedef struct {
        uint64_t hash;
        char *raw;   /* owned; NULL = empty slot */
        char *canon; /* owned */
} canon_entry_t;

/* Parsed schemas most recently used by compatibility checks. */
#define REGD_PARSED_CACHE_SIZE 64
typedef struct {
        int32_t id; /* 0 = empty slot */
        uint64_t used;
        sb_schema_t *parsed; /* owned */
} parsed_entry_t;

struct regd_store_s {
        pthread_mutex_t lock; /* guards everything below */
        /* avro-c keeps its last error in one global buffer, so schemas are
         * parsed one at a time (taken after `lock` when both are held). */
        pthread_mutex_t parse_lock;
        pthread_mutex_t canon_lock; /* guards canon_cache only */
        canon_entry_t canon_cache[SB_CANON_CACHE_SIZE];
        schema_t *schemas; /* ascending by id; never removed */
        size_t n_schemas, cap_schemas;
        int64_t next_id;  /* one more than the highest id ever used */
        int32_t *index;   /* open addressing on the text hash: ids; 0 = empty */
        size_t index_cap; /* a power of two, at least twice n_schemas */
        parsed_entry_t parsed[REGD_PARSED_CACHE_SIZE];
        uint64_t parsed_clock;
        /* Subjects in no order (each allocated on its own, so a pointer
         * stays valid while others come and go), found by name through an
         * open-addressing index of positions + 1 (0 = empty); readers that
         * list them sort by name. */
        subject_t **subjects;
        size_t n_subjects, cap_subjects;
        uint32_t *subject_index;
        size_t subject_index_cap; /* a power of two, at least twice n_subjects */
        uint64_t generation;      /* bumped by every applied command (atomic) */
        int has_level, has_mode;  /* global settings */
        regd_compat_level_t level;
        regd_mode_t mode;
};

/* Grows *arr (of `size`-byte elements) to hold at least `need`: 0 or -1. */
int regd_reserve(void **arr, size_t *cap, size_t need, size_t size);

uint64_t regd_hash(const char *text);

/* Parses `text` (`len` bytes); sets *canon to a copy of its canonical form
 * and, if `parsed` is not NULL, *parsed to the handle (else destroyed). */
sb_err_t regd_canonicalise(regd_store_t *st, const char *text, size_t len, char **canon, sb_schema_t **parsed,
                           char *errstr, size_t errstr_size);

schema_t *regd_schema(regd_store_t *st, int32_t id);
/* The id of the first schema with canonical text `canon`, or 0. */
int32_t regd_find_text(const regd_store_t *st, const char *canon, uint64_t hash);
/* Adds schema `id` (not yet present, >= 1) taking `canon`; -1 (nothing
 * taken) when out of memory. */
int regd_schema_add(regd_store_t *st, int32_t id, char *canon, uint64_t hash);
/* The parsed form of a schema from the cache, parsed now if need be; NULL
 * if out of memory.  Valid until the next call of regd_schema_parsed or
 * regd_parsed_put (the cache may drop it then). */
const sb_schema_t *regd_schema_parsed(regd_store_t *st, const schema_t *s);
/* Gives the cache the parsed form of schema `id` (taken, or destroyed if
 * the cache already holds one). */
void regd_parsed_put(regd_store_t *st, int32_t id, sb_schema_t *parsed);

subject_t *regd_subject(regd_store_t *st, const char *name);
/* Finds or adds the subject; NULL when out of memory. */
subject_t *regd_subject_add(regd_store_t *st, const char *name);
/* Removes the subject if it holds no version, level or mode (the last
 * subject of st->subjects may take its place). */
void regd_subject_gc(regd_store_t *st, subject_t *s);
/* Number of versions, soft-deleted ones counted only if `deleted`. */
size_t regd_subject_count(const subject_t *s, int deleted);
/* The version numbered `version` (deleted or not), or NULL. */
version_t *regd_subject_version(subject_t *s, int32_t version);
/* The newest non-deleted version, or NULL. */
version_t *regd_subject_latest(subject_t *s);

/* The level and mode in force for a subject (NULL: global). */
regd_compat_level_t regd_level_of(const regd_store_t *st, const subject_t *s);
regd_mode_t regd_mode_of(const regd_store_t *st, const subject_t *s);

/* Checks `candidate` against the non-deleted versions of `s` (all, or only
 * `only` if not NULL) under `level`; appends messages naming the real
 * version numbers.  Returns 1 if compatible, 0 if not, -1 out of memory. */
int regd_compat(regd_store_t *st, subject_t *s, const version_t *only, regd_compat_level_t level,
                const sb_schema_t *candidate, json_t *messages);

#endif

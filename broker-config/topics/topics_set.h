/*
 * topics_set: a set of topic descriptions (name, partitions, replication
 * factor, topic configs), the one shape both sides of sharebus-topics take:
 * what broker-config/topics.conf declares (topics_file.h) and what the
 * broker holds (topics_admin.h).  topics_plan.h compares two sets.
 *
 * Plain data, no I/O, so that the comparison can be tested without a
 * broker.  A set owns every string it holds (each is copied on the way in);
 * the pointers it hands out stay valid until the set is destroyed, also
 * across later additions (topics are allocated one by one).
 */
#ifndef SB_TOPICS_SET_H
#define SB_TOPICS_SET_H

#include <stddef.h>

#include "sb_error.h"

/* Kafka's own limit on a topic name. */
#define TOPICS_NAME_MAX 249
/* Topics one set holds: a broker (or a file) with more is refused rather
 * than half-read. */
#define TOPICS_SET_MAX 50000
/* Configs one topic holds (Kafka knows about 40 topic configs). */
#define TOPICS_CONFIGS_MAX 64
#define TOPICS_CONFIG_NAME_MAX 128
#define TOPICS_CONFIG_VALUE_MAX 4096

typedef struct {
        const char *name;  /* "retention.ms" */
        const char *value; /* as Kafka shows it: "604800000" */
        int line;          /* of the file where it was declared, 0 for the broker's */
} topics_config_t;

typedef struct {
        const char *name;
        int partitions;
        int replication_factor;         /* 0: not known */
        int line;                       /* of the file where it was declared, 0 for the broker's */
        const topics_config_t *configs; /* sorted by name, no name twice */
        size_t n_configs;
} topics_topic_t;

typedef struct topics_set_s topics_set_t;

/* A new empty set into *out, which the caller destroys.  SB_ERR_NOMEM. */
sb_err_t topics_set_new(topics_set_t **out, char *errstr, size_t errstr_size);
void topics_set_destroy(topics_set_t *s);

/* 0 if `name` is a topic name Kafka accepts (1..TOPICS_NAME_MAX of
 * [a-zA-Z0-9._-], not "." or ".."); else -1 and `why` says what is wrong. */
int topics_name_check(const char *name, char *why, size_t why_size);

/* Adds a topic (name copied) and sets *index (may be NULL) to its index.
 * SB_ERR_INVALID for a bad name, negative counts or a full set;
 * SB_ERR_NOMEM.  A name added twice is found by topics_set_sort. */
sb_err_t topics_set_add(topics_set_t *s, const char *name, int partitions, int replication_factor, int line,
                        size_t *index, char *errstr, size_t errstr_size);
/* Gives topic `index` config `name` = `value` (both copied).
 * SB_ERR_INVALID for a name declared twice, a name or value too long, a
 * name that is not [a-zA-Z0-9._-], more than TOPICS_CONFIGS_MAX;
 * SB_ERR_NOMEM. */
sb_err_t topics_set_add_config(topics_set_t *s, size_t index, const char *name, const char *value, int line,
                               char *errstr, size_t errstr_size);

/* Orders the topics by name.  Returns 0, or -1 when a name is there twice:
 * then *first and *second (may be NULL) are the two, *first the one with
 * the lower line. */
int topics_set_sort(topics_set_t *s, const topics_topic_t **first, const topics_topic_t **second);

size_t topics_set_count(const topics_set_t *s);
/* Topic i (in order of addition, or by name after topics_set_sort); NULL
 * past the count.  Owned by the set. */
const topics_topic_t *topics_set_at(const topics_set_t *s, size_t i);
/* The topic named `name`, NULL if none (a binary search once sorted). */
const topics_topic_t *topics_set_find(const topics_set_t *s, const char *name);
/* The value of config `name` of `t`, NULL if `t` has none such. */
const char *topics_config_get(const topics_topic_t *t, const char *name);

#endif

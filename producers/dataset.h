/*
 * dataset: a dataset's schemas as the producer publishes them.
 *
 * A dataset `<department>.<name>` (also its topic) has two files in the
 * schema directory: `<topic>.key.avsc` (the primary key record) and
 * `<topic>.row.avsc` (the row record).  The value schema is the change
 * envelope built around the row (sb_envelope).  Subjects follow Confluent's
 * TopicNameStrategy: `<topic>-key` and `<topic>-value`.
 */
#ifndef SB_PRODUCERS_DATASET_H
#define SB_PRODUCERS_DATASET_H

#include "sb_avro.h"
#include "sb_error.h"

typedef struct sb_dataset_s sb_dataset_t;

/* Loads the dataset `topic` from `schema_dir`.  *out is a new handle. */
sb_err_t sb_dataset_load(const char *schema_dir, const char *topic, sb_dataset_t **out, char *errstr,
                         size_t errstr_size);
void sb_dataset_destroy(sb_dataset_t *ds);

/* Schemas owned by the dataset. */
sb_schema_t *sb_dataset_key_schema(const sb_dataset_t *ds);
sb_schema_t *sb_dataset_value_schema(const sb_dataset_t *ds);
/* The row record node (inside the value schema). */
const sb_node_t *sb_dataset_row(const sb_dataset_t *ds);
const char *sb_dataset_topic(const sb_dataset_t *ds);

/* 1 if `topic` is a valid dataset topic name: lower case [a-z0-9_.-],
 * a department and a dataset separated by a dot. */
int sb_dataset_topic_valid(const char *topic);

#endif

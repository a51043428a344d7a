/*
 * row_shape: what the subscriber knows about the rows of one (topic, key
 * schema, value schema): the target's table, the records the target's table
 * is made of (after the topic's transforms), the bound transform chain and
 * the registry's validation rules of the published row.  Each shape is made
 * on the first event of its schemas and kept for the subscriber's life: the
 * target's statement caches key on the records' addresses.
 *
 * A shape that cannot be made (a transform the schema does not allow, a
 * table name the target refuses) keeps the reason: every event of those
 * schemas is refused the same way, without binding again.  Rules that do
 * not compile are kept as rules_error: they refuse rows, not deletes.
 */
#ifndef ROW_SHAPE_H
#define ROW_SHAPE_H

#include <stdint.h>

#include "dead_letter.h"
#include "sb_error.h"
#include "sb_registry_client.h"
#include "sb_rules.h"
#include "sb_schema.h"
#include "target.h"
#include "transforms/tf_chain.h"

typedef struct {
        char table[256];         /* the target's table (history mode: <table>_history) */
        const sb_node_t *key;    /* the table's key record */
        const sb_node_t *row;    /* the table's row record */
        const tf_chain_t *chain; /* NULL: events go to the target as decoded */
        const sb_rules_t *rules; /* of the published row; NULL with rules_error */
        const char *rules_error; /* why the rules do not compile, or NULL */
        int ensured;             /* the table is made for this shape in the open transaction */
} row_shape_t;

typedef struct row_shapes_s row_shapes_t;

/* Shapes for `target` (borrowed) with the chains of `tc` (borrowed, NULL for
 * none: rows as published) into *out, destroyed with row_shapes_destroy.
 * `history`: tables get the _history suffix.  SB_ERR_NOMEM. */
sb_err_t row_shapes_new(sb_target_t *target, const tf_config_t *tc, int history, row_shapes_t **out,
                        char *errstr, size_t errstr_size);
void row_shapes_destroy(row_shapes_t *rs);

/* The shape of `topic`'s events with key schema key_id (record `key`) and
 * value schema value_id (row record `row`); the nodes are borrowed and must
 * outlive rs (the registry client's cache keeps them).  SB_ERR_INVALID with
 * *cls the stage that refuses the schemas; SB_ERR_NOMEM. */
sb_err_t row_shapes_get(row_shapes_t *rs, const char *topic, int32_t key_id, int32_t value_id,
                        const sb_node_t *key, const sb_node_t *row, row_shape_t **out, sb_dl_class_t *cls,
                        char *errstr, size_t errstr_size);

/* Makes the shape's table in the open transaction (once per transaction)
 * and records its columns. */
sb_err_t row_shapes_ensure(row_shapes_t *rs, row_shape_t *shape, char *errstr, size_t errstr_size);
/* After a rollback: the tables' DDL is gone with it, so each is made again. */
void row_shapes_forget_ensured(row_shapes_t *rs);

/* Binds the chain of every topic in `topics` (comma-separated) to the latest
 * schemas the registry has for it, so that a transform the data standard
 * does not allow stops the subscriber at start.  SB_ERR_CONFIG naming the
 * config line; a topic without schemas yet, or a registry not answering, is
 * left to the first event (*unchecked counts them, errstr says the last). */
sb_err_t row_shapes_check_latest(const tf_config_t *tc, sb_registry_client_t *registry, const char *topics,
                                 int *unchecked, char *errstr, size_t errstr_size);

#endif

/*
 * target: the subscriber's database, behind a small table of operations so
 * that SQLite (embedded default) and PostgreSQL (production) are used the
 * same way.
 *
 * The subscriber writes the rows of a batch and the next offsets of the
 * partitions it consumed in one transaction (begin .. commit), so that after
 * any crash the table and the offsets agree: each event is applied once.
 *
 * Errors: SB_ERR_INVALID means this row can never be applied (a constraint or
 * type the database refuses): the record goes to the dead-letter topic.
 * SB_ERR_DB means the database is not working now: retry later.
 */
#ifndef SB_TARGET_H
#define SB_TARGET_H

#include <jansson.h>
#include <stdint.h>

#include "sb_avro.h"
#include "sb_error.h"
#include "sb_rules.h"

typedef struct sb_target_s sb_target_t;

/* What a history table records of an event besides the row (borrowed). */
typedef struct {
        char op; /* 'c', 'u', 'd' or 'r' */
        int64_t ts_ms;
        int64_t seq;
        const char *event_id;
} sb_target_event_t;

typedef struct {
        const char *kind;
        sb_err_t (*begin)(sb_target_t *t, char *errstr, size_t errstr_size);
        sb_err_t (*commit)(sb_target_t *t, char *errstr, size_t errstr_size);
        void (*rollback)(sb_target_t *t);
        /* The table that holds the rows of `topic`, into out[size] (for
         * SQLite: dots and dashes become underscores).  SB_ERR_INVALID when
         * the name does not fit. */
        sb_err_t (*table_name)(sb_target_t *t, const char *topic, char *out, size_t size, char *errstr,
                               size_t errstr_size);
        /* Creates `table` from the key and row records, adding the columns a
         * newer row schema has; rows already there get the field's default
         * in an added column (NULL when it has none).  Nodes are borrowed
         * for the call. */
        sb_err_t (*ensure_table)(sb_target_t *t, const char *table, const sb_node_t *key,
                                 const sb_node_t *row, char *errstr, size_t errstr_size);
        /* Records the classification (sb_rules.h) of each column of `table`,
         * from the fields of the row record, so that the subscriber's team
         * can see which of their columns hold personal data.  Called after
         * ensure_table, in the same transaction; NULL if the target cannot. */
        sb_err_t (*record_columns)(sb_target_t *t, const char *table, const sb_node_t *row, char *errstr,
                                   size_t errstr_size);
        sb_err_t (*upsert)(sb_target_t *t, const char *table, const sb_node_t *key, const sb_node_t *row,
                           const json_t *values, char *errstr, size_t errstr_size);
        sb_err_t (*remove)(sb_target_t *t, const char *table, const sb_node_t *key, const sb_node_t *row,
                           const json_t *key_values, char *errstr, size_t errstr_size);
        /* History mode: creates `table` with one row per event, the columns
         * sharebus_event_id (its primary key), sharebus_op, sharebus_ts_ms and
         * sharebus_seq, then the row record's fields (no key constraint; an
         * index on the key fields and sharebus_seq), adding the columns a
         * newer row schema has, as ensure_table. */
        sb_err_t (*ensure_history)(sb_target_t *t, const char *table, const sb_node_t *key,
                                   const sb_node_t *row, char *errstr, size_t errstr_size);
        /* History mode: appends event `ev` with the row `values` (the after
         * image; for a delete the before image, or the key).  An event id
         * already in the table is left as it is. */
        sb_err_t (*append)(sb_target_t *t, const char *table, const sb_node_t *row, const json_t *values,
                           const sb_target_event_t *ev, char *errstr, size_t errstr_size);
        /* *next = -1 when no offset is stored for the partition. */
        sb_err_t (*load_offset)(sb_target_t *t, const char *group, const char *topic, int32_t partition,
                                int64_t *next, char *errstr, size_t errstr_size);
        sb_err_t (*store_offset)(sb_target_t *t, const char *group, const char *topic, int32_t partition,
                                 int64_t next, char *errstr, size_t errstr_size);
        /* Records that event `event_id` (op c/u/d/r) from topic/partition/offset
         * was applied, in the same transaction: who got which record when. */
        sb_err_t (*record_receipt)(sb_target_t *t, const char *topic, int32_t partition, int64_t offset,
                                   const char *event_id, const char *op, char *errstr, size_t errstr_size);
        /* *found = 1 if a receipt of event `event_id` from topic/partition/
         * offset is recorded (in this transaction or a committed one), else
         * 0: how a replay of dead letters knows what was applied already (a
         * replay records the receipt at the dead letter's source offset).
         * Looked up by position: the receipts' only index is on it, as
         * offsets grow and an index on random event ids would cost a page
         * written per event. */
        sb_err_t (*has_receipt)(sb_target_t *t, const char *topic, int32_t partition, int64_t offset,
                                const char *event_id, int *found, char *errstr, size_t errstr_size);
        void (*destroy)(sb_target_t *t);
} sb_target_ops_t;

/* Every target struct starts with this. */
struct sb_target_s {
        const sb_target_ops_t *ops;
};

/* What sharebus_columns records of field i of a row record (for the
 * targets' record_columns): its classification (sb_rules.h); the policy the
 * subscriber's transforms gave it ("clear" without transforms); the
 * published field it comes from (the column itself without transforms, NULL
 * for a constant).  Strings borrowed from the record.  SB_ERR_INVALID when
 * the classification is unknown (the column is then not recorded as
 * harmless) or a property is not a string. */
sb_err_t sb_target_column_meta(const sb_node_t *row, size_t i, sb_class_t *cls, const char **policy,
                               const char **source, char *errstr, size_t errstr_size);

/* Opens (creating if needed) the SQLite database at `path`.  *out is a new
 * target the caller destroys with out->ops->destroy. */
sb_err_t sb_target_sqlite_open(const char *path, sb_target_t **out, char *errstr, size_t errstr_size);

#endif

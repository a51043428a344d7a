/*
 * tf_step: what every transform step kind implements, and the column list
 * the steps shape.  Internal to consumers/transforms: the subscriber sees
 * only tf_chain.h.
 *
 * A step goes through three stages:
 *   parse  once at start, from its group in the config (`conf`, with the
 *          "@line" sb_config_tree gives it): only the shape of the config;
 *   bind   once per (key schema, value schema): checks its field against
 *          the columns the steps before it left, and changes them (a rename,
 *          a type that becomes a string, a column dropped or added);
 *   apply  once per event: changes the event's values in place, or says the
 *          event is not for this subscriber.
 * Params (from parse) outlive every binding made from them; a binding may
 * point into its params.  Both are freed with the kind's free functions.
 */
#ifndef TF_STEP_H
#define TF_STEP_H

#include <jansson.h>
#include <stddef.h>

#include "sb_error.h"
#include "sb_rules.h"
#include "sb_schema.h"
#include "transforms/tf_chain.h"

/* How a field's values look in a decoded event (sb_avro.h's JSON). */
typedef enum {
        TF_V_STRING, /* string, enum, date, timestamp-millis (as text) */
        TF_V_NUMBER, /* int, long, float, double */
        TF_V_BOOL,
        TF_V_OTHER, /* bytes, fixed, records, arrays, maps, other unions */
} tf_value_kind_t;

/* A column of the target's table while a chain is bound. */
typedef struct {
        json_t *field;      /* owned: an Avro field object, its "name" the column's name */
        const char *source; /* the published field (borrowed from the schema); NULL: a constant */
        int key_pos;        /* position in the key record, -1 if not a key field */
        int nullable;
        tf_value_kind_t kind;
        sb_class_t cls;
        const char *policy; /* static text: clear, masked, hashed, redacted, constant */
        int decided;        /* a step or the clear list chose the policy: no default applies */
} tf_column_t;

typedef struct {
        tf_column_t *cols;
        size_t n, cap;
} tf_columns_t;

/* The column named `name`, or NULL. */
tf_column_t *tf_columns_find(tf_columns_t *cols, const char *name);
const char *tf_column_name(const tf_column_t *col);
/* Renames `col` (copies name).  SB_ERR_NOMEM. */
sb_err_t tf_column_rename(tf_column_t *col, const char *name);
/* The column's values become strings (masked, hashed): its type becomes
 * "string", nullable as it was, without a default. */
sb_err_t tf_column_make_string(tf_column_t *col);
/* Removes `col` from the list. */
void tf_columns_remove(tf_columns_t *cols, tf_column_t *col);
/* Appends a column of `field` (taken: the list owns it).  SB_ERR_NOMEM. */
sb_err_t tf_columns_add(tf_columns_t *cols, json_t *field, tf_column_t **out);

/* Replaces the value of `name` in after and before (and in key when
 * `in_key`) with fn(value, opaque) (a new reference; NULL: out of memory).
 * Absent values stay absent.  TF_KEEP or TF_NOMEM. */
tf_verdict_t tf_event_map(tf_event_t *ev, const char *name, int in_key,
                          json_t *(*fn)(const json_t *, const void *), const void *opaque);

typedef struct {
        const unsigned char *hash_key; /* the subscriber's hash_key_file; NULL when none */
        size_t hash_key_len;
} tf_context_t;

typedef struct {
        const char *name; /* the member of the step's group that names its kind */
        /* *params: new, freed with free_params.  SB_ERR_CONFIG with errstr
         * (without the config line: the chain adds it); SB_ERR_NOMEM. */
        sb_err_t (*parse)(const json_t *conf, const tf_context_t *ctx, void **params, char *errstr,
                          size_t errstr_size);
        /* *bound: new (may point into params), freed with free().  SB_ERR_INVALID
         * when the schema does not allow the step; SB_ERR_NOMEM. */
        sb_err_t (*bind)(const void *params, tf_columns_t *cols, void **bound, char *errstr,
                         size_t errstr_size);
        tf_verdict_t (*apply)(const void *bound, tf_event_t *ev);
        void (*free_params)(void *params);
} tf_kind_t;

/* The step kinds, one module each. */
extern const tf_kind_t tf_rename_kind, tf_drop_kind, tf_filter_kind, tf_mask_kind, tf_hash_kind,
        tf_redact_kind, tf_constant_kind, tf_ops_kind;

/* Helpers the kinds share: the string member `name` of conf into *out
 * (borrowed), SB_ERR_CONFIG naming it if absent or not a string; and a
 * check that conf has no member but `allowed` (NULL-terminated) and "@line". */
sb_err_t tf_conf_string(const json_t *conf, const char *name, const char **out, char *errstr,
                        size_t errstr_size);
sb_err_t tf_conf_only(const json_t *conf, const char *const *allowed, char *errstr, size_t errstr_size);
/* Params that are one field name: {kind = "field";}; freed with free(). */
typedef struct {
        char *field;
} tf_field_params_t;
sb_err_t tf_parse_field_only(const json_t *conf, const char *kind, void **params, char *errstr,
                             size_t errstr_size);
void tf_free_field_params(void *params);
/* The column a step names, or SB_ERR_INVALID "no field X (the schema has: ...)". */
sb_err_t tf_find_column(tf_columns_t *cols, const char *step, const char *name, tf_column_t **out,
                        char *errstr, size_t errstr_size);

#endif

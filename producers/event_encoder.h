/*
 * event_encoder: turns a parsed change line into the Kafka key and value of
 * a change event, both in the Confluent wire format (registry id + Avro),
 * and checks the line against the dataset's rules (sb_rules.h) as the
 * registry holds them: the key against the key record's, `after` against
 * the row record's.
 */
#ifndef SB_EVENT_ENCODER_H
#define SB_EVENT_ENCODER_H

#include "change_line.h"
#include "sb_buf.h"
#include "dataset.h"
#include "sb_registry_client.h"
#include "sb_rules.h"

typedef struct {
        const sb_dataset_t *dataset; /* borrowed */
        int32_t key_schema_id;
        int32_t value_schema_id;
        const char *department; /* borrowed */
        const char *system;     /* borrowed */
        /* Rules of the key and row records, or NULL for none: owned when set
         * by sb_event_encoder_fetch_rules, freed by sb_event_encoder_clear. */
        sb_rules_t *key_rules;
        sb_rules_t *row_rules;
} sb_event_encoder_t;

/* Fetches the schemas with ids enc->key_schema_id and enc->value_schema_id
 * back from the registry (the data standard is what the registry holds, not
 * the local files) and compiles the rules of the key record and of the row
 * record inside the value envelope into enc->key_rules and enc->row_rules.
 * On failure neither is set: SB_ERR_REGISTRY (or another transport error)
 * if the registry did not answer, SB_ERR_SCHEMA if the rules are malformed. */
sb_err_t sb_event_encoder_fetch_rules(sb_event_encoder_t *enc, sb_registry_client_t *registry, char *errstr,
                                      size_t errstr_size);
/* Frees the rules sb_event_encoder_fetch_rules set (and sets them NULL). */
void sb_event_encoder_clear(sb_event_encoder_t *enc);

/* Encodes `cl` into `key` and `value` (reset first) and sets `event_id`.
 * `default_seq` is used when the line has no seq.  On SB_ERR_INVALID errstr
 * names the field that does not fit or the rule it breaks, and why
 * ("after.uscc: check character is wrong (cn_uscc)").  Rules are checked
 * once the line fits the schemas, on `key` and `after` only: `before` is
 * the state the subscribers already hold. */
sb_err_t sb_event_encode(const sb_event_encoder_t *enc, const sb_change_line_t *cl, int64_t default_seq,
                         sb_buf_t *key, sb_buf_t *value, char event_id[37], char *errstr, size_t errstr_size);

#endif

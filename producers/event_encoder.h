/*
 * event_encoder: turns a parsed change line into the Kafka key and value of
 * a change event, both in the Confluent wire format (registry id + Avro).
 */
#ifndef SB_EVENT_ENCODER_H
#define SB_EVENT_ENCODER_H

#include "change_line.h"
#include "sb_buf.h"
#include "sb_dataset.h"

typedef struct {
        const sb_dataset_t *dataset; /* borrowed */
        int32_t key_schema_id;
        int32_t value_schema_id;
        const char *department; /* borrowed */
        const char *system;     /* borrowed */
} sb_event_encoder_t;

/* Encodes `cl` into `key` and `value` (reset first) and sets `event_id`.
 * `default_seq` is used when the line has no seq.  On SB_ERR_INVALID errstr
 * names the field that does not fit and why. */
sb_err_t sb_event_encode(const sb_event_encoder_t *enc, const sb_change_line_t *cl, int64_t default_seq,
                         sb_buf_t *key, sb_buf_t *value, char event_id[37], char *errstr, size_t errstr_size);

#endif

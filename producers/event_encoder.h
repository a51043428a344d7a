/*
 * event_encoder: turns a parsed change line into the Kafka key and value of
 * a change event, both in the Confluent wire format (registry id + Avro),
 * and checks the line against the dataset's rules (sb_rules.h) as the
 * registry holds them: the key against the key record's, `after` against
 * the row record's.
 *
 * Two ways in.  sb_event_encode takes a line parsed by sb_change_line_parse
 * (a jansson tree).  sb_event_encode_text takes the line's text and is the
 * producer's per-event path: it reads the text once, straight into Avro
 * (sb_avro_text.h), checks the rules on the values as read, and only when
 * that fast path declines (a line that is invalid, or written in a form it
 * leaves to jansson) parses the line and encodes it as sb_event_encode
 * does.  Both give the same bytes for the same line (up to the event id)
 * and the same errors with the same messages.
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

/* One thread's state for sb_event_encode_text: its own copies of the
 * dataset's schemas (sb_avro's reference path reuses one avro-c value per
 * schema), its event id generator (sb_uuid_gen_t, seeded from the kernel
 * once), and scratch buffers that grow to the largest line seen and are
 * then reused: no allocation per event in the steady state.
 *
 * `enc` is borrowed: it, its dataset and its rules must outlive the worker
 * and not change while it lives (make workers after
 * sb_event_encoder_fetch_rules; a worker that sees other rules than at its
 * making falls back to the reference path for every line).  On success
 * *out is owned by the caller (sb_event_worker_destroy). */
typedef struct sb_event_worker_s sb_event_worker_t;
sb_err_t sb_event_worker_new(const sb_event_encoder_t *enc, sb_event_worker_t **out, char *errstr,
                             size_t errstr_size);
void sb_event_worker_destroy(sb_event_worker_t *worker);

/* Encodes the change line `text` (`len` bytes, one JSON object as
 * change_line.h describes; need not be NUL-terminated; trailing newline
 * stripped by the caller, and blank lines skipped by it:
 * sb_change_line_is_blank) into `key` and `value` (reset first; the
 * caller's buffers, whose max bounds what a line may take), draws its
 * `event_id` and sets *op_out to its op ('c', 'u', 'd' or 'r': after a 'd'
 * the producer sends a tombstone).  `default_seq` is used when the line has
 * no seq.  Errors are sb_change_line_parse's and sb_event_encode's, with
 * the same messages: SB_ERR_INVALID and errstr naming the member, field or
 * rule ("not valid JSON at column 3: ...", "key.uscc: expected a string,
 * got integer", "after.uscc: check character is wrong (cn_uscc)");
 * SB_ERR_NOMEM.  On error key, value, event_id and *op_out hold nothing
 * to use.
 *
 * Threads: call it from several threads at once, each with its own worker
 * and its own buffers; the encoder, its dataset and rules are only read. */
sb_err_t sb_event_encode_text(sb_event_worker_t *worker, const char *text, size_t len, int64_t default_seq,
                              sb_buf_t *key, sb_buf_t *value, char event_id[37], char *op_out, char *errstr,
                              size_t errstr_size);

/* Lines the worker encoded on the fast path and on the reference path (the
 * latter: every invalid line, and valid lines in forms the fast path
 * leaves to jansson).  A steady share of reference lines among valid ones
 * says the input is written in such a form. */
void sb_event_worker_counts(const sb_event_worker_t *worker, uint64_t *fast, uint64_t *reference);

#endif

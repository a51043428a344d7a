#include "event_encoder.h"

#include <stdio.h>

#include "sb_clock.h"
#include "sb_envelope.h"
#include "sb_uuid.h"
#include "sb_wire.h"

sb_err_t sb_event_encode(const sb_event_encoder_t *enc, const sb_change_line_t *cl, int64_t default_seq,
                         sb_buf_t *key, sb_buf_t *value, char event_id[37], char *errstr,
                         size_t errstr_size) {
        char inner[512];
        sb_err_t err;
        sb_buf_reset(key);
        sb_buf_reset(value);
        if ((err = sb_wire_put_header(key, enc->key_schema_id)) ||
            (err = sb_wire_put_header(value, enc->value_schema_id)))
                return sb_seterr(err, errstr, errstr_size, "out of memory");
        if ((err = sb_avro_encode(sb_dataset_key_schema(enc->dataset), cl->key, key, inner, sizeof(inner))))
                return sb_seterr(err, errstr, errstr_size, "key.%s", inner);
        if (sb_uuid4(event_id))
                return sb_seterr(SB_ERR_IO, errstr, errstr_size, "no randomness for the event id");
        sb_change_t change = {
                .op = cl->op,
                .before = cl->before,
                .after = cl->after,
                .ts_ms = cl->ts_ms >= 0 ? cl->ts_ms : sb_clock_now_ms(),
                .department = enc->department,
                .system = enc->system,
                .dataset = sb_dataset_topic(enc->dataset),
                .seq = cl->seq >= 0 ? cl->seq : default_seq,
        };
        snprintf(change.event_id, sizeof(change.event_id), "%s", event_id);
        json_t *env = sb_envelope_value(&change);
        if (!env)
                return sb_seterr(SB_ERR_NOMEM, errstr, errstr_size, "out of memory");
        err = sb_avro_encode(sb_dataset_value_schema(enc->dataset), env, value, inner, sizeof(inner));
        json_decref(env);
        if (err)
                return sb_seterr(err, errstr, errstr_size, "%s", inner);
        if (enc->key_rules && (err = sb_rules_check(enc->key_rules, cl->key, "key", errstr, errstr_size)))
                return err;
        if (enc->row_rules && (err = sb_rules_check(enc->row_rules, cl->after, "after", errstr, errstr_size)))
                return err;
        return SB_OK;
}

sb_err_t sb_event_encoder_fetch_rules(sb_event_encoder_t *enc, sb_registry_client_t *registry, char *errstr,
                                      size_t errstr_size) {
        sb_schema_t *key = NULL, *value = NULL;
        sb_rules_t *key_rules = NULL, *row_rules = NULL;
        char inner[512];
        sb_err_t err;
        if ((err = sb_registry_schema_by_id(registry, enc->key_schema_id, &key, errstr, errstr_size)) ||
            (err = sb_registry_schema_by_id(registry, enc->value_schema_id, &value, errstr, errstr_size)))
                return err;
        const sb_node_t *row = sb_rules_record(value);
        if (!row || row == sb_schema_root(value))
                return sb_seterr(SB_ERR_SCHEMA, errstr, errstr_size,
                                 "schema id %d is not a sharebus change envelope", enc->value_schema_id);
        if ((err = sb_rules_new(sb_schema_root(key), &key_rules, inner, sizeof(inner))))
                return sb_seterr(err, errstr, errstr_size, "key schema id %d: %s", enc->key_schema_id, inner);
        if ((err = sb_rules_new(row, &row_rules, inner, sizeof(inner)))) {
                sb_rules_destroy(key_rules);
                return sb_seterr(err, errstr, errstr_size, "value schema id %d: %s", enc->value_schema_id,
                                 inner);
        }
        sb_event_encoder_clear(enc);
        enc->key_rules = key_rules;
        enc->row_rules = row_rules;
        return SB_OK;
}

void sb_event_encoder_clear(sb_event_encoder_t *enc) {
        sb_rules_destroy(enc->key_rules);
        sb_rules_destroy(enc->row_rules);
        enc->key_rules = enc->row_rules = NULL;
}

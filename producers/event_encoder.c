#include "event_encoder.h"

#include <stdio.h>

#include "sb_envelope.h"
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
                .ts_ms = cl->ts_ms >= 0 ? cl->ts_ms : sb_now_ms(),
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
        return SB_OK;
}

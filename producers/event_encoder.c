#include "event_encoder.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sb_avro_text.h"
#include "sb_clock.h"
#include "sb_envelope.h"
#include "sb_json_scan.h"
#include "sb_uuid.h"
#include "sb_wire.h"

/* The reference path: a parsed line through jansson and sb_avro, with the
 * schemas given (the dataset's, or a worker's own copies) and the event id
 * already drawn.  Its results and messages are the encoder's definition. */
static sb_err_t encode_parsed(const sb_event_encoder_t *enc, sb_schema_t *key_schema,
                              sb_schema_t *value_schema, const sb_change_line_t *cl, int64_t default_seq,
                              sb_buf_t *key, sb_buf_t *value, const char *event_id, char *errstr,
                              size_t errstr_size) {
        char inner[512];
        sb_err_t err;
        sb_buf_reset(key);
        sb_buf_reset(value);
        if ((err = sb_wire_put_header(key, enc->key_schema_id)) ||
            (err = sb_wire_put_header(value, enc->value_schema_id)))
                return sb_seterr(err, errstr, errstr_size, "out of memory");
        if ((err = sb_avro_encode(key_schema, cl->key, key, inner, sizeof(inner))))
                return sb_seterr(err, errstr, errstr_size, "key.%s", inner);
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
        err = sb_avro_encode(value_schema, env, value, inner, sizeof(inner));
        json_decref(env);
        if (err)
                return sb_seterr(err, errstr, errstr_size, "%s", inner);
        if (enc->key_rules && (err = sb_rules_check(enc->key_rules, cl->key, "key", errstr, errstr_size)))
                return err;
        if (enc->row_rules && (err = sb_rules_check(enc->row_rules, cl->after, "after", errstr, errstr_size)))
                return err;
        return SB_OK;
}

sb_err_t sb_event_encode(const sb_event_encoder_t *enc, const sb_change_line_t *cl, int64_t default_seq,
                         sb_buf_t *key, sb_buf_t *value, char event_id[37], char *errstr,
                         size_t errstr_size) {
        char inner[512];
        sb_err_t err;
        /* The key is encoded before an id is drawn, as before: a line whose
         * key does not fit costs no randomness. */
        sb_buf_reset(key);
        if ((err = sb_wire_put_header(key, enc->key_schema_id)))
                return sb_seterr(err, errstr, errstr_size, "out of memory");
        if ((err = sb_avro_encode(sb_dataset_key_schema(enc->dataset), cl->key, key, inner, sizeof(inner))))
                return sb_seterr(err, errstr, errstr_size, "key.%s", inner);
        if (sb_uuid4(event_id))
                return sb_seterr(SB_ERR_IO, errstr, errstr_size, "no randomness for the event id");
        return encode_parsed(enc, sb_dataset_key_schema(enc->dataset), sb_dataset_value_schema(enc->dataset),
                             cl, default_seq, key, value, event_id, errstr, errstr_size);
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

/* ---- the text path ---- */

/* Where the fast path may write: a line's rows are bounded by the caller's
 * key and value buffers anyway; the scratch gets the same room. */
#define SCRATCH_MAX (64u << 20)

/* Fields of the envelope, in the order sb_envelope_schema writes them. */
static const char *const envelope_fields[] = {"before", "after", "op", "ts_ms", "source", "event_id"};
static const char *const source_fields[] = {"department", "system", "dataset", "seq"};

struct sb_event_worker_s {
        const sb_event_encoder_t *enc;
        const sb_rules_t *key_rules, *row_rules; /* as when the worker was made */
        sb_schema_t *key_schema, *value_schema;  /* this worker's own copies (owned) */
        sb_uuid_gen_t *ids;
        sb_avro_text_t *text;
        int fast; /* the envelope has the shape the fast path writes */
        const sb_node_t *key_root, *before_row, *after_row;
        size_t nkey, nrow;
        int64_t before_null, before_row_branch, after_null, after_row_branch;
        int64_t op_index[4]; /* of c, u, d, r */
        int *key_to_row;     /* row field index of each key field */
        int *key_rule_field; /* local key field of each key rule field, or -1 */
        int *row_rule_field; /* local row field of each row rule field, or -1 */
        size_t nkey_rules, nrow_rules;
        sb_buf_t source; /* department, system, dataset: the same bytes every event */
        sb_buf_t before, after;
        sb_avro_text_field_t *key_fields, *before_fields, *after_fields;
        uint64_t fast_lines, reference_lines;
};

static sb_err_t copy_schema(const sb_schema_t *from, sb_schema_t **out, char *errstr, size_t errstr_size) {
        const char *text = sb_schema_json(from);
        return sb_schema_new(text, strlen(text), out, errstr, errstr_size);
}

static int field_is(const sb_node_t *rec, size_t i, const char *name, sb_type_t type) {
        return i < sb_node_count(rec) && strcmp(sb_node_field_name(rec, i), name) == 0 &&
               sb_node_type(sb_node_child(rec, i)) == type;
}

/* The branches of a [null, Row] union; 0 if it is not one. */
static int nullable_row(const sb_node_t *u, int64_t *null_branch, int64_t *row_branch,
                        const sb_node_t **row) {
        *null_branch = *row_branch = -1;
        if (sb_node_type(u) != SB_T_UNION || sb_node_count(u) != 2)
                return 0;
        for (size_t i = 0; i < 2; i++) {
                const sb_node_t *b = sb_node_child(u, i);
                if (sb_node_type(b) == SB_T_NULL)
                        *null_branch = (int64_t)i;
                else if (sb_node_type(b) == SB_T_RECORD && sb_node_has_value(b)) {
                        *row_branch = (int64_t)i;
                        *row = b;
                }
        }
        return *null_branch >= 0 && *row_branch >= 0;
}

/* Checks that the value schema is the envelope the fast path writes by
 * hand (anything else is left to the reference path) and learns its
 * branches and symbols. */
static int learn_envelope(sb_event_worker_t *w) {
        const sb_node_t *env = sb_schema_root(w->value_schema);
        if (sb_node_type(env) != SB_T_RECORD || sb_node_count(env) != 6)
                return 0;
        for (size_t i = 0; i < 6; i++)
                if (strcmp(sb_node_field_name(env, i), envelope_fields[i]) != 0)
                        return 0;
        if (!nullable_row(sb_node_child(env, 0), &w->before_null, &w->before_row_branch, &w->before_row) ||
            !nullable_row(sb_node_child(env, 1), &w->after_null, &w->after_row_branch, &w->after_row) ||
            !field_is(env, 2, "op", SB_T_ENUM) || !field_is(env, 3, "ts_ms", SB_T_LONG) ||
            !field_is(env, 4, "source", SB_T_RECORD) || !field_is(env, 5, "event_id", SB_T_STRING) ||
            sb_node_count(w->before_row) != sb_node_count(w->after_row))
                return 0;
        const sb_node_t *op = sb_node_child(env, 2), *src = sb_node_child(env, 4);
        for (size_t k = 0; k < 4; k++) {
                w->op_index[k] = -1;
                for (size_t i = 0; i < sb_node_count(op); i++)
                        if (strcmp(sb_node_symbol(op, i), (const char[2]){"cudr"[k], 0}) == 0)
                                w->op_index[k] = (int64_t)i;
                if (w->op_index[k] < 0)
                        return 0;
        }
        if (sb_node_count(src) != 4)
                return 0;
        for (size_t i = 0; i < 4; i++)
                if (!field_is(src, i, source_fields[i], i == 3 ? SB_T_LONG : SB_T_STRING))
                        return 0;
        for (size_t i = 0; i < sb_node_count(w->after_row); i++)
                if (strcmp(sb_node_field_name(w->before_row, i), sb_node_field_name(w->after_row, i)) != 0)
                        return 0;
        return 1;
}

/* Maps each field of `rules` to the field of `rec` with its name (-1 if
 * none): the rules come from the registry's schema, the record from the
 * worker's. */
static sb_err_t map_rules(const sb_rules_t *rules, const sb_node_t *rec, int **out, size_t *n) {
        *out = NULL;
        *n = rules ? sb_rules_count(rules) : 0;
        if (!*n)
                return SB_OK;
        if (!(*out = calloc(*n, sizeof(**out))))
                return SB_ERR_NOMEM;
        for (size_t i = 0; i < *n; i++)
                (*out)[i] = sb_node_field_index(rec, sb_rules_field_name(rules, i));
        return SB_OK;
}

sb_err_t sb_event_worker_new(const sb_event_encoder_t *enc, sb_event_worker_t **out, char *errstr,
                             size_t errstr_size) {
        sb_err_t err;
        *out = NULL;
        sb_event_worker_t *w = calloc(1, sizeof(*w));
        if (!w)
                return sb_seterr(SB_ERR_NOMEM, errstr, errstr_size, "out of memory");
        w->enc = enc;
        w->key_rules = enc->key_rules;
        w->row_rules = enc->row_rules;
        sb_buf_init(&w->source, 4096);
        sb_buf_init(&w->before, SCRATCH_MAX);
        sb_buf_init(&w->after, SCRATCH_MAX);
        if ((err = copy_schema(sb_dataset_key_schema(enc->dataset), &w->key_schema, errstr, errstr_size)) ||
            (err = copy_schema(sb_dataset_value_schema(enc->dataset), &w->value_schema, errstr,
                               errstr_size)) ||
            (err = sb_uuid_gen_new(&w->ids, errstr, errstr_size)) ||
            (err = sb_avro_text_new(SCRATCH_MAX, &w->text, errstr, errstr_size)))
                goto fail;
        w->key_root = sb_schema_root(w->key_schema);
        w->fast = enc->department && enc->system && sb_node_type(w->key_root) == SB_T_RECORD &&
                  sb_node_has_value(w->key_root) && learn_envelope(w);
        if (!w->fast) {
                *out = w;
                return SB_OK;
        }
        w->nkey = sb_node_count(w->key_root);
        w->nrow = sb_node_count(w->after_row);
        err = SB_ERR_NOMEM;
        if (!(w->key_to_row = calloc(w->nkey + 1, sizeof(int))) ||
            !(w->key_fields = calloc(w->nkey + 1, sizeof(*w->key_fields))) ||
            !(w->before_fields = calloc(w->nrow + 1, sizeof(*w->before_fields))) ||
            !(w->after_fields = calloc(w->nrow + 1, sizeof(*w->after_fields))) ||
            map_rules(w->key_rules, w->key_root, &w->key_rule_field, &w->nkey_rules) ||
            map_rules(w->row_rules, w->after_row, &w->row_rule_field, &w->nrow_rules) ||
            sb_avro_text_put_string(&w->source, enc->department, strlen(enc->department)) ||
            sb_avro_text_put_string(&w->source, enc->system, strlen(enc->system)) ||
            sb_avro_text_put_string(&w->source, sb_dataset_topic(enc->dataset),
                                    strlen(sb_dataset_topic(enc->dataset)))) {
                sb_seterr(err, errstr, errstr_size, "out of memory");
                goto fail;
        }
        for (size_t i = 0; i < w->nkey; i++)
                w->key_to_row[i] = sb_node_field_index(w->after_row, sb_node_field_name(w->key_root, i));
        *out = w;
        return SB_OK;
fail:
        sb_event_worker_destroy(w);
        return err;
}

void sb_event_worker_destroy(sb_event_worker_t *w) {
        if (!w)
                return;
        sb_schema_destroy(w->key_schema);
        sb_schema_destroy(w->value_schema);
        sb_uuid_gen_destroy(w->ids);
        sb_avro_text_destroy(w->text);
        free(w->key_to_row);
        free(w->key_rule_field);
        free(w->row_rule_field);
        free(w->key_fields);
        free(w->before_fields);
        free(w->after_fields);
        sb_buf_free(&w->source);
        sb_buf_free(&w->before);
        sb_buf_free(&w->after);
        free(w);
}

/* 1 if the line's key fields are written exactly as the row's same
 * fields.  Text that differs may still be the same value ("\u0041" and "A"):
 * that is for the reference path to decide. */
static int key_matches_text(const sb_event_worker_t *w, const sb_avro_text_field_t *row) {
        for (size_t i = 0; i < w->nkey; i++) {
                const sb_avro_text_field_t *k = &w->key_fields[i];
                int j = w->key_to_row[i];
                if (!k->text)
                        continue;
                if (j < 0)
                        return 0;
                if (row[j].text &&
                    (row[j].text_len != k->text_len || memcmp(row[j].text, k->text, k->text_len) != 0))
                        return 0;
        }
        return 1;
}

/* 1 if every rule holds.  A failure is left to the reference path, which
 * names it. */
static int rules_hold(const sb_rules_t *rules, const int *map, size_t n, const sb_avro_text_field_t *fields,
                      const char *prefix) {
        char why[8];
        for (size_t i = 0; i < n; i++) {
                if (!sb_rules_field_checked(rules, i))
                        continue;
                sb_rules_value_t absent = {.kind = SB_RULES_ABSENT};
                const sb_rules_value_t *v = map[i] >= 0 ? &fields[map[i]].value : &absent;
                /* A one-member object may be Avro's {"branch": value} form, which
                 * the rules unwrap: the reference path tells. */
                if (v->kind == SB_RULES_OBJECT || (map[i] >= 0 && fields[map[i]].unknown) ||
                    sb_rules_check_field(rules, i, v, prefix, why, sizeof(why)) != SB_OK)
                        return 0;
        }
        return 1;
}

static int put_row(sb_buf_t *value, int present, int64_t null_branch, int64_t row_branch,
                   const sb_buf_t *row) {
        if (!present)
                return sb_avro_text_put_long(value, null_branch) ? -1 : 0;
        return sb_avro_text_put_long(value, row_branch) || sb_buf_append(value, row->data, row->len) ? -1 : 0;
}

enum { M_OP, M_KEY, M_BEFORE, M_AFTER, M_TS, M_SEQ, M_COUNT };
static const char *const members[M_COUNT] = {"op", "key", "before", "after", "ts_ms", "seq"};
static const size_t member_lens[M_COUNT] = {2, 3, 6, 5, 5, 3};

/* The fast path: 0 with key, value, event_id and *op set, or -1 to let the
 * reference path decide. */
static int encode_fast(sb_event_worker_t *w, const char *text, size_t len, int64_t default_seq, sb_buf_t *key,
                       sb_buf_t *value, char event_id[37], char *op_out) {
        const sb_event_encoder_t *enc = w->enc;
        const char *p = text, *end = text + len;
        int seen[M_COUNT] = {0}, has_before = 0, has_after = 0;
        char op = 0;
        int64_t ts_ms = -1, seq = -1;
        /* Steps as sb_avro counts them for the envelope's own types, and more. */
        size_t key_steps = 0, value_steps = 16;
        sb_buf_reset(key);
        sb_buf_reset(&w->before);
        sb_buf_reset(&w->after);
        if (sb_wire_put_header(key, enc->key_schema_id) || sb_json_scan_ws(&p, end) != '{')
                return -1;
        p++;
        int more = sb_json_scan_ws(&p, end) != '}';
        if (!more)
                p++;
        while (more) {
                const char *name;
                size_t nlen, m;
                if (sb_json_scan_name(&p, end, &name, &nlen))
                        return -1;
                for (m = 0; m < M_COUNT; m++)
                        if (nlen == member_lens[m] && memcmp(members[m], name, nlen) == 0)
                                break;
                if (m == M_COUNT || seen[m])
                        return -1;
                seen[m] = 1;
                int c = sb_json_scan_ws(&p, end);
                switch (m) {
                case M_OP: {
                        const char *s;
                        size_t slen;
                        if (sb_json_scan_plain_string(&p, end, &s, &slen) || slen != 1 ||
                            !strchr("cudr", s[0]) || !s[0])
                                return -1;
                        op = s[0];
                        break;
                }
                case M_KEY:
                        if (sb_avro_text_record(w->text, w->key_root, &p, end, 0, &key_steps, key,
                                                w->key_fields))
                                return -1;
                        break;
                case M_BEFORE:
                case M_AFTER: {
                        int after = m == M_AFTER;
                        if (c == 'n') {
                                if (sb_json_scan_null(&p, end))
                                        return -1;
                                break;
                        }
                        /* Levels as sb_avro counts them: the envelope, the union, the row. */
                        if (sb_avro_text_record(w->text, after ? w->after_row : w->before_row, &p, end, 2,
                                                &value_steps, after ? &w->after : &w->before,
                                                after ? w->after_fields : w->before_fields))
                                return -1;
                        *(after ? &has_after : &has_before) = 1;
                        break;
                }
                default:
                        if (sb_json_scan_integer(&p, end, m == M_TS ? &ts_ms : &seq) ||
                            (m == M_TS ? ts_ms : seq) < 0)
                                return -1;
                        break;
                }
                c = sb_json_scan_ws(&p, end);
                if (c == ',')
                        p++;
                else if (c == '}') {
                        p++;
                        more = 0;
                } else {
                        return -1;
                }
        }
        if (sb_json_scan_ws(&p, end) >= 0 || !op || !seen[M_KEY])
                return -1;
        if (((op == 'c' || op == 'r') && (!has_after || has_before)) || (op == 'u' && !has_after) ||
            (op == 'd' && has_after))
                return -1;
        if ((has_after && !key_matches_text(w, w->after_fields)) ||
            (has_before && !key_matches_text(w, w->before_fields)))
                return -1;
        sb_avro_text_resolve(w->key_fields, w->nkey, key);
        if (w->key_rules && !rules_hold(w->key_rules, w->key_rule_field, w->nkey_rules, w->key_fields, "key"))
                return -1;
        if (has_after) {
                sb_avro_text_resolve(w->after_fields, w->nrow, &w->after);
                if (w->row_rules &&
                    !rules_hold(w->row_rules, w->row_rule_field, w->nrow_rules, w->after_fields, "after"))
                        return -1;
        }
        sb_uuid_gen_next(w->ids, event_id);
        sb_buf_reset(value);
        if (sb_wire_put_header(value, enc->value_schema_id) ||
            put_row(value, has_before, w->before_null, w->before_row_branch, &w->before) ||
            put_row(value, has_after, w->after_null, w->after_row_branch, &w->after) ||
            sb_avro_text_put_long(value, w->op_index[strchr("cudr", op) - "cudr"]) ||
            sb_avro_text_put_long(value, ts_ms >= 0 ? ts_ms : sb_clock_now_ms()) ||
            sb_buf_append(value, w->source.data, w->source.len) ||
            sb_avro_text_put_long(value, seq >= 0 ? seq : default_seq) ||
            sb_avro_text_put_string(value, event_id, 36))
                return -1;
        *op_out = op;
        return 0;
}

sb_err_t sb_event_encode_text(sb_event_worker_t *w, const char *text, size_t len, int64_t default_seq,
                              sb_buf_t *key, sb_buf_t *value, char event_id[37], char *op_out, char *errstr,
                              size_t errstr_size) {
        const sb_event_encoder_t *enc = w->enc;
        if (w->fast && w->key_rules == enc->key_rules && w->row_rules == enc->row_rules &&
            encode_fast(w, text, len, default_seq, key, value, event_id, op_out) == 0) {
                w->fast_lines++;
                return SB_OK;
        }
        w->reference_lines++;
        sb_change_line_t cl;
        sb_err_t err = sb_change_line_parse(text, len, &cl, errstr, errstr_size);
        if (err)
                return err;
        sb_uuid_gen_next(w->ids, event_id);
        err = encode_parsed(enc, w->key_schema, w->value_schema, &cl, default_seq, key, value, event_id,
                            errstr, errstr_size);
        if (!err)
                *op_out = cl.op;
        sb_change_line_clear(&cl);
        return err;
}

void sb_event_worker_counts(const sb_event_worker_t *w, uint64_t *fast, uint64_t *reference) {
        *fast = w->fast_lines;
        *reference = w->reference_lines;
}

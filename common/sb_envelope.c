#include "sb_envelope.h"

#include <stdio.h>
#include <string.h>

#include "sb_avro.h"
#include "sb_json.h"

json_t *sb_envelope_schema(const json_t *row_schema, const char *topic, char *errstr, size_t errstr_size) {
        const char *name = json_string_value(json_object_get(row_schema, "name"));
        const char *ns = json_string_value(json_object_get(row_schema, "namespace"));
        char fullname[512];
        if (!json_is_object(row_schema) || !name ||
            strcmp(json_string_value(json_object_get(row_schema, "type")) ?: "", "record") != 0) {
                sb_seterr(SB_ERR_SCHEMA, errstr, errstr_size, "a row schema must be a named Avro record");
                return NULL;
        }
        if (strchr(name, '.') || !ns || !*ns)
                snprintf(fullname, sizeof(fullname), "%s", name);
        else
                snprintf(fullname, sizeof(fullname), "%s.%s", ns, name);
        json_t *env = json_pack("{s:s, s:s, s:s, s:s, s:["
                                "{s:s, s:[s,O], s:n},"
                                "{s:s, s:[s,s], s:n},"
                                "{s:s, s:{s:s, s:s, s:s, s:[s,s,s,s]}},"
                                "{s:s, s:s},"
                                "{s:s, s:{s:s, s:s, s:s, s:["
                                "{s:s,s:s},{s:s,s:s},{s:s,s:s},{s:s,s:s}]}},"
                                "{s:s, s:s}]}",
                                "type", "record", "name", "Envelope", "namespace", topic, "doc",
                                "sharebus change event (Debezium-shaped)", "fields", "name", "before", "type",
                                "null", row_schema, "default", "name", "after", "type", "null", fullname,
                                "default", "name", "op", "type", "type", "enum", "name", "Op", "namespace",
                                "sharebus", "symbols", "c", "u", "d", "r", "name", "ts_ms", "type", "long",
                                "name", "source", "type", "type", "record", "name", "Source", "namespace",
                                "sharebus", "fields", "name", "department", "type", "string", "name",
                                "system", "type", "string", "name", "dataset", "type", "string", "name",
                                "seq", "type", "long", "name", "event_id", "type", "string");
        if (!env)
                sb_seterr(SB_ERR_NOMEM, errstr, errstr_size, "out of memory");
        return env;
}

json_t *sb_envelope_value(const sb_change_t *c) {
        char op[2] = {c->op, 0};
        return json_pack("{s:O, s:O, s:s, s:I, s:{s:s, s:s, s:s, s:I}, s:s}", "before",
                         c->before ? c->before : json_null(), "after", c->after ? c->after : json_null(),
                         "op", op, "ts_ms", (json_int_t)c->ts_ms, "source", "department", c->department,
                         "system", c->system, "dataset", c->dataset, "seq", (json_int_t)c->seq, "event_id",
                         c->event_id);
}

/* A row of the envelope: an object, or NULL for JSON null (or absent). */
static sb_err_t read_row(const json_t *value, const char *name, const json_t **out, char *errstr,
                         size_t errstr_size) {
        const json_t *row = json_object_get(value, name);
        *out = json_is_object(row) ? row : NULL;
        if (row && !json_is_null(row) && !json_is_object(row))
                return sb_seterr(SB_ERR_INVALID, errstr, errstr_size,
                                 "not a change envelope: '%s' must be an object or null, not %s", name,
                                 sb_json_kind(row));
        return SB_OK;
}

static sb_err_t read_string(const json_t *obj, const char *where, const char *name, const char **out,
                            char *errstr, size_t errstr_size) {
        *out = json_string_value(json_object_get(obj, name));
        if (!*out)
                return sb_seterr(SB_ERR_INVALID, errstr, errstr_size,
                                 "not a change envelope: '%s%s' must be a string", where, name);
        return SB_OK;
}

static sb_err_t read_int(const json_t *obj, const char *where, const char *name, int64_t *out, char *errstr,
                         size_t errstr_size) {
        const json_t *n = json_object_get(obj, name);
        if (!json_is_integer(n))
                return sb_seterr(SB_ERR_INVALID, errstr, errstr_size,
                                 "not a change envelope: '%s%s' must be an integer", where, name);
        *out = json_integer_value(n);
        return SB_OK;
}

sb_err_t sb_envelope_read(const json_t *value, sb_envelope_view_t *out, char *errstr, size_t errstr_size) {
        sb_err_t err;
        memset(out, 0, sizeof(*out));
        if (!json_is_object(value))
                return sb_seterr(SB_ERR_INVALID, errstr, errstr_size,
                                 "not a change envelope: the value is %s, not a record", sb_json_kind(value));
        const char *op = json_string_value(json_object_get(value, "op"));
        if (!op || strlen(op) != 1 || !strchr("cudr", op[0]))
                return sb_seterr(SB_ERR_INVALID, errstr, errstr_size,
                                 "not a change envelope: 'op' must be one of c, u, d, r");
        out->op = op[0];
        if ((err = read_row(value, "before", &out->before, errstr, errstr_size)) ||
            (err = read_row(value, "after", &out->after, errstr, errstr_size)))
                return err;
        if (out->op != 'd' && !out->after)
                return sb_seterr(SB_ERR_INVALID, errstr, errstr_size, "op '%c' without after", out->op);
        const json_t *source = json_object_get(value, "source");
        if (!json_is_object(source))
                return sb_seterr(SB_ERR_INVALID, errstr, errstr_size,
                                 "not a change envelope: 'source' must be a record");
        if ((err = read_int(value, "", "ts_ms", &out->ts_ms, errstr, errstr_size)) ||
            (err = read_string(source, "source.", "department", &out->department, errstr, errstr_size)) ||
            (err = read_string(source, "source.", "system", &out->system, errstr, errstr_size)) ||
            (err = read_string(source, "source.", "dataset", &out->dataset, errstr, errstr_size)) ||
            (err = read_int(source, "source.", "seq", &out->seq, errstr, errstr_size)) ||
            (err = read_string(value, "", "event_id", &out->event_id, errstr, errstr_size)))
                return err;
        return SB_OK;
}

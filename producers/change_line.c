#include "change_line.h"

#include <string.h>

static const char *const allowed_keys[] = {"op", "key", "before", "after", "ts_ms", "seq"};

static int key_matches(const json_t *key, const json_t *row, const char **field) {
        const char *k;
        json_t *v;
        json_object_foreach((json_t *)key, k, v) {
                json_t *rv = json_object_get(row, k);
                if (rv && !json_equal(rv, v)) {
                        *field = k;
                        return 0;
                }
        }
        return 1;
}

sb_err_t sb_change_line_parse(const char *line, size_t len, sb_change_line_t *out, char *errstr,
                              size_t errstr_size) {
        json_error_t jerr;
        const char *k, *field = NULL;
        json_t *v;
        memset(out, 0, sizeof(*out));
        out->doc = json_loadb(line, len, JSON_REJECT_DUPLICATES | JSON_DECODE_ANY, &jerr);
        if (!out->doc)
                return sb_seterr(SB_ERR_INVALID, errstr, errstr_size, "not valid JSON at column %d: %s",
                                 jerr.column, jerr.text);
        if (!json_is_object(out->doc)) {
                sb_change_line_clear(out);
                return sb_seterr(SB_ERR_INVALID, errstr, errstr_size, "a change must be a JSON object");
        }
        json_object_foreach(out->doc, k, v) {
                size_t i;
                for (i = 0; i < sizeof(allowed_keys) / sizeof(*allowed_keys); i++)
                        if (strcmp(k, allowed_keys[i]) == 0)
                                break;
                if (i == sizeof(allowed_keys) / sizeof(*allowed_keys) &&
                    strcmp(k, "rejected_by_source") == 0 && json_is_string(v)) {
                        /* A row an outbox source hands over only to have it kept as a
                         * reject (source_sqlite.h, pg_sql.h): its reason, not "unknown". */
                        sb_seterr(SB_ERR_INVALID, errstr, errstr_size,
                                  "refused by its source (rejected_by_source): %s", json_string_value(v));
                        goto fail;
                }
                if (i == sizeof(allowed_keys) / sizeof(*allowed_keys)) {
                        sb_seterr(SB_ERR_INVALID, errstr, errstr_size,
                                  "unknown member '%s' (a change has op, key, before, after, ts_ms, seq)", k);
                        goto fail;
                }
        }
        const char *op = json_string_value(json_object_get(out->doc, "op"));
        if (!op || strlen(op) != 1 || !strchr("cudr", op[0])) {
                sb_seterr(SB_ERR_INVALID, errstr, errstr_size,
                          "\"op\" must be \"c\" (create), \"u\" (update), \"d\" (delete) or \"r\" (snapshot "
                          "read)");
                goto fail;
        }
        out->op = op[0];
        out->key = json_object_get(out->doc, "key");
        if (!json_is_object(out->key)) {
                sb_seterr(SB_ERR_INVALID, errstr, errstr_size,
                          "\"key\" must be an object with the primary key fields");
                goto fail;
        }
        out->before = json_object_get(out->doc, "before");
        out->after = json_object_get(out->doc, "after");
        if (json_is_null(out->before))
                out->before = NULL;
        if (json_is_null(out->after))
                out->after = NULL;
        if ((out->before && !json_is_object(out->before)) || (out->after && !json_is_object(out->after))) {
                sb_seterr(SB_ERR_INVALID, errstr, errstr_size,
                          "\"before\" and \"after\" must be objects or null");
                goto fail;
        }
        switch (out->op) {
        case 'c':
        case 'r':
                if (!out->after || out->before) {
                        sb_seterr(SB_ERR_INVALID, errstr, errstr_size,
                                  "op \"%c\" needs \"after\" and no \"before\"", out->op);
                        goto fail;
                }
                break;
        case 'u':
                if (!out->after) {
                        sb_seterr(SB_ERR_INVALID, errstr, errstr_size, "op \"u\" needs \"after\"");
                        goto fail;
                }
                break;
        case 'd':
                if (out->after) {
                        sb_seterr(SB_ERR_INVALID, errstr, errstr_size, "op \"d\" must not have \"after\"");
                        goto fail;
                }
                break;
        }
        if ((out->after && !key_matches(out->key, out->after, &field)) ||
            (out->before && !key_matches(out->key, out->before, &field))) {
                sb_seterr(SB_ERR_INVALID, errstr, errstr_size,
                          "key.%s differs from the same field of the row", field);
                goto fail;
        }
        out->ts_ms = out->seq = -1;
        for (int i = 0; i < 2; i++) {
                const char *name = i ? "seq" : "ts_ms";
                json_t *n = json_object_get(out->doc, name);
                if (!n)
                        continue;
                if (!json_is_integer(n) || json_integer_value(n) < 0) {
                        sb_seterr(SB_ERR_INVALID, errstr, errstr_size,
                                  "\"%s\" must be a non-negative integer", name);
                        goto fail;
                }
                *(i ? &out->seq : &out->ts_ms) = json_integer_value(n);
        }
        return SB_OK;
fail:
        sb_change_line_clear(out);
        return SB_ERR_INVALID;
}

void sb_change_line_clear(sb_change_line_t *cl) {
        json_decref(cl->doc);
        memset(cl, 0, sizeof(*cl));
}

int sb_change_line_is_blank(const char *line, size_t len) {
        for (size_t i = 0; i < len; i++)
                if (!strchr(" \t\r\n", line[i]) || line[i] == 0)
                        return 0;
        return 1;
}

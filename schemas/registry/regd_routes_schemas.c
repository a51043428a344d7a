/*
 * regd_routes_schemas: the /schemas routes: a schema by its global id
 * (as JSON, or only its text), the subjects and versions that use an id,
 * and the schema types this registry accepts.  All reads.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "regd_http_int.h"

/* Parses an id in [1, 2^31-1] without signs or spaces: 0, or -1. */
static int parse_id(const char *s, int32_t *out) {
        char *end;
        if (!(*s >= '0' && *s <= '9'))
                return -1;
        errno = 0;
        long long v = strtoll(s, &end, 10);
        if (errno || *end || v < 1 || v > INT32_MAX)
                return -1;
        *out = (int32_t)v;
        return 0;
}

/* The text of the schema the path names (schemas/ids/{id}...); NULL with
 * *err the answer. */
static char *schema_text(const call_t *c, reply_t *err) {
        char errstr[512], *text = NULL;
        int32_t id;
        sb_err_t e = parse_id(c->seg[2], &id)
                             ? SB_ERR_NOT_FOUND
                             : regd_store_by_id(c->srv->store, id, &text, errstr, sizeof(errstr));
        if (e == SB_ERR_NOT_FOUND)
                *err = rh_error(REGD_ERROR_SCHEMA_ID_NOT_FOUND, c->seg[2]);
        else if (e)
                *err = rh_store_error(errstr);
        return text;
}

reply_t rh_schema_by_id(const call_t *c) {
        reply_t r;
        char *text = schema_text(c, &r);
        if (!text)
                return r;
        r = rh_json(200, json_pack("{s:s}", "schema", text));
        free(text);
        return r;
}

reply_t rh_schema_raw_by_id(const call_t *c) {
        reply_t r;
        char *text = schema_text(c, &r);
        if (!text)
                return r;
        r = rh_raw(text);
        free(text);
        return r;
}

/* The (subject, version) pairs using the id of the path; -1 with *err. */
static int uses_of(const call_t *c, regd_use_t **uses, size_t *n, reply_t *err) {
        char errstr[512];
        int32_t id;
        sb_err_t e = parse_id(c->seg[2], &id)
                             ? SB_ERR_NOT_FOUND
                             : regd_store_id_uses(c->srv->store, id, rh_query_bool(c, "deleted"), uses, n,
                                                  errstr, sizeof(errstr));
        if (e == SB_ERR_NOT_FOUND)
                *err = rh_error(REGD_ERROR_SCHEMA_NOT_FOUND);
        else if (e)
                *err = rh_store_error(errstr);
        return e ? -1 : 0;
}

reply_t rh_schema_subjects(const call_t *c) {
        regd_use_t *uses;
        size_t n;
        reply_t r;
        if (uses_of(c, &uses, &n, &r))
                return r;
        json_t *arr = json_array();
        for (size_t i = 0; arr && i < n; i++) {
                if (i && strcmp(uses[i].subject, uses[i - 1].subject) == 0)
                        continue; /* ordered by subject: each once */
                if (json_array_append_new(arr, json_string(uses[i].subject))) {
                        json_decref(arr);
                        arr = NULL;
                }
        }
        regd_uses_free(uses, n);
        return rh_json(200, arr);
}

reply_t rh_schema_versions(const call_t *c) {
        regd_use_t *uses;
        size_t n;
        reply_t r;
        if (uses_of(c, &uses, &n, &r))
                return r;
        json_t *arr = json_array();
        for (size_t i = 0; arr && i < n; i++)
                if (json_array_append_new(arr, json_pack("{s:s,s:i}", "subject", uses[i].subject, "version",
                                                         (int)uses[i].version))) {
                        json_decref(arr);
                        arr = NULL;
                }
        regd_uses_free(uses, n);
        return rh_json(200, arr);
}

reply_t rh_schema_types(const call_t *c) {
        (void)c;
        return rh_json(200, json_pack("[s]", "AVRO"));
}

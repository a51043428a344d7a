/*
 * regd_routes_subjects: the /subjects routes: listing subjects and
 * versions, registering, looking a schema up under a subject, reading a
 * version (or only its schema text, or who references it), deleting
 * subjects and versions (soft, then ?permanent=true), and a version's
 * dataset metadata.  Reads go to the store; changes are commands handed to
 * rh_submit() (the store's apply does the checking that must be the same on
 * every instance; the checks here only spare the log requests that cannot
 * succeed).
 */
#include <stdlib.h>
#include <string.h>

#include "regd_defaults.h"
#include "regd_http_int.h"
#include "regd_metadata.h"

static json_t *int_array(const int32_t *v, size_t n) {
        json_t *arr = json_array();
        for (size_t i = 0; arr && i < n; i++)
                if (json_array_append_new(arr, json_integer(v[i]))) {
                        json_decref(arr);
                        return NULL;
                }
        return arr;
}

static json_t *version_json(const char *subject, const regd_version_t *v) {
        return json_pack("{s:s,s:i,s:i,s:s}", "subject", subject, "version", (int)v->version, "id",
                         (int)v->id, "schema", v->text);
}

reply_t rh_subjects_list(const call_t *c) {
        char buf[1024], err[512], **names;
        size_t n;
        const char *prefix = rh_query(c, "subjectPrefix", buf, sizeof(buf));
        if (prefix && strcmp(prefix, ":*:") == 0) /* Confluent's "every context" */
                prefix = NULL;
        if (regd_store_subjects(c->srv->store, rh_query_bool(c, "deleted"), prefix, &names, &n, err,
                                sizeof(err)))
                return rh_store_error(err);
        json_t *arr = json_array();
        for (size_t i = 0; arr && i < n; i++)
                if (json_array_append_new(arr, json_string(names[i]))) {
                        json_decref(arr);
                        arr = NULL;
                }
        regd_strings_free(names, n);
        return rh_json(200, arr);
}

reply_t rh_versions_list(const call_t *c) {
        const char *subject = c->seg[1];
        int32_t *versions;
        size_t n;
        char err[512];
        sb_err_t e = regd_store_versions(c->srv->store, subject, rh_query_bool(c, "deleted"), &versions, &n,
                                         err, sizeof(err));
        if (e == SB_ERR_NOT_FOUND)
                return rh_subject_not_found(subject);
        if (e)
                return rh_store_error(err);
        reply_t r = rh_json(200, int_array(versions, n));
        free(versions);
        return r;
}

/* Whether the registration `doc` needs no command: its schema is invalid
 * (over this instance's limits, a default that does not fit its type), or the subject already holds it
 * (then the answer is its id, from the store: every producer start
 * registers its schemas, and the log must not grow by one command each
 * time).  *r is the answer when it returns 1.  As the store's REGISTER
 * does, an "id" or "version" asked for must be the held one's. */
static int registered(const call_t *c, const json_t *doc, reply_t *r) {
        const json_t *jschema = json_object_get(doc, "schema"), *id = json_object_get(doc, "id"),
                     *version = json_object_get(doc, "version");
        const char *text = json_string_value(jschema);
        size_t len = json_string_length(jschema);
        sb_schema_t *schema;
        regd_version_t v;
        char err[512];
        int found;

        if (rh_schema_limits(c, text, len, r))
                return 1;
        sb_err_t e = regd_store_parse(c->srv->store, text, len, &schema, err, sizeof(err));
        if (e == SB_OK) {
                e = regd_defaults_check(schema, err, sizeof(err));
                sb_schema_destroy(schema);
        }
        if (e == SB_ERR_SCHEMA) {
                *r = rh_error(REGD_ERROR_INVALID_SCHEMA, err);
                return 1;
        }
        if (e)
                return 0; /* out of memory: let the command say so */
        if (regd_store_lookup(c->srv->store, c->seg[1], text, len, 0, &v, &found, err, sizeof(err)))
                return 0;
        free(v.text);
        if ((json_integer_value(id) > 0 && json_integer_value(id) != v.id) ||
            (json_integer_value(version) > 0 && json_integer_value(version) != v.version))
                return 0;
        *r = rh_json(200, json_pack("{s:i}", "id", (int)v.id));
        return 1;
}

reply_t rh_register(const call_t *c) {
        const char *subject = c->seg[1];
        json_t *doc;
        reply_t r;

        if (rh_schema_body(c, &doc, &r))
                return r;
        json_t *id = json_object_get(doc, "id"), *version = json_object_get(doc, "version");
        if (!*subject) {
                r = rh_error(REGD_ERROR_INVALID_SUBJECT, subject);
        } else if (id && !json_is_null(id) && !json_is_integer(id)) {
                r = rh_error(REGD_ERROR_INVALID_SCHEMA, "\"id\" must be an integer");
        } else if (version && !json_is_null(version) && !json_is_integer(version)) {
                r = rh_error(REGD_ERROR_INVALID_VERSION_MEMBER);
        } else if (!registered(c, doc, &r)) {
                json_t *cmd =
                        json_pack("{s:s,s:s,s:O,s:b}", "type", "REGISTER", "subject", subject, "schema",
                                  json_object_get(doc, "schema"), "normalize", rh_query_bool(c, "normalize"));
                if (cmd && ((json_is_integer(id) && json_object_set(cmd, "id", id)) ||
                            (json_is_integer(version) && json_object_set(cmd, "version", version)))) {
                        json_decref(cmd);
                        cmd = NULL;
                }
                r = rh_submit(c, cmd);
        }
        json_decref(doc);
        return r;
}

/* The lookup cache's key for this request (caller frees), and its hash. */
static char *lookup_key(const call_t *c, int deleted, size_t *len, uint64_t *hash) {
        const char *subject = c->seg[1];
        size_t slen = strlen(subject), blen = c->body->len;
        *len = slen + 3 + blen;
        char *key = malloc(*len);
        *hash = 0;
        if (!key)
                return NULL;
        memcpy(key, subject, slen + 1);
        key[slen + 1] = deleted ? '1' : '0';
        key[slen + 2] = 0;
        if (blen)
                memcpy(key + slen + 3, c->body->data, blen);
        uint64_t h = 1469598103934665603ULL; /* FNV-1a */
        for (size_t i = 0; i < *len; i++) {
                h ^= (unsigned char)key[i];
                h *= 1099511628211ULL;
        }
        *hash = h;
        return key;
}

reply_t rh_subject_lookup(const call_t *c) {
        const char *subject = c->seg[1];
        regd_version_t v;
        json_t *doc;
        char err[512];
        int found, deleted = rh_query_bool(c, "deleted");
        reply_t r;

        /* Read the generation first: an answer computed after it is right
         * for it (or older), never newer. */
        uint64_t generation = regd_store_generation(c->srv->store), hash = 0;
        size_t key_len;
        char *key = lookup_key(c, deleted, &key_len, &hash);
        lookup_entry_t *slot = &c->srv->lookups[hash % SB_LOOKUP_CACHE_SIZE];
        if (key) {
                char *hit = NULL;
                pthread_mutex_lock(&c->srv->cache_lock);
                if (slot->key && slot->hash == hash && slot->generation == generation &&
                    slot->key_len == key_len && memcmp(slot->key, key, key_len) == 0)
                        hit = strdup(slot->reply);
                pthread_mutex_unlock(&c->srv->cache_lock);
                if (hit) {
                        free(key);
                        return (reply_t){200, NULL, hit};
                }
        }
        if (rh_schema_body(c, &doc, &r)) {
                free(key);
                return r;
        }
        json_t *schema = json_object_get(doc, "schema");
        sb_err_t e = regd_store_lookup(c->srv->store, subject, json_string_value(schema),
                                       json_string_length(schema), deleted, &v, &found, err, sizeof(err));
        json_decref(doc);
        if (e) {
                free(key);
                if (e == SB_ERR_SCHEMA)
                        return rh_error(REGD_ERROR_INVALID_SCHEMA, err);
                if (e == SB_ERR_NOT_FOUND && !found)
                        return rh_subject_not_found(subject);
                if (e == SB_ERR_NOT_FOUND)
                        return rh_error(REGD_ERROR_SCHEMA_NOT_FOUND);
                return rh_store_error(err);
        }
        json_t *answer = version_json(subject, &v);
        free(v.text);
        char *text = answer ? json_dumps(answer, JSON_COMPACT | JSON_ENCODE_ANY) : NULL;
        json_decref(answer);
        char *copy = text && key ? strdup(text) : NULL;
        if (copy) {
                pthread_mutex_lock(&c->srv->cache_lock);
                free(slot->key);
                free(slot->reply);
                *slot = (lookup_entry_t){hash, generation, key, key_len, copy};
                key = NULL;
                pthread_mutex_unlock(&c->srv->cache_lock);
        }
        free(key);
        return text ? (reply_t){200, NULL, text} : rh_json(500, NULL);
}

reply_t rh_subject_delete(const call_t *c) {
        return rh_submit(c, json_pack("{s:s,s:s,s:b}", "type", "DELETE_SUBJECT", "subject", c->seg[1],
                                      "permanent", rh_query_bool(c, "permanent")));
}

/* Finds the version the path names (subjects/{s}/versions/{v}...); 0, or
 * -1 with *err the answer. */
static int find_version(const call_t *c, int deleted, regd_version_t *v, reply_t *err) {
        const char *subject = c->seg[1];
        int32_t want;
        int found;
        char errstr[512];
        if (rh_parse_version(c->seg[3], &want)) {
                *err = rh_invalid_version(c->seg[3]);
                return -1;
        }
        sb_err_t e = regd_store_get_version(c->srv->store, subject, want, deleted, v, &found, errstr,
                                            sizeof(errstr));
        if (e == SB_ERR_NOT_FOUND && !found)
                *err = rh_subject_not_found(subject);
        else if (e == SB_ERR_NOT_FOUND)
                *err = rh_error(REGD_ERROR_VERSION_NOT_FOUND, (int)want);
        else if (e)
                *err = rh_store_error(errstr);
        return e ? -1 : 0;
}

reply_t rh_version_get(const call_t *c) {
        regd_version_t v;
        reply_t r;
        if (find_version(c, rh_query_bool(c, "deleted"), &v, &r))
                return r;
        r = rh_json(200, version_json(c->seg[1], &v));
        free(v.text);
        return r;
}

reply_t rh_version_schema(const call_t *c) {
        regd_version_t v;
        reply_t r;
        if (find_version(c, rh_query_bool(c, "deleted"), &v, &r))
                return r;
        r = rh_raw(v.text);
        free(v.text);
        return r;
}

reply_t rh_version_referencedby(const call_t *c) {
        regd_version_t v;
        reply_t r;
        if (find_version(c, 1, &v, &r)) /* as Confluent, soft-deleted versions count */
                return r;
        free(v.text);
        return rh_json(200, json_array()); /* no schema references here */
}

reply_t rh_version_delete(const call_t *c) {
        int32_t want;
        if (rh_parse_version(c->seg[3], &want))
                return rh_invalid_version(c->seg[3]);
        return rh_submit(c, json_pack("{s:s,s:s,s:i,s:b}", "type", "DELETE_VERSION", "subject", c->seg[1],
                                      "version", (int)want, "permanent", rh_query_bool(c, "permanent")));
}

reply_t rh_metadata(const call_t *c) {
        const char *subject = c->seg[1];
        char buf[32], err[512];
        const char *vtext = rh_query(c, "version", buf, sizeof(buf));
        int32_t want = REGD_LATEST;
        regd_version_t v;
        sb_schema_t *schema;
        int found;

        if (vtext && rh_parse_version(vtext, &want))
                return rh_invalid_version(vtext);
        sb_err_t e = regd_store_get_version(c->srv->store, subject, want, 0, &v, &found, err, sizeof(err));
        if (e == SB_ERR_NOT_FOUND && !found)
                return rh_subject_not_found(subject);
        if (e == SB_ERR_NOT_FOUND)
                return rh_error(REGD_ERROR_VERSION_NOT_FOUND, (int)want);
        if (e)
                return rh_store_error(err);
        e = regd_store_parse(c->srv->store, v.text, strlen(v.text), &schema, err, sizeof(err));
        free(v.text);
        if (e)
                return rh_store_error(err);
        reply_t r = rh_json(200, regd_metadata_json(schema, subject, v.version));
        sb_schema_destroy(schema);
        return r;
}

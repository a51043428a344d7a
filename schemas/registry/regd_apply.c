/*
 * regd_apply: regd_store_apply(), the commands that change the
 * registry's state (regd_store.h lists them), and the direct submitter
 * of memory mode.
 *
 * Every instance applies the same commands in the same order, so nothing
 * here may depend on anything but the store and the command: no clock, no
 * randomness, no iteration over unordered things.  The order of checks, and
 * the error codes and messages, are Confluent's (KafkaSchemaRegistry,
 * Errors.java); "context ." is Confluent's name of the default context.
 *
 * Each command first checks and reserves everything it needs, then changes
 * the state in steps that cannot fail, so that running out of memory leaves
 * the store as it was.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "regd_error.h"
#include "regd_store_int.h"
#include "sb_buf.h"

/* Cap on the message of a 40901 refusal (all of compat's messages). */
#define MAX_REFUSAL 8192

/* {members of body..., "http":200}; steals body. */
static json_t *ok_object(json_t *body) {
        if (body && json_object_set_new(body, "http", json_integer(200))) {
                json_decref(body);
                return NULL;
        }
        return body;
}

/* {"body":value,"http":200}, for a body that is not an object; steals value. */
static json_t *ok_value(json_t *value) {
        return value ? json_pack("{s:o,s:i}", "body", value, "http", 200) : NULL;
}

/* A name Confluent accepts: a string without control characters (Java's
 * isISOControl: U+0000..U+001F, U+007F..U+009F); we also refuse "". */
static const char *subject_name(const json_t *v) {
        if (!json_is_string(v) || json_string_length(v) == 0)
                return NULL;
        const unsigned char *s = (const unsigned char *)json_string_value(v);
        if (strlen((const char *)s) != json_string_length(v))
                return NULL;
        for (size_t i = 0; s[i]; i++)
                if (s[i] < 0x20 || s[i] == 0x7F || (s[i] == 0xC2 && s[i + 1] >= 0x80 && s[i + 1] <= 0x9F))
                        return NULL;
        return (const char *)s;
}

static json_t *invalid_subject(const json_t *v) {
        const char *s = json_is_string(v) ? json_string_value(v) : "";
        return regd_error_result(REGD_ERROR_INVALID_SUBJECT, s);
}

static json_t *subject_not_found(const char *subject) {
        return regd_error_result(REGD_ERROR_SUBJECT_NOT_FOUND, subject);
}

/* The 40901 refusal: Confluent's message, with every problem compat found
 * ("[m1, m2, ...]"), cut at MAX_REFUSAL bytes. */
static json_t *refusal(const char *subject, const json_t *messages) {
        sb_buf_t b;
        size_t i;
        json_t *m, *e = NULL;
        sb_buf_init(&b, MAX_REFUSAL * 2);
        int bad = sb_buf_append(&b, "[", 1) != SB_OK;
        json_array_foreach(messages, i, m) {
                if (!bad && b.len < MAX_REFUSAL)
                        bad = sb_buf_printf(&b, "%s%s", i ? ", " : "", json_string_value(m)) != SB_OK;
        }
        if (!bad && sb_buf_append(&b, "]", 1) == SB_OK) {
                char *text = (char *)b.data;
                if (b.len > MAX_REFUSAL) {
                        text[MAX_REFUSAL - 4] = '\0';
                        memcpy(text + regd_utf8_prefix(text), "...]", 5); /* on a character boundary */
                }
                e = regd_error_result(REGD_ERROR_INCOMPATIBLE, subject, text);
        }
        sb_buf_free(&b);
        return e;
}

/* Adds version `version` with schema `id` to s (room reserved), replacing
 * a version of that number (IMPORT may overwrite). */
static void put_version(regd_store_t *st, subject_t *s, int32_t version, int32_t id) {
        version_t *v = regd_subject_version(s, version);
        if (v) {
                regd_schema(st, v->id)->uses--;
        } else {
                size_t at = 0;
                while (at < s->n && s->v[at].version < version)
                        at++;
                memmove(&s->v[at + 1], &s->v[at], (s->n - at) * sizeof(*s->v));
                s->n++;
                v = &s->v[at];
                v->version = version;
        }
        v->id = id;
        v->deleted = 0;
        regd_schema(st, id)->uses++;
}

/* Removes for good the versions of s for which drop() says so. */
static void drop_versions(regd_store_t *st, subject_t *s, int (*drop)(const version_t *, const void *),
                          const void *arg) {
        size_t k = 0;
        for (size_t i = 0; i < s->n; i++) {
                if (drop(&s->v[i], arg))
                        regd_schema(st, s->v[i].id)->uses--;
                else
                        s->v[k++] = s->v[i];
        }
        s->n = k;
}

static int is_deleted(const version_t *v, const void *arg) {
        (void)arg;
        return v->deleted;
}

typedef struct {
        int32_t id, below;
} same_id_t;

static int is_deleted_same_id(const version_t *v, const void *arg) {
        const same_id_t *a = arg;
        return v->deleted && v->id == a->id && v->version < a->below;
}

/* The newest non-deleted version of s whose schema is `canon`, or NULL. */
static const version_t *holding(regd_store_t *st, subject_t *s, const char *canon, uint64_t hash) {
        for (size_t i = s ? s->n : 0; i > 0; i--) {
                const version_t *v = &s->v[i - 1];
                const schema_t *sc = regd_schema(st, v->id);
                if (!v->deleted && sc->hash == hash && strcmp(sc->text, canon) == 0)
                        return v;
        }
        return NULL;
}

/* Reads an optional integer member: -1 when absent, null or negative (as
 * Confluent's "not given"); -2 when not an integer. */
static json_int_t opt_int(const json_t *cmd, const char *name) {
        const json_t *v = json_object_get(cmd, name);
        if (!v || json_is_null(v))
                return -1;
        if (!json_is_integer(v))
                return -2;
        return json_integer_value(v) < 0 ? -1 : json_integer_value(v);
}

static json_t *do_register(regd_store_t *st, const json_t *cmd) {
        const json_t *jsubject = json_object_get(cmd, "subject"), *jschema = json_object_get(cmd, "schema");
        const char *name = subject_name(jsubject);
        json_int_t id = opt_int(cmd, "id"), version = opt_int(cmd, "version");
        sb_schema_t *parsed = NULL;
        char *canon = NULL, errstr[512];
        json_t *r = NULL, *messages = NULL;

        if (!name)
                return invalid_subject(jsubject);
        if (!json_is_string(jschema) || json_string_length(jschema) == 0)
                return regd_error_result(REGD_ERROR_INVALID_SCHEMA, "the request has no \"schema\" string");
        if (id == -2 || id == 0 || id > INT32_MAX)
                return regd_error_result(REGD_ERROR_INVALID_SCHEMA, "\"id\" must be between 1 and 2^31-1");
        if (version == -2 || version > INT32_MAX)
                return regd_error_result(REGD_ERROR_INVALID_VERSION_MEMBER);
        if (version == 0)
                version = -1;
        sb_err_t err = regd_canonicalise(st, json_string_value(jschema), json_string_length(jschema), &canon,
                                         &parsed, errstr, sizeof(errstr));
        if (err == SB_ERR_SCHEMA)
                return regd_error_result(REGD_ERROR_INVALID_SCHEMA, errstr);
        if (err)
                return NULL;
        uint64_t hash = regd_hash(canon);

        pthread_mutex_lock(&st->lock);
        subject_t *s = regd_subject(st, name);
        regd_mode_t mode = regd_mode_of(st, s);
        /* As Confluent, a schema the subject holds is answered before the
         * mode is looked at. */
        const version_t *have = holding(st, s, canon, hash);
        if (have && (version < 0 || have->version == version) && (id < 0 || have->id == id)) {
                r = ok_object(json_pack("{s:i}", "id", (int)have->id));
                goto out;
        }
        if (mode == REGD_READONLY) {
                r = regd_error_result(REGD_ERROR_READONLY, name);
                goto out;
        }
        if (id > 0 && mode != REGD_IMPORT) {
                r = regd_error_result(REGD_ERROR_NOT_IMPORT, name);
                goto out;
        }
        if (id < 0 && mode != REGD_READWRITE) {
                r = regd_error_result(REGD_ERROR_NOT_READWRITE, name);
                goto out;
        }
        int64_t next_version = (s && s->n ? (int64_t)s->v[s->n - 1].version : 0) + 1;
        if (mode != REGD_IMPORT) {
                regd_compat_level_t level = regd_level_of(st, s);
                int ok = (messages = json_array()) ? regd_compat(st, s, NULL, level, parsed, messages) : -1;
                if (ok < 0)
                        goto out; /* out of memory */
                if (!ok) {
                        r = refusal(name, messages);
                        goto out;
                }
                if (version > 0 && version != next_version) {
                        r = regd_error_result(REGD_ERROR_VERSION_NOT_NEXT);
                        goto out;
                }
        }
        if (version < 0 && next_version > INT32_MAX) {
                r = regd_error_result(REGD_ERROR_NO_VERSIONS_LEFT, name);
                goto out;
        }
        int32_t new_version = version > 0 ? (int32_t)version : (int32_t)next_version;

        /* The id: the one asked for (IMPORT), the schema's, or a new one. */
        int32_t sid = (int32_t)id;
        int add_schema = 0;
        if (id > 0) {
                const schema_t *sc = regd_schema(st, sid);
                if (sc && strcmp(sc->text, canon) != 0) {
                        r = regd_error_result(REGD_ERROR_ID_OVERWRITE, (int)sid);
                        goto out;
                }
                add_schema = !sc;
        } else if (!(sid = regd_find_text(st, canon, hash))) {
                if (st->next_id > INT32_MAX) {
                        r = regd_error_result(REGD_ERROR_STORE, "schema ids exhausted");
                        goto out;
                }
                sid = (int32_t)st->next_id;
                add_schema = 1;
        }

        /* Reserve, then change nothing that can fail. */
        if (!(s = regd_subject_add(st, name)))
                goto out;
        if (regd_reserve((void **)&s->v, &s->cap, s->n + 1, sizeof(*s->v)) ||
            (add_schema && regd_schema_add(st, sid, canon, hash))) {
                regd_subject_gc(st, s);
                goto out;
        }
        if (add_schema) {
                canon = NULL; /* taken by the store */
                /* The next version of this subject is checked against it. */
                regd_parsed_put(st, sid, parsed);
                parsed = NULL;
        }
        same_id_t older = {sid, new_version};
        drop_versions(st, s, is_deleted_same_id, &older); /* as Confluent: the soft-deleted copies go */
        put_version(st, s, new_version, sid);
        r = ok_object(json_pack("{s:i}", "id", (int)sid));
out:
        pthread_mutex_unlock(&st->lock);
        json_decref(messages);
        sb_schema_destroy(parsed);
        free(canon);
        return r;
}

static json_t *do_delete_subject(regd_store_t *st, const json_t *cmd) {
        const json_t *jsubject = json_object_get(cmd, "subject");
        const char *name = subject_name(jsubject);
        int permanent = json_is_true(json_object_get(cmd, "permanent"));
        json_t *r = NULL, *list;

        if (!name)
                return invalid_subject(jsubject);
        pthread_mutex_lock(&st->lock);
        subject_t *s = regd_subject(st, name);
        if (!regd_subject_count(s, 1)) {
                r = subject_not_found(name);
        } else if (!permanent && !regd_subject_count(s, 0)) {
                r = regd_error_result(REGD_ERROR_SUBJECT_SOFT_DELETED, name);
        } else if (regd_mode_of(st, s) == REGD_READONLY) {
                r = regd_error_result(REGD_ERROR_READONLY, name);
        } else if (permanent && regd_subject_count(s, 0)) {
                r = regd_error_result(REGD_ERROR_SUBJECT_NOT_SOFT_DELETED, name);
        } else if ((list = json_array())) {
                int bad = 0;
                for (size_t i = 0; i < s->n; i++)
                        if (permanent || !s->v[i].deleted)
                                bad |= json_array_append_new(list, json_integer(s->v[i].version));
                if (bad) {
                        json_decref(list);
                } else if (!permanent) {
                        for (size_t i = 0; i < s->n; i++)
                                s->v[i].deleted = 1;
                } else {
                        drop_versions(st, s, is_deleted, NULL); /* all of them are */
                        s->has_level = s->has_mode = 0;         /* as Confluent */
                        regd_subject_gc(st, s);
                }
                r = bad ? NULL : ok_value(list);
        }
        pthread_mutex_unlock(&st->lock);
        return r;
}

static int is_this(const version_t *v, const void *arg) { return v == arg; }

static json_t *do_delete_version(regd_store_t *st, const json_t *cmd) {
        const json_t *jsubject = json_object_get(cmd, "subject"), *jversion = json_object_get(cmd, "version");
        const char *name = subject_name(jsubject);
        int permanent = json_is_true(json_object_get(cmd, "permanent"));
        json_t *r;

        if (!name)
                return invalid_subject(jsubject);
        json_int_t want = json_integer_value(jversion);
        if (!json_is_integer(jversion) || !(want == -1 || (want >= 1 && want <= INT32_MAX)))
                return regd_error_result(REGD_ERROR_INVALID_VERSION_MEMBER);
        pthread_mutex_lock(&st->lock);
        subject_t *s = regd_subject(st, name);
        version_t *v = want == -1 ? regd_subject_latest(s) : regd_subject_version(s, (int32_t)want);
        if (v && v->deleted && !permanent) {
                r = regd_error_result(REGD_ERROR_VERSION_SOFT_DELETED, name, (int)v->version);
        } else if (!v) {
                r = regd_subject_count(s, 1) ? regd_error_result(REGD_ERROR_VERSION_NOT_FOUND, (int)want)
                                             : subject_not_found(name);
        } else if (regd_mode_of(st, s) == REGD_READONLY) {
                r = regd_error_result(REGD_ERROR_READONLY, name);
        } else if (permanent && !v->deleted) {
                r = regd_error_result(REGD_ERROR_VERSION_NOT_SOFT_DELETED, name, (int)v->version);
        } else if ((r = ok_value(json_integer(v->version)))) {
                if (!permanent) {
                        v->deleted = 1;
                } else {
                        drop_versions(st, s, is_this, v);
                        if (!s->n)
                                s->has_level = s->has_mode = 0; /* as Confluent */
                        regd_subject_gc(st, s);
                }
        }
        pthread_mutex_unlock(&st->lock);
        return r;
}

/* The subject of a CONFIG or MODE command: *name NULL for global (null or
 * absent); returns -1 for an invalid one. */
static int setting_subject(const json_t *cmd, const char **name) {
        const json_t *v = json_object_get(cmd, "subject");
        *name = NULL;
        if (!v || json_is_null(v))
                return 0;
        return (*name = subject_name(v)) ? 0 : -1;
}

static json_t *do_config(regd_store_t *st, const json_t *cmd) {
        const json_t *jlevel = json_object_get(cmd, "compatibility");
        const char *name;
        regd_compat_level_t level = REGD_COMPAT_BACKWARD;
        json_t *r = NULL;

        if (setting_subject(cmd, &name))
                return invalid_subject(json_object_get(cmd, "subject"));
        if (!json_is_null(jlevel) && regd_compat_level_parse(json_string_value(jlevel), &level))
                return regd_error_result(REGD_ERROR_INVALID_LEVEL);
        pthread_mutex_lock(&st->lock);
        subject_t *s = name ? regd_subject(st, name) : NULL;
        if (json_is_null(jlevel)) {
                if (name && !(s && s->has_level)) {
                        r = subject_not_found(name);
                } else if ((r = ok_object(json_pack("{s:s}", "compatibilityLevel",
                                                    regd_compat_level_name(regd_level_of(st, s)))))) {
                        if (s) {
                                s->has_level = 0;
                                regd_subject_gc(st, s);
                        } else {
                                st->has_level = 0;
                        }
                }
        } else if ((r = ok_object(json_pack("{s:s}", "compatibility", regd_compat_level_name(level))))) {
                if (name && !(s = regd_subject_add(st, name))) {
                        json_decref(r);
                        r = NULL;
                } else if (s) {
                        s->has_level = 1;
                        s->level = level;
                } else {
                        st->has_level = 1;
                        st->level = level;
                }
        }
        pthread_mutex_unlock(&st->lock);
        return r;
}

static json_t *do_mode(regd_store_t *st, const json_t *cmd) {
        const json_t *jmode = json_object_get(cmd, "mode");
        const char *name;
        int force = json_is_true(json_object_get(cmd, "force"));
        regd_mode_t mode = REGD_READWRITE;
        json_t *r = NULL;

        if (setting_subject(cmd, &name))
                return invalid_subject(json_object_get(cmd, "subject"));
        if (!json_is_null(jmode) && regd_mode_parse(json_string_value(jmode), &mode))
                return regd_error_result(REGD_ERROR_INVALID_MODE);
        pthread_mutex_lock(&st->lock);
        subject_t *s = name ? regd_subject(st, name) : NULL;
        if (json_is_null(jmode)) {
                if (name && !(s && s->has_mode)) {
                        r = subject_not_found(name);
                } else if ((r = ok_object(json_pack("{s:s}", "mode", regd_mode_name(regd_mode_of(st, s)))))) {
                        if (s) {
                                s->has_mode = 0;
                                regd_subject_gc(st, s);
                        } else {
                                st->has_mode = 0;
                        }
                }
                goto out;
        }
        /* Entering IMPORT needs no live versions in its scope; the
         * soft-deleted ones are then removed for good (as Confluent). */
        int entering = mode == REGD_IMPORT && regd_mode_of(st, s) != REGD_IMPORT && !force;
        int live = 0;
        for (size_t i = 0; entering && i < st->n_subjects; i++)
                live |= (!name || st->subjects[i] == s) && regd_subject_count(st->subjects[i], 0) > 0;
        if (live) {
                r = regd_error_result(REGD_ERROR_IMPORT_WITH_SUBJECTS);
                goto out;
        }
        if (!(r = ok_object(json_pack("{s:s}", "mode", regd_mode_name(mode)))))
                goto out;
        if (name && !(s = regd_subject_add(st, name))) {
                json_decref(r);
                r = NULL;
                goto out;
        }
        for (size_t i = 0; entering && i < st->n_subjects; i++)
                if (!name || st->subjects[i] == s)
                        drop_versions(st, st->subjects[i], is_deleted, NULL);
        if (s) {
                s->has_mode = 1;
                s->mode = mode;
        } else {
                st->has_mode = 1;
                st->mode = mode;
        }
        /* Subjects left empty by the removal (other than s) go. */
        for (size_t i = st->n_subjects; entering && !name && i > 0; i--)
                regd_subject_gc(st, st->subjects[i - 1]);
out:
        pthread_mutex_unlock(&st->lock);
        return r;
}

sb_err_t regd_store_apply(regd_store_t *st, const json_t *command, json_t **result) {
        static const struct {
                const char *type;
                json_t *(*run)(regd_store_t *, const json_t *);
        } commands[] = {
                {"REGISTER", do_register},
                {"DELETE_SUBJECT", do_delete_subject},
                {"DELETE_VERSION", do_delete_version},
                {"CONFIG", do_config},
                {"MODE", do_mode},
        };
        const char *type = json_string_value(json_object_get(command, "type"));
        for (size_t i = 0; type && i < sizeof(commands) / sizeof(*commands); i++)
                if (strcmp(type, commands[i].type) == 0) {
                        *result = commands[i].run(st, command);
                        __atomic_add_fetch(&st->generation, 1, __ATOMIC_SEQ_CST);
                        return *result ? SB_OK : SB_ERR_NOMEM;
                }
        char why[300];
        snprintf(why, sizeof(why), "unknown command type '%.256s'", type ? type : "(none)");
        *result = regd_error_result(REGD_ERROR_STORE, why);
        return *result ? SB_OK : SB_ERR_NOMEM;
}

uint64_t regd_store_generation(const regd_store_t *st) {
        return __atomic_load_n(&st->generation, __ATOMIC_SEQ_CST);
}

static sb_err_t direct_submit(void *opaque, const json_t *command, json_t **result, char *errstr,
                              size_t errstr_size) {
        sb_err_t err = regd_store_apply(opaque, command, result);
        if (err)
                return sb_seterr(err, errstr, errstr_size, "the command could not be applied: out of memory");
        return SB_OK;
}

regd_submitter_t regd_store_direct_submitter(regd_store_t *st) {
        regd_submitter_t s = {direct_submit, st};
        return s;
}

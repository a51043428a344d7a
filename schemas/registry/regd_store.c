/*
 * regd_store.c: the store's data structures, its lookups and the read
 * functions of regd_store.h.  The commands that change the state are in
 * regd_apply.c.
 */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "regd_store_int.h"

static const char *const mode_names[] = {"READWRITE", "READONLY", "IMPORT"};
#define N_MODES (sizeof(mode_names) / sizeof(*mode_names))

int regd_mode_parse(const char *name, regd_mode_t *out) {
        for (size_t i = 0; name && i < N_MODES; i++)
                if (strcasecmp(name, mode_names[i]) == 0) {
                        *out = (regd_mode_t)i;
                        return 0;
                }
        return -1;
}

const char *regd_mode_name(regd_mode_t mode) { return (size_t)mode < N_MODES ? mode_names[mode] : "UNKNOWN"; }

uint64_t regd_hash(const char *s) {
        uint64_t h = 1469598103934665603ULL; /* FNV-1a */
        for (; *s; s++) {
                h ^= (unsigned char)*s;
                h *= 1099511628211ULL;
        }
        return h;
}

int regd_reserve(void **arr, size_t *cap, size_t need, size_t size) {
        if (need <= *cap)
                return 0;
        /* From exactly what is needed: most subjects hold one version. */
        size_t ncap = *cap ? *cap * 2 : need;
        while (ncap < need)
                ncap *= 2;
        void *p = realloc(*arr, ncap * size);
        if (!p)
                return -1;
        *arr = p;
        *cap = ncap;
        return 0;
}

sb_err_t regd_store_new(regd_store_t **out, char *errstr, size_t errstr_size) {
        regd_store_t *st = calloc(1, sizeof(*st));
        if (!st)
                return sb_seterr(SB_ERR_NOMEM, errstr, errstr_size, "out of memory");
        if (pthread_mutex_init(&st->lock, NULL)) {
                free(st);
                return sb_seterr(SB_ERR_NOMEM, errstr, errstr_size, "cannot create a mutex");
        }
        if (pthread_mutex_init(&st->parse_lock, NULL) || pthread_mutex_init(&st->canon_lock, NULL)) {
                pthread_mutex_destroy(&st->lock);
                free(st);
                return sb_seterr(SB_ERR_NOMEM, errstr, errstr_size, "cannot create a mutex");
        }
        st->next_id = 1;
        st->level = REGD_COMPAT_BACKWARD;
        st->mode = REGD_READWRITE;
        *out = st;
        return SB_OK;
}

void regd_store_destroy(regd_store_t *st) {
        if (!st)
                return;
        for (size_t i = 0; i < st->n_schemas; i++)
                free(st->schemas[i].text);
        for (size_t i = 0; i < REGD_PARSED_CACHE_SIZE; i++)
                sb_schema_destroy(st->parsed[i].parsed);
        for (size_t i = 0; i < st->n_subjects; i++) {
                free(st->subjects[i]->name);
                free(st->subjects[i]->v);
                free(st->subjects[i]);
        }
        free(st->schemas);
        free(st->index);
        free(st->subjects);
        free(st->subject_index);
        for (size_t i = 0; i < SB_CANON_CACHE_SIZE; i++) {
                free(st->canon_cache[i].raw);
                free(st->canon_cache[i].canon);
        }
        pthread_mutex_destroy(&st->canon_lock);
        pthread_mutex_destroy(&st->parse_lock);
        pthread_mutex_destroy(&st->lock);
        free(st);
}

/* ---- schemas ---- */

sb_err_t regd_store_parse(regd_store_t *st, const char *text, size_t len, sb_schema_t **out, char *errstr,
                          size_t errstr_size) {
        pthread_mutex_lock(&st->parse_lock);
        sb_err_t err = sb_schema_new(text, len, out, errstr, errstr_size);
        pthread_mutex_unlock(&st->parse_lock);
        return err;
}

sb_err_t regd_canonicalise(regd_store_t *st, const char *text, size_t len, char **canon, sb_schema_t **parsed,
                           char *errstr, size_t errstr_size) {
        sb_schema_t *schema = NULL;
        *canon = NULL;
        if (parsed)
                *parsed = NULL;
        /* Without a parsed schema wanted, the cache may answer. */
        uint64_t hash = 1469598103934665603ULL; /* FNV-1a of the raw bytes */
        for (size_t i = 0; i < len; i++) {
                hash ^= (unsigned char)text[i];
                hash *= 1099511628211ULL;
        }
        canon_entry_t *slot = &st->canon_cache[hash % SB_CANON_CACHE_SIZE];
        if (!parsed) {
                pthread_mutex_lock(&st->canon_lock);
                if (slot->raw && slot->hash == hash && strlen(slot->raw) == len &&
                    memcmp(slot->raw, text, len) == 0)
                        *canon = strdup(slot->canon);
                pthread_mutex_unlock(&st->canon_lock);
                if (*canon)
                        return SB_OK;
        }
        sb_err_t err = regd_store_parse(st, text, len, &schema, errstr, errstr_size);
        if (err)
                return err;
        if (!(*canon = strdup(sb_schema_json(schema)))) {
                sb_schema_destroy(schema);
                return sb_seterr(SB_ERR_NOMEM, errstr, errstr_size, "out of memory");
        }
        char *raw = strndup(text, len), *copy = strdup(*canon);
        if (raw && copy && strlen(raw) == len) {
                pthread_mutex_lock(&st->canon_lock);
                free(slot->raw);
                free(slot->canon);
                slot->hash = hash;
                slot->raw = raw;
                slot->canon = copy;
                raw = copy = NULL;
                pthread_mutex_unlock(&st->canon_lock);
        }
        free(raw);
        free(copy);
        if (parsed)
                *parsed = schema;
        else
                sb_schema_destroy(schema);
        return SB_OK;
}

static size_t schema_pos(const regd_store_t *st, int32_t id, int *found) {
        size_t lo = 0, hi = st->n_schemas;
        while (lo < hi) {
                size_t mid = lo + (hi - lo) / 2;
                if (st->schemas[mid].id == id) {
                        *found = 1;
                        return mid;
                }
                if (st->schemas[mid].id < id)
                        lo = mid + 1;
                else
                        hi = mid;
        }
        *found = 0;
        return lo;
}

schema_t *regd_schema(regd_store_t *st, int32_t id) {
        int found;
        size_t at = schema_pos(st, id, &found);
        return found ? &st->schemas[at] : NULL;
}

int32_t regd_find_text(const regd_store_t *st, const char *canon, uint64_t hash) {
        if (!st->index_cap)
                return 0;
        for (size_t i = hash & (st->index_cap - 1);; i = (i + 1) & (st->index_cap - 1)) {
                int32_t id = st->index[i];
                if (!id)
                        return 0;
                int found;
                const schema_t *s = &st->schemas[schema_pos(st, id, &found)];
                if (s->hash == hash && strcmp(s->text, canon) == 0)
                        return id;
        }
}

static void index_put(int32_t *index, size_t cap, uint64_t hash, int32_t id) {
        size_t i = hash & (cap - 1);
        while (index[i])
                i = (i + 1) & (cap - 1);
        index[i] = id;
}

int regd_schema_add(regd_store_t *st, int32_t id, char *canon, uint64_t hash) {
        if (regd_reserve((void **)&st->schemas, &st->cap_schemas, st->n_schemas + 1, sizeof(*st->schemas)))
                return -1;
        if ((st->n_schemas + 1) * 2 > st->index_cap) {
                size_t ncap = st->index_cap ? st->index_cap * 2 : 16;
                int32_t *index = calloc(ncap, sizeof(*index));
                if (!index)
                        return -1;
                for (size_t i = 0; i < st->index_cap; i++)
                        if (st->index[i])
                                index_put(index, ncap,
                                          st->schemas[schema_pos(st, st->index[i], &(int){0})].hash,
                                          st->index[i]);
                free(st->index);
                st->index = index;
                st->index_cap = ncap;
        }
        /* A text imported under a second id keeps answering with its first. */
        int known = regd_find_text(st, canon, hash) != 0;
        int found;
        size_t at = schema_pos(st, id, &found);
        memmove(&st->schemas[at + 1], &st->schemas[at], (st->n_schemas - at) * sizeof(*st->schemas));
        st->schemas[at] = (schema_t){id, canon, hash, 0};
        st->n_schemas++;
        if (!known)
                index_put(st->index, st->index_cap, hash, id);
        if (id >= st->next_id)
                st->next_id = (int64_t)id + 1;
        return 0;
}

/* The cache slot of schema `id`, or else the least recently used one. */
static parsed_entry_t *parsed_slot(regd_store_t *st, int32_t id) {
        parsed_entry_t *lru = &st->parsed[0];
        for (size_t i = 0; i < REGD_PARSED_CACHE_SIZE; i++) {
                if (st->parsed[i].id == id)
                        return &st->parsed[i];
                if (st->parsed[i].used < lru->used)
                        lru = &st->parsed[i];
        }
        return lru;
}

void regd_parsed_put(regd_store_t *st, int32_t id, sb_schema_t *parsed) {
        parsed_entry_t *e = parsed_slot(st, id);
        if (e->id == id) {
                sb_schema_destroy(parsed);
        } else {
                sb_schema_destroy(e->parsed);
                e->id = id;
                e->parsed = parsed;
        }
        e->used = ++st->parsed_clock;
}

const sb_schema_t *regd_schema_parsed(regd_store_t *st, const schema_t *s) {
        parsed_entry_t *e = parsed_slot(st, s->id);
        if (e->id != s->id) {
                char errstr[256];
                sb_schema_t *parsed = NULL;
                /* Stored texts always parse: only memory can fail. */
                if (regd_store_parse(st, s->text, strlen(s->text), &parsed, errstr, sizeof(errstr)))
                        return NULL;
                sb_schema_destroy(e->parsed);
                e->id = s->id;
                e->parsed = parsed;
        }
        e->used = ++st->parsed_clock;
        return e->parsed;
}

regd_compat_level_t regd_level_of(const regd_store_t *st, const subject_t *s) {
        if (s && s->has_level)
                return s->level;
        return st->has_level ? st->level : REGD_COMPAT_BACKWARD;
}

regd_mode_t regd_mode_of(const regd_store_t *st, const subject_t *s) {
        if (s && s->has_mode)
                return s->mode;
        return st->has_mode ? st->mode : REGD_READWRITE;
}

/* ---- compatibility ---- */

/* compat.c names the one existing schema it is given "version 1"; these
 * are the places it does, rewritten to the version's real number. */
static const char *const version_one[] = {"reading version 1 data", "with version 1: "};

static json_t *renumber(const char *msg, int32_t version) {
        for (size_t i = 0; i < sizeof(version_one) / sizeof(*version_one); i++) {
                const char *at = strstr(msg, version_one[i]);
                const char *one = at ? strstr(at, "version 1") : NULL;
                if (!one)
                        continue;
                size_t head = (size_t)(one - msg) + strlen("version ");
                return json_sprintf("%.*s%d%s", (int)head, msg, (int)version, one + strlen("version 1"));
        }
        return json_string(msg);
}

int regd_compat(regd_store_t *st, subject_t *s, const version_t *only, regd_compat_level_t level,
                const sb_schema_t *candidate, json_t *messages) {
        int transitive = level == REGD_COMPAT_BACKWARD_TRANSITIVE ||
                         level == REGD_COMPAT_FORWARD_TRANSITIVE || level == REGD_COMPAT_FULL_TRANSITIVE;
        const version_t *latest = regd_subject_latest(s);
        int ok = 1;
        if (level == REGD_COMPAT_NONE)
                return 1;
        for (size_t i = 0; s && i < s->n; i++) {
                const version_t *v = &s->v[i];
                if (v->deleted || (only && v != only) || (!only && !transitive && v != latest))
                        continue;
                const sb_schema_t *existing = regd_schema_parsed(st, regd_schema(st, v->id));
                json_t *found = json_array();
                if (!existing || !found) {
                        json_decref(found);
                        return -1;
                }
                ok &= regd_compat_check(level, candidate, &existing, 1, found);
                size_t k;
                json_t *m;
                json_array_foreach(found, k, m) {
                        if (messages &&
                            json_array_append_new(messages, renumber(json_string_value(m), v->version))) {
                                json_decref(found);
                                return -1;
                        }
                }
                json_decref(found);
        }
        if (!ok && messages &&
            json_array_append_new(messages,
                                  json_sprintf("{compatibility: '%s'}", regd_compat_level_name(level))))
                return -1;
        return ok;
}

/* ---- reads ---- */

static int by_name(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

static int by_subject_version(const void *a, const void *b) {
        const regd_use_t *x = a, *y = b;
        int c = strcmp(x->subject, y->subject);
        return c ? c : (x->version > y->version) - (x->version < y->version);
}

static int by_subject_name(const void *a, const void *b) {
        return strcmp((*(subject_t *const *)a)->name, (*(subject_t *const *)b)->name);
}

void regd_strings_free(char **names, size_t count) {
        for (size_t i = 0; names && i < count; i++)
                free(names[i]);
        free(names);
}

sb_err_t regd_store_subjects(regd_store_t *st, int deleted, const char *prefix, char ***names, size_t *count,
                             char *errstr, size_t errstr_size) {
        char **out = NULL;
        size_t n = 0, plen = prefix ? strlen(prefix) : 0;
        *names = NULL;
        *count = 0;
        pthread_mutex_lock(&st->lock);
        if (st->n_subjects && !(out = calloc(st->n_subjects, sizeof(*out))))
                goto nomem;
        for (size_t i = 0; i < st->n_subjects; i++) {
                const subject_t *s = st->subjects[i];
                if (!regd_subject_count(s, deleted) || strncmp(s->name, prefix ? prefix : "", plen) != 0)
                        continue;
                if (!(out[n] = strdup(s->name)))
                        goto nomem;
                n++;
        }
        pthread_mutex_unlock(&st->lock);
        if (!n) {
                free(out);
                out = NULL;
        }
        if (n)
                qsort(out, n, sizeof(*out), by_name);
        *names = out;
        *count = n;
        return SB_OK;
nomem:
        pthread_mutex_unlock(&st->lock);
        regd_strings_free(out, n);
        return sb_seterr(SB_ERR_NOMEM, errstr, errstr_size, "out of memory");
}

sb_err_t regd_store_versions(regd_store_t *st, const char *subject, int deleted, int32_t **versions,
                             size_t *count, char *errstr, size_t errstr_size) {
        sb_err_t err = SB_OK;
        *versions = NULL;
        *count = 0;
        pthread_mutex_lock(&st->lock);
        const subject_t *s = regd_subject(st, subject);
        size_t n = regd_subject_count(s, deleted);
        int32_t *out = n ? malloc(n * sizeof(*out)) : NULL;
        if (!n) {
                err = sb_seterr(SB_ERR_NOT_FOUND, errstr, errstr_size, "subject '%s' not found", subject);
        } else if (!out) {
                err = sb_seterr(SB_ERR_NOMEM, errstr, errstr_size, "out of memory");
        } else {
                size_t k = 0;
                for (size_t i = 0; i < s->n; i++)
                        if (deleted || !s->v[i].deleted)
                                out[k++] = s->v[i].version;
                *versions = out;
                *count = n;
        }
        pthread_mutex_unlock(&st->lock);
        return err;
}

/* Fills *out from version v of the store (lock held). */
static sb_err_t fill_version(regd_store_t *st, const version_t *v, regd_version_t *out, char *errstr,
                             size_t errstr_size) {
        const schema_t *sc = regd_schema(st, v->id);
        if (!(out->text = strdup(sc->text)))
                return sb_seterr(SB_ERR_NOMEM, errstr, errstr_size, "out of memory");
        out->id = v->id;
        out->version = v->version;
        out->deleted = v->deleted;
        return SB_OK;
}

sb_err_t regd_store_get_version(regd_store_t *st, const char *subject, int32_t version, int deleted,
                                regd_version_t *out, int *subject_found, char *errstr, size_t errstr_size) {
        sb_err_t err;
        memset(out, 0, sizeof(*out));
        pthread_mutex_lock(&st->lock);
        subject_t *s = regd_subject(st, subject);
        const version_t *v =
                version == REGD_LATEST ? regd_subject_latest(s) : regd_subject_version(s, version);
        if (v && v->deleted && !deleted)
                v = NULL;
        if (subject_found)
                *subject_found = regd_subject_count(s, deleted) > 0;
        if (!v)
                err = sb_seterr(SB_ERR_NOT_FOUND, errstr, errstr_size, "version %d of subject '%s' not found",
                                (int)version, subject);
        else
                err = fill_version(st, v, out, errstr, errstr_size);
        pthread_mutex_unlock(&st->lock);
        return err;
}

sb_err_t regd_store_lookup(regd_store_t *st, const char *subject, const char *text, size_t len, int deleted,
                           regd_version_t *out, int *subject_found, char *errstr, size_t errstr_size) {
        char *canon;
        sb_err_t err;
        memset(out, 0, sizeof(*out));
        if (subject_found)
                *subject_found = 0;
        if ((err = regd_canonicalise(st, text, len, &canon, NULL, errstr, errstr_size)))
                return err;
        uint64_t hash = regd_hash(canon);
        err = sb_seterr(SB_ERR_NOT_FOUND, errstr, errstr_size, "schema not found under subject '%s'",
                        subject);
        pthread_mutex_lock(&st->lock);
        subject_t *s = regd_subject(st, subject);
        if (subject_found)
                *subject_found = regd_subject_count(s, deleted) > 0;
        for (size_t i = s ? s->n : 0; i > 0; i--) {
                const version_t *v = &s->v[i - 1];
                const schema_t *sc = regd_schema(st, v->id);
                if ((deleted || !v->deleted) && sc->hash == hash && strcmp(sc->text, canon) == 0) {
                        err = fill_version(st, v, out, errstr, errstr_size);
                        break;
                }
        }
        pthread_mutex_unlock(&st->lock);
        free(canon);
        return err;
}

sb_err_t regd_store_by_id(regd_store_t *st, int32_t id, char **text, char *errstr, size_t errstr_size) {
        sb_err_t err = SB_OK;
        *text = NULL;
        pthread_mutex_lock(&st->lock);
        const schema_t *sc = regd_schema(st, id);
        if (!sc || !sc->uses)
                err = sb_seterr(SB_ERR_NOT_FOUND, errstr, errstr_size, "schema %d not found", (int)id);
        else if (!(*text = strdup(sc->text)))
                err = sb_seterr(SB_ERR_NOMEM, errstr, errstr_size, "out of memory");
        pthread_mutex_unlock(&st->lock);
        return err;
}

void regd_uses_free(regd_use_t *uses, size_t count) {
        for (size_t i = 0; uses && i < count; i++)
                free(uses[i].subject);
        free(uses);
}

sb_err_t regd_store_id_uses(regd_store_t *st, int32_t id, int deleted, regd_use_t **uses, size_t *count,
                            char *errstr, size_t errstr_size) {
        regd_use_t *out = NULL;
        size_t n = 0, cap = 0;
        *uses = NULL;
        *count = 0;
        pthread_mutex_lock(&st->lock);
        const schema_t *sc = regd_schema(st, id);
        if (!sc || !sc->uses) {
                pthread_mutex_unlock(&st->lock);
                return sb_seterr(SB_ERR_NOT_FOUND, errstr, errstr_size, "schema %d not found", (int)id);
        }
        for (size_t i = 0; i < st->n_subjects; i++) {
                const subject_t *s = st->subjects[i];
                for (size_t k = 0; k < s->n; k++) {
                        if (s->v[k].id != id || (s->v[k].deleted && !deleted))
                                continue;
                        if (regd_reserve((void **)&out, &cap, n + 1, sizeof(*out)))
                                goto nomem;
                        if (!(out[n].subject = strdup(s->name)))
                                goto nomem;
                        out[n++].version = s->v[k].version;
                }
        }
        pthread_mutex_unlock(&st->lock);
        if (n)
                qsort(out, n, sizeof(*out), by_subject_version);
        *uses = out;
        *count = n;
        return SB_OK;
nomem:
        pthread_mutex_unlock(&st->lock);
        regd_uses_free(out, n);
        return sb_seterr(SB_ERR_NOMEM, errstr, errstr_size, "out of memory");
}

sb_err_t regd_store_config(regd_store_t *st, const char *subject, int default_to_global,
                           regd_compat_level_t *level, char *errstr, size_t errstr_size) {
        sb_err_t err = SB_OK;
        pthread_mutex_lock(&st->lock);
        const subject_t *s = subject ? regd_subject(st, subject) : NULL;
        if (subject && !(s && s->has_level) && !default_to_global)
                err = sb_seterr(SB_ERR_NOT_FOUND, errstr, errstr_size,
                                "subject '%s' has no compatibility level of its own", subject);
        else
                *level = regd_level_of(st, s);
        pthread_mutex_unlock(&st->lock);
        return err;
}

sb_err_t regd_store_mode(regd_store_t *st, const char *subject, int default_to_global, regd_mode_t *mode,
                         char *errstr, size_t errstr_size) {
        sb_err_t err = SB_OK;
        pthread_mutex_lock(&st->lock);
        const subject_t *s = subject ? regd_subject(st, subject) : NULL;
        if (subject && !(s && s->has_mode) && !default_to_global)
                err = sb_seterr(SB_ERR_NOT_FOUND, errstr, errstr_size, "subject '%s' has no mode of its own",
                                subject);
        else
                *mode = regd_mode_of(st, s);
        pthread_mutex_unlock(&st->lock);
        return err;
}

sb_err_t regd_store_check(regd_store_t *st, const char *subject, int32_t version, const char *text,
                          size_t len, int *compatible, json_t *messages, char *errstr, size_t errstr_size) {
        sb_schema_t *candidate = NULL;
        char *canon = NULL;
        sb_err_t err = regd_canonicalise(st, text, len, &canon, &candidate, errstr, errstr_size);
        if (err)
                return err;
        free(canon);
        pthread_mutex_lock(&st->lock);
        subject_t *s = regd_subject(st, subject);
        const version_t *only = NULL;
        if (version == REGD_LATEST) {
                only = regd_subject_latest(s);
        } else if (version > 0) {
                only = regd_subject_version(s, version);
                if (!only || only->deleted) {
                        err = sb_seterr(SB_ERR_NOT_FOUND, errstr, errstr_size,
                                        "version %d of subject '%s' not found", (int)version, subject);
                        goto out;
                }
        }
        if (version != 0 && !only) {
                *compatible = 1; /* "latest" of a subject without versions */
                goto out;
        }
        int ok = regd_compat(st, s, only, regd_level_of(st, s), candidate, messages);
        if (ok < 0)
                err = sb_seterr(SB_ERR_NOMEM, errstr, errstr_size, "out of memory");
        else
                *compatible = ok;
out:
        pthread_mutex_unlock(&st->lock);
        sb_schema_destroy(candidate);
        return err;
}

sb_err_t regd_store_dump(regd_store_t *st, json_t **state) {
        json_t *schemas = json_array(), *subjects = json_array();
        json_t *out = NULL;
        int bad = !schemas || !subjects;
        pthread_mutex_lock(&st->lock);
        /* In name order, whatever the order of arrival. */
        subject_t **sorted = st->n_subjects ? malloc(st->n_subjects * sizeof(subject_t *)) : NULL;
        bad |= st->n_subjects && !sorted;
        if (sorted) {
                memcpy(sorted, st->subjects, st->n_subjects * sizeof(subject_t *));
                qsort(sorted, st->n_subjects, sizeof(subject_t *), by_subject_name);
        }
        for (size_t i = 0; !bad && i < st->n_schemas; i++) {
                const schema_t *sc = &st->schemas[i];
                bad |= json_array_append_new(schemas, json_pack("{s:i,s:s,s:I}", "id", (int)sc->id, "schema",
                                                                sc->text, "uses", (json_int_t)sc->uses));
        }
        for (size_t i = 0; !bad && i < st->n_subjects; i++) {
                const subject_t *s = sorted[i];
                json_t *versions = json_array();
                for (size_t k = 0; versions && k < s->n; k++)
                        if (json_array_append_new(
                                    versions, json_pack("{s:i,s:i,s:b}", "version", (int)s->v[k].version,
                                                        "id", (int)s->v[k].id, "deleted", s->v[k].deleted))) {
                                json_decref(versions);
                                versions = NULL;
                        }
                bad |= !versions ||
                       json_array_append_new(
                               subjects,
                               json_pack("{s:s,s:s?,s:s?,s:o}", "subject", s->name, "compatibility",
                                         s->has_level ? regd_compat_level_name(s->level) : NULL, "mode",
                                         s->has_mode ? regd_mode_name(s->mode) : NULL, "versions", versions));
        }
        if (!bad)
                out = json_pack("{s:I,s:s?,s:s?,s:O,s:O}", "next_id", (json_int_t)st->next_id,
                                "compatibility", st->has_level ? regd_compat_level_name(st->level) : NULL,
                                "mode", st->has_mode ? regd_mode_name(st->mode) : NULL, "schemas", schemas,
                                "subjects", subjects);
        pthread_mutex_unlock(&st->lock);
        free(sorted);
        json_decref(schemas);
        json_decref(subjects);
        *state = out;
        return out ? SB_OK : SB_ERR_NOMEM;
}

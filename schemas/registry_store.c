#include "registry_store.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "sb_avro.h"

typedef struct {
        char *text; /* canonical form, owned */
        uint64_t hash;
} schema_t;

typedef struct {
        char *name;   /* owned */
        int32_t *ids; /* ids[v - 1] is the schema id of version v */
        size_t n, cap;
} subject_t;

struct sb_registry_store_s {
        pthread_mutex_t lock; /* guards everything below */
        /* avro-c keeps its last error in one global buffer, so schemas are
         * parsed one at a time; a separate lock lets readers go on meanwhile. */
        pthread_mutex_t parse_lock;
        schema_t *schemas; /* schemas[id - 1]: ids are dense, never reused */
        size_t n_schemas, cap_schemas;
        int32_t *index;      /* open addressing on the text hash; 0 = empty slot */
        size_t index_cap;    /* a power of two, at least twice n_schemas */
        subject_t *subjects; /* sorted by name (strcmp) */
        size_t n_subjects, cap_subjects;
};

static uint64_t hash_text(const char *s) {
        uint64_t h = 1469598103934665603ULL; /* FNV-1a */
        for (; *s; s++) {
                h ^= (unsigned char)*s;
                h *= 1099511628211ULL;
        }
        return h;
}

static int32_t find_schema(const sb_registry_store_t *st, const char *text, uint64_t hash) {
        if (!st->index_cap)
                return 0;
        for (size_t i = hash & (st->index_cap - 1);; i = (i + 1) & (st->index_cap - 1)) {
                int32_t id = st->index[i];
                if (!id)
                        return 0;
                const schema_t *s = &st->schemas[id - 1];
                if (s->hash == hash && strcmp(s->text, text) == 0)
                        return id;
        }
}

static void index_put(int32_t *index, size_t cap, uint64_t hash, int32_t id) {
        size_t i = hash & (cap - 1);
        while (index[i])
                i = (i + 1) & (cap - 1);
        index[i] = id;
}

/* Binary search: returns 1 and *at = position if found, else 0 and *at =
 * where the subject would be inserted. */
static int find_subject(const sb_registry_store_t *st, const char *name, size_t *at) {
        size_t lo = 0, hi = st->n_subjects;
        while (lo < hi) {
                size_t mid = lo + (hi - lo) / 2;
                int c = strcmp(st->subjects[mid].name, name);
                if (c == 0) {
                        *at = mid;
                        return 1;
                }
                if (c < 0)
                        lo = mid + 1;
                else
                        hi = mid;
        }
        *at = lo;
        return 0;
}

/* Grows *arr (of `size`-byte elements) so that it holds at least `need`. */
static int reserve(void **arr, size_t *cap, size_t need, size_t size) {
        if (need <= *cap)
                return 0;
        size_t ncap = *cap ? *cap * 2 : 8;
        while (ncap < need)
                ncap *= 2;
        void *p = realloc(*arr, ncap * size);
        if (!p)
                return -1;
        *arr = p;
        *cap = ncap;
        return 0;
}

sb_registry_store_t *sb_registry_store_new(char *errstr, size_t errstr_size) {
        sb_registry_store_t *st = calloc(1, sizeof(*st));
        if (!st) {
                sb_seterr(SB_ERR_NOMEM, errstr, errstr_size, "out of memory");
                return NULL;
        }
        if (pthread_mutex_init(&st->lock, NULL)) {
                free(st);
                sb_seterr(SB_ERR_NOMEM, errstr, errstr_size, "cannot create a mutex");
                return NULL;
        }
        if (pthread_mutex_init(&st->parse_lock, NULL)) {
                pthread_mutex_destroy(&st->lock);
                free(st);
                sb_seterr(SB_ERR_NOMEM, errstr, errstr_size, "cannot create a mutex");
                return NULL;
        }
        return st;
}

void sb_registry_store_destroy(sb_registry_store_t *st) {
        if (!st)
                return;
        for (size_t i = 0; i < st->n_schemas; i++)
                free(st->schemas[i].text);
        for (size_t i = 0; i < st->n_subjects; i++) {
                free(st->subjects[i].name);
                free(st->subjects[i].ids);
        }
        free(st->schemas);
        free(st->index);
        free(st->subjects);
        pthread_mutex_destroy(&st->parse_lock);
        pthread_mutex_destroy(&st->lock);
        free(st);
}

/* Parses `text` and returns a copy of its canonical form in *canon. */
static sb_err_t canonicalise(sb_registry_store_t *st, const char *text, size_t len, char **canon,
                             char *errstr, size_t errstr_size) {
        sb_schema_t *schema = NULL;
        sb_err_t err;

        *canon = NULL;
        pthread_mutex_lock(&st->parse_lock);
        err = sb_schema_new(text, len, &schema, errstr, errstr_size);
        if (!err) {
                *canon = strdup(sb_schema_json(schema));
                if (!*canon)
                        err = sb_seterr(SB_ERR_NOMEM, errstr, errstr_size, "out of memory");
                sb_schema_destroy(schema);
        }
        pthread_mutex_unlock(&st->parse_lock);
        return err;
}

/* With the lock held: makes room for one more schema in the arrays and the
 * index, so that adding it cannot fail halfway. */
static int reserve_schema(sb_registry_store_t *st) {
        if (reserve((void **)&st->schemas, &st->cap_schemas, st->n_schemas + 1, sizeof(*st->schemas)))
                return -1;
        if ((st->n_schemas + 1) * 2 <= st->index_cap)
                return 0;
        size_t ncap = st->index_cap ? st->index_cap * 2 : 16;
        int32_t *index = calloc(ncap, sizeof(*index));
        if (!index)
                return -1;
        for (size_t i = 0; i < st->n_schemas; i++)
                index_put(index, ncap, st->schemas[i].hash, (int32_t)(i + 1));
        free(st->index);
        st->index = index;
        st->index_cap = ncap;
        return 0;
}

sb_err_t sb_registry_store_register(sb_registry_store_t *st, const char *subject, const char *text,
                                    size_t len, int32_t *id, int32_t *version, char *errstr,
                                    size_t errstr_size) {
        char *canon = NULL, *name = NULL;
        int32_t *ids = NULL;
        sb_err_t err = SB_OK;
        size_t at;

        if (!subject || !*subject)
                return sb_seterr(SB_ERR_INVALID, errstr, errstr_size, "empty subject name");
        err = canonicalise(st, text, len, &canon, errstr, errstr_size);
        if (err)
                return err;
        uint64_t hash = hash_text(canon);

        pthread_mutex_lock(&st->lock);
        int32_t sid = find_schema(st, canon, hash);
        int found = find_subject(st, subject, &at);
        if (found && sid) {
                subject_t *s = &st->subjects[at];
                for (size_t v = 0; v < s->n; v++)
                        if (s->ids[v] == sid) {
                                *id = sid;
                                *version = (int32_t)(v + 1);
                                goto done;
                        }
        }
        /* Reserve everything first: a failure leaves the store unchanged. */
        if (!sid && st->n_schemas >= INT32_MAX) {
                err = sb_seterr(SB_ERR_INVALID, errstr, errstr_size, "schema ids exhausted");
                goto done;
        }
        if (!sid && reserve_schema(st))
                goto nomem;
        if (found) {
                subject_t *s = &st->subjects[at];
                if (s->n >= INT32_MAX) {
                        err = sb_seterr(SB_ERR_INVALID, errstr, errstr_size,
                                        "subject '%s' has no versions left", subject);
                        goto done;
                }
                if (reserve((void **)&s->ids, &s->cap, s->n + 1, sizeof(*s->ids)))
                        goto nomem;
        } else {
                if (reserve((void **)&st->subjects, &st->cap_subjects, st->n_subjects + 1,
                            sizeof(*st->subjects)))
                        goto nomem;
                name = strdup(subject);
                ids = malloc(4 * sizeof(*ids));
                if (!name || !ids)
                        goto nomem;
        }

        if (!sid) {
                st->schemas[st->n_schemas].text = canon;
                st->schemas[st->n_schemas].hash = hash;
                canon = NULL;
                sid = (int32_t)++st->n_schemas;
                index_put(st->index, st->index_cap, hash, sid);
        }
        if (!found) {
                memmove(&st->subjects[at + 1], &st->subjects[at],
                        (st->n_subjects - at) * sizeof(*st->subjects));
                st->subjects[at] = (subject_t){name, ids, 0, 4};
                st->n_subjects++;
                name = NULL;
                ids = NULL;
        }
        subject_t *s = &st->subjects[at];
        s->ids[s->n++] = sid;
        *id = sid;
        *version = (int32_t)s->n;
        goto done;

nomem:
        err = sb_seterr(SB_ERR_NOMEM, errstr, errstr_size, "out of memory");
done:
        pthread_mutex_unlock(&st->lock);
        free(canon);
        free(name);
        free(ids);
        return err;
}

sb_err_t sb_registry_store_by_id(sb_registry_store_t *st, int32_t id, char **text, char *errstr,
                                 size_t errstr_size) {
        sb_err_t err = SB_OK;
        *text = NULL;
        pthread_mutex_lock(&st->lock);
        if (id < 1 || (size_t)id > st->n_schemas)
                err = sb_seterr(SB_ERR_NOT_FOUND, errstr, errstr_size, "schema %d not found", (int)id);
        else if (!(*text = strdup(st->schemas[id - 1].text)))
                err = sb_seterr(SB_ERR_NOMEM, errstr, errstr_size, "out of memory");
        pthread_mutex_unlock(&st->lock);
        return err;
}

void sb_registry_strings_free(char **names, size_t count) {
        for (size_t i = 0; names && i < count; i++)
                free(names[i]);
        free(names);
}

sb_err_t sb_registry_store_subjects(sb_registry_store_t *st, char ***names, size_t *count, char *errstr,
                                    size_t errstr_size) {
        char **out = NULL;
        size_t n = 0;
        *names = NULL;
        *count = 0;
        pthread_mutex_lock(&st->lock);
        if (st->n_subjects && !(out = calloc(st->n_subjects, sizeof(*out))))
                goto nomem;
        for (; n < st->n_subjects; n++)
                if (!(out[n] = strdup(st->subjects[n].name)))
                        goto nomem;
        pthread_mutex_unlock(&st->lock);
        *names = out;
        *count = n;
        return SB_OK;
nomem:
        pthread_mutex_unlock(&st->lock);
        sb_registry_strings_free(out, n);
        return sb_seterr(SB_ERR_NOMEM, errstr, errstr_size, "out of memory");
}

sb_err_t sb_registry_store_versions(sb_registry_store_t *st, const char *subject, int32_t **versions,
                                    size_t *count, char *errstr, size_t errstr_size) {
        sb_err_t err = SB_OK;
        size_t at;
        *versions = NULL;
        *count = 0;
        pthread_mutex_lock(&st->lock);
        if (!find_subject(st, subject, &at)) {
                err = sb_seterr(SB_ERR_NOT_FOUND, errstr, errstr_size, "subject '%s' not found", subject);
        } else {
                const subject_t *s = &st->subjects[at];
                int32_t *out = malloc(s->n * sizeof(*out));
                if (!out) {
                        err = sb_seterr(SB_ERR_NOMEM, errstr, errstr_size, "out of memory");
                } else {
                        for (size_t v = 0; v < s->n; v++)
                                out[v] = (int32_t)(v + 1);
                        *versions = out;
                        *count = s->n;
                }
        }
        pthread_mutex_unlock(&st->lock);
        return err;
}

sb_err_t sb_registry_store_get_version(sb_registry_store_t *st, const char *subject, int32_t version,
                                       int32_t *id, int32_t *version_out, char **text, int *subject_found,
                                       char *errstr, size_t errstr_size) {
        sb_err_t err = SB_OK;
        size_t at;
        *text = NULL;
        pthread_mutex_lock(&st->lock);
        int found = find_subject(st, subject, &at);
        if (subject_found)
                *subject_found = found;
        if (!found) {
                err = sb_seterr(SB_ERR_NOT_FOUND, errstr, errstr_size, "subject '%s' not found", subject);
                goto out;
        }
        const subject_t *s = &st->subjects[at];
        int32_t v = version == SB_REGISTRY_LATEST ? (int32_t)s->n : version;
        if (v < 1 || (size_t)v > s->n) {
                err = sb_seterr(SB_ERR_NOT_FOUND, errstr, errstr_size, "version %d of subject '%s' not found",
                                (int)version, subject);
                goto out;
        }
        if (!(*text = strdup(st->schemas[s->ids[v - 1] - 1].text))) {
                err = sb_seterr(SB_ERR_NOMEM, errstr, errstr_size, "out of memory");
                goto out;
        }
        *id = s->ids[v - 1];
        *version_out = v;
out:
        pthread_mutex_unlock(&st->lock);
        return err;
}

void sb_registry_uses_free(sb_registry_use_t *uses, size_t count) {
        for (size_t i = 0; uses && i < count; i++)
                free(uses[i].subject);
        free(uses);
}

sb_err_t sb_registry_store_id_uses(sb_registry_store_t *st, int32_t id, sb_registry_use_t **uses,
                                   size_t *count, char *errstr, size_t errstr_size) {
        sb_registry_use_t *out = NULL;
        size_t n = 0, cap = 0;
        *uses = NULL;
        *count = 0;
        pthread_mutex_lock(&st->lock);
        if (id < 1 || (size_t)id > st->n_schemas) {
                pthread_mutex_unlock(&st->lock);
                return sb_seterr(SB_ERR_NOT_FOUND, errstr, errstr_size, "schema %d not found", (int)id);
        }
        for (size_t i = 0; i < st->n_subjects; i++) {
                const subject_t *s = &st->subjects[i];
                for (size_t v = 0; v < s->n; v++) {
                        if (s->ids[v] != id)
                                continue;
                        if (reserve((void **)&out, &cap, n + 1, sizeof(*out)))
                                goto nomem;
                        if (!(out[n].subject = strdup(s->name)))
                                goto nomem;
                        out[n++].version = (int32_t)(v + 1);
                }
        }
        pthread_mutex_unlock(&st->lock);
        *uses = out;
        *count = n;
        return SB_OK;
nomem:
        pthread_mutex_unlock(&st->lock);
        sb_registry_uses_free(out, n);
        return sb_seterr(SB_ERR_NOMEM, errstr, errstr_size, "out of memory");
}

/*
 * regd_subject.c: the store's subjects (regd_store_int.h): kept in no
 * order, each allocated on its own, found by name through an
 * open-addressing index, so that adding one is O(1) however many there are
 * (a national registry holds ~100,000) and a pointer to one stays valid
 * while others come and go.  The store's lock is held by every caller.
 */
#include <stdlib.h>
#include <string.h>

#include "regd_store_int.h"

/* The index slot of `name`: where it is, or the empty slot where it goes. */
static size_t subject_slot(const regd_store_t *st, const char *name) {
        size_t mask = st->subject_index_cap - 1;
        for (size_t i = regd_hash(name) & mask;; i = (i + 1) & mask) {
                uint32_t at = st->subject_index[i];
                if (!at || strcmp(st->subjects[at - 1]->name, name) == 0)
                        return i;
        }
}

/* Moves to a new index of `cap` slots (a power of two); -1 out of memory. */
static int subject_reindex(regd_store_t *st, size_t cap) {
        uint32_t *index = calloc(cap, sizeof(*index));
        if (!index)
                return -1;
        free(st->subject_index);
        st->subject_index = index;
        st->subject_index_cap = cap;
        for (size_t k = 0; k < st->n_subjects; k++)
                index[subject_slot(st, st->subjects[k]->name)] = (uint32_t)k + 1;
        return 0;
}

subject_t *regd_subject(regd_store_t *st, const char *name) {
        if (!st->n_subjects)
                return NULL;
        uint32_t at = st->subject_index[subject_slot(st, name)];
        return at ? st->subjects[at - 1] : NULL;
}

subject_t *regd_subject_add(regd_store_t *st, const char *name) {
        subject_t *s = regd_subject(st, name);
        if (s)
                return s;
        if (st->n_subjects >= UINT32_MAX - 1 ||
            regd_reserve((void **)&st->subjects, &st->cap_subjects, st->n_subjects + 1, sizeof(subject_t *)))
                return NULL;
        if ((st->n_subjects + 1) * 2 > st->subject_index_cap &&
            subject_reindex(st, st->subject_index_cap ? st->subject_index_cap * 2 : 16))
                return NULL;
        if (!(s = calloc(1, sizeof(*s))))
                return NULL;
        if (!(s->name = strdup(name))) {
                free(s);
                return NULL;
        }
        st->subjects[st->n_subjects++] = s;
        st->subject_index[subject_slot(st, name)] = (uint32_t)st->n_subjects;
        return s;
}

/* Empties index slot i, moving later entries of its probe chain back so
 * that every name stays reachable (deletion in linear probing). */
static void subject_unindex(regd_store_t *st, size_t i) {
        size_t mask = st->subject_index_cap - 1;
        for (size_t j = (i + 1) & mask; st->subject_index[j]; j = (j + 1) & mask) {
                size_t home = regd_hash(st->subjects[st->subject_index[j] - 1]->name) & mask;
                /* The entry at j may fill the hole at i unless its home lies
                 * cyclically in (i, j]. */
                int home_between = i <= j ? (home > i && home <= j) : (home > i || home <= j);
                if (!home_between) {
                        st->subject_index[i] = st->subject_index[j];
                        i = j;
                }
        }
        st->subject_index[i] = 0;
}

void regd_subject_gc(regd_store_t *st, subject_t *s) {
        if (!s || s->n || s->has_level || s->has_mode)
                return;
        size_t slot = subject_slot(st, s->name);
        size_t at = st->subject_index[slot] - 1, last = st->n_subjects - 1;
        subject_unindex(st, slot);
        if (at != last) {
                st->subjects[at] = st->subjects[last];
                st->subject_index[subject_slot(st, st->subjects[at]->name)] = (uint32_t)at + 1;
        }
        st->n_subjects--;
        free(s->name);
        free(s->v);
        free(s);
}

size_t regd_subject_count(const subject_t *s, int deleted) {
        size_t n = 0;
        for (size_t i = 0; s && i < s->n; i++)
                n += deleted || !s->v[i].deleted;
        return n;
}

version_t *regd_subject_version(subject_t *s, int32_t version) {
        size_t lo = 0, hi = s ? s->n : 0;
        while (lo < hi) {
                size_t mid = lo + (hi - lo) / 2;
                if (s->v[mid].version == version)
                        return &s->v[mid];
                if (s->v[mid].version < version)
                        lo = mid + 1;
                else
                        hi = mid;
        }
        return NULL;
}

version_t *regd_subject_latest(subject_t *s) {
        for (size_t i = s ? s->n : 0; i > 0; i--)
                if (!s->v[i - 1].deleted)
                        return &s->v[i - 1];
        return NULL;
}

#include "topics/topics_set.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* A topic and the room of its configs; `pub` first, so that a pointer to
 * it is a pointer to the node. */
typedef struct {
        topics_topic_t pub;
        topics_config_t *configs; /* pub.configs, writable */
} node_t;

struct topics_set_s {
        node_t **nodes; /* allocated one by one: pointers handed out survive growth */
        size_t n, cap;
        int sorted; /* by name, with no name twice: topics_set_find may search */
};

sb_err_t topics_set_new(topics_set_t **out, char *errstr, size_t errstr_size) {
        *out = calloc(1, sizeof(**out));
        return *out ? SB_OK : sb_seterr(SB_ERR_NOMEM, errstr, errstr_size, "out of memory");
}

static void node_free(node_t *nd) {
        for (size_t i = 0; i < nd->pub.n_configs; i++) {
                free((char *)nd->configs[i].name);
                free((char *)nd->configs[i].value);
        }
        free(nd->configs);
        free((char *)nd->pub.name);
        free(nd);
}

void topics_set_destroy(topics_set_t *s) {
        if (!s)
                return;
        for (size_t i = 0; i < s->n; i++)
                node_free(s->nodes[i]);
        free(s->nodes);
        free(s);
}

static int name_char(char c) {
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' ||
               c == '_' || c == '-';
}

int topics_name_check(const char *name, char *why, size_t why_size) {
        size_t len = strnlen(name, TOPICS_NAME_MAX + 1);
        if (len == 0 || len > TOPICS_NAME_MAX) {
                snprintf(why, why_size, "a topic name has 1 to %d characters", TOPICS_NAME_MAX);
                return -1;
        }
        if (strcmp(name, ".") == 0 || strcmp(name, "..") == 0) {
                snprintf(why, why_size, "'%s' is not a topic name Kafka accepts", name);
                return -1;
        }
        for (const char *p = name; *p; p++)
                if (!name_char(*p)) {
                        snprintf(why, why_size,
                                 "'%.64s' holds '%c': a topic name is made of a-z, A-Z, 0-9, '.', "
                                 "'_' and '-'",
                                 name, *p);
                        return -1;
                }
        return 0;
}

sb_err_t topics_set_add(topics_set_t *s, const char *name, int partitions, int replication_factor, int line,
                        size_t *index, char *errstr, size_t errstr_size) {
        char why[160];
        if (topics_name_check(name, why, sizeof(why)))
                return sb_seterr(SB_ERR_INVALID, errstr, errstr_size, "%s", why);
        if (partitions < 0 || replication_factor < 0)
                return sb_seterr(SB_ERR_INVALID, errstr, errstr_size,
                                 "topic %s: partitions and replication factor are not negative", name);
        if (s->n >= TOPICS_SET_MAX)
                return sb_seterr(SB_ERR_INVALID, errstr, errstr_size, "more than %d topics", TOPICS_SET_MAX);
        if (s->n == s->cap) {
                size_t cap = s->cap ? 2 * s->cap : 64;
                node_t **p = realloc(s->nodes, cap * sizeof(node_t *));
                if (!p)
                        return sb_seterr(SB_ERR_NOMEM, errstr, errstr_size, "out of memory");
                s->nodes = p;
                s->cap = cap;
        }
        node_t *nd = calloc(1, sizeof(*nd));
        char *copy = strdup(name);
        if (!nd || !copy) {
                free(nd);
                free(copy);
                return sb_seterr(SB_ERR_NOMEM, errstr, errstr_size, "out of memory");
        }
        nd->pub.name = copy;
        nd->pub.partitions = partitions;
        nd->pub.replication_factor = replication_factor;
        nd->pub.line = line;
        if (index)
                *index = s->n;
        s->nodes[s->n++] = nd;
        s->sorted = 0;
        return SB_OK;
}

static int config_name_ok(const char *name) {
        if (!*name)
                return 0;
        for (const char *p = name; *p; p++)
                if (!name_char(*p))
                        return 0;
        return 1;
}

sb_err_t topics_set_add_config(topics_set_t *s, size_t index, const char *name, const char *value, int line,
                               char *errstr, size_t errstr_size) {
        if (index >= s->n)
                return sb_seterr(SB_ERR_INVALID, errstr, errstr_size, "no topic %zu", index);
        node_t *nd = s->nodes[index];
        const char *topic = nd->pub.name;
        if (strnlen(name, TOPICS_CONFIG_NAME_MAX + 1) > TOPICS_CONFIG_NAME_MAX || !config_name_ok(name))
                return sb_seterr(
                        SB_ERR_INVALID, errstr, errstr_size,
                        "topic %s: config name '%.64s' is not 1 to %d of a-z, A-Z, 0-9, '.', '_', '-'", topic,
                        name, TOPICS_CONFIG_NAME_MAX);
        if (strnlen(value, TOPICS_CONFIG_VALUE_MAX + 1) > TOPICS_CONFIG_VALUE_MAX)
                return sb_seterr(SB_ERR_INVALID, errstr, errstr_size,
                                 "topic %s: config %s: the value is longer than %d characters", topic, name,
                                 TOPICS_CONFIG_VALUE_MAX);
        size_t n = nd->pub.n_configs, at = 0;
        while (at < n && strcmp(nd->configs[at].name, name) < 0)
                at++;
        if (at < n && strcmp(nd->configs[at].name, name) == 0)
                return sb_seterr(SB_ERR_INVALID, errstr, errstr_size,
                                 "topic %s: config %s is declared twice (first at line %d)", topic, name,
                                 nd->configs[at].line);
        if (n >= TOPICS_CONFIGS_MAX)
                return sb_seterr(SB_ERR_INVALID, errstr, errstr_size, "topic %s: more than %d configs", topic,
                                 TOPICS_CONFIGS_MAX);
        /* Kept sorted as they come: a topic holds a few dozen at most. */
        topics_config_t *c = realloc(nd->configs, (n + 1) * sizeof(*c));
        if (!c)
                return sb_seterr(SB_ERR_NOMEM, errstr, errstr_size, "out of memory");
        nd->configs = c;
        nd->pub.configs = c;
        char *name_copy = strdup(name), *value_copy = strdup(value);
        if (!name_copy || !value_copy) {
                free(name_copy);
                free(value_copy);
                return sb_seterr(SB_ERR_NOMEM, errstr, errstr_size, "out of memory");
        }
        memmove(&c[at + 1], &c[at], (n - at) * sizeof(*c));
        c[at] = (topics_config_t){.name = name_copy, .value = value_copy, .line = line};
        nd->pub.n_configs = n + 1;
        return SB_OK;
}

static int by_name(const void *a, const void *b) {
        const node_t *x = *(node_t *const *)a, *y = *(node_t *const *)b;
        int c = strcmp(x->pub.name, y->pub.name);
        return c ? c : (x->pub.line > y->pub.line) - (x->pub.line < y->pub.line);
}

int topics_set_sort(topics_set_t *s, const topics_topic_t **first, const topics_topic_t **second) {
        if (s->n > 1)
                qsort(s->nodes, s->n, sizeof(node_t *), by_name);
        for (size_t i = 1; i < s->n; i++)
                if (strcmp(s->nodes[i - 1]->pub.name, s->nodes[i]->pub.name) == 0) {
                        if (first)
                                *first = &s->nodes[i - 1]->pub;
                        if (second)
                                *second = &s->nodes[i]->pub;
                        s->sorted = 0;
                        return -1;
                }
        s->sorted = 1;
        return 0;
}

size_t topics_set_count(const topics_set_t *s) { return s->n; }

const topics_topic_t *topics_set_at(const topics_set_t *s, size_t i) {
        return i < s->n ? &s->nodes[i]->pub : NULL;
}

const topics_topic_t *topics_set_find(const topics_set_t *s, const char *name) {
        if (!s->sorted) {
                for (size_t i = 0; i < s->n; i++)
                        if (strcmp(s->nodes[i]->pub.name, name) == 0)
                                return &s->nodes[i]->pub;
                return NULL;
        }
        size_t lo = 0, hi = s->n;
        while (lo < hi) {
                size_t mid = lo + (hi - lo) / 2;
                int c = strcmp(s->nodes[mid]->pub.name, name);
                if (c == 0)
                        return &s->nodes[mid]->pub;
                if (c < 0)
                        lo = mid + 1;
                else
                        hi = mid;
        }
        return NULL;
}

const char *topics_config_get(const topics_topic_t *t, const char *name) {
        for (size_t i = 0; i < t->n_configs; i++)
                if (strcmp(t->configs[i].name, name) == 0)
                        return t->configs[i].value;
        return NULL;
}

#include "topics/topics_plan.h"

#include <stdlib.h>
#include <string.h>

struct topics_plan_s {
        topics_change_t *changes; /* by topic name; each change's configs owned here */
        size_t n, cap;
        size_t in_sync;
        size_t internal; /* Kafka's own topics on the broker, never touched */
};

/* Kafka's internal topics (__consumer_offsets, __transaction_state, ...). */
static int is_internal(const char *name) { return strncmp(name, "__", 2) == 0; }

static int by_name(const void *a, const void *b) {
        const topics_topic_t *x = *(const topics_topic_t *const *)a, *y = *(const topics_topic_t *const *)b;
        return strcmp(x->name, y->name);
}

/* The topics of `s` by name, in a new array the caller frees (NULL for an
 * empty set, *nomem set when it could not be made). */
static const topics_topic_t **sorted(const topics_set_t *s, size_t *n, int *nomem) {
        *n = topics_set_count(s);
        if (!*n)
                return NULL;
        const topics_topic_t **v = malloc(*n * sizeof(const topics_topic_t *));
        if (!v) {
                *nomem = 1;
                return NULL;
        }
        for (size_t i = 0; i < *n; i++)
                v[i] = topics_set_at(s, i);
        qsort(v, *n, sizeof(const topics_topic_t *), by_name);
        return v;
}

/* The config differences of declared `w` and the broker's `h` (both sorted
 * by name) into a new array *out (NULL when none). */
static sb_err_t diff_configs(const topics_topic_t *w, const topics_topic_t *h, topics_config_diff_t **out,
                             size_t *n_out) {
        *out = NULL;
        *n_out = 0;
        size_t max = w->n_configs + h->n_configs, n = 0, i = 0, j = 0;
        if (!max)
                return SB_OK;
        topics_config_diff_t *d = malloc(max * sizeof(*d));
        if (!d)
                return SB_ERR_NOMEM;
        while (i < w->n_configs || j < h->n_configs) {
                int c = j >= h->n_configs   ? -1
                        : i >= w->n_configs ? 1
                                            : strcmp(w->configs[i].name, h->configs[j].name);
                if (c < 0) {
                        const topics_config_t *a = &w->configs[i];
                        d[n++] = (topics_config_diff_t){
                                .op = TOPICS_CONFIG_ADD, .name = a->name, .to = a->value, .line = a->line};
                        i++;
                } else if (c > 0) {
                        const topics_config_t *b = &h->configs[j];
                        d[n++] = (topics_config_diff_t){
                                .op = TOPICS_CONFIG_RESET, .name = b->name, .from = b->value};
                        j++;
                } else {
                        const topics_config_t *a = &w->configs[i], *b = &h->configs[j];
                        if (strcmp(a->value, b->value) != 0)
                                d[n++] = (topics_config_diff_t){.op = TOPICS_CONFIG_CHANGE,
                                                                .name = a->name,
                                                                .from = b->value,
                                                                .to = a->value,
                                                                .line = a->line};
                        i++;
                        j++;
                }
        }
        if (!n) {
                free(d);
                return SB_OK;
        }
        *out = d;
        *n_out = n;
        return SB_OK;
}

static sb_err_t push(topics_plan_t *p, const topics_change_t *c) {
        if (p->n == p->cap) {
                size_t cap = p->cap ? 2 * p->cap : 32;
                topics_change_t *v = realloc(p->changes, cap * sizeof(*v));
                if (!v)
                        return SB_ERR_NOMEM;
                p->changes = v;
                p->cap = cap;
        }
        p->changes[p->n++] = *c;
        return SB_OK;
}

/* The change of a topic both declared and on the broker, pushed unless
 * the two agree. */
static sb_err_t compare(topics_plan_t *p, const topics_topic_t *w, const topics_topic_t *h,
                        const topics_plan_options_t *opts) {
        topics_change_t c = {.topic = w->name, .want = w, .have = h};
        topics_config_diff_t *configs;
        if (diff_configs(w, h, &configs, &c.n_configs))
                return SB_ERR_NOMEM;
        c.configs = configs;
        c.replication_differs = h->replication_factor > 0 && h->replication_factor != w->replication_factor;
        c.fewer_partitions = w->partitions < h->partitions;
        c.add_partitions = w->partitions > h->partitions;
        if (c.replication_differs || (c.fewer_partitions && !opts->allow_delete))
                c.op = TOPICS_OP_REFUSED;
        else if (c.fewer_partitions)
                c.op = TOPICS_OP_RECREATE;
        else if (c.add_partitions || c.n_configs)
                c.op = TOPICS_OP_UPDATE;
        else {
                p->in_sync++;
                return SB_OK;
        }
        if (push(p, &c)) {
                free(configs);
                return SB_ERR_NOMEM;
        }
        return SB_OK;
}

sb_err_t topics_plan_new(const topics_set_t *want, const topics_set_t *have,
                         const topics_plan_options_t *opts, topics_plan_t **out, char *errstr,
                         size_t errstr_size) {
        static const topics_plan_options_t none = {.allow_delete = 0};
        int nomem = 0;
        size_t nw, nh, i = 0, j = 0;
        if (!opts)
                opts = &none;
        *out = NULL;
        topics_plan_t *p = calloc(1, sizeof(*p));
        const topics_topic_t **w = sorted(want, &nw, &nomem), **h = sorted(have, &nh, &nomem);
        if (!p || nomem)
                goto nomem;
        while (i < nw || j < nh) {
                int c = i >= nw ? 1 : j >= nh ? -1 : strcmp(w[i]->name, h[j]->name);
                if (c == 0) {
                        if (compare(p, w[i++], h[j++], opts))
                                goto nomem;
                } else if (c < 0) {
                        topics_change_t ch = {.op = TOPICS_OP_CREATE, .topic = w[i]->name, .want = w[i]};
                        i++;
                        if (push(p, &ch))
                                goto nomem;
                } else if (is_internal(h[j]->name)) {
                        p->internal++;
                        j++;
                } else {
                        topics_change_t ch = {.op = opts->allow_delete ? TOPICS_OP_DELETE : TOPICS_OP_KEEP,
                                              .topic = h[j]->name,
                                              .have = h[j]};
                        j++;
                        if (push(p, &ch))
                                goto nomem;
                }
        }
        free(w);
        free(h);
        *out = p;
        return SB_OK;
nomem:
        free(w);
        free(h);
        topics_plan_destroy(p);
        return sb_seterr(SB_ERR_NOMEM, errstr, errstr_size, "out of memory");
}

void topics_plan_destroy(topics_plan_t *p) {
        if (!p)
                return;
        for (size_t i = 0; i < p->n; i++)
                free((topics_config_diff_t *)p->changes[i].configs);
        free(p->changes);
        free(p);
}

size_t topics_plan_count(const topics_plan_t *p) { return p->n; }

const topics_change_t *topics_plan_at(const topics_plan_t *p, size_t i) {
        return i < p->n ? &p->changes[i] : NULL;
}

const topics_change_t *topics_plan_find(const topics_plan_t *p, const char *name) {
        size_t lo = 0, hi = p->n;
        while (lo < hi) {
                size_t mid = lo + (hi - lo) / 2;
                int c = strcmp(p->changes[mid].topic, name);
                if (c == 0)
                        return &p->changes[mid];
                if (c < 0)
                        lo = mid + 1;
                else
                        hi = mid;
        }
        return NULL;
}

size_t topics_plan_tally(const topics_plan_t *p, topics_op_t op) {
        size_t n = 0;
        for (size_t i = 0; i < p->n; i++)
                n += p->changes[i].op == op;
        return n;
}

size_t topics_plan_pending(const topics_plan_t *p) {
        return topics_plan_tally(p, TOPICS_OP_CREATE) + topics_plan_tally(p, TOPICS_OP_UPDATE) +
               topics_plan_tally(p, TOPICS_OP_RECREATE) + topics_plan_tally(p, TOPICS_OP_DELETE);
}

size_t topics_plan_in_sync(const topics_plan_t *p) { return p->in_sync; }

int topics_plan_exit_code(const topics_plan_t *p) {
        if (topics_plan_tally(p, TOPICS_OP_REFUSED))
                return TOPICS_EXIT_REFUSED;
        return topics_plan_pending(p) ? TOPICS_EXIT_PENDING : TOPICS_EXIT_IN_SYNC;
}

/* ---- the printed plan ---- */

static void print_configs(const topics_change_t *c, FILE *out) {
        for (size_t k = 0; k < c->n_configs; k++) {
                const topics_config_diff_t *d = &c->configs[k];
                switch (d->op) {
                case TOPICS_CONFIG_ADD: fprintf(out, "      + %s = %s\n", d->name, d->to); break;
                case TOPICS_CONFIG_CHANGE:
                        fprintf(out, "      ~ %s = %s -> %s\n", d->name, d->from, d->to);
                        break;
                case TOPICS_CONFIG_RESET:
                        fprintf(out, "      - %s = %s (not declared: back to the broker's default)\n",
                                d->name, d->from);
                        break;
                }
        }
}

static void print_created_configs(const topics_topic_t *w, FILE *out) {
        for (size_t k = 0; k < w->n_configs; k++)
                fprintf(out, "      + %s = %s\n", w->configs[k].name, w->configs[k].value);
}

static const char *s_of(int n) { return n == 1 ? "" : "s"; }

static void print_change(const topics_change_t *c, FILE *out) {
        const topics_topic_t *w = c->want, *h = c->have;
        switch (c->op) {
        case TOPICS_OP_CREATE:
                fprintf(out, "  + %s: create, %d partition%s, replication factor %d\n", c->topic,
                        w->partitions, s_of(w->partitions), w->replication_factor);
                print_created_configs(w, out);
                break;
        case TOPICS_OP_UPDATE:
                fprintf(out, "  ~ %s: update\n", c->topic);
                if (c->add_partitions)
                        fprintf(out,
                                "      ~ partitions = %d -> %d (new partitions start empty; a key may "
                                "map to another partition from now on)\n",
                                h->partitions, w->partitions);
                print_configs(c, out);
                break;
        case TOPICS_OP_RECREATE:
                fprintf(out,
                        "  -/+ %s: DELETE AND CREATE AGAIN, %d partitions on the broker, %d declared: EVERY "
                        "RECORD OF THE TOPIC IS LOST (--allow-delete)\n",
                        c->topic, h->partitions, w->partitions);
                print_created_configs(w, out);
                break;
        case TOPICS_OP_DELETE:
                fprintf(out,
                        "  - %s: DELETE (on the broker, %d partition%s, not declared): EVERY RECORD OF THE "
                        "TOPIC IS LOST (--allow-delete)\n",
                        c->topic, h->partitions, s_of(h->partitions));
                break;
        case TOPICS_OP_REFUSED:
                fprintf(out, "  ! %s: refused\n", c->topic);
                if (c->replication_differs)
                        fprintf(out,
                                "      ! replication factor = %d on the broker, %d declared: changing it "
                                "takes a partition reassignment (kafka-reassign-partitions), which "
                                "sharebus-topics does not do; declare %d to keep the topic as it is\n",
                                h->replication_factor, w->replication_factor, h->replication_factor);
                if (c->fewer_partitions)
                        fprintf(out,
                                "      ! partitions = %d on the broker, %d declared: Kafka cannot remove "
                                "partitions; --allow-delete deletes the topic and creates it again (its "
                                "records are lost)\n",
                                h->partitions, w->partitions);
                if (c->add_partitions)
                        fprintf(out, "      ~ partitions = %d -> %d\n", h->partitions, w->partitions);
                print_configs(c, out);
                break;
        case TOPICS_OP_KEEP: break; /* summarised after the changes */
        }
}

/* At most this many kept topics are named; the rest are counted. */
#define KEPT_NAMED 20

void topics_plan_print(const topics_plan_t *p, FILE *out) {
        for (size_t i = 0; i < p->n; i++)
                print_change(&p->changes[i], out);
        size_t kept = topics_plan_tally(p, TOPICS_OP_KEEP), named = 0;
        if (kept) {
                fprintf(out, "  kept (on the broker, not declared; --allow-delete deletes them):");
                for (size_t i = 0; i < p->n && named < KEPT_NAMED; i++)
                        if (p->changes[i].op == TOPICS_OP_KEEP)
                                fprintf(out, "%s %s", named++ ? "," : "", p->changes[i].topic);
                if (kept > named)
                        fprintf(out, " and %zu more", kept - named);
                fputc('\n', out);
        }
        size_t refused = topics_plan_tally(p, TOPICS_OP_REFUSED);
        if (!topics_plan_pending(p) && !refused) {
                fprintf(out, "In sync: %zu declared topics as declared on the broker", p->in_sync);
        } else {
                fprintf(out,
                        "Plan: %zu to create, %zu to update, %zu to delete and create again, %zu to delete",
                        topics_plan_tally(p, TOPICS_OP_CREATE), topics_plan_tally(p, TOPICS_OP_UPDATE),
                        topics_plan_tally(p, TOPICS_OP_RECREATE), topics_plan_tally(p, TOPICS_OP_DELETE));
                if (refused)
                        fprintf(out,
                                ", %zu refused (apply changes nothing until the file or the broker is "
                                "fixed)",
                                refused);
                fprintf(out, "; %zu in sync", p->in_sync);
        }
        if (kept)
                fprintf(out, "; %zu undeclared kept", kept);
        if (p->internal)
                fprintf(out, "; %zu internal (__*) left alone", p->internal);
        fprintf(out, ".\n");
}

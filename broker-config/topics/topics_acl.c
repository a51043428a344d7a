#include "topics/topics_acl.h"

#include <stdlib.h>
#include <string.h>

/* ---- names ---- */

static const char *const role_names[] = {"department", "subscriber", "registry", "operator"};

int topics_acl_role_parse(const char *text, topics_role_t *out) {
        for (size_t i = 0; i < sizeof(role_names) / sizeof(*role_names); i++)
                if (strcmp(text, role_names[i]) == 0) {
                        *out = (topics_role_t)i;
                        return 0;
                }
        return -1;
}

const char *topics_acl_role_name(topics_role_t role) {
        return (size_t)role < sizeof(role_names) / sizeof(*role_names) ? role_names[role] : "unknown";
}

int topics_acl_principal_check(const char *name, char *why, size_t why_size) {
        size_t len = strnlen(name, TOPICS_PRINCIPAL_NAME_MAX + 1);
        if (len == 0 || len > TOPICS_PRINCIPAL_NAME_MAX) {
                snprintf(why, why_size, "a principal's name has 1 to %d characters",
                         TOPICS_PRINCIPAL_NAME_MAX);
                return -1;
        }
        if (name[0] < 'a' || name[0] > 'z') {
                snprintf(why, why_size, "principal '%.64s': a name starts with a lower-case letter", name);
                return -1;
        }
        for (const char *p = name; *p; p++)
                if (!((*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') || *p == '_' || *p == '-')) {
                        snprintf(why, why_size,
                                 "principal '%.64s' holds '%c': a name is made of a-z, 0-9, '_' and '-' (no "
                                 "'.', so that a department's prefix \"<name>.\" is its own)",
                                 name, *p);
                        return -1;
                }
        return 0;
}

const char *topics_acl_resource_name(topics_acl_resource_t r) {
        switch (r) {
        case TOPICS_ACL_TOPIC: return "TOPIC";
        case TOPICS_ACL_GROUP: return "GROUP";
        case TOPICS_ACL_CLUSTER: return "CLUSTER";
        case TOPICS_ACL_RESOURCE_UNKNOWN: break;
        }
        return "UNKNOWN";
}

const char *topics_acl_pattern_name(topics_acl_pattern_t p) {
        switch (p) {
        case TOPICS_ACL_LITERAL: return "LITERAL";
        case TOPICS_ACL_PREFIXED: return "PREFIXED";
        case TOPICS_ACL_PATTERN_UNKNOWN: break;
        }
        return "UNKNOWN";
}

const char *topics_acl_op_name(topics_acl_op_t op) {
        static const char *const names[] = {"UNKNOWN",
                                            "ANY",
                                            "ALL",
                                            "READ",
                                            "WRITE",
                                            "CREATE",
                                            "DELETE",
                                            "ALTER",
                                            "DESCRIBE",
                                            "CLUSTER_ACTION",
                                            "DESCRIBE_CONFIGS",
                                            "ALTER_CONFIGS",
                                            "IDEMPOTENT_WRITE"};
        size_t i = (size_t)op;
        if (op < TOPICS_ACL_ALL || i >= sizeof(names) / sizeof(*names))
                return "UNKNOWN";
        return names[i];
}

const char *topics_acl_permission_name(topics_acl_permission_t p) {
        return p == TOPICS_ACL_ALLOW ? "ALLOW" : p == TOPICS_ACL_DENY ? "DENY" : "UNKNOWN";
}

int topics_acl_known(const topics_acl_t *b) {
        return (b->resource == TOPICS_ACL_TOPIC || b->resource == TOPICS_ACL_GROUP ||
                b->resource == TOPICS_ACL_CLUSTER) &&
               (b->pattern == TOPICS_ACL_LITERAL || b->pattern == TOPICS_ACL_PREFIXED) &&
               b->operation >= TOPICS_ACL_ALL && b->operation <= TOPICS_ACL_IDEMPOTENT_WRITE &&
               (b->permission == TOPICS_ACL_ALLOW || b->permission == TOPICS_ACL_DENY);
}

void topics_acl_text(const topics_acl_t *b, char *out, size_t size) {
        char what[400];
        const char *kind = b->resource == TOPICS_ACL_TOPIC ? "topic" : "group";
        if (b->resource == TOPICS_ACL_CLUSTER && b->pattern == TOPICS_ACL_LITERAL &&
            strcmp(b->name, TOPICS_ACL_CLUSTER_NAME) == 0)
                snprintf(what, sizeof(what), "the cluster");
        else if ((b->resource == TOPICS_ACL_TOPIC || b->resource == TOPICS_ACL_GROUP) &&
                 b->pattern == TOPICS_ACL_LITERAL && strcmp(b->name, "*") == 0)
                snprintf(what, sizeof(what), "every %s (\"*\")", kind);
        else if ((b->resource == TOPICS_ACL_TOPIC || b->resource == TOPICS_ACL_GROUP) &&
                 b->pattern == TOPICS_ACL_LITERAL)
                snprintf(what, sizeof(what), "%s \"%.300s\"", kind, b->name);
        else if ((b->resource == TOPICS_ACL_TOPIC || b->resource == TOPICS_ACL_GROUP) &&
                 b->pattern == TOPICS_ACL_PREFIXED)
                snprintf(what, sizeof(what), "%ss prefixed \"%.300s\"", kind, b->name);
        else
                snprintf(what, sizeof(what), "%s %s \"%.300s\"", topics_acl_resource_name(b->resource),
                         topics_acl_pattern_name(b->pattern), b->name);
        char host[300] = "";
        if (strcmp(b->host, "*") != 0)
                snprintf(host, sizeof(host), " from host %.256s", b->host);
        snprintf(out, size, "%.300s: %s%s%s on %s%s", b->principal,
                 b->permission == TOPICS_ACL_ALLOW ? "" : topics_acl_permission_name(b->permission),
                 b->permission == TOPICS_ACL_ALLOW ? "" : " ", topics_acl_op_name(b->operation), what, host);
}

/* ---- the set ---- */

struct topics_acl_set_s {
        topics_acl_t *v; /* strings owned */
        size_t n, cap;
        int settled; /* sorted, no binding twice */
};

sb_err_t topics_acl_set_new(topics_acl_set_t **out, char *errstr, size_t errstr_size) {
        *out = calloc(1, sizeof(**out));
        return *out ? SB_OK : sb_seterr(SB_ERR_NOMEM, errstr, errstr_size, "out of memory");
}

static void binding_free(topics_acl_t *b) {
        free((char *)b->name);
        free((char *)b->principal);
        free((char *)b->host);
}

void topics_acl_set_destroy(topics_acl_set_t *s) {
        if (!s)
                return;
        for (size_t i = 0; i < s->n; i++)
                binding_free(&s->v[i]);
        free(s->v);
        free(s);
}

/* The order of a set, the line aside. */
static int compare(const topics_acl_t *x, const topics_acl_t *y) {
        int c = strcmp(x->principal, y->principal);
        if (!c)
                c = (int)x->resource - (int)y->resource;
        if (!c)
                c = (int)x->pattern - (int)y->pattern;
        if (!c)
                c = strcmp(x->name, y->name);
        if (!c)
                c = (int)x->operation - (int)y->operation;
        if (!c)
                c = (int)x->permission - (int)y->permission;
        if (!c)
                c = strcmp(x->host, y->host);
        return c;
}

static int by_binding_then_line(const void *a, const void *b) {
        const topics_acl_t *x = a, *y = b;
        int c = compare(x, y);
        return c ? c : (x->line > y->line) - (x->line < y->line);
}

/* Sorts and drops the bindings held twice (the lower line kept), on the
 * first look after a change: adding stays cheap for a broker's thousands. */
static void settle(const topics_acl_set_t *cs) {
        topics_acl_set_t *s = (topics_acl_set_t *)cs; /* the contents, not the meaning, change */
        if (s->settled)
                return;
        if (s->n > 1)
                qsort(s->v, s->n, sizeof(*s->v), by_binding_then_line);
        size_t kept = 0;
        for (size_t i = 0; i < s->n; i++) {
                if (kept && compare(&s->v[kept - 1], &s->v[i]) == 0) {
                        binding_free(&s->v[i]);
                        continue;
                }
                s->v[kept++] = s->v[i];
        }
        s->n = kept;
        s->settled = 1;
}

sb_err_t topics_acl_set_add(topics_acl_set_t *s, const topics_acl_t *b, char *errstr, size_t errstr_size) {
        if (!b->name || !b->principal || !b->host)
                return sb_seterr(SB_ERR_INVALID, errstr, errstr_size,
                                 "an ACL binding needs a resource name, a principal and a host");
        if (s->n >= TOPICS_ACL_SET_MAX) {
                settle(s);
                if (s->n >= TOPICS_ACL_SET_MAX && topics_acl_set_has(s, b))
                        return SB_OK; /* a twin, which would go at the next settle */
                if (s->n >= TOPICS_ACL_SET_MAX)
                        return sb_seterr(SB_ERR_INVALID, errstr, errstr_size, "more than %d ACL bindings",
                                         TOPICS_ACL_SET_MAX);
        }
        if (s->n == s->cap) {
                size_t cap = s->cap ? 2 * s->cap : 64;
                topics_acl_t *v = realloc(s->v, cap * sizeof(*v));
                if (!v)
                        return sb_seterr(SB_ERR_NOMEM, errstr, errstr_size, "out of memory");
                s->v = v;
                s->cap = cap;
        }
        topics_acl_t c = *b;
        c.name = strdup(b->name);
        c.principal = strdup(b->principal);
        c.host = strdup(b->host);
        if (!c.name || !c.principal || !c.host) {
                binding_free(&c);
                return sb_seterr(SB_ERR_NOMEM, errstr, errstr_size, "out of memory");
        }
        s->v[s->n++] = c;
        s->settled = 0;
        return SB_OK;
}

size_t topics_acl_set_count(const topics_acl_set_t *s) {
        settle(s);
        return s->n;
}

const topics_acl_t *topics_acl_set_at(const topics_acl_set_t *s, size_t i) {
        settle(s);
        return i < s->n ? &s->v[i] : NULL;
}

int topics_acl_set_has(const topics_acl_set_t *s, const topics_acl_t *b) {
        settle(s);
        size_t lo = 0, hi = s->n;
        while (lo < hi) {
                size_t mid = lo + (hi - lo) / 2;
                int c = compare(&s->v[mid], b);
                if (c == 0)
                        return 1;
                if (c < 0)
                        lo = mid + 1;
                else
                        hi = mid;
        }
        return 0;
}

/* ---- what each role needs ---- */

typedef struct {
        topics_acl_set_t *s;
        const char *principal;
        int line;
        char *errstr;
        size_t errstr_size;
        sb_err_t err; /* the first failure; the later adds do nothing */
} deriver_t;

static void grant(deriver_t *d, topics_acl_resource_t resource, topics_acl_pattern_t pattern,
                  const char *name, topics_acl_op_t op) {
        if (d->err)
                return;
        topics_acl_t b = {.resource = resource,
                          .name = name,
                          .pattern = pattern,
                          .principal = d->principal,
                          .host = "*",
                          .operation = op,
                          .permission = TOPICS_ACL_ALLOW,
                          .line = d->line};
        d->err = topics_acl_set_add(d->s, &b, d->errstr, d->errstr_size);
}

sb_err_t topics_acl_derive(topics_acl_set_t *s, const char *name, topics_role_t role,
                           const char *const *reads, size_t n_reads, int line, char *errstr,
                           size_t errstr_size) {
        char why[256], principal[TOPICS_PRINCIPAL_NAME_MAX + 8], a[TOPICS_PRINCIPAL_NAME_MAX + 32],
                b[TOPICS_PRINCIPAL_NAME_MAX + 32];
        if (topics_acl_principal_check(name, why, sizeof(why)))
                return sb_seterr(SB_ERR_INVALID, errstr, errstr_size, "%s", why);
        snprintf(principal, sizeof(principal), "User:%s", name);
        deriver_t d = {s, principal, line, errstr, errstr_size, SB_OK};
        switch (role) {
        case TOPICS_ROLE_DEPARTMENT:
                snprintf(a, sizeof(a), "%s.", name);
                grant(&d, TOPICS_ACL_TOPIC, TOPICS_ACL_PREFIXED, a, TOPICS_ACL_WRITE);
                grant(&d, TOPICS_ACL_TOPIC, TOPICS_ACL_PREFIXED, a, TOPICS_ACL_DESCRIBE);
                snprintf(b, sizeof(b), "rejects.%s", name);
                grant(&d, TOPICS_ACL_TOPIC, TOPICS_ACL_LITERAL, b, TOPICS_ACL_WRITE);
                grant(&d, TOPICS_ACL_TOPIC, TOPICS_ACL_LITERAL, b, TOPICS_ACL_READ);
                grant(&d, TOPICS_ACL_TOPIC, TOPICS_ACL_LITERAL, b, TOPICS_ACL_DESCRIBE);
                /* producers/rejects.c: --list-rejects reads with this group (and commits nothing). */
                grant(&d, TOPICS_ACL_GROUP, TOPICS_ACL_LITERAL, "sharebus-rejects-list", TOPICS_ACL_READ);
                grant(&d, TOPICS_ACL_CLUSTER, TOPICS_ACL_LITERAL, TOPICS_ACL_CLUSTER_NAME,
                      TOPICS_ACL_IDEMPOTENT_WRITE);
                break;
        case TOPICS_ROLE_SUBSCRIBER:
                for (size_t i = 0; i < n_reads; i++) {
                        grant(&d, TOPICS_ACL_TOPIC, TOPICS_ACL_LITERAL, reads[i], TOPICS_ACL_READ);
                        grant(&d, TOPICS_ACL_TOPIC, TOPICS_ACL_LITERAL, reads[i], TOPICS_ACL_DESCRIBE);
                }
                snprintf(a, sizeof(a), "dlq.%s", name);
                grant(&d, TOPICS_ACL_TOPIC, TOPICS_ACL_LITERAL, a, TOPICS_ACL_WRITE);
                grant(&d, TOPICS_ACL_TOPIC, TOPICS_ACL_LITERAL, a, TOPICS_ACL_READ);
                grant(&d, TOPICS_ACL_TOPIC, TOPICS_ACL_LITERAL, a, TOPICS_ACL_DESCRIBE);
                snprintf(a, sizeof(a), "sharebus.%s", name);
                grant(&d, TOPICS_ACL_GROUP, TOPICS_ACL_LITERAL, a, TOPICS_ACL_READ);
                snprintf(b, sizeof(b), "sharebus.%s.replay", name);
                grant(&d, TOPICS_ACL_GROUP, TOPICS_ACL_LITERAL, b, TOPICS_ACL_READ);
                /* consumers/dead_letter.c: the dead-letter producer is idempotent. */
                grant(&d, TOPICS_ACL_CLUSTER, TOPICS_ACL_LITERAL, TOPICS_ACL_CLUSTER_NAME,
                      TOPICS_ACL_IDEMPOTENT_WRITE);
                break;
        case TOPICS_ROLE_REGISTRY:
                grant(&d, TOPICS_ACL_TOPIC, TOPICS_ACL_LITERAL, "_sharebus_schemas", TOPICS_ACL_READ);
                grant(&d, TOPICS_ACL_TOPIC, TOPICS_ACL_LITERAL, "_sharebus_schemas", TOPICS_ACL_WRITE);
                grant(&d, TOPICS_ACL_TOPIC, TOPICS_ACL_LITERAL, "_sharebus_schemas", TOPICS_ACL_DESCRIBE);
                /* schemas/registry/regd_cmdlog.c ensure_topic: CreateTopics if missing. */
                grant(&d, TOPICS_ACL_TOPIC, TOPICS_ACL_LITERAL, "_sharebus_schemas", TOPICS_ACL_CREATE);
                grant(&d, TOPICS_ACL_GROUP, TOPICS_ACL_PREFIXED, "sharebus-registry-", TOPICS_ACL_READ);
                grant(&d, TOPICS_ACL_CLUSTER, TOPICS_ACL_LITERAL, TOPICS_ACL_CLUSTER_NAME,
                      TOPICS_ACL_IDEMPOTENT_WRITE);
                break;
        case TOPICS_ROLE_OPERATOR:
                /* consumers/lag/lag_sampler.c: metadata and ListOffsets of every
                 * topic, Fetch of one record for its time; OffsetFetch of every
                 * group; ListGroups. */
                grant(&d, TOPICS_ACL_TOPIC, TOPICS_ACL_LITERAL, "*", TOPICS_ACL_DESCRIBE);
                grant(&d, TOPICS_ACL_TOPIC, TOPICS_ACL_LITERAL, "*", TOPICS_ACL_READ);
                grant(&d, TOPICS_ACL_GROUP, TOPICS_ACL_LITERAL, "*", TOPICS_ACL_DESCRIBE);
                grant(&d, TOPICS_ACL_CLUSTER, TOPICS_ACL_LITERAL, TOPICS_ACL_CLUSTER_NAME,
                      TOPICS_ACL_DESCRIBE);
                break;
        default: return sb_seterr(SB_ERR_INVALID, errstr, errstr_size, "principal %s: unknown role", name);
        }
        return d.err;
}

/* ---- the plan ---- */

struct topics_acl_plan_s {
        const topics_acl_t **adds, **deletes, **kept; /* into the two sets */
        size_t n_adds, n_deletes, n_kept, in_sync;
};

sb_err_t topics_acl_plan_new(const topics_acl_set_t *want, const topics_acl_set_t *have,
                             topics_acl_plan_t **out, char *errstr, size_t errstr_size) {
        size_t nw = topics_acl_set_count(want), nh = topics_acl_set_count(have), i = 0, j = 0;
        *out = NULL;
        topics_acl_plan_t *p = calloc(1, sizeof(*p));
        if (!p || !(p->adds = malloc((nw + 1) * sizeof(const topics_acl_t *))) ||
            !(p->deletes = malloc((nh + 1) * sizeof(const topics_acl_t *))) ||
            !(p->kept = malloc((nh + 1) * sizeof(const topics_acl_t *)))) {
                topics_acl_plan_destroy(p);
                return sb_seterr(SB_ERR_NOMEM, errstr, errstr_size, "out of memory");
        }
        while (i < nw || j < nh) {
                const topics_acl_t *w = topics_acl_set_at(want, i), *h = topics_acl_set_at(have, j);
                int c = !h ? -1 : !w ? 1 : compare(w, h);
                if (c == 0) {
                        p->in_sync++;
                        i++;
                        j++;
                } else if (c < 0) {
                        p->adds[p->n_adds++] = w;
                        i++;
                } else {
                        if (topics_acl_known(h))
                                p->deletes[p->n_deletes++] = h;
                        else
                                p->kept[p->n_kept++] = h;
                        j++;
                }
        }
        *out = p;
        return SB_OK;
}

void topics_acl_plan_destroy(topics_acl_plan_t *p) {
        if (!p)
                return;
        free(p->adds);
        free(p->deletes);
        free(p->kept);
        free(p);
}

size_t topics_acl_plan_adds(const topics_acl_plan_t *p) { return p->n_adds; }
const topics_acl_t *topics_acl_plan_add_at(const topics_acl_plan_t *p, size_t i) {
        return i < p->n_adds ? p->adds[i] : NULL;
}
size_t topics_acl_plan_deletes(const topics_acl_plan_t *p) { return p->n_deletes; }
const topics_acl_t *topics_acl_plan_delete_at(const topics_acl_plan_t *p, size_t i) {
        return i < p->n_deletes ? p->deletes[i] : NULL;
}
size_t topics_acl_plan_kept(const topics_acl_plan_t *p) { return p->n_kept; }
const topics_acl_t *topics_acl_plan_kept_at(const topics_acl_plan_t *p, size_t i) {
        return i < p->n_kept ? p->kept[i] : NULL;
}
size_t topics_acl_plan_in_sync(const topics_acl_plan_t *p) { return p->in_sync; }
size_t topics_acl_plan_pending(const topics_acl_plan_t *p) { return p->n_adds + p->n_deletes; }

void topics_acl_plan_print(const topics_acl_plan_t *p, FILE *out) {
        char text[1200];
        for (size_t i = 0; i < p->n_adds; i++) {
                topics_acl_text(p->adds[i], text, sizeof(text));
                fprintf(out, "  + acl %s\n", text);
        }
        for (size_t i = 0; i < p->n_deletes; i++) {
                topics_acl_text(p->deletes[i], text, sizeof(text));
                fprintf(out, "  - acl %s (on the broker, not derived from the file: deleted)\n", text);
        }
        for (size_t i = 0; i < p->n_kept; i++) {
                topics_acl_text(p->kept[i], text, sizeof(text));
                fprintf(out,
                        "  ! acl %s: not derived from the file, but of a kind librdkafka cannot name: kept "
                        "(delete it with kafka-acls.sh --remove)\n",
                        text);
        }
        if (!p->n_adds && !p->n_deletes)
                fprintf(out, "ACLs in sync: %zu bindings as derived from the principals", p->in_sync);
        else
                fprintf(out,
                        "ACLs: %zu to add, %zu to delete (the file is the whole truth: a binding it does not "
                        "derive is deleted); %zu in sync",
                        p->n_adds, p->n_deletes, p->in_sync);
        if (p->n_kept)
                fprintf(out, "; %zu that cannot be deleted kept", p->n_kept);
        fprintf(out, ".\n");
}

/*
 * topics_plan: the difference between the topics a file declares and the
 * topics a broker holds, as the list of changes `sharebus-topics apply`
 * would make, and its printed form (`sharebus-topics plan`).
 *
 * Pure: two topics_set_t in, a plan out; no broker, so every rule is tested
 * from data (tests/unit/test_topics_plan.c).  The rules:
 * - a declared topic the broker lacks is created;
 * - more partitions declared than the broker has: partitions are added;
 *   fewer: refused (Kafka cannot remove partitions), or with allow_delete
 *   the topic is deleted and created again, its records lost;
 * - configs: the declared set is the whole set of the topic's own
 *   (dynamic) configs: one declared and absent or different is set, one on
 *   the broker and not declared is reset to the broker's default;
 * - a replication factor that differs is refused, allow_delete or not:
 *   it takes a partition reassignment, which this tool does not do;
 * - a topic on the broker that is not declared is kept (so that a file
 *   declaring a part of the topics is safe to apply), or with allow_delete
 *   deleted; Kafka's internal topics (`__*`) are never touched.
 * A plan holding a refused change is not applied at all.
 */
#ifndef SB_TOPICS_PLAN_H
#define SB_TOPICS_PLAN_H

#include <stddef.h>
#include <stdio.h>

#include "sb_error.h"
#include "topics/topics_set.h"

/* Exit codes of sharebus-topics (part of its interface: never renumber). */
#define TOPICS_EXIT_IN_SYNC 0 /* plan: nothing to change; apply: done (or nothing to do) */
#define TOPICS_EXIT_RUNTIME 1 /* the broker did not answer or refused a request */
#define TOPICS_EXIT_USAGE 2   /* bad command line or configuration file */
#define TOPICS_EXIT_PENDING 3 /* plan: changes pending */
#define TOPICS_EXIT_REFUSED 4 /* plan or apply: a change that is refused (apply changed nothing) */

typedef enum {
        TOPICS_CONFIG_ADD,    /* declared, not set on the broker (its default applies there) */
        TOPICS_CONFIG_CHANGE, /* declared with another value than the broker's */
        TOPICS_CONFIG_RESET,  /* set on the broker, not declared: back to the broker's default */
} topics_config_op_t;

typedef struct {
        topics_config_op_t op;
        const char *name;
        const char *from; /* the broker's value, NULL for ADD */
        const char *to;   /* the declared value, NULL for RESET */
        int line;         /* of the declaration, 0 for RESET */
} topics_config_diff_t;

typedef enum {
        TOPICS_OP_CREATE,   /* declared, not on the broker */
        TOPICS_OP_UPDATE,   /* partitions to add and/or configs to set */
        TOPICS_OP_RECREATE, /* fewer partitions declared, allow_delete: delete, then create */
        TOPICS_OP_DELETE,   /* on the broker, not declared, allow_delete */
        TOPICS_OP_KEEP,     /* on the broker, not declared: left alone (not a change) */
        TOPICS_OP_REFUSED,  /* a difference apply will not make (see the flags) */
} topics_op_t;

typedef struct {
        topics_op_t op;
        const char *topic;
        const topics_topic_t *want;          /* the declaration; NULL for DELETE and KEEP */
        const topics_topic_t *have;          /* the broker's; NULL for CREATE */
        int add_partitions;                  /* UPDATE: from have->partitions to want->partitions */
        int fewer_partitions;                /* REFUSED or RECREATE because of it */
        int replication_differs;             /* REFUSED because of it */
        const topics_config_diff_t *configs; /* UPDATE (and REFUSED: what else differs) */
        size_t n_configs;
} topics_change_t;

typedef struct {
        int allow_delete; /* --allow-delete */
} topics_plan_options_t;

typedef struct topics_plan_s topics_plan_t;

/* Compares `want` (the declaration) with `have` (the broker).  Both are
 * borrowed and must outlive the plan, whose changes point into them.
 * *out is a new plan the caller destroys.  SB_ERR_NOMEM. */
sb_err_t topics_plan_new(const topics_set_t *want, const topics_set_t *have,
                         const topics_plan_options_t *opts, topics_plan_t **out, char *errstr,
                         size_t errstr_size);
void topics_plan_destroy(topics_plan_t *p);

/* The changes, one per topic that differs (KEEP included), by name. */
size_t topics_plan_count(const topics_plan_t *p);
const topics_change_t *topics_plan_at(const topics_plan_t *p, size_t i);
/* The change of topic `name`, NULL if it is in sync (or ignored). */
const topics_change_t *topics_plan_find(const topics_plan_t *p, const char *name);
/* How many changes of kind `op`. */
size_t topics_plan_tally(const topics_plan_t *p, topics_op_t op);
/* Changes apply would make: CREATE, UPDATE, RECREATE and DELETE. */
size_t topics_plan_pending(const topics_plan_t *p);
/* Declared topics the broker holds as declared. */
size_t topics_plan_in_sync(const topics_plan_t *p);
/* TOPICS_EXIT_REFUSED if a change is refused, else TOPICS_EXIT_PENDING if
 * one is pending, else TOPICS_EXIT_IN_SYNC. */
int topics_plan_exit_code(const topics_plan_t *p);

/* Writes the plan for people, terraform-like: one line per topic with its
 * sign (+ create, ~ update, -/+ recreate, - delete, ! refused), the
 * partitions and configs that change under it, the undeclared topics kept,
 * and a summary line. */
void topics_plan_print(const topics_plan_t *p, FILE *out);

#endif

/*
 * subscriber_apply: the subscriber's decode/check/apply path of one record,
 * for the other modules of consumers/ (dlq_replay) that must apply a record
 * exactly as the live subscriber does.  Internal to consumers/: not a
 * stable interface.
 *
 * An applier is an sb_subscriber_t without Kafka clients: it holds the
 * caches (tables ensured, rules compiled) of the records it applied.  The
 * caller owns the target's transaction (begin, commit, rollback) and calls
 * sb_subscriber_rolled_back after a rollback, as the DDL of the rolled-back
 * transaction is gone.
 */
#ifndef SB_SUBSCRIBER_APPLY_H
#define SB_SUBSCRIBER_APPLY_H

#include <stddef.h>
#include <stdint.h>

#include "dead_letter.h"
#include "subscriber.h"

/* One record as read from its topic; every pointer is borrowed for the call.
 * key NULL: no key; value NULL: a tombstone. */
typedef struct {
        const char *topic;
        int32_t partition;
        int64_t offset;
        const void *key;
        size_t key_len;
        const void *value;
        size_t value_len;
} sb_apply_record_t;

/* What the records applied did, added to by each call. */
typedef struct {
        uint64_t applied, deleted, tombstones, dead_lettered;
        uint64_t filtered; /* events the transforms keep out (an op not taken, a row outside the filter) */
        uint64_t already;  /* events with a receipt already: not applied again */
} sb_apply_counts_t;

/* An applier into *out (destroy it with sb_subscriber_destroy): conf's name
 * (offset group sharebus.<name>) and receipts are used; conf's strings,
 * target, registry and log are borrowed and must outlive it.  SB_ERR_NOMEM. */
sb_err_t sb_subscriber_applier_new(const sb_subscriber_conf_t *conf, sb_target_t *target,
                                   sb_registry_client_t *registry, sb_log_t *log, sb_subscriber_t **out,
                                   char *errstr, size_t errstr_size);

/* Decodes `rec`, checks its rules and applies it to the target in the
 * caller's transaction, with a receipt when conf.receipts is set, unless
 * the event has a receipt already (counts->already: applied once, so not
 * again).  SB_ERR_INVALID when it can never be applied, with *cls the stage
 * that refused it; SB_ERR_REGISTRY, SB_ERR_DB or SB_ERR_NOMEM when it could
 * not be tried now (the transaction must then be rolled back). */
sb_err_t sb_subscriber_apply_once(sb_subscriber_t *sub, const sb_apply_record_t *rec,
                                  sb_apply_counts_t *counts, sb_dl_class_t *cls, char *errstr,
                                  size_t errstr_size);

/* Forgets what the rolled-back transaction created (tables ensured). */
void sb_subscriber_rolled_back(sb_subscriber_t *sub);

#endif

/*
 * regd_cmdlog: the registry's state kept in Kafka, with any number of
 * instances, every one of them accepting writes, and no leader.
 *
 * Every change (a command, regd_submit.h) is appended to the
 * single-partition topic `_sharebus_schemas`, keyed by a random op id.  Each
 * instance reads the topic from the beginning and applies every record, in
 * the topic's order, to its in-memory store with regd_store_apply(),
 * which is deterministic: the same records in the same order give the same
 * ids and versions on every instance.  The single partition is the one
 * order everybody agrees on; that agreement is what a leader would provide.
 *
 * A submitting instance produces its command (idempotent, acks=all), then
 * waits until its own reader reaches that record and answers with the
 * result of applying it there.  Two instances registering the same schema
 * at once both get the id of whichever record came first; different
 * schemas get consecutive ids in log order.
 *
 * Compaction: the topic is created compacted, but every record has its own
 * key, so compaction never removes a record: replay from the start always
 * sees every command and rebuilds the same state (ids survive compaction
 * and restarts).  No tombstones are ever written.
 */
#ifndef REGD_CMDLOG_H
#define REGD_CMDLOG_H

#include "regd_store.h"
#include "regd_submit.h"
#include "sb_config.h"
#include "sb_log.h"

typedef struct regd_cmdlog_s regd_cmdlog_t;

/* Creates `topic` if it does not exist (1 partition, compacted,
 * `replication_factor`), reads it from the beginning into `store`
 * (borrowed) until caught up with its end, then keeps applying new records
 * in a thread of its own.  `cfg` supplies the kafka passthrough (borrowed
 * for the call).  Fails after `timeout_ms` if Kafka does not answer. */
sb_err_t regd_cmdlog_new(regd_store_t *store, const sb_config_t *cfg, const char *topic,
                         int replication_factor, int timeout_ms, sb_log_t *log, regd_cmdlog_t **out,
                         char *errstr, size_t errstr_size);
void regd_cmdlog_destroy(regd_cmdlog_t *rl);

/* The submitter that appends to the log (valid while `rl` lives). */
regd_submitter_t regd_cmdlog_submitter(regd_cmdlog_t *rl);

/* Offset of the last record applied, -1 if none (for tests and metrics). */
int64_t regd_cmdlog_applied_offset(regd_cmdlog_t *rl);

#endif

/*
 * regd_submit: how the HTTP layer changes the registry's state.
 *
 * Every change is a command: a JSON object with a "type" (REGISTER,
 * DELETE_SUBJECT, DELETE_VERSION, CONFIG, MODE; see regd_store.h) that
 * regd_store_apply() applies deterministically.  Submitting a command
 * applies it in the one order all instances agree on and hands back the
 * result this instance computed when it applied it:
 *   - in memory mode (no Kafka) the command is applied at once, under the
 *     store's lock;
 *   - with Kafka (regd_cmdlog.h) it is appended to the single-partition
 *     topic `_sharebus_schemas`, and the result is that of applying the
 *     record when this instance's reader of the topic reaches it.
 *
 * submit() returns SB_OK when the command was applied, whatever its result
 * (which may itself be a refusal, e.g. {"error_code":40901,...}); any other
 * code means it could not be applied (Kafka unreachable: HTTP 500).
 * *result is a new JSON object the caller releases.
 */
#ifndef REGD_SUBMIT_H
#define REGD_SUBMIT_H

#include <jansson.h>

#include "sb_error.h"

typedef struct {
        sb_err_t (*submit)(void *opaque, const json_t *command, json_t **result, char *errstr,
                           size_t errstr_size);
        void *opaque;
} regd_submitter_t;

#endif

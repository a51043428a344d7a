/*
 * tf_chain: how a subscriber shapes the rows it applies: per dataset, a
 * chain of transform steps compiled once from the config (the `datasets`
 * setting), then bound to each schema the dataset's events come with.
 *
 *   datasets = (
 *     { topic = "civil.resident"; table = "resident";
 *       clear = ["name"];              # personal fields kept in clear
 *       steps = (
 *         { filter = "district_code"; prefix = "3701"; },
 *         { mask = "phone"; keep_first = 3; keep_last = 4; },
 *         { hash = "id_number"; },
 *         { rename = "name"; to = "full_name"; },
 *         { drop = "married"; },
 *         { constant = "source_department"; value = "civil"; },
 *         { ops = ["c", "u", "r"]; }
 *       ); }
 *   );
 *
 * Steps run in order, each naming fields as the steps before left them.
 * After them, a field the registry classifies `personal` or `sensitive`
 * that no step or `clear` entry decided about gets the subscriber's
 * personal_policy: "mask" (the default: strings masked whole, key fields
 * hashed, other types redacted to NULL), "hash" (hashed where it can be,
 * else redacted) or "clear" (kept).  Hashing needs hash_key_file.  Every
 * topic gets a chain: one the config does not name has no steps, only the
 * policy.  The column list a binding ends with is given to the target as
 * an Avro record whose fields carry "sharebus.source" (the published
 * field) and "sharebus.policy" (clear, masked, hashed, redacted, constant).
 */
#ifndef TF_CHAIN_H
#define TF_CHAIN_H

#include <jansson.h>
#include <stddef.h>

#include "sb_config.h"
#include "sb_error.h"
#include "sb_schema.h"

/* One event as the steps see it: the decoded event's own values, changed in
 * place.  after is NULL for a delete, before when the event has none. */
typedef struct {
        char op; /* c, u, d or r */
        json_t *after, *before, *key;
} tf_event_t;

typedef enum {
        TF_KEEP = 0, /* go on with the next step */
        TF_SKIP = 1, /* not for this subscriber (an op it does not take) */
        TF_OUT = 2,  /* the row is outside the subscriber's filter */
        TF_NOMEM = -1,
} tf_verdict_t;

typedef struct tf_config_s tf_config_t;
typedef struct tf_chain_s tf_chain_t;

/* The chains of every dataset, parsed from cfg's `datasets`,
 * `personal_policy` and `hash_key_file` (read now) into *out, destroyed with
 * tf_config_destroy; cfg is borrowed and must outlive it.  A dataset whose
 * topic is not in `topics`, a step of an unknown kind or of a bad shape is
 * SB_ERR_CONFIG naming the file and line; SB_ERR_NOMEM. */
sb_err_t tf_config_new(const sb_config_t *cfg, tf_config_t **out, char *errstr, size_t errstr_size);
void tf_config_destroy(tf_config_t *tc);

/* The table configured for `topic` (owned by tc), or NULL for the target's
 * own name for it. */
const char *tf_config_table(const tf_config_t *tc, const char *topic);

/* Binds topic's chain to its key record and the row record of its
 * envelope (both borrowed for the call) into *out, destroyed with
 * tf_chain_destroy.  SB_ERR_INVALID when the schema does not allow a step
 * (a field it does not have, a type the step is not for), errstr naming the
 * step's config line; SB_ERR_NOMEM. */
sb_err_t tf_chain_bind(const tf_config_t *tc, const char *topic, const sb_node_t *key, const sb_node_t *row,
                       tf_chain_t **out, char *errstr, size_t errstr_size);
/* The key and row records of the target's table (owned by the chain). */
const sb_node_t *tf_chain_key(const tf_chain_t *ch);
const sb_node_t *tf_chain_row(const tf_chain_t *ch);
/* 1 if applying the chain changes nothing (no steps, no policy): the
 * event's values can go to the target as decoded. */
int tf_chain_is_identity(const tf_chain_t *ch);
/* Runs the steps over `ev` in place: TF_SKIP or TF_NOMEM ends it at once;
 * after a TF_OUT the steps after it still run (the key of the row to remove
 * must be as the table has it) and TF_OUT is the verdict. */
tf_verdict_t tf_chain_apply(const tf_chain_t *ch, tf_event_t *ev);
void tf_chain_destroy(tf_chain_t *ch);

#endif

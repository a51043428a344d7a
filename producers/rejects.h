/*
 * rejects: what the producer does with a record it cannot publish (not a
 * change line, does not fit the dataset's schema, breaks a rule of the
 * registry): the record never reaches the dataset topic; it is kept in
 * `rejects.<department>`, keyed by the dataset topic, with headers that
 * say where it came from and why:
 *
 *   sharebus.dataset     the dataset topic, e.g. market.business_license
 *   sharebus.department  the department
 *   sharebus.source      where in the source ("changes.jsonl:12", "outbox seq 42")
 *   sharebus.position    the source position (decimal)
 *   sharebus.reason      the whole reason, as the producer logs it
 *   sharebus.field       the field it names ("after.uscc"), when it names one
 *   sharebus.rule        the check that failed: change_line (not a valid change
 *                        line), schema (does not fit), or the rule (required,
 *                        minimum, maximum, length, pattern, enum, cn_uscc,
 *                        cn_resident_id, type)
 *
 * The value is the change line with the value of every personal or
 * sensitive field (sharebus.classification in the schema) of key, before
 * and after replaced by "(personal)" or "(sensitive)", and a key, before
 * or after that is no object replaced whole, so a reject never spreads
 * what the rules protect; a record that is not a JSON object is not kept at all
 * (it may hold anything): its value is empty and `sharebus.value.omitted`
 * says why.  Reasons never hold values of personal fields (sb_rules).
 */
#ifndef SB_PRODUCERS_REJECTS_H
#define SB_PRODUCERS_REJECTS_H

#include <librdkafka/rdkafka.h>
#include <stdint.h>
#include <stdio.h>

#include "sb_buf.h"
#include "sb_config.h"
#include "sb_error.h"
#include "sb_log.h"
#include "sb_schema.h"

typedef struct {
        const char *dataset_topic; /* borrowed, all of them */
        const char *department;
        const char *where;
        uint64_t position;
        const char *reason;
} rejects_record_t;

/* Sets *headers to new headers for `r` (the caller gives them to
 * librdkafka or destroys them) and fills `value` (reset first) with the
 * masked change line `text` (`len` bytes), empty when it is not a JSON
 * object.  `key_record` and `row_record` give the fields' classes. */
sb_err_t rejects_build(const rejects_record_t *r, const char *text, size_t len, const sb_node_t *key_record,
                       const sb_node_t *row_record, rd_kafka_headers_t **headers, sb_buf_t *value,
                       char *errstr, size_t errstr_size);

/* The check a reason names (see above); static text. */
const char *rejects_rule(const char *reason);
/* Copies the field a reason names ("after.uscc") into field[size]; "" when
 * it names none. */
void rejects_field(const char *reason, char *field, size_t size);

/* `sharebus-producer --rejects`: prints the rejects of `topic` from its
 * beginning to its end, one line each (time, dataset, source, field, rule,
 * reason), then a count.  Kafka settings from cfg. */
sb_err_t rejects_list(const sb_config_t *cfg, const char *topic, FILE *out, sb_log_t *log, size_t *count,
                      char *errstr, size_t errstr_size);

#endif

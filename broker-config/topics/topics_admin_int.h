/*
 * topics_admin_int: what the two halves of topics_admin share, the
 * topics (topics_admin.c) and the ACLs (topics_admin_acl.c): the handle's
 * insides and the request helpers.  Not for other modules.
 */
#ifndef SB_TOPICS_ADMIN_INT_H
#define SB_TOPICS_ADMIN_INT_H

#include <librdkafka/rdkafka.h>

#include "sb_kafka.h"
#include "topics/topics_admin.h"

/* Resources (topics, ACL bindings) one Admin request carries: a file of
 * thousands is sent in a few requests rather than one of unbounded size. */
#define TOPICS_ADMIN_BATCH 200

struct topics_admin_s {
        rd_kafka_t *rk;
        rd_kafka_queue_t *q; /* the results of this handle's requests, one at a time */
        sb_kafka_opaque_t opaque;
        sb_log_t *log;
        int timeout_ms;
        char bootstrap[1024];
};

/* Options of one request of kind `op` (validate_only if `validate`): the
 * broker is given as long to do the work (operation timeout, where the
 * request has one) as the client waits for the answer.  NULL (logged) if
 * librdkafka refuses them.  The caller destroys them. */
rd_kafka_AdminOptions_t *topics_admin_options(topics_admin_t *a, rd_kafka_admin_op_t op, int validate);

/* The result of the request just sent, of event type `type`; NULL with
 * errstr set ("<what> at <bootstrap>: ...") when it did not come or failed
 * as a whole.  *code (may be NULL) gets the request's error code
 * (RD_KAFKA_RESP_ERR__TIMED_OUT when nothing came).  The caller destroys
 * the event. */
rd_kafka_event_t *topics_admin_result(topics_admin_t *a, rd_kafka_event_type_t type, const char *what,
                                      rd_kafka_resp_err_t *code, char *errstr, size_t errstr_size);

#endif

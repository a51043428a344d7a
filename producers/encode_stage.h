/*
 * encode_stage: the producer's second core.  A thread of its own encodes
 * one batch of source records (parse, check, encode: event_encoder.h)
 * while the producer's thread produces the batch before it to Kafka, reads
 * the source and serves delivery reports; per-key order holds because
 * batches are encoded and produced in the order the source handed them
 * over, one at a time.
 *
 * The stage copies each batch it is given (the source's records are valid
 * only until its next read, which the producer makes while the stage
 * encodes), and an encoded batch owns copies of everything the producer
 * still needs: key, value, event id, op, position and number of each
 * record, and, for a record that cannot be published, the reason and the
 * record's text and place for its reject.
 *
 * One thread (the producer's) calls every function here.
 */
#ifndef SB_PRODUCERS_ENCODE_STAGE_H
#define SB_PRODUCERS_ENCODE_STAGE_H

#include <stddef.h>
#include <stdint.h>

#include "event_encoder.h"
#include "sb_buf.h"
#include "sources/source.h"

typedef struct {
        uint64_t position;       /* the source record's (0: nothing to acknowledge) */
        char op;                 /* 'c', 'u', 'd' or 'r' when published */
        int bad;                 /* 1: not publishable; `reason` says why */
        int nomem;               /* 1: out of memory while encoding it: try again later */
        char event_id[37];       /* when published */
        size_t key_off, key_len; /* in the batch's bytes: Confluent-framed key */
        size_t value_off, value_len;
        size_t where_off;          /* NUL-terminated: "changes.jsonl:12" */
        size_t reason_off;         /* bad: NUL-terminated */
        size_t text_off, text_len; /* bad: the record as the source handed it over */
} encoded_record_t;

typedef struct {
        encoded_record_t *records;
        size_t count;
        sb_buf_t bytes; /* what the records' offsets point into */
} encoded_batch_t;

typedef struct encode_stage_s encode_stage_t;

/* Starts the stage's thread with a worker of `enc` (borrowed: it must
 * outlive the stage; event_encoder.h says when workers may be made).
 * Room is made for batches of `batch_max` records (a larger batch makes
 * more).  On success *out is owned by the caller (encode_stage_destroy). */
sb_err_t encode_stage_new(const sb_event_encoder_t *enc, size_t batch_max, encode_stage_t **out, char *errstr,
                          size_t errstr_size);
/* Waits for a batch being encoded, stops the thread and frees the stage. */
void encode_stage_destroy(encode_stage_t *st);

/* Hands a copy of `batch` to the thread: the source may read its next
 * batch at once, while this one is encoded.  Only one batch is encoded at
 * a time: call encode_stage_wait before the next start.  SB_ERR_NOMEM
 * (nothing started) when there is no room for the copy. */
sb_err_t encode_stage_start(encode_stage_t *st, const source_batch_t *batch);
/* The records of the started batch while it has not been waited for, else 0. */
size_t encode_stage_busy(const encode_stage_t *st);
/* Waits until the batch started last is encoded and returns it (owned by
 * the stage, valid until the second encode_stage_start after this call:
 * the stage writes into two batches in turn, so one can be produced while
 * the next is encoded).  NULL when no batch was started. */
const encoded_batch_t *encode_stage_wait(encode_stage_t *st);

/* A string at offset `off` of batch b's bytes. */
static inline const char *encoded_str(const encoded_batch_t *b, size_t off) {
        return (const char *)b->bytes.data + off;
}

#endif

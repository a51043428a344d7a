#define _GNU_SOURCE /* pthread_setname_np */
#include "encode_stage.h"

#include <pthread.h>
#include <stdio.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "sources/json_text.h"

struct encode_stage_s {
        sb_event_worker_t *worker;
        size_t cap;             /* records `in` and each of `out` have room for */
        encoded_batch_t out[2]; /* written in turn */
        int next_out;           /* the one the next start writes */
        sb_buf_t key, value;    /* the worker's output for one record */
        pthread_t thread;
        int running; /* the thread was started */
        pthread_mutex_t lock;
        pthread_cond_t changed;
        /* The started batch's copy (the source may read on meanwhile):
         * written by start while the thread is idle. */
        source_record_t *in;
        sb_buf_t in_text;
        /* Under lock: */
        source_batch_t job; /* started: `in` */
        int has_job;        /* job is not yet encoded into job_out */
        encoded_batch_t *job_out;
        int stopping; /* the thread should end */
        /* The producer's thread's own: a start not yet waited for. */
        int started;
};

/* A record its source could not read ({"source_error": reason}, json_text.h)
 * is rejected for that reason, not for being no change line. */
static void source_error(const source_record_t *r, char *reason, size_t size) {
        static const char prefix[] = "{\"" JSON_TEXT_ERROR_MEMBER "\":";
        if (r->len < sizeof(prefix) || memcmp(r->text, prefix, sizeof(prefix) - 1) != 0)
                return;
        json_t *doc = json_loadb(r->text, r->len, 0, NULL);
        const char *why = json_string_value(json_object_get(doc, JSON_TEXT_ERROR_MEMBER));
        if (why)
                snprintf(reason, size, "%s", why);
        json_decref(doc);
}

/* Appends s with its NUL to b; *off is where it starts. */
static int put_str(sb_buf_t *b, const char *s, size_t len, size_t *off) {
        *off = b->len;
        return sb_buf_append(b, s, len) || sb_buf_append(b, "", 1) ? -1 : 0;
}

/* Encodes record r into out's next record. */
static void encode_one(encode_stage_t *st, const source_record_t *r, encoded_batch_t *out) {
        encoded_record_t *e = &out->records[out->count++];
        sb_buf_t *b = &out->bytes;
        char errstr[1024];
        memset(e, 0, sizeof(*e));
        e->position = r->position;
        /* Without a seq of its own, a change is numbered by its line
         * number, or else its position. */
        int64_t seq = r->number > 0 ? r->number : (int64_t)r->position;
        sb_err_t err = sb_event_encode_text(st->worker, r->text, r->len, seq, &st->key, &st->value,
                                            e->event_id, &e->op, errstr, sizeof(errstr));
        if (put_str(b, r->where, strlen(r->where), &e->where_off)) {
                e->nomem = 1;
                return;
        }
        if (!err) {
                e->key_off = b->len;
                e->key_len = st->key.len;
                e->value_off = e->key_off + e->key_len;
                e->value_len = st->value.len;
                if (sb_buf_append(b, st->key.data, st->key.len) ||
                    sb_buf_append(b, st->value.data, st->value.len))
                        e->nomem = 1;
                return;
        }
        e->bad = 1;
        source_error(r, errstr, sizeof(errstr));
        e->text_off = b->len;
        e->text_len = r->len;
        if (sb_buf_append(b, r->text, r->len) || put_str(b, errstr, strlen(errstr), &e->reason_off))
                e->nomem = 1;
}

static void *run(void *arg) {
        encode_stage_t *st = arg;
        pthread_setname_np(pthread_self(), "sb:encode"); /* as top and perf show it */
        pthread_mutex_lock(&st->lock);
        for (;;) {
                while (!st->has_job && !st->stopping)
                        pthread_cond_wait(&st->changed, &st->lock);
                if (!st->has_job)
                        break;
                const source_batch_t *job = &st->job;
                encoded_batch_t *out = st->job_out;
                pthread_mutex_unlock(&st->lock);
                out->count = 0;
                sb_buf_reset(&out->bytes);
                for (size_t i = 0; i < job->count; i++)
                        encode_one(st, &job->records[i], out);
                pthread_mutex_lock(&st->lock);
                st->has_job = 0;
                pthread_cond_broadcast(&st->changed);
        }
        pthread_mutex_unlock(&st->lock);
        return NULL;
}

/* Gives `in` and both `out` room for n records (the thread is idle). */
static sb_err_t grow(encode_stage_t *st, size_t n) {
        if (n <= st->cap)
                return SB_OK;
        source_record_t *in = realloc(st->in, n * sizeof(*in));
        if (!in)
                return SB_ERR_NOMEM;
        st->in = in;
        for (int i = 0; i < 2; i++) {
                encoded_record_t *r = realloc(st->out[i].records, n * sizeof(*r));
                if (!r)
                        return SB_ERR_NOMEM;
                st->out[i].records = r;
        }
        st->cap = n;
        return SB_OK;
}

sb_err_t encode_stage_new(const sb_event_encoder_t *enc, size_t batch_max, encode_stage_t **out, char *errstr,
                          size_t errstr_size) {
        *out = NULL;
        encode_stage_t *st = calloc(1, sizeof(*st));
        if (!st)
                return sb_seterr(SB_ERR_NOMEM, errstr, errstr_size, "out of memory");
        pthread_mutex_init(&st->lock, NULL);
        pthread_cond_init(&st->changed, NULL);
        /* A record may take what the producer's own buffers allowed (64 MiB
         * each for key and value); a batch, what its records take. */
        sb_buf_init(&st->in_text, SIZE_MAX / 2);
        sb_buf_init(&st->key, 64u << 20);
        sb_buf_init(&st->value, 64u << 20);
        for (int i = 0; i < 2; i++)
                sb_buf_init(&st->out[i].bytes, SIZE_MAX / 2);
        sb_err_t err = grow(st, batch_max ? batch_max : 1);
        if (err)
                sb_seterr(err, errstr, errstr_size, "out of memory");
        else
                err = sb_event_worker_new(enc, &st->worker, errstr, errstr_size);
        if (!err && pthread_create(&st->thread, NULL, run, st) != 0)
                err = sb_seterr(SB_ERR_NOMEM, errstr, errstr_size, "cannot start the encoding thread");
        if (err) {
                encode_stage_destroy(st);
                return err;
        }
        st->running = 1;
        *out = st;
        return SB_OK;
}

void encode_stage_destroy(encode_stage_t *st) {
        if (!st)
                return;
        if (st->running) {
                pthread_mutex_lock(&st->lock);
                st->stopping = 1;
                pthread_cond_broadcast(&st->changed);
                pthread_mutex_unlock(&st->lock);
                pthread_join(st->thread, NULL);
        }
        pthread_mutex_destroy(&st->lock);
        pthread_cond_destroy(&st->changed);
        sb_event_worker_destroy(st->worker);
        for (int i = 0; i < 2; i++) {
                free(st->out[i].records);
                sb_buf_free(&st->out[i].bytes);
        }
        sb_buf_free(&st->key);
        sb_buf_free(&st->value);
        sb_buf_free(&st->in_text);
        free(st->in);
        free(st);
}

/* Copies batch into st->in and st->in_text (the thread is idle). */
static sb_err_t copy_in(encode_stage_t *st, const source_batch_t *batch) {
        sb_err_t err = grow(st, batch->count);
        if (err)
                return err;
        sb_buf_reset(&st->in_text);
        for (size_t i = 0; i < batch->count; i++)
                if (sb_buf_append(&st->in_text, batch->records[i].text, batch->records[i].len))
                        return SB_ERR_NOMEM;
        size_t at = 0;
        for (size_t i = 0; i < batch->count; i++) {
                st->in[i] = batch->records[i];
                st->in[i].text = (const char *)st->in_text.data + at;
                at += st->in[i].len;
        }
        return SB_OK;
}

sb_err_t encode_stage_start(encode_stage_t *st, const source_batch_t *batch) {
        if (copy_in(st, batch))
                return SB_ERR_NOMEM;
        pthread_mutex_lock(&st->lock);
        st->job = (source_batch_t){st->in, batch->count};
        st->has_job = 1;
        st->job_out = &st->out[st->next_out];
        st->next_out ^= 1;
        st->started = 1;
        pthread_cond_broadcast(&st->changed);
        pthread_mutex_unlock(&st->lock);
        return SB_OK;
}

size_t encode_stage_busy(const encode_stage_t *st) { return st->started ? st->job.count : 0; }

const encoded_batch_t *encode_stage_wait(encode_stage_t *st) {
        if (!st->started)
                return NULL;
        pthread_mutex_lock(&st->lock);
        while (st->has_job)
                pthread_cond_wait(&st->changed, &st->lock);
        st->started = 0;
        const encoded_batch_t *b = st->job_out;
        pthread_mutex_unlock(&st->lock);
        return b;
}

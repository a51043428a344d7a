#include "fetch_nudge.h"

#include <stdlib.h>

#include "sb_clock.h"

/* Long enough for a leader on loopback or a LAN to answer, short enough
 * that a request held behind a waiting fetch costs a batch little. */
#define NUDGE_WAIT_MS 10

struct fetch_nudge_s {
        rd_kafka_t *rk;
        rd_kafka_queue_t *queue; /* the consumer queue: its length is what is prefetched */
        size_t low_water;
        int min_interval_ms;
        int64_t last_ms; /* monotonic time of the last nudge; 0 none */
        uint64_t count;
};

sb_err_t fetch_nudge_new(rd_kafka_t *rk, size_t low_water, int min_interval_ms, fetch_nudge_t **out,
                         char *errstr, size_t errstr_size) {
        fetch_nudge_t *fn = calloc(1, sizeof(*fn));
        *out = NULL;
        if (!fn || !(fn->queue = rd_kafka_queue_get_consumer(rk))) {
                free(fn);
                return sb_seterr(SB_ERR_NOMEM, errstr, errstr_size, "out of memory for the fetch nudger");
        }
        fn->rk = rk;
        fn->low_water = low_water;
        fn->min_interval_ms = min_interval_ms;
        *out = fn;
        return SB_OK;
}

void fetch_nudge_destroy(fetch_nudge_t *fn) {
        if (!fn)
                return;
        rd_kafka_queue_destroy(fn->queue);
        free(fn);
}

int fetch_nudge_due(const fetch_nudge_t *fn, int batch_full, size_t queued, int64_t now_ms) {
        return batch_full && queued < fn->low_water &&
               (fn->last_ms == 0 || now_ms - fn->last_ms >= fn->min_interval_ms);
}

int fetch_nudge_after_batch(fetch_nudge_t *fn, int batch_full,
                            const rd_kafka_topic_partition_list_t *assigned) {
        if (!fn || !assigned || assigned->cnt == 0)
                return 0;
        int64_t now = sb_clock_mono_ms();
        if (!fetch_nudge_due(fn, batch_full, rd_kafka_queue_length(fn->queue), now))
                return 0;
        rd_kafka_topic_partition_list_t *ask = rd_kafka_topic_partition_list_copy(assigned);
        if (!ask)
                return 0;
        for (int i = 0; i < ask->cnt; i++)
                ask->elems[i].offset = RD_KAFKA_OFFSET_END; /* as a time: the latest offset */
        /* Sent is what counts; a timeout only means the answer came late. */
        rd_kafka_offsets_for_times(fn->rk, ask, NUDGE_WAIT_MS);
        rd_kafka_topic_partition_list_destroy(ask);
        fn->last_ms = now;
        fn->count++;
        return 1;
}

uint64_t fetch_nudge_count(const fetch_nudge_t *fn) { return fn ? fn->count : 0; }

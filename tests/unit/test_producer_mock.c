/*
 * Unit tests of the producer pipeline (producer.h) under Kafka trouble,
 * against librdkafka's mock cluster, with a source of the test's own.
 *
 * The mock cluster is made by the test (rd_kafka_mock_cluster_new) rather
 * than by `test.mock.num.brokers` in the producer's settings: the producer
 * makes its Kafka handle again at each rewind, and a mock cluster of the
 * handle's own would go with it, with everything delivered so far.  The
 * producer reaches the test's cluster by its bootstrap servers, and the test
 * reads both topics back from it.
 *
 * The source (source_options_t.ops) hands over records 1..n from memory,
 * each a change line keyed "P<position>" (or a line that is no change, to
 * be rejected), resumes after its last acknowledged position when opened
 * again, as a durable source does, and checks every acknowledgement: it
 * must grow and name a position handed over.  Hooks called at each read
 * inject the trouble (brokers down, failing produce requests, a fatal
 * error of the idempotent producer, a stop).
 */
#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dataset.h"
#include "event_encoder.h"
#include "producer.h"
#include "producer_settings.h"
#include "sb_clock.h"
#include "testutil.h"

#define TOPIC "market.business_license"
#define REJECTS "rejects.market"
#define PARTITIONS 3
#define WINDOW SB_PRODUCER_WINDOW
#define BATCH 1024
#define API_PRODUCE 0 /* Kafka's ApiKey of Produce requests */

typedef struct world_s world_t;
struct world_s {
        rd_kafka_t *owner; /* owns the mock cluster */
        rd_kafka_mock_cluster_t *mc;
        sb_producer_t *p;
        volatile sig_atomic_t stop;
        uint64_t n;            /* the source's records: positions 1..n */
        uint64_t reject_every; /* every k-th record is no change line (0: none) */
        int endless;           /* a watched source: never finished, empty when drained */
        uint64_t next;         /* next position to hand over */
        uint64_t acked;        /* durable: the last acknowledged position */
        uint64_t handed;       /* records handed over, all opens (atomic) */
        uint64_t high;         /* highest position handed over */
        uint64_t max_in_flight;
        uint64_t empty_reads;
        int opens;
        int bad;
        char bad_why[256];
        void (*hook)(world_t *w); /* at each read, before handing over */
        int fired;                /* for hooks that act once */
        source_record_t recs[BATCH];
        char text[BATCH][600];
};

static world_t W;

static void bad(world_t *w, const char *why, uint64_t a, uint64_t b) {
        if (!w->bad)
                snprintf(w->bad_why, sizeof(w->bad_why), "%s (%llu, %llu)", why, (unsigned long long)a,
                         (unsigned long long)b);
        w->bad = 1;
}

static sb_err_t mem_open(const sb_config_t *cfg, const source_options_t *opts, sb_log_t *log, void **state,
                         char *errstr, size_t errstr_size) {
        (void)cfg, (void)opts, (void)log, (void)errstr, (void)errstr_size;
        W.opens++;
        W.next = W.acked + 1; /* resumes after the last acknowledged position */
        *state = &W;
        return SB_OK;
}

static sb_err_t mem_next(void *state, size_t max, int timeout_ms, source_batch_t *out, char *errstr,
                         size_t errstr_size) {
        world_t *w = state;
        (void)errstr, (void)errstr_size;
        if (w->hook)
                w->hook(w);
        if (w->next > w->n) {
                if (!w->endless)
                        return SB_ERR_NOT_FOUND;
                w->empty_reads++;
                sb_clock_sleep_ms(timeout_ms < 5 ? timeout_ms : 5);
                return SB_OK;
        }
        size_t count = 0;
        for (; count < max && count < BATCH && w->next <= w->n; count++, w->next++) {
                source_record_t *r = &w->recs[count];
                char *t = w->text[count];
                if (w->reject_every && w->next % w->reject_every == 0)
                        snprintf(t, sizeof(w->text[0]), "not a change %llu", (unsigned long long)w->next);
                else
                        snprintf(t, sizeof(w->text[0]),
                                 "{\"op\":\"c\",\"key\":{\"uscc\":\"P%08llu\"},\"after\":{\"uscc\":\"P%"
                                 "08llu\","
                                 "\"name\":\"N\",\"legal_representative\":\"L\",\"registered_capital\":1,"
                                 "\"business_scope\":null,\"status\":\"ACTIVE\",\"established_on\":"
                                 "\"2000-06-06\",\"address\":null,\"updated_at\":\"2025-01-01T00:00:00Z\"}}",
                                 (unsigned long long)w->next, (unsigned long long)w->next);
                r->text = t;
                r->len = strlen(t);
                r->position = w->next;
                snprintf(r->where, sizeof(r->where), "memory:%llu", (unsigned long long)w->next);
        }
        if (w->next - 1 > w->high)
                w->high = w->next - 1;
        __atomic_add_fetch(&w->handed, count, __ATOMIC_SEQ_CST);
        if (w->next - 1 - w->acked > w->max_in_flight)
                w->max_in_flight = w->next - 1 - w->acked;
        out->records = w->recs;
        out->count = count;
        return SB_OK;
}

static sb_err_t mem_ack(void *state, uint64_t position, char *errstr, size_t errstr_size) {
        world_t *w = state;
        (void)errstr, (void)errstr_size;
        if (position <= w->acked)
                bad(w, "acknowledgement not after the last one", position, w->acked);
        if (position >= w->next)
                bad(w, "acknowledgement of a position not handed over", position, w->next);
        __atomic_store_n(&w->acked, position, __ATOMIC_SEQ_CST);
        return SB_OK;
}

static void mem_close(void *state) { (void)state; }

static const source_ops_t mem_ops = {"memory", mem_open, mem_next, mem_ack, NULL, mem_close};

/* ---- the fixture: a mock cluster, the dataset, the producer ---- */

typedef struct {
        sb_config_t *cfg;
        sb_log_t *log;
        sb_dataset_t *ds;
        sb_event_encoder_t enc;
        char bootstraps[256];
} fx_t;

/* Extra properties of the kafka group for the next setup_world ("" none). */
static const char *kafka_extra = "";

static void setup_world(fx_t *fx, uint64_t n, const char *extra_settings) {
        memset(&W, 0, sizeof(W));
        memset(fx, 0, sizeof(*fx));
        W.n = n;
        char kerr[256];
        rd_kafka_conf_t *conf = rd_kafka_conf_new();
        ck_assert_ptr_nonnull(W.owner = rd_kafka_new(RD_KAFKA_PRODUCER, conf, kerr, sizeof(kerr)));
        ck_assert_ptr_nonnull(W.mc = rd_kafka_mock_cluster_new(W.owner, 3));
        ck_assert_int_eq(rd_kafka_mock_topic_create(W.mc, TOPIC, PARTITIONS, 3), 0);
        ck_assert_int_eq(rd_kafka_mock_topic_create(W.mc, REJECTS, 1, 3), 0);
        snprintf(fx->bootstraps, sizeof(fx->bootstraps), "%s", rd_kafka_mock_cluster_bootstraps(W.mc));
        char text[2048];
        snprintf(text, sizeof(text),
                 "department = \"market\"; dataset = \"business_license\"; registry_url = "
                 "\"http://127.0.0.1:1\";\n"
                 "kafka = { bootstrap_servers = \"%s\"; retry_backoff_ms = \"10\"; %s };\n%s\n",
                 fx->bootstraps, kafka_extra, extra_settings ? extra_settings : "");
        TEST_CALL(sb_config_load_string(text, "test.conf", sb_producer_settings, sb_producer_settings_count,
                                        &fx->cfg, TEST_ERR));
        TEST_CALL(sb_log_new("test", getenv("TEST_LOG") ? SB_LOG_DEBUG : SB_LOG_ERROR, stderr, &fx->log,
                             TEST_ERR));
        TEST_CALL(sb_dataset_load(test_src_path("schemas/datasets"), TOPIC, &fx->ds, TEST_ERR));
        fx->enc = (sb_event_encoder_t){.dataset = fx->ds,
                                       .key_schema_id = 1,
                                       .value_schema_id = 2,
                                       .department = "market",
                                       .system = "test"};
}

static sb_producer_conf_t producer_conf(int flush_timeout_ms) {
        return (sb_producer_conf_t){.department = "market",
                                    .topic = TOPIC,
                                    .rejects_topic = REJECTS,
                                    .batch_max = BATCH,
                                    .idle_wait_ms = 20,
                                    .ack_interval_ms = 0,
                                    .flush_timeout_ms = flush_timeout_ms,
                                    .retry_backoff_max_ms = 100};
}

static void new_producer(fx_t *fx, int flush_timeout_ms) {
        sb_producer_conf_t conf = producer_conf(flush_timeout_ms);
        source_options_t opts = {.department = "market",
                                 .dataset = "business_license",
                                 .key_record = sb_schema_root(sb_dataset_key_schema(fx->ds)),
                                 .row_record = sb_dataset_row(fx->ds),
                                 .ops = &mem_ops};
        TEST_CALL(sb_producer_new(&conf, fx->cfg, &opts, &fx->enc, NULL, fx->log, &W.p, TEST_ERR));
}

static void teardown_world(fx_t *fx) {
        sb_producer_destroy(W.p);
        rd_kafka_mock_cluster_destroy(W.mc);
        rd_kafka_destroy(W.owner);
        sb_dataset_destroy(fx->ds);
        sb_log_destroy(fx->log);
        sb_config_destroy(fx->cfg);
        ck_assert_msg(!W.bad, "%s", W.bad_why);
}

/* Reads `topic` of the mock cluster to its end: counts[pos] += 1 for each
 * event keyed P<pos> (dataset topic) or each reject of sharebus.position
 * pos (rejects topic).  counts has n + 1 entries.  Returns the messages. */
static uint64_t read_back(const fx_t *fx, const char *topic, int partitions, uint32_t *counts, uint64_t n) {
        char kerr[256];
        rd_kafka_conf_t *conf = rd_kafka_conf_new();
        ck_assert_int_eq(rd_kafka_conf_set(conf, "bootstrap.servers", fx->bootstraps, kerr, sizeof(kerr)), 0);
        ck_assert_int_eq(rd_kafka_conf_set(conf, "group.id", "test-read-back", kerr, sizeof(kerr)), 0);
        rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_CONSUMER, conf, kerr, sizeof(kerr));
        ck_assert_ptr_nonnull(rk);
        rd_kafka_topic_partition_list_t *parts = rd_kafka_topic_partition_list_new(partitions);
        int64_t high[PARTITIONS], low;
        for (int p = 0; p < partitions; p++) {
                rd_kafka_topic_partition_list_add(parts, topic, p)->offset = RD_KAFKA_OFFSET_BEGINNING;
                ck_assert_int_eq(rd_kafka_query_watermark_offsets(rk, topic, p, &low, &high[p], 10000), 0);
                /* The mock keeps a few MiB per partition: more would go unseen. */
                ck_assert_msg(low == 0, "%s [%d] trimmed by the mock cluster up to %lld", topic, p,
                              (long long)low);
        }
        ck_assert_int_eq(rd_kafka_assign(rk, parts), 0);
        rd_kafka_topic_partition_list_destroy(parts);
        uint64_t got = 0, want = 0;
        for (int p = 0; p < partitions; p++)
                want += (uint64_t)high[p];
        for (int idle = 0; got < want && idle < 300;) {
                rd_kafka_message_t *m = rd_kafka_consumer_poll(rk, 100);
                if (!m) {
                        idle++;
                        continue;
                }
                ck_assert_msg(!m->err, "reading %s: %s", topic, rd_kafka_message_errstr(m));
                got++;
                unsigned long long pos = 0;
                if (strcmp(topic, TOPIC) == 0) {
                        /* 0x00, 4-byte id, Avro string: its length (zigzag), "P%08llu". */
                        ck_assert_uint_eq(m->key_len, 5 + 1 + 9);
                        ck_assert_int_eq(sscanf((const char *)m->key + 6, "P%8llu", &pos), 1);
                } else {
                        rd_kafka_headers_t *h = NULL;
                        const void *v = NULL;
                        size_t len = 0;
                        char buf[32];
                        ck_assert_int_eq(rd_kafka_message_headers(m, &h), 0);
                        ck_assert_int_eq(rd_kafka_header_get_last(h, "sharebus.position", &v, &len), 0);
                        snprintf(buf, sizeof(buf), "%.*s", (int)len, (const char *)v);
                        pos = strtoull(buf, NULL, 10);
                }
                ck_assert_msg(pos >= 1 && pos <= n, "position %llu in %s", pos, topic);
                counts[pos]++;
                rd_kafka_message_destroy(m);
        }
        ck_assert_msg(got == want, "%s: read %llu of %llu", topic, (unsigned long long)got,
                      (unsigned long long)want);
        rd_kafka_consumer_close(rk);
        rd_kafka_destroy(rk);
        return got;
}

/* Every record 1..n is in the dataset topic or, if it is no change line,
 * in the rejects topic, at least once. */
static void assert_all_delivered(const fx_t *fx) {
        uint32_t *events = calloc(W.n + 1, sizeof(*events)), *rejects = calloc(W.n + 1, sizeof(*rejects));
        ck_assert(events && rejects);
        read_back(fx, TOPIC, PARTITIONS, events, W.n);
        read_back(fx, REJECTS, 1, rejects, W.n);
        for (uint64_t pos = 1; pos <= W.n; pos++) {
                int reject = W.reject_every && pos % W.reject_every == 0;
                ck_assert_msg((reject ? rejects : events)[pos] >= 1, "record %llu not delivered",
                              (unsigned long long)pos);
                ck_assert_msg((reject ? events : rejects)[pos] == 0, "record %llu in the wrong topic",
                              (unsigned long long)pos);
        }
        free(events);
        free(rejects);
}

static void set_brokers(int up) {
        for (int32_t b = 1; b <= 3; b++)
                ck_assert_int_eq(up ? rd_kafka_mock_broker_set_up(W.mc, b)
                                    : rd_kafka_mock_broker_set_down(W.mc, b),
                                 0);
}

/* ---- (a) nothing is acknowledged before it is delivered ---- */

/* The brokers go down before the first record; while the source is read
 * to its end and read again (empty) 100 times, nothing may be acknowledged;
 * then they come back and everything is. */
static void hook_down_until_drained(world_t *w) {
        if (!w->fired) {
                w->fired = 1;
                set_brokers(0);
        }
        if (w->next > w->n) {
                if (w->fired < 100)
                        ck_assert_msg(__atomic_load_n(&w->acked, __ATOMIC_SEQ_CST) == 0,
                                      "position %llu acknowledged while no broker was up",
                                      (unsigned long long)w->acked);
                if (++w->fired == 100)
                        set_brokers(1);
                if (w->fired > 100 && w->acked == w->n)
                        w->stop = 1;
        }
}

START_TEST(test_no_ack_before_delivery) {
        fx_t fx;
        setup_world(&fx, 3000, NULL);
        W.endless = 1;
        W.hook = hook_down_until_drained;
        new_producer(&fx, 30000);
        char err[512];
        ck_assert_int_eq(sb_producer_run(W.p, &W.stop, err, sizeof(err)), SB_OK);
        ck_assert_uint_eq(W.acked, W.n);
        ck_assert_int_eq(W.opens, 1);
        const sb_producer_stats_t *st = sb_producer_stats(W.p);
        ck_assert_uint_eq(st->read, W.n);
        ck_assert_uint_eq(st->published, W.n);
        ck_assert_uint_eq(st->delivered, W.n);
        ck_assert_uint_eq(st->failed, 0);
        assert_all_delivered(&fx);
        teardown_world(&fx);
}
END_TEST

/* ---- (e) rejects go to the rejects topic and are acknowledged ---- */

START_TEST(test_rejects_are_delivered_and_acked) {
        fx_t fx;
        setup_world(&fx, 1000, NULL);
        W.reject_every = 10;
        new_producer(&fx, 30000);
        char err[512];
        ck_assert_int_eq(sb_producer_run(W.p, &W.stop, err, sizeof(err)), SB_OK);
        const sb_producer_stats_t *st = sb_producer_stats(W.p);
        ck_assert_uint_eq(st->read, 1000);
        ck_assert_uint_eq(st->published, 900);
        ck_assert_uint_eq(st->rejected, 100);
        ck_assert_uint_eq(st->delivered, 1000);
        ck_assert_uint_eq(W.acked, W.n); /* the last record is a reject */
        uint32_t *rejects = calloc(W.n + 1, sizeof(*rejects));
        ck_assert_ptr_nonnull(rejects);
        ck_assert_uint_eq(read_back(&fx, REJECTS, 1, rejects, W.n), 100);
        for (uint64_t pos = 10; pos <= W.n; pos += 10)
                ck_assert_uint_eq(rejects[pos], 1);
        free(rejects);
        assert_all_delivered(&fx);
        teardown_world(&fx);
}
END_TEST

/* ---- (b) a failed delivery or a fatal error rewinds ---- */

/* Produce requests fail (not retriably) once 2000 records are handed over,
 * and again once 6000 are; the idempotent producer hits a fatal error once
 * 9000 are. */
static void hook_failures(world_t *w) {
        uint64_t handed = __atomic_load_n(&w->handed, __ATOMIC_SEQ_CST);
        if (w->fired == 0 && handed >= 2000) {
                w->fired++;
                rd_kafka_mock_push_request_errors(W.mc, API_PRODUCE, 3,
                                                  RD_KAFKA_RESP_ERR_TOPIC_AUTHORIZATION_FAILED,
                                                  RD_KAFKA_RESP_ERR_TOPIC_AUTHORIZATION_FAILED,
                                                  RD_KAFKA_RESP_ERR_TOPIC_AUTHORIZATION_FAILED);
        } else if (w->fired == 1 && handed >= 6000) {
                w->fired++;
                rd_kafka_mock_push_request_errors(W.mc, API_PRODUCE, 2, RD_KAFKA_RESP_ERR_INVALID_RECORD,
                                                  RD_KAFKA_RESP_ERR_INVALID_RECORD);
        } else if (w->fired == 2 && handed >= 9000) {
                w->fired++;
                ck_assert_int_eq(rd_kafka_test_fatal_error(sb_producer_kafka(W.p),
                                                           RD_KAFKA_RESP_ERR_OUT_OF_ORDER_SEQUENCE_NUMBER,
                                                           "injected by the test"),
                                 0);
        }
}

START_TEST(test_rewinds_after_failures) {
        fx_t fx;
        setup_world(&fx, 12000, NULL);
        W.reject_every = 997;
        W.hook = hook_failures;
        new_producer(&fx, 30000);
        char err[512];
        sb_err_t rc = sb_producer_run(W.p, &W.stop, err, sizeof(err));
        ck_assert_msg(rc == SB_OK, "%s", err);
        ck_assert_int_eq(W.fired, 3);
        const sb_producer_stats_t *st = sb_producer_stats(W.p);
        ck_assert_uint_ge(st->rewinds, 3);
        ck_assert_int_eq(W.opens, (int)st->rewinds + 1);
        ck_assert_uint_gt(st->failed, 0);
        ck_assert_uint_eq(W.acked, W.n);
        ck_assert_uint_ge(st->read, W.n); /* what was in flight is read again */
        assert_all_delivered(&fx);
        teardown_world(&fx);
}
END_TEST

/* ---- (c) back-pressure: the window bounds what is in flight ---- */

/* No broker answers from the first read on, so nothing is delivered: the
 * producer must stop reading once the window is full.  A second thread
 * waits for that, lets the producer run a while longer (it must not read
 * on), checks the counts, and brings the brokers back. */
static void hook_down_once(world_t *w) {
        if (!w->fired) {
                w->fired = 1;
                set_brokers(0);
        }
}

typedef struct {
        uint64_t handed_when_full, handed_later, queued;
} watch_t;

static void *watch_window(void *arg) {
        watch_t *wt = arg;
        while (__atomic_load_n(&W.handed, __ATOMIC_SEQ_CST) < WINDOW)
                sb_clock_sleep_ms(5);
        wt->handed_when_full = __atomic_load_n(&W.handed, __ATOMIC_SEQ_CST);
        sb_clock_sleep_ms(1000); /* not an assertion on time: the producer gets the chance to overrun */
        wt->handed_later = __atomic_load_n(&W.handed, __ATOMIC_SEQ_CST);
        wt->queued = (uint64_t)rd_kafka_outq_len(sb_producer_kafka(W.p));
        set_brokers(1);
        return NULL;
}

START_TEST(test_window_bounds_in_flight) {
        fx_t fx;
        setup_world(&fx, 3 * WINDOW, NULL);
        W.hook = hook_down_once;
        new_producer(&fx, 30000);
        watch_t wt = {0};
        pthread_t th;
        ck_assert_int_eq(pthread_create(&th, NULL, watch_window, &wt), 0);
        char err[512];
        sb_err_t rc = sb_producer_run(W.p, &W.stop, err, sizeof(err));
        pthread_join(th, NULL);
        ck_assert_msg(rc == SB_OK, "%s", err);
        /* Full, and not a record more while nothing was delivered. */
        ck_assert_uint_eq(wt.handed_when_full, WINDOW);
        ck_assert_uint_eq(wt.handed_later, WINDOW);
        ck_assert_uint_le(wt.queued, WINDOW);
        ck_assert_uint_le(W.max_in_flight, WINDOW);
        ck_assert_uint_eq(W.acked, W.n);
        ck_assert_int_eq(W.opens, 1);
        /* The mock cluster keeps only the last few MiB of each partition:
         * what Kafka acknowledged is counted instead of read back. */
        ck_assert_uint_eq(sb_producer_stats(W.p)->delivered, W.n);
        ck_assert_uint_eq(sb_producer_stats(W.p)->failed, 0);
        teardown_world(&fx);
}
END_TEST

/* ---- (d) a stop (SIGTERM) flushes and acknowledges what was delivered ---- */

/* Brokers answer slowly; the stop comes once everything is handed over,
 * while most of it is still in flight. */
static uint64_t acked_at_stop;

static void hook_stop_when_drained(world_t *w) {
        if (!w->fired) {
                w->fired = 1;
                for (int32_t b = 1; b <= 3; b++)
                        rd_kafka_mock_broker_set_rtt(W.mc, b, 300);
        }
        if (w->next > w->n && !w->stop) {
                acked_at_stop = __atomic_load_n(&w->acked, __ATOMIC_SEQ_CST);
                w->stop = 1;
        }
}

START_TEST(test_stop_flushes_and_acks) {
        fx_t fx;
        setup_world(&fx, 5000, NULL);
        W.endless = 1;
        W.reject_every = 500;
        W.hook = hook_stop_when_drained;
        new_producer(&fx, 30000);
        char err[512];
        sb_err_t rc = sb_producer_run(W.p, &W.stop, err, sizeof(err));
        ck_assert_msg(rc == SB_OK, "%s", err);
        ck_assert_uint_lt(acked_at_stop, W.n); /* there was something to flush */
        ck_assert_uint_eq(W.acked, W.n);
        ck_assert_uint_eq(W.empty_reads, 1); /* the run stopped at once */
        const sb_producer_stats_t *st = sb_producer_stats(W.p);
        ck_assert_uint_eq(st->delivered, W.n);
        ck_assert_uint_eq(st->rejected, W.n / 500);
        assert_all_delivered(&fx);
        teardown_world(&fx);
}
END_TEST

/* A stop while no broker answers: the run ends after flush_timeout_ms
 * with an error that says what was not delivered, having acknowledged
 * nothing. */
static void hook_down_then_stop(world_t *w) {
        hook_down_once(w);
        if (w->next > w->n)
                w->stop = 1;
}

START_TEST(test_stop_with_brokers_down_acks_nothing) {
        fx_t fx;
        setup_world(&fx, 2000, NULL);
        W.endless = 1;
        W.hook = hook_down_then_stop;
        new_producer(&fx, 1000);
        char err[512] = "";
        ck_assert_int_eq(sb_producer_run(W.p, &W.stop, err, sizeof(err)), SB_ERR_KAFKA);
        ck_assert_msg(strstr(err, "2000 records not delivered"), "%s", err);
        ck_assert_uint_eq(W.acked, 0);
        ck_assert_uint_eq(sb_producer_stats(W.p)->delivered, 0);
        teardown_world(&fx);
}
END_TEST

/* Stops the run once librdkafka's queue (1000 messages) is full: the
 * producer waits inside produce() then, and must still see the stop. */
static void *stop_when_queue_full(void *arg) {
        (void)arg;
        while (__atomic_load_n(&W.handed, __ATOMIC_SEQ_CST) < 1000)
                sb_clock_sleep_ms(5);
        sb_clock_sleep_ms(500); /* not an assertion on time: lets the producer block on the full queue */
        W.stop = 1;
        return NULL;
}

/* With Kafka away and librdkafka's queue full, a stop is still served
 * (before, produce() waited for room until message.timeout.ms, 5 minutes):
 * the run ends with what was not delivered, having acknowledged nothing. */
START_TEST(test_stop_is_served_while_the_queue_is_full) {
        fx_t fx;
        kafka_extra = "queue_buffering_max_messages = \"1000\";"; /* full long before the window */
        setup_world(&fx, 100000, NULL);
        kafka_extra = "";
        W.endless = 1;
        W.hook = hook_down_once;
        new_producer(&fx, 1000);
        pthread_t t;
        ck_assert_int_eq(pthread_create(&t, NULL, stop_when_queue_full, NULL), 0);
        char err[512] = "";
        ck_assert_int_eq(sb_producer_run(W.p, &W.stop, err, sizeof(err)), SB_ERR_KAFKA);
        pthread_join(t, NULL);
        ck_assert_msg(strstr(err, "records not delivered"), "%s", err);
        ck_assert_uint_eq(W.acked, 0);
        /* It was waiting on the queue, not on the window. */
        ck_assert_uint_lt(__atomic_load_n(&W.handed, __ATOMIC_SEQ_CST), 4000);
        teardown_world(&fx);
}
END_TEST

static Suite *producer_mock_suite(void) {
        Suite *s = suite_create("producer_mock");
        TCase *tc = tcase_create("trouble");
        tcase_set_timeout(tc, 300);
        tcase_add_test(tc, test_no_ack_before_delivery);
        tcase_add_test(tc, test_rejects_are_delivered_and_acked);
        tcase_add_test(tc, test_rewinds_after_failures);
        tcase_add_test(tc, test_stop_flushes_and_acks);
        tcase_add_test(tc, test_stop_with_brokers_down_acks_nothing);
        tcase_add_test(tc, test_stop_is_served_while_the_queue_is_full);
        suite_add_tcase(s, tc);
        tc = tcase_create("window");
        tcase_set_timeout(tc, 300);
        tcase_add_test(tc, test_window_bounds_in_flight);
        suite_add_tcase(s, tc);
        return s;
}

int main(void) { return test_run_suite(producer_mock_suite()); }

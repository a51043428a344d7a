/*
 * bench_tool: baselines and measuring helpers for `make bench`.
 *
 *   bench_tool produce-raw BOOTSTRAP TOPIC COUNT SIZE [KEY_SIZE [TOMBSTONES]]
 *       raw librdkafka producer with the producer's settings (idempotent,
 *       acks=all, linger.ms=5, murmur2_random, its queue bounds): COUNT
 *       pre-encoded values of SIZE bytes with keys of KEY_SIZE bytes (24)
 *       and the producer's two headers (sharebus.department "bench", a
 *       36-character sharebus.event_id), plus TOMBSTONES null values (0)
 *       spread among them as the producer sends after deletes; prints
 *       "<events/s>", COUNT over the time until all are delivered (the
 *       tombstones not counted, as the producer counts events)
 *   bench_tool consume-raw BOOTSTRAP TOPIC COUNT
 *       raw librdkafka consumer reading COUNT records: prints "<events/s>"
 *   bench_tool measure COMMAND [ARGS...]
 *       runs COMMAND; prints "<wall seconds> <peak RSS KiB>" (stdin is passed
 *       on, SIGTERM and SIGINT too) and exits with COMMAND's status
 *   bench_tool measure-cpu COMMAND [ARGS...]
 *       the same, printing "<wall seconds> <peak RSS KiB> <CPU seconds>"
 *       (user + system)
 *   bench_tool commit-groups BOOTSTRAP PREFIX GROUPS PARTITIONS
 *       for i < GROUPS, group PREFIX.g<i> commits offset 0 on the PARTITIONS
 *       partitions of topic PREFIX.t<i>: consumer groups for sharebus-lag
 *       to watch
 *   bench_tool encode-lines SCHEMA_DIR TOPIC FILE [legacy]
 *       the producer's per-event work without Kafka: loads the dataset,
 *       compiles the rules from the local schemas (the producer takes them
 *       from the registry), reads FILE into memory and encodes every line
 *       with the encoder's entry point (`legacy`: the jansson path, parse
 *       then sb_event_encode).  Prints "<CPU us per event> <events> <invalid>",
 *       CPU being user + system time of the encode loop alone.
 *   bench_tool upsert-raw FILE DB [BATCH]
 *       the subscriber's baseline (upsert_raw.h): the changes of FILE applied
 *       to a new SQLite database DB, BATCH (500) per transaction; prints
 *       "<events/s> <events>"
 *   bench_tool upsert-raw-pg FILE CONNINFO LIKE_TABLE TABLE [BATCH]
 *       the PostgreSQL subscriber's baseline (upsert_raw_pg.h): the same
 *       into TABLE, made LIKE the subscriber's LIKE_TABLE, BATCH (500) per
 *       transaction in pipeline mode; prints "<events/s> <events>"
 */
#include <errno.h>
#include <librdkafka/rdkafka.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "change_line.h"
#include "dataset.h"
#include "event_encoder.h"
#include "sb_rules.h"
#include "upsert_raw.h"
#include "upsert_raw_pg.h"

static double now_s(void) {
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static long parse_long(const char *s) {
        char *end;
        long v = strtol(s, &end, 10);
        if (end == s || *end || v <= 0) {
                fprintf(stderr, "bench_tool: '%s' is not a positive number\n", s);
                exit(2);
        }
        return v;
}

/* Counts failed deliveries: a baseline that lost messages is no baseline. */
static void on_raw_delivery(rd_kafka_t *rk, const rd_kafka_message_t *msg, void *opaque) {
        (void)rk;
        if (msg->err)
                (*(long *)opaque)++;
}

/* The producer's per-message headers: its department and a 36-character
 * event id (sharebus.event_id), copied into each message as it does. */
static rd_kafka_headers_t *raw_headers(long i) {
        char event_id[40];
        unsigned long n = (unsigned long)i;
        snprintf(event_id, sizeof(event_id), "%08lx-0000-4000-8000-%012lx", n & 0xffffffffUL,
                 n & 0xffffffffffffUL);
        rd_kafka_headers_t *h = rd_kafka_headers_new(2);
        rd_kafka_header_add(h, "sharebus.department", -1, "bench", -1);
        rd_kafka_header_add(h, "sharebus.event_id", -1, event_id, -1);
        return h;
}

/* Like parse_long, 0 allowed. */
static long parse_count(const char *s) { return strcmp(s, "0") == 0 ? 0 : parse_long(s); }

static int produce_raw(const char *bootstrap, const char *topic, long count, long size, long key_size,
                       long tombstones) {
        char errstr[512];
        long failed = 0;
        rd_kafka_conf_t *conf = rd_kafka_conf_new();
        /* The producer's defaults (producers/producer.c kafka_defaults). */
        const char *props[] = {"bootstrap.servers",
                               bootstrap,
                               "enable.idempotence",
                               "true",
                               "acks",
                               "all",
                               "partitioner",
                               "murmur2_random",
                               "linger.ms",
                               "5",
                               "queue.buffering.max.messages",
                               "100000",
                               "queue.buffering.max.kbytes",
                               "32768",
                               NULL};
        for (int i = 0; props[i]; i += 2)
                if (rd_kafka_conf_set(conf, props[i], props[i + 1], errstr, sizeof(errstr)) !=
                    RD_KAFKA_CONF_OK) {
                        fprintf(stderr, "bench_tool: %s\n", errstr);
                        rd_kafka_conf_destroy(conf);
                        return 1;
                }
        rd_kafka_conf_set_dr_msg_cb(conf, on_raw_delivery);
        rd_kafka_conf_set_opaque(conf, &failed);
        rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, errstr, sizeof(errstr));
        if (!rk) {
                fprintf(stderr, "bench_tool: %s\n", errstr);
                return 1;
        }
        char *value = malloc((size_t)size);
        char *key = malloc((size_t)key_size + 32);
        if (!value || !key) {
                free(value);
                free(key);
                rd_kafka_destroy(rk);
                return 1;
        }
        memset(value, 'x', (size_t)size);
        memset(key, 'k', (size_t)key_size + 32);
        double start = now_s();
        for (long i = 0; i < count; i++) {
                /* A distinct key prefix, padded to the events' mean key size. */
                int klen = snprintf(key, 32, "key-%ld", i % 25000);
                key[klen] = 'k';
                size_t key_len = (size_t)(key_size > klen ? key_size : klen);
                /* `tombstones` null-valued messages spread evenly, as deletes' are. */
                int messages = 1 + (int)((i + 1) * tombstones / count - i * tombstones / count);
                for (int m = 0; m < messages; m++) {
                        rd_kafka_headers_t *hdrs = raw_headers(i);
                        rd_kafka_resp_err_t err;
                        while ((err = rd_kafka_producev(
                                        rk, RD_KAFKA_V_TOPIC(topic), RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
                                        RD_KAFKA_V_KEY(key, key_len),
                                        RD_KAFKA_V_VALUE(m ? NULL : value, m ? 0 : (size_t)size),
                                        RD_KAFKA_V_HEADERS(hdrs), RD_KAFKA_V_END)) ==
                               RD_KAFKA_RESP_ERR__QUEUE_FULL)
                                rd_kafka_poll(rk, 10);
                        if (err) {
                                rd_kafka_headers_destroy(hdrs);
                                failed++;
                        }
                }
                rd_kafka_poll(rk, 0);
        }
        int left = rd_kafka_flush(rk, 60000) ? rd_kafka_outq_len(rk) : 0;
        double took = now_s() - start;
        free(value);
        free(key);
        rd_kafka_destroy(rk);
        if (failed || left) {
                fprintf(stderr, "bench_tool: %ld messages failed, %d undelivered\n", failed, left);
                return 1;
        }
        printf("%.0f\n", (double)count / took);
        return 0;
}

static int consume_raw(const char *bootstrap, const char *topic, long count) {
        char errstr[512], group[64];
        snprintf(group, sizeof(group), "bench-raw-%ld", (long)getpid());
        rd_kafka_conf_t *conf = rd_kafka_conf_new();
        rd_kafka_conf_set(conf, "bootstrap.servers", bootstrap, NULL, 0);
        rd_kafka_conf_set(conf, "group.id", group, NULL, 0);
        rd_kafka_conf_set(conf, "auto.offset.reset", "earliest", NULL, 0);
        rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_CONSUMER, conf, errstr, sizeof(errstr));
        if (!rk)
                return 1;
        rd_kafka_poll_set_consumer(rk);
        rd_kafka_topic_partition_list_t *tl = rd_kafka_topic_partition_list_new(1);
        rd_kafka_topic_partition_list_add(tl, topic, RD_KAFKA_PARTITION_UA);
        rd_kafka_subscribe(rk, tl);
        rd_kafka_topic_partition_list_destroy(tl);
        long got = 0;
        double start = 0, deadline = now_s() + 120;
        while (got < count && now_s() < deadline) {
                rd_kafka_message_t *m = rd_kafka_consumer_poll(rk, 100);
                if (!m)
                        continue;
                if (!m->err) {
                        if (got++ == 0)
                                start = now_s(); /* from the first record: not the group join */
                }
                rd_kafka_message_destroy(m);
        }
        double took = now_s() - start;
        rd_kafka_consumer_close(rk);
        rd_kafka_destroy(rk);
        if (got < count) {
                fprintf(stderr, "bench_tool: consumed %ld of %ld\n", got, count);
                return 1;
        }
        printf("%.0f\n", (double)(count - 1) / took);
        return 0;
}

/* The measured command, for the signal handler: SIGTERM and SIGINT sent to
 * bench_tool are passed on to it (an outbox producer runs until stopped).
 * A signal handler can reach nothing else. */
static volatile pid_t measured_pid;

static void forward_signal(int sig) {
        if (measured_pid > 0)
                kill(measured_pid, sig);
}

static int measure(char **argv, int with_cpu) {
        double start = now_s();
        pid_t pid = fork();
        if (pid < 0) {
                perror("fork");
                return 1;
        }
        if (pid == 0) {
                execvp(argv[0], argv);
                perror(argv[0]);
                _exit(127);
        }
        measured_pid = pid;
        struct sigaction sa;
        memset(&sa, 0, sizeof(sa));
        sa.sa_handler = forward_signal;
        sigaction(SIGTERM, &sa, NULL);
        sigaction(SIGINT, &sa, NULL);
        int status;
        struct rusage ru;
        pid_t got;
        while ((got = wait4(pid, &status, 0, &ru)) < 0 && errno == EINTR)
                ;
        if (got < 0)
                return 1;
        if (with_cpu)
                printf("%.3f %ld %.3f\n", now_s() - start, ru.ru_maxrss,
                       (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6 +
                               (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec / 1e6);
        else
                printf("%.3f %ld\n", now_s() - start, ru.ru_maxrss);
        return WIFEXITED(status) ? WEXITSTATUS(status) : 1;
}

static int commit_groups(const char *bootstrap, const char *prefix, long groups, long partitions) {
        char errstr[512], group[256], topic[256];
        for (long g = 0; g < groups; g++) {
                snprintf(group, sizeof(group), "%s.g%ld", prefix, g);
                snprintf(topic, sizeof(topic), "%s.t%ld", prefix, g);
                rd_kafka_conf_t *conf = rd_kafka_conf_new();
                rd_kafka_conf_set(conf, "bootstrap.servers", bootstrap, NULL, 0);
                rd_kafka_conf_set(conf, "group.id", group, NULL, 0);
                rd_kafka_conf_set(conf, "enable.auto.commit", "false", NULL, 0);
                rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_CONSUMER, conf, errstr, sizeof(errstr));
                if (!rk) {
                        fprintf(stderr, "bench_tool: %s\n", errstr);
                        rd_kafka_conf_destroy(conf);
                        return 1;
                }
                rd_kafka_topic_partition_list_t *l = rd_kafka_topic_partition_list_new((int)partitions);
                for (long p = 0; p < partitions; p++)
                        rd_kafka_topic_partition_list_add(l, topic, (int32_t)p)->offset = 0;
                rd_kafka_resp_err_t err = rd_kafka_commit(rk, l, 0);
                rd_kafka_topic_partition_list_destroy(l);
                rd_kafka_destroy(rk);
                if (err) {
                        fprintf(stderr, "bench_tool: commit %s: %s\n", group, rd_kafka_err2str(err));
                        return 1;
                }
        }
        return 0;
}

static double cpu_s(void) {
        struct rusage ru;
        getrusage(RUSAGE_SELF, &ru);
        return (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6 + (double)ru.ru_stime.tv_sec +
               (double)ru.ru_stime.tv_usec / 1e6;
}

static char *read_all(const char *path, size_t *len) {
        FILE *f = fopen(path, "rb");
        if (!f)
                return NULL;
        size_t cap = 1 << 20, n = 0;
        char *data = malloc(cap);
        size_t got;
        while (data && (got = fread(data + n, 1, cap - n, f)) > 0) {
                n += got;
                if (n == cap) {
                        char *bigger = realloc(data, cap * 2);
                        if (!bigger) {
                                free(data);
                                data = NULL;
                                break;
                        }
                        data = bigger;
                        cap *= 2;
                }
        }
        fclose(f);
        *len = n;
        return data;
}

static int encode_lines(const char *schema_dir, const char *topic, const char *path, int legacy) {
        char errstr[1024];
        sb_dataset_t *ds = NULL;
        size_t len = 0;
        int rc = 1;
        if (sb_dataset_load(schema_dir, topic, &ds, errstr, sizeof(errstr))) {
                fprintf(stderr, "bench_tool: %s\n", errstr);
                return 1;
        }
        sb_event_encoder_t enc = {.dataset = ds,
                                  .key_schema_id = 1,
                                  .value_schema_id = 2,
                                  .department = "market",
                                  .system = "bench"};
        if (sb_rules_new(sb_schema_root(sb_dataset_key_schema(ds)), &enc.key_rules, errstr, sizeof(errstr)) ||
            sb_rules_new(sb_dataset_row(ds), &enc.row_rules, errstr, sizeof(errstr))) {
                fprintf(stderr, "bench_tool: rules: %s\n", errstr);
                goto done;
        }
        char *data = read_all(path, &len);
        if (!data) {
                fprintf(stderr, "bench_tool: cannot read %s\n", path);
                goto done;
        }
        sb_event_worker_t *worker = NULL;
        if (sb_event_worker_new(&enc, &worker, errstr, sizeof(errstr))) {
                fprintf(stderr, "bench_tool: %s\n", errstr);
                free(data);
                goto done;
        }
        sb_buf_t key, value;
        sb_buf_init(&key, 1 << 20);
        sb_buf_init(&value, 1 << 20);
        long events = 0, invalid = 0;
        int64_t lineno = 0;
        double start = cpu_s();
        for (size_t at = 0; at < len;) {
                const char *line = data + at;
                const char *nl = memchr(line, '\n', len - at);
                size_t n = nl ? (size_t)(nl - line) : len - at;
                at += n + 1;
                lineno++;
                if (sb_change_line_is_blank(line, n))
                        continue;
                char event_id[37];
                sb_err_t bad;
                if (legacy) {
                        sb_change_line_t cl;
                        bad = sb_change_line_parse(line, n, &cl, errstr, sizeof(errstr));
                        if (!bad) {
                                bad = sb_event_encode(&enc, &cl, lineno, &key, &value, event_id, errstr,
                                                      sizeof(errstr));
                                sb_change_line_clear(&cl);
                        }
                } else {
                        char op;
                        bad = sb_event_encode_text(worker, line, n, lineno, &key, &value, event_id, &op,
                                                   errstr, sizeof(errstr));
                }
                if (bad && invalid++ < 3)
                        fprintf(stderr, "bench_tool: line %lld: %s\n", (long long)lineno, errstr);
                events += !bad;
        }
        double took = cpu_s() - start;
        printf("%.3f %ld %ld\n", took * 1e6 / (double)(events + invalid ? events + invalid : 1), events,
               invalid);
        sb_buf_free(&key);
        sb_buf_free(&value);
        sb_event_worker_destroy(worker);
        free(data);
        rc = 0;
done:
        sb_event_encoder_clear(&enc);
        sb_dataset_destroy(ds);
        return rc;
}

int main(int argc, char **argv) {
        if (argc >= 6 && strcmp(argv[1], "produce-raw") == 0)
                return produce_raw(argv[2], argv[3], parse_long(argv[4]), parse_long(argv[5]),
                                   argc >= 7 ? parse_long(argv[6]) : 24,
                                   argc >= 8 ? parse_count(argv[7]) : 0);
        if (argc >= 5 && strcmp(argv[1], "consume-raw") == 0)
                return consume_raw(argv[2], argv[3], parse_long(argv[4]));
        if (argc >= 3 && strcmp(argv[1], "measure") == 0)
                return measure(argv + 2, 0);
        if (argc >= 3 && strcmp(argv[1], "measure-cpu") == 0)
                return measure(argv + 2, 1);
        if (argc >= 6 && strcmp(argv[1], "commit-groups") == 0)
                return commit_groups(argv[2], argv[3], parse_long(argv[4]), parse_long(argv[5]));
        if (argc >= 5 && strcmp(argv[1], "encode-lines") == 0)
                return encode_lines(argv[2], argv[3], argv[4], argc >= 6 && strcmp(argv[5], "legacy") == 0);
        if (argc >= 4 && strcmp(argv[1], "upsert-raw") == 0)
                return upsert_raw(argv[2], argv[3], argc >= 5 ? parse_long(argv[4]) : 500);
        if (argc >= 6 && strcmp(argv[1], "upsert-raw-pg") == 0)
                return upsert_raw_pg(argv[2], argv[3], argv[4], argv[5],
                                     argc >= 7 ? parse_long(argv[6]) : 500);
        fprintf(stderr,
                "usage: bench_tool produce-raw BOOTSTRAP TOPIC COUNT SIZE [KEY_SIZE [TOMBSTONES]] | "
                "consume-raw BOOTSTRAP TOPIC "
                "COUNT | measure COMMAND... | measure-cpu COMMAND... | commit-groups BOOTSTRAP PREFIX GROUPS "
                "PARTITIONS | encode-lines SCHEMA_DIR TOPIC FILE [legacy] | "
                "upsert-raw FILE DB [BATCH] | upsert-raw-pg FILE CONNINFO LIKE_TABLE TABLE [BATCH]\n");
        return 2;
}

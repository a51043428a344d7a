/*
 * bench_tool: baselines and measuring helpers for `make bench`.
 *
 *   bench_tool produce-raw BOOTSTRAP TOPIC COUNT SIZE
 *       raw librdkafka producer with the producer's settings (idempotent,
 *       acks=all, linger.ms=5): prints "<events/s>"
 *   bench_tool consume-raw BOOTSTRAP TOPIC COUNT
 *       raw librdkafka consumer reading COUNT records: prints "<events/s>"
 *   bench_tool measure COMMAND [ARGS...]
 *       runs COMMAND; prints "<wall seconds> <peak RSS KiB>" (stdin is passed on)
 *   bench_tool encode-lines SCHEMA_DIR TOPIC FILE [legacy]
 *       the producer's per-event work without Kafka: loads the dataset,
 *       compiles the rules from the local schemas (the producer takes them
 *       from the registry), reads FILE into memory and encodes every line
 *       with the encoder's entry point (`legacy`: the jansson path, parse
 *       then sb_event_encode).  Prints "<CPU us per event> <events> <invalid>",
 *       CPU being user + system time of the encode loop alone.
 */
#include <librdkafka/rdkafka.h>
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

static int produce_raw(const char *bootstrap, const char *topic, long count, long size) {
        char errstr[512];
        rd_kafka_conf_t *conf = rd_kafka_conf_new();
        const char *props[] = {
                "bootstrap.servers", bootstrap, "enable.idempotence", "true",           "acks", "all",
                "linger.ms",         "5",       "partitioner",        "murmur2_random", NULL};
        for (int i = 0; props[i]; i += 2)
                rd_kafka_conf_set(conf, props[i], props[i + 1], NULL, 0);
        rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, errstr, sizeof(errstr));
        if (!rk) {
                fprintf(stderr, "bench_tool: %s\n", errstr);
                return 1;
        }
        char *value = malloc((size_t)size);
        if (!value)
                return 1;
        memset(value, 'x', (size_t)size);
        double start = now_s();
        for (long i = 0; i < count; i++) {
                char key[32];
                int klen = snprintf(key, sizeof(key), "key-%ld", i % 10000);
                while (rd_kafka_producev(
                               rk, RD_KAFKA_V_TOPIC(topic), RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
                               RD_KAFKA_V_KEY(key, (size_t)klen), RD_KAFKA_V_VALUE(value, (size_t)size),
                               RD_KAFKA_V_END) == RD_KAFKA_RESP_ERR__QUEUE_FULL)
                        rd_kafka_poll(rk, 10);
                rd_kafka_poll(rk, 0);
        }
        rd_kafka_flush(rk, 60000);
        double took = now_s() - start;
        printf("%.0f\n", (double)count / took);
        free(value);
        rd_kafka_destroy(rk);
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

static int measure(char **argv) {
        double start = now_s();
        pid_t pid = fork();
        if (pid == 0) {
                execvp(argv[0], argv);
                perror(argv[0]);
                _exit(127);
        }
        int status;
        struct rusage ru;
        if (wait4(pid, &status, 0, &ru) < 0)
                return 1;
        printf("%.3f %ld\n", now_s() - start, ru.ru_maxrss);
        return WIFEXITED(status) ? WEXITSTATUS(status) : 1;
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
                return produce_raw(argv[2], argv[3], parse_long(argv[4]), parse_long(argv[5]));
        if (argc >= 5 && strcmp(argv[1], "consume-raw") == 0)
                return consume_raw(argv[2], argv[3], parse_long(argv[4]));
        if (argc >= 3 && strcmp(argv[1], "measure") == 0)
                return measure(argv + 2);
        if (argc >= 5 && strcmp(argv[1], "encode-lines") == 0)
                return encode_lines(argv[2], argv[3], argv[4], argc >= 6 && strcmp(argv[5], "legacy") == 0);
        fprintf(stderr,
                "usage: bench_tool produce-raw BOOTSTRAP TOPIC COUNT SIZE | consume-raw BOOTSTRAP TOPIC "
                "COUNT | measure COMMAND... | encode-lines SCHEMA_DIR TOPIC FILE [legacy]\n");
        return 2;
}

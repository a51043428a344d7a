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
 */
#include <librdkafka/rdkafka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

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

int main(int argc, char **argv) {
        if (argc >= 6 && strcmp(argv[1], "produce-raw") == 0)
                return produce_raw(argv[2], argv[3], parse_long(argv[4]), parse_long(argv[5]));
        if (argc >= 5 && strcmp(argv[1], "consume-raw") == 0)
                return consume_raw(argv[2], argv[3], parse_long(argv[4]));
        if (argc >= 3 && strcmp(argv[1], "measure") == 0)
                return measure(argv + 2);
        fprintf(stderr,
                "usage: bench_tool produce-raw BOOTSTRAP TOPIC COUNT SIZE | consume-raw BOOTSTRAP TOPIC "
                "COUNT | measure COMMAND...\n");
        return 2;
}

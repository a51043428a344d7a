#include "harness.h"

#include <curl/curl.h>
#include <errno.h>
#include <fcntl.h>
#include <librdkafka/rdkafka.h>
#include <math.h>
#include <signal.h>
#include <sqlite3.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "sample.h"
#include "sb_clock.h"
#include "sb_envelope.h"
#include "sb_uuid.h"
#include "sb_wire.h"

void h_sleep_ms(int ms) {
        struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
        nanosleep(&ts, NULL);
}

static int read_line(const char *path, char *out, size_t size) {
        FILE *f = fopen(path, "r");
        if (!f)
                return -1;
        int ok = fgets(out, (int)size, f) != NULL;
        fclose(f);
        if (!ok)
                return -1;
        out[strcspn(out, "\r\n")] = 0;
        return 0;
}

pid_t h_spawn(char *const argv[], const char *log_path) {
        /* A signal sent to the child before it has exec'd must not run the
         * test's handlers there (Check's would report it as the test's own
         * death through the pipe the child inherited): block the usual ones
         * across the fork, and let the child take them with their default
         * actions. */
        sigset_t block, saved;
        sigemptyset(&block);
        sigaddset(&block, SIGTERM);
        sigaddset(&block, SIGINT);
        sigaddset(&block, SIGHUP);
        sigaddset(&block, SIGALRM);
        sigprocmask(SIG_BLOCK, &block, &saved);
        pid_t pid = fork();
        if (pid == 0) {
                signal(SIGTERM, SIG_DFL);
                signal(SIGINT, SIG_DFL);
                signal(SIGHUP, SIG_DFL);
                signal(SIGALRM, SIG_DFL);
                sigprocmask(SIG_SETMASK, &saved, NULL);
                int fd = open(log_path, O_WRONLY | O_CREAT | O_APPEND, 0644);
                if (fd >= 0) {
                        dup2(fd, 1);
                        dup2(fd, 2);
                        close(fd);
                }
                execv(argv[0], argv);
                fprintf(stderr, "exec %s: %s\n", argv[0], strerror(errno));
                _exit(127);
        }
        sigprocmask(SIG_SETMASK, &saved, NULL);
        return pid;
}

int h_wait(pid_t pid, int timeout_ms) {
        int status;
        if (pid <= 0)
                return -1; /* h_spawn could not fork */
        for (int waited = 0;; waited += 20) {
                pid_t r = waitpid(pid, &status, WNOHANG);
                if (r == pid)
                        return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
                if (r < 0)
                        return -1;
                if (waited >= timeout_ms) {
                        kill(pid, SIGKILL);
                        waitpid(pid, &status, 0);
                        return -1;
                }
                h_sleep_ms(20);
        }
}

int h_run(char *const argv[], const char *log_path, int timeout_ms) {
        return h_wait(h_spawn(argv, log_path), timeout_ms);
}

const char *h_bin(const h_env_t *env, const char *program) {
        static char path[1200];
        snprintf(path, sizeof(path), "%s/build/bin/%s", env->src, program);
        return path;
}

const char *h_write_file(const h_env_t *env, const char *name, const char *fmt, ...) {
        static char path[600];
        va_list ap;
        snprintf(path, sizeof(path), "%s/%s", env->dir, name);
        FILE *f = fopen(path, "w");
        if (!f)
                return NULL;
        va_start(ap, fmt);
        vfprintf(f, fmt, ap);
        va_end(ap);
        fclose(f);
        return path;
}

int h_file_contains(const char *path, const char *needle) {
        FILE *f = fopen(path, "r");
        char line[8192];
        int found = 0;
        while (f && !found && fgets(line, sizeof(line), f))
                found = strstr(line, needle) != NULL;
        if (f)
                fclose(f);
        return found;
}

static void print_file_tail(const char *path) {
        char cmd[1200];
        snprintf(cmd, sizeof(cmd), "tail -n 30 '%s' 1>&2", path);
        if (system(cmd) != 0)
                fprintf(stderr, "(no %s)\n", path);
}

int h_env_start(h_env_t *env) {
        char cmd[4096], path[600];
        const char *src = getenv("SHAREBUS_SRC");
        memset(env, 0, sizeof(*env));
        snprintf(env->src, sizeof(env->src), "%s", src && *src ? src : ".");
        snprintf(env->dir, sizeof(env->dir), "/tmp/sharebus-it-XXXXXX");
        if (!mkdtemp(env->dir)) {
                perror("mkdtemp");
                return -1;
        }
        snprintf(cmd, sizeof(cmd),
                 "'%s/broker-config/kafka-start.sh' '%s/kafka' > '%s/bootstrap' 2> '%s/kafka-start.log'",
                 env->src, env->dir, env->dir, env->dir);
        if (system(cmd) != 0) {
                fprintf(stderr, "harness: Kafka did not start:\n");
                snprintf(path, sizeof(path), "%s/kafka-start.log", env->dir);
                print_file_tail(path);
                return -1;
        }
        snprintf(path, sizeof(path), "%s/bootstrap", env->dir);
        if (read_line(path, env->bootstrap, sizeof(env->bootstrap)))
                return -1;
        const char *conf =
                h_write_file(env, "registry.conf",
                             "listen_port = 0;\nport_file = \"%s/registry.port\";\nlog_level = \"info\";\n"
                             "storage = \"kafka\";\nkafka = { bootstrap_servers = \"%s\"; };\n",
                             env->dir, env->bootstrap);
        char conf_copy[600];
        snprintf(conf_copy, sizeof(conf_copy), "%s", conf);
        snprintf(path, sizeof(path), "%s/registry.log", env->dir);
        char *argv[] = {(char *)h_bin(env, "sharebus-registry"), "--config", conf_copy, NULL};
        char bin[1200];
        snprintf(bin, sizeof(bin), "%s", argv[0]);
        argv[0] = bin;
        env->registry_pid = h_spawn(argv, path);
        char port[32] = "";
        snprintf(path, sizeof(path), "%s/registry.port", env->dir);
        for (int i = 0; i < 250 && read_line(path, port, sizeof(port)); i++)
                h_sleep_ms(20);
        if (!port[0]) {
                fprintf(stderr, "harness: the registry did not start\n");
                snprintf(path, sizeof(path), "%s/registry.log", env->dir);
                print_file_tail(path);
                return -1;
        }
        snprintf(env->registry_url, sizeof(env->registry_url), "http://127.0.0.1:%s", port);
        fprintf(stderr, "harness: Kafka at %s, registry at %s, files in %s\n", env->bootstrap,
                env->registry_url, env->dir);
        return 0;
}

void h_env_stop(h_env_t *env) {
        char cmd[2048];
        if (env->registry_pid > 0) {
                kill(env->registry_pid, SIGTERM);
                h_wait(env->registry_pid, 10000);
        }
        snprintf(cmd, sizeof(cmd), "'%s/broker-config/kafka-stop.sh' '%s/kafka' >/dev/null 2>&1", env->src,
                 env->dir);
        if (system(cmd) != 0)
                fprintf(stderr, "harness: kafka-stop.sh failed\n");
        if (!getenv("SHAREBUS_KEEP_TEST_DIR")) {
                snprintf(cmd, sizeof(cmd), "rm -rf '%s'", env->dir);
                if (system(cmd) != 0)
                        fprintf(stderr, "harness: could not remove %s\n", env->dir);
        }
}

int h_create_topic(const h_env_t *env, const char *topic, int partitions) {
        /* Through the program operators use, so that every suite runs it:
         * a one-topic declaration, applied (a partial file is safe: the
         * suite's other topics are kept). */
        char name[400], conf[600], log[700], bin[1200];
        snprintf(name, sizeof(name), "topics-%s-%ld.conf", topic, (long)getpid());
        const char *path =
                h_write_file(env, name,
                             "kafka = { bootstrap_servers = \"%s\"; };\n"
                             "topics = ( { name = \"%s\"; partitions = %d; replication_factor = 1; } );\n",
                             env->bootstrap, topic, partitions);
        if (!path)
                return -1;
        snprintf(conf, sizeof(conf), "%s", path);
        snprintf(log, sizeof(log), "%s.log", conf);
        snprintf(bin, sizeof(bin), "%s", h_bin(env, "sharebus-topics"));
        char rf[16];
        snprintf(rf, sizeof(rf), "%d", env->replication_factor > 1 ? env->replication_factor : 1);
        char *argv[] = {bin, "apply", "--config", conf, "--replication-factor", rf, NULL};
        int rc = h_run(argv, log, 120000);
        if (rc != 0) {
                fprintf(stderr, "create topic %s: sharebus-topics apply exited %d:\n", topic, rc);
                print_file_tail(log);
                return -1;
        }
        return 0;
}

json_t *h_expected_state(const char *lines_path, const char *key_field) {
        FILE *f = fopen(lines_path, "r");
        json_t *state = json_object();
        char *line = NULL;
        size_t cap = 0;
        ssize_t n;
        ck_assert_msg(f != NULL, "cannot open %s", lines_path);
        while ((n = getline(&line, &cap, f)) > 0) {
                json_t *ev = json_loadb(line, (size_t)n, 0, NULL);
                ck_assert_ptr_nonnull(ev);
                const char *key = json_string_value(json_object_get(json_object_get(ev, "key"), key_field));
                const char *op = json_string_value(json_object_get(ev, "op"));
                ck_assert_ptr_nonnull(key);
                if (strcmp(op, "d") == 0)
                        json_object_del(state, key);
                else
                        json_object_set(state, key, json_object_get(ev, "after"));
                json_decref(ev);
        }
        free(line);
        fclose(f);
        return state;
}

static void assert_column(const char *table, const char *key, const char *col, sqlite3_stmt *st, int i,
                          const json_t *v) {
        int type = sqlite3_column_type(st, i);
        switch (json_typeof(v)) {
        case JSON_NULL:
                ck_assert_msg(type == SQLITE_NULL, "%s[%s].%s: expected NULL", table, key, col);
                break;
        case JSON_STRING:
                ck_assert_msg(type == SQLITE_TEXT && strcmp((const char *)sqlite3_column_text(st, i),
                                                            json_string_value(v)) == 0,
                              "%s[%s].%s: expected '%s', got '%s'", table, key, col, json_string_value(v),
                              type == SQLITE_TEXT ? (const char *)sqlite3_column_text(st, i) : "(not text)");
                break;
        case JSON_INTEGER:
                ck_assert_msg(type == SQLITE_INTEGER && sqlite3_column_int64(st, i) == json_integer_value(v),
                              "%s[%s].%s: expected %lld", table, key, col, (long long)json_integer_value(v));
                break;
        case JSON_REAL:
                ck_assert_msg(type == SQLITE_FLOAT && sqlite3_column_double(st, i) == json_real_value(v),
                              "%s[%s].%s: expected %.17g, got %.17g", table, key, col, json_real_value(v),
                              sqlite3_column_double(st, i));
                break;
        case JSON_TRUE:
        case JSON_FALSE:
                ck_assert_msg(type == SQLITE_INTEGER && sqlite3_column_int(st, i) == json_is_true(v),
                              "%s[%s].%s: expected boolean %d", table, key, col, json_is_true(v));
                break;
        default: ck_abort_msg("%s[%s].%s: unexpected JSON type", table, key, col);
        }
}

void h_assert_table_equals(const char *db_path, const char *table, const char *key_field,
                           const json_t *expected) {
        sqlite3 *db;
        sqlite3_stmt *st;
        char sql[512];
        const char *key;
        json_t *row;
        ck_assert_int_eq(sqlite3_open_v2(db_path, &db, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
        snprintf(sql, sizeof(sql), "SELECT count(*) FROM \"%s\"", table);
        ck_assert_int_eq(sqlite3_prepare_v2(db, sql, -1, &st, NULL), SQLITE_OK);
        ck_assert_int_eq(sqlite3_step(st), SQLITE_ROW);
        ck_assert_msg((size_t)sqlite3_column_int64(st, 0) == json_object_size(expected),
                      "table %s has %lld rows, expected %zu", table, (long long)sqlite3_column_int64(st, 0),
                      json_object_size(expected));
        sqlite3_finalize(st);
        snprintf(sql, sizeof(sql), "SELECT * FROM \"%s\" WHERE \"%s\" = ?1", table, key_field);
        ck_assert_int_eq(sqlite3_prepare_v2(db, sql, -1, &st, NULL), SQLITE_OK);
        json_object_foreach((json_t *)expected, key, row) {
                sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
                ck_assert_msg(sqlite3_step(st) == SQLITE_ROW, "%s: row %s missing", table, key);
                ck_assert_int_eq((size_t)sqlite3_column_count(st), json_object_size(row));
                for (int i = 0; i < sqlite3_column_count(st); i++) {
                        const char *col = sqlite3_column_name(st, i);
                        const json_t *v = json_object_get(row, col);
                        ck_assert_msg(v != NULL, "%s: unexpected column %s", table, col);
                        assert_column(table, key, col, st, i, v);
                }
                sqlite3_reset(st);
        }
        sqlite3_finalize(st);
        sqlite3_close(db);
}

long long h_sqlite_int(const char *db_path, const char *sql) {
        sqlite3 *db;
        sqlite3_stmt *st;
        long long v = -1;
        if (sqlite3_open_v2(db_path, &db, SQLITE_OPEN_READONLY, NULL) != SQLITE_OK) {
                sqlite3_close(db);
                return -1;
        }
        sqlite3_busy_timeout(db, 5000);
        if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) == SQLITE_OK) {
                if (sqlite3_step(st) == SQLITE_ROW)
                        v = sqlite3_column_int64(st, 0);
                sqlite3_finalize(st);
        }
        sqlite3_close(db);
        return v;
}

const char *h_path(const h_env_t *env, const char *name) {
        static char path[600];
        snprintf(path, sizeof(path), "%s/%s", env->dir, name);
        return path;
}

void h_copy_dataset(const h_env_t *env, const char *from, const char *to) {
        char cmd[4096];
        snprintf(cmd, sizeof(cmd),
                 "mkdir -p '%s/schemas' && cp '%s/schemas/datasets/%s.key.avsc' '%s/schemas/%s.key.avsc' && "
                 "cp '%s/schemas/datasets/%s.row.avsc' '%s/schemas/%s.row.avsc'",
                 env->dir, env->src, from, env->dir, to, env->src, from, env->dir, to);
        ck_assert_int_eq(system(cmd), 0);
}

int h_write_sample(const h_env_t *env, const char *sample, const char *name, int count, int keys, int seed,
                   char *path, size_t size) {
        snprintf(path, size, "%s/%s", env->dir, name);
        FILE *f = fopen(path, "w");
        ck_assert_ptr_nonnull(f);
        sb_sample_t *s = NULL;
        char errstr[256];
        ck_assert_msg(sb_sample_new(sample, (uint64_t)seed, (size_t)keys, &s, errstr, sizeof(errstr)) ==
                              SB_OK,
                      "%s", errstr);
        int deletes = 0;
        for (int i = 0; i < count; i++) {
                char *line = sb_sample_next(s);
                ck_assert_ptr_nonnull(line);
                deletes += strncmp(line, "{\"op\":\"d\"", 9) == 0;
                fprintf(f, "%s\n", line);
                free(line);
        }
        sb_sample_destroy(s);
        fclose(f);
        return deletes;
}

const char *h_producer_conf(const h_env_t *env, const char *department, const char *dataset,
                            const char *registry_url, const char *input, const char *extra) {
        char name[256];
        /* The producer refuses to start without its rejects topic. */
        snprintf(name, sizeof(name), "rejects.%s", department);
        if (h_create_topic(env, name, 1) != 0)
                fprintf(stderr, "harness: cannot create %s\n", name);
        snprintf(name, sizeof(name), "producer-%s.%s.conf", department, dataset);
        return h_write_file(env, name,
                            "department = \"%s\";\ndataset = \"%s\";\nschema_dir = \"%s/schemas\";\n"
                            "registry_url = \"%s\";\ninput = \"%s\";\n%s%s"
                            "kafka = { bootstrap_servers = \"%s\"; };\n",
                            department, dataset, env->dir, registry_url ? registry_url : env->registry_url,
                            input, extra ? extra : "", extra ? "\n" : "", env->bootstrap);
}

pid_t h_start_program(const h_env_t *env, const char *program, const char *conf, const char *log) {
        char bin[1200], conf_copy[700];
        snprintf(bin, sizeof(bin), "%s", h_bin(env, program));
        snprintf(conf_copy, sizeof(conf_copy), "%s", conf ? conf : "");
        char *argv[] = {bin, "--config", conf_copy, NULL};
        return h_spawn(argv, log);
}

int h_run_producer(const h_env_t *env, const char *department, const char *dataset, const char *registry_url,
                   const char *input, const char *extra, const char *log) {
        const char *conf = h_producer_conf(env, department, dataset, registry_url, input, extra);
        return h_wait(h_start_program(env, "sharebus-producer", conf, log), 120000);
}

pid_t h_start_subscriber(const h_env_t *env, const char *name, const char *topics, const char *registry_url,
                         const char *db, const char *log_level, const char *extra, const char *kafka_extra,
                         const char *log) {
        char file[256], level[128] = "";
        snprintf(file, sizeof(file), "subscriber-%s.conf", name);
        if (log_level)
                snprintf(level, sizeof(level), "log_level = \"%s\";\n", log_level);
        /* Tests compare the rows with what was published: personal fields in
         * clear, unless the test is about the policy. */
        if (!extra || !strstr(extra, "personal_policy"))
                snprintf(level + strlen(level), sizeof(level) - strlen(level),
                         "personal_policy = \"clear\";\n");
        const char *conf = h_write_file(
                env, file,
                "name = \"%s\";\ntopics = \"%s\";\nregistry_url = \"%s\";\nsqlite_path = \"%s\";\n%s%s%s"
                "kafka = { bootstrap_servers = \"%s\";%s%s };\n",
                name, topics, registry_url ? registry_url : env->registry_url, db, level, extra ? extra : "",
                extra ? "\n" : "", env->bootstrap, kafka_extra ? " " : "", kafka_extra ? kafka_extra : "");
        return h_start_program(env, "sharebus-subscriber", conf, log);
}

int h_start_registry(const h_env_t *env, const char *name, const char *scheme, const char *extra,
                     const char *kafka_extra, pid_t *pid, char *url, size_t url_size) {
        char conf_name[64], port_file[600], log[600];
        snprintf(port_file, sizeof(port_file), "%s/%s.port", env->dir, name);
        snprintf(log, sizeof(log), "%s/%s.log", env->dir, name);
        remove(port_file);
        snprintf(conf_name, sizeof(conf_name), "%s.conf", name);
        const char *conf = h_write_file(env, conf_name,
                                        "listen_port = 0;\nport_file = \"%s\";\nstorage = \"kafka\";\n%s\n"
                                        "kafka = { bootstrap_servers = \"%s\";%s%s };\n",
                                        port_file, extra, env->bootstrap, kafka_extra ? " " : "",
                                        kafka_extra ? kafka_extra : "");
        *pid = h_start_program(env, "sharebus-registry", conf, log);
        char port[32] = "";
        for (int i = 0; i < 1500 && !port[0]; i++) {
                FILE *f = fopen(port_file, "r");
                if (f) {
                        if (!fgets(port, sizeof(port), f))
                                port[0] = 0;
                        fclose(f);
                }
                if (!port[0])
                        h_sleep_ms(20);
        }
        if (!port[0]) {
                fprintf(stderr, "registry %s did not start (see %s)\n", name, log);
                if (*pid > 0) {
                        kill(*pid, SIGKILL);
                        h_wait(*pid, 5000);
                }
                *pid = 0;
                return -1;
        }
        port[strcspn(port, "\r\n")] = 0;
        snprintf(url, url_size, "%s://127.0.0.1:%s", scheme, port);
        return 0;
}

void h_produce_raw(const h_env_t *env, const char *topic, const void *key, size_t key_len, const void *value,
                   size_t value_len) {
        char errstr[256];
        rd_kafka_conf_t *conf = rd_kafka_conf_new();
        rd_kafka_conf_set(conf, "bootstrap.servers", env->bootstrap, NULL, 0);
        rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, errstr, sizeof(errstr));
        ck_assert_ptr_nonnull(rk);
        /* The bytes are copied (RD_KAFKA_MSG_F_COPY), never written. */
        ck_assert_int_eq(rd_kafka_producev(rk, RD_KAFKA_V_TOPIC(topic),
                                           RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
                                           RD_KAFKA_V_KEY((void *)key, key_len),
                                           RD_KAFKA_V_VALUE((void *)value, value_len), RD_KAFKA_V_END),
                         0);
        ck_assert_int_eq(rd_kafka_flush(rk, 30000), 0);
        rd_kafka_destroy(rk);
}

void h_produce_raw_to(const h_env_t *env, const char *topic, int partition, const void *key, size_t key_len,
                      const void *value, size_t value_len) {
        char errstr[256];
        rd_kafka_conf_t *conf = rd_kafka_conf_new();
        rd_kafka_conf_set(conf, "bootstrap.servers", env->bootstrap, NULL, 0);
        ck_assert_int_eq(rd_kafka_conf_set(conf, "message.max.bytes", "1048588", errstr, sizeof(errstr)),
                         RD_KAFKA_CONF_OK);
        rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, errstr, sizeof(errstr));
        ck_assert_ptr_nonnull(rk);
        ck_assert_int_eq(rd_kafka_producev(rk, RD_KAFKA_V_TOPIC(topic), RD_KAFKA_V_PARTITION(partition),
                                           RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
                                           RD_KAFKA_V_KEY((void *)key, key_len),
                                           RD_KAFKA_V_VALUE((void *)value, value_len), RD_KAFKA_V_END),
                         0);
        ck_assert_int_eq(rd_kafka_flush(rk, 30000), 0);
        rd_kafka_destroy(rk);
}

long long h_topic_count(const h_env_t *env, const char *topic, int partitions) {
        char errstr[256];
        rd_kafka_conf_t *conf = rd_kafka_conf_new();
        rd_kafka_conf_set(conf, "bootstrap.servers", env->bootstrap, NULL, 0);
        rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, errstr, sizeof(errstr));
        ck_assert_ptr_nonnull(rk);
        long long total = 0;
        for (int p = 0; p < partitions; p++) {
                int64_t low, high;
                rd_kafka_resp_err_t err = rd_kafka_query_watermark_offsets(rk, topic, p, &low, &high, 30000);
                ck_assert_msg(!err, "watermarks of %s [%d]: %s", topic, p, rd_kafka_err2str(err));
                total += high - low;
        }
        rd_kafka_destroy(rk);
        return total;
}

char *h_read_headers(const h_env_t *env, const char *topic, const char *name, int expect) {
        char errstr[256], group[300];
        rd_kafka_conf_t *conf = rd_kafka_conf_new();
        rd_kafka_conf_set(conf, "bootstrap.servers", env->bootstrap, NULL, 0);
        snprintf(group, sizeof(group), "harness-reader.%s.%s", topic, name);
        rd_kafka_conf_set(conf, "group.id", group, NULL, 0);
        rd_kafka_conf_set(conf, "auto.offset.reset", "earliest", NULL, 0);
        rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_CONSUMER, conf, errstr, sizeof(errstr));
        ck_assert_ptr_nonnull(rk);
        rd_kafka_topic_partition_list_t *tl = rd_kafka_topic_partition_list_new(1);
        rd_kafka_topic_partition_list_add(tl, topic, RD_KAFKA_PARTITION_UA);
        rd_kafka_subscribe(rk, tl);
        rd_kafka_topic_partition_list_destroy(tl);
        size_t cap = 8192, len = 0;
        char *out = calloc(1, cap);
        ck_assert_ptr_nonnull(out);
        for (int i = 0, got = 0; i < 300 && got < expect; i++) {
                rd_kafka_message_t *m = rd_kafka_consumer_poll(rk, 100);
                if (!m)
                        continue;
                rd_kafka_headers_t *hdrs;
                const void *v;
                size_t vlen;
                if (!m->err && !rd_kafka_message_headers(m, &hdrs) &&
                    !rd_kafka_header_get_last(hdrs, name, &v, &vlen) && len < cap) {
                        len += (size_t)snprintf(out + len, cap - len, "%.*s\n", (int)vlen, (const char *)v);
                        got++;
                }
                rd_kafka_message_destroy(m);
        }
        rd_kafka_consumer_close(rk);
        rd_kafka_destroy(rk);
        return out;
}

/* libcurl write callback: appends to the NUL-terminated *(char **)opaque. */
static size_t on_body(char *data, size_t size, size_t n, void *opaque) {
        char **buf = opaque;
        size_t old = *buf ? strlen(*buf) : 0, add = size * n;
        char *grown = realloc(*buf, old + add + 1);
        if (!grown)
                return 0;
        memcpy(grown + old, data, add);
        grown[old + add] = '\0';
        *buf = grown;
        return add;
}

int h_logged_port(const char *log) {
        static const char marker[] = "serving /metrics and /healthz on 127.0.0.1:";
        for (int i = 0; i < 600; i++) {
                FILE *f = fopen(log, "r");
                char line[2048];
                int port = 0;
                while (f && !port && fgets(line, sizeof(line), f)) {
                        const char *at = strstr(line, marker);
                        if (at)
                                port = atoi(at + sizeof(marker) - 1);
                }
                if (f)
                        fclose(f);
                if (port)
                        return port;
                h_sleep_ms(100);
        }
        return 0;
}

long h_http(const char *method, const char *url, const char *user, const char *password, const char *body,
            h_reply_t *out) {
        CURL *c = curl_easy_init();
        memset(out, 0, sizeof(*out));
        if (!c)
                return 0;
        struct curl_slist *h =
                curl_slist_append(NULL, "Content-Type: application/vnd.schemaregistry.v1+json");
        struct curl_header *www;
        curl_easy_setopt(c, CURLOPT_URL, url);
        curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method);
        curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
        curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
        curl_easy_setopt(c, CURLOPT_WRITEDATA, &out->text);
        curl_easy_setopt(c, CURLOPT_TIMEOUT, 60L);
        if (user) {
                curl_easy_setopt(c, CURLOPT_HTTPAUTH, (long)CURLAUTH_BASIC);
                curl_easy_setopt(c, CURLOPT_USERNAME, user);
                curl_easy_setopt(c, CURLOPT_PASSWORD, password);
        }
        if (body)
                curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
        if (curl_easy_perform(c) == CURLE_OK) {
                curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &out->status);
                if (curl_easy_header(c, "WWW-Authenticate", 0, CURLH_HEADER, -1, &www) == CURLHE_OK)
                        snprintf(out->www_authenticate, sizeof(out->www_authenticate), "%s", www->value);
        }
        curl_slist_free_all(h);
        curl_easy_cleanup(c);
        return out->status;
}

void h_reply_free(h_reply_t *out) {
        free(out->text);
        out->text = NULL;
}

int h_run_suite(Suite *s) {
        SRunner *sr = srunner_create(s);
        srunner_run_all(sr, CK_NORMAL);
        int failed = srunner_ntests_failed(sr);
        srunner_free(sr);
        return failed;
}

void h_encode_license(const sb_dataset_t *ds, int32_t key_id, int32_t value_id, const char *department,
                      const char *uscc, const char *name, double capital, sb_buf_t *key, sb_buf_t *value) {
        char errstr[512], dataset[128];
        snprintf(dataset, sizeof(dataset), "%s.license", department);
        sb_buf_reset(key);
        sb_buf_reset(value);
        json_t *k = json_pack("{s:s}", "uscc", uscc);
        json_t *after = json_pack("{s:s, s:s, s:s, s:f, s:n, s:s, s:s, s:n, s:s}", "uscc", uscc, "name", name,
                                  "legal_representative", "Zhao", "registered_capital", capital,
                                  "business_scope", "status", "ACTIVE", "established_on", "2001-02-03",
                                  "address", "updated_at", "2025-01-01T00:00:00Z");
        sb_change_t change = {.op = 'c',
                              .after = after,
                              .ts_ms = sb_clock_now_ms(),
                              .department = department,
                              .system = "not-sharebus",
                              .dataset = dataset,
                              .seq = 1};
        ck_assert_int_eq(sb_uuid4(change.event_id), SB_OK);
        json_t *envelope = sb_envelope_value(&change);
        ck_assert_int_eq(sb_wire_put_header(key, key_id), SB_OK);
        ck_assert_int_eq(sb_wire_put_header(value, value_id), SB_OK);
        ck_assert_msg(sb_avro_encode(sb_dataset_key_schema(ds), k, key, errstr, sizeof(errstr)) == SB_OK,
                      "%s", errstr);
        ck_assert_msg(sb_avro_encode(sb_dataset_value_schema(ds), envelope, value, errstr, sizeof(errstr)) ==
                              SB_OK,
                      "%s", errstr);
        json_decref(envelope);
        json_decref(after);
        json_decref(k);
}

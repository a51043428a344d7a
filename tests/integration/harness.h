/*
 * harness: what the integration suites share: one real Kafka broker and one
 * sharebus-registry per suite (started by main, before Check's runner), the
 * programs under test run as processes, and checks of a SQLite target
 * against the expected state of a stream of change lines.
 */
#ifndef SB_HARNESS_H
#define SB_HARNESS_H

#include <check.h>
#include <jansson.h>
#include <stdint.h>
#include <sys/types.h>

#include "dataset.h"
#include "sb_buf.h"

typedef struct {
        char dir[256];  /* the suite's temporary folder */
        char src[1024]; /* source tree */
        char bootstrap[128];
        char registry_url[128];
        pid_t registry_pid;
        /* Of the topics h_create_topic makes: 0 or 1 on the single broker,
         * 3 on a cluster (tests/cluster); passed as --replication-factor. */
        int replication_factor;
} h_env_t;

/* Starts Kafka (broker-config/kafka-start.sh) and a registry in a new temp
 * folder.  Returns 0, or -1 after printing why. */
int h_env_start(h_env_t *env);
/* Stops what h_env_start started and removes the folder unless
 * SHAREBUS_KEEP_TEST_DIR is set. */
void h_env_stop(h_env_t *env);

/* Creates a topic with `partitions` partitions (replication factor 1, or
 * env->replication_factor with --replication-factor; no
 * configs of its own) by running the built `sharebus-topics apply` on a
 * one-topic file in the suite folder; 0 on success (or if it exists so),
 * else -1 after printing the end of the program's log. */
int h_create_topic(const h_env_t *env, const char *topic, int partitions);

/* Path of a built program, e.g. h_bin(env, "sharebus-producer").  Static
 * buffer, overwritten by the next call. */
const char *h_bin(const h_env_t *env, const char *program);

/* Writes a file named `name` in the suite folder with printf-style content;
 * returns its path (static buffer, overwritten by the next call). */
const char *h_write_file(const h_env_t *env, const char *name, const char *fmt, ...)
        __attribute__((format(printf, 3, 4)));

/* Starts argv[0] with stdout and stderr appended to `log_path`. */
pid_t h_spawn(char *const argv[], const char *log_path);
/* Waits for pid up to timeout_ms; returns its exit code, 128+signal if it
 * was killed, or -1 on timeout (then it is killed with SIGKILL) or when pid
 * is not a process (h_spawn's -1 when it could not fork). */
int h_wait(pid_t pid, int timeout_ms);
/* h_spawn + h_wait. */
int h_run(char *const argv[], const char *log_path, int timeout_ms);

/* 1 if `path` contains `needle`. */
int h_file_contains(const char *path, const char *needle);

/* Expected final state of a table from JSON change lines: an object mapping
 * the key field's value to the row (deleted rows absent).  New reference. */
json_t *h_expected_state(const char *lines_path, const char *key_field);

/* Asserts that SQLite `table` in db_path holds exactly `expected` (from
 * h_expected_state), row by row and column by column. */
void h_assert_table_equals(const char *db_path, const char *table, const char *key_field,
                           const json_t *expected);

/* Runs one integer-valued SQL query on db_path; -1 on error. */
long long h_sqlite_int(const char *db_path, const char *sql);

void h_sleep_ms(int ms);

/* ---- helpers the suites share (tests/integration and tests/interop) ----
 * Those that assert (ck_assert) are for use inside a test; the others also
 * before Check's runner.  Static buffers are overwritten by the next call of
 * the same function only: h_path, h_bin and h_write_file each have their own,
 * so one's result may be passed to another. */

/* <suite folder>/<name>.  Static buffer, overwritten by the next call. */
const char *h_path(const h_env_t *env, const char *name);

/* Copies the schemas of sample dataset `from` (schemas/datasets/<from>.*.avsc
 * of the source tree) to <dir>/schemas/<to>.*.avsc, so each test has a topic
 * of its own.  Asserts that the copy worked. */
void h_copy_dataset(const h_env_t *env, const char *from, const char *to);

/* Writes `count` sample changes (producers/sample.h, seeded with `seed`) over
 * `keys` records of dataset `sample` to <dir>/<name>, one JSON line each, and
 * puts that file's path in path[size] (the caller's buffer).  Returns the
 * number of deletes among them (each adds a tombstone to the topic). */
int h_write_sample(const h_env_t *env, const char *sample, const char *name, int count, int keys, int seed,
                   char *path, size_t size);

/* Writes the config of a sharebus-producer for <department>.<dataset> to
 * <dir>/producer-<department>.<dataset>.conf: schemas from <dir>/schemas,
 * the registry at `registry_url` (NULL: the suite's), Kafka the suite's, the
 * change lines of `input`, and the lines `extra` (NULL: none).  Returns the
 * file's path (h_write_file's static buffer), NULL if it cannot be written. */
const char *h_producer_conf(const h_env_t *env, const char *department, const char *dataset,
                            const char *registry_url, const char *input, const char *extra);

/* Runs build/bin/<program> --config <conf> with its output appended to
 * `log` and returns its pid (not waited for). */
pid_t h_start_program(const h_env_t *env, const char *program, const char *conf, const char *log);

/* h_producer_conf, then runs sharebus-producer with it, its output appended
 * to `log`; returns the exit code as h_wait does (2 minutes at most). */
int h_run_producer(const h_env_t *env, const char *department, const char *dataset, const char *registry_url,
                   const char *input, const char *extra, const char *log);

/* Writes <dir>/subscriber-<name>.conf and starts sharebus-subscriber with it,
 * its output appended to `log`; returns its pid (wait for it with h_wait, or
 * kill it).  The config: `name`, `topics` (comma-separated), the registry at
 * `registry_url` (NULL: the suite's), SQLite target `db`, `log_level` (NULL:
 * not set, the program's default), the lines `extra` (NULL: none), and
 * kafka = { bootstrap_servers = the suite's; `kafka_extra` } (NULL: none). */
pid_t h_start_subscriber(const h_env_t *env, const char *name, const char *topics, const char *registry_url,
                         const char *db, const char *log_level, const char *extra, const char *kafka_extra,
                         const char *log);

/* Starts a sharebus-registry of its own named `name` on a free port, storing
 * in the suite's Kafka: config <dir>/<name>.conf (listen_port, port_file,
 * storage = "kafka", then the lines `extra`, then kafka = { bootstrap_servers
 * = the suite's; `kafka_extra` } (NULL: none)), log <dir>/<name>.log.  Waits
 * up to 30 s for its port; on success sets *pid and url[url_size]
 * ("<scheme>://127.0.0.1:<port>") and returns 0, else prints why, kills it
 * and returns -1 (*pid 0).  Usable before Check's runner. */
int h_start_registry(const h_env_t *env, const char *name, const char *scheme, const char *extra,
                     const char *kafka_extra, pid_t *pid, char *url, size_t url_size);

/* Produces one record of raw bytes (key NULL: no key) to `topic` of the
 * suite's Kafka and flushes, as a client other than ours could; asserts it
 * was delivered.  The bytes are copied; the caller keeps its buffers. */
void h_produce_raw(const h_env_t *env, const char *topic, const void *key, size_t key_len, const void *value,
                   size_t value_len);

/* As h_produce_raw, to `partition`, by a producer that takes records of up
 * to the broker's default limit (1048588 bytes) instead of librdkafka's
 * 1000000, so that a test can write what a bigger client could. */
void h_produce_raw_to(const h_env_t *env, const char *topic, int partition, const void *key, size_t key_len,
                      const void *value, size_t value_len);

/* How many records `topic` holds (high minus low watermark, summed over its
 * `partitions` partitions); asserts that the broker answered. */
long long h_topic_count(const h_env_t *env, const char *topic, int partitions);

/* Reads the records of `topic` from the beginning (a consumer group of its
 * own, for up to ~30 s or until `expect` records carrying header `name` were
 * seen) and returns the values of that header, one a line, each ending in
 * "\n".  The caller frees the string. */
char *h_read_headers(const h_env_t *env, const char *topic, const char *name, int expect);

/* The port a program logged with "serving /metrics and /healthz on
 * 127.0.0.1:PORT" (metrics_listen = "127.0.0.1:0") in `log`, waiting up to
 * 60 s for it; 0 if it did not come. */
int h_logged_port(const char *log);

/* Encodes one create of a business licence (uscc, name, capital) with key
 * schema `key_id` and value schema `value_id` of `ds`, bypassing the
 * producer, into key and value (reset first); the envelope names
 * `department` and the dataset "<department>.license".  Fails the test if
 * it does not encode. */
void h_encode_license(const sb_dataset_t *ds, int32_t key_id, int32_t value_id, const char *department,
                      const char *uscc, const char *name, double capital, sb_buf_t *key, sb_buf_t *value);

/* An HTTP answer from h_http. */
typedef struct {
        long status;                /* the HTTP status, 0 if no answer came */
        char *text;                 /* the body, NUL-terminated; NULL if empty (h_reply_free frees it) */
        char www_authenticate[256]; /* that header of the answer, or "" */
} h_reply_t;

/* One HTTP request with libcurl (Content-Type: application/vnd.schemaregistry
 * .v1+json, 60 s timeout): `method` to `url` with `body` (NULL: none), as
 * `user` with `password` over Basic auth (user NULL: anonymously).  Fills
 * *out, which the caller releases with h_reply_free, and returns its status.
 * The caller has called curl_global_init. */
long h_http(const char *method, const char *url, const char *user, const char *password, const char *body,
            h_reply_t *out);
/* Frees out->text (and sets it NULL). */
void h_reply_free(h_reply_t *out);

/* Runs suite `s` (which it frees) in Check's default runner, with CK_NORMAL
 * output; returns the number of tests that failed. */
int h_run_suite(Suite *s);

#endif

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
#include <sys/types.h>

typedef struct {
        char dir[256];  /* the suite's temporary folder */
        char src[1024]; /* source tree */
        char bootstrap[128];
        char registry_url[128];
        pid_t registry_pid;
} h_env_t;

/* Starts Kafka (broker-config/kafka-start.sh) and a registry in a new temp
 * folder.  Returns 0, or -1 after printing why. */
int h_env_start(h_env_t *env);
/* Stops what h_env_start started and removes the folder unless
 * SHAREBUS_KEEP_TEST_DIR is set. */
void h_env_stop(h_env_t *env);

/* Creates a topic with the Admin API; 0 on success (or if it exists). */
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
 * was killed, or -1 on timeout (then it is killed with SIGKILL). */
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

#endif

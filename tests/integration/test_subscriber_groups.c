/*
 * Integration: sharebus-subscriber instances in one consumer group, and
 * killed, on a real broker and a real sharebus-registry.  Several instances
 * of one group share the partitions of a topic and write to one target; a
 * rebalance (an instance added, one killed with SIGKILL, one killed in the
 * middle of a rebalance, one paused past its session that comes back) and
 * ten SIGKILLs at random moments while 50,000 events flow still leave the
 * target equal to the source row by row, with exactly one receipt per event;
 * so does a PostgreSQL server crashed and restarted mid-stream.
 *
 * The target is behind a small table (target_t): the config lines that name
 * it for the subscriber, a count query, a row-by-row comparison and a held
 * lock.  The tests that loop run on SQLite (_i = ON_SQLITE) and on the
 * suite's PostgreSQL (ON_POSTGRESQL).
 */
#include <curl/curl.h>
#include <libpq-fe.h>
#include <signal.h>
#include <sqlite3.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>

#include "harness.h"
#include "pgserver.h"
#include "pgtable.h"
#include "sb_clock.h"
#include "scrape.h"

static h_env_t env;    /* the suite's broker and registry, set up by main */
static pgserver_t *pg; /* the suite's PostgreSQL, set up by main */

/* A member that is gone (killed) is evicted after 6 s, the broker's
 * smallest session; the heartbeats are frequent enough for that.  Small
 * fetches per partition make an instance apply its partitions side by
 * side, not one after the other, so that each has work left when its
 * instance is killed. */
#define SESSION "session_timeout_ms = 6000; heartbeat_interval_ms = 500; max_partition_fetch_bytes = 16384;"
#define KILLS 10
#define PART_PATH 660 /* a path of stream_t.lines with suffixes */

/* ---- the target, pluggable ---- */

typedef struct target_s target_t;
struct target_s {
        const char *kind;
        char conf[700];  /* the subscriber's config lines that name the target */
        char where[600]; /* what count and assert_rows read: for SQLite, the file */
        /* One integer-valued SQL query; -1 on error. */
        long long (*count)(const target_t *t, const char *sql);
        /* Asserts that `table` holds exactly `expected` (h_expected_state). */
        void (*assert_rows)(const target_t *t, const char *table, const char *key, const json_t *expected);
        /* Takes the lock every writer of the sharebus tables must wait for,
         * and keeps it until release(). */
        void *(*hold)(const target_t *t);
        void (*release)(void *held);
};

static long long sqlite_count(const target_t *t, const char *sql) { return h_sqlite_int(t->where, sql); }

static void sqlite_rows(const target_t *t, const char *table, const char *key, const json_t *expected) {
        h_assert_table_equals(t->where, table, key, expected);
}

static void *sqlite_hold(const target_t *t) {
        sqlite3 *db = NULL;
        ck_assert_int_eq(sqlite3_open(t->where, &db), SQLITE_OK);
        sqlite3_busy_timeout(db, 60000);
        ck_assert_int_eq(sqlite3_exec(db, "BEGIN IMMEDIATE", NULL, NULL, NULL), SQLITE_OK);
        return db;
}

static void sqlite_release(void *held) {
        ck_assert_int_eq(sqlite3_exec(held, "ROLLBACK", NULL, NULL, NULL), SQLITE_OK);
        ck_assert_int_eq(sqlite3_close(held), SQLITE_OK);
}

/* PostgreSQL: `where` is the database's conninfo.  The test's process
 * keeps one connection (tests run in their own processes), made again when
 * the server was restarted. */
static PGconn *pg_reader;

static PGconn *pg_reading(const target_t *t) {
        if (pg_reader && PQstatus(pg_reader) == CONNECTION_OK)
                return pg_reader;
        PQfinish(pg_reader);
        pg_reader = PQconnectdb(t->where);
        if (PQstatus(pg_reader) != CONNECTION_OK)
                return NULL;
        PQclear(PQexec(pg_reader, "SET TimeZone = 'UTC'"));
        return pg_reader;
}

/* -1 while the server is away, 0 before the subscriber made its tables (so
 * that callers waiting go on waiting); a query that fails otherwise fails
 * the test. */
static long long pg_count(const target_t *t, const char *sql) {
        PGconn *c = pg_reading(t);
        if (!c)
                return -1;
        PGresult *r = PQexec(c, sql);
        const char *state = PQresultErrorField(r, PG_DIAG_SQLSTATE);
        if (PQresultStatus(r) != PGRES_TUPLES_OK &&
            (PQstatus(c) != CONNECTION_OK || (state && strcmp(state, "42P01") == 0))) {
                PQclear(r);
                return PQstatus(c) == CONNECTION_OK ? 0 : -1;
        }
        ck_assert_msg(PQresultStatus(r) == PGRES_TUPLES_OK && PQntuples(r) == 1, "%s: %s", sql,
                      PQerrorMessage(c));
        long long v = strtoll(PQgetvalue(r, 0, 0), NULL, 10);
        PQclear(r);
        return v;
}

static void pg_rows(const target_t *t, const char *table, const char *key, const json_t *expected) {
        PGconn *c = pg_reading(t);
        ck_assert_msg(c != NULL, "cannot connect to %s", t->where);
        pgtable_assert_equals(c, table, key, expected);
}

/* Database <name> of the suite's PostgreSQL, made anew. */
static void pg_target(target_t *t, const char *name) {
        char err[512] = "";
        ck_assert_msg(pgserver_create_db(pg, name, err, sizeof(err)) == SB_OK, "%s", err);
        t->kind = "postgresql";
        pgserver_db_conninfo(pg, name, t->where, sizeof(t->where));
        snprintf(t->conf, sizeof(t->conf), "target = \"postgresql\";\npostgresql_conninfo = \"%s\";",
                 t->where);
        t->count = pg_count;
        t->assert_rows = pg_rows;
        t->hold = NULL; /* see paused_member_comes_back_after_its_partitions_moved */
        t->release = NULL;
}

/* A SQLite file <dir>/<name>.db, shared by every instance of the group. */
static void sqlite_target(target_t *t, const char *name) {
        char file[128];
        snprintf(file, sizeof(file), "%s.db", name);
        t->kind = "sqlite";
        snprintf(t->where, sizeof(t->where), "%s", h_path(&env, file));
        snprintf(t->conf, sizeof(t->conf), "target = \"sqlite\";\nsqlite_path = \"%s\";", t->where);
        t->count = sqlite_count;
        t->assert_rows = sqlite_rows;
        t->hold = sqlite_hold;
        t->release = sqlite_release;
}

/* ---- processes the test started, killed if it fails ---- */

static pid_t started[32];
static size_t n_started;

/* At the exit of a test's process (Check exits it on a failed assert):
 * nothing it started outlives it. */
static void kill_started(void) {
        for (size_t i = 0; i < n_started; i++)
                if (started[i] > 0 && waitpid(started[i], NULL, WNOHANG) == 0) {
                        kill(started[i], SIGKILL);
                        waitpid(started[i], NULL, 0);
                }
}

static pid_t track(pid_t pid) {
        ck_assert_int_gt(pid, 0);
        if (n_started == 0)
                atexit(kill_started);
        if (n_started < sizeof(started) / sizeof(*started))
                started[n_started++] = pid;
        return pid;
}

/* ---- a stream of changes of one topic ---- */

typedef struct {
        char name[64];   /* subscriber name (group sharebus.<name>), the topic's department */
        char topic[128]; /* <name>.license, of dataset market.business_license */
        char table[128]; /* <name>_license */
        char lines[600]; /* the change lines */
        int events, deletes;
        long long records; /* in the topic: each event, and a tombstone per delete */
        int partitions;
        target_t target;
} stream_t;

/* The targets a looped test runs on, by its loop index. */
enum { ON_SQLITE, ON_POSTGRESQL, ON_BOTH };

/* A topic of `partitions` and `events` sample changes over `keys` records,
 * applied to a target of kind `on` (ON_SQLITE, ON_POSTGRESQL); the name
 * gets "pg" at its end for PostgreSQL, so that both runs of a test have
 * their own topic and group. */
static void stream_new(stream_t *s, int on, const char *name, int partitions, int events, int keys,
                       int seed) {
        char file[128];
        memset(s, 0, sizeof(*s));
        snprintf(s->name, sizeof(s->name), "%s%s", name, on == ON_POSTGRESQL ? "pg" : "");
        name = s->name;
        snprintf(s->topic, sizeof(s->topic), "%s.license", name);
        snprintf(s->table, sizeof(s->table), "%s_license", name);
        s->partitions = partitions;
        s->events = events;
        h_copy_dataset(&env, "market.business_license", s->topic);
        ck_assert_int_eq(h_create_topic(&env, s->topic, partitions), 0);
        snprintf(file, sizeof(file), "%s.jsonl", name);
        s->deletes = h_write_sample(&env, "market.business_license", file, events, keys, seed, s->lines,
                                    sizeof(s->lines));
        ck_assert_int_gt(s->deletes, 0);
        s->records = events + s->deletes;
        if (on == ON_POSTGRESQL)
                pg_target(&s->target, name);
        else
                sqlite_target(&s->target, name);
}

/* Starts the producer of the change lines in `input`, not waited for. */
static pid_t start_producer_of(const stream_t *s, const char *input) {
        char log[600];
        snprintf(log, sizeof(log), "%s", h_path(&env, "producers.log"));
        const char *conf = h_producer_conf(&env, s->name, "license", NULL, input, NULL);
        ck_assert_ptr_nonnull(conf);
        return track(h_start_program(&env, "sharebus-producer", conf, log));
}

/* Starts the producer of all the stream's lines, not waited for. */
static pid_t start_producer(const stream_t *s) { return start_producer_of(s, s->lines); }

/* Publishes the change lines in `input`; asserts the producer succeeded. */
static void produce_of(const stream_t *s, const char *input) {
        pid_t pid = start_producer_of(s, input);
        ck_assert_msg(h_wait(pid, 120000) == 0, "the producer of %s failed (see producers.log)", s->topic);
}

static void produce(const stream_t *s) { produce_of(s, s->lines); }

/* Splits the change lines of `path` in two files: <path>.head with all but
 * the last `tail` lines, <path>.tail with those; their paths go to
 * head[PART_PATH] and tail_path[PART_PATH].  A test publishes the head, and
 * the tail only after the moment it is about (a kill): whatever the
 * instances' speed, there is then still work left after that moment, on
 * every partition. */
static void split_lines(const char *path, int tail, char *head, char *tail_path) {
        snprintf(head, PART_PATH, "%s.head", path);
        snprintf(tail_path, PART_PATH, "%s.tail", path);
        FILE *in = fopen(path, "r"), *h = fopen(head, "w"), *t = fopen(tail_path, "w");
        ck_assert_msg(in && h && t, "cannot split %s", path);
        char line[8192];
        int n = 0;
        while (fgets(line, sizeof(line), in))
                n++;
        ck_assert_int_gt(n, tail);
        rewind(in);
        for (int i = 0; fgets(line, sizeof(line), in); i++)
                fputs(line, i < n - tail ? h : t);
        ck_assert_int_eq(fclose(in) | fclose(h) | fclose(t), 0);
}

/* Starts instance `member` of the stream's subscriber (config and log
 * <dir>/subscriber-<name>-<member>.*, the log appended across restarts),
 * with the config lines `extra` and the Kafka properties `kafka_extra` (NULL:
 * none) after SESSION.  The log's path goes to log[log_size]. */
static pid_t start_member(const stream_t *s, const char *member, const char *extra, const char *kafka_extra,
                          char *log, size_t log_size) {
        char file[160];
        snprintf(file, sizeof(file), "subscriber-%s-%s.log", s->name, member);
        snprintf(log, log_size, "%s", h_path(&env, file));
        snprintf(file, sizeof(file), "subscriber-%s-%s.conf", s->name, member);
        const char *conf = h_write_file(&env, file,
                                        /* Rows compared with what was published: in clear. */
                                        "name = \"%s\";\ntopics = \"%s\";\nregistry_url = \"%s\";\n"
                                        "personal_policy = \"clear\";\n%s\n%s\n"
                                        "kafka = { bootstrap_servers = \"%s\"; " SESSION " %s };\n",
                                        s->name, s->topic, env.registry_url, s->target.conf,
                                        extra ? extra : "", env.bootstrap, kafka_extra ? kafka_extra : "");
        ck_assert_ptr_nonnull(conf);
        return track(h_start_program(&env, "sharebus-subscriber", conf, log));
}

/* SIGTERM, and a clean exit. */
static void stop_member(pid_t pid, const char *log) {
        kill(pid, SIGTERM);
        ck_assert_msg(h_wait(pid, 60000) == 0, "the subscriber did not stop cleanly (see %s)", log);
}

/* SIGKILL; asserts it was still running. */
static void kill_member(pid_t pid, const char *log) {
        kill(pid, SIGKILL);
        int rc = h_wait(pid, 30000);
        ck_assert_msg(rc == 128 + SIGKILL, "the subscriber ended with %d before it was killed (see %s)", rc,
                      log);
}

/* Records of the stream the target holds as applied: the next offsets
 * stored for the group, summed. */
static long long applied(const stream_t *s) {
        char sql[512];
        snprintf(sql, sizeof(sql),
                 "SELECT coalesce(sum(next_offset), 0) FROM sharebus_offsets WHERE consumer_group = "
                 "'sharebus.%s' AND topic = '%s'",
                 s->name, s->topic);
        return s->target.count(&s->target, sql);
}

/* Waits (up to `timeout_ms`, polling every 5 ms) for applied() >= want;
 * returns the last value. */
static long long applied_when(const stream_t *s, long long want, int timeout_ms) {
        long long got = applied(s);
        for (int waited = 0; got < want && waited < timeout_ms; waited += 5) {
                h_sleep_ms(5);
                got = applied(s);
        }
        return got;
}

/* The next offset the target stores for partition `p`; 0 if none. */
static long long partition_applied(const stream_t *s, int p) {
        char sql[512];
        snprintf(sql, sizeof(sql),
                 "SELECT coalesce(max(next_offset), 0) FROM sharebus_offsets WHERE consumer_group = "
                 "'sharebus.%s' AND topic = '%s' AND kafka_partition = %d",
                 s->name, s->topic, p);
        return s->target.count(&s->target, sql);
}

/* The stored offset of each partition, into then[partitions]. */
static void snapshot(const stream_t *s, long long *then) {
        for (int p = 0; p < s->partitions; p++)
                then[p] = partition_applied(s, p);
}

/* Records applied on the partitions of `bits` since snapshot(then). */
static long long applied_since(const stream_t *s, const long long *then, unsigned bits) {
        long long n = 0;
        for (int p = 0; p < s->partitions; p++)
                if (bits & (1u << p))
                        n += partition_applied(s, p) - then[p];
        return n;
}

/* ---- what the instances logged ---- */

/* What an instance logs when it is given a partition of the stream's topic
 * (a static buffer). */
static const char *assigned_needle(const stream_t *s) {
        static char needle[160];
        snprintf(needle, sizeof(needle), "assigned %s [", s->topic);
        return needle;
}

/* Lines of `log` containing `needle`. */
static int log_count(const char *log, const char *needle) {
        FILE *f = fopen(log, "r");
        char line[8192];
        int n = 0;
        while (f && fgets(line, sizeof(line), f))
                n += strstr(line, needle) != NULL;
        if (f)
                fclose(f);
        return n;
}

/* Waits (up to `timeout_ms`, polling every 5 ms) for `log` to hold `want`
 * lines containing `needle`; returns the last count. */
static int log_when(const char *log, const char *needle, int want, int timeout_ms) {
        int n = log_count(log, needle);
        for (int waited = 0; n < want && waited < timeout_ms; waited += 5) {
                h_sleep_ms(5);
                n = log_count(log, needle);
        }
        return n;
}

/* Asserts that `log` comes to hold `want` lines containing `needle`
 * within a minute; else prints the log's end and fails naming `what`. */
static void assert_logged(const char *log, const char *needle, int want, const char *what) {
        char cmd[800];
        if (log_when(log, needle, want, 60000) >= want)
                return;
        snprintf(cmd, sizeof(cmd), "tail -n 20 '%s' 1>&2", log);
        if (system(cmd) != 0)
                fprintf(stderr, "(no %s)\n", log);
        ck_abort_msg("%s: no %d lines '%s' in %s", what, want, needle, log);
}

/* The partitions of the stream's topic `log` says were ever assigned, as
 * bits (1 << partition). */
static unsigned assigned_partitions(const stream_t *s, const char *log) {
        char needle[200];
        unsigned bits = 0;
        for (int p = 0; p < s->partitions; p++) {
                snprintf(needle, sizeof(needle), "assigned %s [%d],", s->topic, p);
                if (log_count(log, needle))
                        bits |= 1u << p;
        }
        return bits;
}

/* The partitions of the stream's topic its instance holds now, as bits:
 * those of the assignment `log` names last (after its last revocation). */
static unsigned current_partitions(const stream_t *s, const char *log) {
        FILE *f = fopen(log, "r");
        char line[8192], needle[200];
        unsigned bits = 0;
        int p;
        snprintf(needle, sizeof(needle), "assigned %s [", s->topic);
        while (f && fgets(line, sizeof(line), f)) {
                const char *at = strstr(line, needle);
                if (strstr(line, "partitions revoked"))
                        bits = 0;
                else if (at && sscanf(at + strlen(needle), "%d", &p) == 1 && p >= 0 && p < 32)
                        bits |= 1u << p;
        }
        if (f)
                fclose(f);
        return bits;
}

/* Waits (up to 60 s) until `log` says every partition of the stream was
 * assigned to its instance at some time; returns those bits. */
static unsigned all_assigned_when(const stream_t *s, const char *log) {
        unsigned all = (1u << s->partitions) - 1, bits = assigned_partitions(s, log);
        for (int i = 0; i < 600 && bits != all; i++) {
                h_sleep_ms(100);
                bits = assigned_partitions(s, log);
        }
        return bits;
}

/* The upserts and deletes of the last "stopped:" line of `log` (an
 * instance that stopped cleanly); asserts there is one. */
static void stopped_counts(const char *log, long long *upserts, long long *deletes) {
        FILE *f = fopen(log, "r");
        char line[8192];
        int found = 0;
        ck_assert_ptr_nonnull(f);
        while (fgets(line, sizeof(line), f)) {
                const char *at = strstr(line, "stopped: ");
                found |= at && sscanf(at, "stopped: %lld upserts, %lld deletes", upserts, deletes) == 2;
        }
        fclose(f);
        ck_assert_msg(found, "no 'stopped:' line in %s", log);
}

/* ---- the result ---- */

/* The target equals the source row by row; one receipt per event, none
 * twice; each partition's offset stored once, at the topic's end. */
static void assert_exact(const stream_t *s) {
        const target_t *t = &s->target;
        char sql[512];
        json_t *expected = h_expected_state(s->lines, "uscc");
        t->assert_rows(t, s->table, "uscc", expected);
        json_decref(expected);
        snprintf(sql, sizeof(sql), "SELECT count(*) FROM sharebus_receipts WHERE topic = '%s'", s->topic);
        ck_assert_int_eq(t->count(t, sql), s->events);
        snprintf(sql, sizeof(sql),
                 "SELECT count(DISTINCT event_id) FROM sharebus_receipts WHERE topic = '%s'", s->topic);
        ck_assert_int_eq(t->count(t, sql), s->events);
        ck_assert_int_eq(applied(s), s->records);
        snprintf(sql, sizeof(sql),
                 "SELECT count(*) FROM sharebus_offsets WHERE consumer_group = 'sharebus.%s'", s->name);
        ck_assert_int_eq(t->count(t, sql), s->partitions);
}

/* Waits (generously) until every record is applied; asserts it was. */
static void assert_all_applied(const stream_t *s) {
        long long got = applied_when(s, s->records, 180000);
        ck_assert_msg(got == s->records, "%s: %lld of %lld records applied", s->topic, got, s->records);
}

/* ---- random moments ---- */

static uint64_t seed_of(uint64_t fallback) {
        const char *s = getenv("SHAREBUS_CRASH_SEED");
        return s && *s ? strtoull(s, NULL, 10) | 1 : fallback | 1;
}

/* xorshift64: the same sequence for the same seed. */
static uint64_t rng_next(uint64_t *x) {
        *x ^= *x << 13;
        *x ^= *x >> 7;
        *x ^= *x << 17;
        return *x;
}

/* A number in [lo, hi]. */
static int rng_range(uint64_t *x, int lo, int hi) {
        return lo + (int)(rng_next(x) % (uint64_t)(hi - lo + 1));
}

/* ---- the tests ---- */

/* Two instances of one group on a topic of four partitions, both joined
 * before the changes arrive: each gets partitions and applies some of the
 * events, together each event exactly once. */
START_TEST(group_members_share_the_partitions) {
        stream_t s;
        char log_a[600], log_b[600];
        stream_new(&s, _i, "grp", 4, 8000, 1500, 31);
        pid_t a = start_member(&s, "a", NULL, NULL, log_a, sizeof(log_a));
        pid_t b = start_member(&s, "b", NULL, NULL, log_b, sizeof(log_b));
        /* An instance is assigned only once the group's rebalance is done:
         * after B's assignment, both hold theirs. */
        assert_logged(log_b, assigned_needle(&s), 1, "B got no partition");
        assert_logged(log_a, assigned_needle(&s), 1, "A got no partition");
        produce(&s);
        assert_all_applied(&s);
        stop_member(a, log_a);
        stop_member(b, log_b);

        long long up_a = 0, del_a = 0, up_b = 0, del_b = 0;
        stopped_counts(log_a, &up_a, &del_a);
        stopped_counts(log_b, &up_b, &del_b);
        fprintf(stderr, "group: A applied %lld upserts and %lld deletes, B %lld and %lld\n", up_a, del_a,
                up_b, del_b);
        ck_assert_msg(up_a + del_a > 0 && up_b + del_b > 0, "an instance applied nothing");
        ck_assert_int_eq(up_a + up_b, s.events - s.deletes);
        ck_assert_int_eq(del_a + del_b, s.deletes);
        unsigned pa = assigned_partitions(&s, log_a), pb = assigned_partitions(&s, log_b);
        ck_assert_msg(pa && pb && (pa | pb) == 0xf, "partitions assigned: A %#x, B %#x", pa, pb);
        assert_exact(&s);
}
END_TEST

/* An instance joins while the first is applying a backlog, then the first
 * is killed with SIGKILL: the second takes its partitions over at the
 * offsets stored in the target and finishes: 2,000 changes published after
 * B joined, the last 2,000 after the kill. */
START_TEST(instance_added_then_killed_mid_stream) {
        stream_t s;
        char log_a[600], log_b[600];
        char head[PART_PATH], rest[PART_PATH], middle[PART_PATH], tail[PART_PATH];
        stream_new(&s, _i, "grpmid", 4, 20000, 3000, 32);
        split_lines(s.lines, 4000, head, rest);
        split_lines(rest, 2000, middle, tail);
        produce_of(&s, head);
        /* Small transactions make the backlog last. */
        pid_t a = start_member(&s, "a", "batch_size = 5;", NULL, log_a, sizeof(log_a));
        long long at = applied_when(&s, s.records / 5, 120000);
        ck_assert_msg(at >= s.records / 5, "A applied %lld records (see %s)", at, log_a);
        pid_t b = start_member(&s, "b", "batch_size = 5;", NULL, log_b, sizeof(log_b));
        assert_logged(log_b, assigned_needle(&s), 1, "B got no partition");
        long long joined = applied(&s);
        fprintf(stderr, "mid-stream: B joined at %lld of %lld records\n", joined, s.records);
        /* Both apply for a while (the middle comes now), then A dies; the
         * tail comes after, on A's partitions too. */
        produce_of(&s, middle);
        at = applied_when(&s, joined + 100, 120000);
        ck_assert_msg(at >= joined + 100, "the group applied %lld records after B joined", at - joined);
        unsigned of_b = current_partitions(&s, log_b), of_a = 0xfu & ~of_b;
        ck_assert_msg(of_b && of_a, "B holds %#x", of_b);
        long long then[4] = {0};
        kill_member(a, log_a);
        snapshot(&s, then);
        fprintf(stderr, "mid-stream: A killed at %lld of %lld records\n", applied(&s), s.records);
        produce_of(&s, tail);
        assert_all_applied(&s);
        /* Once A's session is over, B is given its partitions, resuming them
         * at the offsets A stored, and applies what A left. */
        ck_assert_msg(all_assigned_when(&s, log_b) == 0xf, "B was not given A's partitions (see %s)", log_b);
        ck_assert_msg(log_count(log_b, "resuming at stored offset") > 0,
                      "B resumed no partition at a stored offset (see %s)", log_b);
        ck_assert_msg(applied_since(&s, then, of_a) > 0, "B applied nothing of A's partitions");
        stop_member(b, log_b);
        long long up_b = 0, del_b = 0;
        stopped_counts(log_b, &up_b, &del_b);
        ck_assert_int_gt(up_b + del_b, 0);
        assert_exact(&s);
}
END_TEST

/* While 50,000 events are produced, the subscriber is killed with SIGKILL
 * ten times at random moments (the seed printed; SHAREBUS_CRASH_SEED
 * repeats it), each run with a random batch size; then it finishes. */
START_TEST(subscriber_survives_ten_sigkills) {
        stream_t s;
        char log[600], extra[64];
        uint64_t seed = seed_of((uint64_t)time(NULL)), x = seed;
        fprintf(stderr, "crash: seed %llu (SHAREBUS_CRASH_SEED=%llu repeats it)\n", (unsigned long long)seed,
                (unsigned long long)seed);
        stream_new(&s, _i, "crash", 3, 50000, 5000, (int)(seed % 100000));
        pid_t producer = start_producer(&s);
        /* Static membership: a restarted instance takes its partitions back
         * at once instead of waiting for the killed one's session to end. */
        const char *member = "group_instance_id = \"crash-1\";";
        long long last = 0;
        for (int run = 1; run <= KILLS; run++) {
                int batch = rng_range(&x, 1, 40), delay = rng_range(&x, 200, 1500);
                /* A random moment: after `delay` ms, or sooner once this run
                 * has applied its share of what is left, so that the stream
                 * does not end before the last kill however fast it goes. */
                long long share =
                        last + (s.records - last) * rng_range(&x, 20, 100) / 100 / (KILLS - run + 2);
                snprintf(extra, sizeof(extra), "batch_size = %d;", batch);
                pid_t pid = start_member(&s, "a", extra, member, log, sizeof(log));
                int waited = 0;
                for (; waited < delay && applied(&s) < share; waited += 5)
                        h_sleep_ms(5);
                /* Some progress since the last kill, so that each lands in
                 * the middle of applying. */
                (void)applied_when(&s, last + 1, 120000);
                kill_member(pid, log);
                long long at = applied(&s);
                fprintf(stderr, "  run %2d: batch_size %2d, killed after %4d ms at %lld of %lld records\n",
                        run, batch, waited, at, s.records);
                ck_assert_msg(at > last && at < s.records, "run %d: not killed mid-stream (%lld of %lld)",
                              run, at, s.records);
                last = at;
        }
        ck_assert_msg(h_wait(producer, 120000) == 0, "the producer failed (see producers.log)");
        pid_t pid = start_member(&s, "a", "batch_size = 500;", member, log, sizeof(log));
        assert_all_applied(&s);
        stop_member(pid, log);
        assert_exact(&s);
}
END_TEST

/* Two instances; A is killed with SIGKILL in the middle of the rebalance
 * that B's joining started (right after A's partitions were revoked): B
 * gets every partition once A's session ends, and finishes. */
START_TEST(member_killed_mid_rebalance) {
        stream_t s;
        char log_a[600], log_b[600];
        char head[PART_PATH], tail[PART_PATH];
        stream_new(&s, _i, "grpkill", 4, 20000, 3000, 34);
        split_lines(s.lines, 2000, head, tail);
        produce_of(&s, head);
        pid_t a = start_member(&s, "a", "batch_size = 5;", NULL, log_a, sizeof(log_a));
        long long at = applied_when(&s, s.records / 5, 120000);
        ck_assert_msg(at >= s.records / 5, "A applied %lld records (see %s)", at, log_a);
        int revoked = log_count(log_a, "partitions revoked");
        pid_t b = start_member(&s, "b", "batch_size = 5;", NULL, log_b, sizeof(log_b));
        assert_logged(log_a, "partitions revoked", revoked + 1, "B's joining revoked nothing of A");
        kill_member(a, log_a);
        at = applied(&s);
        fprintf(stderr, "rebalance: A killed at %lld of %lld records\n", at, s.records);
        produce_of(&s, tail);
        assert_all_applied(&s);
        ck_assert_msg(all_assigned_when(&s, log_b) == 0xf, "B did not get every partition (see %s)", log_b);
        stop_member(b, log_b);
        assert_exact(&s);
}
END_TEST

/* A paused instance (SIGSTOP past its session, as a frozen VM or a long
 * stall) is evicted and its partitions go to B, which resumes them at the
 * stored offsets and applies on; then A goes on (SIGCONT) with the batch
 * it held: nothing may be applied twice, nor an older state written over
 * a newer.  So that A holds a batch, not the target's lock (which would
 * stop B too), it is paused while the test holds that lock.  SQLite only:
 * a PostgreSQL server grants a lock waited for to a paused client's
 * session all the same, which then holds it until the server ends the
 * session (idle_in_transaction_session_timeout, README). */
START_TEST(paused_member_comes_back_after_its_partitions_moved) {
        stream_t s;
        char log_a[600], log_b[600];
        char head[PART_PATH], rest[PART_PATH], middle[PART_PATH], tail[PART_PATH];
        stream_new(&s, ON_SQLITE, "grpstop", 4, 20000, 3000, 35);
        /* The middle is published while A is paused, so that B has work of
         * A's partitions however far the two got with the head. */
        split_lines(s.lines, 4000, head, rest);
        split_lines(rest, 2000, middle, tail);
        produce_of(&s, head);
        pid_t a = start_member(&s, "a", "batch_size = 5;", NULL, log_a, sizeof(log_a));
        pid_t b = start_member(&s, "b", "batch_size = 5;", NULL, log_b, sizeof(log_b));
        /* Both hold partitions (whichever joined first had all four). */
        unsigned of_a = 0, of_b = 0;
        for (int i = 0; i < 600 && (!of_a || !of_b || (of_a | of_b) != 0xf); i++) {
                h_sleep_ms(100);
                of_a = current_partitions(&s, log_a);
                of_b = current_partitions(&s, log_b);
        }
        ck_assert_msg(of_a && of_b && (of_a | of_b) == 0xf && !(of_a & of_b), "A holds %#x, B %#x", of_a,
                      of_b);
        long long at = applied_when(&s, s.records / 5, 120000);
        ck_assert_msg(at >= s.records / 5, "the group applied %lld records", at);
        int assigned_b = log_count(log_b, assigned_needle(&s));
        /* Both fill a batch and wait for the lock; A is paused waiting. */
        void *held = s.target.hold(&s.target);
        h_sleep_ms(1000);
        kill(a, SIGSTOP);
        long long then[4] = {0};
        snapshot(&s, then);
        s.target.release(held);
        /* A's session ends, B is given all four partitions and applies A's. */
        int n = log_when(log_b, assigned_needle(&s), assigned_b + 4, 60000);
        ck_assert_msg(n >= assigned_b + 4, "B was not given A's partitions (see %s)", log_b);
        produce_of(&s, middle);
        for (int i = 0; i < 600 && applied_since(&s, then, of_a) < 100; i++)
                h_sleep_ms(100);
        at = applied(&s);
        fprintf(stderr,
                "pause: B applied %lld records of A's partitions %#x while A was paused, %lld of %lld\n",
                applied_since(&s, then, of_a), of_a, at, s.records);
        ck_assert_msg(applied_since(&s, then, of_a) >= 100, "B did not apply A's partitions");
        /* A goes on, and the stream too. */
        kill(a, SIGCONT);
        produce_of(&s, tail);
        assert_all_applied(&s);
        stop_member(a, log_a);
        stop_member(b, log_b);
        assert_exact(&s);
}
END_TEST

/* PostgreSQL crashes (immediate shutdown) while the subscriber applies a
 * backlog, stays down while more changes are published, and comes back:
 * meanwhile the subscriber pauses (/healthz 503 naming the database,
 * nothing committed, its tries spaced by the backoff rather than a busy
 * loop), then resumes by itself; the target equals the source, one receipt
 * per event. */
START_TEST(postgresql_down_pauses_the_subscriber) {
        stream_t s;
        char log[600], head[PART_PATH], tail[PART_PATH], err[512] = "", body[512];
        stream_new(&s, ON_POSTGRESQL, "down", 3, 20000, 3000, 36);
        split_lines(s.lines, 5000, head, tail);
        produce_of(&s, head);
        pid_t a = start_member(
                &s, "a", "batch_size = 20;\nmetrics_listen = \"127.0.0.1:0\";\nretry_backoff_max_ms = 1000;",
                NULL, log, sizeof(log));
        int port = h_logged_port(log);
        ck_assert_msg(port > 0, "no metrics port in %s", log);
        long long at = applied_when(&s, s.records / 5, 120000);
        ck_assert_msg(at >= s.records / 5, "applied %lld records (see %s)", at, log);

        ck_assert_msg(pgserver_crash(pg, err, sizeof(err)) == SB_OK, "%s", err);
        /* More changes, so that the subscriber has work even if it had
         * applied the whole head before the crash. */
        produce_of(&s, tail);
        long status = scrape_health_until(port, 503, body, sizeof(body));
        ck_assert_msg(status == 503 && strstr(body, "the target database is failing"),
                      "healthz %ld %s with the database down", status, body);
        char *text = scrape_text(port);
        double tries = scrape_metric(text, "sharebus_subscriber_batch_retries_total");
        double committed = scrape_metric(text, "sharebus_subscriber_batch_records_sum");
        free(text);
        long long since = sb_clock_mono_ms();
        h_sleep_ms(3000);
        text = scrape_text(port);
        double tries_down = scrape_metric(text, "sharebus_subscriber_batch_retries_total") - tries;
        long long down_ms = sb_clock_mono_ms() - since;
        ck_assert_double_eq(scrape_metric(text, "sharebus_subscriber_batch_records_sum"), committed);
        free(text);
        fprintf(stderr, "down: %.0f tries in %lld ms with the database down, at %lld of %lld records\n",
                tries_down, down_ms, at, s.records);
        /* Tried again, and no more often than the first backoff allows. */
        ck_assert_msg(tries_down >= 1 && tries_down <= (double)down_ms / 100 + 1, "%.0f tries in %lld ms",
                      tries_down, down_ms);
        ck_assert_msg(waitpid(a, NULL, WNOHANG) == 0, "the subscriber exited (see %s)", log);

        ck_assert_msg(pgserver_restart(pg, err, sizeof(err)) == SB_OK, "%s", err);
        assert_all_applied(&s);
        status = scrape_health_until(port, 200, body, sizeof(body));
        ck_assert_msg(status == 200, "healthz %ld %s once the database is back", status, body);
        stop_member(a, log);
        assert_exact(&s);
}
END_TEST

int main(void) {
        char err[1024] = "";
        curl_global_init(CURL_GLOBAL_DEFAULT);
        if (pgserver_start(&pg, err, sizeof(err)) != SB_OK) {
                fprintf(stderr, "test_subscriber_groups: %s\n", err);
                return 1;
        }
        if (h_env_start(&env) != 0) {
                pgserver_stop_destroy(pg);
                return 1;
        }
        Suite *s = suite_create("subscriber_groups");
        TCase *tc = tcase_create("groups");
        tcase_set_timeout(tc, 400);
        tcase_add_loop_test(tc, group_members_share_the_partitions, 0, ON_BOTH);
        tcase_add_loop_test(tc, instance_added_then_killed_mid_stream, 0, ON_BOTH);
        tcase_add_loop_test(tc, subscriber_survives_ten_sigkills, 0, ON_BOTH);
        tcase_add_loop_test(tc, member_killed_mid_rebalance, 0, ON_BOTH);
        tcase_add_test(tc, paused_member_comes_back_after_its_partitions_moved);
        tcase_add_test(tc, postgresql_down_pauses_the_subscriber);
        suite_add_tcase(s, tc);
        int failed = h_run_suite(s);
        h_env_stop(&env);
        pgserver_stop_destroy(pg);
        curl_global_cleanup();
        return failed ? 1 : 0;
}

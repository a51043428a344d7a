#include "sources/source_postgresql.h"

#include <errno.h>
#include <libpq-fe.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>

#include "sb_buf.h"
#include "sb_clock.h"
#include "sources/pg_sql.h"

/* Rows read per next() at most, and bytes of change lines per hand-over
 * (past the first row), so a batch of wide rows stays bounded. */
#define PGSRC_BATCH_MAX 1000
#define PGSRC_BATCH_BYTES (32u * 1024 * 1024)
/* The default and upper bound of max_outbox_row_bytes, as for SQLite. */
#define PGSRC_ROW_MAX (16LL * 1024 * 1024)
/* Seq ranges of unsent rows a snapshot may cover (a backlog that large
 * should drain before a snapshot). */
#define PGSRC_COVERED_MAX 1000000
/* Longest identifier accepted: schema.table, 63 bytes each. */
#define PGSRC_NAME_MAX 128
#define PGSRC_PRUNE_EVERY_MS 60000
/* Cap of the SQL texts built here (exclusion sets, snapshot query). */
#define PGSRC_SQL_MAX (64u * 1024 * 1024)

typedef struct {
        uint64_t ordinal; /* the position handed over */
        int64_t seq;
        int64_t ts_ms;
} pg_handed_t;

enum { SNAP_NONE, SNAP_START, SNAP_READING };

typedef struct {
        sb_log_t *log;
        const char *conninfo; /* borrowed from the config */
        const char *dataset;  /* borrowed from the options */
        char table[PGSRC_NAME_MAX + 1];
        char snapshot_table[PGSRC_NAME_MAX + 1];
        long long retention_ms;
        long long max_row; /* max_outbox_row_bytes */
        const sb_node_t *key_record;
        PGconn *conn;
        int was_connected; /* for the "reconnected" line */
        PGresult *batch;   /* rows of the last hand-over: records point into it */
        source_record_t records[PGSRC_BATCH_MAX];
        pg_handed_t *handed; /* handed over, not yet marked sent, by ordinal */
        size_t n_handed, cap_handed;
        uint64_t ordinal;        /* last position handed over */
        uint64_t acked;          /* highest position acknowledged (marked or not yet) */
        pg_sql_range_t *covered; /* unsent seqs the snapshot covers, until marked */
        size_t n_covered;
        int snap;
        int drain; /* --drain: finished once a read finds nothing */
        uint64_t snap_rows;
        int64_t last_prune_ms;
} pgsrc_t;

/* --- names ------------------------------------------------------------- */

static sb_err_t check_ident(const sb_config_t *cfg, const char *setting, const char *value, char *errstr,
                            size_t errstr_size) {
        if (pg_sql_ident_ok(value))
                return SB_OK;
        int line = sb_config_line(cfg, setting);
        if (line > 0)
                return sb_seterr(
                        SB_ERR_CONFIG, errstr, errstr_size,
                        "%s:%d: setting '%s': '%s' is not a plain SQL identifier (lower-case letters, "
                        "digits and _, at most 63, optionally schema.table)",
                        sb_config_origin(cfg), line, setting, value);
        return sb_seterr(
                SB_ERR_CONFIG, errstr, errstr_size,
                "setting '%s': '%s' is not a plain SQL identifier (lower-case letters, digits and _, "
                "at most 63, optionally schema.table)",
                setting, value);
}

/* --- connection -------------------------------------------------------- */

static void quiet_notice(void *arg, const char *message) {
        (void)arg;
        (void)message;
}

/* libpq's message without its closing newline, into buf[size]. */
static const char *pq_error(PGconn *conn, char *buf, size_t size) {
        snprintf(buf, size, "%s", conn ? PQerrorMessage(conn) : "not connected");
        size_t n = strlen(buf);
        while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == ' '))
                buf[--n] = 0;
        return buf;
}

/* Forgets a broken connection (the next call reconnects), saying so once. */
static void lost(pgsrc_t *s, const char *what) {
        char msg[512];
        SB_LOG(s->log, SB_LOG_WARN,
               "postgresql: lost the connection to the server while %s (%s); reconnecting", what,
               pq_error(s->conn, msg, sizeof(msg)));
        PQfinish(s->conn);
        s->conn = NULL;
        if (s->snap == SNAP_READING) {
                SB_LOG(s->log, SB_LOG_WARN,
                       "postgresql: the snapshot of %s was interrupted after %llu rows: it starts again",
                       s->snapshot_table, (unsigned long long)s->snap_rows);
                s->snap = SNAP_START;
        }
}

/* Runs `sql` with text parameters; returns the result when its status is
 * `want`, else NULL with errstr set (and a broken connection forgotten). */
static PGresult *run(pgsrc_t *s, const char *what, const char *sql, int n, const char *const *params,
                     ExecStatusType want, char *errstr, size_t errstr_size) {
        /* Without parameters PQexec, which also runs several statements. */
        PGresult *r = n ? PQexecParams(s->conn, sql, n, NULL, params, NULL, NULL, 0) : PQexec(s->conn, sql);
        if (PQresultStatus(r) == want)
                return r;
        char msg[512];
        sb_seterr(SB_ERR_DB, errstr, errstr_size, "postgresql: %s: %s", what,
                  pq_error(s->conn, msg, sizeof(msg)));
        PQclear(r);
        if (PQstatus(s->conn) == CONNECTION_BAD)
                lost(s, what);
        return NULL;
}

static sb_err_t exec_ok(pgsrc_t *s, const char *what, const char *sql, char *errstr, size_t errstr_size) {
        PGresult *r = run(s, what, sql, 0, NULL, PGRES_COMMAND_OK, errstr, errstr_size);
        if (!r)
                return SB_ERR_DB;
        PQclear(r);
        return SB_OK;
}

static sb_err_t connect_db(pgsrc_t *s, char *errstr, size_t errstr_size) {
        s->conn = PQconnectdb(s->conninfo);
        if (!s->conn)
                return sb_seterr(SB_ERR_NOMEM, errstr, errstr_size, "out of memory");
        if (PQstatus(s->conn) != CONNECTION_OK) {
                char msg[512];
                sb_seterr(SB_ERR_DB, errstr, errstr_size,
                          "postgresql: cannot connect (postgresql_conninfo): %s",
                          pq_error(s->conn, msg, sizeof(msg)));
                PQfinish(s->conn);
                s->conn = NULL;
                return SB_ERR_DB;
        }
        PQsetNoticeProcessor(s->conn, quiet_notice, NULL);
        /* The table's existence first, so a wrong name is said plainly. */
        const char *params[] = {s->table};
        PGresult *r = run(s, "looking up the outbox table", "SELECT to_regclass($1) IS NOT NULL", 1, params,
                          PGRES_TUPLES_OK, errstr, errstr_size);
        if (!r)
                return SB_ERR_DB;
        int exists = strcmp(PQgetvalue(r, 0, 0), "t") == 0;
        PQclear(r);
        if (!exists) {
                sb_seterr(SB_ERR_CONFIG, errstr, errstr_size,
                          "postgresql: outbox table '%s' does not exist in database '%s' (setting "
                          "outbox_table; "
                          "create it with sharebus-producer --print-ddl postgresql)",
                          s->table, PQdb(s->conn));
                PQfinish(s->conn);
                s->conn = NULL;
                return SB_ERR_CONFIG;
        }
        char sql[PGSRC_NAME_MAX + 16];
        snprintf(sql, sizeof(sql), "LISTEN \"%s\"", s->table);
        sb_err_t err = exec_ok(s, "LISTEN", sql, errstr, errstr_size);
        if (err)
                return err;
        if (s->was_connected)
                SB_LOG(s->log, SB_LOG_INFO,
                       "postgresql: reconnected to database '%s'; %zu rows handed over and not yet marked "
                       "sent "
                       "are kept for their acks, unsent rows are read again",
                       PQdb(s->conn), s->n_handed);
        s->was_connected = 1;
        return SB_OK;
}

static sb_err_t ensure_conn(pgsrc_t *s, char *errstr, size_t errstr_size) {
        if (s->conn && PQstatus(s->conn) == CONNECTION_OK)
                return SB_OK;
        if (s->conn)
                lost(s, "idle");
        return connect_db(s, errstr, errstr_size);
}

/* --- seq sets -------------------------------------------------------------- */

/* The int8multirange text of the rows handed over with ordinal <= upto
 * (all when upto is UINT64_MAX) and, when with_covered, the snapshot's
 * covered seqs: "{[1,4),[7,8)}".  Consecutive seqs merge into one range,
 * so the text stays short however many rows wait. */
static sb_err_t seq_set(const pgsrc_t *s, uint64_t upto, int with_covered, sb_buf_t *out, char *errstr,
                        size_t errstr_size) {
        size_t n = 0, cap = s->n_handed + (with_covered ? s->n_covered : 0);
        pg_sql_range_t *v = malloc((cap + 1) * sizeof(*v)); /* + 1: never malloc(0) */
        if (!v)
                return sb_seterr(SB_ERR_NOMEM, errstr, errstr_size, "out of memory");
        for (size_t i = 0; i < s->n_handed && s->handed[i].ordinal <= upto; i++)
                v[n++] = (pg_sql_range_t){s->handed[i].seq, s->handed[i].seq};
        for (size_t i = 0; with_covered && i < s->n_covered; i++)
                v[n++] = s->covered[i];
        sb_err_t err = pg_sql_multirange(v, n, out);
        free(v);
        if (err)
                return sb_seterr(err, errstr, errstr_size,
                                 "postgresql: the set of rows waiting is too large");
        return SB_OK;
}

/* --- acks and pruning ------------------------------------------------------ */

static void prune(pgsrc_t *s) {
        int64_t now = sb_clock_mono_ms();
        int64_t every = s->retention_ms < PGSRC_PRUNE_EVERY_MS ? s->retention_ms : PGSRC_PRUNE_EVERY_MS;
        if (s->last_prune_ms && now - s->last_prune_ms < every)
                return;
        s->last_prune_ms = now;
        char sql[512], ms[32];
        snprintf(ms, sizeof(ms), "%lld", s->retention_ms);
        snprintf(sql, sizeof(sql),
                 "DELETE FROM %s WHERE dataset = $1 AND sent_at IS NOT NULL AND sent_at <= now() - "
                 "$2::bigint * "
                 "interval '1 millisecond'",
                 s->table);
        const char *params[] = {s->dataset, ms};
        char err[512];
        PGresult *r = run(s, "deleting sent rows past outbox_retention_ms", sql, 2, params, PGRES_COMMAND_OK,
                          err, sizeof(err));
        if (!r) {
                /* Not worth failing an ack for: the next prune deletes them. */
                SB_LOG(s->log, SB_LOG_WARN, "%s", err);
                return;
        }
        if (atoll(PQcmdTuples(r)) > 0)
                SB_LOG(s->log, SB_LOG_DEBUG, "postgresql: deleted %s sent rows older than %lld ms",
                       PQcmdTuples(r), s->retention_ms);
        PQclear(r);
}

/* Marks sent the rows acknowledged so far (and the snapshot's covered rows,
 * acknowledged with the first ack after it), then forgets them. */
static sb_err_t mark_acked(pgsrc_t *s, char *errstr, size_t errstr_size) {
        size_t n = 0;
        while (n < s->n_handed && s->handed[n].ordinal <= s->acked)
                n++;
        int covered = s->acked > 0 && s->n_covered > 0;
        if (n == 0 && !covered)
                return SB_OK;
        sb_buf_t set;
        sb_buf_init(&set, PGSRC_SQL_MAX);
        sb_err_t err = seq_set(s, s->acked, covered, &set, errstr, errstr_size);
        char sql[512];
        snprintf(sql, sizeof(sql),
                 "UPDATE %s SET sent_at = now() WHERE dataset = $1 AND sent_at IS NULL AND "
                 "$2::int8multirange @> seq",
                 s->table);
        const char *params[] = {s->dataset, (const char *)set.data};
        PGresult *r = err ? NULL
                          : run(s, "marking acknowledged rows sent", sql, 2, params, PGRES_COMMAND_OK, errstr,
                                errstr_size);
        sb_buf_free(&set);
        if (!r)
                return err ? err : SB_ERR_DB;
        PQclear(r);
        memmove(s->handed, s->handed + n, (s->n_handed - n) * sizeof(*s->handed));
        s->n_handed -= n;
        if (covered) {
                free(s->covered);
                s->covered = NULL;
                s->n_covered = 0;
        }
        prune(s);
        return SB_OK;
}

static sb_err_t pg_ack(void *state, uint64_t position, char *errstr, size_t errstr_size) {
        pgsrc_t *s = state;
        if (position > s->ordinal)
                return sb_seterr(SB_ERR_INVALID, errstr, errstr_size,
                                 "postgresql: ack of position %llu, but only %llu were handed over",
                                 (unsigned long long)position, (unsigned long long)s->ordinal);
        if (position > s->acked)
                s->acked = position;
        sb_err_t err = ensure_conn(s, errstr, errstr_size);
        return err ? err : mark_acked(s, errstr, errstr_size);
}

/* --- snapshot ---------------------------------------------------------------- */

static sb_err_t snapshot_begin(pgsrc_t *s, char *errstr, size_t errstr_size) {
        sb_err_t err;
        if ((err = exec_ok(s, "starting the snapshot",
                           "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY; SET LOCAL TimeZone = 'UTC'",
                           errstr, errstr_size)))
                return err;
        /* The first query takes the snapshot: the unsent outbox rows it sees
         * are covered by the business rows read in the same snapshot, as
         * ranges of consecutive seqs ("gaps and islands"). */
        char sql[1024];
        snprintf(sql, sizeof(sql),
                 "SELECT min(seq), max(seq) FROM (SELECT seq, seq - row_number() OVER (ORDER BY seq) AS g "
                 "FROM %s "
                 "WHERE dataset = $1 AND sent_at IS NULL) x GROUP BY g ORDER BY 1 LIMIT %d",
                 s->table, PGSRC_COVERED_MAX + 1);
        const char *params[] = {s->dataset};
        PGresult *r = run(s, "reading the unsent rows the snapshot covers", sql, 1, params, PGRES_TUPLES_OK,
                          errstr, errstr_size);
        if (!r)
                return SB_ERR_DB;
        size_t n = (size_t)PQntuples(r);
        if (n > PGSRC_COVERED_MAX) {
                PQclear(r);
                exec_ok(s, "ending the snapshot", "ROLLBACK", NULL, 0);
                return sb_seterr(
                        SB_ERR_INVALID, errstr, errstr_size,
                        "postgresql: more than %d runs of unsent outbox rows: let the producer send the "
                        "backlog before a snapshot",
                        PGSRC_COVERED_MAX);
        }
        free(s->covered);
        s->covered = n ? malloc(n * sizeof(*s->covered)) : NULL;
        s->n_covered = 0;
        if (n && !s->covered) {
                PQclear(r);
                return sb_seterr(SB_ERR_NOMEM, errstr, errstr_size, "out of memory");
        }
        for (size_t i = 0; i < n; i++)
                s->covered[s->n_covered++] =
                        (pg_sql_range_t){atoll(PQgetvalue(r, (int)i, 0)), atoll(PQgetvalue(r, (int)i, 1))};
        PQclear(r);

        snprintf(sql, sizeof(sql),
                 "SELECT coalesce((SELECT max(seq) FROM %s WHERE dataset = $1), 0), "
                 "floor(extract(epoch FROM now()) * 1000)::bigint",
                 s->table);
        if (!(r = run(s, "reading the snapshot's time", sql, 1, params, PGRES_TUPLES_OK, errstr,
                      errstr_size)))
                return SB_ERR_DB;
        char max_seq[32], ts[32];
        snprintf(max_seq, sizeof(max_seq), "%s", PQgetvalue(r, 0, 0));
        snprintf(ts, sizeof(ts), "%s", PQgetvalue(r, 0, 1));
        PQclear(r);

        /* Columns: key fields must be among them; timestamps get the Avro
         * text (UTC, milliseconds, Z) instead of to_jsonb's. */
        const char *tparams[] = {s->snapshot_table};
        if (!(r = run(s, "reading the columns of snapshot_table",
                      "SELECT attname, atttypid IN ('timestamp'::regtype, 'timestamptz'::regtype) FROM "
                      "pg_attribute "
                      "WHERE attrelid = $1::regclass AND attnum > 0 AND NOT attisdropped ORDER BY attnum",
                      1, tparams, PGRES_TUPLES_OK, errstr, errstr_size)))
                return SB_ERR_DB;
        sb_buf_t q;
        sb_buf_init(&q, PGSRC_SQL_MAX);
        err = pg_sql_snapshot_cursor(&q, s->snapshot_table, s->key_record, r, ts, max_seq, s->max_row, errstr,
                                     errstr_size);
        PQclear(r);
        if (!err) {
                r = run(s, "opening the snapshot cursor", (const char *)q.data, 0, NULL, PGRES_COMMAND_OK,
                        errstr, errstr_size);
                err = r ? SB_OK : SB_ERR_DB;
                PQclear(r);
        }
        sb_buf_free(&q);
        if (err) {
                if (s->conn)
                        exec_ok(s, "ending the snapshot", "ROLLBACK", NULL, 0);
                return err;
        }
        s->snap = SNAP_READING;
        s->snap_rows = 0;
        SB_LOG(s->log, SB_LOG_INFO,
               "postgresql: snapshot of %s started (outbox up to seq %s seen; %zu runs of unsent rows "
               "covered)",
               s->snapshot_table, max_seq, s->n_covered);
        return SB_OK;
}

/* One batch of snapshot rows; count 0 once it is over. */
static sb_err_t snapshot_next(pgsrc_t *s, size_t max, source_batch_t *out, char *errstr, size_t errstr_size) {
        char sql[64];
        snprintf(sql, sizeof(sql), "FETCH FORWARD %zu FROM sharebus_snapshot", max);
        PGresult *r = run(s, "reading the snapshot", sql, 0, NULL, PGRES_TUPLES_OK, errstr, errstr_size);
        if (!r)
                return SB_ERR_DB;
        int n = PQntuples(r);
        if (n == 0) {
                PQclear(r);
                sb_err_t err = exec_ok(s, "ending the snapshot", "CLOSE sharebus_snapshot; COMMIT", errstr,
                                       errstr_size);
                if (err)
                        return err;
                s->snap = SNAP_NONE;
                SB_LOG(s->log, SB_LOG_INFO, "postgresql: snapshot of %s done: %llu rows; the outbox follows",
                       s->snapshot_table, (unsigned long long)s->snap_rows);
                return SB_OK;
        }
        s->batch = r;
        for (int i = 0; i < n; i++) {
                source_record_t *rec = &s->records[i];
                rec->text = PQgetvalue(r, i, 0);
                rec->len = (size_t)PQgetlength(r, i, 0);
                rec->position = 0;
                rec->number = 0;
                snprintf(rec->where, sizeof(rec->where), "%.40s snapshot row %llu", s->snapshot_table,
                         (unsigned long long)++s->snap_rows);
                if (!PQgetisnull(r, i, 1))
                        snprintf(rec->where + strlen(rec->where), sizeof(rec->where) - strlen(rec->where),
                                 ": %.80s", PQgetvalue(r, i, 1));
        }
        out->records = s->records;
        out->count = (size_t)n;
        return SB_OK;
}

/* --- outbox ------------------------------------------------------------------ */

static sb_err_t grow_handed(pgsrc_t *s, size_t more, char *errstr, size_t errstr_size) {
        if (s->n_handed + more <= s->cap_handed)
                return SB_OK;
        size_t cap = s->cap_handed ? s->cap_handed : 1024;
        while (cap < s->n_handed + more)
                cap *= 2;
        pg_handed_t *h = realloc(s->handed, cap * sizeof(*h));
        if (!h)
                return sb_seterr(SB_ERR_NOMEM, errstr, errstr_size, "out of memory");
        s->handed = h;
        s->cap_handed = cap;
        return SB_OK;
}

/* Reads up to `max` unsent rows not handed over yet, lowest seq first. */
static sb_err_t outbox_read(pgsrc_t *s, size_t max, source_batch_t *out, char *errstr, size_t errstr_size) {
        if (s->n_handed >= PGSRC_HANDED_MAX)
                return SB_OK;
        if (max > PGSRC_HANDED_MAX - s->n_handed)
                max = PGSRC_HANDED_MAX - s->n_handed;
        sb_buf_t set;
        sb_buf_init(&set, PGSRC_SQL_MAX);
        sb_err_t err = seq_set(s, UINT64_MAX, 1, &set, errstr, errstr_size);
        if (!err)
                err = grow_handed(s, max, errstr, errstr_size);
        if (err) {
                sb_buf_free(&set);
                return err;
        }
        char sql[2048], limit[32], max_row[32];
        snprintf(limit, sizeof(limit), "%zu", max);
        snprintf(max_row, sizeof(max_row), "%lld", s->max_row);
        pg_sql_outbox_read(sql, sizeof(sql), s->table);
        const char *params[] = {s->dataset, (const char *)set.data, limit, max_row};
        PGresult *r = run(s, "reading the outbox", sql, 4, params, PGRES_TUPLES_OK, errstr, errstr_size);
        sb_buf_free(&set);
        if (!r)
                return SB_ERR_DB;
        size_t n = (size_t)PQntuples(r), bytes = 0, taken = 0;
        for (; taken < n; taken++) {
                size_t len = (size_t)PQgetlength(r, (int)taken, 2);
                if (taken > 0 && bytes + len > PGSRC_BATCH_BYTES)
                        break; /* the rest comes with the next call */
                bytes += len;
                source_record_t *rec = &s->records[taken];
                pg_handed_t *h = &s->handed[s->n_handed++];
                h->seq = atoll(PQgetvalue(r, (int)taken, 0));
                h->ts_ms = atoll(PQgetvalue(r, (int)taken, 1));
                h->ordinal = ++s->ordinal;
                rec->text = PQgetvalue(r, (int)taken, 2);
                rec->len = len;
                rec->position = h->ordinal;
                rec->number = 0;
                snprintf(rec->where, sizeof(rec->where), "%.40s seq %lld", s->table, (long long)h->seq);
                if (!PQgetisnull(r, (int)taken, 3)) {
                        const char *why = PQgetvalue(r, (int)taken, 3);
                        size_t w = strlen(rec->where);
                        snprintf(rec->where + w, sizeof(rec->where) - w, ": %.80s", why);
                        SB_LOG(s->log, SB_LOG_WARN, "postgresql: %s", rec->where);
                }
        }
        s->batch = r;
        out->records = s->records;
        out->count = taken;
        return SB_OK;
}

/* Drains the notifications libpq holds; 1 if there was one. */
static int drain_notifies(pgsrc_t *s) {
        int any = 0;
        PGnotify *nf;
        PQconsumeInput(s->conn);
        while ((nf = PQnotifies(s->conn))) {
                any = 1;
                PQfreemem(nf);
        }
        return any;
}

static sb_err_t pg_next(void *state, size_t max, int timeout_ms, source_batch_t *out, char *errstr,
                        size_t errstr_size) {
        pgsrc_t *s = state;
        out->records = s->records;
        out->count = 0;
        PQclear(s->batch);
        s->batch = NULL;
        if (max > PGSRC_BATCH_MAX)
                max = PGSRC_BATCH_MAX;
        if (max == 0)
                return SB_OK;
        sb_err_t err = ensure_conn(s, errstr, errstr_size);
        if (err)
                return err;
        if (s->snap == SNAP_START && (err = snapshot_begin(s, errstr, errstr_size)))
                return err;
        if (s->snap == SNAP_READING) {
                if ((err = snapshot_next(s, max, out, errstr, errstr_size)) || out->count)
                        return err;
        }
        /* Marks an earlier ack could not write (the connection was lost). */
        if ((err = mark_acked(s, errstr, errstr_size)))
                return err;
        int64_t deadline = sb_clock_mono_ms() + (timeout_ms > 0 ? timeout_ms : 0);
        for (;;) {
                drain_notifies(s);
                if ((err = outbox_read(s, max, out, errstr, errstr_size)) || out->count)
                        return err;
                PQclear(s->batch);
                s->batch = NULL;
                /* A notification read along with the answer may be for a
                 * commit after the query's snapshot: look again. */
                if (drain_notifies(s))
                        continue;
                if (s->drain)
                        return sb_seterr(SB_ERR_NOT_FOUND, errstr, errstr_size,
                                         "postgresql: no unsent row (--drain)");
                int64_t left = deadline - sb_clock_mono_ms();
                if (left <= 0)
                        return SB_OK;
                struct pollfd pfd = {.fd = PQsocket(s->conn), .events = POLLIN};
                int rc = poll(&pfd, 1, (int)left);
                if (rc < 0 && errno != EINTR)
                        return sb_seterr(SB_ERR_IO, errstr, errstr_size, "postgresql: poll: %s",
                                         strerror(errno));
                if (rc < 0)
                        return SB_OK; /* a signal: let the producer look at it */
                if (rc > 0 && (!PQconsumeInput(s->conn) || PQstatus(s->conn) == CONNECTION_BAD)) {
                        char msg[512];
                        sb_seterr(SB_ERR_DB, errstr, errstr_size, "postgresql: waiting for notifications: %s",
                                  pq_error(s->conn, msg, sizeof(msg)));
                        lost(s, "waiting for notifications");
                        return SB_ERR_DB;
                }
        }
}

/* --- open, stats, close ------------------------------------------------------ */

static void pg_close(void *state) {
        pgsrc_t *s = state;
        if (!s)
                return;
        PQclear(s->batch);
        PQfinish(s->conn);
        free(s->handed);
        free(s->covered);
        free(s);
}

static sb_err_t pg_open(const sb_config_t *cfg, const source_options_t *opts, sb_log_t *log, void **state,
                        char *errstr, size_t errstr_size) {
        const char *conninfo = sb_config_string(cfg, "postgresql_conninfo");
        const char *table = sb_config_string(cfg, "outbox_table");
        const char *snap = sb_config_string(cfg, "snapshot_table");
        if (!conninfo || !conninfo[0])
                return sb_seterr(SB_ERR_CONFIG, errstr, errstr_size,
                                 "%s: setting 'postgresql_conninfo' is required with source = \"postgresql\"",
                                 sb_config_origin(cfg));
        sb_err_t err = check_ident(cfg, "outbox_table", table ? table : "", errstr, errstr_size);
        if (err)
                return err;
        if (opts->snapshot) {
                if (!snap || !snap[0])
                        return sb_seterr(
                                SB_ERR_CONFIG, errstr, errstr_size,
                                "%s: --snapshot needs the setting 'snapshot_table' (the business table)",
                                sb_config_origin(cfg));
                if ((err = check_ident(cfg, "snapshot_table", snap, errstr, errstr_size)))
                        return err;
                if (!opts->key_record || sb_node_type(opts->key_record) != SB_T_RECORD ||
                    sb_node_count(opts->key_record) == 0)
                        return sb_seterr(SB_ERR_CONFIG, errstr, errstr_size,
                                         "--snapshot needs the dataset's key record");
                for (size_t i = 0; i < sb_node_count(opts->key_record); i++)
                        if (!pg_sql_avro_name_ok(sb_node_field_name(opts->key_record, i)))
                                return sb_seterr(SB_ERR_CONFIG, errstr, errstr_size,
                                                 "key field '%s' is not a plain name",
                                                 sb_node_field_name(opts->key_record, i));
        }
        pgsrc_t *s = calloc(1, sizeof(*s));
        if (!s)
                return sb_seterr(SB_ERR_NOMEM, errstr, errstr_size, "out of memory");
        s->log = log;
        s->conninfo = conninfo;
        s->dataset = opts->dataset;
        s->drain = opts->drain;
        s->retention_ms = sb_config_int(cfg, "outbox_retention_ms");
        s->max_row = sb_config_int(cfg, "max_outbox_row_bytes");
        if (s->max_row <= 0)
                s->max_row = PGSRC_ROW_MAX;
        s->key_record = opts->key_record;
        snprintf(s->table, sizeof(s->table), "%s", table);
        if (opts->snapshot) {
                snprintf(s->snapshot_table, sizeof(s->snapshot_table), "%s", snap);
                s->snap = SNAP_START;
        }
        if ((err = connect_db(s, errstr, errstr_size))) {
                pg_close(s);
                return err;
        }
        if (opts->snapshot) {
                const char *params[] = {s->snapshot_table};
                PGresult *r = run(s, "looking up snapshot_table", "SELECT to_regclass($1) IS NOT NULL", 1,
                                  params, PGRES_TUPLES_OK, errstr, errstr_size);
                int exists = r && strcmp(PQgetvalue(r, 0, 0), "t") == 0;
                PQclear(r);
                if (!exists) {
                        if (r)
                                sb_seterr(SB_ERR_CONFIG, errstr, errstr_size,
                                          "postgresql: snapshot_table '%s' does not exist in database '%s'",
                                          s->snapshot_table, PQdb(s->conn));
                        pg_close(s);
                        return r ? SB_ERR_CONFIG : SB_ERR_DB;
                }
                /* A key field that is no column would give every row a
                 * null key: refused now rather than row by row. */
                for (size_t i = 0; i < sb_node_count(s->key_record); i++) {
                        const char *cparams[] = {s->snapshot_table, sb_node_field_name(s->key_record, i)};
                        r = run(s, "reading the columns of snapshot_table",
                                "SELECT count(*) FROM pg_attribute WHERE attrelid = $1::regclass AND attname "
                                "= $2 "
                                "AND attnum > 0 AND NOT attisdropped",
                                2, cparams, PGRES_TUPLES_OK, errstr, errstr_size);
                        int found = r && strcmp(PQgetvalue(r, 0, 0), "1") == 0;
                        PQclear(r);
                        if (!found) {
                                if (r)
                                        sb_seterr(SB_ERR_CONFIG, errstr, errstr_size,
                                                  "postgresql: snapshot_table '%s' has no column '%s' (a key "
                                                  "field "
                                                  "of the dataset)",
                                                  s->snapshot_table, cparams[1]);
                                pg_close(s);
                                return r ? SB_ERR_CONFIG : SB_ERR_DB;
                        }
                }
        }
        SB_LOG(log, SB_LOG_INFO, "postgresql: reading outbox %s of database '%s' for dataset %s%s", s->table,
               PQdb(s->conn), s->dataset, opts->snapshot ? ", after a snapshot" : "");
        *state = s;
        return SB_OK;
}

static void pg_stats(void *state, source_stats_t *out) {
        pgsrc_t *s = state;
        out->backlog = out->oldest_age_ms = out->bytes_total = out->bytes_done = -1;
        /* Inside the snapshot's transaction the count would be the
         * snapshot's; and a lost connection waits for the next call. */
        if (!s->conn || PQstatus(s->conn) != CONNECTION_OK || s->snap == SNAP_READING)
                return;
        char sql[512];
        snprintf(sql, sizeof(sql),
                 "SELECT count(*), coalesce(floor(extract(epoch FROM now() - min(changed_at)) * "
                 "1000)::bigint, 0) "
                 "FROM %s WHERE dataset = $1 AND sent_at IS NULL",
                 s->table);
        const char *params[] = {s->dataset};
        char err[256];
        PGresult *r = run(s, "counting unsent rows", sql, 1, params, PGRES_TUPLES_OK, err, sizeof(err));
        if (!r)
                return;
        out->backlog = atoll(PQgetvalue(r, 0, 0));
        out->oldest_age_ms = atoll(PQgetvalue(r, 0, 1));
        PQclear(r);
}

const source_ops_t source_postgresql_ops = {
        .name = "postgresql",
        .open = pg_open,
        .next = pg_next,
        .ack = pg_ack,
        .stats = pg_stats,
        .close = pg_close,
};

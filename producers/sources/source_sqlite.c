#include "sources/source_sqlite.h"

#include <inttypes.h>
#include <sqlite3.h>
#include <stdlib.h>
#include <string.h>

#include "sb_buf.h"
#include "sb_clock.h"
#include "sources/sqlite_progress.h"
#include "sources/sqlite_sql.h"

/* Records handed over per next(). */
#define SQLITE_BATCH_MAX 1024
/* A batch stops growing once its texts pass this; one row may bring it to
 * twice that. */
#define SQLITE_BATCH_BYTES SOURCE_SQLITE_ROW_MAX
#define SQLITE_ARENA_MAX (2 * (size_t)SOURCE_SQLITE_ROW_MAX + 64 * 1024)
typedef enum { PHASE_SNAP_START, PHASE_SNAP_ROWS, PHASE_OUTBOX } phase_t;

typedef struct {
        sqlite3 *db;
        sb_log_t *log;
        const char *path;    /* borrowed from the config */
        const char *table;   /* borrowed from the config */
        const char *dataset; /* borrowed from the options */
        const char *snap_table;
        int poll_ms;
        int drain;      /* --drain: finished once a read finds nothing */
        size_t max_row; /* max_outbox_row_bytes */
        sqlite3_stmt *st_batch, *st_version, *st_stats, *st_maxseq, *st_snap;
        sqlite_progress_t *progress; /* what is sent (sqlite_progress.h) */
        uint64_t cursor;             /* the last seq handed over */
        int64_t empty_version;       /* data_version at the last read that found nothing; -1 none */
        phase_t phase;
        int snap_has_row; /* st_snap stands on a row not yet handed over */
        uint64_t snap_seq;
        int64_t snap_ts;
        unsigned long snap_row_no;
        sb_buf_t arena; /* the batch's texts */
        size_t offsets[SQLITE_BATCH_MAX];
        source_record_t records[SQLITE_BATCH_MAX];
} sqlite_src_t;

/* ---- opening ---- */

static sb_err_t db_err(sqlite_src_t *s, char *errstr, size_t errstr_size, const char *what) {
        return sb_seterr(SB_ERR_DB, errstr, errstr_size, "%s %s: %s", s->path, what, sqlite3_errmsg(s->db));
}

static sb_err_t prepare(sqlite_src_t *s, const char *sql, sqlite3_stmt **st, const char *what, char *errstr,
                        size_t errstr_size) {
        if (sqlite3_prepare_v3(s->db, sql, -1, SQLITE_PREPARE_PERSISTENT, st, NULL) != SQLITE_OK)
                return db_err(s, errstr, errstr_size, what);
        return SB_OK;
}

static sb_err_t prepare_snapshot(sqlite_src_t *s, const source_options_t *opts, char *errstr,
                                 size_t errstr_size) {
        sb_err_t err;
        if ((err = sqlite_sql_check_record(opts->key_record, "key", errstr, errstr_size)) ||
            (err = sqlite_sql_check_record(opts->row_record, "row", errstr, errstr_size)))
                return err;
        sb_buf_t sql;
        sb_buf_init(&sql, 4 * 1024 * 1024);
        /* Qualified column names: SQLite reads an unqualified "name" that is
         * no column as the string 'name', which would publish the field's
         * name as its value instead of failing here. */
        char prefix[SQLITE_SQL_IDENT_MAX + 4];
        snprintf(prefix, sizeof(prefix), "\"%s\".", s->snap_table);
        err = sb_buf_printf(&sql, "SELECT ");
        if (!err)
                err = sqlite_sql_object_expr(&sql, opts->key_record, prefix);
        if (!err)
                err = sb_buf_printf(&sql, ", ");
        if (!err)
                err = sqlite_sql_object_expr(&sql, opts->row_record, prefix);
        if (!err)
                err = sb_buf_printf(&sql, " FROM \"%s\"", s->snap_table);
        if (err) {
                sb_buf_free(&sql);
                return sb_seterr(err, errstr, errstr_size, "out of memory");
        }
        char what[200];
        snprintf(what, sizeof(what), "snapshot_table '%s'", s->snap_table);
        err = prepare(s, (const char *)sql.data, &s->st_snap, what, errstr, errstr_size);
        sb_buf_free(&sql);
        return err;
}

static void sqlite_close(void *state);

static sb_err_t sqlite_open(const sb_config_t *cfg, const source_options_t *opts, sb_log_t *log, void **state,
                            char *errstr, size_t errstr_size) {
        const char *origin = sb_config_origin(cfg);
        const char *path = sb_config_string(cfg, "sqlite_outbox_path");
        const char *table = sb_config_string(cfg, "outbox_table");
        const char *snap_table = sb_config_string(cfg, "snapshot_table");
        if (!path || !*path)
                return sb_seterr(SB_ERR_CONFIG, errstr, errstr_size,
                                 "%s: setting 'sqlite_outbox_path' (the SQLite database file) is required by "
                                 "source sqlite",
                                 origin);
        if (!sqlite_sql_ident_valid(table))
                return sb_seterr(SB_ERR_CONFIG, errstr, errstr_size,
                                 "%s:%d: setting 'outbox_table': '%s' is not an SQL identifier "
                                 "([A-Za-z_][A-Za-z0-9_]*, at most %d characters)",
                                 origin, sb_config_line(cfg, "outbox_table"), table ? table : "",
                                 SQLITE_SQL_IDENT_MAX);
        if (opts->snapshot && (!snap_table || !sqlite_sql_ident_valid(snap_table)))
                return sb_seterr(SB_ERR_CONFIG, errstr, errstr_size,
                                 "%s:%d: --snapshot needs setting 'snapshot_table' (the business table), an "
                                 "SQL identifier; got '%s'",
                                 origin, sb_config_line(cfg, "snapshot_table"), snap_table ? snap_table : "");
        sqlite_src_t *s = calloc(1, sizeof(*s));
        if (!s)
                return sb_seterr(SB_ERR_NOMEM, errstr, errstr_size, "out of memory");
        s->log = log;
        s->path = path;
        s->table = table;
        s->dataset = opts->dataset;
        s->snap_table = snap_table;
        s->poll_ms = (int)sb_config_int(cfg, "outbox_poll_ms");
        long long max_row = sb_config_int(cfg, "max_outbox_row_bytes");
        s->max_row = max_row > 0 && max_row < SOURCE_SQLITE_ROW_MAX ? (size_t)max_row : SOURCE_SQLITE_ROW_MAX;
        s->drain = opts->drain;
        s->empty_version = -1;
        s->phase = opts->snapshot ? PHASE_SNAP_START : PHASE_OUTBOX;
        sb_buf_init(&s->arena, SQLITE_ARENA_MAX);
        sb_err_t err = SB_OK;
        char sql[1024];

        /* No SQLITE_OPEN_CREATE: a mistyped path must fail, not publish
         * from a new empty file forever. */
        /* One thread uses the connection (source.h): no SQLite mutexes. */
        if (sqlite3_open_v2(path, &s->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX, NULL) != SQLITE_OK) {
                err = sb_seterr(SB_ERR_DB, errstr, errstr_size, "sqlite_outbox_path '%s': %s", path,
                                s->db ? sqlite3_errmsg(s->db) : "out of memory");
                goto fail;
        }
        sqlite3_extended_result_codes(s->db, 1);
        /* No "name" read as a string when there is no such column. */
        sqlite3_db_config(s->db, SQLITE_DBCONFIG_DQS_DML, 0, (int *)NULL);
        sqlite3_db_config(s->db, SQLITE_DBCONFIG_DQS_DDL, 0, (int *)NULL);
        sqlite3_busy_timeout(s->db, (int)sb_config_int(cfg, "sqlite_busy_timeout_ms"));
        /* WAL lets the application write while the producer reads (and
         * gives the snapshot its consistent view).  The mode is the file's:
         * when another connection holds it in rollback mode the switch
         * fails, and the producer still works, with more waiting. */
        sqlite3_stmt *st = NULL;
        if ((err = prepare(s, "PRAGMA journal_mode=WAL", &st, "is not a usable SQLite database", errstr,
                           errstr_size)))
                goto fail;
        int rc = sqlite3_step(st);
        const char *mode = rc == SQLITE_ROW ? (const char *)sqlite3_column_text(st, 0) : NULL;
        if (rc != SQLITE_ROW && rc != SQLITE_BUSY && (rc & 0xff) != SQLITE_BUSY) {
                err = db_err(s, errstr, errstr_size, "is not a usable SQLite database");
                sqlite3_finalize(st);
                goto fail;
        }
        if (!mode || strcmp(mode, "wal") != 0)
                SB_LOG(log, SB_LOG_WARN,
                       "%s is not in WAL mode (%s): the producer and the application will wait for each "
                       "other",
                       path, mode ? mode : "busy");
        sqlite3_finalize(st);
        /* Acknowledgements are retried and duplicates absorbed: a commit of
         * "sent" lost to a power cut (WAL's synchronous=NORMAL keeps it
         * through a crash of the process) only sends rows again. */
        sqlite3_exec(s->db, "PRAGMA synchronous = NORMAL", NULL, NULL, NULL);

        char what[200];
        snprintf(what, sizeof(what), "outbox_table '%s'", table);
        snprintf(sql, sizeof(sql),
                 "SELECT seq, op, \"key\", \"before\", \"after\", changed_at FROM \"%s\" WHERE dataset = ?1 "
                 "AND seq > ?2 ORDER BY seq LIMIT ?3",
                 table);
        if ((err = prepare(s, sql, &s->st_batch, what, errstr, errstr_size)))
                goto fail;
        snprintf(sql, sizeof(sql),
                 "SELECT count(*), (SELECT changed_at FROM \"%s\" WHERE dataset = ?1 AND seq > ?2 ORDER BY "
                 "seq "
                 "LIMIT 1) FROM \"%s\" WHERE dataset = ?1 AND seq > ?2",
                 table, table);
        if ((err = prepare(s, sql, &s->st_stats, what, errstr, errstr_size)))
                goto fail;
        snprintf(sql, sizeof(sql), "SELECT coalesce(max(seq), 0) FROM \"%s\"", table);
        if ((err = prepare(s, sql, &s->st_maxseq, what, errstr, errstr_size)))
                goto fail;
        if ((err = sqlite_progress_new(s->db, s->path, table, s->dataset,
                                       sb_config_int(cfg, "outbox_retention_ms"), &s->progress, errstr,
                                       errstr_size)))
                goto fail;
        s->cursor = sqlite_progress_mark(s->progress);
        if ((err = prepare(s, "PRAGMA data_version", &s->st_version, "data_version", errstr, errstr_size)))
                goto fail;
        if (opts->snapshot && (err = prepare_snapshot(s, opts, errstr, errstr_size)))
                goto fail;
        SB_LOG(log, SB_LOG_INFO, "source sqlite: %s, outbox %s, dataset %s%s%s", path, table, opts->dataset,
               opts->snapshot ? ", snapshot of " : "", opts->snapshot ? snap_table : "");
        *state = s;
        return SB_OK;
fail:
        sqlite_close(s);
        return err;
}

/* ---- reading ---- */

static sb_err_t arena_add(sqlite_src_t *s, const void *p, size_t n) {
        return n ? sb_buf_append(&s->arena, p, n) : SB_OK;
}

/* Appends `v` as a JSON string, at most 32 bytes of it (enough to name a
 * wrong op), cut at a character boundary. */
static sb_err_t arena_json_string(sqlite_src_t *s, const unsigned char *v, size_t len) {
        if (len > 32) {
                len = 32;
                while (len > 0 && (v[len] & 0xC0) == 0x80)
                        len--;
        }
        sb_err_t err = arena_add(s, "\"", 1);
        for (size_t i = 0; !err && i < len; i++) {
                if (v[i] == '"' || v[i] == '\\')
                        err = sb_buf_printf(&s->arena, "\\%c", v[i]);
                else if (v[i] < 0x20)
                        err = sb_buf_printf(&s->arena, "\\u%04x", v[i]);
                else
                        err = arena_add(s, &v[i], 1);
        }
        return err ?: arena_add(s, "\"", 1);
}

/* Writes `v` in decimal to dst (room for 20 digits), returns the length:
 * no printf, as this runs for every row. */
static size_t format_u64(char *dst, uint64_t v) {
        char digits[20];
        size_t n = sizeof(digits);
        do
                digits[--n] = (char)('0' + v % 10);
        while ((v /= 10) != 0);
        memcpy(dst, digits + n, sizeof(digits) - n);
        return sizeof(digits) - n;
}

static sb_err_t arena_u64(sqlite_src_t *s, uint64_t v) {
        char digits[20];
        return arena_add(s, digits, format_u64(digits, v));
}

static sb_err_t arena_json_or_null(sqlite_src_t *s, const unsigned char *v, size_t len) {
        return v ? arena_add(s, v, len) : arena_add(s, "null", 4);
}

/* The change line of the outbox row st_batch stands on, appended to the
 * arena; `why` gets the reason the producer will reject it, if any. */
static sb_err_t outbox_line(sqlite_src_t *s, uint64_t *seq, char *why, size_t why_size) {
        sqlite3_stmt *st = s->st_batch;
        *seq = (uint64_t)sqlite3_column_int64(st, 0);
        const unsigned char *op = sqlite3_column_text(st, 1);
        size_t op_len = (size_t)sqlite3_column_bytes(st, 1);
        const unsigned char *col[3];
        size_t len[3], total = 0;
        for (int i = 0; i < 3; i++) {
                col[i] = sqlite3_column_text(st, 2 + i);
                len[i] = (size_t)sqlite3_column_bytes(st, 2 + i);
                total += len[i];
        }
        why[0] = 0;
        if (total > s->max_row) {
                snprintf(why, why_size, "row of %zu bytes exceeds the %zu-byte bound (max_outbox_row_bytes)",
                         total, s->max_row);
                return sb_buf_printf(&s->arena, "{\"rejected_by_source\":\"%s\"}", why);
        }
        sb_err_t err = arena_add(s, "{\"op\":", 6);
        if (!err && !op) {
                snprintf(why, why_size, "op is NULL");
                err = arena_add(s, "null", 4);
        } else if (!err) {
                if (op_len != 1 || !op[0] || !strchr("cudr", op[0]))
                        snprintf(why, why_size, "unknown op '%.32s'", (const char *)op);
                err = arena_json_string(s, op, op_len);
        }
        /* An empty key would make the line no JSON at all: null says more. */
        if (!col[0] || len[0] == 0) {
                if (!why[0])
                        snprintf(why, why_size, col[0] ? "key is empty" : "key is NULL");
                col[0] = NULL;
        }
        static const char *const names[3] = {",\"key\":", ",\"before\":", ",\"after\":"};
        for (int i = 0; !err && i < 3; i++)
                if (!(err = arena_add(s, names[i], strlen(names[i]))))
                        err = arena_json_or_null(s, col[i], len[i]);
        if (!err) {
                int t = sqlite3_column_type(st, 5);
                sqlite3_int64 ts = t == SQLITE_INTEGER ? sqlite3_column_int64(st, 5) : 0;
                if (t == SQLITE_INTEGER && ts >= 0) {
                        if (!(err = arena_add(s, ",\"ts_ms\":", 9)))
                                err = arena_u64(s, (uint64_t)ts);
                } else if (t == SQLITE_INTEGER) {
                        err = sb_buf_printf(&s->arena, ",\"ts_ms\":%lld", (long long)ts);
                } else if (t != SQLITE_NULL) {
                        if (!why[0])
                                snprintf(why, why_size, "changed_at is not an integer");
                        err = arena_add(s, ",\"ts_ms\":null", 13);
                }
        }
        if (!err)
                err = arena_add(s, ",\"seq\":", 7);
        if (!err)
                err = arena_u64(s, *seq);
        return err ?: arena_add(s, "}", 1);
}

/* Record n: the arena's text from `start`; where = "<what> <num>[: why]". */
static void add_record(sqlite_src_t *s, size_t n, size_t start, uint64_t position, const char *what,
                       uint64_t num, const char *why) {
        source_record_t *r = &s->records[n];
        s->offsets[n] = start;
        r->len = s->arena.len - start;
        r->position = position;
        r->number = 0; /* outbox rows carry their seq */
        size_t w = strnlen(what, 40);
        memcpy(r->where, what, w);
        r->where[w++] = ' ';
        w += format_u64(r->where + w, num);
        r->where[w] = 0;
        if (why[0])
                snprintf(r->where + w, sizeof(r->where) - w, ": %.90s", why);
}

static void fix_texts(sqlite_src_t *s, size_t n) {
        for (size_t i = 0; i < n; i++)
                s->records[i].text = (const char *)s->arena.data + s->offsets[i];
}

static sb_err_t read_batch(sqlite_src_t *s, size_t max, size_t *count, char *errstr, size_t errstr_size) {
        sqlite3_stmt *st = s->st_batch;
        sb_err_t err = SB_OK;
        size_t n = 0;
        sqlite3_bind_text(st, 1, s->dataset, -1, SQLITE_STATIC);
        sqlite3_bind_int64(st, 2, (sqlite3_int64)s->cursor);
        sqlite3_bind_int64(st, 3, (sqlite3_int64)max);
        int rc = SQLITE_DONE;
        while (n < max && s->arena.len < SQLITE_BATCH_BYTES && (rc = sqlite3_step(st)) == SQLITE_ROW) {
                size_t start = s->arena.len;
                uint64_t seq;
                char why[128];
                if ((err = outbox_line(s, &seq, why, sizeof(why)))) {
                        err = sb_seterr(err, errstr, errstr_size, "outbox seq %" PRIu64 ": out of memory",
                                        seq);
                        break;
                }
                if (why[0])
                        SB_LOG(s->log, SB_LOG_WARN, "%s: outbox seq %" PRIu64 ": %s", s->path, seq, why);
                add_record(s, n, start, seq, "outbox seq", seq, why);
                s->cursor = seq;
                n++;
        }
        if (!err && rc != SQLITE_ROW && rc != SQLITE_DONE)
                err = db_err(s, errstr, errstr_size, "reading the outbox");
        sqlite3_reset(st);
        sqlite3_clear_bindings(st);
        fix_texts(s, n);
        *count = n;
        return n ? SB_OK : err;
}

static sb_err_t data_version(sqlite_src_t *s, int64_t *v, char *errstr, size_t errstr_size) {
        int rc = sqlite3_step(s->st_version);
        *v = rc == SQLITE_ROW ? sqlite3_column_int64(s->st_version, 0) : -1;
        sqlite3_reset(s->st_version);
        return rc == SQLITE_ROW ? SB_OK : db_err(s, errstr, errstr_size, "PRAGMA data_version");
}

static void snapshot_abort(sqlite_src_t *s) {
        sqlite3_reset(s->st_snap);
        sqlite3_reset(s->st_maxseq);
        if (!sqlite3_get_autocommit(s->db))
                sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
        s->phase = PHASE_SNAP_START;
        s->snap_has_row = 0;
}

/* Starts the read transaction: the outbox's max(seq) and the first row of
 * the business table come from the same committed state of the file. */
static sb_err_t snapshot_start(sqlite_src_t *s, char *errstr, size_t errstr_size) {
        if (sqlite3_exec(s->db, "BEGIN", NULL, NULL, NULL) != SQLITE_OK)
                return db_err(s, errstr, errstr_size, "starting the snapshot");
        if (sqlite3_step(s->st_maxseq) != SQLITE_ROW) {
                sb_err_t err = db_err(s, errstr, errstr_size, "reading the outbox's last seq");
                snapshot_abort(s);
                return err;
        }
        s->snap_seq = (uint64_t)sqlite3_column_int64(s->st_maxseq, 0);
        sqlite3_reset(s->st_maxseq);
        s->snap_ts = sb_clock_now_ms();
        s->snap_row_no = 0;
        int rc = sqlite3_step(s->st_snap);
        if (rc != SQLITE_ROW && rc != SQLITE_DONE) {
                sb_err_t err = db_err(s, errstr, errstr_size, "reading snapshot_table");
                snapshot_abort(s);
                return err;
        }
        s->snap_has_row = rc == SQLITE_ROW;
        s->phase = PHASE_SNAP_ROWS;
        SB_LOG(s->log, SB_LOG_INFO, "snapshot of %s started at outbox seq %" PRIu64, s->snap_table,
               s->snap_seq);
        return SB_OK;
}

static sb_err_t snapshot_line(sqlite_src_t *s, char *why, size_t why_size) {
        sqlite3_stmt *st = s->st_snap;
        const unsigned char *key = sqlite3_column_text(st, 0);
        size_t key_len = (size_t)sqlite3_column_bytes(st, 0);
        const unsigned char *after = sqlite3_column_text(st, 1);
        size_t after_len = (size_t)sqlite3_column_bytes(st, 1);
        why[0] = 0;
        if (key_len + after_len > s->max_row) {
                snprintf(why, why_size, "row of %zu bytes exceeds the %zu-byte bound (max_outbox_row_bytes)",
                         key_len + after_len, s->max_row);
                return sb_buf_printf(&s->arena, "{\"rejected_by_source\":\"%s\"}", why);
        }
        sb_err_t err = arena_add(s, "{\"op\":\"r\",\"key\":", 16);
        if (!err)
                err = arena_json_or_null(s, key, key_len);
        if (!err)
                err = arena_add(s, ",\"after\":", 9);
        if (!err)
                err = arena_json_or_null(s, after, after_len);
        return err
                       ?: sb_buf_printf(&s->arena, ",\"ts_ms\":%lld,\"seq\":%" PRIu64 "}",
                                        (long long)s->snap_ts, s->snap_seq);
}

static sb_err_t snapshot_next(sqlite_src_t *s, size_t max, size_t *count, char *errstr, size_t errstr_size) {
        sb_err_t err;
        size_t n = 0;
        *count = 0;
        if (s->phase == PHASE_SNAP_START && (err = snapshot_start(s, errstr, errstr_size)))
                return err;
        while (n < max && s->snap_has_row && s->arena.len < SQLITE_BATCH_BYTES) {
                size_t start = s->arena.len;
                char why[128];
                s->snap_row_no++;
                if ((err = snapshot_line(s, why, sizeof(why)))) {
                        snapshot_abort(s);
                        return sb_seterr(err, errstr, errstr_size, "snapshot: out of memory");
                }
                if (why[0])
                        SB_LOG(s->log, SB_LOG_WARN, "%s: %s row %lu: %s", s->path, s->snap_table,
                               s->snap_row_no, why);
                char what[SQLITE_SQL_IDENT_MAX + 8];
                snprintf(what, sizeof(what), "%s row", s->snap_table);
                add_record(s, n, start, 0, what, s->snap_row_no, why);
                n++;
                /* One row ahead, so that the last row is known as such while
                 * it is handed over. */
                int rc = sqlite3_step(s->st_snap);
                if (rc != SQLITE_ROW && rc != SQLITE_DONE) {
                        err = db_err(s, errstr, errstr_size, "reading snapshot_table");
                        snapshot_abort(s);
                        return err;
                }
                s->snap_has_row = rc == SQLITE_ROW;
        }
        fix_texts(s, n);
        *count = n;
        if (s->snap_has_row)
                return SB_OK;
        sqlite3_reset(s->st_snap);
        if (sqlite3_exec(s->db, "COMMIT", NULL, NULL, NULL) != SQLITE_OK) {
                err = db_err(s, errstr, errstr_size, "ending the snapshot");
                snapshot_abort(s);
                return err;
        }
        s->phase = PHASE_OUTBOX;
        s->cursor = s->snap_seq;
        SB_LOG(s->log, SB_LOG_INFO, "snapshot of %s: %lu rows; the outbox follows from seq %" PRIu64,
               s->snap_table, s->snap_row_no, s->snap_seq);
        /* The rows up to snap_seq are in the snapshot: they are done once its
         * last row is, or now if it has none. */
        if (n > 0)
                s->records[n - 1].position = s->snap_seq;
        else if (s->snap_seq > 0)
                return sqlite_progress_record(s->progress, s->snap_seq, errstr, errstr_size);
        return SB_OK;
}

static sb_err_t sqlite_next(void *state, size_t max, int timeout_ms, source_batch_t *out, char *errstr,
                            size_t errstr_size) {
        sqlite_src_t *s = state;
        size_t n = 0;
        sb_err_t err;
        out->records = s->records;
        out->count = 0;
        if (max > SQLITE_BATCH_MAX)
                max = SQLITE_BATCH_MAX;
        if (max == 0)
                return SB_OK;
        sb_buf_reset(&s->arena);
        if (s->phase != PHASE_OUTBOX) {
                err = snapshot_next(s, max, &n, errstr, errstr_size);
                out->count = n;
                if (err || n || s->phase != PHASE_OUTBOX)
                        return err;
        }
        int64_t deadline = sb_clock_mono_ms() + (timeout_ms > 0 ? timeout_ms : 0);
        for (;;) {
                int64_t v;
                if ((err = data_version(s, &v, errstr, errstr_size)))
                        return err;
                /* Read before the query: a commit in between changes it again,
                 * so the next round reads. */
                if (v != s->empty_version) {
                        if ((err = read_batch(s, max, &n, errstr, errstr_size)))
                                return err;
                        if (n) {
                                out->count = n;
                                return SB_OK;
                        }
                        s->empty_version = v;
                        if (s->drain)
                                return sb_seterr(SB_ERR_NOT_FOUND, errstr, errstr_size,
                                                 "%s: no unsent row (--drain)", s->path);
                }
                int64_t left = deadline - sb_clock_mono_ms();
                if (left <= 0)
                        return SB_OK;
                sb_clock_sleep_ms(left < s->poll_ms ? (int)left : s->poll_ms);
        }
}

static sb_err_t sqlite_ack(void *state, uint64_t position, char *errstr, size_t errstr_size) {
        sqlite_src_t *s = state;
        sb_err_t err = sqlite_progress_record(s->progress, position, errstr, errstr_size);
        if (err)
                return err;
        int deleted;
        /* The rows are recorded sent; a prune that waited too long for the
         * lock is retried at a later ack. */
        if (sqlite_progress_prune(s->progress, &deleted) != SQLITE_DONE)
                SB_LOG(s->log, SB_LOG_WARN, "%s: pruning sent outbox rows: %s", s->path,
                       sqlite3_errmsg(s->db));
        else if (deleted > 0)
                SB_LOG(s->log, SB_LOG_DEBUG, "%s: pruned %d sent outbox rows", s->path, deleted);
        return SB_OK;
}

static void sqlite_stats(void *state, source_stats_t *out) {
        sqlite_src_t *s = state;
        sqlite3_stmt *st = s->st_stats;
        sqlite3_bind_text(st, 1, s->dataset, -1, SQLITE_STATIC);
        sqlite3_bind_int64(st, 2, (sqlite3_int64)sqlite_progress_mark(s->progress));
        if (sqlite3_step(st) == SQLITE_ROW) {
                out->backlog = sqlite3_column_int64(st, 0);
                if (sqlite3_column_type(st, 1) == SQLITE_INTEGER)
                        out->oldest_age_ms = sb_clock_now_ms() - sqlite3_column_int64(st, 1);
        }
        sqlite3_reset(st);
        sqlite3_clear_bindings(st);
}

static void sqlite_close(void *state) {
        sqlite_src_t *s = state;
        if (!s)
                return;
        sqlite_progress_destroy(s->progress);
        sqlite3_stmt *all[] = {s->st_batch, s->st_version, s->st_stats, s->st_maxseq, s->st_snap};
        enum { N_STATEMENTS = sizeof(all) / sizeof(all[0]) };
        for (size_t i = 0; i < N_STATEMENTS; i++)
                sqlite3_finalize(all[i]);
        if (s->db) {
                if (!sqlite3_get_autocommit(s->db))
                        sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
                sqlite3_close_v2(s->db);
        }
        sb_buf_free(&s->arena);
        free(s);
}

const source_ops_t source_sqlite_ops = {
        .name = "sqlite",
        .open = sqlite_open,
        .next = sqlite_next,
        .ack = sqlite_ack,
        .stats = sqlite_stats,
        .close = sqlite_close,
};

#include "sources/sqlite_progress.h"

#include <stdio.h>
#include <stdlib.h>

#include "sb_buf.h"
#include "sb_clock.h"
#include "sources/sqlite_sql.h"

/* Pruning runs at most this often (and at the first ack), deleting at most
 * this many rows at a time (one write transaction the application waits
 * for). */
#define SQLITE_PRUNE_EVERY_MS 60000
#define SQLITE_PRUNE_ROWS_MAX 10000
/* A progress row is moved forward for this long, then a new one is
 * started: the rows say, to the minute, what was sent when. */
#define SQLITE_PROGRESS_ROW_MS 60000

struct sqlite_progress_s {
        sqlite3 *db;         /* borrowed */
        const char *path;    /* borrowed */
        const char *table;   /* borrowed */
        const char *dataset; /* borrowed */
        long long retention_ms;
        sqlite3_stmt *st_move, *st_add, *st_mark, *st_prune_mark, *st_prune, *st_prune_log;
        uint64_t acked;      /* the mark */
        uint64_t row_seq;    /* the seq of this run's latest progress row; 0: none */
        int64_t row_started; /* when that row was started (ms since the epoch) */
        int64_t last_prune_mono;
        int pruned_once;
};

static sb_err_t db_err(sqlite_progress_t *p, char *errstr, size_t errstr_size, const char *what) {
        return sb_seterr(SB_ERR_DB, errstr, errstr_size, "%s %s: %s", p->path, what, sqlite3_errmsg(p->db));
}

static sb_err_t prepare(sqlite_progress_t *p, const char *sql, sqlite3_stmt **st, char *errstr,
                        size_t errstr_size) {
        if (sqlite3_prepare_v3(p->db, sql, -1, SQLITE_PREPARE_PERSISTENT, st, NULL) != SQLITE_OK)
                return db_err(p, errstr, errstr_size, SQLITE_SQL_PROGRESS_TABLE);
        return SB_OK;
}

/* Binds the outbox table and the dataset as ?1 and ?2 of st. */
static void bind_names(sqlite_progress_t *p, sqlite3_stmt *st) {
        sqlite3_bind_text(st, 1, p->table, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 2, p->dataset, -1, SQLITE_STATIC);
}

/* Steps st to its end, resets it; the SQLite result. */
static int run(sqlite3_stmt *st) {
        int rc = sqlite3_step(st);
        sqlite3_reset(st);
        sqlite3_clear_bindings(st);
        return rc;
}

sb_err_t sqlite_progress_new(sqlite3 *db, const char *path, const char *table, const char *dataset,
                             long long retention_ms, sqlite_progress_t **out, char *errstr,
                             size_t errstr_size) {
        sqlite_progress_t *p = calloc(1, sizeof(*p));
        *out = NULL;
        if (!p)
                return sb_seterr(SB_ERR_NOMEM, errstr, errstr_size, "out of memory");
        *p = (sqlite_progress_t){
                .db = db, .path = path, .table = table, .dataset = dataset, .retention_ms = retention_ms};
        /* The producer's own bookkeeping: created here, so that an outbox
         * made before it existed (or by hand) needs nothing more. */
        sb_buf_t ddl;
        sb_buf_init(&ddl, 4096);
        int bad = sqlite_sql_progress_ddl(&ddl) || sqlite3_exec(db, (const char *)ddl.data, NULL, NULL, NULL);
        sb_buf_free(&ddl);
        sb_err_t err =
                bad ? db_err(p, errstr, errstr_size, "creating table " SQLITE_SQL_PROGRESS_TABLE) : SB_OK;
        /* At most SQLITE_PRUNE_ROWS_MAX rows per prune. */
        char prune_sql[1024];
        snprintf(prune_sql, sizeof(prune_sql),
                 "DELETE FROM \"%s\" WHERE dataset = ?1 AND seq <= min(?2, coalesce((SELECT seq FROM \"%s\" "
                 "WHERE dataset = ?1 ORDER BY seq LIMIT 1 OFFSET %d), ?2))",
                 table, table, SQLITE_PRUNE_ROWS_MAX - 1);
        if (err ||
            (err = prepare(p,
                           "UPDATE " SQLITE_SQL_PROGRESS_TABLE
                           " SET seq = ?3, sent_at = ?4 WHERE outbox_table "
                           "= ?1 AND dataset = ?2 AND seq = ?5",
                           &p->st_move, errstr, errstr_size)) ||
            (err = prepare(p, "INSERT OR IGNORE INTO " SQLITE_SQL_PROGRESS_TABLE " VALUES (?1, ?2, ?3, ?4)",
                           &p->st_add, errstr, errstr_size)) ||
            (err = prepare(p,
                           "SELECT seq FROM " SQLITE_SQL_PROGRESS_TABLE
                           " WHERE outbox_table = ?1 AND dataset = ?2 ORDER BY seq DESC LIMIT 1",
                           &p->st_mark, errstr, errstr_size)) ||
            (err = prepare(p,
                           "SELECT max(seq) FROM " SQLITE_SQL_PROGRESS_TABLE
                           " WHERE outbox_table = ?1 AND dataset = ?2 AND sent_at <= ?3",
                           &p->st_prune_mark, errstr, errstr_size)) ||
            (err = prepare(p,
                           "DELETE FROM " SQLITE_SQL_PROGRESS_TABLE
                           " WHERE outbox_table = ?1 AND dataset = ?2 AND seq < ?3",
                           &p->st_prune_log, errstr, errstr_size)) ||
            (err = prepare(p, prune_sql, &p->st_prune, errstr, errstr_size))) {
                sqlite_progress_destroy(p);
                return err;
        }
        bind_names(p, p->st_mark);
        int rc = sqlite3_step(p->st_mark);
        /* The first ack starts a progress row of this run's own (row_seq 0):
         * moving an older one would stretch its minute across restarts. */
        if (rc == SQLITE_ROW)
                p->acked = (uint64_t)sqlite3_column_int64(p->st_mark, 0);
        sqlite3_reset(p->st_mark);
        if (rc != SQLITE_ROW && rc != SQLITE_DONE) {
                err = db_err(p, errstr, errstr_size, "reading " SQLITE_SQL_PROGRESS_TABLE);
                sqlite_progress_destroy(p);
                return err;
        }
        *out = p;
        return SB_OK;
}

void sqlite_progress_destroy(sqlite_progress_t *p) {
        if (!p)
                return;
        sqlite3_stmt *all[] = {p->st_move,       p->st_add,   p->st_mark,
                               p->st_prune_mark, p->st_prune, p->st_prune_log};
        for (size_t i = 0; i < sizeof(all) / sizeof(all[0]); i++)
                sqlite3_finalize(all[i]);
        free(p);
}

uint64_t sqlite_progress_mark(const sqlite_progress_t *p) { return p->acked; }

sb_err_t sqlite_progress_record(sqlite_progress_t *p, uint64_t position, char *errstr, size_t errstr_size) {
        if (position <= p->acked)
                return SB_OK;
        int64_t now = sb_clock_now_ms();
        int moved = 0, rc = SQLITE_DONE;
        if (p->row_seq && now - p->row_started < SQLITE_PROGRESS_ROW_MS) {
                bind_names(p, p->st_move);
                sqlite3_bind_int64(p->st_move, 3, (sqlite3_int64)position);
                sqlite3_bind_int64(p->st_move, 4, now);
                sqlite3_bind_int64(p->st_move, 5, (sqlite3_int64)p->row_seq);
                rc = run(p->st_move);
                moved = rc == SQLITE_DONE && sqlite3_changes(p->db) == 1;
        }
        if (rc == SQLITE_DONE && !moved) {
                bind_names(p, p->st_add);
                sqlite3_bind_int64(p->st_add, 3, (sqlite3_int64)position);
                sqlite3_bind_int64(p->st_add, 4, now);
                rc = run(p->st_add);
                p->row_started = now;
        }
        if (rc != SQLITE_DONE)
                return db_err(p, errstr, errstr_size, "recording the rows sent");
        p->acked = p->row_seq = position;
        return SB_OK;
}

/* Deletes the rows sent at least the retention ago: those up to the
 * highest seq the progress rows of that time recorded, then the progress
 * rows below it. */
static int prune_now(sqlite_progress_t *p, int *deleted) {
        sqlite3_stmt *st = p->st_prune_mark;
        bind_names(p, st);
        sqlite3_bind_int64(st, 3, sb_clock_now_ms() - p->retention_ms);
        int rc = sqlite3_step(st);
        sqlite3_int64 upto = rc == SQLITE_ROW ? sqlite3_column_int64(st, 0) : 0;
        sqlite3_reset(st);
        sqlite3_clear_bindings(st);
        if (rc != SQLITE_ROW)
                return rc;
        if (upto <= 0)
                return SQLITE_DONE;
        sqlite3_bind_text(p->st_prune, 1, p->dataset, -1, SQLITE_STATIC);
        sqlite3_bind_int64(p->st_prune, 2, upto);
        if ((rc = run(p->st_prune)) != SQLITE_DONE)
                return rc;
        *deleted = sqlite3_changes(p->db);
        bind_names(p, p->st_prune_log);
        sqlite3_bind_int64(p->st_prune_log, 3, upto);
        return run(p->st_prune_log);
}

int sqlite_progress_prune(sqlite_progress_t *p, int *deleted) {
        int64_t mono = sb_clock_mono_ms();
        long long every =
                p->retention_ms / 10 < SQLITE_PRUNE_EVERY_MS ? p->retention_ms / 10 : SQLITE_PRUNE_EVERY_MS;
        *deleted = 0;
        if (p->pruned_once && mono - p->last_prune_mono < every)
                return SQLITE_DONE;
        int rc = prune_now(p, deleted);
        if (rc == SQLITE_DONE) {
                p->pruned_once = 1;
                p->last_prune_mono = mono;
        }
        return rc;
}

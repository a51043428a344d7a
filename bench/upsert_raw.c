#include "upsert_raw.h"

#include <sqlite3.h>
#include <stdio.h>
#include <string.h>

#include "raw_changes.h"

static int bind_all(sqlite3_stmt *st, const raw_val_t *vals, size_t n) {
        int rc = SQLITE_OK;
        for (size_t i = 0; i < n && rc == SQLITE_OK; i++) {
                const raw_val_t *v = &vals[i];
                int at = (int)i + 1;
                rc = v->kind == RAW_INT    ? sqlite3_bind_int64(st, at, v->i)
                     : v->kind == RAW_REAL ? sqlite3_bind_double(st, at, v->d)
                     : v->kind == RAW_TEXT ? sqlite3_bind_text(st, at, v->s, (int)v->len, SQLITE_STATIC)
                                           : sqlite3_bind_null(st, at);
        }
        return rc;
}

/* Appends to sql (of `size`) with a bound; -1 when it does not fit. */
static int add(char *sql, size_t size, const char *a, const char *b, const char *c) {
        size_t at = strlen(sql);
        int n = snprintf(sql + at, size - at, "%s%s%s", a, b, c);
        return n < 0 || (size_t)n >= size - at ? -1 : 0;
}

static int apply_all(const raw_set_t *set, sqlite3 *db, long batch, double *secs) {
        static char create[64 * 1024], upsert[64 * 1024], del[16 * 1024];
        snprintf(create, sizeof(create), "CREATE TABLE t (");
        snprintf(upsert, sizeof(upsert), "INSERT INTO t VALUES (");
        snprintf(del, sizeof(del), "DELETE FROM t WHERE ");
        int bad = 0;
        for (size_t i = 0; i < set->ncols; i++) {
                bad |= add(create, sizeof(create), "\"", set->cols[i], "\", ");
                bad |= add(upsert, sizeof(upsert), i ? ", ?" : "?", "", "");
        }
        bad |= add(create, sizeof(create), "PRIMARY KEY (", "", "");
        bad |= add(upsert, sizeof(upsert), ") ON CONFLICT (", "", "");
        for (size_t i = 0; i < set->nkeys; i++) {
                bad |= add(create, sizeof(create), i ? ", \"" : "\"", set->keys[i], "\"");
                bad |= add(upsert, sizeof(upsert), i ? ", \"" : "\"", set->keys[i], "\"");
                char param[32];
                snprintf(param, sizeof(param), "\" = ?%zu", i + 1);
                bad |= add(del, sizeof(del), i ? " AND \"" : "\"", set->keys[i], param);
        }
        bad |= add(create, sizeof(create), "))", "", "");
        bad |= add(upsert, sizeof(upsert), ") DO UPDATE SET ", "", "");
        for (size_t i = 0; i < set->ncols; i++) {
                bad |= add(upsert, sizeof(upsert), i ? ", \"" : "\"", set->cols[i], "\" = excluded.\"");
                bad |= add(upsert, sizeof(upsert), set->cols[i], "\"", "");
        }
        sqlite3_stmt *up = NULL, *rm = NULL;
        if (bad || sqlite3_exec(db, create, NULL, NULL, NULL) != SQLITE_OK ||
            sqlite3_prepare_v2(db, upsert, -1, &up, NULL) != SQLITE_OK ||
            sqlite3_prepare_v2(db, del, -1, &rm, NULL) != SQLITE_OK) {
                fprintf(stderr, "bench_tool: upsert-raw: %s\n",
                        bad ? "statement too long" : sqlite3_errmsg(db));
                sqlite3_finalize(up);
                return -1;
        }
        int rc = SQLITE_OK;
        double start = raw_now_s();
        for (size_t i = 0; i < set->n && rc == SQLITE_OK; i++) {
                if (i % (size_t)batch == 0 && (rc = sqlite3_exec(db, "BEGIN IMMEDIATE", NULL, NULL, NULL)))
                        break;
                const raw_change_t *c = &set->changes[i];
                sqlite3_stmt *st = c->op == 'd' ? rm : up;
                if ((rc = bind_all(st, c->vals, c->op == 'd' ? set->nkeys : set->ncols)) == SQLITE_OK)
                        rc = sqlite3_step(st) == SQLITE_DONE ? SQLITE_OK : sqlite3_errcode(db);
                sqlite3_reset(st);
                if (rc == SQLITE_OK && ((i + 1) % (size_t)batch == 0 || i + 1 == set->n))
                        rc = sqlite3_exec(db, "COMMIT", NULL, NULL, NULL);
        }
        *secs = raw_now_s() - start;
        if (rc != SQLITE_OK)
                fprintf(stderr, "bench_tool: upsert-raw: %s\n", sqlite3_errmsg(db));
        sqlite3_finalize(up);
        sqlite3_finalize(rm);
        return rc == SQLITE_OK ? 0 : -1;
}

int upsert_raw(const char *lines_path, const char *db_path, long batch) {
        raw_set_t set;
        int rc = 1;
        if (raw_changes_read(lines_path, "upsert-raw", &set) == 0) {
                sqlite3 *db = NULL;
                double secs = 0;
                if (sqlite3_open(db_path, &db) != SQLITE_OK ||
                    sqlite3_exec(db, "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL", NULL, NULL, NULL) !=
                            SQLITE_OK)
                        fprintf(stderr, "bench_tool: upsert-raw: %s: %s\n", db_path,
                                db ? sqlite3_errmsg(db) : "?");
                else if (apply_all(&set, db, batch, &secs) == 0) {
                        printf("%.0f %zu\n", (double)set.n / secs, set.n);
                        rc = 0;
                }
                sqlite3_close(db);
        }
        raw_changes_free(&set);
        return rc;
}

#include "upsert_raw_pg.h"

#include <libpq-fe.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "raw_changes.h"

/* Appends to sql (of `size`) with a bound; -1 when it does not fit. */
static int add(char *sql, size_t size, const char *a, const char *b, const char *c) {
        size_t at = strlen(sql);
        int n = snprintf(sql + at, size - at, "%s%s%s", a, b, c);
        return n < 0 || (size_t)n >= size - at ? -1 : 0;
}

static int run(PGconn *c, const char *sql) {
        PGresult *r = PQexec(c, sql);
        int ok = PQresultStatus(r) == PGRES_COMMAND_OK || PQresultStatus(r) == PGRES_TUPLES_OK;
        if (!ok)
                fprintf(stderr, "bench_tool: upsert-raw-pg: %.200s: %s", sql, PQerrorMessage(c));
        PQclear(r);
        return ok ? 0 : -1;
}

/* The statements: the table LIKE the subscriber's, the upsert, the delete. */
static int prepare(PGconn *c, const raw_set_t *set, const char *like, const char *table) {
        static char sql[64 * 1024], del[16 * 1024];
        char param[32];
        snprintf(sql, sizeof(sql),
                 "DROP TABLE IF EXISTS \"%s\"; CREATE TABLE \"%s\" (LIKE \"%s\" INCLUDING ALL)", table, table,
                 like);
        if (run(c, sql))
                return -1;
        snprintf(sql, sizeof(sql), "INSERT INTO \"%s\" (", table);
        snprintf(del, sizeof(del), "DELETE FROM \"%s\" WHERE ", table);
        int bad = 0;
        for (size_t i = 0; i < set->ncols; i++)
                bad |= add(sql, sizeof(sql), i ? ", \"" : "\"", set->cols[i], "\"");
        bad |= add(sql, sizeof(sql), ") VALUES (", "", "");
        for (size_t i = 0; i < set->ncols; i++) {
                snprintf(param, sizeof(param), "%s$%zu", i ? ", " : "", i + 1);
                bad |= add(sql, sizeof(sql), param, "", "");
        }
        bad |= add(sql, sizeof(sql), ") ON CONFLICT (", "", "");
        for (size_t i = 0; i < set->nkeys; i++) {
                bad |= add(sql, sizeof(sql), i ? ", \"" : "\"", set->keys[i], "\"");
                snprintf(param, sizeof(param), "\" = $%zu", i + 1);
                bad |= add(del, sizeof(del), i ? " AND \"" : "\"", set->keys[i], param);
        }
        bad |= add(sql, sizeof(sql), ") DO UPDATE SET ", "", "");
        for (size_t i = 0; i < set->ncols; i++) {
                bad |= add(sql, sizeof(sql), i ? ", \"" : "\"", set->cols[i], "\" = EXCLUDED.\"");
                bad |= add(sql, sizeof(sql), set->cols[i], "\"", "");
        }
        if (bad) {
                fprintf(stderr, "bench_tool: upsert-raw-pg: statement too long\n");
                return -1;
        }
        PGresult *r1 = PQprepare(c, "up", sql, 0, NULL), *r2 = PQprepare(c, "rm", del, 0, NULL);
        int ok = PQresultStatus(r1) == PGRES_COMMAND_OK && PQresultStatus(r2) == PGRES_COMMAND_OK;
        if (!ok)
                fprintf(stderr, "bench_tool: upsert-raw-pg: prepare: %s", PQerrorMessage(c));
        PQclear(r1);
        PQclear(r2);
        return ok ? 0 : -1;
}

/* Reads the pipeline's results up to its sync point; -1 if one failed. */
static int drain(PGconn *c) {
        int rc = 0;
        for (;;) {
                PGresult *r = PQgetResult(c);
                if (!r) {
                        if (PQstatus(c) != CONNECTION_OK)
                                return -1;
                        continue; /* the end of one query's results */
                }
                ExecStatusType st = PQresultStatus(r);
                if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK && st != PGRES_PIPELINE_SYNC && !rc) {
                        fprintf(stderr, "bench_tool: upsert-raw-pg: %s", PQresultErrorMessage(r));
                        rc = -1;
                }
                PQclear(r);
                if (st == PGRES_PIPELINE_SYNC)
                        return rc;
        }
}

static int apply_all(PGconn *c, const raw_set_t *set, long batch, double *secs) {
        char text[RAW_COLUMNS_MAX][32];
        const char *vals[RAW_COLUMNS_MAX];
        int rc = PQenterPipelineMode(c) ? 0 : -1;
        double start = raw_now_s();
        for (size_t i = 0; i < set->n && rc == 0; i++) {
                if (i % (size_t)batch == 0 && !PQsendQueryParams(c, "BEGIN", 0, NULL, NULL, NULL, NULL, 0))
                        rc = -1;
                const raw_change_t *ch = &set->changes[i];
                size_t n = ch->op == 'd' ? set->nkeys : set->ncols;
                for (size_t k = 0; k < n; k++) {
                        const raw_val_t *v = &ch->vals[k];
                        vals[k] = text[k];
                        if (v->kind == RAW_INT)
                                snprintf(text[k], sizeof(text[k]), "%lld", v->i);
                        else if (v->kind == RAW_REAL)
                                snprintf(text[k], sizeof(text[k]), "%.17g", v->d);
                        else
                                vals[k] = v->kind == RAW_TEXT ? v->s : NULL;
                }
                if (rc == 0 &&
                    !PQsendQueryPrepared(c, ch->op == 'd' ? "rm" : "up", (int)n, vals, NULL, NULL, 0))
                        rc = -1;
                if (rc == 0 && ((i + 1) % (size_t)batch == 0 || i + 1 == set->n)) {
                        if (!PQsendQueryParams(c, "COMMIT", 0, NULL, NULL, NULL, NULL, 0) ||
                            !PQpipelineSync(c))
                                rc = -1;
                        else
                                rc = drain(c);
                }
        }
        *secs = raw_now_s() - start;
        if (rc)
                fprintf(stderr, "bench_tool: upsert-raw-pg: %s", PQerrorMessage(c));
        return rc;
}

int upsert_raw_pg(const char *lines_path, const char *conninfo, const char *like_table, const char *table,
                  long batch) {
        raw_set_t set;
        int rc = 1;
        if (raw_changes_read(lines_path, "upsert-raw-pg", &set) == 0) {
                PGconn *c = PQconnectdb(conninfo);
                double secs = 0;
                if (PQstatus(c) != CONNECTION_OK)
                        fprintf(stderr, "bench_tool: upsert-raw-pg: %s", PQerrorMessage(c));
                else if (batch > 0 && prepare(c, &set, like_table, table) == 0 &&
                         apply_all(c, &set, batch, &secs) == 0) {
                        printf("%.0f %zu\n", (double)set.n / secs, set.n);
                        rc = 0;
                }
                PQfinish(c);
        }
        raw_changes_free(&set);
        return rc;
}

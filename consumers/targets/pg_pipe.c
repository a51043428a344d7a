#include "targets/pg_pipe.h"

#include "targets/pg_conn.h"

sb_err_t pg_pipe_open(pg_pipe_t *p, size_t count, char *errstr, size_t errstr_size) {
        sb_err_t err = p->n + count > PG_PIPE_MAX ? pg_pipe_settle(p, NULL, errstr, errstr_size) : SB_OK;
        if (!err && PQpipelineStatus(p->conn) == PQ_PIPELINE_OFF && !PQenterPipelineMode(p->conn))
                err = pg_conn_err(p->conn, NULL, "entering pipeline mode", errstr, errstr_size);
        return err;
}

sb_err_t pg_pipe_sent(pg_pipe_t *p, int queued, const char *what, char *errstr, size_t errstr_size) {
        if (!queued || PQflush(p->conn) != 0)
                return pg_conn_err(p->conn, NULL, what, errstr, errstr_size);
        for (int i = 0; i < queued; i++)
                p->inflight[p->n++] = i + 1 < queued ? "prepare" : what;
        return SB_OK;
}

sb_err_t pg_pipe_send(pg_pipe_t *p, const char *sql, int n, const char *const *params, const char *what,
                      char *errstr, size_t errstr_size) {
        sb_err_t err = pg_pipe_open(p, 1, errstr, errstr_size);
        return err ? err
                   : pg_pipe_sent(p, PQsendQueryParams(p->conn, sql, n, NULL, params, NULL, NULL, 0), what,
                                  errstr, errstr_size);
}

sb_err_t pg_pipe_settle(pg_pipe_t *p, PGresult **last, char *errstr, size_t errstr_size) {
        if (last)
                *last = NULL;
        if (!p->n)
                return SB_OK;
        size_t n = p->n, at = 0;
        p->n = 0;
        if (!PQpipelineSync(p->conn)) {
                /* The results cannot be told apart any more. */
                sb_err_t err = pg_conn_err(p->conn, NULL, "pipeline sync", errstr, errstr_size);
                PQreset(p->conn);
                p->resets++;
                return err == SB_ERR_INVALID ? SB_ERR_DB : err;
        }
        sb_err_t err = SB_OK;
        PGresult *kept = NULL;
        for (;;) {
                PGresult *r = PQgetResult(p->conn);
                if (!r) {
                        if (PQstatus(p->conn) != CONNECTION_OK) {
                                if (!err)
                                        err = pg_conn_err(p->conn, NULL, p->inflight[at < n ? at : n - 1],
                                                          errstr, errstr_size);
                                PQclear(kept);
                                return err;
                        }
                        at++; /* the end of one statement's results */
                        continue;
                }
                ExecStatusType st = PQresultStatus(r);
                if (st == PGRES_PIPELINE_SYNC) {
                        PQclear(r);
                        break;
                }
                if (!err && st != PGRES_PIPELINE_ABORTED && !pg_result_ok(r))
                        err = pg_conn_err(p->conn, r, p->inflight[at < n ? at : n - 1], errstr, errstr_size);
                if (last && at == n - 1 && !err) {
                        PQclear(kept);
                        kept = r;
                } else {
                        PQclear(r);
                }
        }
        if (!PQexitPipelineMode(p->conn) && !err)
                err = pg_conn_err(p->conn, NULL, "leaving pipeline mode", errstr, errstr_size);
        if (err)
                PQclear(kept);
        else if (last)
                *last = kept;
        return err;
}

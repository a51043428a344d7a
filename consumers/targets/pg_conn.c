#include "targets/pg_conn.h"

#include <stdio.h>
#include <string.h>

/* SQLSTATEs that say the data is what PostgreSQL refuses, so that a retry
 * would be refused again: data exceptions (22: out of range, bad date, bad
 * text for the type), integrity violations (23: NOT NULL, CHECK, UNIQUE),
 * and those of 42 a schema's names or types cause (not a privilege or our
 * own syntax, which are the database's to fix).  Index rows too large
 * (54000) come from a value too. */
static int data_error(const char *state) {
        static const char *const data42[] = {"42804", "42846", "42P18", "42622", "42939",
                                             "42701", "42P16", "42611", "54000"};
        if (!state)
                return 0;
        if (strncmp(state, "22", 2) == 0 || strncmp(state, "23", 2) == 0)
                return 1;
        for (size_t i = 0; i < sizeof(data42) / sizeof(*data42); i++)
                if (strcmp(state, data42[i]) == 0)
                        return 1;
        return 0;
}

/* The error of result r (NULL: libpq had no memory, or the connection's). */
sb_err_t pg_conn_err(PGconn *conn, const PGresult *r, const char *what, char *errstr, size_t errstr_size) {
        const char *state = r ? PQresultErrorField(r, PG_DIAG_SQLSTATE) : NULL;
        const char *msg = r && *PQresultErrorMessage(r) ? PQresultErrorMessage(r) : PQerrorMessage(conn);
        int len = (int)strcspn(msg, "\n");
        sb_err_t err = PQstatus(conn) == CONNECTION_OK && data_error(state) ? SB_ERR_INVALID : SB_ERR_DB;
        return sb_seterr(err, errstr, errstr_size, "postgresql: %s: %.*s%s%s%s", what, len, msg,
                         state ? " (SQLSTATE " : "", state ? state : "", state ? ")" : "");
}

int pg_result_ok(const PGresult *r) {
        return PQresultStatus(r) == PGRES_COMMAND_OK || PQresultStatus(r) == PGRES_TUPLES_OK;
}

/* Runs `sql` with n text parameters (params NULL: PQexec, which also takes
 * several statements).  On success *out (if not NULL) is the result, the
 * caller's to PQclear. */
sb_err_t pg_conn_run(PGconn *conn, const char *sql, int n, const char *const *params, PGresult **out,
                     const char *what, char *errstr, size_t errstr_size) {
        PGresult *r = params ? PQexecParams(conn, sql, n, NULL, params, NULL, NULL, 0) : PQexec(conn, sql);
        sb_err_t err = r && pg_result_ok(r) ? SB_OK : pg_conn_err(conn, r, what, errstr, errstr_size);
        if (!err && out)
                *out = r;
        else
                PQclear(r);
        return err;
}

sb_err_t pg_conn_sp_open(PGconn *conn, char *errstr, size_t errstr_size) {
        sb_err_t err =
                pg_conn_run(conn, "SAVEPOINT sharebus_sp", 0, NULL, NULL, "savepoint", errstr, errstr_size);
        return err == SB_ERR_INVALID ? SB_ERR_DB : err;
}

/* Ends the savepoint of sp_open after its work ended with `err`: a refused
 * row or DDL (SB_ERR_INVALID) is undone alone and the transaction goes on. */
sb_err_t pg_conn_sp_close(PGconn *conn, sb_err_t err, char *errstr, size_t errstr_size) {
        char ignored[256];
        if (err == SB_ERR_INVALID &&
            pg_conn_run(conn, "ROLLBACK TO SAVEPOINT sharebus_sp; RELEASE SAVEPOINT sharebus_sp", 0, NULL,
                        NULL, "rollback to savepoint", ignored, sizeof(ignored)))
                return sb_seterr(SB_ERR_DB, errstr, errstr_size, "%s", ignored);
        if (err)
                return err;
        err = pg_conn_run(conn, "RELEASE SAVEPOINT sharebus_sp", 0, NULL, NULL, "release savepoint", errstr,
                          errstr_size);
        return err == SB_ERR_INVALID ? SB_ERR_DB : err;
}

sb_err_t pg_check_ident(const char *name, const char *what, char *errstr, size_t errstr_size) {
        if (strlen(name) <= SB_PG_MAX_IDENT)
                return SB_OK;
        return sb_seterr(SB_ERR_INVALID, errstr, errstr_size,
                         "%s '%.64s...' is longer than PostgreSQL's %d-byte identifier limit", what, name,
                         SB_PG_MAX_IDENT);
}

/* Appends "name" quoted as an SQL identifier. */
sb_err_t pg_quote_ident(sb_buf_t *b, const char *name) {
        sb_err_t err = sb_buf_append(b, "\"", 1);
        for (const char *p = name; !err && *p; p++)
                err = *p == '"' ? sb_buf_append(b, "\"\"", 2) : sb_buf_append(b, p, 1);
        return err ? err : sb_buf_append(b, "\"", 1);
}

/* Appends the field names of `rec` quoted, each after `sep` but the first. */
sb_err_t pg_put_names(sb_buf_t *b, const sb_node_t *rec, const char *sep) {
        sb_err_t err = SB_OK;
        for (size_t i = 0; !err && i < sb_node_count(rec); i++)
                if (!(err = i ? sb_buf_printf(b, "%s", sep) : SB_OK))
                        err = pg_quote_ident(b, sb_node_field_name(rec, i));
        return err;
}

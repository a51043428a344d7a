/*
 * pg_pipe: the statements the PostgreSQL target has sent in libpq's
 * pipeline mode without waiting (target_pg.h): sending one or a prepared
 * pair, and settling, which reads every answer up to a sync point, returns
 * the first failure (as running each would have) and leaves pipeline mode.
 * At most PG_PIPE_MAX are in flight: that bounds what the server buffers
 * for a client that does not read (a few KiB).
 *
 * A plain struct the target holds; `conn` is borrowed.
 */
#ifndef SB_PG_PIPE_H
#define SB_PG_PIPE_H

#include <libpq-fe.h>
#include <stddef.h>

#include "sb_error.h"

#define PG_PIPE_MAX 64

typedef struct {
        PGconn *conn;
        const char *inflight[PG_PIPE_MAX]; /* what each statement in flight is, for messages */
        size_t n;
        /* Connections reset by pg_pipe_settle (statements prepared on them are gone). */
        unsigned resets;
} pg_pipe_t;

/* Makes room for `count` (1 or 2) more statements, settling first when
 * full, and enters pipeline mode. */
sb_err_t pg_pipe_open(pg_pipe_t *p, size_t count, char *errstr, size_t errstr_size);
/* After `count` statements were queued (all but the last a prepare): sends
 * them now (PQflush), so that the server starts on them, and records them;
 * `what` names the last in messages.  `queued` 0: libpq refused them. */
sb_err_t pg_pipe_sent(pg_pipe_t *p, int queued, const char *what, char *errstr, size_t errstr_size);
/* Sends `sql` (n text parameters) without waiting for its answer. */
sb_err_t pg_pipe_send(pg_pipe_t *p, const char *sql, int n, const char *const *params, const char *what,
                      char *errstr, size_t errstr_size);
/* Reads the answers of what is in flight and leaves pipeline mode; with
 * `last`, *last is the last statement's result (the caller's to PQclear;
 * NULL on failure).  A sync that cannot be sent resets the connection
 * (the server rolls the transaction back): resets counts it. */
sb_err_t pg_pipe_settle(pg_pipe_t *p, PGresult **last, char *errstr, size_t errstr_size);

#endif

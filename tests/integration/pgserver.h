/*
 * pgserver: a throwaway PostgreSQL server for an integration suite.
 *
 * One server per suite (initdb and start take seconds), one database per
 * test (pgserver_create_db).  The server lives in a new temporary folder
 * (data directory, log, Unix socket) and listens on 127.0.0.1 on a free
 * port; the only role is the superuser `sharebus`, trusted.  initdb refuses
 * to run as root, so as root the folder is given to the `postgres` user and
 * the server's programs run through `runuser -u postgres --`.  fsync stays
 * on: crash tests (pgserver_crash, which is `pg_ctl -m immediate stop`)
 * prove durability.  The server's programs are found with
 * `pg_config --bindir`, else in /usr/lib/postgresql/<version>/bin.
 */
#ifndef SB_PGSERVER_H
#define SB_PGSERVER_H

#include <stddef.h>

#include "sb_error.h"

typedef struct pgserver_s pgserver_t;

/* Initialises and starts a server.  On success *out is a new handle the
 * caller ends with pgserver_stop_destroy; on failure the temp folder is gone
 * and errstr says why (with the tail of the server's log when it has one). */
sb_err_t pgserver_start(pgserver_t **out, char *errstr, size_t errstr_size);
/* Stops the server if it runs (fast shutdown) and removes its folder,
 * always.  NULL is ignored. */
void pgserver_stop_destroy(pgserver_t *pg);

/* libpq connection string of the `postgres` database (owned by the handle). */
const char *pgserver_conninfo(const pgserver_t *pg);
/* Connection string of database `name` into out[size]; returns out. */
const char *pgserver_db_conninfo(const pgserver_t *pg, const char *name, char *out, size_t size);
/* Creates database `name` (an unquoted SQL identifier), dropping one of that
 * name first, so a test starts from nothing. */
sb_err_t pgserver_create_db(pgserver_t *pg, const char *name, char *errstr, size_t errstr_size);

/* Kills the server as a crash would (immediate shutdown: no checkpoint,
 * connections cut). */
sb_err_t pgserver_crash(pgserver_t *pg, char *errstr, size_t errstr_size);
/* Starts the stopped server again on the same port (crash recovery runs);
 * returns once it accepts connections. */
sb_err_t pgserver_restart(pgserver_t *pg, char *errstr, size_t errstr_size);
/* The server's temp folder (owned by the handle). */
const char *pgserver_dir(const pgserver_t *pg);

#endif

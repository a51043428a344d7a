/*
 * pgtable: what integration suites read back from a PostgreSQL target: one
 * number of a query, and a table compared row by row with the state the
 * change lines describe (h_expected_state).  Both fail the running Check
 * test on a mismatch or an error.
 */
#ifndef SB_PGTABLE_H
#define SB_PGTABLE_H

#include <jansson.h>
#include <libpq-fe.h>

/* The integer in the single row and column of `sql`'s result. */
long long pgtable_num(PGconn *c, const char *sql);

/* Asserts that `table` holds exactly `expected` (an object of rows by the
 * value of `key_field`), row by row and column by column: a value equal as
 * JSON, as a number, or as an instant (timestamptz against the lines' ISO
 * text).  The session should have TimeZone UTC. */
void pgtable_assert_equals(PGconn *c, const char *table, const char *key_field, const json_t *expected);

#endif

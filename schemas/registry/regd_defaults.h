/*
 * regd_defaults: checks that every field default of a schema fits the
 * field's type, as Avro's Schema.Parser does with validateDefaults (which
 * Confluent's registry sets): a registration with a bad default is refused
 * with 42201 "Invalid schema".  sb_schema_new does not check defaults (a
 * producer or subscriber must still read old schemas that have bad ones),
 * so the registry checks what it is asked to register.
 *
 * A default fits when it is, for null: null; boolean: true/false; int: an
 * integer in 32 bits; long: an integer; float, double: a number; bytes,
 * string: a string; fixed: a string of `size` characters; enum: one of the
 * symbols; array: an array of fitting items; map: an object of fitting
 * values; record: an object with a fitting member for every field that has
 * no default of its own; union: what fits the first branch (Avro's rule).
 * Logical types are checked as their underlying types.  The walk visits
 * each record once (recursive schemas end) and refuses nesting deeper than
 * REGD_DEFAULTS_MAX_DEPTH.
 */
#ifndef REGD_DEFAULTS_H
#define REGD_DEFAULTS_H

#include <stddef.h>

#include "sb_avro.h"
#include "sb_error.h"

#define REGD_DEFAULTS_MAX_DEPTH 128

/* SB_OK, or SB_ERR_SCHEMA with errstr naming the field and why, e.g.
 * "field 'r.a': default \"x\" does not fit type int (expected an integer)". */
sb_err_t regd_defaults_check(const sb_schema_t *schema, char *errstr, size_t errstr_size);

#endif

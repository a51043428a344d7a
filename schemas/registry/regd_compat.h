/*
 * regd_compat: Avro schema compatibility, as the registry decides it.
 *
 * A registration is refused (HTTP 409) when the candidate schema breaks the
 * subject's compatibility level.  The rules are Avro's schema resolution (Avro
 * 1.11 specification, "Schema Resolution") as Confluent's registry applies
 * them through Avro's SchemaCompatibility: a reader can read a writer's data
 * when every writer datum resolves against the reader schema.
 *
 *   - same primitive types match; int promotes to long, float and double,
 *     long to float and double, float to double; string and bytes read each
 *     other;
 *   - records, enums and fixed match when their unqualified names are equal
 *     or a reader alias (relative to the reader's namespace) is the writer's
 *     fullname; fixed also needs the same size;
 *   - reader fields are found in the writer by name, then by the reader
 *     field's aliases; a reader field the writer lacks needs a "default";
 *     writer fields the reader lacks are skipped;
 *   - every writer enum symbol must be in the reader, unless the reader enum
 *     has a "default" symbol (Avro 1.9+);
 *   - a writer union is readable when each of its branches is; a reader
 *     union reads a writer type when any of its branches does (as Avro's
 *     SchemaCompatibility, not just the first branch of the same kind);
 *   - logical types do not matter, only their underlying types (as Confluent).
 *
 * Messages name the place of the problem as a field path: nested fields are
 * joined with '.', array items add "[]" and map values "{}" (for example
 * "field 'lines[].qty': writer type long cannot be promoted to reader type
 * int").  Through a union, the reader branch meant for the writer's type (of
 * the same name, or the one branch that is not null) gives the reason, so
 * an envelope's row field is named: "field 'before.registered_capital':
 * writer type double cannot be promoted to reader type string"; only when
 * no branch is meant does the message name the union.
 *
 * Recursive types (a node tree with a cycle): a pair of records met again
 * while it is being checked is taken as compatible, as Avro's
 * SchemaCompatibility does, so the walk ends; pairs found incompatible are
 * remembered.  Types nested deeper than 128 levels are refused with a
 * message saying so, whatever the input.  The functions keep no state and
 * are safe from any thread.
 */
#ifndef REGD_COMPAT_H
#define REGD_COMPAT_H

#include <jansson.h>
#include <stddef.h>

#include "sb_avro.h"

/* Confluent's compatibility levels.  Values are part of the interface. */
typedef enum {
        REGD_COMPAT_NONE,
        REGD_COMPAT_BACKWARD,
        REGD_COMPAT_BACKWARD_TRANSITIVE,
        REGD_COMPAT_FORWARD,
        REGD_COMPAT_FORWARD_TRANSITIVE,
        REGD_COMPAT_FULL,
        REGD_COMPAT_FULL_TRANSITIVE,
} regd_compat_level_t;

/* Parses a level name as Confluent spells it ("BACKWARD", "FULL_TRANSITIVE";
 * case does not matter).  Returns 0 and sets *out, or -1 for an unknown name
 * (then *out is untouched). */
int regd_compat_level_parse(const char *name, regd_compat_level_t *out);
/* Confluent's name of `level` (static, never NULL; "UNKNOWN" if out of range). */
const char *regd_compat_level_name(regd_compat_level_t level);

/* Returns 1 if data written with `writer` can be read with `reader`.
 * Otherwise returns 0 and, if `why` is not NULL, writes the first problem
 * into it (truncated to why_size), followed by "; and N more problem(s)" when
 * there are more.  `why` is set to "" on success. */
int regd_compat_can_read(const sb_schema_t *writer, const sb_schema_t *reader, char *why, size_t why_size);

/* Checks `candidate` against a subject's existing versions `existing[0..n)`,
 * oldest first (existing[i] is called "version i+1" in messages), under
 * `level`:
 *   BACKWARD: the candidate reads data of the latest version;
 *   FORWARD:  the latest version reads data of the candidate;
 *   FULL:     both;
 *   *_TRANSITIVE: the same against every version, not just the latest;
 *   NONE:     always compatible.
 * With no existing versions every level passes.  Returns 1 if compatible;
 * else 0, and if `messages` (a JSON array) is not NULL appends one string per
 * problem, naming the version, the direction, the field and the reason, e.g.
 * "reading version 1 data with the new schema: reader field 'b' (record t.R)
 * has no default and is missing in the writer".  Borrows everything. */
int regd_compat_check(regd_compat_level_t level, const sb_schema_t *candidate,
                      const sb_schema_t *const *existing, size_t n_existing, json_t *messages);

#endif

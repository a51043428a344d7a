/*
 * pg_sql.c: the SQL text of the PostgreSQL outbox source (pg_sql.h).
 */
#include "sources/pg_sql.h"

#include <libpq-fe.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sb_buf.h"

static int ident_part_ok(const char *s, size_t len) {
        if (len == 0 || len > 63 || !((s[0] >= 'a' && s[0] <= 'z') || s[0] == '_'))
                return 0;
        for (size_t i = 0; i < len; i++)
                if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= '0' && s[i] <= '9') || s[i] == '_'))
                        return 0;
        return 1;
}

/* 1 if `s` is `name` or `schema.name`, each an unquoted lower-case SQL
 * identifier: it is then written into SQL as it is, and folds to itself. */
int pg_sql_ident_ok(const char *s) {
        const char *dot = strchr(s, '.');
        if (!dot)
                return ident_part_ok(s, strlen(s));
        return ident_part_ok(s, (size_t)(dot - s)) && ident_part_ok(dot + 1, strlen(dot + 1));
}

/* The table's name without its schema. */
const char *pg_sql_ident_base(const char *s) {
        const char *dot = strchr(s, '.');
        return dot ? dot + 1 : s;
}

/* A key field name (an Avro name: [A-Za-z_][A-Za-z0-9_]*) is safe inside
 * '...' and "..." as it is. */
int pg_sql_avro_name_ok(const char *s) {
        if (!s || !((s[0] >= 'a' && s[0] <= 'z') || (s[0] >= 'A' && s[0] <= 'Z') || s[0] == '_'))
                return 0;
        for (; *s; s++)
                if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') || (*s >= '0' && *s <= '9') ||
                      *s == '_'))
                        return 0;
        return 1;
}

sb_err_t pg_sql_print_ddl(FILE *out, const char *outbox_table, const char *business_table,
                          const char *dataset, const sb_node_t *key_record, char *errstr,
                          size_t errstr_size) {
        const char *t = outbox_table ? outbox_table : "sharebus_outbox";
        if (!pg_sql_ident_ok(t))
                return sb_seterr(
                        SB_ERR_CONFIG, errstr, errstr_size,
                        "outbox table '%s' is not a plain SQL identifier (lower-case letters, digits "
                        "and _, optionally schema.table)",
                        t);
        if (business_table) {
                if (!pg_sql_ident_ok(business_table))
                        return sb_seterr(
                                SB_ERR_CONFIG, errstr, errstr_size,
                                "table '%s' is not a plain SQL identifier (lower-case letters, digits "
                                "and _, optionally schema.table)",
                                business_table);
                if (!dataset || !dataset[0] ||
                    strspn(dataset, "abcdefghijklmnopqrstuvwxyz0123456789_.-") != strlen(dataset))
                        return sb_seterr(SB_ERR_CONFIG, errstr, errstr_size,
                                         "dataset '%s' is not a dataset name ([a-z0-9_.-])",
                                         dataset ? dataset : "");
                if (!key_record || sb_node_type(key_record) != SB_T_RECORD || sb_node_count(key_record) == 0)
                        return sb_seterr(SB_ERR_CONFIG, errstr, errstr_size,
                                         "the trigger needs the dataset's key record");
                for (size_t i = 0; i < sb_node_count(key_record); i++)
                        if (!pg_sql_avro_name_ok(sb_node_field_name(key_record, i)))
                                return sb_seterr(SB_ERR_CONFIG, errstr, errstr_size,
                                                 "key field '%s' is not a plain name",
                                                 sb_node_field_name(key_record, i));
        }
        /* Objects beside the table, in its schema: "s.t" gives "s.t_notify". */
        const char *base = pg_sql_ident_base(t);
        fprintf(out,
                "-- sharebus transactional outbox %s (source = \"postgresql\", outbox_table = \"%s\").\n"
                "BEGIN;\n"
                "CREATE TABLE IF NOT EXISTS %s (\n"
                "  seq        bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,\n"
                "  dataset    text NOT NULL,\n"
                "  op         char(1) NOT NULL CHECK (op IN ('c', 'u', 'd', 'r')),\n"
                "  key        jsonb NOT NULL,\n"
                "  before     jsonb,\n"
                "  after      jsonb,\n"
                "  changed_at timestamptz NOT NULL DEFAULT now(),\n"
                "  sent_at    timestamptz\n"
                ");\n"
                "-- What the producer reads (unsent rows in seq order) and prunes (sent rows by age).\n"
                "CREATE INDEX IF NOT EXISTS %s_unsent ON %s (dataset, seq) WHERE sent_at IS NULL;\n"
                "CREATE INDEX IF NOT EXISTS %s_sent ON %s (dataset, sent_at) WHERE sent_at IS NOT NULL;\n"
                "-- Wakes the producer (LISTEN \"%s\") when rows are committed: one notification\n"
                "-- per statement, merged per transaction by PostgreSQL.\n"
                "CREATE OR REPLACE FUNCTION %s_notify() RETURNS trigger LANGUAGE plpgsql AS $sharebus$\n"
                "BEGIN\n"
                "  PERFORM pg_notify('%s', '');\n"
                "  RETURN NULL;\n"
                "END\n"
                "$sharebus$;\n"
                "DROP TRIGGER IF EXISTS %s_notify ON %s;\n"
                "CREATE TRIGGER %s_notify AFTER INSERT ON %s FOR EACH STATEMENT EXECUTE FUNCTION "
                "%s_notify();\n",
                t, t, t, base, t, base, t, t, t, t, base, t, base, t, t);
        if (business_table) {
                const char *bbase = pg_sql_ident_base(business_table);
                fprintf(out,
                        "-- Every change of %s, in the changing transaction, as dataset %s.\n"
                        "-- Values as the Avro JSON: timestamps UTC with milliseconds and Z\n"
                        "-- (timestamp without time zone is read as UTC); an update of the key is\n"
                        "-- a delete of the old key and a create of the new.\n"
                        "CREATE OR REPLACE FUNCTION %s_sharebus() RETURNS trigger LANGUAGE plpgsql\n"
                        "SET TimeZone = 'UTC' AS $sharebus$\n"
                        "DECLARE\n"
                        "  o jsonb;\n"
                        "  n jsonb;\n"
                        "  ko jsonb;\n"
                        "  kn jsonb;\n"
                        "  col text;\n"
                        "BEGIN\n"
                        "  IF TG_OP <> 'INSERT' THEN o := to_jsonb(OLD); END IF;\n"
                        "  IF TG_OP <> 'DELETE' THEN n := to_jsonb(NEW); END IF;\n"
                        "  FOR col IN SELECT attname::text FROM pg_attribute WHERE attrelid = TG_RELID AND "
                        "attnum > 0\n"
                        "      AND NOT attisdropped AND atttypid IN ('timestamp'::regtype, "
                        "'timestamptz'::regtype) "
                        "LOOP\n"
                        "    IF o ->> col IS NOT NULL THEN\n"
                        "      o := jsonb_set(o, ARRAY[col], to_jsonb(to_char((o ->> col)::timestamptz,\n"
                        "        'YYYY-MM-DD\"T\"HH24:MI:SS.MS\"Z\"')));\n"
                        "    END IF;\n"
                        "    IF n ->> col IS NOT NULL THEN\n"
                        "      n := jsonb_set(n, ARRAY[col], to_jsonb(to_char((n ->> col)::timestamptz,\n"
                        "        'YYYY-MM-DD\"T\"HH24:MI:SS.MS\"Z\"')));\n"
                        "    END IF;\n"
                        "  END LOOP;\n"
                        "  ko := jsonb_build_object(",
                        business_table, dataset, business_table);
                for (int side = 0; side < 2; side++) {
                        if (side)
                                fprintf(out, ");\n  kn := jsonb_build_object(");
                        for (size_t i = 0; i < sb_node_count(key_record); i++) {
                                const char *f = sb_node_field_name(key_record, i);
                                fprintf(out, "%s'%s', %s -> '%s'", i ? ", " : "", f, side ? "n" : "o", f);
                        }
                }
                fprintf(out,
                        ");\n"
                        "  IF TG_OP = 'INSERT' THEN\n"
                        "    INSERT INTO %s (dataset, op, key, before, after) VALUES ('%s', 'c', kn, NULL, "
                        "n);\n"
                        "  ELSIF TG_OP = 'DELETE' THEN\n"
                        "    INSERT INTO %s (dataset, op, key, before, after) VALUES ('%s', 'd', ko, o, "
                        "NULL);\n"
                        "  ELSIF ko = kn THEN\n"
                        "    INSERT INTO %s (dataset, op, key, before, after) VALUES ('%s', 'u', kn, o, n);\n"
                        "  ELSE\n"
                        "    INSERT INTO %s (dataset, op, key, before, after) VALUES ('%s', 'd', ko, o, "
                        "NULL),\n"
                        "      ('%s', 'c', kn, NULL, n);\n"
                        "  END IF;\n"
                        "  RETURN NULL;\n"
                        "END\n"
                        "$sharebus$;\n"
                        "DROP TRIGGER IF EXISTS %s_sharebus ON %s;\n"
                        "CREATE TRIGGER %s_sharebus AFTER INSERT OR UPDATE OR DELETE ON %s\n"
                        "  FOR EACH ROW EXECUTE FUNCTION %s_sharebus();\n",
                        t, dataset, t, dataset, t, dataset, t, dataset, dataset, bbase, business_table, bbase,
                        business_table, business_table);
        }
        fprintf(out, "COMMIT;\n");
        if (ferror(out))
                return sb_seterr(SB_ERR_IO, errstr, errstr_size, "cannot write the DDL: %s", strerror(errno));
        return SB_OK;
}

static int range_cmp(const void *a, const void *b) {
        const pg_sql_range_t *x = a, *y = b;
        return x->lo < y->lo ? -1 : x->lo > y->lo;
}

sb_err_t pg_sql_multirange(pg_sql_range_t *v, size_t n, sb_buf_t *out) {
        if (n)
                qsort(v, n, sizeof(*v), range_cmp);
        sb_buf_reset(out);
        sb_err_t err = sb_buf_append(out, "{", 1);
        for (size_t i = 0; i < n && !err;) {
                int64_t lo = v[i].lo, hi = v[i].hi;
                for (i++; i < n && v[i].lo <= hi + 1; i++)
                        if (v[i].hi > hi)
                                hi = v[i].hi;
                err = sb_buf_printf(out, "%s[%lld,%lld)", out->len > 1 ? "," : "", (long long)lo,
                                    (long long)hi + 1);
        }
        if (!err)
                err = sb_buf_append(out, "}", 2); /* with the NUL, for libpq */
        return err;
}

sb_err_t pg_sql_snapshot_cursor(sb_buf_t *q, const char *table, const sb_node_t *key_record,
                                const PGresult *columns, const char *ts, const char *max_seq,
                                long long max_row, char *errstr, size_t errstr_size) {
        /* A line over max_row is measured in the server and never sent. */
        sb_err_t err = sb_buf_printf(
                q,
                "DECLARE sharebus_snapshot NO SCROLL CURSOR FOR SELECT CASE WHEN octet_length(line) > %lld "
                "THEN json_build_object('rejected_by_source', format('row of %%s bytes exceeds the %lld-byte "
                "bound (max_outbox_row_bytes)', octet_length(line)))::text ELSE line END, CASE WHEN "
                "octet_length(line) > %lld THEN format('row of %%s bytes exceeds the %lld-byte bound "
                "(max_outbox_row_bytes)', octet_length(line)) END FROM (SELECT json_build_object('op', "
                "'r', 'key', jsonb_build_object(",
                max_row, max_row, max_row, max_row);
        for (size_t i = 0; !err && i < sb_node_count(key_record); i++) {
                const char *f = sb_node_field_name(key_record, i);
                int found = 0;
                for (int c = 0; c < PQntuples(columns); c++)
                        found |= strcmp(PQgetvalue(columns, c, 0), f) == 0;
                if (!found) {
                        err = sb_seterr(
                                SB_ERR_CONFIG, errstr, errstr_size,
                                "postgresql: snapshot_table '%s' has no column '%s' (a key field of the "
                                "dataset)",
                                table, f);
                        break;
                }
                err = sb_buf_printf(q, "%s'%s', r -> '%s'", i ? ", " : "", f, f);
        }
        if (!err)
                err = sb_buf_printf(
                        q,
                        "), 'before', NULL, 'after', r, 'ts_ms', %s::bigint, 'seq', %s::bigint)::text "
                        "FROM (SELECT to_jsonb(t)",
                        ts, max_seq);
        for (int c = 0; !err && c < PQntuples(columns); c++)
                if (strcmp(PQgetvalue(columns, c, 1), "t") == 0)
                        err = sb_buf_printf(q,
                                            " || jsonb_build_object('%s', to_char(t.\"%s\", "
                                            "'YYYY-MM-DD\"T\"HH24:MI:SS.MS\"Z\"'))",
                                            PQgetvalue(columns, c, 0), PQgetvalue(columns, c, 0));
        if (!err)
                err = sb_buf_printf(q, " AS r FROM %s t) s) l(line)", table);
        return err;
}

void pg_sql_outbox_read(char *sql, size_t size, const char *table) {
        snprintf(sql, size,
                 "SELECT seq, floor(extract(epoch FROM changed_at) * 1000)::bigint AS ts, "
                 "CASE WHEN n > $4::bigint THEN json_build_object('rejected_by_source', why)::text ELSE "
                 "json_build_object('op', op, 'key', key, 'before', before, 'after', after, "
                 "'ts_ms', floor(extract(epoch FROM changed_at) * 1000)::bigint, 'seq', seq)::text END, why "
                 "FROM (SELECT *, CASE WHEN n > $4::bigint THEN format('row of %%s bytes exceeds the "
                 "%%s-byte bound (max_outbox_row_bytes)', n, $4::bigint) END AS why FROM (SELECT seq, op, "
                 "key, "
                 "before, after, changed_at, coalesce(octet_length(key::text), 0) + "
                 "coalesce(octet_length(before::text), 0) + coalesce(octet_length(after::text), 0) AS n "
                 "FROM %s WHERE dataset = $1 AND sent_at IS NULL AND NOT ($2::int8multirange @> seq) "
                 "ORDER BY seq LIMIT $3::bigint) o) m ORDER BY seq",
                 table);
}

/*
 * sqlite_sql.c: the SQL text the SQLite source writes (sqlite_sql.h).
 */
#include "sources/sqlite_sql.h"

#include <stdio.h>
#include <string.h>

#include "sb_buf.h"

/* json_object and json_insert take at most 127 arguments
 * (SQLITE_MAX_FUNCTION_ARG): a wider record is built 50 fields at a time. */
#define SQLITE_FIELDS_PER_CALL 50

int sqlite_sql_ident_valid(const char *s) {
        if (!s || !(s[0] == '_' || (s[0] >= 'A' && s[0] <= 'Z') || (s[0] >= 'a' && s[0] <= 'z')))
                return 0;
        size_t i = 0;
        for (; s[i]; i++)
                if (!(s[i] == '_' || (s[i] >= 'A' && s[i] <= 'Z') || (s[i] >= 'a' && s[i] <= 'z') ||
                      (s[i] >= '0' && s[i] <= '9')))
                        return 0;
        return i <= SQLITE_SQL_IDENT_MAX;
}

/* `s` as an SQL string literal. */
static sb_err_t append_literal(sb_buf_t *b, const char *s) {
        sb_err_t err = sb_buf_append(b, "'", 1);
        for (const char *p = s; !err && *p; p++)
                err = *p == '\'' ? sb_buf_append(b, "''", 2) : sb_buf_append(b, p, 1);
        return err ? err : sb_buf_append(b, "'", 1);
}

/* The GLOB a text must match before date() or julianday() read it: they
 * would take a bare number as a Julian day. */
#define DATE_GLOB "'[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]*'"

/* An SQL expression turning column `c` (already quoted, e.g. NEW."uscc")
 * into what json_object must hold for a field of type `n`, as the Avro
 * encoder reads JSON (sb_avro.c).  A BLOB never reaches json_object, which
 * refuses one: the statement (or the application's transaction, in a
 * trigger) would fail. */
static sb_err_t value_expr(sb_buf_t *b, const sb_node_t *n, const char *c) {
        n = sb_node_unwrap_nullable(n);
        switch (sb_node_type(n)) {
        case SB_T_STRING:
        case SB_T_ENUM: return sb_buf_printf(b, "CAST(%s AS TEXT)", c);
        case SB_T_BOOLEAN:
                return sb_buf_printf(
                        b,
                        "CASE WHEN %s IN (1,'1','true') THEN json('true') WHEN %s IN (0,'0','false') "
                        "THEN json('false') WHEN typeof(%s)='blob' THEN CAST(%s AS TEXT) ELSE %s END",
                        c, c, c, c, c);
        case SB_T_INT:
        case SB_T_LONG:
                if (sb_node_logical(n) == SB_LOGICAL_DATE)
                        return sb_buf_printf(b,
                                             "CASE WHEN typeof(%s)='text' AND %s GLOB " DATE_GLOB
                                             " THEN coalesce(date(%s),%s) WHEN typeof(%s)='blob' THEN "
                                             "CAST(%s AS TEXT) ELSE %s END",
                                             c, c, c, c, c, c, c);
                if (sb_node_logical(n) == SB_LOGICAL_TIMESTAMP_MILLIS)
                        return sb_buf_printf(
                                b,
                                "CASE WHEN typeof(%s)='text' AND %s GLOB " DATE_GLOB
                                " THEN coalesce(CAST(round((julianday(%s)-2440587.5)*86400000.0) "
                                "AS INTEGER),%s) WHEN typeof(%s)='blob' THEN CAST(%s AS TEXT) "
                                "ELSE %s END",
                                c, c, c, c, c, c, c);
                break;
        case SB_T_BYTES:
        case SB_T_FIXED:
                /* Avro's JSON form of bytes: one character U+0000..U+00FF per
                 * byte, here from the hex digits of each byte. */
                return sb_buf_printf(
                        b,
                        "CASE WHEN %s IS NULL THEN NULL WHEN length(CAST(%s AS BLOB))=0 THEN '' ELSE "
                        "(WITH RECURSIVE sb_i(i) AS (SELECT 0 UNION ALL SELECT i+1 FROM sb_i WHERE "
                        "i+1<length(CAST(%s AS BLOB))) SELECT group_concat(char((instr('0123456789ABCDEF',"
                        "substr(hex(CAST(%s AS BLOB)),2*i+1,1))-1)*16+instr('0123456789ABCDEF',"
                        "substr(hex(CAST(%s AS BLOB)),2*i+2,1))-1),'') FROM sb_i) END",
                        c, c, c, c, c);
        case SB_T_RECORD:
        case SB_T_ARRAY:
        case SB_T_MAP:
                return sb_buf_printf(b,
                                     "CASE WHEN typeof(%s)='text' AND json_valid(%s) THEN json(%s) WHEN "
                                     "typeof(%s)='blob' THEN CAST(%s AS TEXT) ELSE %s END",
                                     c, c, c, c, c, c);
        default: break;
        }
        return sb_buf_printf(b, "CASE WHEN typeof(%s)='blob' THEN CAST(%s AS TEXT) ELSE %s END", c, c, c);
}

/* json_object over the fields of record `rec`, read from the columns of
 * the same names (prefixed by `prefix`: "NEW.", "OLD." or ""). */
sb_err_t sqlite_sql_object_expr(sb_buf_t *b, const sb_node_t *rec, const char *prefix) {
        size_t n = sb_node_count(rec);
        sb_err_t err = SB_OK;
        for (size_t k = SQLITE_FIELDS_PER_CALL; !err && k < n; k += SQLITE_FIELDS_PER_CALL)
                err = sb_buf_printf(b, "json_insert(");
        if (!err)
                err = sb_buf_printf(b, "json_object(");
        for (size_t i = 0; !err && i < n; i++) {
                const char *name = sb_node_field_name(rec, i);
                char col[2 * SQLITE_SQL_IDENT_MAX + 16];
                snprintf(col, sizeof(col), "%s\"%s\"", prefix, name);
                /* The first call is json_object('name', value, ...); each
                 * further one json_insert(<the object so far>, '$."name"',
                 * value, ...). */
                if (i == 0)
                        err = sb_buf_printf(b, "\n      '%s', ", name);
                else if (i < SQLITE_FIELDS_PER_CALL)
                        err = sb_buf_printf(b, ",\n      '%s', ", name);
                else
                        err = sb_buf_printf(b, "%s,\n      '$.\"%s\"', ",
                                            i % SQLITE_FIELDS_PER_CALL ? "" : ")", name);
                if (!err)
                        err = value_expr(b, sb_node_child(rec, i), col);
        }
        return err ?: sb_buf_printf(b, ")");
}

sb_err_t sqlite_sql_check_record(const sb_node_t *rec, const char *what, char *errstr, size_t errstr_size) {
        if (!rec || sb_node_type(rec) != SB_T_RECORD)
                return sb_seterr(SB_ERR_SCHEMA, errstr, errstr_size, "the dataset's %s record is missing",
                                 what);
        if (sb_node_count(rec) == 0)
                return sb_seterr(SB_ERR_SCHEMA, errstr, errstr_size, "the %s record %s has no fields", what,
                                 sb_node_name(rec));
        for (size_t i = 0; i < sb_node_count(rec); i++)
                if (!sqlite_sql_ident_valid(sb_node_field_name(rec, i)))
                        return sb_seterr(SB_ERR_SCHEMA, errstr, errstr_size,
                                         "field '%s' of %s is not an SQL column name",
                                         sb_node_field_name(rec, i), sb_node_name(rec));
        return SB_OK;
}

/* ---- DDL ---- */

static sb_err_t outbox_insert(sb_buf_t *b, const char *outbox, const char *dataset, char op,
                              const sb_node_t *key_rec, const char *key_from, const char *before_from,
                              const char *after_from, const sb_node_t *row_rec) {
        sb_err_t err = sb_buf_printf(
                b, "  INSERT INTO \"%s\" (dataset, op, \"key\", \"before\", \"after\")\n  VALUES (", outbox);
        if (!err)
                err = append_literal(b, dataset);
        if (!err)
                err = sb_buf_printf(b, ", '%c',\n    ", op);
        if (!err)
                err = sqlite_sql_object_expr(b, key_rec, key_from);
        if (!err)
                err = sb_buf_printf(b, ",\n    ");
        if (!err)
                err = before_from ? sqlite_sql_object_expr(b, row_rec, before_from)
                                  : sb_buf_printf(b, "NULL");
        if (!err)
                err = sb_buf_printf(b, ",\n    ");
        if (!err)
                err = after_from ? sqlite_sql_object_expr(b, row_rec, after_from) : sb_buf_printf(b, "NULL");
        return err ?: sb_buf_printf(b, ");\n");
}

static sb_err_t same_key(sb_buf_t *b, const sb_node_t *key_rec) {
        sb_err_t err = SB_OK;
        for (size_t i = 0; !err && i < sb_node_count(key_rec); i++)
                err = sb_buf_printf(b, "%sOLD.\"%s\" IS NEW.\"%s\"", i ? " AND " : "",
                                    sb_node_field_name(key_rec, i), sb_node_field_name(key_rec, i));
        return err;
}

sb_err_t sqlite_sql_progress_ddl(sb_buf_t *b) {
        return sb_buf_printf(
                b, "CREATE TABLE IF NOT EXISTS " SQLITE_SQL_PROGRESS_TABLE " (\n"
                   "  outbox_table TEXT NOT NULL,\n"
                   "  dataset      TEXT NOT NULL,\n"
                   "  seq          INTEGER NOT NULL, -- every row of the dataset up to it is in Kafka\n"
                   "  sent_at      INTEGER NOT NULL, -- by then (ms since the epoch)\n"
                   "  PRIMARY KEY (outbox_table, dataset, seq)\n"
                   ") WITHOUT ROWID;\n");
}

static sb_err_t build_ddl(sb_buf_t *b, const char *o, const char *t, const char *dataset,
                          const sb_node_t *key_rec, const sb_node_t *row_rec) {
        sb_err_t err = sb_buf_printf(
                b,
                "-- sharebus outbox: the application (or the triggers below) inserts one row per change\n"
                "-- in the same transaction as the change; sharebus-producer (source sqlite) publishes\n"
                "-- the rows in seq order and, once Kafka has them, records the last one it sent in\n"
                "-- " SQLITE_SQL_PROGRESS_TABLE " (the rows themselves are never updated).\n"
                "PRAGMA journal_mode = WAL;\n"
                "CREATE TABLE IF NOT EXISTS \"%s\" (\n"
                "  dataset    TEXT NOT NULL,\n"
                "  op         TEXT NOT NULL CHECK (op IN ('c','u','d','r')),\n"
                "  \"key\"      TEXT NOT NULL,\n"
                "  \"before\"   TEXT,\n"
                "  \"after\"    TEXT,\n"
                "  changed_at INTEGER NOT NULL DEFAULT (CAST((julianday('now') - 2440587.5) * 86400000.0 AS "
                "INTEGER)),\n"
                "  seq        INTEGER PRIMARY KEY AUTOINCREMENT\n"
                ");\n"
                "CREATE INDEX IF NOT EXISTS \"%s_dataset\" ON \"%s\" (dataset, seq);\n",
                o, o, o);
        if (!err)
                err = sqlite_sql_progress_ddl(b);
        if (!err)
                err = sb_buf_printf(
                        b,
                        "-- The rows not yet in Kafka, for people (the producer does not use it).\n"
                        "CREATE VIEW IF NOT EXISTS \"%s_unsent\" AS SELECT o.* FROM \"%s\" o\n"
                        "  WHERE o.seq > coalesce((SELECT max(p.seq) FROM " SQLITE_SQL_PROGRESS_TABLE
                        " p\n    WHERE p.outbox_table = ",
                        o, o);
        if (!err)
                err = append_literal(b, o);
        if (!err)
                err = sb_buf_printf(b, " AND p.dataset = o.dataset), 0);\n");
        if (err || !t)
                return err;
        err = sb_buf_printf(
                b,
                "\n-- Changes of %s into the outbox as dataset %s.\n"
                "CREATE TRIGGER IF NOT EXISTS \"sharebus_%s_insert\" AFTER INSERT ON \"%s\" BEGIN\n",
                t, dataset, t, t);
        if (!err)
                err = outbox_insert(b, o, dataset, 'c', key_rec, "NEW.", NULL, "NEW.", row_rec);
        if (!err)
                err = sb_buf_printf(b,
                                    "END;\nCREATE TRIGGER IF NOT EXISTS \"sharebus_%s_update\" AFTER UPDATE "
                                    "ON \"%s\"\n  WHEN ",
                                    t, t);
        if (!err)
                err = same_key(b, key_rec);
        if (!err)
                err = sb_buf_printf(b, " BEGIN\n");
        if (!err)
                err = outbox_insert(b, o, dataset, 'u', key_rec, "NEW.", "OLD.", "NEW.", row_rec);
        if (!err)
                err = sb_buf_printf(
                        b,
                        "END;\n-- A new key is another record: the old one is deleted, the new one "
                        "created.\nCREATE TRIGGER IF NOT EXISTS \"sharebus_%s_rekey\" AFTER UPDATE ON "
                        "\"%s\"\n  WHEN NOT (",
                        t, t);
        if (!err)
                err = same_key(b, key_rec);
        if (!err)
                err = sb_buf_printf(b, ") BEGIN\n");
        if (!err)
                err = outbox_insert(b, o, dataset, 'd', key_rec, "OLD.", "OLD.", NULL, row_rec);
        if (!err)
                err = outbox_insert(b, o, dataset, 'c', key_rec, "NEW.", NULL, "NEW.", row_rec);
        if (!err)
                err = sb_buf_printf(b,
                                    "END;\nCREATE TRIGGER IF NOT EXISTS \"sharebus_%s_delete\" AFTER DELETE "
                                    "ON \"%s\" BEGIN\n",
                                    t, t);
        if (!err)
                err = outbox_insert(b, o, dataset, 'd', key_rec, "OLD.", "OLD.", NULL, row_rec);
        return err ?: sb_buf_printf(b, "END;\n");
}

sb_err_t sqlite_sql_print_ddl(FILE *out, const char *outbox_table, const char *business_table,
                              const char *dataset, const sb_node_t *key_record, const sb_node_t *row_record,
                              char *errstr, size_t errstr_size) {
        sb_err_t err;
        if (!sqlite_sql_ident_valid(outbox_table))
                return sb_seterr(SB_ERR_CONFIG, errstr, errstr_size,
                                 "outbox table '%s' is not an SQL identifier ([A-Za-z_][A-Za-z0-9_]*)",
                                 outbox_table ? outbox_table : "");
        if (business_table) {
                if (!sqlite_sql_ident_valid(business_table))
                        return sb_seterr(SB_ERR_CONFIG, errstr, errstr_size,
                                         "table '%s' is not an SQL identifier ([A-Za-z_][A-Za-z0-9_]*)",
                                         business_table);
                if (!dataset || !*dataset)
                        return sb_seterr(SB_ERR_CONFIG, errstr, errstr_size,
                                         "the triggers need the dataset name");
                if ((err = sqlite_sql_check_record(key_record, "key", errstr, errstr_size)) ||
                    (err = sqlite_sql_check_record(row_record, "row", errstr, errstr_size)))
                        return err;
                for (size_t i = 0; i < sb_node_count(key_record); i++)
                        if (sb_node_field_index(row_record, sb_node_field_name(key_record, i)) < 0)
                                return sb_seterr(SB_ERR_SCHEMA, errstr, errstr_size,
                                                 "key field '%s' is not a field of the row record %s",
                                                 sb_node_field_name(key_record, i), sb_node_name(row_record));
        }
        sb_buf_t b;
        sb_buf_init(&b, 16 * 1024 * 1024);
        err = build_ddl(&b, outbox_table, business_table, dataset, key_record, row_record);
        if (!err && fwrite(b.data, 1, b.len, out) != b.len)
                err = sb_seterr(SB_ERR_IO, errstr, errstr_size, "cannot write the DDL");
        else if (err)
                sb_seterr(err, errstr, errstr_size, "out of memory");
        sb_buf_free(&b);
        return err;
}

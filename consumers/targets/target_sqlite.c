/*
 * target_sqlite: the SQLite target (the embedded default).
 *
 * WAL journal with synchronous=FULL: a committed batch and its offsets
 * survive a crash of the process or of the machine.  Upsert statements are
 * prepared once per (table, row schema) and reused.
 */
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sb_buf.h"
#include "sb_clock.h"
#include "sb_datetime.h"
#include "sb_rules.h"
#include "target.h"

typedef struct stmt_cache_s {
        char *table;
        const sb_node_t *row; /* the schema node the statement was built for */
        sqlite3_stmt *upsert;
        sqlite3_stmt *remove;
        sqlite3_stmt *append; /* history tables: their only statement */
        struct stmt_cache_s *next;
} stmt_cache_t;

typedef struct {
        sb_target_t base;
        sqlite3 *db;
        sqlite3_stmt *load_offset;
        sqlite3_stmt *store_offset;
        sqlite3_stmt *receipt;
        sqlite3_stmt *has_receipt;
        sqlite3_stmt *column;
        stmt_cache_t *stmts;
        /* The transaction's time, for applied_at and updated_at: set at
         * begin, not formatted by SQLite once a row. */
        char now[40];
} sqlite_target_t;

static sb_err_t st_table_name(sb_target_t *bt, const char *topic, char *out, size_t size, char *errstr,
                              size_t errstr_size) {
        (void)bt;
        if (snprintf(out, size, "%s", topic) >= (int)size)
                return sb_seterr(SB_ERR_INVALID, errstr, errstr_size,
                                 "topic '%.64s...' gives a table name longer than %zu bytes", topic,
                                 size - 1);
        for (char *p = out; *p; p++)
                if (*p == '.' || *p == '-')
                        *p = '_';
        return SB_OK;
}

/* Errors the data causes (never going away on retry) vs. the database's. */
static sb_err_t db_err(sqlite_target_t *t, int rc, const char *what, char *errstr, size_t errstr_size) {
        int primary = rc & 0xff;
        sb_err_t err = (primary == SQLITE_CONSTRAINT || primary == SQLITE_MISMATCH ||
                        primary == SQLITE_TOOBIG || primary == SQLITE_RANGE)
                               ? SB_ERR_INVALID
                               : SB_ERR_DB;
        return sb_seterr(err, errstr, errstr_size, "sqlite: %s: %s", what, sqlite3_errmsg(t->db));
}

static sb_err_t exec(sqlite_target_t *t, const char *sql, char *errstr, size_t errstr_size) {
        int rc = sqlite3_exec(t->db, sql, NULL, NULL, NULL);
        return rc == SQLITE_OK ? SB_OK : db_err(t, rc, sql, errstr, errstr_size);
}

/* Turning a new file to WAL: SQLite answers SQLITE_BUSY at once, busy timeout
 * or not, to one of two instances starting together; retry as it would wait. */
static sb_err_t set_wal(sqlite_target_t *t, char *errstr, size_t errstr_size) {
        int rc = sqlite3_exec(t->db, "PRAGMA journal_mode=WAL", NULL, NULL, NULL);
        for (int waited = 0; (rc & 0xff) == SQLITE_BUSY && waited < 10000; waited += 10) {
                sqlite3_sleep(10);
                rc = sqlite3_exec(t->db, "PRAGMA journal_mode=WAL", NULL, NULL, NULL);
        }
        return rc == SQLITE_OK ? SB_OK : db_err(t, rc, "PRAGMA journal_mode=WAL", errstr, errstr_size);
}

static sb_err_t st_begin(sb_target_t *bt, char *errstr, size_t errstr_size) {
        sqlite_target_t *t = (sqlite_target_t *)bt;
        sb_datetime_format_timestamp_ms(sb_clock_now_ms(), t->now, sizeof(t->now));
        return exec(t, "BEGIN IMMEDIATE", errstr, errstr_size);
}

static sb_err_t st_commit(sb_target_t *bt, char *errstr, size_t errstr_size) {
        return exec((sqlite_target_t *)bt, "COMMIT", errstr, errstr_size);
}

static void st_rollback(sb_target_t *bt) {
        sqlite_target_t *t = (sqlite_target_t *)bt;
        if (!sqlite3_get_autocommit(t->db))
                sqlite3_exec(t->db, "ROLLBACK", NULL, NULL, NULL);
}

static const char *sql_type(const sb_node_t *n) {
        n = sb_node_unwrap_nullable(n);
        switch (sb_node_type(n)) {
        case SB_T_BOOLEAN:
        case SB_T_INT: return sb_node_logical(n) == SB_LOGICAL_DATE ? "TEXT" : "INTEGER";
        case SB_T_LONG: return sb_node_logical(n) == SB_LOGICAL_TIMESTAMP_MILLIS ? "TEXT" : "INTEGER";
        case SB_T_FLOAT:
        case SB_T_DOUBLE: return "REAL";
        case SB_T_BYTES:
        case SB_T_FIXED: return "BLOB";
        default: return "TEXT"; /* strings, enums; records, arrays, maps as JSON */
        }
}

/* Appends "name" quoted as an SQL identifier. */
static sb_err_t quote_ident(sb_buf_t *b, const char *name) {
        sb_err_t err = sb_buf_append(b, "\"", 1);
        for (const char *p = name; !err && *p; p++)
                err = *p == '"' ? sb_buf_append(b, "\"\"", 2) : sb_buf_append(b, p, 1);
        return err ? err : sb_buf_append(b, "\"", 1);
}

/* Appends the field names of record `rec` quoted, separated by ", ". */
static sb_err_t put_names(sb_buf_t *b, const sb_node_t *rec) {
        sb_err_t err = SB_OK;
        for (size_t i = 0; !err && i < sb_node_count(rec); i++) {
                if (i)
                        err = sb_buf_append(b, ", ", 2);
                if (!err)
                        err = quote_ident(b, sb_node_field_name(rec, i));
        }
        return err;
}

static int has_column(sqlite_target_t *t, const char *table, const char *column) {
        sqlite3_stmt *st = NULL;
        int found = 0;
        if (sqlite3_prepare_v2(t->db, "SELECT 1 FROM pragma_table_info(?1) WHERE name = ?2", -1, &st, NULL) !=
            SQLITE_OK)
                return 0;
        sqlite3_bind_text(st, 1, table, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 2, column, -1, SQLITE_STATIC);
        found = sqlite3_step(st) == SQLITE_ROW;
        sqlite3_finalize(st);
        return found;
}

/* SB_ERR_INVALID, naming both, unless the primary key of `table` is the key
 * record's fields in order: a key schema that changed (a field added to
 * the key) cannot be taken by a table keyed on the old one. */
static sb_err_t check_primary_key(sqlite_target_t *t, const char *table, const sb_node_t *key, char *errstr,
                                  size_t errstr_size) {
        sqlite3_stmt *st = NULL;
        if (sqlite3_prepare_v2(t->db, "SELECT name FROM pragma_table_info(?1) WHERE pk > 0 ORDER BY pk", -1,
                               &st, NULL) != SQLITE_OK)
                return db_err(t, sqlite3_errcode(t->db), "read the primary key", errstr, errstr_size);
        sqlite3_bind_text(st, 1, table, -1, SQLITE_STATIC);
        sb_buf_t have, want;
        sb_buf_init(&have, 4096);
        sb_buf_init(&want, 4096);
        size_t n = 0;
        int same = 1;
        for (; sqlite3_step(st) == SQLITE_ROW; n++) {
                const char *name = (const char *)sqlite3_column_text(st, 0);
                same &= n < sb_node_count(key) && strcmp(name, sb_node_field_name(key, n)) == 0;
                sb_buf_printf(&have, "%s%s", n ? ", " : "", name);
        }
        sqlite3_finalize(st);
        sb_err_t err = SB_OK;
        if (!same || n != sb_node_count(key)) {
                for (size_t i = 0; i < sb_node_count(key); i++)
                        sb_buf_printf(&want, "%s%s", i ? ", " : "", sb_node_field_name(key, i));
                err = sb_seterr(
                        SB_ERR_INVALID, errstr, errstr_size,
                        "table %s has the primary key (%s), the key schema has (%s): the target cannot "
                        "take a changed key",
                        table, have.data ? (const char *)have.data : "",
                        want.data ? (const char *)want.data : "");
        }
        sb_buf_free(&have);
        sb_buf_free(&want);
        return err;
}

/* Appends " DEFAULT <literal>" for the Avro default `def` of a field of
 * type `type`, as the row's value would be stored (bind_json): dates and
 * timestamps as their text, booleans as 0/1, records and arrays as JSON.
 * Nothing for a null or absent default. */
static sb_err_t append_default(sb_buf_t *sql, const sb_node_t *type, const json_t *def) {
        char text[64];
        type = sb_node_unwrap_nullable(type);
        if (!def || json_is_null(def))
                return SB_OK;
        if (json_is_integer(def) && sb_node_logical(type) == SB_LOGICAL_DATE)
                sb_datetime_format_date(json_integer_value(def), text, sizeof(text));
        else if (json_is_integer(def) && sb_node_logical(type) == SB_LOGICAL_TIMESTAMP_MILLIS)
                sb_datetime_format_timestamp_ms(json_integer_value(def), text, sizeof(text));
        else if (json_is_integer(def))
                return sb_buf_printf(sql, " DEFAULT %lld", (long long)json_integer_value(def));
        else if (json_is_real(def))
                return sb_buf_printf(sql, " DEFAULT %.17g", json_real_value(def));
        else if (json_is_boolean(def))
                return sb_buf_printf(sql, " DEFAULT %d", json_is_true(def) ? 1 : 0);
        char *dumped = NULL;
        const char *s = text;
        if (json_is_string(def))
                s = json_string_value(def);
        else if (!json_is_integer(def) && !(s = dumped = json_dumps(def, JSON_COMPACT)))
                return SB_ERR_NOMEM;
        sb_err_t err = sb_buf_append(sql, " DEFAULT '", 10);
        for (const char *p = s; !err && *p; p++)
                err = *p == '\'' ? sb_buf_append(sql, "''", 2) : sb_buf_append(sql, p, 1);
        free(dumped);
        return err ? err : sb_buf_append(sql, "'", 1);
}

/* Adds to `table` the columns of the row's fields it does not have (a
 * newer row schema may add fields); `sql` is scratch. */
static sb_err_t add_missing_columns(sqlite_target_t *t, const char *table, const sb_node_t *row,
                                    sb_buf_t *sql, char *errstr, size_t errstr_size) {
        sb_err_t err = SB_OK;
        for (size_t i = 0; !err && i < sb_node_count(row); i++) {
                const char *name = sb_node_field_name(row, i);
                if (has_column(t, table, name))
                        continue;
                sb_buf_reset(sql);
                sb_buf_append(sql, "ALTER TABLE ", 12);
                quote_ident(sql, table);
                sb_buf_append(sql, " ADD COLUMN ", 12);
                quote_ident(sql, name);
                sb_buf_printf(sql, " %s", sql_type(sb_node_child(row, i)));
                /* Rows already in the table get the default, as a reader of
                 * the new schema would see them (a non-nullable field must
                 * not read NULL); SQLite fills it in without rewriting them. */
                if (append_default(sql, sb_node_child(row, i),
                                   json_object_get(sb_node_field_json(row, i), "default")))
                        return sb_seterr(SB_ERR_NOMEM, errstr, errstr_size, "out of memory");
                err = exec(t, (const char *)sql->data, errstr, errstr_size);
        }
        return err;
}

static sb_err_t st_ensure_table(sb_target_t *bt, const char *table, const sb_node_t *key,
                                const sb_node_t *row, char *errstr, size_t errstr_size) {
        sqlite_target_t *t = (sqlite_target_t *)bt;
        sb_buf_t sql;
        sb_err_t err = SB_OK;
        sb_buf_init(&sql, 1 << 20);
        sb_buf_append(&sql, "CREATE TABLE IF NOT EXISTS ", 27);
        quote_ident(&sql, table);
        sb_buf_append(&sql, " (", 2);
        for (size_t i = 0; i < sb_node_count(row); i++) {
                const char *name = sb_node_field_name(row, i);
                quote_ident(&sql, name);
                sb_buf_printf(&sql, " %s%s, ", sql_type(sb_node_child(row, i)),
                              sb_node_field_index(key, name) >= 0 ? " NOT NULL" : "");
        }
        sb_buf_append(&sql, "PRIMARY KEY (", 13);
        put_names(&sql, key);
        if (sb_buf_append(&sql, "))", 2))
                err = sb_seterr(SB_ERR_NOMEM, errstr, errstr_size, "out of memory");
        if (!err)
                err = exec(t, (const char *)sql.data, errstr, errstr_size);
        if (!err)
                err = check_primary_key(t, table, key, errstr, errstr_size);
        if (!err)
                err = add_missing_columns(t, table, row, &sql, errstr, errstr_size);
        sb_buf_free(&sql);
        return err;
}

/* The statements of (table, row schema), found or added empty. */
static stmt_cache_t *cache_entry(sqlite_target_t *t, const char *table, const sb_node_t *row, char *errstr,
                                 size_t errstr_size) {
        for (stmt_cache_t *c = t->stmts; c; c = c->next)
                if (c->row == row && strcmp(c->table, table) == 0)
                        return c;
        stmt_cache_t *c = calloc(1, sizeof(*c));
        if (!c || !(c->table = strdup(table))) {
                free(c);
                sb_seterr(SB_ERR_NOMEM, errstr, errstr_size, "out of memory");
                return NULL;
        }
        c->row = row;
        c->next = t->stmts;
        t->stmts = c;
        return c;
}

static sb_err_t prepare(sqlite_target_t *t, sb_buf_t *sql, sqlite3_stmt **st, char *errstr,
                        size_t errstr_size) {
        int rc = sqlite3_prepare_v3(t->db, (const char *)sql->data, (int)sql->len, SQLITE_PREPARE_PERSISTENT,
                                    st, NULL);
        return rc == SQLITE_OK ? SB_OK : db_err(t, rc, "prepare", errstr, errstr_size);
}

static stmt_cache_t *get_stmts(sqlite_target_t *t, const char *table, const sb_node_t *key,
                               const sb_node_t *row, char *errstr, size_t errstr_size) {
        stmt_cache_t *c = cache_entry(t, table, row, errstr, errstr_size);
        if (!c || c->upsert)
                return c;
        sb_buf_t sql;
        sb_buf_init(&sql, 1 << 20);
        sb_buf_append(&sql, "INSERT INTO ", 12);
        quote_ident(&sql, table);
        sb_buf_append(&sql, " (", 2);
        put_names(&sql, row);
        sb_buf_append(&sql, ") VALUES (", 10);
        for (size_t i = 0; i < sb_node_count(row); i++)
                sb_buf_printf(&sql, "%s?%zu", i ? ", " : "", i + 1);
        sb_buf_append(&sql, ") ON CONFLICT (", 15);
        put_names(&sql, key);
        sb_buf_append(&sql, ") DO UPDATE SET ", 16);
        for (size_t i = 0; i < sb_node_count(row); i++) {
                if (i)
                        sb_buf_append(&sql, ", ", 2);
                quote_ident(&sql, sb_node_field_name(row, i));
                sb_buf_append(&sql, " = excluded.", 12);
                quote_ident(&sql, sb_node_field_name(row, i));
        }
        sb_err_t err = prepare(t, &sql, &c->upsert, errstr, errstr_size);
        if (!err) {
                sb_buf_reset(&sql);
                sb_buf_append(&sql, "DELETE FROM ", 12);
                quote_ident(&sql, table);
                sb_buf_append(&sql, " WHERE ", 7);
                for (size_t i = 0; i < sb_node_count(key); i++) {
                        if (i)
                                sb_buf_append(&sql, " AND ", 5);
                        quote_ident(&sql, sb_node_field_name(key, i));
                        sb_buf_printf(&sql, " = ?%zu", i + 1);
                }
                err = prepare(t, &sql, &c->remove, errstr, errstr_size);
        }
        sb_buf_free(&sql);
        if (err) { /* both made at the next try */
                sqlite3_finalize(c->upsert);
                c->upsert = NULL;
                return NULL;
        }
        return c;
}

static int bind_json(sqlite3_stmt *st, int idx, const json_t *v) {
        switch (json_typeof(v)) {
        case JSON_NULL: return sqlite3_bind_null(st, idx);
        case JSON_TRUE: return sqlite3_bind_int(st, idx, 1);
        case JSON_FALSE: return sqlite3_bind_int(st, idx, 0);
        case JSON_INTEGER: return sqlite3_bind_int64(st, idx, json_integer_value(v));
        case JSON_REAL: return sqlite3_bind_double(st, idx, json_real_value(v));
        case JSON_STRING:
                return sqlite3_bind_text(st, idx, json_string_value(v), (int)json_string_length(v),
                                         SQLITE_TRANSIENT);
        default: {
                char *text = json_dumps(v, JSON_COMPACT);
                return text ? sqlite3_bind_text(st, idx, text, -1, free) : SQLITE_NOMEM;
        }
        }
}

static sb_err_t run(sqlite_target_t *t, sqlite3_stmt *st, const char *what, char *errstr,
                    size_t errstr_size) {
        int rc = sqlite3_step(st);
        sqlite3_reset(st);
        sqlite3_clear_bindings(st);
        return rc == SQLITE_DONE ? SB_OK : db_err(t, rc, what, errstr, errstr_size);
}

/* Binds the values of rec's fields in `values` (absent ones NULL) to st's
 * parameters from `first` on. */
static sb_err_t bind_fields(sqlite_target_t *t, sqlite3_stmt *st, int first, const sb_node_t *rec,
                            const json_t *values, char *errstr, size_t errstr_size) {
        for (size_t i = 0; i < sb_node_count(rec); i++) {
                const json_t *v = json_object_get(values, sb_node_field_name(rec, i));
                int rc = bind_json(st, first + (int)i, v ? v : json_null());
                if (rc != SQLITE_OK) {
                        sqlite3_clear_bindings(st);
                        return db_err(t, rc, "bind", errstr, errstr_size);
                }
        }
        return SB_OK;
}

static sb_err_t st_upsert(sb_target_t *bt, const char *table, const sb_node_t *key, const sb_node_t *row,
                          const json_t *values, char *errstr, size_t errstr_size) {
        sqlite_target_t *t = (sqlite_target_t *)bt;
        stmt_cache_t *c = get_stmts(t, table, key, row, errstr, errstr_size);
        if (!c)
                return SB_ERR_DB;
        sb_err_t err = bind_fields(t, c->upsert, 1, row, values, errstr, errstr_size);
        return err ? err : run(t, c->upsert, "upsert", errstr, errstr_size);
}

static sb_err_t st_remove(sb_target_t *bt, const char *table, const sb_node_t *key, const sb_node_t *row,
                          const json_t *key_values, char *errstr, size_t errstr_size) {
        sqlite_target_t *t = (sqlite_target_t *)bt;
        stmt_cache_t *c = get_stmts(t, table, key, row, errstr, errstr_size);
        if (!c)
                return SB_ERR_DB;
        sb_err_t err = bind_fields(t, c->remove, 1, key, key_values, errstr, errstr_size);
        return err ? err : run(t, c->remove, "delete", errstr, errstr_size);
}

/* History tables: the event's own columns, then the row's. */
static const char *const history_columns[] = {"sharebus_event_id", "sharebus_op", "sharebus_ts_ms",
                                              "sharebus_seq"};
#define HISTORY_COLUMNS (sizeof(history_columns) / sizeof(*history_columns))

static sb_err_t st_ensure_history(sb_target_t *bt, const char *table, const sb_node_t *key,
                                  const sb_node_t *row, char *errstr, size_t errstr_size) {
        sqlite_target_t *t = (sqlite_target_t *)bt;
        sb_buf_t sql;
        sb_err_t err = SB_OK;
        sb_buf_init(&sql, 1 << 20);
        sb_buf_append(&sql, "CREATE TABLE IF NOT EXISTS ", 27);
        quote_ident(&sql, table);
        /* One row per event: its id is the key, so an event is there once. */
        sb_buf_printf(&sql, " (\"sharebus_event_id\" TEXT PRIMARY KEY, \"sharebus_op\" TEXT NOT NULL, "
                            "\"sharebus_ts_ms\" INTEGER NOT NULL, \"sharebus_seq\" INTEGER NOT NULL");
        for (size_t i = 0; i < sb_node_count(row); i++) {
                sb_buf_append(&sql, ", ", 2);
                quote_ident(&sql, sb_node_field_name(row, i));
                sb_buf_printf(&sql, " %s", sql_type(sb_node_child(row, i)));
        }
        if (sb_buf_append(&sql, ")", 1))
                err = sb_seterr(SB_ERR_NOMEM, errstr, errstr_size, "out of memory");
        if (!err)
                err = exec(t, (const char *)sql.data, errstr, errstr_size);
        /* A record's history in order: by its key, then the change's seq. */
        if (!err) {
                char index[300];
                snprintf(index, sizeof(index), "%s_key", table);
                sb_buf_reset(&sql);
                sb_buf_append(&sql, "CREATE INDEX IF NOT EXISTS ", 27);
                quote_ident(&sql, index);
                sb_buf_append(&sql, " ON ", 4);
                quote_ident(&sql, table);
                sb_buf_append(&sql, " (", 2);
                put_names(&sql, key);
                if (sb_buf_append(&sql, ", \"sharebus_seq\")", 17))
                        err = sb_seterr(SB_ERR_NOMEM, errstr, errstr_size, "out of memory");
                if (!err)
                        err = exec(t, (const char *)sql.data, errstr, errstr_size);
        }
        if (!err)
                err = add_missing_columns(t, table, row, &sql, errstr, errstr_size);
        sb_buf_free(&sql);
        return err;
}

static sqlite3_stmt *get_append(sqlite_target_t *t, const char *table, const sb_node_t *row, char *errstr,
                                size_t errstr_size) {
        stmt_cache_t *c = cache_entry(t, table, row, errstr, errstr_size);
        if (!c || c->append)
                return c ? c->append : NULL;
        sb_buf_t sql;
        sb_buf_init(&sql, 1 << 20);
        sb_buf_append(&sql, "INSERT INTO ", 12);
        quote_ident(&sql, table);
        sb_buf_append(&sql, " (", 2);
        for (size_t i = 0; i < HISTORY_COLUMNS; i++) {
                quote_ident(&sql, history_columns[i]);
                sb_buf_append(&sql, ", ", 2);
        }
        put_names(&sql, row);
        sb_buf_append(&sql, ") VALUES (", 10);
        for (size_t i = 0; i < HISTORY_COLUMNS + sb_node_count(row); i++)
                sb_buf_printf(&sql, "%s?%zu", i ? ", " : "", i + 1);
        /* Applied once per event, as the offsets make sure; a replay of a
         * dead letter already applied leaves it too. */
        sb_buf_append(&sql, ") ON CONFLICT (\"sharebus_event_id\") DO NOTHING", 46);
        sb_err_t err = prepare(t, &sql, &c->append, errstr, errstr_size);
        sb_buf_free(&sql);
        return err ? NULL : c->append;
}

static sb_err_t st_append(sb_target_t *bt, const char *table, const sb_node_t *row, const json_t *values,
                          const sb_target_event_t *ev, char *errstr, size_t errstr_size) {
        sqlite_target_t *t = (sqlite_target_t *)bt;
        sqlite3_stmt *st = get_append(t, table, row, errstr, errstr_size);
        if (!st)
                return SB_ERR_DB;
        char op[2] = {ev->op, 0};
        int rc = sqlite3_bind_text(st, 1, ev->event_id, -1, SQLITE_TRANSIENT);
        if (rc == SQLITE_OK)
                rc = sqlite3_bind_text(st, 2, op, 1, SQLITE_TRANSIENT);
        if (rc == SQLITE_OK)
                rc = sqlite3_bind_int64(st, 3, ev->ts_ms);
        if (rc == SQLITE_OK)
                rc = sqlite3_bind_int64(st, 4, ev->seq);
        if (rc != SQLITE_OK) {
                sqlite3_clear_bindings(st);
                return db_err(t, rc, "bind", errstr, errstr_size);
        }
        sb_err_t err = bind_fields(t, st, (int)HISTORY_COLUMNS + 1, row, values, errstr, errstr_size);
        return err ? err : run(t, st, "append", errstr, errstr_size);
}

static sb_err_t st_record_columns(sb_target_t *bt, const char *table, const sb_node_t *row, char *errstr,
                                  size_t errstr_size) {
        sqlite_target_t *t = (sqlite_target_t *)bt;
        for (size_t i = 0; i < sb_node_count(row); i++) {
                sb_class_t cls;
                const char *policy, *source;
                sb_err_t err = sb_target_column_meta(row, i, &cls, &policy, &source, errstr, errstr_size);
                if (err)
                        return err;
                sqlite3_bind_text(t->column, 1, table, -1, SQLITE_STATIC);
                sqlite3_bind_text(t->column, 2, sb_node_field_name(row, i), -1, SQLITE_STATIC);
                sqlite3_bind_text(t->column, 3, sb_class_name(cls), -1, SQLITE_STATIC);
                sqlite3_bind_text(t->column, 4, policy, -1, SQLITE_STATIC);
                sqlite3_bind_text(t->column, 5, source, -1, SQLITE_STATIC);
                err = run(t, t->column, "record columns", errstr, errstr_size);
                if (err)
                        return err;
        }
        return SB_OK;
}

static sb_err_t st_load_offset(sb_target_t *bt, const char *group, const char *topic, int32_t partition,
                               int64_t *next, char *errstr, size_t errstr_size) {
        sqlite_target_t *t = (sqlite_target_t *)bt;
        sqlite3_stmt *st = t->load_offset;
        sqlite3_bind_text(st, 1, group, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 2, topic, -1, SQLITE_STATIC);
        sqlite3_bind_int(st, 3, partition);
        int rc = sqlite3_step(st);
        *next = rc == SQLITE_ROW ? sqlite3_column_int64(st, 0) : -1;
        sqlite3_reset(st);
        sqlite3_clear_bindings(st);
        return rc == SQLITE_ROW || rc == SQLITE_DONE ? SB_OK
                                                     : db_err(t, rc, "load offset", errstr, errstr_size);
}

static sb_err_t st_store_offset(sb_target_t *bt, const char *group, const char *topic, int32_t partition,
                                int64_t next, char *errstr, size_t errstr_size) {
        sqlite_target_t *t = (sqlite_target_t *)bt;
        sqlite3_stmt *st = t->store_offset;
        sqlite3_bind_text(st, 1, group, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 2, topic, -1, SQLITE_STATIC);
        sqlite3_bind_int(st, 3, partition);
        sqlite3_bind_int64(st, 4, next);
        sqlite3_bind_text(st, 5, t->now, -1, SQLITE_STATIC);
        return run(t, st, "store offset", errstr, errstr_size);
}

static sb_err_t st_record_receipt(sb_target_t *bt, const char *topic, int32_t partition, int64_t offset,
                                  const char *event_id, const char *op, char *errstr, size_t errstr_size) {
        sqlite_target_t *t = (sqlite_target_t *)bt;
        sqlite3_stmt *st = t->receipt;
        sqlite3_bind_text(st, 1, topic, -1, SQLITE_STATIC);
        sqlite3_bind_int(st, 2, partition);
        sqlite3_bind_int64(st, 3, offset);
        sqlite3_bind_text(st, 4, event_id, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 5, op, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 6, t->now, -1, SQLITE_STATIC);
        return run(t, st, "record receipt", errstr, errstr_size);
}

static sb_err_t st_has_receipt(sb_target_t *bt, const char *topic, int32_t partition, int64_t offset,
                               const char *event_id, int *found, char *errstr, size_t errstr_size) {
        sqlite_target_t *t = (sqlite_target_t *)bt;
        sqlite3_stmt *st = t->has_receipt;
        sqlite3_bind_text(st, 1, topic, -1, SQLITE_STATIC);
        sqlite3_bind_int(st, 2, partition);
        sqlite3_bind_int64(st, 3, offset);
        sqlite3_bind_text(st, 4, event_id, -1, SQLITE_STATIC);
        int rc = sqlite3_step(st);
        *found = rc == SQLITE_ROW;
        sqlite3_reset(st);
        sqlite3_clear_bindings(st);
        return rc == SQLITE_ROW || rc == SQLITE_DONE ? SB_OK
                                                     : db_err(t, rc, "look up receipt", errstr, errstr_size);
}

static void st_destroy(sb_target_t *bt) {
        sqlite_target_t *t = (sqlite_target_t *)bt;
        if (!t)
                return;
        while (t->stmts) {
                stmt_cache_t *n = t->stmts->next;
                sqlite3_finalize(t->stmts->upsert);
                sqlite3_finalize(t->stmts->remove);
                sqlite3_finalize(t->stmts->append);
                free(t->stmts->table);
                free(t->stmts);
                t->stmts = n;
        }
        sqlite3_finalize(t->load_offset);
        sqlite3_finalize(t->store_offset);
        sqlite3_finalize(t->receipt);
        sqlite3_finalize(t->has_receipt);
        sqlite3_finalize(t->column);
        sqlite3_close(t->db);
        free(t);
}

static const sb_target_ops_t sqlite_ops = {
        .kind = "sqlite",
        .begin = st_begin,
        .commit = st_commit,
        .rollback = st_rollback,
        .table_name = st_table_name,
        .ensure_table = st_ensure_table,
        .record_columns = st_record_columns,
        .upsert = st_upsert,
        .remove = st_remove,
        .ensure_history = st_ensure_history,
        .append = st_append,
        .load_offset = st_load_offset,
        .store_offset = st_store_offset,
        .record_receipt = st_record_receipt,
        .has_receipt = st_has_receipt,
        .destroy = st_destroy,
};

sb_err_t sb_target_sqlite_open(const char *path, sb_target_t **out, char *errstr, size_t errstr_size) {
        sqlite_target_t *t = calloc(1, sizeof(*t));
        sb_err_t err;
        *out = NULL;
        if (!t)
                return sb_seterr(SB_ERR_NOMEM, errstr, errstr_size, "out of memory");
        t->base.ops = &sqlite_ops;
        if (sqlite3_open_v2(path, &t->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, NULL) != SQLITE_OK) {
                err = sb_seterr(SB_ERR_DB, errstr, errstr_size, "sqlite: cannot open %s: %s", path,
                                t->db ? sqlite3_errmsg(t->db) : "out of memory");
                st_destroy(&t->base);
                return err;
        }
        sqlite3_busy_timeout(t->db, 10000);
        if ((err = set_wal(t, errstr, errstr_size)) ||
            (err = exec(t, "PRAGMA synchronous=FULL", errstr, errstr_size)) ||
            (err = exec(t, "PRAGMA wal_autocheckpoint=10000", errstr, errstr_size)) ||
            (err = exec(t,
                        "CREATE TABLE IF NOT EXISTS sharebus_offsets ("
                        "consumer_group TEXT NOT NULL, topic TEXT NOT NULL, "
                        "kafka_partition INTEGER NOT NULL, next_offset INTEGER NOT NULL, "
                        "updated_at TEXT NOT NULL, PRIMARY KEY (consumer_group, topic, kafka_partition));"
                        /* No unique key on purpose: an event applied twice would show. */
                        "CREATE TABLE IF NOT EXISTS sharebus_receipts ("
                        "topic TEXT NOT NULL, kafka_partition INTEGER NOT NULL, "
                        "kafka_offset INTEGER NOT NULL, event_id TEXT NOT NULL, op TEXT NOT NULL, "
                        "applied_at TEXT NOT NULL);"
                        /* By position, where receipts only ever append (target.h). */
                        "DROP INDEX IF EXISTS sharebus_receipts_event;"
                        "CREATE INDEX IF NOT EXISTS sharebus_receipts_at ON sharebus_receipts "
                        "(topic, kafka_partition, kafka_offset);"
                        /* Which columns hold personal data (sb_rules.h), under which policy. */
                        "CREATE TABLE IF NOT EXISTS sharebus_columns ("
                        "table_name TEXT NOT NULL, column_name TEXT NOT NULL, classification TEXT NOT NULL, "
                        "policy TEXT NOT NULL DEFAULT 'clear', source_field TEXT, "
                        "PRIMARY KEY (table_name, column_name))",
                        errstr, errstr_size)) ||
            /* A database of an older sharebus has neither column (both came together). */
            (!has_column(t, "sharebus_columns", "policy") &&
             (err = exec(t,
                         "ALTER TABLE sharebus_columns ADD COLUMN policy TEXT NOT NULL DEFAULT 'clear';"
                         "ALTER TABLE sharebus_columns ADD COLUMN source_field TEXT",
                         errstr, errstr_size)))) {
                st_destroy(&t->base);
                return err == SB_ERR_INVALID ? SB_ERR_DB : err;
        }
        const struct {
                const char *sql;
                sqlite3_stmt **st;
        } fixed[] = {
                {"SELECT next_offset FROM sharebus_offsets WHERE consumer_group = ?1 AND topic = ?2 "
                 "AND kafka_partition = ?3",
                 &t->load_offset},
                {"INSERT INTO sharebus_offsets VALUES (?1, ?2, ?3, ?4, ?5) "
                 "ON CONFLICT (consumer_group, topic, kafka_partition) DO UPDATE SET "
                 "next_offset = excluded.next_offset, updated_at = excluded.updated_at",
                 &t->store_offset},
                {"INSERT INTO sharebus_receipts VALUES (?1, ?2, ?3, ?4, ?5, ?6)", &t->receipt},
                {"SELECT 1 FROM sharebus_receipts WHERE topic = ?1 AND kafka_partition = ?2 "
                 "AND kafka_offset = ?3 AND event_id = ?4 LIMIT 1",
                 &t->has_receipt},
                {"INSERT INTO sharebus_columns (table_name, column_name, classification, policy, "
                 "source_field) "
                 "VALUES (?1, ?2, ?3, ?4, ?5) ON CONFLICT (table_name, column_name) DO UPDATE SET "
                 "classification = excluded.classification, policy = excluded.policy, "
                 "source_field = excluded.source_field",
                 &t->column},
        };
        for (size_t i = 0; !err && i < sizeof(fixed) / sizeof(fixed[0]); i++) {
                int rc = sqlite3_prepare_v3(t->db, fixed[i].sql, -1, SQLITE_PREPARE_PERSISTENT, fixed[i].st,
                                            NULL);
                if (rc != SQLITE_OK)
                        err = db_err(t, rc, "prepare", errstr, errstr_size);
        }
        if (err) {
                st_destroy(&t->base);
                return SB_ERR_DB;
        }
        *out = &t->base;
        return SB_OK;
}

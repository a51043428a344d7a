#include "sources/source_csv.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sources/csv_record.h"
#include "sources/file_input.h"
#include "sources/json_text.h"

#define CSV_BATCH_MAX 1024
#define CSV_BATCH_BYTES (16u << 20)
/* Entries of csv_columns, at most. */
#define CSV_MAX_MAPPINGS CSV_MAX_COLUMNS

typedef struct {
        char *header; /* owned */
        char *target; /* owned; "-" to ignore the column */
} mapping_t;

typedef enum { COL_IGNORE, COL_FIELD, COL_OP } col_kind_t;

typedef struct {
        col_kind_t kind;
        int row_field; /* index in the row record, or -1 */
        int key_field; /* index in the key record, or -1 */
} column_t;

typedef struct {
        file_input_t *in;
        const sb_node_t *key, *row;
        char delim;
        char default_op;
        char *op_column; /* owned, NULL for none */
        mapping_t *map;
        size_t nmap;
        size_t max_row;

        csv_record_t *rec; /* owned; the row being parsed */

        /* The current file: its columns from the header. */
        column_t cols[CSV_MAX_COLUMNS];
        size_t ncols;
        int key_col[CSV_MAX_COLUMNS]; /* key field -> column */
        char header_error[768];
        uint64_t off;
        unsigned long line; /* newlines read in the current file */

        sb_buf_t text; /* the batch's change lines */
        sb_buf_t out;  /* the change line being built */
        source_record_t records[CSV_BATCH_MAX];
        size_t rstarts[CSV_BATCH_MAX];
} csv_t;

/* ---- settings ---- */

static sb_err_t setting_error(const sb_config_t *cfg, const char *name, char *errstr, size_t errstr_size,
                              const char *why) {
        return sb_seterr(SB_ERR_CONFIG, errstr, errstr_size, "%s:%d: setting '%s': %s", sb_config_origin(cfg),
                         sb_config_line(cfg, name), name, why);
}

/* A copy of s[0, n) without the spaces around it. */
static char *trimmed(const char *s, size_t n) {
        while (n && *s == ' ') {
                s++;
                n--;
        }
        while (n && s[n - 1] == ' ')
                n--;
        return strndup(s, n);
}

static int is_field(const csv_t *c, const char *name) {
        return sb_node_field_index(c->row, name) >= 0 || sb_node_field_index(c->key, name) >= 0;
}

static sb_err_t parse_mapping(csv_t *c, const sb_config_t *cfg, char *errstr, size_t errstr_size) {
        const char *spec = sb_config_string(cfg, "csv_columns");
        if (!spec || !*spec)
                return SB_OK;
        size_t count = 1;
        for (const char *p = spec; *p; p++)
                count += *p == ',';
        if (count > CSV_MAX_MAPPINGS)
                return setting_error(cfg, "csv_columns", errstr, errstr_size, "too many entries");
        c->map = calloc(count, sizeof(*c->map));
        if (!c->map)
                return sb_seterr(SB_ERR_NOMEM, errstr, errstr_size, "out of memory");
        char why[512];
        for (const char *p = spec;;) {
                const char *end = strchr(p, ',');
                size_t n = end ? (size_t)(end - p) : strlen(p);
                const char *eq = memchr(p, '=', n);
                if (!eq) {
                        snprintf(why, sizeof(why), "'%.*s' is not HEADER=field (or HEADER=- to ignore it)",
                                 (int)n, p);
                        return setting_error(cfg, "csv_columns", errstr, errstr_size, why);
                }
                mapping_t *m = &c->map[c->nmap++];
                m->header = trimmed(p, (size_t)(eq - p));
                m->target = trimmed(eq + 1, n - (size_t)(eq - p) - 1);
                if (!m->header || !m->target)
                        return sb_seterr(SB_ERR_NOMEM, errstr, errstr_size, "out of memory");
                if (!*m->header || !*m->target) {
                        snprintf(why, sizeof(why), "'%.*s' has an empty name", (int)n, p);
                        return setting_error(cfg, "csv_columns", errstr, errstr_size, why);
                }
                if (strcmp(m->target, "-") != 0 && !is_field(c, m->target)) {
                        snprintf(why, sizeof(why), "'%s' is not a field of the dataset", m->target);
                        return setting_error(cfg, "csv_columns", errstr, errstr_size, why);
                }
                for (size_t i = 0; i + 1 < c->nmap; i++)
                        if (strcmp(c->map[i].header, m->header) == 0) {
                                snprintf(why, sizeof(why), "column '%s' is mapped twice", m->header);
                                return setting_error(cfg, "csv_columns", errstr, errstr_size, why);
                        }
                if (!end)
                        break;
                p = end + 1;
        }
        return SB_OK;
}

static sb_err_t parse_settings(csv_t *c, const sb_config_t *cfg, char *errstr, size_t errstr_size) {
        const char *d = sb_config_string(cfg, "csv_delimiter");
        if (!d || strlen(d) != 1 || *d == '"' || *d == '\r' || *d == '\n')
                return setting_error(cfg, "csv_delimiter", errstr, errstr_size,
                                     "must be one character other than a quote or a line end");
        c->delim = *d;
        const char *op = sb_config_string(cfg, "csv_op");
        if (!op || strlen(op) != 1 || !strchr("rcu", *op))
                return setting_error(cfg, "csv_op", errstr, errstr_size, "must be r, c or u");
        c->default_op = *op;
        const char *opc = sb_config_string(cfg, "csv_op_column");
        if (opc && *opc && !(c->op_column = strdup(opc)))
                return sb_seterr(SB_ERR_NOMEM, errstr, errstr_size, "out of memory");
        long long max_row = sb_config_int(cfg, "max_line_bytes");
        c->max_row = max_row > 0 ? (size_t)max_row : 4u << 20;
        return parse_mapping(c, cfg, errstr, errstr_size);
}

/* ---- header ---- */

static void header_fault(csv_t *c, const char *fmt, const char *a, const char *b) {
        if (!c->header_error[0])
                snprintf(c->header_error, sizeof(c->header_error), fmt, a, b);
}

static int nullable(const sb_node_t *t) {
        if (sb_node_type(t) != SB_T_UNION)
                return sb_node_type(t) == SB_T_NULL;
        for (size_t i = 0; i < sb_node_count(t); i++)
                if (sb_node_type(sb_node_child(t, i)) == SB_T_NULL)
                        return 1;
        return 0;
}

static int has_default(const sb_node_t *rec, size_t i) {
        return json_object_get(sb_node_field_json(rec, i), "default") != NULL;
}

static void resolve_header(csv_t *c) {
        c->header_error[0] = '\0';
        c->ncols = csv_record_count(c->rec);
        for (size_t k = 0; k < sb_node_count(c->key); k++)
                c->key_col[k] = -1;
        int row_col[CSV_MAX_COLUMNS];
        size_t nrow = sb_node_count(c->row);
        for (size_t i = 0; i < nrow; i++)
                row_col[i] = -1;
        int op_seen = 0;
        for (size_t i = 0; i < c->ncols; i++) {
                char *name = trimmed(csv_record_cell(c->rec, i), csv_record_len(c->rec, i));
                if (!name) {
                        header_fault(c, "out of memory%s%s", "", "");
                        return;
                }
                /* A byte order mark before the first name (spreadsheets write one). */
                if (i == 0 && strncmp(name, "\xef\xbb\xbf", 3) == 0)
                        memmove(name, name + 3, strlen(name + 3) + 1);
                column_t *col = &c->cols[i];
                col->kind = COL_FIELD;
                col->row_field = col->key_field = -1;
                const char *target = name;
                int mapped = 0;
                for (size_t m = 0; m < c->nmap; m++)
                        if (strcmp(c->map[m].header, name) == 0) {
                                target = c->map[m].target;
                                mapped = 1;
                        }
                if (mapped && strcmp(target, "-") == 0) {
                        col->kind = COL_IGNORE;
                } else if (!mapped && c->op_column && strcmp(name, c->op_column) == 0) {
                        col->kind = COL_OP;
                        op_seen = 1;
                } else {
                        col->row_field = sb_node_field_index(c->row, target);
                        col->key_field = sb_node_field_index(c->key, target);
                        if (col->row_field < 0 && col->key_field < 0)
                                header_fault(c,
                                             "unknown column '%s' (map it to a field with csv_columns = "
                                             "\"%s=<field>\", or to - to ignore it)",
                                             name, name);
                        if ((col->row_field >= 0 && row_col[col->row_field] >= 0) ||
                            (col->row_field < 0 && col->key_field >= 0 && c->key_col[col->key_field] >= 0))
                                header_fault(c, "two columns map to field '%s' (the second is '%s')", target,
                                             name);
                        if (col->row_field >= 0)
                                row_col[col->row_field] = (int)i;
                        if (col->key_field >= 0)
                                c->key_col[col->key_field] = (int)i;
                }
                free(name);
        }
        if (c->op_column && !op_seen)
                header_fault(c, "no column '%s' (csv_op_column)%s", c->op_column, "");
        for (size_t k = 0; k < sb_node_count(c->key); k++)
                if (c->key_col[k] < 0)
                        header_fault(c, "no column for key field '%s'%s", sb_node_field_name(c->key, k), "");
        for (size_t i = 0; i < nrow; i++)
                if (row_col[i] < 0 && !nullable(sb_node_child(c->row, i)) && !has_default(c->row, i))
                        header_fault(c, "no column for required field '%s'%s", sb_node_field_name(c->row, i),
                                     "");
}

/* ---- values ---- */

static int ieq(const char *a, size_t n, const char *b) { return strlen(b) == n && strncasecmp(a, b, n) == 0; }

/* 1 if s is a JSON number whose value is a finite double. */
static int json_number(const char *s, size_t n) {
        size_t i = 0;
        if (i < n && s[i] == '-')
                i++;
        if (i < n && s[i] == '0')
                i++;
        else if (i < n && s[i] >= '1' && s[i] <= '9')
                while (i < n && isdigit((unsigned char)s[i]))
                        i++;
        else
                return 0;
        if (i < n && s[i] == '.') {
                if (++i >= n || !isdigit((unsigned char)s[i]))
                        return 0;
                while (i < n && isdigit((unsigned char)s[i]))
                        i++;
        }
        if (i < n && (s[i] == 'e' || s[i] == 'E')) {
                i++;
                if (i < n && (s[i] == '+' || s[i] == '-'))
                        i++;
                if (i >= n || !isdigit((unsigned char)s[i]))
                        return 0;
                while (i < n && isdigit((unsigned char)s[i]))
                        i++;
        }
        return i == n;
}

/* 1 if the n digits (and sign) at s are a 64-bit integer. */
static int integer_fits(const char *s, size_t n) {
        char *end;
        errno = 0;
        (void)strtoll(s, &end, 10);
        return errno == 0 && end == s + n;
}

/* Appends the JSON value of cell `s` (NUL-terminated, `n` bytes) for a field
 * of type `t`.  *omit when the member is to be left out (its default).
 * SB_ERR_INVALID when the cell is not UTF-8. */
static sb_err_t put_value(sb_buf_t *out, const sb_node_t *t, int with_default, const char *s, size_t n,
                          int quoted, int *omit) {
        const sb_node_t *base = sb_node_unwrap_nullable(t);
        sb_type_t bt = sb_node_type(base);
        int stringy = bt == SB_T_STRING || bt == SB_T_ENUM || bt == SB_T_BYTES || bt == SB_T_FIXED;
        *omit = 0;
        if (n == 0 && !(quoted && stringy)) {
                if (nullable(t))
                        return sb_buf_append(out, "null", 4);
                if (with_default) {
                        *omit = 1;
                        return SB_OK;
                }
                return stringy ? sb_buf_append(out, "\"\"", 2) : sb_buf_append(out, "null", 4);
        }
        char num[64];
        char *end = NULL;
        switch (bt) {
        case SB_T_NULL: return sb_buf_append(out, "null", 4);
        case SB_T_BOOLEAN:
                if (ieq(s, n, "true") || ieq(s, n, "t") || ieq(s, n, "yes") || ieq(s, n, "y") ||
                    ieq(s, n, "1"))
                        return sb_buf_append(out, "true", 4);
                if (ieq(s, n, "false") || ieq(s, n, "f") || ieq(s, n, "no") || ieq(s, n, "n") ||
                    ieq(s, n, "0"))
                        return sb_buf_append(out, "false", 5);
                break;
        case SB_T_INT:
        case SB_T_LONG:
                if (isdigit((unsigned char)s[0]) || s[0] == '-' || s[0] == '+') {
                        errno = 0;
                        long long v = strtoll(s, &end, 10);
                        if (errno == 0 && end == s + n) {
                                snprintf(num, sizeof(num), "%lld", v);
                                return sb_buf_append(out, num, strlen(num));
                        }
                }
                break;
        case SB_T_FLOAT:
        case SB_T_DOUBLE:
                if (strspn(s, "0123456789+-.eE") == n) {
                        errno = 0;
                        double v = strtod(s, &end);
                        if (end == s + n && isfinite(v) && errno != ERANGE) {
                                /* As written, but for an integer past 64 bits,
                                 * which jansson refuses ("too big integer"):
                                 * the row would be rejected as not JSON. */
                                if (json_number(s, n) &&
                                    (memchr(s, '.', n) || strpbrk(s, "eE") || integer_fits(s, n)))
                                        return sb_buf_append(out, s, n);
                                snprintf(num, sizeof(num), "%.17g", v);
                                return sb_buf_append(out, num, strlen(num));
                        }
                }
                break;
        case SB_T_RECORD:
        case SB_T_ARRAY:
        case SB_T_MAP:
        case SB_T_UNION: {
                /* The cell holds the value as JSON. */
                json_t *j = json_loadb(s, n, JSON_DECODE_ANY | JSON_REJECT_DUPLICATES, NULL);
                if (j) {
                        json_decref(j);
                        return sb_buf_append(out, s, n);
                }
                break;
        }
        default: break;
        }
        /* A string, or a value the encoder refuses with the reason. */
        return json_text_string(out, s, n);
}

static sb_err_t put_name(sb_buf_t *out, const char *name, int first) {
        sb_err_t err = first ? SB_OK : sb_buf_append(out, ",", 1);
        if (!err)
                err = json_text_string(out, name, strlen(name));
        if (!err)
                err = sb_buf_append(out, ":", 1);
        return err;
}

/* Appends the members of `rec` (key or row record) from the row's cells.
 * On SB_ERR_INVALID *bad_col is the column whose cell is not UTF-8. */
static sb_err_t put_members(csv_t *c, const sb_node_t *rec, int key, size_t *bad_col) {
        int first = 1;
        sb_err_t err = SB_OK;
        size_t count = key ? sb_node_count(rec) : c->ncols;
        for (size_t k = 0; !err && k < count; k++) {
                size_t col = key ? (size_t)c->key_col[k] : k;
                int fi = key ? (int)k : c->cols[k].row_field;
                if (!key && (c->cols[k].kind != COL_FIELD || fi < 0))
                        continue;
                size_t mark = c->out.len;
                if ((err = put_name(&c->out, sb_node_field_name(rec, (size_t)fi), first)))
                        break;
                int omit = 0;
                err = put_value(&c->out, sb_node_child(rec, (size_t)fi), has_default(rec, (size_t)fi),
                                csv_record_cell(c->rec, col), csv_record_len(c->rec, col),
                                csv_record_quoted(c->rec, col), &omit);
                if (err == SB_ERR_INVALID)
                        *bad_col = col;
                if (omit)
                        c->out.len = mark;
                else
                        first = 0;
        }
        return err;
}

/* The error line "<where>: <what><detail>" into c->out. */
static sb_err_t error_line(csv_t *c, const char *where, const char *what, const char *detail) {
        char reason[1200];
        snprintf(reason, sizeof(reason), "%.128s: %.256s%.768s", where, what, detail);
        return json_text_error_line(&c->out, reason);
}

/* The change line of the row just read into c->out. */
static sb_err_t row_to_line(csv_t *c, const char *where) {
        char why[256];
        if (c->header_error[0])
                return error_line(c, where, "the file's header row is refused: ", c->header_error);
        if (csv_record_count(c->rec) != c->ncols) {
                snprintf(why, sizeof(why), "the row has %zu fields, the header %zu", csv_record_count(c->rec),
                         c->ncols);
                return error_line(c, where, why, "");
        }
        sb_buf_reset(&c->out);
        char op = c->default_op;
        size_t bad_col = 0;
        sb_err_t err = sb_buf_append(&c->out, "{\"op\":", 6);
        for (size_t i = 0; i < c->ncols; i++)
                if (c->cols[i].kind == COL_OP) {
                        op = csv_record_len(c->rec, i) == 1 ? csv_record_cell(c->rec, i)[0] : '?';
                        if (!err && (err = json_text_string(&c->out, csv_record_cell(c->rec, i),
                                                            csv_record_len(c->rec, i))) == SB_ERR_INVALID)
                                bad_col = i;
                }
        if (!err && !c->op_column)
                err = sb_buf_append(&c->out, (char[]){'"', op, '"'}, 3);
        if (!err)
                err = sb_buf_append(&c->out, ",\"key\":{", 8);
        if (!err)
                err = put_members(c, c->key, 1, &bad_col);
        if (!err)
                err = sb_buf_append(&c->out, "}", 1);
        if (!err && op != 'd')
                err = sb_buf_append(&c->out, ",\"after\":{", 10);
        if (!err && op != 'd')
                err = put_members(c, c->row, 0, &bad_col);
        if (!err && op != 'd')
                err = sb_buf_append(&c->out, "}", 1);
        if (!err)
                err = sb_buf_append(&c->out, "}", 1);
        if (err == SB_ERR_INVALID) {
                snprintf(why, sizeof(why), "column %zu: not UTF-8 text (or holds a NUL byte)", bad_col + 1);
                return error_line(c, where, why, "");
        }
        if (err) {
                snprintf(why, sizeof(why), "the row's change line is too large");
                return error_line(c, where, why, "");
        }
        return SB_OK;
}

/* ---- the source ---- */

static void csv_close(void *state) {
        csv_t *c = state;
        if (!c)
                return;
        file_input_destroy(c->in);
        for (size_t i = 0; i < c->nmap; i++) {
                free(c->map[i].header);
                free(c->map[i].target);
        }
        free(c->map);
        free(c->op_column);
        csv_record_destroy(c->rec);
        sb_buf_free(&c->text);
        sb_buf_free(&c->out);
        free(c);
}

/* Makes cur the file to read, its header read and its columns resolved. */
static sb_err_t ensure_file(csv_t *c, int timeout_ms, file_input_file_t *cur, char *errstr,
                            size_t errstr_size) {
        for (;;) {
                sb_err_t err = file_input_current(c->in, timeout_ms, cur, errstr, errstr_size);
                if (err || !cur->f || !cur->fresh)
                        return err;
                c->off = 0;
                c->line = 0;
                csv_record_status_t st;
                uint64_t used = 0;
                char why[256];
                while ((st = csv_record_read(c->rec, cur->f, &c->line, &used, why, sizeof(why))) !=
                       CSV_RECORD_EOF) {
                        c->off += used;
                        if (st == CSV_RECORD_BAD || !csv_record_blank(c->rec))
                                break;
                }
                if (st == CSV_RECORD_EOF) {
                        if (ferror(cur->f))
                                return sb_seterr(SB_ERR_IO, errstr, errstr_size, "%s: read error", cur->name);
                        file_input_end(c->in, c->off);
                        continue;
                }
                if (st == CSV_RECORD_BAD) {
                        c->ncols = 0;
                        snprintf(c->header_error, sizeof(c->header_error), "%s", why);
                } else
                        resolve_header(c);
                if (cur->resume > c->off) {
                        if ((err = file_input_skip(cur->f, cur->resume - c->off, &c->line, errstr,
                                                   errstr_size)))
                                return err;
                        c->off = cur->resume;
                }
                return SB_OK;
        }
}

static sb_err_t csv_open(const sb_config_t *cfg, const source_options_t *opts, sb_log_t *log, void **state,
                         char *errstr, size_t errstr_size) {
        if (opts->snapshot)
                return sb_seterr(SB_ERR_CONFIG, errstr, errstr_size,
                                 "--snapshot needs a database source (sqlite or postgresql), not csv");
        if (!opts->key_record || !opts->row_record || sb_node_type(opts->key_record) != SB_T_RECORD ||
            sb_node_type(opts->row_record) != SB_T_RECORD)
                return sb_seterr(SB_ERR_CONFIG, errstr, errstr_size,
                                 "source csv needs the dataset's key and row records");
        if (sb_node_count(opts->key_record) > CSV_MAX_COLUMNS ||
            sb_node_count(opts->row_record) > CSV_MAX_COLUMNS)
                return sb_seterr(SB_ERR_CONFIG, errstr, errstr_size,
                                 "source csv takes records of at most %d fields", CSV_MAX_COLUMNS);
        csv_t *c = calloc(1, sizeof(*c));
        if (!c)
                return sb_seterr(SB_ERR_NOMEM, errstr, errstr_size, "out of memory");
        c->key = opts->key_record;
        c->row = opts->row_record;
        sb_err_t err = parse_settings(c, cfg, errstr, errstr_size);
        if (err) {
                csv_close(c);
                return err;
        }
        if ((err = csv_record_new(c->delim, c->max_row, &c->rec, errstr, errstr_size))) {
                csv_close(c);
                return err;
        }
        sb_buf_init(&c->out, 8 * c->max_row + 65536);
        sb_buf_init(&c->text, CSV_BATCH_BYTES + 8 * c->max_row + 65536);
        file_input_options_t fo;
        file_input_options_from_config(cfg, ".csv", &fo);
        fo.drain = opts->drain;
        if ((err = file_input_new(&fo, log, &c->in, errstr, errstr_size))) {
                csv_close(c);
                return err;
        }
        /* A single file's header is checked now, so that a wrong mapping
         * fails the start rather than every row. */
        if (strcmp(fo.input, "-") != 0 && !file_input_is_directory(c->in)) {
                file_input_file_t cur;
                char why[512];
                err = ensure_file(c, 0, &cur, why, sizeof(why));
                if (err == SB_ERR_NOT_FOUND)
                        err = SB_OK;
                else if (err)
                        err = sb_seterr(err, errstr, errstr_size, "%s", why);
                else if (cur.f && c->header_error[0])
                        err = sb_seterr(SB_ERR_CONFIG, errstr, errstr_size, "%s: header row: %s", cur.name,
                                        c->header_error);
                if (err) {
                        csv_close(c);
                        return err;
                }
        }
        *state = c;
        return SB_OK;
}

static sb_err_t csv_next(void *state, size_t max, int timeout_ms, source_batch_t *out, char *errstr,
                         size_t errstr_size) {
        csv_t *c = state;
        if (max > CSV_BATCH_MAX)
                max = CSV_BATCH_MAX;
        sb_buf_reset(&c->text);
        size_t n = 0;
        sb_err_t err = SB_OK;
        while (n < max && c->text.len < CSV_BATCH_BYTES) {
                file_input_file_t cur;
                if ((err = ensure_file(c, n ? 0 : timeout_ms, &cur, errstr, errstr_size)) || !cur.f)
                        break;
                unsigned long start_line = c->line + 1;
                uint64_t used = 0;
                char why[256];
                csv_record_status_t st = csv_record_read(c->rec, cur.f, &c->line, &used, why, sizeof(why));
                if (st == CSV_RECORD_EOF) {
                        if (ferror(cur.f)) {
                                err = sb_seterr(SB_ERR_IO, errstr, errstr_size, "%s: read error", cur.name);
                                break;
                        }
                        file_input_end(c->in, c->off);
                        continue;
                }
                c->off += used;
                if (st == CSV_RECORD_OK && csv_record_blank(c->rec))
                        continue;
                source_record_t *r = &c->records[n];
                snprintf(r->where, sizeof(r->where), "%s:%lu", cur.name, start_line);
                r->number = (int64_t)start_line;
                char pos_err[256];
                if (file_input_position(c->in, c->off, &r->position, pos_err, sizeof(pos_err)))
                        err = error_line(c, r->where, pos_err, "");
                else if (st == CSV_RECORD_BAD)
                        err = error_line(c, r->where, why, "");
                else
                        err = row_to_line(c, r->where);
                if (err || (err = sb_buf_append(&c->text, c->out.data, c->out.len))) {
                        err = sb_seterr(err, errstr, errstr_size, "%s: out of memory", r->where);
                        break;
                }
                c->rstarts[n] = c->text.len - c->out.len;
                r->len = c->out.len;
                n++;
        }
        for (size_t i = 0; i < n; i++)
                c->records[i].text = (const char *)c->text.data + c->rstarts[i];
        out->records = c->records;
        out->count = n;
        return n > 0 ? SB_OK : err;
}

static sb_err_t csv_ack(void *state, uint64_t position, char *errstr, size_t errstr_size) {
        csv_t *c = state;
        return file_input_ack(c->in, position, errstr, errstr_size);
}

static void csv_stats(void *state, source_stats_t *out) {
        csv_t *c = state;
        file_input_stats(c->in, out);
}

const source_ops_t source_csv_ops = {
        .name = "csv",
        .open = csv_open,
        .next = csv_next,
        .ack = csv_ack,
        .stats = csv_stats,
        .close = csv_close,
};

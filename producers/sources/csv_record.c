#include "sources/csv_record.h"

#include <stdio.h>
#include <stdlib.h>

#include "sb_buf.h"

struct csv_record_s {
        char delim;
        size_t max_bytes;
        /* The record being read: its fields one after the other in `cells`,
         * each followed by a NUL (not counted in its length). */
        sb_buf_t cells;
        size_t starts[CSV_RECORD_MAX_FIELDS], lens[CSV_RECORD_MAX_FIELDS];
        unsigned char quoted[CSV_RECORD_MAX_FIELDS];
        size_t nf;
};

sb_err_t csv_record_new(char delim, size_t max_bytes, csv_record_t **out, char *errstr, size_t errstr_size) {
        csv_record_t *r = calloc(1, sizeof(*r));
        *out = r;
        if (!r)
                return sb_seterr(SB_ERR_NOMEM, errstr, errstr_size, "out of memory");
        r->delim = delim;
        r->max_bytes = max_bytes;
        sb_buf_init(&r->cells, max_bytes + CSV_RECORD_MAX_FIELDS);
        return SB_OK;
}

void csv_record_destroy(csv_record_t *r) {
        if (!r)
                return;
        sb_buf_free(&r->cells);
        free(r);
}

typedef enum { ST_START, ST_UNQUOTED, ST_QUOTED, ST_QUOTE_SEEN } parse_state_t;

static void bad(char *why, size_t why_size, const char *what) {
        if (!why[0])
                snprintf(why, why_size, "%s", what);
}

static void end_field(csv_record_t *r, char *why, size_t why_size) {
        if (r->nf == CSV_RECORD_MAX_FIELDS) {
                char msg[64];
                snprintf(msg, sizeof(msg), "more than %d fields", CSV_RECORD_MAX_FIELDS);
                bad(why, why_size, msg);
        } else if (!why[0]) {
                r->lens[r->nf] = r->cells.len - r->starts[r->nf];
                r->nf++;
        }
        if (!why[0] && sb_buf_append(&r->cells, "", 1))
                bad(why, why_size, "out of memory");
        if (r->nf < CSV_RECORD_MAX_FIELDS) {
                r->starts[r->nf] = r->cells.len;
                r->quoted[r->nf] = 0;
        }
}

/* Past an error it reads on to the record's end (quotes still count),
 * keeping nothing, so the next record starts where it should. */
csv_record_status_t csv_record_read(csv_record_t *r, FILE *f, unsigned long *line, uint64_t *consumed,
                                    char *why, size_t why_size) {
        parse_state_t st = ST_START;
        *consumed = 0;
        why[0] = '\0';
        r->nf = 0;
        r->starts[0] = 0;
        r->quoted[0] = 0;
        sb_buf_reset(&r->cells);
        char too_long[96];
        snprintf(too_long, sizeof(too_long), "row longer than %zu bytes (max_line_bytes)", r->max_bytes);
        for (;;) {
                int ch = getc_unlocked(f);
                if (ch == EOF) {
                        if (*consumed == 0)
                                return CSV_RECORD_EOF;
                        if (st == ST_QUOTED)
                                bad(why, why_size, "a quoted field is not closed at the end of the file");
                        end_field(r, why, why_size);
                        break;
                }
                (*consumed)++;
                if (ch == '\n')
                        (*line)++;
                if (*consumed > r->max_bytes)
                        bad(why, why_size, too_long);
                if (st == ST_QUOTED) {
                        if (ch == '"')
                                st = ST_QUOTE_SEEN;
                        else if (!why[0] && sb_buf_append(&r->cells, &(char){(char)ch}, 1))
                                bad(why, why_size, too_long);
                        continue;
                }
                if (st == ST_QUOTE_SEEN && ch == '"') {
                        if (!why[0] && sb_buf_append(&r->cells, "\"", 1))
                                bad(why, why_size, too_long);
                        st = ST_QUOTED;
                        continue;
                }
                if (ch == r->delim) {
                        end_field(r, why, why_size);
                        st = ST_START;
                        continue;
                }
                if (ch == '\n') {
                        end_field(r, why, why_size);
                        break;
                }
                if (ch == '\r') {
                        int next = getc_unlocked(f);
                        if (next == '\n') {
                                (*consumed)++;
                                (*line)++;
                                end_field(r, why, why_size);
                                break;
                        }
                        if (next != EOF)
                                ungetc(next, f);
                }
                if (st == ST_START && ch == '"') {
                        r->quoted[r->nf < CSV_RECORD_MAX_FIELDS ? r->nf : 0] = 1;
                        st = ST_QUOTED;
                        continue;
                }
                if (st == ST_QUOTE_SEEN)
                        bad(why, why_size,
                            "text after a closing quote (a quote inside a quoted field is doubled)");
                else if (ch == '"')
                        bad(why, why_size,
                            "a quote inside an unquoted field (quote the whole field and double the quote)");
                st = ST_UNQUOTED;
                if (!why[0] && sb_buf_append(&r->cells, &(char){(char)ch}, 1))
                        bad(why, why_size, too_long);
        }
        return why[0] ? CSV_RECORD_BAD : CSV_RECORD_OK;
}

size_t csv_record_count(const csv_record_t *r) { return r->nf; }

const char *csv_record_cell(const csv_record_t *r, size_t i) {
        return (const char *)r->cells.data + r->starts[i];
}

size_t csv_record_len(const csv_record_t *r, size_t i) { return r->lens[i]; }

int csv_record_quoted(const csv_record_t *r, size_t i) { return r->quoted[i]; }

int csv_record_blank(const csv_record_t *r) { return r->nf == 1 && r->lens[0] == 0 && !r->quoted[0]; }

#include "sources/source.h"

#include <stdlib.h>
#include <string.h>

/* One line per kind of source: its header and its entry below. */
#include "sources/source_csv.h"
#include "sources/source_jsonl.h"
#include "sources/pg_sql.h"
#include "sources/source_postgresql.h"
#include "sources/source_sqlite.h"
#include "sources/sqlite_sql.h"

static const source_ops_t *const all_sources[] = {
        &source_jsonl_ops, &source_sqlite_ops, &source_csv_ops, &source_postgresql_ops, NULL,
};

const char *const source_kinds[] = {
        "jsonl", "sqlite", "csv", "postgresql", NULL,
};

struct source_s {
        const source_ops_t *ops;
        void *state;
        int reopenable;
};

sb_err_t source_new(const sb_config_t *cfg, const source_options_t *opts, sb_log_t *log, source_t **out,
                    char *errstr, size_t errstr_size) {
        const source_ops_t *ops = opts->ops; /* a test's own source */
        sb_err_t err;
        if (!ops) {
                if ((err = sb_config_check_choice(cfg, "source", source_kinds, errstr, errstr_size)))
                        return err;
                const char *kind = sb_config_string(cfg, "source");
                for (size_t i = 0; all_sources[i]; i++)
                        if (strcmp(all_sources[i]->name, kind) == 0)
                                ops = all_sources[i];
                if (!ops)
                        return sb_seterr(SB_ERR_CONFIG, errstr, errstr_size, "source '%s' is not compiled in",
                                         kind);
        }
        source_t *src = calloc(1, sizeof(*src));
        if (!src)
                return sb_seterr(SB_ERR_NOMEM, errstr, errstr_size, "out of memory");
        src->ops = ops;
        /* Standard input is the one source that cannot be read again. */
        const char *input = sb_config_string(cfg, "input");
        src->reopenable = !(strcmp(ops->name, "jsonl") == 0 && input && strcmp(input, "-") == 0);
        if ((err = ops->open(cfg, opts, log, &src->state, errstr, errstr_size))) {
                free(src);
                return err;
        }
        *out = src;
        return SB_OK;
}

void source_destroy(source_t *src) {
        if (!src)
                return;
        src->ops->close(src->state);
        free(src);
}

sb_err_t source_next(source_t *src, size_t max, int timeout_ms, source_batch_t *out, char *errstr,
                     size_t errstr_size) {
        out->records = NULL;
        out->count = 0;
        return src->ops->next(src->state, max, timeout_ms, out, errstr, errstr_size);
}

sb_err_t source_ack(source_t *src, uint64_t position, char *errstr, size_t errstr_size) {
        if (position == 0)
                return SB_OK;
        return src->ops->ack(src->state, position, errstr, errstr_size);
}

void source_stats(source_t *src, source_stats_t *out) {
        out->backlog = out->oldest_age_ms = out->bytes_total = out->bytes_done = -1;
        if (src->ops->stats)
                src->ops->stats(src->state, out);
}

const char *source_name(const source_t *src) { return src->ops->name; }

int source_reopenable(const source_t *src) { return src->reopenable; }

sb_err_t source_print_ddl(const char *kind, FILE *out, const sb_config_t *cfg, const char *table,
                          const source_options_t *opts, char *errstr, size_t errstr_size) {
        const char *outbox = sb_config_string(cfg, "outbox_table");
        if (strcmp(kind, "sqlite") == 0)
                return sqlite_sql_print_ddl(out, outbox, table, opts->dataset, opts->key_record,
                                            opts->row_record, errstr, errstr_size);
        if (strcmp(kind, "postgresql") == 0)
                return pg_sql_print_ddl(out, outbox, table, opts->dataset, opts->key_record, errstr,
                                        errstr_size);
        return sb_seterr(SB_ERR_CONFIG, errstr, errstr_size,
                         "--print-ddl %s: no outbox source of that kind (sqlite, postgresql)", kind);
}

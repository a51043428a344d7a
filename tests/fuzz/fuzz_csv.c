/*
 * fuzz_csv: CSV input as the producer reads it: csv_record (one RFC 4180
 * record from a stream, its bounds) and source_csv (header mapping, cells
 * typed by the schema, change lines), on the edge dataset of
 * tests/fuzz/data, whose row has every kind of type.
 *
 * The first input byte chooses the variant, the rest is the file:
 *   bits 0-1  the delimiter: , ; TAB |
 *   bit 2     the target writes the header (all the edge row's fields),
 *             so that the rows, not the header, get the mutations
 *   bit 3     with it, a last column "op" (csv_op_column)
 *   bits 4-7  max_line_bytes: 256 << (n % 6), so the length bound is met
 * The file goes to a temporary folder made at start, and is read to its
 * end through the source interface with checkpoints off.
 *
 * Invariants (source_csv.h, csv_record.h): records are read to the end of
 * the input, the bytes consumed add up to its size and the lines counted
 * to its newlines; no record has more than CSV_RECORD_MAX_FIELDS fields;
 * every line the source hands over is valid JSON: an error line
 * {"source_error": "..."} or a change line sb_change_line_parse accepts
 * (but for an op column's cell that is not c, u, d or r, which the parser
 * then refuses, and the producer rejects, as a JSON line's).
 */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "change_line.h"
#include "dataset.h"
#include "fuzzutil.h"
#include "producer_settings.h"
#include "sb_config.h"
#include "sources/csv_record.h"
#include "sources/json_text.h"
#include "sources/source.h"

static const char delims[] = ",;\t|";
static const char *const fields[] = {"id", "i",  "d",   "f", "b",   "s",  "ns", "e",
                                     "dt", "ts", "arr", "m", "rec", "by", "fx", "u"};
#define N_FIELDS (sizeof(fields) / sizeof(*fields))

static sb_dataset_t *edge;
static char dir[64], file[128];

static void remove_dir(void) {
        sb_dataset_destroy(edge);
        unlink(file);
        rmdir(dir);
}

int LLVMFuzzerInitialize(int *argc, char ***argv) {
        (void)argc, (void)argv;
        edge = fuzz_dataset("tests/fuzz/data", "t.edge");
        snprintf(dir, sizeof(dir), "/tmp/sharebus-fuzz-csv-XXXXXX");
        if (!mkdtemp(dir))
                fuzz_fail("mkdtemp %s", dir);
        snprintf(file, sizeof(file), "%s/in.csv", dir);
        atexit(remove_dir);
        return 0;
}

/* csv_record alone, over the bytes in memory. */
static void read_records(const uint8_t *data, size_t size, char delim, size_t max) {
        char err[256], why[256];
        csv_record_t *r = NULL;
        if (csv_record_new(delim, max, &r, err, sizeof(err)))
                fuzz_fail("csv_record_new: %s", err);
        FILE *f = fmemopen((void *)data, size, "r");
        if (!f)
                fuzz_fail("fmemopen");
        unsigned long lines = 0;
        uint64_t total = 0;
        for (;;) {
                uint64_t used = 0;
                csv_record_status_t st = csv_record_read(r, f, &lines, &used, why, sizeof(why));
                if (st == CSV_RECORD_EOF)
                        break;
                if (used == 0)
                        fuzz_fail("csv_record_read: a record of 0 bytes (it would never end)");
                total += used;
                if (st == CSV_RECORD_BAD && !*why)
                        fuzz_fail("csv_record_read: a bad record without a reason");
                if (st == CSV_RECORD_OK) {
                        size_t n = csv_record_count(r);
                        if (n == 0 || n > CSV_RECORD_MAX_FIELDS)
                                fuzz_fail("csv_record_read: %zu fields", n);
                        for (size_t i = 0; i < n; i++)
                                if (csv_record_cell(r, i)[csv_record_len(r, i)] != '\0')
                                        fuzz_fail("csv_record_cell: field %zu is not NUL-terminated", i);
                }
        }
        size_t newlines = 0;
        for (size_t i = 0; i < size; i++)
                newlines += data[i] == '\n';
        if (total != size || lines != newlines)
                fuzz_fail("csv_record_read: %llu of %zu bytes consumed, %lu of %zu lines counted",
                          (unsigned long long)total, size, lines, newlines);
        fclose(f);
        csv_record_destroy(r);
}

static void check_line(const char *text, size_t len, const char *where) {
        json_error_t jerr;
        json_t *doc = json_loadb(text, len, JSON_REJECT_DUPLICATES, &jerr);
        if (!json_is_object(doc))
                fuzz_fail("%s: the source handed over no JSON object (%s): %.*s", where, jerr.text, (int)len,
                          text);
        json_t *e = json_object_get(doc, JSON_TEXT_ERROR_MEMBER);
        if (e) {
                if (!json_is_string(e) || json_object_size(doc) != 1)
                        fuzz_fail("%s: a malformed error line: %.*s", where, (int)len, text);
        } else {
                /* An op column's cell is passed as written: the parser
                 * refuses a bad one, as for a JSON line; nothing else. */
                char err[1024];
                sb_change_line_t cl;
                const char *op = json_string_value(json_object_get(doc, "op"));
                int op_ok = op && strlen(op) == 1 && strchr("cudr", *op);
                if (sb_change_line_parse(text, len, &cl, err, sizeof(err)) == SB_OK)
                        sb_change_line_clear(&cl);
                else if (op_ok || !json_is_object(json_object_get(doc, "key")))
                        fuzz_fail("%s: a change line the parser refuses (%s): %.*s", where, err, (int)len,
                                  text);
        }
        json_decref(doc);
}

/* source_csv over the file, to its end. */
static void read_source(char delim, int op_column, size_t max) {
        char text[1024], err[1024] = "";
        sb_config_t *cfg = NULL;
        source_t *src = NULL;
        snprintf(text, sizeof(text),
                 "department = \"t\"; dataset = \"edge\"; registry_url = \"http://x\";\n"
                 "source = \"csv\"; input = \"%s\"; checkpoint_file = \"none\";\n"
                 "max_line_bytes = %zu; csv_delimiter = \"%s%c\";\n%s",
                 file, max, delim == '\t' ? "\\" : "", delim == '\t' ? 't' : delim,
                 op_column ? "csv_op_column = \"op\";\n" : "");
        if (sb_config_load_string(text, "fuzz.conf", sb_producer_settings, sb_producer_settings_count, &cfg,
                                  err, sizeof(err)))
                fuzz_fail("config: %s", err);
        source_options_t opts = {.department = "t",
                                 .dataset = "edge",
                                 .key_record = sb_schema_root(sb_dataset_key_schema(edge)),
                                 .row_record = sb_dataset_row(edge)};
        if (source_new(cfg, &opts, fuzz_log(), &src, err, sizeof(err)) == SB_OK) {
                for (int batches = 0;; batches++) {
                        source_batch_t b;
                        sb_err_t rc = source_next(src, 64, 0, &b, err, sizeof(err));
                        if (rc == SB_ERR_NOT_FOUND)
                                break;
                        if (rc)
                                fuzz_fail("source_next: %s", err);
                        if (b.count == 0 && batches > 100000)
                                fuzz_fail("source_next: no end of the file");
                        for (size_t i = 0; i < b.count; i++)
                                check_line(b.records[i].text, b.records[i].len, b.records[i].where);
                }
                source_destroy(src);
        } else if (!*err) {
                fuzz_fail("source_new failed without a reason");
        }
        sb_config_destroy(cfg);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        if (size < 1)
                return 0;
        char delim = delims[data[0] & 3];
        int header = data[0] & 4, op_column = header && (data[0] & 8);
        size_t max = (size_t)256 << ((data[0] >> 4) % 6);
        data++, size--;

        read_records(data, size, delim, max);

        FILE *f = fopen(file, "w");
        if (!f)
                fuzz_fail("cannot write %s", file);
        for (size_t i = 0; header && i < N_FIELDS; i++)
                fprintf(f, "%s%c", fields[i], i + 1 < N_FIELDS ? delim : op_column ? delim : '\n');
        if (op_column)
                fputs("op\n", f);
        if (size && fwrite(data, 1, size, f) != size)
                fuzz_fail("cannot write %s", file);
        if (fclose(f))
                fuzz_fail("cannot write %s", file);
        read_source(delim, op_column, max);
        unlink(file);
        return 0;
}

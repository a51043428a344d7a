#include "producer_settings.h"

#include "producer.h"

#include "sb_http_server.h"
#include "sb_registry_settings.h"

/* A number macro as a string literal, for help texts that name it. */
#define AS_TEXT_(x) #x
#define AS_TEXT(x) AS_TEXT_(x)

const sb_setting_t sb_producer_settings[] = {
        {"department", SB_SETTING_STRING, 1, NULL, 0, 0, "department that owns the dataset, e.g. market"},
        {"dataset", SB_SETTING_STRING, 1, NULL, 0, 0, "dataset name; the topic is <department>.<dataset>"},
        {"system", SB_SETTING_STRING, 0, "sharebus-producer", 0, 0,
         "name of the source system, written to source.system of each event"},
        {"schema_dir", SB_SETTING_STRING, 0, "schemas/datasets", 0, 0,
         "folder holding <topic>.key.avsc and <topic>.row.avsc"},
        {"registry_url", SB_SETTING_STRING, 1, NULL, 0, 0,
         "schema registry URL(s), comma-separated, e.g. http://127.0.0.1:8081"},
        SB_REGISTRY_CLIENT_SETTINGS,
        {"source", SB_SETTING_STRING, 0, "jsonl", 0, 0,
         "where the changes come from: jsonl (a file or directory of JSON lines, or standard input), csv (a "
         "file or directory of CSV), sqlite (an outbox table in a SQLite database), postgresql (an outbox "
         "table in a PostgreSQL database)"},
        {"input", SB_SETTING_STRING, 0, "-", 0, 0,
         "jsonl/csv: the file, or a directory watched for new files; - for standard input"},
        /* ---- outbox sources (sqlite; outbox_table, outbox_retention_ms and
         * snapshot_table are shared with postgresql) ---- */
        {"sqlite_outbox_path", SB_SETTING_STRING, 0, NULL, 0, 0,
         "source sqlite: the department's SQLite database file that holds the outbox table"},
        {"outbox_table", SB_SETTING_STRING, 0, "sharebus_outbox", 0, 0,
         "outbox sources: the outbox table (an SQL identifier); --print-ddl prints its DDL"},
        {"outbox_retention_ms", SB_SETTING_INT, 0, "604800000", 0, 315360000000LL,
         "outbox sources: how long sent rows stay in the outbox before they are deleted (0: at once)"},
        {"snapshot_table", SB_SETTING_STRING, 0, NULL, 0, 0,
         "--snapshot: the business table whose current rows are published first (op r)"},
        {"postgresql_conninfo", SB_SETTING_STRING, 0, NULL, 0, 0,
         "source postgresql: libpq connection string of the department's database, e.g. \"host=db1 "
         "dbname=market user=sharebus\""},
        {"outbox_poll_ms", SB_SETTING_INT, 0, "200", 10, 60000,
         "source sqlite: sleep between reads of an empty outbox (SQLite cannot notify across processes)"},
        {"sqlite_busy_timeout_ms", SB_SETTING_INT, 0, "5000", 0, 600000,
         "source sqlite: how long to wait for the application's write lock before an ack fails (and is "
         "retried)"},
        /* File sources (jsonl, csv): producers/sources/file_input.h, source_csv.h. */
        {"checkpoint_file", SB_SETTING_STRING, 0, NULL, 0, 0,
         "jsonl/csv: where how far the input was published is kept, so a restart resumes after the last "
         "acknowledged record; default <input>.sharebus-checkpoint beside the file or directory, none for "
         "standard input; \"none\" for no checkpoint"},
        {"checkpoint_interval_ms", SB_SETTING_INT, 0, "1000", 0, 3600000,
         "jsonl/csv: the checkpoint is written at most this often (and at the end): a crash publishes at "
         "most this much again"},
        {"max_outbox_row_bytes", SB_SETTING_INT, 0, "16777216", 256, 16777216,
         "sqlite/postgresql: largest outbox or snapshot row (the JSON of key, before and after together); a "
         "larger one is rejected with its size (PostgreSQL measures it in the server and never sends it)"},
        {"max_line_bytes", SB_SETTING_INT, 0, "4194304", 256, 1073741824,
         "jsonl/csv: longest line or CSV row; a longer one is rejected with the reason"},
        {"csv_columns", SB_SETTING_STRING, 0, NULL, 0, 0,
         "csv: header names mapped to fields, e.g. \"LicenceNo=uscc,Name=name,Remarks=-\" (- ignores a "
         "column); other headers must be field names"},
        {"csv_op", SB_SETTING_STRING, 0, "r", 0, 0, "csv: op of every row: r (a snapshot of rows), c or u"},
        {"csv_op_column", SB_SETTING_STRING, 0, NULL, 0, 0,
         "csv: column holding each row's op (c, u, d or r) instead of csv_op"},
        {"csv_delimiter", SB_SETTING_STRING, 0, ",", 0, 0, "csv: the field separator, one character"},
        {"flush_timeout_ms", SB_SETTING_INT, 0, "60000", 1000, 3600000,
         "how long to wait at the end for outstanding delivery reports"},
        {"rejects_topic", SB_SETTING_STRING, 0, "", 0, 0,
         "topic that keeps the records that cannot be published; empty for rejects.<department>"},
        {"batch_size", SB_SETTING_INT, 0, "1024", 1, SB_PRODUCER_WINDOW / 2,
         "records read from the source at a time (at most half of the " AS_TEXT(
                 SB_PRODUCER_WINDOW) " records in flight)"},
        {"poll_timeout_ms", SB_SETTING_INT, 0, "500", 1, 60000,
         "how long a read of the source waits for new records when nothing is in flight"},
        {"ack_interval_ms", SB_SETTING_INT, 0, "200", 0, 60000,
         "at most this long between acknowledgements to the source (checkpoint, rows marked sent)"},
        {"retry_backoff_max_ms", SB_SETTING_INT, 0, "5000", 100, 600000,
         "longest wait between retries after a failed delivery or source error"},
        SB_METRICS_SETTINGS,
        {"log_level", SB_SETTING_STRING, 0, "info", 0, 0, "error, warn, info or debug"},
};

const size_t sb_producer_settings_count = sizeof(sb_producer_settings) / sizeof(*sb_producer_settings);

#include "producer_settings.h"

#include "sb_registry_settings.h"

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
         "where the changes come from: jsonl (a file of JSON lines, or standard input)"},
        {"input", SB_SETTING_STRING, 0, "-", 0, 0,
         "file of change events as JSON lines; - for standard input"},
        /* source = "postgresql" (sources/source_postgresql.h) */
        {"postgresql_conninfo", SB_SETTING_STRING, 0, NULL, 0, 0,
         "libpq connection string of the department's database, e.g. \"host=db1 dbname=market "
         "user=sharebus\""},
        {"outbox_table", SB_SETTING_STRING, 0, "sharebus_outbox", 0, 0,
         "outbox table (lower-case SQL identifier, optionally schema.table); --print-ddl postgresql creates "
         "it"},
        {"outbox_retention_ms", SB_SETTING_INT, 0, "604800000", 0, 315360000000LL,
         "sent outbox rows older than this are deleted (0: as soon as they are sent)"},
        {"snapshot_table", SB_SETTING_STRING, 0, NULL, 0, 0,
         "business table whose rows --snapshot publishes (op r) before the outbox"},
        {"flush_timeout_ms", SB_SETTING_INT, 0, "60000", 1000, 3600000,
         "how long to wait at the end for outstanding delivery reports"},
        {"log_level", SB_SETTING_STRING, 0, "info", 0, 0, "error, warn, info or debug"},
};

const size_t sb_producer_settings_count = sizeof(sb_producer_settings) / sizeof(*sb_producer_settings);

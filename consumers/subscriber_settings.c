#include "subscriber_settings.h"

#include <string.h>

#include "sb_http_server.h"
#include "sb_registry_settings.h"

const sb_setting_t sb_subscriber_settings[] = {
        {"name", SB_SETTING_STRING, 1, NULL, 0, 0,
         "subscriber name: consumer group sharebus.<name>, dead letters to dlq.<name>"},
        {"topics", SB_SETTING_STRING, 1, NULL, 0, 0,
         "dataset topics to apply, comma-separated, e.g. market.business_license,civil.resident"},
        {"registry_url", SB_SETTING_STRING, 1, NULL, 0, 0, "schema registry URL(s), comma-separated"},
        SB_REGISTRY_CLIENT_SETTINGS,
        {"target", SB_SETTING_STRING, 0, "sqlite", 0, 0, "target database kind: sqlite or postgresql"},
        {"sqlite_path", SB_SETTING_STRING, 0, "sharebus.db", 0, 0,
         "target sqlite: SQLite database file (created if absent); one table per topic, dots as underscores"},
        {"postgresql_conninfo", SB_SETTING_STRING, 0, NULL, 0, 0,
         "target postgresql: libpq connection string of the subscriber's database, e.g. \"host=db1 "
         "dbname=tax user=sharebus\"; one table per topic, dots as underscores"},
        {"dlq_topic", SB_SETTING_STRING, 0, "", 0, 0,
         "dead-letter topic for records that cannot be applied (empty: dlq.<name>)"},
        {"batch_size", SB_SETTING_INT, 0, "500", 1, 100000,
         "most records applied in one database transaction"},
        {"poll_timeout_ms", SB_SETTING_INT, 0, "200", 1, 60000, "how long one poll waits for records"},
        {"retry_backoff_max_ms", SB_SETTING_INT, 0, "30000", 100, 600000,
         "longest wait between retries while the database or registry is down"},
        {"idle_exit_ms", SB_SETTING_INT, 0, "0", 0, 86400000,
         "stop after this long without records (0: run until SIGINT/SIGTERM)"},
        {"mode", SB_SETTING_STRING, 0, "state", 0, 0,
         "state: one current row per key in <table>; history: every event appended to <table>_history "
         "with sharebus_event_id, sharebus_op, sharebus_ts_ms and sharebus_seq"},
        {"receipts", SB_SETTING_BOOL, 0, "true", 0, 0,
         "record each applied event (topic, partition, offset, event_id, op, time) in sharebus_receipts"},
        {"datasets", SB_SETTING_TREE, 0, NULL, 0, 0,
         "per topic: ( { topic = \"civil.resident\"; table = \"resident\"; clear = [\"name\"]; steps = ( "
         "{ filter = \"district_code\"; prefix = \"3701\"; }, { mask = \"phone\"; keep_last = 4; } ); } ): "
         "the table, the personal fields kept in clear and the transform steps (README: Transforms)"},
        {"personal_policy", SB_SETTING_STRING, 0, "mask", 0, 0,
         "what happens to a personal or sensitive field no step or clear list decides about: mask "
         "(strings masked, key fields hashed, others NULL), hash (HMAC-SHA256) or clear (kept)"},
        {"hash_key_file", SB_SETTING_STRING, 0, "", 0, 0,
         "file holding the secret key (16 to 4096 bytes) of hash steps and of the hash policy"},
        {"max_record_bytes", SB_SETTING_INT, 0, "16777216", 1024, 268435456,
         "largest record key or value decoded; a larger one is dead-lettered (class decode) without being "
         "decoded"},
        SB_METRICS_SETTINGS,
        {"log_level", SB_SETTING_STRING, 0, "info", 0, 0, "error, warn, info or debug"},
};

const size_t sb_subscriber_settings_count = sizeof(sb_subscriber_settings) / sizeof(*sb_subscriber_settings);

sb_err_t sb_subscriber_settings_check(const sb_config_t *cfg, char *errstr, size_t errstr_size) {
        static const char *const targets[] = {"sqlite", "postgresql", NULL},
                                 *const modes[] = {"state", "history", NULL},
                                 *const policies[] = {"mask", "hash", "clear", NULL};
        sb_err_t err = sb_config_check_choice(cfg, "target", targets, errstr, errstr_size);
        if (!err)
                err = sb_config_check_choice(cfg, "mode", modes, errstr, errstr_size);
        if (!err)
                err = sb_config_check_choice(cfg, "personal_policy", policies, errstr, errstr_size);
        if (err)
                return err;
        /* Caught before anything is started, as a bad choice is. */
        const char *conninfo = sb_config_string(cfg, "postgresql_conninfo");
        if (strcmp(sb_config_string(cfg, "target"), "postgresql") == 0 && (!conninfo || !*conninfo))
                return sb_seterr(SB_ERR_CONFIG, errstr, errstr_size,
                                 "%s: setting 'postgresql_conninfo' is required with target = \"postgresql\"",
                                 sb_config_origin(cfg));
        return SB_OK;
}

#include "lag/lag_settings.h"

const sb_setting_t sb_lag_settings[] = {
        {"groups", SB_SETTING_STRING, 0, "", 0, 0,
         "consumer groups to watch, comma-separated, e.g. sharebus.tax,sharebus.health; empty: every group"},
        {"interval_ms", SB_SETTING_INT, 0, "30000", 100, 3600000, "how often the offsets are sampled"},
        {"window", SB_SETTING_INT, 0, "10", 2, 1000,
         "samples kept per partition and judged together (Burrow's rules): STOP after window x interval_ms "
         "without a commit while behind"},
        {"request_timeout_ms", SB_SETTING_INT, 0, "10000", 100, 600000,
         "how long one Admin API request of a sample may take"},
        {"metrics_listen", SB_SETTING_STRING, 0, "127.0.0.1:9470", 0, 0,
         "host:port of the HTTP API (/api/v1/groups, /api/v1/groups/<group>), /metrics and /healthz; "
         "0.0.0.0:9470 for every interface, port 0 for a free one (logged); empty: none"},
        {"log_level", SB_SETTING_STRING, 0, "info", 0, 0, "error, warn, info or debug"},
};

const size_t sb_lag_settings_count = sizeof(sb_lag_settings) / sizeof(*sb_lag_settings);

#include "lag/lag_settings.h"

#include <jansson.h>
#include <string.h>

#include "sb_http_server.h"
#include "sb_registry_settings.h"

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
         "host:port of the dashboard (/), the HTTP API (/api/v1/groups, /api/v1/groups/<group>, "
         "/api/v1/history, /api/v1/scorecard), /metrics and /healthz; "
         "0.0.0.0:9470 for every interface, port 0 for a free one (logged); empty: none"},
        SB_HTTP_SERVER_SETTINGS,
        {"history", SB_SETTING_INT, 0, "240", 2, 100000,
         "samples of each group's lag kept for the dashboard's chart (240 at 30 s: two hours)"},
        {"dashboard_dir", SB_SETTING_STRING, 0, "", 0, 0,
         "folder of the dashboard's files (index.html, dashboard.js, uPlot); empty: "
         "<program's folder>/../share/sharebus/dashboard, and no dashboard (a warning) if it is missing"},
        {"scorecard_interval_ms", SB_SETTING_INT, 0, "60000", 1000, 86400000,
         "how often the scorecard's counts (changes per hour and day of every topic, the registry's "
         "datasets) are taken"},
        {"registry_url", SB_SETTING_STRING, 0, "", 0, 0,
         "schema registry URL(s), comma-separated, for the scorecard's datasets and their schema versions; "
         "empty: the datasets are the topics alone"},
        SB_REGISTRY_CLIENT_SETTINGS,
        {"thresholds", SB_SETTING_TREE, 0, NULL, 0, 0,
         "per group: ( { group = \"sharebus.tax\"; lag = 10000; lag_seconds = 300; } ): a group more "
         "messages "
         "behind, or whose oldest unread change is older, is at least WARN"},
        {"webhook_url", SB_SETTING_STRING, 0, "", 0, 0,
         "http(s) URL that each change of a group's status is POSTed to as JSON; empty: only the log line"},
        {"webhook_retries", SB_SETTING_INT, 0, "5", 0, 100,
         "tries again after a POST that failed, before giving up"},
        {"webhook_backoff_ms", SB_SETTING_INT, 0, "1000", 10, 600000,
         "wait before the first retry, doubling up to 30 s"},
        {"webhook_timeout_ms", SB_SETTING_INT, 0, "5000", 100, 600000, "how long one POST may take"},
        {"log_level", SB_SETTING_STRING, 0, "info", 0, 0, "error, warn, info or debug"},
};

const size_t sb_lag_settings_count = sizeof(sb_lag_settings) / sizeof(*sb_lag_settings);

sb_err_t lag_settings_thresholds(const sb_config_t *cfg, lag_monitor_t *m, char *errstr, size_t errstr_size) {
        const json_t *list = sb_config_tree(cfg, "thresholds");
        if (!list)
                return SB_OK;
        const char *origin = sb_config_origin(cfg);
        if (!json_is_array(list))
                return sb_seterr(
                        SB_ERR_CONFIG, errstr, errstr_size,
                        "%s:%d: setting 'thresholds': a list of groups, ( { group = \"...\"; lag = N; } )",
                        origin, sb_config_line(cfg, "thresholds"));
        size_t i;
        const json_t *g;
        json_array_foreach(list, i, g) {
                int line = json_is_object(g) ? sb_config_tree_line(g) : sb_config_line(cfg, "thresholds");
                const json_t *group = json_object_get(g, "group");
                const json_t *lag = json_object_get(g, "lag");
                const json_t *secs = json_object_get(g, "lag_seconds");
                const char *key;
                const json_t *v;
                json_object_foreach((json_t *)g, key, v) { /* (a non-object has no keys) */
                        if (strcmp(key, "@line") != 0 && strcmp(key, "group") != 0 &&
                            strcmp(key, "lag") != 0 && strcmp(key, "lag_seconds") != 0)
                                return sb_seterr(
                                        SB_ERR_CONFIG, errstr, errstr_size,
                                        "%s:%d: setting 'thresholds': unknown '%s' (group, lag, lag_seconds)",
                                        origin, line, key);
                }
                if (!json_is_object(g) || !json_is_string(group) || (lag && !json_is_integer(lag)) ||
                    (secs && !json_is_number(secs)) || (!lag && !secs))
                        return sb_seterr(
                                SB_ERR_CONFIG, errstr, errstr_size,
                                "%s:%d: setting 'thresholds': each needs group = \"...\" and lag = N "
                                "(messages) or lag_seconds = S",
                                origin, line);
                long long max_lag = lag ? json_integer_value(lag) : 0;
                double max_secs = secs ? json_number_value(secs) : 0;
                if (max_lag < 0 || max_secs < 0)
                        return sb_seterr(SB_ERR_CONFIG, errstr, errstr_size,
                                         "%s:%d: setting 'thresholds': lag and lag_seconds are not negative",
                                         origin, line);
                if (lag_monitor_set_threshold(m, json_string_value(group), max_lag, max_secs))
                        return sb_seterr(SB_ERR_NOMEM, errstr, errstr_size, "out of memory");
        }
        return SB_OK;
}

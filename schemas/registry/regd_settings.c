#include "regd_settings.h"

const sb_setting_t regd_settings[] = {
        {"listen_host", SB_SETTING_STRING, 0, "127.0.0.1", 0, 0,
         "address to listen on (only this one is bound; 0.0.0.0 for all IPv4)"},
        {"listen_port", SB_SETTING_INT, 0, "8081", 0, 65535, "TCP port of the REST API; 0 picks a free port"},
        {"threads", SB_SETTING_INT, 0, "4", 1, 64, "HTTP worker threads"},
        {"storage", SB_SETTING_STRING, 0, "kafka", 0, 0,
         "kafka: state in the schemas topic, shared by every instance; memory: this process only (tests, "
         "trials)"},
        {"schemas_topic", SB_SETTING_STRING, 0, "_sharebus_schemas", 0, 0,
         "compacted single-partition topic holding every change (created if missing)"},
        {"topic_replication_factor", SB_SETTING_INT, 0, "1", 1, 16,
         "replication factor used when the registry creates the schemas topic (3 in production)"},
        {"startup_timeout_ms", SB_SETTING_INT, 0, "60000", 1000, 3600000,
         "how long to wait for Kafka and for replaying the schemas topic at start"},
        {"users_file", SB_SETTING_STRING, 0, "", 0, 0,
         "principals allowed to change the registry, one name:role:department:hash line each (make lines "
         "with sharebus-passwd); empty: no authorization, every client may change everything"},
        {"reads_need_auth", SB_SETTING_BOOL, 0, "false", 0, 0,
         "with users_file: reads (GET, lookups, compatibility tests) need credentials too; otherwise "
         "anonymous clients may read"},
        {"tls_cert_file", SB_SETTING_STRING, 0, "", 0, 0,
         "PEM certificate (chain) of the registry; with tls_key_file the API is served over HTTPS only"},
        {"tls_key_file", SB_SETTING_STRING, 0, "", 0, 0, "PEM private key of tls_cert_file (not encrypted)"},
        {"tls_client_ca_file", SB_SETTING_STRING, 0, "", 0, 0,
         "PEM CA certificates whose client certificates are accepted; a certificate's subject CN is the "
         "users_file principal it logs in as"},
        {"max_body_bytes", SB_SETTING_INT, 0, "16777216", 1024, 16777216,
         "largest request body; a larger one is refused with 413 before it is read (or as soon as it is "
         "over)"},
        {"max_schema_bytes", SB_SETTING_INT, 0, "16777216", 64, 16777216,
         "largest schema text a registration may have; a larger one is 422, error code 42201"},
        {"max_schema_depth", SB_SETTING_INT, 0, "64", 1, 64,
         "deepest nesting of types in a registered schema (a field's type, a union branch, items and values "
         "one level down); deeper is 422, error code 42201"},
        {"max_connections", SB_SETTING_INT, 0, "1000", 1, 100000,
         "most client connections at once; one more is closed as soon as it is accepted (and logged, at "
         "most once a second)"},
        {"max_connections_per_ip", SB_SETTING_INT, 0, "0", 0, 100000,
         "most connections at once from one client address, one more closed as soon as it is accepted; 0: "
         "no limit but max_connections"},
        {"log_level", SB_SETTING_STRING, 0, "info", 0, 0, "error, warn, info or debug"},
        {"port_file", SB_SETTING_STRING, 0, "", 0, 0,
         "if set, the bound port is written to this file once listening (for tests using port 0)"},
};

const size_t regd_settings_count = sizeof(regd_settings) / sizeof(*regd_settings);

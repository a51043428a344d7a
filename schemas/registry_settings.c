#include "registry_settings.h"

const sb_setting_t sb_registry_settings[] = {
        {"listen_host", SB_SETTING_STRING, 0, "127.0.0.1", 0, 0,
         "address to listen on (only this one is bound; 0.0.0.0 for all IPv4)"},
        {"listen_port", SB_SETTING_INT, 0, "8081", 0, 65535, "TCP port of the REST API; 0 picks a free port"},
        {"threads", SB_SETTING_INT, 0, "4", 1, 64, "HTTP worker threads"},
        {"log_level", SB_SETTING_STRING, 0, "info", 0, 0, "error, warn, info or debug"},
        {"port_file", SB_SETTING_STRING, 0, "", 0, 0,
         "if set, the bound port is written to this file once listening (for tests using port 0)"},
};

const size_t sb_registry_settings_count = sizeof(sb_registry_settings) / sizeof(*sb_registry_settings);

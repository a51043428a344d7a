/*
 * sharebus-registry: the central schema registry, a Confluent Schema
 * Registry compatible HTTP server, its state kept in Kafka (regd_cmdlog.h)
 * or, for trials, in memory.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "regd_authz.h"
#include "regd_cmdlog.h"
#include "regd_http.h"
#include "regd_store.h"
#include "regd_settings.h"
#include "sb_cli.h"
#include "sb_config.h"
#include "sb_log.h"

#define PROGRAM "sharebus-registry"

static volatile sig_atomic_t stop_requested;

static void on_signal(int sig) {
        (void)sig;
        stop_requested = 1;
}

/* Writes the port to `path` through a temporary file and rename, so that
 * a test polling for the file never reads it half-written. */
static sb_err_t write_port_file(const char *path, unsigned port, char *errstr, size_t errstr_size) {
        char tmp[4096];
        if (snprintf(tmp, sizeof(tmp), "%s.tmp", path) >= (int)sizeof(tmp))
                return sb_seterr(SB_ERR_CONFIG, errstr, errstr_size, "port_file: path too long");
        FILE *f = fopen(tmp, "w");
        if (!f)
                return sb_seterr(SB_ERR_IO, errstr, errstr_size, "port_file %s: %s", tmp, strerror(errno));
        int bad = fprintf(f, "%u\n", port) < 0;
        bad |= fclose(f) != 0;
        if (bad || rename(tmp, path)) {
                sb_seterr(SB_ERR_IO, errstr, errstr_size, "port_file %s: %s", path, strerror(errno));
                unlink(tmp);
                return SB_ERR_IO;
        }
        return SB_OK;
}

int main(int argc, char **argv) {
        const sb_program_t prog = {
                PROGRAM,
                "The sharebus schema registry: a Confluent Schema Registry compatible REST "
                "API, its state in Kafka.",
                regd_settings,
                regd_settings_count,
                NULL,
                0};
        sb_config_t *cfg;
        sb_log_t *log;
        int rc = sb_cli_start(&prog, argc, argv, &cfg, &log);
        if (rc != SB_CLI_CONTINUE)
                return rc;
        rc = 1;
        char errstr[1024];

        /* Authorization and TLS: a bad file is a bad config (exit 2). */
        regd_authz_t *auth = NULL;
        sb_tls_t *tls = NULL;
        const char *users_file = sb_config_string(cfg, "users_file");
        const char *tls_cert = sb_config_string(cfg, "tls_cert_file"),
                   *tls_key = sb_config_string(cfg, "tls_key_file");
        const char *tls_ca = sb_config_string(cfg, "tls_client_ca_file");
        if (*users_file && regd_authz_new(users_file, sb_config_bool(cfg, "reads_need_auth"), &auth, errstr,
                                          sizeof(errstr))) {
                fprintf(stderr, "%s: %s: users_file: %s\n", PROGRAM, sb_config_origin(cfg), errstr);
                sb_log_destroy(log);
                sb_config_destroy(cfg);
                return 2;
        }
        if ((*tls_cert || *tls_key || *tls_ca) &&
            regd_tls_new(tls_cert, tls_key, tls_ca, &tls, errstr, sizeof(errstr))) {
                fprintf(stderr, "%s: %s: %s\n", PROGRAM, sb_config_origin(cfg), errstr);
                regd_authz_destroy(auth);
                sb_log_destroy(log);
                sb_config_destroy(cfg);
                return 2;
        }

        regd_store_t *store = NULL;
        regd_http_t *srv = NULL;
        regd_cmdlog_t *rlog = NULL;
        if (!log || regd_store_new(&store, errstr, sizeof(errstr))) {
                fprintf(stderr, "%s: out of memory\n", PROGRAM);
                goto out;
        }

        struct sigaction sa;
        memset(&sa, 0, sizeof(sa));
        sa.sa_handler = on_signal;
        sigemptyset(&sa.sa_mask);
        sigaction(SIGINT, &sa, NULL);
        sigaction(SIGTERM, &sa, NULL);
        sa.sa_handler = SIG_IGN;
        sigaction(SIGPIPE, &sa, NULL);

        const char *host = sb_config_string(cfg, "listen_host");
        if (!auth)
                SB_LOG(log, SB_LOG_WARN,
                       "no users_file: every client may change every subject and the config");
        else if (*tls_ca)
                SB_LOG(log, SB_LOG_INFO, "%zu principals; client certificates of %s accepted",
                       regd_authz_count(auth), tls_ca);
        if (!auth && *tls_ca)
                SB_LOG(log, SB_LOG_WARN,
                       "tls_client_ca_file without users_file: certificates are not checked");
        /* State: replayed from the schemas topic (shared by every instance),
         * or in this process only. */
        const char *storage = sb_config_string(cfg, "storage");
        regd_submitter_t submitter = regd_store_direct_submitter(store);
        static const char *const storages[] = {"kafka", "memory", NULL};
        if (sb_config_check_choice(cfg, "storage", storages, errstr, sizeof(errstr))) {
                SB_LOG(log, SB_LOG_ERROR, "%s", errstr);
                rc = 2;
                goto out;
        }
        if (strcmp(storage, "kafka") == 0) {
                if (!sb_config_kafka_get(cfg, "bootstrap.servers")) {
                        SB_LOG(log, SB_LOG_ERROR,
                               "%s: storage \"kafka\" needs kafka = { bootstrap_servers = \"host:port\"; }",
                               sb_config_origin(cfg));
                        rc = 2;
                        goto out;
                }
                sb_err_t err = regd_cmdlog_new(store, cfg, sb_config_string(cfg, "schemas_topic"),
                                               (int)sb_config_int(cfg, "topic_replication_factor"),
                                               (int)sb_config_int(cfg, "startup_timeout_ms"), log, &rlog,
                                               errstr, sizeof(errstr));
                if (err) {
                        SB_LOG(log, SB_LOG_ERROR, "%s", errstr);
                        rc = err == SB_ERR_CONFIG ? 2 : 1;
                        goto out;
                }
                submitter = regd_cmdlog_submitter(rlog);
        } else {
                SB_LOG(log, SB_LOG_WARN, "storage \"memory\": schemas live only as long as this process");
        }
        const regd_http_limits_t limits = {
                .max_body_bytes = (size_t)sb_config_int(cfg, "max_body_bytes"),
                .max_schema_bytes = (size_t)sb_config_int(cfg, "max_schema_bytes"),
                .max_schema_depth = (int)sb_config_int(cfg, "max_schema_depth"),
                .max_connections = (unsigned)sb_config_int(cfg, "max_connections"),
                .max_connections_per_ip = (unsigned)sb_config_int(cfg, "max_connections_per_ip"),
        };
        sb_err_t herr = regd_http_new_limited(
                store, submitter, log, auth, tls, host, (unsigned)sb_config_int(cfg, "listen_port"),
                (unsigned)sb_config_int(cfg, "threads"), &limits, &srv, errstr, sizeof(errstr));
        if (herr) {
                SB_LOG(log, SB_LOG_ERROR, "%s: %s", sb_config_origin(cfg), errstr);
                rc = herr == SB_ERR_CONFIG ? 2 : 1; /* a limit below threads, a host that does not resolve */
                goto out;
        }
        unsigned port = regd_http_port(srv);
        const char *port_file = sb_config_string(cfg, "port_file");
        if (port_file && *port_file && write_port_file(port_file, port, errstr, sizeof(errstr))) {
                SB_LOG(log, SB_LOG_ERROR, "%s", errstr);
                goto out;
        }
        /* An IPv6 address is bracketed, as in a URL. */
        int v6 = strchr(host, ':') != NULL;
        SB_LOG(log, SB_LOG_INFO, "listening on %s://%s%s%s:%u", tls ? "https" : "http", v6 ? "[" : "", host,
               v6 ? "]" : "", port);

        while (!stop_requested) {
                struct timespec ts = {0, 100 * 1000 * 1000};
                nanosleep(&ts, NULL);
        }
        SB_LOG(log, SB_LOG_INFO, "stopping");
        rc = 0;
out:
        regd_http_destroy(srv);
        regd_cmdlog_destroy(rlog);
        sb_tls_destroy(tls);
        regd_authz_destroy(auth);
        regd_store_destroy(store);
        if (log && rc == 0)
                SB_LOG(log, SB_LOG_INFO, "stopped");
        sb_log_destroy(log);
        sb_config_destroy(cfg);
        return rc;
}

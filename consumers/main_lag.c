/*
 * sharebus-lag: watches the consumer groups' lag.  Every interval_ms it
 * samples each watched group's committed offsets and its partitions' log
 * end offsets (lag/lag_sampler.h), judges every partition's window by
 * Burrow's rules (lag/lag_status.h, lag/lag_monitor.h), logs each group's
 * status change, and serves the result: the dashboard at /, the API
 * (lag/lag_api.h), /metrics and /healthz.  Every scorecard_interval_ms it
 * also counts what every topic took in and reads the registry's datasets,
 * for the data-sharing scorecard (lag/lag_scorecard.h).
 */
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <curl/curl.h>

#include "lag/lag_alert.h"
#include "lag/lag_api.h"
#include "lag/lag_dashboard.h"
#include "lag/lag_history.h"
#include "lag/lag_monitor.h"
#include "lag/lag_sampler.h"
#include "lag/lag_scorecard.h"
#include "lag/lag_settings.h"
#include "sb_cli.h"
#include "sb_clock.h"
#include "sb_http_server.h"
#include "sb_log.h"
#include "sb_metrics.h"
#include "sb_registry_settings.h"

static volatile sig_atomic_t stop_requested;

static void on_signal(int sig) {
        (void)sig;
        stop_requested = 1;
}

/* What the sampler's thread and the HTTP server's share, under `lock`. */
typedef struct {
        pthread_mutex_t lock;
        lag_monitor_t *monitor;
        lag_history_t *history;
        lag_scorecard_t *scorecard; /* NULL until first counted */
        lag_dashboard_t *dashboard; /* NULL: none (no_dashboard says why) */
        char no_dashboard[512];
        lag_alert_t *alert; /* NULL: no webhook */
        int64_t now_ms;     /* of the sample being judged */
        int failing;        /* the last sample failed */
        char why[256];      /* and why */
} shared_t;

/* A group's status changed (the monitor logged it): to the webhook. */
static void on_change(void *opaque, const char *group, lag_status_t was, lag_status_t now,
                      const char *reason) {
        shared_t *sh = opaque;
        const lag_group_view_t *g = lag_monitor_find(sh->monitor, group);
        if (sh->alert)
                lag_alert_notify(sh->alert, group, was, now, reason, g ? g->lag : -1, g ? g->lag_seconds : -1,
                                 sh->now_ms);
}

static unsigned on_page(void *opaque, const char *path, sb_buf_t *body, const char **content_type) {
        shared_t *sh = opaque;
        pthread_mutex_lock(&sh->lock);
        const lag_api_sources_t src = {.monitor = sh->monitor,
                                       .history = sh->history,
                                       .scorecard = sh->scorecard,
                                       .dashboard = sh->dashboard,
                                       .no_dashboard = sh->no_dashboard};
        unsigned status = lag_api_answer(&src, path, body, content_type);
        pthread_mutex_unlock(&sh->lock);
        return status;
}

static sb_err_t on_metrics(void *opaque, sb_buf_t *out) {
        shared_t *sh = opaque;
        pthread_mutex_lock(&sh->lock);
        sb_err_t err = lag_monitor_render_metrics(sh->monitor, out);
        pthread_mutex_unlock(&sh->lock);
        return err;
}

static int on_health(void *opaque, char *reason, size_t size) {
        shared_t *sh = opaque;
        pthread_mutex_lock(&sh->lock);
        int ok = !sh->failing;
        if (!ok)
                snprintf(reason, size, "cannot sample the consumer groups: %s", sh->why);
        pthread_mutex_unlock(&sh->lock);
        return ok;
}

/* One sample's entries, copied, so that the monitor is locked only while
 * they are fed to it, not while the brokers answer. */
typedef struct {
        lag_offsets_t *items;
        size_t n, cap;
        int nomem;
} batch_t;

static char *dup_or_null(const char *s) { return s ? strdup(s) : NULL; }

static void collect(void *opaque, const lag_offsets_t *o) {
        batch_t *b = opaque;
        if (b->n == b->cap) {
                size_t cap = b->cap ? 2 * b->cap : 256;
                lag_offsets_t *p = realloc(b->items, cap * sizeof(*p));
                if (!p) {
                        b->nomem = 1;
                        return;
                }
                b->items = p;
                b->cap = cap;
        }
        lag_offsets_t c = *o;
        c.group = dup_or_null(o->group);
        c.state = dup_or_null(o->state);
        c.topic = dup_or_null(o->topic);
        c.error = dup_or_null(o->error);
        if (!c.group || (o->state && !c.state) || (o->topic && !c.topic) || (o->error && !c.error)) {
                free((char *)c.group), free((char *)c.state), free((char *)c.topic), free((char *)c.error);
                b->nomem = 1;
                return;
        }
        b->items[b->n++] = c;
}

static void batch_clear(batch_t *b) {
        for (size_t i = 0; i < b->n; i++) {
                free((char *)b->items[i].group);
                free((char *)b->items[i].state);
                free((char *)b->items[i].topic);
                free((char *)b->items[i].error);
        }
        b->n = 0;
        b->nomem = 0;
}

/* The records whose times are asked for (lag_monitor_unknown_ages), their
 * topics copied so that the monitor may be unlocked meanwhile. */
typedef struct {
        lag_record_time_t items[LAG_SAMPLER_MAX_RECORD_TIMES];
        size_t n;
} asks_t;

static void on_ask(void *opaque, const char *topic, int32_t partition, int64_t offset) {
        asks_t *a = opaque;
        if (a->n >= LAG_SAMPLER_MAX_RECORD_TIMES)
                return;
        lag_record_time_t *r = &a->items[a->n];
        r->topic = strdup(topic); /* freed by learn_ages */
        r->partition = partition;
        r->offset = offset;
        r->ts_ms = -1;
        if (r->topic)
                a->n++;
}

/* The partitions behind since before their window get the age of their
 * oldest unread change from that record's own time, read off the lock. */
static void learn_ages(shared_t *sh, lag_sampler_t *sampler, asks_t *asks, sb_log_t *log) {
        char errstr[512];
        asks->n = 0;
        pthread_mutex_lock(&sh->lock);
        lag_monitor_unknown_ages(sh->monitor, LAG_SAMPLER_MAX_RECORD_TIMES, on_ask, asks);
        pthread_mutex_unlock(&sh->lock);
        if (!asks->n)
                return;
        if (lag_sampler_record_times(sampler, asks->items, asks->n, errstr, sizeof(errstr)))
                SB_LOG(log, SB_LOG_WARN, "cannot read the oldest unread records' times: %s", errstr);
        pthread_mutex_lock(&sh->lock);
        for (size_t i = 0; i < asks->n; i++) {
                lag_record_time_t *a = &asks->items[i];
                if (a->ts_ms >= 0)
                        lag_monitor_set_record_time(sh->monitor, a->topic, a->partition, a->offset, a->ts_ms);
                free((char *)a->topic);
        }
        pthread_mutex_unlock(&sh->lock);
        asks->n = 0;
}

/* Counts the topics and reads the registry off the lock, then puts the
 * new scorecard in place of the old. */
static void count_for_scorecard(shared_t *sh, lag_sampler_t *sampler, sb_registry_client_t *registry,
                                sb_log_t *log) {
        char errstr[512];
        lag_scorecard_t *sc = NULL;
        int64_t now = sb_clock_now_ms();
        if (lag_scorecard_new(now, &sc, errstr, sizeof(errstr)) ||
            lag_sampler_count_topics(sampler, now, lag_scorecard_add_topic, sc, errstr, sizeof(errstr)) ||
            (lag_scorecard_failed(sc) && snprintf(errstr, sizeof(errstr), "out of memory") > 0)) {
                SB_LOG(log, SB_LOG_WARN, "cannot count the topics for the scorecard: %s", errstr);
                lag_scorecard_destroy(sc);
                return;
        }
        lag_scorecard_read_registry(sc, registry);
        pthread_mutex_lock(&sh->lock);
        lag_scorecard_t *old = sh->scorecard;
        sh->scorecard = sc;
        pthread_mutex_unlock(&sh->lock);
        lag_scorecard_destroy(old);
}

int main(int argc, char **argv) {
        const sb_program_t prog = {
                "sharebus-lag",
                "Watches the consumer groups' lag per partition, judges it by Burrow's rules "
                "and serves it over HTTP (dashboard, API, data-sharing scorecard, /metrics, /healthz).",
                sb_lag_settings,
                sb_lag_settings_count,
                NULL,
                0};
        struct sigaction sa;
        memset(&sa, 0, sizeof(sa));
        sa.sa_handler = on_signal;
        sigaction(SIGINT, &sa, NULL);
        sigaction(SIGTERM, &sa, NULL);
        sb_config_t *cfg;
        sb_log_t *log;
        int rc = sb_cli_start(&prog, argc, argv, &cfg, &log);
        if (rc != SB_CLI_CONTINUE)
                return rc;
        char errstr[1024];
        shared_t sh = {.failing = 0};
        pthread_mutex_init(&sh.lock, NULL);
        lag_sampler_t *sampler = NULL;
        sb_metrics_t *metrics = NULL;
        sb_http_server_t *http = NULL;
        sb_metrics_counter_t *samples = NULL, *failures = NULL;
        sb_registry_client_t *registry = NULL;
        batch_t batch = {0};
        asks_t *asks = calloc(1, sizeof(*asks));
        int64_t interval = sb_config_int(cfg, "interval_ms");
        sb_err_t err;
        const char *webhook = sb_config_string(cfg, "webhook_url");
        const char *registry_url = sb_config_string(cfg, "registry_url");
        const char *dashboard_dir = sb_config_string(cfg, "dashboard_dir");
        curl_global_init(CURL_GLOBAL_DEFAULT);
        if (!asks) {
                SB_LOG(log, SB_LOG_ERROR, "out of memory");
                rc = 1;
                goto done;
        }
        if ((err = lag_monitor_new((size_t)sb_config_int(cfg, "window"), interval, log, on_change, &sh,
                                   &sh.monitor, errstr, sizeof(errstr))) ||
            (err = lag_settings_thresholds(cfg, sh.monitor, errstr, sizeof(errstr))) ||
            (err = lag_history_new((size_t)sb_config_int(cfg, "history"), &sh.history, errstr,
                                   sizeof(errstr))) ||
            (registry_url && *registry_url &&
             (err = sb_registry_settings_client_new(cfg, &registry, errstr, sizeof(errstr)))) ||
            (webhook && *webhook &&
             (err = lag_alert_new(webhook, (int)sb_config_int(cfg, "webhook_retries"),
                                  (int)sb_config_int(cfg, "webhook_backoff_ms"),
                                  (int)sb_config_int(cfg, "webhook_timeout_ms"), log, &sh.alert, errstr,
                                  sizeof(errstr)))) ||
            (err = lag_sampler_new(cfg, sb_config_string(cfg, "groups"),
                                   (int)sb_config_int(cfg, "request_timeout_ms"), log, &sampler, errstr,
                                   sizeof(errstr))) ||
            (err = sb_metrics_new(&metrics, errstr, sizeof(errstr))) ||
            (err = sb_metrics_register_counter(metrics, "sharebus_lag_samples_total",
                                               "Samples of the consumer groups' offsets taken", NULL, 0,
                                               &samples, errstr, sizeof(errstr))) ||
            (err = sb_metrics_register_counter(metrics, "sharebus_lag_sample_failures_total",
                                               "Samples that could not be taken (the brokers did not answer)",
                                               NULL, 0, &failures, errstr, sizeof(errstr)))) {
                SB_LOG(log, SB_LOG_ERROR, "%s", errstr);
                rc = err == SB_ERR_CONFIG ? 2 : 1;
                goto done;
        }
        /* The dashboard: a folder named in the config must be right (exit
         * 2); the default one may be missing (say so, and serve the rest). */
        if ((lag_dashboard_new(dashboard_dir, &sh.dashboard, sh.no_dashboard, sizeof(sh.no_dashboard)))) {
                if (dashboard_dir && *dashboard_dir) {
                        SB_LOG(log, SB_LOG_ERROR, "%s: setting 'dashboard_dir': %s", sb_config_origin(cfg),
                               sh.no_dashboard);
                        rc = 2;
                        goto done;
                }
                SB_LOG(log, SB_LOG_WARN, "no dashboard: %s (run make, or set dashboard_dir)",
                       sh.no_dashboard);
        }
        sb_http_server_options_t http_opts = {.metrics = metrics,
                                              .health = on_health,
                                              .health_opaque = &sh,
                                              .log = log,
                                              .page = on_page,
                                              .page_opaque = &sh,
                                              .more_metrics = on_metrics,
                                              .more_metrics_opaque = &sh};
        if ((err = sb_http_server_from_config_with(cfg, &http_opts, &http, errstr, sizeof(errstr)))) {
                SB_LOG(log, SB_LOG_ERROR, "%s", errstr);
                rc = err == SB_ERR_CONFIG ? 2 : 1;
                goto done;
        }
        const char *groups = sb_config_string(cfg, "groups");
        SB_LOG(log, SB_LOG_INFO, "watching %s, a sample every %lld ms, %lld samples a window",
               groups && *groups ? groups : "every consumer group", (long long)interval,
               (long long)sb_config_int(cfg, "window"));
        int64_t scorecard_every = sb_config_int(cfg, "scorecard_interval_ms"), counted = 0;
        while (!stop_requested) {
                int64_t started = sb_clock_mono_ms();
                if (!counted || started - counted >= scorecard_every) {
                        counted = started;
                        count_for_scorecard(&sh, sampler, registry, log);
                }
                int64_t now = sb_clock_now_ms();
                err = lag_sampler_sample(sampler, collect, &batch, errstr, sizeof(errstr));
                if (!err && batch.nomem)
                        err = sb_seterr(SB_ERR_NOMEM, errstr, sizeof(errstr), "out of memory for a sample");
                pthread_mutex_lock(&sh.lock);
                if (err) {
                        sb_metrics_counter_inc(failures);
                        if (!sh.failing)
                                SB_LOG(log, SB_LOG_WARN, "cannot sample the consumer groups: %s", errstr);
                        sh.failing = 1;
                        snprintf(sh.why, sizeof(sh.why), "%.200s", errstr);
                } else {
                        if (sh.failing)
                                SB_LOG(log, SB_LOG_INFO, "sampling again");
                        sh.failing = 0;
                        sh.now_ms = now;
                        lag_monitor_begin(sh.monitor, now);
                        for (size_t i = 0; i < batch.n; i++)
                                if (lag_monitor_add(sh.monitor, &batch.items[i]))
                                        SB_LOG(log, SB_LOG_ERROR, "out of memory for group %s",
                                               batch.items[i].group);
                        lag_monitor_end(sh.monitor);
                        sb_metrics_counter_inc(samples);
                }
                pthread_mutex_unlock(&sh.lock);
                batch_clear(&batch);
                if (!err) {
                        learn_ages(&sh, sampler, asks, log);
                        pthread_mutex_lock(&sh.lock);
                        if (lag_history_record(sh.history, sh.monitor, now))
                                SB_LOG(log, SB_LOG_ERROR, "out of memory for the lag history");
                        pthread_mutex_unlock(&sh.lock);
                }
                while (!stop_requested && sb_clock_mono_ms() - started < interval)
                        sb_clock_sleep_ms(50);
        }
        SB_LOG(log, SB_LOG_INFO, "stopped");
        rc = 0;
done:
        sb_http_server_destroy(http); /* first: no request may read what follows once it is gone */
        batch_clear(&batch);
        free(batch.items);
        free(asks);
        lag_sampler_destroy(sampler);
        lag_alert_destroy(sh.alert);
        lag_monitor_destroy(sh.monitor);
        lag_history_destroy(sh.history);
        lag_scorecard_destroy(sh.scorecard);
        lag_dashboard_destroy(sh.dashboard);
        sb_registry_client_destroy(registry);
        sb_metrics_destroy(metrics);
        pthread_mutex_destroy(&sh.lock);
        sb_log_destroy(log);
        sb_config_destroy(cfg);
        curl_global_cleanup();
        return rc;
}

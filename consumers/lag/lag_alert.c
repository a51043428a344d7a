#include "lag/lag_alert.h"

#include <curl/curl.h>
#include <jansson.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "sb_datetime.h"

struct lag_alert_s {
        char *url;
        int retries, backoff_ms, timeout_ms;
        sb_log_t *log;
        pthread_t thread;
        pthread_mutex_t lock;
        pthread_cond_t wake;
        int stop;
        char *queue[LAG_ALERT_QUEUE]; /* JSON bodies, a ring */
        size_t head, count;
        uint64_t delivered, given_up;
};

static size_t discard(char *p, size_t size, size_t n, void *arg) {
        (void)p, (void)arg;
        return size * n;
}

/* One POST; 1 if answered 2xx, else 0 with why. */
static int post(lag_alert_t *a, const char *body, char *why, size_t why_size) {
        CURL *curl = curl_easy_init();
        if (!curl) {
                snprintf(why, why_size, "out of memory");
                return 0;
        }
        struct curl_slist *headers = curl_slist_append(NULL, "Content-Type: application/json");
        curl_easy_setopt(curl, CURLOPT_URL, a->url);
        curl_easy_setopt(curl, CURLOPT_HTTPHEADER, headers);
        curl_easy_setopt(curl, CURLOPT_POSTFIELDS, body);
        curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS, (long)a->timeout_ms);
        curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
        curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, discard);
        curl_easy_setopt(curl, CURLOPT_PROTOCOLS_STR, "http,https");
        CURLcode rc = curl_easy_perform(curl);
        long status = 0;
        curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &status);
        curl_slist_free_all(headers);
        curl_easy_cleanup(curl);
        if (rc != CURLE_OK)
                snprintf(why, why_size, "%s", curl_easy_strerror(rc));
        else if (status < 200 || status > 299)
                snprintf(why, why_size, "HTTP %ld", status);
        return rc == CURLE_OK && status >= 200 && status <= 299;
}

/* Waits `ms` unless stopped first; with the lock held.  1 if stopped. */
static int pause_ms(lag_alert_t *a, int ms) {
        struct timespec until;
        clock_gettime(CLOCK_REALTIME, &until);
        until.tv_sec += ms / 1000;
        until.tv_nsec += (long)(ms % 1000) * 1000000L;
        if (until.tv_nsec >= 1000000000L) {
                until.tv_sec++;
                until.tv_nsec -= 1000000000L;
        }
        while (!a->stop && pthread_cond_timedwait(&a->wake, &a->lock, &until) == 0)
                ;
        return a->stop;
}

static void *run(void *arg) {
        lag_alert_t *a = arg;
        pthread_mutex_lock(&a->lock);
        while (!a->stop) {
                if (!a->count) {
                        pthread_cond_wait(&a->wake, &a->lock);
                        continue;
                }
                char *body = a->queue[a->head];
                a->queue[a->head] = NULL;
                a->head = (a->head + 1) % LAG_ALERT_QUEUE;
                a->count--;
                int ok = 0, backoff = a->backoff_ms;
                char why[256] = "";
                for (int attempt = 0; attempt <= a->retries && !a->stop; attempt++) {
                        if (attempt > 0) {
                                SB_LOG(a->log, SB_LOG_WARN, "alert webhook: %s; trying again in %d ms", why,
                                       backoff);
                                if (pause_ms(a, backoff))
                                        break;
                                backoff = backoff * 2 > LAG_ALERT_BACKOFF_MAX_MS ? LAG_ALERT_BACKOFF_MAX_MS
                                                                                 : backoff * 2;
                        }
                        pthread_mutex_unlock(&a->lock);
                        ok = post(a, body, why, sizeof(why));
                        pthread_mutex_lock(&a->lock);
                        if (ok)
                                break;
                }
                if (ok) {
                        a->delivered++;
                } else {
                        a->given_up++;
                        SB_LOG(a->log, SB_LOG_ERROR, "alert webhook: given up after %d tries (%s): %s",
                               a->retries + 1, why[0] ? why : "stopped", body);
                }
                free(body);
        }
        pthread_mutex_unlock(&a->lock);
        return NULL;
}

sb_err_t lag_alert_new(const char *url, int retries, int backoff_ms, int timeout_ms, sb_log_t *log,
                       lag_alert_t **out, char *errstr, size_t errstr_size) {
        lag_alert_t *a = calloc(1, sizeof(*a));
        *out = NULL;
        if (!a || !(a->url = strdup(url))) {
                free(a);
                return sb_seterr(SB_ERR_NOMEM, errstr, errstr_size, "out of memory");
        }
        a->retries = retries;
        a->backoff_ms = backoff_ms > 0 ? backoff_ms : 1;
        a->timeout_ms = timeout_ms > 0 ? timeout_ms : 1;
        a->log = log;
        pthread_mutex_init(&a->lock, NULL);
        pthread_cond_init(&a->wake, NULL);
        if (pthread_create(&a->thread, NULL, run, a) != 0) {
                pthread_cond_destroy(&a->wake);
                pthread_mutex_destroy(&a->lock);
                free(a->url);
                free(a);
                return sb_seterr(SB_ERR_IO, errstr, errstr_size, "cannot start the alert thread");
        }
        *out = a;
        return SB_OK;
}

void lag_alert_destroy(lag_alert_t *a) {
        if (!a)
                return;
        pthread_mutex_lock(&a->lock);
        a->stop = 1;
        pthread_cond_signal(&a->wake);
        pthread_mutex_unlock(&a->lock);
        pthread_join(a->thread, NULL);
        if (a->count)
                SB_LOG(a->log, SB_LOG_WARN, "alert webhook: %zu changes not sent at stop", a->count);
        for (size_t i = 0; i < a->count; i++)
                free(a->queue[(a->head + i) % LAG_ALERT_QUEUE]);
        pthread_cond_destroy(&a->wake);
        pthread_mutex_destroy(&a->lock);
        free(a->url);
        free(a);
}

void lag_alert_notify(lag_alert_t *a, const char *group, lag_status_t was, lag_status_t now,
                      const char *reason, int64_t lag, double lag_seconds, int64_t at_ms) {
        char when[40];
        sb_datetime_format_timestamp_ms(at_ms, when, sizeof(when));
        json_t *doc = json_pack("{s:s, s:s, s:s, s:s, s:I, s:o, s:s}", "group", group, "status",
                                lag_status_name(now), "previous", lag_status_name(was), "reason",
                                reason ? reason : "", "lag", (json_int_t)lag, "lag_seconds",
                                lag_seconds >= 0 ? json_real(lag_seconds) : json_null(), "time", when);
        char *body = doc ? json_dumps(doc, JSON_COMPACT | JSON_PRESERVE_ORDER) : NULL;
        json_decref(doc);
        if (!body) {
                SB_LOG(a->log, SB_LOG_ERROR,
                       "alert webhook: cannot tell group %s went %s (out of memory or not UTF-8)", group,
                       lag_status_name(now));
                return;
        }
        pthread_mutex_lock(&a->lock);
        if (a->count == LAG_ALERT_QUEUE) {
                SB_LOG(a->log, SB_LOG_WARN, "alert webhook: %d changes waiting; dropped the oldest: %s",
                       LAG_ALERT_QUEUE, a->queue[a->head]);
                free(a->queue[a->head]);
                a->head = (a->head + 1) % LAG_ALERT_QUEUE;
                a->count--;
        }
        a->queue[(a->head + a->count) % LAG_ALERT_QUEUE] = body;
        a->count++;
        pthread_cond_signal(&a->wake);
        pthread_mutex_unlock(&a->lock);
}

uint64_t lag_alert_delivered(lag_alert_t *a) {
        pthread_mutex_lock(&a->lock);
        uint64_t n = a->delivered;
        pthread_mutex_unlock(&a->lock);
        return n;
}

uint64_t lag_alert_given_up(lag_alert_t *a) {
        pthread_mutex_lock(&a->lock);
        uint64_t n = a->given_up;
        pthread_mutex_unlock(&a->lock);
        return n;
}

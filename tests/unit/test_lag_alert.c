/*
 * Unit tests of lag_alert (consumers/lag/lag_alert.h) against a local
 * receiver (libmicrohttpd) that fails the first tries: a change is POSTed
 * as JSON, tried again with backoff until the receiver takes it, given up
 * (and counted) after its retries, and the receiver's slowness never
 * blocks lag_alert_notify.
 */
#include <curl/curl.h>
#include <jansson.h>
#include <microhttpd.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lag/lag_alert.h"
#include "sb_clock.h"
#include "testutil.h"

/* The receiver: answers 503 to the first `fail` POSTs, then 200, and keeps
 * the bodies it took. */
typedef struct {
        struct MHD_Daemon *d;
        pthread_mutex_t lock;
        int fail, posts;
        char bodies[8][1024];
        int taken;
        char url[64];
} receiver_t;

typedef struct {
        char buf[4096];
        size_t len;
} upload_t;

static enum MHD_Result on_post(void *cls, struct MHD_Connection *c, const char *url, const char *method,
                               const char *version, const char *data, size_t *size, void **con_cls) {
        receiver_t *r = cls;
        (void)url, (void)version;
        if (!*con_cls) {
                *con_cls = calloc(1, sizeof(upload_t));
                return *con_cls ? MHD_YES : MHD_NO;
        }
        upload_t *up = *con_cls;
        if (*size) {
                size_t n = *size < sizeof(up->buf) - 1 - up->len ? *size : sizeof(up->buf) - 1 - up->len;
                memcpy(up->buf + up->len, data, n);
                up->len += n;
                *size = 0;
                return MHD_YES;
        }
        pthread_mutex_lock(&r->lock);
        unsigned status = strcmp(method, "POST") != 0 ? 405 : r->posts++ < r->fail ? 503 : 200;
        if (status == 200 && r->taken < 8)
                snprintf(r->bodies[r->taken++], sizeof(r->bodies[0]), "%.*s", (int)up->len, up->buf);
        pthread_mutex_unlock(&r->lock);
        struct MHD_Response *resp = MHD_create_response_from_buffer(0, (void *)"", MHD_RESPMEM_PERSISTENT);
        enum MHD_Result ret = MHD_queue_response(c, status, resp);
        MHD_destroy_response(resp);
        return ret;
}

static void on_done(void *cls, struct MHD_Connection *c, void **con_cls,
                    enum MHD_RequestTerminationCode toe) {
        (void)cls, (void)c, (void)toe;
        free(*con_cls);
        *con_cls = NULL;
}

static void receiver_start(receiver_t *r, int fail) {
        memset(r, 0, sizeof(*r));
        pthread_mutex_init(&r->lock, NULL);
        r->fail = fail;
        r->d = MHD_start_daemon(MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_ERROR_LOG, 0, NULL, NULL, on_post,
                                r, MHD_OPTION_NOTIFY_COMPLETED, on_done, NULL, MHD_OPTION_END);
        ck_assert_ptr_nonnull(r->d);
        const union MHD_DaemonInfo *info = MHD_get_daemon_info(r->d, MHD_DAEMON_INFO_BIND_PORT);
        snprintf(r->url, sizeof(r->url), "http://127.0.0.1:%u/hook", info->port);
}

static void receiver_stop(receiver_t *r) {
        MHD_stop_daemon(r->d);
        pthread_mutex_destroy(&r->lock);
}

static int posts(receiver_t *r) {
        pthread_mutex_lock(&r->lock);
        int n = r->posts;
        pthread_mutex_unlock(&r->lock);
        return n;
}

/* Waits (up to 30 s, a bound, not a measure) for `want` deliveries or give-ups. */
static void wait_for(lag_alert_t *a, uint64_t delivered, uint64_t given_up) {
        for (int i = 0; i < 3000 && (lag_alert_delivered(a) < delivered || lag_alert_given_up(a) < given_up);
             i++)
                sb_clock_sleep_ms(10);
}

START_TEST(test_a_change_is_posted_again_until_taken) {
        receiver_t r;
        receiver_start(&r, 2);
        lag_alert_t *a = NULL;
        TEST_CALL(lag_alert_new(r.url, 5, 20, 5000, NULL, &a, TEST_ERR));
        lag_alert_notify(a, "sharebus.tax", LAG_OK, LAG_STALL,
                         "partition 2 of civil.resident: the committed offset stayed at 7,592 for 4 min, "
                         "12,408 behind",
                         12408, 251.5, 1796657621670LL);
        wait_for(a, 1, 0);
        ck_assert_uint_eq(lag_alert_delivered(a), 1);
        ck_assert_uint_eq(lag_alert_given_up(a), 0);
        ck_assert_int_eq(posts(&r), 3); /* two refused, the third taken */
        json_t *doc = json_loads(r.bodies[0], 0, NULL);
        ck_assert_msg(doc != NULL, "%s", r.bodies[0]);
        ck_assert_str_eq(json_string_value(json_object_get(doc, "group")), "sharebus.tax");
        ck_assert_str_eq(json_string_value(json_object_get(doc, "status")), "STALL");
        ck_assert_str_eq(json_string_value(json_object_get(doc, "previous")), "OK");
        ck_assert_int_eq(json_integer_value(json_object_get(doc, "lag")), 12408);
        ck_assert_double_eq(json_real_value(json_object_get(doc, "lag_seconds")), 251.5);
        ck_assert_str_eq(json_string_value(json_object_get(doc, "time")), "2026-12-07T15:33:41.670Z");
        ck_assert_msg(strstr(json_string_value(json_object_get(doc, "reason")), "12,408 behind"), "%s",
                      r.bodies[0]);
        json_decref(doc);
        lag_alert_destroy(a);
        receiver_stop(&r);
}
END_TEST

START_TEST(test_given_up_after_its_retries_and_the_next_still_goes) {
        receiver_t r;
        receiver_start(&r, 3);
        lag_alert_t *a = NULL;
        TEST_CALL(lag_alert_new(r.url, 2, 10, 5000, NULL, &a, TEST_ERR));
        lag_alert_notify(a, "g", LAG_OK, LAG_STOP, "x", 5, -1, 0);
        lag_alert_notify(a, "g", LAG_STOP, LAG_OK, "", 0, 0, 0);
        wait_for(a, 1, 1);
        ck_assert_uint_eq(lag_alert_given_up(a), 1); /* 3 tries, all refused */
        ck_assert_uint_eq(lag_alert_delivered(a), 1);
        ck_assert_int_eq(posts(&r), 4);
        ck_assert_msg(strstr(r.bodies[0], "\"status\":\"OK\",\"previous\":\"STOP\""), "%s", r.bodies[0]);
        ck_assert_msg(strstr(r.bodies[0], "\"lag_seconds\":0"), "%s", r.bodies[0]);
        lag_alert_destroy(a);
        receiver_stop(&r);
}
END_TEST

START_TEST(test_nobody_listening_never_blocks_the_caller) {
        lag_alert_t *a = NULL;
        /* A port nothing listens on, and long backoffs: the changes queue,
         * the oldest dropped past the bound, and destroy stops at once. */
        TEST_CALL(lag_alert_new("http://127.0.0.1:1/hook", 10, 60000, 1000, NULL, &a, TEST_ERR));
        for (int i = 0; i < LAG_ALERT_QUEUE + 10; i++)
                lag_alert_notify(a, "g", LAG_OK, LAG_WARN, "w", i, 1, 0);
        ck_assert_uint_eq(lag_alert_delivered(a), 0);
        lag_alert_destroy(a);
        /* Refused at once: a URL curl does not take. */
        receiver_t r;
        receiver_start(&r, 0);
        TEST_CALL(lag_alert_new("ftp://127.0.0.1/hook", 0, 10, 1000, NULL, &a, TEST_ERR));
        lag_alert_notify(a, "g", LAG_OK, LAG_WARN, "w", 1, 1, 0);
        wait_for(a, 0, 1);
        ck_assert_uint_eq(lag_alert_given_up(a), 1);
        lag_alert_destroy(a);
        receiver_stop(&r);
}
END_TEST

static Suite *suite(void) {
        Suite *s = suite_create("lag_alert");
        TCase *tc = tcase_create("core");
        tcase_set_timeout(tc, 60);
        tcase_add_test(tc, test_a_change_is_posted_again_until_taken);
        tcase_add_test(tc, test_given_up_after_its_retries_and_the_next_still_goes);
        tcase_add_test(tc, test_nobody_listening_never_blocks_the_caller);
        suite_add_tcase(s, tc);
        return s;
}

int main(void) {
        curl_global_init(CURL_GLOBAL_DEFAULT);
        int rc = test_run_suite(suite());
        curl_global_cleanup();
        return rc;
}

/*
 * Unit tests of sharebus-lag's pages (consumers/lag/): the lag history the
 * chart draws (lag_history), the data-sharing scorecard built from topic
 * counts and the monitor (lag_scorecard), the dashboard's files
 * (lag_dashboard) and the routing of lag_api.
 */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "lag/lag_api.h"
#include "lag/lag_dashboard.h"
#include "lag/lag_history.h"
#include "lag/lag_monitor.h"
#include "lag/lag_scorecard.h"
#include "testutil.h"

#define T0 1800000000000LL
#define STEP 1000

/* One sample at T0 + k * STEP of group `group` on topic `topic`
 * partitions 0 and 1 (committed c0, c1; log end `end` each). */
static void sample(lag_monitor_t *m, int k, const char *group, const char *topic, int64_t c0, int64_t c1,
                   int64_t end) {
        lag_monitor_begin(m, T0 + (int64_t)k * STEP);
        lag_offsets_t o[] = {
                {group, "Stable", topic, 0, c0, end, NULL},
                {group, "Stable", topic, 1, c1, end, NULL},
        };
        for (size_t i = 0; group && i < 2; i++)
                ck_assert_int_eq(lag_monitor_add(m, &o[i]), SB_OK);
        lag_monitor_end(m);
}

static json_t *rendered(sb_buf_t *b) {
        json_error_t e;
        json_t *doc = json_loadb((const char *)b->data, b->len, 0, &e);
        ck_assert_msg(doc != NULL, "not JSON: %s", e.text);
        return doc;
}

static json_t *find_in(json_t *list, const char *key, const char *value) {
        size_t i;
        json_t *o;
        json_array_foreach(list, i, o) {
                const char *v = json_string_value(json_object_get(o, key));
                if (v && strcmp(v, value) == 0)
                        return o;
        }
        return NULL;
}

START_TEST(test_history_keeps_the_last_samples_per_group) {
        lag_history_t *h = NULL;
        char err[256];
        ck_assert_int_eq(lag_history_new(1, &h, err, sizeof(err)), SB_ERR_INVALID);
        ck_assert_int_eq(lag_history_new(LAG_HISTORY_MAX + 1, &h, err, sizeof(err)), SB_ERR_INVALID);
        lag_monitor_t *m = NULL;
        TEST_CALL(lag_monitor_new(20, STEP, NULL, NULL, NULL, &m, TEST_ERR));
        TEST_CALL(lag_history_new(3, &h, TEST_ERR));
        /* g1 from the first sample, 5 behind then 10, 15, 20; g2 from the third. */
        for (int k = 0; k < 4; k++) {
                lag_monitor_begin(m, T0 + (int64_t)k * STEP);
                lag_offsets_t a = {"g1", "Stable", "t", 0, 0, 5 * (k + 1), NULL};
                lag_offsets_t b = {"g2", "Stable", "t", 0, 7, 7, NULL};
                ck_assert_int_eq(lag_monitor_add(m, &a), SB_OK);
                if (k >= 2)
                        ck_assert_int_eq(lag_monitor_add(m, &b), SB_OK);
                lag_monitor_end(m);
                TEST_CALL(lag_history_record(h, m, T0 + (int64_t)k * STEP));
        }
        ck_assert_uint_eq(lag_history_samples(h), 3);
        ck_assert_uint_eq(lag_history_groups(h), 2);
        sb_buf_t b;
        sb_buf_init(&b, 1 << 20);
        TEST_CALL(lag_history_render(h, &b));
        json_t *doc = rendered(&b);
        json_t *t = json_object_get(doc, "t");
        ck_assert_uint_eq(json_array_size(t), 3); /* the oldest sample gone */
        ck_assert_double_eq(json_real_value(json_array_get(t, 0)), (double)(T0 + STEP) / 1000.0);
        ck_assert_double_eq(json_real_value(json_array_get(t, 2)), (double)(T0 + 3 * STEP) / 1000.0);
        json_t *g1 = find_in(json_object_get(doc, "groups"), "group", "g1");
        json_t *g2 = find_in(json_object_get(doc, "groups"), "group", "g2");
        ck_assert_int_eq(json_integer_value(json_array_get(json_object_get(g1, "lag"), 0)), 10);
        ck_assert_int_eq(json_integer_value(json_array_get(json_object_get(g1, "lag"), 2)), 20);
        ck_assert(json_is_null(json_array_get(json_object_get(g2, "lag"), 0))); /* not yet watched */
        ck_assert_int_eq(json_integer_value(json_array_get(json_object_get(g2, "lag"), 1)), 0);
        ck_assert_uint_eq(json_array_size(json_object_get(g1, "lag_seconds")), 3);
        json_decref(doc);
        /* Once the monitor forgot g2 (a window unseen), the samples
         * without it push it out of the history too. */
        for (int k = 4; k < 30; k++) {
                lag_monitor_begin(m, T0 + (int64_t)k * STEP);
                lag_offsets_t a = {"g1", "Stable", "t", 0, 0, 5, NULL};
                ck_assert_int_eq(lag_monitor_add(m, &a), SB_OK);
                lag_monitor_end(m);
                TEST_CALL(lag_history_record(h, m, T0 + (int64_t)k * STEP));
        }
        ck_assert_ptr_null(lag_monitor_find(m, "g2"));
        ck_assert_uint_eq(lag_history_groups(h), 1);
        sb_buf_reset(&b);
        TEST_CALL(lag_history_render(h, &b));
        doc = rendered(&b);
        ck_assert_uint_eq(json_array_size(json_object_get(doc, "groups")), 1);
        ck_assert_ptr_nonnull(find_in(json_object_get(doc, "groups"), "group", "g1"));
        json_decref(doc);
        sb_buf_free(&b);
        lag_history_destroy(h);
        lag_monitor_destroy(m);
}
END_TEST

static void count(lag_scorecard_t *sc, const char *topic, int partitions, int64_t hour, int64_t day,
                  const char *error) {
        lag_topic_count_t c = {.topic = topic,
                               .partitions = partitions,
                               .last_hour = error ? -1 : hour,
                               .last_day = error ? -1 : day,
                               .retained = error ? -1 : day * 10,
                               .error = error};
        lag_scorecard_add_topic(sc, &c);
}

START_TEST(test_scorecard_per_department_and_dataset) {
        lag_monitor_t *m = NULL;
        TEST_CALL(lag_monitor_new(3, STEP, NULL, NULL, NULL, &m, TEST_ERR));
        /* sharebus.demo reads civil.resident, 30 behind on partition 1 and stuck. */
        for (int k = 0; k < 3; k++)
                sample(m, k, "sharebus.demo", "civil.resident", 100, 70, 100);
        lag_scorecard_t *sc = NULL;
        TEST_CALL(lag_scorecard_new(T0, &sc, TEST_ERR));
        count(sc, "tax.taxpayer", 3, 0, 0, "Broker: Leader not available");
        count(sc, "civil.resident", 2, 5, 50, NULL);
        count(sc, "civil.birth", 1, 0, 0, NULL);
        count(sc, "rejects.civil", 1, 1, 2, NULL);
        count(sc, "dlq.demo", 1, 0, 4, NULL);
        count(sc, "_sharebus_schemas", 1, 9, 9, NULL);
        count(sc, "nodot", 1, 9, 9, NULL);
        ck_assert_int_eq(lag_scorecard_failed(sc), 0);
        sb_buf_t b;
        sb_buf_init(&b, 1 << 20);
        TEST_CALL(lag_scorecard_render(sc, m, &b));
        json_t *doc = rendered(&b);
        ck_assert_int_eq(json_integer_value(json_object_get(doc, "counted_at")), T0);
        json_t *deps = json_object_get(doc, "departments");
        ck_assert_uint_eq(json_array_size(deps), 2);
        /* In order of names; only <department>.<dataset> topics are datasets. */
        json_t *civil = json_array_get(deps, 0);
        ck_assert_str_eq(json_string_value(json_object_get(civil, "department")), "civil");
        ck_assert_str_eq(json_string_value(json_object_get(json_array_get(deps, 1), "department")), "tax");
        json_t *sets = json_object_get(civil, "datasets");
        ck_assert_uint_eq(json_array_size(sets), 2);
        ck_assert_str_eq(json_string_value(json_object_get(json_array_get(sets, 0), "dataset")), "birth");
        json_t *res = find_in(sets, "topic", "civil.resident");
        ck_assert_int_eq(json_integer_value(json_object_get(res, "changes_last_hour")), 5);
        ck_assert_int_eq(json_integer_value(json_object_get(res, "changes_last_day")), 50);
        ck_assert_int_eq(json_integer_value(json_object_get(res, "records_kept")), 500);
        ck_assert_int_eq(json_integer_value(json_object_get(res, "partitions")), 2);
        ck_assert(json_is_null(json_object_get(res, "schema_version"))); /* no registry read */
        json_t *sub = find_in(json_object_get(res, "subscribers"), "group", "sharebus.demo");
        ck_assert_ptr_nonnull(sub);
        ck_assert_int_eq(json_integer_value(json_object_get(sub, "lag")), 30);
        ck_assert_str_eq(json_string_value(json_object_get(sub, "status")), "STALL");
        ck_assert_int_eq(json_integer_value(json_object_get(sub, "dead_letters_last_day")), 4);
        ck_assert_int_eq(json_integer_value(json_object_get(json_object_get(civil, "rejects"), "last_day")),
                         2);
        ck_assert_int_eq(json_integer_value(json_object_get(civil, "changes_last_day")), 50);
        json_t *birth = find_in(sets, "topic", "civil.birth");
        ck_assert_uint_eq(json_array_size(json_object_get(birth, "subscribers")), 0);
        json_t *tax = find_in(json_object_get(json_array_get(deps, 1), "datasets"), "topic", "tax.taxpayer");
        ck_assert(json_is_null(json_object_get(tax, "changes_last_day")));
        ck_assert_str_eq(json_string_value(json_object_get(tax, "error")), "Broker: Leader not available");
        json_t *totals = json_object_get(doc, "totals");
        ck_assert_int_eq(json_integer_value(json_object_get(totals, "datasets")), 3);
        ck_assert_int_eq(json_integer_value(json_object_get(totals, "changes_last_day")), 50);
        /* civil.birth; not tax.taxpayer, whose count is unknown. */
        ck_assert_int_eq(json_integer_value(json_object_get(totals, "datasets_silent_last_day")), 1);
        ck_assert_int_eq(json_integer_value(json_object_get(totals, "datasets_without_subscribers")), 2);
        ck_assert_ptr_nonnull(find_in(json_object_get(doc, "dead_letters"), "topic", "dlq.demo"));
        ck_assert_uint_eq(json_array_size(json_object_get(doc, "dead_letters")), 1);
        ck_assert(json_is_false(json_object_get(json_object_get(doc, "registry"), "configured")));
        json_decref(doc);

        /* A registry that does not answer is shown, not fatal. */
        sb_registry_client_t *rc = NULL;
        TEST_CALL(sb_registry_client_new("http://127.0.0.1:1", &rc, TEST_ERR));
        lag_scorecard_read_registry(sc, rc);
        sb_registry_client_destroy(rc);
        sb_buf_reset(&b);
        TEST_CALL(lag_scorecard_render(sc, m, &b));
        doc = rendered(&b);
        const char *why = json_string_value(json_object_get(json_object_get(doc, "registry"), "error"));
        ck_assert_msg(why && strstr(why, "GET /subjects: no schema registry answered"), "%s", why);
        json_decref(doc);
        lag_scorecard_destroy(sc);

        /* Not counted yet. */
        sb_buf_reset(&b);
        TEST_CALL(lag_scorecard_render(NULL, m, &b));
        doc = rendered(&b);
        ck_assert_str_eq(json_string_value(json_object_get(doc, "error")), "not counted yet");
        json_decref(doc);
        sb_buf_free(&b);
        lag_monitor_destroy(m);
}
END_TEST

static const char *const FILES[] = {"index.html", "dashboard.js", "dashboard.css", "uPlot.iife.min.js",
                                    "uPlot.min.css"};

/* A folder with the dashboard's files (each holding its own name), but
 * `skip` (NULL: none). */
static const char *dashboard_folder(const char *skip) {
        static char dir[256];
        snprintf(dir, sizeof(dir), "/tmp/sharebus-dash-XXXXXX");
        ck_assert_ptr_nonnull(mkdtemp(dir));
        for (size_t i = 0; i < sizeof(FILES) / sizeof(*FILES); i++) {
                if (skip && strcmp(skip, FILES[i]) == 0)
                        continue;
                char path[400];
                snprintf(path, sizeof(path), "%s/%s", dir, FILES[i]);
                FILE *f = fopen(path, "w");
                ck_assert_ptr_nonnull(f);
                fprintf(f, "<%s>", FILES[i]);
                fclose(f);
        }
        return dir;
}

static void remove_folder(const char *dir) {
        char cmd[400];
        snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
        ck_assert_int_eq(system(cmd), 0);
}

START_TEST(test_dashboard_serves_its_files_only) {
        char err[512];
        lag_dashboard_t *d = NULL;
        const char *dir = dashboard_folder(NULL);
        TEST_CALL(lag_dashboard_new(dir, &d, TEST_ERR));
        ck_assert_str_eq(lag_dashboard_dir(d), dir);
        sb_buf_t b;
        sb_buf_init(&b, 1 << 20);
        const char *ct = NULL;
        ck_assert_uint_eq(lag_dashboard_answer(d, "/", &b, &ct), 200);
        ck_assert_str_eq(ct, "text/html; charset=utf-8");
        ck_assert_int_eq((int)b.len, (int)strlen("<index.html>"));
        ck_assert_int_eq(memcmp(b.data, "<index.html>", b.len), 0);
        sb_buf_reset(&b);
        ck_assert_uint_eq(lag_dashboard_answer(d, "/dashboard/uPlot.iife.min.js", &b, &ct), 200);
        ck_assert_str_eq(ct, "text/javascript; charset=utf-8");
        ck_assert_int_eq(memcmp(b.data, "<uPlot.iife.min.js>", b.len), 0);
        sb_buf_reset(&b);
        ck_assert_uint_eq(lag_dashboard_answer(d, "/dashboard/../index.html", &b, &ct), 0);
        ck_assert_uint_eq(lag_dashboard_answer(d, "/dashboard/passwd", &b, &ct), 0);
        ck_assert_uint_eq(lag_dashboard_answer(d, "/index.html", &b, &ct), 0);
        ck_assert_uint_eq(b.len, 0);
        lag_dashboard_destroy(d);
        remove_folder(dir);

        /* A missing file, and one past the bound, are named. */
        dir = dashboard_folder("uPlot.min.css");
        ck_assert_int_eq(lag_dashboard_new(dir, &d, err, sizeof(err)), SB_ERR_NOT_FOUND);
        ck_assert_msg(strstr(err, "uPlot.min.css: No such file or directory"), "%s", err);
        char big[400];
        snprintf(big, sizeof(big), "%s/uPlot.min.css", dir);
        FILE *f = fopen(big, "w");
        ck_assert_ptr_nonnull(f);
        ck_assert_int_eq(fseek(f, LAG_DASHBOARD_MAX_FILE, SEEK_SET), 0);
        fputc('x', f);
        fclose(f);
        ck_assert_int_eq(lag_dashboard_new(dir, &d, err, sizeof(err)), SB_ERR_INVALID);
        ck_assert_msg(strstr(err, "uPlot.min.css: larger than the 4 MiB"), "%s", err);
        remove_folder(dir);
        sb_buf_free(&b);
}
END_TEST

START_TEST(test_api_routes) {
        lag_monitor_t *m = NULL;
        TEST_CALL(lag_monitor_new(3, STEP, NULL, NULL, NULL, &m, TEST_ERR));
        sample(m, 0, "g1", "t.x", 1, 1, 1);
        lag_api_sources_t src = {.monitor = m, .no_dashboard = "dashboard file /x/index.html: gone"};
        sb_buf_t b;
        sb_buf_init(&b, 1 << 20);
        const char *ct = NULL;
        ck_assert_uint_eq(lag_api_answer(&src, "/", &b, &ct), 404);
        ck_assert_str_eq(ct, "application/json");
        json_t *doc = rendered(&b);
        ck_assert_str_eq(json_string_value(json_object_get(doc, "error")),
                         "no dashboard: dashboard file /x/index.html: gone");
        json_decref(doc);
        sb_buf_reset(&b);
        ck_assert_uint_eq(lag_api_answer(&src, "/api/v1/history", &b, &ct), 200);
        doc = rendered(&b);
        ck_assert_uint_eq(json_array_size(json_object_get(doc, "t")), 0);
        json_decref(doc);
        sb_buf_reset(&b);
        ck_assert_uint_eq(lag_api_answer(&src, "/api/v1/groups/g1", &b, &ct), 200);
        sb_buf_reset(&b);
        /* A group nobody watches: 404 with the name. */
        ck_assert_uint_eq(lag_api_answer(&src, "/api/v1/groups/nobody", &b, &ct), 404);
        doc = rendered(&b);
        ck_assert_str_eq(json_string_value(json_object_get(doc, "error")), "no such group: nobody");
        json_decref(doc);
        sb_buf_reset(&b);
        ck_assert_uint_eq(lag_api_answer(&src, "/api/v1/scorecard", &b, &ct), 200);
        sb_buf_reset(&b);
        ck_assert_uint_eq(lag_api_answer(&src, "/api/v2/other", &b, &ct), 0);
        ck_assert_uint_eq(lag_api_answer(&src, "/favicon.ico", &b, &ct), 0);
        sb_buf_free(&b);
        lag_monitor_destroy(m);
}
END_TEST

static Suite *suite(void) {
        Suite *s = suite_create("lag_pages");
        TCase *tc = tcase_create("core");
        tcase_add_test(tc, test_history_keeps_the_last_samples_per_group);
        tcase_add_test(tc, test_scorecard_per_department_and_dataset);
        tcase_add_test(tc, test_dashboard_serves_its_files_only);
        tcase_add_test(tc, test_api_routes);
        suite_add_tcase(s, tc);
        return s;
}

int main(void) { return test_run_suite(suite()); }

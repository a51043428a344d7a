/*
 * test_metrics: sb_metrics, the exact text it renders (counters, gauges,
 * histograms, labels, escaping, numbers), what it refuses at registration,
 * its bound, and updates from several threads.
 */
#include <check.h>
#include <math.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sb_buf.h"
#include "sb_metrics.h"
#include "testutil.h"

static sb_metrics_t *m;

static void setup(void) { TEST_CALL(sb_metrics_new(&m, TEST_ERR)); }
static void teardown(void) {
        sb_metrics_destroy(m);
        m = NULL;
}

/* The rendered set must be `want`, exactly. */
static void assert_text(const char *want) {
        sb_buf_t b;
        sb_buf_init(&b, 1 << 20);
        TEST_CALL(sb_metrics_render(m, &b, TEST_ERR));
        ck_assert_int_eq(sb_buf_append(&b, "", 0), SB_OK);
        ck_assert_str_eq((const char *)b.data, want);
        sb_buf_free(&b);
}

static const sb_metrics_label_t ds_license[] = {{"dataset", "market.business_license"}};
static const sb_metrics_label_t ds_resident[] = {{"dataset", "civil.resident"}};

START_TEST(test_empty_set_renders_nothing) {
        assert_text("");
        ck_assert_uint_eq(sb_metrics_count(m), 0);
}
END_TEST

START_TEST(test_counter_without_labels) {
        sb_metrics_counter_t *c;
        TEST_CALL(sb_metrics_register_counter(m, "sharebus_events_total", "Events published.", NULL, 0, &c,
                                              TEST_ERR));
        assert_text("# HELP sharebus_events_total Events published.\n"
                    "# TYPE sharebus_events_total counter\n"
                    "sharebus_events_total 0\n");
        sb_metrics_counter_inc(c);
        sb_metrics_counter_add(c, 41);
        ck_assert_uint_eq(sb_metrics_counter_value(c), 42);
        assert_text("# HELP sharebus_events_total Events published.\n"
                    "# TYPE sharebus_events_total counter\n"
                    "sharebus_events_total 42\n");
}
END_TEST

START_TEST(test_same_name_other_labels_share_one_block) {
        sb_metrics_counter_t *a, *b;
        sb_metrics_gauge_t *g;
        const sb_metrics_label_t two[] = {{"dataset", "tax.taxpayer"}, {"op", "d"}};
        TEST_CALL(sb_metrics_register_counter(m, "events_total", "Events.", ds_license, 1, &a, TEST_ERR));
        TEST_CALL(sb_metrics_register_gauge(m, "up", "Up.", NULL, 0, &g, TEST_ERR));
        TEST_CALL(sb_metrics_register_counter(m, "events_total", "Events.", ds_resident, 1, &b, TEST_ERR));
        sb_metrics_counter_t *c;
        TEST_CALL(sb_metrics_register_counter(m, "events_total", "Events.", two, 2, &c, TEST_ERR));
        sb_metrics_counter_add(a, 3);
        sb_metrics_counter_add(b, 5);
        sb_metrics_gauge_set(g, 1);
        ck_assert_uint_eq(sb_metrics_count(m), 4);
        assert_text("# HELP events_total Events.\n"
                    "# TYPE events_total counter\n"
                    "events_total{dataset=\"market.business_license\"} 3\n"
                    "events_total{dataset=\"civil.resident\"} 5\n"
                    "events_total{dataset=\"tax.taxpayer\",op=\"d\"} 0\n"
                    "# HELP up Up.\n"
                    "# TYPE up gauge\n"
                    "up 1\n");
}
END_TEST

START_TEST(test_gauge_set_add_and_numbers) {
        static const struct {
                double v;
                const char *text;
        } cases[] = {
                {0, "0"},
                {-0.0, "0"},
                {1, "1"},
                {-3, "-3"},
                {0.1, "0.1"},
                {0.005, "0.005"},
                {2.5, "2.5"},
                {1e-5, "1e-05"},
                {1.0 / 3, "0.3333333333333333"},
                {12345678901.0, "12345678901"},
                {1e18, "1000000000000000000"},
                {1e20, "1e+20"},
                {NAN, "NaN"},
                {INFINITY, "+Inf"},
                {-INFINITY, "-Inf"},
        };
        sb_metrics_gauge_t *g;
        TEST_CALL(sb_metrics_register_gauge(m, "g", "A gauge.", NULL, 0, &g, TEST_ERR));
        for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
                char want[256];
                sb_metrics_gauge_set(g, cases[i].v);
                snprintf(want, sizeof(want), "# HELP g A gauge.\n# TYPE g gauge\ng %s\n", cases[i].text);
                assert_text(want);
        }
        sb_metrics_gauge_set(g, 10);
        sb_metrics_gauge_add(g, 2.5);
        sb_metrics_gauge_add(g, -4);
        ck_assert(sb_metrics_gauge_value(g) == 8.5);
        assert_text("# HELP g A gauge.\n# TYPE g gauge\ng 8.5\n");
}
END_TEST

START_TEST(test_counter_beyond_double_precision_is_exact) {
        sb_metrics_counter_t *c;
        TEST_CALL(sb_metrics_register_counter(m, "big_total", "Big.", NULL, 0, &c, TEST_ERR));
        sb_metrics_counter_add(c, UINT64_MAX);
        assert_text("# HELP big_total Big.\n# TYPE big_total counter\nbig_total 18446744073709551615\n");
}
END_TEST

START_TEST(test_histogram_without_labels) {
        static const double bounds[] = {0.005, 0.1, 1, 10};
        sb_metrics_histogram_t *h;
        TEST_CALL(sb_metrics_register_histogram(m, "publish_seconds", "Time to publish.", NULL, 0, bounds, 4,
                                                &h, TEST_ERR));
        assert_text("# HELP publish_seconds Time to publish.\n"
                    "# TYPE publish_seconds histogram\n"
                    "publish_seconds_bucket{le=\"0.005\"} 0\n"
                    "publish_seconds_bucket{le=\"0.1\"} 0\n"
                    "publish_seconds_bucket{le=\"1\"} 0\n"
                    "publish_seconds_bucket{le=\"10\"} 0\n"
                    "publish_seconds_bucket{le=\"+Inf\"} 0\n"
                    "publish_seconds_sum 0\n"
                    "publish_seconds_count 0\n");
        /* A value equal to a bound is in that bound's bucket (le). */
        sb_metrics_histogram_observe(h, 0.005);
        sb_metrics_histogram_observe(h, 0.05);
        sb_metrics_histogram_observe(h, 0.1);
        sb_metrics_histogram_observe(h, 2);
        sb_metrics_histogram_observe(h, 100);
        sb_metrics_histogram_observe(h, -1);
        ck_assert_uint_eq(sb_metrics_histogram_count(h), 6);
        ck_assert(sb_metrics_histogram_sum(h) == 0.005 + 0.05 + 0.1 + 2 + 100 - 1);
        assert_text("# HELP publish_seconds Time to publish.\n"
                    "# TYPE publish_seconds histogram\n"
                    "publish_seconds_bucket{le=\"0.005\"} 2\n"
                    "publish_seconds_bucket{le=\"0.1\"} 4\n"
                    "publish_seconds_bucket{le=\"1\"} 4\n"
                    "publish_seconds_bucket{le=\"10\"} 5\n"
                    "publish_seconds_bucket{le=\"+Inf\"} 6\n"
                    "publish_seconds_sum 101.155\n"
                    "publish_seconds_count 6\n");
}
END_TEST

START_TEST(test_histogram_with_labels) {
        static const double bounds[] = {1, 2.5};
        sb_metrics_histogram_t *a, *b;
        TEST_CALL(sb_metrics_register_histogram(m, "batch_rows", "Rows per batch.", ds_license, 1, bounds, 2,
                                                &a, TEST_ERR));
        TEST_CALL(sb_metrics_register_histogram(m, "batch_rows", "Rows per batch.", ds_resident, 1, bounds, 2,
                                                &b, TEST_ERR));
        sb_metrics_histogram_observe(a, 1);
        sb_metrics_histogram_observe(a, 3);
        sb_metrics_histogram_observe(b, NAN); /* +Inf bucket; the sum becomes NaN */
        assert_text("# HELP batch_rows Rows per batch.\n"
                    "# TYPE batch_rows histogram\n"
                    "batch_rows_bucket{dataset=\"market.business_license\",le=\"1\"} 1\n"
                    "batch_rows_bucket{dataset=\"market.business_license\",le=\"2.5\"} 1\n"
                    "batch_rows_bucket{dataset=\"market.business_license\",le=\"+Inf\"} 2\n"
                    "batch_rows_sum{dataset=\"market.business_license\"} 4\n"
                    "batch_rows_count{dataset=\"market.business_license\"} 2\n"
                    "batch_rows_bucket{dataset=\"civil.resident\",le=\"1\"} 0\n"
                    "batch_rows_bucket{dataset=\"civil.resident\",le=\"2.5\"} 0\n"
                    "batch_rows_bucket{dataset=\"civil.resident\",le=\"+Inf\"} 1\n"
                    "batch_rows_sum{dataset=\"civil.resident\"} NaN\n"
                    "batch_rows_count{dataset=\"civil.resident\"} 1\n");
}
END_TEST

START_TEST(test_label_values_and_help_are_escaped) {
        sb_metrics_gauge_t *g;
        const sb_metrics_label_t labels[] = {{"path", "C:\\dir\\\"x\"\nnext"},
                                             {"utf8", "Sozialversicherung \xc3\xa4"}};
        TEST_CALL(sb_metrics_register_gauge(m, "esc", "Help with \\ and \"quotes\"\nand a second line.",
                                            labels, 2, &g, TEST_ERR));
        /* Help keeps the double quote (the format escapes it only in label
         * values). */
        assert_text("# HELP esc Help with \\\\ and \"quotes\"\\nand a second line.\n"
                    "# TYPE esc gauge\n"
                    "esc{path=\"C:\\\\dir\\\\\\\"x\\\"\\nnext\",utf8=\"Sozialversicherung \xc3\xa4\"} 0\n");
}
END_TEST

static double backlog(void *opaque) { return (double)*(const int *)opaque; }

START_TEST(test_callback_gauge_is_computed_at_render) {
        int rows = 7;
        TEST_CALL(sb_metrics_register_gauge_fn(m, "outbox_backlog", "Unsent outbox rows.", ds_license, 1,
                                               backlog, &rows, TEST_ERR));
        assert_text("# HELP outbox_backlog Unsent outbox rows.\n"
                    "# TYPE outbox_backlog gauge\n"
                    "outbox_backlog{dataset=\"market.business_license\"} 7\n");
        rows = 0;
        assert_text("# HELP outbox_backlog Unsent outbox rows.\n"
                    "# TYPE outbox_backlog gauge\n"
                    "outbox_backlog{dataset=\"market.business_license\"} 0\n");
        char err[256] = "";
        ck_assert_int_eq(sb_metrics_register_gauge_fn(m, "x", "X.", NULL, 0, NULL, NULL, err, sizeof(err)),
                         SB_ERR_INVALID);
        ck_assert_str_eq(err, "metric 'x': no callback");
}
END_TEST

/* Registrations that must be refused, each with the start of its error. */
typedef enum { REG_COUNTER, REG_GAUGE, REG_HISTOGRAM } reg_kind_t;
static const double ok_bounds[] = {1, 2};
static const double nan_bounds[] = {1, NAN};
static const double inf_bounds[] = {1, INFINITY};
static const double flat_bounds[] = {1, 1};
static const double down_bounds[] = {2, 1};
static const double many_bounds[SB_METRICS_MAX_BUCKETS + 1] = {0};
static const sb_metrics_label_t bad_colon[] = {{"a:b", "x"}};
static const sb_metrics_label_t bad_digit[] = {{"1a", "x"}};
static const sb_metrics_label_t bad_reserved[] = {{"__name__", "x"}};
static const sb_metrics_label_t bad_le[] = {{"le", "1"}};
static const sb_metrics_label_t bad_twice[] = {{"a", "1"}, {"a", "2"}};
static const sb_metrics_label_t bad_null_value[] = {{"a", NULL}};
static const sb_metrics_label_t bad_utf8[] = {{"a", "\xff"}};
static const sb_metrics_label_t nine[] = {{"a", "1"}, {"b", "1"}, {"c", "1"}, {"d", "1"}, {"e", "1"},
                                          {"f", "1"}, {"g", "1"}, {"h", "1"}, {"i", "1"}};
static const sb_metrics_label_t ba[] = {{"b", "2"}, {"a", "1"}};

static const struct {
        reg_kind_t kind;
        const char *name, *help;
        const sb_metrics_label_t *labels;
        size_t n_labels;
        const double *bounds;
        size_t n_bounds;
        const char *error;
} refusals[] = {
        {REG_COUNTER, "", "h", NULL, 0, NULL, 0, "metric name '' is not [a-zA-Z_:][a-zA-Z0-9_:]*"},
        {REG_COUNTER, NULL, "h", NULL, 0, NULL, 0, "metric name '(null)' is not"},
        {REG_COUNTER, "1abc", "h", NULL, 0, NULL, 0, "metric name '1abc' is not"},
        {REG_COUNTER, "a-b", "h", NULL, 0, NULL, 0, "metric name 'a-b' is not"},
        {REG_GAUGE, "a b", "h", NULL, 0, NULL, 0, "metric name 'a b' is not"},
        {REG_GAUGE, "caf\xc3\xa9", "h", NULL, 0, NULL, 0, "metric name 'caf"},
        {REG_COUNTER, "ok", "", NULL, 0, NULL, 0, "metric 'ok': the help text must be UTF-8 of 1 to"},
        {REG_COUNTER, "ok", NULL, NULL, 0, NULL, 0, "metric 'ok': the help text"},
        {REG_COUNTER, "ok", "\xc3", NULL, 0, NULL, 0, "metric 'ok': the help text"},
        {REG_COUNTER, "ok", "h", bad_colon, 1, NULL, 0, "metric 'ok': label name 'a:b' is not [a-zA-Z_]"},
        {REG_COUNTER, "ok", "h", bad_digit, 1, NULL, 0, "metric 'ok': label name '1a' is not"},
        {REG_COUNTER, "ok", "h", bad_reserved, 1, NULL, 0,
         "metric 'ok': label name '__name__': names starting with __ are reserved"},
        {REG_COUNTER, "ok", "h", bad_twice, 2, NULL, 0, "metric 'ok': label 'a' given twice"},
        {REG_COUNTER, "ok", "h", bad_null_value, 1, NULL, 0,
         "metric 'ok': label 'a': the value must be UTF-8"},
        {REG_COUNTER, "ok", "h", bad_utf8, 1, NULL, 0, "metric 'ok': label 'a': the value must be UTF-8"},
        {REG_COUNTER, "ok", "h", nine, 9, NULL, 0, "metric 'ok': 9 labels, at most 8 are allowed"},
        {REG_COUNTER, "ok", "h", NULL, 1, NULL, 0, "metric 'ok': no labels array"},
        {REG_HISTOGRAM, "ok", "h", bad_le, 1, ok_bounds, 2,
         "histogram 'ok': label name 'le' is its buckets'"},
        {REG_HISTOGRAM, "ok", "h", NULL, 0, ok_bounds, 0,
         "histogram 'ok': 0 bucket bounds, it needs 1 to 32"},
        {REG_HISTOGRAM, "ok", "h", NULL, 0, NULL, 3, "histogram 'ok': 0 bucket bounds"},
        {REG_HISTOGRAM, "ok", "h", NULL, 0, many_bounds, SB_METRICS_MAX_BUCKETS + 1,
         "histogram 'ok': 33 bucket bounds, it needs 1 to 32"},
        {REG_HISTOGRAM, "ok", "h", NULL, 0, nan_bounds, 2, "histogram 'ok': bucket bound 1 is not finite"},
        {REG_HISTOGRAM, "ok", "h", NULL, 0, inf_bounds, 2, "histogram 'ok': bucket bound 1 is not finite"},
        {REG_HISTOGRAM, "ok", "h", NULL, 0, flat_bounds, 2, "histogram 'ok': bucket bounds must increase"},
        {REG_HISTOGRAM, "ok", "h", NULL, 0, down_bounds, 2, "histogram 'ok': bucket bounds must increase"},
        /* against what the fixture registered (see test_refused) */
        {REG_GAUGE, "taken_total", "Taken.", NULL, 0, NULL, 0,
         "metric 'taken_total': already registered as a counter, not a gauge"},
        {REG_COUNTER, "taken_total", "Other help.", ds_resident, 1, NULL, 0,
         "metric 'taken_total': already registered with other help text"},
        {REG_COUNTER, "taken_total", "Taken.", ds_license, 1, NULL, 0,
         "metric 'taken_total'{dataset=\"market.business_license\"}: already registered with these labels"},
        {REG_COUNTER, "two_total", "Two.", ba, 2, NULL, 0,
         "metric 'two_total'{b=\"2\",a=\"1\"}: already registered with these labels"},
        {REG_COUNTER, "lat_count", "h", NULL, 0, NULL, 0,
         "metric 'lat_count': clashes with the _count series of histogram 'lat'"},
        {REG_GAUGE, "lat_bucket", "h", NULL, 0, NULL, 0, "metric 'lat_bucket': clashes with the _bucket"},
        {REG_HISTOGRAM, "lat_sum", "h", NULL, 0, ok_bounds, 2, "metric 'lat_sum': clashes with the _sum"},
        {REG_HISTOGRAM, "rows", "h", NULL, 0, ok_bounds, 2,
         "histogram 'rows': its _sum series clashes with metric 'rows_sum'"},
};

START_TEST(test_refused) {
        sb_metrics_counter_t *c;
        sb_metrics_gauge_t *g;
        sb_metrics_histogram_t *h;
        const sb_metrics_label_t ab[] = {{"a", "1"}, {"b", "2"}};
        TEST_CALL(sb_metrics_register_counter(m, "taken_total", "Taken.", ds_license, 1, &c, TEST_ERR));
        TEST_CALL(sb_metrics_register_counter(m, "two_total", "Two.", ab, 2, &c, TEST_ERR));
        TEST_CALL(sb_metrics_register_histogram(m, "lat", "h", NULL, 0, ok_bounds, 2, &h, TEST_ERR));
        TEST_CALL(sb_metrics_register_gauge(m, "rows_sum", "h", NULL, 0, &g, TEST_ERR));
        sb_buf_t before;
        sb_buf_init(&before, 1 << 20);
        TEST_CALL(sb_metrics_render(m, &before, TEST_ERR));
        ck_assert_int_eq(sb_buf_append(&before, "", 0), SB_OK);

        for (size_t i = 0; i < sizeof(refusals) / sizeof(refusals[0]); i++) {
                char err[512] = "";
                sb_err_t rc;
                void *out = (void *)1;
                switch (refusals[i].kind) {
                case REG_COUNTER:
                        rc = sb_metrics_register_counter(m, refusals[i].name, refusals[i].help,
                                                         refusals[i].labels, refusals[i].n_labels, &c, err,
                                                         sizeof(err));
                        out = c;
                        break;
                case REG_GAUGE:
                        rc = sb_metrics_register_gauge(m, refusals[i].name, refusals[i].help,
                                                       refusals[i].labels, refusals[i].n_labels, &g, err,
                                                       sizeof(err));
                        out = g;
                        break;
                default:
                        rc = sb_metrics_register_histogram(m, refusals[i].name, refusals[i].help,
                                                           refusals[i].labels, refusals[i].n_labels,
                                                           refusals[i].bounds, refusals[i].n_bounds, &h, err,
                                                           sizeof(err));
                        out = h;
                        break;
                }
                ck_assert_msg(rc == SB_ERR_INVALID, "case %zu: rc %d (%s)", i, rc, err);
                ck_assert_msg(out == NULL, "case %zu: a handle on failure", i);
                ck_assert_msg(strncmp(err, refusals[i].error, strlen(refusals[i].error)) == 0,
                              "case %zu: error '%s', want '%s...'", i, err, refusals[i].error);
        }
        /* Nothing of the refusals shows. */
        ck_assert_uint_eq(sb_metrics_count(m), 4);
        assert_text((const char *)before.data);
        sb_buf_free(&before);
}
END_TEST

START_TEST(test_long_names_are_refused) {
        char name[SB_METRICS_MAX_NAME + 2], err[512] = "";
        sb_metrics_counter_t *c;
        memset(name, 'a', sizeof(name) - 1);
        name[sizeof(name) - 1] = '\0';
        ck_assert_int_eq(sb_metrics_register_counter(m, name, "h", NULL, 0, &c, err, sizeof(err)),
                         SB_ERR_INVALID);
        ck_assert_ptr_nonnull(strstr(err, "of at most 128 bytes"));
        name[SB_METRICS_MAX_NAME] = '\0'; /* 128 is fine */
        TEST_CALL(sb_metrics_register_counter(m, name, "h", NULL, 0, &c, TEST_ERR));

        char *value = malloc(SB_METRICS_MAX_TEXT + 2);
        ck_assert_ptr_nonnull(value);
        memset(value, 'v', SB_METRICS_MAX_TEXT + 1);
        value[SB_METRICS_MAX_TEXT + 1] = '\0';
        const sb_metrics_label_t l[] = {{"a", value}};
        ck_assert_int_eq(sb_metrics_register_counter(m, "v", "h", l, 1, &c, err, sizeof(err)),
                         SB_ERR_INVALID);
        ck_assert_str_eq(err, "metric 'v': label 'a': the value must be UTF-8 of at most 1024 bytes");
        ck_assert_int_eq(sb_metrics_register_counter(m, "v", value, NULL, 0, &c, err, sizeof(err)),
                         SB_ERR_INVALID);
        ck_assert_str_eq(err, "metric 'v': the help text must be UTF-8 of 1 to 1024 bytes");
        free(value);
}
END_TEST

START_TEST(test_at_most_max_series) {
        char value[32], err[512] = "";
        sb_metrics_counter_t *c;
        for (int i = 0; i < SB_METRICS_MAX; i++) {
                snprintf(value, sizeof(value), "%d", i);
                const sb_metrics_label_t l[] = {{"n", value}};
                /* Half a family of many series, half families of one. */
                char name[32];
                snprintf(name, sizeof(name), "m%d_total", i % 2 ? i : 0);
                TEST_CALL(sb_metrics_register_counter(m, name, "h", l, 1, &c, TEST_ERR));
        }
        ck_assert_uint_eq(sb_metrics_count(m), SB_METRICS_MAX);
        const sb_metrics_label_t l[] = {{"n", "new"}};
        ck_assert_int_eq(sb_metrics_register_counter(m, "m0_total", "h", l, 1, &c, err, sizeof(err)),
                         SB_ERR_INVALID);
        ck_assert_str_eq(err, "metric 'm0_total': the set already holds 1024 series, the most it may");
        ck_assert_ptr_null(c);
        ck_assert_int_eq(sb_metrics_register_counter(m, "fresh_total", "h", NULL, 0, &c, err, sizeof(err)),
                         SB_ERR_INVALID);
        ck_assert_uint_eq(sb_metrics_count(m), SB_METRICS_MAX);
        sb_buf_t b;
        sb_buf_init(&b, 1 << 20);
        TEST_CALL(sb_metrics_render(m, &b, TEST_ERR));
        ck_assert_ptr_null(strstr((const char *)b.data, "fresh_total"));
        sb_buf_free(&b);
}
END_TEST

START_TEST(test_render_past_buffer_max_fails) {
        sb_metrics_counter_t *c;
        char err[256] = "";
        TEST_CALL(sb_metrics_register_counter(m, "events_total", "Events published.", NULL, 0, &c, TEST_ERR));
        sb_buf_t b;
        sb_buf_init(&b, 16);
        ck_assert_int_eq(sb_metrics_render(m, &b, err, sizeof(err)), SB_ERR_NOMEM);
        ck_assert_str_eq(err, "metrics text longer than 16 bytes");
        sb_buf_free(&b);
}
END_TEST

#define THREADS 4
#define ROUNDS 100000

typedef struct {
        sb_metrics_counter_t *c;
        sb_metrics_gauge_t *g;
        sb_metrics_histogram_t *h;
} handles_t;

static void *hammer(void *arg) {
        const handles_t *hs = arg;
        for (int i = 0; i < ROUNDS; i++) {
                sb_metrics_counter_inc(hs->c);
                sb_metrics_gauge_add(hs->g, 1);
                /* Halves and integers: every partial sum is exact. */
                sb_metrics_histogram_observe(hs->h, i % 2 ? 0.5 : 2);
        }
        return NULL;
}

START_TEST(test_concurrent_updates_add_up_exactly) {
        static const double bounds[] = {1};
        handles_t hs;
        TEST_CALL(sb_metrics_register_counter(m, "n_total", "N.", NULL, 0, &hs.c, TEST_ERR));
        TEST_CALL(sb_metrics_register_gauge(m, "g", "G.", NULL, 0, &hs.g, TEST_ERR));
        TEST_CALL(sb_metrics_register_histogram(m, "h", "H.", NULL, 0, bounds, 1, &hs.h, TEST_ERR));
        pthread_t t[THREADS];
        for (int i = 0; i < THREADS; i++)
                ck_assert_int_eq(pthread_create(&t[i], NULL, hammer, &hs), 0);
        /* Renders while they run: must not crash or tear (ASan/TSan food). */
        for (int i = 0; i < 20; i++) {
                sb_buf_t b;
                sb_buf_init(&b, 1 << 20);
                TEST_CALL(sb_metrics_render(m, &b, TEST_ERR));
                sb_buf_free(&b);
        }
        for (int i = 0; i < THREADS; i++)
                ck_assert_int_eq(pthread_join(t[i], NULL), 0);
        ck_assert_uint_eq(sb_metrics_counter_value(hs.c), THREADS * ROUNDS);
        ck_assert(sb_metrics_gauge_value(hs.g) == THREADS * ROUNDS);
        ck_assert_uint_eq(sb_metrics_histogram_count(hs.h), THREADS * ROUNDS);
        assert_text("# HELP n_total N.\n# TYPE n_total counter\nn_total 400000\n"
                    "# HELP g G.\n# TYPE g gauge\ng 400000\n"
                    "# HELP h H.\n# TYPE h histogram\n"
                    "h_bucket{le=\"1\"} 200000\n"
                    "h_bucket{le=\"+Inf\"} 400000\n"
                    "h_sum 500000\n"
                    "h_count 400000\n");
}
END_TEST

START_TEST(test_destroy_null_is_a_no_op) { sb_metrics_destroy(NULL); }
END_TEST

int main(void) {
        Suite *s = suite_create("metrics");
        TCase *tc = tcase_create("render");
        tcase_add_checked_fixture(tc, setup, teardown);
        tcase_add_test(tc, test_empty_set_renders_nothing);
        tcase_add_test(tc, test_counter_without_labels);
        tcase_add_test(tc, test_same_name_other_labels_share_one_block);
        tcase_add_test(tc, test_gauge_set_add_and_numbers);
        tcase_add_test(tc, test_counter_beyond_double_precision_is_exact);
        tcase_add_test(tc, test_histogram_without_labels);
        tcase_add_test(tc, test_histogram_with_labels);
        tcase_add_test(tc, test_label_values_and_help_are_escaped);
        tcase_add_test(tc, test_callback_gauge_is_computed_at_render);
        tcase_add_test(tc, test_render_past_buffer_max_fails);
        tcase_add_test(tc, test_destroy_null_is_a_no_op);
        suite_add_tcase(s, tc);

        tc = tcase_create("refusals");
        tcase_add_checked_fixture(tc, setup, teardown);
        tcase_add_test(tc, test_refused);
        tcase_add_test(tc, test_long_names_are_refused);
        tcase_add_test(tc, test_at_most_max_series);
        suite_add_tcase(s, tc);

        tc = tcase_create("threads");
        tcase_add_checked_fixture(tc, setup, teardown);
        tcase_set_timeout(tc, 60);
        tcase_add_test(tc, test_concurrent_updates_add_up_exactly);
        suite_add_tcase(s, tc);
        return test_run_suite(s);
}

/*
 * Integration: several sharebus-registry instances keep one state in Kafka
 * (`_sharebus_schemas`), every one accepting writes, with no leader; state
 * survives restarts of all of them.
 */
#include <curl/curl.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"

static h_env_t env;

typedef struct {
        pid_t pid;
        char url[128];
        char name[32];
} instance_t;

static const char *topic = "_sharebus_schemas_cluster";

static void start_instance(instance_t *in, const char *name) {
        char conf_name[64], port_file[600], conf[700], log[600];
        snprintf(in->name, sizeof(in->name), "%s", name);
        snprintf(port_file, sizeof(port_file), "%s/%s.port", env.dir, name);
        remove(port_file);
        snprintf(conf_name, sizeof(conf_name), "%s.conf", name);
        snprintf(conf, sizeof(conf), "%s",
                 h_write_file(&env, conf_name,
                              "listen_port = 0;\nport_file = \"%s\";\nstorage = \"kafka\";\n"
                              "schemas_topic = \"%s\";\nkafka = { bootstrap_servers = \"%s\"; };\n",
                              port_file, topic, env.bootstrap));
        snprintf(log, sizeof(log), "%s/%s.log", env.dir, name);
        char bin[1200];
        snprintf(bin, sizeof(bin), "%s", h_bin(&env, "sharebus-registry"));
        char *argv[] = {bin, "--config", conf, NULL};
        in->pid = h_spawn(argv, log);
        char port[32] = "";
        for (int i = 0; i < 1500 && !port[0]; i++) {
                FILE *f = fopen(port_file, "r");
                if (f) {
                        if (!fgets(port, sizeof(port), f))
                                port[0] = 0;
                        fclose(f);
                }
                if (!port[0])
                        h_sleep_ms(20);
        }
        ck_assert_msg(port[0], "registry %s did not start (see %s)", name, log);
        port[strcspn(port, "\r\n")] = 0;
        snprintf(in->url, sizeof(in->url), "http://127.0.0.1:%s", port);
}

static void stop_instance(instance_t *in, int sig) {
        kill(in->pid, sig);
        int rc = h_wait(in->pid, 20000);
        ck_assert_int_eq(rc, sig == SIGKILL ? 128 + SIGKILL : 0);
}

static size_t on_body(char *data, size_t size, size_t n, void *opaque) {
        json_t **out = opaque;
        json_decref(*out);
        *out = json_loadb(data, size * n, 0, NULL);
        return size * n;
}

/* One request; returns the HTTP status and sets *reply (new reference). */
static long http(const char *method, const char *url, const char *body, json_t **reply) {
        CURL *c = curl_easy_init();
        struct curl_slist *h =
                curl_slist_append(NULL, "Content-Type: application/vnd.schemaregistry.v1+json");
        long status = 0;
        *reply = NULL;
        curl_easy_setopt(c, CURLOPT_URL, url);
        curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method);
        curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
        curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
        curl_easy_setopt(c, CURLOPT_WRITEDATA, reply);
        curl_easy_setopt(c, CURLOPT_TIMEOUT, 60L);
        if (body)
                curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
        if (curl_easy_perform(c) == CURLE_OK)
                curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
        curl_slist_free_all(h);
        curl_easy_cleanup(c);
        return status;
}

/* A record schema unique to `n`, with fields so versions stay compatible. */
static char *schema_body(int n) {
        json_t *schema = json_pack("{s:s, s:s, s:[{s:s, s:s}]}", "type", "record", "name", "R", "fields",
                                   "name", "f", "type", "string");
        char field[32];
        snprintf(field, sizeof(field), "x%d", n);
        json_array_append_new(json_object_get(schema, "fields"),
                              json_pack("{s:s, s:s, s:i}", "name", field, "type", "int", "default", 0));
        char *text = json_dumps(schema, JSON_COMPACT);
        json_t *body = json_pack("{s:s}", "schema", text);
        char *out = json_dumps(body, JSON_COMPACT);
        free(text);
        json_decref(schema);
        json_decref(body);
        return out;
}

static int register_at(const instance_t *in, const char *subject, int n, int *version) {
        char url[512];
        json_t *reply;
        char *body = schema_body(n);
        snprintf(url, sizeof(url), "%s/subjects/%s/versions", in->url, subject);
        long status = http("POST", url, body, &reply);
        free(body);
        ck_assert_msg(status == 200, "register at %s: HTTP %ld", in->name, status);
        int id = (int)json_integer_value(json_object_get(reply, "id"));
        json_decref(reply);
        if (version) {
                snprintf(url, sizeof(url), "%s/subjects/%s/versions/latest", in->url, subject);
                http("GET", url, NULL, &reply);
                *version = (int)json_integer_value(json_object_get(reply, "version"));
                json_decref(reply);
        }
        return id;
}

/* Everything an instance knows, as one JSON document to compare. */
static json_t *dump_state(const instance_t *in) {
        char url[512];
        json_t *subjects, *state = json_object();
        ck_assert_int_eq(
                http("GET", (snprintf(url, sizeof(url), "%s/subjects", in->url), url), NULL, &subjects), 200);
        size_t i;
        json_t *s;
        json_array_foreach(subjects, i, s) {
                json_t *versions, *v, *list = json_array();
                snprintf(url, sizeof(url), "%s/subjects/%s/versions", in->url, json_string_value(s));
                ck_assert_int_eq(http("GET", url, NULL, &versions), 200);
                size_t k;
                json_array_foreach(versions, k, v) {
                        json_t *one;
                        snprintf(url, sizeof(url), "%s/subjects/%s/versions/%lld", in->url,
                                 json_string_value(s), (long long)json_integer_value(v));
                        ck_assert_int_eq(http("GET", url, NULL, &one), 200);
                        json_array_append_new(list, one);
                }
                json_decref(versions);
                json_object_set_new(state, json_string_value(s), list);
        }
        json_decref(subjects);
        /* Configuration and soft-deleted subjects are state too. */
        json_t *cfg, *all;
        ck_assert_int_eq(http("GET", (snprintf(url, sizeof(url), "%s/config", in->url), url), NULL, &cfg),
                         200);
        json_object_set_new(state, "(global config)", cfg);
        ck_assert_int_eq(http("GET", (snprintf(url, sizeof(url), "%s/config/same.s0-value", in->url), url),
                              NULL, &cfg),
                         200);
        json_object_set_new(state, "(config same.s0-value)", cfg);
        ck_assert_int_eq(http("GET", (snprintf(url, sizeof(url), "%s/subjects?deleted=true", in->url), url),
                              NULL, &all),
                         200);
        json_object_set_new(state, "(subjects with deleted)", all);
        return state;
}

typedef struct {
        const instance_t *in;
        int first, count;
        const char *subject_fmt;
        int ids[64];
} worker_t;

static void *worker(void *arg) {
        worker_t *w = arg;
        for (int i = 0; i < w->count; i++) {
                char subject[128];
                snprintf(subject, sizeof(subject), w->subject_fmt, (w->first + i) % 4);
                w->ids[i] = register_at(w->in, subject, w->first + i, NULL);
        }
        return NULL;
}

START_TEST(two_instances_agree_and_survive_restarts) {
        instance_t a = {0}, b = {0};
        start_instance(&a, "reg-a");
        start_instance(&b, "reg-b");

        /* The same schema at both instances at once: one id. */
        pthread_t t[8];
        worker_t w[8];
        for (int k = 0; k < 8; k++) {
                w[k] = (worker_t){
                        .in = k % 2 ? &b : &a, .first = 0, .count = 10, .subject_fmt = "same.s%d-value"};
                pthread_create(&t[k], NULL, worker, &w[k]);
        }
        for (int k = 0; k < 8; k++)
                pthread_join(t[k], NULL);
        for (int k = 1; k < 8; k++)
                for (int i = 0; i < 10; i++)
                        ck_assert_int_eq(w[k].ids[i], w[0].ids[i]);

        /* Different schemas at both instances at once: distinct ids, no gaps in versions. */
        for (int k = 0; k < 8; k++) {
                w[k] = (worker_t){.in = k % 2 ? &b : &a,
                                  .first = 100 + k * 10,
                                  .count = 10,
                                  .subject_fmt = "diff.s%d-value"};
                pthread_create(&t[k], NULL, worker, &w[k]);
        }
        for (int k = 0; k < 8; k++)
                pthread_join(t[k], NULL);
        int seen[80] = {0}, n = 0;
        for (int k = 0; k < 8; k++)
                for (int i = 0; i < 10; i++) {
                        for (int j = 0; j < n; j++)
                                ck_assert_msg(seen[j] != w[k].ids[i], "id %d given twice", w[k].ids[i]);
                        seen[n++] = w[k].ids[i];
                }

        /* Config and deletes through either instance reach both. */
        char url[512];
        json_t *reply;
        snprintf(url, sizeof(url), "%s/config/same.s0-value", a.url);
        ck_assert_int_eq(http("PUT", url, "{\"compatibility\":\"FULL\"}", &reply), 200);
        json_decref(reply);
        snprintf(url, sizeof(url), "%s/subjects/diff.s1-value", b.url);
        ck_assert_int_eq(http("DELETE", url, NULL, &reply), 200);
        json_decref(reply);
        snprintf(url, sizeof(url), "%s/subjects/diff.s2-value", a.url);
        ck_assert_int_eq(http("DELETE", url, NULL, &reply), 200);
        json_decref(reply);
        snprintf(url, sizeof(url), "%s/subjects/diff.s2-value?permanent=true", b.url);
        ck_assert_int_eq(http("DELETE", url, NULL, &reply), 200);
        json_decref(reply);
        h_sleep_ms(500); /* the other instance applies within milliseconds */

        json_t *state_a = dump_state(&a), *state_b = dump_state(&b);
        ck_assert_str_eq(json_string_value(json_object_get(json_object_get(state_a, "(config same.s0-value)"),
                                                           "compatibilityLevel")),
                         "FULL");
        ck_assert_ptr_null(json_object_get(state_a, "diff.s1-value"));
        ck_assert_ptr_null(json_object_get(state_a, "diff.s2-value"));
        ck_assert_msg(json_equal(state_a, state_b), "instances disagree");
        size_t versions = 0;
        const char *key;
        json_t *list;
        json_object_foreach(state_a, key, list) {
                if (key[0] == '(')
                        continue; /* config and the deleted listing */
                versions += json_array_size(list);
                for (size_t i = 0; i < json_array_size(list); i++)
                        ck_assert_int_eq(
                                json_integer_value(json_object_get(json_array_get(list, i), "version")),
                                (json_int_t)i + 1);
        }
        /* 10 distinct schemas in "same", 80 in "diff" of which s1 and s2 (20 each) are deleted */
        ck_assert_uint_eq(versions, 10 + 80 - 40);

        /* Restart both (one killed hard): the state comes back from the log. */
        stop_instance(&a, SIGTERM);
        stop_instance(&b, SIGKILL);
        start_instance(&b, "reg-b");
        start_instance(&a, "reg-a");
        json_t *again_a = dump_state(&a), *again_b = dump_state(&b);
        ck_assert_msg(json_equal(state_a, again_a), "state changed across the restart of a");
        ck_assert_msg(json_equal(state_a, again_b), "state changed across the restart of b");
        /* New ids continue after the old ones: never reused. */
        int max = 0;
        for (int j = 0; j < n; j++)
                max = seen[j] > max ? seen[j] : max;
        int version = 0;
        int fresh = register_at(&b, "after.restart-value", 9999, &version);
        ck_assert_int_gt(fresh, max);
        ck_assert_int_eq(version, 1);
        ck_assert_int_eq(register_at(&a, "after.restart-value", 9999, NULL), fresh);
        json_decref(state_a);
        json_decref(state_b);
        json_decref(again_a);
        json_decref(again_b);
        stop_instance(&a, SIGTERM);
        stop_instance(&b, SIGTERM);
}
END_TEST

int main(void) {
        curl_global_init(CURL_GLOBAL_DEFAULT);
        if (h_env_start(&env) != 0)
                return 1;
        Suite *s = suite_create("registry_cluster");
        TCase *tc = tcase_create("cluster");
        tcase_set_timeout(tc, 300);
        tcase_add_test(tc, two_instances_agree_and_survive_restarts);
        suite_add_tcase(s, tc);
        SRunner *sr = srunner_create(s);
        srunner_run_all(sr, CK_NORMAL);
        int failed = srunner_ntests_failed(sr);
        srunner_free(sr);
        h_env_stop(&env);
        curl_global_cleanup();
        return failed ? 1 : 0;
}

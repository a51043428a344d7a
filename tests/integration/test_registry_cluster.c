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

static void start_instance_on(instance_t *in, const char *name, const char *log_topic) {
        char settings[256];
        snprintf(in->name, sizeof(in->name), "%s", name);
        snprintf(settings, sizeof(settings), "schemas_topic = \"%s\";", log_topic);
        ck_assert_msg(
                h_start_registry(&env, name, "http", settings, NULL, &in->pid, in->url, sizeof(in->url)) == 0,
                "registry %s did not start (see %s/%s.log)", name, env.dir, name);
}

static void start_instance(instance_t *in, const char *name) { start_instance_on(in, name, topic); }

static void stop_instance(instance_t *in, int sig) {
        kill(in->pid, sig);
        int rc = h_wait(in->pid, 20000);
        ck_assert_int_eq(rc, sig == SIGKILL ? 128 + SIGKILL : 0);
}

/* One request; returns the HTTP status and sets *reply to the body as JSON
 * (new reference, NULL if it is not JSON). */
static long http(const char *method, const char *url, const char *body, json_t **reply) {
        h_reply_t rep;
        long status = h_http(method, url, NULL, NULL, body, &rep);
        *reply = rep.text ? json_loads(rep.text, 0, NULL) : NULL;
        h_reply_free(&rep);
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
        /* Each instance answers once it has applied its own write; the other
         * one applies it when its reader gets there (milliseconds): give it
         * up to 10 s before calling a difference a disagreement. */
        json_t *state_a = dump_state(&a), *state_b = dump_state(&b);
        for (int i = 0; i < 100 && !json_equal(state_a, state_b); i++) {
                h_sleep_ms(100);
                json_decref(state_a);
                json_decref(state_b);
                state_a = dump_state(&a);
                state_b = dump_state(&b);
        }
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

/* One command record, as any client with write access to the topic could
 * append it. */
static void append(const char *log_topic, const char *command) {
        h_produce_raw(&env, log_topic, "k", 1, command, command ? strlen(command) : 0);
}

/* Records in the command log that cannot be applied (not JSON, not a
 * command, a subject that is not a string, a schema that nests 30,000
 * deep, a tombstone, random bytes near the size limit) are logged and
 * skipped the same way by every instance: each starts, replays past them,
 * and agrees on the state the good commands made (a recursive schema, as
 * Avro allows, among them); no id is spent on a refusal. */
START_TEST(commands_that_cannot_be_applied_never_stop_an_instance) {
        const char *log_topic = "_sharebus_schemas_poison";
        ck_assert_int_eq(h_create_topic(&env, log_topic, 1), 0);
        append(log_topic, "not json at all {");
        append(log_topic, "[1,2,3]");
        append(log_topic, "{\"type\":\"NO_SUCH_COMMAND\",\"subject\":\"x-value\"}");
        append(log_topic, "{\"type\":\"REGISTER\",\"subject\":42,\"schema\":\"\\\"int\\\"\"}");
        append(log_topic, "{\"type\":\"REGISTER\",\"subject\":\"loop-value\",\"schema\":"
                          "\"{\\\"type\\\":\\\"record\\\",\\\"name\\\":\\\"Loop\\\",\\\"fields\\\":"
                          "[{\\\"name\\\":\\\"me\\\",\\\"type\\\":\\\"Loop\\\"}]}\"}");
        append(log_topic, NULL); /* a tombstone */
        /* A schema of 30,000 nested arrays (31 bytes each), inside a valid
         * command under the broker's record limit. */
        size_t depth = 30000;
        char *deep = malloc(depth * 32 + 256), *p = deep;
        p += sprintf(p, "{\"type\":\"REGISTER\",\"subject\":\"deep-value\",\"schema\":\"");
        for (size_t i = 0; i < depth; i++)
                p += sprintf(p, "{\\\"type\\\":\\\"array\\\",\\\"items\\\":");
        p += sprintf(p, "\\\"int\\\"");
        for (size_t i = 0; i < depth; i++)
                *p++ = '}';
        sprintf(p, "\"}");
        append(log_topic, deep);
        free(deep);
        /* Random bytes close to librdkafka's message limit. */
        size_t big = 900 * 1000;
        unsigned char *noise = malloc(big);
        for (size_t i = 0; i < big; i++)
                noise[i] = (unsigned char)(i * 2654435761u >> 13);
        h_produce_raw(&env, log_topic, "k", 1, noise, big);
        free(noise);
        append(log_topic, "{\"type\":\"REGISTER\",\"subject\":\"good-value\",\"schema\":\"\\\"string\\\"\"}");

        instance_t a = {0}, b = {0};
        start_instance_on(&a, "poison-a", log_topic);
        start_instance_on(&b, "poison-b", log_topic);
        json_t *reply;
        char url[512];
        for (instance_t *in = &a; in; in = in == &a ? &b : NULL) {
                snprintf(url, sizeof(url), "%s/subjects", in->url);
                ck_assert_int_eq(http("GET", url, NULL, &reply), 200);
                char *dump = json_dumps(reply, JSON_COMPACT);
                ck_assert_msg(strcmp(dump, "[\"good-value\",\"loop-value\"]") == 0, "%s holds %s", in->name,
                              dump);
                free(dump);
                json_decref(reply);
                snprintf(url, sizeof(url), "%s/subjects/good-value/versions/1", in->url);
                ck_assert_int_eq(http("GET", url, NULL, &reply), 200);
                ck_assert_int_eq(json_integer_value(json_object_get(reply, "id")), 2);
                json_decref(reply);
        }
        /* Both keep working: a new schema gets the next id at either. */
        snprintf(url, sizeof(url), "%s/subjects/after-value/versions", b.url);
        ck_assert_int_eq(http("POST", url, "{\"schema\":\"\\\"long\\\"\"}", &reply), 200);
        ck_assert_int_eq(json_integer_value(json_object_get(reply, "id")), 3);
        json_decref(reply);
        char log_path[512];
        snprintf(log_path, sizeof(log_path), "%s/poison-a.log", env.dir);
        ck_assert_msg(h_file_contains(log_path, "is not a registry command"), "%s does not log the skip",
                      log_path);
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
        tcase_add_test(tc, commands_that_cannot_be_applied_never_stop_an_instance);
        suite_add_tcase(s, tc);
        int failed = h_run_suite(s);
        h_env_stop(&env);
        curl_global_cleanup();
        return failed ? 1 : 0;
}

/*
 * Interop: our programs with clients nobody here wrote, on a real Kafka
 * broker and a real sharebus-registry.  Confluent's Python client
 * (confluent-kafka: SchemaRegistryClient, AvroSerializer, AvroDeserializer,
 * in the venv of tests/interop/venv.sh) reads what sharebus-producer
 * publishes and publishes what sharebus-subscriber applies; kcat shows the
 * raw wire format and headers.
 */
#include <curl/curl.h>
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "harness.h"
#include "sb_envelope.h"

static h_env_t env;          /* the suite's broker and registry, set up by main */
static char python[1024];    /* the venv's python, from venv.sh */
static char kcat[1024] = ""; /* kcat on PATH, or empty */

/* Runs argv with stdout to `out` (truncated) and stderr appended to `err`;
 * returns as h_wait does. */
static int run_to_files(char *const argv[], const char *out, const char *err, int timeout_ms) {
        pid_t pid = fork();
        if (pid == 0) {
                int o = open(out, O_WRONLY | O_CREAT | O_TRUNC, 0644);
                int e = open(err, O_WRONLY | O_CREAT | O_APPEND, 0644);
                if (o < 0 || e < 0)
                        _exit(126);
                dup2(o, 1);
                dup2(e, 2);
                execv(argv[0], argv);
                fprintf(stderr, "exec %s: %s\n", argv[0], strerror(errno));
                _exit(127);
        }
        return pid < 0 ? -1 : h_wait(pid, timeout_ms);
}

/* Runs tests/interop/<script> with the venv's python; stdout goes to
 * <dir>/<out>, stderr to <dir>/python.log.  Fails the test, showing the
 * log, unless it exits 0. */
static void run_python(const char *script, const char *out, char *const args[]) {
        char *argv[16], path[1200], outp[600], log[600];
        int n = 0;
        snprintf(path, sizeof(path), "%s/tests/interop/%s", env.src, script);
        snprintf(outp, sizeof(outp), "%s", h_path(&env, out));
        snprintf(log, sizeof(log), "%s", h_path(&env, "python.log"));
        argv[n++] = python;
        argv[n++] = path;
        for (int i = 0; args[i] && n < 15; i++)
                argv[n++] = args[i];
        argv[n] = NULL;
        int rc = run_to_files(argv, outp, log, 180000);
        if (rc != 0) {
                char cmd[700];
                snprintf(cmd, sizeof(cmd), "tail -n 20 '%s' 1>&2", log);
                if (system(cmd) != 0)
                        fprintf(stderr, "(no %s)\n", log);
        }
        ck_assert_msg(rc == 0, "%s exited with %d (its stderr is in %s)", script, rc, log);
}

/* The whole file (NUL-terminated; *len without the NUL).  Caller frees. */
static char *slurp(const char *path, size_t *len) {
        FILE *f = fopen(path, "rb");
        ck_assert_msg(f != NULL, "cannot open %s", path);
        ck_assert_int_eq(fseek(f, 0, SEEK_END), 0);
        long size = ftell(f);
        ck_assert_int_ge(size, 0);
        rewind(f);
        char *buf = malloc((size_t)size + 1);
        ck_assert_ptr_nonnull(buf);
        ck_assert_int_eq(fread(buf, 1, (size_t)size, f), (size_t)size);
        fclose(f);
        buf[size] = 0;
        if (len)
                *len = (size_t)size;
        return buf;
}

/* JSON lines of a file as an array.  New reference. */
static json_t *load_lines(const char *path) {
        char *text = slurp(path, NULL), *save = NULL;
        json_t *arr = json_array();
        for (char *line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
                json_error_t err;
                json_t *v = json_loads(line, 0, &err);
                ck_assert_msg(v != NULL, "%s: not JSON: %s: %.200s", path, err.text, line);
                json_array_append_new(arr, v);
        }
        free(text);
        return arr;
}

static json_t *load_json(const char *path) {
        json_error_t err;
        json_t *v = json_load_file(path, 0, &err);
        ck_assert_msg(v != NULL, "%s: not JSON: %s", path, err.text);
        return v;
}

/* Fails with both values shown unless `got` equals `want` (reals exactly). */
static void assert_json_eq(const char *what, long seq, const json_t *want, const json_t *got) {
        if (!want)
                want = json_null(); /* absent and null are the same to us */
        if (got && json_equal(want, got))
                return;
        char *w = json_dumps(want, JSON_COMPACT | JSON_SORT_KEYS | JSON_ENCODE_ANY | JSON_REAL_PRECISION(17));
        char *g = got ? json_dumps(got,
                                   JSON_COMPACT | JSON_SORT_KEYS | JSON_ENCODE_ANY | JSON_REAL_PRECISION(17))
                      : NULL;
        ck_abort_msg("line %ld: %s: expected %s, got %s", seq, what, w, g ? g : "(absent)");
}

/* The string at a dotted path of field names, or NULL. */
static const char *jstr(const json_t *obj, const char *path) {
        char buf[256], *save = NULL;
        snprintf(buf, sizeof(buf), "%s", path);
        for (char *p = strtok_r(buf, ".", &save); p && obj; p = strtok_r(NULL, ".", &save))
                obj = json_object_get(obj, p);
        return json_string_value(obj);
}

/* Header `name` of a record from read_events.py, or NULL. */
static const char *header(const json_t *rec, const char *name) {
        return json_string_value(json_object_get(json_object_get(rec, "headers"), name));
}

START_TEST(python_reads_producer_events_with_equal_values) {
        enum { CHANGES = 200 };
        char lines_path[600], log[600], count[32];
        h_copy_dataset(&env, "market.business_license", "interop.license");
        ck_assert_int_eq(h_create_topic(&env, "interop.license", 3), 0);
        int deletes = h_write_sample(&env, "market.business_license", "license.jsonl", CHANGES, 50, 41,
                                     lines_path, sizeof(lines_path));
        ck_assert_int_gt(deletes, 0);
        snprintf(log, sizeof(log), "%s", h_path(&env, "producer-license.log"));
        ck_assert_int_eq(h_run_producer(&env, "interop", "license", NULL, lines_path, NULL, log), 0);

        snprintf(count, sizeof(count), "%d", CHANGES + deletes);
        char *args[] = {env.bootstrap, env.registry_url, "interop.license", count, NULL};
        run_python("read_events.py", "license-read.jsonl", args);
        json_t *input = load_lines(lines_path);
        json_t *records = load_lines(h_path(&env, "license-read.jsonl"));
        ck_assert_int_eq(json_array_size(input), CHANGES);
        ck_assert_int_eq(json_array_size(records), CHANGES + deletes);

        json_t *seen = json_object();      /* seq -> 1 */
        json_t *key_where = json_object(); /* key -> [partition, last seq] */
        const json_t *prev = NULL;         /* the record before, in the same partition */
        size_t i;
        json_t *rec;
        int tombstones = 0;
        json_array_foreach(records, i, rec) {
                const json_t *value = json_object_get(rec, "value");
                const char *event_id = header(rec, "sharebus.event_id");
                const char *uscc = jstr(rec, "key.uscc");
                long partition = (long)json_integer_value(json_object_get(rec, "partition"));
                long offset = (long)json_integer_value(json_object_get(rec, "offset"));
                ck_assert_ptr_nonnull(uscc);
                ck_assert_ptr_nonnull(event_id);
                ck_assert_str_eq(header(rec, "sharebus.department"), "interop");
                if (prev && json_integer_value(json_object_get(prev, "partition")) != partition)
                        prev = NULL;
                if (json_is_null(value)) {
                        /* A tombstone comes right after its delete: same key,
                         * same event id. */
                        tombstones++;
                        ck_assert_msg(prev && json_integer_value(json_object_get(prev, "offset")) ==
                                                      offset - 1,
                                      "tombstone at %ld/%ld does not follow a record", partition, offset);
                        ck_assert_str_eq(jstr(prev, "value.op"), "d");
                        ck_assert_str_eq(jstr(prev, "key.uscc"), uscc);
                        ck_assert_str_eq(header(prev, "sharebus.event_id"), event_id);
                        prev = rec;
                        continue;
                }
                /* source.seq is the input line the event came from. */
                long seq = (long)json_integer_value(json_object_get(json_object_get(value, "source"), "seq"));
                ck_assert_msg(seq >= 1 && seq <= CHANGES, "record %ld/%ld: seq %ld", partition, offset, seq);
                char seqtext[32];
                snprintf(seqtext, sizeof(seqtext), "%ld", seq);
                ck_assert_msg(!json_object_get(seen, seqtext), "line %ld arrived twice", seq);
                json_object_set_new(seen, seqtext, json_true());
                const json_t *in = json_array_get(input, (size_t)seq - 1);
                assert_json_eq("key", seq, json_object_get(in, "key"), json_object_get(rec, "key"));
                assert_json_eq("op", seq, json_object_get(in, "op"), json_object_get(value, "op"));
                assert_json_eq("before", seq, json_object_get(in, "before"),
                               json_object_get(value, "before"));
                assert_json_eq("after", seq, json_object_get(in, "after"), json_object_get(value, "after"));
                assert_json_eq("ts_ms", seq, json_object_get(in, "ts_ms"), json_object_get(value, "ts_ms"));
                ck_assert_str_eq(jstr(rec, "value.source.department"), "interop");
                ck_assert_str_eq(jstr(rec, "value.source.dataset"), "interop.license");
                ck_assert_str_eq(jstr(rec, "value.event_id"), event_id);
                ck_assert_int_eq(strlen(event_id), 36);
                /* One key, one partition, its changes in input order. */
                json_t *where = json_object_get(key_where, uscc);
                if (where) {
                        ck_assert_msg(json_integer_value(json_array_get(where, 0)) == partition,
                                      "key %s in partitions %lld and %ld", uscc,
                                      (long long)json_integer_value(json_array_get(where, 0)), partition);
                        ck_assert_msg(json_integer_value(json_array_get(where, 1)) < seq,
                                      "key %s: line %ld after line %lld", uscc, seq,
                                      (long long)json_integer_value(json_array_get(where, 1)));
                }
                json_object_set_new(key_where, uscc,
                                    json_pack("[I,I]", (json_int_t)partition, (json_int_t)seq));
                prev = rec;
        }
        ck_assert_int_eq(json_object_size(seen), CHANGES);
        ck_assert_int_eq(tombstones, deletes);
        json_decref(seen);
        json_decref(key_where);
        json_decref(records);
        json_decref(input);
}
END_TEST

/* Writes the key schema and the envelope schema (sb_envelope_schema around
 * the row) of sample dataset `from` for `topic` to <dir>/<topic>.key.json and
 * <dir>/<topic>.envelope.json. */
static void write_schemas(const char *from, const char *topic, char *key_path, char *env_path, size_t size) {
        char path[1200], errstr[256];
        snprintf(path, sizeof(path), "%s/schemas/datasets/%s.row.avsc", env.src, from);
        json_t *row = load_json(path);
        json_t *envelope = sb_envelope_schema(row, topic, errstr, sizeof(errstr));
        ck_assert_msg(envelope != NULL, "%s", errstr);
        snprintf(env_path, size, "%s/%s.envelope.json", env.dir, topic);
        ck_assert_int_eq(json_dump_file(envelope, env_path, JSON_COMPACT), 0);
        snprintf(path, sizeof(path), "%s/schemas/datasets/%s.key.avsc", env.src, from);
        json_t *key = load_json(path);
        snprintf(key_path, size, "%s/%s.key.json", env.dir, topic);
        ck_assert_int_eq(json_dump_file(key, key_path, JSON_COMPACT), 0);
        json_decref(key);
        json_decref(envelope);
        json_decref(row);
}

START_TEST(subscriber_applies_events_from_python_serializer) {
        enum { CHANGES = 300 };
        char lines_path[600], key_schema[600], env_schema[600], db[600];
        ck_assert_int_eq(h_create_topic(&env, "interop.resident", 3), 0);
        int deletes = h_write_sample(&env, "civil.resident", "resident.jsonl", CHANGES, 80, 42, lines_path,
                                     sizeof(lines_path));
        ck_assert_int_gt(deletes, 0);
        write_schemas("civil.resident", "interop.resident", key_schema, env_schema, sizeof(key_schema));
        char *args[] = {env.bootstrap, env.registry_url, "interop.resident", "civil",
                        key_schema,    env_schema,       lines_path,         NULL};
        run_python("produce_events.py", "resident-produced.json", args);
        json_t *produced = load_json(h_path(&env, "resident-produced.json"));
        ck_assert_int_eq(json_integer_value(json_object_get(produced, "events")), CHANGES);
        ck_assert_int_eq(json_integer_value(json_object_get(produced, "tombstones")), deletes);

        snprintf(db, sizeof(db), "%s", h_path(&env, "resident.db"));
        pid_t pid = h_start_subscriber(&env, "interop-resident", "interop.resident", NULL, db, NULL,
                                       "idle_exit_ms = 4000;", NULL, h_path(&env, "subscriber-resident.log"));
        ck_assert_int_eq(h_wait(pid, 120000), 0);

        json_t *expected = h_expected_state(lines_path, "id_number");
        ck_assert_int_gt(json_object_size(expected), 0);
        h_assert_table_equals(db, "interop_resident", "id_number", expected);
        json_decref(expected);
        ck_assert_int_eq(h_sqlite_int(db, "SELECT count(*) FROM sharebus_receipts"), CHANGES);
        ck_assert_int_eq(h_sqlite_int(db, "SELECT count(DISTINCT event_id) FROM sharebus_receipts"), CHANGES);
        ck_assert_int_eq(h_sqlite_int(db, "SELECT count(*) FROM sharebus_receipts WHERE op = 'd'"), deletes);
        ck_assert_int_eq(h_sqlite_int(db, "SELECT sum(next_offset) FROM sharebus_offsets"),
                         CHANGES + deletes);
        /* The receipts hold the event ids the Python producer made. */
        size_t cap = 64 + CHANGES * 40, len = 0, i;
        char *sql = malloc(cap);
        json_t *id;
        len += (size_t)snprintf(sql, cap, "SELECT count(*) FROM sharebus_receipts WHERE event_id IN (");
        json_array_foreach(json_object_get(produced, "event_ids"), i, id) {
                len += (size_t)snprintf(sql + len, cap - len, "%s'%s'", i ? "," : "", json_string_value(id));
        }
        snprintf(sql + len, cap - len, ")");
        ck_assert_int_eq(h_sqlite_int(db, sql), CHANGES);
        free(sql);
        json_decref(produced);
}
END_TEST

static const json_t *get_path(const json_t *obj, const char *a, const char *b) {
        return json_object_get(json_object_get(obj, a), b);
}

START_TEST(python_registry_client_works_against_sharebus_registry) {
        const char *subject = "interop.registry-value";
        char path[1200], file1[600], file2[600];
        snprintf(path, sizeof(path), "%s/schemas/datasets/tax.taxpayer.row.avsc", env.src);
        json_t *s1 = load_json(path);
        snprintf(file1, sizeof(file1), "%s", h_path(&env, "registry-1.avsc"));
        ck_assert_int_eq(json_dump_file(s1, file1, JSON_INDENT(2)), 0);
        /* Version 2 adds an optional field: a compatible evolution. */
        json_t *s2 = json_deep_copy(s1);
        json_array_append_new(json_object_get(s2, "fields"), json_pack("{s:s, s:[s,s], s:n}", "name", "note",
                                                                       "type", "null", "string", "default"));
        snprintf(file2, sizeof(file2), "%s", h_path(&env, "registry-2.avsc"));
        ck_assert_int_eq(json_dump_file(s2, file2, JSON_INDENT(2)), 0);

        char *args[] = {env.registry_url, (char *)subject, file1, file2, NULL};
        run_python("registry_client.py", "registry.json", args);
        json_t *r = load_json(h_path(&env, "registry.json"));
        json_int_t first = json_integer_value(json_object_get(r, "first_id"));
        json_int_t second = json_integer_value(json_object_get(r, "second_id"));
        ck_assert_int_gt(first, 0);
        ck_assert_int_eq(json_integer_value(json_object_get(r, "again_id")), first);
        ck_assert_int_gt(second, 0);
        ck_assert_int_ne(second, first);

        json_t *by1 = json_loads(json_string_value(json_object_get(r, "schema_by_first_id")), 0, NULL);
        json_t *by2 = json_loads(json_string_value(json_object_get(r, "schema_by_second_id")), 0, NULL);
        assert_json_eq("schema by first id", 0, s1, by1);
        assert_json_eq("schema by second id", 0, s2, by2);
        json_decref(by1);
        json_decref(by2);

        size_t i;
        json_t *v;
        int listed = 0;
        json_array_foreach(json_object_get(r, "subjects"), i, v) listed +=
                strcmp(json_string_value(v), subject) == 0;
        ck_assert_int_eq(listed, 1);
        json_t *versions = json_pack("[i,i]", 1, 2);
        assert_json_eq("versions", 0, versions, json_object_get(r, "versions"));
        json_decref(versions);

        const struct {
                const char *name;
                int version;
                json_int_t id;
                const json_t *schema;
        } want[] = {{"latest", 2, second, s2}, {"version1", 1, first, s1}};
        for (size_t k = 0; k < 2; k++) {
                ck_assert_str_eq(json_string_value(get_path(r, want[k].name, "subject")), subject);
                ck_assert_int_eq(json_integer_value(get_path(r, want[k].name, "version")), want[k].version);
                ck_assert_int_eq(json_integer_value(get_path(r, want[k].name, "id")), want[k].id);
                ck_assert_str_eq(json_string_value(get_path(r, want[k].name, "schema_type")), "AVRO");
                json_t *s = json_loads(json_string_value(get_path(r, want[k].name, "schema")), 0, NULL);
                assert_json_eq(want[k].name, 0, want[k].schema, s);
                json_decref(s);
        }
        /* Lookup, compatibility and configuration calls. */
        ck_assert_int_eq(json_integer_value(get_path(r, "lookup", "id")), first);
        ck_assert_int_eq(json_integer_value(get_path(r, "lookup", "version")), 1);
        ck_assert(json_is_true(json_object_get(r, "compatible_ok")));
        ck_assert(json_is_false(json_object_get(r, "incompatible_ok")));
        ck_assert_int_eq(json_integer_value(get_path(r, "incompatible_refused", "http_status")), 409);
        ck_assert_int_eq(json_integer_value(get_path(r, "incompatible_refused", "error_code")), 40901);
        ck_assert_msg(
                strstr(json_string_value(get_path(r, "incompatible_refused", "message")), "employee_count"),
                "the refusal does not name the field: %s",
                json_string_value(get_path(r, "incompatible_refused", "message")));
        ck_assert_str_eq(json_string_value(json_object_get(r, "set_level")), "FULL");
        ck_assert_str_eq(json_string_value(json_object_get(r, "subject_level")), "FULL");
        ck_assert_str_eq(json_string_value(json_object_get(r, "global_level")), "BACKWARD");
        /* Errors reach the client as Confluent's: HTTP 404 with its codes. */
        const struct {
                const char *name;
                int code;
        } errors[] = {{"unknown_id", 40403}, {"unknown_version", 40402}, {"unknown_subject", 40401}};
        for (size_t k = 0; k < 3; k++) {
                ck_assert_int_eq(json_integer_value(get_path(r, errors[k].name, "http_status")), 404);
                ck_assert_int_eq(json_integer_value(get_path(r, errors[k].name, "error_code")),
                                 errors[k].code);
        }
        json_decref(r);
        json_decref(s2);
        json_decref(s1);
}
END_TEST

/* The id of the latest version of `subject`, asked of our registry. */
static int32_t latest_id(const char *subject) {
        char url[700];
        h_reply_t rep;
        snprintf(url, sizeof(url), "%s/subjects/%s/versions/latest", env.registry_url, subject);
        long status = h_http("GET", url, NULL, NULL, NULL, &rep);
        ck_assert_msg(status == 200 && rep.text, "GET %s: %ld %s", url, status, rep.text ? rep.text : "");
        json_t *doc = json_loads(rep.text, 0, NULL);
        ck_assert_ptr_nonnull(doc);
        int32_t id = (int32_t)json_integer_value(json_object_get(doc, "id"));
        json_decref(doc);
        h_reply_free(&rep);
        ck_assert_int_gt(id, 0);
        return id;
}

static int32_t be32(const unsigned char *p) {
        return (int32_t)((uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3]);
}

START_TEST(kcat_reads_wire_format_and_headers) {
        enum { CHANGES = 120 };
        char lines_path[600], out[600];
        ck_assert_msg(kcat[0], "kcat is not installed (setup.sh installs it)");
        h_copy_dataset(&env, "tax.taxpayer", "interop.kcat");
        ck_assert_int_eq(h_create_topic(&env, "interop.kcat", 2), 0);
        int deletes = h_write_sample(&env, "tax.taxpayer", "kcat.jsonl", CHANGES, 40, 43, lines_path,
                                     sizeof(lines_path));
        ck_assert_int_gt(deletes, 0);
        ck_assert_int_eq(h_run_producer(&env, "interop", "kcat", NULL, lines_path, NULL,
                                        h_path(&env, "producer-kcat.log")),
                         0);
        int32_t key_id = latest_id("interop.kcat-key"), value_id = latest_id("interop.kcat-value");
        ck_assert_int_ne(key_id, value_id);

        /* One record: "partition offset keylen valuelen headers\n", then the
         * raw key and value bytes, then "\n". */
        snprintf(out, sizeof(out), "%s", h_path(&env, "kcat.out"));
        char *argv[] = {kcat, "-C",        "-b", env.bootstrap, "-t", "interop.kcat",
                        "-o", "beginning", "-e", "-q",          "-f", "%p %o %K %S %h\n%k%s\n",
                        NULL};
        ck_assert_int_eq(run_to_files(argv, out, h_path(&env, "kcat.log"), 60000), 0);
        size_t len;
        char *buf = slurp(out, &len);
        const char *p = buf, *end = buf + len;
        int records = 0, tombstones = 0;
        json_t *event_ids = json_object();
        while (p < end) {
                int partition, klen, vlen, used = 0;
                long long offset;
                ck_assert_msg(sscanf(p, "%d %lld %d %d %n", &partition, &offset, &klen, &vlen, &used) == 4,
                              "kcat output at byte %td: %.60s", p - buf, p);
                const char *hdr = p + used, *nl = memchr(hdr, '\n', (size_t)(end - hdr));
                ck_assert_ptr_nonnull(nl);
                char headers[512];
                snprintf(headers, sizeof(headers), "%.*s", (int)(nl - hdr), hdr);
                const unsigned char *key = (const unsigned char *)nl + 1;
                const unsigned char *value = key + klen;
                p = (const char *)value + (vlen > 0 ? vlen : 0) + 1;
                ck_assert_msg(p <= end && p[-1] == '\n', "kcat output cut at %d/%lld", partition, offset);
                records++;
                /* Key: magic byte 0, the key subject's id, an Avro body. */
                ck_assert_msg(klen > 5, "%d/%lld: key of %d bytes", partition, offset, klen);
                ck_assert_int_eq(key[0], 0);
                ck_assert_int_eq(be32(key + 1), key_id);
                if (vlen < 0) {
                        tombstones++;
                } else {
                        ck_assert_msg(vlen > 5, "%d/%lld: value of %d bytes", partition, offset, vlen);
                        ck_assert_int_eq(value[0], 0);
                        ck_assert_int_eq(be32(value + 1), value_id);
                }
                /* Headers: "name=value,name=value". */
                char *save = NULL, *event_id = NULL;
                int department = 0;
                for (char *h = strtok_r(headers, ",", &save); h; h = strtok_r(NULL, ",", &save)) {
                        department += strcmp(h, "sharebus.department=interop") == 0;
                        if (strncmp(h, "sharebus.event_id=", 18) == 0)
                                event_id = h + 18;
                }
                ck_assert_msg(department == 1, "%d/%lld: headers %.*s", partition, offset, (int)(nl - hdr),
                              hdr);
                ck_assert_msg(event_id && strlen(event_id) == 36, "%d/%lld: headers %.*s", partition, offset,
                              (int)(nl - hdr), hdr);
                json_object_set_new(event_ids, event_id, json_true());
        }
        ck_assert_int_eq(records, CHANGES + deletes);
        ck_assert_int_eq(tombstones, deletes);
        /* A tombstone repeats its delete's event id; the others are unique. */
        ck_assert_int_eq(json_object_size(event_ids), CHANGES);
        json_decref(event_ids);
        free(buf);
}
END_TEST

/* Runs tests/interop/venv.sh and keeps the python path it prints. */
static int find_python(void) {
        char cmd[1200];
        snprintf(cmd, sizeof(cmd), "'%s/tests/interop/venv.sh'", env.src);
        FILE *f = popen(cmd, "r");
        int ok = f && fgets(python, sizeof(python), f) != NULL;
        if (f && pclose(f) != 0)
                ok = 0;
        python[strcspn(python, "\n")] = 0;
        if (!ok || access(python, X_OK) != 0) {
                fprintf(stderr, "test_interop: %s did not give a python\n", cmd);
                return -1;
        }
        return 0;
}

static void find_kcat(void) {
        FILE *f = popen("command -v kcat", "r");
        if (f && fgets(kcat, sizeof(kcat), f))
                kcat[strcspn(kcat, "\n")] = 0;
        if (f)
                pclose(f);
}

int main(void) {
        if (h_env_start(&env) != 0)
                return 1;
        if (find_python() != 0) {
                h_env_stop(&env);
                return 1;
        }
        find_kcat();
        curl_global_init(CURL_GLOBAL_DEFAULT);
        Suite *s = suite_create("interop");
        TCase *tc = tcase_create("interop");
        tcase_set_timeout(tc, 300);
        tcase_add_test(tc, python_reads_producer_events_with_equal_values);
        tcase_add_test(tc, subscriber_applies_events_from_python_serializer);
        tcase_add_test(tc, python_registry_client_works_against_sharebus_registry);
        tcase_add_test(tc, kcat_reads_wire_format_and_headers);
        suite_add_tcase(s, tc);
        int failed = h_run_suite(s);
        curl_global_cleanup();
        h_env_stop(&env);
        return failed ? 1 : 0;
}

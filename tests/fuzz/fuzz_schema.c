/*
 * fuzz_schema: an Avro schema as the registry receives it: the body of
 * POST /subjects/{s}/versions (or the schema text alone), parsed
 * (regd_store_parse: sb_schema_new's JSON, depth bound, type tree and
 * recursion; avro-c's parser), its defaults checked (regd_defaults), its
 * metadata and rules read (regd_metadata, sb_rules), its avro-c value made,
 * then registered in a store with a second schema, whose compatibility is
 * decided at every level (regd_compat).
 *
 * Input: one or two parts, split at the first "\n--\n" (which no JSON
 * token holds).  A part that is a JSON object with a "schema" member is a
 * request body, checked as rh_schema_body checks it (schemaType AVRO, no
 * references); any other part is the schema text itself, so that the
 * fuzzer need not escape it.
 *
 * Invariants: the canonical text (sb_schema_json) parses again to the same
 * canonical text; a schema can read its own data; a registered schema
 * registered again gets the same id (regd_store.h), and is then found by
 * lookup.
 */
#define _GNU_SOURCE /* memmem */
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "fuzzutil.h"
#include "regd_compat.h"
#include "regd_defaults.h"
#include "regd_metadata.h"
#include "regd_store.h"
#include "sb_rules.h"
#include "sb_schema.h"

#define SUBJECT "fuzz-value"

typedef struct {
        json_t *body;     /* the request body, or NULL for a bare schema */
        const char *text; /* the schema text: in body, or in the input */
        size_t len;
} part_t;

/* 0 and *p set, or -1 for a body the HTTP layer would refuse. */
static int part_of(const char *s, size_t n, part_t *p) {
        json_t *doc = json_loadb(s, n, 0, NULL);
        json_t *schema = json_object_get(doc, "schema");
        p->body = NULL;
        p->text = s;
        p->len = n;
        if (!json_is_object(doc) || !schema) {
                json_decref(doc);
                return 0;
        }
        json_t *type = json_object_get(doc, "schemaType");
        if (!json_is_string(schema) || json_string_length(schema) == 0 ||
            (type && !json_is_null(type) &&
             !(json_is_string(type) && !strcmp(json_string_value(type), "AVRO"))) ||
            json_array_size(json_object_get(doc, "references")) > 0) {
                json_decref(doc);
                return -1;
        }
        p->body = doc;
        p->text = json_string_value(schema);
        p->len = json_string_length(schema);
        return 0;
}

/* What the registry and its clients do with one parsed schema. */
static void use_schema(regd_store_t *st, sb_schema_t *s) {
        char err[1024], why[2048];
        sb_schema_t *again = NULL;
        const char *canon = sb_schema_json(s);
        if (!canon)
                fuzz_fail("a parsed schema without canonical text");
        if (regd_store_parse(st, canon, strlen(canon), &again, err, sizeof(err)))
                fuzz_fail("the canonical text does not parse: %s: %s", err, canon);
        if (strcmp(sb_schema_json(again), canon) != 0)
                fuzz_fail("canonical text not stable: %s -> %s", canon, sb_schema_json(again));
        sb_schema_destroy(again);

        (void)regd_defaults_check(s, err, sizeof(err));
        json_t *meta = regd_metadata_json(s, SUBJECT, 1);
        if (!meta)
                fuzz_fail("regd_metadata_json gave nothing");
        json_decref(meta);
        const sb_node_t *rec = sb_rules_record(s);
        sb_rules_t *rules = NULL;
        if (rec && sb_rules_new(rec, &rules, err, sizeof(err)) == SB_OK)
                sb_rules_destroy(rules);
        avro_value_t *value;
        if (sb_schema_avro_value(s, &value, err, sizeof(err)) == SB_OK &&
            !sb_node_has_value(sb_schema_root(s)))
                fuzz_fail("an avro-c value for a type without a finite value");
        if (!regd_compat_can_read(s, s, why, sizeof(why)))
                fuzz_fail("a schema cannot read its own data: %s: %s", why, canon);
}

/* REGISTER through the store, as the command log applies it: the id, or 0
 * for a refusal. */
static json_int_t register_text(regd_store_t *st, const char *text, size_t len) {
        json_t *cmd = json_pack("{s:s,s:s,s:s%,s:b}", "type", "REGISTER", "subject", SUBJECT, "schema", text,
                                len, "normalize", 0);
        json_t *result = NULL;
        if (!cmd)
                return 0; /* not UTF-8: the HTTP body could not have held it */
        if (regd_store_apply(st, cmd, &result) || !json_is_object(result))
                fuzz_fail("regd_store_apply gave no result");
        json_int_t id = json_integer_value(json_object_get(result, "id"));
        json_decref(result);
        json_decref(cmd);
        return id;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        const char *in = (const char *)data;
        const uint8_t *sep = memmem(data, size, "\n--\n", 4);
        part_t parts[2];
        size_t n = sep ? 2 : 1;
        char err[1024];
        regd_store_t *st = NULL;

        size_t first = sep ? (size_t)(sep - data) : size;
        if (part_of(in, first, &parts[0]))
                return 0;
        if (sep && part_of(in + first + 4, size - first - 4, &parts[1])) {
                json_decref(parts[0].body);
                return 0;
        }
        if (regd_store_new(&st, err, sizeof(err)))
                fuzz_fail("regd_store_new: %s", err);
        sb_schema_t *s[2] = {NULL, NULL};
        for (size_t i = 0; i < n; i++)
                if (regd_store_parse(st, parts[i].text, parts[i].len, &s[i], err, sizeof(err)) == SB_OK)
                        use_schema(st, s[i]);
                else if (s[i] || !*err)
                        fuzz_fail("regd_store_parse failed with a schema or without a reason");
        if (s[0] && s[1]) {
                char why[2048];
                const sb_schema_t *old[1] = {s[0]};
                (void)regd_compat_can_read(s[0], s[1], why, sizeof(why));
                (void)regd_compat_can_read(s[1], s[0], why, sizeof(why));
                for (int level = REGD_COMPAT_NONE; level <= REGD_COMPAT_FULL_TRANSITIVE; level++) {
                        json_t *messages = json_array();
                        int ok = regd_compat_check((regd_compat_level_t)level, s[1], old, 1, messages);
                        if (!ok && json_array_size(messages) == 0)
                                fuzz_fail("incompatible at level %d without a message", level);
                        json_decref(messages);
                }
        }
        json_int_t id = s[0] ? register_text(st, parts[0].text, parts[0].len) : 0;
        if (n == 2) {
                int compatible = 0;
                json_t *messages = json_array();
                (void)regd_store_check(st, SUBJECT, 0, parts[1].text, parts[1].len, &compatible, messages,
                                       err, sizeof(err));
                json_decref(messages);
                (void)register_text(st, parts[1].text, parts[1].len);
        }
        if (id > 0) {
                regd_version_t v;
                int found;
                json_int_t again = register_text(st, parts[0].text, parts[0].len);
                if (again != id)
                        fuzz_fail("the same schema registered twice: id %lld, then %lld", (long long)id,
                                  (long long)again);
                if (regd_store_lookup(st, SUBJECT, parts[0].text, parts[0].len, 0, &v, &found, err,
                                      sizeof(err)))
                        fuzz_fail("a registered schema is not found: %s", err);
                free(v.text);
        }
        for (size_t i = 0; i < n; i++) {
                sb_schema_destroy(s[i]);
                json_decref(parts[i].body);
        }
        regd_store_destroy(st);
        return 0;
}

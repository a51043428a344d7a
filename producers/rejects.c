#include "rejects.h"

#include <inttypes.h>
#include <jansson.h>
#include <string.h>
#include <time.h>

#include "sb_kafka.h"
#include "sb_rules.h"

/* Phrases of sb_rules' and sb_avro's reasons, and the check each names.
 * A reason may quote a public value before its phrase ("after.name: 'x is
 * below the minimum' has length 250, ...") or, for a member the schema
 * does not know, hold input in its path: the phrase that occurs last is
 * the reason's own. */
static const struct {
        const char *phrase, *rule;
} rule_phrases[] = {
        {"(cn_uscc)", "cn_uscc"},
        {"(cn_resident_id)", "cn_resident_id"},
        {"is below the minimum", "minimum"},
        {"is above the maximum", "maximum"},
        {"minimum length", "length"},
        {"maximum length", "length"},
        {"does not match the pattern", "pattern"},
        {"is not one of the allowed values", "enum"},
        {": required", "required"},
        /* sb_rules' and sb_avro's "expected a string, got number". */
        {": expected ", "type"},
        {": unknown field (record ", "schema"},
};

/* Reasons of change_line.c: the text is not a change line at all.  Each
 * starts with its phrase (what follows may quote the input). */
static const char *const change_line_starts[] = {
        "not valid JSON", "a change must be", "unknown member", "\"op\" must",  "op \"",
        "\"key\" must",   "\"before\" and",   "\"ts_ms\" must", "\"seq\" must", "refused by its source",
};
/* ... and the one that starts with the key field it names. */
static const char differs[] = " differs from the same field of the row";

static int ends_with(const char *s, const char *suffix) {
        size_t n = strlen(s), m = strlen(suffix);
        return n >= m && strcmp(s + n - m, suffix) == 0;
}

/* The last occurrence of `phrase` in `s`, or NULL. */
static const char *last_of(const char *s, const char *phrase) {
        const char *last = NULL;
        for (const char *at = strstr(s, phrase); at; at = strstr(at + 1, phrase))
                last = at;
        return last;
}

const char *rejects_rule(const char *reason) {
        for (size_t i = 0; i < sizeof(change_line_starts) / sizeof(*change_line_starts); i++)
                if (strncmp(reason, change_line_starts[i], strlen(change_line_starts[i])) == 0)
                        return "change_line";
        if (strncmp(reason, "key.", 4) == 0 && ends_with(reason, differs))
                return "change_line";
        const char *rule = "schema", *at = NULL;
        for (size_t i = 0; i < sizeof(rule_phrases) / sizeof(*rule_phrases); i++) {
                const char *here = last_of(reason, rule_phrases[i].phrase);
                if (here && (!at || here > at)) {
                        at = here;
                        rule = rule_phrases[i].rule;
                }
        }
        return rule;
}

void rejects_field(const char *reason, char *field, size_t size) {
        /* A reason that names a field starts with its path: "after.uscc: ...",
         * or change_line's "key.id differs from the same field of the row". */
        size_t n = strcspn(reason, ": ");
        int named = reason[n] == ':' || (reason[n] == ' ' && ends_with(reason, differs));
        int path = named && n > 0 &&
                   (strncmp(reason, "key", 3) == 0 || strncmp(reason, "after", 5) == 0 ||
                    strncmp(reason, "before", 6) == 0);
        snprintf(field, size, "%.*s", path ? (int)n : 0, reason);
}

/* Replaces the values of personal and sensitive fields of object `row`. */
static void mask(json_t *row, const sb_node_t *record) {
        if (!json_is_object(row) || !record)
                return;
        for (size_t i = 0; i < sb_node_count(record); i++) {
                sb_class_t cls = SB_CLASS_INTERNAL;
                const char *name = sb_node_field_name(record, i);
                if (sb_field_class(record, i, &cls, NULL, 0) != SB_OK)
                        cls = SB_CLASS_PERSONAL; /* unknown class: assume the worst */
                if ((cls == SB_CLASS_PERSONAL || cls == SB_CLASS_SENSITIVE) && json_object_get(row, name) &&
                    !json_is_null(json_object_get(row, name)))
                        json_object_set_new(
                                row, name,
                                json_string(cls == SB_CLASS_PERSONAL ? "(personal)" : "(sensitive)"));
        }
}

/* Masks member `name` (key, before, after) of the change line `doc`.  One
 * that is neither an object nor null is replaced whole: it may be a
 * personal value in the wrong shape ("key": "110101199003077777"). */
static void mask_member(json_t *doc, const char *name, const sb_node_t *record) {
        json_t *m = json_object_get(doc, name);
        if (!m || json_is_null(m))
                return;
        if (json_is_object(m))
                mask(m, record);
        else
                json_object_set_new(doc, name, json_string("(not an object: omitted)"));
}

static int add(rd_kafka_headers_t *h, const char *name, const char *value) {
        return rd_kafka_header_add(h, name, -1, value, -1) != RD_KAFKA_RESP_ERR_NO_ERROR;
}

sb_err_t rejects_build(const rejects_record_t *r, const char *text, size_t len, const sb_node_t *key_record,
                       const sb_node_t *row_record, rd_kafka_headers_t **headers, sb_buf_t *value,
                       char *errstr, size_t errstr_size) {
        char field[256], position[32];
        rejects_field(r->reason, field, sizeof(field));
        snprintf(position, sizeof(position), "%" PRIu64, r->position);
        rd_kafka_headers_t *h = rd_kafka_headers_new(8);
        if (!h)
                return sb_seterr(SB_ERR_NOMEM, errstr, errstr_size, "out of memory");
        int bad = add(h, "sharebus.dataset", r->dataset_topic) ||
                  add(h, "sharebus.department", r->department) || add(h, "sharebus.source", r->where) ||
                  add(h, "sharebus.position", position) || add(h, "sharebus.reason", r->reason) ||
                  add(h, "sharebus.rule", rejects_rule(r->reason));
        if (!bad && field[0])
                bad = add(h, "sharebus.field", field);
        sb_buf_reset(value);
        /* Parsed once more, here only: rejects are rare. */
        json_t *doc = json_loadb(text, len, JSON_REJECT_DUPLICATES, NULL);
        if (!bad && json_is_object(doc)) {
                mask_member(doc, "key", key_record);
                mask_member(doc, "before", row_record);
                mask_member(doc, "after", row_record);
                char *masked = json_dumps(doc, JSON_COMPACT);
                bad = !masked || sb_buf_append(value, masked, strlen(masked)) != SB_OK;
                free(masked);
        } else if (!bad) {
                bad = add(h, "sharebus.value.omitted",
                          "not a JSON object: not kept, it may hold personal data");
        }
        json_decref(doc);
        if (bad) {
                rd_kafka_headers_destroy(h);
                return sb_seterr(SB_ERR_NOMEM, errstr, errstr_size, "out of memory");
        }
        *headers = h;
        return SB_OK;
}

/* The value of header `name` of m as text in out[size] ("" if absent). */
static const char *header(const rd_kafka_message_t *m, const char *name, char *out, size_t size) {
        rd_kafka_headers_t *h = NULL;
        const void *v = NULL;
        size_t n = 0;
        out[0] = '\0';
        if (rd_kafka_message_headers(m, &h) == RD_KAFKA_RESP_ERR_NO_ERROR &&
            rd_kafka_header_get_last(h, name, &v, &n) == RD_KAFKA_RESP_ERR_NO_ERROR && v)
                snprintf(out, size, "%.*s", (int)n, (const char *)v);
        return out;
}

static const char *const list_defaults[] = {
        "enable.partition.eof", "true",  "group.id", "sharebus-rejects-list",
        "enable.auto.commit",   "false", NULL};

sb_err_t rejects_list(const sb_config_t *cfg, const char *topic, FILE *out, sb_log_t *log, size_t *count,
                      char *errstr, size_t errstr_size) {
        sb_kafka_opaque_t opaque = {.log = log, .app = NULL};
        rd_kafka_conf_t *conf = NULL;
        sb_err_t err = sb_kafka_conf_new(cfg, list_defaults, &opaque, &conf, errstr, errstr_size);
        if (err)
                return err;
        char kerr[512];
        rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_CONSUMER, conf, kerr, sizeof(kerr));
        if (!rk) {
                rd_kafka_conf_destroy(conf);
                return sb_seterr(SB_ERR_KAFKA, errstr, errstr_size, "cannot create a Kafka consumer: %s",
                                 kerr);
        }
        *count = 0;
        int partitions;
        rd_kafka_resp_err_t merr = sb_kafka_topic_partitions(rk, topic, 10000, &partitions);
        if (merr)
                err = sb_seterr(SB_ERR_KAFKA, errstr, errstr_size, "topic %s: %s", topic,
                                rd_kafka_err2str(merr));
        rd_kafka_topic_partition_list_t *parts =
                rd_kafka_topic_partition_list_new(partitions ? partitions : 1);
        for (int p = 0; p < partitions; p++)
                rd_kafka_topic_partition_list_add(parts, topic, p)->offset = RD_KAFKA_OFFSET_BEGINNING;
        if (!err && rd_kafka_assign(rk, parts))
                err = sb_seterr(SB_ERR_KAFKA, errstr, errstr_size, "cannot read %s", topic);
        rd_kafka_topic_partition_list_destroy(parts);
        int at_end = 0, idle = 0;
        while (!err && at_end < partitions && idle < 300) {
                rd_kafka_message_t *m = rd_kafka_consumer_poll(rk, 100);
                if (!m) {
                        idle++; /* 30 s without a record or an end: the broker is gone */
                        continue;
                }
                idle = 0;
                if (m->err == RD_KAFKA_RESP_ERR__PARTITION_EOF) {
                        at_end++;
                } else if (m->err) {
                        err = sb_seterr(SB_ERR_KAFKA, errstr, errstr_size, "reading %s: %s", topic,
                                        rd_kafka_message_errstr(m));
                } else {
                        char dataset[256], source[256], field[256], rule[64], reason[1024], when[32];
                        rd_kafka_timestamp_type_t tt;
                        int64_t ts = rd_kafka_message_timestamp(m, &tt);
                        time_t secs = (time_t)(ts / 1000);
                        struct tm tm;
                        gmtime_r(&secs, &tm);
                        strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%SZ", &tm);
                        fprintf(out, "%s %s %s field=%s rule=%s: %s\n", when,
                                header(m, "sharebus.dataset", dataset, sizeof(dataset)),
                                header(m, "sharebus.source", source, sizeof(source)),
                                *header(m, "sharebus.field", field, sizeof(field)) ? field : "-",
                                header(m, "sharebus.rule", rule, sizeof(rule)),
                                header(m, "sharebus.reason", reason, sizeof(reason)));
                        (*count)++;
                }
                rd_kafka_message_destroy(m);
        }
        if (!err && at_end < partitions)
                err = sb_seterr(SB_ERR_KAFKA, errstr, errstr_size, "timed out reading %s", topic);
        rd_kafka_consumer_close(rk);
        rd_kafka_destroy(rk);
        return err;
}

/*
 * Unit tests of rejects: the headers and the masked value of a reject
 * (rejects_build), and the rule and field read from every shape of reason
 * the encoder gives (change_line, sb_avro, sb_rules), the reasons made by
 * running the real encoder on bad lines rather than copied here.
 */
#include <librdkafka/rdkafka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dataset.h"
#include "event_encoder.h"
#include "rejects.h"
#include "sb_rules.h"
#include "testutil.h"

/* Valid records of the two datasets (from sharebus-sample). */
#define RESIDENT_ID "330106198606060056"
#define RESIDENT_ROW                                                                                         \
        "'id_number':'" RESIDENT_ID "','name':'Chen Jing','gender':'MALE','birth_date':'1986-06-06',"        \
        "'phone':'13212702114','address':'Room 101, Building 3','district_code':'330106','married':true,"    \
        "'updated_at':'2025-01-01T00:00:42.865Z'"
#define USCC "91330106MP1K50000U"
#define LICENSE_ROW                                                                                          \
        "'uscc':'" USCC "','name':'Chen Consulting','legal_representative':'Chen','registered_capital':"     \
        "3859.8,'business_scope':'Trading','status':'ACTIVE','established_on':'2000-06-06','address':null,"  \
        "'updated_at':'2025-01-01T00:00:42.865Z'"

/* A dataset with its rules compiled as the producer has them after
 * sb_event_encoder_fetch_rules, and a worker for sb_event_encode_text. */
typedef struct {
        sb_dataset_t *ds;
        sb_event_encoder_t enc;
        sb_event_worker_t *worker;
} dataset_fx_t;

static void fx_open(dataset_fx_t *fx, const char *topic) {
        memset(fx, 0, sizeof(*fx));
        TEST_CALL(sb_dataset_load(test_src_path("schemas/datasets"), topic, &fx->ds, TEST_ERR));
        fx->enc = (sb_event_encoder_t){.dataset = fx->ds,
                                       .key_schema_id = 1,
                                       .value_schema_id = 2,
                                       .department = "civil",
                                       .system = "test"};
        TEST_CALL(sb_rules_new(sb_schema_root(sb_dataset_key_schema(fx->ds)), &fx->enc.key_rules, TEST_ERR));
        TEST_CALL(sb_rules_new(sb_dataset_row(fx->ds), &fx->enc.row_rules, TEST_ERR));
        TEST_CALL(sb_event_worker_new(&fx->enc, &fx->worker, TEST_ERR));
}

static void fx_close(dataset_fx_t *fx) {
        sb_event_worker_destroy(fx->worker);
        sb_event_encoder_clear(&fx->enc);
        sb_dataset_destroy(fx->ds);
}

/* A create line of `topic` (its valid row with `patch`, quoted with ',
 * merged in), or `q` itself when patch is NULL; the caller frees it. */
static char *line_of(const char *topic, const char *q, const char *patch) {
        if (!patch)
                return test_q2j(q);
        int civil = strcmp(topic, "civil.resident") == 0;
        json_t *row = test_json_q(civil ? "{" RESIDENT_ROW "}" : "{" LICENSE_ROW "}");
        json_t *p = test_json_q(patch);
        json_object_update(row, p);
        json_t *line = json_pack("{s:s, s:{s:s}, s:o}", "op", "c", "key", civil ? "id_number" : "uscc",
                                 civil ? RESIDENT_ID : USCC, "after", row);
        char *text = json_dumps(line, JSON_COMPACT);
        ck_assert_ptr_nonnull(text);
        json_decref(line);
        json_decref(p);
        return text;
}

/* The reason the encoder gives for line `q` (quoted with '); fails the test
 * if the line is accepted. */
static void reason_of(dataset_fx_t *fx, const char *q, const char *patch, char *reason, size_t size) {
        char *line = line_of(sb_dataset_topic(fx->ds), q, patch), event_id[37], op = 0;
        sb_buf_t key, value;
        sb_buf_init(&key, 1 << 20);
        sb_buf_init(&value, 1 << 20);
        sb_err_t err = sb_event_encode_text(fx->worker, line, strlen(line), 1, &key, &value, event_id, &op,
                                            reason, size);
        ck_assert_msg(err != SB_OK, "accepted: %s", line);
        sb_buf_free(&key);
        sb_buf_free(&value);
        free(line);
}

static const char *header(rd_kafka_headers_t *h, const char *name, char *out, size_t size) {
        const void *v = NULL;
        size_t n = 0;
        if (rd_kafka_header_get_last(h, name, &v, &n) != RD_KAFKA_RESP_ERR_NO_ERROR)
                return NULL;
        snprintf(out, size, "%.*s", (int)n, v ? (const char *)v : "");
        return out;
}

static void assert_header(rd_kafka_headers_t *h, const char *name, const char *want) {
        char got[1024];
        ck_assert_msg(header(h, name, got, sizeof(got)), "no header %s", name);
        ck_assert_msg(strcmp(got, want) == 0, "%s: got '%s', want '%s'", name, got, want);
}

/* Builds the reject of `q` (quoted with ') for `reason` on civil.resident;
 * *headers and the returned value JSON (NULL when empty) are the caller's. */
static json_t *build(dataset_fx_t *fx, const char *q, const char *reason, rd_kafka_headers_t **headers,
                     size_t *value_len) {
        char *text = test_q2j(q);
        rejects_record_t r = {"civil.resident", "civil", "changes.jsonl:12", 12345, reason};
        sb_buf_t value;
        sb_buf_init(&value, 1 << 20);
        sb_buf_append(&value, "stale", 5); /* reset first */
        TEST_CALL(rejects_build(&r, text, strlen(text), sb_schema_root(sb_dataset_key_schema(fx->ds)),
                                sb_dataset_row(fx->ds), headers, &value, TEST_ERR));
        *value_len = value.len;
        json_t *doc = value.len ? json_loadb((const char *)value.data, value.len, 0, NULL) : NULL;
        ck_assert_msg(!value.len || doc, "the value is not JSON: %.*s", (int)value.len, (char *)value.data);
        sb_buf_free(&value);
        free(text);
        return doc;
}

static const char *str_at(const json_t *doc, const char *member, const char *field) {
        return json_string_value(json_object_get(json_object_get(doc, member), field));
}

START_TEST(test_build_headers) {
        dataset_fx_t fx;
        fx_open(&fx, "civil.resident");
        rd_kafka_headers_t *h = NULL;
        size_t len = 0;
        const char *reason = "after.phone: the value (personal) does not match the pattern ^1[3-9][0-9]{9}$";
        json_t *doc =
                build(&fx, "{'op':'c','key':{'id_number':'" RESIDENT_ID "'},'after':{" RESIDENT_ROW "}}",
                      reason, &h, &len);
        assert_header(h, "sharebus.dataset", "civil.resident");
        assert_header(h, "sharebus.department", "civil");
        assert_header(h, "sharebus.source", "changes.jsonl:12");
        assert_header(h, "sharebus.position", "12345");
        assert_header(h, "sharebus.reason", reason);
        assert_header(h, "sharebus.rule", "pattern");
        assert_header(h, "sharebus.field", "after.phone");
        char buf[64];
        ck_assert_ptr_null(header(h, "sharebus.value.omitted", buf, sizeof(buf)));
        ck_assert_uint_eq(rd_kafka_header_cnt(h), 7);
        rd_kafka_headers_destroy(h);
        json_decref(doc);
        /* A reason that names no field has no field header. */
        doc = build(&fx, "[1]", "a change must be a JSON object", &h, &len);
        ck_assert_ptr_null(header(h, "sharebus.field", buf, sizeof(buf)));
        assert_header(h, "sharebus.rule", "change_line");
        rd_kafka_headers_destroy(h);
        json_decref(doc);
        fx_close(&fx);
}
END_TEST

/* Every personal and sensitive value of key, before and after is replaced;
 * internal and unclassified ones, nulls and the envelope members stay. */
START_TEST(test_build_masks_personal_and_sensitive) {
        dataset_fx_t fx;
        fx_open(&fx, "civil.resident");
        rd_kafka_headers_t *h = NULL;
        size_t len = 0;
        json_t *doc =
                build(&fx,
                      "{'op':'u','key':{'id_number':'" RESIDENT_ID "'},'before':{" RESIDENT_ROW
                      "},'after':{'id_number':'" RESIDENT_ID "','name':'Chen Jing','gender':'MALE',"
                      "'birth_date':'1986-06-06','phone':{'string':'13900000000'},'address':'Room 101',"
                      "'district_code':'330106','married':null,'updated_at':'2025-01-01T00:00:42.865Z'},"
                      "'ts_ms':5,'seq':7}",
                      "after.name: required", &h, &len);
        ck_assert_ptr_nonnull(doc);
        ck_assert_str_eq(str_at(doc, "key", "id_number"), "(personal)");
        static const char *const personal[] = {"id_number",  "name",  "gender",
                                               "birth_date", "phone", "address"};
        for (size_t i = 0; i < sizeof(personal) / sizeof(*personal); i++) {
                ck_assert_str_eq(str_at(doc, "before", personal[i]), "(personal)");
                ck_assert_str_eq(str_at(doc, "after", personal[i]), "(personal)");
        }
        ck_assert_str_eq(str_at(doc, "before", "married"), "(sensitive)");
        ck_assert(json_is_null(json_object_get(json_object_get(doc, "after"), "married")));
        ck_assert_str_eq(str_at(doc, "after", "district_code"), "330106");
        ck_assert_str_eq(str_at(doc, "after", "updated_at"), "2025-01-01T00:00:42.865Z");
        ck_assert_str_eq(json_string_value(json_object_get(doc, "op")), "u");
        ck_assert_int_eq(json_integer_value(json_object_get(doc, "seq")), 7);
        /* No personal value survives anywhere in the text. */
        char *text = json_dumps(doc, JSON_COMPACT);
        ck_assert_ptr_null(strstr(text, RESIDENT_ID));
        ck_assert_ptr_null(strstr(text, "Chen Jing"));
        ck_assert_ptr_null(strstr(text, "13900000000"));
        ck_assert_ptr_null(strstr(text, "Room 101"));
        free(text);
        json_decref(doc);
        rd_kafka_headers_destroy(h);
        /* A missing field is not added. */
        doc = build(&fx, "{'op':'c','key':{'id_number':'" RESIDENT_ID "'},'after':{'district_code':'1'}}",
                    "after.name: missing required field", &h, &len);
        ck_assert_ptr_null(json_object_get(json_object_get(doc, "after"), "name"));
        ck_assert_uint_eq(json_object_size(json_object_get(doc, "after")), 1);
        json_decref(doc);
        rd_kafka_headers_destroy(h);
        fx_close(&fx);
}
END_TEST

/* A key, before or after in the wrong shape may be a personal value: it is
 * not kept. */
START_TEST(test_build_masks_members_of_the_wrong_shape) {
        dataset_fx_t fx;
        fx_open(&fx, "civil.resident");
        rd_kafka_headers_t *h = NULL;
        size_t len = 0;
        json_t *doc =
                build(&fx, "{'op':'u','key':'" RESIDENT_ID "','before':['Chen Jing'],'after':'Room 101'}",
                      "\"key\" must be an object with the primary key fields", &h, &len);
        char *text = json_dumps(doc, JSON_COMPACT);
        ck_assert_ptr_null(strstr(text, RESIDENT_ID));
        ck_assert_ptr_null(strstr(text, "Chen Jing"));
        ck_assert_ptr_null(strstr(text, "Room 101"));
        ck_assert_str_eq(json_string_value(json_object_get(doc, "op")), "u");
        free(text);
        json_decref(doc);
        rd_kafka_headers_destroy(h);
        fx_close(&fx);
}
END_TEST

/* Text that is not a JSON object is not kept: empty value, and a header
 * that says why. */
START_TEST(test_build_omits_non_json) {
        static const char *const texts[] = {
                "not json " RESIDENT_ID,
                "['" RESIDENT_ID "']",
                "'" RESIDENT_ID "'",
                "",
                "{'op':'c',",
                /* Duplicate members: which one a reader takes is not known. */
                "{'key':{'id_number':'x'},'key':{'id_number':'" RESIDENT_ID "'}}",
        };
        dataset_fx_t fx;
        fx_open(&fx, "civil.resident");
        for (size_t i = 0; i < sizeof(texts) / sizeof(*texts); i++) {
                rd_kafka_headers_t *h = NULL;
                size_t len = 99;
                json_t *doc = build(&fx, texts[i], "not valid JSON at column 1: x", &h, &len);
                ck_assert_msg(len == 0, "%s: value kept", texts[i]);
                ck_assert_ptr_null(doc);
                char why[256];
                ck_assert_msg(header(h, "sharebus.value.omitted", why, sizeof(why)), "%s: no header",
                              texts[i]);
                ck_assert_ptr_nonnull(strstr(why, "not a JSON object"));
                assert_header(h, "sharebus.rule", "change_line");
                assert_header(h, "sharebus.dataset", "civil.resident");
                rd_kafka_headers_destroy(h);
        }
        fx_close(&fx);
}
END_TEST

/* ---- rule and field of every shape of reason the encoder gives ---- */

static const struct {
        const char *topic, *line, *patch; /* quoted with '; see line_of */
        const char *rule, *field, *want;  /* want: a part of the reason, to know it is the shape meant */
} reasons[] = {
        /* change_line.c */
        {"civil.resident", "not json", NULL, "change_line", "", "not valid JSON"},
        {"civil.resident", "[1]", NULL, "change_line", "", "a change must be a JSON object"},
        {"civil.resident", "{'op':'c','key':{'id_number':'x'},'after':{},'extra':1}", NULL, "change_line", "",
         "unknown member 'extra'"},
        /* A member whose name looks like another reason. */
        {"civil.resident", "{'op':'c','key':{'id_number':'x'},'after':{},'after.x: required (cn_uscc)':1}",
         NULL, "change_line", "", "unknown member"},
        {"civil.resident", "{'key':{'id_number':'x'},'after':{}}", NULL, "change_line", "", "\"op\" must be"},
        /* An outbox row too large to publish (source_sqlite, pg_sql). */
        {"civil.resident", "{'rejected_by_source':'row of 9000 bytes exceeds the 4096-byte bound'}", NULL,
         "change_line", "", "refused by its source (rejected_by_source): row of 9000 bytes"},
        {"civil.resident", "{'op':'c','key':'x','after':{}}", NULL, "change_line", "",
         "\"key\" must be an object"},
        {"civil.resident", "{'op':'u','key':{'id_number':'x'},'before':1,'after':{}}", NULL, "change_line",
         "", "must be objects or null"},
        {"civil.resident", "{'op':'c','key':{'id_number':'x'},'before':{},'after':{}}", NULL, "change_line",
         "", "op \"c\" needs \"after\" and no \"before\""},
        {"civil.resident", "{'op':'u','key':{'id_number':'x'}}", NULL, "change_line", "", "op \"u\" needs"},
        {"civil.resident", "{'op':'d','key':{'id_number':'x'},'after':{}}", NULL, "change_line", "",
         "op \"d\" must not have"},
        {"civil.resident", "{'op':'c','key':{'id_number':'x'},'after':{'id_number':'y'}}", NULL,
         "change_line", "key.id_number", "differs from the same field"},
        {"civil.resident", "{'op':'c','key':{'id_number':'x'},'after':{},'ts_ms':-1}", NULL, "change_line",
         "", "\"ts_ms\" must be"},
        {"civil.resident", "{'op':'c','key':{'id_number':'x'},'after':{},'seq':'1'}", NULL, "change_line", "",
         "\"seq\" must be"},
        /* sb_avro: does not fit the schema. */
        {"civil.resident", "{'op':'d','key':{'id_number':1}}", NULL, "type", "key.id_number",
         "expected a string"},
        {"civil.resident", "{'op':'d','key':{}}", NULL, "schema", "key.id_number", "missing required field"},
        {"civil.resident", "{'op':'d','key':{'id_number':'x','extra':1}}", NULL, "schema", "key.extra",
         "unknown field"},
        {"civil.resident", NULL, "{'x':1}", "schema", "after.x", "unknown field"},
        /* An unknown member whose name holds a phrase of a rule. */
        {"civil.resident", NULL, "{'a:required':1}", "schema", "after.a", "unknown field"},
        {"civil.resident",
         "{'op':'c','key':{'id_number':'" RESIDENT_ID "'},'after':{'id_number':'" RESIDENT_ID "'}}", NULL,
         "schema", "after.name", "missing required field"},
        {"civil.resident", NULL, "{'birth_date':'1986-13-45'}", "schema", "after.birth_date",
         "is not a date"},
        {"civil.resident", NULL, "{'gender':'OTHER'}", "schema", "after.gender", "is not a symbol of enum"},
        {"civil.resident", NULL, "{'updated_at':'yesterday'}", "schema", "after.updated_at",
         "not a UTC timestamp"},
        {"civil.resident", NULL, "{'married':'yes'}", "type", "after.married", "expected"},
        {"civil.resident", NULL, "{'name':5}", "type", "after.name", "expected a string"},
        {"market.business_license", NULL, "{'registered_capital':'x'}", "type", "after.registered_capital",
         "expected a number"},
        /* sb_rules. */
        {"civil.resident", "{'op':'d','key':{'id_number':'33010619860606005X'}}", NULL, "cn_resident_id",
         "key.id_number", "check character is wrong"},
        {"civil.resident", "{'op':'d','key':{'id_number':'12'}}", NULL, "pattern", "key.id_number",
         "does not match the pattern"},
        {"civil.resident", NULL, "{'name':''}", "required", "after.name", "required, got an empty string"},
        {"civil.resident", NULL, "{'phone':'12345'}", "pattern", "after.phone",
         "the value (personal) does not match"},
        {"civil.resident", NULL, "{'district_code':'1'}", "pattern", "after.district_code",
         "'1' does not match"},
        {"market.business_license", "{'op':'d','key':{'uscc':'91330106MP1K50000A'}}", NULL, "cn_uscc",
         "key.uscc", "check character is wrong (cn_uscc)"},
        {"market.business_license", NULL, "{'registered_capital':-1}", "minimum", "after.registered_capital",
         "is below the minimum 0"},
        {"market.business_license", NULL, "{'name':''}", "required", "after.name", "required"},
        /* A public value quoted in the reason holds another rule's phrase:
         * the reason's own phrase comes last. */
        {"market.business_license", NULL,
         "{'address':'x is below the minimum (cn_uscc): required "
         "................................................................................................."
         "................................................................................................."
         "................................................................................................."
         "................................................................................................."
         "................................................................................................."
         "'}",
         "length", "after.address", "above the maximum length 500"},
        {"market.business_license", NULL,
         "{'status':'ACTIVE','name':'is not one of the allowed values',"
         "'registered_capital':-5}",
         "minimum", "after.registered_capital", "is below the minimum"},
};

START_TEST(test_rule_and_field_of_encoder_reasons) {
        dataset_fx_t fx;
        fx_open(&fx, reasons[_i].topic);
        char reason[1024], field[256];
        reason_of(&fx, reasons[_i].line, reasons[_i].patch, reason, sizeof(reason));
        ck_assert_msg(strstr(reason, reasons[_i].want), "%d: reason '%s' does not hold '%s'", _i, reason,
                      reasons[_i].want);
        ck_assert_msg(strcmp(rejects_rule(reason), reasons[_i].rule) == 0, "'%s': rule %s, want %s", reason,
                      rejects_rule(reason), reasons[_i].rule);
        rejects_field(reason, field, sizeof(field));
        ck_assert_msg(strcmp(field, reasons[_i].field) == 0, "'%s': field '%s', want '%s'", reason, field,
                      reasons[_i].field);
        fx_close(&fx);
}
END_TEST

/* The shapes of sb_rules the datasets do not reach (the encoder's Avro
 * check comes first, or no dataset has the rule): rules compiled from a
 * record of their own. */
static const char rules_schema[] =
        "{'type':'record','name':'R','fields':["
        "{'name':'code','type':'string','sharebus.rules':{'checksum':'cn_uscc'}},"
        "{'name':'rid','type':'string','sharebus.classification':'personal',"
        " 'sharebus.rules':{'checksum':'cn_resident_id'}},"
        "{'name':'n','type':'long','sharebus.rules':{'max':10,'enum':[1,2,30]}},"
        "{'name':'s','type':['null','string'],'sharebus.rules':{'required':true,'minLength':3,"
        " 'enum':['ab','abc','abcd','is above the maximum']}}]}";

static const struct {
        const char *row; /* quoted with ' */
        const char *rule, *field, *want;
} rule_reasons[] = {
        {"{'code':'short','rid':'" RESIDENT_ID "','n':1,'s':'abc'}", "cn_uscc", "after.code",
         "is not 18 characters long (cn_uscc)"},
        {"{'code':'91330106MP1K5000!U','rid':'" RESIDENT_ID "','n':1,'s':'abc'}", "cn_uscc", "after.code",
         "has a character that cannot be in a unified social credit code"},
        {"{'code':'" USCC "','rid':'33010619860606005','n':1,'s':'abc'}", "cn_resident_id", "after.rid",
         "the value (personal) is not 18 characters long"},
        {"{'code':'" USCC "','rid':'" RESIDENT_ID "','n':30,'s':'abc'}", "maximum", "after.n",
         "30 is above the maximum 10"},
        {"{'code':'" USCC "','rid':'" RESIDENT_ID "','n':3,'s':'abc'}", "enum", "after.n",
         "3 is not one of the allowed values"},
        {"{'code':'" USCC "','rid':'" RESIDENT_ID "','n':'x','s':'abc'}", "type", "after.n",
         "expected a number"},
        {"{'code':'" USCC "','rid':'" RESIDENT_ID "','n':1,'s':null}", "required", "after.s",
         "after.s: required"},
        {"{'code':'" USCC "','rid':'" RESIDENT_ID "','n':1,'s':'ab'}", "length", "after.s",
         "below the minimum length 3"},
        {"{'code':'" USCC "','rid':'" RESIDENT_ID "','n':1,'s':'is above the maximum 10'}", "enum", "after.s",
         "is not one of the allowed values"},
        {"{'code':'" USCC "','rid':'" RESIDENT_ID "','n':1,'s':5}", "type", "after.s", "expected a string"},
        {"['not an object']", "type", "after", "after: expected an object"},
};

START_TEST(test_rule_and_field_of_rules_reasons) {
        sb_schema_t *schema = test_schema_q(rules_schema);
        sb_rules_t *rules = NULL;
        TEST_CALL(sb_rules_new(sb_schema_root(schema), &rules, TEST_ERR));
        json_t *row = test_json_q(rule_reasons[_i].row);
        char reason[1024], field[256];
        ck_assert_int_eq(sb_rules_check(rules, row, "after", reason, sizeof(reason)), SB_ERR_INVALID);
        ck_assert_msg(strstr(reason, rule_reasons[_i].want), "reason '%s' does not hold '%s'", reason,
                      rule_reasons[_i].want);
        ck_assert_msg(strcmp(rejects_rule(reason), rule_reasons[_i].rule) == 0, "'%s': rule %s, want %s",
                      reason, rejects_rule(reason), rule_reasons[_i].rule);
        rejects_field(reason, field, sizeof(field));
        ck_assert_msg(strcmp(field, rule_reasons[_i].field) == 0, "'%s': field '%s', want '%s'", reason,
                      field, rule_reasons[_i].field);
        json_decref(row);
        sb_rules_destroy(rules);
        sb_schema_destroy(schema);
}
END_TEST

/* Reasons that are not the encoder's (a source's, the producer's own). */
START_TEST(test_rule_and_field_of_other_reasons) {
        static const struct {
                const char *reason, *rule, *field;
        } other[] = {
                {"line 3: the line is longer than max_line_bytes (256)", "schema", ""},
                {"column 2: not UTF-8 text (or holds a NUL byte)", "schema", ""},
                {"the event is 2000000 bytes, more than the producer's message.max.bytes", "schema", ""},
                {"", "schema", ""},
                {"after", "schema", ""},
                {"after:", "schema", "after"},
                {"key.id differs from the same field of the row", "change_line", "key.id"},
                {"after.x differs from the same field of the row", "schema", "after.x"},
        };
        char field[8];
        for (size_t i = 0; i < sizeof(other) / sizeof(*other); i++) {
                ck_assert_msg(strcmp(rejects_rule(other[i].reason), other[i].rule) == 0, "'%s': rule %s",
                              other[i].reason, rejects_rule(other[i].reason));
                rejects_field(other[i].reason, field, sizeof(field));
                ck_assert_msg(strncmp(field, other[i].field, sizeof(field) - 1) == 0, "'%s': field '%s'",
                              other[i].reason, field);
        }
        /* A long path is cut to the buffer, NUL-terminated. */
        rejects_field("after.a_very_long_field_name: required", field, sizeof(field));
        ck_assert_str_eq(field, "after.a");
}
END_TEST

static Suite *rejects_suite(void) {
        Suite *s = suite_create("rejects");
        TCase *tc = tcase_create("build");
        tcase_add_test(tc, test_build_headers);
        tcase_add_test(tc, test_build_masks_personal_and_sensitive);
        tcase_add_test(tc, test_build_masks_members_of_the_wrong_shape);
        tcase_add_test(tc, test_build_omits_non_json);
        suite_add_tcase(s, tc);
        tc = tcase_create("reasons");
        tcase_add_loop_test(tc, test_rule_and_field_of_encoder_reasons, 0,
                            sizeof(reasons) / sizeof(*reasons));
        tcase_add_loop_test(tc, test_rule_and_field_of_rules_reasons, 0,
                            sizeof(rule_reasons) / sizeof(*rule_reasons));
        tcase_add_test(tc, test_rule_and_field_of_other_reasons);
        suite_add_tcase(s, tc);
        return s;
}

int main(void) { return test_run_suite(rejects_suite()); }

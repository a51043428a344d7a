/*
 * Unit tests of sb_rules: every rule passing and failing with its exact
 * reason, malformed rules refused, the record the rules describe, the sample
 * generator's changes passing their datasets' rules, the producer's encoder
 * refusing lines that break them, and the SQLite target's record of column
 * classifications.
 */
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "change_line.h"
#include "event_encoder.h"
#include "sample.h"
#include "sb_avro.h"
#include "dataset.h"
#include "sb_rules.h"
#include "target.h"
#include "testutil.h"

/* ---- every rule, passing and failing ---- */

static const char rules_schema[] =
        "{'type':'record','name':'T','namespace':'t','sharebus.owner':'test','fields':["
        "{'name':'code','type':'string','sharebus.rules':{'required':true,'pattern':'[A-Z]{2}[0-9]+'}},"
        "{'name':'status','type':['null','string'],'default':null,'sharebus.rules':{'enum':['X1','Y2']}},"
        "{'name':'capital','type':'double','sharebus.rules':{'min':100,'max':1e6}},"
        "{'name':'count','type':['null','long'],'default':null,'sharebus.rules':{'min':-5,'max':10}},"
        "{'name':'level','type':'int','sharebus.rules':{'enum':[1,2,3]}},"
        "{'name':'title','type':['null','string'],'default':null,"
        "'sharebus.rules':{'minLength':2,'maxLength':4}},"
        "{'name':'uscc','type':['null','string'],'default':null,'sharebus.rules':{'checksum':'cn_uscc'}},"
        "{'name':'rid','type':['null','string'],'default':null,'sharebus.classification':'personal',"
        "'sharebus.rules':{'checksum':'cn_resident_id'}},"
        "{'name':'phone','type':['null','string'],'default':null,'sharebus.classification':'personal',"
        "'sharebus.rules':{'pattern':'1[0-9]{10}'}},"
        "{'name':'kind','type':{'type':'enum','name':'Kind','symbols':['A','B','C']},"
        "'sharebus.classification':'public','sharebus.rules':{'enum':['A','B']}},"
        "{'name':'note','type':['null','string'],'default':null,'sharebus.classification':'sensitive',"
        "'sharebus.rules':{'required':true,'maxLength':3}},"
        "{'name':'born','type':['null',{'type':'int','logicalType':'date'}],'default':null,"
        "'sharebus.rules':{'required':false}},"
        "{'name':'plain','type':'string'}]}";

static const char base_row[] = "{'code':'AB12','status':null,'capital':100,'count':null,'level':1,"
                               "'title':'abc','uscc':'91350100M000100Y43','rid':'11010519491231002X',"
                               "'phone':null,'kind':'A','note':'x','plain':''}";

static const struct {
        const char *patch;  /* merged into base_row; 'DROP' removes the key */
        const char *reason; /* NULL: passes */
} check_cases[] = {
        {"{}", NULL},
        {"{'code':'ZZ0'}", NULL},
        {"{'status':'X1'}", NULL},
        {"{'status':{'string':'Y2'}}", NULL},
        {"{'status':{'null':null}}", NULL},
        {"{'capital':1e6}", NULL},
        {"{'capital':100.0}", NULL},
        {"{'count':-5}", NULL},
        {"{'count':10}", NULL},
        {"{'count':{'long':3}}", NULL},
        {"{'level':3}", NULL},
        {"{'title':'ab'}", NULL},
        {"{'title':'abcd'}", NULL},
        {"{'title':'\u4e2d\u6587\u5b57'}", NULL},       /* 3 characters, 9 bytes */
        {"{'title':'\u4e2d\u6587\u5b57\u4e2d'}", NULL}, /* 4 characters, 12 bytes */
        {"{'title':'a\u4e2d\u00e9b'}", NULL},           /* 4 characters, 8 bytes */
        {"{'title':null}", NULL},
        {"{'uscc':null}", NULL},
        {"{'uscc':'91110000600037341L'}", NULL},
        {"{'rid':'110101199003074477'}", NULL},
        {"{'phone':'13800000000'}", NULL},
        {"{'kind':'B'}", NULL},
        {"{'born':null,'plain':'anything'}", NULL},
        {"{'extra':'ignored: the encoder refuses unknown fields'}", NULL},

        {"{'code':'DROP'}", "after.code: required"},
        {"{'code':null}", "after.code: required"},
        {"{'code':''}", "after.code: required, got an empty string"},
        {"{'code':'ab12'}", "after.code: 'ab12' does not match the pattern [A-Z]{2}[0-9]+"},
        {"{'code':'AB12x'}", "after.code: 'AB12x' does not match the pattern [A-Z]{2}[0-9]+"},
        {"{'code':'xAB12'}", "after.code: 'xAB12' does not match the pattern [A-Z]{2}[0-9]+"},
        {"{'code':'AB1\\u0000'}", "after.code: 'AB1?' does not match the pattern [A-Z]{2}[0-9]+"},
        {"{'code':'AB12\\nCD34'}", "after.code: 'AB12?CD34' does not match the pattern [A-Z]{2}[0-9]+"},
        {"{'code':12}", "after.code: expected a string, got integer"},
        {"{'status':'Z'}", "after.status: 'Z' is not one of the allowed values"},
        {"{'status':{'string':'Z'}}", "after.status: 'Z' is not one of the allowed values"},
        {"{'capital':12}", "after.capital: 12 is below the minimum 100"},
        {"{'capital':99.5}", "after.capital: 99.5 is below the minimum 100"},
        {"{'capital':1000000.5}", "after.capital: 1000000.5 is above the maximum 1000000"},
        {"{'capital':0.1}", "after.capital: 0.1 is below the minimum 100"},
        {"{'capital':'x'}", "after.capital: expected a number, got string"},
        {"{'count':11}", "after.count: 11 is above the maximum 10"},
        {"{'count':-6}", "after.count: -6 is below the minimum -5"},
        {"{'count':{'long':-6}}", "after.count: -6 is below the minimum -5"},
        {"{'level':4}", "after.level: 4 is not one of the allowed values"},
        {"{'title':'a'}", "after.title: 'a' has length 1, below the minimum length 2"},
        {"{'title':''}", "after.title: '' has length 0, below the minimum length 2"},
        {"{'title':'abcde'}", "after.title: 'abcde' has length 5, above the maximum length 4"},
        {"{'title':'\u4e2d\u6587\u5b57\u4e2d\u6587'}",
         "after.title: '\u4e2d\u6587\u5b57\u4e2d\u6587' has length 5, above the maximum length 4"},
        {"{'title':'a\u4e2d\u00e9b\u00e9'}", /* 5 characters, 10 bytes */
         "after.title: 'a\u4e2d\u00e9b\u00e9' has length 5, above the maximum length 4"},
        {"{'uscc':'91350100M000100Y44'}", "after.uscc: check character is wrong (cn_uscc)"},
        {"{'uscc':'91350100M000100Y4'}",
         "after.uscc: '91350100M000100Y4' is not 18 characters long (cn_uscc)"},
        {"{'uscc':'91350100M0001I0Y43'}",
         "after.uscc: '91350100M0001I0Y43' has a character that cannot be in "
         "a unified social credit code (cn_uscc)"},
        {"{'uscc':'91350100m000100Y43'}",
         "after.uscc: '91350100m000100Y43' has a character that cannot be in "
         "a unified social credit code (cn_uscc)"},
        {"{'uscc':'91350100\u4e2d000100Y43'}", "after.uscc: '91350100\u4e2d000100Y43' has a character that "
                                               "cannot be in a unified social credit code (cn_uscc)"},
        {"{'rid':'11010519491231002Y'}", "after.rid: check character is wrong (cn_resident_id)"},
        {"{'rid':'1101051949123100AX'}",
         "after.rid: the value (personal) has a character that cannot be in a "
         "resident identity number (cn_resident_id)"},
        {"{'rid':'123'}", "after.rid: the value (personal) is not 18 characters long (cn_resident_id)"},
        {"{'phone':'23800000000'}",
         "after.phone: the value (personal) does not match the pattern 1[0-9]{10}"},
        {"{'phone':{'string':'138'}}",
         "after.phone: the value (personal) does not match the pattern 1[0-9]{10}"},
        {"{'kind':'C'}", "after.kind: 'C' is not one of the allowed values"},
        {"{'note':null}", "after.note: required"},
        {"{'note':'DROP'}", "after.note: required"},
        {"{'note':''}", "after.note: required, got an empty string"},
        {"{'note':'abcd'}", "after.note: the value (sensitive) has length 4, above the maximum length 3"},
        /* The first field in record order is the one reported. */
        {"{'level':4,'capital':12}", "after.capital: 12 is below the minimum 100"},
        /* Long values are cut at 60 characters. */
        {"{'code':'aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa'}",
         "after.code: 'aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa...' does not match the "
         "pattern [A-Z]{2}[0-9]+"},
        {"{'code':'\u4e2d\u4e2d\u4e2d\u4e2d\u4e2d\u4e2d\u4e2d\u4e2d\u4e2d\u4e2d\u4e2d\u4e2d\u4e2d\u4e2d\u4e2d"
         "\u4e2d\u4e2d\u4e2d\u4e2d\u4e2d\u4e2d\u4e2d\u4e2d\u4e2d\u4e2d\u4e2d\u4e2d\u4e2d\u4e2d\u4e2d\u4e2d"
         "\u4e2d"
         "\u4e2d\u4e2d\u4e2d\u4e2d\u4e2d\u4e2d\u4e2d\u4e2d\u4e2d\u4e2d\u4e2d\u4e2d\u4e2d\u4e2d\u4e2d\u4e2d"
         "\u4e2d"
         "\u4e2d\u4e2d\u4e2d\u4e2d\u4e2d\u4e2d\u4e2d\u4e2d\u4e2d\u4e2d\u4e2d\u4e2d\u4e2d\u4e2d\u4e2d'}",
         "after.code: "
         "'\u4e2d\u4e2d\u4e2d\u4e2d\u4e2d\u4e2d\u4e2d\u4e2d\u4e2d\u4e2d\u4e2d\u4e2d\u4e2d\u4e2d\u4e2d"
         "\u4e2d\u4e2d\u4e2d\u4e2d\u4e2d\u4e2d\u4e2d\u4e2d\u4e2d\u4e2d\u4e2d\u4e2d\u4e2d\u4e2d\u4e2d\u4e2d"
         "\u4e2d"
         "\u4e2d\u4e2d\u4e2d\u4e2d\u4e2d\u4e2d\u4e2d\u4e2d\u4e2d\u4e2d\u4e2d\u4e2d\u4e2d\u4e2d\u4e2d\u4e2d"
         "\u4e2d"
         "\u4e2d\u4e2d\u4e2d\u4e2d\u4e2d\u4e2d\u4e2d\u4e2d\u4e2d\u4e2d\u4e2d...' does not match the pattern "
         "[A-Z]{2}[0-9]+"},
};

START_TEST(test_rule_cases) {
        sb_schema_t *s = test_schema_q(rules_schema);
        sb_rules_t *r = NULL;
        TEST_CALL(sb_rules_new(sb_schema_root(s), &r, TEST_ERR));
        json_t *row = test_json_q(base_row), *patch = test_json_q(check_cases[_i].patch);
        const char *k;
        json_t *v;
        json_object_foreach(patch, k, v) {
                if (json_is_string(v) && strcmp(json_string_value(v), "DROP") == 0)
                        json_object_del(row, k);
                else
                        json_object_set(row, k, v);
        }
        char err[1024] = "";
        sb_err_t rc = sb_rules_check(r, row, "after", err, sizeof(err));
        if (check_cases[_i].reason) {
                ck_assert_msg(rc == SB_ERR_INVALID, "%s passed", check_cases[_i].patch);
                ck_assert_str_eq(err, check_cases[_i].reason);
        } else {
                ck_assert_msg(rc == SB_OK, "%s: %s", check_cases[_i].patch, err);
        }
        json_decref(patch);
        json_decref(row);
        sb_rules_destroy(r);
        sb_schema_destroy(s);
}
END_TEST

START_TEST(test_check_paths_and_shapes) {
        sb_schema_t *s = test_schema_q(rules_schema);
        sb_rules_t *r = NULL;
        char err[512];
        TEST_CALL(sb_rules_new(sb_schema_root(s), &r, TEST_ERR));
        json_t *row = test_json_q(base_row);
        json_object_set_new(row, "capital", json_integer(1));
        ck_assert_int_eq(sb_rules_check(r, row, NULL, err, sizeof(err)), SB_ERR_INVALID);
        ck_assert_str_eq(err, "capital: 1 is below the minimum 100");
        ck_assert_int_eq(sb_rules_check(r, row, "", err, sizeof(err)), SB_ERR_INVALID);
        ck_assert_str_eq(err, "capital: 1 is below the minimum 100");
        ck_assert_int_eq(sb_rules_check(r, row, "key", err, sizeof(err)), SB_ERR_INVALID);
        ck_assert_str_eq(err, "key.capital: 1 is below the minimum 100");
        /* A small buffer gets a cut reason, never an overflow. */
        char tiny[8];
        ck_assert_int_eq(sb_rules_check(r, row, "after", tiny, sizeof(tiny)), SB_ERR_INVALID);
        ck_assert_str_eq(tiny, "after.c");
        ck_assert_int_eq(sb_rules_check(r, row, "after", NULL, 0), SB_ERR_INVALID);
        /* No row (a delete's after) is nothing to check; a non-object is refused. */
        TEST_CALL(sb_rules_check(r, NULL, "after", TEST_ERR));
        json_t *null = json_null(), *arr = json_array();
        TEST_CALL(sb_rules_check(r, null, "after", TEST_ERR));
        ck_assert_int_eq(sb_rules_check(r, arr, "after", err, sizeof(err)), SB_ERR_INVALID);
        ck_assert_str_eq(err, "after: expected an object, got array");
        ck_assert_int_eq(sb_rules_check(r, arr, NULL, err, sizeof(err)), SB_ERR_INVALID);
        ck_assert_str_eq(err, "(value): expected an object, got array");
        json_decref(arr);
        json_decref(row);
        sb_rules_destroy(r);
        sb_schema_destroy(s);
}
END_TEST

START_TEST(test_field_defaults_count_as_the_value) {
        /* A missing field counts as its default: a default that breaks a rule
         * is caught, a missing field without default is null. */
        sb_schema_t *s = test_schema_q("{'type':'record','name':'D','fields':["
                                       "{'name':'a','type':'int','default':7,'sharebus.rules':{'max':5}},"
                                       "{'name':'b','type':['null','string'],'default':null}]}");
        sb_rules_t *r = NULL;
        char err[256];
        TEST_CALL(sb_rules_new(sb_schema_root(s), &r, TEST_ERR));
        json_t *row = test_json_q("{}");
        ck_assert_int_eq(sb_rules_check(r, row, "after", err, sizeof(err)), SB_ERR_INVALID);
        ck_assert_str_eq(err, "after.a: 7 is above the maximum 5");
        json_object_set_new(row, "a", json_integer(5));
        TEST_CALL(sb_rules_check(r, row, "after", TEST_ERR));
        json_decref(row);
        sb_rules_destroy(r);
        sb_schema_destroy(s);
}
END_TEST

START_TEST(test_patterns_are_anchored_once) {
        /* A pattern written with its own anchors works the same; an
         * alternation is grouped before the anchors apply to it. */
        static const struct {
                const char *pattern, *value;
                int ok;
        } cases[] = {
                {"^[0-9]{6}$", "110105", 1},
                {"^[0-9]{6}$", "1101050", 0},
                {"[0-9]{6}", "a110105", 0},
                {"ab|cd", "ab", 1},
                {"ab|cd", "abcd", 0},
                {"ab|cd", "xcd", 0},
                {"a*", "", 1},
                {".*", "any thing", 1},
                {"[[:upper:]]+", "ABC", 1},
        };
        for (size_t i = 0; i < sizeof(cases) / sizeof(*cases); i++) {
                json_t *j =
                        test_json_q("{'type':'record','name':'P','fields':[{'name':'p','type':'string'}]}");
                json_object_set_new(json_array_get(json_object_get(j, "fields"), 0), "sharebus.rules",
                                    json_pack("{s:s}", "pattern", cases[i].pattern));
                char *text = json_dumps(j, 0);
                sb_schema_t *s = NULL;
                sb_rules_t *r = NULL;
                TEST_CALL(sb_schema_new(text, strlen(text), &s, TEST_ERR));
                TEST_CALL(sb_rules_new(sb_schema_root(s), &r, TEST_ERR));
                json_t *row = json_pack("{s:s}", "p", cases[i].value);
                char err[256];
                ck_assert_msg((sb_rules_check(r, row, "x", err, sizeof(err)) == SB_OK) == cases[i].ok,
                              "pattern %s on '%s'", cases[i].pattern, cases[i].value);
                json_decref(row);
                sb_rules_destroy(r);
                sb_schema_destroy(s);
                free(text);
                json_decref(j);
        }
}
END_TEST

START_TEST(test_classifications) {
        sb_schema_t *s = test_schema_q(rules_schema);
        sb_rules_t *r = NULL;
        TEST_CALL(sb_rules_new(sb_schema_root(s), &r, TEST_ERR));
        ck_assert_uint_eq(sb_rules_count(r), 13);
        ck_assert_str_eq(sb_rules_field_name(r, 0), "code");
        ck_assert_ptr_null(sb_rules_field_name(r, 13));
        ck_assert_int_eq(sb_rules_class(r, 0), SB_CLASS_INTERNAL); /* the default */
        ck_assert_int_eq(sb_rules_class(r, 7), SB_CLASS_PERSONAL);
        ck_assert_int_eq(sb_rules_class(r, 9), SB_CLASS_PUBLIC);
        ck_assert_int_eq(sb_rules_class(r, 10), SB_CLASS_SENSITIVE);
        ck_assert_int_eq(sb_rules_class(r, 99), SB_CLASS_INTERNAL);
        ck_assert_int_eq(sb_rules_class_of(r, "phone"), SB_CLASS_PERSONAL);
        ck_assert_int_eq(sb_rules_class_of(r, "nosuch"), SB_CLASS_INTERNAL);
        sb_class_t c;
        TEST_CALL(sb_field_class(sb_schema_root(s), 8, &c, TEST_ERR));
        ck_assert_int_eq(c, SB_CLASS_PERSONAL);
        static const char *const names[] = {"public", "internal", "sensitive", "personal"};
        for (int i = 0; i < 4; i++) {
                ck_assert_str_eq(sb_class_name((sb_class_t)i), names[i]);
                ck_assert_int_eq(sb_class_parse(names[i], &c), 0);
                ck_assert_int_eq(c, i);
        }
        ck_assert_int_eq(sb_class_parse("Personal", &c), -1);
        ck_assert_int_eq(sb_class_parse(NULL, &c), -1);
        sb_rules_destroy(r);
        sb_schema_destroy(s);
}
END_TEST

/* ---- malformed rules are refused ---- */

static const struct {
        const char *field; /* a field of record m.M */
        const char *error; /* exact, or the start of it if it ends with '*' */
} bad_cases[] = {
        {"{'name':'f','type':'string','sharebus.rules':{'patern':'x'}}",
         "m.M.f: sharebus.rules: unknown rule 'patern' (required, pattern, enum, min, max, minLength, "
         "maxLength, checksum)"},
        {"{'name':'f','type':'string','sharebus.rules':{'pattern':'[a-'}}",
         "m.M.f: sharebus.rules: pattern '[a-' is not a POSIX extended regular expression: *"},
        {"{'name':'f','type':'string','sharebus.rules':{'pattern':'(ab'}}",
         "m.M.f: sharebus.rules: pattern '(ab' is not a POSIX extended regular expression: *"},
        {"{'name':'f','type':'string','sharebus.rules':{'pattern':'(a)\\\\1'}}",
         "m.M.f: sharebus.rules: pattern '(a)\\1': back-references are not supported"},
        {"{'name':'f','type':'string','sharebus.rules':{'pattern':5}}",
         "m.M.f: sharebus.rules: pattern must be a string"},
        {"{'name':'f','type':'string','sharebus.rules':{'checksum':'luhn'}}",
         "m.M.f: sharebus.rules: unknown checksum 'luhn' (cn_uscc or cn_resident_id)"},
        {"{'name':'f','type':'string','sharebus.rules':{'checksum':true}}",
         "m.M.f: sharebus.rules: unknown checksum (not a string) (cn_uscc or cn_resident_id)"},
        {"{'name':'f','type':'string','sharebus.classification':'secret'}",
         "m.M.f: sharebus.classification: unknown classification 'secret' (public, internal, sensitive or "
         "personal)"},
        {"{'name':'f','type':'string','sharebus.classification':3}",
         "m.M.f: sharebus.classification: unknown classification (not a string) (public, internal, sensitive "
         "or personal)"},
        {"{'name':'f','type':'string','sharebus.rules':['required']}",
         "m.M.f: sharebus.rules: must be an object of rules"},
        {"{'name':'f','type':'string','sharebus.rules':{'required':'yes'}}",
         "m.M.f: sharebus.rules: required must be true or false"},
        {"{'name':'f','type':'string','sharebus.rules':{'min':0}}",
         "m.M.f: sharebus.rules: min applies to numbers, not to string"},
        {"{'name':'f','type':{'type':'int','logicalType':'date'},'sharebus.rules':{'max':0}}",
         "m.M.f: sharebus.rules: max applies to numbers, not to date"},
        {"{'name':'f','type':'int','sharebus.rules':{'min':'5'}}",
         "m.M.f: sharebus.rules: min must be a number"},
        {"{'name':'f','type':'int','sharebus.rules':{'min':5,'max':4}}",
         "m.M.f: sharebus.rules: min is above max"},
        {"{'name':'f','type':'string','sharebus.rules':{'minLength':-1}}",
         "m.M.f: sharebus.rules: minLength must be a non-negative integer"},
        {"{'name':'f','type':'string','sharebus.rules':{'maxLength':1.5}}",
         "m.M.f: sharebus.rules: maxLength must be a non-negative integer"},
        {"{'name':'f','type':'int','sharebus.rules':{'minLength':1}}",
         "m.M.f: sharebus.rules: minLength applies to strings, not to int"},
        {"{'name':'f','type':'string','sharebus.rules':{'minLength':5,'maxLength':2}}",
         "m.M.f: sharebus.rules: minLength is above maxLength"},
        {"{'name':'f','type':['null','long'],'default':null,'sharebus.rules':{'pattern':'x'}}",
         "m.M.f: sharebus.rules: pattern applies to strings, not to long"},
        {"{'name':'f','type':'int','sharebus.rules':{'checksum':'cn_uscc'}}",
         "m.M.f: sharebus.rules: checksum applies to strings, not to int"},
        {"{'name':'f','type':'string','sharebus.rules':{'enum':[]}}",
         "m.M.f: sharebus.rules: enum must be a non-empty array of the allowed values"},
        {"{'name':'f','type':'string','sharebus.rules':{'enum':'A'}}",
         "m.M.f: sharebus.rules: enum must be a non-empty array of the allowed values"},
        {"{'name':'f','type':'string','sharebus.rules':{'enum':['a',1]}}",
         "m.M.f: sharebus.rules: enum value 1 must be a string"},
        {"{'name':'f','type':'int','sharebus.rules':{'enum':['x']}}",
         "m.M.f: sharebus.rules: enum value 0 must be a number"},
        {"{'name':'f','type':'boolean','sharebus.rules':{'enum':[true]}}",
         "m.M.f: sharebus.rules: enum applies to strings, enums and numbers, not to boolean"},
        {"{'name':'f','type':{'type':'enum','name':'Kind','symbols':['A','B']},'sharebus.rules':{'enum':['Z']"
         "}}",
         "m.M.f: sharebus.rules: enum value 'Z' is not a symbol of m.Kind"},
        {"{'name':'f','type':['null','string','int'],'sharebus.rules':{'pattern':'x'}}",
         "m.M.f: sharebus.rules: pattern applies to strings, not to union"},
};

START_TEST(test_malformed_rules_are_refused) {
        char text[2048], err[512] = "";
        snprintf(text, sizeof(text),
                 "{'type':'record','name':'M','namespace':'m','fields':[{'name':'ok','type':'string',"
                 "'sharebus.rules':{'pattern':'[a-z]+'}},%s]}",
                 bad_cases[_i].field);
        sb_schema_t *s = test_schema_q(text);
        sb_rules_t *r = (sb_rules_t *)1;
        ck_assert_int_eq(sb_rules_new(sb_schema_root(s), &r, err, sizeof(err)), SB_ERR_SCHEMA);
        ck_assert_ptr_null(r);
        const char *want = bad_cases[_i].error;
        size_t n = strlen(want);
        if (want[n - 1] == '*') {
                ck_assert_msg(strncmp(err, want, n - 1) == 0 && strlen(err) > n, "got: %s", err);
        } else {
                ck_assert_str_eq(err, want);
        }
        sb_schema_destroy(s);
}
END_TEST

START_TEST(test_rules_need_a_record_with_a_string_owner) {
        char err[256];
        sb_rules_t *r = NULL;
        sb_schema_t *s = test_schema_q("'string'");
        ck_assert_int_eq(sb_rules_new(sb_schema_root(s), &r, err, sizeof(err)), SB_ERR_SCHEMA);
        ck_assert_str_eq(err, "rules are carried by a record");
        ck_assert_int_eq(sb_rules_new(NULL, &r, err, sizeof(err)), SB_ERR_SCHEMA);
        ck_assert_ptr_null(sb_rules_record(s));
        sb_schema_destroy(s);
        s = test_schema_q("{'type':'record','name':'M','namespace':'m','sharebus.owner':5,'fields':[]}");
        ck_assert_int_eq(sb_rules_new(sb_schema_root(s), &r, err, sizeof(err)), SB_ERR_SCHEMA);
        ck_assert_str_eq(err, "m.M: sharebus.owner must be a string");
        sb_schema_destroy(s);
        sb_rules_destroy(NULL);
}
END_TEST

START_TEST(test_rules_record_of_an_envelope_only) {
        /* A record that merely has an "after" field is described itself. */
        sb_schema_t *s = test_schema_q("{'type':'record','name':'E','fields':[{'name':'before','type':'int'},"
                                       "{'name':'after','type':'int'},{'name':'op','type':'string'}]}");
        ck_assert_ptr_eq(sb_rules_record(s), sb_schema_root(s));
        sb_schema_destroy(s);
        s = test_schema_q("{'type':'record','name':'E','fields':["
                          "{'name':'before','type':['null',{'type':'record','name':'Row','fields':[]}]},"
                          "{'name':'after','type':['null','Row']},{'name':'op','type':'string'}]}");
        ck_assert_str_eq(sb_node_name(sb_rules_record(s)), "Row");
        sb_schema_destroy(s);
}
END_TEST

/* ---- the sample generator's changes pass their datasets' rules ---- */

static const char *const sample_topics[] = {"market.business_license", "civil.resident", "tax.taxpayer"};

START_TEST(test_sample_lines_pass_their_rules) {
        /* What `sharebus-sample --dataset X --count 5000 --keys 1000` prints
         * (seed 1 is its default), and another seed. */
        static const uint64_t seeds[] = {1, 20250101};
        sb_dataset_t *ds = NULL;
        char dir[4096];
        snprintf(dir, sizeof(dir), "%s", test_src_path("schemas/datasets"));
        TEST_CALL(sb_dataset_load(dir, sample_topics[_i], &ds, TEST_ERR));
        sb_rules_t *key_rules = NULL, *row_rules = NULL;
        TEST_CALL(sb_rules_new(sb_schema_root(sb_dataset_key_schema(ds)), &key_rules, TEST_ERR));
        TEST_CALL(sb_rules_new(sb_dataset_row(ds), &row_rules, TEST_ERR));
        for (size_t k = 0; k < sizeof(seeds) / sizeof(*seeds); k++) {
                sb_sample_t *s = NULL;
                TEST_CALL(sb_sample_new(sample_topics[_i], seeds[k], 1000, &s, TEST_ERR));
                ck_assert_ptr_nonnull(s);
                int checked_after = 0;
                for (int n = 1; n <= 5000; n++) {
                        char *line = sb_sample_next(s), err[1024] = "";
                        sb_change_line_t cl;
                        ck_assert_ptr_nonnull(line);
                        TEST_CALL(sb_change_line_parse(line, strlen(line), &cl, TEST_ERR));
                        ck_assert_msg(sb_rules_check(key_rules, cl.key, "key", err, sizeof(err)) == SB_OK,
                                      "seed %llu line %d: %s: %s", (unsigned long long)seeds[k], n, err,
                                      line);
                        ck_assert_msg(sb_rules_check(row_rules, cl.after, "after", err, sizeof(err)) == SB_OK,
                                      "seed %llu line %d: %s: %s", (unsigned long long)seeds[k], n, err,
                                      line);
                        ck_assert_msg(
                                sb_rules_check(row_rules, cl.before, "before", err, sizeof(err)) == SB_OK,
                                "seed %llu line %d: %s: %s", (unsigned long long)seeds[k], n, err, line);
                        checked_after += cl.after != NULL;
                        sb_change_line_clear(&cl);
                        free(line);
                }
                ck_assert_int_gt(checked_after, 3000);
                sb_sample_destroy(s);
        }
        sb_rules_destroy(key_rules);
        sb_rules_destroy(row_rules);
        sb_dataset_destroy(ds);
}
END_TEST

/* ---- the producer's encoder refuses lines that break the rules ---- */

static const char license_after[] =
        "'name':'Fuzhou Co.','legal_representative':'Lin','registered_capital':%s,'business_scope':null,"
        "'status':'ACTIVE','established_on':'1996-02-29','address':null,"
        "'updated_at':'2025-01-01T08:00:00.123Z'";

static const struct {
        const char *uscc, *capital, *op, *reason;
} encode_cases[] = {
        {"91350100M000100Y43", "1234.5", "c", NULL},
        {"91350100M000100Y44", "1234.5", "c", "key.uscc: check character is wrong (cn_uscc)"},
        {"91350100M000100Y43", "-1", "c", "after.registered_capital: -1 is below the minimum 0"},
        {"91350100M000100Y43", "-0.5", "u", "after.registered_capital: -0.5 is below the minimum 0"},
        /* A delete carries the state the subscribers hold: before is not checked. */
        {"91350100M000100Y43", "-1", "d", NULL},
        /* A line that does not fit the schema is reported as before. */
        {"91350100M000100Y43", "'x'", "c", "after.registered_capital: expected a number, got string"},
};

START_TEST(test_encoder_checks_key_and_after) {
        sb_dataset_t *ds = NULL;
        char dir[4096], row[1024], line[2048], err[1024] = "", event_id[37];
        snprintf(dir, sizeof(dir), "%s", test_src_path("schemas/datasets"));
        TEST_CALL(sb_dataset_load(dir, "market.business_license", &ds, TEST_ERR));
        sb_event_encoder_t enc = {.dataset = ds,
                                  .key_schema_id = 1,
                                  .value_schema_id = 2,
                                  .department = "market",
                                  .system = "t"};
        TEST_CALL(sb_rules_new(sb_schema_root(sb_dataset_key_schema(ds)), &enc.key_rules, TEST_ERR));
        TEST_CALL(sb_rules_new(sb_dataset_row(ds), &enc.row_rules, TEST_ERR));
        snprintf(row, sizeof(row), license_after, encode_cases[_i].capital);
        const char *u = encode_cases[_i].uscc;
        if (encode_cases[_i].op[0] == 'd')
                snprintf(line, sizeof(line), "{'op':'d','key':{'uscc':'%s'},'before':{'uscc':'%s',%s}}", u, u,
                         row);
        else
                snprintf(line, sizeof(line), "{'op':'%s','key':{'uscc':'%s'},'after':{'uscc':'%s',%s}}",
                         encode_cases[_i].op, u, u, row);
        for (char *p = line; *p; p++)
                if (*p == '\'')
                        *p = '"';
        sb_change_line_t cl;
        TEST_CALL(sb_change_line_parse(line, strlen(line), &cl, TEST_ERR));
        sb_buf_t kb, vb;
        sb_buf_init(&kb, 1 << 20);
        sb_buf_init(&vb, 1 << 20);
        sb_err_t rc = sb_event_encode(&enc, &cl, 1, &kb, &vb, event_id, err, sizeof(err));
        if (encode_cases[_i].reason) {
                ck_assert_int_eq(rc, SB_ERR_INVALID);
                ck_assert_str_eq(err, encode_cases[_i].reason);
        } else {
                ck_assert_msg(rc == SB_OK, "%s", err);
        }
        sb_change_line_clear(&cl);
        sb_buf_free(&kb);
        sb_buf_free(&vb);
        sb_event_encoder_clear(&enc);
        ck_assert_ptr_null(enc.key_rules);
        ck_assert_ptr_null(enc.row_rules);
        sb_event_encoder_clear(&enc); /* twice is harmless */
        sb_dataset_destroy(ds);
}
END_TEST

/* ---- the SQLite target records the classification of each column ---- */

static char *sqlite_text(const char *db_path, const char *sql) {
        sqlite3 *db = NULL;
        sqlite3_stmt *st = NULL;
        char *out = NULL;
        ck_assert_int_eq(sqlite3_open_v2(db_path, &db, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
        ck_assert_int_eq(sqlite3_prepare_v2(db, sql, -1, &st, NULL), SQLITE_OK);
        if (sqlite3_step(st) == SQLITE_ROW && sqlite3_column_text(st, 0))
                out = strdup((const char *)sqlite3_column_text(st, 0));
        sqlite3_finalize(st);
        sqlite3_close(db);
        return out ? out : strdup("");
}

START_TEST(test_sqlite_records_column_classifications) {
        char path[256], err[512];
        snprintf(path, sizeof(path), "/tmp/sharebus-rules-%d.db", (int)getpid());
        unlink(path);
        sb_target_t *t = NULL;
        TEST_CALL(sb_target_sqlite_open(path, &t, TEST_ERR));
        ck_assert_ptr_nonnull(t->ops->record_columns);
        sb_dataset_t *ds = NULL;
        char dir[4096];
        snprintf(dir, sizeof(dir), "%s", test_src_path("schemas/datasets"));
        TEST_CALL(sb_dataset_load(dir, "civil.resident", &ds, TEST_ERR));
        const sb_node_t *key = sb_schema_root(sb_dataset_key_schema(ds)), *row = sb_dataset_row(ds);
        TEST_CALL(t->ops->begin(t, TEST_ERR));
        TEST_CALL(t->ops->ensure_table(t, "civil_resident", key, row, TEST_ERR));
        TEST_CALL(t->ops->record_columns(t, "civil_resident", row, TEST_ERR));
        /* Again (a subscriber restarting): upserted, not duplicated. */
        TEST_CALL(t->ops->record_columns(t, "civil_resident", row, TEST_ERR));
        TEST_CALL(t->ops->commit(t, TEST_ERR));

        char *personal =
                sqlite_text(path, "SELECT group_concat(column_name, ',') FROM (SELECT column_name FROM "
                                  "sharebus_columns WHERE table_name = 'civil_resident' AND "
                                  "classification = 'personal' ORDER BY column_name)");
        ck_assert_str_eq(personal, "address,birth_date,gender,id_number,name,phone");
        free(personal);
        char *all = sqlite_text(path, "SELECT count(*) || ' ' || group_concat(DISTINCT classification) FROM "
                                      "(SELECT * FROM sharebus_columns ORDER BY classification)");
        ck_assert_str_eq(all, "9 internal,personal,sensitive");
        free(all);

        /* A newer schema reclassifying a column updates its row. */
        json_t *doc = json_deep_copy(sb_schema_document(sb_dataset_key_schema(ds)));
        json_object_set_new(json_array_get(json_object_get(doc, "fields"), 0), "sharebus.classification",
                            json_string("sensitive"));
        char *text = json_dumps(doc, 0);
        sb_schema_t *k2 = NULL;
        TEST_CALL(sb_schema_new(text, strlen(text), &k2, TEST_ERR));
        TEST_CALL(t->ops->begin(t, TEST_ERR));
        TEST_CALL(t->ops->record_columns(t, "civil_resident", sb_schema_root(k2), TEST_ERR));
        TEST_CALL(t->ops->commit(t, TEST_ERR));
        char *c = sqlite_text(path, "SELECT classification || ' ' || (SELECT count(*) FROM sharebus_columns) "
                                    "FROM sharebus_columns WHERE column_name = 'id_number'");
        ck_assert_str_eq(c, "sensitive 9");
        free(c);
        sb_schema_destroy(k2);
        free(text);
        json_decref(doc);

        /* An unknown classification is refused, as the rules refuse it. */
        sb_schema_t *bad = test_schema_q("{'type':'record','name':'B','fields':[{'name':'a','type':'string',"
                                         "'sharebus.classification':'secret'}]}");
        TEST_CALL(t->ops->begin(t, TEST_ERR));
        ck_assert_int_eq(t->ops->record_columns(t, "b", sb_schema_root(bad), err, sizeof(err)),
                         SB_ERR_INVALID);
        ck_assert_msg(strstr(err, "unknown classification 'secret'"), "%s", err);
        t->ops->rollback(t);
        sb_schema_destroy(bad);

        sb_dataset_destroy(ds);
        t->ops->destroy(t);
        unlink(path);
        char side[300];
        snprintf(side, sizeof(side), "%s-wal", path);
        unlink(side);
        snprintf(side, sizeof(side), "%s-shm", path);
        unlink(side);
}
END_TEST

int main(void) {
        Suite *s = suite_create("rules");
        TCase *tc = tcase_create("check");
        tcase_add_loop_test(tc, test_rule_cases, 0, sizeof(check_cases) / sizeof(*check_cases));
        tcase_add_test(tc, test_check_paths_and_shapes);
        tcase_add_test(tc, test_field_defaults_count_as_the_value);
        tcase_add_test(tc, test_patterns_are_anchored_once);
        tcase_add_test(tc, test_classifications);
        suite_add_tcase(s, tc);

        tc = tcase_create("malformed");
        tcase_add_loop_test(tc, test_malformed_rules_are_refused, 0, sizeof(bad_cases) / sizeof(*bad_cases));
        tcase_add_test(tc, test_rules_need_a_record_with_a_string_owner);
        suite_add_tcase(s, tc);

        tc = tcase_create("record");
        tcase_add_test(tc, test_rules_record_of_an_envelope_only);
        suite_add_tcase(s, tc);

        tc = tcase_create("samples");
        tcase_set_timeout(tc, 120);
        tcase_add_loop_test(tc, test_sample_lines_pass_their_rules, 0, 3);
        suite_add_tcase(s, tc);

        tc = tcase_create("producer_and_target");
        tcase_add_loop_test(tc, test_encoder_checks_key_and_after, 0,
                            sizeof(encode_cases) / sizeof(*encode_cases));
        tcase_add_test(tc, test_sqlite_records_column_classifications);
        suite_add_tcase(s, tc);
        return test_run_suite(s);
}

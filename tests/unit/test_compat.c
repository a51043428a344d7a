/*
 * Unit tests of compat: Avro schema resolution between a writer and a reader
 * schema (Confluent's rules), and the registry's compatibility levels over a
 * subject's history.
 *
 * JSON in the tables is written with single quotes for readability; test_q2j()
 * turns them into double quotes before parsing.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "regd_compat.h"
#include "sb_avro.h"
#include "sb_envelope.h"
#include "testutil.h"

/* ---- helpers ---- */

/* A record in namespace t, and its fields. */
#define REC(name, fields) "{'type':'record','name':'" name "','namespace':'t','fields':[" fields "]}"
#define F(name, type) "{'name':'" name "','type':" type "}"
#define FD(name, type, dflt) "{'name':'" name "','type':" type ",'default':" dflt "}"
#define FA(name, type, aliases) "{'name':'" name "','type':" type ",'aliases':[" aliases "]}"
#define ENUM(name, syms) "{'type':'enum','name':'" name "','namespace':'t','symbols':[" syms "]}"
#define ENUMD(name, syms, dflt)                                                                              \
        "{'type':'enum','name':'" name "','namespace':'t','symbols':[" syms "],'default':" dflt "}"
#define ARR(items) "{'type':'array','items':" items "}"
#define MAP(values) "{'type':'map','values':" values "}"
#define FIXED(name, size) "{'type':'fixed','name':'" name "','namespace':'t','size':" #size "}"
#define DATE "{'type':'int','logicalType':'date'}"
#define TSMS "{'type':'long','logicalType':'timestamp-millis'}"
/* A record inside a field: the same as REC and F, under other names because
 * cppcheck's preprocessor cannot expand a macro inside its own argument. */
#define REC_IN(name, fields) "{'type':'record','name':'" name "','fields':[" fields "]}"
#define F_IN(name, type) "{'name':'" name "','type':" type "}"
/* A linked list. */
#define NODE_FIELDS F("value", "'int'") "," F("next", "['null','Node']")
#define LIST REC("Node", NODE_FIELDS)

/* ---- writer/reader pairs ---- */

static const struct {
        const char *writer, *reader;
        int can_read;
        const char *reason; /* substring of the reason when can_read is 0 */
} pairs[] = {
        /* same primitives */
        {"'null'", "'null'", 1, NULL},
        {"'boolean'", "'boolean'", 1, NULL},
        {"'int'", "'int'", 1, NULL},
        {"'string'", "'string'", 1, NULL},
        /* every promotion */
        {"'int'", "'long'", 1, NULL},
        {"'int'", "'float'", 1, NULL},
        {"'int'", "'double'", 1, NULL},
        {"'long'", "'float'", 1, NULL},
        {"'long'", "'double'", 1, NULL},
        {"'float'", "'double'", 1, NULL},
        {"'string'", "'bytes'", 1, NULL},
        {"'bytes'", "'string'", 1, NULL},
        /* non-promotions */
        {"'long'", "'int'", 0, "writer type long cannot be promoted to reader type int"},
        {"'float'", "'int'", 0, "writer type float cannot be promoted to reader type int"},
        {"'double'", "'int'", 0, "writer type double cannot be promoted to reader type int"},
        {"'float'", "'long'", 0, "writer type float cannot be promoted to reader type long"},
        {"'double'", "'long'", 0, "writer type double cannot be promoted to reader type long"},
        {"'double'", "'float'", 0, "writer type double cannot be promoted to reader type float"},
        {"'bytes'", "'int'", 0, "writer type bytes cannot be promoted to reader type int"},
        {"'string'", "'int'", 0, "writer type string cannot be promoted to reader type int"},
        {"'int'", "'string'", 0, "writer type int cannot be promoted to reader type string"},
        {"'int'", "'boolean'", 0, "writer type int does not match reader type boolean"},
        {"'boolean'", "'int'", 0, "writer type boolean does not match reader type int"},
        {"'null'", "'string'", 0, "writer type null does not match reader type string"},
        {REC("R", F("a", "'int'")), "'string'", 0,
         "writer type record t.R does not match reader type string"},
        /* a field's type: promotion and its reverse, with the field named */
        {REC("R", F("employee_count", "'int'")), REC("R", F("employee_count", "'long'")), 1, NULL},
        {REC("R", F("employee_count", "'string'")), REC("R", F("employee_count", "'int'")), 0,
         "field 'employee_count': writer type string cannot be promoted to reader type int"},
        /* fields added and removed */
        {REC("R", F("a", "'int'")), REC("R", F("a", "'int'") "," FD("b", "'int'", "0")), 1, NULL},
        {REC("R", F("a", "'int'")), REC("R", F("a", "'int'") "," FD("b", "['null','string']", "null")), 1,
         NULL},
        {REC("R", F("a", "'int'")), REC("R", F("a", "'int'") "," F("address", "'string'")), 0,
         "reader field 'address' (record t.R) has no default and is missing in the writer"},
        {REC("R", F("a", "'int'") "," F("b", "'int'")), REC("R", F("a", "'int'")), 1, NULL},
        {REC("R", F("a", "'int'") "," FD("b", "'int'", "0")), REC("R", F("a", "'int'")), 1, NULL},
        {REC("R", F("a", "'int'")), REC("R", F("x", "'int'") "," F("y", "'int'")), 0, "; and 1 more problem"},
        /* nested records */
        {REC("R", F("owner", REC_IN("Owner", F_IN("name", "'string'")))),
         REC("R", F("owner", REC_IN("Owner", F_IN("name", "'string'") "," FD("city", "'string'", "''")))), 1,
         NULL},
        {REC("R", F("owner", REC_IN("Owner", F_IN("name", "'string'")))),
         REC("R", F("owner", REC_IN("Owner", F_IN("name", "'string'") "," F_IN("address", "'string'")))), 0,
         "reader field 'owner.address' (record t.Owner) has no default"},
        {REC("R", F("owner", REC_IN("Owner", F_IN("id", "'long'")))),
         REC("R", F("owner", REC_IN("Owner", F_IN("id", "'int'")))), 0,
         "field 'owner.id': writer type long cannot be promoted to reader type int"},
        /* enums */
        {ENUM("Status", "'OPEN','CLOSED'"), ENUM("Status", "'OPEN','CLOSED','SUSPENDED'"), 1, NULL},
        {ENUM("Status", "'OPEN','CLOSED'"), ENUM("Status", "'CLOSED','OPEN'"), 1, NULL},
        {ENUM("Status", "'OPEN','CLOSED'"), ENUM("Status", "'OPEN'"), 0,
         "enum t.Status: writer symbol 'CLOSED' is not in the reader and the reader has no default"},
        {ENUM("Status", "'OPEN','CLOSED'"), ENUMD("Status", "'OPEN','UNKNOWN'", "'UNKNOWN'"), 1, NULL},
        {ENUM("Status", "'OPEN','CLOSED'"), ENUM("State", "'OPEN','CLOSED'"), 0,
         "writer enum t.Status does not match reader enum t.State"},
        {ENUM("Status", "'OPEN','CLOSED'"),
         "{'type':'enum','name':'State','namespace':'t','aliases':['Status'],'symbols':['OPEN','CLOSED']}", 1,
         NULL},
        {REC("R", F("status", ENUM("Status", "'OPEN','CLOSED'"))),
         REC("R", F("status", ENUM("Status", "'OPEN'"))), 0,
         "field 'status': enum t.Status: writer symbol 'CLOSED' is not in the reader"},
        {ENUM("Status", "'OPEN'"), "'string'", 0,
         "writer type enum t.Status does not match reader type string"},
        /* unions */
        {"'string'", "['null','string']", 1, NULL},
        {"['null','string']", "'string'", 0, "writer type null does not match reader type string"},
        {"['null','string']", "['null','string','int']", 1, NULL},
        {"['null','string','int']", "['null','string']", 0,
         "writer type int cannot be promoted to reader type string"},
        {"['null','string','int']", "['null','string','boolean']", 0,
         "writer type int is not readable by any branch of the reader union [null, string, boolean]"},
        {"['string','null']", "['null','string']", 1, NULL},
        {"['null','int']", "['null','long']", 1, NULL},
        {"['null','long']", "['null','int']", 0, "writer type long cannot be promoted to reader type int"},
        {"'int'", "['null','string']", 0, "writer type int cannot be promoted to reader type string"},
        {"'int'", "['null','string','boolean']", 0,
         "writer type int is not readable by any branch of the reader union"},
        {"['int','string']", "'string'", 0, "writer type int cannot be promoted to reader type string"},
        {"['int','long']", "'long'", 1, NULL},
        {REC("R", F("x", "['null','string']")), REC("R", F("x", "'string'")), 0,
         "field 'x': writer type null does not match reader type string"},
        {REC("R", F("x", "'string'")), REC("R", FD("x", "['null','string']", "null")), 1, NULL},
        {"[" REC("A", F("a", "'int'")) "," REC("B", F("b", "'int'")) "]", "[" REC("A", F("a", "'int'")) "]",
         0, "writer record t.B does not match reader record t.A: the names differ"},
        {"[" REC("A", F("a", "'int'")) "," REC("B", F("b", "'int'")) "]",
         "['null'," REC("A", F("a", "'int'")) ",'string']", 0,
         "writer type record t.B is not readable by any branch"},
        {REC("A", F("a", "'int'")), "['null'," REC("B", F("b", "'int'")) "," REC("A", F("a", "'long'")) "]",
         1, NULL},
        /* arrays and maps, of records */
        {ARR("'int'"), ARR("'long'"), 1, NULL},
        {ARR("'long'"), ARR("'int'"), 0,
         "field '[]': writer type long cannot be promoted to reader type int"},
        {ARR("'int'"), MAP("'int'"), 0, "writer type array does not match reader type map"},
        {REC("R", F("lines", ARR(REC_IN("Line", F_IN("qty", "'int'"))))),
         REC("R", F("lines", ARR(REC_IN("Line", F_IN("qty", "'int'") "," F_IN("unit", "'string'"))))), 0,
         "reader field 'lines[].unit' (record t.Line) has no default"},
        {REC("R", F("lines", ARR(REC_IN("Line", F_IN("qty", "'int'"))))),
         REC("R",
             F("lines", ARR(REC_IN("Line", F_IN("qty", "'double'") "," FD("unit", "'string'", "'pc'"))))),
         1, NULL},
        {REC("R", F("tags", MAP(REC_IN("Tag", F_IN("v", "'int'"))))),
         REC("R", F("tags", MAP(REC_IN("Tag", F_IN("v", "'long'"))))), 1, NULL},
        {REC("R", F("tags", MAP(REC_IN("Tag", F_IN("v", "'long'"))))),
         REC("R", F("tags", MAP(REC_IN("Tag", F_IN("v", "'int'"))))), 0,
         "field 'tags{}.v': writer type long cannot be promoted to reader type int"},
        /* fixed */
        {FIXED("Hash", 16), FIXED("Hash", 16), 1, NULL},
        {FIXED("Hash", 16), FIXED("Hash", 32), 0, "fixed t.Hash: writer size 16 differs from reader size 32"},
        {FIXED("Hash", 16), FIXED("Digest", 16), 0,
         "writer fixed t.Hash does not match reader fixed t.Digest"},
        {FIXED("Hash", 16), "{'type':'fixed','name':'Digest','namespace':'t','aliases':['t.Hash'],'size':16}",
         1, NULL},
        {FIXED("Hash", 16), "'bytes'", 0, "writer type fixed t.Hash does not match reader type bytes"},
        /* named type renames, aliases and namespaces */
        {REC("Old", F("a", "'int'")), REC("New", F("a", "'int'")), 0,
         "writer record t.Old does not match reader record t.New"},
        {REC("Old", F("a", "'int'")),
         "{'type':'record','name':'New','namespace':'t','aliases':['Old'],'fields':[{'name':'a','type':'int'}"
         "]}",
         1, NULL},
        {REC("Old", F("a", "'int'")),
         "{'type':'record','name':'New','namespace':'t','aliases':['t.Old'],'fields':[{'name':'a','type':'"
         "int'}]}",
         1, NULL},
        {REC("Old", F("a", "'int'")),
         "{'type':'record','name':'New','namespace':'t','aliases':['x.Old'],'fields':[{'name':'a','type':'"
         "int'}]}",
         0, "no reader alias names t.Old"},
        {"{'type':'record','name':'R','namespace':'a','fields':[{'name':'a','type':'int'}]}",
         "{'type':'record','name':'R','namespace':'b','fields':[{'name':'a','type':'int'}]}", 1, NULL},
        {"{'type':'record','name':'a.R','fields':[{'name':'e','type':{'type':'enum','name':'E','symbols':['X'"
         "]}}]}",
         "{'type':'record','name':'R','namespace':'b','fields':[{'name':'e','type':{'type':'enum','name':'E',"
         "'symbols':['X']}}]}",
         1, NULL},
        /* field renames */
        {REC("R", F("old_name", "'int'")), REC("R", FA("new_name", "'int'", "'old_name'")), 1, NULL},
        {REC("R", F("old_name", "'int'")), REC("R", FA("new_name", "'long'", "'x','old_name'")), 1, NULL},
        {REC("R", F("old_name", "'int'")), REC("R", F("new_name", "'int'")), 0,
         "reader field 'new_name' (record t.R) has no default and is missing in the writer"},
        {REC("R", F("old_name", "'long'")), REC("R", FA("new_name", "'int'", "'old_name'")), 0,
         "field 'new_name': writer type long cannot be promoted to reader type int"},
        /* recursive types */
        {LIST, LIST, 1, NULL},
        {LIST, REC("Node", NODE_FIELDS "," FD("label", "'string'", "''")), 1, NULL},
        {LIST, REC("Node", NODE_FIELDS "," F("label", "'string'")), 0,
         "reader field 'label' (record t.Node) has no default"},
        {REC("Node", F("value", "'long'") "," F("next", "['null','Node']")), LIST, 0,
         "field 'value': writer type long cannot be promoted to reader type int"},
        {REC("Tree", F("kids", ARR("'Tree'"))),
         REC("Tree", F("kids", ARR("'Tree'")) "," FD("n", "'int'", "0")), 1, NULL},
        /* through unions: the branch of the same name (or the one non-null
         * branch) says why, down to the field */
        {REC("R", F("x", "['null'," REC_IN("In", F_IN("a", "'long'")) "]")),
         REC("R", F("x", "['null'," REC_IN("In", F_IN("a", "'int'")) "]")), 0,
         "field 'x.a': writer type long cannot be promoted to reader type int"},
        {REC("R", F("x", "['null'," REC_IN("In", F_IN("a", "'int'")) "]")),
         REC("R", F("x", "['null','string'," REC_IN("In", F_IN("a", "'int'") "," F_IN("b", "'int'")) "]")), 0,
         "reader field 'x.b' (record t.In) has no default and is missing in the writer"},
        {REC("R", F("x", REC_IN("In", F_IN("a", "'int'")))),
         REC("R", F("x", "['null'," REC_IN("In", F_IN("a", "'string'")) "]")), 0,
         "field 'x.a': writer type int cannot be promoted to reader type string"},
        {REC("R", F("l", ARR("['null'," REC_IN("In", F_IN("a", "'int'")) "]"))),
         REC("R", F("l", ARR("['null'," REC_IN("In", F_IN("a", "'int'") "," F_IN("b", "'int'")) "]"))), 0,
         "reader field 'l[].b' (record t.In) has no default"},
        {REC("R", F("m", "['null'," MAP("'long'") "]")),
         REC("R", F("m", "['null','string'," MAP("'int'") "]")), 0,
         "field 'm{}': writer type long cannot be promoted to reader type int"},
        {REC("R", F("s", "['null'," ENUM("S", "'A','B'") "]")),
         REC("R", F("s", "['null'," ENUM("S", "'A'") "]")), 0,
         "field 's': enum t.S: writer symbol 'B' is not in the reader"},
        {REC("R", F("o", "['null',{'type':'record','name':'Outer','fields':[{'name':'i','type':['null',"
                         "{'type':'record','name':'In','fields':[{'name':'a','type':'double'}]}]}]}]")),
         REC("R", F("o", "['null',{'type':'record','name':'Outer','fields':[{'name':'i','type':['null',"
                         "{'type':'record','name':'In','fields':[{'name':'a','type':'string'}]}]}]}]")),
         0, "field 'o.i.a': writer type double cannot be promoted to reader type string"},
        /* several candidates and none of the writer's name: the union itself */
        {REC("R", F("x", "['null','int']")), REC("R", F("x", "['null','string','boolean']")), 0,
         "field 'x': writer type int is not readable by any branch of the reader union [null, string, "
         "boolean]"},
        /* recursive types through a union (the linked list of the spec) */
        {"{'type':'record','name':'Node','fields':[{'name':'v','type':'int'},{'name':'next','type':['null','"
         "Node']}]}",
         "{'type':'record','name':'Node','fields':[{'name':'v','type':'int'},{'name':'next','type':['null','"
         "Node']},"
         "{'name':'w','type':'string','default':''}]}",
         1, NULL},
        {"{'type':'record','name':'Node','fields':[{'name':'v','type':'int'},{'name':'next','type':['null','"
         "Node']}]}",
         "{'type':'record','name':'Node','fields':[{'name':'v','type':'string'},{'name':'next','type':['null'"
         ",'Node']}]}",
         0, "field 'v': writer type int cannot be promoted to reader type string"},
        {"{'type':'record','name':'Node','fields':[{'name':'v','type':'int'},{'name':'next','type':['null','"
         "Node']}]}",
         "{'type':'record','name':'Node','fields':[{'name':'v','type':'int'},{'name':'next','type':['null','"
         "Node']},"
         "{'name':'w','type':'string'}]}",
         0, "reader field 'w' (record Node) has no default and is missing in the writer"},
        /* mutual recursion */
        {"{'type':'record','name':'A','fields':[{'name':'b','type':['null',{'type':'record','name':'B','"
         "fields':"
         "[{'name':'a','type':['null','A']},{'name':'n','type':'int'}]}]}]}",
         "{'type':'record','name':'A','fields':[{'name':'b','type':['null',{'type':'record','name':'B','"
         "fields':"
         "[{'name':'a','type':['null','A']},{'name':'n','type':'long'}]}]}]}",
         1, NULL},
        {"{'type':'record','name':'A','fields':[{'name':'b','type':['null',{'type':'record','name':'B','"
         "fields':"
         "[{'name':'a','type':['null','A']},{'name':'n','type':'long'}]}]}]}",
         "{'type':'record','name':'A','fields':[{'name':'b','type':['null',{'type':'record','name':'B','"
         "fields':"
         "[{'name':'a','type':['null','A']},{'name':'n','type':'int'}]}]}]}",
         0, "field 'b.n': writer type long cannot be promoted to reader type int"},
        /* logical types: the underlying types decide */
        {DATE, "'int'", 1, NULL},
        {"'int'", DATE, 1, NULL},
        {DATE, TSMS, 1, NULL},
        {TSMS, DATE, 0, "writer type long (timestamp-millis) cannot be promoted to reader type int (date)"},
        {"'string'", DATE, 0, "writer type string cannot be promoted to reader type int (date)"},
        {REC("R", F("d", DATE)), REC("R", F("d", "'long'")), 1, NULL},
};
#define N_PAIRS (sizeof(pairs) / sizeof(*pairs))

START_TEST(test_can_read_pair) {
        sb_schema_t *w = test_schema_q(pairs[_i].writer), *r = test_schema_q(pairs[_i].reader);
        char why[512] = "untouched";
        int got = regd_compat_can_read(w, r, why, sizeof(why));
        ck_assert_msg(got == pairs[_i].can_read, "pair %d: writer %s reader %s: got %d (%s), want %d", _i,
                      pairs[_i].writer, pairs[_i].reader, got, why, pairs[_i].can_read);
        if (got)
                ck_assert_str_eq(why, "");
        else
                ck_assert_msg(strstr(why, pairs[_i].reason) != NULL, "pair %d: reason \"%s\" lacks \"%s\"",
                              _i, why, pairs[_i].reason);
        /* NULL `why` gives the same verdict. */
        ck_assert_int_eq(regd_compat_can_read(w, r, NULL, 0), got);
        sb_schema_destroy(w);
        sb_schema_destroy(r);
}
END_TEST

START_TEST(test_reason_is_truncated_to_buffer) {
        sb_schema_t *w = test_schema_q("'string'"), *r = test_schema_q("'int'");
        char why[8];
        memset(why, 'x', sizeof(why));
        ck_assert_int_eq(regd_compat_can_read(w, r, why, sizeof(why)), 0);
        ck_assert_str_eq(why, "writer ");
        sb_schema_destroy(w);
        sb_schema_destroy(r);
}
END_TEST

START_TEST(test_every_problem_is_counted) {
        sb_schema_t *w = test_schema_q(REC("R", F("a", "'long'") "," F("s", ENUM("S", "'A','B','C'")))),
                    *r = test_schema_q(
                            REC("R", F("a", "'int'") "," F("s", ENUM("S", "'A'")) "," F("z", "'int'")));
        char why[512];
        ck_assert_int_eq(regd_compat_can_read(w, r, why, sizeof(why)), 0);
        /* a, symbols B and C, z */
        ck_assert_msg(strstr(why, "field 'a':") == why, "%s", why);
        ck_assert_msg(strstr(why, "; and 3 more problems") != NULL, "%s", why);
        sb_schema_destroy(w);
        sb_schema_destroy(r);
}
END_TEST

/* ---- levels ---- */

START_TEST(test_level_names_round_trip) {
        static const char *names[] = {"NONE",           "BACKWARD",           "BACKWARD_TRANSITIVE",
                                      "FORWARD",        "FORWARD_TRANSITIVE", "FULL",
                                      "FULL_TRANSITIVE"};
        for (size_t i = 0; i < sizeof(names) / sizeof(*names); i++) {
                regd_compat_level_t l = REGD_COMPAT_NONE;
                ck_assert_int_eq(regd_compat_level_parse(names[i], &l), 0);
                ck_assert_int_eq(l, (int)i);
                ck_assert_str_eq(regd_compat_level_name(l), names[i]);
        }
        regd_compat_level_t l = REGD_COMPAT_FULL;
        ck_assert_int_eq(regd_compat_level_parse("backward_transitive", &l), 0);
        ck_assert_int_eq(l, REGD_COMPAT_BACKWARD_TRANSITIVE);
        l = REGD_COMPAT_FULL;
        ck_assert_int_eq(regd_compat_level_parse("SIDEWAYS", &l), -1);
        ck_assert_int_eq(regd_compat_level_parse("", &l), -1);
        ck_assert_int_eq(regd_compat_level_parse(NULL, &l), -1);
        ck_assert_int_eq(l, REGD_COMPAT_FULL);
        ck_assert_str_eq(regd_compat_level_name((regd_compat_level_t)99), "UNKNOWN");
}
END_TEST

/* A history where only the transitive levels see the problems with v1:
 *   v1 {a, old}              old without default
 *   v2 {a, old="", b=""}
 *   v3 {a, b=""}
 *   new {a, b}               b without default
 * The new schema reads v3 and v2 data (both have b) but not v1's (no b); v3
 * and v2 read new data (old is defaulted or absent) but v1 does not (needs
 * old). */
static const char *history[] = {
        REC("R", F("a", "'int'") "," F("old", "'string'")),
        REC("R", F("a", "'int'") "," FD("old", "'string'", "''") "," FD("b", "'string'", "''")),
        REC("R", F("a", "'int'") "," FD("b", "'string'", "''")),
};
#define N_HISTORY (sizeof(history) / sizeof(*history))
static const char *candidate = REC("R", F("a", "'int'") "," F("b", "'string'"));

static const struct {
        regd_compat_level_t level;
        int compatible;
        const char *messages[2]; /* expected messages, in order */
} level_cases[] = {
        {REGD_COMPAT_NONE, 1, {NULL, NULL}},
        {REGD_COMPAT_BACKWARD, 1, {NULL, NULL}},
        {REGD_COMPAT_BACKWARD_TRANSITIVE,
         0,
         {"reading version 1 data with the new schema: reader field 'b' (record t.R) has no default and is "
          "missing in the writer",
          NULL}},
        {REGD_COMPAT_FORWARD, 1, {NULL, NULL}},
        {REGD_COMPAT_FORWARD_TRANSITIVE,
         0,
         {"reading new-schema data with version 1: reader field 'old' (record t.R) has no default and is "
          "missing in the writer",
          NULL}},
        {REGD_COMPAT_FULL, 1, {NULL, NULL}},
        {REGD_COMPAT_FULL_TRANSITIVE,
         0,
         {"reading version 1 data with the new schema: reader field 'b' (record t.R) has no default and is "
          "missing in the writer",
          "reading new-schema data with version 1: reader field 'old' (record t.R) has no default and is "
          "missing in the writer"}},
};
#define N_LEVEL_CASES (sizeof(level_cases) / sizeof(*level_cases))

static void load_history(sb_schema_t **out) {
        for (size_t i = 0; i < N_HISTORY; i++)
                out[i] = test_schema_q(history[i]);
}

static void free_history(sb_schema_t **h) {
        for (size_t i = 0; i < N_HISTORY; i++)
                sb_schema_destroy(h[i]);
}

START_TEST(test_level_over_history) {
        sb_schema_t *h[N_HISTORY];
        sb_schema_t *cand = test_schema_q(candidate);
        json_t *msgs = json_array();
        load_history(h);
        int got = regd_compat_check(level_cases[_i].level, cand, (const sb_schema_t *const *)h, N_HISTORY,
                                    msgs);
        char *dumped = json_dumps(msgs, 0);
        ck_assert_msg(got == level_cases[_i].compatible, "%s: got %d, messages %s",
                      regd_compat_level_name(level_cases[_i].level), got, dumped);
        size_t want_n = 0;
        while (want_n < 2 && level_cases[_i].messages[want_n])
                want_n++;
        ck_assert_msg(json_array_size(msgs) == want_n, "%s: messages %s",
                      regd_compat_level_name(level_cases[_i].level), dumped);
        for (size_t k = 0; k < want_n; k++)
                ck_assert_str_eq(json_string_value(json_array_get(msgs, k)), level_cases[_i].messages[k]);
        /* NULL messages give the same verdict. */
        ck_assert_int_eq(regd_compat_check(level_cases[_i].level, cand, (const sb_schema_t *const *)h,
                                           N_HISTORY, NULL),
                         got);
        free(dumped);
        json_decref(msgs);
        free_history(h);
        sb_schema_destroy(cand);
}
END_TEST

START_TEST(test_non_transitive_levels_name_the_latest_version) {
        sb_schema_t *h[N_HISTORY];
        sb_schema_t *cand = test_schema_q(REC("R", F("a", "'string'") "," F("b", "'string'")));
        json_t *msgs = json_array();
        load_history(h);
        ck_assert_int_eq(
                regd_compat_check(REGD_COMPAT_FULL, cand, (const sb_schema_t *const *)h, N_HISTORY, msgs), 0);
        ck_assert_uint_eq(json_array_size(msgs), 2);
        ck_assert_str_eq(json_string_value(json_array_get(msgs, 0)),
                         "reading version 3 data with the new schema: field 'a': writer type int cannot be "
                         "promoted to reader type string");
        ck_assert_str_eq(json_string_value(json_array_get(msgs, 1)),
                         "reading new-schema data with version 3: field 'a': writer type string cannot be "
                         "promoted to reader type int");
        /* NONE ignores it all. */
        ck_assert_int_eq(
                regd_compat_check(REGD_COMPAT_NONE, cand, (const sb_schema_t *const *)h, N_HISTORY, msgs), 1);
        ck_assert_uint_eq(json_array_size(msgs), 2);
        json_decref(msgs);
        free_history(h);
        sb_schema_destroy(cand);
}
END_TEST

START_TEST(test_first_version_is_always_compatible) {
        sb_schema_t *cand = test_schema_q(candidate);
        for (int l = REGD_COMPAT_NONE; l <= REGD_COMPAT_FULL_TRANSITIVE; l++)
                ck_assert_int_eq(regd_compat_check((regd_compat_level_t)l, cand, NULL, 0, NULL), 1);
        sb_schema_destroy(cand);
}
END_TEST

/* ---- the real dataset, in the envelope the producer builds ---- */

/* The envelope schema (sb_envelope_schema) around the row schema of
 * market.business_license, after `edit` changed the row's JSON. */
static sb_schema_t *envelope_of(void (*edit)(json_t *row)) {
        char *text = test_read_file(test_src_path("schemas/datasets/market.business_license.row.avsc"), NULL);
        json_error_t jerr;
        json_t *row = json_loads(text, 0, &jerr);
        char errstr[512];
        ck_assert_msg(row != NULL, "row schema: %s", jerr.text);
        free(text);
        if (edit)
                edit(row);
        json_t *env = sb_envelope_schema(row, "market.business_license", errstr, sizeof(errstr));
        ck_assert_msg(env != NULL, "%s", errstr);
        char *dumped = json_dumps(env, JSON_COMPACT);
        ck_assert_ptr_nonnull(dumped);
        sb_schema_t *s = NULL;
        TEST_CALL(sb_schema_new(dumped, strlen(dumped), &s, TEST_ERR));
        free(dumped);
        json_decref(env);
        json_decref(row);
        return s;
}

static json_t *row_field(json_t *row, const char *name) {
        json_t *fields = json_object_get(row, "fields");
        for (size_t i = 0; i < json_array_size(fields); i++)
                if (strcmp(json_string_value(json_object_get(json_array_get(fields, i), "name")), name) == 0)
                        return json_array_get(fields, i);
        ck_abort_msg("no field %s", name);
        return NULL;
}

static void capital_to_string(json_t *row) {
        ck_assert_int_eq(
                json_object_set_new(row_field(row, "registered_capital"), "type", json_string("string")), 0);
}

static void add_field_without_default(json_t *row) {
        ck_assert_int_eq(json_array_append_new(json_object_get(row, "fields"),
                                               json_pack("{s:s,s:s}", "name", "new_field", "type", "string")),
                         0);
}

static void add_field_with_default(json_t *row) {
        ck_assert_int_eq(json_array_append_new(json_object_get(row, "fields"),
                                               json_pack("{s:s,s:s,s:s}", "name", "new_field", "type",
                                                         "string", "default", "")),
                         0);
}

static const struct {
        void (*edit)(json_t *row);
        int compatible; /* under BACKWARD */
        const char *messages[3];
} envelope_cases[] = {
        {NULL, 1, {NULL}},
        {add_field_with_default, 1, {NULL}},
        {capital_to_string,
         0,
         {"reading version 1 data with the new schema: field 'before.registered_capital': writer type double "
          "cannot be promoted to reader type string",
          "reading version 1 data with the new schema: field 'after.registered_capital': writer type double "
          "cannot be promoted to reader type string",
          NULL}},
        {add_field_without_default,
         0,
         {"reading version 1 data with the new schema: reader field 'before.new_field' (record "
          "market.business_license.Value) has no default and is missing in the writer",
          "reading version 1 data with the new schema: reader field 'after.new_field' (record "
          "market.business_license.Value) has no default and is missing in the writer",
          NULL}},
};
#define N_ENVELOPE_CASES (sizeof(envelope_cases) / sizeof(*envelope_cases))

START_TEST(test_envelope_names_the_row_field) {
        sb_schema_t *old = envelope_of(NULL), *cand = envelope_of(envelope_cases[_i].edit);
        const sb_schema_t *hist[] = {old};
        json_t *msgs = json_array();
        int got = regd_compat_check(REGD_COMPAT_BACKWARD, cand, hist, 1, msgs);
        char *dumped = json_dumps(msgs, 0);
        ck_assert_msg(got == envelope_cases[_i].compatible, "case %d: got %d: %s", _i, got, dumped);
        size_t want = 0;
        while (envelope_cases[_i].messages[want])
                want++;
        ck_assert_msg(json_array_size(msgs) == want, "case %d: %s", _i, dumped);
        for (size_t k = 0; k < want; k++)
                ck_assert_str_eq(json_string_value(json_array_get(msgs, k)), envelope_cases[_i].messages[k]);
        free(dumped);
        json_decref(msgs);
        sb_schema_destroy(old);
        sb_schema_destroy(cand);
}
END_TEST

/* ---- bounds ---- */

/* Records nested `depth` deep, the innermost field of type `leaf`. */
static char *nested(int depth, const char *leaf) {
        size_t size = (size_t)depth * 80 + 64;
        char *s = malloc(size);
        size_t len = 0;
        ck_assert_ptr_nonnull(s);
        for (int i = 0; i < depth; i++)
                len += (size_t)snprintf(
                        s + len, size - len,
                        "{\"type\":\"record\",\"name\":\"R%d\",\"fields\":[{\"name\":\"f\",\"type\":", i);
        len += (size_t)snprintf(s + len, size - len, "\"%s\"", leaf);
        for (int i = 0; i < depth; i++)
                len += (size_t)snprintf(s + len, size - len, "}]}");
        return s;
}

START_TEST(test_depth_is_bounded) {
        char why[512], err[256];
        /* 30 records, each one field deep: 60 levels of types, within
         * SB_SCHEMA_MAX_DEPTH; 300 is refused by the parser before the
         * checker (whose own bound is a second line) could walk it. */
        char *a = nested(30, "int"), *b = nested(30, "long"), *c = nested(300, "int");
        sb_schema_t *sa = NULL, *sb = NULL, *sc = NULL;
        TEST_CALL(sb_schema_new(a, strlen(a), &sa, TEST_ERR));
        TEST_CALL(sb_schema_new(b, strlen(b), &sb, TEST_ERR));
        ck_assert_int_ne(sb_schema_new(c, strlen(c), &sc, err, sizeof(err)), SB_OK);
        ck_assert_msg(strstr(err, "nested deeper than"), "%s", err);
        ck_assert_ptr_null(sc);
        ck_assert_int_eq(regd_compat_can_read(sa, sb, why, sizeof(why)), 1);
        ck_assert_int_eq(regd_compat_can_read(sb, sa, why, sizeof(why)), 0);
        ck_assert_msg(strstr(why, "cannot be promoted to reader type int"), "%s", why);
        sb_schema_destroy(sa);
        sb_schema_destroy(sb);
        free(a);
        free(b);
        free(c);
}
END_TEST

int main(void) {
        Suite *s = suite_create("compat");
        TCase *tc = tcase_create("can_read");
        tcase_add_loop_test(tc, test_can_read_pair, 0, (int)N_PAIRS);
        tcase_add_test(tc, test_reason_is_truncated_to_buffer);
        tcase_add_test(tc, test_every_problem_is_counted);
        tcase_add_loop_test(tc, test_envelope_names_the_row_field, 0, (int)N_ENVELOPE_CASES);
        tcase_add_test(tc, test_depth_is_bounded);
        suite_add_tcase(s, tc);
        tc = tcase_create("levels");
        tcase_add_test(tc, test_level_names_round_trip);
        tcase_add_loop_test(tc, test_level_over_history, 0, (int)N_LEVEL_CASES);
        tcase_add_test(tc, test_non_transitive_levels_name_the_latest_version);
        tcase_add_test(tc, test_first_version_is_always_compatible);
        suite_add_tcase(s, tc);
        return test_run_suite(s);
}

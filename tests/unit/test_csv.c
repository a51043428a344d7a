/*
 * Unit tests of the CSV source: RFC 4180 quoting, header mapping, values
 * typed by the schema, empty cells, ops, the bounds (every bad row becomes
 * an error line, never a crash or a silent drop), resuming, directories,
 * and rows encoded with the real market.business_license schemas.
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "change_line.h"
#include "dataset.h"
#include "event_encoder.h"
#include "producer_settings.h"
#include "sb_checks.h"
#include "sb_wire.h"
#include "sources/json_text.h"
#include "sources/source.h"
#include "sources/source_csv.h"
#include "testutil.h"

static char dir[64];
static sb_log_t *log_;
static sb_schema_t *key_s, *row_s;

static const char key_schema[] = "{'type':'record','name':'K','fields':[{'name':'id','type':'long'}]}";
static const char row_schema[] =
        "{'type':'record','name':'R','fields':["
        "{'name':'id','type':'long'},"
        "{'name':'name','type':'string'},"
        "{'name':'note','type':['null','string'],'default':null},"
        "{'name':'amount','type':'double'},"
        "{'name':'active','type':'boolean'},"
        "{'name':'born','type':{'type':'int','logicalType':'date'}},"
        "{'name':'at','type':['null',{'type':'long','logicalType':'timestamp-millis'}],'default':null},"
        "{'name':'status','type':{'type':'enum','name':'S','symbols':['A','B']}},"
        "{'name':'count','type':'int','default':5},"
        "{'name':'tags','type':['null',{'type':'array','items':'string'}],'default':null}]}";

static const char header[] = "id,name,note,amount,active,born,at,status,count,tags\n";

static void setup(void) {
        snprintf(dir, sizeof(dir), "/tmp/sharebus-csv-XXXXXX");
        ck_assert_ptr_nonnull(mkdtemp(dir));
        TEST_CALL(sb_log_new("test", SB_LOG_ERROR, stderr, &log_, TEST_ERR));
        key_s = test_schema_q(key_schema);
        row_s = test_schema_q(row_schema);
}

static void teardown(void) {
        char cmd[128];
        snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
        ck_assert_int_eq(system(cmd), 0);
        sb_log_destroy(log_);
        sb_schema_destroy(key_s);
        sb_schema_destroy(row_s);
}

static const char *path_in(const char *name) {
        static char p[4][512];
        static int i;
        i = (i + 1) % 4;
        snprintf(p[i], sizeof(p[i]), "%s/%s", dir, name);
        return p[i];
}

static void write_bytes(const char *path, const char *text, size_t len) {
        int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
        ck_assert_int_ge(fd, 0);
        ck_assert_int_eq(write(fd, text, len), (ssize_t)len);
        close(fd);
}

static void write_text(const char *path, const char *text) { write_bytes(path, text, strlen(text)); }

typedef struct {
        sb_config_t *cfg;
        source_t *src;
} csv_src_t;

static sb_err_t open_csv_with(const char *input, const char *extra, const sb_node_t *key,
                              const sb_node_t *row, csv_src_t *c, char *err, size_t err_size) {
        char text[4096];
        snprintf(text, sizeof(text),
                 "department = \"t\"; dataset = \"d\"; registry_url = \"http://x\";\n"
                 "source = \"csv\"; input = \"%s\"; checkpoint_interval_ms = 0;\n%s\n",
                 input, extra ? extra : "");
        char cerr[1024] = "";
        sb_err_t rc = sb_config_load_string(text, "test.conf", sb_producer_settings,
                                            sb_producer_settings_count, &c->cfg, cerr, sizeof(cerr));
        ck_assert_msg(rc == SB_OK, "config: %s", cerr);
        source_options_t opts = {.department = "t", .dataset = "d", .key_record = key, .row_record = row};
        c->src = NULL;
        rc = source_new(c->cfg, &opts, log_, &c->src, err, err_size);
        if (rc)
                sb_config_destroy(c->cfg);
        return rc;
}

static sb_err_t open_csv(const char *input, const char *extra, csv_src_t *c, char *err, size_t err_size) {
        return open_csv_with(input, extra, sb_schema_root(key_s), sb_schema_root(row_s), c, err, err_size);
}

static void close_csv(csv_src_t *c) {
        source_destroy(c->src);
        sb_config_destroy(c->cfg);
}

/* The records of one next() call, copied. */
typedef struct {
        size_t n;
        char *text[64];
        char where[64][128];
        uint64_t pos[64];
        sb_err_t rc;
} rows_t;

static void next_rows(csv_src_t *c, size_t max, rows_t *r) {
        source_batch_t b;
        char err[1024] = "";
        r->rc = source_next(c->src, max, 0, &b, err, sizeof(err));
        ck_assert_msg(r->rc == SB_OK || r->rc == SB_ERR_NOT_FOUND, "next: %s", err);
        r->n = r->rc ? 0 : b.count;
        ck_assert_uint_le(r->n, 64);
        for (size_t i = 0; i < r->n; i++) {
                r->text[i] = strndup(b.records[i].text, b.records[i].len);
                ck_assert_ptr_nonnull(r->text[i]);
                snprintf(r->where[i], sizeof(r->where[i]), "%s", b.records[i].where);
                r->pos[i] = b.records[i].position;
        }
}

static void free_rows(rows_t *r) {
        for (size_t i = 0; i < r->n; i++)
                free(r->text[i]);
        r->n = 0;
}

/* Reads all rows of `content` (written to a file) with `extra` settings. */
static void read_all(const char *content, const char *extra, rows_t *r) {
        const char *f = path_in("in.csv");
        write_text(f, content);
        csv_src_t c;
        char err[1024] = "";
        ck_assert_msg(open_csv(f, extra, &c, err, sizeof(err)) == SB_OK, "open: %s", err);
        next_rows(&c, 64, r);
        rows_t end;
        next_rows(&c, 64, &end);
        ck_assert_int_eq(end.rc, SB_ERR_NOT_FOUND);
        close_csv(&c);
}

/* The line is a valid JSON text equal to `want` (written with '). */
static void assert_line(const char *line, const char *want) {
        json_error_t e;
        json_t *got = json_loads(line, JSON_REJECT_DUPLICATES, &e);
        ck_assert_msg(got != NULL, "not JSON: %s (%s)", line, e.text);
        json_t *w = test_json_q(want);
        char *a = test_json_dump(got), *b = test_json_dump(w);
        ck_assert_msg(json_equal(got, w), "got %s, want %s", a, b);
        free(a);
        free(b);
        json_decref(got);
        json_decref(w);
}

/* The line is an error line whose reason holds `why`. */
static void assert_error_line(const char *line, const char *why) {
        json_t *got = json_loads(line, 0, NULL);
        ck_assert_msg(got != NULL, "not JSON: %s", line);
        const char *reason = json_string_value(json_object_get(got, JSON_TEXT_ERROR_MEMBER));
        ck_assert_msg(reason && strstr(reason, why), "%s does not say '%s'", line, why);
        /* The producer's parser refuses it, so the row is rejected. */
        sb_change_line_t cl;
        char err[512];
        ck_assert_int_eq(sb_change_line_parse(line, strlen(line), &cl, err, sizeof(err)), SB_ERR_INVALID);
        json_decref(got);
}

/* ---- values ---- */

START_TEST(test_values_are_typed_by_the_schema) {
        rows_t r;
        read_all("id,name,note,amount,active,born,at,status,count,tags\n"
                 "1,Ann,a note,1.50,true,2020-02-29,2024-01-02T03:04:05Z,A,7,\"[\"\"x\"\",\"\"y\"\"]\"\n"
                 "-2,Bob,,+3,No,18000,1700000000000,B,-1,\n"
                 "3,Cy,\"\",2.5e3,Y,2021-01-01,,A,,\n",
                 NULL, &r);
        ck_assert_uint_eq(r.n, 3);
        assert_line(r.text[0], "{'op':'r','key':{'id':1},'after':{'id':1,'name':'Ann','note':'a note',"
                               "'amount':1.5,'active':true,'born':'2020-02-29','at':'2024-01-02T03:04:05Z',"
                               "'status':'A','count':7,'tags':['x','y']}}");
        assert_line(r.text[1], "{'op':'r','key':{'id':-2},'after':{'id':-2,'name':'Bob','note':null,"
                               "'amount':3,'active':false,'born':18000,'at':1700000000000,'status':'B',"
                               "'count':-1,'tags':null}}");
        /* A quoted empty string is "", an empty nullable is null, an empty
         * field with a default is left out. */
        assert_line(r.text[2], "{'op':'r','key':{'id':3},'after':{'id':3,'name':'Cy','note':'',"
                               "'amount':2500.0,'active':true,'born':'2021-01-01','at':null,'status':'A',"
                               "'tags':null}}");
        /* Numbers are unquoted in the text itself. */
        ck_assert_ptr_nonnull(strstr(r.text[0], "\"amount\":1.50"));
        ck_assert_ptr_nonnull(strstr(r.text[1], "\"amount\":3"));
        free_rows(&r);
}
END_TEST

/* A double written as an integer past 64 bits is still that double: it
 * was copied as written, which jansson refuses ("too big integer"), so the
 * whole row went as a line that is not JSON (found by tests/fuzz/fuzz_csv). */
START_TEST(test_big_integer_for_a_double_is_a_number) {
        rows_t r;
        read_all("id,name,amount,active,born,status\n"
                 "1,N,666666666666666666666666666666666666666,1,2020-01-01,A\n"
                 "2,N,-18446744073709551616,1,2020-01-01,A\n"
                 "3,N,9223372036854775807,1,2020-01-01,A\n",
                 NULL, &r);
        ck_assert_uint_eq(r.n, 3);
        assert_line(r.text[0],
                    "{'op':'r','key':{'id':1},'after':{'id':1,'name':'N','amount':6.6666666666666665e38,"
                    "'active':true,'born':'2020-01-01','status':'A'}}");
        assert_line(r.text[1],
                    "{'op':'r','key':{'id':2},'after':{'id':2,'name':'N','amount':-1.8446744073709552e19,"
                    "'active':true,'born':'2020-01-01','status':'A'}}");
        /* One that fits stays as written. */
        ck_assert_ptr_nonnull(strstr(r.text[2], "\"amount\":9223372036854775807"));
        free_rows(&r);
}
END_TEST

START_TEST(test_values_that_do_not_convert_go_as_strings) {
        rows_t r;
        read_all("id,name,amount,active,born,status\n"
                 "12x,N,abc,maybe,2020-13-01,Z\n"
                 "99999999999999999999,N,1e400,1,2020-01-01,A\n"
                 "5,,nan,0,x,A\n"
                 "6,N,,1,,A\n",
                 NULL, &r);
        ck_assert_uint_eq(r.n, 4);
        assert_line(r.text[0], "{'op':'r','key':{'id':'12x'},'after':{'id':'12x','name':'N','amount':'abc',"
                               "'active':'maybe','born':'2020-13-01','status':'Z'}}");
        assert_line(r.text[1], "{'op':'r','key':{'id':'99999999999999999999'},'after':{'id':"
                               "'99999999999999999999','name':'N','amount':'1e400','active':true,"
                               "'born':'2020-01-01','status':'A'}}");
        /* An empty string field is "", an empty required number is null. */
        assert_line(r.text[2],
                    "{'op':'r','key':{'id':5},'after':{'id':5,'name':'','amount':'nan','active':false,"
                    "'born':'x','status':'A'}}");
        assert_line(r.text[3],
                    "{'op':'r','key':{'id':6},'after':{'id':6,'name':'N','amount':null,'active':true,"
                    "'born':null,'status':'A'}}");
        free_rows(&r);
}
END_TEST

START_TEST(test_rfc4180_quoting) {
        rows_t r;
        /* A BOM, CRLF line ends, quoted delimiters, doubled quotes, line
         * ends inside quotes, blank lines, no final line end. */
        read_all("\xef\xbb\xbfid,name,note,amount,active,born,status\r\n"
                 "1,\"Smith, \"\"Jr\"\"\",\"line1\r\nline2\nline3\",1,t,2020-01-01,A\r\n"
                 "\r\n"
                 "2,\"\",\"a,b\",2,f,2020-01-02,B\n"
                 "\n"
                 "3,\"\"\"\",\"tab\there\",3,t,2020-01-03,\"A\"",
                 NULL, &r);
        ck_assert_uint_eq(r.n, 3);
        assert_line(r.text[0], "{'op':'r','key':{'id':1},'after':{'id':1,'name':'Smith, \\'Jr\\'',"
                               "'note':'line1\\r\\nline2\\nline3','amount':1,'active':true,"
                               "'born':'2020-01-01','status':'A'}}");
        assert_line(r.text[1], "{'op':'r','key':{'id':2},'after':{'id':2,'name':'','note':'a,b','amount':2,"
                               "'active':false,'born':'2020-01-02','status':'B'}}");
        assert_line(r.text[2], "{'op':'r','key':{'id':3},'after':{'id':3,'name':'\\'','note':'tab\\there',"
                               "'amount':3,'active':true,'born':'2020-01-03','status':'A'}}");
        /* `where` names the line a row starts on; positions are offsets. */
        ck_assert_msg(strstr(r.where[0], "in.csv:2") && strstr(r.where[1], "in.csv:6") &&
                              strstr(r.where[2], "in.csv:8"),
                      "%s %s %s", r.where[0], r.where[1], r.where[2]);
        ck_assert_uint_lt(r.pos[0], r.pos[1]);
        ck_assert_uint_lt(r.pos[1], r.pos[2]);
        free_rows(&r);
}
END_TEST

START_TEST(test_delimiters) {
        rows_t r;
        read_all("id;name;amount;active;born;status\n1;\"a;b\";1,5;t;2020-01-01;A\n",
                 "csv_delimiter = \";\";", &r);
        ck_assert_uint_eq(r.n, 1);
        assert_line(r.text[0], "{'op':'r','key':{'id':1},'after':{'id':1,'name':'a;b','amount':'1,5',"
                               "'active':true,'born':'2020-01-01','status':'A'}}");
        free_rows(&r);
        read_all("id\tname\tamount\tactive\tborn\tstatus\n1\tx y\t1\tt\t2020-01-01\tA\n",
                 "csv_delimiter = \"\\t\";", &r);
        ck_assert_uint_eq(r.n, 1);
        assert_line(r.text[0], "{'op':'r','key':{'id':1},'after':{'id':1,'name':'x y','amount':1,"
                               "'active':true,'born':'2020-01-01','status':'A'}}");
        free_rows(&r);
}
END_TEST

/* ---- mapping ---- */

START_TEST(test_mapping) {
        rows_t r;
        read_all("Ident, Full Name ,Remarks,amount,active,born,status\n7,Dee,ignored,1,t,2020-01-01,A\n",
                 "csv_columns = \"Ident=id, Full Name = name,Remarks=-\";", &r);
        ck_assert_uint_eq(r.n, 1);
        assert_line(r.text[0], "{'op':'r','key':{'id':7},'after':{'id':7,'name':'Dee','amount':1,"
                               "'active':true,'born':'2020-01-01','status':'A'}}");
        free_rows(&r);
}
END_TEST

static const struct {
        const char *header, *extra, *why;
} bad_setups[] = {
        {"id,name,amount,active,born,status,Bogus\n", "", "unknown column 'Bogus'"},
        {"id,name,amount,active,born,status\n", "csv_columns = \"id=nosuch\";", "'nosuch' is not a field"},
        {"id,name,amount,active,born,status\n", "csv_columns = \"id\";", "is not HEADER=field"},
        {"id,name,amount,active,born,status\n", "csv_columns = \"a=id,a=name\";", "mapped twice"},
        {"id,name,amount,active,born,status\n", "csv_columns = \"=id\";", "empty name"},
        {"id,name,amount,active,born,status,N2\n", "csv_columns = \"N2=name\";",
         "two columns map to field 'name'"},
        {"name,amount,active,born,status\n", "", "no column for key field 'id'"},
        {"id,amount,active,born,status\n", "", "no column for required field 'name'"},
        {"id,name,amount,active,born,status\n", "csv_op_column = \"Op\";", "no column 'Op'"},
        {"id,name,amount,active,born,status\n", "csv_delimiter = \"ab\";", "csv_delimiter"},
        {"id,name,amount,active,born,status\n", "csv_delimiter = \"\\\"\";", "csv_delimiter"},
        {"id,name,amount,active,born,status\n", "csv_op = \"d\";", "must be r, c or u"},
        {"id,\"name,amount,active,born,status\n", "", "not closed"},
};

START_TEST(test_bad_setup_fails_the_open_with_reason) {
        const char *f = path_in("in.csv");
        write_text(f, bad_setups[_i].header);
        csv_src_t c;
        char err[1024] = "";
        ck_assert_int_eq(open_csv(f, bad_setups[_i].extra, &c, err, sizeof(err)), SB_ERR_CONFIG);
        ck_assert_msg(strstr(err, bad_setups[_i].why), "%s does not say '%s'", err, bad_setups[_i].why);
        /* Settings errors name the file and line. */
        if (bad_setups[_i].extra[0])
                ck_assert_msg(strstr(err, "test.conf:3") || strstr(err, "header row"), "%s", err);
}
END_TEST

START_TEST(test_needs_key_and_row_records) {
        const char *f = path_in("in.csv");
        write_text(f, header);
        csv_src_t c;
        char err[1024] = "";
        ck_assert_int_eq(open_csv_with(f, NULL, NULL, NULL, &c, err, sizeof(err)), SB_ERR_CONFIG);
        ck_assert_msg(strstr(err, "key and row records"), "%s", err);
}
END_TEST

/* ---- ops ---- */

START_TEST(test_ops) {
        rows_t r;
        read_all("id,name,amount,active,born,status\n1,N,1,t,2020-01-01,A\n", "csv_op = \"c\";", &r);
        assert_line(r.text[0], "{'op':'c','key':{'id':1},'after':{'id':1,'name':'N','amount':1,'active':true,"
                               "'born':'2020-01-01','status':'A'}}");
        free_rows(&r);
        read_all("Op,id,name,amount,active,born,status\nu,1,N,1,t,2020-01-01,A\nd,2,,,,,\nx,3,N,1,t,2020-01-"
                 "01,A\n",
                 "csv_op_column = \"Op\";", &r);
        ck_assert_uint_eq(r.n, 3);
        assert_line(r.text[0], "{'op':'u','key':{'id':1},'after':{'id':1,'name':'N','amount':1,'active':true,"
                               "'born':'2020-01-01','status':'A'}}");
        assert_line(r.text[1], "{'op':'d','key':{'id':2}}");
        /* An op that is not one: change_line refuses it with the reason. */
        sb_change_line_t cl;
        char err[512] = "";
        ck_assert_int_eq(sb_change_line_parse(r.text[2], strlen(r.text[2]), &cl, err, sizeof(err)),
                         SB_ERR_INVALID);
        ck_assert_msg(strstr(err, "\"op\" must be"), "%s", err);
        TEST_CALL(sb_change_line_parse(r.text[1], strlen(r.text[1]), &cl, TEST_ERR));
        ck_assert_int_eq(cl.op, 'd');
        sb_change_line_clear(&cl);
        free_rows(&r);
}
END_TEST

/* ---- bounds and bad rows ---- */

START_TEST(test_bad_rows_become_error_lines) {
        rows_t r;
        char *text = malloc(1 << 16);
        ck_assert_ptr_nonnull(text);
        size_t n = (size_t)snprintf(text, 1 << 16,
                                    "id,name,amount,active,born,status\n"
                                    "1,N,1,t,2020-01-01,A\n"
                                    "2,\"");
        memset(text + n, 'x', 400); /* a field longer than the row bound, with a newline inside */
        text[n + 200] = '\n';
        n += 400;
        n += (size_t)snprintf(text + n, (1 << 16) - n,
                              "\",1,t,2020-01-01,A\n"
                              "3,N,1,t,2020-01-01,A\n"
                              "4,N\"x,1,t,2020-01-01,A\n"
                              "5,\"N\"x,1,t,2020-01-01,A\n"
                              "6,N,1,t\n"
                              "7,N,1,t,2020-01-01,A,extra\n"
                              "8,\xff\xfe,1,t,2020-01-01,A\n");
        snprintf(text + n, (1 << 16) - n, "9,N,1,t,2020-01-01,A\n10,\"never closed,1\n");
        read_all(text, "max_line_bytes = 300;", &r);
        free(text);
        ck_assert_uint_eq(r.n, 10);
        ck_assert_ptr_nonnull(strstr(r.text[0], "\"key\":{\"id\":1}"));
        assert_error_line(r.text[1], "longer than 300 bytes");
        ck_assert_msg(strstr(r.where[1], "in.csv:3"), "%s", r.where[1]);
        ck_assert_ptr_nonnull(strstr(r.text[2], "\"key\":{\"id\":3}"));
        ck_assert_msg(strstr(r.where[2], "in.csv:5"), "%s", r.where[2]);
        assert_error_line(r.text[3], "a quote inside an unquoted field");
        assert_error_line(r.text[4], "text after a closing quote");
        assert_error_line(r.text[5], "the row has 4 fields, the header 6");
        assert_error_line(r.text[6], "the row has 7 fields, the header 6");
        assert_error_line(r.text[7], "not UTF-8");
        ck_assert_ptr_nonnull(strstr(r.text[8], "\"key\":{\"id\":9}"));
        assert_error_line(r.text[9], "not closed at the end of the file");
        for (size_t i = 1; i < r.n; i++)
                ck_assert_uint_gt(r.pos[i], r.pos[i - 1]);
        free_rows(&r);
}
END_TEST

START_TEST(test_too_many_columns) {
        char *text = malloc(1 << 16);
        ck_assert_ptr_nonnull(text);
        size_t n = (size_t)snprintf(text, 1 << 16, "id,name,amount,active,born,status\n");
        for (int i = 0; i < CSV_MAX_COLUMNS + 5; i++)
                n += (size_t)snprintf(text + n, (1 << 16) - n, "%d,", i);
        snprintf(text + n, (1 << 16) - n, "\n9,N,1,t,2020-01-01,A\n");
        rows_t r;
        read_all(text, NULL, &r);
        free(text);
        ck_assert_uint_eq(r.n, 2);
        assert_error_line(r.text[0], "more than 1024 fields");
        ck_assert_ptr_nonnull(strstr(r.text[1], "\"key\":{\"id\":9}"));
        free_rows(&r);
}
END_TEST

/* ---- resume and directories ---- */

START_TEST(test_resume_after_ack) {
        const char *f = path_in("in.csv");
        write_text(f, "id,name,amount,active,born,status\n1,\"two\nlines\",1,t,2020-01-01,A\n"
                      "2,N,1,t,2020-01-01,A\n3,N,1,t,2020-01-01,A\n");
        csv_src_t c;
        char err[1024] = "";
        ck_assert_msg(open_csv(f, NULL, &c, err, sizeof(err)) == SB_OK, "%s", err);
        rows_t r;
        next_rows(&c, 2, &r);
        ck_assert_uint_eq(r.n, 2);
        TEST_CALL(source_ack(c.src, r.pos[1], TEST_ERR));
        free_rows(&r);
        close_csv(&c);
        ck_assert_msg(open_csv(f, NULL, &c, err, sizeof(err)) == SB_OK, "%s", err);
        next_rows(&c, 64, &r);
        ck_assert_uint_eq(r.n, 1);
        ck_assert_ptr_nonnull(strstr(r.text[0], "\"key\":{\"id\":3}"));
        ck_assert_msg(strstr(r.where[0], "in.csv:5"), "%s", r.where[0]);
        free_rows(&r);
        close_csv(&c);
}
END_TEST

START_TEST(test_directory_with_a_bad_header_file) {
        ck_assert_int_eq(mkdir(path_in("in"), 0755), 0);
        write_text(path_in("in/1.csv"), "id,name,amount,active,born,status,Extra\n1,N,1,t,2020-01-01,A,x\n"
                                        "2,N,1,t,2020-01-01,A,x\n");
        write_text(path_in("in/2.csv"), "id,name,amount,active,born,status\n3,N,1,t,2020-01-01,A\n");
        write_text(path_in("in/3.jsonl"), "{}\n");
        csv_src_t c;
        char err[1024] = "";
        ck_assert_msg(open_csv(path_in("in"), NULL, &c, err, sizeof(err)) == SB_OK, "%s", err);
        rows_t r;
        next_rows(&c, 64, &r);
        ck_assert_int_eq(r.rc, SB_OK);
        ck_assert_uint_eq(r.n, 3);
        assert_error_line(r.text[0], "header row is refused: unknown column 'Extra'");
        assert_error_line(r.text[1], "unknown column 'Extra'");
        ck_assert_ptr_nonnull(strstr(r.text[2], "\"key\":{\"id\":3}"));
        free_rows(&r);
        next_rows(&c, 64, &r);
        ck_assert_int_eq(r.rc, SB_OK);
        ck_assert_uint_eq(r.n, 0);
        close_csv(&c);
}
END_TEST

START_TEST(test_empty_file) {
        rows_t r;
        read_all("", NULL, &r);
        ck_assert_uint_eq(r.n, 0);
        read_all("id,name,amount,active,born,status\n", NULL, &r);
        ck_assert_uint_eq(r.n, 0);
}
END_TEST

/* ---- the real schemas ---- */

START_TEST(test_business_license_rows_encode) {
        char sdir[4096];
        snprintf(sdir, sizeof(sdir), "%s", test_src_path("schemas/datasets"));
        sb_dataset_t *ds = NULL;
        TEST_CALL(sb_dataset_load(sdir, "market.business_license", &ds, TEST_ERR));
        char uscc[19] = "91350100M000100Y4";
        uscc[17] = sb_check_cn_uscc_char(uscc);
        uscc[18] = '\0';
        ck_assert(sb_check_cn_uscc(uscc));
        char text[2048];
        snprintf(text, sizeof(text),
                 "LicenceNo,Name,Representative,Capital,Scope,Status,Established,Address,Updated\n"
                 "%s,\"Fuzhou Tea Co., Ltd.\",Lin Wei,1000.5,,ACTIVE,2015-06-01,\"1 Wuyi Rd\nFuzhou\","
                 "2024-01-02 03:04:05Z\n"
                 "%s,Bad Capital,Lin Wei,lots,,ACTIVE,2015-06-01,,2024-01-02T03:04:05Z\n"
                 "%s,No Date,Lin Wei,1,,ACTIVE,,,2024-01-02T03:04:05Z\n"
                 "%s,Bad Status,Lin Wei,1,,OPEN,2015-06-01,,2024-01-02T03:04:05Z\n",
                 uscc, uscc, uscc, uscc);
        const char *f = path_in("licences.csv");
        write_text(f, text);
        csv_src_t c;
        char err[1024] = "";
        ck_assert_msg(
                open_csv_with(f,
                              "csv_columns = \"LicenceNo=uscc,Name=name,Representative=legal_representative,"
                              "Capital=registered_capital,Scope=business_scope,Status=status,"
                              "Established=established_on,Address=address,Updated=updated_at\";",
                              sb_schema_root(sb_dataset_key_schema(ds)), sb_dataset_row(ds), &c, err,
                              sizeof(err)) == SB_OK,
                "%s", err);
        rows_t r;
        next_rows(&c, 64, &r);
        ck_assert_uint_eq(r.n, 4);
        sb_event_encoder_t enc = {.dataset = ds,
                                  .key_schema_id = 1,
                                  .value_schema_id = 2,
                                  .department = "market",
                                  .system = "csv"};
        sb_buf_t kb, vb;
        sb_buf_init(&kb, 1 << 20);
        sb_buf_init(&vb, 1 << 20);
        static const char *const want_err[] = {NULL, "after.registered_capital", "after.established_on",
                                               "after.status"};
        for (size_t i = 0; i < r.n; i++) {
                sb_change_line_t cl;
                TEST_CALL(sb_change_line_parse(r.text[i], strlen(r.text[i]), &cl, TEST_ERR));
                char event_id[37];
                char eerr[1024] = "";
                sb_err_t rc = sb_event_encode(&enc, &cl, (int64_t)i, &kb, &vb, event_id, eerr, sizeof(eerr));
                if (want_err[i]) {
                        ck_assert_int_eq(rc, SB_ERR_INVALID);
                        ck_assert_msg(strstr(eerr, want_err[i]), "row %zu: %s", i, eerr);
                } else {
                        ck_assert_msg(rc == SB_OK, "row %zu: %s: %s", i, r.text[i], eerr);
                        int32_t id;
                        const uint8_t *body;
                        size_t len;
                        json_t *value = NULL;
                        TEST_CALL(sb_wire_parse(vb.data, vb.len, &id, &body, &len, TEST_ERR));
                        TEST_CALL(sb_avro_decode(sb_dataset_value_schema(ds), body, len, &value, TEST_ERR));
                        const json_t *after = json_object_get(value, "after");
                        ck_assert_str_eq(json_string_value(json_object_get(after, "uscc")), uscc);
                        ck_assert_str_eq(json_string_value(json_object_get(after, "name")),
                                         "Fuzhou Tea Co., Ltd.");
                        ck_assert(json_real_value(json_object_get(after, "registered_capital")) == 1000.5);
                        ck_assert(json_is_null(json_object_get(after, "business_scope")));
                        ck_assert_str_eq(json_string_value(json_object_get(after, "established_on")),
                                         "2015-06-01");
                        ck_assert_str_eq(json_string_value(json_object_get(after, "address")),
                                         "1 Wuyi Rd\nFuzhou");
                        ck_assert_str_eq(json_string_value(json_object_get(after, "updated_at")),
                                         "2024-01-02T03:04:05.000Z");
                        ck_assert_str_eq(json_string_value(json_object_get(value, "op")), "r");
                        json_decref(value);
                }
                sb_change_line_clear(&cl);
        }
        free_rows(&r);
        sb_buf_free(&kb);
        sb_buf_free(&vb);
        close_csv(&c);
        sb_dataset_destroy(ds);
}
END_TEST

int main(void) {
        Suite *s = suite_create("csv");
        TCase *tc = tcase_create("csv");
        tcase_add_checked_fixture(tc, setup, teardown);
        tcase_add_test(tc, test_values_are_typed_by_the_schema);
        tcase_add_test(tc, test_values_that_do_not_convert_go_as_strings);
        tcase_add_test(tc, test_big_integer_for_a_double_is_a_number);
        tcase_add_test(tc, test_rfc4180_quoting);
        tcase_add_test(tc, test_delimiters);
        tcase_add_test(tc, test_mapping);
        tcase_add_loop_test(tc, test_bad_setup_fails_the_open_with_reason, 0,
                            (int)(sizeof(bad_setups) / sizeof(*bad_setups)));
        tcase_add_test(tc, test_needs_key_and_row_records);
        tcase_add_test(tc, test_ops);
        tcase_add_test(tc, test_bad_rows_become_error_lines);
        tcase_add_test(tc, test_too_many_columns);
        tcase_add_test(tc, test_resume_after_ack);
        tcase_add_test(tc, test_directory_with_a_bad_header_file);
        tcase_add_test(tc, test_empty_file);
        tcase_add_test(tc, test_business_license_rows_encode);
        suite_add_tcase(s, tc);
        return test_run_suite(s);
}

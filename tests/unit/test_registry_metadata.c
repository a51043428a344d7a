/*
 * test_registry_metadata: the metadata documents the registry serves
 * (regd_metadata): those of the sample datasets (owner, classifications,
 * rules as written; the value subject's envelope described by its row),
 * field by field, and a whole document.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "regd_metadata.h"
#include "sb_avro.h"
#include "dataset.h"
#include "sb_rules.h"
#include "testutil.h"

static sb_schema_t *schema_file(const char *rel) {
        sb_schema_t *s = NULL;
        TEST_CALL(sb_schema_new_from_file(test_src_path(rel), &s, TEST_ERR));
        return s;
}

/* ---- metadata of the sample datasets ---- */

static const struct {
        const char *topic, *owner;
        const char *personal; /* the personal fields of the row, comma-separated */
} sample_meta[] = {
        {"market.business_license", "market", "legal_representative"},
        {"civil.resident", "civil", "id_number,name,gender,birth_date,phone,address"},
        {"tax.taxpayer", "tax", ""},
};

/* Checks a metadata document against the schema file it describes: every
 * field in order, with its doc, classification and rules as written. */
static void assert_metadata_matches_file(const json_t *meta, const json_t *file) {
        const json_t *ff = json_object_get(file, "fields"), *mf = json_object_get(meta, "fields");
        ck_assert_str_eq(json_string_value(json_object_get(meta, "owner")),
                         json_string_value(json_object_get(file, "sharebus.owner")));
        ck_assert_str_eq(json_string_value(json_object_get(meta, "description")),
                         json_string_value(json_object_get(file, "doc")));
        ck_assert_uint_eq(json_array_size(mf), json_array_size(ff));
        for (size_t i = 0; i < json_array_size(ff); i++) {
                const json_t *f = json_array_get(ff, i), *m = json_array_get(mf, i);
                const char *name = json_string_value(json_object_get(f, "name"));
                ck_assert_str_eq(json_string_value(json_object_get(m, "name")), name);
                ck_assert_msg(json_equal(json_object_get(m, "doc"), json_object_get(f, "doc")), "%s: doc",
                              name);
                const json_t *cls = json_object_get(f, "sharebus.classification");
                ck_assert_str_eq(json_string_value(json_object_get(m, "classification")),
                                 cls ? json_string_value(cls) : "internal");
                const json_t *rules = json_object_get(f, "sharebus.rules");
                json_t *none = json_object();
                ck_assert_msg(json_equal(json_object_get(m, "rules"), rules ? rules : none),
                              "%s: rules not as written", name);
                json_decref(none);
                /* Key fields carry rules too: every key and row field of the
                 * samples is described (a doc each). */
                ck_assert_msg(json_is_string(json_object_get(m, "doc")), "%s: no doc", name);
        }
}

START_TEST(test_sample_metadata_documents) {
        char rel[256];
        sb_schema_t *row = NULL, *key = NULL;
        snprintf(rel, sizeof(rel), "schemas/datasets/%s.row.avsc", sample_meta[_i].topic);
        json_t *row_file = json_load_file(test_src_path(rel), 0, NULL);
        ck_assert_ptr_nonnull(row_file);
        row = schema_file(rel);
        snprintf(rel, sizeof(rel), "schemas/datasets/%s.key.avsc", sample_meta[_i].topic);
        json_t *key_file = json_load_file(test_src_path(rel), 0, NULL);
        ck_assert_ptr_nonnull(key_file);
        key = schema_file(rel);

        /* The value subject: the envelope, as the producer registers it. */
        sb_dataset_t *ds = NULL;
        char dir[4096], subject[256];
        snprintf(dir, sizeof(dir), "%s", test_src_path("schemas/datasets"));
        TEST_CALL(sb_dataset_load(dir, sample_meta[_i].topic, &ds, TEST_ERR));
        /* ... and as the registry stores and serves it: its canonical text. */
        const char *canon = sb_schema_json(sb_dataset_value_schema(ds));
        sb_schema_t *served = NULL;
        TEST_CALL(sb_schema_new(canon, strlen(canon), &served, TEST_ERR));
        snprintf(subject, sizeof(subject), "%s-value", sample_meta[_i].topic);
        json_t *vmeta = regd_metadata_json(served, subject, 3);
        ck_assert_ptr_nonnull(vmeta);
        ck_assert_str_eq(json_string_value(json_object_get(vmeta, "subject")), subject);
        ck_assert_int_eq(json_integer_value(json_object_get(vmeta, "version")), 3);
        ck_assert_str_eq(json_string_value(json_object_get(vmeta, "owner")), sample_meta[_i].owner);
        char fullname[256];
        snprintf(fullname, sizeof(fullname), "%s.Value", sample_meta[_i].topic);
        ck_assert_str_eq(json_string_value(json_object_get(vmeta, "record")), fullname);
        assert_metadata_matches_file(vmeta, row_file);
        /* The row file's own document says the same. */
        json_t *rmeta = regd_metadata_json(row, subject, 3);
        ck_assert(json_equal(rmeta, vmeta));

        /* The key subject. */
        snprintf(subject, sizeof(subject), "%s-key", sample_meta[_i].topic);
        json_t *kmeta = regd_metadata_json(key, subject, 1);
        ck_assert_str_eq(json_string_value(json_object_get(kmeta, "owner")), sample_meta[_i].owner);
        assert_metadata_matches_file(kmeta, key_file);
        /* The key field's rules are the row field's. */
        const json_t *kf = json_array_get(json_object_get(kmeta, "fields"), 0);
        const json_t *rf = json_array_get(json_object_get(vmeta, "fields"), 0);
        ck_assert(json_equal(json_object_get(kf, "rules"), json_object_get(rf, "rules")));
        ck_assert(json_equal(json_object_get(kf, "classification"), json_object_get(rf, "classification")));

        /* Exactly the listed fields of the row are personal. */
        char personal[512] = "";
        size_t i;
        const json_t *f;
        json_array_foreach(json_object_get(vmeta, "fields"), i, f) {
                if (strcmp(json_string_value(json_object_get(f, "classification")), "personal") == 0)
                        snprintf(personal + strlen(personal), sizeof(personal) - strlen(personal), "%s%s",
                                 personal[0] ? "," : "", json_string_value(json_object_get(f, "name")));
        }
        ck_assert_str_eq(personal, sample_meta[_i].personal);

        /* The rules compile, from the envelope's row and from the key. */
        sb_rules_t *r = NULL;
        TEST_CALL(sb_rules_new(sb_rules_record(served), &r, TEST_ERR));
        sb_rules_destroy(r);
        TEST_CALL(sb_rules_new(sb_rules_record(key), &r, TEST_ERR));
        sb_rules_destroy(r);

        json_decref(kmeta);
        json_decref(rmeta);
        json_decref(vmeta);
        sb_schema_destroy(served);
        sb_dataset_destroy(ds);
        sb_schema_destroy(key);
        sb_schema_destroy(row);
        json_decref(key_file);
        json_decref(row_file);
}
END_TEST

/* Selected fields of the sample metadata, exactly. */
static const struct {
        const char *topic, *field, *json;
} sample_fields[] = {
        {"market.business_license", "uscc",
         "{'name':'uscc','type':'string','nullable':false,'doc':'Unified social credit code (18 characters)',"
         "'classification':'public','rules':{'required':true,"
         "'pattern':'^[0-9A-HJ-NPQRTUWXY]{2}[0-9]{6}[0-9A-HJ-NPQRTUWXY]{10}$','checksum':'cn_uscc'}}"},
        {"market.business_license", "registered_capital",
         "{'name':'registered_capital','type':'double','nullable':false,"
         "'doc':'Registered capital, in ten thousand yuan','classification':'public','rules':{'min':0}}"},
        {"market.business_license", "status",
         "{'name':'status','type':'enum','nullable':false,'doc':'Status of the licence',"
         "'classification':'public','rules':{},'symbols':['ACTIVE','SUSPENDED','REVOKED','CANCELLED']}"},
        {"market.business_license", "updated_at",
         "{'name':'updated_at','type':'long','logicalType':'timestamp-millis','nullable':false,"
         "'doc':'When the department last changed the record','classification':'internal','rules':{}}"},
        {"civil.resident", "id_number",
         "{'name':'id_number','type':'string','nullable':false,'doc':'Resident identity number (18 "
         "characters)',"
         "'classification':'personal','rules':{'required':true,'pattern':'^[0-9]{17}[0-9X]$',"
         "'checksum':'cn_resident_id'}}"},
        {"civil.resident", "birth_date",
         "{'name':'birth_date','type':'int','logicalType':'date','nullable':false,'doc':'Date of birth',"
         "'classification':'personal','rules':{}}"},
        {"civil.resident", "phone",
         "{'name':'phone','type':'string','nullable':true,'doc':'Mobile phone number',"
         "'classification':'personal','rules':{'pattern':'^1[3-9][0-9]{9}$'}}"},
        {"civil.resident", "district_code",
         "{'name':'district_code','type':'string','nullable':false,"
         "'doc':'Six-digit administrative division code of the household','classification':'internal',"
         "'rules':{'required':true,'pattern':'^[0-9]{6}$'}}"},
        {"tax.taxpayer", "taxpayer_id",
         "{'name':'taxpayer_id','type':'string','nullable':false,"
         "'doc':'Taxpayer identification number (the unified social credit code)','classification':'public',"
         "'rules':{'required':true,'pattern':'^[0-9A-HJ-NPQRTUWXY]{2}[0-9]{6}[0-9A-HJ-NPQRTUWXY]{10}$',"
         "'checksum':'cn_uscc'}}"},
        {"tax.taxpayer", "credit_rating",
         "{'name':'credit_rating','type':'string','nullable':true,'doc':'Tax credit rating: A, B, M, C or D',"
         "'classification':'sensitive','rules':{'enum':['A','B','M','C','D']}}"},
        {"tax.taxpayer", "employee_count",
         "{'name':'employee_count','type':'int','nullable':false,'doc':'Number of employees',"
         "'classification':'internal','rules':{'min':0}}"},
};

START_TEST(test_sample_metadata_fields_exactly) {
        char rel[256];
        snprintf(rel, sizeof(rel), "schemas/datasets/%s.row.avsc", sample_fields[_i].topic);
        sb_schema_t *s = schema_file(rel);
        json_t *meta = regd_metadata_json(s, "x-value", 1);
        const json_t *got = NULL, *f;
        size_t i;
        json_array_foreach(json_object_get(meta, "fields"), i, f) {
                if (strcmp(json_string_value(json_object_get(f, "name")), sample_fields[_i].field) == 0)
                        got = f;
        }
        ck_assert_ptr_nonnull(got);
        json_t *want = test_json_q(sample_fields[_i].json);
        char *g = json_dumps(got, JSON_SORT_KEYS), *w = json_dumps(want, JSON_SORT_KEYS);
        ck_assert_msg(json_equal(got, want), "got %s, want %s", g, w);
        /* "Exactly as written": 0 stays the integer 0. */
        const json_t *min = json_object_get(json_object_get(got, "rules"), "min");
        if (min)
                ck_assert(json_is_integer(min));
        free(g);
        free(w);
        json_decref(want);
        json_decref(meta);
        sb_schema_destroy(s);
}
END_TEST

START_TEST(test_metadata_document_whole) {
        sb_schema_t *s = schema_file("schemas/datasets/civil.resident.key.avsc");
        json_t *meta = regd_metadata_json(s, "civil.resident-key", 2);
        json_t *want = test_json_q(
                "{'subject':'civil.resident-key','version':2,'record':'civil.resident.Key','owner':'civil',"
                "'description':'Primary key of a resident: the 18-character resident identity number (GB "
                "11643-1999).','fields':[{'name':'id_number','type':'string','nullable':false,"
                "'doc':'Resident identity number','classification':'personal','rules':{'required':true,"
                "'pattern':'^[0-9]{17}[0-9X]$','checksum':'cn_resident_id'}}]}");
        char *g = json_dumps(meta, JSON_SORT_KEYS);
        ck_assert_msg(json_equal(meta, want), "got %s", g);
        free(g);
        json_decref(want);
        json_decref(meta);
        sb_schema_destroy(s);

        /* Without metadata: nulls and defaults; not a record: no fields. */
        s = test_schema_q("{'type':'record','name':'R','fields':[{'name':'a','type':['null','int']}]}");
        meta = regd_metadata_json(s, "r-value", 1);
        want = test_json_q(
                "{'subject':'r-value','version':1,'record':'R','owner':null,'description':null,"
                "'fields':[{'name':'a','type':'int','nullable':true,'doc':null,'classification':'internal',"
                "'rules':{}}]}");
        ck_assert(json_equal(meta, want));
        json_decref(want);
        json_decref(meta);
        sb_schema_destroy(s);
        s = test_schema_q("'string'");
        meta = regd_metadata_json(s, "s-key", 1);
        want = test_json_q(
                "{'subject':'s-key','version':1,'record':null,'owner':null,'description':null,'fields':[]}");
        ck_assert(json_equal(meta, want));
        json_decref(want);
        json_decref(meta);
        sb_schema_destroy(s);
}
END_TEST

int main(void) {
        Suite *s = suite_create("registry_metadata");
        TCase *tc = tcase_create("metadata");
        tcase_add_loop_test(tc, test_sample_metadata_documents, 0,
                            sizeof(sample_meta) / sizeof(*sample_meta));
        tcase_add_loop_test(tc, test_sample_metadata_fields_exactly, 0,
                            sizeof(sample_fields) / sizeof(*sample_fields));
        tcase_add_test(tc, test_metadata_document_whole);
        suite_add_tcase(s, tc);
        return test_run_suite(s);
}

#include "regd_metadata.h"

#include <string.h>

#include "sb_rules.h"

/* The JSON of the non-null type of a field ("type" itself, or the non-null
 * element of a [null, T] union), for its logicalType as written. */
static const json_t *value_type_json(const json_t *field) {
        const json_t *t = json_object_get(field, "type");
        if (json_is_array(t) && json_array_size(t) == 2) {
                const json_t *a = json_array_get(t, 0), *b = json_array_get(t, 1);
                t = json_is_string(a) && strcmp(json_string_value(a), "null") == 0 ? b : a;
        }
        return t;
}

static int node_nullable(const sb_node_t *t) {
        if (sb_node_type(t) == SB_T_NULL)
                return 1;
        for (size_t i = 0; sb_node_type(t) == SB_T_UNION && i < sb_node_count(t); i++)
                if (sb_node_type(sb_node_child(t, i)) == SB_T_NULL)
                        return 1;
        return 0;
}

static json_t *string_or_null(const json_t *v) {
        return json_is_string(v) ? json_string(json_string_value(v)) : json_null();
}

static json_t *field_metadata(const sb_node_t *rec, size_t i) {
        const json_t *fj = sb_node_field_json(rec, i);
        const sb_node_t *t = sb_node_child(rec, i);
        const sb_node_t *u = sb_node_unwrap_nullable(t);
        const json_t *cls = json_object_get(fj, "sharebus.classification");
        const json_t *rules = json_object_get(fj, "sharebus.rules");
        const json_t *lt = json_object_get(value_type_json(fj), "logicalType");
        json_t *o = json_pack("{s:s, s:s, s:b, s:o, s:s, s:o}", "name", sb_node_field_name(rec, i), "type",
                              sb_schema_type_name(sb_node_type(u)), "nullable", node_nullable(t), "doc",
                              string_or_null(json_object_get(fj, "doc")), "classification",
                              json_is_string(cls) ? json_string_value(cls) : sb_class_name(SB_CLASS_INTERNAL),
                              "rules", rules ? json_deep_copy(rules) : json_object());
        if (o && json_is_string(lt) &&
            json_object_set_new(o, "logicalType", json_string(json_string_value(lt)))) {
                json_decref(o);
                return NULL;
        }
        if (o && sb_node_type(u) == SB_T_ENUM) {
                json_t *syms = json_array();
                for (size_t k = 0; syms && k < sb_node_count(u); k++)
                        if (json_array_append_new(syms, json_string(sb_node_symbol(u, k)))) {
                                json_decref(syms);
                                syms = NULL;
                        }
                if (json_object_set_new(o, "symbols", syms)) {
                        json_decref(o);
                        return NULL;
                }
        }
        return o;
}

json_t *regd_metadata_json(const sb_schema_t *schema, const char *subject, int32_t version) {
        const sb_node_t *rec = sb_rules_record(schema);
        const json_t *rj = rec ? sb_node_json(rec) : NULL;
        json_t *fields = json_array();
        json_t *doc =
                json_pack("{s:s, s:i, s:o, s:o, s:o, s:o}", "subject", subject ? subject : "", "version",
                          (int)version, "record", rec ? json_string(sb_node_name(rec)) : json_null(), "owner",
                          string_or_null(json_object_get(rj, "sharebus.owner")), "description",
                          string_or_null(json_object_get(rj, "doc")), "fields", fields);
        for (size_t i = 0; doc && rec && i < sb_node_count(rec); i++)
                if (json_array_append_new(fields, field_metadata(rec, i))) {
                        json_decref(doc);
                        return NULL;
                }
        return doc;
}

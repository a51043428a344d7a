#include "dataset.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sb_envelope.h"

struct sb_dataset_s {
        char *topic;
        sb_schema_t *key;
        sb_schema_t *value;
        const sb_node_t *row;
};

int sb_dataset_topic_valid(const char *t) {
        const char *dot = strchr(t, '.');
        if (!dot || dot == t || !dot[1] || strlen(t) > 200)
                return 0;
        for (const char *p = t; *p; p++)
                if (!((*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') || *p == '_' || *p == '.' ||
                      *p == '-'))
                        return 0;
        return 1;
}

sb_err_t sb_dataset_load(const char *dir, const char *topic, sb_dataset_t **out, char *errstr,
                         size_t errstr_size) {
        char path[1024];
        sb_schema_t *row = NULL;
        sb_err_t err;
        *out = NULL;
        if (!sb_dataset_topic_valid(topic))
                return sb_seterr(
                        SB_ERR_CONFIG, errstr, errstr_size,
                        "'%s' is not a dataset topic name (<department>.<dataset>, lower case [a-z0-9_.-])",
                        topic);
        sb_dataset_t *ds = calloc(1, sizeof(*ds));
        if (!ds || !(ds->topic = strdup(topic))) {
                free(ds);
                return sb_seterr(SB_ERR_NOMEM, errstr, errstr_size, "out of memory");
        }
        snprintf(path, sizeof(path), "%s/%s.key.avsc", dir, topic);
        if ((err = sb_schema_new_from_file(path, &ds->key, errstr, errstr_size)))
                goto fail;
        if (sb_node_type(sb_schema_root(ds->key)) != SB_T_RECORD) {
                err = sb_seterr(SB_ERR_SCHEMA, errstr, errstr_size, "%s: the key schema must be a record",
                                path);
                goto fail;
        }
        snprintf(path, sizeof(path), "%s/%s.row.avsc", dir, topic);
        if ((err = sb_schema_new_from_file(path, &row, errstr, errstr_size)))
                goto fail;
        json_t *env = sb_envelope_schema(sb_schema_document(row), topic, errstr, errstr_size);
        char *text = env ? json_dumps(env, JSON_COMPACT) : NULL;
        json_decref(env);
        if (!text) {
                err = SB_ERR_SCHEMA;
                goto fail;
        }
        err = sb_schema_new(text, strlen(text), &ds->value, errstr, errstr_size);
        free(text);
        if (err)
                goto fail;
        /* Every key field must be a row field of the same type name. */
        const sb_node_t *key = sb_schema_root(ds->key);
        ds->row = sb_node_unwrap_nullable(sb_node_child(sb_schema_root(ds->value), 0));
        for (size_t i = 0; i < sb_node_count(key); i++) {
                int j = sb_node_field_index(ds->row, sb_node_field_name(key, i));
                if (j < 0 ||
                    sb_node_type(sb_node_child(ds->row, (size_t)j)) != sb_node_type(sb_node_child(key, i))) {
                        err = sb_seterr(SB_ERR_SCHEMA, errstr, errstr_size,
                                        "%s: key field '%s' must also be a row field of the same type", path,
                                        sb_node_field_name(key, i));
                        goto fail;
                }
        }
        sb_schema_destroy(row);
        *out = ds;
        return SB_OK;
fail:
        sb_schema_destroy(row);
        sb_dataset_destroy(ds);
        return err;
}

void sb_dataset_destroy(sb_dataset_t *ds) {
        if (!ds)
                return;
        sb_schema_destroy(ds->key);
        sb_schema_destroy(ds->value);
        free(ds->topic);
        free(ds);
}

sb_schema_t *sb_dataset_key_schema(const sb_dataset_t *ds) { return ds->key; }
sb_schema_t *sb_dataset_value_schema(const sb_dataset_t *ds) { return ds->value; }
const sb_node_t *sb_dataset_row(const sb_dataset_t *ds) { return ds->row; }
const char *sb_dataset_topic(const sb_dataset_t *ds) { return ds->topic; }

/*
 * target_columns: what sharebus_columns records of a column, the same for
 * every target (target.h).
 */
#include "target.h"

sb_err_t sb_target_column_meta(const sb_node_t *row, size_t i, sb_class_t *cls, const char **policy,
                               const char **source, char *errstr, size_t errstr_size) {
        const json_t *field = sb_node_field_json(row, i);
        /* Set by the transforms (tf_chain.h); absent without them. */
        const json_t *pj = json_object_get(field, "sharebus.policy"),
                     *sj = json_object_get(field, "sharebus.source");
        char why[512];
        if (sb_field_class(row, i, cls, why, sizeof(why)))
                return sb_seterr(SB_ERR_INVALID, errstr, errstr_size, "%s", why);
        *policy = pj ? json_string_value(pj) : "clear";
        *source = sj ? json_string_value(sj) : pj ? NULL : sb_node_field_name(row, i);
        if (!*policy || (sj && !*source))
                return sb_seterr(SB_ERR_INVALID, errstr, errstr_size, "field %s: %s is not a string",
                                 sb_node_field_name(row, i), *policy ? "sharebus.source" : "sharebus.policy");
        return SB_OK;
}

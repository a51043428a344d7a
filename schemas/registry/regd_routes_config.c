/*
 * regd_routes_config: the settings routes, global or per subject:
 * /config (the compatibility level), /mode (READWRITE, READONLY, IMPORT),
 * and /compatibility (test a schema against a subject without registering
 * it).  "/config" and "/config/" are the global setting, "/config/{s}" the
 * subject's; likewise for /mode.
 */
#include <string.h>

#include "regd_http_int.h"

/* The subject of /config/{s} or /mode/{s}; NULL for the global setting. */
static const char *setting_subject(const call_t *c) { return c->nseg > 1 && *c->seg[1] ? c->seg[1] : NULL; }

static json_t *setting_command(const char *type, const char *subject, const char *member, const char *value) {
        return json_pack("{s:s,s:s?,s:s?}", "type", type, "subject", subject, member, value);
}

reply_t rh_config_get(const call_t *c) {
        const char *subject = setting_subject(c);
        regd_compat_level_t level;
        char err[512];
        sb_err_t e = regd_store_config(c->srv->store, subject, rh_query_bool(c, "defaultToGlobal"), &level,
                                       err, sizeof(err));
        if (e == SB_ERR_NOT_FOUND)
                return rh_error(REGD_ERROR_NO_SUBJECT_LEVEL, subject);
        if (e)
                return rh_store_error(err);
        return rh_json(200, json_pack("{s:s}", "compatibilityLevel", regd_compat_level_name(level)));
}

reply_t rh_config_put(const call_t *c) {
        const char *subject = setting_subject(c);
        regd_compat_level_t level;
        json_t *doc;
        reply_t r;
        if (rh_body(c, &doc, &r))
                return r;
        const char *name = json_string_value(json_object_get(doc, "compatibility"));
        if (regd_compat_level_parse(name, &level))
                r = rh_error(REGD_ERROR_INVALID_LEVEL);
        else
                r = rh_submit(c, setting_command("CONFIG", subject, "compatibility",
                                                 regd_compat_level_name(level)));
        json_decref(doc);
        return r;
}

reply_t rh_config_delete(const call_t *c) {
        return rh_submit(c, setting_command("CONFIG", setting_subject(c), "compatibility", NULL));
}

reply_t rh_mode_get(const call_t *c) {
        const char *subject = setting_subject(c);
        regd_mode_t mode;
        char err[512];
        sb_err_t e = regd_store_mode(c->srv->store, subject, rh_query_bool(c, "defaultToGlobal"), &mode, err,
                                     sizeof(err));
        if (e == SB_ERR_NOT_FOUND)
                return rh_error(REGD_ERROR_NO_SUBJECT_MODE, subject);
        if (e)
                return rh_store_error(err);
        return rh_json(200, json_pack("{s:s}", "mode", regd_mode_name(mode)));
}

reply_t rh_mode_put(const call_t *c) {
        regd_mode_t mode;
        json_t *doc;
        reply_t r;
        if (rh_body(c, &doc, &r))
                return r;
        if (regd_mode_parse(json_string_value(json_object_get(doc, "mode")), &mode)) {
                r = rh_error(REGD_ERROR_INVALID_MODE);
        } else {
                json_t *cmd = setting_command("MODE", setting_subject(c), "mode", regd_mode_name(mode));
                if (cmd && json_object_set_new(cmd, "force", json_boolean(rh_query_bool(c, "force")))) {
                        json_decref(cmd);
                        cmd = NULL;
                }
                r = rh_submit(c, cmd);
        }
        json_decref(doc);
        return r;
}

reply_t rh_mode_delete(const call_t *c) {
        return rh_submit(c, setting_command("MODE", setting_subject(c), "mode", NULL));
}

/* Tests the body's schema against `version` of the subject (0: all). */
static reply_t compat(const call_t *c, int32_t version) {
        const char *subject = c->seg[2];
        int verbose = rh_query_bool(c, "verbose"), compatible = 0;
        json_t *doc, *messages = json_array();
        char err[512];
        reply_t r;

        if (!messages)
                return rh_json(500, NULL);
        if (rh_schema_body(c, &doc, &r)) {
                json_decref(messages);
                return r;
        }
        json_t *schema = json_object_get(doc, "schema");
        sb_err_t e = regd_store_check(c->srv->store, subject, version, json_string_value(schema),
                                      json_string_length(schema), &compatible, messages, err, sizeof(err));
        json_decref(doc);
        if (e == SB_ERR_SCHEMA && verbose) { /* as Confluent: the reason, as a message */
                e = SB_OK;
                compatible = 0;
                json_array_clear(messages);
                if (json_array_append_new(messages, json_sprintf("Invalid schema: %s", err)))
                        e = SB_ERR_NOMEM;
        }
        if (e == SB_ERR_SCHEMA)
                r = rh_error(REGD_ERROR_INVALID_SCHEMA, err);
        else if (e == SB_ERR_NOT_FOUND)
                r = rh_error(REGD_ERROR_VERSION_NOT_FOUND, (int)version);
        else if (e)
                r = rh_store_error(err);
        else if (verbose)
                r = rh_json(200, json_pack("{s:b,s:O}", "is_compatible", compatible, "messages", messages));
        else
                r = rh_json(200, json_pack("{s:b}", "is_compatible", compatible));
        json_decref(messages);
        return r;
}

reply_t rh_compat_version(const call_t *c) {
        int32_t version;
        if (rh_parse_version(c->seg[4], &version))
                return rh_invalid_version(c->seg[4]);
        return compat(c, version);
}

reply_t rh_compat_all(const call_t *c) { return compat(c, 0); }

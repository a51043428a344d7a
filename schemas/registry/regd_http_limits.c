/*
 * regd_http_limits.c: the limits of regd_http_limits_t that are not
 * libmicrohttpd options: their ranges, the schema text of a registration
 * (size and nesting, before any parser recurses over it), and the count
 * of connections that logs reaching max_connections.
 */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "regd_http_int.h"

sb_err_t rh_limits_check(const regd_http_limits_t *l, char *errstr, size_t errstr_size) {
        const char *bad = NULL;
        if (l->max_body_bytes < 1 || l->max_body_bytes > SB_REGISTRY_MAX_BODY)
                bad = "max_body_bytes";
        else if (l->max_schema_bytes < 1 || l->max_schema_bytes > SB_REGISTRY_MAX_BODY)
                bad = "max_schema_bytes";
        else if (l->max_schema_depth < 1 || l->max_schema_depth > SB_SCHEMA_MAX_DEPTH)
                bad = "max_schema_depth";
        else if (l->max_connections < 1 || l->max_connections > REGD_HTTP_MAX_CONNECTIONS)
                bad = "max_connections";
        else if (l->max_connections_per_ip > REGD_HTTP_MAX_CONNECTIONS)
                bad = "max_connections_per_ip";
        if (bad)
                return sb_seterr(SB_ERR_CONFIG, errstr, errstr_size, "%s is out of its range", bad);
        return SB_OK;
}

/* Types nested in types, counted as sb_schema counts them (a field's type,
 * a union's branch, items and values one level down): whether `j` stays
 * within `max` levels.  jansson bounds the recursion of this walk (its
 * JSON_PARSER_MAX_DEPTH), and it stops at the first level past `max`. */
static int depth_ok(const json_t *j, int depth, int max) {
        if (depth > max)
                return 0;
        if (json_is_array(j)) {
                for (size_t i = 0; i < json_array_size(j); i++)
                        if (!depth_ok(json_array_get(j, i), depth + 1, max))
                                return 0;
                return 1;
        }
        if (!json_is_object(j))
                return 1;
        const json_t *t = json_object_get(j, "type"), *fields = json_object_get(j, "fields");
        if ((json_is_object(t) || json_is_array(t)) && !depth_ok(t, depth + 1, max))
                return 0;
        for (size_t i = 0; i < json_array_size(fields); i++)
                if (!depth_ok(json_object_get(json_array_get(fields, i), "type"), depth + 1, max))
                        return 0;
        return depth_ok(json_object_get(j, "items"), depth + 1, max) &&
               depth_ok(json_object_get(j, "values"), depth + 1, max);
}

int rh_schema_limits(const call_t *c, const char *text, size_t len, reply_t *r) {
        const regd_http_limits_t *l = &c->srv->limits;
        char why[256];
        if (len > l->max_schema_bytes) {
                snprintf(why, sizeof(why),
                         "the schema text is %zu bytes, over %zu (setting max_schema_bytes)", len,
                         l->max_schema_bytes);
                *r = rh_error(REGD_ERROR_INVALID_SCHEMA, why);
                return -1;
        }
        /* Text that is no JSON is left to the parser, which says why. */
        json_t *doc = json_loadb(text, len, JSON_DECODE_ANY, NULL);
        int ok = !doc || depth_ok(doc, 0, l->max_schema_depth);
        json_decref(doc);
        if (!ok) {
                snprintf(why, sizeof(why), "types nested deeper than %d levels (setting max_schema_depth)",
                         l->max_schema_depth);
                *r = rh_error(REGD_ERROR_INVALID_SCHEMA, why);
                return -1;
        }
        return 0;
}

void rh_log_mhd(regd_http_t *srv, const char *msg) {
        pthread_mutex_lock(&srv->err_lock);
        snprintf(srv->last_error, sizeof(srv->last_error), "%s", msg);
        pthread_mutex_unlock(&srv->err_lock);
        SB_LOG(srv->log, SB_LOG_WARN, "http: %s", msg);
}

void rh_on_connection(void *cls, struct MHD_Connection *c, void **socket_context,
                      enum MHD_ConnectionNotificationCode code) {
        regd_http_t *srv = cls;
        struct timespec now;
        (void)c, (void)socket_context;
        pthread_mutex_lock(&srv->err_lock);
        if (code == MHD_CONNECTION_NOTIFY_CLOSED) {
                srv->connections--;
                pthread_mutex_unlock(&srv->err_lock);
                return;
        }
        unsigned n = ++srv->connections;
        clock_gettime(CLOCK_MONOTONIC, &now);
        int warn = n >= srv->limits.max_connections && srv->limit_logged != (long long)now.tv_sec;
        if (warn)
                srv->limit_logged = (long long)now.tv_sec;
        pthread_mutex_unlock(&srv->err_lock);
        if (warn)
                SB_LOG(srv->log, SB_LOG_WARN,
                       "http: %u connections, at max_connections (%u): new ones wait until one closes", n,
                       srv->limits.max_connections);
}

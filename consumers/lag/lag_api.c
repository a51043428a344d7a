#include "lag/lag_api.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define GROUPS_PATH "/api/v1/groups"

static json_t *number_or_null(double v) { return v < 0 ? json_null() : json_real(v); }

static json_t *group_json(const lag_group_view_t *g, int with_partitions) {
        json_t *o = json_pack("{s:s, s:s, s:s, s:s, s:I, s:o}", "group", g->name, "status",
                              lag_status_name(g->status), "reason", g->reason, "state", g->state, "lag",
                              (json_int_t)g->lag, "lag_seconds", number_or_null(g->lag_seconds));
        if (!o)
                return NULL;
        if (!with_partitions) {
                json_object_set_new(o, "partitions", json_integer((json_int_t)g->n_partitions));
                return o;
        }
        json_t *parts = json_array();
        for (size_t i = 0; parts && i < g->n_partitions; i++) {
                const lag_partition_view_t *p = &g->partitions[i];
                const lag_sample_t *last = lag_window_last_good(p->window);
                json_t *po =
                        json_pack("{s:s, s:i, s:s, s:s, s:I, s:o, s:o, s:o}", "topic", p->topic, "partition",
                                  (int)p->partition, "status", lag_status_name(p->verdict.status), "reason",
                                  p->verdict.reason, "lag", (json_int_t)p->verdict.lag, "lag_seconds",
                                  number_or_null(p->verdict.lag_seconds), "committed",
                                  last && last->committed >= 0 ? json_integer(last->committed) : json_null(),
                                  "log_end", last ? json_integer(last->log_end) : json_null());
                if (!po || json_array_append_new(parts, po)) {
                        json_decref(parts);
                        parts = NULL;
                }
        }
        if (!parts || json_object_set_new(o, "partitions", parts)) {
                json_decref(o);
                return NULL;
        }
        return o;
}

static unsigned put(sb_buf_t *body, json_t *doc, unsigned status) {
        char *text = doc ? json_dumps(doc, JSON_COMPACT | JSON_PRESERVE_ORDER) : NULL;
        json_decref(doc);
        sb_err_t err = text ? sb_buf_append(body, text, strlen(text)) : SB_ERR_NOMEM;
        free(text);
        return err ? 500 : status;
}

static unsigned error(sb_buf_t *body, unsigned status, const char *fmt, const char *arg) {
        char msg[600];
        snprintf(msg, sizeof(msg), fmt, arg);
        json_t *text = json_string(msg);
        return put(body, json_pack("{s:o}", "error", text ? text : json_string("not UTF-8")), status);
}

static unsigned groups_answer(const lag_monitor_t *m, const char *path, sb_buf_t *body) {
        size_t n = strlen(GROUPS_PATH);
        if (strcmp(path, GROUPS_PATH) == 0) {
                json_t *list = json_array();
                for (size_t i = 0; list && i < lag_monitor_group_count(m); i++) {
                        const lag_group_view_t *g = lag_monitor_group(m, i);
                        /* (A name that is not UTF-8 cannot be JSON: left out.) */
                        json_t *o = g ? group_json(g, 0) : NULL;
                        if (o && json_array_append_new(list, o)) {
                                json_decref(list);
                                list = NULL;
                        }
                }
                return put(body, list ? json_pack("{s:o}", "groups", list) : NULL, 200);
        }
        if (strncmp(path, GROUPS_PATH "/", n + 1) != 0 || !path[n + 1])
                return 0;
        const lag_group_view_t *g = lag_monitor_find(m, path + n + 1);
        if (!g)
                return error(body, 404, "no such group: %.300s", path + n + 1);
        return put(body, group_json(g, 1), 200);
}

unsigned lag_api_answer(const lag_api_sources_t *src, const char *path, sb_buf_t *body,
                        const char **content_type) {
        *content_type = "application/json";
        if (strcmp(path, "/api/v1/history") == 0) {
                if (!src->history)
                        return put(body, json_pack("{s:[], s:[]}", "t", "groups"), 200);
                return lag_history_render(src->history, body) ? 500 : 200;
        }
        if (strcmp(path, "/api/v1/scorecard") == 0)
                return lag_scorecard_render(src->scorecard, src->monitor, body) ? 500 : 200;
        if (strncmp(path, "/api/", 5) == 0)
                return groups_answer(src->monitor, path, body);
        if (src->dashboard)
                return lag_dashboard_answer(src->dashboard, path, body, content_type);
        if (strcmp(path, "/") == 0 || strncmp(path, "/dashboard", 10) == 0)
                return error(body, 404, "no dashboard: %.500s",
                             src->no_dashboard ? src->no_dashboard : "none");
        return 0;
}

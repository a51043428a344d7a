#include "sb_registry_client.h"

#include <curl/curl.h>
#include <jansson.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SB_REGISTRY_CT "application/vnd.schemaregistry.v1+json"
#define SB_REGISTRY_MAX_BODY (16 * 1024 * 1024)

typedef struct sb_id_entry_s {
        char *subject;
        char *schema;
        int32_t id;
        struct sb_id_entry_s *next;
} sb_id_entry_t;

typedef struct sb_schema_entry_s {
        int32_t id;
        sb_schema_t *schema;
        struct sb_schema_entry_s *next;
} sb_schema_entry_t;

struct sb_registry_client_s {
        pthread_mutex_t lock;
        char **urls;
        size_t n_urls;
        size_t current; /* index of the URL that answered last */
        sb_id_entry_t *ids;
        sb_schema_entry_t *schemas;
        uint64_t requests;
};

sb_registry_client_t *sb_registry_client_new(const char *urls, char *errstr, size_t errstr_size) {
        sb_registry_client_t *rc = calloc(1, sizeof(*rc));
        char *copy = urls ? strdup(urls) : NULL, *save = NULL;
        if (!rc || !copy) {
                free(rc);
                free(copy);
                sb_seterr(SB_ERR_NOMEM, errstr, errstr_size, "out of memory");
                return NULL;
        }
        pthread_mutex_init(&rc->lock, NULL);
        for (char *tok = strtok_r(copy, ", ", &save); tok; tok = strtok_r(NULL, ", ", &save)) {
                char **u = realloc(rc->urls, (rc->n_urls + 1) * sizeof(char *));
                if (!u)
                        break;
                rc->urls = u;
                size_t len = strlen(tok);
                while (len && tok[len - 1] == '/')
                        tok[--len] = 0;
                if ((rc->urls[rc->n_urls] = strdup(tok)))
                        rc->n_urls++;
        }
        free(copy);
        if (rc->n_urls == 0) {
                sb_seterr(SB_ERR_CONFIG, errstr, errstr_size, "no schema registry URL given");
                sb_registry_client_destroy(rc);
                return NULL;
        }
        return rc;
}

void sb_registry_client_destroy(sb_registry_client_t *rc) {
        if (!rc)
                return;
        for (size_t i = 0; i < rc->n_urls; i++)
                free(rc->urls[i]);
        free(rc->urls);
        while (rc->ids) {
                sb_id_entry_t *n = rc->ids->next;
                free(rc->ids->subject);
                free(rc->ids->schema);
                free(rc->ids);
                rc->ids = n;
        }
        while (rc->schemas) {
                sb_schema_entry_t *n = rc->schemas->next;
                sb_schema_destroy(rc->schemas->schema);
                free(rc->schemas);
                rc->schemas = n;
        }
        pthread_mutex_destroy(&rc->lock);
        free(rc);
}

uint64_t sb_registry_client_requests(const sb_registry_client_t *rc) {
        return __atomic_load_n(&rc->requests, __ATOMIC_RELAXED);
}

static size_t on_body(char *data, size_t size, size_t nmemb, void *opaque) {
        sb_buf_t *buf = opaque;
        return sb_buf_append(buf, data, size * nmemb) ? 0 : size * nmemb;
}

/* Escapes a subject for a URL path segment. */
static void path_escape(const char *in, char *out, size_t size) {
        static const char hex[] = "0123456789ABCDEF";
        size_t o = 0;
        for (; *in && o + 4 < size; in++) {
                unsigned char ch = (unsigned char)*in;
                if ((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
                    strchr("-._~", ch)) {
                        out[o++] = (char)ch;
                } else {
                        out[o++] = '%';
                        out[o++] = hex[ch >> 4];
                        out[o++] = hex[ch & 15];
                }
        }
        out[o] = 0;
}

/* Makes one request, trying each URL until one connects.  On an HTTP answer
 * sets *status and *reply (a new reference; NULL if the body is not JSON). */
static sb_err_t http_call(sb_registry_client_t *rc, const char *method, const char *path, const char *body,
                          long *status, json_t **reply, char *errstr, size_t errstr_size) {
        CURL *curl = curl_easy_init();
        struct curl_slist *hdrs = NULL;
        sb_buf_t buf;
        sb_err_t err = SB_ERR_REGISTRY;
        char url[2048], curl_err[CURL_ERROR_SIZE] = "";
        *reply = NULL;
        if (!curl)
                return sb_seterr(SB_ERR_NOMEM, errstr, errstr_size, "curl_easy_init failed");
        hdrs = curl_slist_append(hdrs, "Content-Type: " SB_REGISTRY_CT);
        hdrs = curl_slist_append(hdrs, "Accept: " SB_REGISTRY_CT ", application/json");
        sb_buf_init(&buf, SB_REGISTRY_MAX_BODY);
        size_t start = rc->current;
        for (size_t k = 0; k < rc->n_urls; k++) {
                size_t i = (start + k) % rc->n_urls;
                snprintf(url, sizeof(url), "%s%s", rc->urls[i], path);
                sb_buf_reset(&buf);
                curl_easy_reset(curl);
                curl_easy_setopt(curl, CURLOPT_URL, url);
                curl_easy_setopt(curl, CURLOPT_CUSTOMREQUEST, method);
                curl_easy_setopt(curl, CURLOPT_HTTPHEADER, hdrs);
                curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, on_body);
                curl_easy_setopt(curl, CURLOPT_WRITEDATA, &buf);
                curl_easy_setopt(curl, CURLOPT_ERRORBUFFER, curl_err);
                curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT_MS, 3000L);
                curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS, 15000L);
                curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
                if (body)
                        curl_easy_setopt(curl, CURLOPT_POSTFIELDS, body);
                __atomic_add_fetch(&rc->requests, 1, __ATOMIC_RELAXED);
                CURLcode cc = curl_easy_perform(curl);
                if (cc != CURLE_OK) {
                        sb_seterr(SB_ERR_REGISTRY, errstr, errstr_size, "%s %s: %s", method, url,
                                  curl_err[0] ? curl_err : curl_easy_strerror(cc));
                        continue;
                }
                curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, status);
                if (*status >= 500 && k + 1 < rc->n_urls)
                        continue;
                rc->current = i;
                *reply = json_loadb(buf.data ? (const char *)buf.data : "", buf.len, 0, NULL);
                err = SB_OK;
                break;
        }
        sb_buf_free(&buf);
        curl_slist_free_all(hdrs);
        curl_easy_cleanup(curl);
        return err;
}

static sb_err_t reply_error(const char *what, long status, const json_t *reply, char *errstr,
                            size_t errstr_size) {
        const char *msg = json_string_value(json_object_get(reply, "message"));
        json_int_t code = json_integer_value(json_object_get(reply, "error_code"));
        return sb_seterr(status == 404 ? SB_ERR_NOT_FOUND : SB_ERR_REGISTRY, errstr, errstr_size,
                         "%s: registry answered HTTP %ld (error %" JSON_INTEGER_FORMAT "): %s", what, status,
                         code, msg ? msg : "no message");
}

sb_err_t sb_registry_register(sb_registry_client_t *rc, const char *subject, const char *schema_json,
                              int32_t *id, char *errstr, size_t errstr_size) {
        char path[1024], esc[768];
        long status = 0;
        json_t *reply = NULL;
        sb_err_t err;

        pthread_mutex_lock(&rc->lock);
        for (sb_id_entry_t *e = rc->ids; e; e = e->next)
                if (strcmp(e->subject, subject) == 0 && strcmp(e->schema, schema_json) == 0) {
                        *id = e->id;
                        pthread_mutex_unlock(&rc->lock);
                        return SB_OK;
                }
        pthread_mutex_unlock(&rc->lock);

        json_t *req = json_pack("{s:s}", "schema", schema_json);
        char *body = req ? json_dumps(req, JSON_COMPACT) : NULL;
        json_decref(req);
        if (!body)
                return sb_seterr(SB_ERR_NOMEM, errstr, errstr_size, "out of memory");
        path_escape(subject, esc, sizeof(esc));
        snprintf(path, sizeof(path), "/subjects/%s/versions", esc);
        err = http_call(rc, "POST", path, body, &status, &reply, errstr, errstr_size);
        free(body);
        if (err)
                return err;
        if (status != 200 || !json_is_integer(json_object_get(reply, "id"))) {
                char what[900];
                snprintf(what, sizeof(what), "register schema under subject '%s'", subject);
                err = reply_error(what, status, reply, errstr, errstr_size);
                json_decref(reply);
                return err == SB_ERR_NOT_FOUND ? SB_ERR_REGISTRY : err;
        }
        *id = (int32_t)json_integer_value(json_object_get(reply, "id"));
        json_decref(reply);

        sb_id_entry_t *e = calloc(1, sizeof(*e));
        if (e && (e->subject = strdup(subject)) && (e->schema = strdup(schema_json))) {
                e->id = *id;
                pthread_mutex_lock(&rc->lock);
                e->next = rc->ids;
                rc->ids = e;
                pthread_mutex_unlock(&rc->lock);
        } else if (e) {
                free(e->subject);
                free(e);
        }
        return SB_OK;
}

sb_err_t sb_registry_schema_by_id(sb_registry_client_t *rc, int32_t id, sb_schema_t **schema, char *errstr,
                                  size_t errstr_size) {
        char path[64], what[64];
        long status = 0;
        json_t *reply = NULL;
        sb_err_t err;

        pthread_mutex_lock(&rc->lock);
        for (sb_schema_entry_t *e = rc->schemas; e; e = e->next)
                if (e->id == id) {
                        *schema = e->schema;
                        pthread_mutex_unlock(&rc->lock);
                        return SB_OK;
                }
        pthread_mutex_unlock(&rc->lock);

        snprintf(path, sizeof(path), "/schemas/ids/%d", id);
        snprintf(what, sizeof(what), "fetch schema id %d", id);
        if ((err = http_call(rc, "GET", path, NULL, &status, &reply, errstr, errstr_size)))
                return err;
        const char *text = json_string_value(json_object_get(reply, "schema"));
        if (status != 200 || !text) {
                err = reply_error(what, status, reply, errstr, errstr_size);
                json_decref(reply);
                return err;
        }
        const char *type = json_string_value(json_object_get(reply, "schemaType"));
        if (type && strcmp(type, "AVRO") != 0) {
                json_decref(reply);
                return sb_seterr(SB_ERR_SCHEMA, errstr, errstr_size, "schema id %d is of type %s, not Avro",
                                 id, type);
        }
        sb_schema_t *parsed = NULL;
        char inner[512];
        err = sb_schema_new(text, strlen(text), &parsed, inner, sizeof(inner));
        json_decref(reply);
        if (err)
                return sb_seterr(err, errstr, errstr_size, "schema id %d: %s", id, inner);

        sb_schema_entry_t *e = calloc(1, sizeof(*e));
        if (!e) {
                sb_schema_destroy(parsed);
                return sb_seterr(SB_ERR_NOMEM, errstr, errstr_size, "out of memory");
        }
        e->id = id;
        pthread_mutex_lock(&rc->lock);
        /* Another thread may have fetched it meanwhile: keep the first. */
        for (sb_schema_entry_t *x = rc->schemas; x; x = x->next)
                if (x->id == id) {
                        *schema = x->schema;
                        pthread_mutex_unlock(&rc->lock);
                        sb_schema_destroy(parsed);
                        free(e);
                        return SB_OK;
                }
        e->schema = parsed;
        e->next = rc->schemas;
        rc->schemas = e;
        *schema = parsed;
        pthread_mutex_unlock(&rc->lock);
        return SB_OK;
}

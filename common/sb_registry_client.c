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

/* A request under way that other threads missing on the same key wait for
 * instead of asking too.  Listed in rc->flights while under way; freed by
 * whoever drops the last reference (the leader or the last waiter). */
typedef struct sb_flight_s {
        const char *subject, *schema_json; /* key of a registration (the leader's) */
        int32_t id;                        /* key of a fetch; result of a registration */
        int is_fetch;
        int done, refs;
        sb_err_t err;
        char errstr[1024];
        sb_schema_t *schema; /* result of a fetch, owned by the cache */
        struct sb_flight_s *next;
} sb_flight_t;

struct sb_registry_client_s {
        pthread_mutex_t lock;  /* guards all below but `requests` and `current` */
        pthread_cond_t landed; /* a flight is done */
        char **urls;
        size_t n_urls;
        size_t current; /* index of the URL that answered last (atomic) */
        sb_id_entry_t *ids;
        sb_schema_entry_t *schemas;
        sb_flight_t *flights;
        uint64_t requests; /* atomic */
        char *user, *password, *ca_file, *cert_file, *key_file;
};

/* What one request needs of the settings, copied under the lock. */
typedef struct {
        char *user, *password, *ca_file, *cert_file, *key_file;
} sb_call_settings_t;

sb_err_t sb_registry_client_new(const char *urls, sb_registry_client_t **out, char *errstr,
                                size_t errstr_size) {
        *out = NULL;
        sb_registry_client_t *rc = calloc(1, sizeof(*rc));
        char *copy = urls ? strdup(urls) : NULL, *save = NULL;
        if (!rc || (urls && !copy)) {
                free(rc);
                free(copy);
                return sb_seterr(SB_ERR_NOMEM, errstr, errstr_size, "out of memory");
        }
        pthread_mutex_init(&rc->lock, NULL);
        pthread_cond_init(&rc->landed, NULL);
        for (char *tok = copy ? strtok_r(copy, ", ", &save) : NULL; tok; tok = strtok_r(NULL, ", ", &save)) {
                char **u = realloc(rc->urls, (rc->n_urls + 1) * sizeof(char *));
                /* A URL dropped for want of memory would fail over to fewer
                 * registries than configured without a word: refuse. */
                if (!u || !(u[rc->n_urls] = strdup(tok))) {
                        if (u)
                                rc->urls = u;
                        free(copy);
                        sb_registry_client_destroy(rc);
                        return sb_seterr(SB_ERR_NOMEM, errstr, errstr_size, "out of memory");
                }
                rc->urls = u;
                size_t len = strlen(u[rc->n_urls]);
                while (len && u[rc->n_urls][len - 1] == '/')
                        u[rc->n_urls][--len] = 0;
                rc->n_urls++;
        }
        free(copy);
        if (rc->n_urls == 0) {
                sb_registry_client_destroy(rc);
                return sb_seterr(SB_ERR_CONFIG, errstr, errstr_size, "no schema registry URL given");
        }
        *out = rc;
        return SB_OK;
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
        if (rc->password)
                explicit_bzero(rc->password, strlen(rc->password));
        free(rc->user);
        free(rc->password);
        free(rc->ca_file);
        free(rc->cert_file);
        free(rc->key_file);
        pthread_cond_destroy(&rc->landed);
        pthread_mutex_destroy(&rc->lock);
        free(rc);
}

/* Replaces *slot by a copy of `value` (NULL or "" clears it). */
static int set_string(char **slot, const char *value) {
        char *copy = NULL;
        if (value && *value && !(copy = strdup(value)))
                return -1;
        if (*slot)
                explicit_bzero(*slot, strlen(*slot));
        free(*slot);
        *slot = copy;
        return 0;
}

sb_err_t sb_registry_client_set_auth(sb_registry_client_t *rc, const char *user, const char *password,
                                     char *errstr, size_t errstr_size) {
        if (user && strchr(user, ':'))
                return sb_seterr(SB_ERR_CONFIG, errstr, errstr_size,
                                 "registry user '%s': a Basic user name cannot hold ':'", user);
        pthread_mutex_lock(&rc->lock);
        int bad = set_string(&rc->user, user) ||
                  set_string(&rc->password, user && *user ? (password ? password : "") : NULL);
        /* An empty password is still a password; set_string drops "". */
        if (!bad && rc->user && !rc->password)
                bad = !(rc->password = strdup(""));
        pthread_mutex_unlock(&rc->lock);
        return bad ? sb_seterr(SB_ERR_NOMEM, errstr, errstr_size, "out of memory") : SB_OK;
}

sb_err_t sb_registry_client_set_tls(sb_registry_client_t *rc, const char *ca_file, const char *cert_file,
                                    const char *key_file, char *errstr, size_t errstr_size) {
        if ((key_file && *key_file) && !(cert_file && *cert_file))
                return sb_seterr(SB_ERR_CONFIG, errstr, errstr_size,
                                 "registry TLS: a key file (%s) without a certificate file", key_file);
        pthread_mutex_lock(&rc->lock);
        int bad = set_string(&rc->ca_file, ca_file) || set_string(&rc->cert_file, cert_file) ||
                  set_string(&rc->key_file, key_file);
        pthread_mutex_unlock(&rc->lock);
        return bad ? sb_seterr(SB_ERR_NOMEM, errstr, errstr_size, "out of memory") : SB_OK;
}

static void settings_free(sb_call_settings_t *cs) {
        if (cs->password)
                explicit_bzero(cs->password, strlen(cs->password));
        free(cs->user);
        free(cs->password);
        free(cs->ca_file);
        free(cs->cert_file);
        free(cs->key_file);
}

static int dup_or_null(char **out, const char *s) { return s && !(*out = strdup(s)) ? -1 : 0; }

static int settings_copy(sb_registry_client_t *rc, sb_call_settings_t *cs) {
        memset(cs, 0, sizeof(*cs));
        pthread_mutex_lock(&rc->lock);
        int bad = dup_or_null(&cs->user, rc->user) || dup_or_null(&cs->password, rc->password) ||
                  dup_or_null(&cs->ca_file, rc->ca_file) || dup_or_null(&cs->cert_file, rc->cert_file) ||
                  dup_or_null(&cs->key_file, rc->key_file);
        pthread_mutex_unlock(&rc->lock);
        if (bad)
                settings_free(cs);
        return bad ? -1 : 0;
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

/* Makes one request, trying each URL until one connects and does not
 * answer 5xx (the last URL's 5xx is kept).  On an HTTP answer sets *status
 * and *reply (a new reference; NULL if the body is not JSON); if no URL
 * answers, errstr names each URL and why. */
static sb_err_t http_call(sb_registry_client_t *rc, const char *method, const char *path, const char *body,
                          long *status, json_t **reply, char *errstr, size_t errstr_size) {
        CURL *curl = curl_easy_init();
        struct curl_slist *hdrs = NULL;
        sb_call_settings_t cs;
        sb_buf_t buf, why;
        sb_err_t err = SB_ERR_REGISTRY;
        char url[2048], curl_err[CURL_ERROR_SIZE] = "";
        *reply = NULL;
        if (!curl)
                return sb_seterr(SB_ERR_NOMEM, errstr, errstr_size, "curl_easy_init failed");
        if (settings_copy(rc, &cs)) {
                curl_easy_cleanup(curl);
                return sb_seterr(SB_ERR_NOMEM, errstr, errstr_size, "out of memory");
        }
        hdrs = curl_slist_append(hdrs, "Content-Type: " SB_REGISTRY_CT);
        hdrs = curl_slist_append(hdrs, "Accept: " SB_REGISTRY_CT ", application/json");
        sb_buf_init(&buf, SB_REGISTRY_MAX_BODY);
        sb_buf_init(&why, 16384);
        size_t start = __atomic_load_n(&rc->current, __ATOMIC_RELAXED);
        for (size_t k = 0; k < rc->n_urls; k++) {
                size_t i = (start + k) % rc->n_urls;
                snprintf(url, sizeof(url), "%s%s", rc->urls[i], path);
                sb_buf_reset(&buf);
                curl_err[0] = '\0';
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
                curl_easy_setopt(curl, CURLOPT_PROTOCOLS_STR, "http,https");
                if (cs.user) {
                        curl_easy_setopt(curl, CURLOPT_HTTPAUTH, (long)CURLAUTH_BASIC);
                        curl_easy_setopt(curl, CURLOPT_USERNAME, cs.user);
                        curl_easy_setopt(curl, CURLOPT_PASSWORD, cs.password ? cs.password : "");
                }
                if (cs.ca_file)
                        curl_easy_setopt(curl, CURLOPT_CAINFO, cs.ca_file);
                if (cs.cert_file) {
                        curl_easy_setopt(curl, CURLOPT_SSLCERT, cs.cert_file);
                        curl_easy_setopt(curl, CURLOPT_SSLCERTTYPE, "PEM");
                }
                if (cs.key_file) {
                        curl_easy_setopt(curl, CURLOPT_SSLKEY, cs.key_file);
                        curl_easy_setopt(curl, CURLOPT_SSLKEYTYPE, "PEM");
                }
                if (body)
                        curl_easy_setopt(curl, CURLOPT_POSTFIELDS, body);
                __atomic_add_fetch(&rc->requests, 1, __ATOMIC_RELAXED);
                CURLcode cc = curl_easy_perform(curl);
                if (cc != CURLE_OK) {
                        sb_buf_printf(&why, "%s%s: %s", why.len ? "; " : "", url,
                                      curl_err[0] ? curl_err : curl_easy_strerror(cc));
                        continue;
                }
                curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, status);
                if (*status >= 500 && k + 1 < rc->n_urls) {
                        sb_buf_printf(&why, "%s%s: HTTP %ld", why.len ? "; " : "", url, *status);
                        continue;
                }
                __atomic_store_n(&rc->current, i, __ATOMIC_RELAXED);
                *reply = json_loadb(buf.data ? (const char *)buf.data : "", buf.len, 0, NULL);
                err = SB_OK;
                break;
        }
        if (err)
                sb_seterr(err, errstr, errstr_size, "%s %s: no schema registry answered: %s", method, path,
                          why.data ? (const char *)why.data : "no URL");
        sb_buf_free(&why);
        sb_buf_free(&buf);
        settings_free(&cs);
        curl_slist_free_all(hdrs);
        curl_easy_cleanup(curl);
        return err;
}

static sb_err_t reply_error(const char *what, long status, const json_t *reply, char *errstr,
                            size_t errstr_size) {
        const char *msg = json_string_value(json_object_get(reply, "message"));
        json_int_t code = json_integer_value(json_object_get(reply, "error_code"));
        const char *hint = status == 401   ? " (check registry_user and registry_password)"
                           : status == 403 ? " (the registry user may not do this)"
                                           : "";
        return sb_seterr(status == 404 ? SB_ERR_NOT_FOUND : SB_ERR_REGISTRY, errstr, errstr_size,
                         "%s: registry answered HTTP %ld (error %" JSON_INTEGER_FORMAT "): %s%s", what,
                         status, code, msg ? msg : "no message", hint);
}

/* Under rc->lock: waits for the flight to land and takes its outcome. */
static sb_err_t flight_wait(sb_registry_client_t *rc, sb_flight_t *f, int32_t *id, sb_schema_t **schema,
                            char *errstr, size_t errstr_size) {
        f->refs++;
        while (!f->done)
                pthread_cond_wait(&rc->landed, &rc->lock);
        sb_err_t err = f->err;
        if (err)
                sb_seterr(err, errstr, errstr_size, "%s", f->errstr);
        else if (id)
                *id = f->id;
        else
                *schema = f->schema;
        if (--f->refs == 0)
                free(f);
        return err;
}

/* Under rc->lock: the flight lands with its outcome, waiters wake. */
static void flight_land(sb_registry_client_t *rc, sb_flight_t *f, sb_err_t err, const char *errstr) {
        sb_flight_t **pp = &rc->flights;
        while (*pp != f)
                pp = &(*pp)->next;
        *pp = f->next;
        f->done = 1;
        f->err = err;
        if (err)
                snprintf(f->errstr, sizeof(f->errstr), "%s", errstr);
        pthread_cond_broadcast(&rc->landed);
        if (--f->refs == 0)
                free(f);
}

/* Under rc->lock: a new flight for the caller to lead (NULL if out of
 * memory: then the caller asks alone). */
static sb_flight_t *flight_start(sb_registry_client_t *rc, const char *subject, const char *schema_json,
                                 int32_t id, int is_fetch) {
        sb_flight_t *f = calloc(1, sizeof(*f));
        if (f) {
                f->subject = subject;
                f->schema_json = schema_json;
                f->id = id;
                f->is_fetch = is_fetch;
                f->refs = 1;
                f->next = rc->flights;
                rc->flights = f;
        }
        return f;
}

/* Asks the registry to register and caches the id. */
static sb_err_t register_remote(sb_registry_client_t *rc, const char *subject, const char *schema_json,
                                int32_t *id, char *errstr, size_t errstr_size) {
        char path[1024], esc[768];
        long status = 0;
        json_t *reply = NULL;
        sb_err_t err;

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

sb_err_t sb_registry_register(sb_registry_client_t *rc, const char *subject, const char *schema_json,
                              int32_t *id, char *errstr, size_t errstr_size) {
        sb_err_t err;
        pthread_mutex_lock(&rc->lock);
        for (sb_id_entry_t *e = rc->ids; e; e = e->next)
                if (strcmp(e->subject, subject) == 0 && strcmp(e->schema, schema_json) == 0) {
                        *id = e->id;
                        pthread_mutex_unlock(&rc->lock);
                        return SB_OK;
                }
        for (sb_flight_t *f = rc->flights; f; f = f->next)
                if (!f->is_fetch && strcmp(f->subject, subject) == 0 &&
                    strcmp(f->schema_json, schema_json) == 0) {
                        err = flight_wait(rc, f, id, NULL, errstr, errstr_size);
                        pthread_mutex_unlock(&rc->lock);
                        return err;
                }
        sb_flight_t *f = flight_start(rc, subject, schema_json, 0, 0);
        pthread_mutex_unlock(&rc->lock);

        char inner[1024] = "";
        int32_t got = 0;
        err = register_remote(rc, subject, schema_json, &got, inner, sizeof(inner));
        if (f) {
                pthread_mutex_lock(&rc->lock);
                f->id = got;
                flight_land(rc, f, err, inner);
                pthread_mutex_unlock(&rc->lock);
        }
        if (err)
                return sb_seterr(err, errstr, errstr_size, "%s", inner);
        *id = got;
        return SB_OK;
}

/* Asks the registry for schema `id`, parses and caches it. */
static sb_err_t fetch_remote(sb_registry_client_t *rc, int32_t id, sb_schema_t **schema, char *errstr,
                             size_t errstr_size) {
        char path[64], what[64];
        long status = 0;
        json_t *reply = NULL;
        sb_err_t err;

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
                err = sb_seterr(SB_ERR_SCHEMA, errstr, errstr_size, "schema id %d is of type %s, not Avro",
                                id, type);
                json_decref(reply);
                return err;
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
        e->schema = parsed;
        pthread_mutex_lock(&rc->lock);
        /* Another thread may have fetched it meanwhile (when it could not
         * start a flight): keep the first. */
        for (sb_schema_entry_t *x = rc->schemas; x; x = x->next)
                if (x->id == id) {
                        *schema = x->schema;
                        pthread_mutex_unlock(&rc->lock);
                        sb_schema_destroy(parsed);
                        free(e);
                        return SB_OK;
                }
        e->next = rc->schemas;
        rc->schemas = e;
        *schema = parsed;
        pthread_mutex_unlock(&rc->lock);
        return SB_OK;
}

sb_err_t sb_registry_latest_id(sb_registry_client_t *rc, const char *subject, int32_t *id, char *errstr,
                               size_t errstr_size) {
        char path[1024], escaped[768], what[600];
        long status = 0;
        json_t *reply = NULL;
        path_escape(subject, escaped, sizeof(escaped));
        snprintf(path, sizeof(path), "/subjects/%s/versions/latest", escaped);
        snprintf(what, sizeof(what), "latest version of %.500s", subject);
        sb_err_t err = http_call(rc, "GET", path, NULL, &status, &reply, errstr, errstr_size);
        if (err)
                return err;
        json_int_t got = json_integer_value(json_object_get(reply, "id"));
        if (status != 200 || got <= 0 || got > INT32_MAX)
                err = status == 200 ? sb_seterr(SB_ERR_REGISTRY, errstr, errstr_size,
                                                "%s: no schema id in the reply", what)
                                    : reply_error(what, status, reply, errstr, errstr_size);
        else
                *id = (int32_t)got;
        json_decref(reply);
        return err;
}

sb_err_t sb_registry_schema_by_id(sb_registry_client_t *rc, int32_t id, sb_schema_t **schema, char *errstr,
                                  size_t errstr_size) {
        sb_err_t err;
        pthread_mutex_lock(&rc->lock);
        for (sb_schema_entry_t *e = rc->schemas; e; e = e->next)
                if (e->id == id) {
                        *schema = e->schema;
                        pthread_mutex_unlock(&rc->lock);
                        return SB_OK;
                }
        for (sb_flight_t *f = rc->flights; f; f = f->next)
                if (f->is_fetch && f->id == id) {
                        err = flight_wait(rc, f, NULL, schema, errstr, errstr_size);
                        pthread_mutex_unlock(&rc->lock);
                        return err;
                }
        sb_flight_t *f = flight_start(rc, NULL, NULL, id, 1);
        pthread_mutex_unlock(&rc->lock);

        char inner[1024] = "";
        sb_schema_t *got = NULL;
        err = fetch_remote(rc, id, &got, inner, sizeof(inner));
        if (f) {
                pthread_mutex_lock(&rc->lock);
                f->schema = got;
                flight_land(rc, f, err, inner);
                pthread_mutex_unlock(&rc->lock);
        }
        if (err)
                return sb_seterr(err, errstr, errstr_size, "%s", inner);
        *schema = got;
        return SB_OK;
}

sb_err_t sb_registry_get(sb_registry_client_t *rc, const char *path, json_t **reply, char *errstr,
                         size_t errstr_size) {
        long status = 0;
        *reply = NULL;
        json_t *body = NULL;
        sb_err_t err = http_call(rc, "GET", path, NULL, &status, &body, errstr, errstr_size);
        if (err)
                return err;
        if (status != 200 || !body) {
                err = status == 200 ? sb_seterr(SB_ERR_REGISTRY, errstr, errstr_size,
                                                "GET %s: the registry's answer is not JSON", path)
                                    : reply_error(path, status, body, errstr, errstr_size);
                json_decref(body);
                return err;
        }
        *reply = body;
        return SB_OK;
}

#include "testhttp.h"

#include <check.h>
#include <curl/curl.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "testutil.h"

/* ---- an in-process server ---- */

server_t server;

regd_store_t *new_store(void) {
        char errstr[256];
        regd_store_t *st = NULL;
        ck_assert_msg(regd_store_new(&st, errstr, sizeof(errstr)) == SB_OK, "regd_store_new: %s", errstr);
        return st;
}

regd_http_t *start(regd_store_t *st, regd_submitter_t sub, char *base, size_t size) {
        char errstr[512];
        regd_http_t *srv = NULL;
        ck_assert_msg(regd_http_new(st, sub, server.log, NULL, NULL, "127.0.0.1", 0, 4, &srv, errstr,
                                    sizeof(errstr)) == SB_OK,
                      "regd_http_new: %s", errstr);
        ck_assert_uint_ne(regd_http_port(srv), 0);
        snprintf(base, size, "http://127.0.0.1:%u", regd_http_port(srv));
        return srv;
}

void server_start(void) {
        server.store = new_store();
        server.log_file = tmpfile();
        ck_assert_ptr_nonnull(server.log_file);
        TEST_CALL(sb_log_new("test_registry_api", SB_LOG_DEBUG, server.log_file, &server.log, TEST_ERR));
        ck_assert_ptr_nonnull(server.log);
        server.srv = start(server.store, regd_store_direct_submitter(server.store), server.base,
                           sizeof(server.base));
}

void server_stop(void) {
        regd_http_destroy(server.srv);
        regd_store_destroy(server.store);
        sb_log_destroy(server.log);
        fclose(server.log_file);
        memset(&server, 0, sizeof(server));
}

static size_t on_body(char *data, size_t size, size_t n, void *arg) {
        return sb_buf_append(arg, data, size * n) ? 0 : size * n;
}

typedef struct {
        const char *data;
        size_t left;
} upload_t;

static size_t on_read(char *out, size_t size, size_t n, void *arg) {
        upload_t *up = arg;
        size_t len = size * n < up->left ? size * n : up->left;
        memcpy(out, up->data, len);
        up->data += len;
        up->left -= len;
        return len;
}

void http_to(const char *base, const char *method, const char *path, const char *ctype, const char *body,
             size_t body_len, int chunked, response_t *resp) {
        char url[512], header[256];
        struct curl_slist *headers = NULL;
        CURL *curl = curl_easy_init();
        ck_assert_ptr_nonnull(curl);
        memset(resp, 0, sizeof(*resp));
        sb_buf_init(&resp->body, 1024 * 1024);
        snprintf(url, sizeof(url), "%s%s", base, path);
        /* "Content-Type:" alone stops curl adding its form type to a POST. */
        snprintf(header, sizeof(header), "Content-Type:%s%s", ctype ? " " : "", ctype ? ctype : "");
        headers = curl_slist_append(headers, header);
        if (chunked)
                headers = curl_slist_append(headers, "Transfer-Encoding: chunked");
        headers = curl_slist_append(headers, "Expect:");
        curl_easy_setopt(curl, CURLOPT_URL, url);
        curl_easy_setopt(curl, CURLOPT_CUSTOMREQUEST, method);
        curl_easy_setopt(curl, CURLOPT_HTTPHEADER, headers);
        upload_t up = {body, body_len};
        if (body && chunked) { /* no length known: curl sends chunks */
                curl_easy_setopt(curl, CURLOPT_POST, 1L);
                curl_easy_setopt(curl, CURLOPT_READFUNCTION, on_read);
                curl_easy_setopt(curl, CURLOPT_READDATA, &up);
        } else if (body) {
                curl_easy_setopt(curl, CURLOPT_POSTFIELDS, body);
                curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)body_len);
        }
        if (strcmp(method, "HEAD") == 0)
                curl_easy_setopt(curl, CURLOPT_NOBODY, 1L);
        curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, on_body);
        curl_easy_setopt(curl, CURLOPT_WRITEDATA, &resp->body);
        curl_easy_setopt(curl, CURLOPT_TIMEOUT, 30L);
        CURLcode rc = curl_easy_perform(curl);
        ck_assert_msg(rc == CURLE_OK, "%s %s: %s", method, path, curl_easy_strerror(rc));
        char *ct = NULL;
        curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &resp->status);
        curl_easy_getinfo(curl, CURLINFO_CONTENT_TYPE, &ct);
        snprintf(resp->ctype, sizeof(resp->ctype), "%s", ct ? ct : "(none)");
        ck_assert_int_eq(sb_buf_append(&resp->body, "", 0), SB_OK); /* never NULL */
        curl_slist_free_all(headers);
        curl_easy_cleanup(curl);
}

void http(const char *method, const char *path, const char *ctype, const char *body, size_t body_len,
          int chunked, response_t *resp) {
        http_to(server.base, method, path, ctype, body, body_len, chunked, resp);
}

void run_steps(const step_t *steps, size_t n) {
        for (size_t i = 0; i < n; i++) {
                const step_t *st = &steps[i];
                response_t r;
                char what[640];
                snprintf(what, sizeof(what), "step %zu: %s %s", i, st->method, st->path);
                http(st->method, st->path, st->ctype ? st->ctype : (st->request ? V1 : NULL), st->request,
                     st->request ? strlen(st->request) : 0, 0, &r);
                const char *got = (const char *)r.body.data;
                ck_assert_msg(r.status == st->status, "%s: status %ld, want %ld; body %s", what, r.status,
                              st->status, got);
                ck_assert_msg(strcmp(r.ctype, V1) == 0, "%s: content type %s", what, r.ctype);
                if (st->body && st->body[0] == '~') {
                        ck_assert_msg(strncmp(got, st->body + 1, strlen(st->body + 1)) == 0,
                                      "%s: body\n %s\ndoes not start with\n %s", what, got, st->body + 1);
                } else if (st->body) {
                        ck_assert_msg(strcmp(got, st->body) == 0, "%s: body\n %s\nwant\n %s", what, got,
                                      st->body);
                } else if (st->code) {
                        json_error_t jerr;
                        json_t *doc = json_loads(got, 0, &jerr);
                        ck_assert_msg(doc != NULL, "%s: not JSON: %s", what, got);
                        json_int_t code = json_integer_value(json_object_get(doc, "error_code"));
                        const char *msg = json_string_value(json_object_get(doc, "message"));
                        int part = st->message[0] == '*';
                        ck_assert_msg(code == st->code && msg &&
                                              (part ? strstr(msg, st->message + 1) != NULL
                                                    : strncmp(msg, st->message, strlen(st->message)) == 0),
                                      "%s: got %s, want error_code %d, message '%s...'", what, got, st->code,
                                      st->message);
                        ck_assert_msg(json_object_size(doc) == 2, "%s: extra members: %s", what, got);
                        json_decref(doc);
                }
                sb_buf_free(&r.body);
        }
}

/*
 * fuzz_registry_http: requests to sharebus-registry's REST API, answered
 * by the real server (regd_http on libmicrohttpd, 127.0.0.1, an ephemeral
 * port, one thread) over a new in-memory store per input: the limits, the
 * path's escapes, the route table, the content type, the body and every
 * handler with what it submits.  regd_http has no entry point that answers
 * without a socket (the handlers read headers and query arguments from
 * libmicrohttpd's connection), so the target talks HTTP to it.  Beside it,
 * the pure functions the server decides with are called on the same text:
 * regd_http_access (the route table's access class), regd_pct_decode and
 * regd_authz_parse_basic.
 *
 * Input: up to MAX_REQUESTS requests, separated by a line "%%".  A request
 * is a line "METHOD TARGET", header lines up to an empty line, then the
 * body.  The target sends a well-formed request: the method if it is a
 * token, the target with spaces and control characters percent-encoded,
 * the well-formed headers but the framing ones (Content-Length,
 * Transfer-Encoding, Connection, Host, Expect), then its own
 * Content-Length and "Connection: close", so that every request is
 * complete and must be answered; fuzzing libmicrohttpd's framing is not
 * ours.
 *
 * Invariants: every request gets an answer within ANSWER_TIMEOUT_S; an
 * answer in the registry's content type is a JSON document, and for a
 * status of 400 or more one with an integer error_code and a message.
 */
#define _GNU_SOURCE /* memmem, strcasestr */
#include <arpa/inet.h>
#include <errno.h>
#include <jansson.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "fuzzutil.h"
#include "regd_authz.h"
#include "regd_http.h"
#include "regd_json.h"
#include "regd_store.h"
#include "sb_buf.h"

#define MAX_REQUESTS 4
#define ANSWER_TIMEOUT_S 10
#define MAX_ANSWER (64u << 20)

typedef struct {
        const char *line; /* "METHOD TARGET" */
        size_t line_len;
        const char *headers; /* the header lines, '\n' each */
        size_t headers_len;
        const char *body;
        size_t body_len;
} request_t;

/* Splits one request's text; 0, or -1 when it has no request line. */
static int parse_request(const char *s, size_t n, request_t *r) {
        const char *nl = memchr(s, '\n', n), *end = s + n;
        r->line = s;
        r->line_len = nl ? (size_t)(nl - s) : n;
        if (!r->line_len)
                return -1;
        r->headers = nl ? nl + 1 : end;
        const char *h = r->headers;
        while (h < end && *h != '\n') {
                const char *e = memchr(h, '\n', (size_t)(end - h));
                h = e ? e + 1 : end;
        }
        r->headers_len = (size_t)(h - r->headers);
        r->body = h < end ? h + 1 : end;
        r->body_len = (size_t)(end - r->body);
        return 0;
}

/* The length of the line at h (not past end); *next is the next one. */
static size_t next_line(const char *h, const char *end, const char **next) {
        const char *e = memchr(h, '\n', (size_t)(end - h));
        *next = e ? e + 1 : end;
        return (size_t)((e ? e : end) - h);
}

static int header_is(const char *h, size_t n, const char *name) {
        size_t len = strlen(name);
        return n > len && strncasecmp(h, name, len) == 0 && h[len] == ':';
}

/* An RFC 9110 token (a method, a header name): libmicrohttpd refuses
 * anything else before any of our code runs. */
static int is_token(const char *s, size_t n) {
        for (size_t i = 0; i < n; i++)
                if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= 'A' && s[i] <= 'Z') ||
                      (s[i] >= '0' && s[i] <= '9') || (s[i] && strchr("!#$%&'*+-.^_`|~", s[i]))))
                        return 0;
        return n > 0;
}

/* A header line "name: value" with a token name and no control character
 * but tab in the value. */
static int is_header(const char *h, size_t n) {
        const char *colon = memchr(h, ':', n);
        if (!colon || !is_token(h, (size_t)(colon - h)))
                return 0;
        for (const char *p = colon + 1; p < h + n; p++)
                if ((unsigned char)*p < 0x20 ? *p != '\t' : *p == 0x7f)
                        return 0;
        return 1;
}

/* The request as sent, or -1 for one without a method: the input's
 * method, its target with spaces and control characters percent-encoded
 * (so that the path's own decoding meets them), its well-formed header
 * lines but the framing ones, then the body. */
static int build(const request_t *r, sb_buf_t *out, char *method, size_t msize, char *target, size_t tsize) {
        const char *space = memchr(r->line, ' ', r->line_len);
        size_t sp = space ? (size_t)(space - r->line) : r->line_len, t = 0;
        if (!is_token(r->line, sp) || sp >= msize)
                return -1;
        snprintf(method, msize, "%.*s", (int)sp, r->line);
        for (size_t i = sp + 1; i < r->line_len && t + 4 < tsize; i++) {
                unsigned char ch = (unsigned char)r->line[i];
                if (ch <= 0x20 || ch == 0x7f)
                        t += (size_t)snprintf(target + t, tsize - t, "%%%02X", ch);
                else
                        target[t++] = (char)ch;
        }
        target[t] = '\0';
        (void)sb_buf_printf(out, "%s %s HTTP/1.1\r\nHost: fuzz\r\n", method, *target ? target : "/");
        for (const char *h = r->headers, *end = r->headers + r->headers_len, *next; h < end; h = next) {
                size_t len = next_line(h, end, &next);
                if (is_header(h, len) && !header_is(h, len, "content-length") &&
                    !header_is(h, len, "transfer-encoding") && !header_is(h, len, "connection") &&
                    !header_is(h, len, "host") && !header_is(h, len, "expect")) {
                        (void)sb_buf_append(out, h, len);
                        (void)sb_buf_append(out, "\r\n", 2);
                }
        }
        (void)sb_buf_printf(out, "Content-Length: %zu\r\nConnection: close\r\n\r\n", r->body_len);
        (void)sb_buf_append(out, r->body, r->body_len);
        return 0;
}

/* The pure functions the server decides with, on the request's text. */
static void decide(const char *method, const char *target, const request_t *r) {
        char subject[256], user[256], password[256], err[256];
        char *copy = strdup(target);
        if (!copy)
                fuzz_fail("out of memory");
        regd_access_t a = regd_http_access(method, target, subject, sizeof(subject));
        if (a != REGD_ACCESS_READ && a != REGD_ACCESS_WRITE_SUBJECT && a != REGD_ACCESS_OPERATOR)
                fuzz_fail("regd_http_access: class %d", (int)a);
        if (a == REGD_ACCESS_WRITE_SUBJECT && strlen(subject) >= sizeof(subject))
                fuzz_fail("regd_http_access: subject not terminated");
        (void)regd_pct_decode(copy, copy, 1);
        free(copy);
        for (const char *h = r->headers, *end = r->headers + r->headers_len, *next; h < end; h = next) {
                size_t len = next_line(h, end, &next);
                if (header_is(h, len, "authorization")) {
                        char *value = fuzz_strndup((const uint8_t *)h + 14, len - 14);
                        (void)regd_authz_parse_basic(value + strspn(value, " \t"), user, sizeof(user),
                                                     password, sizeof(password), err, sizeof(err));
                        free(value);
                }
        }
}

/* connect(), which a signal may interrupt: the connection then goes on,
 * and is waited for.  0, or -1 with errno. */
static int connect_to(int fd, const struct sockaddr_in *sa) {
        if (connect(fd, (const struct sockaddr *)sa, sizeof(*sa)) == 0)
                return 0;
        if (errno != EINTR)
                return -1;
        struct pollfd pfd = {fd, POLLOUT, 0};
        int ready, e = 0;
        socklen_t len = sizeof(e);
        while ((ready = poll(&pfd, 1, ANSWER_TIMEOUT_S * 1000)) < 0 && errno == EINTR)
                ;
        if (ready != 1 || getsockopt(fd, SOL_SOCKET, SO_ERROR, &e, &len) || e) {
                errno = e ? e : ETIMEDOUT;
                return -1;
        }
        return 0;
}

/* Sends one request to 127.0.0.1:port and reads the answer to its end.
 * libFuzzer's SIGALRM (its -timeout watch) interrupts poll and may
 * interrupt connect, send and recv: EINTR is retried, against one
 * deadline. */
static void exchange(unsigned port, const sb_buf_t *req, sb_buf_t *answer) {
        struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
        struct timespec now, deadline;
        sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (fd < 0 || connect_to(fd, &sa))
                fuzz_fail("cannot connect to the registry on port %u: %s", port, strerror(errno));
        for (size_t off = 0; off < req->len;) {
                ssize_t w = send(fd, req->data + off, req->len - off, MSG_NOSIGNAL);
                if (w < 0 && errno == EINTR)
                        continue;
                if (w <= 0)
                        break; /* the server answered early (413, 414) and closed */
                off += (size_t)w;
        }
        clock_gettime(CLOCK_MONOTONIC, &deadline);
        deadline.tv_sec += ANSWER_TIMEOUT_S;
        for (;;) {
                char buf[65536];
                struct pollfd pfd = {fd, POLLIN, 0};
                clock_gettime(CLOCK_MONOTONIC, &now);
                long long left =
                        (deadline.tv_sec - now.tv_sec) * 1000LL + (deadline.tv_nsec - now.tv_nsec) / 1000000;
                int ready = left > 0 ? poll(&pfd, 1, (int)left) : 0;
                if (ready < 0 && errno == EINTR)
                        continue;
                if (ready != 1)
                        fuzz_fail("no answer within %d s to: %.200s", ANSWER_TIMEOUT_S,
                                  (const char *)req->data);
                ssize_t got = recv(fd, buf, sizeof(buf), 0);
                if (got < 0 && errno == EINTR)
                        continue;
                if (got <= 0)
                        break;
                if (sb_buf_append(answer, buf, (size_t)got))
                        fuzz_fail("an answer over %u bytes", MAX_ANSWER);
        }
        close(fd);
}

/* An answer in the registry's content type must be JSON. */
static void check_answer(const sb_buf_t *a, const char *method, const char *target) {
        const char *text = a->data ? (const char *)a->data : "";
        unsigned status = 0;
        if (sscanf(text, "HTTP/1.%*d %u", &status) != 1)
                fuzz_fail("%s %s: no status line in the answer: %.200s", method, target, text);
        const char *body = strstr(text, "\r\n\r\n");
        if (!body || !strcasestr(text, "Content-Type: " REGD_CONTENT_TYPE) || strcmp(method, "HEAD") == 0)
                return; /* libmicrohttpd's own answer to a malformed request */
        body += 4;
        json_error_t jerr;
        json_t *doc = json_loads(body, JSON_DECODE_ANY, &jerr);
        if (!doc)
                fuzz_fail("%s %s: %u with a body that is not JSON (%s): %.200s", method, target, status,
                          jerr.text, body);
        if (status >= 400 && !(json_is_integer(json_object_get(doc, "error_code")) &&
                               json_is_string(json_object_get(doc, "message"))))
                fuzz_fail("%s %s: %u without error_code and message: %.200s", method, target, status, body);
        json_decref(doc);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        char err[512], method[64], target[16384];
        const char *s = (const char *)data, *end = s + size;
        regd_store_t *st = NULL;
        regd_http_t *srv = NULL;

        if (regd_store_new(&st, err, sizeof(err)) ||
            regd_http_new(st, regd_store_direct_submitter(st), fuzz_log(), NULL, NULL, "127.0.0.1", 0, 1,
                          &srv, err, sizeof(err)))
                fuzz_fail("registry: %s", err);
        for (int i = 0; i < MAX_REQUESTS && s < end; i++) {
                const char *sep = memmem(s, (size_t)(end - s), "\n%%\n", 4);
                const char *stop = sep ? sep : end;
                request_t r;
                if (parse_request(s, (size_t)(stop - s), &r) == 0) {
                        sb_buf_t req, answer;
                        sb_buf_init(&req, SIZE_MAX / 2);
                        sb_buf_init(&answer, MAX_ANSWER);
                        if (build(&r, &req, method, sizeof(method), target, sizeof(target)) == 0) {
                                decide(method, target, &r);
                                exchange(regd_http_port(srv), &req, &answer);
                                check_answer(&answer, method, target);
                        }
                        sb_buf_free(&req);
                        sb_buf_free(&answer);
                }
                s = sep ? sep + 4 : end;
        }
        regd_http_destroy(srv);
        regd_store_destroy(st);
        return 0;
}

/*
 * testhttp: the in-process registry server the registry_api suites drive
 * (regd_http on 127.0.0.1, an ephemeral port, with the store's direct
 * submitter) and libcurl requests to it: one request (http, http_to), or a
 * table of requests with the answers they must get (run_steps).
 */
#ifndef SB_TESTHTTP_H
#define SB_TESTHTTP_H

#include <stddef.h>
#include <stdio.h>

#include "regd_http.h"
#include "regd_store.h"
#include "sb_buf.h"

/* A record schema, the same with other key order and spacing, their texts
 * as a JSON string's contents, and the canonical text. */
#define S1_CANON "{\"fields\":[{\"name\":\"x\",\"type\":\"int\"}],\"name\":\"A\",\"type\":\"record\"}"
#define S1_JSTR                                                                                              \
        "{\\\"fields\\\":[{\\\"name\\\":\\\"x\\\",\\\"type\\\":\\\"int\\\"}],\\\"name\\\":\\\"A\\\","        \
        "\\\"type\\\":\\\"record\\\"}"
#define S1_OTHER_JSTR                                                                                        \
        "{ \\\"name\\\": \\\"A\\\", \\\"fields\\\": [ {\\\"type\\\": \\\"int\\\", \\\"name\\\": \\\"x\\\"} " \
        "], \\\"type\\\": \\\"record\\\" }"
/* S1 plus field b: without a default (breaks BACKWARD), with one. */
#define S2_NO_DEFAULT_JSTR                                                                                   \
        "{\\\"type\\\":\\\"record\\\",\\\"name\\\":\\\"A\\\",\\\"fields\\\":[{\\\"name\\\":\\\"x\\\","       \
        "\\\"type\\\":\\\"int\\\"},{\\\"name\\\":\\\"b\\\",\\\"type\\\":\\\"string\\\"}]}"
#define S2_DEFAULT_JSTR                                                                                      \
        "{\\\"type\\\":\\\"record\\\",\\\"name\\\":\\\"A\\\",\\\"fields\\\":[{\\\"name\\\":\\\"x\\\","       \
        "\\\"type\\\":\\\"int\\\"},{\\\"name\\\":\\\"b\\\",\\\"type\\\":\\\"string\\\",\\\"default\\\":"     \
        "\\\"\\\"}]}"
#define BODY(jstr) "{\"schema\":\"" jstr "\"}"
#define PRIM(name) "{\"schema\":\"\\\"" name "\\\"\"}"

#define V1 "application/vnd.schemaregistry.v1+json"

typedef struct {
        regd_store_t *store;
        sb_log_t *log;
        FILE *log_file;
        regd_http_t *srv;
        char base[64];
} server_t;

/* The suite's server, started and stopped by the fixture. */
extern server_t server;

typedef struct {
        long status;
        char ctype[128];
        sb_buf_t body;
} response_t;

/* One request and what must come back.  `body` is the exact answer ("~..."
 * its start: for documents another module shapes); or,
 * if NULL and `code` is not 0, `code` is the answer's error_code and
 * `message` the start of its message ("*..." : a part of it); with neither,
 * only the status is checked. */
typedef struct {
        const char *method, *path, *ctype, *request;
        long status;
        const char *body;
        int code;
        const char *message;
} step_t;

regd_store_t *new_store(void);
/* A server on `st` with `sub`; its base URL into base. */
regd_http_t *start(regd_store_t *st, regd_submitter_t sub, char *base, size_t size);
/* The fixture: `server` on a new store. */
void server_start(void);
void server_stop(void);
/* Sends a request to `base`; `ctype` NULL sends no Content-Type.  The
 * caller frees resp->body with sb_buf_free. */
void http_to(const char *base, const char *method, const char *path, const char *ctype, const char *body,
             size_t body_len, int chunked, response_t *resp);
void http(const char *method, const char *path, const char *ctype, const char *body, size_t body_len,
          int chunked, response_t *resp);
void run_steps(const step_t *steps, size_t n);
#define RUN_STEPS(steps) run_steps((steps), sizeof(steps) / sizeof(*(steps)))

#endif

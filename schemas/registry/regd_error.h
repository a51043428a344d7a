/*
 * regd_error: every error sharebus-registry answers, in one table: the
 * HTTP status, Confluent's error_code and the message, so that a code or a
 * message is written once.  Codes are Confluent's
 * (io.confluent.kafka.schemaregistry.rest.exceptions.Errors); where
 * Confluent's rest-utils answers with a plain HTTP status, that status is
 * also the code (400, 404, 405, 413, 414, 415, 431), as its Jetty error
 * handler does.  Codes and messages are part of the interface: clients
 * match on them.
 *
 * Each entry's message is a printf format; the comment after it lists the
 * arguments the callers pass, in order.  A message is cut at
 * REGD_ERROR_MAX_MESSAGE bytes, on a UTF-8 character boundary (a 40901
 * lists every problem compatibility found, so it may be long).
 */
#ifndef REGD_ERROR_H
#define REGD_ERROR_H

#include <jansson.h>
#include <stdarg.h>

#define REGD_ERROR_MAX_MESSAGE 9216

typedef enum {
        REGD_ERROR_BAD_REQUEST,              /* 400   400: (const char *what) */
        REGD_ERROR_MALFORMED_JSON,           /* 400   400: (int line, int column, const char *text) */
        REGD_ERROR_BAD_ESCAPE,               /* 400   400: (void) bad percent-encoding in the path */
        REGD_ERROR_UNAUTHORIZED,             /* 401 40101: (void) */
        REGD_ERROR_FORBIDDEN,                /* 403 40301: (const char *why) */
        REGD_ERROR_NOT_FOUND,                /* 404   404: (void) no such path */
        REGD_ERROR_SUBJECT_NOT_FOUND,        /* 404 40401: (const char *subject) */
        REGD_ERROR_VERSION_NOT_FOUND,        /* 404 40402: (int version) */
        REGD_ERROR_SCHEMA_NOT_FOUND,         /* 404 40403: (void) */
        REGD_ERROR_SCHEMA_ID_NOT_FOUND,      /* 404 40403: (const char *id) */
        REGD_ERROR_SUBJECT_SOFT_DELETED,     /* 404 40404: (const char *subject) */
        REGD_ERROR_SUBJECT_NOT_SOFT_DELETED, /* 404 40405: (const char *subject) */
        REGD_ERROR_VERSION_SOFT_DELETED,     /* 404 40406: (const char *subject, int version) */
        REGD_ERROR_VERSION_NOT_SOFT_DELETED, /* 404 40407: (const char *subject, int version) */
        REGD_ERROR_NO_SUBJECT_LEVEL,         /* 404 40408: (const char *subject) */
        REGD_ERROR_NO_SUBJECT_MODE,          /* 404 40409: (const char *subject) */
        REGD_ERROR_METHOD_NOT_ALLOWED,       /* 405   405: (void) */
        REGD_ERROR_INCOMPATIBLE,             /* 409 40901: (const char *subject, const char *details) */
        REGD_ERROR_BODY_TOO_LARGE,           /* 413   413: (unsigned limit) */
        REGD_ERROR_URI_TOO_LONG,             /* 414   414: (unsigned limit) */
        REGD_ERROR_MEDIA_TYPE,               /* 415   415: (void) */
        REGD_ERROR_HEADERS_TOO_LARGE,        /* 431   431: (void) */
        REGD_ERROR_INVALID_SCHEMA,           /* 422 42201: (const char *why) */
        REGD_ERROR_INVALID_SCHEMA_TYPE,      /* 422 42201: (void) not AVRO */
        REGD_ERROR_VERSION_NOT_NEXT,         /* 422 42201: (void) an IMPORT "version" not the next one */
        REGD_ERROR_INVALID_VERSION,          /* 422 42202: (const char *version) */
        REGD_ERROR_INVALID_VERSION_MEMBER,   /* 422 42202: (void) "version" of a body */
        REGD_ERROR_NO_VERSIONS_LEFT,         /* 422 42202: (const char *subject) */
        REGD_ERROR_INVALID_LEVEL,            /* 422 42203: (void) */
        REGD_ERROR_INVALID_MODE,             /* 422 42204: (void) */
        REGD_ERROR_READONLY,                 /* 422 42205: (const char *subject) */
        REGD_ERROR_NOT_IMPORT,               /* 422 42205: (const char *subject) */
        REGD_ERROR_NOT_READWRITE,            /* 422 42205: (const char *subject) */
        REGD_ERROR_ID_OVERWRITE,             /* 422 42205: (int id) */
        REGD_ERROR_IMPORT_WITH_SUBJECTS,     /* 422 42205: (void) */
        REGD_ERROR_INVALID_SUBJECT,          /* 422 42208: (const char *subject) */
        REGD_ERROR_STORE,                    /* 500 50001: (const char *why) */
        REGD_ERROR_TIMEOUT,                  /* 500 50002: (const char *why) */
        REGD_ERROR_FORWARDING,               /* 500 50003: (const char *why) */
        REGD_ERROR_COUNT_
} regd_error_t;

/* The HTTP status and Confluent's error_code of `e` (500 and 50001 for a
 * value out of range). */
unsigned regd_error_status(regd_error_t e);
int regd_error_code(regd_error_t e);

/* A new {"error_code":N,"message":"..."} for `e` with the arguments its
 * entry lists (caller json_decrefs); NULL if out of memory. */
json_t *regd_error_body(regd_error_t e, ...);
/* The same with an "http": status member: a command's result
 * (regd_store.h). */
json_t *regd_error_result(regd_error_t e, ...);
/* Either, with the arguments as a va_list. */
json_t *regd_error_vjson(regd_error_t e, int with_http, va_list ap);

#endif

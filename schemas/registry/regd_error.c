#include "regd_error.h"

#include <stdarg.h>
#include <stdio.h>

#include "regd_json.h"

static const struct {
        unsigned status;
        int code;
        const char *format;
} errors[REGD_ERROR_COUNT_] = {
        [REGD_ERROR_BAD_REQUEST] = {400, 400, "%s"},
        [REGD_ERROR_MALFORMED_JSON] = {400, 400, "Malformed JSON body: line %d column %d: %s"},
        /* Jetty answers 400 to a path it cannot decode, before any resource. */
        [REGD_ERROR_BAD_ESCAPE] = {400, 400,
                                   "HTTP 400 Bad Request: bad percent-encoding in the path (a '%%' must be "
                                   "followed by two hexadecimal digits)"},
        [REGD_ERROR_UNAUTHORIZED] = {401, 40101,
                                     "Unauthorized: send valid credentials (HTTP Basic or a client "
                                     "certificate)"},
        [REGD_ERROR_FORBIDDEN] = {403, 40301, "Forbidden: %s"},
        [REGD_ERROR_NOT_FOUND] = {404, 404, "HTTP 404 Not Found"},
        [REGD_ERROR_SUBJECT_NOT_FOUND] = {404, 40401, "Subject '%s' not found."},
        [REGD_ERROR_VERSION_NOT_FOUND] = {404, 40402, "Version %d not found."},
        [REGD_ERROR_SCHEMA_NOT_FOUND] = {404, 40403, "Schema not found"},
        [REGD_ERROR_SCHEMA_ID_NOT_FOUND] = {404, 40403, "Schema %s not found"},
        [REGD_ERROR_SUBJECT_SOFT_DELETED] = {404, 40404,
                                             "Subject '%s' was soft deleted.Set permanent=true to delete "
                                             "permanently"},
        [REGD_ERROR_SUBJECT_NOT_SOFT_DELETED] = {404, 40405,
                                                 "Subject '%s' was not deleted first before being "
                                                 "permanently deleted"},
        [REGD_ERROR_VERSION_SOFT_DELETED] = {404, 40406,
                                             "Subject '%s' Version %d was soft deleted.Set permanent=true "
                                             "to delete permanently"},
        [REGD_ERROR_VERSION_NOT_SOFT_DELETED] = {404, 40407,
                                                 "Subject '%s' Version %d was not deleted first before "
                                                 "being permanently deleted"},
        [REGD_ERROR_NO_SUBJECT_LEVEL] = {404, 40408,
                                         "Subject '%s' does not have subject-level compatibility "
                                         "configured"},
        [REGD_ERROR_NO_SUBJECT_MODE] = {404, 40409,
                                        "Subject '%s' does not have subject-level mode configured"},
        [REGD_ERROR_METHOD_NOT_ALLOWED] = {405, 405, "HTTP 405 Method Not Allowed"},
        [REGD_ERROR_INCOMPATIBLE] = {409, 40901,
                                     "Schema being registered is incompatible with an earlier schema for "
                                     "subject \"%s\", details: %s"},
        [REGD_ERROR_BODY_TOO_LARGE] = {413, 413,
                                       "Request body larger than %u bytes (setting max_body_bytes)"},
        [REGD_ERROR_URI_TOO_LONG] = {414, 414, "HTTP 414 URI Too Long: the request line is over %u bytes"},
        [REGD_ERROR_MEDIA_TYPE] = {415, 415, "HTTP 415 Unsupported Media Type"},
        [REGD_ERROR_HEADERS_TOO_LARGE] = {431, 431, "HTTP 431 Request Header Fields Too Large"},
        [REGD_ERROR_INVALID_SCHEMA] = {422, 42201, "Invalid schema: %s"},
        [REGD_ERROR_INVALID_SCHEMA_TYPE] = {422, 42201,
                                            "Invalid schema type: this registry accepts AVRO only"},
        [REGD_ERROR_VERSION_NOT_NEXT] = {422, 42201, "Version is not one more than previous version"},
        [REGD_ERROR_INVALID_VERSION] = {422, 42202,
                                        "The specified version '%s' is not a valid version id. Allowed "
                                        "values are between [1, 2^31-1] and the string \"latest\""},
        [REGD_ERROR_INVALID_VERSION_MEMBER] = {422, 42202,
                                               "The specified version is not a valid version id. Allowed "
                                               "values are between [1, 2^31-1] and the string \"latest\""},
        [REGD_ERROR_NO_VERSIONS_LEFT] = {422, 42202, "Subject '%s' has no versions left"},
        [REGD_ERROR_INVALID_LEVEL] =
                {422, 42203,
                 "Invalid compatibility level. Valid values are none, backward, forward, "
                 "full, backward_transitive, forward_transitive, and full_transitive"},
        [REGD_ERROR_INVALID_MODE] = {422, 42204,
                                     "Invalid mode. Valid values are READWRITE, READONLY and IMPORT."},
        [REGD_ERROR_READONLY] = {422, 42205, "Subject %s in context . is in read-only mode"},
        [REGD_ERROR_NOT_IMPORT] = {422, 42205, "Subject %s in context . is not in import mode"},
        [REGD_ERROR_NOT_READWRITE] = {422, 42205, "Subject %s in context . is not in read-write mode"},
        [REGD_ERROR_ID_OVERWRITE] = {422, 42205,
                                     "Overwrite new schema with id %d in context . is not permitted."},
        [REGD_ERROR_IMPORT_WITH_SUBJECTS] = {422, 42205, "Cannot import since found existing subjects"},
        [REGD_ERROR_INVALID_SUBJECT] = {422, 42208, "The specified subject '%s' is not a valid."},
        [REGD_ERROR_STORE] = {500, 50001, "Error in the backend data store: %s"},
        [REGD_ERROR_TIMEOUT] = {500, 50002, "Operation timed out: %s"},
        [REGD_ERROR_FORWARDING] = {500, 50003, "Error while writing to the registry log: %s"},
};

static int known(regd_error_t e) { return (unsigned)e < REGD_ERROR_COUNT_; }

unsigned regd_error_status(regd_error_t e) { return known(e) ? errors[e].status : 500; }

int regd_error_code(regd_error_t e) { return known(e) ? errors[e].code : 50001; }

json_t *regd_error_vjson(regd_error_t e, int with_http, va_list ap) {
        char msg[REGD_ERROR_MAX_MESSAGE];
        if (!known(e))
                return json_pack(with_http ? "{s:i,s:s,s:i}" : "{s:i,s:s}", "error_code", 50001, "message",
                                 "Error in the backend data store: unknown error", "http", 500);
        vsnprintf(msg, sizeof(msg), errors[e].format, ap);
        msg[regd_utf8_prefix(msg)] = '\0'; /* truncation may split a character */
        json_t *body = json_pack("{s:i,s:s}", "error_code", errors[e].code, "message", msg);
        if (body && with_http && json_object_set_new(body, "http", json_integer(errors[e].status))) {
                json_decref(body);
                return NULL;
        }
        return body;
}

json_t *regd_error_body(regd_error_t e, ...) {
        va_list ap;
        va_start(ap, e);
        json_t *body = regd_error_vjson(e, 0, ap);
        va_end(ap);
        return body;
}

json_t *regd_error_result(regd_error_t e, ...) {
        va_list ap;
        va_start(ap, e);
        json_t *body = regd_error_vjson(e, 1, ap);
        va_end(ap);
        return body;
}

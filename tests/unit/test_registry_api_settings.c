/*
 * test_registry_api_settings: the registry's HTTP API (testhttp.h):
 * compatibility refusals and the test-only routes, levels and modes
 * (global and per subject, READONLY, IMPORT), soft and hard deletes.
 */
#include <check.h>
#include <curl/curl.h>
#include <jansson.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "regd_http.h"
#include "regd_store.h"
#include "sb_buf.h"
#include "testhttp.h"
#include "testutil.h"

#define MSG_B_MISSING                                                                                        \
        "reading version 1 data with the new schema: reader field 'b' (record A) has no default and is "     \
        "missing in the writer"

/* Compatibility: refusals that say why, and the test-only routes. */
static const step_t compatibility[] = {
        {"POST", "/compatibility/subjects/t/versions/latest", V1, BODY(S1_JSTR), 200,
         "{\"is_compatible\":true}", 0, NULL},
        {"POST", "/compatibility/subjects/t/versions", V1, BODY(S1_JSTR), 200, "{\"is_compatible\":true}", 0,
         NULL},
        {"POST", "/compatibility/subjects/t/versions/1", V1, BODY(S1_JSTR), 404,
         "{\"error_code\":40402,\"message\":\"Version 1 not found.\"}", 0, NULL},
        {"POST", "/subjects/t/versions", V1, BODY(S1_JSTR), 200, "{\"id\":1}", 0, NULL},
        {"POST", "/subjects/t/versions", V1, BODY(S2_NO_DEFAULT_JSTR), 409,
         "{\"error_code\":40901,\"message\":\"Schema being registered is incompatible with an earlier schema "
         "for "
         "subject \\\"t\\\", details: [" MSG_B_MISSING ", {compatibility: 'BACKWARD'}]\"}",
         0, NULL},
        {"POST", "/compatibility/subjects/t/versions/latest", V1, BODY(S2_NO_DEFAULT_JSTR), 200,
         "{\"is_compatible\":false}", 0, NULL},
        {"POST", "/compatibility/subjects/t/versions/1?verbose=true", V1, BODY(S2_NO_DEFAULT_JSTR), 200,
         "{\"is_compatible\":false,\"messages\":[\"" MSG_B_MISSING "\",\"{compatibility: 'BACKWARD'}\"]}", 0,
         NULL},
        {"POST", "/compatibility/subjects/t/versions?verbose=true", V1, BODY(S2_DEFAULT_JSTR), 200,
         "{\"is_compatible\":true,\"messages\":[]}", 0, NULL},
        {"POST", "/compatibility/subjects/t/versions/abc", V1, BODY(S1_JSTR), 422, NULL, 42202,
         "The specified version 'abc'"},
        {"POST", "/compatibility/subjects/t/versions", V1, "{\"schema\":\"{oops\"}", 422, NULL, 42201,
         "Invalid schema: schema is not JSON"},
        {"POST", "/compatibility/subjects/t/versions?verbose=true", V1, "{\"schema\":\"{oops\"}", 200, NULL,
         0, NULL},
        {"POST", "/compatibility/subjects/t/versions", V1, "{}", 422, NULL, 42201, "Invalid schema"},
        {"POST", "/subjects/t/versions", V1, BODY(S2_DEFAULT_JSTR), 200, "{\"id\":2}", 0, NULL},
        {"GET", "/subjects/t/versions", NULL, NULL, 200, "[1,2]", 0, NULL},
        /* FULL_TRANSITIVE: every version, both ways */
        {"PUT", "/config/t", "application/json", "{\"compatibility\":\"full_transitive\"}", 200,
         "{\"compatibility\":\"FULL_TRANSITIVE\"}", 0, NULL},
        {"POST", "/compatibility/subjects/t/versions?verbose=true", V1, PRIM("string"), 200, NULL, 0, NULL},
        {"POST", "/subjects/t/versions", V1, PRIM("string"), 409, NULL, 40901,
         "*reading version 2 data with the new schema: writer type record A does not match reader type "
         "string"},
        {"POST", "/compatibility/subjects/t/versions/1", V1, BODY(S2_DEFAULT_JSTR), 200,
         "{\"is_compatible\":true}", 0, NULL},
};

/* Levels and modes, global and per subject. */
static const step_t settings[] = {
        {"GET", "/config", NULL, NULL, 200, "{\"compatibilityLevel\":\"BACKWARD\"}", 0, NULL},
        {"GET", "/mode", NULL, NULL, 200, "{\"mode\":\"READWRITE\"}", 0, NULL},
        {"PUT", "/config", NULL, "{\"compatibility\":\"FULL\"}", 200, "{\"compatibility\":\"FULL\"}", 0,
         NULL},
        {"GET", "/config", NULL, NULL, 200, "{\"compatibilityLevel\":\"FULL\"}", 0, NULL},
        {"GET", "/config/", NULL, NULL, 200, "{\"compatibilityLevel\":\"FULL\"}", 0, NULL},
        {"PUT", "/config", NULL, "{\"compatibility\":\"sideways\"}", 422,
         "{\"error_code\":42203,\"message\":\"Invalid compatibility level. Valid values are none, backward, "
         "forward, full, backward_transitive, forward_transitive, and full_transitive\"}",
         0, NULL},
        {"PUT", "/config/t", NULL, "{}", 422, NULL, 42203, "Invalid compatibility level."},
        {"GET", "/config/t", NULL, NULL, 404,
         "{\"error_code\":40408,\"message\":\"Subject 't' does not have subject-level compatibility "
         "configured\"}",
         0, NULL},
        {"GET", "/config/t?defaultToGlobal=true", NULL, NULL, 200, "{\"compatibilityLevel\":\"FULL\"}", 0,
         NULL},
        {"PUT", "/config/t", NULL, "{\"compatibility\":\"FORWARD_TRANSITIVE\"}", 200,
         "{\"compatibility\":\"FORWARD_TRANSITIVE\"}", 0, NULL},
        {"GET", "/config/t", NULL, NULL, 200, "{\"compatibilityLevel\":\"FORWARD_TRANSITIVE\"}", 0, NULL},
        {"DELETE", "/config/t", NULL, NULL, 200, "{\"compatibilityLevel\":\"FORWARD_TRANSITIVE\"}", 0, NULL},
        {"DELETE", "/config/t", NULL, NULL, 404,
         "{\"error_code\":40401,\"message\":\"Subject 't' not found.\"}", 0, NULL},
        {"DELETE", "/config", NULL, NULL, 200, "{\"compatibilityLevel\":\"FULL\"}", 0, NULL},
        {"GET", "/config", NULL, NULL, 200, "{\"compatibilityLevel\":\"BACKWARD\"}", 0, NULL},
        /* modes */
        {"GET", "/mode/t", NULL, NULL, 404,
         "{\"error_code\":40409,\"message\":\"Subject 't' does not have subject-level mode configured\"}", 0,
         NULL},
        {"GET", "/mode/t?defaultToGlobal=TRUE", NULL, NULL, 200, "{\"mode\":\"READWRITE\"}", 0, NULL},
        {"PUT", "/mode/t", NULL, "{\"mode\":\"sideways\"}", 422,
         "{\"error_code\":42204,\"message\":\"Invalid mode. Valid values are READWRITE, READONLY and "
         "IMPORT.\"}",
         0, NULL},
        {"PUT", "/mode/t", NULL, "{}", 422, NULL, 42204, "Invalid mode."},
        {"POST", "/subjects/t/versions", V1, BODY(S1_JSTR), 200, "{\"id\":1}", 0, NULL},
        {"PUT", "/mode/t", NULL, "{\"mode\":\"readonly\"}", 200, "{\"mode\":\"READONLY\"}", 0, NULL},
        {"GET", "/mode/t", NULL, NULL, 200, "{\"mode\":\"READONLY\"}", 0, NULL},
        {"POST", "/subjects/t/versions", V1, BODY(S2_DEFAULT_JSTR), 422,
         "{\"error_code\":42205,\"message\":\"Subject t in context . is in read-only mode\"}", 0, NULL},
        {"POST", "/subjects/t/versions", V1, BODY(S1_JSTR), 200, "{\"id\":1}", 0, NULL}, /* held: answered */
        {"DELETE", "/subjects/t/versions/1", NULL, NULL, 422, NULL, 42205,
         "Subject t in context . is in read-only"},
        {"DELETE", "/subjects/t", NULL, NULL, 422, NULL, 42205, "Subject t in context . is in read-only"},
        {"POST", "/subjects/u/versions", V1, BODY(S1_JSTR), 200, "{\"id\":1}", 0, NULL}, /* others can */
        {"DELETE", "/mode/t", NULL, NULL, 200, "{\"mode\":\"READONLY\"}", 0, NULL},
        {"DELETE", "/mode/t", NULL, NULL, 404, NULL, 40401, "Subject 't' not found."},
        {"PUT", "/mode", NULL, "{\"mode\":\"READONLY\"}", 200, "{\"mode\":\"READONLY\"}", 0, NULL},
        {"POST", "/subjects/v/versions", V1, BODY(S1_JSTR), 422, NULL, 42205,
         "Subject v in context . is in read-only"},
        {"DELETE", "/mode", NULL, NULL, 200, "{\"mode\":\"READONLY\"}", 0, NULL},
        {"GET", "/mode", NULL, NULL, 200, "{\"mode\":\"READWRITE\"}", 0, NULL},
        /* IMPORT */
        {"PUT", "/mode", NULL, "{\"mode\":\"IMPORT\"}", 422,
         "{\"error_code\":42205,\"message\":\"Cannot import since found existing subjects\"}", 0, NULL},
        {"PUT", "/mode/imp", NULL, "{\"mode\":\"IMPORT\"}", 200, "{\"mode\":\"IMPORT\"}", 0, NULL},
        {"POST", "/subjects/imp/versions", V1, "{\"schema\":\"\\\"float\\\"\",\"id\":42,\"version\":3}", 200,
         "{\"id\":42}", 0, NULL},
        {"POST", "/subjects/imp/versions", V1, "{\"schema\":\"\\\"bytes\\\"\",\"id\":42}", 422,
         "{\"error_code\":42205,\"message\":\"Overwrite new schema with id 42 in context . is not "
         "permitted.\"}",
         0, NULL},
        {"POST", "/subjects/imp/versions", V1, PRIM("bytes"), 422,
         "{\"error_code\":42205,\"message\":\"Subject imp in context . is not in read-write mode\"}", 0,
         NULL},
        {"GET", "/subjects/imp/versions", NULL, NULL, 200, "[3]", 0, NULL},
        {"GET", "/schemas/ids/42", NULL, NULL, 200, "{\"schema\":\"\\\"float\\\"\"}", 0, NULL},
        {"POST", "/subjects/u/versions", V1, "{\"schema\":\"\\\"bytes\\\"\",\"id\":77}", 422,
         "{\"error_code\":42205,\"message\":\"Subject u in context . is not in import mode\"}", 0, NULL},
        {"PUT", "/mode/u?force=true", NULL, "{\"mode\":\"IMPORT\"}", 200, "{\"mode\":\"IMPORT\"}", 0, NULL},
        {"POST", "/subjects/u/versions", V1, "{\"schema\":\"\\\"bytes\\\"\",\"id\":77}", 200, "{\"id\":77}",
         0, NULL},
        {"DELETE", "/mode/u", NULL, NULL, 200, "{\"mode\":\"IMPORT\"}", 0, NULL},
        {"PUT", "/config/u", NULL, "{\"compatibility\":\"NONE\"}", 200, "{\"compatibility\":\"NONE\"}", 0,
         NULL},
        {"POST", "/subjects/u/versions", V1, PRIM("boolean"), 200, "{\"id\":78}", 0,
         NULL}, /* after the highest */
        {"GET", "/subjects/u/versions", NULL, NULL, 200, "[1,2,3]", 0, NULL},
};

/* Soft deletes, then permanent ones. */
static const step_t deletes[] = {
        {"PUT", "/config", NULL, "{\"compatibility\":\"NONE\"}", 200, "{\"compatibility\":\"NONE\"}", 0,
         NULL},
        {"POST", "/subjects/d/versions", V1, PRIM("int"), 200, "{\"id\":1}", 0, NULL},
        {"POST", "/subjects/d/versions", V1, PRIM("long"), 200, "{\"id\":2}", 0, NULL},
        {"POST", "/subjects/d/versions", V1, PRIM("string"), 200, "{\"id\":3}", 0, NULL},
        {"POST", "/subjects/e/versions", V1, PRIM("int"), 200, "{\"id\":1}", 0, NULL},
        {"DELETE", "/subjects/d/versions/1?permanent=true", NULL, NULL, 404,
         "{\"error_code\":40407,\"message\":\"Subject 'd' Version 1 was not deleted first before being "
         "permanently "
         "deleted\"}",
         0, NULL},
        {"DELETE", "/subjects/d/versions/1", NULL, NULL, 200, "1", 0, NULL},
        {"DELETE", "/subjects/d/versions/1", NULL, NULL, 404,
         "{\"error_code\":40406,\"message\":\"Subject 'd' Version 1 was soft deleted.Set permanent=true to "
         "delete "
         "permanently\"}",
         0, NULL},
        {"DELETE", "/subjects/d/versions/9", NULL, NULL, 404, NULL, 40402, "Version 9 not found."},
        {"DELETE", "/subjects/x/versions/1", NULL, NULL, 404, NULL, 40401, "Subject 'x' not found."},
        {"GET", "/subjects/d/versions", NULL, NULL, 200, "[2,3]", 0, NULL},
        {"GET", "/subjects/d/versions?deleted=true", NULL, NULL, 200, "[1,2,3]", 0, NULL},
        {"GET", "/subjects/d/versions/1", NULL, NULL, 404, NULL, 40402, "Version 1 not found."},
        {"GET", "/subjects/d/versions/1?deleted=true", NULL, NULL, 200,
         "{\"subject\":\"d\",\"version\":1,\"id\":1,\"schema\":\"\\\"int\\\"\"}", 0, NULL},
        {"GET", "/subjects/d/versions/1/referencedby", NULL, NULL, 200, "[]", 0, NULL},
        {"GET", "/schemas/ids/1/versions", NULL, NULL, 200, "[{\"subject\":\"e\",\"version\":1}]", 0, NULL},
        {"GET", "/schemas/ids/1/versions?deleted=true", NULL, NULL, 200,
         "[{\"subject\":\"d\",\"version\":1},{\"subject\":\"e\",\"version\":1}]", 0, NULL},
        {"POST", "/subjects/d", V1, PRIM("int"), 404, NULL, 40403, "Schema not found"},
        {"POST", "/subjects/d?deleted=true", V1, PRIM("int"), 200,
         "{\"subject\":\"d\",\"version\":1,\"id\":1,\"schema\":\"\\\"int\\\"\"}", 0, NULL},
        {"DELETE", "/subjects/d/versions/latest", NULL, NULL, 200, "3", 0, NULL},
        {"DELETE", "/subjects/d?permanent=true", NULL, NULL, 404,
         "{\"error_code\":40405,\"message\":\"Subject 'd' was not deleted first before being permanently "
         "deleted\"}",
         0, NULL},
        {"DELETE", "/subjects/d", NULL, NULL, 200, "[2]", 0, NULL},
        {"DELETE", "/subjects/d", NULL, NULL, 404,
         "{\"error_code\":40404,\"message\":\"Subject 'd' was soft deleted.Set permanent=true to delete "
         "permanently\"}",
         0, NULL},
        {"GET", "/subjects", NULL, NULL, 200, "[\"e\"]", 0, NULL},
        {"GET", "/subjects?deleted=true", NULL, NULL, 200, "[\"d\",\"e\"]", 0, NULL},
        {"GET", "/subjects/d/versions", NULL, NULL, 404, NULL, 40401, "Subject 'd' not found."},
        {"GET", "/subjects/d/versions/2", NULL, NULL, 404, NULL, 40401, "Subject 'd' not found."},
        {"GET", "/schemas/ids/2", NULL, NULL, 200, "{\"schema\":\"\\\"long\\\"\"}", 0,
         NULL}, /* still decodable */
        {"GET", "/schemas/ids/2/subjects", NULL, NULL, 200, "[]", 0, NULL},
        {"GET", "/schemas/ids/2/subjects?deleted=true", NULL, NULL, 200, "[\"d\"]", 0, NULL},
        /* registering again after a soft delete: a new version, the same id */
        {"POST", "/subjects/d/versions", V1, PRIM("long"), 200, "{\"id\":2}", 0, NULL},
        {"GET", "/subjects/d/versions?deleted=true", NULL, NULL, 200, "[1,3,4]", 0, NULL},
        {"DELETE", "/subjects/d", NULL, NULL, 200, "[4]", 0, NULL},
        {"DELETE", "/subjects/d?permanent=true", NULL, NULL, 200, "[1,3,4]", 0, NULL},
        {"DELETE", "/subjects/d?permanent=true", NULL, NULL, 404, NULL, 40401, "Subject 'd' not found."},
        {"GET", "/subjects?deleted=true", NULL, NULL, 200, "[\"e\"]", 0, NULL},
        {"GET", "/schemas/ids/3", NULL, NULL, 404, NULL, 40403, "Schema 3 not found"},
        /* ids are never reused: a new schema after the hard delete gets 4 */
        {"POST", "/subjects/d/versions", V1, PRIM("double"), 200, "{\"id\":4}", 0, NULL},
        {"POST", "/subjects/d/versions", V1, PRIM("string"), 200, "{\"id\":3}", 0, NULL},
        {"GET", "/subjects/d/versions", NULL, NULL, 200, "[1,2]", 0, NULL},
        {"DELETE", "/subjects/e/versions/-1", NULL, NULL, 200, "1", 0, NULL},
        {"DELETE", "/subjects/e/versions/1?permanent=true", NULL, NULL, 200, "1", 0, NULL},
        {"GET", "/subjects/e/versions?deleted=true", NULL, NULL, 404, NULL, 40401, "Subject 'e' not found."},
};

START_TEST(http_compatibility) { RUN_STEPS(compatibility); }
END_TEST

START_TEST(http_settings) { RUN_STEPS(settings); }
END_TEST

START_TEST(http_deletes) { RUN_STEPS(deletes); }
END_TEST

static Suite *registry_api_settings_suite(void) {
        Suite *s = suite_create("registry_api_settings");
        TCase *tc = tcase_create("http");
        tcase_add_checked_fixture(tc, server_start, server_stop);
        tcase_set_timeout(tc, 120);
        tcase_add_test(tc, http_compatibility);
        tcase_add_test(tc, http_settings);
        tcase_add_test(tc, http_deletes);
        suite_add_tcase(s, tc);
        return s;
}

int main(void) {
        curl_global_init(CURL_GLOBAL_ALL);
        int rc = test_run_suite(registry_api_settings_suite());
        curl_global_cleanup();
        return rc;
}

/*
 * test_subscriber_limits: the subscriber's max_record_bytes.  A key or
 * value one byte over it is refused undecoded (class decode, the message
 * naming the setting and both sizes), so it becomes a dead letter; one at
 * the limit is decoded as before, and records after the refused one are
 * applied.  Through the applier (subscriber_apply.h), with the registry in
 * process and a SQLite target.
 */
#include <check.h>
#include <curl/curl.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "sb_registry_client.h"
#include "subscriber_apply.h"
#include "subscriber_settings.h"
#include "target.h"
#include "testhttp.h"
#include "testutil.h"

#define KEY_SCHEMA "{\"type\":\"record\",\"name\":\"K\",\"fields\":[{\"name\":\"id\",\"type\":\"string\"}]}"
#define LIMIT 1024

typedef struct {
        sb_registry_client_t *registry;
        sb_target_t *target;
        sb_subscriber_t *sub;
        char dir[64], db[128];
        int32_t key_id;
} fixture_t;

static void fixture_new(fixture_t *f) {
        char errstr[512];
        memset(f, 0, sizeof(*f));
        snprintf(f->dir, sizeof(f->dir), "/tmp/sb_sublimits.XXXXXX");
        ck_assert_ptr_nonnull(mkdtemp(f->dir));
        snprintf(f->db, sizeof(f->db), "%s/t.db", f->dir);
        ck_assert_msg(sb_registry_client_new(server.base, &f->registry, errstr, sizeof(errstr)) == SB_OK,
                      "%s", errstr);
        ck_assert_msg(sb_registry_register(f->registry, "t.x-key", KEY_SCHEMA, &f->key_id, errstr,
                                           sizeof(errstr)) == SB_OK,
                      "%s", errstr);
        ck_assert_msg(sb_target_sqlite_open(f->db, &f->target, errstr, sizeof(errstr)) == SB_OK, "%s",
                      errstr);
        const sb_subscriber_conf_t conf = {.name = "t", .receipts = 1, .max_record_bytes = LIMIT};
        ck_assert_msg(sb_subscriber_applier_new(&conf, f->target, f->registry, server.log, &f->sub, errstr,
                                                sizeof(errstr)) == SB_OK,
                      "%s", errstr);
}

static void fixture_free(fixture_t *f) {
        sb_subscriber_destroy(f->sub);
        f->target->ops->destroy(f->target);
        sb_registry_client_destroy(f->registry);
        unlink(f->db);
        rmdir(f->dir);
}

/* A framed key {"id": "abc"} padded with zero bytes to `len` (the padding
 * makes it undecodable, "bytes after the value", unless len is 9). */
static unsigned char *key_of(int32_t id, size_t len) {
        unsigned char *k = calloc(1, len);
        ck_assert_ptr_nonnull(k);
        k[1] = (unsigned char)(id >> 24), k[2] = (unsigned char)(id >> 16);
        k[3] = (unsigned char)(id >> 8), k[4] = (unsigned char)id;
        k[5] = 6; /* zigzag 3 */
        k[6] = 'a', k[7] = 'b', k[8] = 'c';
        return k;
}

static sb_err_t apply(fixture_t *f, const void *key, size_t key_len, const void *value, size_t value_len,
                      sb_apply_counts_t *counts, sb_dl_class_t *cls, char *errstr, size_t errstr_size) {
        static int64_t offset;
        const sb_apply_record_t r = {"t.x", 0, offset++, key, key_len, value, value_len};
        return sb_subscriber_apply_once(f->sub, &r, counts, cls, errstr, errstr_size);
}

START_TEST(record_over_max_record_bytes_is_refused_undecoded) {
        fixture_t f;
        sb_apply_counts_t counts = {0};
        sb_dl_class_t cls = SB_DL_APPLY;
        char errstr[512];
        fixture_new(&f);
        unsigned char *key = key_of(f.key_id, 9), *big_key = key_of(f.key_id, LIMIT + 1);
        unsigned char *value = calloc(1, LIMIT + 1);
        ck_assert_ptr_nonnull(value);

        /* A tombstone before: applied (counted). */
        ck_assert_int_eq(apply(&f, key, 9, NULL, 0, &counts, &cls, errstr, sizeof(errstr)), SB_OK);
        ck_assert_uint_eq(counts.tombstones, 1);

        /* A value one byte over: refused before the registry is asked. */
        ck_assert_int_eq(apply(&f, key, 9, value, LIMIT + 1, &counts, &cls, errstr, sizeof(errstr)),
                         SB_ERR_INVALID);
        ck_assert_int_eq(cls, SB_DL_DECODE);
        ck_assert_str_eq(errstr, "value is 1025 bytes, over max_record_bytes (1024): not decoded");
        /* A key one byte over, of a tombstone too. */
        cls = SB_DL_APPLY;
        ck_assert_int_eq(apply(&f, big_key, LIMIT + 1, NULL, 0, &counts, &cls, errstr, sizeof(errstr)),
                         SB_ERR_INVALID);
        ck_assert_int_eq(cls, SB_DL_DECODE);
        ck_assert_str_eq(errstr, "key is 1025 bytes, over max_record_bytes (1024): not decoded");

        /* At the limit it is decoded: the key's padding is what is refused. */
        ck_assert_int_eq(apply(&f, big_key, LIMIT, NULL, 0, &counts, &cls, errstr, sizeof(errstr)),
                         SB_ERR_INVALID);
        ck_assert_msg(strstr(errstr, "max_record_bytes") == NULL && strstr(errstr, "key: "), "%s", errstr);

        /* And the records after the refused ones are applied. */
        ck_assert_int_eq(apply(&f, key, 9, NULL, 0, &counts, &cls, errstr, sizeof(errstr)), SB_OK);
        ck_assert_uint_eq(counts.tombstones, 2);
        free(key);
        free(big_key);
        free(value);
        fixture_free(&f);
}
END_TEST

/* The setting's default is the conf's, and its range ends at the bound. */
START_TEST(setting_defaults_to_the_compiled_bound) {
        int found = 0;
        for (size_t i = 0; i < sb_subscriber_settings_count; i++) {
                const sb_setting_t *s = &sb_subscriber_settings[i];
                if (strcmp(s->name, "max_record_bytes") != 0)
                        continue;
                found = 1;
                ck_assert_int_eq(atoll(s->def), SB_SUBSCRIBER_DEFAULT_RECORD_BYTES);
                ck_assert_int_eq(s->max, SB_SUBSCRIBER_MAX_RECORD_BYTES);
        }
        ck_assert(found);
}
END_TEST

int main(void) {
        curl_global_init(CURL_GLOBAL_DEFAULT);
        Suite *s = suite_create("subscriber_limits");
        TCase *tc = tcase_create("limits");
        tcase_add_checked_fixture(tc, server_start, server_stop);
        tcase_set_timeout(tc, 60);
        tcase_add_test(tc, record_over_max_record_bytes_is_refused_undecoded);
        tcase_add_test(tc, setting_defaults_to_the_compiled_bound);
        suite_add_tcase(s, tc);
        int rc = test_run_suite(s);
        curl_global_cleanup();
        return rc;
}

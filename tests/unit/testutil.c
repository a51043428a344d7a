#include "testutil.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

const char *test_src_path(const char *rel) {
        static char path[4096];
        const char *root = getenv("SHAREBUS_SRC");
        snprintf(path, sizeof(path), "%s/%s", root && *root ? root : ".", rel);
        return path;
}

char *test_read_file(const char *path, size_t *len) {
        FILE *f = fopen(path, "rb");
        ck_assert_msg(f != NULL, "cannot open %s: %s", path, strerror(errno));
        fseek(f, 0, SEEK_END);
        long size = ftell(f);
        fseek(f, 0, SEEK_SET);
        char *buf = malloc((size_t)size + 1);
        ck_assert_ptr_nonnull(buf);
        size_t got = fread(buf, 1, (size_t)size, f);
        fclose(f);
        ck_assert_uint_eq(got, (size_t)size);
        buf[size] = 0;
        if (len)
                *len = (size_t)size;
        return buf;
}

const char *test_write_temp(const char *text, const char *suffix) {
        static char path[256];
        snprintf(path, sizeof(path), "/tmp/sharebus-test-XXXXXX%s", suffix);
        int fd = mkstemps(path, (int)strlen(suffix));
        ck_assert_msg(fd >= 0, "mkstemps: %s", strerror(errno));
        size_t len = strlen(text);
        ck_assert_int_eq(write(fd, text, len), (ssize_t)len);
        close(fd);
        return path;
}

char *test_q2j(const char *s) {
        char *c = strdup(s);
        ck_assert_ptr_nonnull(c);
        for (char *p = c; *p; p++)
                if (*p == '\'')
                        *p = '"';
        return c;
}

json_t *test_json_q(const char *text) {
        char *t = test_q2j(text);
        json_error_t e;
        json_t *j = json_loads(t, JSON_DECODE_ANY | JSON_ALLOW_NUL, &e);
        ck_assert_msg(j != NULL, "test JSON %s does not parse: %s", t, e.text);
        free(t);
        return j;
}

sb_schema_t *test_schema_q(const char *text) {
        char *t = test_q2j(text);
        sb_schema_t *s = NULL;
        TEST_CALL(sb_schema_new(t, strlen(t), &s, TEST_ERR));
        ck_assert_ptr_nonnull(s);
        free(t);
        return s;
}

int test_run_suite(Suite *s) {
        SRunner *sr = srunner_create(s);
        srunner_run_all(sr, CK_NORMAL);
        int failed = srunner_ntests_failed(sr);
        srunner_free(sr);
        return failed == 0 ? 0 : 1;
}

/*
 * Unit tests of checkpoint: the durable "file identity + offset" of the
 * file sources.  Identity must tell the same file from one replaced,
 * rewritten in place or truncated; a corrupt checkpoint file is refused
 * with its name and what to do.
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "sources/checkpoint.h"
#include "testutil.h"

static char dir[64];

static void setup(void) {
        snprintf(dir, sizeof(dir), "/tmp/sharebus-cp-XXXXXX");
        ck_assert_ptr_nonnull(mkdtemp(dir));
}

static void teardown(void) {
        char cmd[128];
        snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
        ck_assert_int_eq(system(cmd), 0);
}

static const char *path_in(const char *name) {
        static char p[2][256];
        static int i;
        i ^= 1;
        snprintf(p[i], sizeof(p[i]), "%s/%s", dir, name);
        return p[i];
}

static void write_text(const char *path, const char *text, int flags) {
        int fd = open(path, O_WRONLY | O_CREAT | flags, 0644);
        ck_assert_int_ge(fd, 0);
        ck_assert_int_eq(write(fd, text, strlen(text)), (ssize_t)strlen(text));
        close(fd);
}

/* The identity of `path` now, and whether it still matches `id` at `offset`. */
static int matches(const char *path, const checkpoint_identity_t *id, uint64_t offset) {
        int fd = open(path, O_RDONLY);
        ck_assert_int_ge(fd, 0);
        int same = -1;
        TEST_CALL(checkpoint_identity_matches(fd, id, offset, &same, TEST_ERR));
        close(fd);
        return same;
}

static checkpoint_identity_t identify(const char *path) {
        int fd = open(path, O_RDONLY);
        ck_assert_int_ge(fd, 0);
        checkpoint_identity_t id;
        TEST_CALL(checkpoint_identify(fd, &id, TEST_ERR));
        close(fd);
        return id;
}

START_TEST(test_write_then_read_back) {
        checkpoint_state_t st = {0}, back;
        st.directory = 1;
        snprintf(st.done, sizeof(st.done), "2024-01-01.jsonl");
        snprintf(st.file, sizeof(st.file), "2024-01-02 \"odd\"\\name\n.jsonl");
        st.id = (checkpoint_identity_t){.dev = 64769,
                                        .ino = 1234567,
                                        .size = 99999,
                                        .head_len = 4096,
                                        .head_hash = 0xfedcba9876543210ULL};
        st.offset = 12345;
        const char *cp = path_in("cp");
        TEST_CALL(checkpoint_write(cp, &st, TEST_ERR));
        int found = 0;
        TEST_CALL(checkpoint_read(cp, &back, &found, TEST_ERR));
        ck_assert_int_eq(found, 1);
        ck_assert_int_eq(back.directory, 1);
        ck_assert_str_eq(back.done, st.done);
        ck_assert_str_eq(back.file, st.file);
        ck_assert_uint_eq(back.id.dev, st.id.dev);
        ck_assert_uint_eq(back.id.ino, st.id.ino);
        ck_assert_uint_eq(back.id.size, st.id.size);
        ck_assert_uint_eq(back.id.head_len, st.id.head_len);
        ck_assert_uint_eq(back.id.head_hash, st.id.head_hash);
        ck_assert_uint_eq(back.offset, 12345);
        /* No temporary file is left beside it. */
        ck_assert_int_ne(access(path_in("cp.tmp"), F_OK), 0);
        /* Written again: replaced. */
        st.offset = 20000;
        TEST_CALL(checkpoint_write(cp, &st, TEST_ERR));
        TEST_CALL(checkpoint_read(cp, &back, &found, TEST_ERR));
        ck_assert_uint_eq(back.offset, 20000);
}
END_TEST

START_TEST(test_missing_is_not_found) {
        checkpoint_state_t st;
        int found = 1;
        TEST_CALL(checkpoint_read(path_in("none"), &st, &found, TEST_ERR));
        ck_assert_int_eq(found, 0);
        ck_assert_str_eq(st.file, "");
        ck_assert_uint_eq(st.offset, 0);
}
END_TEST

static const struct {
        const char *text, *why;
} corrupt[] = {
        {"", "empty"},
        {"garbage\n", "not valid JSON"},
        {"{\"version\":1,", "not valid JSON"},
        {"[1,2]", "not a JSON object"},
        {"{\"version\":2,\"directory\":0,\"done\":\"\",\"file\":\"f\",\"dev\":1,\"ino\":2,\"size\":3,\"head_"
         "len\":3,"
         "\"head_hash\":\"0000000000000001\",\"offset\":3}",
         "unknown version"},
        {"{\"version\":1,\"directory\":0,\"done\":\"\",\"file\":\"f\",\"dev\":1,\"ino\":2,\"size\":3,\"head_"
         "len\":3,"
         "\"head_hash\":\"0000000000000001\"}",
         "bad file identity or offset"},
        {"{\"version\":1,\"directory\":0,\"done\":\"\",\"file\":\"f\",\"dev\":1,\"ino\":2,\"size\":3,\"head_"
         "len\":3,"
         "\"head_hash\":\"0000000000000001\",\"offset\":-5}",
         "bad file identity or offset"},
        {"{\"version\":1,\"directory\":0,\"done\":\"\",\"file\":\"f\",\"dev\":1,\"ino\":2,\"size\":3,\"head_"
         "len\":3,"
         "\"head_hash\":\"zz00000000000001\",\"offset\":3}",
         "bad 'head_hash'"},
        {"{\"version\":1,\"directory\":0,\"done\":\"\",\"file\":\"f\",\"dev\":1,\"ino\":2,\"size\":3,\"head_"
         "len\":99999,"
         "\"head_hash\":\"0000000000000001\",\"offset\":3}",
         "bad file identity or offset"},
        {"{\"version\":1,\"directory\":7,\"done\":\"\",\"file\":\"f\",\"dev\":1,\"ino\":2,\"size\":3,\"head_"
         "len\":3,"
         "\"head_hash\":\"0000000000000001\",\"offset\":3}",
         "bad 'directory'"},
        {"{\"version\":1,\"directory\":0,\"done\":5,\"file\":\"f\",\"dev\":1,\"ino\":2,\"size\":3,\"head_"
         "len\":3,"
         "\"head_hash\":\"0000000000000001\",\"offset\":3}",
         "bad 'done' or 'file'"},
        {"{\"version\":1,\"version\":1}", "not valid JSON"},
};

START_TEST(test_corrupt_is_refused_with_name_and_advice) {
        const char *cp = path_in("corrupt.cp");
        write_text(cp, corrupt[_i].text, O_TRUNC);
        checkpoint_state_t st;
        int found = 1;
        char err[2048] = "";
        ck_assert_int_eq(checkpoint_read(cp, &st, &found, err, sizeof(err)), SB_ERR_INVALID);
        ck_assert_int_eq(found, 0);
        ck_assert_msg(strstr(err, cp) && strstr(err, "corrupt") && strstr(err, corrupt[_i].why) &&
                              strstr(err, "remove it"),
                      "%s", err);
}
END_TEST

START_TEST(test_oversized_is_refused) {
        const char *cp = path_in("big.cp");
        char *big = malloc(CHECKPOINT_MAX_BYTES + 10);
        ck_assert_ptr_nonnull(big);
        memset(big, ' ', CHECKPOINT_MAX_BYTES + 9);
        big[CHECKPOINT_MAX_BYTES + 9] = '\0';
        write_text(cp, big, O_TRUNC);
        free(big);
        checkpoint_state_t st;
        int found = 1;
        char err[2048] = "";
        ck_assert_int_eq(checkpoint_read(cp, &st, &found, err, sizeof(err)), SB_ERR_INVALID);
        ck_assert_msg(strstr(err, "larger than any checkpoint") && strstr(err, cp), "%s", err);
}
END_TEST

START_TEST(test_write_failure_names_the_file) {
        checkpoint_state_t st = {0};
        char err[1024] = "";
        const char *cp = path_in("no/such/dir/cp");
        ck_assert_int_eq(checkpoint_write(cp, &st, err, sizeof(err)), SB_ERR_IO);
        ck_assert_msg(strstr(err, cp) && strstr(err, "open"), "%s", err);
}
END_TEST

START_TEST(test_identity_same_file_and_appended) {
        const char *f = path_in("a.jsonl");
        write_text(f, "line one\nline two\n", O_TRUNC);
        checkpoint_identity_t id = identify(f);
        ck_assert_uint_eq(id.size, 18);
        ck_assert_uint_eq(id.head_len, 18);
        ck_assert_int_eq(matches(f, &id, 9), 1);
        ck_assert_int_eq(matches(f, &id, 18), 1);
        /* Appended to: still the same file. */
        write_text(f, "line three\n", O_APPEND);
        ck_assert_int_eq(matches(f, &id, 18), 1);
}
END_TEST

START_TEST(test_identity_detects_rewrite_replace_truncate) {
        const char *f = path_in("b.jsonl");
        write_text(f, "line one\nline two\n", O_TRUNC);
        checkpoint_identity_t id = identify(f);
        /* Rewritten in place (same inode), other first bytes. */
        write_text(f, "LINE ONE\nline two\n", O_TRUNC);
        ck_assert_int_eq(matches(f, &id, 9), 0);
        /* Truncated below the offset (same first bytes). */
        write_text(f, "line one\nline two\n", O_TRUNC);
        ck_assert_int_eq(matches(f, &id, 18), 1);
        write_text(f, "line one\n", O_TRUNC);
        ck_assert_int_eq(matches(f, &id, 18), 0);
        /* Replaced by another file of the same contents (new inode). */
        const char *g = path_in("b.new");
        write_text(f, "line one\nline two\n", O_TRUNC);
        write_text(g, "line one\nline two\n", O_TRUNC);
        ck_assert_int_eq(rename(g, f), 0);
        ck_assert_int_eq(matches(f, &id, 9), 0);
}
END_TEST

START_TEST(test_identity_hashes_only_the_head) {
        const char *f = path_in("big.jsonl");
        char *text = malloc(3 * CHECKPOINT_HEAD_BYTES + 1);
        ck_assert_ptr_nonnull(text);
        memset(text, 'x', 3 * CHECKPOINT_HEAD_BYTES);
        text[3 * CHECKPOINT_HEAD_BYTES] = '\0';
        write_text(f, text, O_TRUNC);
        checkpoint_identity_t id = identify(f);
        ck_assert_uint_eq(id.head_len, CHECKPOINT_HEAD_BYTES);
        ck_assert_uint_eq(id.size, 3 * CHECKPOINT_HEAD_BYTES);
        /* A change past the head keeps the identity; one inside it does not. */
        int fd = open(f, O_WRONLY);
        ck_assert_int_eq(pwrite(fd, "y", 1, 2 * CHECKPOINT_HEAD_BYTES), 1);
        ck_assert_int_eq(matches(f, &id, 100), 1);
        ck_assert_int_eq(pwrite(fd, "y", 1, CHECKPOINT_HEAD_BYTES - 1), 1);
        close(fd);
        ck_assert_int_eq(matches(f, &id, 100), 0);
        free(text);
}
END_TEST

int main(void) {
        Suite *s = suite_create("checkpoint");
        TCase *tc = tcase_create("checkpoint");
        tcase_add_checked_fixture(tc, setup, teardown);
        tcase_add_test(tc, test_write_then_read_back);
        tcase_add_test(tc, test_missing_is_not_found);
        tcase_add_loop_test(tc, test_corrupt_is_refused_with_name_and_advice, 0,
                            (int)(sizeof(corrupt) / sizeof(*corrupt)));
        tcase_add_test(tc, test_oversized_is_refused);
        tcase_add_test(tc, test_write_failure_names_the_file);
        tcase_add_test(tc, test_identity_same_file_and_appended);
        tcase_add_test(tc, test_identity_detects_rewrite_replace_truncate);
        tcase_add_test(tc, test_identity_hashes_only_the_head);
        suite_add_tcase(s, tc);
        return test_run_suite(s);
}

/*
 * Unit tests of the file sources' common part (file_input) through the
 * jsonl source: resuming from the checkpoint without duplicates, a file
 * whose identity changed read again, a corrupt checkpoint refused, and a
 * watched directory whose files are read once each, in name order, never
 * while being written.
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "producer_settings.h"
#include "sources/checkpoint.h"
#include "sources/file_input.h"
#include "sources/json_text.h"
#include "sources/source.h"
#include "testutil.h"

static char dir[64];
static sb_log_t *log_;

static void setup(void) {
        snprintf(dir, sizeof(dir), "/tmp/sharebus-src-XXXXXX");
        ck_assert_ptr_nonnull(mkdtemp(dir));
        TEST_CALL(sb_log_new("test", SB_LOG_ERROR, stderr, &log_, TEST_ERR));
}

static void teardown(void) {
        char cmd[128];
        snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
        ck_assert_int_eq(system(cmd), 0);
        sb_log_destroy(log_);
}

static const char *path_in(const char *name) {
        static char p[4][512];
        static int i;
        i = (i + 1) % 4;
        snprintf(p[i], sizeof(p[i]), "%s/%s", dir, name);
        return p[i];
}

static void write_text(const char *path, const char *text, int flags) {
        int fd = open(path, O_WRONLY | O_CREAT | flags, 0644);
        ck_assert_int_ge(fd, 0);
        ck_assert_int_eq(write(fd, text, strlen(text)), (ssize_t)strlen(text));
        close(fd);
}

/* Writes `text` as `name` in the watched directory the way a writer must:
 * under a temporary name first, then renamed into place. */
static void publish(const char *sub, const char *name, const char *text) {
        char tmp[600], final[600];
        snprintf(tmp, sizeof(tmp), "%s/%s/.%s.part", dir, sub, name);
        snprintf(final, sizeof(final), "%s/%s/%s", dir, sub, name);
        write_text(tmp, text, O_TRUNC);
        ck_assert_int_eq(rename(tmp, final), 0);
}

/* Opens the jsonl source on `input` with extra settings, with --drain when
 * `drain`; returns the error. */
static sb_err_t open_src_drain(const char *input, const char *extra, int drain, sb_config_t **cfg,
                               source_t **src, char *err, size_t err_size) {
        char text[2048];
        snprintf(text, sizeof(text),
                 "department = \"market\"; dataset = \"business_license\"; registry_url = \"http://x\";\n"
                 "source = \"jsonl\"; input = \"%s\"; %s\n%s\n",
                 input, extra && strstr(extra, "checkpoint_interval_ms") ? "" : "checkpoint_interval_ms = 0;",
                 extra ? extra : "");
        TEST_CALL(sb_config_load_string(text, "test.conf", sb_producer_settings, sb_producer_settings_count,
                                        cfg, TEST_ERR));
        source_options_t opts = {.department = "market", .dataset = "business_license", .drain = drain};
        *src = NULL;
        sb_err_t rc = source_new(*cfg, &opts, log_, src, err, err_size);
        if (rc) {
                sb_config_destroy(*cfg);
                *cfg = NULL;
        }
        return rc;
}

static sb_err_t open_src(const char *input, const char *extra, sb_config_t **cfg, source_t **src, char *err,
                         size_t err_size) {
        return open_src_drain(input, extra, 0, cfg, src, err, err_size);
}

static source_t *open_ok(const char *input, const char *extra, sb_config_t **cfg) {
        source_t *src = NULL;
        char err[1024] = "";
        sb_err_t rc = open_src(input, extra, cfg, &src, err, sizeof(err));
        ck_assert_msg(rc == SB_OK, "open %s: %s", input, err);
        return src;
}

static void close_src(source_t *src, sb_config_t *cfg) {
        source_destroy(src);
        sb_config_destroy(cfg);
}

/* What next() handed over, copied. */
typedef struct {
        size_t n;
        char text[64][256];
        char where[64][128];
        uint64_t pos[64];
        sb_err_t rc;
} got_t;

static void next_into(source_t *src, size_t max, got_t *g) {
        source_batch_t b;
        char err[1024] = "";
        g->rc = source_next(src, max, 0, &b, err, sizeof(err));
        ck_assert_msg(g->rc == SB_OK || g->rc == SB_ERR_NOT_FOUND, "next: %s", err);
        g->n = g->rc ? 0 : b.count;
        ck_assert_uint_le(g->n, 64);
        for (size_t i = 0; i < g->n; i++) {
                snprintf(g->text[i], sizeof(g->text[i]), "%.*s", (int)b.records[i].len, b.records[i].text);
                snprintf(g->where[i], sizeof(g->where[i]), "%s", b.records[i].where);
                g->pos[i] = b.records[i].position;
        }
}

static void ack(source_t *src, uint64_t pos) { TEST_CALL(source_ack(src, pos, TEST_ERR)); }

static const char lines5[] = "{\"n\":1}\n{\"n\":2}\n\n{\"n\":3}\r\n{\"n\":4}\n{\"n\":5}";

START_TEST(test_file_is_read_to_its_end) {
        const char *f = path_in("changes.jsonl");
        write_text(f, lines5, O_TRUNC);
        sb_config_t *cfg;
        source_t *src = open_ok(f, NULL, &cfg);
        got_t g;
        next_into(src, 64, &g);
        ck_assert_uint_eq(g.n, 5);
        ck_assert_str_eq(g.text[0], "{\"n\":1}");
        ck_assert_str_eq(g.text[2], "{\"n\":3}"); /* blank line skipped, CR dropped */
        ck_assert_str_eq(g.text[4], "{\"n\":5}"); /* no final newline */
        char want[600];
        snprintf(want, sizeof(want), "%s:4", f);
        ck_assert_str_eq(g.where[2], want);
        ck_assert_uint_eq(g.pos[0], 8);
        ck_assert_uint_eq(g.pos[4], strlen(lines5));
        for (size_t i = 1; i < g.n; i++)
                ck_assert_uint_gt(g.pos[i], g.pos[i - 1]);
        source_stats_t st;
        source_stats(src, &st);
        ck_assert_int_eq(st.bytes_total, (int64_t)strlen(lines5));
        ck_assert_int_eq(st.bytes_done, (int64_t)strlen(lines5));
        next_into(src, 64, &g);
        ck_assert_int_eq(g.rc, SB_ERR_NOT_FOUND);
        close_src(src, cfg);
}
END_TEST

START_TEST(test_resume_after_ack_without_duplicates) {
        const char *f = path_in("changes.jsonl");
        write_text(f, lines5, O_TRUNC);
        sb_config_t *cfg;
        source_t *src = open_ok(f, NULL, &cfg);
        got_t g;
        next_into(src, 2, &g);
        ck_assert_uint_eq(g.n, 2);
        ack(src, g.pos[1]);
        /* Handed over but not acknowledged: comes again (at-least-once). */
        next_into(src, 1, &g);
        ck_assert_str_eq(g.text[0], "{\"n\":3}");
        close_src(src, cfg);
        /* The default checkpoint sits beside the input. */
        char cp[600];
        snprintf(cp, sizeof(cp), "%s.sharebus-checkpoint", f);
        ck_assert_int_eq(access(cp, F_OK), 0);

        src = open_ok(f, NULL, &cfg);
        next_into(src, 64, &g);
        ck_assert_uint_eq(g.n, 3);
        ck_assert_str_eq(g.text[0], "{\"n\":3}");
        char want[600];
        snprintf(want, sizeof(want), "%s:4", f); /* line numbers count the skipped lines */
        ck_assert_str_eq(g.where[0], want);
        ck_assert_uint_gt(g.pos[0], 16);
        ack(src, g.pos[2]);
        close_src(src, cfg);

        /* Everything acknowledged: a rerun publishes nothing. */
        src = open_ok(f, NULL, &cfg);
        next_into(src, 64, &g);
        ck_assert_int_eq(g.rc, SB_ERR_NOT_FOUND);
        close_src(src, cfg);

        /* Appended to: only the new lines. */
        write_text(f, "\n{\"n\":6}\n", O_APPEND);
        src = open_ok(f, NULL, &cfg);
        next_into(src, 64, &g);
        ck_assert_uint_eq(g.n, 1);
        ck_assert_str_eq(g.text[0], "{\"n\":6}");
        close_src(src, cfg);
}
END_TEST

/* The offset the checkpoint file at `cp` holds now. */
static uint64_t stored_offset(const char *cp) {
        checkpoint_state_t st;
        int found = 0;
        TEST_CALL(checkpoint_read(cp, &st, &found, TEST_ERR));
        ck_assert_int_eq(found, 1);
        return st.offset;
}

START_TEST(test_final_ack_is_written_at_once_others_at_close) {
        const char *f = path_in("changes.jsonl");
        write_text(f, lines5, O_TRUNC);
        char cp[600];
        snprintf(cp, sizeof(cp), "%s.sharebus-checkpoint", f);
        sb_config_t *cfg;
        /* An interval no test run reaches: only close and the final ack write. */
        source_t *src = open_ok(f, "checkpoint_interval_ms = 3600000;", &cfg);
        ck_assert_uint_eq(stored_offset(cp), 0); /* written at open: the path works */
        got_t g;
        next_into(src, 2, &g);
        ack(src, g.pos[1]);
        ck_assert_uint_eq(stored_offset(cp), 0);
        next_into(src, 64, &g);
        ck_assert_uint_eq(g.n, 3);
        uint64_t final = g.pos[2];
        next_into(src, 64, &g);
        ck_assert_int_eq(g.rc, SB_ERR_NOT_FOUND);
        ack(src, final);
        ck_assert_uint_eq(stored_offset(cp), final);
        close_src(src, cfg);
        src = open_ok(f, NULL, &cfg);
        next_into(src, 64, &g);
        ck_assert_int_eq(g.rc, SB_ERR_NOT_FOUND);
        close_src(src, cfg);

        /* Not final: written at close. */
        unlink(cp);
        src = open_ok(f, "checkpoint_interval_ms = 3600000;", &cfg);
        next_into(src, 1, &g);
        ack(src, g.pos[0]);
        ck_assert_uint_eq(stored_offset(cp), 0);
        close_src(src, cfg);
        ck_assert_uint_eq(stored_offset(cp), g.pos[0]);
        src = open_ok(f, NULL, &cfg);
        next_into(src, 1, &g);
        ck_assert_str_eq(g.text[0], "{\"n\":2}");
        close_src(src, cfg);
}
END_TEST

START_TEST(test_changed_identity_restarts) {
        const char *f = path_in("changes.jsonl");
        write_text(f, lines5, O_TRUNC);
        sb_config_t *cfg;
        source_t *src = open_ok(f, NULL, &cfg);
        got_t g;
        next_into(src, 3, &g);
        ack(src, g.pos[2]);
        close_src(src, cfg);
        switch (_i) {
        case 0: /* rewritten in place */
                write_text(f, "{\"m\":1}\n{\"m\":2}\n{\"m\":3}\n{\"m\":4}\n", O_TRUNC);
                break;
        case 1: /* truncated below the checkpoint */ write_text(f, "{\"n\":1}\n", O_TRUNC); break;
        default: { /* replaced by a new file, same bytes */
                const char *g2 = path_in("new");
                write_text(g2, lines5, O_TRUNC);
                ck_assert_int_eq(rename(g2, f), 0);
        }
        }
        src = open_ok(f, NULL, &cfg);
        next_into(src, 1, &g);
        ck_assert_uint_eq(g.n, 1);
        ck_assert_str_eq(g.text[0], _i == 0 ? "{\"m\":1}" : "{\"n\":1}");
        ck_assert_uint_eq(g.pos[0], 8);
        close_src(src, cfg);
}
END_TEST

START_TEST(test_corrupt_checkpoint_is_a_clear_error) {
        const char *f = path_in("changes.jsonl");
        write_text(f, lines5, O_TRUNC);
        const char *cp = path_in("my.checkpoint");
        write_text(cp, "{\"version\":1", O_TRUNC);
        char extra[700];
        snprintf(extra, sizeof(extra), "checkpoint_file = \"%s\";", cp);
        sb_config_t *cfg;
        source_t *src;
        char err[2048] = "";
        ck_assert_int_eq(open_src(f, extra, &cfg, &src, err, sizeof(err)), SB_ERR_INVALID);
        ck_assert_msg(strstr(err, cp) && strstr(err, "corrupt") && strstr(err, "remove it"), "%s", err);
}
END_TEST

START_TEST(test_checkpoint_settings) {
        const char *f = path_in("changes.jsonl");
        write_text(f, lines5, O_TRUNC);
        sb_config_t *cfg;
        source_t *src;
        char err[1024] = "";
        /* Standard input cannot be resumed. */
        ck_assert_int_eq(open_src("-", "checkpoint_file = \"/tmp/x.cp\";", &cfg, &src, err, sizeof(err)),
                         SB_ERR_CONFIG);
        ck_assert_msg(strstr(err, "standard input"), "%s", err);
        /* "none": nothing written, nothing resumed. */
        src = open_ok(f, "checkpoint_file = \"none\";", &cfg);
        got_t g;
        next_into(src, 2, &g);
        ack(src, g.pos[1]);
        close_src(src, cfg);
        char cp[600];
        snprintf(cp, sizeof(cp), "%s.sharebus-checkpoint", f);
        ck_assert_int_ne(access(cp, F_OK), 0);
        /* A checkpoint file in a directory that does not exist: the open
         * says so, before anything is published. */
        ck_assert_int_eq(
                open_src(f, "checkpoint_file = \"/nonexistent-dir/x.cp\";", &cfg, &src, err, sizeof(err)),
                SB_ERR_IO);
        ck_assert_msg(strstr(err, "/nonexistent-dir/x.cp") && strstr(err, "set checkpoint_file"), "%s", err);
        /* An input that does not exist. */
        ck_assert_int_eq(open_src(path_in("missing.jsonl"), NULL, &cfg, &src, err, sizeof(err)), SB_ERR_IO);
        ck_assert_msg(strstr(err, "missing.jsonl"), "%s", err);
}
END_TEST

/* A source the producer does not have: the choices are named, with the
 * file and line (sharebus-producer exits 2 on it). */
START_TEST(test_unknown_source_is_refused_with_the_choices) {
        sb_config_t *cfg = NULL;
        char err[1024] = "";
        TEST_CALL(sb_config_load_string("department = \"market\"; dataset = \"business_license\";\n"
                                        "registry_url = \"http://x\";\nsource = \"kafka\";\n",
                                        "test.conf", sb_producer_settings, sb_producer_settings_count, &cfg,
                                        TEST_ERR));
        source_options_t opts = {.department = "market", .dataset = "business_license"};
        source_t *src = NULL;
        ck_assert_int_eq(source_new(cfg, &opts, log_, &src, err, sizeof(err)), SB_ERR_CONFIG);
        ck_assert_ptr_null(src);
        ck_assert_str_eq(
                err, "test.conf:3: setting 'source': 'kafka' is not one of jsonl, sqlite, csv, postgresql");
        sb_config_destroy(cfg);
}
END_TEST

START_TEST(test_overlong_line_is_rejected_not_dropped) {
        const char *f = path_in("long.jsonl");
        char *text = malloc(3000);
        ck_assert_ptr_nonnull(text);
        strcpy(text, "{\"n\":1}\n{\"s\":\"");
        memset(text + strlen(text), 'x', 1500);
        strcpy(text + 14 + 1500, "\"}\n{\"n\":3}\n");
        write_text(f, text, O_TRUNC);
        sb_config_t *cfg;
        source_t *src = open_ok(f, "max_line_bytes = 1000;", &cfg);
        got_t g;
        next_into(src, 64, &g);
        ck_assert_uint_eq(g.n, 3);
        ck_assert_str_eq(g.text[0], "{\"n\":1}");
        ck_assert_msg(strstr(g.text[1], "{\"" JSON_TEXT_ERROR_MEMBER "\":") == g.text[1] &&
                              strstr(g.text[1], "longer than 1000 bytes") &&
                              strstr(g.text[1], "long.jsonl:2"),
                      "%s", g.text[1]);
        ck_assert_str_eq(g.text[2], "{\"n\":3}");
        ck_assert_uint_eq(g.pos[1], 8 + 1500 + 6 + 3);
        free(text);
        close_src(src, cfg);
}
END_TEST

/* ---- directories ---- */

static void mk(const char *sub) { ck_assert_int_eq(mkdir(path_in(sub), 0755), 0); }

START_TEST(test_directory_reads_new_files_once_in_order) {
        mk("in");
        publish("in", "b.jsonl", "{\"f\":\"b1\"}\n{\"f\":\"b2\"}\n");
        publish("in", "a.jsonl", "{\"f\":\"a1\"}\n");
        /* Not read: being written (temporary name), hidden, another suffix. */
        write_text(path_in("in/c.jsonl.part"), "{\"f\":\"partial\"}\n", O_TRUNC);
        write_text(path_in("in/.d.jsonl"), "{\"f\":\"hidden\"}\n", O_TRUNC);
        write_text(path_in("in/notes.txt"), "{\"f\":\"txt\"}\n", O_TRUNC);
        sb_config_t *cfg;
        source_t *src = open_ok(path_in("in"), NULL, &cfg);
        got_t g;
        next_into(src, 64, &g);
        ck_assert_uint_eq(g.n, 3);
        ck_assert_str_eq(g.text[0], "{\"f\":\"a1\"}");
        ck_assert_str_eq(g.text[1], "{\"f\":\"b1\"}");
        ck_assert_str_eq(g.text[2], "{\"f\":\"b2\"}");
        ck_assert_msg(strstr(g.where[0], "in/a.jsonl:1") && strstr(g.where[2], "in/b.jsonl:2"), "%s %s",
                      g.where[0], g.where[2]);
        ck_assert_uint_gt(g.pos[1], g.pos[0]);
        ck_assert_uint_gt(g.pos[2], g.pos[1]);
        /* A watched directory is never finished. */
        next_into(src, 64, &g);
        ck_assert_int_eq(g.rc, SB_OK);
        ck_assert_uint_eq(g.n, 0);
        /* The partial file is renamed into place once complete: read. */
        ck_assert_int_eq(rename(path_in("in/c.jsonl.part"), path_in("in/c.jsonl")), 0);
        next_into(src, 64, &g);
        ck_assert_uint_eq(g.n, 1);
        ck_assert_str_eq(g.text[0], "{\"f\":\"partial\"}");
        uint64_t last = g.pos[0];
        /* A late file that sorts before the files read is not read. */
        publish("in", "a0.jsonl", "{\"f\":\"late\"}\n");
        publish("in", "d.jsonl", "{\"f\":\"d1\"}\n");
        next_into(src, 64, &g);
        ck_assert_uint_eq(g.n, 1);
        ck_assert_str_eq(g.text[0], "{\"f\":\"d1\"}");
        ck_assert_uint_gt(g.pos[0], last);
        ack(src, g.pos[0]);
        close_src(src, cfg);

        /* Restarted: nothing read twice; a new file is. */
        src = open_ok(path_in("in"), NULL, &cfg);
        next_into(src, 64, &g);
        ck_assert_int_eq(g.rc, SB_OK);
        ck_assert_uint_eq(g.n, 0);
        publish("in", "e.jsonl", "{\"f\":\"e1\"}\n");
        next_into(src, 64, &g);
        ck_assert_uint_eq(g.n, 1);
        ck_assert_str_eq(g.text[0], "{\"f\":\"e1\"}");
        close_src(src, cfg);
}
END_TEST

START_TEST(test_directory_resumes_inside_a_file) {
        mk("in");
        publish("in", "1.jsonl", "{\"f\":1}\n{\"f\":2}\n");
        publish("in", "2.jsonl", "{\"f\":3}\n{\"f\":4}\n{\"f\":5}\n");
        sb_config_t *cfg;
        source_t *src = open_ok(path_in("in"), NULL, &cfg);
        got_t g;
        next_into(src, 4, &g);
        ck_assert_uint_eq(g.n, 4);
        ack(src, g.pos[3]); /* {"f":4}, inside 2.jsonl */
        close_src(src, cfg);
        src = open_ok(path_in("in"), NULL, &cfg);
        next_into(src, 64, &g);
        ck_assert_uint_eq(g.n, 1);
        ck_assert_str_eq(g.text[0], "{\"f\":5}");
        ck_assert_msg(strstr(g.where[0], "2.jsonl:3"), "%s", g.where[0]);
        close_src(src, cfg);

        /* Acknowledged nothing this time: the same record again. */
        src = open_ok(path_in("in"), NULL, &cfg);
        next_into(src, 64, &g);
        ck_assert_uint_eq(g.n, 1);
        ck_assert_str_eq(g.text[0], "{\"f\":5}");
        close_src(src, cfg);

        /* The file of the checkpoint was replaced: read again from its start. */
        publish("in", "2.jsonl", "{\"f\":30}\n{\"f\":40}\n");
        src = open_ok(path_in("in"), NULL, &cfg);
        next_into(src, 64, &g);
        ck_assert_uint_eq(g.n, 2);
        ck_assert_str_eq(g.text[0], "{\"f\":30}");
        close_src(src, cfg);
}
END_TEST

START_TEST(test_directory_empty_files_and_acks_across_files) {
        mk("in");
        publish("in", "1.jsonl", "{\"f\":1}\n");
        publish("in", "2.jsonl", "");
        publish("in", "3.jsonl", "\n\n");
        publish("in", "4.jsonl", "{\"f\":4}\n");
        sb_config_t *cfg;
        source_t *src = open_ok(path_in("in"), NULL, &cfg);
        got_t g;
        next_into(src, 64, &g);
        ck_assert_uint_eq(g.n, 2);
        /* One ack for the last covers the files before it. */
        ack(src, g.pos[1]);
        close_src(src, cfg);
        src = open_ok(path_in("in"), NULL, &cfg);
        next_into(src, 64, &g);
        ck_assert_uint_eq(g.n, 0);
        close_src(src, cfg);
}
END_TEST

/* --drain: the files there are read, then the directory is finished
 * (as a file is at its end) instead of watched. */
START_TEST(test_directory_with_drain_is_finished_once_read) {
        mk("in");
        publish("in", "1.jsonl", "{\"f\":1}\n");
        publish("in", "2.jsonl", "{\"f\":2}\n");
        sb_config_t *cfg;
        source_t *src = NULL;
        char err[1024] = "";
        ck_assert_int_eq(open_src_drain(path_in("in"), NULL, 1, &cfg, &src, err, sizeof(err)), SB_OK);
        got_t g;
        next_into(src, 64, &g);
        ck_assert_uint_eq(g.n, 2);
        source_batch_t b;
        ck_assert_int_eq(source_next(src, 64, 60000, &b, err, sizeof(err)), SB_ERR_NOT_FOUND);
        ck_assert_msg(strstr(err, "no new file (--drain)"), "%s", err);
        ack(src, g.pos[1]);
        close_src(src, cfg);
        /* Restarted with it: nothing new, finished at once. */
        ck_assert_int_eq(open_src_drain(path_in("in"), NULL, 1, &cfg, &src, err, sizeof(err)), SB_OK);
        ck_assert_int_eq(source_next(src, 64, 60000, &b, err, sizeof(err)), SB_ERR_NOT_FOUND);
        close_src(src, cfg);
}
END_TEST

START_TEST(test_directory_checkpoint_of_a_file_is_refused) {
        const char *f = path_in("x.jsonl");
        write_text(f, lines5, O_TRUNC);
        const char *cp = path_in("shared.cp");
        char extra[700];
        snprintf(extra, sizeof(extra), "checkpoint_file = \"%s\";", cp);
        sb_config_t *cfg;
        source_t *src = open_ok(f, extra, &cfg);
        got_t g;
        next_into(src, 1, &g);
        ack(src, g.pos[0]);
        close_src(src, cfg);
        mk("in");
        char err[1024] = "";
        ck_assert_int_eq(open_src(path_in("in"), extra, &cfg, &src, err, sizeof(err)), SB_ERR_CONFIG);
        ck_assert_msg(strstr(err, cp) && strstr(err, "directory"), "%s", err);
}
END_TEST

START_TEST(test_position_bits) {
        /* Positions of a directory: the ordinal above FILE_INPUT_OFFSET_BITS. */
        mk("in");
        publish("in", "a.jsonl", "{\"f\":1}\n");
        publish("in", "b.jsonl", "{\"f\":2}\n");
        sb_config_t *cfg;
        source_t *src = open_ok(path_in("in"), NULL, &cfg);
        got_t g;
        next_into(src, 64, &g);
        ck_assert_uint_eq(g.n, 2);
        ck_assert_uint_eq(g.pos[0], (UINT64_C(1) << FILE_INPUT_OFFSET_BITS) | 8);
        ck_assert_uint_eq(g.pos[1], (UINT64_C(2) << FILE_INPUT_OFFSET_BITS) | 8);
        close_src(src, cfg);
}
END_TEST

START_TEST(test_stdin_is_read_once_without_checkpoint) {
        const char *f = path_in("piped.jsonl");
        write_text(f, lines5, O_TRUNC);
        ck_assert_ptr_nonnull(freopen(f, "r", stdin));
        sb_config_t *cfg;
        source_t *src = open_ok("-", NULL, &cfg);
        got_t g;
        next_into(src, 64, &g);
        ck_assert_uint_eq(g.n, 5);
        ck_assert_str_eq(g.where[0], "stdin:1");
        ack(src, g.pos[4]);
        next_into(src, 64, &g);
        ck_assert_int_eq(g.rc, SB_ERR_NOT_FOUND);
        close_src(src, cfg);
        ck_assert_int_ne(access("-.sharebus-checkpoint", F_OK), 0);
}
END_TEST

START_TEST(test_directory_stops_opening_files_until_acks_come) {
        mk("in");
        enum { FILES = FILE_INPUT_MAX_PENDING + 6 };
        for (int i = 0; i < FILES; i++) {
                char name[32], line[32];
                snprintf(name, sizeof(name), "%05d.jsonl", i);
                snprintf(line, sizeof(line), "{\"f\":%d}\n", i);
                publish("in", name, line);
        }
        sb_config_t *cfg;
        source_t *src = open_ok(path_in("in"), NULL, &cfg);
        got_t g;
        size_t total = 0;
        uint64_t last = 0;
        do {
                next_into(src, 64, &g);
                total += g.n;
                if (g.n)
                        last = g.pos[g.n - 1];
        } while (g.n);
        /* Bounded: no more files open than FILE_INPUT_MAX_PENDING unacknowledged. */
        ck_assert_uint_eq(total, FILE_INPUT_MAX_PENDING);
        ack(src, last);
        next_into(src, 64, &g);
        ck_assert_uint_eq(g.n, 6);
        char want[32];
        snprintf(want, sizeof(want), "{\"f\":%d}", FILES - 1);
        ck_assert_str_eq(g.text[5], want);
        close_src(src, cfg);
}
END_TEST

int main(void) {
        Suite *s = suite_create("source_files");
        TCase *tc = tcase_create("file");
        tcase_add_checked_fixture(tc, setup, teardown);
        tcase_add_test(tc, test_file_is_read_to_its_end);
        tcase_add_test(tc, test_resume_after_ack_without_duplicates);
        tcase_add_test(tc, test_final_ack_is_written_at_once_others_at_close);
        tcase_add_loop_test(tc, test_changed_identity_restarts, 0, 3);
        tcase_add_test(tc, test_corrupt_checkpoint_is_a_clear_error);
        tcase_add_test(tc, test_checkpoint_settings);
        tcase_add_test(tc, test_overlong_line_is_rejected_not_dropped);
        tcase_add_test(tc, test_unknown_source_is_refused_with_the_choices);
        tcase_add_test(tc, test_stdin_is_read_once_without_checkpoint);
        suite_add_tcase(s, tc);
        tc = tcase_create("directory");
        tcase_add_checked_fixture(tc, setup, teardown);
        tcase_add_test(tc, test_directory_reads_new_files_once_in_order);
        tcase_add_test(tc, test_directory_resumes_inside_a_file);
        tcase_add_test(tc, test_directory_empty_files_and_acks_across_files);
        tcase_add_test(tc, test_directory_with_drain_is_finished_once_read);
        tcase_add_test(tc, test_directory_checkpoint_of_a_file_is_refused);
        tcase_add_test(tc, test_position_bits);
        tcase_add_test(tc, test_directory_stops_opening_files_until_acks_come);
        suite_add_tcase(s, tc);
        return test_run_suite(s);
}

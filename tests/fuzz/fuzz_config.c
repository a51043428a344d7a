/*
 * fuzz_config: a program's configuration file, loaded from text
 * (sb_config_load_string) against the real settings table of each program,
 * then read back as the programs read it: every setting by its type, the
 * trees (the subscriber's transforms), the `kafka` pass-through, the lines;
 * for sharebus-subscriber its extra check, for sharebus-topics the integer
 * check on the text and the topic declarations (topics_file_read) and
 * the principals' (topics_file_read_principals).
 *
 * The first input byte picks the table (modulo 5), the rest is the file.
 * A file with an `@include` directive is skipped: libconfig then reads the
 * named file (/dev/zero never ends), and a configuration file is the
 * operator's own input, whose includes are meant to be followed.
 *
 * Invariants: a loaded config answers every setting of its table (a
 * required one with a value) and names a line for each setting it holds; a
 * refused one says why.
 */
#include <jansson.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "fuzzutil.h"
#include "lag/lag_settings.h"
#include "producer_settings.h"
#include "regd_settings.h"
#include "sb_config.h"
#include "subscriber_settings.h"
#include "topics/topics_file.h"
#include "topics/topics_set.h"

typedef struct {
        const sb_setting_t *table;
        const size_t *count;
} table_t;

static const table_t tables[] = {
        {sb_producer_settings, &sb_producer_settings_count},
        {sb_subscriber_settings, &sb_subscriber_settings_count},
        {sb_lag_settings, &sb_lag_settings_count},
        {regd_settings, &regd_settings_count},
        {sb_topics_settings, &sb_topics_settings_count},
};
#define N_TABLES (sizeof(tables) / sizeof(*tables))

static int has_include(const char *text) {
        for (const char *p = strchr(text, '@'); p; p = strchr(p + 1, '@'))
                if (strncasecmp(p + 1, "include", 7) == 0)
                        return 1;
        return 0;
}

static void read_back(const sb_config_t *cfg, const table_t *t) {
        char err[1024];
        for (size_t i = 0; i < *t->count; i++) {
                const sb_setting_t *st = &t->table[i];
                int line = sb_config_line(cfg, st->name);
                if (line < 0)
                        fuzz_fail("setting '%s' on line %d", st->name, line);
                switch (st->type) {
                case SB_SETTING_STRING: {
                        const char *v = sb_config_string(cfg, st->name);
                        if (st->required && !v)
                                fuzz_fail("required setting '%s' loaded without a value", st->name);
                        const char *const choices[] = {"a", "b", NULL};
                        (void)sb_config_check_choice(cfg, st->name, choices, err, sizeof(err));
                        break;
                }
                case SB_SETTING_INT: {
                        long long v = sb_config_int(cfg, st->name);
                        if (line && (v < st->min || v > st->max))
                                fuzz_fail("setting '%s' = %lld outside %lld..%lld", st->name, v, st->min,
                                          st->max);
                        break;
                }
                case SB_SETTING_BOOL: (void)sb_config_bool(cfg, st->name); break;
                case SB_SETTING_TREE: {
                        const json_t *tree = sb_config_tree(cfg, st->name);
                        if (line && !tree)
                                fuzz_fail("tree setting '%s' set on line %d without a tree", st->name, line);
                        if (json_is_object(tree))
                                (void)sb_config_tree_line(tree);
                        break;
                }
                }
        }
        for (size_t i = 0; i < sb_config_kafka_count(cfg); i++) {
                const char *name = sb_config_kafka_name(cfg, i), *value = sb_config_kafka_value(cfg, i);
                if (!name || !value || sb_config_kafka_line(cfg, i) <= 0)
                        fuzz_fail("kafka property %zu without a name, value or line", i);
                if (!sb_config_kafka_get(cfg, name))
                        fuzz_fail("kafka property '%s' listed but not found", name);
        }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        if (size < 1)
                return 0;
        const table_t *t = &tables[data[0] % N_TABLES];
        char *text = fuzz_strndup(data + 1, size - 1);
        char err[1024] = "";
        sb_config_t *cfg = NULL;
        if (strlen(text) != size - 1 || has_include(text)) {
                /* libconfig reads text up to a NUL, as from a file; includes: see above. */
                free(text);
                return 0;
        }
        sb_err_t rc = sb_config_load_string(text, "fuzz.conf", t->table, *t->count, &cfg, err, sizeof(err));
        if (rc) {
                if (cfg || !*err)
                        fuzz_fail("sb_config_load_string failed (%d) with a config or without a reason",
                                  (int)rc);
                free(text);
                return 0;
        }
        read_back(cfg, t);
        if (t->table == sb_subscriber_settings)
                (void)sb_subscriber_settings_check(cfg, err, sizeof(err));
        if (t->table == sb_topics_settings) {
                topics_set_t *set = NULL;
                (void)sb_config_check_integers(text, "fuzz.conf", err, sizeof(err));
                err[0] = '\0';
                if (topics_file_read(cfg, data[0] & 1 ? 3 : 0, &set, err, sizeof(err)) == SB_OK) {
                        topics_acl_set_t *acls = NULL;
                        size_t n = 0;
                        err[0] = '\0';
                        if (topics_file_read_principals(cfg, set, &acls, &n, err, sizeof(err)) == SB_OK)
                                topics_acl_set_destroy(acls);
                        else if (acls || !*err)
                                fuzz_fail(
                                        "topics_file_read_principals failed with a set or without a reason");
                        topics_set_destroy(set);
                } else if (set || !*err) {
                        fuzz_fail("topics_file_read failed with a set or without a reason");
                }
        }
        sb_config_destroy(cfg);
        free(text);
        return 0;
}

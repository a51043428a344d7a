/*
 * sharebus-sample: prints sample change events (JSON lines) for one of the
 * sample datasets, with valid check characters, for demos, tests and
 * benchmarks.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sample.h"
#include "sb_man.h"

static int parse_ulong(const char *s, unsigned long long *out) {
        char *end;
        errno = 0;
        *out = strtoull(s, &end, 10);
        return errno == 0 && end != s && *end == 0 && s[0] != '-';
}

/* For the manual page (--help-man). */
static void print_man(void) {
        static const char *const synopsis[] = {"--dataset TOPIC [--count N] [--keys K] [--seed S]", NULL};
        static const sb_option_t options[] = {
                {"--dataset", "TOPIC", "market.business_license, civil.resident or tax.taxpayer", NULL},
                {"--count", "N", "how many change events to print (default 100)", NULL},
                {"--keys", "K", "how many records they change, above 0 (default 30)", NULL},
                {"--seed", "S", "the generator's seed: the same seed, the same events (default 1)", NULL},
        };
        static const sb_program_t prog = {
                "sharebus-sample",
                "Prints sample change events as JSON lines, for demos, tests and benchmarks.  Their "
                "identifiers have valid check characters (unified social credit codes per GB 32100-2015, "
                "resident identity numbers per GB 11643-1999); sharebus-producer reads these lines.",
                NULL,
                0,
                options,
                sizeof(options) / sizeof(*options)};
        sb_man_print(stdout, &prog, synopsis);
}

int main(int argc, char **argv) {
        const char *dataset = NULL;
        unsigned long long count = 100, keys = 30, seed = 1;
        for (int i = 1; i < argc; i++) {
                int has = i + 1 < argc;
                if (strcmp(argv[i], "--help") == 0) {
                        printf("Usage: sharebus-sample --dataset TOPIC [--count N] [--keys K] [--seed S]\n\n"
                               "Prints N sample change events over K records of TOPIC as JSON lines:\n"
                               "market.business_license, civil.resident or tax.taxpayer.\n"
                               "Defaults: --count 100 --keys 30 --seed 1.\n");
                        return 0;
                } else if (strcmp(argv[i], "--help-man") == 0) {
                        print_man();
                        return 0;
                } else if (strcmp(argv[i], "--version") == 0) {
                        printf("sharebus-sample %s\n", SB_VERSION);
                        return 0;
                } else if (has && strcmp(argv[i], "--dataset") == 0) {
                        dataset = argv[++i];
                } else if (has && (strcmp(argv[i], "--count") == 0 || strcmp(argv[i], "--keys") == 0 ||
                                   strcmp(argv[i], "--seed") == 0)) {
                        unsigned long long *target = argv[i][2] == 'c'   ? &count
                                                     : argv[i][2] == 'k' ? &keys
                                                                         : &seed;
                        if (!parse_ulong(argv[i + 1], target) || (target == &keys && keys == 0)) {
                                fprintf(stderr, "sharebus-sample: %s needs a number%s\n", argv[i],
                                        target == &keys ? " above 0" : "");
                                return 2;
                        }
                        i++;
                } else {
                        fprintf(stderr, "sharebus-sample: bad argument '%s' (see --help)\n", argv[i]);
                        return 2;
                }
        }
        if (!dataset) {
                fprintf(stderr, "sharebus-sample: --dataset is required (see --help)\n");
                return 2;
        }
        sb_sample_t *s;
        char errstr[256];
        sb_err_t err = sb_sample_new(dataset, seed, (size_t)keys, &s, errstr, sizeof(errstr));
        if (err) {
                fprintf(stderr, "sharebus-sample: %s\n", errstr);
                return err == SB_ERR_NOMEM ? 1 : 2;
        }
        for (unsigned long long n = 0; n < count; n++) {
                char *line = sb_sample_next(s);
                if (!line) {
                        fprintf(stderr, "sharebus-sample: out of memory\n");
                        sb_sample_destroy(s);
                        return 1;
                }
                puts(line);
                free(line);
        }
        sb_sample_destroy(s);
        return fflush(stdout) == 0 ? 0 : 1;
}

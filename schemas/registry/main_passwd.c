/*
 * sharebus-passwd: makes a line of sharebus-registry's users file.
 *
 *   sharebus-passwd [--method yescrypt|sha512] NAME ROLE [DEPARTMENT] < password
 *   sharebus-passwd --cert-only NAME ROLE [DEPARTMENT]
 *
 * The password is the first line of standard input; on a terminal it is
 * asked for twice without echo.  The line goes to standard output.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#include "regd_users.h"
#include "sb_man.h"

#define PROGRAM "sharebus-passwd"
#define MAX_PASSWORD 1024

static void usage(FILE *out) {
        fprintf(out,
                "Usage: %s [--method yescrypt|sha512] NAME ROLE [DEPARTMENT] < password\n"
                "       %s --cert-only NAME ROLE [DEPARTMENT]\n"
                "       %s --help | --version\n"
                "Prints a line of sharebus-registry's users file (name:role:department:hash).\n"
                "ROLE is department (DEPARTMENT required: it may write the subjects of\n"
                "<DEPARTMENT>.* topics), operator (everything, also config and mode) or reader.\n"
                "The password is the first line of standard input (asked twice on a terminal);\n"
                "--cert-only admits NAME only with a client certificate whose CN is NAME.\n",
                PROGRAM, PROGRAM, PROGRAM);
}

/* For the manual page (--help-man). */
static void print_man(void) {
        static const char *const synopsis[] = {"[--method yescrypt|sha512] NAME ROLE [DEPARTMENT] < password",
                                               "--cert-only NAME ROLE [DEPARTMENT]", NULL};
        static const sb_option_t options[] = {
                {"--method", "yescrypt|sha512", "how the password is hashed (default yescrypt)", NULL},
                {"--cert-only", NULL,
                 "no password: NAME is admitted only with a client certificate whose CN is NAME", NULL},
        };
        static const sb_program_t prog = {
                PROGRAM,
                "Prints a line of sharebus-registry's users file (name:role:department:hash).  ROLE is "
                "department (DEPARTMENT required: it may write the subjects of <DEPARTMENT>.* topics), "
                "operator (everything, also config and mode) or reader.  The password is the first line of "
                "standard input; on a terminal it is asked for twice, without echo.",
                NULL,
                0,
                options,
                sizeof(options) / sizeof(*options)};
        sb_man_print(stdout, &prog, synopsis);
}

/* Reads one line into buf; with a terminal, prompts on stderr without echo.
 * Returns 0, or -1 with a message printed. */
static int read_password(const char *prompt, char *buf, size_t size) {
        int tty = isatty(STDIN_FILENO);
        struct termios old, quiet;
        if (tty) {
                fprintf(stderr, "%s", prompt);
                if (tcgetattr(STDIN_FILENO, &old) == 0) {
                        quiet = old;
                        quiet.c_lflag &= ~(tcflag_t)ECHO;
                        tcsetattr(STDIN_FILENO, TCSAFLUSH, &quiet);
                } else {
                        tty = 0;
                }
        }
        char *got = fgets(buf, (int)size, stdin);
        if (tty) {
                tcsetattr(STDIN_FILENO, TCSAFLUSH, &old);
                fprintf(stderr, "\n");
        }
        if (!got) {
                fprintf(stderr, "%s: no password on standard input\n", PROGRAM);
                return -1;
        }
        size_t len = strlen(buf);
        if (len == size - 1 && buf[len - 1] != '\n') {
                fprintf(stderr, "%s: password longer than %d bytes\n", PROGRAM, (int)size - 2);
                return -1;
        }
        while (len && (buf[len - 1] == '\n' || buf[len - 1] == '\r'))
                buf[--len] = '\0';
        if (!len) {
                fprintf(stderr, "%s: empty password\n", PROGRAM);
                return -1;
        }
        return 0;
}

int main(int argc, char **argv) {
        static const struct option opts[] = {
                {"method", required_argument, NULL, 'm'},
                {"cert-only", no_argument, NULL, 'c'},
                {"help", no_argument, NULL, 'h'},
                {"version", no_argument, NULL, 'V'},
                {NULL, 0, NULL, 0},
        };
        const char *method = NULL;
        int cert_only = 0, opt, rc = 1;
        char password[MAX_PASSWORD + 2], again[MAX_PASSWORD + 2], line[4096], errstr[512];

        if (argc == 2 && strcmp(argv[1], "--help-man") == 0) {
                print_man();
                return 0;
        }
        while ((opt = getopt_long(argc, argv, "m:chV", opts, NULL)) != -1) {
                switch (opt) {
                case 'm': method = optarg; break;
                case 'c': cert_only = 1; break;
                case 'h': usage(stdout); return 0;
                case 'V': printf("%s %s\n", PROGRAM, SB_VERSION); return 0;
                default: usage(stderr); return 2;
                }
        }
        if (argc - optind < 2 || argc - optind > 3) {
                usage(stderr);
                return 2;
        }
        const char *name = argv[optind], *role = argv[optind + 1];
        const char *department = argc - optind == 3 ? argv[optind + 2] : "";
        /* Checked before a password is asked for. */
        if (regd_users_make_line(name, role, department, NULL, method, line, sizeof(line), errstr,
                                 sizeof(errstr))) {
                fprintf(stderr, "%s: %s\n", PROGRAM, errstr);
                return 2;
        }
        if (!cert_only) {
                if (read_password("Password: ", password, sizeof(password)))
                        goto out;
                if (isatty(STDIN_FILENO)) {
                        if (read_password("Again: ", again, sizeof(again)))
                                goto out;
                        if (strcmp(password, again) != 0) {
                                fprintf(stderr, "%s: the passwords differ\n", PROGRAM);
                                goto out;
                        }
                }
                if (regd_users_make_line(name, role, department, password, method, line, sizeof(line), errstr,
                                         sizeof(errstr))) {
                        fprintf(stderr, "%s: %s\n", PROGRAM, errstr);
                        goto out;
                }
        }
        if (printf("%s\n", line) < 0 || fflush(stdout) != 0) {
                fprintf(stderr, "%s: standard output: %s\n", PROGRAM, strerror(errno));
                goto out;
        }
        rc = 0;
out:
        explicit_bzero(password, sizeof(password));
        explicit_bzero(again, sizeof(again));
        return rc;
}

#include "sb_man.h"

#include <string.h>

#ifndef SB_VERSION
#define SB_VERSION "unknown"
#endif

/* The daemons `make install` installs a systemd unit template for (the
 * systemd/ folder beside each); instance NAME of sharebus-X@.service reads
 * /etc/sharebus/X/NAME.conf.  tests/install.sh checks this list against
 * the units installed. */
static const char *const daemons[] = {"sharebus-registry", "sharebus-producer", "sharebus-subscriber",
                                      "sharebus-lag"};
/* Every program's page, for SEE ALSO (tests/install.sh checks that each
 * installed page is named here and that each name here is installed). */
static const char *const programs[] = {"sharebus-lag",      "sharebus-passwd", "sharebus-producer",
                                       "sharebus-registry", "sharebus-sample", "sharebus-subscriber",
                                       "sharebus-topics"};
#define N_OF(a) (sizeof(a) / sizeof(*(a)))
#define NAME_PREFIX "sharebus-"

/* The length of the UTF-8 sequence at s (at most n bytes) with its code
 * point in *cp; 0 for an invalid, overlong or surrogate sequence. */
static size_t utf8_decode(const unsigned char *s, size_t n, unsigned long *cp) {
        unsigned char c = s[0];
        size_t len;
        unsigned long v, min;
        if (c >= 0xc2 && c <= 0xdf) {
                len = 2, v = c & 0x1fu, min = 0x80;
        } else if (c >= 0xe0 && c <= 0xef) {
                len = 3, v = c & 0x0fu, min = 0x800;
        } else if (c >= 0xf0 && c <= 0xf4) {
                len = 4, v = c & 0x07u, min = 0x10000;
        } else {
                return 0;
        }
        if (len > n)
                return 0;
        for (size_t i = 1; i < len; i++) {
                if ((s[i] & 0xc0) != 0x80)
                        return 0;
                v = (v << 6) | (s[i] & 0x3fu);
        }
        if (v < min || v > 0x10ffff || (v >= 0xd800 && v <= 0xdfff))
                return 0;
        *cp = v;
        return len;
}

/* sb_man_escape of the first n bytes of text. */
static void escape_n(FILE *out, const char *text, size_t n, int line_start) {
        const unsigned char *p = (const unsigned char *)text, *end = p + n;
        while (p < end) {
                unsigned char c = *p;
                if (c == '\n') {
                        fputc('\n', out);
                        line_start = 1;
                        p++;
                        continue;
                }
                if (c < 0x20 || c == 0x7f)
                        c = ' ';
                if (line_start && (c == '.' || c == '\'' || c == ' '))
                        fputs("\\&", out);
                line_start = 0;
                if (c < 0x80) {
                        if (c == '\\')
                                fputs("\\e", out);
                        else if (c == '-')
                                fputs("\\-", out);
                        else
                                fputc(c, out);
                        p++;
                        continue;
                }
                unsigned long cp;
                size_t len = utf8_decode(p, (size_t)(end - p), &cp);
                if (len) {
                        fprintf(out, "\\[u%04lX]", cp);
                        p += len;
                } else {
                        fputc('?', out);
                        p++;
                }
        }
}

void sb_man_escape(FILE *out, const char *text, int line_start) {
        escape_n(out, text, strlen(text), line_start);
}

static void font(FILE *out, char f, const char *text) {
        fprintf(out, "\\f%c", f);
        sb_man_escape(out, text, 0);
        fputs("\\fR", out);
}

/* A usage text: words that begin with '-' in bold, upper-case words
 * (FILE, NAME) in italics, the rest as it is. */
static void usage_text(FILE *out, const char *text) {
        static const char word_chars[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-";
        const char *p = text;
        while (*p) {
                size_t n = strspn(p, word_chars);
                if (!n) {
                        n = strcspn(p, word_chars);
                        escape_n(out, p, n, 0);
                        p += n;
                        continue;
                }
                size_t upper = 0, lower = 0;
                for (size_t i = 0; i < n; i++) {
                        upper += p[i] >= 'A' && p[i] <= 'Z';
                        lower += p[i] >= 'a' && p[i] <= 'z';
                }
                const char *f = p[0] == '-' ? "\\fB" : upper && !lower ? "\\fI" : NULL;
                if (f)
                        fputs(f, out);
                escape_n(out, p, n, 0);
                if (f)
                        fputs("\\fR", out);
                p += n;
        }
}

/* The index of `name` in daemons, or -1. */
static int daemon_index(const char *name) {
        for (size_t i = 0; i < N_OF(daemons); i++)
                if (strcmp(daemons[i], name) == 0)
                        return (int)i;
        return -1;
}

static void print_head(FILE *out, const sb_program_t *prog, const char *const *synopsis) {
        fprintf(out,
                ".\\\" The manual page of %s, generated by `%s --help-man` from its\n"
                ".\\\" table of settings and options: edit those, not this.\n",
                prog->name, prog->name);
        fputs(".TH \"", out);
        char title[128];
        snprintf(title, sizeof(title), "%s", prog->name);
        for (char *p = title; *p; p++)
                if (*p >= 'a' && *p <= 'z')
                        *p = (char)(*p - 'a' + 'A');
        sb_man_escape(out, title, 0);
        fputs("\" 1 \"\" \"sharebus " SB_VERSION "\" \"sharebus manual\"\n"
              /* Names and values must not be hyphenated, nor spread out. */
              ".nh\n.ad l\n.SH NAME\n",
              out);
        sb_man_escape(out, prog->name, 1);
        fputs(" \\- ", out);
        /* The summary's first sentence, without its full stop. */
        const char *sum = prog->summary, *stop = sum + strlen(sum);
        for (const char *p = sum; *p; p++)
                if (p[0] == '.' &&
                    (!p[1] || (p[1] == ' ' && (p[2] == ' ' || (p[2] >= 'A' && p[2] <= 'Z'))))) {
                        stop = p;
                        break;
                }
        escape_n(out, sum, (size_t)(stop - sum), 0);
        fputs("\n.SH SYNOPSIS\n", out);
        if (synopsis) {
                for (size_t i = 0; synopsis[i]; i++) {
                        fputs(i ? ".br\n" : "", out);
                        font(out, 'B', prog->name);
                        fputc(' ', out);
                        usage_text(out, synopsis[i]);
                        fputc('\n', out);
                }
                fputs(".br\n", out);
                font(out, 'B', prog->name);
                fputs(" \\fB\\-\\-help\\fR | \\fB\\-\\-help\\-man\\fR | \\fB\\-\\-version\\fR\n", out);
        } else {
                font(out, 'B', prog->name);
                fputc(' ', out);
                usage_text(out, "--config FILE");
                for (size_t i = 0; i < prog->n_options; i++) {
                        fputs(" [", out);
                        font(out, 'B', prog->options[i].name);
                        if (prog->options[i].arg) {
                                fputc(' ', out);
                                font(out, 'I', prog->options[i].arg);
                        }
                        fputc(']', out);
                }
                fputs("\n.br\n", out);
                font(out, 'B', prog->name);
                fputs(" \\fB\\-\\-help\\fR | \\fB\\-\\-help\\-markdown\\fR | \\fB\\-\\-help\\-man\\fR |"
                      " \\fB\\-\\-version\\fR\n",
                      out);
        }
        fputs(".SH DESCRIPTION\n", out);
        sb_man_escape(out, prog->summary, 1);
        fputc('\n', out);
        if (!synopsis) {
                fputs(".PP\n", out);
                font(out, 'B', prog->name);
                fputs(" reads its settings from the file given with \\fB\\-\\-config\\fR (see\n"
                      "\\fBCONFIGURATION\\fR) and logs to standard error.  A bad configuration stops it\n"
                      "at the start with a message that names the file, the line and the setting.\n",
                      out);
        }
}

static void print_options(FILE *out, const sb_program_t *prog, int with_config) {
        fputs(".SH OPTIONS\n", out);
        if (with_config)
                fputs(".TP\n\\fB\\-c\\fR \\fIFILE\\fR, \\fB\\-\\-config\\fR \\fIFILE\\fR\n"
                      "The configuration file to run with (see \\fBCONFIGURATION\\fR).\n",
                      out);
        for (size_t i = 0; i < prog->n_options; i++) {
                const sb_option_t *o = &prog->options[i];
                fputs(".TP\n", out);
                font(out, 'B', o->name);
                if (o->arg) {
                        fputc(' ', out);
                        font(out, 'I', o->arg);
                }
                fputc('\n', out);
                sb_man_escape(out, o->help, 1);
                fputc('\n', out);
        }
        /* A program of its own command line (with_config 0) may take no short forms. */
        fprintf(out, ".TP\n%s\\fB\\-\\-help\\fR\nPrint the usage%s, then exit.\n",
                with_config ? "\\fB\\-h\\fR, " : "", with_config ? " and the settings" : "");
        if (with_config)
                fputs(".TP\n\\fB\\-\\-help\\-markdown\\fR\nPrint the settings as a Markdown table (the "
                      "configuration reference of the README), then exit.\n",
                      out);
        fprintf(out,
                ".TP\n\\fB\\-\\-help\\-man\\fR\nPrint this manual page (man(7) source), then exit.\n"
                ".TP\n%s\\fB\\-\\-version\\fR\nPrint the version, then exit.\n",
                with_config ? "\\fB\\-V\\fR, " : "");
}

static void print_settings(FILE *out, const sb_program_t *prog) {
        fputs(".SH CONFIGURATION\n"
              "The file holds one \\fIname\\fR = \\fIvalue\\fR; per setting, in libconfig syntax (strings\n"
              "in double quotes, groups in braces, lists in parentheses, comments after #).\n"
              "The settings, with their type, range and default:\n",
              out);
        for (size_t i = 0; i < prog->n_settings; i++) {
                const sb_setting_t *s = &prog->settings[i];
                fputs(".TP\n", out);
                font(out, 'B', s->name);
                fputs(" (", out);
                font(out, 'I', sb_setting_type_name(s->type));
                if (s->type == SB_SETTING_INT) {
                        char range[64];
                        snprintf(range, sizeof(range), ", %lld..%lld", s->min, s->max);
                        sb_man_escape(out, range, 0);
                }
                if (s->required && !s->def) {
                        fputs(", required", out);
                } else if (s->def) {
                        fputs(", default: ", out);
                        font(out, 'B', *s->def ? s->def : "\"\"");
                }
                fputs(")\n", out);
                sb_man_escape(out, s->help, 1);
                fputc('\n', out);
        }
        fputs(".TP\n\\fBkafka\\fR (\\fIgroup\\fR)\n"
              "librdkafka properties, passed through by name, '_' standing for '.' (libconfig\n"
              "names cannot hold dots), or a list of (\"name\", \"value\") pairs:\n"
              ".RS\n.PP\n.nf\n"
              "kafka = { bootstrap_servers = \"127.0.0.1:9092\"; };\n"
              "kafka = ( (\"sasl.oauthbearer.client.id\", \"x\") );\n"
              ".fi\n.RE\n",
              out);
}

static void print_tail(FILE *out, const sb_program_t *prog, int with_config) {
        fprintf(out,
                ".SH \"EXIT STATUS\"\n.TP\n.B 0\nSuccess, also after \\fB\\-\\-help\\fR%s, "
                "\\fB\\-\\-help\\-man\\fR and \\fB\\-\\-version\\fR.\n"
                ".TP\n.B 1\nA failure at run time, reported on standard error.\n"
                ".TP\n.B 2\nBad usage%s, reported on standard error%s.\n",
                with_config ? ", \\fB\\-\\-help\\-markdown\\fR" : "",
                with_config ? " or a bad configuration" : "",
                with_config ? " with the file, the line and the setting" : "");
        int d = daemon_index(prog->name);
        if (with_config) {
                fputs(".SH FILES\n.TP\n\\fIFILE\\fR\nThe configuration given with \\fB\\-\\-config\\fR.\n",
                      out);
        }
        if (with_config && d >= 0) {
                const char *role = daemons[d] + strlen(NAME_PREFIX);
                fputs(".TP\n\\fI/etc/sharebus/", out);
                sb_man_escape(out, role, 0);
                fputs("/\\fR\\fBNAME\\fR\\fI.conf\\fR\nThe configuration of instance \\fINAME\\fR of the "
                      "systemd unit\n",
                      out);
                font(out, 'B', prog->name);
                fputs("\\fB@.service\\fR that \\fBmake install\\fR installs (its default SYSCONFDIR is "
                      "/etc):\n"
                      "\\fBsystemctl enable \\-\\-now ",
                      out);
                sb_man_escape(out, prog->name, 0);
                fputs("@\\fR\\fINAME\\fR starts it now and at every boot, \\fBjournalctl \\-u ", out);
                sb_man_escape(out, prog->name, 0);
                fputs("@\\fR\\fINAME\\fR shows its log.  It runs as a dynamic user (or the user\n"
                      "\\fBsharebus\\fR if there is one) that may write only under /var/lib/sharebus;\n"
                      "\\fBsystemctl edit\\fR adds \\fBReadWritePaths=\\fR for other places.\n"
                      ".TP\n\\fI/var/lib/sharebus/\\fR\n"
                      "The unit's state and working directory: relative paths of its configuration\n"
                      "(SQLite databases, checkpoints) are there.\n"
                      ".TP\n\\fIPREFIX\\fB/share/sharebus/examples/",
                      out);
                sb_man_escape(out, role, 0);
                fputs(".conf\\fR\nAn example configuration, with comments (\\fIPREFIX\\fR is /usr/local "
                      "unless\n"
                      "\\fBmake install\\fR was given another).\n",
                      out);
        }
        fputs(".SH \"SEE ALSO\"\n", out);
        const char *sep = "";
        for (size_t i = 0; i < N_OF(programs); i++) {
                if (strcmp(programs[i], prog->name) == 0)
                        continue;
                fputs(sep, out);
                font(out, 'B', programs[i]);
                fputs("(1)", out);
                sep = ",\n";
        }
        if (d >= 0)
                fputs(",\n\\fBsystemctl\\fR(1), \\fBjournalctl\\fR(1), \\fBsystemd.exec\\fR(5)", out);
        fputs("\n.PP\nThe README of sharebus.\n", out);
}

void sb_man_print(FILE *out, const sb_program_t *prog, const char *const *synopsis) {
        int with_config = synopsis == NULL;
        print_head(out, prog, synopsis);
        print_options(out, prog, with_config);
        if (with_config)
                print_settings(out, prog);
        print_tail(out, prog, with_config);
}

/*
 * sb_man: a program's manual page, man(7) troff, from the same table of
 * settings and options as its --help (sb_cli prints it for --help-man;
 * `make` writes build/share/man/man1/<program>.1 from it).
 *
 * Every text of the tables goes through sb_man_escape, so a help text
 * cannot be read as a troff request or escape.  The page names the systemd
 * unit `make install` installs for a daemon (the folders' systemd/
 * templates; tests/install.sh checks that the two agree).
 */
#ifndef SB_MAN_H
#define SB_MAN_H

#include <stdio.h>

#include "sb_cli.h"

/* Writes `text` as troff text: a backslash as \e, every '-' as \- (so
 * that options and names copy as typed), a '.', '\'' or space that begins
 * an input line (at the start when `line_start`, or after a newline of
 * `text`) behind \&, other control characters as spaces, and UTF-8
 * characters as \[uXXXX] (an invalid byte as '?'). */
void sb_man_escape(FILE *out, const char *text, int line_start);

/* Prints the manual page (section 1) of `prog`.  `synopsis` is NULL for a
 * program started by sb_cli_start (--config FILE, the CONFIGURATION section
 * from prog->settings); a program that takes no configuration file gives
 * its usage lines after the program name instead (NULL-terminated, plain
 * text such as "--dataset TOPIC [--count N]": options are set in bold,
 * upper-case words in italics; its options are prog->options plus --help,
 * --help-man and --version). */
void sb_man_print(FILE *out, const sb_program_t *prog, const char *const *synopsis);

#endif

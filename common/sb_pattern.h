/*
 * sb_pattern: a matcher for the simplest `pattern` rules, the fixed-length
 * ones, without regexec.  The rules of the datasets are of this kind
 * (^[0-9]{17}[0-9X]$, ^1[3-9][0-9]{9}$, ...), and regexec, with the copy a
 * value not NUL-terminated needs, cost the producer a noticeable share of
 * its CPU.  A pattern of the subset compiles into a fixed sequence of byte
 * classes, each repeated a fixed number of times; a subject matches when
 * its length is the sum of the counts and each byte is in its position's
 * class.
 *
 * The subset (anything else is left to regexec):
 *   - an optional leading ^ and an optional trailing $;
 *   - elements, each optionally followed by {n} (0 <= n <= 255):
 *     a printable ASCII character other than . [ ] ( ) * + ? { } | ^ $ \ ;
 *     \ followed by ASCII punctuation other than < > ` ' (which are GNU
 *     anchors): that character;
 *     a bracket expression [...] of printable ASCII characters and ranges
 *     a-z (start <= end, neither being - ] [ or \), a ] first and a - first
 *     or last being literals; not negated, no [: :], [. .], [= =], and no
 *     [ or \ inside (POSIX makes \ literal there; leaving it out spares a
 *     reader the doubt);
 *   - at most SB_PATTERN_MAX_LEN bytes.
 * For those, sb_pattern_match(p, s, len) equals regexec of ^(pattern)$
 * (REG_EXTENDED) on s, with a subject holding a NUL never matching (as
 * sb_rules has always treated one).  That holds in the C and POSIX locales
 * only: elsewhere a range follows the locale's collation order and a byte
 * may start a multi-byte character, so sb_pattern_new declines a pattern
 * when LC_CTYPE or LC_COLLATE is another locale.
 */
#ifndef SB_PATTERN_H
#define SB_PATTERN_H

#include <stddef.h>

#include "sb_error.h"

enum { SB_PATTERN_MAX_LEN = 1024, SB_PATTERN_MAX_COUNT = 255 };

typedef struct sb_pattern_s sb_pattern_t;

/* Compiles `pattern` (NUL-terminated, borrowed for the call).  SB_OK with
 * *out a new matcher the caller frees with sb_pattern_destroy; SB_OK with
 * *out NULL when the pattern is outside the subset (or the locale is not C
 * or POSIX): the caller falls back to regexec.  SB_ERR_NOMEM (*out NULL)
 * if memory runs out.  The pattern's syntax is not otherwise validated:
 * whatever is not plainly in the subset is declined. */
sb_err_t sb_pattern_new(const char *pattern, sb_pattern_t **out, char *errstr, size_t errstr_size);
void sb_pattern_destroy(sb_pattern_t *p);

/* 1 if the `len` bytes at `s` (borrowed; need not be NUL-terminated; may
 * be NULL when len is 0) match the whole pattern, else 0.  Neither
 * allocates nor modifies `p`: one matcher may be used by several threads. */
int sb_pattern_match(const sb_pattern_t *p, const char *s, size_t len);

#endif

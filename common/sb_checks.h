/*
 * sb_checks: check-digit algorithms of Chinese national identifiers, used by
 * validation rules and by the sample generator.
 *   cn_uscc:        unified social credit code, GB 32100-2015 (18 chars,
 *                   alphabet 0-9 A-H J-N P-R T U W-Y, mod 31 check char)
 *   cn_resident_id: resident identity number, GB 11643-1999 (17 digits and
 *                   a mod 11-2 check char 0-9 or X)
 */
#ifndef SB_CHECKS_H
#define SB_CHECKS_H

#include <stddef.h>

/* 1 if `s` (NUL-terminated) is a well-formed code with a correct check char. */
int sb_check_cn_uscc(const char *s);
int sb_check_cn_resident_id(const char *s);

/* The check char for the first 17 chars of `s`, or 0 if they are not valid
 * for the code. */
char sb_check_cn_uscc_char(const char *s17);
char sb_check_cn_resident_id_char(const char *s17);

#endif

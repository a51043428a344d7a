#include "sb_checks.h"

#include <string.h>

static const char uscc_alphabet[] = "0123456789ABCDEFGHJKLMNPQRTUWXY";
static const int uscc_weights[17] = {1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28};
static const int rid_weights[17] = {7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2};

/* The value of c in uscc_alphabet, or -1: a table, as the producer checks
 * 17 characters of every code it publishes (strchr was 1% of its CPU). */
static int uscc_value(char c) {
        /* 'A'..'Y'; I, O, S, V and Z are not in the alphabet. */
        static const signed char letters[25] = {10, 11, 12, 13, 14, 15, 16, 17, -1, 18, 19, 20, 21,
                                                22, -1, 23, 24, 25, -1, 26, 27, -1, 28, 29, 30};
        if (c >= '0' && c <= '9')
                return c - '0';
        return c >= 'A' && c <= 'Y' ? letters[c - 'A'] : -1;
}

char sb_check_cn_uscc_char(const char *s) {
        int sum = 0;
        for (int i = 0; i < 17; i++) {
                int v = uscc_value(s[i]);
                if (v < 0)
                        return 0;
                sum += v * uscc_weights[i];
        }
        return uscc_alphabet[(31 - sum % 31) % 31];
}

int sb_check_cn_uscc(const char *s) {
        if (!s || strlen(s) != 18)
                return 0;
        char c = sb_check_cn_uscc_char(s);
        return c && c == s[17];
}

char sb_check_cn_resident_id_char(const char *s) {
        int sum = 0;
        for (int i = 0; i < 17; i++) {
                if (s[i] < '0' || s[i] > '9')
                        return 0;
                sum += (s[i] - '0') * rid_weights[i];
        }
        return "10X98765432"[sum % 11];
}

int sb_check_cn_resident_id(const char *s) {
        if (!s || strlen(s) != 18)
                return 0;
        char c = sb_check_cn_resident_id_char(s);
        return c && c == s[17];
}

#include "sb_datetime.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

/* Days from 1970-01-01 to y-m-d in the proleptic Gregorian calendar. */
static int64_t days_from_civil(int64_t y, unsigned m, unsigned d) {
        y -= m <= 2;
        const int64_t era = (y >= 0 ? y : y - 399) / 400;
        const unsigned yoe = (unsigned)(y - era * 400);
        const unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
        const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
        return era * 146097 + (int64_t)doe - 719468;
}

static void civil_from_days(int64_t z, int64_t *y, unsigned *m, unsigned *d) {
        z += 719468;
        const int64_t era = (z >= 0 ? z : z - 146096) / 146097;
        const unsigned doe = (unsigned)(z - era * 146097);
        const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
        const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
        const unsigned mp = (5 * doy + 2) / 153;
        *d = doy - (153 * mp + 2) / 5 + 1;
        *m = mp < 10 ? mp + 3 : mp - 9;
        *y = (int64_t)yoe + era * 400 + (*m <= 2);
}

static int days_in_month(int64_t y, unsigned m) {
        static const int dm[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
        int leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
        return m == 2 && leap ? 29 : dm[m - 1];
}

/* Reads exactly `n` decimal digits (no sign, no blanks). */
static int digits(const char *s, int n, int *out) {
        int v = 0;
        for (int i = 0; i < n; i++) {
                if (s[i] < '0' || s[i] > '9')
                        return 0;
                v = v * 10 + (s[i] - '0');
        }
        *out = v;
        return 1;
}

/* Parses "YYYY-MM-DD"; returns the number of characters used, 0 if bad. */
static int parse_date(const char *s, int64_t *days) {
        int y, m, d;
        if (!digits(s, 4, &y) || s[4] != '-' || !digits(s + 5, 2, &m) || s[7] != '-' ||
            !digits(s + 8, 2, &d) || m < 1 || m > 12 || d < 1 || d > days_in_month(y, (unsigned)m))
                return 0;
        *days = days_from_civil(y, (unsigned)m, (unsigned)d);
        return 10;
}

/* Parses "YYYY-MM-DDTHH:MM:SS[.fff]Z" (or +00:00) into ms since the epoch;
 * returns the number of characters used, 0 if bad. */
static size_t parse_timestamp(const char *s, int64_t *ms) {
        const char *start = s;
        int64_t days;
        int hh, mm, ss, frac = 0;
        if (!parse_date(s, &days) || (s[10] != 'T' && s[10] != ' '))
                return 0;
        s += 11;
        if (!digits(s, 2, &hh) || s[2] != ':' || !digits(s + 3, 2, &mm) || s[5] != ':' ||
            !digits(s + 6, 2, &ss) || hh > 23 || mm > 59 || ss > 60)
                return 0;
        s += 8;
        if (*s == '.') {
                size_t n = 0;
                for (s++; *s >= '0' && *s <= '9'; s++, n++)
                        if (n < 3)
                                frac = frac * 10 + (*s - '0');
                if (n == 0)
                        return 0;
                for (; n < 3; n++)
                        frac *= 10;
        }
        if (*s == 'Z')
                s++;
        else if (strncmp(s, "+00:00", 6) == 0)
                s += 6;
        else
                return 0;
        *ms = ((days * 24 + hh) * 60 + mm) * 60000LL + ss * 1000LL + frac;
        return (size_t)(s - start);
}

/* The parsers read C strings; the length check refuses text after the
 * value (and a NUL inside a JSON string, which would end it early). */
int sb_datetime_parse_date(const char *s, size_t len, int64_t *days) {
        return len == 10 && parse_date(s, days) == 10;
}

int sb_datetime_parse_timestamp_ms(const char *s, size_t len, int64_t *ms) {
        size_t used = parse_timestamp(s, ms);
        return used > 0 && used == len;
}

void sb_datetime_format_date(int64_t days, char *out, size_t size) {
        int64_t y;
        unsigned m, d;
        civil_from_days(days, &y, &m, &d);
        snprintf(out, size, "%04" PRId64 "-%02u-%02u", y, m, d);
}

void sb_datetime_format_timestamp_ms(int64_t ms, char *out, size_t size) {
        /* Floor division without negating: INT64_MIN must not overflow. */
        int64_t days = ms / 86400000, rem = ms % 86400000;
        if (rem < 0) {
                days--;
                rem += 86400000;
        }
        char date[32];
        sb_datetime_format_date(days, date, sizeof(date));
        snprintf(out, size, "%sT%02d:%02d:%02d.%03dZ", date, (int)(rem / 3600000), (int)(rem / 60000 % 60),
                 (int)(rem / 1000 % 60), (int)(rem % 1000));
}

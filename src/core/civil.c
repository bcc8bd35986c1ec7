/* civil.c: calendar dates and UK local time (see civil.h). Depends on
 * libc. */
#include "core/civil.h"

#include <stdio.h>

int64_t
cr_civil_floor_div(int64_t a, int64_t b)
{
    int64_t q = a / b;
    return (a % b != 0 && (a < 0) != (b < 0)) ? q - 1 : q;
}

int64_t
cr_civil_days_from(int64_t y, unsigned m, unsigned d)
{
    int64_t era;
    unsigned yoe, doy, doe;

    y -= m <= 2;
    era = (y >= 0 ? y : y - 399) / 400;
    yoe = (unsigned)(y - era * 400);
    doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
    doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + (int64_t)doe - 719468;
}

void
cr_civil_date_of(int64_t z, int64_t *out_y, unsigned *out_m,
                 unsigned *out_d)
{
    int64_t era, y;
    unsigned doe, yoe, doy, mp, d, m;

    z += 719468;
    era = (z >= 0 ? z : z - 146096) / 146097;
    doe = (unsigned)(z - era * 146097);
    yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    y = (int64_t)yoe + era * 400;
    doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    mp = (5 * doy + 2) / 153;
    d = doy - (153 * mp + 2) / 5 + 1;
    m = mp < 10 ? mp + 3 : mp - 9;
    if (out_y)
        *out_y = m <= 2 ? y + 1 : y;
    if (out_m)
        *out_m = m;
    if (out_d)
        *out_d = d;
}

unsigned
cr_civil_days_in_month(int64_t y, unsigned m)
{
    static const unsigned dim[12] = { 31, 28, 31, 30, 31, 30,
                                      31, 31, 30, 31, 30, 31 };
    bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;

    if (m < 1 || m > 12)
        return 0;
    return m == 2 && leap ? 29 : dim[m - 1];
}

int
cr_civil_weekday(int64_t z)
{
    int64_t w = (z + 4) % 7;        /* 1970-01-01 was a Thursday */
    return (int)(w < 0 ? w + 7 : w);
}

/* The last Sunday of month 'm' (which has 31 days) of year 'y'. */
static int64_t
last_sunday(int64_t y, unsigned m)
{
    int64_t last = cr_civil_days_from(y, m, 31);
    return last - cr_civil_weekday(last);
}

int64_t
cr_civil_uk_offset_ms(int64_t ms)
{
    int64_t y, start, end;

    cr_civil_date_of(cr_civil_floor_div(ms, CR_CIVIL_MS_PER_DAY), &y, NULL,
                     NULL);
    start = last_sunday(y, 3) * CR_CIVIL_MS_PER_DAY + 60 * CR_CIVIL_MS_PER_MIN;
    end = last_sunday(y, 10) * CR_CIVIL_MS_PER_DAY + 60 * CR_CIVIL_MS_PER_MIN;
    return (ms >= start && ms < end) ? 60 * CR_CIVIL_MS_PER_MIN : 0;
}

int64_t
cr_civil_uk_day(int64_t ms)
{
    return cr_civil_floor_div(ms + cr_civil_uk_offset_ms(ms),
                              CR_CIVIL_MS_PER_DAY);
}

int64_t
cr_civil_uk_day_start(int64_t z)
{
    /* Midnight is never inside a change of the clocks (they change at
     * 01:00 UTC), so it is 23:00 UTC the day before exactly when that
     * instant is in summer time. */
    int64_t summer = z * CR_CIVIL_MS_PER_DAY - 60 * CR_CIVIL_MS_PER_MIN;

    return cr_civil_uk_offset_ms(summer) != 0 ? summer
                                              : z * CR_CIVIL_MS_PER_DAY;
}

/* 'n' digits at 's' as a number, or -1. */
static int
digits(const char *s, int n)
{
    int v = 0, i;

    for (i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9')
            return -1;
        v = v * 10 + (s[i] - '0');
    }
    return v;
}

bool
cr_civil_parse_date(const char *s, int64_t *out)
{
    int y, m, d;

    if (s == NULL)
        return false;
    y = digits(s, 4);
    if (y < 1970 || s[4] != '-')
        return false;
    m = digits(s + 5, 2);
    if (m < 1 || m > 12 || s[7] != '-')
        return false;
    d = digits(s + 8, 2);
    if (d < 1 || (unsigned)d > cr_civil_days_in_month(y, (unsigned)m) ||
        s[10] != '\0')
        return false;
    *out = cr_civil_days_from(y, (unsigned)m, (unsigned)d);
    return true;
}

void
cr_civil_format_date(int64_t z, char *out, unsigned out_size)
{
    int64_t y;
    unsigned m, d;

    cr_civil_date_of(z, &y, &m, &d);
    snprintf(out, out_size, "%04lld-%02u-%02u", (long long)y, m, d);
}

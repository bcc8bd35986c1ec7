/* date.c: day numbers to and from civil dates (Howard Hinnant's
 * algorithms) and FHIR date formatting. Depends on date.h and libc. */
#include "synth/date.h"

#include <string.h>

int32_t
cr_synth_days(int y, int m, int d)
{
    int era, yoe, doy, doe;

    y -= m <= 2;
    era = (y >= 0 ? y : y - 399) / 400;
    yoe = y - era * 400;
    doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return (int32_t)(era * 146097 + doe - 719468);
}

void
cr_synth_civil(int32_t days, int *out_y, int *out_m, int *out_d)
{
    int32_t z = days + 719468;
    int32_t era = (z >= 0 ? z : z - 146096) / 146097;
    int32_t doe = z - era * 146097;
    int32_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    int32_t y = yoe + era * 400;
    int32_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    int32_t mp = (5 * doy + 2) / 153;
    int32_t d = doy - (153 * mp + 2) / 5 + 1;
    int32_t m = mp + (mp < 10 ? 3 : -9);

    *out_y = (int)(y + (m <= 2));
    *out_m = (int)m;
    *out_d = (int)d;
}

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
cr_synth_date_parse(const char *s, int32_t *out)
{
    int y, m, d, y2, m2, d2;
    int32_t days;

    if (s == NULL || strlen(s) != 10 || s[4] != '-' || s[7] != '-')
        return false;
    y = digits(s, 4);
    m = digits(s + 5, 2);
    d = digits(s + 8, 2);
    if (y < 1900 || y > 2199 || m < 1 || m > 12 || d < 1 || d > 31)
        return false;
    days = cr_synth_days(y, m, d);
    cr_synth_civil(days, &y2, &m2, &d2);
    if (y2 != y || m2 != m || d2 != d)
        return false;              /* 2025-02-30 and the like */
    *out = days;
    return true;
}

static void
put2(char *p, int v)
{
    p[0] = (char)('0' + v / 10);
    p[1] = (char)('0' + v % 10);
}

void
cr_synth_date_fmt(int32_t days, char out[11])
{
    int y, m, d;

    cr_synth_civil(days, &y, &m, &d);
    put2(out, y / 100);
    put2(out + 2, y % 100);
    out[4] = '-';
    put2(out + 5, m);
    out[7] = '-';
    put2(out + 8, d);
    out[10] = '\0';
}

void
cr_synth_datetime_fmt(int32_t days, int minute, char out[21])
{
    if (minute < 0)
        minute = 0;
    if (minute > 1439)
        minute = 1439;
    cr_synth_date_fmt(days, out);
    out[10] = 'T';
    put2(out + 11, minute / 60);
    out[13] = ':';
    put2(out + 14, minute % 60);
    memcpy(out + 16, ":00Z", 5);
}

int
cr_synth_years_between(int32_t birth, int32_t on)
{
    int by, bm, bd, y, m, d, years;

    cr_synth_civil(birth, &by, &bm, &bd);
    cr_synth_civil(on, &y, &m, &d);
    years = y - by;
    if (m < bm || (m == bm && d < bd))
        years--;
    return years;
}

/* policy_time.c: local wall-clock time for the out-of-hours alert.
 *
 * Privacy officers think of "out of hours" in local time, and the decision
 * must stay a pure function of its inputs, so it cannot depend on the
 * process's TZ or the C library's time zone database. UK time is simple
 * enough to compute: GMT, and BST (GMT+1) from 01:00 UTC on the last
 * Sunday of March to 01:00 UTC on the last Sunday of October (the Summer
 * Time Order 2002). Dates use the proleptic Gregorian calendar (Howard
 * Hinnant's days_from_civil). Bank holidays are not counted. Depends on
 * policyInt.h. Thread-safe (no state). */
#include "access/policyInt.h"

#include <stdint.h>

#define MS_PER_MIN INT64_C(60000)
#define MS_PER_DAY INT64_C(86400000)

/* Floor division, for times before the epoch. */
static int64_t
floor_div(int64_t a, int64_t b)
{
    int64_t q = a / b;
    return (a % b != 0 && (a < 0) != (b < 0)) ? q - 1 : q;
}

/* Days since 1970-01-01 of year y, month m (1-12), day d. */
static int64_t
days_from_civil(int64_t y, unsigned m, unsigned d)
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

/* The year of day 'z' since 1970-01-01. */
static int64_t
year_of_days(int64_t z)
{
    int64_t era, y;
    unsigned doe, yoe, doy, mp;

    z += 719468;
    era = (z >= 0 ? z : z - 146096) / 146097;
    doe = (unsigned)(z - era * 146097);
    yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    y = (int64_t)yoe + era * 400;
    doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    mp = (5 * doy + 2) / 153;
    return (mp >= 10) ? y + 1 : y;   /* months Jan, Feb belong to y + 1 */
}

/* Day of the week of day 'z' since the epoch: 0 Sunday .. 6 Saturday. */
static int
weekday(int64_t z)
{
    int64_t w = (z + 4) % 7;        /* 1970-01-01 was a Thursday */
    return (int)(w < 0 ? w + 7 : w);
}

/* The last Sunday of month 'm' (which has 31 days) of year 'y'. */
static int64_t
last_sunday(int64_t y, unsigned m)
{
    int64_t last = days_from_civil(y, m, 31);
    return last - weekday(last);
}

/* UK local time offset from UTC at 'ms', in ms. */
static int64_t
london_offset(int64_t ms)
{
    int64_t y = year_of_days(floor_div(ms, MS_PER_DAY));
    int64_t start = last_sunday(y, 3) * MS_PER_DAY + 60 * MS_PER_MIN;
    int64_t end = last_sunday(y, 10) * MS_PER_DAY + 60 * MS_PER_MIN;

    return (ms >= start && ms < end) ? 60 * MS_PER_MIN : 0;
}

bool
cr_policy_ooh_at(const struct policy_ooh *ooh, int64_t ms)
{
    int64_t local, day;
    int minute, wd;

    if (!ooh->is_enabled)
        return false;
    local = ms + (ooh->tz == POLICY_TZ_LONDON ? london_offset(ms) : 0);
    day = floor_div(local, MS_PER_DAY);
    minute = (int)((local - day * MS_PER_DAY) / MS_PER_MIN);
    wd = weekday(day);
    if (ooh->has_weekends && (wd == 0 || wd == 6))
        return true;
    if (ooh->start_min == ooh->end_min)
        return false;               /* no weekday window */
    if (ooh->start_min > ooh->end_min)   /* wraps midnight: 20:00-08:00 */
        return minute >= ooh->start_min || minute < ooh->end_min;
    return minute >= ooh->start_min && minute < ooh->end_min;
}

bool
cr_policy_is_out_of_hours(const struct cr_policy *policy, int64_t ms)
{
    return cr_policy_ooh_at(&policy->ooh, ms);
}

/* policy_time.c: local wall-clock time for the out-of-hours alert.
 *
 * Privacy officers think of "out of hours" in local time, and the decision
 * must stay a pure function of its inputs, so it cannot depend on the
 * process's TZ or the C library's time zone database: UK time comes from
 * core/civil.h (GMT, and BST from 01:00 UTC on the last Sunday of March to
 * 01:00 UTC on the last Sunday of October), the same definition the audit
 * report uses for its days. Bank holidays are not counted. Depends on
 * policyInt.h and core/civil.h. Thread-safe (no state). */
#include "access/policyInt.h"

#include "core/civil.h"

#include <stdint.h>

bool
cr_policy_ooh_at(const struct policy_ooh *ooh, int64_t ms)
{
    int64_t local, day;
    int minute, wd;

    if (!ooh->is_enabled)
        return false;
    local = ms;
    if (ooh->tz == POLICY_TZ_LONDON)
        local += cr_civil_uk_offset_ms(ms);
    day = cr_civil_floor_div(local, CR_CIVIL_MS_PER_DAY);
    minute = (int)((local - day * CR_CIVIL_MS_PER_DAY) / CR_CIVIL_MS_PER_MIN);
    wd = cr_civil_weekday(day);
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

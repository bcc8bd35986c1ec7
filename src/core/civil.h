/* civil.h: calendar dates and UK local time, without the C library's time
 * zone database.
 *
 * Dates are in the proleptic Gregorian calendar, counted as days since
 * 1970-01-01 (Howard Hinnant's algorithms), so they work for any date and
 * never depend on the process's TZ. UK local time is GMT, and BST (GMT+1)
 * from 01:00 UTC on the last Sunday of March to 01:00 UTC on the last
 * Sunday of October (the Summer Time Order 2002). Privacy officers and
 * programme reports think in UK days and months; the policy's out-of-hours
 * alert and the audit report both use these functions so they agree on
 * where a day begins. Depends on libc only. Thread-safe (no state). */
#ifndef CR_CORE_CIVIL_H
#define CR_CORE_CIVIL_H

#include <stdbool.h>
#include <stdint.h>

#define CR_CIVIL_MS_PER_MIN INT64_C(60000)
#define CR_CIVIL_MS_PER_DAY INT64_C(86400000)

/* a / b rounded towards minus infinity (b > 0), for times before 1970. */
int64_t
cr_civil_floor_div(int64_t a, int64_t b);

/* Days from 1970-01-01 to year y, month m (1-12), day d. The caller checks
 * that the date exists (cr_civil_days_in_month). */
int64_t
cr_civil_days_from(int64_t y, unsigned m, unsigned d);

/* The date of day 'z' since 1970-01-01. Any out-parameter may be NULL. */
void
cr_civil_date_of(int64_t z, int64_t *out_y, unsigned *out_m,
                 unsigned *out_d);

/* The number of days in month m (1-12) of year y. */
unsigned
cr_civil_days_in_month(int64_t y, unsigned m);

/* The day of the week of day 'z' since 1970-01-01: 0 Sunday .. 6
 * Saturday. */
int
cr_civil_weekday(int64_t z);

/* The offset of UK local time from UTC at 'ms' (milliseconds since the
 * epoch, UTC): 0 in winter, 3,600,000 in summer. */
int64_t
cr_civil_uk_offset_ms(int64_t ms);

/* The UK calendar day (days since 1970-01-01) that instant 'ms' falls on. */
int64_t
cr_civil_uk_day(int64_t ms);

/* The instant (ms since the epoch, UTC) at which UK day 'z' begins:
 * local midnight, 00:00 GMT or 00:00 BST (23:00 UTC the day before). */
int64_t
cr_civil_uk_day_start(int64_t z);

/* Parse exactly "YYYY-MM-DD" (a date that exists, years 1970 to 9999)
 * into days since 1970-01-01. false when 's' is NULL or anything else. */
bool
cr_civil_parse_date(const char *s, int64_t *out);

/* Write day 'z' as "YYYY-MM-DD" into 'out' (at least 11 bytes). */
void
cr_civil_format_date(int64_t z, char *out, unsigned out_size);

#endif

/* date.h: calendar arithmetic for the synthetic world (internal to
 * src/synth).
 *
 * Dates are day numbers (days since 1970-01-01, proleptic Gregorian) and
 * times are minutes after midnight UTC. The world's "today" is the start
 * date given on the command line, never the real clock. Depends on libc.
 * Pure functions; thread-safe. */
#ifndef CR_SYNTH_DATE_H
#define CR_SYNTH_DATE_H

#include <stdbool.h>
#include <stdint.h>

/* The day number of year-month-day (month 1..12, day 1..31). */
int32_t
cr_synth_days(int y, int m, int d);

/* The civil date of day number 'days'. */
void
cr_synth_civil(int32_t days, int *out_y, int *out_m, int *out_d);

/* Parse "YYYY-MM-DD" (a real calendar date, years 1900..2199) into a day
 * number. Returns false, leaving *out alone, when 's' is anything else. */
bool
cr_synth_date_parse(const char *s, int32_t *out);

/* Write day 'days' as "YYYY-MM-DD" and a NUL into 'out'. */
void
cr_synth_date_fmt(int32_t days, char out[11]);

/* Write "YYYY-MM-DDTHH:MM:00Z" (a FHIR dateTime/instant) and a NUL into
 * 'out'. 'minute' is minutes after midnight, 0..1439. */
void
cr_synth_datetime_fmt(int32_t days, int minute, char out[21]);

/* Whole years between day 'birth' and day 'on' (an age). */
int
cr_synth_years_between(int32_t birth, int32_t on);

#endif

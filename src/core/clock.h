/* clock.h: wall-clock and monotonic time, and FHIR instant formatting.
 * Depends on libc. Thread-safe. */
#ifndef CR_CORE_CLOCK_H
#define CR_CORE_CLOCK_H

#include <stddef.h>
#include <stdint.h>

/* Milliseconds since the Unix epoch (wall clock). */
int64_t
cr_clock_now_ms(void);

/* Microseconds from an arbitrary fixed point (monotonic), for durations. */
int64_t
cr_clock_mono_us(void);

/* Write 'ms' since the epoch as a FHIR instant in UTC with milliseconds,
 * e.g. "2026-11-21T10:05:04.123Z", into 'out' (at least 25 bytes). */
void
cr_clock_instant(int64_t ms, char *out, size_t out_size);

/* Write 'ms' since the epoch as an HTTP date (RFC 9110 IMF-fixdate), e.g.
 * "Sat, 21 Nov 2026 10:05:04 GMT", into 'out' (at least 30 bytes). */
void
cr_clock_http_date(int64_t ms, char *out, size_t out_size);

#endif

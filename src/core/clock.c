/* clock.c: time sources and formats. Depends on libc. */
#include "core/clock.h"

#include <stdio.h>
#include <time.h>

int64_t
cr_clock_now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int64_t
cr_clock_mono_us(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

void
cr_clock_instant(int64_t ms, char *out, size_t out_size)
{
    /* Floor division, so times before 1970 format correctly. */
    int64_t fl = ms >= 0 ? ms / 1000 : -((-ms + 999) / 1000);
    time_t secs = (time_t)fl;
    int frac = (int)(ms - fl * 1000);
    struct tm tm;

    if (gmtime_r(&secs, &tm) == NULL) {
        snprintf(out, out_size, "1970-01-01T00:00:00.000Z");
        return;
    }
    snprintf(out, out_size, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ",
             tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
             tm.tm_min, tm.tm_sec, frac);
}

void
cr_clock_http_date(int64_t ms, char *out, size_t out_size)
{
    time_t secs = (time_t)(ms / 1000);
    struct tm tm;

    if (gmtime_r(&secs, &tm) == NULL) {
        snprintf(out, out_size, "Thu, 01 Jan 1970 00:00:00 GMT");
        return;
    }
    strftime(out, out_size, "%a, %d %b %Y %H:%M:%S GMT", &tm);
}

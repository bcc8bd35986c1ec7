/* log.h: one structured line per event on stderr.
 *
 * Lines are JSON objects (one per line) so they can be read by people and
 * by log shippers alike. Library code never logs; only cli/ and http/ call
 * these. Thread-safe: each line is written with a single write(2). */
#ifndef CR_CORE_LOG_H
#define CR_CORE_LOG_H

#include <stdbool.h>

/* Log a plain event: {"time":..,"level":..,"msg":..}. 'level' is "info",
 * "warn" or "error". */
void
cr_log(const char *level, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* Log a finished HTTP request. Any string may be NULL. */
void
cr_log_request(const char *request_id, const char *method, const char *path,
               unsigned status, double duration_ms, const char *principal);

/* Turn request lines off (benchmarks measure the server, not the terminal).
 * Events logged with cr_log are never turned off. */
void
cr_log_set_requests(bool on);

#endif

/* log.c: JSON-lines logging to stderr. Depends on core/buf, core/clock. */
#include "core/log.h"

#include "core/buf.h"
#include "core/clock.h"

#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <unistd.h>

static atomic_bool log_requests = true;

static void
emit(struct cr_buf *b)
{
    size_t off = 0;

    cr_buf_addc(b, '\n');
    if (b->rc != CR_OK)
        return;
    while (off < b->len) {
        ssize_t n = write(STDERR_FILENO, b->ptr + off, b->len - off);
        if (n <= 0)
            break;
        off += (size_t)n;
    }
}

static void
start(struct cr_buf *b, const char *level)
{
    char when[32];

    cr_clock_instant(cr_clock_now_ms(), when, sizeof when);
    cr_buf_addf(b, "{\"time\":\"%s\",\"level\":\"%s\"", when, level);
}

void
cr_log(const char *level, const char *fmt, ...)
{
    struct cr_buf b = cr_buf_make(65536);
    char msg[2048];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    start(&b, level);
    cr_buf_adds(&b, ",\"msg\":");
    cr_buf_add_json_str(&b, msg);
    cr_buf_addc(&b, '}');
    emit(&b);
    cr_buf_free(&b);
}

void
cr_log_request(const char *request_id, const char *method, const char *path,
               unsigned status, double duration_ms, const char *principal)
{
    struct cr_buf b = cr_buf_make(65536);

    if (!atomic_load_explicit(&log_requests, memory_order_relaxed))
        return;
    start(&b, "info");
    cr_buf_adds(&b, ",\"request\":");
    cr_buf_add_json_str(&b, request_id ? request_id : "");
    cr_buf_adds(&b, ",\"method\":");
    cr_buf_add_json_str(&b, method ? method : "");
    cr_buf_adds(&b, ",\"path\":");
    cr_buf_add_json_str(&b, path ? path : "");
    cr_buf_addf(&b, ",\"status\":%u,\"ms\":%.3f,\"principal\":", status,
                duration_ms);
    cr_buf_add_json_str(&b, principal ? principal : "");
    cr_buf_addc(&b, '}');
    emit(&b);
    cr_buf_free(&b);
}

void
cr_log_set_requests(bool on)
{
    atomic_store(&log_requests, on);
}

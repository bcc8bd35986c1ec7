/* outcome.c: the one place where an error becomes an HTTP status and a
 * FHIR OperationOutcome. Depends on core/ and http/. */
#include "api/apiInt.h"

#include "core/clock.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

unsigned
cr_api_status_for(const struct cr_err *err)
{
    if (err->http_status)
        return (unsigned)err->http_status;
    switch (err->rc) {
    case CR_OK: return 200;
    case CR_EINVAL: return 400;
    case CR_ENOTFOUND: return 404;
    case CR_EGONE: return 410;
    case CR_ECONFLICT: return 409;
    case CR_EPRECOND: return 412;
    case CR_ETOOBIG: return 413;
    case CR_EAUTH: return 401;
    case CR_EFORBIDDEN: return 403;
    case CR_EUNSUPPORTED: return 400;
    case CR_EUNAVAILABLE: return 503;
    case CR_ENOMEM:
    case CR_EIO: return 500;
    }
    return 500;
}

void
cr_api_send_buf(struct ctx *x, unsigned status, struct cr_buf *b)
{
    size_t len = 0;
    char *body = cr_buf_take(b, &len);

    if (body == NULL) {
        /* Building the answer failed (memory): say so briefly. */
        static const char oom[] =
            "{\"resourceType\":\"OperationOutcome\",\"issue\":[{\"severity\":"
            "\"fatal\",\"code\":\"exception\",\"diagnostics\":\"the server "
            "ran out of memory building the response\"}]}";
        body = strdup(oom);
        len = body ? strlen(body) : 0;
        status = 500;
    }
    x->resp->status = status;
    x->resp->body = body;
    x->resp->body_len = len;
    cr_http_resp_header(x->resp, "Content-Type",
                        "application/fhir+json; charset=utf-8");
}

static void
outcome_v(struct ctx *x, unsigned status, const char *severity,
          const char *code, const char *where, const char *fmt, va_list ap)
{
    struct cr_buf b = cr_buf_make(0);
    char msg[1024];

    vsnprintf(msg, sizeof msg, fmt, ap);
    cr_buf_adds(&b, "{\"resourceType\":\"OperationOutcome\",\"issue\":[{"
                    "\"severity\":");
    cr_buf_add_json_str(&b, severity);
    cr_buf_adds(&b, ",\"code\":");
    cr_buf_add_json_str(&b, code && *code ? code : "exception");
    cr_buf_adds(&b, ",\"diagnostics\":");
    cr_buf_add_json_str(&b, msg);
    if (where && *where) {
        cr_buf_adds(&b, ",\"expression\":[");
        cr_buf_add_json_str(&b, where);
        cr_buf_addc(&b, ']');
    }
    cr_buf_adds(&b, "}]}");
    cr_api_send_buf(x, status, &b);
}

void
cr_api_outcome(struct ctx *x, unsigned status, const char *severity,
               const char *code, const char *where, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    outcome_v(x, status, severity, code, where, fmt, ap);
    va_end(ap);
}

void
cr_api_fail(struct ctx *x, const struct cr_err *err)
{
    unsigned status = cr_api_status_for(err);

    cr_api_outcome(x, status, status >= 500 ? "fatal" : "error", err->code,
                   err->where, "%s",
                   err->msg[0] ? err->msg : "the request failed");
}

void
cr_api_bundle_start(struct cr_buf *b, const char *type)
{
    char bid[37], now[32];

    cr_api_new_id(bid);
    cr_clock_instant(cr_clock_now_ms(), now, sizeof now);
    cr_buf_addf(b, "{\"resourceType\":\"Bundle\",\"id\":\"%s\",\"meta\":{"
                   "\"lastUpdated\":\"%s\"},\"type\":\"%s\"", bid, now, type);
}

void
cr_api_too_big(struct ctx *x)
{
    cr_api_outcome(x, 400, "error", "too-costly", NULL,
                   "the answer would be larger than %zu MiB: ask for fewer "
                   "results a page (_count), fewer includes, or narrower "
                   "criteria", x->api->cfg.max_response >> 20);
}

void
cr_api_bundle_finish(struct ctx *x, struct cr_buf *b, struct cr_buf *entries)
{
    /* The entries (the bulk) stay where they are and the Bundle's head
     * goes in front of them: one buffer the size of the answer, not two. */
    if (entries->len) {
        cr_buf_adds(b, ",\"entry\":[");
        cr_buf_addc(entries, ']');
        if (b->rc == CR_OK)
            cr_buf_prepend(entries, b->ptr, b->len);
        else if (entries->rc == CR_OK)
            entries->rc = b->rc;
        cr_buf_free(b);
        *b = *entries;
        *entries = cr_buf_make(0);
    }
    cr_buf_addc(b, '}');
    cr_buf_free(entries);
    if (b->rc == CR_ETOOBIG) {
        cr_buf_free(b);
        cr_api_too_big(x);
        return;
    }
    cr_api_send_buf(x, 200, b);
}

/* err.c: filling in struct cr_err. Depends on libc only. */
#include "core/err.h"

#include <stdio.h>
#include <string.h>

static void
fill(struct cr_err *err, cr_rc rc, const char *code, const char *where,
     const char *fmt, va_list ap)
{
    err->rc = rc;
    err->http_status = 0;
    snprintf(err->code, sizeof err->code, "%s", code ? code : "exception");
    snprintf(err->where, sizeof err->where, "%s", where ? where : "");
    vsnprintf(err->msg, sizeof err->msg, fmt, ap);
}

cr_rc
cr_err_set(struct cr_err *err, cr_rc rc, const char *code, const char *where,
           const char *fmt, ...)
{
    va_list ap;

    if (err == NULL)
        return rc;
    va_start(ap, fmt);
    fill(err, rc, code, where, fmt, ap);
    va_end(ap);
    return rc;
}

cr_rc
cr_err_keep(struct cr_err *err, cr_rc rc, const char *code, const char *where,
            const char *fmt, ...)
{
    va_list ap;

    if (err == NULL || err->rc != CR_OK)
        return rc;
    va_start(ap, fmt);
    fill(err, rc, code, where, fmt, ap);
    va_end(ap);
    return rc;
}

void
cr_err_clear(struct cr_err *err)
{
    if (err != NULL)
        memset(err, 0, sizeof *err);
}

const char *
cr_rc_name(cr_rc rc)
{
    switch (rc) {
    case CR_OK: return "CR_OK";
    case CR_ENOMEM: return "CR_ENOMEM";
    case CR_EINVAL: return "CR_EINVAL";
    case CR_ENOTFOUND: return "CR_ENOTFOUND";
    case CR_EGONE: return "CR_EGONE";
    case CR_ECONFLICT: return "CR_ECONFLICT";
    case CR_EPRECOND: return "CR_EPRECOND";
    case CR_ETOOBIG: return "CR_ETOOBIG";
    case CR_EAUTH: return "CR_EAUTH";
    case CR_EFORBIDDEN: return "CR_EFORBIDDEN";
    case CR_EUNSUPPORTED: return "CR_EUNSUPPORTED";
    case CR_EIO: return "CR_EIO";
    case CR_EUNAVAILABLE: return "CR_EUNAVAILABLE";
    }
    return "CR_E?";
}

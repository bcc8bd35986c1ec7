/* audit_report_op.c: GET /fhir/$audit-report, the privacy officer's
 * alerts and the usage statistics of their organisation, as a FHIR R4
 * Parameters resource (audit/report_render.c; layout in docs/api.md).
 *
 * Only a token whose purpose is 'audit' may ask, and it sees the staff of
 * its own organisation only: 'org' defaults to the token's and any other
 * is refused. The report is computed from the audit table as of the
 * request (newest records first, narrowed by organisation and period with
 * the table's indexes), on the request's thread. Reading the report is
 * itself an access to the audit trail, recorded as 'audit-read', refused
 * or not. Depends on audit/, core/. */
#include "api/apiInt.h"

#include "careplan/careplan.h"

#include "core/civil.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

struct params {
    const char *since;
    const char *until;
    const char *org;
    const char *volume;
    const char *bad;
};

static bool
take(void *ctx, const char *name, const char *value)
{
    struct params *p = ctx;

    if (strcmp(name, "since") == 0)
        p->since = value;
    else if (strcmp(name, "until") == 0)
        p->until = value;
    else if (strcmp(name, "org") == 0)
        p->org = value;
    else if (strcmp(name, "volume-threshold") == 0)
        p->volume = value;
    else if (strcmp(name, "_format") != 0) {
        p->bad = name;
        return false;
    }
    return true;
}

/* Check the parameters into 'o'; false after answering 400. */
static bool
options(struct ctx *x, const struct params *p, struct cr_audit_report_opts *o)
{
    int64_t since = 0, until = 0;

    if (p->since && !cr_civil_parse_date(p->since, &since)) {
        cr_api_outcome(x, 400, "error", "value", "since",
                       "since must be a date such as 2025-01-01 (the first "
                       "UK day of the period)");
        return false;
    }
    if (p->until && !cr_civil_parse_date(p->until, &until)) {
        cr_api_outcome(x, 400, "error", "value", "until",
                       "until must be a date such as 2025-01-31 (the last "
                       "UK day of the period, included)");
        return false;
    }
    if (p->since && p->until && until < since) {
        cr_api_outcome(x, 400, "error", "value", "until",
                       "until (the last day) comes before since (the first "
                       "day)");
        return false;
    }
    o->has_since = p->since != NULL;
    o->since_ms = p->since ? cr_civil_uk_day_start(since) : 0;
    o->has_until = p->until != NULL;
    o->until_ms = p->until ? cr_civil_uk_day_start(until + 1) : 0;
    if (p->volume) {
        char *end;
        long long n;

        errno = 0;
        n = strtoll(p->volume, &end, 10);
        if (!(*p->volume >= '0' && *p->volume <= '9') || *end != '\0' ||
            errno != 0 || n < 1 || n > 1000000000) {
            cr_api_outcome(x, 400, "error", "value", "volume-threshold",
                           "volume-threshold must be a whole number of "
                           "patients from 1");
            return false;
        }
        o->volume_threshold = n;
    }
    return true;
}

void
cr_api_audit_report_op(struct ctx *x)
{
    struct params p;
    struct cr_audit_report_opts o;
    struct cr_audit_report *r = NULL;
    struct cr_buf b = cr_buf_make(x->api->cfg.max_response);
    struct cr_err err;
    const char *own = x->principal.org;

    x->has_action = true;
    x->action = CR_AUDIT_AUDIT_READ;
    if (strcmp(x->principal.purpose, "audit") != 0) {
        cr_api_outcome(x, 403, "error", "forbidden", NULL,
                       "$audit-report is for privacy officers: it needs a "
                       "token whose purpose is 'audit' (this token's "
                       "purpose is '%s')", x->principal.purpose);
        return;
    }
    memset(&p, 0, sizeof p);
    cr_http_args(x->req, take, &p);
    if (p.bad) {
        cr_api_outcome(x, 400, "error", "not-supported", NULL,
                       "$audit-report does not take '%.80s' (it takes "
                       "since, until, org, volume-threshold)", p.bad);
        return;
    }
    if (own[0] == '\0' || (p.org && strcmp(p.org, own) != 0)) {
        cr_api_outcome(x, 403, "error", "forbidden", "org",
                       "a privacy officer sees the staff of their own "
                       "organisation only: this token is for '%s', not "
                       "'%.40s'", own, p.org ? p.org : "");
        return;
    }
    memset(&o, 0, sizeof o);
    o.org = own;
    if (!options(x, &p, &o))
        return;
    if (!cr_api_audit_settle(x))
        return;
    cr_err_clear(&err);
    if (cr_audit_report_store(x->api->store, &o, &r, &err) != CR_OK) {
        cr_api_fail(x, &err);
        return;
    }
    cr_audit_report_fhir(r, &b);
    cr_audit_report_destroy(r);
    /* the programme's store-side care plan figures beside the views the
     * log gives (docs/internals/careplan.md): people with a plan, plans
     * created and revised, for the same period */
    if (b.rc == CR_OK && b.len >= 2 &&
        memcmp(b.ptr + b.len - 2, "]}", 2) == 0) {
        struct cr_careplan_figures f;
        if (cr_careplan_figures(x->api->store, o.has_since ? o.since_ms : 0,
                                o.has_until ? o.until_ms : 0, &f,
                                &err) != CR_OK) {
            cr_buf_free(&b);
            cr_api_fail(x, &err);
            return;
        }
        b.len -= 2;
        cr_buf_adds(&b, ",{\"name\":\"carePlanFigures\",\"part\":[");
        cr_api_care_plan_figures_add(&b, &f);
        cr_buf_adds(&b, "]}]}");
        cr_careplan_figures_free(&f);
    }
    if (b.rc == CR_ETOOBIG) {
        cr_buf_free(&b);
        cr_api_outcome(x, 400, "error", "too-costly", NULL,
                       "the report would be larger than %zu MiB: ask for a "
                       "shorter period (since, until)",
                       x->api->cfg.max_response >> 20);
        return;
    }
    cr_api_send_buf(x, 200, &b);
}

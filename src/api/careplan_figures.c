/* careplan_figures.c: GET /fhir/$care-plan-figures, the Universal Care
 * Plan programme's store-side figures as a FHIR Parameters resource:
 * people with a plan now, and per UK month the plans created, revisions
 * saved and plans superseded (careplan/figures.c counts them). Views of
 * plans, and views by emergency services, come from the audit log
 * ($audit-report); docs/internals/careplan.md says how the two combine.
 *
 * Counts only, no patient data, but a whole node's: a token whose purpose
 * is 'audit' (privacy officers, the programme) may ask. Optional 'since'
 * and 'until' (UK dates, both included) bound the months. The walk reads
 * every CarePlan version, so it runs on the request's thread for a
 * report, not a screen that refreshes. Audited as care-plan-figures.
 * Depends on careplan/, core/. */
#include "api/apiInt.h"

#include "careplan/careplan.h"
#include "core/civil.h"

#include <string.h>

struct args {
    const char *since;
    const char *until;
    const char *bad;
};

static bool
take(void *ctx, const char *name, const char *value)
{
    struct args *a = ctx;

    if (strcmp(name, "since") == 0)
        a->since = value;
    else if (strcmp(name, "until") == 0)
        a->until = value;
    else if (strcmp(name, "_format") != 0) {
        a->bad = name;
        return false;
    }
    return true;
}

static void
p_int(struct cr_buf *b, const char *name, int64_t v, bool comma)
{
    cr_buf_addf(b, "%s{\"name\":\"%s\",\"valueInteger\":%lld}",
                comma ? "," : "", name, (long long)v);
}

void
cr_api_care_plan_figures_add(struct cr_buf *b,
                             const struct cr_careplan_figures *f)
{
    size_t i;

    p_int(b, "peopleWithPlan", f->people_with_plan, false);
    p_int(b, "currentPlans", f->current_plans, true);
    p_int(b, "plansCreated", f->plans, true);
    p_int(b, "revisions", f->revisions, true);
    for (i = 0; i < f->nmonths; i++) {
        const struct cr_careplan_month *m = &f->months[i];
        cr_buf_addf(b, ",{\"name\":\"month\",\"part\":[{\"name\":\"month\","
                       "\"valueString\":\"%04d-%02d\"}", m->year % 10000,
                    m->month % 100);
        p_int(b, "created", m->created, true);
        p_int(b, "revised", m->revised, true);
        p_int(b, "superseded", m->superseded, true);
        cr_buf_adds(b, "]}");
    }
}

void
cr_api_care_plan_figures(struct ctx *x)
{
    struct args a;
    struct cr_careplan_figures f;
    struct cr_buf b = cr_buf_make(x->api->cfg.max_response);
    struct cr_err err;
    int64_t since = 0, until = 0;

    x->has_action = true;
    x->action = CR_AUDIT_CARE_PLAN_FIGURES;
    if (strcmp(x->principal.purpose, "audit") != 0) {
        char msg[256];
        snprintf(msg, sizeof msg, "$care-plan-figures is for the programme "
                 "and privacy officers: it needs a token whose purpose is "
                 "'audit' (this one's is '%s')", x->principal.purpose);
        cr_api_view_refusal(x, "purpose-not-permitted", msg);
        return;
    }
    memset(&a, 0, sizeof a);
    cr_http_args(x->req, take, &a);
    if (a.bad) {
        cr_api_outcome(x, 400, "error", "not-supported", NULL,
                       "$care-plan-figures does not take '%.80s' (it takes "
                       "since, until)", a.bad);
        return;
    }
    if ((a.since && !cr_civil_parse_date(a.since, &since)) ||
        (a.until && !cr_civil_parse_date(a.until, &until)) ||
        (a.since && a.until && until < since)) {
        cr_api_outcome(x, 400, "error", "value", a.since ? "since" : "until",
                       "since and until are UK dates such as 2026-01-01, "
                       "the first and last day of the period (until not "
                       "before since)");
        return;
    }
    cr_err_clear(&err);
    if (cr_careplan_figures(x->api->store,
                            a.since ? cr_civil_uk_day_start(since) : 0,
                            a.until ? cr_civil_uk_day_start(until + 1) : 0,
                            &f, &err) != CR_OK) {
        cr_api_fail(x, &err);
        return;
    }
    cr_buf_adds(&b, "{\"resourceType\":\"Parameters\",\"parameter\":[");
    cr_api_care_plan_figures_add(&b, &f);
    cr_buf_adds(&b, "]}");
    cr_careplan_figures_free(&f);
    if (b.rc != CR_OK) {
        cr_buf_free(&b);
        cr_api_too_big(x);
        return;
    }
    cr_api_send_buf(x, 200, &b);
}

/* careplan_summary.c: GET /fhir/Patient/{id}/$care-plan-summary, or
 * /fhir/Patient/$care-plan-summary?identifier=<NHS number>: the emergency
 * summary of a person's Universal Care Plan, one small Parameters
 * resource (careplan/summary.c writes it; docs/care-plan.md lists it).
 *
 * It is a read like any other: the person's record must be open to the
 * caller (relationship, self-claimed or emergency access with a reason,
 * the patient themselves), the caller's role must see care plans, and
 * every resource the summary is made from (the Patient, the CarePlan, its
 * Flags, contacts and medicines) passes the access view one by one; what
 * is withheld is left out and the answer says that something was. Each
 * request is audited with the action care-plan-summary, naming the
 * patient and every resource version used, so usage figures can count
 * plan views by emergency services. The patient's current plan is found
 * by one indexed read of their CarePlans; the parts are read by id.
 * Depends on careplan/, store/, fhir/, core/ and jansson. */
#include "api/apiInt.h"

#include "careplan/careplan.h"
#include "core/civil.h"
#include "core/clock.h"
#include "fhir/fhir.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_PARTS 64

struct args {
    const char *identifier;
    const char *bad;
};

static bool
take(void *ctx, const char *name, const char *value)
{
    struct args *a = ctx;

    if (strcmp(name, "identifier") == 0)
        a->identifier = value;
    else if (strcmp(name, "_format") != 0) {
        a->bad = name;
        return false;
    }
    return true;
}

/* One resource read for the summary. */
struct got {
    struct cr_buf text;
    struct cr_store_meta meta;
    json_t *res;
};

struct summary {
    struct ctx *x;
    const char *pid;
    struct got plan;            /* the current plan, as stored */
    bool has_plan;
    struct got part[MAX_PARTS];
    struct cr_careplan_part parts[MAX_PARTS];
    size_t nparts;
    struct got patient;
};

static void
got_free(struct got *g)
{
    cr_buf_free(&g->text);
    json_decref(g->res);
    g->res = NULL;
}

static void
free_summary(void *arg)
{
    struct summary *s = arg;
    size_t i;

    got_free(&s->plan);
    got_free(&s->patient);
    for (i = 0; i < s->nparts; i++)
        got_free(&s->part[i]);
}

/* The patient the request names, by id or NHS number; NULL after
 * answering. */
static const char *
find_patient(struct ctx *x, const struct args *a)
{
    const char *nhs, *bar;
    char (*found)[65];
    struct cr_err err;
    size_t n = 0;

    if (x->route.kind == R_INSTANCE_OP)
        return x->route.id;
    if (a->identifier == NULL) {
        cr_api_outcome(x, 400, "error", "required", "identifier",
                       "name the patient: Patient/{id}/$care-plan-summary "
                       "or Patient/$care-plan-summary?identifier="
                       CR_FHIR_NHS_NUMBER_SYSTEM "|NNNNNNNNNN");
        return NULL;
    }
    bar = strchr(a->identifier, '|');
    nhs = bar ? bar + 1 : a->identifier;
    if ((bar && (size_t)(bar - a->identifier) !=
                    strlen(CR_FHIR_NHS_NUMBER_SYSTEM)) ||
        (bar && strncmp(a->identifier, CR_FHIR_NHS_NUMBER_SYSTEM,
                        strlen(CR_FHIR_NHS_NUMBER_SYSTEM)) != 0) ||
        !cr_fhir_nhs_number_valid(nhs, strlen(nhs))) {
        cr_api_outcome(x, 400, "error", "value", "identifier",
                       "identifier must be a valid NHS number, as "
                       CR_FHIR_NHS_NUMBER_SYSTEM "|NNNNNNNNNN or the ten "
                       "digits alone");
        return NULL;
    }
    found = cr_arena_alloc(x->req->arena, 2 * sizeof *found);
    cr_err_clear(&err);
    if (found == NULL ||
        cr_store_find_token(x->api->store, "Patient", "identifier",
                            CR_FHIR_NHS_NUMBER_SYSTEM, nhs, found, 2, &n,
                            &err) != CR_OK) {
        cr_api_fail(x, &err);
        return NULL;
    }
    if (n == 0) {
        cr_api_outcome(x, 404, "error", "not-found", "identifier",
                       "no patient with NHS number %s is known to this "
                       "server", nhs);
        return NULL;
    }
    if (n > 1) {
        cr_api_outcome(x, 412, "error", "multiple-matches", "identifier",
                       "%zu patients have NHS number %s here; use "
                       "Patient/{id}/$care-plan-summary", n, nhs);
        return NULL;
    }
    return found[0];
}

/* The patient's current plan (the one written last, should imported data
 * hold more than one). */
static cr_rc
pick_plan(void *ctx, const char *type, const char *id,
          const struct cr_store_meta *meta, const char *json, size_t len)
{
    struct summary *s = ctx;

    (void)type;
    (void)id;
    if (!cr_careplan_text_is_plan(json, len, true))
        return CR_OK;
    if (s->has_plan && meta->seq <= s->plan.meta.seq)
        return CR_OK;
    s->has_plan = true;
    cr_buf_reset(&s->plan.text);
    cr_buf_add(&s->plan.text, json, len);
    s->plan.meta = *meta;
    return s->plan.text.rc;
}

/* Read type/id into 'g' if the view shows it (counting what is withheld);
 * true when it may be used. */
static bool
read_visible(struct summary *s, const char *type, const char *id,
             struct got *g)
{
    struct ctx *x = s->x;
    enum cr_policy_show show;

    if (cr_store_read(x->api->store, type, id, &g->text, &g->meta, NULL) !=
            CR_OK ||
        strcmp(g->meta.patient, s->pid) != 0)
        return false;
    show = cr_api_view_item(x, type, &g->meta, g->text.ptr, g->text.len,
                            NULL);
    if (show == CR_POLICY_WITHHOLD)
        return false;
    g->res = json_loadb(g->text.ptr, g->text.len, 0, NULL);
    if (g->res == NULL)
        return false;
    cr_api_touch(x, type, id, g->meta.version);
    return true;
}

/* "Type/id" of a relative reference, or one on this server's base. */
static bool
split(const struct ctx *x, const char *ref, char type[64], char id[65])
{
    const char *base = x->api->base_url, *slash;
    size_t blen = strlen(base), tl, il;

    if (ref == NULL)
        return false;
    if (blen && strncmp(ref, base, blen) == 0 && ref[blen] == '/')
        ref += blen + 1;
    slash = strchr(ref, '/');
    if (slash == NULL || strchr(ref, ':') || strchr(slash + 1, '/'))
        return false;
    tl = (size_t)(slash - ref);
    il = strlen(slash + 1);
    if (tl == 0 || tl >= 64 || il == 0 || il >= 65)
        return false;
    memcpy(type, ref, tl);
    type[tl] = '\0';
    memcpy(id, slash + 1, il + 1);
    return cr_fhir_is_supported_type(type) && cr_fhir_valid_id(id, il);
}

/* The parts the plan refers to, as far as the caller may see them. */
static void
read_parts(struct summary *s)
{
    static const char *const lists[] = { "supportingInfo", "activity", NULL };
    const json_t *item;
    size_t k, i;

    for (k = 0; lists[k]; k++)
        json_array_foreach(json_object_get(s->plan.res, lists[k]), i, item) {
            const json_t *ref = k ? json_object_get(item, "reference") : item;
            char type[64], id[65];
            struct got *g;
            char *r;

            if (s->nparts == MAX_PARTS ||
                !split(s->x, json_string_value(json_object_get(ref,
                                                               "reference")),
                       type, id))
                continue;
            g = &s->part[s->nparts];
            g->text = cr_buf_make(0);
            if (!read_visible(s, type, id, g)) {
                got_free(g);
                continue;
            }
            r = cr_arena_alloc(s->x->req->arena, 140);
            if (r == NULL) {
                got_free(g);
                continue;
            }
            snprintf(r, 140, "%s/%s", type, id);
            s->parts[s->nparts].ref = r;
            s->parts[s->nparts].type = strcmp(type, "Flag") == 0 ? "Flag"
                : strcmp(type, "RelatedPerson") == 0 ? "RelatedPerson"
                : strcmp(type, "MedicationRequest") == 0 ? "MedicationRequest"
                : "other";
            s->parts[s->nparts].res = g->res;
            s->parts[s->nparts].where = "";
            s->nparts++;
        }
}

void
cr_api_care_plan_summary(struct ctx *x)
{
    struct summary *s = cr_arena_calloc(x->req->arena, 1, sizeof *s);
    const struct cr_policy_decision *d;
    const char *patients[1], *types[1] = { "CarePlan" };
    struct cr_careplan_summary_in in;
    struct cr_careplan_part plan_part;
    struct cr_buf b = cr_buf_make(x->api->cfg.max_response);
    struct cr_store_meta pm;
    struct args a;
    struct cr_err err;
    char today[11], ref[140];
    int n = 0;
    cr_rc rc;

    x->has_action = true;
    x->action = CR_AUDIT_CARE_PLAN_SUMMARY;
    if (s == NULL) {
        cr_api_outcome(x, 503, "error", "transient", NULL,
                       "the server is out of memory; try again shortly");
        return;
    }
    s->x = x;
    s->plan.text = cr_buf_make(0);
    s->patient.text = cr_buf_make(0);
    cr_arena_on_destroy(x->req->arena, free_summary, s);
    memset(&a, 0, sizeof a);
    cr_http_args(x->req, take, &a);
    if (a.bad) {
        cr_api_outcome(x, 400, "error", "not-supported", NULL,
                       "$care-plan-summary does not take '%.80s' (it takes "
                       "identifier)", a.bad);
        return;
    }
    s->pid = find_patient(x, &a);
    if (s->pid == NULL)
        return;
    cr_err_clear(&err);
    rc = cr_store_read(x->api->store, "Patient", s->pid, NULL, &pm, &err);
    if (rc == CR_ENOTFOUND || rc == CR_EGONE) {
        cr_api_outcome(x, rc == CR_EGONE ? 410 : 404, "error",
                       rc == CR_EGONE ? "deleted" : "not-found", NULL,
                       "Patient/%s %s", s->pid,
                       rc == CR_EGONE ? "was deleted"
                                      : "is not known to this server");
        return;
    }
    if (rc != CR_OK) {
        cr_api_fail(x, &err);
        return;
    }
    x->audit_patient = s->pid;
    d = cr_api_view_patient(x, s->pid);
    if (d == NULL || !d->is_allowed) {
        cr_api_view_deny(x, d);
        return;
    }
    if (!cr_policy_type_permitted(x->api->policy, d, "CarePlan")) {
        char msg[256];
        snprintf(msg, sizeof msg, "your role (%s) may not see care plans: "
                 "ask a colleague whose role covers them",
                 x->principal.role);
        cr_api_view_refusal(x, "role-not-permitted", msg);
        return;
    }
    if (read_visible(s, "Patient", s->pid, &s->patient) == false)
        got_free(&s->patient);
    patients[0] = s->pid;
    rc = cr_store_compartment(x->api->store, patients, 1, types, 1,
                              pick_plan, s, &err);
    if (rc != CR_OK) {
        cr_api_fail(x, &err);
        return;
    }
    memset(&in, 0, sizeof in);
    if (s->has_plan &&
        cr_api_view_item(x, "CarePlan", &s->plan.meta, s->plan.text.ptr,
                         s->plan.text.len, NULL) != CR_POLICY_WITHHOLD &&
        (s->plan.res = json_loadb(s->plan.text.ptr, s->plan.text.len, 0,
                                  NULL)) != NULL) {
        const char *pid = json_string_value(json_object_get(s->plan.res,
                                                            "id"));
        snprintf(ref, sizeof ref, "CarePlan/%s", pid ? pid : "");
        cr_api_touch(x, "CarePlan", pid ? pid : "", s->plan.meta.version);
        read_parts(s);
        plan_part.ref = ref;
        plan_part.type = "CarePlan";
        plan_part.res = s->plan.res;
        plan_part.where = "";
        in.plan = &plan_part;
        in.plan_version = s->plan.meta.version;
        in.plan_updated_ms = s->plan.meta.last_updated_ms;
        in.parts = s->parts;
        in.nparts = s->nparts;
        in.node = cr_store_node_id(x->api->store);
        in.publisher = s->plan.meta.org;
    }
    in.patient = s->patient.res;
    in.patient_id = s->pid;
    cr_civil_format_date(cr_civil_uk_day(cr_clock_now_ms()), today,
                         sizeof today);
    in.today = today;
    cr_careplan_summary_begin(&b, cr_clock_now_ms());
    cr_careplan_summarise(&in, &b, &n);
    if (cr_api_view_has_notice(x))
        cr_careplan_summary_withheld(&b, &n);
    cr_buf_adds(&b, "]}");
    if (b.rc != CR_OK) {
        cr_buf_free(&b);
        cr_api_too_big(x);
        return;
    }
    cr_api_send_buf(x, 200, &b);
}

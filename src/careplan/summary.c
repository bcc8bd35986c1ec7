/* summary.c: the emergency summary of a Universal Care Plan.
 *
 * What a paramedic at 3 a.m. needs first, on one screen: whether to
 * attempt CPR and whether that decision is still valid, the ceiling of
 * treatment, where the person wants to be cared for and to die, whom to
 * call, whether someone holds a lasting power of attorney, where the
 * just-in-case medicines are, and who last changed the plan. Written as
 * the "parameter" members of a FHIR Parameters resource (the layout is in
 * docs/care-plan.md). A CPR decision whose review date has passed is
 * reported as needing review, never as valid; one without a review date
 * likewise. Only what the caller passes in is used: resources the access
 * policy withheld are simply absent. Depends on careplanInt.h, core/
 * (buf, clock) and jansson. Thread-safe. */
#include "careplan/careplanInt.h"

#include "core/clock.h"

#include <stdlib.h>
#include <string.h>

/* ---- writing parameters ---------------------------------------------- */

void
cr_careplan_param_open(struct cr_buf *b, int *n, const char *name,
                       const char *key)
{
    if ((*n)++)
        cr_buf_addc(b, ',');
    cr_buf_adds(b, "{\"name\":\"");
    cr_buf_adds(b, name);
    cr_buf_adds(b, "\",\"");
    cr_buf_adds(b, key);
    cr_buf_adds(b, "\":");
}

void
cr_careplan_param_str(struct cr_buf *b, int *n, const char *name,
                      const char *key, const char *s)
{
    if (s == NULL || *s == '\0')
        return;
    cr_careplan_param_open(b, n, name, key);
    cr_buf_add_json_str(b, s);
    cr_buf_addc(b, '}');
}

/* the writers of careplanInt.h, by the short names this file uses */
#define p_open cr_careplan_param_open
#define p_str cr_careplan_param_str

/* {"name":NAME,"KEY":VALUE} with VALUE raw JSON text. */
static void
p_raw(struct cr_buf *b, int *n, const char *name, const char *key,
      const char *raw)
{
    p_open(b, n, name, key);
    cr_buf_adds(b, raw);
    cr_buf_addc(b, '}');
}

static void
p_bool(struct cr_buf *b, int *n, const char *name, bool v)
{
    p_raw(b, n, name, "valueBoolean", v ? "true" : "false");
}

/* A parsed value (CodeableConcept, Reference...) as it was written. */
static void
p_json(struct cr_buf *b, int *n, const char *name, const char *key,
       const json_t *v)
{
    char *text;

    if (v == NULL)
        return;
    text = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);
    if (text == NULL) {
        b->rc = b->rc ? b->rc : CR_ENOMEM;
        return;
    }
    p_raw(b, n, name, key, text);
    free(text);
}

/* {"name":NAME,"valueReference":{"reference":REF[,"display":..]}} */
static void
p_ref(struct cr_buf *b, int *n, const char *name, const char *ref,
      const char *display)
{
    p_open(b, n, name, "valueReference");
    cr_buf_adds(b, "{\"reference\":");
    cr_buf_add_json_str(b, ref);
    if (display && *display) {
        cr_buf_adds(b, ",\"display\":");
        cr_buf_add_json_str(b, display);
    }
    cr_buf_adds(b, "}}");
}

static void
p_coding(struct cr_buf *b, int *n, const char *name, const char *system,
         const char *code, const char *display)
{
    p_open(b, n, name, "valueCoding");
    cr_buf_adds(b, "{\"system\":");
    cr_buf_add_json_str(b, system);
    cr_buf_adds(b, ",\"code\":");
    cr_buf_add_json_str(b, code);
    cr_buf_adds(b, ",\"display\":");
    cr_buf_add_json_str(b, display);
    cr_buf_adds(b, "}}");
}

/* Open {"name":NAME,"part":[ ; members go in with their own counter. */
static void
group_open(struct cr_buf *b, int *n, const char *name)
{
    p_open(b, n, name, "part");
    cr_buf_addc(b, '[');
}

static void
group_close(struct cr_buf *b)
{
    cr_buf_adds(b, "]}");
}

/* A group of two parts: 'jname' (a parsed value under 'jkey') and
 * 'sname' (a string); whichever is missing is left out, and when both
 * are, 'sname' says "(not recorded)" (a group needs a part). */
static void
pair_group(struct cr_buf *b, int *n, const char *name, const char *jname,
           const char *jkey, const json_t *jv, const char *sname,
           const char *sv)
{
    int k = 0;

    group_open(b, n, name);
    p_json(b, &k, jname, jkey, jv);
    p_str(b, &k, sname, "valueString", sv);
    if (k == 0)
        p_str(b, &k, sname, "valueString", "(not recorded)");
    group_close(b);
}

/* "Given Family" (or the name's text) of the first HumanName of 'res'. */
static void
name_text(const json_t *res, struct cr_buf *out)
{
    const json_t *nm = json_array_get(json_object_get(res, "name"), 0), *g;
    size_t i;

    if (cr_careplan_str(nm, "text")) {
        cr_buf_adds(out, cr_careplan_str(nm, "text"));
        return;
    }
    json_array_foreach(json_object_get(nm, "given"), i, g)
        if (json_string_value(g)) {
            cr_buf_adds(out, json_string_value(g));
            cr_buf_addc(out, ' ');
        }
    if (cr_careplan_str(nm, "family"))
        cr_buf_adds(out, cr_careplan_str(nm, "family"));
    while (out->len && out->ptr[out->len - 1] == ' ')
        out->ptr[--out->len] = '\0';
}

/* The first part of 'kind' that the plan refers to (parts are what it
 * refers to and the caller may see). */
static const struct cr_careplan_part *
first_of(const struct cr_careplan_summary_in *in, enum cr_careplan_kind kind)
{
    size_t i;

    for (i = 0; i < in->nparts; i++)
        if (in->parts[i].res &&
            cr_careplan_kind_of(in->parts[i].type, in->parts[i].res) == kind)
            return &in->parts[i];
    return NULL;
}

/* ---- sections -------------------------------------------------------- */

static void
patient_section(const struct cr_careplan_summary_in *in, struct cr_buf *b,
                int *n)
{
    const json_t *id;
    struct cr_buf nm = cr_buf_make(1024);
    char ref[80];
    size_t i;

    if (in->patient == NULL)
        return;
    name_text(in->patient, &nm);
    snprintf(ref, sizeof ref, "Patient/%s", in->patient_id);
    p_ref(b, n, "patient", ref, nm.rc == CR_OK ? nm.ptr : NULL);
    cr_buf_free(&nm);
    json_array_foreach(json_object_get(in->patient, "identifier"), i, id) {
        const char *s = cr_careplan_str(id, "system");
        if (s && strcmp(s, "https://fhir.nhs.uk/Id/nhs-number") == 0 &&
            cr_careplan_str(id, "value")) {
            p_open(b, n, "nhsNumber", "valueIdentifier");
            cr_buf_adds(b, "{\"system\":\"https://fhir.nhs.uk/Id/"
                           "nhs-number\",\"value\":");
            cr_buf_add_json_str(b, cr_careplan_str(id, "value"));
            cr_buf_adds(b, "}}");
            break;
        }
    }
    p_str(b, n, "birthDate", "valueDate",
          cr_careplan_str(in->patient, "birthDate"));
}

static void
cpr_section(const struct cr_careplan_summary_in *in, struct cr_buf *b,
            int *n)
{
    const struct cr_careplan_part *p = first_of(in, CR_CAREPLAN_CPR);
    const json_t *r = p ? p->res : NULL, *period = json_object_get(r, "period");
    const json_t *code = json_object_get(r, "code");
    const char *status = cr_careplan_str(r, "status");
    const char *end = cr_careplan_str(period, "end");
    char review[11], msg[512];
    const char *vcode, *vdisplay;
    int k = 0;

    if (r == NULL || status == NULL || strcmp(status, "active") != 0) {
        vcode = "not-recorded";
        vdisplay = "No CPR decision recorded";
        snprintf(msg, sizeof msg, "%s",
                 in->plan ? "No current CPR decision is recorded in this "
                            "care plan."
                          : "No care plan is on record here, so no CPR "
                            "decision is recorded.");
    } else if (cr_careplan_cc_has(code, CR_CAREPLAN_SCT,
                                  CR_CAREPLAN_CPR_UNKNOWN)) {
        vcode = "unknown";
        vdisplay = "Not aware of a CPR decision";
        snprintf(msg, sizeof msg, "The clinician who wrote this plan was "
                 "not aware of a CPR decision.");
    } else if (!cr_careplan_date_of(end, review)) {
        vcode = "needs-review";
        vdisplay = "Needs review";
        snprintf(msg, sizeof msg, "%s: this decision has no review date, "
                 "so it needs review; do not treat it as valid.",
                 cr_careplan_cc_text(code) ? cr_careplan_cc_text(code)
                                           : "CPR decision");
    } else if (strcmp(review, in->today) < 0) {
        vcode = "needs-review";
        vdisplay = "Needs review";
        snprintf(msg, sizeof msg, "%s: the review date (%s) has passed, so "
                 "this decision needs review; do not treat it as valid.",
                 cr_careplan_cc_text(code) ? cr_careplan_cc_text(code)
                                           : "CPR decision", review);
    } else {
        vcode = "valid";
        vdisplay = "Valid";
        snprintf(msg, sizeof msg, "%s, valid until its review date (%s).",
                 cr_careplan_cc_text(code) ? cr_careplan_cc_text(code)
                                           : "CPR decision", review);
    }
    group_open(b, n, "cprDecision");
    p_coding(b, &k, "validity", CR_CAREPLAN_VALIDITY_SYSTEM, vcode,
             vdisplay);
    p_str(b, &k, "message", "valueString", msg);
    if (r && strcmp(vcode, "not-recorded") != 0) {
        const json_t *endorser = cr_careplan_ext(r, CR_CAREPLAN_EXT_ENDORSER);
        char ref[160];
        p_json(b, &k, "decision", "valueCodeableConcept", code);
        p_str(b, &k, "decisionDate", "valueDateTime",
              cr_careplan_str(period, "start"));
        p_str(b, &k, "reviewDate", "valueDateTime", end);
        p_str(b, &k, "discussedWith", "valueString",
              cr_careplan_ext_str(r, CR_CAREPLAN_EXT_DISCUSSED));
        p_str(b, &k, "reason", "valueString",
              cr_careplan_ext_str(r, CR_CAREPLAN_EXT_CPR_REASON));
        p_json(b, &k, "recordedBy", "valueReference",
               json_object_get(r, "author"));
        p_json(b, &k, "seniorEndorser", "valueReference",
               cr_careplan_ext_value(endorser, "clinician",
                                     "valueReference"));
        snprintf(ref, sizeof ref, "%s", p->ref);
        p_ref(b, &k, "flag", ref, NULL);
    }
    group_close(b);
}

static void
activities_section(const struct cr_careplan_summary_in *in,
                   struct cr_buf *b, int *n)
{
    const json_t *a;
    size_t i, j;
    bool has_ceiling = false;

    json_array_foreach(json_object_get(in->plan->res, "activity"), i, a) {
        const json_t *d = json_object_get(a, "detail");
        const json_t *code = json_object_get(d, "code");
        int k = 0;
        if (!has_ceiling &&
            cr_careplan_cc_has(code, CR_CAREPLAN_SCT, CR_CAREPLAN_TEP_CODE)) {
            has_ceiling = true;
            pair_group(b, n, "ceilingOfTreatment", "level",
                       "valueCodeableConcept",
                       cr_careplan_ext_value(d, CR_CAREPLAN_EXT_CEILING,
                                             "valueCodeableConcept"),
                       "recommendations", cr_careplan_str(d, "description"));
        } else if (cr_careplan_cc_has(code, CR_CAREPLAN_UCP_SYSTEM,
                                      CR_CAREPLAN_JIC_CODE)) {
            const json_t *a2;
            group_open(b, n, "justInCaseMedicines");
            p_str(b, &k, "whereKept", "valueString",
                  cr_careplan_ext_str(d, CR_CAREPLAN_EXT_WHERE_KEPT));
            p_str(b, &k, "details", "valueString",
                  cr_careplan_str(d, "description"));
            /* the medicines themselves, as far as the caller may see */
            json_array_foreach(json_object_get(in->plan->res, "activity"), j,
                               a2) {
                const struct cr_careplan_part *m = cr_careplan_find_part(
                    in->parts, in->nparts,
                    cr_careplan_str(json_object_get(a2, "reference"),
                                    "reference"));
                if (m && m->res &&
                    cr_careplan_kind_of(m->type, m->res) ==
                        CR_CAREPLAN_MEDICINE)
                    p_str(b, &k, "medicine", "valueString",
                          cr_careplan_cc_text(json_object_get(
                              m->res, "medicationCodeableConcept")));
            }
            if (k == 0)
                p_str(b, &k, "details", "valueString", "(not recorded)");
            group_close(b);
        }
    }
}

static void
contacts_section(const struct cr_careplan_summary_in *in, struct cr_buf *b,
                 int *n)
{
    size_t i, j;

    for (i = 0; i < in->nparts; i++) {
        const struct cr_careplan_part *p = &in->parts[i];
        const json_t *rel, *t;
        struct cr_buf s = cr_buf_make(4096);
        bool nok = false, lpa = false;
        int k = 0;
        if (p->res == NULL ||
            cr_careplan_kind_of(p->type, p->res) != CR_CAREPLAN_CONTACT)
            continue;
        group_open(b, n, "contact");
        name_text(p->res, &s);
        p_str(b, &k, "name", "valueString",
              s.rc == CR_OK && s.len ? s.ptr : "(no name recorded)");
        cr_buf_reset(&s);
        json_array_foreach(json_object_get(p->res, "relationship"), j, rel) {
            const char *text = cr_careplan_cc_text(rel);
            nok = nok || cr_careplan_cc_has(rel, CR_CAREPLAN_CONTACT_ROLE,
                                            "N");
            lpa = lpa || cr_careplan_cc_has(rel, CR_CAREPLAN_ROLECODE,
                                            CR_CAREPLAN_LPA_ROLE);
            if (text) {
                if (s.len)
                    cr_buf_adds(&s, ", ");
                cr_buf_adds(&s, text);
            }
        }
        if (s.rc == CR_OK && s.len)
            p_str(b, &k, "relationship", "valueString", s.ptr);
        cr_buf_free(&s);
        json_array_foreach(json_object_get(p->res, "telecom"), j, t) {
            const char *sys = cr_careplan_str(t, "system");
            if (sys && strcmp(sys, "phone") == 0)
                p_str(b, &k, "phone", "valueString",
                      cr_careplan_str(t, "value"));
        }
        p_bool(b, &k, "nextOfKin", nok);
        p_bool(b, &k, "lastingPowerOfAttorney", lpa);
        p_ref(b, &k, "contact", p->ref, NULL);
        group_close(b);
    }
}

/* Where the plan is kept: the node and the publishing organisation, so a
 * summary built from several nodes says where its plan came from. */
static void
source_section(const struct cr_careplan_summary_in *in, struct cr_buf *b,
               int *n)
{
    int k = 0;

    if ((in->node == NULL || *in->node == '\0') &&
        (in->publisher == NULL || *in->publisher == '\0'))
        return;
    group_open(b, n, "source");
    p_str(b, &k, "node", "valueCode", in->node);
    if (in->publisher && *in->publisher) {
        p_open(b, &k, "organization", "valueIdentifier");
        cr_buf_adds(b, "{\"system\":\"" CR_CAREPLAN_ODS_SYSTEM
                       "\",\"value\":");
        cr_buf_add_json_str(b, in->publisher);
        cr_buf_adds(b, "}}");
    }
    group_close(b);
}

static void
plan_section(const struct cr_careplan_summary_in *in, struct cr_buf *b,
             int *n)
{
    const json_t *r = in->plan->res;
    const json_t *pri = cr_careplan_ext(r, CR_CAREPLAN_EXT_PRIORITIES);
    const json_t *cap = cr_careplan_ext(r, CR_CAREPLAN_EXT_CAPACITY);
    const json_t *rec = cr_careplan_ext(r, CR_CAREPLAN_EXT_RECORDED);
    const struct cr_careplan_part *adrt = first_of(in, CR_CAREPLAN_ADRT);
    const struct cr_careplan_part *lpa = first_of(in, CR_CAREPLAN_LPA);
    const char *review = cr_careplan_str(
        cr_careplan_ext(r, CR_CAREPLAN_EXT_REVIEW), "valueDate");
    const json_t *author;
    const char *signed_off;
    char ref[160], when[32], d[11];
    int k;

    activities_section(in, b, n);
    if (pri)
        pair_group(b, n, "priorities", "scale", "valueInteger",
                   cr_careplan_ext_value(pri, "scale", "valueInteger"),
                   "whatMattersToMe",
                   cr_careplan_ext_str(pri, "whatMattersToMe"));
    p_json(b, n, "preferredPlaceOfCare", "valueCodeableConcept",
           cr_careplan_ext_value(r, CR_CAREPLAN_EXT_PLACE_CARE,
                                 "valueCodeableConcept"));
    p_json(b, n, "preferredPlaceOfDeath", "valueCodeableConcept",
           cr_careplan_ext_value(r, CR_CAREPLAN_EXT_PLACE_DEATH,
                                 "valueCodeableConcept"));
    p_json(b, n, "prognosis", "valueCodeableConcept",
           cr_careplan_ext_value(r, CR_CAREPLAN_EXT_PROGNOSIS,
                                 "valueCodeableConcept"));
    if (cap)
        pair_group(b, n, "capacity", "hasCapacity", "valueBoolean",
                   cr_careplan_ext_value(cap, "hasCapacity", "valueBoolean"),
                   "involvement", cr_careplan_ext_str(cap, "involvement"));
    contacts_section(in, b, n);
    p_bool(b, n, "lastingPowerOfAttorney",
           lpa && cr_careplan_str(lpa->res, "status") &&
               strcmp(cr_careplan_str(lpa->res, "status"), "active") == 0);
    k = 0;
    group_open(b, n, "advanceDecisionToRefuseTreatment");
    p_bool(b, &k, "recorded", adrt != NULL);
    if (adrt)
        p_str(b, &k, "whereKept", "valueString",
              cr_careplan_ext_str(adrt->res, CR_CAREPLAN_EXT_LOCATION));
    group_close(b);
    p_str(b, n, "planReviewDate", "valueDate", review);
    if (cr_careplan_date_of(review, d))
        p_bool(b, n, "planNeedsReview", strcmp(d, in->today) < 0);
    author = json_is_array(json_object_get(r, "author"))
                 ? json_array_get(json_object_get(r, "author"), 0)
                 : json_object_get(r, "author");
    signed_off = cr_careplan_str(cr_careplan_ext(r, CR_CAREPLAN_EXT_SIGNED),
                                 "valueDateTime");
    if (author || signed_off) {
        k = 0;
        group_open(b, n, "signedOff");
        p_json(b, &k, "by", "valueReference", author);
        p_str(b, &k, "when", "valueDateTime", signed_off);
        group_close(b);
    }
    k = 0;
    group_open(b, n, "lastUpdated");
    cr_clock_instant(in->plan_updated_ms, when, sizeof when);
    p_json(b, &k, "by", "valueReference",
           cr_careplan_ext_value(rec, "who", "valueReference"));
    p_json(b, &k, "organization", "valueReference",
           cr_careplan_ext_value(rec, "organization", "valueReference"));
    p_json(b, &k, "role", "valueCoding",
           cr_careplan_ext_value(rec, "role", "valueCoding"));
    p_str(b, &k, "when", "valueInstant", when);
    group_close(b);
    snprintf(ref, sizeof ref, "%s/_history/%lld", in->plan->ref,
             (long long)in->plan_version);
    p_ref(b, n, "plan", ref, cr_careplan_str(r, "title"));
    source_section(in, b, n);
}

void
cr_careplan_summary_begin(struct cr_buf *out, int64_t now_ms)
{
    char now[32];

    cr_clock_instant(now_ms, now, sizeof now);
    cr_buf_adds(out, "{\"resourceType\":\"Parameters\",\"meta\":{"
                     "\"lastUpdated\":\"");
    cr_buf_adds(out, now);
    cr_buf_adds(out, "\"},\"parameter\":[");
}

void
cr_careplan_summary_withheld(struct cr_buf *out, int *n)
{
    p_str(out, n, "withheld", "valueString", CR_CAREPLAN_WITHHELD_TEXT);
}

void
cr_careplan_summarise(const struct cr_careplan_summary_in *in,
                      struct cr_buf *out, int *n)
{
    patient_section(in, out, n);
    p_bool(out, n, "hasPlan", in->plan != NULL && in->plan->res != NULL);
    cpr_section(in, out, n);
    if (in->plan && in->plan->res)
        plan_section(in, out, n);
}

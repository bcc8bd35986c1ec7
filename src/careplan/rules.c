/* rules.c: the rules a Universal Care Plan keeps, checked over the whole
 * plan at once.
 *
 * Each broken rule becomes one issue naming the element at fault (a
 * FHIRPath into the request, e.g. "Bundle.entry[1].resource.period.end")
 * and saying in a sentence what to do, so a care planning form can show
 * every problem beside its field after one save. The rules and their
 * reasons are listed in docs/care-plan.md ("Rules"); the order of the
 * checks here follows that table. Depends on careplanInt.h, core/ and
 * jansson. Thread-safe (reads only). */
#include "careplan/careplanInt.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

/* FHIRPath of an extension of the element before it. */
#define EXT(url) ".extension.where(url='" url "')"

struct check {
    const struct cr_careplan_part *plan;
    const struct cr_careplan_part *parts;
    size_t nparts;
    const char *pid;
    struct cr_careplan_issues *out;
};

static void
issue(struct check *c, const char *code, const char *where,
      const char *rest, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));

/* Record one issue at 'where' followed by 'rest' (may be ""). */
static void
issue(struct check *c, const char *code, const char *where,
      const char *rest, const char *fmt, ...)
{
    struct cr_careplan_issue *it;
    va_list ap;

    if (c->out->n >= CR_CAREPLAN_MAX_ISSUES) {
        c->out->more++;
        return;
    }
    it = &c->out->item[c->out->n++];
    snprintf(it->code, sizeof it->code, "%s", code);
    snprintf(it->where, sizeof it->where, "%s%s", where ? where : "",
             rest ? rest : "");
    va_start(ap, fmt);
    vsnprintf(it->msg, sizeof it->msg, fmt, ap);
    va_end(ap);
}

/* ---- parts ----------------------------------------------------------- */

/* Every part but the plan belongs to the patient. */
static void
check_patient(struct check *c, const struct cr_careplan_part *p)
{
    const json_t *ref = cr_careplan_patient_ref(p->type, p->res);
    const char *key = strcmp(p->type, "RelatedPerson") == 0 ? "patient"
                                                            : "subject";
    char rest[16];

    snprintf(rest, sizeof rest, ".%s", key);
    if (!cr_careplan_refers_to_patient(ref, c->pid))
        issue(c, "invalid", p->where, rest,
              "%s is part of the care plan of Patient/%s, so its %s must "
              "be Patient/%s", p->type, c->pid, key, c->pid);
}

static bool
is_decision(const json_t *flag)
{
    const json_t *code = json_object_get(flag, "code");

    return cr_careplan_cc_has(code, CR_CAREPLAN_SCT, CR_CAREPLAN_CPR_YES) ||
           cr_careplan_cc_has(code, CR_CAREPLAN_SCT, CR_CAREPLAN_CPR_NO);
}

static void
check_cpr(struct check *c, const struct cr_careplan_part *p)
{
    const json_t *r = p->res, *period = json_object_get(r, "period");
    const json_t *endorser = cr_careplan_ext(r, CR_CAREPLAN_EXT_ENDORSER);
    const json_t *senior = cr_careplan_ext_value(r, CR_CAREPLAN_EXT_SENIOR,
                                                 "valueBoolean");
    const char *start = cr_careplan_str(period, "start");
    const char *end = cr_careplan_str(period, "end");
    char d0[11], d1[11];
    bool decision = is_decision(r);

    if (!cr_careplan_str(r, "status") ||
        strcmp(cr_careplan_str(r, "status"), "active") != 0)
        issue(c, "value", p->where, ".status",
              "the plan's CPR decision must be active; to end it, save a "
              "plan with a new decision");
    if (start == NULL)
        issue(c, "required", p->where, ".period.start",
              "the CPR decision needs the date it was made "
              "(Flag.period.start)");
    if (decision && end == NULL)
        issue(c, "required", p->where, ".period.end",
              "a CPR decision needs a review date (Flag.period.end): a "
              "decision is valid only until it is reviewed");
    if (start && end && cr_careplan_date_of(start, d0) &&
        cr_careplan_date_of(end, d1) && strcmp(d1, d0) < 0)
        issue(c, "value", p->where, ".period.end",
              "the CPR decision's review date (%s) is before the date it "
              "was made (%s)", d1, d0);
    if (!json_is_object(json_object_get(r, "author")))
        issue(c, "required", p->where, ".author",
              "the CPR decision needs the clinician who recorded it "
              "(Flag.author)");
    if (decision && cr_careplan_ext_str(r, CR_CAREPLAN_EXT_DISCUSSED) ==
                        NULL)
        issue(c, "required", p->where, EXT(CR_CAREPLAN_EXT_DISCUSSED),
              "a CPR decision must say with whom it was discussed (the "
              "person, their family, their attorney), or why it was not "
              "discussed");
    if (!json_is_true(senior) &&
        !json_is_object(cr_careplan_ext_value(endorser, "clinician",
                                              "valueReference")))
        issue(c, "required", p->where, EXT(CR_CAREPLAN_EXT_ENDORSER),
              "the clinician who recorded this CPR decision is not stated "
              "to be the senior responsible clinician (%s), so a senior "
              "clinician must endorse it: add the senior endorser "
              "(sub-extension 'clinician')", CR_CAREPLAN_EXT_SENIOR);
}

static void
check_contact(struct check *c, const struct cr_careplan_part *p,
              bool has_lpa_flag)
{
    const json_t *r = p->res, *rel, *t, *name;
    size_t i;
    bool is_attorney = false, has_phone = false;

    json_array_foreach(json_object_get(r, "relationship"), i, rel)
        if (cr_careplan_cc_has(rel, CR_CAREPLAN_ROLECODE,
                               CR_CAREPLAN_LPA_ROLE))
            is_attorney = true;
    if (is_attorney && !has_lpa_flag)
        issue(c, "business-rule", p->where, ".relationship",
              "this person is recorded as holding a lasting power of "
              "attorney (%s %s), so the plan must also have the LPA flag: "
              "an active Flag coded SNOMED CT %s in CarePlan.supportingInfo",
              CR_CAREPLAN_ROLECODE, CR_CAREPLAN_LPA_ROLE,
              CR_CAREPLAN_LPA_CODE);
    name = json_array_get(json_object_get(r, "name"), 0);
    if (!cr_careplan_str(name, "text") && !cr_careplan_str(name, "family") &&
        !json_array_size(json_object_get(name, "given")))
        issue(c, "required", p->where, ".name",
              "a key contact needs a name");
    json_array_foreach(json_object_get(r, "telecom"), i, t) {
        const char *sys = cr_careplan_str(t, "system");
        if (sys && strcmp(sys, "phone") == 0 && cr_careplan_str(t, "value"))
            has_phone = true;
    }
    if (!has_phone)
        issue(c, "required", p->where, ".telecom",
              "a key contact needs a phone number (a telecom with system "
              "'phone'): the plan is read in emergencies to know whom to "
              "call");
}

/* ---- the CarePlan ---------------------------------------------------- */

static void
check_plan_fields(struct check *c)
{
    const json_t *r = c->plan->res, *cap, *pri;
    const char *w = c->plan->where, *s;
    const char *signed_off = cr_careplan_str(
        cr_careplan_ext(r, CR_CAREPLAN_EXT_SIGNED), "valueDateTime");
    const char *review = cr_careplan_str(
        cr_careplan_ext(r, CR_CAREPLAN_EXT_REVIEW), "valueDate");
    char d0[11], d1[11];

    if (!cr_careplan_refers_to_patient(json_object_get(r, "subject"),
                                       c->pid))
        issue(c, "invalid", w, ".subject",
              "the care plan's subject must be Patient/%s, the patient "
              "named in the URL", c->pid);
    s = cr_careplan_str(r, "status");
    if (s == NULL || strcmp(s, "active") != 0)
        issue(c, "value", w, ".status",
              "a care plan is saved as the person's current plan: its "
              "status must be 'active' (older plans are kept, superseded, "
              "by the server)");
    s = cr_careplan_str(r, "intent");
    if (s == NULL || strcmp(s, "plan") != 0)
        issue(c, "value", w, ".intent", "a care plan's intent is 'plan'");
    {
        const json_t *cat;
        size_t i;
        bool ok = false;
        json_array_foreach(json_object_get(r, "category"), i, cat)
            ok = ok || cr_careplan_cc_has(cat, CR_CAREPLAN_SCT,
                                          CR_CAREPLAN_EOL_PLAN);
        if (!ok)
            issue(c, "required", w, ".category",
                  "a Universal Care Plan has the category SNOMED CT %s "
                  "(End of life care plan)", CR_CAREPLAN_EOL_PLAN);
    }
    if (json_array_size(json_object_get(r, "author")) == 0 &&
        !json_is_object(json_object_get(r, "author")))
        issue(c, "required", w, ".author",
              "a care plan needs the clinician who signed it off "
              "(CarePlan.author)");
    if (signed_off == NULL)
        issue(c, "required", w, EXT(CR_CAREPLAN_EXT_SIGNED),
              "a care plan needs the date and time its clinician signed it "
              "off (valueDateTime)");
    if (review == NULL)
        issue(c, "required", w, EXT(CR_CAREPLAN_EXT_REVIEW),
              "a care plan needs the date by which it is to be reviewed "
              "(valueDate)");
    else if (signed_off && cr_careplan_date_of(signed_off, d0) &&
             cr_careplan_date_of(review, d1) && strcmp(d1, d0) < 0)
        issue(c, "value", w, EXT(CR_CAREPLAN_EXT_REVIEW),
              "the plan's review date (%s) is before it was signed off "
              "(%s)", d1, d0);
    pri = cr_careplan_ext(r, CR_CAREPLAN_EXT_PRIORITIES);
    if (pri) {
        const json_t *scale = cr_careplan_ext_value(pri, "scale",
                                                    "valueInteger");
        if (scale && (!json_is_integer(scale) ||
                      json_integer_value(scale) < 0 ||
                      json_integer_value(scale) > 100))
            issue(c, "value", w, EXT(CR_CAREPLAN_EXT_PRIORITIES)
                  ".extension.where(url='scale')",
                  "the priority scale runs from 0 (prioritise sustaining "
                  "life) to 100 (prioritise comfort)");
        if (scale == NULL &&
            cr_careplan_ext_str(pri, "whatMattersToMe") == NULL)
            issue(c, "required", w, EXT(CR_CAREPLAN_EXT_PRIORITIES),
                  "the person's priorities need the scale (0 to 100) or "
                  "what matters to them (whatMattersToMe), or both");
    }
    cap = cr_careplan_ext(r, CR_CAREPLAN_EXT_CAPACITY);
    if (cap) {
        const json_t *has = cr_careplan_ext_value(cap, "hasCapacity",
                                                  "valueBoolean");
        if (!json_is_boolean(has))
            issue(c, "required", w, EXT(CR_CAREPLAN_EXT_CAPACITY)
                  ".extension.where(url='hasCapacity')",
                  "say whether the person had capacity to take part in "
                  "making this plan (valueBoolean)");
        else if (json_is_false(has) &&
                 cr_careplan_ext_str(cap, "involvement") == NULL)
            issue(c, "required", w, EXT(CR_CAREPLAN_EXT_CAPACITY)
                  ".extension.where(url='involvement')",
                  "the person lacked capacity: say who was involved in "
                  "making the plan on their behalf (involvement)");
    }
}

/* The activities: one ceiling of treatment, with its level; just-in-case
 * medicines with where they are kept (also when a medicine is referred
 * to without a just-in-case activity). */
static void
check_activities(struct check *c)
{
    const json_t *r = c->plan->res, *a;
    const char *w = c->plan->where;
    size_t i, nceiling = 0;
    bool has_jic = false;
    char rest[160];

    json_array_foreach(json_object_get(r, "activity"), i, a) {
        const json_t *d = json_object_get(a, "detail");
        const json_t *code = json_object_get(d, "code");
        if (cr_careplan_cc_has(code, CR_CAREPLAN_SCT, CR_CAREPLAN_TEP_CODE)) {
            const json_t *lvl = cr_careplan_ext_value(
                d, CR_CAREPLAN_EXT_CEILING, "valueCodeableConcept");
            const char *k = cr_careplan_cc_code(lvl,
                                                CR_CAREPLAN_CEILING_SYSTEM);
            nceiling++;
            snprintf(rest, sizeof rest, ".activity[%zu].detail", i);
            if (k == NULL || (strcmp(k, "full-escalation") != 0 &&
                              strcmp(k, "ward-based") != 0 &&
                              strcmp(k, "symptom-control") != 0))
                issue(c, "value", w, rest,
                      "the ceiling of treatment needs its level, a code of "
                      "%s (full-escalation, ward-based or symptom-control) "
                      "in the extension %s", CR_CAREPLAN_CEILING_SYSTEM,
                      CR_CAREPLAN_EXT_CEILING);
        }
        if (cr_careplan_cc_has(code, CR_CAREPLAN_UCP_SYSTEM,
                               CR_CAREPLAN_JIC_CODE)) {
            snprintf(rest, sizeof rest, ".activity[%zu].detail" EXT(
                         CR_CAREPLAN_EXT_WHERE_KEPT), i);
            has_jic = true;
            if (cr_careplan_ext_str(d, CR_CAREPLAN_EXT_WHERE_KEPT) == NULL)
                issue(c, "required", w, rest,
                      "just-in-case medicines need where they are kept "
                      "(valueString), so that whoever comes can find them");
        }
    }
    if (nceiling == 0)
        issue(c, "required", w, ".activity",
              "a care plan needs the ceiling of treatment: an activity "
              "whose detail.code is SNOMED CT %s (Treatment escalation "
              "plan) with its level", CR_CAREPLAN_TEP_CODE);
    else if (nceiling > 1)
        issue(c, "invalid", w, ".activity",
              "a care plan has one ceiling of treatment, not %zu", nceiling);
    /* Medicines referred to need the just-in-case activity's place. */
    json_array_foreach(json_object_get(r, "activity"), i, a) {
        const struct cr_careplan_part *p = cr_careplan_find_part(
            c->parts, c->nparts,
            cr_careplan_str(json_object_get(a, "reference"), "reference"));
        if (p && p->res && strcmp(p->type, "MedicationRequest") == 0 &&
            !has_jic) {
            snprintf(rest, sizeof rest, ".activity[%zu].reference", i);
            issue(c, "required", w, rest,
                  "just-in-case medicines are recorded, so the plan needs "
                  "the activity that says where they are kept: coded %s|%s, "
                  "with the extension %s", CR_CAREPLAN_UCP_SYSTEM,
                  CR_CAREPLAN_JIC_CODE, CR_CAREPLAN_EXT_WHERE_KEPT);
            break;
        }
    }
}

/* Every reference of the plan resolves to a part; every part is referred
 * to. Marks the parts referred to in 'used'. */
static void
check_references(struct check *c, bool *used)
{
    static const char *const lists[] = { "supportingInfo", "activity", NULL };
    const json_t *r = c->plan->res, *item;
    size_t k, i;
    char rest[64];

    for (k = 0; lists[k]; k++) {
        json_array_foreach(json_object_get(r, lists[k]), i, item) {
            const json_t *ref = k == 0 ? item
                                       : json_object_get(item, "reference");
            const char *s = cr_careplan_str(ref, "reference");
            const struct cr_careplan_part *p;
            if (k == 1 && ref == NULL)
                continue;
            snprintf(rest, sizeof rest, ".%s[%zu]%s", lists[k], i,
                     k == 1 ? ".reference" : "");
            p = cr_careplan_find_part(c->parts, c->nparts, s);
            if (p == NULL || p->res == NULL) {
                issue(c, "not-found", c->plan->where, rest,
                      "the plan refers to %.120s, which is neither in the "
                      "request nor a resource of this patient on this node",
                      s ? s : "(a reference without 'reference')");
                continue;
            }
            used[p - c->parts] = true;
        }
    }
    for (i = 0; i < c->nparts; i++)
        if (!used[i] && c->parts[i].res)
            issue(c, "invalid", c->parts[i].where, "",
                  "%s is not part of the plan: the CarePlan must refer to "
                  "it (supportingInfo, or activity.reference for a "
                  "medicine)", c->parts[i].ref ? c->parts[i].ref
                                               : c->parts[i].type);
}

bool
cr_careplan_check(const struct cr_careplan_part *plan,
                  const struct cr_careplan_part *parts, size_t nparts,
                  const char *patient_id, struct cr_careplan_issues *out)
{
    struct check c = { plan, parts, nparts, patient_id, out };
    bool used[64] = { false }, has_lpa = false;
    size_t i, ncpr = 0, before = out->n + out->more;

    if (nparts > sizeof used / sizeof used[0]) {
        issue(&c, "too-costly", plan->where, "",
              "a care plan may refer to at most %zu resources",
              sizeof used / sizeof used[0]);
        return false;
    }
    check_plan_fields(&c);
    check_activities(&c);
    check_references(&c, used);
    for (i = 0; i < nparts; i++)
        if (parts[i].res && used[i] &&
            cr_careplan_kind_of(parts[i].type, parts[i].res) ==
                CR_CAREPLAN_LPA &&
            cr_careplan_str(parts[i].res, "status") &&
            strcmp(cr_careplan_str(parts[i].res, "status"), "active") == 0)
            has_lpa = true;
    for (i = 0; i < nparts; i++) {
        const struct cr_careplan_part *p = &parts[i];
        if (p->res == NULL || !used[i])
            continue;
        check_patient(&c, p);
        switch (cr_careplan_kind_of(p->type, p->res)) {
        case CR_CAREPLAN_CPR:
            if (++ncpr == 2)
                issue(&c, "invalid", p->where, "",
                      "a care plan has one CPR decision; this is a second");
            check_cpr(&c, p);
            break;
        case CR_CAREPLAN_ADRT:
            if (cr_careplan_ext_str(p->res, CR_CAREPLAN_EXT_LOCATION) ==
                NULL)
                issue(&c, "required", p->where,
                      EXT(CR_CAREPLAN_EXT_LOCATION),
                      "an advance decision to refuse treatment needs where "
                      "the document is kept (valueString)");
            break;
        case CR_CAREPLAN_CONTACT:
            check_contact(&c, p, has_lpa);
            break;
        case CR_CAREPLAN_PLAN:
            issue(&c, "invalid", p->where, "",
                  "a care plan refers to no other CarePlan");
            break;
        case CR_CAREPLAN_LPA:
        case CR_CAREPLAN_MEDICINE:
        case CR_CAREPLAN_OTHER:
            break;
        }
    }
    if (ncpr == 0)
        issue(&c, "required", plan->where, ".supportingInfo",
              "a care plan needs the CPR decision: a Flag coded SNOMED CT "
              "%s (for CPR), %s (not for CPR) or %s (not aware of a "
              "decision), in CarePlan.supportingInfo", CR_CAREPLAN_CPR_YES,
              CR_CAREPLAN_CPR_NO, CR_CAREPLAN_CPR_UNKNOWN);
    return out->n + out->more == before;
}

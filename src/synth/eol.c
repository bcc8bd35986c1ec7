/* eol.c: Universal Care Plans, in the model of docs/care-plan.md: a
 * CarePlan with the CPR decision, ADRT and LPA Flags, key contacts as
 * RelatedPersons and just-in-case medicines, each rule kept (a CPR
 * decision has a review date and a discussion, an attorney has the LPA
 * flag, contacts have phone numbers...). Depends on eol.h, meds.h,
 * names.h, life.h. */
#include "synth/eol.h"

#include "synth/meds.h"
#include "synth/names.h"

#define SD "https://carerecord.example/StructureDefinition/"

static double
plan_chance(const struct cr_synth_person *p)
{
    double c = 0;

#define AT_LEAST(v) do { if ((v) > c) c = (v); } while (0)
    if (p->has[CR_SYNTH_DEMENTIA])
        AT_LEAST(0.35);
    if (p->has[CR_SYNTH_HEART_FAILURE])
        AT_LEAST(0.30);
    if (p->has[CR_SYNTH_COPD] && p->age >= 75)
        AT_LEAST(0.25);
    if (p->has[CR_SYNTH_CANCER] && p->cancer_recent)
        AT_LEAST(p->cancer_site == CR_SITE_LUNG ? 0.5 : 0.15);
    if (p->age >= 90)
        AT_LEAST(0.20);
    if (p->care_home != CR_SYNTH_NONE)
        AT_LEAST(0.40);
#undef AT_LEAST
    return c;
}

/* Open {"url":URL, as the next value: the caller writes the value and
 * closes it (jw_end). */
static void
ext_open(struct cr_synth_jw *w, const char *url)
{
    jw_obj(w);
    jw_kstr(w, "url", url);
}

/* {"url":URL,"valueString":S} as the next value. */
static void
ext_str(struct cr_synth_jw *w, const char *url, const char *s)
{
    ext_open(w, url);
    jw_kstr(w, "valueString", s);
    jw_end(w);
}

/* The start of a Flag of the plan, coded 'code', with its category. */
static struct cr_synth_jw *
plan_flag(struct cr_synth_life *l, int node, uint32_t org, const char *id,
          int code, const char *profile)
{
    struct cr_synth_jw *w = res_begin_as(l, node, CR_SYNTH_FLAG, id, org,
                                         profile);

    jw_kstr(w, "status", "active");
    jw_key(w, "category");
    jw_arr(w);
    cc_sys_v(w, CR_HL7 "flag-category", "advance-directive",
             "Advance Directive");
    jw_end(w);
    kcc(w, "code", code);
    kref_patient(l, node, "subject");
    return w;
}

static void
related_person(struct cr_synth_life *l, int node, uint32_t org, const char *id,
               bool is_lpa)
{
    static const char *const rel[][2] = {
        { "DAU", "daughter" }, { "SON", "son" }, { "WIFE", "wife" },
        { "HUSB", "husband" }, { "SIS", "sister" }, { "NIECE", "niece" },
        { "FRND", "unrelated friend" },
    };
    const struct cr_synth_person *p = &l->p;
    struct cr_synth_rng *r = &l->rng;
    int k = (int)cr_synth_rng_below(r, 7);
    bool is_female = k == 0 || k == 2 || k == 4 || k == 5;
    const char *given = is_female
        ? cr_synth_female_names[cr_synth_rng_below(r, (uint32_t)cr_synth_n_female_names)]
        : cr_synth_male_names[cr_synth_rng_below(r, (uint32_t)cr_synth_n_male_names)];
    const char *family = k == 6 || cr_synth_rng_chance(r, 0.3)
        ? cr_synth_surnames[cr_synth_rng_below(r, (uint32_t)cr_synth_n_surnames)]
        : p->family;
    unsigned phone = (unsigned)cr_synth_rng_below(r, 1000);
    char tel[16];
    struct cr_synth_jw *w = res_begin(l, node, CR_SYNTH_RELATEDPERSON, id, org);

    snprintf(tel, sizeof tel, "07700 900%03u", phone);
    jw_kbool(w, "active", true);
    kref_patient(l, node, "patient");
    jw_key(w, "relationship");
    jw_arr(w);
    cc_sys_v(w, CR_HL7 "v3-RoleCode", rel[k][0], rel[k][1]);
    cc_sys_v(w, CR_HL7 "v2-0131", is_lpa || k < 4 ? "N" : "C",
             is_lpa || k < 4 ? "Next-of-Kin" : "Emergency Contact");
    if (is_lpa)
        cc_sys_v(w, CR_HL7 "v3-RoleCode", "HPOWATT",
                 "healthcare power of attorney");
    jw_end(w);
    jw_key(w, "name");
    jw_arr(w);
    jw_obj(w);
    jw_kstr(w, "family", family);
    jw_key(w, "given");
    jw_arr(w);
    jw_str(w, given);
    jw_end(w);
    jw_end(w);
    jw_end(w);
    jw_key(w, "telecom");
    jw_arr(w);
    jw_obj(w);
    jw_kstr(w, "system", "phone");
    jw_kstr(w, "value", tel);
    jw_kstr(w, "use", "mobile");
    jw_end(w);
    jw_end(w);
    jw_kstr(w, "gender", is_female ? "female" : "male");
    res_end(l->g, w, node, CR_SYNTH_RELATEDPERSON);
}

static int
place(struct cr_synth_life *l)
{
    static const uint32_t weights[] = { 55, 20, 10, 15 };
    static const int places[] = { CR_C_PLACE_HOME, CR_C_PLACE_HOSPICE,
                                  CR_C_PLACE_HOSPITAL, CR_C_PLACE_NURSING_HOME };

    if (l->p.care_home != CR_SYNTH_NONE && cr_synth_rng_chance(&l->rng, 0.8))
        return CR_C_PLACE_NURSING_HOME;
    return places[cr_synth_rng_weighted(&l->rng, weights, 4)];
}

/* The CPR decision: a Flag whose period runs from the decision to its
 * review date (none when the recorder knew of no decision). */
static void
cpr_flag(struct cr_synth_life *l, int node, uint32_t org, const char *id,
         int cpr, uint32_t author, int32_t decided, int32_t review)
{
    static const char *const discussed[] = {
        "The person and their family",
        "The person",
        "The person's daughter, who holds lasting power of attorney",
        "Not discussed: the person declined to discuss it; family informed",
    };
    struct cr_synth_rng *r = &l->rng;
    bool is_senior = cr_synth_rng_chance(r, 0.7);
    struct cr_synth_jw *w = plan_flag(l, node, org, id, cpr,
                                      SD "UCP-CPRDecision");

    jw_key(w, "period");
    jw_obj(w);
    kdate(w, "start", decided);
    if (cpr != CR_C_CPR_UNKNOWN)
        kdate(w, "end", review);
    jw_end(w);
    kref_prac(l, node, "author", author);
    jw_key(w, "extension");
    jw_arr(w);
    if (cpr != CR_C_CPR_UNKNOWN)
        ext_str(w, SD "ucp-cpr-discussed-with",
                discussed[cr_synth_rng_below(r, 4)]);
    ext_open(w, SD "ucp-cpr-recorder-senior");
    jw_kbool(w, "valueBoolean", is_senior);
    jw_end(w);
    if (!is_senior) {
        /* a senior colleague of the same organisation endorses it */
        ext_open(w, SD "ucp-cpr-senior-endorser");
        jw_key(w, "extension");
        jw_arr(w);
        ext_open(w, "clinician");
        jw_key(w, "valueReference");
        ref_prac_v(l, node, cr_synth_pick_doctor(l, org));
        jw_end(w);
        ext_open(w, "endorsed");
        kdate(w, "valueDateTime", decided);
        jw_end(w);
        jw_end(w);
        jw_end(w);
    }
    jw_end(w);
    res_end(l->g, w, node, CR_SYNTH_FLAG);
}

void
cr_synth_eol_live(struct cr_synth_life *l)
{
    static const char *const matters[] = {
        "Staying at home with my family and being comfortable.",
        "Not going back into hospital unless it will help me.",
        "My faith, my grandchildren and being free of pain.",
        "Seeing my garden and having my daughter with me.",
    };
    static const char *const ceilings[] = {
        "Full escalation of treatment, including intensive care.",
        "Ward-based care; not for intensive care or ventilation.",
        "Symptom control and comfort at home; hospital only for comfort.",
    };
    static const int ceiling_codes[] = { CR_C_CEILING_FULL, CR_C_CEILING_WARD,
                                         CR_C_CEILING_SYMPTOMS };
    static const char *const kept[] = {
        "In the blue box on top of the kitchen cupboard",
        "In the locked drawer beside the bed",
        "With the care home's controlled drugs, nursing station",
    };
    const struct cr_synth_person *p = &l->p;
    struct cr_synth_rng *r = &l->rng;
    const struct cr_synth_world *w = l->w;
    int32_t today = l->g->today, created, decided, review;
    int node = p->region, cpr, ncontacts, i, c, ceiling;
    uint32_t org, author;
    bool has_lpa, has_jic, has_adrt, frail, has_capacity;
    struct cr_synth_rid plan, cpr_id, lpa_id = { "" }, adrt_id = { "" }, jic = { "" };
    struct cr_synth_rid contacts[2];
    struct cr_synth_jw *jw;
    double u;

    if (!cr_synth_rng_chance(r, plan_chance(p)))
        return;
    u = cr_synth_rng_unit(r);
    org = u < 0.65 ? p->gp : u < 0.85 ? w->acute[node][0] : w->community[node];
    author = org == p->gp ? p->gp_doctor : cr_synth_pick_doctor(l, org);
    created = today - 1 - (int32_t)cr_synth_rng_below(r, 3 * 365);
    if (created < p->birth + 18 * 365)
        created = today - 30;
    /* The CPR decision is due for review 6-12 months after it is made;
     * most reviews happen (a new decision date), some are overdue. */
    decided = created;
    review = decided + 180 + (int32_t)cr_synth_rng_below(r, 186);
    while (review < today && cr_synth_rng_chance(r, 0.75)) {
        decided = review;
        review = decided + 180 + (int32_t)cr_synth_rng_below(r, 186);
    }
    frail = p->age >= 85 || p->has[CR_SYNTH_DEMENTIA]
            || (p->has[CR_SYNTH_CANCER] && p->cancer_site == CR_SITE_LUNG);
    u = cr_synth_rng_unit(r);
    cpr = frail ? (u < 0.75 ? CR_C_CPR_NO : u < 0.9 ? CR_C_CPR_YES : CR_C_CPR_UNKNOWN)
                : (u < 0.45 ? CR_C_CPR_NO : u < 0.9 ? CR_C_CPR_YES : CR_C_CPR_UNKNOWN);
    has_lpa = cr_synth_rng_chance(r, 0.35);
    has_jic = cr_synth_rng_chance(r, 0.55);
    has_adrt = cr_synth_rng_chance(r, 0.2);
    has_capacity = !p->has[CR_SYNTH_DEMENTIA] || cr_synth_rng_chance(r, 0.3);
    ncontacts = cr_synth_rng_range(r, 1, 2);
    ceiling = cpr == CR_C_CPR_YES ? 0 : 1 + (int)cr_synth_rng_below(r, 2);

    l->g->stats->eol_plans++;
    if (review < today && cpr != CR_C_CPR_UNKNOWN)
        l->g->stats->cpr_review_overdue++;
    if (has_lpa)
        l->g->stats->lpa_people++;

    for (i = 0; i < ncontacts; i++) {
        contacts[i] = new_id(l, node);
        related_person(l, node, org, contacts[i].s, has_lpa && i == 0);
    }
    cpr_id = new_id(l, node);
    cpr_flag(l, node, org, cpr_id.s, cpr, author, decided, review);
    if (has_lpa) {
        lpa_id = new_id(l, node);
        jw = plan_flag(l, node, org, lpa_id.s, CR_C_LPA, SD "UCP-LPA");
        res_end(l->g, jw, node, CR_SYNTH_FLAG);
    }
    if (has_adrt) {
        adrt_id = new_id(l, node);
        jw = plan_flag(l, node, org, adrt_id.s, CR_C_ADRT, SD "UCP-ADRT");
        jw_key(jw, "extension");
        jw_arr(jw);
        ext_str(jw, SD "ucp-document-location",
                "The original is kept at home, in the folder by the door");
        jw_end(jw);
        res_end(l->g, jw, node, CR_SYNTH_FLAG);
    }
    if (has_jic)
        jic = cr_synth_med_acute(l, node, org, author, CR_MED_MIDAZOLAM, created, NULL, true);

    plan = new_id(l, node);
    jw = res_begin_as(l, node, CR_SYNTH_CAREPLAN, plan.s, org,
                      SD "UCP-CarePlan");
    jw_key(jw, "extension");
    jw_arr(jw);
    ext_open(jw, SD "ucp-signed-off");
    kdt(jw, "valueDateTime", decided, 600);
    jw_end(jw);
    ext_open(jw, SD "ucp-review-date");
    kdate(jw, "valueDate", review);
    jw_end(jw);
    ext_open(jw, SD "ucp-priorities");
    jw_key(jw, "extension");
    jw_arr(jw);
    ext_open(jw, "scale");
    jw_kint(jw, "valueInteger", frail ? 60 + (int)cr_synth_rng_below(r, 41)
                                      : 10 + (int)cr_synth_rng_below(r, 51));
    jw_end(jw);
    ext_str(jw, "whatMattersToMe", matters[cr_synth_rng_below(r, 4)]);
    jw_end(jw);
    jw_end(jw);
    c = place(l);
    ext_open(jw, SD "ucp-preferred-place-of-care");
    kcc(jw, "valueCodeableConcept", c);
    jw_end(jw);
    c = cr_synth_rng_chance(r, 0.8) ? c : place(l);
    ext_open(jw, SD "ucp-preferred-place-of-death");
    kcc(jw, "valueCodeableConcept", c);
    jw_end(jw);
    ext_open(jw, SD "ucp-prognosis");
    if (frail) {
        jw_key(jw, "valueCodeableConcept");
        jw_obj(jw);
        jw_kstr(jw, "text", "Months");
        jw_end(jw);
    } else {
        jw_key(jw, "valueCodeableConcept");
        cc_v(jw, CR_C_GSF_A, "A year or more");
    }
    jw_end(jw);
    ext_open(jw, SD "ucp-capacity");
    jw_key(jw, "extension");
    jw_arr(jw);
    ext_open(jw, "hasCapacity");
    jw_kbool(jw, "valueBoolean", has_capacity);
    jw_end(jw);
    ext_str(jw, "involvement", has_capacity
            ? "The person, with their family"
            : has_lpa ? "Their attorney (lasting power of attorney) and GP"
                      : "Their family and GP, in the person's best interests");
    jw_end(jw);
    jw_end(jw);
    jw_end(jw);
    jw_kstr(jw, "status", "active");
    jw_kstr(jw, "intent", "plan");
    kcc_arr(jw, "category", CR_C_EOL_PLAN);
    jw_kstr(jw, "title", "Universal Care Plan");
    kref_patient(l, node, "subject");
    jw_key(jw, "period");
    jw_obj(jw);
    kdate(jw, "start", created);
    jw_end(jw);
    kdate(jw, "created", created);
    kref_prac(l, node, "author", author);
    {
        /* The conditions the plan is about (the practice's problem list is
         * on this node, whoever wrote the plan). */
        bool any = false;
        for (c = 0; c < CR_SYNTH_CONDS; c++) {
            if (!p->has[c] || l->cond_id[c].s[0] == '\0')
                continue;
            if (!any) {
                jw_key(jw, "addresses");
                jw_arr(jw);
                any = true;
            }
            ref_v(jw, "Condition/", l->cond_id[c].s);
        }
        if (any)
            jw_end(jw);
    }
    jw_key(jw, "supportingInfo");
    jw_arr(jw);
    ref_v(jw, "Flag/", cpr_id.s);
    if (has_lpa)
        ref_v(jw, "Flag/", lpa_id.s);
    if (has_adrt)
        ref_v(jw, "Flag/", adrt_id.s);
    for (i = 0; i < ncontacts; i++)
        ref_v(jw, "RelatedPerson/", contacts[i].s);
    jw_end(jw);
    jw_key(jw, "activity");
    jw_arr(jw);
    jw_obj(jw);
    jw_key(jw, "detail");
    jw_obj(jw);
    jw_key(jw, "extension");
    jw_arr(jw);
    ext_open(jw, SD "ucp-ceiling-of-treatment");
    kcc(jw, "valueCodeableConcept", ceiling_codes[ceiling]);
    jw_end(jw);
    jw_end(jw);
    kcc(jw, "code", CR_C_TEP);
    jw_kstr(jw, "status", "in-progress");
    jw_kstr(jw, "description", ceilings[ceiling]);
    jw_end(jw);
    jw_end(jw);
    if (has_jic) {
        jw_obj(jw);
        jw_key(jw, "detail");
        jw_obj(jw);
        jw_key(jw, "extension");
        jw_arr(jw);
        ext_str(jw, SD "ucp-where-kept",
                kept[p->care_home != CR_SYNTH_NONE ? 2
                                                   : cr_synth_rng_below(r, 2)]);
        jw_end(jw);
        kcc(jw, "code", CR_C_UCP_JIC);
        jw_kstr(jw, "status", "in-progress");
        jw_kstr(jw, "description", "Midazolam for agitation or breathlessness");
        jw_end(jw);
        jw_end(jw);
        jw_obj(jw);
        kref(jw, "reference", "MedicationRequest/", jic.s);
        jw_end(jw);
    }
    jw_end(jw);
    res_end(l->g, jw, node, CR_SYNTH_CAREPLAN);
}

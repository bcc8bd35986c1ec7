/* eol.c: Universal Care Plans. Depends on eol.h, meds.h, names.h,
 * life.h. */
#include "synth/eol.h"

#include "synth/meds.h"
#include "synth/names.h"

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

/* The start of an Observation in the plan. */
static struct cr_synth_jw *
plan_obs(struct cr_synth_life *l, int node, uint32_t org, uint32_t author,
         const char *id, int code, int32_t day)
{
    struct cr_synth_jw *w = res_begin(l, node, CR_SYNTH_OBSERVATION, id, org);

    jw_kstr(w, "status", "final");
    jw_key(w, "category");
    jw_arr(w);
    cc_sys_v(w, CR_HL7 "observation-category", "survey", "Survey");
    jw_end(w);
    kcc(w, "code", code);
    kref_patient(l, node, "subject");
    kdate(w, "effectiveDateTime", day);
    kref_prac_arr(l, node, "performer", author);
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
        cc_v(w, CR_C_UCP_LPA, NULL);
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

void
cr_synth_eol_live(struct cr_synth_life *l)
{
    static const char *const matters[] = {
        "What matters to me: staying at home with my family and being comfortable.",
        "What matters to me: not going back into hospital unless it will help me.",
        "What matters to me: my faith, my grandchildren and being free of pain.",
        "What matters to me: seeing my garden and having my daughter with me.",
    };
    static const char *const ceilings[] = {
        "Ceiling of treatment: full escalation including intensive care.",
        "Ceiling of treatment: ward-based care, not for intensive care.",
        "Ceiling of treatment: symptom control and comfort at home.",
    };
    const struct cr_synth_person *p = &l->p;
    struct cr_synth_rng *r = &l->rng;
    const struct cr_synth_world *w = l->w;
    int32_t today = l->g->today, created, decided, review;
    int node = p->region, cpr, ncontacts, i, c, ceiling;
    uint32_t org, author;
    bool has_lpa, has_jic, frail;
    struct cr_synth_rid plan, cpr_id, care_id, death_id, lpa_id = { "" }, jic = { "" };
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
    ncontacts = cr_synth_rng_range(r, 1, 2);
    ceiling = cpr == CR_C_CPR_YES ? 0 : 1 + (int)cr_synth_rng_below(r, 2);

    l->g->stats->eol_plans++;
    if (review < today)
        l->g->stats->cpr_review_overdue++;
    if (has_lpa)
        l->g->stats->lpa_people++;

    for (i = 0; i < ncontacts; i++) {
        contacts[i] = new_id(l, node);
        related_person(l, node, org, contacts[i].s, has_lpa && i == 0);
    }

    cpr_id = new_id(l, node);
    jw = plan_obs(l, node, org, author, cpr_id.s, CR_C_UCP_CPR, decided);
    kcc(jw, "valueCodeableConcept", cpr);
    jw_key(jw, "note");
    jw_arr(jw);
    jw_obj(jw);
    jw_kstr(jw, "text", "Discussed with the patient and their family; endorsed by the senior clinician.");
    jw_end(jw);
    jw_end(jw);
    jw_key(jw, "component");
    jw_arr(jw);
    jw_obj(jw);
    kcc(jw, "code", CR_C_UCP_REVIEW);
    kdt(jw, "valueDateTime", review, 540);
    jw_end(jw);
    jw_end(jw);
    res_end(l->g, jw, node, CR_SYNTH_OBSERVATION);

    care_id = new_id(l, node);
    c = place(l);
    jw = plan_obs(l, node, org, author, care_id.s, CR_C_UCP_PREF_CARE, created);
    kcc(jw, "valueCodeableConcept", c);
    res_end(l->g, jw, node, CR_SYNTH_OBSERVATION);

    death_id = new_id(l, node);
    c = cr_synth_rng_chance(r, 0.8) ? c : place(l);
    jw = plan_obs(l, node, org, author, death_id.s, CR_C_UCP_PREF_DEATH, created);
    kcc(jw, "valueCodeableConcept", c);
    res_end(l->g, jw, node, CR_SYNTH_OBSERVATION);

    if (has_lpa) {
        lpa_id = new_id(l, node);
        jw = plan_obs(l, node, org, author, lpa_id.s, CR_C_UCP_LPA, created);
        jw_kbool(jw, "valueBoolean", true);
        res_end(l->g, jw, node, CR_SYNTH_OBSERVATION);
    }
    if (has_jic)
        jic = cr_synth_med_acute(l, node, org, author, CR_MED_MIDAZOLAM, created, NULL, true);

    plan = new_id(l, node);
    jw = res_begin(l, node, CR_SYNTH_CAREPLAN, plan.s, org);
    jw_kstr(jw, "status", "active");
    jw_kstr(jw, "intent", "plan");
    kcc_arr(jw, "category", CR_C_EOL_PLAN);
    jw_kstr(jw, "title", "Universal Care Plan");
    jw_kstr(jw, "description", matters[cr_synth_rng_below(r, 4)]);
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
    ref_v(jw, "Observation/", cpr_id.s);
    ref_v(jw, "Observation/", care_id.s);
    ref_v(jw, "Observation/", death_id.s);
    if (has_lpa)
        ref_v(jw, "Observation/", lpa_id.s);
    for (i = 0; i < ncontacts; i++)
        ref_v(jw, "RelatedPerson/", contacts[i].s);
    jw_end(jw);
    jw_key(jw, "activity");
    jw_arr(jw);
    jw_obj(jw);
    jw_key(jw, "detail");
    jw_obj(jw);
    kcc(jw, "code", CR_C_UCP_CEILING);
    jw_kstr(jw, "status", "in-progress");
    jw_kstr(jw, "description", ceilings[ceiling]);
    jw_end(jw);
    jw_end(jw);
    if (has_jic) {
        jw_obj(jw);
        kref(jw, "reference", "MedicationRequest/", jic.s);
        jw_end(jw);
    }
    jw_end(jw);
    jw_key(jw, "note");
    jw_arr(jw);
    jw_obj(jw);
    jw_kstr(jw, "text", cr_synth_rng_chance(r, 0.2)
                            ? "Advance decision to refuse treatment (ADRT) in place; the original is kept at home."
                            : "No advance decision to refuse treatment recorded.");
    jw_end(jw);
    jw_end(jw);
    res_end(l->g, jw, node, CR_SYNTH_CAREPLAN);
}

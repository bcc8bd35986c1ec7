/* cancer.c: urgent suspected cancer referrals and treatment pathways.
 * Depends on cancer.h, clinical.h, encounter.h, gp.h, ltc.h, life.h. */
#include "synth/cancer.h"

#include "synth/clinical.h"
#include "synth/encounter.h"
#include "synth/gp.h"
#include "synth/ltc.h"

#include <string.h>

/* Urgent suspected cancer referrals in the last year that found no cancer,
 * per person aged 40+: with the diagnosed pathways this gives a conversion
 * rate of roughly 7-8%, as in England. */
#define RATE_USC_RULED_OUT 0.08

static const char *const site_names[] = { "breast", "prostate", "lung", "colorectal" };

struct pathway {
    int site;
    int home;                    /* GP node */
    int dn;                      /* diagnosing node */
    uint32_t dtrust;
    uint32_t ddoc;
    char ubrn[13];
    struct cr_synth_rid sr;      /* referral, on the home node */
    struct cr_synth_rid op;      /* first outpatient encounter, on dn */
};

static void
referral(struct cr_synth_life *l, struct pathway *pw, int32_t day, bool is_open)
{
    const struct cr_synth_person *p = &l->p;
    struct cr_synth_jw *w = res_begin(l, pw->home, CR_SYNTH_SERVICEREQ, pw->sr.s, p->gp);
    char text[64];

    snprintf(text, sizeof text, "Suspected %s cancer", site_names[pw->site]);
    jw_key(w, "identifier");
    jw_arr(w);
    jw_obj(w);
    jw_kstr(w, "system", CR_SYS_UBRN);
    jw_kstr(w, "value", pw->ubrn);
    jw_end(w);
    jw_end(w);
    jw_kstr(w, "status", is_open ? "active" : "completed");
    jw_kstr(w, "intent", "order");
    kcc_arr(w, "category", CR_C_REFERRAL);
    jw_kstr(w, "priority", "urgent");
    jw_key(w, "code");
    cc_v(w, CR_C_USC_REFERRAL, "Urgent suspected cancer referral");
    kref_patient(l, pw->home, "subject");
    kdt(w, "authoredOn", day, clinic_minute(l));
    kref_prac(l, pw->home, "requester", p->gp_doctor);
    jw_key(w, "performer");
    jw_arr(w);
    ref_org_v(l, pw->home, pw->dtrust);
    jw_end(w);
    jw_key(w, "reasonCode");
    jw_arr(w);
    jw_obj(w);
    jw_kstr(w, "text", text);
    jw_end(w);
    jw_end(w);
    res_end(l->g, w, pw->home, CR_SYNTH_SERVICEREQ);
}

/* basedOn the referral: a literal reference on the same node, its UBRN
 * from another node. */
static void
based_on_referral(struct cr_synth_jw *w, const struct pathway *pw)
{
    jw_key(w, "basedOn");
    jw_arr(w);
    if (pw->dn == pw->home) {
        ref_v(w, "ServiceRequest/", pw->sr.s);
    } else {
        jw_obj(w);
        jw_kstr(w, "type", "ServiceRequest");
        jw_key(w, "identifier");
        jw_obj(w);
        jw_kstr(w, "system", CR_SYS_UBRN);
        jw_kstr(w, "value", pw->ubrn);
        jw_end(w);
        jw_end(w);
    }
    jw_end(w);
}

static void
report(struct cr_synth_life *l, struct pathway *pw, int code, bool is_histology,
       int32_t day, const char *conclusion, int conclusion_code)
{
    struct cr_synth_rid id = new_id(l, pw->dn);
    struct cr_synth_jw *w = res_begin(l, pw->dn, CR_SYNTH_DIAGREPORT, id.s, pw->dtrust);

    based_on_referral(w, pw);
    jw_kstr(w, "status", "final");
    jw_key(w, "category");
    jw_arr(w);
    cc_sys_v(w, CR_HL7 "v2-0074", is_histology ? "SP" : "RAD",
             is_histology ? "Surgical Pathology" : "Radiology");
    jw_end(w);
    kcc(w, "code", code);
    kref_patient(l, pw->dn, "subject");
    kref(w, "encounter", "Encounter/", pw->op.s);
    kdt(w, "effectiveDateTime", day, clinic_minute(l));
    kdt(w, "issued", day, 1020);
    jw_key(w, "performer");
    jw_arr(w);
    ref_org_v(l, pw->dn, pw->dtrust);
    jw_end(w);
    kref_prac_arr(l, pw->dn, "resultsInterpreter", pw->ddoc);
    jw_kstr(w, "conclusion", conclusion);
    if (conclusion_code >= 0)
        kcc_arr(w, "conclusionCode", conclusion_code);
    res_end(l->g, w, pw->dn, CR_SYNTH_DIAGREPORT);
}

static void
test(struct cr_synth_life *l, struct pathway *pw, int code, int32_t day,
     struct cr_synth_rid *out)
{
    struct cr_synth_proc_rec pr = { 0 };

    *out = new_id(l, pw->dn);
    pr.node = pw->dn;
    pr.org = pw->dtrust;
    pr.prac = pw->ddoc;
    pr.code = code;
    pr.day = day;
    pr.minute = clinic_minute(l);
    if (pw->dn == pw->home) {
        pr.based_on_type = "ServiceRequest/";
        pr.based_on_id = pw->sr.s;
    } else {
        pr.based_on_ubrn = pw->ubrn;
    }
    pr.encounter_id = pw->op.s;
    cr_synth_procedure_emit(l, &pr, out->s);
}

static int
first_test(int site)
{
    static const int t[] = { CR_C_MAMMOGRAPHY, CR_C_PROSTATE_BIOPSY, CR_C_CT_CHEST,
                             CR_C_COLONOSCOPY };
    return t[site];
}

static int
treatment(struct cr_synth_life *l, int site)
{
    static const int surgery[] = { CR_C_MASTECTOMY, CR_C_PROSTATECTOMY, CR_C_LOBECTOMY,
                                   CR_C_COLECTOMY };
    static const double p_surgery[] = { 0.60, 0.35, 0.35, 0.75 };
    static const double p_chemo[] = { 0.25, 0.15, 0.40, 0.25 };
    double u = cr_synth_rng_unit(&l->rng);

    if (u < p_surgery[site])
        return surgery[site];
    if (u < p_surgery[site] + p_chemo[site])
        return CR_C_CHEMOTHERAPY;
    return CR_C_RADIOTHERAPY;
}

static void
decision_to_treat(struct cr_synth_life *l, int tn, uint32_t ttrust, uint32_t tdoc,
                  const char *id, int32_t dtt, int treat, int32_t treat_day,
                  const char *cond_id, const char *description)
{
    int32_t today = l->g->today;
    struct cr_synth_jw *w = res_begin(l, tn, CR_SYNTH_CAREPLAN, id, ttrust);

    jw_kstr(w, "status", "active");
    jw_kstr(w, "intent", "plan");
    jw_key(w, "category");
    jw_arr(w);
    cc_v(w, CR_C_CARE_PLAN, NULL);
    cc_v(w, CR_C_DECISION_TO_TREAT, NULL);
    jw_end(w);
    jw_kstr(w, "title", "Cancer treatment plan");
    jw_kstr(w, "description", description);
    kref_patient(l, tn, "subject");
    jw_key(w, "period");
    jw_obj(w);
    kdate(w, "start", dtt);
    jw_end(w);
    kdate(w, "created", dtt);
    kref_prac(l, tn, "author", tdoc);
    if (cond_id != NULL) {
        jw_key(w, "addresses");
        jw_arr(w);
        ref_v(w, "Condition/", cond_id);
        jw_end(w);
    }
    jw_key(w, "activity");
    jw_arr(w);
    jw_obj(w);
    jw_key(w, "detail");
    jw_obj(w);
    kcc(w, "code", treat);
    jw_kstr(w, "status", treat_day < today ? "completed" : "scheduled");
    jw_key(w, "scheduledPeriod");
    jw_obj(w);
    kdate(w, "start", treat_day);
    jw_end(w);
    jw_key(w, "performer");
    jw_arr(w);
    ref_prac_v(l, tn, tdoc);
    jw_end(w);
    jw_end(w);
    jw_end(w);
    jw_end(w);
    res_end(l->g, w, tn, CR_SYNTH_CAREPLAN);
}

static void
pathway(struct cr_synth_life *l, bool is_cancer)
{
    const struct cr_synth_person *p = &l->p;
    struct cr_synth_rng *r = &l->rng;
    const struct cr_synth_world *w = l->w;
    int32_t today = l->g->today, R, D, t1, t2, dtt, tday;
    int fds = cr_synth_rng_chance(r, 0.78) ? cr_synth_rng_range(r, 10, 28)
                                           : cr_synth_rng_range(r, 29, 62);
    struct pathway pw;
    struct cr_synth_rid proc, cond, plan;
    struct cr_synth_enc e;
    struct cr_synth_cond_rec c = { 0 };
    int tn, treat, span;
    uint32_t ttrust, tdoc;
    char desc[256], conclusion[128];
    static const char *const stages[] = { "Stage I", "Stage II", "Stage III", "Stage IV" };

    memset(&pw, 0, sizeof pw);
    pw.home = p->region;
    if (is_cancer) {
        pw.site = p->cancer_site;
        D = p->onset[CR_SYNTH_CANCER];
        R = D - fds;
    } else {
        pw.site = p->is_female ? (cr_synth_rng_chance(r, 0.5) ? CR_SITE_BREAST : CR_SITE_COLON)
                               : (cr_synth_rng_chance(r, 0.5) ? CR_SITE_PROSTATE : CR_SITE_LUNG);
        R = today - 1 - (int32_t)cr_synth_rng_below(r, 365);
        D = R + fds;
    }
    l->g->stats->usc_referrals++;
    pw.dn = cr_synth_care_region(l);
    pw.dtrust = cr_synth_pick_acute(l, pw.dn);
    pw.ddoc = cr_synth_pick_doctor(l, pw.dtrust);
    snprintf(pw.ubrn, sizeof pw.ubrn, "%012llu",
             (unsigned long long)(cr_synth_mix64(l->g->seed ^ cr_synth_mix64(p->index * 8 + 5))
                                  % 1000000000000ULL));
    pw.sr = new_id(l, pw.home);
    referral(l, &pw, R, D >= today);

    span = fds - 3 < 20 ? fds - 3 : 20;
    t1 = R + cr_synth_rng_range(r, 4, span > 5 ? span : 5);
    if (t1 >= today) {
        int minute = clinic_minute(l);
        cr_synth_appointment_emit(l, pw.dn, pw.dtrust, pw.ddoc, "booked", t1, minute, 30,
                                  "Urgent suspected cancer clinic", NULL);
        return;
    }
    pw.op = new_id(l, pw.dn);
    e = cr_synth_enc_make(pw.dn, pw.dtrust, "AMB", -1, "outpatient");
    e.prac = pw.ddoc;
    e.start_day = e.end_day = t1;
    e.start_min = clinic_minute(l);
    e.end_min = e.start_min + 30;
    e.reason_code = CR_C_REFERRAL;
    cr_synth_encounter_emit(l, &e, pw.op.s);
    test(l, &pw, first_test(pw.site), t1, &proc);

    if (!is_cancer) {
        if (D < today)
            report(l, &pw, CR_C_IMAGING_REPORT, false, D,
                   "No evidence of malignancy. Discharged back to GP.", -1);
        return;
    }
    t2 = t1 + cr_synth_rng_range(r, 1, 7);
    if (t2 >= D)
        t2 = D - 1 > t1 ? D - 1 : t1;
    report(l, &pw, CR_C_IMAGING_REPORT, false, t1 + 1 < D ? t1 + 1 : t1,
           "Appearances suspicious for malignancy. Biopsy arranged.", -1);
    test(l, &pw, CR_C_BIOPSY, t2, &proc);
    snprintf(conclusion, sizeof conclusion, "Malignant. %s confirmed on histology.",
             cr_synth_codes[cr_synth_ltc_code(l, CR_SYNTH_CANCER)].display);
    report(l, &pw, CR_C_PATH_REPORT, true, D, conclusion,
           cr_synth_ltc_code(l, CR_SYNTH_CANCER));

    cond = new_id(l, pw.dn);
    c.node = pw.dn;
    c.org = pw.dtrust;
    c.prac = pw.ddoc;
    c.code = cr_synth_ltc_code(l, CR_SYNTH_CANCER);
    c.category = "encounter-diagnosis";
    c.clinical = "active";
    c.onset = D;
    c.recorded = D;
    c.abated = -1;
    c.encounter_id = pw.op.s;
    c.stage = stages[cr_synth_rng_below(r, 4)];
    cr_synth_condition_emit(l, &c, cond.s);
    l->g->stats->cancer_pathways++;

    /* Three in ten are treated by a specialist trust, often in another
     * region; the transfer is handed over around day 38. */
    if (cr_synth_rng_chance(r, 0.3)) {
        static const int with_specialist[] = { CR_SYNTH_NCL, CR_SYNTH_NWL, CR_SYNTH_SEL,
                                               CR_SYNTH_SWL };
        tn = with_specialist[cr_synth_rng_below(r, 4)];
        ttrust = w->specialist[tn];
        snprintf(desc, sizeof desc,
                 "Multidisciplinary team decision to treat %s cancer. Transferred from %s "
                 "(handover around day 38 of the pathway).",
                 site_names[pw.site], w->orgs[pw.dtrust].name);
    } else {
        tn = pw.dn;
        ttrust = pw.dtrust;
        snprintf(desc, sizeof desc, "Multidisciplinary team decision to treat %s cancer.",
                 site_names[pw.site]);
    }
    tdoc = ttrust == pw.dtrust ? pw.ddoc : cr_synth_pick_doctor(l, ttrust);
    dtt = D + cr_synth_rng_range(r, 3, 25);
    treat = treatment(l, pw.site);
    tday = dtt + (cr_synth_rng_chance(r, 0.96) ? cr_synth_rng_range(r, 2, 31)
                                              : cr_synth_rng_range(r, 32, 60));
    if (tn != pw.dn)
        cr_synth_care_count(l, tn);
    if (dtt >= today) {
        int minute = clinic_minute(l);
        cr_synth_appointment_emit(l, tn, ttrust, tdoc, "booked", dtt, minute, 30,
                                  "Oncology clinic: treatment decision", NULL);
        return;
    }
    plan = new_id(l, tn);
    decision_to_treat(l, tn, ttrust, tdoc, plan.s, dtt, treat, tday,
                      tn == pw.dn ? cond.s : NULL, desc);
    if (tday < today) {
        struct cr_synth_proc_rec pr = { 0 };
        struct cr_synth_rid tenc = new_id(l, tn), tproc = new_id(l, tn);
        bool is_surgery = treat != CR_C_CHEMOTHERAPY && treat != CR_C_RADIOTHERAPY;
        struct cr_synth_enc te = cr_synth_enc_make(tn, ttrust, is_surgery ? "IMP" : "AMB",
                                                   is_surgery ? CR_C_ADMISSION : -1,
                                                   "cancer-treatment");
        te.prac = tdoc;
        te.start_day = tday;
        te.start_min = 480 + 30 * (int)cr_synth_rng_below(r, 12);
        te.end_day = tday + (is_surgery ? 2 + (int32_t)cr_synth_rng_below(r, 6) : 0);
        te.end_min = is_surgery ? 660 : te.start_min + 120;
        if (te.end_day >= today) {
            te.end_day = -1;
            te.status = "in-progress";
        }
        if (tn == pw.dn)
            te.reason_ref = cond.s;
        else
            te.reason_code = c.code;
        cr_synth_encounter_emit(l, &te, tenc.s);
        pr.node = tn;
        pr.org = ttrust;
        pr.prac = tdoc;
        pr.code = treat;
        pr.day = tday;
        pr.minute = te.start_min;
        pr.based_on_type = "CarePlan/";
        pr.based_on_id = plan.s;
        pr.encounter_id = tenc.s;
        pr.reason_id = tn == pw.dn ? cond.s : NULL;
        cr_synth_procedure_emit(l, &pr, tproc.s);
    } else {
        int minute = clinic_minute(l);
        cr_synth_appointment_emit(l, tn, ttrust, tdoc, "booked", tday, minute, 60,
                                  "First cancer treatment", NULL);
    }
}

void
cr_synth_cancer_live(struct cr_synth_life *l)
{
    const struct cr_synth_person *p = &l->p;

    if (p->has[CR_SYNTH_CANCER] && p->cancer_recent)
        pathway(l, true);
    else if (p->age >= 40 && cr_synth_rng_chance(&l->rng, RATE_USC_RULED_OUT))
        pathway(l, false);
}

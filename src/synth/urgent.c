/* urgent.c: NHS 111, ambulance, A&E, admissions and discharge summaries.
 * Depends on urgent.h, clinical.h, encounter.h, gp.h, meds.h, life.h. */
#include "synth/urgent.h"

#include "synth/clinical.h"
#include "synth/encounter.h"
#include "synth/gp.h"
#include "synth/meds.h"

#include <string.h>

/* Add 'minutes' to day/minute. */
static void
later(int32_t *day, int *minute, int minutes)
{
    int m = *minute + minutes;

    *day += m / 1440;
    *minute = m % 1440;
}

static int
complaint(struct cr_synth_life *l)
{
    static const int child[] = { CR_C_FEVER, CR_C_ABDO_PAIN, CR_C_LACERATION,
                                 CR_C_DYSPNOEA, CR_C_HEADACHE, CR_C_FEVER };
    static const int adult[] = { CR_C_CHEST_PAIN, CR_C_ABDO_PAIN, CR_C_DYSPNOEA,
                                 CR_C_HEADACHE, CR_C_SYNCOPE, CR_C_LACERATION,
                                 CR_C_FEVER, CR_C_CHEST_PAIN };
    static const int older[] = { CR_C_FALL, CR_C_DYSPNOEA, CR_C_CHEST_PAIN,
                                 CR_C_FALL, CR_C_SYNCOPE, CR_C_ABDO_PAIN };

    if (l->p.age < 16)
        return child[cr_synth_rng_below(&l->rng, 6)];
    if (l->p.age < 70)
        return adult[cr_synth_rng_below(&l->rng, 8)];
    return older[cr_synth_rng_below(&l->rng, 6)];
}

static int
diagnosis(struct cr_synth_life *l, int why, int *out_med)
{
    const struct cr_synth_person *p = &l->p;
    struct cr_synth_rng *r = &l->rng;
    static const int general[] = { CR_C_PNEUMONIA, CR_C_UTI, CR_C_CELLULITIS,
                                   CR_C_SEPSIS, CR_C_PNEUMONIA };

    *out_med = -1;
    if (p->has[CR_SYNTH_COPD] && cr_synth_rng_chance(r, 0.4)) {
        *out_med = CR_MED_PREDNISOLONE;
        return CR_C_COPD_EXACERBATION;
    }
    if (p->has[CR_SYNTH_ASTHMA] && why == CR_C_DYSPNOEA && cr_synth_rng_chance(r, 0.6)) {
        *out_med = CR_MED_PREDNISOLONE;
        return CR_C_ASTHMA_ATTACK;
    }
    if (p->has[CR_SYNTH_HEART_FAILURE] && cr_synth_rng_chance(r, 0.35)) {
        *out_med = CR_MED_FUROSEMIDE;
        return CR_C_HEART_FAILURE;
    }
    if (why == CR_C_FALL && p->age >= 70 && cr_synth_rng_chance(r, 0.5))
        return CR_C_HIP_FRACTURE;
    if (why == CR_C_CHEST_PAIN && p->age >= 40 && cr_synth_rng_chance(r, 0.35))
        return CR_C_MI;
    if (p->age >= 60 && cr_synth_rng_chance(r, 0.1))
        return CR_C_STROKE;
    {
        int code = general[cr_synth_rng_below(r, 5)];
        if (code != CR_C_SEPSIS)
            *out_med = CR_MED_AMOXICILLIN;
        return code;
    }
}

static void
narrative(struct cr_synth_jw *w, const char *text)
{
    jw_key(w, "text");
    jw_obj(w);
    jw_kstr(w, "status", "generated");
    jw_key(w, "div");
    jw_sep(w);
    cr_buf_adds(w->b, "\"<div xmlns=\\\"http://www.w3.org/1999/xhtml\\\"><p>");
    cr_buf_add_json_esc(w->b, text, strlen(text));
    cr_buf_adds(w->b, "</p></div>\"");
    jw_end(w);
}

static void
section(struct cr_synth_jw *w, const char *title, const char *text,
        const char *prefix, const char *ref)
{
    jw_obj(w);
    jw_kstr(w, "title", title);
    narrative(w, text);
    if (ref != NULL) {
        jw_key(w, "entry");
        jw_arr(w);
        ref_v(w, prefix, ref);
        jw_end(w);
    }
    jw_end(w);
}

/* The discharge summary of an admission: a Composition and the
 * DocumentReference that carries its text. */
static void
discharge_summary(struct cr_synth_life *l, int node, uint32_t trust, uint32_t doctor,
                  const char *enc, int32_t in_day, int in_min, int32_t out_day,
                  int out_min, int why, int dx, const char *cond_id,
                  const char *med_id, int med)
{
    struct cr_synth_rid comp = new_id(l, node), doc = new_id(l, node);
    const struct cr_synth_org *o = &l->w->orgs[trust];
    char in_s[11], out_s[11], text[768], meds[160], plan[224];
    struct cr_synth_jw *w;

    cr_synth_date_fmt(in_day, in_s);
    cr_synth_date_fmt(out_day, out_s);
    snprintf(meds, sizeof meds, "%s%s",
             med >= 0 ? cr_synth_codes[cr_synth_meds[med].code].display : "No new medicines",
             med >= 0 ? " (new)" : "");
    snprintf(plan, sizeof plan, "GP to review within two weeks. Results and letter sent to %s.",
             l->w->orgs[l->p.gp].name);
    snprintf(text, sizeof text,
             "Admitted to %s on %s via the emergency department with %s. "
             "Diagnosis: %s. Discharged home on %s. Medicines: %s. Plan: %s",
             o->name, in_s, cr_synth_codes[why].display, cr_synth_codes[dx].display,
             out_s, meds, plan);

    w = res_begin(l, node, CR_SYNTH_COMPOSITION, comp.s, trust);
    jw_kstr(w, "status", "final");
    kcc(w, "type", CR_C_DISCHARGE_SUMMARY);
    kref_patient(l, node, "subject");
    kref(w, "encounter", "Encounter/", enc);
    kdt(w, "date", out_day, out_min);
    kref_prac_arr(l, node, "author", doctor);
    jw_kstr(w, "title", "Discharge summary");
    kref_org(l, node, "custodian", trust);
    jw_key(w, "section");
    jw_arr(w);
    section(w, "Diagnoses", cr_synth_codes[dx].display, "Condition/", cond_id);
    section(w, "Medications on discharge", meds, "MedicationRequest/", med_id);
    section(w, "Plan", plan, NULL, NULL);
    jw_end(w);
    res_end(l->g, w, node, CR_SYNTH_COMPOSITION);

    w = res_begin(l, node, CR_SYNTH_DOCREF, doc.s, trust);
    jw_kstr(w, "status", "current");
    jw_kstr(w, "docStatus", "final");
    kcc(w, "type", CR_C_DISCHARGE_SUMMARY);
    kref_patient(l, node, "subject");
    kdt(w, "date", out_day, out_min);
    kref_prac_arr(l, node, "author", doctor);
    kref_org(l, node, "custodian", trust);
    jw_kstr(w, "description", "Discharge summary");
    jw_key(w, "content");
    jw_arr(w);
    jw_obj(w);
    jw_key(w, "attachment");
    jw_obj(w);
    jw_kstr(w, "contentType", "text/plain");
    jw_kstr(w, "language", "en-GB");
    jw_key(w, "data");
    jw_b64(w, text, strlen(text));
    jw_kstr(w, "title", "Discharge summary");
    kdt(w, "creation", out_day, out_min);
    jw_end(w);
    jw_end(w);
    jw_end(w);
    jw_key(w, "context");
    jw_obj(w);
    jw_key(w, "encounter");
    jw_arr(w);
    ref_v(w, "Encounter/", enc);
    jw_end(w);
    kperiod(w, "period", in_day, in_min, out_day, out_min);
    jw_key(w, "related");
    jw_arr(w);
    ref_v(w, "Composition/", comp.s);
    jw_end(w);
    jw_end(w);
    res_end(l->g, w, node, CR_SYNTH_DOCREF);
}

static double
admit_chance(const struct cr_synth_person *p)
{
    double c = p->age < 16 ? 0.08 : p->age < 65 ? 0.15 : p->age < 80 ? 0.30 : 0.45;
    int i;

    for (i = 0; i < CR_SYNTH_CONDS; i++)
        c += p->has[i] ? 0.05 : 0;
    return c > 0.65 ? 0.65 : c;
}

static void
admission(struct cr_synth_life *l, int node, uint32_t trust, int32_t day, int minute,
          int why)
{
    const struct cr_synth_person *p = &l->p;
    struct cr_synth_rng *r = &l->rng;
    int32_t today = l->g->today, out_day = day;
    int out_min = minute, med = -1, dx;
    int los = 1 + cr_synth_rng_poisson(r, p->age >= 65 ? 7 : 3);
    uint32_t doctor = cr_synth_pick_doctor(l, trust);
    struct cr_synth_rid enc = new_id(l, node), cond = new_id(l, node), med_id = { "" };
    struct cr_synth_cond_rec c = { 0 };
    struct cr_synth_enc e;

    later(&out_day, &out_min, los * 1440 + (int)cr_synth_rng_below(r, 360));
    if (out_min < 600)
        out_min = 600 + (int)cr_synth_rng_below(r, 420);
    dx = diagnosis(l, why, &med);
    if (out_day >= today) {
        /* still in hospital at the start date */
        e = cr_synth_enc_make(node, trust, "IMP", CR_C_ADMISSION, "emergency-admission");
        e.status = "in-progress";
        e.prac = doctor;
        e.start_day = day;
        e.start_min = minute;
        e.reason_code = why;
        e.admit_source = "emd";
        c.node = node;
        c.org = trust;
        c.prac = doctor;
        c.code = dx;
        c.category = "encounter-diagnosis";
        c.clinical = "active";
        c.onset = day;
        c.recorded = day;
        c.abated = -1;
        c.encounter_id = enc.s;
        cr_synth_condition_emit(l, &c, cond.s);
        e.diagnosis_ref = cond.s;
        cr_synth_encounter_emit(l, &e, enc.s);
        return;
    }
    c.node = node;
    c.org = trust;
    c.prac = doctor;
    c.code = dx;
    c.category = "encounter-diagnosis";
    c.clinical = dx == CR_C_HEART_FAILURE ? "active" : "resolved";
    c.onset = day;
    c.recorded = day;
    c.abated = c.clinical[0] == 'r' ? out_day : -1;
    c.encounter_id = enc.s;
    cr_synth_condition_emit(l, &c, cond.s);
    e = cr_synth_enc_make(node, trust, "IMP", CR_C_ADMISSION, "emergency-admission");
    e.prac = doctor;
    e.start_day = day;
    e.start_min = minute;
    e.end_day = out_day;
    e.end_min = out_min;
    e.reason_code = why;
    e.diagnosis_ref = cond.s;
    e.admit_source = "emd";
    e.discharge = "home";
    cr_synth_encounter_emit(l, &e, enc.s);
    if (med >= 0 && cr_synth_rng_chance(r, 0.7))
        med_id = cr_synth_med_acute(l, node, trust, doctor, med, out_day, cond.s, false);
    else
        med = -1;
    discharge_summary(l, node, trust, doctor, enc.s, day, minute, out_day, out_min, why,
                      dx, cond.s, med >= 0 ? med_id.s : NULL, med);

    if (cr_synth_rng_chance(r, 0.3)) {
        int32_t fu = out_day + 14 + (int32_t)cr_synth_rng_below(r, 29);
        int fmin = clinic_minute(l);
        if (fu < today) {
            struct cr_synth_rid op = new_id(l, node);
            struct cr_synth_enc o = cr_synth_enc_make(node, trust, "AMB", -1, "outpatient");
            o.prac = doctor;
            o.start_day = o.end_day = fu;
            o.start_min = fmin;
            o.end_min = fmin + 20;
            o.reason_ref = cond.s;
            cr_synth_encounter_emit(l, &o, op.s);
            cr_synth_appointment_emit(l, node, trust, doctor, "fulfilled", fu, fmin, 20,
                                      "Outpatient follow-up", NULL);
            cr_synth_care_count(l, node);
        } else {
            cr_synth_appointment_emit(l, node, trust, doctor, "booked", fu, fmin, 20,
                                      "Outpatient follow-up", NULL);
        }
    }
}

static void
ambulance(struct cr_synth_life *l, int region, int32_t day, int minute, int why,
          bool is_conveyed)
{
    uint32_t las = l->w->ambulance;
    struct cr_synth_rid id = new_id(l, region);
    struct cr_synth_enc e = cr_synth_enc_make(region, las, "EMER", -1,
                                              is_conveyed ? "ambulance-conveyance"
                                                          : "ambulance-see-and-treat");
    int32_t end_day = day;
    int end_min = minute;

    later(&end_day, &end_min, 40 + (int)cr_synth_rng_below(&l->rng, 50));
    e.prac = cr_synth_pick_staff(l, las);
    e.start_day = day;
    e.start_min = minute;
    e.end_day = end_day;
    e.end_min = end_min;
    e.reason_code = why;
    cr_synth_encounter_emit(l, &e, id.s);
}

/* An A&E attendance in 'region' (already counted by the caller). */
static void
ae(struct cr_synth_life *l, int region, int32_t day, int minute, int why,
   bool via_ambulance)
{
    const struct cr_synth_person *p = &l->p;
    struct cr_synth_rng *r = &l->rng;
    uint32_t trust = cr_synth_pick_acute(l, region);
    struct cr_synth_rid enc;
    struct cr_synth_enc e;
    int32_t end_day;
    int end_min;
    bool is_admitted;

    if (via_ambulance) {
        int32_t call_day = day;
        int call_min = minute - 70;
        if (call_min < 0) {
            call_min += 1440;
            call_day--;
        }
        ambulance(l, region, call_day, call_min, why, true);
        cr_synth_care_count(l, region);
    }
    is_admitted = cr_synth_rng_chance(r, admit_chance(p));
    end_day = day;
    end_min = minute;
    later(&end_day, &end_min, 60 + (int)cr_synth_rng_below(r, 420));
    if (end_day >= l->g->today) {
        end_day = day;
        end_min = minute;
        is_admitted = false;
    }
    enc = new_id(l, region);
    e = cr_synth_enc_make(region, trust, "EMER", CR_C_ED_VISIT, "ae-attendance");
    e.prac = cr_synth_pick_doctor(l, trust);
    e.start_day = day;
    e.start_min = minute;
    e.end_day = end_day;
    e.end_min = end_min;
    e.reason_code = why;
    e.discharge = is_admitted ? "oth" : "home";
    cr_synth_encounter_emit(l, &e, enc.s);
    if (is_admitted)
        admission(l, region, trust, end_day, end_min, why);
}

static double
per_year(const struct cr_synth_person *p, double child, double young, double adult,
         double old, double oldest)
{
    return p->age < 5 ? child : p->age < 16 ? young : p->age < 65 ? adult
           : p->age < 80 ? old : oldest;
}

void
cr_synth_urgent_live(struct cr_synth_life *l)
{
    const struct cr_synth_person *p = &l->p;
    struct cr_synth_rng *r = &l->rng;
    int32_t today = l->g->today, from = history_start(l);
    double years = (today - from) / 365.0;
    int n, i, c, ltcs = 0;

    for (c = 0; c < CR_SYNTH_CONDS; c++)
        ltcs += p->has[c];

    n = cr_synth_rng_poisson(r, years * (per_year(p, 0.45, 0.22, 0.28, 0.38, 0.70)
                                         + 0.08 * ltcs));
    for (i = 0; i < n; i++) {
        int region = cr_synth_care_region(l);
        int32_t day = day_between(l, from, today - 1);
        bool by_ambulance = cr_synth_rng_chance(r, p->age >= 75 ? 0.45 : 0.18);
        int minute = any_minute(l), why = complaint(l);
        ae(l, region, day, minute, why, by_ambulance);
    }

    n = cr_synth_rng_poisson(r, years * per_year(p, 0.45, 0.18, 0.20, 0.22, 0.30));
    for (i = 0; i < n; i++) {
        int region = cr_synth_care_region(l);
        int32_t day = day_between(l, from, today - 1);
        int minute = any_minute(l), why = complaint(l);
        uint32_t nhs111 = l->w->nhs111;
        struct cr_synth_rid id = new_id(l, region);
        struct cr_synth_enc e = cr_synth_enc_make(region, nhs111, "VR", CR_C_TELEPHONE,
                                                  "nhs111-call");
        e.prac = cr_synth_pick_staff(l, nhs111);
        e.start_day = e.end_day = day;
        e.start_min = minute;
        e.end_min = minute + 10 + (int)cr_synth_rng_below(r, 16);
        if (e.end_min > 1439)
            e.end_min = 1439;
        e.reason_code = why;
        cr_synth_encounter_emit(l, &e, id.s);
        if (cr_synth_rng_chance(r, 0.15) && e.end_min + 60 < 1440) {
            bool by_ambulance = cr_synth_rng_chance(r, 0.4);
            cr_synth_care_count(l, region);
            ae(l, region, day, e.end_min + 45, why, by_ambulance);
        }
    }

    n = cr_synth_rng_poisson(r, years * (p->care_home != CR_SYNTH_NONE ? 0.2
                                         : per_year(p, 0.01, 0.01, 0.015, 0.04, 0.1)));
    for (i = 0; i < n; i++) {
        int region = cr_synth_care_region(l);
        int32_t day = day_between(l, from, today - 1);
        int minute = any_minute(l), why = complaint(l);
        ambulance(l, region, day, minute, why, false);
    }
}

/* gp.c: consultations, short illnesses, appointments and allergies in
 * general practice. Depends on gp.h, clinical.h, encounter.h, meds.h. */
#include "synth/gp.h"

#include "synth/clinical.h"
#include "synth/encounter.h"
#include "synth/meds.h"

void
cr_synth_appointment_emit(struct cr_synth_life *l, int node, uint32_t org,
                          uint32_t prac, const char *status, int32_t day,
                          int minute, int minutes, const char *description,
                          const char *based_on_referral)
{
    struct cr_synth_rid id = new_id(l, node);
    struct cr_synth_jw *w = res_begin(l, node, CR_SYNTH_APPOINTMENT, id.s, org);
    int32_t booked = day - 1 - (int32_t)cr_synth_rng_below(&l->rng, 21);
    int end = minute + minutes;

    jw_kstr(w, "status", status);
    kcc_sys(w, "appointmentType", CR_HL7 "v2-0276", "ROUTINE", "Routine appointment");
    jw_kstr(w, "description", description);
    kdt(w, "start", day, minute);
    kdt(w, "end", day, end < 1440 ? end : 1439);
    jw_kint(w, "minutesDuration", minutes);
    if (booked > l->g->today - 1)
        booked = l->g->today - 1;
    kdt(w, "created", booked, clinic_minute(l));
    if (based_on_referral != NULL) {
        jw_key(w, "basedOn");
        jw_arr(w);
        ref_v(w, "ServiceRequest/", based_on_referral);
        jw_end(w);
    }
    jw_key(w, "participant");
    jw_arr(w);
    jw_obj(w);
    kref_patient(l, node, "actor");
    jw_kstr(w, "required", "required");
    jw_kstr(w, "status", "accepted");
    jw_end(w);
    jw_obj(w);
    jw_key(w, "actor");
    ref_prac_v(l, node, prac);
    jw_kstr(w, "required", "required");
    jw_kstr(w, "status", "accepted");
    jw_end(w);
    jw_end(w);
    res_end(l->g, w, node, CR_SYNTH_APPOINTMENT);
}

static double
consult_rate(const struct cr_synth_person *p)
{
    double rate;
    int c, n = 0;

    if (p->age < 5)
        rate = 3.0;
    else if (p->age < 15)
        rate = 1.2;
    else if (p->age < 45)
        rate = p->is_female ? 2.2 : 1.1;
    else if (p->age < 65)
        rate = 2.5;
    else if (p->age < 75)
        rate = 3.5;
    else
        rate = 5.0;
    for (c = 0; c < CR_SYNTH_CONDS; c++)
        n += p->has[c];
    return rate + (n > 3 ? 3 : n) * 0.8;
}

/* A short illness suited to the person's age, and whether it is treated
 * with an antibiotic. */
static int
illness(struct cr_synth_life *l, bool *is_infection)
{
    static const int child[] = { CR_C_URTI, CR_C_OTITIS, CR_C_TONSILLITIS, CR_C_ECZEMA, CR_C_URTI };
    static const int adult[] = { CR_C_URTI, CR_C_UTI, CR_C_BACK_PAIN, CR_C_TONSILLITIS,
                                 CR_C_DEPRESSION, CR_C_ANXIETY, CR_C_URTI, CR_C_BACK_PAIN };
    int code;

    if (l->p.age < 16)
        code = child[cr_synth_rng_below(&l->rng, 5)];
    else
        code = adult[cr_synth_rng_below(&l->rng, 8)];
    *is_infection = code == CR_C_URTI || code == CR_C_UTI || code == CR_C_OTITIS
                    || code == CR_C_TONSILLITIS;
    return code;
}

static void
consultations(struct cr_synth_life *l)
{
    const struct cr_synth_person *p = &l->p;
    struct cr_synth_rng *r = &l->rng;
    int32_t today = l->g->today, from = history_start(l);
    double years = (today - from) / 365.0;
    int n = cr_synth_rng_poisson(r, consult_rate(p) * years), i;

    for (i = 0; i < n; i++) {
        int32_t day = day_between(l, from, today - 1);
        bool is_phone = cr_synth_rng_chance(r, 0.3);
        uint32_t prac = cr_synth_rng_chance(r, 0.6) ? p->gp_doctor
                        : cr_synth_rng_chance(r, 0.7) ? cr_synth_pick_doctor(l, p->gp)
                        : cr_synth_pick_staff(l, p->gp);
        struct cr_synth_rid enc = new_id(l, p->region), cond = { "" };
        struct cr_synth_enc e = cr_synth_enc_make(p->region, p->gp, is_phone ? "VR" : "AMB",
                                                  is_phone ? CR_C_TELEPHONE : CR_C_CONSULTATION,
                                                  is_phone ? "gp-telephone" : "gp-consultation");
        int minute = clinic_minute(l);

        if (cr_synth_rng_chance(r, 0.35)) {
            bool is_infection;
            struct cr_synth_cond_rec c = { 0 };
            int code = illness(l, &is_infection);
            bool is_mental = code == CR_C_DEPRESSION || code == CR_C_ANXIETY;

            cond = new_id(l, p->region);
            c.node = p->region;
            c.org = p->gp;
            c.prac = prac;
            c.code = code;
            c.category = "encounter-diagnosis";
            c.clinical = is_mental && day > today - 200 ? "active" : "resolved";
            c.onset = day - (int32_t)cr_synth_rng_below(r, 5);
            c.recorded = day;
            c.abated = c.clinical[0] == 'r' ? day + 7 + (int32_t)cr_synth_rng_below(r, 30) : -1;
            if (c.abated >= today)
                c.abated = today - 1;
            c.encounter_id = enc.s;
            cr_synth_condition_emit(l, &c, cond.s);
            e.reason_ref = cond.s;
            if (is_infection && cr_synth_rng_chance(r, 0.45))
                cr_synth_med_acute(l, p->region, p->gp, prac, CR_MED_AMOXICILLIN, day,
                                   cond.s, false);
            else if (code == CR_C_BACK_PAIN && cr_synth_rng_chance(r, 0.5))
                cr_synth_med_acute(l, p->region, p->gp, prac, CR_MED_PARACETAMOL, day,
                                   cond.s, false);
        }
        e.prac = prac;
        e.start_day = e.end_day = day;
        e.start_min = minute;
        e.end_min = minute + (is_phone ? 8 : 12);
        cr_synth_encounter_emit(l, &e, enc.s);
        if (!is_phone && cr_synth_rng_chance(r, 0.3))
            cr_synth_appointment_emit(l, p->region, p->gp, prac, "fulfilled", day, minute,
                                      10, "GP appointment", NULL);
    }
    if (cr_synth_rng_chance(r, 0.03)) {
        int32_t day = day_between(l, from, today - 1);
        int minute = clinic_minute(l);
        cr_synth_appointment_emit(l, p->region, p->gp, p->gp_doctor, "noshow", day,
                                  minute, 10, "GP appointment", NULL);
    }
    if (cr_synth_rng_chance(r, 0.25)) {
        int32_t day = today + 1 + (int32_t)cr_synth_rng_below(r, 42);
        uint32_t who = cr_synth_rng_chance(r, 0.7) ? p->gp_doctor
                                                   : cr_synth_pick_staff(l, p->gp);
        int minute = clinic_minute(l);
        cr_synth_appointment_emit(l, p->region, p->gp, who, "booked", day, minute, 10,
                                  "GP appointment", NULL);
    }
}

static void
allergy(struct cr_synth_life *l, int code, const char *category, int reaction,
        const char *severity, bool is_high)
{
    const struct cr_synth_person *p = &l->p;
    struct cr_synth_rid id = new_id(l, p->region);
    struct cr_synth_jw *w = res_begin(l, p->region, CR_SYNTH_ALLERGY, id.s, p->gp);
    int32_t recorded = day_between(l, p->birth + 180, l->g->today - 1);

    if (recorded < p->birth)
        recorded = p->birth;
    kclinical_status(w, "allergyintolerance-clinical", "active");
    jw_key(w, "verificationStatus");
    cc_sys_v(w, CR_HL7 "allergyintolerance-verification", "confirmed", "Confirmed");
    jw_kstr(w, "type", "allergy");
    jw_key(w, "category");
    jw_arr(w);
    jw_str(w, category);
    jw_end(w);
    jw_kstr(w, "criticality", is_high ? "high" : "low");
    kcc(w, "code", code);
    kref_patient(l, p->region, "patient");
    kdate(w, "recordedDate", recorded);
    kref_prac(l, p->region, "recorder", p->gp_doctor);
    jw_key(w, "reaction");
    jw_arr(w);
    jw_obj(w);
    jw_key(w, "manifestation");
    jw_arr(w);
    cc_v(w, reaction, NULL);
    jw_end(w);
    jw_kstr(w, "severity", severity);
    jw_end(w);
    jw_end(w);
    res_end(l->g, w, p->region, CR_SYNTH_ALLERGY);
}

static void
allergies(struct cr_synth_life *l)
{
    const struct cr_synth_person *p = &l->p;
    struct cr_synth_rng *r = &l->rng;

    if (p->age >= 1 && cr_synth_rng_chance(r, 0.06)) {
        bool severe = cr_synth_rng_chance(r, 0.1);
        allergy(l, CR_C_ALLERGY_PENICILLIN, "medication",
                severe ? CR_C_ANAPHYLAXIS : cr_synth_rng_chance(r, 0.5) ? CR_C_RASH : CR_C_URTICARIA,
                severe ? "severe" : "mild", severe);
    }
    if (p->age >= 1 && cr_synth_rng_chance(r, p->age < 40 ? 0.02 : 0.008)) {
        bool severe = cr_synth_rng_chance(r, 0.3);
        allergy(l, CR_C_ALLERGY_PEANUT, "food", severe ? CR_C_ANAPHYLAXIS : CR_C_URTICARIA,
                severe ? "severe" : "moderate", true);
    }
    if (p->age >= 18 && cr_synth_rng_chance(r, 0.005))
        allergy(l, CR_C_ALLERGY_LATEX, "environment", CR_C_RASH, "mild", false);
    if (p->age >= 18 && cr_synth_rng_chance(r, 0.007))
        allergy(l, CR_C_ALLERGY_ASPIRIN, "medication", CR_C_WHEEZE, "moderate", false);
}

void
cr_synth_gp_live(struct cr_synth_life *l)
{
    allergies(l);
    consultations(l);
}

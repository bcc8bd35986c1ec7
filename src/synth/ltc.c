/* ltc.c: long-term conditions, repeat medicines, reviews, blood pressure
 * and laboratory results. Depends on ltc.h, clinical.h, meds.h,
 * encounter.h and life.h. */
#include "synth/ltc.h"

#include "synth/clinical.h"
#include "synth/encounter.h"
#include "synth/meds.h"

#include <stdlib.h>

#define YEAR 365

int
cr_synth_ltc_code(const struct cr_synth_life *l, int c)
{
    static const int sites[] = { CR_C_CA_BREAST, CR_C_CA_PROSTATE, CR_C_CA_LUNG,
                                 CR_C_CA_COLON };

    switch (c) {
    case CR_SYNTH_CANCER: return sites[l->p.cancer_site];
    case CR_SYNTH_DEMENTIA: return l->p.is_alzheimer ? CR_C_ALZHEIMER : CR_C_DEMENTIA;
    case CR_SYNTH_SMI: return l->p.is_bipolar ? CR_C_BIPOLAR : CR_C_SCHIZOPHRENIA;
    default: return cr_synth_cond_defs[c].code;
    }
}

static int
clampi(int v, int lo, int hi)
{
    return v < lo ? lo : v > hi ? hi : v;
}

static int
cmp_day(const void *a, const void *b)
{
    int32_t x = *(const int32_t *)a, y = *(const int32_t *)b;

    return (x > y) - (x < y);
}

/* Authorise 'med' from 'start' and issue it every 'interval' days (with
 * some lateness) over the last year. Poor adherence stretches gaps. */
static void
repeat(struct cr_synth_life *l, int med, int32_t start, const char *reason_id,
       int interval, double adherence)
{
    const struct cr_synth_person *p = &l->p;
    int32_t today = l->g->today, d;
    struct cr_synth_rid plan;

    if (start >= today)
        start = today - 1;
    plan = cr_synth_med_plan(l, p->region, p->gp, p->gp_doctor, med, start, reason_id);
    d = start > today - YEAR ? start : today - YEAR + (int32_t)cr_synth_rng_below(&l->rng, (uint32_t)interval);
    while (d < today) {
        cr_synth_med_issue(l, p->region, p->gp, p->gp_doctor, med, d, plan.s);
        d += interval + (int32_t)cr_synth_rng_below(&l->rng, 8);
        if (!cr_synth_rng_chance(&l->rng, adherence))
            d += interval / 2 + (int32_t)cr_synth_rng_below(&l->rng, (uint32_t)interval);
    }
}

/* Issues at 'n' random days of the last year (SABA, used as needed). */
static void
issues_in_year(struct cr_synth_life *l, int med, int32_t start, const char *reason_id,
               int n)
{
    const struct cr_synth_person *p = &l->p;
    int32_t today = l->g->today, days[24], from;
    struct cr_synth_rid plan;
    int i;

    if (start >= today)
        start = today - 1;
    plan = cr_synth_med_plan(l, p->region, p->gp, p->gp_doctor, med, start, reason_id);
    from = start > today - YEAR ? start : today - YEAR;
    if (n > 24)
        n = 24;
    for (i = 0; i < n; i++)
        days[i] = day_between(l, from, today - 1);
    qsort(days, (size_t)n, sizeof days[0], cmp_day);
    for (i = 0; i < n; i++)
        cr_synth_med_issue(l, p->region, p->gp, p->gp_doctor, med, days[i], plan.s);
}

static void
asthma(struct cr_synth_life *l, bool *on)
{
    const struct cr_synth_person *p = &l->p;
    struct cr_synth_rng *r = &l->rng;
    const char *cond = l->cond_id[CR_SYNTH_ASTHMA].s;
    int32_t start = p->onset[CR_SYNTH_ASTHMA];
    bool has_ics = cr_synth_rng_chance(r, 0.65);
    int saba;

    if (has_ics)
        saba = cr_synth_rng_chance(r, 0.10) ? cr_synth_rng_range(r, 6, 10)
                                            : cr_synth_rng_poisson(r, 2.5);
    else
        saba = cr_synth_rng_chance(r, 0.45) ? cr_synth_rng_range(r, 6, 16)
                                            : cr_synth_rng_poisson(r, 3.0);
    issues_in_year(l, CR_MED_SALBUTAMOL, start, cond, saba);
    on[CR_MED_SALBUTAMOL] = true;
    if (has_ics) {
        repeat(l, CR_MED_BECLOMETASONE, start + 30, cond, 50, 0.6);
        on[CR_MED_BECLOMETASONE] = true;
    } else if (saba >= 6) {
        l->g->stats->asthma_saba_no_ics_6plus++;
    }
    if (cr_synth_rng_chance(r, 0.12)) {
        int courses = cr_synth_rng_range(r, 1, 3), i;
        for (i = 0; i < courses; i++) {
            int32_t day = day_between(l, l->g->today - YEAR, l->g->today - 1);
            if (day > start)
                cr_synth_med_acute(l, p->region, p->gp, p->gp_doctor,
                                   CR_MED_PREDNISOLONE, day, cond, false);
        }
    }
}

static void
medicines(struct cr_synth_life *l)
{
    const struct cr_synth_person *p = &l->p;
    struct cr_synth_rng *r = &l->rng;
    bool on[CR_MED_COUNT] = { false };

    if (p->has[CR_SYNTH_ASTHMA] && p->age >= 5)
        asthma(l, on);
    if (p->has[CR_SYNTH_COPD]) {
        const char *cond = l->cond_id[CR_SYNTH_COPD].s;
        if (!on[CR_MED_SALBUTAMOL])
            issues_in_year(l, CR_MED_SALBUTAMOL, p->onset[CR_SYNTH_COPD], cond,
                           cr_synth_rng_poisson(r, 4));
        if (!on[CR_MED_BECLOMETASONE] && cr_synth_rng_chance(r, 0.5))
            repeat(l, CR_MED_BECLOMETASONE, p->onset[CR_SYNTH_COPD], cond, 50, 0.7);
    }
    if (p->has[CR_SYNTH_HYPERTENSION] && cr_synth_rng_chance(r, 0.85)) {
        const char *cond = l->cond_id[CR_SYNTH_HYPERTENSION].s;
        int32_t start = p->onset[CR_SYNTH_HYPERTENSION] + 30;
        bool aml = cr_synth_rng_chance(r, 0.6);
        if (aml)
            repeat(l, CR_MED_AMLODIPINE, start, cond, 56, 0.85);
        if (!aml || cr_synth_rng_chance(r, 0.35)) {
            repeat(l, CR_MED_RAMIPRIL, start, cond, 56, 0.85);
            on[CR_MED_RAMIPRIL] = true;
        }
        if (p->age >= 60 && cr_synth_rng_chance(r, 0.35)) {
            repeat(l, CR_MED_ATORVASTATIN, start, cond, 56, 0.8);
            on[CR_MED_ATORVASTATIN] = true;
        }
    }
    if (p->has[CR_SYNTH_DIABETES]) {
        const char *cond = l->cond_id[CR_SYNTH_DIABETES].s;
        int32_t start = p->onset[CR_SYNTH_DIABETES] + 14;
        if (cr_synth_rng_chance(r, 0.85))
            repeat(l, CR_MED_METFORMIN, start, cond, 56, 0.8);
        if (!on[CR_MED_ATORVASTATIN] && cr_synth_rng_chance(r, 0.7)) {
            repeat(l, CR_MED_ATORVASTATIN, start, cond, 56, 0.8);
            on[CR_MED_ATORVASTATIN] = true;
        }
    }
    if (p->has[CR_SYNTH_HEART_FAILURE]) {
        const char *cond = l->cond_id[CR_SYNTH_HEART_FAILURE].s;
        int32_t start = p->onset[CR_SYNTH_HEART_FAILURE] + 7;
        if (cr_synth_rng_chance(r, 0.9))
            repeat(l, CR_MED_FUROSEMIDE, start, cond, 56, 0.85);
        if (!on[CR_MED_RAMIPRIL] && cr_synth_rng_chance(r, 0.7)) {
            repeat(l, CR_MED_RAMIPRIL, start, cond, 56, 0.85);
            on[CR_MED_RAMIPRIL] = true;
        }
    }
    if (p->has[CR_SYNTH_CKD] && !on[CR_MED_RAMIPRIL] && cr_synth_rng_chance(r, 0.3))
        repeat(l, CR_MED_RAMIPRIL, p->onset[CR_SYNTH_CKD] + 30,
               l->cond_id[CR_SYNTH_CKD].s, 56, 0.85);
    if (p->has[CR_SYNTH_SMI] && cr_synth_rng_chance(r, 0.6))
        repeat(l, CR_MED_OLANZAPINE, p->onset[CR_SYNTH_SMI] + 30,
               l->cond_id[CR_SYNTH_SMI].s, 28, 0.7);
}

/* A blood pressure reading: treated hypertension runs a little high,
 * everybody else is mostly normal. */
static void
bp(struct cr_synth_life *l, int32_t day, const char *enc, bool is_raised)
{
    const struct cr_synth_person *p = &l->p;
    struct cr_synth_rng *r = &l->rng;
    int sys, dia, minute;
    uint32_t who;

    if (is_raised) {
        sys = cr_synth_rng_range(r, 142, 172);
        dia = cr_synth_rng_range(r, 90, 104);
    } else if (p->has[CR_SYNTH_HYPERTENSION]) {
        sys = clampi((int)cr_synth_rng_normal(r, 139, 13), 105, 190);
        dia = clampi((int)cr_synth_rng_normal(r, 84, 8), 60, 115);
    } else {
        sys = clampi((int)cr_synth_rng_normal(r, 122 + (p->age > 50 ? 6 : 0), 10), 92, 138);
        dia = clampi((int)cr_synth_rng_normal(r, 76, 7), 55, 88);
    }
    who = enc ? p->gp_doctor : cr_synth_pick_staff(l, p->gp);
    minute = clinic_minute(l);
    cr_synth_bp_emit(l, p->region, p->gp, who, day, minute, sys, dia, enc);
}

static void
reviews(struct cr_synth_life *l)
{
    const struct cr_synth_person *p = &l->p;
    struct cr_synth_rng *r = &l->rng;
    const struct cr_synth_world *w = l->w;
    int32_t today = l->g->today, first = today, hstart = history_start(l);
    uint32_t lab = w->acute[p->region][0];
    const char *reason = NULL;
    int c, y;
    int hba1c = clampi((int)cr_synth_rng_normal(r, 58, 12), 40, 110);
    int egfr = p->has[CR_SYNTH_CKD]
                   ? clampi((int)cr_synth_rng_normal(r, 45, 9), 16, 59)
                   : clampi((int)cr_synth_rng_normal(r, 88 - (p->age > 40 ? (p->age - 40) / 2 : 0), 10), 60, 120);
    int chol = clampi((int)cr_synth_rng_normal(r, 50, 9), 28, 85);
    bool needs_bp = p->has[CR_SYNTH_HYPERTENSION] || p->has[CR_SYNTH_DIABETES]
                    || p->has[CR_SYNTH_CKD] || p->has[CR_SYNTH_HEART_FAILURE];

    for (c = 0; c < CR_SYNTH_CONDS; c++) {
        if (!p->has[c] || c == CR_SYNTH_CANCER)
            continue;
        if (reason == NULL)
            reason = l->cond_id[c].s;
        if (p->onset[c] < first)
            first = p->onset[c];
    }
    if (reason == NULL)
        return;
    for (y = 0; y < 3; y++) {
        int32_t day = today - YEAR * (y + 1) + (int32_t)cr_synth_rng_below(r, YEAR);
        struct cr_synth_rid enc;
        struct cr_synth_enc e;

        if (day < first || day < hstart || day >= today)
            continue;
        enc = new_id(l, p->region);
        e = cr_synth_enc_make(p->region, p->gp, "AMB", CR_C_CONSULTATION, "ltc-review");
        e.prac = p->gp_doctor;
        e.start_day = e.end_day = day;
        e.start_min = clinic_minute(l);
        e.end_min = e.start_min + 20;
        e.reason_ref = reason;
        cr_synth_encounter_emit(l, &e, enc.s);
        if (needs_bp)
            bp(l, day, enc.s, false);
        if (p->has[CR_SYNTH_DIABETES]) {
            cr_synth_lab_emit(l, p->region, p->gp, lab, CR_LAB_HBA1C, day, enc.s,
                              clampi(hba1c + (int)cr_synth_rng_normal(r, 0, 5), 35, 120), 0);
            if (day + 182 < today)
                cr_synth_lab_emit(l, p->region, p->gp, lab, CR_LAB_HBA1C, day + 182, NULL,
                                  clampi(hba1c + (int)cr_synth_rng_normal(r, 0, 5), 35, 120), 0);
            cr_synth_lab_emit(l, p->region, p->gp, lab, CR_LAB_LIPID, day, enc.s,
                              clampi(chol + (int)cr_synth_rng_normal(r, 0, 4), 25, 90), 0);
        }
        if (p->has[CR_SYNTH_DIABETES] || p->has[CR_SYNTH_CKD]
            || (p->has[CR_SYNTH_HYPERTENSION] && cr_synth_rng_chance(r, 0.5))) {
            int e2 = clampi(egfr + (int)cr_synth_rng_normal(r, 0, 4), 10, 125);
            cr_synth_lab_emit(l, p->region, p->gp, lab, CR_LAB_RENAL, day, enc.s, e2,
                              clampi(7000 / e2 + (int)cr_synth_rng_normal(r, 0, 6), 40, 600));
        }
    }
}

static void
blood_pressure(struct cr_synth_life *l)
{
    const struct cr_synth_person *p = &l->p;
    struct cr_synth_rng *r = &l->rng;
    int32_t today = l->g->today, hstart = history_start(l);
    int y;

    if (p->age < 40)
        return;
    if (p->has[CR_SYNTH_HYPERTENSION]) {
        /* one more reading a year besides the review */
        for (y = 0; y < 3; y++) {
            int32_t day = today - YEAR * (y + 1) + (int32_t)cr_synth_rng_below(r, YEAR);
            if (day >= hstart && day > p->onset[CR_SYNTH_HYPERTENSION])
                bp(l, day, NULL, false);
        }
        return;
    }
    if (cr_synth_rng_chance(r, 0.04)) {
        /* Raised clinic readings, no diagnosis: hypertension case finding. */
        int32_t d1 = today - 60 - (int32_t)cr_synth_rng_below(r, 540);
        int32_t d2 = d1 + 14 + (int32_t)cr_synth_rng_below(r, 100);
        if (d2 >= today)
            d2 = today - 1;
        bp(l, d1, NULL, true);
        bp(l, d2, NULL, true);
        l->g->stats->bp_raised_undiagnosed++;
        return;
    }
    for (y = 0; y < 3; y++)
        if (cr_synth_rng_chance(r, 0.3))
            bp(l, today - YEAR * (y + 1) + (int32_t)cr_synth_rng_below(r, YEAR), NULL, false);
}

void
cr_synth_ltc_live(struct cr_synth_life *l)
{
    const struct cr_synth_person *p = &l->p;
    struct cr_synth_rng *r = &l->rng;
    int32_t today = l->g->today;
    int c;

    for (c = 0; c < CR_SYNTH_CONDS; c++) {
        struct cr_synth_cond_rec rec = { 0 };

        if (!p->has[c])
            continue;
        l->cond_id[c] = new_id(l, p->region);
        rec.node = p->region;
        rec.org = p->gp;
        rec.prac = p->gp_doctor;
        rec.code = cr_synth_ltc_code(l, c);
        rec.category = "problem-list-item";
        rec.clinical = "active";
        rec.onset = p->onset[c];
        rec.recorded = p->onset[c] + (int32_t)cr_synth_rng_below(r, 15)
                       + (c == CR_SYNTH_CANCER && p->cancer_recent ? 7 : 0);
        if (rec.recorded >= today)
            rec.recorded = today - 1;
        if (rec.recorded < rec.onset)
            rec.recorded = rec.onset;
        rec.abated = -1;
        if (c == CR_SYNTH_CANCER && !p->cancer_recent && cr_synth_rng_chance(r, 0.6))
            rec.clinical = "remission";
        cr_synth_condition_emit(l, &rec, l->cond_id[c].s);
    }
    medicines(l);
    reviews(l);
    blood_pressure(l);
}

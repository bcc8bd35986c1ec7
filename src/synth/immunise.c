/* immunise.c: the childhood schedule and flu vaccines. Depends on
 * immunise.h and life.h. */
#include "synth/immunise.h"

struct dose {
    int age_days;                /* when it is due */
    int vaccine;                 /* CR_C_VAC_* */
    int number;                  /* dose number of that vaccine */
};

/* Born before 1 July 2024. */
static const struct dose old_schedule[] = {
    { 56, CR_C_VAC_6IN1, 1 }, { 56, CR_C_VAC_MENB, 1 }, { 56, CR_C_VAC_ROTA, 1 },
    { 84, CR_C_VAC_6IN1, 2 }, { 84, CR_C_VAC_PCV, 1 }, { 84, CR_C_VAC_ROTA, 2 },
    { 112, CR_C_VAC_6IN1, 3 }, { 112, CR_C_VAC_MENB, 2 },
    { 365, CR_C_VAC_HIBMENC, 1 }, { 365, CR_C_VAC_PCV, 2 }, { 365, CR_C_VAC_MENB, 3 },
    { 365, CR_C_VAC_MMR, 1 },
    { 1217, CR_C_VAC_4IN1, 1 }, { 1217, CR_C_VAC_MMR, 2 },
};

/* Born on or after 1 July 2024. */
static const struct dose new_schedule[] = {
    { 56, CR_C_VAC_6IN1, 1 }, { 56, CR_C_VAC_MENB, 1 }, { 56, CR_C_VAC_ROTA, 1 },
    { 84, CR_C_VAC_6IN1, 2 }, { 84, CR_C_VAC_MENB, 2 }, { 84, CR_C_VAC_ROTA, 2 },
    { 112, CR_C_VAC_6IN1, 3 }, { 112, CR_C_VAC_PCV, 1 },
    { 365, CR_C_VAC_PCV, 2 }, { 365, CR_C_VAC_MENB, 3 }, { 365, CR_C_VAC_MMR, 1 },
    { 548, CR_C_VAC_6IN1, 4 }, { 548, CR_C_VAC_MMR, 2 },
    { 1217, CR_C_VAC_4IN1, 1 },
};

static void
immunisation(struct cr_synth_life *l, int vaccine, int dose, int32_t day)
{
    const struct cr_synth_person *p = &l->p;
    struct cr_synth_rid id = new_id(l, p->region);
    struct cr_synth_jw *w = res_begin(l, p->region, CR_SYNTH_IMMUNIZATION, id.s, p->gp);

    jw_kstr(w, "status", "completed");
    kcc(w, "vaccineCode", vaccine);
    kref_patient(l, p->region, "patient");
    kdt(w, "occurrenceDateTime", day, clinic_minute(l));
    kdate(w, "recorded", day);
    jw_kbool(w, "primarySource", true);
    jw_key(w, "performer");
    jw_arr(w);
    jw_obj(w);
    jw_key(w, "actor");
    ref_prac_v(l, p->region, cr_synth_pick_staff(l, p->gp));
    jw_end(w);
    jw_end(w);
    jw_key(w, "protocolApplied");
    jw_arr(w);
    jw_obj(w);
    jw_kint(w, "doseNumberPositiveInt", dose);
    jw_end(w);
    jw_end(w);
    res_end(l->g, w, p->region, CR_SYNTH_IMMUNIZATION);
}

static void
childhood(struct cr_synth_life *l)
{
    const struct cr_synth_person *p = &l->p;
    struct cr_synth_rng *r = &l->rng;
    int32_t today = l->g->today;
    bool is_new = p->birth >= cr_synth_days(2024, 7, 1);
    const struct dose *s = is_new ? new_schedule : old_schedule;
    size_t n = is_new ? sizeof new_schedule / sizeof new_schedule[0]
                      : sizeof old_schedule / sizeof old_schedule[0];
    double u = cr_synth_rng_unit(r), take;
    int max_delay;
    size_t i;

    l->g->stats->children_under6++;
    if (u < 0.75) {              /* keeps to the schedule */
        take = 0.97;
        max_delay = 21;
    } else if (u < 0.95) {       /* misses or delays some */
        take = 0.70;
        max_delay = 90;
    } else {                     /* declines */
        take = 0;
        max_delay = 0;
    }
    for (i = 0; i < n; i++) {
        int32_t due = p->birth + s[i].age_days;
        int32_t given = due + (int32_t)cr_synth_rng_below(r, (uint32_t)max_delay + 1);
        bool is_taken = cr_synth_rng_chance(r, take);

        if (due >= today)
            break;
        if (is_taken && given < today)
            immunisation(l, s[i].vaccine, s[i].number, given);
        else if (due + 28 < today)
            l->g->stats->immunisations_missed++;
    }
}

static void
flu(struct cr_synth_life *l)
{
    const struct cr_synth_person *p = &l->p;
    struct cr_synth_rng *r = &l->rng;
    int32_t today = l->g->today;
    int y, year, m, d;
    double uptake;
    bool at_risk = p->has[CR_SYNTH_ASTHMA] || p->has[CR_SYNTH_COPD]
                   || p->has[CR_SYNTH_DIABETES] || p->has[CR_SYNTH_HEART_FAILURE]
                   || p->has[CR_SYNTH_CKD];

    if (p->age >= 65)
        uptake = 0.72;
    else if (p->age >= 18 && at_risk)
        uptake = 0.45;
    else
        return;
    cr_synth_civil(today, &year, &m, &d);
    for (y = 0; y < 3; y++) {
        int32_t start = cr_synth_days(year - 1 - y, 9, 20);
        int32_t day = start + (int32_t)cr_synth_rng_below(r, 80);
        if (day < today && day > p->birth && cr_synth_rng_chance(r, uptake))
            immunisation(l, CR_C_VAC_FLU, 1, day);
    }
}

void
cr_synth_immunise_live(struct cr_synth_life *l)
{
    if (l->p.age < 6)
        childhood(l);
    flu(l);
}

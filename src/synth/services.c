/* services.c: mental health, community nursing and social care contacts.
 * Depends on services.h, encounter.h, ltc.h and life.h. */
#include "synth/services.h"

#include "synth/encounter.h"
#include "synth/ltc.h"

static void
contacts(struct cr_synth_life *l, uint32_t org, double per_year, const char *cls,
         int type_code, const char *kind, int reason_code, int32_t not_before,
         int minutes)
{
    const struct cr_synth_person *p = &l->p;
    int32_t today = l->g->today, from = history_start(l);
    int n, i;

    if (not_before > from)
        from = not_before;
    if (from >= today)
        return;
    n = cr_synth_rng_poisson(&l->rng, per_year * (today - from) / 365.0);
    for (i = 0; i < n; i++) {
        struct cr_synth_rid id = new_id(l, p->region);
        struct cr_synth_enc e = cr_synth_enc_make(p->region, org, cls, type_code, kind);

        e.prac = cr_synth_rng_chance(&l->rng, 0.3) ? cr_synth_pick_doctor(l, org)
                                                   : cr_synth_pick_staff(l, org);
        e.start_day = e.end_day = day_between(l, from, today - 1);
        e.start_min = clinic_minute(l);
        e.end_min = e.start_min + minutes;
        e.reason_code = reason_code;
        cr_synth_encounter_emit(l, &e, id.s);
        cr_synth_care_count(l, p->region);
    }
}

void
cr_synth_services_live(struct cr_synth_life *l)
{
    const struct cr_synth_person *p = &l->p;
    const struct cr_synth_world *w = l->w;
    struct cr_synth_rng *r = &l->rng;
    bool in_home = p->care_home != CR_SYNTH_NONE;

    if (p->has[CR_SYNTH_SMI])
        contacts(l, w->mental_health[p->region], 4.0,
                 cr_synth_rng_chance(r, 0.3) ? "HH" : "AMB", -1, "mental-health-contact",
                 cr_synth_ltc_code(l, CR_SYNTH_SMI), p->onset[CR_SYNTH_SMI], 45);
    if ((p->age >= 80 && cr_synth_rng_chance(r, 0.25)) || in_home
        || (p->has[CR_SYNTH_HEART_FAILURE] && cr_synth_rng_chance(r, 0.3)))
        contacts(l, w->community[p->region], 4.0, "HH", CR_C_HOME_VISIT,
                 "community-nursing", -1, 0, 30);
    if (in_home || (p->age >= 80 && p->has[CR_SYNTH_DEMENTIA])
        || (p->age >= 85 && cr_synth_rng_chance(r, 0.2)))
        contacts(l, w->council[p->borough], 1.0, "HH", -1, "social-care-assessment", -1,
                 0, 60);
}

/* life.c: helpers shared by the writers of a life: where care happens and
 * who gives it. Depends on life.h. */
#include "synth/life.h"

/* About 30% of care in London happens outside the home region. Local
 * services (mental health, community nursing, social care) are always at
 * home, so events whose place is drawn go away a little more often. */
#define AWAY_SHARE 0.35

void
cr_synth_care_count(struct cr_synth_life *l, int region)
{
    struct cr_synth_stats *st = l->g->stats;

    st->care_events++;
    l->had_care = true;
    if (region != l->p.region) {
        st->care_events_away++;
        l->had_away = true;
    }
}

int
cr_synth_care_region(struct cr_synth_life *l)
{
    int region = l->p.region;

    if (cr_synth_rng_chance(&l->rng, AWAY_SHARE)) {
        region = (region + 1 + (int)cr_synth_rng_below(&l->rng, CR_SYNTH_NODES - 1))
                 % CR_SYNTH_NODES;
    }
    cr_synth_care_count(l, region);
    return region;
}

uint32_t
cr_synth_pick_doctor(struct cr_synth_life *l, uint32_t org)
{
    const struct cr_synth_org *o = &l->w->orgs[org];
    uint32_t n = o->n_doctors ? o->n_doctors : o->n_prac;

    return o->first_prac + cr_synth_rng_below(&l->rng, n);
}

uint32_t
cr_synth_pick_staff(struct cr_synth_life *l, uint32_t org)
{
    const struct cr_synth_org *o = &l->w->orgs[org];

    if (o->n_prac > o->n_doctors)
        return o->first_prac + o->n_doctors
               + cr_synth_rng_below(&l->rng, o->n_prac - o->n_doctors);
    return o->first_prac + cr_synth_rng_below(&l->rng, o->n_prac);
}

uint32_t
cr_synth_pick_acute(struct cr_synth_life *l, int region)
{
    const struct cr_synth_world *w = l->w;

    return w->acute[region][cr_synth_rng_below(&l->rng, w->n_acute[region])];
}

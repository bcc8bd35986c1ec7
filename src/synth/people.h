/* people.h: who the synthetic people are (internal to src/synth).
 *
 * A person's demographics, household, registered practice, long-term
 * conditions and governance flags are drawn from their own random streams
 * (keyed by the run seed and their position), so a person does not change
 * when others are added. Households: about three in ten people join the
 * household of the person before them (same address and practice, mostly
 * the same surname), which gives the shared addresses and surnames the
 * access-audit rules look for. Depends on life.h. */
#ifndef CR_SYNTH_PEOPLE_H
#define CR_SYNTH_PEOPLE_H

#include "synth/life.h"

/* Work out, for every age 0..100, the probability of each long-term
 * condition so that the expected prevalence over London's age pyramid
 * equals the targets in codes.c. Fills g->cond_p. */
void
cr_synth_people_calibrate(struct cr_synth_gen *g);

/* Fill l->p for the person at 'index' of 'total' with NHS number 'nhs'.
 * Uses and advances l->rng (seeded by the caller). */
void
cr_synth_person_make(struct cr_synth_life *l, uint64_t index, uint64_t total,
                     uint64_t nhs);

#endif

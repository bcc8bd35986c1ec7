/* services.h: care close to home (internal to src/synth): mental health
 * trust contacts for people with severe mental illness, community
 * nursing visits for the frail, housebound and care-home residents, and
 * council adult social care assessments. These services are local, so
 * they are published on the home node by the home region's trusts and the
 * borough council. Depends on life.h. */
#ifndef CR_SYNTH_SERVICES_H
#define CR_SYNTH_SERVICES_H

#include "synth/life.h"

/* Write the person's mental health, community and social care contacts. */
void
cr_synth_services_live(struct cr_synth_life *l);

#endif

/* urgent.h: urgent and emergency care (internal to src/synth): NHS 111
 * calls, London Ambulance Service responses (see-and-treat or conveyance),
 * A&E attendances, emergency admissions with their diagnoses, discharge
 * medicines and discharge summaries (Composition + DocumentReference),
 * and outpatient follow-up. Each event happens in the home region or,
 * three times in ten, in another region; it is published on the node of
 * the region where it happened, by the trust there or, for the pan-London
 * ambulance service and NHS 111, by those services. Depends on life.h. */
#ifndef CR_SYNTH_URGENT_H
#define CR_SYNTH_URGENT_H

#include "synth/life.h"

/* Write the person's urgent and emergency care over the history. */
void
cr_synth_urgent_live(struct cr_synth_life *l);

#endif

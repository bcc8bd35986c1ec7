/* immunise.h: immunisations (internal to src/synth).
 *
 * Children under six follow the UK routine schedule for their birth
 * cohort (DOMAIN.md): born before 1 July 2024 the earlier schedule (MenB
 * at 8 and 16 weeks, PCV at 12 weeks, Hib/MenC at one year, MMR2 at 3
 * years 4 months); born on or after it the new one (MenB at 8 and 12
 * weeks, PCV at 16 weeks, a 6-in-1 booster and MMR2 at 18 months). Most
 * families keep to it, some miss or delay doses and a few decline all,
 * so at the start date some children are due and some overdue. Adults of
 * 65 and over, and younger adults with chronic conditions, have seasonal
 * flu vaccines. Published by the registered practice. Depends on life.h. */
#ifndef CR_SYNTH_IMMUNISE_H
#define CR_SYNTH_IMMUNISE_H

#include "synth/life.h"

/* Write the person's immunisations. */
void
cr_synth_immunise_live(struct cr_synth_life *l);

#endif

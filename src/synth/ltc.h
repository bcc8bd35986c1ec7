/* ltc.h: long-term conditions in general practice (internal to
 * src/synth): the problem-list Conditions, repeat medication with its
 * issues, annual reviews, blood pressure readings (including raised
 * readings in people with no diagnosis, for hypertension case finding)
 * and laboratory results, all published by the registered practice on the
 * home node. Depends on life.h. */
#ifndef CR_SYNTH_LTC_H
#define CR_SYNTH_LTC_H

#include "synth/life.h"

/* Write the long-term conditions of the person of 'l' and their care. */
void
cr_synth_ltc_live(struct cr_synth_life *l);

/* The code used for condition 'c' (enum cr_synth_cond) of this person
 * (the cancer site, the kind of dementia or severe mental illness). */
int
cr_synth_ltc_code(const struct cr_synth_life *l, int c);

#endif

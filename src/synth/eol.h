/* eol.h: end-of-life care plans, the Universal Care Plan (internal to
 * src/synth).
 *
 * A share of people with advanced illness (dementia, heart failure, COPD
 * in old age, recent lung cancer, the very old, care-home residents) has
 * a plan with ReSPECT content (DOMAIN.md): a CarePlan (category SNOMED
 * 736373009 end of life care plan) written by their GP, the acute trust or
 * the community trust on the home node, with supporting Observations for
 * the CPR decision (SNOMED 450475007 / 450476008 / 845151000000104, with
 * its date and review date, some reviews already overdue), preferred
 * places of care and of death and, where a lasting power of attorney for
 * health and welfare exists, an LPA flag; key contacts as RelatedPerson
 * (next of kin, LPA holder) with phone numbers; and just-in-case
 * medicines as a MedicationRequest. Depends on life.h. */
#ifndef CR_SYNTH_EOL_H
#define CR_SYNTH_EOL_H

#include "synth/life.h"

/* Write the person's end-of-life care plan, if they have one. */
void
cr_synth_eol_live(struct cr_synth_life *l);

#endif

/* cancer.h: cancer pathways (internal to src/synth).
 *
 * People diagnosed with cancer in the last two years, and people referred
 * urgently for suspected cancer that was then ruled out, have a pathway:
 * the GP's urgent referral (ServiceRequest with an e-RS UBRN, home node),
 * first diagnostic test, biopsy and reports at the diagnosing trust,
 * diagnosis (Condition), decision to treat (CarePlan) and first treatment
 * (Procedure), sometimes at another trust on another node. Delays follow
 * the cancer waiting time standards: about 78% told within 28 days, about
 * 96% treated within 31 days of the decision. Steps after the start date
 * are future Appointments, so some pathways are still open. Depends on
 * life.h. */
#ifndef CR_SYNTH_CANCER_H
#define CR_SYNTH_CANCER_H

#include "synth/life.h"

/* Write the person's cancer pathway, if they have one. */
void
cr_synth_cancer_live(struct cr_synth_life *l);

#endif

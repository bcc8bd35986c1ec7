/* governance.h: the cases that exercise information governance (internal
 * to src/synth), at small known rates recorded in the manifest:
 * - objection to sharing for direct care: an active Consent (scope
 *   patient-privacy, provision deny, purpose TREAT) from the GP practice;
 * - National Data Opt-out: an active Consent (scope research, category
 *   national-data-opt-out, policy the NHS opt-out page, provision deny for
 *   research HRESCH and planning HOPERAT) from the GP practice;
 * - restricted records: Patient.meta.security R (written by people.c);
 * - legally sensitive items recorded by one organisation only: IVF
 *   (Procedure, acute trust) and sexually transmitted infections
 *   (Condition, community sexual health service);
 * - staff who are also patients: a Practitioner of the person's own GP
 *   practice or home acute trust with the patient's name and address.
 * Depends on life.h. */
#ifndef CR_SYNTH_GOVERNANCE_H
#define CR_SYNTH_GOVERNANCE_H

#include "synth/life.h"

/* Write the person's governance cases and list them for the manifest. */
void
cr_synth_governance_live(struct cr_synth_life *l);

#endif

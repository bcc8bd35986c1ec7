/* meds.h: writing MedicationRequest resources (internal to src/synth).
 *
 * Repeat medication follows the GP system model: one authorisation
 * (intent "plan", course "continuous") and one MedicationRequest per
 * issue (intent "order", status "completed", basedOn the authorisation,
 * authoredOn the issue date), so counting issues in a period (the asthma
 * SABA rule) is a search on intent=order and authoredOn. One-off courses
 * are a single order with course "acute". Medicines are dm+d coded
 * (https://dmd.nhs.uk). Depends on life.h. */
#ifndef CR_SYNTH_MEDS_H
#define CR_SYNTH_MEDS_H

#include "synth/life.h"

/* Write the authorisation of repeat medicine 'med' (enum cr_synth_med)
 * started on 'day' by practitioner 'prac' of 'org' on 'node', for the
 * Condition 'reason_id' on the same node (NULL: none). Returns its id. */
struct cr_synth_rid
cr_synth_med_plan(struct cr_synth_life *l, int node, uint32_t org, uint32_t prac,
                  int med, int32_t day, const char *reason_id);

/* Write one issue of the authorisation 'plan_id' on 'day'. */
void
cr_synth_med_issue(struct cr_synth_life *l, int node, uint32_t org, uint32_t prac,
                   int med, int32_t day, const char *plan_id);

/* Write a one-off course ('is_active': still being taken, else completed)
 * and return its id. */
struct cr_synth_rid
cr_synth_med_acute(struct cr_synth_life *l, int node, uint32_t org, uint32_t prac,
                   int med, int32_t day, const char *reason_id, bool is_active);

#endif

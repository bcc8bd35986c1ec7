/* gp.h: everyday general practice (internal to src/synth):
 * consultations face to face and by telephone, the short illnesses they
 * record and the antibiotics or pain relief prescribed, appointments past
 * (attended or missed) and future, and allergies. Published by the
 * registered practice on the home node. Depends on life.h. */
#ifndef CR_SYNTH_GP_H
#define CR_SYNTH_GP_H

#include "synth/life.h"

/* Write the person's general practice contacts and allergies. */
void
cr_synth_gp_live(struct cr_synth_life *l);

/* Write an Appointment for the patient on 'node' with practitioner 'prac'
 * of 'org' at 'day'/'minute' lasting 'minutes'; 'status' is "booked",
 * "fulfilled", "noshow" or "cancelled". Shared with hospital clinics. */
void
cr_synth_appointment_emit(struct cr_synth_life *l, int node, uint32_t org,
                          uint32_t prac, const char *status, int32_t day,
                          int minute, int minutes, const char *description,
                          const char *based_on_referral);

#endif

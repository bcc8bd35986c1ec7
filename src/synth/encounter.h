/* encounter.h: writing Encounter resources (internal to src/synth).
 *
 * Every setting (general practice, A&E, wards, ambulance, NHS 111, mental
 * health, community nursing, social care) writes its encounters through
 * one function so they look alike: class from HL7 v3 ActCode, type as a
 * SNOMED CT coding where we have one plus the carerecord encounter-kind
 * coding, the service provider and the practitioner. Depends on life.h. */
#ifndef CR_SYNTH_ENCOUNTER_H
#define CR_SYNTH_ENCOUNTER_H

#include "synth/life.h"

struct cr_synth_enc {
    int node;
    uint32_t org;                /* service provider, publisher */
    uint32_t prac;               /* participant, or CR_SYNTH_NONE */
    const char *cls;             /* AMB, EMER, IMP, HH or VR */
    int type_code;               /* CR_C_* SNOMED type, or -1 */
    const char *kind;            /* encounter-kind code, e.g. "ae-attendance" */
    const char *status;          /* NULL: "finished" */
    int32_t start_day;
    int start_min;
    int32_t end_day;             /* < 0: no end */
    int end_min;
    int reason_code;             /* CR_C_* or -1 */
    const char *reason_ref;      /* Condition id on the same node, or NULL */
    const char *diagnosis_ref;   /* Condition id on the same node, or NULL */
    const char *discharge;       /* discharge-disposition code, or NULL */
    const char *admit_source;    /* admit-source code, or NULL */
};

/* A zeroed description with no practitioner, reason or ends. */
static inline struct cr_synth_enc
cr_synth_enc_make(int node, uint32_t org, const char *cls, int type_code,
                  const char *kind)
{
    struct cr_synth_enc e = { 0 };

    e.node = node;
    e.org = org;
    e.prac = CR_SYNTH_NONE;
    e.cls = cls;
    e.type_code = type_code;
    e.kind = kind;
    e.end_day = -1;
    e.reason_code = -1;
    return e;
}

/* Write the encounter 'e' with id 'id' (from new_id on e->node). */
void
cr_synth_encounter_emit(struct cr_synth_life *l, const struct cr_synth_enc *e,
                        const char *id);

#endif

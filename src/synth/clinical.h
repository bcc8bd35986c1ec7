/* clinical.h: writing coded clinical statements (internal to src/synth):
 * Condition, blood pressure and laboratory Observations with their
 * DiagnosticReport, and Procedure. Depends on life.h. */
#ifndef CR_SYNTH_CLINICAL_H
#define CR_SYNTH_CLINICAL_H

#include "synth/life.h"

struct cr_synth_cond_rec {
    int node;
    uint32_t org;                /* recording organisation (publisher) */
    uint32_t prac;               /* recorder */
    int code;                    /* CR_C_* */
    const char *category;        /* "problem-list-item" / "encounter-diagnosis" */
    const char *clinical;        /* "active", "resolved", "remission" */
    int32_t onset;
    int32_t recorded;
    int32_t abated;              /* < 0: none */
    const char *encounter_id;    /* on the same node, or NULL */
    const char *stage;           /* stage summary text, or NULL */
};

/* Write a Condition with id 'id'. */
void
cr_synth_condition_emit(struct cr_synth_life *l, const struct cr_synth_cond_rec *c,
                        const char *id);

/* Write a blood pressure panel (LOINC 85354-9 with systolic 8480-6 and
 * diastolic 8462-4 components, mm[Hg]) taken on 'day' at 'minute'. */
void
cr_synth_bp_emit(struct cr_synth_life *l, int node, uint32_t org, uint32_t prac,
                 int32_t day, int minute, int systolic, int diastolic,
                 const char *encounter_id);

enum { CR_LAB_HBA1C, CR_LAB_RENAL, CR_LAB_LIPID };

/* Write the results of laboratory panel 'panel' (CR_LAB_*) sampled on
 * 'day' and reported by laboratory 'lab', published by 'org' on 'node':
 * the Observations and a DiagnosticReport listing them. Values: HbA1c in
 * mmol/mol (v1); renal: eGFR (v1) and creatinine in umol/L (v2); lipids:
 * total cholesterol in tenths of mmol/L (v1). */
void
cr_synth_lab_emit(struct cr_synth_life *l, int node, uint32_t org, uint32_t lab,
                  int panel, int32_t day, const char *encounter_id, int v1, int v2);

struct cr_synth_proc_rec {
    int node;
    uint32_t org;
    uint32_t prac;
    int code;                    /* CR_C_* */
    int32_t day;
    int minute;
    const char *based_on_type;   /* "ServiceRequest/" or "CarePlan/", or NULL */
    const char *based_on_id;     /* same node */
    const char *based_on_ubrn;   /* referral on another node, or NULL */
    const char *encounter_id;    /* same node, or NULL */
    const char *reason_id;       /* Condition on the same node, or NULL */
};

/* Write a completed Procedure with id 'id'. */
void
cr_synth_procedure_emit(struct cr_synth_life *l, const struct cr_synth_proc_rec *p,
                        const char *id);

#endif

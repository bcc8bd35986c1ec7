/* clinical.c: Condition, Observation, DiagnosticReport and Procedure
 * resources. Depends on clinical.h and life.h. */
#include "synth/clinical.h"

void
cr_synth_condition_emit(struct cr_synth_life *l, const struct cr_synth_cond_rec *c,
                        const char *id)
{
    struct cr_synth_jw *w = res_begin(l, c->node, CR_SYNTH_CONDITION, id, c->org);

    kclinical_status(w, "condition-clinical", c->clinical);
    jw_key(w, "verificationStatus");
    cc_sys_v(w, CR_HL7 "condition-ver-status", "confirmed", "Confirmed");
    jw_key(w, "category");
    jw_arr(w);
    cc_sys_v(w, CR_HL7 "condition-category", c->category,
             c->category[0] == 'p' ? "Problem List Item" : "Encounter Diagnosis");
    jw_end(w);
    kcc(w, "code", c->code);
    kref_patient(l, c->node, "subject");
    if (c->encounter_id != NULL)
        kref(w, "encounter", "Encounter/", c->encounter_id);
    kdate(w, "onsetDateTime", c->onset);
    if (c->abated >= 0)
        kdate(w, "abatementDateTime", c->abated);
    kdate(w, "recordedDate", c->recorded);
    kref_prac(l, c->node, "recorder", c->prac);
    if (c->stage != NULL) {
        jw_key(w, "stage");
        jw_arr(w);
        jw_obj(w);
        jw_key(w, "summary");
        jw_obj(w);
        jw_kstr(w, "text", c->stage);
        jw_end(w);
        jw_end(w);
        jw_end(w);
    }
    res_end(l->g, w, c->node, CR_SYNTH_CONDITION);
}

static void
category(struct cr_synth_jw *w, const char *code, const char *display)
{
    jw_key(w, "category");
    jw_arr(w);
    cc_sys_v(w, CR_HL7 "observation-category", code, display);
    jw_end(w);
}

static void
bp_component(struct cr_synth_jw *w, int loinc, int sct, int value)
{
    jw_obj(w);
    jw_key(w, "code");
    jw_obj(w);
    jw_key(w, "coding");
    jw_arr(w);
    coding_v(w, loinc);
    coding_v(w, sct);
    jw_end(w);
    jw_end(w);
    kqty(w, "valueQuantity", value, 0, "mmHg", "mm[Hg]");
    jw_end(w);
}

void
cr_synth_bp_emit(struct cr_synth_life *l, int node, uint32_t org, uint32_t prac,
                 int32_t day, int minute, int systolic, int diastolic,
                 const char *encounter_id)
{
    struct cr_synth_rid id = new_id(l, node);
    struct cr_synth_jw *w = res_begin(l, node, CR_SYNTH_OBSERVATION, id.s, org);

    jw_kstr(w, "status", "final");
    category(w, "vital-signs", "Vital Signs");
    jw_key(w, "code");
    jw_obj(w);
    jw_key(w, "coding");
    jw_arr(w);
    coding_v(w, CR_C_BP);
    coding_v(w, CR_C_BP_SCT);
    jw_end(w);
    jw_end(w);
    kref_patient(l, node, "subject");
    if (encounter_id != NULL)
        kref(w, "encounter", "Encounter/", encounter_id);
    kdt(w, "effectiveDateTime", day, minute);
    kref_prac_arr(l, node, "performer", prac);
    jw_key(w, "component");
    jw_arr(w);
    bp_component(w, CR_C_SYSTOLIC, CR_C_SYSTOLIC_SCT, systolic);
    bp_component(w, CR_C_DIASTOLIC, CR_C_DIASTOLIC_SCT, diastolic);
    jw_end(w);
    res_end(l->g, w, node, CR_SYNTH_OBSERVATION);
}

static void
lab_obs(struct cr_synth_life *l, int node, uint32_t org, uint32_t lab,
        const char *id, int code, int32_t day, const char *encounter_id,
        int value, int places, const char *unit, const char *ucum, int high,
        int low)
{
    struct cr_synth_jw *w = res_begin(l, node, CR_SYNTH_OBSERVATION, id, org);

    jw_kstr(w, "status", "final");
    category(w, "laboratory", "Laboratory");
    kcc(w, "code", code);
    kref_patient(l, node, "subject");
    if (encounter_id != NULL)
        kref(w, "encounter", "Encounter/", encounter_id);
    kdt(w, "effectiveDateTime", day, 540);
    kdt(w, "issued", day + 1, 720);
    jw_key(w, "performer");
    jw_arr(w);
    ref_org_v(l, node, lab);
    jw_end(w);
    kqty(w, "valueQuantity", value, places, unit, ucum);
    if (value > high || value < low) {
        jw_key(w, "interpretation");
        jw_arr(w);
        cc_sys_v(w, CR_HL7 "v3-ObservationInterpretation", value > high ? "H" : "L",
                 value > high ? "High" : "Low");
        jw_end(w);
    }
    res_end(l->g, w, node, CR_SYNTH_OBSERVATION);
}

void
cr_synth_lab_emit(struct cr_synth_life *l, int node, uint32_t org, uint32_t lab,
                  int panel, int32_t day, const char *encounter_id, int v1, int v2)
{
    struct cr_synth_rid r1 = new_id(l, node), r2 = { "" }, dr = new_id(l, node);
    struct cr_synth_jw *w;
    int code;

    switch (panel) {
    case CR_LAB_HBA1C:
        code = CR_C_HBA1C;
        lab_obs(l, node, org, lab, r1.s, CR_C_HBA1C, day, encounter_id, v1, 0,
                "mmol/mol", "mmol/mol", 47, 20);
        break;
    case CR_LAB_RENAL:
        code = CR_C_RENAL_PANEL;
        r2 = new_id(l, node);
        lab_obs(l, node, org, lab, r1.s, CR_C_EGFR, day, encounter_id, v1, 0,
                "mL/min/1.73m2", "mL/min/{1.73_m2}", 1000, 60);
        lab_obs(l, node, org, lab, r2.s, CR_C_CREATININE, day, encounter_id, v2, 0,
                "umol/L", "umol/L", 110, 45);
        break;
    default:
        code = CR_C_LIPID_PANEL;
        lab_obs(l, node, org, lab, r1.s, CR_C_CHOLESTEROL, day, encounter_id, v1, 1,
                "mmol/L", "mmol/L", 50, 0);
        break;
    }
    w = res_begin(l, node, CR_SYNTH_DIAGREPORT, dr.s, org);
    jw_kstr(w, "status", "final");
    jw_key(w, "category");
    jw_arr(w);
    cc_sys_v(w, CR_HL7 "v2-0074", "CH", "Chemistry");
    jw_end(w);
    kcc(w, "code", code);
    kref_patient(l, node, "subject");
    if (encounter_id != NULL)
        kref(w, "encounter", "Encounter/", encounter_id);
    kdt(w, "effectiveDateTime", day, 540);
    kdt(w, "issued", day + 1, 720);
    jw_key(w, "performer");
    jw_arr(w);
    ref_org_v(l, node, lab);
    jw_end(w);
    jw_key(w, "result");
    jw_arr(w);
    ref_v(w, "Observation/", r1.s);
    if (r2.s[0])
        ref_v(w, "Observation/", r2.s);
    jw_end(w);
    res_end(l->g, w, node, CR_SYNTH_DIAGREPORT);
}

void
cr_synth_procedure_emit(struct cr_synth_life *l, const struct cr_synth_proc_rec *p,
                        const char *id)
{
    struct cr_synth_jw *w = res_begin(l, p->node, CR_SYNTH_PROCEDURE, id, p->org);

    if (p->based_on_id != NULL || p->based_on_ubrn != NULL) {
        jw_key(w, "basedOn");
        jw_arr(w);
        if (p->based_on_id != NULL) {
            ref_v(w, p->based_on_type, p->based_on_id);
        } else {
            jw_obj(w);
            jw_kstr(w, "type", "ServiceRequest");
            jw_key(w, "identifier");
            jw_obj(w);
            jw_kstr(w, "system", CR_SYS_UBRN);
            jw_kstr(w, "value", p->based_on_ubrn);
            jw_end(w);
            jw_end(w);
        }
        jw_end(w);
    }
    jw_kstr(w, "status", "completed");
    kcc(w, "code", p->code);
    kref_patient(l, p->node, "subject");
    if (p->encounter_id != NULL)
        kref(w, "encounter", "Encounter/", p->encounter_id);
    kdt(w, "performedDateTime", p->day, p->minute);
    kref_prac(l, p->node, "recorder", p->prac);
    jw_key(w, "performer");
    jw_arr(w);
    jw_obj(w);
    jw_key(w, "actor");
    ref_prac_v(l, p->node, p->prac);
    jw_key(w, "onBehalfOf");
    ref_org_v(l, p->node, p->org);
    jw_end(w);
    jw_end(w);
    if (p->reason_id != NULL) {
        jw_key(w, "reasonReference");
        jw_arr(w);
        ref_v(w, "Condition/", p->reason_id);
        jw_end(w);
    }
    res_end(l->g, w, p->node, CR_SYNTH_PROCEDURE);
}

/* encounter.c: Encounter resources. Depends on encounter.h and life.h. */
#include "synth/encounter.h"

#include <string.h>

static const char *
class_display(const char *cls)
{
    if (strcmp(cls, "AMB") == 0)
        return "ambulatory";
    if (strcmp(cls, "EMER") == 0)
        return "emergency";
    if (strcmp(cls, "IMP") == 0)
        return "inpatient encounter";
    if (strcmp(cls, "HH") == 0)
        return "home health";
    return "virtual";
}

void
cr_synth_encounter_emit(struct cr_synth_life *l, const struct cr_synth_enc *e,
                        const char *id)
{
    struct cr_synth_jw *w = res_begin(l, e->node, CR_SYNTH_ENCOUNTER, id, e->org);

    jw_kstr(w, "status", e->status ? e->status : "finished");
    jw_key(w, "class");
    coding_sys_v(w, CR_HL7 "v3-ActCode", e->cls, class_display(e->cls));
    jw_key(w, "type");
    jw_arr(w);
    jw_obj(w);
    jw_key(w, "coding");
    jw_arr(w);
    if (e->type_code >= 0)
        coding_v(w, e->type_code);
    coding_sys_v(w, CR_LOCAL "encounter-kind", e->kind, NULL);
    jw_end(w);
    jw_end(w);
    jw_end(w);
    kref_patient(l, e->node, "subject");
    if (e->prac != CR_SYNTH_NONE) {
        jw_key(w, "participant");
        jw_arr(w);
        jw_obj(w);
        jw_key(w, "individual");
        ref_prac_v(l, e->node, e->prac);
        jw_end(w);
        jw_end(w);
    }
    kperiod(w, "period", e->start_day, e->start_min, e->end_day, e->end_min);
    if (e->reason_code >= 0)
        kcc_arr(w, "reasonCode", e->reason_code);
    if (e->reason_ref != NULL) {
        jw_key(w, "reasonReference");
        jw_arr(w);
        ref_v(w, "Condition/", e->reason_ref);
        jw_end(w);
    }
    if (e->diagnosis_ref != NULL) {
        jw_key(w, "diagnosis");
        jw_arr(w);
        jw_obj(w);
        kref(w, "condition", "Condition/", e->diagnosis_ref);
        jw_kint(w, "rank", 1);
        jw_end(w);
        jw_end(w);
    }
    if (e->discharge != NULL || e->admit_source != NULL) {
        jw_key(w, "hospitalization");
        jw_obj(w);
        if (e->admit_source != NULL)
            kcc_sys(w, "admitSource", CR_HL7 "admit-source", e->admit_source, NULL);
        if (e->discharge != NULL)
            kcc_sys(w, "dischargeDisposition", CR_HL7 "discharge-disposition",
                    e->discharge, NULL);
        jw_end(w);
    }
    kref_org(l, e->node, "serviceProvider", e->org);
    res_end(l->g, w, e->node, CR_SYNTH_ENCOUNTER);
}

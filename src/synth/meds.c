/* meds.c: MedicationRequest resources. Depends on meds.h and life.h. */
#include "synth/meds.h"

enum { PLAN, ISSUE, ACUTE };

static void
med_write(struct cr_synth_life *l, int node, uint32_t org, uint32_t prac,
          int med, int32_t day, const char *link_id, int kind, bool is_active,
          const char *id)
{
    const struct cr_synth_med_def *m = &cr_synth_meds[med];
    struct cr_synth_jw *w = res_begin(l, node, CR_SYNTH_MEDREQ, id, org);

    jw_kstr(w, "status", kind == PLAN || is_active ? "active" : "completed");
    jw_kstr(w, "intent", kind == PLAN ? "plan" : "order");
    jw_key(w, "category");
    jw_arr(w);
    cc_sys_v(w, CR_HL7 "medicationrequest-category",
             l->w->orgs[org].kind == CR_SYNTH_ORG_GP ? "community" : "outpatient",
             l->w->orgs[org].kind == CR_SYNTH_ORG_GP ? "Community" : "Outpatient");
    jw_end(w);
    kcc(w, "medicationCodeableConcept", m->code);
    kref_patient(l, node, "subject");
    kdate(w, "authoredOn", day);
    kref_prac(l, node, "requester", prac);
    if (kind != ISSUE && link_id != NULL) {
        jw_key(w, "reasonReference");
        jw_arr(w);
        ref_v(w, "Condition/", link_id);
        jw_end(w);
    }
    if (kind == ISSUE) {
        jw_key(w, "basedOn");
        jw_arr(w);
        ref_v(w, "MedicationRequest/", link_id);
        jw_end(w);
    }
    kcc_sys(w, "courseOfTherapyType", CR_HL7 "medicationrequest-course-of-therapy",
            kind == ACUTE ? "acute" : "continuous",
            kind == ACUTE ? "Short course (acute) therapy" : "Continuous long term therapy");
    jw_key(w, "dosageInstruction");
    jw_arr(w);
    jw_obj(w);
    jw_kstr(w, "text", m->dosage);
    jw_end(w);
    jw_end(w);
    jw_key(w, "dispenseRequest");
    jw_obj(w);
    if (kind == PLAN)
        jw_kint(w, "numberOfRepeatsAllowed", 11);
    jw_key(w, "quantity");
    jw_obj(w);
    jw_kint(w, "value", m->quantity);
    jw_kstr(w, "unit", m->unit);
    jw_end(w);
    kqty(w, "expectedSupplyDuration", m->days, 0, "days", "d");
    jw_end(w);
    res_end(l->g, w, node, CR_SYNTH_MEDREQ);
}

struct cr_synth_rid
cr_synth_med_plan(struct cr_synth_life *l, int node, uint32_t org, uint32_t prac,
                  int med, int32_t day, const char *reason_id)
{
    struct cr_synth_rid id = new_id(l, node);

    med_write(l, node, org, prac, med, day, reason_id, PLAN, true, id.s);
    return id;
}

void
cr_synth_med_issue(struct cr_synth_life *l, int node, uint32_t org, uint32_t prac,
                   int med, int32_t day, const char *plan_id)
{
    struct cr_synth_rid id = new_id(l, node);

    med_write(l, node, org, prac, med, day, plan_id, ISSUE, false, id.s);
}

struct cr_synth_rid
cr_synth_med_acute(struct cr_synth_life *l, int node, uint32_t org, uint32_t prac,
                   int med, int32_t day, const char *reason_id, bool is_active)
{
    struct cr_synth_rid id = new_id(l, node);

    med_write(l, node, org, prac, med, day, reason_id, ACUTE, is_active, id.s);
    return id;
}

/* governance.c: consents, sensitive items, restricted records and staff
 * who are patients. Depends on governance.h, clinical.h and life.h. */
#include "synth/governance.h"

#include "synth/clinical.h"

#define RATE_IVF 0.006            /* women aged 25-44 */
#define RATE_STI 0.012            /* people aged 16-35 */
#define RATE_STAFF 0.006          /* adults aged 22-65 */
#define NDOO_LISTED 50            /* manifest lists only the first few */

static void
list_add(struct cr_buf *b, const char *json)
{
    if (b->len)
        cr_buf_addc(b, ',');
    cr_buf_adds(b, json);
}

static void
consent(struct cr_synth_life *l, bool is_ndoo, int32_t day)
{
    const struct cr_synth_person *p = &l->p;
    int node = p->region;
    struct cr_synth_rid id = new_id(l, node);
    struct cr_synth_jw *w = res_begin(l, node, CR_SYNTH_CONSENT, id.s, p->gp);

    jw_kstr(w, "status", "active");
    kcc_sys(w, "scope", CR_HL7 "consentscope", is_ndoo ? "research" : "patient-privacy",
            is_ndoo ? "Research" : "Privacy Consent");
    jw_key(w, "category");
    jw_arr(w);
    cc_sys_v(w, CR_SYS_LOINC, "59284-0", "Patient Consent");
    cc_sys_v(w, CR_LOCAL "consent-kind", is_ndoo ? "national-data-opt-out" : "direct-care-objection",
             is_ndoo ? "National Data Opt-out" : "Objection to sharing for direct care");
    jw_end(w);
    kref_patient(l, node, "patient");
    kdt(w, "dateTime", day, clinic_minute(l));
    jw_key(w, "organization");
    jw_arr(w);
    ref_org_v(l, node, p->gp);
    jw_end(w);
    if (is_ndoo) {
        jw_key(w, "policy");
        jw_arr(w);
        jw_obj(w);
        jw_kstr(w, "uri", "https://digital.nhs.uk/services/national-data-opt-out");
        jw_end(w);
        jw_end(w);
    } else {
        kcc_sys(w, "policyRule", CR_HL7 "v3-ActCode", "OPTOUT", "opt-out");
    }
    jw_key(w, "provision");
    jw_obj(w);
    jw_kstr(w, "type", "deny");
    jw_key(w, "purpose");
    jw_arr(w);
    if (is_ndoo) {
        coding_sys_v(w, "http://terminology.hl7.org/CodeSystem/v3-ActReason", "HRESCH",
                     "healthcare research");
        coding_sys_v(w, "http://terminology.hl7.org/CodeSystem/v3-ActReason", "HOPERAT",
                     "healthcare operations");
    } else {
        coding_sys_v(w, "http://terminology.hl7.org/CodeSystem/v3-ActReason", "TREAT",
                     "treatment");
    }
    jw_end(w);
    jw_end(w);
    res_end(l->g, w, node, CR_SYNTH_CONSENT);
}

static void
sensitive(struct cr_synth_life *l, const char *kind, uint32_t org, const char *type,
          const char *id)
{
    char item[256];

    snprintf(item, sizeof item,
             "{\"nhsNumber\":\"%s\",\"kind\":\"%s\",\"organisation\":\"%s\",\"node\":\"%s\","
             "\"resource\":\"%s/%s\"}",
             l->p.nhs, kind, l->w->orgs[org].ods, cr_synth_node_id(l->p.region), type, id);
    list_add(&l->g->list_sensitive, item);
}

static void
staff(struct cr_synth_life *l)
{
    const struct cr_synth_person *p = &l->p;
    const struct cr_synth_world *w = l->w;
    struct cr_synth_gen *g = l->g;
    bool at_gp = cr_synth_rng_chance(&l->rng, 0.4);
    uint32_t org = at_gp ? p->gp : cr_synth_pick_acute(l, p->region);
    bool is_doctor = cr_synth_rng_chance(&l->rng, 0.3);
    int node = p->region;
    char id[40], sds[16], item[256];
    struct cr_synth_jw *jw;

    snprintf(id, sizeof id, "%s-sp%llu", w->orgs[org].ods, (unsigned long long)p->index);
    snprintf(sds, sizeof sds, "6%011llu", (unsigned long long)p->index);
    jw = res_open(g, &l->jw, node, CR_SYNTH_PRACTITIONER, id, org, false);
    jw_key(jw, "identifier");
    jw_arr(jw);
    jw_obj(jw);
    jw_kstr(jw, "system", CR_SYS_SDS_USER);
    jw_kstr(jw, "value", sds);
    jw_end(jw);
    jw_end(jw);
    jw_kbool(jw, "active", true);
    jw_key(jw, "name");
    jw_arr(jw);
    jw_obj(jw);
    jw_kstr(jw, "use", "official");
    jw_kstr(jw, "family", p->family);
    jw_key(jw, "given");
    jw_arr(jw);
    jw_str(jw, p->given);
    jw_end(jw);
    if (is_doctor) {
        jw_key(jw, "prefix");
        jw_arr(jw);
        jw_str(jw, "Dr");
        jw_end(jw);
    }
    jw_end(jw);
    jw_end(jw);
    jw_key(jw, "address");
    jw_arr(jw);
    jw_obj(jw);
    jw_kstr(jw, "use", "home");
    jw_key(jw, "line");
    jw_arr(jw);
    jw_str(jw, p->line1);
    if (p->line2[0])
        jw_str(jw, p->line2);
    jw_end(jw);
    jw_kstr(jw, "city", "London");
    jw_kstr(jw, "postalCode", p->postcode);
    jw_kstr(jw, "country", "GB");
    jw_end(jw);
    jw_end(jw);
    jw_kstr(jw, "gender", p->is_female ? "female" : "male");
    res_end(g, jw, node, CR_SYNTH_PRACTITIONER);

    g->stats->staff_patients++;
    snprintf(item, sizeof item,
             "{\"nhsNumber\":\"%s\",\"practitioner\":\"Practitioner/%s\",\"sdsUserId\":\"%s\","
             "\"organisation\":\"%s\",\"node\":\"%s\",\"ownPractice\":%s}",
             p->nhs, id, sds, w->orgs[org].ods, cr_synth_node_id(node),
             at_gp ? "true" : "false");
    list_add(&g->list_staff, item);
}

void
cr_synth_governance_live(struct cr_synth_life *l)
{
    const struct cr_synth_person *p = &l->p;
    struct cr_synth_gen *g = l->g;
    struct cr_synth_rng *r = &l->rng;
    int32_t today = g->today, from = history_start(l);
    char item[64];

    if (p->objects) {
        consent(l, false, day_between(l, from, today - 1));
        g->stats->objections++;
        snprintf(item, sizeof item, "\"%s\"", p->nhs);
        list_add(&g->list_objection, item);
    }
    if (p->ndoo) {
        int32_t since = today - 1 - (int32_t)cr_synth_rng_below(r, 6 * 365);
        consent(l, true, since > p->birth ? since : p->birth);
        g->stats->ndoo++;
        if (g->ndoo_listed < NDOO_LISTED) {
            snprintf(item, sizeof item, "\"%s\"", p->nhs);
            list_add(&g->list_ndoo, item);
            g->ndoo_listed++;
        }
    }
    if (p->is_restricted) {
        g->stats->restricted++;
        snprintf(item, sizeof item, "\"%s\"", p->nhs);
        list_add(&g->list_restricted, item);
    }
    if (p->is_female && p->age >= 25 && p->age <= 44 && cr_synth_rng_chance(r, RATE_IVF)) {
        uint32_t trust = l->w->acute[p->region][0];
        struct cr_synth_rid id = new_id(l, p->region);
        struct cr_synth_proc_rec pr = { 0 };

        pr.node = p->region;
        pr.org = trust;
        pr.prac = cr_synth_pick_doctor(l, trust);
        pr.code = CR_C_IVF;
        pr.day = day_between(l, from, today - 1);
        pr.minute = clinic_minute(l);
        cr_synth_procedure_emit(l, &pr, id.s);
        g->stats->sensitive_ivf++;
        sensitive(l, "ivf", trust, "Procedure", id.s);
    }
    if (p->age >= 16 && p->age <= 35 && cr_synth_rng_chance(r, RATE_STI)) {
        uint32_t clinic = l->w->community[p->region];
        struct cr_synth_rid id = new_id(l, p->region);
        struct cr_synth_cond_rec c = { 0 };

        c.node = p->region;
        c.org = clinic;
        c.prac = cr_synth_pick_doctor(l, clinic);
        c.code = cr_synth_rng_chance(r, 0.7) ? CR_C_CHLAMYDIA : CR_C_GONORRHOEA;
        c.category = "encounter-diagnosis";
        c.clinical = "resolved";
        c.onset = day_between(l, from, today - 30);
        c.recorded = c.onset;
        c.abated = c.onset + 14;
        cr_synth_condition_emit(l, &c, id.s);
        g->stats->sensitive_sti++;
        sensitive(l, "sti", clinic, "Condition", id.s);
    }
    if (p->age >= 22 && p->age <= 65 && cr_synth_rng_chance(r, RATE_STAFF))
        staff(l);
}

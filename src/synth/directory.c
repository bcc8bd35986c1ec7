/* directory.c: Organization and Practitioner resources. Depends on
 * directory.h and life.h. */
#include "synth/directory.h"

static void
organisation(struct cr_synth_gen *g, struct cr_synth_jw *w, int node, uint32_t i)
{
    const struct cr_synth_org *o = &g->world->orgs[i];

    res_open(g, w, node, CR_SYNTH_ORGANIZATION, o->ods, i, false);
    jw_key(w, "identifier");
    jw_arr(w);
    jw_obj(w);
    jw_kstr(w, "system", CR_SYS_ODS);
    jw_kstr(w, "value", o->ods);
    jw_end(w);
    jw_end(w);
    jw_kbool(w, "active", true);
    jw_key(w, "type");
    jw_arr(w);
    cc_sys_v(w, CR_LOCAL "organisation-kind", cr_synth_org_kind_code(o->kind),
             cr_synth_org_kind_display(o->kind));
    if (o->kind == CR_SYNTH_ORG_COUNCIL)
        cc_sys_v(w, CR_HL7 "organization-type", "govt", "Government");
    else
        cc_sys_v(w, CR_HL7 "organization-type", "prov", "Healthcare Provider");
    jw_end(w);
    jw_kstr(w, "name", o->name);
    jw_key(w, "telecom");
    jw_arr(w);
    jw_obj(w);
    jw_kstr(w, "system", "phone");
    jw_kstr(w, "value", o->phone);
    jw_kstr(w, "use", "work");
    jw_end(w);
    jw_end(w);
    jw_key(w, "address");
    jw_arr(w);
    jw_obj(w);
    jw_kstr(w, "use", "work");
    jw_key(w, "line");
    jw_arr(w);
    jw_str(w, o->line);
    jw_end(w);
    jw_kstr(w, "city", "London");
    jw_kstr(w, "district", cr_synth_boroughs[o->borough].name);
    jw_kstr(w, "postalCode", o->postcode);
    jw_kstr(w, "country", "GB");
    jw_end(w);
    jw_end(w);
    res_end(g, w, node, CR_SYNTH_ORGANIZATION);
}

static void
practitioner(struct cr_synth_gen *g, struct cr_synth_jw *w, int node, uint32_t k)
{
    const struct cr_synth_prac *p = &g->world->pracs[k];

    res_open(g, w, node, CR_SYNTH_PRACTITIONER, p->id, p->org, false);
    jw_key(w, "identifier");
    jw_arr(w);
    jw_obj(w);
    jw_kstr(w, "system", CR_SYS_SDS_USER);
    jw_kstr(w, "value", p->sds);
    jw_end(w);
    jw_end(w);
    jw_kbool(w, "active", true);
    jw_key(w, "name");
    jw_arr(w);
    jw_obj(w);
    jw_kstr(w, "use", "official");
    jw_kstr(w, "family", p->family);
    jw_key(w, "given");
    jw_arr(w);
    jw_str(w, p->given);
    jw_end(w);
    if (p->is_doctor) {
        jw_key(w, "prefix");
        jw_arr(w);
        jw_str(w, "Dr");
        jw_end(w);
    }
    jw_end(w);
    jw_end(w);
    jw_kstr(w, "gender", p->is_female ? "female" : "male");
    res_end(g, w, node, CR_SYNTH_PRACTITIONER);
}

void
cr_synth_directory_emit(struct cr_synth_gen *g)
{
    const struct cr_synth_world *world = g->world;
    struct cr_synth_jw w;
    uint32_t i;
    int node;

    for (node = 0; node < CR_SYNTH_NODES; node++) {
        const uint8_t *org_used = g->org_used + (size_t)node * world->n_orgs;
        const uint8_t *prac_used = g->prac_used + (size_t)node * world->n_pracs;

        for (i = 0; i < world->n_orgs; i++) {
            const struct cr_synth_org *o = &world->orgs[i];
            if (o->region == node || o->region < 0 || org_used[i])
                organisation(g, &w, node, i);
        }
        for (i = 0; i < world->n_pracs; i++)
            if (world->orgs[world->pracs[i].org].region == node || prac_used[i])
                practitioner(g, &w, node, i);
    }
}

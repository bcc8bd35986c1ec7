/* manifest.c: the run's manifest.json. Depends on manifest.h, life.h and
 * emit.h. */
#include "synth/manifest.h"

#include <stdio.h>
#include <stdlib.h>

#ifndef CR_VERSION
#define CR_VERSION "0"
#endif

static void
kratio(struct cr_synth_jw *w, const char *key, uint64_t num, uint64_t den)
{
    jw_key(w, key);
    jw_dec(w, den ? (int64_t)((num * 10000 + den / 2) / den) : 0, 4);
}

/* "key":[<members>] from a list buffer of comma-separated JSON. */
static void
klist(struct cr_synth_jw *w, const char *key, const struct cr_buf *list)
{
    jw_key(w, key);
    jw_arr(w);
    if (list->len) {
        jw_sep(w);
        cr_buf_add(w->b, list->ptr, list->len);
    }
    jw_end(w);
}

/* Re-indent compact JSON two spaces per level, one member per line. */
static void
pretty(const struct cr_buf *in, struct cr_buf *out)
{
    int depth = 0, k;
    bool in_str = false, esc = false;
    size_t i;

    for (i = 0; i < in->len; i++) {
        char c = in->ptr[i];

        if (in_str) {
            cr_buf_addc(out, c);
            if (esc)
                esc = false;
            else if (c == '\\')
                esc = true;
            else if (c == '"')
                in_str = false;
            continue;
        }
        switch (c) {
        case '"':
            in_str = true;
            cr_buf_addc(out, c);
            break;
        case '{':
        case '[':
            cr_buf_addc(out, c);
            if (i + 1 < in->len && (in->ptr[i + 1] == '}' || in->ptr[i + 1] == ']')) {
                cr_buf_addc(out, in->ptr[++i]);
                break;
            }
            depth++;
            cr_buf_addc(out, '\n');
            for (k = 0; k < depth; k++)
                cr_buf_add(out, "  ", 2);
            break;
        case '}':
        case ']':
            depth--;
            cr_buf_addc(out, '\n');
            for (k = 0; k < depth; k++)
                cr_buf_add(out, "  ", 2);
            cr_buf_addc(out, c);
            break;
        case ',':
            cr_buf_addc(out, c);
            cr_buf_addc(out, '\n');
            for (k = 0; k < depth; k++)
                cr_buf_add(out, "  ", 2);
            break;
        case ':':
            cr_buf_add(out, ": ", 2);
            break;
        default:
            cr_buf_addc(out, c);
        }
    }
    cr_buf_addc(out, '\n');
}

static void
rates(struct cr_synth_jw *w)
{
    int c;

    jw_key(w, "configured");
    jw_obj(w);
    jw_key(w, "prevalence");
    jw_obj(w);
    for (c = 0; c < CR_SYNTH_CONDS; c++) {
        jw_key(w, cr_synth_cond_defs[c].key);
        jw_obj(w);
        jw_key(w, "target");
        jw_dec(w, (int64_t)(cr_synth_cond_defs[c].target * 1000 + 0.5), 3);
        jw_kstr(w, "of", cr_synth_cond_defs[c].is_adults_only ? "adults" : "everyone");
        jw_kstr(w, "code", cr_synth_codes[cr_synth_cond_defs[c].code].code);
        jw_end(w);
    }
    jw_end(w);
    jw_key(w, "careEventsAwayFromHomeRegion");
    jw_dec(w, 300, 3);
    jw_key(w, "awayShareOfEventsWithADrawnPlace");
    jw_dec(w, 350, 3);
    jw_key(w, "objectionToSharing");
    jw_dec(w, 3, 3);
    jw_key(w, "nationalDataOptOut");
    jw_dec(w, 50, 3);
    jw_key(w, "restrictedRecord");
    jw_dec(w, 2, 3);
    jw_kstr(w, "ivf", "0.006 of women aged 25-44");
    jw_kstr(w, "sti", "0.012 of people aged 16-35");
    jw_kstr(w, "staffWhoArePatients", "0.006 of adults aged 22-65");
    jw_kstr(w, "households", "0.3 of people join the household before them");
    jw_end(w);
}

static void
observed(struct cr_synth_jw *w, const struct cr_synth_stats *s)
{
    int c;

    jw_key(w, "observed");
    jw_obj(w);
    jw_key(w, "prevalence");
    jw_obj(w);
    for (c = 0; c < CR_SYNTH_CONDS; c++)
        kratio(w, cr_synth_cond_defs[c].key, s->cond[c],
               cr_synth_cond_defs[c].is_adults_only ? s->adults : s->patients);
    jw_end(w);
    kratio(w, "careEventsAwayFromHomeRegion", s->care_events_away, s->care_events);
    kratio(w, "peopleWithCareAwayOfPeopleWithCare", s->people_away, s->people_with_care);
    kratio(w, "peopleWithCareAwayOfEveryone", s->people_away, s->patients);
    jw_kint(w, "careEvents", (int64_t)s->care_events);
    jw_kint(w, "adults", (int64_t)s->adults);
    jw_kint(w, "childrenUnder6", (int64_t)s->children_under6);
    jw_kint(w, "immunisationDosesMissed", (int64_t)s->immunisations_missed);
    jw_kint(w, "asthmaSabaSixPlusNoIcs", (int64_t)s->asthma_saba_no_ics_6plus);
    jw_kint(w, "raisedBloodPressureUndiagnosed", (int64_t)s->bp_raised_undiagnosed);
    jw_kint(w, "careHomeResidents", (int64_t)s->care_home_residents);
    jw_kint(w, "endOfLifePlans", (int64_t)s->eol_plans);
    jw_kint(w, "cprReviewOverdue", (int64_t)s->cpr_review_overdue);
    jw_kint(w, "lastingPowerOfAttorney", (int64_t)s->lpa_people);
    jw_kint(w, "cancerPathways", (int64_t)s->cancer_pathways);
    jw_kint(w, "urgentSuspectedCancerReferrals", (int64_t)s->usc_referrals);
    jw_kint(w, "sharedAddress", (int64_t)s->shared_address);
    jw_kint(w, "objections", (int64_t)s->objections);
    jw_kint(w, "nationalDataOptOut", (int64_t)s->ndoo);
    jw_kint(w, "restricted", (int64_t)s->restricted);
    jw_kint(w, "sensitiveIvf", (int64_t)s->sensitive_ivf);
    jw_kint(w, "sensitiveSti", (int64_t)s->sensitive_sti);
    jw_kint(w, "staffWhoArePatients", (int64_t)s->staff_patients);
    jw_end(w);
}

cr_rc
cr_synth_manifest_write(const struct cr_synth_gen *g,
                        const struct cr_synth_params *p, struct cr_err *err)
{
    const struct cr_synth_stats *s = g->stats;
    const struct cr_synth_world *world = g->world;
    struct cr_buf b = cr_buf_make(0), out = cr_buf_make(0);
    struct cr_synth_jw jw, *w = &jw;
    char start[11], seed[24], path[4096];
    int node, type;
    uint32_t i;
    cr_rc rc;

    cr_synth_date_fmt(p->start_day, start);
    jw_start(w, &b);
    jw_obj(w);
    jw_kstr(w, "generator", "carerecord synth");
    jw_kstr(w, "version", CR_VERSION);
    jw_kstr(w, "fhirVersion", "4.0.1");
    jw_key(w, "parameters");
    jw_obj(w);
    jw_kint(w, "patients", (int64_t)p->patients);
    snprintf(seed, sizeof seed, "%llu", (unsigned long long)p->seed);
    jw_kraw(w, "seed", seed);
    jw_kstr(w, "start", start);
    jw_end(w);
    jw_kint(w, "patients", (int64_t)s->patients);
    jw_kint(w, "resources", (int64_t)s->resources);

    jw_key(w, "publisher");
    jw_obj(w);
    jw_kstr(w, "tagSystem", CR_SYS_PUBLISHER);
    jw_kstr(w, "rule",
            "Every resource carries meta.tag {system: tagSystem, code: ODS code of the "
            "organisation that published it}. Files of a node hold what organisations of "
            "that region published; the pan-London ambulance service (Z0A) and NHS 111 "
            "(Z0B) publish to the node of the region where the event happened. "
            "Organization and Practitioner resources are also copied to other nodes that "
            "refer to them.");
    jw_end(w);

    jw_key(w, "nodes");
    jw_obj(w);
    for (node = 0; node < CR_SYNTH_NODES; node++) {
        uint64_t total = 0;
        for (type = 0; type < CR_SYNTH_TYPES; type++)
            total += s->count[node][type];
        jw_key(w, cr_synth_node_id(node));
        jw_obj(w);
        jw_kstr(w, "name", cr_synth_node_name(node));
        jw_kint(w, "resources", (int64_t)total);
        jw_key(w, "counts");
        jw_obj(w);
        for (type = 0; type < CR_SYNTH_TYPES; type++)
            if (s->count[node][type])
                jw_kint(w, cr_synth_type_name(type), (int64_t)s->count[node][type]);
        jw_end(w);
        jw_end(w);
    }
    jw_end(w);
    jw_key(w, "types");
    jw_obj(w);
    for (type = 0; type < CR_SYNTH_TYPES; type++) {
        uint64_t total = 0;
        for (node = 0; node < CR_SYNTH_NODES; node++)
            total += s->count[node][type];
        if (total)
            jw_kint(w, cr_synth_type_name(type), (int64_t)total);
    }
    jw_end(w);

    jw_key(w, "rates");
    jw_obj(w);
    rates(w);
    observed(w, s);
    jw_end(w);

    jw_key(w, "governance");
    jw_obj(w);
    klist(w, "objections", &g->list_objection);
    jw_key(w, "nationalDataOptOut");
    jw_obj(w);
    jw_kint(w, "count", (int64_t)s->ndoo);
    klist(w, "examples", &g->list_ndoo);
    jw_end(w);
    klist(w, "restricted", &g->list_restricted);
    klist(w, "sensitive", &g->list_sensitive);
    jw_key(w, "sensitiveCodes");
    jw_arr(w);
    coding_v(w, CR_C_IVF);
    coding_v(w, CR_C_CHLAMYDIA);
    coding_v(w, CR_C_GONORRHOEA);
    jw_end(w);
    klist(w, "staffWhoArePatients", &g->list_staff);
    jw_end(w);

    jw_key(w, "organisations");
    jw_arr(w);
    for (i = 0; i < world->n_orgs; i++) {
        const struct cr_synth_org *o = &world->orgs[i];
        jw_obj(w);
        jw_kstr(w, "ods", o->ods);
        jw_kstr(w, "name", o->name);
        jw_kstr(w, "kind", cr_synth_org_kind_code(o->kind));
        jw_kstr(w, "node", o->region < 0 ? "pan-london" : cr_synth_node_id(o->region));
        jw_kstr(w, "borough", cr_synth_boroughs[o->borough].name);
        jw_kstr(w, "postcode", o->postcode);
        jw_kint(w, "staff", o->n_prac);
        jw_end(w);
    }
    jw_end(w);
    jw_end(w);

    pretty(&b, &out);
    cr_buf_free(&b);
    if (out.rc != CR_OK) {
        cr_buf_free(&out);
        return cr_err_set(err, CR_ENOMEM, "exception", "", "out of memory");
    }
    snprintf(path, sizeof path, "%s/manifest.json", p->out_dir);
    rc = cr_synth_write_file(path, out.ptr, out.len, err);
    cr_buf_free(&out);
    return rc;
}

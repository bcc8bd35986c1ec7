/* synth.c: a generator run: the world, then each person's life, then the
 * directory and the manifest. Depends on every other file of src/synth. */
#include "synth/synth.h"

#include "synth/cancer.h"
#include "synth/directory.h"
#include "synth/emit.h"
#include "synth/eol.h"
#include "synth/governance.h"
#include "synth/gp.h"
#include "synth/immunise.h"
#include "synth/life.h"
#include "synth/ltc.h"
#include "synth/manifest.h"
#include "synth/nhs.h"
#include "synth/people.h"
#include "synth/services.h"
#include "synth/urgent.h"
#include "synth/world.h"

#include <stdlib.h>
#include <string.h>

#define PROGRESS_EVERY 512

static const char *const node_ids[CR_SYNTH_NODES] = { "nel", "ncl", "nwl", "sel", "swl" };
static const char *const node_names[CR_SYNTH_NODES] = {
    "North East London", "North Central London", "North West London",
    "South East London", "South West London",
};
static const char *const type_names[CR_SYNTH_TYPES] = {
    "Patient", "Organization", "Practitioner", "RelatedPerson", "Encounter",
    "Condition", "AllergyIntolerance", "MedicationRequest", "Observation",
    "DiagnosticReport", "Immunization", "Procedure", "ServiceRequest", "CarePlan",
    "Composition", "DocumentReference", "Appointment", "Consent",
    "Flag",
};

const char *
cr_synth_node_id(int node)
{
    return node >= 0 && node < CR_SYNTH_NODES ? node_ids[node] : NULL;
}

const char *
cr_synth_node_name(int node)
{
    return node >= 0 && node < CR_SYNTH_NODES ? node_names[node] : NULL;
}

const char *
cr_synth_type_name(int type)
{
    return type >= 0 && type < CR_SYNTH_TYPES ? type_names[type] : NULL;
}

uint64_t
cr_synth_max_patients(void)
{
    return cr_synth_nhs_capacity();
}

static void
live(struct cr_synth_life *l, struct cr_synth_gen *g, uint64_t index,
     uint64_t total, uint64_t nhs)
{
    int node;

    memset(l, 0, sizeof *l);
    l->g = g;
    l->w = g->world;
    for (node = 0; node < CR_SYNTH_NODES; node++)
        l->patient_org[node] = CR_SYNTH_NONE;
    cr_synth_rng_seed(&l->rng, g->seed, index * 8 + CR_STREAM_LIFE);
    cr_synth_person_make(l, index, total, nhs);
    /* The registered practice always holds a record of its patient. */
    l->patient_org[l->p.region] = l->p.gp;
    cr_synth_patient_emit(l, l->p.region);

    cr_synth_ltc_live(l);
    cr_synth_gp_live(l);
    cr_synth_immunise_live(l);
    cr_synth_urgent_live(l);
    cr_synth_services_live(l);
    cr_synth_cancer_live(l);
    cr_synth_eol_live(l);
    cr_synth_governance_live(l);

    g->stats->patients++;
    if (l->had_care)
        g->stats->people_with_care++;
    if (l->had_away)
        g->stats->people_away++;
}

cr_rc
cr_synth_run(const struct cr_synth_params *p, struct cr_synth_stats *out_stats,
             struct cr_err *err)
{
    struct cr_synth_world *world = NULL;
    struct cr_synth_sink *sink = NULL;
    struct cr_synth_gen *g = NULL;
    struct cr_synth_life *l = NULL;
    struct cr_synth_stats *st = NULL;
    struct cr_synth_nhs_seq seq = { 0 };
    uint64_t i;
    int node, type;
    cr_rc rc;

    if (p == NULL || p->out_dir == NULL || p->out_dir[0] == '\0')
        return cr_err_set(err, CR_EINVAL, "required", "out", "no output directory");
    if (p->patients < 1 || p->patients > cr_synth_max_patients())
        return cr_err_set(err, CR_EINVAL, "value", "patients",
                          "patients must be between 1 and %llu (the NHS number test "
                          "range 999 000 0000-999 999 9999 holds no more valid numbers)",
                          (unsigned long long)cr_synth_max_patients());

    st = calloc(1, sizeof *st);
    g = calloc(1, sizeof *g);
    l = calloc(1, sizeof *l);
    if (st == NULL || g == NULL || l == NULL) {
        rc = cr_err_set(err, CR_ENOMEM, "exception", "", "out of memory");
        goto out;
    }
    g->list_objection = cr_buf_make(0);
    g->list_restricted = cr_buf_make(0);
    g->list_staff = cr_buf_make(0);
    g->list_sensitive = cr_buf_make(0);
    g->list_ndoo = cr_buf_make(0);

    rc = cr_synth_world_build(&world, p->patients, err);
    if (rc != CR_OK)
        goto out;
    rc = cr_synth_sink_open(&sink, p->out_dir, err);
    if (rc != CR_OK)
        goto out;
    g->world = world;
    g->sink = sink;
    g->stats = st;
    g->seed = p->seed;
    g->today = p->start_day;
    g->org_used = calloc((size_t)CR_SYNTH_NODES * world->n_orgs, 1);
    g->prac_used = calloc((size_t)CR_SYNTH_NODES * world->n_pracs, 1);
    if (g->org_used == NULL || g->prac_used == NULL) {
        rc = cr_err_set(err, CR_ENOMEM, "exception", "", "out of memory");
        goto out;
    }
    cr_synth_people_calibrate(g);
    st->organisations = world->n_orgs;
    st->practitioners = world->n_pracs;

    for (i = 0; i < p->patients; i++) {
        live(l, g, i, p->patients, cr_synth_nhs_next(&seq));
        if (p->progress != NULL && (i + 1) % PROGRESS_EVERY == 0)
            p->progress(p->progress_arg, i + 1, p->patients, cr_synth_sink_total(sink));
    }
    cr_synth_directory_emit(g);

    for (node = 0; node < CR_SYNTH_NODES; node++)
        for (type = 0; type < CR_SYNTH_TYPES; type++)
            st->count[node][type] = cr_synth_sink_count(sink, node, type);
    st->resources = cr_synth_sink_total(sink);
    rc = cr_synth_sink_close(sink, err);
    sink = NULL;
    if (rc != CR_OK)
        goto out;
    if (g->list_objection.rc || g->list_restricted.rc || g->list_staff.rc
        || g->list_sensitive.rc || g->list_ndoo.rc) {
        rc = cr_err_set(err, CR_ENOMEM, "exception", "", "out of memory");
        goto out;
    }
    rc = cr_synth_manifest_write(g, p, err);
    if (rc != CR_OK)
        goto out;
    if (p->progress != NULL)
        p->progress(p->progress_arg, p->patients, p->patients, st->resources);
    if (out_stats != NULL)
        *out_stats = *st;

out:
    if (sink != NULL)
        cr_synth_sink_close(sink, NULL);
    if (g != NULL) {
        free(g->org_used);
        free(g->prac_used);
        cr_buf_free(&g->list_objection);
        cr_buf_free(&g->list_restricted);
        cr_buf_free(&g->list_staff);
        cr_buf_free(&g->list_sensitive);
        cr_buf_free(&g->list_ndoo);
    }
    cr_synth_world_destroy(world);
    free(l);
    free(g);
    free(st);
    return rc;
}

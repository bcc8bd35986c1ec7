/* people.c: demographics, households, conditions and flags of a person,
 * and their Patient resource. Depends on people.h, life.h, names.h. */
#include "synth/people.h"

#include "synth/names.h"
#include "synth/nhs.h"

#include <string.h>

#define BANDS 19
#define RATE_RESTRICTED 0.002
#define RATE_OBJECTION 0.003
#define RATE_NDOO 0.050
#define RATE_JOIN_HOUSEHOLD 300     /* per thousand */

/* London's population by five-year age band (2021 census, thousands). */
static const uint32_t pyramid[BANDS] = {
    560, 560, 540, 480, 560, 780, 860, 760, 650, 580,
    550, 490, 400, 310, 270, 190, 135, 80, 50,
};

static int
band_of(int age)
{
    return age / 5 < BANDS - 1 ? age / 5 : BANDS - 1;
}

/* Share of the population aged exactly 'age' (0..100), in arbitrary units
 * consistent with draw_age. */
static double
pop_at(int age)
{
    int b = band_of(age);

    if (b < BANDS - 1)
        return pyramid[b] / 5.0;
    /* 90+: 90..100 with weights 11..1 (sum 66). */
    return pyramid[b] * (double)(11 - (age - 90)) / 66.0;
}

static int
draw_age(struct cr_synth_rng *r)
{
    int b = (int)cr_synth_rng_weighted(r, pyramid, BANDS);

    if (b < BANDS - 1)
        return b * 5 + (int)cr_synth_rng_below(r, 5);
    {
        static const uint32_t w90[11] = { 11, 10, 9, 8, 7, 6, 5, 4, 3, 2, 1 };
        return 90 + (int)cr_synth_rng_weighted(r, w90, 11);
    }
}

void
cr_synth_people_calibrate(struct cr_synth_gen *g)
{
    int c, a, round;

    for (c = 0; c < CR_SYNTH_CONDS; c++) {
        const struct cr_synth_cond_def *d = &cr_synth_cond_defs[c];
        double den = 0, k = 1.0;

        for (a = 0; a <= CR_SYNTH_MAX_AGE; a++)
            if (!d->is_adults_only || a >= 18)
                den += pop_at(a);
        for (round = 0; round < 8; round++) {
            double expected = 0;
            for (a = 0; a <= CR_SYNTH_MAX_AGE; a++) {
                double p = a >= d->min_age ? k * d->weight[band_of(a)] : 0;
                if (p > 0.85)
                    p = 0.85;
                g->cond_p[c][a] = p;
                expected += pop_at(a) * p;
            }
            if (expected <= 0)
                break;
            k *= d->target * den / expected;
        }
    }
}

static bool
joins_previous(uint64_t seed, uint64_t index)
{
    if (index == 0)
        return false;
    return cr_synth_mix64(seed ^ cr_synth_mix64(index * 8 + CR_STREAM_JOIN)) % 1000
           < RATE_JOIN_HOUSEHOLD;
}

static const char *
pick(struct cr_synth_rng *r, const char *const *list, size_t n)
{
    return list[cr_synth_rng_below(r, (uint32_t)n)];
}

/* The household's address, surname and practice, from the household
 * head's own stream. */
static void
household(struct cr_synth_life *l, uint64_t head, const char **out_family)
{
    static const char unit[] = "ABDEFGHJLNPQRSTUWXYZ";
    struct cr_synth_person *p = &l->p;
    const struct cr_synth_world *w = l->w;
    const struct cr_synth_borough *bo;
    struct cr_synth_rng r;
    uint32_t nd = 0;
    int flat, number, sector;
    const char *street, *district;
    char u1, u2;

    cr_synth_rng_seed(&r, l->g->seed, head * 8 + CR_STREAM_HOUSEHOLD);
    p->borough = (uint8_t)cr_synth_rng_weighted(&r, w->borough_pop, CR_SYNTH_BOROUGHS);
    bo = &cr_synth_boroughs[p->borough];
    p->region = bo->region;
    while (nd < 11 && bo->districts[nd] != NULL)
        nd++;
    flat = cr_synth_rng_chance(&r, 0.35) ? cr_synth_rng_range(&r, 1, 60) : 0;
    number = cr_synth_rng_range(&r, 1, 300);
    street = pick(&r, cr_synth_streets, cr_synth_n_streets);
    if (flat) {
        snprintf(p->line1, sizeof p->line1, "Flat %d", flat);
        snprintf(p->line2, sizeof p->line2, "%d %s", number, street);
    } else {
        snprintf(p->line1, sizeof p->line1, "%d %s", number, street);
        p->line2[0] = '\0';
    }
    district = bo->districts[cr_synth_rng_below(&r, nd)];
    sector = cr_synth_rng_range(&r, 1, 9);
    u1 = unit[cr_synth_rng_below(&r, sizeof unit - 1)];
    u2 = unit[cr_synth_rng_below(&r, sizeof unit - 1)];
    snprintf(p->postcode, sizeof p->postcode, "%s %d%c%c", district, sector, u1, u2);
    *out_family = pick(&r, cr_synth_surnames, cr_synth_n_surnames);
    p->gp = w->gp_first[p->borough] + cr_synth_rng_below(&r, w->gp_count[p->borough]);
    p->gp_doctor = cr_synth_pick_doctor(l, p->gp);
}

static void
conditions(struct cr_synth_life *l)
{
    struct cr_synth_person *p = &l->p;
    struct cr_synth_rng *r = &l->rng;
    int32_t today = l->g->today;
    int c, a = p->age > CR_SYNTH_MAX_AGE ? CR_SYNTH_MAX_AGE : p->age;

    for (c = 0; c < CR_SYNTH_CONDS; c++) {
        const struct cr_synth_cond_def *d = &cr_synth_cond_defs[c];
        int lo, onset_age;
        int32_t day;

        p->has[c] = cr_synth_rng_chance(r, l->g->cond_p[c][a]);
        if (!p->has[c])
            continue;
        l->g->stats->cond[c]++;
        lo = d->min_age;
        if (c != CR_SYNTH_ASTHMA && p->age - 15 > lo)
            lo = p->age - 15;
        onset_age = cr_synth_rng_range(r, lo, p->age);
        day = p->birth + (int32_t)(onset_age * 365.2425) + (int32_t)cr_synth_rng_below(r, 365);
        if (c == CR_SYNTH_CANCER) {
            p->cancer_site = (uint8_t)(p->is_female
                ? (cr_synth_rng_chance(r, 0.60) ? CR_SITE_BREAST
                   : cr_synth_rng_chance(r, 0.55) ? CR_SITE_COLON : CR_SITE_LUNG)
                : (cr_synth_rng_chance(r, 0.55) ? CR_SITE_PROSTATE
                   : cr_synth_rng_chance(r, 0.55) ? CR_SITE_COLON : CR_SITE_LUNG));
            p->cancer_recent = p->age >= 18 && cr_synth_rng_chance(r, 0.22);
            if (p->cancer_recent)
                day = today - 40 - (int32_t)cr_synth_rng_below(r, 680);
            else if (day > today - 760)
                day = today - 760 - (int32_t)cr_synth_rng_below(r, 3000);
        }
        if (day >= today)
            day = today - 1 - (int32_t)cr_synth_rng_below(r, 30);
        if (day < p->birth)
            day = p->birth + 1;
        p->onset[c] = day;
    }
    p->is_alzheimer = p->has[CR_SYNTH_DEMENTIA] && cr_synth_rng_chance(r, 0.5);
    p->is_bipolar = p->has[CR_SYNTH_SMI] && cr_synth_rng_chance(r, 0.55);
}

static void
care_home(struct cr_synth_life *l)
{
    struct cr_synth_person *p = &l->p;
    const struct cr_synth_world *w = l->w;
    const struct cr_synth_org *home;
    double chance = p->age >= 85 ? 0.13 : p->age >= 75 ? 0.03 : p->age >= 65 ? 0.005 : 0;

    p->care_home = CR_SYNTH_NONE;
    if (p->has[CR_SYNTH_DEMENTIA])
        chance *= 3;
    if (chance > 0.6)
        chance = 0.6;
    if (chance <= 0 || !cr_synth_rng_chance(&l->rng, chance))
        return;
    p->care_home = w->home_first[p->borough]
                   + cr_synth_rng_below(&l->rng, w->home_count[p->borough]);
    home = &w->orgs[p->care_home];
    snprintf(p->line1, sizeof p->line1, "%s", home->name);
    snprintf(p->line2, sizeof p->line2, "%s", home->line);
    snprintf(p->postcode, sizeof p->postcode, "%s", home->postcode);
    p->shares_address = true;
    l->g->stats->care_home_residents++;
}

void
cr_synth_person_make(struct cr_synth_life *l, uint64_t index, uint64_t total,
                     uint64_t nhs)
{
    struct cr_synth_person *p = &l->p;
    struct cr_synth_rng *r = &l->rng;
    uint64_t seed = l->g->seed, head = index;
    const char *family = NULL;
    int steps = 0;

    memset(p, 0, sizeof *p);
    p->index = index;
    cr_synth_nhs_format(nhs, p->nhs);

    while (steps < 5 && joins_previous(seed, head)) {
        head--;
        steps++;
    }
    household(l, head, &family);
    p->shares_address = head != index
                        || (index + 1 < total && joins_previous(seed, index + 1));

    p->age = draw_age(r);
    p->birth = l->g->today - (int32_t)(p->age * 365.2425) - 1
               - (int32_t)cr_synth_rng_below(r, 364);
    p->age = cr_synth_years_between(p->birth, l->g->today);
    p->is_female = cr_synth_rng_chance(r, p->age >= 80 ? 0.58 : 0.505);
    if (p->is_female)
        p->given = pick(r, cr_synth_female_names, cr_synth_n_female_names);
    else
        p->given = pick(r, cr_synth_male_names, cr_synth_n_male_names);
    if (cr_synth_rng_chance(r, 0.35)) {
        p->given2 = p->is_female ? pick(r, cr_synth_female_names, cr_synth_n_female_names)
                                 : pick(r, cr_synth_male_names, cr_synth_n_male_names);
        if (strcmp(p->given2, p->given) == 0)
            p->given2 = NULL;
    }
    p->family = head == index || cr_synth_rng_chance(r, 0.85)
                    ? family
                    : pick(r, cr_synth_surnames, cr_synth_n_surnames);
    if (p->age >= 16)
        p->prefix = !p->is_female ? "Mr"
                    : p->age >= 25 && cr_synth_rng_chance(r, 0.5) ? "Mrs"
                    : cr_synth_rng_chance(r, 0.6) ? "Ms" : "Miss";
    /* 07700 900000-900999 is Ofcom's range for drama: never a real line. */
    snprintf(p->phone, sizeof p->phone, "07700 900%03u",
             (unsigned)cr_synth_rng_below(r, 1000));

    p->is_restricted = cr_synth_rng_chance(r, RATE_RESTRICTED);
    p->objects = cr_synth_rng_chance(r, RATE_OBJECTION);
    p->ndoo = cr_synth_rng_chance(r, RATE_NDOO);

    conditions(l);
    care_home(l);

    if (p->age >= 18)
        l->g->stats->adults++;
    if (p->shares_address)
        l->g->stats->shared_address++;
}

void
cr_synth_patient_emit(struct cr_synth_life *l, int node)
{
    const struct cr_synth_person *p = &l->p;
    struct cr_synth_rid id = patient_id(l, node);
    struct cr_synth_jw *w = res_open(l->g, &l->jw, node, CR_SYNTH_PATIENT, id.s,
                                     l->patient_org[node], p->is_restricted);

    jw_key(w, "identifier");
    jw_raw(w, "[{\"extension\":[{\"url\":\"https://fhir.hl7.org.uk/StructureDefinition/"
              "Extension-UKCore-NHSNumberVerificationStatus\",\"valueCodeableConcept\":"
              "{\"coding\":[{\"system\":\"https://fhir.hl7.org.uk/CodeSystem/"
              "UKCore-NHSNumberVerificationStatusEngland\",\"code\":\"01\",\"display\":"
              "\"Number present and verified\"}]}}],\"system\":\"" CR_SYS_NHS_NUMBER
              "\",\"value\":\"");
    cr_buf_adds(w->b, p->nhs);
    cr_buf_adds(w->b, "\"}]");
    jw_kbool(w, "active", true);
    jw_key(w, "name");
    jw_arr(w);
    jw_obj(w);
    jw_kstr(w, "use", "official");
    jw_kstr(w, "family", p->family);
    jw_key(w, "given");
    jw_arr(w);
    jw_str(w, p->given);
    if (p->given2 != NULL)
        jw_str(w, p->given2);
    jw_end(w);
    if (p->prefix != NULL) {
        jw_key(w, "prefix");
        jw_arr(w);
        jw_str(w, p->prefix);
        jw_end(w);
    }
    jw_end(w);
    jw_end(w);
    if (p->age >= 12) {
        jw_key(w, "telecom");
        jw_arr(w);
        jw_obj(w);
        jw_kstr(w, "system", "phone");
        jw_kstr(w, "value", p->phone);
        jw_kstr(w, "use", "mobile");
        jw_end(w);
        jw_end(w);
    }
    jw_kstr(w, "gender", p->is_female ? "female" : "male");
    kdate(w, "birthDate", p->birth);
    jw_key(w, "address");
    jw_arr(w);
    jw_obj(w);
    jw_kstr(w, "use", "home");
    jw_key(w, "line");
    jw_arr(w);
    jw_str(w, p->line1);
    if (p->line2[0])
        jw_str(w, p->line2);
    jw_end(w);
    jw_kstr(w, "city", "London");
    jw_kstr(w, "district", cr_synth_boroughs[p->borough].name);
    jw_kstr(w, "postalCode", p->postcode);
    jw_kstr(w, "country", "GB");
    jw_end(w);
    jw_end(w);
    jw_key(w, "generalPractitioner");
    jw_arr(w);
    ref_org_v(l, node, p->gp);
    jw_end(w);
    res_end(l->g, w, node, CR_SYNTH_PATIENT);
}

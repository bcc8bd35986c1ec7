/* world.h: the synthetic London the population lives in (internal to
 * src/synth).
 *
 * Five ICS regions (one exchange node each) with their 33 real boroughs
 * and real postcode districts; per region acute and specialist trusts, a
 * mental health trust and a community trust; per borough the council's
 * adult social care, GP practices and care homes; and two pan-London
 * services, the ambulance service and NHS 111. Every organisation has an
 * ODS-style code (all begin with "Z", so none is a real code) and a
 * clearly synthetic name, and a pool of staff (Practitioners). The number
 * of GP practices and care homes grows with the population so practices
 * keep realistic list sizes; the world depends only on the population
 * size, not on the seed. Depends on core/err.h, rng.h and names.h. */
#ifndef CR_SYNTH_WORLD_H
#define CR_SYNTH_WORLD_H

#include "core/err.h"

#include <stdint.h>

#define CR_SYNTH_BOROUGHS 33
#define CR_SYNTH_NONE UINT32_MAX     /* "no organisation / practitioner" */

enum cr_synth_org_kind {
    CR_SYNTH_ORG_GP,
    CR_SYNTH_ORG_ACUTE,
    CR_SYNTH_ORG_SPECIALIST,
    CR_SYNTH_ORG_MENTAL_HEALTH,
    CR_SYNTH_ORG_COMMUNITY,
    CR_SYNTH_ORG_COUNCIL,
    CR_SYNTH_ORG_CARE_HOME,
    CR_SYNTH_ORG_AMBULANCE,
    CR_SYNTH_ORG_NHS111,
    CR_SYNTH_ORG_KINDS
};

struct cr_synth_borough {
    const char *name;
    uint8_t region;              /* enum cr_synth_node */
    uint16_t pop_k;              /* 2021 census population, thousands */
    const char *districts[11];   /* real postcode districts, NULL-ended */
    const char *places[7];       /* neighbourhoods, NULL-ended */
};

extern const struct cr_synth_borough cr_synth_boroughs[CR_SYNTH_BOROUGHS];

struct cr_synth_org {
    char ods[8];
    char name[112];
    uint8_t kind;                /* enum cr_synth_org_kind */
    int8_t region;               /* node that publishes it; -1: pan-London */
    uint8_t borough;             /* where its main site is */
    char line[48];               /* street address */
    char postcode[10];
    char phone[16];
    uint32_t first_prac;         /* its staff: pracs[first_prac ...] */
    uint32_t n_prac;
    uint32_t n_doctors;          /* the first n_doctors staff are doctors */
};

struct cr_synth_prac {
    uint32_t org;
    char id[24];                 /* resource id, e.g. "Z10301-2" */
    char sds[13];                /* SDS user id, 12 digits */
    const char *given;
    const char *family;
    uint8_t is_female;
    uint8_t is_doctor;
};

struct cr_synth_world {
    struct cr_synth_org *orgs;
    uint32_t n_orgs;
    struct cr_synth_prac *pracs;
    uint32_t n_pracs;
    uint32_t borough_pop[CR_SYNTH_BOROUGHS];     /* weights for drawing */
    uint32_t gp_first[CR_SYNTH_BOROUGHS], gp_count[CR_SYNTH_BOROUGHS];
    uint32_t home_first[CR_SYNTH_BOROUGHS], home_count[CR_SYNTH_BOROUGHS];
    uint32_t council[CR_SYNTH_BOROUGHS];
    uint32_t acute[5][3];
    uint32_t n_acute[5];
    uint32_t specialist[5];      /* CR_SYNTH_NONE where a region has none */
    uint32_t mental_health[5];
    uint32_t community[5];
    uint32_t ambulance;
    uint32_t nhs111;
};

/* Build the world for a population of 'patients'. On success '*out' owns
 * it (free with cr_synth_world_destroy). CR_ENOMEM with 'err' otherwise. */
cr_rc
cr_synth_world_build(struct cr_synth_world **out, uint64_t patients,
                     struct cr_err *err);

/* Free the world. NULL is a no-op. */
void
cr_synth_world_destroy(struct cr_synth_world *w);

/* The code and display of an organisation kind in the carerecord
 * organisation-kind code system ("gp-practice", "GP practice"). Static. */
const char *
cr_synth_org_kind_code(int kind);

const char *
cr_synth_org_kind_display(int kind);

#endif

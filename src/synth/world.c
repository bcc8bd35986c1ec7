/* world.c: regions, boroughs, organisations and their staff. Depends on
 * world.h, rng.h, names.h, synth.h and libc. */
#include "synth/world.h"

#include "synth/names.h"
#include "synth/rng.h"
#include "synth/synth.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define N_ NULL
#define WORLD_SEED 0x4c6f6e646f6e2121ULL    /* the world does not use --seed */

const struct cr_synth_borough cr_synth_boroughs[CR_SYNTH_BOROUGHS] = {
    /* North East London */
    { "Barking and Dagenham", CR_SYNTH_NEL, 219,
      { "IG11", "RM6", "RM8", "RM9", "RM10", N_ },
      { "Barking", "Dagenham", "Becontree", "Chadwell Heath", "Thames View", N_ } },
    { "City of London", CR_SYNTH_NEL, 9,
      { "EC1A", "EC2M", "EC3N", "EC4V", N_ },
      { "Barbican", "Aldgate", "Smithfield", "Blackfriars", N_ } },
    { "Hackney", CR_SYNTH_NEL, 259,
      { "E5", "E8", "E9", "N16", N_ },
      { "Clapton", "Dalston", "Homerton", "Stoke Newington", "Hackney Wick", N_ } },
    { "Havering", CR_SYNTH_NEL, 262,
      { "RM1", "RM2", "RM3", "RM7", "RM11", "RM12", "RM13", "RM14", N_ },
      { "Romford", "Hornchurch", "Upminster", "Harold Wood", "Rainham", "Collier Row", N_ } },
    { "Newham", CR_SYNTH_NEL, 351,
      { "E6", "E7", "E12", "E13", "E15", "E16", N_ },
      { "Stratford", "East Ham", "Forest Gate", "Plaistow", "Canning Town", "Manor Park", N_ } },
    { "Redbridge", CR_SYNTH_NEL, 311,
      { "IG1", "IG2", "IG3", "IG4", "IG5", "IG6", "IG8", "E18", N_ },
      { "Ilford", "Gants Hill", "Woodford", "Seven Kings", "Wanstead", "Barkingside", N_ } },
    { "Tower Hamlets", CR_SYNTH_NEL, 311,
      { "E1", "E1W", "E2", "E3", "E14", N_ },
      { "Whitechapel", "Bethnal Green", "Bow", "Poplar", "Stepney", "Limehouse", N_ } },
    { "Waltham Forest", CR_SYNTH_NEL, 278,
      { "E4", "E10", "E11", "E17", N_ },
      { "Walthamstow", "Leyton", "Leytonstone", "Chingford", "Highams Park", N_ } },
    /* North Central London */
    { "Barnet", CR_SYNTH_NCL, 389,
      { "N2", "N3", "N11", "N12", "N20", "NW4", "NW7", "NW9", "EN4", "EN5", N_ },
      { "Finchley", "Hendon", "Edgware", "Barnet", "Mill Hill", "Golders Green", N_ } },
    { "Camden", CR_SYNTH_NCL, 210,
      { "NW1", "NW3", "NW5", "NW6", "WC1H", "WC1N", N_ },
      { "Camden Town", "Hampstead", "Kentish Town", "Kilburn", "Bloomsbury", "Holborn", N_ } },
    { "Enfield", CR_SYNTH_NCL, 330,
      { "EN1", "EN2", "EN3", "N9", "N13", "N14", "N18", "N21", N_ },
      { "Enfield Town", "Edmonton", "Southgate", "Palmers Green", "Ponders End", "Winchmore Hill", N_ } },
    { "Haringey", CR_SYNTH_NCL, 264,
      { "N4", "N8", "N10", "N15", "N17", "N22", N_ },
      { "Tottenham", "Wood Green", "Hornsey", "Crouch End", "Muswell Hill", "Harringay", N_ } },
    { "Islington", CR_SYNTH_NCL, 217,
      { "N1", "N5", "N7", "N19", "EC1V", N_ },
      { "Highbury", "Holloway", "Archway", "Angel", "Canonbury", "Finsbury", N_ } },
    /* North West London */
    { "Brent", CR_SYNTH_NWL, 339,
      { "NW2", "NW10", "HA0", "HA9", N_ },
      { "Wembley", "Willesden", "Harlesden", "Kilburn Park", "Kingsbury", "Neasden", N_ } },
    { "Ealing", CR_SYNTH_NWL, 367,
      { "W3", "W5", "W7", "W13", "UB1", "UB2", "UB5", "UB6", N_ },
      { "Ealing Broadway", "Acton", "Southall", "Hanwell", "Greenford", "Northolt", N_ } },
    { "Hammersmith and Fulham", CR_SYNTH_NWL, 183,
      { "W6", "W12", "W14", "SW6", N_ },
      { "Hammersmith", "Fulham", "Shepherd's Bush", "White City", "Parsons Green", N_ } },
    { "Harrow", CR_SYNTH_NWL, 261,
      { "HA1", "HA2", "HA3", "HA5", "HA7", N_ },
      { "Northwick Park", "Harrow on the Hill", "Wealdstone", "Pinner", "Stanmore", "Rayners Lane", N_ } },
    { "Hillingdon", CR_SYNTH_NWL, 306,
      { "UB3", "UB4", "UB7", "UB8", "UB10", "HA4", "HA6", N_ },
      { "Uxbridge", "Hayes", "Ruislip", "West Drayton", "Hillingdon Heath", "Northwood", N_ } },
    { "Hounslow", CR_SYNTH_NWL, 288,
      { "TW3", "TW4", "TW5", "TW7", "TW8", "TW13", "TW14", "W4", N_ },
      { "Hounslow", "Chiswick", "Brentford", "Isleworth", "Feltham", "Heston", N_ } },
    { "Kensington and Chelsea", CR_SYNTH_NWL, 144,
      { "W8", "W10", "W11", "SW3", "SW5", "SW7", "SW10", N_ },
      { "Kensington", "Chelsea", "Notting Hill", "North Kensington", "Earl's Court", "South Kensington", N_ } },
    { "Westminster", CR_SYNTH_NWL, 205,
      { "W1G", "W2", "W9", "NW8", "SW1P", "SW1V", N_ },
      { "Marylebone", "Paddington", "Maida Vale", "St John's Wood", "Pimlico", "Victoria", N_ } },
    /* South East London */
    { "Bexley", CR_SYNTH_SEL, 246,
      { "DA5", "DA6", "DA7", "DA8", "DA14", "DA15", "DA16", N_ },
      { "Bexleyheath", "Sidcup", "Welling", "Erith", "Crayford", "Bexley Village", N_ } },
    { "Bromley", CR_SYNTH_SEL, 330,
      { "BR1", "BR2", "BR3", "BR4", "BR5", "BR6", "BR7", N_ },
      { "Bromley Town", "Beckenham", "Orpington", "Chislehurst", "Penge", "West Wickham", N_ } },
    { "Greenwich", CR_SYNTH_SEL, 289,
      { "SE2", "SE3", "SE7", "SE9", "SE10", "SE18", "SE28", N_ },
      { "Greenwich", "Woolwich", "Eltham", "Charlton", "Thamesmead", "Plumstead", N_ } },
    { "Lambeth", CR_SYNTH_SEL, 317,
      { "SE11", "SE27", "SW2", "SW4", "SW8", "SW9", "SW16", N_ },
      { "Brixton", "Clapham", "Streatham", "Stockwell", "Kennington", "West Norwood", N_ } },
    { "Lewisham", CR_SYNTH_SEL, 300,
      { "SE4", "SE6", "SE8", "SE13", "SE14", "SE23", "SE26", N_ },
      { "Lewisham", "Catford", "Deptford", "Forest Hill", "Sydenham", "Brockley", N_ } },
    { "Southwark", CR_SYNTH_SEL, 307,
      { "SE1", "SE5", "SE15", "SE16", "SE17", "SE21", "SE22", N_ },
      { "Peckham", "Camberwell", "Bermondsey", "Dulwich", "Walworth", "Rotherhithe", N_ } },
    /* South West London */
    { "Croydon", CR_SYNTH_SWL, 391,
      { "CR0", "CR2", "CR5", "CR7", "CR8", "SE25", N_ },
      { "Croydon", "Thornton Heath", "Purley", "Norbury", "Coulsdon", "South Norwood", N_ } },
    { "Kingston upon Thames", CR_SYNTH_SWL, 168,
      { "KT1", "KT2", "KT3", "KT5", "KT6", "KT9", N_ },
      { "Kingston", "Surbiton", "New Malden", "Chessington", "Tolworth", N_ } },
    { "Merton", CR_SYNTH_SWL, 215,
      { "SW19", "SW20", "CR4", "SM4", N_ },
      { "Wimbledon", "Mitcham", "Morden", "Raynes Park", "Colliers Wood", N_ } },
    { "Richmond upon Thames", CR_SYNTH_SWL, 195,
      { "TW1", "TW2", "TW9", "TW10", "TW11", "TW12", "SW14", N_ },
      { "Richmond", "Twickenham", "Teddington", "Barnes", "Hampton", "Kew", N_ } },
    { "Sutton", CR_SYNTH_SWL, 209,
      { "SM1", "SM2", "SM3", "SM5", "SM6", N_ },
      { "Sutton", "Carshalton", "Wallington", "Cheam", "Belmont", N_ } },
    { "Wandsworth", CR_SYNTH_SWL, 328,
      { "SW11", "SW12", "SW15", "SW17", "SW18", N_ },
      { "Battersea", "Balham", "Putney", "Tooting", "Wandsworth Town", "Earlsfield", N_ } },
};

/* Trusts and pan-London services: region (-1: pan-London), kind, the
 * letter of the ODS code, borough of the main site, name. */
static const struct trust_def {
    int8_t region;
    uint8_t kind;
    char letter;
    uint8_t borough;
    const char *name;
} trusts[] = {
    { -1, CR_SYNTH_ORG_AMBULANCE, 'A', 24, "London Synthetic Ambulance Service NHS Trust" },
    { -1, CR_SYNTH_ORG_NHS111, 'B', 24, "London Synthetic NHS 111 Service" },
    { CR_SYNTH_NEL, CR_SYNTH_ORG_ACUTE, 'A', 6, "Whitechapel Synthetic University Hospitals NHS Trust" },
    { CR_SYNTH_NEL, CR_SYNTH_ORG_ACUTE, 'B', 2, "Hackney Synthetic Hospital NHS Trust" },
    { CR_SYNTH_NEL, CR_SYNTH_ORG_ACUTE, 'C', 3, "Romford Synthetic Hospitals NHS Trust" },
    { CR_SYNTH_NEL, CR_SYNTH_ORG_MENTAL_HEALTH, 'M', 4, "East London Synthetic Mental Health NHS Trust" },
    { CR_SYNTH_NEL, CR_SYNTH_ORG_COMMUNITY, 'N', 5, "North East London Synthetic Community Health NHS Trust" },
    { CR_SYNTH_NCL, CR_SYNTH_ORG_ACUTE, 'A', 9, "Bloomsbury Synthetic University Hospitals NHS Trust" },
    { CR_SYNTH_NCL, CR_SYNTH_ORG_ACUTE, 'B', 8, "Barnet Synthetic Hospital NHS Trust" },
    { CR_SYNTH_NCL, CR_SYNTH_ORG_ACUTE, 'C', 10, "Edmonton Synthetic Hospital NHS Trust" },
    { CR_SYNTH_NCL, CR_SYNTH_ORG_SPECIALIST, 'S', 9, "Euston Synthetic Specialist Hospital NHS Trust" },
    { CR_SYNTH_NCL, CR_SYNTH_ORG_MENTAL_HEALTH, 'M', 12, "North Central London Synthetic Mental Health NHS Trust" },
    { CR_SYNTH_NCL, CR_SYNTH_ORG_COMMUNITY, 'N', 12, "Archway Synthetic Community Health NHS Trust" },
    { CR_SYNTH_NWL, CR_SYNTH_ORG_ACUTE, 'A', 20, "Paddington Synthetic Healthcare NHS Trust" },
    { CR_SYNTH_NWL, CR_SYNTH_ORG_ACUTE, 'B', 16, "Harrow Synthetic Hospitals NHS Trust" },
    { CR_SYNTH_NWL, CR_SYNTH_ORG_ACUTE, 'C', 17, "Hillingdon Synthetic Hospitals NHS Trust" },
    { CR_SYNTH_NWL, CR_SYNTH_ORG_SPECIALIST, 'S', 19, "Chelsea Synthetic Cancer Centre NHS Trust" },
    { CR_SYNTH_NWL, CR_SYNTH_ORG_MENTAL_HEALTH, 'M', 14, "West London Synthetic Mental Health NHS Trust" },
    { CR_SYNTH_NWL, CR_SYNTH_ORG_COMMUNITY, 'N', 13, "North West London Synthetic Community Health NHS Trust" },
    { CR_SYNTH_SEL, CR_SYNTH_ORG_ACUTE, 'A', 26, "Southwark Synthetic Hospitals NHS Trust" },
    { CR_SYNTH_SEL, CR_SYNTH_ORG_ACUTE, 'B', 25, "Lewisham Synthetic Hospital NHS Trust" },
    { CR_SYNTH_SEL, CR_SYNTH_ORG_ACUTE, 'C', 22, "Bromley Synthetic Hospitals NHS Trust" },
    { CR_SYNTH_SEL, CR_SYNTH_ORG_SPECIALIST, 'S', 24, "Denmark Hill Synthetic Specialist Hospital NHS Trust" },
    { CR_SYNTH_SEL, CR_SYNTH_ORG_MENTAL_HEALTH, 'M', 24, "South London Synthetic Mental Health NHS Trust" },
    { CR_SYNTH_SEL, CR_SYNTH_ORG_COMMUNITY, 'N', 23, "South East London Synthetic Community Health NHS Trust" },
    { CR_SYNTH_SWL, CR_SYNTH_ORG_ACUTE, 'A', 32, "Tooting Synthetic University Hospitals NHS Trust" },
    { CR_SYNTH_SWL, CR_SYNTH_ORG_ACUTE, 'B', 27, "Croydon Synthetic Hospital NHS Trust" },
    { CR_SYNTH_SWL, CR_SYNTH_ORG_ACUTE, 'C', 28, "Kingston Synthetic Hospital NHS Trust" },
    { CR_SYNTH_SWL, CR_SYNTH_ORG_SPECIALIST, 'S', 31, "Belmont Synthetic Cancer Hospital NHS Trust" },
    { CR_SYNTH_SWL, CR_SYNTH_ORG_MENTAL_HEALTH, 'M', 29, "South West London Synthetic Mental Health NHS Trust" },
    { CR_SYNTH_SWL, CR_SYNTH_ORG_COMMUNITY, 'N', 30, "South West London Synthetic Community Health NHS Trust" },
};

/* Staff per organisation kind: total and how many of them are doctors. */
static const struct {
    uint16_t staff;
    uint16_t doctors;
} staffing[CR_SYNTH_ORG_KINDS] = {
    [CR_SYNTH_ORG_GP] = { 4, 3 },
    [CR_SYNTH_ORG_ACUTE] = { 24, 16 },
    [CR_SYNTH_ORG_SPECIALIST] = { 12, 8 },
    [CR_SYNTH_ORG_MENTAL_HEALTH] = { 10, 4 },
    [CR_SYNTH_ORG_COMMUNITY] = { 10, 2 },
    [CR_SYNTH_ORG_COUNCIL] = { 6, 0 },
    [CR_SYNTH_ORG_CARE_HOME] = { 3, 0 },
    [CR_SYNTH_ORG_AMBULANCE] = { 40, 0 },
    [CR_SYNTH_ORG_NHS111] = { 20, 4 },
};

static const char *const kind_codes[CR_SYNTH_ORG_KINDS][2] = {
    [CR_SYNTH_ORG_GP] = { "gp-practice", "GP practice" },
    [CR_SYNTH_ORG_ACUTE] = { "acute-trust", "Acute trust" },
    [CR_SYNTH_ORG_SPECIALIST] = { "specialist-trust", "Specialist trust" },
    [CR_SYNTH_ORG_MENTAL_HEALTH] = { "mental-health-trust", "Mental health trust" },
    [CR_SYNTH_ORG_COMMUNITY] = { "community-trust", "Community health trust" },
    [CR_SYNTH_ORG_COUNCIL] = { "council-social-care", "Council adult social care" },
    [CR_SYNTH_ORG_CARE_HOME] = { "care-home", "Care home" },
    [CR_SYNTH_ORG_AMBULANCE] = { "ambulance-service", "Ambulance service" },
    [CR_SYNTH_ORG_NHS111] = { "nhs-111", "NHS 111 service" },
};

const char *
cr_synth_org_kind_code(int kind)
{
    return kind >= 0 && kind < CR_SYNTH_ORG_KINDS ? kind_codes[kind][0] : NULL;
}

const char *
cr_synth_org_kind_display(int kind)
{
    return kind >= 0 && kind < CR_SYNTH_ORG_KINDS ? kind_codes[kind][1] : NULL;
}

static uint32_t
count_list(const char *const *list, uint32_t max)
{
    uint32_t n = 0;

    while (n < max && list[n] != NULL)
        n++;
    return n;
}

static uint32_t
clamp_u32(double v, uint32_t lo, uint32_t hi)
{
    if (v < lo)
        return lo;
    if (v > hi)
        return hi;
    return (uint32_t)(v + 0.5);
}

/* A street address and postcode in borough 'b'. */
static void
site_address(struct cr_synth_rng *r, uint8_t b, char *line, size_t line_size,
             char *postcode, size_t pc_size)
{
    static const char unit[] = "ABDEFGHJLNPQRSTUWXYZ";
    const struct cr_synth_borough *bo = &cr_synth_boroughs[b];
    uint32_t nd = count_list(bo->districts, 11);

    int number = cr_synth_rng_range(r, 1, 240), sector;
    const char *street = cr_synth_streets[cr_synth_rng_below(r, (uint32_t)cr_synth_n_streets)];
    const char *district;
    char u1, u2;

    snprintf(line, line_size, "%d %s", number, street);
    district = bo->districts[cr_synth_rng_below(r, nd)];
    sector = cr_synth_rng_range(r, 1, 9);
    u1 = unit[cr_synth_rng_below(r, sizeof unit - 1)];
    u2 = unit[cr_synth_rng_below(r, sizeof unit - 1)];
    snprintf(postcode, pc_size, "%s %d%c%c", district, sector, u1, u2);
}

static uint32_t
add_org(struct cr_synth_world *w, uint32_t cap, uint8_t kind, int8_t region,
        uint8_t borough, const char *ods, const char *name)
{
    struct cr_synth_org *o;
    struct cr_synth_rng r;
    uint32_t idx = w->n_orgs;

    if (idx >= cap)
        return CR_SYNTH_NONE;
    o = &w->orgs[w->n_orgs++];
    memset(o, 0, sizeof *o);
    snprintf(o->ods, sizeof o->ods, "%s", ods);
    snprintf(o->name, sizeof o->name, "%s", name);
    o->kind = kind;
    o->region = region;
    o->borough = borough;
    cr_synth_rng_seed(&r, WORLD_SEED, 0x100000000ULL + idx);
    site_address(&r, borough, o->line, sizeof o->line, o->postcode,
                 sizeof o->postcode);
    /* 020 7946 0000-0999 is Ofcom's range for drama: never a real line. */
    snprintf(o->phone, sizeof o->phone, "020 7946 0%03u",
             (unsigned)cr_synth_rng_below(&r, 1000));
    o->n_prac = staffing[kind].staff;
    o->n_doctors = staffing[kind].doctors;
    return idx;
}

static void
add_staff(struct cr_synth_world *w)
{
    uint32_t i, k, n = 0;

    for (i = 0; i < w->n_orgs; i++) {
        struct cr_synth_org *o = &w->orgs[i];
        o->first_prac = n;
        for (k = 0; k < o->n_prac; k++, n++) {
            struct cr_synth_prac *p = &w->pracs[n];
            struct cr_synth_rng r;

            cr_synth_rng_seed(&r, WORLD_SEED, 0x200000000ULL + n);
            p->org = i;
            snprintf(p->id, sizeof p->id, "%s-%u", o->ods, (unsigned)(k + 1) % 1000);
            snprintf(p->sds, sizeof p->sds, "5%011u", (unsigned)n + 1);
            p->is_female = cr_synth_rng_chance(&r, 0.55);
            p->given = p->is_female
                           ? cr_synth_female_names[cr_synth_rng_below(&r, (uint32_t)cr_synth_n_female_names)]
                           : cr_synth_male_names[cr_synth_rng_below(&r, (uint32_t)cr_synth_n_male_names)];
            p->family = cr_synth_surnames[cr_synth_rng_below(&r, (uint32_t)cr_synth_n_surnames)];
            p->is_doctor = k < o->n_doctors;
        }
    }
    w->n_pracs = n;
}

cr_rc
cr_synth_world_build(struct cr_synth_world **out, uint64_t patients,
                     struct cr_err *err)
{
    static const char *const gp_suffix[] = {
        "Synthetic GP Practice", "Synthetic Medical Centre",
        "Synthetic Health Centre", "Synthetic Surgery",
    };
    struct cr_synth_world *w = NULL;
    uint32_t total_pop = 0, cap, gps[CR_SYNTH_BOROUGHS], homes[CR_SYNTH_BOROUGHS];
    uint32_t in_region[5] = { 0 }, b, i, k, staff = 0;
    char ods[8], name[112];

    *out = NULL;
    w = calloc(1, sizeof *w);
    if (w == NULL)
        goto oom;
    for (b = 0; b < CR_SYNTH_BOROUGHS; b++)
        total_pop += cr_synth_boroughs[b].pop_k;
    cap = (uint32_t)(sizeof trusts / sizeof trusts[0]);
    for (b = 0; b < CR_SYNTH_BOROUGHS; b++) {
        double share = (double)cr_synth_boroughs[b].pop_k / total_pop;
        /* About 1,500 patients per practice and 5,000 people per care
         * home, within sensible bounds for tiny and huge runs. */
        gps[b] = clamp_u32(share * (double)patients / 1500.0, 2, 60);
        homes[b] = clamp_u32(share * (double)patients / 5000.0, 1, 40);
        cap += 1 + gps[b] + homes[b];
        w->borough_pop[b] = cr_synth_boroughs[b].pop_k;
    }
    w->orgs = calloc(cap, sizeof *w->orgs);
    if (w->orgs == NULL)
        goto oom;
    for (i = 0; i < 5; i++) {
        w->specialist[i] = CR_SYNTH_NONE;
        w->mental_health[i] = CR_SYNTH_NONE;
        w->community[i] = CR_SYNTH_NONE;
    }

    for (i = 0; i < sizeof trusts / sizeof trusts[0]; i++) {
        const struct trust_def *t = &trusts[i];
        uint32_t idx;

        snprintf(ods, sizeof ods, "Z%d%c", (t->region + 1) % 10, t->letter);
        idx = add_org(w, cap, t->kind, t->region, t->borough, ods, t->name);
        switch (t->kind) {
        case CR_SYNTH_ORG_AMBULANCE: w->ambulance = idx; break;
        case CR_SYNTH_ORG_NHS111: w->nhs111 = idx; break;
        case CR_SYNTH_ORG_ACUTE: w->acute[t->region][w->n_acute[t->region]++] = idx; break;
        case CR_SYNTH_ORG_SPECIALIST: w->specialist[t->region] = idx; break;
        case CR_SYNTH_ORG_MENTAL_HEALTH: w->mental_health[t->region] = idx; break;
        default: w->community[t->region] = idx; break;
        }
    }

    for (b = 0; b < CR_SYNTH_BOROUGHS; b++) {
        const struct cr_synth_borough *bo = &cr_synth_boroughs[b];
        uint32_t np = count_list(bo->places, 7);
        int region = bo->region;
        unsigned bnum = ++in_region[region];

        snprintf(ods, sizeof ods, "Z%dL%02u", (region + 1) % 10, bnum % 100);
        snprintf(name, sizeof name, "%s Synthetic Council Adult Social Care",
                 bo->name);
        w->council[b] = add_org(w, cap, CR_SYNTH_ORG_COUNCIL, (int8_t)region,
                                (uint8_t)b, ods, name);

        w->gp_first[b] = w->n_orgs;
        w->gp_count[b] = gps[b];
        for (k = 0; k < gps[b]; k++) {
            uint32_t round = k / (np * 4);
            snprintf(ods, sizeof ods, "Z%d%02u%02u", (region + 1) % 10, bnum % 100,
                     (unsigned)(k + 1) % 100);
            if (round == 0)
                snprintf(name, sizeof name, "%s %s", bo->places[k % np],
                         gp_suffix[(k / np) % 4]);
            else
                snprintf(name, sizeof name, "%s %s %u", bo->places[k % np],
                         gp_suffix[(k / np) % 4], (unsigned)round + 1);
            add_org(w, cap, CR_SYNTH_ORG_GP, (int8_t)region, (uint8_t)b, ods,
                    name);
        }

        w->home_first[b] = w->n_orgs;
        w->home_count[b] = homes[b];
        for (k = 0; k < homes[b]; k++) {
            uint32_t round = k / (np * 2);
            const char *what = (k / np) % 2 ? "Nursing" : "Care";
            snprintf(ods, sizeof ods, "Z%dH%02u%02u", (region + 1) % 10, bnum % 100,
                     (unsigned)(k + 1) % 100);
            if (round == 0)
                snprintf(name, sizeof name, "%s Synthetic %s Home",
                         bo->places[(k + 2) % np], what);
            else
                snprintf(name, sizeof name, "%s Synthetic %s Home %u",
                         bo->places[(k + 2) % np], what, (unsigned)round + 1);
            add_org(w, cap, CR_SYNTH_ORG_CARE_HOME, (int8_t)region, (uint8_t)b,
                    ods, name);
        }
    }

    for (i = 0; i < w->n_orgs; i++)
        staff += w->orgs[i].n_prac;
    w->pracs = calloc(staff ? staff : 1, sizeof *w->pracs);
    if (w->pracs == NULL)
        goto oom;
    add_staff(w);
    *out = w;
    return CR_OK;

oom:
    cr_synth_world_destroy(w);
    return cr_err_set(err, CR_ENOMEM, "exception", "", "out of memory");
}

void
cr_synth_world_destroy(struct cr_synth_world *w)
{
    if (w == NULL)
        return;
    free(w->orgs);
    free(w->pracs);
    free(w);
}

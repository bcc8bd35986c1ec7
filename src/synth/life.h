/* life.h: the state shared by the parts of the generator that write one
 * person's life (internal to src/synth).
 *
 * struct cr_synth_gen lives for a run (world, sink, statistics, which
 * organisations and staff each node's resources refer to); struct
 * cr_synth_life lives for one patient (their random stream, demographics,
 * ids handed out per node, the ids of their long-term conditions). The
 * inline helpers below write the recurring pieces of FHIR JSON: the
 * resource header with meta, references, codings, dates and quantities.
 *
 * Rules every writer follows, so that every node is self-contained:
 * - a resource for node N is opened with res_begin(l, N, ...), which first
 *   writes the patient's Patient resource on N if N has not seen them;
 * - a reference to an Organization or Practitioner goes through ref_org /
 *   ref_prac, which record that node N needs a copy of it;
 * - a reference to another clinical resource is written literally only
 *   when that resource is on the same node; across nodes we use its
 *   business identifier (e.g. the e-RS UBRN of a referral) instead.
 * One thread per life. Depends on world.h, emit.h, json.h, rng.h,
 * codes.h, date.h and synth.h. */
#ifndef CR_SYNTH_LIFE_H
#define CR_SYNTH_LIFE_H

#include "core/buf.h"
#include "synth/codes.h"
#include "synth/date.h"
#include "synth/emit.h"
#include "synth/json.h"
#include "synth/rng.h"
#include "synth/synth.h"
#include "synth/world.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#define CR_SYNTH_HISTORY_DAYS 1096   /* lives are written for three years */
#define CR_SYNTH_MAX_AGE 100

/* Random stream tags: each part of a life draws from its own stream. */
enum {
    CR_STREAM_PERSON = 1, CR_STREAM_HOUSEHOLD, CR_STREAM_JOIN,
    CR_STREAM_LIFE
};

/* Cancer sites used on pathways. */
enum { CR_SITE_BREAST, CR_SITE_PROSTATE, CR_SITE_LUNG, CR_SITE_COLON };

struct cr_synth_person {
    uint64_t index;              /* 0-based position in the population */
    char nhs[11];
    bool is_female;
    int32_t birth;               /* day number */
    int age;                     /* whole years at the start date */
    const char *given;
    const char *given2;          /* NULL when none */
    const char *family;
    const char *prefix;          /* NULL for children */
    uint8_t borough;
    uint8_t region;              /* home node */
    char line1[112];             /* a care home name is long */
    char line2[64];              /* "" when none */
    char postcode[10];
    char phone[16];
    uint32_t gp;                 /* registered practice (org index) */
    uint32_t gp_doctor;          /* usual GP (practitioner index) */
    uint32_t care_home;          /* org index, or CR_SYNTH_NONE */
    bool shares_address;
    bool is_restricted;          /* PDS-style restricted record */
    bool objects;                /* objects to sharing for direct care */
    bool ndoo;                   /* National Data Opt-out */
    bool has[CR_SYNTH_CONDS];
    int32_t onset[CR_SYNTH_CONDS];   /* day of diagnosis */
    uint8_t cancer_site;
    bool cancer_recent;          /* diagnosed on a pathway in the last 2 years */
    bool is_alzheimer;
    bool is_bipolar;
};

struct cr_synth_gen {
    const struct cr_synth_world *world;
    struct cr_synth_sink *sink;
    struct cr_synth_stats *stats;
    uint64_t seed;
    int32_t today;
    uint8_t *org_used;           /* [node * n_orgs + org]: needed on node */
    uint8_t *prac_used;          /* [node * n_pracs + prac] */
    double cond_p[CR_SYNTH_CONDS][CR_SYNTH_MAX_AGE + 1];
    /* manifest lists (JSON array members, comma-separated) */
    struct cr_buf list_objection;
    struct cr_buf list_restricted;
    struct cr_buf list_staff;
    struct cr_buf list_sensitive;
    struct cr_buf list_ndoo;
    uint64_t ndoo_listed;
};

struct cr_synth_rid {
    char s[40];
};

struct cr_synth_life {
    struct cr_synth_gen *g;
    const struct cr_synth_world *w;
    struct cr_synth_rng rng;
    struct cr_synth_person p;
    struct cr_synth_jw jw;
    uint32_t seq[CR_SYNTH_NODES];
    uint32_t patient_org[CR_SYNTH_NODES];    /* CR_SYNTH_NONE: no Patient yet */
    struct cr_synth_rid cond_id[CR_SYNTH_CONDS];  /* GP-node Conditions */
    bool had_care;
    bool had_away;
};

/* Write the Patient resource of 'l' on 'node', published by the
 * organisation recorded in l->patient_org[node] (people.c). */
void
cr_synth_patient_emit(struct cr_synth_life *l, int node);

/* Where a care event outside general practice happens: the home region
 * with probability 0.7, otherwise one of the other four. Counts the event
 * for the out-of-region statistics (life.c). */
int
cr_synth_care_region(struct cr_synth_life *l);

/* Count a care event in 'region' without choosing it (life.c). */
void
cr_synth_care_count(struct cr_synth_life *l, int region);

/* A doctor / any non-doctor member of staff of organisation 'org'
 * (life.c). Falls back to any member of staff. */
uint32_t
cr_synth_pick_doctor(struct cr_synth_life *l, uint32_t org);

uint32_t
cr_synth_pick_staff(struct cr_synth_life *l, uint32_t org);

/* One of the acute trusts of 'region' (life.c). */
uint32_t
cr_synth_pick_acute(struct cr_synth_life *l, int region);

/* ---- inline writing helpers ------------------------------------------ */

/* An opaque, deterministic resource id: "<node>-" and 16 hex digits mixed
 * from the person, the node and a counter. Ids end up in URLs, logs and
 * audit trails, so, as in real systems, they do not carry the NHS number. */
static inline struct cr_synth_rid
opaque_id(const struct cr_synth_life *l, int node, uint64_t n)
{
    struct cr_synth_rid id;
    uint64_t x = 0;
    const char *d;

    for (d = l->p.nhs; *d >= '0' && *d <= '9'; d++)
        x = x * 10 + (uint64_t)(*d - '0');
    x ^= ((uint64_t)node << 56) ^ (n * 0x9E3779B97F4A7C15ULL);
    /* splitmix64 finaliser */
    x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ULL;
    x = (x ^ (x >> 27)) * 0x94D049BB133111EBULL;
    x ^= x >> 31;
    snprintf(id.s, sizeof id.s, "%s-%016llx", cr_synth_node_id(node),
             (unsigned long long)x);
    return id;
}

/* A new resource id on 'node'. */
static inline struct cr_synth_rid
new_id(struct cr_synth_life *l, int node)
{
    return opaque_id(l, node, ++l->seq[node]);
}

/* The id of the patient's Patient resource on 'node'. */
static inline struct cr_synth_rid
patient_id(const struct cr_synth_life *l, int node)
{
    return opaque_id(l, node, 0);
}

static inline const char *
profile_of(int type)
{
    static const char *const names[CR_SYNTH_TYPES] = {
        [CR_SYNTH_PATIENT] = CR_PROFILE "Patient",
        [CR_SYNTH_ORGANIZATION] = CR_PROFILE "Organization",
        [CR_SYNTH_PRACTITIONER] = CR_PROFILE "Practitioner",
        [CR_SYNTH_RELATEDPERSON] = CR_PROFILE "RelatedPerson",
        [CR_SYNTH_ENCOUNTER] = CR_PROFILE "Encounter",
        [CR_SYNTH_CONDITION] = CR_PROFILE "Condition",
        [CR_SYNTH_ALLERGY] = CR_PROFILE "AllergyIntolerance",
        [CR_SYNTH_MEDREQ] = CR_PROFILE "MedicationRequest",
        [CR_SYNTH_OBSERVATION] = CR_PROFILE "Observation",
        [CR_SYNTH_DIAGREPORT] = CR_PROFILE "DiagnosticReport",
        [CR_SYNTH_IMMUNIZATION] = CR_PROFILE "Immunization",
        [CR_SYNTH_PROCEDURE] = CR_PROFILE "Procedure",
        [CR_SYNTH_SERVICEREQ] = CR_PROFILE "ServiceRequest",
        [CR_SYNTH_CAREPLAN] = CR_PROFILE "CarePlan",
        [CR_SYNTH_COMPOSITION] = CR_PROFILE "Composition",
        [CR_SYNTH_DOCREF] = CR_PROFILE "DocumentReference",
        [CR_SYNTH_APPOINTMENT] = CR_PROFILE "Appointment",
        [CR_SYNTH_CONSENT] = CR_PROFILE "Consent",
        [CR_SYNTH_FLAG] = CR_PROFILE "Flag",
    };
    return names[type];
}

/* Open resource 'type' with 'id' on 'node', published by organisation
 * 'org' (ODS code in meta.tag), without the Patient check, declaring
 * 'profile2' (may be NULL) after the UK Core profile. */
static inline struct cr_synth_jw *
res_open_as(struct cr_synth_gen *g, struct cr_synth_jw *w, int node, int type,
            const char *id, uint32_t org, bool is_restricted,
            const char *profile2)
{
    jw_start(w, cr_synth_sink_buf(g->sink, node, type));
    jw_obj(w);
    jw_kstr(w, "resourceType", cr_synth_type_name(type));
    jw_kstr(w, "id", id);
    jw_key(w, "meta");
    jw_raw(w, "{\"profile\":[\"");
    cr_buf_adds(w->b, profile_of(type));
    if (profile2) {
        cr_buf_adds(w->b, "\",\"");
        cr_buf_adds(w->b, profile2);
    }
    cr_buf_adds(w->b, "\"]");
    if (is_restricted)
        cr_buf_adds(w->b, ",\"security\":[{\"system\":"
                          "\"http://terminology.hl7.org/CodeSystem/v3-Confidentiality\","
                          "\"code\":\"R\",\"display\":\"restricted\"}]");
    cr_buf_adds(w->b, ",\"tag\":[{\"system\":\"" CR_SYS_PUBLISHER "\",\"code\":\"");
    cr_buf_adds(w->b, g->world->orgs[org].ods);
    cr_buf_adds(w->b, "\"}]}");
    g->org_used[(size_t)node * g->world->n_orgs + org] = 1;
    return w;
}

/* res_open_as without a second profile. For Patient, Organization and
 * Practitioner writers. 'is_restricted' adds the confidentiality label
 * R. */
static inline struct cr_synth_jw *
res_open(struct cr_synth_gen *g, struct cr_synth_jw *w, int node, int type,
         const char *id, uint32_t org, bool is_restricted)
{
    return res_open_as(g, w, node, type, id, org, is_restricted, NULL);
}

/* Open a clinical resource for the patient of 'l' on 'node', published by
 * 'org', declaring 'profile2' (may be NULL) too; writes the Patient
 * resource there first if needed. */
static inline struct cr_synth_jw *
res_begin_as(struct cr_synth_life *l, int node, int type, const char *id,
             uint32_t org, const char *profile2)
{
    if (l->patient_org[node] == CR_SYNTH_NONE) {
        l->patient_org[node] = org;
        cr_synth_patient_emit(l, node);
    }
    return res_open_as(l->g, &l->jw, node, type, id, org, false, profile2);
}

static inline struct cr_synth_jw *
res_begin(struct cr_synth_life *l, int node, int type, const char *id,
          uint32_t org)
{
    return res_begin_as(l, node, type, id, org, NULL);
}

/* Close the resource and hand it to the sink. */
static inline void
res_end(struct cr_synth_gen *g, struct cr_synth_jw *w, int node, int type)
{
    jw_end(w);
    cr_synth_sink_commit(g->sink, node, type);
}

/* {"reference":"<prefix><id>"} as the next value. */
static inline void
ref_v(struct cr_synth_jw *w, const char *prefix, const char *id)
{
    jw_obj(w);
    jw_key(w, "reference");
    jw_str2(w, prefix, id);
    jw_end(w);
}

static inline void
kref(struct cr_synth_jw *w, const char *key, const char *prefix, const char *id)
{
    jw_key(w, key);
    ref_v(w, prefix, id);
}

/* A reference to the patient on 'node'. */
static inline void
kref_patient(struct cr_synth_life *l, int node, const char *key)
{
    struct cr_synth_rid id = patient_id(l, node);

    kref(&l->jw, key, "Patient/", id.s);
}

/* A reference to organisation 'org' as the next value; node 'node' will
 * carry a copy of it. */
static inline void
ref_org_v(struct cr_synth_life *l, int node, uint32_t org)
{
    l->g->org_used[(size_t)node * l->w->n_orgs + org] = 1;
    ref_v(&l->jw, "Organization/", l->w->orgs[org].ods);
}

static inline void
kref_org(struct cr_synth_life *l, int node, const char *key, uint32_t org)
{
    jw_key(&l->jw, key);
    ref_org_v(l, node, org);
}

/* A reference to practitioner 'prac' as the next value. */
static inline void
ref_prac_v(struct cr_synth_life *l, int node, uint32_t prac)
{
    l->g->prac_used[(size_t)node * l->w->n_pracs + prac] = 1;
    ref_v(&l->jw, "Practitioner/", l->w->pracs[prac].id);
}

static inline void
kref_prac(struct cr_synth_life *l, int node, const char *key, uint32_t prac)
{
    jw_key(&l->jw, key);
    ref_prac_v(l, node, prac);
}

/* "key":[{"reference":"Practitioner/..."}] */
static inline void
kref_prac_arr(struct cr_synth_life *l, int node, const char *key, uint32_t prac)
{
    jw_key(&l->jw, key);
    jw_arr(&l->jw);
    ref_prac_v(l, node, prac);
    jw_end(&l->jw);
}

/* {"system":..,"code":..,"display":..} as the next value. */
static inline void
coding_v(struct cr_synth_jw *w, int code)
{
    const struct cr_synth_code *c = &cr_synth_codes[code];

    jw_obj(w);
    jw_kstr(w, "system", c->system);
    jw_kstr(w, "code", c->code);
    jw_kstr(w, "display", c->display);
    jw_end(w);
}

/* A coding from any system, e.g. an HL7 code system. */
static inline void
coding_sys_v(struct cr_synth_jw *w, const char *system, const char *code,
             const char *display)
{
    jw_obj(w);
    jw_kstr(w, "system", system);
    jw_kstr(w, "code", code);
    if (display != NULL)
        jw_kstr(w, "display", display);
    jw_end(w);
}

/* {"coding":[..]} (and "text" when 'text' is not NULL) as the next value. */
static inline void
cc_v(struct cr_synth_jw *w, int code, const char *text)
{
    jw_obj(w);
    jw_key(w, "coding");
    jw_arr(w);
    coding_v(w, code);
    jw_end(w);
    if (text != NULL)
        jw_kstr(w, "text", text);
    jw_end(w);
}

static inline void
kcc(struct cr_synth_jw *w, const char *key, int code)
{
    jw_key(w, key);
    cc_v(w, code, NULL);
}

/* "key":[{"coding":[..]}] */
static inline void
kcc_arr(struct cr_synth_jw *w, const char *key, int code)
{
    jw_key(w, key);
    jw_arr(w);
    cc_v(w, code, NULL);
    jw_end(w);
}

/* A CodeableConcept with one coding from any system. */
static inline void
cc_sys_v(struct cr_synth_jw *w, const char *system, const char *code,
         const char *display)
{
    jw_obj(w);
    jw_key(w, "coding");
    jw_arr(w);
    coding_sys_v(w, system, code, display);
    jw_end(w);
    jw_end(w);
}

static inline void
kcc_sys(struct cr_synth_jw *w, const char *key, const char *system,
        const char *code, const char *display)
{
    jw_key(w, key);
    cc_sys_v(w, system, code, display);
}

static inline void
kcc_sys_arr(struct cr_synth_jw *w, const char *key, const char *system,
            const char *code, const char *display)
{
    jw_key(w, key);
    jw_arr(w);
    cc_sys_v(w, system, code, display);
    jw_end(w);
}

static inline void
kdate(struct cr_synth_jw *w, const char *key, int32_t day)
{
    char s[11];

    cr_synth_date_fmt(day, s);
    jw_kstr(w, key, s);
}

static inline void
kdt(struct cr_synth_jw *w, const char *key, int32_t day, int minute)
{
    char s[21];

    cr_synth_datetime_fmt(day, minute, s);
    jw_kstr(w, key, s);
}

/* "key":{"start":..,"end":..}; no end when end_day < 0. */
static inline void
kperiod(struct cr_synth_jw *w, const char *key, int32_t start_day,
        int start_min, int32_t end_day, int end_min)
{
    jw_key(w, key);
    jw_obj(w);
    kdt(w, "start", start_day, start_min);
    if (end_day >= 0)
        kdt(w, "end", end_day, end_min);
    jw_end(w);
}

/* "key":{"value":v/10^places,"unit":..,"system":UCUM,"code":..}. */
static inline void
kqty(struct cr_synth_jw *w, const char *key, int64_t v, int places,
     const char *unit, const char *ucum)
{
    jw_key(w, key);
    jw_obj(w);
    jw_key(w, "value");
    if (places == 0)
        jw_int(w, v);
    else
        jw_dec(w, v, places);
    jw_kstr(w, "unit", unit);
    if (ucum != NULL) {
        jw_kstr(w, "system", CR_SYS_UCUM);
        jw_kstr(w, "code", ucum);
    }
    jw_end(w);
}

/* HL7 terminology helpers. */
#define CR_HL7 "http://terminology.hl7.org/CodeSystem/"

static inline void
kclinical_status(struct cr_synth_jw *w, const char *system_tail,
                 const char *code)
{
    jw_key(w, "clinicalStatus");
    jw_obj(w);
    jw_key(w, "coding");
    jw_arr(w);
    jw_obj(w);
    jw_key(w, "system");
    jw_str2(w, CR_HL7, system_tail);
    jw_kstr(w, "code", code);
    jw_end(w);
    jw_end(w);
    jw_end(w);
}

/* A day in [from, to] (to < from gives from). */
static inline int32_t
day_between(struct cr_synth_life *l, int32_t from, int32_t to)
{
    return from + (to > from ? (int32_t)cr_synth_rng_below(&l->rng, (uint32_t)(to - from + 1)) : 0);
}

/* A time in clinic hours, 08:00-18:20, in ten-minute steps. */
static inline int
clinic_minute(struct cr_synth_life *l)
{
    return 480 + 10 * (int)cr_synth_rng_below(&l->rng, 63);
}

/* Any minute of the day. */
static inline int
any_minute(struct cr_synth_life *l)
{
    return (int)cr_synth_rng_below(&l->rng, 1440);
}

/* The patient's age in years on 'day'. */
static inline int
age_on(const struct cr_synth_life *l, int32_t day)
{
    return cr_synth_years_between(l->p.birth, day);
}

/* The first day of the history window (or birth if later). */
static inline int32_t
history_start(const struct cr_synth_life *l)
{
    int32_t s = l->g->today - CR_SYNTH_HISTORY_DAYS;

    return s > l->p.birth ? s : l->p.birth;
}

#endif

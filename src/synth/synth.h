/* synth.h: the synthetic London generator, public interface of src/synth.
 *
 * cr_synth_run builds a synthetic world (five Integrated Care System
 * regions with their boroughs, postcode districts, organisations and
 * staff) and a population whose lives over the years before the start
 * date are written as FHIR R4 resources: one NDJSON file per resource type
 * per exchange node (DIR/<node>/<Type>.ndjson) and DIR/manifest.json.
 * Each node's files hold what the organisations of that region published;
 * references inside a node resolve inside that node. The output is a pure
 * function of the parameters (the real clock is never read for data), so
 * the same parameters give the same bytes. docs/synth.md describes the
 * world, the people, the rates and the codes.
 *
 * The other headers in src/synth are private to the module. Depends on
 * core/err.h, libc/libm and (noisy duplicates only) jansson. */
#ifndef CR_SYNTH_SYNTH_H
#define CR_SYNTH_SYNTH_H

#include "core/err.h"

#include <jansson.h>
#include <stdint.h>

/* The exchange nodes, one per ICS region, in manifest order. */
enum cr_synth_node {
    CR_SYNTH_NEL,       /* North East London */
    CR_SYNTH_NCL,       /* North Central London */
    CR_SYNTH_NWL,       /* North West London */
    CR_SYNTH_SEL,       /* South East London */
    CR_SYNTH_SWL,       /* South West London */
    CR_SYNTH_NODES
};

/* The resource types written, in manifest order. */
enum cr_synth_type {
    CR_SYNTH_PATIENT,
    CR_SYNTH_ORGANIZATION,
    CR_SYNTH_PRACTITIONER,
    CR_SYNTH_RELATEDPERSON,
    CR_SYNTH_ENCOUNTER,
    CR_SYNTH_CONDITION,
    CR_SYNTH_ALLERGY,
    CR_SYNTH_MEDREQ,
    CR_SYNTH_OBSERVATION,
    CR_SYNTH_DIAGREPORT,
    CR_SYNTH_IMMUNIZATION,
    CR_SYNTH_PROCEDURE,
    CR_SYNTH_SERVICEREQ,
    CR_SYNTH_CAREPLAN,
    CR_SYNTH_COMPOSITION,
    CR_SYNTH_DOCREF,
    CR_SYNTH_APPOINTMENT,
    CR_SYNTH_CONSENT,
    CR_SYNTH_FLAG,
    CR_SYNTH_TYPES
};

/* The long-term conditions whose prevalence is controlled. */
enum cr_synth_cond {
    CR_SYNTH_ASTHMA,
    CR_SYNTH_COPD,
    CR_SYNTH_HYPERTENSION,
    CR_SYNTH_DIABETES,
    CR_SYNTH_HEART_FAILURE,
    CR_SYNTH_CKD,
    CR_SYNTH_DEMENTIA,
    CR_SYNTH_SMI,
    CR_SYNTH_CANCER,
    CR_SYNTH_CONDS
};

/* Called from cr_synth_run's thread every few hundred patients and once at
 * the end: 'done' of 'total' patients written, 'resources' so far. */
typedef void (*cr_synth_progress_fn)(void *arg, uint64_t done, uint64_t total,
                                     uint64_t resources);

struct cr_synth_params {
    uint64_t patients;          /* 1..cr_synth_max_patients() */
    uint64_t seed;              /* any value; 1 by default in the CLI */
    const char *out_dir;        /* created if missing */
    int32_t start_day;          /* "today" of the world: days since 1970-01-01 */
    cr_synth_progress_fn progress;  /* may be NULL */
    void *progress_arg;
};

/* What a run produced, for the caller's summary and for tests. */
struct cr_synth_stats {
    uint64_t patients;
    uint64_t resources;                          /* all lines of all files */
    uint64_t count[CR_SYNTH_NODES][CR_SYNTH_TYPES];
    uint64_t organisations;                      /* in the world */
    uint64_t practitioners;                      /* in the world (staff pools) */
    uint64_t adults;                             /* aged 18+ at the start */
    uint64_t cond[CR_SYNTH_CONDS];               /* people with each condition */
    uint64_t care_events;                        /* encounters outside general practice */
    uint64_t care_events_away;                   /* ... in a region other than home */
    uint64_t people_with_care;                   /* people with any such encounter */
    uint64_t people_away;                        /* ... with one outside home */
    uint64_t children_under6;
    uint64_t immunisations_missed;               /* scheduled doses not given by the start */
    uint64_t asthma_saba_no_ics_6plus;           /* >= 6 SABA issues in 12 months, no ICS */
    uint64_t bp_raised_undiagnosed;              /* raised clinic BP, no diagnosis */
    uint64_t objections;                         /* Consent deny, direct care */
    uint64_t ndoo;                               /* National Data Opt-out */
    uint64_t restricted;                         /* meta.security R */
    uint64_t staff_patients;
    uint64_t sensitive_ivf;
    uint64_t sensitive_sti;
    uint64_t care_home_residents;
    uint64_t eol_plans;
    uint64_t cpr_review_overdue;                 /* plans whose CPR review date has passed */
    uint64_t lpa_people;
    uint64_t cancer_pathways;                    /* diagnosed on a pathway in the last 2 years */
    uint64_t usc_referrals;                      /* urgent suspected cancer referrals */
    uint64_t shared_address;                     /* people sharing an address with another */
};

/* The node id ("nel") / region name ("North East London") of 'node', or
 * NULL when out of range. Static strings. */
const char *
cr_synth_node_id(int node);

const char *
cr_synth_node_name(int node);

/* The FHIR resource type name of 'type' ("Patient"), or NULL. */
const char *
cr_synth_type_name(int type);

/* The largest population the NHS number test range can hold. */
uint64_t
cr_synth_max_patients(void);

/* Generate the world and 'p->patients' people into 'p->out_dir'. On
 * success fills '*out_stats' (which may be NULL) and returns CR_OK. On
 * failure (bad parameters: CR_EINVAL; files: CR_EIO; memory: CR_ENOMEM)
 * describes the problem in 'err'; files already written are left behind.
 * Never prints. Not thread-safe with another run into the same directory. */
cr_rc
cr_synth_run(const struct cr_synth_params *p, struct cr_synth_stats *out_stats,
             struct cr_err *err);

/* ---- noisy duplicates (dupes.c) ----
 *
 * Test data for patient matching: a copy of a Patient as another
 * organisation might have recorded the same person, with the slips real
 * registration makes. Each kind of noise is applied independently with its
 * probability; the copy never carries the NHS number (that would make the
 * match trivial) and gets its own id and a local identifier. */

struct cr_synth_noise {
    double typo;           /* a typing slip in the family (2/3) or given
                              (1/3) name: a letter replaced, added, dropped,
                              or two neighbours swapped */
    double swap_date;      /* birth date's day and month swapped (when both
                              could be a month; else one digit instead) */
    double date_digit;     /* one digit of the birth date wrong */
    double no_date;        /* birth date left out */
    double no_postcode;    /* address left out */
    double moved;          /* a different postcode: 1/2 in the same
                              district, 1/2 elsewhere in London */
    double no_sex;         /* gender left out */
    double no_given;       /* given names left out */
};

/* What was done to a copy (bits of the 'changes' result). */
#define CR_SYNTH_NOISE_TYPO 0x01u
#define CR_SYNTH_NOISE_SWAP_DATE 0x02u
#define CR_SYNTH_NOISE_DATE_DIGIT 0x04u
#define CR_SYNTH_NOISE_NO_DATE 0x08u
#define CR_SYNTH_NOISE_NO_POSTCODE 0x10u
#define CR_SYNTH_NOISE_MOVED 0x20u
#define CR_SYNTH_NOISE_NO_SEX 0x40u
#define CR_SYNTH_NOISE_NO_GIVEN 0x80u

/* The noise `make bench` measures with (docs/mpi.md gives the figures). */
void
cr_synth_noise_default(struct cr_synth_noise *out);

/* A noisy copy of parsed Patient 'src' (not modified): id 'id', its only
 * identifier system|value, the noise 'n' drawn from the random stream
 * (seed, stream), so the same arguments give the same copy. Returns a new
 * object the caller releases (json_decref), or NULL when out of memory;
 * *out_changes (may be NULL) gets the CR_SYNTH_NOISE_* bits applied. */
json_t *
cr_synth_noisy_copy(const json_t *src, const struct cr_synth_noise *n,
                    uint64_t seed, uint64_t stream, const char *id,
                    const char *system, const char *value,
                    unsigned *out_changes);

#endif

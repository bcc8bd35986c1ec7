/* careplan.h: the Universal Care Plan (an end-of-life / advance care plan
 * following ReSPECT and the NHS end-of-life information standard).
 *
 * A plan is one CarePlan and the resources it refers to: a Flag for the
 * CPR decision, Flags for an advance decision to refuse treatment (ADRT)
 * and a lasting power of attorney (LPA), RelatedPersons for the key
 * contacts and attorneys, MedicationRequests for just-in-case medicines.
 * docs/care-plan.md gives every element, code and extension; this module
 * is that model in code:
 *
 *   - what a resource is to a plan (cr_careplan_kind_of) and whether it
 *     declares one of the plan's profiles (cr_careplan_is_plan_resource);
 *   - the plan's rules, checked over a whole plan at once, every broken
 *     rule an issue naming the element (cr_careplan_check);
 *   - the emergency summary a paramedic reads first, written from the
 *     plan's resources (cr_careplan_summarise);
 *   - the programme's store-side figures: people with a plan, plans
 *     created and revised per month (cr_careplan_figures).
 *
 * It never decides who may see or write anything: api/ passes every
 * resource through the access policy before it reaches this module, and
 * writes the plan. Depends on core/, store/ (figures only), jansson and
 * xxhash.
 * Every function is thread-safe (no state). */
#ifndef CR_CAREPLAN_CAREPLAN_H
#define CR_CAREPLAN_CAREPLAN_H

#include "core/buf.h"
#include "core/err.h"
#include "store/store.h"

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* ---- the model's names ----------------------------------------------- */

#define CR_CAREPLAN_SD "https://carerecord.example/StructureDefinition/"
#define CR_CAREPLAN_CS "https://carerecord.example/CodeSystem/"
#define CR_CAREPLAN_SCT "http://snomed.info/sct"

/* Profiles the server puts in meta.profile of the plan's resources. A
 * resource that declares one is written only through $care-plan. */
#define CR_CAREPLAN_PROFILE CR_CAREPLAN_SD "UCP-CarePlan"
#define CR_CAREPLAN_PROFILE_CPR CR_CAREPLAN_SD "UCP-CPRDecision"
#define CR_CAREPLAN_PROFILE_ADRT CR_CAREPLAN_SD "UCP-ADRT"
#define CR_CAREPLAN_PROFILE_LPA CR_CAREPLAN_SD "UCP-LPA"

/* CarePlan extensions */
#define CR_CAREPLAN_EXT_REVIEW CR_CAREPLAN_SD "ucp-review-date"
#define CR_CAREPLAN_EXT_SIGNED CR_CAREPLAN_SD "ucp-signed-off"
#define CR_CAREPLAN_EXT_RECORDED CR_CAREPLAN_SD "ucp-recorded-by"
#define CR_CAREPLAN_EXT_PRIORITIES CR_CAREPLAN_SD "ucp-priorities"
#define CR_CAREPLAN_EXT_PLACE_CARE CR_CAREPLAN_SD "ucp-preferred-place-of-care"
#define CR_CAREPLAN_EXT_PLACE_DEATH CR_CAREPLAN_SD "ucp-preferred-place-of-death"
#define CR_CAREPLAN_EXT_PROGNOSIS CR_CAREPLAN_SD "ucp-prognosis"
#define CR_CAREPLAN_EXT_CAPACITY CR_CAREPLAN_SD "ucp-capacity"
/* CarePlan.activity.detail extensions */
#define CR_CAREPLAN_EXT_CEILING CR_CAREPLAN_SD "ucp-ceiling-of-treatment"
#define CR_CAREPLAN_EXT_WHERE_KEPT CR_CAREPLAN_SD "ucp-where-kept"
/* Flag extensions */
#define CR_CAREPLAN_EXT_DISCUSSED CR_CAREPLAN_SD "ucp-cpr-discussed-with"
#define CR_CAREPLAN_EXT_SENIOR CR_CAREPLAN_SD "ucp-cpr-recorder-senior"
#define CR_CAREPLAN_EXT_ENDORSER CR_CAREPLAN_SD "ucp-cpr-senior-endorser"
#define CR_CAREPLAN_EXT_CPR_REASON CR_CAREPLAN_SD "ucp-cpr-reason"
#define CR_CAREPLAN_EXT_LOCATION CR_CAREPLAN_SD "ucp-document-location"

/* Codes */
#define CR_CAREPLAN_EOL_PLAN "736373009"      /* End of life care plan */
#define CR_CAREPLAN_CPR_YES "450475007"       /* For CPR */
#define CR_CAREPLAN_CPR_NO "450476008"        /* Not for CPR */
#define CR_CAREPLAN_CPR_UNKNOWN "845151000000104" /* Not aware of a DNACPR
                                                     decision */
#define CR_CAREPLAN_ADRT_CODE "816301000000100"  /* Has ADRT (MCA 2005) */
#define CR_CAREPLAN_LPA_CODE "816361000000101"   /* Has appointed person
                                                    with personal welfare
                                                    LPA (MCA 2005) */
#define CR_CAREPLAN_TEP_CODE "735324008"      /* Treatment escalation plan */
#define CR_CAREPLAN_CEILING_SYSTEM CR_CAREPLAN_CS "ceiling-of-treatment"
#define CR_CAREPLAN_UCP_SYSTEM CR_CAREPLAN_CS "ucp"
#define CR_CAREPLAN_JIC_CODE "just-in-case-medicines"
#define CR_CAREPLAN_VALIDITY_SYSTEM CR_CAREPLAN_CS "cpr-validity"
#define CR_CAREPLAN_WITHHELD_TEXT                                          \
    "Some items of this record were withheld under the access policy; "  \
    "the organisations that recorded them can see them"
#define CR_CAREPLAN_ROLECODE                                               \
    "http://terminology.hl7.org/CodeSystem/v3-RoleCode"
#define CR_CAREPLAN_LPA_ROLE "HPOWATT"  /* healthcare power of attorney */
#define CR_CAREPLAN_CONTACT_ROLE                                           \
    "http://terminology.hl7.org/CodeSystem/v2-0131"   /* N next of kin,
                                                          C emergency
                                                          contact */
#define CR_CAREPLAN_ODS_SYSTEM                                             \
    "https://fhir.nhs.uk/Id/ods-organization-code"

/* What a resource is to a plan. */
enum cr_careplan_kind {
    CR_CAREPLAN_PLAN,       /* the CarePlan */
    CR_CAREPLAN_CPR,        /* Flag coded with a CPR decision */
    CR_CAREPLAN_ADRT,       /* Flag: has an ADRT */
    CR_CAREPLAN_LPA,        /* Flag: has a personal welfare LPA */
    CR_CAREPLAN_CONTACT,    /* RelatedPerson: key contact, next of kin or
                               attorney */
    CR_CAREPLAN_MEDICINE,   /* MedicationRequest: a just-in-case medicine */
    CR_CAREPLAN_OTHER       /* anything else (another Flag, a type the plan
                               does not hold) */
};

/* What 'res' (a parsed resource of 'type') is to a plan; OTHER for NULL. */
enum cr_careplan_kind
cr_careplan_kind_of(const char *type, const json_t *res);

/* The profile the server declares for a resource of 'kind' (NULL when
 * that kind keeps only the profiles its writer gave, e.g. contacts). */
const char *
cr_careplan_profile_of(enum cr_careplan_kind kind);

/* True when 'res' declares one of the plan's profiles in meta.profile
 * (then only $care-plan may write it). False for NULL. */
bool
cr_careplan_is_plan_resource(const json_t *res);

/* True when the stored bytes 'json' (len bytes, not NUL-terminated) are a
 * CarePlan declaring the plan's profile, with status 'active' when
 * 'is_current_only'. No parse: scans the top-level members only. */
bool
cr_careplan_text_is_plan(const char *json, size_t len, bool is_current_only);

/* ---- checking a whole plan ------------------------------------------- */

/* One resource of a plan, as the plan's references name it. */
struct cr_careplan_part {
    const char *ref;        /* "Type/id" (after the writer rewrote
                               urn:uuid references) */
    const char *type;
    const json_t *res;      /* the parsed resource; NULL: withheld or
                               unreadable (the summary says so) */
    const char *where;      /* FHIRPath to it in the request, for issues:
                               "Bundle.entry[2].resource", or for a part
                               read from the store
                               "Bundle.entry[0].resource.supportingInfo[3]
                               .resolve()" */
};

/* The part among 'parts' that Reference string 's' names: its ref
 * exactly, or an absolute URL ending in "/" + ref. NULL when none. */
const struct cr_careplan_part *
cr_careplan_find_part(const struct cr_careplan_part *parts, size_t nparts,
                      const char *s);

#define CR_CAREPLAN_MAX_ISSUES 32

/* One broken rule: an OperationOutcome issue. */
struct cr_careplan_issue {
    char code[32];          /* FHIR IssueType: required, value, invalid,
                               business-rule, not-found */
    char where[256];        /* FHIRPath of the element at fault */
    char msg[400];          /* what is wrong and what to do */
};

struct cr_careplan_issues {
    struct cr_careplan_issue item[CR_CAREPLAN_MAX_ISSUES];
    size_t n;               /* issues kept */
    size_t more;            /* issues past the limit, counted only */
};

/* Check the plan 'plan' (a CarePlan part) against every rule of
 * docs/care-plan.md, resolving its references among 'parts' (every
 * resource it refers to; a reference not among them is an issue), for the
 * patient whose Patient id is 'patient_id'. Appends one issue per broken
 * rule to 'out' (which the caller zeroes first) and returns true when the
 * plan keeps every rule. Reads only. */
bool
cr_careplan_check(const struct cr_careplan_part *plan,
                  const struct cr_careplan_part *parts, size_t nparts,
                  const char *patient_id, struct cr_careplan_issues *out);

/* ---- the emergency summary ------------------------------------------- */

/* What the summary is made of. Resources the access policy withheld are
 * simply not given (the caller counts them and adds its notice). */
struct cr_careplan_summary_in {
    const json_t *patient;          /* the Patient, or NULL */
    const char *patient_id;
    const struct cr_careplan_part *plan;    /* the current plan, or NULL */
    int64_t plan_version;
    int64_t plan_updated_ms;        /* its meta.lastUpdated */
    const struct cr_careplan_part *parts;   /* what it refers to, as far
                                               as visible */
    size_t nparts;
    const char *today;              /* YYYY-MM-DD: today's date in the
                                       UK (core/civil.h), so a decision
                                       needs review from the first moment
                                       after its review date there */
    const char *node;               /* the node that holds the plan, or
                                       NULL */
    const char *publisher;          /* the ODS code of the organisation
                                       that published it (the store's
                                       column), or NULL */
};

/* Append the "parameter" members of the summary Parameters resource
 * (docs/care-plan.md, "The emergency summary"), each preceded by ',' when
 * '*n' > 0, counting them in '*n'. Buffer errors stick in out->rc. */
void
cr_careplan_summarise(const struct cr_careplan_summary_in *in,
                      struct cr_buf *out, int *n);

/* Open a summary: '{"resourceType":"Parameters","meta":{"lastUpdated":
 * NOW},"parameter":[' with NOW the instant 'now_ms'. The caller appends
 * the parameters and closes it with "]}". Buffer errors stick. */
void
cr_careplan_summary_begin(struct cr_buf *out, int64_t now_ms);

/* Append the "withheld" parameter (items were left out under the access
 * policy), after a comma when '*n' > 0, counting it. */
void
cr_careplan_summary_withheld(struct cr_buf *out, int *n);

/* ---- the summary across nodes ---------------------------------------- */

/* One node's emergency summary (a parsed Parameters resource as
 * cr_careplan_summarise writes it), for cr_careplan_merge. */
struct cr_careplan_node_summary {
    const char *node;               /* the node's id */
    const char *base_url;           /* its FHIR base, on which the
                                       summary's relative references are
                                       made absolute; NULL or "" to keep
                                       them (this node's own summary) */
    const json_t *summary;          /* borrowed */
    bool is_local;                  /* this node's own summary */
};

struct cr_careplan_merge_in {
    const struct cr_careplan_node_summary *nodes;   /* the summaries that
                                       came back, this node's first, then
                                       the peers' in the configured order
                                       (the order breaks ties) */
    size_t nnodes;
    const char *const *unreached;   /* ids of the nodes that may hold the
                                       person's record but did not answer
                                       (failed, late, down) */
    size_t nunreached;
    bool is_partial;                /* some node refused the user, so
                                       "no plan" holds for the others
                                       only */
    const char *only_org;           /* when set (a patient objection is in
                                       force), only a plan this
                                       organisation (ODS code) published
                                       may be shown; others are withheld */
};

struct cr_careplan_merge_out {
    int chosen;                     /* index in nodes of the plan shown,
                                       -1 when none */
    int person;                     /* index of the summary the person's
                                       details came from, -1 when none */
    size_t withheld;                /* plans left out for only_org */
};

/* Write the "parameter" members of one emergency summary made from the
 * summaries of several nodes (docs/care-plan.md, "Across nodes"): the
 * person's details (this node's when it has them), hasPlan, and every
 * parameter of the node whose current plan was saved last (the latest
 * lastUpdated.when; ties go to the node given first), its relative
 * references made absolute on that node's base; "otherPlan" for each
 * other node's current plan; when no plan is shown a cprDecision that is
 * "unavailable" when a node could not be reached, else "not-recorded";
 * "incomplete" naming the nodes not reached; "withheld" when a summary
 * used had it or a plan was withheld for only_org. Parameters are
 * preceded by ',' when '*n' > 0 and counted in '*n'. '*res' says what was
 * chosen. Buffer errors stick in out->rc. Reads only its inputs. */
void
cr_careplan_merge(const struct cr_careplan_merge_in *in, struct cr_buf *out,
                  int *n, struct cr_careplan_merge_out *res);

/* ---- figures for the programme --------------------------------------- */

/* One month's plan activity (UK calendar month). */
struct cr_careplan_month {
    int year, month;            /* 2026, 1..12 */
    int64_t created;            /* plans created (first versions) */
    int64_t revised;            /* revisions saved (later versions of a
                                   current plan) */
    int64_t superseded;         /* plans replaced by a newer plan */
};

/* The store-side figures. */
struct cr_careplan_figures {
    int64_t people_with_plan;   /* patients with a current plan now */
    int64_t current_plans;      /* current plans now (one per person
                                   unless imported data had more) */
    int64_t plans;              /* plans ever created (of the period) */
    int64_t revisions;          /* revisions saved (of the period) */
    struct cr_careplan_month *months;   /* every month of the period with
                                           activity, oldest first; owned:
                                           cr_careplan_figures_free */
    size_t nmonths;
};

/* Walk every version of every CarePlan in store 's' (newest first, in
 * pages) and count, for the plans declaring the plan's profile: people
 * with a current plan (now, whatever the period), and per UK month the
 * plans created, revisions saved and plans superseded whose version was
 * written in [since_ms, until_ms) (0: no bound). The figures are exact
 * as of one walk; writes made during it may or may not be counted. On
 * success '*out' holds the figures (free them with
 * cr_careplan_figures_free); on error nothing is allocated. Cost: one
 * read of every CarePlan version (seconds for London's ~55,000 plans);
 * for reports, never on a request path. */
cr_rc
cr_careplan_figures(struct cr_store *s, int64_t since_ms, int64_t until_ms,
                    struct cr_careplan_figures *out, struct cr_err *err);

/* Free what cr_careplan_figures allocated. NULL is a no-op. */
void
cr_careplan_figures_free(struct cr_careplan_figures *f);

#endif

/* policy.h: who may see which patient data, decided over facts.
 *
 * The policy is a pure decision: it reads facts the caller gathered (the
 * verified principal, what the request claims, what the store's rows say
 * about the patient and about each resource) and answers. It runs no SQL,
 * parses no HTTP or FHIR, allocates nothing per decision and keeps no
 * state between calls, so every read path (read, vread, search matches and
 * includes, history, $everything, bundle GET entries, later federation) can
 * apply exactly the same rules at a cost of a few comparisons per item.
 *
 * Two steps per request:
 *   1. cr_policy_decide_patient: may this principal see this patient's
 *      record at all, on what basis, raising which alerts, with which
 *      fields removed. A denial names the rule (a stable code) and says in
 *      a sentence what to do.
 *   2. cr_policy_decide_item, for every resource the answer would carry:
 *      show, show with the restricted fields removed, or withhold (with the
 *      rule that withheld it, for the audit record; never for the user).
 * cr_policy_decide_directory covers requests with no patient in them
 * (Organization, Practitioner, Slot search...); cr_policy_decide_write
 * covers creates, updates and deletes.
 *
 * The rules themselves (roles, relationship window, sensitive codes,
 * emergency reasons, out-of-hours) come from a struct cr_policy built once
 * from compiled-in defaults and an optional JSON section of the node's
 * configuration. docs/access.md describes the rules for users;
 * docs/internals/policy.md the design and which facts the API gathers.
 *
 * Depends on core/err.h, core/str.h, access/principal.h and jansson (for
 * the configuration only). Thread-safety: a loaded policy is read-only;
 * every function here may be called from any number of threads at once. */
#ifndef CR_ACCESS_POLICY_H
#define CR_ACCESS_POLICY_H

#include "access/principal.h"
#include "core/err.h"
#include "core/str.h"

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* The rules of one node. Opaque, long-lived, read-only once loaded. */
struct cr_policy;

/* Limits. */
#define CR_POLICY_MAX_IDS 8         /* Patient resource ids of one person
                                       (linked records) a decision covers */
#define CR_POLICY_MAX_ROLES 64      /* entries in the role table */
#define CR_POLICY_MAX_ROLE_TYPES 48 /* resource types one role may see */
#define CR_POLICY_MAX_CODES 4096    /* sensitive / discharge-summary codes */
#define CR_POLICY_MAX_REASONS 32    /* coded emergency reasons */

/* "Still open" for a relationship's end time. */
#define CR_POLICY_OPEN INT64_MAX

/* The code system of the coded emergency reasons. */
#define CR_POLICY_EMERGENCY_SYSTEM                                         \
    "https://carerecord.example/CodeSystem/emergency-reason"

/* ---- configuration --------------------------------------------------- */

/* Build the node's policy. 'cfg' is the parsed "policy" section of the
 * node's configuration (a JSON object), or NULL for the compiled-in
 * defaults; what it gives replaces the defaults key by key (the format
 * and every key are in docs/access.md, "Configuration"): "roles" merges
 * into the default role table (a role set to null is removed), every
 * other key replaces the default outright. Unknown keys, wrong types and
 * out-of-range values are errors: CR_EINVAL with err->code "structure"
 * (unknown key), "required" (missing key) or "value", err->where the path
 * of the offending key ("policy.roles.R8000.see[2]") and a sentence
 * saying what is expected, so a typo never falls back silently.
 * CR_ENOMEM when memory runs out. On success '*out' holds a policy the
 * caller frees with cr_policy_destroy; on error '*out' is NULL. 'cfg' is
 * only read, never kept. */
cr_rc
cr_policy_load(const json_t *cfg, struct cr_policy **out, struct cr_err *err);

/* Free a policy. NULL is a no-op. No decision made with it may be used
 * afterwards (a decision refers to its role table). */
void
cr_policy_destroy(struct cr_policy *policy);

/* Days an Encounter or EpisodeOfCare (or referral, appointment) stays a
 * legitimate relationship after it ended. */
int
cr_policy_relationship_days(const struct cr_policy *policy);

/* True when 'system'|'code' is on the legally sensitive list (RCGP-style:
 * assisted fertilisation, gender reassignment, sexually transmitted
 * infections, termination of pregnancy; configurable). Exact,
 * case-sensitive match of both; a NULL or empty system or code never
 * matches. The API calls this over a resource's token index rows (code,
 * type, category, _security...) to fill cr_policy_item.is_sensitive. A
 * binary search; no allocation. */
bool
cr_policy_is_sensitive_code(const struct cr_policy *policy,
                            const char *system, const char *code);

/* True when 'system'|'code' marks a document as a discharge summary
 * (default SNOMED CT 373942005 "Discharge summary" and LOINC 18842-5
 * "Discharge summary"; configurable). Same matching as above; the API
 * calls it over Composition.type / DocumentReference.type rows to fill
 * cr_policy_item.is_discharge_summary. */
bool
cr_policy_is_discharge_summary_code(const struct cr_policy *policy,
                                    const char *system, const char *code);

/* The sensitive list, for callers that push the match into a query: sets
 * '*out_systems' and '*out_codes' to parallel arrays (sorted by code, then
 * system) of the returned length. They live as long as 'policy'. */
size_t
cr_policy_sensitive_codes(const struct cr_policy *policy,
                          const char *const **out_systems,
                          const char *const **out_codes);

/* The discharge-summary list, the same way. */
size_t
cr_policy_discharge_codes(const struct cr_policy *policy,
                          const char *const **out_systems,
                          const char *const **out_codes);

/* The display text of emergency reason 'code' (e.g. "life-threatening"),
 * or NULL when it is not a configured reason. Lives as long as 'policy'. */
const char *
cr_policy_emergency_reason(const struct cr_policy *policy,
                           struct cr_str code);

/* What a security label means to the policy (bits CR_POLICY_LABEL_*), for
 * filling facts from meta.security index rows (search parameter
 * _security). Fixed, not configurable:
 *   v3-Confidentiality R or V           -> RESTRICTED (on a Patient)
 *   v3-ActCode NOPAT                    -> NOT_FOR_PATIENT (on any item)
 *   v3-ActCode NOVIP                    -> FLAGGED (on a Patient: VIP)
 * where v3-X is "http://terminology.hl7.org/CodeSystem/v3-X". Anything
 * else (or NULL) gives 0. */
#define CR_POLICY_LABEL_RESTRICTED 0x1u
#define CR_POLICY_LABEL_NOT_FOR_PATIENT 0x2u
#define CR_POLICY_LABEL_FLAGGED 0x4u

unsigned
cr_policy_security_label(const char *system, const char *code);

/* ---- facts ----------------------------------------------------------- */

/* How an organisation comes to be caring for the patient. */
enum cr_policy_rel_kind {
    CR_POLICY_REL_ENCOUNTER,    /* Encounter.serviceProvider */
    CR_POLICY_REL_EPISODE,      /* EpisodeOfCare.managingOrganization */
    CR_POLICY_REL_REFERRAL,     /* ServiceRequest requester or performer */
    CR_POLICY_REL_APPOINTMENT   /* Appointment with the organisation */
};

/* One care relationship between an organisation and the patient. */
struct cr_policy_rel {
    const char *org;                 /* ODS code (borrowed) */
    enum cr_policy_rel_kind kind;
    int64_t end_ms;                  /* when it ended (ms since the epoch);
                                        CR_POLICY_OPEN while open, or a
                                        time in the future (a booked
                                        appointment) */
};

/* Facts about one patient, gathered by the caller from the store (see
 * docs/internals/policy.md for which rows give which field). Every
 * pointer is borrowed for the duration of the decide call only; NULL
 * strings count as empty, NULL arrays as empty when their count is 0. */
struct cr_policy_patient {
    const char *const *ids;          /* compartment ids: the Patient
                                        resource id(s) of this person on
                                        this node (linked records); items
                                        of any other compartment are
                                        withheld. At most CR_POLICY_MAX_IDS
                                        are used */
    size_t n_ids;
    const char *nhs_number;          /* ten digits, or NULL when unknown */
    const char *const *gp_orgs;      /* ODS codes of the registered GP
                                        practice(s) */
    size_t n_gp_orgs;
    const struct cr_policy_rel *rels;  /* care relationships, any order */
    size_t n_rels;
    bool has_objection;              /* an active Consent denying sharing
                                        for direct care */
    const char *objection_org;       /* ODS code of the organisation that
                                        recorded it (for the audit) */
    bool is_restricted;              /* Patient.meta.security R (or V) */
    bool is_flagged;                 /* VIP / flagged record */
    const char *surname;             /* official family name, for the
                                        same-surname alert; may be NULL */
    const char *postcode;            /* home postcode, for the
                                        same-address alert; may be NULL */
};

/* Facts about one request. */
struct cr_policy_request {
    const struct cr_principal *principal;  /* verified token; not NULL */
    struct cr_str access_reason;     /* the X-Access-Reason header, or
                                        empty: then principal->reason is
                                        used. Syntax in cr_policy_parse_claim */
    struct cr_str supervisor;        /* the X-Supervisor header: the SDS
                                        user id of the supervising
                                        clinician (students), or empty */
    const char *surname;             /* the principal's own family name, if
                                        known (Practitioner whose
                                        sds-user-id is principal->sub);
                                        may be NULL */
    const char *postcode;            /* the principal's home postcode, if
                                        known; may be NULL */
    int64_t now_ms;                  /* the request's time */
};

/* Facts about one resource version the answer might carry. Strings are
 * borrowed for the call only; NULL counts as empty. */
struct cr_policy_item {
    const char *type;                /* resource type, "Observation" */
    const char *org;                 /* publishing organisation (ODS) */
    const char *patient;             /* compartment patient id; empty for
                                        resources in no patient compartment
                                        (Organization, Practitioner...) */
    bool is_sensitive;               /* any code on the sensitive list */
    bool is_not_for_patient;         /* meta.security NOPAT */
    bool is_discharge_summary;       /* type code on the discharge list */
};

/* ---- reasons: how a relationship is claimed -------------------------- */

enum cr_policy_claim_kind {
    CR_POLICY_CLAIM_NONE = 0,        /* nothing claimed */
    CR_POLICY_CLAIM_SELF,            /* "self-claimed: <text>" */
    CR_POLICY_CLAIM_EMERGENCY,       /* "emergency: <code> [<text>]" */
    CR_POLICY_CLAIM_INVALID          /* present but not in either form */
};

/* A parsed claim; 'code' and 'text' point into the parsed string. */
struct cr_policy_claim {
    enum cr_policy_claim_kind kind;
    struct cr_str code;              /* emergency: the reason code */
    struct cr_str text;              /* the free text, trimmed */
};

/* Parse a reason as carried by the X-Access-Reason header or the token's
 * "reason" claim:
 *   self-claimed: <text>            e.g. "self-claimed: covering ward 5"
 *   emergency: <code> [<text>]      e.g. "emergency: life-threatening
 *                                         unconscious in A&E"
 * The prefix is case-insensitive; spaces around parts are ignored. Empty
 * (or all-space) input gives CLAIM_NONE; anything else not in these forms
 * gives CLAIM_INVALID. Whether the text is non-empty and the code is a
 * configured reason is checked by the decision, not here. Returns
 * out->kind. No allocation; 'in' need not be NUL-terminated. */
enum cr_policy_claim_kind
cr_policy_parse_claim(struct cr_str in, struct cr_policy_claim *out);

/* ---- decisions ------------------------------------------------------- */

/* Why access to a patient was granted. */
enum cr_policy_basis {
    CR_POLICY_BASIS_NONE = 0,        /* denied */
    CR_POLICY_BASIS_REGISTERED_GP,   /* principal's org is the GP practice */
    CR_POLICY_BASIS_RELATIONSHIP,    /* open or recent care relationship */
    CR_POLICY_BASIS_SELF_CLAIMED,    /* stated with a reason (alerts) */
    CR_POLICY_BASIS_EMERGENCY,       /* break glass, coded reason (alerts) */
    CR_POLICY_BASIS_PATIENT,         /* a patient reading their own record */
    CR_POLICY_BASIS_SYSTEM,          /* a source system: own org's data */
    CR_POLICY_BASIS_DIRECTORY        /* no patient: directory data only */
};

/* The rule that denied. Each has a stable code (cr_policy_deny_code). */
enum cr_policy_deny {
    CR_POLICY_DENY_NONE = 0,
    CR_POLICY_DENY_PURPOSE,          /* "purpose-not-permitted" */
    CR_POLICY_DENY_ROLE,             /* "role-not-permitted" */
    CR_POLICY_DENY_OTHER_PATIENT,    /* "patient-access-other-patient" */
    CR_POLICY_DENY_NO_RELATIONSHIP,  /* "no-relationship" */
    CR_POLICY_DENY_REASON_REQUIRED,  /* "reason-required" */
    CR_POLICY_DENY_REASON_INVALID,   /* "reason-invalid" */
    CR_POLICY_DENY_EMERGENCY_PURPOSE, /* "emergency-purpose-required" */
    CR_POLICY_DENY_CLAIM,            /* "claim-not-permitted" */
    CR_POLICY_DENY_SUPERVISOR,       /* "supervisor-required" */
    CR_POLICY_DENY_TYPE              /* "type-not-permitted" */
};

/* Alert flags: signals for the privacy officer, recorded in the audit
 * record of the request. */
#define CR_POLICY_ALERT_SELF_CLAIMED 0x001u
#define CR_POLICY_ALERT_EMERGENCY 0x002u
#define CR_POLICY_ALERT_SAME_SURNAME 0x004u
#define CR_POLICY_ALERT_SAME_ADDRESS 0x008u
#define CR_POLICY_ALERT_RESTRICTED 0x010u
#define CR_POLICY_ALERT_FLAGGED 0x020u
#define CR_POLICY_ALERT_OUT_OF_HOURS 0x040u
#define CR_POLICY_ALERT_OBJECTION_OVERRIDDEN 0x080u
#define CR_POLICY_ALERT_STUDENT 0x100u
#define CR_POLICY_ALERT_ALL 0x1ffu

/* The answer for one principal and one patient (or no patient). A plain
 * value: it lives on the caller's stack or in the request arena and holds
 * no pointer into the request or the facts, only into 'policy' (so it must
 * not outlive the policy). Fields below 'priv' are read by callers; 'priv'
 * is private by rule. */
struct cr_policy_decision {
    bool is_allowed;
    enum cr_policy_deny deny;        /* CR_POLICY_DENY_NONE when allowed */
    const char *code;                /* the deny code, "" when allowed */
    char msg[512];                   /* for a denial: which rule, and what
                                        to do about it; "" when allowed */
    enum cr_policy_basis basis;      /* NONE when denied */
    unsigned alerts;                 /* CR_POLICY_ALERT_* */
    bool is_redacted;                /* restricted patient, principal's org
                                        not caring for them: Patient items
                                        from other orgs come back as
                                        CR_POLICY_SHOW_REDACTED (remove
                                        address, telecom and
                                        generalPractitioner) */
    bool is_filtered;                /* a patient objection is in force:
                                        other organisations' items are
                                        withheld */
    enum cr_policy_claim_kind claim; /* the claim as parsed; its text is
                                        the request's (the audit record
                                        takes it from there), not copied
                                        into every person's decision */
    char supervisor[128];            /* students: the supervisor named */
    char objection_org[32];          /* who recorded the objection, or "" */
    struct {
        const struct cr_policy *policy;
        int role;                    /* index in the role table, or -1 */
        unsigned flags;
        char org[32];
        size_t n_ids;
        char ids[CR_POLICY_MAX_IDS][65];
    } priv;
};

/* May 'req' see the record of the patient described by 'patient'? Fills
 * '*out' completely (it need not be initialised). The rules, in order
 * (docs/access.md has them in words):
 *  - purpose research or audit: denied (purpose-not-permitted);
 *  - purpose patient-access: allowed only when the token's patient claim
 *    equals patient->nhs_number (else patient-access-other-patient);
 *  - purpose system: allowed; items are then limited to the principal's
 *    own organisation's;
 *  - purpose direct-care or emergency: the role must be in the table
 *    (role-not-permitted); then a relationship: registered GP practice,
 *    or a relationship open or ended no more than relationship_days ago;
 *    without one a valid self-claimed reason (direct-care) allows with an
 *    alert, else no-relationship. Purpose emergency always needs a coded
 *    reason and always alerts. Supervised roles (students) need a
 *    supervisor and an actual relationship (no claims).
 * Identity alerts (same surname, same address, restricted, flagged,
 * out-of-hours) are computed for every direct-care and emergency request,
 * allowed or not. Never fails: bad or missing facts deny. Thread-safe. */
void
cr_policy_decide_patient(const struct cr_policy *policy,
                         const struct cr_policy_request *req,
                         const struct cr_policy_patient *patient,
                         struct cr_policy_decision *out);

/* A decision for a request that names no patient (reads of Organization,
 * Practitioner, Location, Slot...). Allowed for direct-care and emergency
 * with a known role, for patient-access and for system (own-org items
 * only); denied for audit and research. Items in a patient compartment are
 * withheld under it, so _revinclude and chaining cannot reach patient data
 * this way. Fills '*out' completely. Thread-safe. */
void
cr_policy_decide_directory(const struct cr_policy *policy,
                           const struct cr_policy_request *req,
                           struct cr_policy_decision *out);

/* May 'req' create, update or delete a resource of 'type' belonging to the
 * patient 'patient' (NULL: a resource in no patient compartment, or a new
 * Patient not yet on file)? The API stamps every write with the
 * principal's organisation, so "own organisation" needs no check here.
 *  - system: allowed;
 *  - research, audit, emergency: denied (purpose-not-permitted);
 *  - patient-access: own record only, and only Appointment, Communication,
 *    Consent, Observation, QuestionnaireResponse (type-not-permitted);
 *  - direct-care: the role must be allowed to write (students are not) and
 *    to see 'type'; with a patient, the same relationship rules and alerts
 *    as cr_policy_decide_patient.
 * Fills '*out' completely. Thread-safe. */
void
cr_policy_decide_write(const struct cr_policy *policy,
                       const struct cr_policy_request *req,
                       const struct cr_policy_patient *patient,
                       const char *type, struct cr_policy_decision *out);

/* What to do with one item. */
enum cr_policy_show {
    CR_POLICY_SHOW = 0,
    CR_POLICY_SHOW_REDACTED,         /* a Patient: serve it without
                                        address, telecom and
                                        generalPractitioner */
    CR_POLICY_WITHHOLD
};

/* Why an item was withheld (for the audit record; users are only told
 * that some items were withheld, never which or why). */
enum cr_policy_withhold {
    CR_POLICY_WITHHOLD_NONE = 0,
    CR_POLICY_WITHHOLD_DENIED,       /* the decision was a denial */
    CR_POLICY_WITHHOLD_OTHER_PATIENT, /* item of a patient the decision does
                                        not cover */
    CR_POLICY_WITHHOLD_SENSITIVE,    /* sensitive code, other org's item */
    CR_POLICY_WITHHOLD_ROLE,         /* the role may not see this type */
    CR_POLICY_WITHHOLD_NOT_FOR_PATIENT, /* NOPAT item, patient principal */
    CR_POLICY_WITHHOLD_ORGANISATION, /* system principal, other org's item */
    CR_POLICY_WITHHOLD_OBJECTION     /* patient objection, other org */
};

/* Show, redact or withhold 'item' under decision 'd' (made with
 * 'policy'). Used for every resource of every read path. The first rule
 * that applies wins:
 *   denied decision -> WITHHOLD (denied)
 *   item in another patient's compartment (or any patient's, under a
 *     directory decision) -> WITHHOLD (other-patient)
 *   sensitive and not published by the principal's org -> WITHHOLD
 *     (sensitive), whatever the purpose, emergency included
 *   a patient item of a type the role may not see -> WITHHOLD (role)
 *   patient principal and not-for-patient -> WITHHOLD (not-for-patient)
 *   system principal and another org's item -> WITHHOLD (organisation)
 *   objection in force, another org's patient item other than the
 *     Patient itself -> WITHHOLD (objection)
 *   a Patient from another org under a redacting decision -> SHOW_REDACTED
 *   otherwise SHOW.
 * '*out_reason' (may be NULL) gets the reason, NONE when shown. A few
 * string comparisons, no allocation. Thread-safe. */
enum cr_policy_show
cr_policy_decide_item(const struct cr_policy *policy,
                      const struct cr_policy_decision *d,
                      const struct cr_policy_item *item,
                      enum cr_policy_withhold *out_reason);

/* The one organisation whose items 'd' may show, when it shows no other
 * organisation's (a source system sees only its own data), else NULL.
 * Every item of another organisation is then withheld
 * (CR_POLICY_WITHHOLD_ORGANISATION) whatever it holds, so a search may
 * read only that organisation's rows. Items of that organisation are
 * still each decided by cr_policy_decide_item. */
const char *
cr_policy_only_org(const struct cr_policy_decision *d);

/* False when no item of 'type' in a patient compartment could ever be
 * shown under 'd' (a denial, or a type outside the role's view), so the
 * API can refuse "Observation?patient=X" from a receptionist with 403
 * role-not-permitted up front instead of answering an empty page. True
 * does not promise that any item will be shown. */
bool
cr_policy_type_permitted(const struct cr_policy *policy,
                         const struct cr_policy_decision *d,
                         const char *type);

/* ---- names ----------------------------------------------------------- */

/* Stable lower-case names, for OperationOutcomes, audit records and tests.
 * Static strings; unknown values give "unknown". */
const char *
cr_policy_deny_code(enum cr_policy_deny deny);

const char *
cr_policy_basis_name(enum cr_policy_basis basis);

const char *
cr_policy_withhold_name(enum cr_policy_withhold reason);

/* The name of one alert bit ("self-claimed", "emergency", "same-surname",
 * "same-address", "restricted", "flagged", "out-of-hours",
 * "objection-overridden", "student"); "unknown" for anything else. */
const char *
cr_policy_alert_name(unsigned alert);

/* Write the names of the bits set in 'alerts', comma-separated in bit
 * order ("self-claimed,out-of-hours"), into 'out' ('size' bytes, always
 * NUL-terminated, truncated to fit). Returns the length written. */
size_t
cr_policy_alert_names(unsigned alerts, char *out, size_t size);

/* True when 'ms' (since the epoch) falls in the configured out-of-hours
 * window (default 20:00-08:00 on weekdays and all weekend, Europe/London
 * local time). */
bool
cr_policy_is_out_of_hours(const struct cr_policy *policy, int64_t ms);

#endif

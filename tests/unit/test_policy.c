/* test_policy.c: the access policy: configuration, the patient-level
 * decision, the per-item decision, directory and write decisions, reasons,
 * alerts and local time.
 *
 * The heart is a matrix: every default role (and an unknown one) x every
 * relationship state (registered GP, recent encounter, encounter beyond
 * the window, none, self-claimed, emergency) x objection (none, recorded
 * by the principal's organisation, by another) x restricted record, then
 * patient principals (own record, another's) and system principals, each
 * with a fixed set of items (own and other organisations', sensitive,
 * not-for-patient, discharge summaries, another patient's, a directory
 * resource). The expected answers are written out by hand in tables below:
 * one table for the patient-level decision per role class and state, one
 * for the items per view; objection and restriction are applied on top of
 * them by the two documented overlay rules, so each expectation can be read
 * off the tables. */
#include "unit.h"

#include "access/policy.h"
#include "access/principal.h"
#include "core/clock.h"
#include "core/err.h"

#include <jansson.h>
#include <stdarg.h>
#include <stdint.h>
#include <time.h>

#define DAY_MS INT64_C(86400000)
#define SCT "http://snomed.info/sct"

/* ---- helpers ---------------------------------------------------------- */

static struct cr_policy *
load(const char *json)
{
    struct cr_policy *p = NULL;
    struct cr_err err = { 0 };
    json_t *cfg = NULL;
    cr_rc rc;

    if (json != NULL) {
        json_error_t jerr;
        cfg = json_loads(json, 0, &jerr);
        if (cfg == NULL)
            cr_unit_fail(__FILE__, __LINE__, "bad test JSON: %s", jerr.text);
    }
    rc = cr_policy_load(cfg, &p, &err);
    json_decref(cfg);
    if (rc != CR_OK)
        cr_unit_fail(__FILE__, __LINE__, "cr_policy_load: %s: %s (%s)",
                     cr_rc_name(rc), err.msg, err.where);
    return p;
}

/* Load 'json' expecting failure; returns the error. */
static struct cr_err
load_bad(const char *json)
{
    struct cr_policy *p = (struct cr_policy *)1;
    struct cr_err err = { 0 };
    json_error_t jerr;
    json_t *cfg = json_loads(json, JSON_DECODE_ANY, &jerr);
    cr_rc rc;

    if (cfg == NULL)
        cr_unit_fail(__FILE__, __LINE__, "bad test JSON: %s", jerr.text);
    rc = cr_policy_load(cfg, &p, &err);
    json_decref(cfg);
    if (rc != CR_EINVAL || p != NULL)
        cr_unit_fail(__FILE__, __LINE__, "expected CR_EINVAL for %s, got %s",
                     json, cr_rc_name(rc));
    return err;
}

/* Milliseconds since the epoch of a UTC civil time. */
static int64_t
utc_ms(int y, int mo, int d, int h, int mi)
{
    struct tm tm = { 0 };
    tm.tm_year = y - 1900;
    tm.tm_mon = mo - 1;
    tm.tm_mday = d;
    tm.tm_hour = h;
    tm.tm_min = mi;
    return (int64_t)timegm(&tm) * 1000;
}

/* Wednesday 11 March 2026, 11:00 GMT: in hours. */
#define NOW utc_ms(2026, 3, 11, 11, 0)

static struct cr_principal
principal(const char *org, const char *role, const char *purpose)
{
    struct cr_principal p;
    memset(&p, 0, sizeof p);
    snprintf(p.sub, sizeof p.sub, "user-1");
    snprintf(p.name, sizeof p.name, "Dr Test User");
    snprintf(p.org, sizeof p.org, "%s", org);
    snprintf(p.role, sizeof p.role, "%s", role);
    snprintf(p.purpose, sizeof p.purpose, "%s", purpose);
    return p;
}

static struct cr_policy_request
request(const struct cr_principal *p, const char *reason)
{
    struct cr_policy_request r;
    memset(&r, 0, sizeof r);
    r.principal = p;
    r.access_reason = cr_str_c(reason);
    r.now_ms = NOW;
    return r;
}

static const char *
alerts_str(unsigned a)
{
    static char buf[4][256];
    static int i;
    char *b = buf[i++ % 4];
    cr_policy_alert_names(a, b, 256);
    return b;
}

static const char *
show_str(enum cr_policy_show s, enum cr_policy_withhold w)
{
    if (s == CR_POLICY_SHOW)
        return w == CR_POLICY_WITHHOLD_NONE ? "show" : "show?";
    if (s == CR_POLICY_SHOW_REDACTED)
        return w == CR_POLICY_WITHHOLD_NONE ? "redact" : "redact?";
    return cr_policy_withhold_name(w);
}

static const char *
item_decide(const struct cr_policy *pol, const struct cr_policy_decision *d,
            const struct cr_policy_item *it)
{
    enum cr_policy_withhold w = CR_POLICY_WITHHOLD_SENSITIVE; /* must be set */
    enum cr_policy_show s = cr_policy_decide_item(pol, d, it, &w);
    return show_str(s, w);
}

/* A check that names the matrix cell it failed in. */
static char cell[512];

#define MCHECK_STR(a, b)                                                   \
    do {                                                                   \
        const char *a_ = (a), *b_ = (b);                                   \
        if (strcmp(a_, b_) != 0)                                           \
            cr_unit_fail(__FILE__, __LINE__, "[%s] %s: \"%s\" != \"%s\"",  \
                         cell, #a, a_, b_);                                \
    } while (0)

#define MCHECK(cond)                                                       \
    do {                                                                   \
        if (!(cond))                                                       \
            cr_unit_fail(__FILE__, __LINE__, "[%s] CHECK(%s)", cell,       \
                         #cond);                                           \
    } while (0)

/* ---- the matrix: facts ------------------------------------------------ */

#define GP_ORG "A81001"     /* the registered GP practice */
#define RECENT_ORG "RR8"    /* encounter ended 10 days ago */
#define OLD_ORG "RJ1"       /* episode of care ended 200 days ago */
#define NONE_ORG "RAS"      /* never cared for the patient */
#define OTHER_ORG "RQM"     /* publishes the "other" items; never asks */

enum state { S_GP, S_RECENT, S_OLD, S_NONE, S_SELF, S_EMERGENCY, S_N };

static const char *const state_name[S_N] = {
    "registered-gp", "recent-encounter", "old-encounter",
    "none",          "self-claimed",     "emergency",
};
static const char *const state_org[S_N] = {
    GP_ORG, RECENT_ORG, OLD_ORG, NONE_ORG, NONE_ORG, NONE_ORG,
};
static const char *const state_purpose[S_N] = {
    "direct-care", "direct-care", "direct-care",
    "direct-care", "direct-care", "emergency",
};
static const char *const state_reason[S_N] = {
    NULL, NULL, NULL, NULL,
    "self-claimed: covering for a colleague on ward 5",
    "emergency: life-threatening collapsed in the street",
};

enum objection { O_NONE, O_BY_OWN, O_BY_OTHER, O_N };
static const char *const objection_name[O_N] = { "none", "by-own-org",
                                                 "by-other-org" };

struct patient_fx {
    const char *ids[2];
    const char *gps[1];
    struct cr_policy_rel rels[2];
    struct cr_policy_patient pt;
};

static void
patient_fx(struct patient_fx *fx, enum objection obj, const char *own_org,
           bool is_restricted)
{
    memset(fx, 0, sizeof *fx);
    fx->ids[0] = "pat1";
    fx->ids[1] = "pat1b";   /* a linked second record of the same person */
    fx->gps[0] = GP_ORG;
    fx->rels[0] = (struct cr_policy_rel){ RECENT_ORG, CR_POLICY_REL_ENCOUNTER,
                                          NOW - 10 * DAY_MS };
    fx->rels[1] = (struct cr_policy_rel){ OLD_ORG, CR_POLICY_REL_EPISODE,
                                          NOW - 200 * DAY_MS };
    fx->pt.ids = fx->ids;
    fx->pt.n_ids = 2;
    fx->pt.nhs_number = "9912003888";
    fx->pt.gp_orgs = fx->gps;
    fx->pt.n_gp_orgs = 1;
    fx->pt.rels = fx->rels;
    fx->pt.n_rels = 2;
    fx->pt.has_objection = obj != O_NONE;
    fx->pt.objection_org = obj == O_BY_OWN     ? own_org
                           : obj == O_BY_OTHER ? OTHER_ORG
                                               : NULL;
    fx->pt.is_restricted = is_restricted;
    fx->pt.surname = "Okafor";
    fx->pt.postcode = "E1 6AN";
}

/* The items every cell is checked against, relative to the principal's
 * organisation P ("own") and OTHER_ORG ("other"). */
enum item_id {
    I_PAT_OTHER,      /* Patient, other org */
    I_PAT_OWN,        /* Patient (linked record pat1b), own org */
    I_OBS_OTHER,      /* Observation, other org */
    I_OBS_OWN,        /* Observation, own org */
    I_SENS_OWN,       /* sensitive Condition, own org */
    I_SENS_OTHER,     /* sensitive Procedure, other org */
    I_RP_OTHER,       /* RelatedPerson (a care-plan contact), other org */
    I_APPT_OTHER,     /* Appointment, other org */
    I_DS_OTHER,       /* Composition, discharge summary, other org */
    I_COMP_OTHER,     /* Composition, not a discharge summary */
    I_DRDS_OTHER,     /* DocumentReference, discharge summary */
    I_CP_OTHER,       /* CarePlan */
    I_FLAG_OTHER,     /* Flag */
    I_NOPAT_OTHER,    /* Observation marked not-for-patient */
    I_OTHER_PATIENT,  /* Observation of another patient, own org */
    I_PRAC_OTHER,     /* Practitioner: in no compartment */
    I_GOAL_OTHER,     /* Goal */
    I_N
};

struct item_def {
    const char *name;
    const char *type;
    bool is_own;
    const char *patient;
    bool is_sensitive, is_nopat, is_ds;
};

static const struct item_def items[I_N] = {
    [I_PAT_OTHER] = { "Patient/other", "Patient", false, "pat1" },
    [I_PAT_OWN] = { "Patient/own", "Patient", true, "pat1b" },
    [I_OBS_OTHER] = { "Observation/other", "Observation", false, "pat1" },
    [I_OBS_OWN] = { "Observation/own", "Observation", true, "pat1" },
    [I_SENS_OWN] = { "Condition/sensitive-own", "Condition", true, "pat1",
                     true },
    [I_SENS_OTHER] = { "Procedure/sensitive-other", "Procedure", false,
                       "pat1", true },
    [I_RP_OTHER] = { "RelatedPerson/other", "RelatedPerson", false, "pat1" },
    [I_APPT_OTHER] = { "Appointment/other", "Appointment", false, "pat1" },
    [I_DS_OTHER] = { "Composition/discharge", "Composition", false, "pat1",
                     false, false, true },
    [I_COMP_OTHER] = { "Composition/other", "Composition", false, "pat1" },
    [I_DRDS_OTHER] = { "DocumentReference/discharge", "DocumentReference",
                       false, "pat1", false, false, true },
    [I_CP_OTHER] = { "CarePlan/other", "CarePlan", false, "pat1" },
    [I_FLAG_OTHER] = { "Flag/other", "Flag", false, "pat1" },
    [I_NOPAT_OTHER] = { "Observation/nopat", "Observation", false, "pat1",
                        false, true },
    [I_OTHER_PATIENT] = { "Observation/pat2", "Observation", true, "pat2" },
    [I_PRAC_OTHER] = { "Practitioner/other", "Practitioner", false, "" },
    [I_GOAL_OTHER] = { "Goal/other", "Goal", false, "pat1" },
};

static struct cr_policy_item
item_of(enum item_id i, const char *own_org)
{
    const struct item_def *d = &items[i];
    struct cr_policy_item it = { 0 };
    it.type = d->type;
    it.org = d->is_own ? own_org : OTHER_ORG;
    it.patient = d->patient;
    it.is_sensitive = d->is_sensitive;
    it.is_not_for_patient = d->is_nopat;
    it.is_discharge_summary = d->is_ds;
    return it;
}

/* ---- the matrix: expected answers ------------------------------------ */

enum role_class {
    C_CLIN, C_STUDENT, C_STUDENT_NOSUP, C_ADMIN, C_SOCIAL, C_UNKNOWN, C_N
};

static const struct {
    const char *role;
    enum role_class cls;
} matrix_roles[] = {
    { "R8000", C_CLIN },    { "R8001", C_CLIN },
    { "R8003", C_CLIN },    { "R8004", C_STUDENT },
    { "R8004", C_STUDENT_NOSUP },
    { "R8008", C_ADMIN },   { "R8009", C_ADMIN },
    { "R8010", C_ADMIN },   { "R8014", C_SOCIAL },
    { "R9999", C_UNKNOWN },
};

static const char *const class_name[C_N] = {
    "clinical", "student", "student-without-supervisor", "admin",
    "social-worker", "unknown-role",
};

struct expect {
    const char *code;               /* deny code, "" when allowed */
    enum cr_policy_basis basis;
    unsigned alerts;                /* besides the identity alerts */
};

#define ALLOW(b, a) { "", CR_POLICY_BASIS_##b, a }
#define DENY(c) { c, CR_POLICY_BASIS_NONE, 0 }
#define SELF CR_POLICY_ALERT_SELF_CLAIMED
#define EMERG CR_POLICY_ALERT_EMERGENCY
#define STUD CR_POLICY_ALERT_STUDENT

static const struct expect patient_table[C_N][S_N] = {
    [C_CLIN] = {
        [S_GP] = ALLOW(REGISTERED_GP, 0),
        [S_RECENT] = ALLOW(RELATIONSHIP, 0),
        [S_OLD] = DENY("no-relationship"),
        [S_NONE] = DENY("no-relationship"),
        [S_SELF] = ALLOW(SELF_CLAIMED, SELF),
        [S_EMERGENCY] = ALLOW(EMERGENCY, EMERG),
    },
    [C_STUDENT] = {
        [S_GP] = ALLOW(REGISTERED_GP, STUD),
        [S_RECENT] = ALLOW(RELATIONSHIP, STUD),
        [S_OLD] = DENY("no-relationship"),
        [S_NONE] = DENY("no-relationship"),
        [S_SELF] = DENY("no-relationship"),
        [S_EMERGENCY] = DENY("claim-not-permitted"),
    },
    [C_STUDENT_NOSUP] = {
        [S_GP] = DENY("supervisor-required"),
        [S_RECENT] = DENY("supervisor-required"),
        [S_OLD] = DENY("supervisor-required"),
        [S_NONE] = DENY("supervisor-required"),
        [S_SELF] = DENY("supervisor-required"),
        [S_EMERGENCY] = DENY("claim-not-permitted"),
    },
    [C_ADMIN] = {
        [S_GP] = ALLOW(REGISTERED_GP, 0),
        [S_RECENT] = ALLOW(RELATIONSHIP, 0),
        [S_OLD] = DENY("no-relationship"),
        [S_NONE] = DENY("no-relationship"),
        [S_SELF] = ALLOW(SELF_CLAIMED, SELF),
        [S_EMERGENCY] = DENY("claim-not-permitted"),
    },
    [C_SOCIAL] = {
        [S_GP] = ALLOW(REGISTERED_GP, 0),
        [S_RECENT] = ALLOW(RELATIONSHIP, 0),
        [S_OLD] = DENY("no-relationship"),
        [S_NONE] = DENY("no-relationship"),
        [S_SELF] = ALLOW(SELF_CLAIMED, SELF),
        [S_EMERGENCY] = ALLOW(EMERGENCY, EMERG),
    },
    [C_UNKNOWN] = {
        [S_GP] = DENY("role-not-permitted"),
        [S_RECENT] = DENY("role-not-permitted"),
        [S_OLD] = DENY("role-not-permitted"),
        [S_NONE] = DENY("role-not-permitted"),
        [S_SELF] = DENY("role-not-permitted"),
        [S_EMERGENCY] = DENY("role-not-permitted"),
    },
};

/* What each view shows, with no objection and no restriction. "show", or
 * the withhold reason. */
enum view { V_FULL, V_ADMIN, V_SOCIAL, V_PATIENT, V_SYSTEM, V_N };

static const char *const item_table[V_N][I_N] = {
    [V_FULL] = {
        [I_PAT_OTHER] = "show", [I_PAT_OWN] = "show",
        [I_OBS_OTHER] = "show", [I_OBS_OWN] = "show",
        [I_SENS_OWN] = "show", [I_SENS_OTHER] = "sensitive",
        [I_RP_OTHER] = "show", [I_APPT_OTHER] = "show",
        [I_DS_OTHER] = "show", [I_COMP_OTHER] = "show",
        [I_DRDS_OTHER] = "show", [I_CP_OTHER] = "show",
        [I_FLAG_OTHER] = "show", [I_NOPAT_OTHER] = "show",
        [I_OTHER_PATIENT] = "other-patient", [I_PRAC_OTHER] = "show",
        [I_GOAL_OTHER] = "show",
    },
    [V_ADMIN] = {
        [I_PAT_OTHER] = "show", [I_PAT_OWN] = "show",
        [I_OBS_OTHER] = "role", [I_OBS_OWN] = "role",
        [I_SENS_OWN] = "role", [I_SENS_OTHER] = "sensitive",
        [I_RP_OTHER] = "show", [I_APPT_OTHER] = "show",
        [I_DS_OTHER] = "role", [I_COMP_OTHER] = "role",
        [I_DRDS_OTHER] = "role", [I_CP_OTHER] = "role",
        [I_FLAG_OTHER] = "role", [I_NOPAT_OTHER] = "role",
        [I_OTHER_PATIENT] = "other-patient", [I_PRAC_OTHER] = "show",
        [I_GOAL_OTHER] = "role",
    },
    [V_SOCIAL] = {
        [I_PAT_OTHER] = "show", [I_PAT_OWN] = "show",
        [I_OBS_OTHER] = "role", [I_OBS_OWN] = "role",
        [I_SENS_OWN] = "role", [I_SENS_OTHER] = "sensitive",
        [I_RP_OTHER] = "show", [I_APPT_OTHER] = "role",
        [I_DS_OTHER] = "show", [I_COMP_OTHER] = "role",
        [I_DRDS_OTHER] = "show", [I_CP_OTHER] = "show",
        [I_FLAG_OTHER] = "show", [I_NOPAT_OTHER] = "role",
        [I_OTHER_PATIENT] = "other-patient", [I_PRAC_OTHER] = "show",
        [I_GOAL_OTHER] = "show",
    },
    [V_PATIENT] = {
        [I_PAT_OTHER] = "show", [I_PAT_OWN] = "show",
        [I_OBS_OTHER] = "show", [I_OBS_OWN] = "show",
        [I_SENS_OWN] = "show", [I_SENS_OTHER] = "sensitive",
        [I_RP_OTHER] = "show", [I_APPT_OTHER] = "show",
        [I_DS_OTHER] = "show", [I_COMP_OTHER] = "show",
        [I_DRDS_OTHER] = "show", [I_CP_OTHER] = "show",
        [I_FLAG_OTHER] = "show", [I_NOPAT_OTHER] = "not-for-patient",
        [I_OTHER_PATIENT] = "other-patient", [I_PRAC_OTHER] = "show",
        [I_GOAL_OTHER] = "show",
    },
    [V_SYSTEM] = {
        [I_PAT_OTHER] = "organisation", [I_PAT_OWN] = "show",
        [I_OBS_OTHER] = "organisation", [I_OBS_OWN] = "show",
        [I_SENS_OWN] = "show", [I_SENS_OTHER] = "sensitive",
        [I_RP_OTHER] = "organisation", [I_APPT_OTHER] = "organisation",
        [I_DS_OTHER] = "organisation", [I_COMP_OTHER] = "organisation",
        [I_DRDS_OTHER] = "organisation", [I_CP_OTHER] = "organisation",
        [I_FLAG_OTHER] = "organisation", [I_NOPAT_OTHER] = "organisation",
        [I_OTHER_PATIENT] = "other-patient", [I_PRAC_OTHER] = "organisation",
        [I_GOAL_OTHER] = "organisation",
    },
};

static enum view
view_of(enum role_class c)
{
    switch (c) {
    case C_ADMIN: return V_ADMIN;
    case C_SOCIAL: return V_SOCIAL;
    default: return V_FULL;
    }
}

/* The expected answer for item 'i' under a decision: the table, then the
 * two overlay rules of policy.h: an objection in force withholds other
 * organisations' patient items except the Patient; a redacting decision
 * redacts other organisations' Patient. */
static const char *
expected_item(enum view v, enum item_id i, bool is_allowed, bool is_filtered,
              bool is_redacted)
{
    const char *e = item_table[v][i];
    const struct item_def *d = &items[i];
    bool is_patient_type = strcmp(d->type, "Patient") == 0;

    if (!is_allowed)
        return "denied";
    if (strcmp(e, "show") != 0 || d->is_own)
        return e;
    if (is_filtered && d->patient[0] != '\0' && !is_patient_type)
        return "objection";
    if (is_redacted && is_patient_type)
        return "redact";
    return e;
}

static void
check_items(const struct cr_policy *pol, const struct cr_policy_decision *d,
            const char *own_org, enum view v)
{
    char base[400];

    snprintf(base, sizeof base, "%.399s", cell);
    for (int i = 0; i < I_N; i++) {
        struct cr_policy_item it = item_of((enum item_id)i, own_org);
        snprintf(cell, sizeof cell, "%s item %.60s", base, items[i].name);
        MCHECK_STR(item_decide(pol, d, &it),
                   expected_item(v, (enum item_id)i, d->is_allowed,
                                 d->is_filtered, d->is_redacted));
    }
    snprintf(cell, sizeof cell, "%s", base);
}

TEST(matrix_staff)
{
    struct cr_policy *pol = load(NULL);
    size_t cells = 0;

    for (size_t r = 0; r < sizeof matrix_roles / sizeof matrix_roles[0];
         r++) {
        enum role_class cls = matrix_roles[r].cls;
        for (int s = 0; s < S_N; s++) {
            for (int o = 0; o < O_N; o++) {
                for (int restricted = 0; restricted < 2; restricted++) {
                    const char *org = state_org[s];
                    struct cr_principal p =
                        principal(org, matrix_roles[r].role,
                                  state_purpose[s]);
                    struct cr_policy_request req =
                        request(&p, state_reason[s]);
                    struct patient_fx fx;
                    struct cr_policy_decision d;
                    const struct expect *e = &patient_table[cls][s];
                    bool is_allowed = e->code[0] == '\0';
                    unsigned alerts = e->alerts;
                    bool is_claim = e->basis == CR_POLICY_BASIS_SELF_CLAIMED
                                    || e->basis == CR_POLICY_BASIS_EMERGENCY;

                    if (cls == C_STUDENT)
                        req.supervisor = cr_str_c("6000000001");
                    patient_fx(&fx, (enum objection)o, org, restricted);
                    snprintf(cell, sizeof cell,
                             "role %s (%s), %s, objection %s, %s",
                             matrix_roles[r].role, class_name[cls],
                             state_name[s], objection_name[o],
                             restricted ? "restricted" : "not restricted");
                    cr_policy_decide_patient(pol, &req, &fx.pt, &d);

                    if (restricted)
                        alerts |= CR_POLICY_ALERT_RESTRICTED;
                    MCHECK(d.is_allowed == is_allowed);
                    MCHECK_STR(d.code, e->code);
                    MCHECK_STR(cr_policy_basis_name(d.basis),
                               cr_policy_basis_name(e->basis));
                    MCHECK_STR(alerts_str(d.alerts), alerts_str(alerts));
                    MCHECK(d.is_redacted
                           == (is_allowed && restricted && is_claim));
                    MCHECK(d.is_filtered == (is_allowed && o != O_NONE));
                    MCHECK_STR(d.objection_org,
                               o == O_BY_OWN     ? org
                               : o == O_BY_OTHER ? OTHER_ORG
                                                 : "");
                    MCHECK((d.msg[0] != '\0') == !is_allowed);
                    check_items(pol, &d, org, view_of(cls));
                    cells++;
                }
            }
        }
    }
    CHECK_EQ_INT(cells, 10 * S_N * O_N * 2);
    cr_policy_destroy(pol);
}

TEST(matrix_patient_principal)
{
    struct cr_policy *pol = load(NULL);

    for (int own = 0; own < 2; own++) {
        for (int o = 0; o < O_N; o++) {
            for (int restricted = 0; restricted < 2; restricted++) {
                struct cr_principal p =
                    principal("NHSAPP", "R8000", "patient-access");
                struct cr_policy_request req = request(&p, NULL);
                struct patient_fx fx;
                struct cr_policy_decision d;

                snprintf(p.patient, sizeof p.patient, "%s",
                         own ? "9912003888" : "9000000009");
                patient_fx(&fx, (enum objection)o, GP_ORG, restricted);
                snprintf(cell, sizeof cell,
                         "patient principal, %s record, objection %s, %s",
                         own ? "own" : "another's", objection_name[o],
                         restricted ? "restricted" : "not restricted");
                cr_policy_decide_patient(pol, &req, &fx.pt, &d);
                MCHECK(d.is_allowed == (own != 0));
                MCHECK_STR(d.code, own ? "" : "patient-access-other-patient");
                MCHECK_STR(cr_policy_basis_name(d.basis),
                           own ? "patient" : "none");
                MCHECK_STR(alerts_str(d.alerts), "");
                MCHECK(!d.is_redacted);
                MCHECK(!d.is_filtered);
                check_items(pol, &d, "NHSAPP", V_PATIENT);
            }
        }
    }
    cr_policy_destroy(pol);
}

TEST(matrix_system_principal)
{
    struct cr_policy *pol = load(NULL);

    for (int s = 0; s < S_N; s++) {
        for (int o = 0; o < O_N; o++) {
            for (int restricted = 0; restricted < 2; restricted++) {
                /* A source system of each organisation of the states: a
                 * relationship (or its absence) changes nothing. */
                struct cr_principal p =
                    principal(state_org[s], "R8000", "system");
                struct cr_policy_request req = request(&p, state_reason[s]);
                struct patient_fx fx;
                struct cr_policy_decision d;

                patient_fx(&fx, (enum objection)o, state_org[s], restricted);
                snprintf(cell, sizeof cell,
                         "system principal of %s, objection %s, %s",
                         state_org[s], objection_name[o],
                         restricted ? "restricted" : "not restricted");
                cr_policy_decide_patient(pol, &req, &fx.pt, &d);
                MCHECK(d.is_allowed);
                MCHECK_STR(cr_policy_basis_name(d.basis), "system");
                MCHECK_STR(alerts_str(d.alerts), "");
                MCHECK(!d.is_redacted);
                MCHECK(!d.is_filtered);
                check_items(pol, &d, state_org[s], V_SYSTEM);
            }
        }
    }
    cr_policy_destroy(pol);
}

TEST(matrix_audit_and_research_purposes)
{
    struct cr_policy *pol = load(NULL);
    const char *purposes[] = { "audit", "research" };

    for (int i = 0; i < 2; i++) {
        for (int s = 0; s < S_N; s++) {
            struct cr_principal p = principal(state_org[s], "R8000",
                                              purposes[i]);
            struct cr_policy_request req = request(&p, state_reason[s]);
            struct patient_fx fx;
            struct cr_policy_decision d;

            patient_fx(&fx, O_NONE, state_org[s], true);
            snprintf(cell, sizeof cell, "purpose %s, %s", purposes[i],
                     state_name[s]);
            cr_policy_decide_patient(pol, &req, &fx.pt, &d);
            MCHECK(!d.is_allowed);
            MCHECK_STR(d.code, "purpose-not-permitted");
            MCHECK_STR(alerts_str(d.alerts), "");
            MCHECK(strstr(d.msg, purposes[i]) != NULL);
            check_items(pol, &d, state_org[s], V_FULL);
        }
    }
    cr_policy_destroy(pol);
}

/* ---- relationships ---------------------------------------------------- */

static struct cr_policy_decision
decide_with_rel(const struct cr_policy *pol, struct cr_policy_rel rel)
{
    struct cr_principal p = principal("RX1", "R8000", "direct-care");
    struct cr_policy_request req = request(&p, NULL);
    const char *ids[] = { "pat1" };
    struct cr_policy_patient pt = { 0 };
    struct cr_policy_decision d;

    pt.ids = ids;
    pt.n_ids = 1;
    pt.rels = &rel;
    pt.n_rels = 1;
    cr_policy_decide_patient(pol, &req, &pt, &d);
    return d;
}

TEST(relationship_window_edges)
{
    struct cr_policy *pol = load(NULL);
    struct cr_policy_decision d;

    d = decide_with_rel(pol, (struct cr_policy_rel){
                                 "RX1", CR_POLICY_REL_ENCOUNTER,
                                 NOW - 90 * DAY_MS });
    CHECK(d.is_allowed);
    CHECK_EQ_INT(d.basis, CR_POLICY_BASIS_RELATIONSHIP);
    d = decide_with_rel(pol, (struct cr_policy_rel){
                                 "RX1", CR_POLICY_REL_ENCOUNTER,
                                 NOW - 90 * DAY_MS - 1 });
    CHECK(!d.is_allowed);
    CHECK_EQ_STR(d.code, "no-relationship");
    /* Open, and in the future (a booked appointment). */
    d = decide_with_rel(pol, (struct cr_policy_rel){
                                 "RX1", CR_POLICY_REL_EPISODE,
                                 CR_POLICY_OPEN });
    CHECK(d.is_allowed);
    d = decide_with_rel(pol, (struct cr_policy_rel){
                                 "RX1", CR_POLICY_REL_APPOINTMENT,
                                 NOW + 30 * DAY_MS });
    CHECK(d.is_allowed);
    d = decide_with_rel(pol, (struct cr_policy_rel){
                                 "RX1", CR_POLICY_REL_REFERRAL, NOW });
    CHECK(d.is_allowed);
    /* Another organisation's relationship is not ours. */
    d = decide_with_rel(pol, (struct cr_policy_rel){
                                 "RX2", CR_POLICY_REL_ENCOUNTER,
                                 CR_POLICY_OPEN });
    CHECK(!d.is_allowed);
    /* Hostile end times cannot overflow into a relationship. */
    d = decide_with_rel(pol, (struct cr_policy_rel){
                                 "RX1", CR_POLICY_REL_ENCOUNTER, INT64_MIN });
    CHECK(!d.is_allowed);
    d = decide_with_rel(pol, (struct cr_policy_rel){
                                 NULL, CR_POLICY_REL_ENCOUNTER,
                                 CR_POLICY_OPEN });
    CHECK(!d.is_allowed);
    cr_policy_destroy(pol);

    pol = load("{\"relationship_days\": 0}");
    d = decide_with_rel(pol, (struct cr_policy_rel){
                                 "RX1", CR_POLICY_REL_ENCOUNTER, NOW - 1 });
    CHECK(!d.is_allowed);
    d = decide_with_rel(pol, (struct cr_policy_rel){
                                 "RX1", CR_POLICY_REL_ENCOUNTER, NOW });
    CHECK(d.is_allowed);
    cr_policy_destroy(pol);
}

TEST(relationship_message_says_what_to_do)
{
    struct cr_policy *pol = load(NULL);
    struct cr_principal p = principal("RAS", "R8000", "direct-care");
    struct cr_policy_request req = request(&p, NULL);
    struct cr_policy_decision d;

    cr_policy_decide_patient(pol, &req, NULL, &d);
    CHECK(!d.is_allowed);
    CHECK_EQ_INT(d.deny, CR_POLICY_DENY_NO_RELATIONSHIP);
    CHECK_EQ_STR(d.code, "no-relationship");
    CHECK(strstr(d.msg, "RAS") != NULL);
    CHECK(strstr(d.msg, "self-claimed: <reason>") != NULL);
    CHECK(strstr(d.msg, "purpose emergency") != NULL);
    CHECK(strstr(d.msg, "90 days") != NULL);
    cr_policy_destroy(pol);
}

/* ---- reasons ---------------------------------------------------------- */

TEST(parse_claim_forms)
{
    struct cr_policy_claim c;

    CHECK_EQ_INT(cr_policy_parse_claim(cr_str_c(""), &c), CR_POLICY_CLAIM_NONE);
    CHECK_EQ_INT(cr_policy_parse_claim(cr_str_c("   "), &c),
                 CR_POLICY_CLAIM_NONE);
    CHECK_EQ_INT(cr_policy_parse_claim((struct cr_str){ NULL, 0 }, &c),
                 CR_POLICY_CLAIM_NONE);
    CHECK_EQ_INT(cr_policy_parse_claim(cr_str_c("self-claimed: on ward 5"), &c),
                 CR_POLICY_CLAIM_SELF);
    CHECK(cr_str_eq_c(c.text, "on ward 5"));
    CHECK_EQ_INT(cr_policy_parse_claim(cr_str_c("  Self-Claimed  :x "), &c),
                 CR_POLICY_CLAIM_SELF);
    CHECK(cr_str_eq_c(c.text, "x"));
    CHECK_EQ_INT(cr_policy_parse_claim(cr_str_c("self-claimed:"), &c),
                 CR_POLICY_CLAIM_SELF);
    CHECK_EQ_INT(c.text.len, 0);
    CHECK_EQ_INT(cr_policy_parse_claim(
                     cr_str_c("emergency: life-threatening  found collapsed"),
                     &c),
                 CR_POLICY_CLAIM_EMERGENCY);
    CHECK(cr_str_eq_c(c.code, "life-threatening"));
    CHECK(cr_str_eq_c(c.text, "found collapsed"));
    CHECK_EQ_INT(cr_policy_parse_claim(cr_str_c("EMERGENCY:safeguarding"), &c),
                 CR_POLICY_CLAIM_EMERGENCY);
    CHECK(cr_str_eq_c(c.code, "safeguarding"));
    CHECK_EQ_INT(c.text.len, 0);
    CHECK_EQ_INT(cr_policy_parse_claim(cr_str_c("emergency:   "), &c),
                 CR_POLICY_CLAIM_EMERGENCY);
    CHECK_EQ_INT(c.code.len, 0);
    CHECK_EQ_INT(cr_policy_parse_claim(cr_str_c("because I said so"), &c),
                 CR_POLICY_CLAIM_INVALID);
    CHECK_EQ_INT(cr_policy_parse_claim(cr_str_c("curious: neighbour"), &c),
                 CR_POLICY_CLAIM_INVALID);
    /* Not NUL-terminated: only 'len' bytes are read. */
    CHECK_EQ_INT(cr_policy_parse_claim(
                     (struct cr_str){ "self-claimed: abcXYZ", 17 }, &c),
                 CR_POLICY_CLAIM_SELF);
    CHECK(cr_str_eq_c(c.text, "abc"));
}

static struct cr_policy_decision
decide_reason(const struct cr_policy *pol, const char *purpose,
              const char *header, const char *token_reason)
{
    struct cr_principal p = principal("RAS", "R8000", purpose);
    struct cr_policy_request req;
    struct cr_policy_decision d;
    const char *ids[] = { "pat1" };
    struct cr_policy_patient pt = { 0 };

    snprintf(p.reason, sizeof p.reason, "%s", token_reason ? token_reason : "");
    req = request(&p, header);
    pt.ids = ids;
    pt.n_ids = 1;
    cr_policy_decide_patient(pol, &req, &pt, &d);
    return d;
}

TEST(reasons_and_their_denials)
{
    struct cr_policy *pol = load(NULL);
    struct cr_policy_decision d;

    /* Self-claimed via the header, or the token's reason claim. */
    d = decide_reason(pol, "direct-care", "self-claimed: covering", NULL);
    CHECK(d.is_allowed);
    CHECK_EQ_INT(d.claim, CR_POLICY_CLAIM_SELF);
    CHECK_EQ_STR(alerts_str(d.alerts), "self-claimed");
    d = decide_reason(pol, "direct-care", NULL, "self-claimed: via token");
    CHECK(d.is_allowed);
    CHECK_EQ_INT(d.claim, CR_POLICY_CLAIM_SELF);
    /* The header wins over the token, either way round. */
    d = decide_reason(pol, "direct-care", "self-claimed: header",
                      "just looking");
    CHECK(d.is_allowed);
    d = decide_reason(pol, "direct-care", "just looking",
                      "self-claimed: token");
    CHECK_EQ_STR(d.code, "reason-invalid");
    /* No text. */
    d = decide_reason(pol, "direct-care", "self-claimed:   ", NULL);
    CHECK_EQ_STR(d.code, "reason-required");
    CHECK(strstr(d.msg, "self-claimed: <why") != NULL);
    /* Not in either form. */
    d = decide_reason(pol, "direct-care", "just looking", NULL);
    CHECK_EQ_STR(d.code, "reason-invalid");
    CHECK_EQ_INT(d.claim, CR_POLICY_CLAIM_INVALID);
    /* Emergency claimed without the emergency purpose. */
    d = decide_reason(pol, "direct-care", "emergency: life-threatening x",
                      NULL);
    CHECK_EQ_STR(d.code, "emergency-purpose-required");
    CHECK_EQ_STR(alerts_str(d.alerts), "");

    /* Emergency purpose: coded reason required and checked. */
    d = decide_reason(pol, "emergency", NULL, NULL);
    CHECK_EQ_STR(d.code, "reason-required");
    CHECK(strstr(d.msg, "life-threatening, lacks-capacity, urgent-care, "
                        "safeguarding, public-health") != NULL);
    d = decide_reason(pol, "emergency", "emergency:", NULL);
    CHECK_EQ_STR(d.code, "reason-required");
    d = decide_reason(pol, "emergency", "emergency: bored nothing on", NULL);
    CHECK_EQ_STR(d.code, "reason-invalid");
    CHECK(strstr(d.msg, "'bored'") != NULL);
    d = decide_reason(pol, "emergency", "self-claimed: covering", NULL);
    CHECK_EQ_STR(d.code, "reason-invalid");
    d = decide_reason(pol, "emergency", "emergency: safeguarding child at risk",
                      NULL);
    CHECK(d.is_allowed);
    CHECK_EQ_INT(d.basis, CR_POLICY_BASIS_EMERGENCY);
    CHECK_EQ_INT(d.claim, CR_POLICY_CLAIM_EMERGENCY);
    CHECK_EQ_STR(alerts_str(d.alerts), "emergency");
    d = decide_reason(pol, "emergency", NULL, "emergency: lacks-capacity");
    CHECK(d.is_allowed);
    cr_policy_destroy(pol);
}

TEST(claim_ignored_when_relationship_exists)
{
    struct cr_policy *pol = load(NULL);
    struct cr_principal p = principal(GP_ORG, "R8000", "direct-care");
    struct cr_policy_request req = request(&p, "self-claimed: habit");
    struct patient_fx fx;
    struct cr_policy_decision d;

    patient_fx(&fx, O_NONE, GP_ORG, false);
    cr_policy_decide_patient(pol, &req, &fx.pt, &d);
    CHECK(d.is_allowed);
    CHECK_EQ_INT(d.basis, CR_POLICY_BASIS_REGISTERED_GP);
    CHECK_EQ_STR(alerts_str(d.alerts), "");
    CHECK_EQ_INT(d.claim, CR_POLICY_CLAIM_SELF);  /* the audit says so */
    /* Emergency purpose is an explicit break glass: always alerts. */
    snprintf(p.purpose, sizeof p.purpose, "emergency");
    req = request(&p, "emergency: urgent-care");
    cr_policy_decide_patient(pol, &req, &fx.pt, &d);
    CHECK(d.is_allowed);
    CHECK_EQ_INT(d.basis, CR_POLICY_BASIS_EMERGENCY);
    CHECK_EQ_STR(alerts_str(d.alerts), "emergency");
    cr_policy_destroy(pol);
}

TEST(claims_parse_into_kind_code_and_text)
{
    struct cr_policy_claim c;

    cr_policy_parse_claim(cr_str_c("emergency: safeguarding child at risk"),
                          &c);
    CHECK_EQ_INT(c.kind, CR_POLICY_CLAIM_EMERGENCY);
    CHECK(cr_str_eq_c(c.code, "safeguarding"));
    CHECK(cr_str_eq_c(c.text, "child at risk"));
    cr_policy_parse_claim(cr_str_c("self-claimed:  covering ward 5 "), &c);
    CHECK_EQ_INT(c.kind, CR_POLICY_CLAIM_SELF);
    CHECK(cr_str_eq_c(c.text, "covering ward 5"));
    cr_policy_parse_claim(cr_str_c("just looking"), &c);
    CHECK_EQ_INT(c.kind, CR_POLICY_CLAIM_INVALID);
}

/* ---- objection, sensitive, restricted --------------------------------- */

TEST(objection_emergency_override_only_when_configured)
{
    struct cr_policy *pol = load(NULL);
    struct cr_principal p = principal(NONE_ORG, "R8000", "emergency");
    struct cr_policy_request req = request(&p, "emergency: life-threatening");
    struct patient_fx fx;
    struct cr_policy_decision d;
    struct cr_policy_item obs = item_of(I_OBS_OTHER, NONE_ORG);
    struct cr_policy_item sens = item_of(I_SENS_OTHER, NONE_ORG);

    patient_fx(&fx, O_BY_OTHER, NONE_ORG, false);
    cr_policy_decide_patient(pol, &req, &fx.pt, &d);
    CHECK(d.is_allowed);
    CHECK(d.is_filtered);
    CHECK_EQ_STR(alerts_str(d.alerts), "emergency");
    CHECK_EQ_STR(item_decide(pol, &d, &obs), "objection");
    cr_policy_destroy(pol);

    pol = load("{\"emergency_overrides_objection\": true}");
    cr_policy_decide_patient(pol, &req, &fx.pt, &d);
    CHECK(d.is_allowed);
    CHECK(!d.is_filtered);
    CHECK_EQ_STR(alerts_str(d.alerts), "emergency,objection-overridden");
    CHECK_EQ_STR(d.objection_org, OTHER_ORG);
    CHECK_EQ_STR(item_decide(pol, &d, &obs), "show");
    /* Sensitive items stay with their organisation even then. */
    CHECK_EQ_STR(item_decide(pol, &d, &sens), "sensitive");
    /* Direct care is not overridden by the setting. */
    snprintf(p.purpose, sizeof p.purpose, "direct-care");
    req = request(&p, "self-claimed: covering");
    cr_policy_decide_patient(pol, &req, &fx.pt, &d);
    CHECK(d.is_filtered);
    CHECK_EQ_STR(alerts_str(d.alerts), "self-claimed");
    CHECK_EQ_STR(item_decide(pol, &d, &obs), "objection");
    cr_policy_destroy(pol);
}

TEST(sensitive_never_leaves_recording_org)
{
    struct cr_policy *pol = load(NULL);
    const char *purposes[] = { "direct-care", "emergency", "patient-access",
                               "system" };

    for (int i = 0; i < 4; i++) {
        struct cr_principal p = principal(GP_ORG, "R8000", purposes[i]);
        struct cr_policy_request req = request(&p, "emergency: urgent-care");
        struct patient_fx fx;
        struct cr_policy_decision d;
        struct cr_policy_item it = { "Condition", "RQM", "pat1", true,
                                     false, false };

        snprintf(p.patient, sizeof p.patient, "9912003888");
        patient_fx(&fx, O_NONE, GP_ORG, false);
        cr_policy_decide_patient(pol, &req, &fx.pt, &d);
        CHECK(d.is_allowed);
        CHECK_EQ_STR(item_decide(pol, &d, &it), "sensitive");
        it.org = GP_ORG;
        CHECK_EQ_STR(item_decide(pol, &d, &it), "show");
        it.org = NULL;   /* unknown publisher: not ours */
        CHECK_EQ_STR(item_decide(pol, &d, &it), "sensitive");
    }
    cr_policy_destroy(pol);
}

TEST(restricted_redaction_follows_relationship)
{
    struct cr_policy *pol = load(NULL);
    struct patient_fx fx;
    struct cr_policy_decision d;
    struct cr_policy_item pat = item_of(I_PAT_OTHER, NONE_ORG);
    struct cr_policy_item own = item_of(I_PAT_OWN, NONE_ORG);
    struct cr_principal p = principal(NONE_ORG, "R8000", "direct-care");
    struct cr_policy_request req = request(&p, "self-claimed: covering");

    patient_fx(&fx, O_NONE, NONE_ORG, true);
    cr_policy_decide_patient(pol, &req, &fx.pt, &d);
    CHECK(d.is_redacted);
    CHECK_EQ_STR(item_decide(pol, &d, &pat), "redact");
    CHECK_EQ_STR(item_decide(pol, &d, &own), "show");
    /* Redaction applies to the Patient only. */
    pat.type = "RelatedPerson";
    CHECK_EQ_STR(item_decide(pol, &d, &pat), "show");

    /* Registered GP: caring for them, nothing removed. */
    p = principal(GP_ORG, "R8000", "direct-care");
    req = request(&p, NULL);
    cr_policy_decide_patient(pol, &req, &fx.pt, &d);
    CHECK(!d.is_redacted);
    CHECK_EQ_STR(alerts_str(d.alerts), "restricted");
    cr_policy_destroy(pol);
}

/* ---- alerts ----------------------------------------------------------- */

TEST(identity_alerts)
{
    struct cr_policy *pol = load(NULL);
    struct cr_principal p = principal(GP_ORG, "R8001", "direct-care");
    struct cr_policy_request req = request(&p, NULL);
    struct patient_fx fx;
    struct cr_policy_decision d;

    patient_fx(&fx, O_NONE, GP_ORG, false);
    req.surname = "  OKAFOR ";
    req.postcode = "e16an";
    cr_policy_decide_patient(pol, &req, &fx.pt, &d);
    CHECK(d.is_allowed);
    CHECK_EQ_STR(alerts_str(d.alerts), "same-surname,same-address");

    req.surname = "Okafo";
    req.postcode = "E1 6AB";
    fx.pt.is_flagged = true;
    cr_policy_decide_patient(pol, &req, &fx.pt, &d);
    CHECK_EQ_STR(alerts_str(d.alerts), "flagged");

    /* Empty on either side never matches. */
    req.surname = "";
    req.postcode = NULL;
    fx.pt.surname = "";
    fx.pt.postcode = "   ";
    fx.pt.is_flagged = false;
    cr_policy_decide_patient(pol, &req, &fx.pt, &d);
    CHECK_EQ_STR(alerts_str(d.alerts), "");

    /* Out of hours: Wednesday 21:00 GMT. */
    req.now_ms = utc_ms(2026, 3, 11, 21, 0);
    cr_policy_decide_patient(pol, &req, &fx.pt, &d);
    CHECK_EQ_STR(alerts_str(d.alerts), "out-of-hours");

    /* Identity alerts are raised on denials too: an attempt counts. */
    p = principal(NONE_ORG, "R8000", "direct-care");
    req = request(&p, NULL);
    req.surname = "okafor";
    cr_policy_decide_patient(pol, &req, &fx.pt, &d);
    CHECK(!d.is_allowed);
    CHECK_EQ_STR(alerts_str(d.alerts), "");
    fx.pt.surname = "Okafor";
    cr_policy_decide_patient(pol, &req, &fx.pt, &d);
    CHECK(!d.is_allowed);
    CHECK_EQ_STR(alerts_str(d.alerts), "same-surname");
    cr_policy_destroy(pol);
}

TEST(out_of_hours_london_time)
{
    struct cr_policy *pol = load(NULL);

    /* Winter (GMT), Wednesday 11 March 2026. */
    CHECK(!cr_policy_is_out_of_hours(pol, utc_ms(2026, 3, 11, 8, 0)));
    CHECK(cr_policy_is_out_of_hours(pol, utc_ms(2026, 3, 11, 7, 59)));
    CHECK(!cr_policy_is_out_of_hours(pol, utc_ms(2026, 3, 11, 19, 59)));
    CHECK(cr_policy_is_out_of_hours(pol, utc_ms(2026, 3, 11, 20, 0)));
    CHECK(cr_policy_is_out_of_hours(pol, utc_ms(2026, 3, 11, 0, 0)));
    /* Summer (BST = UTC+1), Wednesday 15 July 2026. */
    CHECK(cr_policy_is_out_of_hours(pol, utc_ms(2026, 7, 15, 19, 0)));
    CHECK(!cr_policy_is_out_of_hours(pol, utc_ms(2026, 7, 15, 18, 59)));
    CHECK(cr_policy_is_out_of_hours(pol, utc_ms(2026, 7, 15, 6, 59)));
    CHECK(!cr_policy_is_out_of_hours(pol, utc_ms(2026, 7, 15, 7, 0)));
    /* The change: BST from 01:00 UTC Sunday 29 March 2026; Friday 27th is
     * still GMT, Monday 30th is BST. */
    CHECK(cr_policy_is_out_of_hours(pol, utc_ms(2026, 3, 27, 7, 30)));
    CHECK(!cr_policy_is_out_of_hours(pol, utc_ms(2026, 3, 30, 7, 30)));
    /* Back to GMT from 01:00 UTC Sunday 25 October 2026. */
    CHECK(!cr_policy_is_out_of_hours(pol, utc_ms(2026, 10, 23, 7, 30)));
    CHECK(cr_policy_is_out_of_hours(pol, utc_ms(2026, 10, 26, 7, 30)));
    /* Weekends, all day (Saturday 14 March noon; Sunday 15th 23:00 GMT;
     * Friday 22:59 BST is the weekday window; Saturday 00:30 BST is
     * Friday 23:30 UTC). */
    CHECK(cr_policy_is_out_of_hours(pol, utc_ms(2026, 3, 14, 12, 0)));
    CHECK(cr_policy_is_out_of_hours(pol, utc_ms(2026, 3, 15, 23, 0)));
    CHECK(!cr_policy_is_out_of_hours(pol, utc_ms(2026, 3, 16, 12, 0)));
    /* Before the epoch still works. */
    CHECK(!cr_policy_is_out_of_hours(pol, utc_ms(1969, 7, 16, 12, 0)));
    CHECK(cr_policy_is_out_of_hours(pol, utc_ms(1969, 7, 19, 12, 0)));
    cr_policy_destroy(pol);

    pol = load("{\"out_of_hours\": {\"timezone\": \"UTC\"}}");
    CHECK(cr_policy_is_out_of_hours(pol, utc_ms(2026, 3, 30, 7, 30)));
    CHECK(!cr_policy_is_out_of_hours(pol, utc_ms(2026, 7, 15, 19, 30)));
    cr_policy_destroy(pol);

    pol = load("{\"out_of_hours\": {\"start\": \"18:30\", \"end\": \"07:00\","
               " \"weekends\": false}}");
    CHECK(!cr_policy_is_out_of_hours(pol, utc_ms(2026, 3, 14, 12, 0)));
    CHECK(cr_policy_is_out_of_hours(pol, utc_ms(2026, 3, 11, 18, 30)));
    CHECK(!cr_policy_is_out_of_hours(pol, utc_ms(2026, 3, 11, 18, 29)));
    CHECK(!cr_policy_is_out_of_hours(pol, utc_ms(2026, 3, 11, 7, 0)));
    cr_policy_destroy(pol);

    /* A window inside one day, and none at all. */
    pol = load("{\"out_of_hours\": {\"start\": \"00:00\", \"end\": \"06:00\","
               " \"weekends\": false}}");
    CHECK(cr_policy_is_out_of_hours(pol, utc_ms(2026, 3, 11, 0, 0)));
    CHECK(!cr_policy_is_out_of_hours(pol, utc_ms(2026, 3, 11, 6, 0)));
    CHECK(!cr_policy_is_out_of_hours(pol, utc_ms(2026, 3, 11, 23, 0)));
    cr_policy_destroy(pol);
    pol = load("{\"out_of_hours\": false}");
    CHECK(!cr_policy_is_out_of_hours(pol, utc_ms(2026, 3, 14, 3, 0)));
    cr_policy_destroy(pol);
}

TEST(alert_names)
{
    char buf[64];

    CHECK_EQ_STR(cr_policy_alert_name(CR_POLICY_ALERT_SELF_CLAIMED),
                 "self-claimed");
    CHECK_EQ_STR(cr_policy_alert_name(CR_POLICY_ALERT_STUDENT), "student");
    CHECK_EQ_STR(cr_policy_alert_name(CR_POLICY_ALERT_OUT_OF_HOURS),
                 "out-of-hours");
    CHECK_EQ_STR(cr_policy_alert_name(0x3), "unknown");
    CHECK_EQ_STR(alerts_str(CR_POLICY_ALERT_ALL),
                 "self-claimed,emergency,same-surname,same-address,"
                 "restricted,flagged,out-of-hours,objection-overridden,"
                 "student");
    /* Truncation keeps a terminated prefix. */
    CHECK_EQ_INT(cr_policy_alert_names(CR_POLICY_ALERT_ALL, buf, 10), 9);
    CHECK_EQ_STR(buf, "self-clai");
    CHECK_EQ_INT(cr_policy_alert_names(0, buf, sizeof buf), 0);
    CHECK_EQ_STR(buf, "");
    CHECK_EQ_STR(cr_policy_deny_code(CR_POLICY_DENY_OTHER_PATIENT),
                 "patient-access-other-patient");
    CHECK_EQ_STR(cr_policy_deny_code((enum cr_policy_deny)99), "unknown");
    CHECK_EQ_STR(cr_policy_basis_name(CR_POLICY_BASIS_DIRECTORY), "directory");
    CHECK_EQ_STR(cr_policy_withhold_name(CR_POLICY_WITHHOLD_OBJECTION),
                 "objection");
}

/* ---- students ----------------------------------------------------------- */

TEST(student_supervision)
{
    struct cr_policy *pol = load(NULL);
    struct cr_principal p = principal(GP_ORG, "R8004", "direct-care");
    struct cr_policy_request req = request(&p, NULL);
    struct patient_fx fx;
    struct cr_policy_decision d;

    patient_fx(&fx, O_NONE, GP_ORG, false);
    cr_policy_decide_patient(pol, &req, &fx.pt, &d);
    CHECK_EQ_STR(d.code, "supervisor-required");
    CHECK(strstr(d.msg, "X-Supervisor") != NULL);
    req.supervisor = cr_str_c("   ");
    cr_policy_decide_patient(pol, &req, &fx.pt, &d);
    CHECK_EQ_STR(d.code, "supervisor-required");
    req.supervisor = cr_str_c(" 600000000042 ");
    cr_policy_decide_patient(pol, &req, &fx.pt, &d);
    CHECK(d.is_allowed);
    CHECK_EQ_STR(d.supervisor, "600000000042");
    CHECK_EQ_STR(alerts_str(d.alerts), "student");
    /* Read-only. */
    cr_policy_decide_write(pol, &req, &fx.pt, "Observation", &d);
    CHECK(!d.is_allowed);
    CHECK_EQ_STR(d.code, "role-not-permitted");
    cr_policy_destroy(pol);
}

/* ---- directory and writes ----------------------------------------------- */

TEST(directory_decisions)
{
    struct cr_policy *pol = load(NULL);
    static const struct {
        const char *purpose, *role, *code;
    } cases[] = {
        { "direct-care", "R8009", "" },
        { "emergency", "R8000", "" },
        { "patient-access", "R8000", "" },
        { "system", "R8000", "" },
        { "direct-care", "R9999", "role-not-permitted" },
        { "audit", "R8000", "purpose-not-permitted" },
        { "research", "R8000", "purpose-not-permitted" },
    };

    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        struct cr_principal p = principal("RAS", cases[i].role,
                                          cases[i].purpose);
        struct cr_policy_request req = request(&p, NULL);
        struct cr_policy_decision d;
        struct cr_policy_item prac = { "Practitioner", "RQM", "", false,
                                       false, false };
        struct cr_policy_item own = { "Organization", "RAS", NULL, false,
                                      false, false };
        struct cr_policy_item obs = { "Observation", "RAS", "pat1", false,
                                      false, false };
        bool is_allowed = cases[i].code[0] == '\0';
        bool is_system = strcmp(cases[i].purpose, "system") == 0;

        snprintf(cell, sizeof cell, "directory %s %s", cases[i].purpose,
                 cases[i].role);
        cr_policy_decide_directory(pol, &req, &d);
        MCHECK(d.is_allowed == is_allowed);
        MCHECK_STR(d.code, cases[i].code);
        MCHECK_STR(alerts_str(d.alerts), "");
        MCHECK_STR(item_decide(pol, &d, &prac),
                   !is_allowed  ? "denied"
                   : is_system  ? "organisation"
                                : "show");
        MCHECK_STR(item_decide(pol, &d, &own), is_allowed ? "show" : "denied");
        /* _revinclude from a directory read cannot reach patient data. */
        MCHECK_STR(item_decide(pol, &d, &obs),
                   is_allowed ? "other-patient" : "denied");
        if (is_allowed)
            MCHECK_STR(cr_policy_basis_name(d.basis), "directory");
    }
    cr_policy_destroy(pol);
}

TEST(write_decisions)
{
    struct cr_policy *pol = load(NULL);
    struct patient_fx fx;
    static const struct {
        const char *purpose, *role, *org, *type, *code;
        bool has_patient;
        const char *basis, *alerts;
    } cases[] = {
        { "system", "R8000", "RQM", "Observation", "", true, "system", "" },
        { "system", "R8000", "RQM", "Organization", "", false, "system", "" },
        { "direct-care", "R8000", GP_ORG, "CarePlan", "", true,
          "registered-gp", "" },
        { "direct-care", "R8000", NONE_ORG, "CarePlan", "no-relationship",
          true, "none", "" },
        { "direct-care", "R8009", GP_ORG, "Appointment", "", true,
          "registered-gp", "" },
        { "direct-care", "R8009", GP_ORG, "Observation",
          "type-not-permitted", true, "none", "" },
        { "direct-care", "R8014", GP_ORG, "CarePlan", "", true,
          "registered-gp", "" },
        /* qualified types are for reading only */
        { "direct-care", "R8014", GP_ORG, "Composition",
          "type-not-permitted", true, "none", "" },
        { "direct-care", "R8004", GP_ORG, "Observation",
          "role-not-permitted", true, "none", "" },
        { "direct-care", "R9999", GP_ORG, "Observation",
          "role-not-permitted", true, "none", "" },
        { "direct-care", "R8000", GP_ORG, "Patient", "", false, "directory",
          "" },
        { "emergency", "R8000", GP_ORG, "Observation",
          "purpose-not-permitted", true, "none", "" },
        { "audit", "R8000", GP_ORG, "Observation", "purpose-not-permitted",
          true, "none", "" },
        { "research", "R8000", GP_ORG, "Observation",
          "purpose-not-permitted", true, "none", "" },
        { "patient-access", "R8000", "NHSAPP", "Observation", "", true,
          "patient", "" },
        { "patient-access", "R8000", "NHSAPP", "QuestionnaireResponse", "",
          true, "patient", "" },
        { "patient-access", "R8000", "NHSAPP", "Condition",
          "type-not-permitted", true, "none", "" },
        { "patient-access", "R8000", "NHSAPP", "Observation",
          "patient-access-other-patient", false, "none", "" },
    };

    patient_fx(&fx, O_NONE, GP_ORG, true);
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        struct cr_principal p = principal(cases[i].org, cases[i].role,
                                          cases[i].purpose);
        struct cr_policy_request req = request(&p, NULL);
        struct cr_policy_decision d;

        snprintf(p.patient, sizeof p.patient, "9912003888");
        snprintf(cell, sizeof cell, "write %s %s %s %s", cases[i].purpose,
                 cases[i].role, cases[i].org, cases[i].type);
        cr_policy_decide_write(pol, &req,
                               cases[i].has_patient ? &fx.pt : NULL,
                               cases[i].type, &d);
        MCHECK_STR(d.code, cases[i].code);
        MCHECK(d.is_allowed == (cases[i].code[0] == '\0'));
        MCHECK_STR(cr_policy_basis_name(d.basis), cases[i].basis);
        if (d.is_allowed
            && strcmp(cases[i].purpose, "direct-care") == 0
            && cases[i].has_patient)
            MCHECK_STR(alerts_str(d.alerts), "restricted");
    }
    cr_policy_destroy(pol);
}

/* ---- item details ----------------------------------------------------- */

TEST(item_guards)
{
    struct cr_policy *pol = load(NULL), *other = load(NULL);
    struct cr_principal p = principal(GP_ORG, "R8000", "direct-care");
    struct cr_policy_request req = request(&p, NULL);
    struct cr_policy_patient pt = { 0 };
    struct cr_policy_decision d;
    struct cr_policy_item it = { "Observation", GP_ORG, "p0", false, false,
                                 false };
    const char *ids[10] = { "p0", "p1", "p2", "p3", "p4",
                            "p5", "p6", "p7", "p8", "" };
    const char *gp[] = { GP_ORG };

    pt.ids = ids;
    pt.n_ids = 10;
    pt.gp_orgs = gp;
    pt.n_gp_orgs = 1;
    cr_policy_decide_patient(pol, &req, &pt, &d);
    CHECK(d.is_allowed);
    CHECK_EQ_STR(item_decide(pol, &d, &it), "show");
    it.patient = "p7";
    CHECK_EQ_STR(item_decide(pol, &d, &it), "show");
    /* Only the first CR_POLICY_MAX_IDS ids count: never wider. */
    it.patient = "p8";
    CHECK_EQ_STR(item_decide(pol, &d, &it), "other-patient");
    it.patient = "p";
    CHECK_EQ_STR(item_decide(pol, &d, &it), "other-patient");
    /* A decision is only good with the policy that made it. */
    it.patient = "p0";
    CHECK_EQ_STR(item_decide(other, &d, &it), "denied");
    CHECK(!cr_policy_type_permitted(other, &d, "Observation"));
    CHECK_EQ_INT(cr_policy_decide_item(pol, &d, &it, NULL), CR_POLICY_SHOW);

    /* No compartment ids: every patient item is withheld. */
    pt.n_ids = 0;
    cr_policy_decide_patient(pol, &req, &pt, &d);
    CHECK(d.is_allowed);
    CHECK_EQ_STR(item_decide(pol, &d, &it), "other-patient");
    /* NULL facts deny staff (no relationship) and are safe. */
    cr_policy_decide_patient(pol, &req, NULL, &d);
    CHECK_EQ_STR(d.code, "no-relationship");
    cr_policy_destroy(pol);
    cr_policy_destroy(other);
}

TEST(type_permitted)
{
    struct cr_policy *pol = load(NULL);
    struct patient_fx fx;
    struct cr_policy_decision d;
    struct cr_principal p = principal(GP_ORG, "R8009", "direct-care");
    struct cr_policy_request req = request(&p, NULL);

    patient_fx(&fx, O_NONE, GP_ORG, false);
    cr_policy_decide_patient(pol, &req, &fx.pt, &d);
    CHECK(cr_policy_type_permitted(pol, &d, "Appointment"));
    CHECK(cr_policy_type_permitted(pol, &d, "RelatedPerson"));
    CHECK(!cr_policy_type_permitted(pol, &d, "Observation"));
    CHECK(!cr_policy_type_permitted(pol, &d, "CarePlan"));
    CHECK(!cr_policy_type_permitted(pol, &d, "Appointmen"));
    CHECK(!cr_policy_type_permitted(pol, &d, NULL));

    p = principal(GP_ORG, "R8014", "direct-care");
    req = request(&p, NULL);
    cr_policy_decide_patient(pol, &req, &fx.pt, &d);
    CHECK(cr_policy_type_permitted(pol, &d, "Composition"));
    CHECK(cr_policy_type_permitted(pol, &d, "Flag"));
    CHECK(!cr_policy_type_permitted(pol, &d, "MedicationRequest"));

    p = principal(GP_ORG, "R8000", "direct-care");
    req = request(&p, NULL);
    cr_policy_decide_patient(pol, &req, &fx.pt, &d);
    CHECK(cr_policy_type_permitted(pol, &d, "MedicationRequest"));

    p = principal(NONE_ORG, "R8000", "direct-care");
    req = request(&p, NULL);
    cr_policy_decide_patient(pol, &req, &fx.pt, &d);
    CHECK(!cr_policy_type_permitted(pol, &d, "Patient"));
    cr_policy_destroy(pol);
}

TEST(security_labels)
{
    const char *conf =
        "http://terminology.hl7.org/CodeSystem/v3-Confidentiality";
    const char *act = "http://terminology.hl7.org/CodeSystem/v3-ActCode";
    const unsigned restricted = CR_POLICY_LABEL_RESTRICTED;

    CHECK_EQ_INT(cr_policy_security_label(conf, "R"), restricted);
    CHECK_EQ_INT(cr_policy_security_label(conf, "V"), restricted);
    CHECK_EQ_INT(cr_policy_security_label(conf, "N"), 0);
    CHECK_EQ_INT(cr_policy_security_label(act, "NOPAT"),
                 CR_POLICY_LABEL_NOT_FOR_PATIENT);
    CHECK_EQ_INT(cr_policy_security_label(act, "NOVIP"),
                 CR_POLICY_LABEL_FLAGGED);
    CHECK_EQ_INT(cr_policy_security_label(act, "R"), 0);
    CHECK_EQ_INT(cr_policy_security_label(NULL, "R"), 0);
    CHECK_EQ_INT(cr_policy_security_label(conf, NULL), 0);
}

/* ---- configuration ----------------------------------------------------- */

TEST(config_defaults)
{
    struct cr_policy *pol = load(NULL);
    const char *const *systems, *const *codes;
    size_t n = cr_policy_sensitive_codes(pol, &systems, &codes);

    CHECK_EQ_INT(cr_policy_relationship_days(pol), 90);
    CHECK_EQ_INT(n, 10);
    for (size_t i = 1; i < n; i++)
        CHECK(strcmp(codes[i - 1], codes[i]) <= 0);
    /* The synthetic world's sensitive codes are on the list. */
    CHECK(cr_policy_is_sensitive_code(pol, SCT, "52637005"));
    CHECK(cr_policy_is_sensitive_code(pol, SCT, "105629000"));
    CHECK(cr_policy_is_sensitive_code(pol, SCT, "15628003"));
    CHECK(cr_policy_is_sensitive_code(pol, SCT, "407374003"));
    CHECK(cr_policy_is_sensitive_code(pol, SCT, "714812005"));
    CHECK(!cr_policy_is_sensitive_code(pol, SCT, "195967001"));
    CHECK(!cr_policy_is_sensitive_code(pol, "http://loinc.org", "52637005"));
    CHECK(!cr_policy_is_sensitive_code(pol, NULL, "52637005"));
    CHECK(!cr_policy_is_sensitive_code(pol, SCT, ""));
    CHECK(cr_policy_is_discharge_summary_code(pol, SCT,
                                              "373942005"));
    CHECK(cr_policy_is_discharge_summary_code(pol, "http://loinc.org",
                                              "18842-5"));
    CHECK(!cr_policy_is_discharge_summary_code(pol, SCT,
                                               "734163000"));
    CHECK_EQ_STR(cr_policy_emergency_reason(pol, cr_str_c("life-threatening")),
                 "Immediate threat to life or of serious harm");
    CHECK(cr_policy_emergency_reason(pol, cr_str_c("bored")) == NULL);
    CHECK(cr_policy_emergency_reason(pol, cr_str_c("")) == NULL);
    cr_policy_destroy(pol);
    cr_policy_destroy(NULL);
}

TEST(config_overrides)
{
    struct cr_policy *pol = load(
        "{\"roles\": {"
        "   \"R8009\": null,"
        "   \"R0260\": {\"see\": [\"Patient\", \"Immunization\"],"
        "              \"self_claim\": false},"
        "   \"R8000\": {\"see\": \"all\", \"emergency\": false}"
        " },"
        " \"sensitive_codes\": ["
        "   {\"system\": \"http://snomed.info/sct\", \"code\": \"86406008\","
        "    \"display\": \"HIV\"},"
        "   {\"system\": \"http://snomed.info/sct\", \"code\": \"86406008\"}"
        " ],"
        " \"discharge_summary_codes\": [{\"system\": \"urn:x\","
        "                              \"code\": \"ds\"}],"
        " \"relationship_days\": 30,"
        " \"emergency_reasons\": [{\"code\": \"major-incident\","
        "                          \"display\": \"Declared major incident\"}]"
        "}");
    struct patient_fx fx;
    struct cr_policy_decision d;
    struct cr_principal p;
    struct cr_policy_request req;
    struct cr_policy_item imm = { "Immunization", OTHER_ORG, "pat1", false,
                                  false, false };
    struct cr_policy_item obs = { "Observation", OTHER_ORG, "pat1", false,
                                  false, false };
    const char *const *systems, *const *codes;

    CHECK_EQ_INT(cr_policy_relationship_days(pol), 30);
    CHECK_EQ_INT(cr_policy_sensitive_codes(pol, &systems, &codes), 1);
    CHECK(cr_policy_is_sensitive_code(pol, SCT, "86406008"));
    CHECK(!cr_policy_is_sensitive_code(pol, SCT, "52637005"));
    CHECK(cr_policy_is_discharge_summary_code(pol, "urn:x", "ds"));
    CHECK(!cr_policy_is_discharge_summary_code(pol, SCT,
                                               "373942005"));
    CHECK(!cr_policy_emergency_reason(pol, cr_str_c("life-threatening")));
    CHECK(cr_policy_emergency_reason(pol, cr_str_c("major-incident")) != NULL);

    patient_fx(&fx, O_NONE, GP_ORG, false);
    /* Removed role. */
    p = principal(GP_ORG, "R8009", "direct-care");
    req = request(&p, NULL);
    cr_policy_decide_patient(pol, &req, &fx.pt, &d);
    CHECK_EQ_STR(d.code, "role-not-permitted");
    CHECK(strstr(d.msg, "R0260") != NULL);
    CHECK(strstr(d.msg, "R8009") != NULL);
    /* Default roles not named stay. */
    p = principal(GP_ORG, "R8008", "direct-care");
    req = request(&p, NULL);
    cr_policy_decide_patient(pol, &req, &fx.pt, &d);
    CHECK(d.is_allowed);
    /* A new role with its own view, no self-claim, writes by default. */
    p = principal(GP_ORG, "R0260", "direct-care");
    req = request(&p, NULL);
    cr_policy_decide_patient(pol, &req, &fx.pt, &d);
    CHECK(d.is_allowed);
    CHECK_EQ_STR(item_decide(pol, &d, &imm), "show");
    CHECK_EQ_STR(item_decide(pol, &d, &obs), "role");
    cr_policy_decide_write(pol, &req, &fx.pt, "Immunization", &d);
    CHECK(d.is_allowed);
    p = principal(NONE_ORG, "R0260", "direct-care");
    req = request(&p, "self-claimed: vaccination clinic");
    cr_policy_decide_patient(pol, &req, &fx.pt, &d);
    CHECK_EQ_STR(d.code, "claim-not-permitted");
    /* Replaced role: no emergency. */
    p = principal(NONE_ORG, "R8000", "emergency");
    req = request(&p, "emergency: major-incident");
    cr_policy_decide_patient(pol, &req, &fx.pt, &d);
    CHECK_EQ_STR(d.code, "claim-not-permitted");
    /* The configured reason list is the one used. */
    p = principal(NONE_ORG, "R8014", "emergency");
    req = request(&p, "emergency: major-incident");
    cr_policy_decide_patient(pol, &req, &fx.pt, &d);
    CHECK(d.is_allowed);
    req = request(&p, "emergency: life-threatening");
    cr_policy_decide_patient(pol, &req, &fx.pt, &d);
    CHECK_EQ_STR(d.code, "reason-invalid");
    CHECK(strstr(d.msg, "major-incident") != NULL);
    cr_policy_destroy(pol);

    /* An empty role table denies every staff role; empty lists work. */
    pol = load("{\"roles\": {\"R8000\": null, \"R8001\": null, \"R8003\": null,"
               " \"R8004\": null, \"R8008\": null, \"R8009\": null,"
               " \"R8010\": null, \"R8014\": null},"
               " \"sensitive_codes\": [], \"emergency_reasons\": []}");
    p = principal(GP_ORG, "R8000", "direct-care");
    req = request(&p, NULL);
    cr_policy_decide_patient(pol, &req, &fx.pt, &d);
    CHECK_EQ_STR(d.code, "role-not-permitted");
    CHECK(strstr(d.msg, "(none)") != NULL || strstr(d.msg, "none") != NULL);
    CHECK_EQ_INT(cr_policy_sensitive_codes(pol, &systems, &codes), 0);
    CHECK(!cr_policy_is_sensitive_code(pol, SCT, "52637005"));
    cr_policy_destroy(pol);

    /* Supervised roles are read-only unless told otherwise. */
    pol = load("{\"roles\": {\"R8004\": {\"see\": \"all\","
               " \"supervised\": true, \"write\": true}}}");
    p = principal(GP_ORG, "R8004", "direct-care");
    req = request(&p, NULL);
    req.supervisor = cr_str_c("6001");
    cr_policy_decide_write(pol, &req, &fx.pt, "Observation", &d);
    CHECK(d.is_allowed);
    CHECK_EQ_STR(alerts_str(d.alerts), "student");
    cr_policy_destroy(pol);
}

TEST(config_errors)
{
    static const struct {
        const char *json, *where, *code, *says;
    } cases[] = {
        { "[]", "policy", "value", "JSON object" },
        { "{\"bogus\": 1}", "policy.bogus", "structure", "not a known key" },
        { "{\"roles\": []}", "policy.roles", "value", "object" },
        { "{\"roles\": {\"doctor\": {\"see\": \"all\"}}}",
          "policy.roles.doctor", "value", "SDS job role code" },
        { "{\"roles\": {\"R8000\": \"all\"}}", "policy.roles.R8000", "value",
          "object" },
        { "{\"roles\": {\"R8000\": {}}}", "policy.roles.R8000", "required",
          "\"see\"" },
        { "{\"roles\": {\"R8000\": {\"see\": \"most\"}}}",
          "policy.roles.R8000.see", "value", "\"all\"" },
        { "{\"roles\": {\"R8000\": {\"see\": [\"Patient\", \"Patients\"]}}}",
          "policy.roles.R8000.see[1]", "value", "resource type" },
        { "{\"roles\": {\"R8000\": {\"see\": [\"Composition:summary\"]}}}",
          "policy.roles.R8000.see[0]", "value", "discharge-summary" },
        { "{\"roles\": {\"R8000\": {\"see\": [42]}}}",
          "policy.roles.R8000.see[0]", "value", "resource type" },
        { "{\"roles\": {\"R8000\": {\"see\": \"all\", \"supervise\": true}}}",
          "policy.roles.R8000.supervise", "structure", "not a known key" },
        { "{\"roles\": {\"R8000\": {\"see\": \"all\", \"write\": \"yes\"}}}",
          "policy.roles.R8000.write", "value", "true or false" },
        { "{\"sensitive_codes\": {}}", "policy.sensitive_codes", "value",
          "list" },
        { "{\"sensitive_codes\": [\"http://snomed.info/sct|1\"]}",
          "policy.sensitive_codes[0]", "value", "object" },
        { "{\"sensitive_codes\": [{\"code\": \"1\"}]}",
          "policy.sensitive_codes[0]", "required", "\"system\"" },
        { "{\"sensitive_codes\": [{\"system\": \"\", \"code\": \"1\"}]}",
          "policy.sensitive_codes[0].system", "value", "non-empty" },
        { "{\"sensitive_codes\": [{\"system\": \"s\", \"code\": \"1\","
          " \"version\": \"x\"}]}",
          "policy.sensitive_codes[0].version", "structure", "not a known key" },
        { "{\"discharge_summary_codes\": [{\"system\": \"s\"}]}",
          "policy.discharge_summary_codes[0]", "required", "\"code\"" },
        { "{\"relationship_days\": -1}", "policy.relationship_days", "value",
          "0 to 3650" },
        { "{\"relationship_days\": 3651}", "policy.relationship_days", "value",
          "0 to 3650" },
        { "{\"relationship_days\": \"90\"}", "policy.relationship_days",
          "value", "whole number" },
        { "{\"relationship_days\": 1.5}", "policy.relationship_days", "value",
          "whole number" },
        { "{\"emergency_overrides_objection\": 1}",
          "policy.emergency_overrides_objection", "value", "true or false" },
        { "{\"emergency_reasons\": [{\"code\": \"Bad Code\","
          " \"display\": \"x\"}]}",
          "policy.emergency_reasons[0]", "value", "a-z" },
        { "{\"emergency_reasons\": [{\"code\": \"a\"}]}",
          "policy.emergency_reasons[0]", "value", "display" },
        { "{\"emergency_reasons\": [{\"code\": \"a\", \"display\": \"x\"},"
          " {\"code\": \"a\", \"display\": \"y\"}]}",
          "policy.emergency_reasons[1]", "value", "repeats" },
        { "{\"out_of_hours\": \"nights\"}", "policy.out_of_hours", "value",
          "object" },
        { "{\"out_of_hours\": {\"start\": \"8pm\"}}",
          "policy.out_of_hours.start", "value", "HH:MM" },
        { "{\"out_of_hours\": {\"end\": \"24:01\"}}",
          "policy.out_of_hours.end", "value", "HH:MM" },
        { "{\"out_of_hours\": {\"start\": \"12:60\"}}",
          "policy.out_of_hours.start", "value", "HH:MM" },
        { "{\"out_of_hours\": {\"timezone\": \"Europe/Paris\"}}",
          "policy.out_of_hours.timezone", "value", "Europe/London" },
        { "{\"out_of_hours\": {\"weekend\": true}}",
          "policy.out_of_hours.weekend", "structure", "not a known key" },
    };

    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        struct cr_err err = load_bad(cases[i].json);
        snprintf(cell, sizeof cell, "config %s", cases[i].json);
        MCHECK_STR(err.where, cases[i].where);
        MCHECK_STR(err.code, cases[i].code);
        MCHECK(strstr(err.msg, cases[i].says) != NULL);
        MCHECK(strstr(err.msg, cases[i].where) != NULL);
    }
}

TEST(config_limits)
{
    /* 33 emergency reasons, 65 roles, 49 types for one role. */
    char buf[8192];
    size_t len = 0;
    struct cr_err err;

    len += (size_t)snprintf(buf + len, sizeof buf - len,
                            "{\"emergency_reasons\": [");
    for (int i = 0; i < 33; i++)
        len += (size_t)snprintf(buf + len, sizeof buf - len,
                                "%s{\"code\": \"r%d\", \"display\": \"x\"}",
                                i ? "," : "", i);
    snprintf(buf + len, sizeof buf - len, "]}");
    err = load_bad(buf);
    CHECK_EQ_STR(err.where, "policy.emergency_reasons");

    len = (size_t)snprintf(buf, sizeof buf, "{\"roles\": {");
    for (int i = 0; i < 60; i++)
        len += (size_t)snprintf(buf + len, sizeof buf - len,
                                "%s\"R%04d\": {\"see\": \"all\"}",
                                i ? "," : "", i);
    snprintf(buf + len, sizeof buf - len, "}}");
    err = load_bad(buf);   /* 8 defaults + 60 > 64 */
    CHECK(strstr(err.msg, "at most 64") != NULL);
}

/* ---- speed ------------------------------------------------------------- */

TEST(item_decision_is_fast)
{
    struct cr_policy *pol = load(NULL);
    struct cr_principal p = principal(NONE_ORG, "R8014", "direct-care");
    struct cr_policy_request req = request(&p, "self-claimed: assessment");
    struct patient_fx fx;
    struct cr_policy_decision d;
    struct cr_policy_item its[I_N];
    int64_t t0, t1;
    long shown = 0;
    const long n = 2000000;

    patient_fx(&fx, O_BY_OTHER, NONE_ORG, true);
    cr_policy_decide_patient(pol, &req, &fx.pt, &d);
    CHECK(d.is_allowed);
    for (int i = 0; i < I_N; i++)
        its[i] = item_of((enum item_id)i, NONE_ORG);
    t0 = cr_clock_mono_us();
    for (long i = 0; i < n; i++)
        shown += cr_policy_decide_item(pol, &d, &its[i % I_N], NULL)
                 != CR_POLICY_WITHHOLD;
    t1 = cr_clock_mono_us();
    CHECK(shown > 0);
    /* Well under a microsecond each, even with sanitizers. */
    CHECK((double)(t1 - t0) * 1000.0 / (double)n < 1000.0);
    printf("item decision: %.1f ns each\n",
           (double)(t1 - t0) * 1000.0 / (double)n);

    t0 = cr_clock_mono_us();
    for (long i = 0; i < n / 10; i++)
        cr_policy_decide_patient(pol, &req, &fx.pt, &d);
    t1 = cr_clock_mono_us();
    printf("patient decision: %.1f ns each\n",
           (double)(t1 - t0) * 1000.0 / (double)(n / 10));
    cr_policy_destroy(pol);
}

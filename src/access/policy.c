/* policy.c: the access decisions: may this principal see this patient's
 * record, and then, item by item, may they see this resource.
 *
 * Everything here is a pure function of its arguments: the facts come in
 * as plain structs, the answer goes out in a fixed-size value, nothing is
 * allocated and nothing is remembered. The patient-level decision does the
 * expensive thinking once per request and leaves in the decision exactly
 * what the per-item step needs (the principal's organisation, the role row,
 * the patient's compartment ids and a few flags), so the item step is a
 * handful of comparisons. The order of the rules is the contract written
 * in policy.h; docs/internals/policy.md explains why each is where it is.
 *
 * Depends on policyInt.h, core/str.h and access/principal.h. Thread-safe:
 * only reads the policy. */
#include "access/policyInt.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

/* Private flags of a decision (priv.flags). */
#define F_PATIENT 0x01u    /* patient principal: not-for-patient withheld */
#define F_SYSTEM 0x02u     /* source system: other orgs' items withheld */
#define F_DIRECTORY 0x04u  /* no patient: every patient item withheld */
#define F_OBJECTION 0x08u  /* objection in force: other orgs' withheld */
#define F_REDACT 0x10u     /* restricted: other orgs' Patient redacted */

#define MS_PER_DAY INT64_C(86400000)

/* The types a patient may write to their own record (sorted). */
static const char *const patient_write_types[] = {
    "Appointment", "Communication", "Consent", "Observation",
    "QuestionnaireResponse",
};

static const struct cr_policy_patient no_patient;

/* ---- small helpers --------------------------------------------------- */

static bool
is_empty(const char *s)
{
    return s == NULL || s[0] == '\0';
}

static bool
streq(const char *a, const char *b)
{
    return a != NULL && b != NULL && strcmp(a, b) == 0;
}

/* Copy 'n' bytes of 's' into 'dst' ('size' bytes), truncated, with
 * control characters made spaces so the value is safe in log lines. */
static void
copy_bytes(char *dst, size_t size, const char *s, size_t n)
{
    if (n >= size)
        n = size - 1;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        dst[i] = (c < 0x20 || c == 0x7f) ? ' ' : (char)c;
    }
    dst[n] = '\0';
}

static void
copy_c(char *dst, size_t size, const char *s)
{
    copy_bytes(dst, size, s ? s : "", s ? strlen(s) : 0);
}

static void
copy_str(char *dst, size_t size, struct cr_str s)
{
    copy_bytes(dst, size, s.ptr ? s.ptr : "", s.ptr ? s.len : 0);
}

/* Append printf-style to 'buf' ('size' bytes) at '*len'; truncates. */
static void
appendf(char *buf, size_t size, size_t *len, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static void
appendf(char *buf, size_t size, size_t *len, const char *fmt, ...)
{
    va_list ap;
    int n;

    if (*len >= size - 1)
        return;
    va_start(ap, fmt);
    n = vsnprintf(buf + *len, size - *len, fmt, ap);
    va_end(ap);
    if (n > 0)
        *len += (size_t)n < size - *len ? (size_t)n : size - *len - 1;
}

static struct cr_str
trim(struct cr_str s)
{
    while (s.len > 0 && (s.ptr[0] == ' ' || s.ptr[0] == '\t'))
        s.ptr++, s.len--;
    while (s.len > 0 && (s.ptr[s.len - 1] == ' ' || s.ptr[s.len - 1] == '\t'))
        s.len--;
    return s;
}

static char
lower(char c)
{
    return (c >= 'A' && c <= 'Z') ? (char)(c - 'A' + 'a') : c;
}

static bool
eq_nocase(struct cr_str a, const char *b)
{
    size_t n = strlen(b);
    if (a.len != n)
        return false;
    for (size_t i = 0; i < n; i++)
        if (lower(a.ptr[i]) != lower(b[i]))
            return false;
    return true;
}

/* ---- claims ---------------------------------------------------------- */

enum cr_policy_claim_kind
cr_policy_parse_claim(struct cr_str in, struct cr_policy_claim *out)
{
    struct cr_str s = trim(in.ptr ? in : (struct cr_str){ "", 0 });
    struct cr_str head, rest;

    memset(out, 0, sizeof *out);
    if (s.len == 0)
        return out->kind = CR_POLICY_CLAIM_NONE;
    rest = cr_str_cut(s, ':', &head);
    if (rest.ptr == NULL) {
        out->text = s;
        return out->kind = CR_POLICY_CLAIM_INVALID;
    }
    head = trim(head);
    rest = trim(rest);
    if (eq_nocase(head, "self-claimed")) {
        out->text = rest;
        return out->kind = CR_POLICY_CLAIM_SELF;
    }
    if (eq_nocase(head, "emergency")) {
        size_t i = 0;
        while (i < rest.len && rest.ptr[i] != ' ' && rest.ptr[i] != '\t')
            i++;
        out->code = (struct cr_str){ rest.ptr, i };
        out->text = trim((struct cr_str){ rest.ptr + i, rest.len - i });
        return out->kind = CR_POLICY_CLAIM_EMERGENCY;
    }
    out->text = s;
    return out->kind = CR_POLICY_CLAIM_INVALID;
}

/* ---- names ----------------------------------------------------------- */

const char *
cr_policy_deny_code(enum cr_policy_deny deny)
{
    switch (deny) {
    case CR_POLICY_DENY_NONE: return "";
    case CR_POLICY_DENY_PURPOSE: return "purpose-not-permitted";
    case CR_POLICY_DENY_ROLE: return "role-not-permitted";
    case CR_POLICY_DENY_OTHER_PATIENT: return "patient-access-other-patient";
    case CR_POLICY_DENY_NO_RELATIONSHIP: return "no-relationship";
    case CR_POLICY_DENY_REASON_REQUIRED: return "reason-required";
    case CR_POLICY_DENY_REASON_INVALID: return "reason-invalid";
    case CR_POLICY_DENY_EMERGENCY_PURPOSE: return "emergency-purpose-required";
    case CR_POLICY_DENY_CLAIM: return "claim-not-permitted";
    case CR_POLICY_DENY_SUPERVISOR: return "supervisor-required";
    case CR_POLICY_DENY_TYPE: return "type-not-permitted";
    }
    return "unknown";
}

const char *
cr_policy_basis_name(enum cr_policy_basis basis)
{
    switch (basis) {
    case CR_POLICY_BASIS_NONE: return "none";
    case CR_POLICY_BASIS_REGISTERED_GP: return "registered-gp";
    case CR_POLICY_BASIS_RELATIONSHIP: return "relationship";
    case CR_POLICY_BASIS_SELF_CLAIMED: return "self-claimed";
    case CR_POLICY_BASIS_EMERGENCY: return "emergency";
    case CR_POLICY_BASIS_PATIENT: return "patient";
    case CR_POLICY_BASIS_SYSTEM: return "system";
    case CR_POLICY_BASIS_DIRECTORY: return "directory";
    }
    return "unknown";
}

const char *
cr_policy_withhold_name(enum cr_policy_withhold reason)
{
    switch (reason) {
    case CR_POLICY_WITHHOLD_NONE: return "none";
    case CR_POLICY_WITHHOLD_DENIED: return "denied";
    case CR_POLICY_WITHHOLD_OTHER_PATIENT: return "other-patient";
    case CR_POLICY_WITHHOLD_SENSITIVE: return "sensitive";
    case CR_POLICY_WITHHOLD_ROLE: return "role";
    case CR_POLICY_WITHHOLD_NOT_FOR_PATIENT: return "not-for-patient";
    case CR_POLICY_WITHHOLD_ORGANISATION: return "organisation";
    case CR_POLICY_WITHHOLD_OBJECTION: return "objection";
    }
    return "unknown";
}

static const char *const alert_names[] = {
    "self-claimed", "emergency",  "same-surname",
    "same-address", "restricted", "flagged",
    "out-of-hours", "objection-overridden", "student",
};

const char *
cr_policy_alert_name(unsigned alert)
{
    for (unsigned i = 0; i < sizeof alert_names / sizeof alert_names[0]; i++)
        if (alert == (1u << i))
            return alert_names[i];
    return "unknown";
}

size_t
cr_policy_alert_names(unsigned alerts, char *out, size_t size)
{
    size_t len = 0;

    if (size == 0)
        return 0;
    out[0] = '\0';
    for (unsigned i = 0; i < sizeof alert_names / sizeof alert_names[0]; i++)
        if (alerts & (1u << i))
            appendf(out, size, &len, "%s%s", len ? "," : "", alert_names[i]);
    return len;
}

unsigned
cr_policy_security_label(const char *system, const char *code)
{
    static const char conf[] =
        "http://terminology.hl7.org/CodeSystem/v3-Confidentiality";
    static const char act[] =
        "http://terminology.hl7.org/CodeSystem/v3-ActCode";

    if (system == NULL || code == NULL)
        return 0;
    if (strcmp(system, conf) == 0)
        return (strcmp(code, "R") == 0 || strcmp(code, "V") == 0)
                   ? CR_POLICY_LABEL_RESTRICTED
                   : 0;
    if (strcmp(system, act) == 0) {
        if (strcmp(code, "NOPAT") == 0)
            return CR_POLICY_LABEL_NOT_FOR_PATIENT;
        if (strcmp(code, "NOVIP") == 0)
            return CR_POLICY_LABEL_FLAGGED;
    }
    return 0;
}

/* ---- the patient-level decision -------------------------------------- */

static void
init(const struct cr_policy *policy, const struct cr_policy_request *req,
     struct cr_policy_decision *out)
{
    const struct cr_principal *p = req->principal;
    struct cr_policy_claim claim;
    struct cr_str src = req->access_reason.len
                            ? req->access_reason
                            : cr_str_c(p->reason);

    memset(out, 0, sizeof *out);
    out->code = "";
    out->basis = CR_POLICY_BASIS_NONE;
    out->priv.policy = policy;
    out->priv.role = -1;
    copy_c(out->priv.org, sizeof out->priv.org, p->org);
    cr_policy_parse_claim(src, &claim);
    out->claim = claim.kind;
    copy_str(out->supervisor, sizeof out->supervisor, trim(req->supervisor));
}

static void
deny(struct cr_policy_decision *out, enum cr_policy_deny why,
     const char *fmt, ...) __attribute__((format(printf, 3, 4)));

static void
deny(struct cr_policy_decision *out, enum cr_policy_deny why,
     const char *fmt, ...)
{
    va_list ap;

    out->is_allowed = false;
    out->deny = why;
    out->code = cr_policy_deny_code(why);
    out->basis = CR_POLICY_BASIS_NONE;
    out->is_redacted = false;
    out->is_filtered = false;
    out->priv.flags = 0;
    va_start(ap, fmt);
    vsnprintf(out->msg, sizeof out->msg, fmt, ap);
    va_end(ap);
}

static void
allow(struct cr_policy_decision *out, enum cr_policy_basis basis,
      unsigned flags)
{
    out->is_allowed = true;
    out->deny = CR_POLICY_DENY_NONE;
    out->code = "";
    out->msg[0] = '\0';
    out->basis = basis;
    out->priv.flags |= flags;
}

/* "life-threatening, lacks-capacity, ..." */
static const char *
reason_list(const struct cr_policy *policy, char *buf, size_t size)
{
    size_t len = 0;

    buf[0] = '\0';
    for (size_t i = 0; i < policy->nreasons; i++)
        appendf(buf, size, &len, "%s%s", i ? ", " : "",
                policy->reasons[i].code);
    if (len == 0)
        appendf(buf, size, &len, "(none configured)");
    return buf;
}

static const char *
role_list(const struct cr_policy *policy, char *buf, size_t size)
{
    size_t len = 0;

    buf[0] = '\0';
    for (size_t i = 0; i < policy->nroles; i++)
        appendf(buf, size, &len, "%s%s", i ? ", " : "",
                policy->roles[i].code);
    if (len == 0)
        appendf(buf, size, &len, "none");
    return buf;
}

/* Is 'org' caring for the patient at 'now'? */
static enum cr_policy_basis
relationship(const struct cr_policy *policy, const char *org,
             const struct cr_policy_patient *pt, int64_t now)
{
    uint64_t window = (uint64_t)policy->relationship_days * MS_PER_DAY;

    for (size_t i = 0; i < pt->n_gp_orgs; i++)
        if (streq(pt->gp_orgs[i], org))
            return CR_POLICY_BASIS_REGISTERED_GP;
    for (size_t i = 0; i < pt->n_rels; i++) {
        const struct cr_policy_rel *r = &pt->rels[i];
        if (!streq(r->org, org))
            continue;
        /* Unsigned difference: exact whenever end < now, whatever the
         * values, so hostile facts cannot overflow it. */
        if (r->end_ms >= now || (uint64_t)now - (uint64_t)r->end_ms <= window)
            return CR_POLICY_BASIS_RELATIONSHIP;
    }
    return CR_POLICY_BASIS_NONE;
}

/* Case-insensitive equality of two names, ignoring surrounding spaces. */
static bool
same_name(const char *a, const char *b)
{
    struct cr_str x, y;

    if (is_empty(a) || is_empty(b))
        return false;
    x = trim(cr_str_c(a));
    y = trim(cr_str_c(b));
    if (x.len == 0 || x.len != y.len)
        return false;
    for (size_t i = 0; i < x.len; i++)
        if (lower(x.ptr[i]) != lower(y.ptr[i]))
            return false;
    return true;
}

/* Postcodes compared without spaces and case: "E1 6AN" == "e16an". */
static bool
same_postcode(const char *a, const char *b)
{
    size_t i = 0, j = 0, n = 0;

    if (is_empty(a) || is_empty(b))
        return false;
    for (;;) {
        while (a[i] == ' ')
            i++;
        while (b[j] == ' ')
            j++;
        if (a[i] == '\0' || b[j] == '\0')
            return a[i] == '\0' && b[j] == '\0' && n > 0;
        if (lower(a[i]) != lower(b[j]))
            return false;
        i++, j++, n++;
    }
}

static unsigned
identity_alerts(const struct cr_policy *policy,
                const struct cr_policy_request *req,
                const struct cr_policy_patient *pt)
{
    unsigned a = 0;

    if (same_name(req->surname, pt->surname))
        a |= CR_POLICY_ALERT_SAME_SURNAME;
    if (same_postcode(req->postcode, pt->postcode))
        a |= CR_POLICY_ALERT_SAME_ADDRESS;
    if (pt->is_restricted)
        a |= CR_POLICY_ALERT_RESTRICTED;
    if (pt->is_flagged)
        a |= CR_POLICY_ALERT_FLAGGED;
    if (cr_policy_ooh_at(&policy->ooh, req->now_ms))
        a |= CR_POLICY_ALERT_OUT_OF_HOURS;
    return a;
}

static void
deny_purpose(struct cr_policy_decision *out, const char *purpose)
{
    if (strcmp(purpose, "research") == 0)
        deny(out, CR_POLICY_DENY_PURPOSE,
             "Purpose 'research' may not open direct-care records. "
             "Research works on depersonalised extracts for an approved "
             "project.");
    else if (strcmp(purpose, "audit") == 0)
        deny(out, CR_POLICY_DENY_PURPOSE,
             "Purpose 'audit' may read the audit trail (AuditEvent) only, "
             "not patient records. To care for this patient, sign in with "
             "purpose direct-care.");
    else
        deny(out, CR_POLICY_DENY_PURPOSE,
             "Purpose '%s' may not open patient records; use direct-care, "
             "emergency or patient-access.",
             purpose);
}

static void
deny_role(const struct cr_policy *policy, struct cr_policy_decision *out,
          const char *role)
{
    char roles[256];

    deny(out, CR_POLICY_DENY_ROLE,
         "Role '%s' is not in this node's role table, so it may not open "
         "patient records. Sign in with a role this node grants (%s), or "
         "ask the node's administrator to configure the role.",
         role, role_list(policy, roles, sizeof roles));
}

/* Copy the patient's compartment ids and objection into the decision. */
static void
take_patient(struct cr_policy_decision *out,
             const struct cr_policy_patient *pt)
{
    size_t n = pt->n_ids < CR_POLICY_MAX_IDS ? pt->n_ids : CR_POLICY_MAX_IDS;

    out->priv.n_ids = 0;
    for (size_t i = 0; i < n; i++) {
        size_t len = is_empty(pt->ids[i]) ? 0 : strlen(pt->ids[i]);
        if (len == 0 || len >= sizeof out->priv.ids[0])
            continue;   /* cannot match a stored id: never widens */
        memcpy(out->priv.ids[out->priv.n_ids++], pt->ids[i], len + 1);
    }
    if (pt->has_objection)
        copy_c(out->objection_org, sizeof out->objection_org,
               pt->objection_org);
}

static void
decide_staff(const struct cr_policy *policy,
             const struct cr_policy_request *req,
             const struct cr_policy_patient *pt,
             struct cr_policy_decision *out)
{
    const struct cr_principal *p = req->principal;
    bool is_emergency = strcmp(p->purpose, "emergency") == 0;
    const struct policy_role *role;
    enum cr_policy_basis legit;
    struct cr_policy_claim claim;
    char reasons[256];

    out->alerts |= identity_alerts(policy, req, pt);
    role = cr_policy_role_find(policy, p->role);
    if (role == NULL) {
        deny_role(policy, out, p->role);
        return;
    }
    out->priv.role = (int)(role - policy->roles);
    legit = relationship(policy, p->org, pt, req->now_ms);
    cr_policy_parse_claim(req->access_reason.len ? req->access_reason
                                                 : cr_str_c(p->reason),
                          &claim);

    if (role->is_supervised) {
        if (is_emergency) {
            deny(out, CR_POLICY_DENY_CLAIM,
                 "Role %s (supervised) may not use emergency access. Ask "
                 "your supervising clinician to open the record.",
                 role->code);
            return;
        }
        if (out->supervisor[0] == '\0') {
            deny(out, CR_POLICY_DENY_SUPERVISOR,
                 "Role %s works under supervision: name your supervising "
                 "clinician with the header X-Supervisor: <their SDS user "
                 "id>. Each access is reported for review.",
                 role->code);
            return;
        }
        if (legit == CR_POLICY_BASIS_NONE) {
            deny(out, CR_POLICY_DENY_NO_RELATIONSHIP,
                 "Role %s (supervised) may open only the records of "
                 "patients your organisation (%s) is caring for: registered "
                 "GP practice, or an encounter, episode of care, referral "
                 "or appointment within the last %d days. Self-claimed and "
                 "emergency access are not available to this role; ask "
                 "your supervising clinician to open the record.",
                 role->code, p->org, policy->relationship_days);
            return;
        }
        allow(out, legit, 0);
        out->alerts |= CR_POLICY_ALERT_STUDENT;
    } else if (is_emergency) {
        if (!role->may_emergency) {
            deny(out, CR_POLICY_DENY_CLAIM,
                 "Role %s may not use emergency access: it is for clinical "
                 "care. Use a direct-care token with your care "
                 "relationship, or a self-claimed relationship.",
                 role->code);
            return;
        }
        if (claim.kind == CR_POLICY_CLAIM_NONE
            || (claim.kind == CR_POLICY_CLAIM_EMERGENCY
                && claim.code.len == 0)) {
            deny(out, CR_POLICY_DENY_REASON_REQUIRED,
                 "Emergency access needs a coded reason: send "
                 "X-Access-Reason: \"emergency: <code> <details>\" with "
                 "code one of: %s.",
                 reason_list(policy, reasons, sizeof reasons));
            return;
        }
        if (claim.kind != CR_POLICY_CLAIM_EMERGENCY) {
            deny(out, CR_POLICY_DENY_REASON_INVALID,
                 "With purpose emergency the reason must read "
                 "\"emergency: <code> <details>\" with code one of: %s.",
                 reason_list(policy, reasons, sizeof reasons));
            return;
        }
        if (cr_policy_emergency_reason(policy, claim.code) == NULL) {
            deny(out, CR_POLICY_DENY_REASON_INVALID,
                 "'%.*s' is not an emergency reason code; use one of: %s.",
                 (int)(claim.code.len > 40 ? 40 : claim.code.len),
                 claim.code.ptr,
                 reason_list(policy, reasons, sizeof reasons));
            return;
        }
        allow(out, CR_POLICY_BASIS_EMERGENCY, 0);
        out->alerts |= CR_POLICY_ALERT_EMERGENCY;
    } else if (legit != CR_POLICY_BASIS_NONE) {
        allow(out, legit, 0);
    } else {
        switch (claim.kind) {
        case CR_POLICY_CLAIM_NONE:
            deny(out, CR_POLICY_DENY_NO_RELATIONSHIP,
                 "Your organisation (%s) has no recorded care relationship "
                 "with this patient (registered GP practice, or an "
                 "encounter, episode of care, referral or appointment "
                 "within the last %d days). State a self-claimed "
                 "relationship with a reason (X-Access-Reason: "
                 "\"self-claimed: <reason>\"), or in an emergency use a "
                 "token with purpose emergency and X-Access-Reason: "
                 "\"emergency: <code> <reason>\". Both are reported to "
                 "your privacy officer.",
                 p->org, policy->relationship_days);
            return;
        case CR_POLICY_CLAIM_SELF:
            if (!role->may_self_claim) {
                deny(out, CR_POLICY_DENY_CLAIM,
                     "Role %s may not state a self-claimed relationship; "
                     "it sees only patients its organisation (%s) is "
                     "caring for.",
                     role->code, p->org);
                return;
            }
            if (claim.text.len == 0) {
                deny(out, CR_POLICY_DENY_REASON_REQUIRED,
                     "A self-claimed relationship needs a reason: send "
                     "X-Access-Reason: \"self-claimed: <why you need this "
                     "record>\".");
                return;
            }
            allow(out, CR_POLICY_BASIS_SELF_CLAIMED, 0);
            out->alerts |= CR_POLICY_ALERT_SELF_CLAIMED;
            break;
        case CR_POLICY_CLAIM_EMERGENCY:
            deny(out, CR_POLICY_DENY_EMERGENCY_PURPOSE,
                 "Emergency access needs a token with purpose emergency; "
                 "this token's purpose is %s. Sign in for emergency "
                 "access, or state a self-claimed relationship instead.",
                 p->purpose);
            return;
        case CR_POLICY_CLAIM_INVALID:
            deny(out, CR_POLICY_DENY_REASON_INVALID,
                 "The access reason must read \"self-claimed: <reason>\" "
                 "or \"emergency: <code> <reason>\" (code one of: %s).",
                 reason_list(policy, reasons, sizeof reasons));
            return;
        }
    }

    /* Allowed: what the item step must filter. */
    if (pt->has_objection) {
        if (is_emergency && policy->is_emergency_over_objection) {
            out->alerts |= CR_POLICY_ALERT_OBJECTION_OVERRIDDEN;
        } else {
            out->priv.flags |= F_OBJECTION;
            out->is_filtered = true;
        }
    }
    if (pt->is_restricted && out->basis != CR_POLICY_BASIS_REGISTERED_GP
        && out->basis != CR_POLICY_BASIS_RELATIONSHIP) {
        out->priv.flags |= F_REDACT;
        out->is_redacted = true;
    }
}

void
cr_policy_decide_patient(const struct cr_policy *policy,
                         const struct cr_policy_request *req,
                         const struct cr_policy_patient *patient,
                         struct cr_policy_decision *out)
{
    const struct cr_principal *p = req->principal;
    const struct cr_policy_patient *pt = patient ? patient : &no_patient;

    init(policy, req, out);
    take_patient(out, pt);

    if (strcmp(p->purpose, "patient-access") == 0) {
        if (is_empty(p->patient)) {
            deny(out, CR_POLICY_DENY_OTHER_PATIENT,
                 "This patient-access token names no patient (claim "
                 "'patient'), so it opens no record.");
        } else if (!streq(p->patient, pt->nhs_number)) {
            deny(out, CR_POLICY_DENY_OTHER_PATIENT,
                 "A patient-access token opens only the record of the "
                 "patient it names; this is another person's record.");
        } else {
            allow(out, CR_POLICY_BASIS_PATIENT, F_PATIENT);
        }
        return;
    }
    if (strcmp(p->purpose, "system") == 0) {
        allow(out, CR_POLICY_BASIS_SYSTEM, F_SYSTEM);
        return;
    }
    if (strcmp(p->purpose, "direct-care") == 0
        || strcmp(p->purpose, "emergency") == 0) {
        decide_staff(policy, req, pt, out);
        return;
    }
    deny_purpose(out, p->purpose);
}

void
cr_policy_decide_directory(const struct cr_policy *policy,
                           const struct cr_policy_request *req,
                           struct cr_policy_decision *out)
{
    const struct cr_principal *p = req->principal;

    init(policy, req, out);
    if (strcmp(p->purpose, "patient-access") == 0) {
        allow(out, CR_POLICY_BASIS_DIRECTORY, F_DIRECTORY | F_PATIENT);
    } else if (strcmp(p->purpose, "system") == 0) {
        allow(out, CR_POLICY_BASIS_DIRECTORY, F_DIRECTORY | F_SYSTEM);
    } else if (strcmp(p->purpose, "direct-care") == 0
               || strcmp(p->purpose, "emergency") == 0) {
        const struct policy_role *role = cr_policy_role_find(policy, p->role);
        if (role == NULL) {
            deny_role(policy, out, p->role);
            return;
        }
        out->priv.role = (int)(role - policy->roles);
        allow(out, CR_POLICY_BASIS_DIRECTORY, F_DIRECTORY);
    } else {
        deny_purpose(out, p->purpose);
    }
}

/* ---- writes ---------------------------------------------------------- */

static bool
role_writes_type(const struct policy_role *role, const char *type)
{
    size_t n = strlen(type);

    if (role->is_all)
        return true;
    for (size_t i = 0; i < role->ntypes; i++)
        if (role->types[i].len == n && !role->types[i].is_discharge_only
            && memcmp(role->types[i].name, type, n) == 0)
            return true;
    return false;
}

void
cr_policy_decide_write(const struct cr_policy *policy,
                       const struct cr_policy_request *req,
                       const struct cr_policy_patient *patient,
                       const char *type, struct cr_policy_decision *out)
{
    const struct cr_principal *p = req->principal;
    const char *t = type ? type : "";

    if (strcmp(p->purpose, "system") == 0) {
        init(policy, req, out);
        if (patient != NULL)
            take_patient(out, patient);
        allow(out, CR_POLICY_BASIS_SYSTEM, F_SYSTEM);
        return;
    }
    if (strcmp(p->purpose, "patient-access") == 0) {
        bool ok = false;
        for (size_t i = 0; i < sizeof patient_write_types
                                   / sizeof patient_write_types[0]; i++)
            ok = ok || strcmp(t, patient_write_types[i]) == 0;
        cr_policy_decide_patient(policy, req, patient, out);
        if (out->is_allowed && !ok)
            deny(out, CR_POLICY_DENY_TYPE,
                 "Patients may add only Appointment, Communication, "
                 "Consent, Observation and QuestionnaireResponse resources "
                 "to their own record, not %s.",
                 t);
        return;
    }
    if (strcmp(p->purpose, "emergency") == 0) {
        init(policy, req, out);
        deny(out, CR_POLICY_DENY_PURPOSE,
             "Emergency access is read-only. Record care with a "
             "direct-care token once the relationship is recorded.");
        return;
    }
    if (strcmp(p->purpose, "direct-care") == 0) {
        const struct policy_role *role = cr_policy_role_find(policy, p->role);
        if (role == NULL || !role->may_write || !role_writes_type(role, t)) {
            init(policy, req, out);
            if (role == NULL)
                deny_role(policy, out, p->role);
            else if (!role->may_write)
                deny(out, CR_POLICY_DENY_ROLE,
                     "Role %s is read-only on this node.", role->code);
            else
                deny(out, CR_POLICY_DENY_TYPE,
                     "Role %s may not write %s resources.", role->code, t);
            return;
        }
        if (patient == NULL) {
            init(policy, req, out);
            out->priv.role = (int)(role - policy->roles);
            allow(out, CR_POLICY_BASIS_DIRECTORY, 0);
            return;
        }
        cr_policy_decide_patient(policy, req, patient, out);
        return;
    }
    init(policy, req, out);
    deny_purpose(out, p->purpose);
}

/* ---- items ----------------------------------------------------------- */

static bool
role_sees(const struct policy_role *role, const struct cr_policy_item *item,
          bool is_any_qualifier)
{
    const char *type = item->type ? item->type : "";
    size_t n = strlen(type);

    if (role->is_all)
        return true;
    for (size_t i = 0; i < role->ntypes; i++) {
        const struct policy_type *t = &role->types[i];
        if (t->len == n && memcmp(t->name, type, n) == 0)
            return !t->is_discharge_only || is_any_qualifier
                   || item->is_discharge_summary;
    }
    return false;
}

/* The content rules of cr_policy_decide_item, after the patient check. */
static enum cr_policy_withhold
item_rules(const struct cr_policy *policy, const struct cr_policy_decision *d,
           const struct cr_policy_item *item, bool is_own,
           bool is_patient_item, bool is_patient_type)
{
    unsigned f = d->priv.flags;

    if (item->is_sensitive && !is_own)
        return CR_POLICY_WITHHOLD_SENSITIVE;
    if (is_patient_item && d->priv.role >= 0
        && !role_sees(&policy->roles[d->priv.role], item, false))
        return CR_POLICY_WITHHOLD_ROLE;
    if ((f & F_PATIENT) && item->is_not_for_patient)
        return CR_POLICY_WITHHOLD_NOT_FOR_PATIENT;
    if ((f & F_SYSTEM) && !is_own)
        return CR_POLICY_WITHHOLD_ORGANISATION;
    if ((f & F_OBJECTION) && is_patient_item && !is_own && !is_patient_type)
        return CR_POLICY_WITHHOLD_OBJECTION;
    return CR_POLICY_WITHHOLD_NONE;
}

enum cr_policy_show
cr_policy_decide_item(const struct cr_policy *policy,
                      const struct cr_policy_decision *d,
                      const struct cr_policy_item *item,
                      enum cr_policy_withhold *out_reason)
{
    enum cr_policy_withhold why = CR_POLICY_WITHHOLD_NONE;
    enum cr_policy_show show = CR_POLICY_SHOW;
    unsigned f = d->priv.flags;
    bool is_patient_item = !is_empty(item->patient);
    bool is_own = streq(item->org, d->priv.org);
    bool is_patient_type = streq(item->type, "Patient");

    if (!d->is_allowed || d->priv.policy != policy) {
        why = CR_POLICY_WITHHOLD_DENIED;
    } else if (is_patient_item) {
        bool is_covered = false;
        if (!(f & F_DIRECTORY))
            for (size_t i = 0; i < d->priv.n_ids && !is_covered; i++)
                is_covered = strcmp(d->priv.ids[i], item->patient) == 0;
        if (!is_covered)
            why = CR_POLICY_WITHHOLD_OTHER_PATIENT;
    }
    if (why == CR_POLICY_WITHHOLD_NONE)
        why = item_rules(policy, d, item, is_own, is_patient_item,
                         is_patient_type);
    if (why == CR_POLICY_WITHHOLD_NONE && (f & F_REDACT) && !is_own
        && is_patient_type)
        show = CR_POLICY_SHOW_REDACTED;

    if (why != CR_POLICY_WITHHOLD_NONE)
        show = CR_POLICY_WITHHOLD;
    if (out_reason != NULL)
        *out_reason = why;
    return show;
}

const char *
cr_policy_only_org(const struct cr_policy_decision *d)
{
    if (d == NULL || !d->is_allowed || !(d->priv.flags & F_SYSTEM) ||
        d->priv.org[0] == '\0')
        return NULL;
    return d->priv.org;
}

bool
cr_policy_type_permitted(const struct cr_policy *policy,
                         const struct cr_policy_decision *d,
                         const char *type)
{
    struct cr_policy_item item = { 0 };

    if (!d->is_allowed || d->priv.policy != policy)
        return false;
    if (d->priv.role < 0)
        return true;
    item.type = type;
    return role_sees(&policy->roles[d->priv.role], &item, true);
}

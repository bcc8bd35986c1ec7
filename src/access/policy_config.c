/* policy_config.c: the policy's rules: compiled-in defaults, and the
 * "policy" section of the node's JSON configuration laid over them.
 *
 * Every default is written out here once, as data, so docs/access.md can
 * be checked against one place. Configuration is strict: an unknown key, a
 * wrong type or a value out of range is an error naming the key's path,
 * because a policy that silently fell back to something else would be a
 * security bug. The sensitive codes are examples: the real RCGP list is
 * licensed, so a deployment supplies its own.
 *
 * Depends on policyInt.h, core/err, access/principal.h, fhir/fhir.h (type
 * names) and jansson. Loading is not thread-safe against itself only in
 * the sense that each call builds its own policy. */
#include "access/policyInt.h"

#include "fhir/fhir.h"

#include <assert.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SCT "http://snomed.info/sct"
#define LOINC "http://loinc.org"

struct code_def {
    const char *system;
    const char *code;
};

/* Legally sensitive items (RCGP-style categories). Examples only. */
static const struct code_def default_sensitive[] = {
    /* assisted fertilisation (IVF) */
    { SCT, "52637005" },   /* Test tube ovum fertilization */
    { SCT, "63487001" },   /* Assisted fertilization */
    { SCT, "58533008" },   /* Artificial insemination */
    /* gender reassignment */
    { SCT, "407374003" },  /* Transsexual */
    { SCT, "93461009" },   /* Gender dysphoria */
    /* sexually transmitted infections */
    { SCT, "105629000" },  /* Chlamydial infection */
    { SCT, "15628003" },   /* Gonorrhea */
    { SCT, "76272004" },   /* Syphilis */
    /* termination of pregnancy */
    { SCT, "386639001" },  /* Termination of pregnancy */
    { SCT, "714812005" },  /* Induced termination of pregnancy */
};

static const struct code_def default_discharge[] = {
    { SCT, "373942005" },  /* Discharge summary (record artifact) */
    { LOINC, "18842-5" },  /* Discharge summary (document) */
};

static const struct policy_reason default_reasons[] = {
    { "life-threatening", "Immediate threat to life or of serious harm" },
    { "lacks-capacity",
      "The patient is unconscious or lacks capacity and care cannot wait" },
    { "urgent-care",
      "Urgent care is needed before a care relationship can be recorded" },
    { "safeguarding",
      "Immediate safeguarding concern for a child or an adult at risk" },
    { "public-health",
      "Public health emergency or major incident" },
};

/* The default role table. */
struct role_def {
    const char *code;
    const char *see;           /* "all", or types separated by spaces */
    bool is_supervised, may_self_claim, may_emergency, may_write;
};

static const struct role_def default_roles[] = {
    /* Clinical Practitioner Access Role, Nurse, Health Professional */
    { "R8000", "all", false, true, true, true },
    { "R8001", "all", false, true, true, true },
    { "R8003", "all", false, true, true, true },
    /* Healthcare Student: the clinical view under supervision */
    { "R8004", "all", true, false, false, false },
    /* Admin/Clinical Support, Receptionist, Clerical */
    { "R8008", "Patient Appointment Slot Schedule RelatedPerson",
      false, true, false, true },
    { "R8009", "Patient Appointment Slot Schedule RelatedPerson",
      false, true, false, true },
    { "R8010", "Patient Appointment Slot Schedule RelatedPerson",
      false, true, false, true },
    /* Social Worker */
    { "R8014",
      "Patient CarePlan Goal RelatedPerson Flag "
      "Composition:discharge-summary DocumentReference:discharge-summary",
      false, true, true, true },
};

#define DISCHARGE_QUALIFIER ":discharge-summary"

/* ---- code sets ------------------------------------------------------- */

static int
code_cmp(const char *sa, const char *ca, const char *sb, const char *cb)
{
    int c = strcmp(ca, cb);
    return c != 0 ? c : strcmp(sa, sb);
}

static void
codes_free(struct policy_codes *set)
{
    for (size_t i = 0; i < set->n; i++) {
        free(set->systems[i]);
        free(set->codes[i]);
    }
    free(set->systems);
    free(set->codes);
    set->systems = NULL;
    set->codes = NULL;
    set->n = 0;
}

/* Insertion into a sorted set (sets are small and built once); a
 * duplicate is dropped. */
static cr_rc
codes_add(struct policy_codes *set, const char *system, const char *code,
          struct cr_err *err)
{
    size_t lo = 0, hi = set->n;
    char **ns, **nc, *s, *c;

    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int r = code_cmp(set->systems[mid], set->codes[mid], system, code);
        if (r == 0)
            return CR_OK;
        if (r < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    if (set->n >= CR_POLICY_MAX_CODES)
        return cr_err_set(err, CR_EINVAL, "value", NULL,
                          "policy: more than %d codes in one list",
                          CR_POLICY_MAX_CODES);
    ns = realloc(set->systems, (set->n + 1) * sizeof *ns);
    if (ns == NULL)
        goto nomem;
    set->systems = ns;
    nc = realloc(set->codes, (set->n + 1) * sizeof *nc);
    if (nc == NULL)
        goto nomem;
    set->codes = nc;
    s = strdup(system);
    c = strdup(code);
    if (s == NULL || c == NULL) {
        free(s);
        free(c);
        goto nomem;
    }
    memmove(ns + lo + 1, ns + lo, (set->n - lo) * sizeof *ns);
    memmove(nc + lo + 1, nc + lo, (set->n - lo) * sizeof *nc);
    ns[lo] = s;
    nc[lo] = c;
    set->n++;
    return CR_OK;
nomem:
    return cr_err_set(err, CR_ENOMEM, "exception", NULL,
                      "policy: out of memory");
}

bool
cr_policy_codes_has(const struct policy_codes *set, const char *system,
                    const char *code)
{
    size_t lo = 0, hi = set->n;

    if (system == NULL || code == NULL || system[0] == '\0'
        || code[0] == '\0')
        return false;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int r = code_cmp(set->systems[mid], set->codes[mid], system, code);
        if (r == 0)
            return true;
        if (r < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return false;
}

static cr_rc
codes_defaults(struct policy_codes *set, const struct code_def *defs,
               size_t n, struct cr_err *err)
{
    cr_rc rc = CR_OK;
    for (size_t i = 0; i < n && rc == CR_OK; i++)
        rc = codes_add(set, defs[i].system, defs[i].code, err);
    return rc;
}

/* ---- roles ----------------------------------------------------------- */

/* Add "Type" or "Type:discharge-summary" to 'r'. Returns false when the
 * name is not an R4 resource type with an optional known qualifier. */
static bool
role_add_type(struct policy_role *r, const char *spec, size_t len)
{
    const char *colon = memchr(spec, ':', len);
    size_t tlen = colon ? (size_t)(colon - spec) : len;
    struct policy_type *t;
    char name[POLICY_TYPE_LEN];

    if (tlen == 0 || tlen >= POLICY_TYPE_LEN
        || r->ntypes >= CR_POLICY_MAX_ROLE_TYPES)
        return false;
    memcpy(name, spec, tlen);
    name[tlen] = '\0';
    if (!cr_fhir_is_resource_type(name))
        return false;
    if (colon != NULL
        && !(len - tlen == strlen(DISCHARGE_QUALIFIER)
             && memcmp(colon, DISCHARGE_QUALIFIER, len - tlen) == 0))
        return false;
    for (size_t i = 0; i < r->ntypes; i++) {
        if (r->types[i].len == tlen
            && memcmp(r->types[i].name, name, tlen) == 0) {
            /* The unqualified form wins: it already allows every item. */
            if (colon == NULL)
                r->types[i].is_discharge_only = false;
            return true;
        }
    }
    t = &r->types[r->ntypes++];
    memcpy(t->name, name, tlen + 1);
    t->len = tlen;
    t->is_discharge_only = colon != NULL;
    return true;
}

static struct policy_role *
role_slot(struct cr_policy *p, const char *code)
{
    for (size_t i = 0; i < p->nroles; i++)
        if (strcmp(p->roles[i].code, code) == 0)
            return &p->roles[i];
    if (p->nroles >= CR_POLICY_MAX_ROLES)
        return NULL;
    return &p->roles[p->nroles++];
}

static void
role_remove(struct cr_policy *p, const char *code)
{
    for (size_t i = 0; i < p->nroles; i++) {
        if (strcmp(p->roles[i].code, code) == 0) {
            memmove(&p->roles[i], &p->roles[i + 1],
                    (p->nroles - i - 1) * sizeof p->roles[0]);
            p->nroles--;
            return;
        }
    }
}

const struct policy_role *
cr_policy_role_find(const struct cr_policy *policy, const char *code)
{
    if (code == NULL)
        return NULL;
    for (size_t i = 0; i < policy->nroles; i++)
        if (strcmp(policy->roles[i].code, code) == 0)
            return &policy->roles[i];
    return NULL;
}

static void
roles_defaults(struct cr_policy *p)
{
    for (size_t i = 0; i < sizeof default_roles / sizeof default_roles[0];
         i++) {
        const struct role_def *d = &default_roles[i];
        struct policy_role *r = role_slot(p, d->code);
        const char *s = d->see;

        assert(r != NULL);   /* the defaults fit the table */
        if (r == NULL)
            return;
        memset(r, 0, sizeof *r);
        snprintf(r->code, sizeof r->code, "%s", d->code);
        r->is_supervised = d->is_supervised;
        r->may_self_claim = d->may_self_claim;
        r->may_emergency = d->may_emergency;
        r->may_write = d->may_write;
        if (strcmp(s, "all") == 0) {
            r->is_all = true;
            continue;
        }
        while (*s != '\0') {
            size_t n = strcspn(s, " ");
            bool ok = role_add_type(r, s, n);
            assert(ok);      /* the default type names are valid */
            (void)ok;
            s += n;
            s += strspn(s, " ");
        }
    }
}

/* ---- JSON ------------------------------------------------------------ */

static cr_rc
bad(struct cr_err *err, const char *code, const char *where,
    const char *what)
{
    return cr_err_set(err, CR_EINVAL, code, where, "config: '%s' %s", where,
                      what);
}

static cr_rc
load_bool(const json_t *v, bool *out, const char *where, struct cr_err *err)
{
    if (!json_is_boolean(v))
        return bad(err, "value", where, "must be true or false");
    *out = json_is_true(v);
    return CR_OK;
}

static cr_rc
load_codes(struct policy_codes *set, const json_t *arr, const char *where,
           struct cr_err *err)
{
    char w[256];
    size_t i;
    json_t *item;
    cr_rc rc;

    if (!json_is_array(arr))
        return bad(err, "value", where,
                   "must be a list of {\"system\": ..., \"code\": ...}");
    codes_free(set);
    json_array_foreach(arr, i, item) {
        const char *key;
        json_t *v;
        const char *system = NULL, *code = NULL;

        snprintf(w, sizeof w, "%s[%zu]", where, i);
        if (!json_is_object(item))
            return bad(err, "value", w,
                       "must be an object {\"system\": ..., \"code\": ...}");
        json_object_foreach((json_t *)item, key, v) {
            char wk[300];
            snprintf(wk, sizeof wk, "%s.%s", w, key);
            if (strcmp(key, "system") == 0 || strcmp(key, "code") == 0
                || strcmp(key, "display") == 0) {
                if (!json_is_string(v) || json_string_length(v) == 0)
                    return bad(err, "value", wk,
                               "must be a non-empty string");
                if (key[0] == 's')
                    system = json_string_value(v);
                else if (key[0] == 'c')
                    code = json_string_value(v);
            } else {
                return bad(err, "structure", wk,
                           "is not a known key (system, code, display)");
            }
        }
        if (system == NULL || code == NULL)
            return bad(err, "required", w,
                       "needs both \"system\" and \"code\"");
        rc = codes_add(set, system, code, err);
        if (rc != CR_OK)
            return rc;
    }
    return CR_OK;
}

static cr_rc
load_role(struct cr_policy *p, const char *code, const json_t *v,
          const char *where, struct cr_err *err)
{
    struct policy_role r;
    struct policy_role *slot;
    const char *key;
    json_t *kv;
    bool has_see = false, has_write = false;
    char w[256];
    cr_rc rc;

    memset(&r, 0, sizeof r);
    snprintf(r.code, sizeof r.code, "%s", code);
    r.may_self_claim = true;
    r.may_emergency = true;
    if (!json_is_object(v))
        return bad(err, "value", where,
                   "must be an object {\"see\": ...} or null (remove)");
    json_object_foreach((json_t *)v, key, kv) {
        snprintf(w, sizeof w, "%s.%s", where, key);
        if (strcmp(key, "see") == 0) {
            has_see = true;
            if (json_is_string(kv)
                && strcmp(json_string_value(kv), "all") == 0) {
                r.is_all = true;
            } else if (json_is_array(kv)) {
                size_t i;
                json_t *t;
                json_array_foreach(kv, i, t) {
                    char wt[300];
                    snprintf(wt, sizeof wt, "%s[%zu]", w, i);
                    if (!json_is_string(t)
                        || !role_add_type(&r, json_string_value(t),
                                          json_string_length(t)))
                        return bad(err, "value", wt,
                                   "must be a FHIR resource type, optionally "
                                   "followed by \":discharge-summary\" "
                                   "(at most 48 types)");
                }
            } else {
                return bad(err, "value", w,
                           "must be \"all\" or a list of resource types");
            }
        } else if (strcmp(key, "supervised") == 0) {
            if ((rc = load_bool(kv, &r.is_supervised, w, err)) != CR_OK)
                return rc;
        } else if (strcmp(key, "self_claim") == 0) {
            if ((rc = load_bool(kv, &r.may_self_claim, w, err)) != CR_OK)
                return rc;
        } else if (strcmp(key, "emergency") == 0) {
            if ((rc = load_bool(kv, &r.may_emergency, w, err)) != CR_OK)
                return rc;
        } else if (strcmp(key, "write") == 0) {
            has_write = true;
            if ((rc = load_bool(kv, &r.may_write, w, err)) != CR_OK)
                return rc;
        } else {
            return bad(err, "structure", w,
                       "is not a known key (see, supervised, self_claim, "
                       "emergency, write)");
        }
    }
    if (!has_see)
        return bad(err, "required", where,
                   "needs \"see\": \"all\" or a list of resource types");
    if (!has_write)
        r.may_write = !r.is_supervised;
    slot = role_slot(p, code);
    if (slot == NULL)
        return bad(err, "value", where, "is one role too many (at most 64)");
    *slot = r;
    return CR_OK;
}

static cr_rc
load_roles(struct cr_policy *p, const json_t *roles, struct cr_err *err)
{
    const char *key;
    json_t *v;
    char w[256];
    cr_rc rc;

    if (!json_is_object(roles))
        return bad(err, "value", "policy.roles",
                   "must be an object from SDS job role codes to rules");
    json_object_foreach((json_t *)roles, key, v) {
        snprintf(w, sizeof w, "policy.roles.%s", key);
        if (!cr_principal_role_valid(key))
            return bad(err, "value", w,
                       "is not an SDS job role code (a letter and four "
                       "digits, e.g. R8000)");
        if (json_is_null(v)) {
            role_remove(p, key);
            continue;
        }
        if ((rc = load_role(p, key, v, w, err)) != CR_OK)
            return rc;
    }
    return CR_OK;
}

static bool
reason_code_valid(const char *s, size_t len)
{
    if (len == 0 || len >= POLICY_REASON_CODE_LEN)
        return false;
    for (size_t i = 0; i < len; i++) {
        char c = s[i];
        if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-'))
            return false;
    }
    return true;
}

static cr_rc
load_reasons(struct cr_policy *p, const json_t *arr, struct cr_err *err)
{
    size_t i;
    json_t *item;
    char w[256];

    if (!json_is_array(arr))
        return bad(err, "value", "policy.emergency_reasons",
                   "must be a list of {\"code\": ..., \"display\": ...}");
    if (json_array_size(arr) > CR_POLICY_MAX_REASONS)
        return bad(err, "value", "policy.emergency_reasons",
                   "holds more than 32 reasons");
    p->nreasons = 0;
    json_array_foreach(arr, i, item) {
        const json_t *code = json_object_get(item, "code");
        const json_t *display = json_object_get(item, "display");
        struct policy_reason *r;

        snprintf(w, sizeof w, "policy.emergency_reasons[%zu]", i);
        if (!json_is_object(item) || json_object_size(item) != 2
            || !json_is_string(code) || !json_is_string(display)
            || json_string_length(display) == 0)
            return bad(err, "value", w,
                       "must be {\"code\": ..., \"display\": ...} and "
                       "nothing else");
        if (!reason_code_valid(json_string_value(code),
                               json_string_length(code)))
            return bad(err, "value", w,
                       "has a code that is not 1-39 of a-z, 0-9 and '-'");
        for (size_t j = 0; j < p->nreasons; j++)
            if (strcmp(p->reasons[j].code, json_string_value(code)) == 0)
                return bad(err, "value", w, "repeats a code");
        r = &p->reasons[p->nreasons++];
        snprintf(r->code, sizeof r->code, "%s", json_string_value(code));
        snprintf(r->display, sizeof r->display, "%s",
                 json_string_value(display));
    }
    return CR_OK;
}

/* "HH:MM", 00:00 to 24:00, into minutes of the day. */
static bool
parse_hhmm(const json_t *v, int *out)
{
    const char *s;
    int h, m;

    if (!json_is_string(v) || json_string_length(v) != 5)
        return false;
    s = json_string_value(v);
    if (s[2] != ':')
        return false;
    for (int i = 0; i < 5; i++)
        if (i != 2 && !(s[i] >= '0' && s[i] <= '9'))
            return false;
    h = (s[0] - '0') * 10 + (s[1] - '0');
    m = (s[3] - '0') * 10 + (s[4] - '0');
    if (m > 59 || h > 24 || (h == 24 && m != 0))
        return false;
    *out = (h * 60 + m) % (24 * 60);
    return true;
}

static cr_rc
load_ooh(struct cr_policy *p, const json_t *v, struct cr_err *err)
{
    const char *key;
    json_t *kv;
    char w[256];
    cr_rc rc;

    if (json_is_null(v) || json_is_false(v)) {
        p->ooh.is_enabled = false;
        return CR_OK;
    }
    if (!json_is_object(v))
        return bad(err, "value", "policy.out_of_hours",
                   "must be an object {\"start\": \"20:00\", \"end\": "
                   "\"08:00\", \"weekends\": true, \"timezone\": "
                   "\"Europe/London\"}, or false");
    p->ooh.is_enabled = true;
    json_object_foreach((json_t *)v, key, kv) {
        snprintf(w, sizeof w, "policy.out_of_hours.%s", key);
        if (strcmp(key, "start") == 0 || strcmp(key, "end") == 0) {
            if (!parse_hhmm(kv, key[0] == 's' ? &p->ooh.start_min
                                              : &p->ooh.end_min))
                return bad(err, "value", w,
                           "must be a time of day \"HH:MM\"");
        } else if (strcmp(key, "weekends") == 0) {
            if ((rc = load_bool(kv, &p->ooh.has_weekends, w, err)) != CR_OK)
                return rc;
        } else if (strcmp(key, "timezone") == 0) {
            const char *tz = json_is_string(kv) ? json_string_value(kv) : "";
            if (strcmp(tz, "Europe/London") == 0)
                p->ooh.tz = POLICY_TZ_LONDON;
            else if (strcmp(tz, "UTC") == 0)
                p->ooh.tz = POLICY_TZ_UTC;
            else
                return bad(err, "value", w,
                           "must be \"Europe/London\" or \"UTC\"");
        } else {
            return bad(err, "structure", w,
                       "is not a known key (start, end, weekends, "
                       "timezone)");
        }
    }
    return CR_OK;
}

static cr_rc
apply_config(struct cr_policy *p, const json_t *cfg, struct cr_err *err)
{
    const char *key;
    json_t *v;
    char w[256];
    cr_rc rc = CR_OK;

    if (!json_is_object(cfg))
        return bad(err, "value", "policy", "must be a JSON object");
    json_object_foreach((json_t *)cfg, key, v) {
        snprintf(w, sizeof w, "policy.%s", key);
        if (strcmp(key, "roles") == 0) {
            rc = load_roles(p, v, err);
        } else if (strcmp(key, "sensitive_codes") == 0) {
            rc = load_codes(&p->sensitive, v, w, err);
        } else if (strcmp(key, "discharge_summary_codes") == 0) {
            rc = load_codes(&p->discharge, v, w, err);
        } else if (strcmp(key, "relationship_days") == 0) {
            if (!json_is_integer(v) || json_integer_value(v) < 0
                || json_integer_value(v) > 3650)
                rc = bad(err, "value", w,
                         "must be a whole number of days, 0 to 3650");
            else
                p->relationship_days = (int)json_integer_value(v);
        } else if (strcmp(key, "emergency_overrides_objection") == 0) {
            rc = load_bool(v, &p->is_emergency_over_objection, w, err);
        } else if (strcmp(key, "emergency_reasons") == 0) {
            rc = load_reasons(p, v, err);
        } else if (strcmp(key, "out_of_hours") == 0) {
            rc = load_ooh(p, v, err);
        } else {
            rc = bad(err, "structure", w,
                     "is not a known key (roles, sensitive_codes, "
                     "discharge_summary_codes, relationship_days, "
                     "emergency_overrides_objection, emergency_reasons, "
                     "out_of_hours)");
        }
        if (rc != CR_OK)
            return rc;
    }
    return CR_OK;
}

static cr_rc
set_defaults(struct cr_policy *p, struct cr_err *err)
{
    cr_rc rc;

    roles_defaults(p);
    rc = codes_defaults(&p->sensitive, default_sensitive,
                        sizeof default_sensitive / sizeof default_sensitive[0],
                        err);
    if (rc == CR_OK)
        rc = codes_defaults(&p->discharge, default_discharge,
                            sizeof default_discharge
                                / sizeof default_discharge[0],
                            err);
    p->relationship_days = 90;
    p->is_emergency_over_objection = false;
    p->nreasons = sizeof default_reasons / sizeof default_reasons[0];
    memcpy(p->reasons, default_reasons, sizeof default_reasons);
    p->ooh.is_enabled = true;
    p->ooh.start_min = 20 * 60;
    p->ooh.end_min = 8 * 60;
    p->ooh.has_weekends = true;
    p->ooh.tz = POLICY_TZ_LONDON;
    return rc;
}

cr_rc
cr_policy_load(const json_t *cfg, struct cr_policy **out, struct cr_err *err)
{
    struct cr_policy *p = NULL;
    cr_rc rc;

    *out = NULL;
    p = calloc(1, sizeof *p);
    if (p == NULL)
        return cr_err_set(err, CR_ENOMEM, "exception", NULL,
                          "policy: out of memory");
    rc = set_defaults(p, err);
    if (rc == CR_OK && cfg != NULL)
        rc = apply_config(p, cfg, err);
    if (rc != CR_OK) {
        cr_policy_destroy(p);
        return rc;
    }
    *out = p;
    return CR_OK;
}

void
cr_policy_destroy(struct cr_policy *policy)
{
    if (policy == NULL)
        return;
    codes_free(&policy->sensitive);
    codes_free(&policy->discharge);
    free(policy);
}

int
cr_policy_relationship_days(const struct cr_policy *policy)
{
    return policy->relationship_days;
}

bool
cr_policy_is_sensitive_code(const struct cr_policy *policy,
                            const char *system, const char *code)
{
    return cr_policy_codes_has(&policy->sensitive, system, code);
}

bool
cr_policy_is_discharge_summary_code(const struct cr_policy *policy,
                                    const char *system, const char *code)
{
    return cr_policy_codes_has(&policy->discharge, system, code);
}

size_t
cr_policy_sensitive_codes(const struct cr_policy *policy,
                          const char *const **out_systems,
                          const char *const **out_codes)
{
    *out_systems = (const char *const *)policy->sensitive.systems;
    *out_codes = (const char *const *)policy->sensitive.codes;
    return policy->sensitive.n;
}

size_t
cr_policy_discharge_codes(const struct cr_policy *policy,
                          const char *const **out_systems,
                          const char *const **out_codes)
{
    *out_systems = (const char *const *)policy->discharge.systems;
    *out_codes = (const char *const *)policy->discharge.codes;
    return policy->discharge.n;
}

const char *
cr_policy_emergency_reason(const struct cr_policy *policy,
                           struct cr_str code)
{
    for (size_t i = 0; i < policy->nreasons; i++)
        if (cr_str_eq_c(code, policy->reasons[i].code))
            return policy->reasons[i].display;
    return NULL;
}

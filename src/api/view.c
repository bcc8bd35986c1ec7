/* view.c: the access policy applied to everything one answer carries.
 *
 * Every read path (read, vread, search matches and includes, chain and
 * _has hops, history, $everything, bundle GET entries) asks here about
 * each resource before it goes into the answer; writes ask before they
 * are queued. The decisions themselves are the policy's (access/policy.h);
 * this file gathers the request's facts (the principal, the
 * X-Access-Reason and X-Supervisor headers, the user's own surname and
 * postcode), makes one patient decision per person the answer touches
 * (cached for the request), counts what was withheld and why, and hands
 * all of it to the audit record. docs/internals/policy.md has the
 * contract; docs/access.md the rules in words.
 *
 * A resource whose facts cannot be read is withheld (fail closed). Memory
 * comes from the request's arena. Depends on access/, store/, core/. */
#include "api/apiInt.h"

#include "core/clock.h"
#include "core/jsontext.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The audit record keeps the policy's alert bits as they are. */
_Static_assert(CR_POLICY_ALERT_SELF_CLAIMED == CR_AUDIT_ALERT_SELF_CLAIMED &&
                   CR_POLICY_ALERT_EMERGENCY == CR_AUDIT_ALERT_EMERGENCY &&
                   CR_POLICY_ALERT_SAME_SURNAME ==
                       CR_AUDIT_ALERT_SAME_SURNAME &&
                   CR_POLICY_ALERT_SAME_ADDRESS ==
                       CR_AUDIT_ALERT_SAME_ADDRESS &&
                   CR_POLICY_ALERT_RESTRICTED == CR_AUDIT_ALERT_RESTRICTED &&
                   CR_POLICY_ALERT_FLAGGED == CR_AUDIT_ALERT_FLAGGED &&
                   CR_POLICY_ALERT_OUT_OF_HOURS ==
                       CR_AUDIT_ALERT_OUT_OF_HOURS &&
                   CR_POLICY_ALERT_OBJECTION_OVERRIDDEN ==
                       CR_AUDIT_ALERT_OBJECTION_OVERRIDDEN &&
                   CR_POLICY_ALERT_STUDENT == CR_AUDIT_ALERT_STUDENT,
               "policy and audit alert bits differ");

#define RULE_SYSTEM "https://carerecord.example/CodeSystem/access-rule"

struct pdec {
    const char *id;               /* NULL: free slot */
    struct cr_policy_decision d;
    bool is_failed;               /* facts could not be read */
    char nhs[16];                 /* the person's NHS number, or "" */
};

struct view {
    struct cr_policy_request req;
    char surname[128];
    char postcode[32];
    bool has_user;
    struct cr_policy_decision dir;
    bool has_dir;
    struct pdec **tab;            /* open addressing by patient id; the
                                     decisions stay where they were made */
    size_t cap, n;
    const struct cr_policy_decision *first;   /* the first patient decided */
    unsigned alerts;
    const char *rule;             /* the first rule that denied or withheld */
    int64_t withheld;             /* items left out */
    int64_t notice;               /* ... of which the user is told */
    const char *shown_patient;    /* the one patient every shown item
                                     belongs to, while there is one */
    bool is_many_patients;
    struct cr_store_filter hops;
    struct ctx *x;
};

static struct view *
view_of(struct ctx *x)
{
    struct view *v = x->view;
    const char *h;

    if (v)
        return v;
    v = cr_arena_calloc(x->req->arena, 1, sizeof *v);
    if (v == NULL)
        return NULL;
    v->x = x;
    v->req.principal = &x->principal;
    h = cr_http_header(x->req, "X-Access-Reason");
    if (h)
        v->req.access_reason = (struct cr_str){ h, strlen(h) };
    h = cr_http_header(x->req, "X-Supervisor");
    if (h)
        v->req.supervisor = (struct cr_str){ h, strlen(h) };
    v->req.now_ms = cr_clock_now_ms();
    x->view = v;
    return v;
}

/* The user's surname and postcode, read once per request and only when a
 * decision can use them (the identity alerts of direct care). */
static void
user_facts(struct ctx *x, struct view *v)
{
    const char *purpose = x->principal.purpose;

    if (v->has_user)
        return;
    v->has_user = true;
    if (strcmp(purpose, "direct-care") != 0 &&
        strcmp(purpose, "emergency") != 0)
        return;
    cr_api_user_facts(x->api, x->principal.sub, v->surname, v->postcode);
    v->req.surname = v->surname[0] ? v->surname : NULL;
    v->req.postcode = v->postcode[0] ? v->postcode : NULL;
}

static size_t
slot_of(const char *id, size_t cap)
{
    uint64_t h = 1469598103934665603ULL;

    for (; *id; id++)
        h = (h ^ (unsigned char)*id) * 1099511628211ULL;
    return (size_t)h & (cap - 1);
}

static bool
grow(struct ctx *x, struct view *v)
{
    size_t cap = v->cap ? v->cap * 2 : 8, i;
    struct pdec **t = cr_arena_calloc(x->req->arena, cap, sizeof *t);

    if (t == NULL)
        return false;
    for (i = 0; i < v->cap; i++)
        if (v->tab[i]) {
            size_t j = slot_of(v->tab[i]->id, cap);
            while (t[j])
                j = (j + 1) & (cap - 1);
            t[j] = v->tab[i];
        }
    v->tab = t;
    v->cap = cap;
    return true;
}

/* The decision already made about patient 'id' in this request, or NULL. */
static struct pdec *
find(const struct view *v, const char *id)
{
    size_t j;

    if (v == NULL || v->tab == NULL)
        return NULL;
    for (j = slot_of(id, v->cap); v->tab[j]; j = (j + 1) & (v->cap - 1))
        if (strcmp(v->tab[j]->id, id) == 0)
            return v->tab[j];
    return NULL;
}

/* A peer's node token may vouch that the user's organisation is caring
 * for this person ('care': their NHS number; the relationship is recorded
 * on the calling node). Counted as a relationship of the user's
 * organisation; everything else (role, objection, sensitive items,
 * restriction) is decided here as for anyone. */
static void
vouched(struct ctx *x, const struct cr_api_facts *f,
        struct cr_policy_patient *p, struct cr_policy_rel *rels)
{
    if (x->via == NULL || x->principal.care[0] == '\0' ||
        f->nhs_number[0] == '\0' ||
        strcmp(x->principal.care, f->nhs_number) != 0)
        return;
    if (p->n_rels >= CR_API_MAX_RELS)
        p->n_rels = CR_API_MAX_RELS - 1;
    rels[p->n_rels].org = x->principal.org;
    rels[p->n_rels].kind = CR_POLICY_REL_EPISODE;
    rels[p->n_rels].end_ms = CR_POLICY_OPEN;
    p->n_rels++;
    p->rels = rels;
}

/* The decision about 'id', made once per request. NULL when out of
 * memory; a decision with is_failed when the facts cannot be read. */
static struct pdec *
decide_patient(struct ctx *x, struct view *v, const char *id)
{
    struct cr_api_facts *f;
    struct cr_policy_patient p;
    const char *ids[CR_POLICY_MAX_IDS], *gps[CR_API_MAX_GP];
    struct cr_policy_rel rels[CR_API_MAX_RELS];
    struct cr_err err;
    struct pdec *e = find(v, id);
    size_t j;

    if (e != NULL)
        return e;
    if ((v->n + 1) * 2 > v->cap && !grow(x, v))
        return NULL;
    e = cr_arena_alloc(x->req->arena, sizeof *e);
    if (e == NULL)
        return NULL;
    e->id = cr_arena_strndup(x->req->arena, id, strlen(id));
    if (e->id == NULL)
        return NULL;
    e->is_failed = false;
    e->nhs[0] = '\0';
    for (j = slot_of(id, v->cap); v->tab[j]; j = (j + 1) & (v->cap - 1))
        ;
    v->tab[j] = e;
    v->n++;
    user_facts(x, v);
    f = malloc(sizeof *f);
    cr_err_clear(&err);
    if (f == NULL ||
        cr_api_patient_facts(x->api, id, f, &err) != CR_OK) {
        e->is_failed = true;
        memset(&e->d, 0, sizeof e->d);
        e->d.code = "facts-unavailable";
        snprintf(e->d.msg, sizeof e->d.msg, "the access rules for this "
                 "record could not be checked, so nothing is shown; try "
                 "again, and tell the node's operator if it persists");
        free(f);
        return e;
    }
    cr_api_facts_view(f, &p, ids, gps, rels);
    vouched(x, f, &p, rels);
    cr_policy_decide_patient(x->api->policy, &v->req, &p, &e->d);
    snprintf(e->nhs, sizeof e->nhs, "%s", f->nhs_number);
    free(f);
    v->alerts |= e->d.alerts;
    if (v->first == NULL)
        v->first = &e->d;
    return e;
}

size_t
cr_api_view_people(struct ctx *x)
{
    return x->view ? x->view->n : 0;
}

const struct cr_policy_decision *
cr_api_view_patient(struct ctx *x, const char *patient_id)
{
    struct view *v = view_of(x);
    struct pdec *e = v ? decide_patient(x, v, patient_id) : NULL;

    return e && !e->is_failed ? &e->d : NULL;
}

const struct cr_policy_decision *
cr_api_view_directory(struct ctx *x)
{
    struct view *v = view_of(x);

    if (v == NULL)
        return NULL;
    if (!v->has_dir) {
        cr_policy_decide_directory(x->api->policy, &v->req, &v->dir);
        v->has_dir = true;
        v->alerts |= v->dir.alerts;
    }
    return &v->dir;
}

const char *
cr_api_view_only_org(struct ctx *x)
{
    struct view *v = view_of(x);
    struct cr_policy_decision d;

    if (v == NULL)
        return NULL;
    /* decided apart from the view's own directory decision, whose alerts
     * go to the audit record only when directory data is served */
    cr_policy_decide_directory(x->api->policy, &v->req, &d);
    return cr_policy_only_org(&d) ? x->principal.org : NULL;
}

/* The answer for one row; NONE reason when shown. */
static enum cr_policy_show
decide(struct ctx *x, const char *type, const char *org,
       const char *patient, int64_t seq, const char *json, size_t len,
       enum cr_policy_withhold *why, const char **rule)
{
    struct view *v = view_of(x);
    const struct cr_policy_decision *d;
    enum cr_policy_show show;
    struct cr_policy_item item;
    unsigned flags;

    *rule = NULL;
    *why = CR_POLICY_WITHHOLD_DENIED;
    if (v == NULL) {
        *rule = "facts-unavailable";
        return CR_POLICY_WITHHOLD;
    }
    if (patient && patient[0]) {
        struct pdec *e = decide_patient(x, v, patient);
        if (e == NULL || e->is_failed) {
            *rule = "facts-unavailable";
            return CR_POLICY_WITHHOLD;
        }
        d = &e->d;
    } else {
        d = cr_api_view_directory(x);
    }
    if (!d->is_allowed) {
        *rule = d->code;
        return CR_POLICY_WITHHOLD;
    }
    flags = cr_api_item_flags_of(x->api, seq, json, len);
    item.type = type;
    item.org = org;
    item.patient = patient;
    item.is_sensitive = flags & CR_API_ITEM_SENSITIVE;
    item.is_not_for_patient = flags & CR_API_ITEM_NOT_FOR_PATIENT;
    item.is_discharge_summary = flags & CR_API_ITEM_DISCHARGE;
    show = cr_policy_decide_item(x->api->policy, d, &item, why);
    /* An item of a type the role never sees is withheld for the role,
     * whatever else would also withhold it: telling a receptionist that
     * something was held back would say that something sensitive exists. */
    if (show == CR_POLICY_WITHHOLD && *why != CR_POLICY_WITHHOLD_ROLE &&
        patient && patient[0] &&
        !cr_policy_type_permitted(x->api->policy, d, type))
        *why = CR_POLICY_WITHHOLD_ROLE;
    return show;
}

enum cr_policy_show
cr_api_view_item(struct ctx *x, const char *type,
                 const struct cr_store_meta *meta, const char *json,
                 size_t len, enum cr_policy_withhold *out_why)
{
    struct view *v = view_of(x);
    enum cr_policy_withhold why;
    const char *rule;
    enum cr_policy_show show;

    if (out_why)
        *out_why = CR_POLICY_WITHHOLD_NONE;
#ifdef CR_BENCH_NO_ACCESS
    (void)v;
    (void)type;
    (void)meta;
    (void)json;
    (void)len;
    (void)why;
    (void)rule;
    (void)show;
    return CR_POLICY_SHOW;
#else
    show = decide(x, type, meta->org, meta->patient, meta->seq, json, len,
                  &why, &rule);
    if (out_why)
        *out_why = show == CR_POLICY_WITHHOLD ? why : CR_POLICY_WITHHOLD_NONE;
    if (v == NULL)
        return show;
    if (show != CR_POLICY_WITHHOLD) {
        /* whose record the answer shows, for the audit record */
        if (meta->patient[0] && !v->is_many_patients) {
            if (v->shown_patient == NULL)
                v->shown_patient = cr_arena_strndup(x->req->arena,
                                                    meta->patient,
                                                    strlen(meta->patient));
            else if (strcmp(v->shown_patient, meta->patient) != 0)
                v->is_many_patients = true;
        }
        return show;
    }
    v->withheld++;
    if (why != CR_POLICY_WITHHOLD_ROLE)
        v->notice++;
    if (v->rule == NULL)
        v->rule = rule ? rule : cr_policy_withhold_name(why);
    return show;
#endif
}

void
cr_api_view_add(struct cr_buf *b, enum cr_policy_show show,
                const char *json, size_t len)
{
    static const char *const skip[] = {
        "resourceType", "address", "telecom", "generalPractitioner", NULL,
    };
    size_t s0, s1;

    if (show != CR_POLICY_SHOW_REDACTED) {
        cr_buf_add(b, json, len);
        return;
    }
    cr_buf_addc(b, '{');
    if (cr_jsontext_member(json, len, "resourceType", &s0, &s1)) {
        cr_buf_adds(b, "\"resourceType\":");
        cr_buf_add(b, json + s0, s1 - s0);
    }
    cr_jsontext_add_members(b, json, len, skip);
    cr_buf_addc(b, '}');
}

void
cr_api_view_deny(struct ctx *x, const struct cr_policy_decision *d)
{
    struct view *v = view_of(x);
    struct cr_buf b = cr_buf_make(0);
    const char *code = d && d->code && d->code[0] ? d->code
                                                  : "facts-unavailable";
    const char *msg = d && d->msg[0]
                          ? d->msg
                          : "the access rules for this record could not be "
                            "checked, so nothing is shown; try again, and "
                            "tell the node's operator if it persists";
    unsigned status = d ? 403 : 500;

    if (v && v->rule == NULL)
        v->rule = code;
    cr_buf_adds(&b, "{\"resourceType\":\"OperationOutcome\",\"issue\":[{"
                    "\"severity\":\"error\",\"code\":");
    cr_buf_add_json_str(&b, status == 403 ? "forbidden" : "exception");
    cr_buf_adds(&b, ",\"details\":{\"coding\":[{\"system\":\"" RULE_SYSTEM
                    "\",\"code\":");
    cr_buf_add_json_str(&b, code);
    cr_buf_adds(&b, "}],\"text\":");
    cr_buf_add_json_str(&b, msg);
    cr_buf_adds(&b, "},\"diagnostics\":");
    cr_buf_add_json_str(&b, msg);
    cr_buf_adds(&b, "}]}");
    cr_api_send_buf(x, status, &b);
}

bool
cr_api_view_refuse(struct ctx *x, const struct cr_store_meta *meta,
                   enum cr_policy_withhold why)
{
    const struct cr_policy_decision *d =
        meta->patient[0] ? cr_api_view_patient(x, meta->patient)
                         : cr_api_view_directory(x);

    if (d == NULL || !d->is_allowed) {
        cr_api_view_deny(x, d);
        return true;
    }
    if (why != CR_POLICY_WITHHOLD_ROLE)
        return false;
    cr_api_view_deny_role(x, x->route.type ? x->route.type : "these");
    return true;
}

void
cr_api_view_deny_role(struct ctx *x, const char *type)
{
    char msg[512];

    snprintf(msg, sizeof msg, "your role (%s) may not see %s records; ask "
             "a colleague whose role covers them", x->principal.role, type);
    cr_api_view_refusal(x, cr_policy_deny_code(CR_POLICY_DENY_ROLE), msg);
}

cr_rc
cr_api_view_err(struct ctx *x, const char *type, const char *id,
                const struct cr_store_meta *meta,
                enum cr_policy_withhold why, struct cr_err *err)
{
    const struct cr_policy_decision *d =
        meta->patient[0] ? cr_api_view_patient(x, meta->patient)
                         : cr_api_view_directory(x);

    if (d == NULL)
        return cr_err_set(err, CR_EIO, "exception", NULL,
                          "the access rules for %s/%s could not be "
                          "checked, so it is not shown; try again", type,
                          id);
    if (!d->is_allowed)
        return cr_err_set(err, CR_EFORBIDDEN, "forbidden", NULL,
                          "%s (rule: %s)", d->msg, d->code);
    if (why == CR_POLICY_WITHHOLD_ROLE)
        return cr_err_set(err, CR_EFORBIDDEN, "forbidden", NULL,
                          "your role (%s) may not see %s records (rule: "
                          "role-not-permitted)", x->principal.role, type);
    return cr_err_set(err, CR_ENOTFOUND, "not-found", NULL,
                      "%s/%s is not known to this server", type, id);
}

int64_t
cr_api_view_withheld(struct ctx *x)
{
    return x->view ? x->view->withheld : 0;
}

void
cr_api_view_refusal(struct ctx *x, const char *rule, const char *msg)
{
    struct cr_policy_decision d;

    memset(&d, 0, sizeof d);
    d.code = rule;
    snprintf(d.msg, sizeof d.msg, "%s", msg);
    cr_api_view_deny(x, &d);
}

bool
cr_api_view_has_notice(struct ctx *x)
{
    return x->view && x->view->notice > 0;
}

void
cr_api_view_add_notice(struct ctx *x, struct cr_buf *entries, int n)
{
    if (!cr_api_view_has_notice(x))
        return;
    if (n > 0)
        cr_buf_addc(entries, ',');
    cr_buf_adds(entries,
                "{\"resource\":{\"resourceType\":\"OperationOutcome\","
                "\"issue\":[{\"severity\":\"information\",\"code\":"
                "\"suppressed\",\"details\":{\"coding\":[{\"system\":\""
                RULE_SYSTEM "\",\"code\":\"items-withheld\"}],\"text\":"
                "\"Some items were withheld under the access policy\"},"
                "\"diagnostics\":\"Some items of this record were withheld "
                "under the access policy (legally sensitive data, the "
                "patient's objection to sharing, or other organisations' "
                "data); the recording organisation can see them\"}]},"
                "\"search\":{\"mode\":\"outcome\"}}");
}

bool
cr_api_view_visible(struct ctx *x, const char *type,
                    const struct cr_store_meta *meta, const char *json,
                    size_t len)
{
    enum cr_policy_withhold why;
    const char *rule;

#ifdef CR_BENCH_NO_ACCESS
    return true;
#endif
    return decide(x, type, meta->org, meta->patient, meta->seq, json, len,
                  &why, &rule) != CR_POLICY_WITHHOLD;
}

static bool
hop_visible(void *ctx, const char *type, const char *org,
            const char *patient, const char *json, size_t len)
{
    enum cr_policy_withhold why;
    const char *rule;

    /* no version here: the item's flags are not cached */
    return decide(ctx, type, org, patient, 0, json, len, &why, &rule) !=
           CR_POLICY_WITHHOLD;
}

const struct cr_store_filter *
cr_api_view_hops(struct ctx *x)
{
    struct view *v = view_of(x);

#ifdef CR_BENCH_NO_ACCESS
    return NULL;
#endif
    if (v == NULL)
        return NULL;
    v->hops.fn = hop_visible;
    v->hops.ctx = x;
    return &v->hops;
}

void
cr_api_view_audit(struct ctx *x, struct cr_audit_rec *rec)
{
    struct view *v = x->view;
    const struct cr_policy_decision *d;

    if (v == NULL)
        return;
    d = v->first ? v->first : v->has_dir ? &v->dir : NULL;
    rec->alerts |= v->alerts & CR_POLICY_ALERT_ALL;
    if (d && d->is_allowed)
        rec->basis = cr_policy_basis_name(d->basis);
    if (d && d->supervisor[0])
        rec->supervisor = d->supervisor;
    if (v->req.access_reason.len)
        rec->reason = v->req.access_reason.ptr;
    rec->rule = v->rule;
    rec->withheld = v->withheld;
    /* an answer about one person is recorded as about them, whichever
     * path it took (a search, history, a batch) */
    if ((rec->patient == NULL || rec->patient[0] == '\0') &&
        v->shown_patient && !v->is_many_patients)
        rec->patient = v->shown_patient;
    if (rec->outcome == CR_AUDIT_ALLOWED && v->withheld > 0)
        rec->outcome = CR_AUDIT_FILTERED;
}

const struct cr_policy_decision *
cr_api_view_write(struct ctx *x, const char *type, const char *patient_id)
{
    struct view *v = view_of(x);
    struct cr_api_facts *f;
    struct cr_policy_patient p;
    const char *ids[CR_POLICY_MAX_IDS], *gps[CR_API_MAX_GP];
    struct cr_policy_rel rels[CR_API_MAX_RELS];
    struct cr_policy_decision *d;
    struct cr_err err;

    if (v == NULL)
        return NULL;
    d = cr_arena_alloc(x->req->arena, sizeof *d);
    if (d == NULL)
        return NULL;
    user_facts(x, v);
    if (patient_id == NULL || patient_id[0] == '\0') {
        cr_policy_decide_write(x->api->policy, &v->req, NULL, type, d);
    } else {
        f = malloc(sizeof *f);
        cr_err_clear(&err);
        if (f == NULL ||
            cr_api_patient_facts(x->api, patient_id, f, &err) != CR_OK) {
            free(f);
            return NULL;
        }
        cr_api_facts_view(f, &p, ids, gps, rels);
        cr_policy_decide_write(x->api->policy, &v->req, &p, type, d);
        free(f);
    }
    v->alerts |= d->alerts;
    if (v->first == NULL)
        v->first = d;
    return d;
}

/* ---- what the federation step needs ---------------------------------- */

bool
cr_api_view_care(struct ctx *x, const char *nhs)
{
    struct view *v = x->view;
    size_t i;

    for (i = 0; v && v->tab && i < v->cap; i++) {
        const struct pdec *e = v->tab[i];
        if (e && !e->is_failed && e->d.is_allowed &&
            strcmp(e->nhs, nhs) == 0 &&
            (e->d.basis == CR_POLICY_BASIS_REGISTERED_GP ||
             e->d.basis == CR_POLICY_BASIS_RELATIONSHIP))
            return true;
    }
    return false;
}

void
cr_api_view_elsewhere(struct ctx *x, const char *nhs)
{
    struct view *v = view_of(x);
    struct cr_policy_patient p;
    struct cr_policy_decision *d;

    if (v == NULL || v->first != NULL)
        return;             /* decided on a record of this node's own */
    d = cr_arena_alloc(x->req->arena, sizeof *d);
    if (d == NULL)
        return;
    memset(&p, 0, sizeof p);
    p.nhs_number = nhs;
    cr_policy_decide_patient(x->api->policy, &v->req, &p, d);
    /* Allowed here only by what the user stated (a claim, emergency
     * access) or by being the patient: that is what the record keeps.
     * Otherwise the peers' own decisions stand, each in its own log. */
    if (!d->is_allowed)
        return;
    v->alerts |= d->alerts;
    v->first = d;
}

const char *
cr_api_view_nhs(struct ctx *x, const char *patient_id)
{
    const struct pdec *e = find(x->view, patient_id);

    return e && e->nhs[0] ? e->nhs : NULL;
}

const char *
cr_api_view_objection(struct ctx *x)
{
    struct view *v = x->view;
    size_t i;

    for (i = 0; v && v->tab && i < v->cap; i++) {
        const struct pdec *e = v->tab[i];
        if (e && !e->is_failed && e->d.is_allowed && e->d.is_filtered)
            return e->d.objection_org;
    }
    return NULL;
}

void
cr_api_view_withhold(struct ctx *x, int64_t n, const char *rule)
{
    struct view *v = view_of(x);

    if (v == NULL || n <= 0)
        return;
    v->withheld += n;
    v->notice += n;
    if (v->rule == NULL)
        v->rule = rule;
}

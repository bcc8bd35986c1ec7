/* auditevent.c: GET /fhir/AuditEvent and GET /fhir/AuditEvent/{id}: the
 * audit log read back as FHIR R4 AuditEvents in the shape of IHE Basic
 * Audit Log Patterns (BALP).
 *
 * Who may read which records is decided here, from the verified token:
 * purpose audit (a privacy officer or Caldicott guardian) reads the records
 * of accesses by their own organisation's staff, in full; purpose
 * patient-access reads the records about the patient's own record ("who
 * looked at my record"), with the organisation and role of each access but
 * never the staff member's id, name or address; any other purpose is
 * refused. The id of an AuditEvent is the record's place in the chain
 * (seq).
 *
 * A search is one keyset scan of the audit table per patient id and per
 * outcome asked for (each uses an index or a bound filter of the table),
 * merged newest first a page at a time; what the columns cannot say (an
 * HTTP status range, a set of actions) and what access rests on (the
 * organisation, the patient) is checked on the parsed, hash-covered record
 * itself. Reading the audit is itself audited (action audit-read), like
 * every other request. The mapping of a record to an AuditEvent is in
 * docs/internals/audit.md. Depends on audit/, store/, fhir/, core/. */
#include "api/apiInt.h"

#include "core/civil.h"
#include "core/clock.h"
#include "fhir/fhir.h"
#include "fhir/search.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_PATIENTS 16        /* Patient ids one search may cover */
#define MAX_STREAMS (MAX_PATIENTS * CR_AUDIT_OUTCOME__COUNT)
#define BATCH_MAX 256          /* records one scan step reads */

#define EXT "https://carerecord.example/StructureDefinition/audit-"
#define CS_ACTION "https://carerecord.example/CodeSystem/audit-action"
#define CS_ALERT "https://carerecord.example/CodeSystem/audit-alert"
#define CS_PURPOSE "https://carerecord.example/CodeSystem/purpose-of-use"
#define ID_NODE "https://carerecord.example/Id/node"
#define ID_SUBJECT "https://carerecord.example/Id/token-subject"
#define SDS_USER "https://fhir.nhs.uk/Id/sds-user-id"
#define ODS_ORG "https://fhir.nhs.uk/Id/ods-organization-code"
#define SDS_ROLE "https://fhir.nhs.uk/CodeSystem/England-SDS-JobRoleCode"
#define BALP "https://profiles.ihe.net/ITI/BALP/StructureDefinition/" \
             "IHE.BasicAudit."
#define BALP_ENTITY "https://profiles.ihe.net/ITI/BALP/CodeSystem/" \
                    "BasicAuditEntityType"
#define RESTFUL "http://hl7.org/fhir/restful-interaction"
#define DCM "http://dicom.nema.org/resources/ontology/DCM"
#define THO "http://terminology.hl7.org/CodeSystem/"

/* The HTTP statuses an outcome may be narrowed to: FHIR outcome 4 (minor
 * failure) is a failed request answered 4xx, 8 (serious failure) one
 * answered 5xx. */
#define ST_CLIENT 1u
#define ST_SERVER 2u
#define ST_ANY (ST_CLIENT | ST_SERVER)

#define ALL_ACTIONS ((1u << CR_AUDIT_ACTION__COUNT) - 1)

/* Which way the data of an interaction flows, for the DICOM role codes of
 * the client and server agents (BALP: the sender is the Source Role ID). */
enum flow {
    FLOW_OUT,       /* the server sends data to the client: reads */
    FLOW_IN,        /* the client sends data (or a query) to the server */
    FLOW_DELETE     /* BALP Delete: Application and Custodian */
};

/* How each action appears as an AuditEvent. */
struct action_map {
    char code;              /* AuditEvent.action: C R U D E */
    const char *restful;    /* restful-interaction subtype, or NULL */
    bool has_own;           /* our own action code as a subtype too */
    const char *profile;    /* BALP profile, without "Patient", or NULL */
    enum flow flow;
    bool is_author;         /* the user wrote: v3 AUT, not IRCP */
};

static const struct action_map actions[CR_AUDIT_ACTION__COUNT] = {
    [CR_AUDIT_READ] = { 'R', "read", false, "Read", FLOW_OUT, false },
    [CR_AUDIT_VREAD] = { 'R', "vread", false, "Read", FLOW_OUT, false },
    [CR_AUDIT_SEARCH] = { 'E', "search-type", false, NULL, FLOW_IN, false },
    [CR_AUDIT_HISTORY] = { 'R', "history", false, NULL, FLOW_OUT, false },
    [CR_AUDIT_EVERYTHING] = { 'E', "operation", true, NULL, FLOW_OUT,
                              false },
    [CR_AUDIT_CREATE] = { 'C', "create", false, "Create", FLOW_IN, true },
    [CR_AUDIT_UPDATE] = { 'U', "update", false, "Update", FLOW_IN, true },
    [CR_AUDIT_DELETE] = { 'D', "delete", false, "Delete", FLOW_DELETE,
                          true },
    [CR_AUDIT_TRANSACTION] = { 'E', "transaction", false, NULL, FLOW_IN,
                               true },
    [CR_AUDIT_BATCH] = { 'E', "batch", false, NULL, FLOW_IN, true },
    [CR_AUDIT_IMPORT] = { 'E', "operation", true, NULL, FLOW_IN, true },
    [CR_AUDIT_AUDIT_READ] = { 'E', NULL, true, NULL, FLOW_OUT, false },
    [CR_AUDIT_LOGIN_FAILURE] = { 'E', NULL, false, NULL, FLOW_IN, false },
    [CR_AUDIT_CARE_PLAN_SUMMARY] = { 'E', "operation", true, NULL, FLOW_OUT,
                                     false },
    [CR_AUDIT_CARE_PLAN_FIGURES] = { 'E', "operation", true, NULL, FLOW_OUT,
                                     false },
    [CR_AUDIT_REVIEW] = { 'E', "operation", true, NULL, FLOW_IN, true },
};

/* Purposes of use: ours and the HL7 v3 PurposeOfUse code nearest to it. */
static const struct {
    const char *ours, *v3, *display;
} purposes[] = {
    { "direct-care", "TREAT", "treatment" },
    { "emergency", "ETREAT", "Emergency Treatment" },
    { "patient-access", "PATRQT", "patient requested" },
    { "research", "HRESCH", "healthcare research" },
    { "audit", "HCOMPL", "health compliance" },
    { "system", "RECORDMGT", "records management" },
};

/* SDS job role names, as text beside the code (docs/access.md). */
static const struct {
    const char *code, *name;
} roles[] = {
    { "R8000", "Clinical Practitioner Access Role" },
    { "R8001", "Nurse" },
    { "R8003", "Health Professional" },
    { "R8004", "Healthcare Student" },
    { "R8008", "Admin/Clinical Support" },
    { "R8009", "Receptionist" },
    { "R8010", "Clerical" },
    { "R8014", "Social Worker" },
};

/* ---- who is asking ---- */

struct scope {
    bool is_patient;            /* a patient: redacted, own record only */
    const char *org;            /* a privacy officer's organisation */
    char ids[MAX_PATIENTS][65]; /* a patient's Patient resources */
    size_t nids;
};

/* A set of Patient ids a search is narrowed to. */
struct pset {
    bool is_set;                /* false: any patient */
    size_t n;
    char ids[MAX_PATIENTS][65];
};

/* What the records must match. Every condition holds at once. */
struct filter {
    const char *org;            /* the agent's organisation */
    const char *sub;            /* the agent */
    struct pset patients;
    int64_t since_ms;           /* time >= since (INT64_MIN: open) */
    int64_t until_ms;           /* time < until (INT64_MAX: open) */
    uint32_t actions;           /* bit per enum cr_audit_action */
    unsigned outcomes[CR_AUDIT_OUTCOME__COUNT];   /* ST_* per outcome */
    int64_t id;                 /* _id: this seq only (0: any) */
    int64_t before_seq;         /* _page: seq < before (0: from newest) */
    int count;
    bool is_none;               /* matches nothing (e.g. empty date range) */
};

/* ---- small helpers ---- */

static bool
has(const char *s)
{
    return s != NULL && *s != '\0';
}

static bool
eq(const char *a, const char *b)
{
    return a != NULL && b != NULL && strcmp(a, b) == 0;
}

static bool
is_code(const char *s)
{
    return has(s) && cr_fhir_valid_primitive("code", s, strlen(s));
}

int64_t
cr_api_parse_seq(const char *s)
{
    int64_t v = 0;
    size_t i;

    if (s == NULL || s[0] < '1' || s[0] > '9' || strlen(s) > 18)
        return 0;
    for (i = 0; s[i]; i++) {
        if (s[i] < '0' || s[i] > '9')
            return 0;
        v = v * 10 + (s[i] - '0');
    }
    return v;
}

static void
not_allowed(struct ctx *x)
{
    cr_http_resp_header(x->resp, "Allow", "GET");
    cr_api_outcome(x, 405, "error", "not-supported", NULL,
                   "%s is not allowed on %s: the audit log is read-only "
                   "(allowed: GET)", x->req->method, x->req->path);
}

/* Decide who is asking. Answers 403 (or the store's error) and returns
 * false when the principal may not read the audit log at all. */
static bool
get_scope(struct ctx *x, struct scope *sc)
{
    const struct cr_principal *p = &x->principal;
    struct cr_err err;
    size_t n = 0;

    memset(sc, 0, sizeof *sc);
    cr_err_clear(&err);
    if (strcmp(p->purpose, "audit") == 0 && p->org[0]) {
        sc->org = p->org;
        return true;
    }
    if (strcmp(p->purpose, "patient-access") == 0) {
        if (!cr_principal_nhs_number_valid(p->patient)) {
            cr_api_outcome(x, 403, "error", "forbidden", NULL,
                           "this patient-access token names no NHS number, "
                           "so there is no record whose audit it may read");
            return false;
        }
        if (cr_store_find_token(x->api->store, "Patient", "identifier",
                                CR_FHIR_NHS_NUMBER_SYSTEM, p->patient,
                                sc->ids, MAX_PATIENTS, &n, &err) != CR_OK) {
            cr_api_fail(x, &err);
            return false;
        }
        sc->nids = n < MAX_PATIENTS ? n : MAX_PATIENTS;
        sc->is_patient = true;
        return true;
    }
    cr_api_outcome(x, 403, "error", "forbidden", NULL,
                   "Reading the audit log needs purpose audit (a privacy "
                   "officer or Caldicott guardian: accesses by your "
                   "organisation's staff) or patient-access (a patient: "
                   "accesses to your own record); this token's purpose is "
                   "'%.24s'.", p->purpose);
    return false;
}

static bool
pset_has(const struct pset *s, const char *id)
{
    size_t i;

    for (i = 0; i < s->n; i++)
        if (strcmp(s->ids[i], id) == 0)
            return true;
    return false;
}

/* Narrow 's' to the ids in 'ids' (all of them if 's' was open). */
static void
pset_narrow(struct pset *s, char (*ids)[65], size_t n)
{
    struct pset out;
    size_t i;

    memset(&out, 0, sizeof out);
    out.is_set = true;
    for (i = 0; i < n && out.n < MAX_PATIENTS; i++)
        if ((!s->is_set || pset_has(s, ids[i])) && !pset_has(&out, ids[i]))
            memcpy(out.ids[out.n++], ids[i], 65);
    *s = out;
}

/* ---- reading the log: streams merged newest first ---- */

struct item {
    int64_t seq;
    char hash[CR_STORE_AUDIT_HASH_LEN + 1];
    struct cr_audit_rec rec;
};

/* One keyset scan of the table, a batch at a time. */
struct stream {
    struct cr_store_audit_query q;
    bool is_exhausted;
    struct cr_arena *arena;     /* the current batch's memory */
    struct item *items;
    size_t nitems, next;
};

struct scan {
    struct ctx *x;
    const struct filter *f;
    struct stream s[MAX_STREAMS];
    size_t ns;
    int batch;
    struct stream *cur;         /* the stream a query is filling */
    struct cr_err err;
};

/* Whether the record (as hashed, not as the indexed columns say) matches:
 * the columns narrow the scan, the body decides. */
static bool
accepts(const struct filter *f, int64_t seq, const struct cr_audit_rec *r)
{
    unsigned st = r->status >= 500 ? ST_SERVER : ST_CLIENT;

    if (f->id && seq != f->id)
        return false;
    if (!(f->actions & (1u << r->action)) || !(f->outcomes[r->outcome] & st))
        return false;
    /* an officer reads their organisation's staff accesses: a patient's
     * own token may name an organisation, but the patient is not staff */
    if (f->org && (!eq(r->org, f->org) || eq(r->purpose, "patient-access")))
        return false;
    if (f->sub && !eq(r->sub, f->sub))
        return false;
    if (f->patients.is_set &&
        !(has(r->patient) && pset_has(&f->patients, r->patient)))
        return false;
    return r->time_ms >= f->since_ms && r->time_ms < f->until_ms;
}

static cr_rc
take_row(void *ctx, const struct cr_store_audit_entry *e)
{
    struct scan *sc = ctx;
    struct stream *s = sc->cur;
    struct item *it = &s->items[s->nitems];
    struct cr_err perr;

    cr_err_clear(&perr);
    if (cr_audit_rec_parse(e->body, e->len, s->arena, &it->rec, &perr) !=
        CR_OK)
        return cr_err_set(&sc->err, CR_EIO, "exception", NULL,
                          "audit record %lld cannot be read (%.200s); run "
                          "carerecord audit verify", (long long)e->seq,
                          perr.msg);
    if (!accepts(sc->f, e->seq, &it->rec))
        return CR_OK;
    it->seq = e->seq;
    snprintf(it->hash, sizeof it->hash, "%s", e->hash ? e->hash : "");
    s->nitems++;
    return CR_OK;
}

/* Read the stream's next batch (what was read before is used up). */
static cr_rc
fetch(struct scan *sc, struct stream *s)
{
    int64_t next = 0;
    cr_rc rc;

    cr_arena_destroy(s->arena);
    s->nitems = s->next = 0;
    s->arena = cr_arena_create();
    s->items = s->arena ? cr_arena_calloc(s->arena, (size_t)sc->batch,
                                          sizeof *s->items)
                        : NULL;
    if (s->items == NULL)
        return cr_err_set(&sc->err, CR_ENOMEM, "exception", NULL,
                          "out of memory reading the audit log");
    s->q.limit = sc->batch;
    sc->cur = s;
    rc = cr_store_audit_query(sc->x->api->store, &s->q, take_row, sc, &next,
                              &sc->err);
    if (rc != CR_OK)
        return rc;
    /* _id names one record: the first row at or below it decides. */
    s->is_exhausted = next == 0 || sc->f->id != 0;
    s->q.before_seq = next;
    return CR_OK;
}

/* Make the stream's head available, reading on while a batch yields
 * nothing that matches. */
static cr_rc
fill(struct scan *sc, struct stream *s)
{
    cr_rc rc;

    while (s->next == s->nitems && !s->is_exhausted) {
        rc = fetch(sc, s);
        if (rc != CR_OK)
            return rc;
    }
    return CR_OK;
}

static void
scan_free(struct scan *sc)
{
    size_t i;

    for (i = 0; i < sc->ns; i++)
        cr_arena_destroy(sc->s[i].arena);
    sc->ns = 0;
}

/* One scan per patient and per outcome asked for, so each is narrowed by
 * the table's indexes and columns. */
static void
plan_streams(struct scan *sc, const struct filter *f)
{
    struct cr_store_audit_query base;
    const char *outs[CR_AUDIT_OUTCOME__COUNT];
    size_t nouts = 0, npat, i, k;
    int bit, nbits = 0, one = 0;

    memset(&base, 0, sizeof base);
    base.principal_org = f->org;
    base.principal_sub = f->sub;
    base.since_ms = f->since_ms > 0 ? f->since_ms : 0;
    base.until_ms = f->until_ms == INT64_MAX ? 0 : f->until_ms;
    base.before_seq = f->before_seq;
    if (f->id && (base.before_seq == 0 || f->id < base.before_seq))
        base.before_seq = f->id + 1;
    for (bit = 0; bit < CR_AUDIT_ACTION__COUNT; bit++)
        if (f->actions & (1u << bit)) {
            nbits++;
            one = bit;
        }
    if (nbits == 1)
        base.action = cr_audit_action_code((enum cr_audit_action)one);
    for (i = 0; i < CR_AUDIT_OUTCOME__COUNT; i++)
        if (f->outcomes[i])
            outs[nouts++] = cr_audit_outcome_code((enum cr_audit_outcome)i);
    if (nouts == CR_AUDIT_OUTCOME__COUNT) {
        for (i = 0; i < CR_AUDIT_OUTCOME__COUNT; i++)
            if (f->outcomes[i] != ST_ANY)
                break;
        if (i == CR_AUDIT_OUTCOME__COUNT) {
            outs[0] = NULL;    /* every outcome: no condition */
            nouts = 1;
        }
    }
    npat = f->patients.is_set ? f->patients.n : 1;
    sc->ns = 0;
    if (f->is_none || nbits == 0)
        return;
    for (i = 0; i < npat; i++)
        for (k = 0; k < nouts; k++) {
            struct stream *s = &sc->s[sc->ns++];
            memset(s, 0, sizeof *s);
            s->q = base;
            s->q.patient = f->patients.is_set ? f->patients.ids[i] : NULL;
            s->q.outcome = outs[k];
        }
}

typedef void (*emit_fn)(void *ctx, const struct item *it);

/* Hand the newest f->count matching records to 'emit', newest first.
 * *out_last gets the seq of the last one and *out_more whether more
 * match. */
static cr_rc
scan_run(struct scan *sc, emit_fn emit, void *ctx, int64_t *out_last,
         bool *out_more)
{
    int n = 0;
    size_t i;
    cr_rc rc;

    *out_last = 0;
    *out_more = false;
    while (n < sc->f->count) {
        struct stream *best = NULL;
        for (i = 0; i < sc->ns; i++) {
            struct stream *s = &sc->s[i];
            rc = fill(sc, s);
            if (rc != CR_OK)
                return rc;
            if (s->next < s->nitems &&
                (best == NULL ||
                 s->items[s->next].seq > best->items[best->next].seq))
                best = s;
        }
        if (best == NULL)
            return CR_OK;
        emit(ctx, &best->items[best->next]);
        *out_last = best->items[best->next].seq;
        best->next++;
        n++;
    }
    for (i = 0; i < sc->ns && n > 0; i++) {
        rc = fill(sc, &sc->s[i]);
        if (rc != CR_OK)
            return rc;
        if (sc->s[i].next < sc->s[i].nitems)
            *out_more = true;
    }
    return CR_OK;
}

/* ---- rendering: one record as an AuditEvent ---- */

struct view {
    struct ctx *x;
    bool is_patient;            /* redacted for the patient */
};

static void
add_coding(struct cr_buf *b, const char *system, const char *code,
           const char *display)
{
    cr_buf_adds(b, "{\"system\":");
    cr_buf_add_json_str(b, system);
    cr_buf_adds(b, ",\"code\":");
    cr_buf_add_json_str(b, code);
    if (display) {
        cr_buf_adds(b, ",\"display\":");
        cr_buf_add_json_str(b, display);
    }
    cr_buf_addc(b, '}');
}

/* ,"name":<coding> */
static void
add_coding_member(struct cr_buf *b, const char *name, const char *system,
                  const char *code, const char *display)
{
    cr_buf_addf(b, ",\"%s\":", name);
    add_coding(b, system, code, display);
}

/* A CodeableConcept of one coding. */
static void
add_concept(struct cr_buf *b, const char *system, const char *code,
            const char *display)
{
    cr_buf_adds(b, "{\"coding\":[");
    add_coding(b, system, code, display);
    cr_buf_adds(b, "]}");
}

static void
add_purpose(struct cr_buf *b, const char *purpose)
{
    size_t i;

    cr_buf_adds(b, "{\"coding\":[");
    add_coding(b, CS_PURPOSE, purpose, NULL);
    for (i = 0; i < sizeof purposes / sizeof purposes[0]; i++)
        if (strcmp(purposes[i].ours, purpose) == 0) {
            cr_buf_addc(b, ',');
            add_coding(b, THO "v3-ActReason", purposes[i].v3,
                       purposes[i].display);
        }
    cr_buf_adds(b, "],\"text\":");
    cr_buf_add_json_str(b, purpose);
    cr_buf_addc(b, '}');
}

static void
add_role(struct cr_buf *b, const char *role)
{
    size_t i;

    cr_buf_adds(b, ",\"role\":[{\"coding\":[");
    add_coding(b, SDS_ROLE, role, NULL);
    cr_buf_addc(b, ']');
    for (i = 0; i < sizeof roles / sizeof roles[0]; i++)
        if (strcmp(roles[i].code, role) == 0) {
            cr_buf_adds(b, ",\"text\":");
            cr_buf_add_json_str(b, roles[i].name);
        }
    cr_buf_adds(b, "}]");
}

/* One extension: {"url":EXT<name>,"value<type>":<json>}, json as given. */
static void
ext_open(struct cr_buf *b, bool *first, const char *name, const char *type)
{
    cr_buf_adds(b, *first ? ",\"extension\":[" : ",");
    *first = false;
    cr_buf_addf(b, "{\"url\":\"" EXT "%s\",\"value%s\":", name, type);
}

static void
ext_str(struct cr_buf *b, bool *first, const char *name, const char *type,
        const char *value)
{
    ext_open(b, first, name, type);
    cr_buf_add_json_str(b, value);
    cr_buf_addc(b, '}');
}

/* A review: the record reviewed, and (not for the patient, whose
 * organisation tells them through its own process) what was found and
 * the officer's note. A complex extension: its parts are extensions. */
static void
add_review(struct cr_buf *b, bool *first, const struct view *v,
           const struct cr_audit_review *rv)
{
    cr_buf_adds(b, *first ? ",\"extension\":[" : ",");
    *first = false;
    cr_buf_adds(b, "{\"url\":\"" EXT "review\",\"extension\":[");
    if (rv->seq > 0) {
        cr_buf_addf(b, "{\"url\":\"record\",\"valueReference\":{"
                       "\"reference\":\"AuditEvent/%lld\"}}",
                    (long long)rv->seq);
    } else {
        /* an unusual volume: a member of staff on one UK day */
        char day[16];
        cr_civil_format_date(rv->day, day, sizeof day);
        cr_buf_adds(b, "{\"url\":\"user\",\"valueString\":");
        cr_buf_add_json_str(b, rv->user);
        cr_buf_addf(b, "},{\"url\":\"day\",\"valueDate\":\"%s\"}", day);
    }
    if (!v->is_patient) {
        cr_buf_addf(b, ",{\"url\":\"outcome\",\"valueCode\":\"%s\"}",
                    cr_audit_finding_code(rv->finding));
        if (has(rv->note) &&
            cr_fhir_valid_primitive("string", rv->note, strlen(rv->note))) {
            cr_buf_adds(b, ",{\"url\":\"note\",\"valueString\":");
            cr_buf_add_json_str(b, rv->note);
            cr_buf_addc(b, '}');
        }
    }
    cr_buf_adds(b, "]}");
}

static void
add_extensions(struct cr_buf *b, const struct view *v, const struct item *it)
{
    const struct cr_audit_rec *r = &it->rec;
    bool first = true;
    int bit;

    ext_str(b, &first, "outcome", "Code", cr_audit_outcome_code(r->outcome));
    ext_open(b, &first, "http-status", "Integer");
    cr_buf_addf(b, "%d}", r->status);
    if (is_code(r->basis))
        ext_str(b, &first, "basis", "Code", r->basis);
    if (is_code(r->rule))
        ext_str(b, &first, "rule", "Code", r->rule);
    if (r->withheld > 0) {
        ext_open(b, &first, "withheld", "UnsignedInt");
        cr_buf_addf(b, "%lld}", (long long)(r->withheld > INT32_MAX
                                                ? INT32_MAX : r->withheld));
    }
    if (!v->is_patient) {
        /* The stated reason, the alerts (same surname, same address...)
         * and the supervisor say things about the member of staff. */
        if (has(r->reason))
            ext_str(b, &first, "reason", "String", r->reason);
        for (bit = 0; bit < CR_AUDIT_ALERT__COUNT; bit++)
            if (r->alerts & (1u << bit)) {
                ext_open(b, &first, "alert", "Coding");
                add_coding(b, CS_ALERT, cr_audit_alert_code(bit), NULL);
                cr_buf_addc(b, '}');
            }
        if (has(r->supervisor)) {
            ext_open(b, &first, "supervisor", "Identifier");
            cr_buf_adds(b, "{\"system\":\"" SDS_USER "\",\"value\":");
            cr_buf_add_json_str(b, r->supervisor);
            cr_buf_adds(b, "}}");
        }
    }
    if (r->review.seq > 0 || r->review.user != NULL)
        add_review(b, &first, v, &r->review);
    if (has(r->via)) {
        ext_open(b, &first, "via", "Identifier");
        cr_buf_adds(b, "{\"system\":\"" ID_NODE "\",\"value\":");
        cr_buf_add_json_str(b, r->via);
        cr_buf_adds(b, "}}");
    }
    if (cr_fhir_valid_primitive("string", it->hash, strlen(it->hash)))
        ext_str(b, &first, "hash", "String", it->hash);
    cr_buf_addc(b, ']');
}

/* The next reference of a record's resources (the inside of a JSON array
 * of strings): its text between the quotes, still escaped. */
static bool
next_ref(struct cr_str *rest, struct cr_str *out)
{
    const char *p = rest->ptr, *end = p + rest->len, *s;

    while (p < end && *p != '"')
        p++;
    if (p == end)
        return false;
    s = ++p;
    while (p < end && *p != '"')
        p += (*p == '\\' && p + 1 < end) ? 2 : 1;
    if (p >= end)
        return false;
    out->ptr = s;
    out->len = (size_t)(p - s);
    rest->ptr = p + 1;
    rest->len = (size_t)(end - rest->ptr);
    return true;
}

static size_t
count_refs(struct cr_str refs)
{
    struct cr_str one;
    size_t n = 0;

    while (next_ref(&refs, &one))
        n += one.len > 0;
    return n;
}

static void
add_type(struct cr_buf *b, const struct cr_audit_rec *r)
{
    const struct action_map *am = &actions[r->action];
    const char *own = cr_audit_action_code(r->action);

    if (r->action == CR_AUDIT_LOGIN_FAILURE) {
        add_coding_member(b, "type", DCM, "110114", "User Authentication");
        cr_buf_adds(b, ",\"subtype\":[");
        add_coding(b, DCM, "110122", "Login");
        cr_buf_addc(b, ']');
        return;
    }
    add_coding_member(b, "type", THO "audit-event-type", "rest",
                      "Restful Operation");
    cr_buf_adds(b, ",\"subtype\":[");
    if (am->restful)
        add_coding(b, RESTFUL, am->restful, am->restful);
    if (am->has_own) {
        if (am->restful)
            cr_buf_addc(b, ',');
        add_coding(b, CS_ACTION, own, NULL);
    }
    cr_buf_addc(b, ']');
}

static void
add_outcome(struct cr_buf *b, const struct cr_audit_rec *r)
{
    const char *code = r->outcome == CR_AUDIT_ALLOWED ||
                               r->outcome == CR_AUDIT_FILTERED ? "0"
                       : r->outcome == CR_AUDIT_FAILED && r->status >= 500
                           ? "8" : "4";
    char desc[256];
    int n;

    n = snprintf(desc, sizeof desc, "%s (HTTP %d)",
                 cr_audit_outcome_code(r->outcome), r->status);
    if (r->withheld > 0 && n > 0 && (size_t)n < sizeof desc)
        n += snprintf(desc + n, sizeof desc - (size_t)n, ": %lld item%s "
                      "withheld", (long long)r->withheld,
                      r->withheld == 1 ? "" : "s");
    if (is_code(r->rule) && n > 0 && (size_t)n < sizeof desc)
        snprintf(desc + n, sizeof desc - (size_t)n, "%s%s",
                 r->withheld > 0 ? " by rule " : ": ", r->rule);
    cr_buf_addf(b, ",\"outcome\":\"%s\",\"outcomeDesc\":", code);
    cr_buf_add_json_str(b, desc);
}

/* The person (or system) who asked. */
static void
add_user(struct cr_buf *b, const struct view *v, const struct cr_audit_rec *r)
{
    const char *kind = "Practitioner", *system = SDS_USER;
    const char *label = "a member of staff";

    if (eq(r->purpose, "patient-access")) {
        kind = "Patient";
        system = ID_SUBJECT;
        label = eq(r->sub, v->x->principal.sub) ? "you" : "a patient";
    } else if (eq(r->purpose, "system")) {
        kind = "Device";
        system = ID_SUBJECT;
        label = "a source system";
    }
    cr_buf_adds(b, "{\"type\":");
    if (actions[r->action].is_author)
        add_concept(b, THO "v3-ParticipationType", "AUT", "author");
    else
        add_concept(b, THO "v3-ParticipationType", "IRCP",
                    "information recipient");
    if (is_code(r->role))
        add_role(b, r->role);
    cr_buf_addf(b, ",\"who\":{\"type\":\"%s\"", kind);
    if (v->is_patient) {
        cr_buf_adds(b, ",\"display\":");
        cr_buf_add_json_str(b, label);
    } else {
        if (has(r->sub)) {
            cr_buf_addf(b, ",\"identifier\":{\"system\":\"%s\",\"value\":",
                        system);
            cr_buf_add_json_str(b, r->sub);
            cr_buf_addc(b, '}');
        }
        cr_buf_adds(b, ",\"display\":");
        cr_buf_add_json_str(b, has(r->name) ? r->name
                                : has(r->sub) ? r->sub : label);
    }
    cr_buf_addc(b, '}');
    if (!v->is_patient && has(r->name)) {
        cr_buf_adds(b, ",\"name\":");
        cr_buf_add_json_str(b, r->name);
    }
    cr_buf_adds(b, ",\"requestor\":true");
    if (is_code(r->purpose)) {
        cr_buf_adds(b, ",\"purposeOfUse\":[");
        add_purpose(b, r->purpose);
        cr_buf_addc(b, ']');
    }
    cr_buf_addc(b, '}');
}

/* The client and server agents, typed as BALP types them. */
static void
add_endpoint(struct cr_buf *b, const struct cr_audit_rec *r, bool is_server)
{
    enum flow fl = actions[r->action].flow;

    cr_buf_adds(b, "{\"type\":");
    if (fl == FLOW_DELETE && is_server)
        add_concept(b, THO "provenance-participant-type", "custodian",
                    "Custodian");
    else if (fl == FLOW_DELETE)
        add_concept(b, DCM, "110150", "Application");
    else if ((fl == FLOW_OUT) == is_server)
        add_concept(b, DCM, "110153", "Source Role ID");
    else
        add_concept(b, DCM, "110152", "Destination Role ID");
    cr_buf_addc(b, ',');
}

static void
add_agents(struct cr_buf *b, const struct view *v, const struct cr_audit_rec *r,
           const char *node)
{
    const char *base = v->x->api->base_url;

    cr_buf_adds(b, ",\"agent\":[");
    if (has(r->sub) || has(r->name) || has(r->role)) {
        add_user(b, v, r);
        cr_buf_addc(b, ',');
    }
    if (has(r->org)) {
        cr_buf_adds(b, "{\"type\":");
        add_concept(b, THO "v3-RoleClass", "PROV", "healthcare provider");
        cr_buf_adds(b, ",\"who\":{\"type\":\"Organization\",\"identifier\":"
                       "{\"system\":\"" ODS_ORG "\",\"value\":");
        cr_buf_add_json_str(b, r->org);
        cr_buf_adds(b, "},\"display\":");
        cr_buf_add_json_str(b, r->org);
        cr_buf_adds(b, "},\"requestor\":false},");
    }
    if (!v->is_patient && has(r->client)) {
        add_endpoint(b, r, false);
        cr_buf_adds(b, "\"who\":{\"display\":");
        cr_buf_add_json_str(b, r->client);
        cr_buf_adds(b, "},\"requestor\":false,\"network\":{\"address\":");
        cr_buf_add_json_str(b, r->client);
        cr_buf_adds(b, ",\"type\":\"2\"}},");
    }
    add_endpoint(b, r, true);
    cr_buf_adds(b, "\"who\":{\"type\":\"Device\",\"identifier\":{\"system\":"
                   "\"" ID_NODE "\",\"value\":");
    cr_buf_add_json_str(b, node);
    cr_buf_adds(b, "},\"display\":");
    cr_buf_add_json_str(b, node);
    cr_buf_adds(b, "},\"requestor\":false");
    if (!v->is_patient && has(base)) {
        cr_buf_adds(b, ",\"network\":{\"address\":");
        cr_buf_add_json_str(b, base);
        cr_buf_adds(b, ",\"type\":\"5\"}");
    }
    cr_buf_adds(b, "}]");
}

/* An entity whose what.reference is 'prefix' then 'len' bytes of 'ref',
 * which are JSON-escaped already when 'is_escaped', else raw. */
static void
add_entity(struct cr_buf *b, bool *first, const char *prefix,
           const char *ref, size_t len, bool is_escaped, const char *type,
           const char *type_display, const char *role,
           const char *role_display)
{
    cr_buf_adds(b, *first ? ",\"entity\":[" : ",");
    *first = false;
    cr_buf_adds(b, "{\"what\":{\"reference\":\"");
    cr_buf_adds(b, prefix);
    if (is_escaped)
        cr_buf_add(b, ref, len);
    else
        cr_buf_add_json_esc(b, ref, len);
    cr_buf_adds(b, "\"}");
    add_coding_member(b, "type", THO "audit-entity-type", type,
                      type_display);
    add_coding_member(b, "role", THO "object-role", role, role_display);
    cr_buf_addc(b, '}');
}

static void
add_entities(struct cr_buf *b, const struct cr_audit_rec *r)
{
    struct cr_str rest = r->resources, one;
    bool first = true;

    if (has(r->request_id)) {
        first = false;
        cr_buf_adds(b, ",\"entity\":[{\"what\":{\"identifier\":{\"value\":");
        cr_buf_add_json_str(b, r->request_id);
        cr_buf_adds(b, "}}");
        add_coding_member(b, "type", BALP_ENTITY, "XrequestId", NULL);
        cr_buf_addc(b, '}');
    }
    if (has(r->patient))
        add_entity(b, &first, "Patient/", r->patient, strlen(r->patient),
                   false, "1", "Person", "1", "Patient");
    else if (has(r->nhs)) {
        /* a person this node holds nothing of: named by NHS number */
        cr_buf_adds(b, first ? ",\"entity\":[" : ",");
        first = false;
        cr_buf_adds(b, "{\"what\":{\"identifier\":{\"system\":\""
                       CR_FHIR_NHS_NUMBER_SYSTEM "\",\"value\":");
        cr_buf_add_json_str(b, r->nhs);
        cr_buf_adds(b, "}}");
        add_coding_member(b, "type", THO "audit-entity-type", "1", "Person");
        add_coding_member(b, "role", THO "object-role", "1", "Patient");
        cr_buf_addc(b, '}');
    }
    while (next_ref(&rest, &one))
        if (one.len > 0)
            add_entity(b, &first, "", one.ptr, one.len, true, "2",
                       "System Object", "4", "Domain Resource");
    if (!first)
        cr_buf_addc(b, ']');
}

/* The record as an AuditEvent. A BALP profile is claimed only where the
 * event meets it: a successful read, create, update or delete of one
 * resource by a known user from a known client, in the full view. */
static void
render(struct cr_buf *b, const struct view *v, const struct item *it)
{
    const struct cr_audit_rec *r = &it->rec;
    const struct action_map *am = &actions[r->action];
    const char *node = has(r->node) ? r->node
                                    : cr_store_node_id(v->x->api->store);
    bool is_ok = r->outcome == CR_AUDIT_ALLOWED ||
                 r->outcome == CR_AUDIT_FILTERED;
    char when[32];

    cr_buf_addf(b, "{\"resourceType\":\"AuditEvent\",\"id\":\"%lld\"",
                (long long)it->seq);
    if (!v->is_patient && is_ok && am->profile && has(r->sub) &&
        has(r->client) && count_refs(r->resources) == 1)
        cr_buf_addf(b, ",\"meta\":{\"profile\":[\"" BALP "%s%s\"]}",
                    has(r->patient) ? "Patient" : "", am->profile);
    add_extensions(b, v, it);
    add_type(b, r);
    cr_buf_addf(b, ",\"action\":\"%c\"", am->code);
    cr_clock_instant(r->time_ms, when, sizeof when);
    cr_buf_addf(b, ",\"recorded\":\"%s\"", when);
    add_outcome(b, r);
    if (is_code(r->purpose)) {
        cr_buf_adds(b, ",\"purposeOfEvent\":[");
        add_purpose(b, r->purpose);
        cr_buf_addc(b, ']');
    }
    add_agents(b, v, r, node);
    cr_buf_adds(b, ",\"source\":{\"observer\":{\"type\":\"Device\","
                   "\"identifier\":{\"system\":\"" ID_NODE "\",\"value\":");
    cr_buf_add_json_str(b, node);
    cr_buf_adds(b, "},\"display\":");
    cr_buf_add_json_str(b, node);
    cr_buf_adds(b, "},\"type\":[");
    add_coding(b, THO "security-source-type", "4", "Application Server");
    cr_buf_adds(b, "]}");
    add_entities(b, r);
    cr_buf_addc(b, '}');
}

/* Reading an event is a touch of it (the audit-read record lists it). */
static void
touch(struct ctx *x, int64_t seq)
{
    char id[24];

    snprintf(id, sizeof id, "%lld", (long long)seq);
    cr_api_touch(x, "AuditEvent", id, 0);
}

/* ---- search parameters ---- */

/* A comma-separated list: the next item of *pp into out (at most 'size'
 * bytes, NUL-terminated); false at the end or for an item too long. */
static bool
next_item(const char **pp, char *out, size_t size, bool *is_too_long)
{
    const char *p = *pp, *comma;
    size_t len;

    if (p == NULL)
        return false;
    comma = strchr(p, ',');
    len = comma ? (size_t)(comma - p) : strlen(p);
    *pp = comma ? comma + 1 : NULL;
    if (len >= size) {
        *is_too_long = true;
        return false;
    }
    memcpy(out, p, len);
    out[len] = '\0';
    return true;
}

/* The code of a token value "system|code" or "code", when the system is
 * one of the (up to two) allowed; NULL otherwise. */
static const char *
token_code(const char *v, const char *sys1, const char *sys2)
{
    const char *bar = strchr(v, '|');
    size_t n;

    if (bar == NULL)
        return v;
    n = (size_t)(bar - v);
    if (n == 0 || (sys1 && strlen(sys1) == n && memcmp(v, sys1, n) == 0) ||
        (sys2 && strlen(sys2) == n && memcmp(v, sys2, n) == 0))
        return bar + 1;
    return NULL;
}

/* The actions a subtype code stands for (0: none). */
static uint32_t
subtype_actions(const char *v)
{
    static const struct {
        const char *code;
        uint32_t actions;
    } restful[] = {
        { "read", 1u << CR_AUDIT_READ },
        { "vread", 1u << CR_AUDIT_VREAD },
        { "search", 1u << CR_AUDIT_SEARCH },
        { "search-type", 1u << CR_AUDIT_SEARCH },
        { "history", 1u << CR_AUDIT_HISTORY },
        { "history-instance", 1u << CR_AUDIT_HISTORY },
        { "history-type", 1u << CR_AUDIT_HISTORY },
        { "history-system", 1u << CR_AUDIT_HISTORY },
        { "create", 1u << CR_AUDIT_CREATE },
        { "update", 1u << CR_AUDIT_UPDATE },
        { "delete", 1u << CR_AUDIT_DELETE },
        { "transaction", 1u << CR_AUDIT_TRANSACTION },
        { "batch", 1u << CR_AUDIT_BATCH },
        { "operation", (1u << CR_AUDIT_EVERYTHING) | (1u << CR_AUDIT_IMPORT) |
                       (1u << CR_AUDIT_CARE_PLAN_SUMMARY) |
                       (1u << CR_AUDIT_CARE_PLAN_FIGURES) |

                       (1u << CR_AUDIT_REVIEW) },
    };
    enum cr_audit_action a;
    const char *code;
    size_t i;

    code = token_code(v, RESTFUL, NULL);
    for (i = 0; code && i < sizeof restful / sizeof restful[0]; i++)
        if (strcmp(code, restful[i].code) == 0)
            return restful[i].actions;
    code = token_code(v, CS_ACTION, NULL);
    if (code && cr_audit_action_parse(code, &a))
        return 1u << a;
    code = token_code(v, DCM, NULL);
    if (code && strcmp(code, "110122") == 0)
        return 1u << CR_AUDIT_LOGIN_FAILURE;
    return 0;
}

/* What one search parameter asks; answers 400/403 and returns false when
 * it cannot be honoured. */
struct parsed {
    struct ctx *x;
    const struct scope *sc;
    struct filter *f;
    const char *name;
    const char *value;
};

static bool
bad_value(struct parsed *p, const char *expected)
{
    cr_api_outcome(p->x, 400, "error", "value", p->name,
                   "%.60s=%.80s is not valid: expected %s", p->name,
                   p->value, expected);
    return false;
}

static bool
param_list(struct parsed *p, const char *expected, bool (*one)(
               struct parsed *, const char *, void *), void *acc)
{
    const char *v = p->value;
    char item[256];
    bool is_too_long = false, any = false;

    while (next_item(&v, item, sizeof item, &is_too_long)) {
        if (!one(p, item, acc))
            return bad_value(p, expected);
        any = true;
    }
    if (is_too_long || !any)
        return bad_value(p, expected);
    return true;
}

static bool
one_outcome(struct parsed *p, const char *v, void *acc)
{
    unsigned *m = acc;
    const char *code = token_code(v, THO "audit-event-outcome",
                                  "http://hl7.org/fhir/audit-event-outcome");

    (void)p;
    if (code == NULL)
        return false;
    if (strcmp(code, "0") == 0) {
        m[CR_AUDIT_ALLOWED] |= ST_ANY;
        m[CR_AUDIT_FILTERED] |= ST_ANY;
    } else if (strcmp(code, "4") == 0) {
        m[CR_AUDIT_DENIED] |= ST_ANY;
        m[CR_AUDIT_FAILED] |= ST_CLIENT;
    } else if (strcmp(code, "8") == 0) {
        m[CR_AUDIT_FAILED] |= ST_SERVER;
    } else if (strcmp(code, "12") != 0) {
        return false;
    }
    return true;
}

static bool
one_access_outcome(struct parsed *p, const char *v, void *acc)
{
    unsigned *m = acc;
    enum cr_audit_outcome o;

    (void)p;
    if (!cr_audit_outcome_parse(v, &o))
        return false;
    m[o] |= ST_ANY;
    return true;
}

static bool
one_action(struct parsed *p, const char *v, void *acc)
{
    uint32_t *m = acc;
    const char *code = token_code(v, "http://hl7.org/fhir/audit-event-action",
                                  NULL);
    int i;

    (void)p;
    if (code == NULL || strlen(code) != 1 || strchr("CRUDE", code[0]) == NULL)
        return false;
    for (i = 0; i < CR_AUDIT_ACTION__COUNT; i++)
        if (actions[i].code == code[0])
            *m |= 1u << i;
    return true;
}

static bool
one_subtype(struct parsed *p, const char *v, void *acc)
{
    uint32_t *m = acc, a = subtype_actions(v);

    (void)p;
    *m |= a;
    return a != 0;
}

static bool
one_patient(struct parsed *p, const char *v, void *acc)
{
    struct pset *s = acc;
    const char *base = p->x->api->base_url;
    size_t nb = strlen(base);

    if (nb && strncmp(v, base, nb) == 0 && v[nb] == '/')
        v += nb + 1;
    if (strncmp(v, "Patient/", 8) == 0)
        v += 8;
    if (!cr_fhir_valid_id(v, strlen(v)) || s->n == MAX_PATIENTS)
        return false;
    if (!pset_has(s, v))
        memcpy(s->ids[s->n++], v, strlen(v) + 1);
    return true;
}

/* patient:identifier=[https://fhir.nhs.uk/Id/nhs-number|]NHS number */
static bool
patient_identifier(struct parsed *p)
{
    const char *nhs = token_code(p->value, CR_FHIR_NHS_NUMBER_SYSTEM, NULL);
    char ids[MAX_PATIENTS][65];
    struct cr_err err;
    size_t n = 0;

    if (nhs == NULL || !cr_fhir_nhs_number_valid(nhs, strlen(nhs)))
        return bad_value(p, "an NHS number (10 digits, valid check digit), "
                            "optionally after " CR_FHIR_NHS_NUMBER_SYSTEM "|");
    cr_err_clear(&err);
    if (cr_store_find_token(p->x->api->store, "Patient", "identifier",
                            CR_FHIR_NHS_NUMBER_SYSTEM, nhs, ids, MAX_PATIENTS,
                            &n, &err) != CR_OK) {
        cr_api_fail(p->x, &err);
        return false;
    }
    pset_narrow(&p->f->patients, ids, n < MAX_PATIENTS ? n : MAX_PATIENTS);
    return true;
}

/* date=[eq|ge|gt|le|lt]<date or dateTime>: narrow [since, until). */
static bool
date_param(struct parsed *p)
{
    const char *v = p->value;
    int64_t lo, hi, from = INT64_MIN, to = INT64_MAX;
    char pfx[3] = "eq";

    if (v[0] >= 'a' && v[0] <= 'z' && v[1] >= 'a' && v[1] <= 'z') {
        memcpy(pfx, v, 2);
        v += 2;
    }
    if (!cr_fhir_parse_date_range(v, strlen(v), &lo, &hi))
        return bad_value(p, "a date or dateTime such as 2026-01-31 or "
                            "2026-01-31T10:00:00Z, after an optional prefix "
                            "eq, ge, gt, le or lt");
    if (strcmp(pfx, "eq") == 0) {
        from = lo;
        to = hi + 1;
    } else if (strcmp(pfx, "ge") == 0) {
        from = lo;
    } else if (strcmp(pfx, "gt") == 0) {
        from = hi + 1;
    } else if (strcmp(pfx, "le") == 0) {
        to = hi + 1;
    } else if (strcmp(pfx, "lt") == 0) {
        to = lo;
    } else {
        cr_api_outcome(p->x, 400, "error", "not-supported", p->name,
                       "the date prefix '%s' is not supported here (eq, ge, "
                       "gt, le and lt are)", pfx);
        return false;
    }
    if (from > p->f->since_ms)
        p->f->since_ms = from;
    if (to < p->f->until_ms)
        p->f->until_ms = to;
    return true;
}

static bool
patient_refused(struct parsed *p, const char *what)
{
    cr_api_outcome(p->x, 403, "error", "forbidden", p->name,
                   "a patient reads the accesses to their own record only; "
                   "%s", what);
    return false;
}

static bool
one_param(struct parsed *p)
{
    struct filter *f = p->f;
    const char *name = p->name, *v = p->value;
    unsigned outs[CR_AUDIT_OUTCOME__COUNT] = { 0 };
    uint32_t acts = 0;
    struct pset ps;
    size_t i;
    long long n;
    char *end;

    if (strcmp(name, "patient") == 0) {
        memset(&ps, 0, sizeof ps);
        if (!param_list(p, "Patient/<id> or <id>, or several separated by "
                           "commas (at most 16)", one_patient, &ps))
            return false;
        for (i = 0; p->sc->is_patient && i < ps.n; i++) {
            size_t k;
            for (k = 0; k < p->sc->nids; k++)
                if (strcmp(p->sc->ids[k], ps.ids[i]) == 0)
                    break;
            if (k == p->sc->nids)
                return patient_refused(p, "this patient is not you");
        }
        pset_narrow(&f->patients, ps.ids, ps.n);
    } else if (strcmp(name, "patient:identifier") == 0) {
        const char *nhs = token_code(v, CR_FHIR_NHS_NUMBER_SYSTEM, NULL);
        if (p->sc->is_patient && !eq(nhs, p->x->principal.patient))
            return patient_refused(p, "this NHS number is not yours");
        return patient_identifier(p);
    } else if (strcmp(name, "agent") == 0 ||
               strcmp(name, "agent:identifier") == 0) {
        const char *sub = name[5] ? token_code(v, SDS_USER, ID_SUBJECT) : v;
        if (p->sc->is_patient)
            return patient_refused(p, "it cannot be searched by member of "
                                      "staff");
        if (!has(sub))
            return bad_value(p, name[5] ? "the user's id, optionally after "
                                          SDS_USER "|"
                                        : "the user's id (the token's sub)");
        if (f->sub && strcmp(f->sub, sub) != 0)
            f->is_none = true;
        f->sub = sub;
    } else if (strcmp(name, "date") == 0) {
        return date_param(p);
    } else if (strcmp(name, "outcome") == 0 ||
               strcmp(name, "access-outcome") == 0) {
        bool is_fhir = name[0] == 'o';
        if (!param_list(p, is_fhir ? "0 (success), 4 (minor failure), 8 "
                                     "(serious failure) or 12"
                                   : "allowed, filtered, denied or failed",
                        is_fhir ? one_outcome : one_access_outcome, outs))
            return false;
        for (i = 0; i < CR_AUDIT_OUTCOME__COUNT; i++)
            f->outcomes[i] &= outs[i];
    } else if (strcmp(name, "action") == 0 || strcmp(name, "subtype") == 0) {
        bool is_action = name[1] == 'c';
        if (!param_list(p, is_action ? "C, R, U, D or E"
                                     : "a restful-interaction code (read, "
                                       "vread, search-type, history, create, "
                                       "update, delete, transaction, batch, "
                                       "operation) or one of ours "
                                       "(everything, import, audit-read, "
                                       "login-failure, review)",
                        is_action ? one_action : one_subtype, &acts))
            return false;
        f->actions &= acts;
    } else if (strcmp(name, "_id") == 0) {
        int64_t id = cr_api_parse_seq(v);
        if (id == 0 || (f->id && f->id != id))
            f->is_none = true;
        f->id = id;
    } else if (strcmp(name, "_count") == 0) {
        n = strtoll(v, &end, 10);
        if (v[0] < '0' || v[0] > '9' || *end || n < 0)
            return bad_value(p, "a whole number");
        f->count = n > p->x->api->cfg.max_count ? p->x->api->cfg.max_count
                                                : (int)n;
    } else if (strcmp(name, "_page") == 0) {
        f->before_seq = cr_api_parse_seq(v);
        if (f->before_seq == 0)
            return bad_value(p, "the cursor from a next link");
    } else if (strcmp(name, "_format") != 0 && strcmp(name, "_pretty") != 0) {
        cr_api_outcome(p->x, 400, "error", "not-supported", name,
                       "AuditEvent search does not support the parameter "
                       "'%.80s' (supported: patient, patient:identifier, "
                       "agent, agent:identifier, date, outcome, "
                       "access-outcome, action, subtype, _id, _count)", name);
        return false;
    }
    return true;
}

/* The filter of a request: the principal's scope, then each parameter. */
static bool
make_filter(struct ctx *x, const struct scope *sc, const struct query_args *g,
            struct filter *f)
{
    struct parsed p;
    size_t i;

    memset(f, 0, sizeof *f);
    f->since_ms = INT64_MIN;
    f->until_ms = INT64_MAX;
    f->actions = ALL_ACTIONS;
    for (i = 0; i < CR_AUDIT_OUTCOME__COUNT; i++)
        f->outcomes[i] = ST_ANY;
    f->count = x->api->cfg.default_count;
    if (sc->is_patient) {
        f->patients.is_set = true;
        for (i = 0; i < sc->nids; i++)
            memcpy(f->patients.ids[f->patients.n++], sc->ids[i], 65);
    } else {
        f->org = sc->org;
    }
    memset(&p, 0, sizeof p);
    p.x = x;
    p.sc = sc;
    p.f = f;
    for (i = 0; i < g->n; i++) {
        p.name = g->a[i].name;
        p.value = g->a[i].value;
        if (!one_param(&p))
            return false;
    }
    if (f->patients.is_set && f->patients.n == 0)
        f->is_none = true;
    if (f->since_ms >= f->until_ms || f->until_ms <= 0)
        f->is_none = true;
    return true;
}

/* ---- the interactions ---- */

struct page {
    struct ctx *x;
    struct view v;
    struct cr_buf *b;
    int n;
};

static void
add_entry(void *ctx, const struct item *it)
{
    struct page *pg = ctx;

    if (pg->n++)
        cr_buf_addc(pg->b, ',');
    cr_buf_addf(pg->b, "{\"fullUrl\":\"%s/AuditEvent/%lld\",\"resource\":",
                pg->x->api->base_url, (long long)it->seq);
    render(pg->b, &pg->v, it);
    cr_buf_adds(pg->b, ",\"search\":{\"mode\":\"match\"}}");
    touch(pg->x, it->seq);
}

static void
add_link(struct cr_buf *b, struct ctx *x, const struct query_args *g,
         const char *rel, int64_t page)
{
    bool is_first = true;
    size_t i;

    cr_buf_addf(b, "{\"relation\":\"%s\",\"url\":\"%s/AuditEvent", rel,
                x->api->base_url);
    for (i = 0; i < g->n; i++) {
        const char *name = g->a[i].name;
        if (strcmp(name, "_page") == 0 || strcmp(name, "_format") == 0 ||
            strcmp(name, "_pretty") == 0)
            continue;
        cr_buf_addc(b, is_first ? '?' : '&');
        is_first = false;
        cr_buf_add_url_encoded(b, name);
        cr_buf_addc(b, '=');
        cr_buf_add_url_encoded(b, g->a[i].value);
    }
    if (page)
        cr_buf_addf(b, "%c_page=%lld", is_first ? '?' : '&', (long long)page);
    cr_buf_adds(b, "\"}");
}

/* The patient the audit-read record names: the one patient a search or
 * read was about, or a patient's own record. */
static void
note_patient(struct ctx *x, const struct scope *sc, const struct filter *f)
{
    const char *id = NULL;

    if (f->patients.is_set && f->patients.n == 1)
        id = f->patients.ids[0];
    else if (sc->is_patient && sc->nids > 0)
        id = sc->ids[0];
    if (id)
        x->audit_patient = cr_arena_strndup(x->req->arena, id, strlen(id));
}

static void
search(struct ctx *x)
{
    struct query_args *g = cr_arena_calloc(x->req->arena, 1, sizeof *g);
    struct scan *sc = cr_arena_calloc(x->req->arena, 1, sizeof *sc);
    struct cr_buf b = cr_buf_make(x->api->cfg.max_response),
                  entries = cr_buf_make(x->api->cfg.max_response);
    struct scope scope;
    struct filter f;
    struct page pg;
    int64_t last = 0;
    bool is_more = false;
    cr_rc rc;

    if (g == NULL || sc == NULL) {
        cr_api_outcome(x, 503, "error", "transient", NULL,
                       "the server is out of memory; try again shortly");
        return;
    }
    if (!get_scope(x, &scope))
        return;
    cr_http_args(x->req, cr_api_take_arg, g);
    if (g->is_full) {
        cr_api_outcome(x, 400, "error", "too-costly", NULL,
                       "an AuditEvent search takes at most %d parameters",
                       CR_API_MAX_ARGS);
        return;
    }
    if (!make_filter(x, &scope, g, &f))
        return;
    note_patient(x, &scope, &f);
    memset(&pg, 0, sizeof pg);
    pg.x = x;
    pg.v.x = x;
    pg.v.is_patient = scope.is_patient;
    pg.b = &entries;
    sc->x = x;
    sc->f = &f;
    cr_err_clear(&sc->err);
    plan_streams(sc, &f);
    sc->batch = f.count < BATCH_MAX ? f.count : BATCH_MAX;
    if (sc->ns > 1 && sc->batch > 32)
        sc->batch = 32;
    if (sc->batch < 1 || f.id)
        sc->batch = 1;
    rc = scan_run(sc, add_entry, &pg, &last, &is_more);
    scan_free(sc);
    if (rc == CR_OK && entries.rc != CR_OK)
        rc = entries.rc;
    if (rc != CR_OK) {
        cr_buf_free(&entries);
        if (rc == CR_ETOOBIG)
            cr_api_too_big(x);
        else if (sc->err.rc == CR_OK)
            cr_api_outcome(x, 500, "fatal", "exception", NULL,
                           "the audit log could not be read (%s)",
                           cr_rc_name(rc));
        else
            cr_api_fail(x, &sc->err);
        return;
    }
    cr_api_bundle_start(&b, "searchset");
    cr_buf_adds(&b, ",\"link\":[");
    add_link(&b, x, g, "self", f.before_seq);
    if (is_more) {
        cr_buf_addc(&b, ',');
        add_link(&b, x, g, "next", last);
    }
    cr_buf_addc(&b, ']');
    cr_api_bundle_finish(x, &b, &entries);
}

struct one {
    struct view v;
    struct cr_buf *b;
    const struct scope *sc;
    bool is_found;
    bool is_forbidden;
};

static void
read_entry(void *ctx, const struct item *it)
{
    struct one *o = ctx;
    const struct cr_audit_rec *r = &it->rec;
    struct ctx *x = o->v.x;
    size_t i;

    o->is_found = true;
    if (has(r->patient))
        x->audit_patient = cr_arena_strndup(x->req->arena, r->patient,
                                            strlen(r->patient));
    if (o->sc->is_patient) {
        for (i = 0; i < o->sc->nids; i++)
            if (eq(r->patient, o->sc->ids[i]))
                break;
        o->is_forbidden = i == o->sc->nids;
    } else {
        o->is_forbidden = !eq(r->org, o->sc->org) ||
                          eq(r->purpose, "patient-access");
    }
    if (o->is_forbidden)
        return;
    render(o->b, &o->v, it);
    touch(x, it->seq);
}

static void
read_one(struct ctx *x)
{
    struct scan *sc = cr_arena_calloc(x->req->arena, 1, sizeof *sc);
    struct cr_buf b = cr_buf_make(x->api->cfg.max_response);
    struct scope scope;
    struct filter f;
    struct one o;
    int64_t last = 0;
    bool is_more = false;
    cr_rc rc;

    if (sc == NULL) {
        cr_api_outcome(x, 503, "error", "transient", NULL,
                       "the server is out of memory; try again shortly");
        return;
    }
    if (!get_scope(x, &scope))
        return;
    /* The whole log, narrowed to the one record; who may see it is
     * decided on the record, so a refusal can say so. */
    memset(&f, 0, sizeof f);
    f.since_ms = INT64_MIN;
    f.until_ms = INT64_MAX;
    f.actions = ALL_ACTIONS;
    f.outcomes[0] = f.outcomes[1] = f.outcomes[2] = f.outcomes[3] = ST_ANY;
    f.count = 1;
    f.id = cr_api_parse_seq(x->route.id);
    memset(&o, 0, sizeof o);
    o.v.x = x;
    o.v.is_patient = scope.is_patient;
    o.b = &b;
    o.sc = &scope;
    if (f.id) {
        sc->x = x;
        sc->f = &f;
        sc->batch = 1;
        cr_err_clear(&sc->err);
        plan_streams(sc, &f);
        rc = scan_run(sc, read_entry, &o, &last, &is_more);
        scan_free(sc);
        if (rc != CR_OK) {
            cr_buf_free(&b);
            cr_api_fail(x, &sc->err);
            return;
        }
    }
    if (!o.is_found) {
        cr_buf_free(&b);
        cr_api_outcome(x, 404, "error", "not-found", NULL,
                       "AuditEvent/%.64s is not in the audit log (ids are "
                       "the records' numbers: 1, 2, 3...)", x->route.id);
        return;
    }
    if (o.is_forbidden) {
        cr_buf_free(&b);
        cr_api_outcome(x, 403, "error", "forbidden", NULL,
                       "%s", scope.is_patient
                           ? "this audit event is not about your record; a "
                             "patient reads the accesses to their own "
                             "record only"
                           : "this audit event records an access by another "
                             "organisation's staff; a privacy officer reads "
                             "the accesses by their own organisation's "
                             "staff only");
        return;
    }
    cr_api_send_buf(x, 200, &b);
}

void
cr_api_auditevent(struct ctx *x)
{
    bool is_get = strcmp(x->req->method, "GET") == 0;

    /* A read of the log is recorded as such; an attempt to write to it
     * keeps the action its method names (an "update" refused with 405). */
    if (is_get || strcmp(x->req->method, "HEAD") == 0) {
        x->has_action = true;
        x->action = CR_AUDIT_AUDIT_READ;
        if (!cr_api_audit_settle(x))
            return;
    }
    switch (x->route.kind) {
    case R_TYPE:
        if (is_get)
            search(x);
        else
            not_allowed(x);
        return;
    case R_INSTANCE:
        if (is_get || strcmp(x->req->method, "HEAD") == 0)
            read_one(x);
        else
            not_allowed(x);
        return;
    default:
        cr_api_outcome(x, 404, "error", "not-supported", NULL,
                       "the audit log is read with GET /fhir/AuditEvent?... "
                       "(search) and GET /fhir/AuditEvent/{id} (read) only; "
                       "%s is not supported", x->req->path);
        return;
    }
}

void
cr_api_auditevent_capability(struct cr_buf *b)
{
    static const struct {
        const char *name, *type, *definition, *doc;
    } params[] = {
        { "_id", "token", "http://hl7.org/fhir/SearchParameter/Resource-id",
          "The record's number in the audit log." },
        { "patient", "reference",
          "http://hl7.org/fhir/SearchParameter/AuditEvent-patient",
          "Patient/<id> or <id> (several separated by commas); "
          "patient:identifier takes an NHS number." },
        { "agent", "reference", NULL,
          "The user's id (the token's sub), or agent:identifier="
          "https://fhir.nhs.uk/Id/sds-user-id|<id>. Not for patients." },
        { "date", "date", "http://hl7.org/fhir/SearchParameter/AuditEvent-date",
          "When the access was recorded; prefixes eq, ge, gt, le, lt." },
        { "outcome", "token",
          "http://hl7.org/fhir/SearchParameter/AuditEvent-outcome",
          "0 allowed or filtered; 4 denied, or failed with a 4xx status; "
          "8 failed with a 5xx status." },
        { "access-outcome", "token", NULL,
          "The record's own outcome: allowed, filtered, denied, failed." },
        { "action", "token",
          "http://hl7.org/fhir/SearchParameter/AuditEvent-action",
          "C, R, U, D or E." },
        { "subtype", "token",
          "http://hl7.org/fhir/SearchParameter/AuditEvent-subtype",
          "A restful-interaction code, or everything, import, audit-read, "
          "login-failure, review." },
    };
    size_t i;

    cr_buf_adds(b, "{\"type\":\"AuditEvent\",\"documentation\":\"The node's "
                   "audit log, newest first, as IHE BALP AuditEvents: purpose "
                   "audit reads the accesses by its organisation's staff, "
                   "purpose patient-access the accesses to the patient's own "
                   "record; see docs/api.md.\",\"interaction\":["
                   "{\"code\":\"read\"},{\"code\":\"search-type\"}],"
                   "\"versioning\":\"no-version\",\"readHistory\":false,"
                   "\"updateCreate\":false,\"searchParam\":[");
    for (i = 0; i < sizeof params / sizeof params[0]; i++) {
        cr_buf_addf(b, "%s{\"name\":\"%s\"", i ? "," : "", params[i].name);
        if (params[i].definition)
            cr_buf_addf(b, ",\"definition\":\"%s\"", params[i].definition);
        cr_buf_addf(b, ",\"type\":\"%s\",\"documentation\":", params[i].type);
        cr_buf_add_json_str(b, params[i].doc);
        cr_buf_addc(b, '}');
    }
    cr_buf_adds(b, "]}");
}

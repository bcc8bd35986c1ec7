/* apiInt.h: private to api/: the API object, the per-request context and
 * the helpers the interaction files share. */
#ifndef CR_API_INT_H
#define CR_API_INT_H

#include "access/policy.h"
#include "access/principal.h"
#include "api/api.h"
#include "audit/audit.h"
#include "core/buf.h"
#include "mpi/mpi.h"
#include "search/search.h"

#include <jansson.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>

/* facts.c: what the policy needs to know, as read from the store. */
#define CR_API_MAX_GP 4
#define CR_API_MAX_RELS 32      /* distinct (organisation, kind) pairs
                                   kept per person; past that, more are
                                   dropped, which can only deny */
struct cr_api_rel {
    char org[32];
    enum cr_policy_rel_kind kind;
    int64_t end_ms;
};

/* The facts about one person (a value: copied in and out of the cache). */
struct cr_api_facts {
    char ids[CR_POLICY_MAX_IDS][65];
    size_t nids;
    char nhs_number[16];
    char gp[CR_API_MAX_GP][32];
    size_t ngp;
    struct cr_api_rel rels[CR_API_MAX_RELS];
    size_t nrels;
    bool has_objection;
    char objection_org[32];
    bool is_restricted;
    bool is_flagged;
    char surname[128];
    char postcode[32];
};

struct patient_slot;
struct user_slot;

struct cr_api_facts_cache {
    pthread_mutex_t lock;
    bool has_lock;
    struct patient_slot *patients;
    struct user_slot *users;
    struct org_slot *orgs;      /* Organization id -> ODS code */
    const char **codes;         /* codes worth a parse, sorted */
    size_t ncodes;
    _Atomic uint64_t *items;    /* item flags by version (seq), see
                                   cr_api_item_flags_of */
};

/* Item facts (cr_api_item_flags). */
#define CR_API_ITEM_SENSITIVE 0x1u
#define CR_API_ITEM_NOT_FOR_PATIENT 0x2u
#define CR_API_ITEM_DISCHARGE 0x4u

struct cr_api {
    struct cr_fed *fed;         /* this node's peers, or NULL */
    struct cr_store *store;
    struct cr_mpi *mpi;         /* the patient index (mpi/mpi.h) */
    struct cr_policy *policy;   /* the node's access rules */
    struct cr_api_facts_cache facts;
    struct cr_audit *audit;     /* the node's audit log */
    struct cr_keys *keys;
    struct cr_api_config cfg;
    char *base_url;
};

/* What the path names. */
enum route_kind {
    R_METADATA,      /* /fhir/metadata */
    R_SYSTEM,        /* /fhir */
    R_SYSTEM_HIST,   /* /fhir/_history */
    R_TYPE,          /* /fhir/T */
    R_TYPE_HIST,     /* /fhir/T/_history */
    R_TYPE_SEARCH,   /* /fhir/T/_search */
    R_INSTANCE,      /* /fhir/T/id */
    R_INST_HIST,     /* /fhir/T/id/_history */
    R_VERSION,       /* /fhir/T/id/_history/vid */
    R_SYSTEM_OP,     /* /fhir/$op */
    R_TYPE_OP,       /* /fhir/T/$op */
    R_INSTANCE_OP    /* /fhir/T/id/$op */
};

struct route {
    enum route_kind kind;
    const char *type;    /* arena copies */
    const char *id;
    int64_t version;
    const char *op;      /* operation name without '$' */
};

enum prefer_return { PREFER_REPRESENTATION, PREFER_MINIMAL, PREFER_OUTCOME };

/* One request in flight. */
struct ctx {
    struct cr_api *api;
    struct cr_http_req *req;
    struct cr_http_resp *resp;
    struct route route;
    struct cr_principal principal;
    bool is_authenticated;
    const char *who;            /* sub@org/role, for the request log */
    enum prefer_return prefer;
    char etag[32];
    char last_modified[40];
    char location[512];
    /* the audit step (audit_step.c) */
    struct cr_buf touched;      /* "Type/id/_history/v" list (JSON) */
    const char *audit_patient;  /* the patient, when one is known */
    const char *audit_nhs;      /* the person asked about by NHS number
                                   (federated reads), recorded when no
                                   patient of this node's is named */
    bool is_txn;                /* POST /fhir: a transaction */
    struct cr_http_resp saved;  /* the answer, while its record is written */
    struct cr_http_pending *audit_pending;
    struct cr_audit_async audit;
    cr_rc audit_rc;
    _Atomic int audit_state;    /* AUDIT_* in audit_step.c */
    bool is_recorded;           /* the write's record is in its transaction */
    bool has_action;            /* the interaction names its audit action */
    enum cr_audit_action action;    /* ... this one (else by route) */
    struct view *view;          /* view.c: the policy applied (lazily) */
    /* federation (fed_step.c) */
    const char *via;            /* a node token: the peer calling on the
                                   user's behalf; NULL for a direct call */
    bool is_tagged;             /* entries carry publisher and node tags */
    struct fedreq *fed;         /* a federated read in progress, or NULL */
    bool is_unaudited;          /* /federation/ endpoints: request log only */
    int64_t t0_us;              /* when the request reached the API */
    bool is_plan_write;         /* $care-plan: may write the resources of a
                                   Universal Care Plan */
};

/* ---- facts.c ---- */

/* Set up the caches and the code list of api->policy. */
cr_rc
cr_api_facts_init(struct cr_api *api, struct cr_err *err);

/* Free them. Safe on a zeroed or half-built cache. */
void
cr_api_facts_free(struct cr_api *api);

/* A store write queued for the writer thread while its request waits,
 * suspended (queued.c). Embedded in the handler's own state. */
struct cr_api_queued {
    struct cr_store_async a;
    struct cr_http_pending *pending;
    cr_rc *rc;
};

/* Run fn(txn, ctx) in the store's writer for request 'x', writing its
 * result to *rc and its detail to *err. Normally the request is suspended
 * and 'cont(arg, ..)' answers it once the write is durable or undone (or
 * was refused: *rc says why); returns true. When the request cannot be
 * suspended the write runs here and now; returns false, and the caller
 * answers at once. */
bool
cr_api_queue_write(struct ctx *x, struct cr_api_queued *q, cr_rc *rc,
                   struct cr_err *err, cr_store_txn_fn fn, void *ctx,
                   cr_http_cont_fn cont, void *arg);

/* The facts 'f' packed as the cache holds them (facts.c says the
 * layout) into 'out', which has room for CR_API_FACTS_PACKED_MAX bytes;
 * returns the packed length. cr_api_facts_unpack gives back the same
 * facts. */
#define CR_API_FACTS_PACKED_MAX (sizeof(struct cr_api_facts) + 64)
size_t
cr_api_facts_pack(const struct cr_api_facts *f, unsigned char *out);
void
cr_api_facts_unpack(const unsigned char *p, struct cr_api_facts *f);

/* The facts about the person whose Patient resource is 'id' (a patient
 * compartment id), from the cache when nothing they depend on changed.
 * A patient id with no Patient resource gives facts with that id only
 * (denied to anyone relying on a relationship). Thread-safe. */
cr_rc
cr_api_patient_facts(struct cr_api *api, const char *id,
                     struct cr_api_facts *out, struct cr_err *err);

/* Point policy facts 'p' into 'f', with the caller's arrays 'ids'
 * (CR_POLICY_MAX_IDS), 'gps' (CR_API_MAX_GP), 'rels' (CR_API_MAX_RELS). */
void
cr_api_facts_view(const struct cr_api_facts *f, struct cr_policy_patient *p,
                  const char **ids, const char **gps,
                  struct cr_policy_rel *rels);

/* The user's own family name and home postcode (their Practitioner record
 * by SDS user id 'sub'), "" when unknown. Cached. Thread-safe. */
void
cr_api_user_facts(struct cr_api *api, const char *sub, char surname[128],
                  char postcode[32]);

/* CR_API_ITEM_* of a stored resource's bytes. Thread-safe. */
unsigned
cr_api_item_flags(const struct cr_api *api, const char *json, size_t len);

/* As cr_api_item_flags for the stored version whose change sequence
 * number is 'seq' (cr_store_meta.seq; a version's bytes never change, so
 * its flags are kept, in a cache of the last 65,536 versions looked at);
 * seq <= 0 is not cached. Thread-safe, lock-free. */
unsigned
cr_api_item_flags_of(const struct cr_api *api, int64_t seq, const char *json,
                     size_t len);

/* ---- view.c: the policy applied to one request ---- */

/* How many patients the request has been decided on so far (each meant
 * reading that person's facts, unless cached). */
size_t
cr_api_view_people(struct ctx *x);

/* The decision about patient 'patient_id' for this request (gathering and
 * caching facts); NULL when the facts cannot be read (then answer 500:
 * fail closed). Lives as long as the request. */
const struct cr_policy_decision *
cr_api_view_patient(struct ctx *x, const char *patient_id);

/* The one organisation whose rows a search may read for this request's
 * principal (cr_policy_only_org: a source system's own), or NULL for
 * any. Lives as long as the request. */
const char *
cr_api_view_only_org(struct ctx *x);

/* The decision for data in no patient's compartment. */
const struct cr_policy_decision *
cr_api_view_directory(struct ctx *x);

/* Show, redact or withhold one resource the answer would carry, counted
 * for the audit record and the "items withheld" notice. 'meta' gives the
 * row's patient and org; '*out_why' (may be NULL) why it was withheld. */
enum cr_policy_show
cr_api_view_item(struct ctx *x, const char *type,
                 const struct cr_store_meta *meta, const char *json,
                 size_t len, enum cr_policy_withhold *out_why);

/* The same for one resource inside a Bundle's answer: fill 'err' with
 * CR_EFORBIDDEN (the rule), CR_ENOTFOUND (as if it did not exist) or
 * CR_EIO, and return that code. */
cr_rc
cr_api_view_err(struct ctx *x, const char *type, const char *id,
                const struct cr_store_meta *meta,
                enum cr_policy_withhold why, struct cr_err *err);

/* Whether the resource would be shown, without counting it (totals). */
bool
cr_api_view_visible(struct ctx *x, const char *type,
                    const struct cr_store_meta *meta, const char *json,
                    size_t len);

/* For a single resource that was withheld: answer 403 when the person's
 * record is refused (naming the rule) or the role may not see the type,
 * 500 when the facts could not be read, and return true; return false
 * when the caller should answer as if the resource did not exist (404),
 * so that withholding it reveals nothing. */
bool
cr_api_view_refuse(struct ctx *x, const struct cr_store_meta *meta,
                   enum cr_policy_withhold why);

/* Append the resource as 'show' says: as stored, or without address,
 * telecom and generalPractitioner (SHOW_REDACTED). */
void
cr_api_view_add(struct cr_buf *b, enum cr_policy_show show,
                const char *json, size_t len);

/* Answer 403 for a denial, naming the rule and what to do. */
void
cr_api_view_deny(struct ctx *x, const struct cr_policy_decision *d);

/* How many items were withheld so far. */
int64_t
cr_api_view_withheld(struct ctx *x);

/* Answer 403 for a refusal by rule 'rule' (a stable code) with sentence
 * 'msg'. */
void
cr_api_view_refusal(struct ctx *x, const char *rule, const char *msg);

/* Answer 403 role-not-permitted: the role may not see records of 'type'. */
void
cr_api_view_deny_role(struct ctx *x, const char *type);

/* True when items were withheld for a reason the user should be told of
 * (anything but the role's view). */
bool
cr_api_view_has_notice(struct ctx *x);

/* Append the searchset entry that says items were withheld (an
 * OperationOutcome, search mode outcome), preceded by ',' when 'n' > 0. */
void
cr_api_view_add_notice(struct ctx *x, struct cr_buf *entries, int n);

/* Federation: true when a patient decided in this request whose NHS
 * number is 'nhs' was allowed on a care relationship (registered GP or a
 * recorded relationship), which this node may then vouch for to peers. */
bool
cr_api_view_care(struct ctx *x, const char *nhs);

/* Federated reads: the person asked about by NHS number 'nhs' may have no
 * record on this node, so no decision of this node's names the user's
 * claim. Decide for the audit record what this node's policy says of the
 * user's stated reason (self-claimed relationship, emergency access) on a
 * person it holds nothing of, so the record here carries the basis,
 * reason and alerts as the answering nodes' records do. Changes nothing
 * in the answer; a no-op when this node decided on a record of its own. */
void
cr_api_view_elsewhere(struct ctx *x, const char *nhs);

/* Federation: the NHS number of patient 'patient_id' as decided in this
 * request, or NULL when not decided or unknown. */
const char *
cr_api_view_nhs(struct ctx *x, const char *patient_id);

/* Federation: when a patient objection is in force for this request (a
 * decision filtered by it), the ODS code of the organisation that recorded
 * it ("" if unknown); NULL otherwise. */
const char *
cr_api_view_objection(struct ctx *x);

/* Federation: count 'n' more items withheld from the answer under 'rule'
 * (the user is told that items were withheld). */
void
cr_api_view_withhold(struct ctx *x, int64_t n, const char *rule);

/* The filter for chain and _has hops (store.h). */
const struct cr_store_filter *
cr_api_view_hops(struct ctx *x);

/* Fill the policy fields of the request's audit record. */
void
cr_api_view_audit(struct ctx *x, struct cr_audit_rec *rec);

/* The decision for writing a resource of 'type' in patient 'patient_id''s
 * compartment (NULL or "": none, or a new patient). NULL when the facts
 * cannot be read. */
const struct cr_policy_decision *
cr_api_view_write(struct ctx *x, const char *type, const char *patient_id);

/* fed_step.c: before Patient/$everything, a Patient search or a care
 * plan summary: decide whether the read is federated (peers configured,
 * asked directly by a clinician or patient, not only this node's own
 * page) and if so have entries tagged (not the summary's: it has none). */
void
cr_api_fed_begin(struct ctx *x);

/* fed_step.c: append a resource the answer carries as 'show' says (see
 * cr_api_view_add), with publisher 'org' and this node in meta.tag when
 * the request's entries are tagged. */
void
cr_api_fed_add(struct ctx *x, struct cr_buf *b, enum cr_policy_show show,
               const char *json, size_t len, const char *org);

/* fed_step.c: after the interaction answered: for a federated read, set
 * the answer aside, ask the peers and answer the merged Bundle later;
 * returns true when it took the request over (the caller sends nothing).
 * For a read from a peer, add the objection header. */
bool
cr_api_fed_step(struct ctx *x);

/* fed_step.c: the code system of the codes that say what became of a
 * node's part of a federated answer (node-timeout, node-refused...). */
#define CR_API_FED_SYSTEM "https://carerecord.example/CodeSystem/federation"

/* fed_step.c: what a node's part that did not come back says. */
struct cr_api_fed_issue {
    const char *severity;       /* OperationOutcome issue severity */
    const char *code;           /* its IssueType */
    const char *fed_code;       /* CR_API_FED_SYSTEM code */
    bool is_unreached;          /* it failed or was late (not a refusal):
                                   what it holds is unknown */
    char rule[64];              /* a refusal's rule code, or "" */
    char msg[700];              /* a sentence naming the node */
};

/* fed_step.c: the issue for peer answer 'a' into *out; false (nothing
 * to say) when it answered or holds no data. */
bool
cr_api_fed_issue_of(const struct cr_fed_answer *a,
                    struct cr_api_fed_issue *out);

/* fed_step.c: the issue for a refusal by node 'node' whose
 * OperationOutcome is the 'len' bytes at 'body' (NULL: none). */
void
cr_api_fed_refusal_of(const char *body, size_t len, const char *node,
                      struct cr_api_fed_issue *out);

/* careplan_fed.c: a federated care plan summary's answer: this node's
 * own answer 'local' (set aside by the federation step; its body may be
 * taken, then set to NULL) and the peers' answers 'res' (NULL when they
 * could not be asked) made one (careplan/ chooses the plan) in x->resp,
 * with the audit record's resources; the caller sends it audited. */
void
cr_api_care_plan_fed_merge(struct ctx *x, struct cr_http_resp *local,
                           const struct cr_fed_result *res);

/* locator_ep.c: the /federation/ endpoints between nodes. */
void
cr_api_federation(struct ctx *x);

/* audit_step.c: start collecting what the request touches. */
void
cr_api_audit_begin(struct ctx *x);

/* audit_step.c: note a resource the answer contains or the request
 * changed. */
void
cr_api_touch(struct ctx *x, const char *type, const char *id,
             int64_t version);

/* audit_step.c: inside a write's transaction, the record of that write
 * (they commit together or not at all). Returns the append's result. */
cr_rc
cr_api_audit_in_txn(struct ctx *x, struct cr_store_txn *txn,
                    enum cr_audit_action action, unsigned status,
                    const char *patient, const struct cr_buf *refs,
                    struct cr_err *err);

/* audit_step.c: the last step of every request: hold the answer in
 * x->resp until its audit record is durable, then send it (or a 500 if
 * the record could not be written). A no-op for the CapabilityStatement. */
void
cr_api_audited_send(struct ctx *x);

/* Before reading the audit log: wait until every record journaled so far
 * is in the table, so the reader sees every access made before the
 * request. false when that failed: the answer (an OperationOutcome) is
 * made. */
bool
cr_api_audit_settle(struct ctx *x);

/* outcome.c: the HTTP status for an error. */
unsigned
cr_api_status_for(const struct cr_err *err);

/* outcome.c: answer with an OperationOutcome of one issue. 'where' may be
 * NULL or "". */
void
cr_api_outcome(struct ctx *x, unsigned status, const char *severity,
               const char *code, const char *where, const char *fmt, ...)
    __attribute__((format(printf, 6, 7)));

/* outcome.c: answer with the OperationOutcome for 'err'. */
void
cr_api_fail(struct ctx *x, const struct cr_err *err);

/* outcome.c: answer 'status' with body 'b' (taken) as FHIR JSON. */
void
cr_api_send_buf(struct ctx *x, unsigned status, struct cr_buf *b);

/* outcome.c: answer that a Bundle would exceed cfg.max_response (a clear
 * 400, never a silently shortened answer). */
void
cr_api_too_big(struct ctx *x);

/* outcome.c: open a Bundle of 'type' in 'b': resourceType, a new id,
 * meta.lastUpdated now, and type; the caller adds the rest and the
 * closing brace. */
void
cr_api_bundle_start(struct cr_buf *b, const char *type);

/* outcome.c: close a Bundle opened with cr_api_bundle_start: add the
 * entries (taken: freed), the closing brace, and answer 200, or 400
 * too-costly when it grew past cfg.max_response. */
void
cr_api_bundle_finish(struct ctx *x, struct cr_buf *b, struct cr_buf *entries);

/* route.c: parse req->path. CR_ENOTFOUND for paths outside the API,
 * CR_EINVAL (with err) for a malformed type, id or version. */
cr_rc
cr_api_route(struct ctx *x, struct cr_err *err);

/* route.c: append "?name=value" (first) or "&name=value" to a URL in 'b',
 * the value percent-encoded (unreserved characters and ":,|/" kept); a
 * NULL value appends nothing. The name is appended as it is. */
void
cr_api_query_add(struct cr_buf *b, const char *name, const char *value,
                 bool *first);

/* negotiate.c: check Accept and _format (406), read Prefer. Returns false
 * after answering when the request cannot be served. */
bool
cr_api_negotiate(struct ctx *x);

/* negotiate.c: check the request body's Content-Type (415). */
bool
cr_api_check_content_type(struct ctx *x);

/* prepare.c: a resource to write: parsed, validated, with its final bytes. */
struct prepared {
    json_t *root;               /* parsed body (owned) */
    const char *text;           /* the body text (borrowed) */
    size_t text_len;
    const char *type;
    char id[65];
    char patient[65];
    bool has_patient;
    struct cr_buf json;         /* the bytes to store and serve */
    struct cr_fhir_index_row *rows;   /* search index rows (request arena) */
    size_t nrows;
};

/* prepare.c: parse and validate req->body as a resource of 'type'.
 * 'url_id' is the id in the URL (update) or NULL (create: the body must not
 * disagree with nothing; any id in the body is ignored and replaced).
 * On success p->root, type, patient, tokens are set. */
cr_rc
cr_api_parse_resource(struct ctx *x, const char *type, const char *url_id,
                      struct prepared *p, struct cr_err *err);

/* prepare.c: as cr_api_parse_resource for the resource in 'text' (which
 * must stay valid until p is freed). */
cr_rc
cr_api_parse_text(struct ctx *x, const char *type, const char *url_id,
                  const char *text, size_t text_len, struct prepared *p,
                  struct cr_err *err);

/* prepare.c: the same without a request: memory from 'arena'; 'type'
 * NULL takes the body's resourceType (which must be served). */
cr_rc
cr_api_prepare(struct cr_api *api, struct cr_arena *arena, const char *type,
               const char *url_id, const char *text, size_t text_len,
               struct prepared *p, struct cr_err *err);

/* prepare.c: produce p->json for 'id' at 'version', time 'ms'. */
cr_rc
cr_api_finish_resource(struct prepared *p, const char *id, int64_t version,
                       int64_t ms, struct cr_err *err);

/* prepare.c: free what cr_api_parse_resource allocated. */
void
cr_api_prepared_free(struct prepared *p);

/* prepare.c: a new server-assigned id (time-ordered UUID) into out[37]. */
void
cr_api_new_id(char out[37]);

/* crud.c: one resource write, run inside the store's writer transaction. */
enum write_kind { W_CREATE, W_UPDATE, W_DELETE };
enum write_result { RES_CREATED, RES_EXISTING, RES_UPDATED, RES_DELETED,
                    RES_ALREADY_DELETED, RES_NO_MATCH };

struct write_job {
    struct ctx *x;               /* the request (its record is written in the
                                    write's transaction); NULL: not recorded
                                    here (a bundle records once for all) */
    struct cr_api *api;          /* the API (its patient index is kept up to
                                    date with Patient writes) */
    enum write_kind kind;
    struct prepared *p;          /* NULL for delete */
    const char *type;
    const char *id;              /* may be repointed to found_id */
    const char *org;
    int64_t if_match;            /* 0: none */
    /* a condition (If-None-Exist, conditional update/delete), as one token */
    const char *cond_param;
    const char *cond_system;
    const char *cond_code;
    /* when the condition was resolved before the transaction: what it
     * found then (found_id when expect_n is 1), checked again inside */
    bool has_expect;
    size_t expect_n;
    bool is_stale;               /* set when it found something else */
    /* results */
    enum write_result result;
    int64_t version;
    int64_t ms;
    char found_id[65];
    struct cr_buf found;         /* what a conditional create found */
    struct cr_store_meta found_meta;
};

/* crud.c: the write described by 'ctx' (a struct write_job). */
cr_rc
cr_api_write_in_txn(struct cr_store_txn *txn, void *ctx, struct cr_err *err);

/* crud.c: may the request make write 'j'? The resource belongs to the
 * patient the prepared resource names (a new Patient to no one yet; a
 * delete to the stored resource's patient). CR_OK, or CR_EFORBIDDEN with
 * the rule in 'err', or CR_EIO when the facts cannot be read, or CR_EINVAL
 * (code business-rule) when the resource declares a Universal Care Plan
 * profile and the request is not $care-plan (x->is_plan_write). *out_d
 * gets the decision (NULL when none could be made). */
cr_rc
cr_api_write_allowed(struct ctx *x, struct write_job *j,
                     const struct cr_policy_decision **out_d,
                     struct cr_err *err);

/* crud.c: If-Match value: the version, 0 if absent, -1 if malformed. */
int64_t
cr_api_parse_if_match(const char *h);

/* crud.c: a condition "identifier=system|value" (or "_id=x") into j. */
cr_rc
cr_api_parse_condition(struct ctx *x, struct write_job *j, const char *h,
                       struct cr_err *err);

/* crud.c: answer a successful write as Prefer asks. */
void
cr_api_answer_write(struct ctx *x, unsigned status, const char *json,
                    size_t len, const char *what);

/* crud.c */
void
cr_api_create_resource(struct ctx *x);
void
cr_api_read(struct ctx *x);
void
cr_api_vread(struct ctx *x);
void
cr_api_update(struct ctx *x);
void
cr_api_delete(struct ctx *x);
void
cr_api_conditional_update(struct ctx *x);
void
cr_api_conditional_delete(struct ctx *x);

/* refs.c: what a Reference.reference value of 'len' bytes at 's' (not
 * NUL-terminated, valid only during the call) stands for: a replacement
 * (NUL-terminated, living at least until cr_api_rewrite_refs returns), or
 * NULL to keep it. Set '*is_bad' (and the caller's own error) to stop. */
typedef const char *(*cr_api_ref_fn)(void *ctx, const char *s, size_t len,
                                     bool *is_bad);

/* refs.c: append 'len' bytes of JSON text 's' to 'out', replacing each
 * Reference.reference value that 'fn' maps (strings holding escapes are
 * kept as they are). CR_OK; CR_EINVAL when 'fn' set *is_bad (its detail
 * is the caller's); or the buffer's error (out->rc). */
cr_rc
cr_api_rewrite_refs(const char *s, size_t len, cr_api_ref_fn fn, void *ctx,
                    struct cr_buf *out);

/* bundle.c: POST /fhir with a batch or transaction Bundle. */
void
cr_api_bundle(struct ctx *x);

/* import_op.c: POST /fhir/$import (NDJSON body). */
void
cr_api_import_op(struct ctx *x);

/* mpi_op.c: the patient index's operations on Patient ($match, $merge,
 * $unmerge, $ihe-pix, $mpi-review). Answers and returns true when
 * x->route names one of them. */
bool
cr_api_mpi_dispatch(struct ctx *x);

/* mpi_match.c, mpi_merge.c, mpi_pix.c, mpi_review.c: the operations
 * (docs/mpi.md). Each answers. */
void
cr_api_mpi_match(struct ctx *x);
void
cr_api_mpi_merge(struct ctx *x, bool is_merge);
void
cr_api_mpi_pix(struct ctx *x);
void
cr_api_mpi_review_list(struct ctx *x);
void
cr_api_mpi_review_decide(struct ctx *x);

/* mpi_op.c: the request body as a Parameters resource, checked against
 * R4 (and the JSON depth limit), or NULL after answering. Caller owns. */
json_t *
cr_api_params_body(struct ctx *x);

/* mpi_op.c: the first parameter 'name' (its object) or NULL; *out_n (may
 * be NULL) gets how many there are. */
json_t *
cr_api_params_get(json_t *params, const char *name, size_t *out_n);

/* mpi_op.c: false after answering 400 when a parameter is not one of
 * 'known' (NULL-terminated). */
bool
cr_api_params_only(struct ctx *x, json_t *params, const char *const *known);

/* mpi_op.c: the Patient id a Reference object names ("Patient/x" or this
 * server's URL of it), copied to the request's arena; NULL if none. */
const char *
cr_api_params_patient(struct ctx *x, json_t *ref);

/* mpi_op.c: the Parameters of a request that changes the index, after
 * refusing principals that may not (cr_api_mpi_refusal) and parameters
 * not in 'known'. NULL after answering. Caller owns. */
json_t *
cr_api_mpi_change_params(struct ctx *x, const char *const *known);

/* mpi_op.c: a Patient as stored, read for an operation. */
struct cr_api_mpi_rec {
    const char *id;
    struct cr_buf json;
    struct cr_store_meta meta;
    json_t *root;
};

/* Read Patient 'id' into 'r' (zeroed by the caller); answers 404/410 (or
 * 500) and returns false when it cannot. cr_api_mpi_rec_free releases
 * it, also after a failed read. */
bool
cr_api_mpi_rec_read(struct ctx *x, const char *id, struct cr_api_mpi_rec *r);

void
cr_api_mpi_rec_free(struct cr_api_mpi_rec *r);

/* mpi_op.c: may the principal merge and unmerge records and work the
 * review list? (purpose system, or a direct-care role listed in
 * docs/mpi.md). NULL when they may, else a refusal (in the request's
 * arena) to hand to cr_api_view_deny. */
const struct cr_policy_decision *
cr_api_mpi_refusal(struct ctx *x);

/* mpi_op.c: for a write of Patient 'j': when it adds, changes or removes
 * a replaced-by link (a merge or an unmerge) and the principal may not
 * merge, the refusal; NULL otherwise. */
const struct cr_policy_decision *
cr_api_mpi_write_refusal(struct ctx *x, const struct write_job *j);

/* audit_report_op.c: GET /fhir/$audit-report (purpose audit only). */
void
cr_api_audit_report_op(struct ctx *x);

/* careplan_op.c: POST /fhir/Patient/{id}/$care-plan: save a whole
 * Universal Care Plan (a Bundle of type collection) atomically. */
void
cr_api_care_plan_op(struct ctx *x);

/* careplan_summary.c: GET /fhir/Patient/{id}/$care-plan-summary (or
 * Patient/$care-plan-summary?identifier=NHS number): the emergency
 * summary, through the access policy, audited as care-plan-summary. */
void
cr_api_care_plan_summary(struct ctx *x);

/* careplan_figures.c: GET /fhir/$care-plan-figures: the programme's
 * store-side figures (purpose audit only; no patient data). */
void
cr_api_care_plan_figures(struct ctx *x);

struct cr_careplan_figures;

/* careplan_figures.c: append the figures as Parameters entries
 * (peopleWithPlan, currentPlans, plansCreated, revisions, then one
 * 'month' per month with activity), the first without a leading comma. */
void
cr_api_care_plan_figures_add(struct cr_buf *b,
                             const struct cr_careplan_figures *f);

/* audit_review_op.c: POST /fhir/$audit-review (purpose audit only): the
 * review of an alert, appended to the audit log as this request's record. */
void
cr_api_audit_review_op(struct ctx *x);

/* everything.c: Patient/$everything, by id or by NHS number. */
void
cr_api_everything(struct ctx *x);

/* search.c: the query parameters of a request, as given (decoded). */
#define CR_API_MAX_ARGS 256
struct query_args {
    struct cr_search_arg a[CR_API_MAX_ARGS];
    size_t n;
    bool is_full;               /* there were more than CR_API_MAX_ARGS */
};

/* search.c: a cr_http_arg_fn adding one parameter to 'ctx' (a struct
 * query_args); false, with is_full set, when there is no room. The
 * strings are borrowed from the request. */
bool
cr_api_take_arg(void *ctx, const char *name, const char *value);

/* search.c: GET /fhir/T?... and POST /fhir/T/_search. */
void
cr_api_search(struct ctx *x);

/* history.c */
void
cr_api_history(struct ctx *x);

/* auditevent.c: GET /fhir/AuditEvent (search) and /fhir/AuditEvent/{id}
 * (read): the audit log as AuditEvents, for purposes audit and
 * patient-access; every other interaction on the type is refused. Records
 * itself as an audit-read. */
void
cr_api_auditevent(struct ctx *x);

/* auditevent.c: an audit record number (an AuditEvent's id): a positive
 * decimal without sign or leading zero, of at most 18 digits. 0 when 's'
 * (may be NULL) is not one. */
int64_t
cr_api_parse_seq(const char *s);

/* auditevent.c: the CapabilityStatement's resource entry for AuditEvent
 * (a JSON object), appended to 'b'. */
void
cr_api_auditevent_capability(struct cr_buf *b);

/* capability.c */
void
cr_api_metadata(struct ctx *x);

/* Set ETag / Last-Modified / Location headers for a version. */
void
cr_api_version_headers(struct ctx *x, const char *type, const char *id,
                       int64_t version, int64_t ms, bool with_location);

#endif
